#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run from traps and steps are reachable
# Run a command against a throwaway PostgreSQL server.
#
#   scripts/pg_throwaway.sh <command...>
#
# Creates a temporary data directory, initdb's it (UTF8, trust auth), starts the server on a
# free TCP port on 127.0.0.1 (unix socket inside the temp directory), creates the database
# "salescope", exports DATABASE_URL=postgres://<user>@127.0.0.1:<port>/salescope (and PGHOST,
# PGPORT, PGUSER, PGDATABASE), runs the command, then stops the server and deletes the
# directory, also when the command fails or the script is interrupted.
#
# PostgreSQL refuses to run as root: as root, the server runs as the "postgres" system user
# (created if missing) while the command itself keeps running as the caller, connecting over
# TCP as the "postgres" role (superuser, as the initdb owner).
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 <command...>" >&2
    exit 2
fi

log() { echo "pg_throwaway: $*" >&2; }

find_pg_bin() {
    local initdb dir
    initdb=$(command -v initdb 2>/dev/null || true)
    if [ -n "$initdb" ]; then
        # Resolve symlinks so the client tools of the same installation are found beside it.
        dir=$(dirname "$(readlink -f "$initdb")")
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && [ -x "$dir/createdb" ]; then
            echo "$dir"
            return 0
        fi
    fi
    # Debian keeps the server binaries out of PATH; take the newest version installed.
    # shellcheck disable=SC2012  # Debian version directories are plain numbers
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/createdb" ]; then
        echo "$dir"
        return 0
    fi
    return 1
}

if ! PG_BIN=$(find_pg_bin); then
    log "ERROR: PostgreSQL server binaries (initdb, pg_ctl) not found in PATH or /usr/lib/postgresql/*/bin."
    log "Install them, e.g. 'apt-get install postgresql'."
    exit 127
fi

if [ "$(id -u)" = 0 ]; then
    PG_OS_USER=postgres
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        log "creating system user $PG_OS_USER"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$PG_OS_USER"
    fi
    # The server user must be able to reach the directory, so use /tmp rather than $TMPDIR.
    TMP_PARENT=/tmp
    as_pg() { (cd "$PG_DIR" && runuser -u "$PG_OS_USER" -- "$@"); }
else
    PG_OS_USER=$(id -un)
    TMP_PARENT=${TMPDIR:-/tmp}
    as_pg() { (cd "$PG_DIR" && "$@"); }
fi
PG_ROLE=$PG_OS_USER

PG_DIR=$(mktemp -d "$TMP_PARENT/salescope-pg.XXXXXX")
DATA="$PG_DIR/data"
LOGFILE="$PG_DIR/server.log"
if [ "$(id -u)" = 0 ]; then
    chown "$PG_OS_USER:" "$PG_DIR"
fi
chmod 700 "$PG_DIR"

started=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ "$started" = 1 ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

initdb_with_locale() {
    rm -rf "$DATA"
    as_pg "$PG_BIN/initdb" -D "$DATA" --username="$PG_ROLE" --auth=trust --encoding=UTF8 \
        --locale="$1" --no-sync --no-instructions >"$PG_DIR/initdb.log" 2>&1
}
if ! initdb_with_locale C.UTF-8 && ! initdb_with_locale C; then
    log "ERROR: initdb failed:"
    cat "$PG_DIR/initdb.log" >&2
    exit 1
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

for attempt in 1 2 3; do
    PORT=$(free_port)
    # Durability is pointless for a throwaway database: turn it off for speed.
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 -s \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories='$PG_DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
        start; then
        started=1
        break
    fi
    log "server did not start on port $PORT (attempt $attempt)"
    if [ "$attempt" = 3 ]; then
        cat "$LOGFILE" >&2 || true
        exit 1
    fi
done

"$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PG_ROLE" salescope

export DATABASE_URL="postgres://$PG_ROLE@127.0.0.1:$PORT/salescope"
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=$PG_ROLE PGDATABASE=salescope
# pg_dump/pg_restore/psql of the same version as the server come first.
export PATH="$PG_BIN:$PATH"
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') running at $DATABASE_URL"

set +e
"$@"
rc=$?
set -e
exit "$rc"
