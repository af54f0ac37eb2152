"""The LOA, the signing portal, submit and the outbox attacked: by a hostile signer, by the owner of
another account, by a mail scanner, and by two people (or two cron runs) at once.

Each attack that holds is a test that would catch its regression; each one that does not is a
test marked xfail(strict=True) with the finding as its reason, failing today and passing once
fixed. Races run through a live server (werkzeug's threaded server, or gunicorn 2 workers x 4
threads with ATTACK_SERVER=gunicorn) on SQLite and PostgreSQL, and `flask` commands run as real
processes side by side. After each race the database must tell one consistent story: no signed
envelope without its signed LOA, at most one live envelope per request, no claim without its
submitted request, every email queued once and sent once.
"""

import base64
import contextlib
import hashlib
import html
import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import unicodedata
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from werkzeug.serving import make_server

from portal import create_app, documents
from portal.models import (
    Document,
    NumberClaim,
    OutboxEmail,
    PortRequest,
    RequestEvent,
    utcnow,
)
from portal.port_requests import loa
from signing import SigningEnvelope, SigningEvent, envelopes, tokens
from signing.models import FINAL
from tests.conftest import ON_POSTGRES, OWNER_EMAIL, PASSWORD, make_config, without_csrf
from tests.test_loa_step import loa_url, text_of
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import bill_pdf, make_draft
from tests.test_submit import make_submittable
from tests.test_wizard_attacks import Tab, at_once
from tests.test_wizard_details import COMPLETE

ROOT = Path(__file__).resolve().parent.parent
SIGNER = {"name": "Dana Reyes", "email": "dana@harborclinic.com", "message": ""}
LINK = re.compile(r"https?://[^/\s]+(/sign/[A-Za-z0-9_.\-]+)")
SIGNS = {"consent": "y", "typed_name": "Dana Reyes"}
ANOTHER_ACCOUNT_NUMBER = "81234465002"


# Helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


@pytest.fixture
def draft(app, inventory):
    return make_draft(app, inventory[0])


def send(client, request_id, **changes):
    return client.post(loa_url(request_id, "/send"), data={**SIGNER, **changes})


def emails(app, purpose=None):
    with app.app_context():
        query = OutboxEmail.select().order_by(OutboxEmail.id)
        if purpose:
            query = query.where(OutboxEmail.purpose == purpose)
        return list(query)


def envelopes_of(app, request_id):
    with app.app_context():
        return list(
            SigningEnvelope.select()
            .where(SigningEnvelope.reference == loa.reference(request_id))
            .order_by(SigningEnvelope.id)
        )


def event_kinds(app, envelope_id):
    with app.app_context():
        return [event.kind for event in SigningEvent.of_envelope(envelope_id)]


def signed_loas(app, request_id):
    with app.app_context():
        return list(
            Document.select()
            .where((Document.port_request == request_id) & (Document.kind == "signed_loa"))
            .order_by(Document.id)
        )


def request_events(app, request_id):
    with app.app_context():
        rows = RequestEvent.select().where(RequestEvent.port_request == request_id)
        return [row.kind for row in rows.order_by(RequestEvent.id)]


def link_path(email):
    return LINK.search(email.text_body).group(1)


def sent_link(app, client, request_id):
    """Send the LOA to Dana; return (the envelope, the path of the emailed link)."""
    assert send(client, request_id).status_code == 302
    return envelopes_of(app, request_id)[-1], link_path(emails(app, "signing_request")[-1])


def png_bytes(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def stroke(size=(600, 200)):
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(40, 150), (200, 40), (380, 160), (560, 60)], fill="navy", width=6)
    return image


def data_url(data, media="image/png"):
    return f"data:{media};base64," + base64.b64encode(data).decode()


def assert_consistent(app):
    """The story the database tells after any race, whoever won it."""
    with app.app_context():
        live = {}
        for envelope in SigningEnvelope.select():
            kinds = [event.kind for event in SigningEvent.of_envelope(envelope)]
            assert envelopes.verify(envelope) == [], envelope.id
            assert kinds.count("signed") == (envelope.status == "signed"), (envelope.id, kinds)
            assert kinds.count("declined") == (envelope.status == "declined"), kinds
            if envelope.status not in FINAL:
                live[envelope.reference] = live.get(envelope.reference, 0) + 1
            request_id = int(envelope.reference.partition(":")[2])
            gone = PortRequest.get_or_none(PortRequest.id == request_id) is None
            if envelope.status == "signed" and not gone:
                kept = Document.select().where(
                    (Document.port_request == request_id)
                    & (Document.kind == "signed_loa")
                    & (Document.sha256 == envelope.signed_sha256)
                )
                assert kept.count() == 1, f"envelope {envelope.id} signed, its LOA not kept"
                content = documents.read(kept.get())
                assert hashlib.sha256(content).hexdigest() == envelope.signed_sha256
        assert all(count == 1 for count in live.values()), live
        for claim in NumberClaim.select():
            assert claim.port_request.status not in ("draft", "cancelled"), claim.number
        for port_request in PortRequest.select():
            kinds = [event.kind for event in RequestEvent.of_request(port_request.id)]
            by_link = (
                SigningEnvelope.select()
                .where(
                    (SigningEnvelope.reference == loa.reference(port_request.id))
                    & (SigningEnvelope.status == "signed")
                )
                .count()
            )
            assert kinds.count("loa_signed") == by_link, kinds
            assert kinds.count("submitted") == (port_request.status != "draft"), kinds
            claims = NumberClaim.select().where(NumberClaim.port_request == port_request)
            if port_request.status == "submitted":
                assert claims.count() == len(port_request.numbers())
        # Every email is queued once: no two with the same purpose, address and body.
        seen = set()
        for email in OutboxEmail.select():
            key = (email.purpose, email.to_address, email.text_body)
            assert key not in seen, f"email {email.id} queued twice"
            seen.add(key)


# Tokens ----------------------------------------------------------------------------------------


def test_a_link_of_account_a_used_after_a_resend_is_dead_and_records_nothing(
    app, owner_client, draft
):
    envelope, old = sent_link(app, owner_client, draft)
    owner_client.post(loa_url(draft, "/resend"), data={"envelope": envelope.id})
    signer = app.test_client()

    for answer in (
        signer.get(old),
        signer.post(old, data=SIGNS),
        signer.post(old + "/opened"),
        signer.post(old + "/decline", data={"reason": "No"}),
        signer.post(old + "/new-link"),
        signer.get(old + "/document.pdf"),
    ):
        assert answer.status_code == 410
        assert "A newer link was sent" in text_of(answer)
    assert event_kinds(app, envelope.id) == ["sent", "resent"]
    assert signed_loas(app, draft) == []


def forge(secret, payload, salt=tokens.SIGNING_LINK):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt=salt).dumps(payload)


def test_a_link_with_the_right_payload_and_another_secret_is_404(app, owner_client, draft):
    envelope, _ = sent_link(app, owner_client, draft)
    for secret in ("bench", "", "test-secret-key ", "TEST-SECRET-KEY"):
        token = forge(secret or "x", [envelope.id, envelope.generation])
        for answer in (
            app.test_client().get(f"/sign/{token}"),
            app.test_client().post(f"/sign/{token}", data=SIGNS),
        ):
            assert answer.status_code == 404
            assert "This signing link doesn't work" in text_of(answer)
    assert event_kinds(app, envelope.id) == ["sent"]


def test_reset_tokens_are_no_signing_links_and_signing_links_reset_no_password(
    app, owner_client, owner, draft
):
    envelope, link = sent_link(app, owner_client, draft)
    secret = app.config["SECRET_KEY"]
    reset = tokens.make_password_reset(secret, owner.id, "x" * 32)
    # Even a reset token whose payload is a valid signing payload.
    shaped = forge(secret, [envelope.id, envelope.generation], salt=tokens.PASSWORD_RESET)
    for token in (reset, shaped):
        answer = app.test_client().post(f"/sign/{token}", data=SIGNS)
        assert answer.status_code == 404
    token = link.rpartition("/")[2]
    client = app.test_client()
    answer = client.get(f"/reset-password/{token}")
    assert answer.status_code == 404
    assert "This is not a password reset link" in text_of(answer)
    posted = client.post(f"/reset-password/{token}", data={"new": "x" * 20, "confirm": "x" * 20})
    assert posted.status_code == 404
    assert event_kinds(app, envelope.id) == ["sent"]
    # The owner's password is what it was.
    assert (
        app.test_client()
        .post("/login", data={"email": OWNER_EMAIL, "password": PASSWORD})
        .status_code
        == 302
    )


