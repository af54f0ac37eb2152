"""The Numbers and configuration step: add numbers (typed or the bulk CSV, checked as they are
typed), give each a routing target, a tracking source and a name (one by one or many at once),
remove the refused ones, and keep a receiving number by re-routing its tracking numbers.

Every change is a POST that works without JavaScript: Post/Redirect/Get back to the step's page,
with a flash. For htmx the answer is the rows region (`_numbers_rows.html`) with the result in
the step's live region, and the step list with its checks. The rows are read by `number_rows`
and changed by `configuration`, in statements that do not grow with the rows.
"""

import math
import re

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from portal.auth import role_required
from portal.checks import FILTERS, CheckForm, run_check
from portal.paging import Page
from portal.port_requests import configuration, number_rows
from portal.port_requests.blueprint import (
    bp,
    draft_or_redirect,
    get_request_or_404,
    next_step_url,
    render_step,
    review_of,
    step_url,
)
from portal.port_requests.configuration import plural
from portal.port_requests.drafts import NotADraft, changing, locked_draft, record_save
from portal.port_requests.review import STEP_TITLES, ringing
from portal.portability import REASONS
from portal.web import wants_fragment

PER_PAGE = 200
# The refused numbers listed by number; "Remove" takes every one of them.
REFUSED_SHOWN = 500
APPLY_TO = [
    SelectChoice("selected", "The selected numbers on this page"),
    SelectChoice("all", "Every number in this request"),
]
REROUTE_FIELD = re.compile(r"reroute\[(\+\d{1,15})\]")
RECEIVING_NUMBER = re.compile(r"\+[0-9]{1,15}")


class ConfigureForm(FlaskForm):
    page = HiddenField()
    apply_routing_id = SelectField("Routing target", validate_choice=False)
    apply_tracking_source_id = SelectField("Tracking source", validate_choice=False)
    apply_to = RadioField("Apply to", choices=APPLY_TO, default="selected", validate_choice=False)
    save = SubmitField("Save the configuration")
    apply = SubmitField("Apply")
    remove = SubmitField("Remove the selected numbers")


class RerouteForm(FlaskForm):
    page = HiddenField()
    receiving_number = HiddenField()
    keep = SubmitField("Keep it with these routings")
    undo = SubmitField("Don't keep it")


@bp.get("/<int:request_id>/numbers")
@role_required("owner")
def numbers(request_id):
    port_request = get_request_or_404(request_id)
    if port_request.status != "draft":
        return draft_or_redirect(port_request)
    found = review_of(port_request)
    page, reroute = _page_number(request.args.get("page")), request.args.get("reroute")
    if wants_fragment():
        context = _rows_context(found, page, reroute)
        return render_template(
            "port_requests/_numbers_rows.html", port_request=port_request, **context
        )
    return _step(found, page=page, reroute=reroute)


@bp.post("/<int:request_id>/numbers/check")
@role_required("owner")
def numbers_check(request_id):
    port_request = get_request_or_404(request_id)
    if port_request.status != "draft":
        return draft_or_redirect(port_request)
    form = CheckForm()
    typing = request.htmx.trigger == form.numbers.id if request.htmx else False
    again = "reason" in request.form
    report = run_check(form, g.user.account, g.user, again=again, typing=typing)
    if wants_fragment():
        return render_template(
            "checks/_fragment.html", **_check_context(port_request, form, report)
        )
    status = 400 if form.upload.errors else 200
    return _step(review_of(port_request), form=form, report=report, status=status)


@bp.post("/<int:request_id>/numbers/add")
@role_required("owner")
def numbers_add(request_id):
    port_request = get_request_or_404(request_id)
    if port_request.status != "draft":
        return draft_or_redirect(port_request)
    form = CheckForm()
    chose_file = bool(form.csv_file.data and form.csv_file.data.filename)
    # What the results on the page came from: a kept file until it is removed, else the box.
    again = bool(form.upload.data) and not chose_file
    report = run_check(form, g.user.account, g.user, again=again)
    try:
        if report is not None:
            with changing():
                port_request = _locked(request_id)
                added = configuration.rows_from_check(report.results, report.bulk)
                start = configuration.append_numbers(port_request, added)
                record_save(port_request, "changed", f"Added {plural(len(added))}.", user=g.user)
    except configuration.CannotAdd as error:
        form.numbers.errors, report = [str(error)], None
    except NotADraft as error:
        return draft_or_redirect(error.port_request)
    if report is None:
        return _add_refused(port_request, form)
    found = review_of(port_request)
    rows = number_rows.rows_of(found)
    _tell(_added(rows[start:], report))
    page = math.ceil(sum(not row.refused for row in rows) / PER_PAGE)
    return _changed(port_request, page, found=found, add_form=CheckForm(formdata=None))


