"""Salesforce exports need two changes before the mapping applies.

* ``Opportunity``: ``CloseDate`` is the expected close date of an open opportunity and the
  date a closed one closed. A ``ClosedOn`` column gets it for closed ones (``IsClosed``, else
  a closed stage name), so the mapping reads ``CloseDate`` as the expected close date.
* ``OpportunityFieldHistory`` has one row per changed field (``Field``, ``OldValue``,
  ``NewValue``). It becomes history rows with the changed field in its own column, preceded
  per opportunity by a row with the values before the first change of each field, so the
  history starts from what the opportunity really was when it was created.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from salescope.imports.presets import hook
from salescope.imports.reading import Table

CLOSED_STAGES = {"closed won", "closed lost"}
TRUE = {"true", "1", "yes"}
#: Field history fields that become history columns (the rest is not tracked here).
TRACKED = {"StageName": "StageName", "Amount": "Amount", "CloseDate": "CloseDate",
           "Probability": "Probability"}  # fmt: skip
CREATED = {"created", "opportunitycreatedfromlead"}
HISTORY_HEADERS = ["OpportunityId", "CreatedDate", "CreatedById", *TRACKED.values()]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _is_opportunity_table(table: Table) -> bool:
    return {"Id", "StageName", "CloseDate"} <= set(table.headers) and (
        "OpportunityId" not in table.headers
    )


def _is_field_history(table: Table) -> bool:
    return {"OpportunityId", "Field", "NewValue", "CreatedDate"} <= set(table.headers)


def add_closed_on(table: Table) -> Table:
    headers = table.headers
    close = headers.index("CloseDate")
    is_closed = headers.index("IsClosed") if "IsClosed" in headers else None
    stage = headers.index("StageName")
    rows = []
    for row in table.rows:
        if is_closed is not None and _text(row[is_closed]):
            closed = _text(row[is_closed]).lower() in TRUE
        else:
            closed = _text(row[stage]).lower() in CLOSED_STAGES
        rows.append([*row, row[close] if closed else None])
    return dataclasses.replace(table, headers=[*headers, "ClosedOn"], rows=rows)


def field_history_rows(table: Table) -> Table:
    h = {name: i for i, name in enumerate(table.headers)}
    by_opp: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(table.rows):
        by_opp[_text(row[h["OpportunityId"]])].append(i)
    rows: list[list[object]] = []
    lines: list[int] = []
    width = len(TRACKED)
    for opp, indexes in by_opp.items():
        indexes.sort(key=lambda i: _text(table.rows[i][h["CreatedDate"]]))
        initial: list[object] = [None] * width
        start: int | None = None
        changes: list[tuple[int, list[object]]] = []
        for i in indexes:
            row = table.rows[i]
            field = _text(row[h["Field"]])
            if field.lower() in CREATED:
                start = i if start is None else start
                continue
            if field not in TRACKED:
                continue
            column = list(TRACKED).index(field)
            if initial[column] is None and "OldValue" in h:
                initial[column] = row[h["OldValue"]] or None
            values: list[object] = [None] * width
            values[column] = row[h["NewValue"]]
            changes.append((i, values))
        if start is None and changes:
            start = changes[0][0]
        if start is None:
            continue
        first = table.rows[start]
        actor = first[h["CreatedById"]] if "CreatedById" in h else None
        rows.append([opp, first[h["CreatedDate"]], actor, *initial])
        lines.append(table.row_number(start))
        for i, values in changes:
            row = table.rows[i]
            actor = row[h["CreatedById"]] if "CreatedById" in h else None
            rows.append([opp, row[h["CreatedDate"]], actor, *values])
            lines.append(table.row_number(i))
    return dataclasses.replace(table, headers=list(HISTORY_HEADERS), rows=rows, line_numbers=lines)


@hook("salesforce")
def prepare(tables: list[Table]) -> list[Table]:
    out = []
    for table in tables:
        if _is_field_history(table):
            table = field_history_rows(table)
        elif _is_opportunity_table(table):
            table = add_closed_on(table)
        out.append(table)
    return out
