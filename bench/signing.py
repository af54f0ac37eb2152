"""Time the LOA's PDF and its stamping against fpdf2 and pypdf doing the same work bare.

    .venv/bin/python bench/signing.py [--numbers 1000] [--repeat 9]

    (a) portal.port_requests.loa.render() of a complete request of --numbers numbers (page 1,
        then Attachment A listing every number in columns, page x of y), against fpdf2 writing
        the same lines of text bare: the same font, one cell per line, its own page breaks, no
        layout of ours. Target: at most 1.5x.
    (b) signing.pdf.stamp() of that LOA, with a drawn signature (a phone's 3x canvas) and with
        a typed one, against pypdf copying the same pages bare (PdfWriter.append, then write).
        Target: at most 1.5x each. For the drawn one it also prints what Pillow alone takes to
        decode the PNG, which every stamp of a drawing must do: on a 1,000-number LOA that is
        more than the whole copy, so the drawn stamp cannot meet 1.5x of it.

No database and no Flask: both are pure functions of their input. Prints the median of --repeat
runs after a warm-up (the stages alternate, so a busy moment of the machine falls on all of
them), the PDFs' sizes and the ratios. A missed target is printed as MISSED; it exits non-zero
on errors only.
"""

import argparse
import datetime
import io
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402
from PIL import Image, ImageDraw, PngImagePlugin  # noqa: E402
from pypdf import PdfReader, PdfWriter  # noqa: E402

from portal.port_requests import loa  # noqa: E402
from signing import pdf  # noqa: E402
from signing.envelopes import Signature  # noqa: E402

RENDER_TARGET, STAMP_TARGET = 1.5, 1.5
CARRIER = "PortDesk Communications, Inc."
SIGNED_ON = datetime.date(2026, 11, 27)
# signature_pad's canvas on a phone: 350 x 150 CSS pixels at a device pixel ratio of 3.
DRAWING = (1050, 450)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    data = loa_data(args.numbers)
    document, boxes = loa.render(data, carrier_name=CARRIER)
    pages = len(PdfReader(io.BytesIO(document)).pages)
    print(f"median of {args.repeat} after a warm-up; the LOA of {args.numbers:,} numbers")
    print_render(time_render(data, document, args.repeat), document, pages)
    print_stamp(time_stamp(document, boxes, args.repeat), pages)


def loa_data(count):
    """Return the LOA data of a complete partial port of `count` numbers."""
    fields = {
        "billing": {
            "customer_name": "Bench Dental Group LLC",
            "customer_type": "business",
            "carrier": "Verizon Business",
            "service_type": "voip",
            "account_number": "881234465001",
            "pin": "4321",
            "btn": "614-322-1001",
        },
        "service_address": {
            "street_number": "1250",
            "street": "Olentangy River Rd",
            "unit": "Suite 300",
            "city": "Columbus",
            "state": "OH",
            "zip": "43212",
        },
        "billing_address": None,
        "authorized": {
            "name": "Dana Whitfield",
            "title": "Practice Manager",
            "email": "dana@bench-dental.test",
            "phone": "614-322-1002",
        },
        "partial_port": {
            "other_numbers_remain": True,
            "remaining_numbers": "keep",
            "new_btn": "614-322-1099",
        },
        "requested_date": "2026-12-10",
    }
    rows = [
        SimpleNamespace(e164=f"+1614{3220000 + index:07d}", phone_number=None)
        for index in range(count)
    ]
    return loa.loa_data(fields, rows, request_id=1, account_name="Bench Dental")


