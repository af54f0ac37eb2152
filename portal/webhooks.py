"""Webhooks: what an account's integrations hear about its requests, and how it is signed.

`emit` writes one delivery per active webhook of the account in the caller's transaction (the
change and its news commit together, or neither does); the sender POSTs them after commit, and
`flask outbox send` from cron takes whatever that missed.
"""

import hashlib
import hmac
import json
import secrets

from portal.models import Webhook, WebhookDelivery, utcnow

# The events a webhook hears, each with when it is sent.
EVENTS = {
    "port_request.status_changed": "A request moved to another status.",
    "port_request.foc_scheduled": "Carrier Relations set (or moved) the FOC date.",
    "port_number.rejected": "One number of a request was rejected; the others go on.",
}
SIGNATURE_HEADER = "X-PortDesk-Signature"


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
        WebhookDelivery.insert_many(rows).execute()
    return event_id


def signature(secret, timestamp, body):
    """Return the X-PortDesk-Signature value: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""
    if isinstance(body, str):
        body = body.encode()
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"
