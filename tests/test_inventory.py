"""Importing the platform's inventory: what is stored, what is refused and why (no Flask)."""

import json
import threading
import time

import pytest

from portal import inventory
from portal.db import db
from portal.inventory import ImportSummary, InventoryError, import_inventory, load_inventory
from portal.models import (
    Account,
    ReceivingNumber,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    User,
)
from tests.conftest import ON_POSTGRES

INVENTORY = [Account, TrackingSource, RoutingTarget, ReceivingNumber, TrackingNumber, User]
FAST_HASH = "pbkdf2:sha256:1000"


def acme():
    """The account of the format's example, numbers written the ways people write them."""
    return {
        "id": 4242,
        "name": "Acme Dental",
        "fail_safe_number": "+1 312 263 0000",
        "tracking_sources": [{"id": 501, "name": "Google Ads"}],
        "routing_targets": [
            {
                "id": 901,
                "name": "Front desk",
                "kind": "receiving_number",
                "number": "(312) 263-0100",
            },
            {"id": 902, "name": "Sales queue", "kind": "call_queue"},
        ],
        "receiving_numbers": [{"number": "312-263-0100", "name": "Front desk"}],
        "tracking_numbers": [
            {"number": "+13122630111", "tracking_source_id": 501, "routing_id": 901},
            {"number": "312 263 0112", "routing_id": 902},
        ],
        "users": [
            {
                "email": "Ann@Acme.test",
                "name": "Ann Owner",
                "phone": "312.263.0155",
                "role": "owner",
            }
        ],
    }


def globex():
    return {
        "id": 5151,
        "name": "Globex Plumbing",
        "tracking_sources": [{"id": 601, "name": "Yelp"}],
        "routing_targets": [{"id": 951, "name": "Dispatch", "kind": "call_queue"}],
        "tracking_numbers": [
            {"number": "312-263-0999", "tracking_source_id": 601, "routing_id": 951}
        ],
        "users": [{"email": "olga@globex.test", "name": "Olga Other"}],
    }


def document(*accounts):
    return {"accounts": list(accounts)}


def rows(model):
    return list(model.select().order_by(model.id).tuples())


def snapshot():
    return {model.__name__: rows(model) for model in INVENTORY}


@pytest.fixture
def seeded(database):
    """Account 5151 (not Acme) stored with its inventory, and a staff user."""
    import_inventory(document(globex()))
    User.create(email="sam@portdesk.test", name="Sam Staff", role="staff")
    return snapshot()


