"""PortDesk: the account owners' and staff's portal."""

import os
from pathlib import Path

from portal import config as settings
from portal import db as database

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the app: defaults, then the environment, then the `config` dict."""
    # Imported here so that `import portal.numbers` (a script, a test of the rules) loads no Flask.
    from flask import Flask

    import signing
    from portal import (
        accounts,
        api,
        auth,
        checks,
        cli,
        document_api,  # noqa: F401  (its routes join api.bp)
        fax,
        mail,
        outbox,
        pages,
        password_reset,
        request_api,  # noqa: F401  (its routes join api.bp)
        schema,
        user_settings,
        web,
        webhook_views,
    )
    from portal.extensions import csrf, htmx
    from portal.port_requests import blueprint as port_requests
    from portal.port_requests import (  # noqa: F401  (their routes join the bp)
        configure,
        fix,
        loa_step,
        proof,
        submit,
        views,
        wizard,
    )
    from portal.port_requests.signatures import PortalHooks
    from portal.staff import packets, queue
    from portal.staff import views as staff

    config = dict(config or {})
    environment = settings.from_environment()
    instance_path = (
        config.pop("INSTANCE_PATH", None)
        or os.environ.get("INSTANCE_PATH")
        or str(ROOT / "instance")
    )
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings.DEFAULTS)
    app.config.update(environment)
    app.config.update(config)
    try:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise settings.ConfigError(
            f"INSTANCE_PATH {app.instance_path} cannot be created ({error.strerror}): "
            "point it at a folder PortDesk may write"
        ) from None
    app.config["DATABASE_URL"] = settings.database_url(
        app.config["DATABASE_URL"], app.instance_path
    )
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.secret_key(app.instance_path)

    database.init_app(app)
    if app.config["AUTO_MIGRATE"]:
        try:
            with database.db.connection_context():
                schema.upgrade(database.db)
        except web.DATABASE_UNAVAILABLE as error:
            # The driver's first line says what failed (refused, no such database, no folder).
            reason = (str(error).strip() or type(error).__name__).splitlines()[0]
            raise settings.ConfigError(
                f"the database cannot be opened ({reason}): check DATABASE_URL"
            ) from None
        # gunicorn --preload forks workers after this: no socket may be shared with them.
        database.close_all()

    # The blueprints come before CSRF protection: their before_app_request hooks (the signed-in
    # user) then run first, so a refused form or a 413 still knows who is signed in.
    for blueprint in (
        auth.bp,
        pages.bp,
        port_requests.bp,
        checks.bp,
        queue.bp,
        staff.bp,
        packets.bp,
        fax.bp,
        accounts.bp,
        user_settings.bp,
        outbox.bp,
        password_reset.bp,
        webhook_views.bp,
        api.bp,
    ):
        app.register_blueprint(blueprint)
    # The signer's pages (/sign/<token>) and the `flask signing` commands.
    signing.init_app(app, PortalHooks())
    mail.init_app(app)
    htmx.init_app(app)
    web.init_app(app)
    csrf.init_app(app)
    # Key-authenticated JSON: no session, no form, so no CSRF token.
    csrf.exempt(api.bp)
    cli.init_app(app)
    if app.config["PROXY_COUNT"]:
        # Behind a reverse proxy: the client's address and the scheme (https) come from the
        # proxy's X-Forwarded-* headers, believed for exactly that many hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
    return app
