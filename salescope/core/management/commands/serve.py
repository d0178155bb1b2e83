"""``salescope serve``: migrate, collect static files (when not DEBUG) and serve."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run migrations, collect static files unless DEBUG, and serve Salescope over HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Address to listen on (default 127.0.0.1; 0.0.0.0 for all).",
        )
        parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply pending migrations first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        verbosity: int = options["verbosity"]
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        ipv6 = ":" in host
        address = f"[{host.strip('[]')}]:{port}" if ipv6 else f"{host}:{port}"
        call_command("runserver", address, use_reloader=False, use_ipv6=ipv6)
