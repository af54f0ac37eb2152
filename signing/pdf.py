"""The PDF side of a signature: the drawing checked, stamped into the document as shown, and
documents joined; and the fpdf2 set-up the LOA and the certificate share. The same inputs always
give the same bytes (no clock, no random ids).

No Flask. A stamp is a form XObject drawn over its page: the page's content streams stay the
very objects (and bytes) that were shown, wrapped between a `q` before them and the stamp after
them, and every other page, font and image of the document is copied untouched. The stamp is
written here rather than by fpdf2, because fpdf2 would embed a subset of a font for every typed
name (ten times the cost of copying a 1,000-number LOA): a typed name is drawn as the outlines
of its letters (a signature is a mark, not text to search), the date as Helvetica text (one of
the fonts every reader has), a drawing as its ink's colour seen through its opacity (a soft mask).
"""

import datetime
import hashlib
import io
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import CORE_FONTS_CHARWIDTHS
from PIL import Image, ImageChops, ImageStat, PngImagePlugin
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
# A typed name's ink: the dark blue of a pen.
TYPED_INK = (0.05, 0.1, 0.4)
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


@dataclass(frozen=True, eq=False)
class Drawing:
    """A drawn signature as the stamp needs it: one ink, and its opacity cropped to the ink."""

    ink: tuple[int, int, int]  # the colour, 0-255 each
    alpha: Image.Image  # mode "L": 0 where there is no ink, 255 where it covers

    @property
    def size(self):
        return self.alpha.size


def check_drawing(png):
    """Return the drawing as the stamp needs it; raise ValueError, with what to do, when a drawn
    signature cannot be signed with."""
    return _drawing(png)


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
    corner, pages from 0. `signature` has `drawn_png` (bytes) or `typed_name` (text); a drawing
    already checked may come as `signature.drawing` (what `check_drawing` gave), so that its PNG
    is not decoded a second time.
    """
    reader = PdfReader(io.BytesIO(document))
    pages = len(reader.pages)
    wanted = {key: _box(boxes, key, pages) for key in _MARKS if key in boxes}
    if "signature" not in wanted:
        raise ValueError("The document has no signature box.")
    # A drawing is read (and refused) before any page is copied.
    drawing = getattr(signature, "drawing", None)
    if drawing is None and signature.drawn_png is not None:
        drawing = _drawing(signature.drawn_png)
    if drawing is None and not "".join((signature.typed_name or "").split()):
        raise ValueError("The signature has neither a drawing nor a typed name.")
    writer = PdfWriter(clone_from=reader)
    drawn = []
    for number in sorted({box["page"] for box in wanted.values()}):
        page = writer.pages[number]
        marks = _Marks(writer, float(page.mediabox.height))
        for key, box in wanted.items():
            if box["page"] != number:
                continue
            if key == "signature" and drawing is not None:
                marks.image(drawing, box)
            elif key == "signature":
                marks.outlines(signature.typed_name or "", box, script=True)
            elif key == "date":
                marks.text(long_date(signed_on), box)
            else:
                marks.outlines(signer_name or "", box, script=False)
        drawn.append(_lay_over(writer, page, marks))
    # The first identifier stays the document's own; the second names this signed version.
    first = _first_id(reader) or hashlib.md5(document).digest()
    writer._ID = ArrayObject(
        [
            ByteStringObject(first),
            ByteStringObject(hashlib.md5(document + b"".join(drawn)).digest()),
        ]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_MARKS = ("signature", "date", "name")


def hashes_in(data):
    """Return every SHA-256 (64 hex digits) printed in a PDF's text, however its lines broke."""
    reader = PdfReader(io.BytesIO(data))
    text = "".join("".join((page.extract_text() or "").split()) for page in reader.pages)
    return set(re.findall(r"(?=([0-9a-f]{64}))", text))


def merge(parts):
    """Return one PDF with the pages of each part, in order."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _drawing(png):
    """Return the drawing's ink and its opacity, cropped; raise ValueError if it is unusable."""
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
    blank = ValueError(f"The signature box is blank: nothing was drawn in it. {_AGAIN}")
    # What is not transparent first (on a signature pad's canvas, only the strokes), so the
    # finer work below is done on that part of the canvas alone.
    stroked = rgba.getbbox(alpha_only=True)
    if stroked is None:
        raise blank
    rgba = rgba.crop(stroked)
    # Ink is what is dark enough; its opacity is the drawing's own (the lesser of the two: the
    # opacity where a pixel is dark, none where it is light). A white background thus becomes
    # transparent, and the stamp never hides the line beneath it.
    alpha = ImageChops.darker(rgba.getchannel("A"), rgba.convert("L").point(_DARK))
    found = alpha.point(_OPAQUE).getbbox()
    if found is None:
        raise blank
    alpha = alpha.crop(found)
    return Drawing(ink=_ink(rgba.crop(found), alpha), alpha=alpha)


