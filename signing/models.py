"""The signing tables: one envelope per document sent for signature, and its hash-chained events.

The tables live in the caller's database (`database` is bound by `signing.init_app`, or by a
script), so a signature, the signed document the caller stores and the emails it queues are
written in one transaction.
"""

import datetime
from contextlib import contextmanager

from peewee import (
    BlobField,
    Check,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    TextField,
)
from peewee import CharField as _CharField

database = DatabaseProxy()

# An envelope's statuses. "expired" is not one: it is read from `expires_at`.
STATUSES = ("sent", "opened", "signed", "declined", "cancelled", "void", "replaced")
# "void": the document changed; "replaced": a newer envelope asks for the same signature.
FINAL = ("signed", "declined", "cancelled", "void", "replaced")
METHODS = ("email", "self")


def utcnow():
    """Return the time now in UTC, naive, to the microsecond (as both databases keep it)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class CharField(_CharField):
    """Text that never holds a NUL (PostgreSQL refuses them; a signer's page may send one)."""

    def db_value(self, value):
        if isinstance(value, str):
            value = value.replace("\x00", "")
        return super().db_value(value)


class _Model(Model):
    class Meta:
        database = database
        legacy_table_names = False


def _in(column, values):
    return Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class SigningEnvelope(_Model):
    """One document sent to one person for signature, and where it stands.

    `reference` is the caller's name for what is signed ("port_request:12"); signing never reads
    it. `content_key` is the caller's digest of the data the document was made from, so the
    caller can tell a signature of data that has changed since. `generation` goes up on every
    resend and cancel: a link names its generation, and only the current one works.
    """

    reference = CharField(max_length=100, index=True)
    requester_name = CharField(max_length=300)  # the account asking, shown to the signer
    requested_by = CharField(max_length=300)  # the person asking, named in the email
    title = CharField(max_length=300)
    document = BlobField()  # the PDF exactly as shown to the signer
    document_sha256 = CharField(max_length=64)
    content_key = CharField(max_length=64)
    # JSON: {"signature": {"page", "x", "y", "width", "height"}, "date": {...}, "name": {...}},
    # in points from the page's top-left corner, pages counted from 0.
    boxes = TextField()
    method = CharField(max_length=10, constraints=[_in("method", METHODS)])
    signer_name = CharField(max_length=300)
    signer_email = CharField(max_length=320)
    message = TextField(null=True)
    status = CharField(max_length=12, constraints=[_in("status", STATUSES)])
    generation = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    reminders = IntegerField(default=0)
    last_sent_at = DateTimeField(default=utcnow)  # the last email with a link (sent or reminded)
    signed_at = DateTimeField(null=True)
    signed_sha256 = CharField(max_length=64, null=True)
    decline_reason = TextField(null=True)
    # The hash of the envelope's last event: a last event removed (which leaves the chain before
    # it whole) no longer matches it.
    last_hash = CharField(max_length=64, null=True)

    @classmethod
    def latest(cls, reference):
        """Return the newest envelope for this reference, or None."""
        return (
            cls.select()
            .where(cls.reference == reference)
            .order_by(cls.created_at.desc(), cls.id.desc())
            .first()
        )

    def expired(self, now=None):
        """Say whether the envelope's links have run out (a final envelope never expires)."""
        return self.status not in FINAL and (now or utcnow()) >= self.expires_at


class SigningEvent(_Model):
    """One thing that happened to an envelope: kind, UTC time, IP, user agent, and its hash.

    `hash` is the SHA-256 of the event's own values and `previous_hash` (the hash of the event
    before it): editing, removing or reordering any event breaks every hash after it.
    """

    envelope = ForeignKeyField(SigningEnvelope, backref="events", on_delete="CASCADE")
    seq = IntegerField()
    kind = CharField(max_length=30)
    at = DateTimeField(default=utcnow)
    actor = CharField(max_length=400)
    ip = CharField(max_length=64)
    user_agent = CharField(max_length=500)
    detail = TextField(default="{}")  # JSON
    previous_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        indexes = ((("envelope", "seq"), True),)

    @classmethod
    def of_envelope(cls, envelope):
        """Return the envelope's events in order."""
        return cls.select().where(cls.envelope == envelope).order_by(cls.seq)


TABLES = [SigningEnvelope, SigningEvent]


@contextmanager
def writing():
    """A transaction in which one envelope is changed by one writer at a time.

    SQLite takes its write lock up front (BEGIN IMMEDIATE); on PostgreSQL the envelope's row is
    locked as it is read (`locked`).
    """
    if _postgresql():
        with database.atomic() as transaction:
            yield transaction
    else:
        with database.atomic(lock_type="IMMEDIATE") as transaction:
            yield transaction


def _postgresql():
    target = database.obj
    target = getattr(target, "obj", target)
    return isinstance(target, PostgresqlDatabase)


def locked(envelope_id):
    """Inside `writing()`: read the envelope again, its row locked on PostgreSQL; or None."""
    query = SigningEnvelope.select().where(SigningEnvelope.id == envelope_id)
    if _postgresql():
        query = query.for_update()
    return query.first()
