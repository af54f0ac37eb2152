"""Serve PortDesk under a mix of clients at once, as a busy morning does, and race fifty submits.

    .venv/bin/python bench/load.py [--database-url URL] [--seconds 20] [--clients 8]

Without a URL it runs twice: on a throwaway SQLite file, then, when PostgreSQL answers at
postgresql://127.0.0.1:5432/test, in a throwaway schema of it (selected with
`options=-c search_path=...`); either is removed at the end. A sqlite:/// URL names a new file, a
postgresql:// URL another server; then it runs on that database alone.

It seeds a world through the portal's own functions: 4 accounts with 2 owners each, imported as
an inventory (10,000 tracking numbers, routing targets, receiving numbers), and in every account
3 submitted port requests (bill, agreements, signed LOA, submitted: their numbers are claimed;
built by tests/test_submit.py's make_submittable) and 2 drafts whose LOA was sent to its
representative to sign (a live signing link each). It serves the app with gunicorn (2 workers x
4 threads on 127.0.0.1, configured through the environment as in production) and, for
--seconds, fires --clients clients back to back, each a thread with its own keep-alive
connection and cookies, the roles in turn:

    owners typing: the live check, POST /check/ as htmx sends it while the owner types
        (HX-Request, HX-Trigger: numbers, the X-CSRFToken header, only the `numbers` field) with
        25 numbers in mixed formats (tracking numbers, numbers other requests hold, free ones)
    owners viewing: GET /port-requests/ and GET /port-requests/<id> of their account, in turn
    signers: GET /sign/<token> of a live signing link (no account: a signer only has the link)
    the baseline: GET of the static htmx.min.js every page loads

after one untimed round of each kind per client (a worker's first answers load what it keeps
for later: templates, the ZIP code list, per-prefix verdicts).

Every answer is checked for what its reader needs (the check's "25 numbers checked", the
request's link or number, the signer's name, the file's size). It prints, per
kind, the answers, p50, p95 and p99, the ratio of its p95 to the static file's p95, the
throughput, and the errors (any status but 2xx or 3xx, an exception, an answer without its
content). Targets: no errors; p95(live check) at most 3x p95(static file).

Last, the claim race: 50 drafts over 10 accounts (5 owners each, one draft each) all hold
(614) 322-1001 and two numbers of their own; 50 signed-in clients, released by a barrier, each
POST their submit at once. It prints winners=1 (one 302 to its request) and the losers' answer
codes (409, each page naming the number taken), and checks what is stored: one request
submitted holding claims on its 3 numbers, 49 drafts holding none.

A missed target is printed as MISSED; it exits non-zero on errors only (a race with other than
one winner is an error). It stops by itself: --seconds per database, plus seeding, serving and
the race.
"""

import argparse
import html
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

# The project on the path, and not bench/ itself: bench/queue.py would hide the standard
# library's queue from what tests.test_submit imports.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from bench.scratch import database  # noqa: E402
from bench.serving import ROOT, SECRET_KEY, Client, gunicorn  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db, open_database  # noqa: E402
from portal.inventory import import_inventory  # noqa: E402
from portal.models import (  # noqa: E402
    Account,
    NumberClaim,
    PortRequest,
    RequestEvent,
    User,
    utcnow,
)
from portal.port_requests import operations, signatures  # noqa: E402
from signing import tokens  # noqa: E402
from tests.test_submit import make_submittable, many  # noqa: E402
from tests.test_wizard_details import STORED  # noqa: E402