def foreign_envelope(app, request_id):
    """Open a request for a signature on another account's draft, as its owner would."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        return envelopes.create(
            reference=loa.reference(request_id),
            requester_name="Globex Plumbing",
            requested_by="Olga Other",
            title="Letter of Authorization",
            document=bill_pdf(),
            boxes={"signature": {"page": 0, "x": 72, "y": 600, "width": 200, "height": 40}},
            content_key=loa.of_request(port_request)[1],
            method="email",
            signer_name="Dana Reyes",
            signer_email="dana@harborclinic.com",
            by=envelopes.Party("Olga Other"),
            link_days=7,
        )


def test_a_link_whose_payload_names_another_requests_envelope_is_404(
    app, owner_client, other_owner, inventory
):
    mine = make_draft(app, inventory[0])
    theirs = make_draft(app, inventory[1])
    their_envelope = foreign_envelope(app, theirs)
    envelope, link = sent_link(app, owner_client, mine)
    token = link.rpartition("/")[2]
    payload, _, signature = token.partition(".")
    # The same signature on a payload naming the other envelope: refused as tampered.
    swapped = base64.urlsafe_b64encode(json.dumps([their_envelope.id, 1]).encode()).rstrip(b"=")
    answer = app.test_client().post(f"/sign/{swapped.decode()}.{signature}", data=SIGNS)
    assert answer.status_code == 404
    assert event_kinds(app, their_envelope.id) == ["sent"]
    assert signed_loas(app, theirs) == []


def test_the_sign_post_replayed_after_success_changes_nothing(app, owner_client, draft):
    envelope, link = sent_link(app, owner_client, draft)
    signer = app.test_client()
    assert signer.post(link, data=SIGNS).status_code == 302
    kept = signed_loas(app, draft)
    events = event_kinds(app, envelope.id)

    for form in (SIGNS, {"consent": "y", "signature_png": data_url(png_bytes(stroke()))}):
        again = app.test_client().post(link, data=form)
        assert again.status_code == 200
        assert "This document is already signed" in text_of(again)
        assert 'name="typed_name"' not in again.get_data(as_text=True)
    declined = app.test_client().post(link + "/decline", data={"reason": "Changed my mind"})
    assert "This document is already signed" in text_of(declined)

    assert [d.id for d in signed_loas(app, draft)] == [d.id for d in kept]
    assert event_kinds(app, envelope.id) == events
    assert request_events(app, draft).count("loa_signed") == 1
    assert len(emails(app, "loa_signed")) == 1


def test_a_mail_scanner_fetching_the_link_records_nothing_and_the_signer_opens_it_once(
    app, owner_client, draft, htmx
):
    envelope, link = sent_link(app, owner_client, draft)
    scanner = app.test_client()
    scanner_headers = {"User-Agent": "Mozilla/5.0 (compatible; SafeLinks scanner)"}

    for path in (link, link + "/document.pdf", link + "/document.pdf?download=1"):
        assert scanner.get(path, headers=scanner_headers).status_code == 200
        assert scanner.head(path, headers=scanner_headers).status_code == 200
        assert scanner.options(path, headers=scanner_headers).status_code in (200, 204)
    for path in (link + "/opened", link + "/new-link", link + "/decline"):
        assert scanner.get(path, headers=scanner_headers).status_code == 405
    with app.app_context():
        stored = SigningEnvelope.get_by_id(envelope.id)
    assert (stored.status, stored.generation) == ("sent", 1)
    assert event_kinds(app, envelope.id) == ["sent"]

    signer = app.test_client()
    signer.get(link)
    for _ in range(3):
        assert signer.post(link + "/opened", headers=htmx()).status_code == 204
    assert event_kinds(app, envelope.id) == ["sent", "opened"]
    assert signer.post(link, data=SIGNS).status_code == 302
    assert event_kinds(app, envelope.id) == ["sent", "opened", "consented", "signed"]


# Crafted inputs: the signer's form -------------------------------------------------------------


def signer_post(app, link, form):
    """Post the sign form as a signer; return the answer, checked to be no 500."""
    answer = app.test_client().post(link, data=form)
    assert answer.status_code != 500
    return answer


def nothing_signed(app, envelope, request_id):
    assert event_kinds(app, envelope.id) == ["sent"]
    assert signed_loas(app, request_id) == []
    assert emails(app, "loa_signed") == []


CONSENT_NOT_GIVEN = "Tick the box to agree to sign electronically before you sign."


@pytest.mark.parametrize(
    "consent",
    ["0", "false", "off", "no", "", None],
    ids=["zero", "false", "off", "no", "empty", "missing"],
)
def test_a_consent_that_says_no_signs_nothing(app, owner_client, draft, consent):
    envelope, link = sent_link(app, owner_client, draft)
    form = {"typed_name": "Dana Reyes"} | ({} if consent is None else {"consent": consent})

    answer = signer_post(app, link, form)

    assert answer.status_code == 400
    assert CONSENT_NOT_GIVEN in text_of(answer)
    nothing_signed(app, envelope, draft)


@pytest.mark.parametrize(
    "consent",
    ["0", "false", "off", "no"],
)
def test_signing_yourself_with_boxes_that_say_no_signs_nothing(app, owner_client, draft, consent):
    form = {"consent": consent, "representative": consent, "typed_name": "Dana Reyes"}
    answer = owner_client.post(loa_url(draft, "/sign"), data=form)
    assert answer.status_code == 400
    assert envelopes_of(app, draft) == [] and signed_loas(app, draft) == []


def jpeg():
    out = io.BytesIO()
    stroke().convert("RGB").save(out, "JPEG")
    return out.getvalue()


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_chunk(png, kind, body):
    """The PNG with a chunk of this kind inserted after its header chunk."""
    end_of_header = 8 + 25
    return png[:end_of_header] + png_chunk(kind, body) + png[end_of_header:]


def declared(width, height, idat=b""):
    """A PNG whose header declares this size, with (little or) no picture data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    data = png_chunk(b"IHDR", header)
    data += png_chunk(b"IDAT", idat or zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + data + png_chunk(b"IEND", b"")


def bomb():
    """A PNG of 4,000 x 2,000 RGBA (32 MB decoded) in a few KB: the largest size allowed."""
    rows = (b"\x00" + b"\x00" * 4000 * 4) * 2000
    return declared(4000, 2000, zlib.compress(rows, 9))


CRAFTED_DRAWINGS = [
    ("jpeg-labelled-jpeg", data_url(jpeg(), "image/jpeg"), "did not arrive as a picture"),
    ("jpeg-labelled-png", data_url(jpeg()), "arrived damaged"),
    (
        "svg",
        data_url(
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "image/svg+xml",
        ),
        "did not arrive as a picture",
    ),  # fmt: skip
    (
        "svg-labelled-png",
        data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        "arrived damaged",
    ),  # fmt: skip
    ("huge-declared", data_url(declared(100_000, 100_000)), "more than the 4,000 x 2,000"),
    ("tiny-declared", data_url(declared(1, 1)), "too small to be a signature"),
    ("blank-bomb", data_url(bomb()), "blank"),
    (
        "text-chunk-nuls",
        data_url(with_chunk(png_bytes(stroke()), b"tEXt", b"\x00\x00Comment\x00\x00\x00evil\x00")),
        None,
    ),
    (
        "ztxt-bomb",
        data_url(
            with_chunk(
                png_bytes(stroke()), b"zTXt", b"k\x00\x00" + zlib.compress(b"A" * 50_000_000)
            )
        ),
        "arrived damaged",
    ),
    ("nul-in-data-url", "data:image/png;base64,\x00" + data_url(png_bytes(stroke()))[22:], None),
    ("20-mb-string", "data:image/png;base64," + "A" * 20_000_000, "too large to sign with"),
]


@pytest.mark.parametrize(("drawing", "words"), [c[1:] for c in CRAFTED_DRAWINGS],
                         ids=[c[0] for c in CRAFTED_DRAWINGS])  # fmt: skip
def test_a_crafted_drawing_is_refused_in_words_or_signs_as_the_drawing_it_is(
    app, owner_client, draft, drawing, words
):
    envelope, link = sent_link(app, owner_client, draft)

    answer = signer_post(app, link, {"consent": "y", "signature_png": drawing})

    if words is None:
        # A drawing with odd bytes around it: either refused in words, or it signs.
        assert answer.status_code in (302, 400)
        if answer.status_code == 400:
            assert 'id="signature-error"' in answer.get_data(as_text=True)
            nothing_signed(app, envelope, draft)
        return
    assert answer.status_code == 400
    assert words in text_of(answer)
    assert drawing[:40] not in answer.get_data(as_text=True)  # the refused drawing is not kept
    nothing_signed(app, envelope, draft)


def test_a_50_mb_drawing_is_refused_with_the_size_named_and_no_portal_sign_in(
    app, owner_client, draft
):
    envelope, link = sent_link(app, owner_client, draft)

    answer = signer_post(app, link, {"consent": "y", "signature_png": "A" * 50_000_000})

    assert answer.status_code == 413
    assert "Location" not in answer.headers
    assert "clear the box and draw your signature again, or type your name" in text_of(answer)
    assert "Split it into smaller files" not in text_of(answer)
    nothing_signed(app, envelope, draft)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("D" * 10_000, "Type your name in at most 100 characters."),
        ("      ", "Draw your signature, or type your name to sign with it."),
        ("\t\n\r", "cannot be printed"),
        ("\u200b\u200c\u200d\u2060", "Draw your signature, or type your name"),
        ("\u202e\u202d\u2066", "Draw your signature, or type your name"),
    ],
    ids=["10000-chars", "spaces", "controls", "zero-width-only", "bidi-only"],
)
def test_a_typed_name_that_is_no_signature_is_refused(app, owner_client, draft, typed, words):
    envelope, link = sent_link(app, owner_client, draft)

    answer = signer_post(app, link, {"consent": "y", "typed_name": typed})

    assert answer.status_code == 400
    assert words in text_of(answer)
    nothing_signed(app, envelope, draft)


