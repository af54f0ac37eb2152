"""The port request wizard and the request API attacked: by a hostile owner, by two tabs at once.

Every wizard URL and method with another account's id, a missing id or one that is no id; a
request that left draft; crafted hidden fields, values and files; forms replayed after sign-out,
after deletion or with a stale CSRF token; and changes made at the same moment from real threads
through a live server (werkzeug's threaded server here; `ATTACK_SERVER=gunicorn` runs the same
tests against gunicorn, 2 workers x 4 threads, as bench/serving.py starts it). Nothing may answer
500, change what it must not, lose a write or leave two numbers at one position.
"""

import html
import http.client
import io
import json
import os
import re
import threading
import urllib.parse
import zipfile
from http.cookies import SimpleCookie

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.models import (
    AgreementAcceptance,
    NumberUpload,
    PortNumber,
    PortRequest,
    ReceivingNumber,
    ReceivingReroute,
    RequestEvent,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
)
from portal.port_requests import agreements
from portal.port_requests.drafts import store_numbers
from portal.portability import MAX_ENTRIES
from portal.web import EXPIRED_FORM
from tests.conftest import OWNER_EMAIL, PASSWORD, make_config, without_csrf
from tests.test_api import bearer, issue_key

PORTABLE = "(614) 322-1001"
SECOND = "(614) 322-1002"
FICTION = "212 555 0150"  # reserved for fiction: refused
RECEIVING = "+13122630100"  # an active receiving number of Acme
RINGING = ("+13122630111", "+13122630112")  # Acme's tracking numbers that ring RECEIVING
LONELY = "+13122630300"  # a receiving number of Acme no request holds
GLOBEX_TRACKING = "+13122630999"
NOT_A_DRAFT = "This request is submitted: it can no longer be changed."
NOT_FOUND = "Page not found"


@pytest.fixture
def inventory(app, accounts):
    """Acme's routing targets (901 rings RECEIVING) and source 31; Globex's 951 and 61."""
    acme, globex = accounts
    with app.app_context():
        TrackingSource.create(id=31, account=acme, name="Google Ads")
        TrackingSource.create(id=61, account=globex, name="Globex ads")
        front = RoutingTarget.create(
            id=901, account=acme, name="Front desk", kind="receiving_number", number=RECEIVING
        )
        RoutingTarget.create(id=902, account=acme, name="Sales queue", kind="call_queue")
        RoutingTarget.create(id=951, account=globex, name="Globex desk", kind="call_queue")
        ReceivingNumber.create(account=acme, number=RECEIVING, name="Front desk")
        ReceivingNumber.create(account=acme, number=LONELY, name="Back office")
        for number in RINGING:
            TrackingNumber.create(number=number, account=acme, routing_target=front)
        TrackingNumber.create(number=GLOBEX_TRACKING, account=globex)
    return accounts


def make_request(app, numbers=(), account=4242, status="draft"):
    """Store a request named Harbor with these numbers; return its id."""
    empty = dict.fromkeys(("routing_id", "tracking_source_id", "friendly_name"))
    rows = [empty | {"phone_number": number} for number in numbers]
    with app.app_context():
        port_request = PortRequest.create(
            account=account, status=status, details=json.dumps({"friendly_name": "Harbor"})
        )
        store_numbers(port_request, rows)
        return port_request.id


def snapshot(app, request_id):
    """Everything stored about a request (and the count of kept uploads), to compare."""

    def rows(model, order):
        query = model.select().where(model.port_request == request_id).order_by(order)
        return [{k: v for k, v in row.__data__.items() if k != "id"} for row in query]

    with app.app_context():
        found = PortRequest.get_or_none(PortRequest.id == request_id)
        return {
            "request": found and (found.account_id, found.status, found.details, found.updated_at),
            "numbers": rows(PortNumber, PortNumber.position),
            "events": rows(RequestEvent, RequestEvent.id),
            "acceptances": rows(AgreementAcceptance, AgreementAcceptance.id),
            "reroutes": rows(ReceivingReroute, ReceivingReroute.id),
            "uploads": NumberUpload.select().count(),
        }


def numbers_of(app, request_id):
    """The request's rows as (position, number, routing, source, name), in order."""
    return [
        (n["position"], n["phone_number"], n["routing_id"], n["tracking_source_id"])
        + (n["friendly_name"],)
        for n in snapshot(app, request_id)["numbers"]
    ]


def fields_of(app, request_id):
    with app.app_context():
        return PortRequest.get_by_id(request_id).fields


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


def flashes(response):
    return re.findall(r'<p class="flash flash--\w+">(.*?)</p>', text_of(response), re.S)


def url(request_id, suffix=""):
    return f"/port-requests/{request_id}{suffix}"


