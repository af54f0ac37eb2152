"""The Letter of Authorization step: its preview, where the signature stands, and the three ways
to get it signed (yourself, by an emailed link, by upload), with what each keeps and sends."""

import base64
import hashlib
import io
import json
import re
import threading
from datetime import timedelta
from html import unescape

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from portal import documents
from portal.models import (
    Document,
    OutboxEmail,
    PortRequest,
    RequestEvent,
    WarningConfirmation,
    utcnow,
)
from portal.port_requests import loa, signatures
from portal.port_requests.review import review
from signing import SigningEnvelope, SigningEvent, envelopes
from tests.conftest import OWNER_EMAIL, login, without_csrf
from tests.test_port_request_pages import add_inventory, step_states
from tests.test_proof_step import bill_pdf, bill_png, make_draft
from tests.test_wizard_details import COMPLETE, STORED

LINK = re.compile(r"http://localhost(/sign/[A-Za-z0-9_.\-]+)")
SIGNER = {"name": "Dana Reyes", "email": "dana@harborclinic.com", "message": ""}


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


@pytest.fixture
def draft(app, inventory):
    return make_draft(app, inventory[0])


def loa_url(request_id, suffix=""):
    return f"/port-requests/{request_id}/loa{suffix}"


def text_of(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def status_region(response):
    """The words of the page's "Where it stands" region (or of the fragment that replaces it)."""
    html = response.get_data(as_text=True)
    match = re.search(r'<div id="loa-status"[^>]*>(.*?)</div>\s*</section>', html, re.DOTALL)
    part = match.group(1) if match else html.split('<nav class="steps"')[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", part)).split())


def send(client, request_id, **changes):
    return client.post(loa_url(request_id, "/send"), data={**SIGNER, **changes})


def sign_here(client, request_id, **changes):
    """Sign as the page would: with the signed LOA it showed (none, or the one kept)."""
    page = client.get(loa_url(request_id)).get_data(as_text=True)
    shown = re.search(r'name="shown" value="([^"]*)"', page)
    form = {
        "representative": "y",
        "consent": "y",
        "typed_name": "Dana Reyes",
        "shown": shown.group(1) if shown else "",
        **changes,
    }
    return client.post(loa_url(request_id, "/sign"), data=form)


def upload(client, request_id, data=None, *, name="signed-loa.pdf", day=None):
    form = {
        "file": (io.BytesIO(bill_pdf() if data is None else data), name),
        "signed_date": (utcnow().date() if day is None else day).__str__(),
    }
    return client.post(
        loa_url(request_id, "/upload"), data=form, content_type="multipart/form-data"
    )


def drawing():
    """Return a PNG data URL of a stroke, as the signature pad sends one."""
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(40, 160), (300, 40), (560, 120)], fill=(11, 42, 91, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def emails(app):
    with app.app_context():
        return list(OutboxEmail.select().order_by(OutboxEmail.id))


def envelopes_of(app, request_id):
    with app.app_context():
        return list(
            SigningEnvelope.select()
            .where(SigningEnvelope.reference == loa.reference(request_id))
            .order_by(SigningEnvelope.id)
        )


def signed_loas(app, request_id):
    with app.app_context():
        return list(
            Document.select()
            .where((Document.port_request == request_id) & (Document.kind == "signed_loa"))
            .order_by(Document.id)
        )


def reviewed(app, request_id):
    with app.app_context():
        return review(
            PortRequest.get_by_id(request_id), today=utcnow().date(), lead_business_days=7
        )


def events(app, request_id):
    with app.app_context():
        rows = RequestEvent.select().where(RequestEvent.port_request == request_id)
        return [(row.kind, row.message, row.actor) for row in rows.order_by(RequestEvent.id)]


def link_of(email):
    return LINK.search(email.text_body).group(1)


def change_fields(app, request_id, fields):
    with app.app_context():
        PortRequest.update(details=json.dumps(fields)).where(PortRequest.id == request_id).execute()


def with_billing(**changes):
    return {**STORED, "billing": {**STORED["billing"], **changes}}


# The page before anything is signed


def test_until_details_and_numbers_are_complete_the_page_says_which_steps_to_finish(
    app, owner_client, inventory
):
    request_id = make_draft(app, inventory[0], with_billing(account_number=""), numbers=0)

    page = owner_client.get(loa_url(request_id))
    preview = owner_client.get(loa_url(request_id, ".pdf"))

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Finish these steps first" in text_of(page)
    assert f'<li><a href="/port-requests/{request_id}/details">Details</a></li>' in html
    assert f'<a href="/port-requests/{request_id}/numbers">Numbers and configuration</a>' in html
    assert "<iframe" not in html and "loa/send" not in html
    assert preview.status_code == 302 and preview.headers["Location"] == loa_url(request_id)
    assert "Finish the Details and Numbers steps first" in text_of(
        owner_client.get(loa_url(request_id))
    )
    refused = send(owner_client, request_id)
    assert refused.status_code == 302
    assert envelopes_of(app, request_id) == [] and emails(app) == []


def test_a_complete_request_shows_the_preview_and_three_ways(app, owner_client, draft):
    page = owner_client.get(loa_url(draft))

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        f'<iframe src="/port-requests/{draft}/loa.pdf" title="The Letter of Authorization"' in html
    )
    assert f'href="/port-requests/{draft}/loa.pdf?download=1" download' in html
    assert "Not signed yet" in status_region(page)
    for action in ("sign", "send", "upload"):
        assert f'action="/port-requests/{draft}/loa/{action}"' in html
    name = re.search(r'<input [^>]*id="name"[^>]*>', html).group(0)
    assert "readonly" in name and 'value="Dana Reyes"' in name
    assert 'value="dana@harborclinic.com"' in html
    assert "I am Dana Reyes, the authorized representative named on this LOA" in text_of(page)
    assert 'enctype="multipart/form-data"' in html
    assert step_states(html)["Letter of Authorization"] == "incomplete"
    assert 'hx-trigger="click, every 5s"' not in html  # nothing to wait for


def test_the_preview_is_the_same_pdf_on_every_read_framed_by_this_site_alone(
    app, owner_client, draft
):
    first = owner_client.get(loa_url(draft, ".pdf"))
    second = owner_client.get(loa_url(draft, ".pdf"))
    download = owner_client.get(loa_url(draft, ".pdf?download=1"))

    assert first.status_code == 200
    assert first.data.startswith(b"%PDF-") and first.data == second.data == download.data
    assert first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == f'inline; filename="loa-{draft}.pdf"'
    assert download.headers["Content-Disposition"] == f'attachment; filename="loa-{draft}.pdf"'
    assert "frame-ancestors 'self'" in first.headers["Content-Security-Policy"]
    assert first.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert first.headers["Cache-Control"] == "no-store"
    text = PdfReader(io.BytesIO(first.data)).pages[0].extract_text()
    assert "HARBOR CLINIC, LLC" in text and "(614) 322-1001" in text
    # A field on the LOA changed: another LOA.
    change_fields(app, draft, with_billing(account_number="81234465002"))
    assert owner_client.get(loa_url(draft, ".pdf")).data != first.data


# Sending it to the representative


def test_sending_creates_one_envelope_and_one_email_with_the_link_the_numbers_and_the_expiry(
    app, owner_client, inventory
):
    request_id = make_draft(app, inventory[0], numbers=8)

    response = send(owner_client, request_id, message="Hi Dana,\r\nplease sign today.\x00")

    assert response.status_code == 302
    assert response.headers["Location"] == loa_url(request_id) + "#loa-status"
    [envelope] = envelopes_of(app, request_id)
    assert (envelope.method, envelope.status, envelope.signer_name, envelope.signer_email) == (
        "email", "sent", "Dana Reyes", "dana@harborclinic.com",
    )  # fmt: skip
    assert envelope.message == "Hi Dana,\nplease sign today."
    assert envelope.content_key == reviewed(app, request_id).loa_digest
    assert bytes(envelope.document) == owner_client.get(loa_url(request_id, ".pdf")).data
    [email] = emails(app)
    assert (email.to_address, email.purpose, email.status) == (
        "dana@harborclinic.com", "signing_request", "queued",
    )  # fmt: skip
    assert email.subject == "Acme Dental asks you to sign a Letter of Authorization"
    body = email.text_body
    assert "Ann Owner of Acme Dental asks you to sign a Letter of Authorization" in body
    for n in range(5):
        assert f"(614) 322-{1001 + n}" in body
    assert "(614) 322-1006" not in body and "and 3 more" in body
    expires = envelope.expires_at
    assert (
        f"The link works until {expires:%A} {expires.day} {expires:%B %Y} at {expires:%H:%M} UTC"
        in body
    )
    assert "please sign today." in body and "please sign today." in email.html_body
    link = link_of(email)
    assert link in email.html_body
    assert app.test_client().get(link).status_code == 200
    page = owner_client.get(loa_url(request_id))
    assert "Sent: an email with a link to sign the LOA is on its way to Dana Reyes" in text_of(page)
    region = status_region(page)
    assert "Sent Sent to Dana Reyes (dana@harborclinic.com) on" in region
    assert "Not opened yet." in region
    assert events(app, request_id)[-1][0] == "loa_sent"
    assert reviewed(app, request_id).loa_problems[0].code == "loa_awaiting_signature"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "Mallory Crafted"}, "name", "names Dana Reyes as the authorized representative"),
        ({"email": ""}, "email", "Enter Dana Reyes's email address"),
        ({"email": "dana@harbor\nBcc: x@evil.test"}, "email", "is not an email address"),
        ({"email": "dana\x00@harborclinic.com"}, "email", "is not an email address"),
        ({"email": "a@b.c, x@evil.test"}, "email", "is not an email address"),
        ({"message": "x" * 2_001}, "message", "under 2,000 characters"),
        ({"name": "y" * 10_000}, "name", "Field cannot be longer than 300 characters"),
    ],
    ids=["other-name", "no-email", "header", "nul", "two-addresses", "long-message", "huge-name"],
)
def test_a_crafted_or_wrong_signer_is_refused_on_its_field_and_nothing_is_sent(
    app, owner_client, draft, changes, field, words
):
    response = send(owner_client, draft, **changes)

    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    error = re.search(rf'<p class="field__error" id="{field}-error">(.*?)</p>', html, re.DOTALL)
    assert error and words in error.group(1)
    assert "Not sent: fix what is marked below" in html
    assert envelopes_of(app, draft) == [] and emails(app) == []


