"""Fax ports: the Port fax numbers form, a ticket's page and its downloads, the owner's list and
the staff queue."""

import hashlib
import io
import json
import logging
import re
from html import unescape

import pytest
from fpdf import FPDF
from PIL import Image

from portal import documents
from portal.documents import DocumentRefused
from portal.models import Document, DocumentContent, FaxTicket, User
from tests.conftest import without_csrf

MAX_BYTES = 10 * 1024 * 1024
NUMBERS = "(614) 322-1001\n614-322-1002, +1 614 322 1003"
E164 = ["+16143221001", "+16143221002", "+16143221003"]
# The first bytes of a Windows executable.
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def pdf_bytes(text="Harbor Telecom - fax line bill"):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def image_bytes(image_format):
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, format=image_format)
    return buffer.getvalue()


PDF = pdf_bytes()
PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
TIFF = image_bytes("TIFF")


def html_of(response):
    return response.get_data(as_text=True)


def text_of(response):
    """The page's words, without tags or repeated spaces."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html_of(response))).split())


def error_of(response, field_id):
    """Return the words of a field's error, or None when the field has none."""
    match = re.search(
        rf'<(?:p|div) class="field__error" id="{field_id}-error">(.*?)</(?:p|div)>\s*</div>',
        html_of(response),
        re.S,
    )
    if match is None:
        return None
    words = re.sub(r"</?span[^>]*>", "", match.group(1))
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", words)).split())


def flashes(response):
    return [
        unescape(message)
        for message in re.findall(r'<p class="flash flash--\w+">(.*?)</p>', html_of(response))
    ]


def file_ticket(client, numbers=NUMBERS, proof=(PDF, "bill.pdf"), loa=(PNG, "loa.png"), **extra):
    data = {"numbers": numbers, **extra}
    for name, upload in (("fax_proof", proof), ("fax_loa", loa)):
        if upload is not None:
            content, filename = upload
            data[name] = (io.BytesIO(content), filename)
    return client.post("/fax-ports/new", data=data, content_type="multipart/form-data")


def refusal(content, kind):
    """Return the document store's own message for this file as this kind."""
    with pytest.raises(DocumentRefused) as refused:
        documents.inspect(content, kind, max_bytes=MAX_BYTES)
    return str(refused.value)


def stored(app):
    """Return how many fax tickets, documents and documents' contents are stored."""
    with app.app_context():
        return (
            FaxTicket.select().count(),
            Document.select().count(),
            DocumentContent.select().count(),
        )


def make_ticket(app, client, numbers=NUMBERS, proof=(PDF, "bill.pdf"), loa=(PNG, "loa.png")):
    """File a ticket through the form; return it and its documents, proof first."""
    response = file_ticket(client, numbers, proof, loa)
    assert response.status_code == 302, text_of(response)
    ticket_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        ticket = FaxTicket.get_by_id(ticket_id)
        found = list(Document.select().where(Document.fax_ticket == ticket).order_by(Document.id))
    return ticket, found


def test_the_form_says_fax_ports_take_1_2_weeks_through_carrier_relations(owner_client):
    response = owner_client.get("/fax-ports/new")
    html, text = html_of(response), text_of(response)

    assert response.status_code == 200
    assert "<h1>Port fax numbers</h1>" in html
    assert "Fax ports take 1–2 weeks and go through Carrier Relations" in text
    assert '<input type="text" id="account_id" value="4242" readonly' in html
    assert '<label for="numbers">Fax numbers</label>' in html
    assert '<label for="fax_proof">Proof of ownership</label>' in html
    assert '<label for="fax_loa">Your carrier&#39;s Letter of Authorization</label>' in html
    assert 'enctype="multipart/form-data"' in html
    assert "Each file up to 10 MB, both together up to 24 MB." in text
    assert "fax.css" in html


