"""Time the live check (10 typed numbers) against the sign-in page, under load, through gunicorn.

    .venv/bin/python bench/live_check.py [--database-url URL] [--seconds 20]

Without a URL, a throwaway SQLite file; with a postgresql:// URL, a throwaway schema of that
database (selected with `options=-c search_path=...`). Either is removed at the end.

It seeds an owner of an account with a small inventory (receiving numbers, users' numbers and
10,000 tracking numbers of another account), serves the app with gunicorn (2 workers x 4 threads
on 127.0.0.1, configured through the environment as in production), and signs in 8 clients,
each with its own session and CSRF token. For --seconds, every client then fires back to back,
alternating:

    the live check: POST /check/ as htmx sends it while the owner types (HX-Request, HX-Trigger,
        the X-CSRFToken header, only the `numbers` field), 10 numbers in mixed formats
    the sign-in page: GET /login, signed out (on a second connection of the same client)

so both are measured under the same load in the same run. It prints p50 and p95 of each, the
ratio p95(check) / p95(sign-in) against its target, and the errors (any status but 200, or a
check answer without its "10 numbers checked"). It stops by itself after --seconds plus the
time to start and stop the server; it exits non-zero on errors only.
"""

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serving import ROOT, Client, gunicorn  # noqa: E402
from portal.db import db, open_database  # noqa: E402
from portal.models import Account, ReceivingNumber, TrackingNumber, User  # noqa: E402
from portal.schema import upgrade  # noqa: E402

CLIENTS = 8
NUMBERS_PER_CHECK = 10
RATIO_TARGET = 1.5
SEED = 7
OWNER_EMAIL, PASSWORD = "owner@bench.test", "bench password, long enough"
ACCOUNT_ID, OTHER_ACCOUNT_ID = 4242, 5151
# US prefixes (area code and exchange) the typed numbers and the inventory come from.
PREFIXES = ("212736", "312263", "415362", "617973", "713652", "206386", "303893", "404330")
FORMATS = ("({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "1{a}{e}{l}")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CHECKED = f"{NUMBERS_PER_CHECK} numbers checked"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="sqlite:///FILE or postgresql://...")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the clients fire")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, database(args.database_url, scratch) as url:
        kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        seed(url)
        with gunicorn(url, f"{scratch}/instance", f"{scratch}/gunicorn.log") as address:
            timings, errors = fire(address, args.seconds)
    report(kind, args.seconds, timings, errors)
    if errors:
        raise SystemExit(1)


@contextmanager
def database(url, scratch):
    """Yield the URL of a new, empty database; drop it afterwards."""
    if not url:
        yield f"sqlite:///{scratch}/live-check.sqlite3"
        return
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"--database-url must be postgresql://... (or nothing for SQLite): {url}")
    schema = f"portdesk_bench_{uuid.uuid4().hex[:8]}_live"
    admin = open_database(url)
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options={quote(f'-c search_path={schema}')}"
    finally:
        admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def seed(url):
    """Migrate the database, then add the owner, their account's inventory and someone else's."""
    db.initialize(open_database(url))
    with db.connection_context():
        upgrade(db)
        with db.atomic():
            account = Account.create(id=ACCOUNT_ID, name="Bench Dental", fail_safe_number=None)
            other = Account.create(id=OTHER_ACCOUNT_ID, name="Inventory Owner")
            owner = User(email=OWNER_EMAIL, name="Olive Owner", role="owner", account=account)
            owner.set_password(PASSWORD)
            owner.save()
            for i, prefix in enumerate(PREFIXES):
                ReceivingNumber.create(account=account, number=f"+1{prefix}9{i:03d}", name="Desk")
                User.create(
                    email=f"user{i}@bench.test", name=f"User {i}", role="owner",
                    account=account, phone=f"+1{prefix}8{i:03d}",
                )  # fmt: skip
            numbers = [f"+1{prefix}{line:04d}" for prefix in PREFIXES for line in range(1250)]
            for start in range(0, len(numbers), 500):
                rows = [{"number": n, "account": other} for n in numbers[start : start + 500]]
                TrackingNumber.insert_many(rows).execute()
    db.close()


