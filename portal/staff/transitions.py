"""Which move takes a port request from which status to which, and who may make it (no Flask).

Every change of a request's status goes through this table: staff's moves on the console, the
owner's resubmit after a correction and their cancel. A move is made with a conditional UPDATE
on the status the page showed (`PortRequest.status == shown`), so of two people acting on one
request at once, one wins and the other is told where the request stands now.
"""

from typing import NamedTuple

from portal.port_requests.statuses import describe


class Move(NamedTuple):
    label: str  # the button's words
    to: str
    sources: tuple  # the statuses it may start from
    by: str  # "staff" or "owner"


MOVES = {
    "start_review": Move("Start review", "in_review", ("submitted",), "staff"),
    "require_action": Move(
        "Ask the owner for a correction",
        "action_required",
        ("submitted", "in_review", "foc_scheduled"),
        "staff",
    ),
    # Again from foc_scheduled: the carrier moved the date.
    "schedule_foc": Move(
        "Set the FOC date", "foc_scheduled", ("in_review", "foc_scheduled"), "staff"
    ),
    "complete": Move("Complete the port", "completed", ("foc_scheduled",), "staff"),
    "reject": Move(
        "Reject the request",
        "rejected",
        ("submitted", "in_review", "action_required", "foc_scheduled"),
        "staff",
    ),
    "resubmit": Move("Resubmit", "in_review", ("action_required",), "owner"),
    "cancel": Move(
        "Cancel the request", "cancelled", ("submitted", "in_review", "action_required"), "owner"
    ),
}
# A number may be rejected on its own while its request is still being worked.
NUMBER_REJECTABLE = ("submitted", "in_review", "action_required", "foc_scheduled")
# Statuses whose numbers stay claimed (a request in one of these holds its numbers).
CLAIMING = ("submitted", "in_review", "action_required", "foc_scheduled", "completed")


class TransitionRefused(Exception):
    """The move is not allowed from the request's status (or the status changed meanwhile)."""

    def __init__(self, move, status, message=None):
        self.move = move
        self.status = status
        self.message = message or refusal(move, status)
        super().__init__(self.message)


def allowed(move, status):
    """Say whether `move` may start from `status`."""
    return status in MOVES[move].sources


def moves_from(status, by="staff"):
    """Return the names of the moves that `by` may make from `status`, in the table's order."""
    return [name for name, move in MOVES.items() if move.by == by and status in move.sources]


def check(move, status):
    """Raise TransitionRefused unless `move` may start from `status`."""
    if not allowed(move, status):
        raise TransitionRefused(move, status)


def refusal(move, status):
    """Return why `move` cannot start from `status`, in words for the person who tried."""
    now = describe(status).label.lower()
    sources = MOVES[move].sources
    words = [describe(source).label.lower() for source in sources]
    need = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return (
        f"“{MOVES[move].label}” is not possible: the request is {now} now, and this can only be "
        f"done while it is {need}. Nothing was changed."
    )
