"""Signing in and out, the lock after repeated failures, where people land."""

from datetime import timedelta

import pytest

from portal import create_app
from portal.models import LoginThrottle, User, utcnow
from tests.conftest import OWNER_EMAIL, PASSWORD, STAFF_EMAIL, login, make_config


def test_login_page_has_labelled_fields(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'autocomplete="current-password"' in html


def test_owner_signs_in_and_lands_on_port_requests(client, owner):
    response = login(client, OWNER_EMAIL)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/", follow_redirects=True)
    html = home.get_data(as_text=True)
    assert "Port requests" in html
    assert "You haven't started a port request yet" in html
    assert "Signed in as Ann Owner." in html


def test_staff_signs_in_and_lands_on_the_queue(client, staff):
    login(client, STAFF_EMAIL)
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/queue/"
    html = home.get_data(as_text=True)
    assert "Nothing waiting" in html
    assert 'aria-current="page">Queue' in html


def test_email_is_matched_in_any_case(client, owner):
    assert login(client, "  Owner@ACME.test ").status_code == 302


def test_wrong_password_shows_a_message_and_does_not_sign_in(client, owner):
    response = login(client, OWNER_EMAIL, "wrong password")
    assert response.status_code == 200
    assert "That email and password do not match" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(client, owner):
    response = login(client, "nobody@acme.test", "whatever")
    assert "That email and password do not match" in response.get_data(as_text=True)


def test_empty_form_names_the_missing_fields(client):
    response = client.post("/login", data={"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("This field is required.") == 2
    assert 'aria-invalid="true"' in html


def test_repeated_failures_lock_the_email_even_for_the_right_password(app, client, owner):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, OWNER_EMAIL, "wrong")
    locking = login(client, OWNER_EMAIL, "wrong")
    assert "Too many failed sign-ins for this email" in locking.get_data(as_text=True)
    assert "try again in 15 minutes" in locking.get_data(as_text=True)

    refused = login(client, OWNER_EMAIL, PASSWORD)
    assert refused.status_code == 200
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_lock_ends_after_its_time(app, client, owner):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, OWNER_EMAIL, "wrong")
    with app.app_context():
        LoginThrottle.update(locked_until=utcnow() - timedelta(seconds=1)).execute()
    assert login(client, OWNER_EMAIL, PASSWORD).status_code == 302
    with app.app_context():
        assert LoginThrottle.select().count() == 0


def test_unknown_emails_are_locked_too(app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = login(client, "ghost@acme.test", "wrong")
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_old_failures_do_not_count_toward_a_lock(app, client, owner):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, OWNER_EMAIL, "wrong")
    with app.app_context():
        old = utcnow() - timedelta(seconds=app.config["LOGIN_LOCK_SECONDS"] + 60)
        LoginThrottle.update(window_started_at=old).execute()
    response = login(client, OWNER_EMAIL, "wrong")
    assert "That email and password do not match" in response.get_data(as_text=True)
    with app.app_context():
        assert LoginThrottle.get().failures == 1


def test_signing_in_starts_a_new_session(client, owner):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client, OWNER_EMAIL)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["user_id"] == owner.id


def test_session_cookie_is_httponly_and_samesite_lax(client, owner):
    response = login(client, OWNER_EMAIL)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_logout_ends_the_session(owner_client):
    response = owner_client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert owner_client.get("/port-requests/").status_code == 302


def test_logout_is_a_post_only(owner_client):
    assert owner_client.get("/logout").status_code == 405
    assert owner_client.get("/port-requests/").status_code == 200


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client, owner):
    response = client.get("/accounts/4242")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/accounts/4242"
    back = client.post(
        "/login", data={"email": OWNER_EMAIL, "password": PASSWORD, "next": "/accounts/4242"}
    )
    assert back.headers["Location"] == "/accounts/4242"


@pytest.mark.parametrize(
    "target", ["https://evil.test/", "//evil.test/", "/\\evil.test", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(client, owner, target):
    response = client.post(
        "/login", data={"email": OWNER_EMAIL, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == "/"


def test_inactive_user_cannot_sign_in(app, client, owner):
    with app.app_context():
        User.update(is_active=False).where(User.id == owner.id).execute()
    response = login(client, OWNER_EMAIL)
    assert response.status_code == 200
    assert "That email and password do not match" in response.get_data(as_text=True)


def test_user_without_a_password_cannot_sign_in(app, client, owner):
    with app.app_context():
        User.update(password_hash=None).where(User.id == owner.id).execute()
    assert login(client, OWNER_EMAIL, "").status_code == 200
    assert login(client, OWNER_EMAIL, "anything").status_code == 200


def test_post_without_csrf_token_is_refused(database_url, tmp_path, owner):
    app = create_app(make_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    response = login(client, OWNER_EMAIL)
    assert response.status_code == 400
    assert "This form had expired or was sent from another page" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_post_with_the_pages_csrf_token_signs_in(database_url, tmp_path, owner):
    app = create_app(make_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": OWNER_EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
