"""The Submit step, and cancelling a submitted request.

The Submit page sums the request up, lists what still stands in the way (each problem with a link
to its step, each unconfirmed warning with its confirm button) and submits it. `operations` does
the work, in one transaction: a refusal writes nothing and the page says why.
"""

import re

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from portal.auth import role_required
from portal.models import PortNumber, utcnow
from portal.notify import title_of
from portal.port_requests import operations
from portal.port_requests.blueprint import (
    bp,
    draft_or_redirect,
    get_request_or_404,
    render_step,
    review_of,
)
from portal.port_requests.dates import earliest_date
from portal.port_requests.proof import field_heading
from portal.port_requests.review import STEP_TITLES
from portal.port_requests.rules import step_of

# A step with many problems (a list of numbers) shows this many; its page shows them all.
SHOWN_PER_STEP = 10
NUMBER_FIELD = re.compile(r"numbers\[([0-9]+)\](?:\.(\w+))?")
NUMBER_PARTS = {
    "phone_number": "the number",
    "routing_id": "routing target",
    "tracking_source_id": "tracking source",
    "friendly_name": "name",
}
OTHER_HEADINGS = {"loa": "Letter of Authorization", "": "The request"}


class SubmitForm(FlaskForm):
    """Only the CSRF token: the page itself is the summary to submit."""


class CancelForm(FlaskForm):
    reason = TextAreaField("Why are you cancelling? (optional)")

    def validate_reason(self, field):
        text = field.data or ""
        if "\x00" in text:
            raise ValidationError(
                "Retype the reason: it holds a NUL character, which cannot be kept."
            )
        if len(text) > operations.MAX_REASON:
            raise ValidationError(
                f"Shorten the reason to at most {operations.MAX_REASON:,} characters "
                f"(it has {len(text):,})."
            )


@bp.route("/<int:request_id>/submit", methods=["GET", "POST"])
@role_required("owner")
def submit(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request):
        return refused
    form = SubmitForm()
    if not form.validate_on_submit():
        return _page(port_request, form)
    try:
        submitted = operations.submit(
            g.user.account,
            request_id,
            user=g.user,
            ip=request.remote_addr,
            today=utcnow().date(),
            lead_business_days=current_app.config["PORT_LEAD_BUSINESS_DAYS"],
        )
    except operations.NotSubmittable as error:
        port_request.status = error.status
        return draft_or_redirect(port_request)
    except operations.NumbersTaken as error:
        return _page(port_request, form, refusal=error.message, status=409)
    except operations.SubmitRefused as error:
        return _page(port_request, form, refusal=error.message)
    if submitted is None:  # deleted since it was loaded
        abort(404)
    flash(
        "Submitted: Carrier Relations check the request before it goes to the carrier. Its "
        "numbers are held for it, and you can cancel it until the carrier confirms the date.",
        "success",
    )
    return redirect(url_for("port_requests.show", request_id=request_id))


def _page(port_request, form, refusal=None, status=200):
    found = review_of(port_request)
    left = operations.blocking(found)
    return render_step(
        "submit",
        "port_requests/submit.html",
        found,
        status,
        form=form,
        refusal=refusal,
        left=left,
        errors_by_step=_by_step([problem for problem in left if problem.severity == "error"]),
        warnings=[problem for problem in left if problem.severity == "warning"],
        carrier=operations.carrier_of(found.fields),
        requested_date=found.fields.get("requested_date"),
        earliest=earliest_date(utcnow().date(), current_app.config["PORT_LEAD_BUSINESS_DAYS"]),
        heading=lambda field: problem_heading(field, found.rows),
        shown_per_step=SHOWN_PER_STEP,
        fix_step=fix_step,
    )


def _by_step(problems):
    """Return [(step, its problems)] in the wizard's order, for the steps that have any."""
    grouped = {}
    for problem in problems:
        grouped.setdefault(fix_step(problem.field), []).append(problem)
    return [(step, grouped[step]) for step in STEP_TITLES if step in grouped]


def fix_step(field):
    """Return the step on which the owner fixes a problem of this field."""
    return "agreements" if field == "agreements" else step_of(field)


def problem_heading(field, rows):
    """Return what a problem is about, as a heading says it: "Number (614) 322-1001"."""
    if found := NUMBER_FIELD.fullmatch(field):
        index, part = int(found[1]), found[2]
        given = rows[index].phone_number if index < len(rows) else None
        words = f"Number {given}" if given else f"Number {index + 1}"
        return f"{words}, {NUMBER_PARTS.get(part, part)}" if part else words
    return OTHER_HEADINGS.get(field) or field_heading(field)


@bp.route("/<int:request_id>/cancel", methods=["GET", "POST"])
@role_required("owner")
def cancel(request_id):
    port_request = get_request_or_404(request_id)
    if not operations.can_cancel(port_request.status):
        flash(operations.cancel_refusal(port_request.status), "error")
        return redirect(url_for("port_requests.show", request_id=request_id))
    form = CancelForm()
    if not form.validate_on_submit():
        return render_template(
            "port_requests/cancel.html",
            form=form,
            port_request=port_request,
            title=title_of(port_request),
            number_count=PortNumber.select().where(PortNumber.port_request == port_request).count(),
        )
    try:
        cancelled = operations.cancel(
            g.user.account, request_id, user=g.user, reason=form.reason.data
        )
    except operations.CancelRefused as error:
        flash(error.message, "error")
        return redirect(url_for("port_requests.show", request_id=request_id))
    if cancelled is None:
        abort(404)
    flash(
        f'Cancelled "{title_of(cancelled)}": nothing moves, and its numbers are free '
        "for a new request.",
        "success",
    )
    return redirect(url_for("port_requests.show", request_id=request_id))
