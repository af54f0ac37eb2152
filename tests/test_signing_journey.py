"""The signing journey through a real SMTP server on loopback: the owner sends the LOA, the
representative reads the email, follows its link in a browser of their own and signs; and the
same with a link that ran out, a new one asked for and sent."""

import re
from datetime import timedelta
from html import unescape

import pytest

from portal import create_app, mail
from portal.models import PortRequest, utcnow
from portal.port_requests.review import review
from signing import SigningEnvelope
from tests.conftest import OWNER_EMAIL, make_config
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import make_draft

LINK = re.compile(r"https?://[^\s\"<>]+/sign/[A-Za-z0-9_.\-]+")


@pytest.fixture
def app(database_url, tmp_path, smtp_server):
    """The app sending its emails after each request's commit, to the loopback server."""
    config = make_config(
        database_url,
        tmp_path / "instance",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        MAIL_FROM="PortDesk <portdesk@portdesk.test>",
        OUTBOX_SEND_AFTER_COMMIT=True,
    )
    return create_app(config)


@pytest.fixture
def draft(app, accounts):
    add_inventory(app, accounts)
    return make_draft(app, accounts[0], numbers=3)


def text_of(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def delivered(smtp_server, count):
    """Return the first `count` emails the server received, once the senders are done."""
    assert mail.wait_for_senders()
    return smtp_server.wait_for(count)[:count]


def plain(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


def send_the_loa(owner_client, request_id):
    response = owner_client.post(
        f"/port-requests/{request_id}/loa/send",
        data={
            "name": "Dana Reyes",
            "email": "dana@harborclinic.com",
            "message": "Dana, this moves our three main lines.",
        },
    )
    assert response.status_code == 302


def test_the_representative_signs_from_the_emailed_link(app, owner_client, draft, smtp_server):
    send_the_loa(owner_client, draft)

    [email] = delivered(smtp_server, 1)
    assert email["To"] == "dana@harborclinic.com"
    assert email["From"] == "PortDesk <portdesk@portdesk.test>"
    assert email["Subject"] == "Acme Dental asks you to sign a Letter of Authorization"
    body = plain(email)
    assert "Ann Owner of Acme Dental asks you to sign a Letter of Authorization" in body
    assert "(614) 322-1001" in body and "(614) 322-1003" in body
    assert "Dana, this moves our three main lines." in body
    assert "The link works until" in body
    html = email.get_body(preferencelist=("html",)).get_content()
    link = LINK.search(body).group(0)
    assert link in html

    # The representative: another browser, no account.
    signer = app.test_client()
    page = signer.get(path_of(link))
    assert page.status_code == 200
    assert "Ann Owner of Acme Dental asks you, Dana Reyes, to sign this document." in text_of(page)
    # Showing the page changed nothing; the page's own POST records it was opened.
    with app.app_context():
        assert SigningEnvelope.get().status == "sent"
    assert signer.post(path_of(link) + "/opened").status_code == 204
    status = owner_client.get(f"/port-requests/{draft}/loa/status", headers={"HX-Request": "true"})
    assert "Dana Reyes (dana@harborclinic.com) opened the LOA on" in text_of(status)

    signed = signer.post(path_of(link), data={"consent": "y", "typed_name": "Dana Reyes"})

    assert signed.status_code == 302
    after = signer.get(path_of(link))
    assert "This document is already signed" in text_of(after)
    step = owner_client.get(f"/port-requests/{draft}/loa")
    assert "Signed by Dana Reyes (dana@harborclinic.com) from the emailed link on" in text_of(step)
    assert "The LOA is signed: this step is complete." in text_of(step)
    # The owner hears of it by email too.
    _, told = delivered(smtp_server, 2)
    assert told["To"] == OWNER_EMAIL
    assert told["Subject"] == "Dana Reyes signed the LOA for Harbor Clinic main lines"
    assert f"/port-requests/{draft}/loa" in plain(told)
    with app.app_context():
        found = review(PortRequest.get_by_id(draft), today=utcnow().date(), lead_business_days=7)
    assert found.steps["loa"] == "complete"


def test_an_expired_link_asks_for_a_new_one_and_the_new_one_signs(
    app, owner_client, draft, smtp_server
):
    send_the_loa(owner_client, draft)
    [first] = delivered(smtp_server, 1)
    old = path_of(LINK.search(plain(first)).group(0))
    with app.app_context():
        SigningEnvelope.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    signer = app.test_client()

    expired = signer.get(old)
    asked = signer.post(old + "/new-link")

    assert expired.status_code == 410
    assert "This signing link has expired" in text_of(expired)
    assert asked.status_code == 302
    _, told = delivered(smtp_server, 2)
    assert told["To"] == OWNER_EMAIL
    assert "asks for a new link" in told["Subject"]
    step = owner_client.get(f"/port-requests/{draft}/loa")
    assert "Dana Reyes asked for a new link on" in text_of(step)

    with app.app_context():
        envelope_id = SigningEnvelope.get().id
    resent = owner_client.post(f"/port-requests/{draft}/loa/resend", data={"envelope": envelope_id})

    assert resent.status_code == 302
    *_, second = delivered(smtp_server, 3)
    assert second["To"] == "dana@harborclinic.com"
    body = plain(second)
    assert "The link sent before no longer works." in body
    new = path_of(LINK.search(body).group(0))
    assert new != old
    assert signer.get(old).status_code == 410
    assert signer.post(new, data={"consent": "y", "typed_name": "Dana Reyes"}).status_code == 302
    step = owner_client.get(f"/port-requests/{draft}/loa")
    assert "Signed by Dana Reyes" in text_of(step)
    assert "The LOA is signed: this step is complete." in text_of(step)
