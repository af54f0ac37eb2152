"""Time the portability check and its API against the floor, on an empty and a full inventory.

    .venv/bin/python bench/check.py [--database-url URL]

Without a URL, two throwaway SQLite files. A sqlite:/// URL names the empty database's file (it
must not exist yet) and the full inventory goes next to it as <name>-full<suffix>; both are
removed at the end. A postgresql:// URL gets two throwaway schemas (selected with
`options=-c search_path=...`), dropped at the end.

The full database holds 1,000,000 tracking numbers and 1,000,000 number claims (held by 10,000
submitted requests of another account); the empty one only the account. The rows go in with bulk
INSERTs, so the database's triggers fill taken_number (the one table the check probes) row by
row, as every write of the app does; the build then checks that it holds all 2,000,000. The
inputs are US numbers from a few hundred area-code and exchange prefixes, in mixed formats, about
10% of them in the full inventory, with a few repeats and invalid ones.
For N = 10,000 and 20,000, on each inventory, it times:

    (a) the floor: phonenumbers.parse(text, "US") and is_valid_number over the N texts
    (b) check_portability(numbered(texts), account)
    (c) POST /api/v1/portability-checks in-process: the test client sends the JSON with the
        API key, the app answers, the answer's JSON is parsed
    (d) the same N numbers as N/100 API requests of 100 numbers each, in-process: what many
        small callers cost beside the library

and prints the best of 9 runs in seconds (after 1 warm-up; the stages and inventories alternate,
and the per-prefix cache is cleared before every run, like a fresh worker; the best, because on
a shared machine other work only ever adds time), the ratios b/a, c/a, d/a and full/empty with
their targets. Then, for N = 10,000 on each inventory:

    (e) the 100 requests of 100 numbers through gunicorn (2 workers x 4 threads on 127.0.0.1,
        one keep-alive connection, requests back to back; the workers keep their per-prefix
        cache between runs, as in production), best of 9 after 1 warm-up, as e/a

and last the peak memory of (c) for N = 20,000 on the full inventory, measured in a fresh
process: the Python heap (tracemalloc), and from /proc/self/smaps_rollup, sampled during the
request, the private memory (Private_Clean + Private_Dirty) and the anonymous memory (the heap,
without the pages of SQLite's memory map that private memory still counts when no other process
maps them). RSS is shown for comparison only: it counts every mapped page that is in memory. Every
(b), (c) and (d) run is checked against the refusals the inputs were built to have. It exits
non-zero on errors only: a missed target is printed as MISSED.
"""

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import phonenumbers  # noqa: E402
from flask import url_for  # noqa: E402

from bench.serving import Client, gunicorn  # noqa: E402
from portal import create_app  # noqa: E402
from portal import numbers as nanp  # noqa: E402
from portal.db import db, is_postgresql, open_database  # noqa: E402
from portal.models import Account, ApiKey  # noqa: E402
from portal.portability import check_portability, numbered, summarize  # noqa: E402

SIZES = (10_000, 20_000)
REPEATS = 9
SEED = 3
ACCOUNT_ID = 4242  # the one checking numbers
OTHER_ACCOUNT_ID = 5151  # owns the inventory
INPUT_PREFIXES = 300  # the prefixes an owner's list shares
INVENTORY_PREFIXES = 1_000  # each with 1,000 tracking numbers (lines 0000-0999) and 1,000 claims
TRACKING_LINES = range(0, 1_000)
CLAIMED_LINES = range(1_000, 2_000)
FRESH_LINES = range(2_000, 10_000)
CLAIMED_AT = "2026-11-26 12:00:00"
CHUNK = 10_000

# Real US area codes (no Canadian or Caribbean ones), across the country.
AREA_CODES = (
    "201", "202", "206", "212", "213", "214", "215", "216", "303", "305", "310", "312", "313",
    "314", "347", "404", "408", "412", "415", "469", "502", "503", "504", "512", "602", "612",
    "614", "615", "617", "619", "646", "702", "704", "713", "718", "720", "773", "786", "801",
    "808", "813", "816", "818", "901", "907", "913", "916", "917", "949", "972",
)  # fmt: skip
FORMATS = (
    "({area}) {exchange}-{line}",
    "{area}-{exchange}-{line}",
    "{area}.{exchange}.{line}",
    "{area}{exchange}{line}",
    "1 {area} {exchange} {line}",
    "+1 {area} {exchange} {line}",
)
INVALID = (
    "212-736-500",  # 9 digits
    "736-5000",  # no area code
    "(212) 555-0142",  # reserved for fiction
    "911-736-5000",  # N11 area code
    "112-736-5000",  # area code starting with 1
    "212-036-5000",  # exchange starting with 0
    "212-736-50000",  # 11 digits
    "212-736-5000 x12",  # an extension
    "call me",
)

