"""The database: one peewee proxy, opened from DATABASE_URL, connected on first query.

The app's database is pooled on SQLite and PostgreSQL alike: a request takes a connection on its
first query and gives it back at the end, so a busy worker pays for connecting (and, on SQLite,
for the pragmas and a cold page cache) once per connection rather than once per request.
"""

import select
import time
from urllib.parse import urlsplit

from peewee import DatabaseProxy, PostgresqlDatabase, Value
from playhouse.db_url import connect, parse
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

from portal.config import ConfigError
from signing import database as signing_database


class _Database(DatabaseProxy):
    """The app's database proxy, which binds the signing tables to the same database: a
    signature and what the portal keeps of it are then one transaction."""

    def initialize(self, obj):
        super().initialize(obj)
        signing_database.initialize(obj)


db = _Database()

SQLITE_PRAGMAS = {
    # First, so that even switching to WAL waits for another worker's lock rather than fail.
    "busy_timeout": 5000,
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
}
# A new SQLite connection starts with an empty page cache: reading the file through memory the OS
# already caches keeps big indexes fast from its first query. The mapped pages count in the
# process's RSS, so the map is sized rather than as large as the file.
SQLITE_MMAP_MB = 64
# A pooled PostgreSQL connection older than this is closed rather than reused, so a server or
# proxy that drops idle connections never hands a request a dead one for long.
POOL_RECYCLE_SECONDS = 300
# A pooled PostgreSQL connection idle for longer than this is checked with a round trip before use.
PING_AFTER_IDLE_SECONDS = 5


def open_database(url, pool_size=None, pool_timeout=None, sqlite_mmap_mb=SQLITE_MMAP_MB):
    """Return an unconnected peewee database, pooled when pool_size is given."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            raise ConfigError("DATABASE_URL for SQLite looks like sqlite:////absolute/path.sqlite3")
        pragmas = {**SQLITE_PRAGMAS, "mmap_size": sqlite_mmap_mb * 1024 * 1024}
        if pool_size is None:
            return connect(url, pragmas=pragmas)
        # The pragmas run once per connection, when it is opened. A pooled connection serves
        # one thread at a time, but not always the thread that opened it.
        return connect(
            url.replace("sqlite://", "sqlite+pool://", 1),
            pragmas=pragmas,
            check_same_thread=False,
            max_connections=pool_size,
            timeout=pool_timeout,
        )
    if scheme in ("postgres", "postgresql"):
        if pool_size is None:
            return connect(url)
        return PostgresqlPool(
            **parse(url),
            max_connections=pool_size,
            timeout=pool_timeout,
            stale_timeout=POOL_RECYCLE_SECONDS,
        )
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {scheme or url!r}"
    )


class PostgresqlPool(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, asking the server whether a connection lives only after it idled.

    peewee's pool sends `SELECT 1` each time it hands out an idle connection: a round trip that
    costs as much as a request's own lookup. A connection given back moments ago is taken as alive
    unless the server has written to it since: between two requests the server says nothing
    unless it is ending the connection (a restart, an administrator's pg_terminate_backend), so
    bytes waiting on the socket mean the connection is asked, as peewee does, and dropped when
    dead. One that has idled longer is always asked.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._given_back_at = {}  # connection key -> time.monotonic() when it came back

    def _is_closed(self, conn):
        if conn.closed or self._adapter.txn_status(conn) == self._adapter.txn_unknown:
            return True
        given_back = self._given_back_at.get(self.conn_key(conn))
        if (
            given_back is not None
            and time.monotonic() - given_back < PING_AFTER_IDLE_SECONDS
            and not _server_wrote(conn)
        ):
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        super()._close(conn, close_conn)
        if not conn.closed:  # back in the pool, not closed as stale or unusable
            self._given_back_at[self.conn_key(conn)] = time.monotonic()

    def _close_raw(self, conn):
        self._given_back_at.pop(self.conn_key(conn), None)
        return super()._close_raw(conn)


def _server_wrote(conn):
    """Say whether bytes from the server wait on an idle connection's socket (no round trip):
    the message, or the end of file, of a server that ended the connection."""
    waiting = select.poll()
    waiting.register(conn.fileno(), select.POLLIN)
    return bool(waiting.poll(0))


class Prepared:
    """A query whose SQL is built once per kind of database, then run again with new values.

    Building the SQL of even a small peewee query walks its expression tree (0.05-0.2 ms), which
    is more than SQLite or a pooled PostgreSQL connection takes to run an indexed lookup: the few
    lookups every request makes (the signed-in user, the API key, the inventory) are built once.
    `build` is called once per kind of database with one placeholder per name in `names` and
    returns the peewee query; `rows` runs it with a value for each name.
    """

    def __init__(self, build, *names):
        self.build = build
        self.names = names
        self._built = {}  # database class -> (query, sql, params with placeholders)

    def rows(self, **values):
        """Run the query with these values; return every row, as peewee would (models, joins
        and all), with the cursor already closed."""
        database = db.obj
        query, sql, params = self._for(database)
        cursor = database.execute_sql(
            sql, [values[p.name] if isinstance(p, _Placeholder) else p for p in params]
        )
        try:
            # The query's own reader, so rows come out exactly as running the query gives them.
            return list(query._get_cursor_wrapper(cursor))
        finally:
            # Read in full and closed now: a pooled SQLite connection must not keep a statement,
            # and the snapshot it reads, open into the next request.
            cursor.close()

    def first(self, **values):
        """Run the query with these values; return its first row, or None."""
        rows = self.rows(**values)
        return rows[0] if rows else None

    def _for(self, database):
        kind = type(database)
        built = self._built.get(kind)
        if built is None:
            placeholders = {name: Value(_Placeholder(name), converter=False) for name in self.names}
            query = self.build(**placeholders)
            sql, params = database.get_sql_context().parse(query)
            # Two threads may both build it the first time: the same result, kept once.
            built = self._built[kind] = (query, sql, params)
        return built


class _Placeholder:
    """Stands for a value in a Prepared query's parameters until it is run."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def is_postgresql(database):
    """Say whether the database (or the proxy's) is PostgreSQL."""
    return isinstance(getattr(database, "obj", database), PostgresqlDatabase)


def close_all():
    """Close every connection this process holds, pooled or not (before gunicorn forks)."""
    if isinstance(db.obj, PooledDatabase):
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
