"""The Letter of Authorization: what it says (from the request) and the PDF that says it.

No Flask. `loa_data` takes from a request exactly what the LOA prints (47 CFR 64.1130: the
customer and billing name and address, the service address, the losing carrier, the account
number, the BTN, every number, the representative), and `digest` names that data: any change
of a field on the LOA gives another digest, which voids a signature of the old one. `render`
makes the PDF: the same data gives the same bytes, so its SHA-256 is stable too.
"""

import datetime
import hashlib
import json

from portal.numbers import InvalidNumber, display, to_e164
from portal.port_requests.rules import Problem

TITLE = "Letter of Authorization"
# Carriers want an LOA signed within this many days of the port.
MAX_AGE_DAYS = 30


def loa_data(fields, rows, *, request_id, account_name):
    """Return what the request's LOA prints, as plain values (text, lists, None)."""
    billing = _section(fields, "billing")
    service = _section(fields, "service_address")
    billing_address = fields.get("billing_address")
    authorized = _section(fields, "authorized")
    partial = _section(fields, "partial_port")
    return {
        "request_id": request_id,
        "account_name": account_name,
        "customer_name": _text(billing.get("customer_name")),
        "customer_type": _text(billing.get("customer_type")),
        "carrier": _text(billing.get("carrier")),
        "service_type": _text(billing.get("service_type")),
        "account_number": _text(billing.get("account_number")),
        "pin": _text(billing.get("pin")),
        "btn": _number(billing.get("btn")),
        "service_address": _address(service),
        "billing_address": (
            _address(billing_address) if isinstance(billing_address, dict) else None
        ),
        "authorized": {
            key: _text(authorized.get(key)) for key in ("name", "title", "email", "phone")
        },
        "numbers": [display(row.e164) if row.e164 else _text(row.phone_number) for row in rows],
        "other_numbers_remain": partial.get("other_numbers_remain") is True,
        "remaining_numbers": _text(partial.get("remaining_numbers")),
        "new_btn": _number(partial.get("new_btn")),
        "requested_date": _text(fields.get("requested_date")),
    }


def digest(data):
    """Return the SHA-256 (hex) of the LOA's data: equal data, equal digest."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _section(fields, name):
    value = fields.get(name)
    return value if isinstance(value, dict) else {}


def _text(value):
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def _number(value):
    """Return a number as a carrier reads it, (614) 322-1001, or the text as given."""
    text = _text(value)
    try:
        return display(to_e164(text))
    except InvalidNumber:
        return text


def _address(address):
    if not isinstance(address, dict):
        return {}
    return {
        key: _text(address.get(key))
        for key in ("street_number", "street", "unit", "city", "state", "zip")
    }


def reference(port_request_id):
    """Return the signing envelope reference of a request's LOA."""
    return f"port_request:{port_request_id}"


def loa_problems(signed_loa, envelope, current_digest, *, today):
    """Return what stands between the request and a signed LOA that carriers take.

    `signed_loa` is the request's current signed LOA document (or None), `envelope` its newest
    signing envelope (or None), `current_digest` the digest of the LOA data as the request
    stands now. An LOA signed for other data no longer counts; one uploaded with a signing date
    past MAX_AGE_DAYS is a warning the owner may confirm.
    """
    if signed_loa is None:
        pending = (
            envelope is not None
            and envelope.status in ("sent", "opened")
            and envelope.content_key == current_digest
            and not envelope.expired()
        )
        if pending:
            return [
                Problem(
                    "loa",
                    "loa_awaiting_signature",
                    "error",
                    f"The LOA is waiting for {envelope.signer_name}'s signature.",
                )
            ]
        return [
            Problem(
                "loa",
                "loa_required",
                "error",
                "Get the Letter of Authorization signed: sign it yourself, send it to the "
                "authorized representative, or upload a copy that is already signed.",
            )
        ]
    if signed_loa.loa_digest != current_digest:
        return [
            Problem(
                "loa",
                "loa_outdated",
                "error",
                "A detail on the LOA changed after it was signed: the signature no longer "
                "counts. Get the new LOA signed.",
            )
        ]
    signed = signed_loa.signed_date
    if isinstance(signed, datetime.datetime):
        signed = signed.date()
    if isinstance(signed, datetime.date) and (today - signed).days > MAX_AGE_DAYS:
        return [
            Problem(
                "loa",
                "loa_signed_old",
                "warning",
                f"The LOA was signed on {signed:%-d %b %Y}: carriers want an LOA signed in the "
                f"last {MAX_AGE_DAYS} days. Get it signed again, or confirm it is still right.",
            )
        ]
    return []
