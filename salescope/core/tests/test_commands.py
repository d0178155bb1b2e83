"""The operator commands (createuser, backup, restore) and the production configuration check."""

from __future__ import annotations

import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from salescope.core import backup
from salescope.core.config import check_production, env_bool
from salescope.org.models import Role, Team, User
from salescope.org.services import create_team

GOOD_PASSWORD = "a-Long-pass-123"


@pytest.fixture
def not_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    from salescope.core.management.commands import createuser, restore

    monkeypatch.setattr(createuser, "_interactive", lambda: False)
    monkeypatch.setattr(restore, "_interactive", lambda: False)
    monkeypatch.delenv("SALESCOPE_PASSWORD", raising=False)


# --- createuser ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_createuser_creates_user_with_role(not_interactive: None) -> None:
    team = create_team(name="Nord")
    out = StringIO()
    call_command(
        "createuser",
        "grace",
        role="manager",
        password=GOOD_PASSWORD,
        email="g@example.com",
        first_name="Grace",
        last_name="Hopper",
        team="Nord",
        stdout=out,
    )
    user = User.objects.get(username="grace")
    assert user.role == Role.MANAGER
    assert user.team == team
    assert user.first_name == "Grace"
    assert user.check_password(GOOD_PASSWORD)
    assert not user.is_staff
    assert "Created user 'grace' with role manager" in out.getvalue()


@pytest.mark.django_db
def test_createuser_admin_gets_back_office(not_interactive: None) -> None:
    call_command(
        "createuser", "root", "--role", "admin", "--password", GOOD_PASSWORD, stdout=StringIO()
    )
    user = User.objects.get(username="root")
    assert user.is_staff and user.is_superuser


