"""Failed sign-ins: after too many for one email within the window, that email waits.

Counted per email in the database, so every worker and host sees the same count, and for
emails with no user as well, so the answer never tells whether an account exists.
"""

from datetime import timedelta

from portal.models import LoginThrottle, normalize_email, utcnow


def locked_until(email, now=None):
    """Return when the lock on this email ends, or None when it may try now."""
    now = now or utcnow()
    row = LoginThrottle.get_or_none(LoginThrottle.email == normalize_email(email))
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_failure(email, max_failures, lock_seconds, now=None):
    """Count a failed sign-in; return when the email is locked until, or None if not locked."""
    now = now or utcnow()
    email = normalize_email(email)
    window = timedelta(seconds=lock_seconds)
    # One statement, so two workers failing at once both count.
    (
        LoginThrottle.insert(email=email, failures=1, window_started_at=now)
        .on_conflict(
            conflict_target=[LoginThrottle.email],
            update={LoginThrottle.failures: LoginThrottle.failures + 1},
        )
        .execute()
    )
    row = LoginThrottle.get(LoginThrottle.email == email)
    if row.window_started_at < now - window:
        # The earlier failures are old news: start a new window with this one.
        (
            LoginThrottle.update(failures=1, window_started_at=now, locked_until=None)
            .where(LoginThrottle.id == row.id)
            .execute()
        )
        return None
    if row.failures >= max_failures:
        until = now + window
        (
            LoginThrottle.update(locked_until=until, failures=0, window_started_at=now)
            .where(LoginThrottle.id == row.id)
            .execute()
        )
        return until
    return None


def clear(email):
    """Forget the failures of an email that has just signed in."""
    LoginThrottle.delete().where(LoginThrottle.email == normalize_email(email)).execute()
