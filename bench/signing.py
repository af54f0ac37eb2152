"""Time the LOA's PDF and its stamping against fpdf2 and pypdf doing the same work bare, and a
submit of a large request.

    .venv/bin/python bench/signing.py [--numbers 1000] [--repeat 9] [--database-url URL]

    (a) portal.port_requests.loa.render() of a complete request of --numbers numbers (page 1,
        then Attachment A listing every number in columns, page x of y), against fpdf2 writing
        the same lines of text bare: the same font, one cell per line, its own page breaks, no
        layout of ours. Target: at most 1.5x.
    (b) Stamping the signature and the date into that LOA, against pypdf copying the same pages
        bare (PdfWriter.append, then write). Target: at most 1.5x each. Measured apart:
          - a typed name: signing.pdf.stamp() with it;
          - a drawing, the stamp alone: stamp() of the drawing as signing.pdf.check_drawing()
            left it, as envelopes.sign() stamps it (it checks the drawing before it locks the
            envelope, and the stamp does not decode the PNG again);
          - a drawing, the check and the stamp: check_drawing() of the PNG, then stamp(): what
            the signer's click costs. Once for the PNG the pad sends (static/js/signature-pad.js
            trims the canvas to the ink and scales it to at most 640 x 400 pixels), once for a
            whole phone canvas (350 x 192 CSS pixels at 3x), as a page from before the trim
            sent it. With each, what Pillow alone takes to decode that PNG, which every check
            of a drawing must do.
    (c) portal.port_requests.operations.submit() of a complete request (bill, signed LOA and
        agreements in, built as tests/test_submit.py's make_submittable builds one) of 10
        numbers and of --numbers: its time, and the SQL statements it ran. Target: the same
        count for both (the claims, the numbers' status and the events are set-wise).

(a) and (b) use no database and no Flask: both are pure functions of their input. (c) runs the
app on a throwaway SQLite file, or with --database-url postgresql://... in a throwaway schema
(selected with `options=-c search_path=...`) dropped at the end; a sqlite:/// URL names a new
file, removed at the end. Prints the median of --repeat runs after a warm-up (in (a) and (b) the
stages alternate, so a busy moment of the machine falls on all of them), the PDFs' sizes and
every ratio with what it compares. A missed target is printed as MISSED; it exits non-zero on
errors only.
"""

import argparse
import datetime
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402
from PIL import Image, ImageDraw, PngImagePlugin  # noqa: E402
from pypdf import PdfReader, PdfWriter  # noqa: E402

from bench.scratch import database  # noqa: E402
from portal import create_app, documents  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import Account, PortRequest, RoutingTarget, TrackingSource, User  # noqa: E402
from portal.port_requests import agreements, loa, operations  # noqa: E402
from portal.port_requests.drafts import store_numbers  # noqa: E402
from portal.port_requests.review import review  # noqa: E402
from signing import pdf  # noqa: E402
from signing.envelopes import Signature  # noqa: E402