# Every form the wizard takes, filled in with what a hostile owner would send to each URL.
EVERYTHING = {
    "friendly_name": "Taken over",
    "contact.name": "Mallory",
    "requested_date_choice": "earliest",
    "numbers": PORTABLE,
    "numbers[0].phone_number": PORTABLE,
    "numbers[0].routing_id": "902",
    "numbers[0].friendly_name": "Mine now",
    "selected": "0",
    "remove": "1",
    "receiving_number": RECEIVING,
    f"reroute[{RINGING[0]}]": "902",
    "keep": "1",
    "agreements": list(agreements.TEXTS),
}
WIZARD = [
    ("get", ""),
    ("get", "/general"),
    ("post", "/general"),
    ("get", "/details"),
    ("post", "/details"),
    ("get", "/numbers"),
    ("post", "/numbers/check"),
    ("post", "/numbers/add"),
    ("post", "/numbers/configuration"),
    ("post", "/numbers/remove-refused"),
    ("post", "/numbers/reroute"),
    ("get", "/agreements"),
    ("post", "/agreements"),
    ("get", "/resume"),
    ("get", "/delete"),
    ("post", "/delete"),
]
POSTS = [suffix for method, suffix in WIZARD if method == "post"]
HTMX = {"HX-Request": "true"}


# Another account's request, a missing one, ids that are no request --------------------------


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(("method", "suffix"), WIZARD)
def test_another_accounts_request_is_the_same_404_as_a_missing_one_everywhere(
    app, owner_client, inventory, method, suffix, headers
):
    theirs = make_request(app, [PORTABLE, FICTION, RECEIVING], account=5151)
    before = snapshot(app, theirs)
    owner_client.get("/settings/")  # shows the sign-in message, which would tell the two apart

    def answer(request_id):
        data = EVERYTHING if method == "post" else None
        response = getattr(owner_client, method)(
            url(request_id, suffix), data=data, headers=headers
        )
        return response.status_code, without_csrf(response.get_data(as_text=True))

    foreign, missing = answer(theirs), answer(theirs + 1000)

    assert foreign[0] == 404
    assert foreign == missing
    assert "Harbor" not in foreign[1]
    assert snapshot(app, theirs) == before


@pytest.mark.parametrize(("method", "suffix"), WIZARD)
@pytest.mark.parametrize("request_id", ["0", str(2**31), str(2**63), str(10**30), "-1", "x", "1.5"])
def test_ids_that_name_no_request_are_404(app, owner_client, inventory, method, suffix, request_id):
    make_request(app, [PORTABLE])  # id 1 exists: none of these may reach it
    data = EVERYTHING if method == "post" else None
    response = getattr(owner_client, method)(url(request_id, suffix), data=data)
    assert response.status_code == 404
    assert NOT_FOUND in text_of(response)
    assert fields_of(app, 1) == {"friendly_name": "Harbor"}


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_the_api_answers_another_accounts_request_as_a_missing_one(app, inventory, method):
    theirs = make_request(app, [PORTABLE], account=5151)
    before = snapshot(app, theirs)
    key = issue_key(app, 4242)
    send = getattr(app.test_client(), method)
    options = {"json": {"friendly_name": "Mine now"}} if method == "patch" else {}

    def answer(request_id):
        response = send(f"/api/v1/port-requests/{request_id}", headers=bearer(key), **options)
        body = response.get_json()
        return response.status_code, body["error"]["code"], body["error"]["message"]

    foreign, missing = answer(theirs), answer(theirs + 1000)

    assert foreign[:2] == missing[:2] == (404, "not_found")
    assert foreign[2] == missing[2].replace(f"request {theirs + 1000} ", f"request {theirs} ")
    for request_id in ("0", str(2**31), str(2**63), "-1", "x"):
        assert answer(request_id)[:2] == (404, "not_found")
    assert snapshot(app, theirs) == before


# A request that is no longer a draft --------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("suffix", POSTS)
def test_a_request_that_left_draft_takes_no_change_and_says_so(
    app, owner_client, inventory, suffix, headers
):
    mine = make_request(app, [PORTABLE, FICTION, RECEIVING], status="submitted")
    before = snapshot(app, mine)

    response = owner_client.post(url(mine, suffix), data=EVERYTHING, headers=headers)

    assert snapshot(app, mine) == before
    if response.status_code == 204:  # htmx is told to load the request's page as a whole
        assert response.headers["HX-Redirect"] == url(mine)
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == url(mine)
    assert NOT_A_DRAFT in flashes(owner_client.get(url(mine)))


@pytest.mark.parametrize("suffix", ["/general", "/details", "/numbers", "/agreements", "/delete"])
def test_the_steps_of_a_request_that_left_draft_lead_to_its_page(
    app, owner_client, inventory, suffix
):
    mine = make_request(app, [PORTABLE], status="submitted")
    response = owner_client.get(url(mine, suffix), follow_redirects=True)
    assert response.request.path == url(mine)
    assert NOT_A_DRAFT in flashes(response)


# Crafted fields -----------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["general", "details"])
def test_names_the_step_does_not_show_change_nothing_else(app, owner_client, inventory, step):
    mine = make_request(app, [PORTABLE])
    numbers = numbers_of(app, mine)
    crafted = {
        "status": "completed",
        "account": "5151",
        "account_id": "5151",
        "id": "99",
        "details": "{}",
        "numbers": SECOND,
        "numbers[0].phone_number": SECOND,
        "numbers[0].routing_id": "951",
        "created_by": "2",
        "friendly_name" if step == "details" else "contact.name": "Not on this step",
    }

    response = owner_client.post(url(mine, f"/{step}"), data=crafted)

    assert response.status_code == 302
    stored = snapshot(app, mine)["request"]
    assert stored[:2] == (4242, "draft")
    assert numbers_of(app, mine) == numbers
    fields = fields_of(app, mine)
    assert fields["friendly_name"] == ("Harbor" if step == "details" else None)
    assert fields.get("contact", {}).get("name") is None


