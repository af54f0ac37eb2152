"""A request's timeline: every change says who made it, what it was and when."""

from portal.models import RequestEvent, utcnow

MAX_MESSAGE = 2_000


def record_event(port_request, kind, message, *, user=None, actor=None):
    """Append an event to the request's timeline; `actor` defaults to the user's name."""
    return RequestEvent.create(
        port_request=port_request,
        at=utcnow(),
        user=user,
        actor=(actor or (user.name if user is not None else "PortDesk"))[:300],
        kind=kind,
        message=message[:MAX_MESSAGE],
    )
