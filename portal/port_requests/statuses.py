"""What each status of a port request is called, and the one sentence its owner reads about it.

The sentences are docs/domain.md's ("Its statuses"): what the status means and what happens next.
No Flask: the pages, and later the emails and the staff console, say the same words.
"""

from typing import NamedTuple


class Status(NamedTuple):
    label: str
    sentence: str


DESCRIPTIONS = {
    "draft": Status("Draft", "Not sent yet: finish the steps and submit when ready."),
    "submitted": Status(
        "Submitted", "Sent to Carrier Relations, who check it before it goes to the carrier."
    ),
    "in_review": Status(
        "In review", "With the losing carrier; staff will tell you the date or what to correct."
    ),
    "action_required": Status(
        "Action required", "Something must be corrected: fix the fields shown and resubmit."
    ),
    "foc_scheduled": Status(
        "Date confirmed", "The carrier confirmed the date (FOC); the numbers move that day."
    ),
    "completed": Status("Completed", "The numbers are on the platform and ring where you chose."),
    "rejected": Status(
        "Rejected", "Refused for good, with the reason; the numbers are free for a new request."
    ),
    "cancelled": Status("Cancelled", "Cancelled by the owner before the FOC date; nothing moves."),
}


def describe(status):
    """Return the status's label and sentence."""
    return DESCRIPTIONS[status]
