"""Carrier Relations' queue: for now the fax port tickets, newest first (the staff console issue
brings the submitted port requests)."""

from flask import Blueprint, render_template, request

from portal.auth import role_required
from portal.models import Account, FaxTicket
from portal.paging import Page

bp = Blueprint("queue", __name__, url_prefix="/queue")

FAX_TICKETS_PER_PAGE = 25


@bp.get("/")
@role_required("staff")
def index():
    tickets = (
        FaxTicket.select(FaxTicket, Account)
        .join(Account)
        .order_by(FaxTicket.created_at.desc(), FaxTicket.id.desc())
    )
    page = Page.of(tickets, request.args.get("page", 1, type=int), FAX_TICKETS_PER_PAGE)
    return render_template("queue/index.html", fax_tickets=page)
