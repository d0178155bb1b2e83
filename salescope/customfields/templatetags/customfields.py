"""Custom field display and form helpers: ``{% load customfields %}``.

{% custom_values account "account" %}            label: value list of a record's custom fields
{% custom_values deal "opportunity" hide_empty=True %}
{% for field in form|custom_fields %}…{% endfor %}   the ``custom__<key>`` bound fields of a form
{{ value|custom_display:definition }}           one value, formatted for the user's locale
"""

from __future__ import annotations

from typing import Any

from django import forms, template

from salescope.customfields.forms import PREFIX, display_entries, display_value
from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.selectors import cached_definitions

register = template.Library()


@register.inclusion_tag("customfields/_values.html", takes_context=True)
def custom_values(
    context: template.Context, record: Any, target: str, hide_empty: bool = False
) -> dict[str, Any]:
    """The record's custom values; definitions are read once per request and target."""
    holder = context.get("request") or context.render_context
    defs = cached_definitions(target, holder=holder)
    values = getattr(record, "custom", None) if not isinstance(record, dict) else record
    entries = display_entries(defs, values or {})
    if hide_empty:
        entries = [e for e in entries if not e["empty"]]
    return {"entries": entries}


@register.filter
def custom_fields(form: forms.BaseForm | None) -> list[forms.BoundField]:
    if not isinstance(form, forms.BaseForm):
        return []
    return [form[name] for name in form.fields if name.startswith(PREFIX)]


@register.filter
def custom_display(value: Any, definition: CustomFieldDefinition) -> str:
    return display_value(definition, value)
