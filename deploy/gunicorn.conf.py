"""gunicorn's settings for a production host: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`,
from the project folder, behind the reverse proxy of deploy/nginx.conf (see the README's
"Running in production"). Each setting can be changed through the environment named beside it."""

import os

# Only the proxy on this host talks to gunicorn; it terminates HTTPS.
bind = os.environ.get("PORTDESK_BIND", "127.0.0.1:8000")
# Processes x threads: a request mostly waits on the database, so threads serve it well, and
# several processes use every core. 2 x 4 fits a 2-core host; raise the workers with the cores.
workers = int(os.environ.get("PORTDESK_WORKERS", "2"))
threads = int(os.environ.get("PORTDESK_THREADS", "4"))
worker_class = "gthread"
# Build the app once in the master: a bad setting stops gunicorn with one line, migrations run
# once (under their lock), and the workers share the loaded code. A code change needs a restart.
preload_app = True
# A packet for a large request, or a 24 MB upload on a slow line, takes seconds, not minutes.
timeout = 120
graceful_timeout = 30
# Workers are replaced now and then, so no slow leak grows for ever.
max_requests = 2000
max_requests_jitter = 200
# To the journal (systemd) or the terminal.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PORTDESK_LOG_LEVEL", "info")
# The app believes the proxy's X-Forwarded-* headers itself (PROXY_COUNT); gunicorn's own
# reading of them is left to the proxy on this host.
forwarded_allow_ips = "127.0.0.1"
