"""Signing in Debian's chromium: the owner sends the LOA from its step, the representative opens
the emailed link on a phone, draws a signature with the mouse and signs, and the owner's step,
left open, turns to signed by itself."""

import json
import re

import pytest
from playwright.sync_api import expect

from portal.models import OutboxEmail
from signing import SigningEnvelope, SigningEvent
from tests import test_browser
from tests.conftest import OWNER_EMAIL
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import make_draft

pytestmark = pytest.mark.browser

browser, live_server = test_browser.browser, test_browser.live_server
SIGNER_SCREEN = {"width": 390, "height": 844}
LINK = re.compile(r"https?://[^\s\"<>]+/sign/[A-Za-z0-9_.\-]+")


@pytest.fixture
def draft(app, accounts):
    add_inventory(app, accounts)
    return make_draft(app, accounts[0], numbers=3)


def _page(context):
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return page


@pytest.fixture
def owner_page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    yield _page(context)
    context.close()


@pytest.fixture
def signer_phone(browser):
    context = browser.new_context(viewport=SIGNER_SCREEN, has_touch=True, is_mobile=True)
    yield _page(context)
    context.close()


def draw_a_signature(page):
    """Draw three strokes across the signature box with the mouse."""
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    for start, end in (
        ((0.1, 0.7), (0.4, 0.3)),
        ((0.4, 0.3), (0.6, 0.8)),
        ((0.6, 0.8), (0.9, 0.4)),
    ):
        page.mouse.move(left + width * start[0], top + height * start[1])
        page.mouse.down()
        page.mouse.move(left + width * end[0], top + height * end[1], steps=12)
        page.mouse.up()


def test_the_signer_draws_on_a_phone_and_the_owners_step_turns_to_signed_by_itself(
    app, live_server, draft, owner_page, signer_phone
):
    # The owner sends the LOA from its step.
    test_browser._sign_in(owner_page, live_server, OWNER_EMAIL)
    owner_page.goto(f"{live_server}/port-requests/{draft}/loa")
    expect(owner_page.get_by_title("The Letter of Authorization")).to_be_visible()
    send = owner_page.locator("form.loa-send")
    expect(send.get_by_label("Name")).to_have_value("Dana Reyes")
    send.get_by_label("Email address").fill("dana@harborclinic.com")
    send.get_by_label("A message for them (optional)").fill("Please sign today.")
    send.get_by_role("button", name="Send the LOA to sign").click()
    status = owner_page.locator("#loa-status")
    expect(status).to_contain_text("Sent to Dana Reyes (dana@harborclinic.com) on")
    owner_page.evaluate("window.stayedOnThePage = true")
    # A new link, in place: the one emailed first stops working.
    status.get_by_role("button", name="Send a new link").click()
    expect(status).to_contain_text("Sent: an email with a link to sign the LOA is on its way")

    # The representative follows the newest emailed link on a phone.
    with app.app_context():
        first, email = OutboxEmail.select().order_by(OutboxEmail.id)
    link = LINK.search(email.text_body).group(0)
    assert link != LINK.search(first.text_body).group(0)
    signer_phone.goto(link)
    expect(signer_phone.get_by_role("heading", level=1)).to_contain_text("Sign:")
    expect(status).to_contain_text("opened the LOA on", timeout=15_000)
    signer_phone.get_by_label("I agree to sign electronically").check()
    expect(signer_phone.locator("canvas[data-signature-pad]")).to_be_visible()
    draw_a_signature(signer_phone)
    assert (
        signer_phone.locator("input[data-signature-png]")
        .input_value()
        .startswith("data:image/png;base64,")
    )
    assert signer_phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    signer_phone.get_by_role("button", name="Sign the document").click()
    expect(signer_phone.get_by_role("heading", level=1)).to_have_text(
        "You signed Letter of Authorization for HARBOR CLINIC, LLC"
    )

    # The owner's step, never reloaded, says so by itself.
    expect(status).to_contain_text("Signed by Dana Reyes (dana@harborclinic.com)", timeout=15_000)
    expect(status.get_by_role("link", name="Download the signed LOA")).to_be_visible()
    steps = owner_page.get_by_role("navigation", name="Steps of this port request")
    expect(steps.get_by_role("link", name=re.compile("^Letter of Authorization"))).to_contain_text(
        "(complete)"
    )
    assert owner_page.evaluate("window.stayedOnThePage") is True
    with app.app_context():
        envelope = SigningEnvelope.get()
        signed = SigningEvent.get(
            (SigningEvent.envelope == envelope) & (SigningEvent.kind == "signed")
        )
    assert envelope.status == "signed"
    assert json.loads(signed.detail)["signature"] == "drawn"
    assert owner_page.problems == [] and signer_phone.problems == []