def test_a_fax_ticket_end_to_end(app, owner, owner_client, staff_client):
    # The account id comes from the owner's sign-in, never from the form.
    response = file_ticket(owner_client, account_id="5151")

    assert response.status_code == 302
    with app.app_context():
        ticket = FaxTicket.get()
        proof, loa = Document.select().order_by(Document.id)
        contents = {row.document_id: bytes(row.content) for row in DocumentContent.select()}
    assert response.headers["Location"] == f"/fax-ports/{ticket.id}"
    assert (ticket.account_id, ticket.created_by_id, ticket.status) == (4242, owner.id, "submitted")
    assert ticket.title == "Fax Porting Documentation - 4242"
    assert json.loads(ticket.numbers) == E164
    kept = [
        (d.kind, d.label, d.media_type, d.size, d.sha256, d.account_id, d.fax_ticket_id)
        for d in (proof, loa)
    ]
    assert kept == [
        ("fax_proof", "bill.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest(),
         4242, ticket.id),
        ("fax_loa", "loa.png", "image/png", len(PNG), hashlib.sha256(PNG).hexdigest(),
         4242, ticket.id),
    ]  # fmt: skip
    assert (proof.port_request_id, loa.port_request_id) == (None, None)
    assert contents == {proof.id: PDF, loa.id: PNG}

    page = owner_client.get(response.headers["Location"])
    text = text_of(page)
    assert flashes(page)[-1] == (
        "Your fax port ticket is filed. Fax ports take 1–2 weeks: Carrier Relations will be in "
        "touch about the next steps."
    )
    assert "<h1>Fax Porting Documentation - 4242</h1>" in html_of(page)
    assert "Status: Submitted" in text
    assert "Filed by Ann Owner" in text
    assert "Fax numbers 3 (614) 322-1001 +16143221001 (614) 322-1002" in text
    assert "Proof of ownership bill.pdf PDF" in text
    assert "Carrier's Letter of Authorization loa.png PNG" in text
    assert text.count("Ann Owner,") == 2
    for doc in (proof, loa):
        assert f'href="/fax-ports/{ticket.id}/documents/{doc.id}" download' in html_of(page)

    download = owner_client.get(f"/fax-ports/{ticket.id}/documents/{proof.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{documents.download_name(proof)}"'
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    image = owner_client.get(f"/fax-ports/{ticket.id}/documents/{loa.id}")
    assert (image.data, image.headers["Content-Type"]) == (PNG, "image/png")

    listing = owner_client.get("/port-requests/")
    section = html_of(listing).split('id="fax-tickets"')[1]
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>")[1], re.S)
    cells = [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    day = f"{ticket.created_at.day} {ticket.created_at:%b %Y}"
    assert cells == [f"Fax Porting Documentation - 4242 Ticket {ticket.id} Submitted 3 {day}"]
    assert f'<a href="/fax-ports/{ticket.id}">Fax Porting Documentation - 4242</a>' in section
    assert '<a class="button" href="/fax-ports/new">Port fax numbers</a>' in section

    queue = staff_client.get("/queue/")
    rows = re.findall(r"<tr>(.*?)</tr>", html_of(queue).split("<tbody>")[1], re.S)
    cells = [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    assert cells == [
        f"Fax Porting Documentation - 4242 fax ticket {ticket.id} Acme Dental 4242 Submitted 3 "
        f"{day} by ticket not set under a minute"
    ]
    assert f'<a href="/fax-ports/{ticket.id}">' in html_of(queue)
    # Staff find it by any of its numbers, in any format.
    found = html_of(staff_client.get("/queue/?q=614.322.1002"))
    assert re.findall(r'href="/fax-ports/(\d+)"', found) == [str(ticket.id)]


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        pytest.param(
            "(614) 322-1001\n212-555-0150\n(416) 555-1234",
            "2 of 3 numbers can't be ported, as listed below: correct or remove them and send "
            "the form again. Line 2, 212-555-0150: 555-0100 to 555-0199 are reserved for "
            "fiction: not a real number. Line 3, (416) 555-1234: Canadian numbers can't be "
            "ported here: open a ticket with Carrier Relations and we will port it for you.",
            id="fiction-and-canada",
        ),
        pytest.param(
            "6143221001, 614.322.1001",
            "1 of 2 numbers can't be ported, as listed below: correct or remove it and send the "
            "form again. Line 1, number 2, 614.322.1001: Repeated: line 1, number 1 has the "
            "same number.",
            id="repeated",
        ),
        pytest.param(
            "+1 312 263 0000",
            "1 of 1 numbers can't be ported, as listed below: correct or remove it and send the "
            "form again. Line 1, +1 312 263 0000: This account's fail-safe number: calls fall "
            "back to it when routing fails.",
            id="fail-safe",
        ),
        pytest.param(
            "614322\x001001",
            "1 of 1 numbers can't be ported, as listed below: correct or remove it and send the "
            "form again. Line 1, 614322\x001001: Not a phone number.",
            id="nul-byte",
        ),
        pytest.param(" \n , ", "Enter the fax numbers to port.", id="blank"),
        pytest.param(
            "\n".join(f"(614) 322-{n:04}" for n in range(1100, 1201)),
            "You entered 101 numbers; one ticket takes at most 100. File the rest in another "
            "ticket.",
            id="101-numbers",
        ),
        pytest.param(
            "6" * 20_000,
            "That is more text than 100 numbers take: enter at most 100 fax numbers and file the "
            "rest in another ticket.",
            id="too-long",
        ),
    ],
)
def test_refused_numbers_are_named_with_their_reasons_and_nothing_is_stored(
    app, owner_client, numbers, expected
):
    response = file_ticket(owner_client, numbers=numbers)

    assert response.status_code == 200
    assert error_of(response, "numbers") == expected
    assert 'aria-describedby="numbers-hint numbers-error"' in html_of(response)
    assert "The ticket was not filed: fix what is marked below." in text_of(response)
    assert stored(app) == (0, 0, 0)


def test_a_refused_file_is_named_with_the_refused_numbers(app, owner_client):
    response = file_ticket(owner_client, numbers="212-555-0150", proof=(EXECUTABLE, "bill.pdf"))

    assert error_of(response, "numbers").startswith("1 of 1 numbers can't be ported")
    assert error_of(response, "fax_proof") == refusal(EXECUTABLE, "fax_proof")
    assert error_of(response, "fax_loa") is None
    assert stored(app) == (0, 0, 0)


def test_the_same_form_sent_again_files_no_second_ticket(app, owner_client):
    first, _ = make_ticket(app, owner_client)

    owner_client.get(f"/fax-ports/{first.id}")  # shows the first filing's message
    again = file_ticket(owner_client)

    assert again.headers["Location"] == f"/fax-ports/{first.id}"
    assert flashes(owner_client.get(again.headers["Location"])) == [
        "This ticket was filed already, with the same numbers and files: here it is. Fax ports "
        "take 1–2 weeks: Carrier Relations will be in touch about the next steps."
    ]
    other_files = file_ticket(owner_client, loa=(JPEG, "loa.jpg"))
    other_numbers = file_ticket(owner_client, numbers="(614) 322-1001")
    assert other_files.headers["Location"] != f"/fax-ports/{first.id}"
    assert other_numbers.headers["Location"] != f"/fax-ports/{first.id}"
    assert stored(app) == (3, 6, 6)


def test_a_hundred_numbers_make_one_ticket(app, owner_client):
    numbers = [f"+1614322{n:04}" for n in range(1100, 1200)]

    ticket, found = make_ticket(app, owner_client, numbers="\n".join(numbers))

    assert json.loads(ticket.numbers) == numbers
    assert len(found) == 2


@pytest.mark.parametrize(
    ("proof", "loa", "refused"),
    [
        pytest.param((EXECUTABLE, "bill.pdf"), (PNG, "loa.png"), ["fax_proof"], id="exe-as-proof"),
        pytest.param((PDF, "bill.pdf"), (EXECUTABLE, "loa.pdf"), ["fax_loa"], id="exe-as-loa"),
        pytest.param(
            (b"<html><body>bill</body></html>", "bill.pdf"),
            (EXECUTABLE, "loa.jpg"),
            ["fax_proof", "fax_loa"],
            id="both",
        ),
        pytest.param((PDF, "bill.pdf"), (TIFF, "loa.tiff"), ["fax_loa"], id="tiff-as-loa"),
        pytest.param((b"", "bill.pdf"), (PNG, "loa.png"), ["fax_proof"], id="empty-file"),
    ],
)
def test_a_file_refused_by_its_content_says_why_on_its_field_and_nothing_is_stored(
    app, owner_client, proof, loa, refused
):
    response = file_ticket(owner_client, proof=proof, loa=loa)

    assert response.status_code == 200
    for name, (content, _) in (("fax_proof", proof), ("fax_loa", loa)):
        expected = refusal(content, name) if name in refused else None
        assert error_of(response, name) == expected
    assert stored(app) == (0, 0, 0)
    text = text_of(response)
    assert (
        "Choose the files again too: a browser does not keep them after a form is refused." in text
    )
    # What was typed is kept.
    assert "(614) 322-1001\n614-322-1002, +1 614 322 1003</textarea>" in unescape(html_of(response))


def test_a_tiff_is_accepted_as_proof(app, owner_client):
    ticket, (proof, loa) = make_ticket(app, owner_client, proof=(TIFF, "scan.tif"))

    assert (proof.kind, proof.media_type, proof.pages) == ("fax_proof", "image/tiff", 1)
    download = owner_client.get(f"/fax-ports/{ticket.id}/documents/{proof.id}")
    assert (download.data, download.headers["Content-Type"]) == (TIFF, "image/tiff")
    assert "Proof of ownership scan.tif TIFF" in text_of(
        owner_client.get(f"/fax-ports/{ticket.id}")
    )


def test_a_jpeg_is_accepted_as_the_loa(app, owner_client):
    _, (_, loa) = make_ticket(app, owner_client, loa=(JPEG, "loa.jpg"))

    assert (loa.kind, loa.media_type) == ("fax_loa", "image/jpeg")


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        pytest.param(
            ["fax_proof"],
            {"fax_proof": "Choose the proof of ownership: your carrier's latest bill."},
            id="proof",
        ),
        pytest.param(
            ["fax_loa"],
            {"fax_loa": "Choose the Letter of Authorization your carrier gave you."},
            id="loa",
        ),
        pytest.param(
            ["fax_proof", "fax_loa"],
            {
                "fax_proof": "Choose the proof of ownership: your carrier's latest bill.",
                "fax_loa": "Choose the Letter of Authorization your carrier gave you.",
            },
            id="both",
        ),
    ],
)
def test_a_missing_upload_is_asked_for_on_its_field(app, owner_client, missing, expected):
    uploads = {"proof": (PDF, "bill.pdf"), "loa": (PNG, "loa.png")}
    for name in missing:
        uploads[name.removeprefix("fax_")] = None

    response = file_ticket(owner_client, **uploads)

    assert response.status_code == 200
    for name in ("fax_proof", "fax_loa"):
        assert error_of(response, name) == expected.get(name)
    assert ('aria-describedby="fax_proof-hint fax_proof-error"' in html_of(response)) == (
        "fax_proof" in missing
    )
    assert stored(app) == (0, 0, 0)


