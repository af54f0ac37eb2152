"""The wizard's Numbers and configuration step: adding, configuring, removing and re-routing."""

import html as html_module
import io
import json
import re

import pytest

from portal.models import (
    PortNumber,
    PortRequest,
    ReceivingNumber,
    ReceivingReroute,
    RequestEvent,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
)
from portal.port_requests import number_rows
from portal.port_requests.drafts import store_numbers

PORTABLE = "(614) 322-1001"
SECOND = "(614) 322-1002"
FICTION = "212 555 0150"  # reserved for fiction: refused as invalid_number
TOLL_FREE = "(800) 356-9377"
RECEIVING = "+13122630100"
RINGING = ("+13122630111", "+13122630112")  # tracking numbers that ring RECEIVING
LONELY = "+13122630300"  # a receiving number no tracking number rings
GLOBEX_TRACKING = "+13122630999"


@pytest.fixture
def inventory(app, accounts):
    """Acme's routing targets (one rings RECEIVING) and sources; Globex's own; the numbers."""
    acme, globex = accounts
    with app.app_context():
        TrackingSource.create(id=31, account=acme, name="Google Ads")
        TrackingSource.create(id=32, account=acme, name="Yelp")
        TrackingSource.create(id=61, account=globex, name="Globex ads")
        front = RoutingTarget.create(
            id=901, account=acme, name="Front desk", kind="receiving_number", number=RECEIVING
        )
        RoutingTarget.create(id=902, account=acme, name="Sales queue", kind="call_queue")
        RoutingTarget.create(id=903, account=acme, name="Voice menu", kind="voice_menu")
        RoutingTarget.create(id=951, account=globex, name="Globex desk", kind="call_queue")
        ReceivingNumber.create(account=acme, number=RECEIVING, name="Front desk")
        ReceivingNumber.create(account=acme, number=LONELY, name="Back office")
        for number in RINGING:
            TrackingNumber.create(number=number, account=acme, routing_target=front)
        TrackingNumber.create(number=GLOBEX_TRACKING, account=globex)
    return accounts


def make_request(app, numbers=(), account=4242, status="draft"):
    """Store a request with these numbers (texts, or dicts of a row's fields); return its id."""
    # Every row with every key: an INSERT of many rows takes its columns from the first.
    empty = dict.fromkeys(("routing_id", "tracking_source_id", "friendly_name"))
    rows = [empty | (n if isinstance(n, dict) else {"phone_number": n}) for n in numbers]
    with app.app_context():
        port_request = PortRequest.create(
            account=account, status=status, details=json.dumps({"friendly_name": "Harbor"})
        )
        store_numbers(port_request, rows)
        return port_request.id


def stored(app, request_id):
    """The request's rows as (position, number, routing, source, name), in order."""
    with app.app_context():
        return list(
            PortNumber.select(
                PortNumber.position,
                PortNumber.phone_number,
                PortNumber.routing_id,
                PortNumber.tracking_source_id,
                PortNumber.friendly_name,
            )
            .where(PortNumber.port_request == request_id)
            .order_by(PortNumber.position)
            .tuples()
        )


def reroutes(app, request_id):
    with app.app_context():
        return list(
            ReceivingReroute.select(
                ReceivingReroute.receiving_number,
                ReceivingReroute.tracking_number,
                ReceivingReroute.routing_id,
            )
            .where(ReceivingReroute.port_request == request_id)
            .order_by(ReceivingReroute.receiving_number, ReceivingReroute.tracking_number)
            .tuples()
        )


def url(request_id, action=""):
    return f"/port-requests/{request_id}/numbers" + (f"/{action}" if action else "")


def text_of(response):
    return html_module.unescape(response.get_data(as_text=True))


def section(html, element_id):
    """Return the HTML of the element with this id, to its closing tag at the same depth."""
    start = html.index(f'id="{element_id}"')
    start = html.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", html[start:])[1]
    depth, position = 0, start
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", html[start:]):
        depth += -1 if match[1] else 1
        if depth == 0:
            return html[start : start + match.end()]
        position = match.end()
    raise AssertionError(f"#{element_id} never closes after {position}")


def flashes(response):
    return re.findall(r'<p class="flash flash--\w+">(.*?)</p>', text_of(response), re.S)


