"""Parsing imported cell values: dates in every written form, Excel serials, date-times with
time zones, numbers in both decimal styles with currencies, integers and booleans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from salescope.imports.values import (
    DateFormatGuess,
    ParsedNumber,
    detect_date_format,
    detect_decimal_style,
    excel_serial_to_datetime,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
)

D = dt.date
UTC = dt.UTC
NOON = dt.datetime(2024, 1, 31, 12)

# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2024-03-31", "iso", D(2024, 3, 31)),
        ("2024-03-31", "ymd", D(2024, 3, 31)),
        ("2024-03-31", "auto", D(2024, 3, 31)),
        ("20240331", "iso", D(2024, 3, 31)),
        ("2024-03-31T14:05:09.123+02:00", "iso", D(2024, 3, 31)),
        ("2024-03-31 23:59:59Z", "iso", D(2024, 3, 31)),
        ("2024/03/31", "ymd", D(2024, 3, 31)),
        ("2024.3.1", "ymd", D(2024, 3, 1)),
        ("31.03.2024", "dmy", D(2024, 3, 31)),
        ("31.03.2024.", "dmy", D(2024, 3, 31)),
        ("1.3.2024", "dmy", D(2024, 3, 1)),
        ("31/03/24", "dmy", D(2024, 3, 31)),
        ("31-03-1999", "dmy", D(1999, 3, 31)),
        ("01/02/69", "dmy", D(2069, 2, 1)),
        ("01/02/70", "dmy", D(1970, 2, 1)),
        ("03/31/2024", "mdy", D(2024, 3, 31)),
        ("3/1/24", "mdy", D(2024, 3, 1)),
        ("03/31/2024 5:30 PM", "mdy", D(2024, 3, 31)),
        ("31.03.2024 14:30", "auto", D(2024, 3, 31)),
        (" 13/01/2024 ", "auto", D(2024, 1, 13)),
        ("45382", "excel", D(2024, 3, 31)),
        ("45382,75", "excel", D(2024, 3, 31)),
        # text months (EN, DE, FR, NL) are unambiguous in every non-serial format
        ("31 Mar 2024", "dmy", D(2024, 3, 31)),
        ("31-Mar-2024", "mdy", D(2024, 3, 31)),
        ("March 31, 2024", "auto", D(2024, 3, 31)),
        ("Sun, 31 Mar 2024 10:00:00 +0000", "iso", D(2024, 3, 31)),
        ("3. März 2024", "dmy", D(2024, 3, 3)),
        ("1er janvier 2024", "auto", D(2024, 1, 1)),
        ("15 février 2024", "auto", D(2024, 2, 15)),
        ("12 mei 2024", "auto", D(2024, 5, 12)),
        ("5 okt. 2023", "auto", D(2023, 10, 5)),
        ("31.12.2024", "%d.%m.%Y", D(2024, 12, 31)),
    ],
)
def test_parse_date(text: str, fmt: str, expected: dt.date) -> None:
    assert parse_date(text, fmt) == expected


def test_parse_date_accepts_spreadsheet_values_in_any_format() -> None:
    for fmt in ("auto", "iso", "dmy", "mdy", "excel"):
        assert parse_date(dt.datetime(2024, 3, 31, 23, 0), fmt) == D(2024, 3, 31)
        assert parse_date(D(2024, 3, 31), fmt) == D(2024, 3, 31)
        assert parse_date(45382, fmt) == D(2024, 3, 31)
        assert parse_date(45382.99, fmt) == D(2024, 3, 31)
        assert parse_date(Decimal("45382"), fmt) == D(2024, 3, 31)


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("03/04/2024", "auto", "ambiguous"),
        ("31.02.2024", "dmy", "not a valid date"),
        ("2024-02-30", "iso", "not a valid date"),
        ("31.03.2024", "mdy", "does not match the date format mdy"),
        ("03/31/2024", "dmy", "does not match the date format dmy"),
        ("2024/03/31", "iso", "does not match the date format iso"),
        ("31.03.2024", "excel", "not an Excel date number"),
        ("45382", "iso", "not a valid date"),
        ("soon", "auto", "not a valid date"),
        ("31 Foo 2024", "auto", "not a valid date"),
        ("31 Feb 2024", "auto", "not a valid date"),
        ("2024-03-31 25:00", "iso", "not a valid date"),
        ("2024-03-31 13:00 PM", "iso", "not a valid date"),
        ("2024-03-31 10:00+15:00", "iso", "not a valid date"),
        ("31.12.2024", "%Y-%m-%d", "does not match the date format %Y-%m-%d"),
        ("0", "excel", "not a valid Excel date number"),
        ("60", "excel", "not a valid Excel date number"),
        ("9999999", "excel", "not a valid Excel date number"),
    ],
)
def test_parse_date_errors(text: str, fmt: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(text, fmt)


@pytest.mark.parametrize("value", [None, "", "   ", True, dt.time(10, 0), [2024], -5, float("nan")])
def test_parse_date_refuses_non_dates(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_unknown_date_format() -> None:
    with pytest.raises(ValueError, match="Unknown date format"):
        parse_date("2024-01-01", "european")


def test_excel_serials() -> None:
    assert excel_serial_to_datetime(1) == dt.datetime(1900, 1, 1)
    assert excel_serial_to_datetime(59) == dt.datetime(1900, 2, 28)
    assert excel_serial_to_datetime(61) == dt.datetime(1900, 3, 1)
    assert excel_serial_to_datetime(45382.5) == dt.datetime(2024, 3, 31, 12)
    assert excel_serial_to_datetime(45382 + 10 / 24) == dt.datetime(2024, 3, 31, 10)
    for bad in (0, 60, 60.5, -1, 2958466, float("inf")):
        with pytest.raises(ValueError):
            excel_serial_to_datetime(bad)
    with pytest.raises(ValueError):
        excel_serial_to_datetime(True)


# --- date-times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fmt", "tz", "expected"),
    [
        ("2024-03-31 10:00", "iso", "Europe/Berlin", dt.datetime(2024, 3, 31, 8, 0, tzinfo=UTC)),
        ("2024-01-31 10:00", "iso", "Europe/Berlin", dt.datetime(2024, 1, 31, 9, 0, tzinfo=UTC)),
        ("2024-01-31T10:00:00Z", "iso", "Europe/Berlin", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00-0530", "auto", None, dt.datetime(2024, 1, 31, 15, 30, tzinfo=UTC)),
        ("2024-01-31 10:00 UTC", "iso", "Europe/Paris", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("31.01.2024 10:15:30", "dmy", "UTC", dt.datetime(2024, 1, 31, 10, 15, 30, tzinfo=UTC)),
        ("31.01.2024, 10:15", "dmy", None, dt.datetime(2024, 1, 31, 10, 15, tzinfo=UTC)),
        ("01/31/2024 12:05 am", "mdy", None, dt.datetime(2024, 1, 31, 0, 5, tzinfo=UTC)),
        ("01/31/2024 12:05 p.m.", "mdy", None, dt.datetime(2024, 1, 31, 12, 5, tzinfo=UTC)),
        ("2024-01-31 10:00:00.5", "iso", None, dt.datetime(2024, 1, 31, 10, 0, 0, 500000, UTC)),
        ("31.01.2024", "dmy", "Europe/Berlin", dt.datetime(2024, 1, 30, 23, tzinfo=UTC)),
        ("45322.5", "excel", None, dt.datetime(2024, 1, 31, 12, tzinfo=UTC)),
        (45322.5, "dmy", "Europe/Amsterdam", dt.datetime(2024, 1, 31, 11, tzinfo=UTC)),
        (NOON, "iso", "Europe/Berlin", dt.datetime(2024, 1, 31, 11, tzinfo=UTC)),
        (NOON.replace(tzinfo=UTC), "iso", "Europe/Berlin", NOON.replace(tzinfo=UTC)),
        (D(2024, 1, 31), "iso", ZoneInfo("Europe/Paris"), dt.datetime(2024, 1, 30, 23, tzinfo=UTC)),
        ("2024-01-31 10:00", "%Y-%m-%d %H:%M", "UTC", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_parse_datetime(value: object, fmt: str, tz: object, expected: dt.datetime) -> None:
    result = parse_datetime(value, fmt, tz)  # type: ignore[arg-type]
    assert result == expected
    assert result.tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "tz", "message"),
    [
        ("2024-01-31 10:00", "Mars/Olympus", "Unknown time zone"),
        ("", None, "empty"),
        (None, None, "empty"),
        (dt.time(10), None, "not a date and time"),
        ("tomorrow", None, "not a valid date"),
    ],
)
def test_parse_datetime_errors(value: object, tz: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_datetime(value, "auto", tz)


# --- date format detection ----------------------------------------------------------------------


def test_detect_iso() -> None:
    guess = detect_date_format(["2024-01-31", None, "", "2024-02-01T10:00:00Z"])
    assert guess == DateFormatGuess("iso", False, ("iso",), 2, 2, ())


def test_detect_ambiguous_day_month() -> None:
    guess = detect_date_format(["01.02.2024", "03.04.2024", "12.12.2024"])
    assert guess.ambiguous
    assert guess.candidates == ("dmy", "mdy")
    assert guess.format == "dmy"
    assert detect_date_format(["01/02/2024"], prefer="mdy").format == "mdy"


def test_one_day_above_twelve_settles_the_column() -> None:
    guess = detect_date_format(["01.02.2024", "03.04.2024", "13.04.2024"])
    assert (guess.format, guess.ambiguous, guess.candidates) == ("dmy", False, ("dmy",))
    guess = detect_date_format(["01/02/2024", "04/13/2024"])
    assert (guess.format, guess.ambiguous) == ("mdy", False)


def test_same_day_and_month_everywhere_is_not_ambiguous() -> None:
    guess = detect_date_format(["01.01.2024", "02.02.2024"])
    assert not guess.ambiguous
    assert guess.format == "dmy"


def test_detect_majority_and_invalid_examples() -> None:
    guess = detect_date_format(["31.01.2024", "15.02.2024", "02/30/2024", "n/a"])
    assert guess.format == "dmy"
    assert (guess.parsed, guess.total) == (2, 4)
    assert guess.invalid == ("02/30/2024", "n/a")


def test_detect_excel_serials() -> None:
    assert detect_date_format([45382, 45383.5]).format == "excel"
    assert detect_date_format([45382, 45383.5]).candidates == ("excel",)
    guess = detect_date_format(["45382", "45383"])
    assert (guess.format, guess.candidates) == ("excel", ("excel",))


def test_detect_spreadsheet_dates_with_text_dates() -> None:
    guess = detect_date_format([dt.datetime(2024, 1, 1), "13.01.2024", 45382])
    assert (guess.format, guess.parsed, guess.ambiguous) == ("dmy", 3, False)


def test_detect_ymd_and_text_months() -> None:
    assert detect_date_format(["2024/01/31", "2024/02/01"]).format == "ymd"
    guess = detect_date_format(["31 Jan 2024", "March 3, 2024"])
    assert not guess.ambiguous and guess.parsed == 2
    assert guess.format in guess.candidates


def test_detect_nothing() -> None:
    assert detect_date_format([]) == DateFormatGuess(None, False, (), 0, 0, ())
    guess = detect_date_format(["abc", True, 0])
    assert guess.format is None and guess.total == 3 and guess.invalid == ("abc", True, 0)


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "style", "value", "currency", "percent"),
    [
        ("1.234,56", "comma", "1234.56", None, False),
        ("1,234.56", "point", "1234.56", None, False),
        ("1 234,56", "comma", "1234.56", None, False),
        ("1\u00a0234\u00a0567,5", "comma", "1234567.5", None, False),
        ("1\u202f234,5", "comma", "1234.5", None, False),
        ("1'234.56", "point", "1234.56", None, False),
        ("1’234’567", "point", "1234567", None, False),
        ("1'234,56", "comma", "1234.56", None, False),
        ("-12,5", "comma", "-12.5", None, False),
        ("−12.5", "point", "-12.5", None, False),
        ("+7", "point", "7", None, False),
        ("12,50-", "comma", "-12.50", None, False),
        ("(12.50)", "point", "-12.50", None, False),
        ("(€ 12,50)", "comma", "-12.50", "EUR", False),
        ("€ 1.200", "comma", "1200", "EUR", False),
        ("€1,200.00", "point", "1200.00", "EUR", False),
        ("-€12", "point", "-12", "EUR", False),
        ("€-12", "point", "-12", "EUR", False),
        ("1.200 EUR", "comma", "1200", "EUR", False),
        ("1.200,00 eur", "comma", "1200.00", "EUR", False),
        ("EUR 1.200,00", "comma", "1200.00", "EUR", False),
        ("USD1,000", "point", "1000", "USD", False),
        ("$ 99.95", "point", "99.95", "USD", False),
        ("US$ 5", "point", "5", "USD", False),
        ("£3", "point", "3", "GBP", False),
        ("CHF 1'250.50", "point", "1250.50", "CHF", False),
        ("1 000 zł", "comma", "1000", "PLN", False),
        ("100 kr", "comma", "100", None, False),
        ("12%", "point", "12", None, True),
        ("12,5 %", "comma", "12.5", None, True),
        ("-5%", "point", "-5", None, True),
        (".5", "point", "0.5", None, False),
        (",5", "comma", "0.5", None, False),
        ("12.", "point", "12", None, False),
        ("1.5E3", "point", "1.5E3", None, False),
        ("0", "comma", "0", None, False),
        ("007", "point", "7", None, False),
    ],
)
def test_parse_decimal(
    text: str, style: str, value: str, currency: str | None, percent: bool
) -> None:
    assert parse_decimal(text, style) == ParsedNumber(Decimal(value), currency, percent)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("1.234.567", "1234567"),
        ("1,234,567", "1234567"),
        ("0,123", "0.123"),
        ("1234,567", "1234.567"),
        ("1 234,567", "1234.567"),
        ("1,234", "1234"),  # a lone value decides nothing: the point reading
        ("1.234", "1.234"),
    ],
)
def test_parse_decimal_auto_style(text: str, expected: str) -> None:
    assert parse_decimal(text).value == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "style", "message"),
    [
        ("1.5", "comma", "decimal comma"),
        ("1,5", "point", "decimal point"),
        ("1.234,5", "point", "decimal point"),
        ("12,34,567.0", "point", "decimal point"),
        ("1.23.456", "comma", "decimal comma"),
        ("1 23", "point", "decimal point"),
        ("1,234 567", "point", "decimal point"),
        ("1.2.3,4", "auto", "decimal point"),
        ("abc", "auto", "not a number"),
        ("€", "auto", "not a number"),
        ("12 apples", "auto", "not a number"),
        ("--5", "auto", "not a number"),
        ("1e5", "comma", "not a number"),
        (".", "point", "not a number"),
        ("-(5)", "auto", "not a number"),
        ("(-5)", "auto", "not a number"),
    ],
)
def test_parse_decimal_errors(text: str, style: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_decimal(text, style)


def test_parse_decimal_of_spreadsheet_values() -> None:
    assert parse_decimal(7) == ParsedNumber(Decimal(7), None, False)
    assert parse_decimal(0.1).value == Decimal("0.1")
    assert parse_decimal(1234.5, "comma").value == Decimal("1234.5")
    assert parse_decimal(Decimal("2.50")).value == Decimal("2.50")
    for bad in (None, "", True, float("nan"), float("inf"), Decimal("NaN"), [1]):
        with pytest.raises(ValueError):
            parse_decimal(bad)
    with pytest.raises(ValueError, match="Unknown decimal style"):
        parse_decimal("1", "dot")


def test_detect_decimal_style() -> None:
    assert detect_decimal_style(["1.234,56", "12", None, 5.0]) == "comma"
    assert detect_decimal_style(["1,234.56", "", "7"]) == "point"
    assert detect_decimal_style(["1.234", "12,5"]) == "comma"
    assert detect_decimal_style(["1,234,567", "3"]) == "point"
    assert detect_decimal_style(["€ 1.234.567", "-12,50 €"]) == "comma"
    # nothing proves anything: the default
    assert detect_decimal_style(["1,234", "12"]) == "point"
    assert detect_decimal_style(["1.234"], default="comma") == "comma"
    assert detect_decimal_style([]) == "point"
    # the majority wins over a stray value
    assert detect_decimal_style(["1,5", "2,5", "3.5"]) == "comma"


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        ("1.234", "auto", 1234),
        ("1.000", "auto", 1000),
        ("-1,000", "auto", -1000),
        ("1.000", "point", 1),
        ("1.234", "auto", 1234),
        ("1.000", "auto", 1000),
        ("-1,000", "auto", -1000),
        ("1.000", "point", 1),
        ("1.234", "auto", 1234),
        ("1.000", "auto", 1000),
        ("-1,000", "auto", -1000),
        ("1.000", "point", 1),
        ("12", "auto", 12),
        ("12,0", "comma", 12),
        ("80%", "auto", 80),
        ("-3", "point", -3),
        (42, "auto", 42),
        (42.0, "auto", 42),
        (Decimal("5.00"), "auto", 5),
    ],
)
def test_parse_int(value: object, style: str, expected: int) -> None:
    result = parse_int(value, style)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", ["1,5", "1.5", 2.5, "x", "", None, True, "1.234", "1e400x"])
def test_parse_int_errors(value: object) -> None:
    style = "comma" if value == "1.234" else "auto"
    if value == "1.234":
        value = "1,234"  # in the comma style this is 1.234, not a whole number
    with pytest.raises(ValueError):
        parse_int(value, style)


# --- booleans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["yes", "Y", "TRUE", "t", "1", "1.0", "on", "x", "✓", "ja", "J", "wahr", "oui", "vrai",
     "waar", " Yes ", "ok", True, 1, 1.0, Decimal(1)],
)  # fmt: skip
def test_parse_bool_true(value: object) -> None:
    assert parse_bool(value) is True


@pytest.mark.parametrize(
    "value",
    ["no", "N", "false", "F", "0", "off", "nein", "falsch", "non", "faux", "nee", "onwaar",
     "NEE", False, 0, 0.0],
)  # fmt: skip
def test_parse_bool_false(value: object) -> None:
    assert parse_bool(value) is False


@pytest.mark.parametrize("value", ["maybe", "2", 2, "", None, "yes please"])
def test_parse_bool_errors(value: object) -> None:
    with pytest.raises(ValueError):
        parse_bool(value)
