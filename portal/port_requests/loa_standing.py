"""Where a request's LOA stands, as its step shows it: the signed LOA kept, the request for a
signature to show, and what that request is now (sent, opened, expired, out of date, signed,
declined, cancelled)."""

from dataclasses import dataclass

from portal.models import utcnow
from signing import envelopes
from signing.models import FINAL


@dataclass(frozen=True)
class Standing:
    """Where the request's LOA stands, as its step shows it.

    `signed` is the current signed LOA (a Document) and `signed_current` whether it was signed
    for the LOA as the request stands. `envelope` is the request for a signature to show (None
    when the signed LOA came after it) and `state` what it is now: sent, opened, expired,
    outdated (the LOA changed since it was sent), signed, declined or cancelled.
    """

    signed: object = None
    signed_current: bool = False
    envelope: object = None
    state: str = ""
    events: tuple = ()

    @property
    def waiting(self):
        """Say whether the signer may still sign (the step's panel keeps asking)."""
        return self.state in ("sent", "opened")

    def last(self, kind):
        """Return the envelope's last event of this kind (a dict), or None."""
        return next((event for event in reversed(self.events) if event["kind"] == kind), None)

    @property
    def new_link_asked(self):
        """Return when the signer asked for a new link after the last one was sent, or None."""
        asked = self.last("new_link_requested")
        if asked and self.envelope and asked["at"] >= self.envelope.last_sent_at:
            return asked["at"]
        return None


def standing(found, now=None):
    """Return the Standing of a Review's LOA."""
    signed, envelope = found.loa, found.envelope
    if envelope is not None and signed is not None:
        made_it = envelope.status == "signed" and envelope.signed_sha256 == signed.sha256
        if not made_it and envelope.created_at <= signed.uploaded_at:
            envelope = None  # the LOA kept came after it: what the envelope did is history
    state, events = "", ()
    if envelope is not None:
        events = tuple(envelopes.trail(envelope))
        state = _state(envelope, found.loa_digest, now or utcnow())
    return Standing(
        signed=signed,
        signed_current=signed is not None and signed.loa_digest == found.loa_digest,
        envelope=envelope,
        state=state,
        events=events,
    )


def _state(envelope, digest, now):
    if envelope.status == "void":
        return "outdated"
    if envelope.status in FINAL:
        return envelope.status
    if envelope.content_key != digest:
        return "outdated"
    if envelope.expired(now):
        return "expired"
    return envelope.status
