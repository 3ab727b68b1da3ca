#!/usr/bin/env python3
"""Derives crates/matching/data/name-groups.txt from the rigour package.

rigour 1.7.3 (MIT licence, OpenSanctions; https://pypi.org/project/rigour/)
publishes rigour/data/names/persons.txt: person-name equivalences across
scripts, derived from Wikidata (CC0), one group per line as
"form, form, ... => QID". The matcher needs only the groups that join an
Arabic-script spelling to Latin ones; this keeps those, with single-word
forms only, Arabic-script forms first, one group per line, forms separated
by commas.

usage: tools/derive-name-groups.py rigour-1.7.3-py3-none-any.whl OUT
(pip download rigour==1.7.3 --no-deps; a development tool, never run by
the tests or the build.)
"""
import sys
import unicodedata
import zipfile


def script(form):
    """'arabic', 'latin' or None (mixed, other scripts, or not one word)."""
    if not form or " " in form:
        return None
    kinds = set()
    for c in form:
        # Marks and modifier letters (the ʻ of masʻūd) belong to any script.
        if unicodedata.category(c) in ("Lm", "Mn", "Mc"):
            continue
        if not c.isalpha():
            if c in "-'ʼʻ‘’`ʿʾ" or unicodedata.category(c).startswith("M"):
                continue
            return None
        name = unicodedata.name(c, "")
        if name.startswith("ARABIC"):
            kinds.add("arabic")
        elif name.startswith("LATIN"):
            kinds.add("latin")
        else:
            return None
    return kinds.pop() if len(kinds) == 1 else None


def main():
    wheel, out = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(wheel) as z:
        text = z.read("rigour/data/names/persons.txt").decode("utf-8")
    groups = []
    for line in text.splitlines():
        if "=>" not in line:
            continue
        forms = [f.strip() for f in line.rsplit("=>", 1)[0].split(",")]
        arabic = sorted({f for f in forms if script(f) == "arabic"})
        latin = sorted({f for f in forms if script(f) == "latin"})
        if arabic and latin:
            groups.append(",".join(arabic + latin))
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Person-name equivalences across scripts: each line one name, its Arabic-script\n")
        f.write("# and Latin-script single-word forms. Derived by tools/derive-name-groups.py from\n")
        f.write("# rigour 1.7.3 rigour/data/names/persons.txt (MIT licence, OpenSanctions Datenbanken\n")
        f.write("# GmbH; LICENSE.rigour-mit.txt), itself derived from Wikidata (CC0).\n")
        for g in groups:
            f.write(g + "\n")
    print(f"{len(groups)} groups written to {out}")


if __name__ == "__main__":
    main()
