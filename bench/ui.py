"""Server-side render times of the workspace pages at demo scale.

    .venv/bin/python bench/ui.py [--opportunities 12000]

Seeds the demo company into a temporary SQLite file, adds open deals to the busiest pipeline
until its board holds 2,000, gives one deal 500 timeline entries, then times (best of 5)
the board, the deal page, the account page, the deals list and the agenda week through
Django's test client, logged in as an admin (everything visible). Prints one table.
Targets from the workspace issue: board with 2,000 open deals and deal page with 500
timeline entries under 300 ms each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
END = dt.date(2026, 3, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--opportunities", type=int, default=12000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="salescope-bench-ui-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["SALESCOPE_DATA_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salescope.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count, Q
    from django.test import Client
    from django.urls import reverse

    from salescope.activities.services import add_comment
    from salescope.core import clock
    from salescope.demo.generator import generate
    from salescope.org.models import Role, User
    from salescope.pipeline.models import Opportunity, Pipeline

    call_command("migrate", verbosity=0)
    now = dt.datetime.combine(END, dt.time(9), tzinfo=dt.UTC)
    started = time.perf_counter()
    with clock.frozen(now):
        generate(opportunities=args.opportunities, end=END)
    seed_s = time.perf_counter() - started
    admin = User.objects.filter(role=Role.ADMIN).first()
    assert admin is not None
    pipeline = (
        Pipeline.objects.annotate(n=Count("opportunities", filter=Q(opportunities__outcome="open")))
        .order_by("-n")
        .first()
    )
    assert pipeline is not None
    from salescope.pipeline.services import create_opportunity

    first_stage = pipeline.stages.filter(kind="open").order_by("order").first()
    owners = list(User.objects.filter(role=Role.REP)[:8])
    with clock.frozen(now):
        missing = max(
            0, 2000 - Opportunity.objects.filter(pipeline=pipeline, outcome="open").count()
        )
        for i in range(missing):
            create_opportunity(actor=None, owner=owners[i % len(owners)], name=f"Bench deal {i}",
                               stage=first_stage, amount=Decimal("1000.00") + i,
                               expected_close=END + dt.timedelta(days=30 + i % 90))  # fmt: skip
        deal = Opportunity.objects.filter(pipeline=pipeline, outcome="open").first()
        assert deal is not None
        entries = deal.events.count() + deal.activities.count() + deal.comments.count()
        for i in range(max(0, 500 - entries)):
            add_comment(actor=admin, body=f"Note {i}", opportunity=deal)
    open_on_board = Opportunity.objects.filter(pipeline=pipeline, outcome="open").count()
    timeline = deal.events.count() + deal.activities.count() + deal.comments.count()

    client = Client()
    client.force_login(admin)
    pages = [
        (
            f"board ({open_on_board} open deals)",
            reverse("pipeline:board") + f"?pipeline={pipeline.pk}",
        ),
        (f"deal page ({timeline} timeline entries)", reverse("pipeline:detail", args=[deal.pk])),
        ("account page", reverse("accounts:detail", args=[deal.account_id]))
        if deal.account_id
        else None,
        ("deals list (page 1)", "/deals/"),
        ("agenda week", reverse("activities:agenda") + f"?view=week&date={END.isoformat()}"),
        ("home", reverse("home")),
    ]
    rows = []
    with clock.frozen(now):
        for item in pages:
            if item is None:
                continue
            label, url = item
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            best = float("inf")
            for _ in range(5):
                t0 = time.perf_counter()
                client.get(url)
                best = min(best, time.perf_counter() - t0)
            rows.append((label, best * 1000, len(response.content)))
    print(f"\nSeeded {args.opportunities:,} opportunities in {seed_s:.1f} s (SQLite, {tmp})\n")
    print(f"{'page':44} {'best of 5 (ms)':>15} {'HTML (kB)':>10}")
    print("-" * 71)
    for label, ms, size in rows:
        print(f"{label:44} {ms:15.0f} {size / 1024:10.0f}")


if __name__ == "__main__":
    main()
