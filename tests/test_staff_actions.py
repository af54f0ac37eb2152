"""Carrier Relations' moves (portal.staff.actions, no Flask): each move allowed and refused from
every status, what each stores, logs, emails and tells webhooks; completion's tracking numbers
and re-routes; a number rejected on its own; and two staff acting at once (threads, a barrier)."""

import datetime
import json
import subprocess
import sys

import pytest

from portal.models import (
    STATUSES,
    Account,
    NumberClaim,
    OutboxEmail,
    PortNumber,
    PortRequest,
    ReceivingReroute,
    RequestEvent,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    Webhook,
    WebhookDelivery,
)
from portal.port_requests import dates, operations
from portal.staff import actions
from portal.staff.transitions import MOVES, NUMBER_REJECTABLE, TransitionRefused
from tests.conftest import OWNER_EMAIL
from tests.test_submit import make_submittable, today
from tests.test_wizard_attacks import at_once

ONE, TWO, THREE = "+16143221001", "+16143221002", "+16143221003"
NUMBERS = ["(614) 322-1001", "(614) 322-1002", "(614) 322-1003"]
# The account's inventory as make_submittable gives it (account 4242).
ROUTING, SOURCE = 14_242, 24_242


def foc_day():
    """Return a business day ten business days ahead."""
    return dates.earliest_date(today(), 10)


ARGS = {
    "start_review": lambda: {},
    "require_action": lambda: {
        "codes": ["LOCATION_MISMATCH", "PASSCODE_PIN_INVALID"],
        "note": "The carrier has Suite 200 on file, and a PIN.",
    },
    "schedule_foc": lambda: {"foc_date": foc_day(), "window": "9:00-12:00 ET", "today": today()},
    "complete": lambda: {},
    "reject": lambda: {"reason": "The customer closed the account at the losing carrier."},
}
STAFF_MOVES = [name for name, move in MOVES.items() if move.by == "staff"]
TEMPLATES = {
    "start_review": ("request_in_review", "Port request in review: Harbor Clinic main lines"),
    "require_action": ("request_action_required", "Action required: Harbor Clinic main lines"),
    "schedule_foc": ("request_foc_scheduled", "FOC date confirmed: Harbor Clinic main lines"),
    "complete": ("request_completed", "Port completed: Harbor Clinic main lines"),
    "reject": ("request_rejected", "Port request rejected: Harbor Clinic main lines"),
}


def make(app, owner, status="submitted", numbers=NUMBERS):
    """Return the id of the owner's request, submitted, then put in `status` as earlier moves
    would have left it."""
    request_id = make_submittable(app, owner.account_id, numbers=numbers, created_by=owner)
    with app.app_context():
        operations.submit(
            Account.get_by_id(owner.account_id), request_id, user=owner, ip="", today=today(),
            lead_business_days=7,
        )  # fmt: skip
        put(request_id, status)
    return request_id


def put(request_id, status):
    changes = {"status": status}
    if status == "foc_scheduled":
        changes["foc_date"] = foc_day()
    PortRequest.update(**changes).where(PortRequest.id == request_id).execute()
    PortNumber.update(status=status).where(PortNumber.port_request == request_id).execute()
    if status in ("draft", "rejected", "cancelled"):
        NumberClaim.delete().where(NumberClaim.port_request == request_id).execute()


def hook(account_id=4242):
    return Webhook.create(account=account_id, url="https://hooks.example.test/in", secret="s" * 32)


def snapshot(request_id):
    """Everything a move writes, to compare before and after a refusal."""
    port_request = PortRequest.get_by_id(request_id)
    return {
        "request": {
            name: getattr(port_request, name)
            for name in ("status", "updated_at", "status_changed_at", "foc_date", "status_note")
        },
        "numbers": [(row.status, row.reason) for row in port_request.numbers()],
        "claims": NumberClaim.select().where(NumberClaim.port_request == request_id).count(),
        "events": RequestEvent.select().count(),
        "emails": OutboxEmail.select().count(),
        "deliveries": WebhookDelivery.select().count(),
        "tracking": TrackingNumber.select().count(),
    }


