"""The portability rules without Flask: every format, the NANP and region rules, the inventory."""

import json
import re
import string

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import (
    Account,
    NumberClaim,
    PortRequest,
    ReceivingNumber,
    TrackingNumber,
    User,
)
from portal.portability import (
    MAX_ENTRIES,
    REASONS,
    Entry,
    check_portability,
    numbered,
    summarize,
)

NUMBER_TYPES = {"local", "toll_free", "mobile", "unknown"}
US_REGIONS = {"US", "PR", "VI", "GU", "MP", "AS"}
LIBRARY_TYPES = {
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "local",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "local",
}
E164 = re.compile(r"\+[1-9]\d{6,14}")
CODE_WORD = re.compile(r"\b[a-z]+_[a-z_]+\b")


def check(texts, account, **kwargs):
    return check_portability(numbered(texts), account, **kwargs)


def reasons(results):
    return [result.reason for result in results]


# One row per input: (text, reason or None, E.164 or None, number type, region).


def portable(text, e164, region="US", number_type="local"):
    return (text, None, e164, number_type, region)


def invalid(text):
    return (text, "invalid_number", None, "unknown", None)


def abroad(text, e164, region, number_type="local"):
    return (text, "not_us_ca", e164, number_type, region)


def canadian(text, e164):
    return (text, "canada_ticket", e164, "local", "CA")


def toll_free(text, e164):
    return portable(text, e164, number_type="toll_free")


US_FORMATS = [
    portable(text, "+12127365000")
    for text in [
        "(212) 736-5000",
        "212-736-5000",
        "212.736.5000",
        "2127365000",
        "1 212 736 5000",
        "+1 212 736 5000",
        "1-212-736-5000",
        "+1 (212) 736-5000",
        "  212 736 5000  ",
        "\t212-736-5000\t",
        "(212)736-5000",
        "+1.212.736.5000",
        "12127365000",
        "+12127365000",
        "２１２７３６５０００",  # full-width digits
        "٢١٢٧٣٦٥٠٠٠",  # Arabic-Indic digits
        "tel:+1-212-736-5000",
    ]
]
TOLL_FREE = [
    toll_free("1-800-FLOWERS", "+18003569377"),
    toll_free("800-FLOWERS", "+18003569377"),
    toll_free("+1 800 FLOWERS", "+18003569377"),
    toll_free("1-800-GOT-JUNK", "+18004685865"),
    toll_free("1-888-GOT-JUNK", "+18884685865"),
    toll_free("1 (800) 356-9377", "+18003569377"),
    *[toll_free(f"{npa} 356 9377", f"+1{npa}3569377") for npa in (833, 844, 855, 866, 877, 888)],
]
# Valid to the library, refused by our NANP rules (docs/domain.md): 555-0100..0199 everywhere.
FICTION = [
    "212 555 0100",
    "212-555-0150",
    "(212) 555-0199",
    "312 555 0100",
    "+1 415 555 0150",
    "646.555.0199",
    "888 555 0150",
    "416 555 0100",
    "787 555 0123",
]
INVALID = [
    "",
    "   ",
    "abc",
    "not a number",
    "+",
    "12345",
    "212 736 500",
    "212736500012",
    "22127365000",
    "+1 212 736 5000 5",
    "1" * 300,
    "012 345 6789",
    "112 345 6789",
    "1 012 345 6789",
    "212 036 5000",
    "212 136 5000",
    *[f"{n}11 736 5000" for n in range(2, 10)],  # N11 is never an area code
    "999 736 5000",  # unassigned area codes
    "299 736 5000",
    "379 736 5000",
    "246 522 1000",  # the library's verdict for these prefixes depends on the last four digits
    "876 606 1000",
    *FICTION,
]
OTHER_555 = [
    portable("212 555 0200", "+12125550200"),
    portable("212 555 1212", "+12125551212"),
    portable("312 555 0099", "+13125550099"),
    portable("312 555 0200", "+13125550200"),
]
ABROAD = [
    abroad("876 927 1234", "+18769271234", "JM"),
    abroad("+1 876 927 1234", "+18769271234", "JM"),
    abroad("876 606 0999", "+18766060999", "JM"),
    abroad("242 322 1234", "+12423221234", "BS"),
    abroad("242 357 1234", "+12423571234", "BS", "mobile"),
    abroad("809 221 1234", "+18092211234", "DO"),
    abroad("246 426 1234", "+12464261234", "BB"),
    abroad("246 521 0999", "+12465210999", "BB"),
    abroad("246 521 1000", "+12465211000", "BB", "mobile"),
    abroad("246 522 0999", "+12465220999", "BB", "mobile"),
    abroad("868 625 1234", "+18686251234", "TT"),
    abroad("+44 20 7946 0958", "+442079460958", "GB"),
    abroad("011 44 20 7946 0958", "+442079460958", "GB"),
    abroad("+49 30 12345678", "+493012345678", "DE"),
    abroad("+52 55 1234 5678", "+525512345678", "MX"),
]
CANADA = [
    canadian("416 736 5000", "+14167365000"),
    canadian("(604) 736-5000", "+16047365000"),
    canadian("+1 514 736 5000", "+15147365000"),
    canadian("416 555 1234", "+14165551234"),
]
TERRITORIES = [
    portable("787 723 1234", "+17877231234", "PR"),
    portable("939 250 1234", "+19392501234", "PR"),
    portable("340 774 1234", "+13407741234", "VI"),
    portable("671 472 1234", "+16714721234", "GU"),
    portable("670 234 1234", "+16702341234", "MP"),
    portable("684 633 1234", "+16846331234", "AS"),
    portable("684 733 1234", "+16847331234", "AS", "mobile"),
]
TABLE = [
    *US_FORMATS,
    *TOLL_FREE,
    *[invalid(text) for text in INVALID],
    *OTHER_555,
    *ABROAD,
    *CANADA,
    *TERRITORIES,
]


