"""Turn uploaded bytes into tables: CSV, XLSX and ZIP archives of them (pure, no database).

Every cell of a ``Table`` is either ``None`` (empty, or only whitespace) or the stripped text
(CSV) or the openpyxl value (XLSX: ``str``, ``int``, ``float``, ``datetime``, ``date``,
``time``, ``bool``). Nothing is interpreted here beyond that; ``values.py`` parses dates,
numbers and booleans. Every problem that makes a file unreadable raises ``ImportFileError``
with a translated message naming the file and, where it applies, the line and column.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salescope.imports.errors import (
    CODE_BINARY,
    CODE_BLANK_HEADER,
    CODE_CELL_TOO_LARGE,
    CODE_DUPLICATE_HEADER,
    CODE_EMPTY,
    CODE_INVALID_FILE,
    CODE_TOO_LARGE,
    CODE_TOO_MANY_COLUMNS,
    CODE_TOO_MANY_FILES,
    CODE_TOO_MANY_VALUES,
    CODE_UNKNOWN_SHEET,
    CODE_UNSUPPORTED,
    ImportFileError,
)

__all__ = [
    "CSV_EXTENSIONS",
    "DEFAULT_LIMITS",
    "DELIMITERS",
    "XLSX_EXTENSIONS",
    "Limits",
    "Table",
    "decode_text",
    "detect_delimiter",
    "read_tables",
]

DELIMITERS = (",", ";", "\t", "|")
CSV_EXTENSIONS = frozenset({"csv", "tsv", "txt", "tab", ""})
XLSX_EXTENSIONS = frozenset({"xlsx", "xlsm"})
_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Safety limits for one upload. ``Limits.from_settings()`` applies the site's settings."""

    max_bytes: int = 200 * _MB  # one uploaded file, and each member of a ZIP
    max_cell_chars: int = 32_767  # the Excel maximum
    max_columns: int = 500
    max_files: int = 100  # tables files in one ZIP
    max_expanded_bytes: int = 1024 * _MB  # uncompressed size of a ZIP or an XLSX

    @classmethod
    def from_settings(cls) -> Limits:
        default = cls()
        return cls(
            max_bytes=int(getattr(settings, "SALESCOPE_IMPORT_MAX_BYTES", default.max_bytes)),
            max_cell_chars=int(
                getattr(settings, "SALESCOPE_IMPORT_MAX_CELL_CHARS", default.max_cell_chars)
            ),
            max_columns=int(getattr(settings, "SALESCOPE_IMPORT_MAX_COLUMNS", default.max_columns)),
            max_files=int(getattr(settings, "SALESCOPE_IMPORT_MAX_FILES", default.max_files)),
            max_expanded_bytes=int(
                getattr(settings, "SALESCOPE_IMPORT_MAX_EXPANDED_BYTES", default.max_expanded_bytes)
            ),
        )


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Table:
    """One table of an upload: a CSV file, one XLSX sheet, or one member of a ZIP.

    ``name`` is the file name (``"deals.csv"``), ``"book.xlsx:Sheet"`` for a sheet, or the
    member's path inside a ZIP. ``rows`` all have ``len(headers)`` cells; rows without any
    value are left out, so use ``row_number(i)`` for the position in the source file.
    """

    name: str
    headers: list[str]
    rows: list[list[object]]
    line_numbers: list[int] | None = field(default=None, repr=False, compare=False)
    encoding: str | None = None  # CSV only: the detected text encoding
    delimiter: str | None = None  # CSV only: the detected delimiter

    def row_number(self, i: int) -> int:
        """1-based line (CSV, where the record starts) or row (XLSX) of ``rows[i]``;
        the header is 1 unless blank lines precede it."""
        if self.line_numbers is not None:
            return self.line_numbers[i]
        return i + 2

    def column(self, header: str) -> list[object]:
        """Every value of one column, in row order."""
        index = self.headers.index(header)
        return [row[index] for row in self.rows]


# --- entry point ------------------------------------------------------------------------------


