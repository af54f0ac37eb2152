"""Error answers in one place: a database that is down, a refused form, a 405, what is logged."""

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import create_app
from portal.models import ApiKey
from tests.conftest import OWNER_EMAIL, PASSWORD, make_config

API_URL = "/api/v1/portability-checks"
SIGNED_OUT = "You are signed out. Sign in to continue."


def unreachable_url(kind, tmp_path):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'portdesk.sqlite3'}"
    # Port 1 is closed: psycopg2 is refused at once, no server is needed.
    return "postgresql://portdesk@127.0.0.1:1/portdesk?connect_timeout=2"


@pytest.fixture(params=["sqlite", "postgresql"])
def down_client(request, tmp_path):
    """A client of an app whose database cannot be opened (nothing migrated at start)."""
    url = unreachable_url(request.param, tmp_path)
    app = create_app(make_config(url, tmp_path / "instance", AUTO_MIGRATE=False))
    return app.test_client()


def assert_json_error(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", API_URL, 405, "method_not_allowed"),
        ("DELETE", API_URL, 405, "method_not_allowed"),
        ("OPTIONS", API_URL, 405, "method_not_allowed"),
        ("GET", "/api/nope", 404, "not_found"),
    ],
)
def test_the_api_answers_json_while_the_database_is_down(down_client, method, path, status, code):
    assert_json_error(down_client.open(path, method=method), status, code)


def test_a_key_that_cannot_be_looked_up_is_503_json(down_client):
    response = down_client.post(
        API_URL, json={"numbers": []}, headers={"Authorization": "Bearer k"}
    )
    assert_json_error(response, 503, "database_unavailable")
    assert "try again" in response.get_json()["error"]["message"].lower()


def test_a_session_under_api_while_the_database_is_down_is_503_json(down_client):
    # The signed-in user is looked up before routing, for every URL.
    with down_client.session_transaction() as session:
        session["user_id"] = 1
    assert_json_error(down_client.get("/api/nope"), 503, "database_unavailable")


def test_pages_say_the_database_is_down_in_words(down_client):
    with down_client.session_transaction() as session:
        session["user_id"] = 1
    response = down_client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "PortDesk&#39;s database is busy or out of reach" in html
    assert "Try again in a minute" in html
    assert "Traceback" not in html


def test_the_sign_in_page_opens_while_the_database_is_down(down_client):
    response = down_client.get("/login")
    assert response.status_code == 200
    assert "Sign in" in response.get_data(as_text=True)


def test_a_database_failure_is_logged_once_with_the_request(down_client, caplog):
    with down_client.session_transaction() as session:
        session["user_id"] = 1
    with caplog.at_level(logging.ERROR):
        down_client.get("/port-requests/")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "GET /port-requests/" in errors[0].getMessage()


@pytest.fixture
def raising_app(database_url, tmp_path):
    app = create_app(make_config(database_url, tmp_path, PROPAGATE_EXCEPTIONS=False))

    @app.get("/boom")
    def boom():
        raise RuntimeError("the database caught fire")

    return app


def test_an_unhandled_exception_is_logged_once_with_method_and_path(raising_app, caplog):
    with caplog.at_level(logging.ERROR):
        response = raising_app.test_client().get("/boom")
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "/boom" in errors[0].getMessage()
    assert "GET" in errors[0].getMessage()
    assert "caught fire" in str(errors[0].exc_info[1])


def test_a_405_page_says_which_methods_are_allowed(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert "That action isn&#39;t available here" in response.get_data(as_text=True)


@pytest.fixture
def csrf_app(database_url, tmp_path):
    return create_app(make_config(database_url, tmp_path / "instance", WTF_CSRF_ENABLED=True))


def page_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


@pytest.fixture
def signed_in(csrf_app, owner):
    client = csrf_app.test_client()
    token = page_token(client)
    data = {"email": OWNER_EMAIL, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    return client


def test_a_refused_form_of_a_signed_in_owner_keeps_them_signed_in(signed_in):
    response = signed_in.post("/check/", data={"numbers": "212-736-5000"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form had expired or was sent from another page." in html
    assert "Ann Owner" in html
    assert ">Sign out</button>" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_a_413_for_a_signed_in_owner_keeps_them_signed_in(csrf_app, signed_in):
    csrf_app.config["MAX_CONTENT_LENGTH"] = 1024
    response = signed_in.post("/check/", data={"numbers": "2" * 4096})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "That upload is too large" in html
    assert "Ann Owner" in html
    assert response.headers["Cache-Control"] == "no-store"


def sign_in_target(location):
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query).get("next")


def test_typing_after_signing_out_elsewhere_sends_htmx_to_sign_in(csrf_app, htmx):
    client = csrf_app.test_client()
    headers = htmx("results") | {"HX-Current-URL": "http://localhost/check/?reason=refused"}
    response = client.post("/check/", data={"numbers": "212"}, headers=headers)
    assert response.status_code == 204
    assert sign_in_target(response.headers["HX-Redirect"]) == ("/login", ["/check/?reason=refused"])
    assert SIGNED_OUT in client.get("/login").get_data(as_text=True)


def test_a_page_on_another_site_is_not_where_sign_in_returns(csrf_app, htmx):
    headers = htmx() | {"HX-Current-URL": "https://evil.test/check/"}
    response = csrf_app.test_client().post("/check/", data={}, headers=headers)
    assert sign_in_target(response.headers["HX-Redirect"]) == ("/login", None)


def test_a_full_form_after_signing_out_goes_to_sign_in(csrf_app):
    client = csrf_app.test_client()
    headers = {"Referer": "http://localhost/check/"}
    response = client.post("/check/", data={"numbers": "212"}, headers=headers)
    assert response.status_code == 302
    assert sign_in_target(response.headers["Location"]) == ("/login", ["/check/"])
    assert SIGNED_OUT in client.get("/login").get_data(as_text=True)


def test_an_expired_sign_in_form_says_to_reload(csrf_app):
    response = csrf_app.test_client().post("/login", data={"email": "a@b.test", "password": "x"})
    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)


def test_csv_downloads_are_not_cached(owner_client):
    downloads = [
        owner_client.get("/check/template.csv"),
        owner_client.get("/check/reference.csv"),
        owner_client.post("/check/results.csv", data={"checked_numbers": "212-736-5000"}),
    ]
    for response in downloads:
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"


def test_api_answers_are_not_cached(app, client, accounts):
    with app.app_context():
        key = ApiKey.issue(accounts[0], name="tests")[1]
    answers = [
        client.post(
            API_URL, json={"numbers": ["212-736-5000"]}, headers={"Authorization": f"Bearer {key}"}
        ),
        client.post(API_URL, json={"numbers": []}),
        client.get("/api/nope"),
    ]
    assert [r.status_code for r in answers] == [200, 401, 404]
    for response in answers:
        assert response.headers["Cache-Control"] == "no-store"
