"""``salescope serve``: migrate, collect static files (when not DEBUG), start the background
task worker and serve.

Background work (imports, scheduled jobs) is queued in the database and carried out by the
task worker (``db_worker``). ``serve`` starts it as a child process beside the web server and
stops it when the server stops, so background imports work without any set-up. Pass
``--no-worker`` when the worker runs as its own service (several web processes, a process
manager such as systemd); then start ``salescope db_worker`` yourself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

WORKER_STOP_SECONDS = 15


def worker_needed() -> bool:
    """Whether queued tasks need a worker process (the database backend; not the in-process
    immediate backend used by tests)."""
    backend = str(settings.TASKS.get("default", {}).get("BACKEND", ""))
    return backend.startswith("django_tasks_db.")


def worker_command() -> list[str]:
    """The command line of the worker child: this interpreter, this project's settings."""
    return [
        sys.executable,
        "-m",
        "salescope.cli",
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        "--queue-name",
        "*",
    ]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the worker gets SIGTERM when the server process dies, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start_worker() -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "salescope.settings")
    return subprocess.Popen(
        worker_command(),
        env=env,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def stop_worker(process: subprocess.Popen[bytes], timeout: float = WORKER_STOP_SECONDS) -> int:
    """Ask the worker to finish its current task and stop; kill it after ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


@contextmanager
def running_worker(
    *, on_exit: Callable[[int], None] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the task worker for the duration of the block; SIGTERM to this process ends the
    block too (as an exception), so the worker is always stopped."""
    process = start_worker()
    stopping = threading.Event()

    def watch() -> None:
        code = process.wait()
        if not stopping.is_set() and on_exit is not None:
            on_exit(code)

    threading.Thread(target=watch, name="task-worker-watch", daemon=True).start()

    previous = signal.getsignal(signal.SIGTERM)

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, terminate)
    try:
        yield process
    finally:
        stopping.set()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        stop_worker(process)


class Command(BaseCommand):
    help = (
        "Run migrations, collect static files unless DEBUG, start the background task worker "
        "(db_worker: carries out imports and other queued jobs) as a child process, and serve "
        "Salescope over HTTP. The worker stops with the server. Use --no-worker when the "
        "worker runs as a separate service (then start 'salescope db_worker' yourself)."
    )

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
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=(
                "Do not start the background task worker beside the web server (run "
                "'salescope db_worker' separately, or background imports stay queued)."
            ),
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
        if options["no_worker"] or not worker_needed():
            call_command("runserver", address, use_reloader=False, use_ipv6=ipv6)
            return

        def worker_died(code: int) -> None:
            self.stderr.write(
                f"The background task worker stopped unexpectedly (exit code {code}); "
                "queued imports wait until 'salescope db_worker' runs."
            )

        with running_worker(on_exit=worker_died) as worker:
            if verbosity:
                self.stdout.write(f"Background task worker started (pid {worker.pid}).")
            call_command("runserver", address, use_reloader=False, use_ipv6=ipv6)
