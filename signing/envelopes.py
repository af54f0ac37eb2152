"""One signature's life: an envelope is sent (or signed on the spot), opened, signed or declined,
resent, reminded, cancelled; every step is an event in a hash chain.

No Flask. Each function that changes an envelope takes its write lock (`models.writing`), reads
it again and checks it can still do what is asked, so two signers, a signer and a resend, or two
cron runs at the same moment cannot both win. The caller's side of a signature (storing the
signed PDF, emails, whether the document is still wanted) is its `Hooks`, called inside the same
transaction: a signature is kept whole or not at all.
"""

import datetime
import hashlib
import json
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from signing import certificate, consent, pdf
from signing.models import (
    FINAL,
    SigningEnvelope,
    SigningEvent,
    locked,
    utcnow,
    writing,
)

GENESIS = "0" * 64
# Reminders: the first after this long without a signature, then again after as long, at most
# MAX_REMINDERS times, never after the link expired or was cancelled.
REMIND_AFTER = datetime.timedelta(days=2)
MAX_REMINDERS = 3
MAX_REASON = 2000
MAX_TYPED_NAME = 100


class Hooks(Protocol):
    """What the caller does at each turn of a signature (inside the signing transaction)."""

    def is_current(self, envelope) -> bool:
        """Say whether the envelope's document is still the one the caller wants signed."""

    def signed(self, envelope, signed_pdf: bytes) -> None:
        """Keep the signed PDF (the document with the signature, then the certificate)."""

    def declined(self, envelope) -> None:
        """Tell the requester the signer declined (`envelope.decline_reason` says why)."""

    def new_link_requested(self, envelope) -> None:
        """Tell the requester the signer's link ran out and they ask for a new one."""

    def reminded(self, envelope) -> None:
        """Email the signer a reminder with a link of the envelope's current generation."""

    def seal(self, signed_pdf: bytes) -> bytes:
        """Return the signed PDF sealed (`signing.seal`), before it is hashed and kept.

        Optional: a caller without it keeps the signed PDF as signed.
        """


@dataclass(frozen=True)
class Party:
    """Who did something, as the certificate shows them: a name or email, an IP, a browser."""

    actor: str
    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class Signature:
    """A signature as given: a drawing (PNG bytes) or a typed name.

    Once checked, a drawing carries what the stamp needs of it (`drawing`), so that its PNG is
    decoded once.
    """

    drawn_png: bytes | None = None
    typed_name: str | None = None
    drawing: pdf.Drawing | None = field(default=None, compare=False, repr=False)

    @property
    def method(self):
        return "drawn" if self.drawn_png is not None else "typed"


class NotSignable(Exception):
    """The envelope cannot do what was asked; `reason` says why, in one word.

    Reasons: "signed", "declined", "cancelled", "void" (the document changed), "expired",
    "replaced" (a newer link was sent), "missing".
    """

    def __init__(self, reason, envelope=None):
        super().__init__(reason)
        self.reason = reason
        self.envelope = envelope


class SignatureRefused(ValueError):
    """What the signer sent cannot be signed with; the message says what to do."""


def create(
    *,
    reference,
    requester_name,
    requested_by,
    title,
    document,
    boxes,
    content_key,
    method,
    signer_name,
    signer_email,
    by,
    link_days,
    message=None,
):
    """Open an envelope for the document; return it. Runs in the caller's transaction.

    Earlier envelopes of the same reference that are still open are replaced: one document,
    one live request for its signature.
    """
    now = utcnow()
    for earlier in SigningEnvelope.select().where(
        (SigningEnvelope.reference == reference) & SigningEnvelope.status.not_in(FINAL)
    ):
        # A link the owner's own signature made needless is cancelled: no newer email is coming.
        closing = "replaced" if method == "email" else "cancelled"
        _close(earlier, closing, closing, by, now)
    envelope = SigningEnvelope.create(
        reference=reference,
        requester_name=requester_name,
        requested_by=requested_by,
        title=title,
        document=document,
        document_sha256=hashlib.sha256(document).hexdigest(),
        content_key=content_key,
        boxes=json.dumps(boxes, sort_keys=True),
        method=method,
        signer_name=signer_name,
        signer_email=signer_email,
        message=message or None,
        status="sent",
        created_at=now,
        expires_at=now + datetime.timedelta(days=link_days),
        last_sent_at=now,
    )
    record(
        envelope,
        "sent" if method == "email" else "created",
        by,
        at=now,
        document_sha256=envelope.document_sha256,
        signer=signer_name,
        email=signer_email,
    )
    return envelope