UNREADABLE = [
    ("general", "friendly_name", "x" * 1_000_000, "Shorten"),
    ("general", "friendly_name", "Harbor\x00lines", "NUL"),
    ("details", "contact.name", "x" * 1_000_000, "Shorten"),
    ("details", "service_address.state", "OH\x00", "NUL"),
    ("details", "billing.service_type", "w" * 1_001, "Shorten"),
]


@pytest.mark.parametrize(("step", "name", "value", "said"), UNREADABLE)
def test_a_value_that_cannot_be_kept_is_named_on_its_field_and_nothing_is_saved(
    app, owner_client, inventory, step, name, value, said
):
    mine = make_request(app)
    before = snapshot(app, mine)
    data = {name: value, "requested_date_choice": "earliest"}

    page = owner_client.post(url(mine, f"/{step}"), data=data)
    fragment = owner_client.post(url(mine, f"/{step}"), data=data, headers=HTMX)

    assert page.status_code == 400
    assert "<html" in page.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert said in text_of(page)
    assert said in text_of(fragment)
    assert "Not saved" in text_of(fragment)
    assert snapshot(app, mine) == before


def test_a_right_to_left_override_is_kept_as_typed_and_named(app, owner_client, inventory):
    mine = make_request(app)
    response = owner_client.post(url(mine, "/general"), data={"friendly_name": "Harbor\u202eenil"})
    assert response.headers["Location"] == url(mine, "/general?review=1")
    assert fields_of(app, mine)["friendly_name"] == "Harbor\u202eenil"
    page = text_of(owner_client.get(response.headers["Location"]))
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in page


def config(number=PORTABLE, position=0, **values):
    """A configuration form's row as the page writes it, with these values."""
    row = {f"numbers[{position}].phone_number": number}
    return row | {f"numbers[{position}].{k}": v for k, v in values.items()}


CRAFTED_CONFIGURATIONS = [
    (
        "a routing target and a source of another account",
        config(routing_id="951", tracking_source_id="61") | {"save": "1"},
        (None, None, None),
        [
            "(614) 322-1001: routing target 951 is not one of this account's: "
            "it was left as it was.",
            "(614) 322-1001: tracking source 61 is not one of this account's: "
            "it was left as it was.",
        ],
    ),
    (
        "ids beyond any column and below zero",
        config(routing_id=str(2**63), tracking_source_id="-1") | {"save": "1"},
        (None, None, None),
        ["(614) 322-1001: tracking source -1 is not one of this account's: it was left as it was."],
    ),
    (
        "a name instead of an id",
        config(routing_id="Sales queue") | {"save": "1"},
        (None, None, None),
        [
            "(614) 322-1001: routing target Sales queue is not one of this account's: "
            "it was left as it was."
        ],
    ),
    (
        "a position past the last row",
        config(position=99999, routing_id="902") | {"selected": "99999", "remove": "1"},
        (None, None, None),
        ["1 row changed since this page was loaded and was not saved: check and save again."],
    ),
    (
        "a position holding another number",
        config(number=SECOND, routing_id="902") | {"save": "1"},
        (None, None, None),
        ["1 row changed since this page was loaded and was not saved: check and save again."],
    ),
    (
        "a row selected but not sent",
        {"selected": ["0", "1"], "remove": "1"},
        (None, None, None),
        ["Select the numbers to remove."],
    ),
    (
        "a name of a megabyte",
        config(friendly_name="n" * 1_000_000) | {"save": "1"},
        (None, None, None),
        ["(614) 322-1001: the name is over 10,000 characters: it was left as it was."],
    ),
    (
        "a NUL and a right-to-left override in a name",
        config(friendly_name="Main\x00\u202eline") | {"save": "1"},
        (None, None, "Main\u202eline"),
        ["Saved the configuration: 1 number changed."],
    ),
    (
        "another account's routing applied to every number",
        {"apply_routing_id": "951", "apply_to": "all", "apply": "1"},
        (None, None, None),
        ["Not applied: routing target 951 is not one of this account's."],
    ),
    (
        "an answer the form does not offer",
        {"apply_routing_id": "902", "apply_to": "everyone", "apply": "1"},
        (None, None, None),
        ["Select the numbers to apply it to, or choose every number in this request."],
    ),
]


