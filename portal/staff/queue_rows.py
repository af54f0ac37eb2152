"""The queue's rows: submitted port requests and fax tickets in one list, filtered, sorted, paged
and counted by status (no Flask).

A page is read in two steps, so its cost does not grow with the queue: one statement orders the
keys (kind, id) of every matching row by the one column the sort needs and keeps a page of
them; then one statement per kind reads what the page shows for those keys only (the owner's
fields are JSON, and parsing ten thousand of them to show fifty would be the whole cost).
"""

import json
from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import add
from typing import NamedTuple

from peewee import SQL, Case, Expression, Value, fn

from portal.db import db, is_postgresql
from portal.models import STATUSES, Account, FaxTicket, PortNumber, PortRequest
from portal.numbers import classify
from portal.staff import queue_details
from portal.staff.queue_details import number_count

# Every status a submitted request can have (drafts are the owner's own business).
SHOWN = STATUSES[1:]
# What still needs Carrier Relations: the queue's default.
OPEN = ("submitted", "in_review", "action_required", "foc_scheduled")
SORTS = ("waiting", "name", "account", "status", "numbers", "submitted", "requested", "foc")
# What a number typed in the search box is made of.
PHONE_CHARACTERS = frozenset("0123456789 +-.()/")
# How many keys the export reads the details of at once (an IN list every database takes).
DETAIL_BATCH = 500


@dataclass(frozen=True)
class Filters:
    """What the queue is narrowed to, and its order."""

    statuses: tuple = OPEN
    account_id: int | None = None
    foc_from: date | None = None
    foc_to: date | None = None
    e164: str | None = None  # a number the request or ticket holds
    name: str | None = None  # text in the request's or ticket's name, or its account's
    sort: str = "waiting"
    descending: bool = True

    @property
    def by_foc(self):
        return self.foc_from is not None or self.foc_to is not None


class Search(NamedTuple):
    """What the search box asks for: a number (E.164) or text in a name, and a note about it."""

    e164: str | None
    name: str | None
    note: str | None = None


def read_search(text):
    """Read the search box: a phone number in any format, else text to find in names."""
    if not text:
        return Search(None, None)
    verdict = classify(text)
    if verdict.e164:
        return Search(verdict.e164, None)
    note = None
    if sum(char.isdigit() for char in text) >= 7 and set(text) <= PHONE_CHARACTERS:
        problem = verdict.problem.rstrip(".")
        note = (
            f"“{text}” is not a whole phone number ({problem[:1].lower()}{problem[1:]}), so it "
            "was looked for in the names instead."
        )
    return Search(None, text, note)


def counts(filters):
    """Return {status: how many rows} for the filters but their statuses, in one statement."""
    parts = [
        _requests(filters, SHOWN, PortRequest.status),
        _fax(filters, SHOWN, FaxTicket.status),
    ]
    union = reduce(add, [part for part in parts if part is not None]).alias("q")
    grouped = (
        union.select_from(SQL("status"), fn.COUNT(SQL("*")).alias("n"))
        .group_by(SQL("status"))
        .tuples()
    )
    found = dict(grouped)
    return {status: found.get(status, 0) for status in SHOWN}


class Listing:
    """The filtered queue as `Page.of` reads it, its total known from `counts` already."""

    def __init__(self, filters, total):
        self.filters = filters
        self.total = total

    def count(self):
        return self.total

    def paginate(self, number, per_page):
        keys = _keys(self.filters).paginate(number, per_page)
        return queue_details.details(list(keys))


def everything(filters):
    """Return every row the filters match, in their order (for the export)."""
    keys = list(_keys(filters))
    rows = []
    for start in range(0, len(keys), DETAIL_BATCH):
        rows.extend(queue_details.details(keys[start : start + DETAIL_BATCH]))
    return rows


def _keys(filters):
    """Return the (kind, id) of every matching row, ordered by the filters' sort, then by the
    longest in its status."""
    key = _SORT_KEYS[filters.sort]
    parts = [
        _requests(filters, filters.statuses, key[0](), kind=True),
        _fax(filters, filters.statuses, key[1](), kind=True),
    ]
    union = reduce(add, [part for part in parts if part is not None]).alias("q")
    # Waiting longest is the oldest change: "descending" waiting time is ascending time.
    descending = filters.descending != (filters.sort == "waiting")
    order = SQL("sort_key").desc() if descending else SQL("sort_key").asc()
    return (
        union.select_from(SQL("kind"), SQL("id"))
        # Rows without the value (no FOC date yet) come last either way, on both databases.
        .order_by(SQL("sort_key IS NULL"), order, SQL("since"), SQL("kind"), SQL("id"))
        .tuples()
    )


