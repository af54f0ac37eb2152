"""The rules that stop rejections (portal/port_requests/rules.py): no app, no database."""

import copy
import datetime
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.config import ConfigError, from_environment
from portal.port_requests.rules import Problem, problems, step_of, step_problems
from portal.portability import Result

TODAY = datetime.date(2026, 11, 27)  # a Friday; with 7 business days the earliest is Dec 8
ROUTING = {"main line": 402, "front desk": 403}
SOURCES = {"google ads": 301}

GOOD = {
    "friendly_name": "Harbor Clinic main lines",
    "contact": {"name": "Ann Lee", "email": "ann@harbor.example.com", "phone": "(614) 322-1000"},
    "billing": {
        "carrier": "AT&T",
        "service_type": "landline",
        "customer_type": "business",
        "customer_name": "HARBOR CLINIC, LLC",
        "account_number": "1234-5678",
        "pin": "",
        "btn": "(614) 322-1000",
    },
    "service_address": {
        "street_number": "1200",
        "street": "N High St",
        "unit": "Ste 4",
        "city": "Columbus",
        "state": "OH",
        "zip": "43201",
    },
    "billing_address": None,
    "authorized": {
        "name": "Ann Lee",
        "title": "Owner",
        "email": "ann@harbor.example.com",
        "phone": "(614) 322-1000",
    },
    "numbers": [
        {"phone_number": "(614) 322-1001", "routing_id": 402, "tracking_source_id": 301},
        {"phone_number": "(614) 322-1002", "routing_id": 403, "tracking_source_id": 301},
    ],
    "partial_port": {"other_numbers_remain": False, "remaining_numbers": None, "new_btn": ""},
    "requested_date": "2027-01-12",
}


def request(**changes):
    """Return the good request with `changes` applied: {"contact__email": "x"} sets a field."""
    changed = copy.deepcopy(GOOD)
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = changed
        for part in parents:
            target = target[part]
        target[key] = value
    return changed


def check(req, **options):
    options = {
        "today": TODAY,
        "routing_ids": frozenset(ROUTING.values()),
        "tracking_source_ids": frozenset(SOURCES.values()),
        "routing_names": ROUTING,
        "source_names": SOURCES,
        **options,
    }
    return problems(req, **options)


def codes(req, **options):
    return [(p.field, p.code) for p in check(req, **options)]


def result(text, e164, *, portable=True, reason=None, message="Portable.", number_type="local"):
    region = "US" if e164 else None
    return Result(1, text, e164, portable, reason, message, number_type, region, "item 1")


# Good data: no false alarms.


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"service_address__zip": "43201-1234"},
        {"service_address__zip": "432011234"},
        {"service_address__zip": " 43201 "},
        {"service_address__state": "oh"},
        {"contact__phone": "+16143221000"},
        {"authorized__phone": "614.322.1000"},
        {"billing__btn": "1 (614) 322-1000"},
        {"billing__customer_name": "harbor clinic llc"},
        {"billing__service_type": "VoIP"},
        {"billing__pin": None},
        {"requested_date": None},
        {"requested_date": "2026-12-08"},  # exactly 7 business days ahead
        {"service_address__unit": None},
        {"service_address__street_number": "12B"},
        {"service_address__street": "Box Elder Rd"},
        {"service_address__street": "Post Office Rd"},
        # The bill may go to a PO box: only the service address must be where the line is.
        {
            "billing_address": {
                "street_number": "",
                "street": "PO Box 12",
                "city": "Columbus",
                "state": "OH",
                "zip": "43216",
            }
        },
        {
            "numbers": [
                {"phone_number": "+16143221001", "routing_id": "402", "tracking_source_id": 301}
            ]
        },
        {"partial_port": {"other_numbers_remain": True, "remaining_numbers": "keep"}},
        {"billing__customer_type": "residential", "authorized__title": ""},
    ],
)
def test_good_data_has_no_problems(changes):
    assert check(request(**changes)) == []


def test_a_territory_is_us():
    pr = request(
        service_address={
            "street_number": "1",
            "street": "Calle Fortaleza",
            "city": "San Juan",
            "state": "PR",
            "zip": "00901",
        },
        contact__phone="(787) 722-2121",
    )
    assert check(pr) == []


# Required fields.

REQUIRED = [
    "friendly_name",
    "contact__name",
    "contact__email",
    "contact__phone",
    "billing__carrier",
    "billing__service_type",
    "billing__customer_type",
    "billing__customer_name",
    "billing__account_number",
    "billing__btn",
    "service_address__street_number",
    "service_address__street",
    "service_address__city",
    "service_address__state",
    "service_address__zip",
    "authorized__name",
    "authorized__title",
    "authorized__email",
    "authorized__phone",
    "partial_port__other_numbers_remain",
]


