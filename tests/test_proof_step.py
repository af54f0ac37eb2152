"""The Proof of ownership step: the bill uploaded, read against the request, its warnings fixed
or confirmed; a request's documents downloaded and previewed by its owners and staff."""

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from fpdf import FPDF
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from portal import documents
from portal.models import (
    Document,
    DocumentContent,
    PortRequest,
    RequestEvent,
    WarningConfirmation,
    utcnow,
)
from portal.port_requests import agreements
from portal.port_requests.drafts import store_numbers
from portal.port_requests.review import STEP_TITLES, review
from portal.port_requests.rules import step_of
from tests import test_browser
from tests.conftest import OTHER_OWNER_EMAIL, OWNER_EMAIL, login, without_csrf
from tests.test_api import bearer, issue_key
from tests.test_port_request_pages import add_inventory, step_states
from tests.test_wizard_details import COMPLETE, STORED

# Harbor Clinic's bill, as the carrier prints it: every detail of COMPLETE is on it.
ACCOUNT = "81234465001"
BILL_LINES = (
    "Lumen",
    "HARBOR CLINIC, LLC",
    "1200 N HIGH ST",
    "COLUMBUS OH 43201-2231",
    f"Account number: {ACCOUNT[:4]} {ACCOUNT[4:8]} {ACCOUNT[8:]}",
    "Billing telephone number: 614-322-1000",
    "Local service ........ $182.40",
)
TYPO = "81234465010"  # two digits swapped
CREATED = datetime(2027, 1, 5, tzinfo=UTC)


def bill_pdf(lines=BILL_LINES, pages=1):
    """Return a PDF with a text layer holding the lines (on its first page), like a carrier's."""
    pdf = FPDF()
    pdf.set_creation_date(CREATED)  # the same lines make the same bytes
    pdf.set_font("Helvetica", size=11)
    for page in range(pages):
        pdf.add_page()
        for line in lines if page == 0 else (f"Page {page + 1}: calls and charges",):
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def bill_png():
    """Return a photo of a bill: an image, so no text layer to read."""
    out = io.BytesIO()
    Image.new("RGB", (320, 200), "white").save(out, format="PNG")
    return out.getvalue()


def today():
    return utcnow().date()


def make_draft(app, account, fields=None, *, status="draft", numbers=1):
    """Store a draft with Harbor Clinic's details (or these fields) and numbers; return its id."""
    fields = dict(STORED) if fields is None else fields
    with app.app_context():
        port_request = PortRequest.create(
            account=account, status=status, details=json.dumps(fields)
        )
        rows = [
            {
                "phone_number": f"(614) 322-{1001 + n}",
                "routing_id": 402,
                "tracking_source_id": 301,
                "friendly_name": "",
            }
            for n in range(numbers)
        ]
        store_numbers(port_request, rows)
        return port_request.id


def with_account(number):
    return {**STORED, "billing": {**STORED["billing"], "account_number": number}}


def bill_url(request_id):
    return f"/port-requests/{request_id}/bill"


def upload(client, request_id, data=None, *, name="harbor-bill.pdf", day=None, **headers):
    data = bill_pdf() if data is None else data
    form = {
        "file": (io.BytesIO(data), name),
        "statement_date": (day or today()).isoformat() if day != "" else "",
    }
    return client.post(
        bill_url(request_id), data=form, content_type="multipart/form-data", headers=headers
    )


def store_bill(app, request_id, data=None, *, day=None, label="bill.pdf", user=None):
    """Store a bill on the request as the step would; return the Document."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        return documents.store(
            account=port_request.account,
            kind="bill",
            data=bill_pdf() if data is None else data,
            label=label,
            user=user,
            max_bytes=app.config["MAX_DOCUMENT_BYTES"],
            port_request=port_request,
            statement_date=day or today(),
        )


def reviewed(app, request_id):
    with app.app_context():
        return review(PortRequest.get_by_id(request_id), today=today(), lead_business_days=7)


def text_of(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def findings(response):
    """The words of the page's "The bill read against the request" region."""
    html = response.get_data(as_text=True)
    match = re.search(r'<section class="card bill-findings".*?</section>', html, re.DOTALL)
    assert match, "no findings on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(0))).split())


