"""Who may do what, over every route the app has (from `app.url_map`): a visitor, the owner of
account A, the owner of account B, staff, and a responsible party holding a signing link of A's
request or of B's. Each identity asks with GET and with POST (where the route takes it) for A's
objects, and gets exactly one of: let in, sent to sign in, 403 or 404; an API route answers 401
without its key, and B's key finds nothing of A's. A route the table does not list fails the test.

"Let in" is any answer a person allowed there can get from an empty form (200, a redirect that is
not to sign-in, 400, 409, 413, 422): the page's own tests check what each says.
"""

import io
import json
import re

import pytest
from pypdf import PdfReader

from portal import documents
from portal.models import (
    Account,
    ApiKey,
    Document,
    FaxTicket,
    OutboxEmail,
    PortNumber,
    PortRequest,
    Webhook,
    WebhookDelivery,
)
from portal.port_requests import signatures
from tests.conftest import OTHER_OWNER_EMAIL, OWNER_EMAIL, STAFF_EMAIL, login
from tests.test_fix_loop import send_back, submitted
from tests.test_submit import make_submittable

ANON, OWNER_A, OWNER_B, STAFF = "visitor", "owner A", "owner B", "staff"
PEOPLE = (ANON, OWNER_A, OWNER_B, STAFF)
LET_IN = {200, 204, 302, 400, 409, 413, 422}
# How each kind of route answers each person asking for account A's things.
KINDS = {
    # Anyone: the sign-in and reset pages, verifying a packet, static files.
    "public": {ANON: "in", OWNER_A: "in", OWNER_B: "in", STAFF: "in"},
    # A's own: its owner only; another owner is told it does not exist; staff have no owner pages.
    "owner": {ANON: "login", OWNER_A: "in", OWNER_B: 404, STAFF: 403},
    # An owner's page of their own account (no id of A's in it): each owner gets theirs.
    "own page": {ANON: "login", OWNER_A: "in", OWNER_B: "in", STAFF: 403},
    # A's documents: its owner, and staff who work every request.
    "owner or staff": {ANON: "login", OWNER_A: "in", OWNER_B: 404, STAFF: "in"},
    # Every signed-in person has it (settings, the check page, the accounts list).
    "signed in": {ANON: "login", OWNER_A: "in", OWNER_B: "in", STAFF: "in"},
    # An account's page: its owner and staff; another owner is told it does not exist.
    "account": {ANON: "login", OWNER_A: "in", OWNER_B: 404, STAFF: "in"},
    # A link of one purpose (signing) used for another (a password reset): nobody gets in.
    "wrong token": {ANON: 404, OWNER_A: 404, OWNER_B: 404, STAFF: 404},
    # The console: staff; an owner gets the 404 of a page that does not exist.
    "staff": {ANON: "login", OWNER_A: 404, OWNER_B: 404, STAFF: "in"},
    # Staff pages that are not the console's (the outbox): 403 for owners.
    "staff page": {ANON: "login", OWNER_A: 403, OWNER_B: 403, STAFF: "in"},
    # The JSON API: a key, never a session.
    "api": {ANON: 401, OWNER_A: 401, OWNER_B: 401, STAFF: 401},
    # The signer's pages: the link is the key, whoever is signed in.
    "signing": {ANON: "in", OWNER_A: "in", OWNER_B: "in", STAFF: "in"},
}
ROUTES = {
    "static": "public",
    "pages.home": "signed in",
    "auth.login": "public",
    "auth.logout": "public",
    "password_reset.forgot": "public",
    "password_reset.reset": "wrong token",
    "packets.verify": "public",
    "packets.certificate": "public",
    "accounts.index": "signed in",
    "accounts.show": "account",
    "checks.check": "signed in",
    "checks.reference_download": "signed in",
    "checks.results_download": "signed in",
    "checks.template_download": "signed in",
    "settings.index": "signed in",
    "settings.change_password": "signed in",
    "settings.create_api_key": "own page",
    "settings.revoke_api_key": "owner",
    "webhooks.index": "own page",
    "webhooks.create": "own page",
    "webhooks.delete": "owner",
    "webhooks.delivery": "owner",
    "webhooks.send_again": "owner",
    "fax.new": "own page",
    "fax.show": "owner or staff",
    "fax.document": "owner or staff",
    "port_requests.index": "own page",
    "port_requests.new": "own page",
    "port_requests.document": "owner or staff",
    "port_requests.document_preview": "owner or staff",
    "outbox.index": "staff page",
    "outbox.show": "staff page",
    "outbox.html_part": "staff page",
    "outbox.send_again": "staff page",
    "queue.index": "staff",
    "queue.export": "staff",
    "staff.request": "staff",
    "staff.comment": "staff",
    "staff.move": "staff",
    "staff.reject_number": "staff",
    "packets.download": "staff",
    "signing.page": "signing",
    "signing.sign": "signing",
    "signing.decline": "signing",
    "signing.document": "signing",
    "signing.new_link": "signing",
    "signing.opened": "signing",
}
# What deletes or ends A's things is asked last, and by A last: the rows before need them.
LAST = (
    "port_requests.cancel",
    "port_requests.delete",
    "webhooks.delete",
    "settings.revoke_api_key",
)
ASKING_ORDER = (ANON, OWNER_B, STAFF, OWNER_A)
# Every other port_requests.* route is A's own; every api.* route wants a key.
SENT_BACK = {"port_requests.fix", "port_requests.fix_bill", "port_requests.fix_numbers"}