def test_the_name_is_the_representatives_however_it_is_typed(app, owner_client, draft):
    assert send(owner_client, draft, name="  dana   REYES ").status_code == 302

    [envelope] = envelopes_of(app, draft)
    assert envelope.signer_name == "Dana Reyes"


def test_resending_kills_the_old_link_and_the_new_one_works(app, owner_client, draft):
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)
    old = link_of(emails(app)[0])

    response = owner_client.post(loa_url(draft, "/resend"), data={"envelope": envelope.id})

    assert response.status_code == 302
    [again] = envelopes_of(app, draft)
    assert again.id == envelope.id and again.generation == envelope.generation + 1
    first, second = emails(app)
    new = link_of(second)
    assert new != old
    assert "The link sent before no longer works." in second.text_body
    signer = app.test_client()
    dead = signer.get(old)
    assert dead.status_code == 410 and "A newer link was sent" in text_of(dead)
    assert signer.get(new).status_code == 200
    assert "Sent: an email with a link to sign the LOA is on its way to Dana Reyes" in text_of(
        owner_client.get(loa_url(draft))
    )
    assert events(app, draft)[-1][0] == "loa_resent"


def test_cancelling_kills_the_link_and_offers_to_send_it_again(app, owner_client, draft):
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)
    link = link_of(emails(app)[0])

    response = owner_client.post(loa_url(draft, "/cancel"), data={"envelope": envelope.id})

    assert response.status_code == 302
    assert envelopes_of(app, draft)[0].status == "cancelled"
    dead = app.test_client().get(link)
    assert dead.status_code == 410 and "was cancelled" in text_of(dead)
    page = owner_client.get(loa_url(draft))
    assert "Cancelled: the link sent to Dana Reyes no longer works." in text_of(page)
    assert "Cancelled The request for Dana Reyes's signature was cancelled on" in status_region(
        page
    )
    assert "Send it to Dana Reyes again" in status_region(page)
    # Sending it again is a new envelope, with a new email.
    owner_client.post(loa_url(draft, "/resend"), data={"envelope": envelope.id})
    old, new = envelopes_of(app, draft)
    assert (old.status, new.status) == ("cancelled", "sent")
    assert len(emails(app)) == 2
    # Cancelling twice: the page said so.
    again = owner_client.post(loa_url(draft, "/cancel"), data={"envelope": envelope.id})
    assert again.status_code == 302
    assert "The page was out of date" in text_of(owner_client.get(loa_url(draft)))
    assert envelopes_of(app, draft)[1].status == "sent"


