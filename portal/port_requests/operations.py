"""Submitting a port request, resubmitting it after a correction, and cancelling it: what each
checks, writes and tells.

No Flask: the Submit, Fix and Cancel pages call these, and so could the API or a script. Each
runs in one transaction under the request's lock (`drafts.changing`) and writes all of its rows
or none.

A submitted request claims its numbers in `number_claim`, whose unique number is what stops two
requests from porting the same number. Two submits sharing a number at the same moment: on SQLite
the second waits for the first's write lock and its review then finds the number claimed; on
PostgreSQL both may pass their review, and the second's insert of the claims meets the unique
index, waits for the first to commit, and fails. Either way the loser writes nothing and is told
which numbers are taken.
"""

from peewee import IntegrityError, Value

from portal import mail, notify, webhooks
from portal.models import NumberClaim, PortNumber, PortRequest, RequestEvent, utcnow
from portal.notify import title_of
from portal.numbers import display
from portal.port_requests import corrections, loa
from portal.port_requests.drafts import changing
from portal.port_requests.events import record_event
from portal.port_requests.review import COMPLETE, review
from portal.port_requests.rules import Problem
from portal.port_requests.statuses import describe
from portal.staff.transitions import MOVES, TransitionRefused
from signing.envelopes import Party

# A request may be cancelled until staff set the FOC date (foc_scheduled), not once it is final.
CANCELLABLE = MOVES["cancel"].sources
# Longer than a reason an owner types; short enough for a line of the timeline.
MAX_REASON = 1_000
# The agreements are accepted in the browser, not fields with problems of their own.
AGREEMENTS_NEEDED = Problem(
    "agreements",
    "agreements_required",
    "error",
    "Accept every statement on the Agreements step.",
)
# The timeline's kinds of what an owner changes while correcting: staff's email lists them.
CORRECTION_EVENTS = ("corrected", "numbers_removed", "document", "confirmed", "loa_signed")
# How many taken numbers a refusal names before it says "and N more".
NAMED_NUMBERS = 10


class SubmitRefused(Exception):
    """The request cannot be submitted, and nothing was written.

    `problems` holds what still stands in the way (each error, each unconfirmed warning).
    """

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


class NumbersTaken(SubmitRefused):
    """Another active or completed request holds some of the numbers (`numbers`, E.164)."""

    def __init__(self, numbers, problems=()):
        self.numbers = list(numbers)
        super().__init__(taken_message(self.numbers), problems)


class NotSubmittable(SubmitRefused):
    """The request has left draft (submitted already, or further on): `status` says where."""

    def __init__(self, status):
        self.status = status
        super().__init__(
            f"This request is {describe(status).label.lower()} already: only a draft is submitted."
        )


class ResubmitRefused(SubmitRefused):
    """The correction is not finished: `problems` holds what is left on the paths the codes
    open (and the LOA); nothing was written."""


