"""The whole wizard in Debian's chromium, on a phone, to the Letter of Authorization step.

The owner starts a request from "Port requests", fills the Details as a person would (a PO box
first, named while typing), adds numbers typed and from the bulk template (some refused: one
kept by re-routing its tracking numbers, the rest removed in one click), configures them, accepts
the agreements, uploads the bill (which shows every detail entered), and goes on to the LOA
step. The same request then reads back through the JSON API with only the signed LOA left.
"""

import csv
import io
import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from portal.models import (
    ApiKey,
    ReceivingNumber,
    ReceivingReroute,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
)
from tests import test_browser, test_proof_step
from tests.conftest import OWNER_EMAIL

pytestmark = pytest.mark.browser

# The browser tests' own fixtures: Debian's chromium on a phone, the app served with CSRF on.
browser, live_server, phone = test_browser.browser, test_browser.live_server, test_browser.phone

RECEIVING = "+13122630100"  # Acme's front desk: two of its tracking numbers ring it
RINGING = ("+13122630111", "+13122630112")
TYPED = "\n".join(
    [
        "(614) 322-1001",
        "614.322.1002",
        "+1 614 322 1003",
        "212 555 0150",  # reserved for fiction
        "416 555 1234",  # Canadian: by ticket
        "614-322-1001",  # the first one again
        "312-263-0100",  # the receiving number, kept by re-routing
    ]
)
# The bulk template's rows: (number, routing id, tracking source id, friendly name).
UPLOADED = [
    *((f"(614) 322-{n}", 903, 32, f"Yelp line {n}") for n in range(1011, 1015)),
    *((f"614-322-{n}", 904, 33, f"Mailer line {n}") for n in range(1015, 1019)),
    ("(312) 263-0111", 902, 31, "Already ours"),  # a tracking number on the platform: refused
]
# What each of the twelve numbers must be stored with: (routing id, tracking source id).
CONFIGURED = {
    **dict.fromkeys(("+16143221001", "+16143221002", "+16143221003", RECEIVING), (902, 31)),
    **{f"+1614322{n}": (903, 32) for n in range(1011, 1015)},
    **{f"+1614322{n}": (904, 33) for n in range(1015, 1019)},
}


@pytest.fixture
def inventory(app, accounts):
    """Acme's routing targets and tracking sources (with ids), its front desk rung by two
    tracking numbers; Globex's own, which Acme's pages must never offer."""
    acme, globex = accounts
    with app.app_context():
        for id_, name in ((31, "Google Ads"), (32, "Yelp"), (33, "Direct mail")):
            TrackingSource.create(id=id_, account=acme, name=name)
        TrackingSource.create(id=61, account=globex, name="Globex ads")
        front = RoutingTarget.create(
            id=901, account=acme, name="Front desk", kind="receiving_number", number=RECEIVING
        )
        RoutingTarget.create(id=902, account=acme, name="Sales queue", kind="call_queue")
        RoutingTarget.create(id=903, account=acme, name="Voice menu", kind="voice_menu")
        RoutingTarget.create(id=904, account=acme, name="After hours", kind="call_queue")
        RoutingTarget.create(id=951, account=globex, name="Globex desk", kind="call_queue")
        ReceivingNumber.create(account=acme, number=RECEIVING, name="Front desk")
        for number in RINGING:
            TrackingNumber.create(
                number=number, account=acme, routing_target=front, tracking_source=31
            )
    return accounts


