"""The completed packet: one PDF of the cover summary, the signed LOA (with its certificate of
completion) and the bill, a bookmark for each part, and the evidence as an embedded JSON file.

No Flask. Built from the stored documents only (nothing fetched from outside), each read back
through `documents.read`, which checks its SHA-256: a document that no longer matches stops the
packet (`PacketBlocked`, naming it), and so does a signing record of the LOA whose hash chain
is broken. The caller seals the result (`signing.seal`, REASON).
"""

import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field

from fpdf import FPDF
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

from portal import documents
from portal.models import PortNumber
from portal.port_requests import loa
from portal.staff import packet_cover, packet_evidence
from signing import SigningEnvelope, envelopes
from signing.pdf import FIXED_DATE

EVIDENCE = "evidence.json"
REASON = "PortDesk packet"
# The stored documents that follow the cover, in order, and what their bookmarks say.
PARTS = {"signed_loa": "Signed LOA", "bill": "Bill (proof of ownership)"}
CERTIFICATE = "Certificate of completion"
NUMBER_COLUMNS = (
    PortNumber.position,
    PortNumber.phone_number,
    PortNumber.e164,
    PortNumber.routing_id,
    PortNumber.tracking_source_id,
    PortNumber.friendly_name,
    PortNumber.status,
    PortNumber.reason,
)
# An image becomes a US Letter page with this margin, in points.
IMAGE_MARGIN = 36


class PacketBlocked(Exception):
    """The packet cannot be built from what is stored; str() names the document and why."""


@dataclass
class Part:
    """One part of the packet: its pages, and what the cover and the evidence say of it."""

    kind: str
    title: str
    detail: str  # the cover's line about it
    reader: PdfReader = field(repr=False)
    facts: dict  # the evidence's: the document's id, label, media type, size, SHA-256, ...
    certificate_at: int | None = None  # where its certificate of completion starts (from 0)

    @property
    def pages(self):
        return len(self.reader.pages)


@dataclass
class Gathered:
    """Everything the packet is made of, read and checked."""

    port_request: object
    parts: list
    cover: packet_cover.Summary
    envelope: SigningEnvelope | None


def build(port_request, *, new_carrier, built_at):
    """Return the request's packet, unsealed, as PDF bytes; raise PacketBlocked."""
    return assemble(gather(port_request, new_carrier=new_carrier, built_at=built_at))


def gather(port_request, *, new_carrier, built_at):
    """Read and check the stored parts and draw the cover; raise PacketBlocked."""
    stored = _stored(port_request)
    envelope = _envelope(port_request, stored.get("signed_loa"))
    parts = [_part(kind, document, data, envelope) for kind, (document, data) in stored.items()]
    numbers = list(
        PortNumber.select(*NUMBER_COLUMNS)
        .where(PortNumber.port_request == port_request)
        .order_by(PortNumber.position)
        .namedtuples()  # a thousand rows, read only: no model instance each
    )
    cover = packet_evidence.summary(
        port_request, numbers, parts, new_carrier=new_carrier, built_at=built_at
    )
    drawn = packet_cover.build(cover)
    facts = {"media_type": documents.PDF, "size": len(drawn)}
    facts["sha256"] = hashlib.sha256(drawn).hexdigest()
    parts.insert(0, Part("cover", "Cover summary", "", _reader(drawn), facts))
    return Gathered(port_request, parts, cover, envelope)


