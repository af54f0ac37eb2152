"""`flask signing ...`: reminders for cron, and verifying an envelope's evidence."""


def init_app(app):
    """Add the `signing` commands to the app's CLI."""
