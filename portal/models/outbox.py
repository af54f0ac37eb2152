"""Email on its way out: written in the same transaction as what caused it, sent after commit."""

from peewee import Check, DateTimeField, IntegerField, TextField

from portal.models.base import BaseModel, NulFreeCharField, utcnow

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")


class OutboxEmail(BaseModel):
    """One email: its parts as they will be sent, and how its delivery has gone so far.

    `queued` waits for `next_attempt_at`; `sending` is held by one sender until `lease_until`
    (a sender that died leaves it to be taken again after that); `failed` gave up after the
    last retry and waits for someone to send it again. Nothing is deleted when it is sent.
    """

    to_address = NulFreeCharField(max_length=320)
    subject = NulFreeCharField(max_length=300)
    text_body = TextField()
    html_body = TextField(null=True)
    # What the email is about, for the staff page and tests: "signing_link", "password_reset"...
    purpose = NulFreeCharField(max_length=40)
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