@bp.post("/<int:request_id>/numbers/configuration")
@role_required("owner")
def numbers_configure(request_id):
    form = ConfigureForm()
    action = "remove" if form.remove.data else "apply" if form.apply.data else "save"
    apply = {
        "routing_id": form.apply_routing_id.data,
        "tracking_source_id": form.apply_tracking_source_id.data,
    }

    def change(port_request):
        return configuration.change_rows(
            port_request,
            g.user.account,
            number_rows.posted_rows(request.form),
            action=action,
            selected=_selected(request.form),
            apply=apply,
            everyone=form.apply_to.data == "all",
        )

    return _change(request_id, _page_number(form.page.data), change)


@bp.post("/<int:request_id>/numbers/remove-refused")
@role_required("owner")
def numbers_remove_refused(request_id):
    def change(port_request):
        rows = number_rows.rows_of(review_of(port_request))
        return configuration.remove_refused(port_request, rows)

    return _change(request_id, _page_number(request.form.get("page")), change)


@bp.post("/<int:request_id>/numbers/reroute")
@role_required("owner")
def numbers_reroute(request_id):
    form = RerouteForm()
    receiving = form.receiving_number.data or ""
    chosen = {
        match[1]: value
        for key, value in request.form.items()
        if (match := REROUTE_FIELD.fullmatch(key))
    }

    def change(port_request):
        if form.undo.data:
            return configuration.undo_keep(port_request, receiving)
        return configuration.keep_receiving(port_request, g.user.account, receiving, chosen)

    # The anchor only from a number: a crafted field would otherwise come back in Location.
    kept = not form.undo.data and RECEIVING_NUMBER.fullmatch(receiving)
    anchor = f"reroute-{receiving[1:]}" if kept else "refused"
    return _change(request_id, _page_number(form.page.data), change, anchor=anchor)


def _change(request_id, page, change, *, anchor=None):
    """Make a change to the draft under its lock, log it, tell the owner and answer."""
    get_request_or_404(request_id)
    try:
        with changing():
            port_request = _locked(request_id)
            outcome = change(port_request)
            if outcome.event:
                record_save(port_request, "changed", outcome.event, user=g.user)
    except NotADraft as error:
        return draft_or_redirect(error.port_request)
    _tell(outcome)
    return _changed(port_request, page, anchor=anchor)


def _added(new, report):
    """Return what adding says: how many are portable, and the uploaded file's row problems."""
    outcome = configuration.Outcome()
    ready = sum(row.ready for row in new)
    outcome.say(f"Added {plural(len(new))}: {ready:,} portable, {len(new) - ready:,} refused.")
    problems = report.bulk.problems if report.bulk is not None else []
    if problems:
        outcome.say(
            f"{report.source} has {plural(len({p.row for p in problems}), 'row')} to fix: a row "
            "without a usable number was not added, and an ID that is not your account's was "
            "left empty for you to choose.",
            "warning",
        )
        outcome.say_each([f"Row {p.row}, {p.column}: {p.message}." for p in problems], "warning")
    return outcome


def _tell(outcome):
    for category, message in outcome.said:
        flash(message, category)


def _locked(request_id):
    port_request = locked_draft(g.user.account, request_id)
    if port_request is None:
        abort(404)
    return port_request


def _changed(port_request, page, *, anchor=None, found=None, add_form=None):
    """Answer a change: back to the step's page, or for htmx the rows region and the news."""
    if not wants_fragment():
        page = page if page > 1 else None
        return redirect(
            url_for("port_requests.numbers", request_id=port_request.id, page=page, _anchor=anchor)
        )
    found = found or review_of(port_request)
    context = _rows_context(found, page) | _step_context(found)
    if add_form is not None:
        context |= _check_context(port_request, add_form, None)
    return render_template("port_requests/_numbers_fragment.html", add_form=add_form, **context)


