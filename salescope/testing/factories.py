"""factory_boy factories shared by all apps' tests.

Reference data (currencies, statuses, a pipeline with stages, lost reasons) comes from the
``org_setup`` fixture in ``salescope.testing.fixtures``. Opportunities are created through
``pipeline.services.create_opportunity`` so they always carry a valid history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory

from salescope.accounts.models import Account, AccountStatus, Contact
from salescope.accounts.services import normalize_name
from salescope.activities.models import Activity, ActivityType
from salescope.core import clock
from salescope.org.models import Role, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    is_staff = factory.LazyAttribute(lambda u: u.role == Role.ADMIN)
    is_superuser = factory.LazyAttribute(lambda u: u.role == Role.ADMIN)
    password = factory.django.Password("a-Long-pass-123")


class AccountStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountStatus
        django_get_or_create = ("name",)

    name = "Prospect"
    is_default = True


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Account {n} GmbH")
    normalized_name = factory.LazyAttribute(lambda a: normalize_name(a.name))
    status = factory.SubFactory(AccountStatusFactory)
    owner = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(clock.now)
    updated_at = factory.LazyFunction(clock.now)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")
    owner = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(clock.now)
    updated_at = factory.LazyFunction(clock.now)


class ActivityTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityType
        django_get_or_create = ("code",)

    code = "call"
    name = factory.LazyAttribute(lambda t: t.code.replace("_", " ").title())


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity
        skip_postgeneration_save = True

    activity_type = factory.SubFactory(ActivityTypeFactory)
    subject = factory.Sequence(lambda n: f"Activity {n}")
    owner = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(clock.now)
    updated_at = factory.LazyFunction(clock.now)


def make_opportunity(
    *,
    owner: User,
    stage: Any,
    account: Account | None = None,
    amount: str = "1000.00",
    expected_close: dt.date | None = None,
    actor: User | None = None,
    **kwargs: Any,
) -> Any:
    """Create an opportunity through the service (so it has its 'created' event)."""
    from salescope.pipeline.services import create_opportunity

    return create_opportunity(
        actor=actor,
        owner=owner,
        name=kwargs.pop("name", "Deal"),
        stage=stage,
        account=account,
        amount=Decimal(amount),
        expected_close=expected_close or clock.today() + dt.timedelta(days=30),
        **kwargs,
    )
