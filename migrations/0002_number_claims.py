"""Number claims: which numbers active port requests hold, for the `in_active_port` check."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class NumberClaim(Model):
        number = CharField(unique=True, max_length=16)
        account = ForeignKeyField(Account, on_delete="CASCADE")
        port_request_id = IntegerField(null=True)
        claimed_at = DateTimeField()

        class Meta:
            database = db
            table_name = "number_claim"

    db.create_tables([NumberClaim])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("number_claim"))
