"""The owner's Webhooks page: registering a URL (its secret shown once), refusals in the page,
deleting, each delivery with its attempts, "send again", and who may see any of it."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest

from portal import webhook_delivery, webhooks
from portal.models import Webhook, WebhookAttempt, WebhookDelivery, utcnow
from tests.conftest import login
from tests.test_submit import flashes, text_of
from tests.test_webhooks import (  # noqa: F401  (fixtures)
    PUBLIC,
    dns,
    emit,
    receivers,
    register,
    submitted,
    verify,
)

URL = "/settings/webhooks/"


def add(client, url):
    return client.post(URL, data={"webhook-url": url})


def shown_secret(response):
    found = re.search(r'id="new-secret"[^>]*value="(whsec_[0-9a-f]+)"', response.get_data(True))
    return found and found[1]


def field_error(response):
    found = re.search(r'<p class="field__error" id="webhook-url-error">(.*?)</p>', response.text)
    return found and " ".join(unescape(found[1]).split())


@pytest.fixture
def public_dns(dns):  # noqa: F811
    dns["hooks.example.com"] = [PUBLIC]
    return dns


@pytest.fixture
def delivered(app, owner, public_dns):
    """Three deliveries of the owner's account: sent, failing (queued for a retry), failed."""
    hook_id, _ = register(app, 4242, "https://hooks.example.com/acme-events", allow_private=False)
    port_request = submitted(app, owner)
    events = [
        emit(app, port_request, status="in_review", previous_status="submitted"),
        emit(app, port_request, "port_request.foc_scheduled", foc_date="2027-01-12"),
        emit(app, port_request, "port_number.rejected", phone_number="+16143221001"),
    ]
    now = utcnow()
    with app.app_context():
        rows = {row.event_id: row for row in WebhookDelivery.select()}
        sent, retrying, failed = (rows[event] for event in events)
        WebhookDelivery.update(status="sent", attempts=1, sent_at=now).where(
            WebhookDelivery.id == sent.id
        ).execute()
        WebhookDelivery.update(
            attempts=2,
            last_error="HTTP 500 Internal Server Error: database down",
            next_attempt_at=now + timedelta(minutes=2),
        ).where(WebhookDelivery.id == retrying.id).execute()
        WebhookDelivery.update(
            status="failed", attempts=26, last_error="ConnectionRefusedError: refused"
        ).where(WebhookDelivery.id == failed.id).execute()
        WebhookAttempt.create(
            delivery=retrying.id, status_code=None, error="timed out", duration_ms=1
        )
        WebhookAttempt.create(
            delivery=retrying.id,
            status_code=500,
            error="HTTP 500 Internal Server Error: database down",
            duration_ms=1234,
            at=now + timedelta(seconds=1),
        )
    return {
        "hook": hook_id,
        "request": port_request.id,
        "sent": sent.id,
        "retrying": retrying.id,
        "failed": failed.id,
    }


def status_of(app, delivery_id):
    with app.app_context():
        row = WebhookDelivery.get_by_id(delivery_id)
        return row.status, row.attempts


# The page and registering -------------------------------------------------------------------


def test_settings_link_to_the_webhooks_page_for_owners_only(owner_client, staff_client):
    assert f'href="{URL}"' in owner_client.get("/settings/").text
    assert f'href="{URL}"' not in staff_client.get("/settings/").text


def test_an_empty_page_explains_what_is_sent_and_has_a_labelled_form(owner_client):
    response = owner_client.get(URL)
    text = text_of(response)
    assert response.status_code == 200
    assert "No webhook yet: add the URL your system listens on." in text
    assert "Nothing sent yet." in text
    for event in webhooks.EVENTS:
        assert event in text
    assert "X-PortDesk-Signature: t=<unix time>,v1=<signature>" in text
    assert '<label for="webhook-url">URL</label>' in response.text
    assert 'aria-describedby="webhook-url-hint"' in response.text


