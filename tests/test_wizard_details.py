"""Starting a port request, and its General and Details steps: what is stored, what is shown."""

import html
import json
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from portal import create_app
from portal.models import PortRequest, RequestEvent
from portal.port_requests.addresses import US_STATES
from portal.port_requests.dates import earliest_date
from portal.port_requests.drafts import store_numbers
from portal.port_requests.fields import LABELS, Problem
from portal.port_requests.forms import OTHER_PLACES, STATE_NAMES
from portal.port_requests.rules import STEPS
from tests import test_browser
from tests.conftest import OWNER_EMAIL, PASSWORD, make_config, without_csrf

NEW = "/port-requests/new"
# Every control of the Details step, filled in as on Harbor Clinic's bill.
COMPLETE = {
    "contact.name": "Dana Reyes",
    "contact.email": "dana@harborclinic.com",
    "contact.phone": "(614) 322-1000",
    "billing.carrier": "Lumen",
    "billing.service_type": "landline",
    "billing.customer_type": "business",
    "billing.customer_name": "HARBOR CLINIC, LLC",
    "billing.account_number": "81234465001",
    "billing.pin": "",
    "billing.btn": "(614) 322-1000",
    "service_address.street_number": "1200",
    "service_address.street": "N High St",
    "service_address.unit": "",
    "service_address.city": "Columbus",
    "service_address.state": "OH",
    "service_address.zip": "43201",
    "billing_address_same": "y",
    "billing_address.street_number": "",
    "billing_address.street": "",
    "billing_address.unit": "",
    "billing_address.city": "",
    "billing_address.state": "",
    "billing_address.zip": "",
    "authorized.name": "Dana Reyes",
    "authorized.title": "Practice Manager",
    "authorized.email": "dana@harborclinic.com",
    "authorized.phone": "(614) 322-1000",
    "partial_port.other_numbers_remain": "no",
    "partial_port.new_btn": "",
    "requested_date_choice": "earliest",
    "requested_date": "",
}
# What the form above stores: docs/domain.md's JSON shape, nothing typed empty kept as "".
STORED = {
    "friendly_name": "Harbor Clinic main lines",
    "contact": {"name": "Dana Reyes", "email": "dana@harborclinic.com", "phone": "(614) 322-1000"},
    "billing": {
        "carrier": "Lumen",
        "service_type": "landline",
        "customer_type": "business",
        "customer_name": "HARBOR CLINIC, LLC",
        "account_number": "81234465001",
        "btn": "(614) 322-1000",
    },
    "service_address": {
        "street_number": "1200",
        "street": "N High St",
        "city": "Columbus",
        "state": "OH",
        "zip": "43201",
    },
    "billing_address": None,
    "authorized": {
        "name": "Dana Reyes",
        "title": "Practice Manager",
        "email": "dana@harborclinic.com",
        "phone": "(614) 322-1000",
    },
    "partial_port": {"other_numbers_remain": False},
    "requested_date": None,
}
SLOT = re.compile(r'<div class="field__problems" id="([^"]+)-problems">(.*?)</div>', re.DOTALL)
STEP_ITEM = re.compile(
    r'steps__item--(complete|incomplete)[^"]*">\s*<a href="/port-requests/\d+/(\w+)"'
)


def details_of(request_id):
    return f"/port-requests/{request_id}/details"


def general_of(request_id):
    return f"/port-requests/{request_id}/general"


def make_draft(app, account, fields=None, status="draft"):
    fields = {"friendly_name": "Harbor Clinic main lines"} if fields is None else fields
    with app.app_context():
        return PortRequest.create(account=account, details=json.dumps(fields), status=status).id


def stored(app, request_id):
    with app.app_context():
        return PortRequest.get_by_id(request_id).fields


def events(app, request_id):
    with app.app_context():
        rows = RequestEvent.select().where(RequestEvent.port_request == request_id)
        return [(row.kind, row.message, row.actor) for row in rows.order_by(RequestEvent.id)]


def slots(page):
    """Return {field path: the text of its problem slot} of a page or a fragment."""
    return {
        key.replace("-", "."): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
        for key, text in SLOT.findall(page)
    }


