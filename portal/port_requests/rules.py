"""The rules that stop rejections: every problem a carrier would reject, named on its field.

No Flask and no database: plain values in, problems out, so the wizard's pages, its step checks and
the API all ask the same function.

    problems(request, *, today, lead_business_days=7, routing_ids=frozenset(),
             tracking_source_ids=frozenset(), routing_names=None, source_names=None,
             checked=None) -> list[Problem]

- `request` is the JSON shape of docs/domain.md ("A port request"), as a dict. Every key is
  optional while a draft; null or absent means not given. Anything else (a number where text
  belongs, a list where an object belongs, a megabyte of text, a NUL) is a problem on that field,
  never an exception.
- `today` is the date the requested date is measured from; `lead_business_days` is the setting
  PORT_LEAD_BUSINESS_DAYS.
- `routing_ids` and `tracking_source_ids` are the account's ids; `routing_names` and
  `source_names` ({folded name: id}, see `fields.fold`) let a name typed where an id belongs be
  answered with the id.
- `checked` is the list of `portal.portability.Result`s of `request["numbers"]`, in order (from
  `check_portability`): a refused number is a problem with the portability reason as its code.
  Without it only what the number itself says is checked (invalid, toll-free), not the inventory.
  A `checked` of another length than the numbers is the caller's mistake: ValueError.
- `receiving_kept` ({E.164: re-route complete}) names the active receiving numbers the owner
  keeps in the request: one whose every tracking number has a new routing counts as portable,
  one still missing a routing is a `reroute_required` problem instead of its refusal.
- A `request` that is not a dict at all gives one problem on the field "" (the whole request).

Each `Problem(field, code, severity, message)` names a path (`billing.account_number`,
`service_address.zip`, `numbers[3]`, `numbers[3].routing_id`); `error` blocks the step's check
and submit, `warning` needs the owner's confirmation. Problems come in the form's order, then the
numbers in order.

A complete request has: `friendly_name`; the contact's name, email and phone; the billing carrier,
service type, customer type, customer name, account number and BTN (the PIN only for wireless
service); the service address's street number, street, city, state and ZIP (the unit is optional),
and the same of the billing address when it is not null ("same as service"); the representative's
name, email, phone, and title for a business; whether other numbers remain on the account and, if
they do, whether they are kept or disconnected; at least one number, each with a routing target and
a tracking source. The requested date is optional (null: the earliest available).

Phone fields (contact, representative, BTN, new BTN) must be US numbers, the territories that share
+1 included (docs/domain.md): only US numbers port here, so a Canadian BTN is refused like a
Canadian number, and the people who sign and answer for a US port are reached on US numbers.
"""

from portal.models import looks_like_email
from portal.numbers import classify
from portal.port_requests.addresses import check_address
from portal.port_requests.dates import check_requested_date
from portal.port_requests.fields import Form, Problem, fold, label, rank
from portal.portability import MAX_ENTRIES, US_REGIONS

__all__ = ["Problem", "STEPS", "problems", "step_of", "step_problems"]

# The wizard's steps and the top-level fields each one asks for.
STEPS = {
    "general": ("friendly_name",),
    "details": (
        "contact",
        "billing",
        "service_address",
        "billing_address",
        "authorized",
        "partial_port",
        "requested_date",
    ),
    "numbers": ("numbers",),
    # The bill is a document, not a field the rules read: its problems (`bill`,
    # `bill.statement_date`) come from `bill.bill_problems`, named on this step's paths.
    "bill": ("bill",),
    # The LOA too: its problems (`loa`) come from `loa.loa_problems`.
    "loa": ("loa",),
}
_STEP_OF = {field: step for step, fields in STEPS.items() for field in fields}

SERVICE_TYPES = ("landline", "voip", "wireless")
CUSTOMER_TYPES = ("business", "residential")
REMAINING = ("keep", "disconnect")
MAX_EMAIL = 254


def step_of(field):
    """Return the wizard step ("general", "details", "numbers", "bill") a field path belongs to."""
    top = field.split(".")[0].split("[")[0]
    return _STEP_OF.get(top, "details")