def configure(client, request_id, rows, headers=None, **form):
    """POST the configuration; rows are {position: (number as stored, routing, source, name)}."""
    data = dict(form)
    for index, (number, routing, source, name) in rows.items():
        data[f"numbers[{index}].phone_number"] = number
        data[f"numbers[{index}].routing_id"] = "" if routing is None else str(routing)
        data[f"numbers[{index}].tracking_source_id"] = "" if source is None else str(source)
        data[f"numbers[{index}].friendly_name"] = name or ""
    return client.post(url(request_id, "configuration"), data=data, headers=headers or {})


# The page ------------------------------------------------------------------------------------


def test_the_step_lists_refused_numbers_apart_and_configures_the_others(
    owner_client, app, inventory
):
    request_id = make_request(app, [PORTABLE, FICTION, SECOND])
    response = owner_client.get(url(request_id))
    html = text_of(response)
    assert response.status_code == 200
    assert "<h1>Numbers and configuration</h1>" in html
    refused = section(html, "refused")
    assert FICTION in refused and "reserved for fiction" in refused
    assert "Remove the 1 refused number" in refused
    table = section(html, "numbers-config")
    assert FICTION not in table
    # One row per number, its controls labelled and named by the field path.
    assert (
        '<label class="visually-hidden" for="n2-routing_id">Routing target for (614) 322-1002'
        in table
    )
    assert 'name="numbers[2].routing_id"' in table
    assert 'name="numbers[0].tracking_source_id"' in table
    assert 'name="numbers[0].friendly_name"' in table
    assert '<option value="901">Front desk (901)</option>' in table
    assert "Globex desk" not in html and "Globex ads" not in html
    # The rules' problems sit on their row, tied to the control.
    assert 'aria-describedby="n0-routing_id-error"' in table
    assert "Choose the routing target for this number." in table
    assert 'role="status" aria-live="polite"' in html
    assert "wizard-numbers.css" in html
    assert "<script>" not in html.replace('<script src="', "")


def test_toll_free_mixed_with_local_shows_its_problem_on_its_row(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE, TOLL_FREE])
    html = text_of(owner_client.get(url(request_id)))
    row = section(html, "number-1")
    assert "Toll-free numbers move by a RespOrg change" in row
    assert "RespOrg" not in section(html, "number-0")


def test_the_steps_check_comes_when_the_numbers_have_no_errors(owner_client, app, inventory):
    done = make_request(
        app, [{"phone_number": PORTABLE, "routing_id": 902, "tracking_source_id": 31}]
    )
    undone = make_request(app, [PORTABLE])
    for request_id, state in ((done, "complete"), (undone, "not complete yet")):
        html = text_of(owner_client.get(url(request_id)))
        step = re.search(r'aria-current="step">.*?</a>', html, re.S)[0]
        assert f"({state})" in step


def test_many_numbers_are_shown_a_page_at_a_time(owner_client, app, inventory):
    numbers = [f"(614) 322-{1000 + i:04d}" for i in range(250)]
    request_id = make_request(app, numbers)
    first = text_of(owner_client.get(url(request_id)))
    assert first.count('name="selected"') == 200
    assert "Page 1 of 2" in first
    second = text_of(owner_client.get(url(request_id) + "?page=2"))
    assert second.count('name="selected"') == 50
    assert 'name="numbers[249].routing_id"' in second
    assert 'name="numbers[0].routing_id"' not in second


def test_the_pager_gets_only_the_rows_region_with_htmx(owner_client, app, inventory, htmx):
    request_id = make_request(app, [f"(614) 322-{1000 + i:04d}" for i in range(201)])
    response = owner_client.get(url(request_id) + "?page=2", headers=htmx("numbers-rows"))
    html = text_of(response)
    assert html.lstrip().startswith('<div id="numbers-rows"')
    assert "<html" not in html
    assert 'name="numbers[200].routing_id"' in html


# Adding numbers ------------------------------------------------------------------------------


