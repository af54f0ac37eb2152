"""Email that is never lost: queued in the outbox with what caused it, sent after commit.

`enqueue` writes the email in the caller's transaction, so it exists exactly when what caused it
does. Inside a request, a thread sends it once the request is over (its transaction committed or
rolled back by then: a rolled-back email is simply not found). `flask outbox send` (cron) sends
whatever is still due: never reached, retried after a failure, or left by a sender that died.

Each sender first takes its emails with one conditional UPDATE (queued and due, or `sending`
with a lease that has passed -> `sending` with a lease of its own; on PostgreSQL the batch is
picked with FOR UPDATE SKIP LOCKED), so two senders never hold the same email, and records the
outcome only while its lease is still the one on the row.
"""

import logging
import re
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, render_template, url_for

from portal.config import ConfigError
from portal.db import db, is_postgresql
from portal.models import OutboxEmail, looks_like_email, utcnow

log = logging.getLogger(__name__)

# Emails taken and sent over one SMTP connection.
BATCH_SIZE = 20
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=48)
# What a sender may spend on each email (in SMTP timeouts: MAIL, RCPT, DATA and the message end
# may each wait that long) and on connecting, before its lease passes and another takes it.
TIMEOUTS_PER_EMAIL = 5
TIMEOUTS_TO_CONNECT = 5
LEASE_MARGIN = timedelta(seconds=30)
LAST_ERROR_LENGTH = 500
# Addresses here come from the portal's own checked fields; these would make a header of
# several addresses or a display name out of one.
ADDRESS_SPECIALS = re.compile(r"[,;<>()\"\\\r\n\x00]")

_senders = set()
_senders_lock = threading.Lock()


def retry_delay(attempts):
    """Return how long to wait after the attempts-th failure: 1 minute, doubling, at most 1 hour."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LONGEST_RETRY)


def _attempts_before_giving_up():
    waited, attempts = timedelta(0), 0
    while waited < GIVE_UP_AFTER:
        attempts += 1
        waited += retry_delay(attempts)
    return attempts


# About 48 hours of retries: 1, 2, 4 ... 32 minutes, then every hour.
MAX_ATTEMPTS = _attempts_before_giving_up()


@dataclass(frozen=True)
class Relay:
    """The SMTP server every email goes through, and who sends them."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    ssl: bool
    timeout: int
    sender: str

    @classmethod
    def from_config(cls, config):
        """Return the relay the app's SMTP_* and MAIL_FROM settings describe."""
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            starttls=config["SMTP_STARTTLS"],
            ssl=config["SMTP_SSL"],
            timeout=config["SMTP_TIMEOUT"],
            sender=config["MAIL_FROM"],
        )

    def connect(self):
        """Return a connection, encrypted and logged in as configured."""
        if self.ssl:
            server = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls and not self.ssl:
                server.starttls(context=ssl.create_default_context())
            if self.username:
                server.login(self.username, self.password or "")
        except BaseException:
            server.close()
            raise
        return server

    def lease(self, count):
        """Return how long a sender may hold `count` emails."""
        seconds = self.timeout * (TIMEOUTS_TO_CONNECT + TIMEOUTS_PER_EMAIL * count)
        return timedelta(seconds=seconds) + LEASE_MARGIN * 2


def enqueue(*, to, subject, template, purpose, reference=None, **context):
    """Render email/<template>.txt and .html and queue the email in the caller's transaction."""
    to = to.strip()
    if not looks_like_email(to) or ADDRESS_SPECIALS.search(to):
        raise ValueError(f"not one email address: {to!r}")
    subject = " ".join(subject.replace("\x00", "").split())
    if len(subject) > 300:
        subject = subject[:299] + "…"
    text = render_template(f"email/{template}.txt", subject=subject, **context)
    html = render_template(f"email/{template}.html", subject=subject, **context)
    email = OutboxEmail.create(
        to_address=to,
        subject=subject,
        # PostgreSQL refuses a NUL in text; a name or message typed into a form may hold one.
        text_body=text.replace("\x00", ""),
        html_body=html.replace("\x00", ""),
        purpose=purpose,
        reference=reference,
    )
    if has_request_context():
        send_after_request(email.id)
    return email