def events(app, request_id):
    with app.app_context():
        rows = RequestEvent.select().where(RequestEvent.port_request == request_id)
        return [(row.kind, row.message, row.actor) for row in rows.order_by(RequestEvent.id)]


def stored_documents(app):
    with app.app_context():
        return Document.select().count(), DocumentContent.select().count()


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


# The browser tests' own fixtures: Debian's chromium on a phone, the app served with CSRF on.
browser, live_server, phone = test_browser.browser, test_browser.live_server, test_browser.phone


@pytest.fixture
def draft(app, inventory):
    return make_draft(app, inventory[0])


# The step's place


def test_the_bill_step_comes_after_the_agreements_and_before_the_loa(app, owner_client, inventory):
    request_id = make_draft(app, inventory[0])

    html = owner_client.get(f"/port-requests/{request_id}").get_data(as_text=True)

    assert list(STEP_TITLES) == [
        "general", "details", "numbers", "agreements", "bill", "loa", "submit",
    ]  # fmt: skip
    assert list(step_states(html).items())[4:] == [
        ("Proof of ownership", "incomplete"),
        ("Letter of Authorization", "incomplete"),
        ("Submit", "incomplete"),
    ]
    links = re.findall(rf'<a href="/port-requests/{request_id}/(\w+)">', html)
    assert links == ["general", "details", "numbers", "agreements", "bill", "loa", "submit"]


@pytest.mark.parametrize(
    ("field", "step"),
    [
        ("bill", "bill"),
        ("bill.statement_date", "bill"),
        ("billing.account_number", "details"),
        ("numbers[2].routing_id", "numbers"),
        ("billing", "details"),
    ],
)
def test_the_bills_paths_belong_to_its_step(field, step):
    assert step_of(field) == step


def test_without_a_bill_the_request_needs_one(app, owner_client, draft):
    found = reviewed(app, draft)
    page = owner_client.get(bill_url(draft))

    assert [(p.field, p.code, p.severity) for p in found.problems_of("bill")] == [
        ("bill", "bill_required", "error")
    ]
    assert found.steps["bill"] == "incomplete"
    assert page.status_code == 200
    text = text_of(page)
    assert "Upload the latest bill" in text
    assert found.problems_of("bill")[0].message in text
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)


# Uploading


def test_a_bill_showing_every_detail_completes_the_step_without_a_warning(
    app, owner_client, owner, draft
):
    response = upload(owner_client, draft)

    assert response.status_code == 302
    assert response.headers["Location"] == bill_url(draft)
    found = reviewed(app, draft)
    assert found.steps["bill"] == "complete"
    assert found.bill_problems == []
    assert not [p for p in found.problems if p.code == "not_on_bill"]
    with app.app_context():
        stored = Document.get()
        assert (stored.kind, stored.label, stored.media_type, stored.pages) == (
            "bill", "harbor-bill.pdf", "application/pdf", 1,
        )  # fmt: skip
        assert stored.statement_date == today()
        assert stored.port_request_id == draft
        assert stored.uploaded_by_id == owner.id
        assert "HARBOR CLINIC" in stored.text
    assert events(app, draft)[-1] == ("document", "Uploaded the bill harbor-bill.pdf.", "Ann Owner")
    page = owner_client.get(bill_url(draft))
    assert "Stored the bill harbor-bill.pdf: the details you entered are on it." in text_of(page)
    assert "Nothing to check" in findings(page)
    assert step_states(page.get_data(as_text=True))["Proof of ownership"] == "complete"
    text = text_of(page)
    assert f"Statement date {today().isoformat()}" in text
    assert "Uploaded by Ann Owner on" in text
    assert "PDF, 1 page," in text
    assert "Replace the bill" in text