RENDER_TARGET, STAMP_TARGET = 1.5, 1.5
CARRIER = "PortDesk Communications, Inc."
SIGNED_ON = datetime.date(2026, 11, 27)
# signature_pad's canvas on a phone: 350 x 192 CSS pixels (the pad is 12rem high) at a device
# pixel ratio of 3; the pen is the page's dark blue.
CANVAS = (1050, 576)
PEN = (11, 42, 91)
# What static/js/signature-pad.js sends: the ink's box and this margin, at most this size.
PAD_MARGIN, PAD_MOST = 8, (640, 400)
FEW = 10  # (c) compares a request this small with one of --numbers
LEAD_DAYS = 7
ACCOUNT_ID = 990_000_002


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--database-url", default="", help="sqlite:///FILE or postgresql://...")
    args = parser.parse_args()
    data = loa_data(args.numbers)
    document, boxes = loa.render(data, carrier_name=CARRIER)
    pages = len(PdfReader(io.BytesIO(document)).pages)
    print(f"median of {args.repeat} after a warm-up; the LOA of {args.numbers:,} numbers")
    print_render(time_render(data, document, args.repeat), document, pages)
    print_stamp(time_stamp(document, boxes, args.repeat), pages)
    with (
        tempfile.TemporaryDirectory(prefix="portdesk-bench-") as scratch,
        database(args.database_url, scratch, "signing") as url,
    ):
        print_submit(time_submit(url, scratch, args.numbers, args.repeat), args.numbers)


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
    """Return the median seconds of (b), the PDFs' sizes and the drawings' sizes in pixels."""
    canvas = phone_canvas()
    drawings = {"pad": pad_png(canvas), "canvas": png_of(canvas)}
    checked = pdf.check_drawing(drawings["pad"])
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

    def check_and_stamp(png):
        # As envelopes.sign() does: the check's drawing goes with the signature to the stamp.
        return stamp(Signature(drawn_png=png, drawing=pdf.check_drawing(png)))

    def decode(png):
        with PngImagePlugin.PngImageFile(io.BytesIO(png)) as image:
            image.load()

    stamped = stamp(Signature(drawn_png=drawings["pad"], drawing=checked))
    if stamped != stamp(Signature(drawn_png=drawings["pad"])):
        raise SystemExit("a checked drawing stamps other bytes than its PNG: the bench is wrong")
    sizes = {"bare": len(bare()), "typed": len(stamp(typed)), "drawn": len(stamped)}
    seconds = median_of(
        {
            "bare": bare,
            "typed": lambda: stamp(typed),
            "drawn": lambda: stamp(Signature(drawn_png=drawings["pad"], drawing=checked)),
            "pad": lambda: check_and_stamp(drawings["pad"]),
            "canvas": lambda: check_and_stamp(drawings["canvas"]),
            "decode pad": lambda: decode(drawings["pad"]),
            "decode canvas": lambda: decode(drawings["canvas"]),
        },
        repeat,
    )
    pixels = {name: Image.open(io.BytesIO(png)).size for name, png in drawings.items()}
    return seconds, sizes, pixels


def phone_canvas():
    """Return the pad's canvas on a phone after a signature: ink on transparency."""
    image = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    middle = CANVAS[1] // 2
    points = [(60 + index * 19, middle + ((index * 37) % 160) - 80) for index in range(50)]
    draw.line(points, fill=(*PEN, 255), width=7, joint="curve")
    return image


def pad_png(canvas):
    """Return the PNG static/js/signature-pad.js makes of a canvas: the ink's box and a margin,
    scaled down to fit PAD_MOST."""
    left, top, right, bottom = canvas.getchannel("A").getbbox()
    box = (
        max(left - PAD_MARGIN, 0),
        max(top - PAD_MARGIN, 0),
        min(right + PAD_MARGIN, canvas.width),
        min(bottom + PAD_MARGIN, canvas.height),
    )
    trimmed = canvas.crop(box)
    scale = min(1, PAD_MOST[0] / trimmed.width, PAD_MOST[1] / trimmed.height)
    if scale < 1:
        size = (round(trimmed.width * scale), round(trimmed.height * scale))
        trimmed = trimmed.resize(size, Image.Resampling.LANCZOS)
    return png_of(trimmed)


def png_of(image):
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


# A complete request, and a bill that says the same: the submit finds nothing left to do.
FIELDS = {
    "friendly_name": "Harbor Clinic main lines",
    "contact": {"name": "Dana Reyes", "email": "dana@harborclinic.test", "phone": "(614) 322-1000"},
    "billing": {
        "carrier": "Lumen",
        "service_type": "landline",
        "customer_type": "business",
        "customer_name": "HARBOR CLINIC, LLC",
        "account_number": "81234465001",
        "btn": "(614) 322-1000",
    },
    "service_address": {
        "street_number": "1200",
        "street": "N High St",
        "city": "Columbus",
        "state": "OH",
        "zip": "43201",
    },
    "billing_address": None,
    "authorized": {
        "name": "Dana Reyes",
        "title": "Practice Manager",
        "email": "dana@harborclinic.test",
        "phone": "(614) 322-1000",
    },
    "partial_port": {"other_numbers_remain": False},
    "requested_date": None,
}
BILL_LINES = (
    "Lumen",
    "HARBOR CLINIC, LLC",
    "1200 N HIGH ST",
    "COLUMBUS OH 43201-2231",
    "Account number: 8123 4465 001",
    "Billing telephone number: 614-322-1000",
    "Local service ........ $182.40",
)