@pytest.mark.parametrize(
    "typed",
    ["\u202eseyeR anaD", "Da\u200bna Re\u200dyes", "<script>alert(1)</script>", 'Dana "O\'Reyes"'],
    ids=["rtl-override", "zero-width-inside", "html", "quotes"],
)
def test_a_typed_name_with_odd_characters_is_kept_without_its_format_characters_never_as_markup(
    app, owner_client, draft, typed
):
    envelope, link = sent_link(app, owner_client, draft)

    answer = signer_post(app, link, {"consent": "y", "typed_name": typed})

    assert answer.status_code == 302
    with app.app_context():
        [signed] = [e for e in SigningEvent.of_envelope(envelope.id) if e.kind == "signed"]
        # Format characters print nothing, and an override would show the name reversed: both
        # are dropped, so the name kept is the name as it reads.
        printed = "".join(ch for ch in typed if unicodedata.category(ch) != "Cf")
        assert json.loads(signed.detail)["typed_name"] == " ".join(printed.split())
    for page in (app.test_client().get(link), owner_client.get(loa_url(draft))):
        assert "<script>alert" not in page.get_data(as_text=True)
    assert_consistent(app)


def test_a_one_megabyte_decline_reason_is_kept_to_its_limit_and_the_owner_told(
    app, owner_client, draft
):
    envelope, link = sent_link(app, owner_client, draft)
    reason = ("Wrong account number. " * 50_000)[:1_000_000]

    answer = app.test_client().post(link + "/decline", data={"reason": reason})

    assert answer.status_code == 302
    with app.app_context():
        stored = SigningEnvelope.get_by_id(envelope.id)
    assert stored.status == "declined"
    assert reason.startswith(stored.decline_reason.rstrip())
    assert len(stored.decline_reason) <= envelopes.MAX_REASON
    [told] = emails(app, "loa_declined")
    assert len(told.text_body) < 20_000
    assert owner_client.get(loa_url(draft)).status_code == 200
    assert_consistent(app)


@pytest.mark.parametrize("reason", ["", "   ", "\x00\x01\x02", "\u200b"[:0]])
def test_a_decline_without_a_reason_is_refused_in_words(app, owner_client, draft, reason):
    envelope, link = sent_link(app, owner_client, draft)
    answer = app.test_client().post(link + "/decline", data={"reason": reason})
    assert answer.status_code == 400
    assert "Say why you decline" in text_of(answer)
    assert event_kinds(app, envelope.id) == ["sent"]


# Crafted inputs: the owner's forms -------------------------------------------------------------


def upload(client, request_id, data=None, *, name="signed-loa.pdf", day=None):
    form = {
        "file": (io.BytesIO(bill_pdf() if data is None else data), name),
        "signed_date": str(utcnow().date() if day is None else day),
    }
    return client.post(
        loa_url(request_id, "/upload"), data=form, content_type="multipart/form-data"
    )


def field_error(response, field):
    found = re.search(
        rf'<p class="field__error" id="{field}-error">(.*?)</p>',
        html.unescape(response.get_data(as_text=True)),
        re.DOTALL,
    )
    return found and found.group(1)


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("9999-12-31", "is in the future"),
        ("2026-02-30", "Enter the date it was signed as a date"),
        ("0000-01-01", "Enter the date it was signed as a date"),
        ("2026-01-01\x00", "Enter the date it was signed as a date"),
        ("\x00", "Enter the date it was signed as a date"),
        ("+2026-01-01", "Enter the date it was signed as a date"),
        ("２０２６-０１-０１", "Enter the date it was signed as a date"),
        ("2026-01-01T00:00", "Enter the date it was signed as a date"),
    ],
    ids=["9999", "feb-30", "year-0", "trailing-nul", "nul", "plus", "fullwidth", "datetime"],
)
def test_an_upload_signed_on_no_real_past_day_is_refused_on_its_field(
    app, owner_client, draft, day, words
):
    answer = upload(owner_client, draft, day=day)
    assert answer.status_code == 400
    assert words in (field_error(answer, "signed_date") or "")
    assert signed_loas(app, draft) == []


def test_an_upload_signed_in_1900_is_refused(app, owner_client, draft):
    answer = upload(owner_client, draft, day="1900-01-01")
    assert answer.status_code == 400
    assert field_error(answer, "signed_date")
    assert signed_loas(app, draft) == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "loa.pdf"),
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF", "loa.pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "loa.pdf"),
        (b"\xef\xbb\xbf<html><script>alert(1)</script></html>", "loa.png"),
    ],
    ids=["html", "pdf-header-html", "svg", "bom-html-as-png"],
)
def test_an_html_file_named_like_a_signed_loa_is_refused(app, owner_client, draft, data, name):
    answer = upload(owner_client, draft, data, name=name)
    assert answer.status_code == 400
    assert field_error(answer, "file")
    assert signed_loas(app, draft) == []
    assert request_events(app, draft) == []


def test_a_message_with_crlf_and_headers_stays_in_the_body_and_reaches_one_recipient(
    app, owner_client, draft, smtp_server
):
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    injected = "Hi Dana\r\nBcc: eve@evil.test\r\nSubject: pwned\r\n\r\n.\r\nRCPT TO:<eve@evil.test>"
    answer = send(owner_client, draft, message=injected)
    assert answer.status_code == 302
    link = link_path(emails(app, "signing_request")[0])
    assert app.test_client().post(link, data=SIGNS).status_code == 302
    with app.app_context():
        from portal import mail

        assert mail.deliver_due() == (2, 0)

    messages = smtp_server.wait_for(2)
    recipients = [rcpt for _, rcpt in smtp_server.envelopes]
    assert recipients == [["dana@harborclinic.com"], [OWNER_EMAIL]]
    for message in messages:
        assert message.get_all("Bcc") is None
        assert "pwned" not in message["Subject"]
        assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    body = messages[0].get_body(("plain",)).get_content()
    assert "Bcc: eve@evil.test" in body  # the owner's words, as words in the body


@pytest.mark.parametrize(
    "email",
    [
        "dana@harborclinic.com\nBcc: eve@evil.test",
        "dana@harborclinic.com\r\n",
        "dana@harborclinic.com, eve@evil.test",
        "dana@harborclinic.com eve@evil.test",
        "Dana <dana@harborclinic.com>",
        "dana@harborclinic.com;eve@evil.test",
        '"eve@evil.test"@harborclinic.com',
    ],
    ids=["newline-bcc", "trailing-crlf", "comma", "space", "display-name", "semicolon", "quoted"],
)
def test_a_signer_email_that_is_not_one_address_is_refused(app, owner_client, draft, email):
    answer = send(owner_client, draft, email=email)
    if answer.status_code == 302:
        # Trimmed to the one address it holds: only a surrounding line break may be.
        assert email.strip() == "dana@harborclinic.com"
        assert [e.to_address for e in emails(app)] == ["dana@harborclinic.com"]
        return
    assert answer.status_code == 400
    assert "is not an email address" in (field_error(answer, "email") or "")
    assert envelopes_of(app, draft) == [] and emails(app) == []


@pytest.mark.parametrize(
    "name", ["Olga Other", "Dana  Reyes-Smith", "Dana Rеyes", "Dana Reyes\nEve"],
    ids=["stranger", "longer", "cyrillic-e", "newline"],
)  # fmt: skip
def test_a_signer_who_is_not_the_representative_is_refused(app, owner_client, draft, name):
    answer = send(owner_client, draft, name=name)
    assert answer.status_code == 400
    assert "only they can sign it" in (field_error(answer, "name") or "")
    assert envelopes_of(app, draft) == [] and emails(app) == []


# Access ----------------------------------------------------------------------------------------

OWNER_ROUTES = [
    ("get", "/loa"),
    ("get", "/loa.pdf"),
    ("get", "/loa.pdf?download=1"),
    ("get", "/loa/status"),
    ("post", "/loa/send"),
    ("post", "/loa/resend"),
    ("post", "/loa/cancel"),
    ("post", "/loa/sign"),
    ("post", "/loa/upload"),
    ("get", "/submit"),
    ("post", "/submit"),
    ("get", "/cancel"),
    ("post", "/cancel"),
]
HTMX = {"HX-Request": "true", "HX-Target": "loa-status"}


@pytest.fixture
def theirs(app, inventory, other_owner):
    """Globex's draft with a link out for signature, and Globex's submitted request."""
    draft_id = make_draft(app, inventory[1])
    envelope = foreign_envelope(app, draft_id)
    submitted = make_draft(app, inventory[1], status="submitted")
    return draft_id, envelope, submitted


def hostile_form(envelope_id):
    return {
        **SIGNER,
        "envelope": str(envelope_id),
        "consent": "y",
        "representative": "y",
        "typed_name": "Dana Reyes",
        "reason": "mine now",
        "signed_date": str(utcnow().date()),
        "file": (io.BytesIO(bill_pdf()), "loa.pdf"),
    }