def typed_lists(rng, count):
    """Return `count` texts of NUMBERS_PER_CHECK numbers, one a line, as an owner would paste."""
    lists = []
    for _ in range(count):
        lines = []
        for _ in range(NUMBERS_PER_CHECK):
            prefix, line = rng.choice(PREFIXES), f"{rng.randrange(10_000):04d}"
            pattern = rng.choice(FORMATS)
            lines.append(pattern.format(a=prefix[:3], e=prefix[3:], l=line))
        lists.append("\n".join(lines))
    return lists


def csrf_token(page):
    """Return the CSRF token a page's form carries."""
    found = CSRF_INPUT.search(page)
    if found is None:
        raise SystemExit("no csrf_token in the page: has the form changed?")
    return found.group(1)


def sign_in(address):
    """Return a client signed in as the owner, and the CSRF token of its check page."""
    client = Client(address)
    _, _, page = client.request("GET", "/login")
    form = {"email": OWNER_EMAIL, "password": PASSWORD, "csrf_token": csrf_token(page)}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = client.request("POST", "/login", urlencode(form), headers)
    if status != 302:
        raise SystemExit(f"signing in answered {status}, not a redirect")
    status, _, page = client.request("GET", "/check/")
    if status != 200:
        raise SystemExit(f"GET /check/ answered {status} after signing in")
    return client, csrf_token(page)


def fire(address, seconds):
    """Run the clients for `seconds`; return ({kind: [seconds, ...]}, [error, ...])."""
    timings = {"check": [], "login": []}
    errors = []
    lock = threading.Lock()
    signed_in = [sign_in(address) for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def client_loop(number, client, token):
        anonymous = Client(address)
        texts = typed_lists(random.Random(SEED + number), 200)
        check_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            "HX-Trigger": "numbers",
            "HX-Target": "check-results",
            "HX-Current-URL": f"http://{address[0]}:{address[1]}/check/",
            "X-CSRFToken": token,
        }
        start.wait()
        deadline = time.monotonic() + seconds
        sent = 0
        while time.monotonic() < deadline:
            body = urlencode({"numbers": texts[sent % len(texts)]})
            sent += 1
            for kind, who, request in (
                ("check", client, ("POST", "/check/", body, check_headers)),
                ("login", anonymous, ("GET", "/login")),
            ):
                began = time.perf_counter()
                try:
                    status, _, page = who.request(*request)
                    problem = None if status == 200 else f"{kind} answered {status}"
                    if problem is None and kind == "check" and CHECKED not in page:
                        problem = f"a check answer without {CHECKED!r}"
                except (OSError, ValueError) as error:  # http.client's errors derive from these
                    problem = f"{kind}: {error!r}"
                    who.reconnect()
                elapsed = time.perf_counter() - began
                with lock:
                    if problem:
                        errors.append(problem)
                    else:
                        timings[kind].append(elapsed)
        anonymous.close()
        client.close()

    threads = [
        threading.Thread(target=client_loop, args=(i, client, token))
        for i, (client, token) in enumerate(signed_in)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, errors


def percentile(values, p):
    """Return the p-th percentile (1-99) of the values."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(kind, seconds, timings, errors):
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"PortDesk live check under load on {kind}, gunicorn 2 workers x 4 threads, "
        f"{CLIENTS} clients for {seconds:g} s, at {commit or 'an unknown commit'}"
    )
    print(f"{'request':<34}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}")
    labels = {"check": f"live check, {NUMBERS_PER_CHECK} numbers (htmx)", "login": "GET /login"}
    p95 = {}
    for name, label in labels.items():
        values = timings[name]
        if len(values) < 2:
            raise SystemExit(f"too few {name} answers to measure ({len(values)})")
        p95[name] = percentile(values, 95)
        p50 = statistics.median(values)
        print(f"{label:<34}{len(values):>7,}{p50 * 1000:>9.1f}{p95[name] * 1000:>9.1f}")
    ratio = p95["check"] / p95["login"]
    mark = "met" if ratio <= RATIO_TARGET else "MISSED"
    print(f"p95(check) / p95(login) = {ratio:.2f}  <= {RATIO_TARGET}: {mark}")
    print(f"errors: {len(errors)}")
    for problem in sorted(set(errors))[:10]:
        print(f"  {problem} (x{errors.count(problem)})")


if __name__ == "__main__":
    main()
