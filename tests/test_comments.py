"""Comments on a request, both ways: the owner writes to Carrier Relations from the request's page
(staff are emailed), staff answer (the owner is emailed and reads it there), and a staff comment
kept internal never reaches the owner."""

import re
from html import unescape

import pytest

from portal.models import OutboxEmail, PortRequest, RequestComment, User
from portal.port_requests import comments
from tests.conftest import OWNER_EMAIL, STAFF_EMAIL
from tests.test_fix_loop import submitted
from tests.test_submit import flashes, make_submittable, text_of


def comment_url(request_id):
    return f"/port-requests/{request_id}/comments"


def stored_comments(app, request_id):
    with app.app_context():
        return [
            (row.author, row.by_staff, row.internal, row.body)
            for row in RequestComment.of_request(request_id, internal=True)
        ]


def emails(app, purpose):
    with app.app_context():
        return list(OutboxEmail.select().where(OutboxEmail.purpose == purpose))


def staff_says(app, staff, request_id, body, internal=False):
    """Write a comment as staff would on the console (helper B's route calls comments.add)."""
    with app.app_context():
        comments.add(
            PortRequest.get_by_id(request_id),
            user=User.get_by_id(staff.id),
            body=body,
            internal=internal,
        )


def comment_bodies(response):
    """Return (who, body) of each comment the page shows, in order."""
    html = response.get_data(as_text=True)
    return [
        (" ".join(unescape(re.sub(r"<[^>]+>", "", who)).split()), unescape(body))
        for who, body in re.findall(
            r'<p class="comment__who">(.*?)</p>\s*<p class="comment__body">(.*?)</p>', html, re.S
        )
    ]


@pytest.fixture
def mine(app, owner):
    return submitted(app, owner)


def test_an_owner_writes_to_carrier_relations(app, owner, staff, owner_client, mine):
    answer = owner_client.post(comment_url(mine), data={"body": "  The PIN is 4471.\n\nDana  "})

    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/port-requests/{mine}#comments"
    assert stored_comments(app, mine) == [("Ann Owner", False, False, "The PIN is 4471.\n\nDana")]
    [email] = emails(app, "comment_from_owner")
    assert email.to_address == STAFF_EMAIL
    assert "Ann Owner commented on" in email.subject
    assert "The PIN is 4471." in email.text_body
    assert f"/staff/requests/{mine}" in email.text_body
    page = owner_client.get(f"/port-requests/{mine}")
    assert "Sent to Carrier Relations" in " ".join(flashes(page))
    [(who, body)] = comment_bodies(page)
    assert who.startswith("Ann Owner,") and body == "The PIN is 4471.\n\nDana"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("", "Write a comment first: it was empty."),
        ("  \n\t ", "Write a comment first: it was empty."),
        ("\x00\x07", "Write a comment first: it was empty."),
        ("x" * (comments.MAX_COMMENT + 1), "A comment is at most 5,000 characters"),
    ],
)
def test_a_comment_that_cannot_be_sent_says_why(app, owner, staff, owner_client, mine, body, said):
    answer = owner_client.post(comment_url(mine), data={"body": body})

    assert answer.status_code == 400
    words = text_of(answer)
    assert "Nothing was sent to Carrier Relations" in words and said in words
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    assert stored_comments(app, mine) == []
    assert emails(app, "comment_from_owner") == []


def test_a_draft_takes_no_comment(app, owner, staff, owner_client):
    draft = make_submittable(app, owner.account_id, created_by=owner)

    answer = owner_client.post(comment_url(draft), data={"body": "Hello?"})

    assert answer.status_code == 302
    assert "A draft is not sent yet" in " ".join(
        flashes(owner_client.get(f"/port-requests/{draft}"))
    )
    assert stored_comments(app, draft) == []
    assert 'id="comments"' not in owner_client.get(f"/port-requests/{draft}").get_data(True)


def test_staff_answer_and_the_owner_reads_and_is_emailed(app, owner, staff, owner_client, mine):
    owner_client.post(comment_url(mine), data={"body": "Is the address right?"})
    staff_says(app, staff, mine, "Yes: the carrier <b>confirmed</b> it.")
    owner_client.post(comment_url(mine), data={"body": "Thanks!"})

    page = owner_client.get(f"/port-requests/{mine}")

    shown = comment_bodies(page)
    assert [body for _, body in shown] == [
        "Is the address right?",
        "Yes: the carrier <b>confirmed</b> it.",
        "Thanks!",
    ]
    assert shown[1][0].startswith("Sam Staff (Carrier Relations),")
    assert "&lt;b&gt;confirmed&lt;/b&gt;" in page.get_data(as_text=True)
    [email] = emails(app, "comment_from_staff")
    assert email.to_address == OWNER_EMAIL
    assert "Yes: the carrier <b>confirmed</b> it." in email.text_body
    assert "&lt;b&gt;confirmed&lt;/b&gt;" in email.html_body
    assert f"/port-requests/{mine}" in email.text_body
    assert len(emails(app, "comment_from_owner")) == 2


def test_an_internal_staff_comment_never_reaches_the_owner(app, owner, staff, owner_client, mine):
    staff_says(app, staff, mine, "Carrier rep is slow; chase Tuesday.", internal=True)
    staff_says(app, staff, mine, "We are waiting on the carrier.")

    page = owner_client.get(f"/port-requests/{mine}")

    assert [body for _, body in comment_bodies(page)] == ["We are waiting on the carrier."]
    assert "chase Tuesday" not in page.get_data(as_text=True)
    assert len(emails(app, "comment_from_staff")) == 1
    assert stored_comments(app, mine)[0][2] is True  # kept, for staff


def test_an_owner_cannot_make_a_comment_internal(app, owner, staff, owner_client, mine):
    owner_client.post(comment_url(mine), data={"body": "Mine", "internal": "y"})

    assert stored_comments(app, mine) == [("Ann Owner", False, False, "Mine")]


def test_another_accounts_request_takes_no_comment(app, owner, other_owner, owner_client):
    theirs = submitted(app, other_owner, numbers=["(614) 322-1009"])

    answer = owner_client.post(comment_url(theirs), data={"body": "Hello"})

    assert answer.status_code == 404
    assert stored_comments(app, theirs) == []


def test_staff_do_not_write_through_the_owners_page(app, owner, staff, staff_client, mine):
    answer = staff_client.post(comment_url(mine), data={"body": "Hello"})

    assert answer.status_code == 403
    assert stored_comments(app, mine) == []
