"""The demo: a dental group with a realistic inventory, an owner login and a staff login, and
(with an app context) one submitted port request for staff to work."""

from portal.db import db
from portal.inventory import import_inventory
from portal.models import User

DEMO_PASSWORD = "portdesk-demo"
DEMO_OWNER_EMAIL = "owner@demo.portdesk.test"
DEMO_STAFF_EMAIL = "staff@demo.portdesk.test"

DEMO_INVENTORY = {
    "accounts": [
        {
            "id": 4242,
            "name": "Lakeside Dental Group",
            "fail_safe_number": "+1 312 263 0000",
            "tracking_sources": [
                {"id": 501, "name": "Google Ads"},
                {"id": 502, "name": "Bing Ads"},
                {"id": 503, "name": "Direct mail postcard"},
                {"id": 504, "name": "Website (organic)"},
            ],
            "routing_targets": [
                {
                    "id": 901,
                    "name": "Front desk",
                    "kind": "receiving_number",
                    "number": "(312) 263-0100",
                },
                {"id": 902, "name": "New patient line", "kind": "call_queue"},
                {"id": 903, "name": "Main menu", "kind": "voice_menu"},
                {
                    "id": 904,
                    "name": "After-hours answering",
                    "kind": "receiving_number",
                    "number": "312.263.0190",
                },
                {"id": 905, "name": "Office hours", "kind": "schedule"},
            ],
            "receiving_numbers": [
                {"number": "312-263-0100", "name": "Front desk"},
                {"number": "312-263-0190", "name": "After-hours answering"},
                {"number": "773-292-4410", "name": "Old Wicker Park office", "active": False},
            ],
            "tracking_numbers": [
                {"number": "312-263-0111", "tracking_source_id": 501, "routing_id": 902},
                {"number": "312-263-0112", "tracking_source_id": 501, "routing_id": 903},
                {"number": "312-263-0113", "tracking_source_id": 502, "routing_id": 902},
                {"number": "312-263-0114", "tracking_source_id": 503, "routing_id": 901},
                {"number": "312-263-0115", "tracking_source_id": 504, "routing_id": 905},
                {"number": "773-292-4401", "tracking_source_id": 501, "routing_id": 901},
                {"number": "773-292-4402", "tracking_source_id": 503, "routing_id": 904},
                {"number": "1 (888) 624-7300", "tracking_source_id": 504, "routing_id": 903},
            ],
            "users": [
                {"email": DEMO_OWNER_EMAIL, "name": "Dana Whitfield", "phone": "312-263-0155"},
                {
                    "email": "luis.ortega@demo.portdesk.test",
                    "name": "Luis Ortega",
                    "phone": "312-263-0156",
                },
            ],
        },
        {
            "id": 5150,
            "name": "Northside Auto Repair",
            "fail_safe_number": "+1 847 328 6000",
            "tracking_sources": [{"id": 611, "name": "Yelp"}],
            "routing_targets": [
                {
                    "id": 951,
                    "name": "Service desk",
                    "kind": "receiving_number",
                    "number": "847-328-6001",
                },
            ],
            "receiving_numbers": [{"number": "847-328-6001", "name": "Service desk"}],
            "tracking_numbers": [
                {"number": "847-328-6010", "tracking_source_id": 611, "routing_id": 951},
            ],
            "users": [
                {
                    "email": "mike@northside.demo.portdesk.test",
                    "name": "Mike Kowalski",
                    "phone": "847-328-6002",
                },
            ],
        },
    ]
}


def seed_demo(password=DEMO_PASSWORD, method="scrypt", *, with_request=False):
    """Load the demo inventory and give the demo owner and staff user this password; with
    `with_request`, file the demo's submitted port request too (once)."""
    with db.atomic():
        summary = import_inventory(DEMO_INVENTORY)
        owner = User.by_email(DEMO_OWNER_EMAIL)
        owner.set_password(password, method=method)
        owner.save()
        staff = User.by_email(DEMO_STAFF_EMAIL)
        if staff is None:
            staff = User(email=DEMO_STAFF_EMAIL, name="Casey Morgan", role="staff")
        staff.set_password(password, method=method)
        staff.save()
    if with_request:
        from portal.demo_request import seed_demo_request  # it needs the app's templates

        seed_demo_request(owner)
    return summary, [(DEMO_OWNER_EMAIL, "owner"), (DEMO_STAFF_EMAIL, "staff")]
