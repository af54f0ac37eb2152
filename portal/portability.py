"""Which numbers can be ported, and exactly why not: every portability rule lives here.

`check_portability` applies the rules in the order of docs/domain.md, first failing rule wins:
parsing and NANP validity, region, duplicates within the input, then the inventory
(receiving, fail-safe, user, tracking numbers, and numbers claimed by other port requests).
The inventory is read in one statement whatever the count of numbers: the account's own
receiving numbers and users (a handful of rows) whole, and the platform-wide tracking numbers and
claims looked up in `taken_number`, one probe per number, with the list of numbers as one
parameter.
"""

import json
from dataclasses import dataclass
from typing import NamedTuple

from peewee import SQL, Case, Select, fn

from portal.db import Prepared, db, is_postgresql
from portal.models import ReceivingNumber, TakenNumber, User
from portal.numbers import classify, region_name

MAX_ENTRIES = 20_000

# The stable codes, in the order the rules apply, with the short label a summary shows.
REASONS = {
    "invalid_number": "Not a valid number",
    "not_us_ca": "Outside the US and Canada",
    "canada_ticket": "Canadian: open a ticket",
    "duplicate": "Repeated in this list",
    "receiving_number": "Your receiving number",
    "fail_safe_number": "Your fail-safe number",
    "user_number": "A user's number",
    "tracking_number": "Already on the platform",
    "in_active_port": "In another port request",
}

PORTABLE = "Portable."
PORTABLE_MOBILE = "Portable. The losing carrier will ask for the account PIN of a mobile number."
PORTABLE_TOLL_FREE = "Portable: toll-free numbers move by a RespOrg change, not an ordinary port."
CANADA = (
    "Canadian numbers can't be ported here: "
    "open a ticket with Carrier Relations and we will port it for you."
)
FAIL_SAFE = "This account's fail-safe number: calls fall back to it when routing fails."
TRACKING = "Already a tracking number on the platform."
NOT_US_CA = "only US and Canadian numbers can be ported."
IN_ACTIVE_PORT = "Already in another port request that is submitted, in progress or completed."

# Territories that share +1 count as US.
US_REGIONS = frozenset({"US", "PR", "VI", "GU", "MP", "AS"})


class Entry(NamedTuple):
    """One raw entry as the owner gave it, with its line (manual entry) or row (CSV) number.

    `where` says in words where the owner finds it: "line 3", "line 3, number 2", "row 7",
    "item 6" (a list sent to the API).
    """

    line: int
    text: str
    where: str = ""


def numbered(texts):
    """Return the texts as entries numbered from 1, each an "item" of the list."""
    return [Entry(line, text, f"item {line}") for line, text in enumerate(texts, 1)]


@dataclass(slots=True)
class Result:
    """The verdict on one entry."""

    line: int
    input: str
    e164: str | None
    portable: bool
    reason: str | None
    message: str
    number_type: str
    region: str | None
    where: str = ""  # as in Entry: "line 3", "row 7", "item 6"

    def as_json(self):
        """Return the fields the API and the CSV download share."""
        return {
            "input": self.input,
            "e164": self.e164,
            "portable": self.portable,
            "reason": self.reason,
            "message": self.message,
            "number_type": self.number_type,
            "region": self.region,
        }


@dataclass
class Summary:
    """Counts over a check: in all, portable, refused, and refused by reason (rule order)."""

    total: int
    portable: int
    refused: int
    by_reason: dict


def summarize(results):
    """Count the results, and the refused ones by reason in rule order."""
    counts = dict.fromkeys(REASONS, 0)
    for result in results:
        if result.reason is not None:
            counts[result.reason] += 1
    refused = sum(counts.values())
    by_reason = {code: count for code, count in counts.items() if count}
    return Summary(len(results), len(results) - refused, refused, by_reason)


def check_portability(entries, account, *, port_request_id=None):
    """Return one Result per entry, in input order, saying whether it can be ported and why not.

    Claims held by `port_request_id` itself do not count as "another request".
    """
    results = []
    first_seen = {}  # E.164 -> where its first portable-so-far occurrence is
    candidates = []  # results still portable after parsing, region and duplicates
    for line, text, where in entries:
        verdict = classify(text)
        result = Result(
            line, text, verdict.e164, False, None, verdict.problem, verdict.number_type,
            verdict.region, where or f"line {line}",
        )  # fmt: skip
        results.append(result)
        if verdict.problem is not None:
            result.reason = "invalid_number"
        elif verdict.region == "CA":
            result.reason, result.message = "canada_ticket", CANADA
        elif verdict.region not in US_REGIONS:
            result.reason = "not_us_ca"
            result.message = f"A number from {region_name(verdict.region)}: {NOT_US_CA}"
        elif verdict.e164 in first_seen:
            result.reason = "duplicate"
            result.message = f"Repeated: {first_seen[verdict.e164]} has the same number."
        else:
            first_seen[verdict.e164] = result.where
            candidates.append(result)
    if candidates:
        _check_inventory(candidates, account, port_request_id)
    return results


