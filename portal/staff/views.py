"""A request for Carrier Relations: everything the owner entered, its documents, timeline and
comments, and the moves staff make on it."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from peewee import JOIN

from portal import documents, notify
from portal.auth import staff_only
from portal.db import db
from portal.models import (
    Account,
    PortNumber,
    PortRequest,
    ReceivingReroute,
    RequestComment,
    RequestEvent,
    RoutingTarget,
    TrackingSource,
)
from portal.numbers import display
from portal.paging import Page
from portal.port_requests import comments
from portal.port_requests.blueprint import MAX_ID
from portal.port_requests.carrier_codes import CODES
from portal.port_requests.proof import KIND_NAMES, TYPE_NAMES, size_words
from portal.port_requests.statuses import DESCRIPTIONS
from portal.staff import actions, details
from portal.staff.forms import MOVE_FORMS, CommentForm, RejectNumberForm
from portal.staff.transitions import MOVES, NUMBER_REJECTABLE, TransitionRefused, moves_from
from portal.web import wants_fragment

bp = Blueprint("staff", __name__, url_prefix="/staff")

NUMBERS_PER_PAGE = 100


def request_or_404(request_id):
    """Return any account's sent request by id, or 404 (staff work every account's requests; a
    draft is its owner's until it is submitted, and not in the console)."""
    found = None
    if request_id <= MAX_ID:
        found = (
            PortRequest.select(PortRequest, Account)
            .join(Account)
            .where((PortRequest.id == request_id) & (PortRequest.status != "draft"))
            .first()
        )
    if found is None:
        abort(404)
    return found


@bp.get("/requests/<int:request_id>", endpoint="request")
@staff_only
def request_page(request_id):
    port_request = request_or_404(request_id)
    if wants_fragment():
        return _vary(render_template("staff/_numbers.html", **_numbers_context(port_request)))
    return _vary(_page(port_request))


@bp.post("/requests/<int:request_id>/moves/<name>")
@staff_only
def move(request_id, name):
    if name not in MOVE_FORMS:
        abort(404)
    port_request = request_or_404(request_id)
    form = MOVE_FORMS[name]()
    if not form.validate():
        return _page(port_request, 400, moving={name: form})
    try:
        action = getattr(actions, name)
        moved = action(request_id, user=g.user, shown=form.shown.data, **form.arguments())
    except TransitionRefused as refused:
        flash(refused.message, "error")
    except actions.ActionRefused as refused:
        field = getattr(form, refused.field or "", None)
        if field is None:
            flash(refused.message, "error")
        else:
            field.errors = [refused.message]
            return _page(port_request, 400, moving={name: form})
    else:
        flash(DONE[name](moved), "success")
    return redirect(url_for("staff.request", request_id=request_id))


@bp.post("/requests/<int:request_id>/numbers/<int:number_id>/reject")
@staff_only
def reject_number(request_id, number_id):
    port_request = request_or_404(request_id)
    if number_id > MAX_ID:
        abort(404)
    form = RejectNumberForm()
    if form.validate():
        try:
            number = actions.reject_number(
                port_request.id, number_id, user=g.user, shown=form.shown.data,
                reason=form.reason.data,
            )  # fmt: skip
        except actions.ActionRefused as refused:
            flash(refused.message, "error")
        else:
            flash(f"Rejected {display(number.e164)}: the owner was emailed.", "success")
    return redirect(url_for("staff.request", request_id=request_id, page=_page_number()))


@bp.post("/requests/<int:request_id>/comments")
@staff_only
def comment(request_id):
    port_request = request_or_404(request_id)
    form = CommentForm()
    if not form.validate():
        return _page(port_request, 400, comment_form=form)
    try:
        with db.atomic():
            added = comments.add(
                port_request, user=g.user, body=form.body.data, internal=form.internal.data
            )
    except comments.CommentRefused as refused:
        form.body.errors = [str(refused)]
        return _page(port_request, 400, comment_form=form)
    said = "Internal comment added." if added.internal else "Comment added: the owner was emailed."
    flash(said, "success")
    return redirect(url_for("staff.request", request_id=request_id, _anchor="comments"))