def test_typed_numbers_are_added_after_the_rows_already_there(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE])
    response = owner_client.post(
        url(request_id, "add"), data={"numbers": f"{SECOND}, {FICTION}\n614.322.1001"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == url(request_id)
    assert [row[:2] for row in stored(app, request_id)] == [
        (0, PORTABLE),
        (1, SECOND),
        (2, FICTION),
        (3, "614.322.1001"),
    ]
    page = owner_client.get(response.headers["Location"])
    # The repeat of a number already in the request comes out as a duplicate.
    assert "Added 3 numbers: 1 portable, 2 refused." in flashes(page)
    assert "Repeated" in section(text_of(page), "number-3")
    with app.app_context():
        event = RequestEvent.select().where(RequestEvent.port_request == request_id).get()
        assert (event.actor, event.message) == ("Ann Owner", "Added 3 numbers.")


def test_a_bulk_csv_prefills_the_rows_and_its_row_problems_are_shown(owner_client, app, inventory):
    request_id = make_request(app)
    upload = (
        "phone_number,account_id,tracking_source_id,routing_id,friendly_name\r\n"
        f"{PORTABLE},4242,31,902,Main line\r\n"
        f"{SECOND},4242,61,951,Back line\r\n"
        ",4242,31,902,No number\r\n"
    )
    response = owner_client.post(
        url(request_id, "add"),
        data={"csv_file": (io.BytesIO(upload.encode()), "numbers.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert stored(app, request_id) == [
        (0, PORTABLE, 902, 31, "Main line"),
        # Another account's ids are never stored: the row asks for its own.
        (1, SECOND, None, None, "Back line"),
    ]
    messages = flashes(response)
    assert "Added 2 numbers: 2 portable, 0 refused." in messages
    assert (
        "Row 3, tracking_source: tracking source 61 does not exist in your account" not in messages
    )
    assert any(
        m.startswith("Row 3, tracking_source_id: tracking source 61 does not exist")
        for m in messages
    )
    assert any(m.startswith("Row 3, routing_id: routing 951 does not exist") for m in messages)
    assert "Row 4, phone_number: the phone number is empty." in messages
    assert "Choose the routing target for this number." in section(text_of(response), "number-1")


def test_the_check_as_the_owner_types_is_the_check_portability_component(
    owner_client, app, inventory, htmx
):
    request_id = make_request(app)
    headers = {**htmx("check-results"), "HX-Trigger": "numbers"}
    response = owner_client.post(
        url(request_id, "check"), data={"numbers": f"{PORTABLE}, {FICTION}"}, headers=headers
    )
    html = text_of(response)
    assert "<html" not in html
    assert "2 numbers checked from the numbers you typed: 1 portable, 1 refused." in html
    # Its filter buttons post back to this step, not to the Check portability page.
    assert f'hx-post="{url(request_id, "check")}"' in html
    assert stored(app, request_id) == []


def test_checking_without_javascript_shows_the_step_with_the_results(owner_client, app, inventory):
    request_id = make_request(app)
    response = owner_client.post(url(request_id, "check"), data={"numbers": PORTABLE})
    html = text_of(response)
    assert response.status_code == 200
    assert "1 number checked from the numbers you typed" in html
    assert "<h1>Numbers and configuration</h1>" in html
    # What was typed stays in the box, for "Add these numbers".
    assert re.search(rf">\s*{re.escape(PORTABLE)}</textarea>", html)
    assert stored(app, request_id) == []


def test_adding_a_checked_file_adds_the_file_not_the_box(owner_client, app, inventory):
    request_id = make_request(app)
    upload = (io.BytesIO(f"{PORTABLE}\n{SECOND}\n".encode()), "two.csv")
    owner_client.post(
        url(request_id, "check"), data={"csv_file": upload}, content_type="multipart/form-data"
    )
    with app.app_context():
        from portal.models import NumberUpload

        kept = str(NumberUpload.get().id)
    owner_client.post(url(request_id, "add"), data={"upload": kept, "numbers": "(614) 322-1009"})
    assert [row[1] for row in stored(app, request_id)] == [PORTABLE, SECOND]


@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_adding_nothing_says_so_and_stores_nothing(owner_client, app, inventory, htmx, with_htmx):
    request_id = make_request(app)
    headers = htmx("numbers-rows") if with_htmx else {}
    response = owner_client.post(url(request_id, "add"), data={"numbers": " "}, headers=headers)
    html = text_of(response)
    assert response.status_code == 200
    assert "Enter at least one number, or upload a CSV file." in html
    if with_htmx:
        assert response.headers["HX-Retarget"] == "#numbers-add"
        assert '<div id="numbers-status" hx-swap-oob="innerHTML">' in html
    else:
        assert "<h1>Numbers and configuration</h1>" in html
    assert stored(app, request_id) == []


def test_a_number_too_long_to_store_is_refused_with_its_line(owner_client, app, inventory):
    request_id = make_request(app)
    response = owner_client.post(
        url(request_id, "add"), data={"numbers": f"{PORTABLE}\n{'9' * 10_001}"}
    )
    assert "The number at line 2 is 10,001 characters long" in text_of(response)
    assert stored(app, request_id) == []


def test_adding_with_htmx_swaps_the_rows_and_announces_the_result(
    owner_client, app, inventory, htmx
):
    request_id = make_request(app)
    response = owner_client.post(
        url(request_id, "add"),
        data={"numbers": f"{PORTABLE}\n{FICTION}"},
        headers=htmx("numbers-rows"),
    )
    html = text_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="numbers-rows"')
    status = section(html, "numbers-status")
    assert "Added 2 numbers: 1 portable, 1 refused." in status
    # A fresh add card (the box emptied) and the step list with its checks come along.
    assert (
        '<section id="numbers-add" class="card numbers-add"' in html
        and 'hx-swap-oob="true"' in html
    )
    assert '<nav class="steps" id="wizard-steps"' in html
    assert 'hx-select-oob="#wizard-steps"' in html


@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_adding_only_refused_numbers_lists_them_and_no_table(
    owner_client, app, inventory, htmx, with_htmx
):
    request_id = make_request(app)
    headers = htmx("numbers-rows") if with_htmx else {}
    response = owner_client.post(
        url(request_id, "add"),
        data={"numbers": f"{FICTION}\n416 979 6000"},
        headers=headers,
        follow_redirects=True,
    )
    html = text_of(response)
    assert response.status_code == 200
    assert "Added 2 numbers: 0 portable, 2 refused." in html
    assert "Canadian: open a ticket" in section(html, "refused")
    assert 'id="numbers-config"' not in html


# Refused numbers -----------------------------------------------------------------------------


def test_one_click_removes_every_refused_number_and_renumbers_the_rest(
    owner_client, app, inventory
):
    request_id = make_request(
        app,
        [
            FICTION,
            {"phone_number": PORTABLE, "routing_id": 902, "tracking_source_id": 31},
            GLOBEX_TRACKING,
            PORTABLE,
            SECOND,
            "416 979 6000",
        ],
    )
    response = owner_client.post(url(request_id, "remove-refused"), data={"page": "1"})
    assert response.status_code == 302
    assert stored(app, request_id) == [
        (0, PORTABLE, 902, 31, None),
        (1, SECOND, None, None, None),
    ]
    html = text_of(owner_client.get(response.headers["Location"]))
    assert "Removed 4 refused numbers." in html
    assert 'id="refused"' not in html


# Configuring ---------------------------------------------------------------------------------


def test_saving_stores_each_rows_routing_source_and_name(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE, FICTION, SECOND])
    response = configure(
        owner_client,
        request_id,
        {0: (PORTABLE, 902, 31, "Main line"), 2: (SECOND, 903, 32, "  Fax  ")},
        save="1",
    )
    assert response.status_code == 302
    assert stored(app, request_id) == [
        (0, PORTABLE, 902, 31, "Main line"),
        (1, FICTION, None, None, None),
        (2, SECOND, 903, 32, "Fax"),
    ]
    page = owner_client.get(response.headers["Location"])
    assert "Saved the configuration: 2 numbers changed." in flashes(page)


@pytest.mark.parametrize(
    ("form", "expected", "message"),
    [
        (
            {"apply_routing_id": "902", "apply_to": "selected", "selected": ["0", "2"]},
            [(902, None), (None, None), (902, None)],
            "Applied routing Sales queue to 2 numbers.",
        ),
        (
            {"apply_tracking_source_id": "32", "apply_to": "selected", "selected": ["1"]},
            [(None, None), (None, 32), (None, None)],
            "Applied tracking source Yelp to 1 number.",
        ),
        (
            {"apply_routing_id": "903", "apply_tracking_source_id": "31", "apply_to": "all"},
            [(903, 31), (903, 31), (903, 31)],
            "Applied routing Voice menu and tracking source Google Ads to 3 numbers.",
        ),
    ],
    ids=["routing-to-selected", "source-to-selected", "both-to-all"],
)
def test_bulk_apply(owner_client, app, inventory, form, expected, message):
    numbers = [PORTABLE, SECOND, "(614) 322-1003"]
    request_id = make_request(app, numbers)
    rows = {i: (n, None, None, None) for i, n in enumerate(numbers)}
    response = configure(owner_client, request_id, rows, apply="1", **form)
    assert [row[2:4] for row in stored(app, request_id)] == expected
    assert message in flashes(owner_client.get(response.headers["Location"]))


def test_bulk_apply_to_all_reaches_numbers_on_other_pages(owner_client, app, inventory):
    numbers = [f"(614) 322-{1000 + i:04d}" for i in range(205)]
    request_id = make_request(app, numbers)
    configure(
        owner_client,
        request_id,
        {0: (numbers[0], None, None, "First")},
        apply="1",
        apply_routing_id="902",
        apply_to="all",
    )
    rows = stored(app, request_id)
    assert {row[2] for row in rows} == {902}
    assert rows[0][4] == "First"  # the page's own edits are saved too


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"apply_to": "all"}, "Choose a routing target or a tracking source to apply."),
        (
            {"apply_routing_id": "902", "apply_to": "selected"},
            "Select the numbers to apply it to, or choose every number in this request.",
        ),
    ],
)
def test_bulk_apply_says_what_is_missing(owner_client, app, inventory, form, message):
    request_id = make_request(app, [PORTABLE])
    response = configure(
        owner_client, request_id, {0: (PORTABLE, None, None, None)}, apply="1", **form
    )
    assert message in flashes(owner_client.get(response.headers["Location"]))
    assert stored(app, request_id) == [(0, PORTABLE, None, None, None)]


