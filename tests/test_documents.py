"""The document store: every hostile or broken file refused in words with nothing stored, good
bills, photos and faxes kept by their content with their hash, replaced without being lost, and
a damaged stored copy stopped on read."""

import hashlib
import io
import logging
import random
import re
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader

from portal import documents
from portal.documents import DocumentDamaged, DocumentRefused
from portal.models import Account, Document, DocumentContent, FaxTicket, PortRequest, User

CORPUS = Path(__file__).resolve().parent / "files"
MB = 2**20
MAX = 10 * MB

# Every file of tests/files/: the kind it is uploaded as and what the refusal must say.
BILL, FAX = "bill", "fax_proof"
NOT_A_DOCUMENT = "not a PDF or an image. Upload the bill as a PDF, PNG or JPEG."
DAMAGED_PDF = "This PDF is damaged or incomplete, so it cannot be opened."
PASSWORD = "This PDF is protected with a password"
SCRIPT = "This PDF holds JavaScript or an action that starts a program"
ATTACHED = "This PDF has files attached inside it"
REFUSALS = {
    "empty.pdf": (BILL, "This file is empty (0 bytes). Choose the file again"),
    "windows-program.pdf": (BILL, f"This file is a Windows program, {NOT_A_DOCUMENT}"),
    "linux-program.pdf": (BILL, f"This file is a Linux program, {NOT_A_DOCUMENT}"),
    "mac-program.pdf": (BILL, f"This file is a Mac program, {NOT_A_DOCUMENT}"),
    "shell-script.pdf": (BILL, f"This file is a script (a program), {NOT_A_DOCUMENT}"),
    "archive.pdf": (BILL, "This file is a ZIP archive (Word and Excel files are ZIP archives"),
    "word-document.pdf": (BILL, "This file is a ZIP archive (Word and Excel files are ZIP"),
    "old-office-document.pdf": (BILL, "This file is an Office file (Word, Excel or Outlook)"),
    "compressed.pdf": (BILL, f"This file is a compressed (gzip) archive, {NOT_A_DOCUMENT}"),
    "web-page.pdf": (BILL, f"This file is a web page (HTML), {NOT_A_DOCUMENT}"),
    "web-page-with-bom.png": (BILL, f"This file is a web page (HTML), {NOT_A_DOCUMENT}"),
    "web-page-wrapping-a-pdf.pdf": (BILL, f"This file is a web page (HTML), {NOT_A_DOCUMENT}"),
    "drawing.png": (BILL, f"This file is an SVG drawing, {NOT_A_DOCUMENT}"),
    "drawing-with-xml-declaration.pdf": (BILL, f"This file is an SVG drawing, {NOT_A_DOCUMENT}"),
    "notes.pdf": (BILL, f"This file is a text file, {NOT_A_DOCUMENT}"),
    "postscript.pdf": (BILL, f"This file is a PostScript file, {NOT_A_DOCUMENT}"),
    "animation.png": (BILL, "This file is a GIF image. Upload the bill as a PDF, PNG or JPEG"),
    "photo-webp.jpg": (BILL, "This file is a WebP image. Upload the bill as a PDF, PNG or JPEG"),
    "picture.bmp": (BILL, "This file is a BMP image. Upload the bill as a PDF, PNG or JPEG"),
    "iphone-photo.jpg": (BILL, "This file is an iPhone photo (HEIC). Upload the bill as a PDF"),
    "scan-for-a-bill.tif": (BILL, "a TIFF image, which PortDesk takes only as a fax port's"),
    "random-bytes.pdf": (BILL, "This file is not a PDF or an image PortDesk can read"),
    "encrypted.pdf": (BILL, PASSWORD),
    "encrypted-without-a-password-to-open.pdf": (BILL, PASSWORD),
    "truncated.pdf": (BILL, DAMAGED_PDF),
    "header-only.pdf": (BILL, DAMAGED_PDF),
    "cross-reference-pointing-nowhere.pdf": (BILL, DAMAGED_PDF),
    "page-tree-in-a-loop.pdf": (BILL, DAMAGED_PDF),
    "page-count-that-lies.pdf": (BILL, DAMAGED_PDF),
    "content-decompressing-to-100-mb.pdf": (BILL, DAMAGED_PDF),
    "no-pages.pdf": (BILL, "This PDF has no pages. Upload the bill itself"),
    "201-pages.pdf": (BILL, "This PDF has 201 pages; the bill can have at most 200."),
    "page-count-of-a-billion.pdf": (BILL, "This PDF has 1,000,000,000 pages; the bill can"),
    "javascript-on-open.pdf": (BILL, SCRIPT),
    "javascript-in-a-link.pdf": (BILL, SCRIPT),
    "javascript-when-a-page-opens.pdf": (BILL, SCRIPT),
    "javascript-under-an-escaped-name.pdf": (BILL, SCRIPT),
    "javascript-in-the-outline.pdf": (BILL, SCRIPT),
    "javascript-in-a-form-field.pdf": (BILL, SCRIPT),
    "launches-a-program.pdf": (BILL, SCRIPT),
    "attached-file.pdf": (BILL, ATTACHED),
    "attached-file-annotation.pdf": (BILL, ATTACHED),
    "400-megapixels.png": (BILL, "This image is 20,000 x 20,000 pixels, more than the 50 mega"),
    "100-megapixels.png": (BILL, "This image is 10,000 x 10,000 pixels, more than the 50 mega"),
    "56-megapixels.png": (BILL, "This image is 8,000 x 7,000 pixels, more than the 50 megapix"),
    "4-gigapixels.jpg": (BILL, "This image is 65,000 x 65,000 pixels, more than the 50 megap"),
    "truncated.png": (BILL, "This PNG image is damaged or incomplete, so it cannot be opened"),
    "damaged-checksum.png": (BILL, "This PNG image is damaged or incomplete"),
    "text-decompressing-to-16-mb.png": (BILL, "This PNG image is damaged or incomplete"),
    "truncated.jpg": (BILL, "This JPEG image is damaged or incomplete, so it cannot be opened"),
    "jpeg-header-only.jpg": (BILL, "This JPEG image is damaged or incomplete"),
    "fax-40-gigapixels.tif": (FAX, "This image is 200,000 x 200,000 pixels, more than the 50"),
    "fax-truncated.tif": (FAX, "This TIFF image is damaged or incomplete"),
    "fax-201-pages.tif": (FAX, "This TIFF has 201 pages; at most 200 are accepted."),
}