def fits_the_phone(page):
    """Nothing wider than the phone: the page never scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def steps_of(page):
    return page.get_by_role("navigation", name="Steps of this port request")


def test_an_owner_builds_a_request_to_the_loa_step(app, live_server, phone, inventory, tmp_path):
    test_browser._sign_in(phone, live_server, OWNER_EMAIL)
    request_id = start_a_request(phone)
    fill_the_details(phone)
    add_and_configure_numbers(phone, tmp_path)
    accept_the_agreements(phone)
    upload_the_bill(phone, tmp_path)
    arrive_at_the_loa_step(phone)
    assert phone.problems == []  # no console error, no page error, nothing the CSP refused

    with app.app_context():
        _, key = ApiKey.issue(inventory[0], name="Browser journey")
        kept = set(
            ReceivingReroute.select(
                ReceivingReroute.receiving_number,
                ReceivingReroute.tracking_number,
                ReceivingReroute.routing_id,
            )
            .where(ReceivingReroute.port_request == request_id)
            .tuples()
        )
    assert kept == {(RECEIVING, RINGING[0], 902), (RECEIVING, RINGING[1], 903)}
    sent = urllib.request.Request(
        f"{live_server}/api/v1/port-requests/{request_id}",
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
    )
    with urllib.request.urlopen(sent, timeout=30) as answer:
        assert answer.status == 200
        body = json.load(answer)
    assert [(p["field"], p["code"]) for p in body["problems"]] == [("loa", "loa_required")]
    assert body["status"] == "draft"
    assert body["friendly_name"] == "Harbor Clinic main lines"
    assert body["service_address"]["street"] == "N High St"
    assert body["steps"] == {
        "general": "complete",
        "details": "complete",
        "numbers": "complete",
        "agreements": "complete",
        "bill": "complete",
        "loa": "incomplete",
        "submit": "incomplete",
    }
    numbers = {
        row["portability"]["e164"]: (row["routing_id"], row["tracking_source_id"])
        for row in body["numbers"]
    }
    assert len(body["numbers"]) == 12
    assert numbers == CONFIGURED
    names = {row["portability"]["e164"]: row["friendly_name"] for row in body["numbers"]}
    assert names["+16143221001"] == "Main line"  # typed in its row
    assert names["+16143221011"] == "Yelp line 1011"  # from the file


def start_a_request(page):
    """From the list, read what to know before starting, name the request and go on."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Port requests")
    page.get_by_role("link", name="Start a port request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a port request")
    before = page.get_by_role("region", name="Before you start")
    for words in (
        "US numbers only.",
        "Canadian numbers",
        "An active receiving number needs new routing first.",
        "A ported receiving number no longer rings outside the platform.",
        "usually 2–4 weeks",
        "usually 1–2 weeks",
    ):
        expect(before).to_contain_text(words)
    fits_the_phone(page)
    page.get_by_label("A name for this request").fill("Harbor Clinic main lines")
    page.get_by_role("button", name="Start the port request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Details")
    return int(re.search(r"/port-requests/(\d+)/details$", page.url)[1])


def fill_the_details(page):
    """Fill every field by its label; a PO box is named on its field while typing."""
    expect(page.get_by_text("Draft started: it is saved as you go.")).to_be_visible()
    expect(steps_of(page).get_by_role("link", name="General (complete)")).to_be_visible()
    fits_the_phone(page)
    page.evaluate("window.stayedOnThePage = true")

    service = page.get_by_role("group", name="Service address", exact=True)
    street = service.get_by_label("Street", exact=True)
    street.click()
    street.press_sequentially("PO Box 4471")
    problem = page.locator("#service_address-street-problems")
    expect(problem).to_have_text(
        "Error: A PO box is not where the line is: carriers want the service address "
        "(the street address of the phone line)."
    )
    expect(street).to_be_focused()  # the box typed in was never replaced
    assert page.evaluate("document.activeElement.selectionStart") == len("PO Box 4471")
    service.get_by_label("Street number").fill("1200")
    street.fill("N High St")
    expect(problem).to_be_empty()

    contact = page.get_by_role("group", name="Contact for this port")
    contact.get_by_label("Name", exact=True).fill("Dana Reyes")
    contact.get_by_label("Email", exact=True).fill("dana@harborclinic.com")
    contact.get_by_label("Phone", exact=True).fill("(614) 322-1000")
    carrier = page.get_by_role("group", name="The account at your current carrier")
    carrier.get_by_label("Current carrier").fill("Lumen")
    carrier.get_by_role("radio", name="Landline").check()
    carrier.get_by_role("radio", name="Business").check()
    carrier.get_by_label("Customer name").fill("HARBOR CLINIC, LLC")
    carrier.get_by_label("Account number").fill("81234465001")
    carrier.get_by_label("Billing telephone number (BTN)").fill("(614) 322-1000")
    service.get_by_label("City").fill("Columbus")
    service.get_by_label("State").select_option(label="Ohio (OH)")
    service.get_by_label("ZIP code").fill("43201")
    expect(page.get_by_label("The bill goes to the service address")).to_be_checked()
    authorized = page.get_by_role("group", name="Authorized representative")
    authorized.get_by_label("Name", exact=True).fill("Dana Reyes")
    authorized.get_by_label("Title", exact=True).fill("Practice Manager")
    authorized.get_by_label("Email", exact=True).fill("dana@harborclinic.com")
    authorized.get_by_label("Phone", exact=True).fill("(614) 322-1000")
    page.get_by_role("radio", name="No, every number on the account moves here").check()
    page.get_by_role("radio", name="The earliest date the carriers allow").check()

    expect(page.locator("#step-status")).to_have_text("Saved. This step is complete.")
    expect(steps_of(page).get_by_role("link", name="Details (complete)")).to_be_visible()
    assert page.evaluate("window.stayedOnThePage") is True
    fits_the_phone(page)
    # No inline save still on its way: its answer would land on the next page's cookies.
    expect(page.locator("form.step-form.htmx-request")).to_have_count(0)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Numbers and configuration")
    expect(page.get_by_text("Saved the details.")).to_be_visible()
    steps = steps_of(page)
    expect(steps.get_by_role("link", name="General (complete)")).to_be_visible()
    expect(steps.get_by_role("link", name="Details (complete)")).to_be_visible()
    expect(
        steps.get_by_role("link", name="Numbers and configuration (not complete yet)")
    ).to_be_visible()


