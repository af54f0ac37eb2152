"""The bill read against the request (portal/port_requests/bill.py): no app, no database."""

import copy
import datetime
import io
from types import SimpleNamespace

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from portal.port_requests.bill import bill_problems, compare
from portal.port_requests.fields import Problem

TODAY = datetime.date(2026, 11, 27)

FIELDS = {
    "billing": {
        "customer_name": "Harbor Clinic, LLC",
        "account_number": "81234465001",
        "btn": "(614) 322-1000",
    },
    "service_address": {
        "street_number": "1200",
        "street": "N High St",
        "unit": "Ste 300",
        "city": "Columbus",
        "state": "OH",
        "zip": "43201",
    },
}

# Three carriers' bills for the same account, each with its own labels and layout: rows of cells,
# each cell at its own x (mm), as a bill's columns are.
LAYOUTS = {
    "Account number": [
        [(10, "OHIO BELL TELEPHONE COMPANY")],
        [(10, "Account number: 8123-4465-001"), (120, "Statement date: Nov 2, 2026")],
        [(10, "HARBOR CLINIC, LLC")],
        [(10, "1200 N HIGH ST STE 300")],
        [(10, "COLUMBUS OH 43201-1234")],
        [(10, "Billing telephone number: (614) 322-1000")],
        [(10, "Amount due: $1,184.07"), (120, "Customer care: 1-800-660-1000")],
    ],
    "Acct #": [
        [(10, "Acct # 8123 4465 001"), (150, "Page 1 of 3")],
        [(10, "Service for"), (60, "Harbor Clinic LLC")],
        [(10, "Service address"), (60, "1200 North High Street, Suite 300, Columbus, Ohio 43201")],
        [(10, "Main number"), (60, "614.322.1000")],
        [(10, "Previous balance 1,184.07"), (100, "Payments -1,184.07")],
    ],
    "ACCOUNT NO.": [
        [(10, "ACCOUNT NO."), (45, "81234465001"), (120, "BILL DATE 11/02/2026")],
        [(10, "CUSTOMER"), (45, "HARBOR CLINIC L.L.C.")],
        [(10, "SERVICE LOCATION"), (45, "1200 NORTH HIGH STREET SUITE 300")],
        [(45, "COLUMBUS, OH 43201")],
        [(10, "BTN"), (45, "+1 614 322 1000")],
        [(10, "USAGE 02/11 10:42 CALL TO 4320155555 3 MIN")],
    ],
}
# How each layout prints the account number, as the closest text names it.
PRINTED_ACCOUNT = {
    "Account number": "8123-4465-001",
    "Acct #": "8123 4465 001",
    "ACCOUNT NO.": "81234465001",
}
PRINTED_NAME = {
    "Account number": "HARBOR CLINIC, LLC",
    "Acct #": "Harbor Clinic LLC",
    "ACCOUNT NO.": "HARBOR CLINIC L.L.C.",
}


def plain_text(layout):
    return "\n".join("   ".join(text for _, text in row) for row in LAYOUTS[layout])


def pdf_text(layout):
    """Print the layout into a PDF (fpdf2) and read its text layer back as pypdf extracts it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line, row in enumerate(LAYOUTS[layout]):
        for x, text in row:
            pdf.set_xy(x, 20 + 8 * line)
            pdf.cell(text=text)
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    return "\n".join(page.extract_text() for page in reader.pages)


BILL_TEXTS = {
    (layout, source): reader(layout)
    for layout in LAYOUTS
    for source, reader in (("text", plain_text), ("pdf", pdf_text))
}
BILLS = pytest.mark.parametrize(("layout", "source"), list(BILL_TEXTS))


def fields(**changes):
    """Return FIELDS with changes: {"billing__btn": "x"} sets billing.btn."""
    changed = copy.deepcopy(FIELDS)
    for path, value in changes.items():
        section, name = path.split("__")
        changed[section][name] = value
    return changed


def bill_with(printed):
    """Return a bill's text that prints `printed` among other lines."""
    return f"Your monthly statement\n{printed}\nPlease pay by Dec 15, 2026. Thank you."


