"""The JSON API: portability checks for the account that owns the API key.

Every answer under /api/ is JSON, errors included: `{"error": {"code": ..., "message": ...}}`.
The app's error handlers (portal/web.py) answer any URL under /api/ with `error_answer`, whether
or not a route matched, so that holds for unknown URLs and failures before routing too.
"""

import json
import math
from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from portal.models import ApiKey, utcnow
from portal.portability import MAX_ENTRIES, check_portability, numbered, summarize

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Every path under this root answers JSON, even where no API route matches.
API_ROOT = "/api/"
# Often enough to tell a live key from a dead one; rarely enough to cost nothing per call.
LAST_USED_EVERY = timedelta(minutes=1)
BEARER = 'Bearer realm="PortDesk"'
# How a message names the JSON type that was sent instead.
JSON_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "true or false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


class ApiError(Exception):
    """A request the API refuses, with the status, code and message the caller gets."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


# No automatic OPTIONS answer and no redirect for a doubled slash: both would not be JSON.
@bp.post("/portability-checks", provide_automatic_options=False, merge_slashes=False)
def portability_checks():
    key = authenticated_key()
    texts = _numbers_from_body()
    results = check_portability(numbered(texts), key.account)
    counts = summarize(results)
    summary = {"total": counts.total, "portable": counts.portable, "refused": counts.refused}
    body = {"results": [result.as_json() for result in results], "summary": summary}
    # Not jsonify: sorting the keys of 20,000 results costs time and loses the documented order.
    return Response(json.dumps(body), mimetype="application/json")


def authenticated_key():
    """Return the active API key the request was sent with, or raise the 401 ApiError."""
    auth = request.authorization
    if auth is None or auth.type != "bearer" or not auth.token:
        raise ApiError(
            401,
            "unauthorized",
            "Send your API key in the Authorization header: 'Authorization: Bearer <key>'.",
            {"WWW-Authenticate": BEARER},
        )
    key = ApiKey.find_active(auth.token)
    if key is None:
        raise ApiError(
            401,
            "unauthorized",
            "That API key is not valid or has been revoked. Ask Carrier Relations for a new one.",
            {"WWW-Authenticate": f'{BEARER}, error="invalid_token"'},
        )
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        ApiKey.update(last_used_at=now).where(ApiKey.id == key.id).execute()
    return key


def json_body():
    """Return the request's JSON body as parsed, or raise the 415 or 400 ApiError."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the body as JSON with 'Content-Type: application/json'.",
        )
    try:
        # Parsed here rather than by get_json(), which answers None both for bad JSON and `null`.
        # NaN and Infinity are Python's extension, not JSON.
        return json.loads(
            request.get_data(cache=False),
            parse_constant=_not_json,
            parse_float=_finite,
            parse_int=_whole,
            object_pairs_hook=_object,
        )
    except _Unreadable as error:
        raise ApiError(400, "malformed_json", str(error)) from None
    except UnicodeDecodeError:
        message = "The body is not valid JSON: it is not UTF-8 text. Send it encoded as UTF-8."
        raise ApiError(400, "malformed_json", message) from None
    except RecursionError:
        message = (
            "The body is not valid JSON here: it is nested too deeply. Send each field as a "
            "text or a short list."
        )
        raise ApiError(400, "malformed_json", message) from None
    except ValueError:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None


class _Unreadable(ValueError):
    """JSON that parses, but that no answer could be sure to mean what was sent."""


def _not_json(name):
    raise ValueError(f"{name} is not JSON")


def _finite(text):
    # 1e400 would become infinity, which no JSON answer can hold.
    value = float(text)
    if not math.isfinite(value):
        raise _Unreadable(f"The number {text[:40]} is too large: send it as a string.")
    return value


def _whole(text):
    # Python refuses over 4,300 digits anyway; no id or count comes near 30.
    if len(text) > 30:
        raise _Unreadable(f"The number {text[:40]}... is too large: send it as a string.")
    return int(text)


def _object(pairs):
    # With a key twice, which value counts is the parser's whim: say so rather than pick one.
    found = {}
    for key, value in pairs:
        if key in found:
            raise _Unreadable(f'The key "{key[:100]}" appears twice in one object: send it once.')
        found[key] = value
    return found


def _numbers_from_body():
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_request",
            f'The body must be a JSON object like {{"numbers": [...]}}, not {json_name(body)}.',
        )
    if "numbers" not in body:
        raise ApiError(400, "invalid_request", 'The body has no "numbers": give a list of strings.')
    texts = body["numbers"]
    if not isinstance(texts, list):
        raise ApiError(
            400,
            "invalid_request",
            f'"numbers" must be a list of strings, not {json_name(texts)}.',
        )
    if len(texts) > MAX_ENTRIES:
        raise ApiError(
            413,
            "too_many_numbers",
            f"Send at most {MAX_ENTRIES:,} numbers per request; this one has {len(texts):,}. "
            "Split the list.",
        )
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ApiError(
                400,
                "invalid_request",
                f'"numbers"[{index}] must be a string, not {json_name(text)}: '
                'write it in quotes, like "212-736-5000".',
            )
    return texts


def json_name(value):
    """Return how a message names the JSON type of a value: "a list", "null"..."""
    return JSON_NAMES.get(type(value), "that")


@bp.errorhandler(ApiError)
def _refused(error):
    return _error(error.status, error.code, error.message, error.headers)


def under_api(path):
    """Say whether a path is the API's, where every answer is JSON."""
    return path.startswith(API_ROOT) or path == API_ROOT.rstrip("/")


def error_answer(error):
    """Answer an HTTP error (a 404, a 405, a 500...) as the API's JSON."""
    return _error(*_describe(error))


def _describe(error):
    """Return (status, code, message, headers) for an HTTP error, in the API's words."""
    if error.code == 404:
        checks = url_for("api.portability_checks")
        requests = url_for("api.port_requests")
        message = f"No API endpoint here. The API answers at POST {checks} and at {requests}."
        return 404, "not_found", message, None
    if error.code == 405:
        allowed = sorted(error.valid_methods or ())
        message = f"{request.method} is not allowed here; use {' or '.join(allowed)}."
        return 405, "method_not_allowed", message, {"Allow": ", ".join(allowed)}
    if error.code == 413:
        limit = request.max_content_length
        over = f"over the {limit:,}-byte limit" if limit else "too large"
        if request.path.endswith("/documents"):
            most = current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024)
            message = f"The body is {over}. Send one document of at most {most} MB."
        else:
            message = f"The body is {over}. Send at most {MAX_ENTRIES:,} numbers per request."
        return 413, "body_too_large", message, None
    if error.code == 500:
        message = (
            "Something went wrong on our side. Nothing was changed: try again in a moment, "
            "and contact Carrier Relations if it keeps happening."
        )
        return 500, "internal_error", message, None
    if error.code == 503:
        message = (
            "The database is busy or out of reach, and nothing was changed. Try again in a "
            "minute, and contact Carrier Relations if it keeps happening."
        )
        return 503, "database_unavailable", message, None
    code = error.name.lower().replace(" ", "_").replace("'", "")
    return error.code, code, error.description, None


def _error(status, code, message, headers=None):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response
