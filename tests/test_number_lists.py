"""Reading what owners give us: typed numbers, the bulk-import CSV, its template (no Flask)."""

import csv
import io

import pytest

from portal.models import Account, RoutingTarget, TrackingSource
from portal.number_lists import (
    COLUMNS,
    CSV_MAX_BYTES,
    BulkRow,
    NumberListError,
    RowProblem,
    entries_from_text,
    read_bulk_csv,
    reference_csv,
    results_csv,
    template_csv,
)
from portal.portability import MAX_ENTRIES, Entry, Result, check_portability

HEADER = "phone_number,account_id,tracking_source_id,routing_id,friendly_name"
SAVE_AS_CSV = "save it as CSV (File > Save As > CSV UTF-8) and upload that."


@pytest.fixture
def acme(database):
    """Account 4242 with two sources and two routing targets; 5151 owns source 601, routing 951."""
    acme = Account.create(id=4242, name="Acme Dental")
    globex = Account.create(id=5151, name="Globex Plumbing")
    # Created out of id order, so listings must sort.
    TrackingSource.create(id=32, account=acme, name="Yelp")
    TrackingSource.create(id=31, account=acme, name="Google Ads")
    TrackingSource.create(id=601, account=globex, name="Bing")
    RoutingTarget.create(id=902, account=acme, name="Sales queue", kind="call_queue")
    RoutingTarget.create(id=901, account=acme, name="Front desk", kind="receiving_number")
    RoutingTarget.create(id=951, account=globex, name="Dispatch", kind="call_queue")
    return acme


def upload(*lines, account, end="\n", encoding="utf-8"):
    return read_bulk_csv(end.join(lines).encode(encoding) + end.encode(), account)


def refused(data, account):
    with pytest.raises(NumberListError) as raised:
        read_bulk_csv(data, account)
    return str(raised.value)


def parsed(text):
    return list(csv.reader(io.StringIO(text)))


def at_row(number, text):
    """The entry a CSV row gives."""
    return Entry(number, text, f"row {number}")


# Manual entry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("2127365000", [(1, "2127365000")], id="one"),
        pytest.param(
            "212-736-5000,212.736.5001",
            [(1, "212-736-5000"), (1, "212.736.5001")],
            id="commas-share-a-line",
        ),
        pytest.param(
            "2127365000\n2127365001", [(1, "2127365000"), (2, "2127365001")], id="newlines"
        ),
        pytest.param(
            "2127365000\r\n2127365001\r\n", [(1, "2127365000"), (2, "2127365001")], id="crlf"
        ),
        pytest.param("2127365000\r2127365001", [(1, "2127365000"), (2, "2127365001")], id="cr"),
        pytest.param("a\r\n\r\nb", [(1, "a"), (3, "b")], id="crlf-is-one-break"),
        pytest.param(
            "2127365000; 2127365001", [(1, "2127365000"), (1, "2127365001")], id="semicolons"
        ),
        pytest.param("2127365000\t2127365001", [(1, "2127365000"), (1, "2127365001")], id="tabs"),
        pytest.param(
            "  (212) 736-5000 ,\t +1 212 736 5001  ",
            [(1, "(212) 736-5000"), (1, "+1 212 736 5001")],
            id="stray-spaces",
        ),
        pytest.param("1 212 736 5000", [(1, "1 212 736 5000")], id="spaces-inside-are-formatting"),
        pytest.param("\n\na\n \n\t\nb\n\n", [(3, "a"), (6, "b")], id="blank-lines"),
        pytest.param(",, ;\t,\n ; ", [], id="only-separators"),
        pytest.param(
            "a, b\r\n\r\nc;d\ne", [(1, "a"), (1, "b"), (3, "c"), (3, "d"), (4, "e")], id="mixed"
        ),
        pytest.param(
            "２１２７３６５０００，2127365001",
            [(1, "２１２７３６５０００"), (1, "2127365001")],
            id="full-width-comma",
        ),
        pytest.param("1-800-FLOWERS\u00a0", [(1, "1-800-FLOWERS")], id="no-break-space"),
    ],
)
def test_entries_from_text(text, expected):
    entries = entries_from_text(text)

    assert [(entry.line, entry.text) for entry in entries] == expected
    assert all(isinstance(entry, Entry) for entry in entries)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2127365000", ["line 1"]),
        ("a\n\nb, c\r\nd", ["line 1", "line 3, number 1", "line 3, number 2", "line 4"]),
        ("a;b\tc", ["line 1, number 1", "line 1, number 2", "line 1, number 3"]),
        (" , a , ,\nb", ["line 1", "line 2"]),
    ],
)
def test_entries_from_text_say_where_each_number_is(text, expected):
    assert [entry.where for entry in entries_from_text(text)] == expected


