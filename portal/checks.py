"""Check portability: the owner's live check, its CSV downloads and the bulk-import template.

Staff run the same page for any account (`?account=ID`), to answer an owner on the phone: the
check then sees that account's inventory, as its owner would.

`run_check` is the component: it takes a `CheckForm` (or a form with the same fields), the
account, the user and whether to re-check what the page already shows, and returns a `Report`.
The port request wizard reuses it with its own URLs for `_results.html`.
"""

import re
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import Length, ValidationError

from portal.auth import login_required
from portal.models import Account, NumberUpload
from portal.number_lists import (
    CSV_MAX_BYTES,
    BulkUpload,
    NumberListError,
    entries_from_text,
    read_bulk_csv,
    reference_csv,
    results_csv,
    template_csv,
)
from portal.port_requests.blueprint import MAX_ID
from portal.portability import REASONS, check_portability, summarize
from portal.uploads import keep_upload
from portal.web import wants_fragment

bp = Blueprint("checks", __name__, url_prefix="/check")

RESULTS_SHOWN = 500
TEXT_MAX_CHARS = 1_000_000
FILTERS = {"portable": "Portable", "refused": "Refused", **REASONS}
# A stored id as this page writes it: ASCII digits, few enough for any database's integer.
STORED_ID = re.compile(r"[0-9]{1,18}")
OUT_OF_DATE = "This page is out of date: check the numbers again."
TYPED = "the numbers you typed"
# The same words whether the upload was deleted (the per-account cap, `flask uploads prune`) or
# is another account's: never say which.
UPLOAD_GONE = "The file these results came from is no longer kept: upload it again."


def stored_id(form, field):
    """Refuse a hidden id this page could not have written (a stale or edited page)."""
    if field.data and not STORED_ID.fullmatch(field.data):
        raise ValidationError(OUT_OF_DATE)


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
    upload = HiddenField(validators=[stored_id])
    checked_numbers = HiddenField(validators=[Length(max=TEXT_MAX_CHARS)])
    reason = HiddenField()
    remove_upload = SubmitField("Remove the file")


@dataclass
class Report:
    """A check's results, and the slice of them the page shows."""

    results: list
    source: str  # the uploaded file's name, or TYPED
    bulk: BulkUpload | None = None  # what the upload's rows asked for, with their problems
    reason: str = ""
    unchecked_text: bool = False  # the box holds numbers, but the file was checked
    problems: list = field(init=False)

    def __post_init__(self):
        self.summary = summarize(self.results)
        self.problems = self.bulk.problems if self.bulk else []
        self.matching = [r for r in self.results if _matches(r, self.reason)]
        self.shown = self.matching[:RESULTS_SHOWN]
        # Each shown result with its row's id problems, so a row never says a plain "Portable".
        # Paired here: a lookup per row in the template costs more than the rest of the row.
        by_row = self.bulk.problems_by_row() if self.bulk else {}
        self.rows = [(result, by_row.get(result.line, ())) for result in self.shown]


class UploadGone(LookupError):
    """The page names an upload that is not (or no longer) one of this account's."""


def _matches(result, reason):
    if reason == "portable":
        return result.portable
    if reason == "refused":
        return not result.portable
    return not reason or result.reason == reason


@bp.route("/", methods=["GET", "POST"])
@login_required
def check():
    account, problem = checked_account()
    if account is None:
        return _pick_account(problem)
    form = CheckForm()
    report = None
    if request.method == "POST":
        again = "reason" in request.form
        typing = request.htmx.trigger == form.numbers.id if request.htmx else False
        report = run_check(form, account, g.user, again=again, typing=typing)
    return _page(form, report, account)


@bp.post("/results.csv")
@login_required
def results_download():
    account, problem = checked_account()
    if account is None:
        return _pick_account(problem)
    form = CheckForm()
    report = run_check(form, account, g.user, again=True)
    if report is None:
        return _page(form, report, account)
    csv_text = results_csv(report.results, report.bulk)
    return _csv_download(csv_text, "portability-results.csv")


@bp.get("/template.csv")
@login_required
def template_download():
    account, problem = checked_account()
    if account is None:
        return _pick_account(problem)
    return _csv_download(template_csv(account), "portdesk-bulk-template.csv")


@bp.get("/reference.csv")
@login_required
def reference_download():
    account, problem = checked_account()
    if account is None:
        return _pick_account(problem)
    return _csv_download(reference_csv(account), f"portdesk-account-{account.id}-ids.csv")


def checked_account():
    """Return (the account to check for, None), or (None, why not) for staff.

    An owner checks for their own account; staff for the one `?account=ID` names.
    """
    if not g.user.is_staff:
        return g.user.account, None
    text = request.args.get("account", "").strip()
    if not text:
        return None, None
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        return None, f"“{text}” is not an account ID: enter its digits, like 4242."
    account = Account.get_or_none(Account.id == int(text))
    if account is None:
        return None, f"There is no account {int(text)}: check the ID, or find the account by name."
    return account, None


def _pick_account(problem):
    """Ask staff which account to check for (with why, when the one named cannot be used)."""
    status = 200 if problem is None else 404
    return render_template("checks/pick_account.html", problem=problem), status


