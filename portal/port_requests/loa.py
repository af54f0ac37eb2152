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

from portal.numbers import InvalidNumber, display, to_e164
from portal.port_requests.rules import Problem
from signing.pdf import FIXED_DATE, SANS, drawable, long_date, new_pdf

TITLE = "Letter of Authorization"
# Carriers want an LOA signed within this many days of the port.
MAX_AGE_DAYS = 30


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


def loa_problems(signed_loa, envelope, current_digest, *, today):
    """Return what stands between the request and a signed LOA that carriers take.

    `signed_loa` is the request's current signed LOA document (or None), `envelope` its newest
    signing envelope (or None), `current_digest` the digest of the LOA data as the request
    stands now. An LOA signed for other data no longer counts; one uploaded with a signing date
    past MAX_AGE_DAYS is a warning the owner may confirm.
    """
    if signed_loa is None:
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
        return [
            Problem(
                "loa",
                "loa_required",
                "error",
                "Get the Letter of Authorization signed: sign it yourself, send it to the "
                "authorized representative, or upload a copy that is already signed.",
            )
        ]
    if signed_loa.loa_digest != current_digest:
        return [
            Problem(
                "loa",
                "loa_outdated",
                "error",
                "A detail on the LOA changed after it was signed: the signature no longer "
                "counts. Get the new LOA signed.",
            )
        ]
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
LINE = 12
# Page 1 lists up to FIRST_ROWS rows of FIRST_COLUMNS numbers; every number is on Attachment A
# once there are more, in ATTACHMENT_COLUMNS columns.
FIRST_COLUMNS, FIRST_ROWS = 3, 10
ATTACHMENT_COLUMNS = 4
SIGNATURE_WIDTH, DATE_WIDTH, BOX_HEIGHT = 280, 150, 40
CUSTOMER_TYPES = {"business": "Business", "residential": "Residential"}
SERVICE_TYPES = {"landline": "Landline", "voip": "VoIP", "wireless": "Wireless (mobile)"}


def render(data, *, carrier_name):
    """Return the LOA of `loa_data` as PDF bytes, and the boxes its signature and date go in.

    Boxes are {"page", "x", "y", "width", "height"} in points from the page's top-left corner,
    pages from 0 (the signature block is on page 1 for any valid request).
    """
    numbers = data["numbers"]
    shown = min(len(numbers), FIRST_COLUMNS * FIRST_ROWS)
    while True:
        pdf, boxes = _render(data, carrier_name, shown)
        # Names and addresses long enough to push the signature block off page 1: fewer numbers
        # there (the rest are on Attachment A), a row at a time.
        if boxes["signature"]["page"] == 0 or shown == 0:
            return bytes(pdf.output()), boxes
        shown = max(0, shown - FIRST_COLUMNS)


def _render(data, carrier_name, shown):
    carrier = data["carrier"] or "the current carrier"
    pdf = new_pdf(
        title=f"{TITLE}: {data['customer_name']}",
        created=FIXED_DATE,
        footer=f"{TITLE} · {data['customer_name']} · PortDesk request {data['request_id']}",
    )
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()
    _title(pdf, data)

    _heading(pdf, "Customer")
    _row(pdf, "Customer (billing) name", data["customer_name"])
    customer_type = data["customer_type"]
    _row(pdf, "Customer type", CUSTOMER_TYPES.get(customer_type, customer_type))
    billing = data["billing_address"]
    _row(
        pdf,
        "Billing address",
        _one_line(billing) if billing else "Same as the service address",
    )
    _row(pdf, "Service address", _one_line(data["service_address"]))

    _heading(pdf, "Current service")
    _row(pdf, "Current (losing) carrier", data["carrier"])
    service_type = data["service_type"]
    _row(pdf, "Service type", SERVICE_TYPES.get(service_type, service_type))
    _row(pdf, "Account number", data["account_number"])
    if data["pin"]:
        _row(pdf, "Account PIN or passcode", data["pin"])
    _row(pdf, "Billing telephone number (BTN)", data["btn"])

    numbers = data["numbers"]
    _heading(pdf, f"Telephone numbers to move ({len(numbers):,})")
    _number_columns(pdf, numbers[:shown], FIRST_COLUMNS, start=1)
    if shown < len(numbers):
        _paragraph(
            pdf,
            f"and {len(numbers) - shown:,} more on Attachment A, which lists all "
            f"{len(numbers):,} numbers.",
            bold=True,
        )
    _paragraph(pdf, _partial(data, carrier))
    _row(pdf, "Requested port date", _requested(data["requested_date"]))

    _heading(pdf, "Authorization and designation of agent")
    _paragraph(pdf, _authorization(data, carrier, carrier_name))

    _heading(pdf, "Authorized representative")
    authorized = data["authorized"]
    _row(pdf, "Name", authorized["name"])
    if authorized["title"]:
        _row(pdf, "Title", authorized["title"])
    _row(pdf, "Email", authorized["email"])
    _row(pdf, "Phone", authorized["phone"])

    boxes = _signature_block(pdf, authorized)
    if shown < len(numbers):
        _attachment(pdf, data, numbers)
    return pdf, boxes


