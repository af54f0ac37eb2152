"""Settings: changing your own password ends your other sessions; owners manage API keys."""

import re

import pytest

from portal.models import ApiKey, LoginThrottle, User
from tests.conftest import OTHER_OWNER_EMAIL, OWNER_EMAIL, PASSWORD, STAFF_EMAIL, login

NEW_PASSWORD = "a brand new passphrase"
API_URL = "/api/v1/portability-checks"


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    data = {"current": current, "new": new, "confirm": new if confirm is None else confirm}
    return client.post("/settings/password", data=data)


def create_key(client, name="CRM sync"):
    return client.post("/settings/api-keys", data={"key-name": name})


def shown_key(response):
    return re.search(r'id="new-key"[^>]*value="(pd_[^"]+)"', response.get_data(as_text=True))[1]


def call_api(client, key):
    return client.post(API_URL, json={"numbers": []}, headers={"Authorization": f"Bearer {key}"})


def test_the_page_has_labelled_forms_and_is_in_the_navigation(owner_client):
    html = owner_client.get("/settings/").get_data(as_text=True)
    assert '<a class="sign-out__who" href="/settings/" aria-current="page">Ann Owner' in html
    for label in ("Current password", "New password", "New password again", "Name"):
        assert f">{label}</label>" in html
    assert "This account has no API keys yet." in html


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, owner_client):
    elsewhere = app.test_client()
    login(elsewhere, OWNER_EMAIL)
    response = change(owner_client)
    assert response.status_code == 302
    page = owner_client.get("/settings/")
    assert page.status_code == 200
    assert "Password changed. Every other session of yours has been signed out." in page.get_data(
        as_text=True
    )
    assert elsewhere.get("/check/").status_code == 302
    fresh = app.test_client()
    assert login(fresh, OWNER_EMAIL, PASSWORD).status_code == 200
    assert login(fresh, OWNER_EMAIL, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not it", NEW_PASSWORD, None, "That is not your current password."),
        ("", NEW_PASSWORD, None, "Enter your current password."),
        (PASSWORD, "short", None, "Use at least 10 characters (and at most 1,024)."),
        (PASSWORD, NEW_PASSWORD, "something else", "The two new passwords differ"),
        (PASSWORD, "", "", "Enter a new password."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    app, owner_client, current, new, confirm, message
):
    response = change(owner_client, current, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert User.by_email(OWNER_EMAIL).check_password(PASSWORD)
    assert owner_client.get("/check/").status_code == 200


def test_guessing_the_current_password_counts_against_the_sign_in_lock(app, owner_client):
    for _ in range(5):
        change(owner_client, current="a wrong guess")
    response = change(owner_client, current=PASSWORD)
    assert "Too many failed sign-ins for this email" in response.get_data(as_text=True)
    with app.app_context():
        assert User.by_email(OWNER_EMAIL).check_password(PASSWORD)
        assert LoginThrottle.get().failures >= 5


def test_an_owner_creates_a_key_seen_once_that_the_api_accepts(app, owner_client, client):
    response = create_key(owner_client)
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert "it is shown only this once" in html
    key = shown_key(response)
    assert call_api(client, key).status_code == 200
    page = owner_client.get("/settings/").get_data(as_text=True)
    assert key not in page
    assert "CRM sync" in page and f"<code>{key[:10]}…</code>" in page
    with app.app_context():
        [row] = ApiKey.select()
        assert row.account_id == 4242 and key not in row.key_hash


def test_a_key_needs_a_name(owner_client):
    response = create_key(owner_client, name="  ")
    assert response.status_code == 400
    assert "Name the key after what will use it" in response.get_data(as_text=True)


def test_a_revoked_key_stops_working(app, owner_client, client):
    key = shown_key(create_key(owner_client))
    with app.app_context():
        key_id = ApiKey.get().id
    response = owner_client.post(f"/settings/api-keys/{key_id}/revoke")
    assert response.status_code == 302
    assert call_api(client, key).status_code == 401
    assert "Revoked" in owner_client.get("/settings/").get_data(as_text=True)


def test_another_accounts_key_is_not_found_and_stays_live(app, owner_client, other_owner, client):
    other = app.test_client()
    login(other, OTHER_OWNER_EMAIL)
    key = shown_key(create_key(other, "Globex CRM"))
    with app.app_context():
        key_id = ApiKey.get().id
    assert owner_client.post(f"/settings/api-keys/{key_id}/revoke").status_code == 404
    assert "Globex CRM" not in owner_client.get("/settings/").get_data(as_text=True)
    assert call_api(client, key).status_code == 200


def test_staff_change_their_password_but_have_no_keys(app, staff_client):
    html = staff_client.get("/settings/").get_data(as_text=True)
    assert "Change your password" in html
    assert "API keys" not in html
    assert create_key(staff_client).status_code == 403
    assert change(staff_client).status_code == 302
    with app.app_context():
        assert User.by_email(STAFF_EMAIL).check_password(NEW_PASSWORD)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/settings/").status_code == 302
    assert change(client).status_code == 302
