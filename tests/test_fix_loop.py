"""The fix loop: a request Carrier Relations sent back shows its owner only the fields its codes
open, stores only those, checks them with the wizard's rules and the bill, takes numbers out and a
newer bill in when the codes say so, wants a new LOA when a change voided it, and resubmits once
(two resubmits at once: one wins)."""

import io
import json
import re
from html import unescape

import pytest

from portal import create_app
from portal.models import (
    Account,
    Document,
    NumberClaim,
    OutboxEmail,
    PortNumber,
    PortRequest,
    ReceivingReroute,
    RequestEvent,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from portal.port_requests import operations
from portal.port_requests.carrier_codes import CODES, fields_for
from portal.staff.transitions import TransitionRefused
from tests.conftest import STAFF_EMAIL, make_config
from tests.test_loa_step import sign_here
from tests.test_proof_step import TYPO, bill_pdf
from tests.test_submit import (
    SHARED,
    flashes,
    make_submittable,
    many,
    sign_loa,
    text_of,
    today,
)
from tests.test_wizard_attacks import at_once
from tests.test_wizard_details import STORED

SECOND = "(614) 322-1002"
SECOND_E164 = "+16143221002"
THIRD = "(614) 322-1003"
NOTE = "The carrier has 1200 North High Street on its records."


def submitted(app, owner, numbers=(SHARED, SECOND), fields=None):
    """Build a submittable draft of the owner's and submit it; return its id."""
    request_id = make_submittable(
        app, owner.account_id, numbers=list(numbers), fields=fields, created_by=owner
    )
    with app.app_context():
        operations.submit(
            Account.get_by_id(owner.account_id),
            request_id,
            user=User.get_by_id(owner.id),
            ip="203.0.113.5",
            today=today(),
            lead_business_days=7,
        )
    return request_id


def send_back(app, request_id, codes, note=NOTE):
    """Put a submitted request into action_required as staff's move would (without helper B's)."""
    with app.app_context():
        moved = (
            PortRequest.update(
                status="action_required",
                carrier_codes=json.dumps(codes),
                status_note=note,
                status_changed_at=utcnow(),
            )
            .where(
                (PortRequest.id == request_id)
                & PortRequest.status.in_(("submitted", "in_review", "foc_scheduled"))
            )
            .execute()
        )
    assert moved == 1


def sent_back(app, owner, codes, **kwargs):
    """Return the id of a submitted request of the owner's, sent back with these codes."""
    request_id = submitted(app, owner, **kwargs)
    send_back(app, request_id, codes)
    return request_id


def rewrite(app, request_id, **fields):
    """Change stored fields behind the owner's back, as time or staff's records would."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        port_request.details = json.dumps({**port_request.fields, **fields})
        port_request.save()


def fix_url(request_id, suffix=""):
    return f"/port-requests/{request_id}/fix{suffix}"


def fields_of(app, request_id):
    with app.app_context():
        return PortRequest.get_by_id(request_id).fields


def status_of(app, request_id):
    with app.app_context():
        return PortRequest.get_by_id(request_id).status


def kinds(app, request_id):
    with app.app_context():
        return [event.kind for event in RequestEvent.of_request(request_id)]


def controls_of(response):
    """Return the names of the request fields the fix form holds (not its token nor `shown`)."""
    html = response.get_data(as_text=True)
    form = re.search(r'<form[^>]+id="fix-fields".*?</form>', html, re.DOTALL)
    if form is None:
        return set()
    names = set(re.findall(r'name="([^"]+)"', form.group(0)))
    return names - {"csrf_token", "shown"}


def fix_form(response, **changes):
    """Return what the fix page's form sends: its controls as shown, with these changes."""
    html = response.get_data(as_text=True)
    form = re.search(r'<form[^>]+id="fix-fields".*?</form>', html, re.DOTALL).group(0)
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name is None or (kind and kind.group(1) == "radio" and "checked" not in tag):
            continue
        data[name.group(1)] = unescape(value.group(1)) if value else ""
    for select in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', select.group(2)) or re.search(
            r'<option value="([^"]*)" selected', select.group(2)
        )
        data[select.group(1)] = chosen.group(1) if chosen else ""
    return {**data, **changes}


# Each code opens its fields, and nothing else ----------------------------------------------------


