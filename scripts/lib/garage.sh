# Shell functions that start and stop a private Garage server (an
# S3-compatible object store) for the tests: one node, its data in a
# temporary folder, every port on 127.0.0.1 and free, one bucket and one
# access key made for the run. Source this file, then call garage_start
# (which exports LANTERN_TEST_S3_ENDPOINT, _BUCKET, _REGION, _KEY_ID and
# _SECRET, and GARAGE_TEST_DIR) and garage_stop; garage_pause and
# garage_resume stop and restart the same server (fault tests).
# scripts/install-test-deps.sh installs Garage (GARAGE_VERSION below).

GARAGE_VERSION=2.5.0

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

garage_cli() {
  garage -c "$GARAGE_TEST_DIR/garage.toml" "$@"
}

garage_run() {
  garage -c "$GARAGE_TEST_DIR/garage.toml" server >>"$GARAGE_TEST_DIR/server.log" 2>&1 &
  echo $! >"$GARAGE_TEST_DIR/pid"
  local i
  for i in $(seq 1 100); do
    garage_cli status >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$GARAGE_TEST_DIR/server.log" >&2
  return 1
}

garage_start() {
  command -v garage >/dev/null 2>&1 || { echo "Garage is not installed (scripts/install-test-deps.sh installs it)" >&2; return 1; }
  GARAGE_TEST_DIR=$(mktemp -d -t lantern-garage.XXXXXX)
  local s3 rpc admin node key
  s3=$(free_port); rpc=$(free_port); admin=$(free_port)
  cat >"$GARAGE_TEST_DIR/garage.toml" <<EOT
metadata_dir = "$GARAGE_TEST_DIR/meta"
data_dir = "$GARAGE_TEST_DIR/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:$admin"
admin_token = "$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
EOT
  echo "$s3" >"$GARAGE_TEST_DIR/s3-port"
  garage_run || return 1
  node=$(garage_cli status 2>/dev/null | grep -oE '^[0-9a-f]{16}' | head -1)
  garage_cli layout assign -z dc1 -c 1G "$node" >/dev/null
  garage_cli layout apply --version 1 >/dev/null
  garage_cli bucket create lantern-test >/dev/null
  key=$(garage_cli key create lantern-test-key)
  garage_cli bucket allow --read --write --owner lantern-test --key lantern-test-key >/dev/null
  export LANTERN_TEST_S3_ENDPOINT="http://127.0.0.1:$s3"
  export LANTERN_TEST_S3_BUCKET=lantern-test
  export LANTERN_TEST_S3_REGION=garage
  LANTERN_TEST_S3_KEY_ID=$(echo "$key" | awk -F': *' '/Key ID/ {print $2; exit}')
  LANTERN_TEST_S3_SECRET=$(echo "$key" | awk -F': *' '/Secret key/ {print $2; exit}')
  export LANTERN_TEST_S3_KEY_ID LANTERN_TEST_S3_SECRET
  [ -n "$LANTERN_TEST_S3_KEY_ID" ] && [ -n "$LANTERN_TEST_S3_SECRET" ] \
    || { echo "could not read the Garage key:" >&2; echo "$key" >&2; return 1; }
  echo "Garage $(garage --version 2>/dev/null | awk "{print \$2}" | sed "s/^cargo://") test server on 127.0.0.1:$s3"
}

garage_pause() {
  kill "$(cat "$GARAGE_TEST_DIR/pid")" 2>/dev/null || true
  wait "$(cat "$GARAGE_TEST_DIR/pid")" 2>/dev/null || true
}

garage_resume() {
  garage_run
}

garage_stop() {
  [ -n "${GARAGE_TEST_DIR:-}" ] || return 0
  garage_pause
  rm -rf "$GARAGE_TEST_DIR"
  unset GARAGE_TEST_DIR LANTERN_TEST_S3_ENDPOINT LANTERN_TEST_S3_BUCKET LANTERN_TEST_S3_REGION \
    LANTERN_TEST_S3_KEY_ID LANTERN_TEST_S3_SECRET
}