def time_submit(url, scratch, count, repeat):
    """Return (c): {numbers: (median seconds, [statements of each submit])} for FEW and count."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(Path(scratch) / "instance"),
            "SECRET_KEY": "bench",
            "OUTBOX_SEND_AFTER_COMMIT": False,  # the owner's email stays in the outbox
        }
    )
    found = {}
    with app.app_context():
        # Accounts, routing targets and tracking sources come with their ids (another system's).
        account = Account.create(id=ACCOUNT_ID, name="Bench Clinic")
        owner = User.create(
            email="owner@bench.test", name="Ann Owner", role="owner", account=account
        )
        routing = RoutingTarget.create(
            id=ACCOUNT_ID, account=account, name="Front desk", kind="number"
        )
        source = TrackingSource.create(id=ACCOUNT_ID, account=account, name="Google Ads")
        bill = bill_pdf()
        # A request is submitted once: each run gets a draft of its own, with numbers of its own.
        exchanges = iter(range(222, 1000))
        for size in (FEW, count):
            drafts = [
                submittable(app, account, owner, routing, source, bill, numbers(size, exchanges))
                for _ in range(repeat + 1)
            ]
            seconds, statements = [], []
            for draft in drafts:
                seen, elapsed = counted(
                    lambda draft=draft: operations.submit(
                        account,
                        draft,
                        user=owner,
                        ip="203.0.113.9",
                        today=today(),
                        lead_business_days=LEAD_DAYS,
                    )
                )
                if PortRequest.get_by_id(draft).status != "submitted":
                    raise SystemExit(f"request {draft} was not submitted")
                seconds.append(elapsed)
                statements.append(seen)
            found[size] = (statistics.median(seconds[1:]), statements)
    db.close()
    return found


def numbers(count, exchanges):
    """Return `count` numbers no other draft of the bench has: (614) NXX-1000 and on."""
    found = []
    while len(found) < count:
        exchange = next(exchanges)
        found += [f"(614) {exchange}-{line:04d}" for line in range(1000, 10_000)]
    return found[:count]


def submittable(app, account, owner, routing, source, bill, phone_numbers):
    """Store a draft with nothing left to do before its submit; return its id."""
    port_request = PortRequest.create(account=account, created_by=owner, details=json.dumps(FIELDS))
    store_numbers(
        port_request,
        [
            {
                "phone_number": number,
                "routing_id": routing.id,
                "tracking_source_id": source.id,
                "friendly_name": "",
            }
            for number in phone_numbers
        ],
    )
    agreements.accept(port_request, list(agreements.TEXTS), user=owner, ip="203.0.113.9")
    most = app.config["MAX_DOCUMENT_BYTES"]
    documents.store(
        account=account,
        kind="bill",
        data=bill,
        label="harbor-bill.pdf",
        user=owner,
        max_bytes=most,
        port_request=port_request,
        statement_date=today(),
    )
    found = review(port_request, today=today(), lead_business_days=LEAD_DAYS)
    documents.store(
        account=account,
        kind="signed_loa",
        data=signed_loa_pdf(port_request.id),
        label="signed-loa.pdf",
        user=owner,
        max_bytes=most,
        port_request=port_request,
        signed_date=today(),
        loa_digest=found.loa_digest,
    )
    left = operations.blocking(review(port_request, today=today(), lead_business_days=LEAD_DAYS))
    if left:
        raise SystemExit(f"the bench's draft is not ready: {[p.message for p in left]}")
    return port_request.id


def bill_pdf():
    sheet = FPDF()
    sheet.set_creation_date(datetime.datetime(2027, 1, 5, tzinfo=datetime.UTC))
    sheet.set_font("Helvetica", size=11)
    sheet.add_page()
    for line in BILL_LINES:
        sheet.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(sheet.output())


def signed_loa_pdf(request_id):
    """Return a PDF standing for the signed LOA (signing is (b)'s business)."""
    sheet = FPDF()
    sheet.add_page()
    sheet.set_font("Helvetica", size=11)
    sheet.cell(0, 8, f"Letter of Authorization for port request {request_id}, signed")
    return bytes(sheet.output())


def today():
    return datetime.datetime.now(datetime.UTC).date()


def counted(call):
    """Run the call; return the SQL statements it ran and its seconds."""
    seen = []
    database_ = db.obj
    execute_sql = database_.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    database_.execute_sql = counting
    try:
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
    finally:
        del database_.execute_sql
    return seen, elapsed


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
        f"  loa.render() / fpdf2 bare          {ratio:8.2f}x  "
        f"(target <= {RENDER_TARGET}x: {verdict(ratio, RENDER_TARGET)})"
    )