def test_entries_from_text_takes_the_maximum():
    assert len(entries_from_text(",".join(["2127365000"] * MAX_ENTRIES))) == MAX_ENTRIES


def test_entries_from_text_refuses_one_more_than_the_maximum():
    text = "\n".join(["2127365000"] * (MAX_ENTRIES + 1))

    with pytest.raises(NumberListError) as raised:
        entries_from_text(text)

    assert str(raised.value) == (
        "You entered 20,001 numbers; one check takes at most 20,000. Split the list."
    )


# The bulk CSV: what is read


def test_full_template_rows_carry_their_ids(acme):
    read = upload(
        HEADER,
        "(212) 736-5000,4242,31,901,Main line",
        "212-736-5001,,32,902,",
        "2127365002,,,,",
        account=acme,
    )

    assert read.problems == []
    assert read.entries == [
        at_row(2, "(212) 736-5000"),
        at_row(3, "212-736-5001"),
        at_row(4, "2127365002"),
    ]
    assert read.rows == {
        2: BulkRow(tracking_source_id=31, routing_id=901, friendly_name="Main line"),
        3: BulkRow(tracking_source_id=32, routing_id=902, friendly_name=""),
        4: BulkRow(tracking_source_id=None, routing_id=None, friendly_name=""),
    }


def test_bom_crlf_and_quoted_fields(acme):
    data = (
        "\ufeff" + HEADER + "\r\n"
        '"(212) 736-5000",4242,"31","901","Front desk, 2nd floor"\r\n'
        '"212 736 5001",,,,"Say ""hi"""\r\n'
    ).encode()

    read = read_bulk_csv(data, acme)

    assert read.problems == []
    assert read.entries == [at_row(2, "(212) 736-5000"), at_row(3, "212 736 5001")]
    assert read.rows[2] == BulkRow(31, 901, "Front desk, 2nd floor")
    assert read.rows[3] == BulkRow(None, None, 'Say "hi"')


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (
            "Phone Number,Account ID,Tracking Source ID,Routing ID,Friendly Name",
            "2127365000,4242,31,901,Main line",
        ),
        (
            " PHONE_NUMBER , account_id,TRACKING_SOURCE_ID ,Routing_Id, friendly_name ",
            "2127365000,4242,31,901,Main line",
        ),
        (
            "phone  number,account_id,tracking source_id,routing_id,friendly_name",
            "2127365000,4242,31,901,Main line",
        ),
        (
            "routing_id,phone_number,friendly_name,tracking_source_id,account_id",
            "901,2127365000,Main line,31,4242",
        ),
        (f"{HEADER},,,", "2127365000,4242,31,901,Main line,,,"),
        (f"{HEADER},,,", "2127365000,4242,31,901,Main line"),
    ],
)
def test_header_case_spaces_and_order_are_tolerated(acme, header, row):
    read = upload(header, row, account=acme)

    assert read.problems == []
    assert read.entries == [at_row(2, "2127365000")]
    assert read.rows[2] == BulkRow(31, 901, "Main line")


def test_phone_number_alone_is_enough(acme):
    read = upload("phone_number", "2127365000", account=acme)

    assert read.entries == [at_row(2, "2127365000")]
    assert read.rows == {2: BulkRow(None, None, "")}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            ["2127365000", "(212) 736-5001"],
            [(1, "2127365000"), (2, "(212) 736-5001")],
            id="no-header",
        ),
        pytest.param(
            ["Numbers", "2127365000", "+1 212 736 5001"],
            [(2, "2127365000"), (3, "+1 212 736 5001")],
            id="header",
        ),
        pytest.param(["Phone,,", "2127365000,,"], [(2, "2127365000")], id="padded-header"),
        pytest.param(["1-800-FLOWERS"], [(1, "1-800-FLOWERS")], id="vanity-number-first"),
        pytest.param(['"212,736,5000"'], [(1, "212,736,5000")], id="quoted-commas-stay"),
    ],
)
def test_single_column_of_numbers(acme, lines, expected):
    read = upload(*lines, account=acme)

    assert read.problems == []
    assert read.entries == [at_row(row, text) for row, text in expected]
    assert set(read.rows) == {row for row, _ in expected}


