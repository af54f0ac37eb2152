"""Signing a PDF for a person, and proving it: the signing engine, which knows nothing of porting.

`portal` asks it to sign; it never imports `portal`. Values and bytes go in (the document as it
will be shown, who signs, where the signature goes), bytes and events come out (the signed
document with its certificate of completion, a hash-chained trail of what happened). The core
modules are plain functions with no Flask: `tokens` (every signed link's rules), `consent` (the
electronic-records consent and its version), `pdf` (stamping, merging), `certificate`,
`envelopes` (one signature's life: sent, opened, signed or declined, its events). `views` serves
the signer's pages at /sign/<token>; `cli` gives cron its reminders and staff a `verify`.
"""

from signing.models import SigningEnvelope, SigningEvent, database

__all__ = ["SigningEnvelope", "SigningEvent", "database", "init_app"]


def init_app(app, hooks):
    """Serve the signer's pages and add the `signing` commands; the caller binds `database`.

    `hooks` is the caller's side of a signature (see `signing.envelopes.Hooks`): what to do when
    a document is signed or declined, whether it is still the one to sign, whom to tell.
    """
    from signing import cli, views

    app.extensions["signing"] = hooks
    app.register_blueprint(views.bp)
    cli.init_app(app)
