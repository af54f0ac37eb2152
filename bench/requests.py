"""The rules that stop rejections against the portability check of the same numbers.

A complete port request of 1,000 numbers (routing and source ids set, a mix of local and refused
numbers): `problems()` of `portal/port_requests/rules.py`, given the check's results as the wizard
will give them, against `check_portability` of the same numbers alone. Target: at most 1.5x.

    .venv/bin/python bench/requests.py [--numbers 1000] [--database-url URL]

Prints the best time of each over repeated runs, the ratio, and how many problems were found.
"""

import argparse
import random
import sys
import tempfile
import timeit
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.models import Account, RoutingTarget, TrackingSource  # noqa: E402
from portal.port_requests.rules import problems  # noqa: E402
from portal.portability import check_portability, numbered  # noqa: E402

TODAY = date(2026, 11, 27)


def request_of(numbers, routing_id, source_id):
    """Return a complete request (every field filled as a careful owner would) for the numbers."""
    return {
        "friendly_name": "Harbor Clinic main lines",
        "contact": {"name": "Ann Owner", "email": "ann@harbor.test", "phone": "(614) 322-1000"},
        "billing": {
            "carrier": "Ohio Bell",
            "service_type": "landline",
            "customer_type": "business",
            "customer_name": "Harbor Clinic LLC",
            "account_number": "81234465001",
            "pin": "",
            "btn": "(614) 322-1000",
        },
        "service_address": {
            "street_number": "150",
            "street": "E Gay St",
            "unit": "Ste 200",
            "city": "Columbus",
            "state": "OH",
            "zip": "43215",
        },
        "billing_address": None,
        "authorized": {
            "name": "Ann Owner",
            "title": "Office manager",
            "email": "ann@harbor.test",
            "phone": "614-322-1000",
        },
        "numbers": [
            {"phone_number": n, "routing_id": routing_id, "tracking_source_id": source_id}
            for n in numbers
        ],
        "partial_port": {"other_numbers_remain": False, "remaining_numbers": None, "new_btn": ""},
        "requested_date": "2027-01-12",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="portdesk-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench"})
    rng = random.Random(1)
    numbers = [
        f"(614) {rng.randint(222, 989)}-{rng.randint(0, 9999):04d}" for _ in range(args.numbers)
    ]
    numbers[::50] = ["212 555 0150"] * len(numbers[::50])  # some refused: reserved for fiction
    with app.app_context():
        # An account id of its own, so a shared PostgreSQL database is left as it was found.
        account_id = rng.randrange(10**8, 10**9)
        account = Account.create(id=account_id, name="Bench Clinic")
        routing = RoutingTarget.create(id=account_id, account=account, name="Front desk", kind="x")
        source = TrackingSource.create(id=account_id, account=account, name="Google Ads")
        request = request_of(numbers, routing.id, source.id)
        options = {
            "today": TODAY,
            "routing_ids": frozenset({routing.id}),
            "tracking_source_ids": frozenset({source.id}),
        }
        entries = numbered(numbers)

        def check():
            return check_portability(entries, account)

        checked = check()

        def rules():
            return problems(request, checked=checked, **options)

        found = rules()
        per_run = 5
        check_ms = min(timeit.repeat(check, number=per_run, repeat=args.repeat)) / per_run * 1e3
        rules_ms = min(timeit.repeat(rules, number=per_run, repeat=args.repeat)) / per_run * 1e3
        TrackingSource.delete().where(TrackingSource.account == account_id).execute()
        RoutingTarget.delete().where(RoutingTarget.account == account_id).execute()
        Account.delete().where(Account.id == account_id).execute()
    ratio = rules_ms / check_ms
    print(f"a request of {args.numbers:,} numbers on {url.split(':', 1)[0]}, best of {args.repeat}")
    print(f"  check_portability of its numbers   {check_ms:8.2f} ms")
    print(f"  problems() of the request          {rules_ms:8.2f} ms  ({len(found)} problems)")
    verdict = "met" if ratio <= 1.5 else "MISSED"
    print(f"  problems / check                   {ratio:8.2f}x  (target <= 1.5x: {verdict})")


if __name__ == "__main__":
    main()
