"""POSTing webhook deliveries: take the due ones, POST each signed, log every attempt (no Flask).

A sender takes its deliveries as the email outbox does, with `portal.leases` (a lease of its own
on each row, an outcome recorded only while the lease is still its), so two senders never POST
one delivery twice. A failure waits delivery.retry_delay (a minute, doubling to an hour) for
about 48 hours, then the delivery fails and waits for "send again".

Each POST checks the URL's addresses again (portal/webhook_urls.py) and goes to one it checked,
ending after WEBHOOK_TIMEOUT seconds whatever the receiver does (portal/webhook_http.py): the
lease counts on it.
"""

import http.client
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta

from portal import leases, webhook_http, webhook_urls
from portal.db import db
from portal.delivery import MAX_ATTEMPTS, retry_delay
from portal.models import Webhook, WebhookAttempt, WebhookDelivery, utcnow
from portal.webhooks import SIGNATURE_HEADER, signature

BATCH_SIZE = 10
# What a sender may spend on one delivery beyond its POST's timeout: the DNS lookup, which no
# socket timeout bounds (the resolver's own, about 5 seconds a try).
LOOKUP_ALLOWANCE = timedelta(seconds=20)
LEASE_MARGIN = timedelta(seconds=30)
EXCERPT_LENGTH = 200
LAST_ERROR_LENGTH = 500
USER_AGENT = "PortDesk-Webhooks/1.0"


@dataclass(frozen=True)
class Sending:
    """How deliveries are POSTed: the timeout, whether private addresses are allowed, and the
    TLS context that checks the receivers' certificates."""

    timeout: int
    allow_private: bool = False
    tls: ssl.SSLContext | None = None  # None: the system's trusted certificates

    @classmethod
    def from_config(cls, config):
        """Return what the app's WEBHOOK_TIMEOUT and WEBHOOK_ALLOW_PRIVATE settings say."""
        return cls(
            timeout=config["WEBHOOK_TIMEOUT"],
            allow_private=config["WEBHOOK_ALLOW_PRIVATE"],
            tls=ssl.create_default_context(),
        )

    def per_delivery(self):
        return timedelta(seconds=self.timeout) + LOOKUP_ALLOWANCE


@dataclass(frozen=True)
class Outcome:
    """What one POST came to: the receiver's status code (None if no answer), what went wrong."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def sent(self):
        return self.error is None


def deliver(sending, limit, ids=None):
    """POST up to `limit` due deliveries (only these ids, if given); return (sent, failed)."""
    sent = failed = 0
    while sent + failed < limit:
        taken, lease = _take(sending, min(BATCH_SIZE, limit - sent - failed), ids)
        if not taken:
            break
        hooks = {
            hook.id: hook
            for hook in Webhook.select().where(Webhook.id.in_({row.webhook_id for row in taken}))
        }
        for index, row in enumerate(taken):
            if utcnow() + sending.per_delivery() >= lease - LEASE_MARGIN:
                # Out of time: another sender may take these from now on.
                _release(taken[index:], lease)
                return sent, failed
            hook = hooks.get(row.webhook_id)
            if hook is None:  # deleted meanwhile, with its deliveries
                continue
            outcome = attempt(sending, hook, row)
            _record(row, lease, outcome)
            sent, failed = (sent + 1, failed) if outcome.sent else (sent, failed + 1)
    return sent, failed


def _take(sending, count, ids=None):
    """Take up to `count` due deliveries for this sender alone; return them and the lease."""
    lease = utcnow() + sending.per_delivery() * count + LEASE_MARGIN * 2
    return leases.take(WebhookDelivery, count, lease, ids), lease


def attempt(sending, hook, row):
    """POST the delivery to its webhook once, signed now; return how it went."""
    started = time.monotonic()
    body = row.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PortDesk-Event": row.event,
        SIGNATURE_HEADER: signature(hook.secret, int(time.time()), body),
        "Connection": "close",
    }
    status_code = error = None
    try:
        target = webhook_urls.parse(hook.url, allow_private=sending.allow_private)
        addresses = webhook_urls.addresses_of(target, allow_private=sending.allow_private)
        answer = webhook_http.post(
            target, addresses, body, headers, timeout=sending.timeout, tls=sending.tls
        )
        status_code = answer.status
        if not 200 <= answer.status < 300:
            error = _refusal(answer)
    except webhook_urls.UrlRefused as refused:
        error = f"not sent: {refused}"
    except (OSError, http.client.HTTPException) as problem:  # ssl and socket errors included
        error = _describe(problem)
    duration_ms = round((time.monotonic() - started) * 1000)
    return Outcome(status_code, error and error[:LAST_ERROR_LENGTH], duration_ms)


def _refusal(answer):
    said = f"HTTP {answer.status} {answer.reason}".strip()
    if 300 <= answer.status < 400:
        return f"{said}: redirects are not followed (Location: {answer.location or 'none'})"
    text = " ".join(answer.excerpt.decode("utf-8", "replace").split())
    if len(text) > EXCERPT_LENGTH:
        text = text[: EXCERPT_LENGTH - 1] + "…"
    return f"{said}: {text}" if text else said


def _describe(error):
    text = str(error) or type(error).__name__
    return " ".join(f"{type(error).__name__}: {text}".split())


def _held(row, lease):
    return leases.held(WebhookDelivery, row.id, lease)


def _record(row, lease, outcome):
    """Record the attempt and where the delivery stands, if this sender still holds it."""
    now = utcnow()
    attempts = row.attempts + 1
    if outcome.sent:
        changes = {"status": "sent", "sent_at": now, "last_error": None}
    else:
        changes = {
            "status": "failed" if attempts >= MAX_ATTEMPTS else "queued",
            "last_error": outcome.error,
            "next_attempt_at": now + retry_delay(attempts),
        }
    with db.atomic():
        held = (
            WebhookDelivery.update(attempts=attempts, lease_until=None, **changes)
            .where(_held(row, lease))
            .execute()
        )
        if held:
            WebhookAttempt.create(
                delivery=row.id,
                at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )


def _release(rows, lease):
    """Give back deliveries this sender did not try: due again at once, no attempt counted."""
    for row in rows:
        WebhookDelivery.update(status="queued", lease_until=None).where(_held(row, lease)).execute()


_senders = leases.Senders("webhook-sender")


def send_in_background(sending, ids):
    """POST these deliveries from a thread (a web request's, once it is over)."""
    _senders.start(deliver, sending, len(ids), ids)


def wait_for_senders(timeout=10):
    """Wait for the background senders to finish; say whether they all did."""
    return _senders.wait(timeout)
