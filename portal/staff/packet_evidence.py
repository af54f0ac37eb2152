"""What the packet says of its request: the cover's summary and the evidence JSON attached.

No Flask. Both come from the stored request as it is when the packet is built: its fields, every
number with its routing and tracking source named (one query each, whatever the count), its
dates and status, the parts with their SHA-256, and the signing events of the envelope that made
the signed LOA.
"""

from portal.models import RoutingTarget, TrackingSource
from portal.numbers import display
from portal.port_requests import loa, statuses
from portal.staff import packet_cover
from signing import envelopes

FORMAT = "portdesk-packet/1"


def summary(port_request, numbers, parts, *, new_carrier, built_at):
    """Return what the cover prints (a `packet_cover.Summary`)."""
    status = statuses.describe(port_request.status)
    # The LOA's cleaned details, without its list of numbers (the cover names their routing).
    data = loa.loa_data(
        port_request.fields, (), request_id=port_request.id, account_name=port_request.account.name
    )
    requested = packet_cover.day(data["requested_date"])
    facts = [
        ("Submitted", packet_cover.day(port_request.submitted_at)),
        ("Requested port date", requested or "The earliest date the carriers allow"),
        ("FOC date", _foc(port_request)),
        ("In this status since", packet_cover.day(port_request.status_changed_at)),
    ]
    if port_request.codes:
        facts.append(("Carrier codes", ", ".join(port_request.codes)))
    if port_request.status_note:
        label = "Reason" if port_request.status == "rejected" else "Staff note"
        facts.append((label, port_request.status_note))
    return packet_cover.Summary(
        title=port_request.fields.get("friendly_name")
        or data["customer_name"]
        or data["account_name"],
        request_id=port_request.id,
        account_id=port_request.account_id,
        account_name=data["account_name"],
        status=status.label,
        status_sentence=status.sentence,
        new_carrier=new_carrier,
        loa=data,
        dates=[(label, text or "Not set") for label, text in facts],
        numbers=_numbers(numbers),
        parts=[{"title": p.title, "detail": p.detail, "pages": p.pages, **p.facts} for p in parts],
        built_at=built_at,
    )


def evidence(port_request, cover, parts, envelope):
    """Return the evidence JSON's content: the request, every part with its hash, the signing."""
    return {
        "format": FORMAT,
        "built_at": iso(cover.built_at),
        "port_request": {
            "id": port_request.id,
            "account": {"id": port_request.account_id, "name": cover.account_name},
            "status": port_request.status,
            "submitted_at": iso(port_request.submitted_at),
            "status_changed_at": iso(port_request.status_changed_at),
            "foc_date": iso(port_request.foc_date),
            "foc_window": port_request.foc_window,
            "carrier_codes": port_request.codes,
            "status_note": port_request.status_note,
            "fields": port_request.fields,
            "numbers": cover.numbers,
        },
        "parts": [
            {"part": part.kind, "title": part.title, "first_page": first, "pages": part.pages}
            | {key: value for key, value in part.facts.items() if value is not None}
            for part, first in zip(parts, _first_pages(parts), strict=True)
        ],
        "signing": _signing(envelope),
    }


def iso(moment):
    """Return a date or a UTC time (naive, as stored) in ISO 8601; None stays None."""
    if moment is None:
        return None
    if hasattr(moment, "hour"):
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return moment.isoformat()


def _first_pages(parts):
    first = 1
    for part in parts:
        yield first
        first += part.pages


def _numbers(numbers):
    """Return each number as the cover and the evidence show it, its routing and source named."""
    routing_ids = {row.routing_id for row in numbers if row.routing_id is not None}
    source_ids = {row.tracking_source_id for row in numbers if row.tracking_source_id is not None}
    routings = dict(
        RoutingTarget.select(RoutingTarget.id, RoutingTarget.name)
        .where(RoutingTarget.id.in_(routing_ids))
        .tuples()
    )
    sources = dict(
        TrackingSource.select(TrackingSource.id, TrackingSource.name)
        .where(TrackingSource.id.in_(source_ids))
        .tuples()
    )
    return [
        {
            "number": display(row.e164) if row.e164 else row.phone_number or "",
            "e164": row.e164,
            "routing_id": row.routing_id,
            "routing": _named(routings, row.routing_id),
            "tracking_source_id": row.tracking_source_id,
            "source": _named(sources, row.tracking_source_id),
            "friendly_name": row.friendly_name,
            "status": _number_status(row),
        }
        for row in numbers
    ]


def _named(names, object_id):
    if object_id is None:
        return "Not set"
    if object_id not in names:
        return f"{object_id} (no longer on the platform)"
    return f"{names[object_id]} ({object_id})"


def _number_status(row):
    said = (row.status or "draft").replace("_", " ").capitalize()
    return f"{said}: {row.reason}" if row.reason else said


def _foc(port_request):
    if port_request.foc_date is None:
        return None
    window = f", {port_request.foc_window}" if port_request.foc_window else ""
    return packet_cover.day(port_request.foc_date) + window


def _signing(envelope):
    if envelope is None:
        return None
    return {
        "envelope_id": envelope.id,
        "method": envelope.method,
        "signer_name": envelope.signer_name,
        "signer_email": envelope.signer_email,
        "signed_at": iso(envelope.signed_at),
        "document_sha256": envelope.document_sha256,
        "signed_sha256": envelope.signed_sha256,
        "events": [{**event, "at": iso(event["at"])} for event in envelopes.trail(envelope)],
    }