def read_tables(
    name: str,
    data: bytes,
    *,
    sheet: str | None = None,
    limits: Limits | None = None,
) -> list[Table]:
    """Read an uploaded file into tables.

    CSV (delimiter, quoting and encoding detected) gives one table, XLSX one per visible
    sheet (or only ``sheet``), a ZIP one per CSV/XLSX member. ``limits`` defaults to
    ``Limits.from_settings()``.
    """
    limits = limits if limits is not None else Limits.from_settings()
    base = _base_name(name)
    return _read_any(base, data, sheet=sheet, limits=limits, allow_zip=True)


def _base_name(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name or name


def _extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].lower() if suffix else ""


def _read_any(
    name: str, data: bytes, *, sheet: str | None, limits: Limits, allow_zip: bool
) -> list[Table]:
    if len(data) > limits.max_bytes:
        raise ImportFileError(
            _("%(file)s is too large (%(size)s MB); at most %(max)s MB can be imported at once.")
            % {
                "file": name,
                "size": _megabytes(len(data)),
                "max": _megabytes(limits.max_bytes),
            },
            code=CODE_TOO_LARGE,
            file=name,
        )
    if not data or (len(data) < 4096 and not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")):
        raise ImportFileError(_("%(file)s is empty.") % {"file": name}, code=CODE_EMPTY, file=name)
    kind = _sniff_kind(name, data)
    if kind == "zip":
        if not allow_zip:
            raise _unsupported(name, _("a ZIP archive inside a ZIP archive"))
        return _read_zip(name, data, sheet=sheet, limits=limits)
    if kind == "xlsx":
        return _read_xlsx(name, data, sheet=sheet, limits=limits)
    if sheet is not None:
        raise ImportFileError(
            _("%(file)s is a CSV file and has no sheets (asked for the sheet “%(sheet)s”).")
            % {"file": name, "sheet": sheet},
            code=CODE_UNKNOWN_SHEET,
            file=name,
        )
    return [_read_csv(name, data, limits=limits)]


def _megabytes(size: int) -> str:
    return f"{size / _MB:.1f}".removesuffix(".0")


def _unsupported(name: str, what: str) -> ImportFileError:
    return ImportFileError(
        _("%(file)s is %(what)s, which cannot be imported. Upload CSV, XLSX or a ZIP of them.")
        % {"file": name, "what": what},
        code=CODE_UNSUPPORTED,
        file=name,
    )


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: tuple[tuple[bytes, Promise], ...] = (
    (b"%PDF", gettext_lazy("a PDF document")),
    (b"\x1f\x8b", gettext_lazy("a gzip archive")),
    (b"\x89PNG", gettext_lazy("an image")),
    (b"\xff\xd8\xff", gettext_lazy("an image")),
    (b"GIF8", gettext_lazy("an image")),
    (b"Rar!", gettext_lazy("a RAR archive")),
    (b"7z\xbc\xaf", gettext_lazy("a 7-Zip archive")),
)


def _sniff_kind(name: str, data: bytes) -> str:
    """ "zip", "xlsx" or "csv" from the content (magic bytes), then the extension."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError):
            raise ImportFileError(
                _("%(file)s is a damaged ZIP/XLSX file and cannot be opened.") % {"file": name},
                code=CODE_INVALID_FILE,
                file=name,
            ) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if b"opendocument" in mimetype:
            raise _unsupported(name, _("an OpenDocument file (save it as XLSX or CSV first)"))
        if "word/document.xml" in names or "ppt/presentation.xml" in names:
            raise _unsupported(name, _("a Word or PowerPoint document"))
        if _extension(name) in XLSX_EXTENSIONS:
            raise ImportFileError(
                _("%(file)s is not a valid XLSX workbook.") % {"file": name},
                code=CODE_INVALID_FILE,
                file=name,
            )
        return "zip"
    if data.startswith(_OLE2):
        raise _unsupported(
            name,
            _("an old Excel (.xls) or password-protected workbook (save it as XLSX or CSV)"),
        )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _unsupported(name, str(what))
    extension = _extension(name)
    if extension in XLSX_EXTENSIONS or extension == "zip":
        raise ImportFileError(
            _("%(file)s is not a valid %(type)s file.") % {"file": name, "type": extension.upper()},
            code=CODE_INVALID_FILE,
            file=name,
        )
    if extension not in CSV_EXTENSIONS:
        raise _unsupported(name, _("a .%(ext)s file") % {"ext": extension})
    return "csv"


# --- ZIP --------------------------------------------------------------------------------------


def _read_zip(name: str, data: bytes, *, sheet: str | None, limits: Limits) -> list[Table]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise ImportFileError(
            _("%(file)s is a damaged ZIP file and cannot be opened.") % {"file": name},
            code=CODE_INVALID_FILE,
            file=name,
        ) from None
    with zf:
        members = [
            info
            for info in zf.infolist()
            if not info.is_dir()
            and not any(
                part.startswith(".") or part == "__MACOSX"
                for part in PurePosixPath(info.filename).parts
            )
            and _extension(info.filename) in (CSV_EXTENSIONS | XLSX_EXTENSIONS) - {""}
        ]
        if not members:
            raise ImportFileError(
                _("%(file)s contains no CSV or XLSX file.") % {"file": name},
                code=CODE_EMPTY,
                file=name,
            )
        if len(members) > limits.max_files:
            raise ImportFileError(
                _("%(file)s contains %(count)s files; at most %(max)s can be imported at once.")
                % {"file": name, "count": len(members), "max": limits.max_files},
                code=CODE_TOO_MANY_FILES,
                file=name,
            )
        _check_expanded(name, members, limits)
        tables: list[Table] = []
        sheet_found = sheet is None
        for info in sorted(members, key=lambda i: i.filename):
            member = info.filename
            try:
                with zf.open(info) as handle:
                    content = handle.read(limits.max_bytes + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError):
                raise ImportFileError(
                    _("%(file)s: the member %(member)s cannot be extracted (damaged or encrypted).")
                    % {"file": name, "member": member},
                    code=CODE_INVALID_FILE,
                    file=name,
                ) from None
            if sheet is not None and content and _sniff_kind(member, content) == "xlsx":
                try:
                    found = _read_any(member, content, sheet=sheet, limits=limits, allow_zip=False)
                except ImportFileError as exc:
                    if exc.code == CODE_UNKNOWN_SHEET:
                        continue
                    raise
                sheet_found = True
                tables.extend(found)
            else:
                tables.extend(
                    _read_any(member, content, sheet=None, limits=limits, allow_zip=False)
                )
        if not sheet_found:
            raise ImportFileError(
                _("%(file)s has no workbook with a sheet “%(sheet)s”.")
                % {"file": name, "sheet": sheet},
                code=CODE_UNKNOWN_SHEET,
                file=name,
            )
        return tables


def _check_expanded(name: str, members: Iterable[zipfile.ZipInfo], limits: Limits) -> None:
    expanded = sum(info.file_size for info in members)
    if expanded > limits.max_expanded_bytes:
        raise ImportFileError(
            _("%(file)s expands to %(size)s MB; at most %(max)s MB can be imported at once.")
            % {
                "file": name,
                "size": _megabytes(expanded),
                "max": _megabytes(limits.max_expanded_bytes),
            },
            code=CODE_TOO_LARGE,
            file=name,
        )


# --- XLSX -------------------------------------------------------------------------------------

_EXCEL_ERRORS = frozenset(
    {"#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA"}
)


def _open_workbook(name: str, data: bytes, limits: Limits) -> Any:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_expanded(name, zf.infolist(), limits)
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds on damaged files
        raise ImportFileError(
            _("%(file)s is a damaged XLSX workbook and cannot be opened.") % {"file": name},
            code=CODE_INVALID_FILE,
            file=name,
        ) from None


def _find_sheet(worksheets: Sequence[Any], sheet: str) -> Any:
    for ws in worksheets:
        if ws.title == sheet:
            return ws
    wanted = " ".join(sheet.split()).casefold()
    for ws in worksheets:
        if " ".join(ws.title.split()).casefold() == wanted:
            return ws
    return None


def _read_xlsx(name: str, data: bytes, *, sheet: str | None, limits: Limits) -> list[Table]:
    wb = _open_workbook(name, data, limits)
    try:
        worksheets = list(wb.worksheets)
        if sheet is not None:
            ws = _find_sheet(worksheets, sheet)
            if ws is None:
                raise ImportFileError(
                    _("%(file)s has no sheet “%(sheet)s”. Its sheets are: %(sheets)s.")
                    % {
                        "file": name,
                        "sheet": sheet,
                        "sheets": ", ".join(f"“{w.title}”" for w in worksheets),
                    },
                    code=CODE_UNKNOWN_SHEET,
                    file=name,
                )
            selected = [ws]
        else:
            selected = [ws for ws in worksheets if ws.sheet_state == "visible"] or worksheets
        tables = []
        for ws in selected:
            table = _read_sheet(f"{name}:{ws.title}", ws, limits)
            if table is not None:
                tables.append(table)
            elif sheet is not None:
                raise ImportFileError(
                    _("The sheet “%(sheet)s” of %(file)s is empty.")
                    % {"sheet": ws.title, "file": name},
                    code=CODE_EMPTY,
                    file=name,
                )
        if not tables:
            raise ImportFileError(
                _("%(file)s is empty: none of its sheets has any data.") % {"file": name},
                code=CODE_EMPTY,
                file=name,
            )
        return tables
    finally:
        wb.close()


def _xlsx_value(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        if not value or value in _EXCEL_ERRORS:
            return None
    return value


def _read_sheet(name: str, ws: Any, limits: Limits) -> Table | None:
    from openpyxl.utils import get_column_letter

    ws.reset_dimensions()  # the declared dimension is often wrong; read what is there
    builder = _TableBuilder(name, limits, unit="row", letters=get_column_letter)
    max_cell = limits.max_cell_chars
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [_xlsx_value(v) for v in values]
        while cells and cells[-1] is None:
            cells.pop()
        if not cells:
            continue
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > max_cell:
                builder.cell_too_large(number, index, len(cell))
        builder.add(number, cells)
    return builder.build()


# --- CSV --------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def decode_text(name: str, data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding used: a BOM (UTF-8, UTF-16, UTF-32), UTF-16
    without BOM, UTF-8, then cp1252 and latin-1. Binary data raises ``ImportFileError``."""
    encoding = None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            encoding = codec
            break
    head = data[:4096]
    if encoding is None and b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            encoding = "utf-16-le"
        elif even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            encoding = "utf-16-be"
        else:
            raise _binary(name)
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise ImportFileError(
                _("%(file)s is not valid %(encoding)s text.")
                % {"file": name, "encoding": encoding.upper()},
                code=CODE_INVALID_FILE,
                file=name,
            ) from None
    else:
        for encoding in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - latin-1 decodes every byte
            raise _binary(name)
    sample = text[:65536]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > max(2, len(sample) // 50):
        raise _binary(name)
    return text, encoding


def _binary(name: str) -> ImportFileError:
    return ImportFileError(
        _("%(file)s is a binary file, not a CSV or XLSX table.") % {"file": name},
        code=CODE_BINARY,
        file=name,
    )


_SEP_LINE = re.compile(r"\A\ufeff?sep=(.)[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)


def detect_delimiter(text: str) -> str:
    """The delimiter (one of ``DELIMITERS``) that splits the first lines into the most
    consistent rows; a delimiter absent from the text means one column."""
    sample = text[:65536]
    truncated = len(text) > len(sample)
    if truncated:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        if cut > 0:
            sample = sample[:cut]
    hint = None
    with contextlib.suppress(csv.Error):
        hint = csv.Sniffer().sniff(sample[:8192], delimiters="".join(DELIMITERS)).delimiter
    best: tuple[Any, ...] | None = None
    chosen = DELIMITERS[0]
    for rank, delimiter in enumerate(DELIMITERS):
        records = [
            record
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            if any(cell.strip() for cell in record)
        ]
        if truncated and len(records) > 2:
            records = records[:-1]  # possibly cut in the middle
        if not records:
            # nothing but this delimiter, quotes and blanks: it is the delimiter of an empty
            # table (still less likely than any split into several columns)
            score: tuple[Any, ...] = (False, True, 1.5, 0, delimiter == hint, -rank)
            if best is None or score > best:
                best, chosen = score, delimiter
            continue
        lengths = Counter(len(record) for record in records)
        width = max(lengths, key=lambda n: (lengths[n], n))  # the usual record length
        consistent = lengths[width] / len(records)
        score = (
            width > 1,
            _quotes_balanced(sample, delimiter, truncated=truncated),
            round(consistent, 3),
            width,
            delimiter == hint,
            -rank,
        )
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


def _quotes_balanced(sample: str, delimiter: str, *, truncated: bool) -> bool:
    """Whether every quoted field closes right before a delimiter or a line end: with the
    wrong delimiter, quoted fields of the right one are followed by other characters."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=True)
    try:
        for _record in reader:
            pass
    except csv.Error as exc:
        return truncated and "end of data" in str(exc)
    return True


def _read_csv(name: str, data: bytes, *, limits: Limits) -> Table:
    text, encoding = decode_text(name, data)
    if text.startswith("\ufeff"):
        text = text[1:]
    match = _SEP_LINE.match(text)
    start_line = 0
    if match and match.group(1) in DELIMITERS:
        delimiter = match.group(1)
        text = text[match.end() :]
        start_line = 1
    else:
        delimiter = detect_delimiter(text)
    if csv.field_size_limit() <= limits.max_cell_chars:
        csv.field_size_limit(limits.max_cell_chars + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    builder = _TableBuilder(name, limits, unit="line")
    max_cell = limits.max_cell_chars
    previous = start_line
    try:
        for record in reader:
            line = previous + 1
            previous = reader.line_num + start_line
            if not record:
                continue
            if max(map(len, record)) > max_cell:
                index = next(i for i, cell in enumerate(record) if len(cell) > max_cell)
                builder.cell_too_large(line, index, len(record[index]))
            cells: list[object] = [cell.strip() or None for cell in record]
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                builder.add(line, cells)
    except csv.Error as exc:
        if "field limit" in str(exc):
            builder.cell_too_large(previous + 1, None, None)
        raise ImportFileError(
            _("%(file)s cannot be read as CSV near line %(line)s.")
            % {"file": name, "line": previous + 1},
            code=CODE_INVALID_FILE,
            file=name,
            row=previous + 1,
        ) from None
    table = builder.build()
    if table is None:
        raise ImportFileError(_("%(file)s is empty.") % {"file": name}, code=CODE_EMPTY, file=name)
    return Table(
        name=table.name,
        headers=table.headers,
        rows=table.rows,
        line_numbers=table.line_numbers,
        encoding=encoding,
        delimiter=delimiter,
    )


# --- shared table building ----------------------------------------------------------------------


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


_MAX_PREAMBLE = 5


class _TableBuilder:
    """Collects the header and the rows of one table and checks the structural limits."""

    def __init__(self, name: str, limits: Limits, *, unit: str, letters: Any = None) -> None:
        self.name = name
        self.limits = limits
        self.unit = unit  # "line" (CSV) or "row" (XLSX)
        self.letters = letters
        self.headers: list[str] | None = None
        self.header_line = 0
        self.width = 0
        self.rows: list[list[object]] = []
        self.lines: list[int] = []
        self.pending: list[tuple[int, list[object]]] = []

    def _where(self, number: int) -> str:
        if self.unit == "row":
            return _("row %(number)s") % {"number": number}
        return _("line %(number)s") % {"number": number}

    def _column(self, index: int) -> str:
        if self.headers is not None and index < len(self.headers) and self.headers[index]:
            return f"“{self.headers[index]}”"
        if self.letters is not None:
            return _("column %(letter)s") % {"letter": self.letters(index + 1)}
        return _("column %(number)s") % {"number": index + 1}

    def cell_too_large(self, number: int, index: int | None, size: int | None) -> None:
        column = self._column(index) if index is not None else "?"
        raise ImportFileError(
            _(
                "%(file)s, %(where)s, %(column)s: the cell is too large (%(size)s characters); "
                "at most %(max)s are allowed."
            )
            % {
                "file": self.name,
                "where": self._where(number),
                "column": column,
                "size": size
                if size is not None
                else _("more than %(max)s") % {"max": self.limits.max_cell_chars},
                "max": self.limits.max_cell_chars,
            },
            code=CODE_CELL_TOO_LARGE,
            file=self.name,
            row=number,
            column=self.headers[index]
            if self.headers is not None and index is not None and index < len(self.headers)
            else None,
        )

    def add(self, number: int, cells: list[object]) -> None:
        if self.headers is None:
            # A report title or filter line above the header ("Deals won, Q1") has one value;
            # the header after it has several. A table of one column has only such rows.
            filled = sum(cell is not None for cell in cells)
            if filled <= 1 and len(self.pending) < _MAX_PREAMBLE:
                self.pending.append((number, cells))
                return
            if filled <= 1:
                self._flush_pending()
            else:
                self.pending.clear()
                self._set_headers(number, cells)
                return
        width = self.width
        if len(cells) > width:
            raise ImportFileError(
                _(
                    "%(file)s, %(where)s has %(count)s values but the header (%(header)s) "
                    "has only %(width)s columns. Check the delimiter and the quoting."
                )
                % {
                    "file": self.name,
                    "where": self._where(number),
                    "count": len(cells),
                    "header": self._where(self.header_line),
                    "width": width,
                },
                code=CODE_TOO_MANY_VALUES,
                file=self.name,
                row=number,
            )
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        self.rows.append(cells)
        self.lines.append(number)

    def _set_headers(self, number: int, cells: list[object]) -> None:
        if len(cells) > self.limits.max_columns:
            raise ImportFileError(
                _("%(file)s has %(count)s columns; at most %(max)s are allowed.")
                % {"file": self.name, "count": len(cells), "max": self.limits.max_columns},
                code=CODE_TOO_MANY_COLUMNS,
                file=self.name,
            )
        headers = [_header_text(cell) for cell in cells]
        for index, header in enumerate(headers):
            if len(header) > self.limits.max_cell_chars:
                self.cell_too_large(number, index, len(header))
        seen: dict[str, int] = {}
        for index, header in enumerate(headers):
            if not header:
                continue
            if header in seen:
                raise ImportFileError(
                    _(
                        "%(file)s: the column “%(header)s” appears twice (%(first)s and "
                        "%(second)s). Rename one of them."
                    )
                    % {
                        "file": self.name,
                        "header": header,
                        "first": self._position(seen[header]),
                        "second": self._position(index),
                    },
                    code=CODE_DUPLICATE_HEADER,
                    file=self.name,
                    column=header,
                )
            seen[header] = index
        self.headers = headers
        self.header_line = number
        self.width = len(headers)

    def _position(self, index: int) -> str:
        if self.letters is not None:
            return _("column %(letter)s") % {"letter": self.letters(index + 1)}
        return _("column %(number)s") % {"number": index + 1}

    def _flush_pending(self) -> None:
        """No header with several columns came: the first held row is the header."""
        pending, self.pending = self.pending, []
        for number, cells in pending:
            if self.headers is None:
                self._set_headers(number, cells)
            else:
                self.add(number, cells)

    def build(self) -> Table | None:
        if self.headers is None and self.pending:
            self._flush_pending()
        if self.headers is None:
            return None
        headers, rows = self.headers, self.rows
        blank = [i for i, header in enumerate(headers) if not header]
        if blank:
            for i in blank:
                for row_index, row in enumerate(rows):
                    if row[i] is not None:
                        raise ImportFileError(
                            _(
                                "%(file)s: %(column)s has values (first at %(where)s) but no "
                                "header. Give every column a name."
                            )
                            % {
                                "file": self.name,
                                "column": self._position(i),
                                "where": self._where(self.lines[row_index]),
                            },
                            code=CODE_BLANK_HEADER,
                            file=self.name,
                            row=self.lines[row_index],
                        )
            keep = [i for i, header in enumerate(headers) if header]
            headers = [headers[i] for i in keep]
            rows = [[row[i] for i in keep] for row in rows]
            if not headers:
                return None
        return Table(name=self.name, headers=headers, rows=rows, line_numbers=self.lines)
