"""The live check's fragment against the API's answer for the same numbers, in-process.

Both run the same check; the fragment also renders the results table (up to 500 rows shown)
and the summary. Target: the fragment for 1,000 numbers at most 1.5x the API answer.

    .venv/bin/python bench/fragment.py [--numbers 1000] [--database-url URL]

Prints the best per-request time of each over repeated runs, and the ratio.
"""

import argparse
import random
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import Account, ApiKey, User  # noqa: E402

PASSWORD = "bench password"
HASH = "pbkdf2:sha256:1000"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="portdesk-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    config = {
        "DATABASE_URL": url,
        "INSTANCE_PATH": folder,
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": HASH,
    }
    app = create_app(config)
    with app.app_context(), db.atomic():
        # An account id of its own, so a shared PostgreSQL database is left as it was found.
        account = Account.create(id=random.randrange(10**8, 10**9), name="Bench Dental")
        email = f"bench-{account.id}@portdesk.test"
        user = User(email=email, name="Bench Owner", role="owner", account=account)
        user.set_password(PASSWORD, method=HASH)
        user.save()
        _, key = ApiKey.issue(account)
    try:
        page_ms, api_ms = measure(app, email, key, args.numbers, args.repeat)
    finally:
        with app.app_context():
            User.delete().where(User.account == account.id).execute()
            Account.delete().where(Account.id == account.id).execute()
    print(f"{args.numbers:,} numbers on {url.split(':', 1)[0]}, best of {args.repeat}")
    print(f"  live check fragment  {page_ms:7.2f} ms")
    print(f"  API answer           {api_ms:7.2f} ms")
    ratio = page_ms / api_ms
    verdict = "met" if ratio <= 1.5 else "MISSED"
    print(f"  fragment / API       {ratio:7.2f}x  (target <= 1.5x: {verdict})")


def measure(app, email, key, count, repeat):
    """Return the best milliseconds per request of the fragment and of the API."""
    rng = random.Random(1)
    numbers = [
        f"({rng.randint(201, 989)}) {rng.randint(201, 999)}-{rng.randint(0, 9999):04d}"
        for _ in range(count)
    ]
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})
    text = "\n".join(numbers)

    def fragment():
        response = client.post("/check/", data={"numbers": text}, headers={"HX-Request": "true"})
        assert response.status_code == 200 and b"checked" in response.data

    def api():
        response = client.post(
            "/api/v1/portability-checks",
            json={"numbers": numbers},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200

    per_run = 20
    times = {}
    for name, call in (("fragment", fragment), ("api", api)):
        call()  # warm: templates compiled, prefix verdicts cached alike for both
        times[name] = min(timeit.repeat(call, number=per_run, repeat=repeat)) / per_run * 1000
    return times["fragment"], times["api"]


if __name__ == "__main__":
    main()
