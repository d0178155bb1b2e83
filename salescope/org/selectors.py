"""Reads for organisation data: company settings, teams, currency conversion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import QuerySet

from salescope.core.money import quantize
from salescope.org.models import CompanySettings, ExchangeRate, Role, Team, User


class MissingRateError(LookupError):
    pass


def company_settings() -> CompanySettings:
    settings = CompanySettings.objects.select_related("currency").first()
    if settings is None:
        from salescope.org.services import ensure_company_settings

        settings = ensure_company_settings()
    return settings


def company_currency() -> str:
    return str(company_settings().currency_id)


def rate_on(currency: str, on: dt.date) -> Decimal:
    """Value of 1 ``currency`` in the company currency on ``on`` (latest rate up to then)."""
    if currency == company_currency():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(currency_id=currency, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise MissingRateError(f"No exchange rate for {currency} on or before {on.isoformat()}.")
    return rate


def convert(
    amount: Decimal, *, from_currency: str, to_currency: str | None = None, on: dt.date
) -> Decimal:
    """Convert at the stored rates (through the company currency), rounded to cents."""
    to_currency = to_currency or company_currency()
    if from_currency == to_currency:
        return amount
    return quantize(amount * rate_on(from_currency, on) / rate_on(to_currency, on))


def team_members(team: Team) -> QuerySet[User]:
    return User.objects.filter(team=team, is_active=True)


def managed_user_ids(user: User) -> QuerySet[User]:
    """Users in the teams ``user`` manages (the manager included)."""
    return User.objects.filter(team__manager=user)


def users_with_role(role: Role) -> QuerySet[User]:
    return User.objects.filter(role=role, is_active=True)
