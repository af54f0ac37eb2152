"""The port request pages around the wizard: the list, a request's page, resuming, deleting."""

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from portal.models import (
    STATUSES,
    AgreementAcceptance,
    Document,
    PortNumber,
    PortRequest,
    ReceivingReroute,
    RequestEvent,
    RoutingTarget,
    TrackingSource,
    WarningConfirmation,
    utcnow,
)
from portal.port_requests import agreements
from portal.port_requests.blueprint import STEP_ENDPOINTS
from portal.port_requests.drafts import store_numbers
from portal.port_requests.events import record_event
from portal.port_requests.review import STEP_TITLES, review
from portal.port_requests.statuses import DESCRIPTIONS, describe
from tests.conftest import without_csrf
from tests.test_api import bearer, issue_key
from tests.test_request_api import complete

ROOT = Path(__file__).resolve().parent.parent
JANUARY = datetime(2027, 1, 12, 9, 5)


def add_inventory(app, accounts):
    """Acme's routing target 402 and tracking source 301; Globex's routing target 902."""
    acme, globex = accounts
    with app.app_context():
        RoutingTarget.create(id=402, account=acme, name="Front desk", kind="number")
        TrackingSource.create(id=301, account=acme, name="Google Ads")
        RoutingTarget.create(id=902, account=globex, name="Globex office", kind="number")
    return accounts


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


def number_row(phone, routing_id=402, tracking_source_id=301, friendly_name=""):
    return {
        "phone_number": phone,
        "routing_id": routing_id,
        "tracking_source_id": tracking_source_id,
        "friendly_name": friendly_name,
    }


def make_request(app, account, fields=None, *, numbers=(), status="draft", created_at=None):
    """Store a request with these fields and number rows; return its id."""
    with app.app_context():
        moment = created_at or JANUARY
        port_request = PortRequest.create(
            account=account,
            status=status,
            details=json.dumps(fields if fields is not None else {}),
            created_at=moment,
            updated_at=moment,
        )
        store_numbers(port_request, list(numbers))
        return port_request.id


def make_complete(app, account):
    """A request whose General, Details and Numbers steps are complete."""
    fields = complete()
    return make_request(app, account, fields, numbers=fields.pop("numbers"))


def accept_all(app, request_id, user=None):
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        agreements.accept(port_request, list(agreements.TEXTS), user=user, ip="203.0.113.9")


def add_bill(app, request_id):
    """Give the request a current bill (a scan: nothing to read, so nothing it disagrees with)."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        Document.create(
            account=port_request.account,
            port_request=port_request,
            kind="bill",
            label="bill.png",
            media_type="image/png",
            size=1,
            sha256="0" * 64,
            pages=1,
            statement_date=utcnow().date(),
            uploaded_by_name="Ann Owner",
        )


def add_signed_loa(app, request_id):
    """Give the request a signed LOA of its details as they stand (a scan, signed today)."""
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        found = review(port_request, today=utcnow().date(), lead_business_days=7)
        Document.create(
            account=port_request.account,
            port_request=port_request,
            kind="signed_loa",
            label="signed-loa.png",
            media_type="image/png",
            size=1,
            sha256="1" * 64,
            pages=1,
            signed_date=utcnow().date(),
            loa_digest=found.loa_digest,
            uploaded_by_name="Ann Owner",
        )


def html_of(response):
    return response.get_data(as_text=True)


def text_of(response):
    """The page's words, without tags or repeated spaces."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html_of(response))).split())


def step_states(html):
    """Return {step title: its state} as the step list shows them."""
    items = re.findall(
        r'<li class="steps__item steps__item--(\w+)[^"]*">.*?class="steps__title">([^<]+)<',
        html,
        re.DOTALL,
    )
    return {title: state for state, title in items}


# Statuses


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_a_label_and_one_plain_sentence(status):
    label, sentence = describe(status)
    assert label and label[0].isupper() and "_" not in label
    assert sentence.endswith(".") and sentence[0].isupper()
    # One sentence: no full stop, question or exclamation before its end.
    assert not re.search(r"[.!?]\s", sentence)


def test_the_statuses_say_what_the_domain_reference_says():
    text = (ROOT / "docs" / "domain.md").read_text()
    section = text.split("### Its statuses", 1)[1].split("\n#", 1)[0]
    table = dict(re.findall(r"^\| `(\w+)` \| (.+?) \|$", section, re.M))
    assert set(DESCRIPTIONS) == set(STATUSES)
    assert {status: describe(status).sentence for status in STATUSES} == table


def test_the_statuses_load_without_flask():
    code = "import sys, portal.port_requests.statuses; assert 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# The list