def record(envelope, kind, by, *, at=None, **detail):
    """Append an event to the envelope's chain; the caller holds the envelope's lock."""
    last = (
        SigningEvent.select(SigningEvent.seq, SigningEvent.hash)
        .where(SigningEvent.envelope == envelope)
        .order_by(SigningEvent.seq.desc())
        .first()
    )
    values = {
        "seq": last.seq + 1 if last else 1,
        "kind": kind,
        "at": _to_microsecond(at or utcnow()),
        "actor": _clean(by.actor, 400),
        "ip": _clean(by.ip, 64),
        "user_agent": _clean(by.user_agent, 500),
        "detail": json.dumps(_clean_detail(detail), sort_keys=True, ensure_ascii=False),
        "previous_hash": last.hash if last else GENESIS,
    }
    values["hash"] = event_hash(envelope.id, values)
    event = SigningEvent.create(envelope=envelope, **values)
    envelope.last_hash = values["hash"]
    SigningEnvelope.update(last_hash=values["hash"]).where(
        SigningEnvelope.id == envelope.id
    ).execute()
    return event


def event_hash(envelope_id, values):
    """Return the SHA-256 that chains an event: its own values and the hash before it."""
    body = json.dumps(
        [
            envelope_id,
            values["seq"],
            values["kind"],
            values["at"].isoformat(timespec="microseconds"),
            values["actor"],
            values["ip"],
            values["user_agent"],
            values["detail"],
            values["previous_hash"],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def for_link(envelope_id, generation, hooks, *, now=None):
    """Return the envelope a link of this generation may act on; raise NotSignable otherwise.

    Read-only (a GET of the link uses it): a document that changed is reported as "void" here
    and made void by the next POST.
    """
    envelope = SigningEnvelope.get_or_none(SigningEnvelope.id == envelope_id)
    _check(envelope, generation, hooks, now or utcnow())
    return envelope


def opened(envelope_id, generation, by, hooks):
    """Record that the signer has the page in front of them (once per link); return the envelope."""
    with _live(envelope_id, generation, by, hooks) as envelope:
        if envelope.status == "sent":
            record(envelope, "opened", by)
            envelope.status = "opened"
            envelope.save(only=[SigningEnvelope.status])
        return envelope


def sign(envelope_id, generation, *, signature, consented, by, hooks, signed_on=None):
    """Sign: the consent, then the signature stamped into the document, then the certificate.

    Return the envelope, now signed; `hooks.signed` has been given the signed PDF (sealed, when
    the hooks seal). Raise
    SignatureRefused (nothing stored) when the consent is missing or the signature unusable.
    """
    if not consented:
        raise SignatureRefused("Tick the box to agree to sign electronically before you sign.")
    signature = _checked(signature)
    with _live(envelope_id, generation, by, hooks) as envelope:
        now = utcnow()
        record(
            envelope,
            "consented",
            by,
            at=now,
            consent_version=consent.CONSENT_VERSION,
            consent_sha256=consent.CONSENT_SHA256,
        )
        stamped = pdf.stamp(
            bytes(envelope.document),  # PostgreSQL hands a blob back as a memoryview
            json.loads(envelope.boxes),
            signature=signature,
            signer_name=envelope.signer_name,
            signed_on=signed_on or now.date(),
        )
        record(
            envelope,
            "signed",
            by,
            at=now,
            signature=signature.method,
            typed_name=signature.typed_name,
            document_sha256=envelope.document_sha256,
            signed_document_sha256=hashlib.sha256(stamped).hexdigest(),
        )
        envelope.status, envelope.signed_at = "signed", now
        sheet = certificate.build(summary(envelope), trail(envelope))
        signed_pdf = pdf.merge([stamped, sheet])
        # Sealed before it is hashed: the envelope names the very file the caller keeps.
        sealing = getattr(hooks, "seal", None)
        if sealing is not None:
            signed_pdf = sealing(signed_pdf)
        envelope.signed_sha256 = hashlib.sha256(signed_pdf).hexdigest()
        envelope.save()
        hooks.signed(envelope, signed_pdf)
        return envelope


def decline(envelope_id, generation, *, reason, by, hooks):
    """Decline to sign, with a reason; return the envelope."""
    reason = _clean(reason or "", MAX_REASON).strip()
    if not reason:
        raise SignatureRefused("Say why you decline, so the requester knows what to fix.")
    with _live(envelope_id, generation, by, hooks) as envelope:
        envelope.decline_reason = reason
        _close(envelope, "declined", "declined", by, utcnow(), reason=reason)
        hooks.declined(envelope)
        return envelope


def request_new_link(envelope_id, generation, by, hooks):
    """From an expired link: tell the requester the signer wants a new one (once per link).

    Return True when the requester was told now, False when they had been already.
    """
    with writing():
        envelope = locked(envelope_id)
        if envelope is None:
            raise NotSignable("missing")
        if envelope.status in FINAL:
            raise NotSignable(envelope.status, envelope)
        if envelope.generation != generation:
            raise NotSignable("replaced", envelope)
        asked = SigningEvent.select().where(
            (SigningEvent.envelope == envelope)
            & (SigningEvent.kind == "new_link_requested")
            & (SigningEvent.at >= envelope.last_sent_at)
        )
        if asked.exists():
            return False
        record(envelope, "new_link_requested", by)
        hooks.new_link_requested(envelope)
        return True


def resend(envelope, by, *, link_days):
    """Send a new link (every older one dies) with a new expiry; in the caller's transaction.

    The caller has locked the envelope (`locked`) and emails the new link.
    """
    if envelope.status in FINAL:
        raise NotSignable(envelope.status, envelope)
    now = utcnow()
    envelope.generation += 1
    envelope.status = "sent"
    envelope.expires_at = now + datetime.timedelta(days=link_days)
    envelope.last_sent_at = now
    envelope.reminders = 0
    envelope.save()
    record(envelope, "resent", by, at=now, generation=envelope.generation)
    return envelope


def cancel(envelope, by):
    """Cancel the request for a signature (every link dies); in the caller's transaction."""
    if envelope.status in FINAL:
        raise NotSignable(envelope.status, envelope)
    _close(envelope, "cancelled", "cancelled", by, utcnow())
    return envelope


def void(envelope, by):
    """Mark an open envelope void because its document changed; in the caller's transaction."""
    if envelope.status not in FINAL:
        _close(envelope, "void", "void", by, utcnow())
    return envelope


def due_reminders(now=None):
    """Return the ids of envelopes whose signer is due a reminder now."""
    now = now or utcnow()
    return [
        row.id
        for row in SigningEnvelope.select(SigningEnvelope.id)
        .where(
            (SigningEnvelope.method == "email")
            & SigningEnvelope.status.in_(("sent", "opened"))
            & (SigningEnvelope.expires_at > now)
            & (SigningEnvelope.reminders < MAX_REMINDERS)
            & (SigningEnvelope.last_sent_at <= now - REMIND_AFTER)
        )
        .order_by(SigningEnvelope.id)
    ]


def remind(envelope_id, by, hooks, now=None):
    """Remind the signer if they are still due; return True when a reminder went out."""
    with writing():
        now = now or utcnow()
        envelope = locked(envelope_id)
        if (
            envelope is None
            or envelope.method != "email"
            or envelope.status not in ("sent", "opened")
            or envelope.expires_at <= now
            or envelope.reminders >= MAX_REMINDERS
            or envelope.last_sent_at > now - REMIND_AFTER
            or not hooks.is_current(envelope)
        ):
            return False
        envelope.reminders += 1
        envelope.last_sent_at = now
        envelope.save(only=[SigningEnvelope.reminders, SigningEnvelope.last_sent_at])
        record(envelope, "reminded", by, at=now, reminder=envelope.reminders)
        hooks.reminded(envelope)
        return True


def trail(envelope):
    """Return the envelope's events as dicts (kind, at, actor, ip, user_agent, detail, hash)."""
    return [
        {
            "seq": event.seq,
            "kind": event.kind,
            "at": event.at,
            "actor": event.actor,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "detail": json.loads(event.detail),
            "hash": event.hash,
        }
        for event in SigningEvent.of_envelope(envelope)
    ]


def summary(envelope):
    """Return what the certificate says of the envelope besides its events."""
    return {
        "id": envelope.id,
        "title": envelope.title,
        "requester_name": envelope.requester_name,
        "requested_by": envelope.requested_by,
        "signer_name": envelope.signer_name,
        "signer_email": envelope.signer_email,
        "method": envelope.method,
        "status": envelope.status,
        "consent_version": consent.CONSENT_VERSION,
        "consent_sha256": consent.CONSENT_SHA256,
        "document_sha256": envelope.document_sha256,
        "signed_at": envelope.signed_at,
    }


def verify(envelope, signed_pdf=None):
    """Return what is wrong with an envelope's evidence, as sentences; [] when it is intact.

    Checks that every event's hash matches its values and the hash before it (an edited,
    removed or reordered event breaks the chain), that the last one is the envelope's last (a
    removed last event leaves the chain before it whole), that the envelope's status is what its
    events say, that the document kept is the one the events name, and, given the signed PDF,
    that it is the one signed and that its certificate shows the same chain (a chain rewritten
    whole, every hash recomputed, no longer matches the hashes printed when it was signed).
    """
    found = []
    events = list(SigningEvent.of_envelope(envelope))
    previous, expected_seq = GENESIS, 1
    for event in events:
        values = {name: getattr(event, name) for name in _HASHED}
        if event.seq != expected_seq:
            found.append(f"Event {expected_seq} is missing (the next is event {event.seq}).")
        if event.previous_hash != previous:
            found.append(f"Event {event.seq} ({event.kind}) does not follow the event before it.")
        if event_hash(envelope.id, values) != event.hash:
            found.append(f"Event {event.seq} ({event.kind}) was changed after it was recorded.")
        previous, expected_seq = event.hash, event.seq + 1
    if expected_seq == 1:
        found.append("The envelope has no events.")
    elif events[-1].hash != envelope.last_hash:
        found.append("The envelope's last event is missing (its events end too early).")
    kinds = {event.kind for event in events}
    if envelope.status in _ENDED_BY and not kinds & _ENDED_BY[envelope.status]:
        found.append(f"The envelope is {envelope.status}, but no event says so.")
    document_sha256 = hashlib.sha256(bytes(envelope.document)).hexdigest()
    named = {
        json.loads(event.detail).get("document_sha256")
        for event in events
        if event.kind in ("sent", "created", "signed")
    }
    if document_sha256 != envelope.document_sha256 or named - {document_sha256}:
        found.append("The document kept is not the one sent for signature.")
    if signed_pdf is not None:
        if hashlib.sha256(signed_pdf).hexdigest() != envelope.signed_sha256:
            found.append("The signed PDF is not the one this envelope produced.")
        else:
            printed = pdf.hashes_in(signed_pdf)
            signing_events = events[
                : next(
                    (i + 1 for i, event in enumerate(events) if event.kind == "signed"), len(events)
                )
            ]
            for event in signing_events:
                if event.hash not in printed:
                    found.append(
                        f"Event {event.seq} ({event.kind}) is not the one the signed PDF's "
                        "certificate shows."
                    )
    return found


# The events an envelope's final status comes from.
_ENDED_BY = {
    "signed": {"signed"},
    "declined": {"declined"},
    "cancelled": {"cancelled"},
    "void": {"void"},
    "replaced": {"replaced"},
}


_HASHED = ("seq", "kind", "at", "actor", "ip", "user_agent", "detail", "previous_hash")


@contextmanager
def _live(envelope_id, generation, by, hooks):
    """A write transaction on the envelope, locked, that this link may act on.

    A document no longer wanted is made void, and that is kept: NotSignable("void") is raised
    once the transaction that voided it has committed.
    """
    with writing():
        envelope = locked(envelope_id)
        try:
            _check(envelope, generation, hooks, utcnow())
        except NotSignable as refused:
            if refused.reason != "void":
                raise
            void(envelope, by)
        else:
            yield envelope
            return
    raise NotSignable("void", envelope)


def _check(envelope, generation, hooks, now):
    if envelope is None:
        raise NotSignable("missing")
    # Before the generation: closing an envelope raises it too, and its links then say why.
    if envelope.status in FINAL:
        raise NotSignable(envelope.status, envelope)
    if envelope.generation != generation:
        raise NotSignable("replaced", envelope)
    if envelope.expired(now):
        raise NotSignable("expired", envelope)
    if not hooks.is_current(envelope):
        raise NotSignable("void", envelope)


def _close(envelope, status, kind, by, now, **detail):
    envelope.status = status
    envelope.generation += 1
    envelope.save(
        only=[SigningEnvelope.status, SigningEnvelope.generation, SigningEnvelope.decline_reason]
    )
    record(envelope, kind, by, at=now, **detail)


def _checked(signature):
    if signature.drawn_png is not None:
        try:
            drawing = pdf.check_drawing(signature.drawn_png)
        except ValueError as refused:
            raise SignatureRefused(str(refused)) from None
        return Signature(drawn_png=signature.drawn_png, drawing=drawing)
    # Format characters (zero-width spaces, direction controls) print nothing: a name of them
    # alone would sign with an empty box.
    name = "".join(
        ch for ch in _clean(signature.typed_name or "", 1000) if unicodedata.category(ch) != "Cf"
    )
    name = " ".join(name.split())
    if not name:
        raise SignatureRefused("Draw your signature, or type your name to sign with it.")
    if len(name) > MAX_TYPED_NAME:
        raise SignatureRefused(f"Type your name in at most {MAX_TYPED_NAME} characters.")
    return Signature(typed_name=name)


def _clean(text, most):
    text = "".join(ch for ch in str(text or "") if ch == "\n" or ch >= " " and ch != "\x7f")
    return text[:most]


def _clean_detail(detail):
    return {
        key: _clean(value, MAX_REASON) if isinstance(value, str) else value
        for key, value in detail.items()
        if value is not None
    }


def _to_microsecond(moment):
    return moment.replace(tzinfo=None)