C_TARGET, C_AIM, FULL_EMPTY_TARGET, MEMORY_TARGET_MB = 1.5, 1.0, 1.2, 150
BATCH = 100  # numbers per request in (d) and (e)
D_TARGET, E_TARGET = 1.0, 1.5


class Inputs(NamedTuple):
    """The texts to check, and the refusals by reason each inventory must give."""

    texts: list
    invalid: int
    expected: dict  # inventory name -> {reason: count}


@dataclass
class Side:
    """One inventory: its database, the app on it, the checking account and its API key."""

    name: str
    database: Any
    app: Any
    account: Any
    key: str
    path: str
    url: str = ""

    def bind(self):
        """Point the models (and the app's per-request connection) at this database."""
        db.initialize(self.database)


def main():
    """Parse the arguments, then run the benchmark or, in a child process, the memory probe."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="sqlite:///FILE or postgresql://...")
    parser.add_argument("--memory-probe", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe)))
        return
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as scratch,
        databases(args.database_url, scratch) as (empty_url, full_url),
    ):
        benchmark(empty_url, full_url, scratch)
    print(f"total wall time {time.perf_counter() - started:.1f} s")


def benchmark(empty_url, full_url, scratch):
    """Build both inventories, time every stage, probe the memory and print it all."""
    kind = "PostgreSQL" if empty_url.startswith("postgres") else "SQLite"
    prefixes = choose_prefixes()
    sides = [open_side("empty", empty_url, scratch), open_side("full", full_url, scratch)]
    try:
        build_seconds = build_inventory(sides[1], prefixes)
        inputs = {n: make_inputs(prefixes, n) for n in SIZES}
        print(
            f"PortDesk portability benchmark on {kind}, {os.cpu_count()} CPUs, Python "
            f"{sys.version.split()[0]}, phonenumbers {phonenumbers.__version__}"
        )
        print(
            f"full inventory: {INVENTORY_PREFIXES * len(TRACKING_LINES):,} tracking numbers and "
            f"{INVENTORY_PREFIXES * len(CLAIMED_LINES):,} claims, built in {build_seconds:.1f} s"
        )
        print(
            f"inputs: {INPUT_PREFIXES} prefixes from {len(AREA_CODES)} area codes, "
            f"{len(FORMATS)} formats, 10% in the full inventory, 0.5% repeats, 0.5% invalid"
        )
        best = run(sides, inputs)
        served = run_served(sides, inputs[SIZES[0]], scratch)
        print_times(best)
        print_served(best, served, SIZES[0])
        print_checks(inputs)
    finally:
        for side in sides:
            side.database.close()
    print_memory(probe_memory(full_url))


@contextmanager
def databases(url, scratch):
    """Yield the URLs of the empty and the full database; remove both afterwards."""
    if url.startswith(("postgres://", "postgresql://")):
        schemas = [f"portdesk_bench_{uuid.uuid4().hex[:8]}_{side}" for side in ("empty", "full")]
        admin = open_database(url)
        try:
            for schema in schemas:
                admin.execute_sql(f'CREATE SCHEMA "{schema}"')
            yield [with_search_path(url, schema) for schema in schemas]
        finally:
            for schema in schemas:
                admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.close()
        return
    empty = Path(url.removeprefix("sqlite:///")) if url else Path(scratch) / "bench.sqlite3"
    if url and not url.startswith("sqlite:///"):
        raise SystemExit(f"--database-url must be sqlite:///FILE or postgresql://..., not {url}")
    full = empty.with_name(f"{empty.stem}-full{empty.suffix}")
    for path in (empty, full):
        if path.exists():
            raise SystemExit(f"{path} already exists: give the name of a new file")
    try:
        yield [f"sqlite:///{empty}", f"sqlite:///{full}"]
    finally:
        for path in (empty, full):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


def with_search_path(url, schema):
    """Return the PostgreSQL URL with the schema as its search path."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-c search_path={schema}')}"


def open_app(url, instance):
    """Return an app on the database, configured as in production (no test shortcuts)."""
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance})


