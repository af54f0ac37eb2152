"""Submit and Cancel: what a submit checks, claims, logs and emails; each refusal with nothing
written; a claim conflict; cancelling; another account's ids; and twenty owners submitting one
number at the same moment (threads on real connections, and through a live server)."""

import hashlib
import json
import re
from html import unescape

import pytest
from fpdf import FPDF

from portal import create_app, documents
from portal.models import (
    Account,
    Document,
    NumberClaim,
    OutboxEmail,
    PortNumber,
    PortRequest,
    RequestEvent,
    RoutingTarget,
    TrackingSource,
    User,
    utcnow,
)
from portal.port_requests import agreements, operations
from portal.port_requests.drafts import store_numbers
from portal.port_requests.review import review
from tests import test_wizard_attacks
from tests.conftest import OWNER_EMAIL, PASSWORD, make_config, without_csrf
from tests.test_api import bearer, issue_key
from tests.test_proof_step import TYPO, bill_pdf, with_account
from tests.test_wizard_attacks import Tab, at_once
from tests.test_wizard_details import STORED

SHARED = "(614) 322-1001"
SHARED_E164 = "+16143221001"
LEAD_DAYS = 7


def today():
    return utcnow().date()


def add_inventory(account_id):
    """Give the account a routing target and a tracking source; return their ids."""
    routing = RoutingTarget.create(
        id=10_000 + account_id, account=account_id, name="Front desk", kind="number"
    )
    source = TrackingSource.create(id=20_000 + account_id, account=account_id, name="Google Ads")
    return routing.id, source.id


def signed_loa_pdf(request_id):
    """Return a PDF standing for a signed LOA (the signing pages are tested elsewhere)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, f"Letter of Authorization for port request {request_id}, signed")
    return bytes(pdf.output())


def add_bill(port_request, max_bytes, data=None):
    documents.store(
        account=port_request.account,
        kind="bill",
        data=bill_pdf() if data is None else data,
        label="harbor-bill.pdf",
        user=None,
        max_bytes=max_bytes,
        port_request=port_request,
        statement_date=today(),
    )


def sign_loa(port_request, max_bytes, *, signed_on=None):
    """Store a signed LOA for the request as it stands now (its current digest)."""
    found = review(port_request, today=today(), lead_business_days=LEAD_DAYS)
    documents.store(
        account=port_request.account,
        kind="signed_loa",
        data=signed_loa_pdf(port_request.id),
        label="signed-loa.pdf",
        user=None,
        max_bytes=max_bytes,
        port_request=port_request,
        signed_date=signed_on or today(),
        loa_digest=found.loa_digest,
    )


def make_submittable(
    app,
    account_id,
    *,
    numbers=(SHARED,),
    fields=None,
    created_by=None,
    bill=True,
    loa=True,
    accept=True,
    bill_data=None,
):
    """Store a draft that can be submitted (or lacks what is switched off); return its id.

    The account gets a routing target and a tracking source if it has none.
    """
    with app.app_context():
        routing = RoutingTarget.get_or_none(RoutingTarget.id == 10_000 + account_id)
        if routing is None:
            routing_id, source_id = add_inventory(account_id)
        else:
            routing_id, source_id = routing.id, 20_000 + account_id
        port_request = PortRequest.create(
            account=account_id,
            created_by=created_by,
            details=json.dumps(dict(STORED) if fields is None else fields),
        )
        rows = [
            {
                "phone_number": number,
                "routing_id": routing_id,
                "tracking_source_id": source_id,
                "friendly_name": "",
            }
            for number in numbers
        ]
        store_numbers(port_request, rows)
        if accept:
            agreements.accept(port_request, list(agreements.TEXTS), user=None, ip="203.0.113.9")
        max_bytes = app.config["MAX_DOCUMENT_BYTES"]
        if bill:
            add_bill(port_request, max_bytes, bill_data)
        if loa:
            sign_loa(port_request, max_bytes)
        return port_request.id


def many(count, start=1001):
    """Return `count` distinct valid numbers: (614) 322-1001, (614) 322-1002, ..."""
    return [
        f"(614) {322 + (start + n) // 10_000:03d}-{(start + n) % 10_000:04d}" for n in range(count)
    ]


def stored(app, request_id):
    """What a submit or cancel writes, to compare before and after."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        return {
            "status": port_request.status,
            "updated_at": port_request.updated_at,
            "claims": sorted(
                NumberClaim.select(NumberClaim.number, NumberClaim.port_request)
                .where(NumberClaim.port_request == request_id)
                .tuples()
            ),
            "number_statuses": [row.status for row in port_request.numbers()],
            "events": [
                (event.kind, event.message) for event in RequestEvent.of_request(request_id)
            ],
            "emails": OutboxEmail.select().count(),
        }