def assemble(gathered):
    """Return the packet's bytes: the parts' pages, a bookmark each, the evidence attached."""
    writer = PdfWriter()
    for part in gathered.parts:
        first = len(writer.pages)
        writer.append(part.reader, import_outline=False)
        item = writer.add_outline_item(title=part.title, page_number=first)
        if part.certificate_at is not None:
            at = first + part.certificate_at
            writer.add_outline_item(title=CERTIFICATE, page_number=at, parent=item)
    _drop_signatures(writer)
    evidence = packet_evidence.evidence(
        gathered.port_request, gathered.cover, gathered.parts, gathered.envelope
    )
    # Compact: a thousand numbers indented cost four times as long to write, for a file that a
    # JSON viewer lays out anyway.
    _attach(writer, json.dumps(evidence, ensure_ascii=False, separators=(",", ":")).encode())
    writer.page_mode = "/UseOutlines"
    title = f"Port request {gathered.port_request.id} packet"
    writer.add_metadata({"/Title": title, "/Producer": "PortDesk"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _attach(writer, evidence):
    """Attach the evidence JSON, compressed (a thousand numbers' worth is mostly repeats)."""
    # The fastest level: a thousand numbers' evidence shrinks to a twentieth all the same.
    attached = writer.add_attachment(EVIDENCE, zlib.compress(evidence, 1))
    stream = attached.pdf_object["/EF"]["/F"].get_object()
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream[NameObject("/Subtype")] = NameObject("/application/json")  # written /application#2Fjson
    stream[NameObject("/Params")] = DictionaryObject(
        {NameObject("/Size"): NumberObject(len(evidence))}
    )


def evidence_of(data):
    """Return the evidence a packet carries (a dict), or None when it carries none."""
    try:
        with PdfReader(io.BytesIO(data)) as reader:
            found = reader.attachments.get(EVIDENCE)
            evidence = json.loads(found[0]) if found else None
    except Exception:  # anything a file that is not a packet may hold
        return None
    if isinstance(evidence, dict) and evidence.get("format") == packet_evidence.FORMAT:
        return evidence
    return None


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
    document, _ = signed_loa
    return (
        SigningEnvelope.select()
        .where(SigningEnvelope.reference == loa.reference(port_request.id))
        .where(SigningEnvelope.signed_sha256 == document.sha256)
        .first()
    )


def _check_signing(envelope, part):
    """Refuse a signing record whose hash chain is broken (`envelopes.verify`: every event, the
    last one, the status, the documents the events name).

    The chain printed in the LOA's certificate is not read back here (pypdf reading that page is
    an eighth of a packet's time): whoever could rewrite the record whole could render the LOA
    again to match it, which only the LOA's own seal tells apart; `flask signing verify ID
    --signed-pdf FILE` and Verify a packet (given the signed LOA) make those checks.
    """
    problems = envelopes.verify(envelope)
    if problems:
        raise PacketBlocked(
            f"The packet was not built: the signing record of the signed LOA "
            f"(“{part.facts['label']}”, envelope {envelope.id}) is broken. {' '.join(problems)}"
        )


def _part(kind, document, data, envelope):
    pdf = data if document.media_type == documents.PDF else _image_pdf(data)
    facts = {
        "document_id": document.id,
        "label": document.label,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
        "uploaded_at": packet_evidence.iso(document.uploaded_at),
        "uploaded_by": document.uploaded_by_name,
        "statement_date": packet_evidence.iso(document.statement_date),
        "signed_date": packet_evidence.iso(document.signed_date),
    }
    part = Part(kind, PARTS[kind], _detail(document, envelope), _reader(pdf), facts)
    if envelope is not None and kind == "signed_loa":
        # The certificate follows the LOA as it was shown (PortDesk's own PDF, whose page tree
        # says how many pages it has): its pages come after that many.
        shown = _reader(bytes(envelope.document))
        part.certificate_at = int(shown.root_object["/Pages"]["/Count"])
        _check_signing(envelope, part)
    return part


def _detail(document, envelope):
    if document.kind == "bill":
        return f"“{document.label}”, statement of {packet_cover.day(document.statement_date)}"
    if envelope is not None:
        how = "signed by link" if envelope.method == "email" else "signed in PortDesk"
        return f"{how} by {envelope.signer_name} on {packet_cover.day(envelope.signed_at)}"
    signed = packet_cover.day(document.signed_date) or "on a date not given"
    return f"“{document.label}”, uploaded by {document.uploaded_by_name}, signed {signed}"


def _reader(pdf):
    return PdfReader(io.BytesIO(pdf))


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
