"""The signer's pages at /sign/<token>: no account, reached only by a signing link.

A GET changes nothing (mail scanners fetch every link before the person does): the page records
"opened" with a POST of its own once it is shown, and signing, declining and asking for a new
link are POSTs with CSRF. A link that cannot be used any more says why, each with its own page
and status. The caller's side of a signature is `current_app.extensions["signing"]` (the hooks).
"""

import base64
import binascii
import re
from contextlib import contextmanager

from flask import (
    Blueprint,
    current_app,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from signing import consent, envelopes, pdf, tokens
from signing.envelopes import NotSignable, Party, Signature, SignatureRefused
from signing.models import SigningEnvelope

bp = Blueprint("signing", __name__, url_prefix="/sign")

PNG_DATA_URL = "data:image/png;base64,"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SHOWN_NAME = 10 * envelopes.MAX_TYPED_NAME
# The document is framed by the signing page, and by nothing else. The portal sets its own
# headers only where a response has none, so this policy is the document's.
DOCUMENT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

# Why a link cannot be used, as the signer reads it: its status, heading and what to do.
DEAD = {
    "invalid": (404, "This signing link doesn't work"),
    "missing": (404, "This signing link doesn't work"),
    "expired": (410, "This signing link has expired"),
    "replaced": (410, "A newer link was sent"),
    "cancelled": (410, "This request for a signature was cancelled"),
    "void": (410, "The document changed after this link was sent"),
    "signed": (200, "This document is already signed"),
    "declined": (200, "You declined to sign this document"),
}


# What a checkbox field holding these means: not ticked (WTForms takes only "false" and "").
NOT_TICKED = ("", "0", "false", "off", "no", "n")


class SignForm(FlaskForm):
    # A crafted "0" or "off" is no consent: only a ticked box (any other value) is.
    consent = BooleanField("I agree to sign electronically", false_values=NOT_TICKED)
    signature_png = HiddenField()
    typed_name = StringField("Type your name to sign with it")


class DeclineForm(FlaskForm):
    reason = TextAreaField("Why do you decline?")


class NewLinkForm(FlaskForm):
    pass


class DeadLink(Exception):
    """The link cannot be used: `reason` is a key of DEAD."""

    def __init__(self, reason, envelope=None, link=None):
        super().__init__(reason)
        self.reason = reason
        self.envelope = envelope
        self.link = link


def read_signature(drawn, typed):
    """Return the Signature the form's fields give; raise SignatureRefused for a crafted one."""
    drawn, typed = drawn or "", typed or ""
    if CONTROL.search(typed):
        raise SignatureRefused(
            "Your typed name has a character that cannot be printed: type it again using "
            "letters, spaces and punctuation only."
        )
    if drawn and typed.strip():
        raise SignatureRefused(
            "Sign one way only: clear the drawing to sign with your typed name, or empty the "
            "typed name to sign with your drawing."
        )
    if not drawn:
        return Signature(typed_name=typed)
    if not drawn.startswith(PNG_DATA_URL):
        raise SignatureRefused(
            "Your drawing did not arrive as a picture PortDesk can use: clear it and draw it "
            "again, or type your name instead."
        )
    encoded = drawn[len(PNG_DATA_URL) :]
    if len(encoded) > (pdf.MAX_DRAWING_BYTES + 2) // 3 * 4:
        raise SignatureRefused(
            "Your drawing is too large to sign with: clear it and draw it again, or type your "
            "name instead."
        )
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        png = b""
    if not png.startswith(pdf.PNG_SIGNATURE):
        raise SignatureRefused(
            "Your drawing arrived damaged: clear it and draw it again, or type your name instead."
        )
    return Signature(drawn_png=png)


def _hooks():
    return current_app.extensions["signing"]


def _party(envelope):
    return Party(
        actor=envelope.signer_email,
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string,
    )


def _read(token):
    """Return the SigningLink a token holds; raise DeadLink for one that cannot be used.

    An expired token says what happened since when that says more: signed, declined, cancelled.
    """
    config = current_app.config
    try:
        return tokens.read_signing_link(config["SECRET_KEY"], token, config["SIGNING_LINK_DAYS"])
    except tokens.TokenInvalid:
        raise DeadLink("invalid") from None
    except tokens.TokenExpired as expired:
        link = expired.payload
    if link is None:
        raise DeadLink("invalid")
    with _still_live(link):
        envelope = envelopes.for_link(link.envelope_id, link.generation, _hooks())
    raise DeadLink("expired", envelope, link)


def _open(token):
    """Return (link, envelope) for a link the signer can use now, read-only; raise DeadLink."""
    link = _read(token)
    with _still_live(link):
        return link, envelopes.for_link(link.envelope_id, link.generation, _hooks())


def _acting(token):
    """Return (link, envelope) for a POST: the action checks the link itself, under its lock.

    So a document no longer wanted is made void by the POST that finds it (a GET changes
    nothing).
    """
    link = _read(token)
    envelope = SigningEnvelope.get_or_none(SigningEnvelope.id == link.envelope_id)
    if envelope is None:
        raise DeadLink("missing", link=link)
    return link, envelope


@bp.errorhandler(DeadLink)
def _dead_link(dead):
    code, title = DEAD[dead.reason]
    token = request.view_args.get("token")
    asked = bool(get_flashed_messages(category_filter=["new_link"]))
    html = render_template(
        "signing/dead.html",
        reason=dead.reason,
        title=title,
        envelope=dead.envelope,
        token=token,
        asked=asked,
        form=NewLinkForm(),
        just_signed=bool(get_flashed_messages(category_filter=["signed"])),
    )
    return html, code


@bp.errorhandler(CSRFError)
def _form_expired(error):
    # The portal's own answer sends anyone without an account to its sign-in page.
    token = (request.view_args or {}).get("token")
    html = render_template("signing/expired_form.html", token=token)
    return html, 400


@bp.after_request
def _private(response):
    # A signing page names a person and carries a live link: no cache keeps it, no index lists it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/<token>")
def page(token):
    _, envelope = _open(token)
    return _sign_page(token, envelope, SignForm(formdata=None), DeclineForm(formdata=None))


@bp.post("/<token>/opened")
def opened(token):
    link, envelope = _acting(token)
    with _still_live(link):
        envelopes.opened(link.envelope_id, link.generation, _party(envelope), _hooks())
    return "", 204


@bp.post("/<token>")
def sign(token):
    link, envelope = _acting(token)
    form = SignForm()
    try:
        signature = read_signature(form.signature_png.data, form.typed_name.data)
    except SignatureRefused as refused:
        return _refused(token, form, "signature", refused)
    try:
        with _still_live(link):
            envelopes.sign(
                link.envelope_id,
                link.generation,
                signature=signature,
                consented=form.consent.data,
                by=_party(envelope),
                hooks=_hooks(),
            )
    except SignatureRefused as refused:
        field = "signature" if form.consent.data else "consent"
        return _refused(token, form, field, refused)
    flash(f"Thank you, {envelope.signer_name}: your signature is in place.", "signed")
    return redirect(url_for("signing.page", token=token))


@bp.post("/<token>/decline")
def decline(token):
    link, envelope = _acting(token)
    form = DeclineForm()
    try:
        with _still_live(link):
            envelopes.decline(
                link.envelope_id,
                link.generation,
                reason=form.reason.data,
                by=_party(envelope),
                hooks=_hooks(),
            )
    except SignatureRefused as refused:
        _, envelope = _open(token)
        form.reason.data = ""  # refused for holding nothing but spaces and control characters
        return _sign_page(token, envelope, SignForm(formdata=None), form, ("reason", str(refused)))
    flash(f"You declined to sign. {envelope.requested_by} has been told why.", "declined")
    return redirect(url_for("signing.page", token=token))


@bp.post("/<token>/new-link")
def new_link(token):
    try:
        _open(token)
    except DeadLink as dead:
        if dead.reason != "expired":
            raise
        envelope = dead.envelope
        with _still_live(dead.link):
            told = envelopes.request_new_link(
                dead.link.envelope_id, dead.link.generation, _party(envelope), _hooks()
            )
        if told:
            flash(f"{envelope.requested_by} has been told you need a new link.", "new_link")
        else:
            flash(f"You asked already: {envelope.requested_by} has been told.", "new_link")
    # A link that still works needs no new one: back to it.
    return redirect(url_for("signing.page", token=token))


@bp.get("/<token>/document.pdf")
def document(token):
    _, envelope = _open(token)
    response = make_response(bytes(envelope.document))
    response.mimetype = "application/pdf"
    disposition = "attachment" if "download" in request.args else "inline"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{document_name(envelope.title)}"'
    )
    response.headers["Content-Security-Policy"] = DOCUMENT_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def document_name(title):
    """Return a file name for the document: the title in plain letters, digits and dashes."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:80]
    return f"{name or 'document'}.pdf"


@contextmanager
def _still_live(link):
    """Turn a link that died since it was read (a resend, another tab's signature) into its page."""
    try:
        yield
    except NotSignable as refused:
        raise DeadLink(refused.reason, refused.envelope, link) from None


def _refused(token, form, field, refused):
    """Show the page again with what was wrong, keeping what the signer gave that can be kept."""
    _, envelope = _open(token)
    # The name as typed, less what cannot be printed (a crafted one, cut to a sane length).
    form.typed_name.data = CONTROL.sub("", form.typed_name.data or "")[:MAX_SHOWN_NAME]
    if field == "signature":
        form.signature_png.data = ""
    return _sign_page(token, envelope, form, DeclineForm(formdata=None), (field, str(refused)))


def _sign_page(token, envelope, form, decline_form, problem=None):
    return render_template(
        "signing/sign.html",
        token=token,
        envelope=envelope,
        form=form,
        decline_form=decline_form,
        consent_text=consent.CONSENT_TEXT,
        problem=problem,
    ), 400 if problem else 200
