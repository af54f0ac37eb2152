"""Forgot your password?: one answer for every email, a link good for an hour and one use."""

import re
import threading
import time

import pytest
from itsdangerous.timed import TimestampSigner

from portal import mail, password_reset
from portal.models import OutboxEmail, User
from portal.password_reset import RESET_MAX_REQUESTS, fingerprint
from signing import tokens
from tests.conftest import OWNER_EMAIL, PASSWORD, login, without_csrf

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://localhost(/reset-password/[A-Za-z0-9_.\-]+)")


def reset_emails(app):
    with app.app_context():
        return list(
            OutboxEmail.select()
            .where(OutboxEmail.purpose == "password_reset")
            .order_by(OutboxEmail.id)
        )


def ask(client, email):
    return client.post("/forgot-password", data={"email": email})


def link_for(client, app, email=OWNER_EMAIL):
    """Ask for a reset link and return its path, as the email gives it."""
    assert ask(client, email).status_code == 302
    return LINK.search(reset_emails(app)[-1].text_body).group(1)


def user(app, email=OWNER_EMAIL):
    with app.app_context():
        return User.by_email(email)


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"new": password, "confirm": confirm or password})


def token_for(app, owner, **changes):
    with app.app_context():
        row = User.get_by_id(owner.id)
        for name, value in changes.items():
            setattr(row, name, value)
        secret = app.config["SECRET_KEY"]
        return tokens.make_password_reset(secret, row.id, fingerprint(row, secret))


