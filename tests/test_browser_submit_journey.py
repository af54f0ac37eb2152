"""The signing issue's "Done when", end to end in Debian's chromium against gunicorn.

The owner (a desktop browser) opens a draft whose General, Details, Numbers and Agreements are
done, previews the LOA and sends it to the representative the request names. The email arrives
at a real SMTP server on loopback; its link is opened on a phone, where the representative agrees
and signs with a finger. The owner's LOA step turns to signed by itself, the owner uploads the bill,
submits, and the request's page shows it submitted with its timeline and the signed LOA, whose
certificate of completion names the signer and the consent they gave. Every email went out after
its request committed, to the SMTP server: the signing request, "signed" and "submitted".
"""

import hashlib
import io
import json
import re
import time
from html import unescape

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from bench.serving import gunicorn
from portal.models import NumberClaim, OutboxEmail, PortRequest
from signing import SigningEnvelope, SigningEvent, consent
from tests import test_browser
from tests.conftest import OWNER_EMAIL
from tests.test_proof_step import bill_pdf, today
from tests.test_submit import make_submittable

pytestmark = pytest.mark.browser

browser = test_browser.browser
NUMBERS = ("(614) 322-1001", "(614) 322-1002", "(614) 322-1003")
CLAIMED = {"+16143221001", "+16143221002", "+16143221003"}
SIGNER, SIGNER_EMAIL = "Dana Reyes", "dana@harborclinic.com"
TITLE = "Harbor Clinic main lines"
LOA_TITLE = "Letter of Authorization for HARBOR CLINIC, LLC"
MESSAGE = "Dana, this moves our three main lines: please sign today."
MAIL_FROM = "PortDesk <portdesk@portdesk.test>"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"https?://[^\s\"<>]+/sign/[A-Za-z0-9_.\-]+")
# The strokes of a signature, as fractions of the box: a finger's three sweeps.
STROKES = (((0.1, 0.7), (0.35, 0.25)), ((0.35, 0.25), (0.6, 0.8)), ((0.6, 0.8), (0.9, 0.35)))


@pytest.fixture
def served(database_url, tmp_path, owner, smtp_server, monkeypatch):
    """PortDesk under gunicorn (2 workers x 4 threads, CSRF on, as deployed), sending each
    request's emails after its commit to the loopback SMTP server; yield its base URL."""
    for name, value in {
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "MAIL_FROM": MAIL_FROM,
        "OUTBOX_SEND_AFTER_COMMIT": "1",
    }.items():
        monkeypatch.setenv(name, value)
    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, tmp_path / "gunicorn", log) as (host, port):
        yield f"http://{host}:{port}"
    # Shown only when the test fails: what the server said while it ran.
    print(log.read_text(errors="replace"))


@pytest.fixture
def draft(app, owner):
    """Harbor Clinic's draft: General, Details, Numbers and Agreements done; no bill, no LOA."""
    return make_submittable(
        app, owner.account_id, numbers=NUMBERS, created_by=owner, bill=False, loa=False
    )


def _page(context):
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return page


@pytest.fixture
def owner_page(browser):
    context = browser.new_context(viewport=DESKTOP)
    yield _page(context)
    context.close()


@pytest.fixture
def signer_phone(browser):
    """A fresh browser on a phone: a touch screen, no cookies of anyone's."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield _page(context)
    context.close()


def steps_of(page):
    return page.get_by_role("navigation", name="Steps of this port request")


def words(html):
    """The text a reader of an HTML email sees, on one line."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def parts(message):
    """The email's plain text and its HTML as read, each on one line."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return " ".join(text.split()), words(html), html


def moment(value):
    """A UTC time as the emails say it: Tuesday 12 January 2027 at 14:03 UTC."""
    return f"{value:%A} {value.day} {value:%B %Y} at {value:%H:%M} UTC"


def settled_outbox(app, timeout=10):
    """Return the outbox as (to, status, failed attempts) once no email is queued or being sent: a
    sender records "sent" just after the SMTP server has the message."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            rows = list(
                OutboxEmail.select(
                    OutboxEmail.to_address, OutboxEmail.status, OutboxEmail.attempts
                ).tuples()
            )
        if all(status not in ("queued", "sending") for _, status, _ in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"emails still waiting to be sent: {rows}")
        time.sleep(0.02)


