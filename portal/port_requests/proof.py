"""The Proof of ownership step, a warning the owner checked, and a request's documents.

The owner uploads the latest bill with its statement date; `documents` stores it in the same
transaction as the timeline's line about it, and `review` reads it against the request on every
read, so the page always shows what the comparison finds now. A warning the owner checked is
confirmed with the words it showed: once it says something else, it asks again (on a draft, and
on a request sent back for a correction, where only the paths its codes open). A request's
documents download (and preview) for its account's owners and for staff.
"""

import re
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError

from portal import documents
from portal.auth import login_required, role_required
from portal.models import Document, PortRequest, WarningConfirmation, utcnow
from portal.port_requests import bill as bill_rules
from portal.port_requests import corrections, loa
from portal.port_requests.blueprint import (
    MAX_ID,
    bp,
    draft_or_redirect,
    get_request_or_404,
    next_step_url,
    readable_request_or_404,
    render_step,
    review_of,
    step_url,
)
from portal.port_requests.drafts import EDITABLE, NotADraft, changing, locked_draft
from portal.port_requests.events import record_event
from portal.port_requests.fields import label
from portal.port_requests.rules import step_of
from portal.web import CONTENT_SECURITY_POLICY, wants_fragment

KIND_NAMES = {"bill": "the bill", "signed_loa": "the signed LOA"}
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/tiff": "TIFF image",
}
# The documents' own paths, in the words a page uses (they are not fields of the request's JSON).
BILL_LABELS = {
    "bill": "the bill",
    "bill.statement_date": "the statement date",
    "loa": "the signed LOA",
}
# The pages whose confirmation is not "against the bill" (see ConfirmForm.back).
BACK = ("request", "submit", "loa", "fix")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The preview is framed by the bill's page, and by nothing else.
PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
NO_FILE = (
    "Choose the bill's file: a PDF from the carrier's website, or a photo or scan as PNG or JPEG."
)
CHANGED = (
    "That warning changed since the page was loaded, so nothing was confirmed: read it again "
    "below and confirm it if the bill is right."
)
DAMAGED = (
    "This document's stored bytes no longer match the fingerprint taken when it was uploaded, so "
    "PortDesk will not hand it out. Nothing was changed: "
)
# What to do about it depends on who is asking: staff cannot upload, and are Carrier Relations.
DAMAGED_NEXT = {
    "owner": "upload the file again, and tell Carrier Relations if it keeps happening.",
    "staff": "ask the account's owner to upload it again. This has been logged.",
}


class BillForm(FlaskForm):
    file = FileField("The bill's file")
    statement_date = StringField("Statement date", render_kw={"type": "date"})

    def validate_file(self, field):
        if not (field.data and field.data.filename):
            raise ValidationError(NO_FILE)

    def validate_statement_date(self, field):
        field.data = read_statement_date(field.data, today=utcnow().date())


class ConfirmForm(FlaskForm):
    """A warning as the page showed it: its field, its code and its exact words."""

    field = HiddenField()
    code = HiddenField()
    message = HiddenField()
    # Where the owner confirmed it: "request" (the request's page), "submit" (the Submit step),
    # "loa" (the LOA step), "fix" (the fix page of a request sent back), else the bill step.
    back = HiddenField()


def read_statement_date(text, *, today):
    """Return the bill's statement date typed as YYYY-MM-DD, or raise ValidationError."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Enter the statement date printed on the bill.")
    try:
        day = date.fromisoformat(text) if DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(
            f"Enter the statement date as a date, like {today.isoformat()}: the one printed on "
            "the bill."
        )
    # The bill's own rule says what is wrong with a date (in the future); an old one is a warning.
    dated = bill_rules.bill_problems(_Dated(day), {}, today=today)
    for problem in dated:
        if problem.field == "bill.statement_date" and problem.severity == "error":
            raise ValidationError(problem.message)
    return day


class _Dated:
    """A bill as far as its date goes: what `bill.bill_problems` reads of one."""

    text = None

    def __init__(self, statement_date):
        self.statement_date = statement_date


def read_upload(upload):
    """Return an upload's bytes, or one byte past the limit: enough to refuse it for its size."""
    return upload.stream.read(current_app.config["MAX_DOCUMENT_BYTES"] + 1)


