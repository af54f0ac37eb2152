"""The staff console: where a request stands (since when, its FOC date, the carrier's codes and
staff's note), the comments on a request, and the account's webhooks with every delivery and
attempt. Indexes for the queue's filters and its search by number."""

from peewee import (
    BooleanField,
    CharField,
    Check,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def _tables(db):
    def meta(name, indexes=()):
        return type("Meta", (), {"database": db, "table_name": name, "indexes": indexes})

    class Account(Model):
        Meta = meta("account")

    class User(Model):
        Meta = meta("users")

    class PortRequest(Model):
        Meta = meta("port_request")

    class RequestComment(Model):
        port_request = ForeignKeyField(PortRequest, on_delete="CASCADE")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        author = CharField(max_length=300)
        by_staff = BooleanField()
        internal = BooleanField()
        body = TextField()
        created_at = DateTimeField()
        Meta = meta("request_comment", ((("port_request", "created_at"), False),))

    class Webhook(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        url = CharField(max_length=2000)
        secret = CharField(max_length=100)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        active = BooleanField()
        Meta = meta("webhook")

    class WebhookDelivery(Model):
        webhook = ForeignKeyField(Webhook, on_delete="CASCADE")
        event_id = CharField(max_length=40)
        event = CharField(max_length=60)
        body = TextField()
        reference = CharField(max_length=100, null=True)
        status = CharField(
            max_length=10,
            constraints=[Check("status IN ('queued', 'sending', 'sent', 'failed')")],
        )
        attempts = IntegerField()
        last_error = TextField(null=True)
        created_at = DateTimeField()
        next_attempt_at = DateTimeField(index=True)
        lease_until = DateTimeField(null=True)
        sent_at = DateTimeField(null=True)
        Meta = meta("webhook_delivery", ((("webhook", "created_at"), False),))

    class WebhookAttempt(Model):
        delivery = ForeignKeyField(WebhookDelivery, on_delete="CASCADE")
        at = DateTimeField()
        status_code = IntegerField(null=True)
        error = TextField(null=True)
        duration_ms = IntegerField()
        Meta = meta("webhook_attempt", ((("delivery", "at"), False),))

    return [RequestComment, Webhook, WebhookDelivery, WebhookAttempt]


def up(migrator, db):
    db.create_tables(_tables(db))
    migrator.migrate(
        # When the request entered its status (the queue's "time in status" and its sort).
        migrator.add_column("port_request", "status_changed_at", DateTimeField(null=True)),
        migrator.add_column("port_request", "submitted_at", DateTimeField(null=True)),
        migrator.add_column("port_request", "foc_date", DateField(null=True)),
        migrator.add_column("port_request", "foc_window", CharField(max_length=100, null=True)),
        # The carrier exception codes of the last "action required", as a JSON list.
        migrator.add_column("port_request", "carrier_codes", TextField(null=True)),
        # Staff's note with the last "action required", or the reason of a rejection.
        migrator.add_column("port_request", "status_note", TextField(null=True)),
        migrator.add_index("port_request", ("status", "status_changed_at"), False),
        migrator.add_index("port_request", ("foc_date",), False),
        migrator.add_index("port_number", ("e164",), False),
    )
    # Until now a request's updated_at moved with its status; submitted ones never changed after.
    db.execute_sql("UPDATE port_request SET status_changed_at = updated_at")
    db.execute_sql("UPDATE port_request SET submitted_at = updated_at WHERE status <> 'draft'")


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("port_number", "port_number_e164"),
        migrator.drop_index("port_request", "port_request_foc_date"),
        migrator.drop_index("port_request", "port_request_status_status_changed_at"),
        *(
            migrator.drop_column("port_request", column)
            for column in (
                "status_note",
                "carrier_codes",
                "foc_window",
                "foc_date",
                "submitted_at",
                "status_changed_at",
            )
        ),
    )
    for table in ("webhook_attempt", "webhook_delivery", "webhook", "request_comment"):
        db.execute_sql(f"DROP TABLE {table}")
