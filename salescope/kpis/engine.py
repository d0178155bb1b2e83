"""The KPI engine: one way to compute any registered KPI, in the database.

:func:`compute` takes a :class:`KpiQuery` (KPI, period, grain, dimension, filters,
comparison, currency, user) and returns a :class:`KpiResult`: one cell per group and bucket,
per-group totals, the overall total, each with the comparison period's value. A value of
``None`` means *no value* (an average of nothing, a rate whose denominator is 0), never 0.

For a base KPI the engine runs one aggregate query per grouping (cells, group totals,
overall total): the KPI's records (already in the user's scope), filtered by the period on
its time field and by the filters, grouped by the dimension's column and the bucket of the
time field (``Trunc…`` in the company time zone; fiscal buckets as integer month
arithmetic), aggregated with ``COUNT``/``SUM``/``percentile_cont``. Derived KPIs combine
their inputs' values cell by cell; an input that does not support the dimension (deals won
by activity type) or the grain (open pipeline, as of now) contributes its total to every
cell.

:func:`records` returns the records behind any cell, whose count (or sum of ``v``) equals
the cell's value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import statistics
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import (
    ExtractMonth,
    ExtractYear,
    TruncDate,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
)
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.kpis import dimensions as dims
from salescope.kpis import periods, registry
from salescope.kpis.periods import Period
from salescope.kpis.registry import Context, Kpi
from salescope.kpis.selectors import Median

Key = tuple[Any, dt.date | None]
Values = dict[Key, Decimal | None]


@dataclass(frozen=True)
class KpiQuery:
    kpi: str
    period: Period
    grain: str | None = None
    by: str | None = None
    filters: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    compare: str | None = None
    currency: str | None = None
    user: Any = None


@dataclass
class Cell:
    group: Any
    group_label: str
    bucket: dt.date | None
    bucket_label: str
    value: Decimal | None
    compare: Decimal | None = None

    @property
    def change(self) -> Decimal | None:
        """Relative change against the comparison (None without one or from 0)."""
        if self.value is None or self.compare in (None, 0):
            return None
        assert self.compare is not None
        return ((self.value - self.compare) / abs(self.compare)).quantize(Decimal("0.000001"))


@dataclass
class KpiResult:
    kpi: Kpi
    query: KpiQuery
    currency: str | None
    period: Period
    compare_period: Period | None
    buckets: list[dt.date]
    groups: list[tuple[Any, str]]
    rows: list[Cell]
    group_totals: list[Cell]
    total: Cell


# --- building the query -------------------------------------------------------------------


def context(
    *, user: Any, period: Period, currency: str | None = None, now: dt.datetime | None = None
) -> Context:
    from salescope.org.selectors import company_settings

    return _context(company_settings(), user=user, period=period, currency=currency, now=now)


def _context(
    settings: Any,
    *,
    user: Any,
    period: Period,
    currency: str | None = None,
    now: dt.datetime | None = None,
) -> Context:
    """The context from the company settings already read (one read per computation)."""
    company = str(settings.currency_id)
    lo, hi = period.bounds()
    now = now or clock.now()
    return Context(
        user=user,
        start=period.start,
        end=period.end,
        lo=lo,
        hi=hi,
        now=now,
        today=clock.today(),
        currency=currency or company,
        company_currency=company,
        stale_after_days=int(settings.stale_after_days),
    )


def _within(ctx: Context, period: Period) -> Context:
    """``ctx`` for another period (same user, clock and currencies)."""
    lo, hi = period.bounds()
    return dataclasses.replace(ctx, start=period.start, end=period.end, lo=lo, hi=hi)


def check_query(query: KpiQuery) -> Kpi:
    """The KPI of ``query`` after checking every part against it (ValidationError)."""
    kpi = registry.get(query.kpi)
    errors: dict[str, list[str]] = {}
    if query.by is not None:
        dims.get(query.by)
        if query.by not in kpi.dimensions:
            errors["by"] = [
                _("%(kpi)s cannot be grouped by %(dimension)s; use one of %(allowed)s.")
                % {"kpi": kpi.key, "dimension": query.by, "allowed": ", ".join(kpi.dimensions)}
            ]
    if query.grain is not None:
        periods.check_grain(query.grain)
        if not kpi.grains:
            errors["grain"] = [
                _("%(kpi)s is measured as of now and has no period grain.") % {"kpi": kpi.key}
            ]
    periods.check_compare(query.compare)
    for key in query.filters:
        if key not in kpi.dimensions:
            errors[f"filter.{key}"] = [
                _("%(kpi)s cannot be filtered by %(dimension)s; use one of %(allowed)s.")
                % {"kpi": kpi.key, "dimension": key, "allowed": ", ".join(kpi.dimensions)}
            ]
    if query.currency is not None:
        from salescope.org.models import Currency

        code = str(query.currency)
        valid = len(code) == 3 and code.isascii() and code.isalpha()
        if not valid or not Currency.objects.filter(code=code).exists():
            errors["currency"] = [_("Unknown currency %(code)r.") % {"code": query.currency}]
    if errors:
        raise ValidationError(errors)
    return kpi


def parse_filters(raw: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{dimension: values}`` from user input (lists or comma-separated text), checked."""
    parsed: dict[str, list[Any]] = {}
    for key, values in raw.items():
        dimension = dims.dimensions().get(key)
        if dimension is None:
            raise ValidationError(
                {f"filter.{key}": [_("Unknown dimension %(value)r; use one of %(allowed)s.") % {
                    "value": key, "allowed": ", ".join(dims.DIMENSION_KEYS)}]}
            )  # fmt: skip
        items = values.split(",") if isinstance(values, str) else list(values)
        parsed[key] = dimension.parse(items)
    return parsed


