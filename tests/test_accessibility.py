"""Accessibility of the whole journey, in Debian's chromium, judged by axe-core (issue #12).

Every page an owner, a signer and staff meet is opened at desktop and phone size and checked with
axe (WCAG 2.0/2.1 A and AA): no serious or critical violation. One server and one database serve
the whole module, filled once with a request in each state the pages show. Then the keyboard: the
owner's core path and the signer's typed signature with the keyboard alone, the live regions that
announce results and status, and a visible focus ring.
"""

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal import create_app
from portal.models import Account, OutboxEmail, PortRequest, User, utcnow
from portal.staff.actions import start_review
from signing import SigningEnvelope, tokens
from tests import test_browser
from tests.a11y import assert_accessible
from tests.conftest import (
    ON_POSTGRES,
    OWNER_EMAIL,
    PASSWORD,
    STAFF_EMAIL,
    _PostgresSchema,
    make_config,
)
from tests.test_fix_loop import send_back
from tests.test_loa_step import sign_here
from tests.test_packet import download
from tests.test_submit import make_submittable

pytestmark = pytest.mark.browser

browser = test_browser.browser
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
SIGNER = {"name": "Dana Reyes", "email": "dana@harborclinic.com", "message": "Please sign."}
TITLE = "Harbor Clinic main lines"
TO_SIGN = "Sign: Letter of Authorization for HARBOR CLINIC, LLC"
RESET_LINK = re.compile(r"http://[^\s\"<>]+(/reset-password/[A-Za-z0-9_.\-]+)")


def _numbers(first):
    return [f"(614) 322-{first + n:04d}" for n in range(2)]


class Site:
    """The served portal and the ids of what it holds, filled once for the module."""

    def __init__(self, base, setup_app):
        self.base = base
        self.app = setup_app
        self.ids = {}
        # Where the numbers of the next draft made during the tests start.
        self.fresh = 2001

    def url(self, path):
        return self.base + path