def run(name, request_id, user, shown):
    return getattr(actions, name)(request_id, user=user, shown=shown, **ARGS[name]())


def test_every_staff_move_of_the_table_has_an_action():
    assert sorted(STAFF_MOVES) == sorted(ARGS)


# Each move from every status -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, status",
    [
        (name, status)
        for name in STAFF_MOVES
        for status in STATUSES
        if status in MOVES[name].sources
    ],
)
def test_a_move_from_a_status_it_starts_from_is_made_logged_emailed_and_told(
    app, owner, staff, name, status
):
    request_id = make(app, owner, status)
    with app.app_context():
        hook()
        before = PortRequest.get_by_id(request_id).status_changed_at

        moved = run(name, request_id, staff, status)

        stored = PortRequest.get_by_id(request_id)
        assert moved.status == stored.status == MOVES[name].to
        if MOVES[name].to != status:
            assert stored.status_changed_at > before
        assert {row.status for row in stored.numbers()} == {MOVES[name].to}
        event = list(RequestEvent.of_request(request_id))[-1]
        assert (event.kind, event.actor, event.user_id) == (name, "Sam Staff", staff.id)
        email = OutboxEmail.select().order_by(OutboxEmail.id.desc()).first()
        assert (email.to_address, email.purpose, email.reference) == (
            OWNER_EMAIL,
            TEMPLATES[name][0],
            f"port_request:{request_id}",
        )
        assert email.subject.startswith(TEMPLATES[name][1].split(":")[0])
        events = [json.loads(d.body) for d in WebhookDelivery.select().order_by(WebhookDelivery.id)]
        changed = [e for e in events if e["type"] == "port_request.status_changed"]
        if MOVES[name].to != status:
            assert [(e["data"]["status"], e["data"]["previous_status"]) for e in changed] == [
                (MOVES[name].to, status)
            ]
            assert changed[0]["data"]["port_request_id"] == request_id
        else:  # the FOC date moved: no status change to tell
            assert changed == []


@pytest.mark.parametrize(
    "name, status",
    [
        (name, status)
        for name in STAFF_MOVES
        for status in STATUSES
        if status not in MOVES[name].sources
    ],
)
def test_a_move_from_a_status_it_cannot_start_from_is_refused_with_nothing_written(
    app, owner, staff, name, status
):
    request_id = make(app, owner, status)
    with app.app_context():
        hook()
        before = snapshot(request_id)

        with pytest.raises(TransitionRefused) as refused:
            run(name, request_id, staff, status)

        assert refused.value.status == status
        assert refused.value.message.startswith(f"“{MOVES[name].label}” is not possible")
        assert "Nothing was changed." in refused.value.message
        assert snapshot(request_id) == before


@pytest.mark.parametrize("name", STAFF_MOVES)
def test_a_page_that_showed_an_older_status_moves_nothing_and_says_where_it_stands(
    app, owner, staff, name
):
    # The page showed "submitted"; another staff member moved it to in review meanwhile.
    request_id = make(app, owner, "in_review")
    with app.app_context():
        before = snapshot(request_id)

        with pytest.raises(TransitionRefused) as refused:
            run(name, request_id, staff, "submitted")

        assert refused.value.status == "in_review"
        if "in_review" in MOVES[name].sources:
            assert refused.value.message == (
                "The request changed while you were looking: it is in review now. Nothing was "
                "changed: check the page and do it again if it still applies."
            )
        else:
            assert "the request is in review now" in refused.value.message
        assert snapshot(request_id) == before


@pytest.mark.parametrize("name", STAFF_MOVES)
def test_a_missing_request_is_none(app, staff, name):
    with app.app_context():
        assert run(name, 987_654, staff, "submitted") is None