def test_blank_rows_are_skipped_and_still_counted(acme):
    read = upload("", HEADER, ",,,,", "  ,  ,,,", "2127365000,,,,", "", "2127365001", account=acme)

    assert read.problems == []
    assert read.entries == [at_row(5, "2127365000"), at_row(7, "2127365001")]


def test_cp1252_file_is_read(acme):
    read = upload(
        "phone_number,friendly_name", "2127365000,Café Niño", account=acme, encoding="cp1252"
    )

    assert read.rows[2].friendly_name == "Café Niño"


def test_twenty_thousand_rows_are_read(acme):
    lines = [f"212736{i % 10000:04d},,31,901,Line {i}" for i in range(MAX_ENTRIES)]

    read = upload(HEADER, *lines, account=acme)

    assert read.problems == []
    assert len(read.entries) == len(read.rows) == MAX_ENTRIES
    assert read.entries[-1] == at_row(MAX_ENTRIES + 1, "2127369999")
    assert read.rows[MAX_ENTRIES + 1] == BulkRow(31, 901, "Line 19999")


def test_file_of_exactly_the_size_limit_is_read(acme):
    head, number = b"phone_number\n", b"2127365000"
    # Blank cells: a big file that parses quickly (a cell may hold at most 131,072 characters).
    room = CSV_MAX_BYTES - len(head) - len(number) - len(b",\n")
    cells, rest = divmod(room, 100_000)
    data = head + number + (b"," + b" " * 99_999) * cells + b"," + b" " * rest + b"\n"
    assert len(data) == CSV_MAX_BYTES

    read = read_bulk_csv(data, acme)

    assert read.problems == []
    assert read.entries == [at_row(2, "2127365000")]


# The bulk CSV: problems with a row, collected with their row and column


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        pytest.param(
            "2127365000,5151,,,",
            "account_id",
            "account 5151 is not your account; yours is 4242",
            id="other-account",
        ),
        pytest.param(
            "2127365000,acme dental,,,",
            "account_id",
            "use the account ID, not the name: 'Acme Dental' is account 4242",
            id="account-name",
        ),
        pytest.param(
            "2127365000,Acme,,,",
            "account_id",
            "'Acme' is not an account ID: IDs are numbers; yours is 4242",
            id="account-not-a-number",
        ),
        pytest.param(
            "2127365000,,,77,",
            "routing_id",
            "routing 77 does not exist in your account; the reference download lists yours",
            id="no-such-routing",
        ),
        pytest.param(
            "2127365000,,,951,",
            "routing_id",
            "routing 951 does not exist in your account; the reference download lists yours",
            id="routing-of-another-account",
        ),
        pytest.param(
            "2127365000,,77,,",
            "tracking_source_id",
            "tracking source 77 does not exist in your account; the reference download lists yours",
            id="no-such-source",
        ),
        pytest.param(
            "2127365000,,601,,",
            "tracking_source_id",
            "tracking source 601 does not exist in your account; the reference download "
            "lists yours",
            id="source-of-another-account",
        ),
        pytest.param(
            "2127365000,,,Front desk,",
            "routing_id",
            "use the routing ID, not the name: 'Front desk' is routing 901",
            id="routing-name",
        ),
        pytest.param(
            '2127365000,,,"  FRONT   desk ",',
            "routing_id",
            "use the routing ID, not the name: 'Front desk' is routing 901",
            id="routing-name-any-case",
        ),
        pytest.param(
            "2127365000,,Google Ads,,",
            "tracking_source_id",
            "use the tracking source ID, not the name: 'Google Ads' is tracking source 31",
            id="source-name",
        ),
        pytest.param(
            "2127365000,,,xyz,",
            "routing_id",
            "'xyz' is not a routing ID: IDs are numbers; the reference download lists yours",
            id="routing-not-a-number",
        ),
        pytest.param(
            "2127365000,,Dispatch,,",
            "tracking_source_id",
            "'Dispatch' is not a tracking source ID: IDs are numbers; the reference "
            "download lists yours",
            id="name-of-another-accounts-routing",
        ),
        pytest.param(
            "2127365000,,,901.5,",
            "routing_id",
            "'901.5' is not a routing ID: IDs are numbers; the reference download lists yours",
            id="routing-with-a-dot",
        ),
        pytest.param(
            f"2127365000,,,{'9' * 5000},",
            "routing_id",
            f"routing {'9' * 37}... does not exist in your account; the reference "
            "download lists yours",
            id="huge-id",
        ),
    ],
)
def test_row_problem(acme, row, column, message):
    read = upload(HEADER, "2127365009,,31,901,Fine", row, account=acme)

    assert read.problems == [RowProblem(3, column, message)]
    # The number still goes to the check; only the valid ids travel with it.
    assert read.entries == [at_row(2, "2127365009"), at_row(3, "2127365000")]
    assert read.rows[2] == BulkRow(31, 901, "Fine")
    assert getattr(read.rows[3], column, None) is None


