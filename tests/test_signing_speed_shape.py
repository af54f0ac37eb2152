"""What keeps signing with a drawing quick, held as shapes rather than times: a signature's PNG
is decoded once per signature, a checked drawing stamps the same bytes as its PNG, and the pad
sends the ink's part of its canvas, no larger than the stamp can use (in Debian's chromium)."""

import base64
import io
import json

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import expect

from signing import SigningEnvelope, SigningEvent, envelopes, pdf
from signing.envelopes import Signature, SignatureRefused
from tests import test_browser
from tests.conftest import OWNER_EMAIL
from tests.test_browser_signing import draw_a_signature
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import make_draft
from tests.test_signing_core import SIGNER, FakeHooks, kinds, make_envelope
from tests.test_signing_pdf import BOXES, SIGNED_ON, document, pad_png

browser, live_server = test_browser.browser, test_browser.live_server
# What static/js/signature-pad.js sends at most, and the margin it keeps around the ink.
MOST = (640, 400)
MARGIN = 8


@pytest.fixture
def openings(monkeypatch):
    """Count the PNGs Pillow opens from now on (each one then decoded whole)."""
    opened = []
    real = PngImagePlugin.PngImageFile._open

    def counting(image):
        opened.append(image)
        return real(image)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "_open", counting)
    return opened


def test_a_drawn_signature_is_decoded_once_when_signed(database, openings):
    hooks = FakeHooks()
    envelope = make_envelope()

    envelopes.sign(
        envelope.id,
        envelope.generation,
        signature=Signature(drawn_png=pad_png()),
        consented=True,
        by=SIGNER,
        hooks=hooks,
    )

    assert len(openings) == 1
    assert kinds(envelope) == ["sent", "consented", "signed"]
    assert hooks.named("signed") == [envelope.id]


def test_a_refused_drawing_is_decoded_once_and_nothing_is_recorded(database, openings):
    envelope = make_envelope()
    blank = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(blank, "PNG")

    with pytest.raises(SignatureRefused, match="The signature box is blank"):
        envelopes.sign(
            envelope.id,
            envelope.generation,
            signature=Signature(drawn_png=blank.getvalue()),
            consented=True,
            by=SIGNER,
            hooks=FakeHooks(),
        )

    assert len(openings) == 1
    assert kinds(envelope) == ["sent"]


def test_a_checked_drawing_stamps_without_decoding_and_gives_the_bytes_of_its_png(openings):
    png = pad_png()
    checked = pdf.check_drawing(png)
    del openings[:]

    def stamp(signature):
        return pdf.stamp(
            document(), BOXES, signature=signature, signer_name="Jane", signed_on=SIGNED_ON
        )

    from_check = stamp(Signature(drawn_png=png, drawing=checked))
    assert openings == []
    assert stamp(Signature(drawn_png=png, drawing=checked)) == from_check
    assert stamp(Signature(drawn_png=png)) == from_check
    assert len(openings) == 1
    # The signature's equality and its record are its PNG's: the decoded drawing rides along.
    assert Signature(drawn_png=png, drawing=checked) == Signature(drawn_png=png)
    assert "drawing" not in repr(Signature(drawn_png=png, drawing=checked))


# The pad, in chromium


@pytest.fixture
def draft(app, accounts):
    add_inventory(app, accounts)
    return make_draft(app, accounts[0], numbers=3)


def _data_url(page):
    return page.locator("input[data-signature-png]").input_value()


def _png(page):
    value = _data_url(page)
    assert value.startswith("data:image/png;base64,")
    return base64.b64decode(value.removeprefix("data:image/png;base64,"), validate=True)


def _sent(page):
    """Return the PNG the form would send, decoded, or None when the field is empty."""
    if not _data_url(page):
        return None
    return Image.open(io.BytesIO(_png(page))).convert("RGBA")


def _canvas_size(page):
    return page.evaluate(
        "(() => { const c = document.querySelector('canvas[data-signature-pad]');"
        " return [c.width, c.height]; })()"
    )


PAD_HAS_INK = (
    "(() => { const c = document.querySelector('canvas[data-signature-pad]');"
    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
    " for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()"
)