def _client(app, email):
    client = app.test_client()
    answer = client.post("/login", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def _signing_link(app, request_id):
    with app.app_context():
        envelope = (
            SigningEnvelope.select()
            .where(SigningEnvelope.reference == f"port_request:{request_id}")
            .order_by(SigningEnvelope.id.desc())
            .get()
        )
        token = tokens.make_signing_link(app.config["SECRET_KEY"], envelope.id, envelope.generation)
    return f"/sign/{token}", envelope.id


def _loa_sent(app, first):
    """A new draft of the owner's whose LOA was emailed to Dana Reyes to sign: return its id, the
    signing link's path and the envelope's id."""
    with app.app_context():
        owner = User.get(User.email == OWNER_EMAIL)
    request_id = make_submittable(
        app, owner.account_id, numbers=_numbers(first), created_by=owner, bill=False, loa=False
    )
    sent = _client(app, OWNER_EMAIL).post(f"/port-requests/{request_id}/loa/send", data=SIGNER)
    assert sent.status_code in (200, 302), sent.status_code
    return request_id, *_signing_link(app, request_id)


def _fill(app, ids):
    """Store an owner, staff, and a request in every state the journey's pages show."""
    with app.app_context():
        acme = Account.create(id=4242, name="Acme Dental", fail_safe_number="+13122630000")
        for email, role, account, name in (
            (OWNER_EMAIL, "owner", acme, "Ann Owner"),
            (STAFF_EMAIL, "staff", None, "Sam Staff"),
        ):
            user = User(email=email, name=name, role=role, account=account)
            user.set_password(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
            user.save()
            ids[role] = user.id
        owner = User.get_by_id(ids["owner"])
    owner_client, staff_client = _client(app, OWNER_EMAIL), _client(app, STAFF_EMAIL)

    def draft(first, **options):
        return make_submittable(
            app, owner.account_id, numbers=_numbers(first), created_by=owner, **options
        )

    # A draft with no bill and no LOA yet: every wizard step, with work left on two of them.
    ids["draft"] = draft(1001, bill=False, loa=False)
    # A draft with everything in: its submit page says so.
    ids["ready"] = draft(1011)
    # Submitted, signed in PortDesk (so staff can download its packet).
    ids["submitted"] = draft(1021, loa=False)
    assert sign_here(owner_client, ids["submitted"]).status_code == 302
    assert owner_client.post(f"/port-requests/{ids['submitted']}/submit").status_code == 302
    # In review: staff's page offers the carrier's codes to send it back with.
    ids["in_review"] = draft(1111)
    assert owner_client.post(f"/port-requests/{ids['in_review']}/submit").status_code == 302
    with app.app_context():
        staff = User.get_by_id(ids["staff"])
        assert start_review(ids["in_review"], user=staff, shown="submitted") is not None
    # A draft with nothing in it yet: the steps' problems.
    with app.app_context():
        ids["empty"] = PortRequest.create(account=owner.account_id, created_by=owner).id
    # Sent back by Carrier Relations for the PIN: the owner's fix page.
    ids["sent_back"] = draft(1031)
    assert owner_client.post(f"/port-requests/{ids['sent_back']}/submit").status_code == 302
    send_back(app, ids["sent_back"], ["PASSCODE_PIN_INVALID"])
    # LOAs emailed to sign: one left to sign, one signed, one declined, one expired.
    emailed = (("to_sign", 1041), ("signed", 1051), ("declined", 1061), ("expired", 1071))
    for state, first in emailed:
        ids[f"request_{state}"], ids[f"sign_{state}"], envelope_id = _loa_sent(app, first)
    signer = app.test_client()
    signed = signer.post(ids["sign_signed"], data={"consent": "y", "typed_name": "Dana Reyes"})
    assert signed.status_code in (200, 302)
    declined = signer.post(ids["sign_declined"] + "/decline", data={"reason": "Wrong account."})
    assert declined.status_code in (200, 302)
    with app.app_context():
        SigningEnvelope.update(expires_at=utcnow()).where(
            SigningEnvelope.id == envelope_id
        ).execute()
    # The sealed packet of the submitted request, for the verify page's result.
    ids["packet"] = download(staff_client, ids["submitted"])
    # A password reset link, from its email.
    assert app.test_client().post("/forgot-password", data={"email": OWNER_EMAIL}).status_code
    with app.app_context():
        ids["outbox_email"] = OutboxEmail.select().order_by(OutboxEmail.id.desc()).get().id
        bodies = [row.text_body for row in OutboxEmail.select()]
    ids["reset"] = next(RESET_LINK.search(b).group(1) for b in bodies if RESET_LINK.search(b))
    with app.app_context():
        assert PortRequest.get_by_id(ids["sent_back"]).status == "action_required"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """PortDesk served on loopback (CSRF on, as deployed) over a database of the module's own."""
    folder = tmp_path_factory.mktemp("a11y")
    schema = _PostgresSchema() if ON_POSTGRES else None
    url = schema.url if schema else f"sqlite:///{folder / 'portdesk.sqlite3'}"
    served = create_app(make_config(url, folder / "instance", WTF_CSRF_ENABLED=True))
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    setup_app = create_app(make_config(url, folder / "instance"))
    filled = Site(f"http://127.0.0.1:{server.server_port}", setup_app)
    _fill(setup_app, filled.ids)
    yield filled
    server.shutdown()
    thread.join()
    if schema:
        schema.drop()


@pytest.fixture(scope="module")
def sessions(browser, site):
    """One browser context per (who, size), signed in once and reused; `anyone` has no session."""
    opened = {}

    def context(who, size):
        if (who, size) not in opened:
            made = browser.new_context(**SIZES[size])
            if who in ("owner", "staff"):
                page = made.new_page()
                _sign_in(page, site.base, OWNER_EMAIL if who == "owner" else STAFF_EMAIL)
                page.close()
            opened[(who, size)] = made
        return opened[(who, size)]

    yield context
    for made in opened.values():
        made.close()


def _page(context):
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return page


def _sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.wait_for_load_state("load")


def _go(path):
    """A page reached by its address: wait for its deferred scripts (htmx) too."""

    def visit(page, site):
        page.goto(site.url(path.format(**site.ids)))
        page.wait_for_load_state("load")

    return visit


def _check_typed(page, site):
    _go("/check/")(page, site)
    page.get_by_label("Phone numbers").press_sequentially("(212) 736-5000\n416 555 1234", delay=10)
    page.locator("#check-status").filter(has_text="2 numbers checked").wait_for()


def _check_csv(page, site):
    _go("/check/")(page, site)
    page.get_by_label("Or upload a CSV file").set_input_files(
        files=[
            {
                "name": "numbers.csv",
                "mimeType": "text/csv",
                "buffer": b"phone_number\n(212) 736-5000\n212 555 0150\n",
            }
        ]
    )
    page.get_by_role("heading", name="2 numbers checked from numbers.csv").wait_for()


def _verified(page, site):
    _go("/packets/verify")(page, site)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "packet.pdf", "mimeType": "application/pdf", "buffer": site.ids["packet"]}]
    )
    page.get_by_role("button", name="Verify", exact=True).click()
    page.locator("#verify-result").wait_for()
    page.wait_for_load_state("load")


