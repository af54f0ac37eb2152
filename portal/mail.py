"""Email that is never lost: queued in the outbox with what caused it, sent after commit.

`enqueue` writes the email in the caller's transaction, so it exists exactly when what caused it
does. Inside a request, a thread sends it once the request is over (its transaction committed or
rolled back by then: a rolled-back email is simply not found). `flask outbox send` (cron) sends
whatever is still due: never reached, retried after a failure, or left by a sender that died.
How a sender takes, sends and records emails so that none goes out twice is portal/delivery.py.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, render_template, request, url_for

from portal import leases
from portal.config import ConfigError
from portal.delivery import Relay, deliver
from portal.models import OutboxEmail, looks_like_email

# Addresses here come from the portal's own checked fields; these would make a header of
# several addresses or a display name out of one.
ADDRESS_SPECIALS = re.compile(r"[,;<>()\"\\\r\n\x00]")

_senders = leases.Senders("outbox-sender")


def enqueue(*, to, subject, template, purpose, reference=None, **context):
    """Render email/<template>.txt and .html and queue the email in the caller's transaction."""
    to = to.strip()
    if not looks_like_email(to) or ADDRESS_SPECIALS.search(to):
        raise ValueError(f"not one email address: {to!r}")
    subject = " ".join(subject.replace("\x00", "").split())
    if len(subject) > 300:
        subject = subject[:299] + "…"
    text = render_template(f"email/{template}.txt", subject=subject, **context)
    html = render_template(f"email/{template}.html", subject=subject, **context)
    email = OutboxEmail.create(
        to_address=to,
        subject=subject,
        # PostgreSQL refuses a NUL in text; a name or message typed into a form may hold one.
        text_body=text.replace("\x00", ""),
        html_body=html.replace("\x00", ""),
        purpose=purpose,
        reference=reference,
    )
    if has_request_context():
        send_after_request(email.id)
    return email


def external_url(endpoint, **values):
    """Return the absolute URL of the endpoint, for a link in an email.

    PUBLIC_URL when it is set. Without it, the address the request came to only when that is
    this machine (the demo, tests): the Host header is the sender's to write, and a forged one
    must never choose where a password-reset link points. Otherwise the links point at
    localhost, and the log says to set PUBLIC_URL.
    """
    public = current_app.config["PUBLIC_URL"]
    if public:
        return _url_at(public, endpoint, values)
    if has_request_context() and _on_this_machine(request.host):
        return url_for(endpoint, _external=True, **values)
    if has_request_context():
        current_app.logger.error(
            "PUBLIC_URL is not set: a link in an email points at http://localhost:5000, not at "
            "%r (the address the request named); set PUBLIC_URL to the portal's address",
            request.host[:200],
        )
    return _url_at("http://localhost:5000", endpoint, values)


def _on_this_machine(host):
    """Say whether a Host header names this machine (localhost or a loopback address)."""
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _url_at(base, endpoint, values):
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def check_public_url(value):
    """Raise ConfigError unless the value is an http(s) address with a host (or unset)."""
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_URL must look like https://portal.example.com (a path may follow), "
            f"got {value!r}"
        )


def deliver_due(limit=100):
    """Send up to `limit` due emails (cron); return (sent, failed) for this run."""
    return deliver(Relay.from_config(current_app.config), limit)


def send_after_request(email_id):
    """Have this email sent once the current request is over (when the app sends after commit)."""
    g.setdefault("outbox_ids", []).append(email_id)


def wait_for_senders(timeout=10):
    """Wait for the background senders to finish; say whether they all did."""
    return _senders.wait(timeout)


def init_app(app):
    """Send each request's queued emails once its transaction has committed."""
    check_public_url(app.config["PUBLIC_URL"])

    @app.teardown_request
    def _send_queued(exc):
        ids = g.pop("outbox_ids", None)
        if ids and app.config["OUTBOX_SEND_AFTER_COMMIT"]:
            _senders.start(deliver, Relay.from_config(app.config), len(ids), ids)
