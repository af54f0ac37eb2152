"""The operator commands: schema, inventory import, demo, users, API keys."""

import json
import threading

import pytest

from portal import create_app, inventory
from portal.db import SQLITE_PRAGMAS, db
from portal.demo import DEMO_OWNER_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL
from portal.models import (
    Account,
    ApiKey,
    ReceivingNumber,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    User,
)
from tests.conftest import login, make_config
from tests.test_inventory import acme, document, pausing_after_reads

INVENTORY = {"accounts": [acme()]}


def _write(tmp_path, document, name="inventory.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def _counts(app):
    with app.app_context():
        return [
            model.select().count()
            for model in (
                Account,
                TrackingSource,
                RoutingTarget,
                ReceivingNumber,
                TrackingNumber,
                User,
            )
        ]


def test_inventory_import_stores_the_file(app, runner, tmp_path):
    result = runner.invoke(args=["inventory", "import", str(_write(tmp_path, INVENTORY))])
    assert result.exit_code == 0, result.output
    assert "Imported inventory.json:" in result.output
    with app.app_context():
        assert Account.get_by_id(4242).fail_safe_number == "+13122630000"
        number = TrackingNumber.get(TrackingNumber.number == "+13122630111")
        assert (number.account_id, number.tracking_source_id, number.routing_target_id) == (
            4242,
            501,
            901,
        )
        assert RoutingTarget.get_by_id(901).number == "+13122630100"
        assert User.by_email("ann@acme.test").phone == "+13122630155"


def test_importing_the_same_file_again_changes_nothing(app, runner, tmp_path):
    path = _write(tmp_path, INVENTORY)
    runner.invoke(args=["inventory", "import", str(path)])
    before = _counts(app)
    again = runner.invoke(args=["inventory", "import", str(path)])
    assert again.exit_code == 0
    assert "inventory.json: no changes." in again.output
    assert _counts(app) == before


def test_a_refused_file_names_the_place_and_stores_nothing(app, runner, tmp_path):
    document = json.loads(json.dumps(INVENTORY))
    document["accounts"][0]["tracking_numbers"][0]["routing_id"] = 77
    result = runner.invoke(args=["inventory", "import", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "Refused inventory.json: nothing was imported." in result.output
    assert (
        "accounts[0].tracking_numbers[0].routing_id: no routing target 77 in account 4242"
        in result.output
    )
    assert _counts(app) == [0, 0, 0, 0, 0, 0]


def test_an_import_while_another_runs_too_long_is_refused_in_one_line(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.setitem(SQLITE_PRAGMAS, "busy_timeout", 200)
    monkeypatch.setattr(inventory, "LOCK_WAIT_MS", 200)
    app = create_app(make_config(database_url, tmp_path / "instance"))
    other_has_read, other_may_finish = threading.Event(), threading.Event()

    def hold_the_lock():
        if threading.current_thread() is not threading.main_thread():
            other_has_read.set()
            other_may_finish.wait(10)

    pausing_after_reads(monkeypatch, hold_the_lock)

    def other_import():
        with db.connection_context():
            inventory.import_inventory(document(acme()))

    other = threading.Thread(target=other_import)
    other.start()
    assert other_has_read.wait(10)
    try:
        result = app.test_cli_runner().invoke(
            args=["inventory", "import", str(_write(tmp_path, INVENTORY))]
        )
    finally:
        other_may_finish.set()
        other.join()

    assert result.exit_code == 1
    assert result.output == (
        "Refused inventory.json: nothing was imported.\n"
        "  another import was still writing after 0.2 seconds; "
        "run this import again when it has finished\n"
    )


def test_malformed_json_is_refused_with_its_line(app, runner, tmp_path):
    result = runner.invoke(
        args=["inventory", "import", str(_write(tmp_path, '{"accounts": [\n{"id": 1,,}]}'))]
    )
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert _counts(app) == [0, 0, 0, 0, 0, 0]


def test_a_missing_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["inventory", "import", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_dry_run_reports_and_stores_nothing(app, runner, tmp_path):
    result = runner.invoke(
        args=["inventory", "import", "--dry-run", str(_write(tmp_path, INVENTORY))]
    )
    assert result.exit_code == 0, result.output
    assert "Checked (dry run, nothing stored) inventory.json:" in result.output
    assert _counts(app) == [0, 0, 0, 0, 0, 0]


def test_seed_demo_prints_logins_that_work(app, runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"owner  {DEMO_OWNER_EMAIL}  password: {DEMO_PASSWORD}" in result.output
    assert f"staff  {DEMO_STAFF_EMAIL}  password: {DEMO_PASSWORD}" in result.output
    assert login(client, DEMO_OWNER_EMAIL, DEMO_PASSWORD).status_code == 302
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Lakeside Dental Group" in home


def test_seed_demo_twice_leaves_one_demo(app, runner):
    runner.invoke(args=["seed-demo"])
    first = _counts(app)
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert _counts(app) == first
    with app.app_context():
        assert User.select().where(User.role == "staff").count() == 1
        assert TrackingNumber.select().where(TrackingNumber.account == 4242).count() >= 5
        assert RoutingTarget.select().where(RoutingTarget.account == 4242).count() >= 4


def test_user_create_with_a_prompted_password(app, runner, client, accounts):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "New@Acme.test",
            "--name",
            "Nia New",
            "--account",
            "4242",
            "--phone",
            "(312) 263-0177",
        ],
        input="long enough password\nlong enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created owner new@acme.test in account 4242." in result.output
    with app.app_context():
        user = User.by_email("new@acme.test")
        assert (user.role, user.account_id, user.phone) == ("owner", 4242, "+13122630177")
        assert "long enough password" not in user.password_hash
    assert login(client, "new@acme.test", "long enough password").status_code == 302


def test_user_create_with_a_generated_password(runner, client, app):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "ops@portdesk.test",
            "--name",
            "Ops",
            "--role",
            "staff",
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("Password (shown once): ")[1].split()[0]
    assert login(client, "ops@portdesk.test", password).status_code == 302
    assert client.get("/", follow_redirects=True).request.path == "/queue/"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "owner"], "An owner belongs to an account: give --account ID."),
        (["--role", "owner", "--account", "999"], "No account 999."),
        (["--role", "staff", "--account", "4242"], "Staff work across accounts"),
        (["--role", "owner", "--account", "4242", "--phone", "12"], "--phone '12' is not"),
        (["--role", "staff", "--email", "ann.acme.test"], "'ann.acme.test' is not an email"),
    ],
)
def test_user_create_refuses_bad_input(runner, accounts, arguments, message):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "x@acme.test",
            "--name",
            "X",
            *arguments,
            "--generate-password",
        ]
    )
    assert result.exit_code == 1
    assert message in result.output