def _reset_asked(page, site):
    _go("/forgot-password")(page, site)
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_role("button").filter(has_text=re.compile("link", re.I)).click()
    expect(page.get_by_role("status")).to_contain_text("is on its way")


def _api_key_made(page, site):
    _go("/settings/")(page, site)
    form = page.locator("form[action$='/settings/api-keys']")
    form.locator("input[type=text]").first.fill("Accessibility check")
    form.get_by_role("button").click()
    page.wait_for_load_state("load")


def _wrong_password(page, site):
    _go("/login")(page, site)
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")


def _details_saved_with_problems(page, site):
    _go("/port-requests/{empty}/details")(page, site)
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state("load")
    expect(page.locator(".step-problems")).to_contain_text("problems on this step")


def _numbers_typed(page, site):
    _go("/port-requests/{empty}/numbers")(page, site)
    page.get_by_label("Phone numbers").press_sequentially(
        "(212) 736-5000\n416 555 1234\n212 555 0150", delay=5
    )
    page.locator("#check-status").filter(has_text="3 numbers checked").wait_for()


def _signed_without_a_signature(page, site):
    """Agreed, but neither drawn nor typed: the server names what is missing."""
    _go("{sign_to_sign}")(page, site)
    page.get_by_label("I agree to sign electronically").check()
    page.get_by_role("button", name="Sign the document").click()
    expect(page.get_by_role("alert")).to_contain_text("Not signed yet")


def _declined_without_reason(page, site):
    _go("{sign_to_sign}")(page, site)
    page.get_by_text("I don't want to sign this").click()
    # Spaces pass the browser's `required`; the server finds no reason in them.
    page.get_by_label("Why do you decline?").fill("   ")
    page.get_by_role("button", name="Decline to sign").click()
    expect(page.get_by_role("alert")).to_contain_text("Not declined yet")


def _just_signed(page, site):
    """A fresh LOA signed in the page with a typed name: the page the signer lands on."""
    site.fresh += 10
    _, link, _ = _loa_sent(site.app, site.fresh)
    page.goto(site.url(link))
    page.wait_for_load_state("load")
    page.get_by_label("I agree to sign electronically").check()
    page.get_by_label("Type your name instead").check()
    page.get_by_label("Type your name to sign with it").fill("Dana Reyes")
    page.get_by_role("button", name="Sign the document").click()
    expect(page.get_by_role("status").first).to_contain_text("your signature is in place")


