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


def test_staff_pick_an_account_to_check_for(client, staff_client):
    assert client.get("/check/").status_code == 302
    picker = staff_client.get("/check/")
    assert picker.status_code == 200
    assert "<h1>Check portability for an account</h1>" in text_of(picker)


def test_posting_without_javascript_shows_the_results_in_the_page(owner_client, inventory):
    response = check(owner_client, numbers=f"{PORTABLE}\n\n{TRACKING}, 212 555 0150")
    html = text_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith("<!doctype html>")
    assert "3 numbers checked" in html
    assert "1 portable" in html and "2 refused" in html
    assert "Already a tracking number on the platform." in html
    assert "reserved for fiction" in html
    # Where each problem is, and the text as typed, stay on the page.
    assert '<th scope="col">Where</th>' in html
    assert '<td data-label="Where">Line 1</td>' in html
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
    assert "2 numbers checked from the numbers you typed: 1 portable, 1 refused." in html
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


UPLOAD_GONE = "The file these results came from is no longer kept: upload it again."


def test_another_accounts_upload_cannot_be_read(owner_client, app, inventory):
    acme, globex = inventory
    with app.app_context():
        theirs = NumberUpload.create(account=globex, filename="theirs.csv", content=b"2127365000")
    html = text_of(check(owner_client, upload=str(theirs.id), reason=""))
    assert "theirs.csv" not in html
    # The same words as for a deleted upload of this account: nothing says whose it is.
    assert UPLOAD_GONE in alert_of(html)


def forget(app, upload_id):
    """Delete a kept upload, as the per-account cap or `flask uploads prune` would."""
    with app.app_context():
        assert NumberUpload.delete_by_id(int(upload_id)) == 1


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/check/", {"reason": "portable"}),  # a filter button
        ("/check/", {"reason": ""}),  # the All button
        ("/check/results.csv", {"numbers": ""}),  # Download the results
        ("/check/", {"numbers": ""}),  # Check Portability again, nothing typed
    ],
    ids=["filter", "all", "download", "check-again"],
)
@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_an_upload_no_longer_kept_says_the_file_is_gone(
    owner_client, app, kept_upload, htmx, url, form, with_htmx
):
    forget(app, kept_upload)
    headers = htmx("check-results") if with_htmx else {}
    data = {"upload": kept_upload, "checked_numbers": "", **form}
    response = owner_client.post(url, data=data, headers=headers)
    html = text_of(response)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert UPLOAD_GONE in alert_of(html)
    assert "Enter at least one number" not in html
    assert ("<html" in html) is not with_htmx
    # The file box says it too, for screen readers, and the page no longer names the upload.
    assert 'aria-describedby="csv_file-hint csv_file-error"' in html
    assert f'value="{kept_upload}"' not in html
    if with_htmx:
        assert f"{UPLOAD_GONE}</div>" in html  # the live region's sentence


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


# A stale or edited page: the hidden id of the kept upload is no id this page wrote.
BAD_UPLOAD_IDS = ["²", "①", "1" * 5000, "99999999999999999999", "12a", "-1", " 7"]


@pytest.mark.parametrize("upload", BAD_UPLOAD_IDS)
@pytest.mark.parametrize("url", ["/check/", "/check/results.csv"])
@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_a_hidden_upload_id_this_page_never_wrote_says_the_page_is_out_of_date(
    owner_client, kept_upload, htmx, upload, url, with_htmx
):
    headers = htmx("check-results") if with_htmx else {}
    response = owner_client.post(url, data={"upload": upload, "reason": ""}, headers=headers)
    html = text_of(response)
    # htmx swaps only 2xx answers by default, so its fragment carries the problem with a 200.
    assert response.status_code == (200 if with_htmx else 400)
    assert response.mimetype == "text/html"
    assert "This page is out of date: check the numbers again." in alert_of(html)
    assert ("<html" in html) is not with_htmx
    assert "numbers.csv" not in html


def test_an_upload_id_of_eighteen_digits_is_only_not_found(owner_client, kept_upload):
    html = text_of(check(owner_client, upload="9" * 18, reason=""))
    assert UPLOAD_GONE in alert_of(html)


