"""Staff answering an owner on the phone: the accounts list searched by name, ID or phone number,
and Check portability run for any account (picked with ?account=ID), seeing that account's
inventory as its owner would."""

import csv
import io
import re
from html import unescape

import pytest
from playwright.sync_api import expect

from portal.models import Account, NumberUpload, ReceivingNumber, TrackingNumber
from tests import test_browser
from tests.conftest import STAFF_EMAIL

ACME_FAIL_SAFE = "(312) 263-0000"  # the accounts fixture's: refused for Acme, portable for Globex
GLOBEX_TRACKING = "+13122630111"
browser, live_server, phone = test_browser.browser, test_browser.live_server, test_browser.phone
ACME_RECEIVING = "+13122630222"


def words(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def text_of(response):
    return words(response.get_data(as_text=True))


@pytest.fixture
def inventory(app, accounts):
    acme, globex = accounts
    with app.app_context():
        TrackingNumber.create(number=GLOBEX_TRACKING, account=globex)
        ReceivingNumber.create(account=acme, number=ACME_RECEIVING, name="Front desk")
    return accounts


# Check portability for an account --------------------------------------------------------------


def test_staff_pick_the_account_first(staff_client, accounts):
    response = staff_client.get("/check/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Check portability for an account</h1>" in html
    assert '<form class="card card--narrow" method="get" action="/check/" novalidate>' in html
    assert '<label for="account">Account ID</label>' in html
    assert 'href="/accounts/">Find an account by name or number</a>' in html
    assert "form-problems" not in html


@pytest.mark.parametrize(
    ("named", "problem"),
    [
        ("999", "There is no account 999: check the ID, or find the account by name."),
        ("acme", "“acme” is not an account ID: enter its digits, like 4242."),
        ("0", "“0” is not an account ID: enter its digits, like 4242."),
        ("99999999999", "“99999999999” is not an account ID: enter its digits, like 4242."),
        ("４２４２", "“４２４２” is not an account ID: enter its digits, like 4242."),
    ],
)
def test_an_account_that_cannot_be_used_is_said_in_the_picker(
    staff_client, accounts, named, problem
):
    for response in (
        staff_client.get("/check/", query_string={"account": named}),
        staff_client.post("/check/", query_string={"account": named}, data={"numbers": "1"}),
        staff_client.get("/check/reference.csv", query_string={"account": named}),
    ):
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert f"{problem}" in text_of(response)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_staff_check_for_the_account_named_as_its_owner_would(staff_client, inventory):
    page = staff_client.get("/check/?account=4242")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        'Checking for <a href="/accounts/4242">Acme Dental (4242)</a>, as its owner would see it.'
    ) in html
    assert 'action="/check/?account=4242"' in html
    assert 'href="/check/template.csv?account=4242"' in html
    assert 'href="/check/reference.csv?account=4242"' in html

    numbers = f"{ACME_FAIL_SAFE}\n{GLOBEX_TRACKING}\n312 263 0222"
    for_acme = staff_client.post("/check/?account=4242", data={"numbers": numbers})
    for_globex = staff_client.post("/check/?account=5151", data={"numbers": numbers})

    assert "This account's fail-safe number" in text_of(for_acme)
    # Only the tracking number is refused for Globex: the other two are Acme's own.
    assert "2 portable, 1 refused." in text_of(for_globex)
    assert "This account's fail-safe number" not in text_of(for_globex)
    assert "Already a tracking number on the platform." in text_of(for_acme)
    assert "0 portable, 3 refused." in text_of(for_acme)
    assert "Your receiving number" in text_of(for_acme)


def test_staff_get_the_htmx_fragment_whose_buttons_name_the_account(staff_client, inventory, htmx):
    response = staff_client.post(
        "/check/?account=5151", data={"numbers": ACME_FAIL_SAFE}, headers=htmx("check-results")
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "1 number checked from the numbers you typed: 1 portable, 0 refused." in words(html)
    assert 'hx-post="/check/?account=5151"' in html
    assert 'hx-post="/check/"' not in html


def test_staff_download_the_accounts_results_ids_and_template(staff_client, inventory):
    results = staff_client.post(
        "/check/results.csv?account=4242", data={"numbers": f"{ACME_FAIL_SAFE}, 212 736 5000"}
    )
    reference = staff_client.get("/check/reference.csv?account=5151")
    template = staff_client.get("/check/template.csv?account=4242")

    rows = list(csv.DictReader(io.StringIO(results.get_data(as_text=True))))
    assert [(row["e164"], row["portable"], row["reason"]) for row in rows] == [
        ("+13122630000", "no", "fail_safe_number"),
        ("+12127365000", "yes", ""),
    ]
    assert reference.headers["Content-Disposition"] == (
        'attachment; filename="portdesk-account-5151-ids.csv"'
    )
    assert "account,5151,Globex Plumbing," in reference.get_data(as_text=True)
    assert template.status_code == 200 and template.mimetype == "text/csv"


def test_a_file_staff_upload_is_kept_for_that_account(app, staff, staff_client, inventory):
    response = staff_client.post(
        "/check/?account=5151",
        data={"csv_file": (io.BytesIO(b"phone_number\n212 736 5000\n"), "call.csv")},
    )

    assert "1 number checked from call.csv" in text_of(response)
    with app.app_context():
        kept = NumberUpload.get()
        assert (kept.account_id, kept.uploaded_by_id, kept.filename) == (5151, staff.id, "call.csv")
    # The filters re-read it for the same account, and another account's page does not find it.
    again = staff_client.post(
        "/check/?account=5151", data={"upload": str(kept.id), "reason": "portable"}
    )
    elsewhere = staff_client.post(
        "/check/?account=4242", data={"upload": str(kept.id), "reason": "portable"}
    )
    assert "1 number checked from call.csv" in text_of(again)
    assert "The file these results came from is no longer kept" in text_of(elsewhere)


def test_an_owner_always_checks_for_their_own_account(owner_client, inventory):
    response = owner_client.post("/check/?account=5151", data={"numbers": ACME_FAIL_SAFE})
    reference = owner_client.get("/check/reference.csv?account=5151")

    assert "This account's fail-safe number" in text_of(response)
    assert 'action="/check/"' in response.get_data(as_text=True)
    assert "portdesk-account-4242-ids.csv" in reference.headers["Content-Disposition"]


def test_a_visitor_is_still_sent_to_sign_in(client):
    response = client.get("/check/?account=4242")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# The accounts list, searched -------------------------------------------------------------------


def listed(response):
    """Return the names of the accounts the list shows, in order."""
    return re.findall(r'<td data-label="Name"><a href="/accounts/\d+">([^<]+)</a>', response.text)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("", ["Acme Dental", "Globex Plumbing"]),
        ("acme", ["Acme Dental"]),
        ("PLUMB", ["Globex Plumbing"]),
        ("5151", ["Globex Plumbing"]),
        ("(312) 263-0000", ["Acme Dental"]),  # a fail-safe number
        ("312.263.0111", ["Globex Plumbing"]),  # a tracking number
        ("+1 312 263 0222", ["Acme Dental"]),  # a receiving number
        ("212 736 5000", []),
        ("%", []),
        ("nobody", []),
    ],
)
def test_staff_find_an_account_by_name_id_or_phone_number(staff_client, inventory, typed, found):
    response = staff_client.get("/accounts/", query_string={"q": typed})

    assert response.status_code == 200
    assert listed(response) == found


