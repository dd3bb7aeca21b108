"""``python -m cnnlib.data``: fetch the course's data sets once, and see what this machine has.

examples:
  python -m cnnlib.data status                       # every data set: present where, checksums
  python -m cnnlib.data fetch mnist                  # download MNIST into the cache
  python -m cnnlib.data fetch all --to /srv/cnn-data # every data set, for a lab: then CNNLIB_DATA=/srv/cnn-data

Environment: CNNLIB_DATA (a folder with mnist/, fashion-mnist/, cifar10/), CNNLIB_CACHE (the
download cache), CNNLIB_OFFLINE=1 (never download), CNNLIB_MIRROR (download from these base URLs
instead of the official mirrors, e.g. a folder made by `fetch --to DIR` and served with
`python -m http.server -d DIR`).
"""

from __future__ import annotations

import argparse
import os
import sys

from cnnlib.data import cache
from cnnlib.data.catalog import DATASETS
from cnnlib.data.errors import DatasetNotFoundError
from cnnlib.data.fallback import FALLBACK_NAMES, FALLBACKS, REAL_NAMES
from cnnlib.data.fetch import fetch, status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cnnlib.data", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    choices = [*DATASETS, "all"]
    get = sub.add_parser("fetch", help="download and verify data sets", description="Download and verify data sets; files already in place are checked, not downloaded again.")
    get.add_argument("datasets", nargs="+", choices=choices, metavar="DATASET", help=f"one or more of: {', '.join(choices)}")
    get.add_argument("--to", metavar="DIR", help="put the files in DIR/<dataset>/ (then set CNNLIB_DATA=DIR) instead of the cache")
    show = sub.add_parser("status", help="list the data sets: present where, checksum OK", description="For every data set: each file, where the loaders find it, and whether its checksum holds.")
    show.add_argument("--root", metavar="DIR", help="look in DIR (as a loader's root=) instead of $CNNLIB_DATA; the cache is looked in too")
    return parser


def _settings() -> str:
    data = os.environ.get("CNNLIB_DATA") or "not set"
    mirror = os.environ.get("CNNLIB_MIRROR") or "the official mirrors"
    return f"CNNLIB_DATA: {data}; cache: {cache.cache_dir()}; offline mode: {'on' if cache.offline() else 'off'}; downloads from: {mirror}"


def cmd_status(args) -> int:
    rows = status(args.root)
    print(_settings())
    width = max(len(row.name) for row in rows) + 2
    for key, entry in DATASETS.items():
        mine = [row for row in rows if row.dataset == key]
        folders = sorted({str(row.path.parent) for row in mine if row.path is not None})
        print(f"\n{key} ({entry.name}): " + (", ".join(folders) if folders else "not on this machine"))
        for row in mine:
            print(f"  {row.state:<9}{row.name:<{width}}{row.detail if row.state != 'missing' else ''}".rstrip())
        if any(row.state != "ok" for row in mine):
            print(f"  to get it: python -m cnnlib.data fetch {key}")
    print("\nWithout a data set, the notebooks use a stand-in and say so: "
          + "; ".join(f"{REAL_NAMES[k]} -> {FALLBACK_NAMES[v]}" for k, v in FALLBACKS.items()) + ".")
    return 1 if any(row.state == "corrupt" for row in rows) else 0


def cmd_fetch(args) -> int:
    try:
        fetch(args.datasets, args.to)
    except DatasetNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return {"fetch": cmd_fetch, "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
