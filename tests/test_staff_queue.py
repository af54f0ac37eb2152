"""Carrier Relations' queue: submitted requests and fax tickets in one list, what each row says,
the filters (status, account, FOC range), the search by number or name, the sort, the pages, the
htmx fragment, the CSV export, staff-only access, and a page's statements not growing with the
queue."""

import csv
import io
import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from playwright.sync_api import expect

from portal.models import Account, FaxTicket, PortNumber, PortRequest, User, utcnow
from portal.port_requests import operations
from portal.staff.queue_details import waited
from portal.staff.queue_rows import read_search
from tests import test_browser
from tests.conftest import ON_POSTGRES, STAFF_EMAIL
from tests.test_submit import make_submittable, today

NOW = utcnow()
browser, live_server, phone = test_browser.browser, test_browser.live_server, test_browser.phone


def add_request(account_id, name, status="submitted", *, numbers=("+16143221001",), **columns):
    """Store a request as the moves leave it (its columns, its numbers); return its id."""
    details = {"friendly_name": name, "requested_date": columns.pop("requested", None)}
    values = {
        "status_changed_at": NOW - timedelta(hours=1),
        "submitted_at": NOW - timedelta(days=1),
        **columns,
    }
    port_request = PortRequest.create(
        account=account_id, status=status, details=json.dumps(details), **values
    )
    PortNumber.insert_many(
        [
            {"port_request": port_request, "position": n, "phone_number": e164, "e164": e164}
            for n, e164 in enumerate(numbers)
        ]
    ).execute()
    return port_request.id


def add_ticket(account_id, title, numbers=("+16143229001",), **columns):
    return FaxTicket.create(
        account=account_id, title=title, numbers=json.dumps(list(numbers)), **columns
    ).id


def submitted(app, owner, numbers):
    """Submit a real request through the owner's own functions; return its id."""
    request_id = make_submittable(app, 4242, numbers=numbers, created_by=owner.id)
    with app.app_context():
        account = Account.get_by_id(4242)
        user = User.get_by_id(owner.id)
        operations.submit(
            account, request_id, user=user, ip="", today=today(), lead_business_days=7
        )
    return request_id