def test_valid_id_travels_next_to_an_invalid_one(acme):
    read = upload(HEADER, "2127365000,,Google Ads,902,", account=acme)

    assert [problem.column for problem in read.problems] == ["tracking_source_id"]
    assert read.rows[2] == BulkRow(None, 902, "")


def test_name_shared_by_two_targets_names_both_ids(acme):
    RoutingTarget.create(id=903, account=acme, name="front desk", kind="call_queue")

    read = upload(HEADER, "2127365000,,,Front Desk,", account=acme)

    assert read.problems == [
        RowProblem(
            2, "routing_id", "use the routing ID, not the name: 'Front desk' is routing 901 or 903"
        )
    ]


def test_every_problem_of_every_row_is_reported_in_order(acme):
    read = upload(
        HEADER,
        ",4242,31,,Front desk line",
        "2127365000,5151,Google Ads,Front desk,",
        "2127365001,,,,",
        account=acme,
    )

    assert read.problems == [
        RowProblem(2, "phone_number", "the phone number is empty"),
        RowProblem(3, "account_id", "account 5151 is not your account; yours is 4242"),
        RowProblem(
            3,
            "tracking_source_id",
            "use the tracking source ID, not the name: 'Google Ads' is tracking source 31",
        ),
        RowProblem(
            3, "routing_id", "use the routing ID, not the name: 'Front desk' is routing 901"
        ),
    ]
    assert read.entries == [at_row(3, "2127365000"), at_row(4, "2127365001")]
    assert set(read.rows) == {3, 4}


def test_number_a_spreadsheet_turned_into_scientific_notation(acme):
    read = upload("phone_number", "2127365000", "1.21274E+10", account=acme)

    assert read.problems == [
        RowProblem(
            3,
            "phone_number",
            "'1.21274E+10' is how a spreadsheet shows a long number, "
            "and its digits are lost: format the column as Text, type the numbers again "
            "and save",
        )
    ]
    assert read.entries == [at_row(2, "2127365000")]


def test_row_with_more_cells_than_columns(acme):
    read = upload("phone_number,friendly_name", "2127365000,Front desk, 2nd floor", account=acme)

    assert read.problems == [
        RowProblem(
            2,
            "friendly_name",
            "this row has 3 cells but the file has 2 columns: put a name that "
            "contains a comma in quotes",
        )
    ]
    assert read.entries == [at_row(2, "2127365000")]
    assert read.rows[2] == BulkRow(None, None, "Front desk")


def test_single_column_row_with_a_second_cell(acme):
    read = upload("2127365000", "2127365001,,", "2127365002,Front desk", account=acme)

    assert read.problems == [
        RowProblem(
            3,
            "phone_number",
            "this row has 2 cells but the file has 1 column: put a name that "
            "contains a comma in quotes",
        )
    ]
    assert [entry.line for entry in read.entries] == [1, 2, 3]