def add_and_configure_numbers(page, folder):
    """Add numbers typed and uploaded, keep the receiving one, remove the refused, configure."""
    fits_the_phone(page)
    news = page.locator("#numbers-status")
    page.get_by_label("Phone numbers").fill(TYPED)
    # No click: the typed numbers are checked live.
    expect(page.locator("#check-status")).to_have_text(
        "7 numbers checked from the numbers you typed: 3 portable, 4 refused."
    )
    results = page.locator("#check-results")
    for reason in ("reserved for fiction", "Canadian", "Repeated in this list"):
        expect(results).to_contain_text(reason)
    page.get_by_role("button", name="Add these numbers").click()
    expect(news).to_have_text("Added 7 numbers: 3 portable, 4 refused.")
    expect(page.get_by_label("Phone numbers")).to_have_value("")

    # A file made from the bulk template's own header line.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the bulk-import template (CSV)").click()
    header = next(csv.reader(io.StringIO(download.value.path().read_text())))
    made = io.StringIO()
    writer = csv.DictWriter(made, fieldnames=header)
    writer.writeheader()
    for number, routing, source, name in UPLOADED:
        writer.writerow(
            {
                "phone_number": number,
                "account_id": 4242,
                "tracking_source_id": source,
                "routing_id": routing,
                "friendly_name": name,
            }
        )
    upload = folder / "harbor-numbers.csv"
    upload.write_text(made.getvalue())
    page.get_by_label("Or upload a CSV file").set_input_files(str(upload))
    expect(page.locator("#check-status")).to_have_text(
        "9 numbers checked from harbor-numbers.csv: 8 portable, 1 refused."
    )
    page.get_by_role("button", name="Add these numbers").click()
    expect(news).to_have_text("Added 9 numbers: 8 portable, 1 refused.")
    # The file's ids prefill its rows; only the account's own are offered.
    routing = page.get_by_label("Routing target for (614) 322-1011")
    expect(routing).to_have_value("903")
    expect(page.get_by_label("Tracking source for (614) 322-1015")).to_have_value("33")
    expect(routing.locator("option")).to_have_text(
        ["Choose a routing target", "After hours (904)", "Front desk (901)", "Sales queue (902)",
         "Voice menu (903)"]
    )  # fmt: skip

    refused = page.get_by_role("region", name=re.compile("^Refused numbers"))
    expect(refused.locator("tbody tr")).to_have_count(5)
    refused.get_by_role("link", name="Keep it and re-route").click()
    reroute = page.get_by_role("region", name="Keep (312) 263-0100 and re-route")
    reroute.get_by_label("New routing for (312) 263-0111").select_option(label="Sales queue (902)")
    reroute.get_by_label("New routing for (312) 263-0112").select_option(label="Voice menu (903)")
    reroute.get_by_role("button", name="Keep it with these routings").click()
    expect(news).to_have_text(
        "Kept (312) 263-0100: its 2 tracking numbers will ring their new routings when the port "
        "completes."
    )
    page.get_by_role("button", name="Remove the 4 refused numbers").click()
    expect(news).to_have_text("Removed 4 refused numbers.")
    expect(page.get_by_role("region", name=re.compile("^Refused numbers"))).to_have_count(0)
    expect(page.locator(".numbers-summary")).to_have_text(re.compile(r"12 numbers\s+12 portable"))
    fits_the_phone(page)

    # The typed numbers, and the kept one, get their routing and source together.
    for number in ("(614) 322-1001", "(614) 322-1002", "(614) 322-1003", "(312) 263-0100"):
        page.get_by_label(f"Select {number}").check()
    bulk = page.get_by_role("group", name="Apply to many numbers at once")
    bulk.get_by_label("Routing target", exact=True).select_option(label="Sales queue (902)")
    bulk.get_by_label("Tracking source", exact=True).select_option(label="Google Ads (31)")
    expect(bulk.get_by_role("radio", name="The selected numbers on this page")).to_be_checked()
    bulk.get_by_role("button", name="Apply", exact=True).click()
    expect(news).to_have_text(
        "Applied routing Sales queue and tracking source Google Ads to 4 numbers."
    )
    expect(page.get_by_label("Routing target for (312) 263-0100")).to_have_value("902")
    expect(page.get_by_label("Routing target for (614) 322-1011")).to_have_value("903")

    page.get_by_label("Friendly name for (614) 322-1001").fill("Main line")
    page.get_by_role("button", name="Save the configuration").click()
    expect(news).to_have_text("Saved the configuration: 1 number changed.")
    expect(
        steps_of(page).get_by_role("link", name="Numbers and configuration (complete)")
    ).to_be_visible()
    fits_the_phone(page)
    page.get_by_role("link", name="Next: Agreements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreements")