@pytest.mark.parametrize(
    ("rows", "form", "message"),
    [
        (
            {0: (PORTABLE, 951, 31, None)},
            {"save": "1"},
            "(614) 322-1001: routing target 951 is not one of this account's: it was left as "
            "it was.",
        ),
        (
            {0: (PORTABLE, 902, "61", None)},
            {"save": "1"},
            "(614) 322-1001: tracking source 61 is not one of this account's: it was left as "
            "it was.",
        ),
        (
            {0: (PORTABLE, None, None, None)},
            {"apply": "1", "apply_routing_id": "951", "apply_to": "all"},
            "Not applied: routing target 951 is not one of this account's.",
        ),
        (
            {0: (PORTABLE, "Front desk", 31, None)},
            {"save": "1"},
            "(614) 322-1001: routing target Front desk is not one of this account's: it was "
            "left as it was.",
        ),
    ],
    ids=["foreign-routing", "foreign-source", "foreign-applied", "a-name"],
)
def test_an_id_of_another_account_is_never_stored(
    owner_client, app, inventory, rows, form, message
):
    request_id = make_request(app, [PORTABLE])
    response = configure(owner_client, request_id, rows, **form)
    assert message in flashes(owner_client.get(response.headers["Location"]))
    routing, source = stored(app, request_id)[0][2:4]
    assert routing in (None, 902) and source in (None, 31)
    assert 951 not in (routing, source) and 61 not in (routing, source)


