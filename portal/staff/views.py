"""A request for Carrier Relations: everything the owner entered, its documents, timeline and
comments, and the moves staff make on it."""

from flask import Blueprint, abort, render_template, request
from peewee import JOIN

from portal import documents, notify
from portal.auth import staff_only
from portal.models import (
    PortNumber,
    PortRequest,
    ReceivingReroute,
    RequestComment,
    RequestEvent,
    RoutingTarget,
    TrackingSource,
)
from portal.paging import Page
from portal.port_requests.blueprint import MAX_ID
from portal.port_requests.carrier_codes import CODES
from portal.port_requests.proof import KIND_NAMES, TYPE_NAMES, size_words
from portal.port_requests.statuses import DESCRIPTIONS
from portal.staff import details
from portal.staff.transitions import NUMBER_REJECTABLE, moves_from
from portal.web import wants_fragment

bp = Blueprint("staff", __name__, url_prefix="/staff")

NUMBERS_PER_PAGE = 100


def request_or_404(request_id):
    """Return any account's request by id, or 404 (staff work every account's requests)."""
    found = None
    if request_id <= MAX_ID:
        found = PortRequest.get_or_none(PortRequest.id == request_id)
    if found is None:
        abort(404)
    return found


@bp.get("/requests/<int:request_id>", endpoint="request")
@staff_only
def request_page(request_id):
    port_request = request_or_404(request_id)
    numbers = numbers_of(port_request)
    if wants_fragment():
        return _vary(
            render_template(
                "staff/_numbers.html",
                port_request=port_request,
                statuses=DESCRIPTIONS,
                **numbers,
            )
        )
    return _vary(
        render_template(
            "staff/request.html",
            port_request=port_request,
            title=notify.title_of(port_request),
            status=DESCRIPTIONS[port_request.status],
            sections=details.sections(port_request.fields),
            documents=documents.history(port_request),
            reroutes=reroutes_of(port_request),
            events=list(RequestEvent.of_request(port_request)),
            comments=list(RequestComment.of_request(port_request, internal=True)),
            moves=moves_from(port_request.status),
            carrier_codes=CODES,
            statuses=DESCRIPTIONS,
            kind_names=KIND_NAMES,
            type_names=TYPE_NAMES,
            size_words=size_words,
            **numbers,
        )
    )


def numbers_of(port_request):
    """Return one page of the request's numbers and the names of the routing targets and
    tracking sources it names (one query each)."""
    rows = (
        PortNumber.select()
        .where(PortNumber.port_request == port_request)
        .order_by(PortNumber.position)
    )
    page = Page.of(rows, request.args.get("page", 1, type=int), NUMBERS_PER_PAGE)
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


def _vary(body):
    """Answer with `Vary: HX-Request`: one URL, the page or its numbers' fragment."""
    return body, 200, {"Vary": "HX-Request"}