@pytest.mark.parametrize("code", list(CODES))
def test_each_code_shows_only_its_fields(app, owner, owner_client, code):
    request_id = sent_back(app, owner, [code])

    page = owner_client.get(fix_url(request_id))

    assert page.status_code == 200
    opened = fields_for([code])
    expected = {path for path in opened if path not in ("numbers", "bill")}
    if "requested_date" in expected:
        expected.add("requested_date_choice")
    assert controls_of(page) == expected
    html = page.get_data(as_text=True)
    assert ('id="fix-numbers"' in html) == ("numbers" in opened)
    assert ('id="fix-bill"' in html) == ("bill" in opened)
    words = text_of(page)
    assert CODES[code].explanation in words
    assert NOTE in words


def test_two_codes_open_both_sets_of_fields_once(app, owner, owner_client):
    request_id = sent_back(app, owner, ["POSTAL_CODE_MISMATCH", "LOCATION_MISMATCH"])

    page = owner_client.get(fix_url(request_id))

    assert controls_of(page) == {
        f"service_address.{name}"
        for name in ("street_number", "street", "unit", "city", "state", "zip")
    }
    assert page.get_data(as_text=True).count('name="service_address.zip"') == 1


@pytest.mark.parametrize(
    "crafted",
    [
        {"billing.account_number": TYPO},
        {"billing.carrier": "Ohio Bell"},
        {"service_address.zip": "43215"},
        {"billing_address_same": ""},
        {"requested_date_choice": "date", "requested_date": "2031-03-04"},
    ],
)
def test_a_crafted_field_changes_nothing(app, owner, owner_client, crafted):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])
    before = fields_of(app, request_id)
    page = owner_client.get(fix_url(request_id))

    answer = owner_client.post(fix_url(request_id), data=fix_form(page, **crafted))

    assert answer.status_code == 400
    assert "which Carrier Relations did not ask you to change, so nothing was saved" in text_of(
        answer
    )
    assert fields_of(app, request_id) == before
    assert "corrected" not in kinds(app, request_id)


def test_a_field_no_form_holds_is_ignored(app, owner, owner_client):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])
    page = owner_client.get(fix_url(request_id))

    answer = owner_client.post(
        fix_url(request_id),
        data=fix_form(page, **{"billing.pin": "4471", "friendly_name": "Renamed", "status": "x"}),
    )

    assert answer.status_code == 302
    fields = fields_of(app, request_id)
    assert fields["billing"] == {**STORED["billing"], "pin": "4471"}
    assert fields["friendly_name"] == STORED["friendly_name"]
    assert status_of(app, request_id) == "action_required"


