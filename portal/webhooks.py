"""Webhooks: what an account's integrations hear about its requests, and how it is signed.

`emit` writes one delivery per active webhook of the account in the caller's transaction (the
change and its news commit together, or neither does); inside a request the sender POSTs them
once the request is over (portal/webhook_views.py starts it), and `flask outbox send` from cron
takes whatever that missed. How a delivery is sent is portal/webhook_delivery.py; which URLs a
webhook may have is portal/webhook_urls.py. No Flask here.
"""

import contextlib
import contextvars
import hashlib
import hmac
import json
import secrets

from portal import webhook_urls
from portal.db import db, is_postgresql
from portal.models import Account, Webhook, WebhookDelivery, utcnow

# The events a webhook hears, each with when it is sent.
EVENTS = {
    "port_request.status_changed": "A request moved to another status.",
    "port_request.foc_scheduled": "Carrier Relations set (or moved) the FOC date.",
    "port_number.rejected": "One number of a request was rejected; the others go on.",
}
SIGNATURE_HEADER = "X-PortDesk-Signature"
# Each webhook is a fan-out of every event; a few per account cover every real integration.
MAX_WEBHOOKS = 10
# Deliveries written during the current web request, to send once it is over (None: not in one).
_after_request = contextvars.ContextVar("webhook_deliveries_after_request", default=None)


class WebhookRefused(ValueError):
    """The webhook was not registered; the message says why, for the owner."""


def emit(port_request, event, data):
    """Queue the event for each active webhook of the request's account; return the event id."""
    event_id = "evt_" + secrets.token_hex(12)
    now = utcnow()
    body = json.dumps(
        {
            "id": event_id,
            "type": event,
            "created_at": now.isoformat(timespec="seconds") + "Z",
            "data": {"port_request_id": port_request.id, **data},
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    hooks = Webhook.select(Webhook.id).where(
        (Webhook.account == port_request.account_id) & Webhook.active
    )
    rows = [
        {
            "webhook": hook.id,
            "event_id": event_id,
            "event": event,
            "body": body,
            "reference": f"port_request:{port_request.id}",
            "created_at": now,
            "next_attempt_at": now,
        }
        for hook in hooks
    ]
    if rows:
        written = WebhookDelivery.insert_many(rows).returning(WebhookDelivery.id).execute()
        _send_after_request([row.id for row in written])
    return event_id


def status_changed(port_request, previous, **data):
    """Queue "port_request.status_changed" for the request as it is now, from `previous`."""
    return emit(
        port_request,
        "port_request.status_changed",
        {"status": port_request.status, "previous_status": previous, **data},
    )


def signature(secret, timestamp, body):
    """Return the X-PortDesk-Signature value: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""
    if isinstance(body, str):
        body = body.encode()
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def register(account_id, url, *, user, allow_private=False):
    """Register the URL for the account; return the webhook and its secret (shown once).

    Raise WebhookRefused when the URL or an address of its host is not allowed, when it is
    registered already, or when the account has MAX_WEBHOOKS.
    """
    try:
        target = webhook_urls.check(url, allow_private=allow_private)
    except webhook_urls.UrlRefused as refused:
        raise WebhookRefused(str(refused)) from None
    with _account_locked(account_id):
        urls = [
            hook.url for hook in Webhook.select(Webhook.url).where(Webhook.account == account_id)
        ]
        if target.url in urls:
            raise WebhookRefused("This URL is registered already: its events go there.")
        if len(urls) >= MAX_WEBHOOKS:
            raise WebhookRefused(
                f"An account has at most {MAX_WEBHOOKS} webhooks: delete one you no longer use."
            )
        secret = "whsec_" + secrets.token_hex(24)
        hook = Webhook.create(account=account_id, url=target.url, secret=secret, created_by=user)
    return hook, secret


@contextlib.contextmanager
def _account_locked(account_id):
    """A transaction in which one writer at a time registers webhooks for the account (the
    count and the duplicate check then hold until the new row is in)."""
    if is_postgresql(db):
        with db.atomic() as transaction:
            Account.select(Account.id).where(Account.id == account_id).for_update().execute()
            yield transaction
    else:
        with db.atomic(lock_type="IMMEDIATE") as transaction:
            yield transaction


def delete(account_id, webhook_id):
    """Delete the account's webhook and its deliveries; return its URL, or None if not found."""
    hook = Webhook.get_or_none((Webhook.id == webhook_id) & (Webhook.account == account_id))
    if hook is None:
        return None
    # Its deliveries and their attempts go with it (ON DELETE CASCADE); a sender holding one
    # records nothing on a row that is gone.
    Webhook.delete().where(Webhook.id == hook.id).execute()
    return hook.url


def of_account(account_id):
    """Return the query of the account's deliveries (with their webhook's URL), newest first."""
    return (
        WebhookDelivery.select(WebhookDelivery, Webhook.url)
        .join(Webhook)
        .where(Webhook.account == account_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )


def send_again(account_id, delivery_id):
    """Make the account's delivery due now, its retries started over; say whether it was.

    A delivery a sender holds right now (`sending`) is left to it; a sent one goes again (the
    receiver's copy may be lost; the event id lets it tell a repeat).
    """
    mine = Webhook.select(Webhook.id).where(Webhook.account == account_id)
    changed = (
        WebhookDelivery.update(
            status="queued", attempts=0, next_attempt_at=utcnow(), lease_until=None, sent_at=None
        )
        .where(
            (WebhookDelivery.id == delivery_id)
            & WebhookDelivery.webhook.in_(mine)
            & WebhookDelivery.status.in_(("queued", "failed", "sent"))
        )
        .execute()
    )
    if changed:
        _send_after_request([delivery_id])
    return bool(changed)


def counts():
    """Return (waiting, failed): deliveries still to go out, and deliveries given up on."""
    waiting = WebhookDelivery.select().where(WebhookDelivery.status.in_(("queued", "sending")))
    failed = WebhookDelivery.select().where(WebhookDelivery.status == "failed")
    return waiting.count(), failed.count()


def collect_after_request():
    """Start noting the deliveries written from here on (a web request begins)."""
    _after_request.set([])


def collected():
    """Return the deliveries written since `collect_after_request`, and stop noting them."""
    ids = _after_request.get()
    _after_request.set(None)
    return ids or []


def _send_after_request(ids):
    pending = _after_request.get()
    if pending is not None:
        pending.extend(ids)