def everything_of(app, request_ids):
    with app.app_context():
        return {
            "requests": [
                (r.id, r.status, r.details, r.updated_at)
                for r in PortRequest.select().where(PortRequest.id.in_(request_ids))
            ],
            "envelopes": [
                (e.id, e.status, e.generation)
                for e in SigningEnvelope.select().order_by(SigningEnvelope.id)
            ],
            "events": SigningEvent.select().count(),
            "documents": Document.select().count(),
            "request_events": RequestEvent.select().count(),
            "emails": OutboxEmail.select().count(),
            "claims": NumberClaim.select().count(),
        }


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(("method", "suffix"), OWNER_ROUTES)
def test_another_accounts_request_on_every_loa_submit_and_cancel_route_is_a_missing_one(
    app, owner_client, theirs, method, suffix, headers
):
    draft_id, envelope, submitted = theirs
    before = everything_of(app, [draft_id, submitted])
    owner_client.get("/port-requests/")  # the "Signed in" flash, shown once

    def answer(request_id):
        options = {"headers": headers}
        if method == "post":
            options |= {"data": hostile_form(envelope.id), "content_type": "multipart/form-data"}
        path, _, query = suffix.partition("?")
        target = f"/port-requests/{request_id}{path}" + (f"?{query}" if query else "")
        response = getattr(owner_client, method)(target, **options)
        return response.status_code, without_csrf(response.get_data(as_text=True))

    answers = [answer(draft_id), answer(submitted), answer(999_999), answer(2**63)]

    assert {status for status, _ in answers} == {404}
    assert len({body for _, body in answers}) == 1
    assert "Harbor" not in answers[0][1] and "Globex" not in answers[0][1]
    assert everything_of(app, [draft_id, submitted]) == before


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(("method", "suffix"), OWNER_ROUTES)
def test_staff_and_strangers_use_no_owner_route(app, staff_client, draft, method, suffix, headers):
    envelope = foreign_envelope(app, draft)
    before = everything_of(app, [draft])
    path, _, query = suffix.partition("?")
    target = f"/port-requests/{draft}{path}" + (f"?{query}" if query else "")
    options = {"headers": headers}
    if method == "post":
        options |= {"data": hostile_form(envelope.id), "content_type": "multipart/form-data"}

    as_staff = getattr(staff_client, method)(target, **options)
    options["data"] = hostile_form(envelope.id) if method == "post" else None
    anonymous = getattr(app.test_client(), method)(target, **options)

    assert as_staff.status_code == 403
    if headers:
        assert anonymous.status_code == 204 and anonymous.headers["HX-Redirect"].startswith(
            "/login"
        )
    else:
        assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert everything_of(app, [draft]) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/outbox/"), ("get", "/outbox/1"), ("get", "/outbox/1/html"),
     ("post", "/outbox/1/send-again"), ("get", "/outbox/?status=failed")],
)  # fmt: skip
def test_the_outbox_is_staff_only(app, owner_client, draft, method, path):
    send(owner_client, draft)
    with app.app_context():
        OutboxEmail.update(status="failed").execute()
    before = [(e.status, e.attempts) for e in emails(app)]

    as_owner = getattr(owner_client, method)(path)
    anonymous = getattr(app.test_client(), method)(path)

    assert as_owner.status_code == 403
    assert "/sign/" not in as_owner.get_data(as_text=True)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert [(e.status, e.attempts) for e in emails(app)] == before


def test_the_document_of_a_link_is_served_only_while_the_link_works(app, owner_client, draft):
    envelope, link = sent_link(app, owner_client, draft)
    signer = app.test_client()
    served = signer.get(link + "/document.pdf")
    assert served.status_code == 200 and served.data.startswith(b"%PDF-")

    assert signer.post(link, data=SIGNS).status_code == 302
    after_signing = signer.get(link + "/document.pdf")
    assert after_signing.status_code == 200
    assert not after_signing.data.startswith(b"%PDF-")
    assert "This document is already signed" in text_of(after_signing)

    # A cancelled one, a replaced one, one whose LOA changed.
    second, link2 = sent_link(app, owner_client, draft)
    owner_client.post(loa_url(draft, "/cancel"), data={"envelope": second.id})
    third, link3 = sent_link(app, owner_client, draft)
    fourth, link4 = sent_link(app, owner_client, draft)
    with app.app_context():
        port_request = PortRequest.get_by_id(draft)
        fields = port_request.fields
        fields["billing"]["account_number"] = ANOTHER_ACCOUNT_NUMBER
        PortRequest.update(details=json.dumps(fields)).where(PortRequest.id == draft).execute()
    for dead, words in (
        (link2, "was cancelled"),
        (link3, "A newer link was sent"),
        (link4, "The document changed after this link was sent"),
    ):
        answer = signer.get(dead + "/document.pdf")
        assert answer.status_code == 410
        assert not answer.data.startswith(b"%PDF-")
        assert words in text_of(answer)


# Evidence --------------------------------------------------------------------------------------


@pytest.fixture
def signed(app, owner_client, draft, htmx):
    """An LOA signed from its link (sent, opened, consented, signed); return (envelope, PDF)."""
    envelope, link = sent_link(app, owner_client, draft)
    signer = app.test_client()
    signer.post(link + "/opened", headers=htmx())
    assert signer.post(link, data=SIGNS).status_code == 302
    [kept] = signed_loas(app, draft)
    with app.app_context():
        return SigningEnvelope.get_by_id(envelope.id), documents.read(kept)


def verify(app, envelope_id, signed_pdf=None, tmp_path=None):
    args = ["signing", "verify", str(envelope_id)]
    if signed_pdf is not None:
        path = tmp_path / "signed.pdf"
        path.write_bytes(signed_pdf)
        args += ["--signed-pdf", str(path)]
    result = app.test_cli_runner().invoke(args=args)
    return result.exit_code, result.output


def events_of(app, envelope_id):
    with app.app_context():
        return list(SigningEvent.of_envelope(envelope_id))


def test_an_intact_signature_verifies_with_its_signed_pdf(app, signed, tmp_path):
    envelope, pdf = signed
    assert event_kinds(app, envelope.id) == ["sent", "opened", "consented", "signed"]
    code, output = verify(app, envelope.id, pdf, tmp_path)
    assert (code, output.strip().endswith("intact.")) == (0, True)


def test_the_real_command_names_an_edited_time(app, signed, database_url, tmp_path):
    envelope, _ = signed
    opened = events_of(app, envelope.id)[1]
    with app.app_context():
        SigningEvent.update(at=opened.at - timedelta(days=1)).where(
            SigningEvent.id == opened.id
        ).execute()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(tmp_path / "cli"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "signing", "verify", str(envelope.id)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Event 2 (opened) was changed after it was recorded." in done.stdout


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ("time", "Event 3 (consented) was changed after it was recorded."),
        ("ip", "Event 4 (signed) was changed after it was recorded."),
        ("user_agent", "Event 2 (opened) was changed after it was recorded."),
        ("delete_middle", "Event 2 is missing"),
        ("reorder", "does not follow the event before it"),
        ("delete_first", "Event 1 is missing"),
        ("delete_all", "The envelope has no events."),
    ],
)
def test_verify_names_an_edited_deleted_or_reordered_event(app, signed, tmp_path, tamper, words):
    envelope, pdf = signed
    events = events_of(app, envelope.id)
    with app.app_context():
        if tamper == "time":
            SigningEvent.update(at=events[2].at + timedelta(seconds=1)).where(
                SigningEvent.id == events[2].id
            ).execute()
        elif tamper == "ip":
            SigningEvent.update(ip="198.51.100.1").where(SigningEvent.id == events[3].id).execute()
        elif tamper == "user_agent":
            SigningEvent.update(user_agent="curl").where(SigningEvent.id == events[1].id).execute()
        elif tamper == "delete_middle":
            SigningEvent.delete().where(SigningEvent.id == events[1].id).execute()
        elif tamper == "delete_first":
            SigningEvent.delete().where(SigningEvent.id == events[0].id).execute()
        elif tamper == "delete_all":
            SigningEvent.delete().where(SigningEvent.envelope == envelope.id).execute()
        else:  # opened and consented swap places (through a free seq, for the unique index)
            SigningEvent.update(seq=-1).where(SigningEvent.id == events[1].id).execute()
            SigningEvent.update(seq=2).where(SigningEvent.id == events[2].id).execute()
            SigningEvent.update(seq=3).where(SigningEvent.id == events[1].id).execute()

    code, output = verify(app, envelope.id, pdf, tmp_path)

    assert code == 1
    assert "is broken:" in output
    assert words in output


def test_verify_names_a_signed_pdf_with_one_byte_changed(app, signed, tmp_path):
    envelope, pdf = signed
    middle = len(pdf) // 2
    for changed in (
        pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1 :],
        pdf + b"\n",
        pdf[:-1],
        b"",
    ):
        code, output = verify(app, envelope.id, changed, tmp_path)
        assert code == 1
        assert "The signed PDF is not the one this envelope produced." in output