@pytest.mark.parametrize("action", ["resend", "cancel"])
@pytest.mark.parametrize("envelope", ["", "abc", "999999", "\x00", "1" * 5000, "foreign"])
def test_a_resend_or_cancel_naming_an_envelope_the_page_did_not_show_does_nothing(
    app, owner_client, inventory, draft, action, envelope
):
    other = make_draft(app, inventory[0])
    send(owner_client, draft)
    send(owner_client, other)
    if envelope == "foreign":
        envelope = envelopes_of(app, other)[0].id

    response = owner_client.post(loa_url(draft, f"/{action}"), data={"envelope": envelope})

    assert response.status_code == 302
    assert "The page was out of date" in text_of(owner_client.get(loa_url(draft)))
    assert [e.status for e in envelopes_of(app, draft) + envelopes_of(app, other)] == ["sent"] * 2
    assert [e.generation for e in envelopes_of(app, draft)] == [1]
    assert len(emails(app)) == 2


def test_htmx_resend_and_cancel_answer_the_status_region_in_place(app, owner_client, draft, htmx):
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)

    resent = owner_client.post(
        loa_url(draft, "/resend"), data={"envelope": envelope.id}, headers=htmx("loa-status")
    )
    cancelled = owner_client.post(
        loa_url(draft, "/cancel"), data={"envelope": envelope.id}, headers=htmx("loa-status")
    )

    for response in (resent, cancelled):
        assert response.status_code == 200
        assert "<html" not in response.get_data(as_text=True)
        assert 'id="wizard-steps"' in response.get_data(as_text=True)
    assert "Sent: an email with a link to sign the LOA is on its way to Dana Reyes" in text_of(
        resent
    )
    assert 'hx-trigger="click, every 5s"' in resent.get_data(as_text=True)
    assert "Cancelled: the link sent to Dana Reyes no longer works." in text_of(cancelled)
    assert 'hx-trigger="click, every 5s"' not in cancelled.get_data(as_text=True)


