"""The completed packet: one PDF of the cover summary, the signed LOA (with its certificate of
completion) and the bill, a bookmark for each part, and the evidence as an embedded JSON file.

No Flask. Built from the stored documents only (nothing fetched from outside), each read back
through `documents.read`, which checks its SHA-256: a document that no longer matches stops the
packet (`PacketBlocked`, naming it). The LOA's signing record is checked the same way
(`envelopes.verify`). The caller seals the result (`signing.seal`, REASON).
"""

import hashlib
import io
import json

from fpdf import FPDF
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject

from portal import documents
from portal.models import RoutingTarget, TrackingSource
from portal.numbers import display
from portal.port_requests import loa, statuses
from portal.staff import packet_cover
from signing import SigningEnvelope, envelopes
from signing.pdf import FIXED_DATE

EVIDENCE = "evidence.json"
FORMAT = "portdesk-packet/1"
REASON = "PortDesk packet"
# The stored documents that follow the cover, in order, and what their bookmarks say.
PARTS = {"signed_loa": "Signed LOA", "bill": "Bill (proof of ownership)"}
CERTIFICATE = "Certificate of completion"
# An image becomes a US Letter page with this margin, in points.
IMAGE_MARGIN = 36


class PacketBlocked(Exception):
    """The packet cannot be built from what is stored; str() names the document and why."""


