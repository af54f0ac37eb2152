"""The signing engine without an app: tokens, the hash chain and `verify`, an envelope's life
(resend, cancel, decline, consent, one signature only), reminders and new-link requests."""

import base64
import datetime
import hashlib
import threading

import pytest
from fpdf import FPDF
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from signing import envelopes, tokens
from signing.envelopes import NotSignable, Party, Signature, SignatureRefused
from signing.models import SigningEnvelope, SigningEvent, database, utcnow

SECRET = "test-secret-key"
OWNER = Party("owner@acme.test", "192.0.2.10", "Mozilla/5.0 (owner)")
SIGNER = Party("rita@acme.test", "198.51.100.7", "Mozilla/5.0 (signer)")
BOXES = {
    "signature": {"page": 0, "x": 72, "y": 600, "width": 220, "height": 48},
    "date": {"page": 0, "x": 330, "y": 612, "width": 160, "height": 24},
}


class FakeHooks:
    """The caller's side of a signature, recording each call (name, envelope id)."""

    def __init__(self):
        self.calls = []
        self.current = True
        self.signed_pdfs = {}

    def is_current(self, envelope):
        return self.current

    def signed(self, envelope, signed_pdf):
        self.calls.append(("signed", envelope.id))
        self.signed_pdfs[envelope.id] = signed_pdf

    def declined(self, envelope):
        self.calls.append(("declined", envelope.id))

    def new_link_requested(self, envelope):
        self.calls.append(("new_link_requested", envelope.id))

    def reminded(self, envelope):
        self.calls.append(("reminded", envelope.id))

    def named(self, name):
        return [envelope_id for called, envelope_id in self.calls if called == name]


def small_pdf(text="Letter of Authorization"):
    """Return a one-page US Letter PDF made with fpdf2."""
    pdf = FPDF(unit="pt", format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.text(72, 96, text)
    pdf.text(72, 640, "Signature: ____________________    Date: ____________")
    return bytes(pdf.output())


def make_envelope(*, link_days=7, reference="port_request:1", method="email", **changes):
    """Open an envelope for a small PDF, as the portal would; return it."""
    values = {
        "reference": reference,
        "requester_name": "Acme Dental",
        "requested_by": "Ann Owner",
        "title": "Letter of Authorization for port request 1",
        "document": small_pdf(),
        "boxes": BOXES,
        "content_key": "c" * 64,
        "method": method,
        "signer_name": "Rita Ruiz",
        "signer_email": "rita@acme.test",
        "by": OWNER,
        "link_days": link_days,
    }
    values.update(changes)
    with database.atomic():
        return envelopes.create(**values)


def fresh(envelope):
    return SigningEnvelope.get_by_id(envelope.id)


def kinds(envelope):
    return [event.kind for event in SigningEvent.of_envelope(envelope)]


def sign(envelope, hooks, *, typed_name="Rita Ruiz", consented=True, generation=None):
    return envelopes.sign(
        envelope.id,
        envelope.generation if generation is None else generation,
        signature=Signature(typed_name=typed_name),
        consented=consented,
        by=SIGNER,
        hooks=hooks,
    )


def old_token(monkeypatch, envelope_id, generation, days):
    """Return a signing link made `days` days ago."""
    made_at = int(datetime.datetime.now(datetime.UTC).timestamp()) - days * 86_400
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: made_at)
        return tokens.make_signing_link(SECRET, envelope_id, generation)


# Tokens


def test_a_signing_link_holds_the_envelope_and_its_generation():
    token = tokens.make_signing_link(SECRET, 12, 3)
    assert tokens.read_signing_link(SECRET, token, 7) == tokens.SigningLink(12, 3)
    # Only the ids are inside (signed, not secret): no name, no email, no document.
    payload = token.split(".")[0]
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) == b"[12,3]"


def test_a_tampered_signing_link_is_refused():
    token = tokens.make_signing_link(SECRET, 12, 3)
    payload, stamp, signature = token.split(".")
    forged = URLSafeTimedSerializer("another key", salt=tokens.SIGNING_LINK).dumps([13, 3])
    for bad in (
        # The first character: the last one's low bits are base64 padding, so
        # changing only them (B -> A) decodes to the very same signature.
        f"{payload}.{stamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        f"{forged.split('.')[0]}.{stamp}.{signature}",
        token[:-5],
        forged,
        "",
        "not-a-token",
    ):
        with pytest.raises(tokens.TokenInvalid):
            tokens.read_signing_link(SECRET, bad, 7)