def test_a_typo_in_the_account_number_is_named_with_the_bills_text_until_it_is_fixed(
    app, owner_client, inventory
):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)

    page = owner_client.get(bill_url(request_id))
    found = reviewed(app, request_id)

    [warning] = found.bill_problems
    assert (warning.field, warning.code, warning.severity) == (
        "billing.account_number", "not_on_bill", "warning",
    )  # fmt: skip
    assert TYPO in warning.message and "8123 4465 001" in warning.message
    assert found.steps["bill"] == found.steps["details"] == "complete"  # warnings do not block
    words = findings(page)
    assert "Check Account number" in words
    assert warning.message in words
    html = page.get_data(as_text=True)
    assert f'href="/port-requests/{request_id}/details#billing.account_number"' in html
    assert "I checked: the bill is right" in html
    # The Details step shows it on the field too.
    details = owner_client.get(f"/port-requests/{request_id}/details").get_data(as_text=True)
    assert unescape(warning.message) in unescape(details)

    fixed = owner_client.post(f"/port-requests/{request_id}/details", data=COMPLETE)

    assert fixed.status_code == 302
    assert reviewed(app, request_id).bill_problems == []
    assert "Nothing to check" in findings(owner_client.get(bill_url(request_id)))


def test_a_bill_without_a_text_layer_is_checked_by_eye(app, owner_client, draft):
    response = upload(owner_client, draft, bill_png(), name="photo of bill.png")

    assert response.status_code == 302
    found = reviewed(app, draft)
    assert [(p.field, p.code, p.severity) for p in found.bill_problems] == [
        ("bill", "bill_unreadable", "warning")
    ]
    assert found.steps["bill"] == "complete"
    page = owner_client.get(bill_url(draft))
    html = page.get_data(as_text=True)
    assert found.bill_problems[0].message in findings(page)
    with app.app_context():
        stored = Document.get()
    preview = f"/port-requests/{draft}/documents/{stored.id}/preview"
    assert f'<img src="{preview}" alt="The bill as uploaded">' in html
    assert "<iframe" not in html
    assert "PNG image, 1 page," in text_of(page)


def test_a_pdf_bill_is_previewed_in_a_frame_of_this_site(app, owner_client, draft):
    upload(owner_client, draft, bill_pdf(pages=3))

    page = owner_client.get(bill_url(draft))
    html = page.get_data(as_text=True)

    with app.app_context():
        stored = Document.get()
    preview = f"/port-requests/{draft}/documents/{stored.id}/preview"
    assert f'<iframe src="{preview}" title="The bill\'s first page"' in html
    assert f'href="/port-requests/{draft}/documents/{stored.id}" download' in html
    # The page itself is framed by nothing; default-src 'self' lets it frame the preview.
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        pytest.param(lambda: today() + timedelta(days=1), "is in the future", id="tomorrow"),
        pytest.param(lambda: "", "Enter the statement date printed on the bill.", id="missing"),
        pytest.param(lambda: "05/01/2027", "Enter the statement date as a date", id="us-style"),
        pytest.param(lambda: "2027-02-30", "Enter the statement date as a date", id="no-such-day"),
        pytest.param(lambda: "2027-01-05\x00", "Enter the statement date as a date", id="nul"),
        pytest.param(lambda: "9" * 100_000, "Enter the statement date as a date", id="huge"),
    ],
)
def test_a_statement_date_that_is_not_a_past_date_is_refused_on_its_field(
    app, owner_client, draft, day, message
):
    value = day()
    form = {
        "file": (io.BytesIO(bill_pdf()), "bill.pdf"),
        "statement_date": value if isinstance(value, str) else value.isoformat(),
    }
    response = owner_client.post(bill_url(draft), data=form, content_type="multipart/form-data")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(r'<p class="field__error" id="statement_date-error">(.*?)</p>', html)
    assert error and message in unescape(error.group(1))
    assert 'aria-describedby="statement_date-hint statement_date-error"' in html
    assert "The bill was not stored" in text_of(response)
    assert stored_documents(app) == (0, 0)
    assert events(app, draft) == []


