# Shell functions that start and stop a private PostgreSQL server for the
# tests: Debian's packaged server, a fresh cluster in a temporary folder,
# listening on 127.0.0.1 on a free port, trusting local connections (it is
# reachable from this machine only and deleted afterwards). PostgreSQL
# refuses to run as root, so under root the cluster belongs to the
# `postgres` user the Debian package creates. Source this file, then call
# pg_start (which exports LANTERN_TEST_POSTGRES and PG_TEST_DIR) and
# pg_stop; pg_pause and pg_resume stop and restart the same server.

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "PostgreSQL is not installed (scripts/install-test-deps.sh installs it)" >&2; return 1; }
  echo "$dir"
}

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local bin port
  bin=$(pg_bin) || return 1
  PG_TEST_DIR=$(mktemp -d -t lantern-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_TEST_DIR"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_as_owner "$bin/initdb" -D "$PG_TEST_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$PG_TEST_DIR/initdb.log" 2>&1 \
    || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  pg_as_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w \
    -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  echo "$port" >"$PG_TEST_DIR/port"
  export LANTERN_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') test server on 127.0.0.1:$port"
}

# Stops the server of PG_TEST_DIR without removing it (fault tests); the
# argument is pg_ctl's shutdown mode (default fast; immediate is a crash).
pg_pause() {
  pg_as_owner "$(pg_bin)/pg_ctl" -D "$PG_TEST_DIR/data" -m "${1:-fast}" -w stop >/dev/null
}

# Starts it again on the same port.
pg_resume() {
  local port
  port=$(cat "$PG_TEST_DIR/port")
  pg_as_owner "$(pg_bin)/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w \
    -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}

pg_stop() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  local bin
  bin=$(pg_bin) && pg_as_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TEST_DIR"
  unset PG_TEST_DIR LANTERN_TEST_POSTGRES
}
