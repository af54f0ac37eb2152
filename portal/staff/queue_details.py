"""What a page of the queue shows of each row it lists: a port request's or fax ticket's name,
account, status, numbers and dates, read for the page's keys only, one statement per kind; and
the words for a status and for the time in it (no Flask)."""

import json
from dataclasses import dataclass
from datetime import date, datetime

from peewee import fn

from portal.models import Account, FaxTicket, PortNumber, PortRequest
from portal.port_requests.statuses import describe


@dataclass
class QueueRow:
    """One line of the queue: a port request ("request") or a fax ticket ("fax")."""

    kind: str
    id: int
    account_id: int
    account_name: str
    name: str
    status: str
    numbers: int
    since: datetime  # when it entered its status
    submitted: datetime
    requested: str | None = None  # the owner's requested date as entered (None: earliest)
    foc_date: date | None = None
    foc_window: str | None = None

    @property
    def requested_day(self):
        """Return the requested date as a date (None when none or not a date)."""
        try:
            return date.fromisoformat(self.requested) if self.requested else None
        except ValueError:
            return None


def status_label(status):
    """Return the words for a status: "In review"."""
    return describe(status).label


def number_count():
    """Return the count of a request's numbers, as a subquery of a select of requests."""
    return PortNumber.select(fn.COUNT(PortNumber.id)).where(
        PortNumber.port_request == PortRequest.id
    )


def details(keys):
    """Return the rows for these (kind, id) keys, in the keys' order: a statement per kind."""
    wanted = {kind: [id_ for k, id_ in keys if k == kind] for kind in ("request", "fax")}
    found = {}
    if wanted["request"]:
        query = (
            PortRequest.select(
                PortRequest, Account.id, Account.name, number_count().alias("number_count")
            )
            .join(Account)
            .where(PortRequest.id.in_(wanted["request"]))
        )
        for request in query:
            found["request", request.id] = _request_row(request)
    if wanted["fax"]:
        query = (
            FaxTicket.select(FaxTicket, Account.id, Account.name)
            .join(Account)
            .where(FaxTicket.id.in_(wanted["fax"]))
        )
        for ticket in query:
            found["fax", ticket.id] = _fax_row(ticket)
    # A row deleted between the two statements is simply not shown.
    return [found[key] for key in map(tuple, keys) if key in found]


def _request_row(request):
    fields = request.fields
    name = fields.get("friendly_name")
    requested = fields.get("requested_date")
    return QueueRow(
        kind="request",
        id=request.id,
        account_id=request.account_id,
        account_name=request.account.name,
        name=name.strip() if isinstance(name, str) and name.strip() else "",
        status=request.status,
        numbers=request.number_count,
        since=request.status_changed_at,
        submitted=request.submitted_at or request.created_at,
        requested=requested if isinstance(requested, str) and requested else None,
        foc_date=request.foc_date,
        foc_window=request.foc_window,
    )


def _fax_row(ticket):
    return QueueRow(
        kind="fax",
        id=ticket.id,
        account_id=ticket.account_id,
        account_name=ticket.account.name,
        name=ticket.title,
        status=ticket.status,
        numbers=len(json.loads(ticket.numbers)),
        since=ticket.updated_at,
        submitted=ticket.created_at,
    )


def waited(since, now):
    """Say how long ago `since` was, in the largest whole unit: "3 days", "5 hours"."""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {unit}{'' if amount == 1 else 's'}"
    return "under a minute"