def step_problems(request, step, **options):
    """Return the problems of one wizard step (same options as `problems`)."""
    return [p for p in problems(request, **options) if step_of(p.field) == step]


def problems(
    request,
    *,
    today,
    lead_business_days=7,
    routing_ids=frozenset(),
    tracking_source_ids=frozenset(),
    routing_names=None,
    source_names=None,
    checked=None,
    receiving_kept=None,
):
    """Return the request's problems, in the form's order, then the numbers in order."""
    if not isinstance(request, dict):
        return [Problem("", "wrong_type", "error", "Send the port request as an object of fields.")]
    form = Form(request)
    form.text("friendly_name")
    for name in ("contact", "billing", "service_address", "authorized", "partial_port"):
        form.section(name)
    billing_address = form.section("billing_address")

    form.text("contact.name")
    _email(form, "contact.email")
    _us_phone(form, "contact.phone")

    service_type, btn = _billing(form)
    check_address(form, "service_address")
    if billing_address is not None:
        check_address(form, "billing_address")

    form.text("authorized.name")
    customer_type = form.get("billing.customer_type")
    is_business = isinstance(customer_type, str) and customer_type.strip().lower() == "business"
    form.text("authorized.title", required=is_business)
    _email(form, "authorized.email")
    _us_phone(form, "authorized.phone")

    numbers = _numbers(
        form,
        checked,
        routing_ids,
        tracking_source_ids,
        routing_names or {},
        source_names or {},
        receiving_kept or {},
    )
    _pin(form, service_type, numbers)
    _partial_port(form, btn, numbers)
    check_requested_date(form, today=today, lead_business_days=lead_business_days)
    return sorted(form.found, key=lambda problem: rank(problem.field))


def _email(form, path):
    email = form.text(path, limit=MAX_EMAIL)
    if email is not None and not looks_like_email(email):
        form.add(
            path,
            "email_invalid",
            f"Enter {label(path)} as a full address, like name@example.com.",
        )


def _us_phone(form, path, *, required=True):
    """Return the field's number in E.164 if it is a US one, else None (a problem if given)."""
    text = form.text(path, required=required, limit=64)
    if text is None:
        return None
    verdict = classify(text)
    if verdict.problem is not None:
        form.add(path, "phone_invalid", f"Check {label(path)}: {verdict.problem}")
        return None
    if verdict.region not in US_REGIONS:
        where = "Canadian" if verdict.region == "CA" else "not a US number"
        form.add(
            path,
            "phone_not_us",
            f"Enter a US number for {label(path)}: this one is {where}.",
        )
        return None
    return verdict.e164


def _billing(form):
    form.text("billing.carrier")
    service_type = form.choice("billing.service_type", SERVICE_TYPES)
    form.choice("billing.customer_type", CUSTOMER_TYPES)
    form.text("billing.customer_name")
    form.text("billing.account_number")
    form.text("billing.pin", required=False)
    return service_type, _us_phone(form, "billing.btn")


def _pin(form, service_type, numbers):
    if form.given("billing.pin") or "billing" in form.broken:
        return
    if service_type == "wireless":
        form.add(
            "billing.pin",
            "pin_required",
            "Enter the account PIN: carriers refuse a wireless port without it.",
        )
    elif any(number_type == "mobile" for _, number_type in numbers):
        form.add(
            "billing.pin",
            "pin_for_mobile",
            "Some numbers are mobile: the carrier will ask for the account PIN. Enter it, or "
            "confirm the account has none.",
            severity="warning",
        )


