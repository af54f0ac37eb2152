"""The PDF side of a signature: the drawing checked, stamped into the document as shown, and
documents joined. The same inputs always give the same bytes (no clock, no random ids).

No Flask. A stamp is an fpdf2 page drawn over one page of the document as a form XObject of its
own: the page's content streams stay the very objects (and bytes) that were shown, wrapped
between a `q` before them and the stamp after them, and every other page, font and image of the
document is copied untouched.
"""

import datetime
import hashlib
import io
import math
from pathlib import Path

from fpdf import FPDF
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
)

FONTS = Path(__file__).resolve().parent / "fonts"
SANS = "DejaVu"  # DejaVu Sans, Book and Bold: Latin, Greek, Cyrillic and more
SCRIPT = "DancingScript"  # a typed signature's script (Latin letters only)
# What stands for a letter none of the fonts can draw (CJK, most emoji): the Unicode
# replacement character, which DejaVu Sans draws, rather than an empty box or an error.
REPLACEMENT = "\ufffd"
# The creation date of a document that has none of its own: a fixed one, so bytes do not change.
FIXED_DATE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_DRAWING_BYTES = 512 * 1024
MIN_DRAWING = (20, 10)
MAX_DRAWING = (4000, 2000)
# A pixel is ink when it is this opaque and at most this light (0-255): a white or transparent
# canvas, or the faint anti-aliasing left by a cleared pad, is not a signature.
INK_ALPHA, INK_LIGHTNESS = 32, 224
# A drawing is kept at up to this many pixels per point of its box (about 300 dpi).
PIXELS_PER_POINT = 4
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_AGAIN = "Clear the box and draw your signature again, or type your name instead."


def check_drawing(png):
    """Raise ValueError, with what to do, when a drawn signature cannot be signed with."""
    _drawing(png)


