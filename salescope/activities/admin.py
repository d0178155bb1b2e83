"""Back office for activity types, activities with their agreements, comments and attachments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from salescope.activities import services
from salescope.activities.models import Activity, ActivityType, Agreement, Attachment, Comment
from salescope.core.admin_mixins import (
    TRACKED_READONLY,
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    ServiceModelForm,
    acting_user,
    record_formset_changes,
)


@admin.register(ActivityType)
class ActivityTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "colour", "is_milestone", "is_meeting", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("is_milestone", "is_meeting", "active")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}


#: What ``update_activity`` changes; done, minutes and agreements have verbs of their own.
UPDATE_FIELDS = (
    "activity_type", "subject", "description", "owner", "account", "opportunity", "contacts",
    "due_on", "starts_at", "ends_at", "duration_minutes", "outcome",
)  # fmt: skip
MINUTES_FIELDS = ("discussion", "participant_users")


class ActivityAdminForm(ServiceModelForm):
    """Add: ``create_activity``; change: ``update_activity``, then ``complete_activity`` or
    ``reopen_activity`` for the done date. Minutes and agreements: see ``ActivityAdmin``."""

    model_validation = False  # the services check every field and the rules across fields

    class Meta:
        model = Activity
        fields = "__all__"

    def minutes_changed(self) -> bool:
        if self.adding:
            cd = self.cleaned_data
            return bool(cd.get("discussion") or cd.get("participant_users"))
        return any(self.changed(name) for name in MINUTES_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        kind = cleaned.get("activity_type") or getattr(self.instance, "activity_type", None)
        if kind is not None and not kind.is_meeting and self.minutes_changed():
            self.add_error(
                "discussion",
                _("A %(type)s has no minutes; only meetings, visits and demos do.")
                % {"type": kind},
            )
        return cleaned

    def save_through_services(self) -> Activity:
        cd = self.cleaned_data
        if self.adding:
            values = {n: cd[n] for n in UPDATE_FIELDS if n in cd}
            return services.create_activity(
                actor=self.actor, done_at=cd.get("done_at"), contacts=cd.get("contacts") or (),
                **{k: v for k, v in values.items() if k != "contacts"},
            )  # fmt: skip
        changes = {n: cd[n] for n in UPDATE_FIELDS if n in cd and self.changed(n)}
        activity = services.update_activity(
            activity=self.instance,
            actor=self.actor,
            expected_version=self.expected_version,
            **changes,
        )
        if self.changed("done_at"):
            done_at = cd.get("done_at")
            if activity.done_at is not None:
                activity = services.reopen_activity(
                    activity=activity, actor=self.actor, expected_version=activity.version
                )
            if done_at is not None:
                activity = services.complete_activity(
                    activity=activity,
                    actor=self.actor,
                    done_at=done_at,
                    duration_minutes=activity.duration_minutes,
                    expected_version=activity.version,
                )
        return activity


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ("text", "owner", "owner_contact", "due_on", "done")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (cleaned.get("owner") is None) == (cleaned.get("owner_contact") is None):
            raise forms.ValidationError(
                _("Give who is responsible: either a user or a customer-side contact.")
            )
        return cleaned


class AgreementFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if not self.has_changed():
            return
        # The type as posted on the activity's form (the same request data).
        posted = self.data.get("activity_type") or self.instance.activity_type_id
        kind = ActivityType.objects.filter(pk=posted).first() if str(posted).isdigit() else None
        if kind is not None and not kind.is_meeting:
            raise forms.ValidationError(
                _("A %(type)s has no minutes: agreements belong to meetings, visits and demos.")
                % {"type": kind}
            )


class AgreementInline(admin.TabularInline):
    model = Agreement
    form = AgreementForm
    formset = AgreementFormSet
    extra = 0
    fields = ("text", "owner", "owner_contact", "due_on", "done")
    autocomplete_fields = ("owner", "owner_contact")


class DoneFilter(admin.SimpleListFilter):
    title = _("done")
    parameter_name = "done"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Done")), ("no", _("To do"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(done_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(done_at__isnull=True)
        return queryset


def _agreement_items(formset: Any) -> list[dict[str, Any]]:
    items = []
    for row in formset.forms:
        if row in formset.deleted_forms or not row.cleaned_data:
            continue
        if row.instance.pk is None and not row.has_changed():
            continue
        cd = row.cleaned_data
        items.append({name: cd.get(name) for name in AgreementForm.Meta.fields})
    return items


@admin.register(Activity)
class ActivityAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ActivityAdminForm
    list_display = (
        "subject", "activity_type", "owner", "account", "opportunity", "due_on", "starts_at",
        "done_at", "duration_minutes",
    )  # fmt: skip
    list_filter = ("activity_type", DoneFilter, "owner", "due_on")
    list_select_related = ("activity_type", "owner", "account", "opportunity")
    search_fields = ("subject", "account__name", "opportunity__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    autocomplete_fields = ("account", "opportunity", "contacts", "owner", "participant_users")
    inlines = (AgreementInline,)
    fieldsets = (
        (None, {"fields": ("activity_type", "subject", "owner", "assigned_by", "version")}),
        (_("About"), {"fields": ("account", "opportunity", "contacts")}),
        (
            _("When"),
            {"fields": ("due_on", ("starts_at", "ends_at"), "done_at", "duration_minutes")},
        ),
        (_("Content"), {"fields": ("description", "outcome")}),
        (_("Minutes"), {"fields": ("discussion", "participant_users", "minutes_sent_at")}),
        (_("Record"), {"fields": TRACKED_READONLY, "classes": ("collapse",)}),
    )
    readonly_fields = ("assigned_by", "minutes_sent_at", *TRACKED_READONLY)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", str(request.user.pk))
        return initial

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Minutes and agreements in one ``record_minutes`` call (it replaces the agreements)."""
        activity = form.instance
        agreements = next((fs for fs in formsets if fs.model is Agreement), None)
        agreements_changed = agreements is not None and agreements.has_changed()
        if agreements is not None:
            changed = [
                (f.instance, f)
                for f in agreements.initial_forms
                if f.has_changed() and f not in agreements.deleted_forms
            ]
            added = [f.instance for f in agreements.extra_forms if f.has_changed()]
            removed = [f.instance for f in agreements.deleted_forms if f.instance.pk]
            record_formset_changes(agreements, new=added, changed=changed, deleted=removed)
        if not (form.minutes_changed() or agreements_changed):
            return
        cd = form.cleaned_data
        users = cd.get("participant_users")
        services.record_minutes(
            activity=activity,
            actor=acting_user(request),
            discussion=cd.get("discussion", activity.discussion) or "",
            participant_users=users if form.changed("participant_users") or not change else None,
            agreements=_agreement_items(agreements) if agreements_changed else None,
            expected_version=activity.version,
        )


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """To look up; agreements are written with the minutes on their activity's page."""

    list_display = ("text", "activity", "owner", "owner_contact", "due_on", "done")
    list_filter = ("done", "owner")
    list_select_related = ("activity", "owner", "owner_contact")
    search_fields = ("text", "activity__subject")
    show_full_result_count = False