def store_document(port_request, kind, data, filename, *, user=None, actor=None, **dates):
    """Inside `changing()`: store the bytes as the request's document of this kind, and log it.

    Raise `documents.DocumentRefused` (nothing stored) for a file that is not accepted. A signed
    LOA keeps the digest of the LOA data it was signed for (the request as it stands, unless the
    caller says otherwise), so a later change of a field on the LOA makes it outdated.
    """
    if kind == "signed_loa" and "loa_digest" not in dates:
        dates["loa_digest"] = loa.of_request(port_request)[1]
    earlier = documents.current(port_request, kind)
    stored = documents.store(
        account=port_request.account,
        kind=kind,
        data=data,
        label=filename,
        user=user,
        actor=actor,
        max_bytes=current_app.config["MAX_DOCUMENT_BYTES"],
        port_request=port_request,
        **dates,
    )
    if earlier is None:
        message = f"Uploaded {KIND_NAMES[kind]} {stored.label}."
    else:
        message = f"Replaced {KIND_NAMES[kind]} {earlier.label} with {stored.label}."
    record_event(port_request, "document", message, user=user, actor=actor)
    port_request.updated_at = utcnow()
    port_request.save(only=[PortRequest.updated_at])
    return stored


@bp.route("/<int:request_id>/bill", methods=["GET", "POST"])
@role_required("owner")
def bill(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request):
        return refused
    form = BillForm()
    if form.validate_on_submit():
        try:
            return _upload(request_id, form)
        except documents.DocumentRefused as error:
            form.file.errors.append(str(error))
        except NotADraft as error:
            return draft_or_redirect(error.port_request)
    return _page(port_request, form, status=400 if form.errors else 200)


def _upload(request_id, form):
    data = read_upload(form.file.data)
    with changing():
        port_request = locked_draft(g.user.account, request_id) or abort(404)
        stored = store_document(
            port_request,
            "bill",
            data,
            form.file.data.filename,
            user=g.user,
            statement_date=form.statement_date.data,
        )
    found = review_of(port_request)
    if found.steps["bill"] != "complete":
        flash(f"Stored the bill {stored.label}. Fix what is marked below.", "warning")
    elif found.bill_problems:
        flash(f"Stored the bill {stored.label}. Check each warning below.", "warning")
    else:
        flash(f"Stored the bill {stored.label}: the details you entered are on it.", "success")
    return redirect(url_for("port_requests.bill", request_id=request_id))


def _page(port_request, form, status=200):
    found = review_of(port_request)
    bills = [item for item in documents.history(port_request) if item.kind == "bill"]
    # Each replaced bill, with the one that replaced it (the next newer).
    earlier = [
        (older, newer) for newer, older in zip(bills, bills[1:], strict=False) if older.replaced_at
    ]
    return render_step(
        "bill",
        "port_requests/bill.html",
        found,
        status,
        form=form,
        bill=found.bill,
        earlier=earlier,
        today=utcnow().date(),
        next_url=next_step_url(port_request, "bill"),
        type_names=TYPE_NAMES,
        size_words=size_words,
        **_findings_context(found),
    )


@bp.post("/<int:request_id>/warnings/confirm")
@role_required("owner")
def confirm_warning(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, EDITABLE):
        return refused
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with changing():
            port_request = locked_draft(g.user.account, request_id, EDITABLE) or abort(404)
            confirmed = _confirm(port_request, form.field.data, form.code.data, form.message.data)
    except NotADraft as error:
        return draft_or_redirect(error.port_request, EDITABLE)
    words = CHANGED
    if confirmed:
        against = "" if form.back.data in BACK else " against the bill"
        words = f"Confirmed: you checked {_words(form.field.data)}{against}."
    if wants_fragment():
        found = review_of(port_request)
        return render_template(
            "port_requests/_bill_findings.html",
            review=found,
            port_request=port_request,
            status_line=words,
            status_warning=not confirmed,
            **_findings_context(found),
        )
    flash(words, "success" if confirmed else "warning")
    if form.back.data == "request":
        return redirect(url_for("port_requests.show", request_id=request_id) + "#to-check")
    if form.back.data == "submit":
        return redirect(url_for("port_requests.submit", request_id=request_id) + "#to-check")
    if form.back.data == "loa":
        return redirect(url_for("port_requests.loa", request_id=request_id) + "#loa-status")
    if form.back.data == "fix":
        return redirect(url_for("port_requests.fix", request_id=request_id) + "#fix-todo")
    return redirect(url_for("port_requests.bill", request_id=request_id) + "#bill-findings")


