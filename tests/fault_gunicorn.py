"""Test-only gunicorn settings: the deployed ones (`gunicorn.conf.py`), plus one fault point.

tests/test_faults.py starts gunicorn with `-c tests/fault_gunicorn.py` and names a fault point in
PORTDESK_FAULT; each worker then wraps one inner function of the app so that, when a request gets
there, it writes the file PORTDESK_FAULT_MARKER and (for the points inside a transaction) sleeps.
The test waits for the file and kills gunicorn's whole process group with SIGKILL: the kill lands
at that exact point, every time, with nothing in the app's own code changed for it.

- `upload`: a multipart body starts being read (the rest of the body has not been sent).
- `sign`: a signature has stored the signed LOA, its events and the owner's email, uncommitted.
- `submit`: a submit has claimed the numbers, logged it and queued the email, uncommitted.
"""

import os
import runpy
import time
from pathlib import Path

# Every deployed setting (preload_app, any hook) stays as deployed.
DEPLOYED = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update({name: value for name, value in DEPLOYED.items() if not name.startswith("__")})

# Longer than any test waits: the test kills the server while the request sleeps here.
STALL_SECONDS = 60


def _mark():
    Path(os.environ["PORTDESK_FAULT_MARKER"]).write_text(str(os.getpid()))


def _on_entry(function):
    def marked(*args, **kwargs):
        _mark()
        return function(*args, **kwargs)

    return marked


def _stall_after(function):
    def stalled(*args, **kwargs):
        result = function(*args, **kwargs)
        _mark()
        time.sleep(STALL_SECONDS)
        return result

    return stalled


def _wrap_upload():
    from werkzeug.formparser import MultiPartParser

    MultiPartParser.parse = _on_entry(MultiPartParser.parse)


def _wrap_sign():
    from portal.port_requests.signatures import PortalHooks

    PortalHooks.signed = _stall_after(PortalHooks.signed)


def _wrap_submit():
    # The last step of operations.submit before its transaction commits.
    from portal.port_requests import operations

    operations._tell_owner = _stall_after(operations._tell_owner)


FAULTS = {"upload": _wrap_upload, "sign": _wrap_sign, "submit": _wrap_submit}


def post_fork(server, worker):
    if "post_fork" in DEPLOYED:
        DEPLOYED["post_fork"](server, worker)
    fault = os.environ.get("PORTDESK_FAULT")
    if fault:
        FAULTS[fault]()
