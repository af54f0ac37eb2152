"""Carrier Relations' moves on a request: each checks, writes, logs, emails and tells webhooks in
one transaction (no Flask).

Every move names the status the page showed (`shown`). Under the request's lock
(`drafts.changing`) a conditional UPDATE moves it only while it is still in that status and the
move may start there: of two staff acting at once, one wins and the other is told where the
request stands now, with nothing written. A number follows its request's status unless it was
rejected on its own; rejecting a number or the request lets its numbers go (their claims), and
completing keeps them and makes them the account's tracking numbers (`portal.staff.completion`).
"""

import json

from peewee import IntegrityError

from portal import notify, webhooks
from portal.models import NumberClaim, PortNumber, PortRequest, utcnow
from portal.port_requests import carrier_codes, dates
from portal.port_requests.drafts import changing
from portal.port_requests.events import record_event
from portal.staff import completion
from portal.staff.moving import (
    ActionRefused,
    check_number_rejectable,
    clean_text,
    count,
    day,
    lock,
    move,
    number_words,
)

# Long enough to explain a carrier's answer; a note is not a document.
MAX_NOTE = 2_000
# What the carrier's confirmation says of the time: "9:00-12:00 ET".
MAX_WINDOW = 100


def start_review(request_id, *, user, shown):
    """Take a submitted request into review; return it, or None when there is no such request."""
    with changing():
        port_request = lock(request_id)
        if port_request is None:
            return None
        move(port_request, "start_review", shown)
        record_event(port_request, "start_review", "Started the review.", user=user)
        _tell(port_request, "request_in_review", "Port request in review")
        webhooks.status_changed(port_request, shown)
        return port_request


def require_action(request_id, *, user, shown, codes, note):
    """Send the request back to its owner with the carrier's exception codes and a note."""
    codes = list(dict.fromkeys(codes or ()))
    if unknown := carrier_codes.unknown(codes):
        raise ActionRefused(f"Unknown carrier code: {', '.join(unknown)}.", "codes")
    if not codes:
        raise ActionRefused("Pick at least one carrier exception code.", "codes")
    note = clean_text(note, "a note for the owner", MAX_NOTE, "note")
    with changing():
        port_request = lock(request_id)
        if port_request is None:
            return None
        move(
            port_request,
            "require_action",
            shown,
            carrier_codes=json.dumps(codes),
            status_note=note,
            # A date the carrier gave no longer holds once it wants a correction.
            foc_date=None,
            foc_window=None,
        )
        record_event(
            port_request,
            "require_action",
            f"Asked the owner for a correction ({', '.join(codes)}): {note}",
            user=user,
        )
        _tell(
            port_request,
            "request_action_required",
            "Action required",
            codes=[(code, carrier_codes.CODES[code]) for code in codes],
            note=note,
        )
        webhooks.status_changed(port_request, shown, codes=codes, note=note)
        return port_request


def schedule_foc(request_id, *, user, shown, foc_date, window, today):
    """Set (or move) the FOC date and its time window: a business day, today or later."""
    if foc_date is None:
        raise ActionRefused("Enter the FOC date as YYYY-MM-DD.", "foc_date")
    if foc_date < today:
        raise ActionRefused(f"{day(foc_date)} has passed: enter the date to come.", "foc_date")
    if foc_date.year > today.year + dates.MAX_YEARS_AHEAD:
        raise ActionRefused(
            f"{day(foc_date)} is more than {dates.MAX_YEARS_AHEAD} years away: check the year.",
            "foc_date",
        )
    if foc_date.weekday() >= 5 or dates.holiday(foc_date):
        why = f"a {foc_date:%A}" if foc_date.weekday() >= 5 else dates.holiday(foc_date)
        raise ActionRefused(
            f"{day(foc_date)} is not a business day ({why}): carriers port on business days.",
            "foc_date",
        )
    window = clean_text(window, "the time window", MAX_WINDOW, "window", required=False)
    with changing():
        port_request = lock(request_id)
        if port_request is None:
            return None
        moved = port_request.foc_date if port_request.status == "foc_scheduled" else None
        moved = moved if moved != foc_date else None
        move(port_request, "schedule_foc", shown, foc_date=foc_date, foc_window=window)
        when = day(foc_date) + (f", {window}" if window else "")
        said = (
            f"Moved the FOC date from {day(moved)} to {when}."
            if moved
            else f"Set the FOC date: {when}."
        )
        record_event(port_request, "schedule_foc", said, user=user)
        _tell(
            port_request,
            "request_foc_scheduled",
            "FOC date moved" if moved else "FOC date confirmed",
            foc_day=day(foc_date),
            foc_window=window,
            moved_from=day(moved) if moved else None,
        )
        if shown != "foc_scheduled":
            webhooks.status_changed(port_request, shown, foc_date=foc_date.isoformat())
        webhooks.emit(
            port_request,
            "port_request.foc_scheduled",
            {"foc_date": foc_date.isoformat(), "foc_window": window},
        )
        return port_request


