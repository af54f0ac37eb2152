"""Reading and showing phone numbers, without a database: invisible marks, the shared per-prefix
verdicts, and the display format."""

import random
import unicodedata

import phonenumbers
import pytest

from portal import numbers
from portal.numbers import classify, display, nanp_tail_sensitive_prefixes

# Every format character (category Cf) anyone may paste inside a number.
FORMAT_CHARACTERS = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]


@pytest.fixture
def library_calls(monkeypatch):
    """Count the library's validity checks (the costly step the per-prefix verdicts save)."""
    calls = []
    is_valid_number = phonenumbers.is_valid_number

    def counting(number):
        calls.append(number.national_number)
        return is_valid_number(number)

    monkeypatch.setattr(phonenumbers, "is_valid_number", counting)
    return calls


# Invisible characters


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("212\u200b736 5000", "U+200B ZERO WIDTH SPACE"),
        ("212 736 5000\u200f", "U+200F RIGHT-TO-LEFT MARK"),
        ("\u200e(212) 736-5000", "U+200E LEFT-TO-RIGHT MARK"),
        ("\u2066212 736 5000\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("212\u00ad736\u00ad5000", "U+00AD SOFT HYPHEN"),
        ("\ufeff2127365000", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("+44 20 7946\u2060 0958", "U+2060 WORD JOINER"),
        ("1-800-FLOW\u200dERS", "U+200D ZERO WIDTH JOINER"),
        ("２１２７３６５０００\u200c", "U+200C ZERO WIDTH NON-JOINER"),
    ],
)
def test_an_invisible_character_is_refused_and_named(text, named):
    verdict = classify(text)

    assert verdict.problem == f"Has an invisible character ({named}): retype the number."
    assert (verdict.e164, verdict.region, verdict.number_type) == (None, None, "unknown")


def test_every_format_character_is_refused_the_same_way():
    assert len(FORMAT_CHARACTERS) > 150
    for char in FORMAT_CHARACTERS:
        problem = classify(f"212 736{char} 5000").problem
        assert problem.startswith(f"Has an invisible character (U+{ord(char):04X}"), repr(char)
        assert problem.endswith("): retype the number.")


@pytest.mark.parametrize(
    "text", ["２１２７３６５０００", "212\u00a0736\u00a05000", "٢١٢٧٣٦٥٠٠٠", "(212) 736-5000"]
)
def test_visible_non_ascii_formatting_is_still_read(text):
    assert classify(text).e164 == "+12127365000"


# The per-prefix verdicts: a list that shares prefixes asks the library once per prefix


def test_the_metadata_is_read_for_the_prefixes_whose_last_four_digits_decide():
    patterns = nanp_tail_sensitive_prefixes()

    assert patterns is not None, "no verdict is shared between numbers"

    def matches(prefix):
        return any(
            all(d in allowed for d, allowed in zip(prefix, p, strict=True)) for p in patterns
        )

    assert [matches(prefix) for prefix in ("246521", "246522", "876606")] == [True] * 3
    assert [matches(prefix) for prefix in ("212736", "312263", "416736", "800356")] == [False] * 4


def test_numbers_of_a_common_prefix_share_one_library_verdict(library_calls):
    texts = [f"(212) 736-{line:04d}" for line in range(0, 10_000, 50)]
    texts += [f"+1 312 263 {line:04d}" for line in range(0, 10_000, 50)]

    verdicts = [classify(text) for text in texts]

    assert [(v.region, v.number_type, v.problem) for v in verdicts] == [("US", "local", None)] * 400
    # One check per prefix at most (none if an earlier test already asked for it).
    assert len(library_calls) <= 2


def test_prefixes_whose_last_four_digits_decide_ask_for_every_number(library_calls):
    texts = ["246 521 0999", "246 521 1000", "246 521 2000", "876 606 0999", "876 606 1000"]

    verdicts = [classify(text) for text in texts]

    assert [(v.region, v.number_type) for v in verdicts] == [
        ("BB", "local"),
        ("BB", "mobile"),
        (None, "unknown"),
        ("JM", "local"),
        (None, "unknown"),
    ]
    assert sorted(library_calls) == sorted(int(text.replace(" ", "")) for text in texts)


def test_a_cold_cache_asks_once_per_prefix(library_calls):
    numbers._prefix_verdict.cache_clear()

    for line in range(100):
        classify(f"2127365{line:03d}")

    assert library_calls == [2127360000]


# Display


def library_display(e164):
    """How the library shows a number: national format at home (+1), international abroad."""
    parsed = phonenumbers.parse(e164, None)
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


DISPLAYED = [
    "+12127365000",
    "+13122630100",
    "+18003569377",
    "+14167365000",
    "+18769271234",
    "+17877231234",
    "+16847331234",
    "+12125550150",
    "+19115551234",
    "+12120365000",
    "+19997365000",
    "+10123456789",
    "+11234567890",
    "+1212736500",
    "+121273650001",
    "+442079460958",
    "+493012345678",
    "+525512345678",
    "+61291234567",
]


@pytest.mark.parametrize("e164", DISPLAYED)
def test_display_is_the_library_s_format(e164):
    assert display(e164) == library_display(e164)


def test_display_of_random_nanp_numbers_is_the_library_s_format():
    rng = random.Random(7)
    for _ in range(3000):
        e164 = f"+1{rng.randrange(10**10):010d}"
        assert display(e164) == library_display(e164), e164


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("+12127365000", "(212) 736-5000"),
        ("+442079460958", "+44 20 7946 0958"),
        ("", ""),
        (None, ""),
        ("+1２１２７３６５０００", "(212) 736-5000"),
        ("not a number", "not a number"),
    ],
)
def test_display_shows_what_people_read(value, shown):
    assert display(value) == shown