def text_of(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def flashes(response):
    return [
        " ".join(unescape(found).split())
        for found in re.findall(
            r'<p class="flash flash--\w+">(.*?)</p>', response.get_data(as_text=True), re.S
        )
    ]


def url(request_id, suffix=""):
    return f"/port-requests/{request_id}{suffix}"


@pytest.fixture
def mine(app, owner):
    return make_submittable(
        app, owner.account_id, numbers=[SHARED, "(614) 322-1002"], created_by=owner
    )


# A submittable request ----------------------------------------------------------------------


def test_the_helper_builds_a_request_with_nothing_left_to_do(app, mine):
    with app.app_context():
        found = review(PortRequest.get_by_id(mine), today=today(), lead_business_days=LEAD_DAYS)
        assert operations.blocking(found) == []
        assert found.submittable
        assert set(found.steps.values()) == {"complete", "incomplete"}
        assert [s for s, state in found.steps.items() if state == "incomplete"] == ["submit"]


def without_contact_name():
    fields = json.loads(json.dumps(STORED))
    fields["contact"]["name"] = None
    return fields


# Submitting ---------------------------------------------------------------------------------


def test_the_submit_page_sums_the_request_up_and_offers_the_button(app, owner_client, mine):
    response = owner_client.get(url(mine, "/submit"))
    text, html = text_of(response), response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Numbers 2 numbers" in text
    assert "Losing carrier Lumen" in text
    assert "Bill harbor-bill.pdf , statement of " + today().isoformat() in text
    assert "Letter of Authorization signed-loa.pdf , signed " + today().isoformat() in text
    assert "The earliest the carriers allow" in text
    assert f'action="{url(mine, "/submit")}"' in html
    assert "Submit the port request" in text
    assert "To do before you submit" not in text
    assert f'<a href="/port-requests/{mine}/submit" aria-current="step">' in html


def test_a_submit_claims_every_number_logs_it_and_emails_the_owner(app, owner_client, mine):
    response = owner_client.post(url(mine, "/submit"))

    assert response.status_code == 302
    assert response.headers["Location"] == url(mine)
    page = owner_client.get(url(mine))
    assert any(said.startswith("Submitted: Carrier Relations check") for said in flashes(page))
    assert "Status: Submitted Sent to Carrier Relations" in text_of(page)
    assert "Ann Owner : Submitted the request with 2 numbers to Carrier Relations" in text_of(page)
    with app.app_context():
        port_request = PortRequest.get_by_id(mine)
        assert port_request.status == "submitted"
        claims = NumberClaim.select().order_by(NumberClaim.number)
        assert [(c.number, c.account_id, c.port_request_id) for c in claims] == [
            (SHARED_E164, 4242, mine),
            ("+16143221002", 4242, mine),
        ]
        assert [row.status for row in port_request.numbers()] == ["submitted", "submitted"]
        event = list(RequestEvent.of_request(mine))[-1]
        assert (event.kind, event.actor, event.message) == (
            "submitted",
            "Ann Owner",
            "Submitted the request with 2 numbers to Carrier Relations (from 127.0.0.1).",
        )
        (email,) = OutboxEmail.select()
        assert (email.to_address, email.subject, email.purpose, email.reference) == (
            OWNER_EMAIL,
            "Port request submitted: Harbor Clinic main lines",
            "request_submitted",
            f"port_request:{mine}",
        )
        assert email.status == "queued"
        assert "2 numbers from Lumen, on the earliest date the carriers allow" in email.text_body
        for body in (email.text_body, email.html_body):
            assert f"http://localhost/port-requests/{mine}" in body


def test_after_submit_the_request_page_downloads_the_bill_and_the_signed_loa(
    app, owner_client, mine
):
    owner_client.post(url(mine, "/submit"))
    page = owner_client.get(url(mine)).get_data(as_text=True)
    with app.app_context():
        kept = {
            item.kind: item
            for item in Document.select().where(
                (Document.port_request == mine) & Document.replaced_at.is_null()
            )
        }

    assert set(kept) == {"bill", "signed_loa"}
    assert 'aria-labelledby="documents-title"' in page
    for item in kept.values():
        link = url(mine, f"/documents/{item.id}")
        assert f'href="{link}"' in page
        download = owner_client.get(link)
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == item.sha256


def test_after_submit_the_request_changes_no_more(app, owner_client, mine):
    owner_client.post(url(mine, "/submit"))
    key = issue_key(app, 4242)

    again = owner_client.post(url(mine, "/submit"))
    page = owner_client.get(again.headers["Location"])
    patched = app.test_client().patch(
        f"/api/v1/port-requests/{mine}", json={"friendly_name": "Renamed"}, headers=bearer(key)
    )

    assert again.status_code == 302
    assert "This request is submitted: it can no longer be changed." in flashes(page)
    for suffix in ("/general", "/details", "/numbers", "/agreements", "/bill", "/submit"):
        response = owner_client.get(url(mine, suffix))
        assert (response.status_code, response.headers["Location"]) == (302, url(mine))
    assert patched.status_code == 409
    assert patched.get_json()["error"]["code"] == "not_a_draft"
    assert "Continue" not in text_of(page)
    assert "Delete this draft" not in text_of(page)
    with app.app_context():
        assert NumberClaim.select().count() == 2
        assert OutboxEmail.select().count() == 1
        assert PortRequest.get_by_id(mine).fields["friendly_name"] == "Harbor Clinic main lines"


REFUSALS = {
    # case: (how the draft is made, words the page must show)
    "incomplete": (
        {"fields": without_contact_name()},
        ["Details", "Contact's name"],
    ),
    "loa missing": (
        {"loa": False},
        ["Letter of Authorization", "Get the Letter of Authorization signed"],
    ),
    "bill missing": ({"bill": False}, ["Proof of ownership"]),
    "agreements": ({"accept": False}, ["Accept every statement on the Agreements step."]),
    "unconfirmed warning": (
        {"fields": with_account(TYPO)},
        ["To check (1)", f"The account number {TYPO} is not on the bill", "I checked: it is right"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_submit_that_is_not_ready_is_refused_with_its_reasons_and_writes_nothing(
    app, owner_client, owner, case
):
    options, words = REFUSALS[case]
    request_id = make_submittable(app, 4242, created_by=owner, **options)
    with app.app_context():
        found = review(PortRequest.get_by_id(request_id), today=today(), lead_business_days=7)
        left = operations.blocking(found)
    before = stored(app, request_id)

    response = owner_client.post(url(request_id, "/submit"))
    text = text_of(response)

    assert response.status_code == 200
    assert stored(app, request_id) == before
    assert left
    assert "Nothing was submitted:" in text
    for problem in left:
        assert problem.message in text
    for word in words:
        assert word in text
    assert "Submit the port request" not in text
    assert f"Submit opens once nothing is left above: {len(left)} thing" in text
    with app.app_context():
        assert NumberClaim.select().count() == 0


def test_each_step_left_links_to_its_page(app, owner_client, owner):
    request_id = make_submittable(
        app, 4242, created_by=owner, fields=without_contact_name(), bill=False, accept=False
    )
    html = owner_client.get(url(request_id, "/submit")).get_data(as_text=True)

    for suffix, title in (
        ("/details", "Details"),
        ("/agreements", "Agreements"),
        ("/bill", "Proof of ownership"),
    ):
        assert f'href="{url(request_id, suffix)}">Go to {title}<' in html


def test_a_warning_confirmed_on_the_submit_page_comes_back_to_it_and_lets_the_submit_through(
    app, owner_client, owner
):
    request_id = make_submittable(app, 4242, created_by=owner, fields=with_account(TYPO))
    with app.app_context():
        found = review(PortRequest.get_by_id(request_id), today=today(), lead_business_days=7)
        (warning,) = operations.blocking(found)

    confirmed = owner_client.post(
        url(request_id, "/warnings/confirm"),
        data={
            "field": warning.field,
            "code": warning.code,
            "message": warning.message,
            "back": "submit",
        },
    )
    page = owner_client.get(confirmed.headers["Location"])
    submitted = owner_client.post(url(request_id, "/submit"))

    assert confirmed.headers["Location"] == url(request_id, "/submit#to-check")
    assert "Confirmed: you checked the account number." in flashes(page)
    assert "Submit the port request" in text_of(page)
    assert submitted.headers["Location"] == url(request_id)
    with app.app_context():
        assert PortRequest.get_by_id(request_id).status == "submitted"


def test_an_loa_signed_for_other_details_does_not_count(app, owner_client, mine):
    with app.app_context():
        port_request = PortRequest.get_by_id(mine)
        port_request.details = json.dumps({**port_request.fields, "friendly_name": "Renamed"})
        port_request.save()
        billing = {**port_request.fields["billing"], "customer_name": "HARBOR CLINIC LLC"}
        port_request.details = json.dumps({**port_request.fields, "billing": billing})
        port_request.save()
    before = stored(app, mine)

    response = owner_client.post(url(mine, "/submit"))

    assert response.status_code == 200
    assert "A detail on the LOA changed after it was signed" in text_of(response)
    assert stored(app, mine) == before


def test_submit_itself_refuses_a_request_that_left_draft(app, owner, mine):
    with app.app_context():
        account = Account.get_by_id(4242)
        operations.submit(account, mine, user=owner, ip="", today=today(), lead_business_days=7)
        with pytest.raises(operations.NotSubmittable) as refused:
            operations.submit(account, mine, user=owner, ip="", today=today(), lead_business_days=7)
        assert refused.value.message == (
            "This request is submitted already: only a draft is submitted."
        )
        assert (
            operations.submit(
                account, mine + 99, user=owner, ip="", today=today(), lead_business_days=7
            )
            is None
        )
        assert NumberClaim.select().count() == 2
        assert RequestEvent.select().where(RequestEvent.kind == "submitted").count() == 1


def test_two_tabs_submitting_one_request_at_once_submit_it_once(app, owner, mine):
    def submit():
        with app.app_context():
            try:
                operations.submit(
                    Account.get_by_id(4242), mine, user=owner, ip="", today=today(),
                    lead_business_days=7,
                )  # fmt: skip
            except operations.NotSubmittable as refused:
                return refused.message
            return "submitted"

    answers = at_once(submit, submit)

    assert sorted(answers) == [
        "This request is submitted already: only a draft is submitted.",
        "submitted",
    ]
    with app.app_context():
        assert NumberClaim.select().count() == 2
        assert RequestEvent.select().where(RequestEvent.kind == "submitted").count() == 1
        assert OutboxEmail.select().count() == 1


# A number another request holds --------------------------------------------------------------


def test_a_number_another_request_holds_is_named_and_nothing_is_half_done(
    app, owner_client, other_owner, mine
):
    theirs = make_submittable(app, 5151, created_by=other_owner)
    with app.app_context():
        operations.submit(
            Account.get_by_id(5151), theirs, user=other_owner, ip="", today=today(),
            lead_business_days=7,
        )  # fmt: skip
    before = stored(app, mine)

    response = owner_client.post(url(mine, "/submit"))
    text = text_of(response)

    assert response.status_code == 409
    assert (
        "Nothing was submitted: (614) 322-1001 is already in another port request that is "
        "submitted, in progress or completed. Remove it on the Numbers step, then submit again."
    ) in text
    assert "(614) 322-1002 is" not in text
    assert stored(app, mine) == before
    with app.app_context():
        assert [(c.number, c.port_request_id) for c in NumberClaim.select()] == [
            (SHARED_E164, theirs)
        ]


def test_a_claim_taken_after_the_review_read_is_refused_by_the_index_with_the_number_named(
    app, owner_client, other_owner, mine, monkeypatch
):
    """What PostgreSQL does when two submits both pass their review: the second's claim insert
    meets the first's committed claim. The review here misses the claim, as it would have."""
    theirs = make_submittable(app, 5151, created_by=other_owner)
    with app.app_context():
        NumberClaim.create(number=SHARED_E164, account=5151, port_request=theirs)
    real_review = operations.review

    def read_before_the_other_committed(port_request, **options):
        found = real_review(port_request, **options)
        for result in found.checked:
            if result.reason == "in_active_port":
                result.reason, result.portable = None, True
        found.problems = [p for p in found.problems if p.code != "in_active_port"]
        return found

    monkeypatch.setattr(operations, "review", read_before_the_other_committed)
    before = stored(app, mine)

    response = owner_client.post(url(mine, "/submit"))

    assert response.status_code == 409
    assert "Nothing was submitted: (614) 322-1001 is already in another port request" in (
        text_of(response)
    )
    assert stored(app, mine) == before
    with app.app_context():
        assert [(c.number, c.port_request_id) for c in NumberClaim.select()] == [
            (SHARED_E164, theirs)
        ]


def test_a_refusal_names_at_most_ten_numbers_and_counts_the_rest():
    numbers = [f"+1614322{1001 + n}" for n in range(12)]
    assert operations.taken_message(numbers).startswith(
        "Nothing was submitted: (614) 322-1001, (614) 322-1002, (614) 322-1003, "
        "(614) 322-1004, (614) 322-1005, (614) 322-1006, (614) 322-1007, (614) 322-1008, "
        "(614) 322-1009, (614) 322-1010 and 2 more are already in another port request"
    )


# What a submit costs --------------------------------------------------------------------------


def test_a_submit_takes_as_many_statements_for_1000_numbers_as_for_10(app, owner, statements):
    small = make_submittable(app, 4242, numbers=many(10), created_by=owner)
    large = make_submittable(app, 4242, numbers=many(1000, start=3001), created_by=owner)

    def count(request_id):
        with app.app_context():
            account = Account.get_by_id(4242)
            statements.clear()
            operations.submit(
                account, request_id, user=owner, ip="", today=today(), lead_business_days=7
            )
            return list(statements)

    few, lots = count(small), count(large)

    assert len(few) == len(lots)
    claims = [sql for sql in lots if sql.startswith('INSERT INTO "number_claim"')]
    assert len(claims) == 1
    # In number order: two transactions claiming the same numbers wait rather than deadlock.
    assert 'ORDER BY "t1"."e164"' in claims[0]
    with app.app_context():
        assert NumberClaim.select().count() == 1010
        assert PortNumber.select().where(PortNumber.status == "submitted").count() == 1010


# Cancelling -------------------------------------------------------------------------------------


def submitted(app, owner, request_id, status="submitted"):
    """Submit the request as its owner, then move it to `status` as staff would."""
    with app.app_context():
        operations.submit(
            Account.get_by_id(4242), request_id, user=owner, ip="", today=today(),
            lead_business_days=7,
        )  # fmt: skip
        PortRequest.update(status=status).where(PortRequest.id == request_id).execute()
    return request_id


@pytest.mark.parametrize("status", operations.CANCELLABLE)
def test_cancelling_releases_the_numbers_logs_the_reason_and_emails_the_owner(
    app, owner_client, owner, other_owner, mine, status
):
    submitted(app, owner, mine, status)
    request_page = owner_client.get(url(mine))
    confirm = owner_client.get(url(mine, "/cancel"))

    response = owner_client.post(url(mine, "/cancel"), data={"reason": "  We stay\nwith Lumen  "})

    assert f'href="{url(mine, "/cancel")}">Cancel this port request</a>' in (
        request_page.get_data(as_text=True)
    )
    assert confirm.status_code == 200
    assert "its 2 numbers stay where they are now and are free for a new request" in (
        text_of(confirm)
    )
    assert response.headers["Location"] == url(mine)
    page = owner_client.get(url(mine))
    assert any(
        'Cancelled "Harbor Clinic main lines": nothing moves' in said for said in flashes(page)
    )
    assert "Status: Cancelled" in text_of(page)
    assert "Cancel this port request" not in text_of(page)
    with app.app_context():
        assert PortRequest.get_by_id(mine).status == "cancelled"
        assert NumberClaim.select().count() == 0
        assert {row.status for row in PortRequest.get_by_id(mine).numbers()} == {"cancelled"}
        event = list(RequestEvent.of_request(mine))[-1]
        assert (event.kind, event.actor, event.message) == (
            "cancelled",
            "Ann Owner",
            "Cancelled the request: We stay with Lumen.",
        )
        email = OutboxEmail.select().order_by(OutboxEmail.id.desc()).first()
        assert (email.to_address, email.purpose, email.subject) == (
            OWNER_EMAIL,
            "request_cancelled",
            "Port request cancelled: Harbor Clinic main lines",
        )
        assert "The reason you gave: We stay with Lumen" in email.text_body
    # The numbers are free again: another account's request takes them.
    theirs = make_submittable(app, 5151, created_by=other_owner)
    with app.app_context():
        assert operations.submit(
            Account.get_by_id(5151), theirs, user=other_owner, ip="", today=today(),
            lead_business_days=7,
        ).status == "submitted"  # fmt: skip


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("draft", "there is nothing to cancel: delete the draft instead"),
        ("foc_scheduled", "The carrier has confirmed the date (FOC) for this request"),
        ("completed", "This request is completed: there is nothing left to cancel."),
        ("rejected", "This request is rejected: there is nothing left to cancel."),
        ("cancelled", "This request is cancelled already."),
    ],
)
def test_a_request_past_cancelling_is_left_as_it_is_and_says_why(
    app, owner_client, owner, mine, status, words
):
    if status != "draft":
        submitted(app, owner, mine, status)
    before = stored(app, mine)

    page = owner_client.get(url(mine))
    shown = owner_client.get(url(mine, "/cancel"))
    posted = owner_client.post(url(mine, "/cancel"), data={"reason": "Too late"})

    assert "Cancel this port request" not in text_of(page)
    for response in (shown, posted):
        assert (response.status_code, response.headers["Location"]) == (302, url(mine))
    assert any(words in said for said in flashes(owner_client.get(url(mine))))
    assert stored(app, mine) == before


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("Wrong\x00number", "Retype the reason: it holds a NUL character"),
        ("x" * 1001, "Shorten the reason to at most 1,000 characters (it has 1,001)."),
    ],
)
def test_a_reason_that_cannot_be_kept_is_named_and_nothing_is_cancelled(
    app, owner_client, owner, mine, reason, error
):
    submitted(app, owner, mine)
    before = stored(app, mine)

    response = owner_client.post(url(mine, "/cancel"), data={"reason": reason})

    assert response.status_code == 200
    assert "Nothing was cancelled: fix what is marked below." in text_of(response)
    assert error in text_of(response)
    assert stored(app, mine) == before


