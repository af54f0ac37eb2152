"""taken_number, the one table the portability check probes, says exactly what tracking_number
and number_claim say after every way they change: imports, submit, completion, cancel, staff's
rejections, the owner's fix, cascades, updates, and two transactions at once on PostgreSQL.

The database's triggers keep it (migrations/0010_taken_numbers.py); each test drives the app's
own path, then compares the table with what the two source tables say."""

import threading
import time

import pytest
from playhouse.migrations import Runner

from portal.db import db, open_database
from portal.inventory import import_inventory
from portal.models import (
    Account,
    NumberClaim,
    PortRequest,
    TakenNumber,
    TrackingNumber,
)
from portal.port_requests import corrections, operations
from portal.portability import check_portability, numbered
from portal.schema import HISTORY_TABLE, MIGRATIONS_DIR, upgrade
from portal.staff import actions
from tests.conftest import ON_POSTGRES
from tests.test_staff_actions import NUMBERS, ONE, THREE, TWO, make

A, B, C = "+13122630111", "+13122630112", "+13122630113"


def expected_taken():
    """Return what taken_number must hold, computed from the two source tables:
    number -> (tracking, claim's account, claim's request)."""
    rows = {
        number: (True, None, None)
        for (number,) in TrackingNumber.select(TrackingNumber.number).tuples()
    }
    claims = NumberClaim.select(NumberClaim.number, NumberClaim.account, NumberClaim.port_request)
    for number, account_id, request_id in claims.tuples():
        rows[number] = (number in rows, account_id, request_id)
    return rows


def stored_taken():
    """Return what taken_number holds, in the shape of expected_taken."""
    columns = (
        TakenNumber.number,
        TakenNumber.tracking,
        TakenNumber.claim_account_id,
        TakenNumber.claim_request_id,
    )
    rows = TakenNumber.select(*columns).tuples()
    return {
        number: (bool(tracking), account, request) for number, tracking, account, request in rows
    }


def mirrored():
    """Assert that taken_number says what the source tables say; return what it holds."""
    stored = stored_taken()
    assert stored == expected_taken()
    return stored


def inventory(**lists):
    """An inventory document giving each account (by id) exactly these tracking numbers."""
    names = {4242: "Acme Dental", 5151: "Globex Plumbing"}
    return {
        "accounts": [
            {
                "id": account_id,
                "name": names[account_id],
                "tracking_numbers": [{"number": number} for number in numbers],
            }
            for account_id, numbers in ((int(key[1:]), value) for key, value in lists.items())
        ]
    }


def claim(number, account_id, request_id):
    return NumberClaim.create(number=number, account=account_id, port_request=request_id)


# The app's paths ------------------------------------------------------------------------------


def test_an_import_adds_moves_and_removes_tracking_numbers(app, accounts):
    with app.app_context():
        import_inventory(inventory(a4242=[A, B]))
        assert mirrored() == {A: (True, None, None), B: (True, None, None)}

        # A moves to the other account, C is new there, B stays: each still one tracking row.
        import_inventory(inventory(a4242=[B], a5151=[A, C]))
        assert TrackingNumber.get(TrackingNumber.number == A).account_id == 5151
        assert mirrored() == {n: (True, None, None) for n in (A, B, C)}

        import_inventory(inventory(a4242=[], a5151=[C]))
        assert mirrored() == {C: (True, None, None)}


def test_an_import_of_a_claimed_number_marks_it_tracking_too_and_its_removal_unmarks_it(
    app, accounts
):
    with app.app_context():
        request = PortRequest.create(account=4242, status="submitted")
        claim(A, 4242, request.id)
        import_inventory(inventory(a5151=[A]))
        assert mirrored() == {A: (True, 4242, request.id)}

        import_inventory(inventory(a5151=[]))
        assert mirrored() == {A: (False, 4242, request.id)}


def test_submit_claims_the_numbers_in_the_mirror(app, owner):
    request_id = make(app, owner, "submitted")
    with app.app_context():
        assert mirrored() == {number: (False, 4242, request_id) for number in (ONE, TWO, THREE)}


