"""Correcting a request Carrier Relations sent back: the fields its carrier codes open, storing
only those, taking numbers out, and what still stands between it and a resubmit (no Flask).

Staff's codes (`carrier_codes`) name the paths the owner may change. The owner's save stores those
paths and nothing else; the wizard's rules and the bill comparison run on the whole request as
ever, and what they find on those paths (plus the LOA, which any change on it voids) is what a
resubmit waits for. A problem elsewhere is not the owner's to fix here, so it cannot hold the
request back: staff see it on the console. One exception: a requested date that time made wrong
(passed, or now too soon) is opened too, whatever the codes, since the LOA prints it and a new
LOA cannot be made while the date is an error.
"""

from peewee import chunked

from portal.models import NumberClaim, PortNumber, PortRequest, ReceivingReroute, utcnow
from portal.number_lists import NumberListError, entries_from_text
from portal.numbers import classify, display
from portal.port_requests.carrier_codes import CODES, fields_for
from portal.port_requests.dates import check_requested_date
from portal.port_requests.drafts import (
    INSERT_ROWS,
    changing,
    locked_draft,
    merge_fields,
    record_save,
)
from portal.port_requests.events import record_event
from portal.port_requests.fields import LABELS, Form, label

# The one status in which a request is corrected.
FIXABLE = ("action_required",)
# Not fields of the JSON shape: the owner takes numbers out, or uploads a newer bill.
ACTIONS = ("numbers", "bill")
# A change to anything the LOA prints voids its signature, whatever the codes say.
LOA = "loa"
DATE = "requested_date"
# What a refusal calls the paths that are no field of the form.
WORDS = {
    "bill": "the bill",
    "bill.statement_date": "the bill's statement date",
    "loa": "the signed LOA",
    "numbers": "the numbers",
    "billing_address_same": "the billing address",
    "requested_date_choice": "the requested date",
}
# Why an action the codes keep closed is refused.
REFUSED = {
    "numbers": "Carrier Relations did not ask for numbers to be taken out of this request: "
    "nothing was removed.",
    "bill": "Carrier Relations did not ask for a newer bill for this request: nothing was stored.",
}
# How many numbers a timeline line names before "and N more".
NAMED_NUMBERS = 5
# How much of a typed entry that is no number a refusal quotes (it goes into the session's flash).
SHOWN_TEXT = 40


class FixRefused(ValueError):
    """The correction cannot be made as asked; nothing was written. str() says why."""


def scope(port_request, problems=()):
    """Return the paths the request's carrier codes let its owner change (with "numbers" and
    "bill" when they are open), and the requested date when `problems` name an error on it."""
    paths = fields_for(port_request.codes)
    stale = any(p.field == DATE and p.severity == "error" for p in problems)
    if stale and DATE not in paths:
        paths.append(DATE)
    return paths


def date_problems(fields, *, today, lead_business_days):
    """Return the problems of the requested date alone, as the rules find them today."""
    form = Form(fields)
    check_requested_date(form, today=today, lead_business_days=lead_business_days)
    return form.found


def explained(port_request):
    """Return [(code, CarrierCode)] of the request's codes that are known, in staff's order."""
    return [(code, CODES[code]) for code in port_request.codes if code in CODES]


def field_paths(paths):
    """Return the paths that are fields of the form (not "numbers" nor "bill")."""
    return [path for path in paths if path not in ACTIONS and path in LABELS]


def in_scope(field, paths):
    """Say whether a problem's field is one the owner may fix here (or the LOA)."""
    if field == LOA:
        return True
    return any(
        field == path or field.startswith(f"{path}.") or field.startswith(f"{path}[")
        for path in paths
    )


def split(problems, paths):
    """Return (the problems the owner fixes here, the others)."""
    mine = [problem for problem in problems if in_scope(problem.field, paths)]
    return mine, [problem for problem in problems if not in_scope(problem.field, paths)]


def blocking(found):
    """Return what stands between a Review of a request sent back and its resubmit: each error
    and unconfirmed warning on a path its codes open, and the LOA's."""
    return split(found.problems, scope(found.port_request, found.problems))[0]


def words_of(path):
    """Return the path as a sentence names it: "the ZIP code", "the numbers"."""
    if path.startswith("numbers["):
        return "the numbers"
    return WORDS.get(path) or label(path)


def left_message(problems):
    """Return the refusal that names what is left: "fix the ZIP code and sign the LOA first"."""
    asks = []
    for problem in problems:
        if problem.field == LOA:
            ask = "get the new LOA signed" if problem.severity == "error" else "check the LOA"
        elif problem.severity == "error":
            ask = f"fix {words_of(problem.field)}"
        else:
            ask = f"check {words_of(problem.field)}"
        if ask not in asks:
            asks.append(ask)
    said = asks[0] if len(asks) == 1 else ", ".join(asks[:-1]) + " and " + asks[-1]
    return f"Nothing was resubmitted: {said} first."


def corrected(stored, posted, shown, paths):
    """Return (the fields with the open paths set as posted, the paths that changed).

    Only `paths` are read from `posted`; whatever else it holds is left as stored. A path the
    page left as it showed it (`shown`) keeps the stored value, which another tab may have
    changed since; without `shown`, every open path counts as posted.
    """
    fields = dict(stored)
    changed = []
    for path in field_paths(paths):
        value = _get(posted, path)
        if isinstance(shown, dict) and value == _get(shown, path):
            continue
        if value == _get(stored, path):
            continue
        _set(fields, path, value)
        changed.append(path)
    return fields, changed


