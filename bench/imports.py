"""Import benchmark: 100,000 deals with 400,000 history rows, on SQLite and PostgreSQL.

    .venv/bin/python bench/imports.py                          # SQLite only
    scripts/pg_throwaway.sh .venv/bin/python bench/imports.py  # SQLite, then PostgreSQL
    .venv/bin/python bench/imports.py --deals 20000            # another size
    make bench-imports

The input is generated deterministically (seed 42) into a temporary folder: ``deals.csv``
(external id, name, account, owner, stage, amount, currency, created, closed) and
``deal_history.csv`` (four stage snapshots per deal: stage, amount, probability, date). Each
database runs in a fresh process on a fresh database (a temporary SQLite file; a temporary
PostgreSQL database beside the one in DATABASE_URL, dropped afterwards): migrate, then
``salescope.imports.services.import_paths`` with the mapping below, timed. A second run of the
same files (everything unchanged, nothing written) is timed as well. Prints one table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import _human, _postgres_admin, _with_database  # noqa: E402

STAGES = ["Qualification", "Meeting", "Proposal", "Negotiation"]
PROBABILITY = {"Qualification": 10, "Meeting": 30, "Proposal": 60, "Negotiation": 80}
HISTORY_PER_DEAL = 4

MAPPING: dict[str, Any] = {
    "name": "Benchmark CRM",
    "pipelines": {
        "Bench": {"stages": [{"name": s, "probability": p} for s, p in PROBABILITY.items()]}
    },
    "tables": [
        {
            "file": "deals*",
            "entity": "opportunities",
            "system": "bench",
            "date_format": "iso",
            "decimal": "point",
            "columns": {
                "Deal ID": "external_id",
                "Deal": "name",
                "Company": "account",
                "Owner": "owner",
                "Stage": "stage",
                "Amount": "amount",
                "Currency": "currency",
                "Created": "created_at",
                "Closed": "closed_on",
                "Lost reason": "lost_reason",
            },
            "defaults": {"pipeline": "Bench"},
        },
        {
            "file": "deal_history*",
            "entity": "history",
            "system": "bench",
            "date_format": "iso",
            "decimal": "point",
            "columns": {
                "Deal ID": "opportunity_external_id",
                "Stage": "stage",
                "Amount": "amount",
                "Probability": "probability",
                "Date": "occurred_at",
            },
        },
    ],
}


def generate_files(folder: Path, deals: int, seed: int) -> int:
    """Write deals.csv and deal_history.csv; returns the number of data rows."""
    rng = random.Random(seed)
    start = dt.datetime(2022, 1, 3, 9, 0)
    owners = [f"Rep {i:02d}" for i in range(40)]
    companies = [f"Company {i:05d}" for i in range(deals // 10 + 1)]
    rows = 0
    with (
        (folder / "deals.csv").open("w", newline="") as deals_fh,
        (folder / "deal_history.csv").open("w", newline="") as hist_fh,
    ):
        d = csv.writer(deals_fh)
        h = csv.writer(hist_fh)
        d.writerow(
            [
                "Deal ID",
                "Deal",
                "Company",
                "Owner",
                "Stage",
                "Amount",
                "Currency",
                "Created",
                "Closed",
                "Lost reason",
            ]
        )
        h.writerow(["Deal ID", "Stage", "Amount", "Probability", "Date"])
        for n in range(deals):
            ext = f"D{n:07d}"
            created = start + dt.timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            amount = rng.randrange(10, 2000) * 50
            at = created
            path = []
            for i in range(HISTORY_PER_DEAL):
                stage = STAGES[i] if i < len(STAGES) else STAGES[-1]
                path.append((stage, amount, at))
                at += dt.timedelta(days=rng.randint(1, 30), minutes=rng.randint(0, 600))
                if rng.random() < 0.2:
                    amount = rng.randrange(10, 2000) * 50
            roll = rng.random()
            outcome = "Won" if roll < 0.35 else "Lost" if roll < 0.65 else path[-1][0]
            closed = at.date().isoformat() if outcome in ("Won", "Lost") else ""
            d.writerow(
                [
                    ext,
                    f"Deal {n}",
                    rng.choice(companies),
                    rng.choice(owners),
                    outcome,
                    amount,
                    "EUR",
                    created.isoformat(timespec="minutes"),
                    closed,
                    "Price" if outcome == "Lost" else "",
                ]
            )
            for stage, value, when in path:
                h.writerow(
                    [ext, stage, value, PROBABILITY[stage], when.isoformat(timespec="minutes")]
                )
            rows += 1 + len(path)
    return rows


# --- the worker: one database ---------------------------------------------------------------


def worker(deals: int, seed: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salescope.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import resource

    from django.core.management import call_command
    from django.db import connection

    from salescope.demo.management.commands.seed import database_size
    from salescope.imports.services import import_paths
    from salescope.org.models import Role, User
    from salescope.org.services import ensure_company_settings
    from salescope.pipeline.models import Opportunity, OpportunityEvent

    call_command("migrate", interactive=False, verbosity=0)
    ensure_company_settings(name="Bench", currency="EUR")
    for i in range(40):
        User.objects.create(username=f"rep{i:02d}", first_name="Rep", last_name=f"{i:02d}")
    admin = User.objects.create(username="admin", role=Role.ADMIN, is_staff=True)
    with tempfile.TemporaryDirectory(prefix="salescope-import-") as tmp:
        folder = Path(tmp)
        rows = generate_files(folder, deals, seed)
        started, cpu_started = time.perf_counter(), time.process_time()
        first = import_paths(paths=[folder], mapping=MAPPING, dry_run=False, actor=admin)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        started = time.perf_counter()
        second = import_paths(paths=[folder], mapping=MAPPING, dry_run=False, actor=admin)
        again = time.perf_counter() - started
    if first.errors or second.summary["opportunities"]["unchanged"] != deals:
        print("ERRORS " + json.dumps([e.as_dict() for e in first.errors[:5]]), flush=True)
    result = {
        "database": connection.vendor,
        "deals": deals,
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rerun_seconds": again,
        "opportunities": Opportunity.objects.count(),
        "events": OpportunityEvent.objects.count(),
        "db_bytes": database_size(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print("RESULT " + json.dumps(result), flush=True)


# --- the driver -------------------------------------------------------------------------------


def _run_worker(deals: int, seed: int, database_url: str) -> dict[str, Any] | None:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="salescope.settings")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", "--deals", str(deals), "--seed", str(seed)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("ERRORS "):
            sys.stderr.write(line + "\n")
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
    return None


def _print_table(results: list[dict[str, Any]]) -> None:
    header = [
        "database",
        "deals",
        "input rows",
        "events",
        "import (s)",
        "CPU (s)",
        "rows/s",
        "re-run (s)",
        "DB size",
        "peak RSS",
    ]
    lines = [header]
    for r in results:
        lines.append(
            [
                r["database"],
                f"{r['deals']:,}",
                f"{r['rows']:,}",
                f"{r['events']:,}",
                f"{r['seconds']:.1f}",
                f"{r['cpu_seconds']:.1f}",
                f"{r['rows'] / r['seconds']:,.0f}",
                f"{r['rerun_seconds']:.1f}",
                _human(r["db_bytes"]),
                f"{r['peak_rss_mb']:.0f} MiB",
            ]
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for n, row in enumerate(lines):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.deals, args.seed)
        return
    results = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="salescope-bench-") as tmp:
            print(f"SQLite, {args.deals:,} deals...", flush=True)
            result = _run_worker(args.deals, args.seed, f"sqlite:///{tmp}/bench.sqlite3")
            if result:
                results.append(result)
    pg_url = os.environ.get("DATABASE_URL", "")
    if pg_url.startswith(("postgres://", "postgresql://")):
        name = f"salescope_bench_imports_{os.getpid()}"
        with _postgres_admin(pg_url) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            print(f"PostgreSQL, {args.deals:,} deals...", flush=True)
            result = _run_worker(args.deals, args.seed, _with_database(pg_url, name))
            if result:
                results.append(result)
        finally:
            with _postgres_admin(pg_url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _print_table(results)


if __name__ == "__main__":
    main()
