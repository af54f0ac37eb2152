"""Settings: bad values stop the start in one line; the connection pool; SQLite's memory map."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from peewee import PostgresqlDatabase

from portal import create_app
from portal.config import ConfigError, from_environment
from portal.db import close_all, db
from portal.models import Account, ApiKey
from tests.conftest import ON_POSTGRES, make_config

ROOT = Path(__file__).resolve().parent.parent
BAD_PORT = "PortDesk cannot start: SMTP_PORT must be a whole number, got 'abc'"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SMTP_PORT", "twenty-five", "SMTP_PORT must be a whole number, got 'twenty-five'"),
        ("SMTP_STARTTLS", "maybe", "SMTP_STARTTLS must be 1 or 0 (true or false), got 'maybe'"),
        ("MAX_UPLOAD_MB", "-1", "MAX_UPLOAD_MB must be at least 1, got '-1'"),
        ("MAX_UPLOAD_MB", "0", "MAX_UPLOAD_MB must be at least 1, got '0'"),
        ("SMTP_PORT", "0", "SMTP_PORT must be from 1 to 65535, got '0'"),
        ("SMTP_PORT", "99999", "SMTP_PORT must be from 1 to 65535, got '99999'"),
        ("SMTP_TIMEOUT", "0", "SMTP_TIMEOUT must be at least 1, got '0'"),
        ("DB_POOL_SIZE", "0", "DB_POOL_SIZE must be at least 1, got '0'"),
        ("DB_POOL_TIMEOUT", "ten", "DB_POOL_TIMEOUT must be a whole number, got 'ten'"),
        ("SQLITE_MMAP_MB", "-1", "SQLITE_MMAP_MB must be at least 0, got '-1'"),
        ("PROXY_COUNT", "-1", "PROXY_COUNT must be at least 0, got '-1'"),
        ("PROXY_COUNT", "one", "PROXY_COUNT must be a whole number, got 'one'"),
    ],
)
def test_a_value_out_of_range_is_named(variable, value, message):
    with pytest.raises(ConfigError) as raised:
        from_environment({variable: value})
    assert str(raised.value) == message


def test_values_at_the_edges_are_accepted():
    settings = from_environment(
        {"MAX_UPLOAD_MB": "1", "SMTP_PORT": "65535", "DB_POOL_SIZE": "1", "SQLITE_MMAP_MB": "0"}
    )
    assert settings == {
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SMTP_PORT": 65535,
        "DB_POOL_SIZE": 1,
        "SQLITE_MMAP_MB": 0,
    }


def start(command, tmp_path, **environment):
    """Run a server command from the repository with a bad setting; return how it ended."""
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portdesk.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SMTP_PORT": "abc",
    }
    env |= environment
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_flask_run_stops_with_one_line(tmp_path):
    ended = start(["flask", "--app", "wsgi", "run", "--port", "0"], tmp_path)
    assert ended.returncode != 0
    assert ended.stderr.splitlines() == [BAD_PORT]


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DATABASE_URL", "postgresql://127.0.0.1:1/portdesk", "the database cannot be opened ("),
        ("DATABASE_URL", "sqlite:////no/such/folder/x.sqlite3", "the database cannot be opened ("),
        ("INSTANCE_PATH", "/proc/no-such-folder", "INSTANCE_PATH /proc/no-such-folder cannot be"),
    ],
)
def test_a_database_or_folder_that_cannot_be_opened_stops_the_start_in_one_line(
    tmp_path, variable, value, words
):
    ended = start(
        ["flask", "--app", "wsgi", "db", "status"], tmp_path, SMTP_PORT="25", **{variable: value}
    )
    assert ended.returncode == 4
    [line] = ended.stderr.splitlines()
    assert line.startswith("PortDesk cannot start: ") and words in line


@pytest.mark.skipif(
    importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed in this venv"
)
def test_gunicorn_stops_with_one_line(tmp_path):
    ended = start(["gunicorn", "--workers", "2", "--bind", "127.0.0.1:0", "wsgi:app"], tmp_path)
    assert ended.returncode != 0
    assert ended.stderr.splitlines() == [BAD_PORT]


def test_a_cli_command_stops_with_one_line(tmp_path):
    ended = start(["flask", "--app", "wsgi", "db", "status"], tmp_path)
    assert ended.returncode != 0
    assert ended.stderr.splitlines() == [BAD_PORT]


@pytest.mark.skipif(
    not ON_POSTGRES, reason="counts PostgreSQL connections; test_connections.py covers SQLite's"
)
def test_requests_reuse_one_pooled_connection(database_url, tmp_path, monkeypatch):
    opened = []
    connect = PostgresqlDatabase._connect

    def counting(self):
        connection = connect(self)
        opened.append(connection)
        return connection

    monkeypatch.setattr(PostgresqlDatabase, "_connect", counting)
    app = create_app(make_config(database_url, tmp_path))
    # The migration's connection is closed, not kept in the pool for gunicorn's workers to share.
    assert len(opened) == 1
    assert opened[0].closed
    with app.app_context():
        key = ApiKey.issue(Account.create(id=4242, name="Acme Dental"), name="tests")[1]
    client = app.test_client()
    for _ in range(3):
        response = client.post(
            "/api/v1/portability-checks",
            json={"numbers": ["212-736-5000"]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200
    assert len(opened) == 2
    assert not opened[1].closed
    close_all()
    assert opened[1].closed


def sqlite_mmap_bytes(app):
    with app.app_context():
        return db.execute_sql("PRAGMA mmap_size").fetchone()[0]


@pytest.mark.skipif(ON_POSTGRES, reason="a SQLite setting")
def test_sqlite_maps_64_mb_by_default(app):
    assert sqlite_mmap_bytes(app) == 64 * 1024 * 1024


@pytest.mark.skipif(ON_POSTGRES, reason="a SQLite setting")
def test_sqlite_map_size_comes_from_the_environment(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SQLITE_MMAP_MB", "16")
    app = create_app(make_config(database_url, tmp_path))
    assert sqlite_mmap_bytes(app) == 16 * 1024 * 1024
