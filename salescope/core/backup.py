"""Backing up and restoring the database (``salescope backup`` / ``salescope restore``).

The functions take a Django database settings dict (``settings.DATABASES["default"]``) and
explicit paths, so they work on any database, not only the one Django is connected to.

- SQLite: an online copy through SQLite's backup API, consistent while the server is running
  (WAL content included), checked with ``PRAGMA integrity_check``. Restoring replaces the
  database file atomically.
- PostgreSQL: ``pg_dump --format=custom`` / ``pg_restore --clean --if-exists --no-owner``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SQLITE_ENGINE = "django.db.backends.sqlite3"
POSTGRES_ENGINES = {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


def vendor_of(db_settings: Mapping[str, Any]) -> str:
    engine = db_settings.get("ENGINE", "")
    if engine == SQLITE_ENGINE:
        return "sqlite"
    if engine in POSTGRES_ENGINES:
        return "postgresql"
    raise BackupError(f"Backups are supported for SQLite and PostgreSQL, not {engine!r}.")


def default_backup_path(
    db_settings: Mapping[str, Any], directory: Path, now: dt.datetime | None = None
) -> Path:
    """``<directory>/salescope-<UTC timestamp>.sqlite3`` (SQLite) or ``.dump`` (PostgreSQL)."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if vendor_of(db_settings) == "sqlite" else "dump"
    return directory / f"salescope-{stamp}.{suffix}"


def backup_database(db_settings: Mapping[str, Any], output: Path) -> Path:
    """Write a backup of the database described by ``db_settings`` to ``output``."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if vendor_of(db_settings) == "sqlite":
        _sqlite_backup(_sqlite_path(db_settings), output)
    else:
        _pg_dump(db_settings, output)
    return output


def restore_database(db_settings: Mapping[str, Any], path: Path) -> None:
    """Replace the contents of the database described by ``db_settings`` with backup ``path``.

    Close Django's connections to that database first (the management command does).
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if vendor_of(db_settings) == "sqlite":
        _sqlite_restore(path, _sqlite_path(db_settings))
    else:
        _pg_restore(db_settings, path)


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_path(db_settings: Mapping[str, Any]) -> Path:
    name = str(db_settings.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        raise BackupError(
            "The database is an in-memory SQLite database; there is nothing to back up."
        )
    return Path(name)


@contextlib.contextmanager
def _sqlite_connect(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode=ro" if readonly else f"{path.resolve().as_uri()}"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def sqlite_integrity_problems(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of the SQLite file at ``path``: an empty list means it is ok."""
    with open(path, "rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            return [f"{path} is not an SQLite database."]
    try:
        with _sqlite_connect(path, readonly=True) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return [f"{path} cannot be read as an SQLite database: {exc}"]
    messages = [str(row[0]) for row in rows]
    return [] if messages == ["ok"] else messages


def _sqlite_copy(src_path: Path, dst_path: Path) -> None:
    """Copy with the backup API into a fresh, self-contained (rollback-journal) file."""
    dst_path.unlink(missing_ok=True)
    with _sqlite_connect(src_path) as src, _sqlite_connect(dst_path) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.commit()


def _sqlite_backup(db_path: Path, output: Path) -> None:
    if not db_path.is_file():
        raise BackupError(f"The SQLite database {db_path} does not exist.")
    if output.resolve() == db_path.resolve():
        raise BackupError("The backup file cannot be the database file itself.")
    tmp = output.with_name(f".{output.name}.partial")
    try:
        _sqlite_copy(db_path, tmp)
        problems = sqlite_integrity_problems(tmp)
        if problems:
            raise BackupError(
                "The backup copy failed its integrity check: " + "; ".join(problems[:5])
            )
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def _sqlite_restore(backup: Path, db_path: Path) -> None:
    problems = sqlite_integrity_problems(backup)
    if problems:
        raise BackupError("Refusing to restore: " + "; ".join(problems[:5]))
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.restoring")
    try:
        _sqlite_copy(backup, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        # A stale write-ahead log must never be replayed onto the restored file.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


# --- PostgreSQL ---------------------------------------------------------------------------


def find_pg_tool(name: str) -> str | None:
    """``pg_dump``/``pg_restore`` from PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[4].split(".")],
    )
    return candidates[-1] if candidates else None


def _pg_args_and_env(db_settings: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    args: list[str] = []
    if db_settings.get("HOST"):
        args += ["--host", str(db_settings["HOST"])]
    if db_settings.get("PORT"):
        args += ["--port", str(db_settings["PORT"])]
    if db_settings.get("USER"):
        args += ["--username", str(db_settings["USER"])]
    env = dict(os.environ)
    if db_settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(db_settings["PASSWORD"])
    options = db_settings.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            env[variable] = str(options[option])
    return args, env


def _run_pg_tool(name: str, args: list[str], env: dict[str, str]) -> None:
    tool = find_pg_tool(name)
    if tool is None:
        raise BackupError(
            f"{name} was not found (PATH, /usr/lib/postgresql/*/bin); install the PostgreSQL "
            "client tools, e.g. 'apt-get install postgresql-client'."
        )
    result = subprocess.run([tool, *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{name} failed (exit {result.returncode}): {result.stderr.strip()}")


def _pg_dump(db_settings: Mapping[str, Any], output: Path) -> None:
    args, env = _pg_args_and_env(db_settings)
    tmp = output.with_name(f".{output.name}.partial")
    try:
        _run_pg_tool(
            "pg_dump",
            [*args, "--format=custom", "--no-password", f"--file={tmp}", str(db_settings["NAME"])],
            env,
        )
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def _pg_restore(db_settings: Mapping[str, Any], path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(f"Refusing to restore: {path} is not a pg_dump custom-format file.")
    args, env = _pg_args_and_env(db_settings)
    _run_pg_tool(
        "pg_restore",
        [
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-password",
            "--single-transaction",
            f"--dbname={db_settings['NAME']}",
            str(path),
        ],
        env,
    )
