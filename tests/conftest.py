"""Fixtures: an app on its own database, clients signed in as an owner and as staff.

The suite runs on SQLite by default (a fresh file per test). With DATABASE_URL set to a
PostgreSQL server it runs there: one schema for the session, emptied after every test.
"""

import email
import email.policy
import gc
import os
import re
import socket
import time
import uuid
import warnings
from urllib.parse import quote

import pytest

from portal import create_app, mail
from portal.db import db, open_database
from portal.models import Account, User
from portal.schema import HISTORY_TABLE, upgrade

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgres://", "postgresql://"))

OWNER_EMAIL = "owner@acme.test"
OTHER_OWNER_EMAIL = "owner@globex.test"
STAFF_EMAIL = "staff@portdesk.test"
PASSWORD = "correct horse battery staple"


def _with_search_path(url, schema):
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-c search_path={schema}')}"


class _PostgresSchema:
    """A throwaway PostgreSQL schema, so test runs never touch anything else in the database."""

    def __init__(self):
        self.name = f"portdesk_test_{uuid.uuid4().hex[:12]}"
        self.url = _with_search_path(POSTGRES_URL, self.name)
        admin = open_database(POSTGRES_URL)
        admin.execute_sql(f'CREATE SCHEMA "{self.name}"')
        admin.close()

    def empty_tables(self):
        database = open_database(self.url)
        tables = [t for t in database.get_tables() if t != HISTORY_TABLE]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        database.close()

    def drop(self):
        admin = open_database(POSTGRES_URL)
        admin.execute_sql(f'DROP SCHEMA "{self.name}" CASCADE')
        admin.close()


@pytest.fixture(scope="session")
def _session_schema():
    if not ON_POSTGRES:
        yield None
        return
    schema = _PostgresSchema()
    yield schema
    schema.drop()


@pytest.fixture
def database_url(_session_schema, tmp_path):
    """A URL to a migrated-or-empty database that this test alone uses."""
    if _session_schema is None:
        yield f"sqlite:///{tmp_path / 'portdesk.sqlite3'}"
        return
    yield _session_schema.url
    _session_schema.empty_tables()


@pytest.fixture
def empty_database_url(tmp_path):
    """A URL to a database with no tables at all."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    schema = _PostgresSchema()
    yield schema.url
    schema.drop()


@pytest.fixture
def database(database_url):
    """The migrated database, bound to the models, without any Flask app."""
    opened = open_database(database_url)
    db.initialize(opened)
    upgrade(db)
    yield db
    if not db.is_closed():
        db.close()


@pytest.fixture
def statements(database, monkeypatch):
    """Every SQL statement run from now on, in order (to show a lookup is batched)."""
    db.connect(reuse_if_open=True)
    seen = []
    execute_sql = db.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", counting)
    return seen


def make_config(database_url, instance_path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        # scrypt is right for production and needlessly slow for hundreds of test logins.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Emails stay in the outbox unless a test sends them (to its `smtp_server`).
        "OUTBOX_SEND_AFTER_COMMIT": False,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(database_url, tmp_path):
    return create_app(make_config(database_url, tmp_path / "instance"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _add_user(app, email, role, account=None, name="Test User"):
    with app.app_context():
        user = User(email=email, name=name, role=role, account=account)
        user.set_password(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
        user.save()
        return user


@pytest.fixture
def accounts(app):
    """Two customer accounts: the owner's (4242) and someone else's (5151)."""
    with app.app_context():
        acme = Account.create(id=4242, name="Acme Dental", fail_safe_number="+13122630000")
        globex = Account.create(id=5151, name="Globex Plumbing")
    return acme, globex


@pytest.fixture
def owner(app, accounts):
    return _add_user(app, OWNER_EMAIL, "owner", accounts[0], name="Ann Owner")


@pytest.fixture
def other_owner(app, accounts):
    return _add_user(app, OTHER_OWNER_EMAIL, "owner", accounts[1], name="Olga Other")


@pytest.fixture
def staff(app):
    return _add_user(app, STAFF_EMAIL, "staff", name="Sam Staff")


def login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def owner_client(app, owner):
    client = app.test_client()
    assert login(client, OWNER_EMAIL).status_code == 302
    return client


@pytest.fixture
def staff_client(app, staff):
    client = app.test_client()
    assert login(client, STAFF_EMAIL).status_code == 302
    return client


@pytest.fixture
def htmx():
    """Headers that make a request look like htmx's own (not boosted, not a history restore)."""

    def headers(target=None):
        sent = {"HX-Request": "true"}
        if target:
            sent["HX-Target"] = target
        return sent

    return headers


_CSRF_TOKEN = re.compile(r'("X-CSRFToken": "|name="csrf_token"(?: type="hidden")? value=")[^"]+')


def without_csrf(page):
    """The page with its CSRF tokens masked: a token carries the second it was made, so two
    answers a second apart differ there and nowhere else."""
    if isinstance(page, bytes):
        page = page.decode()
    return _CSRF_TOKEN.sub(r"\1…", page)


class Inbox:
    """What a loopback SMTP server received: each message parsed, with its envelope."""

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = None
        self.messages = []  # email.message.EmailMessage, in the order received
        self.envelopes = []  # (mail_from, [rcpt_to, ...])

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def wait_for(self, count, timeout=10):
        """Return the messages once `count` have arrived; fail the test after `timeout` s."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} emails arrived, not {count}")
            time.sleep(0.02)
        return self.messages


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives: `Inbox`."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    yield inbox
    # An email the test's app sends after its request may still be on its way: let it land
    # rather than cut its connection.
    mail.wait_for_senders()
    controller.stop()
    # A client that was still connected (a gunicorn worker's sender) leaves the stopped server a
    # transport to finalize: do it here, where its "unclosed" warning is expected, not in
    # whichever test the garbage collector happens to run next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
