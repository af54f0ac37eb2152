"""The PDF side of a signature: the drawing's checks, the stamp, the merge and the certificate."""

import datetime
import hashlib
import io
import math
import os
import random
import shutil
import struct
import subprocess
import threading
import zlib

import pytest
from PIL import Image, ImageChops, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from signing import certificate, pdf
from signing.envelopes import Signature

SIGNED_ON = datetime.date(2026, 11, 27)
BOXES = {
    "signature": {"page": 1, "x": 72, "y": 500, "width": 200, "height": 40},
    "date": {"page": 1, "x": 350, "y": 520, "width": 120, "height": 18},
}


def png(size=(300, 100), *, mode="RGBA", background=(255, 255, 255, 0), ink=(0, 0, 0, 255)):
    """Return a PNG of a stroke across the canvas (or of nothing when ink is None)."""
    image = Image.new(mode, size, background)
    if ink is not None:
        width, height = size
        ImageDraw.Draw(image).line(
            [
                (width // 10, height * 8 // 10),
                (width // 2, height // 5),
                (width * 9 // 10, height // 2),
            ],
            fill=ink,
            width=max(1, min(size) // 20),
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _declared(width, height, pixels=b""):
    """Return a PNG whose header declares a size, with whatever pixel data is given."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        pdf.PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(pixels))
        + _chunk(b"IEND", b"")
    )


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (0, 0, 0)).save(out, "JPEG")
    return out.getvalue()


def _noise():
    # Random pixels do not compress: about 720 KB.
    data = random.Random(7).randbytes(600 * 300 * 4)
    out = io.BytesIO()
    Image.frombytes("RGBA", (600, 300), data).save(out, "PNG")
    return out.getvalue()


def _text_bomb():
    # A text chunk that inflates to 50 MB inside a small drawing.
    good = png()
    bomb = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * 50_000_000, 9))
    return good[:33] + bomb + good[33:]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, I am a signature", "did not arrive as a drawing"),
        (_jpeg(), "did not arrive as a drawing"),  # a JPEG, whatever its name says
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "did not arrive as a drawing"),
        (png((1, 1)), "only 1 x 1 pixels"),
        (png((19, 40)), "only 19 x 40 pixels"),
        (png((40, 9)), "only 40 x 9 pixels"),
        (png((4001, 100)), "4,001 x 100 pixels, more than the 4,000 x 2,000"),
        (png((100, 2001)), "100 x 2,001 pixels"),
        (_declared(100_000, 100_000), "100,000 x 100,000 pixels"),  # a bomb: 40 GB of pixels
        (_text_bomb(), "damaged"),
        (_noise(), "more than the 512 KB"),
        (png(ink=None), "blank"),  # transparent
        (png(background=(255, 255, 255, 255), ink=None), "blank"),  # white
        (png(mode="RGB", background=(255, 255, 255), ink=None), "blank"),
        (png(background=(255, 255, 255, 255), ink=(250, 250, 250, 255)), "blank"),  # no ink
        (png(ink=(0, 0, 0, 10)), "blank"),  # ink too faint to see
        (png()[:-40], "damaged"),  # cut short
        (png()[:60] + b"\x00" * 20 + png()[80:], "damaged"),
    ],
)
def test_a_drawing_that_cannot_sign_is_refused_with_what_to_do(data, message):
    with pytest.raises(ValueError, match=message) as refused:
        pdf.check_drawing(data)
    assert "draw your signature again, or type your name" in str(refused.value)


@pytest.mark.parametrize(
    "data",
    [
        png(),  # the pad's: ink on a transparent canvas
        png(mode="RGB", background=(255, 255, 255), ink=(0, 0, 60)),
        png(mode="L", background=255, ink=0),
        png(mode="LA", background=(255, 0), ink=(0, 255)),
        png(mode="I;16", background=65535, ink=0),  # 16 bits a pixel
        png((20, 10)),
        png((4000, 2000)),
    ],
)
def test_a_drawing_with_ink_is_accepted(data):
    pdf.check_drawing(data)


def document(pages=3):
    """Return a PDF of `pages` pages, each saying its number."""
    doc = pdf.new_pdf(title="Test document")
    for number in range(pages):
        doc.add_page()
        doc.set_font(pdf.SANS, size=12)
        doc.text(72, 72, f"This is page {number + 1}")
    return bytes(doc.output())


def _raw_streams(page):
    contents = page["/Contents"].get_object()
    streams = contents if isinstance(contents, list) else [contents]
    return [stream.get_object()._data for stream in streams]


def test_stamp_draws_on_the_signature_page_only_and_keeps_every_other_page_as_it_was():
    original = document()
    stamped = pdf.stamp(
        original,
        BOXES,
        signature=Signature(drawn_png=png()),
        signer_name="Jane Doe",
        signed_on=SIGNED_ON,
    )
    before, after = PdfReader(io.BytesIO(original)), PdfReader(io.BytesIO(stamped))
    assert len(after.pages) == 3
    for number in (0, 2):
        assert _raw_streams(after.pages[number]) == _raw_streams(before.pages[number])
        assert after.pages[number].extract_text() == f"This is page {number + 1}"
        assert "/XObject" not in after.pages[number]["/Resources"]
    signed_page = after.pages[1]
    streams = _raw_streams(signed_page)
    # The page's own stream is kept whole, between a q and the stamp.
    assert streams[1:-1] == _raw_streams(before.pages[1])
    assert streams[0] == b"q\n"
    assert streams[-1].strip().endswith(b"Do Q")
    assert signed_page.extract_text() == "This is page 2\nNovember 27, 2026"
    stamp_form = signed_page["/Resources"]["/XObject"]["/PortDeskStamp"].get_object()
    images = stamp_form["/Resources"]["/XObject"]
    assert len(images) == 1  # the drawing, with its transparency as a soft mask
    assert "/SMask" in next(iter(images.values())).get_object()
    assert [page.mediabox for page in after.pages] == [page.mediabox for page in before.pages]


def test_a_drawing_is_scaled_to_its_box_keeping_its_shape():
    stamped = pdf.stamp(
        document(),
        BOXES,
        signature=Signature(drawn_png=png((1200, 400))),
        signer_name="Jane Doe",
        signed_on=SIGNED_ON,
    )
    page = PdfReader(io.BytesIO(stamped)).pages[1]
    form = page["/Resources"]["/XObject"]["/PortDeskStamp"].get_object()
    drawn = form.get_data().decode()
    # fpdf2 places an image with "w 0 0 h x y cm": no wider or taller than the box.
    width, _, _, height, x, y = (float(v) for v in drawn.split(" cm")[0].split()[-6:])
    box = BOXES["signature"]
    assert 0 < width <= box["width"] + 0.01 and 0 < height <= box["height"] + 0.01
    assert width == pytest.approx(box["width"]) or height == pytest.approx(box["height"])
    assert x == pytest.approx(box["x"])
    page_height = float(page.mediabox.height)
    assert page_height - box["y"] - box["height"] <= y <= page_height - box["y"]


PEN = (11, 42, 91)  # signature_pad's ink on the signing pages


def pad_png(size=(300, 140), ink=PEN):
    """Return a drawing as the pad sends it: strokes of one ink on transparency, whose soft
    edges are the ink at part opacity."""
    width, height = size
    strokes = Image.new("L", (width * 2, height * 2), 0)
    # Drawn twice as large, then halved: from 5% to 95% of the width, 15% to 74% of the height.
    points = [
        (width * (10 + 18 * n) // 100, height * (30 + n * 37 % 141) // 100) for n in range(11)
    ]
    ImageDraw.Draw(strokes).line(points, fill=255, width=10, joint="curve")
    alpha = strokes.reduce(2)
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((*ink, 255), mask=alpha.point(lambda value: 255 * (value > 0)))
    image.putalpha(alpha)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_checked_drawing_is_its_ink_and_its_opacity_cropped_to_it():
    drawing = pdf.check_drawing(pad_png())
    assert drawing.ink == PEN
    # The strokes' middles run over 270 x 83 pixels; the strokes are 5 wide.
    assert drawing.size == (274, 87)
    low, high = drawing.alpha.getextrema()
    assert (low, high) == (0, 255)
    assert any(0 < value < 255 for value in drawing.alpha.tobytes())  # soft edges


@pytest.mark.parametrize(
    ("data", "ink"),
    [
        (png(mode="RGB", background=(255, 255, 255), ink=(0, 0, 0)), (0, 0, 0)),
        (png(mode="L", background=255, ink=0), (0, 0, 0)),
        (png(ink=(120, 20, 20, 255)), (120, 20, 20)),
    ],
)
def test_the_ink_of_a_drawing_is_its_strokes_colour_whatever_its_background(data, ink):
    assert pdf.check_drawing(data).ink == ink


def test_a_drawing_is_stamped_as_one_ink_seen_through_its_opacity():
    drawing = pdf.check_drawing(pad_png())
    stamped = pdf.stamp(
        document(),
        BOXES,
        signature=Signature(drawn_png=pad_png(), drawing=drawing),
        signer_name="Jane Doe",
        signed_on=SIGNED_ON,
    )
    page = PdfReader(io.BytesIO(stamped)).pages[1]
    form = page["/Resources"]["/XObject"]["/PortDeskStamp"].get_object()
    (image,) = (ref.get_object() for ref in form["/Resources"]["/XObject"].values())
    mask = image["/SMask"].get_object()
    indexed, base, highest, palette = image["/ColorSpace"]
    assert (indexed, base, highest, palette.original_bytes) == (
        "/Indexed",
        "/DeviceRGB",
        0,
        bytes(PEN),
    )
    assert image["/BitsPerComponent"] == 1 and set(image.get_data()) == {0}
    # The mask is the opacity (at most 4 pixels a point of the box), the same size as the image.
    assert (mask["/Width"], mask["/Height"]) == (image["/Width"], image["/Height"])
    assert (mask["/ColorSpace"], mask["/BitsPerComponent"]) == ("/DeviceGray", 8)
    assert mask["/Width"] <= BOXES["signature"]["width"] * pdf.PIXELS_PER_POINT
    assert (
        mask.get_data()
        == drawing.alpha.reduce(
            math.ceil(drawing.size[1] / (BOXES["signature"]["height"] * pdf.PIXELS_PER_POINT))
        ).tobytes()
    )


def _raster(data, page, dpi=144):
    """Return a page of the PDF as poppler's pdftoppm draws it (RGB)."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: apt-get install poppler-utils")
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")
    done = subprocess.run(
        ["pdftoppm", "-f", str(page + 1), "-l", str(page + 1), "-r", str(dpi), "-png"],
        input=data,
        capture_output=True,
        check=True,
    )
    return Image.open(io.BytesIO(done.stdout)).convert("RGB")


def _pixels(box, dpi=144, grow=0):
    scale = dpi / 72
    return (
        round((box["x"] - grow) * scale),
        round((box["y"] - grow) * scale),
        round((box["x"] + box["width"] + grow) * scale),
        round((box["y"] + box["height"] + grow) * scale),
    )


def test_a_drawn_signature_renders_in_its_box_in_its_ink_and_nowhere_else():
    original = document()
    stamped = pdf.stamp(
        original,
        BOXES,
        signature=Signature(drawn_png=pad_png()),
        signer_name="Jane Doe",
        signed_on=SIGNED_ON,
    )
    before, after = _raster(original, 1), _raster(stamped, 1)
    changed = ImageChops.difference(before, after).convert("L").point(lambda v: 255 * (v > 24))
    signature_box, date_box = _pixels(BOXES["signature"]), _pixels(BOXES["date"])
    inside = changed.crop(signature_box)
    # Where the page changed, beside the date: the signature box, and nothing outside it (a
    # pixel's slack for the edges' smoothing).
    elsewhere = changed.copy()
    elsewhere.paste(0, _pixels(BOXES["signature"], grow=0.5))
    elsewhere.paste(0, date_box)
    assert elsewhere.getbbox() is None
    left, top, right, bottom = inside.getbbox()
    width, height = signature_box[2] - signature_box[0], signature_box[3] - signature_box[1]
    # Scaled to fit the box keeping its shape, from its left edge: a 274 x 87 drawing fills the
    # height of a 5:1 box, and 274 / 87 of its height across.
    assert (left, top) == (0, 0) and bottom == height
    assert abs(right - height * 274 / 87) <= 2
    # The strokes are in the pen's ink where they cover, on white paper around them.
    ink = after.crop(signature_box)
    darkest = min(ink.get_flattened_data(), key=sum)
    assert all(abs(got - want) <= 3 for got, want in zip(darkest, PEN, strict=True))
    assert ink.getpixel((width - 1, 0)) == (255, 255, 255)


def test_the_same_signature_gives_the_same_bytes_and_another_date_others():
    original = document()
    signature = Signature(drawn_png=png())
    first, second = (
        pdf.stamp(original, BOXES, signature=signature, signer_name="J", signed_on=SIGNED_ON)
        for _ in range(2)
    )
    later = pdf.stamp(
        original,
        BOXES,
        signature=signature,
        signer_name="J",
        signed_on=SIGNED_ON + datetime.timedelta(days=1),
    )
    assert first == second
    assert later != first
    assert "November 28, 2026" in PdfReader(io.BytesIO(later)).pages[1].extract_text()


def _stamp_form(page):
    """Return the operators of the stamp drawn on a page."""
    return page["/Resources"]["/XObject"]["/PortDeskStamp"].get_object().get_data().decode()


def _typed(name):
    return pdf.stamp(
        document(),
        BOXES,
        signature=Signature(typed_name=name),
        signer_name=name,
        signed_on=SIGNED_ON,
    )


@pytest.mark.parametrize(
    "typed",
    ["Jane Doe", "José Müller-Øst", "Ωμέγα Łódź Жанна", "山田 太郎", "Jane 😀 🫠", "x" * 100],
)
def test_a_typed_name_is_drawn_letter_by_letter_whatever_its_letters(typed):
    page = PdfReader(io.BytesIO(_typed(typed))).pages[1]
    drawn = _stamp_form(page)
    # Each letter is its outline, filled in a pen's blue; the date stays text.
    assert drawn.count(" f Q") == len(typed.replace(" ", ""))
    assert "0.05 0.1 0.4 rg" in drawn
    assert page.extract_text() == "This is page 2\nNovember 27, 2026"


def test_letters_no_font_has_are_drawn_as_the_replacement_character():
    assert _typed("山田 太郎") == _typed("\ufffd\ufffd \ufffd\ufffd")
    assert _typed("Ωμέγα") != _typed("\ufffd" * 5)  # DejaVu Sans has Greek
    assert _typed("Jane") != _typed("\ufffd" * 4)


def test_a_typed_name_fits_its_box_however_long():
    short, long = (
        PdfReader(io.BytesIO(_typed(name))).pages[1] for name in ("Jo", "Josephine " * 10)
    )

    def widest(page):
        # Each letter is placed with "s 0 0 s x y cm": the last letter starts furthest right.
        starts = [
            float(part.split()[-2])
            for part in _stamp_form(page).split(" cm ")[:-1]
            if part.split()[-6:-2] != ["0", "0", "0", "0"]
        ]
        return max(starts)

    box = BOXES["signature"]
    assert box["x"] < widest(short) < widest(long) < box["x"] + box["width"]


@pytest.mark.parametrize(
    "empty", [Signature(), Signature(typed_name=""), Signature(typed_name=" \n ")]
)
def test_a_signature_with_nothing_to_draw_is_refused(empty):
    with pytest.raises(ValueError, match="neither a drawing nor a typed name"):
        pdf.stamp(document(), BOXES, signature=empty, signer_name="J", signed_on=SIGNED_ON)


def test_signers_stamping_at_once_get_what_each_would_alone(monkeypatch):
    # The letters' outlines are read once per process and shared: a fresh process's first
    # signers arrive together.
    names = ["Jane Doe", "José Müller", "Ωμέγα", "Жанна Ли", "Zoë Ångström", "山田", "Ivy", "Q"]
    alone = {name: _typed(name) for name in names}
    monkeypatch.setattr(pdf, "_LOADED", {})
    barrier = threading.Barrier(len(names))
    found = {}

    def sign(name):
        barrier.wait()
        found[name] = _typed(name)

    threads = [threading.Thread(target=sign, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == alone


def test_a_name_box_gets_the_signers_printed_name():
    boxes = dict(BOXES, name={"page": 2, "x": 72, "y": 600, "width": 200, "height": 16})
    stamped = pdf.stamp(
        document(),
        boxes,
        signature=Signature(typed_name="Jane"),
        signer_name="Jane Ωmega Doe",
        signed_on=SIGNED_ON,
    )
    reader = PdfReader(io.BytesIO(stamped))
    assert _stamp_form(reader.pages[2]).count(" f Q") == len("JaneΩmegaDoe")
    assert _stamp_form(reader.pages[1]).count(" f Q") == len("Jane")


@pytest.mark.parametrize(
    "boxes",
    [
        {"date": BOXES["date"]},
        {"signature": dict(BOXES["signature"], page=3)},
        {"signature": dict(BOXES["signature"], page=-1)},
        {"signature": dict(BOXES["signature"], width=0)},
        {"signature": dict(BOXES["signature"], height="tall")},
        {"signature": dict(BOXES["signature"], x=float("nan"))},
        {"signature": {"page": 0}},
    ],
)
def test_boxes_that_are_not_on_the_document_are_refused(boxes):
    with pytest.raises(ValueError):
        pdf.stamp(
            document(),
            boxes,
            signature=Signature(typed_name="Jane"),
            signer_name="Jane",
            signed_on=SIGNED_ON,
        )


def _scaled_page():
    """Return a one-page PDF whose content scales everything by 2 and never restores it."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = DecodedStreamObject()
    stream.set_data(b"2 0 0 2 0 0 cm 0 0 10 10 re f")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_page_that_leaves_its_graphics_state_changed_does_not_move_the_stamp():
    boxes = {key: dict(box, page=0) for key, box in BOXES.items()}
    stamped = pdf.stamp(
        _scaled_page(),
        boxes,
        signature=Signature(typed_name="Jane"),
        signer_name="Jane",
        signed_on=SIGNED_ON,
    )
    found = []

    def visit(text, cm, tm, font, size):
        if "November" in text:
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    PdfReader(io.BytesIO(stamped)).pages[0].extract_text(visitor_text=visit)
    x, y = found[0]
    box = boxes["date"]
    assert x == pytest.approx(box["x"])  # not twice as far: the page's own cm was undone
    assert 792 - box["y"] - box["height"] < y < 792 - box["y"]


def test_merge_joins_the_pages_in_order_and_gives_the_same_bytes():
    first, second = document(2), document(3)
    merged = pdf.merge([first, second])
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(merged)).pages]
    assert texts == [
        "This is page 1",
        "This is page 2",
        "This is page 1",
        "This is page 2",
        "This is page 3",
    ]
    assert pdf.merge([first, second]) == merged
    assert pdf.merge([second, first]) != merged


def _events(count=4, *, signed=True):
    at = datetime.datetime(2026, 11, 27, 14, 3, 12, 123456)
    kinds = ["sent", "opened", "consented", "signed" if signed else "declined"]
    kinds = (kinds * (count // 4 + 1))[:count] if count > 4 else kinds
    events = []
    for seq, kind in enumerate(kinds, start=1):
        detail = {}
        if kind == "signed":
            detail = {
                "signature": "typed",
                "typed_name": "José Ωmega",
                "document_sha256": "b" * 64,
                "signed_document_sha256": "c" * 64,
            }
        elif kind == "consented":
            detail = {"consent_version": "esign-0123456789ab", "consent_sha256": "d" * 64}
        elif kind == "declined":
            detail = {"reason": "The account number is wrong: it ends in 42."}
        events.append(
            {
                "seq": seq,
                "kind": kind,
                "at": at + datetime.timedelta(minutes=seq),
                "actor": "José Ωmega 山田 <jose@example.com>",
                "ip": "2001:db8::1",
                "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) " + "Q" * 300,
                "detail": detail,
                "hash": hashlib.sha256(f"event {seq}".encode()).hexdigest(),
            }
        )
    return events


def _summary(**changes):
    return {
        "id": 41,
        "title": "Letter of Authorization: Zoë's Café 🍰",
        "requester_name": "Zoë's Café",
        "requested_by": "Owner Person",
        "signer_name": "José Ωmega 山田",
        "signer_email": "jose@example.com",
        "method": "email",
        "status": "signed",
        "consent_version": "esign-0123456789ab",
        "consent_sha256": "d" * 64,
        "document_sha256": "b" * 64,
        "signed_at": datetime.datetime(2026, 11, 27, 14, 7, 12),
    } | changes


def _text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_certificate_says_who_signed_what_how_and_every_event_with_its_hash():
    events = _events()
    text = " ".join(_text(certificate.build(_summary(), events)).split())  # lines wrap anywhere
    for expected in (
        "Certificate of completion",
        "Letter of Authorization: Zoë's Café \ufffd",  # no bundled font has 🍰
        "Envelope 41",
        "Zoë's Café",
        "Owner Person",
        "José Ωmega \ufffd",  # a letter no bundled font has is replaced, not a crash
        "jose@example.com",
        "By a link sent to the signer by email",
        "Typed name, shown in a script font: José Ωmega",
        "esign-0123456789ab",
        "d" * 64,
        "SHA-256 as shown " + "b" * 64,
        "SHA-256 as signed " + "c" * 64,
        "Sent for signature by email · 2026-11-27 14:04:12 UTC",
        "Opened by the signer · 2026-11-27 14:05:12 UTC",
        "Agreed to sign electronically",
        "4. Signed · 2026-11-27 14:07:12 UTC",
        "2001:db8::1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
    ):
        assert expected in text
    for event in events:
        assert event["hash"] in text


def test_a_self_signed_drawn_certificate_says_so():
    events = _events()
    events[3]["detail"]["signature"] = "drawn"
    text = _text(certificate.build(_summary(method="self"), events))
    assert "In the portal, by the requester signing themselves" in text
    assert "Drawn by hand" in text


def test_a_declined_envelope_gives_its_reason_and_no_signed_hash():
    text = _text(
        certificate.build(_summary(status="declined", signed_at=None), _events(signed=False))
    )
    assert "Declined to sign" in text
    assert "The account number is wrong: it ends in 42." in text
    assert "SHA-256 as signed not signed" in text


def test_a_long_trail_goes_on_to_more_pages_each_numbered():
    events = _events(60)
    data = certificate.build(_summary(), events)
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages > 3
    text = _text(data)
    assert all(event["hash"] in text for event in events)
    assert f"Page {pages} of {pages}" in reader.pages[-1].extract_text()


def test_the_certificate_gives_the_same_bytes_and_dates_itself_when_signed():
    first = certificate.build(_summary(), _events())
    assert certificate.build(_summary(), _events()) == first
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata["/CreationDate"].startswith("D:20261127140712")
    assert certificate.build(_summary(signer_email="other@example.com"), _events()) != first
