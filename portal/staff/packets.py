"""The completed packet: staff download it sealed; anyone may verify a packet on its page or with
`flask --app wsgi packet verify FILE.pdf`."""

from flask import Blueprint, abort, make_response

from portal import documents
from portal.auth import staff_only
from portal.models import PortRequest
from portal.port_requests.blueprint import MAX_ID
from signing import pdf

bp = Blueprint("packets", __name__, cli_group="packet")


@bp.get("/staff/requests/<int:request_id>/packet")
@staff_only
def download(request_id):
    port_request = (
        PortRequest.get_or_none(PortRequest.id == request_id) if request_id <= MAX_ID else None
    )
    if port_request is None:
        abort(404)
    parts = []
    for kind in ("signed_loa", "bill"):
        stored = documents.current(port_request, kind)
        if stored is not None and stored.media_type == documents.PDF:
            parts.append(documents.read(stored))
    if not parts:
        abort(404)
    response = make_response(pdf.merge(parts))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="packet-{request_id}.pdf"'
    return response
