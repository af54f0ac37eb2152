"""Starting a port request, and its General and Details steps.

A step saves whatever was typed (a draft keeps it all, right or wrong) and shows what
`rules.problems` finds, each problem on its field. An htmx change saves the same way and answers
with the fields' problem slots, the step list and a status sentence, all out of band: the control
the owner is typing in is never replaced, so focus and caret stay where they were.
"""

import json
from dataclasses import dataclass

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from portal.auth import role_required
from portal.db import db
from portal.models import PortRequest, utcnow
from portal.port_requests.blueprint import (
    bp,
    draft_or_redirect,
    get_request_or_404,
    next_step_url,
    render_step,
    review_of,
    step_url,
)
from portal.port_requests.dates import earliest_date
from portal.port_requests.drafts import (
    NotADraft,
    changes_from_page,
    changing,
    locked_draft,
    merge_fields,
    record_save,
)
from portal.port_requests.events import record_event
from portal.port_requests.fields import Problem
from portal.port_requests.forms import DetailsForm, GeneralForm, controls, problem_fields
from portal.port_requests.rules import step_problems
from portal.web import wants_fragment

FORMS = {"general": GeneralForm, "details": DetailsForm}
SAVED = {"general": "Saved the name.", "details": "Saved the details."}
TO_FIX = "Saved. Fix the marked fields to complete this step."


@bp.route("/new", methods=["GET", "POST"])
@role_required("owner")
def new():
    form = GeneralForm()
    problems = []
    if form.is_submitted():
        problems = _name_problems(form.fields()) if form.validate() else _read_errors(form)
        if not _errors(problems):
            return _start(form.fields())
    feedback = Feedback.of(problems, form, reviewing=True)
    html = render_template("port_requests/new.html", form=form, feedback=feedback)
    return html, 400 if problems else 200


@bp.route("/<int:request_id>/general", methods=["GET", "POST"])
@role_required("owner")
def general(request_id):
    return _step("general", request_id)


@bp.route("/<int:request_id>/details", methods=["GET", "POST"])
@role_required("owner")
def details(request_id):
    return _step("details", request_id)


def _step(step, request_id):
    """Show a step of a draft, or save it: PRG for a full page, the problem slots for htmx."""
    port_request = get_request_or_404(request_id)
    if port_request.status != "draft":
        return draft_or_redirect(port_request)
    if request.method == "GET":
        form = FORMS[step].from_fields(port_request.fields)
        return _page(step, form, review_of(port_request), request.args.get("review") == "1")
    form = FORMS[step]()
    reviewing = not wants_fragment() or request.form.get("review") == "1"
    if not form.validate():
        return _answer(step, form, review_of(port_request), reviewing, _read_errors(form))
    try:
        port_request = _save(step, request_id, form.fields(), form.shown_fields())
    except NotADraft as error:
        return draft_or_redirect(error.port_request)
    found = review_of(port_request)
    if wants_fragment():
        return _answer(step, form, found, reviewing)
    if _errors(found.problems_of(step)):
        flash(TO_FIX, "warning")
        return redirect(url_for(request.endpoint, request_id=request_id, review=1))
    flash(SAVED[step], "success")
    return redirect(next_step_url(port_request, step))


def _start(fields):
    with db.atomic():
        port_request = PortRequest.create(
            account=g.user.account, created_by=g.user, details=json.dumps(fields)
        )
        record_event(port_request, "created", "Created the draft.", user=g.user)
    flash("Draft started: it is saved as you go. Next, the account at your current carrier.")
    return redirect(step_url(port_request, "details"))


def _save(step, request_id, posted, shown):
    """Store what the page changed, on the draft read again under the lock; return the draft."""
    with changing():
        port_request = locked_draft(g.user.account, request_id)
        if port_request is None:
            abort(404)
        stored = port_request.fields
        changes = changes_from_page(stored, posted, shown)
        if any(stored.get(name) != value for name, value in changes.items()):
            merge_fields(port_request, changes)
            record_save(port_request, "saved", SAVED[step], user=g.user)
    return port_request


def _page(step, form, found, reviewing, read_errors=None, status=200):
    problems = found.problems_of(step) if read_errors is None else read_errors
    feedback = Feedback.of(problems, form, reviewing)
    context = {"form": form, "feedback": feedback, "reviewing": reviewing}
    if step == "details":
        context["earliest"] = earliest_date(
            utcnow().date(), current_app.config["PORT_LEAD_BUSINESS_DAYS"]
        )
    return render_step(step, f"port_requests/{step}.html", found, status, **context)


def _answer(step, form, found, reviewing, read_errors=None):
    """Answer a POST that was not redirected: the slots for htmx, else the page (unreadable)."""
    if not wants_fragment():
        return _page(step, form, found, True, read_errors, status=400)
    problems = found.problems_of(step) if read_errors is None else read_errors
    feedback = Feedback.of(problems, form, reviewing)
    status = feedback.status(saved=read_errors is None)
    if read_errors is None:
        form.remember_shown()  # the page now shows what was just saved
    return render_step(
        step,
        "port_requests/_details_saved.html",
        found,
        form=form,
        feedback=feedback,
        reviewing=reviewing,
        status_line=status,
        slots=problem_fields(form),
    )


def _name_problems(fields):
    return step_problems(
        fields,
        "general",
        today=utcnow().date(),
        lead_business_days=current_app.config["PORT_LEAD_BUSINESS_DAYS"],
    )


def _read_errors(form):
    """Return what the form could not read (a NUL, too long) as problems on the controls."""
    return [
        Problem(control.name, "unreadable", "error", message)
        for control in controls(form)
        for message in control.errors
    ]


def _errors(problems):
    return any(problem.severity == "error" for problem in problems)


@dataclass
class Feedback:
    """The problems a step shows: on their fields, above the form, and how many wait unsaid."""

    shown: list
    by_field: dict  # field path -> its problems
    unplaced: list  # problems of no control on the page (a whole section of the wrong type)
    waiting: int  # empty required fields, not named until the owner saves the step

    @classmethod
    def of(cls, problems, form, reviewing):
        """Sort problems onto the form's fields; before a save, leave out "required" ones."""
        paths = {field.name for field in problem_fields(form)}
        shown = [problem for problem in problems if reviewing or problem.code != "required"]
        by_field = {}
        for problem in shown:
            if problem.field in paths:
                by_field.setdefault(problem.field, []).append(problem)
        unplaced = [problem for problem in shown if problem.field not in paths]
        return cls(shown, by_field, unplaced, len(problems) - len(shown))

    def status(self, *, saved):
        """Say what happened, in a sentence for the status region."""
        if not saved:
            return f"Not saved: {_count(len(self.shown), 'field')} cannot be saved as typed."
        words = ["Saved."]
        if self.shown:
            words.append(f"{_count(len(self.shown), 'problem')} on this step.")
        if self.waiting:
            words.append(f"{_count(self.waiting, 'required field')} still empty.")
        if not self.shown and not self.waiting:
            words.append("This step is complete.")
        return " ".join(words)


def _count(number, noun):
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
