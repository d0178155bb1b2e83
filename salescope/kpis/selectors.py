"""Reads of the KPI engine: the user's records, money conversion and day counts in SQL.

Every KPI query starts from one of :func:`opportunities`, :func:`events` or
:func:`activities`, which apply ``salescope/visibility.py`` for the user (``None`` is the
system: the command line without ``--as``).

Money is converted in SQL, record by record, at the stored rate valid on the record's date
(``ExchangeRate`` with the latest ``valid_from`` on or before it; the company currency is
worth 1): ``amount × rate(currency, day) / rate(target, day)``. Sums are exact on
PostgreSQL (``numeric``) and rounded to the cent at the end; a record whose rate is missing
makes the query fail with a message naming the currency and the day, never a silent gap.

Medians use ``percentile_cont(0.5)`` on PostgreSQL. SQLite has no such aggregate: there the
database numbers each group's values in order and returns the one or two middle ones, and the
engine takes their mean (for an even count, as ``percentile_cont`` does).

The scope is written as conditions on the records' own columns (the owner among the team's
members, the deals shared with the user: both small subqueries), equal to
``salescope/visibility.py``, so the databases use their indexes on the period and the owner
instead of a subquery over all deals.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Aggregate,
    Case,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from salescope.activities.models import Activity
from salescope.kpis.registry import Context
from salescope.org.models import ExchangeRate
from salescope.pipeline.models import Opportunity, OpportunityEvent
from salescope.visibility import owner_ids, sees_everything

RATE = DecimalField(max_digits=18, decimal_places=8)
MONEY = DecimalField(max_digits=30, decimal_places=8)


def _owners_and_shared(user: Any) -> tuple[Any, Any]:
    """The owner ids whose deals ``user`` sees, and the ids of the deals shared with them.

    Both are subqueries of the KPI query itself (live, no extra round trip): the owners are a
    handful of users, the shared deals any number.
    """
    owners = owner_ids(user)
    shared = Opportunity.shared_with.through.objects.filter(user_id=user.pk).values(
        "opportunity_id"
    )
    return owners, shared


def _limited(user: Any) -> bool:
    """Whether ``user`` sees part of the records (False: everything, or the system)."""
    return user is not None and not sees_everything(user)


def _inactive(user: Any) -> bool:
    return user is not None and (not getattr(user, "is_authenticated", False) or not user.is_active)


def opportunities(user: Any) -> QuerySet[Opportunity]:
    """The deals ``user`` sees (``visibility.visible_opportunities``), as plain conditions on
    the owner and the shared deals rather than a subquery over all deals."""
    qs = Opportunity.objects.all()
    if _inactive(user):
        return qs.none()
    if not _limited(user):
        return qs
    owners, shared = _owners_and_shared(user)
    return qs.filter(Q(owner_id__in=owners) | Q(pk__in=shared))


def events(user: Any) -> QuerySet[OpportunityEvent]:
    qs = OpportunityEvent.objects.all()
    if user is None or (sees_everything(user) and getattr(user, "is_authenticated", False)):
        return qs
    if _inactive(user):
        return qs.none()
    owners, shared = _owners_and_shared(user)
    return qs.filter(Q(opportunity__owner_id__in=owners) | Q(opportunity_id__in=shared))


def activities(user: Any) -> QuerySet[Activity]:
    """The activities whose effort counts in ``user``'s figures: those assigned to the people
    whose numbers they see (themself; a sales manager, also their teams' members), all of them
    for administrators and read-only users.

    Activity KPIs measure people's effort, so a colleague's call on a team deal is that
    colleague's effort, not the team's. Every activity counted is one ``user`` may see
    (``visibility.visible_activities`` shows the activities of these owners), so no figure
    includes a record outside their scope.
    """
    qs = Activity.objects.all()
    if _inactive(user):
        return qs.none()
    if not _limited(user):
        return qs
    return qs.filter(owner_id__in=owner_ids(user))


def _rate(*, day: Any, company: str, column: str | None = None, code: str | None = None) -> Any:
    """The rate of the currency in ``column`` (or of ``code``) on ``day`` (a path or a date)."""
    on = OuterRef(day) if isinstance(day, str) else Value(day)
    if code is not None:
        if code == company:
            return Value(Decimal(1), output_field=RATE)
        latest = (
            ExchangeRate.objects.filter(currency_id=code, valid_from__lte=on)
            .order_by("-valid_from")
            .values("rate")[:1]
        )
        return Subquery(latest, output_field=RATE)
    assert column is not None
    latest = (
        ExchangeRate.objects.filter(currency_id=OuterRef(column), valid_from__lte=on)
        .order_by("-valid_from")
        .values("rate")[:1]
    )
    return Case(
        When(**{column: company}, then=Value(Decimal(1), output_field=RATE)),
        default=Subquery(latest, output_field=RATE),
        output_field=RATE,
    )


def with_money(
    qs: QuerySet[Any],
    ctx: Context,
    *,
    amount: Any,
    currency: str = "currency_id",
    day: Any,
) -> QuerySet[Any]:
    """Annotate ``v``: ``amount`` in ``ctx.currency`` at the rates valid on ``day``.

    ``day`` is a column path (``closed_on``) or a date (today, for the open pipeline).
    ``_ccy``/``_day`` are kept so a missing rate can be reported precisely.
    """
    amount_expr = F(amount) if isinstance(amount, str) else amount
    qs = qs.annotate(
        _ccy=F(currency),
        _day=F(day) if isinstance(day, str) else Value(day),
        r1=_rate(column=currency, day=day, company=ctx.company_currency),
        r2=_rate(code=ctx.currency, day=day, company=ctx.company_currency),
    )
    return qs.annotate(
        v=ExpressionWrapper(AsReal(amount_expr) * F("r1") / F("r2"), output_field=MONEY),
    )


class Median(Aggregate):
    """``percentile_cont(0.5)`` (PostgreSQL only; the engine computes it in Python elsewhere)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False


class _DaysBetween(Func):
    """Days from ``start`` to ``end`` (``end − start``); SQLite counts in Julian days."""

    output_field = FloatField()
    arity = 2
    postgres = ""  # the PostgreSQL expression, with {end} and {start}

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        end, start = self.source_expressions
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        if connection.vendor == "postgresql":
            sql = self.postgres.format(end=end_sql, start=start_sql)
        else:
            sql = f"(julianday({end_sql}) - julianday({start_sql}))"
        return sql, (*end_params, *start_params)


class DaysBetweenDates(_DaysBetween):
    """Whole days from date ``start`` to date ``end`` (``end − start``)."""

    postgres = "(({end})::date - ({start})::date)"


class DaysBetweenTimes(_DaysBetween):
    """Days (with fractions) from instant ``start`` to instant ``end``."""

    postgres = "(EXTRACT(EPOCH FROM (({end}) - ({start}))) / 86400.0)"


@functools.lru_cache(maxsize=4)
def _offsets(tzname: str) -> tuple[tuple[str, int], ...]:
    """``(UTC instant as Django writes it on SQLite, seconds east of UTC)`` from each change of
    the zone's offset, 1970 to 2100 (the first entry holds from the beginning of time)."""
    tz = zoneinfo.ZoneInfo(tzname)
    start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2101, 1, 1, tzinfo=dt.UTC)

    def offset(t: dt.datetime) -> int:
        delta = t.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    changes = [("", offset(start))]
    t, prev = start, offset(start)
    day = dt.timedelta(days=1)
    while t < end:
        after = t + day
        if offset(after) != prev:
            lo, hi = t, after
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == prev else (lo, mid)
            hi = hi.replace(microsecond=0)
            prev = offset(hi)
            changes.append((hi.strftime("%Y-%m-%d %H:%M:%S"), prev))
        t = after
    return tuple(changes)


