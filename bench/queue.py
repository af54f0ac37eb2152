"""The staff queue with 10,000 submitted requests: its statements per page, and its time.

    .venv/bin/python bench/queue.py [--database-url URL] [--requests 10000] [--samples 200]
                                    [--gunicorn]

Without a URL, a throwaway SQLite file; a sqlite:/// URL names a new file; a postgresql:// URL
gets a throwaway schema (bench/scratch.py). Either is removed at the end.

    (a) The SQL statements of each view of the queue (the open queue, a status with a sort by
        name, an account, a search by number, a search by name, a FOC range, page 3) through the
        Flask test client signed in as staff, with 100 requests and again with --requests (each
        of 1-5 numbers, every status in turn, a fax ticket for every 50th besides). Target: the
        same count for both.
    (b) p50 and p95 of --samples filtered queue pages (the views of (a) but the open queue, in
        turn) against as many plain sign-in pages (GET /login, signed out), alternating in one
        run, and their ratio. Served by the Flask test client, or with --gunicorn by gunicorn
        (2 workers x 4 threads on 127.0.0.1, bench/serving.py) over keep-alive connections.

A page that does not answer 200 with its table (or its "Nothing in the queue matches") is an
error; it exits non-zero on errors only.
"""

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import database  # noqa: E402
from bench.serving import ROOT, Client, gunicorn  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import (  # noqa: E402
    STATUSES,
    Account,
    FaxTicket,
    PortNumber,
    PortRequest,
    User,
    utcnow,
)

STAFF_EMAIL, PASSWORD = "staff@bench.test", "bench password, long enough"
ACCOUNTS = 200
FEW = 100
FAX_EVERY = 50  # a fax ticket for every 50th request
SEED = 11
NOW = utcnow()
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ANSWERED = re.compile(r"<tbody>|Nothing in the queue matches")
# The numbers of request n: +1 614 then 7 digits from n (10,000 x 5 stay distinct).
FIRST_LINE = 2_000_000


def number_of(n, k):
    return f"+1614{FIRST_LINE + n * 5 + k:07d}"


# The views measured: (what it is, its query string). The open queue is counted, not timed.
VIEWS = [
    ("status in review, by name", {"status": "in_review", "sort": "name"}),
    ("one account, every status", {"account": 1_007, "status": STATUSES[1:]}),
    ("search by number", {"q": "(614) 200-0017"}),  # request 3's fourth number
    ("search by name", {"q": "harbor 12"}),
    ("FOC range, by FOC date", {"foc_from": "2027-02-01", "foc_to": "2027-02-28", "sort": "foc"}),
    ("page 3, by numbers", {"sort": "numbers", "dir": "desc", "page": 3}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="sqlite:///FILE or postgresql://...")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--gunicorn", action="store_true", help="serve with gunicorn")
    args = parser.parse_args()
    errors = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        database(args.database_url, scratch, "queue") as url,
    ):
        kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": f"{scratch}/instance"})
        with app.app_context():
            seed_staff()
            seed_requests(0, FEW)
        few = statements_per_view(app, errors)
        with app.app_context():
            seed_requests(FEW, args.requests)
        many = statements_per_view(app, errors)
        if args.gunicorn:
            log = f"{scratch}/gunicorn.log"
            with gunicorn(url, f"{scratch}/instance", log) as address:
                timings = time_pages(ServedClient(address), args.samples, errors)
        else:
            timings = time_pages(TestClient(app), args.samples, errors)
    report(kind, args, few, many, timings, errors)
    if errors:
        raise SystemExit(1)


def seed_staff():
    user = User(email=STAFF_EMAIL, name="Sam Staff", role="staff")
    user.set_password(PASSWORD)
    user.save()
    Account.insert_many(
        [{"id": 1_000 + n, "name": f"Bench Account {n:03d}"} for n in range(ACCOUNTS)]
    ).execute()


def seed_requests(start, stop):
    """Add requests start..stop-1 (every status but draft, 1-5 numbers) and their fax tickets."""
    rng = random.Random(SEED + start)
    shown = STATUSES[1:]
    with db.atomic():
        for first in range(start, stop, 500):
            batch = range(first, min(first + 500, stop))
            requests, numbers, tickets = [], [], []
            for n in batch:
                status = shown[n % len(shown)]
                details = {
                    "friendly_name": f"Harbor {n} main lines",
                    "billing": {"carrier": "Lumen", "account_number": f"8123{n:07d}"},
                    "service_address": {"street": "N High St", "city": "Columbus", "zip": "43201"},
                    "requested_date": f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}",
                }
                requests.append(
                    {
                        "id": n + 1,
                        "account": 1_000 + n % ACCOUNTS,
                        "status": status,
                        "details": json.dumps(details),
                        "status_changed_at": NOW - timedelta(minutes=rng.randrange(60 * 24 * 60)),
                        "submitted_at": NOW - timedelta(days=rng.randrange(60, 90)),
                        "foc_date": date(2027, 1 + n % 6, 1 + n % 28)
                        if status in ("foc_scheduled", "completed")
                        else None,
                        "foc_window": "9:00-12:00 ET" if status == "foc_scheduled" else None,
                    }
                )
                numbers += [
                    {"port_request": n + 1, "position": k, "e164": number_of(n, k)}
                    for k in range(1 + n % 5)
                ]
                if n % FAX_EVERY == 0:
                    tickets.append(
                        {
                            "account": 1_000 + n % ACCOUNTS,
                            "title": f"Fax Porting Documentation - {1_000 + n % ACCOUNTS}",
                            "numbers": json.dumps([f"+1312{FIRST_LINE + n:07d}"]),
                            "updated_at": NOW - timedelta(minutes=rng.randrange(60 * 24 * 60)),
                        }
                    )
            PortRequest.insert_many(requests).execute()
            PortNumber.insert_many(numbers).execute()
            if tickets:
                FaxTicket.insert_many(tickets).execute()


