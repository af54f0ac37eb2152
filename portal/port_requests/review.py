"""A stored request read whole: fields, numbers and their portability, problems, step states.

The request's pages and the API both read a request through `review`, so what the owner sees on
a step, the check on it, and the API's `steps` and `problems` can never disagree. No Flask: the
caller passes the date and the lead-time setting.

The current bill is read against the request here, on every read: a new bill or a changed field
is compared again without anyone asking. A warning the owner confirmed (the same field, code and
words) leaves `problems` for `confirmed`; once it says something else, it is back.
"""

from dataclasses import dataclass, field

from peewee import JOIN

from portal import documents
from portal.models import (
    ReceivingReroute,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    WarningConfirmation,
)
from portal.port_requests import agreements, bill, loa
from portal.port_requests.fields import NUMBER_FIELDS, fold
from portal.port_requests.rules import problems, step_of
from portal.portability import check_portability, numbered
from signing import SigningEnvelope

# Every step of the wizard, in order, with its title. The bill comes before the LOA: fixing a
# field the bill disagrees with would void a signed LOA.
STEP_TITLES = {
    "general": "General",
    "details": "Details",
    "numbers": "Numbers and configuration",
    "agreements": "Agreements",
    "bill": "Proof of ownership",
    "loa": "Letter of Authorization",
    "submit": "Submit",
}
COMPLETE, INCOMPLETE = "complete", "incomplete"


@dataclass
class Review:
    """What a request holds and what stands between it and a carrier."""

    port_request: object
    fields: dict
    rows: list  # PortNumber rows, in order
    checked: list  # portability Results, one per row
    problems: list  # every problem but the warnings the owner confirmed
    steps: dict  # step -> COMPLETE or INCOMPLETE, in STEP_TITLES order
    inventory: dict = field(repr=False)
    reroutes: list = field(default_factory=list)  # ReceivingReroute rows
    bill: object = None  # the current bill (a Document without its bytes), or None
    bill_problems: list = field(default_factory=list)  # the bill's, in `problems` too
    confirmed: list = field(default_factory=list)  # (Problem, WarningConfirmation)
    loa: object = None  # the current signed LOA (a Document without its bytes), or None
    loa_digest: str = ""  # the digest of the LOA's data as the request stands
    envelope: object = None  # the newest signing envelope of the request's LOA, or None
    loa_problems: list = field(default_factory=list)  # the LOA's, in `problems` too

    @property
    def submittable(self):
        """Say whether the request may be submitted: a draft, its agreements accepted, no
        problem left open."""
        return (
            self.port_request.status == "draft"
            and self.steps["agreements"] == COMPLETE
            and not self.problems
        )

    @property
    def as_request(self):
        """Return the request as the JSON shape (the fields and the number rows)."""
        return {**self.fields, "numbers": _number_dicts(self.rows)}

    def problems_of(self, step):
        return [problem for problem in self.problems if step_of(problem.field) == step]

    def first_incomplete(self):
        """Return the first step to work on: the first not complete, else Submit."""
        return next((step for step, state in self.steps.items() if state == INCOMPLETE), "submit")


def review(port_request, *, today, lead_business_days):
    """Read the request, check its numbers and return its Review (a fixed number of queries)."""
    account = port_request.account
    fields = port_request.fields
    rows = port_request.numbers()
    texts = [row.phone_number if isinstance(row.phone_number, str) else "" for row in rows]
    checked = check_portability(numbered(texts), account, port_request_id=port_request.id)
    inventory = inventory_of(account)
    reroutes = list(
        ReceivingReroute.select()
        .where(ReceivingReroute.port_request == port_request)
        .order_by(ReceivingReroute.receiving_number, ReceivingReroute.tracking_number)
    )
    kept = receiving_kept(account, reroutes, inventory["routing_ids"])
    found = problems(
        {**fields, "numbers": _number_dicts(rows)},
        today=today,
        lead_business_days=lead_business_days,
        checked=checked,
        receiving_kept=kept,
        **inventory,
    )
    current_bill = documents.current(port_request, "bill")
    from_bill = bill.bill_problems(current_bill, fields, today=today)
    loa_data = loa.loa_data(fields, rows, request_id=port_request.id, account_name=account.name)
    loa_digest = loa.digest(loa_data)
    signed_loa = documents.current(port_request, "signed_loa")
    envelope = SigningEnvelope.latest(loa.reference(port_request.id))
    from_loa = loa.loa_problems(signed_loa, envelope, loa_digest, today=today)
    confirmations = _confirmations(port_request)
    everything = found + from_bill + from_loa
    confirmed = [(p, confirmations[_key(p)]) for p in everything if _key(p) in confirmations]
    found = [p for p in everything if _key(p) not in confirmations]
    blocked = {step_of(problem.field) for problem in found if problem.severity == "error"}
    accepted = agreements.all_accepted(agreements.accepted(port_request))
    steps = {}
    for step in STEP_TITLES:
        if step == "submit":
            steps[step] = INCOMPLETE if port_request.status == "draft" else COMPLETE
        elif step == "agreements":
            steps[step] = COMPLETE if accepted else INCOMPLETE
        else:
            steps[step] = INCOMPLETE if step in blocked else COMPLETE
    return Review(
        port_request,
        fields,
        rows,
        checked,
        found,
        steps,
        inventory,
        reroutes,
        bill=current_bill,
        bill_problems=[problem for problem in from_bill if _key(problem) not in confirmations],
        confirmed=confirmed,
        loa=signed_loa,
        loa_digest=loa_digest,
        envelope=envelope,
        loa_problems=[problem for problem in from_loa if _key(problem) not in confirmations],
    )