def test_a_bill_older_than_30_days_is_a_warning_the_owner_can_confirm(app, owner_client, draft):
    old = today() - timedelta(days=31)
    assert upload(owner_client, draft, day=old).status_code == 302

    found = reviewed(app, draft)

    assert [(p.field, p.code, p.severity) for p in found.bill_problems] == [
        ("bill.statement_date", "statement_date_old", "warning")
    ]
    assert found.steps["bill"] == "complete"
    page = owner_client.get(bill_url(draft))
    assert "Check Statement date" in findings(page)
    assert 'href="#statement_date"' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "bill.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 200, "bill.pdf"),
        (b"", "empty.pdf"),
        (b"%PDF-1.7\n1 0 obj", "truncated.pdf"),
    ],
    ids=["html", "exe", "empty", "truncated"],
)
def test_a_refused_file_is_named_on_the_file_field_and_nothing_is_stored(
    app, owner_client, draft, data, name
):
    with pytest.raises(documents.DocumentRefused) as refused:
        documents.inspect(data, "bill", max_bytes=app.config["MAX_DOCUMENT_BYTES"])

    response = upload(owner_client, draft, data, name=name)

    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert f'<p class="field__error" id="file-error">{refused.value}</p>' in html
    assert stored_documents(app) == (0, 0)
    assert events(app, draft) == []


def test_a_form_without_a_file_asks_for_one(app, owner_client, draft):
    response = owner_client.post(bill_url(draft), data={"statement_date": today().isoformat()})

    assert response.status_code == 400
    assert "Choose the bill&#39;s file" in response.get_data(as_text=True)
    assert stored_documents(app) == (0, 0)


def test_a_file_over_the_limit_is_refused_without_storing_it(app, owner_client, draft, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_DOCUMENT_BYTES", 2_000)
    big = bill_pdf(lines=BILL_LINES * 40, pages=4)
    assert len(big) > 2_000

    response = upload(owner_client, draft, big)

    assert response.status_code == 400
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert stored_documents(app) == (0, 0)


def test_replacing_the_bill_keeps_the_old_one_in_the_history(app, owner_client, draft):
    upload(owner_client, draft, name="january.pdf", day=today() - timedelta(days=20))
    upload(owner_client, draft, name="february.pdf")

    with app.app_context():
        rows = list(Document.select().order_by(Document.id))
    assert [(row.label, row.replaced_at is None) for row in rows] == [
        ("january.pdf", False),
        ("february.pdf", True),
    ]
    assert [message for _, message, _ in events(app, draft)] == [
        "Uploaded the bill january.pdf.",
        "Replaced the bill january.pdf with february.pdf.",
    ]
    page = owner_client.get(bill_url(draft))
    text = text_of(page)
    assert "Earlier bills" in text
    assert "january.pdf (statement " in text
    assert "replaced by Ann Owner on" in text
    assert f'href="/port-requests/{draft}/documents/{rows[0].id}">january.pdf</a>' in (
        page.get_data(as_text=True)
    )
    assert reviewed(app, draft).bill.label == "february.pdf"


def test_the_timeline_says_who_uploaded_and_replaced_the_bill(app, owner_client, draft):
    upload(owner_client, draft, name="a.pdf")
    upload(owner_client, draft, name="b.pdf")

    text = text_of(owner_client.get(f"/port-requests/{draft}"))

    assert "Ann Owner : Uploaded the bill a.pdf." in text
    assert "Ann Owner : Replaced the bill a.pdf with b.pdf." in text


def test_a_file_name_is_only_a_label(app, owner_client, draft):
    response = upload(owner_client, draft, name="../../etc/passwd\u202e.pdf")

    assert response.status_code == 302
    with app.app_context():
        stored = Document.get()
    assert stored.label == "passwd.pdf"
    download = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}")
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{documents.download_name(stored)}"'
    )
    assert "passwd" not in download.headers["Content-Disposition"]