@pytest.mark.parametrize(
    "path, blank",
    [
        (path, blank)
        for path in REQUIRED
        for blank in (None, "", "   ")
        if blank is None or not path.endswith("other_numbers_remain")  # a yes/no, not text
    ],
)
def test_a_required_field_left_blank_is_named(path, blank):
    found = check(request(**{path: blank}))
    assert [(p.field, p.code, p.severity) for p in found] == [
        (path.replace("__", "."), "required", "error")
    ]
    assert found[0].message.startswith(("Enter", "Choose", "Say"))


def test_an_empty_draft_names_every_required_field_in_the_forms_order():
    found = codes({})
    assert found == [(p.replace("__", "."), "required") for p in REQUIRED if "title" not in p] + [
        ("numbers", "required")
    ]


def test_a_residential_representative_needs_no_title():
    assert codes(request(billing__customer_type="residential", authorized__title=None)) == []
    assert codes(request(authorized__title=None)) == [("authorized.title", "required")]


@pytest.mark.parametrize(
    "path, value",
    [("billing.service_type", "cable"), ("billing.customer_type", "government")],
)
def test_a_choice_outside_the_list_is_refused(path, value):
    section, key = path.split(".")
    found = check(request(**{f"{section}__{key}": value}))
    assert [(p.field, p.code) for p in found] == [(path, "invalid_choice")]
    assert repr(value) in found[0].message


# Emails and phones.


@pytest.mark.parametrize("email", ["ann", "ann@localhost", "ann@@harbor.com", "ann lee@x.com"])
@pytest.mark.parametrize("section", ["contact", "authorized"])
def test_an_email_that_cannot_be_delivered_to_is_refused(section, email):
    assert codes(request(**{f"{section}__email": email})) == [(f"{section}.email", "email_invalid")]


PHONES = ["contact__phone", "authorized__phone", "billing__btn", "partial_port__new_btn"]


@pytest.mark.parametrize("path", PHONES)
@pytest.mark.parametrize(
    "phone, code",
    [
        ("614-322", "phone_invalid"),
        ("(614) 555-0150", "phone_invalid"),  # reserved for fiction
        ("911", "phone_invalid"),
        ("(416) 979-1234", "phone_not_us"),  # Toronto
        ("+44 20 7946 0958", "phone_not_us"),
    ],
)
def test_a_phone_field_must_be_a_us_number(path, phone, code):
    found = check(request(**{path: phone}))
    assert [(p.field, p.code) for p in found] == [(path.replace("__", "."), code)]


def test_a_canadian_btn_says_canadian():
    (found,) = check(request(billing__btn="(416) 979-1234"))
    assert "Canadian" in found.message


# Addresses.

PO_BOXES = [
    "PO Box 12",
    "P.O. Box 12",
    "Post Office Box 12",
    "POB 12",
    "Box 12",
    "P O Box 12",
    "PO BOX 12",
    "po box 12",
]


@pytest.mark.parametrize("street", PO_BOXES)
def test_a_po_box_is_not_a_service_address(street):
    found = check(request(service_address__street_number="", service_address__street=street))
    assert [(p.field, p.code) for p in found] == [("service_address.street", "po_box")]
    assert "service address" in found[0].message


def test_a_po_box_split_across_the_number_and_street_boxes_is_found():
    changes = {"service_address__street_number": "PO Box", "service_address__street": "12"}
    assert ("service_address.street", "po_box") in codes(request(**changes))


def test_a_street_number_left_in_the_street_is_pointed_at():
    found = check(
        request(service_address__street_number="", service_address__street="1200 High St")
    )
    assert [(p.field, p.code) for p in found] == [
        ("service_address.street_number", "street_number_in_street")
    ]
    assert "(1200)" in found[0].message


def test_a_street_number_without_digits_is_refused():
    found = codes(request(service_address__street_number="Main"))
    assert found == [("service_address.street_number", "street_number_invalid")]


@pytest.mark.parametrize("state, words", [("ZZ", "two-letter"), ("ON", "Canada"), ("Ohio", "OH")])
def test_a_state_outside_the_us_is_refused(state, words):
    found = check(request(service_address__state=state))
    assert [(p.field, p.code) for p in found] == [("service_address.state", "state_invalid")]
    assert words in found[0].message


