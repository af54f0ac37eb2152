"""The LOA as a PDF: what 47 CFR 64.1130 asks for is on it, every number is, and it is stable."""

import datetime
import gc
import hashlib
import io
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from portal import documents
from portal.port_requests import loa
from signing import certificate, pdf
from signing.envelopes import Signature

CARRIER = "PortDesk Communications, Inc."
LETTER = (612, 792)


def _rows(count, first=0):
    return [
        SimpleNamespace(e164=f"+1614{(3220000 + first + index):07d}", phone_number=None)
        for index in range(count)
    ]


def fields(**changes):
    """Return a complete request's fields (a partial port with a billing address of its own)."""
    values = {
        "billing": {
            "customer_name": "Zoë's Café LLC",
            "customer_type": "business",
            "carrier": "Verizon Business",
            "service_type": "voip",
            "account_number": "ACCT-778899",
            "pin": "4321",
            "btn": "614-322-1001",
        },
        "service_address": {
            "street_number": "123",
            "street": "Main St",
            "unit": "Suite 4",
            "city": "Columbus",
            "state": "OH",
            "zip": "43215",
        },
        "billing_address": {
            "street_number": "",
            "street": "PO Box 77",
            "unit": "",
            "city": "Dublin",
            "state": "OH",
            "zip": "43017",
        },
        "authorized": {
            "name": "Jane Doe",
            "title": "Office Manager",
            "email": "jane@example.com",
            "phone": "614-322-1002",
        },
        "partial_port": {
            "other_numbers_remain": True,
            "remaining_numbers": "disconnect",
            "new_btn": "614-322-1099",
        },
        "requested_date": "2026-12-10",
    }
    for path, value in changes.items():
        section, _, key = path.partition(".")
        if key:
            values[section] = dict(values[section], **{key: value})
        else:
            values[section] = value
    return values


def data(count=3, **changes):
    return loa.loa_data(fields(**changes), _rows(count), request_id=12, account_name="Zoë's")


def _text(pdf_bytes):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def _flat(text):
    return " ".join(text.split())


def test_every_detail_47_cfr_asks_for_is_on_page_one():
    document, _ = loa.render(data(), carrier_name=CARRIER)
    reader = PdfReader(io.BytesIO(document))
    assert len(reader.pages) == 1
    text = _flat(reader.pages[0].extract_text())
    for expected in (
        "Letter of Authorization",
        "47 CFR 64.1130",
        "PortDesk request 12",
        "Customer (billing) name Zoë's Café LLC",
        "Customer type Business",
        "Billing address PO Box 77, Dublin, OH 43017",
        "Service address 123 Main St, Suite 4, Columbus, OH 43215",
        "Current (losing) carrier Verizon Business",
        "Service type VoIP",
        "Account number ACCT-778899",
        "Account PIN or passcode 4321",
        "Billing telephone number (BTN) (614) 322-1001",
        "Telephone numbers to move (3)",
        "1. (614) 322-0000",
        "2. (614) 322-0001",
        "3. (614) 322-0002",
        "Partial port: other numbers stay on this account with Verizon Business.",
        "The numbers that stay are to be disconnected by Verizon Business.",
        "Their new billing telephone number (BTN) is (614) 322-1099.",
        "Requested port date December 10, 2026",
        # The authorization and designation of the agent, naming the new provider.
        f"I authorize {CARRIER} to act as the agent of Zoë's Café LLC",
        f"from Verizon Business, the current carrier, to {CARRIER}",
        f"{CARRIER} becomes the new provider of service for these numbers.",
        "only one carrier may be designated as the provider of service for any one telephone",
        "whether a fee applies to this change",
        "Title Office Manager",
        "Email jane@example.com",
        "Phone 614-322-1002",  # as the owner typed it
        "Signature of the authorized representative",
        "Date",
        "Printed name Jane Doe",
        "Page 1 of 1",
    ):
        assert expected in text
    assert "Attachment A" not in text


