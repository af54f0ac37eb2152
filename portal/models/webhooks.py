"""An account's webhooks: the URLs its integrations registered, and each event on its way there."""

from peewee import BooleanField, Check, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.accounts import Account, User
from portal.models.base import BaseModel, NulFreeCharField, utcnow

DELIVERY_STATUSES = ("queued", "sending", "sent", "failed")


class Webhook(BaseModel):
    """A URL that hears about the account's requests. `secret` signs every body sent to it; the
    owner sees it once, when the webhook is made."""

    account = ForeignKeyField(Account, backref="webhooks", on_delete="CASCADE")
    url = NulFreeCharField(max_length=2000)
    secret = NulFreeCharField(max_length=100)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    active = BooleanField(default=True)


class WebhookDelivery(BaseModel):
    """One event for one webhook, written in the transaction of the change it tells of.

    Its statuses and lease work as an OutboxEmail's: `queued` waits for `next_attempt_at`,
    `sending` is held by one sender until `lease_until`, `failed` gave up and waits for "send
    again". `event_id` is the same for every webhook told of one event (receivers dedupe on it).
    """

    webhook = ForeignKeyField(Webhook, backref="deliveries", on_delete="CASCADE")
    event_id = NulFreeCharField(max_length=40)
    event = NulFreeCharField(max_length=60)
    body = TextField()
    reference = NulFreeCharField(max_length=100, null=True)  # "port_request:12"
    status = NulFreeCharField(
        max_length=10,
        default="queued",
        constraints=[Check("status IN ('queued', 'sending', 'sent', 'failed')")],
    )
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    lease_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("webhook", "created_at"), False),)


class WebhookAttempt(BaseModel):
    """One POST of a delivery: the receiver's status code, or what went wrong, and how long."""

    delivery = ForeignKeyField(WebhookDelivery, backref="attempt_log", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    status_code = IntegerField(null=True)
    error = TextField(null=True)
    duration_ms = IntegerField(default=0)

    class Meta:
        indexes = ((("delivery", "at"), False),)
