"""The token form of the user menu."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from salescope.restapi.services import MAX_NAME


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=MAX_NAME,
        help_text=_("What uses the token, e.g. “ERP sync” or “my laptop script”."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. The token stops working at the start of this day."),
    )
