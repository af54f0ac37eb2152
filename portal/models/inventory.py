"""The platform's inventory, copied by `inventory import`: each row keeps the platform's own id,
so "routing 901" means the same thing here and on the platform."""

from peewee import BooleanField, ForeignKeyField, IntegerField

from portal.models.accounts import Account
from portal.models.base import BaseModel, NulFreeCharField


class TrackingSource(BaseModel):
    id = IntegerField(primary_key=True)
    account = ForeignKeyField(Account, backref="tracking_sources", on_delete="CASCADE")
    name = NulFreeCharField(max_length=200)


class RoutingTarget(BaseModel):
    id = IntegerField(primary_key=True)
    account = ForeignKeyField(Account, backref="routing_targets", on_delete="CASCADE")
    name = NulFreeCharField(max_length=200)
    kind = NulFreeCharField(max_length=40)
    # The number it rings, where it has one (a receiving-number target does).
    number = NulFreeCharField(max_length=16, null=True)


class ReceivingNumber(BaseModel):
    account = ForeignKeyField(Account, backref="receiving_numbers", on_delete="CASCADE")
    number = NulFreeCharField(max_length=16)
    name = NulFreeCharField(max_length=200, default="")
    active = BooleanField(default=True)

    class Meta:
        indexes = ((("account", "number"), True),)


class TrackingNumber(BaseModel):
    number = NulFreeCharField(max_length=16, unique=True)
    account = ForeignKeyField(Account, backref="tracking_numbers", on_delete="CASCADE")
    tracking_source = ForeignKeyField(TrackingSource, null=True, on_delete="SET NULL")
    routing_target = ForeignKeyField(RoutingTarget, null=True, on_delete="SET NULL")
