"""``docs/kpis.md``, generated from the registry by ``salescope kpi docs``."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import translation

from salescope.kpis import dimensions as dims
from salescope.kpis import periods, registry

DOCS_PATH = Path(settings.PROJECT_DIR) / "docs" / "kpis.md"

HEADER = """\
# KPI catalogue

<!-- Generated from salescope/kpis/catalogue.py by `salescope kpi docs`. Do not edit. -->

Every KPI is declared once in the registry (`salescope/kpis/registry.py`, catalogue in
`salescope/kpis/catalogue.py`) and computed by one engine (`salescope/kpis/engine.py`), the
same for the UI, the REST API (`GET /api/v1/kpis`, `GET /api/v1/kpis/{key}`) and the command
line (`salescope kpi list`, `salescope kpi show KEY`).

## Rules of the engine

- **Period.** `from` and `to` are days in the company time zone (`TIME_ZONE`, Europe/Berlin
  by default), both included; internally the half-open range `[from, to + 1 day)`. Date
  fields (close date, expected close date) compare as dates; times (created, stage changes,
  activities done) are compared with the UTC instants of midnight in the company time zone,
  so a deal closed at 23:30 in Berlin on 31 March counts in March.
- **Grains.** day, ISO week (from Monday), month, quarter, year, fiscal quarter and fiscal
  year (starting in the company's fiscal year start month). A bucket is named by its first
  day. Buckets are computed in the database (`Trunc…` in the company time zone; fiscal
  buckets by month arithmetic).
- **Comparison.** `previous`: the same number of whole months just before (February for
  March), or the same number of days for other periods; `year`: the same days a year
  earlier. KPIs measured as of now have no comparison.
- **No value.** A rate whose denominator is 0, an average or median of nothing: no value
  (`null` in the API, "–" on screen), never 0. Counts and sums of nothing are 0.
- **Scope.** Every KPI counts only the records the user sees (`salescope/visibility.py`):
  a rep their own and shared deals, a manager their teams', admins everything.
- **Money.** Converted record by record, in SQL, to the report currency (the company
  currency unless asked otherwise) at the stored rate valid on the record's date (latest
  `valid_from` on or before it); sums are rounded to the cent at the end. A missing rate
  is an error naming the currency and the day, never a silently smaller total.
- **Medians.** `percentile_cont(0.5)` on PostgreSQL; on SQLite the measured column is
  fetched in order and the middle taken in Python (mean of the two middle values).
- **Won and lost.** A deal counts as won (or lost) in the period of its latest close: the
  outcome and close date are the deal's current ones. A deal won, reopened and won again
  counts once, on its latest close date; a deal won and reopened (still open) is not won.
- **Multi-valued dimensions.** `product` and `tag_category`: a deal counts under each of
  its product lines (or its account's tags), so groups may add up to more than the total.
- **Drill-down.** `engine.records(query, group=…, bucket=…)` returns the records behind any
  number: their count (or the sum of their value) is the number.
"""


def _dimension_list() -> str:
    rows = ["| dimension | meaning |", "| --- | --- |"]
    for key in dims.DIMENSION_KEYS:
        d = dims.get(key)
        note = " (multi-valued)" if d.multi else ""
        rows.append(f"| `{key}` | {d.label}{note} |")
    return "\n".join(rows)


def generate() -> str:
    """The Markdown of the catalogue, always in English."""
    with translation.override("en"):
        kpis = registry.all_kpis()
        out = [HEADER]
        out.append("## Dimensions\n")
        out.append(_dimension_list() + "\n")
        out.append(f"Grains: {', '.join(f'`{g}`' for g in periods.GRAINS)}.\n")
        out.append("## Summary\n")
        out.append("| key | name | unit | better | kind |")
        out.append("| --- | --- | --- | --- | --- |")
        for k in kpis:
            out.append(
                f"| [`{k.key}`](#{k.key}) | {k.name} | {k.unit} | {k.direction} | {k.kind} |"
            )
        out.append("")
        for k in kpis:
            out.append(f"## {k.key}\n")
            out.append(f"**{k.name}**: {k.description}\n")
            out.append(f"- Formula: {k.formula}")
            out.append(f"- Unit: {k.unit}; {k.direction} is better; kind: {k.kind}")
            if k.snapshot:
                out.append("- Time: as of now (the period does not apply)")
            elif k.time_field is not None:
                out.append(f"- Period filters on: {k.time_field.label}")
            if k.inputs:
                inputs = ", ".join(f"`{i}`" for i in k.inputs)
                window = f" (monthly, over {k.window_months} months)" if k.window_months else ""
                out.append(f"- Computed from: {inputs}{window}")
            out.append(f"- Dimensions: {', '.join(f'`{d}`' for d in k.dimensions)}")
            out.append(f"- Grains: {'yes' if k.grains else 'no'}")
            for rule in k.rules:
                out.append(f"- {rule}")
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def write(path: Path = DOCS_PATH) -> bool:
    """Write the file; True if it changed."""
    text = generate()
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
