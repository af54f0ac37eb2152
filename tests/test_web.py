"""What every response shares: security headers and the error pages."""

import io
import re

import pytest
from flask import abort

from portal import create_app
from portal.models import NumberUpload
from tests.conftest import OWNER_EMAIL, login, make_config


def test_security_headers_on_every_response(client):
    for path in ("/login", "/static/css/portdesk.css", "/no-such-page"):
        with client.get(path) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
EVENT_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/login", "/port-requests/", "/check/", "/accounts/"])
def test_pages_have_no_inline_script(client, owner, path):
    if path != "/login":
        login(client, OWNER_EMAIL)
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    scripts = SCRIPT.findall(html)
    # Every script is a file of ours with nothing between its tags, whatever its attributes.
    assert scripts, "the layout loads htmx"
    for attributes, body in scripts:
        assert re.search(r'\ssrc="/static/', attributes), attributes
        assert body.strip() == ""
    assert not EVENT_ATTRIBUTE.search(html)


def test_the_inline_script_check_can_fail():
    page = '<p>x</p><script type="module">alert(1)</script><a href="#" onclick="x()">'
    [(attributes, body)] = SCRIPT.findall(page)
    assert 'src="/static/' not in attributes and body == "alert(1)"
    assert EVENT_ATTRIBUTE.search(page)


def test_body_carries_the_csrf_token_for_htmx(owner_client):
    html = owner_client.get("/port-requests/").get_data(as_text=True)
    assert '<body hx-headers=\'{"X-CSRFToken": "' in html


def test_signed_in_pages_are_not_cached(owner_client):
    assert owner_client.get("/port-requests/").headers["Cache-Control"] == "no-store"


def test_vendored_htmx_is_served_with_its_licence(client):
    script = client.get("/static/vendor/htmx-2.0.11/htmx.min.js")
    assert script.status_code == 200
    assert b'version:"2.0.11"' in script.data
    script.close()


@pytest.fixture
def failing_app(database_url, tmp_path):
    app = create_app(make_config(database_url, tmp_path, PROPAGATE_EXCEPTIONS=False))

    @app.get("/boom/<int:code>")
    def boom(code):
        if code == 500:
            raise RuntimeError("the database caught fire")
        abort(code)

    return app


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (400, "Something in that request was wrong"),
        (403, "You can&#39;t open this page"),
        (404, "Page not found"),
        (413, "That upload is too large"),
        (500, "Something went wrong on our side"),
    ],
)
def test_error_pages_use_the_layout(failing_app, code, title):
    response = failing_app.test_client().get(f"/boom/{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert f'<h1 id="error-title">{title}</h1>' in html
    assert 'class="site-header"' in html
    assert "Traceback" not in html
    assert "caught fire" not in html


def test_an_upload_over_the_limit_gets_413(database_url, tmp_path):
    app = create_app(make_config(database_url, tmp_path, MAX_CONTENT_LENGTH=1024))
    response = app.test_client().post("/login", data={"email": "x" * 4096, "password": "y"})
    assert response.status_code == 413
    assert "That upload is too large" in response.get_data(as_text=True)


def test_a_chunked_form_over_the_limit_gets_413_not_a_cut_form(database_url, tmp_path):
    app = create_app(make_config(database_url, tmp_path, MAX_CONTENT_LENGTH=1024))
    response = app.test_client().post(
        "/login",
        input_stream=io.BytesIO(b"password=y&email=" + b"x" * 4096),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "That upload is too large" in response.get_data(as_text=True)


class BrokenChunks(io.RawIOBase):
    """A chunked body the server cannot finish reading, as gunicorn's InvalidChunkSize is."""

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return 0  # the test client rewinds the stream before sending it

    def readinto(self, buffer):
        raise ValueError("Invalid chunk size: 'zz'")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/login", "application/x-www-form-urlencoded"), ("/api/v1/x", "application/json")],
)
def test_a_malformed_chunked_body_is_a_400_that_says_so(client, path, content_type):
    response = client.post(
        path,
        input_stream=BrokenChunks(),
        headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 400
    words = "could not be read (cut off or malformed): send it again."
    if path.startswith("/api/"):
        assert words in response.get_json()["error"]["message"]
    else:
        assert words in response.get_data(as_text=True)


LATIN1_FILENAME = (
    b'--XX\r\nContent-Disposition: form-data; name="numbers"\r\n\r\n212 736 5000\r\n'
    b'--XX\r\nContent-Disposition: form-data; name="csv_file"; filename="N\xfamero.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\nphone_number\n2127365000\n\r\n--XX--\r\n"
)


@pytest.mark.parametrize("fragment", [False, True])
def test_a_form_that_cannot_be_parsed_is_refused_not_read_as_empty(app, owner_client, fragment):
    # curl and old browsers send a file name in Latin-1; werkzeug would drop the whole form.
    headers = {"HX-Request": "true"} if fragment else {}
    response = owner_client.post(
        "/check/",
        data=LATIN1_FILENAME,
        content_type="multipart/form-data; boundary=XX",
        headers=headers,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That form could not be read, so nothing in it was used" in html
    assert "Enter at least one number" not in html
    with app.app_context():
        assert NumberUpload.select().count() == 0


def test_unknown_page_is_a_404_in_the_layout(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_error_page_survives_a_broken_layout(failing_app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template store unreachable")

    monkeypatch.setattr("portal.web.render_template", broken)
    response = failing_app.test_client().get("/boom/500")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in html
    assert "unreachable" not in html


def test_static_files_open_no_database_connection(client, owner, monkeypatch):
    from portal.db import db

    def refuse(*args, **kwargs):
        raise AssertionError("a static file asked the database")

    with client.session_transaction() as session:
        session["user_id"] = owner.id
    monkeypatch.setattr(db.obj, "connect", refuse)
    with client.get("/static/css/portdesk.css") as response:
        assert response.status_code == 200
