"""Kept uploads: the CSV files owners uploaded, kept as sent, and how long they stay.

An upload is kept so the check page can filter and download its results, and so the port
request wizard can take its numbers. Each account keeps its newest UPLOADS_KEPT_PER_ACCOUNT;
`flask uploads prune`, run daily from cron, deletes those older than UPLOADS_KEPT_DAYS. Neither
ever deletes an upload a port request uses: `_unused()` is the one place that says which those are.
"""

from datetime import timedelta

import click

from portal.db import db
from portal.models import NumberUpload, utcnow

UPLOADS_KEPT_PER_ACCOUNT = 200
UPLOADS_KEPT_DAYS = 7


def keep_upload(account, user, filename, content):
    """Store an upload; in the same transaction delete the account's oldest beyond the cap."""
    with db.atomic():
        upload = NumberUpload.create(
            account=account, uploaded_by=user, filename=_label(filename), content=content
        )
        newest_first = (
            NumberUpload.select(NumberUpload.id)
            .where(NumberUpload.account == account)
            .order_by(NumberUpload.id.desc())
            .offset(UPLOADS_KEPT_PER_ACCOUNT)
        )
        _delete(NumberUpload.id.in_(newest_first))
    return upload


def _label(filename):
    # The browser's name is only a label to show: no control characters (a NUL among them), and
    # the same text on the page now as when it is read back.
    label = "".join(char for char in filename if char.isprintable()).strip()
    return label[:255] or "upload.csv"


def prune_uploads(older_than_days=UPLOADS_KEPT_DAYS, now=None):
    """Delete the uploads no request uses that are older than the given days; return how many."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    return _delete(NumberUpload.created_at < cutoff)


def _delete(condition):
    return NumberUpload.delete().where(condition, NumberUpload.id.in_(_unused())).execute()


def _unused():
    """Return the ids of the uploads no port request uses.

    None does yet; when a port request references an upload, exclude those here, e.g.
    `.where(~fn.EXISTS(PortRequest.select().where(PortRequest.upload == NumberUpload.id)))`.
    """
    return NumberUpload.select(NumberUpload.id)


@click.group("uploads", help="The CSV files owners uploaded, kept for their results.")
def uploads_cli():
    pass


@uploads_cli.command("prune")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=UPLOADS_KEPT_DAYS,
    show_default=True,
    help="Delete uploads older than this many days.",
)
def uploads_prune(days):
    """Delete kept uploads that no port request uses and are older than --days (run daily)."""
    deleted = prune_uploads(older_than_days=days)
    uploads = "upload" if deleted == 1 else "uploads"
    day_word = "day" if days == 1 else "days"
    click.echo(f"Deleted {deleted:,} kept {uploads} older than {days} {day_word}.")
