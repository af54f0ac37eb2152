"""Every signed token PortDesk hands out, in one place: who may make one, what it holds, how long
it lives.

Each purpose has a salt of its own, so a token made for one purpose is refused by every other,
and holds only ids (never a name, an email or a document). Tokens are itsdangerous's, signed
with the app's secret key; a token's age is checked against the purpose's lifetime here, and
whatever it points at is checked again by its reader (a link replaced by a newer one, a password
already changed).
"""

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SIGNING_LINK = "portdesk.signing-link"
PASSWORD_RESET = "portdesk.password-reset"


class TokenInvalid(Exception):
    """Not a token of this purpose: tampered, cut short, made for another purpose or key."""


class TokenExpired(Exception):
    """A genuine token of this purpose, older than its lifetime; `payload` is what it held."""

    def __init__(self, payload):
        super().__init__("expired")
        self.payload = payload


@dataclass(frozen=True)
class SigningLink:
    """What a signing link's token holds: the envelope, and which of its links (generation)."""

    envelope_id: int
    generation: int


def _serializer(secret_key, purpose):
    return URLSafeTimedSerializer(secret_key, salt=purpose)


def _load(secret_key, purpose, token, max_age_seconds):
    if not isinstance(token, str) or not token or len(token) > 500 or not token.isascii():
        raise TokenInvalid()
    serializer = _serializer(secret_key, purpose)
    try:
        return serializer.loads(token, max_age=max_age_seconds)
    except SignatureExpired as expired:
        # The signature is genuine (itsdangerous checks it before the age): the payload is ours.
        raise TokenExpired(expired.payload and _payload(serializer, expired.payload)) from None
    except (BadSignature, UnicodeError, ValueError, TypeError):
        raise TokenInvalid() from None


def _payload(serializer, raw):
    try:
        return serializer.load_payload(raw)
    except BadSignature:
        return None


def make_signing_link(secret_key, envelope_id, generation):
    """Return the token of an envelope's signing link for this generation."""
    return _serializer(secret_key, SIGNING_LINK).dumps([int(envelope_id), int(generation)])


def read_signing_link(secret_key, token, max_age_days):
    """Return the SigningLink a token holds; raise TokenInvalid or TokenExpired.

    TokenExpired's payload is the SigningLink too, so an expired link can still say whose it was
    and offer to ask for a new one.
    """
    try:
        payload = _load(secret_key, SIGNING_LINK, token, max_age_days * 86_400)
    except TokenExpired as expired:
        raise TokenExpired(_signing_link(expired.payload)) from None
    link = _signing_link(payload)
    if link is None:
        raise TokenInvalid()
    return link


def _signing_link(payload):
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and all(isinstance(part, int) and not isinstance(part, bool) for part in payload)
        and all(0 < part < 2**62 for part in payload)
    ):
        return SigningLink(*payload)
    return None


def make_password_reset(secret_key, user_id, password_fingerprint):
    """Return a password-reset token for the user, dead once the password changes.

    `password_fingerprint` is derived from the stored password hash: a new password (this
    reset's or any other) makes every reset token made before it fail.
    """
    return _serializer(secret_key, PASSWORD_RESET).dumps([int(user_id), password_fingerprint])


def read_password_reset(secret_key, token, max_age_seconds=3600):
    """Return (user id, password fingerprint) a reset token holds; raise TokenInvalid or
    TokenExpired."""
    payload = _load(secret_key, PASSWORD_RESET, token, max_age_seconds)
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and not isinstance(payload[0], bool)
        and isinstance(payload[1], str)
    ):
        return payload[0], payload[1]
    raise TokenInvalid()
