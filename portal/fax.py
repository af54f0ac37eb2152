"""Fax ports: the owner files a ticket with the fax numbers, the proof of ownership and the losing
carrier's LOA, and Carrier Relations works it by hand (fax numbers do not go through the port
request wizard). Owners see their account's tickets; staff see every ticket."""

import hashlib
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from peewee import JOIN, fn
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from portal import documents
from portal.auth import login_required, role_required
from portal.db import db, is_postgresql
from portal.models import Account, Document, FaxTicket, User
from portal.number_lists import entries_from_text
from portal.port_requests.blueprint import MAX_ID
from portal.port_requests.drafts import changing
from portal.portability import check_portability

bp = Blueprint("fax", __name__, url_prefix="/fax-ports")

MAX_NUMBERS = 100
# Room for 100 numbers written any way at all, with the spaces and separators between them.
NUMBERS_MAX_CHARS = 10_000
FILED = (
    "Your fax port ticket is filed. Fax ports take 1–2 weeks: Carrier Relations will be in "
    "touch about the next steps."
)
FILED_ALREADY = (
    "This ticket was filed already, with the same numbers and files: here it is. Fax ports take "
    "1–2 weeks: Carrier Relations will be in touch about the next steps."
)
STATUS_LABELS = {"submitted": "Submitted"}
STATUS_SENTENCES = {
    "submitted": "Carrier Relations has the ticket and will be in touch: fax ports take 1–2 weeks."
}
MEDIA_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/tiff": "TIFF",
}
# A document's columns but its PDF text layer (up to megabytes, and no page here shows it).
WITHOUT_TEXT = [field for field in Document._meta.sorted_fields if field is not Document.text]
# What each kind of document is called on the pages.
KIND_NAMES = {"fax_proof": "Proof of ownership", "fax_loa": "Carrier's Letter of Authorization"}


class FaxPortForm(FlaskForm):
    numbers = TextAreaField("Fax numbers")
    fax_proof = FileField(
        "Proof of ownership",
        validators=[FileRequired("Choose the proof of ownership: your carrier's latest bill.")],
    )
    fax_loa = FileField(
        "Your carrier's Letter of Authorization",
        validators=[FileRequired("Choose the Letter of Authorization your carrier gave you.")],
    )

    def __init__(self, account, **kwargs):
        super().__init__(**kwargs)
        self.account = account
        self.e164 = []  # the numbers in E.164, once every one is portable
        self.refused = []  # the refused numbers' Results, to list under the field

    def validate_numbers(self, field):
        text = field.data or ""
        if len(text) > NUMBERS_MAX_CHARS:
            raise ValidationError(
                f"That is more text than {MAX_NUMBERS} numbers take: enter at most "
                f"{MAX_NUMBERS} fax numbers and file the rest in another ticket."
            )
        entries = entries_from_text(text)
        if not entries:
            raise ValidationError("Enter the fax numbers to port.")
        if len(entries) > MAX_NUMBERS:
            raise ValidationError(
                f"You entered {len(entries):,} numbers; one ticket takes at most {MAX_NUMBERS}. "
                "File the rest in another ticket."
            )
        results = check_portability(entries, self.account)
        self.refused = [result for result in results if not result.portable]
        if self.refused:
            count = len(self.refused)
            raise ValidationError(
                f"{count} of {len(results)} numbers can't be ported, as listed below: correct or "
                f"remove {'it' if count == 1 else 'them'} and send the form again."
            )
        self.e164 = [result.e164 for result in results]


class UploadRefused(Exception):
    """An upload was refused (its message is on its field): nothing of the ticket is kept."""


def get_ticket_or_404(ticket_id):
    """Return the ticket if this user may see it: staff any, an owner only their account's (the
    same 404 for another account's and a missing one)."""
    if ticket_id > MAX_ID:
        abort(404)
    query = (
        FaxTicket.select(FaxTicket, Account, User)
        .join_from(FaxTicket, Account)
        .join_from(FaxTicket, User, JOIN.LEFT_OUTER)
        .where(FaxTicket.id == ticket_id)
    )
    if not g.user.is_staff:
        query = query.where(FaxTicket.account == g.user.account_id)
    return query.first() or abort(404)


@bp.app_template_filter("fax_numbers")
def numbers_of(ticket):
    """Return a ticket's fax numbers in E.164, in the order given."""
    return json.loads(ticket.numbers)


