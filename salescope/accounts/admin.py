"""Back office for the customer base: accounts, contacts, their roles and the reference lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from salescope.accounts import services
from salescope.accounts.models import (
    Account,
    AccountContact,
    AccountStatus,
    AccountType,
    Contact,
    ContactRole,
    Industry,
    Region,
    Tag,
    TagCategory,
    Tier,
)
from salescope.core.admin_mixins import (
    TRACKED_READONLY,
    ServiceAdminMixin,
    ServiceModelForm,
    acting_user,
    custom_changes,
    record_formset_changes,
)

# --- reference lists ----------------------------------------------------------------------------


class NamedOptionAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["active"]
    search_fields = ("name",)
    ordering = ("order", "name")


@admin.register(AccountStatus)
class AccountStatusAdmin(NamedOptionAdmin):
    list_display = ["name", "order", "active", "is_default", "is_customer"]
    list_editable = ["order", "active", "is_default", "is_customer"]


@admin.register(Tier)
class TierAdmin(NamedOptionAdmin):
    list_display = ["name", "order", "active", "colour"]


@admin.register(AccountType)
class AccountTypeAdmin(NamedOptionAdmin):
    pass


@admin.register(Industry)
class IndustryAdmin(NamedOptionAdmin):
    pass


@admin.register(Region)
class RegionAdmin(NamedOptionAdmin):
    list_display = ["name", "country", "order", "active"]
    list_filter = ["active", "country"]


@admin.register(ContactRole)
class ContactRoleAdmin(NamedOptionAdmin):
    pass


class TagInline(admin.TabularInline):
    model = Tag
    extra = 1
    fields = ("name",)
    ordering = ("name",)


@admin.register(TagCategory)
class TagCategoryAdmin(NamedOptionAdmin):
    inlines = (TagInline,)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "category")
    list_filter = ("category",)
    list_select_related = ("category",)
    search_fields = ("name", "category__name")
    ordering = ("category__order", "category__name", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        # ``str(tag)`` names the category (autocomplete results).
        return super().get_queryset(request).select_related("category")


# --- accounts and contacts ----------------------------------------------------------------------


class TagFilter(admin.SimpleListFilter):
    """Tags named with their category, in one query."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tags = Tag.objects.select_related("category").order_by(
            "category__order", "category__name", "name"
        )
        return [(str(t.pk), str(t)) for t in tags]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(tags=int(value))
        return queryset


#: Form fields each service takes as they are (``custom`` and sharing are handled apart).
ACCOUNT_FIELDS = (
    "name", "status", "tier", "account_type", "industry", "region", "owner", "parent", "website",
    "domain", "phone", "street", "postal_code", "city", "country", "employees", "annual_revenue",
    "description", "tags",
)  # fmt: skip
CONTACT_FIELDS = (
    "first_name", "last_name", "email", "phone", "mobile", "job_title", "language", "owner",
    "tags", "notes",
)  # fmt: skip


def _values(
    form: ServiceModelForm, names: tuple[str, ...], *, only_changed: bool
) -> dict[str, Any]:
    cd = form.cleaned_data
    return {n: cd[n] for n in names if n in cd and (not only_changed or form.changed(n))}


