"""Accounts and their inventory: the ids owners need for routing and the bulk template."""

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from peewee import JOIN, fn

from portal.auth import login_required
from portal.models import (
    Account,
    ReceivingNumber,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    User,
)
from portal.paging import Page
from portal.web import wants_fragment

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

ACCOUNTS_PER_PAGE = 50
NUMBERS_PER_PAGE = 100


def get_account_or_404(account_id):
    """Return the account if this user may see it: staff see all, an owner only their own."""
    if not g.user.is_staff and g.user.account_id != account_id:
        abort(404)
    return Account.get_or_none(Account.id == account_id) or abort(404)


@bp.get("/")
@login_required
def index():
    if not g.user.is_staff:
        # An owner has exactly one account: the list is that account.
        return redirect(url_for("accounts.show", account_id=g.user.account_id))
    query = (
        Account.select(Account, fn.COUNT(TrackingNumber.id).alias("tracking_count"))
        .join(TrackingNumber, JOIN.LEFT_OUTER)
        .group_by(Account.id)
        .order_by(Account.name, Account.id)
    )
    page = Page.of(query, request.args.get("page", 1, type=int), ACCOUNTS_PER_PAGE)
    return render_template("accounts/index.html", page=page)


@bp.get("/<int:account_id>")
@login_required
def show(account_id):
    account = get_account_or_404(account_id)
    tracking_numbers = (
        TrackingNumber.select(TrackingNumber, TrackingSource, RoutingTarget)
        .join_from(TrackingNumber, TrackingSource, JOIN.LEFT_OUTER)
        .join_from(TrackingNumber, RoutingTarget, JOIN.LEFT_OUTER)
        .where(TrackingNumber.account == account)
        .order_by(TrackingNumber.number)
    )
    page = Page.of(tracking_numbers, request.args.get("page", 1, type=int), NUMBERS_PER_PAGE)
    if wants_fragment():
        return render_template("accounts/_tracking_numbers.html", account=account, page=page)
    return render_template(
        "accounts/show.html",
        account=account,
        sources=account.tracking_sources.order_by(TrackingSource.id),
        targets=account.routing_targets.order_by(RoutingTarget.id),
        receiving=account.receiving_numbers.order_by(ReceivingNumber.number),
        users=account.users.order_by(User.name),
        page=page,
    )
