"""Users, roles, teams, company settings and currencies (capabilities S1, S5)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Sales manager")
    REP = "rep", _("Sales rep")
    MARKETING = "marketing", _("Marketing")
    READ_ONLY = "readonly", _("Read-only")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    hourly_cost = models.DecimalField(
        _("hourly cost"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Loaded cost of one hour of this person's time, for cost KPIs."),
    )
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        User,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a 3-letter ISO 4217 code such as EUR.")
)


class Currency(models.Model):
    code = models.CharField(
        _("code"), max_length=3, primary_key=True, validators=[currency_code_validator]
    )
    name = models.CharField(_("name"), max_length=60)
    symbol = models.CharField(_("symbol"), max_length=8, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ExchangeRate(models.Model):
    """From ``valid_from`` on, 1 ``currency`` is worth ``rate`` units of the company currency."""

    currency = models.ForeignKey(
        Currency, verbose_name=_("currency"), on_delete=models.CASCADE, related_name="rates"
    )
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Value of one unit of this currency in the company currency."),
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="unique_rate_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_positive"),
        ]
        indexes = [models.Index(fields=["currency", "valid_from"])]

    def __str__(self) -> str:
        return f"1 {self.currency_id} = {self.rate} ({self.valid_from})"


class CompanySettings(models.Model):
    """One row: the company using this Salescope installation."""

    name = models.CharField(_("company name"), max_length=200, default="My company")
    currency = models.ForeignKey(
        Currency, verbose_name=_("company currency"), on_delete=models.PROTECT, default="EUR"
    )
    locale = models.CharField(
        _("locale"),
        max_length=16,
        default="en",
        help_text=_("Default language and formats, e.g. en or de."),
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year starts in month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    stale_after_days = models.PositiveSmallIntegerField(
        _("stale after (days)"),
        default=7,
        help_text=_("An open opportunity not updated for this many days counts as stale."),
    )

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="fiscal_month_range",
            )
        ]

    def __str__(self) -> str:
        return self.name
