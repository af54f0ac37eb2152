"""The JSON API: the portability check by API key, and JSON for every answer under /api/."""

import io
import json
from datetime import timedelta

import pytest

from portal import create_app
from portal.models import ApiKey, ReceivingNumber, TrackingNumber, utcnow
from tests.conftest import make_config

URL = "/api/v1/portability-checks"


@pytest.fixture
def inventory(app, accounts):
    """Acme's receiving number, and a tracking number that belongs to Globex."""
    acme, globex = accounts
    with app.app_context():
        ReceivingNumber.create(account=acme, number="+13122630200", name="Front desk")
        TrackingNumber.create(account=globex, number="+13122630101")


def issue_key(app, account):
    with app.app_context():
        return ApiKey.issue(account, name="tests")[1]


@pytest.fixture
def acme_key(app, accounts):
    return issue_key(app, accounts[0])


@pytest.fixture
def globex_key(app, accounts):
    return issue_key(app, accounts[1])


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def check(client, key, numbers):
    return client.post(URL, json={"numbers": numbers}, headers=bearer(key))


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


def test_results_in_input_order_with_a_summary(client, inventory, acme_key):
    numbers = ["(212) 736-5000", "312-263-0101", "416-979-6000", "1-800-FLOWERS", "212-555-0123"]
    response = check(client, acme_key, numbers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    results = body["results"]
    assert [r["input"] for r in results] == numbers
    assert set(results[0]) == {
        "input",
        "e164",
        "portable",
        "reason",
        "message",
        "number_type",
        "region",
    }
    assert results[0] | {"message": None} == {
        "input": "(212) 736-5000",
        "e164": "+12127365000",
        "portable": True,
        "reason": None,
        "message": None,
        "number_type": "local",
        "region": "US",
    }
    assert [(r["e164"], r["portable"], r["reason"]) for r in results[1:]] == [
        ("+13122630101", False, "tracking_number"),
        ("+14169796000", False, "canada_ticket"),
        ("+18003569377", True, None),
        (None, False, "invalid_number"),
    ]
    assert results[2]["region"] == "CA"
    assert results[3]["number_type"] == "toll_free"
    assert results[1]["message"] == "Already a tracking number on the platform."
    assert body["summary"] == {"total": 5, "portable": 2, "refused": 3}


def test_an_empty_list_is_an_empty_answer(client, acme_key):
    response = check(client, acme_key, [])
    assert response.status_code == 200
    assert response.get_json() == {
        "results": [],
        "summary": {"total": 0, "portable": 0, "refused": 0},
    }


def test_the_key_decides_the_account(client, inventory, acme_key, globex_key):
    numbers = ["312-263-0200", "+1 312 263 0000"]  # Acme's receiving and fail-safe numbers
    acme = check(client, acme_key, numbers).get_json()["results"]
    globex = check(client, globex_key, numbers).get_json()["results"]
    assert [r["reason"] for r in acme] == ["receiving_number", "fail_safe_number"]
    assert [r["portable"] for r in globex] == [True, True]


def test_the_limit_itself_is_accepted(client, acme_key):
    response = check(client, acme_key, ["212-736-5000"] * 20_000)
    assert response.status_code == 200
    assert response.get_json()["summary"] == {"total": 20_000, "portable": 1, "refused": 19_999}


def test_queries_do_not_grow_with_the_count_of_numbers(client, inventory, acme_key, monkeypatch):
    from portal.db import db

    executed = []
    execute_sql = db.obj.execute_sql

    def counting(sql, *args, **kwargs):
        executed.append(sql)
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", counting)
    check(client, acme_key, ["212-736-5000"])  # records the key's first use
    executed.clear()
    check(client, acme_key, ["212-736-5000"])
    one = len(executed)
    assert one > 0
    executed.clear()
    assert check(client, acme_key, [f"212-736-{n:04d}" for n in range(2000)]).status_code == 200
    assert len(executed) == one


def test_last_used_is_recorded_at_most_once_a_minute(app, client, accounts):
    with app.app_context():
        row, key = ApiKey.issue(accounts[0])
    check(client, key, [])
    with app.app_context():
        first = ApiKey.get_by_id(row.id).last_used_at
    assert first is not None
    check(client, key, [])
    with app.app_context():
        assert ApiKey.get_by_id(row.id).last_used_at == first
        earlier = utcnow() - timedelta(minutes=2)
        ApiKey.update(last_used_at=earlier).where(ApiKey.id == row.id).execute()
    check(client, key, [])
    with app.app_context():
        assert ApiKey.get_by_id(row.id).last_used_at > earlier + timedelta(minutes=1)


@pytest.fixture
def revoked_key(app, accounts):
    with app.app_context():
        row, key = ApiKey.issue(accounts[0])
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.id == row.id).execute()
    return key


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, 'Bearer realm="PortDesk"'),
        ("Basic dXNlcjpwYXNz", 'Bearer realm="PortDesk"'),
        ("Token {key}", 'Bearer realm="PortDesk"'),
        ("Bearer", 'Bearer realm="PortDesk"'),
        ("{key}", 'Bearer realm="PortDesk"'),
        ("Bearer pd_not-a-key-anyone-was-given", 'Bearer realm="PortDesk", error="invalid_token"'),
        ("Bearer {revoked}", 'Bearer realm="PortDesk", error="invalid_token"'),
    ],
)
def test_no_valid_key_is_401(client, acme_key, revoked_key, authorization, challenge):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(key=acme_key, revoked=revoked_key)
    # A body that is wrong too: who is asking is answered first.
    response = client.post(URL, data="{", content_type="application/json", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == challenge


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (b"", "malformed_json", "not valid JSON"),
        (b'{"numbers": ["212-736-5000"]', "malformed_json", "not valid JSON"),
        (b"{'numbers': []}", "malformed_json", "not valid JSON"),
        (b'{"numbers": [NaN]}', "malformed_json", "not valid JSON"),
        (b'{"numbers": ["\xff"]}', "malformed_json", "not valid JSON"),
        (b"[" * 100_000, "malformed_json", "not valid JSON"),
        (b"null", "invalid_request", "JSON object"),
        (b'["212-736-5000"]', "invalid_request", "not a list"),
        (b'"212-736-5000"', "invalid_request", "not a string"),
        (b"{}", "invalid_request", 'no "numbers"'),
        (b'{"number": ["212-736-5000"]}', "invalid_request", 'no "numbers"'),
        (b'{"numbers": "212-736-5000"}', "invalid_request", '"numbers" must be a list'),
        (b'{"numbers": {"0": "212-736-5000"}}', "invalid_request", "not an object"),
        (b'{"numbers": null}', "invalid_request", "not null"),
        (b'{"numbers": ["212-736-5000", 2127365000]}', "invalid_request", '"numbers"[1]'),
        (b'{"numbers": ["212-736-5000", "", null]}', "invalid_request", '"numbers"[2]'),
        (b'{"numbers": [["212-736-5000"]]}', "invalid_request", '"numbers"[0]'),
    ],
)
def test_a_wrong_body_is_400(client, acme_key, body, code, says):
    headers = bearer(acme_key)
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert says in assert_error(response, 400, code)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_a_body_that_is_not_json_is_415(client, acme_key, content_type):
    response = client.post(
        URL,
        data=json.dumps({"numbers": ["212-736-5000"]}),
        content_type=content_type,
        headers=bearer(acme_key),
    )
    assert "application/json" in assert_error(response, 415, "unsupported_media_type")


