"""Reading a port request's fields: whatever the JSON holds, a clean value or a problem on its path.

A request arrives as the JSON shape of docs/domain.md ("A port request"): a dict whose every key is
optional while it is a draft. Clients send anything, so each reader checks the type, the length and
invisible characters first, and names what is wrong on the field's own path.
"""

import re
import unicodedata
from typing import NamedTuple

MAX_TEXT = 200

# Every field of the form, in the order the wizard shows them, with the words a message uses.
LABELS = {
    "friendly_name": "a name for this request",
    "contact": "the contact",
    "contact.name": "the contact's name",
    "contact.email": "the contact's email",
    "contact.phone": "the contact's phone number",
    "billing": "the billing record",
    "billing.carrier": "the losing carrier",
    "billing.service_type": "the service type",
    "billing.customer_type": "the customer type",
    "billing.customer_name": "the customer name exactly as on the bill",
    "billing.account_number": "the account number",
    "billing.pin": "the account PIN",
    "billing.btn": "the billing telephone number (BTN)",
    "service_address": "the service address",
    "service_address.street_number": "the street number",
    "service_address.street": "the street",
    "service_address.unit": "the unit",
    "service_address.city": "the city",
    "service_address.state": "the state",
    "service_address.zip": "the ZIP code",
    "billing_address": "the billing address",
    "billing_address.street_number": "the street number",
    "billing_address.street": "the street",
    "billing_address.unit": "the unit",
    "billing_address.city": "the city",
    "billing_address.state": "the state",
    "billing_address.zip": "the ZIP code",
    "authorized": "the authorized representative",
    "authorized.name": "the representative's name",
    "authorized.title": "the representative's title",
    "authorized.email": "the representative's email",
    "authorized.phone": "the representative's phone number",
    "partial_port": "the partial-port answers",
    "partial_port.other_numbers_remain": "whether other numbers stay on the account",
    "partial_port.remaining_numbers": "what happens to the numbers that stay on the account",
    "partial_port.new_btn": "the new BTN",
    "requested_date": "the requested date",
    "numbers": "the numbers",
}
NUMBER_FIELDS = ("phone_number", "routing_id", "tracking_source_id", "friendly_name")
_RANK = {path: rank for rank, path in enumerate(LABELS)}
_NUMBER_PATH = re.compile(r"numbers\[(\d+)\](?:\.(\w+))?")


class Problem(NamedTuple):
    """What a carrier would reject (or the owner must confirm), named on its field's path."""

    field: str
    code: str
    severity: str  # "error" blocks the step's check and submit; "warning" needs a confirmation
    message: str


def rank(field):
    """Return where the field comes in the form: the form's order, then the numbers in order."""
    if field in _RANK:
        return (_RANK[field], 0, 0)
    match = _NUMBER_PATH.fullmatch(field)
    if match:
        index, name = match.groups()
        sub = NUMBER_FIELDS.index(name) + 1 if name in NUMBER_FIELDS else 0
        return (_RANK["numbers"], int(index) + 1, sub)
    return (len(_RANK), 0, 0)


def fold(text):
    """Return the text as names are compared: case, spacing and punctuation aside."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())


def label(path):
    return LABELS.get(path) or path


class Form:
    """A request being read: each reader returns a clean value or None, recording the problem."""

    def __init__(self, request):
        self.request = request if isinstance(request, dict) else {}
        self.found = []
        self.broken = set()  # sections of the wrong type: their fields say nothing more

    def add(self, field, code, message, severity="error"):
        self.found.append(Problem(field, code, severity, message))

    def get(self, path):
        """Return the raw value at the dotted path, None when absent or under a broken section."""
        value = self.request
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def section(self, name):
        """Return the section's dict, None when absent (null) or of the wrong type (a problem)."""
        value = self.request.get(name)
        if value is None or isinstance(value, dict):
            return value
        self.broken.add(name)
        self.add(name, "wrong_type", f"Send {label(name)} as an object of its fields.")
        return None

    def given(self, path):
        """Say whether the field holds something (not null, not blank)."""
        value = self.get(path)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def text(self, path, *, required=True, limit=MAX_TEXT):
        """Return the field's text stripped, or None (missing, blank or unusable: a problem)."""
        if path.split(".")[0] in self.broken:
            return None
        return self.clean(path, self.get(path), required=required, limit=limit)

    def clean(self, path, value, *, required=True, limit=MAX_TEXT, what=None):
        """Return the value as clean text, or None (missing, blank or unusable: a problem).

        `what` names the field in messages when its path is not in LABELS ("the phone number").
        """
        what = what or label(path)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if required:
                self.add(path, "required", f"Enter {what}.")
            return None
        if not isinstance(value, str):
            self.add(path, "wrong_type", f"Enter {what} as text.")
            return None
        if len(value) > limit:
            self.add(
                path,
                "too_long",
                f"Shorten {what}: at most {limit} characters, not {len(value):,}.",
            )
            return None
        if mark := invisible_character(value):
            self.add(path, "invisible_character", f"Retype {what}: it has {mark}.")
            return None
        return value

    def choice(self, path, choices, *, required=True):
        """Return the field's value if it is one of the choices, else None (a problem)."""
        value = self.text(path, required=False)
        options = " or ".join(choices)
        if value is None:
            if required and not self.given(path) and path.split(".")[0] not in self.broken:
                self.add(path, "required", f"Choose {label(path)}: {options}.")
            return None
        if value.lower() not in choices:
            self.add(path, "invalid_choice", f"Choose {label(path)}: {options}, not {value!r}.")
            return None
        return value.lower()


# What a note written by a person loses: controls (but line breaks and tabs), format characters
# (bidi overrides, zero-width ones) and code points no script has. In a page or an email they
# would make the words read otherwise than they were written, or hide some.
_UNWRITTEN = ("Cc", "Cf", "Cs", "Co", "Cn")


def written(text):
    """Return the text a person wrote, without invisible characters, its outer space trimmed."""
    text = text or ""
    if not (text.isascii() and text.isprintable()):
        text = "".join(
            char for char in text if char in "\n\t" or unicodedata.category(char) not in _UNWRITTEN
        )
    return text.strip()


def invisible_character(text):
    """Name the first control or invisible character in the text, or return None."""
    if text.isascii() and text.isprintable():
        return None
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            name = unicodedata.name(char, "")
            code = f"U+{ord(char):04X}"
            return (
                f"an invisible character ({code} {name})"
                if name
                else f"a control character ({code})"
            )
    return None