def test_verify_names_a_kept_document_changed_in_the_database(app, signed, tmp_path):
    envelope, _ = signed
    document = bytearray(envelope.document)
    document[100] ^= 1
    with app.app_context():
        SigningEnvelope.update(document=bytes(document)).where(
            SigningEnvelope.id == envelope.id
        ).execute()
    code, output = verify(app, envelope.id)
    assert code == 1
    assert "The document kept is not the one sent for signature." in output


def test_verify_names_a_deleted_last_event(app, signed, tmp_path):
    envelope, pdf = signed
    last = events_of(app, envelope.id)[-1]
    with app.app_context():
        SigningEvent.delete().where(SigningEvent.id == last.id).execute()
    code, output = verify(app, envelope.id, pdf, tmp_path)
    assert code == 1
    assert "intact" not in output


def test_verify_names_a_document_swapped_with_its_hash_column(app, signed, tmp_path):
    envelope, pdf = signed
    other = bill_pdf()
    with app.app_context():
        SigningEnvelope.update(
            document=other, document_sha256=hashlib.sha256(other).hexdigest()
        ).where(SigningEnvelope.id == envelope.id).execute()
    code, output = verify(app, envelope.id, pdf, tmp_path)
    assert code == 1
    assert "intact" not in output


def test_verify_names_an_edit_whose_chain_was_recomputed(app, signed, tmp_path):
    envelope, pdf = signed
    with app.app_context():
        previous = envelopes.GENESIS
        for event in SigningEvent.of_envelope(envelope.id):
            values = {name: getattr(event, name) for name in envelopes._HASHED}
            if event.kind == "signed":
                values["ip"] = "198.51.100.1"  # the signer's address, rewritten
            values["previous_hash"] = previous
            values["hash"] = previous = envelopes.event_hash(envelope.id, values)
            SigningEvent.update(**values).where(SigningEvent.id == event.id).execute()
    code, output = verify(app, envelope.id, pdf, tmp_path)
    assert code == 1
    assert "intact" not in output


# Email: a server down, one that drops the line, one that says try later or never -------------


class RawSMTP:
    """An SMTP server on loopback that behaves badly at the end of DATA, as told by `mode`.

    "drop-mid-data": closes the connection halfway through the message; "drop-after-data":
    takes the whole message, then closes without a reply; "4xx" / "5xx": answers the message
    with 451 / 554; "ok": answers 250. `received` counts messages that arrived whole.
    """

    def __init__(self, mode):
        self.mode, self.received = mode, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self.listener.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.listener.close()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection, contextlib.suppress(OSError):
                self._talk(connection, connection.makefile("rb"))

    def _talk(self, connection, lines):
        connection.sendall(b"220 raw.test ESMTP\r\n")
        while line := lines.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                connection.sendall(b"250-raw.test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                connection.sendall(b"354 go on\r\n")
                taken = 0
                while lines.readline() not in (b".\r\n", b""):
                    taken += 1
                    if self.mode == "drop-mid-data" and taken == 5:
                        connection.shutdown(socket.SHUT_RDWR)
                        return
                self.received += 1
                if self.mode == "drop-after-data":
                    connection.shutdown(socket.SHUT_RDWR)
                    return
                reply = {"4xx": b"451 4.3.0 try later\r\n", "5xx": b"554 5.6.0 refused\r\n"}
                connection.sendall(reply.get(self.mode, b"250 2.0.0 queued\r\n"))
            elif verb == b"QUIT":
                connection.sendall(b"221 bye\r\n")
                return
            else:
                connection.sendall(b"250 ok\r\n")


@pytest.fixture
def raw_smtp():
    opened = []

    def start(mode):
        server = RawSMTP(mode)
        opened.append(server)
        return server

    yield start
    for server in opened:
        server.close()


def deliver(app, server):
    app.config.update(SMTP_HOST=server.host, SMTP_PORT=server.port)
    with app.app_context():
        from portal import mail

        OutboxEmail.update(next_attempt_at=utcnow() - timedelta(seconds=1)).where(
            OutboxEmail.status == "queued"
        ).execute()
        return mail.deliver_due()


@pytest.fixture
def sending_app(database_url, tmp_path, accounts, owner):
    """The app sending each email after its request, to an SMTP port nothing listens on."""
    from tests.conftest import free_port

    made = create_app(
        make_config(
            database_url,
            tmp_path / "sending",
            OUTBOX_SEND_AFTER_COMMIT=True,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=free_port(),
            SMTP_TIMEOUT=5,
        )
    )
    add_inventory(made, accounts)
    return made


def test_the_signing_email_queued_while_smtp_is_down_goes_out_once_when_it_is_up(
    sending_app, smtp_server
):
    from portal import mail
    from tests.conftest import login

    app = sending_app
    request_id = make_draft(app, 4242)
    client = app.test_client()
    login(client, OWNER_EMAIL)
    assert send(client, request_id).status_code == 302
    assert mail.wait_for_senders()
    [queued] = emails(app)
    assert (queued.status, queued.attempts) == ("queued", 1)
    assert queued.last_error.startswith("connecting to 127.0.0.1:")

    assert deliver(app, smtp_server) == (1, 0)
    assert deliver(app, smtp_server) == (0, 0)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "sent 0, still queued 0, failed 0" in result.output

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "dana@harborclinic.com"
    link = LINK.search(message.get_body(("plain",)).get_content()).group(1)
    assert app.test_client().post(link, data=SIGNS).status_code == 302
    assert mail.wait_for_senders()
    # SMTP is up now: the owner's "signed" email went out after the signature's request, once.
    assert [m["To"] for m in smtp_server.wait_for(2)] == ["dana@harborclinic.com", OWNER_EMAIL]
    assert deliver(app, smtp_server) == (0, 0)
    assert [e.status for e in emails(app)] == ["sent", "sent"]


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("drop-mid-data", "queued", "connection lost"),
        ("drop-after-data", "queued", "connection lost"),
        ("4xx", "queued", "451 4.3.0 try later"),
        ("5xx", "failed", "554 5.6.0 refused"),
    ],
)
def test_a_server_that_drops_or_refuses_the_message_leaves_it_to_retry_or_failed_in_words(
    app, owner_client, staff_client, draft, raw_smtp, smtp_server, mode, status, error
):
    send(owner_client, draft)
    [email] = emails(app)

    sent, failed = deliver(app, raw_smtp(mode))

    assert (sent, failed) == (0, 1)
    [after] = emails(app)
    assert (after.status, after.attempts) == (status, 1)
    assert error in after.last_error
    page = staff_client.get(f"/outbox/{email.id}")
    assert page.status_code == 200 and error in text_of(page)
    listing = staff_client.get("/outbox/")
    assert error in text_of(listing)
    # A good server later: a retried email goes out once, a failed one stays failed.
    assert deliver(app, smtp_server) == ((1, 0) if status == "queued" else (0, 0))
    assert deliver(app, smtp_server) == (0, 0)
    assert len(smtp_server.messages) == (1 if status == "queued" else 0)


def test_an_address_the_server_cannot_take_fails_alone_and_the_others_go_out(app, raw_smtp):
    from portal import mail

    with app.app_context(), app.test_request_context():
        for to in ("dañа@harborclinic.com", "ann@acme.test", "bo@acme.test"):
            mail.enqueue(
                to=to, subject="Hello", template="password_reset", purpose="test",
                name="Ann", email=to, reset_url="https://portdesk.test/reset-password/x",
            )  # fmt: skip

    server = raw_smtp("ok")  # a relay without SMTPUTF8, as many are
    assert deliver(app, server) == (2, 1)
    assert [e.status for e in emails(app)] == ["failed", "sent", "sent"]
    assert server.received == 2


# Races through a live server -------------------------------------------------------------------


class Served:
    """The app on a loopback port: its address, and the secret its links are signed with."""

    def __init__(self, address, secret):
        self.address, self.secret = address, secret
        self.opened = []

    def tab(self):
        return Tab(self.address, self.opened)

    def owner(self, email=OWNER_EMAIL):
        tab = self.tab()
        tab.get("/login")
        assert tab.post("/login", {"email": email, "password": PASSWORD})[0] == 302
        return tab

    def close(self):
        for tab in self.opened:
            tab.connection.close()


@pytest.fixture
def served(app, database_url, tmp_path, owner, other_owner, inventory, monkeypatch):
    """werkzeug's threaded server, or gunicorn (2 workers x 4 threads) with ATTACK_SERVER=gunicorn.

    Emails stay in the outbox (a test sends them), so each one can be counted.
    """
    if os.environ.get("ATTACK_SERVER") == "gunicorn":
        from bench.serving import gunicorn

        monkeypatch.setenv("OUTBOX_SEND_AFTER_COMMIT", "0")
        with gunicorn(database_url, tmp_path / "gunicorn", tmp_path / "gunicorn.log") as address:
            server = Served(address, "bench")
            yield server
            server.close()
        return
    live_app = create_app(make_config(database_url, tmp_path / "live", WTF_CSRF_ENABLED=True))
    httpd = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server = Served(("127.0.0.1", httpd.server_port), live_app.config["SECRET_KEY"])
    yield server
    server.close()
    httpd.shutdown()
    thread.join()


