"""Export of a list (I2) to CSV and XLSX: the same rows, order and columns as on screen.

Every page is exported, not just the one shown; rows are read with an iterator in
chunks (related rows joined or prefetched per chunk), so 10,000+ rows stay cheap.

Formula injection (a cell such as ``=HYPERLINK(...)`` run by a spreadsheet) is neutralised:
in CSV, text starting with ``= + - @`` (or a tab or carriage return) gets a leading ``'``;
in XLSX every text is stored as a string cell, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from salescope.lists.framework import (
    BOOL,
    DATE,
    DATETIME,
    LIST,
    MONEY,
    NUMBER,
    PERCENT,
    Column,
)

CHUNK = 1000
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
CSV_SPECIAL = (",", ";", '"', "\n", "\r", "\t")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(text: str) -> str:
    """A text a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(DANGEROUS_START) else text


def headers(columns: Iterable[Column]) -> list[str]:
    out = []
    for column in columns:
        out.append(str(column.label))
        if column.fmt == MONEY:
            out.append(_("%(column)s currency") % {"column": column.label})
    return out


def _local(value: dt.datetime) -> dt.datetime:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None, microsecond=0)


def typed_cells(columns: Iterable[Column], obj: Any) -> list[Any]:
    """The cells of one row as Python values: Decimal, int, date, datetime, str or None."""
    cells: list[Any] = []
    for column in columns:
        value = column.value_of(obj)
        fmt = column.fmt
        if fmt == MONEY:
            cells.append(Decimal(value) if isinstance(value, int | Decimal) else None)
            cells.append(column.currency_of(obj) or "")
            continue
        if value is None:
            cells.append(None)
        elif fmt == DATE and isinstance(value, dt.datetime):
            cells.append(_local(value).date())
        elif fmt in (DATE, DATETIME) and isinstance(value, dt.datetime):
            cells.append(_local(value))
        elif (fmt in (DATE, DATETIME) and isinstance(value, dt.date)) or (
            fmt in (NUMBER, PERCENT) and isinstance(value, int | Decimal)
        ):
            cells.append(value)
        elif fmt == BOOL:
            cells.append(_("yes") if value else _("no"))
        elif fmt == LIST:
            cells.append(", ".join(str(v) for v in value))
        else:
            cells.append(str(value))
    return cells


def rows(qs: QuerySet[Any], columns: list[Column]) -> Iterator[list[Any]]:
    for obj in qs.iterator(chunk_size=CHUNK):
        yield typed_cells(columns, obj)


# --- CSV ---------------------------------------------------------------------------------


def _csv_field(value: Any, percent: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, Decimal | int):
        if percent:
            return f"{(Decimal(value) * 100).normalize():f}%"
        return f"{value}"
    elif isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, dt.date):
        return value.isoformat()
    else:
        text = neutralise(str(value))
    if any(ch in text for ch in CSV_SPECIAL) or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_stream(qs: QuerySet[Any], columns: list[Column]) -> Iterator[str]:
    """UTF-8 CSV (with BOM, for Excel) as chunks of lines.

    Texts with a comma, semicolon, quote or line break are quoted, so the file reads the
    same whether a spreadsheet splits on commas or on semicolons.
    """
    percent_at = []
    for column in columns:
        percent_at.append(column.fmt == PERCENT)
        if column.fmt == MONEY:
            percent_at.append(False)
    yield "\ufeff" + ",".join(_csv_field(h) for h in headers(columns)) + "\r\n"
    batch: list[str] = []
    for cells in rows(qs, columns):
        batch.append(
            ",".join(_csv_field(v, p) for v, p in zip(cells, percent_at, strict=True)) + "\r\n"
        )
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


# --- XLSX --------------------------------------------------------------------------------


def xlsx_bytes(qs: QuerySet[Any], columns: list[Column], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or "Export")[:31])
    formats: list[str | None] = []
    widths: list[int] = []
    for column in columns:
        fmt = {
            MONEY: "#,##0.00",
            DATE: "yyyy-mm-dd",
            DATETIME: "yyyy-mm-dd hh:mm",
            PERCENT: "0%",
        }.get(column.fmt)
        formats.append(fmt)
        widths.append(14 if column.fmt in (MONEY, DATE, DATETIME, PERCENT, NUMBER) else 24)
        if column.fmt == MONEY:
            formats.append(None)
            widths.append(9)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def text_cell(value: str) -> Any:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # a string, never a formula, whatever it starts with
        return cell

    header_cells = []
    for name in headers(columns):
        cell = text_cell(name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    styled: dict[tuple[int, str], Any] = {}

    def number_cell(index: int, value: Any, fmt: str) -> Any:
        # One styled cell object per column, reused row after row: ``append`` writes a
        # row out completely before the next one is built.
        cell = styled.get((index, fmt))
        if cell is None:
            cell = styled[(index, fmt)] = WriteOnlyCell(sheet, value=value)
            cell.number_format = fmt
        else:
            cell.value = value
        return cell

    for cells in rows(qs, columns):
        out: list[Any] = []
        for index, (value, fmt) in enumerate(zip(cells, formats, strict=True)):
            if isinstance(value, str):
                out.append(text_cell(value) if value.startswith("=") or not value.isprintable()
                           else value)  # fmt: skip
            elif value is None or fmt is None:
                out.append(value)
            elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                out.append(number_cell(index, value, "yyyy-mm-dd"))
            else:
                out.append(number_cell(index, value, fmt))
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
