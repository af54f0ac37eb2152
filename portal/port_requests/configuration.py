"""Changing a draft's numbers: adding, configuring, applying to many, removing, re-routing.

No Flask: the step's pages (`configure`) call these inside `drafts.changing()` on a draft read
with `drafts.locked_draft`. Each takes a number of statements that does not grow with the rows
(an UPDATE per UPDATE_ROWS changed rows, an INSERT per INSERT_ROWS) and returns an Outcome: what
to tell the owner, and the line for the request's timeline when something changed.
"""

from dataclasses import dataclass, field

from peewee import ValuesList, chunked, fn

from portal.models import PortNumber, ReceivingNumber, ReceivingReroute, utcnow
from portal.models.requests import MAX_FIELD_TEXT
from portal.numbers import display
from portal.port_requests.drafts import INSERT_ROWS, replace_numbers, store_numbers
from portal.port_requests.number_rows import (
    CONFIGURED,
    left_as_shown,
    read_id,
    read_name,
    routing_targets,
    same_number,
    stored_rows,
    tracking_sources,
)
from portal.port_requests.review import ringing
from portal.portability import MAX_ENTRIES

# Changed rows per UPDATE: four parameters a row, well within SQLite's 32,766.
UPDATE_ROWS = 2_000
# Messages of one kind said one by one up to this many, the rest counted.
LISTED = 10
NOUNS = {"routing_id": "routing target", "tracking_source_id": "tracking source"}
CONFIGURED_EVENT = "Changed the routing, tracking sources or names of the numbers."


class CannotAdd(ValueError):
    """Numbers that cannot be added as they are; the message says why and what to do."""


@dataclass
class Outcome:
    """What a change did: what to tell the owner, and the timeline's line if anything changed."""

    said: list = field(default_factory=list)  # (category, message), in order
    event: str | None = None
    fresh: set = field(default_factory=set)  # positions of posted rows still as the page showed
    stale: int = 0  # posted rows whose position now holds another number

    def say(self, message, category="success"):
        self.said.append((category, message))

    def say_each(self, messages, category):
        for message in messages[:LISTED]:
            self.say(message, category)
        if len(messages) > LISTED:
            self.say(f"… and {len(messages) - LISTED:,} more like these.", category)

    @property
    def refused(self):
        return any(category == "error" for category, _ in self.said)


def plural(count, noun="number"):
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def rows_from_check(results, bulk=None):
    """Return the rows to store for a check's entries: each text as entered and, from a bulk
    CSV, the ids (None where the file's id was not one of the account's) and name of its row."""
    rows = []
    for result in results:
        asked = bulk.rows.get(result.line) if bulk is not None else None
        name = (asked.friendly_name or None) if asked is not None else None
        for what, text in (("number", result.input), ("name", name or "")):
            if len(text) > MAX_FIELD_TEXT:
                raise CannotAdd(
                    f"The {what} at {result.where} is {len(text):,} characters long: shorten it "
                    "and add the numbers again."
                )
        rows.append(
            {
                "phone_number": result.input,
                "routing_id": asked.routing_id if asked is not None else None,
                "tracking_source_id": asked.tracking_source_id if asked is not None else None,
                "friendly_name": name,
            }
        )
    return rows


def append_numbers(port_request, numbers):
    """Add number rows (dicts of NUMBER_FIELDS) after the request's; return the first position.

    Raise CannotAdd, storing nothing, when the request would hold more than MAX_ENTRIES.
    """
    start = (
        PortNumber.select(fn.COUNT(PortNumber.id))
        .where(PortNumber.port_request == port_request)
        .scalar()
    )
    if start + len(numbers) > MAX_ENTRIES:
        raise CannotAdd(
            f"This request has {start:,} numbers: adding {len(numbers):,} would pass the "
            f"{MAX_ENTRIES:,} one request can hold. Put them in a request of their own."
        )
    store_numbers(port_request, numbers, start=start)
    _touch(port_request)
    return start


def change_rows(port_request, account, posted, *, action, selected=(), apply=None, everyone=False):
    """Store the posted rows' configuration, then do the action on top of it.

    `posted` is {position: {column: text}} (see `number_rows.posted_rows`). `action` is "save",
    "apply" (`apply` is {column: posted id text} for routing_id and tracking_source_id, to the
    `selected` positions or `everyone`) or "remove" (the selected positions). Ids that are not
    the account's are never stored: the cell keeps its value and the Outcome says why.
    """
    rows = stored_rows(port_request)
    targets, sources = routing_targets(account), tracking_sources(account)
    names = {
        "routing_id": {target.id: target.name for target in targets},
        "tracking_source_id": {source.id: source.name for source in sources},
    }
    changed, outcome = _take_posted(rows, posted, names)
    chosen = [rows[index] for index in sorted(set(selected) & outcome.fresh)]
    if action == "remove" and chosen:
        _remove(port_request, rows, {row.index for row in chosen}, outcome)
    elif action == "apply":
        _apply(port_request, rows, changed, chosen, apply or {}, everyone, names, outcome)
    else:
        if action == "remove":
            outcome.say("Select the numbers to remove.", "error")
        count = _write(port_request, rows, changed, outcome)
        if action == "save":
            outcome.say(
                f"Saved the configuration: {plural(count)} changed."
                if count
                else "Nothing to save: the configuration was already as shown."
            )
    if outcome.stale:
        were = "was" if outcome.stale == 1 else "were"
        outcome.say(
            f"{plural(outcome.stale, 'row')} changed since this page was loaded and {were} not "
            "saved: check and save again.",
            "warning",
        )
    return outcome