def test_an_expired_signing_link_says_whose_it_was(monkeypatch):
    token = old_token(monkeypatch, 12, 3, days=8)
    with pytest.raises(tokens.TokenExpired) as expired:
        tokens.read_signing_link(SECRET, token, 7)
    assert expired.value.payload == tokens.SigningLink(12, 3)
    # Younger than its lifetime it works.
    assert tokens.read_signing_link(SECRET, old_token(monkeypatch, 12, 3, days=6), 7)


def test_a_token_of_another_purpose_is_refused_both_ways():
    reset = tokens.make_password_reset(SECRET, 12, "fingerprint")
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_signing_link(SECRET, reset, 7)
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_password_reset(SECRET, tokens.make_signing_link(SECRET, 12, 3))
    assert tokens.read_password_reset(SECRET, reset) == (12, "fingerprint")


@pytest.mark.parametrize(
    "payload",
    [[12], [12, 3, 4], ["12", 3], [12, True], [0, 1], [12, -1], [2**62, 1], {"id": 12}, None],
)
def test_a_genuine_token_holding_something_else_is_refused(payload):
    token = URLSafeTimedSerializer(SECRET, salt=tokens.SIGNING_LINK).dumps(payload)
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_signing_link(SECRET, token, 7)


@pytest.mark.parametrize(
    "token",
    ["WzEyLDNd.aQ3fXQ.é" * 3, "WzEyLDNd\x00.aQ3fXQ.abc", "A" * 501, "A" * 100_000, 12, None],
)
def test_non_ascii_huge_and_odd_tokens_are_refused(token):
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_signing_link(SECRET, token, 7)


def test_a_signing_link_made_with_another_key_is_refused():
    token = tokens.make_signing_link("another key", 12, 3)
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_signing_link(SECRET, token, 7)


# The chain and verify


