"""In Debian's chromium: the real pages, with CSRF on, under the real Content-Security-Policy."""

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal import create_app
from portal.models import NumberUpload, TrackingNumber
from tests.conftest import OWNER_EMAIL, PASSWORD, STAFF_EMAIL, make_config

CHROMIUM = "/usr/bin/chromium"
# Headless as root on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(database_url, tmp_path, owner, staff):
    app = create_app(make_config(database_url, tmp_path / "live", WTF_CSRF_ENABLED=True))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def _sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The click does not wait for the next page: under load the sign-in page would still be read.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # Its text shows before its deferred scripts (htmx) have run: wait for those too.
    page.wait_for_load_state("load")


def _open_the_check_page(page, base):
    _sign_in(page, base, OWNER_EMAIL)
    page.goto(f"{base}/check/")


def _choose_numbers_csv(page, folder):
    """Choose a two-number numbers.csv in the file box and wait for its results."""
    upload = folder / "numbers.csv"
    upload.write_text("phone_number\n(212) 736-5000\n212 555 0150\n")
    page.get_by_label("Or upload a CSV file").set_input_files(str(upload))
    page.get_by_role("heading", name="2 numbers checked from numbers.csv").wait_for()


def test_owner_signs_in_on_a_phone(live_server, phone):
    _sign_in(phone, live_server, OWNER_EMAIL)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Port requests")
    assert phone.get_by_role("status").inner_text() == "Signed in as Ann Owner."
    assert phone.evaluate("htmx.version") == "2.0.11"
    # Nothing wider than the phone: tables scroll inside their own box.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.problems == []


def test_staff_signs_in_and_out(live_server, phone):
    _sign_in(phone, live_server, STAFF_EMAIL)
    assert phone.get_by_role("heading", level=1).inner_text() == "Queue"
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(phone.get_by_role("status")).to_have_text("You are signed out.")
    assert phone.problems == []


def test_next_page_of_tracking_numbers_swaps_in_place(live_server, phone, accounts):
    TrackingNumber.insert_many(
        [{"number": f"+1312263{n:04d}", "account": accounts[0]} for n in range(2000, 2150)]
    ).execute()
    _sign_in(phone, live_server, OWNER_EMAIL)
    phone.goto(f"{live_server}/accounts/4242")
    phone.evaluate("window.stayedOnThePage = true")
    phone.get_by_role("navigation", name="Tracking number pages").get_by_text("Next").click()
    phone.get_by_text("Page 2 of 2").wait_for()
    assert phone.get_by_text("(312) 263-2100").is_visible()
    assert phone.url.endswith("/accounts/4242?page=2")
    # htmx swapped the section; a full navigation would have dropped this variable.
    assert phone.evaluate("window.stayedOnThePage") is True
    assert phone.problems == []


def test_wrong_password_is_said_in_the_page(live_server, phone):
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Email").fill(OWNER_EMAIL)
    phone.get_by_label("Password").fill("not it")
    phone.get_by_role("button", name="Sign in").click()
    assert "do not match" in phone.get_by_role("alert").inner_text()
    assert phone.problems == []


def test_results_appear_while_the_owner_types(live_server, phone, accounts):
    TrackingNumber.create(number="+13122630111", account=accounts[1])
    _sign_in(phone, live_server, OWNER_EMAIL)
    phone.get_by_role("link", name="Check portability").click()
    phone.evaluate("window.stayedOnThePage = true")
    box = phone.get_by_label("Phone numbers")
    box.press_sequentially("(212) 736-5000\n312-263-0111", delay=20)
    status = phone.locator("#check-status")
    # No click: the debounced input sent the text, and the live region says what came back.
    status.filter(has_text="2 numbers checked from the numbers you typed: 1 portable").wait_for()
    table = phone.get_by_role("table")
    assert "Already a tracking number on the platform." in table.inner_text()
    box.press_sequentially(", 416 555 1234", delay=20)
    status.filter(has_text="3 numbers checked from the numbers you typed: 1 portable").wait_for()
    phone.get_by_role("button", name="Canadian").click()
    # The unfiltered table has the Canadian row too: wait for the swap itself.
    expect(phone.get_by_role("button", name="Canadian")).to_have_attribute("aria-pressed", "true")
    expect(phone.locator("tbody tr")).to_have_count(1)
    assert "416" in phone.locator("tbody").inner_text()
    assert phone.evaluate("window.stayedOnThePage") is True
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.problems == []


def test_a_csv_upload_is_checked_when_chosen(live_server, phone, tmp_path):
    _open_the_check_page(phone, live_server)
    _choose_numbers_csv(phone, tmp_path)
    assert "reserved for fiction" in phone.get_by_role("table").inner_text()
    with phone.expect_download() as download:
        phone.get_by_role("button", name="Download the results (CSV)").click()
    assert download.value.suggested_filename == "portability-results.csv"
    assert "+12127365000" in download.value.path().read_text()
    assert phone.problems == []


def test_the_check_works_without_javascript(live_server, browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, live_server, OWNER_EMAIL)
    page.goto(f"{live_server}/check/")
    page.get_by_label("Phone numbers").fill("(212) 736-5000, 911 555 1234")
    page.get_by_role("button", name="Check Portability").click()
    expect(page.get_by_role("heading", name="2 numbers checked")).to_be_visible()
    page.get_by_role("button", name="Not a valid number").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    assert "service code" in page.locator("tbody").inner_text()
    context.close()


