"""Email that is never lost: queued with what caused it, sent once, retried with backoff."""

import smtplib
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from flask import abort

from portal import create_app, delivery, mail
from portal.config import ConfigError
from portal.db import db
from portal.models import OutboxEmail, utcnow
from tests.conftest import Inbox, free_port, make_config


def point_at(app, server):
    app.config.update(SMTP_HOST=server.host, SMTP_PORT=server.port)


def queue(app, count=1, to="ann@acme.test", **context):
    """Queue `count` password reset emails (a template every run has); return their ids."""
    ids = []
    with app.app_context():
        for n in range(count):
            email = mail.enqueue(
                to=to,
                subject=f"Email {n}",
                template="password_reset",
                purpose="test",
                reference=f"test:{n}",
                name=context.get("name", "Ann Owner"),
                email=to,
                reset_url=f"https://portdesk.test/reset-password/token-{n}",
            )
            ids.append(email.id)
    return ids


def stored(app, email_id):
    with app.app_context():
        return OutboxEmail.get_by_id(email_id)


def deliver(app, limit=100):
    with app.app_context():
        return mail.deliver_due(limit=limit)


def make_due(app):
    """Let every queued email be tried now (as if its backoff had passed)."""
    with app.app_context():
        OutboxEmail.update(next_attempt_at=utcnow() - timedelta(seconds=1)).execute()


def test_an_email_arrives_with_its_text_and_html_parts(app, smtp_server):
    point_at(app, smtp_server)
    (email_id,) = queue(app, name="Ann <b>Owner</b>")

    assert deliver(app) == (1, 0)

    (received,) = smtp_server.wait_for(1)
    assert received["To"] == "ann@acme.test"
    assert received["From"] == "PortDesk <portdesk@localhost>"
    assert received["Subject"] == "Email 0"
    assert received["Message-ID"].startswith(f"<outbox.{email_id}.")
    assert received["Date"]
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Hello Ann <b>Owner</b>," in text
    assert "https://portdesk.test/reset-password/token-0" in text
    # The HTML part escapes what it is given and links the address.
    assert "Hello Ann &lt;b&gt;Owner&lt;/b&gt;," in html
    assert 'href="https://portdesk.test/reset-password/token-0"' in html
    assert smtp_server.envelopes == [("portdesk@localhost", ["ann@acme.test"])]
    row = stored(app, email_id)
    assert (row.status, row.attempts, row.lease_until) == ("sent", 0, None)
    assert row.sent_at is not None


def test_the_message_id_is_the_same_on_every_try(app):
    (email_id,) = queue(app)
    with app.app_context():
        row = OutboxEmail.get_by_id(email_id)
        first = delivery.message(row, "PortDesk <portdesk@portdesk.test>")
        second = delivery.message(row, "PortDesk <portdesk@portdesk.test>")
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@portdesk.test>")


