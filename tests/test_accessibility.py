"""Accessibility of the whole journey, in Debian's chromium, judged by axe-core (issue #12)."""

import pytest

from tests import test_browser
from tests.a11y import assert_accessible

pytestmark = pytest.mark.browser

browser = test_browser.browser


def test_the_axe_helper_names_what_it_finds(browser):
    """The helper fails on a page with known barriers and names the rule and the element."""
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="x.png" id="logo"><button id="empty"></button></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "a broken page")
    message = str(failure.value)
    assert "a broken page" in message
    assert "image-alt (critical)" in message and "#logo" in message
    assert "button-name (critical)" in message and "#empty" in message
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Fine</h1>'
        '<img src="x.png" alt="Logo"><button>Save</button></main></body></html>'
    )
    assert_accessible(page, "a fine page")
    page.close()
