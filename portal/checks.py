"""Check portability: the owner's live check, its CSV downloads and the bulk-import template."""

from dataclasses import dataclass, field

from flask import Blueprint, Response, g, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from portal.auth import role_required
from portal.models import NumberUpload
from portal.number_lists import (
    CSV_MAX_BYTES,
    NumberListError,
    entries_from_text,
    read_bulk_csv,
    reference_csv,
    results_csv,
    template_csv,
)
from portal.portability import REASONS, check_portability, summarize
from portal.web import wants_fragment

bp = Blueprint("checks", __name__, url_prefix="/check")

RESULTS_SHOWN = 500
TEXT_MAX_CHARS = 1_000_000
FILTERS = {"portable": "Portable", "refused": "Refused", **REASONS}


class CheckForm(FlaskForm):
    numbers = TextAreaField(
        "Phone numbers",
        validators=[
            Length(max=TEXT_MAX_CHARS, message="That is too much text: upload the list as a CSV.")
        ],
    )
    csv_file = FileField("Or upload a CSV file")
    # What the results on the page were checked from (a stored upload, or the text), so the
    # filters and the download re-read exactly that, whatever has been typed or chosen since.
    upload = HiddenField()
    checked_numbers = HiddenField(validators=[Length(max=TEXT_MAX_CHARS)])
    reason = HiddenField()


@dataclass
class Report:
    """A check's results, and the slice of them the page shows."""

    results: list
    source: str
    problems: list = field(default_factory=list)
    reason: str = ""

    def __post_init__(self):
        self.summary = summarize(self.results)
        self.matching = [r for r in self.results if _matches(r, self.reason)]
        self.shown = self.matching[:RESULTS_SHOWN]


def _matches(result, reason):
    if reason == "portable":
        return result.portable
    if reason == "refused":
        return not result.portable
    return not reason or result.reason == reason


@bp.route("/", methods=["GET", "POST"])
@role_required("owner")
def check():
    form = CheckForm()
    report = _run(form) if request.method == "POST" else None
    context = {"form": form, "report": report, "filters": FILTERS}
    if wants_fragment():
        return render_template("checks/_fragment.html", **context)
    return render_template("checks/index.html", account=g.user.account, **context)


@bp.post("/results.csv")
@role_required("owner")
def results_download():
    form = CheckForm()
    report = _run(form)
    if report is None:
        context = {"form": form, "report": None, "filters": FILTERS}
        return render_template("checks/index.html", account=g.user.account, **context)
    return _csv_download(results_csv(report.results), "portability-results.csv")


@bp.get("/template.csv")
@role_required("owner")
def template_download():
    return _csv_download(template_csv(g.user.account), "portdesk-bulk-template.csv")


@bp.get("/reference.csv")
@role_required("owner")
def reference_download():
    account = g.user.account
    return _csv_download(reference_csv(account), f"portdesk-account-{account.id}-ids.csv")


def _csv_download(text, filename):
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _run(form):
    """Check what the form holds; return a Report, or None with the problem on the form.

    The Check Portability button checks the inputs: a newly chosen file, else the text. The
    filters and the download work on the results on the page, so they re-read what was checked.
    """
    if not form.validate():
        return None
    account = g.user.account
    again = "reason" in request.form or request.endpoint == "checks.results_download"
    try:
        entries, source, problems = (_checked if again else _entered)(form, account)
    except NumberListError as error:
        chosen = form.csv_file if _has_file(form) and not again else form.numbers
        chosen.errors = [str(error)]
        return None
    if entries is None:
        # An emptied text box while typing clears the results; a click on the button explains.
        if not (request.htmx and request.htmx.trigger == form.numbers.id):
            form.numbers.errors = ["Enter at least one number, or upload a CSV file."]
        return None
    reason = form.reason.data if form.reason.data in FILTERS else ""
    return Report(check_portability(entries, account), source, problems, reason)


def _entered(form, account):
    """Return (entries, where they came from, CSV row problems) for a new file, else the text,
    else (nothing new was given) the upload the page already holds."""
    held = form.upload.data
    form.upload.data = form.checked_numbers.data = ""
    if _has_file(form):
        upload = form.csv_file.data
        data = upload.stream.read(CSV_MAX_BYTES + 1)
        bulk = read_bulk_csv(data, account)
        stored = NumberUpload.create(
            account=account, uploaded_by=g.user, filename=upload.filename[:255], content=data
        )
        form.upload.data = str(stored.id)
        return bulk.entries, stored.filename, bulk.problems
    if form.numbers.data and form.numbers.data.strip():
        form.checked_numbers.data = form.numbers.data
        return entries_from_text(form.numbers.data), "", []
    return _reread(form, account, held)


def _checked(form, account):
    """Return the same as `_entered`, for what the results on the page were checked from."""
    if _stored_upload(form.upload.data, account) is not None:
        return _reread(form, account, form.upload.data)
    if form.checked_numbers.data and form.checked_numbers.data.strip():
        return entries_from_text(form.checked_numbers.data), "", []
    return _entered(form, account)


def _reread(form, account, upload_id):
    stored = _stored_upload(upload_id, account)
    if stored is None:
        return None, "", []
    form.upload.data = str(stored.id)
    bulk = read_bulk_csv(bytes(stored.content), account)
    return bulk.entries, stored.filename, bulk.problems


def _has_file(form):
    return bool(form.csv_file.data and form.csv_file.data.filename)


def _stored_upload(upload_id, account):
    if not (upload_id or "").isdigit():
        return None
    return NumberUpload.get_or_none(
        (NumberUpload.id == int(upload_id)) & (NumberUpload.account == account)
    )