def _bucket_expr(kpi: Kpi, grain: str, fiscal_month: int) -> Any:
    tf = kpi.time_field
    assert tf is not None
    tz = None if tf.is_date else periods.company_tz()
    path = tf.path
    if grain in ("fiscal_quarter", "fiscal_year"):
        months = ExtractYear(path, tzinfo=tz) * 12 + ExtractMonth(path, tzinfo=tz) - fiscal_month
        return months / (3 if grain == "fiscal_quarter" else 12)
    if grain == "day":
        return F(path) if tf.is_date else TruncDate(path, tzinfo=tz)
    trunc = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}
    return trunc[grain](path, tzinfo=tz)


def _bucket_value(raw: Any, grain: str, fiscal_month: int) -> dt.date:
    if grain == "fiscal_quarter":
        return periods.from_month_index(int(raw) * 3 + fiscal_month - 1)
    if grain == "fiscal_year":
        return periods.from_month_index(int(raw) * 12 + fiscal_month - 1)
    if isinstance(raw, dt.datetime):
        if raw.tzinfo is not None:
            raw = raw.astimezone(periods.company_tz())
        return raw.date()
    if isinstance(raw, str):
        return dt.date.fromisoformat(raw[:10])
    assert isinstance(raw, dt.date)
    return raw


#: Up to this many buckets, a record's bucket is found by comparing its time with the buckets'
#: boundaries (a CASE in SQL, fast on both databases); beyond, by truncating it (``Trunc``).
CASE_BUCKETS = 64