def test_a_json_media_type_with_parameters_is_json(client, acme_key):
    response = client.post(
        URL,
        data=json.dumps({"numbers": ["212-736-5000"]}),
        content_type="application/json; charset=utf-8",
        headers=bearer(acme_key),
    )
    assert response.status_code == 200


def test_over_the_count_limit_is_413(client, acme_key):
    response = check(client, acme_key, ["212-736-5000"] * 20_001)
    message = assert_error(response, 413, "too_many_numbers")
    assert "20,000" in message
    assert "20,001" in message


@pytest.fixture
def small_app(database_url, tmp_path):
    """An app that takes bodies of at most 1 KB."""
    return create_app(make_config(database_url, tmp_path / "instance", MAX_CONTENT_LENGTH=1024))


def test_a_body_over_the_size_limit_is_413_json(small_app, accounts):
    key = issue_key(small_app, accounts[0])
    client = small_app.test_client()
    assert check(client, key, ["212-736-5000"] * 10).status_code == 200
    response = check(client, key, ["212-736-5000"] * 100)
    assert "1,024-byte limit" in assert_error(response, 413, "body_too_large")


def send_chunked(client, key, numbers):
    """POST with no Content-Length, as a server hands on a chunked body."""
    return client.post(
        URL,
        input_stream=io.BytesIO(json.dumps({"numbers": numbers}).encode()),
        headers=bearer(key) | {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_size_limit_is_413_json(small_app, accounts):
    key = issue_key(small_app, accounts[0])
    client = small_app.test_client()
    small = send_chunked(client, key, ["212-736-5000"] * 10)
    assert small.status_code == 200
    assert small.get_json()["summary"]["total"] == 10
    response = send_chunked(client, key, ["212-736-5000"] * 100)
    assert "1,024-byte limit" in assert_error(response, 413, "body_too_large")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_json(client, method):
    response = client.open(URL, method=method)
    assert "use POST" in assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


def test_head_is_405_without_a_body(client):
    response = client.head(URL)
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.data == b""


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/x",
        "/api/v1/portability-checks/",
        "/api/v2/portability-checks",
        "/api/",
        "/api",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_urls_under_api_are_404_json(client, path, method):
    response = client.open(path, method=method)
    assert URL in assert_error(response, 404, "not_found")


def test_a_doubled_slash_is_not_redirected(client):
    # Flask would redirect it with an HTML body, and many clients do not repeat a POST.
    response = client.post("/api//v1/portability-checks", json={"numbers": []})
    assert URL in assert_error(response, 404, "not_found")


@pytest.fixture
def failing_app(database_url, tmp_path, monkeypatch):
    """An app whose check fails, and that answers errors as in production."""
    config = make_config(database_url, tmp_path / "instance", PROPAGATE_EXCEPTIONS=False)

    def broken(*args, **kwargs):
        raise RuntimeError("the database caught fire")

    monkeypatch.setattr("portal.api.check_portability", broken)
    return create_app(config)


def test_a_failure_is_500_json(failing_app, accounts):
    key = issue_key(failing_app, accounts[0])
    response = check(failing_app.test_client(), key, ["212-736-5000"])
    message = assert_error(response, 500, "internal_error")
    assert "caught fire" not in message


def test_no_csrf_token_is_needed(database_url, tmp_path, accounts):
    app = create_app(make_config(database_url, tmp_path / "instance", WTF_CSRF_ENABLED=True))
    client = app.test_client()
    # The app does ask for the token elsewhere...
    assert client.post("/login", data={"email": "a@b.test", "password": "x"}).status_code == 400
    # ...but not from the API, nor for an unknown URL under it.
    key = issue_key(app, accounts[0])
    assert check(client, key, ["212-736-5000"]).status_code == 200
    assert_error(client.post("/api/v1/x"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("GET", "/apiary", 404),
        ("GET", "/api-docs/v1", 404),
        ("DELETE", "/login", 405),
    ],
)
def test_error_pages_elsewhere_are_still_html(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert 'class="site-header"' in response.get_data(as_text=True)


def test_an_upload_elsewhere_over_the_limit_is_still_an_html_page(small_app):
    response = small_app.test_client().post("/login", data={"email": "x" * 4096})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "That upload is too large" in response.get_data(as_text=True)


def test_a_failure_elsewhere_is_still_an_html_page(failing_app):
    @failing_app.get("/boom")
    def boom():
        raise RuntimeError("the database caught fire")

    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_a_document_body_over_the_size_limit_says_what_a_document_may_be(small_app, accounts):
    key = issue_key(small_app, accounts[0])
    response = small_app.test_client().post(
        "/api/v1/port-requests/1/documents",
        input_stream=io.BytesIO(b"x" * 5_000),
        headers=bearer(key)
        | {"Content-Type": "multipart/form-data; boundary=b", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    message = assert_error(response, 413, "body_too_large")
    assert message == "The body is over the 1,024-byte limit. Send one document of at most 10 MB."
