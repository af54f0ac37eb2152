"""Sending the outbox over SMTP: take the due emails, send them, record how each went (no Flask).

A sender first takes its emails with `portal.leases` (a lease of its own on each; two senders
never hold the same email), and records an outcome only while its lease is still the one on
the row. One SMTP connection carries a batch.
A failure waits a minute, doubling up to an hour, for about two days; a recipient or message the
server refuses for good (5xx) fails at once.
"""

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from portal import leases
from portal.models import OutboxEmail, utcnow

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


def deliver(relay, limit, ids=None):
    """Send up to `limit` due emails (only these ids, if given); return (sent, failed)."""
    sent = failed = 0
    while sent + failed < limit:
        emails, lease = _take(relay, min(BATCH_SIZE, limit - sent - failed), ids)
        if not emails:
            break
        outcome = _send_batch(relay, emails, lease)
        sent += outcome.sent
        failed += outcome.failed
        if outcome.unreachable or not (outcome.sent or outcome.failed):
            break
    return sent, failed


def _take(relay, count, ids=None):
    """Take up to `count` due emails for this sender alone; return them and the lease."""
    lease = utcnow() + relay.lease(count)
    return leases.take(OutboxEmail, count, lease, ids), lease


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
            except (smtplib.SMTPNotSupportedError, UnicodeEncodeError) as error:
                # An address this server cannot take (non-ASCII, no SMTPUTF8): no retry will
                # change that, and the emails after it are not to wait for it.
                problem = f"the mail server cannot take this address: {_describe(error)}"
                _record_failure(email, lease, problem, permanent=True)
                outcome.failed += 1
                with contextlib.suppress(OSError):
                    server.rset()
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
    return leases.held(OutboxEmail, email.id, lease)


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