def oob_slots(fragment):
    found = re.findall(r'<div id="([^"]+)-problems" hx-swap-oob="innerHTML">(.*?)</div>', fragment)
    return {key.replace("-", "."): html.unescape(text) for key, text in found}


def step_states(page):
    return {step: state for state, step in STEP_ITEM.findall(page)}


@pytest.fixture
def draft(app, owner):
    return make_draft(app, owner.account)


def with_changes(**changes):
    return {**COMPLETE, **{key.replace("__", "."): value for key, value in changes.items()}}


# Starting a request


def test_before_you_start_says_what_the_owner_must_know(owner_client):
    page = html.unescape(owner_client.get(NEW).get_data(as_text=True))
    for words in (
        "US numbers only",
        "Puerto Rico",
        "Canadian numbers",
        "ticket with Carrier Relations",
        "cannot be ported to the platform at all",
        "choose a new routing for each tracking number that rings it",
        "no longer rings outside the platform",
        "2–4 weeks",
        "1–2 weeks, through a separate ticket",
        "latest bill",
        "account number",
        "PIN",
        "exactly as the carrier has it",
        "signs the Letter of Authorization",
    ):
        assert words in page, words
    assert 'name="friendly_name"' in page


def test_starting_creates_a_draft_and_goes_to_details(app, owner, owner_client):
    response = owner_client.post(NEW, data={"friendly_name": "  Harbor Clinic main lines "})
    with app.app_context():
        port_request = PortRequest.get()
        assert (port_request.account_id, port_request.created_by_id) == (4242, owner.id)
        assert port_request.status == "draft"
    assert response.status_code == 302
    assert response.headers["Location"] == details_of(port_request.id)
    assert port_request.fields == {"friendly_name": "Harbor Clinic main lines"}
    assert events(app, port_request.id) == [("created", "Created the draft.", "Ann Owner")]
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Draft started" in page


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for this request."),
        ("   ", "Enter a name for this request."),
        ("Harbor\x00Clinic", "it holds a NUL character"),
        ("x" * 300, "at most 200 characters, not 300"),
        ("x" * 10_000, "10,000 characters cannot be saved"),
        ("Harbor\u200bClinic", "invisible character"),
    ],
)
def test_a_name_that_cannot_be_used_creates_nothing(app, owner_client, name, message):
    response = owner_client.post(NEW, data={"friendly_name": name})
    assert response.status_code == 400
    assert message in slots(response.get_data(as_text=True))["friendly_name"]
    with app.app_context():
        assert PortRequest.select().count() == 0


def test_starting_is_for_owners(staff_client):
    assert staff_client.get(NEW).status_code == 403
    assert staff_client.post(NEW, data={"friendly_name": "x"}).status_code == 403


# The Details step: what is stored


def test_details_are_stored_in_the_json_shape_and_lead_to_the_numbers(app, owner_client, draft):
    response = owner_client.post(details_of(draft), data=COMPLETE)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{draft}/numbers"
    assert stored(app, draft) == STORED


@pytest.mark.parametrize(
    ("changes", "billing_address"),
    [
        ({}, None),
        (
            {
                "billing_address_same": "",
                "billing_address.street": "PO Box 4410",
                "billing_address.city": "Columbus",
                "billing_address.state": "OH",
                "billing_address.zip": "43216",
            },
            {"street": "PO Box 4410", "city": "Columbus", "state": "OH", "zip": "43216"},
        ),
        # Unchecked and empty: the owner said it differs, so its parts are asked for.
        ({"billing_address_same": ""}, {}),
    ],
)
def test_same_as_the_service_address_is_stored_as_null(
    app, owner_client, draft, changes, billing_address
):
    owner_client.post(details_of(draft), data={**COMPLETE, **changes})
    assert stored(app, draft)["billing_address"] == billing_address


def test_a_billing_po_box_is_fine(app, owner_client, draft):
    data = {
        **COMPLETE,
        "billing_address_same": "",
        "billing_address.street": "PO Box 4410",
        "billing_address.city": "Columbus",
        "billing_address.state": "OH",
        "billing_address.zip": "43216",
    }
    response = owner_client.post(details_of(draft), data=data)
    assert response.headers["Location"] == f"/port-requests/{draft}/numbers"