def external_url(endpoint, **values):
    """Return the absolute URL of the endpoint, for a link in an email."""
    public = current_app.config["PUBLIC_URL"]
    if public:
        return _url_at(public, endpoint, values)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return _url_at("http://localhost:5000", endpoint, values)


def _url_at(base, endpoint, values):
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def check_public_url(value):
    """Raise ConfigError unless the value is an http(s) address with a host (or unset)."""
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_URL must look like https://portal.example.com (a path may follow), "
            f"got {value!r}"
        )


def message(email, sender):
    """Return the MIME message of an outbox email: text, then the HTML alternative."""
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = email.to_address
    mime["Subject"] = email.subject
    mime["Date"] = format_datetime(datetime.now(UTC))
    # The same on every try of this email, so a client can tell a resent copy from a new one.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    stamp = int(email.created_at.replace(tzinfo=UTC).timestamp())
    mime["Message-ID"] = f"<outbox.{email.id}.{stamp}@{domain}>"
    mime.set_content(email.text_body)
    if email.html_body:
        mime.add_alternative(email.html_body, subtype="html")
    return mime


def deliver_due(limit=100):
    """Send up to `limit` due emails (cron); return (sent, failed) for this run."""
    return _deliver(Relay.from_config(current_app.config), limit)


def counts():
    """Return (waiting, failed): emails still to go out, and emails given up on."""
    waiting = OutboxEmail.select().where(OutboxEmail.status.in_(("queued", "sending"))).count()
    failed = OutboxEmail.select().where(OutboxEmail.status == "failed").count()
    return waiting, failed


def send_again(email_id):
    """Make a queued or failed email due now, its retries started over; say whether it was."""
    return bool(
        OutboxEmail.update(status="queued", attempts=0, next_attempt_at=utcnow(), lease_until=None)
        .where((OutboxEmail.id == email_id) & OutboxEmail.status.in_(("queued", "failed")))
        .execute()
    )


def send_after_request(email_id):
    """Have this email sent once the current request is over (when the app sends after commit)."""
    g.setdefault("outbox_ids", []).append(email_id)


