"""Exact money: ``Decimal`` amounts with 2 decimal places and an ISO 4217 currency code."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from salescope.core.errors import field_error, field_label

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # fits max_digits=14, decimal_places=2


def parse_amount(value: object, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """Parse a user-supplied amount strictly; floats are refused (they are not exact)."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise field_error(
            field,
            _("%(field)s: enter an exact amount such as 1250.00, not %(value)r.")
            % {"field": field_label(field), "value": value},
        )
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a number.")
            % {"field": field_label(field), "value": value},
        ) from None
    if not amount.is_finite():
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a finite number.")
            % {"field": field_label(field), "value": value},
        )
    if amount < 0 and not allow_negative:
        raise field_error(
            field,
            _("%(field)s cannot be negative (got %(value)s).")
            % {"field": field_label(field), "value": amount},
        )
    if amount.quantize(CENT) != amount:
        raise field_error(
            field,
            _("%(field)s: at most 2 decimal places are allowed (got %(value)s).")
            % {"field": field_label(field), "value": amount},
        )
    if abs(amount) > MAX_AMOUNT:
        raise field_error(
            field,
            _("%(field)s is too large (maximum %(max)s).")
            % {"field": field_label(field), "max": MAX_AMOUNT},
        )
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