class LocalDate(Func):
    """The calendar day of an instant in the company time zone.

    PostgreSQL converts with ``AT TIME ZONE``. SQLite has no time zones: there the offset is
    chosen by comparing the stored UTC text with the zone's offset changes (a balanced tree
    of CASEs, a few comparisons per row) instead of calling Python for every row.
    """

    output_field = DateField()
    arity = 1

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        tzname = settings.TIME_ZONE
        if connection.vendor == "postgresql":
            return f"(({sql}) AT TIME ZONE %s)::date", (*params, tzname)
        if connection.vendor != "sqlite":  # pragma: no cover - other databases
            raise NotImplementedError(connection.vendor)
        changes = _offsets(tzname)

        def tree(lo: int, hi: int) -> tuple[str, list[Any]]:
            if lo == hi:
                return f"'{changes[lo][1]:+d} seconds'", []
            mid = (lo + hi + 1) // 2
            left, lp = tree(lo, mid - 1)
            right, rp = tree(mid, hi)
            return f"CASE WHEN ({sql}) < %s THEN {left} ELSE {right} END", [
                *params,
                changes[mid][0],
                *lp,
                *rp,
            ]

        modifier, mparams = tree(0, len(changes) - 1)
        return f"date(({sql}), {modifier})", (*params, *mparams)


class AsReal(Func):
    """The expression itself; on SQLite × 1.0, so integer-valued columns divide exactly."""

    arity = 1

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "sqlite":
            return f"(({sql}) * 1.0)", params
        return sql, params
