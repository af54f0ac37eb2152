"""What a page of the queue shows of each row it lists: a port request's or fax ticket's name,
account, status, numbers and dates, read for the page's keys only, in one statement; and the
words for a status and for the time in it (no Flask)."""

import json
from dataclasses import dataclass
from datetime import date, datetime

from peewee import Value, fn

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
    """Return the rows for these (kind, id) keys, in the keys' order, in one statement."""
    wanted = {kind: [id_ for k, id_ in keys if k == kind] for kind in ("request", "fax")}
    parts = []
    if wanted["request"]:
        parts.append(
            PortRequest.select(
                Value("request").alias("kind"),
                PortRequest.id,
                PortRequest.account,
                Account.name.alias("account_name"),
                PortRequest.status,
                number_count().alias("numbers"),
                PortRequest.status_changed_at.alias("since"),
                fn.COALESCE(PortRequest.submitted_at, PortRequest.created_at).alias("submitted"),
                PortRequest.foc_date,
                PortRequest.foc_window,
                # The owner's fields: the name and the requested date are in them.
                PortRequest.details.alias("fields"),
                Value(None).alias("title"),
            )
            .join(Account)
            .where(PortRequest.id.in_(wanted["request"]))
        )
    if wanted["fax"]:
        parts.append(
            FaxTicket.select(
                Value("fax").alias("kind"),
                FaxTicket.id,
                FaxTicket.account,
                Account.name.alias("account_name"),
                FaxTicket.status,
                Value(None).alias("numbers"),
                FaxTicket.updated_at.alias("since"),
                FaxTicket.created_at.alias("submitted"),
                Value(None).alias("foc_date"),
                Value(None).alias("foc_window"),
                FaxTicket.numbers.alias("fields"),  # a JSON list, counted here
                FaxTicket.title,
            )
            .join(Account)
            .where(FaxTicket.id.in_(wanted["fax"]))
        )
    if not parts:
        return []
    query = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    found = {(row["kind"], row["id"]): _row(row) for row in query.dicts()}
    # A row deleted between the two statements is simply not shown.
    return [found[key] for key in map(tuple, keys) if key in found]


def _row(row):
    """Return the QueueRow of one row of `details`' statement."""
    shared = {
        key: row[key]
        for key in ("kind", "id", "account_name", "status", "since", "submitted", "foc_window")
    }
    if row["kind"] == "fax":
        numbers = json.loads(row["fields"])
        return QueueRow(
            **shared, account_id=row["account"], name=row["title"], numbers=len(numbers)
        )
    fields = json.loads(row["fields"])
    name, requested = fields.get("friendly_name"), fields.get("requested_date")
    return QueueRow(
        **shared,
        account_id=row["account"],
        name=name.strip() if isinstance(name, str) else "",
        numbers=row["numbers"],
        requested=requested if isinstance(requested, str) and requested else None,
        foc_date=row["foc_date"],
    )


def day(moment):
    """Return a date as the queue writes it: "3 Feb 2027"."""
    return f"{moment.day} {moment:%b %Y}"


def waited(since, now):
    """Say how long ago `since` was, in the largest whole unit: "3 days", "5 hours"."""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {unit}{'' if amount == 1 else 's'}"
    return "under a minute"