# Confirming a warning


def confirm(client, request_id, problem, **headers):
    form = {"field": problem.field, "code": problem.code, "message": problem.message}
    return client.post(f"/port-requests/{request_id}/warnings/confirm", data=form, headers=headers)


def test_a_confirmed_warning_is_listed_as_confirmed_until_its_message_changes(
    app, owner_client, owner, inventory
):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)
    [warning] = reviewed(app, request_id).bill_problems

    response = confirm(owner_client, request_id, warning)

    assert response.status_code == 302
    assert response.headers["Location"] == bill_url(request_id) + "#bill-findings"
    found = reviewed(app, request_id)
    assert warning not in found.problems
    assert [(p, row.user_name) for p, row in found.confirmed] == [(warning, "Ann Owner")]
    page = owner_client.get(bill_url(request_id))
    words = findings(page)
    assert "Nothing left to check" in words
    assert f"Account number : {warning.message} Confirmed by Ann Owner on" in words
    assert "Confirmed: you checked the account number against the bill." in text_of(page)
    with app.app_context():
        row = WarningConfirmation.get()
        assert (row.field, row.code, row.message, row.user_id) == (
            warning.field, warning.code, warning.message, owner.id,
        )  # fmt: skip
    assert events(app, request_id)[-1] == (
        "confirmed",
        f"Checked the account number against the bill: {warning.message}",
        "Ann Owner",
    )
    # Another typo: another message, which asks again.
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        port_request.details = json.dumps(with_account("81234465099"))
        port_request.save()
    [again] = reviewed(app, request_id).bill_problems
    assert again.field == warning.field and again.message != warning.message
    assert reviewed(app, request_id).confirmed == []


def test_confirming_twice_records_it_once(app, owner_client, inventory):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)
    [warning] = reviewed(app, request_id).bill_problems

    confirm(owner_client, request_id, warning)
    second = confirm(owner_client, request_id, warning)

    assert second.status_code == 302
    with app.app_context():
        assert WarningConfirmation.select().count() == 1
    assert [kind for kind, _, _ in events(app, request_id)].count("confirmed") == 1


@pytest.mark.parametrize(
    "change",
    [
        {"message": "account number 1 is not on the bill"},
        {"code": "bill_unreadable"},
        {"field": "billing.customer_name"},
        {"message": "x" * 1_000_000},
        {"message": "\x00"},
    ],
    ids=["other-words", "other-code", "other-field", "megabyte", "nul"],
)
def test_a_warning_the_page_did_not_show_is_not_confirmed(app, owner_client, inventory, change):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)
    [warning] = reviewed(app, request_id).bill_problems

    response = confirm(owner_client, request_id, warning._replace(**change))

    assert response.status_code == 302
    with app.app_context():
        assert WarningConfirmation.select().count() == 0
    page = owner_client.get(bill_url(request_id))
    assert "That warning changed since the page was loaded, so nothing was confirmed" in (
        text_of(page)
    )
    assert reviewed(app, request_id).bill_problems == [warning]


def test_an_error_cannot_be_confirmed(app, owner_client, draft):
    [needed] = reviewed(app, draft).problems_of("bill")

    confirm(owner_client, draft, needed)

    with app.app_context():
        assert WarningConfirmation.select().count() == 0
    assert reviewed(app, draft).problems_of("bill") == [needed]


def test_htmx_confirms_in_place(app, owner_client, inventory, htmx):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)
    [warning] = reviewed(app, request_id).bill_problems

    response = confirm(owner_client, request_id, warning, **htmx("bill-findings"))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card bill-findings" id="bill-findings"')
    assert (
        '<p class="bill-findings__status" id="bill-findings-status" role="status" '
        'aria-live="polite">Confirmed: you checked the account number against the bill.</p>'
    ) in html
    assert "Confirmed by Ann Owner" in html


