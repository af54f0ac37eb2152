"""What every table shares: the database, naming, UTC timestamps and NUL-free text."""

from datetime import UTC, datetime

from peewee import CharField, Model

from portal.db import db


def utcnow():
    """Return the current UTC time as a naive datetime (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class NulFreeCharField(CharField):
    """A CharField that drops NUL characters on the way to the database.

    PostgreSQL refuses any text with a NUL in it ("A string literal cannot contain NUL"), and no
    one means to type one. Text reaches the tables from forms, uploaded files' names, the JSON API,
    the CLI and the inventory import: the field is the one door all of them pass, so the rule
    lives here rather than in each form or in a request hook that would miss the CLI. Peewee
    applies db_value to values compared with the field too, so a lookup with a NUL finds what
    was stored without it.
    """

    def db_value(self, value):
        if isinstance(value, str):
            value = value.replace("\x00", "")
        return super().db_value(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