# What each move stores --------------------------------------------------------------------------


def test_action_required_stores_the_codes_and_note_clears_the_date_and_emails_what_to_fix(
    app, owner, staff
):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        hook()
        actions.require_action(
            request_id, user=staff, shown="foc_scheduled",
            codes=["LOCATION_MISMATCH", "LOCATION_MISMATCH", "OTHER"], note="  Suite 200.\x00 ",
        )  # fmt: skip

        stored = PortRequest.get_by_id(request_id)
        assert (stored.codes, stored.status_note) == (["LOCATION_MISMATCH", "OTHER"], "Suite 200.")
        assert (stored.foc_date, stored.foc_window) == (None, None)
        event = list(RequestEvent.of_request(request_id))[-1]
        assert event.message == (
            "Asked the owner for a correction (LOCATION_MISMATCH, OTHER): Suite 200."
        )
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "request_action_required")
        assert "- Service address does not match: The service address differs" in email.text_body
        assert "Suite 200." in email.text_body and "Fix and resubmit" in email.text_body
        (delivery,) = WebhookDelivery.select()
        assert json.loads(delivery.body)["data"] == {
            "port_request_id": request_id,
            "status": "action_required",
            "previous_status": "foc_scheduled",
            "codes": ["LOCATION_MISMATCH", "OTHER"],
            "note": "Suite 200.",
        }


@pytest.mark.parametrize(
    "codes, note, message, field",
    [
        ([], "A note", "Pick at least one carrier exception code.", "codes"),
        (["NOT_A_CODE", "OTHER"], "A note", "Unknown carrier code: NOT_A_CODE.", "codes"),
        (["OTHER"], "  \x00 ", "Enter a note for the owner.", "note"),
        (
            ["OTHER"],
            "x" * 2_001,
            "Keep a note for the owner to 2,000 characters; this one has 2,001.",
            "note",
        ),
    ],
)
def test_action_required_needs_known_codes_and_a_note(
    app, owner, staff, codes, note, message, field
):
    request_id = make(app, owner, "in_review")
    with app.app_context():
        before = snapshot(request_id)
        with pytest.raises(actions.ActionRefused) as refused:
            actions.require_action(
                request_id, user=staff, shown="in_review", codes=codes, note=note
            )
        assert (refused.value.message, refused.value.field) == (message, field)
        assert snapshot(request_id) == before


def test_setting_the_foc_date_stores_it_and_tells_the_owner_and_webhooks(app, owner, staff):
    request_id = make(app, owner, "in_review")
    day = foc_day()
    words = f"{day:%a %b} {day.day}, {day.year}"
    with app.app_context():
        hook()
        actions.schedule_foc(
            request_id, user=staff, shown="in_review", foc_date=day, window=" 9:00-12:00 ET ",
            today=today(),
        )  # fmt: skip

        stored = PortRequest.get_by_id(request_id)
        assert (stored.status, stored.foc_date, stored.foc_window) == (
            "foc_scheduled",
            day,
            "9:00-12:00 ET",
        )
        event = list(RequestEvent.of_request(request_id))[-1]
        assert event.message == f"Set the FOC date: {words}, 9:00-12:00 ET."
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "request_foc_scheduled")
        assert f"the numbers move on {words}, 9:00-12:00 ET." in email.text_body
        bodies = [json.loads(d.body) for d in WebhookDelivery.select().order_by(WebhookDelivery.id)]
        assert [(b["type"], b["data"].get("foc_date")) for b in bodies] == [
            ("port_request.status_changed", day.isoformat()),
            ("port_request.foc_scheduled", day.isoformat()),
        ]
        assert bodies[1]["data"]["foc_window"] == "9:00-12:00 ET"


