"""Kept uploads: the cap per account, pruning by age, and the cron command."""

import io
from datetime import datetime, timedelta

import pytest

from portal import uploads
from portal.models import Account, NumberUpload, User, utcnow
from portal.uploads import keep_upload, prune_uploads

NOW = datetime(2026, 3, 10, 12, 0)


@pytest.fixture
def acme(database):
    return Account.create(id=4242, name="Acme Dental")


@pytest.fixture
def globex(database):
    return Account.create(id=5151, name="Globex Plumbing")


def _kept(account):
    query = NumberUpload.select().where(NumberUpload.account == account).order_by(NumberUpload.id)
    return [upload.filename for upload in query]


def test_an_upload_is_kept_as_sent(acme):
    ann = User.create(email="ann@acme.test", name="Ann", role="owner", account=acme)
    upload = keep_upload(acme, ann, "numbers.csv", b"number\r\n3122630111\r\n")
    stored = NumberUpload.get_by_id(upload.id)
    assert (stored.account_id, stored.uploaded_by_id, stored.filename) == (
        4242,
        ann.id,
        "numbers.csv",
    )
    assert bytes(stored.content) == b"number\r\n3122630111\r\n"


def test_a_long_filename_is_cut_to_what_the_column_holds(acme):
    upload = keep_upload(acme, None, "n" * 300 + ".csv", b"3122630111")
    assert NumberUpload.get_by_id(upload.id).filename == "n" * 255


def test_an_account_keeps_only_its_newest_uploads(acme, globex, monkeypatch):
    monkeypatch.setattr(uploads, "UPLOADS_KEPT_PER_ACCOUNT", 3)
    keep_upload(globex, None, "theirs.csv", b"2127365000")
    for n in range(1, 6):
        keep_upload(acme, None, f"{n}.csv", b"3122630111")
    assert _kept(acme) == ["3.csv", "4.csv", "5.csv"]
    assert _kept(globex) == ["theirs.csv"]


def _upload(account, filename, age):
    return NumberUpload.create(
        account=account, filename=filename, content=b"3122630111", created_at=NOW - age
    )


def test_prune_deletes_uploads_older_than_the_days_given(acme, globex):
    _upload(acme, "old.csv", timedelta(days=7, seconds=1))
    _upload(globex, "theirs-old.csv", timedelta(days=30))
    _upload(acme, "recent.csv", timedelta(days=6, hours=23))
    assert prune_uploads(now=NOW) == 2
    assert _kept(acme) == ["recent.csv"]
    assert _kept(globex) == []
    assert prune_uploads(older_than_days=1, now=NOW) == 1
    assert _kept(acme) == []


def test_prune_with_nothing_to_delete_says_zero(acme):
    _upload(acme, "today.csv", timedelta(hours=1))
    assert prune_uploads(now=NOW) == 0
    assert _kept(acme) == ["today.csv"]


def _aged_uploads(app, *ages):
    with app.app_context():
        account = Account.create(id=4242, name="Acme Dental")
        for n, age in enumerate(ages):
            NumberUpload.create(
                account=account,
                filename=f"{n}.csv",
                content=b"3122630111",
                created_at=utcnow() - age,
            )


def _count(app):
    with app.app_context():
        return NumberUpload.select().count()


def test_the_prune_command_says_how_many_it_deleted(app, runner):
    _aged_uploads(app, timedelta(days=8), timedelta(days=9), timedelta(days=1))
    result = runner.invoke(args=["uploads", "prune"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 2 kept uploads older than 7 days.\n"
    assert _count(app) == 1


def test_the_prune_command_takes_the_days(app, runner):
    _aged_uploads(app, timedelta(days=2), timedelta(hours=1))
    result = runner.invoke(args=["uploads", "prune", "--days", "1"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 1 kept upload older than 1 day.\n"
    assert _count(app) == 1


@pytest.mark.parametrize("days", ["0", "-3", "seven", "99999999999999999999"])
def test_the_prune_command_refuses_a_bad_number_of_days(app, runner, days):
    _aged_uploads(app, timedelta(days=30))
    result = runner.invoke(args=["uploads", "prune", "--days", days])
    assert result.exit_code == 2
    assert "Invalid value for '--days'" in result.output
    assert "Traceback" not in result.output
    assert _count(app) == 1


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("a\x00b.csv", "ab.csv"), ("tab\t.csv", "tab.csv"), ("\x00\x01", "upload.csv")],
)
def test_the_name_shown_is_the_name_kept_without_control_characters(app, owner_client, sent, kept):
    csv_file = (io.BytesIO(b"phone_number\n2127365000\n"), sent)
    response = owner_client.post("/check/", data={"csv_file": csv_file})
    assert f"1 number checked from {kept}" in response.get_data(as_text=True)
    with app.app_context():
        assert [upload.filename for upload in NumberUpload.select()] == [kept]
