"""Phone numbers: turning what people type into E.164."""

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
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