def sign_with_a_finger(page):
    """Draw the strokes on the signature box with touches (CDP touch input, as a finger does)."""
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    touch = page.context.new_cdp_session(page)

    def at(point):
        return {"x": box["x"] + box["width"] * point[0], "y": box["y"] + box["height"] * point[1]}

    for start, end in STROKES:
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at(start)]})
        for step in range(1, 13):
            point = tuple(a + (b - a) * step / 12 for a, b in zip(start, end, strict=True))
            touch.send(
                "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [at(point)]}
            )
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def test_the_owner_sends_the_loa_it_is_signed_on_a_phone_and_the_request_is_submitted(
    app, served, draft, owner_page, signer_phone, smtp_server, tmp_path
):
    owner, signer = owner_page, signer_phone

    # 1. The owner opens the draft and goes to its Letter of Authorization step.
    test_browser._sign_in(owner, served, OWNER_EMAIL)
    owner.get_by_role("link", name=TITLE).click()
    expect(owner.get_by_role("heading", level=1)).to_have_text(TITLE)
    steps = steps_of(owner)
    for done in ("General", "Details", "Numbers and configuration", "Agreements"):
        expect(steps.get_by_role("link", name=f"{done} (complete)")).to_be_visible()
    steps.get_by_role("link", name="Letter of Authorization (not complete yet)").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Letter of Authorization")
    expect(owner.locator("#loa-status")).to_contain_text("Not signed yet")

    # The preview: the page frames the PDF, and its download link answers the same PDF.
    frame = owner.get_by_title("The Letter of Authorization")
    expect(frame).to_be_visible()
    shown = owner.request.get(served + frame.get_attribute("src"))
    assert shown.ok and shown.headers["content-type"] == "application/pdf"
    with owner.expect_download() as download:
        owner.get_by_role("link", name="Download the LOA (PDF)").click()
    assert download.value.suggested_filename == f"loa-{draft}.pdf"
    preview = download.value.path().read_bytes()
    assert preview.startswith(b"%PDF-") and preview == shown.body()
    preview_pages = len(PdfReader(io.BytesIO(preview)).pages)
    assert SIGNER in PdfReader(io.BytesIO(preview)).pages[0].extract_text()

    # Sent to the representative the form names, as prefilled.
    send = owner.locator("form.loa-send")
    expect(send.get_by_label("Name")).to_have_value(SIGNER)
    expect(send.get_by_label("Email address")).to_have_value(SIGNER_EMAIL)
    send.get_by_label("A message for them (optional)").fill(MESSAGE)
    send.get_by_role("button", name="Send the LOA to sign").click()
    status = owner.locator("#loa-status")
    expect(
        owner.get_by_text("Sent: an email with a link to sign the LOA is on its way")
    ).to_be_visible()
    expect(status).to_contain_text(f"Sent to {SIGNER} ({SIGNER_EMAIL}) on")
    owner.evaluate("window.stayedOnThePage = true")
    with app.app_context():
        envelope = SigningEnvelope.get()
    # What the signer is sent is the very LOA the owner previewed.
    assert envelope.document_sha256 == hashlib.sha256(preview).hexdigest()

    # 2. The signing email: text and HTML both say who asks, the numbers, until when, the link.
    [request_email] = smtp_server.wait_for(1)
    assert smtp_server.envelopes[0] == ("portdesk@portdesk.test", [SIGNER_EMAIL])
    assert request_email["To"] == SIGNER_EMAIL
    assert request_email["Subject"] == "Acme Dental asks you to sign a Letter of Authorization"
    text, html_words, html = parts(request_email)
    link = LINK.search(text).group(0)
    assert link.startswith(served + "/sign/")
    assert f'href="{link}"' in html
    until = f"The link works until {moment(envelope.expires_at)}"
    for said in (text, html_words):
        assert "Ann Owner of Acme Dental asks you to sign a Letter of Authorization" in said
        assert all(number in said for number in NUMBERS)
        assert "move these phone numbers of HARBOR CLINIC, LLC from Lumen" in said
        assert until in said
        assert MESSAGE in said
        assert link in said

    # The representative opens the link on a phone: who asks, the LOA, the consent, the box.
    signer.goto(link)
    expect(signer.get_by_role("heading", level=1)).to_have_text(f"Sign: {LOA_TITLE}")
    expect(signer.locator(".signing-header__who")).to_have_text(
        "Signature requested by Acme Dental"
    )
    expect(signer.locator(".page-heading .lede")).to_contain_text(
        f"Ann Owner of Acme Dental asks you, {SIGNER}, to sign this document."
    )
    expect(signer.get_by_role("region", name="A message from Ann Owner")).to_contain_text(MESSAGE)
    document = signer.get_by_title(LOA_TITLE)
    expect(document).to_be_attached()
    loa = signer.request.get(served + document.get_attribute("src"))
    assert loa.headers["content-type"] == "application/pdf" and loa.body() == preview
    expect(signer.get_by_role("link", name="Download the document (PDF)")).to_be_visible()
    # The page said it was shown (its own POST): the owner's step, never reloaded, hears of it.
    expect(status).to_contain_text(f"{SIGNER} ({SIGNER_EMAIL}) opened the LOA on", timeout=15_000)

    signer.get_by_label("I agree to sign electronically").check()
    expect(signer.locator("canvas[data-signature-pad]")).to_be_visible()
    signer.evaluate(
        """() => {
          window.pointerTypes = [];
          document.querySelector("canvas[data-signature-pad]")
            .addEventListener("pointerdown", (e) => window.pointerTypes.push(e.pointerType));
        }"""
    )
    sign_with_a_finger(signer)
    assert signer.evaluate("window.pointerTypes") == ["touch"] * len(STROKES)
    drawn = signer.locator("input[data-signature-png]").input_value()
    assert drawn.startswith("data:image/png;base64,")
    assert signer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    signer.get_by_role("button", name="Sign the document").click()
    expect(signer.get_by_role("heading", level=1)).to_have_text(f"You signed {LOA_TITLE}")
    expect(signer.get_by_role("status")).to_contain_text(
        f"Thank you, {SIGNER}: your signature is in place."
    )

    # The owner hears of it by email.
    signed_email = smtp_server.wait_for(2)[1]
    assert signed_email["To"] == OWNER_EMAIL
    assert signed_email["Subject"] == f"{SIGNER} signed the LOA for {TITLE}"
    for said in parts(signed_email)[:2]:
        assert f'{SIGNER} signed the Letter of Authorization of "{TITLE}" on' in said
        assert f"{served}/port-requests/{draft}/loa" in said

    # 3. The owner's step turns to signed by itself, and the step list with it.
    expect(status).to_contain_text(
        f"Signed by {SIGNER} ({SIGNER_EMAIL}) from the emailed link on", timeout=15_000
    )
    expect(status.get_by_role("link", name="Download the signed LOA")).to_be_visible()
    expect(steps.get_by_role("link", name="Letter of Authorization (complete)")).to_be_visible()
    # The way on comes with it, without a reload.
    expect(owner.locator("#loa-actions")).to_contain_text(
        "The LOA is signed: this step is complete."
    )
    expect(owner.locator("#loa-actions").get_by_role("link", name="Continue")).to_be_visible()
    assert owner.evaluate("window.stayedOnThePage") is True

    # The bill, on its step: every detail entered is on it, so nothing to check.
    steps.get_by_role("link", name="Proof of ownership (not complete yet)").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Proof of ownership")
    bill = tmp_path / "harbor-bill.pdf"
    bill.write_bytes(bill_pdf())
    owner.get_by_label("The bill's file").set_input_files(str(bill))
    owner.get_by_label("Statement date").fill(today().isoformat())
    owner.get_by_role("button", name="Upload the bill").click()
    expect(
        owner.get_by_text("Stored the bill harbor-bill.pdf: the details you entered are on it.")
    ).to_be_visible()
    expect(owner.get_by_role("region", name="The bill read against the request")).to_contain_text(
        "Nothing to check"
    )
    owner.get_by_role("link", name="Continue", exact=True).click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Letter of Authorization")
    expect(owner.get_by_text("The LOA is signed: this step is complete.")).to_be_visible()
    owner.get_by_role("link", name="Continue", exact=True).click()

    # Submit: the summary, nothing to do or check, and the button.
    expect(owner.get_by_role("heading", level=1)).to_have_text("Submit")
    facts = owner.locator(".submit-facts")
    expect(facts).to_contain_text("3 numbers")
    expect(facts).to_contain_text("Lumen")
    expect(facts).to_contain_text(f"harbor-bill.pdf, statement of {today().isoformat()}")
    expect(facts).to_contain_text(f"Signed LOA.pdf, signed {today().isoformat()}")
    expect(owner.get_by_role("heading", name="To do before you submit")).to_have_count(0)
    expect(owner.get_by_role("heading", name=re.compile("^To check"))).to_have_count(0)
    expect(owner.get_by_text("Everything is in.")).to_be_visible()
    owner.get_by_role("button", name="Submit the port request").click()

    # 4. The request's page: submitted, its sentence, the timeline, the documents.
    expect(owner.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(owner.get_by_text("Submitted: Carrier Relations check the request")).to_be_visible()
    expect(owner.get_by_role("heading", name="Status: Submitted")).to_be_visible()
    expect(
        owner.get_by_text("Sent to Carrier Relations, who check it before it goes to the carrier.")
    ).to_be_visible()
    expect(owner.get_by_role("link", name="Cancel this port request")).to_be_visible()
    expect(owner.get_by_role("link", name="Delete this draft")).to_have_count(0)
    timeline = owner.locator("ol.timeline > li")
    expect(timeline).to_contain_text(
        [
            re.compile(rf"Ann Owner: Sent the LOA to {SIGNER} \({SIGNER_EMAIL}\) to sign"),
            f"{SIGNER}: Signed the LOA from the emailed link.",
            "Ann Owner: Uploaded the bill harbor-bill.pdf.",
            "Ann Owner: Submitted the request with 3 numbers to Carrier Relations",
        ]
    )
    documents = owner.get_by_role("region", name="Documents")
    expect(documents).to_contain_text("The bill: harbor-bill.pdf")
    expect(documents).to_contain_text(re.compile(r"The signed LOA:\s+Signed LOA\.pdf"))
    with owner.expect_download() as download:
        documents.get_by_role("link", name="Signed LOA.pdf").click()
    signed = download.value.path().read_bytes()

    # The signed LOA: the LOA as previewed, then the certificate of completion to its last page.
    with app.app_context():
        envelope = SigningEnvelope.get_by_id(envelope.id)
        events = list(SigningEvent.of_envelope(envelope))
        port_request = PortRequest.get_by_id(draft)
        claims = list(NumberClaim.select().where(NumberClaim.port_request == draft))
        claimed = {claim.number for claim in NumberClaim.select()}
    assert envelope.status == "signed"
    assert [event.kind for event in events] == ["sent", "opened", "consented", "signed"]
    stamped = json.loads(events[-1].detail)
    assert stamped["signature"] == "drawn"
    assert signed.startswith(b"%PDF-")
    assert hashlib.sha256(signed).hexdigest() == envelope.signed_sha256
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(signed)).pages]
    assert len(pages) > preview_pages
    assert not any("Certificate of completion" in page for page in pages[:preview_pages])
    certificate = pages[preview_pages:]
    assert certificate[0].startswith("Certificate of completion")
    assert all(f"Certificate of completion · envelope {envelope.id}" in p for p in certificate)
    assert SIGNER in certificate[0] and SIGNER_EMAIL in certificate[0]
    assert consent.CONSENT_VERSION in certificate[0]
    assert envelope.document_sha256 in certificate[0]
    assert stamped["signed_document_sha256"] in certificate[0]

    # Stored: submitted, one claim per number.
    assert port_request.status == "submitted"
    assert len(claims) == len(NUMBERS) and {claim.number for claim in claims} == CLAIMED
    assert claimed == CLAIMED

    # 5. The owner's "submitted" email: the third and last, every one sent once.
    submitted_email = smtp_server.wait_for(3)[2]
    assert submitted_email["To"] == OWNER_EMAIL
    assert submitted_email["Subject"] == f"Port request submitted: {TITLE}"
    for said in parts(submitted_email)[:2]:
        assert f"{TITLE} is submitted: 3 numbers from Lumen" in said.replace('"', "")
        assert f"{served}/port-requests/{draft}" in said
    assert [message["From"] for message in smtp_server.messages] == [MAIL_FROM] * 3
    assert sorted(settled_outbox(app)) == sorted(
        [(SIGNER_EMAIL, "sent", 0), (OWNER_EMAIL, "sent", 0), (OWNER_EMAIL, "sent", 0)]
    )
    assert owner.problems == [] and signer.problems == []


def test_the_request_page_names_the_signed_loa_with_its_capitals(app, owner, owner_client):
    request_id = make_submittable(app, owner.account_id, numbers=NUMBERS, created_by=owner)

    page = owner_client.get(f"/port-requests/{request_id}").get_data(as_text=True)

    section = re.search(
        r'<section class="card" aria-labelledby="documents-title">.*?</section>', page, re.S
    )
    said = words(section.group(0))
    assert "The signed LOA" in said and "The signed loa" not in said