@pytest.mark.parametrize(
    ("changes", "expected", "absent"),
    [
        ({"billing_address": None}, "Billing address Same as the service address", "PO Box"),
        ({"billing.pin": ""}, "Account number ACCT-778899", "PIN"),
        ({"requested_date": None}, "Requested port date The earliest date the carriers allow", ""),
        (
            {"partial_port": {"other_numbers_remain": False}},
            "Full port: every number on this account with Verizon Business moves",
            "Partial port",
        ),
        (
            {"partial_port.remaining_numbers": "keep", "partial_port.new_btn": None},
            "The numbers that stay are to be kept in service with Verizon Business.",
            "new billing telephone number",
        ),
        (
            {"billing.customer_type": "residential", "authorized.title": ""},
            "Customer type Residential",
            "Office Manager",
        ),
    ],
)
def test_the_letter_says_what_the_request_says(changes, expected, absent):
    text = _flat(_text(loa.render(data(**changes), carrier_name=CARRIER)[0]))
    assert expected in text
    if absent:
        assert absent not in text


def test_a_thousand_numbers_are_all_on_attachment_a_page_by_page():
    numbers = data(1000)["numbers"]
    document, boxes = loa.render(data(1000), carrier_name=CARRIER)
    reader = PdfReader(io.BytesIO(document))
    pages = [_flat(page.extract_text()) for page in reader.pages]
    first = pages[0]
    assert "Telephone numbers to move (1,000)" in first
    assert "30. (614) 322-0029" in first and "31. (614)" not in first
    assert "and 970 more on Attachment A, which lists all 1,000 numbers." in first
    attachment = pages[1:]
    assert attachment
    for index, text in enumerate(attachment, start=1):
        assert (
            f"Attachment A: the telephone numbers to move · page {index} of {len(attachment)}"
            in (text)
        )
        assert f"Page {index + 1} of {len(pages)}" in text
    listed = " ".join(attachment)
    for place, number in enumerate(numbers, start=1):
        assert f"{place:,}. {number}" in listed
    assert boxes["signature"]["page"] == 0


def test_thirty_numbers_fit_on_page_one_without_an_attachment():
    text = _flat(_text(loa.render(data(30), carrier_name=CARRIER)[0]))
    assert "30. (614) 322-0029" in text
    assert "Attachment A" not in text


def test_the_same_data_gives_the_same_bytes():
    first, boxes = loa.render(data(40), carrier_name=CARRIER)
    again, boxes_again = loa.render(data(40), carrier_name=CARRIER)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    assert boxes == boxes_again
    assert (
        PdfReader(io.BytesIO(first)).metadata["/CreationDate"]
        == (PdfReader(io.BytesIO(again)).metadata["/CreationDate"])
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"billing.customer_name": "Zoe's Cafe LLC"},
        {"billing.account_number": "ACCT-778898"},
        {"billing.pin": "4322"},
        {"service_address.zip": "43216"},
        {"authorized.email": "jane@example.org"},
        {"partial_port.remaining_numbers": "keep"},
        {"requested_date": "2026-12-11"},
    ],
)
def test_one_changed_field_gives_another_document(changes):
    assert (
        loa.render(data(**changes), carrier_name=CARRIER)[0]
        != loa.render(data(), carrier_name=CARRIER)[0]
    )


def test_another_number_or_carrier_gives_another_document():
    original = loa.render(data(40), carrier_name=CARRIER)[0]
    other_number = loa.loa_data(fields(), _rows(40, first=1), request_id=12, account_name="Z")
    assert loa.render(other_number, carrier_name=CARRIER)[0] != original
    assert loa.render(data(40), carrier_name="Another Carrier LLC")[0] != original


def _inside(box):
    return (
        box["x"] >= 0
        and box["x"] + box["width"] <= LETTER[0]
        and box["y"] >= 0
        and box["y"] + box["height"] <= LETTER[1]
    )


def _overlap(one, two):
    return not (
        one["x"] + one["width"] <= two["x"]
        or two["x"] + two["width"] <= one["x"]
        or one["y"] + one["height"] <= two["y"]
        or two["y"] + two["height"] <= one["y"]
    )