def _confirmations(port_request):
    """Return {a warning's `_key`: the owner's confirmation of it} for the request (one query)."""
    rows = (
        WarningConfirmation.select()
        .where(WarningConfirmation.port_request == port_request)
        .order_by(WarningConfirmation.confirmed_at, WarningConfirmation.id)
    )
    confirmations = {}
    for row in rows:
        confirmations.setdefault(("warning", row.field, row.code, row.message), row)
    return confirmations


def _key(problem):
    """Return what a confirmation is matched on: only a warning can be confirmed."""
    return (problem.severity, problem.field, problem.code, problem.message)


def inventory_of(account):
    """Return the account's routing and source ids, and {folded name: id} of each (2 queries)."""
    routing = RoutingTarget.select(RoutingTarget.id, RoutingTarget.name).where(
        RoutingTarget.account == account
    )
    sources = TrackingSource.select(TrackingSource.id, TrackingSource.name).where(
        TrackingSource.account == account
    )
    routing, sources = list(routing.tuples()), list(sources.tuples())
    return {
        "routing_ids": {id_ for id_, _ in routing},
        "tracking_source_ids": {id_ for id_, _ in sources},
        "routing_names": {fold(name): id_ for id_, name in routing},
        "source_names": {fold(name): id_ for id_, name in sources},
    }


def ringing(account, receiving_numbers):
    """Return {receiving number: [tracking numbers that ring it]} for the account (one query)."""
    found = {number: [] for number in receiving_numbers}
    if not found:
        return found
    rows = (
        TrackingNumber.select(TrackingNumber.number, RoutingTarget.number)
        .join(RoutingTarget, JOIN.INNER, on=TrackingNumber.routing_target == RoutingTarget.id)
        .where((TrackingNumber.account == account) & (RoutingTarget.number.in_(list(found))))
        .order_by(TrackingNumber.number)
        .tuples()
    )
    for tracking, receiving in rows:
        found[receiving].append(tracking)
    return found


def receiving_kept(account, reroutes, routing_ids):
    """Return {receiving number kept: whether every tracking number ringing it has a new routing}.

    A new routing must be one of the account's and must not ring the receiving number itself.
    """
    chosen = {}
    for row in reroutes:
        chosen.setdefault(row.receiving_number, {})
        if row.tracking_number is not None:
            chosen[row.receiving_number][row.tracking_number] = row.routing_id
    if not chosen:
        return {}
    rings = ringing(account, chosen)
    targets = _targets_ringing(account, chosen)
    return {
        receiving: all(
            chosen[receiving].get(tracking) in routing_ids
            and chosen[receiving].get(tracking) not in targets.get(receiving, ())
            for tracking in rings[receiving]
        )
        for receiving in chosen
    }


def _targets_ringing(account, receiving_numbers):
    rows = (
        RoutingTarget.select(RoutingTarget.number, RoutingTarget.id)
        .where(
            (RoutingTarget.account == account) & (RoutingTarget.number.in_(list(receiving_numbers)))
        )
        .tuples()
    )
    targets = {}
    for number, id_ in rows:
        targets.setdefault(number, set()).add(id_)
    return targets


def _number_dicts(rows):
    return [{name: getattr(row, name) for name in NUMBER_FIELDS} for row in rows]
