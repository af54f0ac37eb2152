"""The Letter of Authorization: what it says (from the request) and the PDF that says it.

No Flask. `loa_data` takes from a request exactly what the LOA prints (47 CFR 64.1130: the
customer and billing name and address, the service address, the losing carrier, the account
number, the BTN, every number, the representative), and `digest` names that data: any change
of a field on the LOA gives another digest, which voids a signature of the old one. `render`
makes the PDF: the same data gives the same bytes, so its SHA-256 is stable too.
"""

import datetime
import hashlib
import json

from portal.db import db, is_postgresql
from portal.numbers import InvalidNumber, display, to_e164
from portal.port_requests.rules import Problem
from signing import SigningEnvelope, envelopes
from signing.models import FINAL
from signing.pdf import FIXED_DATE, SANS, close, drawable, long_date, new_pdf

TITLE = "Letter of Authorization"
# Carriers want an LOA signed within this many days of the port.
MAX_AGE_DAYS = 30
# An LOA signed longer ago than this is no LOA a carrier takes, confirmed or not.
OLDEST_DAYS = 365


def loa_data(fields, rows, *, request_id, account_name):
    """Return what the request's LOA prints, as plain values (text, lists, None)."""
    billing = _section(fields, "billing")
    service = _section(fields, "service_address")
    billing_address = fields.get("billing_address")
    authorized = _section(fields, "authorized")
    partial = _section(fields, "partial_port")
    return {
        "request_id": request_id,
        "account_name": account_name,
        "customer_name": _text(billing.get("customer_name")),
        "customer_type": _text(billing.get("customer_type")),
        "carrier": _text(billing.get("carrier")),
        "service_type": _text(billing.get("service_type")),
        "account_number": _text(billing.get("account_number")),
        "pin": _text(billing.get("pin")),
        "btn": _number(billing.get("btn")),
        "service_address": _address(service),
        "billing_address": (
            _address(billing_address) if isinstance(billing_address, dict) else None
        ),
        "authorized": {
            key: _text(authorized.get(key)) for key in ("name", "title", "email", "phone")
        },
        "numbers": [display(row.e164) if row.e164 else _text(row.phone_number) for row in rows],
        "other_numbers_remain": partial.get("other_numbers_remain") is True,
        "remaining_numbers": _text(partial.get("remaining_numbers")),
        "new_btn": _number(partial.get("new_btn")),
        "requested_date": _text(fields.get("requested_date")),
    }


def of_request(port_request, rows=None):
    """Return (the LOA's data, its digest) as the stored request stands."""
    data = loa_data(
        port_request.fields,
        port_request.numbers() if rows is None else rows,
        request_id=port_request.id,
        account_name=port_request.account.name,
    )
    return data, digest(data)


def digest(data):
    """Return the SHA-256 (hex) of the LOA's data: equal data, equal digest."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _section(fields, name):
    value = fields.get(name)
    return value if isinstance(value, dict) else {}


def _text(value):
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def _number(value):
    """Return a number as a carrier reads it, (614) 322-1001, or the text as given."""
    text = _text(value)
    try:
        return display(to_e164(text))
    except InvalidNumber:
        return text


def _address(address):
    if not isinstance(address, dict):
        return {}
    return {
        key: _text(address.get(key))
        for key in ("street_number", "street", "unit", "city", "state", "zip")
    }


def reference(port_request_id):
    """Return the signing envelope reference of a request's LOA."""
    return f"port_request:{port_request_id}"


def open_envelopes(request_id):
    """Inside a write transaction: return the request's envelopes still open, locked.

    Take them before the request's own row: a signer's transaction locks its envelope, then
    writes the request's rows (its signed LOA, its timeline), so the other order could deadlock,
    and a signature that passed its checks lands before whatever this transaction decides
    (PostgreSQL; SQLite's writers take the whole database in turn).
    """
    query = (
        SigningEnvelope.select()
        .where(
            (SigningEnvelope.reference == reference(request_id))
            & SigningEnvelope.status.not_in(FINAL)
        )
        .order_by(SigningEnvelope.id)
    )
    if is_postgresql(db):
        query = query.for_update()
    return list(query)


def close_envelopes(held, by):
    """Cancel the envelopes `open_envelopes` held: the request they asked for has moved on."""
    for envelope in held:
        envelopes.cancel(envelope, by)
    return held


