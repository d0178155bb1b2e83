"""Organisation: users and roles, teams, company settings, currencies and dated rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from salescope.org.models import CompanySettings, ExchangeRate, Role, Team, User
from salescope.org.selectors import MissingRateError, company_currency, company_settings, convert
from salescope.org.services import (
    create_team,
    create_user,
    ensure_company_settings,
    set_exchange_rate,
    set_role,
    update_company_settings,
)

pytestmark = pytest.mark.django_db


def test_company_settings_is_created_once_with_defaults():
    first = company_settings()
    assert first.currency_id == "EUR" and first.fiscal_year_start_month == 1
    assert company_settings().pk == first.pk
    assert CompanySettings.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " "}, "name"),
        ({"currency": "ZZZ"}, "currency"),
        ({"fiscal_year_start_month": 13}, "fiscal_year_start_month"),
    ],
)
def test_company_settings_reject_bad_values(kwargs, field):
    ensure_company_settings()
    with pytest.raises(ValidationError) as exc:
        update_company_settings(**kwargs)
    assert field in exc.value.message_dict
    assert CompanySettings.objects.get().name == "My company"


def test_convert_uses_the_rate_valid_on_the_day():
    ensure_company_settings(currency="EUR")
    set_exchange_rate(currency="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.90"))
    set_exchange_rate(currency="USD", valid_from=dt.date(2026, 2, 1), rate=Decimal("0.95"))
    set_exchange_rate(currency="GBP", valid_from=dt.date(2026, 1, 1), rate=Decimal("1.20"))
    assert convert(Decimal("100.00"), from_currency="USD", on=dt.date(2026, 1, 31)) == Decimal(
        "90.00"
    )
    assert convert(Decimal("100.00"), from_currency="USD", on=dt.date(2026, 2, 1)) == Decimal(
        "95.00"
    )
    assert convert(Decimal("100.00"), from_currency="EUR", on=dt.date(2026, 2, 1)) == Decimal(
        "100.00"
    )
    # Cross rate through the company currency: 100 GBP = 120 EUR = 126.32 USD at 0.95.
    assert convert(
        Decimal("100.00"), from_currency="GBP", to_currency="USD", on=dt.date(2026, 2, 10)
    ) == Decimal("126.32")
    with pytest.raises(MissingRateError):
        convert(Decimal("1.00"), from_currency="USD", on=dt.date(2025, 12, 31))
    assert company_currency() == "EUR"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"currency": "ZZZ", "rate": Decimal("1")}, "currency"),
        ({"currency": "USD", "rate": Decimal("0")}, "rate"),
        ({"currency": "USD", "rate": Decimal("-1")}, "rate"),
        ({"currency": "USD", "rate": 1.1}, "rate"),
    ],
)
def test_exchange_rate_rejects_bad_values(kwargs, field):
    ensure_company_settings()
    with pytest.raises(ValidationError) as exc:
        set_exchange_rate(valid_from=dt.date(2026, 1, 1), **kwargs)
    assert field in exc.value.message_dict
    assert ExchangeRate.objects.count() == 0


def test_create_user_with_role_and_team():
    team = create_team(name="DACH")
    user = create_user(
        username="anna",
        password="a-Long-pass-123",
        role=Role.MANAGER,
        team=team,
        first_name="Anna",
        last_name="Weber",
        email="anna@example.com",
    )
    assert user.check_password("a-Long-pass-123") and user.role == Role.MANAGER
    assert str(user) == "Anna Weber"
    assert not user.is_staff
    admin = create_user(username="root", password="another-Long-pass-9", role=Role.ADMIN)
    assert admin.is_staff and admin.is_superuser
    set_role(user=admin, role=Role.READ_ONLY)
    assert not admin.is_staff


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": ""}, "username"),
        ({"role": "boss"}, "role"),
        ({"password": "123"}, "password"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_create_user_rejects_bad_values(kwargs, field):
    args = {"username": "bob", "password": "a-Long-pass-123", "role": Role.REP}
    args.update(kwargs)
    with pytest.raises(ValidationError) as exc:
        create_user(**args)
    assert field in exc.value.message_dict
    assert not User.objects.exists()


def test_duplicate_username_and_team_names_are_refused():
    create_user(username="bob", password="a-Long-pass-123")
    with pytest.raises(ValidationError) as exc:
        create_user(username="bob", password="a-Long-pass-123")
    assert "username" in exc.value.message_dict
    create_team(name="North")
    with pytest.raises(ValidationError):
        create_team(name="North")
    assert Team.objects.count() == 1


def test_team_manager_joins_the_team():
    manager = create_user(username="mgr", password="a-Long-pass-123", role=Role.MANAGER)
    team = create_team(name="West", manager=manager)
    manager.refresh_from_db()
    assert manager.team == team and team.manager == manager