# Where it stands, as the signer acts


def test_the_status_region_polls_while_waiting_says_nothing_new_with_a_204_and_stops_when_signed(
    app, owner_client, draft, htmx
):
    send(owner_client, draft)
    page = owner_client.get(loa_url(draft)).get_data(as_text=True)
    poll = unescape(re.search(r'hx-get="([^"]+/loa/status\?shown=[^"]+)"', page).group(1))
    signer = app.test_client()
    link = link_of(emails(app)[0])

    unchanged = owner_client.get(poll, headers=htmx("loa-status"))
    signer.post(link + "/opened")
    opened = owner_client.get(poll, headers=htmx("loa-status"))
    signer.post(link, data={"consent": "y", "typed_name": "Dana Reyes"})
    signed = owner_client.get(poll, headers=htmx("loa-status"))
    without_htmx = owner_client.get(poll)

    assert unchanged.status_code == 204
    assert opened.status_code == 200
    assert "Opened Dana Reyes (dana@harborclinic.com) opened the LOA on" in text_of(opened)
    assert 'hx-trigger="click, every 5s"' in opened.get_data(as_text=True)
    assert signed.status_code == 200
    html = signed.get_data(as_text=True)
    assert "Signed by Dana Reyes (dana@harborclinic.com) from the emailed link on" in text_of(
        signed
    )
    assert "Download the signed LOA" in html
    assert "every 5s" not in html  # nothing left to wait for: the polling stops
    assert step_states(html)["Letter of Authorization"] == "complete"
    assert without_htmx.status_code == 302
    assert without_htmx.headers["Location"] == loa_url(draft) + "#loa-status"


def test_an_expired_link_says_so_and_a_new_one_can_be_sent(app, owner_client, draft):
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)
    link = link_of(emails(app)[0])
    with app.app_context():
        SigningEnvelope.update(expires_at=utcnow() - timedelta(minutes=1)).execute()
    app.test_client().post(link + "/new-link")

    page = owner_client.get(loa_url(draft))

    region = status_region(page)
    assert "Link expired The link sent to Dana Reyes" in region
    assert "without a signature" in region
    assert "Dana Reyes asked for a new link on" in region
    assert reviewed(app, draft).loa_problems[0].code == "loa_required"
    [told] = [email for email in emails(app) if email.purpose == "signing_new_link"]
    assert told.to_address == OWNER_EMAIL
    assert f"http://localhost/port-requests/{draft}/loa" in told.text_body
    owner_client.post(loa_url(draft, "/resend"), data={"envelope": envelope.id})
    [again] = envelopes_of(app, draft)
    assert again.status == "sent" and again.expires_at > utcnow() + timedelta(days=6)
    assert "Sent Sent to Dana Reyes" in status_region(owner_client.get(loa_url(draft)))


def test_a_decline_shows_the_reason_and_tells_the_owner(app, owner_client, draft):
    send(owner_client, draft)
    link = link_of(emails(app)[0])

    app.test_client().post(link + "/decline", data={"reason": "Wrong account number <b>!</b>"})

    page = owner_client.get(loa_url(draft))
    region = status_region(page)
    assert "Declined Dana Reyes declined to sign on" in region
    assert "Wrong account number <b>!</b>" in region
    assert "<b>!</b>" not in page.get_data(as_text=True)  # escaped
    assert "Send it to Dana Reyes again" in region
    [told] = [email for email in emails(app) if email.purpose == "loa_declined"]
    assert told.to_address == OWNER_EMAIL
    assert "Wrong account number <b>!</b>" in told.text_body
    assert events(app, draft)[-1] == (
        "loa_declined", "Declined to sign the LOA: Wrong account number <b>!</b>", "Dana Reyes",
    )  # fmt: skip


