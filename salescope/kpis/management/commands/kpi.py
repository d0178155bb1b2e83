"""``salescope kpi``: the KPI catalogue and any KPI's numbers on the command line.

    salescope kpi list
    salescope kpi show won_revenue --by rep --from 2026-01-01 --to 2026-03-31 --grain month
    salescope kpi show win_rate --compare previous --as alice --json
    salescope kpi docs [--check]

Without ``--as`` the numbers cover every record (the system's view); with ``--as USERNAME``
they are limited to what that user sees, exactly as in the UI and the API.
"""

from __future__ import annotations

import json
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from rich.console import Console
from rich.table import Table

from salescope.kpis import docs, engine, periods, registry
from salescope.kpis.api import build_query, kpi_out, result_out


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "List the KPI catalogue, show a KPI's numbers, or write docs/kpis.md."
    requires_system_checks: list[str] = []  # a read-only report; needs no URL or admin checks

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,show,docs}")
        listing = sub.add_parser("list", help="The catalogue with formulas.")
        listing.add_argument("--json", action="store_true", help="Print JSON.")
        show = sub.add_parser("show", help="A KPI's numbers.")
        show.add_argument("key", help="The KPI key (see `salescope kpi list`).")
        show.add_argument("--by", metavar="DIM", help="Group by a dimension.")
        show.add_argument("--from", dest="start", metavar="DATE", help="First day (YYYY-MM-DD).")
        show.add_argument("--to", dest="end", metavar="DATE", help="Last day, included.")
        show.add_argument("--grain", choices=periods.GRAINS, help="Cut the period into buckets.")
        show.add_argument("--compare", choices=periods.COMPARES, help="Comparison period.")
        show.add_argument(
            "--filter",
            action="append",
            metavar="DIM:VALUES",
            help="e.g. team:3 or source:1,2 (repeatable).",
        )
        show.add_argument("--currency", metavar="CODE", help="Report money in this currency.")
        show.add_argument("--as", dest="username", metavar="USER", help="Scope of this user.")
        show.add_argument("--json", action="store_true", help="Print JSON (as the API).")
        documentation = sub.add_parser("docs", help="Write docs/kpis.md from the registry.")
        documentation.add_argument(
            "--check", action="store_true", help="Fail if docs/kpis.md is not current."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(as_json=options["json"])
        elif action == "show":
            self._show(options)
        else:
            self._docs(check=options["check"])

    def _console(self) -> Console:
        return Console(file=cast(IO[str], self.stdout), width=140, highlight=False)

    def _print_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))

    def _list(self, *, as_json: bool) -> None:
        kpis = registry.all_kpis()
        if as_json:
            self._print_json([kpi_out(k) for k in kpis])
            return
        table = Table(title="KPI catalogue")
        for column in ("key", "name", "formula", "unit", "better", "dimensions"):
            table.add_column(column, overflow="fold")
        for k in kpis:
            table.add_row(
                k.key, str(k.name), str(k.formula), k.unit, k.direction, ", ".join(k.dimensions)
            )
        self._console().print(table)

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        from salescope.org.models import User

        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"--as: no user named {username!r}.") from None

    def _show(self, options: dict[str, Any]) -> None:
        user = self._user(options.get("username"))
        if not registry.exists(options["key"]):
            raise CommandError(
                f"Unknown KPI {options['key']!r}; see `salescope kpi list` for the keys."
            )
        try:
            query = build_query(
                key=options["key"],
                user=user,
                by=options.get("by"),
                grain=options.get("grain"),
                start=options.get("start"),
                last_day=options.get("end"),
                compare=options.get("compare"),
                filters=options.get("filter"),
                currency=options.get("currency"),
            )
            result = engine.compute(query)
        except ValidationError as exc:
            raise CommandError(_error_text(exc)) from None
        if options["json"]:
            self._print_json(result_out(result))
            return
        self._console().print(self._table(result))

    def _table(self, result: engine.KpiResult) -> Table:
        kpi = result.kpi
        title = f"{kpi.name} ({result.period})"
        if result.compare_period is not None:
            title += f" vs {result.compare_period}"
        table = Table(title=title, caption=str(kpi.formula))
        if result.query.by:
            table.add_column(result.query.by)
        if result.query.grain:
            table.add_column(result.query.grain)
        table.add_column("value", justify="right")
        compare = result.compare_period is not None
        if compare:
            table.add_column("compare", justify="right")
            table.add_column("change", justify="right")

        def add(cell: engine.Cell, group: str, bucket: str, style: str | None = None) -> None:
            row = []
            if result.query.by:
                row.append(group)
            if result.query.grain:
                row.append(bucket)
            row.append(engine.display(kpi, cell.value, result.currency))
            if compare:
                row.append(engine.display(kpi, cell.compare, result.currency))
                row.append("–" if cell.change is None else f"{cell.change * 100:+.1f} %")
            table.add_row(*row, style=style)

        for cell in result.rows:
            add(cell, cell.group_label, cell.bucket_label)
        for cell in result.group_totals:
            add(cell, cell.group_label, "total", style="italic")
        add(result.total, "total", "total" if result.query.grain else "", style="bold")
        return table

    def _docs(self, *, check: bool) -> None:
        if check:
            current = docs.DOCS_PATH.read_text(encoding="utf-8") if docs.DOCS_PATH.exists() else ""
            if current != docs.generate():
                raise CommandError(f"{docs.DOCS_PATH} is not current: run `salescope kpi docs`.")
            self.stdout.write(f"{docs.DOCS_PATH} is current.")
            return
        changed = docs.write()
        self.stdout.write(f"{'Wrote' if changed else 'Unchanged:'} {docs.DOCS_PATH}")