def asking_order(rule):
    """The signer's pages first (a saved draft voids its link; a new link kills the old one, so
    it comes last of them), then the rest by path, then what deletes."""
    signing = rule.endpoint.startswith("signing.")
    return (rule.endpoint in LAST, not signing, rule.endpoint == "signing.new_link", rule.rule)


def kind_of(endpoint):
    if endpoint in ROUTES:
        return ROUTES[endpoint]
    if endpoint.startswith("api."):
        return "api"
    if endpoint.startswith("port_requests."):
        return "owner"
    return None


@pytest.fixture
def world(app, owner, other_owner, staff):
    """A's things: a draft with a bill, a request sent back, a fax ticket, an email, a webhook and
    a delivery, an API key; the signing links of A's draft and of B's."""
    draft = make_submittable(app, owner.account_id, created_by=owner, loa=False)
    theirs = make_submittable(
        app, other_owner.account_id, created_by=other_owner, loa=False, numbers=["(614) 322-1077"]
    )
    sent = submitted(app, owner, numbers=["(614) 322-1055"])
    send_back(app, sent, ["PASSCODE_PIN_INVALID"])
    with app.test_request_context():
        bill = Document.get(Document.port_request == draft)
        ticket = FaxTicket.create(
            account=owner.account_id, title="Fax", numbers=json.dumps(["+16143221099"])
        )
        proof = documents.store(
            account=Account.get_by_id(owner.account_id),
            kind="fax_proof",
            data=bill_bytes(bill),
            label="proof.pdf",
            user=owner,
            max_bytes=app.config["MAX_DOCUMENT_BYTES"],
            fax_ticket=ticket,
        )
        links = {}
        for request_id, person in ((draft, owner), (theirs, other_owner)):
            envelope = signatures.send_for_signature(
                PortRequest.get_by_id(request_id),
                person,
                name=(fields := envelope_fields(request_id))["name"],
                email=fields["email"],
                message="",
                ip="203.0.113.1",
                user_agent="tests",
            )
            links[person.email] = signatures.signing_link(envelope).rsplit("/sign/", 1)[1]
        hook = Webhook.create(
            account=owner.account_id, url="https://hooks.example.com/", secret="s"
        )
        delivery = WebhookDelivery.create(
            webhook=hook, event_id="evt_1", event="port_request.status_changed", body="{}"
        )
        email = OutboxEmail.select().first()
        key = ApiKey.select().first() or ApiKey.issue(owner.account_id, name="tests")[0]
        number = PortNumber.get(PortNumber.port_request == sent)
    return {
        "draft": draft,
        "sent": sent,
        "document_id": bill.id,
        "ticket_id": ticket.id,
        "fax_document_id": proof.id,
        "email_id": email.id,
        "key_id": key.id,
        "webhook_id": hook.id,
        "delivery_id": delivery.id,
        "number_id": number.id,
        "account_id": owner.account_id,
        "token": links[OWNER_EMAIL],
        "their_token": links[OTHER_OWNER_EMAIL],
    }


