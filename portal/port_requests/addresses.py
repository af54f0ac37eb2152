"""The service and billing addresses: where the line is, in a US state, with a ZIP of that state.

About 60% of carrier rejections are a service address that does not match the carrier's record
(docs/domain.md). The street line is read by `usaddress` (a trained parser of US addresses, so
"PO Box", "P.O. Box", "Post Office Box", "POB" and "Box 12" are all known as boxes) and ZIP codes
by `zipcodes`, which ships the USPS list: nothing is looked up over the network.
"""

import re

import usaddress
import zipcodes

# The 50 states, DC, and the territories that share +1 (docs/domain.md: they count as US).
US_STATES = frozenset(
    ("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
     "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
     "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
     "VA", "WA", "WV", "WI", "WY", "DC", "PR", "VI", "GU", "MP", "AS")
)  # fmt: skip
CANADIAN_PROVINCES = frozenset(
    ("AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT")
)
_ZIP = re.compile(r"([0-9]{5})(?:[- ]?[0-9]{4})?")
_BOX_LABELS = frozenset({"USPSBoxType", "USPSBoxID", "USPSBoxGroupType", "USPSBoxGroupID"})


def check_address(form, prefix):
    """Record the problems of the address at `prefix` ("service_address" or "billing_address")."""
    street_number = form.text(f"{prefix}.street_number", required=False)
    street = form.text(f"{prefix}.street")
    unit = form.text(f"{prefix}.unit", required=False)
    form.text(f"{prefix}.city")
    state = form.text(f"{prefix}.state")
    zip_code = form.text(f"{prefix}.zip")

    labels = _street_labels(" ".join(filter(None, (street_number, street, unit))))
    is_box = bool(labels.keys() & _BOX_LABELS)
    # A bill may well go to a PO box; only the service address must be where the line is.
    if is_box and prefix == "service_address":
        form.add(
            f"{prefix}.street",
            "po_box",
            "A PO box is not where the line is: carriers want the service address "
            "(the street address of the phone line).",
        )
    number_path = f"{prefix}.street_number"
    if street_number is None and not is_box and not form.given(number_path):
        in_street = _street_labels(street or "").get("AddressNumber")
        if in_street:
            form.add(
                f"{prefix}.street_number",
                "street_number_in_street",
                f"Enter the street number ({in_street}) in its own box, not with the street.",
            )
        else:
            form.add(
                f"{prefix}.street_number",
                "required",
                "Enter the street number: carriers match the address where the line is.",
            )
    elif street_number is not None and not any(c.isdigit() for c in street_number):
        form.add(
            f"{prefix}.street_number",
            "street_number_invalid",
            f"Enter the street number in digits (like 1200), not {street_number!r}.",
        )

    state = _check_state(form, prefix, state)
    _check_zip(form, prefix, zip_code, state)


def _street_labels(line):
    # Label -> the words it covers; usaddress.parse never raises, unlike usaddress.tag.
    labels = {}
    for token, name in usaddress.parse(line) if line else ():
        labels[name] = f"{labels[name]} {token}" if name in labels else token
    return labels


def _check_state(form, prefix, state):
    if state is None:
        return None
    code = state.upper()
    if code in US_STATES:
        return code
    if code in CANADIAN_PROVINCES:
        message = (
            f"{state} is in Canada: Canadian numbers port by a ticket with Carrier Relations, "
            "not here."
        )
    else:
        message = "Enter a US state, DC or territory as its two-letter code, like OH or PR."
    form.add(f"{prefix}.state", "state_invalid", message)
    return None


def load_zip_list():
    """Read the USPS list now (about half a second) rather than on the first address checked:
    wsgi.py calls it in gunicorn's master, so every worker shares it and no owner waits for it."""
    zipcodes.matching("00501")


def _check_zip(form, prefix, zip_code, state):
    if zip_code is None:
        return
    path = f"{prefix}.zip"
    match = _ZIP.fullmatch(zip_code)
    if not match:
        form.add(path, "zip_malformed", "Enter a 5-digit ZIP code (43201) or a ZIP+4 (43201-1234).")
        return
    five = match.group(1)
    places = zipcodes.matching(five)
    if not places:
        form.add(path, "zip_unknown", f"ZIP {five} does not exist: check it against the bill.")
        return
    zip_state = places[0]["state"]
    if state is not None and zip_state != state:
        form.add(path, "zip_state_mismatch", f"ZIP {five} is in {zip_state}, not {state}.")
