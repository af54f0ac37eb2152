"""Sessions end: on sign-out, a password change and deactivation, every copy of the cookie dies;
htmx requests from a page whose session has ended are sent to sign in as a whole page."""

import io

import pytest

from portal.models import NumberUpload, User
from tests.conftest import OWNER_EMAIL, PASSWORD, login

SIGNED_OUT = "You are signed out. Sign in to continue."


def copy_of(app, client):
    """Another browser holding a copy of this client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def assert_sent_to_sign_in(client):
    page = client.get("/check/")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/check/"
    sent = client.post("/check/", data={"numbers": "2127365000"})
    assert sent.status_code == 302
    assert sent.headers["Location"].startswith("/login?next=/check/")


def test_a_copied_cookie_works_while_the_session_lives(app, owner_client):
    assert copy_of(app, owner_client).get("/check/").status_code == 200


def test_sign_out_ends_every_copy_of_the_session(app, owner_client):
    copied = copy_of(app, owner_client)
    owner_client.post("/logout")
    assert_sent_to_sign_in(copied)


def test_sign_out_ends_the_users_sessions_in_other_browsers(app, owner_client):
    elsewhere = app.test_client()
    login(elsewhere, OWNER_EMAIL)
    owner_client.post("/logout")
    assert_sent_to_sign_in(elsewhere)


def test_signing_in_again_does_not_end_other_sessions(app, owner_client):
    login(app.test_client(), OWNER_EMAIL)
    assert owner_client.get("/check/").status_code == 200


def test_set_password_ends_every_session(app, runner, owner_client):
    copied = copy_of(app, owner_client)
    result = runner.invoke(args=["user", "set-password", OWNER_EMAIL, "--generate-password"])
    assert result.exit_code == 0, result.output
    assert "Every session signed in before has ended." in result.output
    assert_sent_to_sign_in(owner_client)
    assert_sent_to_sign_in(copied)
    new_password = result.output.split("Password (shown once): ")[1].split()[0]
    assert login(app.test_client(), OWNER_EMAIL, new_password).status_code == 302


def test_deactivate_ends_every_session_and_refuses_sign_in(app, runner, owner_client):
    copied = copy_of(app, owner_client)
    result = runner.invoke(args=["user", "deactivate", "Owner@Acme.test"])
    assert result.exit_code == 0, result.output
    assert "Deactivated owner@acme.test: they are signed out and cannot sign in." in result.output
    assert_sent_to_sign_in(copied)
    assert login(app.test_client(), OWNER_EMAIL).status_code == 200


def test_activate_lets_them_sign_in_but_old_sessions_stay_ended(app, runner, owner_client):
    copied = copy_of(app, owner_client)
    runner.invoke(args=["user", "deactivate", OWNER_EMAIL])
    result = runner.invoke(args=["user", "activate", OWNER_EMAIL])
    assert result.exit_code == 0, result.output
    assert "Activated owner@acme.test: they can sign in again." in result.output
    with app.app_context():
        assert User.by_email(OWNER_EMAIL).is_active
    assert_sent_to_sign_in(copied)
    assert login(app.test_client(), OWNER_EMAIL).status_code == 302


@pytest.mark.parametrize("command", ["deactivate", "activate", "set-password"])
def test_user_commands_name_an_unknown_email(runner, command, accounts):
    result = runner.invoke(args=["user", command, "Nobody@acme.test"])
    assert result.exit_code == 1
    assert "No user with email nobody@acme.test." in result.output


def test_a_session_from_before_versions_is_signed_out(app, owner, client):
    with client.session_transaction() as session:
        session["user_id"] = owner.id
    assert client.get("/check/").status_code == 302


def test_the_user_is_loaded_in_one_query(app, owner_client, statements):
    owner_client.get("/port-requests/")
    user_queries = [sql for sql in statements if 'FROM "users"' in sql]
    assert len(user_queries) == 1
    assert '"session_version" = ' in user_queries[0]


def test_htmx_after_the_session_ended_redirects_the_whole_page(app, owner_client, htmx):
    copy_of(app, owner_client).post("/logout")
    response = owner_client.post(
        "/check/",
        data={"numbers": "2127365000"},
        headers={**htmx("check-results"), "HX-Current-URL": "http://localhost/check/?x=1"},
    )
    assert response.status_code == 204
    assert response.get_data() == b""
    assert response.headers["HX-Redirect"] == "/login?next=/check/?x%3D1"
    page = owner_client.get(response.headers["HX-Redirect"])
    html = page.get_data(as_text=True)
    assert SIGNED_OUT in html
    assert 'name="next" type="hidden" value="/check/?x=1"' in html
    back = owner_client.post(
        "/login", data={"email": OWNER_EMAIL, "password": PASSWORD, "next": "/check/?x=1"}
    )
    assert back.headers["Location"] == "/check/?x=1"


@pytest.mark.parametrize(
    "current",
    ["https://evil.test/check/", "http://localhost/%0Afoo", "javascript:alert(1)", None],
)
def test_htmx_redirect_goes_back_only_to_a_page_of_this_site(client, owner, htmx, current):
    headers = htmx("check-results")
    if current:
        headers["HX-Current-URL"] = current
    response = client.get("/check/?numbers=1", headers=headers)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login?next=/check/?numbers%3D1"


def test_a_full_page_request_still_gets_a_redirect(client, owner):
    response = client.get("/check/")
    assert response.status_code == 302
    assert "HX-Redirect" not in response.headers


def test_an_upload_name_with_a_nul_is_stored_without_it(app, owner_client):
    csv_file = (io.BytesIO(b"phone_number\n2127365000\n"), "a\x00b.csv")
    response = owner_client.post("/check/", data={"csv_file": csv_file})
    assert response.status_code == 200
    with app.app_context():
        assert [upload.filename for upload in NumberUpload.select()] == ["ab.csv"]