POSTGRES_URL = "postgresql://127.0.0.1:5432/test"
CLIENTS, SECONDS = 8, 20.0
NUMBERS_PER_CHECK = 25
RATIO_TARGET = 3.0
PASSWORD = "bench password, long enough"
ACCOUNTS, OWNERS_PER_ACCOUNT, TRACKING_NUMBERS = 4, 2, 10_000
SUBMITTED_PER_ACCOUNT, AWAITING_PER_ACCOUNT, NUMBERS_PER_REQUEST = 3, 2, 5
FIRST_ACCOUNT = 4242
# The inventory's US prefixes (area code and exchange); requests use (614) 324- and on.
PREFIXES = ("212736", "312263", "415362", "617973", "713652", "206386", "303893", "404330")
FORMATS = ("({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "1{a}{e}{l}")
REQUESTS_START = 20_000  # many(n, start) from here: (614) 324-0000 and on
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

KINDS = ("check", "list", "request", "sign", "static")
LABELS = {
    "check": f"live check, {NUMBERS_PER_CHECK} numbers (htmx)",
    "list": "GET /port-requests/",
    "request": "GET /port-requests/<id>",
    "sign": "GET /sign/<token>",
    "static": "GET static htmx.min.js",
}
ROLES = ("typing", "viewing", "signing", "static")

# The claim race.
RACERS, RACE_ACCOUNTS = 50, 10
RACE_FIRST_ACCOUNT = 8000
SHARED = "(614) 322-1001"
TAKEN_MESSAGE = (
    f"Nothing was submitted: {SHARED} is already in another port request that is submitted, "
    "in progress or completed. Remove it on the Numbers step, then submit again."
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="sqlite:///FILE or postgresql://...")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="how long the clients fire")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"at least {len(ROLES)}")
    args = parser.parse_args()
    if args.clients < len(ROLES):
        parser.error(f"--clients must be at least {len(ROLES)}: one for each role")
    urls = [args.database_url] if args.database_url is not None else ["", POSTGRES_URL]
    failed = False
    for url in urls:
        if url == POSTGRES_URL and args.database_url is None and not reachable(url):
            print(f"\nPostgreSQL at {url} does not answer: its run is skipped")
            continue
        failed |= run(url, args.seconds, args.clients)
    if failed:
        raise SystemExit(1)


def reachable(url):
    """Say whether a database answers at the URL."""
    try:
        opened = open_database(url)
        opened.connect()
        opened.close()
    except Exception:  # noqa: BLE001 - any failure to connect means "not there"
        return False
    return True


def run(url, seconds, clients):
    """Seed, serve, fire and race on one database; print the figures; return True on errors."""
    with (
        tempfile.TemporaryDirectory(prefix="portdesk-load-") as scratch,
        database(url, scratch, "load") as scratch_url,
    ):
        kind = "PostgreSQL" if scratch_url.startswith("postgres") else "SQLite"
        app = bench_app(scratch_url, Path(scratch) / "instance")
        began = time.perf_counter()
        world = seed_world(app)
        racers = seed_race(app)
        seeded = time.perf_counter() - began
        db.close()
        with gunicorn(scratch_url, Path(scratch) / "instance", Path(scratch) / "gunicorn.log") as (
            address
        ):
            result = drive(address, world, seconds=seconds, clients=clients)
            answers = race(address, racers)
        outcome = race_outcome(app, racers, answers)
        db.close()
    report(kind, seconds, clients, seeded, result)
    report_race(outcome)
    return bool(result.errors or outcome.errors)


def bench_app(url, instance_path):
    """The app the bench seeds through: the same database, key and instance as the server."""
    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance_path),
            "SECRET_KEY": SECRET_KEY,
            "OUTBOX_SEND_AFTER_COMMIT": False,  # the seed's emails stay in the outbox
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # dozens of sign-ins, not measured
        }
    )


# The world ------------------------------------------------------------------------------------


@dataclass
class Owner:
    email: str
    account_id: int
    requests: dict  # request id -> a number its page shows, as shown: "(614) 324-0000"


@dataclass
class World:
    owners: list
    links: list  # (token, signer's name) of live signing links
    check_texts: list  # what owners type, NUMBERS_PER_CHECK numbers each
    static_path: str
    static_size: int


