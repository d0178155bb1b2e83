"""Pipelines, stages and opportunities with their append-only history (P1-P3)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salescope.core.models import TrackedModel


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class SalesFunction(models.TextChoices):
    """Who works a stage in a segmented sales organisation (P6)."""

    ANY = "", _("Anyone")
    PROSPECTING = "prospecting", _("Prospecting")
    APPOINTMENT_SETTING = "appointment_setting", _("Appointment setting")
    MEETING = "meeting", _("Field sales / meeting")
    PROPOSAL = "proposal", _("Proposal")
    CLOSING = "closing", _("Closing")


class Stage(models.Model):
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(
        _("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN
    )
    default_probability = models.PositiveSmallIntegerField(
        _("default probability (%)"), validators=[MaxValueValidator(100)]
    )
    rotting_days = models.PositiveSmallIntegerField(
        _("rots after (days)"),
        null=True,
        blank=True,
        help_text=_("Expected maximum number of days in this stage."),
    )
    owning_function = models.CharField(
        _("owning role"), max_length=24, choices=SalesFunction.choices, blank=True, default=""
    )
    checklist = models.JSONField(_("qualification checklist"), default=list, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "order"], name="unique_stage_order"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="unique_stage_name"),
            models.UniqueConstraint(
                fields=["pipeline"],
                condition=models.Q(kind="won"),
                name="one_won_stage_per_pipeline",
            ),
            models.UniqueConstraint(
                fields=["pipeline"],
                condition=models.Q(kind="lost"),
                name="one_lost_stage_per_pipeline",
            ),
            models.CheckConstraint(
                condition=models.Q(default_probability__lte=100), name="stage_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name} › {self.name}"

    @property
    def is_open(self) -> bool:
        return self.kind == StageKind.OPEN


class LostReason(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class SourceChannel(models.TextChoices):
    MARKETING = "marketing", _("Marketing campaign")
    OWN_PROSPECTING = "own_prospecting", _("Own prospecting")
    REFERRAL = "referral", _("Referral")
    PARTNER = "partner", _("Partner")
    INBOUND = "inbound", _("Inbound")
    EXISTING_CUSTOMER = "existing_customer", _("Existing customer")
    OTHER = "other", _("Other")


class Source(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    channel = models.CharField(
        _("channel"), max_length=24, choices=SourceChannel.choices, default=SourceChannel.OTHER
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductLine(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(_("code"), max_length=40, blank=True)
    list_price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Opportunity(TrackedModel):
    """A deal. Tracked fields change only through ``pipeline.services`` verbs."""

    name = models.CharField(_("name"), max_length=200)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage_entered_at = models.DateTimeField(_("in stage since"))
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    contacts = models.ManyToManyField(
        "accounts.Contact", verbose_name=_("contacts"), blank=True, related_name="opportunities"
    )
    owner = models.ForeignKey(
        "org.User",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_opportunities",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.ForeignKey(
        "org.Currency", verbose_name=_("currency"), on_delete=models.PROTECT
    )
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    expected_close = models.DateField(_("expected close date"))
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    products = models.ManyToManyField(
        ProductLine, verbose_name=_("product lines"), blank=True, related_name="opportunities"
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=16,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, verbose_name=_("lost reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    lost_note = models.TextField(_("lost note"), blank=True)
    shared_with = models.ManyToManyField(
        "org.User", verbose_name=_("shared with"), blank=True, related_name="shared_opportunities"
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "outcome"]),
            models.Index(fields=["pipeline", "stage"]),
            # KPIs: the period's deals by outcome, with what their figures read (covering)
            models.Index(
                fields=["outcome", "expected_close", "owner", "currency", "amount", "probability"]
            ),
            models.Index(fields=["outcome", "closed_on", "owner", "currency", "amount"]),
            models.Index(fields=["outcome", "updated_at", "owner"]),
            models.Index(fields=["created_at", "owner", "source"]),
            # a team's deals and their accounts (activities visible through them)
            models.Index(fields=["owner", "account", "id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="opportunity_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100),
                name="opportunity_probability_range",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="open", closed_on__isnull=True)
                | (~models.Q(outcome="open") & models.Q(closed_on__isnull=False)),
                name="closed_on_iff_closed",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="lost") | models.Q(lost_reason__isnull=False),
                name="lost_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    """The field an event changed; ``created`` carries the full initial state."""

    CREATED = "created", _("Created")
    NAME = "name", _("Name")
    STAGE = "stage", _("Stage")
    ACCOUNT = "account", _("Account")
    OWNER = "owner", _("Owner")
    AMOUNT = "amount", _("Amount")
    CURRENCY = "currency", _("Currency")
    PROBABILITY = "probability", _("Probability")
    EXPECTED_CLOSE = "expected_close", _("Expected close date")
    SOURCE = "source", _("Source")
    FORECAST_CATEGORY = "forecast_category", _("Forecast category")
    NEXT_STEP = "next_step", _("Next step")
    OUTCOME = "outcome", _("Outcome")
    CLOSED_ON = "closed_on", _("Closed on")
    LOST_REASON = "lost_reason", _("Lost reason")
    LOST_NOTE = "lost_note", _("Lost note")
    CUSTOM = "custom", _("Custom fields")


class EventOrigin(models.TextChoices):
    UI = "ui", _("Web")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("Automation")
    DEMO = "demo", _("Demo generator")


class AppendOnlyQuerySet(models.QuerySet["OpportunityEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Opportunity history is append-only: events cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Opportunity history is append-only: events cannot be deleted.")


class OpportunityEvent(models.Model):
    """One change of one tracked field of an opportunity. Never updated, never deleted."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    verb = models.CharField(_("action"), max_length=40)
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        "org.User",
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("when"))
    recorded_at = models.DateTimeField(_("recorded at"))
    action_id = models.UUIDField(
        default=uuid.uuid4, help_text=_("Events written by one action share it.")
    )
    origin = models.CharField(
        _("origin"), max_length=8, choices=EventOrigin.choices, default=EventOrigin.UI
    )
    reconstructed = models.BooleanField(
        _("reconstructed"),
        default=False,
        help_text=_("Derived from created/closed dates during an import, not observed."),
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity event")
        verbose_name_plural = _("opportunity history")
        ordering = ["opportunity", "occurred_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "occurred_at", "id"]),
            models.Index(fields=["kind", "occurred_at"]),
            models.Index(fields=["occurred_at", "id"]),
            models.Index(fields=["to_stage", "occurred_at"]),
            # KPIs (funnel): a deal's earlier entries into a stage and its later stage moves
            models.Index(fields=["opportunity", "kind", "to_stage", "occurred_at", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_value!r} → {self.new_value!r}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Opportunity history is append-only: events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Opportunity history is append-only: events cannot be deleted.")