# The bulk CSV: files that are refused whole


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            b"", "The file is empty: add your numbers to the template and upload it.", id="empty"
        ),
        pytest.param(
            b" \r\n\t\n\n  \n",
            "The file is empty: add your numbers to the template and upload it.",
            id="whitespace-only",
        ),
        pytest.param(
            b",,,,\r\n,,,,\r\n",
            "The file is empty: add your numbers to the template and upload it.",
            id="empty-cells-only",
        ),
        pytest.param(
            f"\ufeff{HEADER}\r\n\r\n,,,,\r\n".encode(),
            "The file has only a header row: add your numbers below it.",
            id="header-only",
        ),
        pytest.param(
            b"Numbers\n",
            "The file has only a header row: add your numbers below it.",
            id="single-column-header-only",
        ),
        pytest.param(
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40,
            f"This looks like an Excel workbook: {SAVE_AS_CSV}",
            id="xlsx",
        ),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40,
            f"This looks like an Excel workbook: {SAVE_AS_CSV}",
            id="xls",
        ),
        pytest.param(
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
            "This is a PDF, not a CSV file: export the list as CSV and upload that.",
            id="pdf",
        ),
        pytest.param(
            "phone_number\n2127365000\n".encode("utf-16"),
            f"This file is UTF-16 text: {SAVE_AS_CSV}",
            id="utf-16",
        ),
        pytest.param(
            "phone_number\n2127365000\n".encode("utf-32"),
            f"This file is UTF-32 text: {SAVE_AS_CSV}",
            id="utf-32",
        ),
        pytest.param(
            b"\xff\xfe\x00\x00" + "phone_number\n2127365000\n".encode("utf-32-le"),
            f"This file is UTF-32 text: {SAVE_AS_CSV}",
            id="utf-32-le",
        ),
        pytest.param(
            b"\x00\x00\xfe\xff" + "phone_number\n2127365000\n".encode("utf-32-be"),
            f"This file is UTF-32 text: {SAVE_AS_CSV}",
            id="utf-32-be",
        ),
        pytest.param(
            b"phone_number\n2127\x00365000\n",
            f"This is not a CSV file (it holds binary data): {SAVE_AS_CSV}",
            id="nul",
        ),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            f"This is not a CSV file (it holds binary data): {SAVE_AS_CSV}",
            id="png",
        ),
        pytest.param(
            b"phone_number\n\x81\x8d\n",
            f"This file is not UTF-8 text: {SAVE_AS_CSV}",
            id="not-text",
        ),
        pytest.param(
            b"phone_number\n".ljust(CSV_MAX_BYTES + 1, b"2"),
            "The file is over the 4 MB limit: split it into smaller files.",
            id="over-the-size-limit",
        ),
        pytest.param(
            b"number,routing\n2127365000,901\n",
            "Row 1: unknown columns 'number' (did you mean 'phone_number'?) and "
            f"'routing' (did you mean 'routing_id'?). The template's header line is "
            f"{HEADER}.",
            id="wrong-headers",
        ),
        pytest.param(
            b"\n\nphone_number,Notes\n2127365000,x\n",
            f"Row 3: unknown column 'Notes'. The template's header line is {HEADER}.",
            id="unknown-column-after-blank-lines",
        ),
        pytest.param(
            b"account_id,routing_id\n4242,901\n",
            f"Row 1: the phone_number column is missing. The template's header line is {HEADER}.",
            id="missing-phone-number",
        ),
        pytest.param(
            b"Routing ID\n901\n",
            f"Row 1: the phone_number column is missing. The template's header line is {HEADER}.",
            id="single-template-column-not-phone",
        ),
        pytest.param(
            b"phone_number,Phone Number\n2127365000,2127365001\n",
            "Row 1: the column phone_number appears twice. The template's header line "
            f"is {HEADER}.",
            id="repeated-column",
        ),
        pytest.param(
            b"phone_number,,routing_id\n2127365000,x,901\n",
            f"Row 1: column 2 has no name. The template's header line is {HEADER}.",
            id="unnamed-column",
        ),
        pytest.param(
            b"2127365000,4242,31,901,Main line\n",
            f"Row 1 should be the header line. The template's header line is {HEADER}.",
            id="no-header-on-several-columns",
        ),
    ],
)
def test_refused_file(acme, data, message):
    assert refused(data, acme) == message


NEVER_CLOSED = (
    "Row 3: a quote opened in friendly_name is never closed, so the rest of the file would be "
    "lost. Close the quote or remove it."
)