def _title(pdf, data):
    pdf.set_font(SANS, "B", 16)
    pdf.cell(0, 20, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(SANS, "", 9)
    pdf.cell(
        0,
        LINE,
        f"Authorization to change the provider of telephone service (47 CFR 64.1130) · "
        f"PortDesk request {data['request_id']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _heading(pdf, text):
    pdf.ln(5)
    pdf.set_font(SANS, "B", 10)
    pdf.cell(0, 14, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(170)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(0)
    pdf.ln(2)


def _row(pdf, label, value):
    pdf.set_font(SANS, "", 9)
    top, page = pdf.get_y(), pdf.page
    pdf.set_text_color(80)
    pdf.multi_cell(LABEL_WIDTH, LINE, label, new_x="RIGHT", new_y="TOP")
    pdf.set_text_color(0)
    pdf.multi_cell(0, LINE, drawable(pdf, value) or "-", new_x="LMARGIN", new_y="NEXT")
    if pdf.page == page:
        pdf.set_y(max(pdf.get_y(), top + LINE))


def _paragraph(pdf, text, *, bold=False):
    pdf.set_font(SANS, "B" if bold else "", 9)
    pdf.multi_cell(0, LINE, drawable(pdf, text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _number_columns(pdf, numbers, columns, *, start, top=None, rows=None):
    """List numbers down `columns` columns from the current line, each with its place."""
    if not numbers:
        return
    pdf.set_font(SANS, "", 9)
    rows = rows or -(-len(numbers) // columns)
    top = pdf.get_y() if top is None else top
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / columns
    place_width = pdf.get_string_width(f"{start + len(numbers) - 1:,}.")
    for index, number in enumerate(numbers):
        column, row = divmod(index, rows)
        x = pdf.l_margin + column * width
        baseline = top + row * LINE + LINE * 0.75
        place = f"{start + index:,}."
        pdf.text(x + place_width - pdf.get_string_width(place), baseline, place)
        pdf.text(x + place_width + 6, baseline, drawable(pdf, number))
    pdf.set_y(top + rows * LINE + 2)


def _attachment(pdf, data, numbers):
    """Attachment A: every number, in columns, each page saying which of how many it is."""
    intro = drawable(
        pdf,
        f"To the {TITLE} of {data['customer_name']}, account {data['account_number']}, BTN "
        f"{data['btn']}: all {len(numbers):,} numbers to move, in the order of the request.",
    )
    pdf.set_font(SANS, "", 9)
    # The intro is the same on every page: its height, and so the rows a page holds, are known
    # before the first page is drawn, which is what "page x of y" needs.
    lines = len(pdf.multi_cell(0, LINE, intro, dry_run=True, output="LINES"))
    top = pdf.t_margin + 18 + lines * LINE + 8
    rows = max(1, int((pdf.h - pdf.b_margin - 14 - top) // LINE))
    per_page = rows * ATTACHMENT_COLUMNS
    pages = -(-len(numbers) // per_page)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font(SANS, "B", 12)
        pdf.cell(
            0,
            18,
            f"Attachment A: the telephone numbers to move · page {page + 1} of {pages}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        _paragraph(pdf, intro)
        start = page * per_page
        chunk = numbers[start : start + per_page]
        _number_columns(
            pdf,
            chunk,
            ATTACHMENT_COLUMNS,
            start=start + 1,
            top=top,
            rows=min(rows, -(-len(chunk) // ATTACHMENT_COLUMNS)),
        )


def _signature_block(pdf, authorized):
    """Draw the signature and date lines with the printed name and title; return their boxes."""
    height = 14 + BOX_HEIGHT + 3 * LINE
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(14)
    top = pdf.get_y()
    left = pdf.l_margin
    date_left = pdf.w - pdf.r_margin - DATE_WIDTH
    line_y = top + BOX_HEIGHT
    pdf.set_line_width(0.7)
    pdf.line(left, line_y, left + SIGNATURE_WIDTH, line_y)
    pdf.line(date_left, line_y, date_left + DATE_WIDTH, line_y)
    pdf.set_line_width(0.2)
    pdf.set_font(SANS, "", 8)
    pdf.set_text_color(80)
    pdf.text(left, line_y + 10, "Signature of the authorized representative")
    pdf.text(date_left, line_y + 10, "Date")
    pdf.set_text_color(0)
    pdf.set_font(SANS, "", 9)
    pdf.set_y(line_y + 14)
    _row(pdf, "Printed name", authorized["name"])
    _row(pdf, "Title", authorized["title"] or "-")
    page = pdf.page - 1
    return {
        "signature": _box(page, left, top, SIGNATURE_WIDTH, BOX_HEIGHT),
        "date": _box(page, date_left, top + BOX_HEIGHT - 22, DATE_WIDTH, 20),
    }


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


def _authorization(data, carrier, carrier_name):
    customer = data["customer_name"] or "the customer named above"
    return (
        f"I authorize {carrier_name} to act as the agent of {customer} to change the provider "
        f"of telephone service for the numbers listed in this letter (and on Attachment A, if "
        f"any) from {carrier}, the current carrier, to {carrier_name}, and to give {carrier} "
        f"this letter and obtain from it the account information needed to move them. "
        f"{carrier_name} becomes the new provider of service for these numbers. I confirm that "
        "the billing name and address and each number shown are correct, and that I am "
        f"authorized to make this change for {customer}. I understand that only one carrier "
        "may be designated as the provider of service for any one telephone number, and that I "
        f"may consult {carrier} as to whether a fee applies to this change."
    )
