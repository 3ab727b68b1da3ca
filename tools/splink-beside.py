#!/usr/bin/env python3
"""Runs Splink on a record-level evaluation set, for comparison with Lantern.

Reads SET/registry.csv and SET/queries.csv (the batch format) and writes
query_id,rank,person_id,probability on standard output, like `lantern match
batch`, so the yardstick's match-eval.py scores both alike:

  match-eval.py SET --run 'python tools/splink-beside.py {registry} {queries}'

Splink compares Latin text, so names, places and parents' names are first
transliterated with anyascii (as the yardstick does). The model: names by
Jaro-Winkler on the whole name and on its first and last words, birth year
by distance, sex, birth place and nationality exactly (with term
frequencies), father's name by Jaro-Winkler; u by random sampling, m by
expectation-maximisation on two blockings, pairs to score from four
blocking rules (first word, last word, birth year, father's name). A development tool (pip install splink anyascii); the tests
never run it.
"""
import csv
import sys

import pandas as pd
from anyascii import anyascii
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def frame(path):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            name = anyascii(r["name"] or r["aliases"].split("|")[0]).lower().replace("'", "").strip()
            words = name.replace("-", " ").split() or [""]
            year = (r["birth_date"] or "")[:4]
            rows.append({
                "unique_id": r["id"],
                "name": name or None,
                "first": words[0] or None,
                "last": words[-1] or None,
                "year": int(year) if year.isdigit() else None,
                "sex": r["sex"] or None,
                "place": anyascii(r["birth_place"]).lower() or None,
                "nationality": r["nationality"] or None,
                "father": anyascii(r["father_name"]).lower() or None,
            })
    return pd.DataFrame(rows)


def main():
    registry, queries = frame(sys.argv[1]), frame(sys.argv[2])
    db = DuckDBAPI()
    year = cl.CustomComparison(
        output_column_name="year",
        comparison_levels=[
            cll.NullLevel("year"),
            cll.ExactMatchLevel("year"),
            cll.AbsoluteDifferenceLevel("year", 1),
            cll.AbsoluteDifferenceLevel("year", 3),
            cll.AbsoluteDifferenceLevel("year", 5),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.8]),
            cl.JaroWinklerAtThresholds("first", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("last", [0.92, 0.8]),
            year,
            cl.ExactMatch("sex"),
            cl.ExactMatch("place").configure(term_frequency_adjustments=True),
            cl.ExactMatch("nationality").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("father", [0.92, 0.8]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first"),
            block_on("last"),
            block_on("year"),
            block_on("father"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([db.register(registry), db.register(queries)], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match([block_on("name", "year")], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("year"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first"))
    pairs = linker.inference.predict(threshold_match_probability=0.001).as_pandas_dataframe()
    query_ids = set(queries["unique_id"])
    out = csv.writer(sys.stdout)
    out.writerow(["query_id", "rank", "person_id", "probability"])
    best = {}
    for r in pairs.itertuples():
        # link_only pairs come in either order.
        q, p = (r.unique_id_r, r.unique_id_l) if r.unique_id_r in query_ids else (r.unique_id_l, r.unique_id_r)
        best.setdefault(q, []).append((r.match_probability, p))
    for q, found in best.items():
        found.sort(key=lambda x: -x[0])
        for rank, (prob, p) in enumerate(found[:10], 1):
            out.writerow([q, rank, p, f"{prob:.4f}"])


if __name__ == "__main__":
    main()
