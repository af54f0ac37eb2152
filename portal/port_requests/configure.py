"""The Numbers and configuration step. (Skeleton: the numbers helper fills this in.)"""

from portal.auth import role_required
from portal.port_requests.blueprint import bp, get_request_or_404, render_step, review_of


@bp.get("/<int:request_id>/numbers")
@role_required("owner")
def numbers(request_id):
    found = review_of(get_request_or_404(request_id))
    return render_step("numbers", "port_requests/step.html", found)