@pytest.mark.parametrize(
    ("form", "row", "said"),
    [case[1:] for case in CRAFTED_CONFIGURATIONS],
    ids=[case[0] for case in CRAFTED_CONFIGURATIONS],
)
def test_a_crafted_configuration_changes_only_what_the_account_may(
    app, owner_client, inventory, form, row, said
):
    mine = make_request(app, [PORTABLE, SECOND, FICTION])
    theirs = make_request(app, [PORTABLE, SECOND], account=5151)
    before = snapshot(app, theirs)
    owner_client.get("/settings/")  # shows the sign-in message

    response = owner_client.post(url(mine, "/numbers/configuration"), data=form)

    assert response.headers["Location"] == url(mine, "/numbers")
    shown = flashes(owner_client.get(response.headers["Location"]))
    assert [message for message in said if message not in shown] == []
    assert numbers_of(app, mine) == [
        (0, PORTABLE, *row),
        (1, SECOND, None, None, None),
        (2, FICTION, None, None, None),
    ]
    assert snapshot(app, theirs) == before


CRAFTED_REROUTES = [
    (
        "a receiving number not in the request",
        {"receiving_number": LONELY, "keep": "1"},
        [],
        "That number is not an active receiving number of this request.",
    ),
    (
        "a number of the request that receives nothing",
        {"receiving_number": "+16143221001", "keep": "1"},
        [],
        "That number is not an active receiving number of this request.",
    ),
    (
        "another account's tracking number and routing",
        {
            "receiving_number": RECEIVING,
            f"reroute[{GLOBEX_TRACKING}]": "902",
            f"reroute[{RINGING[0]}]": "951",
            f"reroute[{RINGING[1]}]": "901",
            "keep": "1",
        },
        [(RECEIVING, RINGING[0], None), (RECEIVING, RINGING[1], None)],
        "(312) 263-0111: routing target 951 is not one of this account's: choose another.",
    ),
    (
        "a number of a megabyte",
        {"receiving_number": "+1" + "3" * 1_000_000, "keep": "1"},
        [],
        "That number is not an active receiving number of this request.",
    ),
    (
        "a line break in the number",
        {"receiving_number": "+1\r\nSet-Cookie: session=x", "keep": "1"},
        [],
        "That number is not an active receiving number of this request.",
    ),
]


@pytest.mark.parametrize(
    ("form", "kept", "said"),
    [case[1:] for case in CRAFTED_REROUTES],
    ids=[case[0] for case in CRAFTED_REROUTES],
)
def test_a_crafted_reroute_keeps_nothing_it_should_not(
    app, owner_client, inventory, form, kept, said
):
    mine = make_request(app, [PORTABLE, RECEIVING])

    response = owner_client.post(url(mine, "/numbers/reroute"), data=form)

    # The answer goes back to the step; a crafted number never comes back in a header.
    location = response.headers["Location"]
    assert location.startswith(url(mine, "/numbers#"))
    assert len(location) < 100 and "\n" not in location
    assert said in flashes(owner_client.get(location))
    with app.app_context():
        stored = ReceivingReroute.select().order_by(ReceivingReroute.tracking_number)
        assert [(r.receiving_number, r.tracking_number, r.routing_id) for r in stored] == kept


@pytest.mark.parametrize(
    ("sent", "accepted"),
    [
        (["authority", "authority", "keep_service"], ["authority", "keep_service"]),
        (["authority", "status"], []),
        (["a" * 1_000_000], []),
        (["authority\x00"], []),
    ],
)
def test_agreements_keep_one_row_per_statement_shown(app, owner_client, inventory, sent, accepted):
    mine = make_request(app, [PORTABLE])
    owner_client.post(url(mine, "/agreements"), data={"agreements": sent})
    rows = snapshot(app, mine)["acceptances"]
    assert sorted(row["statement"] for row in rows) == accepted


def test_an_api_change_of_the_numbers_forgets_the_reroutes_of_a_number_it_drops(
    app, owner_client, inventory
):
    mine = make_request(app, [PORTABLE, RECEIVING])
    chosen = {f"reroute[{number}]": "902" for number in RINGING}
    owner_client.post(
        url(mine, "/numbers/reroute"), data={"receiving_number": RECEIVING, "keep": "1", **chosen}
    )
    assert len(snapshot(app, mine)["reroutes"]) == 2
    key = issue_key(app, 4242)

    response = app.test_client().patch(
        f"/api/v1/port-requests/{mine}",
        json={"numbers": [{"phone_number": PORTABLE}]},
        headers=bearer(key),
    )

    assert response.status_code == 200
    # Staff apply a request's re-routes when it completes: none may outlive its number.
    assert snapshot(app, mine)["reroutes"] == []


# Files that are not what they say -----------------------------------------------------------


def _zip():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("numbers.csv", "phone_number\n6143221005\n")
    return data.getvalue()