def test_moving_the_foc_date_keeps_the_status_time_and_says_where_it_moved_from(app, owner, staff):
    request_id = make(app, owner, "foc_scheduled")
    first = foc_day()
    later = dates.earliest_date(first, 3)
    with app.app_context():
        hook()
        since = PortRequest.get_by_id(request_id).status_changed_at
        actions.schedule_foc(
            request_id, user=staff, shown="foc_scheduled", foc_date=later, window="",
            today=today(),
        )  # fmt: skip

        stored = PortRequest.get_by_id(request_id)
        assert (stored.foc_date, stored.foc_window, stored.status_changed_at) == (
            later,
            None,
            since,
        )
        event = list(RequestEvent.of_request(request_id))[-1]
        assert event.message.startswith(f"Moved the FOC date from {first:%a %b} {first.day}")
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "request_foc_scheduled")
        assert email.subject == "FOC date moved: Harbor Clinic main lines"
        assert [d.event for d in WebhookDelivery.select()] == ["port_request.foc_scheduled"]


def _weekday_holiday():
    for year in range(today().year + 1, today().year + 3):
        for day in sorted(dates._calendar(year)):
            if day.weekday() < 5:
                return day
    raise AssertionError("no holiday on a weekday")


def _saturday():
    day = foc_day()
    return day + datetime.timedelta(days=5 - day.weekday())


@pytest.mark.parametrize(
    "make_day, window, says",
    [
        (lambda: None, "", "Enter the FOC date as YYYY-MM-DD."),
        (lambda: today() - datetime.timedelta(days=1), "", "has passed"),
        (lambda: _saturday(), "", "is not a business day (a Saturday)"),
        (lambda: _weekday_holiday(), "", "is not a business day ("),
        (lambda: today().replace(year=today().year + 3), "", "years away: check the year"),
        (lambda: foc_day(), "w" * 101, "Keep the time window to 100 characters"),
    ],
)
def test_an_foc_date_must_be_a_business_day_to_come(app, owner, staff, make_day, window, says):
    request_id = make(app, owner, "in_review")
    with app.app_context():
        before = snapshot(request_id)
        with pytest.raises(actions.ActionRefused) as refused:
            actions.schedule_foc(
                request_id, user=staff, shown="in_review", foc_date=make_day(), window=window,
                today=today(),
            )  # fmt: skip
        assert says in refused.value.message
        assert snapshot(request_id) == before


def test_rejecting_the_request_lets_its_numbers_go_and_keeps_the_reason(app, owner, staff):
    request_id = make(app, owner, "in_review")
    with app.app_context():
        assert NumberClaim.select().count() == 3
        actions.reject(request_id, user=staff, shown="in_review", reason="Account closed.")

        stored = PortRequest.get_by_id(request_id)
        assert (stored.status, stored.status_note) == ("rejected", "Account closed.")
        assert NumberClaim.select().count() == 0
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "request_rejected")
        assert "Account closed." in email.text_body
        with pytest.raises(actions.ActionRefused, match="Enter the reason."):
            actions.reject(request_id, user=staff, shown="rejected", reason=" ")


# One number rejected --------------------------------------------------------------------------


def number_id(request_id, e164):
    return PortNumber.get((PortNumber.port_request == request_id) & (PortNumber.e164 == e164)).id


