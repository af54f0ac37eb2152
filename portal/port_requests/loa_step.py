"""The Letter of Authorization step: preview, then sign it yourself, send it, or upload it.

It serves a draft, and a request Carrier Relations sent back for a correction: a change to a
detail the LOA prints voids its signature, and the new LOA is signed here before a resubmit (the
page then leads back to the fix page, not on through the wizard).

The page shows the LOA as the request stands (a PDF made on every read: the same data gives the
same bytes), where its signature stands, and the three ways to get it signed, each a form of its
own. While the representative has the link, the status region asks again every few seconds (a
204 while nothing changed) and stops once there is nothing left to wait for. The rules and the
writing are `signatures`'s; these views load, authorize, call it and answer.
"""

from datetime import date

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from portal import documents
from portal.auth import role_required
from portal.models import utcnow
from portal.port_requests import loa as loa_document
from portal.port_requests import loa_standing, signatures
from portal.port_requests.blueprint import (
    bp,
    draft_or_redirect,
    get_request_or_404,
    next_step_url,
    render_step,
    review_of,
    step_url,
)
from portal.port_requests.drafts import NotADraft
from portal.port_requests.loa import MAX_AGE_DAYS
from portal.port_requests.proof import DAY, PREVIEW_POLICY, read_upload
from portal.port_requests.review import STEP_TITLES
from portal.port_requests.signatures import SIGNABLE
from portal.web import wants_fragment
from signing import consent
from signing.envelopes import MAX_REASON, SignatureRefused
from signing.views import CONTROL, NOT_TICKED, read_signature

NO_FILE = "Choose the signed LOA's file: a PDF, or a photo or scan as PNG or JPEG."


class SendForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=300)])
    email = StringField("Email address", validators=[Length(max=254)])
    message = TextAreaField(
        "A message for them (optional)",
        validators=[Length(max=MAX_REASON, message="Keep the message under 2,000 characters.")],
    )


class EnvelopeForm(FlaskForm):
    """The request for a signature the page showed, so a stale page acts on nothing newer."""

    envelope = HiddenField()


class SignForm(FlaskForm):
    representative = BooleanField("I am the authorized representative", false_values=NOT_TICKED)
    consent = BooleanField("I agree to sign electronically", false_values=NOT_TICKED)
    signature_png = HiddenField()
    typed_name = StringField("Type your name to sign with it")
    # The signed LOA the page showed ("" for none): a second click, or a tab left open, signs
    # nothing more once a signature has landed since.
    shown = HiddenField()


class UploadForm(FlaskForm):
    file = FileField("The signed LOA's file")
    signed_date = StringField("Date it was signed", render_kw={"type": "date"})

    def validate_file(self, field):
        if not (field.data and field.data.filename):
            raise ValidationError(NO_FILE)

    def validate_signed_date(self, field):
        field.data = read_signed_date(field.data, today=utcnow().date())


