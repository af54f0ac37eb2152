"""The owner's fix page for a request sent back by Carrier Relations, and its resubmit.

The page shows staff's codes with what each means and their note, and a form of only the fields
those codes open (the Details step's own controls). It takes numbers out and a newer bill in when
the codes say so, sends the owner to the LOA step when a change voided the signed LOA, and
resubmits. The rules are `corrections`' and `operations.resubmit`'s: these views load, authorize,
call them and answer (Post/Redirect/Get).
"""

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, TextAreaField

from portal import documents
from portal.auth import role_required
from portal.models import utcnow
from portal.notify import title_of
from portal.port_requests import corrections, operations, proof
from portal.port_requests.blueprint import bp, draft_or_redirect, get_request_or_404, review_of
from portal.port_requests.corrections import FIXABLE, FixRefused
from portal.port_requests.dates import earliest_date
from portal.port_requests.drafts import NotADraft, changing, locked_draft
from portal.port_requests.fields import Problem
from portal.port_requests.forms import DetailsForm, controls
from portal.port_requests.statuses import DESCRIPTIONS
from portal.port_requests.wizard import Feedback
from portal.portability import REASONS
from portal.staff.transitions import TransitionRefused

# Each section of the Details step, with its legend on the fix page.
SECTIONS = {
    "contact": "Contact for this port",
    "billing": "The account at your current carrier",
    "service_address": "Service address",
    "authorized": "Authorized representative",
    "partial_port": "Numbers that stay behind",
    "requested_date": "Requested date",
}
OUTSIDE = (
    "That form held {fields}, which Carrier Relations did not ask you to change, so nothing was "
    "saved: change only the fields shown below and save again."
)
EXPIRED = "That form had expired, so nothing was done: try again."
# Numbers with a tick box on the page; more are typed.
NUMBERS_SHOWN = 100


class NumbersForm(FlaskForm):
    remove = SelectMultipleField("Numbers to take out", validate_choice=False)
    typed = TextAreaField("Numbers to take out, typed")


class ResubmitForm(FlaskForm):
    """Only the CSRF token: the page itself says what is resubmitted."""


@bp.route("/<int:request_id>/fix", methods=["GET", "POST"])
@role_required("owner")
def fix(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, FIXABLE):
        return refused
    if request.method == "GET":
        return _page(port_request, DetailsForm.from_fields(port_request.fields))
    form = DetailsForm()
    if extra := _outside(form, _scope(port_request)):
        names = " and ".join(corrections.words_of(name) for name in extra)
        return _page(port_request, form, refusal=OUTSIDE.format(fields=names), status=400)
    if not form.validate():
        return _page(port_request, form, unreadable=_unreadable(form), status=400)
    try:
        saved, changed = corrections.save(
            g.user.account,
            request_id,
            user=g.user,
            posted=form.fields(),
            shown=form.shown_fields(),
            **_today(),
        )
    except NotADraft as error:
        return draft_or_redirect(error.port_request, FIXABLE)
    if saved is None:
        abort(404)
    flash(*_saved_words(review_of(saved), changed))
    return redirect(url_for("port_requests.fix", request_id=request_id) + "#fix-todo")


@bp.post("/<int:request_id>/fix/numbers")
@role_required("owner")
def fix_numbers(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, FIXABLE):
        return refused
    form = NumbersForm()
    if not form.validate_on_submit():
        return _back(request_id, EXPIRED, "error", "#fix-numbers")
    try:
        saved, gone = corrections.remove_numbers(
            g.user.account,
            request_id,
            user=g.user,
            number_ids=form.remove.data or [],
            typed=form.typed.data,
        )
    except FixRefused as refusal:
        return _back(request_id, str(refusal), "error", "#fix-numbers")
    except NotADraft as error:
        return draft_or_redirect(error.port_request, FIXABLE)
    if saved is None:
        abort(404)
    count = len(gone)
    words = (
        f"Took {count:,} {'number' if count == 1 else 'numbers'} out of the request. The LOA "
        "lists every number: get the new LOA signed before you resubmit."
    )
    return _back(request_id, words, "warning", "#fix-loa")


@bp.post("/<int:request_id>/fix/bill")
@role_required("owner")
def fix_bill(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, FIXABLE):
        return refused
    try:
        corrections.require(port_request, "bill")
    except FixRefused as refusal:
        return _back(request_id, str(refusal), "error", "#fix-bill")
    form = proof.BillForm()
    if form.validate_on_submit():
        try:
            stored = _store_bill(request_id, form)
        except documents.DocumentRefused as refusal:
            form.file.errors.append(str(refusal))
        except FixRefused as refusal:
            return _back(request_id, str(refusal), "error", "#fix-bill")
        except NotADraft as error:
            return draft_or_redirect(error.port_request, FIXABLE)
        else:
            words = f"Stored the bill {stored.label}: it is read against the request below."
            return _back(request_id, words, "success", "#fix-todo")
    fields = DetailsForm.from_fields(port_request.fields)
    return _page(port_request, fields, bill_form=form, status=400)