@pytest.mark.parametrize("status", STATUSES)
def test_a_number_is_rejected_on_its_own_while_its_request_is_worked(app, owner, staff, status):
    request_id = make(app, owner, status)
    with app.app_context():
        hook()
        before = snapshot(request_id)
        two = number_id(request_id, TWO)
        if status not in NUMBER_REJECTABLE:
            with pytest.raises(actions.ActionRefused) as refused:
                actions.reject_number(
                    request_id, two, user=staff, shown=status, reason="Not on the account."
                )
            assert "A number can only be rejected while its request is being worked" in (
                refused.value.message
            )
            assert snapshot(request_id) == before
            return

        number = actions.reject_number(
            request_id, two, user=staff, shown=status, reason=" Not on the account. "
        )

        assert (number.e164, number.status, number.reason) == (
            TWO,
            "rejected",
            "Not on the account.",
        )
        stored = PortRequest.get_by_id(request_id)
        assert stored.status == status
        assert [(row.e164, row.status, row.reason) for row in stored.numbers()] == [
            (ONE, status, None),
            (TWO, "rejected", "Not on the account."),
            (THREE, status, None),
        ]
        claims = NumberClaim.select().where(NumberClaim.port_request == request_id)
        assert sorted(claim.number for claim in claims) == [ONE, THREE]
        event = list(RequestEvent.of_request(request_id))[-1]
        assert (event.kind, event.message) == (
            "reject_number",
            "Rejected (614) 322-1002: Not on the account.",
        )
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "number_rejected")
        assert email.subject == "A number was rejected: Harbor Clinic main lines"
        assert "the number (614) 322-1002 was rejected" in email.text_body
        (delivery,) = WebhookDelivery.select()
        assert delivery.event == "port_number.rejected"
        assert json.loads(delivery.body)["data"] == {
            "port_request_id": request_id,
            "phone_number": TWO,
            "reason": "Not on the account.",
        }


def test_a_rejected_number_stays_rejected_as_its_request_moves_on(app, owner, staff):
    request_id = make(app, owner, "submitted")
    with app.app_context():
        two = number_id(request_id, TWO)
        actions.reject_number(request_id, two, user=staff, shown="submitted", reason="Gone.")
        actions.start_review(request_id, user=staff, shown="submitted")

        with pytest.raises(actions.ActionRefused) as refused:
            actions.reject_number(request_id, two, user=staff, shown="in_review", reason="Again")

        assert refused.value.message == "(614) 322-1002 is rejected already: Gone."
        statuses = [row.status for row in PortRequest.get_by_id(request_id).numbers()]
        assert statuses == ["in_review", "rejected", "in_review"]


def test_a_number_of_another_request_or_a_stale_page_rejects_nothing(app, owner, staff):
    mine = make(app, owner, "in_review", numbers=NUMBERS[:2])
    other = make(app, owner, "in_review", numbers=NUMBERS[2:])
    with app.app_context():
        before = snapshot(mine), snapshot(other)
        theirs = number_id(other, THREE)
        with pytest.raises(actions.ActionRefused, match="not in this request"):
            actions.reject_number(mine, theirs, user=staff, shown="in_review", reason="No")
        with pytest.raises(actions.ActionRefused, match="changed while you were looking"):
            actions.reject_number(
                mine, number_id(mine, ONE), user=staff, shown="submitted", reason="No"
            )
        with pytest.raises(actions.ActionRefused, match="Enter the reason."):
            actions.reject_number(mine, number_id(mine, ONE), user=staff, shown="in_review",
                                  reason="")  # fmt: skip
        assert (snapshot(mine), snapshot(other)) == before
        assert actions.reject_number(987_654, 1, user=staff, shown="in_review", reason="x") is None


# Completion -------------------------------------------------------------------------------------


def test_completion_makes_tracking_numbers_with_their_routing_and_source_and_keeps_the_claims(
    app, owner, staff
):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        hook()
        # The third number goes to another routing and source than the first two.
        RoutingTarget.create(id=777, account=4242, name="Call queue", kind="queue")
        TrackingSource.create(id=888, account=4242, name="Billboard")
        PortNumber.update(routing_id=777, tracking_source_id=888).where(
            PortNumber.e164 == THREE
        ).execute()

        actions.complete(request_id, user=staff, shown="foc_scheduled")

        made = TrackingNumber.select().order_by(TrackingNumber.number)
        assert [
            (t.number, t.account_id, t.routing_target_id, t.tracking_source_id) for t in made
        ] == [
            (ONE, 4242, ROUTING, SOURCE),
            (TWO, 4242, ROUTING, SOURCE),
            (THREE, 4242, 777, 888),
        ]
        assert NumberClaim.select().where(NumberClaim.port_request == request_id).count() == 3
        event = list(RequestEvent.of_request(request_id))[-1]
        assert event.message == "Completed the port: 3 numbers on the platform."
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "request_completed")
        assert "3 numbers are on the platform now as tracking numbers" in email.text_body
        assert [d.event for d in WebhookDelivery.select()] == ["port_request.status_changed"]


