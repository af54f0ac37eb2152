"""The sign-in throttle, without an app: counting, the window, the lock."""

import threading
from datetime import datetime, timedelta

from portal import throttle
from portal.db import db
from portal.models import LoginThrottle

NOW = datetime(2026, 11, 26, 9, 0, 0)


def test_failures_below_the_limit_do_not_lock(database):
    for _ in range(4):
        assert throttle.record_failure("a@acme.test", 5, 900, now=NOW) is None
    assert throttle.locked_until("a@acme.test", now=NOW) is None


def test_the_fifth_failure_locks_for_the_window(database):
    for _ in range(4):
        throttle.record_failure("a@acme.test", 5, 900, now=NOW)
    until = throttle.record_failure("A@Acme.test ", 5, 900, now=NOW)
    assert until == NOW + timedelta(seconds=900)
    assert throttle.locked_until("a@acme.test", now=NOW + timedelta(seconds=899)) == until
    assert throttle.locked_until("a@acme.test", now=until) is None


def test_clear_forgets_the_failures(database):
    throttle.record_failure("a@acme.test", 5, 900, now=NOW)
    throttle.clear("a@acme.test")
    assert LoginThrottle.select().count() == 0


def test_failures_at_the_same_moment_all_count(database):
    """Several workers refusing the same email at once: none of the failures is lost."""
    start = threading.Barrier(8)

    def fail():
        start.wait()
        with db.connection_context():
            throttle.record_failure("a@acme.test", 100, 900, now=NOW)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert LoginThrottle.get().failures == 8