@pytest.fixture
def acme(database):
    """The owner's account, its owner and one draft request (plus someone else's)."""
    account = Account.create(id=4242, name="Acme Dental")
    other = Account.create(id=5151, name="Globex Plumbing")
    owner = User.create(email="owner@acme.test", name="Ann Owner", role="owner", account=account)
    request = PortRequest.create(account=account, created_by=owner)
    return account, owner, request, other


def keep(acme, data, *, kind="bill", label="bill.pdf", **more):
    account, owner, request, _ = acme
    if "fax_ticket" not in more:
        more.setdefault("port_request", request)
    return documents.store(
        account=account, kind=kind, data=data, label=label, user=owner, max_bytes=MAX, **more
    )


def rows():
    return Document.select().count(), DocumentContent.select().count()


def bill_pdf(pages=3):
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    pdf.set_font("helvetica", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(
            w=0,
            text=f"Ohio Bell statement, page {page} of {pages}\nAccount number 8123 4456 001\n"
            "Harbor Clinic LLC, 150 E Gay St, Columbus OH 43215",
        )
    return bytes(pdf.output())


def picture(format, size=(120, 80), **options):
    image = Image.new("RGB", size, "white")
    for x in range(size[0]):
        image.putpixel((x, x % size[1]), (20, 40, 160))
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def scanned_pdf():
    """A PDF of a photographed page: an image, no text layer."""
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(picture("PNG")), x=10, y=10, w=180)
    return bytes(pdf.output())


