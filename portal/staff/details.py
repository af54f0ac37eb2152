"""What the owner entered, as Carrier Relations read it: each section of the request's fields
with its labels, every value in words (no Flask).

A submitted request passed the wizard's rules, but its fields are still the JSON it was sent as:
a value of an unexpected type is shown as it is, never dropped and never a 500.
"""

from typing import NamedTuple

from portal.port_requests.fields import LABELS

# The sections shown, in the wizard's order; "numbers" have their own table.
SECTIONS = (
    "contact",
    "billing",
    "service_address",
    "billing_address",
    "authorized",
    "partial_port",
)
# The answers of the fields that are a choice, in words.
CHOICES = {
    "billing.service_type": {"landline": "Landline", "voip": "VoIP", "wireless": "Wireless"},
    "billing.customer_type": {"business": "Business", "residential": "Residential"},
    "partial_port.remaining_numbers": {
        "keep": "Keep them on the account",
        "disconnect": "Disconnect them",
    },
}


class Section(NamedTuple):
    heading: str
    rows: list  # (label, value in words)
    note: str = ""  # said instead of rows (a billing address the same as the service address)


def sections(fields):
    """Return the request's sections, each with its labelled values, in the wizard's order."""
    found = [
        Section("Request", [("Name", words(fields.get("friendly_name")))]),
    ]
    for key in SECTIONS:
        value = fields.get(key)
        title = heading(key)
        if key == "billing_address" and value is None:
            found.append(Section(title, [], "Same as the service address."))
            continue
        if not isinstance(value, dict):
            found.append(Section(title, [], words(value)))
            continue
        paths = [path for path in LABELS if path.startswith(key + ".")]
        rows = [(heading(path), words(value.get(path.split(".", 1)[1]), path)) for path in paths]
        known = {path.split(".", 1)[1] for path in paths}
        rows += [(name, words(extra)) for name, extra in value.items() if name not in known]
        found.append(Section(title, rows))
    requested = fields.get("requested_date")
    when = "The earliest the carriers allow" if requested is None else words(requested)
    found.append(Section("Date", [(heading("requested_date"), when)]))
    return found


def heading(path):
    """Return the field's name as a heading says it: "Account number"."""
    name = LABELS.get(path, path)
    for article in ("the ", "a "):
        if name.startswith(article):
            name = name[len(article) :]
    return name[:1].upper() + name[1:]


def words(value, path=None):
    """Return a stored value as the page says it: "—" for nothing, Yes/No, a choice's name."""
    if value is None or value == "":
        return "—"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, str):
        return CHOICES.get(path, {}).get(value, value)
    return str(value)