def library_verdict(e164):
    parsed = phonenumbers.parse(e164, None)
    if not phonenumbers.is_valid_number(parsed):
        return None
    number_type = LIBRARY_TYPES.get(phonenumbers.number_type(parsed), "unknown")
    return phonenumbers.region_code_for_number(parsed), number_type


@pytest.fixture
def acme(database):
    return Account.create(id=4242, name="Acme Dental", fail_safe_number="+13122630000")


@pytest.fixture
def globex(database):
    return Account.create(id=5151, name="Globex Plumbing", fail_safe_number="+13122639000")


@pytest.fixture
def inventory(acme, globex):
    """Both accounts' numbers, some of them refused by more than one rule; returns Acme."""
    receiving = [
        (acme, "+13122630100", True),
        (acme, "+13122630101", False),
        (globex, "+13122630200", True),
        (acme, "+13122630300", True),  # also a tracking number
        (acme, "+13122630310", True),  # also a user's phone
        (acme, "+13122630102", False),  # also a tracking number
    ]
    for account, number, active in receiving:
        ReceivingNumber.create(account=account, number=number, name="Front desk", active=active)
    users = [
        ("ann@acme.test", acme, "owner", "+13122630155"),
        ("olga@globex.test", globex, "owner", "+13122630255"),
        ("sam@portdesk.test", None, "staff", "+13122630355"),
        ("bob@acme.test", acme, "owner", "+13122630310"),
        ("cat@acme.test", acme, "owner", "+13122630400"),  # also globex's tracking number
        ("dan@acme.test", acme, "owner", "+13122630600"),  # also claimed by globex
    ]
    for email, account, role, phone in users:
        User.create(email=email, name=email.split("@")[0], role=role, account=account, phone=phone)
    tracking = [
        (acme, "+13122630111"),
        (globex, "+13122630999"),
        (acme, "+13122630300"),
        (acme, "+13122630102"),
        (globex, "+13122630400"),
        (globex, "+13122630500"),  # also claimed by Acme's request 8
    ]
    for account, number in tracking:
        TrackingNumber.create(account=account, number=number)
    claims = [
        (acme, "+13122630777", 7),
        (acme, "+13122630788", None),
        (globex, "+13122630799", 99),
        (acme, "+13122630500", 8),
        (globex, "+13122630600", 99),
    ]
    # Claims name the request that holds them: explicit ids, so the cases below can name them.
    for request_id, account in ((7, acme), (8, acme), (99, globex)):
        PortRequest.create(id=request_id, account=account, status="submitted")
    for account, number, request_id in claims:
        NumberClaim.create(account=account, number=number, port_request_id=request_id)
    return acme


