"""The whole journey of a port request, every step in Debian's chromium against gunicorn.

Issue #12: from an account with nothing but its inventory (imported with the CLI), the owner
signs in on a desktop, starts a request, fills the details, types numbers and uploads the bulk
template (the live check shows each number's result), configures the routing, accepts the
agreements, uploads the bill and sends the LOA to the representative. The email arrives at a
loopback SMTP server; the representative opens its link on a phone (touch), draws a signature and
signs. The owner submits; staff (another browser) start the review and send the request back with
the carrier's PASSCODE_PIN_INVALID; the owner corrects the PIN on the fix page, signs the LOA again
(it prints the PIN) and resubmits; staff set the FOC date and complete the port. The packet
downloads with its parts and bookmarks, and the verify page accepts it.

Each key screen is photographed at a desktop and a phone size (the viewport only, as a PNG):
into the test's own folder, or into docs/screenshots/ (the README's pictures) when the run is
`SAVE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_browser_whole_journey.py`.
"""

import io
import json
import os
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from portal import ROOT
from portal.db import db
from portal.models import PortRequest, TrackingNumber, utcnow
from portal.port_requests.dates import earliest_date
from tests import test_browser, test_browser_submit_journey
from tests.a11y import assert_accessible
from tests.conftest import OWNER_EMAIL, STAFF_EMAIL
from tests.test_browser_staff_journey import move
from tests.test_browser_submit_journey import (
    DESKTOP,
    LINK,
    PHONE,
    SIGNER,
    SIGNER_EMAIL,
    _page,
    parts,
    sign_with_a_finger,
)
from tests.test_browser_wizard import (
    CONFIGURED,
    RECEIVING,
    RINGING,
    TYPED,
    accept_the_agreements,
    add_and_configure_numbers,
    arrive_at_the_loa_step,
    fill_the_details,
    start_a_request,
    steps_of,
    upload_the_bill,
)

pytestmark = pytest.mark.browser

# The browser tests' fixtures: Debian's chromium; gunicorn mailing a loopback SMTP server; the
# owner's desktop and the signer's touch phone.
browser = test_browser.browser
served = test_browser_submit_journey.served
owner_page = test_browser_submit_journey.owner_page
signer_phone = test_browser_submit_journey.signer_phone
TITLE = "Harbor Clinic main lines"
LOA_TITLE = "Letter of Authorization for HARBOR CLINIC, LLC"
FIRST_PIN, NEW_PIN = "1234", "4417"
NOTE = "Lumen says the PIN is wrong: they want the 4-digit account PIN."
SCREENSHOTS = ROOT / "docs" / "screenshots"
# The platform's objects for Acme (as the wizard's tests know them) and Globex's own, which Acme's
# pages must never offer: the file an operator imports before the owner's first port.
INVENTORY = {
    "accounts": [
        {
            "id": 4242,
            "name": "Acme Dental",
            "fail_safe_number": "+1 312 263 0000",
            "tracking_sources": [
                {"id": 31, "name": "Google Ads"},
                {"id": 32, "name": "Yelp"},
                {"id": 33, "name": "Direct mail"},
            ],
            "routing_targets": [
                {"id": 901, "name": "Front desk", "kind": "receiving_number", "number": RECEIVING},
                {"id": 902, "name": "Sales queue", "kind": "call_queue"},
                {"id": 903, "name": "Voice menu", "kind": "voice_menu"},
                {"id": 904, "name": "After hours", "kind": "call_queue"},
            ],
            "receiving_numbers": [{"number": RECEIVING, "name": "Front desk"}],
            "tracking_numbers": [
                {"number": number, "tracking_source_id": 31, "routing_id": 901}
                for number in RINGING
            ],
        },
        {
            "id": 5151,
            "name": "Globex Plumbing",
            "tracking_sources": [{"id": 61, "name": "Globex ads"}],
            "routing_targets": [{"id": 951, "name": "Globex desk", "kind": "call_queue"}],
        },
    ]
}