def warned(text, path, value):
    """Return the fields warned about when only `path` (section.name) holds `value`."""
    section, name = path.split(".")
    return [problem.field for problem in compare(text, {section: {name: value}})]


def test_the_pdf_layouts_are_read_from_the_text_layer():
    for layout in LAYOUTS:
        text = BILL_TEXTS[layout, "pdf"]
        assert "HIGH" in text.upper() and "1200" in text
        assert text != BILL_TEXTS[layout, "text"]


@BILLS
def test_every_detail_is_found(layout, source):
    assert compare(BILL_TEXTS[layout, source], FIELDS) == []


NOT_ON_ANY_BILL = [
    ("billing__customer_name", "Lakeside Dental Group"),
    ("billing__account_number", "55512340987"),
    ("billing__btn", "(212) 736-5000"),
    ("service_address__street_number", "4410"),
    ("service_address__street", "Olentangy River Rd"),
    ("service_address__zip", "44113"),
]


@BILLS
@pytest.mark.parametrize(("change", "value"), NOT_ON_ANY_BILL)
def test_a_detail_not_on_the_bill_is_a_warning_on_its_field(layout, source, change, value):
    found = compare(BILL_TEXTS[layout, source], fields(**{change: value}))
    assert [(p.field, p.code, p.severity) for p in found] == [
        (change.replace("__", "."), "not_on_bill", "warning")
    ]
    assert value in found[0].message
    assert "not on the bill" in found[0].message


@BILLS
def test_the_warning_shows_the_account_number_the_bill_prints(layout, source):
    found = compare(BILL_TEXTS[layout, source], fields(billing__account_number="81234456001"))
    assert found == [
        Problem(
            "billing.account_number",
            "not_on_bill",
            "warning",
            "The account number 81234456001 is not on the bill; the bill shows "
            f"{PRINTED_ACCOUNT[layout]}. Correct it to match the bill.",
        )
    ]


def test_a_typo_in_the_account_number_shows_the_bill_s_digits_as_spaced_there():
    text = bill_with("Acct # 8123 4456 001   Page 1 of 3")
    found = compare(text, {"billing": {"account_number": "81234465001"}})
    assert [p.message for p in found] == [
        "The account number 81234465001 is not on the bill; the bill shows 8123 4456 001. "
        "Correct it to match the bill."
    ]


@BILLS
def test_the_warning_shows_the_customer_name_as_printed(layout, source):
    found = compare(BILL_TEXTS[layout, source], fields(billing__customer_name="Harbour Clinc LLC"))
    assert [p.message for p in found] == [
        'The customer name "Harbour Clinc LLC" is not on the bill; the bill shows '
        f'"{PRINTED_NAME[layout]}". Correct it to match the bill.'
    ]


@BILLS
def test_the_warning_on_the_street_number_shows_the_number_before_the_street(layout, source):
    found = compare(BILL_TEXTS[layout, source], fields(service_address__street_number="1300"))
    assert [p.message for p in found] == [
        "The street number 1300 is not on the bill; the bill shows 1200. Correct it to match "
        "the bill."
    ]


@pytest.mark.parametrize(
    ("change", "value", "shown"),
    [
        ("billing__btn", "(614) 322-1001", "(614) 322-1000"),
        ("service_address__zip", "43210", "43201"),
        ("service_address__street", "N Hihg Street", '"N HIGH ST"'),
    ],
)
def test_the_warning_shows_the_closest_text_of_other_fields(change, value, shown):
    found = compare(BILL_TEXTS["Account number", "text"], fields(**{change: value}))
    assert len(found) == 1
    assert f"the bill shows {shown}." in found[0].message


def test_nothing_close_on_the_bill_says_to_check_by_eye():
    found = compare(BILL_TEXTS["Acct #", "text"], fields(billing__account_number="55512340987"))
    assert [p.message for p in found] == [
        "The account number 55512340987 is not on the bill, nor anything close to it: check it "
        "by eye against the bill."
    ]