def read_signed_date(text, *, today):
    """Return the date the LOA was signed, typed as YYYY-MM-DD; raise ValidationError."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            "Enter the date the LOA was signed, as written next to the signature."
        )
    try:
        day = date.fromisoformat(text) if DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(f"Enter the date it was signed as a date, like {today.isoformat()}.")
    if refusal := loa_document.signed_date_refusal(day, today=today):
        raise ValidationError(refusal)
    return day


@bp.get("/<int:request_id>/loa")
@role_required("owner")
def loa(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    return _page(port_request)


@bp.get("/<int:request_id>/loa.pdf")
@role_required("owner")
def loa_pdf(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    found = review_of(port_request)
    if signatures.missing_steps(found):
        flash("Finish the Details and Numbers steps first: the LOA is made from them.", "error")
        return redirect(url_for("port_requests.loa", request_id=request_id))
    document, _ = signatures.render(loa_document.of_request(port_request, found.rows)[0])
    disposition = "attachment" if request.args.get("download") else "inline"
    response = make_response(document)
    response.mimetype = "application/pdf"
    name = f"loa-{request_id}.pdf"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/<int:request_id>/loa/status")
@role_required("owner")
def loa_status(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    if not wants_fragment():
        return redirect(url_for("port_requests.loa", request_id=request_id) + "#loa-status")
    found = review_of(port_request)
    standing = loa_standing.standing(found)
    if request.args.get("shown") == status_key(standing):
        return "", 204  # nothing new: htmx keeps the region (and its polling) as it is
    return _status(found, standing)


@bp.post("/<int:request_id>/loa/send")
@role_required("owner")
def loa_send(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    form = SendForm()
    if form.validate_on_submit():
        try:
            envelope = signatures.send_for_signature(
                port_request, g.user, **_who(), **_form_values(form, "name", "email", "message")
            )
        except signatures.LoaRefused as refused:
            if refused.field is None:
                return _back(request_id, str(refused), "error")
            getattr(form, refused.field).errors.append(str(refused))
        except NotADraft as error:
            return draft_or_redirect(error.port_request, SIGNABLE)
        else:
            return _back(request_id, _sent_words(envelope), "success")
    return _page(port_request, send=form, status=400)


@bp.post("/<int:request_id>/loa/resend")
@role_required("owner")
def loa_resend(request_id):
    return _envelope_action(request_id, signatures.resend, _sent_words)


@bp.post("/<int:request_id>/loa/cancel")
@role_required("owner")
def loa_cancel(request_id):
    return _envelope_action(
        request_id,
        signatures.cancel,
        lambda envelope: f"Cancelled: the link sent to {envelope.signer_name} no longer works.",
    )


@bp.post("/<int:request_id>/loa/sign")
@role_required("owner")
def loa_sign(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    form = SignForm()
    problem = None
    if form.validate_on_submit():
        try:
            signature = read_signature(form.signature_png.data, form.typed_name.data)
            signatures.sign_yourself(
                port_request,
                g.user,
                signature=signature,
                consented=form.consent.data,
                representative=form.representative.data,
                shown=form.shown.data,
                **_who(),
            )
        except SignatureRefused as refused:
            problem = ("signature", str(refused))
        except signatures.LoaRefused as refused:
            if refused.field is None:
                return _back(request_id, str(refused), "error")
            problem = (refused.field, str(refused))
        except NotADraft as error:
            return draft_or_redirect(error.port_request, SIGNABLE)
        else:
            return _back(request_id, "Signed: the signed LOA is kept with the request.", "success")
    # Shown again: what was typed, less what cannot be printed; a refused drawing is not kept.
    form.typed_name.data = CONTROL.sub("", form.typed_name.data or "")
    if problem and problem[0] == "signature":
        form.signature_png.data = ""
    return _page(port_request, sign=form, sign_problem=problem, status=400)


@bp.post("/<int:request_id>/loa/upload")
@role_required("owner")
def loa_upload(request_id):
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    form = UploadForm()
    if form.validate_on_submit():
        try:
            stored = signatures.upload_signed(
                port_request,
                g.user,
                data=read_upload(form.file.data),
                filename=form.file.data.filename,
                signed_date=form.signed_date.data,
                **_who(),
            )
        except documents.DocumentRefused as refused:
            form.file.errors.append(str(refused))
        except signatures.LoaRefused as refused:
            if refused.field != "file":
                return _back(request_id, str(refused), "error")
            form.file.errors.append(str(refused))
        except NotADraft as error:
            return draft_or_redirect(error.port_request, SIGNABLE)
        else:
            if (utcnow().date() - stored.signed_date).days > MAX_AGE_DAYS:
                words = f"Stored the signed LOA {stored.label}. Check the warning about its date."
                return _back(request_id, words, "warning")
            return _back(request_id, f"Stored the signed LOA {stored.label}.", "success")
    return _page(port_request, upload=form, status=400)


def status_key(standing):
    """Return what the status region showed, so polling can tell when something changed."""
    envelope, signed = standing.envelope, standing.signed
    parts = [standing.state, len(standing.events), signed.id if signed else 0]
    if envelope is not None:
        parts[:0] = [envelope.id, envelope.generation]
    return ".".join(str(part) for part in parts)


def _envelope_action(request_id, act, words):
    """Resend or cancel the envelope the page showed; answer the page, or htmx the region."""
    port_request = get_request_or_404(request_id)
    if refused := draft_or_redirect(port_request, SIGNABLE):
        return refused
    form = EnvelopeForm()
    if not form.validate_on_submit():
        return _back(request_id, "That form had expired: nothing was done.", "error")
    try:
        envelope = act(port_request, g.user, envelope_id=form.envelope.data, **_who())
        said, category = words(envelope), "success"
    except signatures.LoaRefused as refused:
        said, category = str(refused), "error"
    except NotADraft as error:
        return draft_or_redirect(error.port_request, SIGNABLE)
    if wants_fragment():
        found = review_of(port_request)
        return _status(found, loa_standing.standing(found), said, category != "success")
    return _back(request_id, said, category)


def _status(found, standing, status_line=None, status_warning=False):
    return render_template(
        "port_requests/_loa_status_fragment.html",
        review=found,
        port_request=found.port_request,
        **_status_context(found, standing),
        status_line=status_line,
        status_warning=status_warning,
        step="loa",
        step_titles=STEP_TITLES,
        step_url=step_url,
        next_url=_next_url(found.port_request),
    )


def _status_context(found, standing):
    return {
        "standing": standing,
        "status_key": status_key(standing),
        "old_loa": [p for p in found.loa_problems if p.code == "loa_signed_old"],
    }


def _page(port_request, *, send=None, sign=None, upload=None, sign_problem=None, status=200):
    found = review_of(port_request)
    missing = signatures.missing_steps(found)
    data = loa_document.of_request(port_request, found.rows)[0]
    authorized = data["authorized"]
    if send is None:
        send = SendForm(formdata=None, name=authorized["name"], email=authorized["email"])
    return render_step(
        "loa",
        "port_requests/loa.html",
        found,
        status,
        missing=missing,
        data=data,
        authorized=authorized,
        max_age_days=MAX_AGE_DAYS,
        send=send,
        sign=sign or SignForm(formdata=None),
        sign_problem=sign_problem,
        upload=upload or UploadForm(formdata=None),
        consent_text=consent.CONSENT_TEXT,
        today=utcnow().date(),
        next_url=_next_url(port_request),
        **_status_context(found, loa_standing.standing(found)),
    )


def _next_url(port_request):
    """Return where the step goes on: the next step of a draft, the fix page of a request sent
    back for a correction (whose LOA is signed again here)."""
    if port_request.status == "action_required":
        return url_for("port_requests.fix", request_id=port_request.id) + "#fix-loa"
    return next_step_url(port_request, "loa")


def _back(request_id, words, category):
    flash(words, category)
    return redirect(url_for("port_requests.loa", request_id=request_id) + "#loa-status")


def _who():
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string}


def _form_values(form, *names):
    return {name: getattr(form, name).data for name in names}


def _sent_words(envelope):
    return (
        f"Sent: an email with a link to sign the LOA is on its way to {envelope.signer_name} "
        f"({envelope.signer_email}); the link works until "
        f"{envelope.expires_at.day} {envelope.expires_at:%b %Y}."
    )