@pytest.mark.django_db
def test_createuser_reads_password_from_environment(
    not_interactive: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESCOPE_PASSWORD", GOOD_PASSWORD)
    call_command("createuser", "env-user", role="rep", stdout=StringIO())
    assert User.objects.get(username="env-user").check_password(GOOD_PASSWORD)


@pytest.mark.django_db
def test_createuser_rejects_unknown_role_by_name(not_interactive: None) -> None:
    with pytest.raises(CommandError) as excinfo:
        call_command("createuser", "bob", role="boss", password=GOOD_PASSWORD, stdout=StringIO())
    assert "role" in str(excinfo.value)
    assert "'boss'" in str(excinfo.value)
    assert not User.objects.filter(username="bob").exists()


@pytest.mark.django_db
def test_createuser_names_the_weak_password_field(not_interactive: None) -> None:
    with pytest.raises(CommandError, match=r"^password: "):
        call_command("createuser", "bob", role="rep", password="123", stdout=StringIO())


@pytest.mark.django_db
def test_createuser_without_password_when_not_interactive(not_interactive: None) -> None:
    with pytest.raises(CommandError, match="SALESCOPE_PASSWORD"):
        call_command("createuser", "bob", role="rep", stdout=StringIO())


@pytest.mark.django_db
def test_createuser_unknown_team(not_interactive: None) -> None:
    with pytest.raises(CommandError, match=r"team: no team named 'Süd'"):
        call_command("createuser", "bob", role="rep", team="Süd", password=GOOD_PASSWORD)


@pytest.mark.django_db
def test_createuser_duplicate_username(not_interactive: None) -> None:
    call_command("createuser", "bob", role="rep", password=GOOD_PASSWORD, stdout=StringIO())
    with pytest.raises(CommandError, match=r"username: .*taken"):
        call_command("createuser", "bob", role="rep", password=GOOD_PASSWORD, stdout=StringIO())


# --- backup and restore on SQLite (a temporary file database, not the test database) -------


def _sqlite_db(path: Path) -> dict[str, str]:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


def _names(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM team ORDER BY name")]
    finally:
        conn.close()


def test_sqlite_backup_and_restore_round_trip(tmp_path: Path) -> None:
    live = tmp_path / "data" / "salescope.sqlite3"
    live.parent.mkdir()
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    writer.executemany("INSERT INTO team (name) VALUES (?)", [("Nord",), ("Süd",)])
    writer.commit()
    # The "server" keeps its connection open: committed rows still sit in the WAL file.
    assert Path(f"{live}-wal").exists()

    out = backup.backup_database(_sqlite_db(live), tmp_path / "backups" / "b.sqlite3")
    assert out.is_file()
    assert backup.sqlite_integrity_problems(out) == []
    assert _names(out) == ["Nord", "Süd"]

    writer.execute("DELETE FROM team WHERE name = 'Nord'")
    writer.execute("INSERT INTO team (name) VALUES ('Ost')")
    writer.commit()
    writer.close()
    assert _names(live) == ["Ost", "Süd"]

    backup.restore_database(_sqlite_db(live), out)
    assert _names(live) == ["Nord", "Süd"]
    assert not Path(f"{live}-wal").exists()
    assert sorted(p.name for p in live.parent.iterdir()) == ["salescope.sqlite3"]


def test_sqlite_restore_into_missing_database(tmp_path: Path) -> None:
    source = tmp_path / "source.sqlite3"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE team (name TEXT)")
    conn.execute("INSERT INTO team VALUES ('Nord')")
    conn.commit()
    conn.close()
    target = tmp_path / "new" / "salescope.sqlite3"
    backup.restore_database(_sqlite_db(target), source)
    assert _names(target) == ["Nord"]


def test_sqlite_restore_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    live = tmp_path / "salescope.sqlite3"
    conn = sqlite3.connect(live)
    conn.execute("CREATE TABLE team (name TEXT)")
    conn.commit()
    conn.close()
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(backup.BackupError, match="not an SQLite database"):
        backup.restore_database(_sqlite_db(live), bogus)
    assert _names(live) == []


def test_sqlite_backup_of_missing_database(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.backup_database(_sqlite_db(tmp_path / "nope.sqlite3"), tmp_path / "b.sqlite3")


def test_default_backup_path_names_vendor_and_utc_time(tmp_path: Path) -> None:
    import datetime as dt

    when = dt.datetime(2025, 3, 1, 13, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    sqlite_path = backup.default_backup_path(_sqlite_db(tmp_path / "x"), tmp_path, now=when)
    assert sqlite_path == tmp_path / "salescope-20250301T120405Z.sqlite3"
    pg = {"ENGINE": "django.db.backends.postgresql", "NAME": "salescope"}
    assert backup.default_backup_path(pg, tmp_path, now=when).suffix == ".dump"


def test_sqlite_backup_refuses_an_in_memory_database(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.backup_database(_sqlite_db(Path(":memory:")), tmp_path / "b.sqlite3")


def test_restore_command_needs_yes_when_not_interactive(
    not_interactive: None, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "b.sqlite3"), stdout=StringIO())


# --- the commands against the test database itself (SQLite file or PostgreSQL) -------------


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_commands_round_trip(tmp_path: Path) -> None:
    if connection.vendor == "postgresql" and (
        backup.find_pg_tool("pg_dump") is None or backup.find_pg_tool("pg_restore") is None
    ):
        pytest.skip("pg_dump/pg_restore not installed")
    Team.objects.create(name="Backup probe")  # org.Team: a plain table, not append-only
    out = StringIO()
    call_command("backup", output=tmp_path / "b.backup", stdout=out)
    assert f"Backed up the {connection.vendor} database" in out.getvalue()
    magic = b"PGDMP" if connection.vendor == "postgresql" else b"SQLite format 3"
    assert (tmp_path / "b.backup").read_bytes().startswith(magic)

    Team.objects.filter(name="Backup probe").delete()
    Team.objects.create(name="Created after the backup")

    out = StringIO()
    call_command("restore", str(tmp_path / "b.backup"), yes=True, stdout=out)
    assert f"Restored the {connection.vendor} database" in out.getvalue()
    assert "restore is complete" in out.getvalue()
    assert list(Team.objects.values_list("name", flat=True)) == ["Backup probe"]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_restore_refuses_a_file_that_is_not_a_dump(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.dump"
    bogus.write_text("nope")
    with pytest.raises(CommandError, match="not a pg_dump"):
        call_command("restore", str(bogus), yes=True, stdout=StringIO())


# --- configuration -------------------------------------------------------------------------


def test_check_production_names_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ImproperlyConfigured) as excinfo:
        check_production(
            secret_key="dev",
            dev_secret="dev",
            debug=True,
            allowed_hosts=["*"],
            database_url="sqlite:///x",
        )
    message = str(excinfo.value)
    for problem in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL"):
        assert problem in message


def test_check_production_rejects_empty_hosts_and_short_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://db/salescope")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        check_production(
            secret_key="x" * 60,
            dev_secret="dev",
            debug=False,
            allowed_hosts=[],
            database_url="postgres://db/salescope",
        )
    message = str(excinfo.value)
    assert "SECRET_KEY" in message and "ALLOWED_HOSTS" in message
    assert "DEBUG" not in message and "DATABASE_URL" not in message


def test_check_production_accepts_a_secure_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://db/salescope")
    check_production(
        secret_key="k3y-" + "abcdefghij" * 6,
        dev_secret="dev",
        debug=False,
        allowed_hosts=["crm.example.com"],
        database_url="postgres://db/salescope",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("", False),
    ],
)
def test_env_bool_parses(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SALESCOPE_TEST_FLAG", raw)
    assert env_bool("SALESCOPE_TEST_FLAG", default=not expected) is expected


def test_env_bool_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALESCOPE_TEST_FLAG", raising=False)
    assert env_bool("SALESCOPE_TEST_FLAG", default=True) is True


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled"])
def test_env_bool_rejects_garbage(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SALESCOPE_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SALESCOPE_TEST_FLAG"):
        env_bool("SALESCOPE_TEST_FLAG", default=False)