def test_an_account_without_requests_sees_what_to_have_ready(owner_client):
    response = owner_client.get("/port-requests/")
    text = text_of(response)
    assert response.status_code == 200
    assert "You haven't started a port request yet" in text
    assert "Have these ready" in text
    assert "no older than 30 days" in text
    assert (
        '<a class="button button--primary" href="/port-requests/new">Start a port request</a>'
        in (html_of(response))
    )
    assert 'href="/check/"' in html_of(response)
    assert 'href="/accounts/4242"' in html_of(response)


def test_the_list_shows_the_accounts_requests_newest_first(app, owner_client, inventory):
    acme, globex = inventory
    oldest = make_request(app, acme, {"friendly_name": "Oldest lines"}, created_at=JANUARY)
    make_request(
        app,
        acme,
        {"friendly_name": "Middle lines"},
        numbers=[number_row("(614) 322-1001"), number_row("(614) 322-1002")],
        status="action_required",
        created_at=JANUARY + timedelta(days=1),
    )
    make_request(
        app,
        acme,
        {},
        numbers=[number_row("(614) 322-1003")],
        status="completed",
        created_at=JANUARY + timedelta(days=2),
    )
    make_request(app, globex, {"friendly_name": "Globex secret lines"})
    with app.app_context():
        PortRequest.update(updated_at=datetime(2027, 2, 3, 23, 59)).where(
            PortRequest.id == oldest
        ).execute()

    response = owner_client.get("/port-requests/")
    html, text = html_of(response), text_of(response)

    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.DOTALL)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    assert cells == [
        "Port request 3 Completed The numbers are on the platform and ring where you chose. "
        "1 14 Jan 2027 14 Jan 2027",
        "Middle lines Action required Something must be corrected: fix the fields shown and "
        "resubmit. 2 13 Jan 2027 13 Jan 2027",
        "Oldest lines Draft Not sent yet: finish the steps and submit when ready. "
        "0 12 Jan 2027 3 Feb 2027",
    ]
    assert f'<a href="/port-requests/{oldest}">Oldest lines</a>' in html
    assert '<a class="button button--primary" href="/port-requests/new">' in html
    assert "Globex" not in text
    assert "You haven't started" not in text


@pytest.mark.parametrize(
    ("query", "number", "names"),
    [
        pytest.param("", 1, [f"Request {n}" for n in range(27, 2, -1)], id="first"),
        pytest.param("?page=2", 2, ["Request 2", "Request 1"], id="second"),
        pytest.param("?page=99", 2, ["Request 2", "Request 1"], id="past-the-last"),
        pytest.param("?page=x", 1, [f"Request {n}" for n in range(27, 2, -1)], id="not-a-number"),
    ],
)
def test_the_list_pages_by_25(app, owner_client, accounts, query, number, names):
    for n in range(1, 28):
        make_request(
            app, accounts[0], {"friendly_name": f"Request {n}"}, created_at=JANUARY + timedelta(n)
        )

    html = html_of(owner_client.get(f"/port-requests/{query}"))

    assert re.findall(r'<a href="/port-requests/\d+">([^<]+)</a>', html) == names
    assert f"<span>Page {number} of 2</span>" in html
    assert "27 requests, newest first." in html
    assert ('href="/port-requests/?page=2" rel="next"' in html) == (number == 1)
    assert ('href="/port-requests/?page=1" rel="prev"' in html) == (number == 2)


def test_the_list_pager_asks_htmx_for_the_list_alone(app, owner_client, accounts, htmx):
    for n in range(30):
        make_request(app, accounts[0], {"friendly_name": f"Request {n}"})

    response = owner_client.get("/port-requests/?page=2", headers=htmx("port-request-list"))
    html = html_of(response)

    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="port-request-list"')
    assert "<html" not in html
    assert "Page 2 of 2" in html
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_takes_as_many_queries_for_25_requests_as_for_one(
    app, owner_client, accounts, statements
):
    def listing():
        statements.clear()
        response = owner_client.get("/port-requests/")
        assert response.status_code == 200
        return len(statements), html_of(response).count('<td data-label="Numbers"')

    make_request(app, accounts[0], {"friendly_name": "One"}, numbers=[number_row("6143221001")])
    one = listing()
    for n in range(30):
        phones = [number_row(f"614322{2000 + n * 3 + i}") for i in range(n % 3)]
        make_request(app, accounts[0], {"friendly_name": f"More {n}"}, numbers=phones)
    many = listing()

    assert one[1] == 1 and many[1] == 25
    assert one[0] == many[0] > 0


# A request's page