def test_saving_keeps_every_other_section_and_logs_it(app, owner, owner_client):
    request_id = sent_back(app, owner, ["LOCATION_MISMATCH"])
    page = owner_client.get(fix_url(request_id))

    answer = owner_client.post(
        fix_url(request_id),
        data=fix_form(page, **{"service_address.street_number": "1201"}),
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == fix_url(request_id) + "#fix-todo"
    fields = fields_of(app, request_id)
    assert fields["service_address"] == {**STORED["service_address"], "street_number": "1201"}
    for section in ("contact", "billing", "authorized", "partial_port"):
        assert fields[section] == STORED[section]
    with app.app_context():
        [event] = RequestEvent.select().where(
            (RequestEvent.port_request == request_id) & (RequestEvent.kind == "corrected")
        )
        assert event.message == "Corrected the street number."
        assert event.actor == "Ann Owner"


def test_a_page_left_open_keeps_what_another_tab_saved(app, owner, owner_client):
    request_id = sent_back(app, owner, ["LOCATION_MISMATCH"])
    first = owner_client.get(fix_url(request_id))
    second = owner_client.get(fix_url(request_id))
    owner_client.post(fix_url(request_id), data=fix_form(first, **{"service_address.unit": "B"}))

    owner_client.post(
        fix_url(request_id), data=fix_form(second, **{"service_address.street_number": "1201"})
    )

    address = fields_of(app, request_id)["service_address"]
    assert (address["unit"], address["street_number"]) == ("B", "1201")


# The wizard's rules and the bill, on the fields it opens ----------------------------------------


def test_saving_runs_the_rules_on_the_opened_fields(app, owner, owner_client):
    request_id = sent_back(app, owner, ["POSTAL_CODE_MISMATCH"])
    page = owner_client.get(fix_url(request_id))

    owner_client.post(fix_url(request_id), data=fix_form(page, **{"service_address.zip": "77002"}))
    page = owner_client.get(fix_url(request_id))

    html = page.get_data(as_text=True)
    slot = re.search(r'id="service_address-zip-problems">(.*?)</div>', html, re.S).group(1)
    assert "ZIP 77002" in slot and "TX" in slot
    answer = owner_client.post(f"/port-requests/{request_id}/resubmit")
    assert answer.status_code == 409
    assert "Nothing was resubmitted: fix the ZIP code" in text_of(answer)
    assert status_of(app, request_id) == "action_required"


def test_the_bill_comparison_warns_and_the_warning_is_confirmed_here(app, owner, owner_client):
    request_id = sent_back(app, owner, ["ACCOUNT_NUMBER_MISMATCH"])
    page = owner_client.get(fix_url(request_id))
    owner_client.post(fix_url(request_id), data=fix_form(page, **{"billing.account_number": TYPO}))

    page = owner_client.get(fix_url(request_id))
    [message] = re.findall(r'name="message" value="([^"]*)"', page.get_data(as_text=True))
    assert f"The account number {TYPO} is not on the bill" in unescape(message)
    slot = re.search(r'id="billing-account_number-problems">(.*?)</div>', page.get_data(True))
    assert unescape(message) in unescape(slot.group(1))

    confirmed = owner_client.post(
        f"/port-requests/{request_id}/warnings/confirm",
        data={
            "field": "billing.account_number",
            "code": "not_on_bill",
            "message": unescape(message),
            "back": "fix",
        },
    )

    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == fix_url(request_id) + "#fix-todo"
    assert "confirmed" in kinds(app, request_id)
    assert "I checked: it is right" not in text_of(owner_client.get(fix_url(request_id)))


def test_a_warning_outside_the_codes_cannot_be_confirmed(app, owner, owner_client):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])
    rewrite(app, request_id, billing={**STORED["billing"], "account_number": TYPO})
    page = owner_client.get(fix_url(request_id))
    [message] = re.findall(r"<li>.*?Account number:</strong> (.*?)</li>", page.get_data(True))
    assert "I checked" not in page.get_data(as_text=True)

    answer = owner_client.post(
        f"/port-requests/{request_id}/warnings/confirm",
        data={
            "field": "billing.account_number",
            "code": "not_on_bill",
            "message": unescape(message),
            "back": "fix",
        },
    )

    assert answer.status_code == 302
    assert "That warning changed since the page was loaded" in " ".join(
        flashes(owner_client.get(answer.headers["Location"]))
    )
    assert "confirmed" not in kinds(app, request_id)


def test_problems_outside_the_codes_are_shown_and_do_not_hold_it_back(app, owner, owner_client):
    request_id = sent_back(app, owner, ["OSP_IRRESPONSIVE"])
    rewrite(app, request_id, contact={**STORED["contact"], "email": "dana at harbor"})

    page = owner_client.get(fix_url(request_id))

    words = text_of(page)
    assert "Noticed elsewhere" in words
    assert "Contact's email: Enter the contact's email as a full address" in words
    assert "Nothing is left to fix" in words
    assert controls_of(page) == set()
    answer = owner_client.post(f"/port-requests/{request_id}/resubmit")
    assert answer.status_code == 302
    assert status_of(app, request_id) == "in_review"


def test_a_requested_date_gone_stale_is_opened_whatever_the_codes(app, owner, owner_client):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])
    rewrite(app, request_id, requested_date="2020-01-06")  # passed while the carrier looked
    with app.app_context():
        sign_loa(PortRequest.get_by_id(request_id), app.config["MAX_DOCUMENT_BYTES"])

    page = owner_client.get(fix_url(request_id))

    assert controls_of(page) == {"billing.pin", "requested_date_choice", "requested_date"}
    refused = owner_client.post(f"/port-requests/{request_id}/resubmit")
    assert "Nothing was resubmitted: fix the requested date first." in text_of(refused)
    loa_page = text_of(owner_client.get(f"/port-requests/{request_id}/loa"))
    assert "Fix the request first" in loa_page
    saved = owner_client.post(
        fix_url(request_id), data=fix_form(page, requested_date_choice="earliest")
    )
    assert saved.status_code == 302
    assert fields_of(app, request_id)["requested_date"] is None
    assert sign_here(owner_client, request_id).status_code == 302
    assert owner_client.post(f"/port-requests/{request_id}/resubmit").status_code == 302
    assert status_of(app, request_id) == "in_review"