def test_staff_moving_the_request_on_meanwhile_wins_over_the_cancel(app, owner, mine, monkeypatch):
    """The status is read under the lock, and the update is conditional on it still allowing a
    cancel: a staff change that does not take the lock is not undone."""
    submitted(app, owner, mine)
    real_find = operations.PortRequest.find

    def staff_set_the_date_meanwhile(account, request_id, **options):
        found = real_find(account, request_id, **options)
        PortRequest.update(status="foc_scheduled").where(PortRequest.id == request_id).execute()
        return found

    monkeypatch.setattr(operations.PortRequest, "find", staff_set_the_date_meanwhile)
    with app.app_context():
        with pytest.raises(operations.CancelRefused) as refused:
            operations.cancel(Account.get_by_id(4242), mine, user=owner, reason="")
        assert refused.value.status == "foc_scheduled"
        assert NumberClaim.select().count() == 2


# Another account's request, and who may ---------------------------------------------------------

ROUTES = [("get", "/submit"), ("post", "/submit"), ("get", "/cancel"), ("post", "/cancel")]


@pytest.mark.parametrize("status", ["draft", "submitted"])
@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    app, owner_client, other_owner, method, suffix, status
):
    theirs = make_submittable(app, 5151, created_by=other_owner)
    if status == "submitted":
        with app.app_context():
            operations.submit(
                Account.get_by_id(5151), theirs, user=other_owner, ip="", today=today(),
                lead_business_days=7,
            )  # fmt: skip
    before = stored(app, theirs)
    owner_client.get("/settings/")  # shows the sign-in message, which would tell the two apart

    def answer(request_id):
        response = getattr(owner_client, method)(url(request_id, suffix), data={"reason": "x"})
        return response.status_code, without_csrf(response.get_data(as_text=True))

    foreign, missing, too_big = answer(theirs), answer(theirs + 1000), answer(2**31)

    assert foreign[0] == 404
    assert foreign == missing == too_big
    assert "Harbor Clinic" not in foreign[1]
    assert stored(app, theirs) == before


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_staff_neither_submit_nor_cancel(app, staff_client, owner, mine, method, suffix):
    before = stored(app, mine)
    assert getattr(staff_client, method)(url(mine, suffix)).status_code == 403
    assert stored(app, mine) == before