def reroute(request_id, receiving, tracking, routing_id, *, tracking_routing=ROUTING):
    """The account's tracking number `tracking` rings `receiving`; the owner chose `routing_id`."""
    target = RoutingTarget.create(
        id=50_000 + int(tracking[-4:]), account=4242, name=f"Rings {receiving}", kind="number",
        number=receiving,
    )  # fmt: skip
    TrackingNumber.create(number=tracking, account=4242, routing_target=target)
    ReceivingReroute.create(
        port_request=request_id,
        receiving_number=receiving,
        tracking_number=tracking,
        routing_id=routing_id,
    )


def test_completion_applies_the_reroutes_of_the_numbers_that_port_only(app, owner, staff):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        RoutingTarget.create(id=777, account=4242, name="Call queue", kind="queue")
        reroute(request_id, ONE, "+13125550101", 777)
        reroute(request_id, ONE, "+13125550102", ROUTING)
        # TWO's port is rejected: the tracking number ringing it keeps ringing it.
        reroute(request_id, TWO, "+13125550103", 777)
        actions.reject_number(
            request_id, number_id(request_id, TWO), user=staff, shown="foc_scheduled",
            reason="Not portable.",
        )  # fmt: skip

        actions.complete(request_id, user=staff, shown="foc_scheduled")

        routing = dict(TrackingNumber.select(TrackingNumber.number, TrackingNumber.routing_target)
                       .tuples())  # fmt: skip
        assert routing == {
            ONE: ROUTING,
            THREE: ROUTING,
            "+13125550101": 777,
            "+13125550102": ROUTING,
            "+13125550103": 50_103,
        }
        numbers = PortRequest.get_by_id(request_id).numbers()
        assert [row.status for row in numbers] == ["completed", "rejected", "completed"]
        event = list(RequestEvent.of_request(request_id))[-1]
        assert event.message == (
            "Completed the port: 2 numbers on the platform, re-routed 2 tracking numbers."
        )
        (email,) = OutboxEmail.select().where(OutboxEmail.purpose == "request_completed")
        assert "2 numbers are on the platform" in email.text_body
        assert "2 tracking numbers ring the new routing" in email.text_body
        assert "1 number was rejected and stayed with the old carrier" in email.text_body


@pytest.mark.parametrize(
    "spoil, says",
    [
        (
            lambda rid: RoutingTarget.delete().where(RoutingTarget.id == ROUTING).execute(),
            f"(614) 322-1001's routing {ROUTING} is not on the account; (614) 322-1002's "
            f"routing {ROUTING} is not on the account; (614) 322-1003's routing",
        ),
        (
            lambda rid: (
                PortNumber.update(tracking_source_id=None).where(PortNumber.e164 == TWO).execute()
            ),
            "(614) 322-1002's tracking source (none chosen) is not on the account.",
        ),
        (
            lambda rid: PortNumber.update(routing_id=5151).where(PortNumber.e164 == ONE).execute(),
            "(614) 322-1001's routing 5151 is not on the account.",
        ),
        (
            lambda rid: TrackingNumber.create(number=THREE, account=5151),
            "(614) 322-1003 is a tracking number already.",
        ),
        (
            lambda rid: ReceivingReroute.create(
                port_request=rid,
                receiving_number=ONE,
                tracking_number="+13125550109",
                routing_id=404,
            ),  # fmt: skip
            "the re-route of (312) 555-0109 names routing 404, which is not on the account.",
        ),
        (
            lambda rid: PortNumber.update(status="rejected").execute(),
            "Every number of this request is rejected: reject the request instead.",
        ),
    ],
)
def test_completion_is_refused_whole_naming_what_stands_in_the_way(
    app, owner, staff, other_owner, spoil, says
):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        RoutingTarget.create(id=5151, account=5151, name="Globex's", kind="number")
        spoil(request_id)
        before = snapshot(request_id)

        with pytest.raises(actions.ActionRefused) as refused:
            actions.complete(request_id, user=staff, shown="foc_scheduled")

        assert says in refused.value.message
        assert snapshot(request_id) == before
        assert TrackingNumber.select().where(TrackingNumber.account == 4242).count() == 0


