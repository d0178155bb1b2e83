"""``salescope backup``: a consistent copy of the database, safe while the server runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from salescope.core.backup import BackupError, backup_database, default_backup_path, vendor_of


def human_size(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class Command(BaseCommand):
    help = (
        "Back up the database: SQLite through the online backup API (checked with "
        "integrity_check), PostgreSQL with pg_dump --format=custom."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            help="Backup file (default var/backups/salescope-<UTC timestamp>.sqlite3|dump).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db_settings = connections[DEFAULT_DB_ALIAS].settings_dict
        try:
            output = options["output"] or default_backup_path(
                db_settings, Path(settings.DATA_DIR) / "backups"
            )
            path = backup_database(db_settings, output)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up the {vendor_of(db_settings)} database to {path} "
                f"({human_size(path.stat().st_size)})."
            )
        )