def test_the_sign_in_page_offers_a_reset(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<a href="/forgot-password">Forgot your password?</a>' in html
    form = client.get("/forgot-password").get_data(as_text=True)
    assert '<label for="email">Email</label>' in form
    assert "Send me a link" in form


def test_a_known_email_gets_a_link_by_email(client, app, owner):
    response = ask(client, "  Owner@ACME.test ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/forgot-password"
    page = client.get("/forgot-password").get_data(as_text=True)
    assert "If owner@acme.test is the email of a PortDesk account, a link" in page
    (email,) = reset_emails(app)
    assert email.to_address == OWNER_EMAIL
    assert email.subject == "Choose a new PortDesk password"
    assert email.reference == f"user:{owner.id}"
    assert LINK.search(email.text_body)
    assert LINK.search(email.html_body)
    assert "works for 1 hour" in email.text_body


@pytest.mark.parametrize("who", ["unknown", "deactivated", "no password yet"])
def test_the_answer_is_the_same_whether_or_not_a_link_is_sent(app, owner, who):
    target = "nobody@acme.test"
    with app.app_context():
        if who == "deactivated":
            User.update(is_active=False).where(User.id == owner.id).execute()
            target = OWNER_EMAIL
        elif who == "no password yet":
            User.create(email=target, name="Nora New", role="owner", account=owner.account_id)
    known, unknown = app.test_client(), app.test_client()
    other = "owner2@acme.test"
    with app.app_context():
        User.create(email=other, name="Second", role="owner", account=owner.account_id)
        User.update(password_hash=user(app).password_hash).where(User.email == other).execute()

    sent = ask(known, other)
    not_sent = ask(unknown, target)

    assert (sent.status_code, sent.headers["Location"]) == (
        not_sent.status_code,
        not_sent.headers["Location"],
    )
    known_page = known.get("/forgot-password").get_data(as_text=True).replace(other, "EMAIL")
    unknown_page = unknown.get("/forgot-password").get_data(as_text=True).replace(target, "EMAIL")
    assert without_csrf(known_page) == without_csrf(unknown_page)
    assert [email.to_address for email in reset_emails(app)] == [other]


def test_requests_are_throttled_per_email_with_the_same_answer(client, app, owner):
    variants = [OWNER_EMAIL, "OWNER@acme.test", " owner@acme.test", "Owner@Acme.Test"]
    answers = [ask(client, email) for email in variants]

    assert {(a.status_code, a.headers["Location"]) for a in answers} == {(302, "/forgot-password")}
    assert len(reset_emails(app)) == RESET_MAX_REQUESTS
    # Another email has a count of its own, and sign-in is not locked by resets.
    with app.app_context():
        User.create(email="second@acme.test", name="Second", role="owner", account=owner.account_id)
        User.update(password_hash=user(app).password_hash).where(
            User.email == "second@acme.test"
        ).execute()
    ask(client, "second@acme.test")
    assert len(reset_emails(app)) == RESET_MAX_REQUESTS + 1
    assert login(app.test_client(), OWNER_EMAIL).status_code == 302


def test_requests_at_once_are_throttled_too(app, owner):
    count = 8
    barrier = threading.Barrier(count)
    statuses = []

    def asker():
        client = app.test_client()
        barrier.wait()
        statuses.append(ask(client, OWNER_EMAIL).status_code)

    threads = [threading.Thread(target=asker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * count
    assert len(reset_emails(app)) == RESET_MAX_REQUESTS


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter the email address you sign in with."),
        ("owner", "Enter an email address such as name@example.com."),
        ("owner\x00@acme.test", "Enter an email address such as name@example.com."),
        (
            "owner@acme.test\r\nBcc: eve@evil.test",
            "Enter an email address such as name@example.com.",
        ),
        ("x" * 250 + "@acme.test", "Enter an email address of at most 254 characters."),
        ("x" * 100_000, "Enter an email address of at most 254 characters."),
    ],
)
def test_what_is_not_an_email_is_told_so(client, app, owner, email, message):
    response = ask(client, email)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert reset_emails(app) == []


def test_the_link_from_a_real_email_sets_the_password_and_signs_in(app, owner, smtp_server):
    app.config.update(
        OUTBOX_SEND_AFTER_COMMIT=True, SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port
    )
    client = app.test_client()
    ask(client, OWNER_EMAIL)
    assert mail.wait_for_senders()
    (received,) = smtp_server.wait_for(1)
    path = LINK.search(received.get_body(("plain",)).get_content()).group(1)
    before = user(app)

    form = client.get(path)

    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    html = form.get_data(as_text=True)
    assert "Choose a new password" in html and f"For {OWNER_EMAIL}." in html
    assert f'action="{path}"' in html
    after_get = user(app)
    assert (after_get.password_hash, after_get.session_version) == (
        before.password_hash,
        before.session_version,
    )

    done = choose(client, path)

    assert done.status_code == 302 and done.headers["Location"] == "/"
    home = client.get("/port-requests/", follow_redirects=True).get_data(as_text=True)
    assert "Password changed. You are signed in as Ann Owner" in home
    assert login(app.test_client(), OWNER_EMAIL, PASSWORD).status_code == 200
    assert login(app.test_client(), OWNER_EMAIL, NEW_PASSWORD).status_code == 302


def test_every_other_session_is_signed_out(app, owner_client):
    path = link_for(app.test_client(), app)
    assert owner_client.get("/port-requests/").status_code == 200

    choose(app.test_client(), path)

    response = owner_client.get("/port-requests/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_link_works_once(client, app, owner):
    path = link_for(client, app)
    assert choose(client, path).status_code == 302

    for again in (app.test_client().get(path), choose(app.test_client(), path, "another one here")):
        assert again.status_code == 410
        html = again.get_data(as_text=True)
        assert "This link no longer works" in html
        assert "Send me a new link" in html
    assert login(app.test_client(), OWNER_EMAIL, NEW_PASSWORD).status_code == 302


def test_uses_of_one_link_at_once_set_one_password(app, owner, monkeypatch):
    path = link_for(app.test_client(), app)
    count = 8
    barrier = threading.Barrier(count, timeout=10)
    statuses = {}
    hash_password = password_reset.generate_password_hash

    def hash_once_all_have_read_the_link(password, method):
        # Every use has checked the link by now: only the database can tell them apart.
        barrier.wait()
        return hash_password(password, method=method)

    monkeypatch.setattr(password_reset, "generate_password_hash", hash_once_all_have_read_the_link)

    def use(password):
        statuses[password] = choose(app.test_client(), path, password).status_code

    passwords = [f"password number {n}" for n in range(count)]
    threads = [threading.Thread(target=use, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses.values()) == [302] + [410] * (count - 1)
    (winner,) = [p for p, status in statuses.items() if status == 302]
    assert user(app).check_password(winner)
    assert user(app).session_version == owner.session_version + 1


def test_a_link_dies_when_the_password_changes_another_way(app, owner_client):
    path = link_for(app.test_client(), app)
    owner_client.post(
        "/settings/password",
        data={"current": PASSWORD, "new": "changed in settings", "confirm": "changed in settings"},
    )

    response = app.test_client().get(path)

    assert response.status_code == 410
    assert "This link no longer works" in response.get_data(as_text=True)


def test_a_link_dies_when_the_user_signs_out_everywhere(app, owner_client):
    path = link_for(app.test_client(), app)
    owner_client.post("/logout")
    assert app.test_client().get(path).status_code == 410


def test_a_link_of_a_deactivated_user_does_not_work(client, app, owner):
    path = link_for(client, app)
    with app.app_context():
        User.update(is_active=False).where(User.id == owner.id).execute()
    assert client.get(path).status_code == 410
    assert choose(client, path).status_code == 410
    assert user(app).check_password(PASSWORD)


def test_an_expired_link_says_so(client, app, owner, monkeypatch):
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3601)
    token = token_for(app, owner)
    monkeypatch.undo()

    for response in (
        client.get(f"/reset-password/{token}"),
        choose(client, f"/reset-password/{token}"),
    ):
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert "This link has expired" in html
        assert "works for 1 hour" in html
        assert 'action="/forgot-password"' in html
    assert user(app).check_password(PASSWORD)


def test_a_link_just_inside_the_hour_works(client, app, owner, monkeypatch):
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3500)
    token = token_for(app, owner)
    monkeypatch.undo()
    assert client.get(f"/reset-password/{token}").status_code == 200


def tampered(token):
    body, _, signature = token.rpartition(".")
    swapped = "A" if signature[0] != "A" else "B"
    return f"{body}.{swapped}{signature[1:]}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda app, owner: tampered(token_for(app, owner)), id="tampered"),
        pytest.param(lambda app, owner: token_for(app, owner)[:-3], id="cut short"),
        pytest.param(
            lambda app, owner: tokens.make_signing_link(app.config["SECRET_KEY"], owner.id, 1),
            id="a signing link's token",
        ),
        pytest.param(
            lambda app, owner: tokens.make_password_reset("another key", owner.id, "x"),
            id="another key",
        ),
        pytest.param(lambda app, owner: "x" * 10_000, id="huge"),
        pytest.param(lambda app, owner: token_for(app, owner) + "%00", id="NUL"),
        pytest.param(lambda app, owner: "%C3%A9t%C3%A9", id="not ascii"),
    ],
)
def test_a_link_that_is_not_one_is_a_404(client, app, owner, make):
    token = make(app, owner)

    for response in (
        client.get(f"/reset-password/{token}"),
        choose(client, f"/reset-password/{token}"),
    ):
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "This is not a password reset link" in html
        assert "Send me a new link" in html
    assert user(app).check_password(PASSWORD)