def accept_the_agreements(page):
    """Check each statement on its own and accept them."""
    fits_the_phone(page)
    loa = steps_of(page).get_by_role("link", name="Letter of Authorization (not complete yet)")
    expect(loa).to_be_attached()
    statements = page.get_by_role(
        "group", name="Read each statement and check the ones you agree to"
    ).get_by_role("checkbox")
    expect(statements).to_have_count(5)
    for index in range(5):
        statements.nth(index).check()
    page.get_by_role("button", name="Accept the checked statements").click()
    expect(
        page.get_by_text("every statement is accepted and the Agreements step is complete")
    ).to_be_visible()


def upload_the_bill(page, folder):
    """The Proof of ownership step: upload the latest bill, which shows every detail entered."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Proof of ownership")
    bill = folder / "harbor-bill.pdf"
    bill.write_bytes(test_proof_step.bill_pdf())
    page.get_by_label("The bill's file").set_input_files(str(bill))
    page.get_by_label("Statement date").fill(test_proof_step.today().isoformat())
    page.get_by_role("button", name="Upload the bill").click()
    expect(
        page.get_by_text("Stored the bill harbor-bill.pdf: the details you entered are on it.")
    ).to_be_visible()
    expect(page.get_by_role("region", name="The bill read against the request")).to_contain_text(
        "Nothing to check"
    )
    expect(page.get_by_title("The bill's first page")).to_be_visible()
    expect(steps_of(page).get_by_role("link", name="Proof of ownership (complete)")).to_be_visible()
    fits_the_phone(page)
    page.get_by_role("link", name="Continue", exact=True).click()


def arrive_at_the_loa_step(page):
    """The Letter of Authorization step: steps 1-5 checked, the LOA the current one and Submit
    still to come, both open; the request's page continues at the LOA."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Letter of Authorization")
    steps = steps_of(page)
    for title in ("General", "Details", "Numbers and configuration", "Agreements"):
        expect(steps.get_by_role("link", name=f"{title} (complete)")).to_be_attached()
    expect(steps.get_by_role("link", name="Proof of ownership (complete)")).to_be_attached()
    expect(steps.locator(".steps__item--complete .steps__mark")).to_have_text(["✓"] * 5)
    loa = steps.get_by_role("link", name="Letter of Authorization (not complete yet)")
    expect(loa).to_have_attribute("aria-current", "step")
    expect(steps.get_by_role("link", name="Submit (not complete yet)")).to_be_attached()
    expect(page.locator(".steps__item--incomplete")).to_have_count(2)
    fits_the_phone(page)
    page.locator(".breadcrumbs").get_by_role("link", name="Harbor Clinic main lines").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor Clinic main lines")
    steps = steps_of(page)
    for title in ("General", "Details", "Numbers and configuration", "Agreements"):
        expect(steps.get_by_role("link", name=f"{title} (complete)")).to_be_visible()
    expect(steps.get_by_role("link", name="Proof of ownership (complete)")).to_be_visible()
    for title in ("Letter of Authorization", "Submit"):
        expect(steps.get_by_role("link", name=f"{title} (not complete yet)")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Continue"))).to_have_text(
        "Continue: Letter of Authorization"
    )
    fits_the_phone(page)
