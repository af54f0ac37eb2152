"""The packet staff download: its pages, bookmarks, evidence and hashes read back with pypdf, its
seal; a stored document changed in the database stops it; the signed LOA is sealed as it is made."""

import hashlib
import io
import json

import pytest
from PIL import Image
from pypdf import PdfReader

from portal import documents
from portal.models import (
    Document,
    DocumentContent,
    PortNumber,
    PortRequest,
    RoutingTarget,
    utcnow,
)
from portal.port_requests import loa
from signing import SigningEnvelope, SigningEvent, envelopes, seal
from tests.test_loa_step import sign_here
from tests.test_proof_step import bill_pdf, bill_png
from tests.test_seal import signed
from tests.test_submit import SHARED, make_submittable, many, text_of

SECOND = "(614) 322-1002"


def submitted(app, owner_client, owner, *, numbers=(SHARED, SECOND), sign=True, **options):
    """Return the id of a submitted request whose LOA the owner signed in PortDesk (or, with
    `sign=False`, uploaded as signed elsewhere)."""
    request_id = make_submittable(
        app, owner.account_id, numbers=list(numbers), created_by=owner, loa=not sign, **options
    )
    if sign:
        assert sign_here(owner_client, request_id).status_code == 302
    assert owner_client.post(f"/port-requests/{request_id}/submit").status_code == 302
    return request_id


def packet_url(request_id):
    return f"/staff/requests/{request_id}/packet"


def download(client, request_id):
    response = client.get(packet_url(request_id))
    assert response.status_code == 200, text_of(response)
    assert response.mimetype == "application/pdf"
    return response.data


def evidence_of(data):
    return json.loads(PdfReader(io.BytesIO(data)).attachments["evidence.json"][0])


def outline_of(data):
    """Return the bookmarks as (title, page number from 1, [children the same way])."""
    reader = PdfReader(io.BytesIO(data))

    def walk(items):
        found = []
        for item in items:
            if isinstance(item, list):
                found[-1] = (*found[-1][:2], walk(item))
            else:
                found.append((item.title, reader.get_destination_page_number(item) + 1, []))
        return found

    return walk(reader.outline)


def current(app, request_id, kind):
    with app.app_context():
        return documents.current(PortRequest.get_by_id(request_id), kind)


def stored_bytes(app, document):
    with app.app_context():
        return documents.read(document)


def identity_of(app):
    return seal.of_config(app.config, app.instance_path)


@pytest.fixture
def mine(app, owner_client, owner):
    return submitted(app, owner_client, owner)


def test_the_packet_is_the_cover_the_signed_loa_and_the_bill_with_a_bookmark_each(
    app, staff_client, mine
):
    data = download(staff_client, mine)

    loa_pages = len(
        PdfReader(io.BytesIO(stored_bytes(app, current(app, mine, "signed_loa")))).pages
    )
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 1 + loa_pages + 1
    assert outline_of(data) == [
        ("Cover summary", 1, []),
        ("Signed LOA", 2, [("Certificate of completion", 1 + loa_pages, [])]),
        ("Bill (proof of ownership)", 2 + loa_pages, []),
    ]
    cover = " ".join(pages[0].extract_text().split())
    for words in (
        "Port request packet",
        "Harbor Clinic main lines",
        f"Port request {mine}",
        "Acme Dental (account 4242)",
        "Status Submitted: Sent to Carrier Relations",
        "Losing carrier Lumen",
        "Customer name HARBOR CLINIC, LLC",
        "Account number 81234465001",
        "Service address 1200 N High St, Columbus, OH 43201",
        "Numbers (2)",
        "Routing Front desk (14242) · tracking source Google Ads (24242) · Submitted: 2 numbers",
        "(614) 322-1001 (614) 322-1002",
    ):
        assert words in cover
    assert "Letter of Authorization" in pages[1].extract_text()
    assert "Certificate of completion" in pages[loa_pages].extract_text()
    assert "HARBOR CLINIC" in pages[-1].extract_text()


def test_the_evidence_names_every_part_with_the_hash_it_was_stored_with(app, staff_client, mine):
    data = download(staff_client, mine)

    evidence = evidence_of(data)
    bill, signed_loa = current(app, mine, "bill"), current(app, mine, "signed_loa")
    assert [(part["part"], part["first_page"], part["pages"]) for part in evidence["parts"]] == [
        ("cover", 1, 1),
        ("signed_loa", 2, 2),
        ("bill", 4, 1),
    ]
    cover, loa_part, bill_part = evidence["parts"]
    assert (loa_part["document_id"], loa_part["sha256"]) == (signed_loa.id, signed_loa.sha256)
    assert (bill_part["document_id"], bill_part["sha256"]) == (bill.id, bill.sha256)
    assert bill_part["sha256"] == hashlib.sha256(stored_bytes(app, bill)).hexdigest()
    cover_text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert bill.sha256 in cover_text and signed_loa.sha256 in cover_text
    assert len(cover["sha256"]) == 64 and cover["size"] > 0
    request = evidence["port_request"]
    with app.app_context():
        port_request = PortRequest.get_by_id(mine)
        assert request["fields"] == port_request.fields
        assert (request["id"], request["status"]) == (mine, "submitted")
        assert [n["e164"] for n in request["numbers"]] == ["+16143221001", "+16143221002"]
        assert request["numbers"][0]["routing"] == "Front desk (14242)"
        envelope = SigningEnvelope.get(SigningEnvelope.reference == loa.reference(mine))
        chain = [(event.kind, event.hash) for event in SigningEvent.of_envelope(envelope)]
    signing = evidence["signing"]
    assert (signing["envelope_id"], signing["signed_sha256"]) == (envelope.id, signed_loa.sha256)
    assert [(event["kind"], event["hash"]) for event in signing["events"]] == chain
    assert [kind for kind, _ in chain] == ["created", "consented", "signed"]


