"""gunicorn reads this file from the working directory (`gunicorn wsgi:app`)."""

# Build the app once, in the master, before forking the workers: a setting PortDesk cannot start
# with stops gunicorn with one line, instead of every worker failing on its own; migrations run
# once; the workers share the loaded code. create_app closes every database connection it opened,
# so no socket is shared with the workers.
preload_app = True
