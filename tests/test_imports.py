"""The domain modules import without the web app, so scripts and signing can use them."""

import subprocess
import sys

WEB_PACKAGES = ("flask", "flask_wtf", "htmx_flask")


def test_domain_modules_load_no_flask():
    program = (
        "import sys, portal.numbers, portal.portability, portal.models, portal.throttle; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_PACKAGES!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
