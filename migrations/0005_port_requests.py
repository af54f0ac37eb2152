"""Port requests and their numbers.

number_claim.port_request_id stays a plain integer for now: SQLite cannot add a foreign key to an
existing column without rebuilding the table, which playhouse.migrations does not do.
"""

from peewee import (
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

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


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    statuses = ", ".join(f"'{status}'" for status in STATUSES)

    class PortRequest(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        status = CharField(
            max_length=20, default="draft", constraints=[Check(f"status IN ({statuses})")]
        )
        details = TextField()
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "port_request"

    class PortNumber(Model):
        port_request = ForeignKeyField(PortRequest, on_delete="CASCADE")
        position = IntegerField()
        phone_number = CharField(max_length=10_000, null=True)
        e164 = CharField(max_length=16, null=True)
        routing_id = IntegerField(null=True)
        tracking_source_id = IntegerField(null=True)
        friendly_name = CharField(max_length=10_000, null=True)
        status = CharField(max_length=20, null=True)
        reason = CharField(max_length=10_000, null=True)

        class Meta:
            database = db
            table_name = "port_number"
            indexes = ((("port_request", "position"), True),)

    db.create_tables([PortRequest, PortNumber])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("port_number"), migrator.drop_table("port_request"))
