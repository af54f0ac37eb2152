"""The schema: numbered files in migrations/, applied in order under one lock."""

from contextlib import contextmanager
from pathlib import Path

from playhouse.migrations import Runner

from portal.db import is_postgresql

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
HISTORY_TABLE = "schema_migration"
# Any constant will do: it only has to be the same in every worker.
_ADVISORY_LOCK_ID = 7_367_837_501


def _runner(database):
    return Runner(getattr(database, "obj", database), str(MIGRATIONS_DIR), HISTORY_TABLE)


@contextmanager
def _schema_lock(database):
    # Several workers may start at once: the first applies, the others wait and find nothing to do.
    if is_postgresql(database):
        with database.atomic():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_ID,))
            yield
    else:
        with database.atomic(lock_type="IMMEDIATE"):
            yield


def upgrade(database):
    """Apply every pending migration; return the names applied."""
    with _schema_lock(database):
        return _runner(database).up()


def status(database):
    """Return (name, applied_at or None) for every migration file, in order."""
    return [(m.name, m.applied) for m in _runner(database).status() if m.path is not None]
