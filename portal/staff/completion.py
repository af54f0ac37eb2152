"""Completing a port: the request's numbers become the account's tracking numbers with the
routing and source the owner configured, and the re-routes the owner chose are applied (no
Flask).

Whatever a request's size, a fixed number of statements: what stands in the way is read with a
handful of queries, the tracking numbers are made by one INSERT ... SELECT from the request's
own rows, and the re-routes by one UPDATE. A number rejected on its own is not ported, and a
tracking number that rings a receiving number whose port was rejected keeps ringing it.
"""

from typing import NamedTuple

from peewee import Value

from portal.models import (
    PortNumber,
    ReceivingReroute,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
)
from portal.numbers import display

# How many numbers a refusal names before it says "and N more".
NAMED = 10


class Completed(NamedTuple):
    ported: int  # numbers made tracking numbers
    rejected: int  # numbers rejected on their own, left out
    rerouted: int  # tracking numbers whose routing changed


def going(port_request):
    """Return a query of the request's numbers that port: every one not rejected on its own."""
    return PortNumber.select().where(
        (PortNumber.port_request == port_request)
        & (PortNumber.status.is_null() | (PortNumber.status != "rejected"))
    )


def refusal(port_request):
    """Return why the request cannot be completed now (each number named), or None."""
    rows = list(going(port_request).order_by(PortNumber.position))
    if not rows:
        return "Every number of this request is rejected: reject the request instead."
    account = port_request.account_id
    routings = _ids(RoutingTarget, account, {row.routing_id for row in rows})
    sources = _ids(TrackingSource, account, {row.tracking_source_id for row in rows})
    tracking = {
        number
        for (number,) in TrackingNumber.select(TrackingNumber.number)
        .where(TrackingNumber.number.in_(going(port_request).select(PortNumber.e164)))
        .tuples()
    }
    reroutes = _reroutes(port_request)
    rerouting = _ids(RoutingTarget, account, {reroute.routing_id for reroute in reroutes})
    problems = []
    for row in rows:
        number = display(row.e164) or row.phone_number
        if row.e164 in tracking:
            problems.append(f"{number} is a tracking number already")
        if row.routing_id not in routings:
            problems.append(f"{number}'s routing {_id(row.routing_id)} is not on the account")
        if row.tracking_source_id not in sources:
            problems.append(
                f"{number}'s tracking source {_id(row.tracking_source_id)} is not on the account"
            )
    for reroute in reroutes:
        if reroute.routing_id not in rerouting:
            problems.append(
                f"the re-route of {display(reroute.tracking_number)} names routing "
                f"{_id(reroute.routing_id)}, which is not on the account"
            )
    if not problems:
        return None
    named = "; ".join(problems[:NAMED])
    more = len(problems) - NAMED
    if more > 0:
        named += f"; and {more} more"
    return (
        f"Nothing was completed: {named}. Sort these out with the owner (or reject those "
        "numbers), then complete again."
    )


def make_tracking_numbers(port_request):
    """Make the request's numbers the account's tracking numbers and apply its re-routes.

    Raise IntegrityError when one became a tracking number since `refusal` looked.
    """
    ported = (
        TrackingNumber.insert_from(
            # In number order, like the claims (operations.claim_numbers): no deadlock.
            going(port_request)
            .select(
                PortNumber.e164,
                Value(port_request.account_id),
                PortNumber.tracking_source_id,
                PortNumber.routing_id,
            )
            .order_by(PortNumber.e164),
            [
                TrackingNumber.number,
                TrackingNumber.account,
                TrackingNumber.tracking_source,
                TrackingNumber.routing_target,
            ],
        )
        .as_rowcount()
        .execute()
    )
    applied = _reroutes(port_request, query=True)
    new_routing = applied.select(ReceivingReroute.routing_id).where(
        ReceivingReroute.tracking_number == TrackingNumber.number
    )
    rerouted = (
        TrackingNumber.update(routing_target=new_routing)
        .where(
            (TrackingNumber.account == port_request.account_id)
            & TrackingNumber.number.in_(applied.select(ReceivingReroute.tracking_number))
        )
        .execute()
    )
    rejected = (
        PortNumber.select()
        .where((PortNumber.port_request == port_request) & (PortNumber.status == "rejected"))
        .count()
    )
    return Completed(ported, rejected, rerouted)


def _reroutes(port_request, *, query=False):
    """Return the re-routes to apply: of tracking numbers that ring a number being ported."""
    found = ReceivingReroute.select().where(
        (ReceivingReroute.port_request == port_request)
        & ReceivingReroute.tracking_number.is_null(False)
        & ReceivingReroute.receiving_number.in_(going(port_request).select(PortNumber.e164))
    )
    return found if query else list(found)


def _ids(model, account, ids):
    wanted = [id_ for id_ in ids if id_ is not None]
    if not wanted:
        return set()
    return {
        id_
        for (id_,) in model.select(model.id)
        .where((model.account == account) & model.id.in_(wanted))
        .tuples()
    }


def _id(value):
    return "(none chosen)" if value is None else str(value)