def save(account, request_id, *, user, posted, shown, today, lead_business_days):
    """Store the open paths as posted on the request sent back; return (it, the changed paths).

    Return (None, []) when the account has no such request; raise drafts.NotADraft when it is no
    longer waiting for a correction.
    """
    with changing():
        port_request = locked_draft(account, request_id, FIXABLE)
        if port_request is None:
            return None, []
        stored = port_request.fields
        dated = date_problems(stored, today=today, lead_business_days=lead_business_days)
        fields, changed = corrected(stored, posted, shown, scope(port_request, dated))
        if changed:
            tops = {path.partition(".")[0] for path in changed}
            merge_fields(port_request, {top: fields[top] for top in tops})
            record_save(port_request, "corrected", f"Corrected {_listed(changed)}.", user=user)
        return port_request, changed


def require(port_request, action):
    """Raise FixRefused unless the request's codes open `action` ("numbers" or "bill")."""
    if action not in scope(port_request):
        raise FixRefused(REFUSED[action])


def remove_numbers(account, request_id, *, user, number_ids=(), typed=""):
    """Take numbers out of the request sent back: those ticked (PortNumber ids) and those typed
    (any format, one list). Their rows, their claims and the re-routes of receiving numbers among
    them go. Return (the request, the rows taken out).

    Raise FixRefused (nothing removed) when its codes do not open the numbers, when a typed
    number is not one of its numbers, when nothing was chosen, or when none would be left
    (cancelling is how a whole port stops).
    """
    wanted = {int(text) for text in number_ids if str(text).isdigit() and len(str(text)) < 12}
    typed_e164 = _typed(typed)
    with changing():
        port_request = locked_draft(account, request_id, FIXABLE)
        if port_request is None:
            return None, []
        require(port_request, "numbers")
        rows = port_request.numbers()
        if missing := sorted(set(typed_e164) - {row.e164 for row in rows}, key=typed_e164.index):
            raise FixRefused(_not_in_request(missing))
        chosen = [row for row in rows if row.id in wanted or row.e164 in typed_e164]
        if not chosen:
            raise FixRefused(
                "Tick the numbers to take out of the request, or type them: none was chosen."
            )
        if len(chosen) == len(rows):
            raise FixRefused(
                "At least one number must stay in the request: to stop the whole port, cancel "
                "the request instead. Nothing was removed."
            )
        gone = sorted({row.e164 for row in chosen if row.e164})
        for batch in chunked([row.id for row in chosen], INSERT_ROWS):
            PortNumber.delete().where(PortNumber.id.in_(batch)).execute()
        for batch in chunked(gone, INSERT_ROWS):
            NumberClaim.delete().where(
                (NumberClaim.port_request == port_request) & NumberClaim.number.in_(batch)
            ).execute()
            ReceivingReroute.delete().where(
                (ReceivingReroute.port_request == port_request)
                & ReceivingReroute.receiving_number.in_(batch)
            ).execute()
        port_request.updated_at = utcnow()
        port_request.save(only=[PortRequest.updated_at])
        names = [display(row.e164) if row.e164 else row.phone_number for row in chosen]
        record_event(
            port_request,
            "numbers_removed",
            f"Took {_count(len(chosen))} out of the request: {_named(names)}.",
            user=user,
        )
        return port_request, chosen


def _typed(text):
    """Return the E.164 of each number typed, in order; raise FixRefused naming one that is not a
    phone number."""
    try:
        entries = entries_from_text(text or "")
    except NumberListError as refused:
        raise FixRefused(f"{refused} Nothing was removed.") from None
    found = []
    for entry in entries:
        number = classify(entry.text)
        if number.e164 is None:
            shown = entry.text if len(entry.text) <= SHOWN_TEXT else entry.text[:SHOWN_TEXT] + "…"
            raise FixRefused(f"“{shown}” ({entry.where}): {number.problem} Nothing was removed.")
        if number.e164 not in found:
            found.append(number.e164)
    return found


def _not_in_request(numbers):
    one = len(numbers) == 1
    return (
        f"{_named([display(number) for number in numbers])} {'is' if one else 'are'} not in this "
        "request, so nothing was removed: check the typed numbers."
    )


def _named(names):
    named = ", ".join(names[:NAMED_NUMBERS])
    more = len(names) - NAMED_NUMBERS
    return f"{named} and {more:,} more" if more > 0 else named


def _get(fields, path):
    if not isinstance(fields, dict):
        return None
    top, _, name = path.partition(".")
    if not name:
        return fields.get(top)
    section = fields.get(top)
    return section.get(name) if isinstance(section, dict) else None


def _set(fields, path, value):
    top, _, name = path.partition(".")
    if not name:
        fields[top] = value
        return
    section = dict(fields[top]) if isinstance(fields.get(top), dict) else {}
    if value is None:
        section.pop(name, None)
    else:
        section[name] = value
    fields[top] = section


def _listed(paths):
    names = [label(path) for path in paths]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _count(count):
    return "1 number" if count == 1 else f"{count:,} numbers"
