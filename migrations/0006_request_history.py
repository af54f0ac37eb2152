"""A request's history (timeline, agreements accepted, receiving-number re-routes), and
number_claim.port_request_id as a foreign key to the request that holds the claim.

SQLite cannot add a foreign key to an existing column, so there the claims table is rebuilt
(created anew, copied, swapped) inside the migration's transaction. A claim naming a request that
does not exist keeps its number held but loses the dangling id.
"""

from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def _tables(db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class PortRequest(Model):
        class Meta:
            database = db
            table_name = "port_request"

    class RequestEvent(Model):
        port_request = ForeignKeyField(PortRequest, on_delete="CASCADE")
        at = DateTimeField(index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        actor = CharField(max_length=300)
        kind = CharField(max_length=40)
        message = TextField()

        class Meta:
            database = db
            table_name = "request_event"

    class AgreementAcceptance(Model):
        port_request = ForeignKeyField(PortRequest, on_delete="CASCADE")
        statement = CharField(max_length=40)
        text = TextField()
        text_sha256 = CharField(max_length=64)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        user_name = CharField(max_length=300)
        accepted_at = DateTimeField()
        ip = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "agreement_acceptance"
            indexes = ((("port_request", "statement", "text_sha256"), True),)

    class ReceivingReroute(Model):
        port_request = ForeignKeyField(PortRequest, on_delete="CASCADE")
        receiving_number = CharField(max_length=16)
        tracking_number = CharField(max_length=16, null=True)
        routing_id = IntegerField(null=True)

        class Meta:
            database = db
            table_name = "receiving_reroute"
            indexes = ((("port_request", "tracking_number"), True),)

    class NumberClaim(Model):
        number = CharField(unique=True, max_length=16)
        account = ForeignKeyField(Account, on_delete="CASCADE")
        port_request = ForeignKeyField(
            PortRequest, null=True, column_name="port_request_id", on_delete="CASCADE"
        )
        claimed_at = DateTimeField()

        class Meta:
            database = db
            table_name = "number_claim"

    return (RequestEvent, AgreementAcceptance, ReceivingReroute), NumberClaim


def up(migrator, db):
    history, NumberClaim = _tables(db)
    db.create_tables(history)
    dangling = (
        "UPDATE number_claim SET port_request_id = NULL WHERE port_request_id IS NOT NULL "
        "AND port_request_id NOT IN (SELECT id FROM port_request)"
    )
    db.execute_sql(dangling)
    if _is_postgresql(db):
        db.execute_sql(
            "ALTER TABLE number_claim ADD CONSTRAINT number_claim_port_request_id_fkey "
            "FOREIGN KEY (port_request_id) REFERENCES port_request (id) ON DELETE CASCADE"
        )
        db.execute_sql(
            "CREATE INDEX number_claim_port_request_id ON number_claim (port_request_id)"
        )
        return
    db.execute_sql("ALTER TABLE number_claim RENAME TO number_claim_old")
    for index in db.get_indexes("number_claim_old"):
        db.execute_sql(f'DROP INDEX "{index.name}"')
    db.create_tables([NumberClaim])
    db.execute_sql(
        "INSERT INTO number_claim (id, number, account_id, port_request_id, claimed_at) "
        "SELECT id, number, account_id, port_request_id, claimed_at FROM number_claim_old"
    )
    db.execute_sql("DROP TABLE number_claim_old")


def _is_postgresql(db):
    from peewee import PostgresqlDatabase

    return isinstance(db, PostgresqlDatabase)


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("receiving_reroute"),
        migrator.drop_table("agreement_acceptance"),
        migrator.drop_table("request_event"),
    )