def test_an_envelope_signed_from_end_to_end_verifies_intact(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    envelopes.opened(envelope.id, envelope.generation, SIGNER, hooks)
    sign(envelope, hooks)
    envelope = fresh(envelope)
    assert kinds(envelope) == ["sent", "opened", "consented", "signed"]
    assert envelopes.verify(envelope) == []
    signed_pdf = hooks.signed_pdfs[envelope.id]
    assert envelopes.verify(envelope, signed_pdf) == []
    assert envelope.signed_sha256 == hashlib.sha256(signed_pdf).hexdigest()
    assert envelopes.verify(envelope, signed_pdf + b"%") == [
        "The signed PDF is not the one this envelope produced."
    ]


def test_an_edited_event_is_named_by_verify(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    envelopes.opened(envelope.id, envelope.generation, SIGNER, hooks)
    sign(envelope, hooks)
    SigningEvent.update(ip="203.0.113.99").where(
        (SigningEvent.envelope == envelope.id) & (SigningEvent.kind == "opened")
    ).execute()
    assert envelopes.verify(fresh(envelope)) == [
        "Event 2 (opened) was changed after it was recorded."
    ]


def test_an_event_edited_with_its_hash_recomputed_breaks_the_next_one(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    envelopes.opened(envelope.id, envelope.generation, SIGNER, hooks)
    sign(envelope, hooks)
    opened = SigningEvent.get((SigningEvent.envelope == envelope.id) & (SigningEvent.seq == 2))
    values = {name: getattr(opened, name) for name in envelopes._HASHED}
    values["ip"] = "203.0.113.99"
    SigningEvent.update(ip="203.0.113.99", hash=envelopes.event_hash(envelope.id, values)).where(
        SigningEvent.id == opened.id
    ).execute()
    assert envelopes.verify(fresh(envelope)) == [
        "Event 3 (consented) does not follow the event before it."
    ]


def test_a_deleted_middle_event_is_named_by_verify(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    envelopes.opened(envelope.id, envelope.generation, SIGNER, hooks)
    sign(envelope, hooks)
    SigningEvent.delete().where(
        (SigningEvent.envelope == envelope.id) & (SigningEvent.seq == 2)
    ).execute()
    assert envelopes.verify(fresh(envelope)) == [
        "Event 2 is missing (the next is event 3).",
        "Event 3 (consented) does not follow the event before it.",
    ]


def test_a_changed_document_is_named_by_verify(database):
    envelope = make_envelope()
    SigningEnvelope.update(document=small_pdf("Another letter")).where(
        SigningEnvelope.id == envelope.id
    ).execute()
    assert envelopes.verify(fresh(envelope)) == [
        "The document kept is not the one sent for signature."
    ]


def test_the_events_keep_who_did_what_from_where(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    sign(envelope, hooks)
    consented, signed = envelopes.trail(fresh(envelope))[1:]
    assert (consented["actor"], consented["ip"], consented["user_agent"]) == (
        SIGNER.actor,
        SIGNER.ip,
        SIGNER.user_agent,
    )
    assert consented["detail"]["consent_version"].startswith("esign-")
    assert signed["detail"]["signature"] == "typed"
    assert signed["detail"]["typed_name"] == "Rita Ruiz"
    assert signed["detail"]["document_sha256"] == envelope.document_sha256


# An envelope's life


def test_a_resend_raises_the_generation_and_kills_the_old_link(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    with database.atomic():
        envelopes.resend(fresh(envelope), OWNER, link_days=7)
    resent = fresh(envelope)
    assert resent.generation == envelope.generation + 1
    with pytest.raises(NotSignable) as refused:
        envelopes.for_link(envelope.id, envelope.generation, hooks)
    assert refused.value.reason == "replaced"
    with pytest.raises(NotSignable):
        sign(envelope, hooks, generation=envelope.generation)
    assert envelopes.for_link(envelope.id, resent.generation, hooks).id == envelope.id
    sign(resent, hooks)
    assert fresh(envelope).status == "signed"
    assert kinds(envelope) == ["sent", "resent", "consented", "signed"]


def test_a_signed_envelope_cannot_be_resent_or_cancelled(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    sign(envelope, hooks)
    for change in (
        lambda e: envelopes.resend(e, OWNER, link_days=7),
        lambda e: envelopes.cancel(e, OWNER),
    ):
        with pytest.raises(NotSignable) as refused, database.atomic():
            change(fresh(envelope))
        assert refused.value.reason == "signed"


def test_a_cancelled_envelope_refuses_its_link_as_cancelled(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    with database.atomic():
        envelopes.cancel(fresh(envelope), OWNER)
    assert fresh(envelope).status == "cancelled"
    for act in (
        lambda: envelopes.for_link(envelope.id, envelope.generation, hooks),
        lambda: sign(envelope, hooks),
        lambda: envelopes.opened(envelope.id, envelope.generation, SIGNER, hooks),
    ):
        with pytest.raises(NotSignable) as refused:
            act()
        assert refused.value.reason == "cancelled"
    assert kinds(envelope) == ["sent", "cancelled"]
    assert hooks.calls == []


def test_a_document_no_longer_wanted_is_void_read_only_then_made_void_by_a_post(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    hooks.current = False
    with pytest.raises(NotSignable) as refused:
        envelopes.for_link(envelope.id, envelope.generation, hooks)
    assert refused.value.reason == "void"
    assert fresh(envelope).status == "sent"
    with pytest.raises(NotSignable) as refused:
        sign(envelope, hooks)
    assert refused.value.reason == "void"
    assert fresh(envelope).status == "void"
    assert kinds(envelope) == ["sent", "void"]
    assert hooks.signed_pdfs == {}


def test_a_new_envelope_for_the_same_reference_replaces_the_open_one(database):
    hooks = FakeHooks()
    first = make_envelope()
    second = make_envelope()
    assert fresh(first).status == "replaced"
    assert kinds(first) == ["sent", "replaced"]
    with pytest.raises(NotSignable) as refused:
        sign(first, hooks)
    assert refused.value.reason == "replaced"
    assert sign(second, hooks).status == "signed"


@pytest.mark.parametrize("reason", ["", "   ", "\x00\x01", None])
def test_declining_needs_a_reason(database, reason):
    hooks = FakeHooks()
    envelope = make_envelope()
    with pytest.raises(SignatureRefused, match="Say why you decline"):
        envelopes.decline(envelope.id, envelope.generation, reason=reason, by=SIGNER, hooks=hooks)
    assert fresh(envelope).status == "sent"
    assert kinds(envelope) == ["sent"]
    assert hooks.calls == []


def test_declining_with_a_reason_closes_the_envelope_and_tells_the_requester(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    envelopes.decline(
        envelope.id,
        envelope.generation,
        reason="  The account number is wrong.\x00 ",
        by=SIGNER,
        hooks=hooks,
    )
    declined = fresh(envelope)
    assert (declined.status, declined.decline_reason) == (
        "declined",
        "The account number is wrong.",
    )
    assert hooks.calls == [("declined", envelope.id)]
    with pytest.raises(NotSignable) as refused:
        sign(envelope, hooks)
    assert refused.value.reason == "declined"
    assert envelopes.verify(declined) == []


def test_signing_needs_the_consent(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    with pytest.raises(SignatureRefused, match="Tick the box"):
        sign(envelope, hooks, consented=False)
    assert fresh(envelope).status == "sent"
    assert kinds(envelope) == ["sent"]
    assert hooks.calls == []


@pytest.mark.parametrize(
    ("signature", "words"),
    [
        (Signature(typed_name=""), "Draw your signature, or type your name"),
        (Signature(typed_name=" \x00 "), "Draw your signature, or type your name"),
        (Signature(typed_name="R" * 101), "at most 100 characters"),
        (Signature(drawn_png=b"GIF89a"), "did not arrive as a drawing"),
    ],
)
def test_an_unusable_signature_is_refused_with_nothing_stored(database, signature, words):
    hooks = FakeHooks()
    envelope = make_envelope()
    with pytest.raises(SignatureRefused, match=words):
        envelopes.sign(
            envelope.id,
            envelope.generation,
            signature=signature,
            consented=True,
            by=SIGNER,
            hooks=hooks,
        )
    assert kinds(envelope) == ["sent"]
    assert fresh(envelope).status == "sent"


def test_signing_twice_is_refused_the_second_time(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    sign(envelope, hooks)
    with pytest.raises(NotSignable) as refused:
        sign(envelope, hooks, typed_name="Someone Else")
    assert refused.value.reason == "signed"
    assert hooks.named("signed") == [envelope.id]
    assert kinds(envelope).count("signed") == 1


def at_once(*calls):
    """Run the calls on threads released together by a barrier; return (results, failures)."""
    start = threading.Barrier(len(calls))
    results, failures = [None] * len(calls), [None] * len(calls)

    def run(index):
        try:
            start.wait()
            results[index] = calls[index]()
        except Exception as error:
            failures[index] = error
        finally:
            database.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def test_two_signatures_at_once_sign_exactly_once(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    database.close()
    results, failures = at_once(
        lambda: sign(envelope, hooks, typed_name="Rita Ruiz"),
        lambda: sign(envelope, hooks, typed_name="R. Ruiz"),
    )
    won = [result for result in results if result is not None]
    assert len(won) == 1
    assert [failure.reason for failure in failures if failure is not None] == ["signed"]
    assert hooks.named("signed") == [envelope.id]
    assert kinds(envelope) == ["sent", "consented", "signed"]
    assert envelopes.verify(fresh(envelope), hooks.signed_pdfs[envelope.id]) == []


def test_a_signature_and_a_cancel_at_once_leave_one_of_them(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    database.close()

    def cancel():
        with envelopes.writing():
            return envelopes.cancel(envelopes.locked(envelope.id), OWNER)

    results, failures = at_once(lambda: sign(envelope, hooks), cancel)
    assert sum(result is not None for result in results) == 1
    status = fresh(envelope).status
    assert status in ("signed", "cancelled")
    assert [failure.reason for failure in failures if failure is not None] == [
        "cancelled" if status == "cancelled" else "signed"
    ]
    assert envelopes.verify(fresh(envelope)) == []


# Reminders and new links


def test_reminders_come_every_two_days_at_most_three_times(database):
    hooks = FakeHooks()
    envelope = make_envelope(link_days=30)
    start = fresh(envelope).last_sent_at
    day = datetime.timedelta(days=1)
    assert envelopes.due_reminders(start + day) == []
    assert envelopes.remind(envelope.id, OWNER, hooks, now=start + day) is False
    for days in (2, 4, 6):
        assert envelopes.due_reminders(start + days * day) == [envelope.id]
        assert envelopes.remind(envelope.id, OWNER, hooks, now=start + days * day) is True
        # Reminded: not due again until two more days pass.
        assert envelopes.due_reminders(start + days * day + day) == []
        assert envelopes.remind(envelope.id, OWNER, hooks, now=start + days * day) is False
    assert envelopes.due_reminders(start + 20 * day) == []
    assert envelopes.remind(envelope.id, OWNER, hooks, now=start + 20 * day) is False
    assert hooks.named("reminded") == [envelope.id] * 3
    assert fresh(envelope).reminders == 3
    assert kinds(envelope) == ["sent", "reminded", "reminded", "reminded"]


def test_no_reminder_after_the_link_expired(database):
    hooks = FakeHooks()
    envelope = make_envelope(link_days=7)
    expires_at = fresh(envelope).expires_at
    assert envelopes.due_reminders(expires_at) == []
    assert envelopes.remind(envelope.id, OWNER, hooks, now=expires_at) is False
    assert hooks.calls == []


@pytest.mark.parametrize("closing", ["cancel", "sign", "decline", "void", "self"])
def test_no_reminder_for_an_envelope_closed_or_signed_in_person(database, closing):
    hooks = FakeHooks()
    envelope = make_envelope(method="self" if closing == "self" else "email")
    if closing == "cancel":
        with database.atomic():
            envelopes.cancel(fresh(envelope), OWNER)
    elif closing == "sign":
        sign(envelope, hooks)
    elif closing == "decline":
        envelopes.decline(envelope.id, 1, reason="Wrong number", by=SIGNER, hooks=hooks)
    elif closing == "void":
        with database.atomic():
            envelopes.void(fresh(envelope), OWNER)
    later = utcnow() + datetime.timedelta(days=3)
    assert envelopes.due_reminders(later) == []
    assert envelopes.remind(envelope.id, OWNER, hooks, now=later) is False
    assert hooks.named("reminded") == []


def test_no_reminder_when_the_document_is_no_longer_wanted(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    hooks.current = False
    later = utcnow() + datetime.timedelta(days=3)
    assert envelopes.remind(envelope.id, OWNER, hooks, now=later) is False
    assert hooks.calls == []


def expire(envelope):
    past = utcnow() - datetime.timedelta(seconds=1)
    SigningEnvelope.update(expires_at=past).where(SigningEnvelope.id == envelope.id).execute()


def test_a_new_link_is_asked_for_once_per_link(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    expire(envelope)
    with pytest.raises(NotSignable) as refused:
        envelopes.for_link(envelope.id, envelope.generation, hooks)
    assert refused.value.reason == "expired"
    assert envelopes.request_new_link(envelope.id, envelope.generation, SIGNER, hooks) is True
    assert envelopes.request_new_link(envelope.id, envelope.generation, SIGNER, hooks) is False
    assert hooks.named("new_link_requested") == [envelope.id]
    # The requester sends a new link; once that one runs out too, it may be asked for again.
    with database.atomic():
        resent = envelopes.resend(fresh(envelope), OWNER, link_days=7)
    expire(envelope)
    with pytest.raises(NotSignable) as refused:
        envelopes.request_new_link(envelope.id, envelope.generation, SIGNER, hooks)
    assert refused.value.reason == "replaced"
    assert envelopes.request_new_link(envelope.id, resent.generation, SIGNER, hooks) is True
    assert hooks.named("new_link_requested") == [envelope.id, envelope.id]
    assert kinds(envelope) == ["sent", "new_link_requested", "resent", "new_link_requested"]


def test_no_new_link_for_a_cancelled_envelope(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    expire(envelope)
    with database.atomic():
        envelopes.cancel(fresh(envelope), OWNER)
    with pytest.raises(NotSignable) as refused:
        envelopes.request_new_link(envelope.id, envelope.generation, SIGNER, hooks)
    assert refused.value.reason == "cancelled"
    assert hooks.calls == []


def test_two_asks_for_a_new_link_at_once_tell_the_requester_once(database):
    hooks = FakeHooks()
    envelope = make_envelope()
    expire(envelope)
    database.close()
    ask = lambda: envelopes.request_new_link(envelope.id, 1, SIGNER, hooks)  # noqa: E731
    results, failures = at_once(ask, ask)
    assert failures == [None, None]
    assert sorted(results) == [False, True]
    assert hooks.named("new_link_requested") == [envelope.id]