def post_multipart(tab, path, fields, files):
    """Post a multipart form (with the tab's CSRF token) as a browser would; return the status."""
    boundary = "----attack" + os.urandom(8).hex()
    parts = []
    for name, value in ({"csrf_token": tab.token} | fields).items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, data, media) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {media}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Cookie": "; ".join(f"{k}={m.value}" for k, m in tab.cookies.items()),
    }
    tab.connection.request("POST", path, body=body, headers=headers)
    response = tab.connection.getresponse()
    response.read()
    return response.status


def sent_through(served, app, owner_tab, request_id):
    """Send the LOA through the server; return (the envelope, the emailed link's path)."""
    owner_tab.get(loa_url(request_id))
    assert owner_tab.post(loa_url(request_id, "/send"), SIGNER)[0] == 302
    return envelopes_of(app, request_id)[-1], link_path(emails(app, "signing_request")[-1])


def signer_ready(served, link):
    """A signer's browser showing the signing page (its session and CSRF token)."""
    tab = served.tab()
    status, _, _ = tab.get(link)
    assert status == 200
    return tab


def owner_action(action, tab, request_id, envelope_id):
    """Return a call doing the owner's side of a race; it returns the HTTP status."""
    if action in ("resend", "cancel"):
        return lambda: tab.post(loa_url(request_id, f"/{action}"), {"envelope": envelope_id})[0]
    if action == "self_sign":
        form = {"representative": "y", "consent": "y", "typed_name": "Dana Reyes"}
        return lambda: tab.post(loa_url(request_id, "/sign"), form)[0]
    if action == "send_again":
        return lambda: tab.post(loa_url(request_id, "/send"), SIGNER)[0]
    if action == "upload":
        fields = {"signed_date": str(utcnow().date())}
        files = {"file": ("signed.pdf", bill_pdf(), "application/pdf")}
        return lambda: post_multipart(tab, loa_url(request_id, "/upload"), fields, files)
    if action == "details":
        form = COMPLETE | {"billing.account_number": ANOTHER_ACCOUNT_NUMBER}
        return lambda: tab.post(f"/port-requests/{request_id}/details", form)[0]
    if action == "delete":
        return lambda: tab.post(f"/port-requests/{request_id}/delete", {})[0]
    raise ValueError(action)


# What the owner's envelope ends as when the owner's side comes first.
OWNER_FIRST = {
    "resend": "sent",
    "cancel": "cancelled",
    "self_sign": "replaced",
    "send_again": "replaced",
    "upload": "cancelled",
    "details": "sent",  # made void by the signer's POST that finds the LOA changed
    "delete": "sent",
}


@pytest.mark.parametrize(
    "action",
    OWNER_FIRST,
)  # fmt: skip
def test_a_signer_signing_while_the_owner_acts_leaves_one_consistent_story(
    app, served, draft, action
):
    owner_tab = served.owner()
    envelope, link = sent_through(served, app, owner_tab, draft)
    signer = signer_ready(served, link)
    owner_tab.get(loa_url(draft) if action != "delete" else f"/port-requests/{draft}/delete")
    if action == "details":
        owner_tab.get(f"/port-requests/{draft}/details")

    signed_status, owner_status = at_once(
        lambda: signer.post(link, SIGNS)[0], owner_action(action, owner_tab, draft, envelope.id)
    )

    assert owner_status == 302
    assert signed_status in (302, 410), signed_status
    with app.app_context():
        after = SigningEnvelope.get_by_id(envelope.id)
    if signed_status == 302:
        assert after.status == "signed"
    else:
        assert after.status in {OWNER_FIRST[action], "void", "replaced", "cancelled"}
        assert "consented" not in event_kinds(app, envelope.id)
    assert_consistent(app)
    # The signer's link now tells what happened, in words, and never a 500.
    status, _, page = served.tab().get(link)
    assert status in (200, 404, 410) and "Sign the document" not in page


def test_two_signers_on_one_link_sign_it_once(app, served, draft):
    owner_tab = served.owner()
    envelope, link = sent_through(served, app, owner_tab, draft)
    tabs = [signer_ready(served, link) for _ in range(4)]
    forms = [
        SIGNS,
        {"consent": "y", "signature_png": data_url(png_bytes(stroke()))},
        SIGNS | {"typed_name": "D. Reyes"},
        {"reason": "Not mine to sign"},
    ]
    paths = [link, link, link, link + "/decline"]

    answers = at_once(
        *[lambda t=t, p=p, f=f: t.post(p, f) for t, p, f in zip(tabs, paths, forms, strict=True)]
    )

    assert sorted(status for status, _, _ in answers) == [200, 200, 200, 302]
    winners = [i for i, (status, _, _) in enumerate(answers) if status == 302]
    told = ("This document is already signed", "You declined to sign this document")
    for status, _, page in answers:
        if status == 200:
            assert any(words in page for words in told), page[:300]
    with app.app_context():
        after = SigningEnvelope.get_by_id(envelope.id)
    assert after.status == ("declined" if winners == [3] else "signed")
    kinds = event_kinds(app, envelope.id)
    assert kinds.count("signed") + kinds.count("declined") == 1
    assert len(signed_loas(app, draft)) == (after.status == "signed")
    assert len(emails(app, "loa_signed")) + len(emails(app, "loa_declined")) == 1
    assert_consistent(app)


def test_opened_posted_from_many_tabs_at_once_is_recorded_once(app, served, draft):
    owner_tab = served.owner()
    envelope, link = sent_through(served, app, owner_tab, draft)
    tabs = [signer_ready(served, link) for _ in range(6)]
    headers = {"HX-Request": "true"}

    answers = at_once(*[lambda t=t: t.send("POST", link + "/opened", {}, headers)[0] for t in tabs])

    assert answers == [204] * 6
    assert event_kinds(app, envelope.id) == ["sent", "opened"]


@pytest.fixture
def submittable(app, owner):
    """A draft that can be submitted now (an LOA uploaded, a bill), out for signature again."""
    return make_submittable(app, owner.account_id, created_by=owner)


def test_a_submit_while_a_signature_lands_leaves_one_consistent_story(app, served, submittable):
    owner_tab = served.owner()
    envelope, link = sent_through(served, app, owner_tab, submittable)
    signer = signer_ready(served, link)
    owner_tab.get(f"/port-requests/{submittable}/submit")

    signed_status, submit_status = at_once(
        lambda: signer.post(link, SIGNS)[0],
        lambda: owner_tab.post(f"/port-requests/{submittable}/submit", {})[0],
    )

    assert submit_status == 302 and signed_status in (302, 410)
    with app.app_context():
        assert PortRequest.get_by_id(submittable).status == "submitted"
    assert_consistent(app)


def test_twenty_submits_of_one_number_through_the_server_one_wins(app, served):
    from tests import test_submit

    racers = test_submit.racing_accounts(app)
    tabs = []
    for _, person, request_id in racers:
        tab = served.owner(person.email)
        assert tab.get(f"/port-requests/{request_id}/submit")[0] == 200
        tabs.append(tab)

    answers = at_once(
        *[
            lambda tab=tab, racer=racer: tab.post(f"/port-requests/{racer[2]}/submit", {})
            for tab, racer in zip(tabs, racers, strict=True)
        ]
    )

    test_submit.assert_one_won(
        app,
        racers,
        answers,
        won=lambda answer: answer[0] == 302,
        lost=lambda answer: answer[0] == 409 and "(614) 322-1001 is already in" in answer[2],
    )
    assert_consistent(app)


# The same races with the interleaving that matters made certain: the signer's POST has passed
# its checks (the envelope locked, the request still a draft as it read it) and is stamping
# when the owner acts. On SQLite the owner's write waits for the signer's lock (the signer is
# let go after a second, well within SQLite's busy timeout); on PostgreSQL the owner's change
# needs no lock the signer holds and commits first.
OWNER_WAIT = 10 if ON_POSTGRES else 1


@pytest.fixture
def stamping_held(monkeypatch):
    """Hold every stamp until released: (reached, release) events."""
    from signing import pdf

    yield from _held(monkeypatch, pdf, "stamp")


@pytest.fixture
def closing_held(monkeypatch):
    """Hold every envelope closing (a decline's, before its hooks) until released."""
    yield from _held(monkeypatch, envelopes, "_close")


def _held(monkeypatch, module, name):
    original = getattr(module, name)
    reached, release = threading.Event(), threading.Event()

    def held(*args, **kwargs):
        reached.set()
        release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    yield reached, release
    release.set()


SIGNER_POSTS = {"sign": ("", SIGNS), "decline": ("/decline", {"reason": "The BTN is wrong"})}


def sign_while(app, link, held, owner_call, signer_act="sign"):
    """Sign (or decline) from the link; once the signer's POST is held, run the owner's call;
    return the status of the signer's answer and of the owner's (500 for an exception: the
    test client raises what a server would answer with a 500)."""
    reached, release = held
    suffix, form = SIGNER_POSTS[signer_act]
    answers = {}

    def status_of(call):
        try:
            return call().status_code
        except Exception:
            return 500

    def signer():
        answers["signer"] = status_of(lambda: app.test_client().post(link + suffix, data=form))

    def owner():
        answers["owner"] = status_of(owner_call)

    signing = threading.Thread(target=signer)
    signing.start()
    assert reached.wait(10), "the signer's POST never reached the point held"
    acting = threading.Thread(target=owner)
    acting.start()
    acting.join(OWNER_WAIT)
    release.set()
    acting.join()
    signing.join()
    return answers["signer"], answers["owner"]