# (test id, who is signed in, how the page is reached, its heading, words it shows in that state)
PAGES = [
    ("sign-in", "anyone", _go("/login"), "Sign in", None),
    ("sign-in-wrong-password", "anyone", _wrong_password, "Sign in", None),
    ("home", "owner", _go("/"), "Port requests", None),
    ("check-empty", "owner", _go("/check/"), "Check portability", None),
    ("check-typed-results", "owner", _check_typed, "Check portability", None),
    ("check-csv-results", "owner", _check_csv, "Check portability", None),
    ("port-requests", "owner", _go("/port-requests/"), "Port requests", None),
    ("new-request", "owner", _go("/port-requests/new"), "Start a port request", None),
    ("step-general", "owner", _go("/port-requests/{draft}/general"), "General", None),
    ("step-details", "owner", _go("/port-requests/{draft}/details"), "Details", None),
    ("step-details-problems", "owner", _details_saved_with_problems, "Details", None),
    (
        "step-numbers-and-routing",
        "owner",
        _go("/port-requests/{draft}/numbers"),
        "Numbers and configuration",
        None,
    ),
    ("step-numbers-typed", "owner", _numbers_typed, "Numbers and configuration", None),
    ("step-agreements", "owner", _go("/port-requests/{draft}/agreements"), "Agreements", None),
    ("step-loa", "owner", _go("/port-requests/{draft}/loa"), "Letter of Authorization", None),
    (
        "step-loa-sent",
        "owner",
        _go("/port-requests/{request_to_sign}/loa"),
        "Letter of Authorization",
        "Sent to Dana Reyes",
    ),
    ("step-bill", "owner", _go("/port-requests/{draft}/bill"), "Proof of ownership", None),
    ("step-bill-uploaded", "owner", _go("/port-requests/{ready}/bill"), "Proof of ownership", None),
    (
        "step-submit-to-do",
        "owner",
        _go("/port-requests/{draft}/submit"),
        "Submit",
        "To do before you submit",
    ),
    (
        "step-submit-ready",
        "owner",
        _go("/port-requests/{ready}/submit"),
        "Submit",
        "Everything is in.",
    ),
    ("request-draft", "owner", _go("/port-requests/{draft}"), TITLE, "Status: Draft"),
    ("request-submitted", "owner", _go("/port-requests/{submitted}"), TITLE, "Status: Submitted"),
    (
        "request-action-required",
        "owner",
        _go("/port-requests/{sent_back}"),
        TITLE,
        "Status: Action required",
    ),
    ("request-fix", "owner", _go("/port-requests/{sent_back}/fix"), "Fix and resubmit", None),
    (
        "request-cancel",
        "owner",
        _go("/port-requests/{submitted}/cancel"),
        "Cancel this port request?",
        None,
    ),
    ("accounts", "owner", _go("/accounts/4242"), "Acme Dental", None),
    ("fax-port", "owner", _go("/fax-ports/new"), "Port fax numbers", None),
    ("sign", "anyone", _go("{sign_to_sign}"), TO_SIGN, None),
    ("sign-problem", "anyone", _signed_without_a_signature, TO_SIGN, None),
    ("sign-decline-problem", "anyone", _declined_without_reason, TO_SIGN, None),
    ("sign-done", "anyone", _just_signed, "You signed " + TO_SIGN[len("Sign: ") :], None),
    ("sign-signed", "anyone", _go("{sign_signed}"), "This document is already signed", None),
    ("sign-declined", "anyone", _go("{sign_declined}"), "You declined to sign this document", None),
    ("sign-expired", "anyone", _go("{sign_expired}"), "This signing link has expired", None),
    ("queue", "staff", _go("/queue/"), "Queue", None),
    ("staff-request", "staff", _go("/staff/requests/{submitted}"), TITLE, "Submitted"),
    ("staff-request-in-review", "staff", _go("/staff/requests/{in_review}"), TITLE, "In review"),
    ("staff-check", "staff", _go("/check/"), "Check portability for an account", None),
    (
        "staff-request-sent-back",
        "staff",
        _go("/staff/requests/{sent_back}"),
        TITLE,
        "Action required",
    ),
    ("outbox", "staff", _go("/outbox/"), "Outbox", None),
    (
        "outbox-email",
        "staff",
        _go("/outbox/{outbox_email}"),
        "Choose a new PortDesk password",
        None,
    ),
    ("verify-form", "anyone", _go("/packets/verify"), "Verify a packet", None),
    (
        "verify-result",
        "anyone",
        _verified,
        "Verify a packet",
        "A packet sealed by this PortDesk, unchanged since",
    ),
    ("settings-api-keys", "owner", _go("/settings/"), "Settings", None),
    ("settings-api-key-made", "owner", _api_key_made, "Settings", "Your new API key"),
    ("settings-webhooks", "owner", _go("/settings/webhooks/"), "Webhooks", None),
    ("forgot-password", "anyone", _go("/forgot-password"), "Forgot your password?", None),
    ("forgot-password-sent", "anyone", _reset_asked, "Forgot your password?", None),
    ("reset-password", "anyone", _go("{reset}"), "Choose a new password", None),
    ("not-found", "owner", _go("/port-requests/999999"), "Page not found", None),
    ("not-found-signed-out", "anyone", _go("/no-such-page"), "Page not found", None),
]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize(
    ("name", "who", "reach", "heading", "shows"), PAGES, ids=[p[0] for p in PAGES]
)
def test_the_page_has_no_serious_accessibility_violation(
    site, sessions, size, name, who, reach, heading, shows
):
    page = _page(sessions(who, size))
    try:
        reach(page, site)
        # The page meant, in the state meant: a page that lost its way would pass axe too.
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        if shows:
            expect(page.locator("main")).to_contain_text(shows)
        assert_accessible(page, f"{name} at {size} size")
    finally:
        page.close()