@pytest.mark.parametrize(
    "zip_code, code",
    [
        ("4320", "zip_malformed"),
        ("ABCDE", "zip_malformed"),
        ("43201-12", "zip_malformed"),
        ("４３２０１", "zip_malformed"),  # full-width digits: retype them
        ("00000", "zip_unknown"),
        ("77002", "zip_state_mismatch"),
    ],
)
@pytest.mark.parametrize("prefix", ["service_address", "billing_address"])
def test_a_bad_zip_is_named(prefix, zip_code, code):
    req = request(billing_address=dict(GOOD["service_address"]))
    req[prefix]["zip"] = zip_code
    assert codes(req) == [(f"{prefix}.zip", code)]


def test_a_zip_of_another_state_says_which():
    (found,) = check(request(service_address__zip="77002-1234"))
    assert found == Problem(
        "service_address.zip", "zip_state_mismatch", "error", "ZIP 77002 is in TX, not OH."
    )


def test_a_billing_address_is_checked_like_the_service_address():
    req = request(billing_address={"street": "High St", "state": "XX", "zip": "43201"})
    assert codes(req) == [
        ("billing_address.street_number", "required"),
        ("billing_address.city", "required"),
        ("billing_address.state", "state_invalid"),
    ]


# PIN.


def test_wireless_service_needs_its_pin():
    found = check(request(billing__service_type="wireless"))
    assert [(p.field, p.code, p.severity) for p in found] == [
        ("billing.pin", "pin_required", "error")
    ]
    assert check(request(billing__service_type="wireless", billing__pin="4321")) == []


def test_mobile_numbers_without_a_pin_ask_for_a_confirmation():
    checked = [
        result("(614) 322-1001", "+16143221001", number_type="mobile"),
        result("(614) 322-1002", "+16143221002"),
    ]
    found = check(request(), checked=checked)
    assert [(p.field, p.code, p.severity) for p in found] == [
        ("billing.pin", "pin_for_mobile", "warning")
    ]
    assert check(request(billing__pin="4321"), checked=checked) == []


# Partial ports.


def test_numbers_that_stay_need_their_fate():
    changes = {"partial_port": {"other_numbers_remain": True}}
    assert codes(request(**changes)) == [("partial_port.remaining_numbers", "required")]
    changes = {"partial_port": {"other_numbers_remain": True, "remaining_numbers": "sell"}}
    assert codes(request(**changes)) == [("partial_port.remaining_numbers", "invalid_choice")]


@pytest.mark.parametrize("answer", ["yes", 1, [], {}])
def test_the_partial_port_answer_is_true_or_false(answer):
    found = codes(request(partial_port__other_numbers_remain=answer))
    assert found == [("partial_port.other_numbers_remain", "wrong_type")]


def porting_the_btn(**partial_port):
    # The BTN, written differently from the number in the list: the same number.
    return request(
        billing__btn="+16143221001",
        partial_port={"other_numbers_remain": True, "remaining_numbers": "keep", **partial_port},
    )


def test_porting_the_btn_while_others_stay_needs_a_new_btn():
    found = check(porting_the_btn())
    assert [(p.field, p.code) for p in found] == [("partial_port.new_btn", "new_btn_required")]
    assert check(porting_the_btn(new_btn="(614) 322-1999")) == []


def test_porting_the_btn_with_nothing_left_behind_needs_no_new_btn():
    assert check(request(billing__btn="+16143221001")) == []


def test_porting_a_number_that_is_not_the_btn_needs_no_new_btn():
    changes = {"partial_port": {"other_numbers_remain": True, "remaining_numbers": "keep"}}
    assert check(request(**changes)) == []


def test_the_new_btn_cannot_be_a_ported_number():
    found = codes(porting_the_btn(new_btn="614-322-1002"))
    assert found == [("partial_port.new_btn", "new_btn_ported")]


# The requested date.


@pytest.mark.parametrize(
    "date, code, words",
    [
        ("2027-13-01", "date_invalid", "YYYY-MM-DD"),
        ("next tuesday", "date_invalid", "YYYY-MM-DD"),
        ("2026-11-02", "date_past", "Tue Dec 8, 2026"),
        ("2027-01-09", "date_weekend", "Saturday"),
        ("2027-01-10", "date_weekend", "Sunday"),
        ("2027-01-18", "date_holiday", "Martin Luther King"),
        ("2027-07-05", "date_holiday", "Independence Day"),  # July 4 is a Sunday
        ("2026-12-25", "date_holiday", "Christmas"),
        ("2026-12-07", "date_too_soon", "Tue Dec 8, 2026"),
        ("2026-11-30", "date_too_soon", "7 business days"),
        ("2031-01-14", "date_too_far", "2 years"),
    ],
)
def test_a_date_carriers_refuse_is_named(date, code, words):
    found = check(request(requested_date=date))
    assert [(p.field, p.code) for p in found] == [("requested_date", code)]
    assert words in found[0].message