class AccountAdminForm(ServiceModelForm):
    """Add: ``create_account``; change: ``update_account``; sharing: ``share_account``."""

    model_validation = False  # the service checks and normalises every field

    website = forms.URLField(
        label=_("website"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = Account
        fields = "__all__"

    def save_through_services(self) -> Account:
        cd = self.cleaned_data
        if self.adding:
            values = _values(self, ACCOUNT_FIELDS, only_changed=False)
            account = services.create_account(
                actor=self.actor, custom=cd.get("custom") or None, **values
            )
        else:
            values = _values(self, ACCOUNT_FIELDS, only_changed=True)
            if self.changed("custom"):
                values["custom"] = custom_changes(self.instance.custom or {}, cd.get("custom"))
            account = services.update_account(
                account=self.instance,
                actor=self.actor,
                expected_version=self.expected_version,
                **values,
            )
        if self.changed("shared_with"):
            account = services.share_account(
                account=account, users=cd["shared_with"], actor=self.actor
            )
        return account


class ContactAdminForm(ServiceModelForm):
    """Add: ``create_contact``; change: ``update_contact``."""

    model_validation = False  # the service checks and normalises every field

    class Meta:
        model = Contact
        fields = "__all__"

    def save_through_services(self) -> Contact:
        cd = self.cleaned_data
        if self.adding:
            values = _values(self, CONTACT_FIELDS, only_changed=False)
            return services.create_contact(
                actor=self.actor, custom=cd.get("custom") or None, **values
            )
        values = _values(self, CONTACT_FIELDS, only_changed=True)
        if self.changed("custom"):
            values["custom"] = custom_changes(self.instance.custom or {}, cd.get("custom"))
        return services.update_contact(
            contact=self.instance,
            actor=self.actor,
            expected_version=self.expected_version,
            **values,
        )


class MembershipForm(forms.ModelForm):
    """A contact at an account: the checks of ``link_contact``, shown on the row."""

    class Meta:
        model = AccountContact
        fields = ("account", "contact", "roles", "is_primary", "since", "until")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The link as stored (validation writes the posted values onto the instance).
        i = self.instance
        self.original = (
            {"account": i.account_id, "contact": i.contact_id, "since": i.since, "until": i.until}
            if i.pk is not None
            else None
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("“Until” is before “since”."))
        current = (
            set(self.instance.roles.values_list("pk", flat=True)) if self.instance.pk else set()
        )
        inactive = [r for r in cleaned.get("roles") or () if not r.active and r.pk not in current]
        if inactive:
            self.add_error("roles", _("No longer in use: %(roles)s.") % {
                "roles": ", ".join(map(str, inactive))
            })  # fmt: skip
        return cleaned


def link(membership_form: Any, *, account: Account, contact: Contact, actor: Any) -> Any:
    """Create or change one membership through ``link_contact``."""
    cd = membership_form.cleaned_data
    old = membership_form.original
    if old is not None and (old["account"], old["contact"]) != (account.pk, contact.pk):
        # Moved to another account or contact: a new link replaces the old one.
        services.unlink_contact(
            contact=Contact.objects.get(pk=old["contact"]),
            account=Account.objects.get(pk=old["account"]),
            actor=actor,
        )
    elif old is not None and (
        (old["since"] and not cd.get("since")) or (old["until"] and not cd.get("until"))
    ):
        # ``link_contact`` keeps dates it is not given: clearing one re-creates the link.
        services.unlink_contact(contact=contact, account=account, actor=actor)
    return services.link_contact(
        contact=contact,
        account=account,
        actor=actor,
        roles=list(cd.get("roles") or ()),
        is_primary=bool(cd.get("is_primary")),
        since=cd.get("since"),
        until=cd.get("until"),
    )


class MembershipsThroughServicesMixin:
    """Inline rows of contacts at accounts are saved with ``link_contact``/``unlink_contact``."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not AccountContact:
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            return
        parent_is_account = formset.fk.name == "account"
        new, changed, deleted = [], [], []
        for row in formset.deleted_forms:
            if row.instance.pk is not None:
                services.unlink_contact(
                    contact=row.instance.contact,
                    account=row.instance.account,
                    actor=acting_user(request),
                )
                deleted.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed() or not row.cleaned_data:
                continue
            other = row.cleaned_data.get("contact" if parent_is_account else "account")
            if other is None:
                continue
            account, contact = (
                (formset.instance, other) if parent_is_account else (other, formset.instance)
            )
            membership = link(row, account=account, contact=contact, actor=acting_user(request))
            if row.original is None:
                new.append(membership)
            else:
                changed.append((membership, row))
        record_formset_changes(formset, new=new, changed=changed, deleted=deleted)


class ContactAtAccountInline(admin.TabularInline):
    model = AccountContact
    form = MembershipForm
    fk_name = "account"
    extra = 0
    fields = ("contact", "roles", "is_primary", "since", "until")
    autocomplete_fields = ("contact",)
    verbose_name = _("contact")
    verbose_name_plural = _("contacts")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountContact]:
        return super().get_queryset(request).select_related("contact").prefetch_related("roles")


class AccountOfContactInline(admin.TabularInline):
    model = AccountContact
    form = MembershipForm
    fk_name = "contact"
    extra = 0
    fields = ("account", "roles", "is_primary", "since", "until")
    autocomplete_fields = ("account",)
    verbose_name = _("account")
    verbose_name_plural = _("accounts")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountContact]:
        return super().get_queryset(request).select_related("account").prefetch_related("roles")


@admin.register(Account)
class AccountAdmin(MembershipsThroughServicesMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = AccountAdminForm
    list_display = ("name", "status", "tier", "owner", "region", "city", "country", "updated_at")
    list_filter = ("status", "tier", "account_type", "industry", "region", "owner", TagFilter)
    list_select_related = ("status", "tier", "owner", "region")
    search_fields = ("name", "domain", "city")
    autocomplete_fields = ("owner", "parent", "tags", "shared_with")
    show_full_result_count = False
    inlines = (ContactAtAccountInline,)
    fieldsets = (
        (None, {"fields": ("name", "status", "owner", "parent", "version")}),
        (_("Segmentation"), {"fields": ("tier", "account_type", "industry", "region", "tags")}),
        (
            _("Contact details"),
            {
                "fields": (
                    "website",
                    "domain",
                    "phone",
                    "street",
                    ("postal_code", "city"),
                    "country",
                )
            },
        ),
        (_("Company"), {"fields": ("employees", "annual_revenue", "description")}),
        (_("Sharing and custom fields"), {"fields": ("shared_with", "custom")}),
        (_("Record"), {"fields": TRACKED_READONLY, "classes": ("collapse",)}),
    )
    readonly_fields = TRACKED_READONLY

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", str(request.user.pk))
        default = services.default_status()
        if default is not None:
            initial.setdefault("status", str(default.pk))
        return initial

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tags":
            kwargs["queryset"] = Tag.objects.select_related("category")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Contact)
class ContactAdmin(MembershipsThroughServicesMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("last_name", "first_name", "email", "job_title", "phone", "owner", "updated_at")
    list_filter = ("owner", "language", TagFilter)
    list_select_related = ("owner",)
    search_fields = ("last_name", "first_name", "email")
    autocomplete_fields = ("owner", "tags")
    show_full_result_count = False
    inlines = (AccountOfContactInline,)
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "job_title", "owner", "version")}),
        (_("Reach"), {"fields": ("email", "phone", "mobile", "language")}),
        (_("More"), {"fields": ("tags", "notes", "custom")}),
        (_("Record"), {"fields": TRACKED_READONLY, "classes": ("collapse",)}),
    )
    readonly_fields = TRACKED_READONLY

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", str(request.user.pk))
        return initial

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tags":
            kwargs["queryset"] = Tag.objects.select_related("category")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class AccountContactForm(ServiceModelForm, MembershipForm):
    """A membership on its own page: ``link_contact``."""

    class Meta(MembershipForm.Meta):
        pass

    def save_through_services(self) -> AccountContact:
        cd = self.cleaned_data
        account = cd.get("account") or self.instance.account
        contact = cd.get("contact") or self.instance.contact
        return link(self, account=account, contact=contact, actor=self.actor)


@admin.register(AccountContact)
class AccountContactAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = AccountContactForm
    list_display = ("contact", "account", "is_primary", "since", "until")
    list_filter = ("is_primary", "roles")
    list_select_related = ("contact", "account")
    search_fields = (
        "contact__last_name", "contact__first_name", "contact__email", "account__name",
    )  # fmt: skip
    autocomplete_fields = ("account", "contact")
    filter_horizontal = ("roles",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A link joins one contact to one account: to move it, remove it and add another.
        return ("account", "contact") if obj is not None else ()

    def delete_model(self, request: HttpRequest, obj: AccountContact) -> None:
        services.unlink_contact(
            contact=obj.contact, account=obj.account, actor=acting_user(request)
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccountContact]) -> None:
        for membership in queryset.select_related("account", "contact"):
            self.delete_model(request, membership)
