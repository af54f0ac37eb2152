"""Write the hostile and broken files of tests/files/ (see README.md there for what each is).

    .venv/bin/python tests/files/make_corpus.py

Every file is made here from nothing but the standard library, pypdf, fpdf2 and Pillow, with a
fixed seed, so anyone can see what it holds and make it again. None of them does anything when
opened: the "programs" are only a program's first bytes, the scripts only call alert().
"""

import gzip
import io
import random
import struct
import sys
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

HERE = Path(__file__).resolve().parent
WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def text_pdf(pages=3):
    """A bill-like PDF with a text layer, the base of the PDFs below."""
    pdf = FPDF()
    pdf.set_creation_date(WHEN)
    pdf.set_font("helvetica", size=12)
    for page in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Ohio Bell - Account number 8123 4456 001 - page {page + 1}")
    return bytes(pdf.output())


def written(writer):
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def assemble(*objects):
    """A PDF of these objects (numbered from 1, the first the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(content):
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)


CONTENT = stream(b"BT /F1 12 Tf 72 720 Td (Account number 8123 4456 001) Tj ET")
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page(catalog=b"", page=b"", pages=b"/Kids [3 0 R] /Count 1", *more):
    """A one-page PDF written by hand: catalog 1, page tree 2, page 3, content 4, font 5."""
    return assemble(
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog,
        b"<< /Type /Pages %s >>" % pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> %s >>" % page,
        CONTENT,
        FONT,
        *more,
    )


ALERT = b"<< /S /JavaScript /JS (app.alert\\('hello'\\)) >>"


def png_chunk(kind, data):
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))


def png_of_zeros(width, height):
    """A real 1-bit PNG of this size, all black: its rows of zeros compress a thousandfold."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack("!IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def image(format, size=(64, 48), mode="RGB", **options):
    picture = Image.new(mode, size, "white" if mode != "1" else 1)
    for x in range(0, size[0], 4):
        picture.putpixel((x, x % size[1]), 0 if mode in ("1", "L") else (200, 30, 30))
    out = io.BytesIO()
    picture.save(out, format, **options)
    return out.getvalue()