def test_a_request_page_shows_its_status_steps_numbers_and_timeline(
    app, owner_client, owner, inventory
):
    acme = inventory[0]
    fields = complete()
    request_id = make_request(
        app,
        acme,
        fields,
        numbers=[
            number_row("(614) 322-1001", friendly_name="Front line"),
            number_row("(312) 555-0150"),
            number_row("(614) 322-1002", routing_id=902, tracking_source_id=None),
        ],
    )
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        record_event(port_request, "created", "Started the draft.", user=owner)
        record_event(port_request, "changed", "Changed the numbers.", actor="API key 'CRM sync'")
        RequestEvent.update(at=JANUARY).where(RequestEvent.kind == "created").execute()
        RequestEvent.update(at=JANUARY + timedelta(hours=30)).where(
            RequestEvent.kind == "changed"
        ).execute()

    response = owner_client.get(f"/port-requests/{request_id}")
    html, text = html_of(response), text_of(response)

    assert response.status_code == 200
    assert "<h1>Harbor Clinic main lines</h1>" in html
    assert "Status: Draft Not sent yet: finish the steps and submit when ready." in text
    # Numbers: 402 is Acme's, 902 is another account's and named as not this account's.
    assert "Numbers 3 " in text
    assert "(614) 322-1001 Portable Front desk (402) Google Ads (301) Front line" in text
    assert "(312) 555-0150 Not a valid number" in text
    assert "902: not a routing target of this account Not chosen yet" in text
    assert "Globex office" not in text
    # The timeline: who, what, when (UTC).
    assert "12 Jan 2027, 09:05 UTC Ann Owner : Started the draft." in text
    assert "13 Jan 2027, 15:05 UTC API key 'CRM sync' : Changed the numbers." in text
    assert '<time datetime="2027-01-12T09:05:00Z">' in html
    assert f'href="/port-requests/{request_id}/delete">Delete this draft</a>' in html


def test_a_request_page_marks_each_step_and_continues_at_the_first_incomplete(
    app, owner_client, inventory
):
    request_id = make_request(app, inventory[0], {"friendly_name": "Named only"})

    html = html_of(owner_client.get(f"/port-requests/{request_id}"))

    assert step_states(html) == {
        "General": "complete",
        "Details": "incomplete",
        "Numbers and configuration": "incomplete",
        "Agreements": "incomplete",
        "Proof of ownership": "incomplete",
        "Letter of Authorization": "incomplete",
        "Submit": "incomplete",
    }
    assert f'<a class="button button--primary" href="/port-requests/{request_id}/details">' in html
    assert "Continue: Details" in html
    # Every step is open: each links to its page, whatever is left before it.
    assert list(STEP_ENDPOINTS) == list(STEP_TITLES)
    for step in STEP_TITLES:
        assert f'<a href="/port-requests/{request_id}/{step}">' in html


def test_a_request_with_steps_1_to_5_complete_continues_at_the_loa(app, owner_client, inventory):
    request_id = make_complete(app, inventory[0])
    accept_all(app, request_id)
    add_bill(app, request_id)
    key = issue_key(app, inventory[0])

    response = owner_client.get(f"/port-requests/{request_id}")
    html, text = html_of(response), text_of(response)
    body = app.test_client().get(f"/api/v1/port-requests/{request_id}", headers=bearer(key))

    assert list(step_states(html).values()) == ["complete"] * 5 + ["incomplete"] * 2
    assert (
        f'<a class="button button--primary" href="/port-requests/{request_id}/loa">'
        "Continue: Letter of Authorization</a>" in html
    )
    assert "opens in a coming release" not in text
    # What is left to do is the signed LOA, and then the submit itself.
    problems = body.get_json()["problems"]
    assert [(p["field"], p["code"]) for p in problems if p["severity"] == "error"] == [
        ("loa", "loa_required")
    ]


def test_a_submitted_request_shows_its_sentence_and_offers_no_change(app, owner_client, inventory):
    request_id = make_complete(app, inventory[0])
    with app.app_context():
        PortRequest.update(status="in_review").where(PortRequest.id == request_id).execute()

    text = text_of(owner_client.get(f"/port-requests/{request_id}"))

    assert (
        "Status: In review With the losing carrier; staff will tell you the date or what to "
        "correct." in text
    )
    assert "Continue" not in text
    assert "Delete this draft" not in text


