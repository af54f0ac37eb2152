"""The documents API: a request's bill and signed LOA uploaded, listed and downloaded.

The routes sit on the API's blueprint (portal/api.py): the same Bearer keys, the same JSON errors.
An upload is a multipart form: `kind` (bill or signed_loa), `file`, and the bill's
`statement_date` (or the signed LOA's optional `signed_date`) as YYYY-MM-DD. A refused upload
stores nothing and says why; once a bill is in, the request's `problems` hold what reading it
against the request found.
"""

from datetime import date

from flask import current_app, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError

from portal import documents
from portal.api import ApiError, authenticated_key, bp
from portal.models import Document, utcnow
from portal.port_requests import loa
from portal.port_requests.drafts import changing
from portal.port_requests.proof import (
    DAY,
    read_statement_date,
    read_upload,
    send_document,
    store_document,
)
from portal.request_api import (
    MAX_ID,
    ROUTE,
    _actor,
    _draft_or_409,
    _json,
    _timestamp,
    get_request_or_404,
)

# What each kind takes besides the file: its date field, and whether it is required.
DATES = {"bill": ("statement_date", True), "signed_loa": ("signed_date", False)}
MULTIPART = "multipart/form-data"


@bp.post("/port-requests/<int:request_id>/documents", **ROUTE)
def upload_document(request_id):
    key = authenticated_key()
    _draft_or_409(get_request_or_404(key.account, request_id))
    kind, upload, dates = _upload_from_form()
    data = read_upload(upload)
    try:
        with changing():
            # Read again under the lock: it may have left draft since.
            port_request = _draft_or_409(
                get_request_or_404(key.account, request_id, for_update=True)
            )
            stored = store_document(
                port_request, kind, data, upload.filename, actor=_actor(key), **dates
            )
    except documents.DocumentRefused as error:
        if len(data) > current_app.config["MAX_DOCUMENT_BYTES"]:
            raise ApiError(413, "document_too_large", str(error)) from None
        raise ApiError(422, "document_refused", str(error)) from None
    location = url_for("api.document", request_id=request_id, document_id=stored.id)
    return _json(as_json(stored), 201, {"Location": location})


@bp.get("/port-requests/<int:request_id>/documents", **ROUTE)
def port_request_documents(request_id):
    key = authenticated_key()
    port_request = get_request_or_404(key.account, request_id)
    return _json({"documents": [as_json(item) for item in documents.history(port_request)]})


@bp.get("/port-requests/<int:request_id>/documents/<int:document_id>", **ROUTE)
def document(request_id, document_id):
    key = authenticated_key()
    port_request = get_request_or_404(key.account, request_id)
    found = None
    if document_id <= MAX_ID:
        found = Document.get_or_none(
            (Document.id == document_id) & (Document.port_request == port_request)
        )
    if found is None:
        listed = url_for("api.port_request_documents", request_id=request_id)
        raise ApiError(
            404,
            "not_found",
            f"No document {document_id} in port request {request_id}: list them at GET {listed}.",
        )
    try:
        data = documents.read(found)
    except documents.DocumentDamaged:
        current_app.logger.error(
            "Refused damaged document %s of request %s to API key %s",
            found.id,
            request_id,
            key.id,
        )
        raise ApiError(
            409,
            "document_damaged",
            "This document's stored bytes no longer match the SHA-256 taken at upload, so it is "
            "not handed out. Upload the file again, and tell Carrier Relations if it keeps "
            "happening.",
        ) from None
    return send_document(found, data, "attachment")


def as_json(stored):
    """Return a document as the API shows it (never its bytes: `url` downloads them)."""
    name, _ = DATES.get(stored.kind, ("signed_date", False))
    day = getattr(stored, name)
    return {
        "id": stored.id,
        "kind": stored.kind,
        "type": stored.media_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "pages": stored.pages,
        "label": stored.label,
        "uploaded_at": _timestamp(stored.uploaded_at),
        "uploaded_by": stored.uploaded_by_name,
        name: day.isoformat() if day else None,
        "replaced_at": _timestamp(stored.replaced_at) if stored.replaced_at else None,
        "url": url_for("api.document", request_id=stored.port_request_id, document_id=stored.id),
    }


def _upload_from_form():
    """Return (kind, the file, its date as store() takes it), or refuse the form, naming a field."""
    try:
        if request.mimetype != MULTIPART:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Send the document as {MULTIPART} with the fields kind, file and (for a bill) "
                "statement_date.",
            )
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        limit = current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024)
        raise ApiError(
            413,
            "document_too_large",
            f"The upload is over the size limit: send a document of at most {limit} MB.",
        ) from None
    kind = form.get("kind", "")
    if kind not in DATES:
        raise ApiError(
            400, "invalid_request", "kind must be bill or signed_loa: say which document this is."
        )
    uploads = files.getlist("file")
    if len(uploads) != 1 or not uploads[0].filename:
        raise ApiError(
            400,
            "invalid_request",
            "file must hold the document, one file (with a file name) in the multipart field "
            '"file".',
        )
    name, required = DATES[kind]
    for other, _ in DATES.values():
        if other != name and other in form:
            raise ApiError(
                400, "invalid_request", f"{other} does not go with kind {kind}, which takes {name}."
            )
    return kind, uploads[0], {name: _day(name, form.get(name), required=required)}


def _day(name, text, *, required):
    today = utcnow().date()
    if name == "statement_date":
        try:
            return read_statement_date(text, today=today)
        except ValidationError as error:
            raise ApiError(400, "invalid_request", f"statement_date: {error}") from None
    text = (text or "").strip()
    if not text and not required:
        return None
    try:
        day = date.fromisoformat(text) if DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ApiError(
            400, "invalid_request", f"{name} must be a date as YYYY-MM-DD, like {today}."
        )
    if refusal := loa.signed_date_refusal(day, today=today):
        raise ApiError(400, "invalid_request", f"{name}: {refusal}")
    return day
