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
engine fetches the one measured column, ordered, and takes the middle in Python (the mean of
the two middle values for an even count, as ``percentile_cont`` does).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    Aggregate,
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)

from salescope.activities.models import Activity
from salescope.kpis.registry import Context
from salescope.org.models import ExchangeRate
from salescope.pipeline.models import Opportunity, OpportunityEvent
from salescope.visibility import (
    sees_everything,
    visible_activities,
    visible_opportunities,
)

RATE = DecimalField(max_digits=18, decimal_places=8)
MONEY = DecimalField(max_digits=30, decimal_places=8)


def opportunities(user: Any) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.all()
    return qs if user is None else visible_opportunities(user, qs)


def events(user: Any) -> QuerySet[OpportunityEvent]:
    qs = OpportunityEvent.objects.all()
    if user is None or (sees_everything(user) and getattr(user, "is_authenticated", False)):
        return qs
    return qs.filter(opportunity__in=opportunities(user).values("pk"))


def activities(user: Any) -> QuerySet[Activity]:
    qs = Activity.objects.all()
    return qs if user is None else visible_activities(user, qs)


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