def assert_well_formed(result):
    assert result.reason is None or result.reason in REASONS
    assert result.portable is (result.reason is None)
    assert result.number_type in NUMBER_TYPES
    assert isinstance(result.message, str)
    assert result.message.strip() == result.message != ""
    assert re.search(r"[A-Za-z]{3}", result.message)
    assert not CODE_WORD.search(result.message), result.message
    if result.reason == "invalid_number":
        assert (result.e164, result.region, result.number_type) == (None, None, "unknown")
    else:
        assert E164.fullmatch(result.e164)
        assert result.region
    if result.portable:
        assert result.region in US_REGIONS
    json.dumps(result.as_json())


def test_the_table_is_large_and_its_library_verdicts_are_the_library_s():
    assert len(TABLE) >= 70
    for text, _reason, e164, number_type, region in TABLE:
        if e164 is not None:
            assert library_verdict(e164) == (region, number_type), text
    for text in FICTION:
        assert phonenumbers.is_valid_number(phonenumbers.parse(text, "US")), text


@pytest.mark.parametrize(("text", "reason", "e164", "number_type", "region"), TABLE)
def test_each_input_gets_its_reason_number_type_and_region(
    acme, text, reason, e164, number_type, region
):
    (result,) = check([text], acme)

    assert (result.reason, result.e164, result.number_type, result.region) == (
        reason,
        e164,
        number_type,
        region,
    )
    assert result.portable is (reason is None)
    assert (result.line, result.input) == (1, text)
    assert_well_formed(result)
    if reason is None and number_type == "toll_free":
        assert "RespOrg" in result.message
    if reason == "canada_ticket":
        assert "ticket" in result.message.lower()


def test_numbers_whose_verdict_depends_on_the_last_four_digits_in_one_check(acme):
    texts = [
        "246 521 0999",
        "246 521 1000",
        "246 521 2000",
        "246 522 0999",
        "246 522 1000",
        "876 606 0999",
        "876 606 1000",
        "212 555 0099",
        "212 555 0100",
        "212 555 0199",
        "212 555 0200",
    ]
    expected = [
        ("not_us_ca", "local"),
        ("not_us_ca", "mobile"),
        ("invalid_number", "unknown"),
        ("not_us_ca", "mobile"),
        ("invalid_number", "unknown"),
        ("not_us_ca", "local"),
        ("invalid_number", "unknown"),
        (None, "local"),
        ("invalid_number", "unknown"),
        ("invalid_number", "unknown"),
        (None, "local"),
    ]
    for ordered_texts, ordered_expected in [
        (texts, expected),
        (texts[::-1], expected[::-1]),
    ]:
        results = check(ordered_texts, acme)
        assert [(r.reason, r.number_type) for r in results] == ordered_expected


# Inventory: (text, port_request_id passed to the check, expected reason), checked for Acme.
INVENTORY_CASES = [
    ("312-263-0100", None, "receiving_number"),
    ("312-263-0101", None, None),  # Acme's, inactive
    ("312-263-0200", None, None),  # Globex's receiving number
    ("(312) 263-0000", None, "fail_safe_number"),
    ("312 263 9000", None, None),  # Globex's fail-safe number
    ("312.263.0155", None, "user_number"),
    ("312 263 0255", None, None),  # a Globex user's phone
    ("312 263 0355", None, None),  # a staff user's phone
    ("312 263 0111", None, "tracking_number"),
    ("312 263 0999", None, "tracking_number"),  # Globex's tracking number
    ("312 263 0777", None, "in_active_port"),  # claimed by Acme's request 7
    ("312 263 0777", 7, None),  # ... which is the request being checked
    ("312 263 0777", 8, "in_active_port"),
    ("312 263 0788", None, "in_active_port"),  # claimed with no request id
    ("312 263 0788", 7, "in_active_port"),
    ("312 263 0799", None, "in_active_port"),  # claimed by Globex's request 99
    ("312 263 0799", 7, "in_active_port"),
    ("312 263 0300", None, "receiving_number"),  # receiving and tracking
    ("312 263 0310", None, "receiving_number"),  # receiving and a user's
    ("312 263 0400", None, "user_number"),  # a user's and Globex's tracking number
    ("312 263 0102", None, "tracking_number"),  # inactive receiving, and tracking
    ("312 263 0500", None, "tracking_number"),  # tracking, and claimed by request 8
    ("312 263 0500", 8, "tracking_number"),
    ("312 263 0600", None, "user_number"),  # a user's, and claimed by Globex
    ("312 263 0601", None, None),
]


