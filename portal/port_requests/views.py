"""The owner's port requests."""

from flask import Blueprint, g, render_template

from portal.auth import role_required

bp = Blueprint("port_requests", __name__, url_prefix="/port-requests")


@bp.get("/")
@role_required("owner")
def index():
    return render_template("requests/index.html", account=g.user.account)
