"""The carrier exception codes staff pick when a carrier rejects a port, and what each lets the
owner correct (no Flask).

A code maps to the request's field paths (the same paths as the wizard, the problems and the
API), plus "numbers" (the owner may take numbers out of the request) and "bill" (the owner may
upload a newer bill as proof). The fix page shows those and nothing else; its save refuses any
other path. A code with no fields (the carrier did not answer, a rejected date the owner cannot
change) asks the owner to read staff's note, reply in the comments and resubmit.
"""

from typing import NamedTuple


class CarrierCode(NamedTuple):
    label: str  # what staff pick from
    explanation: str  # one sentence for the owner
    fields: tuple  # the paths the owner may change


_ADDRESS = tuple(
    f"service_address.{name}"
    for name in ("street_number", "street", "unit", "city", "state", "zip")
)

CODES = {
    "ACCOUNT_NUMBER_MISMATCH": CarrierCode(
        "Account number does not match",
        "The account number differs from the carrier's records.",
        ("billing.account_number", "bill"),
    ),
    "AUTH_PERSON_MISMATCH": CarrierCode(
        "Authorized person does not match",
        "The authorized representative is not the person the carrier has on the account.",
        ("authorized.name", "authorized.title", "authorized.email", "authorized.phone"),
    ),
    "BTN_ATN_MISMATCH": CarrierCode(
        "Billing telephone number does not match",
        "The billing telephone number (BTN) differs from the carrier's records.",
        ("billing.btn", "bill"),
    ),
    "ENTITY_NAME_MISMATCH": CarrierCode(
        "Customer name does not match",
        "The customer name is not written as the carrier has it.",
        ("billing.customer_name", "billing.customer_type", "bill"),
    ),
    "LOCATION_MISMATCH": CarrierCode(
        "Service address does not match",
        "The service address differs from the carrier's records.",
        _ADDRESS + ("bill",),
    ),
    "POSTAL_CODE_MISMATCH": CarrierCode(
        "ZIP code does not match",
        "The service address's ZIP code differs from the carrier's records.",
        ("service_address.city", "service_address.state", "service_address.zip", "bill"),
    ),
    "PASSCODE_PIN_INVALID": CarrierCode(
        "PIN or passcode is wrong",
        "The account PIN or passcode is missing or wrong.",
        ("billing.pin",),
    ),
    "PHONE_NUMBER_MISMATCH": CarrierCode(
        "A number is not on the account",
        "The carrier does not have some of the numbers on this account.",
        ("numbers", "billing.account_number", "bill"),
    ),
    "PHONE_NUMBER_NOT_PORTABLE": CarrierCode(
        "A number cannot be ported",
        "The carrier says some of the numbers cannot be ported.",
        ("numbers",),
    ),
    "PHONE_NUMBER_HAS_SPECIAL_FEATURE": CarrierCode(
        "A number has a feature that blocks the port",
        "A number has a feature (DSL, a hunt group, a pending order) to remove first.",
        ("numbers",),
    ),
    "MAIN_BTN_PORTING": CarrierCode(
        "The main BTN is porting",
        "The account's main number is porting while others stay: the carrier needs a new BTN.",
        (
            "billing.btn",
            "partial_port.other_numbers_remain",
            "partial_port.remaining_numbers",
            "partial_port.new_btn",
        ),
    ),
    "PORT_TYPE_INCORRECT": CarrierCode(
        "Wrong port type",
        "The service or customer type differs from the carrier's records.",
        ("billing.service_type", "billing.customer_type"),
    ),
    "FOC_REJECTED": CarrierCode(
        "Requested date refused",
        "The carrier cannot move the numbers on the date asked for.",
        ("requested_date",),
    ),
    "OSP_IRRESPONSIVE": CarrierCode(
        "The losing carrier does not answer",
        "The losing carrier has not answered; it often helps when you call them too.",
        (),
    ),
    "OTHER": CarrierCode("Other (explain in the note)", "See the note from Carrier Relations.", ()),
}


def fields_for(codes):
    """Return the paths the codes let the owner change, in the form's order, each once."""
    seen = []
    for code in codes:
        for path in CODES[code].fields if code in CODES else ():
            if path not in seen:
                seen.append(path)
    return seen


def unknown(codes):
    """Return the codes that are not in the table (a crafted form)."""
    return [code for code in codes if code not in CODES]
