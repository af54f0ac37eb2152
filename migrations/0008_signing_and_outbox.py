"""The signing tables (envelopes and their hash-chained events), the email outbox, and which
LOA data a signed LOA was signed for."""

from peewee import (
    BlobField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    def table(name):
        class Meta:
            database = db
            table_name = name

        return Meta

    class SigningEnvelope(Model):
        reference = CharField(max_length=100, index=True)
        requester_name = CharField(max_length=300)
        requested_by = CharField(max_length=300)
        title = CharField(max_length=300)
        document = BlobField()
        document_sha256 = CharField(max_length=64)
        content_key = CharField(max_length=64)
        boxes = TextField()
        method = CharField(max_length=10, constraints=[Check("method IN ('email', 'self')")])
        signer_name = CharField(max_length=300)
        signer_email = CharField(max_length=320)
        message = TextField(null=True)
        status = CharField(
            max_length=12,
            constraints=[
                Check(
                    "status IN ('sent', 'opened', 'signed', 'declined', 'cancelled', 'void', "
                    "'replaced')"
                )
            ],
        )
        generation = IntegerField()
        created_at = DateTimeField()
        expires_at = DateTimeField()
        reminders = IntegerField()
        last_sent_at = DateTimeField()
        signed_at = DateTimeField(null=True)
        signed_sha256 = CharField(max_length=64, null=True)
        decline_reason = TextField(null=True)
        last_hash = CharField(max_length=64, null=True)
        Meta = table("signing_envelope")

    class SigningEvent(Model):
        envelope = ForeignKeyField(SigningEnvelope, on_delete="CASCADE")
        seq = IntegerField()
        kind = CharField(max_length=30)
        at = DateTimeField()
        actor = CharField(max_length=400)
        ip = CharField(max_length=64)
        user_agent = CharField(max_length=500)
        detail = TextField()
        previous_hash = CharField(max_length=64)
        hash = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "signing_event"
            indexes = ((("envelope", "seq"), True),)

    class OutboxEmail(Model):
        to_address = CharField(max_length=320)
        subject = CharField(max_length=300)
        text_body = TextField()
        html_body = TextField(null=True)
        purpose = CharField(max_length=40)
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
        Meta = table("outbox_email")

    db.create_tables([SigningEnvelope, SigningEvent, OutboxEmail])
    # The digest of the request's LOA data a signed LOA was made or uploaded for: a change of any
    # field on the LOA makes it outdated.
    migrator.migrate(
        migrator.add_column("document", "loa_digest", CharField(max_length=64, null=True))
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("document", "loa_digest"))
    db.execute_sql("DROP TABLE outbox_email")
    db.execute_sql("DROP TABLE signing_event")
    db.execute_sql("DROP TABLE signing_envelope")