def test_a_file_field_sent_as_text_is_a_missing_upload(app, owner_client):
    response = owner_client.post(
        "/fax-ports/new",
        data={"numbers": NUMBERS, "fax_proof": "bill.pdf", "fax_loa": (io.BytesIO(PNG), "l.png")},
        content_type="multipart/form-data",
    )

    assert error_of(response, "fax_proof") == (
        "Choose the proof of ownership: your carrier's latest bill."
    )
    assert stored(app) == (0, 0, 0)


def test_a_file_name_is_only_a_label(app, owner_client):
    name = "../../etc/passwd\x00" + "é" * 300 + ".pdf"

    ticket, (proof, _) = make_ticket(app, owner_client, proof=(PDF, name))

    assert "\x00" not in proof.label and "/" not in documents.download_name(proof)
    page = owner_client.get(f"/fax-ports/{ticket.id}")
    assert page.status_code == 200
    assert proof.label in text_of(page)
    download = owner_client.get(f"/fax-ports/{ticket.id}/documents/{proof.id}")
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{documents.download_name(proof)}"'
    )


def test_staff_cannot_file_a_ticket(staff_client):
    assert staff_client.get("/fax-ports/new").status_code == 403
    assert file_ticket(staff_client).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client, owner):
    response = client.get("/fax-ports/1")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_another_accounts_ticket_and_document_are_the_same_404_as_missing_ones(
    app, owner_client, other_owner
):
    other = app.test_client()
    assert (
        other.post(
            "/login",
            data={"email": "owner@globex.test", "password": "correct horse battery staple"},
        ).status_code
        == 302
    )
    ticket, (proof, _) = make_ticket(app, other)
    owner_client.get("/port-requests/")  # shows the sign-in's message, so the 404s compare
    missing = owner_client.get("/fax-ports/999999")

    for path in (
        f"/fax-ports/{ticket.id}",
        f"/fax-ports/{ticket.id}/documents/{proof.id}",
        f"/fax-ports/{ticket.id}/documents/999999",
        f"/fax-ports/{2**40}",
        f"/fax-ports/{ticket.id}/documents/{2**40}",
    ):
        response = owner_client.get(path)
        assert response.status_code == 404, path
        assert without_csrf(response.data) == without_csrf(missing.data)
    assert "Globex" not in text_of(owner_client.get("/port-requests/"))
    assert other.get(f"/fax-ports/{ticket.id}/documents/{proof.id}").data == PDF