def test_a_long_request_pages_its_numbers_by_100(app, owner_client, inventory, htmx):
    phones = [number_row(f"(614) 322-{1000 + n}") for n in range(150)]
    request_id = make_request(app, inventory[0], {"friendly_name": "Many"}, numbers=phones)

    first = html_of(owner_client.get(f"/port-requests/{request_id}"))
    second = owner_client.get(f"/port-requests/{request_id}?page=2", headers=htmx("x"))

    assert first.count('<td data-label="Number">') == 100
    assert "(614) 322-1000" in first and "(614) 322-1100" not in first
    assert f'href="/port-requests/{request_id}?page=2" rel="next"' in first
    fragment = html_of(second)
    assert fragment.lstrip().startswith('<section class="card" id="request-numbers"')
    assert fragment.count('<td data-label="Number">') == 50
    assert "(614) 322-1100" in fragment and "(614) 322-1149" in fragment


def test_a_request_page_takes_as_many_queries_for_many_numbers_as_for_one(
    app, owner_client, inventory, statements
):
    acme = inventory[0]
    with app.app_context():
        for n in range(20):
            RoutingTarget.create(id=500 + n, account=acme, name=f"Desk {n}", kind="number")
            TrackingSource.create(id=600 + n, account=acme, name=f"Source {n}")
    one = make_request(app, acme, {}, numbers=[number_row("(614) 322-1000")])
    rows = [number_row(f"(614) 322-{1000 + n}", 500 + n % 20, 600 + n % 20) for n in range(90)]
    many = make_request(app, acme, {}, numbers=rows)

    def page(request_id):
        statements.clear()
        html = html_of(owner_client.get(f"/port-requests/{request_id}"))
        return len(statements), html

    (small, _), (large, html) = page(one), page(many)

    assert "Desk 19 (519)" in html and "Source 7 (607)" in html
    assert small == large > 0


# Resume


@pytest.mark.parametrize(
    ("build", "step"),
    [
        pytest.param(lambda: ({}, []), "general", id="nothing-yet"),
        pytest.param(lambda: ({"friendly_name": "Named"}, []), "details", id="named"),
        pytest.param(
            lambda: ({**complete(), "numbers": None}, []), "numbers", id="details-complete"
        ),
        pytest.param(
            lambda: ({**complete(), "numbers": None}, complete()["numbers"]),
            "agreements",
            id="numbers-complete",
        ),
    ],
)
def test_resume_goes_to_the_first_incomplete_step(app, owner_client, inventory, build, step):
    fields, numbers = build()
    fields.pop("numbers", None)
    request_id = make_request(app, inventory[0], fields, numbers=numbers)

    response = owner_client.get(f"/port-requests/{request_id}/resume")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{request_id}/{step}"


def test_resume_of_a_request_with_steps_1_to_5_complete_is_the_loa_then_submit(
    app, owner_client, inventory
):
    request_id = make_complete(app, inventory[0])
    accept_all(app, request_id)
    add_bill(app, request_id)

    first = owner_client.get(f"/port-requests/{request_id}/resume")
    add_signed_loa(app, request_id)
    then = owner_client.get(f"/port-requests/{request_id}/resume")

    assert first.headers["Location"] == f"/port-requests/{request_id}/loa"
    assert then.headers["Location"] == f"/port-requests/{request_id}/submit"


def test_resume_of_a_submitted_request_is_its_page(app, owner_client, inventory):
    request_id = make_request(app, inventory[0], {}, status="submitted")

    response = owner_client.get(f"/port-requests/{request_id}/resume")

    assert response.headers["Location"] == f"/port-requests/{request_id}"


# Deleting a draft


def rows_of(app, request_id):
    """How many rows of each table still belong to the request."""
    with app.app_context():
        return {
            model.__name__: model.select().where(model.port_request == request_id).count()
            for model in (PortNumber, RequestEvent, AgreementAcceptance, ReceivingReroute)
        } | {"PortRequest": PortRequest.select().where(PortRequest.id == request_id).count()}


@pytest.fixture
def full_draft(app, owner, inventory):
    """A complete draft with events, every acceptance and a re-route; and another draft."""
    request_id = make_complete(app, inventory[0])
    accept_all(app, request_id, user=owner)
    with app.app_context():
        port_request = PortRequest.get_by_id(request_id)
        record_event(port_request, "created", "Started the draft.", user=owner)
        ReceivingReroute.create(
            port_request=port_request,
            receiving_number="+16143221009",
            tracking_number="+13125550201",
            routing_id=402,
        )
    other = make_request(app, inventory[0], {"friendly_name": "Keep me"}, numbers=[number_row("1")])
    return request_id, other


