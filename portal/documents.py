"""The document store: uploads checked by what they are, kept with their hash, read back verified.

An upload is taken for what its bytes are, never for its name or the browser's type: a PDF opened
by pypdf (strictly) or a PNG, JPEG or TIFF opened and decoded by Pillow. Whatever they cannot open,
and whatever could act on the reader's computer (JavaScript, a program launched, files attached
inside), is refused with a sentence saying what to do. Bytes live in `DocumentContent`, written in
the caller's transaction; every read checks them against their SHA-256.

A 10 MB upload is not copied whole where it need not be: the bytes are hashed, sniffed and parsed
in place (`io.BytesIO` shares a bytes object's buffer), and on PostgreSQL they travel by a binary
COPY, in slices, rather than inside an INSERT's text, hex-escaped (five times their size at once).
"""

import hashlib
import io
import logging
import math
import sqlite3
import struct
from dataclasses import dataclass

from PIL import JpegImagePlugin, PngImagePlugin, TiffImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from portal.db import db, is_postgresql
from portal.models import Document, DocumentContent, FaxTicket, PortRequest, utcnow

log = logging.getLogger("portal.documents")

PDF, PNG, JPEG, TIFF = "application/pdf", "image/png", "image/jpeg", "image/tiff"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", TIFF: "tif"}
_TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", TIFF: "TIFF"}
ACCEPTED = {
    "bill": (PDF, PNG, JPEG),
    "signed_loa": (PDF, PNG, JPEG),
    "fax_proof": (PDF, PNG, JPEG, TIFF),  # fax machines and fax software save TIFF
    "fax_loa": (PDF, PNG, JPEG),
}
# How the messages name what was being uploaded.
WHAT = {
    "bill": "the bill",
    "signed_loa": "the signed LOA",
    "fax_proof": "the proof of ownership",
    "fax_loa": "the carrier's LOA",
}
# A bill runs to a few pages, a fax port's documents to a few dozen: more is not a bill.
MAX_PAGES = 200
# A letter page scanned at 600 dpi is 34 megapixels; a phone's photo is 12 to 48.
MAX_PIXELS = 50_000_000
MAX_TEXT = 200_000
# A bill's PDF holds hundreds of objects; one that needs more to find its actions is refused.
MAX_PDF_OBJECTS = 100_000
COPY_SLICE = 1024 * 1024

# Where a PDF keeps what a reader runs or opens: under these keys nothing can (page content,
# fonts, images, appearance streams, back-links), so the search for actions does not open them,
# nor read a scanned page's megabytes.
_INERT_KEYS = frozenset(
    {"/Contents", "/Resources", "/AP", "/Parent", "/P", "/Metadata", "/Thumb", "/StructTreeRoot"}
)
# JavaScript sits under an action's /JS, the document's /JavaScript names, a 3D model's
# /OnInstantiate and inside an XFA form's XML (Acrobat runs all four; no bill is an XFA form).
_SCRIPT_KEYS = frozenset({"/JS", "/JavaScript", "/OnInstantiate", "/XFA"})
# Actions that run something, or reach out to another machine by themselves: a GoToR or
# ImportData naming a \\host\share path makes Windows readers hand that host the user's NTLM
# hash; SubmitForm sends the form's contents away. A /URI link waits for a click: it stays.
_RUNNING_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/GoToR", "/GoToE", "/ImportData", "/SubmitForm"}
)
_ATTACHMENT_KEYS = frozenset({"/EmbeddedFiles", "/EmbeddedFile", "/EF"})

