"""The packet's cover summary: the account, the request, the carrier details, every number with
its routing, the dates and status, and what the parts that follow are (with their SHA-256).

No Flask. Drawn with fpdf2 from plain values (`Summary`), so its bytes depend on them alone. It
is set in Helvetica, which every PDF reader has (nothing embedded, nothing to subset: a cover of
a thousand numbers draws in milliseconds), unless a name on it has a letter Helvetica lacks:
then in the LOA's DejaVu Sans, which draws nearly every script.
"""

import datetime
import re
from dataclasses import dataclass

from fpdf import FPDF

from signing.pdf import FONTS, SANS, drawable, long_date

CORE = "Helvetica"
MARGIN = 54
LABEL_WIDTH = 150
ROW = 12
# What stands between two numbers of a row.
NUMBER_GAP = "      "
# A number as `portal.numbers.display` writes a US or Canadian one.
DISPLAYED = re.compile(r"\(\d{3}\) \d{3}-\d{4}")
SERVICE_TYPES = {"landline": "Landline", "voip": "VoIP", "wireless": "Wireless (mobile)"}
CUSTOMER_TYPES = {"business": "Business", "residential": "Residential"}
REMAINING = {"keep": "Kept in service with the losing carrier", "disconnect": "Disconnected"}
# What Helvetica draws: the Windows-1252 letters, as fpdf2 encodes them for its core fonts.
CORE_ENCODING = "windows-1252"


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
    numbers: list  # dicts: number, routing, source, status (and more the cover does not print)
    parts: list  # dicts: title, detail, pages, sha256
    built_at: datetime.datetime


class _Cover(FPDF):
    """The cover's pages: each ends with a footer and its page number."""

    family = CORE
    footer_text = ""

    def footer(self):
        self.set_y(-36)
        self.set_font(self.family, size=8)
        self.set_text_color(90)
        width = self.w - self.l_margin - self.r_margin
        text = _fitted(self, _one_line(self, self.footer_text), width * 0.75 - 4)
        self.cell(width * 0.75, 10, text)
        self.cell(width * 0.25, 10, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def build(summary):
    """Return the cover summary as PDF bytes."""
    pdf = _Cover(unit="pt", format="letter")
    pdf.core_fonts_encoding = CORE_ENCODING
    if not _core_draws(summary):
        pdf.family = SANS
        pdf.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
        pdf.add_font(SANS, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.footer_text = f"Packet of port request {summary.request_id} · {summary.account_name}"
    pdf.set_creation_date(summary.built_at.replace(tzinfo=datetime.UTC))
    pdf.set_title(f"Port request {summary.request_id}: {summary.title}")
    pdf.set_lang("en-US")
    _draw(pdf, summary)
    return bytes(pdf.output())


def _core_draws(summary):
    """Say whether Helvetica has every letter the cover prints."""
    texts = [summary.title, summary.account_name, summary.new_carrier, summary.status_sentence]
    texts += [text for _, text in summary.dates]
    texts += [str(value) for value in _flat(summary.loa)]
    texts += [text for number in summary.numbers for text in number.values() if text]
    texts += [str(part.get(key, "")) for part in summary.parts for key in ("title", "detail")]
    try:
        "\n".join(map(str, texts)).encode(CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _flat(value):
    if isinstance(value, dict):
        return [item for child in value.values() for item in _flat(child)]
    return [value] if value else []


def _draw(pdf, summary):
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 18)
    pdf.cell(0, 24, "Port request packet", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 11)
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
    """List the numbers by where they ring: a heading per routing, source and status, then the
    numbers under it, a row at a time, in the request's order."""
    groups = {}
    for number in numbers:
        key = (number["routing"], number["source"], number["status"])
        groups.setdefault(key, []).append(_one_line(pdf, number["number"]))
    width = pdf.w - 2 * MARGIN
    for (routing, source, status), listed in groups.items():
        count = f"{len(listed):,} {'number' if len(listed) == 1 else 'numbers'}"
        heading = f"Routing {routing} · tracking source {source} · {status}: {count}"
        _keep_lines(pdf, 3)
        _group_heading(pdf, heading)
        # Numbers written alike, (614) 322-1001, are as wide as each other (a font's digits
        # share one width): a row is one line of text, its columns in line with the next row's,
        # and as many as fit go in it. Anything else is measured, row by row.
        alike = all(DISPLAYED.fullmatch(number) for number in listed)
        one = pdf.get_string_width(listed[0] + NUMBER_GAP)
        per_row = max(1, int((width + pdf.get_string_width(NUMBER_GAP)) // one))
        for start in range(0, len(listed), per_row):
            if pdf.get_y() + ROW > pdf.h - MARGIN:
                pdf.add_page()
                _group_heading(pdf, f"{heading} (continued)")
            row = NUMBER_GAP.join(listed[start : start + per_row])
            pdf.text(
                pdf.l_margin, pdf.get_y() + ROW - 3, row if alike else _fitted(pdf, row, width)
            )
            pdf.set_y(pdf.get_y() + ROW)
        pdf.ln(4)


def _group_heading(pdf, text):
    pdf.set_font(pdf.family, "B", 9)
    _wrapped(pdf, text, ROW)
    pdf.set_font(pdf.family, "", 9)


def _keep_lines(pdf, lines):
    """Start a new page unless `lines` more rows fit on this one."""
    if pdf.get_y() + lines * ROW > pdf.h - MARGIN:
        pdf.add_page()


def _fitted(pdf, text, width):
    """Return the text (on one line) cut short with an ellipsis when it is wider than `width`."""
    if pdf.get_string_width(text) <= width:
        return text
    while len(text) > 1 and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _one_line(pdf, text):
    """Return the text on one line, each letter the font cannot draw replaced."""
    text = str(text or "")
    if not text.isprintable():
        text = "".join(char if char.isprintable() else " " for char in text)
    if pdf.family != SANS:
        return text  # `_core_draws` checked every letter
    return drawable(pdf, text)


def _heading(pdf, text):
    _keep_lines(pdf, 5)
    pdf.ln(6)
    pdf.set_font(pdf.family, "B", 11)
    pdf.cell(0, 16, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(0)
    pdf.ln(3)


def _row(pdf, label, value, size=9):
    """A label and its value beside it; a value too long for one line wraps under itself."""
    _keep_lines(pdf, 1)
    top, baseline = pdf.get_y(), pdf.get_y() + ROW - 3
    pdf.set_font(pdf.family, "", 9)
    pdf.set_text_color(90)
    pdf.text(pdf.l_margin, baseline, label)
    pdf.set_text_color(0)
    pdf.set_font(pdf.family, "", size)
    text = _one_line(pdf, value or "Not given")
    width = pdf.w - pdf.r_margin - pdf.l_margin - LABEL_WIDTH
    if pdf.get_string_width(text) <= width:
        # One line, as nearly every value is: drawn where it goes, no line breaking to run.
        pdf.text(pdf.l_margin + LABEL_WIDTH, baseline, text)
        pdf.set_y(top + ROW)
        return
    pdf.set_x(pdf.l_margin + LABEL_WIDTH)
    pdf.multi_cell(width, ROW, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _wrapped(pdf, text, height):
    """A line of text across the page; wrapped when it is longer."""
    text, width = _one_line(pdf, text), pdf.w - pdf.l_margin - pdf.r_margin
    if pdf.get_string_width(text) <= width:
        pdf.text(pdf.l_margin, pdf.get_y() + height - 3, text)
        pdf.set_y(pdf.get_y() + height)
        return
    pdf.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")


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