def words(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def rows_of(response):
    """Return each row of the queue's table as the words of its cells."""
    html = response.get_data(as_text=True)
    if "<tbody>" not in html:
        return []
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [words(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def names(response):
    """Return the first words of each row's name cell ("Harbor 1 request 3" -> "Harbor 1")."""
    return [re.sub(r" (request|fax ticket) \d+$", "", row[0]) for row in rows_of(response)]


def problems_of(response):
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="form-problems" role="alert">(.*?)</div>', html, re.S)
    return words(match.group(1)) if match else ""


@pytest.fixture
def queue(app, accounts):
    """Open and closed requests of two accounts, a draft, and a fax ticket."""
    with app.app_context():
        ids = {
            "harbor": add_request(
                4242,
                "Harbor main lines",
                numbers=("+16143221001", "+16143221002"),
                status_changed_at=NOW - timedelta(days=3, hours=2),
                requested="2027-01-12",
            ),
            "review": add_request(
                4242,
                "Clinic fax-free lines",
                "in_review",
                status_changed_at=NOW - timedelta(hours=5),
            ),
            "fix": add_request(5151, "Globex office", "action_required"),
            "foc": add_request(
                5151,
                "Globex yard",
                "foc_scheduled",
                numbers=("+13122630150", "+13122630151", "+13122630152"),
                foc_date=date(2027, 2, 3),
                foc_window="9:00-12:00 ET",
                status_changed_at=NOW - timedelta(days=1),
            ),
            "done": add_request(4242, "Old Harbor port", "completed"),
            "no": add_request(5151, "Refused port", "rejected"),
            "draft": add_request(4242, "Draft not sent", "draft"),
            "fax": add_ticket(
                4242, "Fax Porting Documentation - 4242", updated_at=NOW - timedelta(days=2)
            ),
        }
    return ids


# What a row says -------------------------------------------------------------------------------


def test_a_submitted_request_and_a_fax_ticket_show_what_staff_work_from(
    app, owner, staff_client, accounts
):
    request_id = submitted(app, owner, ["(614) 322-1001", "(614) 322-1002"])
    with app.app_context():
        ticket_id = add_ticket(4242, "Fax Porting Documentation - 4242", ["+16143229001"] * 1)
        add_request(4242, "Still a draft", "draft")
        sent = PortRequest.get_by_id(request_id).submitted_at

    response = staff_client.get("/queue/")

    assert response.status_code == 200
    day = f"{sent.day} {sent:%b %Y}"
    assert sorted(rows_of(response)) == sorted(
        [
            [
                f"Harbor Clinic main lines request {request_id}",
                "Acme Dental 4242",
                "Submitted",
                "2",
                day,
                "earliest available",
                "not set",
                "under a minute",
            ],
            [
                f"Fax Porting Documentation - 4242 fax ticket {ticket_id}",
                "Acme Dental 4242",
                "Submitted",
                "1",
                day,
                "by ticket",
                "not set",
                "under a minute",
            ],
        ]
    )
    html = response.get_data(as_text=True)
    assert f'<a href="/staff/requests/{request_id}">Harbor Clinic main lines</a>' in html
    assert f'<a href="/fax-ports/{ticket_id}">Fax Porting Documentation - 4242</a>' in html
    assert "Still a draft" not in html
    assert 'href="/queue/" aria-current="page">Queue' in html


def test_a_row_gives_the_dates_the_window_and_the_time_in_status(app, staff_client, queue):
    rows = {row[0]: row for row in rows_of(staff_client.get("/queue/"))}

    assert rows[f"Globex yard request {queue['foc']}"] == [
        f"Globex yard request {queue['foc']}",
        "Globex Plumbing 5151",
        "Date confirmed",
        "3",
        words(f"{(NOW - timedelta(days=1)).day} {NOW - timedelta(days=1):%b %Y}"),
        "earliest available",
        "3 Feb 2027 9:00-12:00 ET",
        "1 day",
    ]
    assert rows[f"Harbor main lines request {queue['harbor']}"][5:] == [
        "12 Jan 2027",
        "not set",
        "3 days",
    ]
    assert rows[f"Clinic fax-free lines request {queue['review']}"][-1] == "5 hours"


def test_a_request_without_a_name_is_called_by_its_number(app, staff_client, accounts):
    with app.app_context():
        request_id = add_request(4242, "  ")

    assert names(staff_client.get("/queue/")) == [f"Port request {request_id}"]


@pytest.mark.parametrize(
    ("ago", "said"),
    [
        (timedelta(seconds=59), "under a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=59, seconds=59), "59 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=23, minutes=59), "23 hours"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=40, hours=5), "40 days"),
        (timedelta(seconds=-30), "under a minute"),  # a clock a little ahead
    ],
)
def test_the_time_in_status_is_said_in_its_largest_whole_unit(ago, said):
    assert waited(NOW - ago, NOW) == said


# Who may see it --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/queue/", "/queue/?status=completed&q=harbor", "/queue/queue.csv"]
)
def test_an_owner_gets_404_on_every_queue_url(owner_client, queue, url):
    response = owner_client.get(url)

    assert response.status_code == 404
    assert "Harbor" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/queue/", "/queue/queue.csv"])
def test_a_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/queue/")


# Filters -----------------------------------------------------------------------------------------


FAX = "Fax Porting Documentation - 4242"


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        pytest.param(
            "",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="open-by-default",
        ),
        pytest.param("status=completed", {"Old Harbor port"}, id="one"),
        pytest.param(
            "status=rejected&status=in_review", {"Refused port", "Clinic fax-free lines"}, id="two"
        ),
        pytest.param("status=submitted", {"Harbor main lines", FAX}, id="tickets-are-submitted"),
        pytest.param("status=cancelled&status=completed", {"Old Harbor port"}, id="none-cancelled"),
        pytest.param("account=5151", {"Globex office", "Globex yard"}, id="account"),
        pytest.param(
            "account=4242&status=completed&status=submitted",
            {"Old Harbor port", "Harbor main lines", FAX},
            id="account-and-statuses",
        ),
        pytest.param("foc_from=2027-02-03", {"Globex yard"}, id="foc-from-inclusive"),
        pytest.param("foc_to=2027-02-03", {"Globex yard"}, id="foc-to-inclusive"),
        pytest.param("foc_from=2027-02-04", set(), id="foc-after"),
        pytest.param("foc_to=2027-02-02", set(), id="foc-before"),
        pytest.param("foc_from=2027-01-01&foc_to=2027-12-31", {"Globex yard"}, id="foc-range"),
    ],
)
def test_the_filters_narrow_the_queue(staff_client, queue, query, shown):
    response = staff_client.get(f"/queue/?{query}")

    assert response.status_code == 200
    assert set(names(response)) == shown
    assert problems_of(response) == ""