def test_smtp_down_keeps_the_email_queued_with_its_error_then_it_goes_out_once(app, smtp_server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    (email_id,) = queue(app)
    before = utcnow()

    assert deliver(app) == (0, 1)

    row = stored(app, email_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "connecting to 127.0.0.1:" in row.last_error and "\n" not in row.last_error
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error
    assert before + timedelta(minutes=1) <= row.next_attempt_at <= utcnow() + timedelta(minutes=1)
    # Not due yet: the next run leaves it alone.
    point_at(app, smtp_server)
    assert deliver(app) == (0, 0)

    make_due(app)
    assert deliver(app) == (1, 0)
    assert deliver(app) == (0, 0)
    make_due(app)
    assert deliver(app) == (0, 0)

    assert len(smtp_server.wait_for(1)) == 1
    row = stored(app, email_id)
    assert (row.status, row.attempts) == ("sent", 1)


def test_one_connection_carries_a_whole_batch(app, smtp_server, monkeypatch):
    point_at(app, smtp_server)
    connections = []

    class CountedSMTP(smtplib.SMTP):
        def __init__(self, *args, **kwargs):
            connections.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(smtplib, "SMTP", CountedSMTP)
    queue(app, count=5)

    assert deliver(app) == (5, 0)

    assert len(smtp_server.wait_for(5)) == 5
    assert len(connections) == 1


def test_senders_running_at_once_send_each_email_exactly_once(app, smtp_server, monkeypatch):
    point_at(app, smtp_server)
    # Small batches, so the senders take turns over the same rows many times.
    monkeypatch.setattr(delivery, "BATCH_SIZE", 3)
    ids = queue(app, count=30)
    senders = 4
    barrier = threading.Barrier(senders)
    results, errors = [], []

    def sender():
        try:
            with app.app_context():
                barrier.wait()
                results.append(mail.deliver_due())
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(sent for sent, _ in results) == 30
    assert sum(failed for _, failed in results) == 0
    subjects = sorted(message["Subject"] for message in smtp_server.messages)
    assert subjects == sorted(f"Email {n}" for n in range(30))
    with app.app_context():
        assert {row.status for row in OutboxEmail.select()} == {"sent"}
        assert OutboxEmail.select().count() == len(ids)


def test_an_email_whose_sender_died_is_taken_again_once_its_lease_has_passed(app, smtp_server):
    point_at(app, smtp_server)
    held, abandoned = queue(app, count=2)
    with app.app_context():
        OutboxEmail.update(status="sending", lease_until=utcnow() + timedelta(minutes=5)).where(
            OutboxEmail.id == held
        ).execute()
        OutboxEmail.update(status="sending", lease_until=utcnow() - timedelta(seconds=1)).where(
            OutboxEmail.id == abandoned
        ).execute()

    assert deliver(app) == (1, 0)

    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == "Email 1"
    assert stored(app, abandoned).status == "sent"
    # Another sender still holds this one: it is left to it.
    assert stored(app, held).status == "sending"


def test_a_sender_records_nothing_on_an_email_another_has_taken_since(app, smtp_server):
    point_at(app, smtp_server)
    (email_id,) = queue(app)
    with app.app_context():
        (row,), lease = delivery._take(delivery.Relay.from_config(app.config), 1)
        # Its lease passed and another sender took the email with a lease of its own.
        OutboxEmail.update(lease_until=lease + timedelta(minutes=1)).execute()
        delivery._record_failure(row, lease, "too late")
        delivery._record_sent(row, lease)
    row = stored(app, email_id)
    assert (row.status, row.attempts, row.last_error) == ("sending", 0, None)


def test_a_connection_lost_mid_batch_costs_one_try_and_gives_the_rest_back(
    app, smtp_server, monkeypatch
):
    point_at(app, smtp_server)
    calls = []

    class DroppingSMTP(smtplib.SMTP):
        def send_message(self, *args, **kwargs):
            calls.append(args)
            if len(calls) == 2:
                self.close()  # the server went away between two emails
            return super().send_message(*args, **kwargs)

    monkeypatch.setattr(smtplib, "SMTP", DroppingSMTP)
    first, second, third = queue(app, count=3)

    assert deliver(app) == (1, 1)

    assert stored(app, first).status == "sent"
    row = stored(app, second)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("connection lost: SMTPServerDisconnected")
    row = stored(app, third)
    assert (row.status, row.attempts, row.lease_until) == ("queued", 0, None)
    assert deliver(app) == (1, 0)
    assert [m["Subject"] for m in smtp_server.wait_for(2)] == ["Email 0", "Email 2"]


def test_a_sender_out_of_time_gives_its_emails_back_untried(app, smtp_server, monkeypatch):
    point_at(app, smtp_server)
    monkeypatch.setattr(delivery.Relay, "lease", lambda self, count: timedelta(seconds=1))
    monkeypatch.setattr(delivery, "LEASE_MARGIN", timedelta(seconds=2))
    ids = queue(app, count=2)

    assert deliver(app) == (0, 0)

    for email_id in ids:
        row = stored(app, email_id)
        assert (row.status, row.attempts, row.lease_until) == ("queued", 0, None)
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (8, 60), (50, 60), (10_000, 60)],
)
def test_retries_wait_a_minute_doubling_up_to_an_hour(attempts, minutes):
    assert delivery.retry_delay(attempts) == timedelta(minutes=minutes)


