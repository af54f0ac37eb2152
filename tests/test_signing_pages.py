"""The signer's pages at /sign/<token>: a GET changes nothing, each action is a POST (with CSRF),
signing with a typed name or a drawing, declining, asking for a new link, and every link that no
longer works with its own page and status."""

import base64
import datetime
import html
import io
import re
import threading

import pytest
from PIL import Image, ImageDraw

from portal.db import db
from signing import consent, envelopes, tokens
from signing.models import SigningEnvelope, SigningEvent, utcnow
from tests.conftest import make_config
from tests.test_signing_core import OWNER, FakeHooks, make_envelope, old_token

UA = "Mozilla/5.0 (iPhone; signer)"


@pytest.fixture
def hooks(app):
    fake = FakeHooks()
    app.extensions["signing"] = fake
    return fake


@pytest.fixture
def envelope(app, hooks):
    with app.app_context():
        return make_envelope()


def link(app, envelope, generation=None):
    token = tokens.make_signing_link(
        app.config["SECRET_KEY"], envelope.id, generation or envelope.generation
    )
    return f"/sign/{token}"


def stored(app, envelope):
    """The envelope as stored now, and the kinds of its events."""
    with app.app_context():
        row = SigningEnvelope.get_by_id(envelope.id)
        return row, [event.kind for event in SigningEvent.of_envelope(row)]