@pytest.mark.parametrize(("text", "port_request_id", "reason"), INVENTORY_CASES)
def test_inventory_reasons_for_this_account(inventory, text, port_request_id, reason):
    (result,) = check([text], inventory, port_request_id=port_request_id)

    assert result.reason == reason
    assert (result.e164, result.region, result.number_type) == (
        phonenumbers.format_number(
            phonenumbers.parse(text, "US"), phonenumbers.PhoneNumberFormat.E164
        ),
        "US",
        "local",
    )
    assert_well_formed(result)


def test_inventory_reasons_are_the_other_account_s_own(inventory, globex):
    texts = ["312-263-0100", "312 263 0000", "312 263 9000", "312 263 0155", "312 263 0255"]
    # Globex: Acme's receiving, fail-safe and user numbers are portable; its own are not.
    assert reasons(check(texts, globex)) == [
        None,
        None,
        "fail_safe_number",
        None,
        "user_number",
    ]


def test_fail_safe_comes_after_receiving_and_before_user_numbers(inventory):
    inventory.fail_safe_number = "+13122630400"  # also a user's phone and a tracking number
    inventory.save()
    assert reasons(check(["312 263 0400"], inventory)) == ["fail_safe_number"]

    inventory.fail_safe_number = "+13122630100"  # also an active receiving number
    inventory.save()
    assert reasons(check(["312 263 0100"], inventory)) == ["receiving_number"]


def test_another_account_s_claim_refuses_even_under_the_same_request_id(acme, globex):
    PortRequest.create(id=7, account=globex, status="submitted")
    NumberClaim.create(account=globex, number="+13122630797", port_request_id=7)

    assert reasons(check(["312 263 0797"], acme, port_request_id=7)) == ["in_active_port"]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["312 263 0111", "+1 312 263 0111"], ["tracking_number", "duplicate"]),
        (["(212) 736-5000", "+12127365000"], [None, "duplicate"]),
        (["2127365000", "212-736-5000", "1 212 736 5000"], [None, "duplicate", "duplicate"]),
        (["abc", "abc"], ["invalid_number", "invalid_number"]),
        (["212 555 0150", "212-555-0150"], ["invalid_number", "invalid_number"]),
        (["416 736 5000", "+1 416 736 5000"], ["canada_ticket", "canada_ticket"]),
        (["876 927 1234", "876 927 1234"], ["not_us_ca", "not_us_ca"]),
        (["1-800-FLOWERS", "800 356 9377"], [None, "duplicate"]),
        (["312 263 0777", "312-263-0777"], ["in_active_port", "duplicate"]),
        (
            ["312 263 0100", "312 263 0000", "312 263 0100"],
            ["receiving_number", "fail_safe_number", "duplicate"],
        ),
        (
            ["212 736 5000", "312 263 0100", "2127365000", "312-263-0100"],
            [None, "receiving_number", "duplicate", "duplicate"],
        ),
    ],
)
def test_repeated_numbers_compare_in_e164_after_validity_and_region(inventory, texts, expected):
    results = check(texts, inventory)

    assert reasons(results) == expected
    for index, result in enumerate(results):
        assert_well_formed(result)
        if result.reason == "duplicate":
            assert result.e164 in {earlier.e164 for earlier in results[:index]}


