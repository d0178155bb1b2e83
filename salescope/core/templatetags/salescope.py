"""Template filters for locale-aware display: ``{% load salescope %}``.

{{ opp.amount|money:opp.currency_id }}   {{ 0.253|percent }}   {{ day|day }}
"""

from __future__ import annotations

from typing import Any

from django import template

from salescope.core import formatting

register = template.Library()


@register.filter
def money(amount: Any, currency: Any = None) -> str:
    return formatting.money(amount, str(currency) if currency else None)


@register.filter
def money_whole(amount: Any, currency: Any = None) -> str:
    return formatting.money(amount, str(currency) if currency else None, whole=True)


@register.filter
def num(value: Any, digits: Any = None) -> str:
    return formatting.number(value, digits=int(digits) if digits not in (None, "") else None)


@register.filter
def percent(value: Any, digits: Any = 0) -> str:
    return formatting.percent(value, digits=int(digits))


@register.filter
def day(value: Any, style: str = "medium") -> str:
    return formatting.date(value, style=style)