def test_a_signature_by_link_is_kept_with_its_certificate_and_the_owner_is_told(
    app, owner_client, draft
):
    send(owner_client, draft)
    link = link_of(emails(app)[0])

    app.test_client().post(link, data={"consent": "y", "typed_name": "Dana Reyes"})

    [envelope] = envelopes_of(app, draft)
    [stored] = signed_loas(app, draft)
    assert envelope.status == "signed"
    assert stored.sha256 == envelope.signed_sha256
    assert stored.loa_digest == envelope.content_key == reviewed(app, draft).loa_digest
    assert stored.signed_date == envelope.signed_at.date()
    assert (stored.uploaded_by_id, stored.uploaded_by_name) == (None, "Dana Reyes")
    assert reviewed(app, draft).steps["loa"] == "complete"
    [told] = [email for email in emails(app) if email.purpose == "loa_signed"]
    assert told.to_address == OWNER_EMAIL
    assert "Dana Reyes signed the Letter of Authorization" in told.text_body
    download = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}")
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == envelope.signed_sha256


# Signing it yourself


@pytest.mark.parametrize("way", ["typed", "drawn"])
def test_signing_it_yourself_keeps_the_signed_loa_with_its_certificate(
    app, owner_client, owner, draft, way
):
    signature = {"typed_name": "Dana Reyes"} if way == "typed" else {
        "typed_name": "", "signature_png": drawing()
    }  # fmt: skip

    response = sign_here(owner_client, draft, **signature)

    assert response.status_code == 302
    assert response.headers["Location"] == loa_url(draft) + "#loa-status"
    [envelope] = envelopes_of(app, draft)
    assert (envelope.method, envelope.status, envelope.signer_name, envelope.signer_email) == (
        "self", "signed", "Dana Reyes", OWNER_EMAIL,
    )  # fmt: skip
    [stored] = signed_loas(app, draft)
    with app.app_context():
        data = documents.read(stored)
        kinds = [event.kind for event in SigningEvent.of_envelope(envelope)]
        assert envelopes.verify(envelope, data) == []
    assert hashlib.sha256(data).hexdigest() == envelope.signed_sha256 == stored.sha256
    assert stored.uploaded_by_id == owner.id and stored.label == "Signed LOA.pdf"
    assert kinds == ["created", "consented", "signed"]
    pages = PdfReader(io.BytesIO(data)).pages
    assert "Certificate of completion" in pages[-1].extract_text()
    assert envelope.document_sha256 in " ".join(page.extract_text() for page in pages)
    assert reviewed(app, draft).steps["loa"] == "complete"
    page = owner_client.get(loa_url(draft))
    assert "Signed: the signed LOA is kept with the request." in text_of(page)
    assert "Signed here by Ann Owner as Dana Reyes , the authorized representative, on" in (
        status_region(page)
    )
    assert step_states(page.get_data(as_text=True))["Letter of Authorization"] == "complete"
    assert events(app, draft)[-1] == (
        "loa_signed", "Signed the LOA as Dana Reyes, the authorized representative.", "Ann Owner",
    )  # fmt: skip
    assert emails(app) == []  # the owner signed it: nobody to tell


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"consent": ""}, "consent", "Tick the box to agree to sign electronically"),
        (
            {"representative": ""},
            "representative",
            "Only Dana Reyes, the authorized representative",
        ),
        ({"typed_name": ""}, "signature", "Draw your signature, or type your name"),
        ({"typed_name": "Dana\x00"}, "signature", "cannot be printed"),
        ({"signature_png": "data:image/png;base64,!!!!", "typed_name": ""}, "signature", "damaged"),
        ({"signature_png": "javascript:alert(1)", "typed_name": ""}, "signature", "did not arrive"),
        ({"signature_png": drawing()}, "signature", "Sign one way only"),
        ({"typed_name": "D" * 101}, "signature", "at most 100 characters"),
    ],
    ids=[
        "no-consent",
        "not-the-representative",
        "nothing",
        "nul",
        "damaged",
        "script",
        "both",
        "long",
    ],
)
def test_signing_yourself_without_what_it_needs_keeps_nothing(
    app, owner_client, draft, changes, field, words
):
    response = sign_here(owner_client, draft, **changes)

    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    error = re.search(rf'<p class="field__error" id="{field}-error">(.*?)</p>', html, re.DOTALL)
    assert error and words in error.group(1)
    assert "Not signed yet:" in html
    assert "\x00" not in html and "javascript:" not in html and "!!!!" not in html
    assert envelopes_of(app, draft) == [] and signed_loas(app, draft) == []
    assert events(app, draft) == []


def test_signing_yourself_replaces_a_link_still_open(app, owner_client, draft):
    send(owner_client, draft)
    link = link_of(emails(app)[0])

    sign_here(owner_client, draft)

    sent, signed = envelopes_of(app, draft)
    assert (sent.status, signed.status) == ("cancelled", "signed")
    assert app.test_client().get(link).status_code == 410
    assert len(signed_loas(app, draft)) == 1


# Uploading a signed LOA