def test_the_boxes_stay_as_ticked_and_the_counts_say_what_applies(staff_client, queue):
    default = staff_client.get("/queue/").get_data(as_text=True)
    chosen = staff_client.get("/queue/?status=rejected&status=completed").get_data(as_text=True)

    ticked = re.compile(
        r'<input checked id="status-\d" name="status" type="checkbox" value="(\w+)">'
    )
    applied = re.compile(r'filter" href="[^"]+" aria-current="true">([A-Z][a-z ]+) <span')
    assert ticked.findall(default) == []
    assert applied.findall(default) == [
        "Submitted",
        "In review",
        "Action required",
        "Date confirmed",
    ]
    assert ticked.findall(chosen) == ["completed", "rejected"]
    assert applied.findall(chosen) == ["Completed", "Rejected"]


@pytest.mark.parametrize(
    ("query", "problem", "shown"),
    [
        pytest.param(
            "status=bogus&status=completed",
            "There is no status “bogus”: tick the statuses listed.",
            {"Old Harbor port"},
            id="unknown-status",
        ),
        pytest.param(
            "status=bogus",
            "There is no status “bogus”: tick the statuses listed.",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="only-unknown-status",
        ),
        pytest.param(
            "status=draft",
            "There is no status “draft”: tick the statuses listed.",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="never-drafts",
        ),
        pytest.param(
            "account=acme",
            "“acme” is not an account ID: enter its digits, like 4242.",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="account-not-digits",
        ),
        pytest.param(
            "account=99999999999999999999",
            "“99999999999999999999” is not an account ID: enter its digits, like 4242.",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="account-past-the-column",
        ),
        pytest.param(
            "account=777", "There is no account 777, so nothing matches it.", set(), id="no-account"
        ),
        pytest.param(
            "foc_from=2027-02-31",
            "“2027-02-31” is not a date: pick one, or write it as year-month-day (2027-01-31).",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="not-a-date",
        ),
        pytest.param(
            "foc_from=2027-02-01&foc_to=2027-01-01",
            "The FOC range ends on 1 Jan 2027, before it starts on 1 Feb 2027: so the end date "
            "was left out. Pick an end on or after the start.",
            {"Globex yard"},
            id="reversed-range",
        ),
        pytest.param(
            "status=draft&q=Draft",
            "There is no status “draft”: tick the statuses listed.",
            set(),
            id="never-drafts-even-searched",
        ),
        pytest.param(
            "q=" + "x" * 201,
            "Search for at most 200 characters: a number or part of a name.",
            {"Harbor main lines", "Clinic fax-free lines", "Globex office", "Globex yard", FAX},
            id="search-too-long",
        ),
    ],
)
def test_a_filter_it_cannot_read_is_left_out_and_said_why(
    staff_client, queue, query, problem, shown
):
    response = staff_client.get(f"/queue/?{query}")

    assert response.status_code == 200
    assert problems_of(response) == f"Some of the filters could not be used: {problem}"
    assert set(names(response)) == shown


def test_the_counts_by_status_follow_the_other_filters(app, staff_client, queue, statements):
    statements.clear()
    everyone = staff_client.get("/queue/")
    globex = staff_client.get("/queue/?account=5151&status=rejected")

    def counts(response):
        nav = response.get_data(as_text=True).split('aria-label="Requests and tickets by status"')
        return re.findall(r"([A-Z][a-z ]+) <span class=\"count\">(\d+)</span>", nav[1])

    assert counts(everyone) == [
        ("Submitted", "2"),
        ("In review", "1"),
        ("Action required", "1"),
        ("Date confirmed", "1"),
        ("Completed", "1"),
        ("Rejected", "1"),
        ("Cancelled", "0"),
    ]
    assert counts(globex) == [
        ("Submitted", "0"),
        ("In review", "0"),
        ("Action required", "1"),
        ("Date confirmed", "1"),
        ("Completed", "0"),
        ("Rejected", "1"),
        ("Cancelled", "0"),
    ]
    grouped = [sql for sql in statements if "GROUP BY status" in sql]
    assert len(grouped) == 2  # one per page
    assert "Globex Plumbing (5151): 1 request or ticket matches." in words(
        globex.get_data(as_text=True)
    )