def test_every_warning_at_once_comes_in_the_form_s_order():
    changes = {change: value for change, value in NOT_ON_ANY_BILL}
    found = compare(BILL_TEXTS["ACCOUNT NO.", "pdf"], fields(**changes))
    assert [p.field for p in found] == [
        "billing.customer_name",
        "billing.account_number",
        "billing.btn",
        "service_address.street_number",
        "service_address.street",
        "service_address.zip",
    ]


PHONES = [
    "(614) 322-1000",
    "614.322.1000",
    "614-322-1000",
    "614 322 1000",
    "+1 614 322 1000",
    "+1 (614) 322-1000",
    "1-614-322-1000",
    "16143221000",
    "6143221000",
]


@pytest.mark.parametrize("printed", PHONES)
@pytest.mark.parametrize("entered", PHONES)
def test_a_btn_in_any_format_is_found(entered, printed):
    assert warned(bill_with(f"Billing telephone number {printed}"), "billing.btn", entered) == []


STREETS = [
    ("N High St", "NORTH HIGH STREET"),
    ("North High Street", "N HIGH ST"),
    ("N. High St.", "N HIGH ST"),
    ("n high st", "N HIGH ST"),
    ("S High St", "SOUTH HIGH ST"),
    ("E Broad St", "EAST BROAD ST"),
    ("W Broad St", "WEST BROAD ST"),
    ("NE Main St", "NORTHEAST MAIN ST"),
    ("Northwest Main St", "NW MAIN ST"),
    ("SE Main St", "S.E. MAIN ST"),
    ("Southwest Main St", "SOUTH WEST MAIN ST"),
    ("Oak Ave", "OAK AVENUE"),
    ("Oak Avenue", "OAK AVE."),
    ("Oak Blvd", "OAK BOULEVARD"),
    ("Oak Rd", "OAK ROAD"),
    ("Oak Dr", "OAK DRIVE"),
    ("Oak Ln", "OAK LANE"),
    ("Oak Ct", "OAK COURT"),
    ("Oak Pl", "OAK PLACE"),
    ("Oak Pkwy", "OAK PARKWAY"),
    ("Oak Parkway", "OAK PKY"),
    ("State Hwy", "STATE HIGHWAY"),
    ("Oak Cir", "OAK CIRCLE"),
    ("Oak Terrace", "OAK TER"),
    ("Oak Trl", "OAK TRAIL"),
    ("High St Ste 300", "HIGH STREET SUITE 300"),
    ("High St Suite 300", "HIGH ST, STE 300"),
    ("High St Apt 4", "HIGH STREET APARTMENT 4"),
    ("High St Fl 2", "HIGH STREET FLOOR 2"),
    ("High St Bldg C", "HIGH STREET BUILDING C"),
    ("1st Ave", "FIRST AVENUE"),
    ("Second Ave", "2ND AVE"),
    ("3rd St", "THIRD STREET"),
    ("Twelfth St", "12TH ST"),
    ("Saint Clair Ave", "ST CLAIR AVE"),
    ("Martin-Luther-King Blvd", "MARTIN LUTHER KING BLVD"),
]
WRITTEN_DIFFERENTLY = [
    ("billing.customer_name", "harbor clinic llc", "HARBOR CLINIC, LLC"),
    ("billing.customer_name", "HARBOR CLINIC, LLC", "Harbor Clinic L.L.C."),
    ("billing.customer_name", "Harbor  Clinic   LLC", "HARBOR CLINIC LLC"),
    ("billing.customer_name", "Harbor-Clinic LLC", "HARBOR CLINIC LLC"),
    ("billing.customer_name", "Smith & Sons Inc.", "SMITH AND SONS INCORPORATED"),
    ("billing.customer_name", "Café Luna", "CAFE LUNA"),
    ("billing.account_number", "81234465001", "8123-4465-001"),
    ("billing.account_number", "8123-4465-001", "81234465001"),
    ("billing.account_number", "81234465001", "8123 4465 001"),
    ("billing.account_number", "8123 4465 001", "8123.4465.001"),
    ("billing.account_number", "ab-1234-x", "AB1234X"),
    ("service_address.zip", "43201", "COLUMBUS OH 43201-1234"),
    ("service_address.zip", "43201-1234", "COLUMBUS OH 43201"),
    ("service_address.zip", "43201", "COLUMBUS OH 43201 1234"),
    ("service_address.zip", "432011234", "COLUMBUS OH 43201"),
    ("service_address.zip", "43201-1234", "COLUMBUS OH 43201-9999"),
    ("service_address.zip", "43201", "COLUMBUS OH 43201 (614) 322-1000"),
    ("service_address.street_number", "1200", "1200 N HIGH ST"),
    ("service_address.street_number", "1200", "Service at: 1200, N High St"),
    *(("service_address.street", entered, printed) for entered, printed in STREETS),
]


