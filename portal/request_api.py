"""The port request API: drafts created, read, changed and deleted with the account's API key.

The routes sit on the API's blueprint (portal/api.py): the same Bearer keys, the same JSON errors.
A request is the JSON shape of docs/domain.md ("A port request"). Its fields other than the
numbers are stored as sent, so a field of the wrong type is kept and named in `problems`; a
number row is stored in columns, so a row whose values cannot be stored is a 400 naming its path.
"""

import json

from flask import Response, current_app, request, url_for
from peewee import fn

from portal.api import ApiError, authenticated_key, bp, json_body, json_name
from portal.db import db
from portal.models import PortNumber, PortRequest, utcnow
from portal.models.requests import MAX_FIELD_TEXT
from portal.paging import Page
from portal.port_requests.drafts import (
    changing,
    merge_fields,
    record_save,
    replace_numbers,
    store_numbers,
)
from portal.port_requests.events import record_event
from portal.port_requests.fields import LABELS, NUMBER_FIELDS
from portal.port_requests.review import COMPLETE, review
from portal.portability import MAX_ENTRIES

FIELDS = tuple(path for path in LABELS if "." not in path)
# The keys each section may hold, from the form's own labels.
SECTION_KEYS = {
    section: {path.split(".", 1)[1] for path in LABELS if path.startswith(f"{section}.")}
    for section in FIELDS
}
# Worked out on every read, so a number row sent back as it was read keeps it without harm.
READ_ONLY_NUMBER_KEYS = ("portability",)
# The fields other than the numbers, as stored: room for every field at its longest, not more.
MAX_DETAILS = 100_000
# A field is a text or a section of texts: nesting deeper is a mistake, and costs every reader.
MAX_DEPTH = 8
PER_PAGE = 50
# The id columns are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1
ROUTE = {"provide_automatic_options": False, "merge_slashes": False}


@bp.post("/port-requests", **ROUTE)
def create_port_request():
    key = authenticated_key()
    fields, numbers = _fields_from_body()
    with db.atomic():
        port_request = PortRequest.create(account=key.account, details=json.dumps(fields))
        store_numbers(port_request, numbers or [])
        record_event(
            port_request, "created", "Created the draft through the API.", actor=_actor(key)
        )
    location = url_for("api.port_request", request_id=port_request.id)
    return _json(_as_json(port_request), 201, {"Location": location})


@bp.get("/port-requests", **ROUTE)
def port_requests():
    key = authenticated_key()
    page = Page.of(PortRequest.of_account(key.account), _page_number(), PER_PAGE)
    counts = _number_counts([item.id for item in page.items])
    items = [_summary(item, counts.get(item.id, 0)) for item in page.items]
    body = {"port_requests": items, "page": page.number, "pages": page.count, "total": page.total}
    return _json(body)


@bp.get("/port-requests/<int:request_id>", **ROUTE)
def port_request(request_id):
    key = authenticated_key()
    port_request = get_request_or_404(key.account, request_id)
    return _json(_as_json(port_request))


@bp.patch("/port-requests/<int:request_id>", **ROUTE)
def change_port_request(request_id):
    key = authenticated_key()
    _draft_or_409(get_request_or_404(key.account, request_id))
    fields, numbers = _fields_from_body()
    with changing():
        # Read again under the lock: another change may have landed since.
        port_request = _draft_or_409(get_request_or_404(key.account, request_id, for_update=True))
        merge_fields(port_request, fields)
        if numbers is not None:
            replace_numbers(port_request, numbers or [])
        changed = ", ".join(sorted(fields) + (["numbers"] if numbers is not None else []))
        message = f"Changed {changed or 'nothing'} through the API."
        record_save(port_request, "changed", message, actor=_actor(key))
    return _json(_as_json(port_request))


@bp.delete("/port-requests/<int:request_id>", **ROUTE)
def delete_port_request(request_id):
    key = authenticated_key()
    with changing():
        port_request = _draft_or_409(get_request_or_404(key.account, request_id, for_update=True))
        port_request.delete_instance()  # its numbers go with it (ON DELETE CASCADE)
    return Response(status=204)


def get_request_or_404(account, request_id, *, for_update=False):
    """Return the account's request, or the same 404 for a missing and another account's one."""
    found = None
    if request_id <= MAX_ID:
        found = PortRequest.find(account, request_id, for_update=for_update)
    if found is None:
        raise ApiError(
            404,
            "not_found",
            f"No port request {request_id} in this account: list yours at "
            f"GET {url_for('api.port_requests')}.",
        )
    return found


def _actor(key):
    return f"API key '{key.name}'" if key.name else f"API key {key.id}"


def _draft_or_409(port_request):
    if port_request.status != "draft":
        raise ApiError(
            409,
            "not_a_draft",
            f"Port request {port_request.id} is {port_request.status}, no longer a draft: only a "
            "draft can be changed or deleted.",
        )
    return port_request


def _page_number():
    text = request.args.get("page", "1")
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ApiError(400, "invalid_request", "page must be a whole number, like ?page=2.")
    return int(text)


def _fields_from_body():
    """Return (the fields other than numbers, the number rows or None when not given)."""
    body = _json_object()
    for key in body:
        if key not in FIELDS:
            known = ", ".join(FIELDS)
            raise ApiError(400, "invalid_request", f'"{key}" is not a field. The fields: {known}.')
    fields = {key: value for key, value in body.items() if key != "numbers"}
    for key, value in fields.items():
        if isinstance(value, dict) and SECTION_KEYS[key]:
            for name in value:
                if name not in SECTION_KEYS[key]:
                    known = ", ".join(sorted(SECTION_KEYS[key]))
                    raise ApiError(
                        400,
                        "invalid_request",
                        f'"{key}.{name}" is not a field. The fields of {key}: {known}.',
                    )
        _check_text(value, key)
    if len(json.dumps(fields)) > MAX_DETAILS:
        raise ApiError(
            400,
            "invalid_request",
            f"The fields other than numbers are over {MAX_DETAILS:,} characters: send what the "
            "form asks for, each field as a short text.",
        )
    numbers = _number_rows(body["numbers"]) if "numbers" in body else None
    return fields, numbers