def test_a_status_count_links_to_that_status_keeping_the_other_filters(staff_client, queue):
    html = staff_client.get("/queue/?account=5151&q=globex").get_data(as_text=True)

    assert (
        '<a class="button button--quiet filter" href="/queue/?q=globex&amp;status=rejected&amp;'
        'account=5151" aria-current="true">Rejected <span class="count">1</span></a>'
    ) in html
    assert (
        'href="/queue/?q=globex&amp;status=submitted&amp;status=in_review&amp;'
        'status=action_required&amp;status=foc_scheduled&amp;account=5151">Open ones</a>'
    ) in html


# Search ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("(614) 322-1002", {"Harbor main lines"}),
        ("614.322.1002", {"Harbor main lines"}),
        ("+1 614 322 1002", {"Harbor main lines"}),
        ("16143221002", {"Harbor main lines"}),
        ("312-263-0151", {"Globex yard"}),
        ("(614) 322-9001", {FAX}),  # a fax ticket's number
        ("(212) 736-5000", set()),
        ("harbor", {"Harbor main lines", "Old Harbor port"}),  # in every status
        ("GLOBEX", {"Globex office", "Globex yard", "Refused port"}),  # the account, any case
        ("fax porting", {FAX}),
        ("Acme dental", {"Harbor main lines", "Clinic fax-free lines", FAX, "Old Harbor port"}),
        ("100%", set()),  # a wildcard is only a character
        ("lines_", set()),
    ],
)
def test_the_search_finds_a_number_in_any_format_or_a_name(staff_client, queue, typed, shown):
    response = staff_client.get("/queue/", query_string={"q": typed})

    assert set(names(response)) == shown


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("café", ["Café Zoë lines"]),
        ("CAFÉ ZOË", ["Café Zoë lines"]),  # PostgreSQL folds the accents' case too
        ('"annex"', ['The "Annex" lines']),  # written \\" in the JSON text
        ("back\\slash", ["A back\\slash line"]),
        ("u00e9", []),  # the JSON's escape of é is not in the name
        ("friendly_name", []),  # nor is the JSON's key
    ],
)
def test_a_name_is_searched_as_the_owner_wrote_it_not_as_json_stores_it(
    app, staff_client, accounts, typed, shown
):
    with app.app_context():
        for name in ("Café Zoë lines", 'The "Annex" lines', "A back\\slash line"):
            add_request(4242, name)

    found = names(staff_client.get("/queue/", query_string={"q": typed}))

    if typed == "CAFÉ ZOË" and not ON_POSTGRES:
        shown = []  # SQLite's LIKE folds the case of ASCII letters only
    assert found == shown


def test_a_search_looks_in_every_status_unless_some_are_ticked(app, staff_client, queue):
    with app.app_context():
        PortNumber.create(port_request=queue["done"], position=1, e164="+16143227777")

    found = staff_client.get("/queue/", query_string={"q": "614 322 7777"})
    ticked = staff_client.get("/queue/", query_string={"q": "614 322 7777", "status": "in_review"})

    assert names(found) == ["Old Harbor port"]
    assert names(ticked) == []
    # Each count says where a search found something, and links there.
    html = ticked.get_data(as_text=True)
    assert '"/queue/?q=614+322+7777&amp;status=completed">Completed <span class="count">1' in html


def test_a_number_of_a_draft_is_not_found(app, staff_client, queue):
    with app.app_context():
        PortNumber.create(port_request=queue["draft"], position=1, e164="+16143227788")

    response = staff_client.get("/queue/", query_string={"q": "614-322-7788"})

    assert names(response) == []
    assert "Nothing in the queue matches these filters." in words(response.get_data(as_text=True))


def test_part_of_a_number_says_it_was_looked_for_in_the_names(staff_client, queue):
    response = staff_client.get("/queue/", query_string={"q": "322-1001"})

    assert names(response) == []
    assert (
        "“322-1001” is not a whole phone number (missing the area code: a US number has 10 "
        "digits), so it was looked for in the names instead."
    ) in words(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("typed", "e164", "name"),
    [
        ("", None, None),
        ("1-800-FLOWERS", "+18003569377", None),
        ("+44 20 7946 0958", "+442079460958", None),
        ("Harbor", None, "Harbor"),
        ("4242", None, "4242"),
        ("Suite 2024 lines", None, "Suite 2024 lines"),
    ],
)
def test_the_search_box_is_read_as_a_number_or_as_text(typed, e164, name):
    found = read_search(typed)

    assert (found.e164, found.name, found.note) == (e164, name, None)