def test_an_uploaded_signed_loa_completes_the_step_and_cancels_a_link_still_open(
    app, owner_client, owner, draft
):
    send(owner_client, draft)

    response = upload(owner_client, draft, bill_png(), name="scan.png")

    assert response.status_code == 302
    [stored] = signed_loas(app, draft)
    assert (stored.media_type, stored.label, stored.uploaded_by_id) == (
        "image/png",
        "scan.png",
        owner.id,
    )
    assert stored.signed_date == utcnow().date()
    assert stored.loa_digest == reviewed(app, draft).loa_digest
    assert reviewed(app, draft).steps["loa"] == "complete"
    assert envelopes_of(app, draft)[0].status == "cancelled"
    page = owner_client.get(loa_url(draft))
    assert "Stored the signed LOA scan.png." in text_of(page)
    region = status_region(page)
    assert "Signed The signed LOA on the request: scan.png, signed on" in region
    assert f'href="/port-requests/{draft}/documents/{stored.id}" download' in page.get_data(
        as_text=True
    )
    assert [kind for kind, _, _ in events(app, draft)] == ["loa_sent", "document", "loa_cancelled"]


def test_an_loa_signed_over_30_days_ago_is_a_warning_confirmed_on_the_step(
    app, owner_client, owner, draft
):
    old = utcnow().date() - timedelta(days=31)
    upload(owner_client, draft, day=old)
    page = owner_client.get(loa_url(draft))
    [warning] = reviewed(app, draft).loa_problems

    assert (warning.code, warning.severity) == ("loa_signed_old", "warning")
    assert reviewed(app, draft).steps["loa"] == "complete"  # a warning does not block the step
    assert "Check the warning about its date." in text_of(page)
    assert warning.message in status_region(page)
    html = page.get_data(as_text=True)
    assert 'name="back" value="loa"' in html
    assert "I checked: this LOA is still right" in html

    form = {"field": warning.field, "code": warning.code, "message": warning.message, "back": "loa"}
    confirmed = owner_client.post(f"/port-requests/{draft}/warnings/confirm", data=form)

    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == loa_url(draft) + "#loa-status"
    assert reviewed(app, draft).loa_problems == []
    with app.app_context():
        assert WarningConfirmation.get().code == "loa_signed_old"
    after = owner_client.get(loa_url(draft))
    assert "Confirmed: you checked the signed LOA." in text_of(after)
    assert "I checked: this LOA is still right" not in after.get_data(as_text=True)


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (lambda today: today + timedelta(days=1), "is in the future"),
        (lambda today: "", "Enter the date the LOA was signed"),
        (lambda today: "01/05/2027", "Enter the date it was signed as a date"),
        (lambda today: "2027-02-30", "Enter the date it was signed as a date"),
        (lambda today: "2027-01-05\x00", "Enter the date it was signed as a date"),
    ],
    ids=["tomorrow", "missing", "us-style", "no-such-day", "nul"],
)
def test_a_signing_date_that_is_not_a_past_date_is_refused(app, owner_client, draft, day, words):
    response = upload(owner_client, draft, day=day(utcnow().date()))

    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    error = re.search(r'<p class="field__error" id="signed_date-error">(.*?)</p>', html)
    assert error and words in error.group(1)
    assert "The signed LOA was not stored" in html
    assert signed_loas(app, draft) == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "loa.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 200, "loa.pdf"),
        (b"%PDF-1.7\n1 0 obj", "loa.pdf"),
        (b"", "empty.pdf"),
    ],
    ids=["html", "exe", "truncated", "empty"],
)
def test_a_file_that_is_not_a_signed_loa_is_refused_on_its_field(
    app, owner_client, draft, data, name
):
    with pytest.raises(documents.DocumentRefused) as refused:
        documents.inspect(data, "signed_loa", max_bytes=app.config["MAX_DOCUMENT_BYTES"])

    response = upload(owner_client, draft, data, name=name)

    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert f'<p class="field__error" id="file-error">{refused.value}</p>' in html
    assert signed_loas(app, draft) == [] and events(app, draft) == []


def test_an_upload_without_a_file_asks_for_one(app, owner_client, draft):
    response = owner_client.post(loa_url(draft, "/upload"), data={"signed_date": "2026-01-01"})

    assert response.status_code == 400
    assert "Choose the signed LOA&#39;s file" in response.get_data(as_text=True)


# A change after signing


def test_a_field_changed_after_signing_makes_the_loa_outdated_and_the_step_incomplete(
    app, owner_client, draft
):
    sign_here(owner_client, draft)
    assert reviewed(app, draft).steps["loa"] == "complete"

    changed = owner_client.post(
        f"/port-requests/{draft}/details",
        data={**COMPLETE, "billing.account_number": "81234465009"},
    )

    assert changed.status_code == 302
    found = reviewed(app, draft)
    assert [p.code for p in found.loa_problems] == ["loa_outdated"]
    assert found.steps["loa"] == "incomplete"
    page = owner_client.get(loa_url(draft))
    region = status_region(page)
    assert (
        "A detail on the LOA changed after it was signed: that signature no longer counts."
        in region
    )
    assert "Get the new LOA signed below." in region
    assert step_states(page.get_data(as_text=True))["Letter of Authorization"] == "incomplete"
    assert "Get it signed" in text_of(page)
    # Signing the new LOA makes the step complete again.
    sign_here(owner_client, draft)
    assert reviewed(app, draft).steps["loa"] == "complete"