@bp.post("/<int:request_id>/resubmit")
@role_required("owner")
def resubmit(request_id):
    port_request = get_request_or_404(request_id)
    if not ResubmitForm().validate_on_submit():
        return _back(request_id, EXPIRED, "error", "#resubmit")
    try:
        done = operations.resubmit(
            g.user.account,
            request_id,
            user=g.user,
            ip=request.remote_addr,
            **_today(),
        )
    except TransitionRefused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("port_requests.show", request_id=request_id))
    except operations.ResubmitRefused as refusal:
        fields = DetailsForm.from_fields(port_request.fields)
        return _page(port_request, fields, refusal=refusal.message, status=409)
    if done is None:
        abort(404)
    flash(
        "Resubmitted: Carrier Relations have the corrected request, and will tell you the date "
        "or what else the carrier needs.",
        "success",
    )
    return redirect(url_for("port_requests.show", request_id=request_id))


def _store_bill(request_id, form):
    data = proof.read_upload(form.file.data)
    with changing():
        port_request = locked_draft(g.user.account, request_id, FIXABLE) or abort(404)
        corrections.require(port_request, "bill")
        return proof.store_document(
            port_request,
            "bill",
            data,
            form.file.data.filename,
            user=g.user,
            statement_date=form.statement_date.data,
        )


def _page(port_request, form, *, unreadable=None, refusal=None, bill_form=None, status=200):
    found = review_of(port_request)
    paths = corrections.scope(port_request, found.problems)
    mine, others = corrections.split(found.problems, paths)
    by_number = {}
    for problem in mine:
        if problem.field.startswith("numbers["):
            index = int(problem.field[len("numbers[") :].split("]")[0])
            by_number.setdefault(index, []).append(problem)
    # A request holds up to 20,000 numbers: tick boxes for those that need a look first (a
    # problem, a status of their own), then the rest up to NUMBERS_SHOWN; the others are typed.
    order = sorted(
        range(len(found.rows)),
        key=lambda index: (
            index not in by_number and found.rows[index].status != "rejected",
            index,
        ),
    )
    shown = sorted(order[:NUMBERS_SHOWN])
    html = render_template(
        "port_requests/fix.html",
        review=found,
        port_request=port_request,
        title=title_of(port_request),
        codes=corrections.explained(port_request),
        paths=paths,
        form=form,
        groups=_groups(form, paths),
        field_count=len(corrections.field_paths(paths)),
        feedback=Feedback.of(mine if unreadable is None else unreadable, form, reviewing=True),
        left=mine,
        others=others,
        loa_problems=[problem for problem in mine if problem.field == corrections.LOA],
        refusal=refusal,
        numbers_form=NumbersForm(formdata=None),
        by_number=by_number,
        shown_numbers=[(index, found.rows[index], found.checked[index]) for index in shown],
        bill_form=bill_form or proof.BillForm(formdata=None),
        resubmit_form=ResubmitForm(formdata=None),
        statuses=DESCRIPTIONS,
        reasons=REASONS,
        field_label=proof.field_heading,
        words_of=corrections.words_of,
        today=utcnow().date(),
        earliest=earliest_date(**_today()),
    )
    return html, status


def _groups(form, paths):
    """Return [(legend, [(control, is_radio)])]: the controls of the open paths, by section."""
    groups = {}
    for path in corrections.field_paths(paths):
        top, _, name = path.partition(".")
        found = groups.setdefault(top, [])
        if path == "requested_date":
            found.append(form.requested_date_choice)
        found.append(form[top][name] if name else form[top])
    return [
        (SECTIONS[top], [(control, isinstance(control, RadioField)) for control in groups[top]])
        for top in SECTIONS
        if top in groups
    ]


def _today():
    return {
        "today": utcnow().date(),
        "lead_business_days": current_app.config["PORT_LEAD_BUSINESS_DAYS"],
    }


def _scope(port_request):
    """Return the paths open on the request (its codes', and a requested date gone stale)."""
    dated = corrections.date_problems(port_request.fields, **_today())
    return corrections.scope(port_request, dated)


def _outside(form, paths):
    """Return the controls of the Details form that the POST holds but the codes keep closed."""
    open_names = set(corrections.field_paths(paths))
    if "requested_date" in open_names:
        open_names.add("requested_date_choice")
    return [
        control.name
        for control in controls(form)
        if control.name in request.form
        and control.name not in open_names
        and control.name not in ("csrf_token", "shown")
    ]


def _unreadable(form):
    """Return what the form could not read (a NUL, too long) as problems on the controls."""
    return [
        Problem(control.name, "unreadable", "error", message)
        for control in controls(form)
        for message in control.errors
    ]


def _saved_words(found, changed):
    """Return (what the flash says after a save, its category)."""
    if not changed:
        return "Nothing to save: the fields are as they were.", "success"
    left = corrections.blocking(found)
    said = f"Saved {corrections.words_of(changed[0])}" + (
        f" and {len(changed) - 1} more" if len(changed) > 1 else ""
    )
    if any(problem.field == corrections.LOA for problem in left):
        return f"{said}. The LOA changed with it: get the new LOA signed, then resubmit.", "warning"
    if left:
        return f"{said}. Fix or check what is listed before you resubmit.", "warning"
    return f"{said}: nothing is left to fix, so you can resubmit.", "success"


def _back(request_id, words, category, anchor=""):
    flash(words, category)
    return redirect(url_for("port_requests.fix", request_id=request_id) + anchor)
