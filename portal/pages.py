"""The front door: where each person lands after signing in."""

from flask import Blueprint, g, redirect, url_for

from portal.auth import login_required

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home():
    if g.user.is_staff:
        return redirect(url_for("queue.index"))
    return redirect(url_for("port_requests.index"))
