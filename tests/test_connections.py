"""Connections and the statements a request runs: pooled on both databases, few per request."""

import re
import sqlite3

import pytest
from peewee import PostgresqlDatabase, SqliteDatabase

from portal import create_app
from portal import db as db_module
from portal.db import close_all, open_database
from portal.models import Account, ApiKey, ReceivingNumber, User
from tests.conftest import ON_POSTGRES, OWNER_EMAIL, PASSWORD, login, make_config

API_URL = "/api/v1/portability-checks"


def is_open(connection):
    if ON_POSTGRES:
        return not connection.closed
    try:
        connection.execute("SELECT 1").close()
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return False
    return True


@pytest.fixture
def opened(monkeypatch):
    """Every driver connection opened from now on, in order."""
    database_class = PostgresqlDatabase if ON_POSTGRES else SqliteDatabase
    connect = database_class._connect
    seen = []

    def counting(self):
        connection = connect(self)
        seen.append(connection)
        return connection

    monkeypatch.setattr(database_class, "_connect", counting)
    return seen


def new_app(url, instance):
    return create_app(make_config(url, instance))


def issue_key(app, account_id=4242):
    with app.app_context():
        return ApiKey.issue(Account.create(id=account_id, name="Acme Dental"), name="tests")[1]


def post_numbers(client, key, numbers=("212-736-5000",)):
    return client.post(
        API_URL, json={"numbers": list(numbers)}, headers={"Authorization": f"Bearer {key}"}
    )


def test_requests_reuse_one_connection_and_the_migration_keeps_none(database_url, tmp_path, opened):
    app = new_app(database_url, tmp_path)
    # gunicorn --preload forks after create_app: no connection of the master may live on.
    assert len(opened) == 1
    assert not is_open(opened[0])
    key = issue_key(app)
    client = app.test_client()
    for _ in range(3):
        assert post_numbers(client, key).status_code == 200
    # On SQLite each request used to open its own connection (and run its pragmas again).
    assert len(opened) == 2
    assert is_open(opened[1])
    close_all()
    assert not is_open(opened[1])


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite files; the suite's PostgreSQL schema is shared")
def test_a_new_app_closes_the_old_apps_connections_and_reads_its_own_file(tmp_path, opened):
    first = new_app(f"sqlite:///{tmp_path / 'first.sqlite3'}", tmp_path / "first")
    first_key = issue_key(first, account_id=1111)
    assert post_numbers(first.test_client(), first_key).status_code == 200
    kept = [connection for connection in opened if is_open(connection)]
    assert len(kept) == 1

    second = new_app(f"sqlite:///{tmp_path / 'second.sqlite3'}", tmp_path / "second")
    assert not is_open(kept[0])
    second_key = issue_key(second, account_id=2222)
    client = second.test_client()
    assert post_numbers(client, second_key).status_code == 200
    # The first file's key is unknown here: the requests read the second file only.
    assert post_numbers(client, first_key).status_code == 401
    with second.app_context():
        assert [account.id for account in Account.select()] == [2222]


