"""What happened to a port request, and what its owner agreed to and decided along the way."""

from peewee import BooleanField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.accounts import User
from portal.models.base import BaseModel, NulFreeCharField, utcnow
from portal.models.requests import PortRequest


class RequestEvent(BaseModel):
    """One line of a request's timeline: who did what, when.

    `actor` keeps the words shown ("Dana Reyes", "API key 'CRM sync'") so the line still reads
    right after the user or the key is gone; `user` links it while they exist.
    """

    port_request = ForeignKeyField(PortRequest, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor = NulFreeCharField(max_length=300)
    kind = NulFreeCharField(max_length=40)
    message = TextField()

    @classmethod
    def of_request(cls, port_request):
        """Return the request's events, oldest first."""
        return cls.select().where(cls.port_request == port_request).order_by(cls.at, cls.id)


class AgreementAcceptance(BaseModel):
    """An owner's acceptance of one statement of the agreements step, as the text read then.

    The text's SHA-256 is its version: when the statement's text changes, the old acceptance no
    longer counts and the owner accepts the new text.
    """

    port_request = ForeignKeyField(PortRequest, backref="acceptances", on_delete="CASCADE")
    statement = NulFreeCharField(max_length=40)
    text = TextField()
    text_sha256 = NulFreeCharField(max_length=64)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    user_name = NulFreeCharField(max_length=300)
    accepted_at = DateTimeField(default=utcnow)
    ip = NulFreeCharField(max_length=64)

    class Meta:
        indexes = ((("port_request", "statement", "text_sha256"), True),)


class ReceivingReroute(BaseModel):
    """A tracking number that rings a receiving number being ported, and where it rings instead.

    The owner keeps an active receiving number in a request by choosing a new routing for every
    tracking number that rings it; staff apply these at completion. A receiving number that no
    tracking number rings is kept by one row without a tracking number (nothing to re-route).
    """

    port_request = ForeignKeyField(PortRequest, backref="reroutes", on_delete="CASCADE")
    receiving_number = NulFreeCharField(max_length=16)
    tracking_number = NulFreeCharField(max_length=16, null=True)
    # Chosen by the owner; None until chosen.
    routing_id = IntegerField(null=True)

    class Meta:
        indexes = ((("port_request", "tracking_number"), True),)


class WarningConfirmation(BaseModel):
    """An owner's "I checked: it is right" on one warning, as the warning read then.

    It counts only while the warning says the same thing (same field, code and message): a
    changed field or a new bill makes a new warning, which asks again.
    """

    port_request = ForeignKeyField(PortRequest, backref="confirmations", on_delete="CASCADE")
    field = NulFreeCharField(max_length=200)
    code = NulFreeCharField(max_length=60)
    message = TextField()
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    user_name = NulFreeCharField(max_length=300)
    confirmed_at = DateTimeField(default=utcnow)


class RequestComment(BaseModel):
    """A comment on a request, by its owner or by staff. Staff may keep one internal: owners
    never see those. `author` keeps the name shown after the user is gone."""

    port_request = ForeignKeyField(PortRequest, backref="comments", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    author = NulFreeCharField(max_length=300)
    by_staff = BooleanField(default=False)
    internal = BooleanField(default=False)
    body = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("port_request", "created_at"), False),)

    @classmethod
    def of_request(cls, port_request, *, internal=False):
        """Return the request's comments, oldest first; the internal ones only if asked."""
        query = cls.select().where(cls.port_request == port_request)
        if not internal:
            query = query.where(cls.internal == False)  # noqa: E712  (SQL, not Python)
        return query.order_by(cls.created_at, cls.id)
