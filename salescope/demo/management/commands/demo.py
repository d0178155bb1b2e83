"""``salescope demo``: migrate, seed the demo company when the database is empty, then serve."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, cast

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from salescope.demo.generator import COMPANY_NAME, DEMO_LOGINS
from salescope.demo.management.commands.seed import database_is_empty, seed_with_progress
from salescope.pipeline.models import Opportunity


class Command(BaseCommand):
    help = "Set up the demo company (migrate, seed if empty) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
        parser.add_argument(
            "--reset", action="store_true", help="Delete all data and seed the demo company again."
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Prepare the database and print the logins, but do not serve.",
        )
        parser.add_argument(
            "--opportunities",
            type=int,
            default=12000,
            help="Size of the demo (default 12000 opportunities).",
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background task worker (imports) beside the web server.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(
            file=cast(IO[str], self.stdout),
            highlight=False,
            width=None if self.stdout.isatty() else 110,
        )
        if connection.vendor == "sqlite":
            name = str(connection.settings_dict["NAME"])
            if name != ":memory:" and not name.startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if options["reset"] and not database_is_empty():
            call_command("flush", interactive=False, verbosity=0)
            console.print("Deleted the previous data.")
        if database_is_empty():
            console.print(
                f"Seeding the demo company {COMPANY_NAME} "
                f"({options['opportunities']:,} opportunities)..."
            )
            counts, seconds = seed_with_progress(
                console, opportunities=options["opportunities"], seed=options["seed"]
            )
            console.print(
                f"Seeded in {seconds:.0f} s: {counts['accounts']:,} accounts, "
                f"{counts['opportunities']:,} opportunities, {counts['events']:,} history "
                f"events, {counts['activities']:,} activities."
            )
        elif not Opportunity.objects.exists():
            console.print(
                "[yellow]The database has users but no opportunities; run "
                "`salescope demo --reset` to replace it with the demo company.[/yellow]"
            )
        host, port = options["host"], options["port"]
        shown_host = f"[{host.strip('[]')}]" if ":" in host else host
        shown_host = "127.0.0.1" if shown_host in ("0.0.0.0", "[::]") else shown_host
        url = f"http://{shown_host}:{port}/"
        logins = Table(show_edge=False, header_style="bold")
        for column in ("username", "role", "password", "who"):
            logins.add_column(column)
        for login in DEMO_LOGINS:
            logins.add_row(
                login["username"],
                login["role"],
                login["password"],
                f"{login['name']}: {login['note']}",
            )
        console.print(
            Panel.fit(
                logins,
                title=f"Salescope demo: {COMPANY_NAME}  [bold]{url}[/bold]",
                subtitle="every demo user has the same password",
            )
        )
        if options["no_serve"]:
            return
        console.print(f"Serving on {url} (Ctrl+C to stop).")
        if "serve" in get_commands():
            extra = ["--no-worker"] if options["no_worker"] else []
            call_command("serve", "--host", host, "--port", str(port), "--no-migrate", *extra)
        else:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
