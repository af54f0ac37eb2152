"""`flask signing ...`: reminders for cron, and verifying an envelope's evidence."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from signing import envelopes
from signing.models import SigningEnvelope

signing_cli = AppGroup("signing", help="Documents sent for signature.")

REMINDER = envelopes.Party("PortDesk reminder")


@signing_cli.command("remind")
def remind():
    """Remind each signer due a reminder (for cron: 2 days without a signature, at most 3)."""
    hooks = current_app.extensions["signing"]
    reminded, failed = 0, 0
    for envelope_id in envelopes.due_reminders():
        try:
            reminded += envelopes.remind(envelope_id, REMINDER, hooks)
        except Exception:
            # One envelope that cannot be reminded (its email refused, say) must not keep the
            # others waiting; cron hears of it through the exit status.
            current_app.logger.exception("Envelope %s could not be reminded", envelope_id)
            click.echo(f"Envelope {envelope_id} could not be reminded: see the log.", err=True)
            failed += 1
    click.echo(f"Reminded {reminded} {'signer' if reminded == 1 else 'signers'}.")
    if failed:
        raise SystemExit(1)


@signing_cli.command("verify")
@click.argument("envelope_id", type=click.IntRange(min=1, max=2**62))
@click.option(
    "--signed-pdf",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed PDF to check is the one this envelope produced.",
)
def verify(envelope_id, signed_pdf):
    """Check an envelope's events and documents; print "intact" or each problem."""
    envelope = SigningEnvelope.get_or_none(SigningEnvelope.id == envelope_id)
    if envelope is None:
        raise click.ClickException(f"There is no envelope {envelope_id}.")
    problems = envelopes.verify(envelope, signed_pdf.read_bytes() if signed_pdf else None)
    if not problems:
        click.echo(f"Envelope {envelope_id} ({envelope.title}, {envelope.status}): intact.")
        return
    click.echo(f"Envelope {envelope_id} ({envelope.title}, {envelope.status}) is broken:")
    for problem in problems:
        click.echo(f"  {problem}")
    raise SystemExit(1)


def init_app(app):
    """Add the `signing` commands to the app's CLI."""
    app.cli.add_command(signing_cli)