def test_the_check_runs_with_explicit_inputs_outside_the_checks_views(app, inventory, owner):
    """The wizard reuses the check: no g.user, no checks endpoint, no HX-Trigger header."""
    from portal.checks import CheckForm, run_check

    acme, _ = inventory
    data = {"numbers": f"{PORTABLE}\n{TRACKING}", "reason": "portable"}
    with app.test_request_context("/port-requests/1/numbers", method="POST", data=data):
        form = CheckForm()
        report = run_check(form, acme, owner)
        assert (report.summary.total, report.summary.portable) == (2, 1)
        assert [r.input for r in report.shown] == [PORTABLE]
        assert form.checked_numbers.data == data["numbers"]
        shown = CheckForm(formdata=None, checked_numbers=PORTABLE)
        assert run_check(shown, acme, owner, again=True).summary.total == 1
        quiet = CheckForm(formdata=None, numbers="  ")
        assert run_check(quiet, acme, owner, typing=True) is None
        assert quiet.errors == {}


def test_the_results_post_to_the_urls_they_are_given(app, inventory, owner):
    from flask import render_template

    from portal.checks import FILTERS, CheckForm, run_check

    acme, _ = inventory
    with app.test_request_context("/port-requests/1/numbers", method="POST"):
        form = CheckForm(formdata=None, numbers=PORTABLE)
        report = run_check(form, acme, owner)
        html = render_template(
            "checks/_results.html",
            form=form,
            report=report,
            filters=FILTERS,
            check_url="/port-requests/1/numbers",
            download_url="/port-requests/1/numbers.csv",
        )
    assert 'formaction="/port-requests/1/numbers.csv"' in html
    assert 'hx-post="/port-requests/1/numbers"' in html
    assert "/check/" not in html


ID_PROBLEMS = (
    "phone_number,account_id,tracking_source_id,routing_id,friendly_name\r\n"
    f"{PORTABLE},4242,31,Front desk,Main line\r\n"
    f"{TRACKING},4242,31,901,Second\r\n"
)
NAME_NOT_ID = "use the routing ID, not the name: 'Front desk' is routing 901"


def test_a_row_with_an_id_problem_says_so_in_its_own_result(owner_client, inventory):
    html = text_of(check(owner_client, csv_file=csv_file(ID_PROBLEMS)))
    assert f"Row 2, routing_id: {NAME_NOT_ID}" in alert_of(html)
    rows = table_of(html).split("</tr>")
    assert (
        f'Portable</strong> <span class="row-problem">— but fix routing_id: {NAME_NOT_ID}'
        in (rows[0])
    )
    assert "row-problem" not in rows[1]


def test_the_results_download_of_an_upload_carries_its_ids_and_problems(
    owner_client, app, inventory
):
    check(owner_client, csv_file=csv_file(ID_PROBLEMS))
    with app.app_context():
        kept = str(NumberUpload.get().id)
    response = owner_client.post("/check/results.csv", data={"upload": kept})
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    assert [r["e164"] for r in rows] == ["+12127365000", TRACKING]
    assert NAME_NOT_ID in rows[0]["row_problem"]
    assert rows[1]["row_problem"] == ""
    assert rows[1]["friendly_name"] == "Second"
    assert rows[1]["routing_id"] == "901"


def test_the_results_say_they_come_from_the_typed_numbers(owner_client, inventory):
    html = text_of(check(owner_client, numbers=PORTABLE))
    assert "1 number checked from the numbers you typed</h2>" in html
    assert "Remove" not in html


def test_a_kept_file_says_so_and_has_a_remove_button(owner_client, kept_upload):
    html = text_of(check(owner_client, upload=kept_upload, reason=""))
    assert "2 numbers checked from numbers.csv</h2>" in html
    assert '<button type="submit" id="remove-upload" name="remove_upload" value="1"' in html
    assert ">Remove numbers.csv</button>" in html


def test_a_file_chosen_after_typing_says_the_typed_numbers_were_not_checked(
    owner_client, inventory
):
    html = text_of(check(owner_client, numbers="646 555 1234", csv_file=csv_file(PORTABLE)))
    assert "1 number checked from numbers.csv" in html
    assert "The numbers in the box were not checked" in html


@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_remove_drops_the_file_and_checks_the_typed_numbers(
    owner_client, kept_upload, htmx, with_htmx
):
    headers = htmx("check-results") if with_htmx else {}
    form = {"upload": kept_upload, "numbers": "646 555 1234", "remove_upload": "1"}
    html = text_of(check(owner_client, headers, **form))
    assert "1 number checked from the numbers you typed" in html
    assert "numbers.csv" not in html
    assert f'value="{kept_upload}"' not in html


