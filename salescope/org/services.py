"""Writes for organisation data. Every use case is one transaction with keyword-only arguments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from salescope.core.errors import field_error, field_label
from salescope.org.models import CompanySettings, Currency, ExchangeRate, Role, Team, User

DEFAULT_CURRENCIES = [
    ("EUR", "Euro", "€"),
    ("USD", "US dollar", "$"),
    ("GBP", "Pound sterling", "£"),
    ("CHF", "Swiss franc", "CHF"),
    ("SEK", "Swedish krona", "kr"),
    ("PLN", "Polish złoty", "zł"),
    ("DKK", "Danish krone", "kr"),
]


@transaction.atomic
def ensure_currencies() -> None:
    for code, name, symbol in DEFAULT_CURRENCIES:
        Currency.objects.get_or_create(code=code, defaults={"name": name, "symbol": symbol})


@transaction.atomic
def ensure_company_settings(*, name: str = "My company", currency: str = "EUR") -> CompanySettings:
    ensure_currencies()
    settings = CompanySettings.objects.first()
    if settings is None:
        settings = CompanySettings.objects.create(name=name, currency_id=currency)
    return settings


@transaction.atomic
def update_company_settings(
    *,
    name: str | None = None,
    currency: str | None = None,
    locale: str | None = None,
    fiscal_year_start_month: int | None = None,
) -> CompanySettings:
    settings = ensure_company_settings()
    if name is not None:
        if not name.strip():
            raise field_error("name", _("Company name cannot be empty."))
        settings.name = name.strip()
    if currency is not None:
        if not Currency.objects.filter(code=currency).exists():
            raise field_error("currency", _("Unknown currency %(value)r.") % {"value": currency})
        settings.currency_id = currency
    if locale is not None:
        settings.locale = locale
    if fiscal_year_start_month is not None:
        if not 1 <= fiscal_year_start_month <= 12:
            raise field_error(
                "fiscal_year_start_month", _("Fiscal year start month must be 1 to 12.")
            )
        settings.fiscal_year_start_month = fiscal_year_start_month
    settings.full_clean()
    settings.save()
    return settings


@transaction.atomic
def set_exchange_rate(*, currency: str, valid_from: dt.date, rate: Decimal) -> ExchangeRate:
    if not Currency.objects.filter(code=currency).exists():
        raise field_error("currency", _("Unknown currency %(value)r.") % {"value": currency})
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise field_error(
            "rate",
            _("%(field)s must be a positive exact number (got %(value)r).")
            % {"field": field_label("rate"), "value": rate},
        )
    obj, _created = ExchangeRate.objects.update_or_create(
        currency_id=currency, valid_from=valid_from, defaults={"rate": rate}
    )
    return obj


@transaction.atomic
def create_team(*, name: str, manager: User | None = None) -> Team:
    if not name or not name.strip():
        raise field_error("name", _("Team name cannot be empty."))
    if Team.objects.filter(name=name.strip()).exists():
        raise field_error("name", _("A team named %(name)r already exists.") % {"name": name})
    team = Team.objects.create(name=name.strip(), manager=manager)
    if manager is not None and manager.team_id is None:
        manager.team = team
        manager.save(update_fields=["team"])
    return team


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: str = Role.REP,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    check_password: bool = True,
    hourly_cost: Decimal | None = None,
    hired_on: dt.date | None = None,
) -> User:
    """Create a user with a role. Admins get access to the back office."""
    if not username or not username.strip():
        raise field_error("username", _("Username cannot be empty."))
    if role not in Role.values:
        raise field_error(
            "role",
            _("Unknown role %(value)r; choose one of %(allowed)s.")
            % {"value": role, "allowed": ", ".join(Role.values)},
        )
    if User.objects.filter(username=username).exists():
        raise field_error("username", _("The username %(value)r is taken.") % {"value": username})
    user = User(
        username=username.strip(),
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        team=team,
        hourly_cost=hourly_cost,
        hired_on=hired_on,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def set_role(*, user: User, role: str) -> User:
    if role not in Role.values:
        raise field_error("role", _("Unknown role %(value)r.") % {"value": role})
    user.role = role
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    return user