@pytest.mark.parametrize(
    "row", ["2125550{:03d},,,,", "2125550{:03d},4242,31,901,Front desk line {:04d}"]
)
def test_a_quote_never_closed_loses_no_row_without_a_word(acme, row):
    # The reported file: 5,002 rows, a quote opened on row 3 and never closed. Short rows fit in
    # one cell and were swallowed silently; long ones overflow the csv module's cell limit.
    rows = [row.format(n % 1000, n) for n in range(5001)]
    rows[1] = '2125550001,,,,"Smith, John'

    assert refused("\n".join([HEADER, *rows]).encode(), acme) == NEVER_CLOSED
    assert refused("\r\n".join([HEADER, *rows, ""]).encode(), acme) == NEVER_CLOSED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            b'phone_number\n"2127365000\n' + b"x" * 200_000,
            "Row 2: a quote opened in phone_number is never closed, so the rest of the file "
            "would be lost. Close the quote or remove it.",
            id="past-the-cell-limit",
        ),
        pytest.param(
            b'2127365000\n2127365001\n"2127365002\n2127365003\n',
            "Row 3: a quote opened in column 1 is never closed, so the rest of the file would be "
            "lost. Close the quote or remove it.",
            id="single-column-without-a-header",
        ),
        pytest.param(
            f'{HEADER}\n2127365000,,,,"Smith\n2127365001,,,,\n2127365002,,,,Jones"\n'
            "2127365003,,,,\n".encode(),
            "Row 2: a quote opened in friendly_name closes only on line 4, so lines 2 to 4 would "
            "be read as one row. A cell cannot hold a line break: close the quote on its own "
            "line, or remove it.",
            id="closed-rows-later",
        ),
        pytest.param(
            f'{HEADER}\n\n2127365000,,,,"Front desk\r\n2nd floor"\r\n2127365001,,,,\n'.encode(),
            "Row 3: a quote opened in friendly_name closes only on line 4, so lines 3 to 4 would "
            "be read as one row. A cell cannot hold a line break: close the quote on its own "
            "line, or remove it.",
            id="line-break-in-quotes",
        ),
        pytest.param(
            b'phone_number,"friendly_name\n2127365000,x\n',
            "Row 1: a quote opened in column 2 is never closed, so the rest of the file would be "
            "lost. Close the quote or remove it.",
            id="in-the-header",
        ),
        pytest.param(
            b'phone_number;routing_id;"friendly_name\n2127365000;901;x\n',
            "Row 1: a quote opened in column 3 is never closed, so the rest of the file would be "
            "lost. Close the quote or remove it.",
            id="semicolons",
        ),
    ],
)
def test_a_cell_that_runs_over_lines_is_refused_naming_its_row(acme, data, message):
    assert refused(data, acme) == message


def test_a_quote_closed_on_its_own_line_is_read(acme):
    read = upload(HEADER, '2127365000,,,,"Smith, John"', '"2127365001",,,,"O\'Neil"', account=acme)

    assert read.problems == []
    assert [read.rows[2].friendly_name, read.rows[3].friendly_name] == ["Smith, John", "O'Neil"]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(acme, separator):
    lines = [
        HEADER,
        "(212) 736-5000,4242,31,901,Main line",
        '212-736-5001,,32,Front desk,"Front desk, 2nd floor"',
        "2127365002,5151,,,",
    ]
    text = "\n".join(line.replace(",", separator) for line in lines).replace(
        f"Front desk{separator} 2nd", "Front desk, 2nd"
    )

    read = read_bulk_csv(text.encode(), acme)

    assert read.entries == [
        at_row(2, "(212) 736-5000"),
        at_row(3, "212-736-5001"),
        at_row(4, "2127365002"),
    ]
    assert read.rows == {
        2: BulkRow(31, 901, "Main line"),
        3: BulkRow(32, None, "Front desk, 2nd floor"),
        4: BulkRow(None, None, ""),
    }
    assert [(p.row, p.column) for p in read.problems] == [(3, "routing_id"), (4, "account_id")]


@pytest.mark.parametrize(
    ("header", "row", "name"),
    [
        pytest.param(
            "phone_number;friendly_name", "2127365000;Sales, 2nd", "Sales, 2nd", id="semi"
        ),
        pytest.param("phone_number\tfriendly_name", "2127365000\tA, b; c", "A, b; c", id="tabs"),
        pytest.param('"phone_number";"friendly_name"', "2127365000;A, b", "A, b", id="quoted"),
        pytest.param("phone_number,friendly_name", "2127365000,A; b", "A; b", id="commas"),
    ],
)
def test_the_separator_is_the_header_line_s(acme, header, row, name):
    read = upload("", header, row, account=acme)

    assert read.problems == []
    assert read.entries == [at_row(3, "2127365000")]
    assert read.rows[3].friendly_name == name


def test_a_single_column_has_no_separator_to_find(acme):
    read = upload("Numbers", "2127365000", "(212) 736-5001", account=acme)

    assert read.entries == [at_row(2, "2127365000"), at_row(3, "(212) 736-5001")]


def test_a_row_split_by_an_unquoted_semicolon_says_semicolon(acme):
    read = upload("phone_number;friendly_name", "2127365000;Main; Sales", account=acme)

    assert read.problems == [
        RowProblem(
            2,
            "friendly_name",
            "this row has 3 cells but the file has 2 columns: put a name that contains a "
            "semicolon in quotes",
        )
    ]


