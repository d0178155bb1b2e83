"""The KPI registry: every KPI declared once, with what it means and how to compute it.

A *base* KPI names a subject (``opportunity``, ``event``, ``activity``), the time field the
period filters on, a query builder returning the records that count (already limited to the
user's scope) with the measured value annotated as ``v`` where needed, and an aggregate
(count, distinct count, sum, average, median). A *derived* KPI names its inputs by key and a
formula function applied to the inputs' values cell by cell (same group, same bucket).

Later issues add KPIs with :func:`register` from their own modules; the catalogue of this
issue is in :mod:`salescope.kpis.catalogue`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from salescope.kpis.dimensions import DIMENSION_KEYS

UNITS = ("count", "money", "percent", "days", "hours", "ratio", "per_day")
DIRECTIONS = ("higher", "lower")
KINDS = ("count", "sum", "average", "median", "ratio", "derived")
AGGREGATES = ("count", "count_distinct", "sum", "average", "median")

#: Decimal places of values per unit (money in cents; counts whole; rates 6 places).
PLACES = {
    "count": 0,
    "money": 2,
    "percent": 6,
    "ratio": 6,
    "days": 3,
    "hours": 2,
    "per_day": 2,
}


@dataclass(frozen=True)
class TimeField:
    """The field a period filters on: a column (or annotation) of the subject."""

    path: str
    is_date: bool
    label: str

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Context:
    """What a query builder needs: whose scope, the period, the clock, the currencies."""

    user: Any  # org.User, or None for the system (command line without --as)
    start: dt.date
    end: dt.date  # excluded
    lo: dt.datetime  # aware UTC instant of ``start`` midnight in the company time zone
    hi: dt.datetime
    now: dt.datetime
    today: dt.date
    currency: str  # the currency money is reported in
    company_currency: str
    stale_after_days: int


QueryBuilder = Callable[[Context], QuerySet[Any]]
Formula = Callable[..., Decimal | None]


@dataclass(frozen=True)
class Kpi:
    key: str
    name: Promise | str
    description: Promise | str
    formula: Promise | str
    unit: str
    direction: str
    kind: str
    dimensions: tuple[str, ...]
    time_field: TimeField | None = None
    subject: str = "opportunity"
    #: base KPIs: the records that count, scoped to ``ctx.user`` (value annotated as ``v``)
    query: QueryBuilder | None = None
    aggregate: str = "count"
    #: for ``count_distinct``: the column counted once
    distinct: str = "pk"
    #: derived KPIs: the input keys and the formula over their values (same order)
    inputs: tuple[str, ...] = ()
    combine: Formula | None = None
    #: derived over a window: the formula gets the input's monthly values of the
    #: ``window_months`` months ending with each bucket (regularity)
    window_months: int = 0
    #: a base KPI's aggregated value is divided by this (minutes summed, hours reported)
    per: int = 1
    #: the records behind a derived KPI's number: those of this input
    records_from: str | None = None
    grains: bool = True
    #: as of now, whatever the period (open pipeline, stale deals)
    snapshot: bool = False
    rules: tuple[Promise | str, ...] = ()
    category: str = "outcomes"
    order: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        problems = []
        if self.unit not in UNITS:
            problems.append(f"unit {self.unit!r}")
        if self.direction not in DIRECTIONS:
            problems.append(f"direction {self.direction!r}")
        if self.kind not in KINDS:
            problems.append(f"kind {self.kind!r}")
        if self.aggregate not in AGGREGATES:
            problems.append(f"aggregate {self.aggregate!r}")
        unknown = set(self.dimensions) - set(DIMENSION_KEYS)
        if unknown:
            problems.append(f"dimensions {sorted(unknown)}")
        if self.is_derived and not (self.inputs and self.combine):
            problems.append("a derived KPI needs inputs and a formula")
        if not self.is_derived and self.query is None:
            problems.append("a base KPI needs a query builder")
        if problems:
            raise ValueError(f"KPI {self.key}: invalid " + ", ".join(problems))

    @property
    def is_derived(self) -> bool:
        return self.kind in ("ratio", "derived") and self.query is None

    @property
    def places(self) -> int:
        return PLACES[self.unit]


_REGISTRY: dict[str, Kpi] = {}


def register(kpi: Kpi) -> Kpi:
    """Add ``kpi`` to the catalogue (a KPI key is declared exactly once)."""
    if kpi.key in _REGISTRY and _REGISTRY[kpi.key] is not kpi:
        raise ValueError(f"KPI {kpi.key!r} is already registered")
    for key in kpi.inputs:
        if key not in _REGISTRY:
            raise ValueError(f"KPI {kpi.key!r}: input {key!r} must be registered first")
    if kpi.key not in _REGISTRY:
        object.__setattr__(kpi, "order", len(_REGISTRY))
    _REGISTRY[kpi.key] = kpi
    return kpi


def _load() -> None:
    import salescope.kpis.catalogue  # noqa: F401  (registers the catalogue)


def all_kpis() -> list[Kpi]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda k: k.order)


def get(key: str) -> Kpi:
    """The KPI named ``key`` or a ValidationError naming the field ``kpi``."""
    _load()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValidationError({"kpi": [_("Unknown KPI %(key)r.") % {"key": key}]}) from None


def exists(key: str) -> bool:
    _load()
    return key in _REGISTRY


def keys() -> Sequence[str]:
    return [k.key for k in all_kpis()]
