"""Email that is never lost: queued in the outbox with what caused it, sent after commit."""


def init_app(app):
    """Send each request's queued emails once its transaction has committed."""