def test_completion_marks_the_claimed_numbers_tracking(app, owner, staff):
    request_id = make(app, owner, "foc_scheduled")
    with app.app_context():
        actions.complete(request_id, user=staff, shown="foc_scheduled")
        assert mirrored() == {number: (True, 4242, request_id) for number in (ONE, TWO, THREE)}


def test_cancelling_lets_the_numbers_go(app, owner):
    request_id = make(app, owner, "submitted")
    other = make(app, owner, "submitted", numbers=["(614) 322-1009"])
    with app.app_context():
        operations.cancel(Account.get_by_id(4242), request_id, user=owner, reason="Changed mind")
        assert mirrored() == {"+16143221009": (False, 4242, other)}


def test_staff_rejecting_the_request_lets_the_numbers_go(app, owner, staff):
    request_id = make(app, owner, "in_review")
    with app.app_context():
        actions.reject(request_id, user=staff, shown="in_review", reason="Account closed.")
        assert mirrored() == {}


def test_staff_rejecting_one_number_lets_that_one_go(app, owner, staff):
    request_id = make(app, owner, "in_review")
    with app.app_context():
        two = PortRequest.get_by_id(request_id).numbers()[1]
        actions.reject_number(request_id, two.id, user=staff, shown="in_review", reason="Gone.")
        assert mirrored() == {ONE: (False, 4242, request_id), THREE: (False, 4242, request_id)}


def test_the_owner_taking_numbers_out_in_a_fix_lets_them_go(app, owner, staff):
    request_id = make(app, owner, "submitted")
    with app.app_context():
        actions.require_action(
            request_id, user=staff, shown="submitted", codes=["PHONE_NUMBER_NOT_PORTABLE"],
            note="The carrier cannot port (614) 322-1002.",
        )  # fmt: skip
        _, removed = corrections.remove_numbers(
            Account.get_by_id(4242), request_id, user=owner, typed=NUMBERS[1]
        )
        assert [row.e164 for row in removed] == [TWO]
        assert mirrored() == {ONE: (False, 4242, request_id), THREE: (False, 4242, request_id)}


# Cascades and updates -------------------------------------------------------------------------


def test_deleting_an_account_cascades_to_its_rows_in_the_mirror(app, accounts):
    with app.app_context():
        theirs = PortRequest.create(account=5151, status="submitted")
        mine = PortRequest.create(account=4242, status="submitted")
        TrackingNumber.create(number=A, account=5151)
        claim(B, 5151, theirs.id)
        claim(A, 4242, mine.id)  # a number of theirs that my request claims
        TrackingNumber.create(number=C, account=4242)
        assert mirrored() == {
            A: (True, 4242, mine.id),
            B: (False, 5151, theirs.id),
            C: (True, None, None),
        }

        Account.delete().where(Account.id == 5151).execute()

        assert mirrored() == {A: (False, 4242, mine.id), C: (True, None, None)}


def test_deleting_a_request_cascades_to_its_claims_in_the_mirror(app, accounts):
    with app.app_context():
        request = PortRequest.create(account=4242, status="submitted")
        kept = PortRequest.create(account=4242, status="submitted")
        claim(A, 4242, request.id)
        claim(B, 4242, request.id)
        claim(C, 4242, kept.id)
        TrackingNumber.create(number=B, account=5151)

        PortRequest.delete().where(PortRequest.id == request.id).execute()

        assert mirrored() == {B: (True, None, None), C: (False, 4242, kept.id)}


def test_a_number_both_tracking_and_claimed_keeps_its_row_until_both_are_gone(app, accounts):
    with app.app_context():
        request = PortRequest.create(account=4242, status="submitted")
        TrackingNumber.create(number=A, account=5151)
        claim(A, 4242, request.id)
        assert mirrored() == {A: (True, 4242, request.id)}

        TrackingNumber.delete().where(TrackingNumber.number == A).execute()
        assert mirrored() == {A: (False, 4242, request.id)}

        TrackingNumber.create(number=A, account=5151)
        NumberClaim.delete().where(NumberClaim.number == A).execute()
        assert mirrored() == {A: (True, None, None)}

        TrackingNumber.delete().where(TrackingNumber.number == A).execute()
        assert mirrored() == {}