def test_a_link_for_the_old_password_is_refused_even_if_well_signed(client, app, owner):
    token = token_for(app, owner, password_hash="an older hash")
    assert client.get(f"/reset-password/{token}").status_code == 410


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters (and at most 1,024)."),
        ("x" * 1025, "x" * 1025, "Use at least 10 characters (and at most 1,024)."),
        (NEW_PASSWORD, "something else", "The two new passwords differ"),
        ("", "", "Enter a new password."),
    ],
)
def test_the_new_password_follows_the_settings_rules(client, app, owner, new, confirm, message):
    path = link_for(client, app)

    response = choose(client, path, new, confirm)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert user(app).check_password(PASSWORD)
    # The link still works after a refused form.
    assert choose(client, path).status_code == 302


def test_a_password_with_a_nul_is_kept_as_typed(client, app, owner):
    path = link_for(client, app)
    assert choose(client, path, "nul\x00inside-it").status_code == 302
    assert user(app).check_password("nul\x00inside-it")
    assert not user(app).check_password("nulinside-it")


def test_a_form_sent_without_its_csrf_token_is_asked_again(client, app, owner):
    path = link_for(client, app)
    app.config["WTF_CSRF_ENABLED"] = True

    for url, data in (("/forgot-password", {"email": OWNER_EMAIL}), (path, {"new": NEW_PASSWORD})):
        refused = client.post(url, data=data)
        assert refused.status_code == 302 and refused.headers["Location"] == url
        assert "This form had expired" in client.get(url).get_data(as_text=True)
    assert len(reset_emails(app)) == 1
    assert user(app).check_password(PASSWORD)
