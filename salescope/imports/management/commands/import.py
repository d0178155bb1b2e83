"""``salescope import``: import CSV/XLSX/ZIP files or folders, all or nothing.

salescope import --preset maven data/maven/          # a folder: every CSV/XLSX/ZIP in it
salescope import deals.xlsx --mapping deals.toml --dry-run
salescope import export.zip --json --as anna@example.com
"""

from __future__ import annotations

import json
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from salescope.imports import presets
from salescope.imports.engine import ImportResult
from salescope.imports.services import default_actor, import_paths
from salescope.org.models import User

MAX_SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Import accounts, contacts, deals with their history, activities, leads and users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
        parser.add_argument("--preset", choices=presets.NAMES, help="a known export format")
        parser.add_argument("--mapping", metavar="FILE", help="a mapping file (TOML or YAML)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, then write nothing"
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows even when some are rejected",
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="username or e-mail of the importing user (default: the first admin)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["preset"] and options["mapping"]:
            raise CommandError("Use either --preset or --mapping, not both.")
        native_data = _native_archive(options["paths"])
        if native_data is not None:
            self._import_native(native_data, options)
            return
        actor = self._actor(options["as_user"])
        console = Console(file=cast(IO[str], self.stdout), highlight=False)
        quiet = options["json"]
        try:
            if quiet:
                result = self._run(options, actor, None)
            else:
                with Progress(
                    TextColumn("{task.description:<14}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=Console(file=cast(IO[str], self.stderr)),
                    transient=True,
                ) as bar:
                    tasks: dict[str, Any] = {}

                    def progress(phase: str, done: int, total: int) -> None:
                        if phase not in tasks:
                            tasks[phase] = bar.add_task(phase, total=max(total, 1))
                        bar.update(tasks[phase], completed=done, total=max(total, 1))

                    result = self._run(options, actor, progress)
        except ValidationError as exc:
            if quiet:
                self.stdout.write(json.dumps({"error": exc.messages}, ensure_ascii=False))
            raise CommandError("; ".join(exc.messages)) from None
        if quiet:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._report(console, result)
        if result.errors and not result.written and not options["dry_run"]:
            raise CommandError(f"{len(result.errors)} problem(s); nothing was imported.")

    def _run(self, options: dict[str, Any], actor: User, progress: Any) -> ImportResult:
        return import_paths(
            paths=options["paths"],
            preset=options["preset"],
            mapping=options["mapping"],
            dry_run=options["dry_run"],
            actor=actor,
            skip_invalid=options["skip_invalid"],
            progress=progress,
        )

    def _import_native(self, data: bytes, options: dict[str, Any]) -> None:
        """A Salescope full export (``salescope export --all``): read back as a whole."""
        from django.core.exceptions import PermissionDenied

        from salescope.imports.native import import_archive

        actor = self._actor(options["as_user"]) if options["as_user"] else None
        try:
            counts = import_archive(data, actor=actor, dry_run=options["dry_run"])
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            if options["json"]:
                self.stdout.write(json.dumps({"error": [text]}, ensure_ascii=False))
            raise CommandError(text) from None
        if options["json"]:
            result = {"format": "salescope", "dry_run": options["dry_run"], "counts": counts}
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        verdict = "checked (dry run, nothing written)" if options["dry_run"] else "imported"
        self.stdout.write(f"Salescope full export {verdict}: {sum(counts.values()):,} rows.")
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count:,}")

    def _actor(self, ref: str | None) -> User:
        if ref:
            user = (
                User.objects.filter(email__iexact=ref).first()
                if "@" in ref
                else User.objects.filter(username=ref).first()
            )
            if user is None:
                raise CommandError(f"No user {ref!r}.")
            return user
        admin = default_actor()
        if admin is None:
            raise CommandError("No active administrator; create one or pass --as USER.")
        return admin

    def _report(self, console: Console, result: ImportResult) -> None:
        table = Table(title="Dry run (nothing written)" if result.dry_run else "Import")
        for column in ("", "created", "updated", "unchanged", "rejected"):
            table.add_column(column, justify="left" if not column else "right")
        for entity, counts in result.summary.items():
            table.add_row(
                entity,
                *(f"{counts.get(k, 0):,}" for k in ("created", "updated", "unchanged", "rejected")),
            )
        console.print(table)
        for kind, names in result.created_references.items():
            shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
            console.print(f"New {kind} ({len(names)}): {shown}")
        if result.skipped_tables:
            console.print(f"Not imported (no mapping): {', '.join(result.skipped_tables)}")
        for error in result.errors[:MAX_SHOWN_ERRORS]:
            where = f"{error.table}:{error.row}" if error.row else error.table
            value = f" {error.value!r}" if error.value else ""
            console.print(f"[red]{where}[/red] {error.column}{value}: {error.message}")
        if len(result.errors) > MAX_SHOWN_ERRORS:
            console.print(f"… and {len(result.errors) - MAX_SHOWN_ERRORS} more problems.")
        rate = result.total_rows / result.seconds if result.seconds else 0
        verdict = "written" if result.written else "nothing written"
        console.print(
            f"{result.total_rows:,} rows in {result.seconds:.1f} s ({rate:,.0f} rows/s), {verdict}."
        )


def _native_archive(paths: list[str]) -> bytes | None:
    """The content of the one path given when it is a Salescope full export, else None."""
    from pathlib import Path

    from salescope.imports.native import is_native_archive

    if len(paths) != 1 or not paths[0].lower().endswith(".zip") or not Path(paths[0]).is_file():
        return None
    data = Path(paths[0]).read_bytes()
    return data if is_native_archive(data) else None