def fax_tiff(pages=3):
    frames = [Image.new("1", (1728, 200), 1) for _ in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_every_file_of_the_corpus_is_refused_in_words_and_nothing_is_stored(acme, name):
    kind, message = REFUSALS[name]
    ticket = FaxTicket.create(account=acme[0], title="Fax Porting Documentation - 4242")
    owner = {"fax_ticket": ticket} if kind == FAX else {"port_request": acme[2]}
    before = keep(acme, bill_pdf(), kind=kind, **owner)
    counted = rows()

    with pytest.raises(DocumentRefused) as refused:
        keep(acme, (CORPUS / name).read_bytes(), kind=kind, label=name, **owner)

    assert message in str(refused.value)
    assert rows() == counted
    # The document it would have replaced is still the current one.
    assert documents.current(next(iter(owner.values())), kind).id == before.id


def test_the_corpus_table_and_its_readme_name_every_file_in_the_folder():
    files = {path.name for path in CORPUS.iterdir() if path.suffix not in (".py", ".md")}
    assert files == set(REFUSALS)
    assert len(files) >= 30
    readme = (CORPUS / "README.md").read_text()
    assert [name for name in sorted(files) if f"`{name}`" not in readme] == []


@pytest.mark.parametrize(
    ("size", "limit", "message"),
    [
        (MAX + 1, MAX, "This file is 10.1 MB, over the 10 MB limit. Upload a smaller copy of"),
        (3 * MB, 2 * MB, "This file is 3 MB, over the 2 MB limit."),
        (int(2.5 * MB), 2 * MB, "This file is 2.5 MB, over the 2 MB limit."),
    ],
)
def test_a_file_over_the_limit_is_refused_with_the_limit_in_megabytes(acme, size, limit, message):
    good = bill_pdf()
    data = good + b"\n" * (size - len(good))  # a real PDF, padded: only its size is wrong
    account, owner, request, _ = acme

    with pytest.raises(DocumentRefused, match=re.escape(message)):
        documents.store(
            account=account,
            kind="bill",
            data=data,
            label="bill.pdf",
            user=owner,
            max_bytes=limit,
            port_request=request,
        )
    assert rows() == (0, 0)


@pytest.mark.parametrize(
    ("make", "kind", "media_type", "extension", "pages", "text"),
    [
        (bill_pdf, "bill", "application/pdf", "pdf", 3, "Account number 8123 4456 001"),
        (lambda: bill_pdf(1), "signed_loa", "application/pdf", "pdf", 1, "page 1 of 1"),
        (scanned_pdf, "bill", "application/pdf", "pdf", 1, None),
        (lambda: picture("PNG"), "bill", "image/png", "png", 1, None),
        (lambda: picture("JPEG", quality=80), "bill", "image/jpeg", "jpg", 1, None),
        (lambda: picture("JPEG", progressive=True), "signed_loa", "image/jpeg", "jpg", 1, None),
        (lambda: picture("JPEG", (5, 3)), "bill", "image/jpeg", "jpg", 1, None),
        (fax_tiff, "fax_proof", "image/tiff", "tif", 3, None),
        (lambda: picture("PNG"), "fax_loa", "image/png", "png", 1, None),
    ],
)
def test_good_files_are_kept_with_their_type_pages_text_and_hash(
    acme, make, kind, media_type, extension, pages, text
):
    data = make()
    ticket = FaxTicket.create(account=acme[0], title="Fax Porting Documentation - 4242")
    owner = {"fax_ticket": ticket} if kind.startswith("fax") else {}

    kept = keep(
        acme,
        data,
        kind=kind,
        label="upload.bin",
        statement_date=date(2026, 11, 2),
        signed_date=date(2026, 11, 3),
        **owner,
    )

    stored = Document.get_by_id(kept.id)
    assert (stored.media_type, stored.pages, stored.size) == (media_type, pages, len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (stored.statement_date, stored.signed_date) == (date(2026, 11, 2), date(2026, 11, 3))
    assert (stored.label, stored.uploaded_by_name, stored.replaced_at) == (
        "upload.bin",
        "Ann Owner",
        None,
    )
    if text is None:
        assert stored.text is None
    else:
        assert text in stored.text
    assert documents.read(stored) == data
    assert documents.download_name(stored).endswith(f"-{stored.id}.{extension}")


def test_inspect_reads_every_page_of_the_text_layer_joined_by_lines():
    found = documents.inspect(bill_pdf(3), "bill", max_bytes=MAX)

    assert found == documents.Inspected("application/pdf", "pdf", 3, found.text)
    assert [line for line in found.text.splitlines() if line.startswith("Ohio Bell")] == [
        "Ohio Bell statement, page 1 of 3",
        "Ohio Bell statement, page 2 of 3",
        "Ohio Bell statement, page 3 of 3",
    ]


def test_the_type_is_the_content_s_whatever_the_name_says(acme):
    kept = keep(acme, picture("PNG"), label="bill.pdf")

    assert (kept.media_type, kept.label) == ("image/png", "bill.pdf")
    assert documents.download_name(kept) == f"bill-{acme[2].id}-{kept.id}.png"


@pytest.mark.parametrize(
    ("kind", "accepted"),
    [("bill", False), ("signed_loa", False), ("fax_loa", False), ("fax_proof", True)],
)
def test_a_tiff_is_kept_only_as_a_fax_port_s_proof(acme, kind, accepted):
    ticket = FaxTicket.create(account=acme[0], title="Fax Porting Documentation - 4242")
    owner = {"fax_ticket": ticket} if kind.startswith("fax") else {}
    if accepted:
        assert keep(acme, fax_tiff(1), kind=kind, **owner).media_type == "image/tiff"
        return
    with pytest.raises(DocumentRefused, match="TIFF image, which PortDesk takes only as a fax"):
        keep(acme, fax_tiff(1), kind=kind, **owner)
    assert rows() == (0, 0)


def test_a_new_bill_replaces_the_current_one_which_stays_in_the_history(acme):
    account, owner, request, _ = acme
    other_request = PortRequest.create(account=account)
    first = keep(acme, bill_pdf(1), label="october.pdf")
    loa = keep(acme, picture("PNG"), kind="signed_loa", label="loa.png")
    elsewhere = keep(acme, bill_pdf(2), port_request=other_request)

    second = keep(acme, bill_pdf(2), label="november.pdf")

    first = Document.get_by_id(first.id)
    assert first.replaced_at == second.uploaded_at
    assert documents.current(request, "bill").id == second.id
    assert [d.label for d in documents.history(request)] == [
        "november.pdf",
        "loa.png",
        "october.pdf",
    ]
    assert documents.read(first) == bill_pdf(1)  # the replaced bill is kept, whole
    # Neither the request's other kinds nor another request's bill is replaced.
    assert Document.get_by_id(loa.id).replaced_at is None
    assert documents.current(other_request, "bill").id == elsewhere.id
    assert documents.current(request, "fax_proof") is None


def test_a_fax_ticket_keeps_its_documents_as_a_request_does(acme):
    ticket = FaxTicket.create(account=acme[0], title="Fax Porting Documentation - 4242")
    proof = keep(acme, fax_tiff(2), kind="fax_proof", label="proof.tif", fax_ticket=ticket)
    loa = keep(acme, bill_pdf(1), kind="fax_loa", label="loa.pdf", fax_ticket=ticket)
    again = keep(acme, picture("JPEG"), kind="fax_proof", label="proof.jpg", fax_ticket=ticket)

    assert documents.current(ticket, "fax_proof").id == again.id
    assert documents.current(ticket, "fax_loa").id == loa.id
    assert [d.id for d in documents.history(ticket)] == [again.id, loa.id, proof.id]
    assert documents.history(acme[2]) == []
    assert documents.download_name(loa) == f"fax-loa-{ticket.id}-{loa.id}.pdf"


def test_current_is_one_query_that_leaves_the_bytes_alone(acme, statements):
    keep(acme, bill_pdf(1))
    statements.clear()

    assert documents.current(acme[2], "bill").pages == 1

    assert len(statements) == 1
    assert "document_content" not in statements[0]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda content: content[:-1] + bytes([content[-1] ^ 1]),  # one bit, same size
        lambda content: content[: len(content) // 2],  # cut short
        lambda content: content + b"%%EOF\n",  # something added
    ],
)
def test_a_tampered_copy_is_stopped_on_read_and_logged(acme, caplog, tamper):
    kept = keep(acme, bill_pdf(1), label="october.pdf")
    stored = DocumentContent.get_by_id(kept.id).content
    DocumentContent.update(content=tamper(bytes(stored))).where(
        DocumentContent.document == kept.id
    ).execute()

    with caplog.at_level(logging.ERROR, logger="portal.documents"):
        with pytest.raises(DocumentDamaged) as damaged:
            documents.read(Document.get_by_id(kept.id))
        with pytest.raises(DocumentDamaged):
            documents.first_page_pdf(Document.get_by_id(kept.id))

    assert str(damaged.value) == (
        "The stored copy of october.pdf is damaged: upload it again. Carrier Relations has been "
        "told."
    )
    logged = [r for r in caplog.records if r.name == "portal.documents"]
    assert len(logged) == 2
    assert logged[0].levelno == logging.ERROR
    assert f"Document {kept.id} (bill of port request {acme[2].id})" in logged[0].getMessage()


def test_a_missing_copy_is_stopped_on_read_and_logged(acme, caplog):
    kept = keep(acme, picture("PNG"), label="photo.png")
    DocumentContent.delete().where(DocumentContent.document == kept.id).execute()

    with (
        caplog.at_level(logging.ERROR, logger="portal.documents"),
        pytest.raises(DocumentDamaged, match="The stored copy of photo.png is damaged"),
    ):
        documents.read(kept)

    assert "its content is missing" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("sent", "label"),
    [
        ("../../etc/passwd", "passwd"),
        ('a"b\r\n.pdf', 'a"b.pdf'),
        ("C:\\fakepath\\Facture d'été n°7 📄.pdf", "Facture d'été n°7 📄.pdf"),
        ("bill\u202efdp.exe", "billfdp.exe"),  # no right-to-left override to spoof the end
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("folder/..", "upload"),
        ("   ", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("x" * 300 + ".pdf", "x" * 255),
    ],
)
def test_a_hostile_label_is_kept_as_text_and_never_reaches_the_download_name(acme, sent, label):
    kept = keep(acme, bill_pdf(1), label=sent)

    assert Document.get_by_id(kept.id).label == label
    name = documents.download_name(kept)
    assert name == f"bill-{acme[2].id}-{kept.id}.pdf"
    assert re.fullmatch(r"[a-z-]+-\d+-\d+\.[a-z]+", name)


def test_an_api_key_upload_names_the_key(acme):
    account, _, request, _ = acme

    kept = documents.store(
        account=account,
        kind="bill",
        data=bill_pdf(1),
        label="bill.pdf",
        user=None,
        actor="API key 'CRM sync'",
        max_bytes=MAX,
        port_request=request,
    )

    assert (kept.uploaded_by_id, kept.uploaded_by_name) == (None, "API key 'CRM sync'")


def test_deleting_a_request_or_a_ticket_deletes_its_documents_and_their_bytes(acme):
    account, _, request, _ = acme
    kept_request = PortRequest.create(account=account)
    ticket = FaxTicket.create(account=account, title="Fax Porting Documentation - 4242")
    keep(acme, bill_pdf(1))
    keep(acme, bill_pdf(2))
    keep(acme, picture("PNG"), kind="signed_loa")
    keep(acme, fax_tiff(1), kind="fax_proof", fax_ticket=ticket)
    survivor = keep(acme, bill_pdf(1), port_request=kept_request)

    request.delete_instance()
    ticket.delete_instance()

    assert [d.id for d in Document.select()] == [survivor.id]
    assert [c.document_id for c in DocumentContent.select()] == [survivor.id]


def test_store_keeps_documents_inside_their_own_account(acme):
    account, owner, request, other = acme
    foreign = PortRequest.create(account=other)

    with pytest.raises(ValueError, match="is not account 4242's"):
        keep(acme, bill_pdf(1), port_request=foreign)
    with pytest.raises(TypeError, match="either a port_request or a fax_ticket"):
        documents.store(
            account=account, kind="bill", data=bill_pdf(1), label="b", user=owner, max_bytes=MAX
        )
    assert rows() == (0, 0)


def test_the_preview_is_the_first_page_alone(acme):
    kept = keep(acme, bill_pdf(3))
    photo = keep(acme, picture("JPEG"), kind="signed_loa")

    preview = PdfReader(io.BytesIO(documents.first_page_pdf(kept)))

    assert len(preview.pages) == 1
    assert "page 1 of 3" in preview.pages[0].extract_text()
    assert documents.first_page_pdf(photo) is None


def test_a_10_mb_upload_is_never_held_more_than_three_times(acme):
    data = big_pdf(10 * MB)
    tracemalloc.start()
    try:
        kept = documents.store(
            account=acme[0],
            kind="bill",
            data=data,
            label="big.pdf",
            user=acme[1],
            max_bytes=16 * MB,
            port_request=acme[2],
        )
        stored_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        assert documents.read(kept) == data
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # The upload was made before tracing began. Storing it, pypdf reads the scan's image once
    # (and nothing else is copied whole); reading it back is the copy returned and, on
    # PostgreSQL, the COPY message it is cut from: never more than three with the upload.
    assert stored_peak < 1.5 * len(data)
    assert read_peak < 2 * len(data) + MB


def big_pdf(size):
    """A scanned bill of about this size: a page of photo noise (JPEG) under a text layer."""
    rng = random.Random(10)
    side = int((size * 1.1) ** 0.5)
    noise = Image.frombytes("L", (side, side), rng.randbytes(side * side))
    jpeg = io.BytesIO()
    noise.save(jpeg, "JPEG", quality=90)
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Ohio Bell - Account number 8123 4456 001")
    pdf.image(jpeg, x=10, y=20, w=190)
    return bytes(pdf.output())
