"""The owner's port requests: the list, a request's page (where it stands, and the comments with
Carrier Relations), resuming and deleting a draft, and the Agreements step."""

import math

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from peewee import fn
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import ValidationError

from portal.auth import role_required
from portal.db import db
from portal.models import (
    FaxTicket,
    PortNumber,
    PortRequest,
    RequestComment,
    RequestEvent,
    RoutingTarget,
    TrackingSource,
    utcnow,
)
from portal.notify import title_of
from portal.paging import Page
from portal.port_requests import agreements as statements
from portal.port_requests import comments, corrections, loa
from portal.port_requests.blueprint import (
    bp,
    draft_or_redirect,
    get_request_or_404,
    next_step_url,
    render_step,
    review_of,
    step_url,
)
from portal.port_requests.drafts import NotADraft, changing, locked_draft
from portal.port_requests.events import record_event
from portal.port_requests.operations import can_cancel
from portal.port_requests.proof import KIND_NAMES, TYPE_NAMES, size_words
from portal.port_requests.proof import field_heading as field_label
from portal.port_requests.review import STEP_TITLES
from portal.port_requests.statuses import DESCRIPTIONS
from portal.portability import REASONS
from portal.web import wants_fragment
from signing.envelopes import Party

REQUESTS_PER_PAGE = 25
NUMBERS_PER_PAGE = 100
UNKNOWN_STATEMENT = (
    "That form named a statement this page does not show, so nothing was accepted: check the "
    "statements below that you agree to and send them again."
)
NOTHING_CHECKED = "Check each statement you agree to: none was checked."
DRAFT_COMMENT = (
    "A draft is not sent yet, so Carrier Relations cannot read a comment on it: submit the "
    "request first."
)


class CommentForm(FlaskForm):
    body = TextAreaField("Your message to Carrier Relations")


class DeleteForm(FlaskForm):
    """Only the CSRF token: the page itself is the confirmation."""


class AgreementsForm(FlaskForm):
    agreements = SelectMultipleField(validate_choice=False)

    def __init__(self, remaining, **kwargs):
        super().__init__(**kwargs)
        self.remaining = remaining

    def validate_agreements(self, field):
        field.data = field.data or []
        if any(key not in statements.TEXTS for key in field.data):
            raise ValidationError(UNKNOWN_STATEMENT)
        if not field.data and self.remaining:
            raise ValidationError(NOTHING_CHECKED)


@bp.get("/")
@role_required("owner")
def index():
    page = Page.of(PortRequest.of_account(g.user.account), _page_number(), REQUESTS_PER_PAGE)
    fragment = wants_fragment()
    return render_template(
        "port_requests/_request_list.html" if fragment else "port_requests/index.html",
        account=g.user.account,
        page=page,
        counts=_number_counts(page.items),
        statuses=DESCRIPTIONS,
        title_of=title_of,
        # An account files a handful of fax tickets: the page lists them all, apart.
        fax_tickets=[] if fragment else list(FaxTicket.of_account(g.user.account)),
    )


@bp.get("/<int:request_id>")
@role_required("owner")
def show(request_id):
    port_request = get_request_or_404(request_id)
    if wants_fragment():
        found = review_of(port_request)
        return render_template(
            "port_requests/_request_numbers.html",
            port_request=port_request,
            **_numbers_of(found),
            statuses=DESCRIPTIONS,
        )
    return _request_page(port_request, CommentForm(formdata=None))


@bp.post("/<int:request_id>/comments")
@role_required("owner")
def comment(request_id):
    port_request = get_request_or_404(request_id)
    if port_request.status == "draft":
        flash(DRAFT_COMMENT, "error")
        return redirect(url_for("port_requests.show", request_id=request_id))
    form = CommentForm()
    if not form.validate_on_submit():
        form.body.errors.append("That form had expired, so nothing was sent: send it again.")
        return _request_page(port_request, form, status=400)
    try:
        with db.atomic():
            comments.add(port_request, user=g.user, body=form.body.data)
    except comments.CommentRefused as refused:
        form.body.errors.append(str(refused))
        return _request_page(port_request, form, status=400)
    flash("Sent to Carrier Relations: they are emailed, and their answer shows here.", "success")
    return redirect(url_for("port_requests.show", request_id=request_id) + "#comments")


def _request_page(port_request, comment_form, status=200):
    """Render a request's page: where it stands, its steps, documents, numbers, timeline and
    the comments with Carrier Relations."""
    found = review_of(port_request)
    first = found.first_incomplete()
    html = render_template(
        "port_requests/show.html",
        review=found,
        port_request=port_request,
        title=title_of(port_request),
        status=DESCRIPTIONS[port_request.status],
        statuses=DESCRIPTIONS,
        first_incomplete=first,
        continue_url=step_url(port_request, first),
        can_cancel=can_cancel(port_request.status),
        codes=corrections.explained(port_request),
        events=list(RequestEvent.of_request(port_request)),
        comments=list(RequestComment.of_request(port_request)),
        comment_form=comment_form,
        max_comment=comments.MAX_COMMENT,
        step=None,
        step_titles=STEP_TITLES,
        step_url=step_url,
        field_label=field_label,
        # The bill and the signed LOA the request holds now: after submit, the one place left
        # to download them from.
        documents=[item for item in (found.bill, found.loa) if item is not None],
        kind_names=KIND_NAMES,
        type_names=TYPE_NAMES,
        size_words=size_words,
        **_numbers_of(found),
    )
    return html, status


