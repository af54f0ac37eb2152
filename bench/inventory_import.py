"""Time the inventory import against its floor: normalizing the same numbers with to_e164.

    .venv/bin/python bench/inventory_import.py [DATABASE_URL] [COUNT]

Defaults: a throwaway SQLite file and 100,000 tracking numbers. Prints ratios to the floor,
because these machines are shared and seconds alone say little. For PostgreSQL, give a URL to
an empty schema, e.g. postgresql://127.0.0.1:5432/test?options=-c%20search_path%3Dbench
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.db import db, open_database  # noqa: E402
from portal.inventory import import_inventory  # noqa: E402
from portal.numbers import to_e164  # noqa: E402
from portal.schema import upgrade  # noqa: E402


def document(numbers):
    return {
        "accounts": [
            {
                "id": 1,
                "name": "Bench Account",
                "tracking_sources": [{"id": 1, "name": "Search"}],
                "routing_targets": [{"id": 1, "name": "Queue", "kind": "call_queue"}],
                "tracking_numbers": [
                    {"number": n, "tracking_source_id": 1, "routing_id": 1} for n in numbers
                ],
            }
        ]
    }


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main():
    scratch = tempfile.mkdtemp()
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{scratch}/bench.sqlite3"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    db.initialize(open_database(url))
    upgrade(db)
    numbers = [f"312-{200 + i // 10_000:03d}-{i % 10_000:04d}" for i in range(count)]
    floor, _ = timed(lambda: [to_e164(n) for n in numbers])
    first, _ = timed(lambda: import_inventory(document(numbers)))
    again, summary = timed(lambda: import_inventory(document(numbers)))
    print(f"{count} tracking numbers on {url.split(':')[0]}")
    print(f"floor (to_e164 alone)   {floor:6.2f} s")
    print(f"first import            {first:6.2f} s  = {first / floor:.2f} x floor")
    print(f"same file again         {again:6.2f} s  = {again / floor:.2f} x floor")
    print(f"second import changed anything: {summary.changed}")


if __name__ == "__main__":
    main()
