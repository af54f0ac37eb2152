"""Documents (their bytes in a table of their own), fax port tickets, and warnings confirmed."""

from peewee import (
    BlobField,
    CharField,
    Check,
    DateField,
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

    class Account(Model):
        Meta = table("account")

    class User(Model):
        Meta = table("users")

    class PortRequest(Model):
        Meta = table("port_request")

    class FaxTicket(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        title = CharField(max_length=200)
        numbers = TextField()
        status = CharField(max_length=20)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        Meta = table("fax_ticket")

    class Document(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        port_request = ForeignKeyField(PortRequest, null=True, on_delete="CASCADE")
        fax_ticket = ForeignKeyField(FaxTicket, null=True, on_delete="CASCADE")
        kind = CharField(
            max_length=20,
            constraints=[Check("kind IN ('bill', 'signed_loa', 'fax_proof', 'fax_loa')")],
        )
        label = CharField(max_length=255)
        media_type = CharField(max_length=40)
        size = IntegerField()
        sha256 = CharField(max_length=64, index=True)
        pages = IntegerField()
        text = TextField(null=True)
        statement_date = DateField(null=True)
        signed_date = DateField(null=True)
        uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        uploaded_by_name = CharField(max_length=300)
        uploaded_at = DateTimeField()
        replaced_at = DateTimeField(null=True)
        Meta = table("document")

    class DocumentContent(Model):
        document = ForeignKeyField(Document, primary_key=True, on_delete="CASCADE")
        content = BlobField()
        Meta = table("document_content")

    class WarningConfirmation(Model):
        port_request = ForeignKeyField(PortRequest, on_delete="CASCADE")
        field = CharField(max_length=200)
        code = CharField(max_length=60)
        message = TextField()
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        user_name = CharField(max_length=300)
        confirmed_at = DateTimeField()
        Meta = table("warning_confirmation")

    db.create_tables([FaxTicket, Document, DocumentContent, WarningConfirmation])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("warning_confirmation"),
        migrator.drop_table("document_content"),
        migrator.drop_table("document"),
        migrator.drop_table("fax_ticket"),
    )
