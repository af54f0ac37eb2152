"""The tables: accounts and their users, the platform's inventory, number claims and
uploads, API keys.

Numbers are stored in E.164 (`+13122630100`). The platform's own ids (accounts, tracking
sources, routing targets) are the primary keys here, so a port request can say "routing 901"
and mean the same thing the platform does.
"""

import hashlib
import re
import secrets
from datetime import UTC, datetime

from peewee import (
    JOIN,
    BlobField,
    BooleanField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
)
from werkzeug.security import check_password_hash, generate_password_hash

from portal.db import Prepared, db

ROLES = ("owner", "staff")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
API_KEY_PREFIX = "pd_"


def utcnow():
    """Return the current UTC time as a naive datetime (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class NulFreeCharField(CharField):
    """A CharField that drops NUL characters on the way to the database.

    PostgreSQL refuses any text with a NUL in it ("A string literal cannot contain NUL"), and no
    one means to type one. Text reaches the tables from forms, uploaded files' names, the JSON API,
    the CLI and the inventory import: the field is the one door all of them pass, so the rule
    lives here rather than in each form or in a request hook that would miss the CLI. Peewee
    applies db_value to values compared with the field too, so a lookup with a NUL finds what
    was stored without it.
    """

    def db_value(self, value):
        if isinstance(value, str):
            value = value.replace("\x00", "")
        return super().db_value(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Account(BaseModel):
    id = IntegerField(primary_key=True)
    name = NulFreeCharField(max_length=200)
    fail_safe_number = NulFreeCharField(max_length=16, null=True)
    created_at = DateTimeField(default=utcnow)


class User(BaseModel):
    email = NulFreeCharField(max_length=254, unique=True)
    # None until a password is set: users that arrive with the inventory cannot sign in yet.
    password_hash = NulFreeCharField(max_length=255, null=True)
    name = NulFreeCharField(max_length=200)
    phone = NulFreeCharField(max_length=16, null=True)
    role = NulFreeCharField(max_length=10, constraints=[Check("role IN ('owner', 'staff')")])
    account = ForeignKeyField(Account, null=True, backref="users", on_delete="RESTRICT")
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    # Kept in the session at sign-in; raising it ends every session signed in before.
    session_version = IntegerField(default=1)

    class Meta:
        table_name = "users"
        constraints = [Check("role = 'staff' OR account_id IS NOT NULL")]

    @property
    def is_staff(self):
        return self.role == "staff"

    @classmethod
    def by_email(cls, email):
        """Return the user with this email (any case), or None."""
        return cls.get_or_none(cls.email == normalize_email(email))

    @classmethod
    def signed_in(cls, user_id, session_version):
        """Return the active user a session names, with their account, or None when that session
        has ended."""
        return _SIGNED_IN.first(user_id=user_id, session_version=session_version)

    def end_sessions(self):
        """End every session this user has signed in, on any browser."""
        User.update(session_version=User.session_version + 1).where(User.id == self.id).execute()

    def set_password(self, password, method="scrypt"):
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


def normalize_email(email):
    """Return the email as stored: trimmed and lower-case."""
    return email.strip().lower()


def looks_like_email(email):
    """Say whether the text has the shape of an email address (one @, a dotted domain)."""
    return len(email) <= 254 and EMAIL_SHAPE.fullmatch(email) is not None


class LoginThrottle(BaseModel):
    """Sign-in tries per email in the current window (portal/throttle.py moves the count).

    Kept for emails with no user too, so the answer never tells whether an account exists.
    """

    email = NulFreeCharField(max_length=254, unique=True)
    # Tries counted in this window, less the ones that signed in.
    failures = IntegerField(default=0)
    window_started_at = DateTimeField(default=utcnow)


class TrackingSource(BaseModel):
    id = IntegerField(primary_key=True)
    account = ForeignKeyField(Account, backref="tracking_sources", on_delete="CASCADE")
    name = NulFreeCharField(max_length=200)


class RoutingTarget(BaseModel):
    id = IntegerField(primary_key=True)
    account = ForeignKeyField(Account, backref="routing_targets", on_delete="CASCADE")
    name = NulFreeCharField(max_length=200)
    kind = NulFreeCharField(max_length=40)
    # The number it rings, where it has one (a receiving-number target does).
    number = NulFreeCharField(max_length=16, null=True)


class ReceivingNumber(BaseModel):
    account = ForeignKeyField(Account, backref="receiving_numbers", on_delete="CASCADE")
    number = NulFreeCharField(max_length=16)
    name = NulFreeCharField(max_length=200, default="")
    active = BooleanField(default=True)

    class Meta:
        indexes = ((("account", "number"), True),)


class TrackingNumber(BaseModel):
    number = NulFreeCharField(max_length=16, unique=True)
    account = ForeignKeyField(Account, backref="tracking_numbers", on_delete="CASCADE")
    tracking_source = ForeignKeyField(TrackingSource, null=True, on_delete="SET NULL")
    routing_target = ForeignKeyField(RoutingTarget, null=True, on_delete="SET NULL")


class NumberClaim(BaseModel):
    """A number held by a submitted, in-progress or completed port request (any account).

    A row exists only while the claim is active: the request issues add it on submit and delete
    it when a request is cancelled or rejected. The unique number is what stops two requests
    from porting the same number.
    """

    number = NulFreeCharField(max_length=16, unique=True)
    account = ForeignKeyField(Account, backref="number_claims", on_delete="CASCADE")
    # The port request table arrives with the wizard issue, which adds the foreign key.
    port_request_id = IntegerField(null=True)
    claimed_at = DateTimeField(default=utcnow)


class NumberUpload(BaseModel):
    """A CSV of numbers an owner uploaded, kept as sent so nothing uploaded is lost.

    The check page re-reads it to filter or download its results; the wizard takes its numbers,
    with their routing and tracking source ids, to the configure step.
    """

    account = ForeignKeyField(Account, backref="number_uploads", on_delete="CASCADE")
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    filename = NulFreeCharField(max_length=255)
    content = BlobField()
    created_at = DateTimeField(default=utcnow)


class ApiKey(BaseModel):
    """A key for the JSON API; only its SHA-256 is stored, the key is shown once."""

    account = ForeignKeyField(Account, backref="api_keys", on_delete="CASCADE")
    name = NulFreeCharField(max_length=200, default="")
    prefix = NulFreeCharField(max_length=16)
    key_hash = NulFreeCharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    @classmethod
    def issue(cls, account, name=""):
        """Create a key for the account; return (row, the key in clear, never stored)."""
        secret = secrets.token_urlsafe(32)
        key = f"{API_KEY_PREFIX}{secret}"
        row = cls.create(account=account, name=name, prefix=key[:10], key_hash=_digest(key))
        return row, key

    @classmethod
    def find_active(cls, key):
        """Return the unrevoked key row for this clear key, with its account, or None."""
        return _ACTIVE_KEY.first(key_hash=_digest(key))


def _digest(key):
    # The key is 256 random bits: a fast hash is enough, a slow one only costs every API call.
    return hashlib.sha256(key.encode()).hexdigest()


# Every page and every API call looks these up, so their SQL is built once (see Prepared). Each
# brings the account in the same query: nearly every page and every check reads it.
_SIGNED_IN = Prepared(
    lambda user_id, session_version: (
        User.select(User, Account)
        .join(Account, JOIN.LEFT_OUTER)
        .where(User.id == user_id)
        .where(User.is_active)
        .where(User.session_version == session_version)
    ),
    "user_id",
    "session_version",
)
_ACTIVE_KEY = Prepared(
    lambda key_hash: (
        ApiKey.select(ApiKey, Account)
        .join(Account)
        .where(ApiKey.key_hash == key_hash)
        .where(ApiKey.revoked_at.is_null())
    ),
    "key_hash",
)


TABLES = [
    Account,
    User,
    LoginThrottle,
    TrackingSource,
    RoutingTarget,
    ReceivingNumber,
    TrackingNumber,
    NumberClaim,
    NumberUpload,
    ApiKey,
]