def time_render(data, document, repeat):
    """Return the median seconds of (a): render() and fpdf2 writing its lines bare."""
    lines = [
        line
        for page in PdfReader(io.BytesIO(document)).pages
        for line in page.extract_text().splitlines()
    ]

    def bare():
        sheet = FPDF(unit="pt", format="letter")
        sheet.add_font("DejaVu", "", pdf.FONTS / "DejaVuSans.ttf")
        sheet.add_font("DejaVu", "B", pdf.FONTS / "DejaVuSans-Bold.ttf")
        sheet.set_font("DejaVu", size=9)
        sheet.add_page()
        for line in lines:
            sheet.cell(0, 12, line, new_x="LMARGIN", new_y="NEXT")
        return bytes(sheet.output())

    return median_of(
        {
            "bare": bare,
            "render": lambda: loa.render(data, carrier_name=CARRIER),
        },
        repeat,
    ), len(lines)


def time_stamp(document, boxes, repeat):
    """Return the median seconds of (b): stamp() drawn and typed, and pypdf's bare copy."""
    drawn = Signature(drawn_png=phone_drawing())
    typed = Signature(typed_name="Dana Whitfield")

    def bare():
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(document)))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def stamp(signature):
        return pdf.stamp(
            document, boxes, signature=signature, signer_name="Dana Whitfield", signed_on=SIGNED_ON
        )

    def decode():
        with PngImagePlugin.PngImageFile(io.BytesIO(drawn.drawn_png)) as image:
            image.load()

    sizes = {"bare": len(bare()), "drawn": len(stamp(drawn)), "typed": len(stamp(typed))}
    seconds = median_of(
        {
            "bare": bare,
            "drawn": lambda: stamp(drawn),
            "typed": lambda: stamp(typed),
            "decode": decode,
        },
        repeat,
    )
    return seconds, sizes


def phone_drawing():
    """Return a PNG as signature_pad gives it on a phone: a 3x canvas, ink on transparency."""
    image = Image.new("RGBA", DRAWING, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(60 + index * 19, 225 + ((index * 37) % 160) - 80) for index in range(50)]
    draw.line(points, fill=(0, 0, 0, 255), width=7, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def median_of(stages, repeat):
    """Run every stage once, then `repeat` times in turn; return each one's median seconds."""
    times = {name: [] for name in stages}
    for round_ in range(repeat + 1):
        for name, stage in stages.items():
            started = time.perf_counter()
            stage()
            elapsed = time.perf_counter() - started
            if round_:
                times[name].append(elapsed)
    return {name: statistics.median(found) for name, found in times.items()}


def verdict(ratio, target):
    return "met" if ratio <= target else "MISSED"


def print_render(result, document, pages):
    seconds, lines = result
    floor, ours = seconds["bare"], seconds["render"]
    ratio = ours / floor
    print(f"(a) the LOA: {pages} pages, {len(document) / 1024:.0f} KB, {lines:,} lines of text")
    print(f"  fpdf2 writing the same lines bare  {floor * 1e3:8.1f} ms")
    print(f"  loa.render()                       {ours * 1e3:8.1f} ms")
    print(
        f"  ratio                              {ratio:8.2f}x  "
        f"(target <= {RENDER_TARGET}x: {verdict(ratio, RENDER_TARGET)})"
    )


def print_stamp(result, pages):
    seconds, sizes = result
    floor = seconds["bare"]
    print(f"(b) stamping the signature and date into its {pages} pages")
    size = sizes["bare"] / 1024
    print(f"  pypdf copying the pages bare       {floor * 1e3:8.1f} ms  ({size:.0f} KB)")
    for name in ("drawn", "typed"):
        ratio = seconds[name] / floor
        print(
            f"  pdf.stamp(), {name} signature       {seconds[name] * 1e3:8.1f} ms  "
            f"({sizes[name] / 1024:.0f} KB)  {ratio:5.2f}x  "
            f"(target <= {STAMP_TARGET}x: {verdict(ratio, STAMP_TARGET)})"
        )
    # What no stamp can avoid: a drawing arrives as a PNG, and its pixels must be read.
    decode = seconds["decode"]
    print(f"  of the drawn one, Pillow decoding the {DRAWING[0]} x {DRAWING[1]} PNG alone")
    print(f"                                     {decode * 1e3:8.1f} ms  ({decode / floor:.2f}x)")


if __name__ == "__main__":
    main()