@pytest.mark.parametrize("count", [1, 30, 31, 1000])
def test_the_boxes_are_on_page_one_inside_it_and_apart(count):
    document, boxes = loa.render(data(count), carrier_name=CARRIER)
    page = PdfReader(io.BytesIO(document)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == LETTER
    assert set(boxes) == {"signature", "date"}
    for box in boxes.values():
        assert box["page"] == 0
        assert _inside(box)
    assert not _overlap(boxes["signature"], boxes["date"])


def test_the_longest_details_still_leave_the_signature_block_on_page_one():
    long = ("Wolfgang Worthington Westmoreland " * 7)[:200]  # the rules' limit for a field
    changes = {
        "billing.customer_name": long,
        "billing.carrier": long,
        "billing.account_number": long,
        "service_address.street": long,
        "authorized.name": long,
        "authorized.title": long,
    }
    document, boxes = loa.render(data(1000, **changes), carrier_name=CARRIER)
    gc.collect()  # a font file left open by a discarded layout would warn now
    assert boxes["signature"]["page"] == 0 and _inside(boxes["signature"])
    listed = _flat(_text(document))
    assert "1,000. (614) 322-0999" in listed


def test_names_in_any_script_do_not_stop_the_letter():
    changes = {"billing.customer_name": "山田商事 😀 Ωμέγα", "authorized.name": "Łukasz Żółw"}
    text = _flat(_text(loa.render(data(**changes), carrier_name=CARRIER)[0]))
    assert "Customer (billing) name \ufffd\ufffd\ufffd\ufffd 😀 Ωμέγα" in text
    assert "Printed name Łukasz Żółw" in text


def _drawing():
    image = Image.new("RGBA", (900, 300), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(80, 220), (300, 60), (820, 200)], fill=(0, 0, 80, 255), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _certificate(document, stamped):
    at = datetime.datetime(2026, 11, 27, 15, 0)
    summary = {
        "id": 1,
        "title": loa.TITLE,
        "requester_name": "Zoë's",
        "requested_by": "Owner",
        "signer_name": "Jane Doe",
        "signer_email": "jane@example.com",
        "method": "email",
        "status": "signed",
        "consent_version": "esign-0123456789ab",
        "consent_sha256": "d" * 64,
        "document_sha256": hashlib.sha256(document).hexdigest(),
        "signed_at": at,
    }
    event = {
        "seq": 1,
        "kind": "signed",
        "at": at,
        "actor": "Jane Doe",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "detail": {
            "signature": "drawn",
            "signed_document_sha256": hashlib.sha256(stamped).hexdigest(),
        },
        "hash": "e" * 64,
    }
    return certificate.build(summary, [event])


@pytest.mark.parametrize("count", [3, 1000])
@pytest.mark.parametrize(
    "signature", [Signature(drawn_png=_drawing()), Signature(typed_name="Jane Doe")]
)
def test_the_signed_loa_with_its_certificate_is_a_document_the_store_keeps(count, signature):
    document, boxes = loa.render(data(count), carrier_name=CARRIER)
    stamped = pdf.stamp(
        document,
        boxes,
        signature=signature,
        signer_name="Jane Doe",
        signed_on=datetime.date(2026, 11, 27),
    )
    signed = pdf.merge([stamped, _certificate(document, stamped)])
    pages = len(PdfReader(io.BytesIO(document)).pages)
    inspected = documents.inspect(signed, "signed_loa", max_bytes=10 * 1024 * 1024)
    assert inspected.media_type == documents.PDF
    assert inspected.pages == pages + 1
    text = _flat(inspected.text)
    assert "November 27, 2026" in text
    assert "Certificate of completion" in text
    assert hashlib.sha256(stamped).hexdigest() in text
    assert f"{count:,}. (614)" in text


def test_the_most_numbers_a_request_may_have_make_an_loa_the_store_keeps():
    from portal.portability import MAX_ENTRIES

    document, boxes = loa.render(data(MAX_ENTRIES), carrier_name=CARRIER)
    inspected = documents.inspect(document, "signed_loa", max_bytes=10 * 1024 * 1024)
    assert inspected.pages <= documents.MAX_PAGES
    assert boxes["signature"]["page"] == 0
    last = PdfReader(io.BytesIO(document)).pages[-1].extract_text()
    assert f"{MAX_ENTRIES:,}. (614) 323-9999" in last
