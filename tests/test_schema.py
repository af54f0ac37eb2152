"""Migrations: an empty database gets every table, and applying twice changes nothing."""

import threading

import pytest

from portal import create_app
from portal.db import db, open_database
from portal.schema import MIGRATIONS_DIR, status, upgrade
from tests.conftest import make_config

EXPECTED_TABLES = {
    "account",
    "agreement_acceptance",
    "api_key",
    "document",
    "document_content",
    "fax_ticket",
    "login_throttle",
    "number_claim",
    "number_upload",
    "outbox_email",
    "port_number",
    "port_request",
    "receiving_number",
    "receiving_reroute",
    "request_comment",
    "request_event",
    "routing_target",
    "schema_migration",
    "signing_envelope",
    "signing_event",
    "taken_number",
    "tracking_number",
    "tracking_source",
    "users",
    "warning_confirmation",
    "webhook",
    "webhook_attempt",
    "webhook_delivery",
}


def test_upgrade_on_an_empty_database_creates_every_table(empty_database_url):
    database = open_database(empty_database_url)
    db.initialize(database)
    assert database.get_tables() == []
    migration_files = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))

    assert upgrade(db) == migration_files
    assert set(database.get_tables()) == EXPECTED_TABLES
    assert [name for name, applied_at in status(db) if applied_at is not None] == migration_files

    assert upgrade(db) == []
    database.close()


def test_status_lists_pending_migrations_before_upgrade(empty_database_url):
    database = open_database(empty_database_url)
    db.initialize(database)
    assert status(db) == [
        ("0001_initial", None),
        ("0002_number_claims", None),
        ("0003_number_uploads", None),
        ("0004_session_version", None),
        ("0005_port_requests", None),
        ("0006_request_history", None),
        ("0007_documents", None),
        ("0008_signing_and_outbox", None),
        ("0009_staff_console", None),
        ("0010_taken_numbers", None),
    ]
    database.close()


def test_the_app_applies_migrations_on_first_start(empty_database_url, tmp_path):
    create_app(make_config(empty_database_url, tmp_path))
    database = open_database(empty_database_url)
    assert set(database.get_tables()) >= EXPECTED_TABLES
    database.close()


def test_auto_migrate_can_be_switched_off(empty_database_url, tmp_path):
    create_app(make_config(empty_database_url, tmp_path, AUTO_MIGRATE=False))
    database = open_database(empty_database_url)
    assert database.get_tables() == []
    database.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite pragmas; PostgreSQL has neither")
    with app.app_context():
        db.connect(reuse_if_open=True)
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_workers_starting_at_once_apply_each_migration_once(empty_database_url):
    """Gunicorn starts its workers together: each runs the upgrade, one applies it."""
    database = open_database(empty_database_url)
    db.initialize(database)
    start = threading.Barrier(6)
    applied, failures = [], []

    def worker():
        try:
            start.wait()
            with db.connection_context():
                applied.append(upgrade(db))
        except Exception as error:  # the assertion below shows what went wrong
            failures.append(repr(error))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(applied) == [[]] * 5 + [
        [
            "0001_initial",
            "0002_number_claims",
            "0003_number_uploads",
            "0004_session_version",
            "0005_port_requests",
            "0006_request_history",
            "0007_documents",
            "0008_signing_and_outbox",
            "0009_staff_console",
            "0010_taken_numbers",
        ]
    ]
    assert set(database.get_tables()) == EXPECTED_TABLES
    database.close()
