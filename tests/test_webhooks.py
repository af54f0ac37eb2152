"""Webhooks: which URLs may be registered, and each event POSTed once, signed, retried with
backoff, at the address that was checked, by however many senders run at once."""

import hashlib
import hmac
import json
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import abort

from portal import create_app, delivery, webhook_delivery, webhook_urls, webhooks
from portal.db import db
from portal.models import (
    Account,
    PortRequest,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from portal.port_requests import operations
from portal.webhook_delivery import Sending
from tests.conftest import free_port, make_config
from tests.test_submit import make_submittable, today
from tests.test_wizard_attacks import at_once

PUBLIC = "93.184.215.14"
LOOPBACK_SENDING = Sending(timeout=3, allow_private=True)


# The README's snippet, verbatim: the tests below check real deliveries with it.
def verify(secret, header, body, tolerance=300):
    """Return True when the X-PortDesk-Signature header signs this body and is recent."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        expected = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, expected)


class Receiver:
    """A loopback HTTP(S) server that keeps every POST it gets and answers as it is told."""

    def __init__(self, port=0, status=200, body=b"thanks", headers=None, tls=None):
        self.received = []  # dicts: path, headers, body
        self.status, self.body, self.headers = status, body, headers or {}
        self.server_names = []  # the SNI of each TLS handshake
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hooks", host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.port}{path}"

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} POSTs arrived, not {count}")
            time.sleep(0.02)
        return self.received

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    """Start receivers with `receivers(**options)`; all are stopped when the test ends."""
    started = []

    def start(**options):
        started.append(Receiver(**options))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


class FakeDns:
    """DNS answers the test sets (`dns[host] = [address, ...]`, or a function giving them);
    an address in a URL stands for itself, any other name is not found. `asked` lists every
    name looked up."""

    def __init__(self):
        self.answers, self.asked = {}, []

    def __setitem__(self, host, answer):
        self.answers[host] = answer

    def resolve(self, host, port):
        self.asked.append(host)
        answer = self.answers.get(host)
        if answer is None:
            try:
                return [socket.getaddrinfo(host, port, flags=socket.AI_NUMERICHOST)[0][4][0]]
            except socket.gaierror:
                raise OSError(f"no such host {host}") from None
        return answer() if callable(answer) else list(answer)


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDns()
    monkeypatch.setattr(webhook_urls, "resolve", fake.resolve)
    return fake


def submitted(app, owner, *, told=False):
    """Return a request of the owner's account, submitted (numbers claimed, status set).

    The submit's own event is left out unless `told`: the tests here count the events they emit
    (`test_the_owners_submit_and_cancel_are_told_to_the_webhooks` counts the submit's).
    """
    request_id = make_submittable(app, owner.account_id, created_by=owner)
    with app.app_context():
        account = Account.get_by_id(owner.account_id)
        operations.submit(
            account, request_id, user=owner, ip="", today=today(), lead_business_days=7
        )
        if not told:
            WebhookDelivery.delete().execute()
        return PortRequest.get_by_id(request_id)


def register(app, account_id, url, allow_private=True):
    with app.app_context():
        hook, secret = webhooks.register(account_id, url, user=None, allow_private=allow_private)
        return hook.id, secret


def emit(app, port_request, event="port_request.status_changed", **data):
    with app.app_context():
        data = data or {"status": "in_review", "previous_status": "submitted"}
        return webhooks.emit(port_request, event, data)


def deliver(app, sending=LOOPBACK_SENDING, limit=100):
    with app.app_context():
        return webhook_delivery.deliver(sending, limit)


def deliveries(app):
    with app.app_context():
        return list(WebhookDelivery.select().order_by(WebhookDelivery.id))


def attempts(app, delivery_id):
    with app.app_context():
        rows = WebhookAttempt.select().where(WebhookAttempt.delivery == delivery_id)
        return [(row.status_code, row.error) for row in rows.order_by(WebhookAttempt.id)]


def make_due(app):
    with app.app_context():
        WebhookDelivery.update(next_attempt_at=utcnow() - timedelta(seconds=1)).execute()


# Which URLs may be registered ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "answers", "message"),
    [
        ("", None, "Enter the URL your system listens on"),
        ("http://hooks.example.com/", None, "Use an https:// URL"),
        ("ftp://hooks.example.com/", None, "Use an https:// URL"),
        ("https://", None, "The URL has no host name"),
        ("https://ann:pw@hooks.example.com/", None, "Leave the user name and password out"),
        ("https://hooks.example.com/#top", None, "Leave out the part from # on"),
        ("https://hooks.example.com/a b", None, "no spaces or control characters"),
        ("https://hooks.example.com:99999/", None, "a number from 1 to 65535"),
        ("https://hooks..example.com/", None, "is not a host name"),
        ("https://" + "a" * 2000 + ".com/", None, "at most 2,000 characters"),
        ("https://127.0.0.1/", None, "127.0.0.1 is a loopback address"),
        ("https://[::1]/", None, "::1 is a loopback address"),
        ("https://[::ffff:10.1.2.3]/", None, "is a private address"),
        ("https://169.254.169.254/latest/", None, "is a link-local address"),
        ("https://hooks.example.com/", ["10.0.0.7"], "resolves to 10.0.0.7, a private address"),
        ("https://hooks.example.com/", ["192.168.1.2"], "192.168.1.2, a private address"),
        ("https://hooks.example.com/", ["fe80::1"], "fe80::1, a link-local address"),
        ("https://hooks.example.com/", ["224.0.0.9"], "224.0.0.9, a multicast address"),
        ("https://hooks.example.com/", ["0.0.0.0"], "0.0.0.0, an unspecified address"),
        ("https://hooks.example.com/", ["100.64.0.1"], "100.64.0.1, a special-purpose address"),
        ("https://hooks.example.com/", ["2002:7f00:1::"], "a loopback address"),
        # One private address among public ones is one a connection could land on.
        ("https://hooks.example.com/", [PUBLIC, "172.16.0.1"], "172.16.0.1, a private address"),
        ("https://nowhere.example.com/", None, "nowhere.example.com could not be found (DNS)"),
    ],
)
def test_a_url_is_https_on_a_public_address_or_refused_with_the_reason(dns, url, answers, message):
    if answers is not None:
        dns["hooks.example.com"] = answers
    with pytest.raises(webhook_urls.UrlRefused, match=re.escape(message)):
        webhook_urls.check(url)


@pytest.mark.parametrize(
    ("url", "host", "port", "path"),
    [
        ("https://hooks.example.com/portdesk?k=1", "hooks.example.com", 443, "/portdesk?k=1"),
        ("https://hooks.example.com:8443", "hooks.example.com", 8443, "/"),
        ("  https://Bücher.Example/x  ", "xn--bcher-kva.example", 443, "/x"),
        ("https://[2606:4700::1111]/", "2606:4700::1111", 443, "/"),
    ],
)
def test_a_public_url_is_taken_apart_for_the_connection(dns, url, host, port, path):
    dns["hooks.example.com"] = [PUBLIC]
    dns["xn--bcher-kva.example"] = [PUBLIC]
    target = webhook_urls.check(url)
    assert (target.host, target.port, target.path) == (host, port, path)
    assert target.url == url.strip()


def test_private_addresses_and_http_are_allowed_only_by_the_setting():
    url = "http://127.0.0.1:8080/hooks"
    with pytest.raises(webhook_urls.UrlRefused):
        webhook_urls.check(url)
    assert webhook_urls.check(url, allow_private=True).port == 8080


def test_register_refuses_a_url_twice_and_past_the_limit(app, accounts, dns):
    dns["hooks.example.com"] = [PUBLIC]
    register(app, 4242, "https://hooks.example.com/0", allow_private=False)
    with pytest.raises(webhooks.WebhookRefused, match="registered already"):
        register(app, 4242, "https://hooks.example.com/0", allow_private=False)
    for n in range(1, webhooks.MAX_WEBHOOKS):
        register(app, 4242, f"https://hooks.example.com/{n}", allow_private=False)
    with pytest.raises(webhooks.WebhookRefused, match="at most 10 webhooks"):
        register(app, 4242, "https://hooks.example.com/more", allow_private=False)
    # Another account's count is its own.
    register(app, 5151, "https://hooks.example.com/0", allow_private=False)


def test_owners_registering_at_once_never_pass_the_limit(app, accounts, dns):
    dns["hooks.example.com"] = [PUBLIC]
    for n in range(webhooks.MAX_WEBHOOKS - 2):
        register(app, 4242, f"https://hooks.example.com/{n}")

    def one(n):
        try:
            register(app, 4242, f"https://hooks.example.com/late-{n}")
        except webhooks.WebhookRefused as refused:
            return str(refused)
        return "registered"

    results = at_once(*[lambda n=n: one(n) for n in range(6)])

    assert results.count("registered") == 2
    with app.app_context():
        assert Webhook.select().where(Webhook.account == 4242).count() == webhooks.MAX_WEBHOOKS


# Delivering ---------------------------------------------------------------------------------


def test_the_owners_submit_and_cancel_are_told_to_the_webhooks(app, owner, receivers):
    receiver = receivers()
    register(app, 4242, receiver.url("/hook"))
    port_request = submitted(app, owner, told=True)
    with app.app_context():
        operations.cancel(
            Account.get_by_id(owner.account_id), port_request.id, user=owner, reason="Moved"
        )

    assert deliver(app) == (2, 0)
    bodies = [json.loads(hit["body"]) for hit in receiver.received]
    assert [body["data"] for body in bodies] == [
        {"port_request_id": port_request.id, "status": "submitted", "previous_status": "draft"},
        {
            "port_request_id": port_request.id,
            "status": "cancelled",
            "previous_status": "submitted",
            "note": "Moved",
        },
    ]


def test_each_event_reaches_the_accounts_webhooks_once_with_a_valid_signature(
    app, owner, other_owner, receivers
):
    first, second, theirs = receivers(), receivers(), receivers()
    port_request = submitted(app, owner)
    one_id, one_secret = register(app, 4242, first.url("/one"))
    _, two_secret = register(app, 4242, second.url("/two?via=portdesk"))
    register(app, 5151, theirs.url())
    events = [
        emit(app, port_request, status="in_review", previous_status="submitted"),
        emit(app, port_request, "port_request.foc_scheduled", foc_date="2027-01-12"),
        emit(app, port_request, "port_number.rejected", phone_number="+16143221001"),
    ]

    assert deliver(app) == (6, 0)
    assert deliver(app) == (0, 0)

    assert [hit["path"] for hit in first.received] == ["/one"] * 3
    assert [hit["path"] for hit in second.received] == ["/two?via=portdesk"] * 3
    assert theirs.received == []
    for receiver, secret in ((first, one_secret), (second, two_secret)):
        bodies = [json.loads(hit["body"]) for hit in receiver.received]
        assert [body["id"] for body in bodies] == events
        assert bodies[0]["type"] == "port_request.status_changed"
        assert bodies[0]["data"] == {
            "port_request_id": port_request.id,
            "status": "in_review",
            "previous_status": "submitted",
        }
        for hit in receiver.received:
            headers = hit["headers"]
            assert verify(secret, headers["X-PortDesk-Signature"], hit["body"])
            assert headers["Content-Type"] == "application/json"
            assert headers["X-PortDesk-Event"] == json.loads(hit["body"])["type"]
            assert headers["Host"] == f"127.0.0.1:{receiver.port}"
    # A body signed with the other webhook's secret does not pass.
    hit = first.received[0]
    assert not verify(two_secret, hit["headers"]["X-PortDesk-Signature"], hit["body"])
    stored = [row for row in deliveries(app) if row.webhook_id == one_id]
    assert {(row.status, row.attempts, row.last_error) for row in stored} == {("sent", 1, None)}
    assert [row.body.encode() for row in stored] == [hit["body"] for hit in first.received]
    assert attempts(app, stored[0].id) == [(200, None)]


def test_a_down_receiver_gets_the_event_later_and_once(app, owner, receivers):
    port = free_port()
    register(app, 4242, f"http://127.0.0.1:{port}/hooks")
    emit(app, submitted(app, owner))

    assert deliver(app) == (0, 1)
    (row,) = deliveries(app)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert deliver(app) == (0, 0)  # not due before its minute has passed

    receiver = receivers(port=port)
    make_due(app)
    assert deliver(app) == (1, 0)
    assert deliver(app) == (0, 0)

    assert len(receiver.received) == 1
    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    log = attempts(app, row.id)
    assert [code for code, _ in log] == [None, 200]
    assert log[0][1].startswith("ConnectionRefusedError")


@pytest.mark.parametrize(
    ("status", "body", "headers", "error"),
    [
        (
            500,
            b"<h1>Oops</h1>\n  database   down",
            {},
            "HTTP 500 Internal Server Error: <h1>Oops</h1> database down",
        ),
        (404, b"", {}, "HTTP 404 Not Found"),
        (401, b"x" * 5000, {}, "HTTP 401 Unauthorized: " + "x" * 199 + "…"),
        (
            302,
            b"",
            {"Location": "https://elsewhere.example.com/"},
            "HTTP 302 Found: redirects are not followed (Location: https://elsewhere.example.com/)",
        ),
    ],
)
def test_an_answer_other_than_2xx_is_retried_with_what_it_said(
    app, owner, receivers, status, body, headers, error
):
    receiver = receivers(status=status, body=body, headers=headers)
    register(app, 4242, receiver.url())
    emit(app, submitted(app, owner))

    assert deliver(app) == (0, 1)

    assert len(receiver.received) == 1  # no redirect followed
    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, error)
    assert attempts(app, row.id) == [(status, error)]


def test_failures_back_off_and_the_last_one_gives_up(app, owner, receivers):
    receiver = receivers(status=503)
    register(app, 4242, receiver.url())
    emit(app, submitted(app, owner))
    waits = []
    for _ in range(3):
        before = utcnow()
        deliver(app)
        waits.append(round((deliveries(app)[0].next_attempt_at - before).total_seconds() / 60))
        make_due(app)
    assert waits == [1, 2, 4]

    with app.app_context():
        WebhookDelivery.update(attempts=delivery.MAX_ATTEMPTS - 1).execute()
    assert deliver(app) == (0, 1)
    (row,) = deliveries(app)
    assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    make_due(app)
    assert deliver(app) == (0, 0)
    assert len(receiver.received) == 4


def test_an_address_gone_private_since_registration_is_refused_at_send_time(
    app, owner, receivers, dns
):
    receiver = receivers()
    dns["hooks.example.com"] = [PUBLIC]
    register(app, 4242, f"https://hooks.example.com:{receiver.port}/", allow_private=False)
    # The name's owner points it at the portal's own network after the check.
    dns["hooks.example.com"] = ["127.0.0.1"]
    emit(app, submitted(app, owner))

    assert deliver(app, Sending(timeout=2)) == (0, 1)

    assert receiver.received == []
    (row,) = deliveries(app)
    assert row.last_error == (
        "not sent: hooks.example.com resolves to 127.0.0.1, a loopback address: webhooks go "
        "only to public addresses on the internet."
    )
    assert attempts(app, row.id) == [(None, row.last_error)]


def test_the_post_goes_to_the_address_checked_never_to_a_second_dns_answer(
    app, owner, receivers, dns
):
    receiver = receivers()
    dns["hooks.test"] = ["127.0.0.1"]
    register(app, 4242, receiver.url(host="hooks.test"))
    emit(app, submitted(app, owner))
    # From now on every answer but the first points elsewhere (nothing listens on 127.0.0.2).
    answers = iter([["127.0.0.1"]])
    dns["hooks.test"] = lambda: next(answers, ["127.0.0.2"])
    dns.asked.clear()

    assert deliver(app) == (1, 0)

    assert dns.asked == ["hooks.test"]
    (hit,) = receiver.received
    assert hit["headers"]["Host"] == f"hooks.test:{receiver.port}"


def test_the_next_address_is_tried_when_the_first_does_not_connect(app, owner, receivers, dns):
    receiver = receivers()
    dns["hooks.test"] = ["127.0.0.2", "127.0.0.1"]
    register(app, 4242, receiver.url(host="hooks.test"))
    emit(app, submitted(app, owner))

    assert deliver(app) == (1, 0)
    assert len(receiver.received) == 1


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for hooks.test: (server context, client context trusting it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "hooks.pem", tmp_path / "hooks.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


def test_https_names_the_urls_host_in_sni_and_host_and_checks_the_certificate(
    app, owner, receivers, dns, certificate
):
    server_tls, client_tls = certificate
    receiver = receivers(tls=server_tls)
    dns["hooks.test"] = ["127.0.0.1"]
    dns["other.test"] = ["127.0.0.1"]
    register(app, 4242, receiver.url(host="hooks.test"))
    register(app, 4242, receiver.url(host="other.test"))
    emit(app, submitted(app, owner))

    sending = Sending(timeout=3, allow_private=True, tls=client_tls)
    assert deliver(app, sending) == (1, 1)

    (hit,) = receiver.received
    assert hit["headers"]["Host"] == f"hooks.test:{receiver.port}"
    assert "hooks.test" in receiver.server_names
    failed = next(row for row in deliveries(app) if row.status == "queued")
    assert "certificate verify failed" in failed.last_error
    assert "other.test" in failed.last_error


def test_a_receiver_that_never_finishes_answering_is_cut_at_the_timeout(app, owner):
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                try:
                    connection.sendall(b"X-Slow: .\r\n")
                except OSError:
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=drip)
    thread.start()
    try:
        register(app, 4242, f"http://127.0.0.1:{listener.getsockname()[1]}/")
        emit(app, submitted(app, owner))
        started = time.monotonic()
        assert deliver(app, Sending(timeout=1, allow_private=True)) == (0, 1)
        took = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        listener.close()

    assert took < 2
    (row,) = deliveries(app)
    assert row.last_error == "TimeoutError: no answer within 1 s"
    (attempt,) = attempts(app, row.id)
    assert attempt == (None, row.last_error)


def test_a_2xx_answer_is_sent_without_reading_its_body(app, owner):
    listener = socket.create_server(("127.0.0.1", 0))
    written = []

    def flood():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            chunk, total = b"x" * 65536, 0
            try:
                while total < 1_000_000_000:
                    connection.sendall(chunk)
                    total += len(chunk)
            except OSError:
                written.append(total)

    thread = threading.Thread(target=flood)
    thread.start()
    try:
        register(app, 4242, f"http://127.0.0.1:{listener.getsockname()[1]}/")
        emit(app, submitted(app, owner))
        started = time.monotonic()
        assert deliver(app, Sending(timeout=5, allow_private=True)) == (1, 0)
        took = time.monotonic() - started
    finally:
        thread.join()
        listener.close()

    assert took < 2
    # The sender closed the connection: far less than the gigabyte announced was taken.
    assert written and written[0] < 50_000_000


# Senders and leases -------------------------------------------------------------------------


def test_senders_running_at_once_post_each_delivery_exactly_once(
    app, owner, receivers, monkeypatch
):
    # Small batches, so the senders take turns over the same rows many times.
    monkeypatch.setattr(webhook_delivery, "BATCH_SIZE", 3)
    receiver = receivers()
    register(app, 4242, receiver.url())
    port_request = submitted(app, owner)
    events = [emit(app, port_request, status=f"s{n}", previous_status="x") for n in range(30)]

    results = at_once(*[lambda: deliver(app) for _ in range(4)])

    assert sum(sent for sent, _ in results) == 30
    assert sum(failed for _, failed in results) == 0
    received = [json.loads(hit["body"])["id"] for hit in receiver.wait_for(30)]
    assert sorted(received) == sorted(events)
    assert {(row.status, row.attempts) for row in deliveries(app)} == {("sent", 1)}
    with app.app_context():
        assert WebhookAttempt.select().count() == 30


@pytest.mark.parametrize("count", [1, 2])
def test_a_sender_takes_no_more_deliveries_than_it_asked_for(app, owner, count):
    register(app, 4242, "http://127.0.0.1:9/")
    port_request = submitted(app, owner)
    for _ in range(4):
        emit(app, port_request)
    with app.app_context():
        taken, _ = webhook_delivery._take(LOOPBACK_SENDING, count)
        assert len(taken) == count
        held = WebhookDelivery.select().where(WebhookDelivery.status == "sending")
        assert sorted(row.id for row in held) == [row.id for row in taken]


def test_a_delivery_another_sender_holds_is_left_and_an_abandoned_one_taken(app, owner, receivers):
    receiver = receivers()
    register(app, 4242, receiver.url())
    port_request = submitted(app, owner)
    held, abandoned = emit(app, port_request), emit(app, port_request)
    with app.app_context():
        now = utcnow()
        WebhookDelivery.update(status="sending", lease_until=now + timedelta(minutes=5)).where(
            WebhookDelivery.event_id == held
        ).execute()
        WebhookDelivery.update(status="sending", lease_until=now - timedelta(seconds=1)).where(
            WebhookDelivery.event_id == abandoned
        ).execute()

    assert deliver(app) == (1, 0)

    (hit,) = receiver.received
    assert json.loads(hit["body"])["id"] == abandoned
    assert {row.event_id: row.status for row in deliveries(app)} == {
        held: "sending",
        abandoned: "sent",
    }


def test_a_sender_records_nothing_on_a_delivery_taken_since_or_deleted(app, owner, receivers):
    receiver = receivers()
    hook_id, _ = register(app, 4242, receiver.url())
    emit(app, submitted(app, owner))
    failure = webhook_delivery.Outcome(500, "HTTP 500", 3)
    with app.app_context():
        (row,), lease = webhook_delivery._take(LOOPBACK_SENDING, 1)
        # Its lease passed and another sender took it with a lease of its own.
        WebhookDelivery.update(lease_until=lease + timedelta(minutes=1)).execute()
        webhook_delivery._record(row, lease, failure)
        assert (WebhookDelivery.get_by_id(row.id).status, WebhookAttempt.select().count()) == (
            "sending",
            0,
        )
        # The owner deleted the webhook (its deliveries go with it) while a POST was on its way.
        WebhookDelivery.update(lease_until=lease).execute()
        assert webhooks.delete(4242, hook_id) == receiver.url()
        webhook_delivery._record(row, lease, failure)
        assert WebhookDelivery.select().count() == WebhookAttempt.select().count() == 0


def test_send_again_starts_a_failed_delivery_over_and_leaves_one_in_flight(app, owner):
    register(app, 4242, "http://127.0.0.1:9/")
    port_request = submitted(app, owner)
    failed, flying = emit(app, port_request), emit(app, port_request)
    with app.app_context():
        WebhookDelivery.update(status="failed", attempts=20, last_error="HTTP 500").where(
            WebhookDelivery.event_id == failed
        ).execute()
        WebhookDelivery.update(status="sending", lease_until=utcnow()).where(
            WebhookDelivery.event_id == flying
        ).execute()
        ids = {row.event_id: row.id for row in WebhookDelivery.select()}

        assert webhooks.send_again(4242, ids[failed])
        assert not webhooks.send_again(4242, ids[flying])
        assert not webhooks.send_again(5151, ids[failed])  # another account's

        again = WebhookDelivery.get_by_id(ids[failed])
        assert (again.status, again.attempts) == ("queued", 0)
        assert again.next_attempt_at <= utcnow()
        assert WebhookDelivery.get_by_id(ids[flying]).status == "sending"


# After the request, and from cron -----------------------------------------------------------


def test_a_request_that_commits_posts_at_once_and_one_that_rolls_back_posts_nothing(
    database_url, tmp_path, owner, receivers
):
    app = create_app(
        make_config(
            database_url,
            tmp_path / "instance",
            OUTBOX_SEND_AFTER_COMMIT=True,
            WEBHOOK_ALLOW_PRIVATE=True,
        )
    )
    receiver = receivers()
    register(app, 4242, receiver.url())
    port_request = submitted(app, owner)

    @app.post("/test/emit/<int:refuse>")
    def emit_then(refuse):
        with db.atomic():
            webhooks.emit(port_request, "port_request.status_changed", {"status": "in_review"})
            if refuse:
                abort(409)
        return "emitted"

    client = app.test_client()
    assert client.post("/test/emit/1").status_code == 409
    assert webhook_delivery.wait_for_senders()
    assert deliveries(app) == []

    assert client.post("/test/emit/0").status_code == 200
    assert webhook_delivery.wait_for_senders()
    (hit,) = receiver.wait_for(1)
    assert json.loads(hit["body"])["data"]["status"] == "in_review"
    assert [row.status for row in deliveries(app)] == ["sent"]


def test_an_event_emitted_outside_a_request_waits_for_cron(app, owner, receivers):
    app.config["OUTBOX_SEND_AFTER_COMMIT"] = True
    receiver = receivers()
    register(app, 4242, receiver.url())
    emit(app, submitted(app, owner))
    assert webhook_delivery.wait_for_senders()
    assert receiver.received == []
    assert [row.status for row in deliveries(app)] == ["queued"]


def test_outbox_send_delivers_due_webhooks_too_and_reports_them(app, owner, runner, receivers):
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, SMTP_PORT=free_port())
    result = runner.invoke(args=["outbox", "send"])
    assert result.stdout == "sent 0, still queued 0, failed 0\n"  # no webhook: no line for them

    port = free_port()
    register(app, 4242, f"http://127.0.0.1:{port}/hooks")
    port_request = submitted(app, owner)  # its email stays queued: no mail server listens
    emit(app, port_request)
    emit(app, port_request)
    result = runner.invoke(args=["outbox", "send"])
    assert result.stdout == (
        "sent 0, still queued 1, failed 0\nwebhooks: sent 0, still queued 2, failed 0\n"
    )
    assert "2 webhook deliveries could not be sent this time" in result.stderr

    receiver = receivers(port=port)
    make_due(app)
    result = runner.invoke(args=["outbox", "send", "--limit", "1"])
    assert result.stdout.endswith("webhooks: sent 1, still queued 1, failed 0\n")
    assert len(receiver.received) == 1


# The README's snippet -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "passes"),
    [
        ("nothing", True),
        ("body", False),
        ("secret", False),
        ("old", False),
        ("future", False),
        ("no v1", False),
        ("garbage", False),
    ],
)
def test_the_readmes_snippet_passes_a_true_signature_only(change, passes):
    secret, body = "whsec_" + "ab" * 24, b'{"id":"evt_1","type":"port_request.status_changed"}'
    stamp = int(time.time())
    header = webhooks.signature(secret, stamp, body)
    if change == "body":
        body = body.replace(b"evt_1", b"evt_2")
    elif change == "secret":
        secret = "whsec_other"
    elif change in ("old", "future"):
        header = webhooks.signature(secret, stamp + (-301 if change == "old" else 301), body)
    elif change == "no v1":
        header = f"t={stamp}"
    elif change == "garbage":
        header = "v1=,t"
    assert verify(secret, header, body) is passes


def test_the_webhook_modules_load_no_flask():
    program = (
        "import sys, portal.webhooks, portal.webhook_urls, portal.webhook_delivery; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_wtf')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