def test_a_link_sent_before_a_change_is_outdated_and_the_new_loa_goes_out_again(
    app, owner_client, draft
):
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)
    link = link_of(emails(app)[0])
    change_fields(app, draft, with_billing(account_number="81234465009"))

    region = status_region(owner_client.get(loa_url(draft)))
    signer = app.test_client()
    dead = signer.get(link)

    assert "Out of date A detail on the LOA changed after it was sent to Dana Reyes" in region
    assert "Send the new LOA to Dana Reyes" in region
    assert dead.status_code == 410
    owner_client.post(loa_url(draft, "/resend"), data={"envelope": envelope.id})
    old, new = envelopes_of(app, draft)
    assert old.status == "replaced" and new.status == "sent"
    assert new.content_key == reviewed(app, draft).loa_digest != old.content_key
    assert signer.get(link_of(emails(app)[-1])).status_code == 200


# Who may, and when


@pytest.fixture
def foreign(app, inventory, other_owner):
    """Globex's draft with a request for a signature: Acme's owner must find nothing of it."""
    request_id = make_draft(app, inventory[1])
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        data, digest = loa.of_request(port_request)
        envelope = envelopes.create(
            reference=loa.reference(request_id),
            requester_name="Globex Plumbing",
            requested_by="Olga Other",
            title="Letter of Authorization",
            document=bill_pdf(),
            boxes={},
            content_key=digest,
            method="email",
            signer_name="Dana Reyes",
            signer_email="dana@harborclinic.com",
            by=envelopes.Party("Olga Other"),
            link_days=7,
        )
    return request_id, envelope.id


ROUTES = [
    ("get", ""),
    ("get", ".pdf"),
    ("get", "/status"),
    ("post", "/send"),
    ("post", "/resend"),
    ("post", "/cancel"),
    ("post", "/sign"),
    ("post", "/upload"),
]


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    app, owner_client, foreign, method, suffix
):
    request_id, envelope_id = foreign
    owner_client.get("/port-requests/")  # shows "Signed in", which would differ once
    form = {**SIGNER, "envelope": envelope_id, "consent": "y", "representative": "y"}
    answers = [
        getattr(owner_client, method)(
            f"/port-requests/{target}/loa{suffix}", **({"data": form} if method == "post" else {})
        )
        for target in (request_id, 999_999, 2**31, 2**70)
    ]

    assert [answer.status_code for answer in answers] == [404] * 4
    assert len({without_csrf(answer.data) for answer in answers}) == 1
    [envelope] = envelopes_of(app, request_id)
    assert (envelope.status, envelope.generation) == ("sent", 1)
    assert emails(app) == [] and signed_loas(app, request_id) == []


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_a_request_that_left_draft_goes_to_its_page(app, owner_client, inventory, method, suffix):
    request_id = make_draft(app, inventory[0], status="submitted")

    response = getattr(owner_client, method)(loa_url(request_id, suffix))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{request_id}"


def test_staff_cannot_use_the_step(app, staff_client, draft):
    for method, suffix in ROUTES:
        assert getattr(staff_client, method)(loa_url(draft, suffix)).status_code == 403


def test_the_hooks_say_an_envelope_is_not_current_once_the_request_left_draft(
    app, owner_client, draft
):
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)
    hooks = signatures.PortalHooks()

    with app.test_request_context():
        assert hooks.is_current(envelope) is True
        PortRequest.update(status="submitted").where(PortRequest.id == draft).execute()
        assert hooks.is_current(envelope) is False
        PortRequest.delete().where(PortRequest.id == draft).execute()
        assert hooks.is_current(envelope) is False


# At the same moment


