"""Numbers on their way in: those held by a port request, and the CSVs of numbers owners upload."""

from peewee import BlobField, DateTimeField, ForeignKeyField

from portal.models.accounts import Account, User
from portal.models.base import BaseModel, NulFreeCharField, utcnow
from portal.models.requests import PortRequest


class NumberClaim(BaseModel):
    """A number held by a submitted, in-progress or completed port request (any account).

    A row exists only while the claim is active: the request issues add it on submit and delete
    it when a request is cancelled or rejected. The unique number is what stops two requests
    from porting the same number.
    """

    number = NulFreeCharField(max_length=16, unique=True)
    account = ForeignKeyField(Account, backref="number_claims", on_delete="CASCADE")
    port_request = ForeignKeyField(
        PortRequest, null=True, column_name="port_request_id", on_delete="CASCADE"
    )
    claimed_at = DateTimeField(default=utcnow)


class NumberUpload(BaseModel):
    """A CSV of numbers an owner uploaded, kept as sent so nothing uploaded is lost.

    The check page re-reads it to filter or download its results; the wizard takes its numbers,
    with their routing and tracking source ids, to the configure step.
    """

    account = ForeignKeyField(Account, backref="number_uploads", on_delete="CASCADE")
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    filename = NulFreeCharField(max_length=255)
    content = BlobField()
    created_at = DateTimeField(default=utcnow)