@pytest.mark.parametrize(("path", "entered", "printed"), WRITTEN_DIFFERENTLY)
def test_written_differently_is_not_different(path, entered, printed):
    assert warned(bill_with(printed), path, entered) == []


BOUNDARIES = [
    ("billing.account_number", "123", "Account 81234465001"),
    ("billing.account_number", "4465", "Account 8123-4465-001"),
    ("billing.account_number", "4465001", "Account 8123-4465-001"),
    ("billing.account_number", "81234465", "Account 8123-4465-001"),
    ("service_address.zip", "43201", "Call 4320155555 any time"),
    ("service_address.zip", "43201", "Call 432-015-5555 any time"),
    ("service_address.zip", "43201", "Total due $43,201.00"),
    ("service_address.zip", "43201", "Reference 43201-77"),
    ("service_address.zip", "43201", "Reference 143201"),
    ("service_address.zip", "43201", "Lines 4 3 2 0 1"),
    ("service_address.street_number", "1200", "Minutes 12 00"),
    ("service_address.street_number", "12", "1200 N HIGH ST"),
    ("service_address.street_number", "1", "1ST AVE"),
    ("service_address.street_number", "1200", "Due 12/00/2026"),
    ("service_address.street", "High St", "1200 HIGHLAND ST"),
    ("billing.btn", "614-322-1000", "Reference 614-322-10001"),
    ("billing.btn", "614-322-1000", "Reference 9614-322-1000"),
    ("billing.btn", "+1 614 322 1001", "Billing telephone number (614) 322-1000"),
    ("billing.btn", "16143221001", "Billing telephone number 1-614-322-1000"),
    ("billing.customer_name", "Ann Lee", "JOANN LEES"),
]


@pytest.mark.parametrize(("path", "entered", "printed"), BOUNDARIES)
def test_part_of_a_longer_word_or_number_or_another_number_is_not_found(path, entered, printed):
    assert warned(bill_with(printed), path, entered) == [path]


def test_a_long_bill_is_searched_whole_and_its_first_pages_for_the_closest_text():
    pages = " ".join(f"CALL {n % 97} MIN" for n in range(10_000))  # 30,000 words
    account = {"billing": {"account_number": "81234465001"}}
    assert compare(f"{pages}\nAcct # 8123 4465 001", account) == []
    typo_at_the_end = compare(f"{pages}\nAcct # 8123 4456 001", account)
    assert [p.message for p in typo_at_the_end] == [
        "The account number 81234465001 is not on the bill, nor anything close to it: check it "
        "by eye against the bill."
    ]
    typo_at_the_top = compare(f"Acct # 8123 4456 001\n{pages}", account)
    assert "the bill shows 8123 4456 001." in typo_at_the_top[0].message


def test_a_label_run_into_its_value_by_the_extraction_still_finds_it():
    text = bill_with("ACCOUNTNUMBER81234465001 SERVICEADDRESS 1200 N HIGH ST")
    assert compare(text, {"billing": {"account_number": "81234465001"}}) == []


UNREADABLE = [
    Problem(
        "bill",
        "bill_unreadable",
        "warning",
        "The bill has no text to read (a photo or a scan), so its details could not be compared "
        "with the request: check the customer name, account number, BTN and service address by "
        "eye against the bill.",
    )
]


@pytest.mark.parametrize("text", [None, "", "  \n\n  ", "-- . --", b"HARBOR CLINIC"])
def test_a_bill_without_text_is_one_warning_on_the_bill(text):
    assert compare(text, FIELDS) == UNREADABLE