def test_two_sends_at_once_leave_one_link_open(app, draft, owner):
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        login(client, OWNER_EMAIL)
    barrier = threading.Barrier(2)
    answers = []

    def go(client):
        barrier.wait()
        answers.append(send(client, draft).status_code)

    threads = [threading.Thread(target=go, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [302, 302]
    statuses = sorted(envelope.status for envelope in envelopes_of(app, draft))
    assert statuses == ["replaced", "sent"]
    assert len(emails(app)) == 2


def test_a_resend_and_a_cancel_at_once_leave_one_consistent_answer(app, draft, owner):
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        login(client, OWNER_EMAIL)
    send(clients[0], draft)
    [envelope] = envelopes_of(app, draft)
    barrier = threading.Barrier(2)

    def go(client, action):
        barrier.wait()
        client.post(loa_url(draft, f"/{action}"), data={"envelope": envelope.id})

    threads = [
        threading.Thread(target=go, args=(clients[0], "resend")),
        threading.Thread(target=go, args=(clients[1], "cancel")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The resend came first (and the cancel killed its new link), or the cancel did (and the
    # resend sent the LOA again in an envelope of its own): never a live link nobody has.
    after = [(envelope.status, envelope.generation) for envelope in envelopes_of(app, draft)]
    assert after in ([("cancelled", 3)], [("cancelled", 2), ("sent", 1)])
    assert len(emails(app)) == 2


@pytest.mark.parametrize("action", ["cancel", "resend", "sign", "upload"])
def test_the_signer_and_the_owner_acting_at_once_each_get_an_answer(app, draft, owner, action):
    owner_client = app.test_client()
    login(owner_client, OWNER_EMAIL)
    send(owner_client, draft)
    [envelope] = envelopes_of(app, draft)
    link = link_of(emails(app)[0])
    signer = app.test_client()
    barrier = threading.Barrier(2)
    answers = {}

    def sign_by_link():
        barrier.wait()
        answers["signer"] = signer.post(link, data={"consent": "y", "typed_name": "Dana Reyes"})

    def act():
        barrier.wait()
        if action == "sign":
            answers["owner"] = sign_here(owner_client, draft)
        elif action == "upload":
            answers["owner"] = upload(owner_client, draft)
        else:
            answers["owner"] = owner_client.post(
                loa_url(draft, f"/{action}"), data={"envelope": envelope.id}
            )

    threads = [threading.Thread(target=sign_by_link), threading.Thread(target=act)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Whoever came second was told in words (a dead link's page, a flash): nothing failed.
    assert answers["owner"].status_code == 302
    assert answers["signer"].status_code in (302, 410)
    signer_won = answers["signer"].status_code == 302
    assert envelopes_of(app, draft)[0].status == ("signed" if signer_won else {
        "cancel": "cancelled", "resend": "sent", "sign": "cancelled", "upload": "cancelled"
    }[action])  # fmt: skip
    found = reviewed(app, draft)
    if signer_won or action in ("sign", "upload"):
        assert found.steps["loa"] == "complete"
    if signer_won and action in ("cancel", "resend"):
        assert len(signed_loas(app, draft)) == 1
        told = {
            "cancel": "Nothing to cancel: the request for Dana Reyes's signature was signed "
            "already.",
            "resend": "Nothing was sent: Dana Reyes signed the LOA already.",
        }[action]
        assert told in text_of(owner_client.get(loa_url(draft)))


# Reminders (cron)


def test_cron_reminds_the_signer_with_a_link_that_works(app, owner_client, draft, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://portal.example.com/desk")
    send(owner_client, draft)
    with app.app_context():
        SigningEnvelope.update(last_sent_at=utcnow() - timedelta(days=3)).execute()

    result = app.test_cli_runner().invoke(args=["signing", "remind"])
    again = app.test_cli_runner().invoke(args=["signing", "remind"])

    assert result.exit_code == 0 and "Reminded 1 signer." in result.output
    assert "Reminded 0 signers." in again.output
    _, reminder = emails(app)
    assert (reminder.to_address, reminder.purpose) == ("dana@harborclinic.com", "signing_reminder")
    assert reminder.subject.startswith("Reminder: Acme Dental asks you to sign")
    assert "is still waiting for your signature" in reminder.text_body
    url = re.search(r"https://portal\.example\.com/desk(/sign/\S+)", reminder.text_body)
    assert url and app.test_client().get(url.group(1)).status_code == 200
    assert events(app, draft)[-1] == (
        "loa_reminded", "Reminded Dana Reyes to sign the LOA (reminder 1 of 3).", "PortDesk",
    )  # fmt: skip
    assert "1 reminder sent." in status_region(owner_client.get(loa_url(draft)))


def test_two_clicks_on_sign_at_once_sign_once_and_the_other_is_told(app, owner, draft):
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        assert login(client, OWNER_EMAIL).status_code == 302
    form = {"representative": "y", "consent": "y", "typed_name": "Dana Reyes", "shown": ""}
    barrier = threading.Barrier(2)
    answers = []

    def click(client):
        barrier.wait()
        answers.append(client.post(loa_url(draft, "/sign"), data=form))

    threads = [threading.Thread(target=click, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [302, 302]
    with app.app_context():
        kept = Document.select().where(
            (Document.port_request == draft) & (Document.kind == "signed_loa")
        )
        assert kept.count() == 1
    said = [text_of(clients[i].get(loa_url(draft))) for i in range(2)]
    assert sum("Nothing more was signed: the LOA was signed a moment ago" in s for s in said) == 1
