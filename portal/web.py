"""What every response shares: security headers, caching, every error answer, template helpers.

Errors are answered here and only here: JSON in the API's words under /api/, a page (or an htmx
fragment) elsewhere.
"""

import io
from urllib.parse import unquote, urlsplit

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from htmx_flask.requests import HtmxAwareRequest
from markupsafe import escape
from peewee import InterfaceError, OperationalError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)

from portal import api
from portal.numbers import display

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

# What each error page says, in words a customer can act on.
ERROR_PAGES = {
    400: ("Something in that request was wrong", "Go back, check what you entered and try again."),
    403: ("You can't open this page", "Your sign-in doesn't give access to it."),
    404: ("Page not found", "The page or item doesn't exist, or it isn't yours to see."),
    405: ("That action isn't available here", "Go back and use the page's own buttons."),
    413: (
        "That upload is too large",
        "The file is over the size limit. Split it into smaller files and upload them one by one.",
    ),
    500: (
        "Something went wrong on our side",
        "Nothing you entered was lost. Try again in a moment; if it keeps happening, "
        "contact Carrier Relations.",
    ),
    503: (
        "PortDesk's database is busy or out of reach",
        "This is on our side, and nothing was changed. Try again in a minute; if it keeps "
        "happening, contact Carrier Relations.",
    ),
}

EXPIRED_FORM = (
    "This form had expired or was sent from another page. Reload the page and send it again."
)
SIGNED_OUT = "You are signed out. Sign in to continue."


class Unreadable(BadRequest):
    """A request PortDesk could not read at all: its description says what to do."""


class UnreadableBody(Unreadable):
    """A request body cut off or malformed on the way (a bad chunk, a client gone mid-body)."""

    description = (
        "The body of that request could not be read (cut off or malformed): send it again."
    )


class UnreadableForm(Unreadable):
    """A form werkzeug cannot parse (a file name that is not UTF-8, a broken multipart body)."""

    description = (
        "That form could not be read, so nothing in it was used: it was cut off on the way, or "
        "a file name or a field is not in UTF-8. Send it again; if it fails again, rename the "
        "file using plain letters and digits."
    )


class PortalRequest(HtmxAwareRequest):
    """htmx-flask's request (`request.htmx`), except that a form it cannot parse is refused
    instead of read as empty.

    Werkzeug drops a form it cannot parse without a word, so an upload would vanish and the page
    would ask for numbers it was just sent.
    """

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser

    def _load_form_data(self):
        try:
            super()._load_form_data()
        except ValueError:
            # Empty, so that whatever looks at the form while answering the error finds nothing.
            self.__dict__["form"] = self.parameter_storage_class()
            self.__dict__["files"] = self.parameter_storage_class()
            raise UnreadableForm() from None


# The database refused, was not there, or had no free connection in time.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, MaxConnectionsExceeded)


def wants_fragment():
    """Say whether htmx asked for a fragment (not a boosted link, not a history restore)."""
    return bool(request.htmx) and not (request.htmx.boosted or request.htmx.history_restore_request)


# Browsers and proxies refuse response headers of a few kilobytes (nginx's default buffers).
MAX_REDIRECT_PATH = 2_000


def on_site_path(target):
    """Return the target if it is a path on this site that is safe to redirect to, else None.

    Never another host, never a scheme-relative //host, never a backslash (browsers read it as a
    slash), never a control or other unprintable character (a line break cannot go in a header),
    never longer than a browser or proxy takes in a Location header.
    """
    if not target or len(target) > MAX_REDIRECT_PATH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if not target.isprintable():
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def signed_out(back_to=None):
    """Send someone whose session has ended to the sign-in page, and back afterwards.

    Back to the page the person is on (htmx says which, else the referrer) when it is on this
    site, else to `back_to` when that is, else home.
    """
    flash(SIGNED_OUT, "warning")
    sign_in = url_for("auth.login", next=_page_to_return_to() or on_site_path(back_to))
    if request.htmx:
        # htmx would swap a redirect's sign-in page into the page: load it as a whole instead.
        response = make_response("", 204)
        response.headers["HX-Redirect"] = sign_in
        return response
    return redirect(sign_in)


def _page_to_return_to():
    page = request.headers.get("HX-Current-URL") or request.referrer or ""
    parts = urlsplit(page)
    if parts.scheme in ("http", "https") and parts.netloc == request.host and parts.path:
        # Decoded as request.path is: url_for quotes it again, and sign-in checks what it gets.
        return on_site_path(unquote(parts.path) + (f"?{parts.query}" if parts.query else ""))
    return None


