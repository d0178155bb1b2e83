"""KPI speed benchmark: flash figures, the manager dashboard and a drill-down, against DuckDB.

    .venv/bin/python bench/kpis.py --prepare      # copy the seeded PostgreSQL database
    .venv/bin/python bench/kpis.py                # run: SQLite, PostgreSQL, DuckDB; one table
    .venv/bin/python bench/kpis.py --json         # the same as JSON
    make bench-kpis

The data is a company seeded into PostgreSQL (``manage.py seed --opportunities 1000000 --end
2026-11-20``; ``--pg``, default ``postgres://postgres@127.0.0.1:55432/salescope1m``).
``--prepare`` migrates that database (new indexes), runs ``ANALYZE`` on it, and copies it into

- a fresh SQLite file (``--sqlite``): ``migrate``, then every table streamed with ``COPY ... TO
  STDOUT`` and written with ``executemany`` in big transactions (foreign keys off during the
  load, indexes built after it), values in the form Django writes them (booleans 0/1, UTC
  timestamps ``YYYY-MM-DD HH:MM:SS[.ffffff]``, UUIDs as 32 hex digits); then ``ANALYZE``;
- one Parquet file per table (``--parquet``), converted by DuckDB from the same CSV.

The run starts one fresh worker process per database (``DATABASE_URL`` set, the clock frozen at
2026-11-20 12:00 UTC) which times, for an administrator (everything) and a sales manager (the
team's records): the home flash figures (``flash.flash_tiles``), every widget of the built-in
manager dashboard (``render.widget_view``) and one drill-down (won revenue of one rep this
quarter: the first 50 records, their count and total). *Cold* is the first call on a new
connection (``DISCARD ALL`` on PostgreSQL; the operating system's page cache is not dropped),
*warm* the best of ``--repeat`` (5) further calls. A third worker computes the same numbers
with hand-written DuckDB SQL over the Parquet files (same formulas, same period boundaries in
Europe/Berlin, same scope), cold (new connection, reading the Parquet files) and warm, and
every engine number is checked against DuckDB's: a difference is printed as a MISMATCH and
makes the run fail.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("/work/benchdata")
DEFAULT_PG = "postgres://postgres@127.0.0.1:55432/salescope1m"
DEFAULT_SQLITE = DATA / "kpis1m.sqlite3"
DEFAULT_PARQUET = DATA / "parquet"
FROZEN_AT = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
TZ = "Europe/Berlin"
FLASH_GOAL = 0.150
DASHBOARD_GOAL = 1.0
DRILL_REP_QUARTER = "this_quarter"

csv.field_size_limit(1 << 30)


def _log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# --prepare: PostgreSQL -> SQLite file + Parquet files
# ---------------------------------------------------------------------------------------------


def _pg_connect(url: str) -> Any:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def _pg_columns(conn: Any) -> dict[str, list[tuple[str, str, int | None, int | None]]]:
    rows = conn.execute(
        """
        SELECT c.table_name, c.column_name, c.data_type, c.numeric_precision, c.numeric_scale
        FROM information_schema.columns c
        JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
        ORDER BY c.table_name, c.ordinal_position
        """
    ).fetchall()
    tables: dict[str, list[tuple[str, str, int | None, int | None]]] = {}
    for table, column, data_type, precision, scale in rows:
        tables.setdefault(table, []).append((column, data_type, precision, scale))
    return tables


def _timestamp(value: str) -> str:
    """``2026-01-02 03:04:05.5+00`` -> ``2026-01-02 03:04:05.500000`` (Django on SQLite)."""
    if value.endswith("+00"):
        value = value[:-3]
    if "." in value:
        head, frac = value.split(".", 1)
        return f"{head}.{frac.ljust(6, '0')}"
    return value


def _converter(data_type: str) -> Callable[[str], Any] | None:
    if data_type == "boolean":
        return lambda v: 1 if v == "t" else 0
    if data_type == "timestamp with time zone":
        return _timestamp
    if data_type == "uuid":
        return lambda v: v.replace("-", "")
    if data_type == "interval":  # pragma: no cover - no duration fields today
        raise SystemExit("interval columns are not supported by --prepare")
    return None


def _duck_type(data_type: str, precision: int | None, scale: int | None) -> str:
    return {
        "smallint": "SMALLINT",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp with time zone": "TIMESTAMPTZ",
        "double precision": "DOUBLE",
        "real": "FLOAT",
        "uuid": "UUID",
        "numeric": f"DECIMAL({precision},{scale})" if precision else "VARCHAR",
    }.get(data_type, "VARCHAR")


def _load_sqlite(
    db: sqlite3.Connection, table: str, columns: list[tuple[str, str, Any, Any]], path: Path
) -> int:
    names = [c[0] for c in columns]
    convs = [(i, f) for i, c in enumerate(columns) if (f := _converter(c[1])) is not None]
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(names))})'
    null = "\\N"
    count = 0
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        batch: list[list[Any]] = []
        for raw in reader:
            row: list[Any] = [None if v == null else v for v in raw]
            for i, conv in convs:
                if row[i] is not None:
                    row[i] = conv(row[i])
            batch.append(row)
            if len(batch) >= 50_000:
                db.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            db.executemany(sql, batch)
            count += len(batch)
    return count


def prepare(
    pg_url: str,
    sqlite_path: Path,
    parquet_dir: Path,
    tables_only: set[str],
    skip: set[str],
    targets: set[str],
) -> None:
    import duckdb

    started = time.perf_counter()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "salescope.settings"}
    _log(f"migrate {pg_url} (new indexes) ...")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": pg_url},
        check=True,
    )
    pg = _pg_connect(pg_url)
    if "postgresql" in targets:
        _log("VACUUM ANALYZE (PostgreSQL) ...")
        pg.execute("VACUUM ANALYZE")
    db: sqlite3.Connection | None = None
    indexes: list[Any] = []
    sqlite_tables: set[str] = set()
    if "sqlite" in targets:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        _log(f"migrate {sqlite_path} ...")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": f"sqlite:///{sqlite_path}"},
            check=True,
        )
        db = sqlite3.connect(sqlite_path, isolation_level=None)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("PRAGMA cache_size=-1000000")
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            db.execute(f'DROP INDEX "{name}"')
        sqlite_tables = {
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    parquet = "parquet" in targets
    if parquet and parquet_dir.exists():
        shutil.rmtree(parquet_dir)
    parquet_dir.mkdir(parents=True, exist_ok=True)
    work = parquet_dir / "_csv"
    work.mkdir(exist_ok=True)
    duck = duckdb.connect()
    duck.execute("SET preserve_insertion_order = false")
    pg_tables = _pg_columns(pg)
    total_rows = 0
    for table, columns in sorted(pg_tables.items()):
        if (tables_only and table not in tables_only) or table in skip:
            continue
        load = db is not None and table in sqlite_tables and table != "django_migrations"
        if not (load or parquet):
            continue
        t0 = time.perf_counter()
        names = ", ".join(f'"{c[0]}"' for c in columns)
        path = work / f"{table}.csv"
        with pg.cursor() as cur, path.open("wb") as out:
            copy_sql = f"COPY \"{table}\" ({names}) TO STDOUT (FORMAT csv, HEADER true, NULL '\\N')"
            with cur.copy(copy_sql) as copy:
                for data in copy:
                    out.write(data)
        rows = 0
        if load:
            assert db is not None
            db.execute("BEGIN")
            db.execute(f'DELETE FROM "{table}"')
            rows = _load_sqlite(db, table, columns, path)
            db.execute("COMMIT")
        if parquet:
            types = ", ".join(f"'{c[0]}': '{_duck_type(c[1], c[2], c[3])}'" for c in columns)
            duck.execute(
                f"COPY (SELECT * FROM read_csv('{path}', header = true, nullstr = '\\N', "
                f"auto_detect = false, columns = {{{types}}})) "
                f"TO '{parquet_dir / table}.parquet' (FORMAT parquet, COMPRESSION zstd)"
            )
        path.unlink()
        total_rows += rows
        _log(f"  {table}: {rows:,} rows in {time.perf_counter() - t0:.1f} s")
    shutil.rmtree(work)
    if db is not None:
        _log("SQLite: indexes, ANALYZE ...")
        for _name, sql in indexes:
            db.execute(sql)
        db.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: seconds, not minutes
        db.execute("ANALYZE")
        db.execute("PRAGMA optimize")
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
    pg.close()
    _log(f"prepared {total_rows:,} rows in {time.perf_counter() - started:.0f} s")


# ---------------------------------------------------------------------------------------------
# Users, periods and normalised results (shared by the workers)
# ---------------------------------------------------------------------------------------------


def pick_users(parquet_dir: Path) -> dict[str, int]:
    """The administrator, the manager of the largest team and a rep of that team (DuckDB)."""
    import duckdb

    con = duckdb.connect()
    p = parquet_dir
    admin = con.execute(
        f"SELECT min(id) FROM '{p}/org_user.parquet' WHERE role = 'admin' AND is_active"
    ).fetchone()
    manager = con.execute(
        f"""
        SELECT t.manager_id FROM '{p}/org_team.parquet' t
        JOIN '{p}/org_user.parquet' u ON u.team_id = t.id
        JOIN '{p}/org_user.parquet' m ON m.id = t.manager_id
        WHERE m.role = 'manager' AND m.is_active
        GROUP BY t.manager_id ORDER BY count(*) DESC, t.manager_id LIMIT 1
        """
    ).fetchone()
    assert admin and admin[0] is not None and manager, "no administrator or manager in the data"
    rep = con.execute(
        f"""
        SELECT min(u.id) FROM '{p}/org_user.parquet' u
        JOIN '{p}/org_team.parquet' t ON u.team_id = t.id
        WHERE t.manager_id = ? AND u.role = 'rep' AND u.is_active
        """,
        [manager[0]],
    ).fetchone()
    assert rep and rep[0] is not None
    return {"admin": int(admin[0]), "manager": int(manager[0]), "rep": int(rep[0])}


def quantize(value: Decimal | None, places: int) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def normalise(result: Any) -> dict[str, str]:
    """An engine ``KpiResult`` as ``{key: value}`` (empty cells dropped: they are not found)."""
    out: dict[str, str] = {}

    def put(key: str, value: Any, keep: bool = False) -> None:
        if keep or value not in (None, 0):
            out[key] = str(value)

    has_compare = result.compare_period is not None
    for c in result.rows:
        b = c.bucket.isoformat() if c.bucket else ""
        put(f"cell|{c.group}|{b}", c.value)
        if has_compare:
            put(f"compare|{c.group}|{b}", c.compare)
    for c in result.group_totals:
        put(f"group|{c.group}", c.value)
        if has_compare:
            put(f"gcompare|{c.group}", c.compare)
    put("total", result.total.value, keep=True)
    if has_compare:
        put("ctotal", result.total.compare, keep=True)
    return out


# ---------------------------------------------------------------------------------------------
# Engine worker (SQLite or PostgreSQL)
# ---------------------------------------------------------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salescope.settings")
    import django

    django.setup()


def _fresh_connection() -> None:
    from django.db import connection

    connection.close()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("DISCARD ALL")
    else:
        connection.ensure_connection()


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(cold, warm, result): the first call on a new connection, then the best of ``repeat``."""
    _fresh_connection()
    t0 = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - t0
    warm = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        warm = min(warm, time.perf_counter() - t0)
    return cold, warm, result


