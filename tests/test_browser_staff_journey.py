"""The staff console issue's "Done when", in Debian's chromium against gunicorn.

Staff take the demo's submitted request through review and send it back with the carrier's
PASSCODE_PIN_INVALID; the owner (another browser) sees what the carrier needs, corrects the PIN
on the fix page, signs the LOA again (the PIN is printed on it) and resubmits; staff set the FOC
date and complete the port, whose numbers become tracking numbers with the wizard's routing. The
packet downloads with all its parts and bookmarks, and the verify page accepts it and refuses a
copy with one byte changed.
"""

import io
import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from bench.serving import gunicorn
from portal import ROOT, create_app
from portal.db import db
from portal.demo import DEMO_OWNER_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL
from portal.demo_request import NAME, NUMBERS
from portal.models import PortRequest, TrackingNumber, utcnow
from portal.numbers import classify
from portal.port_requests.dates import earliest_date
from tests import test_browser
from tests.conftest import make_config

pytestmark = pytest.mark.browser

browser = test_browser.browser
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NEW_PIN = "4417"


@pytest.fixture
def demo(database_url, tmp_path):
    """The demo seeded by the README's `seed-demo` (with its submitted request) into the database
    gunicorn serves, in the instance folder gunicorn uses (one seal for the LOA and the packet);
    yield an app on that database to read it."""
    instance = tmp_path / "gunicorn"
    environment = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)}
    seeded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert seeded.returncode == 0, seeded.stderr
    yield create_app(make_config(database_url, tmp_path / "reader"))


@pytest.fixture
def served(demo, database_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, tmp_path / "gunicorn", log) as (host, port):
        yield f"http://{host}:{port}"
    print(log.read_text(errors="replace"))


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page


def sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.wait_for_load_state("load")


def move(page, name):
    """Press the move's button in its own form on the staff page."""
    form = page.locator(f"#move-{name}")
    form.get_by_role("button").click()
    page.wait_for_load_state("load")


def test_staff_take_the_demo_request_to_completed_through_a_correction(
    demo, served, browser, tmp_path
):
    staff, owner = _page(browser, DESKTOP), _page(browser, PHONE)
    with demo.app_context():
        request_id = PortRequest.get().id

    # Staff find the demo request in the queue and start the review.
    sign_in(staff, served, DEMO_STAFF_EMAIL)
    staff.goto(f"{served}/queue/")
    staff.get_by_role("link", name=NAME).first.click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(NAME)
    move(staff, "start_review")
    expect(staff.locator("#status-title")).to_contain_text("In review")

    # The carrier refuses the PIN: staff send the request back with the code and a note.
    corrections = staff.locator("#move-require_action")
    corrections.locator("input[value=PASSCODE_PIN_INVALID]").check()
    corrections.get_by_label("Note for the owner").fill("Lumen wants the 4-digit account PIN.")
    move(staff, "require_action")
    expect(staff.locator("#status-title")).to_contain_text("Action required")

    # The owner, on a phone, sees what the carrier needs and corrects only the PIN.
    sign_in(owner, served, DEMO_OWNER_EMAIL)
    owner.goto(f"{served}/port-requests/{request_id}")
    expect(owner.locator("body")).to_contain_text("Lumen wants the 4-digit account PIN.")
    owner.get_by_role("link", name=re.compile("Fix and resubmit")).first.click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Fix and resubmit")
    fields = owner.locator("#fix-fields")
    expect(fields.get_by_label("Account PIN or passcode")).to_be_visible()
    expect(fields.get_by_label("Street")).to_have_count(0)  # only what the code opens
    fields.get_by_label("Account PIN or passcode").fill(NEW_PIN)
    fields.get_by_role("button", name=re.compile("Save the correction")).click()
    owner.wait_for_load_state("load")

    # The PIN is printed on the LOA: it is signed again before the request can go back.
    owner.get_by_role("link", name="Get the new LOA signed").click()
    owner.wait_for_load_state("load")
    more = owner.locator("summary", has_text="Sign it yourself")
    if more.count():
        more.click()
    signing = owner.locator("form.loa-sign")
    signing.get_by_label(re.compile("I am Dana Whitfield")).check()
    signing.get_by_label("I agree to sign electronically").check()
    typed = signing.get_by_label("Type your name instead")
    if typed.is_visible():
        typed.check()
    signing.get_by_label("Type your name to sign with it").fill("Dana Whitfield")
    signing.get_by_role("button", name="Sign the LOA").click()
    owner.wait_for_load_state("load")
    owner.goto(f"{served}/port-requests/{request_id}/fix")
    owner.get_by_role("button", name="Resubmit the request").click()
    owner.wait_for_load_state("load")
    expect(owner.locator("#status-title")).to_contain_text("In review")

    # Staff set the FOC date and complete the port.
    staff.reload()
    foc = earliest_date(utcnow().date(), 1)
    scheduling = staff.locator("#move-schedule_foc")
    scheduling.get_by_label("FOC date").fill(foc.isoformat())
    scheduling.get_by_label("Time window (optional)").fill("9:00-12:00 CT")
    move(staff, "schedule_foc")
    expect(staff.locator("#status-title")).to_contain_text("Date confirmed")
    move(staff, "complete")
    expect(staff.locator("#status-title")).to_contain_text("Completed")
    with demo.app_context():
        db.connect(reuse_if_open=True)
        ported = {
            row.number: (row.routing_target_id, row.tracking_source_id)
            for row in TrackingNumber.select().where(TrackingNumber.account == 4242)
        }
        pin = PortRequest.get_by_id(request_id).fields["billing"]["pin"]
    assert pin == NEW_PIN
    for number, routing, source, _ in NUMBERS:
        assert ported[classify(number).e164] == (routing, source)

    # The packet: every part, a bookmark each, the evidence attached.
    with staff.expect_download() as downloaded:
        staff.get_by_role("link", name="Download packet").click()
    packet = downloaded.value.path().read_bytes()
    reader = PdfReader(io.BytesIO(packet))
    bookmarks = [item.title for item in reader.outline if not isinstance(item, list)]
    assert len(bookmarks) >= 3, bookmarks
    assert any("LOA" in title or "Letter" in title for title in bookmarks)
    assert any("ill" in title for title in bookmarks)  # the bill
    assert reader.attachments, "the evidence JSON is attached"

    # The verify page accepts the packet and refuses a copy with one byte changed.
    good, bad = tmp_path / "packet.pdf", tmp_path / "changed.pdf"
    good.write_bytes(packet)
    changed = bytearray(packet)
    middle = len(changed) // 2
    changed[middle] = (changed[middle] + 1) % 256
    bad.write_bytes(bytes(changed))
    for path, verdict in ((good, "Verified"), (bad, "Not verified")):
        staff.goto(f"{served}/packets/verify")
        staff.get_by_label(re.compile("PDF|packet", re.I)).first.set_input_files(str(path))
        staff.get_by_role("button", name="Verify", exact=True).click()
        staff.wait_for_load_state("load")
        expect(staff.locator("#verify-result")).to_contain_text(verdict)
    assert staff.problems == [] and owner.problems == []
