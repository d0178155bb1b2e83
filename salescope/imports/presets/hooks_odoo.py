"""Odoo ``crm.lead`` exports: a lost opportunity is an archived one, not a stage.

Odoo marks a lead lost by archiving it (``Active`` false, probability 0, a lost reason) and
leaves it in the stage it was in; won ones sit in a stage flagged as won. This hook adds an
``Outcome`` column (won / lost / open) and ``Won At`` / ``Lost At`` columns (the ``Closed
Date``, else the last stage update, of closed ones) that the mapping reads as the moment the
opportunity closed, and writes probabilities (floats in Odoo, "33.33") as whole numbers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from salescope.imports.presets import hook
from salescope.imports.reading import Table

FALSE = {"false", "0", "no", "nein", "faux", "onwaar"}
WON_STAGES = {"won", "gewonnen", "gagné", "gewonnen (won)"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _inactive(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return _text(value).lower() in FALSE


def _percent(value: Any) -> Any:
    text = _text(value)
    try:
        return str(round(float(text))) if text else None
    except ValueError:
        return value  # reported by the import with its row and column


def _is_lead_table(table: Table) -> bool:
    return {"Opportunity", "Stage", "Expected Revenue"} <= set(table.headers)


def add_outcome(table: Table) -> Table:
    h = {name: i for i, name in enumerate(table.headers)}
    rows = []
    for row in table.rows:
        stage = _text(row[h["Stage"]]).lower()
        if "Active" in h and _inactive(row[h["Active"]]):
            outcome = "lost"
        elif stage in WON_STAGES:
            outcome = "won"
        else:
            outcome = "open"
        closed = None
        if outcome != "open":
            for column in ("Closed Date", "Last Stage Update"):
                if column in h and _text(row[h[column]]):
                    closed = row[h[column]]
                    break
        cells = list(row)
        if "Probability" in h:
            cells[h["Probability"]] = _percent(cells[h["Probability"]])
        won, lost = (closed, None) if outcome == "won" else (None, closed)
        rows.append([*cells, outcome, won, lost])
    headers = [*table.headers, "Outcome", "Won At", "Lost At"]
    return dataclasses.replace(table, headers=headers, rows=rows)


@hook("odoo")
def prepare(tables: list[Table]) -> list[Table]:
    return [add_outcome(t) if _is_lead_table(t) else t for t in tables]