def test_results_keep_input_order_lines_and_text(inventory):
    entries = [
        Entry(3, "312 263 0111"),
        Entry(4, "abc"),
        Entry(9, " (212) 736-5000 "),
        Entry(12, "416 736 5000"),
        Entry(20, "2127365000"),
        Entry(21, "1-800-FLOWERS"),
    ]

    results = check_portability(entries, inventory)

    assert [(r.line, r.input, r.where) for r in results] == [
        (entry.line, entry.text, f"line {entry.line}") for entry in entries
    ]
    assert reasons(results) == [
        "tracking_number",
        "invalid_number",
        None,
        "canada_ticket",
        "duplicate",
        None,
    ]
    assert check_portability([], inventory) == []


def test_a_repeat_names_where_the_first_occurrence_is(acme):
    typed = [
        Entry(1, "212 736 5000", "line 1"),
        Entry(3, "abc", "line 3, number 1"),
        Entry(3, "212 736 5001", "line 3, number 2"),
        Entry(4, "(212) 736-5001", "line 4"),
        Entry(5, "2127365000", "line 5"),
    ]
    sent = ["abc", "212 736 5000", "x", "y", "z", "212 736 5001", "2127365001"]

    results = check_portability(typed, acme)
    from_api = check(sent, acme)

    assert [r.where for r in results] == [entry.where for entry in typed]
    assert [r.message for r in results if r.reason == "duplicate"] == [
        "Repeated: line 3, number 2 has the same number.",
        "Repeated: line 1 has the same number.",
    ]
    assert from_api[-1].message == "Repeated: item 6 has the same number."
    assert [r.where for r in from_api] == [f"item {n}" for n in range(1, 8)]


def test_an_entry_without_words_for_where_is_named_by_its_line(acme):
    results = check_portability([Entry(2, "212 736 5000"), Entry(9, "2127365000")], acme)

    assert [r.where for r in results] == ["line 2", "line 9"]
    assert results[1].message == "Repeated: line 2 has the same number."


def test_numbered_counts_lines_from_one():
    assert numbered(["a", "b", "c"]) == [
        Entry(1, "a", "item 1"),
        Entry(2, "b", "item 2"),
        Entry(3, "c", "item 3"),
    ]
    assert MAX_ENTRIES == 20_000


EVERY_REASON = {
    "invalid_number": "abc",
    "not_us_ca": "+44 20 7946 0958",
    "canada_ticket": "416 736 5000",
    "receiving_number": "312 263 0100",
    "fail_safe_number": "312 263 0000",
    "user_number": "312 263 0155",
    "tracking_number": "312 263 0111",
    "in_active_port": "312 263 0777",
}
PORTABLE_KINDS = ["212 736 5000", "1-800-FLOWERS", "684 733 1234"]


def test_every_reason_has_its_own_plain_english_message(inventory):
    texts = [*EVERY_REASON.values(), "312 263 0111", *PORTABLE_KINDS]

    results = check(texts, inventory)

    assert reasons(results) == [*EVERY_REASON, "duplicate", None, None, None]
    assert [r.number_type for r in results[-3:]] == ["local", "toll_free", "mobile"]
    messages = {}
    for result in results:
        assert_well_formed(result)
        messages.setdefault(result.reason, set()).add(result.message)
    for reason, said in messages.items():
        for other, other_said in messages.items():
            if reason != other:
                assert not said & other_said, (reason, other)


def test_as_json_has_exactly_the_api_fields(inventory):
    results = check(["212 736 5000", "abc", "+1 876 927 1234", "312 263 0111"], inventory)

    for result in results:
        data = result.as_json()
        assert set(data) == {
            "input",
            "e164",
            "portable",
            "reason",
            "message",
            "number_type",
            "region",
        }
        assert data == {
            "input": result.input,
            "e164": result.e164,
            "portable": result.portable,
            "reason": result.reason,
            "message": result.message,
            "number_type": result.number_type,
            "region": result.region,
        }
        assert json.loads(json.dumps(data)) == data
    assert results[0].as_json()["reason"] is None
    assert results[1].as_json()["e164"] is None


