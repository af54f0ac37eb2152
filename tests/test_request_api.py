"""The port request API: drafts created, read, listed, changed and deleted with an API key."""

import json
import re
import threading
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import PortNumber, PortRequest, RoutingTarget, TrackingSource
from tests.test_api import assert_error, bearer, issue_key

URL = "/api/v1/port-requests"
FIELDS = [
    "friendly_name",
    "contact",
    "billing",
    "service_address",
    "billing_address",
    "authorized",
    "partial_port",
    "requested_date",
    "numbers",
]


def business_day(weeks=6):
    """A Tuesday some weeks ahead (no federal holiday falls on the Tuesday picked)."""
    day = date.today() + timedelta(weeks=weeks)
    day += timedelta(days=(1 - day.weekday()) % 7)
    if (day.month, day.day) in {(11, 11), (12, 25), (1, 1), (7, 4), (6, 19)}:
        day += timedelta(days=7)
    return day.isoformat()


def complete(numbers=("(614) 322-1001", "(614) 322-1002")):
    return {
        "friendly_name": "Harbor Clinic main lines",
        "contact": {"name": "Dana Reyes", "email": "dana@harbor.test", "phone": "614-322-1000"},
        "billing": {
            "carrier": "Ohio Bell",
            "service_type": "landline",
            "customer_type": "business",
            "customer_name": "HARBOR CLINIC, LLC",
            "account_number": "614-555-88231",
            "pin": "",
            "btn": "(614) 322-1000",
        },
        "service_address": {
            "street_number": "120",
            "street": "E Broad St",
            "unit": "",
            "city": "Columbus",
            "state": "OH",
            "zip": "43215",
        },
        "billing_address": None,
        "authorized": {
            "name": "Dana Reyes",
            "title": "Office manager",
            "email": "dana@harbor.test",
            "phone": "(614) 322-1000",
        },
        "numbers": [
            {"phone_number": n, "routing_id": 402, "tracking_source_id": 301, "friendly_name": ""}
            for n in numbers
        ],
        "partial_port": {"other_numbers_remain": False, "remaining_numbers": None, "new_btn": ""},
        "requested_date": business_day(),
    }


@pytest.fixture
def acme_key(app, accounts):
    return issue_key(app, accounts[0])


@pytest.fixture
def globex_key(app, accounts):
    return issue_key(app, accounts[1])


@pytest.fixture
def inventory(app, accounts):
    """Acme's routing target 402 and tracking source 301; Globex's 902 and 801."""
    acme, globex = accounts
    with app.app_context():
        RoutingTarget.create(id=402, account=acme, name="Front desk", kind="number")
        TrackingSource.create(id=301, account=acme, name="Google Ads")
        RoutingTarget.create(id=902, account=globex, name="Office", kind="number")
        TrackingSource.create(id=801, account=globex, name="Yelp")


def create(client, key, body):
    return client.post(URL, json=body, headers=bearer(key))


def stored(app):
    with app.app_context():
        return PortRequest.select().count(), PortNumber.select().count()


def test_a_complete_request_round_trips_with_no_problems(app, client, inventory, acme_key):
    sent = complete()
    response = create(client, acme_key, sent)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert list(body) == [
        "id", *FIELDS, "status", "created_at", "updated_at", "steps", "problems",
        "confirmed_warnings",
    ]  # fmt: skip
    # Nothing wrong in what was sent: only the documents are needed, the bill and the signed LOA.
    assert [(p["field"], p["code"]) for p in body["problems"]] == [
        ("bill", "bill_required"),
        ("loa", "loa_required"),
    ]
    assert body["status"] == "draft"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert body["steps"] == {
        "general": "complete",
        "details": "complete",
        "numbers": "complete",
        "agreements": "needs_browser",
        "bill": "incomplete",
        "loa": "incomplete",
        "submit": "incomplete",
    }
    assert body["numbers"][0]["portability"] == {
        "portable": True,
        "reason": None,
        "message": "Portable.",
        "e164": "+16143221001",
    }
    read = client.get(response.headers["Location"], headers=bearer(acme_key)).get_json()
    assert read == body
    for field in FIELDS:
        if field != "numbers":
            assert read[field] == sent[field]
    assert [{k: v for k, v in n.items() if k != "portability"} for n in read["numbers"]] == sent[
        "numbers"
    ]
    with app.app_context():
        assert [n.e164 for n in PortNumber.select().order_by(PortNumber.position)] == [
            "+16143221001",
            "+16143221002",
        ]