def test_user_create_refuses_a_taken_email(runner, owner):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "OWNER@acme.test",
            "--name",
            "Twin",
            "--account",
            "4242",
            "--generate-password",
        ]
    )
    assert result.exit_code == 1
    assert "A user with email owner@acme.test already exists." in result.output


def test_user_create_refuses_a_short_password(runner, accounts, app):
    result = runner.invoke(
        args=["user", "create", "--email", "s@acme.test", "--name", "S", "--account", "4242"],
        input="short\nshort\n",
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    with app.app_context():
        assert User.by_email("s@acme.test") is None


def test_set_password_lets_an_imported_user_sign_in(app, runner, client, tmp_path):
    runner.invoke(args=["inventory", "import", str(_write(tmp_path, INVENTORY))])
    assert login(client, "ann@acme.test", "").status_code == 200
    result = runner.invoke(
        args=["user", "set-password", "ann@acme.test"],
        input="a brand new password\na brand new password\n",
    )
    assert result.exit_code == 0, result.output
    assert login(client, "ann@acme.test", "a brand new password").status_code == 302


def test_api_key_create_prints_the_key_once_and_stores_only_a_hash(app, runner, accounts):
    result = runner.invoke(args=["api-key", "create", "--account", "4242", "--name", "CRM"])
    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[1]
    assert key.startswith("pd_")
    with app.app_context():
        row = ApiKey.get()
        assert key not in (row.key_hash, row.prefix, row.name)
        assert row.account_id == 4242
        assert ApiKey.find_active(key) == row
        assert ApiKey.find_active(key + "x") is None


def test_api_key_create_for_an_unknown_account(runner):
    result = runner.invoke(args=["api-key", "create", "--account", "31337"])
    assert result.exit_code == 1
    assert "No account 31337." in result.output


def test_db_commands(runner):
    assert "The database is up to date." in runner.invoke(args=["db", "upgrade"]).output
    status = runner.invoke(args=["db", "status"])
    assert status.exit_code == 0
    assert status.output.startswith("0001_initial  2")
