"""The owner's Check portability page: full page without JavaScript, fragments for htmx."""

import csv
import html as html_module
import io
import re

import pytest

from portal import create_app
from portal.models import (
    Account,
    NumberUpload,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    User,
)
from tests.conftest import OWNER_EMAIL, PASSWORD, login, make_config

PORTABLE = "(212) 736-5000"
TRACKING = "+13122630111"


@pytest.fixture
def inventory(app, accounts):
    acme, globex = accounts
    with app.app_context():
        TrackingSource.create(id=31, account=acme, name="Google Ads")
        RoutingTarget.create(id=901, account=acme, name="Front desk", kind="receiving_number")
        TrackingNumber.create(number=TRACKING, account=globex)
    return accounts


def check(client, headers=None, **form):
    return client.post("/check/", data=form, headers=headers or {})


def csv_file(text, name="numbers.csv"):
    return (io.BytesIO(text.encode()), name)


def text_of(response):
    return html_module.unescape(response.get_data(as_text=True))


def alert_of(html):
    """Return the problems block the page shows (role=alert), or "" when there is none."""
    match = re.search(r'<div class="form-problems" role="alert">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def table_of(html):
    """Return the results table's body: what the owner reads, not the form's own fields."""
    return html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""


def test_the_page_has_a_labelled_form_a_live_region_and_the_downloads(owner_client):
    html = text_of(owner_client.get("/check/"))
    assert '<label for="numbers">Phone numbers</label>' in html
    assert '<label for="csv_file">Or upload a CSV file</label>' in html
    assert 'role="status" aria-live="polite"' in html
    assert ">Check Portability</button>" in html
    assert 'href="/check/template.csv"' in html
    assert 'href="/check/reference.csv"' in html
    assert 'hx-trigger="input changed delay:400ms"' in html
    assert 'hx-sync="closest form:replace"' in html


def test_only_owners_check_portability(client, staff_client):
    assert client.get("/check/").status_code == 302
    assert staff_client.get("/check/").status_code == 403


def test_posting_without_javascript_shows_the_results_in_the_page(owner_client, inventory):
    response = check(owner_client, numbers=f"{PORTABLE}\n\n{TRACKING}, 212 555 0150")
    html = text_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith("<!doctype html>")
    assert "3 numbers checked" in html
    assert "1 portable" in html and "2 refused" in html
    assert "Already a tracking number on the platform." in html
    assert "reserved for fiction" in html
    # The line of each problem, and the text as typed, stay on the page.
    assert '<td class="num" data-label="Line">3</td>' in html
    assert PORTABLE in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_gets_the_results_fragment_and_the_sentence_for_screen_readers(
    owner_client, inventory, htmx
):
    response = check(owner_client, htmx("check-results"), numbers=f"{PORTABLE}, {TRACKING}")
    html = text_of(response)
    assert response.status_code == 200
    assert "<html" not in html and "site-header" not in html
    assert '<div id="check-status" hx-swap-oob="innerHTML">' in html
    assert "2 numbers checked: 1 portable, 1 refused." in html
    assert "HX-Request" in response.headers["Vary"]


def test_emptying_the_box_while_typing_clears_the_results_quietly(owner_client, htmx):
    headers = {**htmx("check-results"), "HX-Trigger": "numbers"}
    html = text_of(check(owner_client, headers, numbers="  "))
    assert "Results appear here as you type." in html
    assert "Enter at least one number" not in html


def test_checking_nothing_with_the_button_says_what_to_do(owner_client):
    html = text_of(check(owner_client, numbers=""))
    assert "Enter at least one number, or upload a CSV file." in html


def test_a_filter_shows_only_that_reason_from_what_was_checked(owner_client, inventory, htmx):
    checked = f"{PORTABLE}\n{TRACKING}\n416 555 1234"
    # The box now holds something else: the filter works on the results on the page.
    html = text_of(
        check(
            owner_client,
            htmx("check-results"),
            numbers="646 555 1234",
            checked_numbers=checked,
            reason="tracking_number",
        )
    )
    assert "3 numbers checked" in html
    assert TRACKING in table_of(html)
    assert PORTABLE not in table_of(html)
    assert "416 555 1234" not in table_of(html)
    pressed = re.findall(r'value="(\w*)" class="[^"]*"\s+aria-pressed="true"', html)
    assert pressed == ["tracking_number"]


def test_an_unknown_filter_shows_everything(owner_client, inventory):
    html = check(owner_client, checked_numbers=PORTABLE, reason="<script>").get_data(as_text=True)
    assert PORTABLE in table_of(html)
    assert "<script>" not in html


def test_a_csv_upload_is_checked_and_kept(owner_client, app, inventory):
    upload = csv_file(
        "phone_number,account_id,tracking_source_id,routing_id,friendly_name\r\n"
        f"{PORTABLE},4242,31,901,Main line\r\n"
        f"{TRACKING},4242,31,Front desk,Second\r\n"
    )
    html = text_of(check(owner_client, csv_file=upload))
    assert "2 numbers checked from numbers.csv" in html
    assert "use the routing ID, not the name: 'Front desk' is routing 901" in html
    assert "Row 3, routing_id" in html
    with app.app_context():
        stored = NumberUpload.get()
        assert stored.filename == "numbers.csv"
        assert bytes(stored.content).startswith(b"phone_number,")
        assert stored.account_id == 4242


@pytest.fixture
def kept_upload(owner_client, app, inventory):
    """The id of the upload the page holds after a CSV of two numbers was checked."""
    check(owner_client, csv_file=csv_file(f"{PORTABLE}\n{TRACKING}\n"))
    with app.app_context():
        return str(NumberUpload.get().id)


def test_a_filter_after_an_upload_rereads_the_stored_file(owner_client, kept_upload):
    html = text_of(check(owner_client, upload=kept_upload, reason="portable"))
    assert "2 numbers checked from numbers.csv" in html
    assert PORTABLE in table_of(html)
    assert TRACKING not in table_of(html)


def test_another_accounts_upload_cannot_be_read(owner_client, app, inventory):
    acme, globex = inventory
    with app.app_context():
        theirs = NumberUpload.create(account=globex, filename="theirs.csv", content=b"2127365000")
    html = text_of(check(owner_client, upload=str(theirs.id), reason=""))
    assert "theirs.csv" not in html
    assert "Enter at least one number, or upload a CSV file." in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty: add your numbers to the template and upload it."),
        (b"\x00\x01\x02binary\x00", "This is not a CSV file (it holds binary data)"),
        (b"PK\x03\x04spreadsheet", "This looks like an Excel workbook: save it as CSV"),
    ],
)
def test_a_bad_file_gets_a_clear_message_and_is_not_kept(
    owner_client, app, inventory, content, message
):
    response = check(owner_client, csv_file=(io.BytesIO(content), "numbers.csv"))
    assert response.status_code == 200
    assert message in alert_of(text_of(response))
    with app.app_context():
        assert NumberUpload.select().count() == 0


