"""Tables of the leads app: marketing campaigns and the leads they bring in (not yet deals)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from salescope.core.models import TrackedModel


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    EVENT = "event", _("Event / trade fair")
    WEBINAR = "webinar", _("Webinar")
    ADS = "ads", _("Online ads")
    SOCIAL = "social", _("Social media")
    CONTENT = "content", _("Content / SEO")
    PRINT = "print", _("Print / mailing")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=CampaignChannel.choices, default=CampaignChannel.OTHER
    )
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, default=0)
    currency = models.ForeignKey(
        "org.Currency", verbose_name=_("currency"), on_delete=models.PROTECT
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost__gte=0), name="campaign_cost_positive"),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    REJECTED = "rejected", _("Rejected")
    CONVERTED = "converted", _("Converted")


class Lead(TrackedModel):
    """A person at a company who showed interest; qualified leads become contacts and deals."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    source = models.ForeignKey(
        "pipeline.Source",
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    owner = models.ForeignKey(
        "org.User",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
    )
    score = models.IntegerField(_("score"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} ({self.company})" if self.company else name