def test_the_packet_carries_this_deployments_seal_and_no_other_signature(app, staff_client, mine):
    data = download(staff_client, mine)

    verdict = seal.verify(data, identity_of(app))
    assert (verdict.sealed, verdict.reason) == (True, "PortDesk packet")
    one_byte_changed = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]
    assert not seal.verify(one_byte_changed, identity_of(app)).sealed


def test_the_signed_loa_made_by_signing_is_sealed_and_its_envelope_still_verifies(app, mine):
    stored = current(app, mine, "signed_loa")
    data = stored_bytes(app, stored)

    verdict = seal.verify(data, identity_of(app))

    assert (verdict.sealed, verdict.reason) == (True, "Signed LOA")
    with app.app_context():
        envelope = SigningEnvelope.get(SigningEnvelope.reference == loa.reference(mine))
        assert envelope.signed_sha256 == stored.sha256 == hashlib.sha256(data).hexdigest()
        assert envelopes.verify(envelope, data) == []
        changed = data.replace(b"/Reason (Signed LOA)", b"/Reason (Signed L0A)")
        assert changed != data
        assert envelopes.verify(envelope, changed) == [
            "The signed PDF is not the one this envelope produced."
        ]
    assert not seal.verify(changed, identity_of(app)).sealed


def test_an_uploaded_loa_goes_in_as_the_owner_uploaded_it(app, owner_client, owner, staff_client):
    request_id = submitted(app, owner_client, owner, sign=False)
    stored = current(app, request_id, "signed_loa")

    data = download(staff_client, request_id)

    assert seal.verify(stored_bytes(app, stored), identity_of(app)).problem == (
        "This PDF carries no seal: PortDesk did not seal it."
    )
    evidence = evidence_of(data)
    assert evidence["signing"] is None
    assert evidence["parts"][1]["sha256"] == stored.sha256
    assert "uploaded by PortDesk" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert outline_of(data)[1] == ("Signed LOA", 2, [])


def test_an_uploaded_loa_with_a_signature_of_its_own_goes_in_without_it(
    app, owner_client, owner, staff_client, tmp_path
):
    request_id = submitted(app, owner_client, owner, sign=False)
    elsewhere = seal.in_folder(tmp_path / "their-signing-service")
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        earlier = documents.current(port_request, "signed_loa")
        documents.store(
            account=port_request.account,
            kind="signed_loa",
            data=signed(bill_pdf(), elsewhere, "Their signature"),
            label="docusigned.pdf",
            user=None,
            max_bytes=app.config["MAX_DOCUMENT_BYTES"],
            port_request=port_request,
            signed_date=earlier.signed_date,
            loa_digest=earlier.loa_digest,
        )

    data = download(staff_client, request_id)

    assert seal.verify(data, identity_of(app)).sealed
    assert evidence_of(data)["parts"][1]["label"] == "docusigned.pdf"


def jpeg_bill():
    out = io.BytesIO()
    Image.new("RGB", (400, 600), "white").save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("image", "media_type"), [(bill_png, "image/png"), (jpeg_bill, "image/jpeg")]
)
def test_a_bill_photo_becomes_a_page_of_the_packet(app, staff_client, mine, image, media_type):
    with app.app_context():
        port_request = PortRequest.get_by_id(mine)
        documents.store(
            account=port_request.account,
            kind="bill",
            data=image(),
            label="bill-photo",
            user=None,
            max_bytes=app.config["MAX_DOCUMENT_BYTES"],
            port_request=port_request,
            statement_date=utcnow().date(),
        )

    data = download(staff_client, mine)

    last = PdfReader(io.BytesIO(data)).pages[-1]
    assert [(p["part"], p["media_type"], p["pages"]) for p in evidence_of(data)["parts"]][-1] == (
        "bill",
        media_type,
        1,
    )
    assert len(last.images) == 1
    assert (float(last.mediabox.width), float(last.mediabox.height)) == (612, 792)