def test_a_header_of_a_hundred_thousand_unknown_columns_lists_fifty(acme):
    header = ",".join(f"c{i}" for i in range(100_000))

    message = refused(f"phone_number,{header}\n2127365000\n".encode(), acme)

    listed = ", ".join(f"'c{i}'" for i in range(50))
    assert message == (
        f"Row 1: unknown columns {listed} and 99,950 more. The template's header line is {HEADER}."
    )


def test_three_unknown_columns_are_listed_in_a_sentence(acme):
    message = refused(b"phone_number,q1,q2,q3\n2127365000\n", acme)

    assert message.startswith("Row 1: unknown columns 'q1', 'q2' and 'q3'. ")


@pytest.mark.parametrize(
    ("column", "suggestion"),
    [
        ("routing", " (did you mean 'routing_id'?)"),
        ("phone", " (did you mean 'phone_number'?)"),
        ("Source", " (did you mean 'tracking_source_id'?)"),
        ("name", " (did you mean 'friendly_name'?)"),
        ("acount_id", " (did you mean 'account_id'?)"),
        ("id", ""),
        ("colour", ""),
    ],
)
def test_unknown_column_suggests_a_close_one(acme, column, suggestion):
    message = refused(f"phone_number,{column}\n2127365000,1\n".encode(), acme)

    assert message.startswith(f"Row 1: unknown column '{column}'{suggestion}. ")


@pytest.mark.parametrize(
    ("lines", "count"),
    [
        (["phone_number", *["2127365000"] * (MAX_ENTRIES + 1)], "20,001"),
        (["2127365000"] * (MAX_ENTRIES + 1), "20,001"),
        ([HEADER, *["2127365000,,,,"] * (MAX_ENTRIES + 2500)], "22,500"),
    ],
    ids=["header", "no-header", "far-over"],
)
def test_rows_over_the_maximum_are_refused(acme, lines, count):
    data = "\n".join(lines).encode()

    assert refused(data, acme) == (
        f"The file has {count} rows of numbers; one check takes at most 20,000. Split the file."
    )


def test_single_column_of_exactly_the_maximum_is_read(acme):
    read = upload(*["2127365000"] * MAX_ENTRIES, account=acme)

    assert len(read.entries) == MAX_ENTRIES
    assert read.entries[-1] == at_row(MAX_ENTRIES, "2127365000")


def test_queries_do_not_grow_with_rows(acme, statements):
    def read(count):
        statements.clear()
        lines = [f"212736{i:04d},4242,31,Front desk,Line {i}" for i in range(count)]
        result = upload(HEADER, *lines, account=acme)
        assert len(result.entries) == len(result.problems) == count
        return len(statements)

    one, many = read(1), read(2000)

    assert one > 0, "the statement counter saw nothing"
    assert many == one <= 2


# Downloads


def test_template_has_the_exact_header_and_the_accounts_first_ids(acme):
    text = template_csv(acme)

    assert text == f"{HEADER}\r\n(212) 736-5000,4242,31,901,Main line\r\n"
    assert tuple(parsed(text)[0]) == COLUMNS


def test_template_of_an_account_with_no_sources_or_targets(database):
    account = Account.create(id=7070, name="Initech")

    assert template_csv(account) == f"{HEADER}\r\n(212) 736-5000,7070,,,Main line\r\n"


def test_template_reads_back_without_problems(acme):
    read = read_bulk_csv(template_csv(acme).encode(), acme)

    assert read.problems == []
    assert read.entries == [at_row(2, "(212) 736-5000")]
    assert read.rows == {2: BulkRow(31, 901, "Main line")}


def test_reference_lists_the_accounts_ids_by_type_then_id(acme):
    assert reference_csv(acme) == (
        "type,id,name,kind\r\n"
        "account,4242,Acme Dental,\r\n"
        "tracking_source,31,Google Ads,\r\n"
        "tracking_source,32,Yelp,\r\n"
        "routing,901,Front desk,receiving_number\r\n"
        "routing,902,Sales queue,call_queue\r\n"
    )