def test_htmx_says_in_place_when_a_warning_changed_before_it_was_confirmed(
    app, owner_client, inventory, htmx
):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)
    [warning] = reviewed(app, request_id).bill_problems

    response = confirm(owner_client, request_id, warning._replace(message="old words"), **htmx())

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "bill-findings__status bill-findings__status--warning" in html
    assert "That warning changed since the page was loaded, so nothing was confirmed" in html
    assert warning.message in unescape(html)


def test_deleting_a_draft_deletes_its_documents(app, owner_client, inventory):
    request_id = make_draft(app, inventory[0])
    kept = make_draft(app, inventory[0])
    upload(owner_client, request_id, name="a.pdf")
    upload(owner_client, request_id, name="b.pdf")
    upload(owner_client, kept, name="kept.pdf")

    response = owner_client.post(f"/port-requests/{request_id}/delete")

    assert response.status_code == 302
    assert stored_documents(app) == (1, 1)
    with app.app_context():
        assert Document.get().label == "kept.pdf"


def test_the_confirm_buttons_work_without_javascript(app, owner_client, inventory):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    upload(owner_client, request_id)

    html = owner_client.get(bill_url(request_id)).get_data(as_text=True)

    form = re.search(
        r'<form method="post" action="(/port-requests/\d+/warnings/confirm)" hx-post="\1"', html
    )
    assert form and form.group(1) == f"/port-requests/{request_id}/warnings/confirm"
    assert 'aria-describedby="finding-1-message">I checked: the bill is right</button>' in html


# Who may, and when


def test_a_request_that_left_draft_takes_no_bill(app, owner_client, inventory):
    request_id = make_draft(app, inventory[0], status="submitted")

    page = owner_client.get(bill_url(request_id))
    posted = upload(owner_client, request_id)

    for response in (page, posted):
        assert response.status_code == 302
        assert response.headers["Location"] == f"/port-requests/{request_id}"
    assert stored_documents(app) == (0, 0)
    followed = owner_client.get(f"/port-requests/{request_id}")
    assert "This request is submitted: it can no longer be changed." in text_of(followed)


def test_a_bill_sent_as_the_request_leaves_draft_is_not_stored(
    app, owner_client, draft, monkeypatch
):
    from portal.port_requests import proof

    def submitted_meanwhile(account, request_id):
        PortRequest.update(status="submitted").where(PortRequest.id == request_id).execute()
        return locked(account, request_id)

    locked = proof.locked_draft
    monkeypatch.setattr(proof, "locked_draft", submitted_meanwhile)

    response = upload(owner_client, draft)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{draft}"
    assert stored_documents(app) == (0, 0)


@pytest.fixture
def foreign(app, inventory, other_owner):
    """Globex's draft with a bill: Acme's owner must find nothing of it."""
    request_id = make_draft(app, inventory[1])
    stored = store_bill(app, request_id, user=other_owner)
    return request_id, stored.id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/bill"),
        ("post", "/bill"),
        ("post", "/warnings/confirm"),
        ("get", "/documents/{doc}"),
        ("get", "/documents/{doc}/preview"),
    ],
)
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    app, owner_client, foreign, method, path
):
    request_id, doc = foreign
    owner_client.get("/port-requests/")  # shows "Signed in", which would differ once
    answers = [
        getattr(owner_client, method)(f"/port-requests/{target}{path.format(doc=doc)}")
        for target in (request_id, 999_999, 2**31, 2**70)
    ]

    assert [answer.status_code for answer in answers] == [404] * 4
    assert len({without_csrf(answer.data) for answer in answers}) == 1
    assert stored_documents(app) == (1, 1)