def error_answer(error, detail=None):
    """Answer an HTTP error: the API's JSON under /api/, else the page or the htmx fragment."""
    if api.under_api(request.path):
        return api.error_answer(error)
    # Keep what the error says in headers (Allow on a 405), not its HTML content type.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if detail is None and isinstance(error, Unreadable):
        detail = error.description
    if detail is None and error.code == 413 and _takes_documents(request.endpoint):
        most = current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024)
        detail = (
            f"A document can be at most {most} MB. Upload only the pages that show the account "
            "details, or save a scan at a lower resolution, then try again."
        )
    if detail is None and error.code == 413 and _takes_a_signature(request.endpoint):
        detail = (
            "The signature sent was far larger than a drawn signature is. Go back, clear the box "
            "and draw your signature again, or type your name instead."
        )
    return _error_page(error.code, detail, headers=headers)


def _takes_a_signature(endpoint):
    """Say whether the form at this endpoint sends a drawn signature."""
    return endpoint in ("signing.sign", "port_requests.loa_sign")


def _takes_documents(endpoint):
    """Say whether the page at this endpoint uploads documents (a bill, a signed LOA, a fax)."""
    return endpoint in ("port_requests.bill", "port_requests.loa_upload", "fax.new")


def _error_page(code, detail=None, headers=None):
    title, advice = ERROR_PAGES.get(code, (f"Error {code}", "Go back and try again."))
    # htmx swaps error answers too (see base.html): give it the words, not a whole page.
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    try:
        html = render_template(template, code=code, title=title, advice=detail or advice)
    except Exception:
        # The layout itself failed (the database is down, say): still no traceback, still words.
        current_app.logger.exception("The error page for %s could not be rendered", code)
        html = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        html += f"<p>{escape(detail or advice)}</p>"
    return html, code, headers or []


def _size_the_body():
    # A body of unknown length (chunked) is cut at MAX_CONTENT_LENGTH by werkzeug without a word:
    # the rest of a form or a JSON list would be lost. Read it here, one byte past the limit, so
    # it is refused with a 413 or passed on with a Content-Length like any other.
    environ = request.environ
    limit = request.max_content_length
    if (
        request.method in ("GET", "HEAD", "OPTIONS")
        or limit is None
        or request.content_length is not None
        or "wsgi.input_terminated" not in environ
    ):
        return
    body = io.BytesIO()
    try:
        while chunk := environ["wsgi.input"].read(min(64 * 1024, limit + 1 - body.tell())):
            body.write(chunk)
            if body.tell() > limit:
                raise RequestEntityTooLarge()
    except HTTPException:
        raise
    except Exception:
        # A malformed chunk or a client gone mid-body (each server names it its own way): the
        # sender's fault, and nothing of it can be used.
        raise UnreadableBody() from None
    environ["CONTENT_LENGTH"] = str(body.tell())
    body.seek(0)
    environ["wsgi.input"] = body


def count(number):
    """Format a count with thousands separators: 20,000."""
    return f"{number:,}"


def init_app(app):
    """Register the headers, the error answers and the template helpers on the app.

    Call it after registering the blueprints (the signed-in user is loaded first, so error pages
    know who is signed in) and before CSRF protection (which reads the body).
    """
    # After Htmx.init_app, which sets its own request class: this one extends it.
    app.request_class = PortalRequest
    app.before_request(_size_the_body)

    @app.after_request
    def _shared_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if response.mimetype == "text/html":
            # One URL serves a page or an htmx fragment: caches must keep them apart.
            response.vary.add("HX-Request")
        if g.get("user") is not None or api.under_api(request.path):
            # What a signed-in user or an API key sees (pages, CSV downloads, JSON) is theirs:
            # no shared cache, no back-button cache may keep it.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        # No user and a refused form: the session ended (signed out in another tab, say).
        if g.get("user") is None and request.endpoint != "auth.login":
            return signed_out()
        return error_answer(error, EXPIRED_FORM)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if error.code is None or error.code < 400:
            return error
        return error_answer(error)

    @app.errorhandler(InternalServerError)
    def _server_error(error):
        # Flask has logged the exception already, with the method and path.
        return error_answer(error)

    def _database_unavailable(error):
        # Handled here, so Flask does not log it: say it once, with the request it failed.
        app.logger.error(
            "The database is unavailable on %s %s", request.method, request.path, exc_info=error
        )
        return error_answer(ServiceUnavailable())

    for exception in DATABASE_UNAVAILABLE:
        app.register_error_handler(exception, _database_unavailable)
    app.add_template_filter(display, "phone")
    app.add_template_filter(count, "count")