FILES = [
    ("a PNG named .csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "This file is not UTF-8"),
    ("a zip named .csv", _zip(), "This looks like an Excel workbook"),
    ("an empty file", b"", "The file is empty"),
    ("UTF-16 text", "phone_number\n6143221011\n".encode("utf-16"), "This file is UTF-16 text"),
    ("a NUL in the text", b"phone_number\n614322\x001013\n", "it holds binary data"),
]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("action", ["add", "check"])
@pytest.mark.parametrize(("content", "said"), [f[1:] for f in FILES], ids=[f[0] for f in FILES])
def test_a_file_that_is_no_csv_is_named_and_adds_nothing(
    app, owner_client, inventory, action, headers, content, said
):
    mine = make_request(app, [PORTABLE])
    numbers = numbers_of(app, mine)

    response = owner_client.post(
        url(mine, f"/numbers/{action}"),
        data={"csv_file": (io.BytesIO(content), "numbers.csv")},
        content_type="multipart/form-data",
        headers=headers,
    )

    assert response.status_code == 200
    assert said in text_of(response)
    assert ("<html" in response.get_data(as_text=True)) is not bool(headers)
    assert numbers_of(app, mine) == numbers


def multipart(filename, content=b"phone_number\n6143221006\n"):
    """A multipart body built by hand, so the file's name may be any bytes."""
    body = (
        b"--attack\r\n"
        b'Content-Disposition: form-data; name="csv_file"; filename="' + filename + b'"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + content + b"\r\n--attack--\r\n"
    )
    return {"data": body, "content_type": "multipart/form-data; boundary=attack"}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("action", ["add", "check"])
def test_a_file_name_that_is_not_utf8_is_refused_in_words(
    app, owner_client, inventory, action, headers
):
    mine = make_request(app, [PORTABLE])
    before = snapshot(app, mine)

    response = owner_client.post(
        url(mine, f"/numbers/{action}"), headers=headers, **multipart(b"n\xff\xfe.csv")
    )

    assert response.status_code == 400
    assert "a file name or a field is not in UTF-8" in text_of(response)
    assert snapshot(app, mine) == before


@pytest.mark.parametrize(
    ("filename", "kept"),
    [(b"n\x00.csv", "n.csv"), ("n\u202evsc.csv".encode(), "nvsc.csv"), (b"\x01\x02", "upload.csv")],
)
def test_a_file_name_keeps_no_control_character(app, owner_client, inventory, filename, kept):
    mine = make_request(app)
    response = owner_client.post(url(mine, "/numbers/add"), **multipart(filename))
    assert response.status_code == 302
    assert [n[1] for n in numbers_of(app, mine)] == ["6143221006"]
    with app.app_context():
        assert [upload.filename for upload in NumberUpload.select()] == [kept]


def test_another_accounts_kept_upload_adds_nothing(app, owner_client, inventory):
    with app.app_context():
        upload = NumberUpload.create(
            account=5151, filename="globex.csv", content=b"phone_number\n6143229999\n"
        )
    mine = make_request(app, [PORTABLE])

    response = owner_client.post(url(mine, "/numbers/add"), data={"upload": str(upload.id)})

    assert response.status_code == 200
    assert "The file these results came from is no longer kept" in text_of(response)
    assert [n[1] for n in numbers_of(app, mine)] == [PORTABLE]


# htmx and the same URLs without JavaScript --------------------------------------------------


def htmx_cases():
    """(method, suffix, form, what the fragment must hold) for each htmx endpoint."""
    receiving = {"receiving_number": RECEIVING, f"reroute[{RINGING[0]}]": "951", "keep": "1"}
    return [
        ("get", "", None, 'id="numbers-'),
        ("get", "/numbers", None, 'id="numbers-rows"'),
        ("post", "/general", {"friendly_name": "Harbor"}, 'id="step-status"'),
        ("post", "/general", {"friendly_name": "\x00"}, "NUL"),
        ("post", "/details", {"contact.email": "dana@"}, 'id="step-status"'),
        ("post", "/details", {"contact.name": "x" * 1_001}, "Shorten"),
        ("post", "/numbers/check", {"numbers": PORTABLE}, "Portable"),
        ("post", "/numbers/check", {"numbers": "x" * 1_000_001}, "too much text"),
        ("post", "/numbers/add", {"numbers": SECOND}, 'id="numbers-rows"'),
        ("post", "/numbers/add", {"numbers": ""}, "Enter at least one number"),
        ("post", "/numbers/configuration", config(routing_id="902") | {"save": "1"}, "Saved"),
        ("post", "/numbers/configuration", config(routing_id="951") | {"save": "1"}, "951"),
        ("post", "/numbers/remove-refused", {}, "Removed 2 refused numbers"),
        ("post", "/numbers/reroute", receiving, "routing target 951 is not one of"),
    ]


@pytest.mark.parametrize(("method", "suffix", "form", "held"), htmx_cases())
def test_each_htmx_endpoint_answers_a_fragment_and_a_page_without_javascript(
    app, owner_client, inventory, method, suffix, form, held
):
    mine = make_request(app, [PORTABLE, FICTION, RECEIVING])
    other = make_request(app, [PORTABLE, FICTION, RECEIVING])
    send = getattr(owner_client, method)

    fragment = send(url(mine, suffix), data=form, headers=HTMX)
    page = send(url(other, suffix), data=form)

    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert held in text_of(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    if page.status_code == 302:
        page = owner_client.get(page.headers["Location"])
    assert page.status_code in (200, 400)
    assert "<html" in page.get_data(as_text=True)


# A live server, with CSRF on, and tabs sending at the same moment ---------------------------

TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class Tab:
    """One browser tab: its own connection, the session cookie, the CSRF token of its page."""

    def __init__(self, address, opened, cookies=None, token=None):
        self.connection = http.client.HTTPConnection(*address, timeout=120)
        self.address, self.opened = address, opened
        opened.append(self)  # to be closed when the test ends
        self.cookies = SimpleCookie()
        for name, morsel in (cookies or {}).items():
            self.cookies[name] = morsel.value
        self.token = token

    def send(self, method, path, form=None, headers=None):
        """Send a request (a form with this tab's token); return (status, headers, text)."""
        sent = dict(headers or {})
        body = None
        if form is not None:
            form = {"csrf_token": self.token} | form if self.token else form
            body = urllib.parse.urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        text = html.unescape(response.read().decode("utf-8", "replace"))
        for cookie in response.headers.get_all("Set-Cookie") or ():
            self.cookies.load(cookie)
        if found := TOKEN.search(text):
            self.token = found[1]
        return response.status, response.headers, text

    def get(self, path, headers=None):
        return self.send("GET", path, headers=headers)

    def post(self, path, form, headers=None):
        return self.send("POST", path, form, headers)

    def copy(self):
        """Another tab of the same browser: the same cookie, the token of the same page."""
        return Tab(self.address, self.opened, self.cookies, self.token)


@pytest.fixture
def live(database_url, tmp_path, owner, other_owner):
    """The app served on a loopback port: werkzeug's threaded server, or gunicorn on request."""
    if os.environ.get("ATTACK_SERVER") == "gunicorn":
        from bench.serving import gunicorn

        with gunicorn(database_url, tmp_path / "gunicorn", tmp_path / "gunicorn.log") as address:
            yield address
        return
    app = create_app(make_config(database_url, tmp_path / "live", WTF_CSRF_ENABLED=True))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    thread.join()


@pytest.fixture
def signed_in(live):
    """Return a new tab signed in as the owner; each tab's connection is closed afterwards."""
    opened = []

    def tab(email=OWNER_EMAIL):
        new = Tab(live, opened)
        new.get("/login")
        status, _, _ = new.post("/login", {"email": email, "password": PASSWORD})
        assert status == 302
        return new

    yield tab
    for each in opened:
        each.connection.close()


def tabs_like(tab, count, page):
    """Open `count` more tabs of the same browser, each showing `page`."""
    made = [tab.copy() for _ in range(count)]
    for each in made:
        each.get(page)
    return made


def at_once(*calls):
    """Run the calls on threads released together by a barrier; return what each returned."""
    start = threading.Barrier(len(calls))
    results, failures = [None] * len(calls), []

    def run(index):
        try:
            start.wait()
            results[index] = calls[index]()
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


DETAILS_A = {"contact.name": "Dana Reyes", "requested_date_choice": "earliest"}
DETAILS_B = {"billing.carrier": "Ohio Bell", "requested_date_choice": "earliest"}


def test_two_saves_of_the_details_at_once_each_land_whole(app, inventory, signed_in):
    mine = make_request(app, [PORTABLE])
    first, second = tabs_like(signed_in(), 2, url(mine, "/details"))

    answers = at_once(
        lambda: first.post(url(mine, "/details"), DETAILS_A)[0],
        lambda: second.post(url(mine, "/details"), DETAILS_B)[0],
    )

    assert answers == [302, 302]
    fields = fields_of(app, mine)
    # One after the other, never a mixture of the two forms' sections.
    assert (fields["contact"], fields["billing"]) in [
        ({"name": "Dana Reyes"}, {}),
        ({}, {"carrier": "Ohio Bell"}),
    ]
    events = snapshot(app, mine)["events"]
    assert [event["message"] for event in events] == ["Saved the details."]


def test_the_details_and_the_numbers_saved_at_once_both_land(app, inventory, signed_in):
    mine = make_request(app, [PORTABLE, SECOND])
    details, numbers = tabs_like(signed_in(), 2, url(mine, "/numbers"))
    configuration = config(routing_id="902", tracking_source_id="31", friendly_name="Main")

    answers = at_once(
        lambda: details.post(url(mine, "/details"), DETAILS_A)[0],
        lambda: numbers.post(url(mine, "/numbers/configuration"), configuration)[0],
        lambda: numbers.copy().post(url(mine, "/numbers/add"), {"numbers": "(614) 322-1003"})[0],
    )

    assert answers == [302, 302, 302]
    assert fields_of(app, mine)["contact"] == {"name": "Dana Reyes"}
    assert numbers_of(app, mine) == [
        (0, PORTABLE, 902, 31, "Main"),
        (1, SECOND, None, None, None),
        (2, "(614) 322-1003", None, None, None),
    ]


def test_numbers_added_at_once_take_unique_positions_and_none_is_lost(app, inventory, signed_in):
    mine = make_request(app, [PORTABLE])
    tabs = tabs_like(signed_in(), 4, url(mine, "/numbers"))
    added = [[f"(614) 555-2{tab}{n:02d}" for n in range(25)] for tab in range(4)]

    answers = at_once(
        *[
            lambda tab=tab, numbers=numbers: tab.post(
                url(mine, "/numbers/add"), {"numbers": "\n".join(numbers)}, HTMX
            )[0]
            for tab, numbers in zip(tabs, added, strict=True)
        ]
    )

    assert answers == [200] * 4
    rows = numbers_of(app, mine)
    assert [row[0] for row in rows] == list(range(101))
    assert sorted(row[1] for row in rows[1:]) == sorted(sum(added, []))
    # Each tab's numbers stay together, in the order typed.
    for numbers in added:
        start = [row[1] for row in rows].index(numbers[0])
        assert [row[1] for row in rows[start : start + 25]] == numbers


def test_adds_at_once_past_what_a_request_holds_let_one_in(app, inventory, signed_in):
    mine = make_request(app)
    with app.app_context():
        numbers = [f"(614) 4{n // 10000:02d}-{n % 10000:04d}" for n in range(MAX_ENTRIES - 6)]
        store_numbers(PortRequest.get_by_id(mine), [{"phone_number": n} for n in numbers])
    first, second = tabs_like(signed_in(), 2, url(mine, "/delete"))
    typed = [", ".join(f"(312) 555-{tab}{n:03d}" for n in range(4)) for tab in (1, 2)]

    answers = at_once(
        lambda: first.post(url(mine, "/numbers/add"), {"numbers": typed[0]}, HTMX),
        lambda: second.post(url(mine, "/numbers/add"), {"numbers": typed[1]}, HTMX),
    )

    assert sorted(status for status, _, _ in answers) == [200, 200]
    refused = [text for _, _, text in answers if "would pass the 20,000" in text]
    assert len(refused) == 1
    assert [row[0] for row in numbers_of(app, mine)] == list(range(MAX_ENTRIES - 2))


def test_deleting_while_saving_leaves_nothing_behind_and_answers_no_500(app, inventory, signed_in):
    mine = make_request(app, [PORTABLE, RECEIVING])
    tabs = tabs_like(signed_in(), 6, url(mine, "/numbers"))
    keep = {"receiving_number": RECEIVING, f"reroute[{RINGING[0]}]": "902", "keep": "1"}
    sends = [
        (url(mine, "/delete"), {}),
        (url(mine, "/details"), DETAILS_A),
        (url(mine, "/numbers/add"), {"numbers": "(614) 322-1003"}),
        (url(mine, "/numbers/configuration"), config(routing_id="902")),
        (url(mine, "/numbers/reroute"), keep),
        (url(mine, "/agreements"), {"agreements": list(agreements.TEXTS)}),
    ]

    answers = at_once(*[lambda t=t, s=s: t.post(*s)[0] for t, s in zip(tabs, sends, strict=True)])

    assert answers[0] == 302
    assert set(answers[1:]) <= {302, 404}
    # The draft went whole: no number, event, acceptance or re-route saved after it outlives it.
    stored = snapshot(app, mine)
    assert stored["request"] is None
    assert [stored[kind] for kind in ("numbers", "events", "acceptances", "reroutes")] == [[]] * 4


def test_agreements_accepted_twice_at_once_keep_one_row_per_statement(app, inventory, signed_in):
    mine = make_request(app, [PORTABLE])
    tabs = tabs_like(signed_in(), 3, url(mine, "/agreements"))
    every = {"agreements": list(agreements.TEXTS)}

    answers = at_once(*[lambda t=t: t.post(url(mine, "/agreements"), every)[0] for t in tabs])

    assert answers == [302] * 3
    stored = snapshot(app, mine)
    assert sorted(row["statement"] for row in stored["acceptances"]) == sorted(agreements.TEXTS)
    assert [event["kind"] for event in stored["events"]] == ["agreed"]


def test_an_api_change_and_a_page_save_at_once_both_land(app, live, inventory, signed_in):
    mine = make_request(app, [PORTABLE])
    [tab] = tabs_like(signed_in(), 1, url(mine, "/details"))
    key = issue_key(app, 4242)
    api = Tab(live, tab.opened)
    patch = json.dumps({"friendly_name": "Harbor main lines"})
    headers = bearer(key) | {"Content-Type": "application/json"}

    def change():
        api.connection.request("PATCH", f"/api/v1/port-requests/{mine}", patch, headers)
        response = api.connection.getresponse()
        response.read()
        return response.status

    answers = at_once(change, lambda: tab.post(url(mine, "/details"), DETAILS_A)[0])

    assert answers == [200, 302]
    fields = fields_of(app, mine)
    assert (fields["friendly_name"], fields["contact"]) == (
        "Harbor main lines",
        {"name": "Dana Reyes"},
    )


# Replayed forms -----------------------------------------------------------------------------

REPLAYED = [
    ("/general", {"friendly_name": "Replayed"}),
    ("/details", DETAILS_A),
    ("/numbers/add", {"numbers": "(614) 322-4001"}),
    ("/numbers/configuration", config(routing_id="902") | {"save": "1"}),
    ("/numbers/remove-refused", {}),
    ("/numbers/reroute", {"receiving_number": RECEIVING, "keep": "1"}),
    ("/agreements", {"agreements": ["authority"]}),
    ("/delete", {}),
]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(("suffix", "form"), REPLAYED)
def test_a_form_with_a_stale_token_changes_nothing_and_says_why(
    app, inventory, signed_in, suffix, form, headers
):
    mine = make_request(app, [PORTABLE, FICTION, RECEIVING])
    tab = signed_in()
    tab.get(url(mine, "/numbers"))
    stale = tab.token
    tab.post("/logout", {})
    again = signed_in()  # signed in anew: a new session, a new token
    before = snapshot(app, mine)

    status, _, text = again.post(url(mine, suffix), form | {"csrf_token": stale}, headers)

    assert status == 400
    assert EXPIRED_FORM in text
    assert ("<html" in text) is not bool(headers)
    assert snapshot(app, mine) == before


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(("suffix", "form"), REPLAYED)
def test_a_form_replayed_after_sign_out_changes_nothing(
    app, inventory, signed_in, suffix, form, headers
):
    mine = make_request(app, [PORTABLE, FICTION, RECEIVING])
    tab = signed_in()
    tab.get(url(mine, "/numbers"))
    replayed = tab.copy()  # the cookie and the token as they were before signing out
    tab.post("/logout", {})
    before = snapshot(app, mine)

    status, answer, _ = replayed.post(url(mine, suffix), form, headers)

    if headers:
        assert (status, answer["HX-Redirect"][:6]) == (204, "/login")
    else:
        assert (status, answer["Location"][:6]) == (302, "/login")
    assert snapshot(app, mine) == before


@pytest.mark.parametrize(("suffix", "form"), REPLAYED)
def test_a_form_sent_after_the_draft_was_deleted_is_the_404_of_a_missing_one(
    app, inventory, signed_in, suffix, form
):
    mine = make_request(app, [PORTABLE, FICTION, RECEIVING])
    tab = signed_in()
    [form_tab] = tabs_like(tab, 1, url(mine, "/numbers"))
    tab.get(url(mine, "/delete"))
    assert tab.post(url(mine, "/delete"), {})[0] == 302

    status, _, text = form_tab.post(url(mine, suffix), form)

    assert status == 404
    assert NOT_FOUND in text
    assert snapshot(app, mine)["request"] is None


# Found by these attacks: a stale tab's save overwrote the other tab's. A page now sends what it
# showed with what it holds, and a save stores only what that page changed.


def shown_on(page, name):
    """The hidden value a page holds under this name (what it showed), as the browser sends it."""
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page.get_data(as_text=True))
    assert found, f"no {name} on the page"
    return html.unescape(found[1])


def test_a_stale_tab_saving_the_details_keeps_what_another_tab_saved(app, owner_client, inventory):
    mine = make_request(app, [PORTABLE])
    # Both tabs open Details while it is empty: each holds what it showed.
    tab_a = {"shown": shown_on(owner_client.get(url(mine, "/details")), "shown")}
    tab_b = dict(tab_a)
    empty = {"contact.name": "", "billing.carrier": "", "requested_date_choice": "earliest"}

    owner_client.post(url(mine, "/details"), data=tab_a | empty | {"contact.name": "Dana Reyes"})
    # B still shows an empty name and saves only the carrier it typed.
    owner_client.post(url(mine, "/details"), data=tab_b | empty | {"billing.carrier": "Ohio Bell"})

    fields = fields_of(app, mine)
    assert fields["billing"] == {"carrier": "Ohio Bell"}
    assert fields["contact"] == {"name": "Dana Reyes"}
    # Without saying what it showed, a page's save stores every field (the old behaviour).
    owner_client.post(url(mine, "/details"), data=empty | {"billing.carrier": "Lumen"})
    assert fields_of(app, mine)["contact"] == {}


def test_an_inline_save_moves_what_the_page_shows_on(app, owner_client, inventory, htmx):
    mine = make_request(app, [PORTABLE])
    shown = shown_on(owner_client.get(url(mine, "/details")), "shown")
    empty = {"contact.name": "", "requested_date_choice": "earliest"}
    answer = owner_client.post(
        url(mine, "/details"), data=empty | {"shown": shown, "contact.name": "Dana"}, headers=htmx()
    )
    # The answer hands the page its new "shown" (out of band), so clearing the name later is a
    # change of this page, not a field left as it was.
    now_shown = shown_on(answer, "shown")
    assert json.loads(now_shown)["contact"] == {"name": "Dana"}
    owner_client.post(url(mine, "/details"), data=empty | {"shown": now_shown}, headers=htmx())
    assert fields_of(app, mine)["contact"] == {}


def test_a_stale_tab_saving_the_configuration_keeps_another_tabs_routing(
    app, owner_client, inventory
):
    mine = make_request(app, [PORTABLE, SECOND])
    page = owner_client.get(url(mine, "/numbers"))
    rows = {f"numbers[{i}].shown": shown_on(page, f"numbers[{i}].shown") for i in (0, 1)}
    shown = rows | config(routing_id="") | config(SECOND, 1, friendly_name="") | {"save": "1"}
    owner_client.post(url(mine, "/numbers/configuration"), data=shown | config(routing_id="902"))
    owner_client.post(
        url(mine, "/numbers/configuration"),
        data=shown | config(SECOND, 1, friendly_name="Back line"),
    )

    assert numbers_of(app, mine) == [
        (0, PORTABLE, 902, None, None),
        (1, SECOND, None, None, "Back line"),
    ]