def test_the_search_says_what_it_found_and_what_to_try(staff_client, inventory):
    found = staff_client.get("/accounts/?q=acme")
    nothing = staff_client.get("/accounts/?q=nobody")

    assert "1 account found for “acme”." in text_of(found)
    assert 'href="/check/?account=4242">Check portability' in found.text
    assert 'href="/queue/?account=4242">Open requests' in found.text
    assert (
        "No account matches “nobody”. Try part of the name, the account ID, or a phone number in "
        "any format. Show every account"
    ) in text_of(nothing)
    form = re.search(r'<form class="card account-search"[^>]*>', found.text, re.S).group()
    assert 'method="get" action="/accounts/"' in form and 'hx-push-url="true"' in form
    assert '<label for="q">Name, account ID or phone number</label>' in found.text


def test_htmx_gets_the_accounts_found_with_the_sentence_for_screen_readers(
    staff_client, inventory, htmx
):
    response = staff_client.get("/accounts/?q=globex", headers=htmx("account-results"))

    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith('<p id="account-status" hx-swap-oob="innerHTML">')
    assert '<section id="account-results"' in html
    assert listed(response) == ["Globex Plumbing"]
    assert "HX-Request" in response.headers["Vary"]


def test_the_pages_of_a_search_keep_it(app, staff_client, accounts):
    with app.app_context():
        Account.insert_many(
            [{"id": 100 + n, "name": f"Harbor {n:02d}"} for n in range(55)]
        ).execute()

    first = staff_client.get("/accounts/?q=harbor")
    second = staff_client.get("/accounts/?q=harbor&page=2")

    assert listed(first) == [f"Harbor {n:02d}" for n in range(50)]
    assert listed(second) == [f"Harbor {n:02d}" for n in range(50, 55)]
    assert 'href="/accounts/?page=2&amp;q=harbor" rel="next"' in first.text
    assert "55 accounts found for “harbor”, page 1 of 2." in text_of(first)


def test_a_search_too_long_is_said_and_every_account_shown(staff_client, inventory):
    response = staff_client.get("/accounts/", query_string={"q": "a" * 201})

    assert listed(response) == ["Acme Dental", "Globex Plumbing"]
    assert (
        '<p class="field__error" id="q-error">Search for at most 200 characters: a name, an ID '
        "or a number.</p>"
    ) in response.text


def test_an_owner_is_still_sent_to_their_own_account(owner_client, accounts):
    response = owner_client.get("/accounts/?q=globex")

    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/4242"


# In the browser ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_in_a_phone_browser_staff_find_the_account_then_check_for_it(live_server, phone, inventory):
    test_browser._sign_in(phone, live_server, STAFF_EMAIL)
    phone.goto(f"{live_server}/accounts/")
    phone.evaluate("window.stayedOnThePage = true")

    phone.get_by_label("Name, account ID or phone number").fill("312.263.0111")
    expect(phone.locator("#account-status")).to_have_text("1 account found for “312.263.0111”.")
    assert phone.url.endswith("/accounts/?q=312.263.0111")
    assert phone.evaluate("window.stayedOnThePage") is True
    phone.get_by_role("link", name="Check portability for Globex Plumbing").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Check portability")
    phone.get_by_label("Phone numbers").fill(ACME_FAIL_SAFE)
    expect(phone.locator("#check-status")).to_contain_text("1 portable, 0 refused.")
    assert phone.url.endswith("/check/?account=5151")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.problems == []
