"""What every move of Carrier Relations shares (no Flask): the request read under its lock, the
conditional UPDATE that makes the move or says where the request stands now, and the words."""

from portal.db import db, is_postgresql
from portal.models import PortNumber, PortRequest, utcnow
from portal.numbers import display
from portal.port_requests.fields import written
from portal.port_requests.statuses import describe
from portal.staff.transitions import MOVES, NUMBER_REJECTABLE, TransitionRefused, allowed


class ActionRefused(ValueError):
    """What staff entered cannot be used (or the request cannot take it); nothing was written.

    `field` names the form field at fault, when one is.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def lock(request_id):
    """Inside `changing()`: read the request under its lock (any account's), or None."""
    query = PortRequest.select().where(PortRequest.id == request_id)
    return query.for_update().first() if is_postgresql(db) else query.first()


def move(port_request, name, shown, **changes):
    """Move the locked request from `shown` to the move's status (with `changes`), or raise
    TransitionRefused naming the status it is in now; return it, as it is now."""
    rule = MOVES[name]
    now = utcnow()
    values = {"status": rule.to, "updated_at": now, **changes}
    if rule.to != port_request.status:
        values["status_changed_at"] = now
    moved = (
        PortRequest.update(**values)
        .where(
            (PortRequest.id == port_request.id)
            & (PortRequest.status == shown)
            & PortRequest.status.in_(rule.sources)
        )
        .execute()
    )
    if moved != 1:
        raise TransitionRefused(
            name, port_request.status, _refusal(name, port_request.status, shown)
        )
    # Numbers follow the request, except those rejected on their own.
    (
        PortNumber.update(status=rule.to)
        .where(
            (PortNumber.port_request == port_request)
            & (PortNumber.status.is_null() | (PortNumber.status != "rejected"))
        )
        .execute()
    )
    for column, value in values.items():
        setattr(port_request, column, value)
    return port_request


def _refusal(name, now, shown):
    """Return why the move was not made: the request moved on since the page showed it, or
    the move cannot start from where it is."""
    if now != shown and allowed(name, now):
        return (
            f"The request changed while you were looking: it is {describe(now).label.lower()} "
            f"now. Nothing was changed: check the page and do it again if it still applies."
        )
    return TransitionRefused(name, now).message


def check_number_rejectable(port_request, shown):
    """Raise ActionRefused unless the locked request is as the page showed it, and its numbers
    may be rejected one by one in that status."""
    now = port_request.status
    if now == shown and now in NUMBER_REJECTABLE:
        return
    if now != shown and now in NUMBER_REJECTABLE:
        raise ActionRefused(
            f"The request changed while you were looking: it is {describe(now).label.lower()} "
            "now. Nothing was changed: check the page and reject the number again if need be."
        )
    raise ActionRefused(
        f"A number can only be rejected while its request is being worked; this one is "
        f"{describe(now).label.lower()}. Nothing was changed."
    )


def clean_text(value, what, limit, field, *, required=True):
    """Return the text as stored (`fields.written`: invisible characters out, spaces trimmed);
    None when empty and not required."""
    text = written(value)
    if not text and required:
        raise ActionRefused(f"Enter {what}.", field)
    if len(text) > limit:
        raise ActionRefused(
            f"Keep {what} to {limit:,} characters; this one has {len(text):,}.", field
        )
    return text or None


def number_words(number):
    """Return the number as a message names it: (614) 322-1002."""
    return display(number.e164) or number.phone_number or f"Number {number.position + 1}"


def count(how_many, noun):
    """Return "1 number", "2,000 numbers"."""
    return f"1 {noun}" if how_many == 1 else f"{how_many:,} {noun}s"


def day(date):
    """Return the date as messages write it: Tue Jan 12, 2027."""
    return f"{date:%a %b} {date.day}, {date.year}"