def loa_problems(signed_loa, envelope, current_digest, *, today):
    """Return what stands between the request and a signed LOA that carriers take.

    `signed_loa` is the request's current signed LOA document (or None), `envelope` its newest
    signing envelope (or None), `current_digest` the digest of the LOA data as the request
    stands now. An LOA signed for other data no longer counts; one uploaded with a signing date
    past MAX_AGE_DAYS is a warning the owner may confirm.
    """
    if signed_loa is not None and signed_loa.loa_digest == current_digest:
        return _age_problems(signed_loa, today)
    pending = (
        envelope is not None
        and envelope.status in ("sent", "opened")
        and envelope.content_key == current_digest
        and not envelope.expired()
    )
    if pending:
        return [
            Problem(
                "loa",
                "loa_awaiting_signature",
                "error",
                f"The LOA is waiting for {envelope.signer_name}'s signature.",
            )
        ]
    if signed_loa is None:
        return [
            Problem(
                "loa",
                "loa_required",
                "error",
                "Get the Letter of Authorization signed: sign it yourself, send it to the "
                "authorized representative, or upload a copy that is already signed.",
            )
        ]
    return [
        Problem(
            "loa",
            "loa_outdated",
            "error",
            "A detail on the LOA changed after it was signed: the signature no longer "
            "counts. Get the new LOA signed.",
        )
    ]


def signed_date_refusal(day, *, today):
    """Return why a signed LOA cannot be dated `day` (future, or over a year ago), or None."""
    if day > today:
        return f"{day.isoformat()} is in the future: enter the date the LOA was signed."
    if (today - day).days > OLDEST_DAYS:
        return (
            f"{day.isoformat()} is more than a year ago: carriers take an LOA signed in the last "
            f"{MAX_AGE_DAYS} days. Get it signed again."
        )
    return None


def _age_problems(signed_loa, today):
    signed = signed_loa.signed_date
    if isinstance(signed, datetime.datetime):
        signed = signed.date()
    if isinstance(signed, datetime.date) and (today - signed).days > MAX_AGE_DAYS:
        return [
            Problem(
                "loa",
                "loa_signed_old",
                "warning",
                f"The LOA was signed on {signed:%-d %b %Y}: carriers want an LOA signed in the "
                f"last {MAX_AGE_DAYS} days. Get it signed again, or confirm it is still right.",
            )
        ]
    return []


# The PDF. US Letter in points; every value passes through `drawable`, so a letter no bundled
# font has prints as the replacement character instead of failing the whole LOA.
MARGIN = 54
LABEL_WIDTH = 160
# Page 1 lists up to FIRST_ROWS rows of FIRST_COLUMNS numbers; every number is on Attachment A
# once there are more, in ATTACHMENT_COLUMNS columns.
FIRST_COLUMNS, FIRST_ROWS = 3, 10
ATTACHMENT_COLUMNS = 4
# The text's size in points, and the smallest it may shrink to so the signature block stays on
# page 1 when the names and addresses are long.
TEXT_SIZE, SMALLEST_SIZE = 9, 7
SIGNATURE_WIDTH, DATE_WIDTH, BOX_HEIGHT = 280, 150, 40
CUSTOMER_TYPES = {"business": "Business", "residential": "Residential"}
SERVICE_TYPES = {"landline": "Landline", "voip": "VoIP", "wireless": "Wireless (mobile)"}


def render(data, *, carrier_name):
    """Return the LOA of `loa_data` as PDF bytes, and the boxes its signature and date go in.

    Boxes are {"page", "x", "y", "width", "height"} in points from the page's top-left corner,
    pages from 0. The signature block is on page 1: when long names and addresses crowd it,
    fewer numbers are listed there (all are on Attachment A), then the text is set smaller.
    """
    shown = min(len(data["numbers"]), FIRST_COLUMNS * FIRST_ROWS)
    size = TEXT_SIZE
    while True:
        letter = _Letter(data, carrier_name, size)
        try:
            boxes = letter.draw(shown)
            if boxes["signature"]["page"] == 0 or (shown == 0 and size <= SMALLEST_SIZE):
                return bytes(letter.pdf.output()), boxes
        finally:
            close(letter.pdf)
        if shown:
            shown = max(0, shown - FIRST_COLUMNS)
        else:
            size -= 0.5