# Sorting and pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "order"),
    [
        pytest.param(
            "",
            [
                "Harbor main lines",
                FAX,
                "Globex yard",
                "Clinic fax-free lines",
                "Globex office",
            ],
            id="longest-in-status-first",
        ),
        pytest.param(
            "dir=asc",
            ["Globex office", "Clinic fax-free lines", "Globex yard", FAX, "Harbor main lines"],
            id="shortest-in-status-first",
        ),
        pytest.param(
            "sort=name",
            ["Clinic fax-free lines", FAX, "Globex office", "Globex yard", "Harbor main lines"],
            id="name",
        ),
        pytest.param(
            "sort=name&dir=desc",
            ["Harbor main lines", "Globex yard", "Globex office", FAX, "Clinic fax-free lines"],
            id="name-descending",
        ),
        pytest.param(
            "sort=status",
            ["Harbor main lines", FAX, "Clinic fax-free lines", "Globex office", "Globex yard"],
            id="status-in-its-order-then-longest-waiting",
        ),
        pytest.param(
            "sort=numbers&dir=desc",
            ["Globex yard", "Harbor main lines", FAX, "Clinic fax-free lines", "Globex office"],
            id="numbers",
        ),
        pytest.param(
            "sort=foc",
            ["Globex yard", "Harbor main lines", FAX, "Clinic fax-free lines", "Globex office"],
            id="foc-unset-last",
        ),
        pytest.param(
            "sort=foc&dir=desc",
            ["Globex yard", "Harbor main lines", FAX, "Clinic fax-free lines", "Globex office"],
            id="foc-unset-last-descending",
        ),
        pytest.param(
            "sort=requested",
            ["Harbor main lines", FAX, "Globex yard", "Clinic fax-free lines", "Globex office"],
            id="requested-earliest-last",
        ),
        pytest.param(
            "sort=account&dir=desc",
            ["Globex yard", "Globex office", "Harbor main lines", FAX, "Clinic fax-free lines"],
            id="account",
        ),
        pytest.param(
            "sort=bogus&dir=sideways",
            [
                "Harbor main lines",
                FAX,
                "Globex yard",
                "Clinic fax-free lines",
                "Globex office",
            ],
            id="unknown-sort-is-the-default",
        ),
    ],
)
def test_each_column_sorts_the_queue(staff_client, queue, query, order):
    assert names(staff_client.get(f"/queue/?{query}")) == order


def test_the_sorted_column_says_so_and_its_link_turns_the_order_round(staff_client, queue):
    html = staff_client.get("/queue/?sort=name&q=globex").get_data(as_text=True)

    heads = dict(re.findall(r'<th scope="col"[^>]*>\s*<a href="([^"]+)"[^>]*>(\w[\w ]*)', html))
    assert {label: unescape(href) for href, label in heads.items()} == {
        "Request": "/queue/?q=globex&sort=name&dir=desc",
        "Account": "/queue/?q=globex&sort=account",
        "Status": "/queue/?q=globex&sort=status",
        "Numbers": "/queue/?q=globex&sort=numbers",
        "Submitted": "/queue/?q=globex&sort=submitted",
        "Requested date": "/queue/?q=globex&sort=requested",
        "FOC date": "/queue/?q=globex&sort=foc",
        "In status": "/queue/?q=globex",
    }
    assert re.findall(r'<th scope="col"( class="num")? aria-sort="(\w+)"', html) == [
        ("", "ascending")
    ]
    # The form's boxes say the same, so a filter changed next keeps the sort.
    assert '<option selected value="name">Request</option>' in html
    assert '<option selected value="asc">Ascending</option>' in html