def test_a_row_that_changed_since_the_page_was_loaded_is_not_saved(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE, SECOND])
    response = configure(
        owner_client,
        request_id,
        {0: (FICTION, 902, 31, None), 1: (SECOND, 903, 32, None)},
        save="1",
    )
    assert [row[2:4] for row in stored(app, request_id)] == [(None, None), (903, 32)]
    messages = flashes(owner_client.get(response.headers["Location"]))
    assert (
        "1 row changed since this page was loaded and was not saved: check and save again."
        in messages
    )


def test_remove_selected_removes_only_those(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE, SECOND, "(614) 322-1003"])
    rows = {0: (PORTABLE, 902, None, None), 1: (SECOND, None, None, None)}
    configure(owner_client, request_id, rows, remove="1", selected=["1"])
    assert stored(app, request_id) == [
        (0, PORTABLE, 902, None, None),
        (1, "(614) 322-1003", None, None, None),
    ]


def test_a_nul_byte_and_a_long_name_never_break_the_save(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE, SECOND])
    configure(
        owner_client,
        request_id,
        {0: (PORTABLE, 902, 31, "Main\x00 line"), 1: (SECOND, 902, 31, "x" * 10_001)},
        save="1",
    )
    rows = stored(app, request_id)
    assert rows[0][4] == "Main line"
    assert rows[1][4] is None