def _ink(rgba, alpha):
    """Return the colour of a drawing's ink: the median of its pixels it covers (nearly) whole.

    A pen draws in one colour (signature_pad's is the page's dark blue); what the edges of its
    strokes blend with is the opacity's business, so one colour is all the stamp needs.
    """
    found = ImageStat.Stat(rgba, alpha.point(_SOLID))
    if not found.count[0]:  # a faint drawing: every pixel of ink has its say
        found = ImageStat.Stat(rgba, alpha.point(_OPAQUE))
    red, green, blue, _ = found.median
    return red, green, blue


_DARK = [255 if light <= INK_LIGHTNESS else 0 for light in range(256)]
_OPAQUE = [255 if alpha >= INK_ALPHA else 0 for alpha in range(256)]
# Where the ink covers a pixel this much, the pixel's colour is the ink's: a canvas keeps its
# colours multiplied by their opacity, so those of the strokes' soft edges are rounded.
_SOLID = [255 if alpha >= 240 else 0 for alpha in range(256)]


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


class _Marks:
    """What is stamped on one page: PDF drawing operators and the resources they name.

    Boxes are given from the page's top-left corner; PDF counts from the bottom-left.
    """

    def __init__(self, writer, page_height):
        self.writer, self.page_height = writer, page_height
        self.ops, self.images = [], DictionaryObject()
        self.uses_helvetica = False

    def image(self, drawing, box):
        """Draw a drawing scaled to fit the box, keeping its shape, on the box's bottom line."""
        alpha = drawing.alpha
        # Kept at about 300 dpi of the box: a phone's 3x canvas adds bytes, not sharpness.
        factor = math.ceil(
            max(
                alpha.width / (box["width"] * PIXELS_PER_POINT),
                alpha.height / (box["height"] * PIXELS_PER_POINT),
            )
        )
        if factor > 1:
            alpha = alpha.reduce(factor)
        scale = min(box["width"] / alpha.width, box["height"] / alpha.height)
        width, height = alpha.width * scale, alpha.height * scale
        name = f"/Drawing{len(self.images) + 1}"
        self.images[NameObject(name)] = _image(self.writer, drawing.ink, alpha)
        bottom = self.page_height - box["y"] - box["height"]
        self.ops.append(
            f"q {_n(width)} 0 0 {_n(height)} {_n(box['x'])} {_n(bottom)} cm {name} Do Q"
        )

    def text(self, text, box):
        """Write ASCII text in Helvetica, as large as fits (at most 11 pt), centred on the box."""
        widths = CORE_FONTS_CHARWIDTHS["helvetica"]
        width = sum(widths.get(char, 556) for char in text) / 1000 or 1
        size = max(1.0, min(11, box["height"] * 0.7, box["width"] * 0.98 / width))
        baseline = self.page_height - (box["y"] + box["height"] / 2 + size * 0.35)
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        self.ops.append(
            f"BT 0 g /Helvetica {_n(size)} Tf {_n(box['x'])} {_n(baseline)} Td ({escaped}) Tj ET"
        )
        self.uses_helvetica = True

    def outlines(self, text, box, *, script):
        """Draw text as the outlines of its letters, as large as fits, on the box's bottom line.

        With `script` (a typed signature): Dancing Script, in a pen's blue; letters it lacks in
        DejaVu Sans; a letter neither has as DejaVu's replacement character.
        """
        fonts = (_outlines(SCRIPT), _outlines(SANS)) if script else (_outlines(SANS),)
        glyphs = [_glyph(fonts, char) for char in " ".join(text.split())]
        width = sum(font.advance(name) for font, name in glyphs)
        if not width:
            return
        largest = box["height"] * (0.8 if script else 0.7)
        size = min(largest, box["width"] * 0.95 / width)
        if script:
            # Room below the baseline for the script's descenders.
            baseline = box["y"] + box["height"] - min(box["height"] * 0.22, size * 0.3)
            ink = TYPED_INK
        else:
            baseline = box["y"] + box["height"] / 2 + size * 0.35
            ink = (0, 0, 0)
        x, y = box["x"], self.page_height - baseline
        self.ops.append(f"q {' '.join(_n(part) for part in ink)} rg")
        for font, name in glyphs:
            outline = font.outline(name)
            if outline:
                scale = _n(size / font.units)
                self.ops.append(f"q {scale} 0 0 {scale} {_n(x)} {_n(y)} cm {outline} f Q")
            x += font.advance(name) * size
        self.ops.append("Q")

    def resources(self):
        resources = DictionaryObject()
        if self.images:
            resources[NameObject("/XObject")] = self.images
        if self.uses_helvetica:
            helvetica = DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject("/Helvetica"),
                    NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
                }
            )
            resources[NameObject("/Font")] = DictionaryObject(
                {NameObject("/Helvetica"): self.writer._add_object(helvetica)}
            )
        return resources


