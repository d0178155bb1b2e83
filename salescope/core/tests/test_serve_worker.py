"""``salescope serve`` starts the background task worker beside the web server."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from django.core.management import call_command

from salescope.core.management.commands import serve

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_worker_command_runs_db_worker_of_this_interpreter() -> None:
    command = serve.worker_command()
    assert command[0] == sys.executable
    assert command[1:4] == ["-m", "salescope.cli", "db_worker"]
    assert "--no-reload" in command  # a reloading worker would outlive a stopped server


def test_worker_needed_only_for_the_database_backend(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert serve.worker_needed()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert not serve.worker_needed()


def test_running_worker_stops_the_child_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "worker_command", lambda: SLEEPER)
    with serve.running_worker() as process:
        assert process.poll() is None
    assert process.poll() is not None


def test_running_worker_stops_the_child_when_the_server_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serve, "worker_command", lambda: SLEEPER)
    seen: list[subprocess.Popen[bytes]] = []
    with pytest.raises(RuntimeError), serve.running_worker() as process:
        seen.append(process)
        raise RuntimeError("port in use")
    assert seen[0].poll() is not None


def test_unexpected_worker_exit_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "worker_command", lambda: [sys.executable, "-c", "exit(3)"])
    codes: list[int] = []
    with serve.running_worker(on_exit=codes.append):
        deadline = time.monotonic() + 10
        while not codes and time.monotonic() < deadline:
            time.sleep(0.05)
    assert codes == [3]


def test_stop_worker_kills_a_worker_that_ignores_sigterm() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline().strip() == b"ready"
    code = serve.stop_worker(stubborn, timeout=0.5)
    assert code == -9


def _fake_runserver(calls: list[tuple[Any, ...]]) -> Any:
    def fake(name: str, *args: Any, **kwargs: Any) -> None:
        calls.append((name, args, kwargs))

    return fake


@pytest.mark.parametrize("flag", [True, False])
def test_serve_starts_the_worker_unless_no_worker(
    monkeypatch: pytest.MonkeyPatch, settings: Any, flag: bool
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.DEBUG = True
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(serve, "call_command", _fake_runserver(calls))
    started: list[subprocess.Popen[bytes]] = []
    real_start = serve.start_worker

    def start() -> subprocess.Popen[bytes]:
        process = real_start()
        started.append(process)
        return process

    monkeypatch.setattr(serve, "worker_command", lambda: SLEEPER)
    monkeypatch.setattr(serve, "start_worker", start)
    args = ["serve", "--no-migrate", "--port", "8123"] + (["--no-worker"] if flag else [])
    call_command(*args)
    assert [c[0] for c in calls] == ["runserver"]
    assert calls[0][1] == ("127.0.0.1:8123",)
    if flag:
        assert started == []
    else:
        assert len(started) == 1
        assert started[0].poll() is not None  # stopped when the server returned


def test_serve_help_documents_the_worker() -> None:
    parser = serve.Command().create_parser("salescope", "serve")
    text = parser.format_help()
    assert "--no-worker" in text
    assert "db_worker" in text