def _bucket_case(kpi: Kpi, ctx: Context, grain: str, fiscal_month: int) -> tuple[Any, Any]:
    """(expression, decode): the record's bucket as an index into the period's buckets.

    The boundaries are the buckets' first days (dates for a date field, else the UTC
    instants of midnight in the company time zone), so the result equals truncation in
    the company time zone without converting every record's time.
    """
    tf = kpi.time_field
    assert tf is not None
    starts = periods.buckets(Period(ctx.start, ctx.end), grain, fiscal_month)
    if len(starts) > CASE_BUCKETS or kpi.snapshot:
        expr = _bucket_expr(kpi, grain, fiscal_month)
        return expr, lambda raw: _bucket_value(raw, grain, fiscal_month)
    if len(starts) == 1:
        return Value(0, output_field=IntegerField()), lambda raw: starts[0]
    whens = []
    for i, first in enumerate(starts[1:]):
        bound: Any = (
            first if tf.is_date else Period(first, first + dt.timedelta(days=1)).bounds()[0]
        )
        whens.append(When(**{f"{tf.path}__lt": bound}, then=Value(i)))
    expr = Case(*whens, default=Value(len(starts) - 1), output_field=IntegerField())
    return expr, lambda raw: starts[int(raw)]


def _filtered(kpi: Kpi, ctx: Context, filters: Mapping[str, list[Any]]) -> QuerySet[Any]:
    assert kpi.query is not None
    qs = kpi.query(ctx)
    tf = kpi.time_field
    if tf is not None and not kpi.snapshot:
        lo: Any = ctx.start if tf.is_date else ctx.lo
        hi: Any = ctx.end if tf.is_date else ctx.hi
        qs = qs.filter(**{f"{tf.path}__gte": lo, f"{tf.path}__lt": hi})
    for key, values in filters.items():
        qs = dims.get(key).filter(qs, kpi.subject, values)
    return qs


def _to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - NaN from a database function
        return None


def _raise_missing_rate(qs: QuerySet[Any]) -> None:
    row = qs.filter(v__isnull=True).values_list("_ccy", "_day").first()
    if row is None:  # pragma: no cover - the count said otherwise
        return
    currency, day = row
    from salescope.org.selectors import company_currency

    raise ValidationError(
        {
            "currency": [
                _(
                    "No exchange rate for %(currency)s on or before %(day)s: add one "
                    "(with the company currency %(company)s) to convert these amounts."
                )
                % {"currency": currency, "day": day, "company": company_currency()}
            ]
        }
    )


def _base_values(
    kpi: Kpi,
    ctx: Context,
    filters: Mapping[str, list[Any]],
    by: str | None,
    grain: str | None,
    fiscal_month: int,
) -> Values:
    """One aggregate query: ``{(group, bucket): value}`` for the groups and buckets found."""
    qs = _filtered(kpi, ctx, filters).order_by()
    names: list[str] = []
    if by is not None:
        qs = qs.annotate(_g=F(dims.get(by).path(kpi.subject)))
        names.append("_g")
    decode: Any = None
    if grain is not None:
        expr, decode = _bucket_case(kpi, ctx, grain, fiscal_month)
        qs = qs.annotate(_b=expr)
        names.append("_b")
    money = kpi.unit == "money"

    def key(row: Mapping[str, Any]) -> Key:
        group = row["_g"] if by is not None else None
        bucket = decode(row["_b"]) if grain is not None else None
        return group, bucket

    result: Values = {}
    if kpi.aggregate == "median" and connection.vendor != "postgresql":
        if money and qs.filter(v__isnull=True).exists():
            _raise_missing_rate(qs)
        for row in _middle_rows(qs, names):
            values = row.pop("_middle")
            result[key(row)] = statistics.median(values)
        return _per(kpi, result)

    aggs: dict[str, Any] = {}
    if kpi.aggregate == "count":
        aggs["value"] = Count("pk")
    elif kpi.aggregate == "count_distinct":
        aggs["value"] = Count(kpi.distinct, distinct=True)
    elif kpi.aggregate == "sum":
        aggs["value"] = Sum("v")
    elif kpi.aggregate == "average":
        aggs["value"] = Sum("v")
        aggs["n"] = Count("v")
    elif kpi.aggregate == "median":
        aggs["value"] = Median("v")
    if money:
        aggs["missing"] = Count("pk", filter=Q(v__isnull=True))
    rows = qs.values(*names).annotate(**aggs) if names else [qs.aggregate(**aggs)]
    for row in rows:
        if money and row.get("missing"):
            _raise_missing_rate(qs)
        value = _to_decimal(row["value"])
        if kpi.aggregate == "average":
            n = row["n"] or 0
            value = None if n == 0 or value is None else value / n
        elif kpi.aggregate in ("count", "count_distinct", "sum") and value is None:
            value = Decimal(0)
        if not names and kpi.aggregate in ("average", "median") and value is None:
            result[(None, None)] = None
            continue
        result[key(row)] = value
    return _per(kpi, result)