def _check_inventory(candidates, account, port_request_id):
    numbers = [result.e164 for result in candidates]
    receiving, users, tracking, claimed = _inventory(account, numbers, port_request_id)
    for result in candidates:
        number = result.e164
        if number in receiving:
            result.reason = "receiving_number"
            result.message = (
                f"An active receiving number of this account ({receiving[number]}): porting it "
                "would change how its tracking numbers ring."
            )
        elif number == account.fail_safe_number:
            result.reason, result.message = "fail_safe_number", FAIL_SAFE
        elif number in users:
            result.reason = "user_number"
            result.message = f"Assigned to {users[number]}, a user of this account."
        elif number in tracking:
            result.reason, result.message = "tracking_number", TRACKING
        elif number in claimed:
            result.reason, result.message = "in_active_port", IN_ACTIVE_PORT
        else:
            result.portable = True
            result.message = _portable_message(result.number_type)


def _portable_message(number_type):
    if number_type == "toll_free":
        return PORTABLE_TOLL_FREE
    if number_type == "mobile":
        return PORTABLE_MOBILE
    return PORTABLE


# Every check reads the inventory, so its SQL is built once (see Prepared), and it is ONE
# statement: on PostgreSQL each statement is a round trip to the server, which for a small check
# costs more than the lookups themselves. The account's receiving numbers and users (a handful of
# rows) are read whole: cheaper than sending (and, on PostgreSQL, quoting and parsing) thousands of
# numbers to match them. The platform-wide tracking numbers and claims are looked up in their one
# mirror, taken_number, with the list of numbers, sent once as one parameter whatever its size:
# SQLite caps the count of parameters, PostgreSQL takes an array. Each row says what it is.


def _listed(numbers):
    # The numbers as a table `listed` of one column, `number`, for `IN (SELECT ...)`: PostgreSQL
    # plans `= ANY(array)` of thousands as a scan of the whole table; a subquery walks the index.
    if is_postgresql(db):
        rows = Select(columns=[fn.unnest(numbers.cast("varchar[]")).alias("number")])
    else:
        rows = Select(from_list=[fn.json_each(numbers)], columns=[SQL("value").alias("number")])
    return rows.cte("listed")


def _inventory_query(account, numbers, port_request_id=None):
    listed = _listed(numbers)
    # One probe per number of the one table that says whether it is a tracking number, claimed,
    # or both (kept by the database's triggers: migrations/0010_taken_numbers.py). Tracking wins,
    # as in the rules' order, so a number both tracking and claimed is one 'tracking' row.
    kind = Case(None, [(TakenNumber.tracking, SQL("'tracking'"))], SQL("'claim'"))
    taken = TakenNumber.select(kind, TakenNumber.number, SQL("NULL")).where(
        TakenNumber.number.in_(listed.select(listed.c.number))
    )
    if port_request_id is not None:
        # Claims held by the request being checked are its own, not another request's; a number
        # it claims that is also a tracking number is still a tracking number.
        taken = taken.where(
            TakenNumber.tracking
            | TakenNumber.claim_request_id.is_null()
            | (TakenNumber.claim_request_id != port_request_id)
            | (TakenNumber.claim_account_id != account)
        )
    receiving = (
        ReceivingNumber.select(SQL("'receiving'"), ReceivingNumber.number, ReceivingNumber.name)
        .where(ReceivingNumber.account == account)
        .where(ReceivingNumber.active)
    )
    users = (
        User.select(SQL("'user'"), User.phone, User.name)
        .where(User.account == account)
        .where(User.phone.is_null(False))
    )
    return receiving.union_all(users).union_all(taken).with_cte(listed).tuples()


_INVENTORY = Prepared(_inventory_query, "account", "numbers")
_INVENTORY_FOR_REQUEST = Prepared(_inventory_query, "account", "numbers", "port_request_id")


def _inventory(account, numbers, port_request_id):
    """Return the account's receiving numbers and users' numbers (number -> name), and which of
    the numbers are tracking numbers and which are claimed by another port request."""
    listed = numbers if is_postgresql(db) else json.dumps(numbers)
    if port_request_id is None:
        rows = _INVENTORY.rows(account=account.id, numbers=listed)
    else:
        rows = _INVENTORY_FOR_REQUEST.rows(
            account=account.id, numbers=listed, port_request_id=port_request_id
        )
    receiving, users, tracking, claimed = {}, {}, set(), set()
    for kind, number, name in rows:
        if kind == "receiving":
            receiving[number] = name or "unnamed"
        elif kind == "user":
            users[number] = name
        elif kind == "tracking":
            tracking.add(number)
        else:
            claimed.add(number)
    return receiving, users, tracking, claimed
