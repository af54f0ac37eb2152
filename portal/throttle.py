"""Sign-in tries per email: after too many within the window, that email waits.

Counted per email in the database, so every worker and host sees the same count, and for
emails with no user as well, so the answer never tells whether an account exists.

A try is counted before its password is looked at, in one statement that also starts a new
window when the last one has ended. Tries that arrive together each get their own number from
the database, so however many arrive at once, only the first `max_tries` of a window have their
password checked. The try that reaches the limit starts the window again, so the lock that
follows lasts the whole window.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import Case

from portal.models import LoginThrottle, normalize_email, utcnow


@dataclass(frozen=True)
class Try:
    """One sign-in try: its place in the window's count, and when that window ends."""

    number: int
    max_tries: int
    window_ends: datetime

    @property
    def allowed(self):
        """Say whether this try's password may be checked at all."""
        return self.number <= self.max_tries

    @property
    def tries_left(self):
        """Return how many more tries the email gets in this window if this one fails."""
        return max(0, self.max_tries - self.number)


def take_try(email, max_tries, window_seconds, now=None):
    """Count a sign-in try for this email before its password is checked; return the Try."""
    now = now or utcnow()
    window = timedelta(seconds=window_seconds)
    ended = LoginThrottle.window_started_at <= now - window
    reaches_limit = LoginThrottle.failures + 1 == max_tries
    # Inside ON CONFLICT the columns are the row as it was: both CASEs see the old count.
    row = (
        LoginThrottle.insert(email=normalize_email(email), failures=1, window_started_at=now)
        .on_conflict(
            conflict_target=[LoginThrottle.email],
            update={
                LoginThrottle.failures: Case(None, [(ended, 1)], LoginThrottle.failures + 1),
                LoginThrottle.window_started_at: Case(
                    None, [(ended | reaches_limit, now)], LoginThrottle.window_started_at
                ),
            },
        )
        .returning(LoginThrottle.failures, LoginThrottle.window_started_at)
        .execute()[0]
    )
    return Try(row.failures, max_tries, row.window_started_at + window)


def give_back(email):
    """Give back the try a sign-in that succeeded took.

    Not a reset to zero: wiping the count would hand whoever is guessing at that moment a fresh
    set of tries, while giving back this one try keeps the count at the wrong passwords of the
    window, so a person who signs in often is never locked by their own successes. The count
    still ends with its window. One UPDATE that changes nothing when the row has gone, so a
    success racing a failure (or a new window) can never fail.
    """
    (
        LoginThrottle.update(failures=LoginThrottle.failures - 1)
        .where((LoginThrottle.email == normalize_email(email)) & (LoginThrottle.failures > 0))
        .execute()
    )
