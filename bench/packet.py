"""Time the packet of a large request against a bare pypdf merge of the same parts, the seal's own
cost, and the packet's peak memory.

    .venv/bin/python bench/packet.py [--numbers 500] [--bill-pages 40] [--repeat 15]
                                     [--database-url URL]

A request of --numbers numbers with a --bill-pages page bill, its LOA signed in PortDesk (so
stamped, certified and sealed as envelopes.sign does it) and submitted, in a throwaway database
(SQLite by default; a postgresql:// URL gets a schema of its own, dropped at the end).

    (a) portal.staff.packet.build(), unsealed: both documents read back and checked against
        their SHA-256, the hash chain of the LOA's signing record verified, the cover drawn
        (every number under its routing), the pages merged with a bookmark each, the evidence
        JSON attached.
        Against a bare pypdf merge of the same three parts' bytes (the cover drawn beforehand):
        PdfWriter.append of each, then write. Target: at most 2x. Printed with it, the build's
        two halves: gather() (reads, checks, the cover) and assemble() (the merge).
    (b) signing.seal.seal() of that packet, and seal.verify() of the sealed one, each also as
        a share of (a).
    (c) The peak memory of build() and seal() together (tracemalloc: the Python heap), in MB
        and as copies of the sealed packet.

Prints the best of --repeat runs after a warm-up (the stages alternate; the best, because on a
shared machine other work only ever adds time). A missed target is printed as MISSED; it exits
non-zero on errors only.
"""

import argparse
import io
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402
from pypdf import PdfReader, PdfWriter  # noqa: E402

from bench.scratch import database  # noqa: E402
from portal import create_app, documents  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import (  # noqa: E402
    Account,
    PortRequest,
    RoutingTarget,
    TrackingSource,
    User,
    utcnow,
)
from portal.port_requests import agreements, operations, signatures  # noqa: E402
from portal.port_requests.drafts import store_numbers  # noqa: E402
from portal.staff import packet, packet_cover  # noqa: E402
from signing import envelopes, seal  # noqa: E402
from signing.envelopes import Signature  # noqa: E402

TARGET = 2.0
ACCOUNT_ID = 990_000_011
LEAD_DAYS = 7
CARRIER = "PortDesk Communications, Inc."
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
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=500)
    parser.add_argument("--bill-pages", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        database(args.database_url, scratch, "packet") as url,
    ):
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_PATH": str(Path(scratch) / "instance"),
                "SECRET_KEY": "bench",
                "OUTBOX_SEND_AFTER_COMMIT": False,
            }
        )
        with app.app_context():
            port_request = submitted_request(app, args.numbers, args.bill_pages)
            report(app, port_request, args)
        db.close()


def submitted_request(app, count, bill_pages):
    """Store, sign (in PortDesk) and submit a request of `count` numbers; return it."""
    account = Account.create(id=ACCOUNT_ID, name="Bench Clinic")
    owner = User.create(email="owner@bench.test", name="Ann Owner", role="owner", account=account)
    routing = RoutingTarget.create(id=ACCOUNT_ID, account=account, name="Front desk", kind="number")
    source = TrackingSource.create(id=ACCOUNT_ID, account=account, name="Google Ads")
    port_request = PortRequest.create(account=account, created_by=owner, details=json.dumps(FIELDS))
    rows = [
        {
            "phone_number": f"(614) {322 + n // 9000}-{1000 + n % 9000:04d}",
            "routing_id": routing.id,
            "tracking_source_id": source.id,
            "friendly_name": "",
        }
        for n in range(count)
    ]
    store_numbers(port_request, rows)
    agreements.accept(port_request, list(agreements.TEXTS), user=owner, ip="203.0.113.9")
    documents.store(
        account=account,
        kind="bill",
        data=bill_pdf(bill_pages),
        label="harbor-bill.pdf",
        user=owner,
        max_bytes=app.config["MAX_DOCUMENT_BYTES"],
        port_request=port_request,
        statement_date=utcnow().date(),
    )
    signatures.sign_yourself(
        port_request,
        owner,
        signature=Signature(typed_name="Dana Reyes"),
        consented=True,
        representative=True,
        ip="203.0.113.9",
        user_agent="bench",
    )
    operations.submit(
        account,
        port_request.id,
        user=owner,
        ip="203.0.113.9",
        today=utcnow().date(),
        lead_business_days=LEAD_DAYS,
    )
    port_request = PortRequest.get_by_id(port_request.id)
    if port_request.status != "submitted":
        raise SystemExit(f"the bench's request was not submitted: {port_request.status}")
    return port_request


