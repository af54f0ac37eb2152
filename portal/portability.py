"""Which numbers can be ported, and exactly why not: every portability rule lives here.

`check_portability` applies the rules in the order of docs/domain.md, first failing rule wins:
parsing and NANP validity, region, duplicates within the input, then the inventory
(receiving, fail-safe, user, tracking numbers, and numbers claimed by other port requests).
Inventory lookups take one query per table whatever the count of numbers: the account's own
receiving numbers and users (a handful of rows) are read whole, and the platform-wide tracking
numbers and claims are looked up with the list of numbers as one parameter.
"""

import json
from dataclasses import dataclass
from typing import NamedTuple

from peewee import SQL, NodeList, Value

from portal.db import Prepared, db, is_postgresql
from portal.models import NumberClaim, ReceivingNumber, TrackingNumber, User
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
    receiving = _receiving_numbers(account)
    users = _user_numbers(account)
    tracking = _tracking_numbers(numbers)
    claimed = _claimed_numbers(account, numbers, port_request_id)
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


def _among(field, numbers):
    # One bound parameter for the whole list, so a check is one query per table whatever its
    # size: SQLite caps the count of parameters, PostgreSQL takes an array. (PostgreSQL plans
    # `= ANY(array)` of thousands as a scan of the whole table; a subquery walks the index.)
    if is_postgresql(db):
        listed = (SQL("IN (SELECT unnest("), numbers, SQL("::varchar[]))"))
    else:
        listed = (SQL("IN (SELECT value FROM json_each("), numbers, SQL("))"))
    return NodeList((field, NodeList(listed, glue="")))


def _numbers_value(numbers):
    """Return the numbers as `_among` binds them: an array, or for SQLite a JSON text."""
    return numbers if is_postgresql(db) else json.dumps(numbers)


# Every check runs these, so their SQL is built once (see Prepared). An account has a handful of
# receiving numbers and users: reading them whole is cheaper than sending (and, on PostgreSQL,
# quoting and parsing) thousands of numbers to match them.

_RECEIVING_NUMBERS = Prepared(
    lambda account: (
        ReceivingNumber.select(ReceivingNumber.number, ReceivingNumber.name)
        .where(ReceivingNumber.account == account)
        .where(ReceivingNumber.active)
        .tuples()
    ),
    "account",
)
_USER_NUMBERS = Prepared(
    lambda account: (
        User.select(User.phone, User.name)
        .where(User.account == account)
        .where(User.phone.is_null(False))
        .tuples()
    ),
    "account",
)
_TRACKING_NUMBERS = Prepared(
    lambda numbers: (
        TrackingNumber.select(TrackingNumber.number)
        .where(_among(TrackingNumber.number, numbers))
        .tuples()
    ),
    "numbers",
)
_CLAIMED_NUMBERS = Prepared(
    lambda numbers: (
        NumberClaim.select(NumberClaim.number).where(_among(NumberClaim.number, numbers)).tuples()
    ),
    "numbers",
)


def _receiving_numbers(account):
    rows = _RECEIVING_NUMBERS.rows(account=account.id)
    return {number: name or "unnamed" for number, name in rows}


def _user_numbers(account):
    return dict(_USER_NUMBERS.rows(account=account.id))


def _tracking_numbers(numbers):
    return {number for (number,) in _TRACKING_NUMBERS.rows(numbers=_numbers_value(numbers))}


def _claimed_numbers(account, numbers, port_request_id):
    if port_request_id is None:
        rows = _CLAIMED_NUMBERS.rows(numbers=_numbers_value(numbers))
        return {number for (number,) in rows}
    # A port request re-checking its own numbers: rare enough to build its SQL each time.
    listed = Value(_numbers_value(numbers), converter=False, unpack=False)
    query = (
        NumberClaim.select(NumberClaim.number)
        .where(_among(NumberClaim.number, listed))
        .where(
            NumberClaim.port_request_id.is_null()
            | (NumberClaim.port_request_id != port_request_id)
            | (NumberClaim.account != account)
        )
    )
    return {number for (number,) in query.tuples()}