def test_an_empty_draft_names_what_is_missing(client, inventory, acme_key):
    body = create(client, acme_key, {}).get_json()
    assert all(body[field] is None for field in FIELDS if field != "numbers")
    assert body["numbers"] == []
    assert body["steps"]["general"] == body["steps"]["numbers"] == "incomplete"
    assert {"field": "friendly_name", "code": "required"} in [
        {"field": p["field"], "code": p["code"]} for p in body["problems"]
    ]
    assert all(set(p) == {"field", "code", "severity", "message"} for p in body["problems"])


def test_wrong_types_are_stored_and_named_as_problems(app, client, inventory, acme_key):
    sent = {"friendly_name": 12, "contact": ["not", "an", "object"], "requested_date": "soon"}
    response = create(client, acme_key, sent)
    assert response.status_code == 201
    body = response.get_json()
    assert {key: body[key] for key in sent} == sent
    fields = {p["field"] for p in body["problems"]}
    assert {"friendly_name", "contact", "requested_date"} <= fields
    assert body["steps"]["general"] == "incomplete"


def test_numbers_refused_or_of_another_account_are_problems(client, inventory, acme_key):
    sent = {
        "numbers": [
            {"phone_number": "416-979-6000", "routing_id": 402, "tracking_source_id": 301},
            {"phone_number": "(614) 322-1003", "routing_id": 902, "tracking_source_id": "301"},
            {"phone_number": "(614) 322-1004", "routing_id": 402, "tracking_source_id": None},
        ]
    }
    body = create(client, acme_key, sent).get_json()
    assert body["numbers"][0]["portability"]["reason"] == "canada_ticket"
    assert body["numbers"][1]["tracking_source_id"] == 301  # a whole number in quotes is one
    by_field = {p["field"]: p["code"] for p in body["problems"]}
    assert by_field["numbers[0]"] == "canada_ticket"
    assert by_field["numbers[1].routing_id"] == "unknown_routing_id"
    assert by_field["numbers[2].tracking_source_id"] == "required"
    assert "numbers[1].tracking_source_id" not in by_field


def test_the_list_is_paged_newest_first(app, client, inventory, acme_key, globex_key):
    for name in ("first", "second", "third"):
        create(client, acme_key, {"friendly_name": name, "numbers": complete()["numbers"]})
    create(client, globex_key, {"friendly_name": "Globex's"})
    body = client.get(URL, headers=bearer(acme_key)).get_json()
    assert (body["page"], body["pages"], body["total"]) == (1, 1, 3)
    assert [item["friendly_name"] for item in body["port_requests"]] == ["third", "second", "first"]
    assert body["port_requests"][0]["number_count"] == 2
    assert body["port_requests"][0]["url"] == f"{URL}/{body['port_requests'][0]['id']}"
    assert client.get(f"{URL}?page=9", headers=bearer(acme_key)).get_json()["page"] == 1
    assert_error(client.get(f"{URL}?page=two", headers=bearer(acme_key)), 400, "invalid_request")


def test_patch_replaces_given_fields_and_the_numbers(app, client, inventory, acme_key):
    created = create(client, acme_key, complete()).get_json()
    url = f"{URL}/{created['id']}"
    change = {"friendly_name": "Renamed", "numbers": [{"phone_number": "(614) 322-1009"}]}
    response = client.patch(url, json=change, headers=bearer(acme_key))
    assert response.status_code == 200
    body = response.get_json()
    assert body["friendly_name"] == "Renamed"
    assert body["contact"] == created["contact"]
    assert [n["phone_number"] for n in body["numbers"]] == ["(614) 322-1009"]
    assert client.get(url, headers=bearer(acme_key)).get_json() == body
    assert stored(app) == (1, 1)
    # Without "numbers" the numbers stay; a number row read back is accepted as it was read.
    again = client.patch(url, json={"numbers": body["numbers"]}, headers=bearer(acme_key))
    assert again.get_json()["numbers"] == body["numbers"]