def bill_bytes(document):
    return documents.read(document)


def envelope_fields(request_id):
    return PortRequest.get_by_id(request_id).fields["authorized"]


def url_for_rule(rule, world):
    """Fill the rule's arguments with A's things (the right request for the route)."""
    console = rule.endpoint.startswith("staff.") or rule.endpoint == "packets.download"
    fax = rule.endpoint == "fax.document"
    values = {
        "request_id": world["sent"] if rule.endpoint in SENT_BACK or console else world["draft"],
        "document_id": world["fax_document_id"] if fax else world["document_id"],
        "ticket_id": world["ticket_id"],
        "email_id": world["email_id"],
        "key_id": world["key_id"],
        "webhook_id": world["webhook_id"],
        "delivery_id": world["delivery_id"],
        "number_id": world["number_id"],
        "account_id": world["account_id"],
        "token": world["token"],
        "name": "start_review",
        "filename": "css/portdesk.css",
    }
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{name}>", str(values[name]), path)
    return path


def clients(app):
    made = {}
    emails = {ANON: None, OWNER_A: OWNER_EMAIL, OWNER_B: OTHER_OWNER_EMAIL, STAFF: STAFF_EMAIL}
    for person, email in emails.items():
        client = app.test_client()
        if email:
            assert login(client, email).status_code == 302
        made[person] = client
    return made


def outcome(response):
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return "login"
    if response.status_code in (401, 403, 404):
        return response.status_code
    if response.status_code in LET_IN:
        return "in"
    return response.status_code


def test_every_route_is_in_the_table(app):
    unlisted = sorted(
        rule.endpoint for rule in app.url_map.iter_rules() if kind_of(rule.endpoint) is None
    )
    assert unlisted == []


def test_each_person_gets_what_the_table_says_on_every_route(app, world):
    app.config["WTF_CSRF_ENABLED"] = False  # the forms' own tests check the token
    asking = clients(app)
    wrong = []
    rules = sorted(app.url_map.iter_rules(), key=asking_order)
    for rule in rules:
        path = url_for_rule(rule, world)
        expected = KINDS[kind_of(rule.endpoint)]
        for method in sorted(rule.methods & {"GET", "POST", "PATCH", "DELETE"}):
            if rule.endpoint == "auth.logout":
                continue  # signing out would end the session the next rows use
            for person in ASKING_ORDER:
                with asking[person].open(path, method=method) as answer:
                    got = outcome(answer)
                if got != expected[person]:
                    wrong.append(f"{method} {path} as {person}: {got}, not {expected[person]}")
    assert wrong == [], "\n".join(wrong)


def test_another_accounts_key_finds_nothing_of_a(app, world, other_owner):
    with app.app_context():
        _, theirs = ApiKey.issue(other_owner.account_id, name="B")
        _, mine = ApiKey.issue(world["account_id"], name="A")
    client = app.test_client()
    request_url = f"/api/v1/port-requests/{world['draft']}"
    for key, status in ((theirs, 404), (mine, 200)):
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get(request_url, headers=headers).status_code == status
        assert client.get(f"{request_url}/documents", headers=headers).status_code == status


def test_a_signing_link_opens_only_its_own_envelope(app, world):
    client = app.test_client()
    assert client.get(f"/sign/{world['token']}").status_code == 200
    # B's link shows B's LOA (its number), never A's.
    with client.get(f"/sign/{world['their_token']}/document.pdf") as answer:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    assert "322-1077" in text and "322-1001" not in text
    # Change the signature's first character: its last one carries padding bits.
    head, signature = world["token"].rsplit(".", 1)
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert client.get(f"/sign/{forged}").status_code in (404, 410)