def test_staff_see_and_download_any_ticket(app, owner_client, staff_client):
    ticket, (proof, loa) = make_ticket(app, owner_client)

    page = staff_client.get(f"/fax-ports/{ticket.id}")
    text = text_of(page)
    assert page.status_code == 200
    assert "Acme Dental · account 4242" in text
    assert "Queue › Fax port ticket" in text
    assert "Proof of ownership bill.pdf PDF" in text
    for doc, content in ((proof, PDF), (loa, PNG)):
        download = staff_client.get(f"/fax-ports/{ticket.id}/documents/{doc.id}")
        assert download.status_code == 200
        assert download.data == content
        assert download.headers["Content-Disposition"].startswith("attachment; ")


def test_a_document_of_another_ticket_is_a_404_under_this_tickets_url(app, owner_client):
    first, _ = make_ticket(app, owner_client)
    second, (proof, _) = make_ticket(app, owner_client, proof=(JPEG, "other.jpg"))

    assert owner_client.get(f"/fax-ports/{second.id}/documents/{proof.id}").status_code == 200
    assert owner_client.get(f"/fax-ports/{first.id}/documents/{proof.id}").status_code == 404


@pytest.mark.parametrize(
    ("who", "advice"),
    [
        ("owner", "Contact Carrier Relations: they will ask you for the file again."),
        ("staff", "Ask the account's owner to upload it again in a new ticket."),
    ],
)
def test_a_damaged_document_is_refused_with_a_clear_message_and_logged(
    app, owner_client, staff_client, caplog, who, advice
):
    ticket, (proof, _) = make_ticket(app, owner_client)
    with app.app_context():
        DocumentContent.update(content=PDF[:-10] + b"tampered!!").where(
            DocumentContent.document == proof.id
        ).execute()
    client = owner_client if who == "owner" else staff_client

    with caplog.at_level(logging.ERROR):
        response = client.get(f"/fax-ports/{ticket.id}/documents/{proof.id}")

    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert b"%PDF" not in response.data and b"tampered" not in response.data
    assert "Error 409 This document can't be downloaded" in text_of(response)
    assert (
        "The stored copy of “bill.pdf” is damaged: it no longer matches the file that was "
        f"uploaded, so PortDesk will not send it. This has been logged. {advice}"
    ) in text_of(response)
    assert any(
        f"document {proof.id} of fax ticket {ticket.id}" in record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
    )