def test_delete_removes_the_draft_and_its_numbers(app, client, inventory, acme_key):
    created = create(client, acme_key, complete()).get_json()
    response = client.delete(f"{URL}/{created['id']}", headers=bearer(acme_key))
    assert response.status_code == 204
    assert stored(app) == (0, 0)
    assert_error(client.get(f"{URL}/{created['id']}", headers=bearer(acme_key)), 404, "not_found")


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    app, client, inventory, acme_key, globex_key, method
):
    theirs = create(client, globex_key, complete()).get_json()["id"]
    send = getattr(client, method)
    options = {"json": {"friendly_name": "Mine now"}} if method == "patch" else {}
    foreign = send(f"{URL}/{theirs}", headers=bearer(acme_key), **options)
    missing = send(f"{URL}/{theirs + 1000}", headers=bearer(acme_key), **options)
    assert_error(foreign, 404, "not_found")
    assert_error(missing, 404, "not_found")
    for response, number in ((foreign, theirs), (missing, theirs + 1000)):
        message = response.get_json()["error"]["message"]
        assert message.startswith(f"No port request {number} in this account: list yours at")
    with app.app_context():
        assert PortRequest.get_by_id(theirs).fields["friendly_name"] == "Harbor Clinic main lines"
    assert_error(client.get(f"{URL}/{10**30}", headers=bearer(acme_key)), 404, "not_found")


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_request_no_longer_a_draft_cannot_change(app, client, acme_key, method):
    created = create(client, acme_key, {"friendly_name": "Sent"}).get_json()
    with app.app_context():
        PortRequest.update(status="submitted").where(PortRequest.id == created["id"]).execute()
    options = {"json": {"friendly_name": "Changed"}} if method == "patch" else {}
    response = getattr(client, method)(
        f"{URL}/{created['id']}", headers=bearer(acme_key), **options
    )
    assert "submitted" in assert_error(response, 409, "not_a_draft")
    read = client.get(f"{URL}/{created['id']}", headers=bearer(acme_key)).get_json()
    assert (read["friendly_name"], read["status"]) == ("Sent", "submitted")


@pytest.mark.parametrize(
    ("body", "status", "code", "named"),
    [
        ([], 400, "invalid_request", "a list"),
        ({"frendly_name": "x"}, 400, "invalid_request", "frendly_name"),
        ({"contact": {"nmae": "x"}}, 400, "invalid_request", "contact.nmae"),
        ({"friendly_name": "x" * 10_001}, 400, "invalid_request", "friendly_name"),
        ({"billing": {"pin": "1" * 10_001}}, 400, "invalid_request", "billing.pin"),
        ({"contact": json.loads("[" * 900 + "]" * 900)}, 400, "invalid_request", "contact"),
        ({"numbers": "614-322-1001"}, 400, "invalid_request", "numbers"),
        ({"numbers": ["614-322-1001"]}, 400, "invalid_request", "numbers[0]"),
        ({"numbers": [{"phone_number": 6143221001}]}, 400, "invalid_request", "numbers[0]."),
        ({"numbers": [{"routing_id": "Front desk"}]}, 400, "invalid_request", "routing_id"),
        ({"numbers": [{"routing_id": 2**40}]}, 400, "invalid_request", "routing_id"),
        ({"numbers": [{"phone_number": "1", "pin": "2"}]}, 400, "invalid_request", "pin"),
        ({"numbers": [{}] * 20_001}, 413, "too_many_numbers", "20,000"),
    ],
)
def test_bodies_that_cannot_be_stored_are_refused_naming_the_field(
    app, client, acme_key, body, status, code, named
):
    response = create(client, acme_key, body)
    assert named in assert_error(response, status, code)
    assert stored(app) == (0, 0)


