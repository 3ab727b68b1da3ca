#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, store conformance, HTTP
# integration, ledger tampering), the independent check of proof files with
# sigstore, and the browser tests in Chromium. Installs what the browser
# tests need first (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
cargo build --workspace --locked
cargo test --workspace --locked
LANTERN_BIN="$PWD/target/debug/lantern" scripts/independent-verify.sh
(cd e2e && LANTERN_BIN="$PWD/../target/debug/lantern" npm test)