def _middle_rows(qs: QuerySet[Any], names: list[str]) -> list[dict[str, Any]]:
    """Per group of ``names``: the one or two middle values of ``v`` (SQLite medians).

    The database numbers each group's values in order and returns only the middle ones
    (row ``(n + 1) / 2`` and ``(n + 2) / 2``), so no group's values travel to Python.
    """
    inner, params = qs.values(*names, "v").order_by().query.sql_with_params()
    quoted = [connection.ops.quote_name(n) for n in names]
    partition = f"PARTITION BY {', '.join(quoted)}" if quoted else ""
    columns = ", ".join([*quoted, '"v"'])
    sql = (
        f"SELECT {columns} FROM (SELECT {columns}, "
        f'ROW_NUMBER() OVER ({partition} ORDER BY "v") AS "_rn", '
        f'COUNT(*) OVER ({partition}) AS "_n" '
        f'FROM ({inner}) "_values" WHERE "v" IS NOT NULL) "_ranked" '
        f'WHERE "_rn" IN (("_n" + 1) / 2, ("_n" + 2) / 2)'
    )
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for *group, value in cursor.fetchall():
            row = rows.setdefault(tuple(group), {**dict(zip(names, group, strict=True))})
            row.setdefault("_middle", []).append(Decimal(str(value)))
    return list(rows.values())


def _per(kpi: Kpi, values: Values) -> Values:
    if kpi.per == 1:
        return values
    return {k: None if v is None else v / kpi.per for k, v in values.items()}


def _empty(kpi: Kpi) -> Decimal | None:
    """The value of a base KPI over no records: 0 for counts and sums, else no value."""
    if not kpi.is_derived and kpi.aggregate in ("count", "count_distinct", "sum"):
        return Decimal(0)
    return None


def _values(
    kpi: Kpi,
    ctx: Context,
    filters: Mapping[str, list[Any]],
    by: str | None,
    grain: str | None,
    fiscal_month: int,
    cache: dict[Any, Values],
) -> Values:
    memo = (kpi.key, by, grain, ctx.start, ctx.end)
    if memo in cache:
        return cache[memo]
    rolled = _rollup(kpi, ctx, by, grain, cache)
    if rolled is not None:
        result = rolled
    elif not kpi.is_derived:
        result = _base_values(kpi, ctx, filters, by, grain, fiscal_month)
    elif kpi.window_months:
        result = _window_values(kpi, ctx, filters, by, grain, fiscal_month, cache)
    else:
        result = _derived_values(kpi, ctx, filters, by, grain, fiscal_month, cache)
    cache[memo] = result
    return result


def _additive(kpi: Kpi, by: str, over_buckets: bool) -> bool:
    """Whether the values of ``kpi`` per ``by`` (and bucket) add up to the coarser value.

    Counts and sums do when every record has exactly one value of the dimension (not a
    multi-valued one such as product) and one bucket. A count of distinct deals adds up over
    a dimension that is an attribute of the deal, never over buckets (a deal pushed in two
    weeks counts in each).
    """
    if kpi.is_derived or kpi.per != 1:
        return False
    dimension = dims.get(by)
    if dimension.multi:
        return False
    if kpi.aggregate in ("count", "sum"):
        return True
    if kpi.aggregate == "count_distinct" and not over_buckets:
        path = dimension.path(kpi.subject)
        return kpi.distinct == "opportunity_id" and path.startswith("opportunity__")
    return False


