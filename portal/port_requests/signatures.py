"""The portal's side of signing an LOA: what `signing` is asked to do, and what it is told back.

The LOA step's views call `send_for_signature`, `resend`, `cancel`, `sign_yourself` and
`upload_signed`: each is one transaction under the request's lock (`drafts.changing`), so an
envelope, the timeline's line and the emails it queues are written together or not at all.
`PortalHooks` is what `signing` calls back inside its own transaction: whether an envelope's LOA
is still the request's, and what to keep and whom to tell when it is signed, declined, asked for
again or reminded.
"""

import datetime
import hashlib
from contextvars import ContextVar

from flask import abort, current_app

from portal import documents, mail
from portal.models import PortRequest, RequestEvent, User, looks_like_email, utcnow
from portal.notify import title_of
from portal.port_requests import corrections, loa, proof
from portal.port_requests.drafts import EDITABLE, changing, locked_draft
from portal.port_requests.events import record_event
from portal.port_requests.fields import fold
from portal.port_requests.review import COMPLETE, review
from portal.port_requests.rules import step_of
from signing import SigningEnvelope, envelopes, tokens
from signing import seal as sealing
from signing.envelopes import NotSignable, Party, SignatureRefused
from signing.models import FINAL, locked

# The statuses in which a request's LOA may be signed: a draft, and a request sent back for a
# correction, whose changed LOA is signed again before it is resubmitted.
SIGNABLE = EDITABLE
# What the LOA is made from: until these steps are complete there is nothing to sign.
LOA_STEPS = ("details", "numbers")
# How many numbers an email names before "and N more".
NUMBERS_NAMED = 5
SIGNED_LABEL = "Signed LOA.pdf"
OWNER_EVENTS = ("loa_sent", "loa_resent")

# The owner signing for themselves, while `envelopes.sign` calls the hooks: their account keeps
# the signed LOA as uploaded by them (a signer by link has no account).
_owner_signing = ContextVar("owner_signing", default=None)


