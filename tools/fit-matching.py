#!/usr/bin/env python3
"""Fits the matcher's calibration (crates/matching/src/lib.rs, CAL_A/B/C).

Builds evaluation sets from the *.fit name files only (with the project's
name-sets.py yardstick tool), runs `lantern match batch --features` on each,
labels every returned pair with the truth, and fits a logistic regression of
the label on (score, margin) by Newton's method. Prints the constants.

usage: tools/fit-matching.py SHARED_TOOLS_DIR LANTERN_BINARY
(SHARED_TOOLS_DIR holds name-sets.py and ../data/names; a development tool,
never run by the tests.)
"""
import csv
import math
import os
import subprocess
import sys
import tempfile


def main():
    tools, binary = sys.argv[1], sys.argv[2]
    data = os.path.join(tools, "..", "data", "names")
    out = tempfile.mkdtemp()
    subprocess.run([sys.executable, os.path.join(tools, "name-sets.py"), out,
                    "--wikidata", os.path.join(data, "wikidata-arabic-latin.fit.tsv"),
                    "--google", os.path.join(data, "google-ar2en.fit.txt")], check=True)
    rows = []
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        truth = {}
        with open(os.path.join(d, "truth.csv"), encoding="utf-8") as f:
            for r in csv.DictReader(f):
                truth[r["query_id"]] = r["person_id"]
        res = subprocess.run([binary, "match", "batch", "--registry", os.path.join(d, "registry.csv"),
                              "--queries", os.path.join(d, "queries.csv"), "--top", "10", "--features"],
                             check=True, capture_output=True, text=True).stdout
        for r in csv.DictReader(res.splitlines()):
            y = 1.0 if truth.get(r["query_id"]) == r["person_id"] else 0.0
            rows.append((float(r["score"]), float(r["margin"]), y))
    # Logistic regression on (score, margin, 1) by Newton's method.
    w = [0.0, 0.0, 0.0]
    for _ in range(50):
        g = [0.0, 0.0, 0.0]
        h = [[0.0] * 3 for _ in range(3)]
        for s, m, y in rows:
            x = (s, m, 1.0)
            z = sum(wi * xi for wi, xi in zip(w, x))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            for i in range(3):
                g[i] += (p - y) * x[i]
                for j in range(3):
                    h[i][j] += p * (1 - p) * x[i] * x[j] + (1e-6 if i == j else 0.0)
        step = solve(h, g)
        w = [wi - si for wi, si in zip(w, step)]
    print(f"pairs: {len(rows)}, positives: {int(sum(r[2] for r in rows))}")
    print(f"const CAL_A: f64 = {w[0]:.4};\nconst CAL_B: f64 = {w[1]:.4};\nconst CAL_C: f64 = {w[2]:.4};")


def solve(a, b):
    """Gaussian elimination for the 3x3 Newton step."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[piv] = m[piv], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


if __name__ == "__main__":
    main()
