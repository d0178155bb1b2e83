"""Locale-aware formatting of money, numbers and dates (S6): one place, used by templates,
exports and e-mails. German users see 1.234,56 €, English users €1,234.56."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import NumberPattern, parse_pattern
from django.utils import translation

_LOCALES = {"en": "en_GB", "de": "de_DE"}
NBSP = "\u00a0"


def current_locale() -> str:
    lang = (translation.get_language() or "en").split("-")[0]
    return _LOCALES.get(lang, "en_GB")


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=64)
def _pattern(code: str, kind: str, digits: int | None) -> NumberPattern:
    """Parsed Babel number patterns, cached: parsing them per call dominates list rendering."""
    english = code.startswith("en")
    frac = "." + "0" * digits if digits else ""
    if kind == "money":
        return _locale(code).currency_formats["standard"]
    if kind == "money_whole":
        return parse_pattern("¤#,##0" if english else f"#,##0{NBSP}¤")
    if kind == "percent":
        return parse_pattern("#,##0" + frac + ("%" if english else f"{NBSP}%"))
    if digits is None:
        return _locale(code).decimal_formats[None]
    return parse_pattern("#,##0" + frac)


def money(
    amount: Decimal | int | float | None, currency: str | None, *, whole: bool = False
) -> str:
    if amount is None or amount == "":
        return "–"
    code = current_locale()
    pattern = _pattern(code, "money_whole" if whole else "money", None)
    return pattern.apply(
        Decimal(str(amount)), _locale(code), currency=currency or "EUR", currency_digits=not whole
    )


def number(value: Any, *, digits: int | None = None) -> str:
    if value is None or value == "":
        return "–"
    code = current_locale()
    value = Decimal(str(value))
    if digits is not None:
        value = round(value, digits)
    return _pattern(code, "number", digits).apply(value, _locale(code))


def percent(value: Any, *, digits: int = 0) -> str:
    """``value`` is a ratio (0.25 → 25 %); None (no denominator) shows as a dash."""
    if value is None or value == "":
        return "–"
    code = current_locale()
    return _pattern(code, "percent", digits).apply(Decimal(str(value)), _locale(code))


def date(value: dt.date | None, *, style: str = "medium") -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return babel_format_date(value, format=style, locale=_locale(current_locale()))
