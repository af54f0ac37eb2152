"""The owner's webhooks page: register a URL, see the secret once, follow each delivery.

The blueprint also sends what a request wrote once the request is over (its transaction has
committed or rolled back by then: a rolled-back delivery is simply not found), as portal/mail.py
does for emails; `flask outbox send` from cron delivers whatever that missed.
"""

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from peewee import fn
from wtforms import StringField
from wtforms.validators import DataRequired

from portal import webhook_delivery, webhooks
from portal.auth import role_required
from portal.models import DELIVERY_STATUSES, Webhook, WebhookAttempt, WebhookDelivery
from portal.paging import Page

bp = Blueprint("webhooks", __name__, url_prefix="/settings/webhooks")

DELIVERIES_PER_PAGE = 50
STATUS_LABELS = {"queued": "Queued", "sending": "Sending", "sent": "Sent", "failed": "Failed"}
EVENT_LABELS = {
    "port_request.status_changed": "Status changed",
    "port_request.foc_scheduled": "FOC scheduled",
    "port_number.rejected": "Number rejected",
}


class WebhookForm(FlaskForm):
    url = StringField(
        "URL",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired("Enter the URL your system listens on.")],
    )


@bp.before_app_request
def _note_deliveries():
    webhooks.collect_after_request()


@bp.teardown_app_request
def _send_noted_deliveries(exc):
    ids = webhooks.collected()
    if ids and current_app.config["OUTBOX_SEND_AFTER_COMMIT"]:
        sending = webhook_delivery.Sending.from_config(current_app.config)
        webhook_delivery.send_in_background(sending, ids)


@bp.get("/")
@role_required("owner")
def index():
    return _page()


@bp.post("/")
@role_required("owner")
def create():
    form = WebhookForm(prefix="webhook")
    if not form.validate_on_submit():
        return _page(form=form), 400
    try:
        hook, secret = webhooks.register(
            g.user.account_id,
            form.url.data,
            user=g.user.id,
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"],
        )
    except webhooks.WebhookRefused as refused:
        form.url.errors.append(str(refused))
        return _page(form=form), 400
    # Shown in this answer only: a redirect would carry it in the session cookie.
    return _page(new_hook=hook, new_secret=secret), 201


@bp.post("/<int:webhook_id>/delete")
@role_required("owner")
def delete(webhook_id):
    url = webhooks.delete(g.user.account_id, webhook_id) if webhook_id < 2**31 else None
    if url is None:
        abort(404)
    flash(f"Deleted the webhook to {url}: it hears of no more events.", "success")
    return redirect(url_for("webhooks.index"))


@bp.get("/deliveries/<int:delivery_id>")
@role_required("owner")
def delivery(delivery_id):
    row = _delivery_or_404(delivery_id)
    attempts = (
        WebhookAttempt.select()
        .where(WebhookAttempt.delivery == row.id)
        .order_by(WebhookAttempt.at.desc(), WebhookAttempt.id.desc())
    )
    return render_template(
        "webhooks/delivery.html",
        delivery=row,
        body=json.dumps(json.loads(row.body), indent=2, sort_keys=True),
        attempts=list(attempts),
        request_id=_request_id(row),
        labels=STATUS_LABELS,
        events=EVENT_LABELS,
    )


@bp.post("/deliveries/<int:delivery_id>/send-again")
@role_required("owner")
def send_again(delivery_id):
    row = _delivery_or_404(delivery_id)
    if webhooks.send_again(g.user.account_id, row.id):
        flash(
            f"Queued to go again to {row.webhook.url}. Its status here says when your system "
            "has answered.",
            "success",
        )
    else:
        flash("Not queued again: it is being sent right now. Reload to see how it went.", "warning")
    if request.form.get("back") == "list":
        return redirect(url_for("webhooks.index"))
    return redirect(url_for("webhooks.delivery", delivery_id=row.id))


def _delivery_or_404(delivery_id):
    # Past the id column's range there is no delivery (and SQLite cannot even bind the number).
    if delivery_id >= 2**31:
        abort(404)
    row = (
        WebhookDelivery.select(WebhookDelivery, Webhook)
        .join(Webhook)
        .where((WebhookDelivery.id == delivery_id) & (Webhook.account == g.user.account_id))
        .first()
    )
    if row is None:
        abort(404)
    return row


def _request_id(row):
    kind, _, number = (row.reference or "").partition(":")
    return int(number) if kind == "port_request" and number.isdigit() else None


def _page(form=None, new_hook=None, new_secret=None):
    account_id = g.user.account_id
    status = request.args.get("status", "")
    chosen = status if status in DELIVERY_STATUSES else ""
    deliveries = webhooks.of_account(account_id)
    if chosen:
        deliveries = deliveries.where(WebhookDelivery.status == chosen)
    page = Page.of(deliveries, request.args.get("page", 1, type=int), DELIVERIES_PER_PAGE)
    hooks = (
        Webhook.select()
        .where(Webhook.account == account_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    return render_template(
        "webhooks/index.html",
        form=form or WebhookForm(prefix="webhook", formdata=None),
        hooks=list(hooks),
        deliveries=page,
        request_ids={row.id: _request_id(row) for row in page.items},
        status=chosen,
        unknown_status=status if status and not chosen else None,
        counts=_counts(account_id),
        new_hook=new_hook,
        new_secret=new_secret,
        labels=STATUS_LABELS,
        events=EVENT_LABELS,
        event_help=webhooks.EVENTS,
        max_webhooks=webhooks.MAX_WEBHOOKS,
        signature_header=webhooks.SIGNATURE_HEADER,
    )


def _counts(account_id):
    rows = (
        WebhookDelivery.select(WebhookDelivery.status, fn.COUNT(WebhookDelivery.id).alias("n"))
        .join(Webhook)
        .where(Webhook.account == account_id)
        .group_by(WebhookDelivery.status)
    )
    found = {row.status: row.n for row in rows}
    return {code: found.get(code, 0) for code in DELIVERY_STATUSES}