def test_changing_a_number_or_the_holder_of_a_claim_moves_the_mirror(app, accounts):
    with app.app_context():
        first = PortRequest.create(account=4242, status="submitted")
        second = PortRequest.create(account=5151, status="submitted")
        TrackingNumber.create(number=A, account=4242)
        claim(B, 4242, first.id)

        TrackingNumber.update(number=C).where(TrackingNumber.number == A).execute()
        assert mirrored() == {B: (False, 4242, first.id), C: (True, None, None)}

        NumberClaim.update(account=5151, port_request=second.id).execute()
        assert mirrored() == {B: (False, 5151, second.id), C: (True, None, None)}

        NumberClaim.update(number=C, port_request=None).execute()
        assert mirrored() == {C: (True, 5151, None)}

        # Moving a tracking number to another account changes nothing the check reads.
        TrackingNumber.update(account=5151).execute()
        assert mirrored() == {C: (True, 5151, None)}


# The check's verdicts -------------------------------------------------------------------------


def reasons(account, numbers, port_request_id=None):
    results = check_portability(numbered(numbers), account, port_request_id=port_request_id)
    return [result.reason for result in results]


def test_own_claims_other_claims_and_tracking_numbers_give_the_same_verdicts(app, accounts):
    fresh = "+13122630114"
    with app.app_context():
        acme, globex = Account.get_by_id(4242), Account.get_by_id(5151)
        mine = PortRequest.create(account=4242, status="submitted")
        theirs = PortRequest.create(account=5151, status="submitted")
        claim(A, 4242, mine.id)  # claimed by my request only
        claim(B, 4242, mine.id)  # claimed by my request, and a tracking number
        TrackingNumber.create(number=B, account=5151)
        claim(C, 5151, theirs.id)  # claimed by theirs
        numbers = [A, B, C, fresh]

        assert reasons(acme, numbers) == [
            "in_active_port",
            "tracking_number",
            "in_active_port",
            None,
        ]
        assert reasons(acme, numbers, mine.id) == [None, "tracking_number", "in_active_port", None]
        # Another account naming my request's id does not make my claims its own.
        assert reasons(globex, numbers, mine.id) == [
            "in_active_port",
            "tracking_number",
            "in_active_port",
            None,
        ]
        assert reasons(globex, numbers, theirs.id) == [
            "in_active_port",
            "tracking_number",
            None,
            None,
        ]
        # A claim that names no request is always another's.
        NumberClaim.update(port_request=None).where(NumberClaim.number == A).execute()
        assert reasons(acme, numbers, mine.id) == [
            "in_active_port",
            "tracking_number",
            "in_active_port",
            None,
        ]


# The migration --------------------------------------------------------------------------------


def test_the_migration_fills_the_table_from_the_rows_already_there_and_reverts(
    empty_database_url,
):
    database = open_database(empty_database_url)
    db.initialize(database)
    runner = Runner(database, str(MIGRATIONS_DIR), HISTORY_TABLE)
    runner.up("0009_staff_console")
    Account.create(id=4242, name="Acme Dental")
    Account.create(id=5151, name="Globex Plumbing")
    request = PortRequest.create(account=4242, status="completed")
    for number in (A, B):
        TrackingNumber.create(number=number, account=4242)
    claim(B, 4242, request.id)  # a completed port: claimed and tracking
    claim(C, 5151, None)

    assert upgrade(db) == ["0010_taken_numbers"]

    assert mirrored() == {
        A: (True, None, None),
        B: (True, 4242, request.id),
        C: (False, 5151, None),
    }
    NumberClaim.delete().where(NumberClaim.number == C).execute()
    assert mirrored() == {A: (True, None, None), B: (True, 4242, request.id)}

    assert runner.down("0010_taken_numbers") == ["0010_taken_numbers"]
    assert "taken_number" not in database.get_tables()
    TrackingNumber.create(number=C, account=5151)  # no trigger is left behind to fail
    NumberClaim.delete().execute()
    database.close()


