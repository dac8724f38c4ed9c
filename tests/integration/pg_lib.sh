# A private PostgreSQL for the integration tests (issue 25): a fresh cluster in its own temporary directory, on a
# free loopback port, with trust authentication for the user iotca and a database iotca. Never the system cluster
# or port 5432. PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user and its
# programs run as that user.
#   start_pg        starts it; exports PG_DIR, PG_PORT and PG_URL (postgresql://iotca@127.0.0.1:$PG_PORT/iotca)
#   stop_pg         stops it and removes PG_DIR; safe to call twice, or without start_pg
#   start_pg_standby  a hot standby of it (pg_basebackup -R) on its own port; exports PG_STANDBY_PORT, PG_STANDBY_URL
#   pg_sync_standby   makes the standby the primary's synchronous standby (synchronous_standby_names = '*')
#   pg_halt         stops the server and keeps its data (a database outage); pg_resume starts it again, same port
#   pg_sql [SQL]    runs SQL (or stdin without SQL) with psql against PG_URL, printing rows unaligned, |-separated
# A script with its own EXIT trap must call stop_pg from it; a script that has none when it sources this file gets
# one that calls stop_pg (a trap the script sets later replaces it: call stop_pg from that one).
# shellcheck shell=bash

PG_DIR=""
PG_PORT=""
PG_URL=""
PG_BIN=""
PG_STANDBY_PORT=""
PG_STANDBY_URL=""

# the server programs: pg_config's when it has them (libpq-dev's pg_config), else the newest installed version's
_pg_bindir() {
  local d v best="" bestv=0
  d=$(pg_config --bindir 2>/dev/null) || d=""
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] || continue
    v=${d#/usr/lib/postgresql/}; v=${v%/bin}
    case $v in *[!0-9]*) continue ;; esac
    if [ "$v" -gt "$bestv" ]; then bestv=$v; best=$d; fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

# _pg_as CMD...: runs a server program as the cluster's owner (postgres when we are root), from PG_DIR, which that
# user can enter (the caller's directory may be one only root can)
_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$PG_DIR" && runuser -u postgres -- "$@")
  else
    (cd "$PG_DIR" && "$@")
  fi
}

# _pg_fail MESSAGE: the server log's tail, then exit 1 (the EXIT trap stops the server)
_pg_fail() {
  echo "FAIL - PostgreSQL: $*" >&2
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/log" ]; then tail -n 20 "$PG_DIR/log" >&2; fi
  exit 1
}

# a free loopback port, as daemon_lib.sh's free_port (a copy, so this file works without daemon_lib.sh)
_pg_free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+) that client sockets use
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

start_pg() {
  local try opts
  [ -z "$PG_DIR" ] || _pg_fail "start_pg: already started in $PG_DIR"
  PG_BIN=$(_pg_bindir) || _pg_fail "no PostgreSQL server programs (initdb) in pg_config --bindir or /usr/lib/postgresql/*/bin"
  PG_DIR=$(mktemp -d /tmp/iotca-pg.XXXXXX) || _pg_fail "mktemp"
  : > "$PG_DIR/log"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_DIR" || _pg_fail "chown $PG_DIR to postgres"; fi
  _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U iotca --no-sync -E UTF8 >>"$PG_DIR/log" 2>&1 ||
    _pg_fail "initdb failed"
  # a port found free may be taken before the server binds it: a few tries, each with another port
  for try in 1 2 3; do
    PG_PORT=$(_pg_free_port) || _pg_fail "no free port"
    opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c fsync=on"
    opts+=" -c max_connections=200"
    if _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 120 -o "$opts" start >/dev/null 2>&1; then
      break
    fi
    if [ "$try" -eq 3 ] || ! grep -q 'could not bind\|could not create any TCP/IP sockets' "$PG_DIR/log"; then
      _pg_fail "pg_ctl start failed (port $PG_PORT)"
    fi
  done
  PG_URL="postgresql://iotca@127.0.0.1:$PG_PORT/iotca"
  export PG_DIR PG_PORT PG_URL
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "postgresql://iotca@127.0.0.1:$PG_PORT/postgres" \
    -c 'CREATE DATABASE iotca' >>"$PG_DIR/log" 2>&1 || _pg_fail "CREATE DATABASE iotca failed"
}

start_pg_standby() {
  [ -n "$PG_DIR" ] || _pg_fail "start_pg_standby: start_pg first"
  _pg_as "$PG_BIN/pg_basebackup" -D "$PG_DIR/standby" -R -X stream -c fast -h 127.0.0.1 -p "$PG_PORT" -U iotca \
    >>"$PG_DIR/log" 2>&1 || _pg_fail "pg_basebackup failed"
  PG_STANDBY_PORT=$(_pg_free_port) || _pg_fail "no free port"
  local opts="-p $PG_STANDBY_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c hot_standby=on"
  opts+=" -c max_connections=200"
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/standby" -l "$PG_DIR/standby.log" -w -t 120 -o "$opts" start >/dev/null 2>&1 ||
    _pg_fail "the standby did not start: $(tail -5 "$PG_DIR/standby.log")"
  PG_STANDBY_URL="postgresql://iotca@127.0.0.1:$PG_STANDBY_PORT/iotca"
  export PG_STANDBY_PORT PG_STANDBY_URL
}

pg_sync_standby() {
  pg_sql "ALTER SYSTEM SET synchronous_standby_names = '*'" && pg_sql "SELECT pg_reload_conf()" >/dev/null
}

stop_pg() {
  [ -n "$PG_DIR" ] || return 0
  if [ -d "$PG_DIR/standby" ] && [ -n "$PG_BIN" ]; then
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/standby" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -d "$PG_DIR/data" ] && [ -n "$PG_BIN" ]; then
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
  PG_DIR=""
  PG_PORT=""
  PG_URL=""
}

pg_halt() {
  [ -n "$PG_DIR" ] || _pg_fail "pg_halt: start_pg first"
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || _pg_fail "pg_ctl stop failed"
}

pg_resume() {
  [ -n "$PG_DIR" ] || _pg_fail "pg_resume: start_pg first"
  local opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c fsync=on"
  opts+=" -c max_connections=200"
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 120 -o "$opts" start >/dev/null 2>&1 ||
    _pg_fail "pg_ctl start (resume) failed"
}

pg_sql() {
  [ -n "$PG_URL" ] || _pg_fail "pg_sql: start_pg first"
  local psql=psql
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/psql" ] && psql=$PG_BIN/psql
  if [ $# -gt 0 ]; then
    "$psql" -X -q -v ON_ERROR_STOP=1 -At -d "$PG_URL" -c "$1"
  else
    "$psql" -X -q -v ON_ERROR_STOP=1 -At -d "$PG_URL" -f -
  fi
}

if [ -z "$(trap -p EXIT)" ]; then trap stop_pg EXIT; fi