def remove_refused(port_request, rows):
    """Remove every refused number (NumberRows of the request's Review) in one go."""
    outcome = Outcome()
    refused = {row.index for row in rows if row.refused}
    if refused:
        _remove(port_request, rows, refused, outcome, noun="refused number")
    else:
        outcome.say("There are no refused numbers to remove.")
    return outcome


def keep_receiving(port_request, account, receiving, posted):
    """Keep an active receiving number of the request by re-routing its tracking numbers.

    `posted` maps each tracking number that rings it to the new routing id as posted (absent or
    blank: not chosen yet). The new routing must be the account's and must not ring the receiving
    number itself. Stores one ReceivingReroute per tracking number (one without a tracking number
    when none rings it), replacing what was stored for it.
    """
    outcome = Outcome()
    if not _is_receiving_of(port_request, account, receiving):
        outcome.say("That number is not an active receiving number of this request.", "error")
        return outcome
    targets = routing_targets(account)
    allowed = {target.id for target in targets if target.number != receiving}
    itself = {str(target.id) for target in targets if target.number == receiving}
    choices, refused, shown = {}, [], display(receiving)
    for tracking in ringing(account, [receiving])[receiving]:
        text = (posted.get(tracking) or "").strip()
        choices[tracking], problem = read_id(text, allowed, None, "routing target")
        if problem:
            why = f"routing target {text} rings {shown} itself" if text in itself else problem
            refused.append(f"{display(tracking)}: {why}: choose another.")
    _store_reroute(port_request, receiving, choices)
    missing = sum(value is None for value in choices.values())
    if not choices:
        outcome.say(f"Kept {shown}: no tracking number rings it, so none needs a new routing.")
    elif missing:
        outcome.say(
            f"Kept {shown}, but {missing:,} of its {plural(len(choices), 'tracking number')} "
            "still need a new routing before it counts as portable.",
            "warning",
        )
    else:
        outcome.say(
            f"Kept {shown}: its {plural(len(choices), 'tracking number')} will ring their new "
            "routings when the port completes."
        )
    outcome.say_each(refused, "error")
    outcome.event = f"Kept receiving number {shown}, re-routing its tracking numbers."
    return outcome


def undo_keep(port_request, receiving):
    """Stop keeping a receiving number: its re-routes go, and it is refused again."""
    outcome, shown = Outcome(), display(receiving)
    if _forget_reroutes(port_request, [receiving]):
        outcome.say(f"{shown} is no longer kept: it is listed with the refused numbers.")
        outcome.event = f"Stopped keeping receiving number {shown}."
    else:
        outcome.say("That number was not kept in this request.", "warning")
    return outcome


def _take_posted(rows, posted, names):
    """Set the posted values on the rows (in memory); return (ids of rows changed, Outcome).

    A posted row whose position now holds another number (the list changed since the page was
    loaded) is left alone and counted as stale; the others are `Outcome.fresh`.
    """
    changed, outcome, refused = set(), Outcome(), []
    for index, values in sorted(posted.items()):
        if index >= len(rows) or not same_number(values.get("phone_number"), rows[index].row):
            outcome.stale += 1
            continue
        outcome.fresh.add(index)
        number = rows[index]
        for column in CONFIGURED:
            if column not in values or left_as_shown(values, column):
                continue
            stored = getattr(number.row, column)
            if column == "friendly_name":
                value, problem = read_name(values[column], stored)
            else:
                value, problem = read_id(values[column], names[column], stored, NOUNS[column])
            if problem:
                refused.append(f"{number.shown}: {problem}: it was left as it was.")
            if value != stored:
                setattr(number.row, column, value)
                changed.add(number.row.id)
    outcome.say_each(refused, "error")
    return changed, outcome