def _add_refused(port_request, form):
    """Show why nothing was added, keeping what was entered."""
    if not wants_fragment():
        return _step(review_of(port_request), form=form)
    context = _check_context(port_request, form, None)
    response = make_response(render_template("port_requests/_numbers_add_refused.html", **context))
    response.headers["HX-Retarget"] = "#numbers-add"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _step(found, *, form=None, report=None, page=1, reroute=None, status=200):
    port_request = found.port_request
    return render_step(
        "numbers",
        "port_requests/numbers.html",
        found,
        status,
        next_url=next_step_url(port_request, "numbers"),
        **_check_context(port_request, form or CheckForm(formdata=None), report),
        **_rows_context(found, page, reroute),
    )


def _check_context(port_request, form, report):
    return {
        "form": form,
        "report": report,
        "filters": FILTERS,
        "check_url": url_for("port_requests.numbers_check", request_id=port_request.id),
        "download_url": url_for("checks.results_download"),
        "add_url": url_for("port_requests.numbers_add", request_id=port_request.id),
    }


def _step_context(found):
    """What the step list needs when a fragment sends it again (its checks may have changed)."""
    return {
        "step": "numbers",
        "step_titles": STEP_TITLES,
        "review": found,
        "port_request": found.port_request,
        "step_url": step_url,
    }


def _rows_context(found, page_number, reroute=None):
    """Everything `_numbers_rows.html` shows: the refused, the re-routes, a page of the rest."""
    account = g.user.account
    rows = number_rows.rows_of(found)
    listed = [row for row in rows if not row.refused]
    count = max(1, math.ceil(len(listed) / PER_PAGE))
    number = max(1, min(page_number, count))
    page = Page(listed[(number - 1) * PER_PAGE : number * PER_PAGE], number, count, len(listed))
    targets, sources = number_rows.routing_targets(account), number_rows.tracking_sources(account)
    form = ConfigureForm(formdata=None, page=number)
    form.apply_routing_id.choices = _choices(targets, "Leave as they are")
    form.apply_tracking_source_id.choices = _choices(sources, "Leave as they are")
    request_id = found.port_request.id
    return {
        "rows": rows,
        "page": page,
        "refused": [row for row in rows if row.refused],
        "refused_shown": REFUSED_SHOWN,
        "reasons": REASONS,
        "ready": sum(row.ready for row in rows),
        "number_problems": [p for p in found.problems if p.field == "numbers"],
        "reroutes": _reroutes(found, rows, targets, reroute),
        "config_form": form,
        "routing_options": number_rows.Options(targets, "Choose a routing target"),
        "source_options": number_rows.Options(sources, "Choose a tracking source"),
        "shown_values": number_rows.shown_values,
        "configure_url": url_for("port_requests.numbers_configure", request_id=request_id),
        "remove_refused_url": url_for(
            "port_requests.numbers_remove_refused", request_id=request_id
        ),
        "reroute_url": url_for("port_requests.numbers_reroute", request_id=request_id),
    }


def _reroutes(found, rows, targets, opened):
    """Return the re-route panels: every kept receiving number, and the one the owner opened."""
    receiving = []
    for row in rows:
        e164 = row.result.e164
        wanted = row.result.reason == "receiving_number" and (row.kept or e164 == opened)
        if wanted and e164 not in receiving:
            receiving.append(e164)
    if not receiving:
        return []
    rings = ringing(g.user.account, receiving)
    chosen = {(r.receiving_number, r.tracking_number): r.routing_id for r in found.reroutes}
    kept = {r.receiving_number for r in found.reroutes}
    return [
        {
            "number": number,
            "anchor": f"reroute-{number.lstrip('+')}",
            "kept": number in kept,
            "tracking": [(tracking, chosen.get((number, tracking))) for tracking in rings[number]],
            "options": number_rows.Options(
                [t for t in targets if t.number != number], "Choose a new routing"
            ),
        }
        for number in receiving
    ]


def _choices(rows, empty):
    return [SelectChoice("", empty)] + [SelectChoice(str(r.id), f"{r.name} ({r.id})") for r in rows]


def _selected(form):
    return {int(v) for v in form.getlist("selected") if v.isascii() and v.isdigit() and len(v) <= 5}


def _page_number(text):
    text = (text or "").strip()
    return max(1, int(text)) if text.isascii() and text.isdigit() and len(text) <= 6 else 1
