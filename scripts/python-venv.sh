#!/usr/bin/env bash
# Makes (once) the private Python environment the independent checks use
# and prints its folder: `sigstore` (an independent verifier of Merkle
# proofs and signed checkpoints) and `libhxl` (the HXL validator for the
# aggregate exports; it needs `six` but does not declare it) and
# `pymupdf` (an independent PDF reader, for the dossier summaries). Pinned
# versions, from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${LANTERN_VENV:-target/venv}"
packages=("sigstore==4.5.1" "libhxl==5.2.2" "six==1.17.0" "pymupdf==1.26.4")
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sigstore, hxl, six, pymupdf" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}" >&2
fi
echo "$venv"