def test_reasons_are_listed_in_rule_order():
    assert list(REASONS) == [
        "invalid_number",
        "not_us_ca",
        "canada_ticket",
        "duplicate",
        "receiving_number",
        "fail_safe_number",
        "user_number",
        "tracking_number",
        "in_active_port",
    ]
    assert all(isinstance(label, str) and label for label in REASONS.values())


def test_summary_counts_by_reason_in_rule_order(inventory):
    texts = [
        "312 263 0777",
        "312 263 0111",
        "abc",
        "212 736 5000",
        "2127365000",
        "416 736 5000",
        "12345",
        "1-800-FLOWERS",
    ]

    summary = summarize(check(texts, inventory))

    assert (summary.total, summary.portable, summary.refused) == (8, 2, 6)
    assert list(summary.by_reason.items()) == [
        ("invalid_number", 2),
        ("canada_ticket", 1),
        ("duplicate", 1),
        ("tracking_number", 1),
        ("in_active_port", 1),
    ]
    empty = summarize([])
    assert (empty.total, empty.portable, empty.refused, empty.by_reason) == (0, 0, 0, {})


@pytest.fixture
def big_inventory(acme, globex):
    """Thousands of rows in every table the check reads."""
    TrackingNumber.insert_many(
        [(globex.id, f"+1312264{i:04d}") for i in range(2000)],
        fields=[TrackingNumber.account, TrackingNumber.number],
    ).execute()
    PortRequest.create(id=99, account=globex, status="submitted")
    NumberClaim.insert_many(
        [(globex.id, f"+1312265{i:04d}", 99) for i in range(1000)],
        fields=[NumberClaim.account, NumberClaim.number, NumberClaim.port_request_id],
    ).execute()
    ReceivingNumber.insert_many(
        [(acme.id, f"+1312266{i:04d}", "Desk", True) for i in range(900)],
        fields=[
            ReceivingNumber.account,
            ReceivingNumber.number,
            ReceivingNumber.name,
            ReceivingNumber.active,
        ],
    ).execute()
    User.insert_many(
        [
            (f"u{i}@acme.test", f"User {i}", "owner", acme.id, f"+1312267{i:04d}")
            for i in range(900)
        ],
        fields=[User.email, User.name, User.role, User.account, User.phone],
    ).execute()
    return acme


