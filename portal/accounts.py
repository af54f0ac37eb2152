"""Accounts and their inventory: the ids owners need for routing and the bulk template; for staff,
every account, searched by name, ID or phone number."""

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from peewee import JOIN, fn
from wtforms import SearchField
from wtforms.validators import Length

from portal.auth import login_required
from portal.models import (
    Account,
    ReceivingNumber,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    User,
)
from portal.numbers import classify
from portal.paging import Page
from portal.port_requests.blueprint import MAX_ID
from portal.web import wants_fragment

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

ACCOUNTS_PER_PAGE = 50
NUMBERS_PER_PAGE = 100
SEARCH_MAX_CHARS = 200


class AccountSearch(FlaskForm):
    class Meta:
        csrf = False  # a GET form changes nothing

    q = SearchField(
        "Name, account ID or phone number",
        validators=[
            Length(
                max=SEARCH_MAX_CHARS,
                message=f"Search for at most {SEARCH_MAX_CHARS} characters: a name, an ID or "
                "a number.",
            )
        ],
    )


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
    form = AccountSearch(formdata=request.args)
    text = (form.q.data or "").strip() if form.validate() else ""
    query = (
        Account.select(Account, fn.COUNT(TrackingNumber.id).alias("tracking_count"))
        .join(TrackingNumber, JOIN.LEFT_OUTER)
        .group_by(Account.id)
        .order_by(Account.name, Account.id)
    )
    if text:
        query = query.where(matching(text))
    page = Page.of(query, request.args.get("page", 1, type=int), ACCOUNTS_PER_PAGE)
    context = {"page": page, "form": form, "searched": text}
    if wants_fragment():
        return render_template("accounts/_list.html", oob=True, **context)
    return render_template("accounts/index.html", **context)


def matching(text):
    """Return the condition for the accounts the search text finds.

    Text finds the accounts whose name holds it; digits, the account with that ID; a phone
    number in any format, the account it is the fail-safe, a tracking or a receiving number of.
    """
    found = Account.name.contains(text)
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        found |= Account.id == int(text)
    e164 = classify(text).e164
    if e164:
        found |= (
            (Account.fail_safe_number == e164)
            | Account.id.in_(
                TrackingNumber.select(TrackingNumber.account).where(TrackingNumber.number == e164)
            )
            | Account.id.in_(
                ReceivingNumber.select(ReceivingNumber.account).where(
                    ReceivingNumber.number == e164
                )
            )
        )
    return found


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