def test_retries_stop_after_about_two_days():
    waited = sum((delivery.retry_delay(n) for n in range(1, delivery.MAX_ATTEMPTS)), timedelta(0))
    assert timedelta(hours=47) <= waited < timedelta(hours=48)
    assert waited + delivery.retry_delay(delivery.MAX_ATTEMPTS) >= timedelta(hours=48)


def test_failures_back_off_and_the_last_one_gives_up(app):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    second, last = queue(app, count=2)
    with app.app_context():
        OutboxEmail.update(attempts=1).where(OutboxEmail.id == second).execute()
        OutboxEmail.update(attempts=delivery.MAX_ATTEMPTS - 1).where(
            OutboxEmail.id == last
        ).execute()
    before = utcnow()

    assert deliver(app) == (0, 2)

    row = stored(app, second)
    assert (row.status, row.attempts) == ("queued", 2)
    assert before + timedelta(minutes=2) <= row.next_attempt_at <= utcnow() + timedelta(minutes=2)
    row = stored(app, last)
    assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    # Given up: never taken again by cron, until someone sends it again.
    make_due(app)
    assert deliver(app) == (0, 1)
    assert stored(app, last).attempts == delivery.MAX_ATTEMPTS


class Refusing(Inbox):
    """A server that refuses one recipient for good and asks another to try later."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_server():
    inbox = Refusing()
    inbox.port = free_port()
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def test_a_refused_recipient_fails_for_good_a_busy_one_is_retried_the_rest_go_out(
    app, refusing_server
):
    point_at(app, refusing_server)
    (nobody,) = queue(app, to="nobody@acme.test")
    (busy,) = queue(app, to="busy@acme.test")
    (ann,) = queue(app, to="ann@acme.test")

    assert deliver(app) == (1, 2)

    assert [m["To"] for m in refusing_server.wait_for(1)] == ["ann@acme.test"]
    row = stored(app, nobody)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550 5.1.1 No such user here" in row.last_error
    row = stored(app, busy)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "451" in row.last_error
    assert stored(app, ann).status == "sent"


def test_a_request_that_rolls_back_sends_nothing_and_one_that_commits_sends_at_once(
    database_url, tmp_path, smtp_server
):
    app = create_app(
        make_config(
            database_url,
            tmp_path / "instance",
            OUTBOX_SEND_AFTER_COMMIT=True,
            SMTP_HOST=smtp_server.host,
            SMTP_PORT=smtp_server.port,
        )
    )

    @app.post("/test/queue/<int:refuse>")
    def queue_then(refuse):
        with db.atomic():
            mail.enqueue(
                to="ann@acme.test",
                subject="Refused" if refuse else "Kept",
                template="password_reset",
                purpose="test",
                name="Ann",
                email="ann@acme.test",
                reset_url="https://portdesk.test/",
            )
            if refuse:
                abort(409)
        return "queued"

    client = app.test_client()
    assert client.post("/test/queue/1").status_code == 409
    assert mail.wait_for_senders()
    with app.app_context():
        assert OutboxEmail.select().count() == 0

    assert client.post("/test/queue/0").status_code == 200
    assert mail.wait_for_senders()
    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == "Kept"
    with app.app_context():
        assert [row.status for row in OutboxEmail.select()] == ["sent"]


def test_an_email_queued_outside_a_request_waits_for_cron(database_url, tmp_path, smtp_server):
    app = create_app(
        make_config(
            database_url,
            tmp_path / "instance",
            OUTBOX_SEND_AFTER_COMMIT=True,
            SMTP_HOST=smtp_server.host,
            SMTP_PORT=smtp_server.port,
        )
    )
    (email_id,) = queue(app)
    assert mail.wait_for_senders()
    assert smtp_server.messages == []
    assert stored(app, email_id).status == "queued"


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ann",
        "ann@acme.test, eve@evil.test",
        "ann@acme.test\r\nBcc: eve@evil.test",
        "<ann@acme.test>",
    ],
)
def test_enqueue_refuses_anything_but_one_address(app, address):
    with app.app_context():
        with pytest.raises(ValueError):
            mail.enqueue(
                to=address,
                subject="Hi",
                template="password_reset",
                purpose="test",
                name="Ann",
                email="x",
                reset_url="x",
            )
        assert OutboxEmail.select().count() == 0


def test_a_subject_stays_one_line_and_a_nul_never_reaches_the_database(app, smtp_server):
    point_at(app, smtp_server)
    with app.app_context():
        email = mail.enqueue(
            to="ann@acme.test",
            subject="Line one\r\nBcc: eve@evil.test\x00 " + "x" * 400,
            template="password_reset",
            purpose="test",
            name="Ann\x00 Owner",
            email="ann@acme.test",
            reset_url="https://portdesk.test/",
        )
        row = OutboxEmail.get_by_id(email.id)
    assert row.subject.startswith("Line one Bcc: eve@evil.test xxx")
    assert len(row.subject) == 300
    assert "Ann Owner" in row.text_body and "\x00" not in row.html_body
    assert deliver(app) == (1, 0)
    (received,) = smtp_server.wait_for(1)
    assert received["Bcc"] is None
    assert smtp_server.envelopes[0][1] == ["ann@acme.test"]


def test_external_urls_use_the_public_url_else_a_request_to_this_machine_else_localhost(
    app, caplog
):
    with app.app_context():
        assert (
            mail.external_url("password_reset.reset", token="abc")
            == "http://localhost:5000/reset-password/abc"
        )
    for here in ("http://127.0.0.1:8000", "http://localhost:5000", "http://[::1]:8080"):
        with app.test_request_context(base_url=here):
            assert mail.external_url("password_reset.reset", token="abc") == (
                f"{here}/reset-password/abc"
            )
    # Any other Host is the sender's to write: without PUBLIC_URL it chooses nothing, and the
    # log says what to set.
    with app.test_request_context(base_url="https://portal.acme.test"):
        assert (
            mail.external_url("password_reset.reset", token="abc")
            == "http://localhost:5000/reset-password/abc"
        )
    assert "PUBLIC_URL is not set" in caplog.text
    app.config["PUBLIC_URL"] = "https://portdesk.example.com/portal/"
    with app.test_request_context(base_url="https://evil.test"):
        assert (
            mail.external_url("password_reset.reset", token="abc")
            == "https://portdesk.example.com/portal/reset-password/abc"
        )


@pytest.mark.parametrize(
    "value",
    ["portdesk.example.com", "ftp://portdesk.example.com", "https://", "https://a.test/?x=1"],
)
def test_a_public_url_that_cannot_make_links_stops_the_start(database_url, tmp_path, value):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app(make_config(database_url, tmp_path / "instance", PUBLIC_URL=value))


def test_the_send_command_reports_what_it_did(app, runner, smtp_server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    queue(app, count=2)

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0
    assert result.stdout == "sent 0, still queued 2, failed 0\n"
    assert "2 could not be sent this time" in result.stderr

    point_at(app, smtp_server)
    make_due(app)
    result = runner.invoke(args=["outbox", "send", "--limit", "1"])
    assert result.stdout == "sent 1, still queued 1, failed 0\n"
    result = runner.invoke(args=["outbox", "send"])
    assert result.stdout == "sent 1, still queued 0, failed 0\n"
    assert result.stderr == ""
    assert len(smtp_server.wait_for(2)) == 2


@pytest.mark.parametrize("count", [1, 2])
def test_a_sender_takes_no_more_emails_than_it_asked_for(app, count):
    """On PostgreSQL an UPDATE ... WHERE id IN (SELECT ... LIMIT n) may take more than n rows."""
    queue(app, count=4)
    with app.app_context():
        relay = delivery.Relay.from_config(app.config)
        taken, _ = delivery._take(relay, count)
        assert len(taken) == count
        held = OutboxEmail.select().where(OutboxEmail.status == "sending")
        assert sorted(email.id for email in held) == [email.id for email in taken]