# Keeping a receiving number ------------------------------------------------------------------


def test_a_receiving_number_kept_with_new_routings_counts_as_portable(owner_client, app, inventory):
    request_id = make_request(
        app, [{"phone_number": "312-263-0100", "routing_id": 902, "tracking_source_id": 31}]
    )
    page = text_of(owner_client.get(url(request_id)))
    refused = section(page, "refused")
    assert "Your receiving number" in refused
    keep_link = re.search(r'<a href="([^"]+)"[^>]*>Keep it and re-route</a>', refused)[1]

    panel = text_of(owner_client.get(keep_link))
    form = section(panel, "reroute-13122630100")
    for tracking in ("(312) 263-0111", "(312) 263-0112"):
        assert f"New routing for {tracking}" in form
    assert 'name="reroute[+13122630111]"' in form
    # Not the routing target that rings the receiving number itself.
    assert '<option value="901"' not in form and '<option value="902">' in form
    assert reroutes(app, request_id) == []

    response = owner_client.post(
        url(request_id, "reroute"),
        data={
            "receiving_number": RECEIVING,
            "reroute[+13122630111]": "902",
            "reroute[+13122630112]": "903",
            "keep": "1",
        },
    )
    assert response.status_code == 302
    assert reroutes(app, request_id) == [
        (RECEIVING, RINGING[0], 902),
        (RECEIVING, RINGING[1], 903),
    ]
    html = text_of(owner_client.get(response.headers["Location"]))
    assert "Kept (312) 263-0100: its 2 tracking numbers will ring their new routings" in html
    assert 'id="refused"' not in html
    assert "1 portable" in html
    assert "Kept: re-routed" in section(html, "number-0")
    step = re.search(r'aria-current="step">.*?</a>', html, re.S)[0]
    assert "(complete)" in step


def test_a_kept_receiving_number_missing_a_routing_needs_it(owner_client, app, inventory):
    request_id = make_request(app, ["312-263-0100"])
    response = owner_client.post(
        url(request_id, "reroute"),
        data={"receiving_number": RECEIVING, "reroute[+13122630111]": "902", "keep": "1"},
        follow_redirects=True,
    )
    html = text_of(response)
    assert reroutes(app, request_id) == [
        (RECEIVING, RINGING[0], 902),
        (RECEIVING, RINGING[1], None),
    ]
    assert "still need a new routing before it counts as portable" in html
    assert "Choose a new routing for every tracking number" in section(html, "number-0")
    assert "0 portable" in html


def test_a_routing_that_rings_the_receiving_number_itself_is_refused(owner_client, app, inventory):
    request_id = make_request(app, ["312-263-0100"])
    response = owner_client.post(
        url(request_id, "reroute"),
        data={
            "receiving_number": RECEIVING,
            "reroute[+13122630111]": "901",
            "reroute[+13122630112]": "951",
            "keep": "1",
        },
        follow_redirects=True,
    )
    messages = flashes(response)
    assert (
        "(312) 263-0111: routing target 901 rings (312) 263-0100 itself: choose another."
        in messages
    )
    assert (
        "(312) 263-0112: routing target 951 is not one of this account's: choose another."
        in messages
    )
    assert reroutes(app, request_id) == [
        (RECEIVING, RINGING[0], None),
        (RECEIVING, RINGING[1], None),
    ]


def test_a_receiving_number_nothing_rings_is_kept_by_one_row(owner_client, app, inventory):
    request_id = make_request(app, ["312-263-0300"])
    owner_client.post(url(request_id, "reroute"), data={"receiving_number": LONELY, "keep": "1"})
    assert reroutes(app, request_id) == [(LONELY, None, None)]
    html = text_of(owner_client.get(url(request_id)))
    assert "No tracking number rings it" in html
    assert "1 portable" in html


def test_only_a_receiving_number_of_the_request_can_be_kept(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE])
    response = owner_client.post(
        url(request_id, "reroute"),
        data={"receiving_number": RECEIVING, "keep": "1"},
        follow_redirects=True,
    )
    assert "That number is not an active receiving number of this request." in flashes(response)
    assert reroutes(app, request_id) == []


