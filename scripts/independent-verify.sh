#!/usr/bin/env bash
# Verifies Lantern's proof files with an independent implementation: the
# `sigstore` package from PyPI, installed into a private virtual environment.
# Every entry of a fresh log is proven and checked; tampered proofs must be
# refused. Prints "N passed, M failed" and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$(scripts/python-venv.sh)
bin="${LANTERN_BIN:-target/debug/lantern}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
export LANTERN_LOG=error

for role in registrar caseworker auditor documenter interviewer; do
  "$bin" --data-dir "$data" user create --username "$role-1" --display-name "$role" --role "$role" >/dev/null
done
"$bin" --data-dir "$data" ledger checkpoint >/dev/null
key=$("$bin" --data-dir "$data" ledger key)
size=$("$bin" --data-dir "$data" ledger audit | sed -n 's/^Checked \([0-9]*\) entries.*/\1/p')

passed=0
failed=0
check() {
  if "$venv/bin/python" tools/independent/verify_with_sigstore.py "$key" "$@" >"$work/out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $* :: $(cat "$work/out")"
  fi
}
for ((i = 0; i < size; i++)); do
  "$bin" --data-dir "$data" ledger prove "$i" >"$work/$i.tlog-proof"
  check "$work/$i.tlog-proof"
done
# Tampered proofs: another entry in the extra line, a changed proof hash, a
# changed checkpoint size.
python3 - "$work" <<'PY'
import base64, sys
w = sys.argv[1]
p = open(f"{w}/1.tlog-proof").read().split("\n")
other = open(f"{w}/2.tlog-proof").read().split("\n")
open(f"{w}/swapped-entry.tlog-proof", "w").write("\n".join(p[:1] + other[1:2] + p[2:]))
h = bytearray(base64.b64decode(p[3])); h[0] ^= 1
open(f"{w}/changed-hash.tlog-proof", "w").write("\n".join(p[:3] + [base64.b64encode(bytes(h)).decode()] + p[4:]))
text = "\n".join(p)
head, cp = text.split("\n\n", 1)
lines = cp.split("\n"); lines[1] = str(int(lines[1]) + 1)
open(f"{w}/changed-size.tlog-proof", "w").write(head + "\n\n" + "\n".join(lines))
PY
for bad in swapped-entry changed-hash changed-size; do
  check "$work/$bad.tlog-proof" --expect-failure
  echo "  $bad: $(head -c 160 "$work/out")"
done
echo "independent verification (sigstore): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