class CommentForm(ServiceModelForm):
    """``add_comment``: on exactly one account or opportunity."""

    model_validation = False

    class Meta:
        model = Comment
        fields = ("account", "opportunity", "body")

    def save_through_services(self) -> Comment:
        cd = self.cleaned_data
        return services.add_comment(
            actor=self.actor,
            body=cd.get("body", ""),
            account=cd.get("account"),
            opportunity=cd.get("opportunity"),
        )


class AddOnlyAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Added through a service, then only looked at (or deleted)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(AddOnlyAdmin):
    form = CommentForm
    list_display = ("excerpt", "author", "account", "opportunity", "created_at")
    list_filter = ("author",)
    list_select_related = ("author", "account", "opportunity")
    search_fields = ("body", "account__name", "opportunity__name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    autocomplete_fields = ("account", "opportunity")
    fields = ("account", "opportunity", "body", "author", "created_at")
    readonly_fields = ("author", "created_at")

    @admin.display(description=_("comment"))
    def excerpt(self, obj: Comment) -> str:
        return obj.body if len(obj.body) <= 80 else obj.body[:79] + "…"


class AttachmentForm(ServiceModelForm):
    """``add_attachment``: size limit, safe file name and content type come from the service."""

    model_validation = False

    class Meta:
        model = Attachment
        fields = ("account", "opportunity", "file")

    def save_through_services(self) -> Attachment:
        cd = self.cleaned_data
        return services.add_attachment(
            actor=self.actor,
            file=cd.get("file"),
            account=cd.get("account"),
            opportunity=cd.get("opportunity"),
        )


@admin.register(Attachment)
class AttachmentAdmin(AddOnlyAdmin):
    form = AttachmentForm
    list_display = (
        "filename", "account", "opportunity", "size_display", "uploaded_by", "uploaded_at",
    )  # fmt: skip
    list_filter = ("uploaded_by", "content_type")
    list_select_related = ("account", "opportunity", "uploaded_by")
    search_fields = ("filename", "account__name", "opportunity__name")
    date_hierarchy = "uploaded_at"
    show_full_result_count = False
    autocomplete_fields = ("account", "opportunity")
    fields = (
        "account", "opportunity", "file", "filename", "content_type", "size", "uploaded_by",
        "uploaded_at",
    )  # fmt: skip
    readonly_fields = ("filename", "content_type", "size", "uploaded_by", "uploaded_at")

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: Attachment) -> str:
        return filesizeformat(obj.size)

    def delete_model(self, request: HttpRequest, obj: Attachment) -> None:
        stored = obj.file
        super().delete_model(request, obj)
        if stored:
            transaction.on_commit(lambda: stored.delete(save=False))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Attachment]) -> None:
        for attachment in queryset:
            self.delete_model(request, attachment)