def test_earliest_available_is_stored_as_null_and_a_chosen_date_as_typed(app, owner_client, draft):
    day = earliest_date(date.today(), 12).isoformat()
    chosen = {"requested_date_choice": "date", "requested_date": day}
    owner_client.post(details_of(draft), data={**COMPLETE, **chosen})
    assert stored(app, draft)["requested_date"] == day
    # A date left typed in the hidden box does not count once "earliest" is chosen again.
    owner_client.post(details_of(draft), data={**COMPLETE, "requested_date": day})
    assert stored(app, draft)["requested_date"] is None


def test_a_stored_draft_shows_in_the_form(app, owner, owner_client):
    request_id = make_draft(app, owner.account, {**STORED, "requested_date": "2031-03-04"})
    page = owner_client.get(details_of(request_id)).get_data(as_text=True)
    assert 'value="HARBOR CLINIC, LLC"' in page
    assert re.search(r'<option selected value="OH">|<option value="OH" selected>', page)
    assert re.search(r'checked[^>]*value="landline"|value="landline"[^>]*checked', page)
    assert re.search(r'checked[^>]*value="no"|value="no"[^>]*checked', page)
    assert re.search(
        r'id="billing_address_same"[^>]*checked|checked[^>]*id="billing_address_same"', page
    )
    assert 'value="2031-03-04"' in page


# The Details step: problems on their fields


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        (
            {"service_address.street_number": "", "service_address.street": "PO Box 12"},
            "service_address.street",
            "A PO box is not where the line is",
        ),
        ({"service_address.zip": "77002"}, "service_address.zip", "ZIP 77002 is in TX, not OH."),
        (
            {"billing.service_type": "wireless"},
            "billing.pin",
            "Enter the account PIN: carriers refuse a wireless port without it.",
        ),
        ({"contact.email": "dana@harbor"}, "contact.email", "like name@example.com"),
        ({"billing.btn": "(416) 555-0123"}, "billing.btn", "Check the billing telephone number"),
        ({"authorized.title": ""}, "authorized.title", "Enter the representative's title."),
        (
            {"partial_port.other_numbers_remain": "yes"},
            "partial_port.remaining_numbers",
            "Choose what happens to the numbers that stay on the account",
        ),
        # A crafted choice is saved as sent, and named by the rules.
        ({"billing.service_type": "satellite"}, "billing.service_type", "not 'satellite'"),
        (
            {"requested_date_choice": "date", "requested_date": "2020-01-06"},
            "requested_date",
            "has passed",
        ),
    ],
)
def test_a_problem_is_shown_on_its_field_after_a_save(
    app, owner_client, draft, changes, path, message
):
    response = owner_client.post(details_of(draft), data={**COMPLETE, **changes})
    assert response.headers["Location"] == f"{details_of(draft)}?review=1"
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved. Fix the marked fields to complete this step." in page
    found = slots(page)
    assert message in found[path]
    assert [key for key, text in found.items() if text] == [path]
    assert f'href="#{path}"' in page  # the summary links to it


def test_the_btn_ported_while_others_stay_needs_a_new_btn(app, owner, owner_client, draft):
    with app.app_context():
        store_numbers(PortRequest.get_by_id(draft), [{"phone_number": "(614) 322-1000"}])
    data = {**COMPLETE, "partial_port.other_numbers_remain": "yes"}
    data["partial_port.remaining_numbers"] = "keep"
    response = owner_client.post(details_of(draft), data=data)
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "enter the new BTN" in slots(page)["partial_port.new_btn"]
    data["partial_port.new_btn"] = "(614) 322-1009"
    response = owner_client.post(details_of(draft), data=data)
    assert response.headers["Location"] == f"/port-requests/{draft}/numbers"


