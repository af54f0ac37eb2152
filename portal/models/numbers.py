"""Numbers on their way in: those held by a port request, the CSVs of numbers owners upload, and
which numbers are taken (tracking or claimed), the mirror the portability check probes."""

from peewee import BlobField, BooleanField, DateTimeField, ForeignKeyField, IntegerField

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


class TakenNumber(BaseModel):
    """A number that is a tracking number, claimed by a port request, or both: the one index the
    portability check probes per number (migrations/0010_taken_numbers.py).

    The database keeps it: triggers on tracking_number and number_claim write it on every insert,
    delete (cascades included) and update of a number, so the app only reads it. The claim's
    account and request say whose claim it is, for "claims held by the request being checked
    are its own".
    """

    number = NulFreeCharField(max_length=16, primary_key=True)
    tracking = BooleanField(default=False)
    claim_account_id = IntegerField(null=True)
    claim_request_id = IntegerField(null=True)