def _partial_port(form, btn, numbers):
    remain = form.get("partial_port.other_numbers_remain")
    path = "partial_port.other_numbers_remain"
    if remain is None and "partial_port" not in form.broken:
        form.add(
            path,
            "required",
            "Say whether other numbers on this carrier account stay there after the port.",
        )
    elif remain is not None and not isinstance(remain, bool):
        form.add(path, "wrong_type", "Answer whether other numbers stay with true or false.")
        remain = None
    if remain:
        form.choice("partial_port.remaining_numbers", REMAINING)
    ported = {e164 for e164, _ in numbers}
    new_btn = _us_phone(form, "partial_port.new_btn", required=False)
    if remain and btn in ported and new_btn is None and not form.given("partial_port.new_btn"):
        form.add(
            "partial_port.new_btn",
            "new_btn_required",
            "The BTN is among the numbers you port and other numbers stay: enter the new BTN the "
            "carrier should bill them under.",
        )
    if new_btn is not None and new_btn in ported:
        form.add(
            "partial_port.new_btn",
            "new_btn_ported",
            "The new BTN must stay with the carrier: pick a number you are not porting.",
        )


def _numbers(form, checked, routing_ids, source_ids, routing_names, source_names, kept):
    """Check the numbers and their configuration; return (E.164, type) of the usable ones."""
    numbers = form.get("numbers")
    if numbers is None or numbers == []:
        form.add("numbers", "required", "Add at least one number to port.")
        return []
    if not isinstance(numbers, list):
        form.add("numbers", "wrong_type", "Send the numbers as a list.")
        return []
    if len(numbers) > MAX_ENTRIES:
        form.add("numbers", "too_many", f"Port at most {MAX_ENTRIES:,} numbers in one request.")
        return []
    if checked is not None and len(checked) != len(numbers):
        raise ValueError("checked must hold one portability result per number, in order")
    usable = []
    for index, row in enumerate(numbers):
        path = f"numbers[{index}]"
        if not isinstance(row, dict):
            form.add(path, "wrong_type", "Send each number as an object with its phone_number.")
            continue
        result = checked[index] if checked is not None else None
        found = _number(form, path, row, result, kept)
        if found is not None:
            usable.append((index, *found))
        _id(form, f"{path}.routing_id", row, routing_ids, routing_names, "routing target")
        _id(form, f"{path}.tracking_source_id", row, source_ids, source_names, "tracking source")
        form.clean(
            f"{path}.friendly_name", row.get("friendly_name"), required=False, what="the name"
        )
    _toll_free(form, usable)
    return [(e164, number_type) for _, e164, number_type in usable]


def _number(form, path, row, result, kept):
    # The number is the row: its problems are the row's (numbers[i]), as a refusal is.
    text = form.clean(path, row.get("phone_number"), limit=64, what="the phone number")
    if text is None:
        return None
    if result is not None:
        if result.reason == "receiving_number" and result.e164 in kept:
            if kept[result.e164]:
                return result.e164, result.number_type
            form.add(
                path,
                "reroute_required",
                "Choose a new routing for every tracking number that rings this receiving "
                "number, or remove it from the request.",
            )
            return None
        if not result.portable:
            form.add(path, result.reason, result.message)
            return None
        return result.e164, result.number_type
    verdict = classify(text)
    if verdict.problem is not None:
        form.add(path, "invalid_number", verdict.problem)
        return None
    return verdict.e164, verdict.number_type


def _id(form, path, row, ids, names, kind):
    key = path.rsplit(".", 1)[1]
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        form.add(path, "required", f"Choose the {kind} for this number.")
        return
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | str):
        form.add(path, "wrong_type", f"Enter the {kind} ID as a whole number.")
        return
    if isinstance(value, str):
        known = names.get(fold(value)) if len(value) <= 1000 else None
        if known is not None:
            message = f"Use the {kind} ID ({known}), not its name."
            form.add(path, "name_not_id", message)
        else:
            form.add(path, "wrong_type", f"Enter the {kind} ID as a whole number, like 402.")
        return
    if value not in ids:
        form.add(
            path,
            f"unknown_{key}",
            f"{value} is not one of this account's {kind} IDs: choose one of its {kind}s.",
        )


def _toll_free(form, usable):
    toll_free = [index for index, _, number_type in usable if number_type == "toll_free"]
    if toll_free and len(toll_free) < len(usable):
        for index in toll_free:
            form.add(
                f"numbers[{index}]",
                "toll_free_mixed",
                "Toll-free numbers move by a RespOrg change, not an ordinary port: put them in a "
                "request of their own.",
            )
