#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, store conformance, HTTP
# integration, ledger tampering, matching quality), then the PostgreSQL
# backend with evidence on S3 (its conformance suite and the whole HTTP
# suite again, on a private PostgreSQL server and a private Garage server
# started here), the independent check of proof files with sigstore, and
# the browser tests in Chromium on SQLite and on PostgreSQL.
# Installs what the tests need first (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/postgres.sh
. scripts/lib/garage.sh

scripts/install-test-deps.sh
cargo build --workspace --locked
cargo test --workspace --locked

trap 'pg_stop; garage_stop' EXIT
pg_start
garage_start
echo "== PostgreSQL: store conformance, backups and moves"
cargo test --locked -p lantern-store-postgres -- --include-ignored
cargo test --locked -p lantern --test backup -- --include-ignored
echo "== PostgreSQL and S3 (Garage): the vault and the HTTP suite"
cargo test --locked -p lantern-vault -- --include-ignored
cargo test --locked -p lantern-testkit

LANTERN_BIN="$PWD/target/debug/lantern" scripts/independent-verify.sh
# The browser tests validate the HXL export with libhxl from this environment.
LANTERN_VENV="$PWD/$(scripts/python-venv.sh)"
export LANTERN_VENV
echo "== browser tests on SQLite"
(cd e2e && env -u LANTERN_TEST_POSTGRES LANTERN_BIN="$PWD/../target/debug/lantern" npm test)
echo "== browser tests on PostgreSQL"
(cd e2e && LANTERN_BIN="$PWD/../target/debug/lantern" npm test)