def writes(sql):
    return [s for s in sql if s.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_full_import_stores_every_object_in_e164(database):
    summary = import_inventory(document(acme()))

    assert summary.changed
    assert summary.lines() == [
        "accounts: 1 created, 0 updated, 0 removed, 0 unchanged",
        "tracking sources: 1 created, 0 updated, 0 removed, 0 unchanged",
        "routing targets: 2 created, 0 updated, 0 removed, 0 unchanged",
        "receiving numbers: 1 created, 0 updated, 0 removed, 0 unchanged",
        "tracking numbers: 2 created, 0 updated, 0 removed, 0 unchanged",
        "users: 1 created, 0 updated, 0 removed, 0 unchanged",
    ]
    account = Account.get_by_id(4242)
    assert (account.name, account.fail_safe_number) == ("Acme Dental", "+13122630000")
    assert rows(TrackingSource) == [(501, 4242, "Google Ads")]
    assert rows(RoutingTarget) == [
        (901, 4242, "Front desk", "receiving_number", "+13122630100"),
        (902, 4242, "Sales queue", "call_queue", None),
    ]
    assert [row[1:] for row in rows(ReceivingNumber)] == [
        (4242, "+13122630100", "Front desk", True)
    ]
    assert [row[1:] for row in rows(TrackingNumber)] == [
        ("+13122630111", 4242, 501, 901),
        ("+13122630112", 4242, None, 902),
    ]
    user = User.get()
    assert (user.email, user.name, user.phone, user.role, user.account_id) == (
        "ann@acme.test",
        "Ann Owner",
        "+13122630155",
        "owner",
        4242,
    )
    assert user.password_hash is None
    assert not user.check_password("")


def test_reimport_of_the_same_document_writes_nothing(database, statements):
    import_inventory(document(acme(), globex()))
    before = snapshot()
    statements.clear()

    summary = import_inventory(document(acme(), globex()))

    assert not summary.changed
    assert statements, "the statement counter saw nothing"
    assert writes(statements) == []
    assert snapshot() == before
    assert summary.tracking_numbers.unchanged == 3
    assert summary.lines()[4] == "tracking numbers: 0 created, 0 updated, 0 removed, 3 unchanged"


def test_changed_document_updates_in_place_adds_and_removes(database):
    import_inventory(document(acme()))
    before = snapshot()
    changed = acme()
    changed["name"] = "Acme Dental Group"
    changed["tracking_sources"][0]["name"] = "Google Ads (search)"
    changed["routing_targets"].pop()  # 902 goes; the number routed to it is rerouted below
    changed["receiving_numbers"] = [
        {"number": "3122630100", "name": "Reception", "active": False},
        {"number": "3122630101", "name": "Back office"},
    ]
    del changed["tracking_numbers"][0]
    changed["tracking_numbers"][0]["routing_id"] = 901
    changed["tracking_numbers"].append({"number": "+1 312 263 0113"})
    changed["users"][0]["name"] = "Ann O. Wner"

    summary = import_inventory(document(changed))

    assert summary.lines() == [
        "accounts: 0 created, 1 updated, 0 removed, 0 unchanged",
        "tracking sources: 0 created, 1 updated, 0 removed, 0 unchanged",
        "routing targets: 0 created, 0 updated, 1 removed, 1 unchanged",
        "receiving numbers: 1 created, 1 updated, 0 removed, 0 unchanged",
        "tracking numbers: 1 created, 1 updated, 1 removed, 0 unchanged",
        "users: 0 created, 1 updated, 0 removed, 0 unchanged",
    ]
    after = snapshot()
    assert after["Account"][0][:3] == (4242, "Acme Dental Group", "+13122630000")
    assert after["TrackingSource"] == [(501, 4242, "Google Ads (search)")]
    assert after["RoutingTarget"] == before["RoutingTarget"][:1]
    receiving_id = before["ReceivingNumber"][0][0]
    assert after["ReceivingNumber"][0] == (receiving_id, 4242, "+13122630100", "Reception", False)
    assert after["ReceivingNumber"][1][1:] == (4242, "+13122630101", "Back office", True)
    rerouted_id = before["TrackingNumber"][1][0]
    assert after["TrackingNumber"][0] == (rerouted_id, "+13122630112", 4242, None, 901)
    assert after["TrackingNumber"][1][1:] == ("+13122630113", 4242, None, None)
    assert len(after["TrackingNumber"]) == 2
    ann_id = before["User"][0][0]
    assert User.select(User.id, User.name).tuples()[:] == [(ann_id, "Ann O. Wner")]


def test_absent_collection_key_leaves_stored_rows_alone(database):
    import_inventory(document(acme()))
    before = snapshot()

    summary = import_inventory(document({"id": 4242, "name": "Acme Dental Group"}))

    assert summary.accounts.updated == 1
    assert summary.lines() == [
        "accounts: 0 created, 1 updated, 0 removed, 0 unchanged",
        "tracking sources: 0 created, 0 updated, 0 removed, 0 unchanged",
        "routing targets: 0 created, 0 updated, 0 removed, 0 unchanged",
        "receiving numbers: 0 created, 0 updated, 0 removed, 0 unchanged",
        "tracking numbers: 0 created, 0 updated, 0 removed, 0 unchanged",
        "users: 0 created, 0 updated, 0 removed, 0 unchanged",
    ]
    after = snapshot()
    assert after["Account"][0][:3] == (4242, "Acme Dental Group", "+13122630000")
    del before["Account"], after["Account"]
    assert after == before


def test_empty_list_removes_the_accounts_items(database):
    import_inventory(document(acme()))
    emptied = {"id": 4242, "name": "Acme Dental", "receiving_numbers": [], "tracking_numbers": []}

    summary = import_inventory(document(emptied))

    assert (summary.receiving_numbers.removed, summary.tracking_numbers.removed) == (1, 2)
    assert rows(ReceivingNumber) == rows(TrackingNumber) == []
    assert len(rows(RoutingTarget)) == 2


def test_password_hash_is_kept_across_imports(database):
    import_inventory(document(acme()))
    ann = User.get()
    ann.set_password("correct horse", method=FAST_HASH)
    ann.save()
    changed = acme()
    changed["users"] = [{"email": "ann@acme.test", "name": "Ann Owner", "phone": "3122630156"}]

    summary = import_inventory(document(changed))

    stored = User.get_by_id(ann.id)
    assert summary.users.updated == 1
    assert stored.password_hash == ann.password_hash
    assert stored.check_password("correct horse")
    assert stored.phone == "+13122630156"


def test_dry_run_reports_and_stores_nothing(database):
    summary = import_inventory(document(acme()), dry_run=True)

    assert summary.changed
    assert summary.tracking_numbers.created == 2
    assert all(rows(model) == [] for model in INVENTORY)


def test_dry_run_on_stored_inventory_leaves_it_as_it_was(seeded):
    changed = globex()
    changed["tracking_numbers"] = []

    summary = import_inventory(document(changed), dry_run=True)

    assert summary.tracking_numbers.removed == 1
    assert snapshot() == seeded


def test_moves_a_tracking_number_when_its_old_account_is_in_the_document(seeded):
    number_id = TrackingNumber.get(TrackingNumber.number == "+13122630999").id
    account = acme()
    account["tracking_numbers"].append({"number": "3122630999"})
    old_owner = globex()
    old_owner["tracking_numbers"] = []

    summary = import_inventory(document(account, old_owner))

    moved = TrackingNumber.get_by_id(number_id)
    assert (moved.number, moved.account_id, moved.tracking_source_id) == (
        "+13122630999",
        4242,
        None,
    )
    assert (summary.tracking_numbers.created, summary.tracking_numbers.updated) == (2, 1)


def test_moves_a_routing_target_and_detaches_numbers_left_behind(seeded):
    account = acme()
    account["routing_targets"].append({"id": 951, "name": "Dispatch", "kind": "call_queue"})
    old_owner = {
        "id": 5151,
        "name": "Globex Plumbing",
        "routing_targets": [],
        "tracking_sources": [],
    }

    summary = import_inventory(document(account, old_owner))

    assert RoutingTarget.get_by_id(951).account_id == 4242
    assert TrackingSource.get_or_none(TrackingSource.id == 601) is None
    # Globex's number no longer points at Acme's target or at the removed source.
    left_behind = TrackingNumber.get(TrackingNumber.number == "+13122630999")
    assert (left_behind.account_id, left_behind.routing_target_id) == (5151, None)
    assert left_behind.tracking_source_id is None
    assert summary.routing_targets.updated == 1
    assert summary.tracking_sources.removed == 1
    assert summary.tracking_numbers.updated == 1


def test_user_moves_to_another_account_in_the_document(seeded):
    olga_id = User.get(User.email == "olga@globex.test").id
    account = acme()
    account["users"].append({"email": "OLGA@globex.test", "name": "Olga Other"})

    import_inventory(document(account, {"id": 5151, "name": "Globex Plumbing"}))

    assert User.get_by_id(olga_id).account_id == 4242


def acme_with(change, *others):
    account = acme()
    change(account)
    return document(account, *others)


BAD_DOCUMENTS = [
    pytest.param(
        acme_with(lambda a: a["tracking_numbers"][0].update(routing_id=77)),
        ["accounts[0].tracking_numbers[0].routing_id: no routing target 77 in account 4242"],
        id="unknown-routing-id",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_numbers"][1].update(tracking_source_id=77)),
        [
            "accounts[0].tracking_numbers[1].tracking_source_id: "
            "no tracking source 77 in account 4242"
        ],
        id="unknown-source-id",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_numbers"][0].update(routing_id=951)),
        ["accounts[0].tracking_numbers[0].routing_id: no routing target 951 in account 4242"],
        id="routing-id-of-another-account",
    ),
    pytest.param(
        acme_with(lambda a: a["receiving_numbers"].append({"number": "312-555"})),
        ["accounts[0].receiving_numbers[1].number: '312-555' is not a valid phone number"],
        id="invalid-number",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_numbers"].append({"number": 3122630114})),
        ["accounts[0].tracking_numbers[2].number: must be text, got 3122630114"],
        id="number-not-text",
    ),
    pytest.param(
        document(
            acme(),
            {"id": 6161, "name": "Initech", "tracking_numbers": [{"number": "(312) 263-0111"}]},
        ),
        [
            "accounts[1].tracking_numbers[0].number: "
            "+13122630111 is already accounts[0].tracking_numbers[0]"
        ],
        id="tracking-number-twice",
    ),
    pytest.param(
        acme_with(lambda a: a["receiving_numbers"].append({"number": "+13122630100"})),
        [
            "accounts[0].receiving_numbers[1].number: "
            "+13122630100 is already accounts[0].receiving_numbers[0]"
        ],
        id="receiving-number-twice",
    ),
    pytest.param(
        document(acme(), {"id": 4242, "name": "Acme again"}),
        ["accounts[1].id: 4242 is already accounts[0]"],
        id="account-twice",
    ),
    pytest.param(
        document(
            acme(),
            {"id": 6161, "name": "Initech", "tracking_sources": [{"id": 501, "name": "Bing"}]},
        ),
        ["accounts[1].tracking_sources[0].id: 501 is already accounts[0].tracking_sources[0]"],
        id="source-id-twice",
    ),
    pytest.param(
        acme_with(lambda a: a.update(id="4242")),
        ['accounts[0].id: must be a whole number, got "4242"'],
        id="string-id",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_sources"][0].update(id=True)),
        ["accounts[0].tracking_sources[0].id: must be a whole number, got true"],
        id="bool-id",
    ),
    pytest.param(
        acme_with(lambda a: a["routing_targets"][1].update(id=0)),
        ["accounts[0].routing_targets[1].id: must be between 1 and 2147483647, got 0"],
        id="zero-id",
    ),
    pytest.param(
        acme_with(lambda a: a.pop("name")),
        ["accounts[0].name: is required"],
        id="missing-name",
    ),
    pytest.param(
        acme_with(lambda a: a["routing_targets"][0].update(name="  ")),
        ["accounts[0].routing_targets[0].name: must not be empty"],
        id="blank-name",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_sources"][0].update(name="x" * 201)),
        ["accounts[0].tracking_sources[0].name: must be at most 200 characters, got 201"],
        id="name-too-long",
    ),
    pytest.param(
        acme_with(lambda a: a["routing_targets"][1].update(kind="Call Queue")),
        [
            "accounts[0].routing_targets[1].kind: must be a kind like call_queue (a-z, 0-9, _), "
            'got "Call Queue"'
        ],
        id="bad-kind",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_numbers"].append({"number": "3122630113", "routng_id": 1})),
        [
            "accounts[0].tracking_numbers[2].routng_id: unknown key "
            "(expected one of: number, tracking_source_id, routing_id)"
        ],
        id="unknown-key",
    ),
    pytest.param(
        {"accounts": [], "version": 2},
        ["version: unknown key (expected one of: accounts)"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        acme_with(lambda a: a["receiving_numbers"][0].update(active="yes")),
        ['accounts[0].receiving_numbers[0].active: must be true or false, got "yes"'],
        id="active-not-bool",
    ),
    pytest.param(
        acme_with(lambda a: a["users"][0].update(role="staff")),
        [
            "accounts[0].users[0].role: "
            'staff users belong to no account; a user in an account must be "owner"'
        ],
        id="staff-role-in-account",
    ),
    pytest.param(
        acme_with(lambda a: a["users"][0].update(email="ann.acme.test")),
        ["accounts[0].users[0].email: 'ann.acme.test' does not look like an email address"],
        id="bad-email",
    ),
    pytest.param(
        acme_with(lambda a: a["users"].append({"email": "ANN@acme.test", "name": "Ann Again"})),
        ["accounts[0].users[1].email: ann@acme.test is already accounts[0].users[0]"],
        id="email-twice",
    ),
    pytest.param(
        acme_with(lambda a: a["users"].append({"email": "sam@portdesk.test", "name": "Sam"})),
        ["accounts[0].users[1].email: sam@portdesk.test is a staff user"],
        id="email-of-staff-user",
    ),
    pytest.param(
        acme_with(lambda a: a["users"].append({"email": "olga@globex.test", "name": "Olga"})),
        ["accounts[0].users[1].email: olga@globex.test is a user of account 5151"],
        id="email-of-account-not-in-document",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_numbers"].append({"number": "312.263.0999"})),
        [
            "accounts[0].tracking_numbers[2].number: "
            "+13122630999 is a tracking number of account 5151"
        ],
        id="tracking-number-of-account-not-in-document",
    ),
    pytest.param(
        acme_with(
            lambda a: a["tracking_numbers"].append({"number": "312.263.0999"}),
            {"id": 5151, "name": "Globex Plumbing"},  # listed, but not its tracking numbers
        ),
        [
            "accounts[0].tracking_numbers[2].number: "
            "+13122630999 is a tracking number of account 5151"
        ],
        id="tracking-number-of-account-without-its-list",
    ),
    pytest.param(
        acme_with(lambda a: a["tracking_sources"].append({"id": 601, "name": "Yelp"})),
        ["accounts[0].tracking_sources[1].id: 601 is a tracking source of account 5151"],
        id="source-id-of-another-account",
    ),
    pytest.param(
        '{"accounts": [\n  {"id": 1 "name": "x"}\n]}',
        ["line 2, column 12: Expecting ',' delimiter"],
        id="malformed-json",
    ),
    pytest.param(
        b'{"accounts": "caf\xe9"}',
        ["byte 18: not UTF-8 text (save the file as UTF-8)"],
        id="not-utf8",
    ),
    pytest.param(
        {"accounts": {"id": 4242, "name": "Acme Dental"}},
        ["accounts: must be a list of accounts"],
        id="accounts-not-a-list",
    ),
    pytest.param(
        [{"id": 4242, "name": "Acme Dental"}],
        [
            'top level: must be an object with an "accounts" list, '
            'got [{"id": 4242, "name": "Acme Dental"}]'
        ],
        id="top-level-list",
    ),
    pytest.param(
        acme_with(lambda a: a.update(tracking_numbers={"number": "+13122630111"})),
        ["accounts[0].tracking_numbers: must be a list of tracking numbers"],
        id="list-of-wrong-type",
    ),
    pytest.param(
        acme_with(lambda a: a["routing_targets"].append("Front desk")),
        ['accounts[0].routing_targets[2]: must be an object, got "Front desk"'],
        id="item-not-an-object",
    ),
]


@pytest.mark.parametrize(("sent", "problems"), BAD_DOCUMENTS)
def test_bad_document_is_refused_with_its_problem_and_nothing_is_stored(seeded, sent, problems):
    text = sent if isinstance(sent, str | bytes) else json.dumps(sent)

    with pytest.raises(InventoryError) as refused:
        import_inventory(load_inventory(text))

    assert refused.value.problems == problems
    assert str(refused.value) == "\n".join(problems)
    assert snapshot() == seeded


def test_bad_document_on_an_empty_database_stores_nothing(database):
    with pytest.raises(InventoryError):
        import_inventory(acme_with(lambda a: a["tracking_numbers"][0].update(routing_id=77)))

    assert all(rows(model) == [] for model in INVENTORY)


def test_every_problem_is_reported_together(database):
    account = acme()
    account["fail_safe"] = "+13122630000"
    account["receiving_numbers"][0]["number"] = "312-263"
    account["tracking_numbers"][0]["routing_id"] = 77
    account["tracking_numbers"][1]["number"] = "+13122630111"
    account["users"][0]["email"] = "ann@acme"
    other = {"id": 4242.5, "name": ""}

    with pytest.raises(InventoryError) as refused:
        import_inventory(document(account, other))

    assert refused.value.problems == [
        "accounts[0].fail_safe: unknown key (expected one of: id, name, fail_safe_number, "
        "tracking_sources, routing_targets, receiving_numbers, tracking_numbers, users)",
        "accounts[0].receiving_numbers[0].number: '312-263' is not a valid phone number",
        "accounts[0].users[0].email: 'ann@acme' does not look like an email address",
        "accounts[1].id: must be a whole number, got 4242.5",
        "accounts[1].name: must not be empty",
        "accounts[0].tracking_numbers[0].routing_id: no routing target 77 in account 4242",
        "accounts[0].tracking_numbers[1].number: +13122630111 is already "
        "accounts[0].tracking_numbers[0]",
    ]
    assert all(rows(model) == [] for model in INVENTORY)


def test_problems_are_capped_with_a_count_of_the_rest(database):
    account = {"id": 4242, "name": "Acme", "tracking_numbers": [{"number": "1"}] * 60}

    with pytest.raises(InventoryError) as refused:
        import_inventory(document(account))

    assert len(refused.value.problems) == 51
    assert (
        refused.value.problems[0]
        == "accounts[0].tracking_numbers[0].number: '1' is not a phone number"
    )
    assert refused.value.problems[-1] == "... and 10 more problems"


def test_load_inventory_reads_utf8_bytes_with_a_byte_order_mark(database):
    text = json.dumps(document({"id": 4242, "name": "Café Dental"})).encode("utf-8-sig")

    import_inventory(load_inventory(text))

    assert Account.get_by_id(4242).name == "Café Dental"


def test_large_inventory_takes_a_bounded_number_of_statements(database, statements):
    numbers = [f"+1312{2_000_000 + i}" for i in range(20_000)]
    account = acme()
    account["tracking_numbers"] = [
        {"number": number, "tracking_source_id": 501, "routing_id": 901 + i % 2}
        for i, number in enumerate(numbers)
    ]

    summary = import_inventory(document(account))

    assert summary.tracking_numbers.created == 20_000
    assert TrackingNumber.select().count() == 20_000
    assert len(statements) < 200
    # Rerouting every number is a handful of updates, not twenty thousand.
    for item in account["tracking_numbers"]:
        item["routing_id"] = 902
    statements.clear()

    summary = import_inventory(document(account))

    assert (summary.tracking_numbers.updated, summary.tracking_numbers.unchanged) == (
        10_000,
        10_000,
    )
    assert len(writes(statements)) == 10_000 // 500
    assert len(statements) < 200


# Two imports at once (two operators, or cron and an operator).


def pausing_after_reads(monkeypatch, pause):
    """Make each import call `pause()` inside its transaction, once it has read the stored rows."""
    load_stored = inventory._load_stored

    def reading_then_pausing(accounts):
        stored = load_stored(accounts)
        pause()
        return stored

    monkeypatch.setattr(inventory, "_load_stored", reading_then_pausing)


def test_imports_at_the_same_moment_run_one_after_the_other(database, monkeypatch):
    # Both linger after reading: before the fix both read an empty inventory and then both wrote,
    # and the second failed halfway (SQLite: "database is locked"; PostgreSQL: a unique index).
    pausing_after_reads(monkeypatch, lambda: time.sleep(0.3))
    start = threading.Barrier(2)
    outcomes = []

    def run():
        start.wait()
        try:
            with db.connection_context():
                outcomes.append(import_inventory(document(acme())))
        except Exception as error:  # the assertion below shows it
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [type(outcome) for outcome in outcomes] == [ImportSummary] * 2, outcomes
    # The second waited for the first to commit, then found everything already stored.
    assert [outcome.changed for outcome in outcomes] == [True, False]
    assert outcomes[1].tracking_numbers == inventory.Counts(unchanged=2)
    assert len(rows(TrackingNumber)) == 2


def test_an_import_that_waits_too_long_is_refused_and_stores_nothing(database, monkeypatch):
    monkeypatch.setattr(inventory, "LOCK_WAIT_MS", 200)
    if not ON_POSTGRES:
        db.execute_sql("PRAGMA busy_timeout = 200")  # this thread's connection
    first_has_read, second_is_done = threading.Event(), threading.Event()

    def hold_the_lock():
        if threading.current_thread() is not threading.main_thread():
            first_has_read.set()
            second_is_done.wait(10)

    pausing_after_reads(monkeypatch, hold_the_lock)
    first = []

    def run_first():
        with db.connection_context():
            first.append(import_inventory(document(acme())))

    thread = threading.Thread(target=run_first)
    thread.start()
    assert first_has_read.wait(10)
    try:
        with pytest.raises(InventoryError) as refused:
            import_inventory(document(globex()))
    finally:
        second_is_done.set()
        thread.join()

    assert refused.value.problems == [
        "another import was still writing after 0.2 seconds; "
        "run this import again when it has finished"
    ]
    assert first[0].accounts.created == 1
    assert [account.id for account in Account.select()] == [4242]