def print_stamp(result, pages):
    seconds, sizes, pixels = result
    floor = seconds["bare"]
    pad, canvas = (f"{pixels[name][0]:,} x {pixels[name][1]:,}" for name in ("pad", "canvas"))
    print(f"(b) stamping the signature and date into the LOA ({pages} pages); each ratio is its")
    print("    time / pypdf copying the same pages bare")
    print(
        f"  pypdf copying the pages bare (append, write)          {floor * 1e3:6.1f} ms  "
        f"({sizes['bare'] / 1024:.0f} KB)"
    )
    rows = (
        ("typed", "typed name: stamp()", sizes["typed"]),
        ("drawn", "drawing: stamp() of the checked drawing", sizes["drawn"]),
        ("pad", f"drawing: check_drawing() + stamp(), {pad} PNG", None),
        ("canvas", f"drawing: check_drawing() + stamp(), {canvas} PNG", None),
    )
    for name, label, size in rows:
        ratio = seconds[name] / floor
        kept = f"({size / 1024:.0f} KB)" if size else ""
        print(
            f"  {label:<53} {seconds[name] * 1e3:6.1f} ms  {kept:<7} {ratio:5.2f}x  "
            f"(target <= {STAMP_TARGET}x: {verdict(ratio, STAMP_TARGET)})"
        )
    print(f"  the {pad} PNG is the pad's (the ink's box, at most {PAD_MOST[0]} x {PAD_MOST[1]}),")
    print(f"  the {canvas} PNG a whole phone canvas (as a page from before the trim sent it);")
    print("  of the check, Pillow decoding the PNG alone (which no check of a drawing can skip):")
    for name, shown in (("pad", pad), ("canvas", canvas)):
        decode = seconds[f"decode {name}"]
        print(
            f"  {f'Pillow decoding the {shown} PNG':<53} {decode * 1e3:6.1f} ms  {'':<7} "
            f"{decode / floor:5.2f}x"
        )


def print_submit(found, count):
    few_seconds, few_statements = found[FEW]
    many_seconds, many_statements = found[count]
    few_counts = {len(seen) for seen in few_statements}
    many_counts = {len(seen) for seen in many_statements}
    print(f"(c) operations.submit() of a complete request, median of {len(many_statements) - 1}")
    for size, seconds, counts in (
        (FEW, few_seconds, few_counts),
        (count, many_seconds, many_counts),
    ):
        shown = "/".join(str(number) for number in sorted(counts))
        print(f"  {size:>6,} numbers  {seconds * 1e3:8.1f} ms   {shown} SQL statements")
    ratio = many_seconds / few_seconds
    print(f"  time of {count:,} numbers / time of {FEW} numbers {ratio:8.2f}x  (no target)")
    same = len(few_counts | many_counts) == 1
    print(
        f"  statements of {count:,} numbers / of {FEW}: {max(many_counts)} / {max(few_counts)}  "
        f"(target: the same count: {'met' if same else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