def _assert_trimmed(image, canvas):
    """The PNG is the ink's box and the pad's margin (scaled down to fit MOST), not the canvas."""
    width, height = image.size
    assert width <= MOST[0] and height <= MOST[1]
    assert width * height < canvas[0] * canvas[1] / 2
    left, top, right, bottom = image.getchannel("A").getbbox()
    # The pad's margin, scaled down with the ink or not at all (never more).
    for margin in (left, top, width - right, height - bottom):
        assert margin <= MARGIN + 2


@pytest.mark.browser
@pytest.mark.parametrize(
    ("viewport", "ratio"),
    [({"width": 390, "height": 844}, 3), ({"width": 1280, "height": 900}, 2)],
    ids=["phone at 3x", "laptop at 2x"],
)
def test_the_pad_sends_the_ink_trimmed_and_scaled_and_keeps_undo_clear_and_a_redisplay(
    app, live_server, draft, browser, viewport, ratio
):
    context = browser.new_context(
        viewport=viewport, device_scale_factor=ratio, has_touch=ratio == 3, is_mobile=ratio == 3
    )
    page = context.new_page()
    problems = []
    # The refused form's answer is a 400 by design; any other error is a problem.
    page.on(
        "console",
        lambda m: m.type == "error" and "status of 400" not in m.text and problems.append(m.text),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        test_browser._sign_in(page, live_server, OWNER_EMAIL)
        page.goto(f"{live_server}/port-requests/{draft}/loa")
        form = page.locator("form.loa-sign")
        expect(form.locator("canvas[data-signature-pad]")).to_be_visible()
        canvas = _canvas_size(page)
        assert canvas[0] >= 300 * ratio  # drawn in device pixels

        draw_a_signature(page)  # three strokes from 10% to 90% of the width
        three = _sent(page)
        _assert_trimmed(three, canvas)
        # Nothing of the ink is lost: the strokes span 80% of the canvas, scaled alike.
        scale = min(1, MOST[0] / (canvas[0] * 0.8 + 2 * MARGIN))
        assert three.width >= canvas[0] * 0.8 * scale - 4
        assert pdf.check_drawing(_png(page)).ink == (11, 42, 91)  # the pad's pen

        form.get_by_role("button", name="Undo").click()
        expect(form.locator("[data-signature-status]")).to_have_text("The last stroke is undone.")
        two = _sent(page)
        _assert_trimmed(two, canvas)
        # The last stroke, on the right, is gone: the ink box is narrower for its height.
        assert two.width / two.height < three.width / three.height
        form.get_by_role("button", name="Clear").click()
        expect(form.locator("[data-signature-status]")).to_have_text(
            "Cleared: draw your signature again."
        )
        assert _sent(page) is None

        # Sent without the representative's box ticked: shown again with the drawing kept, drawn
        # back on the pad, and sent again as it was.
        draw_a_signature(page)
        sent = _data_url(page)
        form.get_by_label("I agree to sign electronically").check()
        form.get_by_role("button", name="Sign the LOA").click()
        expect(page.locator("form.loa-sign [role=alert]")).to_contain_text("Not signed yet")
        form = page.locator("form.loa-sign")
        assert _data_url(page) == sent
        for _ in range(50):  # the pad loads the drawing back as an image: not at once
            if page.evaluate(PAD_HAS_INK):
                break
            page.wait_for_timeout(100)
        else:
            raise AssertionError("the drawing kept was not drawn back on the pad")
        form.get_by_label(
            "I am Dana Reyes, the authorized representative named on this LOA"
        ).check()
        form.get_by_label("I agree to sign electronically").check()
        form.get_by_role("button", name="Sign the LOA").click()
        expect(page.get_by_text("Signed: the signed LOA is kept with the request.")).to_be_visible()
        assert problems == []
    finally:
        context.close()
    with app.app_context():
        envelope = SigningEnvelope.get()
        signed = SigningEvent.get(
            (SigningEvent.envelope == envelope) & (SigningEvent.kind == "signed")
        )
    assert envelope.status == "signed"
    assert json.loads(signed.detail)["signature"] == "drawn"
