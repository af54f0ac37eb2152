"""The database: one peewee proxy, opened from DATABASE_URL, connected on first query."""

from urllib.parse import urlsplit

from peewee import DatabaseProxy, PostgresqlDatabase
from playhouse.db_url import connect
from playhouse.pool import PooledPostgresqlDatabase

from portal.config import ConfigError

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    # First, so that even switching to WAL waits for another worker's lock rather than fail.
    "busy_timeout": 5000,
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
}
# Each request opens a new SQLite connection with an empty page cache: reading the file through
# memory the OS already caches keeps big indexes fast from a request's first query. The mapped
# pages count in the process's RSS, so the map is sized rather than as large as the file.
SQLITE_MMAP_MB = 64
# A pooled PostgreSQL connection older than this is closed rather than reused, so a server or
# proxy that drops idle connections never hands a request a dead one for long.
POOL_RECYCLE_SECONDS = 300


def open_database(url, pool_size=None, pool_timeout=None, sqlite_mmap_mb=SQLITE_MMAP_MB):
    """Return an unconnected peewee database; PostgreSQL is pooled when pool_size is given."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            raise ConfigError("DATABASE_URL for SQLite looks like sqlite:////absolute/path.sqlite3")
        pragmas = {**SQLITE_PRAGMAS, "mmap_size": sqlite_mmap_mb * 1024 * 1024}
        return connect(url, pragmas=pragmas)
    if scheme in ("postgres", "postgresql"):
        if pool_size is None:
            return connect(url)
        pooled = url.replace(f"{scheme}://", "postgresql+pool://", 1)
        return connect(
            pooled,
            max_connections=pool_size,
            timeout=pool_timeout,
            stale_timeout=POOL_RECYCLE_SECONDS,
        )
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {scheme or url!r}"
    )


def is_postgresql(database):
    """Say whether the database (or the proxy's) is PostgreSQL."""
    return isinstance(getattr(database, "obj", database), PostgresqlDatabase)


def close_all():
    """Close every connection this process holds, pooled or not (before gunicorn forks)."""
    if isinstance(db.obj, PooledPostgresqlDatabase):
        db.obj.close_all()
    elif not db.is_closed():
        db.close()


def init_app(app):
    """Bind the proxy to the app's database; each request gives its connection back at the end.

    There is no connect in before_request: peewee connects on the first query, so a request that
    needs no database (a static file, an API 404) is answered even while the database is down.
    """
    config = app.config
    if db.obj is not None:
        # Another app bound the proxy before (tests, scripts): its connections go with it.
        close_all()
    db.initialize(
        open_database(
            config["DATABASE_URL"],
            pool_size=config["DB_POOL_SIZE"],
            pool_timeout=config["DB_POOL_TIMEOUT"],
            sqlite_mmap_mb=config["SQLITE_MMAP_MB"],
        )
    )

    @app.teardown_appcontext
    def _close(exc):
        # On a pooled database close() puts the connection back in the pool.
        if not db.is_closed():
            db.close()