@pytest.fixture
def inventory(app, runner, owner, tmp_path):
    """Acme's inventory, imported as an operator does: `flask inventory import FILE.json`."""
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(INVENTORY))
    with app.app_context():
        imported = runner.invoke(args=["inventory", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    return path


@pytest.fixture
def shots(tmp_path):
    """Where the screenshots go: docs/screenshots/ when SAVE_SCREENSHOTS=1, else the test's own
    folder (a plain test run leaves the work tree as it was)."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path / "screenshots"


def shoot(page, folder, name, at=None, sizes=("desktop", "phone")):
    """Save the viewport at the desktop and the phone size as `<name>-desktop.png` and
    `<name>-phone.png`, scrolled to `at` (a locator) when given, then give the page back its own
    size. axe judges the page at each size (a layout of its own may hide or show things). A
    256-colour palette keeps each PNG small; the pictures are of text and flat colours."""
    folder.mkdir(parents=True, exist_ok=True)
    own = page.viewport_size
    for size in sizes:
        viewport = {"desktop": DESKTOP, "phone": PHONE}[size]
        page.set_viewport_size(viewport)
        assert_accessible(page, f"{name} at {size} size")
        # Nothing wider than the viewport: the page never scrolls sideways (a table scrolls in
        # its own box).
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        if at is not None:
            at.evaluate("element => element.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        image = Image.open(io.BytesIO(page.screenshot(animations="disabled", caret="initial")))
        assert image.size == (viewport["width"], viewport["height"])
        path = folder / f"{name}-{size}.png"
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)
    page.set_viewport_size(own)


def heading(page):
    return page.get_by_role("heading", level=1)


def test_an_owner_ports_numbers_from_an_empty_account_to_a_verified_packet(
    app, served, inventory, staff, owner_page, signer_phone, browser, smtp_server, shots, tmp_path
):
    owner, signer = owner_page, signer_phone

    # 1. The owner signs in on a desktop: no port request yet.
    test_browser._sign_in(owner, served, OWNER_EMAIL)
    expect(heading(owner)).to_have_text("Port requests")
    assert_accessible(owner, "the owner's port requests, none yet")
    request_id = start_a_request(owner)
    assert_accessible(owner, "the Details step")
    # The PIN the carrier will refuse, then every other detail as the wizard's test fills them.
    owner.get_by_label("Account PIN or passcode").fill(FIRST_PIN)
    fill_the_details(owner)
    assert_accessible(owner, "the Numbers step, empty")

    # 2. Numbers: the typed ones are checked while typing, each with its result.
    owner.get_by_label("Phone numbers").fill(TYPED)
    expect(owner.locator("#check-status")).to_have_text(
        "7 numbers checked from the numbers you typed: 3 portable, 4 refused."
    )
    rows = owner.locator("#check-results tbody tr")
    expect(rows).to_have_count(7)
    for entered, result in (
        ("(614) 322-1001", "Portable"),
        ("212 555 0150", "reserved for fiction"),
        ("416 555 1234", "Canadian"),
        ("614-322-1001", "Repeated in this list"),
    ):
        expect(rows.filter(has_text=entered).first).to_contain_text(result)
    shoot(owner, shots, "01-check", at=owner.locator("#check-results"))
    # Then typed again, added, the bulk template uploaded, re-routed, configured and saved.
    add_and_configure_numbers(owner, tmp_path)
    steps_of(owner).get_by_role("link", name="Numbers and configuration (complete)").click()
    expect(heading(owner)).to_have_text("Numbers and configuration")
    expect(owner.locator(".numbers-summary")).to_have_text(re.compile(r"12 numbers\s+12 portable"))
    expect(owner.get_by_label("Routing target for (614) 322-1001")).to_have_value("902")
    expect(owner.get_by_label("Tracking source for (614) 322-1015")).to_have_value("33")
    expect(owner.get_by_label("Friendly name for (614) 322-1001")).to_have_value("Main line")
    configured = owner.locator("table", has=owner.get_by_label("Select (614) 322-1001"))
    shoot(owner, shots, "02-numbers", at=configured)
    owner.get_by_role("link", name="Next: Agreements").click()
    expect(heading(owner)).to_have_text("Agreements")
    assert_accessible(owner, "the Agreements step")
    accept_the_agreements(owner)
    expect(heading(owner)).to_have_text("Proof of ownership")
    assert_accessible(owner, "the Proof of ownership step")
    upload_the_bill(owner, tmp_path)
    arrive_at_the_loa_step(owner)
    assert_accessible(owner, "the draft's page")

    # 3. The LOA goes to the representative the details name.
    owner.get_by_role("link", name="Continue: Letter of Authorization").click()
    expect(heading(owner)).to_have_text("Letter of Authorization")
    assert_accessible(owner, "the LOA step, not sent yet")
    send = owner.locator("form.loa-send")
    expect(send.get_by_label("Name")).to_have_value(SIGNER)
    expect(send.get_by_label("Email address")).to_have_value(SIGNER_EMAIL)
    send.get_by_role("button", name="Send the LOA to sign").click()
    status = owner.locator("#loa-status")
    expect(status).to_contain_text(f"Sent to {SIGNER} ({SIGNER_EMAIL}) on")

    [request_email] = smtp_server.wait_for(1)
    assert request_email["To"] == SIGNER_EMAIL
    assert request_email["Subject"] == "Acme Dental asks you to sign a Letter of Authorization"
    text, _, _ = parts(request_email)
    assert "move these phone numbers of HARBOR CLINIC, LLC from Lumen" in text
    link = LINK.search(text).group(0)
    assert link.startswith(served + "/sign/")

    # 4. The representative, on a phone, opens the link, draws a signature and signs.
    signer.goto(link)
    expect(heading(signer)).to_have_text(f"Sign: {LOA_TITLE}")
    expect(signer.locator(".page-heading .lede")).to_contain_text(
        f"Ann Owner of Acme Dental asks you, {SIGNER}, to sign this document."
    )
    sign_here = signer.locator("#sign-title")
    # The desktop picture now: the signature box is drawn for the phone's size.
    shoot(signer, shots, "04-signer", at=sign_here, sizes=("desktop",))
    signer.get_by_label("I agree to sign electronically").check()
    expect(signer.locator("canvas[data-signature-pad]")).to_be_visible()
    sign_with_a_finger(signer)
    expect(signer.locator("input[data-signature-png]")).to_have_value(
        re.compile("^data:image/png;base64,")
    )
    shoot(signer, shots, "04-signer", at=sign_here, sizes=("phone",))
    signer.get_by_role("button", name="Sign the document").click()
    expect(heading(signer)).to_have_text(f"You signed {LOA_TITLE}")
    expect(signer.get_by_role("status")).to_contain_text(
        f"Thank you, {SIGNER}: your signature is in place."
    )
    assert_accessible(signer, "the signer's thank-you page")

    # The owner's step turns to signed by itself.
    expect(status).to_contain_text(
        f"Signed by {SIGNER} ({SIGNER_EMAIL}) from the emailed link on", timeout=15_000
    )
    expect(
        steps_of(owner).get_by_role("link", name="Letter of Authorization (complete)")
    ).to_be_visible()
    shoot(owner, shots, "03-loa", at=owner.locator("#loa-status-title"))

    # 5. The owner submits: the request's page says what happens next.
    owner.locator("#loa-actions").get_by_role("link", name="Continue").click()
    expect(heading(owner)).to_have_text("Submit")
    expect(owner.locator(".submit-facts")).to_contain_text("12 numbers")
    expect(owner.get_by_text("Everything is in.")).to_be_visible()
    assert_accessible(owner, "the Submit step")
    owner.get_by_role("button", name="Submit the port request").click()
    expect(heading(owner)).to_have_text(TITLE)
    expect(owner.get_by_role("heading", name="Status: Submitted")).to_be_visible()
    expect(
        owner.get_by_text("Sent to Carrier Relations, who check it before it goes to the carrier.")
    ).to_be_visible()
    shoot(owner, shots, "05-status")

    # 6. Staff, in another browser, find it in the queue and send it back for the PIN.
    staff_page = _page(browser.new_context(viewport=DESKTOP))
    test_browser._sign_in(staff_page, served, STAFF_EMAIL)
    expect(heading(staff_page)).to_have_text("Queue")
    row = staff_page.locator("tbody tr", has_text=TITLE)
    expect(row).to_contain_text("Acme Dental")
    expect(row).to_contain_text("Submitted")
    shoot(staff_page, shots, "06-queue", at=staff_page.locator("#queue-results-title"))
    row.get_by_role("link", name=TITLE).click()
    expect(heading(staff_page)).to_contain_text(TITLE)
    assert_accessible(staff_page, "the staff's page of a submitted request")
    move(staff_page, "start_review")
    expect(staff_page.locator("#status-title")).to_have_text("Status: In review")
    corrections = staff_page.locator("#move-require_action")
    corrections.locator("input[value=PASSCODE_PIN_INVALID]").check()
    corrections.get_by_label("Note for the owner").fill(NOTE)
    move(staff_page, "require_action")
    expect(staff_page.locator("#status-title")).to_have_text("Status: Action required")
    shoot(staff_page, shots, "07-staff-request")

    # 7. The owner reads what the carrier needs and corrects only the PIN.
    owner.reload()
    expect(owner.get_by_role("heading", name="Status: Action required")).to_be_visible()
    expect(owner.locator("main")).to_contain_text(NOTE)
    assert_accessible(owner, "the owner's page of a request sent back")
    owner.get_by_role("link", name="Fix and resubmit").first.click()
    expect(heading(owner)).to_have_text("Fix and resubmit")
    fields = owner.locator("#fix-fields")
    pin = fields.get_by_label("Account PIN or passcode")
    expect(pin).to_have_value(FIRST_PIN)
    expect(fields.get_by_label("Street")).to_have_count(0)  # only what the code opens
    shoot(owner, shots, "08-fix")
    pin.fill(NEW_PIN)
    fields.get_by_role("button", name=re.compile("Save the correction")).click()
    # The PIN is printed on the LOA: it is signed again, here by the representative's owner.
    owner.get_by_role("link", name="Get the new LOA signed").click()
    expect(heading(owner)).to_have_text("Letter of Authorization")
    assert_accessible(owner, "the LOA step of a request sent back")
    signing = owner.locator("form.loa-sign")
    signing.get_by_label(f"I am {SIGNER}, the authorized representative").check()
    signing.get_by_label("I agree to sign electronically").check()
    signing.get_by_label("Type your name instead").check()
    signing.get_by_label("Type your name to sign with it").fill(SIGNER)
    signing.get_by_role("button", name="Sign the LOA").click()
    expect(status).to_contain_text(
        f"Signed here by Ann Owner as {SIGNER}, the authorized representative, on"
    )
    owner.goto(f"{served}/port-requests/{request_id}/fix")
    owner.get_by_role("button", name="Resubmit the request").click()
    expect(owner.locator("#status-title")).to_have_text("Status: In review")
    assert_accessible(owner, "the owner's page of a request resubmitted")

    # 8. Staff set the FOC date and complete the port.
    staff_page.reload()
    expect(staff_page.locator("#status-title")).to_have_text("Status: In review")
    foc = earliest_date(utcnow().date(), 1)
    scheduling = staff_page.locator("#move-schedule_foc")
    scheduling.get_by_label("FOC date").fill(foc.isoformat())
    scheduling.get_by_label("Time window (optional)").fill("9:00-12:00 ET")
    move(staff_page, "schedule_foc")
    expect(staff_page.locator("#status-title")).to_have_text("Status: Date confirmed")
    move(staff_page, "complete")
    expect(staff_page.locator("#status-title")).to_have_text("Status: Completed")
    assert_accessible(staff_page, "the staff's page of a completed request")
    with app.app_context():
        db.connect(reuse_if_open=True)
        ported = {
            row.number: (row.routing_target_id, row.tracking_source_id)
            for row in TrackingNumber.select().where(TrackingNumber.number.in_(list(CONFIGURED)))
        }
        stored = PortRequest.get_by_id(request_id)
    assert stored.status == "completed"
    assert stored.fields["billing"]["pin"] == NEW_PIN
    assert ported == CONFIGURED

    # 9. The packet: its parts, a bookmark each; the verify page accepts it.
    with staff_page.expect_download() as downloaded:
        staff_page.get_by_role("link", name="Download packet").click()
    packet = downloaded.value.path().read_bytes()
    reader = PdfReader(io.BytesIO(packet))
    bookmarks = {
        item.title: reader.get_destination_page_number(item)
        for item in reader.outline
        if not isinstance(item, list)
    }
    assert list(bookmarks) == ["Cover summary", "Signed LOA", "Bill (proof of ownership)"]
    pages = [page.extract_text() for page in reader.pages]
    cover, loa, bill = (pages[number] for number in bookmarks.values())
    assert " ".join(cover.split()).startswith(f"Port request packet {TITLE}")
    # The LOA signed again after the correction, with its certificate, then the bill.
    assert loa.startswith("Letter of Authorization")
    assert f"PIN or passcode {NEW_PIN}" in loa
    assert pages[bookmarks["Signed LOA"] + 1].startswith("Certificate of completion")
    assert "HARBOR CLINIC, LLC" in bill and bookmarks["Bill (proof of ownership)"] == len(pages) - 1
    evidence = json.loads(reader.attachments["evidence.json"][0])
    assert evidence["port_request"]["id"] == request_id
    assert evidence["port_request"]["carrier_codes"] == ["PASSCODE_PIN_INVALID"]
    assert {
        row["e164"]: (row["routing_id"], row["tracking_source_id"])
        for row in evidence["port_request"]["numbers"]
    } == CONFIGURED
    assert evidence["signing"]["signer_name"] == SIGNER
    saved = tmp_path / "packet.pdf"
    saved.write_bytes(packet)
    owner.goto(f"{served}/packets/verify")
    expect(heading(owner)).to_have_text("Verify a packet")
    owner.get_by_label(re.compile("PDF|packet", re.I)).first.set_input_files(str(saved))
    owner.get_by_role("button", name="Verify", exact=True).click()
    result = owner.locator("#verify-result")
    expect(result).to_contain_text("Verified A packet sealed by this PortDesk, unchanged since")
    expect(result).to_contain_text(f"Port request {request_id} of Acme Dental")
    expect(result).to_contain_text(f"The LOA was signed by {SIGNER}")
    shoot(owner, shots, "09-verify", at=result)

    assert owner.problems == [] and signer.problems == [] and staff_page.problems == []
    staff_page.context.close()