# What each move's success says.
DONE = {
    "start_review": lambda pr: "In review: the owner was emailed.",
    "require_action": lambda pr: (
        f"Sent back to the owner for a correction ({', '.join(pr.codes)}): they were emailed."
    ),
    "schedule_foc": lambda pr: (
        f"FOC date set: {pr.foc_date:%a %b} {pr.foc_date.day}, {pr.foc_date.year}"
        f"{f', {pr.foc_window}' if pr.foc_window else ''}. The owner was emailed."
    ),
    "complete": lambda pr: (
        "Completed: the numbers are the account's tracking numbers now, and the owner was emailed."
    ),
    "reject": lambda pr: "Rejected: its numbers are free again, and the owner was emailed.",
}


def _page(port_request, status=200, *, moving=None, comment_form=None):
    """Render the request's page; `moving` holds a move's form as posted (with its errors)."""
    shown = port_request.status
    move_forms = {name: MOVE_FORMS[name](formdata=None, shown=shown) for name in moves_from(shown)}
    move_forms.update(moving or {})
    body = render_template(
        "staff/request.html",
        title=notify.title_of(port_request),
        status=DESCRIPTIONS[port_request.status],
        sections=details.sections(port_request.fields),
        documents=documents.history(port_request),
        reroutes=reroutes_of(port_request),
        events=list(RequestEvent.of_request(port_request)),
        comments=list(RequestComment.of_request(port_request, internal=True)),
        move_forms=move_forms,
        moves=MOVES,
        carrier_codes=CODES,
        comment_form=comment_form or CommentForm(formdata=None),
        kind_names=KIND_NAMES,
        type_names=TYPE_NAMES,
        size_words=size_words,
        **_numbers_context(port_request),
    )
    return body, status


def _numbers_context(port_request):
    return {
        "port_request": port_request,
        "statuses": DESCRIPTIONS,
        "reject_number_form": RejectNumberForm(formdata=None, shown=port_request.status),
        **numbers_of(port_request),
    }


def numbers_of(port_request):
    """Return one page of the request's numbers and the names of the routing targets and
    tracking sources it names (one query each)."""
    rows = (
        PortNumber.select()
        .where(PortNumber.port_request == port_request)
        .order_by(PortNumber.position)
    )
    page = Page.of(rows, _page_number(), NUMBERS_PER_PAGE)
    account = port_request.account_id
    return {
        "numbers": page,
        "routing_names": _names(RoutingTarget, account, {row.routing_id for row in page.items}),
        "source_names": _names(
            TrackingSource, account, {row.tracking_source_id for row in page.items}
        ),
        "rejectable": port_request.status in NUMBER_REJECTABLE,
    }


def reroutes_of(port_request):
    """Return the request's re-routes (tracking number, receiving number, routing name)."""
    rows = (
        ReceivingReroute.select(ReceivingReroute, RoutingTarget.name.alias("routing_name"))
        .join(
            RoutingTarget,
            on=(RoutingTarget.id == ReceivingReroute.routing_id)
            & (RoutingTarget.account == port_request.account_id),
            join_type=JOIN.LEFT_OUTER,
        )
        .where(
            (ReceivingReroute.port_request == port_request)
            & ReceivingReroute.tracking_number.is_null(False)
        )
        .order_by(ReceivingReroute.receiving_number, ReceivingReroute.tracking_number)
        .objects()
    )
    return list(rows)


def _names(model, account, ids):
    ids = sorted(id_ for id_ in ids if id_ is not None)
    if not ids:
        return {}
    return dict(
        model.select(model.id, model.name)
        .where((model.account == account) & model.id.in_(ids))
        .tuples()
    )


def _vary(answer):
    """Answer with `Vary: HX-Request`: one URL, the page or its numbers' fragment."""
    body, status = answer if isinstance(answer, tuple) else (answer, 200)
    return body, status, {"Vary": "HX-Request"}


def _page_number():
    return request.args.get("page", 1, type=int)
