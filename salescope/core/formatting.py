"""Locale-aware formatting of money, numbers and dates (S6): one place, used by templates,
exports and e-mails. German users see 1.234,56 €, English users €1,234.56."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent
from django.utils import translation

_LOCALES = {"en": "en_GB", "de": "de_DE"}


def current_locale() -> str:
    lang = (translation.get_language() or "en").split("-")[0]
    return _LOCALES.get(lang, "en_GB")


def money(
    amount: Decimal | int | float | None, currency: str | None, *, whole: bool = False
) -> str:
    if amount is None:
        return "–"
    fmt = None
    if whole:
        fmt = "¤#,##0" if current_locale().startswith("en") else "#,##0 ¤"
    return format_currency(
        Decimal(amount),
        currency or "EUR",
        format=fmt,
        locale=current_locale(),
        currency_digits=not whole,
    )


def number(value: Any, *, digits: int | None = None) -> str:
    if value is None:
        return "–"
    if digits is not None:
        value = round(Decimal(value), digits)
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=fmt, locale=current_locale())
    return format_decimal(value, locale=current_locale())


def percent(value: Any, *, digits: int = 0) -> str:
    """``value`` is a ratio (0.25 → 25 %); None (no denominator) shows as a dash."""
    if value is None:
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    if current_locale().startswith("en"):
        fmt = fmt.replace(" %", "%")
    return format_percent(Decimal(str(value)), format=fmt, locale=current_locale())


def date(value: dt.date | None, *, style: str = "medium") -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return babel_format_date(value, format=style, locale=current_locale())
