"""Reading uploaded files into tables: CSV dialects and encodings, XLSX sheets, ZIP archives,
and a clear error for every file that cannot be read."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Sequence
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from salescope.imports import errors as E
from salescope.imports.errors import ImportFileError, missing_columns
from salescope.imports.reading import (
    DEFAULT_LIMITS,
    Limits,
    Table,
    decode_text,
    detect_delimiter,
    read_tables,
)


def one(name: str, data: bytes, **kwargs: Any) -> Table:
    tables = read_tables(name, data, **kwargs)
    assert len(tables) == 1
    return tables[0]


def xlsx(sheets: dict[str, Sequence[Sequence[object]]], *, hidden: Sequence[str] = ()) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        if title in hidden:
            ws.sheet_state = "hidden"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, content)
    return buffer.getvalue()


def error_of(name: str, data: bytes, **kwargs: Any) -> ImportFileError:
    with pytest.raises(ImportFileError) as info:
        read_tables(name, data, **kwargs)
    return info.value


# --- CSV dialects -------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(delimiter: str) -> None:
    text = delimiter.join(["Name", "Amount", "City"]) + "\n"
    text += delimiter.join(["Acme", "1234.50", "Köln"]) + "\n"
    text += delimiter.join(["Beta", "12", "Paris"]) + "\n"
    table = one("deals.csv", text.encode())
    assert table.delimiter == delimiter
    assert table.headers == ["Name", "Amount", "City"]
    assert table.rows == [["Acme", "1234.50", "Köln"], ["Beta", "12", "Paris"]]


def test_quoted_cells_keep_delimiters_quotes_and_newlines() -> None:
    data = (
        b'name;note;amount\r\n"Acme; Inc";"He said ""yes""\r\non two lines";"1,5"\r\n'
        b"Beta;plain;2\r\n"
    )
    table = one("x.csv", data)
    assert table.delimiter == ";"
    assert table.rows[0] == ["Acme; Inc", 'He said "yes"\r\non two lines', "1,5"]
    assert table.rows[1] == ["Beta", "plain", "2"]
    # the second record starts on line 2 and spans two lines, so the third starts on line 4
    assert [table.row_number(0), table.row_number(1)] == [2, 4]


def test_commas_inside_semicolon_file_do_not_fool_the_detection() -> None:
    data = b"Firma;Betrag;Notiz\nM\xc3\xbcller, Meier & Co;1.234,56;a, b, c\nX;2,5;\n"
    table = one("x.csv", data)
    assert table.delimiter == ";"
    assert table.rows == [["Müller, Meier & Co", "1.234,56", "a, b, c"], ["X", "2,5", None]]


def test_single_column_file() -> None:
    table = one("names.csv", b"Name\nAcme, Inc.\nBeta\n")
    assert table.headers == ["Name"]
    assert table.rows == [["Acme, Inc."], ["Beta"]]


def test_excel_sep_line_sets_the_delimiter() -> None:
    table = one("x.csv", b"sep=|\na|b\n1,5|2;3\n")
    assert table.delimiter == "|"
    assert table.rows == [["1,5", "2;3"]]
    assert table.row_number(0) == 3


def test_empty_cells_blank_lines_whitespace_and_short_rows() -> None:
    data = b'\n\n Name ,"Deal  \n\tAmount"\n  Acme  ,  \n\n,\nBeta\n'
    table = one("x.csv", data)
    # header cells are stripped and inner whitespace collapsed
    assert table.headers == ["Name", "Deal Amount"]
    assert table.rows == [["Acme", None], ["Beta", None]]
    # blank lines and rows without any value are skipped but still counted
    assert [table.row_number(i) for i in range(2)] == [5, 8]


def test_trailing_delimiter_on_every_line() -> None:
    table = one("x.csv", b"a;b;\n1;2;\n3;4;\n")
    assert table.headers == ["a", "b"]
    assert table.rows == [["1", "2"], ["3", "4"]]


def test_header_only_file_gives_a_table_without_rows() -> None:
    table = one("x.csv", b"name,amount\n")
    assert table.headers == ["name", "amount"]
    assert table.rows == []


def test_column_helper() -> None:
    table = one("x.csv", b"a,b\n1,2\n3,\n")
    assert table.column("b") == ["2", None]


def test_detect_delimiter_prefers_consistent_multi_column_splits() -> None:
    assert detect_delimiter("a;b;c\n1,5;2,5;3\n4;5;6\n") == ";"
    assert detect_delimiter("a,b\n1,2\n") == ","
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"
    assert detect_delimiter('"a|x",b\n"1|2",3\n') == ","
    assert detect_delimiter("just one column\n") == ","


def test_detect_delimiter_ignores_a_cut_last_line() -> None:
    head = "a;b;c\n" + "1;2;3\n" * 20_000
    assert detect_delimiter(head + '"unterminated, quoted, text') == ";"


# --- encodings ----------------------------------------------------------------------------------

TEXT = "Firma;Straße;Betrag\nMüller € Söhne;Champs-Élysées;1.234,56\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        ("\ufeff".encode("utf-16-be") + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("utf-32"), "utf-32"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings(data: bytes, encoding: str) -> None:
    table = one("x.csv", data)
    assert table.encoding == encoding
    assert table.headers == ["Firma", "Straße", "Betrag"]
    assert table.rows == [["Müller € Söhne", "Champs-Élysées", "1.234,56"]]


def test_latin1_fallback_for_bytes_cp1252_does_not_define() -> None:
    # 0x81 is undefined in cp1252: only latin-1 decodes it
    text, encoding = decode_text("x.csv", b"a;b\n\x81x;\xe9\n")
    assert encoding == "latin-1"
    assert text == "a;b\n\x81x;é\n"


def test_invalid_utf16_is_reported() -> None:
    err = error_of("x.csv", b"\xff\xfe" + "a,b\n".encode("utf-16-le") + b"\x00")
    assert err.code == E.CODE_INVALID_FILE
    assert "UTF-16" in str(err)


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_every_visible_sheet_with_typed_values() -> None:
    when = dt.datetime(2024, 3, 31, 14, 30)
    data = xlsx(
        {
            "Deals": [
                ["Name", "Amount", "Won", "Close", None],
                ["  Acme  ", 1234.5, True, when],
                [None, None, None, None],
                ["Beta", 7, False, dt.date(2024, 1, 2), None],
            ],
            "Contacts": [["Email"], ["a@example.com"]],
            "Secret": [["x"], ["y"]],
            "Empty": [],
        },
        hidden=["Secret"],
    )
    tables = read_tables("export.xlsx", data)
    assert [t.name for t in tables] == ["export.xlsx:Deals", "export.xlsx:Contacts"]
    deals = tables[0]
    assert deals.headers == ["Name", "Amount", "Won", "Close"]
    assert deals.rows[0] == ["Acme", 1234.5, True, when]
    assert deals.rows[1][:3] == ["Beta", 7, False]
    assert deals.rows[1][3] == dt.datetime(2024, 1, 2)
    assert [deals.row_number(0), deals.row_number(1)] == [2, 4]
    assert deals.encoding is None and deals.delimiter is None


def test_xlsx_named_sheet_case_insensitive_and_hidden_allowed() -> None:
    data = xlsx({"Deals": [["a"], [1]], "Secret": [["b"], [2]]}, hidden=["Secret"])
    assert one("e.xlsx", data, sheet="deals").name == "e.xlsx:Deals"
    assert one("e.xlsx", data, sheet="Secret").rows == [[2]]


def test_xlsx_unknown_sheet_names_the_available_ones() -> None:
    data = xlsx({"Deals": [["a"], [1]], "Accounts": [["b"]]})
    err = error_of("e.xlsx", data, sheet="Opportunities")
    assert err.code == E.CODE_UNKNOWN_SHEET
    assert "Opportunities" in str(err)
    assert "“Deals”" in str(err) and "“Accounts”" in str(err)


def test_xlsx_named_sheet_that_is_empty() -> None:
    err = error_of("e.xlsx", xlsx({"Deals": [["a"]], "Blank": []}), sheet="Blank")
    assert err.code == E.CODE_EMPTY


def test_xlsx_without_any_data_is_empty() -> None:
    err = error_of("e.xlsx", xlsx({"One": [], "Two": [[None, "  "]]}))
    assert err.code == E.CODE_EMPTY


def test_xlsx_headers_of_other_types_become_text_and_errors_become_empty() -> None:
    data = xlsx({"S": [[2024, dt.datetime(2024, 1, 1), 3.0, "Name"], ["#N/A", 1, "#DIV/0!", "x"]]})
    table = one("e.xlsx", data)
    assert table.headers == ["2024", "2024-01-01", "3", "Name"]
    assert table.rows == [[None, 1, None, "x"]]


def test_xlsx_formulas_give_their_cached_value_or_nothing() -> None:
    data = xlsx({"S": [["a", "b"], [1, "=A2*2"]]})
    # openpyxl stores no cached result, so the cell is empty rather than the formula text
    assert one("e.xlsx", data).rows == [[1, None]]


def test_xlsx_cell_too_large_names_row_and_column() -> None:
    data = xlsx({"S": [["Name", "Notes"], ["a", "x" * 50]]})
    err = error_of("e.xlsx", data, limits=Limits(max_cell_chars=40))
    assert err.code == E.CODE_CELL_TOO_LARGE
    assert "row 2" in str(err) and "“Notes”" in str(err) and "50" in str(err)
    assert (err.row, err.column) == (2, "Notes")


def test_xlsx_values_beyond_the_header_name_the_column_letter() -> None:
    data = xlsx({"S": [["a", "b"], [1, 2, None, 4]]})
    err = error_of("e.xlsx", data)
    assert err.code == E.CODE_TOO_MANY_VALUES
    assert "row 2" in str(err)


def test_xlsx_blank_header_with_values_names_the_column_letter() -> None:
    err = error_of("e.xlsx", xlsx({"S": [["a", None, "c"], [1, 2, 3]]}))
    assert err.code == E.CODE_BLANK_HEADER
    assert "column B" in str(err)


def test_damaged_xlsx() -> None:
    data = xlsx({"S": [["a"], [1]]})
    err = error_of("e.xlsx", data[: len(data) // 2])
    assert err.code == E.CODE_INVALID_FILE


def test_zip_that_is_not_a_workbook_but_named_xlsx() -> None:
    err = error_of("e.xlsx", zipped({"readme.txt": b"hello"}))
    assert err.code == E.CODE_INVALID_FILE


def test_xlsx_by_content_whatever_the_name() -> None:
    table = one("download", xlsx({"S": [["a"], [1]]}))
    assert table.name == "download:S"


# --- ZIP ----------------------------------------------------------------------------------------


def test_zip_of_csv_and_xlsx_members() -> None:
    data = zipped(
        {
            "export/": b"",
            "export/deals.csv": b"id,name\n1,A\n",
            "export/book.xlsx": xlsx({"Accounts": [["name"], ["Acme"]]}),
            "__MACOSX/export/._deals.csv": b"\x00\x05junk",
            "export/.DS_Store": b"\x00\x00",
            "export/manifest.json": b"{}",
        }
    )
    tables = read_tables("/tmp/uploads/all.zip", data)
    assert [t.name for t in tables] == ["export/book.xlsx:Accounts", "export/deals.csv"]
    assert tables[1].rows == [["1", "A"]]


def test_zip_sheet_filter_applies_to_workbooks() -> None:
    data = zipped(
        {
            "a.xlsx": xlsx({"Deals": [["x"], [1]], "Other": [["y"], [2]]}),
            "b.xlsx": xlsx({"Other": [["z"], [3]]}),
        }
    )
    assert [t.name for t in read_tables("z.zip", data, sheet="Deals")] == ["a.xlsx:Deals"]
    err = error_of("z.zip", data, sheet="Nope")
    assert err.code == E.CODE_UNKNOWN_SHEET


def test_zip_without_tables() -> None:
    err = error_of("z.zip", zipped({"readme.md": b"# hi"}))
    assert err.code == E.CODE_EMPTY
    assert "no CSV or XLSX" in str(err)


def test_zip_inside_zip_is_refused() -> None:
    inner = zipped({"a.csv": b"a\n1\n"})
    err = error_of("z.zip", zipped({"inner.csv": inner}))
    assert err.code == E.CODE_UNSUPPORTED


def test_zip_with_an_empty_member_names_it() -> None:
    err = error_of("z.zip", zipped({"good.csv": b"a\n1\n", "empty.csv": b""}))
    assert err.code == E.CODE_EMPTY
    assert "empty.csv" in str(err)


def test_zip_too_many_files() -> None:
    data = zipped({f"t{i}.csv": b"a\n1\n" for i in range(4)})
    err = error_of("z.zip", data, limits=Limits(max_files=3))
    assert err.code == E.CODE_TOO_MANY_FILES


def test_zip_expanding_beyond_the_limit() -> None:
    data = zipped({"big.csv": b"a\n" + b"1\n" * 100_000})
    assert len(data) < 10_000
    err = error_of("z.zip", data, limits=Limits(max_expanded_bytes=100_000))
    assert err.code == E.CODE_TOO_LARGE
    assert "expands" in str(err)


def test_zip_member_larger_than_a_file_may_be() -> None:
    data = zipped({"big.csv": b"a\n" + b"1\n" * 10_000})
    err = error_of("z.zip", data, limits=Limits(max_bytes=len(data) + 10))
    assert err.code == E.CODE_TOO_LARGE
    assert "big.csv" in str(err)


def test_damaged_zip() -> None:
    data = zipped({"a.csv": b"a\n1\n" * 1000})
    err = error_of("z.zip", data[:40])
    assert err.code == E.CODE_INVALID_FILE


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n  ", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_files(data: bytes) -> None:
    err = error_of("deals.csv", data)
    assert err.code == E.CODE_EMPTY
    assert str(err) == "deals.csv is empty."


def test_file_of_only_blank_rows_is_empty() -> None:
    assert error_of("x.csv", b";;\n;\n" + b" " * 5000).code == E.CODE_EMPTY


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,\x00\x01\x02\x03\n",
        bytes(range(256)) * 20,
        b"\x01\x02\x03\x04\x05\x06\x07\x08" * 100,
    ],
)
def test_binary_files(data: bytes) -> None:
    err = error_of("x.csv", data)
    assert err.code == E.CODE_BINARY


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("report.pdf", b"%PDF-1.7 ...", "PDF"),
        ("deals.csv", b"\x89PNG\r\n\x1a\n....", "image"),
        ("deals.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel"),
        ("deals.csv.gz", b"\x1f\x8b\x08\x00", "gzip"),
        ("data.json", b'{"a": 1}', ".json"),
        ("book.ods", zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
         "OpenDocument"),
        ("letter.docx", zipped({"word/document.xml": b"<w/>"}), "Word"),
    ],
)  # fmt: skip
def test_unsupported_files(name: str, data: bytes, what: str) -> None:
    err = error_of(name, data)
    assert err.code == E.CODE_UNSUPPORTED
    assert what in str(err)
    assert "CSV, XLSX" in str(err)


def test_text_named_xlsx_is_not_a_workbook() -> None:
    err = error_of("deals.xlsx", b"a,b\n1,2\n")
    assert err.code == E.CODE_INVALID_FILE
    assert "XLSX" in str(err)


def test_file_too_large() -> None:
    data = b"a\n" + b"1\n" * 1000
    err = error_of("big.csv", data, limits=Limits(max_bytes=1000))
    assert err.code == E.CODE_TOO_LARGE
    assert "big.csv" in str(err)
    assert one("big.csv", data, limits=Limits(max_bytes=len(data))).rows[-1] == ["1"]


def test_csv_cell_too_large() -> None:
    data = b"name,notes\na,short\nb," + b"x" * 101 + b"\n"
    err = error_of("x.csv", data, limits=Limits(max_cell_chars=100))
    assert err.code == E.CODE_CELL_TOO_LARGE
    assert "line 3" in str(err) and "“notes”" in str(err) and "101" in str(err)
    assert one("x.csv", data, limits=Limits(max_cell_chars=101)).rows[1][1] == "x" * 101


def test_csv_cell_beyond_the_csv_module_limit() -> None:
    data = b"a\n" + b"x" * 200_000 + b"\n"
    err = error_of("x.csv", data)
    assert err.code == E.CODE_CELL_TOO_LARGE


def test_header_cell_too_large() -> None:
    err = error_of("x.csv", b"a," + b"h" * 30 + b"\n1,2\n", limits=Limits(max_cell_chars=20))
    assert err.code == E.CODE_CELL_TOO_LARGE


def test_too_many_columns() -> None:
    header = ",".join(f"c{i}" for i in range(11)).encode()
    err = error_of("x.csv", header + b"\n", limits=Limits(max_columns=10))
    assert err.code == E.CODE_TOO_MANY_COLUMNS
    assert "11" in str(err) and "10" in str(err)


def test_duplicate_headers() -> None:
    err = error_of("x.csv", b"Name,Amount, Name \n1,2,3\n")
    assert err.code == E.CODE_DUPLICATE_HEADER
    assert "“Name”" in str(err) and "column 1" in str(err) and "column 3" in str(err)
    assert err.column == "Name"


def test_blank_header_with_values() -> None:
    err = error_of("x.csv", b"a,,c\n1,2,3\n4,,6\n")
    assert err.code == E.CODE_BLANK_HEADER
    assert "column 2" in str(err) and "line 2" in str(err)


def test_blank_header_column_without_values_is_dropped() -> None:
    table = one("x.csv", b"a,,c\n1,,3\n")
    assert table.headers == ["a", "c"]
    assert table.rows == [["1", "3"]]


def test_only_blank_headers_is_empty() -> None:
    # a first row of empty strings that are quoted counts as no header at all
    assert error_of("x.csv", b'"",""\n').code == E.CODE_EMPTY


def test_row_with_more_values_than_the_header() -> None:
    err = error_of("x.csv", b"a,b\n1,2\n1,2,3\n")
    assert err.code == E.CODE_TOO_MANY_VALUES
    assert "line 3" in str(err) and "3 values" in str(err) and "2 columns" in str(err)
    assert err.row == 3


def test_sheet_asked_of_a_csv_file() -> None:
    err = error_of("x.csv", b"a\n1\n", sheet="Deals")
    assert err.code == E.CODE_UNKNOWN_SHEET


def test_errors_are_validation_errors_with_the_message_as_text() -> None:
    err = error_of("x.csv", b"")
    assert isinstance(err, ValidationError)
    assert err.messages == ["x.csv is empty."]
    assert err.file == "x.csv"


def test_missing_columns_error() -> None:
    err = missing_columns("deals.csv", ["name", "stage"])
    assert isinstance(err, ImportFileError)
    assert err.code == E.CODE_MISSING_COLUMN
    assert str(err) == "deals.csv: required column missing: name, stage."


def test_names_are_reduced_to_the_file_name() -> None:
    assert one("C:\\Users\\me\\deals.csv", b"a\n1\n").name == "deals.csv"
    assert one("/srv/in/deals.csv", b"a\n1\n").name == "deals.csv"


# --- limits -------------------------------------------------------------------------------------


def test_limits_from_settings(settings: Any) -> None:
    assert Limits.from_settings() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_bytes == 200 * 1024 * 1024
    assert DEFAULT_LIMITS.max_cell_chars == 32_767
    assert DEFAULT_LIMITS.max_columns == 500
    settings.SALESCOPE_IMPORT_MAX_BYTES = 1234
    settings.SALESCOPE_IMPORT_MAX_COLUMNS = 7
    limits = Limits.from_settings()
    assert (limits.max_bytes, limits.max_columns) == (1234, 7)
    # read_tables applies the settings when no limits are given
    assert error_of("x.csv", b"a\n" + b"1\n" * 1000).code == E.CODE_TOO_LARGE


# --- speed --------------------------------------------------------------------------------------


def test_a_100k_row_csv_reads_quickly() -> None:
    header = "opportunity_id;sales_agent;product;account;deal_stage;engage_date;close_date;value\n"
    line = "1C1I7A6R;Moses Frase;GTX Plus Basic;Cancity;Won;20.10.2016;01.03.2017;1.054,00\n"
    data = (header + line * 100_000).encode("utf-8-sig")
    # CPU time, not wall time: the test must not fail because other processes share the CPU
    started = time.process_time()
    table = one("big.csv", data)
    elapsed = time.process_time() - started
    assert len(table.rows) == 100_000
    assert table.row_number(99_999) == 100_001
    assert elapsed < 2.0, f"reading took {elapsed:.2f} s"


# --- report titles above the header -------------------------------------------------------------


def test_title_lines_above_the_header_are_skipped() -> None:
    data = b"Deals won in Q1\nExported 2024-04-01\n\nName;Amount\nAcme;12\nBeta;13\n"
    table = one("report.csv", data)
    assert table.delimiter == ";"
    assert table.headers == ["Name", "Amount"]
    assert table.rows == [["Acme", "12"], ["Beta", "13"]]
    assert table.row_number(0) == 5


def test_title_rows_above_the_header_in_a_workbook() -> None:
    data = xlsx({"Report": [["Opportunities"], [None], ["Name", "Stage"], ["Acme", "Won"]]})
    table = one("r.xlsx", data)
    assert table.headers == ["Name", "Stage"]
    assert table.rows == [["Acme", "Won"]]
    assert table.row_number(0) == 4


@pytest.mark.parametrize("rows", [2, 6, 12])
def test_single_column_tables_keep_their_first_row_as_header(rows: int) -> None:
    data = b"Name\n" + b"".join(b"n%d\n" % i for i in range(rows))
    table = one("x.csv", data)
    assert table.headers == ["Name"]
    assert table.rows == [[f"n{i}"] for i in range(rows)]
    assert table.row_number(rows - 1) == rows + 1
