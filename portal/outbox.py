"""The staff's Outbox page: every email, its delivery, and the message itself.

With no mail server (the demo), staff follow a signing link from here. A password reset link is
the one thing not shown: whoever opens it may set another person's password.
"""

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape
from peewee import fn

from portal import delivery, mail
from portal.auth import role_required
from portal.models import OUTBOX_STATUSES, OutboxEmail
from portal.paging import Page

bp = Blueprint("outbox", __name__, url_prefix="/outbox")

EMAILS_PER_PAGE = 50
STATUS_LABELS = {"queued": "Queued", "sending": "Sending", "sent": "Sent", "failed": "Failed"}
# An address in plain text ends at a space, a quote or an angle bracket; a sentence's full stop
# or closing bracket after it is not part of it.
ADDRESS = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]"
TOKEN = r"[A-Za-z0-9_.\-]+"
HIDDEN_RESET_LINK = "[reset link hidden: only the person it was sent to may use it]"
# The HTML part is shown in a sandboxed frame: no script, no request anywhere, its own origin.
HTML_PART_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


@bp.get("/")
@role_required("staff")
def index():
    status = request.args.get("status", "")
    emails = OutboxEmail.select(
        OutboxEmail.id,
        OutboxEmail.to_address,
        OutboxEmail.subject,
        OutboxEmail.purpose,
        OutboxEmail.status,
        OutboxEmail.attempts,
        OutboxEmail.last_error,
        OutboxEmail.created_at,
        OutboxEmail.next_attempt_at,
        OutboxEmail.sent_at,
    ).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    if status in OUTBOX_STATUSES:
        emails = emails.where(OutboxEmail.status == status)
    page = Page.of(emails, request.args.get("page", 1, type=int), EMAILS_PER_PAGE)
    return render_template(
        "outbox/index.html",
        emails=page,
        status=status if status in OUTBOX_STATUSES else "",
        unknown_status=status if status and status not in OUTBOX_STATUSES else None,
        counts=_counts(),
        labels=STATUS_LABELS,
    )


@bp.get("/<int:email_id>")
@role_required("staff")
def show(email_id):
    email = _email_or_404(email_id)
    return render_template(
        "outbox/show.html",
        email=email,
        text=linked(without_reset_links(email.text_body)),
        html_source=without_reset_links(email.html_body or ""),
        labels=STATUS_LABELS,
    )


@bp.get("/<int:email_id>/html")
@role_required("staff")
def html_part(email_id):
    email = _email_or_404(email_id)
    if not email.html_body:
        abort(404)
    response = make_response(without_reset_links(email.html_body))
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<int:email_id>/send-again")
@role_required("staff")
def send_again(email_id):
    email = _email_or_404(email_id)
    if delivery.send_again(email.id):
        mail.send_after_request(email.id)
        flash(
            f"Queued to go out again to {email.to_address}. Its status here says when the mail "
            "server has taken it.",
            "success",
        )
    else:
        status = OutboxEmail.get_by_id(email.id).status
        flash(
            f"Not queued again: this email is {STATUS_LABELS[status].lower()} already.", "warning"
        )
    return redirect(url_for("outbox.show", email_id=email.id))


def _email_or_404(email_id):
    # Past the id column's range there is no email (and SQLite cannot even bind the number).
    email = OutboxEmail.get_or_none(OutboxEmail.id == email_id) if email_id < 2**31 else None
    if email is None:
        abort(404)
    return email


def _counts():
    rows = OutboxEmail.select(OutboxEmail.status, fn.COUNT(OutboxEmail.id).alias("n")).group_by(
        OutboxEmail.status
    )
    found = {row.status: row.n for row in rows}
    return {status: found.get(status, 0) for status in OUTBOX_STATUSES}


def linked(text):
    """Return the text escaped, with each http(s) address in it a link."""
    pieces = []
    start = 0
    for match in ADDRESS.finditer(text):
        address = match.group().rstrip(TRAILING)
        pieces.append(escape(text[start : match.start()]))
        pieces.append(Markup('<a href="{0}">{0}</a>').format(address))
        start = match.start() + len(address)
    pieces.append(escape(text[start:]))
    return Markup("").join(pieces)


def without_reset_links(text):
    """Return the text with every password reset link in it replaced by a note."""
    # The route's own path, whatever prefix the app or PUBLIC_URL puts before it.
    path = current_app.url_map.bind("").build("password_reset.reset", {"token": "T"})[:-1]
    return re.sub(r"(?:https?://[^\s<>\"']*)?" + re.escape(path) + TOKEN, HIDDEN_RESET_LINK, text)
