"""Back office for pipelines, stages, reference lists, opportunities and their history.

Opportunities are written only through ``pipeline.services`` (history, rules, locking);
their history is read-only everywhere and opportunities cannot be deleted here.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from salescope.core.admin_mixins import (
    TRACKED_READONLY,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ServiceAdminMixin,
    ServiceModelForm,
    custom_changes,
    days_since,
)
from salescope.pipeline import services
from salescope.pipeline.models import (
    EventKind,
    LostReason,
    Opportunity,
    OpportunityEvent,
    Outcome,
    Pipeline,
    ProductLine,
    Source,
    Stage,
    StageKind,
)

#: How many history rows the opportunity page shows (newest first); the rest are one click away.
HISTORY_ROWS = 50

#: The verbs that write opportunity history (for the history filter, without a table scan).
KNOWN_VERBS = (
    "create_opportunity",
    "update_details",
    "move_to_stage",
    "change_amount",
    "change_probability",
    "change_expected_close",
    "reassign",
    "set_forecast_category",
    "mark_won",
    "mark_lost",
    "reopen",
)


# --- pipelines, stages and reference lists --------------------------------------------------


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = (
        "order",
        "name",
        "kind",
        "default_probability",
        "rotting_days",
        "owning_function",
        "checklist",
    )
    ordering = ("order",)


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "is_default", "active", "stage_count")
    list_filter = ("active", "is_default")
    search_fields = ("name",)
    inlines = (StageInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pipeline]:
        return super().get_queryset(request).annotate(_stages=Count("stages"))

    @admin.display(description=_("stages"), ordering="_stages")
    def stage_count(self, obj: Pipeline) -> int:
        return getattr(obj, "_stages", 0)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        pipeline = form.instance
        kinds = set(pipeline.stages.values_list("kind", flat=True))
        missing = [
            label
            for kind, label in (
                (StageKind.OPEN, _("open")),
                (StageKind.WON, _("won")),
                (StageKind.LOST, _("lost")),
            )
            if kind not in kinds
        ]
        if missing:
            message = _(
                "Pipeline “%(name)s” has no %(kinds)s stage yet: deals in it cannot be created "
                "or closed until you add one."
            ) % {"name": pipeline, "kinds": ", ".join(map(str, missing))}
            self.message_user(request, message, messages.WARNING)


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "pipeline",
        "order",
        "kind",
        "default_probability",
        "rotting_days",
        "owning_function",
    )
    list_filter = ("pipeline", "kind", "owning_function")
    list_select_related = ("pipeline",)
    search_fields = ("name", "pipeline__name")
    ordering = ("pipeline__order", "pipeline__name", "order")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Stage]:
        # ``str(stage)`` names the pipeline (autocomplete results, selects).
        return super().get_queryset(request).select_related("pipeline")


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "active")
    list_filter = ("channel", "active")
    search_fields = ("name",)


@admin.register(ProductLine)
class ProductLineAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "list_price", "active")
    list_filter = ("active",)
    search_fields = ("name", "code")


# --- history ----------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def describe_change(event: OpportunityEvent) -> str:
    """“old → new” in words; stage events name the stages (select_related them)."""
    if event.kind == EventKind.CREATED:
        state = event.new_value or {}
        stage = event.to_stage.name if event.to_stage_id and event.to_stage else state.get("stage")
        return f"{state.get('name', '')} · {stage} · {state.get('amount')} {state.get('currency')}"
    if event.kind == EventKind.STAGE:
        old = event.from_stage.name if event.from_stage_id and event.from_stage else event.old_value
        new = event.to_stage.name if event.to_stage_id and event.to_stage else event.new_value
        return f"{_value(old)} → {_value(new)}"
    return f"{_value(event.old_value)} → {_value(event.new_value)}"


class LimitedHistoryFormSet(BaseInlineFormSet):
    """The newest :data:`HISTORY_ROWS` events only (an inline cannot slice its queryset)."""

    def get_queryset(self) -> Any:
        if not hasattr(self, "_queryset"):
            qs = cast(QuerySet[OpportunityEvent], self.queryset)
            qs = qs.select_related("actor", "from_stage", "to_stage")
            self._queryset = qs.order_by("-occurred_at", "-id")[:HISTORY_ROWS]
        return self._queryset


class OpportunityEventInline(ReadOnlyInline):
    model = OpportunityEvent
    formset = LimitedHistoryFormSet
    fields = ("occurred_at", "kind", "change", "actor", "verb", "origin")
    readonly_fields = fields
    verbose_name = _("history entry")
    verbose_name_plural = _("history (newest first)")

    @admin.display(description=_("old → new"))
    def change(self, obj: OpportunityEvent) -> str:
        return describe_change(obj)


class VerbFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "verb"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(v, v.replace("_", " ")) for v in KNOWN_VERBS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(verb=self.value()) if self.value() else queryset


@admin.register(OpportunityEvent)
class OpportunityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only history: to look at, never to edit."""

    list_display = (
        "occurred_at",
        "opportunity",
        "kind",
        "change",
        "actor",
        "verb",
        "origin",
        "reconstructed",
    )
    list_filter = ("kind", VerbFilter, "origin", "reconstructed")
    list_select_related = ("opportunity", "actor", "from_stage", "to_stage")
    search_fields = ("opportunity__name",)
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False
    actions = None
    fields = (
        "opportunity",
        "kind",
        "verb",
        "change",
        "old_value",
        "new_value",
        "from_stage",
        "to_stage",
        "actor",
        "occurred_at",
        "recorded_at",
        "action_id",
        "origin",
        "reconstructed",
    )
    readonly_fields = fields

    @admin.display(description=_("old → new"))
    def change(self, obj: OpportunityEvent) -> str:
        return describe_change(obj)


