"""`flask signing remind` (cron's reminders) and `flask signing verify` (an envelope's evidence)."""

import datetime

import pytest

from signing import envelopes
from signing.models import SigningEnvelope, SigningEvent, utcnow
from tests.test_signing_core import SIGNER, FakeHooks, make_envelope


@pytest.fixture
def hooks(app):
    fake = FakeHooks()
    app.extensions["signing"] = fake
    return fake


def sent_days_ago(app, envelope, days):
    with app.app_context():
        SigningEnvelope.update(last_sent_at=utcnow() - datetime.timedelta(days=days)).where(
            SigningEnvelope.id == envelope.id
        ).execute()


def test_remind_reminds_the_signers_that_are_due(app, runner, hooks):
    with app.app_context():
        due = make_envelope(reference="port_request:1")
        fresh = make_envelope(reference="port_request:2")
    sent_days_ago(app, due, 3)
    result = runner.invoke(args=["signing", "remind"])
    assert (result.exit_code, result.output) == (0, "Reminded 1 signer.\n")
    assert hooks.calls == [("reminded", due.id)]
    again = runner.invoke(args=["signing", "remind"])
    assert (again.exit_code, again.output) == (0, "Reminded 0 signers.\n")
    with app.app_context():
        assert SigningEnvelope.get_by_id(due.id).reminders == 1
        assert SigningEnvelope.get_by_id(fresh.id).reminders == 0
        reminder = SigningEvent.get(SigningEvent.kind == "reminded")
    assert (reminder.envelope_id, reminder.actor) == (due.id, "PortDesk reminder")


class FailingHooks(FakeHooks):
    """Hooks whose reminder email cannot be written for one envelope."""

    def __init__(self, failing_id):
        super().__init__()
        self.failing_id = failing_id

    def reminded(self, envelope):
        if envelope.id == self.failing_id:
            raise RuntimeError("the outbox refused it")
        super().reminded(envelope)


def test_one_envelope_that_cannot_be_reminded_does_not_stop_the_others(app, runner):
    with app.app_context():
        broken = make_envelope(reference="port_request:1")
        fine = make_envelope(reference="port_request:2")
    for envelope in (broken, fine):
        sent_days_ago(app, envelope, 3)
    hooks = app.extensions["signing"] = FailingHooks(broken.id)
    result = runner.invoke(args=["signing", "remind"])
    assert result.exit_code == 1
    assert f"Envelope {broken.id} could not be reminded" in result.output
    assert "Reminded 1 signer." in result.output
    assert hooks.calls == [("reminded", fine.id)]
    with app.app_context():
        # Nothing of the failed reminder was kept: it is due again next time.
        assert SigningEnvelope.get_by_id(broken.id).reminders == 0
        assert envelopes.due_reminders() == [broken.id]


def test_verify_says_intact(app, runner, hooks, tmp_path):
    with app.app_context():
        envelope = make_envelope()
        envelopes.sign(
            envelope.id,
            1,
            signature=envelopes.Signature(typed_name="Rita Ruiz"),
            consented=True,
            by=SIGNER,
            hooks=hooks,
        )
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(hooks.signed_pdfs[envelope.id])
    for extra in ([], ["--signed-pdf", str(signed)]):
        result = runner.invoke(args=["signing", "verify", str(envelope.id), *extra])
        assert (result.exit_code, result.output) == (
            0,
            f"Envelope {envelope.id} (Letter of Authorization for port request 1, signed): "
            "intact.\n",
        )
    other = tmp_path / "other.pdf"
    other.write_bytes(hooks.signed_pdfs[envelope.id] + b"\n")
    result = runner.invoke(args=["signing", "verify", str(envelope.id), "--signed-pdf", str(other)])
    assert result.exit_code == 1
    assert "  The signed PDF is not the one this envelope produced.\n" in result.output


def test_verify_names_each_problem_and_fails(app, runner, hooks):
    with app.app_context():
        envelope = make_envelope()
        envelopes.opened(envelope.id, 1, SIGNER, hooks)
        SigningEvent.update(user_agent="curl/8").where(SigningEvent.seq == 2).execute()
    result = runner.invoke(args=["signing", "verify", str(envelope.id)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Envelope {envelope.id} (Letter of Authorization for port request 1, opened) is broken:",
        "  Event 2 (opened) was changed after it was recorded.",
    ]


@pytest.mark.parametrize(
    ("envelope_id", "words"),
    [
        ("999", "There is no envelope 999."),
        ("0", "Invalid value for 'ENVELOPE_ID'"),
        ("abc", "Invalid value for 'ENVELOPE_ID'"),
        (str(2**63), "Invalid value for 'ENVELOPE_ID'"),
    ],
)
def test_verify_refuses_an_envelope_that_does_not_exist(app, runner, envelope_id, words):
    result = runner.invoke(args=["signing", "verify", envelope_id])
    assert result.exit_code != 0
    assert words in result.output
    assert "Traceback" not in result.output
