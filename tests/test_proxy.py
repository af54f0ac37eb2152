"""Behind a reverse proxy (PROXY_COUNT): the client's address and scheme come from the proxy's
X-Forwarded-* headers, for that many hops; with no proxy configured, a client's own headers are
ignored, so nobody writes the IP that the timeline and a signature's evidence record."""

import pytest

from portal import create_app
from portal.models import OutboxEmail, RequestEvent
from tests.conftest import OWNER_EMAIL, login, make_config
from tests.test_submit import make_submittable, url

FORGED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}


def submitted_from(app, client, owner):
    """Submit a request of the owner's with the forwarded headers; return the event's words."""
    request_id = make_submittable(app, owner.account_id, created_by=owner)
    assert client.post(url(request_id, "/submit"), headers=FORGED).status_code == 302
    with app.app_context():
        return RequestEvent.get(
            (RequestEvent.port_request == request_id) & (RequestEvent.kind == "submitted")
        ).message


def test_without_a_proxy_a_clients_forwarded_for_is_ignored(app, owner, owner_client):
    said = submitted_from(app, owner_client, owner)
    assert "(from 127.0.0.1)" in said
    assert "198.51.100.7" not in said


@pytest.fixture
def proxied(database_url, tmp_path, owner):
    app = create_app(make_config(database_url, tmp_path / "proxied", PROXY_COUNT=1))
    client = app.test_client()
    login(client, OWNER_EMAIL)
    return app, client


def test_behind_one_proxy_its_forwarded_address_and_scheme_are_believed(proxied, owner):
    app, client = proxied
    said = submitted_from(app, client, owner)
    assert "(from 198.51.100.7)" in said
    # The proxy said https: the link in the submit's email (made from the request, as on this
    # machine without PUBLIC_URL) is an https one.
    with app.app_context():
        email = OutboxEmail.get(OutboxEmail.purpose == "request_submitted")
    assert "https://localhost/port-requests/" in email.text_body


def test_one_proxy_believes_only_the_last_hop(proxied, owner):
    app, client = proxied
    request_id = make_submittable(app, owner.account_id, created_by=owner)
    # A client's own X-Forwarded-For arrives first; the proxy appends the address it saw.
    chain = {"X-Forwarded-For": "10.9.9.9, 203.0.113.20"}
    assert client.post(url(request_id, "/submit"), headers=chain).status_code == 302
    with app.app_context():
        said = RequestEvent.get(
            (RequestEvent.port_request == request_id) & (RequestEvent.kind == "submitted")
        ).message
    assert "(from 203.0.113.20)" in said