def test_a_document_is_found_only_under_its_own_request(app, owner_client, inventory, foreign):
    mine = make_draft(app, inventory[0])
    other_mine = make_draft(app, inventory[0])
    my_bill = store_bill(app, other_mine)
    _, foreign_doc = foreign

    for doc in (foreign_doc, my_bill.id, 999_999, 2**31):
        for suffix in ("", "/preview"):
            response = owner_client.get(f"/port-requests/{mine}/documents/{doc}{suffix}")
            assert response.status_code == 404, (doc, suffix)


def test_staff_download_any_accounts_document_but_never_upload(app, staff_client, foreign):
    request_id, doc = foreign

    download = staff_client.get(f"/port-requests/{request_id}/documents/{doc}")
    preview = staff_client.get(f"/port-requests/{request_id}/documents/{doc}/preview")
    step = staff_client.get(bill_url(request_id))

    assert download.status_code == preview.status_code == 200
    assert download.data == bill_pdf()
    assert step.status_code == 403
    assert staff_client.get(f"/port-requests/{request_id}/documents/999999").status_code == 404


def test_the_other_accounts_owner_downloads_their_own(app, foreign, other_owner):
    request_id, doc = foreign
    client = app.test_client()
    login(client, OTHER_OWNER_EMAIL)

    assert client.get(f"/port-requests/{request_id}/documents/{doc}").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(app, client, foreign):
    request_id, doc = foreign

    response = client.get(f"/port-requests/{request_id}/documents/{doc}")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# Downloads and preview


def test_a_download_is_the_stored_bytes_as_an_attachment(app, owner_client, draft):
    data = bill_pdf(pages=2)
    stored = store_bill(app, draft, data)

    response = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}")

    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    name = documents.download_name(stored)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name)
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_submitted_requests_documents_still_download(app, owner_client, inventory):
    request_id = make_draft(app, inventory[0])
    stored = store_bill(app, request_id)
    with app.app_context():
        PortRequest.update(status="in_review").where(PortRequest.id == request_id).execute()

    response = owner_client.get(f"/port-requests/{request_id}/documents/{stored.id}")

    assert response.status_code == 200


def test_a_pdfs_preview_is_its_first_page_shown_inline_in_a_frame_of_this_site(
    app, owner_client, draft
):
    stored = store_bill(app, draft, bill_pdf(pages=3))

    response = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}/preview")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    assert "HARBOR CLINIC" in reader.pages[0].extract_text()
    name = documents.download_name(stored)
    assert response.headers["Content-Disposition"] == f'inline; filename="{name}"'
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_images_preview_is_the_image(app, owner_client, draft):
    image = bill_png()
    stored = store_bill(app, draft, image)

    response = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}/preview")

    assert response.data == image
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline; filename=")


@pytest.mark.parametrize("suffix", ["", "/preview"])
def test_a_tampered_document_is_refused_with_a_clear_page_and_logged(
    app, owner_client, draft, caplog, suffix
):
    stored = store_bill(app, draft)
    with app.app_context():
        DocumentContent.update(content=bill_pdf(lines=("HARBOR CLINIC, LLC",))).where(
            DocumentContent.document == stored.id
        ).execute()

    with caplog.at_level(logging.ERROR):
        response = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}{suffix}")

    assert response.status_code == 409
    assert response.mimetype == "text/html"
    text = text_of(response)
    assert "This document can't be opened" in text
    assert "no longer match the fingerprint taken when it was uploaded" in text
    assert "upload the file again" in text
    assert any(f"damaged document {stored.id}" in record.getMessage() for record in caplog.records)


def test_staff_meeting_a_tampered_document_are_told_to_ask_the_owner(app, staff_client, draft):
    stored = store_bill(app, draft)
    with app.app_context():
        DocumentContent.update(content=b"not the bill").where(
            DocumentContent.document == stored.id
        ).execute()

    response = staff_client.get(f"/port-requests/{draft}/documents/{stored.id}")

    assert response.status_code == 409
    text = text_of(response)
    assert "ask the account's owner to upload it again" in text
    assert "upload the file again" not in text


