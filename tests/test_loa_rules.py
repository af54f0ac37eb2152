"""What stands between a request and a signed LOA carriers take: `loa.loa_problems`, no app."""

import datetime
from types import SimpleNamespace

import pytest

from portal.port_requests import loa

TODAY = datetime.date(2026, 11, 27)
DIGEST, OLD = "a" * 64, "b" * 64


def signed(digest=DIGEST, days_ago=0):
    return SimpleNamespace(loa_digest=digest, signed_date=TODAY - datetime.timedelta(days=days_ago))


def envelope(status="sent", digest=DIGEST, *, expired=False):
    return SimpleNamespace(
        status=status, content_key=digest, signer_name="Dana Reyes", expired=lambda: expired
    )


@pytest.mark.parametrize(
    ("document", "sent", "codes"),
    [
        (None, None, ["loa_required"]),
        (None, envelope(), ["loa_awaiting_signature"]),
        (None, envelope("opened"), ["loa_awaiting_signature"]),
        (None, envelope(digest=OLD), ["loa_required"]),
        (None, envelope("declined"), ["loa_required"]),
        (None, envelope(expired=True), ["loa_required"]),
        (signed(), None, []),
        (signed(), envelope(), []),
        (signed(OLD), None, ["loa_outdated"]),
        # Outdated, with the new LOA out for signature: that is what the owner waits for.
        (signed(OLD), envelope(), ["loa_awaiting_signature"]),
        (signed(OLD), envelope(digest=OLD), ["loa_outdated"]),
        (signed(days_ago=30), None, []),
        (signed(days_ago=31), None, ["loa_signed_old"]),
    ],
)
def test_the_loa_problems(document, sent, codes):
    found = loa.loa_problems(document, sent, DIGEST, today=TODAY)

    assert [problem.code for problem in found] == codes
    assert all(problem.field == "loa" for problem in found)


def test_only_an_old_signature_is_a_warning_the_owner_may_confirm():
    (old,) = loa.loa_problems(signed(days_ago=45), None, DIGEST, today=TODAY)
    (outdated,) = loa.loa_problems(signed(OLD), None, DIGEST, today=TODAY)

    assert old.severity == "warning"
    assert old.message.startswith("The LOA was signed on 13 Oct 2026: carriers want an LOA")
    assert outdated.severity == "error"
