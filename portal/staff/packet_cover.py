"""The packet's cover summary: the account, the request, the carrier details, every number with
its routing, the dates and status, and what the parts that follow are (with their SHA-256).

No Flask. The cover is drawn with fpdf2 in the certificate's type (DejaVu Sans), from plain
values (`Summary`), so its bytes depend on them alone.
"""

import datetime
from dataclasses import dataclass

from signing.pdf import SANS, close, drawable, long_date, new_pdf

MARGIN = 54
LABEL_WIDTH = 150
ROW = 12
# The numbers' table: (heading, width in points); the rest of the line is the status.
COLUMNS = (("#", 30), ("Number", 92), ("Routing", 150), ("Tracking source", 150))
SERVICE_TYPES = {"landline": "Landline", "voip": "VoIP", "wireless": "Wireless (mobile)"}
CUSTOMER_TYPES = {"business": "Business", "residential": "Residential"}
REMAINING = {"keep": "Kept in service with the losing carrier", "disconnect": "Disconnected"}


@dataclass(frozen=True)
class Summary:
    """What the cover prints: plain values only."""

    title: str
    request_id: int
    account_id: int
    account_name: str
    status: str  # its label ("Date confirmed")
    status_sentence: str
    new_carrier: str
    loa: dict  # `loa.loa_data` of the request: the carrier details, cleaned
    dates: list  # (label, text) pairs
    numbers: list  # dicts: number, routing, source, status
    parts: list  # dicts: title, detail, pages, sha256
    built_at: datetime.datetime


def build(summary):
    """Return the cover summary as PDF bytes."""
    pdf = new_pdf(
        title=f"Port request {summary.request_id}: {summary.title}",
        created=summary.built_at,
        footer=f"Packet of port request {summary.request_id} · {summary.account_name}",
    )
    try:
        _draw(pdf, summary)
        return bytes(pdf.output())
    finally:
        close(pdf)


def _draw(pdf, summary):
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()
    pdf.set_font(SANS, "B", 18)
    pdf.cell(0, 24, "Port request packet", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(SANS, "", 11)
    _wrapped(pdf, summary.title, 14)

    _heading(pdf, "Request")
    _row(pdf, "Request", f"Port request {summary.request_id}")
    _row(pdf, "Account", f"{summary.account_name} (account {summary.account_id})")
    _row(pdf, "Status", f"{summary.status}: {summary.status_sentence}")
    for label, text in summary.dates:
        _row(pdf, label, text)
    _row(pdf, "Packet built", _utc(summary.built_at))

    loa = summary.loa
    _heading(pdf, "Carrier details")
    _row(pdf, "Losing carrier", loa["carrier"] or "Not given")
    _row(pdf, "New carrier", summary.new_carrier)
    _row(pdf, "Service type", SERVICE_TYPES.get(loa["service_type"], loa["service_type"]))
    _row(pdf, "Customer type", CUSTOMER_TYPES.get(loa["customer_type"], loa["customer_type"]))
    _row(pdf, "Customer name", loa["customer_name"])
    _row(pdf, "Account number", loa["account_number"])
    _row(pdf, "Account PIN", loa["pin"] or "None given")
    _row(pdf, "Billing number (BTN)", loa["btn"])
    _row(pdf, "Service address", _address(loa["service_address"]))
    billing = loa["billing_address"]
    _row(pdf, "Billing address", _address(billing) if billing else "Same as the service address")
    person = loa["authorized"]
    _row(
        pdf,
        "Authorized representative",
        ", ".join(part for part in (person["name"], person["title"]) if part),
    )
    _row(
        pdf, "Their email and phone", " · ".join(p for p in (person["email"], person["phone"]) if p)
    )
    _row(pdf, "Partial port", _partial(loa))

    _heading(pdf, "Parts of this packet")
    for part in summary.parts:
        _row(pdf, part["title"], f"{part['detail']} · {_pages(part['pages'])}")
        _row(pdf, "SHA-256", part["sha256"], size=8)

    _heading(pdf, f"Numbers ({len(summary.numbers):,})")
    _numbers(pdf, summary.numbers)


def _numbers(pdf, numbers):
    widths = [width for _, width in COLUMNS]
    widths.append(pdf.w - 2 * MARGIN - sum(widths))
    headings = [heading for heading, _ in COLUMNS] + ["Status"]
    _table_row(pdf, headings, widths, bold=True)
    for position, number in enumerate(numbers, 1):
        if pdf.get_y() > pdf.h - MARGIN - 2 * ROW:
            pdf.add_page()
            _table_row(pdf, headings, widths, bold=True)
        values = [str(position), number["number"], number["routing"], number["source"]]
        _table_row(pdf, [*values, number["status"]], widths)


def _table_row(pdf, values, widths, bold=False):
    pdf.set_font(SANS, "B" if bold else "", 8)
    for value, width in zip(values, widths, strict=True):
        pdf.cell(width, ROW, _fitted(pdf, value, width - 4))
    pdf.ln(ROW)


def _fitted(pdf, text, width):
    """Return the text on one line of the width: cut short with an ellipsis when it is longer."""
    text = drawable(pdf, text)
    if pdf.get_string_width(text) <= width:
        return text
    while len(text) > 1 and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _heading(pdf, text):
    if pdf.get_y() > pdf.h - MARGIN - 60:
        pdf.add_page()
    pdf.ln(6)
    pdf.set_font(SANS, "B", 11)
    pdf.cell(0, 16, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(0)
    pdf.ln(3)


def _row(pdf, label, value, size=9):
    pdf.set_font(SANS, "", 9)
    top = pdf.get_y()
    pdf.set_text_color(90)
    pdf.multi_cell(LABEL_WIDTH, ROW, label, align="L", new_x="RIGHT", new_y="TOP")
    pdf.set_text_color(0)
    pdf.set_font(SANS, "", size)
    text = drawable(pdf, value or "Not given")
    pdf.multi_cell(0, ROW, text, align="L", new_x="LMARGIN", new_y="NEXT")
    # A page break inside the value starts the next row on the new page.
    if pdf.get_y() >= top:
        pdf.set_y(max(pdf.get_y(), top + ROW))


def _wrapped(pdf, text, height):
    pdf.multi_cell(0, height, drawable(pdf, text), align="L", new_x="LMARGIN", new_y="NEXT")


def _address(address):
    street = " ".join(filter(None, (address.get("street_number"), address.get("street"))))
    state_zip = " ".join(filter(None, (address.get("state"), address.get("zip"))))
    return ", ".join(
        part for part in (street, address.get("unit"), address.get("city"), state_zip) if part
    )


def _partial(loa):
    if not loa["other_numbers_remain"]:
        return "No: every number on the account moves"
    said = REMAINING.get(loa["remaining_numbers"], "Not said")
    text = f"Yes: other numbers stay. Those numbers: {said}"
    if loa["new_btn"]:
        text += f"; their new BTN is {loa['new_btn']}"
    return text


def _pages(count):
    return f"{count} page" if count == 1 else f"{count} pages"


def _utc(moment):
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def day(value):
    """Return a date (or ISO date text) as the cover writes it; None and "" stay None."""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value or None
    if isinstance(value, datetime.datetime):
        return _utc(value)
    return long_date(value) if value else None