@bp.app_template_filter("fax_status")
def status_label(status):
    """Return the words for a ticket's status: "Submitted"."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@bp.route("/new", methods=["GET", "POST"])
@role_required("owner")
def new():
    account = g.user.account
    form = FaxPortForm(account)
    if form.validate_on_submit():
        try:
            ticket, filed_now = _file_ticket(form, account)
        except UploadRefused:
            pass  # each refusal is on its own field
        else:
            flash(*((FILED, "success") if filed_now else (FILED_ALREADY, "warning")))
            return redirect(url_for("fax.show", ticket_id=ticket.id))
    elif form.is_submitted():
        _inspect_uploads(form)
    return render_template(
        "fax/new.html",
        form=form,
        account=account,
        document_mb=megabytes(current_app.config["MAX_DOCUMENT_BYTES"]),
        request_mb=megabytes(current_app.config["MAX_CONTENT_LENGTH"]),
        max_numbers=MAX_NUMBERS,
    )


@bp.get("/<int:ticket_id>")
@login_required
def show(ticket_id):
    ticket = get_ticket_or_404(ticket_id)
    return render_template(
        "fax/show.html",
        ticket=ticket,
        numbers=numbers_of(ticket),
        documents=_documents_of(ticket),
        status_sentences=STATUS_SENTENCES,
        kind_names=KIND_NAMES,
        media_types=MEDIA_TYPES,
        size_of=size_of,
    )


@bp.get("/<int:ticket_id>/documents/<int:document_id>")
@login_required
def document(ticket_id, document_id):
    ticket = get_ticket_or_404(ticket_id)
    found = None
    if document_id <= MAX_ID:
        found = (
            Document.select(*WITHOUT_TEXT)
            .where(Document.id == document_id, Document.fax_ticket == ticket)
            .first()
        )
    if found is None:
        abort(404)
    try:
        content = documents.read(found)
    except documents.DocumentDamaged:
        current_app.logger.error(
            "Refused to send document %s of fax ticket %s to user %s: its stored bytes no "
            "longer match their SHA-256",
            found.id,
            ticket.id,
            g.user.id,
        )
        return _damaged(found)
    return Response(
        content,
        mimetype=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{documents.download_name(found)}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _file_ticket(form, account):
    """Store the ticket and both documents in one transaction and return (it, True); raise
    UploadRefused, keeping nothing, when either upload is refused (each refusal goes on its own
    field). The same form sent again (a double click, a reload) returns (the ticket, False)."""
    max_bytes = current_app.config["MAX_DOCUMENT_BYTES"]
    contents = {field: field.data.read() for field in (form.fax_proof, form.fax_loa)}
    hashes = {field.name: hashlib.sha256(data).hexdigest() for field, data in contents.items()}
    with changing():
        # One filing per account at a time, so a double click's second form finds the first's
        # ticket rather than filing its own (SQLite's writers already take the database in turn).
        if is_postgresql(db):
            Account.select(Account.id).where(Account.id == account.id).for_update().execute()
        if (same := _same_ticket(account, form.e164, hashes)) is not None:
            return same, False
        ticket = FaxTicket.create(
            account=account,
            created_by=g.user,
            title=f"Fax Porting Documentation - {account.id}",
            numbers=json.dumps(form.e164),
        )
        # Both uploads are tried, so the owner learns about both at once.
        for field, data in contents.items():
            try:
                documents.store(
                    account=account,
                    kind=field.name,
                    data=data,
                    label=field.data.filename,
                    user=g.user,
                    max_bytes=max_bytes,
                    fax_ticket=ticket,
                )
            except documents.DocumentRefused as error:
                field.errors.append(str(error))
        if form.fax_proof.errors or form.fax_loa.errors:
            raise UploadRefused()
    return ticket, True


def _same_ticket(account, numbers, hashes):
    """Return the account's ticket filed with these numbers and files ({kind: SHA-256}), or None."""
    query = FaxTicket.select().where(
        FaxTicket.account == account, FaxTicket.numbers == json.dumps(numbers)
    )
    for kind, sha256 in hashes.items():
        held = Document.select(Document.id).where(
            Document.fax_ticket == FaxTicket.id, Document.kind == kind, Document.sha256 == sha256
        )
        query = query.where(fn.EXISTS(held))
    return query.order_by(FaxTicket.id.desc()).first()


def _inspect_uploads(form):
    """Put a refused upload's message on its field when the form is refused for another reason,
    so the owner fixes everything in one go (the files are chosen again either way)."""
    max_bytes = current_app.config["MAX_DOCUMENT_BYTES"]
    for field in (form.fax_proof, form.fax_loa):
        if field.errors or not field.data:
            continue
        try:
            documents.inspect(field.data.read(), field.name, max_bytes=max_bytes)
        except documents.DocumentRefused as error:
            field.errors.append(str(error))


def _documents_of(ticket):
    """Return the ticket's documents in the order uploaded (the proof first), without their
    bytes or text layer."""
    return list(
        Document.select(*WITHOUT_TEXT).where(Document.fax_ticket == ticket).order_by(Document.id)
    )


def _damaged(found):
    """Answer a download whose stored bytes are damaged: a page that says so, and no bytes."""
    who = (
        "Ask the account's owner to upload it again in a new ticket."
        if g.user.is_staff
        else "Contact Carrier Relations: they will ask you for the file again."
    )
    detail = (
        f"The stored copy of “{found.label}” is damaged: it no longer matches the file that "
        f"was uploaded, so PortDesk will not send it. This has been logged. {who}"
    )
    # A page of its own, not a bare error: the title says what happened.
    html = render_template(
        "errors/error.html", code=409, title="This document can't be downloaded", advice=detail
    )
    return html, 409


def megabytes(size):
    """Return a limit in bytes as the megabytes it was set in: 10, 2.5."""
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def size_of(size):
    """Return a file size in words: 980 bytes, 12.3 KB, 4.5 MB."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1000 * 1000:
        return f"{size / 1000:.1f} KB"
    return f"{size / (1000 * 1000):.1f} MB"