# --- opportunities ----------------------------------------------------------------------------


class StageFilter(admin.SimpleListFilter):
    """Stages named with their pipeline, in one query (narrowed to the chosen pipeline)."""

    title = _("stage")
    parameter_name = "stage__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        stages = Stage.objects.select_related("pipeline").order_by(
            "pipeline__order", "pipeline__name", "order"
        )
        pipeline = request.GET.get("pipeline__id__exact")
        if pipeline and pipeline.isdigit():
            stages = stages.filter(pipeline_id=int(pipeline))
        return [(str(s.pk), str(s)) for s in stages]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(stage_id=int(value))
        return queryset


#: Fields routed through ``update_opportunity`` as they are.
ROUTED_FIELDS = (
    "name",
    "account",
    "source",
    "next_step",
    "owner",
    "amount",
    "currency",
    "stage",
    "probability",
    "expected_close",
    "forecast_category",
)


class OpportunityAdminForm(ServiceModelForm):
    """Add: ``create_opportunity``. Change: ``update_opportunity`` (one verb per change),
    ``set_products``, ``set_contacts`` and ``share``; all in one transaction."""

    # The services validate: the model's own checks would duplicate or contradict them
    # (closing sets ``closed_on`` itself, probability defaults to the stage's).
    model_validation = False

    class Meta:
        model = Opportunity
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        stages = Stage.objects.select_related("pipeline").order_by(
            "pipeline__order", "pipeline__name", "order"
        )
        if "stage" in f:
            stage_field = cast(forms.ModelChoiceField, f["stage"])
            if self.adding:
                stage_field.queryset = stages.filter(kind=StageKind.OPEN, pipeline__active=True)
            else:
                stage_field.queryset = stages.filter(pipeline_id=self.instance.pipeline_id)
        if "probability" in f and self.adding:
            f["probability"].required = False
            f["probability"].help_text = _("Leave empty for the stage's default probability.")
        if "closed_on" in f:
            f["closed_on"].help_text = _("Set when marking won or lost; empty means today.")
        if "lost_reason" in f:
            f["lost_reason"].help_text = _("Mandatory when the outcome is lost.")
        if "currency" in f and self.adding and not self.is_bound:
            from salescope.org.selectors import company_currency

            f["currency"].initial = company_currency()

    # -- the write -------------------------------------------------------------------------

    def save_through_services(self) -> Opportunity:
        return self._create() if self.adding else self._update()

    def _create(self) -> Opportunity:
        cd = self.cleaned_data
        currency = cd.get("currency")
        opp = services.create_opportunity(
            actor=self.actor,
            name=cd["name"],
            stage=cd["stage"],
            amount=cd["amount"],
            expected_close=cd["expected_close"],
            owner=cd.get("owner"),
            currency=currency.pk if currency else None,
            probability=cd.get("probability"),
            account=cd.get("account"),
            source=cd.get("source"),
            products=cd.get("products") or (),
            contacts=cd.get("contacts") or (),
            forecast_category=cd.get("forecast_category") or None,
            next_step=cd.get("next_step") or "",
            custom=cd.get("custom") or None,
        )
        if cd.get("shared_with"):
            services.share(opportunity=opp, users=cd["shared_with"], actor=self.actor)
        return opp

    def _update(self) -> Opportunity:
        cd = self.cleaned_data
        inst = self.instance
        changes = {name: cd[name] for name in ROUTED_FIELDS if self.changed(name) and name in cd}
        custom = (
            custom_changes(inst.custom or {}, cd.get("custom")) if self.changed("custom") else {}
        )
        if custom != {}:
            changes["custom"] = custom
        # Closing fields go with the rest: the service applies the other edits first, then
        # closes, and refuses (as a field error) anything it cannot apply.
        for name in ("outcome", "closed_on", "lost_reason", "lost_note"):
            if self.changed(name) and name in cd:
                changes[name] = cd[name]
        opp = services.update_opportunity(
            opportunity=inst,
            actor=self.actor,
            changes=changes,
            expected_version=self.expected_version,
        )
        if self.changed("products"):
            services.set_products(opportunity=opp, products=cd["products"], actor=self.actor)
        if self.changed("contacts"):
            services.set_contacts(opportunity=opp, contacts=cd["contacts"], actor=self.actor)
        if self.changed("shared_with"):
            services.share(opportunity=opp, users=cd["shared_with"], actor=self.actor)
        return opp