# The LOA -----------------------------------------------------------------------------------------


def test_an_error_outside_the_codes_does_not_keep_the_new_loa_from_being_signed(
    app, owner, owner_client
):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])
    rewrite(app, request_id, contact={**STORED["contact"], "email": "dana at harbor"})
    page = owner_client.get(fix_url(request_id))
    owner_client.post(fix_url(request_id), data=fix_form(page, **{"billing.pin": "4417"}))

    # The PIN is on the LOA: it is signed again, though the contact's email (which the code does
    # not open, and Carrier Relations saw) is still wrong.
    assert "Fix the request first" not in text_of(
        owner_client.get(f"/port-requests/{request_id}/loa")
    )
    assert sign_here(owner_client, request_id).status_code == 302
    assert owner_client.post(f"/port-requests/{request_id}/resubmit").status_code == 302
    assert status_of(app, request_id) == "in_review"


def test_a_change_on_the_loa_wants_a_new_signature_before_resubmit(app, owner, owner_client):
    request_id = sent_back(app, owner, ["LOCATION_MISMATCH"])
    page = owner_client.get(fix_url(request_id))
    assert "A new LOA must be signed" not in text_of(page)
    owner_client.post(
        fix_url(request_id), data=fix_form(page, **{"service_address.street": "North High St"})
    )

    page = owner_client.get(fix_url(request_id))
    assert "A new LOA must be signed" in text_of(page)
    refused = owner_client.post(f"/port-requests/{request_id}/resubmit")
    assert refused.status_code == 409
    assert "Nothing was resubmitted: get the new LOA signed first." in text_of(refused)
    assert status_of(app, request_id) == "action_required"

    loa_page = owner_client.get(f"/port-requests/{request_id}/loa")
    assert loa_page.status_code == 200
    html = loa_page.get_data(as_text=True)
    assert 'id="wizard-steps"' not in html
    assert f'href="{fix_url(request_id)}#fix-loa"' in html
    signed = sign_here(owner_client, request_id)
    assert signed.status_code == 302
    assert "The new LOA is signed" in text_of(owner_client.get(f"/port-requests/{request_id}/loa"))

    answer = owner_client.post(f"/port-requests/{request_id}/resubmit")

    assert answer.status_code == 302
    assert status_of(app, request_id) == "in_review"


def test_the_loa_status_region_of_a_request_sent_back_carries_no_step_list(
    app, owner, owner_client, htmx
):
    request_id = sent_back(app, owner, ["AUTH_PERSON_MISMATCH"])

    answer = owner_client.get(f"/port-requests/{request_id}/loa/status", headers=htmx())

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="wizard-steps"' not in html
    assert 'id="loa-actions"' in html and "Back to the fix page" in html


def test_the_loa_step_is_closed_once_resubmitted(app, owner, owner_client):
    request_id = sent_back(app, owner, ["OTHER"])
    owner_client.post(f"/port-requests/{request_id}/resubmit")

    for suffix in ("", ".pdf", "/status"):
        answer = owner_client.get(f"/port-requests/{request_id}/loa{suffix}")
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/port-requests/{request_id}"
    assert sign_here(owner_client, request_id).status_code == 302
    with app.app_context():
        assert Document.select().where(Document.kind == "signed_loa").count() == 1


# Resubmit ----------------------------------------------------------------------------------------


