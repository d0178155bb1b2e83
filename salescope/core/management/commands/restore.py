"""``salescope restore``: replace the database with a backup, then migrate it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from salescope.core.backup import BackupError, restore_database, vendor_of


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Command(BaseCommand):
    help = (
        "Restore a backup made by 'salescope backup', replacing ALL current data, then apply "
        "migrations so an older backup is brought up to date. Stop the server first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Backup file (.sqlite3 or .dump).")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Do not ask for confirmation (needed when not interactive).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        db_settings = connections[DEFAULT_DB_ALIAS].settings_dict
        try:
            vendor = vendor_of(db_settings)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        target = f"{vendor} database {db_settings.get('NAME')}"
        if not options["yes"]:
            if not _interactive():
                raise CommandError(
                    f"Restoring replaces all data in the {target}; pass --yes to confirm."
                )
            answer = input(f"Replace all data in the {target} with {path}? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        connections.close_all()
        try:
            restore_database(db_settings, path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored the {target} from {path}.")
        call_command(
            "migrate",
            interactive=False,
            verbosity=max(options["verbosity"] - 1, 0),
            stdout=self.stdout,
            stderr=self.stderr,
        )
        self.stdout.write(self.style.SUCCESS("Migrations applied; the restore is complete."))