def test_the_axe_helper_names_what_it_finds(browser):
    """The helper fails on a page with known barriers and names the rule and the element."""
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="x.png" id="logo"><button id="empty"></button></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "a broken page")
    message = str(failure.value)
    assert "a broken page" in message
    assert "image-alt (critical)" in message and "#logo" in message
    assert "button-name (critical)" in message and "#empty" in message
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Fine</h1>'
        '<img src="x.png" alt="Logo"><button>Save</button></main></body></html>'
    )
    assert_accessible(page, "a fine page")
    page.close()


# The keyboard alone

MOST_TABS = 60


def _focused(page):
    """What has the focus: its tag, id, name attribute and accessible text, for messages."""
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return e ? `${e.tagName} #${e.id} [${e.name || ""}] ${(e.innerText || e.value
                     || e.getAttribute("aria-label") || "").trim().slice(0, 60)}` : "nothing"; }"""
    )


def _tab_to(page, selector, *, backwards=False):
    """Press Tab (or Shift+Tab) until the focused element matches `selector`, as someone without
    a mouse moves through the page; fail if it is never reached."""
    key = "Shift+Tab" if backwards else "Tab"
    passed = []
    for _ in range(MOST_TABS):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        passed.append(_focused(page))
    raise AssertionError(f"{selector} is never reached with {key}; the focus went to: {passed}")


@pytest.fixture
def desktop(browser):
    context = browser.new_context(**DESKTOP)
    page = _page(context)
    yield page
    context.close()


@pytest.fixture
def signer_phone(browser):
    context = browser.new_context(**PHONE)
    page = _page(context)
    yield page
    context.close()


def test_the_owner_checks_numbers_with_the_keyboard_alone(site, desktop):
    page = desktop
    page.goto(site.url("/login"))
    page.wait_for_load_state("load")
    _tab_to(page, "input[name=email]")
    page.keyboard.type(OWNER_EMAIL)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Port requests")
    page.wait_for_load_state("load")

    # From the top of the page: the skip link first, then the navigation to the check page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    _tab_to(page, "a[href='/check/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check portability")
    page.wait_for_load_state("load")
    _tab_to(page, "textarea[name=numbers]")
    page.keyboard.type("(212) 736-5000\n416 555 1234", delay=10)
    # Nothing pressed after typing: the results are announced by the live region.
    status = page.locator("#check-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("2 numbers checked from the numbers you typed")
    expect(page.get_by_role("table")).to_contain_text("(212) 736-5000")
    # The results are reached by Tab too: the check button and on into the results.
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("2 numbers checked")
    assert_accessible(page, "the check page after the keyboard")
    assert page.problems == []


def test_the_signer_signs_with_a_typed_name_by_keyboard_alone(site, signer_phone):
    """On the signer's phone (a touch screen with a keyboard, or a switch): agree, choose to type,
    type the name, sign, with Tab, Space, the arrow keys of a radio group and Enter."""
    _, link, _ = _loa_sent(site.app, 1081)
    page = signer_phone
    page.goto(site.url(link))
    page.wait_for_load_state("load")
    _tab_to(page, "input[name=consent]")
    page.keyboard.press("Space")
    assert page.locator("input[name=consent]").is_checked()
    # The drawing is the way offered first; the radio group turns to typing with an arrow key.
    _tab_to(page, "input[name=signature_method]")
    assert page.evaluate("document.activeElement.value") == "draw"
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Type your name instead")).to_be_checked()
    _tab_to(page, "input[name=typed_name]")
    page.keyboard.type("Dana Reyes")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign the document"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You signed Letter of Authorization for HARBOR CLINIC, LLC"
    )
    status = page.get_by_role("status").first
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("Thank you, Dana Reyes: your signature is in place.")
    assert_accessible(page, "the signed page")
    assert page.problems == []


def test_live_regions_are_polite_and_say_what_changed(site, desktop):
    page = desktop
    _sign_in(page, site.base, OWNER_EMAIL)

    # The check page's results.
    page.goto(site.url("/check/"))
    page.wait_for_load_state("load")
    status = page.locator("#check-status")
    expect(status).to_have_attribute("aria-live", "polite")
    before = status.inner_text()
    page.get_by_label("Phone numbers").press_sequentially("(212) 736-5000", delay=10)
    expect(status).to_contain_text("1 number checked from the numbers you typed")
    assert status.inner_text() != before

    # The wizard's status sentence: the General step saves as the owner types and says so.
    request_id, _, _ = _loa_sent(site.app, 1091)
    page.goto(site.url(f"/port-requests/{request_id}/general"))
    page.wait_for_load_state("load")
    sentence = page.locator("#step-status")
    expect(sentence).to_have_attribute("aria-live", "polite")
    expect(sentence).to_have_text("")
    name = page.get_by_label("A name for this request")
    name.press("End")
    name.press_sequentially(" (main)", delay=10)
    expect(sentence).to_have_text("Saved. This step is complete.")

    # The signer's pad: Clear is announced.
    _, link, _ = _loa_sent(site.app, 1101)
    signer = _page(page.context.browser.new_context(**PHONE))
    signer.goto(site.url(link))
    signer.wait_for_load_state("load")
    pad_status = signer.locator("[data-signature-status]")
    expect(pad_status).to_have_attribute("aria-live", "polite")
    expect(pad_status).to_have_text("")
    signer.get_by_role("button", name="Clear").press("Enter")
    expect(pad_status).to_have_text("Cleared: draw your signature again.")
    signer.context.close()
    assert page.problems == []


def test_the_focus_is_visible_on_a_button_reached_by_the_keyboard(site, desktop):
    page = desktop
    page.goto(site.url("/login"))
    page.wait_for_load_state("load")
    _tab_to(page, "button[type=submit]")
    ring = page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
                   return {visible: e.matches(":focus-visible"), style: s.outlineStyle,
                           width: s.outlineWidth, color: s.outlineColor}; }"""
    )
    assert ring["visible"] is True
    assert ring["style"] != "none" and ring["width"] == "3px", ring
    # The ring is the focus colour (#f4b400), not the button's own border.
    assert ring["color"] == "rgb(244, 180, 0)", ring
