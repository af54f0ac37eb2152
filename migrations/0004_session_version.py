"""Sessions that can be ended, and a sign-in count without a separate lock time.

users.session_version is kept in the session at sign-in and raised by sign-out, a password change
and deactivation, which ends every session signed in before. login_throttle.locked_until goes: the
lock now ends with the count's window (see portal/throttle.py).
"""

from peewee import SQL, DateTimeField, IntegerField


def up(migrator, db):
    # NOT NULL with a default in the one ALTER: both databases fill the existing rows with 1,
    # and SQLite needs no copy of the table (which would have to carry its foreign keys over).
    session_version = IntegerField(default=1, constraints=[SQL("DEFAULT 1")])
    migrator.migrate(
        migrator.add_column("users", "session_version", session_version, allow_not_null=True),
        migrator.drop_column("login_throttle", "locked_until"),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.add_column("login_throttle", "locked_until", DateTimeField(null=True)),
        migrator.drop_column("users", "session_version"),
    )
