"""Customer base (D1-D4): accounts, contacts with roles, segmentation and tags."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from salescope.core.models import TrackedModel


class NamedOption(models.Model):
    """An admin-configurable entry of a list (status, tier, type, industry, region...)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class AccountStatus(NamedOption):
    is_default = models.BooleanField(_("default for new accounts"), default=False)
    is_customer = models.BooleanField(_("counts as customer"), default=False)

    class Meta(NamedOption.Meta):
        verbose_name = _("account status")
        verbose_name_plural = _("account statuses")


class Tier(NamedOption):
    colour = models.CharField(_("colour"), max_length=7, default="#999999")

    class Meta(NamedOption.Meta):
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")


class AccountType(NamedOption):
    class Meta(NamedOption.Meta):
        verbose_name = _("account type")
        verbose_name_plural = _("account types")


class Industry(NamedOption):
    class Meta(NamedOption.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Region(NamedOption):
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta(NamedOption.Meta):
        verbose_name = _("region / territory")
        verbose_name_plural = _("regions / territories")


class ContactRole(NamedOption):
    class Meta(NamedOption.Meta):
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")


class TagCategory(NamedOption):
    class Meta(NamedOption.Meta):
        verbose_name = _("tag category")
        verbose_name_plural = _("tag categories")


class Tag(models.Model):
    category = models.ForeignKey(
        TagCategory, verbose_name=_("category"), on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["category__order", "category__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="unique_tag_in_category")
        ]

    def __str__(self) -> str:
        return f"{self.category.name}: {self.name}"


class Account(TrackedModel):
    name = models.CharField(_("name"), max_length=200)
    normalized_name = models.CharField(max_length=200, editable=False, db_index=True)
    status = models.ForeignKey(AccountStatus, verbose_name=_("status"), on_delete=models.PROTECT)
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.PROTECT
    )
    account_type = models.ForeignKey(
        AccountType, verbose_name=_("account type"), null=True, blank=True, on_delete=models.PROTECT
    )
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), null=True, blank=True, on_delete=models.PROTECT
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region / territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    owner = models.ForeignKey(
        "org.User", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_accounts"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    website = models.URLField(_("website"), blank=True)
    domain = models.CharField(_("domain"), max_length=200, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. DE")
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    description = models.TextField(_("description"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    shared_with = models.ManyToManyField(
        "org.User", verbose_name=_("shared with"), blank=True, related_name="shared_accounts"
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "status"]),
            # a team's accounts (activities visible through them)
            models.Index(fields=["owner", "id"]),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TrackedModel):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    owner = models.ForeignKey(
        "org.User", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_contacts"
    )
    accounts = models.ManyToManyField(
        Account, through="AccountContact", related_name="contacts", verbose_name=_("accounts")
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class AccountContact(models.Model):
    """A contact's place at an account, with their role(s) there (D4)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    roles = models.ManyToManyField(ContactRole, verbose_name=_("roles"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True, help_text=_("Left the company on"))

    class Meta:
        verbose_name = _("contact at account")
        verbose_name_plural = _("contacts at accounts")
        constraints = [
            models.UniqueConstraint(fields=["account", "contact"], name="unique_account_contact")
        ]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.account}"
