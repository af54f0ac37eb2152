"""Port requests and the numbers each one moves."""

import json

from peewee import Check, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import db, is_postgresql
from portal.models.accounts import Account, User
from portal.models.base import BaseModel, NulFreeCharField, utcnow

# docs/domain.md, "Its statuses", in the order of the usual path.
STATUSES = (
    "draft",
    "submitted",
    "in_review",
    "action_required",
    "foc_scheduled",
    "completed",
    "rejected",
    "cancelled",
)
# Long enough for any real value of a request's text fields; what is longer is refused, not stored.
MAX_FIELD_TEXT = 10_000


def _status_check(column="status"):
    names = ", ".join(f"'{status}'" for status in STATUSES)
    return Check(f"{column} IN ({names})")


class PortRequest(BaseModel):
    """One request moving numbers from one bill at the losing carrier.

    Its fields (docs/domain.md, "A port request") are kept as sent, every one but the numbers, in
    `details` as JSON: while a draft every field is optional and may hold what a client sent of
    the wrong type (which `problems` names on its field), so the API must give back exactly what
    it was given. Columns would have to drop such values or grow a text twin each. The numbers
    are rows of their own, because claims, per-number statuses and staff work on them one by one.
    """

    account = ForeignKeyField(Account, backref="port_requests", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    status = NulFreeCharField(max_length=20, default="draft", constraints=[_status_check()])
    details = TextField(default="{}")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # Where it stands, set by the moves of `portal.staff.transitions`: since when, when it was
    # (last) submitted, the carrier's date and time window, the carrier's exception codes of the
    # last "action required" (a JSON list) and staff's note with them (or a rejection's reason).
    status_changed_at = DateTimeField(default=utcnow)
    submitted_at = DateTimeField(null=True)
    foc_date = DateField(null=True, index=True)
    foc_window = NulFreeCharField(max_length=100, null=True)
    carrier_codes = TextField(null=True)
    status_note = TextField(null=True)

    class Meta:
        indexes = ((("status", "status_changed_at"), False),)

    @property
    def codes(self):
        """Return the carrier exception codes of the last "action required" (a list)."""
        return json.loads(self.carrier_codes) if self.carrier_codes else []

    @classmethod
    def of_account(cls, account):
        """Return the account's requests, newest first."""
        return (
            cls.select()
            .where(cls.account == account)
            .order_by(cls.created_at.desc(), cls.id.desc())
        )

    @classmethod
    def find(cls, account, request_id, *, for_update=False):
        """Return the account's request with this id, or None (missing and foreign alike).

        `for_update` locks its row until the transaction ends, on PostgreSQL (SQLite's writers
        take the whole database in turn instead: see `request_api.changing`).
        """
        query = cls.select().where((cls.id == request_id) & (cls.account == account))
        if for_update and is_postgresql(db):
            query = query.for_update()
        return query.first()

    @property
    def fields(self):
        """Return the stored fields (all but the numbers) as a dict."""
        return json.loads(self.details)

    def numbers(self):
        """Return the request's numbers in order, in one query."""
        return list(
            PortNumber.select().where(PortNumber.port_request == self).order_by(PortNumber.position)
        )


class PortNumber(BaseModel):
    """A number of a port request, as the owner gave it, with its configuration.

    routing_id and tracking_source_id are the platform's ids, not foreign keys yet: what an
    inventory import does to an id a request still uses comes with the wizard.
    """

    port_request = ForeignKeyField(PortRequest, backref="port_numbers", on_delete="CASCADE")
    position = IntegerField()
    phone_number = NulFreeCharField(max_length=MAX_FIELD_TEXT, null=True)
    e164 = NulFreeCharField(max_length=16, null=True)
    routing_id = IntegerField(null=True)
    tracking_source_id = IntegerField(null=True)
    friendly_name = NulFreeCharField(max_length=MAX_FIELD_TEXT, null=True)
    # Each number's own progress, so one refused number never sinks the others.
    status = NulFreeCharField(max_length=20, null=True)
    reason = NulFreeCharField(max_length=MAX_FIELD_TEXT, null=True)

    class Meta:
        indexes = ((("port_request", "position"), True), (("e164",), False))