@pytest.mark.parametrize(
    ("trigger", "sort_sent"),
    [(None, True), ("queue-filters", False)],
    ids=["a-header-or-page-link", "the-form"],
)
def test_htmx_sends_the_sort_boxes_along_unless_the_form_asked(
    staff_client, queue, htmx, trigger, sort_sent
):
    headers = {**htmx("queue-results"), **({"HX-Trigger": trigger} if trigger else {})}
    html = staff_client.get("/queue/?sort=numbers", headers=headers).get_data(as_text=True)

    sent = '<div id="queue-sort" class="queue-filters__row" hx-swap-oob="true">'
    assert (sent in html) is sort_sent
    if sort_sent:
        assert '<option selected value="numbers">Numbers</option>' in html


def test_the_queue_is_paged_by_50_and_the_pages_keep_the_filters(app, staff_client, accounts):
    with app.app_context():
        for n in range(60):
            add_request(5151, f"Globex {n:02d}", status_changed_at=NOW - timedelta(minutes=100 - n))
        add_request(4242, "Acme one")

    first = staff_client.get("/queue/?account=5151")
    second = staff_client.get("/queue/?account=5151&page=2")
    past = staff_client.get("/queue/?account=5151&page=9")

    assert names(first) == [f"Globex {n:02d}" for n in range(50)]
    assert names(second) == [f"Globex {n:02d}" for n in range(50, 60)]
    assert names(past) == names(second)
    html = first.get_data(as_text=True)
    assert "<span>Page 1 of 2</span>" in html
    assert 'href="/queue/?page=2&amp;account=5151" rel="next"' in html
    assert "60 requests and tickets match, page 1 of 2." in words(html)
    assert names(staff_client.get("/queue/?account=5151&page=x")) == names(first)


# One URL, two representations ----------------------------------------------------------------


def test_htmx_gets_the_results_alone_and_the_page_its_form(staff_client, queue, htmx):
    page = staff_client.get("/queue/?status=completed")
    fragment = staff_client.get("/queue/?status=completed", headers=htmx("queue-results"))

    html, part = page.get_data(as_text=True), fragment.get_data(as_text=True)
    assert "<html" in html and "<html" not in part
    assert part.lstrip().startswith('<p id="queue-status" hx-swap-oob="innerHTML">')
    assert '<section id="queue-results"' in part
    assert names(fragment) == names(page) == ["Old Harbor port"]
    # htmx shows the address of what applies, not the form's empty fields.
    assert fragment.headers["HX-Push-Url"] == "/queue/?status=completed"
    emptied = staff_client.get("/queue/?q=&status=completed&account=&page=1", headers=htmx())
    assert emptied.headers["HX-Push-Url"] == "/queue/?status=completed"
    for response in (page, fragment):
        assert "HX-Request" in response.headers["Vary"]
    # The form is a real GET form; htmx takes its answer into the results and keeps the URL.
    form = re.search(r'<form id="queue-filters"[^>]*>', html, re.S).group()
    assert 'method="get" action="/queue/"' in form
    assert 'hx-get="/queue/"' in form and 'hx-push-url="true"' in form
    assert 'hx-target="#queue-results"' in form
    assert (
        '<p id="queue-status" class="visually-hidden" role="status" aria-live="polite" '
        'aria-atomic="true">1 request or ticket matches.</p>'
    ) in html
    for label in ("Number or name", "Account ID", "FOC date from", "FOC date to", "Completed"):
        assert re.search(rf'<label for="[\w-]+">{label}</label>', html), label


def test_an_empty_queue_says_nothing_is_waiting(staff_client):
    text = words(staff_client.get("/queue/").get_data(as_text=True))

    assert "0 requests and tickets match." in text
    assert "Nothing waiting for Carrier Relations." in text
    assert "Download" not in text


# Export ----------------------------------------------------------------------------------------


def test_the_export_is_the_filtered_queue_in_its_order_with_formulas_made_inert(
    app, staff_client, queue
):
    with app.app_context():
        bad = add_request(4242, '=HYPERLINK("http://evil.test","x")', foc_window="@SUM(1)")
        Account.update(name="+cmd|' /C calc'!A0").where(Account.id == 5151).execute()

    response = staff_client.get("/queue/queue.csv?sort=name&status=submitted&status=rejected")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="portdesk-queue-\d{4}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "Kind",
        "ID",
        "Name",
        "Account ID",
        "Account",
        "Status",
        "Numbers",
        "Submitted (UTC)",
        "Requested date",
        "FOC date",
        "FOC window",
        "In status since (UTC)",
    ]
    assert [row[2] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil.test","x")',
        FAX,
        "Harbor main lines",
        "Refused port",
    ]
    assert rows[1][:2] == ["Port request", str(bad)] and rows[1][10] == "'@SUM(1)"
    assert rows[2][:2] == ["Fax ticket", str(queue["fax"])]
    assert rows[3][4:9] == ["Acme Dental", "Submitted", "2", rows[3][7], "2027-01-12"]
    assert rows[4][4] == "'+cmd|' /C calc'!A0"


