"""A request's history and what it rests on: the claims' foreign key, the timeline the API writes,
agreements kept by the version of their text, and receiving numbers kept by a re-route."""

from datetime import date

import pytest

from portal.db import db, open_database
from portal.models import (
    AgreementAcceptance,
    NumberClaim,
    PortRequest,
    ReceivingNumber,
    ReceivingReroute,
    RequestEvent,
    RoutingTarget,
    TrackingNumber,
)
from portal.port_requests import agreements
from portal.port_requests.drafts import store_numbers
from portal.port_requests.review import review
from portal.schema import _runner
from tests.test_api import bearer, issue_key
from tests.test_request_api import URL, complete


def test_claims_keep_their_request_and_lose_only_a_dangling_id(empty_database_url):
    """Migration 0006 turns number_claim.port_request_id into a foreign key on existing data."""
    database = open_database(empty_database_url)
    db.initialize(database)
    runner = _runner(db)
    runner.up("0005_port_requests")
    db.execute_sql("INSERT INTO account (id, name, created_at) VALUES (1, 'Acme', '2026-01-01')")
    db.execute_sql(
        "INSERT INTO port_request (id, account_id, status, details, created_at, updated_at) "
        "VALUES (5, 1, 'submitted', '{}', '2026-01-01', '2026-01-01')"
    )
    claims = [(1, "+13122630101", 5), (2, "+13122630102", 77), (3, "+13122630103", None)]
    for claim_id, number, request_id in claims:
        db.execute_sql(
            "INSERT INTO number_claim (id, number, account_id, port_request_id, claimed_at) "
            "VALUES (%s, %s, 1, %s, '2026-01-01')".replace("%s", db.param),
            (claim_id, number, request_id),
        )

    assert runner.up("0006_request_history") == ["0006_request_history"]

    rows = db.execute_sql("SELECT number, port_request_id FROM number_claim ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [
        ("+13122630101", 5),
        ("+13122630102", None),  # request 77 never existed: the number stays held
        ("+13122630103", None),
    ]
    # The key is enforced now, and a request's claims go with it.
    with pytest.raises(Exception, match="(?i)foreign key"), db.atomic():
        db.execute_sql("UPDATE number_claim SET port_request_id = 99 WHERE id = 3")
    db.execute_sql("DELETE FROM port_request WHERE id = 5")
    remaining = db.execute_sql("SELECT number FROM number_claim ORDER BY id").fetchall()
    assert [row[0] for row in remaining] == ["+13122630102", "+13122630103"]
    # And the unique number is still unique.
    with pytest.raises(Exception, match="(?i)unique|duplicate"), db.atomic():
        db.execute_sql(
            "INSERT INTO number_claim (number, account_id, claimed_at) "
            "VALUES ('+13122630102', 1, '2026-01-01')"
        )
    database.close()


def test_the_api_writes_the_timeline_and_folds_repeated_changes(app, client, accounts):
    key = issue_key(app, accounts[0])
    created = client.post(URL, json={"friendly_name": "Main lines"}, headers=bearer(key))
    url = created.headers["Location"]
    for _ in range(3):
        client.patch(url, json={"friendly_name": "Main lines 2"}, headers=bearer(key))
    client.patch(url, json={"numbers": []}, headers=bearer(key))

    with app.app_context():
        events = [
            (e.actor, e.kind, e.message) for e in RequestEvent.select().order_by(RequestEvent.id)
        ]
    assert events == [
        ("API key 'tests'", "created", "Created the draft through the API."),
        ("API key 'tests'", "changed", "Changed friendly_name through the API."),
        ("API key 'tests'", "changed", "Changed numbers through the API."),
    ]


def test_deleting_a_draft_takes_its_history_with_it(app, client, accounts):
    key = issue_key(app, accounts[0])
    url = client.post(URL, json=complete(), headers=bearer(key)).headers["Location"]
    with app.app_context():
        request = PortRequest.get()
        agreements.accept(request, ["authority"], user=None, ip="203.0.113.9")
        ReceivingReroute.create(
            port_request=request, receiving_number="+16143221009", tracking_number=None
        )

    assert client.delete(url, headers=bearer(key)).status_code == 204
    with app.app_context():
        assert RequestEvent.select().count() == 0
        assert AgreementAcceptance.select().count() == 0
        assert ReceivingReroute.select().count() == 0