@admin.register(Opportunity)
class OpportunityAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = OpportunityAdminForm
    list_display = (
        "name",
        "account",
        "pipeline",
        "stage_name",
        "owner",
        "amount_display",
        "probability_display",
        "expected_close",
        "outcome",
        "days_in_stage",
    )
    list_filter = ("pipeline", StageFilter, "outcome", "owner", "forecast_category", "source")
    list_select_related = ("account", "pipeline", "stage", "owner")
    search_fields = ("name", "account__name")
    date_hierarchy = "expected_close"
    show_full_result_count = False
    autocomplete_fields = ("account", "owner", "contacts", "shared_with")
    filter_horizontal = ("products",)
    inlines = (OpportunityEventInline,)
    add_fieldsets = (
        (None, {"fields": ("name", "account", "owner", "version")}),
        (
            _("Stage and amount"),
            {
                "fields": (
                    "stage",
                    ("amount", "currency"),
                    "probability",
                    "expected_close",
                    "forecast_category",
                )
            },
        ),
        (
            _("Details"),
            {"fields": ("source", "products", "contacts", "next_step", "shared_with", "custom")},
        ),
    )
    change_fieldsets = (
        (None, {"fields": ("name", "account", "owner", "version")}),
        (
            _("Stage and amount"),
            {
                "fields": (
                    "pipeline",
                    "stage",
                    "stage_entered_at",
                    ("amount", "currency"),
                    "probability",
                    "expected_close",
                    "forecast_category",
                )
            },
        ),
        (_("Outcome"), {"fields": ("outcome", "closed_on", "lost_reason", "lost_note")}),
        (
            _("Details"),
            {"fields": ("source", "products", "contacts", "next_step", "shared_with", "custom")},
        ),
        (_("Record"), {"fields": (*TRACKED_READONLY, "history_link"), "classes": ("collapse",)}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.change_fieldsets if obj is not None else self.add_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("pipeline", "stage_entered_at", *TRACKED_READONLY, "history_link")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", str(request.user.pk))
        return initial

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # History is protected: close deals as lost instead.
        return False

    @admin.display(description=_("stage"), ordering="stage__order")
    def stage_name(self, obj: Opportunity) -> str:
        return obj.stage.name

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Opportunity) -> str:
        return f"{obj.amount:,.2f} {obj.currency_id}"

    @admin.display(description=_("prob."), ordering="probability")
    def probability_display(self, obj: Opportunity) -> str:
        return f"{obj.probability} %"

    @admin.display(description=_("days in stage"), ordering="-stage_entered_at")
    def days_in_stage(self, obj: Opportunity) -> int | None:
        if obj.outcome != Outcome.OPEN:
            return None
        return days_since(obj.stage_entered_at)

    @admin.display(description=_("full history"))
    def history_link(self, obj: Opportunity) -> str:
        if obj.pk is None:
            return "–"
        url = reverse("admin:pipeline_opportunityevent_changelist")
        count = obj.events.count()
        return format_html(
            '<a href="{}?{}">{}</a>',
            url,
            urlencode({"opportunity": obj.pk}),
            _("all %(n)s history entries") % {"n": count},
        )