@pytest.mark.parametrize("signer_act", ["sign", "decline"])
def test_a_draft_deleted_while_a_signature_is_stamped_answers_the_signer_in_words(
    app, owner_client, draft, request, signer_act
):
    envelope, link = sent_link(app, owner_client, draft)
    held = request.getfixturevalue("stamping_held" if signer_act == "sign" else "closing_held")

    signer, deleted = sign_while(
        app, link, held,
        lambda: owner_client.post(f"/port-requests/{draft}/delete", data={}),
        signer_act,
    )  # fmt: skip

    assert deleted == 302
    assert signer in (302, 410)
    with app.app_context():
        assert PortRequest.get_or_none(PortRequest.id == draft) is None
    assert_consistent(app)


@pytest.mark.parametrize("signer_act", ["sign", "decline"])
def test_a_signature_landing_during_a_submit_does_not_change_the_submitted_request(
    app, owner_client, owner, submittable, request, signer_act
):
    envelope, link = sent_link(app, owner_client, submittable)
    [uploaded] = signed_loas(app, submittable)
    held = request.getfixturevalue("stamping_held" if signer_act == "sign" else "closing_held")

    signer, submitted = sign_while(
        app, link, held,
        lambda: owner_client.post(f"/port-requests/{submittable}/submit", data={}),
        signer_act,
    )  # fmt: skip

    assert submitted == 302 and signer in (302, 410)
    kinds = request_events(app, submittable)
    after_submit = kinds[kinds.index("submitted") :]
    assert "loa_signed" not in after_submit and "loa_declined" not in after_submit, kinds
    with app.app_context():
        current = documents.current(PortRequest.get_by_id(submittable), "signed_loa")
        assert current.id == uploaded.id or "loa_signed" in kinds
    assert_consistent(app)


def test_a_field_changed_while_a_signature_is_stamped_leaves_that_signature_outdated(
    app, owner_client, draft, stamping_held
):
    envelope, link = sent_link(app, owner_client, draft)
    form = COMPLETE | {"billing.account_number": ANOTHER_ACCOUNT_NUMBER}

    signer, saved = sign_while(
        app, link, stamping_held,
        lambda: owner_client.post(f"/port-requests/{draft}/details", data=form),
    )  # fmt: skip

    assert saved == 302 and signer in (302, 410)
    with app.app_context():
        port_request = PortRequest.get_by_id(draft)
        assert port_request.fields["billing"]["account_number"] == ANOTHER_ACCOUNT_NUMBER
        current_digest = loa.of_request(port_request)[1]
        for kept in signed_loas(app, draft):
            # Whatever was signed was signed for the LOA as it stood before the change.
            assert kept.loa_digest != current_digest
    page = owner_client.get(loa_url(draft))
    assert "The LOA is signed: this step is complete." not in text_of(page)
    assert_consistent(app)


# Two cron runs at once -------------------------------------------------------------------------