def build(port_request, *, new_carrier, built_at):
    """Return the request's packet, unsealed, as PDF bytes; raise PacketBlocked."""
    stored = _stored(port_request)
    envelope = _envelope(port_request, stored.get("signed_loa"))
    numbers = port_request.numbers()
    parts = [_part(kind, document, data, envelope) for kind, (document, data) in stored.items()]
    summary = _summary(port_request, numbers, parts, new_carrier, built_at)
    parts.insert(0, _cover_part(packet_cover.build(summary)))
    writer = PdfWriter()
    for part in parts:
        part["first_page"] = len(writer.pages) + 1
        writer.append(part["_reader"], import_outline=False)
        item = writer.add_outline_item(title=part["title"], page_number=part["first_page"] - 1)
        if part.get("_certificate_at") is not None:
            at = part["first_page"] - 1 + part["_certificate_at"]
            writer.add_outline_item(title=CERTIFICATE, page_number=at, parent=item)
    _drop_signatures(writer)
    evidence = _evidence(port_request, summary, parts, envelope)
    writer.add_attachment(EVIDENCE, json.dumps(evidence, indent=2, ensure_ascii=False).encode())
    writer.page_mode = "/UseOutlines"
    writer.add_metadata(
        {"/Title": f"Port request {port_request.id} packet", "/Producer": "PortDesk"}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def evidence_of(data):
    """Return the evidence a packet carries (a dict), or None when it carries none."""
    try:
        with PdfReader(io.BytesIO(data)) as reader:
            found = reader.attachments.get(EVIDENCE)
            evidence = json.loads(found[0]) if found else None
    except Exception:  # anything a file that is not a packet may hold
        return None
    return evidence if isinstance(evidence, dict) and evidence.get("format") == FORMAT else None


def _stored(port_request):
    """Return {kind: (Document, its bytes checked)} for the current LOA and bill."""
    found = {}
    for kind in PARTS:
        document = documents.current(port_request, kind)
        if document is None:
            continue
        try:
            found[kind] = (document, documents.read(document))
        except documents.DocumentDamaged:
            raise PacketBlocked(
                f"The packet was not built: the stored {documents.WHAT[kind]} "
                f"(“{document.label}”, document {document.id}, uploaded "
                f"{document.uploaded_at:%Y-%m-%d} by {document.uploaded_by_name}) no longer "
                "matches the SHA-256 recorded when it was stored. Ask the owner for it again."
            ) from None
    return found


def _envelope(port_request, signed_loa):
    """Return the envelope whose signature made the signed LOA (None for an uploaded one)."""
    if signed_loa is None:
        return None
    document, data = signed_loa
    envelope = (
        SigningEnvelope.select()
        .where(SigningEnvelope.reference == loa.reference(port_request.id))
        .where(SigningEnvelope.signed_sha256 == document.sha256)
        .first()
    )
    problems = envelopes.verify(envelope, data) if envelope is not None else []
    if problems:
        raise PacketBlocked(
            f"The packet was not built: the signing record of the signed LOA (“{document.label}”, "
            f"envelope {envelope.id}) is broken. {' '.join(problems)}"
        )
    return envelope


def _part(kind, document, data, envelope):
    """Return a part: what the evidence says of it, and its pages to merge (`_reader`)."""
    pdf = data if document.media_type == documents.PDF else _image_pdf(data)
    part = _described(kind, PARTS[kind], pdf, _detail(document, envelope))
    part.update(
        document_id=document.id,
        label=document.label,
        media_type=document.media_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_at=_iso(document.uploaded_at),
        uploaded_by=document.uploaded_by_name,
        statement_date=_iso(document.statement_date),
        signed_date=_iso(document.signed_date),
    )
    if envelope is not None and kind == "signed_loa":
        # The certificate follows the LOA as it was shown: its pages come after that many.
        part["_certificate_at"] = len(PdfReader(io.BytesIO(bytes(envelope.document))).pages)
    return part


def _cover_part(cover):
    part = _described("cover", "Cover summary", cover, "")
    part.update(media_type=documents.PDF, size=len(cover), sha256=hashlib.sha256(cover).hexdigest())
    return part


def _described(kind, title, pdf, detail):
    reader = PdfReader(io.BytesIO(pdf))
    return {
        "part": kind,
        "title": title,
        "detail": detail,
        "pages": len(reader.pages),
        "_reader": reader,
    }


def _detail(document, envelope):
    if document.kind == "bill":
        return f"“{document.label}”, statement of {packet_cover.day(document.statement_date)}"
    if envelope is not None:
        how = "signed by link" if envelope.method == "email" else "signed in PortDesk"
        return f"{how} by {envelope.signer_name} on {packet_cover.day(envelope.signed_at)}"
    signed = packet_cover.day(document.signed_date) or "on a date not given"
    return f"“{document.label}”, uploaded by {document.uploaded_by_name}, signed {signed}"


def _image_pdf(data):
    """Return an uploaded image as one US Letter page, fitted inside the margin."""
    with Image.open(io.BytesIO(data)) as image:
        # A phone's photo says how it was held; the page shows it upright.
        turned = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else None
        pdf = FPDF(unit="pt", format="letter")
        pdf.set_creation_date(FIXED_DATE)
        pdf.add_page()
        width, height = pdf.w - 2 * IMAGE_MARGIN, pdf.h - 2 * IMAGE_MARGIN
        # Unturned, the file goes in as it is (a JPEG is not decoded and encoded again).
        source = turned if turned is not None else io.BytesIO(data)
        pdf.image(source, IMAGE_MARGIN, IMAGE_MARGIN, width, height, keep_aspect_ratio=True)
        return bytes(pdf.output())


def _summary(port_request, numbers, parts, new_carrier, built_at):
    status = statuses.describe(port_request.status)
    data, _ = loa.of_request(port_request, numbers)
    facts = [
        ("Submitted", packet_cover.day(port_request.submitted_at)),
        (
            "Requested port date",
            packet_cover.day(data["requested_date"]) or "The earliest date the carriers allow",
        ),
        ("FOC date", _foc(port_request)),
        ("In this status since", packet_cover.day(port_request.status_changed_at)),
    ]
    if port_request.codes:
        facts.append(("Carrier codes", ", ".join(port_request.codes)))
    if port_request.status_note:
        facts.append(
            (
                "Staff note" if port_request.status != "rejected" else "Reason",
                port_request.status_note,
            )
        )
    return packet_cover.Summary(
        title=port_request.fields.get("friendly_name")
        or data["customer_name"]
        or data["account_name"],
        request_id=port_request.id,
        account_id=port_request.account_id,
        account_name=data["account_name"],
        status=status.label,
        status_sentence=status.sentence,
        new_carrier=new_carrier,
        loa=data,
        dates=[(label, text or "Not set") for label, text in facts],
        numbers=_numbers(numbers),
        parts=parts,
        built_at=built_at,
    )


def _numbers(numbers):
    """Return each number as the cover and the evidence show it, its routing and source named."""
    routing_ids = {row.routing_id for row in numbers if row.routing_id is not None}
    source_ids = {row.tracking_source_id for row in numbers if row.tracking_source_id is not None}
    routings = dict(
        RoutingTarget.select(RoutingTarget.id, RoutingTarget.name)
        .where(RoutingTarget.id.in_(routing_ids))
        .tuples()
    )
    sources = dict(
        TrackingSource.select(TrackingSource.id, TrackingSource.name)
        .where(TrackingSource.id.in_(source_ids))
        .tuples()
    )
    return [
        {
            "number": display(row.e164) if row.e164 else row.phone_number or "",
            "e164": row.e164,
            "routing_id": row.routing_id,
            "routing": _named(routings, row.routing_id),
            "tracking_source_id": row.tracking_source_id,
            "source": _named(sources, row.tracking_source_id),
            "friendly_name": row.friendly_name,
            "status": _number_status(row),
        }
        for row in numbers
    ]


def _named(names, object_id):
    if object_id is None:
        return "Not set"
    if object_id not in names:
        return f"{object_id} (no longer on the platform)"
    return f"{names[object_id]} ({object_id})"


def _number_status(row):
    said = (row.status or "draft").replace("_", " ").capitalize()
    return f"{said}: {row.reason}" if row.reason else said


def _foc(port_request):
    if port_request.foc_date is None:
        return None
    window = f", {port_request.foc_window}" if port_request.foc_window else ""
    return packet_cover.day(port_request.foc_date) + window


def _drop_signatures(writer):
    """Take the parts' own signature fields out: the packet carries one seal, its own."""
    for page in writer.pages:
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        kept = [a for a in annotations.get_object() if not _is_signature(a.get_object())]
        if kept:
            page[NameObject("/Annots")] = ArrayObject(kept)
        else:
            del page["/Annots"]
    form = writer.root_object.get("/AcroForm")
    if form is None:
        return
    form = form.get_object()
    kept = [f for f in form.get("/Fields", []) if not _is_signature(f.get_object())]
    if kept:
        form[NameObject("/Fields")] = ArrayObject(kept)
    else:
        del writer.root_object["/AcroForm"]


def _is_signature(field):
    parent = field.get("/Parent")
    return field.get("/FT") == "/Sig" or (
        parent is not None and parent.get_object().get("/FT") == "/Sig"
    )


def _evidence(port_request, summary, parts, envelope):
    return {
        "format": FORMAT,
        "built_at": _iso(summary.built_at),
        "port_request": {
            "id": port_request.id,
            "account": {"id": port_request.account_id, "name": summary.account_name},
            "status": port_request.status,
            "submitted_at": _iso(port_request.submitted_at),
            "status_changed_at": _iso(port_request.status_changed_at),
            "foc_date": _iso(port_request.foc_date),
            "foc_window": port_request.foc_window,
            "carrier_codes": port_request.codes,
            "status_note": port_request.status_note,
            "fields": port_request.fields,
            "numbers": summary.numbers,
        },
        "parts": [
            {
                key: value
                for key, value in part.items()
                if value is not None and key != "detail" and not key.startswith("_")
            }
            for part in parts
        ],
        "signing": _signing(envelope),
    }


def _signing(envelope):
    if envelope is None:
        return None
    return {
        "envelope_id": envelope.id,
        "method": envelope.method,
        "signer_name": envelope.signer_name,
        "signer_email": envelope.signer_email,
        "signed_at": _iso(envelope.signed_at),
        "document_sha256": envelope.document_sha256,
        "signed_sha256": envelope.signed_sha256,
        "events": [{**event, "at": _iso(event["at"])} for event in envelopes.trail(envelope)],
    }


def _iso(moment):
    """Return a date or a UTC time (naive, as stored) in ISO 8601; None stays None."""
    if moment is None:
        return None
    if hasattr(moment, "hour"):
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return moment.isoformat()