def test_a_kept_connection_sees_what_another_connection_changed(app, owner, database_url):
    client = app.test_client()
    assert login(client, OWNER_EMAIL, PASSWORD).status_code == 302
    assert client.get("/check/").status_code == 200
    # `user set-password` or another worker, on a connection of its own.
    other = open_database(database_url)
    with other.bind_ctx([User]):
        User.update(session_version=User.session_version + 1).where(User.id == owner.id).execute()
    other.close()
    response = client.get("/check/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_page_loads_the_user_and_their_account_in_one_query(app, owner_client, statements):
    response = owner_client.get("/check/reference.csv")
    assert response.status_code == 200
    assert "portdesk-account-4242-ids.csv" in response.headers["Content-Disposition"]
    people = [sql for sql in statements if 'FROM "users"' in sql or 'FROM "account"' in sql]
    assert len(people) == 1
    assert 'JOIN "account"' in people[0]


def test_staff_are_signed_in_without_an_account(app, staff_client, statements):
    response = staff_client.get("/queue/")
    assert response.status_code == 200
    assert "Sam Staff" in response.get_data(as_text=True)
    people = [sql for sql in statements if 'FROM "users"' in sql or 'FROM "account"' in sql]
    assert len(people) == 1


def test_an_api_call_reads_the_key_then_the_whole_inventory_in_one_statement(app, statements):
    key = issue_key(app)
    client = app.test_client()
    assert post_numbers(client, key).status_code == 200  # the first marks the key as used
    statements.clear()
    response = post_numbers(client, key, ["212-736-5000", "312-263-0100"])
    assert response.status_code == 200
    # The key with its account, then the whole inventory in one statement: the account's
    # receiving numbers and users' numbers, the numbers among the taken ones (tracking or
    # claimed). On PostgreSQL every statement is a round trip to the server.
    assert [re.findall(r'FROM "(\w+)" AS', sql) for sql in statements] == [
        ["api_key"],
        ["receiving_number", "users", "taken_number"],
    ]


def test_a_prepared_lookup_reads_rows_as_peewee_does(app):
    key = issue_key(app)
    with app.app_context():
        row = ApiKey.find_active(key)
        ApiKey.update(last_used_at=row.created_at).where(ApiKey.id == row.id).execute()
        again = ApiKey.find_active(key)
        built = ApiKey.select().where(ApiKey.id == row.id).get()
        assert again.account.name == "Acme Dental"
        # Dates come back as dates on SQLite too, where they are stored as text.
        assert again.last_used_at == built.last_used_at == row.created_at
        assert again.__data__ == built.__data__
        ApiKey.update(revoked_at=row.created_at).where(ApiKey.id == row.id).execute()
        assert ApiKey.find_active(key) is None


def test_receiving_numbers_still_refuse_with_their_name(app, statements):
    key = issue_key(app)
    with app.app_context():
        ReceivingNumber.create(account=4242, number="+12127365000", name="Front desk")
    response = post_numbers(app.test_client(), key)
    (result,) = response.get_json()["results"]
    assert result["reason"] == "receiving_number"
    assert "(Front desk)" in result["message"]


@pytest.fixture
def pings(monkeypatch):
    """Each time the PostgreSQL pool asks the server whether a connection lives (a round trip)."""
    from peewee import Psycopg2Adapter

    seen = []
    is_closed = Psycopg2Adapter.is_connection_closed

    def counting(self, conn):
        seen.append(conn)
        return is_closed(self, conn)

    monkeypatch.setattr(Psycopg2Adapter, "is_connection_closed", counting)
    return seen


@pytest.mark.skipif(not ON_POSTGRES, reason="the server round trip is PostgreSQL's pool's")
def test_a_connection_given_back_moments_ago_is_reused_without_a_round_trip(
    app, owner_client, pings, monkeypatch
):
    for _ in range(3):
        assert owner_client.get("/check/").status_code == 200
    assert pings == []
    # Idle for longer than the window: the pool asks the server first, as peewee does.
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0)
    assert owner_client.get("/check/").status_code == 200
    assert len(pings) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="the server round trip is PostgreSQL's pool's")
def test_a_connection_the_server_ended_costs_one_503_at_most(app, owner_client, monkeypatch):
    assert owner_client.get("/check/").status_code == 200
    with app.app_context():
        backends = db_module.db.execute_sql("SELECT pg_backend_pid()").fetchone()
    killer = open_database(app.config["DATABASE_URL"])
    killer.execute_sql("SELECT pg_terminate_backend(%s)", backends)
    killer.close()
    first = owner_client.get("/check/")
    assert first.status_code in (200, 503)  # 503 only inside the window, with words
    if first.status_code == 503:
        assert "database is busy or out of reach" in first.get_data(as_text=True)
    assert owner_client.get("/check/").status_code == 200
