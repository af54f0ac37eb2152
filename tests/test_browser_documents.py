"""The documents issue's "Done when", in Debian's chromium on a 375 px phone, with CSRF on.

The owner uploads a bill whose account number has a typo, reads the warning with the bill's own
text beside it, follows its Fix link to the field, fixes it and comes back to no warning; a
renamed program is refused on the file field and nothing is kept; staff open the queue, a fax
ticket the owner filed through the form, and download its documents.
"""

import re

import pytest
from playwright.sync_api import expect

from portal.models import Document, DocumentContent, FaxTicket, PortRequest
from portal.port_requests import agreements
from tests import test_browser
from tests.conftest import OWNER_EMAIL, STAFF_EMAIL
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import ACCOUNT, TYPO, bill_pdf, bill_png, make_draft, today, with_account

pytestmark = pytest.mark.browser

browser, live_server, phone = test_browser.browser, test_browser.live_server, test_browser.phone
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


@pytest.fixture
def draft(app, inventory):
    """Harbor Clinic's draft, complete up to the bill, with a typo in its account number."""
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    with app.app_context():
        agreements.accept(
            PortRequest.get_by_id(request_id), list(agreements.TEXTS), user=None, ip=""
        )
    return request_id


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def stored(app):
    with app.app_context():
        return Document.select().count(), DocumentContent.select().count()


def bill_step(page, base, request_id):
    page.goto(f"{base}/port-requests/{request_id}/bill")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Proof of ownership")


def upload(page, path, day):
    page.get_by_label("The bill's file").set_input_files(str(path))
    page.get_by_label("Statement date").fill(day)
    page.get_by_role("button", name=re.compile("^(Upload|Replace) the bill$")).click()


def test_a_typo_against_the_bill_is_shown_fixed_at_its_field_and_gone(
    app, draft, live_server, phone, tmp_path
):
    bill = tmp_path / "harbor-bill.pdf"
    bill.write_bytes(bill_pdf(pages=2))
    test_browser._sign_in(phone, live_server, OWNER_EMAIL)
    bill_step(phone, live_server, draft)

    upload(phone, bill, today().isoformat())

    expect(phone.get_by_role("status").first).to_contain_text("Stored the bill harbor-bill.pdf")
    found = phone.get_by_role("region", name="The bill read against the request")
    warning = found.locator(".finding--warning")
    expect(warning).to_have_count(1)
    expect(warning.get_by_role("heading")).to_have_text("Check Account number")
    # What was entered, and the bill's own text beside it, as printed.
    expect(warning).to_contain_text(
        f"The account number {TYPO} is not on the bill; the bill shows 8123 4465 001."
    )
    expect(phone.get_by_title("The bill's first page")).to_be_visible()
    assert fits_the_phone(phone)

    warning.get_by_role("link", name=re.compile("^Fix the account number")).click()

    assert phone.url.endswith(f"/port-requests/{draft}/details#billing.account_number")
    field = phone.get_by_label("Account number")
    expect(field).to_be_in_viewport()
    expect(field).to_have_value(TYPO)
    # The details step names the same warning at the field itself.
    expect(phone.locator("#billing-account_number-problems")).to_contain_text(
        f"{TYPO} is not on the bill"
    )
    assert fits_the_phone(phone)
    field.fill(ACCOUNT)
    phone.get_by_role("button", name="Save and continue").click()
    expect(phone.get_by_role("status").first).to_contain_text("Saved the details.")
    steps = phone.get_by_role("navigation", name="Steps of this port request")
    steps.get_by_role("link", name=re.compile("^Proof of ownership")).click()

    found = phone.get_by_role("region", name="The bill read against the request")
    expect(found).to_contain_text("Nothing to check")
    expect(found.locator(".finding--warning")).to_have_count(0)
    expect(phone.get_by_text("The bill is in: this step is complete.")).to_be_visible()
    assert fits_the_phone(phone)
    assert phone.problems == []


def test_a_renamed_program_is_refused_on_the_file_field_and_nothing_is_kept(
    app, draft, live_server, phone, tmp_path
):
    program = tmp_path / "harbor-bill.pdf"
    program.write_bytes(EXECUTABLE)
    test_browser._sign_in(phone, live_server, OWNER_EMAIL)
    bill_step(phone, live_server, draft)

    upload(phone, program, today().isoformat())

    expect(phone.get_by_role("alert")).to_contain_text(
        "The bill was not stored: fix what is marked below and send it again."
    )
    box = phone.get_by_label("The bill's file")
    expect(box).to_have_attribute("aria-invalid", "true")
    error = phone.locator("#file-error")
    expect(error).to_have_text(
        "This file is a Windows program, not a PDF or an image. Upload the bill as a PDF, PNG "
        "or JPEG."
    )
    assert "file-error" in box.get_attribute("aria-describedby").split()
    # The date typed is kept for the next try; the file is chosen again.
    expect(phone.get_by_label("Statement date")).to_have_value(today().isoformat())
    assert stored(app) == (0, 0)
    assert fits_the_phone(phone)
    # The browser logs the page's 400 as a failed load; nothing else may go wrong.
    assert [p for p in phone.problems if "400" not in p] == []


def test_staff_open_a_fax_ticket_from_the_queue_and_download_its_documents(
    app, live_server, browser, tmp_path
):
    proof, loa = tmp_path / "lumen-bill.pdf", tmp_path / "carrier-loa.png"
    proof.write_bytes(bill_pdf(("Lumen fax line bill", "Fax (614) 322-1009")))
    loa.write_bytes(bill_png())
    owner_context = browser.new_context(viewport=test_browser.PHONE)
    owner = owner_context.new_page()
    test_browser._sign_in(owner, live_server, OWNER_EMAIL)
    owner.get_by_role("link", name="Port fax numbers").click()
    owner.get_by_label("Fax numbers").fill("(614) 322-1009")
    owner.get_by_label("Proof of ownership").set_input_files(str(proof))
    owner.get_by_label("Your carrier's Letter of Authorization").set_input_files(str(loa))
    owner.get_by_role("button", name="File the fax port ticket").click()
    expect(owner.get_by_role("status").first).to_contain_text("Fax ports take 1–2 weeks")
    owner_context.close()
    with app.app_context():
        ticket = FaxTicket.get()

    staff_context = browser.new_context(viewport=test_browser.PHONE, accept_downloads=True)
    staff = staff_context.new_page()
    problems = []
    staff.on("console", lambda m: m.type == "error" and problems.append(m.text))
    staff.on("pageerror", lambda e: problems.append(str(e)))
    test_browser._sign_in(staff, live_server, STAFF_EMAIL)
    expect(staff.get_by_role("heading", level=1)).to_have_text("Queue")
    assert fits_the_phone(staff)
    staff.get_by_role("link", name=f"Fax Porting Documentation - {ticket.account_id}").click()

    expect(staff.get_by_role("heading", level=1)).to_have_text(
        f"Fax Porting Documentation - {ticket.account_id}"
    )
    table = staff.get_by_role("table", name="The ticket's documents")
    expect(table).to_contain_text("lumen-bill.pdf")
    expect(table).to_contain_text("carrier-loa.png")
    for name, path in (
        ("Download proof of ownership", proof),
        ("Download carrier's letter of authorization", loa),
    ):
        with staff.expect_download() as download:
            table.get_by_role("link", name=name).click()
        assert download.value.path().read_bytes() == path.read_bytes()
        assert re.fullmatch(
            r"fax-(proof|loa)-\d+-\d+\.(pdf|png)", download.value.suggested_filename
        )
    assert fits_the_phone(staff)
    assert problems == []
    staff_context.close()