def seed_world(
    app,
    *,
    accounts=ACCOUNTS,
    owners_per_account=OWNERS_PER_ACCOUNT,
    tracking_numbers=TRACKING_NUMBERS,
    submitted=SUBMITTED_PER_ACCOUNT,
    awaiting=AWAITING_PER_ACCOUNT,
):
    """Store the accounts, their inventory and port requests; return the World to fire at."""
    method = app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    account_ids = [FIRST_ACCOUNT + n for n in range(accounts)]
    tracked = [
        f"+1{prefix}{line:04d}"
        for prefix in PREFIXES
        for line in range(tracking_numbers // len(PREFIXES))
    ]
    with app.app_context():
        import_inventory(inventory(account_ids, owners_per_account, tracked))
        for user in User.select().where(User.account.in_(account_ids)):
            user.set_password(PASSWORD, method=method)
            user.save()
    owners, links, held = [], [], []
    start = REQUESTS_START
    for account_id in account_ids:
        with app.app_context():
            people = list(User.select().where(User.account == account_id).order_by(User.id))
        shown = {}
        for n in range(submitted + awaiting):
            numbers = many(NUMBERS_PER_REQUEST, start=start)
            start += NUMBERS_PER_REQUEST
            person = people[n % len(people)]
            fields = dict(STORED, friendly_name=f"Office lines {account_id}-{n + 1}")
            request_id = make_submittable(
                app, account_id, numbers=numbers, fields=fields, created_by=person,
                loa=n < submitted,
            )  # fmt: skip
            shown[request_id] = numbers[0]
            with app.app_context():
                if n < submitted:
                    operations.submit(
                        Account.get_by_id(account_id), request_id, user=person,
                        ip="203.0.113.9", today=utcnow().date(), lead_business_days=7,
                    )  # fmt: skip
                    held += numbers
                else:
                    envelope = signatures.send_for_signature(
                        PortRequest.get_by_id(request_id), person,
                        name=STORED["authorized"]["name"], email=STORED["authorized"]["email"],
                        message="Please sign so we can move our lines.",
                        ip="203.0.113.9", user_agent="bench",
                    )  # fmt: skip
                    token = tokens.make_signing_link(SECRET_KEY, envelope.id, envelope.generation)
                    links.append((token, envelope.signer_name))
        owners += [Owner(person.email, account_id, shown) for person in people]
    static = next(ROOT.glob("static/vendor/htmx-*/htmx.min.js"))
    return World(
        owners=owners,
        links=links,
        check_texts=typed_lists(tracked, held, 200),
        static_path="/" + static.relative_to(ROOT).as_posix(),
        static_size=static.stat().st_size,
    )


def inventory(account_ids, owners_per_account, tracked):
    """The platform's objects as `inventory import` takes them: the tracking numbers shared out."""
    share = len(tracked) // len(account_ids)
    return {
        "accounts": [
            {
                "id": account_id,
                "name": f"Bench Dental {n + 1}",
                "fail_safe_number": f"+1 312 555 {n:04d}",
                "tracking_sources": [{"id": 700_000 + account_id, "name": "Google Ads"}],
                "routing_targets": [
                    {
                        "id": 800_000 + account_id,
                        "name": "Front desk",
                        "kind": "receiving_number",
                        "number": f"(773) 292-{4400 + n:04d}",
                    },
                    {"id": 810_000 + account_id, "name": "New patients", "kind": "call_queue"},
                ],  # fmt: skip
                "receiving_numbers": [{"number": f"(773) 292-{4400 + n:04d}", "name": "Desk"}],
                "tracking_numbers": [
                    {
                        "number": number,
                        "tracking_source_id": 700_000 + account_id,
                        "routing_id": 810_000 + account_id,
                    }
                    for number in tracked[n * share : (n + 1) * share]
                ],  # fmt: skip
                "users": [
                    {
                        "email": f"owner{k}@dental{n + 1}.bench.test",
                        "name": f"Owner {k} of {n + 1}",
                        "phone": f"(773) 293-{n * 10 + k:04d}",
                    }
                    for k in range(owners_per_account)
                ],  # fmt: skip
            }
            for n, account_id in enumerate(account_ids)
        ]
    }


def typed_lists(tracked, held, count, seed=7):
    """Return `count` texts of NUMBERS_PER_CHECK numbers, one a line, in mixed formats: 10 of
    the inventory's tracking numbers, 5 that submitted requests hold and 10 free ones (lines
    5000 and up of the inventory's prefixes, which it never reaches), none twice."""
    rng = random.Random(seed)
    held_digits = [re.sub(r"\D", "", number)[-10:] for number in held]
    texts = []
    for _ in range(count):
        chosen = [number.removeprefix("+1") for number in rng.sample(tracked, 10)]
        chosen += rng.sample(held_digits, 5)
        free = rng.sample(range(len(PREFIXES) * 5000), 10)
        chosen += [f"{PREFIXES[n // 5000]}{5000 + n % 5000:04d}" for n in free]
        rng.shuffle(chosen)
        texts.append(
            "\n".join(
                rng.choice(FORMATS).format(a=digits[:3], e=digits[3:6], l=digits[6:])
                for digits in chosen
            )
        )
    return texts


# Firing ---------------------------------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    timings: dict = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)  # kind -> (what was sent, the page answered)


def csrf_token(page):
    """Return the CSRF token a page's form carries."""
    found = CSRF_INPUT.search(page)
    if found is None:
        raise SystemExit("no csrf_token in the page: has the form changed?")
    return found.group(1)


def sign_in(address, email, page="/check/"):
    """Return a client signed in as `email`, and the CSRF token of `page`."""
    client = Client(address)
    _, _, form_page = client.request("GET", "/login")
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(form_page)}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = client.request("POST", "/login", urlencode(form), headers)
    if status != 302:
        raise SystemExit(f"signing in as {email} answered {status}, not a redirect")
    status, _, shown = client.request("GET", page)
    if status != 200:
        raise SystemExit(f"GET {page} answered {status} after signing in as {email}")
    return client, csrf_token(shown)


