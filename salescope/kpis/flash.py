"""Flash figures (K1): the home page tiles, month to date against the same days last month.

Each tile is one KPI of :func:`salescope.kpis.queries.flash_kpis` (the user's choice, else
their role's defaults), computed live by the engine in the user's scope:

- the value **month to date** (the 1st of this month to today, included);
- the value over the **same days of the previous month** (the 1st to the same day number,
  clamped to that month's length: on 31 March, 1–28 February), and the change against it;
- the value for **today** alone.

KPIs measured as of now (open or stale deals) show that one value. Forward-looking KPIs (the
weighted pipeline, by expected close date) show the whole month: what is expected to close
this month. Every number links to the records behind it (the drill-down), which add up to it.

:func:`flash_by_rep` is the same month-to-date figures per rep, for managers and admins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.kpis import engine, periods, queries, render
from salescope.kpis.periods import Period
from salescope.kpis.registry import Kpi
from salescope.kpis.widgets import WidgetSpec
from salescope.org.models import Role, User

#: Time fields that look ahead: a tile shows the whole current month of them.
FORWARD_FIELDS = ("expected_close",)


@dataclass(frozen=True)
class FlashPeriods:
    """The days a tile compares, for ``today``."""

    today: dt.date
    month_to_date: Period
    previous: Period
    day: Period
    month: Period

    @classmethod
    def on(cls, today: dt.date) -> FlashPeriods:
        first = today.replace(day=1)
        same_day_last_month = periods.add_months(today, -1)  # clamped: 31 March -> 28 Feb
        one = dt.timedelta(days=1)
        return cls(
            today=today,
            month_to_date=Period(first, today + one),
            previous=Period(same_day_last_month.replace(day=1), same_day_last_month + one),
            day=Period(today, today + one),
            month=Period(first, periods.add_months(first, 1)),
        )


@dataclass
class Number:
    """One figure of a tile: its value, as people read it, and the records behind it."""

    value: Decimal | None
    display: str
    url: str


@dataclass
class Tile:
    kpi: Kpi
    label: str
    #: what the main number covers ("month to date", "expected to close this month", ...)
    scope: str
    formula: str
    main: Number
    compare: Number | None = None
    today: Number | None = None
    #: change against the comparison: relative, or percentage points for rates (None
    #: without a comparison, or relative from 0)
    change: Decimal | None = None
    change_display: str = ""
    #: "up", "down" or "flat" (no arrow without a change)
    trend: str = ""
    #: whether the change is good news for this KPI (its direction); None when flat/unknown
    good: bool | None = None
    #: why the figure could not be computed (a missing exchange rate ...), else ""
    error: str = ""

    @property
    def key(self) -> str:
        return self.kpi.key


@dataclass
class RepRow:
    user_id: int | None
    name: str
    cells: list[Number | None] = field(default_factory=list)


@dataclass
class RepTable:
    kpis: list[Kpi]
    scopes: list[str]
    rows: list[RepRow]
    totals: list[Number | None]

    @property
    def columns(self) -> list[tuple[Kpi, str]]:
        return list(zip(self.kpis, self.scopes, strict=True))


def records_url() -> str:
    """The drill-down page: the records behind a number."""
    return reverse("kpis:records")


def _kind(kpi: Kpi) -> str:
    """How a tile reads this KPI: ``now`` (snapshot), ``month`` (forward), ``to_date``."""
    if kpi.snapshot or kpi.time_field is None or not kpi.grains:
        return "now"
    if kpi.time_field.path in FORWARD_FIELDS:
        return "month"
    return "to_date"


def _main_period(kind: str, fp: FlashPeriods) -> Period:
    return fp.month if kind == "month" else fp.month_to_date


def _scope_label(kind: str) -> str:
    if kind == "now":
        return _("as of now")
    if kind == "month":
        return _("expected to close this month")
    return _("month to date")


def _url(base: str, kpi: Kpi, period: Period, *, by: str | None = None, group: Any = None) -> str:
    spec = WidgetSpec(kpi=kpi.key, period="custom", start=period.start, end=period.last_day, by=by)
    extra = {"group": "none" if by and group is None else group} if by else {}
    return f"{base}?{spec.querystring(**extra)}"


def _number(kpi: Kpi, result: engine.KpiResult, value: Decimal | None, url: str) -> Number:
    return Number(value=value, display=engine.display(kpi, value, result.currency), url=url)


def _compute(kpi: Kpi, user: User, period: Period, by: str | None = None) -> engine.KpiResult:
    return engine.compute(engine.KpiQuery(kpi=kpi.key, period=period, by=by, user=user))


def flash_tiles(user: User, *, today: dt.date | None = None) -> list[Tile]:
    """The user's flash tiles on ``today`` (default: today in the company time zone)."""
    fp = FlashPeriods.on(today or clock.today())
    base = records_url()
    tiles: list[Tile] = []
    for kpi in queries.flash_kpis(user):
        try:
            tiles.append(_tile(kpi, user, fp, base))
        except ValidationError as exc:
            kind = _kind(kpi)
            period = _main_period(kind, fp)
            tiles.append(
                Tile(
                    kpi=kpi,
                    label=str(kpi.name),
                    scope=_scope_label(kind),
                    formula=str(kpi.formula),
                    main=Number(None, "–", _url(base, kpi, period)),
                    error=" ".join(str(m) for m in exc.messages),
                )
            )
    return tiles