def _json_object():
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_request",
            f"The body must be a JSON object of the request's fields, not {json_name(body)}.",
        )
    return body


def _check_text(value, path, depth=0):
    """Refuse text too long to be a field, or that is not text (a lone surrogate), anywhere."""
    if depth > MAX_DEPTH:
        raise ApiError(
            400, "invalid_request", f"{path} is nested too deeply: send each field as a text."
        )
    if isinstance(value, str):
        if len(value) > MAX_FIELD_TEXT:
            raise ApiError(
                400,
                "invalid_request",
                f"{path} is over {MAX_FIELD_TEXT:,} characters: shorten it.",
            )
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ApiError(
                400, "invalid_request", f"{path} holds characters that are not text: retype it."
            ) from None
    elif isinstance(value, dict):
        for name, item in value.items():
            _check_text(name, f"{path} (a key)", depth + 1)
            _check_text(item, f"{path}.{name}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}[{index}]", depth + 1)


def _number_rows(numbers):
    """Return the number rows as the columns take them, or refuse the first that cannot be."""
    if numbers is None:
        return []
    if not isinstance(numbers, list):
        raise ApiError(
            400,
            "invalid_request",
            f'numbers must be a list of objects like {{"phone_number": "(614) 322-1001"}}, '
            f"not {json_name(numbers)}.",
        )
    if len(numbers) > MAX_ENTRIES:
        raise ApiError(
            413,
            "too_many_numbers",
            f"Send at most {MAX_ENTRIES:,} numbers per request; this one has {len(numbers):,}. "
            "Split them into several requests.",
        )
    return [_number_row(row, f"numbers[{index}]") for index, row in enumerate(numbers)]


def _number_row(row, path):
    if not isinstance(row, dict):
        raise ApiError(
            400,
            "invalid_request",
            f'{path} must be an object like {{"phone_number": "(614) 322-1001"}}, '
            f"not {json_name(row)}.",
        )
    for name in row:
        if name not in NUMBER_FIELDS and name not in READ_ONLY_NUMBER_KEYS:
            known = ", ".join(NUMBER_FIELDS)
            raise ApiError(
                400, "invalid_request", f'"{path}.{name}" is not a field. A number has: {known}.'
            )
    stored = {}
    for name in ("phone_number", "friendly_name"):
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(
                400,
                "invalid_request",
                f"{path}.{name} must be a string, not {json_name(value)}: write it in quotes.",
            )
        _check_text(value, f"{path}.{name}")
        stored[name] = value
    for name in ("routing_id", "tracking_source_id"):
        stored[name] = _id(row.get(name), f"{path}.{name}")
    return stored


def _id(value, path):
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 10 else MAX_ID + 1
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and -MAX_ID <= value <= MAX_ID:
        return value
    raise ApiError(
        400,
        "invalid_request",
        f"{path} must be the ID as a whole number, like 402 (not {json_name(value)}): "
        "the IDs are in your inventory.",
    )


def _number_counts(request_ids):
    if not request_ids:
        return {}
    return dict(
        PortNumber.select(PortNumber.port_request, fn.COUNT(PortNumber.id))
        .where(PortNumber.port_request.in_(request_ids))
        .group_by(PortNumber.port_request)
        .tuples()
    )


def _summary(port_request, count):
    return {
        "id": port_request.id,
        "friendly_name": port_request.fields.get("friendly_name"),
        "status": port_request.status,
        "number_count": count,
        "created_at": _timestamp(port_request.created_at),
        "updated_at": _timestamp(port_request.updated_at),
        "url": url_for("api.port_request", request_id=port_request.id),
    }


def _as_json(port_request):
    """Return the request as the API shows it: its fields, numbers, steps and problems."""
    found = review(
        port_request,
        today=utcnow().date(),
        lead_business_days=current_app.config["PORT_LEAD_BUSINESS_DAYS"],
    )
    body = {"id": port_request.id}
    for field in FIELDS:
        body[field] = found.fields.get(field)
    body["numbers"] = [
        number | {"portability": _portability(result)}
        for number, result in zip(found.as_request["numbers"], found.checked, strict=True)
    ]
    body["status"] = port_request.status
    body["created_at"] = _timestamp(port_request.created_at)
    body["updated_at"] = _timestamp(port_request.updated_at)
    body["steps"] = found.steps
    if found.steps["agreements"] != COMPLETE:
        # Agreements are accepted by a person, in the browser: say so rather than "incomplete".
        body["steps"] = found.steps | {"agreements": "needs_browser"}
    body["problems"] = [problem._asdict() for problem in found.problems]
    body["confirmed_warnings"] = [
        {
            "field": problem.field,
            "code": problem.code,
            "message": problem.message,
            "confirmed_by": confirmation.user_name,
            "confirmed_at": _timestamp(confirmation.confirmed_at),
        }
        for problem, confirmation in found.confirmed
    ]
    return body


def _portability(result):
    return {
        "portable": result.portable,
        "reason": result.reason,
        "message": result.message,
        "e164": result.e164,
    }


def _timestamp(moment):
    return moment.replace(microsecond=0).isoformat() + "Z"


def _json(body, status=200, headers=None):
    # Not jsonify: it sorts the keys, and the request reads best in the form's order.
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")
