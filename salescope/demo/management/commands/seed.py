"""``salescope seed``: the deterministic demo company, at any size.

salescope seed                              # 12,000 opportunities, seed 42, history until today
salescope seed --opportunities 1000000      # the same world, scaled up for benchmarks
salescope seed --flush                      # delete everything first (history included)
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import IO, Any, cast

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from salescope.demo.generator import GeneratorError, generate
from salescope.org.models import User
from salescope.pipeline.models import Opportunity


def database_size() -> int:
    """Bytes used by the default database (SQLite file after a WAL checkpoint, or PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            name = str(connection.settings_dict["NAME"])
            if name == ":memory:" or name.startswith("file:"):
                cursor.execute(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
                )
                return int(cursor.fetchone()[0])
            return sum(p.stat().st_size for p in (Path(name), Path(f"{name}-wal")) if p.exists())
    return 0


def human_size(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def database_is_empty() -> bool:
    return not Opportunity.objects.exists() and not User.objects.exists()


def seed_with_progress(
    console: Console, *, opportunities: int, seed: int, end: dt.date | None = None
) -> tuple[dict[str, int], float]:
    """Run the generator with a progress bar; returns the counts and the seconds it took."""
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        try:
            counts = generate(opportunities=opportunities, seed=seed, end=end, progress=progress)
        except GeneratorError as exc:
            raise CommandError(str(exc)) from None
    return counts, time.perf_counter() - started


class Command(BaseCommand):
    help = (
        "Seed the demo company (deterministic: the same seed and end date give the same "
        "data). Refuses a database that already has data unless --flush."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--opportunities",
            type=int,
            default=12000,
            help="Number of opportunities (default 12000; accounts are a quarter).",
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--end",
            type=dt.date.fromisoformat,
            default=None,
            help="Last day of the history, YYYY-MM-DD (default today).",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Delete ALL data first (every table, the history included).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["opportunities"] < 1:
            raise CommandError("--opportunities must be at least 1.")
        console = Console(
            file=cast(IO[str], self.stdout),
            highlight=False,
            width=None if self.stdout.isatty() else 110,
        )
        if not database_is_empty():
            if not options["flush"]:
                raise CommandError(
                    f"The database already has data ({Opportunity.objects.count():,} "
                    f"opportunities, {User.objects.count():,} users). Run with --flush to delete "
                    "everything and seed again."
                )
            # The history is append-only in the application; only a flush of every table removes it.
            call_command("flush", interactive=False, verbosity=0)
            console.print("Flushed the database.")
        counts, seconds = seed_with_progress(
            console,
            opportunities=options["opportunities"],
            seed=options["seed"],
            end=options["end"],
        )
        table = Table(title="Seeded", show_header=False, box=None)
        for key, value in counts.items():
            table.add_row(key, f"{value:,}")
        console.print(table)
        rows = sum(v for k, v in counts.items() if k not in ("won", "lost", "open"))
        console.print(
            f"Elapsed: {seconds:.1f} s ({rows / seconds:,.0f} rows/s); "
            f"database size: {human_size(database_size())} ({connection.vendor})."
        )