def test_a_refusal_names_ten_problems_and_counts_the_rest(app, owner, staff):
    numbers = [f"(614) 322-{1001 + n}" for n in range(12)]
    request_id = make(app, owner, "foc_scheduled", numbers=numbers)
    with app.app_context():
        PortNumber.update(routing_id=None).execute()
        with pytest.raises(actions.ActionRefused) as refused:
            actions.complete(request_id, user=staff, shown="foc_scheduled")
        assert refused.value.message.count("routing (none chosen)") == 10
        assert "; and 2 more. Sort these out with the owner" in refused.value.message


# Two staff at once -----------------------------------------------------------------------------


def attempt(app, name, request_id, user, shown, **args):
    def call():
        with app.app_context():
            try:
                getattr(actions, name)(request_id, user=user, shown=shown, **args)
            except TransitionRefused as refused:
                return ("refused", refused.status)
            return ("moved", name)

    return call


def test_two_staff_starting_the_review_at_once_move_it_once(app, owner, staff):
    request_id = make(app, owner, "submitted")

    answers = at_once(
        attempt(app, "start_review", request_id, staff, "submitted"),
        attempt(app, "start_review", request_id, staff, "submitted"),
    )

    assert sorted(answers) == [("moved", "start_review"), ("refused", "in_review")]
    with app.app_context():
        assert RequestEvent.select().where(RequestEvent.kind == "start_review").count() == 1
        assert OutboxEmail.select().where(OutboxEmail.purpose == "request_in_review").count() == 1


def test_completing_and_rejecting_at_once_leave_one_consistent_outcome(app, owner, staff):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        hook()

    answers = at_once(
        attempt(app, "complete", request_id, staff, "foc_scheduled"),
        attempt(app, "reject", request_id, staff, "foc_scheduled", reason="Carrier refused."),
    )

    moved = [answer for answer in answers if answer[0] == "moved"]
    assert len(moved) == 1
    with app.app_context():
        stored = PortRequest.get_by_id(request_id)
        claims = NumberClaim.select().where(NumberClaim.port_request == request_id).count()
        tracking = TrackingNumber.select().count()
        if moved[0][1] == "complete":
            assert answers == [("moved", "complete"), ("refused", "completed")]
            assert (stored.status, claims, tracking) == ("completed", 3, 3)
        else:
            assert answers == [("refused", "rejected"), ("moved", "reject")]
            assert (stored.status, claims, tracking) == ("rejected", 0, 0)
        assert WebhookDelivery.select().count() == 1
        assert OutboxEmail.select().where(OutboxEmail.purpose != "request_submitted").count() == 1


def test_the_rules_of_the_console_load_without_flask():
    program = (
        "import sys, portal.staff.completion, portal.staff.moving, portal.staff.details, "
        "portal.staff.transitions; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_wtf')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_completion_takes_as_many_statements_for_five_hundred_numbers_as_for_three(
    app, owner, staff, statements
):
    small = make(app, owner, "foc_scheduled")
    big = make(app, owner, "foc_scheduled", numbers=[f"(614) 323-{1001 + n}" for n in range(500)])
    counts = []
    with app.app_context():
        for request_id in (small, big):
            statements.clear()
            actions.complete(request_id, user=staff, shown="foc_scheduled")
            counts.append(len(statements))
        assert TrackingNumber.select().count() == 503
    assert counts[0] == counts[1]