# What a file's first bytes say it is: (bytes at offset 0, the media type if one we may accept,
# what it is in words).
_SIGNATURES = (
    (b"%PDF-", PDF, "a PDF"),
    (b"\x89PNG\r\n\x1a\n", PNG, "a PNG image"),
    (b"\xff\xd8\xff", JPEG, "a JPEG image"),
    (b"II*\x00", TIFF, "a TIFF image"),
    (b"MM\x00*", TIFF, "a TIFF image"),
    (b"MZ", None, "a Windows program"),
    (b"\x7fELF", None, "a Linux program"),
    (b"\xcf\xfa\xed\xfe", None, "a Mac program"),
    (b"\xce\xfa\xed\xfe", None, "a Mac program"),
    (b"\xfe\xed\xfa\xcf", None, "a Mac program"),
    (b"\xfe\xed\xfa\xce", None, "a Mac program"),
    (b"\xca\xfe\xba\xbe", None, "a program (for a Mac, or in Java)"),
    (b"#!", None, "a script (a program)"),
    (b"PK\x03\x04", None, "a ZIP archive (Word and Excel files are ZIP archives too)"),
    (b"PK\x05\x06", None, "a ZIP archive"),
    (b"PK\x07\x08", None, "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None, "an Office file (Word, Excel or Outlook)"),
    (b"\x1f\x8b", None, "a compressed (gzip) archive"),
    (b"7z\xbc\xaf\x27\x1c", None, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", None, "a RAR archive"),
    (b"GIF87a", None, "a GIF image"),
    (b"GIF89a", None, "a GIF image"),
    (b"%!PS", None, "a PostScript file"),
    (b"{\\rtf", None, "a Rich Text (RTF) document"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<meta")
_SNIFFED = 4096  # bytes read to tell text from binary
_PICTURES = frozenset({"a GIF image", "a WebP image", "a BMP image", "an AVIF image"})


class DocumentRefused(ValueError):
    """An upload PortDesk does not keep; str(error) tells the owner what to do."""


class DocumentDamaged(Exception):
    """A stored document's bytes no longer match their SHA-256 (or size)."""


@dataclass(frozen=True)
class Inspected:
    """What an upload is, by its content."""

    media_type: str
    extension: str
    pages: int
    text: str | None  # a PDF's text layer; None for an image or a PDF without one


def inspect(data, kind, *, max_bytes):
    """Return what the upload is; raise DocumentRefused when it is not something to keep.

    `data` is the upload's bytes (a `bytes` object: it is read in place, never copied).
    """
    what = WHAT[kind]
    if not data:
        raise DocumentRefused(
            f"This file is empty (0 bytes). Choose the file again; if it is still empty, save "
            f"{what} again and upload the new copy."
        )
    if len(data) > max_bytes:
        size_mb = math.ceil(len(data) * 10 / 2**20) / 10
        raise DocumentRefused(
            f"This file is {size_mb:g} MB, over the {max_bytes / 2**20:g} MB limit. Upload a "
            f"smaller copy of {what}: scan it at 200 dpi, or keep only the pages that show the "
            "account details."
        )
    media_type, described = _sniff(data)
    if media_type not in ACCEPTED[kind]:
        raise DocumentRefused(_not_accepted(kind, described))
    if media_type == PDF:
        pages, text = _inspect_pdf(data, kind)
    else:
        pages, text = _inspect_image(data, media_type), None
    return Inspected(media_type, EXTENSIONS[media_type], pages, text)


def store(
    *,
    account,
    kind,
    data,
    label,
    user,
    max_bytes,
    port_request=None,
    fax_ticket=None,
    statement_date=None,
    signed_date=None,
    loa_digest=None,
    actor=None,
):
    """Inspect the upload and keep it as the current document of its kind; return the Document.

    Runs in the caller's transaction when there is one. The previous current document of the
    same kind of the same request (or fax ticket) is marked replaced and kept. `actor` names who
    uploaded it when there is no user (an API key); it defaults to the user's name.
    """
    if (port_request is None) == (fax_ticket is None):
        raise TypeError("store() takes either a port_request or a fax_ticket")
    owner = port_request if port_request is not None else fax_ticket
    if owner.account_id != account.id:
        raise ValueError(f"{type(owner).__name__} {owner.id} is not account {account.id}'s")
    inspected = inspect(data, kind, max_bytes=max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    now = utcnow()
    with db.atomic():
        _lock(owner)
        parent = _parent_field(owner)
        (
            Document.update(replaced_at=now)
            .where(parent == owner, Document.kind == kind, Document.replaced_at.is_null())
            .execute()
        )
        document = Document.create(
            account=account,
            port_request=port_request,
            fax_ticket=fax_ticket,
            kind=kind,
            label=_label(label),
            media_type=inspected.media_type,
            size=len(data),
            sha256=sha256,
            pages=inspected.pages,
            text=inspected.text,
            statement_date=statement_date,
            signed_date=signed_date,
            loa_digest=loa_digest,
            uploaded_by=user,
            uploaded_by_name=(actor or (user.name if user is not None else "PortDesk"))[:300],
            uploaded_at=now,
        )
        _write_content(document.id, data)
    return document


def read(document):
    """Return the document's bytes, checked against its SHA-256 and size; raise DocumentDamaged."""
    content = _read_content(document.id)
    if content is None:
        found = "its content is missing"
    else:
        sha256 = hashlib.sha256(content).hexdigest()
        if len(content) == document.size and sha256 == document.sha256:
            return content
        found = f"{len(content)} bytes with SHA-256 {sha256}"
    log.error(
        "Document %s (%s of %s %s) is damaged: %s, where %s bytes with SHA-256 %s were stored",
        document.id,
        document.kind,
        "port request" if document.port_request_id else "fax ticket",
        document.port_request_id or document.fax_ticket_id,
        found,
        document.size,
        document.sha256,
    )
    raise DocumentDamaged(
        f"The stored copy of {document.label} is damaged: upload it again. Carrier Relations "
        "has been told."
    )


def current(owner, kind):
    """Return the current document of this kind of a port request (or fax ticket), or None."""
    return (
        Document.select()
        .where(_parent_field(owner) == owner, Document.kind == kind, Document.replaced_at.is_null())
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
        .first()
    )


def history(owner):
    """Return every document of a port request (or fax ticket), replaced ones too, newest first."""
    return list(
        Document.select()
        .where(_parent_field(owner) == owner)
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
    )


def download_name(document):
    """Return a file name safe in any header or file system, e.g. "bill-12-34.pdf".

    It is built from the kind and ids alone: the owner's label never reaches a header.
    """
    owner_id = document.port_request_id or document.fax_ticket_id
    extension = EXTENSIONS.get(document.media_type, "bin")
    return f"{document.kind.replace('_', '-')}-{owner_id}-{document.id}.{extension}"


def first_page_pdf(document):
    """Return a PDF of the document's first page (for its preview), or None for an image.

    An image is its own preview, so there is nothing to build. Raises DocumentDamaged as read().
    """
    if document.media_type != PDF:
        return None
    out = io.BytesIO()
    with PdfReader(_pdf_stream(read(document))) as reader:
        writer = PdfWriter()
        writer.add_page(reader.pages[0])
        writer.write(out)
    return out.getvalue()


def _parent_field(owner):
    if isinstance(owner, PortRequest):
        return Document.port_request
    if isinstance(owner, FaxTicket):
        return Document.fax_ticket
    raise TypeError(f"documents belong to a PortRequest or a FaxTicket, not {owner!r}")


def _lock(owner):
    # Two uploads at once must not both stay current: the second waits for the first's commit
    # and then replaces it. SQLite's writers already take the database in turn.
    if is_postgresql(db):
        model = type(owner)
        model.select(model.id).where(model.id == owner.id).for_update().execute()


def _label(name):
    # Only a label to show: no folders (a browser may send "C:\fakepath\bill.pdf"), no control
    # or direction-changing characters, never empty.
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    label = "".join(char for char in name if char.isprintable()).strip()
    if label in (".", ".."):
        label = ""
    return label[:255] or "upload"


def _write_content(document_id, data):
    if not is_postgresql(db):
        # sqlite3 binds the bytes in place.
        DocumentContent.insert(document=document_id, content=data).execute()
        return
    # psycopg2 sends bytea inside the SQL text, hex-escaped: a 10 MB file would be held as the
    # upload, its 20 MB escape and a 20 MB statement at once. A binary COPY streams it in slices.
    table = DocumentContent._meta.table_name
    column = DocumentContent.document.column_name
    with db.cursor() as cursor:
        cursor.copy_expert(
            f'COPY "{table}" ("{column}", content) FROM STDIN WITH (FORMAT binary)',
            _BinaryCopyRow(document_id, data),
            size=COPY_SLICE,
        )


def _read_content(document_id):
    if not is_postgresql(db):
        # SQLite would gather the bytes into a buffer of its own before Python copies them out;
        # read as a blob (the row's key is its rowid) they are copied once, from its pages.
        table = DocumentContent._meta.table_name
        try:
            with db.connection().blobopen(table, "content", document_id, readonly=True) as blob:
                return blob.read()
        except sqlite3.OperationalError:  # no such row, or no bytes in it
            return None
    # A SELECT would bring the bytes as hex text (twice their size) and unescape them into a
    # third buffer; COPY sends them as they are.
    table = DocumentContent._meta.table_name
    column = DocumentContent.document.column_name
    received = _BinaryCopyReceiver()
    with db.cursor() as cursor:
        cursor.copy_expert(
            f'COPY (SELECT content FROM "{table}" WHERE "{column}" = {int(document_id)}) '
            "TO STDOUT WITH (FORMAT binary)",
            received,
        )
    return received.content()


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)


class _BinaryCopyRow:
    """One (document id, content) row in PostgreSQL's binary COPY format, read in slices."""

    def __init__(self, document_id, data):
        self._parts = [
            _COPY_HEADER + struct.pack("!hii", 2, 4, document_id) + struct.pack("!i", len(data)),
            memoryview(data),
            _COPY_TRAILER,
        ]

    def read(self, size=-1):
        while self._parts and not len(self._parts[0]):
            self._parts.pop(0)
        if not self._parts:
            return b""
        part = self._parts[0]
        chunk = part if size < 0 else part[:size]
        self._parts[0] = part[len(chunk) :]
        return bytes(chunk)  # a slice of at most COPY_SLICE, not the whole upload


class _BinaryCopyReceiver:
    """Collects the one-column rows of a binary COPY TO; `content()` is the first row's value."""

    def __init__(self):
        self._chunks = []

    def write(self, chunk):
        self._chunks.append(chunk)
        return len(chunk)

    def content(self):
        """Return the first row's value (None without a row, or for NULL)."""
        # The server sends the 19-byte header with the first row, then the trailer apart: the
        # row is read where it arrived, joined with the rest only if it came in pieces.
        if not self._chunks:
            return None
        found = _copied_value(self._chunks[0])
        if found is _INCOMPLETE:
            found = _copied_value(b"".join(self._chunks))
        self._chunks = []
        return None if found is _INCOMPLETE else found


_INCOMPLETE = object()


def _copied_value(received):
    """Return the first field of the first row of a binary COPY's output (or _INCOMPLETE)."""
    view = memoryview(received)
    if len(view) < 21:
        return _INCOMPLETE
    start = 19 + struct.unpack_from("!i", view, 15)[0]  # past the header's extension
    if len(view) < start + 2:
        return _INCOMPLETE
    if struct.unpack_from("!h", view, start)[0] != 1:  # -1: the trailer, no row at all
        return None
    if len(view) < start + 6:
        return _INCOMPLETE
    length = struct.unpack_from("!i", view, start + 2)[0]
    if length < 0:
        return None
    if len(view) < start + 6 + length:
        return _INCOMPLETE
    return view[start + 6 : start + 6 + length].tobytes()


def _sniff(data):
    """Return (the media type we might accept or None, what the file is in words or None)."""
    head = data[:16]
    for magic, media_type, described in _SIGNATURES:
        if head.startswith(magic):
            return media_type, described
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return None, "a WebP image"
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":
        return None, "a BMP image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return None, "an iPhone photo (HEIC)"
        if brand in (b"avif", b"avis"):
            return None, "an AVIF image"
        return None, "a video"
    return None, _sniff_text(data[:_SNIFFED])


def _sniff_text(head):
    """Say what a file that starts as text is (HTML, SVG, XML or text), or None."""
    # Markup is told by its start, whatever binary follows (a web page wrapping a PDF).
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if start.startswith(_HTML_STARTS) or b"<html" in start[:1024]:
        return "a web page (HTML)"
    if start.startswith(b"<svg") or (
        start.startswith((b"<?xml", b"<!doctype")) and b"<svg" in start
    ):
        return "an SVG drawing"
    if start.startswith(b"<?xml"):
        return "an XML file"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "a text file"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # Only a whole file's 4 KB may end inside a character.
        if len(head) < _SNIFFED or error.start < len(head) - 3:
            return None
        text = head[: error.start].decode("utf-8-sig")
    if all(char.isprintable() or char in "\t\n\r\f" for char in text):
        return "a text file"
    return None


def _not_accepted(kind, described):
    what, accepted = WHAT[kind], _in_words(ACCEPTED[kind])
    upload = f"Upload {what} as {accepted}"
    if described == "a TIFF image":
        return (
            "This file is a TIFF image, which PortDesk takes only as a fax port's proof of "
            f"ownership. {upload}: open it and save or export it as one of those."
        )
    if described == "an iPhone photo (HEIC)":
        return (
            f"This file is an iPhone photo (HEIC). {upload}: share it from Photos as a JPEG, or "
            "set Settings > Camera > Formats to Most Compatible and take it again."
        )
    if described in _PICTURES:
        return f"This file is {described}. {upload}: open it and save or export it as one of those."
    if described is None:
        return (
            f"This file is not a PDF or an image PortDesk can read (it looks at what the file "
            f"holds, not at its name). {upload}."
        )
    return f"This file is {described}, not a PDF or an image. {upload}."


def _in_words(media_types):
    names = [_TYPE_NAMES[media_type] for media_type in media_types]
    return "a " + ", ".join(names[:-1]) + " or " + names[-1]


def _inspect_pdf(data, kind):
    """Return (pages, text layer or None) of a PDF we keep; raise DocumentRefused otherwise."""
    damaged = DocumentRefused(
        f"This PDF is damaged or incomplete, so it cannot be opened. If its download was cut "
        f"short, download {WHAT[kind]} again; otherwise open it, print it to a new PDF and upload "
        "that."
    )
    try:
        reader = PdfReader(_pdf_stream(data), strict=True)
    except Exception as error:
        raise damaged from error
    # Closing the reader lets go of the streams it read (a scan's image is as big as the file)
    # now rather than whenever the garbage collector breaks its reference cycles.
    with reader:
        return _check_pdf(reader, kind, damaged)


def _pdf_stream(data):
    # pypdf sizes a stream that has getbuffer() with it, which makes BytesIO copy the bytes it
    # shares; through a buffered reader it seeks instead.
    return io.BufferedReader(io.BytesIO(data))


def _check_pdf(reader, kind, damaged):
    what = WHAT[kind]
    try:
        encrypted = reader.is_encrypted
        pages = None if encrypted else _page_count(reader)
        found = None if encrypted or pages > MAX_PAGES else _active_content(reader)
    except _TooComplex as error:
        raise DocumentRefused(
            "This PDF is too complex for PortDesk to check. Open it, print it to a new PDF and "
            "upload that."
        ) from error
    except Exception as error:
        raise damaged from error
    if encrypted:
        raise DocumentRefused(
            "This PDF is protected with a password, so PortDesk cannot check it. Open it, print "
            "it to a new PDF (or save a copy without the password) and upload that."
        )
    if pages == 0:
        raise DocumentRefused(
            f"This PDF has no pages. Upload {what} itself: open it to check it shows the pages, "
            "then save it again."
        )
    if pages > MAX_PAGES:
        raise DocumentRefused(
            f"This PDF has {pages:,} pages; {what} can have at most {MAX_PAGES}. Upload only the "
            "pages that show the account details."
        )
    if found == "script":
        raise DocumentRefused(
            "This PDF holds JavaScript or an action that starts a program or opens another file "
            "or site by itself, which PortDesk does not accept. Print it to a new PDF (that "
            "leaves them out) and upload that."
        )
    if found == "attachment":
        raise DocumentRefused(
            "This PDF has files attached inside it, which PortDesk does not accept. Print it to "
            "a new PDF (that leaves them out) and upload that."
        )
    try:
        return pages, _text_layer(reader)
    except Exception as error:
        raise damaged from error


class _TooComplex(Exception):
    pass


def _page_count(reader):
    """Return the page tree's count of pages, once the tree shows it is true (if not absurd)."""
    # What the tree says first: a billion pages are not walked to be counted.
    pages = reader.root_object["/Pages"]["/Count"]
    if not isinstance(pages, int) or pages < 0:
        raise ValueError(f"the page tree's /Count is {pages!r}")
    if pages <= MAX_PAGES and len(reader.pages) != pages:
        raise ValueError(f"the page tree holds {len(reader.pages)} pages, not /Count {pages}")
    return pages


def _active_content(reader):
    """Return "script" or "attachment" if the PDF holds one where a reader would find it."""
    pending = [reader.trailer.raw_get("/Root")]
    seen = set()
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference in seen:
                continue
            seen.add(reference)
            if len(seen) > MAX_PDF_OBJECTS:
                raise _TooComplex
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in _SCRIPT_KEYS:
                    return "script"
                if key in _ATTACHMENT_KEYS:
                    return "attachment"
                if key in ("/S", "/Subtype"):
                    value = value.get_object() if isinstance(value, IndirectObject) else value
                    if key == "/S" and value in _RUNNING_ACTIONS:
                        return "script"
                    if key == "/Subtype" and value == "/FileAttachment":
                        return "attachment"
                if key not in _INERT_KEYS:
                    pending.append(value)
        elif isinstance(item, ArrayObject):
            if len(item) > MAX_PDF_OBJECTS:
                raise _TooComplex
            pending.extend(item)
    return None


def _text_layer(reader):
    parts, length = [], 0
    for page in reader.pages:
        text = page.extract_text()
        if not text:
            # Extraction skips a page without fonts, and gives "" for content it could not
            # decode (a stream that inflates past pypdf's limits): decoding it raises then.
            page.get_contents()
        parts.append(text)
        length += len(text) + 1
        if length >= MAX_TEXT:
            break
    text = "\n".join(parts)[:MAX_TEXT]
    if not text.strip():
        return None
    # PostgreSQL refuses NUL in text, and UTF-8 any lone surrogate a broken font map can give.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


# Pillow's own open() warns about (and past twice its limit, refuses) big images before we can
# look; its plugins' classes read the header alone, so the size is checked here, against ours.
_IMAGE_FILES = {
    PNG: PngImagePlugin.PngImageFile,
    JPEG: JpegImagePlugin.JpegImageFile,
    TIFF: TiffImagePlugin.TiffImageFile,
}


def _inspect_image(data, media_type):
    """Return the pages of an image we keep (a TIFF may hold several); raise DocumentRefused."""
    damaged = DocumentRefused(
        f"This {_TYPE_NAMES[media_type]} image is damaged or incomplete, so it cannot be opened. "
        "Save or scan it again and upload the new file."
    )
    try:
        image = _IMAGE_FILES[media_type](io.BytesIO(data))
    except Exception as error:
        raise damaged from error
    with image:
        try:
            # Only a TIFF's pages count; a PNG's or JPEG's further frames are not shown anyway.
            pages = image.n_frames if media_type == TIFF else 1
        except Exception as error:
            raise damaged from error
        if pages > MAX_PAGES:
            raise DocumentRefused(
                f"This TIFF has {pages:,} pages; at most {MAX_PAGES} are accepted. Upload only "
                "the pages that show the account details."
            )
        for page in range(pages):
            try:
                image.seek(page)
            except Exception as error:
                raise damaged from error
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise DocumentRefused(
                    f"This image is {width:,} x {height:,} pixels, more than the "
                    f"{MAX_PIXELS // 1_000_000} megapixels PortDesk accepts. Save it at a smaller "
                    "size (or scan at 200-300 dpi) and upload that."
                )
            try:
                if media_type == JPEG:
                    # Decoding at an eighth of the size still reads every byte of the image.
                    image.draft(None, (max(1, width // 8), max(1, height // 8)))
                image.load()
            except Exception as error:
                raise damaged from error
    return pages
