"""Configuration layers: defaults, then the environment, then the caller's dict."""

import os
import secrets
import time
from pathlib import Path

DEFAULTS = {
    # None means "a SQLite file in the instance folder"; see database_url().
    "DATABASE_URL": None,
    # None means "generated once and kept in the instance folder"; see secret_key().
    "SECRET_KEY": None,
    "AUTO_MIGRATE": True,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "PortDesk <portdesk@localhost>",
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_SECONDS": 15 * 60,
    "PASSWORD_HASH_METHOD": "scrypt",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # A form stays valid as long as the session; a timed-out token only annoys.
    "WTF_CSRF_TIME_LIMIT": None,
}


class ConfigError(Exception):
    """A setting that PortDesk cannot start with."""


def _text(name, raw):
    return raw


def _whole_number(name, raw):
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _switch(name, raw):
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _megabytes(name, raw):
    return _whole_number(name, raw) * 1024 * 1024


# Environment variable -> (config key, parser).
ENVIRONMENT = {
    "DATABASE_URL": ("DATABASE_URL", _text),
    "SECRET_KEY": ("SECRET_KEY", _text),
    "AUTO_MIGRATE": ("AUTO_MIGRATE", _switch),
    "MAX_UPLOAD_MB": ("MAX_CONTENT_LENGTH", _megabytes),
    "SMTP_HOST": ("SMTP_HOST", _text),
    "SMTP_PORT": ("SMTP_PORT", _whole_number),
    "SMTP_USERNAME": ("SMTP_USERNAME", _text),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", _text),
    "SMTP_STARTTLS": ("SMTP_STARTTLS", _switch),
    "SMTP_SSL": ("SMTP_SSL", _switch),
    "SMTP_TIMEOUT": ("SMTP_TIMEOUT", _whole_number),
    "MAIL_FROM": ("MAIL_FROM", _text),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _switch),
}


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
