"""The General and Details steps. (Skeleton: the details helper fills this in.)"""

from portal.auth import role_required
from portal.port_requests.blueprint import bp, get_request_or_404, render_step, review_of


@bp.get("/<int:request_id>/general")
@role_required("owner")
def general(request_id):
    found = review_of(get_request_or_404(request_id))
    return render_step("general", "port_requests/step.html", found)


@bp.get("/<int:request_id>/details")
@role_required("owner")
def details(request_id):
    found = review_of(get_request_or_404(request_id))
    return render_step("details", "port_requests/step.html", found)