# The review's cost


def test_the_review_of_a_request_with_a_bill_takes_as_many_statements_for_many_numbers(
    app, inventory, statements
):
    small = make_draft(app, inventory[0], with_account(TYPO), numbers=1)
    large = make_draft(app, inventory[0], with_account(TYPO), numbers=60)
    for request_id in (small, large):
        store_bill(app, request_id)
    with app.app_context():
        WarningConfirmation.create(
            port_request=large, field="bill", code="x", message="y", user_name="Ann Owner"
        )

    def count(request_id):
        with app.app_context():
            port_request = PortRequest.get_by_id(request_id)
            statements.clear()
            found = review(port_request, today=today(), lead_business_days=7)
            return len(statements), found

    (few, small_review), (many, large_review) = count(small), count(large)

    assert small_review.bill_problems and large_review.bill_problems
    assert len(large_review.rows) == 60
    assert few == many > 0


def test_a_bill_for_a_complete_request_reads_back_through_the_api_without_problems(
    app, owner_client, inventory
):
    request_id = make_draft(app, inventory[0])
    with app.app_context():
        agreements.accept(
            PortRequest.get_by_id(request_id), list(agreements.TEXTS), user=None, ip=""
        )
    upload(owner_client, request_id)
    key = issue_key(app, inventory[0])

    body = app.test_client().get(f"/api/v1/port-requests/{request_id}", headers=bearer(key))

    steps, problems = body.get_json()["steps"], body.get_json()["problems"]
    assert steps["bill"] == "complete"
    assert steps["loa"] == steps["submit"] == "incomplete"
    assert not [p for p in problems if p["field"].startswith("bill")]
    assert [(p["field"], p["code"]) for p in problems] == [("loa", "loa_required")]


# In the browser


@pytest.mark.browser
def test_an_owner_sees_a_typo_against_the_bill_confirms_or_fixes_it_on_a_phone(
    app, inventory, live_server, phone, tmp_path
):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    test_browser._sign_in(phone, live_server, OWNER_EMAIL)
    phone.goto(f"{live_server}{bill_url(request_id)}")
    bill = tmp_path / "harbor-bill.pdf"
    bill.write_bytes(bill_pdf(pages=2))
    phone.get_by_label("The bill's file").set_input_files(str(bill))
    phone.get_by_label("Statement date").fill(today().isoformat())
    phone.get_by_role("button", name="Upload the bill").click()

    found = phone.get_by_role("region", name="The bill read against the request")
    expect(found).to_contain_text(
        f"The account number {TYPO} is not on the bill; the bill shows 8123 4465 001"
    )
    expect(phone.get_by_title("The bill's first page")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Confirming answers in place (htmx), and says so.
    phone.evaluate("window.stayedOnThePage = true")
    found.get_by_role("button", name="I checked: the bill is right").click()
    expect(found.get_by_role("status")).to_have_text(
        "Confirmed: you checked the account number against the bill."
    )
    expect(found).to_contain_text("Confirmed by Ann Owner on")
    assert phone.evaluate("window.stayedOnThePage") is True

    # Another typo is another warning, which asks again; the right number clears it.
    phone.goto(f"{live_server}/port-requests/{request_id}/details")
    account = phone.get_by_label("Account number")
    account.fill("81234465099")
    expect(phone.locator("#billing-account_number-problems")).to_contain_text(
        "81234465099 is not on the bill"
    )
    account.fill(ACCOUNT)
    expect(phone.locator("#billing-account_number-problems")).to_be_empty()
    expect(phone.locator("form.step-form.htmx-request")).to_have_count(0)
    steps = phone.get_by_role("navigation", name="Steps of this port request")
    steps.get_by_role("link", name=re.compile("^Proof of ownership")).click()
    expect(phone.get_by_role("region", name="The bill read against the request")).to_contain_text(
        "Nothing to check"
    )
    assert phone.problems == []