def test_an_acceptance_counts_for_the_text_it_was_given_to(app, accounts, monkeypatch):
    with app.app_context():
        request = PortRequest.create(account=accounts[0])
        keys = [key for key, _ in agreements.STATEMENTS]
        assert agreements.accept(request, keys, user=None, ip="203.0.113.9") == keys
        assert agreements.accept(request, keys, user=None, ip="203.0.113.9") == []
        assert agreements.all_accepted(agreements.accepted(request))
        stored = AgreementAcceptance.get(AgreementAcceptance.statement == "authority")
        assert stored.text == agreements.TEXTS["authority"]
        assert stored.text_sha256 == agreements.version(stored.text)
        assert stored.ip == "203.0.113.9"

        changed = agreements.TEXTS["authority"] + " And its numbers."
        monkeypatch.setitem(agreements.VERSIONS, "authority", agreements.version(changed))
        assert "authority" not in agreements.accepted(request)
        assert not agreements.all_accepted(agreements.accepted(request))
        with pytest.raises(KeyError):
            agreements.accept(request, ["made_up"], user=None, ip="")


@pytest.fixture
def receiving(app, accounts):
    """Acme's receiving number (614) 322-1009, rung by two tracking numbers through target 405."""
    acme = accounts[0]
    with app.app_context():
        RoutingTarget.create(id=402, account=acme, name="Front desk", kind="queue")
        RoutingTarget.create(
            id=405, account=acme, name="Old desk", kind="receiving_number", number="+16143221009"
        )
        ReceivingNumber.create(account=acme, number="+16143221009", name="Old desk")
        for number in ("+13125550201", "+13125550202"):
            TrackingNumber.create(account=acme, number=number, routing_target=405)
    return acme


def _numbers_review(acme, reroutes):
    request = PortRequest.create(account=acme)
    store_numbers(
        request,
        [
            {
                "phone_number": "(614) 322-1009",
                "routing_id": 402,
                "tracking_source_id": None,
                "friendly_name": None,
            },
        ],
    )
    for tracking, routing in reroutes:
        ReceivingReroute.create(
            port_request=request,
            receiving_number="+16143221009",
            tracking_number=tracking,
            routing_id=routing,
        )
    found = review(request, today=date(2027, 1, 4), lead_business_days=7)
    return [(p.field, p.code) for p in found.problems if p.field == "numbers[0]"]


@pytest.mark.parametrize(
    ("reroutes", "expected"),
    [
        ([], [("numbers[0]", "receiving_number")]),
        ([("+13125550201", 402)], [("numbers[0]", "reroute_required")]),
        # A new routing that still rings the number being ported is no re-route.
        ([("+13125550201", 402), ("+13125550202", 405)], [("numbers[0]", "reroute_required")]),
        ([("+13125550201", 402), ("+13125550202", 999)], [("numbers[0]", "reroute_required")]),
        ([("+13125550201", 402), ("+13125550202", 402)], []),
    ],
)
def test_a_receiving_number_is_kept_once_every_tracking_number_rings_elsewhere(
    app, receiving, reroutes, expected
):
    with app.app_context():
        assert _numbers_review(receiving, reroutes) == expected


def test_claims_of_a_request_go_with_it(app, accounts):
    with app.app_context():
        request = PortRequest.create(account=accounts[0], status="submitted")
        NumberClaim.create(account=accounts[0], number="+16143221001", port_request=request)
        request.delete_instance()
        assert NumberClaim.select().count() == 0


def test_stored_rows_keep_every_column_whatever_the_first_row_holds(app, accounts):
    with app.app_context():
        request = PortRequest.create(account=accounts[0])
        store_numbers(
            request,
            [
                {"phone_number": "(614) 322-1001"},
                {
                    "phone_number": "(614) 322-1002",
                    "routing_id": 402,
                    "tracking_source_id": 301,
                    "friendly_name": "Front",
                },
            ],
        )
        rows = [
            (n.position, n.e164, n.routing_id, n.tracking_source_id, n.friendly_name)
            for n in request.numbers()
        ]
    assert rows == [
        (0, "+16143221001", None, None, None),
        (1, "+16143221002", 402, 301, "Front"),
    ]