class _Letter:
    """One drawing of the LOA at one text size."""

    def __init__(self, data, carrier_name, size):
        self.data, self.carrier_name = data, carrier_name
        self.size, self.line = size, size * 4 / 3
        self.pdf = new_pdf(
            title=f"{TITLE}: {data['customer_name']}",
            created=FIXED_DATE,
            footer=f"{TITLE} · {data['customer_name']} · PortDesk request {data['request_id']}",
        )
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_auto_page_break(True, margin=MARGIN)

    def draw(self, shown):
        """Draw the letter with `shown` numbers on page 1; return the signature's boxes."""
        data, pdf = self.data, self.pdf
        carrier = data["carrier"] or "the current carrier"
        numbers = data["numbers"]
        attached = shown < len(numbers)
        pdf.add_page()
        pdf.set_font(SANS, "B", 16)
        pdf.cell(0, 20, TITLE, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(SANS, "", self.size)
        pdf.cell(
            0,
            self.line,
            "Authorization to change the provider of telephone service (47 CFR 64.1130) · "
            f"PortDesk request {data['request_id']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )

        self.heading("Customer")
        self.row("Customer (billing) name", data["customer_name"])
        customer_type = data["customer_type"]
        self.row("Customer type", CUSTOMER_TYPES.get(customer_type, customer_type))
        billing = data["billing_address"]
        self.row(
            "Billing address", _one_line(billing) if billing else "Same as the service address"
        )
        self.row("Service address", _one_line(data["service_address"]))

        self.heading("Current service")
        self.row("Current (losing) carrier", data["carrier"])
        service_type = data["service_type"]
        self.row("Service type", SERVICE_TYPES.get(service_type, service_type))
        self.row("Account number", data["account_number"])
        if data["pin"]:
            self.row("Account PIN or passcode", data["pin"])
        self.row("Billing telephone number (BTN)", data["btn"])

        self.heading(f"Telephone numbers to move ({len(numbers):,})")
        self.numbers(numbers[:shown], FIRST_COLUMNS, start=1)
        if attached:
            self.paragraph(
                f"and {len(numbers) - shown:,} more on Attachment A, which lists all "
                f"{len(numbers):,} numbers.",
                bold=True,
            )
        self.paragraph(_partial(data, carrier))
        self.row("Requested port date", _requested(data["requested_date"]))

        self.heading("Authorization and designation of agent")
        self.paragraph(_authorization(data, carrier, self.carrier_name, attached))
        boxes = self.signature_block(data["authorized"])
        if attached:
            self.attachment(numbers)
        return boxes

    def heading(self, text):
        pdf = self.pdf
        pdf.ln(self.size / 2)
        pdf.set_font(SANS, "B", self.size + 1)
        pdf.cell(0, self.line + 2, drawable(pdf, text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(170)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_draw_color(0)
        pdf.ln(2)

    def row(self, label, value):
        pdf = self.pdf
        pdf.set_font(SANS, "", self.size)
        top, page = pdf.get_y(), pdf.page
        pdf.set_text_color(80)
        pdf.multi_cell(LABEL_WIDTH, self.line, label, new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(0)
        pdf.multi_cell(
            0, self.line, drawable(pdf, value) or "-", align="L", new_x="LMARGIN", new_y="NEXT"
        )
        if pdf.page == page:
            pdf.set_y(max(pdf.get_y(), top + self.line))

    def paragraph(self, text, *, bold=False):
        pdf = self.pdf
        pdf.set_font(SANS, "B" if bold else "", self.size)
        pdf.multi_cell(0, self.line, drawable(pdf, text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def numbers(self, numbers, columns, *, start, top=None, rows=None):
        """List numbers down `columns` columns, each with its place in the request's list."""
        if not numbers:
            return
        pdf = self.pdf
        pdf.set_font(SANS, "", self.size)
        rows = rows or -(-len(numbers) // columns)
        top = pdf.get_y() if top is None else top
        width = (pdf.w - pdf.l_margin - pdf.r_margin) / columns
        place_width = pdf.get_string_width(f"{start + len(numbers) - 1:,}.")
        gap = pdf.get_string_width("  ")
        for index, number in enumerate(numbers):
            column, row = divmod(index, rows)
            x = pdf.l_margin + column * width
            baseline = top + row * self.line + self.size
            place = f"{start + index:,}."
            # Places right-aligned, numbers left-aligned: the columns read straight down.
            pdf.text(x + place_width - pdf.get_string_width(place), baseline, place)
            pdf.text(x + place_width + gap, baseline, drawable(pdf, number))
        pdf.set_y(top + rows * self.line + 2)

    def signature_block(self, authorized):
        """Draw the signature and date lines and who signs; return the boxes of both."""
        pdf = self.pdf
        details = [("Printed name", authorized["name"])]
        if authorized["title"]:
            details.append(("Title", authorized["title"]))
        details += [("Email", authorized["email"]), ("Phone", authorized["phone"])]
        pdf.ln(self.size * 1.5)
        if pdf.will_page_break(BOX_HEIGHT + self.line * (len(details) + 1)):
            pdf.add_page()
        top = pdf.get_y()
        left, date_left = pdf.l_margin, pdf.w - pdf.r_margin - DATE_WIDTH
        line_y = top + BOX_HEIGHT
        pdf.set_line_width(0.7)
        pdf.line(left, line_y, left + SIGNATURE_WIDTH, line_y)
        pdf.line(date_left, line_y, date_left + DATE_WIDTH, line_y)
        page = pdf.page - 1
        pdf.set_line_width(0.2)
        pdf.set_font(SANS, "", self.size - 1)
        pdf.set_text_color(80)
        pdf.text(left, line_y + self.size + 1, "Signature of the authorized representative")
        pdf.text(date_left, line_y + self.size + 1, "Date")
        pdf.set_text_color(0)
        pdf.set_y(line_y + self.size + 5)
        for label, value in details:
            self.row(label, value)
        return {
            "signature": _box(page, left, top, SIGNATURE_WIDTH, BOX_HEIGHT),
            "date": _box(page, date_left, line_y - 22, DATE_WIDTH, 20),
        }

    def attachment(self, numbers):
        """Attachment A: every number, in columns, each page saying which of how many it is."""
        pdf, data = self.pdf, self.data
        intro = drawable(
            pdf,
            f"To the {TITLE} of {data['customer_name']}, account {data['account_number']}, BTN "
            f"{data['btn']}: all {len(numbers):,} numbers to move, in the order of the request.",
        )
        pdf.set_font(SANS, "", self.size)
        # The intro is the same on every page: its height, and so the rows a page holds, are
        # known before the first page is drawn, which is what "page x of y" needs.
        lines = len(pdf.multi_cell(0, self.line, intro, dry_run=True, output="LINES"))
        top = pdf.t_margin + 18 + lines * self.line + 8
        rows = max(1, int((pdf.h - pdf.b_margin - 14 - top) // self.line))
        per_page = rows * ATTACHMENT_COLUMNS
        pages = -(-len(numbers) // per_page)
        for page in range(pages):
            pdf.add_page()
            pdf.set_font(SANS, "B", self.size + 3)
            pdf.cell(
                0,
                18,
                f"Attachment A: the telephone numbers to move · page {page + 1} of {pages}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.paragraph(intro)
            start = page * per_page
            chunk = numbers[start : start + per_page]
            self.numbers(
                chunk,
                ATTACHMENT_COLUMNS,
                start=start + 1,
                top=top,
                rows=min(rows, -(-len(chunk) // ATTACHMENT_COLUMNS)),
            )


def _box(page, x, y, width, height):
    return {"page": page, "x": x, "y": y, "width": width, "height": height}


def _one_line(address):
    street = " ".join(filter(None, (address.get("street_number"), address.get("street"))))
    state_zip = " ".join(filter(None, (address.get("state"), address.get("zip"))))
    parts = (street, address.get("unit"), address.get("city"), state_zip)
    return ", ".join(part for part in parts if part)


def _requested(day):
    try:
        return long_date(datetime.date.fromisoformat(day))
    except (TypeError, ValueError):
        return day or "The earliest date the carriers allow"


def _partial(data, carrier):
    if not data["other_numbers_remain"]:
        return (
            f"Full port: every number on this account with {carrier} moves; no number stays on "
            "the account."
        )
    fate = {
        "keep": f"kept in service with {carrier}",
        "disconnect": f"disconnected by {carrier}",
    }.get(data["remaining_numbers"], "kept or disconnected as the customer tells the carrier")
    text = (
        f"Partial port: other numbers stay on this account with {carrier}. The numbers that "
        f"stay are to be {fate}."
    )
    if data["new_btn"]:
        text += f" Their new billing telephone number (BTN) is {data['new_btn']}."
    return text


def _authorization(data, carrier, carrier_name, attached):
    customer = data["customer_name"] or "the customer named above"
    listed = "listed in this letter and on Attachment A" if attached else "listed in this letter"
    return (
        f"I authorize {carrier_name} to act as the agent of {customer} to change the provider "
        f"of telephone service for the numbers {listed} from {carrier}, the current carrier, to "
        f"{carrier_name}, and to give {carrier} this letter and obtain from it the account "
        f"information needed to move them. {carrier_name} becomes the new provider of service "
        "for these numbers. I confirm that the billing name and address and each number shown "
        f"are correct, and that I am authorized to make this change for {customer}. I "
        "understand that only one carrier may be designated as the provider of service for any "
        f"one telephone number, and that I may consult {carrier} as to whether a fee applies to "
        "this change."
    )