def test_an_upload_over_the_limit_is_explained_in_place(live_server, phone, tmp_path):
    upload = tmp_path / "huge.csv"
    upload.write_bytes(b"2127365000\n" * 2_400_000)  # 26.4 MB, over the 24 MB request limit
    _sign_in(phone, live_server, OWNER_EMAIL)
    phone.goto(f"{live_server}/check/")
    phone.get_by_label("Or upload a CSV file").set_input_files(str(upload))
    alert = phone.locator("#check-results").get_by_role("alert")
    alert.wait_for()
    assert "That upload is too large" in alert.inner_text()
    assert phone.get_by_role("heading", level=1).inner_text() == "Check portability"
    # The failed request is logged by the browser as a 413; nothing else may go wrong.
    assert [p for p in phone.problems if "413" not in p] == []


def test_a_filter_pressed_with_the_keyboard_keeps_the_focus(live_server, phone, accounts):
    TrackingNumber.create(number="+13122630111", account=accounts[1])
    _sign_in(phone, live_server, OWNER_EMAIL)
    phone.goto(f"{live_server}/check/")
    phone.get_by_label("Phone numbers").fill("(212) 736-5000, 312-263-0111")
    phone.get_by_role("button", name="Check Portability").click()
    refused = phone.get_by_role("button", name="Refused")
    refused.wait_for()
    # The live check of the typing may answer after the click's: let every answer land first,
    # or a late swap replaces the button the test has just focused.
    phone.wait_for_load_state("networkidle")
    expect(phone.locator("#check-results.htmx-settling")).to_have_count(0)
    refused = phone.get_by_role("button", name="Refused")
    refused.focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("button", name="Refused")).to_have_attribute("aria-pressed", "true")
    expect(phone.locator("tbody tr")).to_have_count(1)
    # The swap replaced the button; focus is on the new one, not dropped to <body>.
    expect(phone.locator("#filter-refused")).to_be_focused()
    # A key pressed before htmx has processed the new buttons would post the whole page.
    expect(phone.locator("#check-results.htmx-settling")).to_have_count(0)
    phone.keyboard.press("Shift+Tab")
    phone.keyboard.press("Space")
    expect(phone.locator("#filter-portable")).to_have_attribute("aria-pressed", "true")
    expect(phone.locator("#filter-portable")).to_be_focused()
    assert phone.problems == []


def test_a_kept_file_is_named_and_can_be_removed(live_server, phone, tmp_path):
    _open_the_check_page(phone, live_server)
    phone.get_by_label("Phone numbers").fill("646 555 1234")
    _choose_numbers_csv(phone, tmp_path)
    assert "were not checked" in phone.locator("#check-results").inner_text()
    # The file is kept with the results; the box is empty, so nothing competes with them.
    assert phone.evaluate("document.getElementById('csv_file').files.length") == 0
    phone.get_by_role("button", name="Remove numbers.csv").click()
    heading = phone.get_by_role("heading", name="1 number checked from the numbers you typed")
    heading.wait_for()
    assert "numbers.csv" not in phone.locator("#check-results").inner_text()
    assert phone.locator("#check-status").inner_text().startswith("1 number checked from the")
    assert phone.problems == []


def test_a_filter_on_a_file_no_longer_kept_says_it_is_gone(live_server, phone, tmp_path):
    _open_the_check_page(phone, live_server)
    _choose_numbers_csv(phone, tmp_path)
    # The per-account cap or `flask uploads prune` deletes it while the page is open.
    assert NumberUpload.delete().execute() == 1
    phone.get_by_role("button", name="Portable").click()
    gone = "The file these results came from is no longer kept: upload it again."
    expect(phone.locator("#check-results").get_by_role("alert")).to_have_text(gone)
    expect(phone.locator("#check-status")).to_have_text(gone)
    expect(phone.get_by_label("Or upload a CSV file")).to_have_attribute("aria-invalid", "true")
    assert phone.problems == []


def test_on_a_phone_the_header_is_compact_and_account_tables_are_cards(
    live_server, phone, accounts
):
    TrackingNumber.create(number="+13122630111", account=accounts[0])
    _sign_in(phone, live_server, OWNER_EMAIL)
    phone.goto(f"{live_server}/accounts/4242")
    header = phone.locator(".site-header").bounding_box()
    assert header["height"] <= 100
    for name in ("Port requests", "Check portability", "Account", "Sign out"):
        box = phone.get_by_role("link", name=name).or_(phone.get_by_role("button", name=name))
        assert box.is_visible()
    cells = phone.locator("table.cards td")
    assert cells.count() >= 5
    # Every cell is a line of its card, with its label in front, and nothing scrolls sideways.
    labels = cells.evaluate_all(
        "cells => cells.map(c => [getComputedStyle(c).display,"
        " getComputedStyle(c, '::before').content, c.getBoundingClientRect().right])"
    )
    width = phone.evaluate("window.innerWidth")
    for display, label, right in labels:
        assert display == "block"
        assert label.endswith(': "')
        assert right <= width
    assert '"Number: "' in [label for _, label, _ in labels]
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path="/tmp/portdesk-account-375.png", full_page=True)
    phone.goto(f"{live_server}/check/")
    phone.screenshot(path="/tmp/portdesk-check-375.png")
    assert phone.problems == []


def test_an_owner_makes_an_api_key_and_copies_it_on_a_phone(live_server, browser):
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    _sign_in(page, live_server, OWNER_EMAIL)
    page.get_by_role("link", name=re.compile("Ann Owner.*your settings")).click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create a key").click()
    key = page.get_by_role("textbox", name="API key").input_value()
    assert key.startswith("pd_")
    page.get_by_role("button", name="Copy the key").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(Path(os.environ.get("SCREENSHOTS", "/tmp")) / "settings-phone.png"))
    assert problems == []
    context.close()