def test_too_many_numbers_in_the_box_get_a_clear_message(owner_client):
    html = text_of(check(owner_client, numbers="\n".join(["2127365000"] * 20_001)))
    assert "You entered 20,001 numbers; one check takes at most 20,000." in alert_of(html)


def test_the_results_download_has_every_result(owner_client, inventory):
    response = owner_client.post(
        "/check/results.csv", data={"checked_numbers": f"{PORTABLE}\n{TRACKING}"}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    assert [(r["line"], r["e164"], r["portable"], r["reason"]) for r in rows] == [
        ("1", "+12127365000", "yes", ""),
        ("2", TRACKING, "no", "tracking_number"),
    ]


def test_the_template_has_the_exact_headers(owner_client, inventory):
    response = owner_client.get("/check/template.csv")
    assert response.mimetype == "text/csv"
    first_line = text_of(response).splitlines()[0]
    assert first_line == "phone_number,account_id,tracking_source_id,routing_id,friendly_name"


def test_the_reference_lists_this_accounts_ids_only(owner_client, app, inventory):
    acme, globex = inventory
    with app.app_context():
        RoutingTarget.create(id=951, account=globex, name="Service desk", kind="call_queue")
    text = text_of(owner_client.get("/check/reference.csv"))
    assert "routing,901,Front desk" in text
    assert "tracking_source,31,Google Ads" in text
    assert "Service desk" not in text


def test_owners_find_the_check_in_the_navigation(owner_client):
    html = text_of(owner_client.get("/port-requests/"))
    assert 'href="/check/"' in html


def test_an_htmx_upload_over_the_request_limit_says_so_in_place(database_url, tmp_path, htmx):
    app = create_app(make_config(database_url, tmp_path / "small", MAX_CONTENT_LENGTH=4096))
    with app.app_context():
        account = Account.create(id=4242, name="Acme Dental")
        user = User(email=OWNER_EMAIL, name="Ann Owner", role="owner", account=account)
        user.set_password(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
        user.save()
    client = app.test_client()
    login(client, OWNER_EMAIL)
    big = csv_file("2127365000\n" * 1000)
    response = client.post("/check/", data={"csv_file": big}, headers=htmx("check-results"))
    html = text_of(response)
    assert response.status_code == 413
    assert "That upload is too large" in html
    assert "<html" not in html
    assert 'role="alert"' in html


def test_the_button_again_after_an_upload_rechecks_the_kept_file(owner_client, app, kept_upload):
    # Without JavaScript the file box is empty after the results page: the upload is not lost.
    html = text_of(check(owner_client, upload=kept_upload, numbers=""))
    assert "2 numbers checked from numbers.csv" in html
    with app.app_context():
        assert NumberUpload.select().count() == 1


def test_typed_numbers_win_over_the_kept_upload(owner_client, kept_upload):
    html = text_of(check(owner_client, upload=kept_upload, numbers="646 555 1234"))
    assert "1 number checked" in html
    assert "numbers.csv" not in html