def test_resubmit_moves_to_in_review_tells_staff_and_the_webhooks(app, owner, staff, owner_client):
    request_id = sent_back(app, owner, ["OTHER"])
    with app.app_context():
        Webhook.create(account=owner.account_id, url="https://hooks.example.com/p", secret="s")
        PortNumber.update(status="rejected", reason="Not on the account").where(
            (PortNumber.port_request == request_id) & (PortNumber.e164 == SECOND_E164)
        ).execute()
        emails_before = OutboxEmail.select().count()

    answer = owner_client.post(f"/port-requests/{request_id}/resubmit")

    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/port-requests/{request_id}"
    assert "Resubmitted: Carrier Relations have the corrected request" in " ".join(
        flashes(owner_client.get(answer.headers["Location"]))
    )
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        assert port_request.status == "in_review"
        assert port_request.status_changed_at > port_request.submitted_at
        statuses = {row.e164: (row.status, row.reason) for row in port_request.numbers()}
        assert statuses == {
            "+16143221001": ("in_review", None),
            SECOND_E164: ("rejected", "Not on the account"),
        }
        [event] = RequestEvent.select().where(
            (RequestEvent.port_request == request_id) & (RequestEvent.kind == "resubmitted")
        )
        assert event.actor == "Ann Owner" and "after the correction" in event.message
        [email] = OutboxEmail.select().order_by(OutboxEmail.id.desc()).limit(1)
        assert OutboxEmail.select().count() == emails_before + 1
        assert email.to_address == STAFF_EMAIL and email.purpose == "request_resubmitted"
        assert "Ann Owner corrected port request" in email.text_body
        assert f"/staff/requests/{request_id}" in email.text_body
        [delivery] = WebhookDelivery.select()
        body = json.loads(delivery.body)
        assert body["type"] == "port_request.status_changed"
        assert body["data"] == {
            "port_request_id": request_id,
            "status": "in_review",
            "previous_status": "action_required",
        }


def test_the_staff_email_lists_what_the_owner_changed(app, owner, staff, owner_client):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])
    page = owner_client.get(fix_url(request_id))
    owner_client.post(fix_url(request_id), data=fix_form(page, **{"billing.pin": "4471"}))
    sign_here(owner_client, request_id)

    owner_client.post(f"/port-requests/{request_id}/resubmit")

    with app.app_context():
        email = OutboxEmail.get(OutboxEmail.purpose == "request_resubmitted")
    assert "PIN or passcode is wrong" in email.text_body
    assert "- Corrected the account PIN." in email.text_body
    assert "- Signed the LOA as Dana Reyes" in email.text_body


@pytest.mark.parametrize("status", ["submitted", "in_review", "foc_scheduled", "rejected"])
def test_resubmit_is_refused_unless_sent_back(app, owner, owner_client, status):
    request_id = submitted(app, owner)
    with app.app_context():
        PortRequest.update(status=status).where(PortRequest.id == request_id).execute()

    answer = owner_client.post(f"/port-requests/{request_id}/resubmit")

    assert answer.status_code == 302
    words = " ".join(flashes(owner_client.get(answer.headers["Location"])))
    assert "“Resubmit” is not possible" in words and "Nothing was changed." in words
    assert status_of(app, request_id) == status
    assert "resubmitted" not in kinds(app, request_id)


@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "completed"])
def test_the_fix_page_is_only_for_a_request_sent_back(app, owner, owner_client, status):
    request_id = submitted(app, owner)
    with app.app_context():
        PortRequest.update(status=status).where(PortRequest.id == request_id).execute()

    for method, suffix in (("get", ""), ("post", ""), ("post", "/numbers"), ("post", "/bill")):
        answer = getattr(owner_client, method)(fix_url(request_id, suffix))
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/port-requests/{request_id}"


def test_another_accounts_request_is_not_found(app, owner, other_owner, owner_client):
    theirs = sent_back(app, other_owner, ["LOCATION_MISMATCH"], numbers=["(614) 322-1009"])

    for method, suffix in (("get", "/fix"), ("post", "/fix"), ("post", "/resubmit")):
        answer = getattr(owner_client, method)(f"/port-requests/{theirs}{suffix}")
        assert answer.status_code == 404
    assert status_of(app, theirs) == "action_required"


@pytest.fixture
def race_app(database_url, tmp_path):
    """The app with a connection for each racer."""
    return create_app(make_config(database_url, tmp_path / "race", DB_POOL_SIZE=8))


