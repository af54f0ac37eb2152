"""Signing in and out, the lock after repeated failures, where people land."""

import threading
import time
from datetime import timedelta

import pytest

from portal import auth, create_app
from portal.models import LoginThrottle, User, utcnow
from tests.conftest import OWNER_EMAIL, PASSWORD, STAFF_EMAIL, login, make_config

MISMATCH = "That email and password do not match."
LOCKED = "Too many failed sign-ins for this email"


@pytest.fixture
def hash_checks(monkeypatch):
    """Every password hash checked from now on, as (hash method, password), from any thread."""
    seen, lock = [], threading.Lock()
    real = auth.check_password_hash

    def counting(pwhash, password):
        with lock:
            seen.append((pwhash.split("$")[0], password))
        # A real scrypt check takes about 100 ms: pausing keeps tries that arrive together
        # overlapping, as they do in production, rather than finishing one by one.
        time.sleep(0.02)
        return real(pwhash, password)

    # Both modules that may check a password: a check moved from one to the other still counts.
    monkeypatch.setattr(auth, "check_password_hash", counting)
    monkeypatch.setattr("portal.models.accounts.check_password_hash", counting)
    return seen


def sign_in_together(app, passwords, email=OWNER_EMAIL):
    """Send the sign-ins all at once, one browser each; return their answers in order."""
    start = threading.Barrier(len(passwords))
    answers, errors = [None] * len(passwords), []

    def attempt(index, password):
        client = app.test_client()
        try:
            start.wait()
            response = login(client, email, password)
            answers[index] = (response.status_code, response.get_data(as_text=True))
        except Exception as error:  # noqa: BLE001 - reported below, the thread must not die quietly
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=item) for item in enumerate(passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return answers


def test_login_page_has_labelled_fields(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    assert "autofocus" not in html


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
    assert f"{MISMATCH} Check them and try again." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(client, owner):
    response = login(client, "nobody@acme.test", "whatever")
    assert f"{MISMATCH} Check them and try again." in response.get_data(as_text=True)


def test_empty_form_says_what_to_enter_and_focuses_the_email(client):
    response = client.post("/login", data={"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<p class="field__error" id="email-error">Enter your email address.</p>' in html
    assert '<p class="field__error" id="password-error">Enter your password.</p>' in html
    assert "This field is required." not in html
    assert html.count('aria-invalid="true"') == 2
    assert html.count("autofocus") == 1
    assert 'autofocus id="email"' in html


def test_empty_password_says_so_and_focuses_the_password(client, owner, hash_checks):
    response = login(client, OWNER_EMAIL, "")
    html = response.get_data(as_text=True)
    assert '<p class="field__error" id="password-error">Enter your password.</p>' in html
    assert 'value="owner@acme.test"' in html
    assert html.count("autofocus") == 1
    assert 'autofocus id="password"' in html
    # The form stops it: no try is counted and no password is checked.
    assert hash_checks == []
    assert client.get("/").status_code == 302


def test_a_failed_sign_in_moves_focus_to_the_problem(client, owner):
    html = login(client, OWNER_EMAIL, "wrong").get_data(as_text=True)
    assert html.count("autofocus") == 1
    assert (
        '<div class="form-problems" role="alert" id="login-problems" tabindex="-1" autofocus>'
        in (html)
    )


@pytest.mark.parametrize("email", [OWNER_EMAIL, "nobody@acme.test"])
def test_failures_say_how_many_tries_are_left_from_the_third(app, client, owner, email):
    """The same words whether or not the account exists."""
    answers = [login(client, email, "wrong").get_data(as_text=True) for _ in range(5)]
    for html in answers[:2]:
        assert f"{MISMATCH} Check them and try again." in html
    assert f"{MISMATCH} 2 tries left before this email is locked for 15 minutes." in answers[2]
    assert f"{MISMATCH} 1 try left before this email is locked for 15 minutes." in answers[3]
    assert f"{LOCKED}. For your security it is locked: try again in 15 minutes." in answers[4]


def test_repeated_failures_lock_the_email_even_for_the_right_password(
    app, client, owner, hash_checks
):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, OWNER_EMAIL, "wrong")
    assert len(hash_checks) == 5

    refused = login(client, OWNER_EMAIL, PASSWORD)
    assert refused.status_code == 200
    assert LOCKED in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # Refused without looking at the password.
    assert len(hash_checks) == 5


def test_lock_ends_after_its_time(app, client, owner):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, OWNER_EMAIL, "wrong")
    with app.app_context():
        ended = utcnow() - timedelta(seconds=app.config["LOGIN_LOCK_SECONDS"] + 1)
        LoginThrottle.update(window_started_at=ended).execute()
    assert login(client, OWNER_EMAIL, PASSWORD).status_code == 302
    with app.app_context():
        assert LoginThrottle.get().failures == 0


def test_unknown_emails_are_locked_too(app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = login(client, "ghost@acme.test", "wrong")
    assert LOCKED in response.get_data(as_text=True)


def test_old_failures_do_not_count_toward_a_lock(app, client, owner):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, OWNER_EMAIL, "wrong")
    with app.app_context():
        old = utcnow() - timedelta(seconds=app.config["LOGIN_LOCK_SECONDS"] + 60)
        LoginThrottle.update(window_started_at=old).execute()
    response = login(client, OWNER_EMAIL, "wrong")
    assert f"{MISMATCH} Check them and try again." in response.get_data(as_text=True)
    with app.app_context():
        assert LoginThrottle.get().failures == 1


def test_signing_in_often_never_locks_and_keeps_earlier_failures(app, owner):
    """A success gives back its own try only: the wrong passwords before it still count."""
    client = app.test_client()
    login(client, OWNER_EMAIL, "wrong")
    login(client, OWNER_EMAIL, "wrong")
    for _ in range(8):
        assert login(app.test_client(), OWNER_EMAIL).status_code == 302
    with app.app_context():
        assert LoginThrottle.get().failures == 2


def test_thirty_wrong_passwords_at_once_get_five_checks(app, owner, hash_checks):
    answers = sign_in_together(app, ["wrong"] * 30)
    assert len(hash_checks) == 5
    assert all(status == 200 for status, _ in answers)
    assert sum(LOCKED in html for _, html in answers) == 26
    assert sum(MISMATCH in html for _, html in answers) == 4


def test_the_right_password_among_thirty_wrong_ones_never_opens_a_sixth_check(
    app, client, owner, hash_checks
):
    answers = sign_in_together(app, ["wrong"] * 15 + [PASSWORD] + ["wrong"] * 15)
    wrong_checks = [password for _, password in hash_checks if password == "wrong"]
    # It may come among the first five and sign in; it never lets a sixth wrong one be checked.
    assert len(wrong_checks) <= 5
    assert len(hash_checks) <= 6
    assert sum(status == 302 for status, _ in answers) == (answers[15][0] == 302)
    # Sent after them, once the email is locked: refused, and not even checked.
    checks_before = len(hash_checks)
    after = login(client, OWNER_EMAIL, PASSWORD)
    assert LOCKED in after.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert len(hash_checks) == checks_before


def test_the_right_password_among_thirty_at_once_on_a_locked_email_is_refused(
    app, owner, hash_checks
):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(app.test_client(), OWNER_EMAIL, "wrong")
    del hash_checks[:]
    answers = sign_in_together(app, ["wrong"] * 15 + [PASSWORD] + ["wrong"] * 15)
    assert hash_checks == []
    assert all(status == 200 and LOCKED in html for status, html in answers)


@pytest.mark.parametrize(
    "path",
    [
        "active user, right password",
        "active user, wrong password",
        "unknown email",
        "deactivated user, wrong password",
        "deactivated user, right password",
        "user without a password",
    ],
)
def test_every_path_checks_exactly_one_hash_of_the_same_kind(app, client, owner, path, hash_checks):
    """The same work on every path, so the time taken tells nothing."""
    email, password = OWNER_EMAIL, PASSWORD if path.endswith("right password") else "wrong"
    with app.app_context():
        if path.startswith("deactivated"):
            User.update(is_active=False).execute()
        if path == "user without a password":
            User.update(password_hash=None).execute()
    if path == "unknown email":
        email = "nobody@acme.test"
    response = login(client, email, password)
    assert (response.status_code == 302) == (path == "active user, right password")
    assert hash_checks == [(app.config["PASSWORD_HASH_METHOD"], password)]


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
    "target",
    [
        "https://evil.test/",
        "//evil.test/",
        "/\\evil.test",
        "javascript:alert(1)",
        "/" + "a" * 2_000,
    ],
)
def test_next_never_leaves_the_site(client, owner, target):
    response = client.post(
        "/login", data={"email": OWNER_EMAIL, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "query", ["/%0Afoo", "/%0D%0Afoo", "/%0D", "/a%09b", "/%00", "/%7F", "/%E2%80%A8", "/%5Cfoo"]
)
def test_next_with_a_control_character_lands_home_signed_in(client, owner, query):
    response = client.post(
        f"/login?next={query}", data={"email": OWNER_EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/port-requests/").status_code == 200


def test_next_from_the_sign_in_page_keeps_its_query(client, owner):
    response = client.post(
        "/login?next=/check/%3Fq%3D1", data={"email": OWNER_EMAIL, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/check/?q=1"


def test_an_email_longer_once_lower_cased_is_refused_by_the_form(app, client, hash_checks):
    # 'İ' lower-cases to two characters: 200 of them fit the form's 254 but not the column.
    email = "\u0130" * 200 + "@x.test"
    response = login(client, email, "whatever")
    assert response.status_code == 200
    assert "Enter an email address of at most 254 characters." in response.get_data(as_text=True)
    assert hash_checks == []
    with app.app_context():
        assert LoginThrottle.select().count() == 0


@pytest.mark.parametrize("password, signed_in", [(PASSWORD, True), ("wrong", False)])
def test_a_nul_in_the_email_is_dropped_not_a_500(app, client, owner, password, signed_in):
    response = login(client, OWNER_EMAIL + "\x00", password)
    assert response.status_code == (302 if signed_in else 200)
    if not signed_in:
        assert f"{MISMATCH} Check them and try again." in response.get_data(as_text=True)
    with app.app_context():
        rows = [(row.email, row.failures) for row in LoginThrottle.select()]
        assert rows == [(OWNER_EMAIL, 0 if signed_in else 1)]


def test_inactive_user_cannot_sign_in(app, client, owner):
    with app.app_context():
        User.update(is_active=False).where(User.id == owner.id).execute()
    response = login(client, OWNER_EMAIL)
    assert response.status_code == 200
    assert f"{MISMATCH} Check them and try again." in response.get_data(as_text=True)


@pytest.mark.parametrize("password", ["anything", "not a password anyone has"])
def test_user_without_a_password_cannot_sign_in(app, client, owner, password):
    """Not with any password, the one behind the decoy hash included."""
    with app.app_context():
        User.update(password_hash=None).where(User.id == owner.id).execute()
    response = login(client, OWNER_EMAIL, password)
    assert response.status_code == 200
    assert f"{MISMATCH} Check them and try again." in response.get_data(as_text=True)
    assert client.get("/port-requests/").status_code == 302


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
