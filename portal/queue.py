"""Carrier Relations' queue of submitted port requests."""

from flask import Blueprint, render_template

from portal.auth import role_required

bp = Blueprint("queue", __name__, url_prefix="/queue")


@bp.get("/")
@role_required("staff")
def index():
    return render_template("queue/index.html")