def test_two_resubmits_at_once_one_wins(race_app, owner, staff):
    app = race_app  # the same database as `owner`'s app, with a connection for each racer
    request_id = sent_back(app, owner, ["OTHER"])

    def resubmit():
        with app.app_context():
            try:
                operations.resubmit(
                    Account.get_by_id(owner.account_id),
                    request_id,
                    user=User.get_by_id(owner.id),
                    ip="198.51.100.7",
                    today=today(),
                    lead_business_days=7,
                )
            except TransitionRefused as refused:
                return refused.message
            return "resubmitted"

    answers = at_once(resubmit, resubmit)

    assert sorted(answers, key=len) == [
        "resubmitted",
        "“Resubmit” is not possible: the request is in review now, and this can only be done "
        "while it is action required. Nothing was changed.",
    ]
    assert kinds(app, request_id).count("resubmitted") == 1
    with app.app_context():
        emails = OutboxEmail.select().where(OutboxEmail.purpose == "request_resubmitted")
        assert emails.count() == 1
    assert status_of(app, request_id) == "in_review"


# Numbers and the bill ----------------------------------------------------------------------------


def number_ids(app, request_id):
    with app.app_context():
        return {row.e164: row.id for row in PortRequest.get_by_id(request_id).numbers()}


def test_taking_a_number_out_releases_it(app, owner, owner_client):
    request_id = sent_back(app, owner, ["PHONE_NUMBER_NOT_PORTABLE"])
    with app.app_context():
        ReceivingReroute.create(
            port_request=request_id, receiving_number=SECOND_E164, tracking_number=None
        )
    ids = number_ids(app, request_id)

    answer = owner_client.post(fix_url(request_id, "/numbers"), data={"remove": ids[SECOND_E164]})

    assert answer.status_code == 302
    assert answer.headers["Location"] == fix_url(request_id) + "#fix-loa"
    assert list(number_ids(app, request_id)) == ["+16143221001"]
    with app.app_context():
        claims = [claim.number for claim in NumberClaim.select()]
        assert claims == ["+16143221001"]
        assert ReceivingReroute.select().count() == 0
        [event] = RequestEvent.select().where(RequestEvent.kind == "numbers_removed")
        assert event.message == f"Took 1 number out of the request: {SECOND}."
    page = owner_client.get(fix_url(request_id))
    assert "A new LOA must be signed" in text_of(page)


@pytest.mark.parametrize(
    ("codes", "remove", "refusal"),
    [
        (["PHONE_NUMBER_NOT_PORTABLE"], "both", "At least one number must stay in the request"),
        (
            ["PHONE_NUMBER_NOT_PORTABLE"],
            "none",
            "Tick the numbers to take out of the request, or type them: none was chosen.",
        ),
        (
            ["PHONE_NUMBER_NOT_PORTABLE"],
            "foreign",
            "Tick the numbers to take out of the request, or type them: none was chosen.",
        ),
        (
            ["PHONE_NUMBER_NOT_PORTABLE"],
            "junk",
            "Tick the numbers to take out of the request, or type them: none was chosen.",
        ),
        (["LOCATION_MISMATCH"], "one", "did not ask for numbers to be taken out"),
    ],
)
def test_taking_numbers_out_is_refused(
    app, owner, other_owner, owner_client, codes, remove, refusal
):
    request_id = sent_back(app, owner, codes)
    theirs = submitted(app, other_owner, numbers=["(614) 322-1009"])
    ids = number_ids(app, request_id)
    sent = {
        "both": list(ids.values()),
        "none": [],
        "foreign": list(number_ids(app, theirs).values()),
        "junk": ["x", "-1", "9" * 40],
        "one": [ids[SECOND_E164]],
    }[remove]

    answer = owner_client.post(fix_url(request_id, "/numbers"), data={"remove": sent})

    assert answer.status_code == 302
    assert refusal in " ".join(flashes(owner_client.get(answer.headers["Location"])))
    assert number_ids(app, request_id) == ids
    with app.app_context():
        assert NumberClaim.select().count() == 3


def test_typed_numbers_are_taken_out_in_any_format(app, owner, owner_client):
    request_id = sent_back(
        app, owner, ["PHONE_NUMBER_HAS_SPECIAL_FEATURE"], numbers=[SHARED, SECOND, THIRD]
    )

    answer = owner_client.post(
        fix_url(request_id, "/numbers"), data={"typed": "614.322.1002,\n+1 (614) 322 1003\n"}
    )

    assert answer.status_code == 302
    assert list(number_ids(app, request_id)) == ["+16143221001"]
    with app.app_context():
        [event] = RequestEvent.select().where(RequestEvent.kind == "numbers_removed")
        assert event.message == f"Took 2 numbers out of the request: {SECOND}, {THIRD}."


