"""Configuration layers: defaults, then the environment, then the caller's dict."""

import contextlib
import os
import secrets
import sys
import time
from pathlib import Path

DEFAULTS = {
    # None means "a SQLite file in the instance folder"; see database_url().
    "DATABASE_URL": None,
    # None means "generated once and kept in the instance folder"; see secret_key().
    "SECRET_KEY": None,
    "AUTO_MIGRATE": True,
    # Two documents of MAX_DOCUMENT_BYTES (a fax port sends both at once) and the form around them.
    "MAX_CONTENT_LENGTH": 24 * 1024 * 1024,
    # Database connections kept open per process, and how long a request waits for a free one.
    "DB_POOL_SIZE": 8,
    "DB_POOL_TIMEOUT": 10,
    # SQLite reads through a memory map this large; mapped pages count in the process's RSS.
    "SQLITE_MMAP_MB": 64,
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "PortDesk <portdesk@localhost>",
    # Send each email right after the transaction that queued it commits (in a thread of the
    # worker); `flask outbox send` from cron delivers whatever that missed. Off in most tests.
    "OUTBOX_SEND_AFTER_COMMIT": True,
    # Where links in emails point: the portal's public address (None: the address the request
    # that queued the email came to).
    "PUBLIC_URL": None,
    # How long a signing link works, in days.
    "SIGNING_LINK_DAYS": 7,
    # The carrier the LOA names as the customer's agent: the platform's own.
    "PORTING_CARRIER": "PortDesk Communications, Inc.",
    # Carrier Relations' team address for resubmits and comments (None: every staff user's own).
    "STAFF_EMAIL": None,
    # The sealing key and certificate (PEM) of packets and signed LOAs. None: a self-signed pair
    # generated once into the instance folder, as the secret key is.
    "SEAL_KEY_PATH": None,
    "SEAL_CERT_PATH": None,
    # Webhook URLs must be HTTPS on a public address; tests and a private network may allow
    # http and loopback, private or link-local addresses.
    "WEBHOOK_ALLOW_PRIVATE": False,
    # How long one POST to a webhook may take, in seconds.
    "WEBHOOK_TIMEOUT": 10,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_SECONDS": 15 * 60,
    "PASSWORD_HASH_METHOD": "scrypt",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # How many reverse proxies stand in front of the app (nginx: 1). Their X-Forwarded-For,
    # -Proto, -Host and -Prefix are believed from that many hops, no more: with 0 (no proxy) a
    # client's own X-Forwarded-For is ignored, so it cannot write the IP a signature records.
    "PROXY_COUNT": 0,
    # A form stays valid as long as the session; a timed-out token only annoys.
    "WTF_CSRF_TIME_LIMIT": None,
    # Business days between today and the earliest date a port request may ask for.
    "PORT_LEAD_BUSINESS_DAYS": 7,
    # The largest document (a bill, a signed LOA, a fax port's papers) one upload may be.
    "MAX_DOCUMENT_BYTES": 10 * 1024 * 1024,
}


class ConfigError(Exception):
    """A setting that PortDesk cannot start with."""


def _text(name, raw):
    return raw


def _whole_number(name, raw, least=0, most=None):
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < least or (most is not None and value > most):
        allowed = f"from {least} to {most}" if most is not None else f"at least {least}"
        raise ConfigError(f"{name} must be {allowed}, got {raw!r}")
    return value


def _at_least_one(name, raw):
    return _whole_number(name, raw, least=1)


def _port(name, raw):
    return _whole_number(name, raw, least=1, most=65535)


def _switch(name, raw):
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _megabytes(name, raw):
    # 0 would refuse every form, the sign-in included.
    return _at_least_one(name, raw) * 1024 * 1024


# Environment variable -> (config key, parser).
ENVIRONMENT = {
    "DATABASE_URL": ("DATABASE_URL", _text),
    "SECRET_KEY": ("SECRET_KEY", _text),
    "AUTO_MIGRATE": ("AUTO_MIGRATE", _switch),
    "MAX_UPLOAD_MB": ("MAX_CONTENT_LENGTH", _megabytes),
    "DB_POOL_SIZE": ("DB_POOL_SIZE", _at_least_one),
    "DB_POOL_TIMEOUT": ("DB_POOL_TIMEOUT", _at_least_one),
    "SQLITE_MMAP_MB": ("SQLITE_MMAP_MB", _whole_number),
    "SMTP_HOST": ("SMTP_HOST", _text),
    "SMTP_PORT": ("SMTP_PORT", _port),
    "SMTP_USERNAME": ("SMTP_USERNAME", _text),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", _text),
    "SMTP_STARTTLS": ("SMTP_STARTTLS", _switch),
    "SMTP_SSL": ("SMTP_SSL", _switch),
    "SMTP_TIMEOUT": ("SMTP_TIMEOUT", _at_least_one),
    "MAIL_FROM": ("MAIL_FROM", _text),
    "OUTBOX_SEND_AFTER_COMMIT": ("OUTBOX_SEND_AFTER_COMMIT", _switch),
    "PUBLIC_URL": ("PUBLIC_URL", _text),
    "SIGNING_LINK_DAYS": ("SIGNING_LINK_DAYS", _at_least_one),
    "PORTING_CARRIER": ("PORTING_CARRIER", _text),
    "STAFF_EMAIL": ("STAFF_EMAIL", _text),
    "SEAL_KEY_PATH": ("SEAL_KEY_PATH", _text),
    "SEAL_CERT_PATH": ("SEAL_CERT_PATH", _text),
    "WEBHOOK_ALLOW_PRIVATE": ("WEBHOOK_ALLOW_PRIVATE", _switch),
    "WEBHOOK_TIMEOUT": ("WEBHOOK_TIMEOUT", _at_least_one),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _switch),
    "PROXY_COUNT": ("PROXY_COUNT", _whole_number),
    "PORT_LEAD_BUSINESS_DAYS": ("PORT_LEAD_BUSINESS_DAYS", _whole_number),
    "MAX_DOCUMENT_MB": ("MAX_DOCUMENT_BYTES", _megabytes),
}


# gunicorn's master stops (rather than restart the worker again and again) when a worker
# exits with this status, which it calls "App failed to load".
CANNOT_START = 4


@contextlib.contextmanager
def stop_on_config_error():
    """Turn a ConfigError into one line on stderr and a non-zero exit, not a traceback."""
    try:
        yield
    except ConfigError as error:
        print(f"PortDesk cannot start: {error}", file=sys.stderr, flush=True)
        raise SystemExit(CANNOT_START) from None


def from_environment(environ=None):
    """Return the settings that the environment gives, parsed and checked."""
    environ = os.environ if environ is None else environ
    settings = {}
    for variable, (key, parse) in ENVIRONMENT.items():
        if variable in environ:
            settings[key] = parse(variable, environ[variable])
    return settings


def database_url(configured, instance_path):
    """Return the database URL: the configured one, or a SQLite file in the instance folder."""
    if configured:
        return configured
    return "sqlite:///" + str(Path(instance_path) / "portdesk.sqlite3")


def secret_key(instance_path):
    """Return the instance's secret key, creating it once so restarts keep sessions and links."""
    path = Path(instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
        handle.flush()
        os.fsync(handle.fileno())
    return _read_secret_key(path)


def _read_secret_key(path):
    # Another worker may have created the file a moment ago and not written it yet.
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise ConfigError(f"{path} is empty: delete it and start again, or set SECRET_KEY")