def test_a_warning_is_shown_apart_from_errors(app):
    problems = [
        Problem("billing.pin", "pin_for_mobile", "warning", "Some numbers are mobile."),
        Problem("billing.pin", "too_long", "error", "Shorten the account PIN."),
    ]
    with app.test_request_context():
        fields = app.jinja_env.get_template("port_requests/_details_fields.html").module
        shown = str(fields.problem_list(problems))
    warning, error = re.findall(r'<p class="field__(\w+)">(.*?)</p>', shown)
    assert warning == (
        "warning",
        '<span class="field__badge">Check</span> Some numbers are mobile.',
    )
    assert error == (
        "error",
        '<span class="visually-hidden">Error: </span>Shorten the account PIN.',
    )


def test_an_untouched_page_does_not_shout(app, owner_client, draft):
    page = owner_client.get(details_of(draft)).get_data(as_text=True)
    found = slots(page)
    assert set(found) >= {path for path in LABELS if path.split(".")[0] in STEPS["details"]} - {
        section for section in STEPS["details"]
    }
    assert not any(found.values())
    assert "field__error" not in page
    reviewed = slots(owner_client.get(details_of(draft) + "?review=1").get_data(as_text=True))
    assert reviewed["contact.name"] == "Error: Enter the contact's name."
    assert reviewed["billing_address.street"] == ""  # "same as service" by default


def test_a_field_holding_a_value_shows_its_problem_on_a_first_visit(app, owner, owner_client):
    fields = {"friendly_name": "x", "service_address": {"zip": "432"}}
    request_id = make_draft(app, owner.account, fields)
    found = slots(owner_client.get(details_of(request_id)).get_data(as_text=True))
    assert "Enter a 5-digit ZIP code" in found["service_address.zip"]
    assert [key for key, text in found.items() if text] == ["service_address.zip"]


def test_a_section_of_the_wrong_type_is_named_above_the_form(app, owner, owner_client):
    request_id = make_draft(app, owner.account, {"friendly_name": "x", "contact": "Dana"})
    response = owner_client.get(details_of(request_id))
    assert response.status_code == 200
    assert "Send the contact as an object of its fields." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [("Dana\x00Reyes", "it holds a NUL character"), ("D" * 1_001, "1,001 characters")],
)
def test_what_cannot_be_saved_is_refused_and_nothing_is_lost(
    app, owner_client, draft, htmx, value, message
):
    data = {**COMPLETE, "contact.name": value}
    response = owner_client.post(details_of(draft), data=data)
    assert response.status_code == 400
    assert message in slots(response.get_data(as_text=True))["contact.name"]
    assert 'value="HARBOR CLINIC, LLC"' in response.get_data(as_text=True)  # what was typed
    fragment = owner_client.post(details_of(draft), data=data, headers=htmx())
    assert fragment.status_code == 200
    assert "Not saved" in fragment.get_data(as_text=True)
    assert message in oob_slots(fragment.get_data(as_text=True))["contact.name"]
    assert stored(app, draft) == {"friendly_name": "Harbor Clinic main lines"}


# Inline saves


def test_an_inline_save_answers_the_slots_and_the_step_list_not_the_inputs(
    app, owner_client, draft, htmx
):
    page = owner_client.get(details_of(draft)).get_data(as_text=True)
    assert 'hx-select-oob="#wizard-steps"' in page
    assert '<nav class="steps" id="wizard-steps"' in page
    assert 'id="step-status" class="step-status" role="status" aria-live="polite"' in page

    data = {**COMPLETE, "service_address.zip": "77002"}
    response = owner_client.post(details_of(draft), data=data, headers=htmx())
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in fragment and "<form" not in fragment
    # The one input it holds is the hidden record of what the page now shows, out of band.
    (only_input,) = re.findall(r"<input[^>]*>", fragment)
    assert 'name="shown" type="hidden"' in only_input and 'hx-swap-oob="true"' in only_input
    assert stored(app, draft)["service_address"]["zip"] == "77002"  # saved as typed
    found = oob_slots(fragment)
    # Every field's slot, so the problems fixed since the last save are cleared.
    assert set(found) == {path for path in slots(page) if path in LABELS}
    assert "ZIP 77002 is in TX, not OH." in found["service_address.zip"]
    assert re.search(r'<div id="step-status" hx-swap-oob="innerHTML">Saved. 1 problem on', fragment)
    assert step_states(fragment)["details"] == "incomplete"

    fixed = owner_client.post(details_of(draft), data=COMPLETE, headers=htmx())
    fragment = fixed.get_data(as_text=True)
    assert not any(oob_slots(fragment).values())
    assert "Saved. This step is complete." in fragment
    assert step_states(fragment) == {
        "general": "complete",
        "details": "complete",
        "numbers": "incomplete",
        "agreements": "incomplete",
        "bill": "incomplete",
        "loa": "incomplete",
        "submit": "incomplete",
    }


