"""The owner's port requests: the list, starting one, a request's page, deleting a draft, and the
agreements step. (Skeleton: the pages helper fills this in.)"""

from flask import g, render_template

from portal.auth import role_required
from portal.port_requests.blueprint import bp, get_request_or_404, render_step, review_of


@bp.get("/")
@role_required("owner")
def index():
    return render_template("port_requests/index.html", account=g.user.account)


@bp.get("/<int:request_id>")
@role_required("owner")
def show(request_id):
    found = review_of(get_request_or_404(request_id))
    return render_step("general", "port_requests/step.html", found)


@bp.get("/<int:request_id>/agreements")
@role_required("owner")
def agreements(request_id):
    found = review_of(get_request_or_404(request_id))
    return render_step("agreements", "port_requests/step.html", found)