@bp.get("/<int:request_id>/resume")
@role_required("owner")
def resume(request_id):
    found = review_of(get_request_or_404(request_id))
    target = None
    if found.port_request.status == "draft":
        target = step_url(found.port_request, found.first_incomplete())
    elif found.port_request.status == "action_required":
        target = url_for("port_requests.fix", request_id=request_id)
    return redirect(target or url_for("port_requests.show", request_id=request_id))


@bp.route("/<int:request_id>/delete", methods=["GET", "POST"])
@role_required("owner")
def delete(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request):
        return refused
    form = DeleteForm()
    if not form.validate_on_submit():
        count = PortNumber.select().where(PortNumber.port_request == port_request).count()
        return render_template(
            "port_requests/delete.html",
            form=form,
            port_request=port_request,
            title=title_of(port_request),
            number_count=count,
        )
    try:
        with changing():
            held = loa.open_envelopes(request_id)
            # Its numbers, timeline, acceptances and re-routes go with it (ON DELETE CASCADE);
            # a link still out for its LOA's signature is cancelled, and says so.
            (locked_draft(g.user.account, request_id) or abort(404)).delete_instance()
            loa.close_envelopes(held, _party(g.user))
    except NotADraft as error:
        return draft_or_redirect(error.port_request)
    flash(f'Deleted the draft "{title_of(port_request)}".', "success")
    return redirect(url_for("port_requests.index"))


@bp.route("/<int:request_id>/agreements", methods=["GET", "POST"])
@role_required("owner")
def agreements(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request):
        return refused
    current, older = statements.acceptances(port_request)
    form = AgreementsForm(remaining=set(statements.TEXTS) - set(current))
    if form.validate_on_submit():
        return _accept(request_id, form.agreements.data)
    return render_step(
        "agreements",
        "port_requests/agreements.html",
        review_of(port_request),
        form=form,
        statements=statements.STATEMENTS,
        current=current,
        older=older,
        next_url=next_step_url(port_request, "agreements"),
    )


def _accept(request_id, keys):
    """Record the acceptance of the checked statements, then go on or come back to the rest."""
    try:
        with changing():
            port_request = locked_draft(g.user.account, request_id) or abort(404)
            new = statements.accept(port_request, keys, user=g.user, ip=request.remote_addr)
            if new:
                headlines = "; ".join(_headline(statements.TEXTS[key]) for key in new)
                record_event(port_request, "agreed", f"Accepted: {headlines}.", user=g.user)
                port_request.updated_at = utcnow()
                port_request.save(only=[PortRequest.updated_at])
            accepted = statements.accepted(port_request)
    except NotADraft as error:
        return draft_or_redirect(error.port_request)
    done = "Accepted " + _statement_count(len(new)) if new else "Nothing new to accept"
    if statements.all_accepted(accepted):
        flash(
            f"{done}: every statement is accepted and the Agreements step is complete.", "success"
        )
        return redirect(next_step_url(port_request, "agreements"))
    remaining = _statement_count(len(set(statements.TEXTS) - accepted))
    flash(f"{done}. {remaining} still to accept: they are marked below.", "warning")
    return redirect(url_for("port_requests.agreements", request_id=request_id))


def _headline(text):
    """Return a statement's first clause: enough for a line of the timeline."""
    return text.split(":", 1)[0]


def _statement_count(count):
    return "1 statement" if count == 1 else f"{count} statements"


def _page_number():
    return request.args.get("page", 1, type=int)


def _number_counts(port_requests):
    """Return {request id: how many numbers it holds} for these requests (one query)."""
    if not port_requests:
        return {}
    return dict(
        PortNumber.select(PortNumber.port_request, fn.COUNT(PortNumber.id))
        .where(PortNumber.port_request.in_([item.id for item in port_requests]))
        .group_by(PortNumber.port_request)
        .tuples()
    )


def _numbers_of(found):
    """Return one page of the request's numbers with their portability, and the names of the
    routing targets and tracking sources that page names (one query each)."""
    rows = list(zip(found.rows, found.checked, strict=True))
    count = max(1, math.ceil(len(rows) / NUMBERS_PER_PAGE))
    number = max(1, min(_page_number() or 1, count))
    start = (number - 1) * NUMBERS_PER_PAGE
    page = Page(rows[start : start + NUMBERS_PER_PAGE], number, count, len(rows))
    account = found.port_request.account
    shown = [row for row, _ in page.items]
    return {
        "numbers": page,
        "routing_names": _names(RoutingTarget, account, {row.routing_id for row in shown}),
        "source_names": _names(TrackingSource, account, {row.tracking_source_id for row in shown}),
        "reasons": REASONS,
    }


def _names(model, account, ids):
    ids = sorted(id_ for id_ in ids if id_ is not None)
    if not ids:
        return {}
    return dict(
        model.select(model.id, model.name)
        .where((model.account == account) & model.id.in_(ids))
        .tuples()
    )


def _party(user):
    """Return the signed-in owner as a signing event names them."""
    return Party(actor=f"{user.name} ({user.email})", ip=request.remote_addr or "")