@pytest.mark.parametrize(
    ("typed", "refusal"),
    [
        ("(614) 322-1009", "(614) 322-1009 is not in this request, so nothing was removed"),
        (
            "614 322 1002\nnot a number at all, really",
            "“not a number at all” (line 2, number 1): Not a phone number. Nothing was removed.",
        ),
        ("x" * 500, "“" + "x" * 40 + "…” (line 1): "),
    ],
)
def test_a_typed_number_not_in_the_request_removes_nothing(
    app, owner, owner_client, typed, refusal
):
    request_id = sent_back(
        app, owner, ["PHONE_NUMBER_NOT_PORTABLE"], numbers=[SHARED, SECOND, THIRD]
    )
    ids = number_ids(app, request_id)

    answer = owner_client.post(fix_url(request_id, "/numbers"), data={"typed": typed})

    assert refusal in " ".join(flashes(owner_client.get(answer.headers["Location"])))
    assert number_ids(app, request_id) == ids


def test_a_long_request_lists_the_numbers_to_look_at_first(app, owner, owner_client):
    numbers = many(120)
    request_id = sent_back(app, owner, ["PHONE_NUMBER_NOT_PORTABLE"], numbers=numbers)
    with app.app_context():
        last = PortRequest.get_by_id(request_id).numbers()[-1]
        last.status, last.reason = "rejected", "Has a pending order"
        last.save()

    page = owner_client.get(fix_url(request_id))

    html = page.get_data(as_text=True)
    assert html.count('name="remove"') == 100
    assert f'value="{last.id}"' in html and "Has a pending order" in html
    assert "100 of its 120 numbers are listed" in text_of(page)


def upload_bill(client, request_id, data=None):
    return client.post(
        fix_url(request_id, "/bill"),
        data={
            "file": (io.BytesIO(data or bill_pdf()), "newer-bill.pdf"),
            "statement_date": today().isoformat(),
        },
        content_type="multipart/form-data",
    )


def test_a_newer_bill_is_stored_when_the_codes_ask_for_it(app, owner, owner_client):
    request_id = sent_back(app, owner, ["ENTITY_NAME_MISMATCH"])

    answer = upload_bill(owner_client, request_id)

    assert answer.status_code == 302
    with app.app_context():
        bills = list(Document.select().where(Document.kind == "bill").order_by(Document.id))
        assert [bill.label for bill in bills] == ["harbor-bill.pdf", "newer-bill.pdf"]
        assert bills[0].replaced_at is not None
    assert "document" in kinds(app, request_id)


def test_a_bill_is_refused_when_the_codes_do_not_ask_for_one(app, owner, owner_client):
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])

    answer = upload_bill(owner_client, request_id)

    assert answer.status_code == 302
    assert "did not ask for a newer bill" in " ".join(
        flashes(owner_client.get(answer.headers["Location"]))
    )
    with app.app_context():
        assert Document.select().where(Document.kind == "bill").count() == 1


def test_a_file_that_is_no_bill_is_named_in_the_page(app, owner, owner_client):
    request_id = sent_back(app, owner, ["ENTITY_NAME_MISMATCH"])

    answer = upload_bill(owner_client, request_id, b"MZ\x90\x00 not a bill")

    assert answer.status_code == 400
    assert "The bill was not stored" in text_of(answer)
    with app.app_context():
        assert Document.select().where(Document.kind == "bill").count() == 1


def test_a_field_that_passes_our_rules_is_not_called_fixed(app, owner, owner_client):
    # The carrier says the PIN is wrong; our rules cannot know that, so the page must not tell the
    # owner that nothing is left to fix before they have changed it.
    request_id = sent_back(app, owner, ["PASSCODE_PIN_INVALID"])

    words = text_of(owner_client.get(fix_url(request_id)))

    assert "Nothing is left to fix" not in words
    assert "Correct what the carrier flagged in the form below, then resubmit" in words
