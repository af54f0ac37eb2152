"""Phone numbers: turning what people type into E.164, and the NANP rules for what is valid."""

import functools
import re._constants as _constants
import re._parser as _parser
import unicodedata
from typing import NamedTuple

import phonenumbers


class InvalidNumber(ValueError):
    """Text that is not a phone number we can store."""


def to_e164(raw, region="US"):
    """Return the number in E.164 (+13122630100), or raise InvalidNumber saying why."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidNumber("is empty")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidNumber(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(e164):
    """Return an E.164 number the way people read it: (312) 263-0100 at home, +44 ... abroad."""
    if not e164:
        return ""
    # Pages show thousands of US numbers: format those without the library (the same text).
    if len(e164) == 12 and e164[:2] == "+1" and e164[2] in _NANP_FORMATTED and e164.isascii():
        digits = e164[2:]
        if digits.isdigit():
            return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# The library's national format for +1 applies to 10 digits that start with 2-9.
_NANP_FORMATTED = frozenset("23456789")

# What the owner types, read as a phone number. Real lists share a few hundred area-code and
# exchange prefixes, and the library's NANP verdict (valid, region, type) depends on those six
# digits alone except where its metadata says otherwise (see `_tail_sensitive`): so the verdict is
# worked out once per prefix, and a list of ten thousand numbers costs little more than reading it.

MAX_INPUT_LENGTH = 64
_TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "local",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "local",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
}
# Formatting people put around digits, and full-width digits (from Japanese/Chinese keyboards).
_PLAIN = str.maketrans(
    {**dict.fromkeys(map(ord, " -.()/\t\u00a0"), None), **{0xFF10 + i: str(i) for i in range(10)}}
)
_PREFIX_CACHE_LIMIT = 200_000


class Verdict(NamedTuple):
    """What a text is as a phone number: E.164, region and type, or why it is not one."""

    e164: str | None
    region: str | None
    number_type: str
    problem: str | None


def classify(text):
    """Read the text as a phone number (US by default); say what it is or, in words, why not."""
    if len(text) > MAX_INPUT_LENGTH:
        return _invalid("Too long to be a phone number.")
    if not text.isascii() and (mark := _invisible_character(text)):
        return _invalid(f"Has an invisible character ({mark}): retype the number.")
    digits = _nanp_digits(text)
    if digits is not None:
        return _classify_nanp(digits)
    return _classify_with_library(text)


def _invalid(problem):
    return Verdict(None, None, "unknown", problem)


def _invisible_character(text):
    # Format characters (Unicode category Cf: zero-width spaces, direction marks and isolates,
    # soft hyphens) come from copying out of web pages and chats; the owner cannot see them.
    for char in text:
        if unicodedata.category(char) == "Cf":
            name = unicodedata.name(char, "")
            return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"
    return None


def _nanp_digits(text):
    # The common case, without the library: formatting around 10 digits, or 11 with a leading 1.
    plain = text.translate(_PLAIN)
    if plain[:2] == "+1":
        plain = plain[1:]
    if len(plain) == 11 and plain[0] == "1":
        plain = plain[1:]
    if len(plain) == 10 and plain.isascii() and plain.isdigit():
        return plain
    return None


def _classify_with_library(text):
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return _invalid("Not a phone number.")
    if parsed.extension:
        return _invalid("Has an extension: enter the number without it (extensions don't port).")
    if parsed.country_code == 1:
        national = "0" * (parsed.number_of_leading_zeros or 0) + str(parsed.national_number)
        if len(national) != 10:
            return _invalid(_length_problem(len(national)))
        return _classify_nanp(national)
    if not phonenumbers.is_valid_number(parsed):
        return _invalid("Not a valid phone number.")
    return Verdict(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_number(parsed),
        _TYPES.get(phonenumbers.number_type(parsed), "unknown"),
        None,
    )


def _length_problem(count):
    if count == 7:
        return "Missing the area code: a US number has 10 digits."
    if count < 10:
        return f"Too short: {count} digits, and a US number has 10 (area code and number)."
    return f"Too long: {count} digits, and a US number has 10. Separate numbers with commas."


def _classify_nanp(digits):
    # NANP rules the library does not enforce come first (docs/domain.md, "Reading a number").
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    if area[0] in "01":
        return _invalid(f"Area codes never start with 0 or 1 ({area}).")
    if area[1:] == "11":
        return _invalid(f"{area} is a service code (like 411 or 911), not an area code.")
    if exchange[0] in "01":
        return _invalid(
            f"Exchanges (the 3 digits after the area code) never start with 0 or 1 ({exchange})."
        )
    if exchange == "555" and "0100" <= line <= "0199":
        return _invalid("555-0100 to 555-0199 are reserved for fiction: not a real number.")
    valid, region, number_type = _prefix_verdict(digits[:6]) or _library_verdict(digits)
    if not valid:
        return _invalid(f"Not in service: area code {area}, exchange {exchange} isn't assigned.")
    return Verdict("+1" + digits, region, number_type, None)


# A fresh worker's cold cache, for benchmarks: `_prefix_verdict.cache_clear()`.
@functools.lru_cache(maxsize=_PREFIX_CACHE_LIMIT)
def _prefix_verdict(prefix):
    """Return the verdict all numbers of the 6-digit prefix share; None if the last 4 decide."""
    if _tail_sensitive(prefix):
        return None
    return _library_verdict(prefix + "0000")


def _library_verdict(digits):
    parsed = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
    if not phonenumbers.is_valid_number(parsed):
        return False, None, "unknown"
    number_type = _TYPES.get(phonenumbers.number_type(parsed), "unknown")
    return True, phonenumbers.region_code_for_number(parsed), number_type


def _tail_sensitive(prefix):
    patterns = nanp_tail_sensitive_prefixes()
    if patterns is None:
        return True
    return any(all(d in allowed for d, allowed in zip(prefix, p, strict=True)) for p in patterns)


@functools.cache
def nanp_tail_sensitive_prefixes():
    """Return the 6-digit prefix patterns whose NANP verdict depends on the last four digits.

    Each is a tuple of six sets of digits. None means the metadata could not be read this way,
    and then no verdict is shared between numbers.
    """
    sensitive = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        leading = metadata.leading_digits
        if leading and _parser.parse(leading).getwidth()[1] > 6:
            return None
        for desc in _NUMBER_DESCS:
            pattern = getattr(metadata, desc, None)
            if pattern is None or not pattern.national_number_pattern:
                continue
            try:
                shapes = _shapes(_parser.parse(pattern.national_number_pattern))
            except _TooComplex:
                return None
            sensitive += [s[:6] for s in shapes if len(s) == 10 and s[6:] != (_DIGITS,) * 4]
    return sensitive


_NUMBER_DESCS = (
    "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail",
)  # fmt: skip
_DIGITS = frozenset("0123456789")
_SHAPES_LIMIT = 100_000


class _TooComplex(Exception):
    pass


def _shapes(items):
    # Every string the pattern matches, as a sequence of allowed-digit sets (the patterns are
    # finite: digits, classes, groups, alternatives and bounded repeats).
    shapes = [()]
    for op, arg in items:
        options = _node_shapes(op, arg)
        shapes = [s + o for s in shapes for o in options]
        if len(shapes) > _SHAPES_LIMIT:
            raise _TooComplex
    return shapes


def _node_shapes(op, arg):
    if op is _constants.LITERAL:
        return [(frozenset(chr(arg)),)]
    if op is _constants.IN:
        return [(_digit_class(arg),)]
    if op is _constants.BRANCH:
        return [shape for branch in arg[1] for shape in _shapes(branch)]
    if op is _constants.SUBPATTERN:
        return _shapes(arg[3])
    if op is _constants.MAX_REPEAT:
        low, high, item = arg
        once = _shapes(item)
        shapes = []
        for count in range(low, high + 1):
            repeated = [()]
            for _ in range(count):
                repeated = [r + o for r in repeated for o in once]
            shapes += repeated
        return shapes
    raise _TooComplex


def _digit_class(items):
    allowed = set()
    for op, arg in items:
        if op is _constants.LITERAL:
            allowed.add(chr(arg))
        elif op is _constants.RANGE:
            allowed.update(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op is _constants.CATEGORY and arg is _constants.CATEGORY_DIGIT:
            allowed.update(_DIGITS)
        else:
            raise _TooComplex
    return frozenset(allowed & _DIGITS)


@functools.cache
def region_name(region):
    """Return the English name of a region code (JM -> Jamaica), or the code itself."""
    from phonenumbers.geocoder import country_name_for_number  # its data loads slowly: on demand

    example = phonenumbers.example_number(region or "")
    return (example and country_name_for_number(example, "en")) or region or "an unknown region"
