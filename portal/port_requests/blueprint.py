"""The owner's port request pages: the blueprint, and what every page of a request shares.

The routes live by area: `views` (the list, starting, a request's page, deleting a draft, the
agreements step), `wizard` (the General and Details steps), `configure` (the Numbers and
configuration step) and `proof` (the Proof of ownership step and the request's documents). Each
loads the request with `get_request_or_404`, reads it with `review_of`, and renders a step inside
`port_requests/step.html` with `render_step`.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from portal.models import PortRequest, utcnow
from portal.port_requests.review import STEP_TITLES, review

bp = Blueprint("port_requests", __name__, url_prefix="/port-requests")

# The largest id a URL may name: the id columns are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1
# Each step's page, by endpoint.
STEP_ENDPOINTS = {
    "general": "port_requests.general",
    "details": "port_requests.details",
    "numbers": "port_requests.numbers",
    "agreements": "port_requests.agreements",
    "bill": "port_requests.bill",
    "loa": "port_requests.loa",
    "submit": "port_requests.submit",
}


def get_request_or_404(request_id, *, for_update=False):
    """Return the signed-in owner's request, or the same 404 for a missing and a foreign one."""
    found = None
    if request_id <= MAX_ID:
        found = PortRequest.find(g.user.account, request_id, for_update=for_update)
    if found is None:
        abort(404)
    return found


def readable_request_or_404(request_id):
    """Return a request whose documents the signed-in user may read: an owner's own, any for
    staff (who work every account's requests); else the same 404 for missing and foreign."""
    found = None
    if request_id <= MAX_ID:
        if g.user.is_staff:
            found = PortRequest.get_or_none(PortRequest.id == request_id)
        else:
            found = PortRequest.find(g.user.account, request_id)
    if found is None:
        abort(404)
    return found


def review_of(port_request):
    """Return the request's Review, as of today, with this deployment's lead time."""
    return review(
        port_request,
        today=utcnow().date(),
        lead_business_days=current_app.config["PORT_LEAD_BUSINESS_DAYS"],
    )


def draft_or_redirect(port_request, statuses=("draft",)):
    """Return None for a draft (or a request in one of `statuses`); else go to the request's
    page, saying it can no longer change.

    For htmx, a 204 with HX-Redirect: htmx would follow a redirect and swap the whole page into
    the region it meant to update.
    """
    if port_request.status in statuses:
        return None
    flash(
        f"This request is {port_request.status.replace('_', ' ')}: it can no longer be changed.",
        "error",
    )
    location = url_for("port_requests.show", request_id=port_request.id)
    if request.htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location)


def step_url(port_request, step):
    """Return the URL of a step's page, or None for a step without one."""
    endpoint = STEP_ENDPOINTS.get(step)
    return url_for(endpoint, request_id=port_request.id) if endpoint else None


def next_step_url(port_request, step):
    """Return the URL of the step after this one, or the request's page after the last open one."""
    steps = list(STEP_TITLES)
    for later in steps[steps.index(step) + 1 :]:
        if later in STEP_ENDPOINTS:
            return step_url(port_request, later)
    return url_for("port_requests.show", request_id=port_request.id)


def render_step(step, template, found, status=200, **context):
    """Render a step's page: the step list (with each step's state) around the step's own form."""
    return (
        render_template(
            template,
            step=step,
            step_titles=STEP_TITLES,
            review=found,
            port_request=found.port_request,
            step_url=step_url,
            **context,
        ),
        status,
    )