def _confirm(port_request, field, code, message):
    """Record the owner's check of a warning the request shows now; say whether it did."""
    found = review_of(port_request)
    shown = (field, code, message)
    if any((done.field, done.code, done.message) == shown for done, _ in found.confirmed):
        return True  # a second click, or a second tab: confirmed already
    # A request sent back for a correction confirms only what its carrier codes open.
    open_problems = found.problems
    if port_request.status in corrections.FIXABLE:
        open_problems = corrections.blocking(found)
    warning = next(
        (
            problem
            for problem in open_problems
            if problem.severity == "warning"
            and (problem.field, problem.code, problem.message) == shown
        ),
        None,
    )
    if warning is None:
        return False
    WarningConfirmation.create(
        port_request=port_request,
        field=warning.field,
        code=warning.code,
        message=warning.message,
        user=g.user,
        user_name=g.user.name,
        confirmed_at=utcnow(),
    )
    against = " against the bill" if warning in found.bill_problems else ""
    record_event(
        port_request,
        "confirmed",
        f"Checked {_words(warning.field)}{against}: {warning.message}",
        user=g.user,
    )
    return True


def size_words(size):
    """Return a file size as people say it: 840 bytes, 84 KB, 1.2 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _findings_context(found):
    return {
        "fix_url": _fix_url,
        "field_label": field_heading,
        "field_words": _words,
        "bill_error": _bill_errors(found),
    }


def _bill_errors(found):
    return [p for p in found.problems_of("bill") if p.severity == "error"]


def _fix_url(port_request, field):
    """Return where the owner fixes the field a warning names: its control on its step."""
    step = step_of(field)
    if step == "bill":
        return None if field == "bill" else "#statement_date"
    return f"{step_url(port_request, step)}#{field}"


def _words(field):
    """Return the field's name as a sentence says it: "the account number"."""
    return BILL_LABELS.get(field) or label(field)


def field_heading(field):
    """Return the field's name as a heading says it: "Account number"."""
    words = _words(field)
    for article in ("the ", "a "):
        if words.startswith(article):
            words = words[len(article) :]
    return words[:1].upper() + words[1:]


@bp.get("/<int:request_id>/documents/<int:document_id>")
@login_required
def document(request_id, document_id):
    stored = _document_or_404(request_id, document_id)
    return _send(stored, documents.read, "attachment")


@bp.get("/<int:request_id>/documents/<int:document_id>/preview")
@login_required
def document_preview(request_id, document_id):
    stored = _document_or_404(request_id, document_id)
    first_page = documents.first_page_pdf if stored.media_type == "application/pdf" else None
    response = _send(stored, first_page or documents.read, "inline")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _document_or_404(request_id, document_id):
    """Return the request's document, for its account's owners and staff; else the same 404."""
    port_request = readable_request_or_404(request_id)
    found = None
    if document_id <= MAX_ID:
        found = Document.get_or_none(
            (Document.id == document_id) & (Document.port_request == port_request)
        )
    if found is None:
        abort(404)
    return found


def _send(stored, read, disposition):
    try:
        data = read(stored)
    except documents.DocumentDamaged:
        current_app.logger.error(
            "Refused damaged document %s of request %s to user %s",
            stored.id,
            stored.port_request_id,
            g.user.id,
        )
        html = render_template(
            "errors/error.html",
            code=409,
            title="This document can't be opened",
            advice=DAMAGED + DAMAGED_NEXT["staff" if g.user.is_staff else "owner"],
        )
        return make_response(html, 409)
    return send_document(stored, data, disposition)


def send_document(stored, data, disposition):
    """Return the document's bytes as a download (`attachment`) or to show (`inline`)."""
    response = make_response(data)
    response.mimetype = stored.media_type
    name = documents.download_name(stored)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