class LoaRefused(ValueError):
    """What the owner asked cannot be done; str() says why, `field` names the form's field."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class LoaNotReady(LoaRefused):
    """The LOA cannot be made yet: `steps` must be complete first."""

    def __init__(self, steps):
        super().__init__("Finish the Details and Numbers steps first: the LOA is made from them.")
        self.steps = steps


def render(data):
    """Return (the LOA's PDF, its boxes) for this deployment's carrier."""
    return loa.render(data, carrier_name=current_app.config["PORTING_CARRIER"])


def missing_steps(found):
    """Return the steps (of LOA_STEPS) a Review still has to complete before its LOA exists.

    For a request sent back for a correction, only an error on what its codes let the owner fix
    counts: an error elsewhere cannot be fixed there, and must not keep the new LOA from being
    signed (Carrier Relations saw the request as it was when they sent it back).
    """
    if found.port_request.status in corrections.FIXABLE:
        left = corrections.blocking(found)
        steps = {step_of(p.field) for p in left if p.severity == "error" and p.field != "loa"}
        return [step for step in LOA_STEPS if step in steps]
    return [step for step in LOA_STEPS if found.steps[step] != COMPLETE]


def signing_link(envelope):
    """Return the absolute URL of the envelope's signing page, with its current generation."""
    token = tokens.make_signing_link(
        current_app.config["SECRET_KEY"], envelope.id, envelope.generation
    )
    return mail.external_url("signing.page", token=token)


def check_signer(data, name, email):
    """Return (name, email) cleaned; raise LoaRefused naming the field that cannot be used.

    Only the representative the LOA prints may sign it: a carrier rejects an LOA signed by
    someone it does not name.
    """
    name = " ".join((name or "").split())
    email = (email or "").strip()
    representative = data["authorized"]["name"]
    if fold(name) != fold(representative):
        raise LoaRefused(
            f"The LOA names {representative} as the authorized representative, and only they "
            "can sign it. To send it to someone else, change the representative on the Details "
            "step first.",
            "name",
        )
    if not email:
        raise LoaRefused(f"Enter {representative}'s email address: the link goes there.", "email")
    if not looks_like_email(email) or mail.ADDRESS_SPECIALS.search(email):
        raise LoaRefused(
            f"{email} is not an email address: enter one like dana@example.com.", "email"
        )
    return representative, email


def clean_message(message):
    """Return the owner's message as kept: no control characters but line breaks, or None."""
    text = (message or "").replace("\r\n", "\n")
    text = "".join(char for char in text if char == "\n" or char.isprintable())
    return text.strip() or None


def send_for_signature(port_request, user, *, name, email, message, ip, user_agent):
    """Email the LOA to its representative to sign; return the envelope."""
    with changing():
        port_request = _locked(port_request)
        data, digest = _ready(port_request)
        name, email = check_signer(data, name, email)
        return _send(
            port_request,
            data,
            digest,
            user,
            name=name,
            email=email,
            message=message,
            by=_party(user, ip, user_agent),
        )


def resend(port_request, user, *, envelope_id, ip, user_agent):
    """Send the signer of the envelope the page showed a new link; return the envelope sent.

    A link still open gets a new generation (every older link dies) and a new expiry; after a
    decline, a cancel or a change of the LOA, the current LOA goes out in a new envelope.
    """
    with changing():
        port_request = _locked(port_request)
        shown = _shown(port_request, envelope_id)
        data, digest = _ready(port_request)
        by = _party(user, ip, user_agent)
        envelope = locked(shown.id)
        if envelope.status == "signed":
            raise LoaRefused(
                f"Nothing was sent: {envelope.signer_name} signed the LOA already. Check where it "
                "stands below."
            )
        if envelope.status in FINAL or envelope.content_key != digest:
            name, email = check_signer(data, envelope.signer_name, envelope.signer_email)
            return _send(
                port_request,
                data,
                digest,
                user,
                name=name,
                email=email,
                message=envelope.message,
                by=by,
            )
        envelopes.resend(envelope, by, link_days=current_app.config["SIGNING_LINK_DAYS"])
        record_event(
            port_request,
            "loa_resent",
            f"Sent {envelope.signer_name} a new link to sign the LOA, working until "
            f"{_day(envelope.expires_at)}; the earlier link no longer works.",
            user=user,
        )
        _email_signer(envelope, data, "signing_request", again=True)
        _touch(port_request)
        return envelope


def cancel(port_request, user, *, envelope_id, ip, user_agent):
    """Cancel the request for a signature the page showed (its link dies); return it."""
    with changing():
        port_request = _locked(port_request)
        envelope = locked(_shown(port_request, envelope_id).id)
        if envelope.status in FINAL:
            raise LoaRefused(
                f"Nothing to cancel: the request for {envelope.signer_name}'s signature was "
                f"{_STATUS_WORDS[envelope.status]} already."
            )
        envelopes.cancel(envelope, _party(user, ip, user_agent))
        record_event(
            port_request,
            "loa_cancelled",
            f"Cancelled the request for {envelope.signer_name}'s signature: the link no longer "
            "works.",
            user=user,
        )
        _touch(port_request)
        return envelope


def sign_yourself(
    port_request, user, *, signature, consented, representative, ip, user_agent, shown=""
):
    """Sign the LOA as its representative, on the spot; return the envelope, signed.

    Raise LoaRefused (nothing kept) without the consent, without the owner saying they are the
    representative, or with a signature that cannot be used.
    """
    if not consented:
        raise LoaRefused("Tick the box to agree to sign electronically before you sign.", "consent")
    with changing():
        port_request = _locked(port_request)
        data, digest = _ready(port_request)
        kept = documents.current(port_request, "signed_loa")
        if str(kept.id if kept is not None else "") != str(shown or "").strip():
            raise LoaRefused(
                "Nothing more was signed: the LOA was signed a moment ago (another click, or "
                "another tab). Check where it stands below."
            )
        name = data["authorized"]["name"]
        if not representative:
            raise LoaRefused(
                f"Only {name}, the authorized representative the LOA names, may sign it here. "
                f"If that is you, tick the box; if not, send it to {name} to sign.",
                "representative",
            )
        by = _party(user, ip, user_agent)
        envelope = _new_envelope(
            port_request, data, digest, user, method="self", name=name, email=user.email, by=by
        )
        acting = _owner_signing.set(user)
        try:
            return envelopes.sign(
                envelope.id,
                envelope.generation,
                signature=signature,
                consented=consented,
                by=by,
                hooks=current_app.extensions["signing"],
            )
        except SignatureRefused as refused:
            raise LoaRefused(str(refused), "signature") from None
        finally:
            _owner_signing.reset(acting)


def upload_signed(port_request, user, *, data, filename, signed_date, ip, user_agent):
    """Keep an LOA signed on paper (or elsewhere) as the request's; return the Document.

    Raise `documents.DocumentRefused` (nothing kept) for a file that is not accepted. A request
    for a signature still open is cancelled: signed later, it would replace this copy.
    """
    with changing():
        port_request = _locked(port_request)
        loa_data, digest = _ready(port_request)
        if hashlib.sha256(data).digest() == hashlib.sha256(render(loa_data)[0]).digest():
            raise LoaRefused(
                "This is the LOA as PortDesk made it, with no signature on it: have "
                f"{loa_data['authorized']['name']} sign it, then upload the signed copy (or use "
                "one of the other two ways).",
                "file",
            )
        stored = proof.store_document(
            port_request,
            "signed_loa",
            data,
            filename,
            user=user,
            signed_date=signed_date,
            loa_digest=digest,
        )
        pending = SigningEnvelope.latest(loa.reference(port_request.id))
        if pending is not None and pending.status not in FINAL:
            envelopes.cancel(locked(pending.id), _party(user, ip, user_agent))
            record_event(
                port_request,
                "loa_cancelled",
                f"Cancelled the request for {pending.signer_name}'s signature: the uploaded "
                "LOA takes its place.",
                user=user,
            )
        return stored


class PortalHooks:
    """What the portal does at each turn of an LOA's signature (see `signing.envelopes.Hooks`)."""

    def is_current(self, envelope):
        """Say whether the envelope's LOA is still the one its request, a draft, would print."""
        port_request = _request_of(envelope)
        return (
            port_request is not None
            and port_request.status in SIGNABLE
            and loa.of_request(port_request)[1] == envelope.content_key
        )

    def signed(self, envelope, signed_pdf):
        """Keep the signed LOA on the request, say so on its timeline, tell the owner."""
        port_request = _still_there(envelope)
        owner = _owner_signing.get() if envelope.method == "self" else None
        earlier = documents.current(port_request, "signed_loa")
        documents.store(
            account=port_request.account,
            kind="signed_loa",
            data=signed_pdf,
            label=SIGNED_LABEL,
            user=owner,
            actor=owner.name if owner is not None else envelope.signer_name,
            # PortDesk made this PDF: only an upload's size is limited.
            max_bytes=max(current_app.config["MAX_DOCUMENT_BYTES"], len(signed_pdf)),
            port_request=port_request,
            signed_date=envelope.signed_at.date(),
            loa_digest=envelope.content_key,
        )
        replaced = " It replaces the signed LOA kept before." if earlier is not None else ""
        if owner is not None:
            record_event(
                port_request,
                "loa_signed",
                f"Signed the LOA as {envelope.signer_name}, the authorized representative."
                + replaced,
                user=owner,
            )
        else:
            record_event(
                port_request,
                "loa_signed",
                f"Signed the LOA from the emailed link.{replaced}",
                actor=envelope.signer_name,
            )
            _tell_owners(
                port_request,
                "loa_signed",
                f"{envelope.signer_name} signed the LOA for {title_of(port_request)}",
                envelope=envelope,
                signed_at=_moment(envelope.signed_at),
            )
        _touch(port_request)

    def seal(self, signed_pdf):
        """Seal the signed LOA with the deployment's seal: a carrier given it alone can check it."""
        identity = sealing.of_config(current_app.config, current_app.instance_path)
        return sealing.seal(signed_pdf, identity, reason="Signed LOA")

    def declined(self, envelope):
        """Put the signer's reason on the timeline and email it to the owner."""
        port_request = _still_there(envelope)
        record_event(
            port_request,
            "loa_declined",
            f"Declined to sign the LOA: {envelope.decline_reason}",
            actor=envelope.signer_name,
        )
        _tell_owners(
            port_request,
            "loa_declined",
            f"{envelope.signer_name} declined to sign the LOA for {title_of(port_request)}",
            envelope=envelope,
        )

    def new_link_requested(self, envelope):
        """Tell the owner the signer's link ran out and they ask for a new one."""
        port_request = _request_of(envelope)
        if port_request is None:
            return  # the draft was deleted: nobody is waiting for this signature
        record_event(
            port_request,
            "loa_link_requested",
            "Asked for a new link to sign the LOA: theirs has expired.",
            actor=envelope.signer_name,
        )
        _tell_owners(
            port_request,
            "signing_new_link",
            f"{envelope.signer_name} asks for a new link to sign the LOA for "
            f"{title_of(port_request)}",
            envelope=envelope,
        )

    def reminded(self, envelope):
        """Email the signer a reminder with a fresh link of the current generation."""
        port_request = _request_of(envelope)
        data, _ = loa.of_request(port_request)
        record_event(
            port_request,
            "loa_reminded",
            f"Reminded {envelope.signer_name} to sign the LOA "
            f"(reminder {envelope.reminders} of {envelopes.MAX_REMINDERS}).",
        )
        _email_signer(envelope, data, "signing_reminder")


_STATUS_WORDS = {
    "signed": "signed",
    "declined": "declined",
    "cancelled": "cancelled",
    "void": "made void by a change to the LOA",
    "replaced": "replaced by a newer one",
}


def _locked(port_request):
    """Inside `changing()`: the request again, locked; 404 when it is gone, NotADraft when it
    may not be signed (not a draft, nor sent back for a correction).

    Its open envelopes are locked first: a signer's transaction locks the envelope, then writes
    the request's rows (its timeline, its signed LOA), so taking the request first could wait
    on the signer while the signer waits on it (a deadlock, on PostgreSQL).
    """
    loa.open_envelopes(port_request.id)
    return locked_draft(port_request.account, port_request.id, SIGNABLE) or abort(404)


def _ready(port_request):
    """Return (data, digest) of the request's LOA; raise LoaNotReady until its steps are done."""
    found = review(
        port_request,
        today=utcnow().date(),
        lead_business_days=current_app.config["PORT_LEAD_BUSINESS_DAYS"],
    )
    if steps := missing_steps(found):
        raise LoaNotReady(steps)
    return loa.of_request(port_request, found.rows)


def _shown(port_request, envelope_id):
    """Return the request's newest envelope when it is the one the page showed."""
    newest = SigningEnvelope.latest(loa.reference(port_request.id))
    if newest is None or str(newest.id) != str(envelope_id or "").strip():
        raise LoaRefused(
            "The page was out of date: the request for a signature it showed has changed since, "
            "so nothing was done. Check where it stands below."
        )
    return newest


def _new_envelope(port_request, data, digest, user, *, method, name, email, by, message=None):
    """Render the request's LOA and open an envelope for its signature (older ones close)."""
    document, boxes = render(data)
    return envelopes.create(
        reference=loa.reference(port_request.id),
        requester_name=port_request.account.name,
        requested_by=user.name,
        title=_title(data),
        document=document,
        boxes=boxes,
        content_key=digest,
        method=method,
        signer_name=name,
        signer_email=email,
        by=by,
        link_days=current_app.config["SIGNING_LINK_DAYS"],
        message=clean_message(message),
    )


def _send(port_request, data, digest, user, *, name, email, message, by):
    envelope = _new_envelope(
        port_request,
        data,
        digest,
        user,
        method="email",
        name=name,
        email=email,
        by=by,
        message=message,
    )
    record_event(
        port_request,
        "loa_sent",
        f"Sent the LOA to {name} ({email}) to sign; the link works until "
        f"{_day(envelope.expires_at)}.",
        user=user,
    )
    _email_signer(envelope, data, "signing_request")
    _touch(port_request)
    return envelope


def _email_signer(envelope, data, template, *, again=False):
    numbers = data["numbers"]
    if template == "signing_reminder":
        subject = f"Reminder: {envelope.requester_name} asks you to sign a Letter of Authorization"
    else:
        subject = f"{envelope.requester_name} asks you to sign a Letter of Authorization"
    mail.enqueue(
        to=envelope.signer_email,
        subject=subject,
        template=template,
        purpose=template,
        reference=envelope.reference,
        envelope=envelope,
        link=signing_link(envelope),
        expires=_moment(envelope.expires_at),
        numbers=numbers[:NUMBERS_NAMED],
        more=max(0, len(numbers) - NUMBERS_NAMED),
        carrier=data["carrier"],
        new_carrier=current_app.config["PORTING_CARRIER"],
        customer_name=data["customer_name"] or data["account_name"],
        again=again,
    )


def _tell_owners(port_request, template, subject, **context):
    """Email the owner who sent the LOA (or, when they cannot be, the account's owners)."""
    link = mail.external_url("port_requests.loa", request_id=port_request.id)
    for user in _owners(port_request):
        mail.enqueue(
            to=user.email,
            subject=subject,
            template=template,
            purpose=template,
            reference=loa.reference(port_request.id),
            owner=user,
            request_title=title_of(port_request),
            link=link,
            **context,
        )


def _owners(port_request):
    sent = (
        RequestEvent.select(RequestEvent.user)
        .where(
            (RequestEvent.port_request == port_request)
            & RequestEvent.kind.in_(OWNER_EVENTS)
            & RequestEvent.user.is_null(False)
        )
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc())
        .first()
    )
    active = User.select().where(
        (User.account == port_request.account) & (User.role == "owner") & User.is_active
    )
    sender = active.where(User.id == sent.user_id).first() if sent is not None else None
    return [sender] if sender is not None else list(active.order_by(User.id))


def _still_there(envelope):
    """Return the envelope's request; refuse the signature (nothing kept) when it is gone.

    The request is read again inside the signer's transaction: a draft deleted or submitted
    since the link's checks leaves nothing to sign.
    """
    port_request = _request_of(envelope)
    if port_request is None or port_request.status not in SIGNABLE:
        raise NotSignable("cancelled", envelope)
    return port_request


def _request_of(envelope):
    kind, _, number = envelope.reference.partition(":")
    if kind != "port_request" or not number.isdigit():
        return None
    return PortRequest.get_or_none(PortRequest.id == int(number))


def _party(user, ip, user_agent):
    return Party(actor=f"{user.name} ({user.email})", ip=ip or "", user_agent=user_agent or "")


def _title(data):
    return f"Letter of Authorization for {data['customer_name'] or data['account_name']}"


def _touch(port_request):
    port_request.updated_at = utcnow()
    port_request.save(only=[PortRequest.updated_at])


def _day(moment):
    return f"{moment.day} {moment:%b %Y}"


def _moment(moment):
    """Return a UTC time as an email says it: Tuesday 12 January 2027 at 14:03 UTC."""
    if isinstance(moment, datetime.datetime):
        return f"{moment:%A} {moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"
    return str(moment)
