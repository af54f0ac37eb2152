"""Writing a draft: one writer at a time, its numbers stored in few statements, each change logged.

No Flask: the API and the wizard's pages both change drafts through these functions, so a save
from a page and a PATCH at the same moment cannot overwrite each other's fields.
"""

import json
from contextlib import contextmanager
from datetime import timedelta

from peewee import chunked

from portal.db import db, is_postgresql
from portal.models import PortNumber, PortRequest, ReceivingReroute, RequestEvent, utcnow
from portal.numbers import classify
from portal.port_requests.events import record_event

# Rows per INSERT: SQLite takes at most 32,766 parameters in one statement.
INSERT_ROWS = 2_000
# The statuses in which the owner changes a request: a draft, and a request staff sent back for a
# correction (whose fix page lets only the fields the carrier's codes name change).
EDITABLE = ("draft", "action_required")
# Saves of one step by one person within this window are one line of the timeline, not hundreds.
SAVE_COALESCE = timedelta(minutes=30)


class NotADraft(Exception):
    """The request has left the draft status: it can no longer be changed or deleted."""

    def __init__(self, port_request):
        super().__init__(port_request.status)
        self.port_request = port_request


@contextmanager
def changing():
    """A transaction in which a request is changed by one writer at a time.

    Two changes at once would each replace the numbers from what they read (a unique position
    taken twice, or one change lost): SQLite takes its write lock up front (BEGIN IMMEDIATE),
    PostgreSQL locks the request's row as it is read (`PortRequest.find(..., for_update=True)`).
    """
    if is_postgresql(db):
        with db.atomic() as transaction:
            yield transaction
    else:
        with db.atomic(lock_type="IMMEDIATE") as transaction:
            yield transaction


def locked_draft(account, request_id, statuses=("draft",)):
    """Inside `changing()`: read the account's request again under the lock.

    Return None when it is missing or another account's; raise NotADraft when its status is not
    one of `statuses` (by default: when it has left draft).
    """
    port_request = PortRequest.find(account, request_id, for_update=True)
    if port_request is not None and port_request.status not in statuses:
        raise NotADraft(port_request)
    return port_request


def merge_fields(port_request, changes):
    """Set the given top-level fields (others keep their values) and touch the request."""
    port_request.details = json.dumps(port_request.fields | changes)
    port_request.updated_at = utcnow()
    port_request.save()


def changes_from_page(stored, posted, shown):
    """Return the top-level fields a page's save should store: only what the page changed.

    A page sends what it holds now (`posted`) and what it showed when it was loaded or last
    saved (`shown`). A field left as shown keeps its stored value, which another tab or the API
    may have changed since; inside a section, field by field. Without `shown` (a page that did
    not say), everything posted counts as changed.
    """
    if not isinstance(shown, dict):
        return dict(posted)
    changes = {}
    for key, value in posted.items():
        was = shown.get(key)
        if value == was:
            continue
        current = stored.get(key)
        if isinstance(value, dict) and isinstance(was, dict) and isinstance(current, dict):
            section = dict(current)
            for name in value.keys() | was.keys():
                if value.get(name) == was.get(name):
                    continue
                if value.get(name) is None:
                    section.pop(name, None)
                else:
                    section[name] = value[name]
            changes[key] = section
        else:
            changes[key] = value
    return changes


def store_numbers(port_request, numbers, *, start=0):
    """Insert the number rows (dicts of NUMBER_FIELDS) after the request's existing ones.

    `start` is the first free position (the count of rows the request already has). Return the
    PortNumber rows, in order. One INSERT per INSERT_ROWS rows.
    """
    rows = []
    for position, row in enumerate(numbers, start):
        text = row.get("phone_number")
        e164 = classify(text).e164 if text else None
        rows.append(PortNumber(port_request=port_request, position=position, e164=e164, **row))
    # Every column of every row, named: insert_many takes its columns from the first row, so a
    # key missing there would silently drop that column from all the others.
    columns = [field.name for field in PortNumber._meta.sorted_fields if field.name != "id"]
    for batch in chunked(rows, INSERT_ROWS):
        PortNumber.insert_many(
            [{name: getattr(row, name) for name in columns} for row in batch]
        ).execute()
    return rows


def replace_numbers(port_request, numbers):
    """Replace the request's numbers with these rows; return them.

    The re-routes of a receiving number no longer in the request go too: staff would otherwise
    re-route tracking numbers away from a number that is not being ported.
    """
    PortNumber.delete().where(PortNumber.port_request == port_request).execute()
    rows = store_numbers(port_request, numbers)
    still_in = PortNumber.select(PortNumber.e164).where(
        (PortNumber.port_request == port_request) & PortNumber.e164.is_null(False)
    )
    ReceivingReroute.delete().where(
        (ReceivingReroute.port_request == port_request)
        & ReceivingReroute.receiving_number.not_in(still_in)
    ).execute()
    return rows


def record_save(port_request, kind, message, *, user=None, actor=None):
    """Log a change, folding repeats of the same change by the same person into one line."""
    latest = (
        RequestEvent.select()
        .where(RequestEvent.port_request == port_request)
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc())
        .first()
    )
    name = actor or (user.name if user is not None else "PortDesk")
    now = utcnow()
    if (
        latest is not None
        and latest.kind == kind
        and latest.message == message
        and latest.actor == name
        and now - latest.at < SAVE_COALESCE
    ):
        latest.at = now
        latest.save()
        return latest
    return record_event(port_request, kind, message, user=user, actor=actor)