def mixed_numbers(count):
    """Inventory hits and misses, invalid, Canadian and repeated numbers, in a fixed mix."""
    kinds = [
        "312 264 {n:04d}",  # tracking number
        "312-265-{n:04d}",  # claimed
        "212 736 {n:04d}",  # portable
        "(312) 266-{n:04d}",  # receiving number
        "312.267.{n:04d}",  # user's phone
        "212 036 {n:04d}",  # invalid
        "416 736 {n:04d}",  # Canadian
        "+1 312 264 {n:04d}",  # the tracking number again
    ]
    return [kinds[i % len(kinds)].format(n=i // len(kinds)) for i in range(count)]


MIX_REASONS = [
    "tracking_number",
    "in_active_port",
    None,
    "receiving_number",
    "user_number",
    "invalid_number",
    "canada_ticket",
    "duplicate",
]


def test_queries_do_not_grow_with_the_count_of_numbers(big_inventory, statements):
    few = check(mixed_numbers(10), big_inventory)
    few_queries = list(statements)
    statements.clear()
    many = check(mixed_numbers(5000), big_inventory)
    many_queries = list(statements)
    statements.clear()
    for_a_request = check(mixed_numbers(5000), big_inventory, port_request_id=7)
    request_queries = list(statements)

    # One statement for every table: the account's receiving numbers and users read whole, the
    # platform's tracking numbers and claims (one mirror, taken_number) with the list sent once.
    assert len(few_queries) == 1
    assert many_queries == few_queries
    assert len(request_queries) == 1
    for sql in few_queries + request_queries:
        assert re.findall(r'FROM "(\w+)" AS', sql) == ["receiving_number", "users", "taken_number"]
        assert sql.count("json_each") + sql.count("unnest") == 1
    assert reasons(few) == [MIX_REASONS[i % 8] for i in range(10)]
    assert reasons(many) == [MIX_REASONS[i % 8] for i in range(5000)]
    assert reasons(for_a_request) == reasons(many)


# Property tests: nothing anyone types makes the check raise, and its NANP verdicts are the
# library's (plus the NANP rules of docs/domain.md), whatever it caches.

NUMBERISH = st.text(alphabet="0123456789+-(). ,;/#*xXe\t\u00a0", max_size=24)
UNICODE_DIGITS = st.text(alphabet=st.characters(categories=("Nd",)), min_size=1, max_size=16)
FULL_WIDTH = st.text(alphabet="０１２３４５６７８９＋（）－　 1+", max_size=16)
DIGITS_AND_MARKS = st.text(
    alphabet=st.one_of(
        st.characters(categories=("Nd", "Pd", "Ps", "Pe", "Zs", "Lu")),
        st.sampled_from("0123456789+"),
    ),
    max_size=24,
)
NANP_LIKE = st.builds(
    str.__add__,
    st.sampled_from(["", "1", "+1", "+1 ", "1-", "+", "011 ", "tel:"]),
    st.text(alphabet=string.digits + " -", min_size=7, max_size=14),
)
ANY_INPUT = st.one_of(
    st.text(),
    NUMBERISH,
    UNICODE_DIGITS,
    FULL_WIDTH,
    DIGITS_AND_MARKS,
    NANP_LIKE,
    st.text(alphabet=string.ascii_letters + string.digits + "-+ ", max_size=20),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(ANY_INPUT, min_size=1, max_size=6))
def test_no_input_string_makes_the_check_raise(inventory, texts):
    results = check(texts, inventory)

    assert [(r.line, r.input) for r in results] == list(enumerate(texts, 1))
    for result in results:
        assert_well_formed(result)


def library_expectation(digits):
    """What the library says of a 10-digit NANP number, refused where docs/domain.md adds a rule."""
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    parsed = phonenumbers.parse("+1" + digits, None)
    fiction = exchange == "555" and "0100" <= line <= "0199"
    if area[1:] == "11" or fiction or not phonenumbers.is_valid_number(parsed):
        return ("invalid_number", None, None, "unknown")
    region = phonenumbers.region_code_for_number(parsed)
    number_type = LIBRARY_TYPES.get(phonenumbers.number_type(parsed), "unknown")
    if region == "CA":
        reason = "canada_ticket"
    elif region in US_REGIONS:
        reason = None
    else:
        reason = "not_us_ca"
    return (reason, "+1" + digits, region, number_type)


def nanp_three(first):
    return st.integers(first * 100, 999).map(str)


RANDOM_PREFIX = st.builds(str.__add__, nanp_three(2), nanp_three(2))
# Prefixes where the verdict turns on the last four digits, the 555 rule, or a mobile type.
TRICKY_PREFIX = st.sampled_from(
    ["246521", "246522", "876606", "212555", "416555", "888555", "787555", "684733", "242357"]
)
LINE = st.one_of(
    st.integers(0, 9999),
    st.sampled_from([0, 99, 100, 150, 199, 200, 999, 1000, 1212, 2000, 4999, 5000, 9000, 9999]),
)
FORMATS = st.sampled_from(
    [
        lambda d: d,
        lambda d: f"+1{d}",
        lambda d: f"1-{d[:3]}-{d[3:6]}-{d[6:]}",
        lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}",
    ]
)


@st.composite
def nanp_lists(draw):
    """Numbers sharing a few prefixes, so that one check reuses each prefix's verdict."""
    prefixes = draw(st.lists(st.one_of(RANDOM_PREFIX, TRICKY_PREFIX), min_size=1, max_size=3))
    numbers = []
    for prefix in prefixes:
        numbers += [f"{prefix}{line:04d}" for line in draw(st.lists(LINE, min_size=1, max_size=4))]
    return list(dict.fromkeys(numbers))


@pytest.fixture
def bare_account(database):
    return Account.create(id=1, name="No Inventory")


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(numbers=nanp_lists(), style=FORMATS)
def test_nanp_verdicts_agree_with_the_library(bare_account, numbers, style):
    results = check([style(digits) for digits in numbers], bare_account)

    assert [(r.reason, r.e164, r.region, r.number_type) for r in results] == [
        library_expectation(digits) for digits in numbers
    ]
