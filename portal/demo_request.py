"""The demo's submitted port request, so Carrier Relations' queue has a request to work from the
first start: Lakeside Dental's Lincoln Park lines, with a bill that matches what was entered, the
agreements accepted, the LOA signed by its representative (a typed signature) and submitted.

It goes through the same functions an owner's clicks do (store the numbers, accept, upload the
bill, sign, submit), so it is exactly what the wizard would have made. Needs an app context.
"""

import json

from flask import current_app
from fpdf import FPDF

from portal import documents
from portal.db import db
from portal.models import PortRequest, utcnow
from portal.port_requests import agreements, operations, signatures
from portal.port_requests.drafts import store_numbers
from portal.port_requests.events import record_event
from signing.envelopes import Signature

ACCOUNT_ID = 4242
NAME = "Lincoln Park office lines"
FIELDS = {
    "friendly_name": NAME,
    "contact": {
        "name": "Dana Whitfield",
        "email": "owner@demo.portdesk.test",
        "phone": "(312) 263-0155",
    },
    "billing": {
        "carrier": "Lumen",
        "service_type": "landline",
        "customer_type": "business",
        "customer_name": "LAKESIDE DENTAL GROUP, LLC",
        "account_number": "31226301002",
        "btn": "(312) 263-0120",
    },
    "service_address": {
        "street_number": "2450",
        "street": "N Clark St",
        "city": "Chicago",
        "state": "IL",
        "zip": "60614",
    },
    "billing_address": None,
    "authorized": {
        "name": "Dana Whitfield",
        "title": "Office Manager",
        "email": "owner@demo.portdesk.test",
        "phone": "(312) 263-0155",
    },
    "partial_port": {"other_numbers_remain": False},
    "requested_date": None,
}
# Not in the demo inventory, so each is portable; routed to the demo's call queue and menu.
NUMBERS = (
    ("(312) 263-0120", 903, 504, "Main line"),
    ("(312) 263-0121", 902, 501, "New patients (Google Ads)"),
    ("(312) 263-0122", 902, 502, "New patients (Bing Ads)"),
)
BILL_LINES = (
    "Lumen",
    "Statement for LAKESIDE DENTAL GROUP, LLC",
    "2450 N CLARK ST",
    "CHICAGO IL 60614-1721",
    "Account number: 3122 6301 002",
    "Billing telephone number: 312-263-0120",
    "Business lines (3) ........ $146.85",
)


def seed_demo_request(owner):
    """Store the demo's submitted request once (never twice); return its id, or None if kept."""
    kept = PortRequest.select().where(
        (PortRequest.account == ACCOUNT_ID) & (PortRequest.details.contains(NAME))
    )
    if kept.exists():
        return None
    config = current_app.config
    with db.atomic():
        port_request = PortRequest.create(
            account=ACCOUNT_ID, created_by=owner, details=json.dumps(FIELDS)
        )
        record_event(port_request, "created", "Created the draft.", user=owner)
        store_numbers(
            port_request,
            [
                {
                    "phone_number": number,
                    "routing_id": routing,
                    "tracking_source_id": source,
                    "friendly_name": name,
                }
                for number, routing, source, name in NUMBERS
            ],
        )
        agreements.accept(port_request, list(agreements.TEXTS), user=owner, ip="127.0.0.1")
        documents.store(
            account=port_request.account,
            kind="bill",
            data=_bill(),
            label="lumen-statement.pdf",
            user=owner,
            max_bytes=config["MAX_DOCUMENT_BYTES"],
            port_request=port_request,
            statement_date=utcnow().date(),
        )
    signatures.sign_yourself(
        port_request,
        owner,
        signature=Signature(typed_name="Dana Whitfield"),
        consented=True,
        representative=True,
        ip="127.0.0.1",
        user_agent="PortDesk demo",
    )
    operations.submit(
        port_request.account,
        port_request.id,
        user=owner,
        ip="127.0.0.1",
        today=utcnow().date(),
        lead_business_days=config["PORT_LEAD_BUSINESS_DAYS"],
    )
    return port_request.id


def _bill():
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for line in BILL_LINES:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