def flask_at_once(database_url, tmp_path, secret, *commands, smtp=None, runs=2):
    """Run `flask --app wsgi <command>` `runs` times side by side; return [(code, output)]."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "INSTANCE_PATH": str(tmp_path / "cron"),
        "OUTBOX_SEND_AFTER_COMMIT": "0",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    if smtp is not None:
        environment |= {"SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)}
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *commands],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(runs)
    ]
    finished = []
    for process in started:
        out, err = process.communicate(timeout=300)
        finished.append((process.returncode, out + err))
    return finished


def drafts_out_for_signature(app, served, count):
    """`count` drafts whose LOA the owner sent through the server; return their ids."""
    owner_tab = served.owner()
    request_ids = [make_draft(app, 4242) for _ in range(count)]
    for request_id in request_ids:
        sent_through(served, app, owner_tab, request_id)
    return request_ids


def test_two_outbox_sends_at_once_send_every_email_the_app_queued_exactly_once(
    app, served, database_url, tmp_path, smtp_server
):
    drafts_out_for_signature(app, served, 12)
    # The signer of half of them signs (their owner's email joins the queue) or declines.
    for n in range(6):
        link = link_path(emails(app, "signing_request")[n])
        tab = signer_ready(served, link)
        if n % 2:
            assert tab.post(link + "/decline", {"reason": "Wrong BTN"})[0] == 302
        else:
            assert tab.post(link, SIGNS)[0] == 302
    queued = emails(app)
    assert len(queued) == 18 and {e.status for e in queued} == {"queued"}

    # Three runs, each allowed a third: all 18 go only if no run took another's.
    runs = flask_at_once(
        database_url, tmp_path, served.secret, "outbox", "send", "--limit", "6",
        smtp=smtp_server, runs=3,
    )  # fmt: skip

    assert [code for code, _ in runs] == [0, 0, 0], runs
    sent = [int(re.search(r"sent (\d+),", output).group(1)) for _, output in runs]
    assert sum(sent) == 18, runs
    messages = smtp_server.wait_for(18)
    assert len(messages) == 18
    assert len({message["Message-ID"] for message in messages}) == 18
    assert sorted(m["Subject"] for m in messages) == sorted(e.subject for e in queued)
    assert {(e.status, e.attempts) for e in emails(app)} == {("sent", 0)}
    again = flask_at_once(database_url, tmp_path, served.secret, "outbox", "send", smtp=smtp_server)
    assert all("sent 0, still queued 0, failed 0" in output for _, output in again)
    assert len(smtp_server.messages) == 18
    assert_consistent(app)


def test_two_reminder_runs_at_once_remind_each_signer_once(app, served, database_url, tmp_path):
    request_ids = drafts_out_for_signature(app, served, 10)
    with app.app_context():
        SigningEnvelope.update(last_sent_at=utcnow() - timedelta(days=3)).execute()
        # Not due: one signed, one cancelled, one expired, one reminded three times already.
    owner_tab = served.owner()
    signed_link = link_path(emails(app, "signing_request")[0])
    assert signer_ready(served, signed_link).post(signed_link, SIGNS)[0] == 302
    cancelled = envelopes_of(app, request_ids[1])[0]
    owner_tab.get(loa_url(request_ids[1]))
    assert owner_tab.post(loa_url(request_ids[1], "/cancel"), {"envelope": cancelled.id})[0] == 302
    with app.app_context():
        expired, tired = envelopes_of(app, request_ids[2])[0], envelopes_of(app, request_ids[3])[0]
        SigningEnvelope.update(expires_at=utcnow() - timedelta(minutes=1)).where(
            SigningEnvelope.id == expired.id
        ).execute()
        SigningEnvelope.update(reminders=envelopes.MAX_REMINDERS).where(
            SigningEnvelope.id == tired.id
        ).execute()
    due = request_ids[4:]

    runs = flask_at_once(database_url, tmp_path, served.secret, "signing", "remind", runs=3)

    assert [code for code, _ in runs] == [0, 0, 0], runs
    told = [int(re.search(r"Reminded (\d+) signer", output).group(1)) for _, output in runs]
    assert sum(told) == len(due), runs
    reminders = emails(app, "signing_reminder")
    assert len(reminders) == len(due)
    for request_id in request_ids:
        [envelope] = envelopes_of(app, request_id)
        kinds = event_kinds(app, envelope.id)
        expected = 1 if request_id in due else 0
        assert kinds.count("reminded") == expected, (request_id, kinds)
        assert request_events(app, request_id).count("loa_reminded") == expected
        if request_id in due:
            assert envelope.reminders == 1
            # The reminder's link is the current one and works.
            [email] = [e for e in reminders if e.reference == loa.reference(request_id)]
            assert served.tab().get(link_path(email))[0] == 200
    assert_consistent(app)


# More crafted requests: hidden fields, tokens on every signer route, headers, the evidence's
# own fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["resend", "cancel"])
@pytest.mark.parametrize(
    "posted",
    ["theirs", "older", "", "abc", "-1", "1e309", "\x00", "1" * 100, str(2**63), " 1 "],
)
def test_a_resend_or_cancel_naming_no_envelope_of_the_page_does_nothing(
    app, owner_client, theirs, draft, htmx, action, posted
):
    _, their_envelope, _ = theirs
    older, _ = sent_link(app, owner_client, draft)
    envelope, _ = sent_link(app, owner_client, draft)
    value = {"theirs": str(their_envelope.id), "older": str(older.id)}.get(posted, posted)
    if value == " 1 " and envelope.id == 1:
        value = " 3 "
    before = everything_of(app, [draft])

    for headers in ({}, htmx()):
        answer = owner_client.post(
            loa_url(draft, f"/{action}"), data={"envelope": value}, headers=headers
        )
        assert answer.status_code in (200, 302)
        page = answer if answer.status_code == 200 else owner_client.get(loa_url(draft))
        assert "The page was out of date" in text_of(page)
    assert everything_of(app, [draft]) == before


TOKENS = [
    "A" * 501,
    "\u00e9t\u00e9",
    "%00",
    "..",
    "WzEsMV0",
    "WzEsMV0..",
    "W1swLCAxXV0.aQ3fXQ.x",
    "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.",
]
SIGNER_ROUTES = [
    ("get", ""),
    ("head", ""),
    ("post", ""),
    ("post", "/opened"),
    ("post", "/decline"),
    ("post", "/new-link"),
    ("get", "/document.pdf"),
]


@pytest.mark.parametrize(("method", "suffix"), SIGNER_ROUTES)
@pytest.mark.parametrize("token", TOKENS, ids=range(len(TOKENS)))
def test_a_token_that_is_no_signing_link_is_the_same_404_on_every_signer_route(
    app, client, draft, method, suffix, token
):
    answer = getattr(client, method)(
        f"/sign/{token}{suffix}", data=SIGNS if method == "post" else None
    )
    assert answer.status_code == 404
    if method != "head":
        assert "This signing link doesn't work" in text_of(answer)
    with app.app_context():
        assert SigningEvent.select().count() == 0


@pytest.mark.parametrize("state", ["live", "signed", "cancelled", "invalid"])
def test_every_signer_page_is_private_and_unframeable(app, owner_client, draft, state):
    envelope, link = sent_link(app, owner_client, draft)
    if state == "signed":
        app.test_client().post(link, data=SIGNS)
    elif state == "cancelled":
        owner_client.post(loa_url(draft, "/cancel"), data={"envelope": envelope.id})
    elif state == "invalid":
        link = link[:-3] + "abc"
    for answer in (app.test_client().get(link), app.test_client().get(link + "/document.pdf")):
        headers = answer.headers
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Robots-Tag"] == "noindex, nofollow"
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer")
        assert headers["X-Content-Type-Options"] == "nosniff"
        policy = headers["Content-Security-Policy"]
        if answer.mimetype == "application/pdf":
            assert "frame-ancestors 'self'" in policy
        else:
            assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY"
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_the_evidence_keeps_the_socket_address_and_a_clean_user_agent(app, owner_client, draft):
    envelope, link = sent_link(app, owner_client, draft)
    headers = {
        "User-Agent": "Evil\x00Agent " + "x" * 10_000,
        "X-Forwarded-For": "8.8.8.8",
        "X-Real-IP": "8.8.4.4",
        "Forwarded": "for=1.1.1.1",
    }

    answer = app.test_client().post(
        link, data=SIGNS, headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )

    assert answer.status_code == 302
    for event in events_of(app, envelope.id)[1:]:
        assert event.ip == "203.0.113.7"
        assert "\x00" not in event.user_agent and len(event.user_agent) <= 500
        assert event.user_agent.startswith("EvilAgent")
    assert_consistent(app)


@pytest.mark.parametrize(
    "shown", ["", "x" * 10_000, "\x00", "1.1.sent.1.0", "<script>", "../../etc"]
)
def test_a_crafted_shown_key_on_the_status_poll_answers_the_region(
    app, owner_client, draft, htmx, shown
):
    sent_link(app, owner_client, draft)
    answer = owner_client.get(
        loa_url(draft, "/status"), query_string={"shown": shown}, headers=htmx()
    )
    assert answer.status_code in (200, 204)
    if answer.status_code == 200:
        assert "Sent to Dana Reyes" in text_of(answer)
        assert "<script>" not in answer.get_data(as_text=True).split("hx-get")[0]


SIGNER_ACTS = {
    "decline": lambda tab, link: tab.post(link + "/decline", {"reason": "The BTN is wrong"})[0],
    "opened": lambda tab, link: tab.send("POST", link + "/opened", {}, {"HX-Request": "true"})[0],
}


@pytest.mark.parametrize("action", ["resend", "cancel", "self_sign", "upload", "details"])
@pytest.mark.parametrize("signer_act", list(SIGNER_ACTS))
def test_a_signer_declining_or_opening_while_the_owner_acts_leaves_one_consistent_story(
    app, served, draft, action, signer_act
):
    owner_tab = served.owner()
    envelope, link = sent_through(served, app, owner_tab, draft)
    signer = signer_ready(served, link)
    owner_tab.get(loa_url(draft))
    if action == "details":
        owner_tab.get(f"/port-requests/{draft}/details")

    signer_status, owner_status = at_once(
        lambda: SIGNER_ACTS[signer_act](signer, link),
        owner_action(action, owner_tab, draft, envelope.id),
    )

    assert owner_status == 302
    assert signer_status in ((302, 410) if signer_act == "decline" else (204, 410))
    kinds = event_kinds(app, envelope.id)
    assert kinds.count("opened") <= 1 and kinds.count("declined") <= 1
    if signer_status == 410:
        assert "declined" not in kinds
    assert_consistent(app)


def test_cron_reminding_while_the_signer_signs_reminds_only_an_unsigned_envelope(
    app, served, draft, database_url, tmp_path
):
    owner_tab = served.owner()
    envelope, link = sent_through(served, app, owner_tab, draft)
    with app.app_context():
        SigningEnvelope.update(last_sent_at=utcnow() - timedelta(days=3)).execute()
    signer = signer_ready(served, link)

    signed_status, runs = at_once(
        lambda: signer.post(link, SIGNS)[0],
        lambda: flask_at_once(database_url, tmp_path, served.secret, "signing", "remind"),
    )

    assert signed_status == 302
    assert [code for code, _ in runs] == [0, 0]
    kinds = event_kinds(app, envelope.id)
    assert kinds.count("reminded") <= 1
    if "reminded" in kinds:
        assert kinds.index("reminded") < kinds.index("signed")
    assert len(emails(app, "signing_reminder")) == kinds.count("reminded")
    assert_consistent(app)


def test_signing_yourself_from_two_tabs_at_once_leaves_one_current_signed_loa(app, served, draft):
    owner_tab = served.owner()
    tabs = [owner_tab] + [owner_tab.copy() for _ in range(2)]
    for tab in tabs:
        tab.get(loa_url(draft))
    form = {"representative": "y", "consent": "y", "typed_name": "Dana Reyes"}

    answers = at_once(*[lambda t=t: t.post(loa_url(draft, "/sign"), form)[0] for t in tabs])

    assert answers == [302, 302, 302]
    with app.app_context():
        current = documents.current(PortRequest.get_by_id(draft), "signed_loa")
        [made_it] = [e for e in envelopes_of(app, draft) if e.signed_sha256 == current.sha256]
        assert made_it.status == "signed"
    assert_consistent(app)


# Where the links in emails point ---------------------------------------------------------------

FORGED_HOST = "portdesk.evil.test"


@pytest.mark.parametrize("who", ["anyone-resetting", "signer-signing", "signer-declining"])
def test_a_forged_host_header_never_chooses_where_an_emailed_link_points(
    app, owner_client, owner, draft, who
):
    assert app.config["PUBLIC_URL"] is None
    forged = app.test_client()
    if who == "anyone-resetting":
        answer = forged.post(
            "/forgot-password", data={"email": OWNER_EMAIL}, headers={"Host": FORGED_HOST}
        )
    else:
        _, link = sent_link(app, owner_client, draft)
        path, form = SIGNER_POSTS["sign" if who == "signer-signing" else "decline"]
        answer = forged.post(link + path, data=form, headers={"Host": FORGED_HOST})
    assert answer.status_code in (302, 400)
    for email in emails(app):
        assert FORGED_HOST not in email.text_body + (email.html_body or "")


@pytest.mark.parametrize("ending", ["submit", "delete"])
def test_a_link_still_open_when_its_request_is_submitted_or_deleted_is_closed_and_says_so(
    app, owner_client, owner, submittable, ending
):
    envelope, link = sent_link(app, owner_client, submittable)
    if ending == "submit":
        assert owner_client.post(f"/port-requests/{submittable}/submit").status_code == 302
    else:
        assert owner_client.post(f"/port-requests/{submittable}/delete").status_code == 302

    with app.app_context():
        assert SigningEnvelope.get_by_id(envelope.id).status in FINAL
    page = app.test_client().get(link)
    assert page.status_code == 410
    assert "The document changed" not in text_of(page)


def test_a_link_replaced_by_the_owner_signing_themselves_does_not_promise_a_new_email(
    app, owner_client, draft
):
    _, link = sent_link(app, owner_client, draft)
    form = {"representative": "y", "consent": "y", "typed_name": "Dana Reyes"}
    assert owner_client.post(loa_url(draft, "/sign"), data=form).status_code == 302

    page = app.test_client().get(link)

    assert page.status_code == 410
    assert "newest email" not in text_of(page) and "newer link was sent" not in text_of(page)


def test_the_unsigned_preview_uploaded_as_the_signed_loa_is_refused(app, owner_client, draft):
    preview = owner_client.get(loa_url(draft, ".pdf")).data
    assert preview.startswith(b"%PDF-")

    answer = upload(owner_client, draft, preview, name=f"loa-{draft}.pdf")

    assert answer.status_code == 400
    assert signed_loas(app, draft) == []


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("get", "/html"), ("post", "/send-again")]
)
def test_an_outbox_id_past_64_bits_is_404(app, staff_client, method, suffix):
    for email_id in (2**63, 10**20):
        answer = getattr(staff_client, method)(f"/outbox/{email_id}{suffix}")
        assert answer.status_code == 404
        assert "Page not found" in text_of(answer)