def _rollup(
    kpi: Kpi, ctx: Context, by: str | None, grain: str | None, cache: dict[Any, Values]
) -> Values | None:
    """The values per ``by`` (or the total) added up from finer values already computed."""
    if kpi.is_derived or grain is not None:
        return None
    for (key, c_by, c_grain, start, end), values in list(cache.items()):
        if key != kpi.key or (start, end) != (ctx.start, ctx.end) or c_by is None:
            continue
        if by is not None and c_by != by:
            continue
        if c_grain is None and by is not None:
            continue
        if not _additive(kpi, c_by, over_buckets=c_grain is not None):
            continue
        result: Values = {}
        for (g, _b), value in values.items():
            k = (g if by is not None else None, None)
            result[k] = (result.get(k) or Decimal(0)) + (value or Decimal(0))
        if by is None:
            result.setdefault((None, None), Decimal(0))
        return result
    return None


def _input_filters(inp: Kpi, filters: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: v for k, v in filters.items() if k in inp.dimensions}


def _derived_values(
    kpi: Kpi,
    ctx: Context,
    filters: Mapping[str, list[Any]],
    by: str | None,
    grain: str | None,
    fiscal_month: int,
    cache: dict[Any, Values],
) -> Values:
    assert kpi.combine is not None
    inputs = [registry.get(k) for k in kpi.inputs]
    parts: list[tuple[Kpi, Values, bool, bool]] = []
    for inp in inputs:
        inp_by = by if by in inp.dimensions else None
        inp_grain = grain if inp.grains else None
        values = _values(
            inp, ctx, _input_filters(inp, filters), inp_by, inp_grain, fiscal_month, cache
        )
        parts.append((inp, values, inp_by is None and by is not None, inp_grain is None))
    keys: set[Key] = set()
    for _inp, values, flat_group, flat_bucket in parts:
        if not (flat_group and flat_bucket):
            for g, b in values:
                keys.add((None if flat_group else g, None if flat_bucket else b))
    if by is None and grain is None:
        keys = {(None, None)}
    result: Values = {}
    for g, b in keys:
        args = []
        for inp, values, flat_group, flat_bucket in parts:
            k = (None if flat_group else g, None if flat_bucket else b)
            args.append(values.get(k, _empty(inp)))
        result[(g, b)] = kpi.combine(*args)
    return result


def _window_values(
    kpi: Kpi,
    ctx: Context,
    filters: Mapping[str, list[Any]],
    by: str | None,
    grain: str | None,
    fiscal_month: int,
    cache: dict[Any, Values],
) -> Values:
    """A value over the ``window_months`` months ending with each bucket (or the period)."""
    assert kpi.combine is not None
    inp = registry.get(kpi.inputs[0])
    period = Period(ctx.start, ctx.end)
    ends = (
        [(b, periods.next_bucket(b, grain)) for b in periods.buckets(period, grain, fiscal_month)]
        if grain is not None
        else [(None, period.end)]
    )
    windows: dict[dt.date | None, list[dt.date]] = {}
    for bucket, end in ends:
        last_month = (min(end, period.end) - dt.timedelta(days=1)).replace(day=1)
        first = periods.add_months(last_month, -(kpi.window_months - 1))
        windows[bucket] = list(periods.iter_months(first, kpi.window_months))
    first_month = min(m[0] for m in windows.values())
    last_month = max(m[-1] for m in windows.values())
    wide = Period(first_month, periods.add_months(last_month, 1))
    wide_ctx = _within(ctx, wide)
    monthly = _values(inp, wide_ctx, _input_filters(inp, filters), by, "month", fiscal_month, cache)
    groups = {g for g, _b in monthly} if by is not None else {None}
    result: Values = {}
    for bucket, months in windows.items():
        for g in groups:
            series = [monthly.get((g, m), _empty(inp)) or Decimal(0) for m in months]
            if by is not None and not any(series):
                continue
            result[(g, bucket)] = kpi.combine(series)
    return result