def plan(number, address, world):
    """Return (client, requests) for client `number`: its role's requests, to send in turn, each
    (kind, method, path, body, headers, text its answer must hold)."""
    role = ROLES[number % len(ROLES)]
    owner = world.owners[number % len(world.owners)]
    if role == "typing":
        client, token = sign_in(address, owner.email)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            "HX-Trigger": "numbers",
            "HX-Target": "check-results",
            "HX-Current-URL": f"http://{address[0]}:{address[1]}/check/",
            "X-CSRFToken": token,
        }
        checked = f"{NUMBERS_PER_CHECK} numbers checked"
        texts = world.check_texts[number:] + world.check_texts[:number]
        return client, [
            ("check", "POST", "/check/", urlencode({"numbers": text}), headers, checked)
            for text in texts
        ]
    if role == "viewing":
        client, _ = sign_in(address, owner.email, page="/port-requests/")
        requests = []
        for request_id, shown in owner.requests.items():
            page = f"/port-requests/{request_id}"
            requests.append(("list", "GET", "/port-requests/", None, {}, page))
            requests.append(("request", "GET", page, None, {}, shown))
        return client, requests
    client = Client(address)
    if role == "signing":
        links = world.links[number:] + world.links[:number]
        return client, [("sign", "GET", f"/sign/{token}", None, {}, name) for token, name in links]
    return client, [("static", "GET", world.static_path, None, {}, None)]


