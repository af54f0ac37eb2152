"""The sign-in throttle, without an app: counting before the check, the window, the lock."""

import threading
from datetime import datetime, timedelta

from portal import throttle
from portal.db import db
from portal.models import LoginThrottle

NOW = datetime(2026, 11, 26, 9, 0, 0)
WINDOW = timedelta(seconds=900)


def take(email="a@acme.test", now=NOW):
    return throttle.take_try(email, 5, 900, now=now)


def test_the_first_five_tries_may_be_checked_and_the_sixth_may_not(database):
    tries = [take() for _ in range(6)]
    assert [t.number for t in tries] == [1, 2, 3, 4, 5, 6]
    assert [t.allowed for t in tries] == [True] * 5 + [False]
    assert [t.tries_left for t in tries] == [4, 3, 2, 1, 0, 0]


def test_the_email_is_counted_as_stored(database):
    take("A@Acme.test ")
    assert take("a@acme.test").number == 2


def test_the_try_that_reaches_the_limit_starts_a_whole_window_of_lock(database):
    for minute in range(4):
        take(now=NOW + timedelta(minutes=minute))
    fifth = take(now=NOW + timedelta(minutes=10))
    assert fifth.window_ends == NOW + timedelta(minutes=10) + WINDOW
    during = take(now=NOW + timedelta(minutes=24))
    assert not during.allowed
    assert during.window_ends == fifth.window_ends


def test_a_try_after_the_window_starts_a_new_count(database):
    for _ in range(7):
        take()
    later = take(now=NOW + WINDOW)
    assert (later.number, later.allowed) == (1, True)
    assert later.window_ends == NOW + 2 * WINDOW
    assert LoginThrottle.get().failures == 1


def test_tries_within_the_window_keep_its_start(database):
    take()
    second = take(now=NOW + WINDOW - timedelta(seconds=1))
    assert (second.number, second.window_ends) == (2, NOW + WINDOW)


def test_giving_back_a_try_takes_one_off_the_count(database):
    for _ in range(3):
        take()
    throttle.give_back("A@acme.test")
    assert LoginThrottle.get().failures == 2


def test_giving_back_never_fails_and_never_goes_below_zero(database):
    throttle.give_back("nobody@acme.test")
    take()
    throttle.give_back("a@acme.test")
    throttle.give_back("a@acme.test")
    assert LoginThrottle.get().failures == 0
    assert take().number == 1


def _together(count, work):
    start = threading.Barrier(count)
    results, errors = [], []

    def run(index):
        start.wait()
        try:
            with db.connection_context():
                results.append(work(index))
        except Exception as error:  # noqa: BLE001 - reported below, the thread must not die quietly
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_tries_at_the_same_moment_each_get_their_own_number(database):
    """Thirty workers trying one email at once: five may check a password, no more."""
    tries = _together(30, lambda _: take())
    assert sorted(t.number for t in tries) == list(range(1, 31))
    assert sum(t.allowed for t in tries) == 5


def test_giving_back_while_others_try_and_the_row_goes_never_fails(database):
    """A sign-in that succeeds while others fail (and the row is deleted) must not raise."""

    def work(index):
        if index % 3 == 0:
            throttle.give_back("a@acme.test")
        elif index % 7 == 0:
            LoginThrottle.delete().execute()
        else:
            take()

    _together(21, work)
    assert LoginThrottle.select().count() <= 1