def bill_pdf(pages):
    """Return a carrier's bill: the account's details on page 1, pages of calls after."""
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("Helvetica", size=9)
    for page in range(pages):
        pdf.add_page()
        lines = BILL_LINES if page == 0 else ()
        for line in lines:
            pdf.cell(0, 14, line, new_x="LMARGIN", new_y="NEXT")
        for row in range(50):
            pdf.cell(
                0,
                12,
                f"11/{1 + row % 28:02d}  614-322-{1000 + row:04d}  to 312-555-{row:04d}"
                f"  {row % 17 + 1} min  ${(row % 9) * 0.37:.2f}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return bytes(pdf.output())


def report(app, port_request, args):
    identity = seal.of_config(app.config, app.instance_path)
    gathered = packet.gather(port_request, new_carrier=CARRIER, built_at=utcnow())
    cover = packet_cover.build(gathered.cover)
    loa_bytes = documents.read(documents.current(port_request, "signed_loa"))
    bill_bytes = documents.read(documents.current(port_request, "bill"))
    unsealed = packet.build(port_request, new_carrier=CARRIER, built_at=utcnow())
    sealed = seal.seal(unsealed, identity, reason=packet.REASON)
    if not seal.verify(sealed, identity).sealed:
        raise SystemExit("the sealed packet does not verify")

    def bare():
        writer = PdfWriter()
        for part in (cover, loa_bytes, bill_bytes):
            writer.append(PdfReader(io.BytesIO(part)))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    seconds = best_of(
        {
            "packet": lambda: packet.build(port_request, new_carrier=CARRIER, built_at=utcnow()),
            "bare merge": bare,
            "gather": lambda: packet.gather(port_request, new_carrier=CARRIER, built_at=utcnow()),
            "assemble": lambda: packet.assemble(gathered),
            "cover": lambda: packet_cover.build(gathered.cover),
            "signing record": lambda: envelopes.verify(gathered.envelope),
            "seal": lambda: seal.seal(unsealed, identity, reason=packet.REASON),
            "verify": lambda: seal.verify(sealed, identity),
        },
        args.repeat,
    )
    peak = peak_memory(port_request, identity)

    pages = len(PdfReader(io.BytesIO(sealed)).pages)
    cover_pages = len(PdfReader(io.BytesIO(cover)).pages)
    print(
        f"A request of {args.numbers} numbers, a {args.bill_pages}-page bill, its LOA signed in "
        f"PortDesk; best of {args.repeat} runs on {db_name()}."
    )
    print(
        f"Parts: cover {kb(cover)}, signed LOA {kb(loa_bytes)}, bill {kb(bill_bytes)}; "
        f"the sealed packet {kb(sealed)}, {pages} pages."
    )
    ratio = seconds["packet"] / seconds["bare merge"]
    print(
        f"(a) packet, unsealed  {ms(seconds['packet'])}  vs a bare pypdf merge of the same parts "
        f"{ms(seconds['bare merge'])}: {ratio:.2f}x (target <= {TARGET:g}x)"
        + ("" if ratio <= TARGET else "  MISSED")
    )
    print(
        f"    gather() {ms(seconds['gather'])}: the parts read and their SHA-256 checked, the "
        "signing record checked, the cover drawn, the parts opened"
    )
    print(f"      of which the cover (fpdf2, {cover_pages} pages) {ms(seconds['cover'])}")
    print(f"      of which the signing record's hash chain {ms(seconds['signing record'])}")
    print(
        f"    assemble() of parts already opened {ms(seconds['assemble'])}: the merge, a bookmark "
        "each, the evidence attached, the PDF written"
    )
    share = {name: seconds[name] / seconds["packet"] for name in ("seal", "verify")}
    print(
        f"(b) the seal           {ms(seconds['seal'])}  ({share['seal']:.2f}x the unsealed "
        f"packet); verify {ms(seconds['verify'])} ({share['verify']:.2f}x)"
    )
    print(
        f"(c) peak memory of build + seal: {peak / 2**20:.1f} MB of Python heap "
        f"({peak / len(sealed):.1f}x the sealed packet's {kb(sealed)})"
    )


def peak_memory(port_request, identity):
    tracemalloc.start()
    try:
        unsealed = packet.build(port_request, new_carrier=CARRIER, built_at=utcnow())
        seal.seal(unsealed, identity, reason=packet.REASON)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def best_of(stages, repeat):
    """Run every stage once, then `repeat` times in turn; return each one's best seconds."""
    times = {name: [] for name in stages}
    for round_ in range(repeat + 1):
        for name, stage in stages.items():
            started = time.perf_counter()
            stage()
            elapsed = time.perf_counter() - started
            if round_:
                times[name].append(elapsed)
    return {name: min(found) for name, found in times.items()}


def db_name():
    return "PostgreSQL" if "postgres" in type(db.obj).__name__.lower() else "SQLite"


def kb(data):
    return f"{len(data) / 1024:,.0f} KB"


def ms(seconds):
    return f"{seconds * 1000:7.1f} ms"


if __name__ == "__main__":
    main()