_session = threading.local()


@contextlib.contextmanager
def _analytic_session() -> Iterator[None]:
    """On PostgreSQL, KPI queries run without JIT compilation (once per connection).

    Their estimated costs on large tables make PostgreSQL compile them to machine code,
    which takes longer (up to seconds) than running these short aggregates.
    """
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = id(connection.connection)
        if getattr(_session, "jit_off", None) != raw:
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            _session.jit_off = raw
    yield


# --- the result -----------------------------------------------------------------------------


def quantize(kpi: Kpi, value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-kpi.places), rounding=ROUND_HALF_UP)


def compute(query: KpiQuery) -> KpiResult:
    """The KPI's cells, group totals and total for ``query`` (and its comparison period)."""
    from salescope.org.selectors import company_settings

    kpi = check_query(query)
    filters = parse_filters(query.filters)
    settings = company_settings()
    fiscal_month = int(settings.fiscal_year_start_month)
    grain = query.grain
    by = query.by
    compare_period = None if kpi.snapshot else query.period.comparison(query.compare)

    def run(period: Period) -> tuple[Values, Values, Values]:
        ctx = _context(settings, user=query.user, period=period, currency=query.currency)
        cache: dict[Any, Values] = {}
        cells = (
            _values(kpi, ctx, filters, by, grain, fiscal_month, cache)
            if (by is not None or grain is not None)
            else {}
        )
        group_totals = (
            _values(kpi, ctx, filters, by, None, fiscal_month, cache)
            if by is not None and grain is not None
            else {}
        )
        total = _values(kpi, ctx, filters, None, None, fiscal_month, cache)
        return cells, group_totals, total

    with _analytic_session():
        cells, group_totals, total = run(query.period)
        if compare_period is not None:
            c_cells, c_group_totals, c_total = run(compare_period)
        else:
            c_cells, c_group_totals, c_total = {}, {}, {}
    bucket_list = periods.buckets(query.period, grain, fiscal_month) if grain is not None else []
    shift: dict[dt.date, dt.date] = {}
    if compare_period is not None:
        c_buckets = periods.buckets(compare_period, grain, fiscal_month) if grain else []
        shift = dict(zip(bucket_list, c_buckets, strict=False))

    dimension = dims.get(by) if by is not None else None
    group_keys = {g for g, _b in cells} | {g for g, _b in group_totals}
    labels = dims.group_labels(dimension, group_keys)
    groups = sorted(
        ((g, labels.get(g, str(g))) for g in group_keys),
        key=lambda item: (item[0] is None, item[1].lower(), str(item[0])),
    ) if by is not None else []  # fmt: skip
    empty = _empty(kpi)

    def cell(
        g: Any, b: dt.date | None, values: Values, c_values: Values, has_compare: bool
    ) -> Cell:
        c_key = (g, shift.get(b) if b is not None else None)
        return Cell(
            group=g,
            group_label=labels.get(g, "") if by is not None else "",
            bucket=b,
            bucket_label=periods.bucket_label(b, grain, fiscal_month) if b else "",
            value=quantize(kpi, values.get((g, b), empty)),
            compare=quantize(kpi, c_values.get(c_key, empty)) if has_compare else None,
        )

    has_compare = compare_period is not None
    rows: list[Cell] = []
    row_groups = [g for g, _l in groups] if by is not None else [None]
    row_buckets: list[dt.date | None] = list(bucket_list) if grain is not None else [None]
    if by is not None or grain is not None:
        for g in row_groups:
            for b in row_buckets:
                rows.append(cell(g, b, cells, c_cells, has_compare))
    totals_rows = (
        [cell(g, None, group_totals, c_group_totals, has_compare) for g in row_groups]
        if by is not None and grain is not None
        else []
    )
    overall = cell(None, None, total, c_total, has_compare)
    return KpiResult(
        kpi=kpi,
        query=query,
        currency=(query.currency or str(settings.currency_id))
        if kpi.unit in ("money", "per_day")
        else None,
        period=query.period,
        compare_period=compare_period,
        buckets=bucket_list,
        groups=groups,
        rows=rows,
        group_totals=totals_rows,
        total=overall,
    )


