"""Helpers of the KPI tests: Berlin wall-clock times, a short way to ask the engine."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

from salescope.core import clock
from salescope.kpis import engine
from salescope.kpis.periods import Period

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
#: "now" while the KPIs are read (after every hand-made record was written)
NOW = dt.datetime(2026, 4, 2, 12, 0, tzinfo=BERLIN)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> dt.datetime:
    """An aware instant given as Berlin wall-clock time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def D(text: str) -> Decimal:
    return Decimal(text)


def value(
    key: str,
    *,
    period: Period = MARCH,
    user: Any = None,
    by: str | None = None,
    grain: str | None = None,
    compare: str | None = None,
    filters: dict[str, Any] | None = None,
    currency: str | None = None,
) -> engine.KpiResult:
    """The engine's result, read at :data:`NOW`."""
    with clock.frozen(NOW):
        return engine.compute(
            engine.KpiQuery(
                kpi=key,
                period=period,
                grain=grain,
                by=by,
                filters=filters or {},
                compare=compare,
                currency=currency,
                user=user,
            )
        )


def total(key: str, **kwargs: Any) -> Decimal | None:
    return value(key, **kwargs).total.value


def by_group(key: str, by: str, **kwargs: Any) -> dict[Any, Decimal | None]:
    """``{group id: value}`` of a grouped result (no grain)."""
    result = value(key, by=by, **kwargs)
    return {row.group: row.value for row in result.rows}


def by_bucket(key: str, grain: str, **kwargs: Any) -> dict[dt.date, Decimal | None]:
    result = value(key, grain=grain, **kwargs)
    return {row.bucket: row.value for row in result.rows if row.bucket is not None}


@pytest.fixture
def kpi_now() -> Any:
    with clock.frozen(NOW):
        yield NOW