def drive(address, world, *, seconds=SECONDS, clients=CLIENTS):
    """Fire `clients` clients at the server for `seconds`; return the Result."""
    result = Result(seconds)
    lock = threading.Lock()
    plans = [plan(number, address, world) for number in range(clients)]
    start = threading.Barrier(clients)

    def fire(client, requests):
        kinds = len({request[0] for request in requests})
        # A worker's first answers load what it keeps (templates, the ZIP list, per-prefix
        # verdicts): one untimed round of each kind first, so the run measures a warm server.
        for kind, method, path, body, headers, expected in requests[:kinds]:
            problem = send(client, kind, method, path, body, headers, expected)[0]
            if problem:
                with lock:
                    result.errors.append(f"warming up: {problem}")
        # The server closes a keep-alive connection left idle for 2 s: start on a fresh one.
        client.reconnect()
        start.wait()
        deadline = time.monotonic() + seconds
        sent = 0
        # However short the run, one of each kind this client sends.
        while time.monotonic() < deadline or sent < kinds:
            kind, method, path, body, headers, expected = requests[sent % len(requests)]
            sent += 1
            began = time.perf_counter()
            problem, page = send(client, kind, method, path, body, headers, expected)
            elapsed = time.perf_counter() - began
            with lock:
                if problem:
                    result.errors.append(problem)
                else:
                    result.timings[kind].append(elapsed)
                    result.samples[kind] = (body or path, page)
        client.close()

    def send(client, kind, method, path, body, headers, expected):
        """Send one request; return (what is wrong with the answer or None, the page)."""
        try:
            status, _, page = client.request(method, path, body, headers)
        except (OSError, ValueError) as error:  # http.client's errors derive from these
            client.reconnect()
            return f"{kind}: {error!r}", None
        return answer_problem(kind, status, page, expected, world), page

    threads = [threading.Thread(target=fire, args=each) for each in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def answer_problem(kind, status, page, expected, world):
    """Return what is wrong with an answer, or None."""
    if not 200 <= status < 400:
        return f"{kind} answered {status}"
    if kind == "static":
        return None if len(page.encode()) == world.static_size else "static: a short file"
    if expected not in html.unescape(page):
        return f"{kind}: an answer without {expected!r}"
    return None


def percentile(values, p):
    """Return the p-th percentile (1-99) of the values."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(kind, seconds, clients, seeded, result):
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"\nPortDesk under load on {kind}, gunicorn 2 workers x 4 threads, {clients} clients "
        f"for {seconds:g} s, at {commit or 'an unknown commit'} (seeded in {seeded:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"{'request':<36}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'p95/static':>12}{'req/s':>8}"
    )
    static = result.timings["static"]
    static_p95 = percentile(static, 95) if len(static) >= 2 else None
    ratios = {}
    for name in KINDS:
        values = result.timings[name]
        if len(values) < 2:
            print(f"{LABELS[name]:<36}{len(values):>7}   too few answers to measure")
            continue
        p50, p95, p99 = (percentile(values, p) for p in (50, 95, 99))
        ratios[name] = p95 / static_p95 if static_p95 else float("nan")
        print(
            f"{LABELS[name]:<36}{len(values):>7,}{p50 * 1000:>9.1f}{p95 * 1000:>9.1f}"
            f"{p99 * 1000:>9.1f}{ratios[name]:>11.2f}x{len(values) / seconds:>8.1f}"
        )
    total = sum(len(values) for values in result.timings.values())
    print(f"{'all':<36}{total:>7,}{'':>39}{total / seconds:>8.1f}")
    if "check" in ratios:
        mark = "met" if ratios["check"] <= RATIO_TARGET else "MISSED"
        print(f"p95(live check) / p95(static) = {ratios['check']:.2f}  <= {RATIO_TARGET}: {mark}")
    else:
        print("p95(live check) / p95(static): too few answers: MISSED")
    print(f"errors: {len(result.errors)}" + ("" if not result.errors else "  MISSED (target 0)"))
    for problem, count in Counter(result.errors).most_common(10):
        print(f"  {problem} (x{count})")


# The claim race -------------------------------------------------------------------------------


@dataclass
class Racer:
    email: str
    request_id: int
    numbers: list  # as typed: SHARED first, then its own


def seed_race(app, *, racers=RACERS, accounts=RACE_ACCOUNTS):
    """Store `racers` submittable drafts over `accounts` accounts, one owner each, every draft
    holding SHARED and two numbers of its own; return the Racers."""
    method = app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    people = []
    with app.app_context():
        for n in range(racers):
            account_id = RACE_FIRST_ACCOUNT + n % accounts
            account = Account.get_or_none(Account.id == account_id) or Account.create(
                id=account_id, name=f"Race Clinic {n % accounts + 1}"
            )
            person = User(
                email=f"racer{n}@clinic{n % accounts + 1}.bench.test",
                name=f"Racer {n}",
                role="owner",
                account=account,
            )
            person.set_password(PASSWORD, method=method)
            person.save()
            people.append((account_id, person))
    found = []
    for n, (account_id, person) in enumerate(people):
        numbers = [SHARED, *many(2, start=5000 + 2 * n)]
        fields = dict(STORED, friendly_name=f"Race lines {n}")
        request_id = make_submittable(
            app, account_id, numbers=numbers, fields=fields, created_by=person
        )
        found.append(Racer(person.email, request_id, numbers))
    return found


def race(address, racers):
    """Sign every racer in on a client of its own, then POST every submit at once; return each
    answer as (status, Location, page text with tags and spaces folded), in the racers' order."""
    signed_in = [
        sign_in(address, racer.email, page=f"/port-requests/{racer.request_id}/submit")
        for racer in racers
    ]
    start = threading.Barrier(len(racers))
    answers = [None] * len(racers)

    def submit(index):
        client, token = signed_in[index]
        client.reconnect()  # the sign-in's connection may have idled past the keep-alive
        body = urlencode({"csrf_token": token})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        start.wait()
        try:
            status, headers, page = client.request(
                "POST", f"/port-requests/{racers[index].request_id}/submit", body, headers
            )
            answers[index] = (status, headers.get("Location", ""), visible_text(page))
        except (OSError, ValueError) as error:
            answers[index] = (None, "", repr(error))
        client.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def visible_text(page):
    """Return the words a reader sees on a page: no tags, entities decoded, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@dataclass
class RaceOutcome:
    winners: list
    codes: Counter  # the losers' answer codes
    errors: list


def race_outcome(app, racers, answers):
    """Read what the race stored and answered; name every way it is not one winner."""
    won = [
        i
        for i, (status, location, _) in enumerate(answers)
        if status == 302 and location.endswith(f"/port-requests/{racers[i].request_id}")
    ]
    codes = Counter(answer[0] for i, answer in enumerate(answers) if i not in won)
    errors = []
    if len(won) != 1:
        errors.append(f"{len(won)} winners, not 1")
    for i, (status, _, text) in enumerate(answers):
        if i not in won and (status != 409 or TAKEN_MESSAGE not in text):
            errors.append(f"a loser answered {status}: {text[:200]}")
    ids = [racer.request_id for racer in racers]
    with app.app_context():
        statuses = dict(
            PortRequest.select(PortRequest.id, PortRequest.status)
            .where(PortRequest.id.in_(ids))
            .tuples()
        )
        claims = Counter(
            claim.port_request_id
            for claim in NumberClaim.select().where(NumberClaim.port_request.in_(ids))
        )
        submits = Counter(
            event.port_request_id
            for event in RequestEvent.select().where(
                RequestEvent.port_request.in_(ids) & (RequestEvent.kind == "submitted")
            )
        )
    for i, racer in enumerate(racers):
        winner = i in won
        expected = ("submitted", len(racer.numbers), 1) if winner else ("draft", 0, 0)
        stored = (
            statuses.get(racer.request_id),
            claims.get(racer.request_id, 0),
            submits.get(racer.request_id, 0),
        )
        if stored != expected:
            errors.append(f"request {racer.request_id} stored {stored}, not {expected}")
    return RaceOutcome(won, codes, errors)


def report_race(outcome):
    codes = ", ".join(f"{code} x{count}" for code, count in sorted(outcome.codes.items(), key=str))
    print(
        f"claim race, {RACERS} submits of {SHARED} at once: winners={len(outcome.winners)}, "
        f"losers answered {codes or 'nothing'}"
    )
    print(f"race errors: {len(outcome.errors)}" + ("  MISSED (target 0)" if outcome.errors else ""))
    for problem in outcome.errors[:10]:
        print(f"  {problem}")


if __name__ == "__main__":
    main()