class Document(FPDF):
    """An fpdf2 document whose pages end with a footer: `footer_text`, then "Page x of y"."""

    footer_text = ""

    def footer(self):
        if not self.footer_text:
            return
        self.set_y(-36)
        self.set_font(SANS, size=8)
        self.set_text_color(90)
        width = self.w - self.l_margin - self.r_margin
        text = drawable(self, self.footer_text)
        # One line, whatever the names in it: cut short with an ellipsis.
        while len(text) > 1 and self.get_string_width(text) > width * 0.75 - 4:
            text = text[:-2] + "…"
        self.cell(width * 0.75, 10, text, align="L")
        self.cell(width * 0.25, 10, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def new_pdf(*, title, created=None, footer=""):
    """Return an fpdf2 document in points (US Letter) with DejaVu Sans as "DejaVu".

    Its creation date is `created` (or a fixed date) and its /ID comes from its content and that
    date, so the same content gives the same bytes. A `footer` is printed on every page with
    its page number.
    """
    pdf = Document(unit="pt", format="letter")
    pdf.footer_text = footer
    pdf.set_creation_date(_aware(created or FIXED_DATE))
    pdf.set_title(title)
    pdf.set_lang("en-US")
    pdf.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(SANS, "B", FONTS / "DejaVuSans-Bold.ttf")
    return pdf


def close(pdf):
    """Let go of the font files of a document that will not be output (output closes them)."""
    for font in pdf.fonts.values():
        if hasattr(font, "close"):
            font.close()


def drawable(pdf, text, family=SANS):
    """Return `text` on one line, each letter the family's font cannot draw replaced."""
    cmap = pdf.fonts[family.lower()].cmap
    return "".join(_letter(char, cmap) for char in str(text or ""))


def _letter(char, cmap):
    if char.isspace() or not char.isprintable():
        return " "
    return char if ord(char) in cmap else REPLACEMENT


def long_date(day):
    """Return a date as a US reader writes it: "November 27, 2026" (whatever the locale)."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def stamp(document, boxes, *, signature, signer_name, signed_on):
    """Return the document with the signature and the date stamped into their boxes.

    `boxes` holds "signature" and "date" (and, if the document has one, "name" for the signer's
    printed name): {"page", "x", "y", "width", "height"} in points from the page's top-left
    corner, pages from 0. `signature` has `drawn_png` (bytes) or `typed_name` (text).
    """
    placed = {
        "signature": ("signature", signature),
        "date": ("date", long_date(signed_on)),
        "name": ("name", signer_name),
    }
    reader = PdfReader(io.BytesIO(document))
    wanted = [(key, _box(boxes, key, len(reader.pages))) for key in placed if key in boxes]
    if not any(key == "signature" for key, _ in wanted):
        raise ValueError("The document has no signature box.")
    pages = sorted({box["page"] for _, box in wanted})
    overlay = FPDF(unit="pt")
    overlay.set_creation_date(FIXED_DATE)
    try:
        for number in pages:
            width, height = _size(reader.pages[number])
            overlay.add_page(format=(width, height))
            for key, box in wanted:
                if box["page"] == number:
                    kind, value = placed[key]
                    _draw(overlay, kind, value, box)
        drawn = bytes(overlay.output())
    finally:
        close(overlay)
    stamps = PdfReader(io.BytesIO(drawn))
    writer = PdfWriter(clone_from=reader)
    for index, number in enumerate(pages):
        _lay_over(writer, writer.pages[number], stamps.pages[index])
    # The first identifier stays the document's own; the second names this signed version.
    first = _first_id(reader) or hashlib.md5(document).digest()
    writer._ID = ArrayObject(
        [ByteStringObject(first), ByteStringObject(hashlib.md5(document + drawn).digest())]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def merge(parts):
    """Return one PDF with the pages of each part, in order."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _drawing(png):
    """Return the drawing's ink, cropped, as an RGBA image; raise ValueError if it is unusable."""
    if not isinstance(png, bytes | bytearray) or not png:
        raise ValueError(f"The signature box was empty. {_AGAIN}")
    if not bytes(png[:8]) == PNG_SIGNATURE:
        raise ValueError(f"The signature did not arrive as a drawing. {_AGAIN}")
    if len(png) > MAX_DRAWING_BYTES:
        raise ValueError(
            f"The drawing is {math.ceil(len(png) / 1024):,} KB, more than the "
            f"{MAX_DRAWING_BYTES // 1024} KB a signature may be. {_AGAIN}"
        )
    damaged = ValueError(f"The drawing arrived damaged. {_AGAIN}")
    try:
        # The plugin's class reads the header alone: the size is checked before any pixel is
        # decoded, so a small file that declares a huge picture is refused, not inflated.
        image = PngImagePlugin.PngImageFile(io.BytesIO(bytes(png)))
    except Exception as error:
        raise damaged from error
    with image:
        width, height = image.size
        if width < MIN_DRAWING[0] or height < MIN_DRAWING[1]:
            raise ValueError(
                f"The drawing is only {width} x {height} pixels, too small to be a signature. "
                f"{_AGAIN}"
            )
        if width > MAX_DRAWING[0] or height > MAX_DRAWING[1]:
            raise ValueError(
                f"The drawing is {width:,} x {height:,} pixels, more than the "
                f"{MAX_DRAWING[0]:,} x {MAX_DRAWING[1]:,} a signature may be. {_AGAIN}"
            )
        try:
            image.load()
            rgba = image.convert("RGBA")
        except Exception as error:  # truncated, a bad checksum, a text chunk that inflates too far
            raise damaged from error
    # Ink: opaque enough and dark enough. The mask is 255 where both hold.
    opaque = rgba.getchannel("A").point(lambda alpha: 255 if alpha >= INK_ALPHA else 0)
    dark = rgba.convert("L").point(lambda light: 255 if light <= INK_LIGHTNESS else 0)
    ink = Image.new("L", rgba.size, 0)
    ink.paste(dark, mask=opaque)
    found = ink.getbbox()
    if found is None:
        raise ValueError(f"The signature box is blank: nothing was drawn in it. {_AGAIN}")
    # A white background becomes transparent, so the stamp never hides the line beneath it.
    rgba.putalpha(Image.composite(rgba.getchannel("A"), ink, ink))
    left, top, right, bottom = found
    margin = max(1, min(rgba.size) // 50)
    return rgba.crop(
        (
            max(0, left - margin),
            max(0, top - margin),
            min(rgba.width, right + margin),
            min(rgba.height, bottom + margin),
        )
    )


def _box(boxes, key, pages):
    box = boxes[key]
    try:
        page = int(box["page"])
        x, y, width, height = (float(box[name]) for name in ("x", "y", "width", "height"))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"The {key} box is not a page and a rectangle: {box!r}") from error
    if not 0 <= page < pages:
        raise ValueError(f"The {key} box is on page {page + 1}; the document has {pages}.")
    if not all(math.isfinite(v) for v in (x, y, width, height)) or width <= 0 or height <= 0:
        raise ValueError(f"The {key} box is not a rectangle: {box!r}")
    return {"page": page, "x": x, "y": y, "width": width, "height": height}


def _size(page):
    box = page.mediabox
    return float(box.width), float(box.height)


def _draw(pdf, kind, value, box):
    if kind == "signature":
        if value.drawn_png is not None:
            _draw_image(pdf, _drawing(value.drawn_png), box)
        else:
            _draw_typed(pdf, value.typed_name or "", box)
    elif kind == "date":
        # The date is ASCII: a core font draws it without embedding one.
        pdf.set_font("Helvetica", size=_fit(pdf, "Helvetica", value, box, 11))
        _baseline_text(pdf, value, box)
    else:
        if SANS.lower() not in pdf.fonts:
            pdf.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
        text = drawable(pdf, value)
        pdf.set_font(SANS, size=_fit(pdf, SANS, text, box, 11))
        _baseline_text(pdf, text, box)


def _draw_image(pdf, image, box):
    # Kept at about 300 dpi of the box: a phone's 3x canvas adds bytes, not sharpness.
    most = (
        max(1, round(box["width"] * PIXELS_PER_POINT)),
        max(1, round(box["height"] * PIXELS_PER_POINT)),
    )
    if image.width > most[0] or image.height > most[1]:
        image.thumbnail(most, Image.Resampling.LANCZOS)
    scale = min(box["width"] / image.width, box["height"] / image.height)
    width, height = image.width * scale, image.height * scale
    # On the line: at the bottom of the box, from its left edge.
    pdf.image(image, x=box["x"], y=box["y"] + box["height"] - height, w=width, h=height)


def _draw_typed(pdf, name, box):
    """Draw a typed name in the script font; letters it lacks in DejaVu Sans (or replaced)."""
    if SCRIPT.lower() not in pdf.fonts:
        pdf.add_font(SCRIPT, "", FONTS / "DancingScript-Regular.ttf")
    script = pdf.fonts[SCRIPT.lower()].cmap
    runs = []
    for char in " ".join(name.split()):
        family = SCRIPT if char == " " or ord(char) in script else SANS
        if family == SANS:
            if SANS.lower() not in pdf.fonts:
                pdf.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
            char = drawable(pdf, char)
        if runs and runs[-1][0] == family:
            runs[-1][1] += char
        else:
            runs.append([family, char])
    if not runs:
        return
    width = 0.0
    for family, text in runs:
        pdf.set_font(family, size=1)
        width += pdf.get_string_width(text)
    size = min(box["height"] * 0.8, box["width"] * 0.95 / width) if width else box["height"]
    # The baseline a fifth of the box from its bottom leaves room for the script's descenders.
    x, y = box["x"], box["y"] + box["height"] - min(box["height"] * 0.22, size * 0.3)
    for family, text in runs:
        pdf.set_font(family, size=size)
        pdf.text(x, y, text)
        x += pdf.get_string_width(text)


def _fit(pdf, family, text, box, largest):
    pdf.set_font(family, size=1)
    width = pdf.get_string_width(text) or 1
    return max(1.0, min(largest, box["height"] * 0.7, box["width"] * 0.98 / width))


def _baseline_text(pdf, text, box):
    # Centred on the box's height: the baseline a third of the font size below the middle.
    pdf.text(box["x"], box["y"] + box["height"] / 2 + pdf.font_size * 0.35, text)


def _lay_over(writer, page, over):
    """Draw the overlay page `over` on `page`, leaving the page's own streams as they were."""
    width, height = _size(over)
    left, bottom = (float(value) for value in page.mediabox.lower_left)
    form = DecodedStreamObject()
    form.set_data(over.get_contents().get_data())
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                [NumberObject(0), NumberObject(0), FloatObject(width), FloatObject(height)]
            ),
            NameObject("/Matrix"): ArrayObject(
                [NumberObject(1), NumberObject(0), NumberObject(0), NumberObject(1)]
                + [FloatObject(left), FloatObject(bottom)]
            ),
            NameObject("/Resources"): over["/Resources"].get_object().clone(writer),
        }
    )
    form_ref = writer._add_object(form.flate_encode())
    # The page gets resources of its own: fpdf2 pages share one dictionary, and the other
    # pages must not change at all.
    resources = DictionaryObject(_inherited(page, "/Resources") or {})
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    name, number = "/PortDeskStamp", 1
    while name in xobjects:
        number += 1
        name = f"/PortDeskStamp{number}"
    xobjects[NameObject(name)] = form_ref
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    contents = page.get("/Contents")
    if contents is None:
        shown = []
    elif isinstance(contents.get_object(), ArrayObject):
        shown = list(contents.get_object())
    else:
        shown = [contents]
    # The page's own streams may leave the graphics state changed: q ... Q restores it first.
    page[NameObject("/Contents")] = ArrayObject(
        [_stream(writer, b"q\n"), *shown, _stream(writer, f"\nQ q {name} Do Q\n".encode())]
    )


def _stream(writer, data):
    stream = DecodedStreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def _inherited(page, key):
    node = page
    while node is not None:
        if key in node:
            return node[key].get_object()
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    return None


def _first_id(reader):
    found = reader.trailer.get("/ID")
    if not isinstance(found, ArrayObject) or not found:
        return None
    value = found[0].get_object()
    return getattr(value, "original_bytes", None) or None


def _aware(moment):
    if isinstance(moment, datetime.datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    return datetime.datetime(moment.year, moment.month, moment.day, tzinfo=datetime.UTC)
