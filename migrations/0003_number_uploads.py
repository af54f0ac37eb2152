"""Number uploads: the CSV files owners upload, kept as sent."""

from peewee import BlobField, CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class NumberUpload(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        filename = CharField(max_length=255)
        content = BlobField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "number_upload"

    db.create_tables([NumberUpload])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("number_upload"))