class CancelRefused(Exception):
    """The request cannot be cancelled in its status; nothing was written."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def submit(account, request_id, *, user, ip, today, lead_business_days):
    """Submit the account's draft: claim its numbers, log it, queue the owner's email.

    Return the submitted PortRequest, or None when the account has no such request. Raise
    NotSubmittable when it is no draft, NumbersTaken when another request holds a number, and
    SubmitRefused with the problems left (errors and unconfirmed warnings) otherwise.
    """
    try:
        with changing():
            held = loa.open_envelopes(request_id)
            port_request = PortRequest.find(account, request_id, for_update=True)
            if port_request is None:
                return None
            if port_request.status != "draft":
                raise NotSubmittable(port_request.status)
            found = review(port_request, today=today, lead_business_days=lead_business_days)
            taken = [result.e164 for result in found.checked if result.reason == "in_active_port"]
            if taken:
                raise NumbersTaken(taken, found.problems)
            left = blocking(found)
            if left:
                raise SubmitRefused(_blocked_message(left), left)
            now = utcnow()
            moved = (
                PortRequest.update(
                    status="submitted", updated_at=now, status_changed_at=now, submitted_at=now
                )
                .where((PortRequest.id == port_request.id) & (PortRequest.status == "draft"))
                .execute()
            )
            if moved != 1:  # the row lock makes this unreachable; the condition keeps it true
                raise NotSubmittable(PortRequest.get_by_id(port_request.id).status)
            claim_numbers(port_request, now)
            (
                PortNumber.update(status="submitted", reason=None)
                .where(PortNumber.port_request == port_request)
                .execute()
            )
            port_request.status, port_request.updated_at = "submitted", now
            port_request.status_changed_at = port_request.submitted_at = now
            webhooks.status_changed(port_request, "draft")
            count = len(found.rows)
            record_event(
                port_request,
                "submitted",
                f"Submitted the request with {_numbers_words(count)} to Carrier Relations"
                f"{f' (from {ip})' if ip else ''}.",
                user=user,
            )
            # A link still out for a signature has nothing left to sign: the LOA kept is final.
            for envelope in loa.close_envelopes(held, _party(user, ip)):
                record_event(
                    port_request,
                    "loa_cancelled",
                    f"Cancelled the request for {envelope.signer_name}'s signature: the request "
                    "was submitted with the signed LOA it holds.",
                    user=user,
                )
            _tell_owner(
                port_request,
                user,
                subject=f"Port request submitted: {title_of(port_request)}",
                template="request_submitted",
                count=count,
                carrier=carrier_of(found.fields),
                requested_date=found.fields.get("requested_date"),
            )
            return port_request
    except IntegrityError:
        # Only the claims can break a unique index here: another request's, committed while this
        # one waited. The transaction is rolled back; name the numbers with one query.
        taken = taken_numbers(request_id)
        if not taken:
            raise SubmitRefused(
                "Another request claimed some of these numbers at the same moment and let them "
                "go again: submit once more."
            ) from None
        raise NumbersTaken(taken) from None


def resubmit(account, request_id, *, user, ip, today, lead_business_days):
    """Send the account's corrected request back to Carrier Relations (in review again).

    Return it, or None when the account has no such request. Raise TransitionRefused when it is
    not waiting for a correction (resubmitted already by another tab, or moved on by staff), and
    ResubmitRefused naming what is left otherwise. Staff are emailed, the account's webhooks
    hear of it, and a link still out for an LOA's signature is cancelled: the LOA is final.
    """
    with changing():
        held = loa.open_envelopes(request_id)
        port_request = PortRequest.find(account, request_id, for_update=True)
        if port_request is None:
            return None
        previous = port_request.status
        if previous != "action_required":
            raise TransitionRefused("resubmit", previous)
        found = review(port_request, today=today, lead_business_days=lead_business_days)
        left = corrections.blocking(found)
        if left:
            raise ResubmitRefused(corrections.left_message(left), left)
        sent_back = port_request.status_changed_at
        now = utcnow()
        moved = (
            PortRequest.update(status="in_review", updated_at=now, status_changed_at=now)
            .where((PortRequest.id == port_request.id) & (PortRequest.status == previous))
            .execute()
        )
        if moved != 1:  # a move that did not take this lock got there first
            raise TransitionRefused("resubmit", PortRequest.get_by_id(port_request.id).status)
        # A number staff rejected stays rejected: the others go back to work with the request.
        (
            PortNumber.update(status="in_review", reason=None)
            .where(
                (PortNumber.port_request == port_request)
                & (PortNumber.status.is_null() | (PortNumber.status != "rejected"))
            )
            .execute()
        )
        port_request.status, port_request.updated_at = "in_review", now
        port_request.status_changed_at = now
        record_event(
            port_request,
            "resubmitted",
            "Resubmitted the request to Carrier Relations after the correction"
            f"{f' (from {ip})' if ip else ''}.",
            user=user,
        )
        for envelope in loa.close_envelopes(held, _party(user, ip)):
            record_event(
                port_request,
                "loa_cancelled",
                f"Cancelled the request for {envelope.signer_name}'s signature: the request "
                "was resubmitted with the signed LOA it holds.",
                user=user,
            )
        notify.tell_staff(
            port_request,
            subject=f"Resubmitted after a correction: {title_of(port_request)}",
            template="request_resubmitted",
            owner_name=user.name if user is not None else "PortDesk",
            codes=[code.label for _, code in corrections.explained(port_request)],
            changes=_changes_since(port_request, sent_back),
        )
        webhooks.status_changed(port_request, previous)
        return port_request


def _changes_since(port_request, moment):
    """Return the timeline's lines of what the owner changed since the request was sent back."""
    return [
        event.message
        for event in RequestEvent.of_request(port_request).where(
            (RequestEvent.at >= moment) & RequestEvent.kind.in_(CORRECTION_EVENTS)
        )
    ]


def blocking(found):
    """Return what stands between a draft's Review and submitting it: every problem left (each
    error, each unconfirmed warning), and the agreements while any statement is not accepted."""
    left = list(found.problems)
    if found.steps["agreements"] != COMPLETE:
        left.insert(0, AGREEMENTS_NEEDED)
    return left


def claim_numbers(port_request, now):
    """Claim every number of the request in one INSERT (from its own rows, whatever their count).

    Raise IntegrityError when another request holds one of them. The rows go in in number order,
    as completion's tracking numbers do: two transactions writing the same numbers (their claims,
    and the taken_number rows the triggers keep) then wait for each other instead of deadlocking.
    """
    rows = (
        PortNumber.select(
            PortNumber.e164,
            Value(port_request.account_id),
            PortNumber.port_request,
            Value(now, converter=NumberClaim.claimed_at.db_value),
        )
        .where(PortNumber.port_request == port_request)
        .order_by(PortNumber.e164)
    )
    NumberClaim.insert_from(
        rows,
        [NumberClaim.number, NumberClaim.account, NumberClaim.port_request, NumberClaim.claimed_at],
    ).execute()


