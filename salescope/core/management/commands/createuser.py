"""``salescope createuser``: create a user with a role from the command line."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salescope.org.models import Role, Team
from salescope.org.services import create_user

PASSWORD_ENV = "SALESCOPE_PASSWORD"


def validation_error_text(exc: ValidationError) -> str:
    """``field: message`` for every problem, so the offending field is named."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Command(BaseCommand):
    help = (
        "Create a user with a role. The password comes from --password, else the "
        f"{PASSWORD_ENV} environment variable, else a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            required=True,
            metavar="{" + ",".join(Role.values) + "}",
            help="The user's role.",
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--team", metavar="NAME", help="Name of an existing team.")
        parser.add_argument(
            "--password",
            help=f"The password (prefer {PASSWORD_ENV} or the prompt: "
            "command lines are visible to other users).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        team = None
        if options["team"]:
            team = Team.objects.filter(name=options["team"]).first()
            if team is None:
                known = ", ".join(Team.objects.values_list("name", flat=True)) or "none yet"
                raise CommandError(f"team: no team named {options['team']!r} (teams: {known}).")
        password = self._password(options)
        try:
            user = create_user(
                username=options["username"],
                password=password,
                role=options["role"],
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                team=team,
            )
        except ValidationError as exc:
            raise CommandError(validation_error_text(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created user {user.username!r} with role {user.role}"
                + (f" in team {team.name!r}." if team else ".")
            )
        )

    def _password(self, options: dict[str, Any]) -> str:
        if options["password"]:
            return str(options["password"])
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV]
        if not _interactive():
            raise CommandError(
                f"password: give --password, set {PASSWORD_ENV}, or run interactively to be asked."
            )
        for _attempt in range(3):
            first = getpass.getpass("Password: ")
            if first and first == getpass.getpass("Password (again): "):
                return first
            self.stderr.write("The passwords were empty or did not match; try again.")
        raise CommandError("password: no matching password entered.")