def engine_worker(users: dict[str, int], repeat: int) -> dict[str, Any]:
    _django()
    from salescope.core import clock
    from salescope.kpis import builtins, engine
    from salescope.kpis.widgets import WidgetSpec
    from salescope.org.models import User

    try:
        from salescope.kpis.flash import flash_tiles
    except ImportError:  # pragma: no cover - before the flash figures existed
        flash_tiles = None  # type: ignore[assignment]
    try:
        from salescope.kpis.render import widget_view
    except ImportError:  # pragma: no cover - before the widget views existed
        widget_view = None  # type: ignore[assignment]

    times: dict[str, dict[str, float]] = {}
    values: dict[str, Any] = {}
    widget_times: dict[str, dict[str, float]] = {}
    with clock.frozen(FROZEN_AT):
        today = clock.today()
        for role in ("admin", "manager"):
            user = User.objects.get(pk=users[role])

            def flash(user: Any = user) -> Any:
                assert flash_tiles is not None
                tiles = flash_tiles(user)
                return {
                    t.key: [
                        str(t.main.value),
                        str(t.compare.value) if t.compare else "",
                        str(t.today.value) if t.today else "",
                        t.error,
                    ]
                    for t in tiles
                }

            cold, warm, result = _time(flash, repeat)
            times[f"flash|{role}"] = {"cold": cold, "warm": warm}
            values[f"flash|{role}"] = result

            per_widget: dict[str, float] = {}

            def dashboard(user: Any = user, per_widget: dict[str, float] = per_widget) -> Any:
                out = {}
                for i, w in enumerate(builtins.MANAGER.widgets):
                    t0 = time.perf_counter()
                    if widget_view is not None:
                        view = widget_view(w.spec, user, today=today)
                        if view.error:
                            out[f"{i}:{w.spec.kpi}"] = {"error": view.error}
                            continue
                        res = view.result
                    else:  # pragma: no cover
                        res = engine.compute(w.spec.query(user, today=today))
                    name = f"{i}:{w.spec.kpi}"
                    per_widget[name] = min(per_widget.get(name, 1e9), time.perf_counter() - t0)
                    out[name] = normalise(res)
                return out

            cold, warm, result = _time(dashboard, repeat)
            times[f"dashboard|{role}"] = {"cold": cold, "warm": warm}
            values[f"dashboard|{role}"] = result
            widget_times[role] = per_widget

            period = WidgetSpec(kpi="won_revenue", period=DRILL_REP_QUARTER).resolve_period(today)

            def drill(user: Any = user, period: Any = period) -> Any:
                query = engine.KpiQuery(kpi="won_revenue", period=period, by="rep", user=user)
                rec = engine.records(query, group=users["rep"])
                page = list(
                    rec.queryset.select_related("account", "owner").order_by("-closed_on", "-pk")[
                        :50
                    ]
                )
                return {
                    "ids": [o.pk for o in page],
                    "count": rec.queryset.count(),
                    "total": str(quantize(rec.total(), 2)),
                }

            cold, warm, result = _time(drill, repeat)
            times[f"drill|{role}"] = {"cold": cold, "warm": warm}
            values[f"drill|{role}"] = result
    return {"times": times, "values": values, "widgets": widget_times}


