#!/usr/bin/env bash
# The whole test suite, twice: on SQLite (the default settings), then on a throwaway
# PostgreSQL (scripts/pg_throwaway.sh). Also checks that no migration is missing.
#
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh salescope/core -k backup
#
# Environment:
#   CI=true                    PostgreSQL and Chromium are required (missing = failure)
#   SALESCOPE_TEST_WORKERS=N   run pytest with N xdist workers (default: one per CPU, at
#                              most 4; 0 = no xdist, in one process)
#   SALESCOPE_SKIP_POSTGRES=1  skip the PostgreSQL run (not allowed with CI=true)
#   SALESCOPE_DATA_DIR=DIR     data directory for the tests (default: a fresh temporary one)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
VENV_BIN="$ROOT/.venv/bin"

if [ ! -x "$VENV_BIN/pytest" ] || [ ! -x "$VENV_BIN/salescope" ]; then
    make --no-print-directory install || exit 1
fi

if [ "${CI:-}" = "true" ]; then
    export SALESCOPE_REQUIRE_BROWSER=1
    export SALESCOPE_REQUIRE_POSTGRES=1
fi
unset DATABASE_URL
export PYTHONDONTWRITEBYTECODE=1

# A data directory of this run's own (SQLite test database, media files), so that test runs
# side by side in one work tree never share a database file. Kept if the caller chose one.
if [ -z "${SALESCOPE_DATA_DIR:-}" ]; then
    SALESCOPE_DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/salescope-test.XXXXXX")
    export SALESCOPE_DATA_DIR
    trap 'rm -rf "$SALESCOPE_DATA_DIR"' EXIT
fi

pytest_args=()
if [ -z "${SALESCOPE_TEST_WORKERS:-}" ]; then
    cpus=$(nproc 2>/dev/null || echo 1)
    SALESCOPE_TEST_WORKERS=$((cpus > 4 ? 4 : cpus))
fi
if [ "${SALESCOPE_TEST_WORKERS}" != 0 ] && [ "${SALESCOPE_TEST_WORKERS}" != 1 ]; then
    pytest_args+=(-p xdist -n "$SALESCOPE_TEST_WORKERS")
fi

banner() {
    local line="=================================================================================="
    printf '\n%s\n  %s\n%s\n' "$line" "$*" "$line"
}

# pytest exits 5 when it collected no test: that is a failure too (any non-zero is).
explain_rc() {
    if [ "$1" = 5 ]; then
        echo "!!! pytest collected no tests: counted as a failure." >&2
    fi
}

have_postgres() {
    local initdb dir
    initdb=$(command -v initdb 2>/dev/null) && [ -x "$(dirname "$(readlink -f "$initdb")")/pg_ctl" ] \
        && return 0
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && return 0
    done
    return 1
}

start=$SECONDS

banner "Migrations: salescope makemigrations --check --dry-run"
"$VENV_BIN/salescope" makemigrations --check --dry-run
migrations_rc=$?

banner "Test run 1/2: SQLite (default settings, DATABASE_URL unset)"
"$VENV_BIN/pytest" "${pytest_args[@]}" "$@"
sqlite_rc=$?
explain_rc "$sqlite_rc"

pg_status=""
if [ "${SALESCOPE_SKIP_POSTGRES:-}" = 1 ] && [ "${CI:-}" != "true" ]; then
    pg_status="SKIPPED (SALESCOPE_SKIP_POSTGRES=1)"
    pg_rc=0
elif have_postgres; then
    banner "Test run 2/2: PostgreSQL (throwaway server, DATABASE_URL set)"
    scripts/pg_throwaway.sh "$VENV_BIN/pytest" "${pytest_args[@]}" "$@"
    pg_rc=$?
    explain_rc "$pg_rc"
elif [ "${CI:-}" = "true" ]; then
    banner "ERROR: PostgreSQL server binaries (initdb, pg_ctl) not found; CI requires them"
    pg_status="MISSING (required with CI=true)"
    pg_rc=1
else
    pg_status="SKIPPED: PostgreSQL is not installed"
    pg_rc=0
    cat >&2 <<'EOF'

##################################################################################
#                                                                                #
#   WARNING: THE POSTGRESQL TEST RUN WAS SKIPPED.                                #
#   initdb/pg_ctl were not found in PATH or /usr/lib/postgresql/*/bin.           #
#   Only SQLite was tested. Install PostgreSQL (apt-get install postgresql)      #
#   to run the suite on PostgreSQL as well, as CI does.                          #
#                                                                                #
##################################################################################
EOF
fi

verdict() { if [ "$1" = 0 ]; then echo "ok"; else echo "FAILED (exit $1)"; fi; }
banner "Summary ($((SECONDS - start)) s)"
echo "  migrations check: $(verdict "$migrations_rc")"
echo "  SQLite run:       $(verdict "$sqlite_rc")"
echo "  PostgreSQL run:   ${pg_status:-$(verdict "$pg_rc")}"

if [ "$migrations_rc" != 0 ] || [ "$sqlite_rc" != 0 ] || [ "$pg_rc" != 0 ]; then
    exit 1
fi
exit 0
