"""Seed-and-query benchmark: how Salescope behaves at 10k, 100k, 1M opportunities.

    .venv/bin/python bench/run.py                       # 10,000 and 100,000 on SQLite
    .venv/bin/python bench/run.py --sizes 1000000       # one size (or several: 10000,1000000)
    DATABASE_URL=postgres://user@host:5432/db .venv/bin/python bench/run.py   # + PostgreSQL

Each (database, size) runs in a fresh process on a fresh database: a temporary SQLite file,
and, when DATABASE_URL points at PostgreSQL, a temporary database created next to the one
named there (dropped afterwards). The demo generator seeds it (``salescope seed``), then a few
representative queries are timed (best of 3). Prints one table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
END = "2026-03-16"  # a fixed end date: the same data on every run


# --- the worker: one database, one size ---------------------------------------------------------


def _timed(fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _queries() -> dict[str, Any]:
    """Representative reads: what a dashboard and the pipeline pages run."""
    import datetime as dt

    from django.db.models import Count, OuterRef, Subquery, Sum
    from django.db.models.functions import TruncMonth

    from salescope.activities.models import Activity
    from salescope.pipeline.models import Opportunity, OpportunityEvent

    end = dt.date.fromisoformat(END)
    year_ago = end - dt.timedelta(days=365)
    as_of = end - dt.timedelta(days=90)
    as_of_time = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)

    def open_pipeline() -> list[Any]:
        return list(
            Opportunity.objects.filter(outcome="open")
            .order_by()
            .values("pipeline_id", "stage_id")
            .annotate(n=Count("id"), total=Sum("amount"))
        )

    def won_per_month() -> list[Any]:
        return list(
            Opportunity.objects.filter(outcome="won", closed_on__gte=year_ago)
            .annotate(month=TruncMonth("closed_on"))
            .values("month", "currency_id")
            .annotate(n=Count("id"), total=Sum("amount"))
            .order_by("month")
        )

    def stage_transitions() -> list[Any]:
        return list(
            OpportunityEvent.objects.filter(kind="stage", occurred_at__gte=as_of_time)
            .order_by()
            .values("from_stage_id", "to_stage_id")
            .annotate(n=Count("id"))
        )

    def pipeline_as_of() -> list[Any]:
        """P4: the stage each opportunity was in 90 days ago, rebuilt from the history."""
        stage_then = (
            OpportunityEvent.objects.filter(
                opportunity=OuterRef("pk"),
                kind__in=("created", "stage"),
                occurred_at__lt=as_of_time,
            )
            .order_by("-occurred_at", "-id")
            .values("to_stage_id")[:1]
        )
        return list(
            Opportunity.objects.filter(created_at__lt=as_of_time)
            .order_by()
            .annotate(stage_then=Subquery(stage_then))
            .values("stage_then")
            .annotate(n=Count("id"))
        )

    def activities_per_rep() -> list[Any]:
        month_start = dt.datetime.combine(end.replace(day=1), dt.time(), tzinfo=dt.UTC)
        return list(
            Activity.objects.filter(done_at__gte=month_start - dt.timedelta(days=30))
            .order_by()
            .values("owner_id", "activity_type_id")
            .annotate(n=Count("id"), minutes=Sum("duration_minutes"))
        )

    return {
        "open pipeline per stage": _timed(open_pipeline),
        "won per month (12 months)": _timed(won_per_month),
        "stage transitions (90 days)": _timed(stage_transitions),
        "pipeline as of 90 days ago": _timed(pipeline_as_of),
        "activities per rep (month)": _timed(activities_per_rep),
    }


def worker(size: int, seed: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salescope.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import datetime as dt
    import resource

    from django.core.management import call_command
    from django.db import connection

    from salescope.demo.generator import generate
    from salescope.demo.management.commands.seed import database_size

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    counts = generate(opportunities=size, seed=seed, end=dt.date.fromisoformat(END))
    seconds = time.perf_counter() - started
    rows = sum(v for k, v in counts.items() if k not in ("won", "lost", "open"))
    result = {
        "database": connection.vendor,
        "size": size,
        "seconds": seconds,
        "rows": rows,
        "events": counts["events"],
        "db_bytes": database_size(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "queries": _queries(),
    }
    print("RESULT " + json.dumps(result), flush=True)


# --- the driver -------------------------------------------------------------------------------


def _postgres_admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run_worker(size: int, seed: int, database_url: str) -> dict[str, Any] | None:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="salescope.settings")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", "--size", str(size), "--seed", str(seed)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
    return None


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _print_table(results: list[dict[str, Any]]) -> None:
    query_names = list(results[0]["queries"]) if results else []
    header = ["database", "opportunities", "seed (s)", "rows/s", "DB size", "peak RSS"]
    header += [f"{q} (ms)" for q in query_names]
    lines = [header]
    for r in results:
        line = [
            r["database"],
            f"{r['size']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows'] / r['seconds']:,.0f}",
            _human(r["db_bytes"]),
            f"{r['peak_rss_mb']:.0f} MiB",
        ]
        line += [f"{r['queries'][q] * 1000:.1f}" for q in query_names]
        lines.append(line)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for n, row in enumerate(lines):
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="comma-separated numbers of opportunities (default 10000,100000)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.size, args.seed)
        return

    sizes = [int(s.replace("_", "")) for s in args.sizes.replace(" ", ",").split(",") if s]
    pg_url = os.environ.get("DATABASE_URL", "")
    if not pg_url.startswith(("postgres://", "postgresql://")):
        pg_url = ""
    results = []
    started = time.perf_counter()
    for size in sizes:
        if not args.no_sqlite:
            with tempfile.TemporaryDirectory(prefix="salescope-bench-") as tmp:
                print(f"SQLite, {size:,} opportunities...", flush=True)
                result = _run_worker(size, args.seed, f"sqlite:///{tmp}/bench.sqlite3")
                if result:
                    results.append(result)
        if pg_url:
            name = f"salescope_bench_{size}_{os.getpid()}"
            try:
                with _postgres_admin(pg_url) as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
            except Exception as exc:  # no CREATEDB right, server down...
                print(f"PostgreSQL skipped: cannot create a database ({exc}).", flush=True)
                pg_url = ""
                continue
            try:
                print(f"PostgreSQL, {size:,} opportunities...", flush=True)
                result = _run_worker(size, args.seed, _with_database(pg_url, name))
                if result:
                    results.append(result)
            finally:
                with _postgres_admin(pg_url) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    print()
    _print_table(results)
    print(f"\nTotal {time.perf_counter() - started:.0f} s. Queries: best of 3, warm cache.")


if __name__ == "__main__":
    main()