def statements_per_view(app, errors):
    """Return {view: SQL statements of its page}, through the test client signed in as staff."""
    client = TestClient(app)
    seen = []
    execute_sql = db.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    counts = {}
    db.obj.execute_sql = counting
    try:
        for label, query in [("open queue", {}), *VIEWS]:
            seen.clear()
            page(client, query, errors)
            counts[label] = len(seen)
    finally:
        del db.obj.execute_sql
    client.close()
    return counts


def page(client, query, errors):
    path = "/queue/?" + urlencode(query, doseq=True) if query else "/queue/"
    status, text = client.get(path)
    if status != 200 or not ANSWERED.search(text):
        errors.append(f"{path} answered {status} without its table")
    return status


def time_pages(client, samples, errors):
    """Return {"queue": [s, ...], "login": [s, ...]}: filtered pages and sign-in, alternating."""
    anonymous = client.anonymous()
    for _ in range(5):  # warm-up: templates compiled, connections opened
        page(client, VIEWS[0][1], errors)
        anonymous.get("/login")
    timings = {"queue": [], "login": [], **{label: [] for label, _ in VIEWS}}
    for n in range(samples):
        label, query = VIEWS[n % len(VIEWS)]
        began = time.perf_counter()
        page(client, query, errors)
        timings["queue"].append(time.perf_counter() - began)
        timings[label].append(timings["queue"][-1])
        began = time.perf_counter()
        status, _ = anonymous.get("/login")
        timings["login"].append(time.perf_counter() - began)
        if status != 200:
            errors.append(f"GET /login answered {status}")
    client.close()
    anonymous.close()
    return timings


class TestClient:
    """The Flask test client signed in as staff (through the sign-in form, its CSRF token)."""

    def __init__(self, app, signed_in=True):
        self.app = app
        self.client = app.test_client()
        if signed_in:
            _, login = self.get("/login")
            form = {"email": STAFF_EMAIL, "password": PASSWORD, "csrf_token": csrf(login)}
            if self.client.post("/login", data=form).status_code != 302:
                raise SystemExit("signing in as staff failed")

    def get(self, path):
        response = self.client.get(path)
        return response.status_code, response.get_data(as_text=True)

    def anonymous(self):
        return TestClient(self.app, signed_in=False)

    def close(self):
        pass


class ServedClient:
    """One keep-alive connection to gunicorn, signed in as staff."""

    def __init__(self, address, signed_in=True):
        self.address = address
        self.client = Client(address)
        if signed_in:
            _, _, login = self.client.request("GET", "/login")
            form = urlencode(
                {"email": STAFF_EMAIL, "password": PASSWORD, "csrf_token": csrf(login)}
            )
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if self.client.request("POST", "/login", form, headers)[0] != 302:
                raise SystemExit("signing in as staff failed")

    def get(self, path):
        status, _, text = self.client.request("GET", path)
        return status, text

    def anonymous(self):
        return ServedClient(self.address, signed_in=False)

    def close(self):
        self.client.connection.close()


def csrf(page):
    found = CSRF_INPUT.search(page)
    if found is None:
        raise SystemExit("no csrf_token in the sign-in page: has the form changed?")
    return found.group(1)


def percentile(values, p):
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(kind, args, few, many, timings, errors):
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    server = "gunicorn 2 workers x 4 threads" if args.gunicorn else "the Flask test client"
    print(f"PortDesk staff queue on {kind}, {server}, at {commit or 'an unknown commit'}")
    print(f"(a) SQL statements per page{'':<12}{FEW:>8,} req{args.requests:>10,} req")
    for label in few:
        mark = "" if many[label] == few[label] else "  DIFFERS"
        print(f"    {label:<35}{few[label]:>12}{many[label]:>14}{mark}")
    same = few == many
    print(f"    the same at {args.requests:,} as at {FEW}: {'met' if same else 'MISSED'}")
    print(f"(b) {args.samples} of each, alternating{'':<14}{'p50 ms':>8}{'p95 ms':>9}")
    p95 = {}
    for name, label in (("queue", "filtered queue page"), ("login", "GET /login")):
        values = timings[name]
        p95[name] = percentile(values, 95)
        median = statistics.median(values) * 1000
        print(f"    {label:<35}{median:>8.1f}{p95[name] * 1000:>9.1f}")
    print(f"    p95(queue) / p95(login) = {p95['queue'] / p95['login']:.1f}")
    print("    of which, by view (p50 ms):")
    for label, _ in VIEWS:
        print(f"      {label:<33}{statistics.median(timings[label]) * 1000:>8.1f}")
    print(f"errors: {len(errors)}")
    for problem in sorted(set(errors))[:10]:
        print(f"  {problem} (x{errors.count(problem)})")


if __name__ == "__main__":
    main()