# Two transactions at once on PostgreSQL --------------------------------------------------------


def _in_transaction(app, work, started=None, release=None, pids=None):
    """Run the work in a transaction of this thread's own connection; optionally say when it
    ran, and hold the transaction open until released."""
    with app.app_context():
        try:
            with db.atomic():
                if pids is not None:
                    pids.append(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
                work()
                if started is not None:
                    started.set()
                if release is not None:
                    release.wait(30)
        finally:
            if not db.is_closed():
                db.close()


def _waiting_on_a_lock(pid):
    cursor = db.execute_sql(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", (pid,)
    )
    return cursor.fetchone()[0] == 1


def _second_waits_for_first(app, first, second):
    """Run `first` in a transaction held open until `second`, in another, is seen waiting for
    its lock on the same row; return whether it was (then both commit)."""
    started, release = threading.Event(), threading.Event()
    pids, failures, seen_waiting = [], [], False

    def run(*args, **kwargs):
        try:
            _in_transaction(app, *args, **kwargs)
        except Exception as error:  # the assertion below shows it
            failures.append(error)

    holder = threading.Thread(target=run, args=(first, started, release))
    holder.start()
    started.wait(30)
    waiter = threading.Thread(target=run, args=(second,), kwargs={"pids": pids})
    waiter.start()
    with app.app_context():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not seen_waiting:
            seen_waiting = bool(pids) and _waiting_on_a_lock(pids[0])
            time.sleep(0.01)
        db.close()
    release.set()
    holder.join()
    waiter.join()
    assert failures == []
    return seen_waiting


needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite runs one writer at a time: the race is PostgreSQL's"
)


@needs_postgres
def test_a_tracking_number_and_a_claim_added_at_once_give_one_row_with_both(app, accounts):
    with app.app_context():
        requests = [PortRequest.create(account=4242, status="submitted").id for _ in range(20)]
    numbers = [f"+1312263{2000 + i:04d}" for i in range(20)]
    for number, request_id in zip(numbers, requests, strict=True):
        start = threading.Barrier(2)

        def add_tracking(number=number, start=start):
            start.wait(30)
            TrackingNumber.create(number=number, account=5151)

        def add_claim(number=number, request_id=request_id, start=start):
            start.wait(30)
            claim(number, 4242, request_id)

        threads = [
            threading.Thread(target=_in_transaction, args=(app, work))
            for work in (add_tracking, add_claim)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with app.app_context():
        assert mirrored() == {
            number: (True, 4242, request_id)
            for number, request_id in zip(numbers, requests, strict=True)
        }


@needs_postgres
@pytest.mark.parametrize("tracking_first", [True, False])
def test_a_claim_waiting_for_a_tracking_number_or_the_reverse_lands_on_the_same_row(
    app, accounts, tracking_first
):
    with app.app_context():
        request_id = PortRequest.create(account=4242, status="submitted").id

    def add_tracking():
        TrackingNumber.create(number=A, account=5151)

    def add_claim():
        claim(A, 4242, request_id)

    first, second = (add_tracking, add_claim) if tracking_first else (add_claim, add_tracking)
    assert _second_waits_for_first(app, first, second)
    with app.app_context():
        assert mirrored() == {A: (True, 4242, request_id)}


@needs_postgres
def test_a_claim_added_while_the_last_tracking_of_its_number_goes_keeps_its_row(app, accounts):
    with app.app_context():
        request_id = PortRequest.create(account=4242, status="submitted").id
        TrackingNumber.create(number=A, account=5151)

    def remove_tracking():
        TrackingNumber.delete().where(TrackingNumber.number == A).execute()

    def add_claim():
        claim(A, 4242, request_id)

    assert _second_waits_for_first(app, remove_tracking, add_claim)
    with app.app_context():
        assert mirrored() == {A: (False, 4242, request_id)}