def wait_for_senders(timeout=10):
    """Wait for the background senders to finish; say whether they all did."""
    deadline = time.monotonic() + timeout
    while True:
        with _senders_lock:
            running = list(_senders)
        if not running:
            return True
        for thread in running:
            thread.join(max(0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            with _senders_lock:
                return not _senders


def init_app(app):
    """Send each request's queued emails once its transaction has committed."""
    check_public_url(app.config["PUBLIC_URL"])

    @app.teardown_request
    def _send_queued(exc):
        ids = g.pop("outbox_ids", None)
        if ids and app.config["OUTBOX_SEND_AFTER_COMMIT"]:
            _start_sender(Relay.from_config(app.config), ids)


def _start_sender(relay, ids):
    thread = threading.Thread(
        target=_run_sender, args=(relay, ids), name="outbox-sender", daemon=True
    )
    with _senders_lock:
        _senders.add(thread)
    thread.start()


def _run_sender(relay, ids):
    try:
        with db.connection_context():
            _deliver(relay, len(ids), ids)
    except Exception:
        # Still queued (or leased until the lease passes): `flask outbox send` delivers it.
        log.exception("Sending emails %s after their request failed; cron will retry", ids)
    finally:
        with _senders_lock:
            _senders.discard(threading.current_thread())


def _deliver(relay, limit, ids=None):
    sent = failed = 0
    while sent + failed < limit:
        emails, lease = _take(relay, min(BATCH_SIZE, limit - sent - failed), ids)
        if not emails:
            break
        outcome = _send_batch(relay, emails, lease)
        sent += outcome.sent
        failed += outcome.failed
        if outcome.unreachable:
            break
    return sent, failed


def _due(now):
    waiting = (OutboxEmail.status == "queued") & (OutboxEmail.next_attempt_at <= now)
    abandoned = (OutboxEmail.status == "sending") & (OutboxEmail.lease_until < now)
    return waiting | abandoned


def _take(relay, count, ids=None):
    """Take up to `count` due emails for this sender alone; return them and the lease."""
    now = utcnow()
    due = _due(now)
    if ids is not None:
        due &= OutboxEmail.id.in_(ids)
    pick = (
        OutboxEmail.select(OutboxEmail.id)
        .where(due)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(count)
    )
    if is_postgresql(db):
        # Rows another sender is taking right now are left to it, not waited for.
        pick = pick.for_update(skip_locked=True)
    lease = now + relay.lease(count)
    # `due` again in the UPDATE: on PostgreSQL it is checked again on a row changed meanwhile.
    taken = (
        OutboxEmail.update(status="sending", lease_until=lease)
        .where(OutboxEmail.id.in_(pick) & due)
        .returning(OutboxEmail)
        .execute()
    )
    return sorted(taken, key=lambda email: email.id), lease


@dataclass
class _Outcome:
    sent: int = 0
    failed: int = 0
    unreachable: bool = False


def _send_batch(relay, emails, lease):
    outcome = _Outcome()
    try:
        server = relay.connect()
    except OSError as error:  # smtplib's errors are OSErrors too
        problem = f"connecting to {relay.host}:{relay.port} failed: {_describe(error)}"
        for email in emails:
            _record_failure(email, lease, problem)
        return _Outcome(failed=len(emails), unreachable=True)
    try:
        for index, email in enumerate(emails):
            if utcnow() >= lease - LEASE_MARGIN:
                # Out of time: another sender may take these from now on.
                _release(emails[index:], lease)
                break
            try:
                server.send_message(message(email, relay.sender))
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
                # The server answered about this message: the connection goes on.
                _record_failure(email, lease, _describe(error), permanent=_permanent(error))
                outcome.failed += 1
            except OSError as error:  # SMTPServerDisconnected and every socket error
                _record_failure(email, lease, f"connection lost: {_describe(error)}")
                outcome.failed += 1
                _release(emails[index + 1 :], lease)
                outcome.unreachable = True
                break
            else:
                _record_sent(email, lease)
                outcome.sent += 1
    finally:
        try:
            server.quit()
        except OSError:
            server.close()
    return outcome


def _permanent(error):
    """Say whether the server refused this message for good (a 5xx for its recipient or data)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _describe(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{address} refused: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {_text(error.smtp_error)}"
    else:
        text = str(error) or type(error).__name__
    # One line, as short as a table cell can show.
    line = " ".join(f"{type(error).__name__}: {text}".split())
    return line[:LAST_ERROR_LENGTH]


def _text(reply):
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _held(email, lease):
    return (
        (OutboxEmail.id == email.id)
        & (OutboxEmail.status == "sending")
        & (OutboxEmail.lease_until == lease)
    )


def _record_sent(email, lease):
    OutboxEmail.update(status="sent", sent_at=utcnow(), lease_until=None).where(
        _held(email, lease)
    ).execute()


def _record_failure(email, lease, problem, permanent=False):
    attempts = email.attempts + 1
    gives_up = permanent or attempts >= MAX_ATTEMPTS
    OutboxEmail.update(
        status="failed" if gives_up else "queued",
        attempts=attempts,
        last_error=problem,
        next_attempt_at=utcnow() + retry_delay(attempts),
        lease_until=None,
    ).where(_held(email, lease)).execute()


def _release(emails, lease):
    """Give back emails this sender did not try: due again at once, no attempt counted."""
    for email in emails:
        OutboxEmail.update(status="queued", lease_until=None).where(_held(email, lease)).execute()
