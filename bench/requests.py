"""The rules that stop rejections against the portability check, and the wizard's queries.

A complete port request of 1,000 numbers (routing and source ids set, a mix of local and refused
numbers): `problems()` of `portal/port_requests/rules.py`, given the check's results as the wizard
will give them, against `check_portability` of the same numbers alone. Target: at most 1.5x.

Then the wizard's Numbers and configuration step, through the Flask test client signed in as the
account's owner: the SQL statements of saving the configuration of every row (a POST of each
row's routing, source and name) and of rendering the step (a GET), for a request of 10 numbers
and one of 1,000. Target: the same count for both.

    .venv/bin/python bench/requests.py [--numbers 1000] [--database-url URL]

Prints the best time of each over repeated runs, the ratio, how many problems were found, and
the statement counts.
"""

import argparse
import json
import random
import sys
import tempfile
import time
import timeit
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import Account, PortRequest, RoutingTarget, TrackingSource, User  # noqa: E402
from portal.port_requests.drafts import store_numbers  # noqa: E402
from portal.port_requests.rules import problems  # noqa: E402
from portal.portability import check_portability, numbered  # noqa: E402

TODAY = date(2026, 11, 27)
PASSWORD = "bench password, long enough"
# The wizard's step is measured for a request this small and one of --numbers.
FEW = 10


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
        try:
            wizard = wizard_statements(app, account, request, numbers, routing, source)
        finally:
            PortRequest.delete().where(PortRequest.account == account_id).execute()
            User.delete().where(User.account == account_id).execute()
            TrackingSource.delete().where(TrackingSource.account == account_id).execute()
            RoutingTarget.delete().where(RoutingTarget.account == account_id).execute()
            Account.delete().where(Account.id == account_id).execute()
    ratio = rules_ms / check_ms
    print(f"a request of {args.numbers:,} numbers on {url.split(':', 1)[0]}, best of {args.repeat}")
    print(f"  check_portability of its numbers   {check_ms:8.2f} ms")
    print(f"  problems() of the request          {rules_ms:8.2f} ms  ({len(found)} problems)")
    verdict = "met" if ratio <= 1.5 else "MISSED"
    print(f"  problems / check                   {ratio:8.2f}x  (target <= 1.5x: {verdict})")
    print("the Numbers and configuration step, SQL statements per request (and its time)")
    for what, counts in wizard.items():
        few, many = counts[FEW], counts[args.numbers]
        verdict = "met" if few[0] == many[0] else "MISSED"
        print(
            f"  {what:<34} {FEW:,} rows: {few[0]:3} ({few[1]:7.1f} ms)   {args.numbers:,} rows: "
            f"{many[0]:3} ({many[1]:7.1f} ms)  (target: the same count: {verdict})"
        )


def wizard_statements(app, account, request, numbers, routing, source):
    """Count the statements of saving every row's configuration and of rendering the step, for
    requests of FEW and of all the numbers; return {what: {rows: (statements, ms)}}."""
    owner = User(email=f"bench-{account.id}@bench.test", name="Bench Owner", role="owner")
    owner.account = account
    owner.set_password(PASSWORD, method="pbkdf2:sha256:1000")
    owner.save()
    app.config["WTF_CSRF_ENABLED"] = False  # the client posts the form without a token
    client = app.test_client()
    signed_in = client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert signed_in.status_code == 302, "the bench owner could not sign in"
    counts = {"save the configuration (POST)": {}, "render the step (GET)": {}}
    for size in (FEW, len(numbers)):
        port_request = PortRequest.create(
            account=account, details=json.dumps({**request, "numbers": None})
        )
        store_numbers(port_request, request["numbers"][:size])
        step = f"/port-requests/{port_request.id}/numbers"
        form = {"save": "1"}
        for index, number in enumerate(numbers[:size]):
            form[f"numbers[{index}].phone_number"] = number
            form[f"numbers[{index}].routing_id"] = str(routing.id)
            form[f"numbers[{index}].tracking_source_id"] = str(source.id)
            form[f"numbers[{index}].friendly_name"] = f"Line {index + 1}"
        saved = _counted(lambda: client.post(f"{step}/configuration", data=form))  # noqa: B023
        assert saved[0].status_code == 302, "the configuration was not saved"
        client.get(step)  # templates compiled, connections warm: the count is the same anyway
        shown = _counted(lambda: client.get(step))  # noqa: B023
        assert shown[0].status_code == 200, "the step did not render"
        counts["save the configuration (POST)"][size] = saved[1:]
        counts["render the step (GET)"][size] = shown[1:]
    return counts


def _counted(call):
    """Return (what the call returned, the SQL statements it ran, its time in ms)."""
    seen = []
    database = db.obj
    execute_sql = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    database.execute_sql = counting
    try:
        started = time.perf_counter()
        answer = call()
        elapsed = (time.perf_counter() - started) * 1e3
    finally:
        del database.execute_sql
    return answer, len(seen), elapsed


if __name__ == "__main__":
    main()