def _apply(port_request, rows, changed, chosen, apply, everyone, names, outcome):
    """Apply the chosen routing target and tracking source to the chosen rows or to all."""
    values, named, refused = {}, [], False
    for column, noun in NOUNS.items():
        value, problem = read_id(apply.get(column), names[column], None, noun)
        if problem:
            outcome.say(f"Not applied: {problem}.", "error")
            refused = True
        elif value is not None:
            values[column] = value
            word = "routing" if column == "routing_id" else noun
            named.append(f"{word} {names[column][value]}")
    if refused or not values or not (everyone or chosen):
        if not refused:
            outcome.say(
                "Select the numbers to apply it to, or choose every number in this request."
                if values
                else "Choose a routing target or a tracking source to apply.",
                "error",
            )
        _write(port_request, rows, changed, outcome)
        return
    if everyone:
        _write(port_request, rows, changed, outcome)
        count = _apply_to_all(port_request, values)
    else:
        count = len(chosen)
        for number in chosen:
            for column, value in values.items():
                if getattr(number.row, column) != value:
                    setattr(number.row, column, value)
                    changed.add(number.row.id)
        _write(port_request, rows, changed, outcome)
    outcome.event = CONFIGURED_EVENT
    outcome.say(f"Applied {' and '.join(named)} to {plural(count)}.")


def _write(port_request, rows, changed, outcome):
    """Store the configuration of the changed rows: one UPDATE ... FROM (VALUES ...) per
    UPDATE_ROWS rows, joined on the row's id (a CASE of a thousand ids would be read through
    for every row)."""
    written = [number.row for number in rows if number.row.id in changed]
    for batch in chunked(written, UPDATE_ROWS):
        # The list's columns are column1 (the id), column2... on both databases: SQLite names
        # no others.
        values = ValuesList(
            [(row.id, *(_db_value(row, column) for column in CONFIGURED)) for row in batch],
            alias="changed",
        )
        # Cast: on PostgreSQL a column of the list that holds only NULLs would be text.
        PortNumber.update(
            {
                PortNumber.routing_id: values.c.column2.cast("integer"),
                PortNumber.tracking_source_id: values.c.column3.cast("integer"),
                PortNumber.friendly_name: values.c.column4,
            }
        ).from_(values).where(PortNumber.id == values.c.column1).execute()
    if written:
        _touch(port_request)
        outcome.event = CONFIGURED_EVENT
    return len(written)


def _apply_to_all(port_request, values):
    """Set {column: value} on every number of the request, in one UPDATE; return the count."""
    count = PortNumber.update(values).where(PortNumber.port_request == port_request).execute()
    _touch(port_request)
    return count


def _remove(port_request, rows, removed, outcome, noun="number"):
    """Remove the rows at these positions and number the rest from 0 again (a DELETE and an
    INSERT per INSERT_ROWS rows); forget the re-routes of receiving numbers no longer in it."""
    remaining = [number.row for number in rows if number.index not in removed]
    replace_numbers(port_request, [_as_stored(row) for row in remaining])
    gone = {rows[index].row.e164 for index in removed} - {row.e164 for row in remaining}
    gone.discard(None)
    if gone:
        _forget_reroutes(port_request, gone)
    _touch(port_request)
    outcome.say(f"Removed {plural(len(removed), noun)}.")
    outcome.event = f"Removed {plural(len(removed), noun)}."


def _is_receiving_of(port_request, account, receiving):
    """Say whether the number is in the request and an active receiving number of the account."""
    in_request = PortNumber.select().where(
        (PortNumber.port_request == port_request) & (PortNumber.e164 == receiving)
    )
    active = ReceivingNumber.select().where(
        (ReceivingNumber.account == account)
        & (ReceivingNumber.number == receiving)
        & ReceivingNumber.active
    )
    return in_request.exists() and active.exists()


def _store_reroute(port_request, receiving, choices):
    ReceivingReroute.delete().where(
        (ReceivingReroute.port_request == port_request)
        & (
            (ReceivingReroute.receiving_number == receiving)
            | ReceivingReroute.tracking_number.in_(list(choices))
        )
    ).execute()
    rows = [
        {
            "port_request": port_request,
            "receiving_number": receiving,
            "tracking_number": tracking,
            "routing_id": routing_id,
        }
        for tracking, routing_id in choices.items()
    ] or [{"port_request": port_request, "receiving_number": receiving}]
    for batch in chunked(rows, INSERT_ROWS):
        ReceivingReroute.insert_many(batch).execute()
    _touch(port_request)


def _forget_reroutes(port_request, receiving_numbers):
    """Delete the re-routes of these receiving numbers; return how many rows went."""
    gone = (
        ReceivingReroute.delete()
        .where(
            (ReceivingReroute.port_request == port_request)
            & ReceivingReroute.receiving_number.in_(list(receiving_numbers))
        )
        .execute()
    )
    if gone:
        _touch(port_request)
    return gone


def _db_value(row, column):
    return getattr(PortNumber, column).db_value(getattr(row, column))


def _touch(port_request):
    port_request.updated_at = utcnow()
    port_request.save(only=[type(port_request).updated_at])


def _as_stored(row):
    return {
        "phone_number": row.phone_number,
        "routing_id": row.routing_id,
        "tracking_source_id": row.tracking_source_id,
        "friendly_name": row.friendly_name,
        "status": row.status,
        "reason": row.reason,
    }