# ---------------------------------------------------------------------------------------------
# DuckDB worker: the same numbers, hand-written SQL over the Parquet files
# ---------------------------------------------------------------------------------------------

TABLES = {
    "opp": "pipeline_opportunity",
    "ev": "pipeline_opportunityevent",
    "stage": "pipeline_stage",
    "act": "activities_activity",
    "act_users": "activities_activity_participant_users",
    "opp_shared": "pipeline_opportunity_shared_with",
    "acc": "accounts_account",
    "acc_shared": "accounts_account_shared_with",
    "users": "org_user",
    "team": "org_team",
    "rate": "org_exchangerate",
    "settings": "org_companysettings",
}


class Duck:
    """Base KPIs as SQL over the Parquet views, scoped like ``salescope.visibility``."""

    def __init__(self, parquet_dir: Path, users: dict[str, int]) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute(f"SET TimeZone = '{TZ}'")
        for view, table in TABLES.items():
            self.con.execute(
                f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{parquet_dir / table}.parquet')"
            )
        self.users = users
        row = self.con.execute(
            "SELECT currency_id, fiscal_year_start_month, stale_after_days FROM settings"
        ).fetchone()
        assert row is not None
        self.company, self.fiscal_month, self.stale_days = str(row[0]), int(row[1]), int(row[2])

    # scope ------------------------------------------------------------------------------------

    def owners(self, m: int) -> str:
        teams = f"(SELECT id FROM team WHERE manager_id = {m})"
        return f"(SELECT id FROM users WHERE id = {m} OR team_id IN {teams})"

    def vis_opp(self, m: int) -> str:
        return (
            f"(SELECT id FROM opp WHERE owner_id IN {self.owners(m)} "
            f"UNION SELECT opportunity_id FROM opp_shared WHERE user_id = {m})"
        )

    def vis_acc(self, m: int) -> str:
        return (
            f"(SELECT id FROM acc WHERE owner_id IN {self.owners(m)} "
            f"UNION SELECT account_id FROM acc_shared WHERE user_id = {m} "
            f"UNION SELECT account_id FROM opp WHERE id IN {self.vis_opp(m)})"
        )

    def scope(self, subject: str, manager: int | None) -> str:
        if manager is None:
            return ""
        m = manager
        if subject == "opportunity":
            return f" AND o.id IN {self.vis_opp(m)}"
        if subject == "event":
            return f" AND e.opportunity_id IN {self.vis_opp(m)}"
        # activity KPIs: the activities of the people whose figures the manager sees
        return f" AND a.owner_id IN {self.owners(m)}"

    # base KPIs --------------------------------------------------------------------------------

    @staticmethod
    def _bounds(start: dt.date, end: dt.date) -> tuple[str, str]:
        import zoneinfo

        tz = zoneinfo.ZoneInfo(TZ)
        lo = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        hi = dt.datetime.combine(end, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        return (
            f"TIMESTAMPTZ '{lo.strftime('%Y-%m-%d %H:%M:%S')}+00'",
            f"TIMESTAMPTZ '{hi.strftime('%Y-%m-%d %H:%M:%S')}+00'",
        )

    @staticmethod
    def _bucket(column: str, grain: str, is_date: bool) -> str:
        local = column if is_date else f"timezone('{TZ}', {column})"
        if grain == "day":
            return f"CAST({local} AS DATE)"
        return f"CAST(date_trunc('{grain}', {local}) AS DATE)"

    def _rate_join(self, day: str) -> str:
        return f"ASOF LEFT JOIN rate r ON r.currency_id = o.currency_id AND {day} >= r.valid_from"

    def base(
        self,
        kpi: str,
        start: dt.date,
        end: dt.date,
        by: str | None,
        grain: str | None,
        manager: int | None,
    ) -> dict[tuple[Any, dt.date | None], Decimal | None]:
        lo, hi = self._bounds(start, end)
        d0, d1 = f"DATE '{start}'", f"DATE '{end}'"
        today = FROZEN_AT.astimezone(__import__("zoneinfo").ZoneInfo(TZ)).date()
        company = self.company
        group = {
            None: None,
            "rep": {"opportunity": "o.owner_id", "event": "o.owner_id", "activity": "a.owner_id"},
            "source": {"opportunity": "o.source_id"},
            "stage": {"event": "e.to_stage_id"},
            "activity_type": {"activity": "a.activity_type_id"},
        }[by]
        agg = "count(*)"
        time_col, is_date = None, True
        if kpi in ("deals_won", "deals_lost", "won_revenue", "sales_cycle_median"):
            subject = "opportunity"
            outcome = "lost" if kpi == "deals_lost" else "won"
            frm = f"opp o {self._rate_join('o.closed_on') if kpi == 'won_revenue' else ''}"
            where = f"o.outcome = '{outcome}' AND o.closed_on >= {d0} AND o.closed_on < {d1}"
            time_col = "o.closed_on"
            if kpi == "won_revenue":
                agg = (
                    f"sum(CASE WHEN o.currency_id = '{company}' THEN o.amount "
                    "ELSE o.amount * r.rate END), "
                    f"count(*) FILTER (WHERE o.currency_id <> '{company}' AND r.rate IS NULL)"
                )
            if kpi == "sales_cycle_median":
                agg = (
                    "quantile_cont(o.closed_on - CAST(timezone("
                    f"'{TZ}', o.created_at) AS DATE), 0.5)"
                )
        elif kpi == "opportunities_created":
            subject, frm = "opportunity", "opp o"
            where = f"o.created_at >= {lo} AND o.created_at < {hi}"
            time_col, is_date = "o.created_at", False
        elif kpi == "weighted_pipeline":
            subject = "opportunity"
            frm = (
                "opp o LEFT JOIN (SELECT currency_id, arg_max(rate, valid_from) AS rate FROM rate "
                f"WHERE valid_from <= DATE '{today}' GROUP BY 1) r ON r.currency_id = o.currency_id"
            )
            where = f"o.outcome = 'open' AND o.expected_close >= {d0} AND o.expected_close < {d1}"
            time_col = "o.expected_close"
            weighted = "CAST(o.amount * o.probability AS DECIMAL(20, 2)) * 0.01"
            agg = (
                f"sum(CASE WHEN o.currency_id = '{company}' THEN {weighted} "
                f"ELSE CAST({weighted} AS DECIMAL(22, 4)) * r.rate END), "
                f"count(*) FILTER (WHERE o.currency_id <> '{company}' AND r.rate IS NULL)"
            )
        elif kpi == "stale_opportunities":
            subject, frm = "opportunity", "opp o"
            stale = FROZEN_AT - dt.timedelta(days=self.stale_days)
            where = (
                f"o.outcome = 'open' AND o.updated_at < "
                f"TIMESTAMPTZ '{stale.strftime('%Y-%m-%d %H:%M:%S')}+00'"
            )
        elif kpi in ("activities_done", "time_spent"):
            subject, frm = "activity", "act a"
            where = f"a.done_at IS NOT NULL AND a.done_at >= {lo} AND a.done_at < {hi}"
            time_col, is_date = "a.done_at", False
            if kpi == "time_spent":
                agg = "sum(a.duration_minutes)"
        elif kpi == "slipped_deals":
            subject, frm = "event", "ev e JOIN opp o ON o.id = e.opportunity_id"
            where = (
                f"e.kind = 'expected_close' AND e.occurred_at >= {lo} AND e.occurred_at < {hi} "
                "AND CAST(e.new_value AS VARCHAR) > CAST(e.old_value AS VARCHAR)"
            )
            time_col, is_date = "e.occurred_at", False
            agg = "count(DISTINCT e.opportunity_id)"
        elif kpi in ("stage_entries", "stage_advances"):
            subject = "event"
            # first entry of each deal into each open stage within the period
            frm = f"""(
                SELECT e.*, s.order AS stage_order,
                  row_number() OVER (PARTITION BY e.opportunity_id, e.to_stage_id
                                     ORDER BY e.occurred_at, e.id) AS nth
                FROM ev e JOIN stage s ON s.id = e.to_stage_id
                WHERE e.kind IN ('created', 'stage') AND s.kind = 'open'
                  AND e.occurred_at >= {lo} AND e.occurred_at < {hi}
            ) e JOIN opp o ON o.id = e.opportunity_id"""
            where = "e.nth = 1"
            time_col, is_date = "e.occurred_at", False
            if kpi == "stage_advances":
                where += """ AND EXISTS (
                    SELECT 1 FROM ev l JOIN stage ls ON ls.id = l.to_stage_id
                    WHERE l.opportunity_id = e.opportunity_id AND l.kind = 'stage'
                      AND ls.order > e.stage_order AND ls.kind <> 'lost'
                      AND (l.occurred_at > e.occurred_at
                           OR (l.occurred_at = e.occurred_at AND l.id > e.id)))"""
        else:  # pragma: no cover
            raise KeyError(kpi)
        keys: list[str] = []
        if group is not None:
            keys.append(group[subject])
        if grain is not None:
            assert time_col is not None
            keys.append(self._bucket(time_col, grain, is_date))
        select = ", ".join([*keys, agg])
        sql = f"SELECT {select} FROM {frm} WHERE {where}{self.scope(subject, manager)}"
        if keys:
            sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
        rows = self.con.execute(sql).fetchall()
        out: dict[tuple[Any, dt.date | None], Decimal | None] = {}
        for row in rows:
            g = row[0] if group is not None else None
            b = row[len(keys) - 1] if grain is not None else None
            value = row[len(keys)]
            if kpi in ("won_revenue", "weighted_pipeline") and row[len(keys) + 1]:
                raise RuntimeError(f"{kpi}: missing exchange rate")
            if value is None:
                if kpi == "sales_cycle_median":
                    if keys:
                        continue
                    out[(g, b)] = None
                    continue
                value = 0
            v = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            if kpi == "time_spent":
                v = v / 60
            out[(g, b)] = v
        return out


PLACES = {
    "deals_won": 0,
    "deals_lost": 0,
    "win_rate": 6,
    "won_revenue": 2,
    "opportunities_created": 0,
    "weighted_pipeline": 2,
    "activities_done": 0,
    "time_spent": 2,
    "stage_conversion": 6,
    "stage_entries": 0,
    "sales_cycle_median": 3,
    "stale_opportunities": 0,
    "slipped_deals": 0,
}
ADDITIVE = {
    "stage_entries",
    "deals_won",
    "deals_lost",
    "won_revenue",
    "opportunities_created",
    "weighted_pipeline",
    "activities_done",
    "time_spent",
    "stale_opportunities",
    "slipped_deals",
}
SNAPSHOT = {"stale_opportunities"}


def _ratio(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None or not b:
        return None
    return Decimal(a) / Decimal(b)


def duck_values(
    duck: Duck,
    kpi: str,
    start: dt.date,
    end: dt.date,
    by: str | None,
    grain: str | None,
    manager: int | None,
) -> dict[tuple[Any, dt.date | None], Decimal | None]:
    if kpi == "win_rate":
        won = duck.base("deals_won", start, end, by, grain, manager)
        lost = duck.base("deals_lost", start, end, by, grain, manager)
        keys = set(won) | set(lost)
        if by is None and grain is None:
            keys = {(None, None)}
        return {
            k: _ratio(won.get(k, Decimal(0)), won.get(k, Decimal(0)) + lost.get(k, Decimal(0)))
            for k in keys
        }
    if kpi == "stage_conversion":
        adv = duck.base("stage_advances", start, end, by, grain, manager)
        ent = duck.base("stage_entries", start, end, by, grain, manager)
        keys = set(adv) | set(ent)
        if by is None and grain is None:
            keys = {(None, None)}
        return {k: _ratio(adv.get(k, Decimal(0)), ent.get(k, Decimal(0))) for k in keys}
    return duck.base(kpi, start, end, by, grain, manager)


def duck_result(
    duck: Duck,
    kpi: str,
    period: Any,
    compare_period: Any,
    by: str | None,
    grain: str | None,
    manager: int | None,
) -> dict[str, str]:
    """The DuckDB counterpart of :func:`normalise` of the engine's result."""
    from salescope.kpis import periods

    places = PLACES[kpi]
    empty = Decimal(0) if kpi in ADDITIVE else None

    def run(p: Any) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
        cells = duck_values(duck, kpi, p.start, p.end, by, grain, manager) if (by or grain) else {}
        gts = duck_values(duck, kpi, p.start, p.end, by, None, manager) if by and grain else {}
        total = duck_values(duck, kpi, p.start, p.end, None, None, manager)
        return cells, gts, total

    cells, gts, total = run(period)
    buckets = periods.buckets(period, grain, duck.fiscal_month) if grain else []
    if compare_period is not None:
        c_cells, c_gts, c_total = run(compare_period)
        c_buckets = periods.buckets(compare_period, grain, duck.fiscal_month) if grain else []
        shift = dict(zip(buckets, c_buckets, strict=False))
    else:
        c_cells, c_gts, c_total, shift = {}, {}, {}, {}
    out: dict[str, str] = {}

    def put(key: str, value: Any, keep: bool = False) -> None:
        value = quantize(value, places)
        if keep or value not in (None, 0):
            out[key] = str(value)

    groups = {g for g, _b in cells} | {g for g, _b in gts}
    row_buckets: list[Any] = list(buckets) if grain else [None]
    if by or grain:
        for g in groups if by else [None]:
            for b in row_buckets:
                bs = b.isoformat() if b else ""
                put(f"cell|{g}|{bs}", cells.get((g, b), empty))
                if compare_period is not None:
                    cb = shift.get(b) if b is not None else None
                    put(f"compare|{g}|{bs}", c_cells.get((g, cb), empty))
    if by and grain:
        for g in groups:
            put(f"group|{g}", gts.get((g, None), empty))
            if compare_period is not None:
                put(f"gcompare|{g}", c_gts.get((g, None), empty))
    put("total", total.get((None, None), empty), keep=True)
    if compare_period is not None:
        put("ctotal", c_total.get((None, None), empty), keep=True)
    return out


def duck_worker(parquet_dir: Path, users: dict[str, int], repeat: int) -> dict[str, Any]:
    _django()
    from salescope.kpis import builtins
    from salescope.kpis.flash import FORWARD_FIELDS, FlashPeriods
    from salescope.kpis.periods import Period
    from salescope.kpis.widgets import WidgetSpec

    today = FROZEN_AT.astimezone(__import__("zoneinfo").ZoneInfo(TZ)).date()
    fp = FlashPeriods.on(today)
    state: dict[str, Duck] = {}
    roles = {"admin": "admin", "manager": "manager"}

    def duck() -> Duck:
        return state["duck"]

    def flash(manager: int | None, role: str) -> Any:
        from salescope.kpis import registry

        out = {}
        for key in builtins.DEFAULT_TILES[role]:
            kpi = registry.get(key)
            places = PLACES[key]

            def total(p: Period, key: str = key, places: int = places) -> str:
                values = duck_values(duck(), key, p.start, p.end, None, None, manager)
                v = values.get((None, None), Decimal(0) if key in ADDITIVE else None)
                return str(quantize(v, places))

            if kpi.snapshot or kpi.time_field is None or not kpi.grains:
                out[key] = [total(fp.month_to_date), "", "", ""]
            elif kpi.time_field.path in FORWARD_FIELDS:
                out[key] = [total(fp.month), "", "", ""]
            else:
                out[key] = [total(fp.month_to_date), total(fp.previous), total(fp.day), ""]
        return out

    def dashboard(manager: int | None) -> Any:
        out = {}
        for i, w in enumerate(builtins.MANAGER.widgets):
            spec: WidgetSpec = w.spec
            period = spec.resolve_period(today)
            compare = None if spec.kpi in SNAPSHOT else period.comparison(spec.compare)
            out[f"{i}:{spec.kpi}"] = duck_result(
                duck(), spec.kpi, period, compare, spec.by, spec.grain, manager
            )
        return out

    def drill(manager: int | None) -> Any:
        period = WidgetSpec(kpi="won_revenue", period=DRILL_REP_QUARTER).resolve_period(today)
        scope = duck().scope("opportunity", manager)
        company = duck().company
        base = (
            f"FROM opp o {duck()._rate_join('o.closed_on')} WHERE o.outcome = 'won' "
            f"AND o.closed_on >= DATE '{period.start}' AND o.closed_on < DATE '{period.end}' "
            f"AND o.owner_id = {users['rep']}{scope}"
        )
        ids = [
            r[0]
            for r in duck()
            .con.execute(f"SELECT o.id {base} ORDER BY o.closed_on DESC, o.id DESC LIMIT 50")
            .fetchall()
        ]
        row = (
            duck()
            .con.execute(
                f"SELECT count(*), sum(CASE WHEN o.currency_id = '{company}' THEN o.amount "
                f"ELSE o.amount * r.rate END) {base}"
            )
            .fetchone()
        )
        assert row is not None
        total = quantize(Decimal(row[1] or 0), 2)
        return {"ids": ids, "count": int(row[0]), "total": str(total)}

    times: dict[str, dict[str, float]] = {}
    values: dict[str, Any] = {}
    for role in roles:
        manager = users["manager"] if role == "manager" else None
        for name, fn in (("flash", flash), ("dashboard", dashboard), ("drill", drill)):

            def call(
                fn: Any = fn, manager: int | None = manager, role: str = role, name: str = name
            ) -> Any:
                if name == "flash":
                    return fn(manager, role)
                return fn(manager)

            t0 = time.perf_counter()
            state["duck"] = Duck(parquet_dir, users)
            result = call()
            cold = time.perf_counter() - t0
            warm = float("inf")
            for _ in range(repeat):
                t0 = time.perf_counter()
                result = call()
                warm = min(warm, time.perf_counter() - t0)
            times[f"{name}|{role}"] = {"cold": cold, "warm": warm}
            values[f"{name}|{role}"] = result
    return {"times": times, "values": values}


# ---------------------------------------------------------------------------------------------
# The run: workers, checks, table
# ---------------------------------------------------------------------------------------------

ROWS = [
    ("flash|admin", "flash figures (admin)"),
    ("flash|manager", "flash figures (manager)"),
    ("dashboard|admin", "manager dashboard (admin)"),
    ("dashboard|manager", "manager dashboard (manager)"),
    ("drill|admin", "drill-down (admin)"),
    ("drill|manager", "drill-down (manager)"),
]


def _worker(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "salescope.settings", **env},
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _diff(a: Any, b: Any, path: str = "") -> Iterable[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                yield f"{path}/{key}: engine has nothing, DuckDB {b[key]!r}"
            elif key not in b:
                yield f"{path}/{key}: engine {a[key]!r}, DuckDB has nothing"
            else:
                yield from _diff(a[key], b[key], f"{path}/{key}")
    elif a != b:
        yield f"{path}: engine {a!r}, DuckDB {b!r}"


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:,.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def run(args: argparse.Namespace) -> int:
    parquet = Path(args.parquet)
    users = pick_users(parquet)
    _log(f"users: {users}")
    user_args = ["--users", json.dumps(users), "--repeat", str(args.repeat)]
    results: dict[str, dict[str, Any]] = {}
    dbs = [d for d in args.databases.split(",") if d]
    if "sqlite" in dbs:
        _log("SQLite worker ...")
        results["sqlite"] = _worker(
            ["--worker", "engine", *user_args], {"DATABASE_URL": f"sqlite:///{args.sqlite}"}
        )
    if "postgresql" in dbs:
        _log("PostgreSQL worker ...")
        results["postgresql"] = _worker(
            ["--worker", "engine", *user_args], {"DATABASE_URL": args.pg}
        )
    _log("DuckDB worker ...")
    # (it reads only the company's fiscal year start, through Django, from either database)
    settings_db = args.pg if "postgresql" in dbs else f"sqlite:///{args.sqlite}"
    results["duckdb"] = _worker(
        ["--worker", "duckdb", "--parquet", str(parquet), *user_args],
        {"DATABASE_URL": settings_db},
    )
    mismatches: list[str] = []
    for db in ("sqlite", "postgresql"):
        if db not in results:
            continue
        for key, _label in ROWS:
            for line in _diff(results[db]["values"][key], results["duckdb"]["values"][key]):
                mismatches.append(f"{db} {key}{line}")

    def t(db: str, key: str, kind: str) -> float | None:
        return results.get(db, {}).get("times", {}).get(key, {}).get(kind)

    table = []
    for key, label in ROWS:
        row: dict[str, Any] = {"row": label, "key": key}
        for db in ("sqlite", "postgresql", "duckdb"):
            row[f"{db}_cold"] = t(db, key, "cold")
            row[f"{db}_warm"] = t(db, key, "warm")
        for db in ("sqlite", "postgresql"):
            warm, ref = row[f"{db}_warm"], row["duckdb_warm"]
            row[f"{db}_ratio"] = warm / ref if warm is not None and ref else None
        table.append(row)
    goals = []
    for db in ("sqlite", "postgresql"):
        if db not in results:
            continue
        flash = max(t(db, "flash|admin", "warm") or 0, t(db, "flash|manager", "warm") or 0)
        dash = max(t(db, "dashboard|admin", "warm") or 0, t(db, "dashboard|manager", "warm") or 0)
        goals.append(
            {
                "database": db,
                "flash_warm": flash,
                "flash_met": flash < FLASH_GOAL,
                "dashboard_warm": dash,
                "dashboard_met": dash < DASHBOARD_GOAL,
            }
        )
    if args.json:
        print(
            json.dumps(
                {
                    "users": users,
                    "table": table,
                    "goals": goals,
                    "widgets": {db: r.get("widgets") for db, r in results.items()},
                    "mismatches": mismatches,
                },
                indent=2,
            )
        )
    else:
        head = (
            "| ms | SQLite cold | SQLite warm | PostgreSQL cold | PostgreSQL warm | DuckDB cold "
            "| DuckDB warm | SQLite / DuckDB | PostgreSQL / DuckDB |"
        )
        print(head)
        print("| --- |" + " ---: |" * 8)
        for row in table:
            ratios = [
                f"{row[f'{db}_ratio']:.1f}×" if row[f"{db}_ratio"] is not None else "–"
                for db in ("sqlite", "postgresql")
            ]
            cells = [
                _ms(row[f"{db}_{kind}"])
                for db in ("sqlite", "postgresql", "duckdb")
                for kind in ("cold", "warm")
            ]
            print(f"| {row['row']} | " + " | ".join(cells + ratios) + " |")
        print()
        for g in goals:
            print(
                f"goals {g['database']}: flash {_ms(g['flash_warm'])} ms "
                f"({'met' if g['flash_met'] else 'MISSED'}, < 150 ms); manager dashboard "
                f"{_ms(g['dashboard_warm'])} ms warm "
                f"({'met' if g['dashboard_met'] else 'MISSED'}, < 1 s)"
            )
        if args.widgets:
            print()
            print("| widget (warm ms) | " + " | ".join(
                f"{db} {role}" for db in ("sqlite", "postgresql") if db in results
                for role in ("admin", "manager")) + " |")  # fmt: skip
            names = list(next(iter(results.values())).get("widgets", {}).get("admin", {}))
            for name in names:
                cells = [
                    _ms(results[db]["widgets"][role].get(name))
                    for db in ("sqlite", "postgresql")
                    if db in results
                    for role in ("admin", "manager")
                ]
                print(f"| {name} | " + " | ".join(cells) + " |")
    if mismatches:
        print(
            f"\nMISMATCH: {len(mismatches)} engine numbers differ from DuckDB's:", file=sys.stderr
        )
        for line in mismatches[:200]:
            print(f"  MISMATCH {line}", file=sys.stderr)
        return 1
    _log("every engine number equals DuckDB's")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--prepare", action="store_true", help="copy PostgreSQL into SQLite + Parquet"
    )
    parser.add_argument(
        "--tables", default="", help="--prepare only these tables (comma-separated)"
    )
    parser.add_argument(
        "--skip", default="", help="--prepare: leave these tables out (comma-separated)"
    )
    parser.add_argument(
        "--targets",
        default="postgresql,sqlite,parquet",
        help="--prepare: VACUUM ANALYZE postgresql, copy into sqlite, write parquet",
    )
    parser.add_argument("--pg", default=os.environ.get("BENCH_KPIS_PG", DEFAULT_PG))
    parser.add_argument("--sqlite", default=str(DEFAULT_SQLITE))
    parser.add_argument("--parquet", default=str(DEFAULT_PARQUET))
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--widgets", action="store_true", help="also print warm times per widget")
    parser.add_argument("--worker", choices=("engine", "duckdb"), help=argparse.SUPPRESS)
    parser.add_argument("--users", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        users = {k: int(v) for k, v in json.loads(args.users).items()}
        if args.worker == "engine":
            out = engine_worker(users, args.repeat)
        else:
            out = duck_worker(Path(args.parquet), users, args.repeat)
        print(json.dumps(out, default=str))
        return 0
    if args.prepare:
        only = {t for t in args.tables.split(",") if t}
        skip = {t for t in args.skip.split(",") if t}
        targets = {t for t in args.targets.split(",") if t}
        prepare(args.pg, Path(args.sqlite), Path(args.parquet), only, skip, targets)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
