"""The database: one peewee proxy, opened from DATABASE_URL, a connection per request."""

from urllib.parse import urlsplit

from flask import request
from peewee import DatabaseProxy, PostgresqlDatabase
from playhouse.db_url import connect

from portal.config import ConfigError

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    # First, so that even switching to WAL waits for another worker's lock rather than fail.
    "busy_timeout": 5000,
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    # Each request opens a new connection with an empty page cache: reading the file through
    # memory the OS already caches keeps big indexes fast from a request's first query.
    "mmap_size": 256 * 1024 * 1024,
}


def open_database(url):
    """Return an unconnected peewee database for a sqlite:/// or postgresql:// URL."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            raise ConfigError("DATABASE_URL for SQLite looks like sqlite:////absolute/path.sqlite3")
        return connect(url, pragmas=SQLITE_PRAGMAS)
    if scheme in ("postgres", "postgresql"):
        return connect(url)
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {scheme or url!r}"
    )


def is_postgresql(database):
    """Say whether the database (or the proxy's) is PostgreSQL."""
    return isinstance(getattr(database, "obj", database), PostgresqlDatabase)


def init_app(app):
    """Bind the proxy to the app's database and open a connection per request."""
    db.initialize(open_database(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect():
        if request.endpoint != "static":
            db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed():
            db.close()