@pytest.mark.parametrize(
    "given",
    [
        None,
        [],
        "billing",
        {"billing": ["Lakeside Dental Group"], "service_address": "1300 Main St"},
        {"billing": {"account_number": 55512340987}},
        {"billing": {"account_number": ["55512340987"], "customer_name": {"a": 1}}},
        {"billing": {"customer_name": True, "btn": 2127365000}},
        {"billing": {"customer_name": "", "account_number": "   ", "btn": None}},
        {"billing": {"customer_name": "L" * 1_000_000}},
        {"billing": {"customer_name": "Lakeside\x00Dental"}},
        {"billing": {"account_number": "---", "btn": "12345"}},
        {"service_address": {"zip": "4411", "street_number": 1300, "street": 7}},
    ],
)
def test_fields_of_the_wrong_type_or_unusable_are_not_compared(given):
    assert compare(BILL_TEXTS["Account number", "text"], given) == []


def bill(days_old=3, text="", **changes):
    values = {"statement_date": TODAY - datetime.timedelta(days=days_old), "text": text}
    return SimpleNamespace(**(values | changes))


def codes(found):
    return [(p.field, p.code, p.severity) for p in found]


def test_no_bill_is_an_error_on_bill():
    assert bill_problems(None, FIELDS, today=TODAY) == [
        Problem(
            "bill",
            "bill_required",
            "error",
            "Upload the latest bill from the losing carrier: carriers want it as proof that the "
            "numbers are yours.",
        )
    ]


@pytest.mark.parametrize(
    ("days_old", "expected"),
    [
        (-1, [("bill.statement_date", "statement_date_future", "error")]),
        (0, []),
        (30, []),
        (31, [("bill.statement_date", "statement_date_old", "warning")]),
        (400, [("bill.statement_date", "statement_date_old", "warning")]),
    ],
)
def test_the_statement_date_is_recent_and_not_in_the_future(days_old, expected):
    text = BILL_TEXTS["Acct #", "pdf"]
    assert codes(bill_problems(bill(days_old, text), FIELDS, today=TODAY)) == expected


def test_messages_say_what_to_do_about_the_statement_date():
    future = bill_problems(bill(-1), {}, today=TODAY)[0].message
    old = bill_problems(bill(31), {}, today=TODAY)[0].message
    assert future == "The statement date Nov 28, 2026 is in the future: enter the date on the bill."
    assert old == (
        "The bill is from Oct 27, 2026: carriers want a bill from the last 30 days. Upload the "
        "latest bill, or confirm this one is the latest."
    )


def test_the_old_bill_warning_reads_the_same_the_next_day():
    # A confirmed warning is matched on its message: it must not change while nothing changed.
    old = bill(40)
    later = TODAY + datetime.timedelta(days=1)
    assert bill_problems(old, {}, today=TODAY) == bill_problems(old, {}, today=later)


@pytest.mark.parametrize("statement_date", [None, "2026-11-20", 20261120])
def test_a_missing_statement_date_is_an_error(statement_date):
    found = bill_problems(bill(statement_date=statement_date), {}, today=TODAY)
    assert found[0] == Problem(
        "bill.statement_date",
        "required",
        "error",
        "Enter the bill's statement date, as printed on the bill.",
    )


def test_a_statement_date_with_a_time_counts_by_its_day():
    at = datetime.datetime(2026, 10, 28, 23, 59)
    assert bill_problems(bill(statement_date=at), {}, today=TODAY) == UNREADABLE


def test_the_bill_s_problems_end_with_what_it_does_not_show():
    found = bill_problems(
        bill(45, BILL_TEXTS["Account number", "pdf"]),
        fields(billing__account_number="81234456001"),
        today=TODAY,
    )
    assert codes(found) == [
        ("bill.statement_date", "statement_date_old", "warning"),
        ("billing.account_number", "not_on_bill", "warning"),
    ]


def test_a_bill_without_text_layer_still_has_its_date_checked():
    found = bill_problems(bill(-2, None), FIELDS, today=TODAY)
    assert codes(found) == [
        ("bill.statement_date", "statement_date_future", "error"),
        ("bill", "bill_unreadable", "warning"),
    ]
