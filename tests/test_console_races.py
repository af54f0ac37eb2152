"""Races on the console through gunicorn (2 workers x 4 threads, CSRF on, as deployed), on the
suite's database (SQLite or PostgreSQL): each racer is a browser tab of its own, on its own
connection, released together by a barrier. One move wins; the other writes nothing of its own
and is told where the request stands."""

import pytest

from bench.serving import gunicorn
from portal.models import NumberClaim, OutboxEmail, PortRequest, RequestEvent
from tests.conftest import OWNER_EMAIL, PASSWORD, STAFF_EMAIL
from tests.test_fix_loop import send_back, submitted
from tests.test_wizard_attacks import Tab, at_once


@pytest.fixture
def served(database_url, tmp_path, owner, staff):
    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, tmp_path / "gunicorn", log) as address:
        yield address
    print(log.read_text(errors="replace"))  # shown when a test fails


@pytest.fixture
def tabs(served):
    """Return `tab(email, page)`: a new browser signed in as `email`, showing `page`."""
    opened = []

    def tab(email, page):
        new = Tab(served, opened)
        new.get("/login")
        assert new.post("/login", {"email": email, "password": PASSWORD})[0] == 302
        assert new.get(page)[0] == 200
        return new

    yield tab
    for each in opened:
        each.connection.close()


def kinds(app, request_id):
    with app.app_context():
        return [event.kind for event in RequestEvent.of_request(request_id)]


def test_two_staff_moving_one_request_at_once_one_wins(app, owner, tabs):
    request_id = submitted(app, owner)
    page = f"/staff/requests/{request_id}"
    first, second = tabs(STAFF_EMAIL, page), tabs(STAFF_EMAIL, page)
    with app.app_context():
        emails = OutboxEmail.select().count()

    at_once(
        lambda: first.post(f"{page}/moves/start_review", {"shown": "submitted"}),
        lambda: second.post(
            f"{page}/moves/reject", {"shown": "submitted", "reason": "Not the customer's"}
        ),
    )

    moves = [kind for kind in kinds(app, request_id) if kind in ("start_review", "reject")]
    assert len(moves) == 1
    with app.app_context():
        stored = PortRequest.get_by_id(request_id)
        claims = NumberClaim.select().where(NumberClaim.port_request == request_id).count()
        assert OutboxEmail.select().count() == emails + 1  # the winner's email alone
    if moves == ["reject"]:
        assert (stored.status, stored.status_note, claims) == ("rejected", "Not the customer's", 0)
    else:
        assert (stored.status, stored.status_note, claims) == ("in_review", None, 2)
    # The loser's page says where the request stands now.
    texts = [first.get(page)[2], second.get(page)[2]]
    assert sum("Nothing was changed" in text for text in texts) == 1


def test_two_tabs_resubmitting_and_staff_rejecting_at_once_one_wins(app, owner, tabs):
    request_id = submitted(app, owner)
    send_back(app, request_id, ["OSP_IRRESPONSIVE"])
    fix = f"/port-requests/{request_id}/fix"
    one, two = tabs(OWNER_EMAIL, fix), tabs(OWNER_EMAIL, fix)
    staff = tabs(STAFF_EMAIL, f"/staff/requests/{request_id}")

    at_once(
        lambda: one.post(f"/port-requests/{request_id}/resubmit", {}),
        lambda: two.post(f"/port-requests/{request_id}/resubmit", {}),
        lambda: staff.post(
            f"/staff/requests/{request_id}/moves/reject",
            {"shown": "action_required", "reason": "The carrier closed the order"},
        ),
    )

    done = [kind for kind in kinds(app, request_id) if kind in ("resubmitted", "reject")]
    with app.app_context():
        stored = PortRequest.get_by_id(request_id)
        numbers = {number.status for number in stored.numbers()}
    # Either one resubmit won (and the reject, shown action_required, was refused), or the
    # reject won and neither resubmit did: never both, never twice.
    assert done in (["resubmitted"], ["reject"])
    expected = "in_review" if done == ["resubmitted"] else "rejected"
    assert stored.status == expected
    assert numbers == {expected}