def _image(writer, ink, alpha):
    """Add a drawing to the PDF: an image of its ink's colour with its opacity as a soft mask.

    The colour image has one bit a pixel, every one the single colour of an /Indexed space, so
    it costs next to nothing to make or to store; all the drawing is in the mask. It has the
    mask's size, as most readers expect (PDF allows another, but not every reader follows).
    """
    mask = _image_stream(alpha.tobytes(), alpha.size, NameObject("/DeviceGray"), 8)
    palette = ArrayObject(
        [
            NameObject("/Indexed"),
            NameObject("/DeviceRGB"),
            NumberObject(0),
            ByteStringObject(bytes(ink)),
        ]
    )
    rows = (alpha.width + 7) // 8 * alpha.height
    colour = _image_stream(bytes(rows), alpha.size, palette, 1)
    colour[NameObject("/SMask")] = writer._add_object(mask)
    return writer._add_object(colour)


def _image_stream(data, size, color_space, bits):
    stream = DecodedStreamObject()
    stream.set_data(data)
    stream.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(size[0]),
            NameObject("/Height"): NumberObject(size[1]),
            NameObject("/ColorSpace"): color_space,
            NameObject("/BitsPerComponent"): NumberObject(bits),
        }
    )
    # The fastest compression: a drawing is mostly empty, and is stamped while the signer waits.
    return stream.flate_encode(level=1)


class _Outlines:
    """A font's letters as PDF path operators (in font units), read once per process."""

    def __init__(self, path):
        # Read from bytes: no file stays open.
        font = TTFont(io.BytesIO(path.read_bytes()))
        self.cmap = font.getBestCmap()
        self.units = font["head"].unitsPerEm
        self._advances = {name: advance for name, (advance, _) in font["hmtx"].metrics.items()}
        self._glyphs = font.getGlyphSet()
        self._paths = {}
        # Outlines are decoded on first use; threads serving two signers must not share that.
        self._lock = threading.Lock()

    def advance(self, name):
        """Return the glyph's advance in ems."""
        return self._advances[name] / self.units

    def outline(self, name):
        found = self._paths.get(name)
        if found is None:
            with self._lock:
                pen = _PathPen(self._glyphs)  # accents are other glyphs, drawn in place
                self._glyphs[name].draw(pen)
                found = self._paths[name] = " ".join(pen.ops)
        return found


class _PathPen(BasePen):
    """A fontTools pen that writes PDF path operators."""

    def __init__(self, glyphs):
        super().__init__(glyphSet=glyphs)
        self.ops = []

    def _moveTo(self, point):
        self.ops.append(f"{_n(point[0])} {_n(point[1])} m")

    def _lineTo(self, point):
        self.ops.append(f"{_n(point[0])} {_n(point[1])} l")

    def _curveToOne(self, one, two, three):
        self.ops.append(" ".join(_n(value) for value in (*one, *two, *three)) + " c")

    def _qCurveToOne(self, control, end):
        # A quadratic curve is the cubic with control points two thirds of the way to its own.
        start = self._getCurrentPoint()
        first = (
            start[0] + 2 * (control[0] - start[0]) / 3,
            start[1] + 2 * (control[1] - start[1]) / 3,
        )
        second = (end[0] + 2 * (control[0] - end[0]) / 3, end[1] + 2 * (control[1] - end[1]) / 3)
        self._curveToOne(first, second, end)

    def _closePath(self):
        self.ops.append("h")


_FONT_FILES = {SCRIPT: "DancingScript-Regular.ttf", SANS: "DejaVuSans.ttf"}
_LOADED = {}
_LOADING = threading.Lock()


def _outlines(family):
    with _LOADING:
        if family not in _LOADED:
            _LOADED[family] = _Outlines(FONTS / _FONT_FILES[family])
        return _LOADED[family]


def _glyph(fonts, char):
    """Return (font, glyph name) of the first font that has the letter, or the replacement."""
    if char.isspace() or not char.isprintable():
        char = " "
    for font in fonts:
        name = font.cmap.get(ord(char))
        if name is not None:
            return font, name
    sans = _outlines(SANS)
    return sans, sans.cmap[ord(REPLACEMENT)]


def _n(value):
    """Return a number as PDF operators take it: at most three decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _lay_over(writer, page, marks):
    """Draw the marks on `page`, leaving the page's own streams as they were; return them."""
    left, bottom, right, top = (float(value) for value in page.mediabox)
    content = "\n".join(marks.ops).encode()
    form = DecodedStreamObject()
    form.set_data(content)
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                [NumberObject(0), NumberObject(0)] + [_number(right - left), _number(top - bottom)]
            ),
            # The marks count from the page's corner; a media box may not start at 0 0.
            NameObject("/Matrix"): ArrayObject(
                [NumberObject(1), NumberObject(0), NumberObject(0), NumberObject(1)]
                + [_number(left), _number(bottom)]
            ),
            NameObject("/Resources"): marks.resources(),
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
    return content


def _number(value):
    return NumberObject(int(value)) if float(value).is_integer() else FloatObject(value)


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
