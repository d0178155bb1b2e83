"""Custom field definitions (D3): defined by admins, values stored in each record's ``custom``."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    ACCOUNT = "account", _("Account")
    CONTACT = "contact", _("Contact")
    OPPORTUNITY = "opportunity", _("Opportunity")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes/no")


key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,49}$",
    _("Use lowercase letters, digits and underscores, starting with a letter."),
)


class CustomFieldDefinition(models.Model):
    target = models.CharField(_("applies to"), max_length=16, choices=Target.choices)
    key = models.CharField(_("key"), max_length=50, validators=[key_validator])
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For choice fields: the list of allowed values."),
    )
    required_on_create = models.BooleanField(_("mandatory on create"), default=False)
    required_from_stage = models.ForeignKey(
        "pipeline.Stage",
        verbose_name=_("mandatory from stage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="required_fields",
        help_text=_("Opportunities need a value before entering this stage or any later one."),
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["target", "order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["target", "key"], name="unique_custom_field_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.label}"