def test_the_lead_time_is_a_setting_counted_in_business_days():
    # Dec 2 is 3 business days after Friday Nov 27.
    assert check(request(requested_date="2026-12-02"), lead_business_days=3) == []
    assert codes(request(requested_date="2026-12-01"), lead_business_days=3) == [
        ("requested_date", "date_too_soon")
    ]
    # Thanksgiving (Thu Nov 26) is no business day; the Friday after it is one.
    wednesday = datetime.date(2026, 11, 25)
    assert check(request(requested_date="2026-11-27"), today=wednesday, lead_business_days=1) == []
    assert codes(request(requested_date="2026-11-27"), today=wednesday, lead_business_days=2) == [
        ("requested_date", "date_too_soon")
    ]
    assert check(request(requested_date="2026-11-30"), today=wednesday, lead_business_days=2) == []


def test_the_lead_time_setting_is_read_from_the_environment():
    assert from_environment({"PORT_LEAD_BUSINESS_DAYS": "3"}) == {"PORT_LEAD_BUSINESS_DAYS": 3}
    with pytest.raises(ConfigError, match="PORT_LEAD_BUSINESS_DAYS must be at least 0"):
        from_environment({"PORT_LEAD_BUSINESS_DAYS": "-1"})


# Numbers.


@pytest.mark.parametrize("numbers", [None, []])
def test_a_request_needs_numbers(numbers):
    assert codes(request(numbers=numbers)) == [("numbers", "required")]


def test_a_refused_number_is_named_with_its_portability_reason():
    message = "Already a tracking number on the platform."
    checked = [
        result("(614) 322-1001", "+16143221001"),
        result("(614) 322-1002", "+16143221002", portable=False, reason="tracking_number",
               message=message),
    ]  # fmt: skip
    assert check(request(), checked=checked) == [
        Problem("numbers[1]", "tracking_number", "error", message)
    ]


def test_without_a_check_an_invalid_number_is_still_named():
    req = request(numbers=[{"phone_number": "123", "routing_id": 402, "tracking_source_id": 301}])
    assert codes(req) == [("numbers[0]", "invalid_number")]


def toll_free_and_local(*phones):
    return request(
        numbers=[{"phone_number": p, "routing_id": 402, "tracking_source_id": 301} for p in phones]
    )


def test_toll_free_numbers_mixed_with_local_ones_are_named():
    found = check(toll_free_and_local("(614) 322-1001", "(888) 463-6332", "(800) 829-1040"))
    assert [(p.field, p.code) for p in found] == [
        ("numbers[1]", "toll_free_mixed"),
        ("numbers[2]", "toll_free_mixed"),
    ]
    assert "RespOrg" in found[0].message
    assert check(toll_free_and_local("(888) 463-6332", "(800) 829-1040")) == []


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"routing_id": 999}, ("numbers[0].routing_id", "unknown_routing_id")),
        (
            {"tracking_source_id": 999},
            ("numbers[0].tracking_source_id", "unknown_tracking_source_id"),
        ),
        ({"routing_id": None}, ("numbers[0].routing_id", "required")),
        ({"tracking_source_id": ""}, ("numbers[0].tracking_source_id", "required")),
        ({"routing_id": True}, ("numbers[0].routing_id", "wrong_type")),
        ({"routing_id": 4.5}, ("numbers[0].routing_id", "wrong_type")),
        ({"routing_id": "Lobby"}, ("numbers[0].routing_id", "wrong_type")),
        ({"routing_id": "  Main   LINE "}, ("numbers[0].routing_id", "name_not_id")),
        ({"tracking_source_id": "Google Ads"}, ("numbers[0].tracking_source_id", "name_not_id")),
    ],
)
def test_a_routing_or_source_must_be_one_of_the_accounts_ids(row, expected):
    base = {"phone_number": "(614) 322-1001", "routing_id": 402, "tracking_source_id": 301}
    assert codes(request(numbers=[{**base, **row}])) == [expected]


def test_a_name_where_an_id_belongs_is_answered_with_the_id():
    row = {"phone_number": "(614) 322-1001", "routing_id": "Front desk", "tracking_source_id": 301}
    (found,) = check(request(numbers=[row]))
    assert found.message == "Use the routing target ID (403), not its name."