def test_deleting_asks_first_without_javascript(app, owner_client, full_draft):
    request_id, _ = full_draft

    response = owner_client.get(f"/port-requests/{request_id}/delete")
    html, text = html_of(response), text_of(response)

    assert response.status_code == 200
    assert "Delete this draft?" in text
    assert "Harbor Clinic main lines" in text
    assert "with its 2 numbers" in text
    assert f'<form method="post" action="/port-requests/{request_id}/delete"' in html
    assert f'href="/port-requests/{request_id}">Keep it</a>' in html
    assert rows_of(app, request_id)["PortRequest"] == 1


def test_deleting_a_draft_takes_everything_of_it_and_names_it(app, owner_client, full_draft):
    request_id, other = full_draft
    assert all(rows_of(app, request_id).values())

    response = owner_client.post(f"/port-requests/{request_id}/delete")

    assert response.status_code == 302
    assert response.headers["Location"] == "/port-requests/"
    assert rows_of(app, request_id) == dict.fromkeys(
        ["PortNumber", "RequestEvent", "AgreementAcceptance", "ReceivingReroute", "PortRequest"], 0
    )
    assert rows_of(app, other)["PortNumber"] == 1
    listing = text_of(owner_client.get("/port-requests/"))
    assert 'Deleted the draft "Harbor Clinic main lines".' in listing
    assert "Keep me" in listing
    # The form sent again finds nothing to delete.
    assert owner_client.post(f"/port-requests/{request_id}/delete").status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_request_that_left_draft_cannot_be_deleted(app, owner_client, inventory, method):
    request_id = make_request(
        app, inventory[0], {"friendly_name": "Sent"}, numbers=[number_row("6143221001")],
        status="submitted",
    )  # fmt: skip

    response = getattr(owner_client, method)(f"/port-requests/{request_id}/delete")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{request_id}"
    assert rows_of(app, request_id)["PortRequest"] == rows_of(app, request_id)["PortNumber"] == 1
    page = text_of(owner_client.get(response.headers["Location"]))
    assert "This request is submitted: it can no longer be changed." in page


# Only the owner's own requests


ROUTES = [
    ("get", ""),
    ("get", "/resume"),
    ("get", "/delete"),
    ("post", "/delete"),
    ("get", "/agreements"),
    ("post", "/agreements"),
]


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    app, owner_client, inventory, method, suffix
):
    theirs = make_request(app, inventory[1], {"friendly_name": "Globex lines"})
    data = {"agreements": list(agreements.TEXTS)} if method == "post" else None
    owner_client.get("/settings/")  # shows the sign-in message, which would tell the two apart

    def answer(request_id):
        response = getattr(owner_client, method)(f"/port-requests/{request_id}{suffix}", data=data)
        return response.status_code, without_csrf(text_of(response))

    foreign, missing = answer(theirs), answer(theirs + 1000)

    assert foreign[0] == 404
    assert foreign == missing
    assert "Globex" not in foreign[1]
    assert rows_of(app, theirs)["PortRequest"] == 1
    assert rows_of(app, theirs)["AgreementAcceptance"] == 0


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
@pytest.mark.parametrize("request_id", [2**31, 2**63, 10**30])
def test_ids_beyond_the_columns_range_are_404(owner_client, method, suffix, request_id):
    response = getattr(owner_client, method)(f"/port-requests/{request_id}{suffix}")
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_staff_do_not_use_the_owners_pages(app, staff_client, inventory, method, suffix):
    request_id = make_request(app, inventory[0], {"friendly_name": "Acme lines"})
    response = getattr(staff_client, method)(f"/port-requests/{request_id}{suffix}")
    assert response.status_code == 403
    assert rows_of(app, request_id)["PortRequest"] == 1


def test_warnings_are_listed_and_confirmed_on_the_request_page(app, owner_client, inventory):
    request_id = make_complete(app, inventory[0])
    add_bill(app, request_id)  # a scan: its details could not be compared, a warning to check
    response = owner_client.get(f"/port-requests/{request_id}")
    assert "To check (1)" in text_of(response)
    html = response.get_data(as_text=True)
    form = dict(re.findall(r'name="(field|code|message|back)" value="([^"]*)"', html))
    form = {name: unescape(value) for name, value in form.items()}
    assert form["back"] == "request" and form["field"] == "bill"

    answer = owner_client.post(f"/port-requests/{request_id}/warnings/confirm", data=form)

    assert answer.headers["Location"] == f"/port-requests/{request_id}#to-check"
    page = text_of(owner_client.get(answer.headers["Location"]))
    assert "Confirmed: you checked" in page
    assert "To check" not in page
    with app.app_context():
        (confirmation,) = WarningConfirmation.select()
        assert (confirmation.field, confirmation.code) == ("bill", form["code"])
        assert RequestEvent.select().where(RequestEvent.kind == "confirmed").count() == 1