def _requests(filters, statuses, column, kind=False):
    """Return the port request half of the union (None when nothing of it can match)."""
    statuses = [status for status in statuses if status in SHOWN]
    if not statuses:
        return None
    columns = []
    if kind:
        columns = [
            Value("request").alias("kind"),
            PortRequest.id,
            PortRequest.status_changed_at.alias("since"),
        ]
    query = PortRequest.select(*columns, column.alias("sort_key" if kind else "status"))
    if kind and filters.sort == "account":
        query = query.join(Account)
    query = query.where(PortRequest.status.in_(statuses))
    if filters.account_id is not None:
        query = query.where(PortRequest.account == filters.account_id)
    if filters.foc_from is not None:
        query = query.where(PortRequest.foc_date >= filters.foc_from)
    if filters.foc_to is not None:
        query = query.where(PortRequest.foc_date <= filters.foc_to)
    if filters.e164 is not None:
        holding = PortNumber.select(PortNumber.port_request).where(PortNumber.e164 == filters.e164)
        query = query.where(PortRequest.id.in_(holding))
    if filters.name is not None:
        named = _json_text(PortRequest.details, "friendly_name").contains(filters.name)
        if not is_postgresql(db) and _written_as_is(filters.name):
            # Then a name holding the text holds it in the JSON as typed (SQLite's LIKE folds
            # ASCII letters only, both ways): a LIKE on the JSON text passes over most rows
            # before any of it is parsed, five times faster. PostgreSQL's ILIKE spends its time
            # folding case, which such a test would only do twice.
            named = PortRequest.details.contains(filters.name) & named
        query = query.where(named | PortRequest.account.in_(_accounts_named(filters.name)))
    return query


def _fax(filters, statuses, column, kind=False):
    """Return the fax ticket half of the union (None when nothing of it can match)."""
    statuses = [status for status in statuses if status in SHOWN]
    # A ticket has no FOC date: a FOC range leaves every ticket out.
    if not statuses or filters.by_foc:
        return None
    columns = []
    if kind:
        columns = [Value("fax").alias("kind"), FaxTicket.id, FaxTicket.updated_at.alias("since")]
    query = FaxTicket.select(*columns, column.alias("sort_key" if kind else "status"))
    if kind and filters.sort == "account":
        query = query.join(Account)
    query = query.where(FaxTicket.status.in_(statuses))
    if filters.account_id is not None:
        query = query.where(FaxTicket.account == filters.account_id)
    if filters.e164 is not None:
        # The numbers are a JSON list of E.164 strings: the quotes make it a whole number.
        query = query.where(FaxTicket.numbers.contains(json.dumps(filters.e164)))
    if filters.name is not None:
        query = query.where(
            FaxTicket.title.contains(filters.name)
            | FaxTicket.account.in_(_accounts_named(filters.name))
        )
    return query


def _accounts_named(text):
    """Return the ids of the accounts whose name holds the text (a subquery, run once)."""
    return Account.select(Account.id).where(Account.name.contains(text))


def _written_as_is(text):
    """Say whether JSON writes the text as it is (no escape: plain printable ASCII, no quote or
    backslash)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _json_text(column, key):
    """Return the SQL for the text at `key` of a JSON column, on either database."""
    if is_postgresql(db):
        return Expression(column.cast("json"), "->>", Value(key))
    return fn.json_extract(column, f"$.{key}")


def _json_length(column):
    return fn.json_array_length(column.cast("json") if is_postgresql(db) else column)


def _status_rank(column):
    return Case(column, [(status, rank) for rank, status in enumerate(STATUSES)])


# For each sort, the column it orders by: (port requests', fax tickets'), built per query.
_SORT_KEYS = {
    "waiting": (lambda: PortRequest.status_changed_at, lambda: FaxTicket.updated_at),
    "submitted": (lambda: PortRequest.submitted_at, lambda: FaxTicket.created_at),
    "name": (
        lambda: fn.LOWER(_json_text(PortRequest.details, "friendly_name")),
        lambda: fn.LOWER(FaxTicket.title),
    ),
    "account": (lambda: fn.LOWER(Account.name), lambda: fn.LOWER(Account.name)),
    "status": (
        lambda: _status_rank(PortRequest.status),
        lambda: _status_rank(FaxTicket.status),
    ),
    "numbers": (number_count, lambda: _json_length(FaxTicket.numbers)),
    "requested": (
        lambda: _json_text(PortRequest.details, "requested_date"),
        lambda: Value(None),
    ),
    "foc": (lambda: PortRequest.foc_date, lambda: Value(None)),
}
