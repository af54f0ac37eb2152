"""A request's page for Carrier Relations (/staff/requests/<id>): what staff read on it, the
moves offered from each status, each move's form with Post/Redirect/Get and its refusals in the
page, a number rejected, staff comments, and an owner answered 404 on every console URL."""

import re

import pytest

from portal.models import (
    STATUSES,
    NumberClaim,
    OutboxEmail,
    PortNumber,
    PortRequest,
    ReceivingReroute,
    RequestComment,
    RoutingTarget,
    TrackingNumber,
)
from portal.port_requests import comments
from portal.staff.transitions import MOVES, NUMBER_REJECTABLE, moves_from
from tests.test_staff_actions import ROUTING, SOURCE, TWO, foc_day, make, number_id
from tests.test_submit import flashes, text_of


@pytest.fixture
def staff_client(staff_client):
    """Staff signed in, the sign-in's own message read already."""
    staff_client.get("/settings/")
    return staff_client


def page(request_id, suffix=""):
    return f"/staff/requests/{request_id}{suffix}"


def text_of_html(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def status_of(app, request_id):
    with app.app_context():
        return PortRequest.get_by_id(request_id).status


# Who may see it --------------------------------------------------------------------------------


def console_urls(app, request_id):
    with app.app_context():
        one = number_id(request_id, TWO)
    return [
        ("get", page(request_id)),
        *[("post", page(request_id, f"/moves/{name}")) for name in MOVES if name != "resubmit"],
        ("post", page(request_id, f"/numbers/{one}/reject")),
        ("post", page(request_id, "/comments")),
    ]


def test_an_owner_gets_404_on_every_console_url_even_for_their_own_request(
    app, owner, owner_client
):
    request_id = make(app, owner, "submitted")
    for method, url in console_urls(app, request_id):
        answer = getattr(owner_client, method)(url, data={"shown": "submitted", "reason": "x"})
        assert answer.status_code == 404, url
    assert status_of(app, request_id) == "submitted"
    with app.app_context():
        assert PortNumber.select().where(PortNumber.status == "rejected").count() == 0
        assert RequestComment.select().count() == 0


def test_a_visitor_is_sent_to_sign_in(app, owner, client):
    request_id = make(app, owner, "submitted")
    answer = client.get(page(request_id))
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("url", ["/staff/requests/987654", "/staff/requests/99999999999999"])
def test_a_missing_request_is_404(staff_client, url):
    assert staff_client.get(url).status_code == 404
    assert staff_client.post(url + "/moves/start_review", data={"shown": "x"}).status_code == 404


def test_a_number_id_past_the_column_is_404(app, owner, staff_client):
    request_id = make(app, owner, "in_review")
    answer = staff_client.post(
        page(request_id, "/numbers/99999999999999/reject"),
        data={"shown": "in_review", "reason": "x"},
    )
    assert answer.status_code == 404


def test_an_unknown_or_owners_move_is_404(app, owner, staff_client):
    request_id = make(app, owner, "action_required")
    for name in ("resubmit", "cancel", "delete"):
        answer = staff_client.post(page(request_id, f"/moves/{name}"), data={"shown": "x"})
        assert answer.status_code == 404
    assert status_of(app, request_id) == "action_required"


# What staff read -------------------------------------------------------------------------------


def test_the_page_shows_what_the_owner_entered_the_numbers_documents_and_timeline(
    app, owner, staff_client
):
    request_id = make(app, owner, "submitted")
    with app.app_context():
        PortNumber.update(status="rejected", reason="Not on the account.").where(
            PortNumber.e164 == TWO
        ).execute()
        RoutingTarget.create(id=777, account=4242, name="Call queue", kind="queue")
        ReceivingReroute.create(
            port_request=request_id, receiving_number=TWO, tracking_number="+13125550101",
            routing_id=777,
        )  # fmt: skip

    answer = staff_client.get(page(request_id))
    text, html = text_of(answer), answer.get_data(as_text=True)

    assert answer.status_code == 200
    assert "HX-Request" in answer.headers["Vary"]
    assert "Acme Dental (4242)" in text and "Harbor Clinic main lines" in text
    assert "Status: Submitted Sent to Carrier Relations" in text
    assert "Customer name exactly as on the bill HARBOR CLINIC, LLC" in text
    assert "Account number 81234465001" in text
    assert "Billing address Same as the service address." in text
    assert "Requested date The earliest the carriers allow" in text
    assert f"(614) 322-1001 Front desk ({ROUTING}) Google Ads ({SOURCE}) — Submitted Reject" in text
    assert "(614) 322-1002 Front desk" in text and "Rejected Not on the account." in text
    assert "(312) 555-0101 (614) 322-1002 Call queue (777)" in text
    documents = re.findall(
        rf'href="(/port-requests/{request_id}/documents/\d+(?:/preview)?)"', html
    )
    assert len(documents) == 4  # the bill and the signed LOA, each previewed and downloaded
    for url in documents:
        assert staff_client.get(url).status_code == 200
    assert f'href="/staff/requests/{request_id}/packet"' in html
    assert "Ann Owner : Submitted the request with 3 numbers to Carrier Relations" in text


def test_the_numbers_are_paged_and_the_pager_swaps_only_them(app, owner, staff_client, htmx):
    numbers = [f"(614) 322-{1001 + n}" for n in range(101)]
    request_id = make(app, owner, "submitted", numbers=numbers)

    first = text_of(staff_client.get(page(request_id)))
    second = staff_client.get(page(request_id, "?page=2"), headers=htmx("#request-numbers"))

    assert "Numbers 101" in first and "Page 1 of 2" in first and "(614) 322-1100" in first
    assert "(614) 322-1101" not in first
    assert "HX-Request" in second.headers["Vary"]
    body = second.get_data(as_text=True)
    assert 'id="request-numbers"' in body
    assert "(614) 322-1101" in text_of(second) and "<html" not in body


def test_comments_show_internal_ones_marked(app, owner, staff, staff_client):
    request_id = make(app, owner, "in_review")
    with app.app_context():
        pr = PortRequest.get_by_id(request_id)
        comments.add(pr, user=owner, body="Is there news?")
        comments.add(pr, user=staff, body="Called the carrier.", internal=True)

    text = text_of(staff_client.get(page(request_id)))

    assert "Comments 2" in text
    assert "Ann Owner (owner)" in text and "Is there news?" in text
    assert "Sam Staff (Carrier Relations) Internal: the owner does not see it" in text


@pytest.mark.parametrize("status", [status for status in STATUSES if status != "draft"])
def test_the_page_offers_the_moves_its_status_allows_and_no_other(app, owner, staff_client, status):
    request_id = make(app, owner, status)
    html = staff_client.get(page(request_id)).get_data(as_text=True)
    offered = re.findall(rf'action="/staff/requests/{request_id}/moves/(\w+)"', html)
    assert offered == moves_from(status)
    rejectable = len(re.findall(rf'action="/staff/requests/{request_id}/numbers/\d+/reject"', html))
    assert rejectable == (3 if status in NUMBER_REJECTABLE else 0)
    # Every form carries the status this page showed.
    assert html.count(f'name="shown" value="{status}"') == len(offered) + rejectable
    if not offered:
        assert "has no moves for Carrier Relations" in text_of_html(html)


def test_a_draft_is_not_in_the_console(app, owner, staff_client):
    request_id = make(app, owner, "draft")
    # The owner's until submitted: no page, no comment, no packet, no move.
    assert staff_client.get(page(request_id)).status_code == 404
    assert staff_client.post(f"/staff/requests/{request_id}/moves/start_review").status_code == 404


def number_id_of(app, request_id):
    with app.app_context():
        return number_id(request_id, TWO)


# Making a move ---------------------------------------------------------------------------------


FORMS = {
    "start_review": ("submitted", {}, "In review: the owner was emailed."),
    "require_action": (
        "in_review",
        {"codes": ["LOCATION_MISMATCH", "OTHER"], "note": "Suite 200 is on the CSR."},
        "Sent back to the owner for a correction (LOCATION_MISMATCH, OTHER): they were emailed.",
    ),
    "schedule_foc": ("in_review", {"window": "9:00-12:00 ET"}, "FOC date set: "),
    "complete": (
        "foc_scheduled",
        {},
        "Completed: the numbers are the account's tracking numbers now, and the owner was emailed.",
    ),
    "reject": (
        "submitted",
        {"reason": "Account closed."},
        "Rejected: its numbers are free again, and the owner was emailed.",
    ),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_a_move_posts_redirects_to_the_page_and_says_what_happened(app, owner, staff_client, name):
    status, data, said = FORMS[name]
    request_id = make(app, owner, status)
    if name == "schedule_foc":
        data = {**data, "foc_date": foc_day().isoformat()}

    answer = staff_client.post(page(request_id, f"/moves/{name}"), data={"shown": status, **data})

    assert answer.status_code == 302
    assert answer.headers["Location"] == page(request_id)
    shown = staff_client.get(page(request_id))
    assert any(message.startswith(said) for message in flashes(shown)), flashes(shown)
    assert status_of(app, request_id) == MOVES[name].to
    assert "Sam Staff : " in text_of(shown)


def test_a_stale_page_changes_nothing_and_says_where_the_request_stands(app, owner, staff_client):
    request_id = make(app, owner, "in_review")

    answer = staff_client.post(
        page(request_id, "/moves/reject"), data={"shown": "submitted", "reason": "Closed."}
    )

    assert answer.status_code == 302
    assert flashes(staff_client.get(page(request_id))) == [
        "The request changed while you were looking: it is in review now. Nothing was changed: "
        "check the page and do it again if it still applies."
    ]
    assert status_of(app, request_id) == "in_review"


def test_a_move_the_status_does_not_allow_is_refused_in_words(app, owner, staff_client):
    request_id = make(app, owner, "completed")
    staff_client.post(page(request_id, "/moves/start_review"), data={"shown": "completed"})
    (said,) = flashes(staff_client.get(page(request_id)))
    assert said.startswith("“Start review” is not possible: the request is completed now")
    assert status_of(app, request_id) == "completed"


@pytest.mark.parametrize(
    "name, status, data, error",
    [
        (
            "require_action",
            "in_review",
            {"codes": ["OTHER"], "note": "  "},
            "Enter a note for the owner.",
        ),
        (
            "require_action",
            "in_review",
            {"note": "Why"},
            "Pick at least one carrier exception code.",
        ),
        (
            "schedule_foc",
            "in_review",
            {"foc_date": "2027-02-30"},
            "Enter the FOC date as YYYY-MM-DD, like 2027-01-12.",
        ),
        ("schedule_foc", "in_review", {"foc_date": ""}, "Enter the FOC date as YYYY-MM-DD."),
        ("reject", "submitted", {"reason": ""}, "Enter the reason."),
    ],
)
def test_bad_input_is_shown_in_the_form_with_what_was_entered(
    app, owner, staff_client, name, status, data, error
):
    request_id = make(app, owner, status)

    answer = staff_client.post(page(request_id, f"/moves/{name}"), data={"shown": status, **data})

    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert error in text_of(answer)
    assert 'aria-invalid="true"' in html or 'aria-describedby="codes-error"' in html
    if data.get("codes"):
        assert 'value="OTHER" checked' in html
    if data.get("note", "").strip():
        assert re.search(r'name="note" rows="4">\s*Why</textarea>', html)
    assert status_of(app, request_id) == status


def test_a_completion_refused_says_which_numbers_stand_in_the_way(app, owner, staff_client):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        TrackingNumber.create(number=TWO, account=4242)

    staff_client.post(page(request_id, "/moves/complete"), data={"shown": "foc_scheduled"})

    (said,) = flashes(staff_client.get(page(request_id)))
    assert said.startswith("Nothing was completed: (614) 322-1002 is a tracking number already.")
    assert status_of(app, request_id) == "foc_scheduled"


# A number, a comment ---------------------------------------------------------------------------


def test_rejecting_one_number_from_the_page(app, owner, staff_client):
    request_id = make(app, owner, "in_review")
    two = number_id_of(app, request_id)

    refused = staff_client.post(
        page(request_id, f"/numbers/{two}/reject"), data={"shown": "in_review", "reason": " "}
    )
    assert refused.status_code == 302
    assert flashes(staff_client.get(page(request_id))) == [
        "Enter the reason the number is rejected."
    ]

    answer = staff_client.post(
        page(request_id, f"/numbers/{two}/reject?page=1"),
        data={"shown": "in_review", "reason": "Not on the account."},
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == page(request_id, "?page=1")
    shown = staff_client.get(page(request_id))
    assert flashes(shown) == ["Rejected (614) 322-1002: the owner was emailed."]
    assert "(614) 322-1002 Front desk" in text_of(shown)
    assert "Rejected Not on the account." in text_of(shown)
    with app.app_context():
        assert NumberClaim.select().where(NumberClaim.number == TWO).count() == 0


def test_a_staff_comment_reaches_the_owner_and_an_internal_one_does_not(app, owner, staff_client):
    request_id = make(app, owner, "in_review")

    empty = staff_client.post(page(request_id, "/comments"), data={"body": " \x00 "})
    assert empty.status_code == 400
    assert "Write a comment first: it was empty." in text_of(empty)

    answer = staff_client.post(page(request_id, "/comments"), data={"body": "Carrier called."})
    assert answer.status_code == 302
    assert answer.headers["Location"] == page(request_id) + "#comments"
    internal = staff_client.post(
        page(request_id, "/comments"), data={"body": "Rep was rude.", "internal": "y"}
    )
    assert internal.status_code == 302

    shown = staff_client.get(page(request_id))
    assert flashes(shown) == [
        "Comment added: the owner was emailed.",
        "Internal comment added.",
    ]
    with app.app_context():
        stored = RequestComment.select().order_by(RequestComment.id)
        assert [(c.body, c.internal, c.by_staff) for c in stored] == [
            ("Carrier called.", False, True),
            ("Rep was rude.", True, True),
        ]
        emails = OutboxEmail.select().where(OutboxEmail.purpose == "comment_from_staff")
        assert [email.to_address for email in emails] == ["owner@acme.test"]


def test_the_page_reads_as_many_statements_for_a_hundred_numbers_as_for_three(
    app, owner, staff_client, statements
):
    small = make(app, owner, "in_review")
    big = make(app, owner, "in_review", numbers=[f"(614) 323-{1001 + n}" for n in range(101)])
    with app.app_context():
        for request_id, first in ((small, "+1614322"), (big, "+1614323")):
            ReceivingReroute.create(
                port_request=request_id, receiving_number=f"{first}1001",
                tracking_number=f"{first}9001", routing_id=ROUTING,
            )  # fmt: skip

    counts = []
    for request_id in (small, big):
        statements.clear()
        assert staff_client.get(page(request_id)).status_code == 200
        counts.append(len(statements))

    assert counts[0] == counts[1]
    # The user, the request with its account, documents, re-routes, timeline, comments, the
    # numbers' count and page, their routing targets and tracking sources.
    assert counts[0] == 10
