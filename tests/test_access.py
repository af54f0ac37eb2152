"""Who sees what: owners their own account, staff every account."""

import pytest

from portal.models import RoutingTarget, TrackingNumber, TrackingSource


@pytest.fixture
def inventory(app, accounts):
    acme, globex = accounts
    with app.app_context():
        TrackingSource.create(id=501, account=acme, name="Google Ads")
        RoutingTarget.create(
            id=901, account=acme, name="Front desk", kind="receiving_number", number="+13122630100"
        )
        TrackingNumber.create(
            number="+13122630111", account=acme, tracking_source=501, routing_target=901
        )
        RoutingTarget.create(id=951, account=globex, name="Service desk", kind="call_queue")
    return accounts


def test_owner_sees_their_accounts_inventory(owner_client, inventory):
    page = owner_client.get("/accounts/4242")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Acme Dental" in html
    # Each cell names its column, so on a phone the row reads as a card.
    assert (
        '<td data-label="Routing ID">901</td><td data-label="Name">Front desk</td>'
        '<td data-label="Kind">receiving number</td><td data-label="Rings">(312) 263-0100</td>'
    ) in html
    assert "(312) 263-0111" in html
    assert "Google Ads (501)" in html


def test_owner_asking_for_another_account_gets_404(owner_client, inventory):
    response = owner_client.get("/accounts/5151")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert "Globex" not in html
    assert "Service desk" not in html


def test_owner_asking_for_an_account_that_does_not_exist_gets_the_same_404(owner_client):
    assert owner_client.get("/accounts/999999").status_code == 404


def test_owners_account_list_is_their_own_account(owner_client, inventory):
    response = owner_client.get("/accounts/")
    assert response.headers["Location"] == "/accounts/4242"


def test_staff_see_every_account(staff_client, inventory):
    listing = staff_client.get("/accounts/").get_data(as_text=True)
    assert "Acme Dental" in listing
    assert "Globex Plumbing" in listing
    assert staff_client.get("/accounts/5151").status_code == 200
    assert "Service desk" in staff_client.get("/accounts/5151").get_data(as_text=True)


def test_owner_cannot_open_the_staff_queue(owner_client):
    # staff_only: the console answers an owner as if it were not there.
    response = owner_client.get("/queue/")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_staff_have_no_owner_request_list(staff_client):
    assert staff_client.get("/port-requests/").status_code == 403


def test_navigation_follows_the_role(owner_client, staff_client):
    owner_nav = owner_client.get("/port-requests/").get_data(as_text=True)
    staff_nav = staff_client.get("/queue/").get_data(as_text=True)
    assert 'href="/port-requests/" aria-current="page">Port requests' in owner_nav
    assert 'href="/queue/"' not in owner_nav
    assert 'href="/queue/" aria-current="page">Queue' in staff_nav
    assert 'href="/port-requests/"' not in staff_nav


def test_tracking_numbers_are_paged(owner_client, app, accounts):
    acme = accounts[0]
    with app.app_context():
        TrackingNumber.insert_many(
            [{"number": f"+1312263{n:04d}", "account": acme} for n in range(2000, 2150)]
        ).execute()
    first = owner_client.get("/accounts/4242").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "(312) 263-2099" in first
    assert "(312) 263-2100" not in first
    second = owner_client.get("/accounts/4242?page=2").get_data(as_text=True)
    assert "(312) 263-2100" in second
    assert owner_client.get("/accounts/4242?page=99").status_code == 200


def test_htmx_pager_gets_only_the_tracking_numbers(owner_client, app, accounts, htmx):
    with app.app_context():
        TrackingNumber.insert_many(
            [{"number": f"+1312263{n:04d}", "account": accounts[0]} for n in range(2000, 2150)]
        ).execute()
    page = owner_client.get("/accounts/4242")
    assert 'hx-get="/accounts/4242?page=2" hx-target="#tracking-numbers"' in page.get_data(
        as_text=True
    )
    fragment = owner_client.get("/accounts/4242?page=2", headers=htmx("tracking-numbers"))
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card" id="tracking-numbers"')
    assert "(312) 263-2100" in html
    assert "<html" not in html
    assert "Routing targets" not in html
    assert "HX-Request" in fragment.headers["Vary"]


def test_boosted_and_history_restore_requests_get_the_full_page(owner_client, accounts):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        html = owner_client.get("/accounts/4242", headers={"HX-Request": "true", **extra})
        assert "<html" in html.get_data(as_text=True)