def test_numbers_come_in_their_order_after_the_fields():
    rows = [{"phone_number": f"(614) 322-10{i:02}", "routing_id": 1} for i in range(12)]
    found = codes(request(numbers=rows, requested_date="2027-01-09"))
    assert found[0] == ("requested_date", "date_weekend")
    assert found[1:] == [
        (f"numbers[{i}].{field}", code)
        for i in range(12)
        for field, code in (
            ("routing_id", "unknown_routing_id"),
            ("tracking_source_id", "required"),
        )
    ]


# Steps.


def test_each_problem_belongs_to_a_step():
    req = request(friendly_name="", service_address__zip="77002", numbers=[])
    assert [p.field for p in step_problems(req, "general", today=TODAY)] == ["friendly_name"]
    assert [p.field for p in step_problems(req, "details", today=TODAY)] == ["service_address.zip"]
    assert [p.field for p in step_problems(req, "numbers", today=TODAY)] == ["numbers"]
    assert step_of("numbers[3].routing_id") == "numbers"
    assert step_of("partial_port.new_btn") == "details"


# Input that is not what the form sends: a problem on the field, never an exception.


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"contact": ["Ann"]}, [("contact", "wrong_type")]),
        ({"billing_address": "same"}, [("billing_address", "wrong_type")]),
        ({"numbers": {"0": "6143221001"}}, [("numbers", "wrong_type")]),
        ({"numbers": ["(614) 322-1001"]}, [("numbers[0]", "wrong_type")]),
        ({"friendly_name": 42}, [("friendly_name", "wrong_type")]),
        ({"service_address__zip": 43201}, [("service_address.zip", "wrong_type")]),
        (
            {"service_address__street_number": 1200},
            [("service_address.street_number", "wrong_type")],
        ),
        ({"requested_date": 20270112}, [("requested_date", "wrong_type")]),
        ({"contact__name": "Ann\x00Lee"}, [("contact.name", "invisible_character")]),
        (
            {"contact__email": "ann\u200b@harbor.example.com"},
            [("contact.email", "invisible_character")],
        ),
        ({"billing__customer_name": "x" * 1_000_000}, [("billing.customer_name", "too_long")]),
        (
            {"service_address__street": "High St " * 200_000},
            [("service_address.street", "too_long")],
        ),
        ({"contact__phone": "6" * 1_000_000}, [("contact.phone", "too_long")]),
    ],
)
def test_input_of_the_wrong_shape_is_a_problem_on_its_field(changes, expected):
    assert codes(request(**changes)) == expected


def test_a_request_that_is_not_an_object_is_one_problem():
    assert codes(["friendly_name"]) == [("", "wrong_type")]


def test_unicode_text_is_fine():
    req = request(contact__name="Zoë Ñúñez", billing__customer_name="Café Olé, LLC")
    assert check(req) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = {
    "friendly_name": JSON,
    "contact": st.fixed_dictionaries({}, optional={k: JSON for k in ("name", "email", "phone")}),
    "billing": st.fixed_dictionaries({}, optional={k: JSON for k in GOOD["billing"]}),
    "service_address": st.fixed_dictionaries(
        {}, optional={k: JSON for k in GOOD["service_address"]}
    ),
    "billing_address": JSON
    | st.fixed_dictionaries({}, optional={k: JSON for k in GOOD["service_address"]}),
    "authorized": st.fixed_dictionaries({}, optional={k: JSON for k in GOOD["authorized"]}),
    "numbers": JSON
    | st.lists(
        st.fixed_dictionaries({}, optional={k: JSON for k in GOOD["numbers"][0]}), max_size=4
    ),
    "partial_port": st.fixed_dictionaries({}, optional={k: JSON for k in GOOD["partial_port"]}),
    "requested_date": JSON | st.dates().map(str),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=FIELDS) | st.dictionaries(st.text(), JSON) | JSON)
def test_any_json_gives_problems_never_an_exception(req):
    found = check(req)
    assert all(isinstance(p, Problem) and p.severity in ("error", "warning") for p in found)
    assert all(p.message for p in found)


def test_the_rules_import_without_flask():
    code = "import sys, portal.port_requests.rules; assert 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_more_numbers_than_a_check_takes_are_one_problem():
    assert codes(request(numbers=[None] * 20_001)) == [("numbers", "too_many")]


def test_a_check_of_other_numbers_is_the_callers_mistake():
    with pytest.raises(ValueError, match="one portability result per number"):
        check(request(), checked=[result("(614) 322-1001", "+16143221001")])