def test_an_inline_save_names_required_fields_only_after_a_full_save(
    app, owner_client, draft, htmx
):
    data = {"contact.name": "Dana Reyes", "billing_address_same": "y"}
    fragment = owner_client.post(details_of(draft), data=data, headers=htmx()).get_data(
        as_text=True
    )
    assert not any(oob_slots(fragment).values())
    assert re.search(r"Saved\. \d+ required fields still empty\.", fragment)
    reviewing = owner_client.post(
        details_of(draft), data={**data, "review": "1"}, headers=htmx()
    ).get_data(as_text=True)
    assert "Enter the contact's email." in oob_slots(reviewing)["contact.email"]
    assert stored(app, draft)["contact"] == {"name": "Dana Reyes"}


def test_the_step_list_checks_general_and_details_when_complete(app, owner_client, draft):
    page = owner_client.get(details_of(draft)).get_data(as_text=True)
    assert step_states(page)["general"] == "complete"
    assert step_states(page)["details"] == "incomplete"
    owner_client.post(details_of(draft), data=COMPLETE)
    page = owner_client.get(details_of(draft)).get_data(as_text=True)
    assert step_states(page)["details"] == "complete"
    assert "(complete)" in page


# The General step


def test_renaming_saves_and_leads_to_the_details(app, owner_client, draft):
    response = owner_client.post(general_of(draft), data={"friendly_name": "Harbor fax lines"})
    assert response.headers["Location"] == details_of(draft)
    assert stored(app, draft) == {"friendly_name": "Harbor fax lines"}


def test_a_blank_name_is_saved_as_null_and_marked(app, owner_client, draft):
    response = owner_client.post(general_of(draft), data={"friendly_name": "  "})
    assert response.headers["Location"] == f"{general_of(draft)}?review=1"
    assert stored(app, draft) == {"friendly_name": None}
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert slots(page)["friendly_name"] == "Error: Enter a name for this request."
    assert step_states(page)["general"] == "incomplete"


# Who may change what


@pytest.mark.parametrize("path", [general_of, details_of])
def test_another_accounts_request_is_a_404_like_a_missing_one(
    app, other_owner, owner_client, htmx, path
):
    theirs = make_draft(app, other_owner.account)
    data = {**COMPLETE, "friendly_name": "Mine now"}
    owner_client.get(NEW)  # shows the sign-in's flash, which would be on one page only
    for method, headers in (("get", {}), ("post", {}), ("post", htmx())):
        send = getattr(owner_client, method)
        foreign, missing = (send(path(i), data=data, headers=headers) for i in (theirs, 99_999))
        assert foreign.status_code == missing.status_code == 404
        assert without_csrf(foreign.get_data()) == without_csrf(missing.get_data())
    assert stored(app, theirs) == {"friendly_name": "Harbor Clinic main lines"}
    assert events(app, theirs) == []


@pytest.mark.parametrize("path", [general_of, details_of])
def test_a_submitted_request_cannot_be_changed(app, owner, owner_client, htmx, path):
    request_id = make_draft(app, owner.account, status="submitted")
    for response in (
        owner_client.get(path(request_id)),
        owner_client.post(path(request_id), data={**COMPLETE, "friendly_name": "Changed"}),
    ):
        assert response.status_code == 302
        assert response.headers["Location"] == f"/port-requests/{request_id}"
    fragment = owner_client.post(path(request_id), data=COMPLETE, headers=htmx())
    assert fragment.status_code == 204
    assert fragment.headers["HX-Redirect"] == f"/port-requests/{request_id}"
    with owner_client.session_transaction() as session:
        messages = [message for _, message in session["_flashes"]]
    assert "This request is submitted: it can no longer be changed." in messages
    assert stored(app, request_id) == {"friendly_name": "Harbor Clinic main lines"}
    assert events(app, request_id) == []