def test_the_page_links_the_export_of_what_it_shows(staff_client, queue):
    html = staff_client.get("/queue/?account=5151&sort=foc").get_data(as_text=True)

    assert (
        '<a href="/queue/queue.csv?account=5151&amp;sort=foc" download>Download these 2 as CSV</a>'
    ) in html


# Statements --------------------------------------------------------------------------------------


def page_statements(staff_client, statements, url):
    statements.clear()
    response = staff_client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "url",
    [
        "/queue/",
        "/queue/?sort=numbers&dir=desc",
        "/queue/?sort=name&q=globex&account=5151",
        "/queue/?q=614-322-1001&status=submitted&status=completed",
        "/queue/?foc_from=2020-01-01&sort=foc",
    ],
)
def test_a_page_of_the_queue_takes_as_many_statements_for_60_rows_as_for_2(
    app, staff_client, accounts, statements, url
):
    def add_pair(n):
        # A request and a ticket alike in every sort, so each page shows both kinds.
        since = NOW - timedelta(minutes=n)
        numbers = ("+16143221001", f"+1614322{2000 + n}")
        add_request(
            5151,
            f"Globex {n:02d}",
            numbers=numbers,
            foc_date=date(2027, 1, 5),
            status_changed_at=since,
        )
        add_ticket(5151, f"Globex {n:02d} fax", numbers, updated_at=since)

    with app.app_context():
        add_pair(99)
    few = page_statements(staff_client, statements, url)
    with app.app_context():
        for n in range(60):
            add_pair(n)

    assert page_statements(staff_client, statements, url) == few
    # The user, the counts by status, the keys of the page, the rows of those keys (and the
    # account the filter names).
    assert few == (5 if "account=" in url else 4)


# In the browser ----------------------------------------------------------------------------------


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def first_cells(page):
    return [row.split("\n")[0].split("\t")[0] for row in page.locator("tbody tr").all_inner_texts()]


@pytest.mark.browser
def test_in_a_phone_browser_the_filters_refresh_the_results_and_the_address(
    live_server, phone, queue
):
    test_browser._sign_in(phone, live_server, STAFF_EMAIL)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Queue")
    phone.evaluate("window.stayedOnThePage = true")

    phone.get_by_label("Number or name").fill("globex")
    expect(phone.locator("#queue-status")).to_have_text("3 requests and tickets match.")
    assert phone.url.endswith("/queue/?q=globex")
    # The order box still says what it said (the longest in status first: descending).
    phone.get_by_label("Sort by").select_option("Request")
    expect(phone).to_have_url(re.compile(r"/queue/\?q=globex&sort=name&dir=desc$"))
    expect(phone.locator("tbody tr").first).to_contain_text("Refused port")
    phone.get_by_label("Order").select_option("Ascending")
    expect(phone).to_have_url(re.compile(r"/queue/\?q=globex&sort=name$"))
    assert first_cells(phone) == [
        f"Globex office request {queue['fix']}",
        f"Globex yard request {queue['foc']}",
        f"Refused port request {queue['no']}",
    ]

    assert phone.evaluate("window.stayedOnThePage") is True
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.problems == []


@pytest.mark.browser
def test_a_sort_chosen_by_its_column_header_carries_on_with_the_next_filter(
    live_server, desktop, queue
):
    test_browser._sign_in(desktop, live_server, STAFF_EMAIL)
    desktop.evaluate("window.stayedOnThePage = true")

    desktop.get_by_role("link", name="Request", exact=True).click()
    expect(desktop).to_have_url(re.compile(r"/queue/\?sort=name$"))
    expect(desktop.get_by_label("Sort by")).to_have_value("name")
    desktop.get_by_label("Completed").check()

    expect(desktop).to_have_url(re.compile(r"/queue/\?status=completed&sort=name$"))
    expect(desktop.locator("#queue-status")).to_have_text("1 request or ticket matches.")
    assert desktop.evaluate("window.stayedOnThePage") is True
    assert desktop.problems == []