def _page(form, report, account):
    """Render the page, or for htmx the fragment; a form this page did not write is a 400."""
    # Staff's URLs name the account; an owner's stay as they were.
    named = {"account": account.id} if g.user.is_staff else {}
    context = {
        "form": form,
        "report": report,
        "filters": FILTERS,
        "check_url": url_for("checks.check", **named),
        "download_url": url_for("checks.results_download", **named),
        "template_url": url_for("checks.template_download", **named),
        "reference_url": url_for("checks.reference_download", **named),
    }
    if wants_fragment():
        if not form.csv_file.errors:
            context["file_box"] = _empty_file_box(form, context["check_url"])
        # htmx swaps only 2xx answers into place by default: problems come with a 200.
        return render_template("checks/_fragment.html", **context)
    status = 400 if form.upload.errors else 200
    return render_template("checks/index.html", account=account, **context), status


# The empty file box each htmx answer sends, by its template (a reloaded template is a new key)
# and the URL it posts to: rendering it through WTForms cost a sixth of a live check.
_empty_file_boxes = WeakKeyDictionary()
FILE_BOXES_KEPT = 32


def _empty_file_box(form, check_url):
    """Return the HTML of the empty, out-of-band file box; it changes only with a file error."""
    template = current_app.jinja_env.get_template("checks/_file_field.html")
    boxes = _empty_file_boxes.setdefault(template, {})
    if check_url not in boxes and len(boxes) >= FILE_BOXES_KEPT:
        # Staff's URLs name each account they check for: keep a few, not one per account.
        boxes.clear()
    if check_url not in boxes:
        html = render_template(template, form=form, oob=True, check_url=check_url)
        boxes[check_url] = Markup(html)
    return boxes[check_url]


def _csv_download(text, filename):
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def run_check(form, account, user, *, again=False, typing=False):
    """Check what the form holds; return a Report, or None with the problem on the form.

    A new check (`again` false) takes a newly chosen file, else the typed text, else the upload
    the page holds; `remove_upload` drops that upload first. Re-checking (`again`: the filters,
    the download) reads what the results on the page were checked from. `typing` says the text
    box sent it, so an emptied box clears the results without a complaint. A chosen file is
    kept for `user`, so later re-checks can read it again.
    """
    if not form.validate():
        return None
    if form.remove_upload.data:
        form.upload.data = ""
        form.csv_file.data = None
        typing = True  # nothing left to check is not a mistake: the owner removed it
    try:
        checked = (_checked if again else _entered)(form, account, user)
    except NumberListError as error:
        chosen = form.csv_file if _has_file(form) and not again else form.numbers
        chosen.errors = [str(error)]
        return None
    except UploadGone:
        form.upload.data = ""  # the page should not name it again
        form.csv_file.errors = [UPLOAD_GONE]
        return None
    if checked is None:
        if not typing:
            form.numbers.errors = ["Enter at least one number, or upload a CSV file."]
        return None
    entries, source, bulk = checked
    reason = form.reason.data if form.reason.data in FILTERS else ""
    unchecked_text = bulk is not None and bool((form.numbers.data or "").strip())
    results = check_portability(entries, account)
    return Report(results, source, bulk, reason, unchecked_text)


def _entered(form, account, user):
    """Return (entries, where they came from, the BulkUpload or None) for a new file, else the
    text, else (nothing new was given) the upload the page already holds; None for nothing.
    Raise UploadGone if that upload is not kept for this account."""
    held = form.upload.data
    form.upload.data = form.checked_numbers.data = ""
    if _has_file(form):
        chosen = form.csv_file.data
        data = chosen.stream.read(CSV_MAX_BYTES + 1)
        bulk = read_bulk_csv(data, account)
        stored = keep_upload(account, user, chosen.filename, data)
        form.upload.data = str(stored.id)
        return bulk.entries, stored.filename, bulk
    if form.numbers.data and form.numbers.data.strip():
        form.checked_numbers.data = form.numbers.data
        return entries_from_text(form.numbers.data), TYPED, None
    return _reread(form, account, held)


def _checked(form, account, user):
    """Return the same as `_entered`, for what the results on the page were checked from."""
    if form.upload.data:
        return _reread(form, account, form.upload.data)
    if form.checked_numbers.data and form.checked_numbers.data.strip():
        return entries_from_text(form.checked_numbers.data), TYPED, None
    return _entered(form, account, user)


def _reread(form, account, upload_id):
    if not upload_id:
        return None
    stored = _stored_upload(upload_id, account)
    if stored is None:
        raise UploadGone(upload_id)
    form.upload.data = str(stored.id)
    bulk = read_bulk_csv(bytes(stored.content), account)
    return bulk.entries, stored.filename, bulk


def _has_file(form):
    return bool(form.csv_file.data and form.csv_file.data.filename)


def _stored_upload(upload_id, account):
    # The form's validator has vouched for the shape; this is only the ownership check.
    if not STORED_ID.fullmatch(upload_id):
        return None
    return NumberUpload.get_or_none(
        (NumberUpload.id == int(upload_id)) & (NumberUpload.account == account)
    )