def test_the_owners_list_offers_fax_ports_before_any_ticket(owner_client):
    response = owner_client.get("/port-requests/")
    section = html_of(response).split('id="fax-tickets"')[1]

    assert '<a class="button" href="/fax-ports/new">Port fax numbers</a>' in section
    assert "usually take 1–2 weeks" in unescape(section)
    assert "<table" not in section


def test_the_owners_list_fragment_leaves_the_fax_tickets_out(app, owner_client, htmx):
    make_ticket(app, owner_client)

    response = owner_client.get("/port-requests/", headers=htmx("port-request-list"))

    assert response.status_code == 200
    assert "fax-tickets" not in html_of(response)


def test_the_owners_list_shows_only_their_accounts_tickets_newest_first(
    app, owner_client, other_owner
):
    older, _ = make_ticket(app, owner_client, numbers="(614) 322-1001")
    newer, _ = make_ticket(app, owner_client, numbers="(614) 322-1002, (614) 322-1003")
    with app.app_context():
        FaxTicket.create(account=5151, created_by=None, title="Fax Porting Documentation - 5151")

    section = html_of(owner_client.get("/port-requests/")).split('id="fax-tickets"')[1]

    assert re.findall(r'href="/fax-ports/(\d+)"', section) == [str(newer.id), str(older.id)]
    assert re.findall(r'<td data-label="Fax numbers" class="num">(\d+)</td>', section) == ["2", "1"]
    assert "5151" not in section


def test_the_queue_pages_fax_tickets_by_50_longest_waiting_first(app, staff_client, accounts):
    with app.app_context():
        ids = [
            FaxTicket.create(
                account=4242, title="Fax Porting Documentation - 4242", numbers=json.dumps(E164)
            ).id
            for _ in range(52)
        ]

    first = html_of(staff_client.get("/queue/"))
    second = html_of(staff_client.get("/queue/?page=2"))

    assert re.findall(r'href="/fax-ports/(\d+)"', first) == [str(n) for n in ids[:50]]
    assert re.findall(r'href="/fax-ports/(\d+)"', second) == [str(ids[50]), str(ids[51])]
    assert '<td data-label="Numbers" class="num">3</td>' in first
    assert "<span>Page 1 of 2</span>" in first
    assert 'href="/queue/?page=2" rel="next"' in first


def test_the_queue_says_when_no_ticket_is_filed(staff_client):
    text = text_of(staff_client.get("/queue/"))

    assert "Nothing waiting for Carrier Relations." in text
    assert "a fax ticket as soon as it is filed" in text


def test_a_ticket_of_a_deleted_user_still_shows(app, owner, owner_client, staff_client):
    ticket, _ = make_ticket(app, owner_client)
    with app.app_context():
        User.delete().where(User.id == owner.id).execute()

    text = text_of(staff_client.get(f"/fax-ports/{ticket.id}"))

    assert "Filed by A former user of the account" in text
    assert "Ann Owner," in text  # the uploads keep the uploader's name
