"""Accounts, the people who sign in to them, sign-in throttling and API keys."""

import hashlib
import re
import secrets

from peewee import JOIN, BooleanField, Check, DateTimeField, ForeignKeyField, IntegerField
from werkzeug.security import check_password_hash, generate_password_hash

from portal.db import Prepared
from portal.models.base import BaseModel, NulFreeCharField, utcnow

ROLES = ("owner", "staff")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
API_KEY_PREFIX = "pd_"


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
