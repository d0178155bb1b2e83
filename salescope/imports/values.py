"""Parse imported cell values: dates, date-times, decimals, integers and booleans (pure).

Every parser takes the raw cell (``str`` from CSV, or an openpyxl value from XLSX) and
returns a typed value or raises ``ValueError`` with a translated message that quotes the
value. Empty cells are not values: callers handle ``None`` (defaults, required fields)
before parsing; the parsers refuse ``None`` and blank text.

Dates: formats are "iso" (2024-03-31, with optional time, ``T`` and offset), "ymd"
(2024/03/31, 2024.03.31), "dmy" (31.03.2024, 31/03/24, 31-3-2024), "mdy" (03/31/2024) and
"excel" (serial day numbers). Text months in EN/DE/FR/NL ("31 Jan 2024", "March 3, 2024",
"3. März 2024") are unambiguous and accepted by every format except "excel". A format
containing ``%`` is a ``strptime`` pattern. XLSX date cells (``datetime``) and numeric cells
(serials) are accepted whatever the format.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _

__all__ = [
    "DATE_FORMATS",
    "DECIMAL_STYLES",
    "DateFormatGuess",
    "ParsedNumber",
    "detect_date_format",
    "detect_decimal_style",
    "excel_serial_to_datetime",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
]

DATE_FORMATS = ("iso", "ymd", "dmy", "mdy", "excel")
DECIMAL_STYLES = ("point", "comma")
_EXAMPLES = {
    "iso": "2024-12-31",
    "ymd": "2024/12/31",
    "dmy": "31.12.2024",
    "mdy": "12/31/2024",
    "excel": "45657",
}

# --- dates ------------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_MAX = 2958466  # 10000-01-01


def excel_serial_to_datetime(serial: float | int | Decimal) -> dt.datetime:
    """A naive datetime from an Excel serial day number (1900 date system)."""
    if isinstance(serial, bool):
        raise ValueError(_("%(value)r is not a date.") % {"value": serial})
    number = float(serial)
    if not (number == number) or not 1 <= number < _EXCEL_MAX or 60 <= number < 61:
        raise ValueError(
            _("%(value)s is not a valid Excel date number.") % {"value": _show(serial)}
        )
    if number < 60:  # Excel counts a 29 February 1900 that never existed
        number += 1
    days = int(number)
    micro = round((number - days) * 86_400_000_000)
    return _EXCEL_EPOCH + dt.timedelta(days=days, microseconds=micro)


_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january januar janvier januari janv jänner janner",
        "feb february februar fevrier février februari fev fevr févr",
        "mar march marz märz maerz mars maart mrt mrz",
        "apr april avril avr",
        "may mai mei",
        "jun june juni juin",
        "jul july juli juillet juil",
        "aug august aout août augustus",
        "sep sept september septembre",
        "oct october oktober octobre okt",
        "nov november novembre",
        "dec december dezember decembre décembre dez",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_TIME = (
    r"(?:[T\s]+|,\s*)"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<ampm>[ap]\.?\s?m\.?)?"
    r"\s*(?P<tz>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?"
)
_NUMERIC = re.compile(
    r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?(?:" + _TIME + r")?",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:" + _TIME + r")?", re.IGNORECASE)
_WORD = r"(?P<month>[^\W\d_]{3,})\.?"
_TEXT_DMY = re.compile(
    r"(?:[^\W\d_]+\.?,?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th|er|e)?\.?[\s/-]*"
    + _WORD
    + r"[\s,/-]*(?P<y>\d{4}|\d{2})(?:"
    + _TIME
    + r")?",
    re.IGNORECASE,
)
_TEXT_MDY = re.compile(
    r"(?:[^\W\d_]+\.?,?\s+)?"
    + _WORD
    + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})(?:"
    + _TIME
    + r")?",
    re.IGNORECASE,
)
_SERIAL = re.compile(r"\d{1,7}(?:[.,]\d+)?")


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Reading:
    dates: dict[str, dt.date]  # format → the date it reads (text months: every format)
    time: dt.time | None
    offset: dt.tzinfo | None


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )


def _time_of(match: re.Match[str]) -> tuple[dt.time | None, dt.tzinfo | None] | None:
    """The time part of a match (None, None without one); None when it is invalid."""
    if match.group("hour") is None:
        return None, None
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    second = int(match.group("second") or 0)
    fraction = match.group("fraction") or ""
    micro = int((fraction + "000000")[:6]) if fraction else 0
    ampm = match.group("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        pm = ampm.strip().lower().startswith("p")
        hour = (hour % 12) + (12 if pm else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset: dt.tzinfo | None = None
    tz = match.group("tz")
    if tz:
        if tz.lower() in ("z", "utc", "gmt"):
            offset = dt.UTC
        else:
            digits = tz[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 14 or minutes > 59:
                return None
            delta = dt.timedelta(hours=hours, minutes=minutes)
            offset = dt.timezone(-delta if tz[0] == "-" else delta)
    return dt.time(hour, minute, second, micro), offset


@lru_cache(maxsize=65_536)
def _read(text: str) -> _Reading | None:
    """Every reading of a date text, or None when it is no date in any format."""
    match = _NUMERIC.fullmatch(text)
    if match:
        timed = _time_of(match)
        if timed is None:
            return None
        a, b, c, sep = match.group("a"), match.group("b"), match.group("c"), match.group("sep")
        dates: dict[str, dt.date] = {}
        if len(a) == 4 and len(c) <= 2:
            ymd = _date(int(a), int(b), int(c))
            if ymd is not None:
                dates["ymd"] = ymd
                if sep == "-" and len(b) == 2 and len(c) == 2:
                    dates["iso"] = ymd
        elif len(a) <= 2 and len(c) in (2, 4):
            dmy = _date(_year(c), int(b), int(a))
            mdy = _date(_year(c), int(a), int(b))
            if dmy is not None:
                dates["dmy"] = dmy
            if mdy is not None:
                dates["mdy"] = mdy
        return _Reading(dates, *timed) if dates else None
    match = _COMPACT.fullmatch(text)
    if match:
        timed = _time_of(match)
        day = _date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
        if timed is None or day is None:
            return None
        return _Reading({"iso": day, "ymd": day}, *timed)
    for pattern in (_TEXT_DMY, _TEXT_MDY):
        match = pattern.fullmatch(text)
        if match:
            month = _MONTHS.get(_fold(match.group("month")))
            timed = _time_of(match)
            if month is None or timed is None:
                continue
            day = _date(_year(match.group("y")), month, int(match.group("d")))
            if day is None:
                return None
            return _Reading({f: day for f in ("iso", "ymd", "dmy", "mdy")}, *timed)
    return None


def _show(value: object) -> str:
    text = str(value)
    return f"“{text[:60]}…”" if len(text) > 60 else f"“{text}”"


def _check_date_format(fmt: str) -> None:
    if fmt != "auto" and fmt not in DATE_FORMATS and "%" not in fmt:
        raise ValueError(
            _("Unknown date format %(format)s; use auto, %(formats)s or a %%-pattern.")
            % {"format": _show(fmt), "formats": ", ".join(DATE_FORMATS)}
        )


def _serial_text(text: str) -> dt.datetime | None:
    if _SERIAL.fullmatch(text):
        return excel_serial_to_datetime(float(text.replace(",", ".")))
    return None


def _parse_text(
    text: str, fmt: str
) -> tuple[dt.date, dt.time | None, dt.tzinfo | None] | dt.datetime:
    """A date (with the time and offset written, if any) or, for serials and %-patterns,
    a datetime."""
    if "%" in fmt:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            raise ValueError(
                _("%(value)s does not match the date format %(format)s.")
                % {"value": _show(text), "format": fmt}
            ) from None
    if fmt == "excel":
        serial = _serial_text(text)
        if serial is None:
            raise ValueError(
                _("%(value)s is not an Excel date number (such as 45657).") % {"value": _show(text)}
            )
        return serial
    reading = _read(text)
    if reading is None:
        raise ValueError(
            _("%(value)s is not a valid date (expected a date such as %(example)s).")
            % {"value": _show(text), "example": _EXAMPLES.get(fmt, "2024-12-31")}
        )
    if fmt == "auto":
        readings = set(reading.dates.values())
        if len(readings) > 1:
            raise ValueError(
                _(
                    "%(value)s is ambiguous (day/month or month/day); choose the date format "
                    "of this column."
                )
                % {"value": _show(text)}
            )
        (day,) = readings
        return day, reading.time, reading.offset
    day_or_none = reading.dates.get(fmt)
    if day_or_none is None:
        raise ValueError(
            _("%(value)s does not match the date format %(format)s (such as %(example)s).")
            % {"value": _show(text), "format": fmt, "example": _EXAMPLES[fmt]}
        )
    return day_or_none, reading.time, reading.offset


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _empty_error() -> ValueError:
    return ValueError(_("The value is empty."))


def parse_date(value: object, fmt: str = "auto") -> dt.date:
    """A calendar date from a cell. A time part is accepted and ignored (the date as
    written, not converted between time zones)."""
    _check_date_format(fmt)
    if _blank(value):
        raise _empty_error()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return excel_serial_to_datetime(value).date()
    if not isinstance(value, str):
        raise ValueError(_("%(value)s is not a date.") % {"value": _show(value)})
    parsed = _parse_text(value.strip(), fmt)
    if isinstance(parsed, dt.datetime):
        return parsed.date()
    return parsed[0]


@lru_cache(maxsize=64)
def _zone(tz: str) -> dt.tzinfo:
    if tz.upper() in ("UTC", "Z", "GMT"):
        return dt.UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("Unknown time zone %(zone)s.") % {"zone": _show(tz)}) from None


def parse_datetime(
    value: object, fmt: str = "auto", tz: str | dt.tzinfo | None = None
) -> dt.datetime:
    """An aware datetime in UTC. Naive values (and dates, at midnight) are taken in ``tz``
    (a zone name or tzinfo; UTC when None); written offsets win over ``tz``."""
    _check_date_format(fmt)
    zone = _zone(tz) if isinstance(tz, str) else (tz or dt.UTC)
    if _blank(value):
        raise _empty_error()
    naive: dt.datetime
    if isinstance(value, dt.datetime):
        naive = value
    elif isinstance(value, dt.date):
        naive = dt.datetime.combine(value, dt.time())
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        naive = excel_serial_to_datetime(value)
    elif isinstance(value, str):
        parsed = _parse_text(value.strip(), fmt)
        if isinstance(parsed, dt.datetime):
            naive = parsed
        else:
            day, time, offset = parsed
            naive = dt.datetime.combine(day, time or dt.time(), tzinfo=offset)
    else:
        raise ValueError(_("%(value)s is not a date and time.") % {"value": _show(value)})
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zone)
    return naive.astimezone(dt.UTC)


@dataclass(frozen=True)
class DateFormatGuess:
    """The date format of a column. ``format`` is None when no value is a date (or there
    are no values). ``ambiguous`` means day/month and month/day both read every value
    differently: ask the user, offering ``candidates``."""

    format: str | None
    ambiguous: bool
    candidates: tuple[str, ...]
    parsed: int = 0  # values the chosen format reads
    total: int = 0  # non-empty values
    invalid: tuple[object, ...] = ()  # a few values the chosen format cannot read


def detect_date_format(values: Iterable[object], *, prefer: str = "dmy") -> DateFormatGuess:
    """Look at every non-empty value of a column and pick the format reading most of them.

    ``prefer`` ("dmy" or "mdy") is the proposal when the column is ambiguous."""
    counts = dict.fromkeys(DATE_FORMATS, 0)
    failures: dict[str, list[object]] = {f: [] for f in DATE_FORMATS}
    total = numbers = conflicts = 0
    for value in values:
        if _blank(value):
            continue
        total += 1
        readable: Iterable[str] = ()
        if isinstance(value, dt.date):
            readable = DATE_FORMATS
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            numbers += 1
            try:
                excel_serial_to_datetime(value)
                readable = DATE_FORMATS
            except ValueError:
                pass
        elif isinstance(value, str):
            text = value.strip()
            reading = _read(text)
            if reading is not None:
                readable = reading.dates.keys()
                dmy, mdy = reading.dates.get("dmy"), reading.dates.get("mdy")
                if dmy is not None and mdy is not None and dmy != mdy:
                    conflicts += 1
            elif _SERIAL.fullmatch(text):
                try:
                    _serial_text(text)
                    readable = ("excel",)
                except ValueError:
                    pass
        readable = set(readable)
        for f in DATE_FORMATS:
            if f in readable:
                counts[f] += 1
            elif len(failures[f]) < 5:
                failures[f].append(value)
    best = max(counts.values())
    if not best:
        return DateFormatGuess(None, False, (), 0, total, tuple(failures["iso"]))
    candidates = [f for f in DATE_FORMATS if counts[f] == best]
    if "iso" in candidates and "ymd" in candidates:
        candidates.remove("ymd")  # the same reading
    ambiguous = "dmy" in candidates and "mdy" in candidates and conflicts > 0
    if numbers == total:
        chosen, candidates = "excel", ["excel"]
    elif ambiguous:
        chosen = prefer if prefer in ("dmy", "mdy") else "dmy"
        candidates = [f for f in candidates if f in ("dmy", "mdy")]
    elif "excel" in candidates and len(candidates) > 1:
        chosen = next(f for f in candidates if f != "excel")
    else:
        chosen = prefer if prefer in candidates else candidates[0]
    return DateFormatGuess(
        chosen, ambiguous, tuple(candidates), counts[chosen], total, tuple(failures[chosen])
    )


# --- numbers ----------------------------------------------------------------------------------


class ParsedNumber(NamedTuple):
    value: Decimal
    currency: str | None  # ISO code of a stripped symbol or code ("€ 1.200" → "EUR")
    percent: bool  # written with % (the value is as written: "12%" → 12)


_SYMBOLS = {
    "€": "EUR",
    "$": "USD",
    "us$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₽": "RUB",
    "₺": "TRY",
    "₩": "KRW",
    "₪": "ILS",
    "zł": "PLN",
    "kč": "CZK",
    "fr.": "CHF",
    "sfr.": "CHF",
    "kr": None,
    "kr.": None,
}
_CURRENCY = r"(?:[A-Za-z]{3}|US\$|[$€£¥₹₽₺₩₪]|zł|Kč|s?Fr\.|kr\.?)"
_LEADING_CURRENCY = re.compile(r"(?P<cur>" + _CURRENCY + r")(?=[\s\d.,(+\-−'])\s*")
_TRAILING_CURRENCY = re.compile(r"(?<=[\d\s.,)\-−])\s*(?P<cur>" + _CURRENCY + r")\Z")
_SPACES = "\u00a0\u202f\u2009 "
_GROUP_CHARS = {"point": ",'’" + _SPACES, "comma": ".'’" + _SPACES}
_POINT = re.compile(
    r"(?P<int>[1-9]\d{0,2}(?P<g>[,'’\u00a0\u202f\u2009 ])\d{3}(?:(?P=g)\d{3})*|\d*)"
    r"(?P<frac>\.\d*)?(?P<exp>[eE][+-]?\d{1,3})?"
)
_COMMA = re.compile(
    r"(?P<int>[1-9]\d{0,2}(?P<g>[.'’\u00a0\u202f\u2009 ])\d{3}(?:(?P=g)\d{3})*|\d*)(?P<frac>,\d*)?"
)


def _currency_code(token: str) -> str | None:
    lowered = token.lower()
    if lowered in _SYMBOLS:
        return _SYMBOLS[lowered]
    if token in _SYMBOLS:
        return _SYMBOLS[token]
    return token.upper()


def _split_number(text: str) -> tuple[str, bool, str | None, bool]:
    """(digits and separators, negative, currency, percent) of a number text."""
    core = text.strip()
    negative = False
    currency: str | None = None
    percent = False
    signed = False
    if core.startswith("(") and core.endswith(")"):
        negative, signed, core = True, True, core[1:-1].strip()
    for _round in range(4):
        before = core
        if core.endswith("%"):
            percent, core = True, core[:-1].rstrip()
        if core[:1] in ("-", "−", "+") or core[-1:] in ("-", "−"):
            if signed:
                raise _not_number(text)
            signed = True
            if core[0] in ("-", "−", "+"):
                negative, core = negative or core[0] != "+", core[1:].lstrip()
            else:
                negative, core = True, core[:-1].rstrip()
        if currency is None:
            match = _LEADING_CURRENCY.match(core)
            if match:
                currency, core = _currency_code(match.group("cur")), core[match.end() :]
            else:
                match = _TRAILING_CURRENCY.search(core)
                if match:
                    currency, core = _currency_code(match.group("cur")), core[: match.start()]
            core = core.strip()
        if core == before:
            break
    return core, negative, currency, percent


def _not_number(value: object) -> ValueError:
    return ValueError(_("%(value)s is not a number.") % {"value": _show(value)})


def _style_evidence(core: str) -> str | None:
    """The decimal style a number text proves: the only one it can be read in, if any."""
    fits = [style for style in DECIMAL_STYLES if _fits(core, style)]
    return fits[0] if len(fits) == 1 else None


def _fits(core: str, style: str) -> bool:
    match = (_POINT if style == "point" else _COMMA).fullmatch(core)
    return bool(match and (match.group("int") or (match.group("frac") or "")[1:]))


def _auto_style(core: str) -> str:
    return _style_evidence(core) or "point"


def _to_decimal(core: str, style: str, original: object) -> Decimal:
    match = (_POINT if style == "point" else _COMMA).fullmatch(core)
    if match is None or not _fits(core, style):
        if re.fullmatch(r"[\d.,'’\s\u00a0\u202f\u2009]+", core) and any(c.isdigit() for c in core):
            raise ValueError(
                _(
                    "%(value)s does not fit the number format with a decimal %(style)s "
                    "(such as %(example)s)."
                )
                % {
                    "value": _show(original),
                    "style": _("point") if style == "point" else _("comma"),
                    "example": "1,234.56" if style == "point" else "1.234,56",
                }
            )
        raise _not_number(original)
    integer = match.group("int")
    group = match.group("g")
    if group:
        integer = integer.replace(group, "")
    fraction = (match.group("frac") or "")[1:]
    exponent = match.groupdict().get("exp") or ""
    digits = (integer or "0") + (f".{fraction}" if fraction else "")
    return Decimal(digits + exponent)


def parse_decimal(value: object, style: str = "auto") -> ParsedNumber:
    """A number with an optional currency (symbol or code, before or after) and percent sign.

    ``style`` is "point" (1,234.56), "comma" (1.234,56) or "auto" (this value alone decides;
    "1,234" reads as 1234 — detect the column's style first). Thousands separators may be
    . , space, NBSP or '. Negative: -12, 12-, −12 or (12.50)."""
    if style not in ("auto", *DECIMAL_STYLES):
        raise ValueError(
            _("Unknown decimal style %(style)s; use auto, point or comma.")
            % {"style": _show(style)}
        )
    if _blank(value):
        raise _empty_error()
    if isinstance(value, bool):
        raise _not_number(value)
    if isinstance(value, int):
        return ParsedNumber(Decimal(value), None, False)
    if isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        if not number.is_finite():
            raise _not_number(value)
        return ParsedNumber(number, None, False)
    if not isinstance(value, str):
        raise _not_number(value)
    core, negative, currency, percent = _split_number(value)
    if not core:
        raise _not_number(value)
    chosen = _auto_style(core) if style == "auto" else style
    try:
        number = _to_decimal(core, chosen, value)
    except InvalidOperation:
        raise _not_number(value) from None
    return ParsedNumber(-number if negative else number, currency, percent)


def detect_decimal_style(values: Iterable[object], *, default: str = "point") -> str:
    """ "point" or "comma": what the column's values prove (majority), else ``default``."""
    votes = {"point": 0, "comma": 0}
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        core = _split_number(value)[0]
        evidence = _style_evidence(core)
        if evidence is not None:
            votes[evidence] += 1
    if votes["point"] == votes["comma"]:
        return default
    return "point" if votes["point"] > votes["comma"] else "comma"


def parse_int(value: object, style: str = "auto") -> int:
    """A whole number ("1.234", "1,234" and "1 234" are 1234 in auto style; "12%" is 12)."""
    if isinstance(value, bool):
        raise _not_number(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and style == "auto" and not _blank(value):
        # "1.000" and "1,000" are both a thousand: a whole number is never written with a
        # decimal part of three zeros, so the thousands reading wins
        readings = []
        for candidate in DECIMAL_STYLES:
            try:
                number = parse_decimal(value, candidate).value
            except ValueError:
                continue
            if number == number.to_integral_value():
                readings.append(int(number))
        if readings:
            return max(readings, key=abs)
    number = parse_decimal(value, style).value
    if number != number.to_integral_value():
        raise ValueError(_("%(value)s is not a whole number.") % {"value": _show(value)})
    return int(number)


# --- booleans ---------------------------------------------------------------------------------

_TRUE = frozenset(
    [
        "yes",
        "y",
        "true",
        "t",
        "1",
        "1.0",
        "on",
        "x",
        "✓",
        "✔",
        "☑",
        "ja",
        "j",
        "wahr",
        "oui",
        "o",
        "vrai",
        "waar",
        "si",
        "sí",
        "ok",
    ]
)
_FALSE = frozenset(
    [
        "no",
        "n",
        "false",
        "f",
        "0",
        "0.0",
        "off",
        "nein",
        "falsch",
        "non",
        "faux",
        "nee",
        "onwaar",
        "✗",
        "✘",
        "☐",
    ]
)


def parse_bool(value: object) -> bool:
    """Yes/no in EN/DE/FR/NL (yes/no, true/false, ja/nein, oui/non, ja/nee, wahr/falsch,
    vrai/faux, waar/onwaar, 1/0, x, on/off)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    if _blank(value):
        raise _empty_error()
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(
        _("%(value)s is not yes or no (use yes/no, true/false, ja/nein, oui/non, 1/0 ...).")
        % {"value": _show(value)}
    )
