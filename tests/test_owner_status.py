"""The owner's request page says where the port stands: the status with its sentence, the FOC date
and window, what the carrier needs with a way to fix it, the reason of a rejection, and each
number's own status."""

import datetime
import json
import re
from html import unescape

import pytest

from portal.models import PortNumber, PortRequest
from portal.port_requests.carrier_codes import CODES
from portal.port_requests.statuses import DESCRIPTIONS
from tests.test_fix_loop import NOTE, SECOND_E164, send_back, submitted
from tests.test_submit import make_submittable, text_of


def page_of(client, request_id, **args):
    return client.get(f"/port-requests/{request_id}", query_string=args)


def status_card(response):
    html = response.get_data(as_text=True)
    card = re.search(r'<section class="card request-status".*?</section>', html, re.S).group(0)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", card)).split())


def set_row(app, request_id, **values):
    with app.app_context():
        PortRequest.update(**values).where(PortRequest.id == request_id).execute()


@pytest.fixture
def mine(app, owner):
    return submitted(app, owner)


@pytest.mark.parametrize(
    "status",
    ["submitted", "in_review", "action_required", "foc_scheduled", "completed", "rejected"],
)
def test_each_status_says_what_it_means(app, owner_client, mine, status):
    set_row(app, mine, status=status)

    card = status_card(page_of(owner_client, mine))

    described = DESCRIPTIONS[status]
    assert f"Status: {described.label}" in card
    assert described.sentence in card


def test_a_confirmed_date_shows_its_day_and_window(app, owner_client, mine):
    set_row(
        app,
        mine,
        status="foc_scheduled",
        foc_date=datetime.date(2027, 1, 12),
        foc_window="9:00-12:00 ET",
    )

    card = status_card(page_of(owner_client, mine))

    assert "The numbers move on Tuesday, January 12, 2027 , 9:00-12:00 ET" in card


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_a_final_status_does_not_promise_the_date(app, owner_client, mine, status):
    set_row(app, mine, status=status, foc_date=datetime.date(2027, 1, 12))

    assert "The numbers move on" not in status_card(page_of(owner_client, mine))


def test_a_request_sent_back_says_what_to_fix_and_links_the_fix_page(app, owner_client, mine):
    send_back(app, mine, ["LOCATION_MISMATCH", "PASSCODE_PIN_INVALID"])

    page = page_of(owner_client, mine)

    card = status_card(page)
    for code in ("LOCATION_MISMATCH", "PASSCODE_PIN_INVALID"):
        assert f"{CODES[code].label} : {CODES[code].explanation}" in card
    assert NOTE in card
    assert f'href="/port-requests/{mine}/fix">Fix and resubmit</a>' in page.get_data(True)


def test_the_codes_go_once_the_request_is_resubmitted(app, owner_client, mine):
    send_back(app, mine, ["LOCATION_MISMATCH"])
    set_row(app, mine, status="in_review")  # the codes stay on the row, for the record

    page = page_of(owner_client, mine)

    assert CODES["LOCATION_MISMATCH"].explanation not in text_of(page)
    assert "Fix and resubmit" not in text_of(page)


def test_a_rejection_shows_its_reason(app, owner_client, mine):
    set_row(app, mine, status="rejected", status_note="The account was closed in October.")

    card = status_card(page_of(owner_client, mine))

    assert "The reason Carrier Relations gave: The account was closed in October." in card


def test_each_number_shows_its_status_and_reason(app, owner_client, mine):
    with app.app_context():
        PortNumber.update(status="rejected", reason="Has DSL on the line").where(
            (PortNumber.port_request == mine) & (PortNumber.e164 == SECOND_E164)
        ).execute()

    for answer in (page_of(owner_client, mine), page_of(owner_client, mine, page=1)):
        rows = re.findall(r'<td data-label="Status"[^>]*>(.*?)</td>', answer.get_data(True))
        words = [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
        assert words == ["Submitted", "Rejected Has DSL on the line"]


def test_the_numbers_pager_keeps_the_status_column(app, owner_client, mine, htmx):
    answer = owner_client.get(f"/port-requests/{mine}?page=1", headers=htmx("#request-numbers"))

    assert answer.get_data(as_text=True).count('data-label="Status"') == 2


def test_a_draft_has_no_status_column_nor_comments(app, owner, owner_client):
    draft = make_submittable(app, owner.account_id, created_by=owner)

    html = page_of(owner_client, draft).get_data(as_text=True)

    assert 'data-label="Status"' not in html
    assert 'id="comments"' not in html


@pytest.mark.parametrize(
    ("status", "goes_to"),
    [("action_required", "/fix"), ("in_review", ""), ("completed", "")],
)
def test_resume_leads_to_where_the_owner_acts(app, owner_client, mine, status, goes_to):
    set_row(app, mine, status=status, carrier_codes=json.dumps(["OTHER"]))

    answer = owner_client.get(f"/port-requests/{mine}/resume")

    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/port-requests/{mine}{goes_to}"


def test_only_a_draft_lists_the_wizards_steps(app, owner, owner_client, mine):
    draft = make_submittable(app, owner.account_id, numbers=["(614) 322-1090"], created_by=owner)

    assert 'id="steps-title"' in page_of(owner_client, draft).get_data(as_text=True)
    # Sent, the steps no longer open (each would bounce back here): the page says where it stands.
    assert 'id="steps-title"' not in page_of(owner_client, mine).get_data(as_text=True)