def test_reference_of_an_account_with_nothing_else(database):
    account = Account.create(id=7070, name="Initech, Inc.")

    assert parsed(reference_csv(account)) == [
        ["type", "id", "name", "kind"],
        ["account", "7070", "Initech, Inc.", ""],
    ]


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ('=HYPERLINK("http://x.test")', '\'=HYPERLINK("http://x.test")'),
        ("+1 ad", "'+1 ad"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Dr. O'Neil = best", "Dr. O'Neil = best"),
        ("'quoted", "'quoted"),
    ],
)
def test_formulas_in_names_are_neutralised(database, name, written):
    account = Account.create(id=4242, name=name)
    TrackingSource.create(id=31, account=account, name=name)
    RoutingTarget.create(id=901, account=account, name=name, kind="call_queue")

    rows = parsed(reference_csv(account))

    assert [row[2] for row in rows[1:]] == [written] * 3


def test_results_csv_lists_every_result_in_order():
    results = [
        Result(1, "(212) 736-5000", "+12127365000", True, None, "Portable.", "local", "US"),
        Result(
            3,
            '=HYPERLINK("http://x.test")',
            None,
            False,
            "invalid_number",
            "Not a phone number.",
            "unknown",
            None,
            "line 3, number 1",
        ),
        Result(
            3,
            "+1 416 555 0123",
            "+14165550123",
            False,
            "canada_ticket",
            "Open a ticket.",
            "local",
            "CA",
            "line 3, number 2",
        ),
    ]

    assert parsed(results_csv(results)) == [
        [
            "line",
            "where",
            "input",
            "e164",
            "portable",
            "reason",
            "message",
            "number_type",
            "region",
        ],
        ["1", "", "(212) 736-5000", "+12127365000", "yes", "", "Portable.", "local", "US"],
        [
            "3",
            "line 3, number 1",
            '\'=HYPERLINK("http://x.test")',
            "",
            "no",
            "invalid_number",
            "Not a phone number.",
            "unknown",
            "",
        ],
        [
            "3",
            "line 3, number 2",
            "+1 416 555 0123",
            "+14165550123",
            "no",
            "canada_ticket",
            "Open a ticket.",
            "local",
            "CA",
        ],
    ]


def test_results_csv_of_no_results_is_the_header():
    assert results_csv([]) == (
        "line,where,input,e164,portable,reason,message,number_type,region\r\n"
    )


def test_results_csv_of_an_upload_carries_each_row_s_cells_and_problems(acme):
    read = upload(
        HEADER,
        "(212) 736-5000,4242,31,901,Main line",
        '212-736-5001,5151,77,Front desk,"Smith, John"',
        ",4242,31,901,No number",
        "212 736 5002,,,902,=cmd",
        "212 736 5000,,,,Again",
        account=acme,
    )

    rows = list(
        csv.DictReader(io.StringIO(results_csv(check_portability(read.entries, acme), read)))
    )

    assert [(r["line"], r["where"], r["input"], r["portable"]) for r in rows] == [
        ("2", "row 2", "(212) 736-5000", "yes"),
        ("3", "row 3", "212-736-5001", "yes"),
        ("5", "row 5", "212 736 5002", "yes"),
        ("6", "row 6", "212 736 5000", "no"),
    ]
    assert rows[3]["message"] == "Repeated: row 2 has the same number."
    assert [
        (r["tracking_source_id"], r["routing_id"], r["friendly_name"], r["row_problem"])
        for r in rows
    ] == [
        ("31", "901", "Main line", ""),
        (
            "77",
            "Front desk",
            "Smith, John",
            "account_id: account 5151 is not your account; yours is 4242; "
            "tracking_source_id: tracking source 77 does not exist in your account; "
            "the reference download lists yours; "
            "routing_id: use the routing ID, not the name: 'Front desk' is routing 901",
        ),
        ("", "902", "'=cmd", ""),
        ("", "", "Again", ""),
    ]


def test_problems_by_row_groups_every_problem_under_its_row(acme):
    read = upload(
        HEADER,
        "2127365000,5151,Google Ads,,",
        "2127365001,,,,",
        ",,,77,",
        account=acme,
    )

    assert read.problems_by_row() == {
        2: [
            RowProblem(2, "account_id", "account 5151 is not your account; yours is 4242"),
            RowProblem(
                2,
                "tracking_source_id",
                "use the tracking source ID, not the name: 'Google Ads' is tracking source 31",
            ),
        ],
        4: [
            RowProblem(4, "phone_number", "the phone number is empty"),
            RowProblem(
                4,
                "routing_id",
                "routing 77 does not exist in your account; the reference download lists yours",
            ),
        ],
    }