def complete(request_id, *, user, shown):
    """Complete the port: its numbers become the account's tracking numbers, re-routed where
    the owner chose; the claims stay."""
    try:
        with changing():
            port_request = lock(request_id)
            if port_request is None:
                return None
            move(port_request, "complete", shown)
            if refused := completion.refusal(port_request):
                raise ActionRefused(refused)
            done = completion.make_tracking_numbers(port_request)
            rerouted = done.rerouted and f", re-routed {count(done.rerouted, 'tracking number')}"
            record_event(
                port_request,
                "complete",
                f"Completed the port: {count(done.ported, 'number')} on the platform"
                f"{rerouted or ''}.",
                user=user,
            )
            _tell(
                port_request,
                "request_completed",
                "Port completed",
                ported=done.ported,
                rejected=done.rejected,
                rerouted=done.rerouted,
            )
            webhooks.status_changed(port_request, shown)
            return port_request
    except IntegrityError:
        # A number became a tracking number (an inventory import) after the check read: the
        # transaction is rolled back whole.
        raise ActionRefused(
            "One of these numbers became a tracking number on the platform just now, so nothing "
            "was completed: complete again to see which."
        ) from None


def reject(request_id, *, user, shown, reason):
    """Reject the request for good with a reason; its numbers are let go."""
    reason = clean_text(reason, "the reason", MAX_NOTE, "reason")
    with changing():
        port_request = lock(request_id)
        if port_request is None:
            return None
        move(port_request, "reject", shown, status_note=reason, foc_date=None, foc_window=None)
        NumberClaim.delete().where(NumberClaim.port_request == port_request).execute()
        record_event(port_request, "reject", f"Rejected the request: {reason}", user=user)
        _tell(port_request, "request_rejected", "Port request rejected", reason=reason)
        webhooks.status_changed(port_request, shown, note=reason)
        return port_request


def reject_number(request_id, number_id, *, user, shown, reason):
    """Reject one number with a reason while the others go on; its claim is let go."""
    reason = clean_text(reason, "the reason the number is rejected", MAX_NOTE, "reason")
    with changing():
        port_request = lock(request_id)
        if port_request is None:
            return None
        number = PortNumber.get_or_none(
            (PortNumber.id == number_id) & (PortNumber.port_request == port_request)
        )
        if number is None:
            raise ActionRefused("That number is not in this request (any more).")
        check_number_rejectable(port_request, shown)
        if number.status == "rejected":
            raise ActionRefused(f"{number_words(number)} is rejected already: {number.reason}")
        now = utcnow()
        PortRequest.update(updated_at=now).where(PortRequest.id == port_request.id).execute()
        (
            PortNumber.update(status="rejected", reason=reason)
            .where(PortNumber.id == number.id)
            .execute()
        )
        (
            NumberClaim.delete()
            .where((NumberClaim.port_request == port_request) & (NumberClaim.number == number.e164))
            .execute()
        )
        number.status, number.reason = "rejected", reason
        record_event(
            port_request, "reject_number", f"Rejected {number_words(number)}: {reason}", user=user
        )
        _tell(
            port_request, "number_rejected", "A number was rejected", number=number_words(number),
            reason=reason,
        )  # fmt: skip
        webhooks.emit(
            port_request, "port_number.rejected", {"phone_number": number.e164, "reason": reason}
        )
        return number


def _tell(port_request, template, headline, **context):
    notify.tell_owners(
        port_request,
        subject=f"{headline}: {notify.title_of(port_request)}",
        template=template,
        **context,
    )