def test_a_long_list_of_numbers_runs_over_the_cover_pages_every_one_listed(
    app, owner_client, owner, staff_client
):
    numbers = many(120)
    request_id = submitted(app, owner_client, owner, numbers=numbers)

    data = download(staff_client, request_id)

    cover_pages = evidence_of(data)["parts"][0]["pages"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages[:cover_pages])
    heading = "Routing Front desk (14242) · tracking source Google Ads (24242) · Submitted"
    assert cover_pages > 1
    assert "Numbers (120)" in text
    assert all(number in text for number in numbers)
    assert text.count(f"{heading}: 120 numbers") == cover_pages  # again atop every page
    assert text.count(f"{heading}: 120 numbers (continued)") == cover_pages - 1


def tamper(app, document, position=100):
    """Change one byte of a stored document's content, as a bad disk or a bad actor would."""
    with app.app_context():
        content = bytearray(stored_bytes(app, document))
        content[position] ^= 0x01
        DocumentContent.update(content=bytes(content)).where(
            DocumentContent.document == document.id
        ).execute()


@pytest.mark.parametrize("kind", ["bill", "signed_loa"])
def test_a_tampered_stored_document_blocks_the_packet_naming_it(app, staff_client, mine, kind):
    document = current(app, mine, kind)
    tamper(app, document)

    response = staff_client.get(packet_url(mine))

    assert response.status_code == 409
    assert response.mimetype == "text/html"
    text = text_of(response)
    assert "The packet can't be built" in text
    assert f"the stored {documents.WHAT[kind]} (“{document.label}”, document {document.id}" in text
    assert "no longer matches the SHA-256 recorded when it was stored" in text
    assert f'href="/staff/requests/{mine}"' in response.get_data(as_text=True)


def test_a_signing_record_changed_in_the_database_blocks_the_packet(app, staff_client, mine):
    with app.app_context():
        envelope = SigningEnvelope.get(SigningEnvelope.reference == loa.reference(mine))
        SigningEvent.update(ip="10.9.9.9").where(
            (SigningEvent.envelope == envelope) & (SigningEvent.kind == "consented")
        ).execute()

    response = staff_client.get(packet_url(mine))

    assert response.status_code == 409
    assert f"the signing record of the signed LOA (“Signed LOA.pdf”, envelope {envelope.id})" in (
        text_of(response)
    )
    assert "Event 2 (consented) was changed after it was recorded." in text_of(response)


def test_the_owner_gets_404_on_the_download(app, owner_client, mine):
    assert owner_client.get(packet_url(mine)).status_code == 404


@pytest.mark.parametrize("request_id", ["draft", 999_999, 2**31, 2**63])
def test_staff_get_404_for_a_draft_or_a_request_that_does_not_exist(
    app, owner, staff_client, request_id
):
    if request_id == "draft":
        request_id = make_submittable(app, owner.account_id, created_by=owner)

    assert staff_client.get(packet_url(request_id)).status_code == 404


def test_signing_in_comes_first(client, mine):
    response = client.get(packet_url(mine))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_every_part_stays_stored_as_it_was(app, staff_client, mine):
    with app.app_context():
        before = {doc.id: doc.sha256 for doc in Document.select()}

    download(staff_client, mine)

    with app.app_context():
        assert {doc.id: doc.sha256 for doc in Document.select()} == before
        for document in Document.select():
            assert hashlib.sha256(documents.read(document)).hexdigest() == document.sha256


def test_numbers_are_listed_under_where_they_ring_a_rejected_one_apart(
    app, owner_client, owner, staff_client, mine
):
    with app.app_context():
        PortNumber.update(status="rejected", reason="Not portable: disconnected").where(
            (PortNumber.port_request == mine) & (PortNumber.position == 1)
        ).execute()

    data = download(staff_client, mine)

    cover = " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert (
        "Routing Front desk (14242) · tracking source Google Ads (24242) · Submitted: 1 number "
        "(614) 322-1001 Routing Front desk (14242) · tracking source Google Ads (24242) · "
        "Rejected: Not portable: disconnected: 1 number (614) 322-1002"
    ) in cover
    assert [n["status"] for n in evidence_of(data)["port_request"]["numbers"]] == [
        "Submitted",
        "Rejected: Not portable: disconnected",
    ]


def test_a_name_helvetica_cannot_draw_is_drawn_in_dejavu(app, staff_client, mine):
    with app.app_context():
        RoutingTarget.update(name="Приёмная Łódź").where(RoutingTarget.id == 14242).execute()

    data = download(staff_client, mine)

    cover = PdfReader(io.BytesIO(data)).pages[0]
    fonts = {str(font["/BaseFont"]) for font in cover["/Resources"]["/Font"].values()}
    assert "Routing Приёмная Łódź (14242)" in cover.extract_text()
    assert fonts == {"/MPDFAA+DejaVuSansBook", "/MPDFAA+DejaVuSansBold"}


def test_a_latin_cover_is_set_in_helvetica_with_nothing_embedded(app, staff_client, mine):
    data = download(staff_client, mine)

    cover = PdfReader(io.BytesIO(data)).pages[0]
    fonts = {str(font["/BaseFont"]) for font in cover["/Resources"]["/Font"].values()}
    assert fonts == {"/Helvetica", "/Helvetica-Bold"}
    assert "“harbor-bill.pdf”" in cover.extract_text()