def jpeg_of_size(width, height):
    """A small real JPEG whose frame header then claims this size."""
    data = bytearray(image("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into("!HH", data, sof + 5, height, width)
    return bytes(data)


def tiff_of_size(width, height):
    """A small real 1-bit TIFF whose directory then claims this size."""
    data = bytearray(image("TIFF", (16, 16), mode="1", compression="group4"))
    (ifd,) = struct.unpack_from("<I", data, 4)
    (entries,) = struct.unpack_from("<H", data, ifd)
    for entry in range(entries):
        at = ifd + 2 + entry * 12
        (tag,) = struct.unpack_from("<H", data, at)
        if tag in (256, 257):  # ImageWidth, ImageLength, rewritten as one LONG each
            struct.pack_into("<HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    return bytes(data)


def many_page_tiff(pages):
    frames = [Image.new("1", (8, 8), 1) for _ in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    return out.getvalue()


def zip_of(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, 2, 9, 30, 0)), content)
    return out.getvalue()


def make_all():
    """Return {file name: bytes} for every file of the corpus."""
    rng = random.Random(9)
    good = text_pdf()
    files = {}

    # Not a document at all, whatever the name says.
    files["empty.pdf"] = b""
    files["windows-program.pdf"] = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 44
        + b"\x80\x00\x00\x00"
        + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
        + b"This program cannot be run in DOS mode.\r\r\n$"
        + b"\x00" * 7
        + b"PE\x00\x00"
    )
    files["linux-program.pdf"] = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00"
    files["mac-program.pdf"] = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00" + b"\x00" * 20
    files["shell-script.pdf"] = b"#!/bin/sh\necho 'this is not a bill'\n"
    files["archive.pdf"] = zip_of({"bill.pdf": good})
    files["word-document.pdf"] = zip_of(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
    )
    files["old-office-document.pdf"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    files["compressed.pdf"] = gzip.compress(good, mtime=0)
    files["web-page.pdf"] = (
        b"<!DOCTYPE html>\n<html><head><title>Bill</title></head>"
        b"<body><script>alert('hello')</script></body></html>\n"
    )
    files["web-page-with-bom.png"] = b"\xef\xbb\xbf  \r\n<HTML><body>Account 8123</body></HTML>"
    files["web-page-wrapping-a-pdf.pdf"] = b"<html><body><!--\n" + good + b"\n--></body></html>"
    files["drawing.png"] = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert('hello')</script></svg>\n"
    )
    files["drawing-with-xml-declaration.pdf"] = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>\n'
    )
    files["notes.pdf"] = b"Account number 8123 4456 001\nService address: 150 E Gay St\n"
    files["postscript.pdf"] = (
        b"%!PS-Adobe-3.0\n/Helvetica findfont 12 scalefont setfont\nshowpage\n"
    )
    files["animation.png"] = image("GIF")
    files["photo-webp.jpg"] = image("WEBP")
    files["picture.bmp"] = image("BMP")
    files["iphone-photo.jpg"] = (
        struct.pack("!I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 32
    )
    files["scan-for-a-bill.tif"] = image("TIFF", mode="1", compression="group4")
    files["random-bytes.pdf"] = b"\x00\x13" + bytes(rng.randrange(256) for _ in range(2048))

    # PDFs that pypdf cannot read, or that are not safe to keep.
    writer = PdfWriter(clone_from=io.BytesIO(good))
    writer.encrypt("secret-password")
    files["encrypted.pdf"] = written(writer)
    writer = PdfWriter(clone_from=io.BytesIO(good))
    writer.encrypt("", owner_password="owner-only")
    files["encrypted-without-a-password-to-open.pdf"] = written(writer)
    files["truncated.pdf"] = good[: len(good) // 2]
    files["header-only.pdf"] = b"%PDF-1.7\n"
    files["cross-reference-pointing-nowhere.pdf"] = one_page().replace(
        b"startxref\n", b"startxref\n9"
    )
    files["no-pages.pdf"] = written(PdfWriter())
    files["page-tree-in-a-loop.pdf"] = one_page(pages=b"/Kids [2 0 R 3 0 R] /Count 2")
    files["page-count-that-lies.pdf"] = one_page(pages=b"/Kids [3 0 R] /Count 3")
    files["page-count-of-a-billion.pdf"] = one_page(pages=b"/Kids [3 0 R] /Count 1000000000")
    writer = PdfWriter()
    for _ in range(201):
        writer.add_blank_page(612, 792)
    files["201-pages.pdf"] = written(writer)
    writer = PdfWriter(clone_from=io.BytesIO(good))
    writer.add_open_action(JavaScript("app.alert('hello');"))
    files["javascript-on-open.pdf"] = written(writer)
    files["javascript-in-a-link.pdf"] = one_page(
        b"",
        b"/Annots [6 0 R]",
        b"/Kids [3 0 R] /Count 1",
        b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 730] /A 7 0 R >>",
        ALERT,
    )
    files["javascript-when-a-page-opens.pdf"] = one_page(b"", b"/AA << /O %s >>" % ALERT)
    files["javascript-under-an-escaped-name.pdf"] = one_page(
        b"/Names << /J#61vaScript << /Names [(run) 6 0 R] >> >>",
        b"",
        b"/Kids [3 0 R] /Count 1",
        b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
    )
    files["javascript-in-the-outline.pdf"] = one_page(
        b"/Outlines 6 0 R",
        b"",
        b"/Kids [3 0 R] /Count 1",
        b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
        b"<< /Title (Summary) /Parent 6 0 R /A %s >>" % ALERT,
    )
    files["javascript-in-a-form-field.pdf"] = one_page(
        b"/AcroForm << /Fields [6 0 R] >>",
        b"/Annots [6 0 R]",
        b"/Kids [3 0 R] /Count 1",
        b"<< /FT /Tx /T (amount) /Subtype /Widget /Rect [72 600 300 620] /P 3 0 R "
        b"/AA << /K %s >> >>" % ALERT,
    )
    files["launches-a-program.pdf"] = one_page(
        b"/OpenAction << /S /Launch /Win << /F (cmd.exe) /P (/c echo hello) >> >>"
    )
    writer = PdfWriter(clone_from=io.BytesIO(good))
    writer.add_attachment("invoice.exe", b"MZ not really a program")
    files["attached-file.pdf"] = written(writer)
    files["attached-file-annotation.pdf"] = one_page(
        b"",
        b"/Annots [6 0 R]",
        b"/Kids [3 0 R] /Count 1",
        b"<< /Type /Annot /Subtype /FileAttachment /Rect [72 700 90 720] /FS 7 0 R >>",
        b"<< /Type /Filespec /F (run.bat) >>",
    )
    bomb = zlib.compress(b"0 0 m\n" * (100 * 2**20 // 6), 9)
    files["content-decompressing-to-100-mb.pdf"] = assemble(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(bomb), bomb),
    )

    # Images Pillow cannot open, or that would take too much memory to.
    files["400-megapixels.png"] = png_of_zeros(20_000, 20_000)
    files["100-megapixels.png"] = png_of_zeros(10_000, 10_000)
    files["56-megapixels.png"] = png_of_zeros(8_000, 7_000)
    files["4-gigapixels.jpg"] = jpeg_of_size(65_000, 65_000)
    png = image("PNG", (256, 256))
    files["truncated.png"] = png[: len(png) // 2]
    jpeg = image("JPEG", (256, 256))
    files["truncated.jpg"] = jpeg[: len(jpeg) // 2]
    damaged = bytearray(png)
    damaged[-20] ^= 0xFF  # inside the last IDAT chunk: its CRC no longer matches
    files["damaged-checksum.png"] = bytes(damaged)
    text = zlib.compress(b"A" * (16 * 2**20), 9)
    files["text-decompressing-to-16-mb.png"] = (
        png[:33] + png_chunk(b"zTXt", b"Comment\x00\x00" + text) + png[33:]
    )
    files["jpeg-header-only.jpg"] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13" * 64
    files["fax-40-gigapixels.tif"] = tiff_of_size(200_000, 200_000)
    fax = image("TIFF", (1728, 400), mode="1", compression="group4")
    files["fax-truncated.tif"] = fax[: len(fax) // 2]
    files["fax-201-pages.tif"] = many_page_tiff(201)
    return files


def main():
    files = make_all()
    for name, content in files.items():
        (HERE / name).write_bytes(content)
    print(f"wrote {len(files)} files to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
