"""Documents owners upload (a bill, a signed LOA, a fax port's proof and LOA) and fax port tickets.

A document's bytes live in the database, in a table of their own (`DocumentContent`) so that
listing documents never reads them: one store to back up, written in the same transaction as the
request change it belongs to. The browser's file name is kept only as a label.
"""

from peewee import (
    BlobField,
    Check,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.accounts import Account, User
from portal.models.base import BaseModel, NulFreeCharField, utcnow
from portal.models.requests import PortRequest

KINDS = ("bill", "signed_loa", "fax_proof", "fax_loa")


class FaxTicket(BaseModel):
    """A request to port fax numbers, worked by Carrier Relations as a ticket (not the wizard)."""

    account = ForeignKeyField(Account, backref="fax_tickets", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    title = NulFreeCharField(max_length=200)
    # The fax numbers in E.164, as a JSON list, in the order given.
    numbers = TextField(default="[]")
    status = NulFreeCharField(max_length=20, default="submitted")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def of_account(cls, account):
        """Return the account's fax tickets, newest first."""
        return (
            cls.select()
            .where(cls.account == account)
            .order_by(cls.created_at.desc(), cls.id.desc())
        )


class Document(BaseModel):
    """One uploaded file: what it is (by its content), its hash, who uploaded it and when.

    A request (or a fax ticket) holds at most one current document of each kind; replacing one
    sets `replaced_at` on the old, which stays in the request's history.
    """

    account = ForeignKeyField(Account, backref="documents", on_delete="CASCADE")
    port_request = ForeignKeyField(PortRequest, null=True, backref="documents", on_delete="CASCADE")
    fax_ticket = ForeignKeyField(FaxTicket, null=True, backref="documents", on_delete="CASCADE")
    kind = NulFreeCharField(
        max_length=20, constraints=[Check("kind IN ('bill', 'signed_loa', 'fax_proof', 'fax_loa')")]
    )
    label = NulFreeCharField(max_length=255)  # the browser's file name, shown, never a path
    media_type = NulFreeCharField(max_length=40)  # as detected from the content
    size = IntegerField()
    sha256 = NulFreeCharField(max_length=64, index=True)
    pages = IntegerField()
    # The PDF's text layer (for the bill read against the request); None without one.
    text = TextField(null=True)
    statement_date = DateField(null=True)  # a bill's
    signed_date = DateField(null=True)  # a signed LOA's
    # A signed LOA's: the digest of the request's LOA data it was signed for (loa.digest).
    loa_digest = NulFreeCharField(max_length=64, null=True)
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    uploaded_by_name = NulFreeCharField(max_length=300)
    uploaded_at = DateTimeField(default=utcnow)
    replaced_at = DateTimeField(null=True)


class DocumentContent(BaseModel):
    """A document's bytes, exactly as uploaded."""

    document = ForeignKeyField(
        Document, primary_key=True, backref="content_row", on_delete="CASCADE"
    )
    content = BlobField()
