"""``salescope export --all OUT.zip``: the full export of the company's data.

The archive (a ZIP with ``manifest.json`` and one CSV per table, see
``salescope.imports.native`` and ``docs/export.md``) holds everything, history included,
and ``salescope import OUT.zip`` reads it back into an empty instance. The command line acts
as the system (administrator rights); ``--as USER`` checks that user is an administrator.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salescope.imports.native import export_archive
from salescope.org.models import User


class Command(BaseCommand):
    help = (
        "Export all of the company's data (users, settings, reference lists, accounts, "
        "contacts, deals with their full history, activities, leads, external ids) to a ZIP "
        "that 'salescope import' reads back into an empty instance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", type=Path, help="The archive to write (.zip).")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="all",
            help="Export everything (the only mode: required to make the intent explicit).",
        )
        parser.add_argument("--as", dest="as_user", help="Username of an administrator.")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite the output file if it exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["all"]:
            raise CommandError("Say --all: the full export writes all of the company's data.")
        output: Path = options["output"]
        if output.suffix.lower() != ".zip":
            raise CommandError(f"{output}: the archive must be a .zip file.")
        if output.exists() and not options["force"]:
            raise CommandError(f"{output} exists; choose another name or pass --force.")
        if not output.parent.is_dir():
            raise CommandError(f"{output.parent} is not a directory.")
        actor = None
        if options["as_user"]:
            actor = User.objects.filter(username=options["as_user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['as_user']!r}.")
        fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=output.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                manifest = export_archive(out, actor=actor)
            os.replace(tmp, output)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        total = sum(manifest["counts"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {total} rows in {len(manifest['counts'])} tables to {output}."
            )
        )
        for name, count in manifest["counts"].items():
            self.stdout.write(f"  {name}: {count}")
