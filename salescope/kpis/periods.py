"""Periods, grains and comparison periods of the KPI engine.

A :class:`Period` is a half-open range of calendar days ``[start, end)`` in the company time
zone (``settings.TIME_ZONE``). Date fields (close date, expected close) are compared with the
dates themselves; datetime fields (created, event and activity times, stored in UTC) with the
aware UTC instants of midnight in the company time zone (:meth:`Period.bounds`), so a deal
closed at 23:30 in Berlin on 31 March counts in March.

Grains cut a period into buckets: day, ISO week (from Monday), month, quarter, year, and the
fiscal quarter and fiscal year, which start in the month
``CompanySettings.fiscal_year_start_month``.
A bucket is named by its first day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from salescope.core.errors import field_error

GRAINS: tuple[str, ...] = (
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "fiscal_quarter",
    "fiscal_year",
)
COMPARES: tuple[str, ...] = ("previous", "year")
MIN_DAY = dt.date(1990, 1, 1)
MAX_DAY = dt.date(2100, 12, 31)
#: The most buckets one query may ask for (e.g. 20 years by day would be refused).
MAX_BUCKETS = 1500


def company_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def fiscal_start_month() -> int:
    from salescope.org.selectors import company_settings

    return int(company_settings().fiscal_year_start_month)


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def from_month_index(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (the day clamped to the month's length)."""
    index = month_index(day) + months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """Days ``start`` (included) to ``end`` (excluded), in the company time zone."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise field_error("to", _("The period must end on or after its first day."))

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware UTC instants of midnight (company time zone) at ``start`` and ``end``."""
        tz = company_tz()
        return (
            dt.datetime.combine(self.start, dt.time(), tzinfo=tz).astimezone(dt.UTC),
            dt.datetime.combine(self.end, dt.time(), tzinfo=tz).astimezone(dt.UTC),
        )

    @property
    def whole_months(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    def comparison(self, compare: str | None) -> Period | None:
        """The period to compare with: ``previous`` (same length just before) or ``year``.

        A period of whole months compares with the same number of whole months (February
        after January); another period with the same number of days just before it.
        """
        if compare is None:
            return None
        if compare == "previous":
            if self.whole_months:
                months = month_index(self.end) - month_index(self.start)
                return Period(add_months(self.start, -months), self.start)
            return Period(self.start - dt.timedelta(days=self.days), self.start)
        if compare == "year":
            return Period(add_months(self.start, -12), add_months(self.end, -12))
        raise field_error("compare", _("Unknown comparison %(value)r.") % {"value": compare})

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"


def month_period(day: dt.date) -> Period:
    first = day.replace(day=1)
    return Period(first, add_months(first, 1))


def parse_day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise field_error(
                field,
                _("%(field)s: %(value)r is not a date (use YYYY-MM-DD).")
                % {"field": field, "value": value},
            ) from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise field_error(
            field,
            _("%(field)s: %(value)s is outside %(min)s–%(max)s.")
            % {"field": field, "value": day, "min": MIN_DAY.year, "max": MAX_DAY.year},
        )
    return day


def parse_period(start: Any, end_inclusive: Any, *, today: dt.date) -> Period:
    """The period from the user's ``from`` and ``to`` days (both included).

    Missing both: the current month. Missing one: the month of the other.
    """
    if start in (None, "") and end_inclusive in (None, ""):
        return month_period(today)
    first = parse_day(start, "from") if start not in (None, "") else None
    last = parse_day(end_inclusive, "to") if end_inclusive not in (None, "") else None
    if first is None:
        assert last is not None
        first = last.replace(day=1)
    if last is None:
        last = add_months(first.replace(day=1), 1) - dt.timedelta(days=1)
    if last < first:
        raise ValidationError({"to": [_("“to” (%(to)s) is before “from” (%(from)s).") % {
            "to": last.isoformat(), "from": first.isoformat()}]})  # fmt: skip
    return Period(first, last + dt.timedelta(days=1))


def check_grain(grain: Any) -> str | None:
    if grain in (None, ""):
        return None
    if grain not in GRAINS:
        raise field_error(
            "grain",
            _("Unknown grain %(value)r; use one of %(allowed)s.")
            % {"value": grain, "allowed": ", ".join(GRAINS)},
        )
    return str(grain)


def check_compare(compare: Any) -> str | None:
    if compare in (None, "", "none"):
        return None
    if compare not in COMPARES:
        raise field_error(
            "compare",
            _("Unknown comparison %(value)r; use previous or year.") % {"value": compare},
        )
    return str(compare)


def bucket_of(day: dt.date, grain: str, fiscal_month: int = 1) -> dt.date:
    """The first day of the ``grain`` bucket containing ``day``."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if grain == "year":
        return dt.date(day.year, 1, 1)
    shifted = month_index(day) - (fiscal_month - 1)
    if grain == "fiscal_quarter":
        return from_month_index(shifted // 3 * 3 + fiscal_month - 1)
    if grain == "fiscal_year":
        return from_month_index(shifted // 12 * 12 + fiscal_month - 1)
    raise ValueError(grain)


def next_bucket(start: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "fiscal_quarter": 3, "year": 12, "fiscal_year": 12}
    return add_months(start, months[grain])


def buckets(period: Period, grain: str, fiscal_month: int = 1) -> list[dt.date]:
    """The first days of every bucket overlapping ``period``, in order."""
    result: list[dt.date] = []
    current = bucket_of(period.start, grain, fiscal_month)
    while current < period.end:
        result.append(current)
        if len(result) > MAX_BUCKETS:
            raise field_error(
                "grain",
                _("The period has more than %(max)s buckets of this grain; choose a coarser one.")
                % {"max": MAX_BUCKETS},
            )
        current = next_bucket(current, grain)
    return result


def iter_months(first: dt.date, count: int) -> Iterator[dt.date]:
    for i in range(count):
        yield add_months(first.replace(day=1), i)


def bucket_label(start: dt.date, grain: str | None, fiscal_month: int = 1) -> str:
    """A short, language-neutral name of a bucket (ISO-like)."""
    if grain is None:
        return ""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _day = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if grain == "year":
        return str(start.year)
    fy = _fiscal_year_name(start, fiscal_month)
    if grain == "fiscal_year":
        return fy
    quarter = (month_index(start) - month_index(bucket_of(start, "fiscal_year", fiscal_month))) // 3
    return f"{fy} Q{quarter + 1}"


def _fiscal_year_name(day: dt.date, fiscal_month: int) -> str:
    first = bucket_of(day, "fiscal_year", fiscal_month)
    if fiscal_month == 1:
        return f"FY{first.year}"
    return f"FY{first.year}/{(first.year + 1) % 100:02d}"