def test_a_registered_url_shows_its_secret_once(app, owner, owner_client, public_dns):
    response = add(owner_client, "  https://hooks.example.com/portdesk  ")

    assert response.status_code == 201
    secret = shown_secret(response)
    assert "Your webhook to https://hooks.example.com/portdesk is registered" in text_of(response)
    assert "Copy its signing secret now: it is shown only this once." in text_of(response)
    with app.app_context():
        (hook,) = Webhook.select()
        assert (hook.account_id, hook.url, hook.secret, hook.created_by_id) == (
            4242,
            "https://hooks.example.com/portdesk",
            secret,
            owner.id,
        )
    again = owner_client.get(URL)
    assert shown_secret(again) is None
    assert secret not in again.text
    assert "https://hooks.example.com/portdesk" in text_of(again)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("", "Enter the URL your system listens on."),
        ("http://hooks.example.com/", "Use an https:// URL: events carry your requests' details"),
        ("https://10.1.2.3/", "10.1.2.3 is a private address: webhooks go only to public"),
        ("https://localhost.example.com/", "resolves to 127.0.0.1, a loopback address"),
        ("https://nowhere.example.com/", "nowhere.example.com could not be found (DNS)"),
        ("https://ann:pw@hooks.example.com/", "Leave the user name and password out of the URL"),
    ],
)
def test_a_refused_url_says_why_in_the_page_and_stores_nothing(
    app, owner_client, public_dns, url, error
):
    public_dns["localhost.example.com"] = ["127.0.0.1"]
    response = add(owner_client, url)

    assert response.status_code == 400
    assert error in field_error(response)
    assert 'aria-invalid="true"' in response.text
    assert "The webhook was not added:" in response.text
    assert shown_secret(response) is None
    with app.app_context():
        assert Webhook.select().count() == 0


def test_a_private_address_is_allowed_by_the_setting(app, owner_client):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert add(owner_client, "http://127.0.0.1:8080/hooks").status_code == 201


def test_a_url_registered_twice_is_refused(owner_client, public_dns):
    add(owner_client, "https://hooks.example.com/portdesk")
    response = add(owner_client, "https://hooks.example.com/portdesk")
    assert response.status_code == 400
    assert field_error(response) == "This URL is registered already: its events go there."


def test_deleting_a_webhook_removes_its_deliveries(app, owner_client, public_dns, delivered):
    response = owner_client.post(f"{URL}{delivered['hook']}/delete")

    assert response.status_code == 302
    page = owner_client.get(URL)
    assert flashes(page)[-1] == (
        "Deleted the webhook to https://hooks.example.com/acme-events: it hears of no more events."
    )
    assert "No webhook yet" in text_of(page)
    with app.app_context():
        assert Webhook.select().count() == WebhookDelivery.select().count() == 0
        assert WebhookAttempt.select().count() == 0


# Deliveries ---------------------------------------------------------------------------------


def test_the_page_lists_each_delivery_with_its_status_attempts_and_error(
    owner_client, public_dns, delivered
):
    response = owner_client.get(URL)
    text = text_of(response)

    assert "All 3 Queued 1 Sending 0 Sent 1 Failed 1" in text
    rows = re.findall(r"<tr>\s*(<td data-label=\"Event\".*?)</tr>", response.text, re.S)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    # Newest first.
    to = "to https://hooks.example.com/acme-events"
    assert cells[0].startswith(
        f"Number rejected {to} Request {delivered['request']} Failed 26 "
        "ConnectionRefusedError: refused"
    )
    assert cells[1].startswith(
        f"FOC scheduled {to} Request {delivered['request']} Queued retry after"
    )
    assert "2 HTTP 500 Internal Server Error: database down" in cells[1]
    assert cells[2].startswith(f"Status changed {to} Request")
    assert " Sent 1 " in cells[2]
    assert f'href="/port-requests/{delivered["request"]}"' in response.text
    assert response.text.count("Send again</button>") == 3


def test_the_list_filters_by_status_and_says_so_for_an_unknown_one(owner_client, delivered):
    failed = text_of(owner_client.get(URL + "?status=failed"))
    assert "Number rejected" in failed and "FOC scheduled" not in failed

    unknown = text_of(owner_client.get(URL + "?status=lost"))
    assert 'There is no status "lost": showing every delivery.' in unknown
    assert "Number rejected" in unknown and "FOC scheduled" in unknown


def test_a_delivery_shows_every_attempt_and_the_body(app, owner_client, delivered):
    response = owner_client.get(f"{URL}deliveries/{delivered['retrying']}")
    text = text_of(response)

    assert response.status_code == 200
    assert "FOC scheduled" in text and "Status: Queued" in text
    assert "Attempts 2" in text
    attempts = re.findall(r'<td data-label="Answer">(.*?)</td>', response.text)
    assert attempts == ["HTTP 500", "none"]  # newest first
    assert "1,234 ms" in text and "timed out" in text
    with app.app_context():
        body = json.loads(WebhookDelivery.get_by_id(delivered["retrying"]).body)
    assert body["data"] == {"port_request_id": delivered["request"], "foc_date": "2027-01-12"}
    assert '"foc_date": "2027-01-12"' in text