@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_remove_with_nothing_typed_clears_the_results_without_a_complaint(
    owner_client, kept_upload, htmx, with_htmx
):
    headers = htmx("check-results") if with_htmx else {}
    response = check(owner_client, headers, upload=kept_upload, numbers="", remove_upload="1")
    html = text_of(response)
    assert response.status_code == 200
    assert "Results appear here as you type." in html
    assert alert_of(html) == ""
    assert "numbers.csv" not in html


def test_every_htmx_answer_empties_the_file_box(owner_client, inventory, htmx):
    html = text_of(check(owner_client, htmx("check-results"), csv_file=csv_file(PORTABLE)))
    # The checked file is kept and named in the results; the box must not send it again.
    assert '<div id="csv-file-field" hx-swap-oob="true">' in html
    assert 'type="file"' in html
    assert "1 number checked from numbers.csv" in html


def file_box_of(html):
    """Return the file box's HTML: its wrapper, the field's div and what they hold."""
    return re.search(r'<div id="csv-file-field".*?</div>\s*</div>', html, re.S).group(0)


def test_every_htmx_answer_sends_the_same_file_box_until_a_file_has_a_problem(
    owner_client, inventory, htmx
):
    headers = htmx("check-results")
    first = file_box_of(text_of(check(owner_client, headers, numbers=PORTABLE)))
    again = file_box_of(text_of(check(owner_client, headers, numbers=TRACKING)))
    empty = csv_file("", name="empty.csv")
    refused = file_box_of(text_of(check(owner_client, headers, csv_file=empty)))
    after = file_box_of(text_of(check(owner_client, headers, numbers=PORTABLE)))
    page = file_box_of(text_of(owner_client.get("/check/")))
    # The box the full page renders, sent out of band: same ids, label, hint, aria, hx attributes.
    sent_out_of_band = page.replace(
        'id="csv-file-field">', 'id="csv-file-field" hx-swap-oob="true">'
    )
    assert first == again == after == sent_out_of_band
    assert '<label for="csv_file">Or upload a CSV file</label>' in first
    assert 'aria-describedby="csv_file-hint"' in first and "aria-invalid" not in first
    assert 'hx-post="/check/"' in first and 'hx-trigger="change"' in first
    # A file's problem is rendered fresh, tied to the box for screen readers.
    assert 'aria-describedby="csv_file-hint csv_file-error"' in refused
    assert 'aria-invalid="true"' in refused
    assert "The file is empty" in refused


def test_counts_have_thousands_separators(owner_client, htmx):
    numbers = "\n".join(f"646 555 {n:04d}" for n in range(2000, 3234))
    html = text_of(check(owner_client, htmx("check-results"), numbers=numbers))
    assert "1,234 numbers checked from the numbers you typed</h2>" in html
    assert "1,234 numbers checked from the numbers you typed: 1,234 portable, 0 refused." in html
    assert '<span class="tag tag--ok">1,234 portable</span>' in html
    assert "Showing the first 500 of 1,234." in html
    assert '<span class="count">1,234</span>' in html


def test_several_numbers_on_a_line_say_which_one(owner_client, inventory):
    html = text_of(check(owner_client, numbers=f"{PORTABLE}\n646 555 1234, {TRACKING}"))
    assert '<td data-label="Where">Line 2, number 2</td>' in table_of(html)


def test_the_filter_buttons_keep_stable_ids(owner_client, inventory):
    html = text_of(check(owner_client, numbers=f"{PORTABLE}\n{TRACKING}"))
    ids = re.findall(r'id="(filter-[\w]+)" name="reason"', html)
    assert ids == ["filter-all", "filter-portable", "filter-refused", "filter-tracking_number"]


def test_the_headline_counts_rows_not_their_problems(owner_client, inventory):
    # One row with two problems is one row to fix.
    upload = csv_file(
        "phone_number,account_id,tracking_source_id,routing_id,friendly_name\r\n"
        f"{PORTABLE},4242,Calls,Front desk,Main line\r\n"
        f"{TRACKING},4242,31,901,Second\r\n"
    )
    alert = alert_of(text_of(check(owner_client, csv_file=upload)))
    assert "Row 2, tracking_source_id" in alert and "Row 2, routing_id" in alert
    assert "Fix 1 row in your file" in alert