def test_every_post_needs_the_csrf_token(database_url, tmp_path, owner):
    app = create_app(make_config(database_url, tmp_path / "csrf", WTF_CSRF_ENABLED=True))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": OWNER_EMAIL, "password": PASSWORD, "csrf_token": token})
    request_id = make_draft(app, owner.account)
    for path, data in (
        (NEW, {"friendly_name": "Forged"}),
        (general_of(request_id), {"friendly_name": "Forged"}),
        (details_of(request_id), COMPLETE),
    ):
        assert client.post(path, data=data).status_code == 400
    with app.app_context():
        assert PortRequest.select().count() == 1
    assert stored(app, request_id) == {"friendly_name": "Harbor Clinic main lines"}


# The timeline


def test_repeated_saves_are_one_line_of_the_timeline(app, owner_client, htmx):
    response = owner_client.post(NEW, data={"friendly_name": "Harbor Clinic main lines"})
    request_id = int(response.headers["Location"].split("/")[2])
    owner_client.post(details_of(request_id), data={"contact.name": "Dana"}, headers=htmx())
    owner_client.post(details_of(request_id), data={"contact.name": "Dana R"}, headers=htmx())
    owner_client.post(details_of(request_id), data=COMPLETE)
    owner_client.post(details_of(request_id), data=COMPLETE)  # nothing changed: nothing logged
    assert events(app, request_id) == [
        ("created", "Created the draft.", "Ann Owner"),
        ("saved", "Saved the details.", "Ann Owner"),
    ]


def test_the_state_list_is_every_state_the_rules_accept():
    assert set(STATE_NAMES) | set(OTHER_PLACES) == US_STATES


# In a browser

# The browser tests' own fixtures: Debian's chromium on a phone, the app served with CSRF on.
browser, live_server, phone = test_browser.browser, test_browser.live_server, test_browser.phone


@pytest.mark.browser
def test_typing_shows_problems_without_moving_the_caret(live_server, phone):
    test_browser._sign_in(phone, live_server, OWNER_EMAIL)
    phone.goto(f"{live_server}{NEW}")
    phone.get_by_label("A name for this request").fill("Harbor Clinic main lines")
    phone.get_by_role("button", name="Start the port request").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Details")

    phone.get_by_label("State").first.select_option("OH")
    zip_box = phone.locator("#service_address\\.zip")
    zip_box.click()
    zip_box.press_sequentially("77002")
    problem = phone.locator("#service_address-zip-problems")
    expect(problem).to_have_text("Error: ZIP 77002 is in TX, not OH.")
    expect(phone.locator("#step-status")).to_have_text(
        re.compile(r"^Saved\. 1 problem on this step\. \d+ required fields still empty\.$")
    )
    # The box the owner types in was never replaced: still focused, the caret at the end.
    assert phone.evaluate("document.activeElement.id") == "service_address.zip"
    assert phone.evaluate("document.activeElement.selectionStart") == 5
    zip_box.press("Backspace")
    zip_box.press_sequentially("1")
    expect(problem).to_have_text("Error: ZIP 77001 is in TX, not OH.")

    for name, value in COMPLETE.items():
        control = phone.locator(f'[name="{name}"]').first
        kind = control.get_attribute("type") or control.evaluate("element => element.tagName")
        if kind == "radio":
            phone.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            control.set_checked(bool(value))
        elif not control.is_visible():
            continue  # the billing address and the date, hidden by the answers above them
        elif kind == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    steps = phone.get_by_role("navigation", name="Steps of this port request")
    expect(steps.get_by_role("link", name="Details (complete)")).to_be_visible()
    expect(phone.locator("#step-status")).to_have_text("Saved. This step is complete.")
    # What the page shows moved on with each save, so emptying a box is this page's change and
    # is stored (a page still holding its first "shown" would keep the old carrier).
    shown = phone.locator("#shown").input_value()
    assert f'"zip": "{COMPLETE["service_address.zip"]}"' in shown
    phone.locator('[name="billing.carrier"]').fill("")
    expect(steps.get_by_role("link", name="Details (not complete yet)")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.problems == []