def test_send_again_queues_a_failed_delivery_now_with_its_retries_started_over(
    app, owner_client, delivered
):
    response = owner_client.post(f"{URL}deliveries/{delivered['failed']}/send-again")

    assert response.headers["Location"] == f"{URL}deliveries/{delivered['failed']}"
    assert status_of(app, delivered["failed"]) == ("queued", 0)
    page = owner_client.get(response.headers["Location"])
    assert flashes(page)[-1].startswith(
        "Queued to go again to https://hooks.example.com/acme-events."
    )

    from_list = owner_client.post(
        f"{URL}deliveries/{delivered['sent']}/send-again", data={"back": "list"}
    )
    assert from_list.headers["Location"] == URL
    assert status_of(app, delivered["sent"]) == ("queued", 0)


def test_send_again_leaves_a_delivery_being_sent_alone(app, owner_client, delivered):
    with app.app_context():
        WebhookDelivery.update(status="sending", lease_until=utcnow()).where(
            WebhookDelivery.id == delivered["retrying"]
        ).execute()

    response = owner_client.post(
        f"{URL}deliveries/{delivered['retrying']}/send-again", follow_redirects=True
    )

    assert flashes(response)[-1] == (
        "Not queued again: it is being sent right now. Reload to see how it went."
    )
    assert "Send again now" not in response.text
    assert status_of(app, delivered["retrying"]) == ("sending", 2)


def test_send_again_goes_out_right_after_the_request(app, owner, owner_client, receivers):  # noqa: F811
    app.config.update(OUTBOX_SEND_AFTER_COMMIT=True, WEBHOOK_ALLOW_PRIVATE=True)
    receiver = receivers()
    hook_id, secret = register(app, 4242, receiver.url())
    emit(app, submitted(app, owner))
    with app.app_context():
        (row,) = WebhookDelivery.select()
        WebhookDelivery.update(status="failed", attempts=26).execute()

    owner_client.post(f"{URL}deliveries/{row.id}/send-again")

    assert webhook_delivery.wait_for_senders()
    (hit,) = receiver.wait_for(1)
    assert verify(secret, hit["headers"]["X-PortDesk-Signature"], hit["body"])
    assert status_of(app, row.id) == ("sent", 1)
    page = owner_client.get(f"{URL}deliveries/{row.id}")
    assert '<span class="outbox-status outbox-status--sent">Sent</span>' in page.text


# Who may --------------------------------------------------------------------------------


def others_urls(delivered):
    return [
        ("get", f"{URL}deliveries/{delivered['sent']}"),
        ("post", f"{URL}deliveries/{delivered['sent']}/send-again"),
        ("post", f"{URL}{delivered['hook']}/delete"),
    ]


def test_another_accounts_owner_gets_404_and_changes_nothing(app, other_owner, delivered):
    client = app.test_client()
    login(client, "owner@globex.test")
    for method, url in others_urls(delivered):
        assert getattr(client, method)(url).status_code == 404, url
    assert "acme-events" not in client.get(URL).text
    assert status_of(app, delivered["sent"]) == ("sent", 1)
    with app.app_context():
        assert Webhook.select().count() == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", URL),
        ("post", URL),
        ("get", URL + "deliveries/1"),
        ("post", URL + "deliveries/1/send-again"),
        ("post", URL + "1/delete"),
    ],
)
def test_staff_are_refused_and_visitors_sent_to_sign_in(staff_client, client, method, url):
    assert getattr(staff_client, method)(url).status_code == 403
    visitor = getattr(client, method)(url)
    assert visitor.status_code == 302
    assert visitor.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", [URL + "deliveries/99", URL + "deliveries/99999999999"])
def test_a_delivery_that_does_not_exist_is_a_404(owner_client, url):
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url + "/send-again").status_code == 404


def test_forms_need_their_csrf_token(app, owner_client, public_dns):
    app.config["WTF_CSRF_ENABLED"] = True
    assert add(owner_client, "https://hooks.example.com/portdesk").status_code == 400
    with app.app_context():
        assert Webhook.select().count() == 0
    token = re.search(
        r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', owner_client.get(URL).text
    )[1]
    response = owner_client.post(
        URL, data={"webhook-url": "https://hooks.example.com/portdesk", "csrf_token": token}
    )
    assert response.status_code == 201
