"""Attempt every webhook delivery that is due (retries a task backend could not schedule)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from salescope.webhooks.services import send_due


class Command(BaseCommand):
    help = "Attempt every webhook delivery that is due now (pending or waiting for a retry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="At most this many attempts.")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        if limit < 1:
            self.stderr.write("--limit must be at least 1.")
            raise SystemExit(2)
        attempted = send_due(limit=limit)
        self.stdout.write(f"{attempted} webhook deliveries attempted.")