def open_side(name, url, scratch):
    """Migrate the database, add the checking account and its API key; return the side."""
    app = open_app(url, f"{scratch}/{name}")
    database = db.obj
    with database.connection_context():
        account = Account.create(id=ACCOUNT_ID, name="Bench Dental")
        _, key = ApiKey.issue(account, name="bench")
    return Side(name, database, app, account, key, api_path(app), url)


def api_path(app):
    """Return the API's path, or stop if the app has no API yet."""
    with app.test_request_context():
        try:
            return url_for("api.portability_checks")
        except Exception as error:  # werkzeug's BuildError: the blueprint is not registered
            raise SystemExit(f"the app has no portability API yet ({error})") from None


def choose_prefixes():
    """Return INVENTORY_PREFIXES valid US area-code+exchange prefixes, the input ones first."""
    rng = random.Random(SEED)
    per_area = -(-INVENTORY_PREFIXES // len(AREA_CODES))
    prefixes = []
    for area in AREA_CODES:
        exchanges = [f"{e}" for e in range(200, 1000) if e % 100 != 11 and e not in (555, 950)]
        rng.shuffle(exchanges)
        prefixes += [area + e for e in exchanges if is_us_prefix(area + e)][:per_area]
    rng.shuffle(prefixes)
    if len(prefixes) < INVENTORY_PREFIXES:
        raise SystemExit(f"only {len(prefixes)} valid prefixes: add area codes")
    return prefixes[:INVENTORY_PREFIXES]


def is_us_prefix(prefix):
    """Say whether phonenumbers finds numbers across the prefix valid and in the US."""
    for line in ("0000", "2000", "5000", "9999"):
        number = phonenumbers.parse(f"+1{prefix}{line}")
        if not phonenumbers.is_valid_number(number):
            return False
        if phonenumbers.region_code_for_number(number) != "US":
            return False
    return True


def build_inventory(side, prefixes):
    """Insert the tracking numbers and claims in one transaction (their triggers fill
    taken_number); return the seconds it took."""
    side.bind()
    start = time.perf_counter()
    with db.connection_context():
        with db.atomic():
            Account.create(id=OTHER_ACCOUNT_ID, name="Inventory Owner")
            tracking = ((f"+1{p}{line:04d}", OTHER_ACCOUNT_ID) for p, line in lines(prefixes))
            insert_rows("tracking_number", ("number", "account_id"), tracking)
            # Every claim is held by a submitted request (a foreign key since 0006), 100 each.
            requests = (
                (request_id, OTHER_ACCOUNT_ID, "submitted", "{}", *[CLAIMED_AT] * 4)
                for request_id in range(1, len(CLAIMED_LINES) * INVENTORY_PREFIXES // 100 + 1)
            )
            columns = ("id", "account_id", "status", "details", "created_at", "updated_at")
            columns += ("status_changed_at", "submitted_at")
            insert_rows("port_request", columns, requests)
            claims = (
                (f"+1{p}{line:04d}", OTHER_ACCOUNT_ID, i // 100 + 1, CLAIMED_AT)
                for i, (p, line) in enumerate(lines(prefixes, CLAIMED_LINES))
            )
            columns = ("number", "account_id", "port_request_id", "claimed_at")
            insert_rows("number_claim", columns, claims)
        taken = db.execute_sql("SELECT count(*) FROM taken_number").fetchone()[0]
        expected = INVENTORY_PREFIXES * (len(TRACKING_LINES) + len(CLAIMED_LINES))
        if taken != expected:
            raise SystemExit(f"taken_number holds {taken:,} rows after the build, not {expected:,}")
        db.execute_sql("ANALYZE")  # what autovacuum (or a first ANALYZE) does to a real one
    return time.perf_counter() - start


def lines(prefixes, numbers=TRACKING_LINES):
    """Yield (prefix, line) for every prefix and line number."""
    for prefix in prefixes:
        for line in numbers:
            yield prefix, line


def insert_rows(table, columns, rows):
    """Insert the rows in bulk on the current connection: executemany, or execute_values."""
    names = ", ".join(columns)
    cursor = db.cursor()
    if is_postgresql(db):
        from psycopg2.extras import execute_values

        execute_values(cursor, f"INSERT INTO {table} ({names}) VALUES %s", rows, page_size=CHUNK)
    else:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def make_inputs(prefixes, n):
    """Return n texts in mixed formats: 10% in the inventory, 0.5% repeats, 0.5% invalid."""
    rng = random.Random(SEED + n)
    pool = prefixes[:INPUT_PREFIXES]
    seen = set()

    def draw(numbers):
        while True:
            digits = f"{rng.choice(pool)}{rng.choice(numbers):04d}"
            if digits not in seen:
                seen.add(digits)
                return digits

    tracked = claimed = n // 20
    repeated = invalid = n // 200
    fresh = [draw(FRESH_LINES) for _ in range(n - tracked - claimed - repeated - invalid)]
    digits = [draw(TRACKING_LINES) for _ in range(tracked)]
    digits += [draw(CLAIMED_LINES) for _ in range(claimed)]
    digits += fresh + rng.sample(fresh, repeated)
    texts = [written(d, rng) for d in digits] + [INVALID[i % len(INVALID)] for i in range(invalid)]
    rng.shuffle(texts)
    refused = {"invalid_number": invalid, "duplicate": repeated}
    in_inventory = {"tracking_number": tracked, "in_active_port": claimed}
    return Inputs(texts, invalid, {"empty": refused, "full": refused | in_inventory})


def written(digits, rng):
    """Return ten digits written in one of the common formats."""
    return rng.choice(FORMATS).format(area=digits[:3], exchange=digits[3:6], line=digits[6:])


def floor(texts):
    """(a) Parse and validate every text with phonenumbers alone; return the count of valid."""
    valid = 0
    for text in texts:
        try:
            number = phonenumbers.parse(text, "US")
        except phonenumbers.NumberParseException:
            continue
        valid += phonenumbers.is_valid_number(number)
    return valid


def call_api(side, texts):
    """(c) Post the texts to the API with the key; return the status and the parsed answer."""
    response = side.app.test_client().post(
        side.path, json={"numbers": texts}, headers={"Authorization": f"Bearer {side.key}"}
    )
    return response.status_code, response.get_json()


def clear_prefix_cache():
    """Forget the per-prefix NANP verdicts, as a fresh worker starts."""
    nanp._prefix_verdict.cache_clear()


def in_batches(texts):
    """Return the texts as consecutive lists of BATCH."""
    return [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]


def call_api_in_batches(side, texts):
    """(d) Post the texts BATCH at a time, in-process; return every (status, parsed answer)."""
    client = side.app.test_client()
    headers = {"Authorization": f"Bearer {side.key}"}
    answers = []
    for batch in in_batches(texts):
        response = client.post(side.path, json={"numbers": batch}, headers=headers)
        answers.append((response.status_code, response.get_json()))
    return answers


def post_batches(client, side, texts):
    """(e) Post the texts BATCH at a time over one HTTP connection; return every answer."""
    headers = {"Authorization": f"Bearer {side.key}", "Content-Type": "application/json"}
    answers = []
    for batch in in_batches(texts):
        status, _, body = client.request("POST", side.path, json.dumps({"numbers": batch}), headers)
        answers.append((status, json.loads(body)))
    return answers


def timed(work):
    """Run the work with a cold per-prefix cache; return (seconds, its result)."""
    clear_prefix_cache()
    gc.collect()
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def time_floor(side, case):
    """Time (a), and check that the library finds every generated number valid."""
    seconds, valid = timed(lambda: floor(case.texts))
    if valid < len(case.texts) - case.invalid:
        raise SystemExit(f"(a) found {valid:,} valid numbers, expected at least the generated ones")
    return seconds


def time_check(side, case):
    """Time (b) on an open connection, and check its refusals by reason."""
    side.bind()
    with db.connection_context():
        seconds, results = timed(lambda: check_portability(numbered(case.texts), side.account))
    expect("(b)", side, case, len(results), summarize(results).by_reason)
    return seconds


def time_api(side, case):
    """Time (c), and check its status, its summary and its refusals by reason."""
    side.bind()
    seconds, (status, body) = timed(lambda: call_api(side, case.texts))
    if status != 200:
        raise SystemExit(f"(c) on {side.name} answered {status}: {body}")
    by_reason = Counter(r["reason"] for r in body["results"] if r["reason"] is not None)
    expect("(c)", side, case, len(body["results"]), by_reason)
    refused = sum(by_reason.values())
    summary = {"total": len(case.texts), "portable": len(case.texts) - refused, "refused": refused}
    if body["summary"] != summary:
        raise SystemExit(f"(c) on {side.name}: summary {body['summary']}, expected {summary}")
    return seconds


def time_api_batches(side, case):
    """Time (d), and check what the batches add up to."""
    side.bind()
    seconds, answers = timed(lambda: call_api_in_batches(side, case.texts))
    expect_batches("(d)", side, case, answers)
    return seconds


def expect_batches(stage, side, case, answers):
    """Stop unless every batch answered 200 and the refusals add up: a repeat is a duplicate
    only when its first occurrence is in the same batch, so those may be fewer."""
    by_reason, count = Counter(), 0
    for status, body in answers:
        if status != 200:
            raise SystemExit(f"{stage} on {side.name} answered {status}: {body}")
        count += len(body["results"])
        by_reason.update(r["reason"] for r in body["results"] if r["reason"] is not None)
    expected = dict(case.expected[side.name])
    repeats, duplicates = expected.pop("duplicate"), by_reason.pop("duplicate", 0)
    if count != len(case.texts) or dict(by_reason) != expected or duplicates > repeats:
        raise SystemExit(
            f"{stage} on the {side.name} inventory: {count:,} results refused {dict(by_reason)} "
            f"and {duplicates} duplicates, expected {expected} and at most {repeats} duplicates"
        )


def expect(stage, side, case, count, by_reason):
    """Stop unless the stage gave one result per text and the expected refusals."""
    expected = case.expected[side.name]
    if count != len(case.texts) or dict(by_reason) != expected:
        raise SystemExit(
            f"{stage} on the {side.name} inventory, N = {len(case.texts):,}: {count:,} results "
            f"refused {dict(by_reason)}, expected {expected}"
        )


STAGES = {"a": time_floor, "b": time_check, "c": time_api, "d": time_api_batches}


def run(sides, inputs):
    """Time every stage on every inventory, alternating, for each N; return the best times."""
    runs = defaultdict(list)
    for n, case in inputs.items():
        for repeat in range(REPEATS + 1):
            for side in sides:
                for stage, measure in STAGES.items():
                    seconds = measure(side, case)
                    if repeat:  # the first round warms up
                        runs[side.name, n, stage].append(seconds)
    return {key: min(values) for key, values in runs.items()}


def run_served(sides, case, scratch):
    """Time (e) on each inventory through its own gunicorn; return the best seconds per side."""
    best = {}
    for side in sides:
        instance, log = f"{scratch}/{side.name}-served", f"{scratch}/{side.name}-gunicorn.log"
        with gunicorn(side.url, instance, log) as address:
            client = Client(address)
            runs = []
            for repeat in range(REPEATS + 1):
                start = time.perf_counter()
                answers = post_batches(client, side, case.texts)
                seconds = time.perf_counter() - start
                expect_batches("(e)", side, case, answers)
                if repeat:  # the first round warms up
                    runs.append(seconds)
            client.close()
        best[side.name] = min(runs)
    return best


def verdict(value, target, aim=None):
    """Return how the value stands against its target (and the aim, if any)."""
    if value > target:
        return "MISSED"
    if aim is not None and value >= aim:
        return "met (aim missed)"
    return "met"


def print_times(best):
    """Print the table of best times, the ratios and the targets."""
    print(
        f"\nseconds, best of {REPEATS} runs after 1 warm-up; per-prefix cache cleared before each"
    )
    print(
        f"{'inventory':<10}{'N':>7}{'(a)':>8}{'(b)':>8}{'(c)':>8}{'(d)':>8}"
        f"{'b/a':>7}{'c/a':>7}{'d/a':>7}  target"
    )
    for n in SIZES:
        for side in ("empty", "full"):
            a, b, c, d = (best[side, n, stage] for stage in STAGES)
            target = ""
            if n == SIZES[0]:
                target = (
                    f"c/a <= {C_TARGET}, aim < {C_AIM}: {verdict(c / a, C_TARGET, C_AIM)}; "
                    f"d/a <= {D_TARGET}: {verdict(d / a, D_TARGET)}"
                )
            print(
                f"{side:<10}{n:>7,}{a:>8.3f}{b:>8.3f}{c:>8.3f}{d:>8.3f}"
                f"{b / a:>7.2f}{c / a:>7.2f}{d / a:>7.2f}  {target}"
            )
    print(f"\n{'full/empty':<10}{'N':>7}{'(b)':>8}{'(c)':>8}  target")
    for n in SIZES:
        b, c = (best["full", n, stage] / best["empty", n, stage] for stage in "bc")
        worst = verdict(max(b, c), FULL_EMPTY_TARGET)
        print(f"{'':<10}{n:>7,}{b:>8.2f}{c:>8.2f}  <= {FULL_EMPTY_TARGET}: {worst}")


def print_served(best, served, n):
    """Print (e) against the floor (a) of the same numbers."""
    print(
        f"\n{n // BATCH} requests of {BATCH} numbers through gunicorn ({n:,} numbers), "
        f"best of {REPEATS} after 1 warm-up"
    )
    print(f"{'inventory':<10}{'(a)':>8}{'(e)':>8}{'e/a':>7}  target")
    for side, seconds in served.items():
        a = best[side, n, "a"]
        ratio = seconds / a
        print(
            f"{side:<10}{a:>8.3f}{seconds:>8.3f}{ratio:>7.2f}  <= {E_TARGET}: "
            f"{verdict(ratio, E_TARGET)}"
        )


def print_checks(inputs):
    """Say what every (b) and (c) run was checked against."""
    print("\nevery (b) and (c) run gave one result per input and exactly these refusals")
    print("(every (d) and (e) run the same, but repeats in different batches are not duplicates):")
    for n, case in inputs.items():
        for side, expected in case.expected.items():
            counts = ", ".join(f"{reason} {count:,}" for reason, count in expected.items())
            print(f"  N = {n:,}, {side}: {counts}")


def probe_memory(full_url):
    """Run the memory probe in a fresh process, so the inventory build cannot inflate it."""
    probe = [sys.executable, __file__, "--memory-probe", full_url]
    done = subprocess.run(probe, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the memory probe failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def memory_probe(url):
    """Measure (c) for the largest N on a database: the memory's peaks, then the heap's (MB)."""
    n = SIZES[-1]
    with tempfile.TemporaryDirectory() as scratch:
        app = open_app(url, scratch)
        side = Side("full", db.obj, app, None, "", api_path(app))
        with db.connection_context():
            side.account = Account.get_by_id(ACCOUNT_ID)
            _, side.key = ApiKey.issue(side.account, name="bench memory")
        case = make_inputs(choose_prefixes(), n)
        call_api(side, case.texts[:100])  # what a worker has loaded by its first real request
        gc.collect()
        before = memory_mb()
        with sampled_peaks() as peaks:
            time_api(side, case)
        gc.collect()
        clear_prefix_cache()
        tracemalloc.start()
        time_api(side, case)
        heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        side.database.close()
    return {"n": n, "heap_peak_mb": heap_peak, "before": before, "peak": peaks}


def memory_mb():
    """Return this process's memory in MB: private (Private_Clean + Private_Dirty), anonymous,
    PSS and RSS.

    Private memory is the pages no other process maps. It still counts the pages of SQLite's
    memory map that this process alone has read (they are the OS's file cache, dropped at will),
    so anonymous memory (the heap and stacks, no file behind them) is shown beside it.
    """
    kb = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        kb[name.rstrip(":")] = int(value)
    private = kb["Private_Clean"] + kb["Private_Dirty"]
    names = {"anonymous": "Anonymous", "pss": "Pss", "rss": "Rss"}
    return {"private": private / 1024} | {name: kb[key] / 1024 for name, key in names.items()}


@contextmanager
def sampled_peaks(every=0.005):
    """Sample memory_mb() while the block runs; the dict yielded holds the highest of each."""
    peaks = memory_mb()
    done = threading.Event()

    def sample():
        while not done.wait(every):
            for name, value in memory_mb().items():
                peaks[name] = max(peaks[name], value)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield peaks
    finally:
        done.set()
        sampler.join()


def print_memory(memory):
    """Print the memory probe's figures against the target."""
    before, peak = memory["before"], memory["peak"]
    print(
        f"\npeak memory of (c), N = {memory['n']:,}, full inventory, in a fresh process "
        f"(before the request: private {before['private']:.0f} MB, anonymous "
        f"{before['anonymous']:.0f} MB, PSS {before['pss']:.0f} MB, RSS {before['rss']:.0f} MB):"
    )
    figures = {
        "Python heap (tracemalloc)": memory["heap_peak_mb"],
        "private memory growth": peak["private"] - before["private"],
        "anonymous memory growth": peak["anonymous"] - before["anonymous"],
    }
    for label, value in figures.items():
        mark = verdict(value, MEMORY_TARGET_MB)
        print(f"  {label:<26}{value:>7.1f} MB  < {MEMORY_TARGET_MB} MB: {mark}")
    rss_growth = peak["rss"] - before["rss"]
    print(f"  {'RSS growth':<26}{rss_growth:>7.1f} MB  (for comparison: it counts mapped pages)")


if __name__ == "__main__":
    main()