def test_only_json_bodies_with_a_key(app, client, acme_key):
    headers = bearer(acme_key) | {"Content-Type": "text/plain"}
    assert_error(client.post(URL, data="{}", headers=headers), 415, "unsupported_media_type")
    headers["Content-Type"] = "application/json"
    assert_error(client.post(URL, data="{", headers=headers), 400, "malformed_json")
    assert_error(
        client.post(URL, data='{"friendly_name": NaN}', headers=headers), 400, "malformed_json"
    )
    assert_error(client.post(URL, json={}), 401, "unauthorized")
    assert_error(client.get(URL), 401, "unauthorized")
    assert stored(app) == (0, 0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from([*FIELDS, "status", "contact.name"])
BODIES = st.dictionaries(KEYS, JSON, max_size=5) | st.fixed_dictionaries(
    {"numbers": st.lists(st.dictionaries(st.sampled_from(["phone_number", "routing_id"]), JSON))}
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES)
def test_arbitrary_objects_never_fail_and_a_refusal_stores_nothing(app, client, acme_key, body):
    before = stored(app)
    response = client.post(
        URL, data=json.dumps(body), headers=bearer(acme_key) | {"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert stored(app) == before
    else:
        assert response.status_code == 201
        read = client.get(response.headers["Location"], headers=bearer(acme_key))
        assert read.status_code == 200


def test_statements_do_not_grow_with_the_numbers(app, inventory, acme_key, statements):
    client = app.test_client()
    assert client.get(URL, headers=bearer(acme_key)).status_code == 200  # marks the key as used
    counts = []
    for size in (10, 1_000):
        numbers = [f"(614) 322-{1000 + i:04d}" for i in range(size)]
        statements.clear()
        response = create(client, acme_key, complete(numbers))
        assert response.status_code == 201
        created = len(statements)
        statements.clear()
        read = client.get(response.headers["Location"], headers=bearer(acme_key))
        assert len(read.get_json()["numbers"]) == size
        counts.append((created, len(statements)))
    assert counts[0] == counts[1]
    assert counts[0][0] > 0


def test_changes_at_the_same_moment_each_land_whole(app, inventory, acme_key):
    created = create(app.test_client(), acme_key, {"numbers": []}).get_json()
    url = f"/api/v1/port-requests/{created['id']}"
    # Each owner of an integration changes another field, and one also replaces the numbers.
    changes = [{key: value} for key, value in complete().items() if key != "numbers"]
    changes.append({"numbers": complete()["numbers"]})
    start = threading.Barrier(len(changes))
    answers = [None] * len(changes)

    def change(i):
        client = app.test_client()
        start.wait()
        answers[i] = client.patch(url, json=changes[i], headers=bearer(acme_key)).status_code

    threads = [threading.Thread(target=change, args=(i,)) for i in range(len(changes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(changes)
    read = app.test_client().get(url, headers=bearer(acme_key)).get_json()
    # None of them lost: each read the request again under the lock before changing it.
    for change_made in changes[:-1]:
        [(key, value)] = change_made.items()
        assert read[key] == value, key
    assert [n["phone_number"] for n in read["numbers"]] == [
        n["phone_number"] for n in complete()["numbers"]
    ]


def test_an_import_that_removes_a_routing_a_draft_uses_leaves_the_row_asking_for_one(
    app, client, inventory, acme_key
):
    from portal.inventory import import_inventory

    created = create(client, acme_key, {"numbers": complete()["numbers"][:1]}).get_json()
    assert not [p for p in created["problems"] if p["field"].startswith("numbers[0].")]
    document = {
        "accounts": [
            {
                "id": 4242,
                "name": "Acme Dental",
                "routing_targets": [{"id": 403, "name": "New desk", "kind": "call_queue"}],
            }
        ]
    }
    with app.app_context():
        import_inventory(document)
    read = client.get(f"{URL}/{created['id']}", headers=bearer(acme_key)).get_json()
    # The draft keeps its row and the id as sent; its problems ask for a routing that exists.
    assert read["numbers"][0]["routing_id"] == 402
    [problem] = [p for p in read["problems"] if p["field"] == "numbers[0].routing_id"]
    assert problem["severity"] == "error"
    assert "402" in problem["message"]
