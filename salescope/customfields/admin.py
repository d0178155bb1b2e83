"""Back office for custom field definitions (D3)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from salescope.core.admin_mixins import ServiceAdminMixin, ServiceModelForm
from salescope.customfields.models import CustomFieldDefinition, FieldType, Target
from salescope.customfields.services import define_field
from salescope.pipeline.models import Stage

CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)


class CustomFieldDefinitionForm(ServiceModelForm):
    """New definitions go through ``define_field``; edits keep the same rules."""

    class Meta:
        model = CustomFieldDefinition
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "required_from_stage" in self.fields:
            field = cast(forms.ModelChoiceField, self.fields["required_from_stage"])
            field.queryset = Stage.objects.select_related("pipeline")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        target = cleaned.get("target", self.instance.target)
        field_type = cleaned.get("field_type", self.instance.field_type)
        choices = cleaned.get("choices")
        if "choices" in cleaned:
            if choices in (None, ""):
                choices = cleaned["choices"] = []
            if not isinstance(choices, list) or not all(isinstance(c, str) and c for c in choices):
                self.add_error("choices", _('Enter a list of texts, e.g. ["Small", "Large"].'))
            elif field_type in CHOICE_TYPES and not choices:
                self.add_error("choices", _("Choice fields need at least one choice."))
        if cleaned.get("required_from_stage") is not None and target != Target.OPPORTUNITY:
            self.add_error(
                "required_from_stage",
                _("Only opportunity fields can be mandatory from a stage on."),
            )
        return cleaned

    def save_through_services(self) -> CustomFieldDefinition:
        if not self.adding:
            return cast(CustomFieldDefinition, super().save_through_services())
        cd = self.cleaned_data
        definition = define_field(
            target=cd["target"],
            key=cd["key"],
            label=cd["label"],
            field_type=cd["field_type"],
            choices=cd.get("choices") or [],
            required_on_create=cd.get("required_on_create", False),
            required_from_stage=cd.get("required_from_stage"),
            help_text=cd.get("help_text", ""),
            order=cd.get("order") or 0,
        )
        if cd.get("active") is False:
            definition.active = False
            definition.save(update_fields=["active"])
        return definition


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = CustomFieldDefinitionForm
    list_display = (
        "label",
        "key",
        "target",
        "field_type",
        "required_on_create",
        "required_from_stage",
        "order",
        "active",
    )
    list_filter = ("target", "field_type", "active", "required_on_create")
    list_select_related = ("required_from_stage__pipeline",)
    search_fields = ("key", "label")
    ordering = ("target", "order", "label")
    fields = (
        "target",
        "key",
        "label",
        "field_type",
        "choices",
        "required_on_create",
        "required_from_stage",
        "help_text",
        "order",
        "active",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Values are stored under the key in each record: key and target are fixed once created.
        return ("target", "key") if obj is not None else ()

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "choices" and field is not None:
            field.widget = forms.Textarea(attrs={"rows": 3, "cols": 60})
        return field