def context_currency() -> str:
    from salescope.org.selectors import company_currency

    return company_currency()


# --- drill-down -------------------------------------------------------------------------------


@dataclass
class Records:
    """The records behind a number: ``queryset`` of ``model``; ``v`` holds money values."""

    kpi: Kpi
    queryset: QuerySet[Any]
    value_field: str | None

    def total(self) -> Decimal:
        """The records' count (count KPIs) or the sum of their value."""
        if self.value_field is None:
            return Decimal(self.queryset.count())
        total = self.queryset.aggregate(s=Sum(self.value_field))["s"]
        return (_to_decimal(total) or Decimal(0)) / self.kpi.per


_ANY = object()


def records(query: KpiQuery, *, group: Any = _ANY, bucket: dt.date | None = None) -> Records:
    """The records behind one cell of ``query`` (``group`` of ``query.by``, ``bucket``).

    For a count the number of records equals the value; for a sum, the sum of ``v``; for an
    average or median, the records whose values it is taken from; for a derived KPI, the
    records of its ``records_from`` input (e.g. the closed deals of a win rate).
    """
    kpi = check_query(query)
    filters = parse_filters(query.filters)
    while kpi.is_derived:
        kpi = registry.get(kpi.records_from or kpi.inputs[0])
    period = query.period
    ctx = context(user=query.user, period=period, currency=query.currency)
    qs = _filtered(kpi, ctx, {k: v for k, v in filters.items() if k in kpi.dimensions})
    if group is not _ANY and query.by is not None and query.by in kpi.dimensions:
        qs = dims.get(query.by).filter(qs, kpi.subject, [group])
    tf = kpi.time_field
    if bucket is not None and query.grain is not None and kpi.grains and tf is not None:
        # The records of the whole period whose time falls in the bucket, the way the cell
        # was counted: making the bucket the period would change what "the first entry into
        # a stage in the period" means for the funnel.
        part = Period(
            max(bucket, period.start), min(periods.next_bucket(bucket, query.grain), period.end)
        )
        lo, hi = (part.start, part.end) if tf.is_date else part.bounds()
        qs = qs.filter(**{f"{tf.path}__gte": lo, f"{tf.path}__lt": hi})
    if kpi.aggregate == "count_distinct":
        from salescope.pipeline.models import Opportunity

        column = kpi.distinct
        ids = qs.order_by().values(column)
        return Records(kpi, Opportunity.objects.filter(pk__in=ids), None)
    value_field = "v" if kpi.aggregate in ("sum",) else None
    return Records(kpi, qs, value_field)


def display(kpi: Kpi, value: Decimal | None, currency: str | None = None) -> str:
    """A value as people read it, in the active locale (– for no value)."""
    from salescope.core import formatting

    if value is None:
        return "–"
    if kpi.unit == "money":
        return formatting.money(value, currency)
    if kpi.unit == "percent":
        return formatting.percent(value, digits=1)
    if kpi.unit == "count":
        return formatting.number(value, digits=0)
    if kpi.unit == "per_day":
        return _("%(amount)s per day") % {"amount": formatting.money(value, currency)}
    if kpi.unit == "days":
        return _("%(n)s days") % {"n": formatting.number(value, digits=1)}
    if kpi.unit == "hours":
        return _("%(n)s h") % {"n": formatting.number(value, digits=2)}
    return formatting.number(value, digits=2)
