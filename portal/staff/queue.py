"""Carrier Relations' queue: every submitted port request and fax ticket, filtered by status,
account and FOC date, searched by number or name, sorted, paged, and exported as CSV.

One URL, two representations: the whole page, or for htmx the results region alone. The filters
are a real GET form, so the URL holds them and a view can be shared.
"""

from flask import Blueprint, Response, make_response, render_template, request, url_for

from portal.auth import staff_only
from portal.models import Account, utcnow
from portal.paging import Page
from portal.spreadsheets import to_csv
from portal.staff import queue_details, queue_rows
from portal.staff.queue_filters import QueueFilters
from portal.web import wants_fragment

bp = Blueprint("queue", __name__, url_prefix="/queue")
bp.add_app_template_filter(queue_details.status_label, "queue_status")
bp.add_app_template_filter(queue_details.day, "queue_day")

ROWS_PER_PAGE = 50
CSV_HEADER = [
    "Kind",
    "ID",
    "Name",
    "Account ID",
    "Account",
    "Status",
    "Numbers",
    "Submitted (UTC)",
    "Requested date",
    "FOC date",
    "FOC window",
    "In status since (UTC)",
]


@bp.get("/")
@staff_only
def index():
    form = QueueFilters(formdata=request.args)
    filters = form.filters()
    counts = queue_rows.counts(filters)
    total = sum(counts[status] for status in filters.statuses)
    listing = queue_rows.Listing(filters, total)
    page = Page.of(listing, request.args.get("page", 1, type=int), ROWS_PER_PAGE)
    context = {
        "form": form,
        "filters": filters,
        "counts": counts,
        "page": page,
        "account": _account(filters),
        "now": utcnow(),
        "waited": queue_details.waited,
        "open_statuses": queue_rows.OPEN,
    }
    if not wants_fragment():
        return render_template("queue/index.html", **context)
    from_form = request.htmx.trigger == "queue-filters"
    html = render_template("queue/_results.html", oob=True, oob_sort=not from_form, **context)
    response = make_response(html)
    # The address to share: the filters that apply, without the form's empty fields.
    shown = {"page": page.number} if page.number > 1 else {}
    response.headers["HX-Push-Url"] = url_for("queue.index", **form.link_args(filters), **shown)
    return response


@bp.get("/queue.csv")
@staff_only
def export():
    filters = QueueFilters(formdata=request.args).filters()
    rows = [CSV_HEADER] + [_csv_row(row) for row in queue_rows.everything(filters)]
    return Response(
        to_csv(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="portdesk-queue-{utcnow():%Y-%m-%d}.csv"'
        },
    )


def _account(filters):
    """Return the account the queue is narrowed to (None if none is, or there is no such one)."""
    if filters.account_id is None:
        return None
    return Account.get_or_none(Account.id == filters.account_id)


def _csv_row(row):
    return [
        "Port request" if row.kind == "request" else "Fax ticket",
        row.id,
        row.name,
        row.account_id,
        row.account_name,
        queue_details.status_label(row.status),
        row.numbers,
        f"{row.submitted:%Y-%m-%d %H:%M}",
        row.requested or ("" if row.kind == "fax" else "earliest available"),
        row.foc_date.isoformat() if row.foc_date else "",
        row.foc_window or "",
        f"{row.since:%Y-%m-%d %H:%M}",
    ]