# Twenty owners, one number, one moment ---------------------------------------------------------

RACERS = 20


def racing_accounts(app):
    """Twenty accounts, each with an owner and a submittable request holding SHARED and a number
    of its own; return [(account id, owner, request id)]."""
    racers = []
    with app.app_context():
        for n in range(RACERS):
            account = Account.create(id=7000 + n, name=f"Clinic {n}")
            person = User(
                email=f"owner{n}@clinic{n}.test", name=f"Owner {n}", role="owner", account=account
            )
            person.set_password(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
            person.save()
            racers.append((account.id, person))
    return [
        (account_id, person, make_submittable(
            app, account_id, numbers=[SHARED, many(1, start=5000 + n)[0]], created_by=person
        ))
        for n, (account_id, person) in enumerate(racers)
    ]  # fmt: skip


def assert_one_won(app, racers, answers, won, lost):
    """Exactly one request submitted and holding both its numbers; the others drafts, told."""
    winners = [i for i, answer in enumerate(answers) if won(answer)]
    assert len(winners) == 1, answers
    assert all(lost(answer) for i, answer in enumerate(answers) if i != winners[0]), answers
    winner = racers[winners[0]][2]
    with app.app_context():
        statuses = dict(PortRequest.select(PortRequest.id, PortRequest.status).tuples())
        assert sorted(statuses.values()) == ["draft"] * (RACERS - 1) + ["submitted"]
        assert statuses[winner] == "submitted"
        claims = list(NumberClaim.select())
        assert {claim.port_request_id for claim in claims} == {winner}
        assert len(claims) == 2
        assert [c.number for c in claims if c.number == SHARED_E164] == [SHARED_E164]
        assert RequestEvent.select().where(RequestEvent.kind == "submitted").count() == 1
        assert OutboxEmail.select().count() == 1
        assert PortNumber.select().where(PortNumber.status.is_null(False)).count() == 2


@pytest.fixture
def race_app(database_url, tmp_path):
    """The app with a connection for every racer, so each submit runs on its own."""
    return create_app(make_config(database_url, tmp_path / "race", DB_POOL_SIZE=RACERS + 5))


def test_twenty_owners_submitting_one_number_at_once_one_wins(race_app):
    app = race_app
    racers = racing_accounts(app)

    def submit(account_id, person, request_id):
        with app.app_context():
            try:
                operations.submit(
                    Account.get_by_id(account_id), request_id, user=person, ip="198.51.100.7",
                    today=today(), lead_business_days=7,
                )  # fmt: skip
            except operations.NumbersTaken as refused:
                return refused.message
            return "submitted"

    answers = at_once(*[lambda racer=racer: submit(*racer) for racer in racers])

    assert_one_won(
        app,
        racers,
        answers,
        won=lambda answer: answer == "submitted",
        lost=lambda answer: answer.startswith(
            "Nothing was submitted: (614) 322-1001 is already in another port request"
        ),
    )


# The same race through a live server (werkzeug's threaded server, or gunicorn with
# ATTACK_SERVER=gunicorn as in test_wizard_attacks).
live = test_wizard_attacks.live


def test_twenty_owners_submitting_one_number_through_the_server_one_wins(app, live):
    racers = racing_accounts(app)
    opened = []
    try:
        tabs = []
        for _, person, request_id in racers:
            tab = Tab(live, opened)
            tab.get("/login")
            assert tab.post("/login", {"email": person.email, "password": PASSWORD})[0] == 302
            assert tab.get(url(request_id, "/submit"))[0] == 200
            tabs.append(tab)

        answers = at_once(
            *[
                lambda tab=tab, racer=racer: tab.post(url(racer[2], "/submit"), {})
                for tab, racer in zip(tabs, racers, strict=True)
            ]
        )
    finally:
        for tab in opened:
            tab.connection.close()

    assert_one_won(
        app,
        racers,
        answers,
        won=lambda answer: answer[0] == 302,
        lost=lambda answer: (
            answer[0] == 409
            and "Nothing was submitted: (614) 322-1001 is already in another port request"
            in answer[2]
        ),
    )