def test_undoing_a_keep_deletes_its_reroutes(owner_client, app, inventory):
    request_id = make_request(app, ["312-263-0100"])
    keep = {"receiving_number": RECEIVING, "reroute[+13122630111]": "902", "keep": "1"}
    owner_client.post(url(request_id, "reroute"), data=keep)
    assert len(reroutes(app, request_id)) == 2
    response = owner_client.post(
        url(request_id, "reroute"),
        data={"receiving_number": RECEIVING, "undo": "1"},
        follow_redirects=True,
    )
    assert reroutes(app, request_id) == []
    assert "(312) 263-0100 is no longer kept: it is listed with the refused numbers." in flashes(
        response
    )
    assert "Your receiving number" in section(text_of(response), "refused")


def test_removing_a_kept_number_removes_its_reroutes(owner_client, app, inventory):
    request_id = make_request(app, [PORTABLE, "312-263-0100", "312-263-0300"])
    for number in (RECEIVING, LONELY):
        owner_client.post(
            url(request_id, "reroute"), data={"receiving_number": number, "keep": "1"}
        )
    rows = {1: ("312-263-0100", None, None, None), 2: ("312-263-0300", None, None, None)}
    configure(owner_client, request_id, rows, remove="1", selected=["1"])
    assert [row[1] for row in stored(app, request_id)] == [PORTABLE, "312-263-0300"]
    assert reroutes(app, request_id) == [(LONELY, None, None)]


# Queries -------------------------------------------------------------------------------------


def _many(app, count):
    numbers = [f"(614) 322-{1000 + i:04d}" for i in range(count)]
    return make_request(app, numbers), numbers


def test_saving_takes_as_many_statements_for_1000_rows_as_for_10(
    app, owner_client, inventory, statements
):
    counts = []
    for count in (10, 1_000):
        request_id, numbers = _many(app, count)
        rows = {i: (n, 902, 31, f"Line {i}") for i, n in enumerate(numbers)}
        statements.clear()
        response = configure(owner_client, request_id, rows, save="1")
        assert response.status_code == 302
        counts.append(len(statements))
        assert {row[2:4] for row in stored(app, request_id)} == {(902, 31)}
    assert counts[0] == counts[1]


@pytest.mark.parametrize("action", ["render", "apply-to-all", "remove-refused"])
def test_rendering_and_bulk_changes_take_as_many_statements_for_1000_rows_as_for_10(
    app, owner_client, inventory, statements, action
):
    counts = []
    for count in (10, 1_000):
        request_id, numbers = _many(app, count)
        statements.clear()
        if action == "render":
            response = owner_client.get(url(request_id))
            assert response.status_code == 200
        elif action == "apply-to-all":
            data = {"apply": "1", "apply_routing_id": "902", "apply_to": "all"}
            assert owner_client.post(url(request_id, "configuration"), data=data).status_code == 302
        else:
            with app.app_context():
                PortNumber.update(phone_number=FICTION).where(
                    (PortNumber.port_request == request_id)
                    & PortNumber.position.in_(list(range(0, count, 2)))
                ).execute()
            statements.clear()
            assert owner_client.post(url(request_id, "remove-refused")).status_code == 302
            assert len(stored(app, request_id)) == count // 2
        counts.append(len(statements))
    assert counts[0] == counts[1]


# htmx and no JavaScript ----------------------------------------------------------------------

POSTS = {
    "configuration": {"save": "1"},
    "remove-refused": {},
    "reroute": {"receiving_number": RECEIVING, "keep": "1"},
}


@pytest.mark.parametrize("action", list(POSTS))
def test_a_plain_post_is_redirected_and_htmx_gets_the_rows_fragment(
    owner_client, app, inventory, htmx, action
):
    request_id = make_request(app, [PORTABLE, "312-263-0100"])
    plain = owner_client.post(url(request_id, action), data=POSTS[action])
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith(url(request_id))
    fragment = owner_client.post(
        url(request_id, action), data=POSTS[action], headers=htmx("numbers-rows")
    )
    html = text_of(fragment)
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="numbers-rows"')
    assert "<html" not in html
    assert '<div id="numbers-status" hx-swap-oob="innerHTML"><p class="flash' in html


# Who may change what -------------------------------------------------------------------------

ENDPOINTS = [
    ("get", ""),
    ("post", "check"),
    ("post", "add"),
    ("post", "configuration"),
    ("post", "remove-refused"),
    ("post", "reroute"),
]