def drawing(width=600, height=200):
    """A PNG like the pad's: a transparent canvas with a stroke on it."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(40, 150), (200, 40), (380, 160), (560, 60)], fill="navy", width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def data_url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode()


def text(response):
    return html.unescape(response.get_data(as_text=True))


# The page


def test_the_page_shows_who_asks_the_document_the_consent_and_the_signature(app, client, envelope):
    response = client.get(link(app, envelope), headers={"User-Agent": UA})
    page = text(response)
    assert response.status_code == 200
    assert "Signature requested by <strong>Acme Dental</strong>" in page
    assert "Ann Owner of Acme Dental asks you, Rita Ruiz, to sign" in page
    assert consent.CONSENT_TEXT in page
    assert 'src="/sign/' in page and '/document.pdf"' in page
    assert "signature_pad.umd.min.js" in page and "js/signature-pad.js" in page
    assert "<script>" not in page and "style=" not in page
    # Each field once (a second, empty signature_png would be the one the server reads), and
    # without JavaScript only the typed name shows: the pad and the choice wait for the script.
    for name in ("consent", "signature_png", "typed_name", "reason"):
        assert page.count(f'name="{name}"') == 1, name
    assert "data-signature-choice hidden" in page and "data-signature-draw hidden" in page
    assert re.search(r'<div class="field signature__type" data-signature-type>', page)
    # No portal navigation: the signer has no account.
    assert "Sign out" not in page and "Port requests" not in page
    # Every control is labelled; the results are announced.
    for control in ("consent", "typed_name", "reason"):
        assert f'for="{control}"' in page and f'id="{control}"' in page
    assert page.count('aria-live="') >= 3
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_get_changes_nothing(app, client, envelope, hooks):
    before = stored(app, envelope)
    for _ in range(3):
        assert client.get(link(app, envelope)).status_code == 200
        assert client.get(link(app, envelope) + "/document.pdf").status_code == 200
    after = stored(app, envelope)
    assert (after[0].status, after[1]) == (before[0].status, before[1]) == ("sent", ["sent"])
    assert hooks.calls == []


def test_the_page_records_opened_with_a_post_once(app, client, envelope, htmx):
    url = link(app, envelope)
    page = text(client.get(url))
    opened = re.search(r'hx-post="([^"]+)" hx-trigger="load" hx-swap="none"', page).group(1)
    assert opened == url + "/opened"
    for _ in range(2):
        answer = client.post(opened, headers={**htmx(), "User-Agent": UA})
        assert answer.status_code == 204
    row, kinds = stored(app, envelope)
    assert (row.status, kinds) == ("opened", ["sent", "opened"])
    with app.app_context():
        event = SigningEvent.get(
            (SigningEvent.envelope == row.id) & (SigningEvent.kind == "opened")
        )
    assert (event.actor, event.ip, event.user_agent) == ("rita@acme.test", "127.0.0.1", UA)


def test_the_document_is_served_inline_for_the_page_to_frame(app, client, envelope):
    response = client.get(link(app, envelope) + "/document.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == bytes(stored(app, envelope)[0].document)
    assert response.headers["Content-Disposition"] == (
        'inline; filename="Letter-of-Authorization-for-port-request-1.pdf"'
    )
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self';" in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"
    download = client.get(link(app, envelope) + "/document.pdf?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment; ")


# Signing and declining


def test_signing_with_a_typed_name(app, client, envelope, hooks):
    url = link(app, envelope)
    response = client.post(
        url, data={"consent": "y", "typed_name": "  Rita  Ruiz "}, headers={"User-Agent": UA}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == url
    page = text(client.get(url))
    assert "You signed Letter of Authorization for port request 1" in page
    assert "Thank you, Rita Ruiz: your signature is in place." in page
    assert "Acme Dental has the signed copy" in page
    row, kinds = stored(app, envelope)
    assert (row.status, kinds) == ("signed", ["sent", "consented", "signed"])
    assert hooks.named("signed") == [envelope.id]
    assert hooks.signed_pdfs[envelope.id].startswith(b"%PDF")
    with app.app_context():
        signed = envelopes.trail(row)[-1]
    assert signed["detail"]["signature"] == "typed"
    assert signed["detail"]["typed_name"] == "Rita Ruiz"
    assert (signed["actor"], signed["ip"], signed["user_agent"]) == (
        "rita@acme.test",
        "127.0.0.1",
        UA,
    )


def test_signing_with_a_drawing(app, client, envelope, hooks):
    url = link(app, envelope)
    response = client.post(url, data={"consent": "y", "signature_png": data_url(drawing())})
    assert response.status_code == 302
    row, kinds = stored(app, envelope)
    assert (row.status, kinds[-1]) == ("signed", "signed")
    with app.app_context():
        assert envelopes.trail(row)[-1]["detail"]["signature"] == "drawn"
        assert envelopes.verify(row, hooks.signed_pdfs[envelope.id]) == []


def test_a_used_link_says_already_signed(app, client, envelope):
    url = link(app, envelope)
    client.post(url, data={"consent": "y", "typed_name": "Rita Ruiz"})
    other = app.test_client()  # another device: no thank-you waiting in its session
    response = other.get(url)
    assert response.status_code == 200
    assert "This document is already signed" in text(response)
    assert "this link has been used" in text(response)
    again = other.post(url, data={"consent": "y", "typed_name": "Rita Ruiz"})
    assert again.status_code == 200
    assert "already signed" in text(again)
    assert stored(app, envelope)[1].count("signed") == 1


def test_two_tabs_signing_at_once_sign_once(app, envelope, hooks):
    url = link(app, envelope)
    tabs = [app.test_client(), app.test_client()]
    start = threading.Barrier(len(tabs))
    answers = [None] * len(tabs)

    def sign_in(index):
        start.wait()
        answers[index] = tabs[index].post(
            url, data={"consent": "y", "typed_name": f"Rita Ruiz {index}"}
        )

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(len(tabs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 302]
    loser = next(answer for answer in answers if answer.status_code == 200)
    assert "This document is already signed" in text(loser)
    assert stored(app, envelope)[1] == ["sent", "consented", "signed"]
    assert hooks.named("signed") == [envelope.id]


@pytest.mark.parametrize("consent_sent", [None, "", "0", "false", "off", "no"])
def test_without_the_consent_nothing_is_signed_and_nothing_is_lost(
    app, client, envelope, hooks, consent_sent
):
    form = {"typed_name": "Rita Ruiz"}
    if consent_sent is not None:
        form["consent"] = consent_sent
    response = client.post(link(app, envelope), data=form)
    page = text(response)
    assert response.status_code == 400
    assert "Tick the box to agree to sign electronically" in page
    assert 'id="consent-error"' in page and 'aria-invalid="true"' in page
    assert 'value="Rita Ruiz"' in page
    assert stored(app, envelope)[1] == ["sent"]
    assert hooks.calls == []


def test_declining_with_a_reason(app, client, envelope, hooks):
    url = link(app, envelope)
    response = client.post(url + "/decline", data={"reason": "The BTN is not ours."})
    assert response.status_code == 302
    assert response.headers["Location"] == url
    page = text(client.get(url))
    assert "You declined to sign this document" in page
    assert "The BTN is not ours." in page
    assert "Ann Owner has been told why" in page
    row, kinds = stored(app, envelope)
    assert (row.status, row.decline_reason, kinds) == (
        "declined",
        "The BTN is not ours.",
        ["sent", "declined"],
    )
    assert hooks.calls == [("declined", envelope.id)]


def test_declining_needs_a_reason(app, client, envelope, hooks):
    response = client.post(link(app, envelope) + "/decline", data={"reason": "  "})
    page = text(response)
    assert response.status_code == 400
    assert "Say why you decline" in page
    assert 'id="reason-error"' in page and "<details open>" in page
    assert stored(app, envelope)[1] == ["sent"]
    assert hooks.calls == []


# Crafted fields


def refused(app, client, envelope, data, words):
    response = client.post(link(app, envelope), data={"consent": "y", **data})
    page = text(response)
    assert response.status_code == 400
    assert words in page
    assert 'id="signature-error"' in page
    assert "\x00" not in page
    assert stored(app, envelope)[1] == ["sent"]
    return page


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "Draw your signature, or type your name"),
        ({"signature_png": "data:image/png;base64," + "A" * 800_000}, "too large to sign with"),
        ({"signature_png": "data:image/svg+xml;base64,PHN2Zz4="}, "did not arrive as a picture"),
        ({"signature_png": "https://example.test/sig.png"}, "did not arrive as a picture"),
        ({"signature_png": "data:image/png;base64,R0lGODlhAQABAAAAACw="}, "arrived damaged"),
        ({"signature_png": "data:image/png;base64,not base64!"}, "arrived damaged"),
        (
            {"signature_png": data_url(b"\x89PNG\r\n\x1a\n" + b"junk")},
            "arrived damaged",
        ),
        ({"typed_name": "Rita\x00Ruiz"}, "cannot be printed"),
        ({"typed_name": "R" * 101}, "at most 100 characters"),
        (
            {"typed_name": "Rita", "signature_png": "data:image/png;base64,AAAA"},
            "Sign one way only",
        ),
    ],
)
def test_crafted_signature_fields_get_a_clear_message(app, client, envelope, data, words):
    refused(app, client, envelope, data, words)


def test_a_blank_drawing_is_refused(app, client, envelope):
    blank = io.BytesIO()
    Image.new("RGBA", (600, 200), (0, 0, 0, 0)).save(blank, "PNG")
    refused(app, client, envelope, {"signature_png": data_url(blank.getvalue())}, "blank")


def test_a_nul_in_the_typed_name_is_not_shown_back(app, client, envelope):
    page = refused(app, client, envelope, {"typed_name": "Rita\x00 Ruiz"}, "cannot be printed")
    assert 'value="Rita Ruiz"' in page


def test_a_drawing_refused_with_the_consent_missing_is_kept(app, client, envelope):
    png = data_url(drawing())
    response = client.post(link(app, envelope), data={"signature_png": png})
    assert response.status_code == 400
    assert text(response).count(f'value="{png}"') == 1


# Links that no longer work


def dead(app, client, url, status, words):
    for response in (client.get(url), client.post(url, data={"consent": "y", "typed_name": "R"})):
        assert response.status_code == status
        assert words in text(response)
        assert 'name="typed_name"' not in text(response)
    return text(client.get(url))


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "WzEsMV0.aQ3fXQ.abcdefghijklmnopqrstuvwxyz0",
        "A" * 600,
        "%C3%A9t%C3%A9",
        "WzEsMV0%00.aQ3fXQ.abc",
    ],
)
def test_a_link_that_is_not_a_signing_link_is_404(app, client, hooks, token):
    dead(app, client, f"/sign/{token}", 404, "This signing link doesn't work")


def test_a_tampered_link_is_404(app, client, envelope):
    url = link(app, envelope)
    dead(app, client, url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb"), 404, "doesn't work")


def test_a_password_reset_token_is_not_a_signing_link(app, client, envelope):
    token = tokens.make_password_reset(app.config["SECRET_KEY"], envelope.id, "fingerprint")
    dead(app, client, f"/sign/{token}", 404, "This signing link doesn't work")


def test_a_link_to_an_envelope_that_is_gone_is_404(app, client, envelope):
    with app.app_context():
        SigningEnvelope.delete_by_id(envelope.id)
    dead(app, client, link(app, envelope), 404, "This signing link doesn't work")


def test_an_expired_link_offers_to_ask_for_a_new_one(app, client, envelope, hooks, monkeypatch):
    token = old_token(monkeypatch, envelope.id, envelope.generation, days=8)
    url = f"/sign/{token}"
    page = dead(app, client, url, 410, "This signing link has expired")
    assert "Ask for a new link" in page
    response = client.post(url + "/new-link")
    assert (response.status_code, response.headers["Location"]) == (302, url)
    told = client.get(url)
    assert told.status_code == 410
    assert "Ann Owner has been told you need a new link." in text(told)
    assert "Ask for a new link</button>" not in text(told)
    client.post(url + "/new-link")
    assert "You asked already" in text(client.get(url))
    assert hooks.calls == [("new_link_requested", envelope.id)]
    assert stored(app, envelope)[1] == ["sent", "new_link_requested"]


def test_a_link_past_the_envelopes_expiry_is_expired_too(app, client, envelope, hooks):
    with app.app_context():
        SigningEnvelope.update(expires_at=utcnow() - datetime.timedelta(minutes=1)).execute()
    url = link(app, envelope)
    dead(app, client, url, 410, "This signing link has expired")
    client.post(url + "/new-link")
    assert hooks.calls == [("new_link_requested", envelope.id)]


def test_a_live_link_needs_no_new_one(app, client, envelope, hooks):
    url = link(app, envelope)
    response = client.post(url + "/new-link")
    assert (response.status_code, response.headers["Location"]) == (302, url)
    assert hooks.calls == []
    assert stored(app, envelope)[1] == ["sent"]


def test_an_older_link_after_a_resend_is_410(app, client, envelope):
    old = link(app, envelope)
    with app.app_context(), db.atomic():
        envelopes.resend(SigningEnvelope.get_by_id(envelope.id), OWNER, link_days=7)
    page = dead(app, client, old, 410, "A newer link was sent")
    assert "Use the link in the newest email" in page
    assert client.get(link(app, envelope, generation=envelope.generation + 1)).status_code == 200


def test_a_cancelled_request_is_410(app, client, envelope):
    with app.app_context(), db.atomic():
        envelopes.cancel(SigningEnvelope.get_by_id(envelope.id), OWNER)
    page = dead(app, client, link(app, envelope), 410, "This request for a signature was cancelled")
    assert "Nothing is needed from you" in page


def test_a_document_that_changed_is_410_and_the_post_makes_it_void(app, client, envelope, hooks):
    hooks.current = False
    url = link(app, envelope)
    assert client.get(url).status_code == 410
    assert stored(app, envelope)[0].status == "sent"  # a GET changes nothing
    response = client.post(url, data={"consent": "y", "typed_name": "Rita Ruiz"})
    assert response.status_code == 410
    assert "The document changed after this link was sent" in text(response)
    assert stored(app, envelope)[0].status == "void"
    assert hooks.signed_pdfs == {}


def test_a_declined_link_says_so(app, client, envelope):
    url = link(app, envelope)
    client.post(url + "/decline", data={"reason": "Wrong account"})
    page = dead(app, client, url, 200, "You declined to sign this document")
    assert "Wrong account" in page


def test_an_expired_link_to_a_signed_document_says_it_is_signed(app, client, envelope, monkeypatch):
    client.post(link(app, envelope), data={"consent": "y", "typed_name": "Rita Ruiz"})
    token = old_token(monkeypatch, envelope.id, envelope.generation, days=30)
    assert "already signed" in text(app.test_client().get(f"/sign/{token}"))


def test_the_opened_post_of_a_dead_link_records_nothing(app, client, envelope, htmx):
    with app.app_context(), db.atomic():
        envelopes.cancel(SigningEnvelope.get_by_id(envelope.id), OWNER)
    assert client.post(link(app, envelope) + "/opened", headers=htmx()).status_code == 410
    assert stored(app, envelope)[1] == ["sent", "cancelled"]


# CSRF


@pytest.fixture
def csrf_app(database_url, tmp_path):
    from portal import create_app

    return create_app(make_config(database_url, tmp_path / "instance", WTF_CSRF_ENABLED=True))


def test_every_action_needs_the_csrf_token(csrf_app, htmx):
    fake = FakeHooks()
    csrf_app.extensions["signing"] = fake
    with csrf_app.app_context():
        made = make_envelope()
    url = link(csrf_app, made)
    client = csrf_app.test_client()
    for action, data in (
        ("", {"consent": "y", "typed_name": "Rita Ruiz"}),
        ("/decline", {"reason": "No"}),
        ("/opened", {}),
    ):
        response = client.post(url + action, data=data)
        assert response.status_code == 400
        assert "Nothing was done: the page had expired" in text(response)
        assert "Location" not in response.headers  # not sent to the portal's sign-in
    assert stored(csrf_app, made)[1] == ["sent"]

    page = text(client.get(url))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    header = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    assert (
        client.post(url + "/opened", headers={**htmx(), "X-CSRFToken": header}).status_code == 204
    )
    response = client.post(url, data={"csrf_token": token, "consent": "y", "typed_name": "Rita"})
    assert response.status_code == 302
    assert stored(csrf_app, made)[1] == ["sent", "opened", "consented", "signed"]
    assert fake.named("signed") == [made.id]
