"""`signing` never imports `portal`: the engine, its pages and its commands load on their own."""

import subprocess
import sys

MODULES = (
    "signing",
    "signing.envelopes",
    "signing.views",
    "signing.cli",
    "signing.pdf",
    "signing.certificate",
    "signing.tokens",
    "signing.consent",
    "signing.models",
)


def test_signing_loads_no_portal_module():
    program = (
        f"import sys, {', '.join(MODULES)}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'portal')); "
        f"print(all(m in sys.modules for m in {MODULES!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["[]", "True"]


def test_the_core_loads_no_flask():
    # Tokens, consent, the PDF, the certificate and the envelopes are plain functions.
    program = (
        "import sys, signing.envelopes, signing.tokens; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_wtf')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