@pytest.mark.parametrize(("method", "action"), ENDPOINTS)
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    owner_client, app, inventory, method, action
):
    theirs = make_request(app, [PORTABLE], account=5151)
    data = {"numbers": SECOND, "save": "1", "receiving_number": RECEIVING, "keep": "1"}
    answers = []
    for request_id in (theirs, theirs + 1000, 2**40):
        response = getattr(owner_client, method)(url(request_id, action), data=data)
        answers.append((response.status_code, "Page not found" in text_of(response)))
    assert answers == [(404, True)] * 3
    assert stored(app, theirs) == [(0, PORTABLE, None, None, None)]


@pytest.mark.parametrize(("method", "action"), ENDPOINTS)
def test_a_request_no_longer_a_draft_is_not_changed(owner_client, app, inventory, method, action):
    request_id = make_request(app, [PORTABLE, FICTION, "312-263-0100"], status="submitted")
    data = {
        "numbers": SECOND,
        "save": "1",
        "numbers[0].phone_number": PORTABLE,
        "numbers[0].routing_id": "902",
        "receiving_number": RECEIVING,
        "keep": "1",
    }
    response = getattr(owner_client, method)(url(request_id, action), data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{request_id}"
    assert stored(app, request_id) == [
        (0, PORTABLE, None, None, None),
        (1, FICTION, None, None, None),
        (2, "312-263-0100", None, None, None),
    ]
    assert reroutes(app, request_id) == []
    page = owner_client.get(response.headers["Location"])
    assert "This request is submitted: it can no longer be changed." in text_of(page)


def test_htmx_is_sent_to_the_requests_page_when_it_is_no_longer_a_draft(
    owner_client, app, inventory, htmx
):
    request_id = make_request(app, [PORTABLE], status="in_review")
    response = owner_client.post(url(request_id, "remove-refused"), headers=htmx("numbers-rows"))
    assert response.headers["HX-Redirect"] == f"/port-requests/{request_id}"


def test_only_owners_reach_the_step(client, staff_client, app, inventory):
    request_id = make_request(app, [PORTABLE])
    assert client.get(url(request_id)).status_code == 302
    assert staff_client.get(url(request_id)).status_code == 403
    assert staff_client.post(url(request_id, "remove-refused")).status_code == 403


# The rows without Flask -----------------------------------------------------------------------


def test_options_mark_the_stored_id_and_show_one_the_account_no_longer_has():
    choices = [RoutingTarget(id=40, name="Desk & co"), RoutingTarget(id=402, name="Sales")]
    options = number_rows.Options(choices, "Choose a routing target")
    assert str(options(None)).startswith('<option value="">Choose a routing target</option>')
    assert '<option value="40">Desk &amp; co (40)</option>' in options(402)
    assert '<option value="402" selected>Sales (402)</option>' in options(402)
    assert '<option value="40" selected>' in options(40) and 'value="402" selected' not in options(
        40
    )
    assert str(options(777)).startswith('<option value="777" selected>777 (not in this account)')


def test_posted_rows_keep_only_the_row_fields_by_their_paths():
    form = {
        "numbers[0].routing_id": "402",
        "numbers[12].friendly_name": "Fax",
        "numbers[1].position": "9",
        "numbers[999999].routing_id": "1",
        "numbers[x].routing_id": "1",
        "apply_routing_id": "402",
    }
    assert number_rows.posted_rows(form) == {0: {"routing_id": "402"}, 12: {"friendly_name": "Fax"}}


@pytest.mark.parametrize(
    ("text", "stored", "expected"),
    [
        ("", 402, (None, None)),
        (" 402 ", None, (402, None)),
        ("951", None, (None, "routing target 951 is not one of this account's")),
        ("951", 951, (951, None)),  # kept as it was: the rules name it unknown_routing_id
        ("٤٠٢", None, (None, "routing target ٤٠٢ is not one of this account's")),
        ("9" * 40, 402, (402, "routing target 99999999999999999... is not one of this account's")),
    ],
    ids=["blank", "own", "foreign", "unchanged", "arabic-digits", "huge"],
)
def test_read_id_takes_only_the_accounts_ids(text, stored, expected):
    assert number_rows.read_id(text, {402, 403}, stored, "routing target") == expected