def taken_numbers(request_id):
    """Return the request's numbers (E.164, in its order) that other requests claim (one query)."""
    return [
        number
        for (number,) in (
            PortNumber.select(PortNumber.e164)
            .join(NumberClaim, on=NumberClaim.number == PortNumber.e164)
            .where(
                (PortNumber.port_request == request_id)
                & (NumberClaim.port_request.is_null() | (NumberClaim.port_request != request_id))
            )
            .order_by(PortNumber.position)
            .tuples()
        )
    ]


def cancel(account, request_id, *, user, reason=""):
    """Cancel the account's submitted request: release its numbers, log it, email the owner.

    Return the cancelled PortRequest, or None when the account has no such request. Raise
    CancelRefused when its status does not allow it (a draft, a date confirmed, a final one).
    """
    reason = " ".join((reason or "").replace("\x00", "").split())[:MAX_REASON]
    with changing():
        port_request = PortRequest.find(account, request_id, for_update=True)
        if port_request is None:
            return None
        if port_request.status not in CANCELLABLE:
            raise CancelRefused(port_request.status, cancel_refusal(port_request.status))
        previous, now = port_request.status, utcnow()
        moved = (
            PortRequest.update(status="cancelled", updated_at=now, status_changed_at=now)
            .where((PortRequest.id == port_request.id) & PortRequest.status.in_(CANCELLABLE))
            .execute()
        )
        if moved != 1:  # staff moved it on meanwhile (their change need not take this lock)
            status = PortRequest.get_by_id(port_request.id).status
            raise CancelRefused(status, cancel_refusal(status))
        NumberClaim.delete().where(NumberClaim.port_request == port_request).execute()
        (
            PortNumber.update(status="cancelled")
            .where(PortNumber.port_request == port_request)
            .execute()
        )
        port_request.status, port_request.updated_at = "cancelled", now
        port_request.status_changed_at = now
        webhooks.status_changed(port_request, previous, note=reason or None)
        said = f": {reason}" if reason else ""
        record_event(port_request, "cancelled", f"Cancelled the request{said}.", user=user)
        _tell_owner(
            port_request,
            user,
            subject=f"Port request cancelled: {title_of(port_request)}",
            template="request_cancelled",
            reason=reason,
        )
        return port_request


def can_cancel(status):
    """Say whether a request in this status may be cancelled by its owner."""
    return status in CANCELLABLE


def cancel_refusal(status):
    """Return why a request in this status cannot be cancelled, as its owner reads it."""
    if status == "draft":
        return "A draft is not sent yet, so there is nothing to cancel: delete the draft instead."
    if status == "foc_scheduled":
        return (
            "The carrier has confirmed the date (FOC) for this request, so it can no longer be "
            "cancelled here: contact Carrier Relations."
        )
    if status == "cancelled":
        return "This request is cancelled already."
    return f"This request is {describe(status).label.lower()}: there is nothing left to cancel."


def taken_message(numbers):
    """Return the refusal that names the numbers other requests hold."""
    if not numbers:
        return "Some of these numbers are in another port request."
    shown = ", ".join(display(number) for number in numbers[:NAMED_NUMBERS])
    more = len(numbers) - NAMED_NUMBERS
    if more > 0:
        shown += f" and {more} more"
    one = len(numbers) == 1
    return (
        f"Nothing was submitted: {shown} {'is' if one else 'are'} already in another port request "
        "that is submitted, in progress or completed. Remove "
        f"{'it' if one else 'them'} on the Numbers step, then submit again."
    )


def _blocked_message(problems):
    errors = sum(1 for problem in problems if problem.severity == "error")
    warnings = len(problems) - errors
    parts = []
    if errors:
        parts.append(f"{errors} {'thing' if errors == 1 else 'things'} to fix")
    if warnings:
        parts.append(f"{warnings} {'warning' if warnings == 1 else 'warnings'} to check")
    return f"Nothing was submitted: {' and '.join(parts)} first."


def _numbers_words(count):
    return "1 number" if count == 1 else f"{count:,} numbers"


def carrier_of(fields):
    """Return the losing carrier the request names, or "" when none."""
    billing = fields.get("billing")
    carrier = billing.get("carrier") if isinstance(billing, dict) else None
    return carrier.strip() if isinstance(carrier, str) else ""


def _tell_owner(port_request, user, *, subject, template, **context):
    """Queue an email to the owner who acted (or who started the request, for a script)."""
    person = user if user is not None else port_request.created_by
    if person is None or not person.email:
        return
    mail.enqueue(
        to=person.email,
        subject=subject,
        template=template,
        purpose=template,
        reference=f"port_request:{port_request.id}",
        name=person.name,
        title=title_of(port_request),
        request_id=port_request.id,
        request_url=mail.external_url("port_requests.show", request_id=port_request.id),
        **context,
    )


def _party(user, ip):
    """Return who acted, as a signing event names them."""
    actor = f"{user.name} ({user.email})" if user is not None else "PortDesk"
    return Party(actor=actor, ip=ip or "")
