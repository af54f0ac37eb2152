"""Rows sent by one sender at a time: the email outbox and the webhook deliveries (no Flask).

Both tables have status (queued, sending, sent, failed), next_attempt_at and lease_until. A
sender takes its rows with one conditional UPDATE (queued and due, or `sending` with a lease that
has passed -> `sending` with a lease of its own; on PostgreSQL picked with FOR UPDATE SKIP
LOCKED), so two senders never hold the same row, and records an outcome only while its lease is
still the one on the row. Sending after a request runs in background threads, counted here so
tests and shutdown can wait for them.
"""

import contextlib
import logging
import threading
import time

from portal.db import db, is_postgresql
from portal.models import utcnow

log = logging.getLogger(__name__)


def due(model, now):
    """Return the condition of the model's rows a sender may take now."""
    waiting = (model.status == "queued") & (model.next_attempt_at <= now)
    abandoned = (model.status == "sending") & (model.lease_until < now)
    return waiting | abandoned


def take(model, count, lease, ids=None):
    """Take up to `count` due rows (of `ids`, when given) until `lease`; return them by id."""
    condition = due(model, utcnow())
    if ids is not None:
        condition &= model.id.in_(ids)
    pick = (
        model.select(model.id)
        .where(condition)
        .order_by(model.next_attempt_at, model.id)
        .limit(count)
    )
    postgresql = is_postgresql(db)
    with db.atomic() if postgresql else contextlib.nullcontext():
        if postgresql:
            # Rows another sender is taking right now are left to it, not waited for.
            pick = pick.for_update(skip_locked=True)
        # The ids, not the subquery, go into the UPDATE: PostgreSQL may run an IN (subquery)
        # again for each row it updates, and its LIMIT then bounds each run, not the whole (a
        # sender asked for one row took three, under a lease sized for one).
        chosen = [row.id for row in pick]
        if not chosen:
            return []
        # `due` again: on SQLite another sender may have taken a row since it was read.
        taken = (
            model.update(status="sending", lease_until=lease)
            .where(model.id.in_(chosen) & condition)
            .returning(model)
            .execute()
        )
    return sorted(taken, key=lambda row: row.id)


def held(model, row_id, lease):
    """Return the condition that the row is still this sender's (its lease unchanged)."""
    return (model.id == row_id) & (model.status == "sending") & (model.lease_until == lease)


class Senders:
    """Background threads sending what a request queued, once it is over."""

    def __init__(self, name):
        self.name = name
        self._running = set()
        self._lock = threading.Lock()

    def start(self, send, *args):
        """Run `send(*args)` in a thread with its own database connection."""
        thread = threading.Thread(target=self._run, args=(send, args), name=self.name, daemon=True)
        with self._lock:
            self._running.add(thread)
        thread.start()

    def wait(self, timeout=10):
        """Wait for the threads to finish; say whether they all did."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                running = list(self._running)
            if not running:
                return True
            for thread in running:
                thread.join(max(0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                with self._lock:
                    return not self._running

    def _run(self, send, args):
        try:
            with db.connection_context():
                send(*args)
        except Exception:
            # Still queued (or leased until the lease passes): `flask outbox send` takes them.
            log.exception("%s: sending %s after their request failed", self.name, args[-1:])
        finally:
            with self._lock:
                self._running.discard(threading.current_thread())