def _tile(kpi: Kpi, user: User, fp: FlashPeriods, base: str) -> Tile:
    kind = _kind(kpi)
    period = _main_period(kind, fp)
    result = _compute(kpi, user, period)
    value = result.total.value
    tile = Tile(
        kpi=kpi,
        label=str(kpi.name),
        scope=_scope_label(kind),
        formula=str(kpi.formula),
        main=_number(kpi, result, value, _url(base, kpi, period)),
    )
    if kind == "to_date":
        previous = _compute(kpi, user, fp.previous)
        day = _compute(kpi, user, fp.day)
        c_value = previous.total.value
        tile.compare = _number(kpi, previous, c_value, _url(base, kpi, fp.previous))
        tile.today = _number(kpi, day, day.total.value, _url(base, kpi, fp.day))
        change = render.change_between(kpi, value, c_value, result.currency)
        if change is not None:
            tile.change = change.value
            tile.change_display = change.text
            tile.trend = "up" if change.value > 0 else ("down" if change.value < 0 else "flat")
            if change.value != 0:
                tile.good = change.good
    return tile


def _empty(kpi: Kpi) -> Decimal | None:
    """A rep without records: 0 for counts and sums, no value for rates and averages."""
    additive = ("count", "count_distinct", "sum")
    return Decimal(0) if not kpi.is_derived and kpi.aggregate in additive else None


def may_see_reps(user: User) -> bool:
    """Managers and administrators see the flash figures per rep."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN))
    )


def _reps_in_scope(user: User) -> dict[int, str]:
    """``{id: name}`` of the active sales people whose figures ``user`` sees."""
    from salescope.visibility import owner_ids, sees_everything

    qs = User.objects.filter(is_active=True)
    if sees_everything(user):
        qs = qs.filter(Q(role__in=(Role.REP, Role.MANAGER)) | Q(pk=user.pk))
    else:
        qs = qs.filter(pk__in=owner_ids(user))
    return {u.pk: u.display_name for u in qs.only("pk", "first_name", "last_name", "username")}


def flash_by_rep(user: User, *, today: dt.date | None = None) -> RepTable:
    """Month-to-date figures of the user's tile KPIs, per rep in their scope (one grouped
    query per KPI); each cell links to its records."""
    fp = FlashPeriods.on(today or clock.today())
    base = records_url()
    kpis = queries.flash_kpis(user)
    names = _reps_in_scope(user)
    per_kpi: list[tuple[Kpi, Period, engine.KpiResult | None]] = []
    for kpi in kpis:
        period = _main_period(_kind(kpi), fp)
        if "rep" not in kpi.dimensions:
            per_kpi.append((kpi, period, None))
            continue
        try:
            result = _compute(kpi, user, period, by="rep")
        except ValidationError:  # e.g. a missing exchange rate: shown on the tile
            per_kpi.append((kpi, period, None))
            continue
        for group, label in result.groups:
            if group not in names:
                names[group] = label
        per_kpi.append((kpi, period, result))
    rows = {pk: RepRow(user_id=pk, name=name) for pk, name in names.items()}
    totals: list[Number | None] = []
    for kpi, period, found in per_kpi:
        if found is None:
            for row in rows.values():
                row.cells.append(None)
            totals.append(None)
            continue
        result = found
        values = {cell.group: cell.value for cell in result.rows}
        empty = engine.quantize(kpi, _empty(kpi))
        for pk, row in rows.items():
            value = values.get(pk, empty)
            row.cells.append(
                _number(kpi, result, value, _url(base, kpi, period, by="rep", group=pk))
            )
        totals.append(_number(kpi, result, result.total.value, _url(base, kpi, period)))
    ordered = sorted(rows.values(), key=lambda r: (r.user_id is None, r.name.lower()))
    return RepTable(
        kpis=kpis,
        scopes=[_scope_label(_kind(k)) for k in kpis],
        rows=ordered,
        totals=totals,
    )
