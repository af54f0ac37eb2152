"""What every response shares: security headers, error pages, template helpers."""

from flask import current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

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
}


def wants_fragment():
    """Say whether htmx asked for a fragment (not a boosted link, not a history restore)."""
    return bool(request.htmx) and not (request.htmx.boosted or request.htmx.history_restore_request)


def _error_page(code, detail=None):
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
    return html, code


def init_app(app):
    """Register the headers, the error pages and the template helpers on the app."""

    @app.after_request
    def _security_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if response.mimetype == "text/html":
            # One URL serves a page or an htmx fragment: caches must keep them apart.
            response.vary.add("HX-Request")
        if g.get("user") is not None and response.mimetype == "text/html":
            # Pages behind sign-in must not be kept by shared or back-button caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return _error_page(
            400,
            "This form had expired or was sent from another page. "
            "Reload the page and send it again.",
        )

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if error.code is None or error.code < 400:
            return error
        return _error_page(error.code)

    @app.errorhandler(InternalServerError)
    def _server_error(error):
        app.logger.error(
            "Unhandled error on %s %s",
            request.method,
            request.path,
            exc_info=error.original_exception,
        )
        return _error_page(500)

    app.add_template_filter(display, "phone")
