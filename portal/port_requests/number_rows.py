"""A draft's numbers as the Numbers and configuration step shows them, and reads them back.

No Flask: a NumberRow per number (its stored row, its portability, the problems on its row), the
account's routing targets and tracking sources for the selects, and the rows a form sends back.
Positions are the field paths' own: `numbers[3]` is the fourth number, `numbers[3].routing_id`
its routing target.
"""

import json
import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from portal.models import PortNumber, RoutingTarget, TrackingSource
from portal.models.requests import MAX_FIELD_TEXT
from portal.numbers import display

CONFIGURED = ("routing_id", "tracking_source_id", "friendly_name")
# A number row's field as a form sends it: numbers[3].routing_id (at most 20,000 rows), and
# numbers[3].shown, the row's configuration as the page showed it (see `left_as_shown`).
POSTED_FIELD = re.compile(
    r"numbers\[(\d{1,5})\]\.(phone_number|routing_id|tracking_source_id|friendly_name|shown)"
)
LINE_BREAK = re.compile(r"\r\n|\r")
_PROBLEM_PATH = re.compile(r"numbers\[(\d+)\](?:\.(\w+))?")


@dataclass
class NumberRow:
    """One number of the request: its stored row, its portability and the problems on its row."""

    index: int
    row: PortNumber
    result: object = None  # its portability Result (None when only the stored row was read)
    problems: dict = field(default_factory=dict)  # "" (the number) or a column -> [Problem]
    kept: bool = False  # an active receiving number the owner keeps by re-routing it

    @property
    def path(self):
        return f"numbers[{self.index}]"

    @property
    def shown(self):
        """Return the number as people read it, or as it was entered when it is no number."""
        return display(self.row.e164) if self.row.e164 else (self.row.phone_number or "")

    @property
    def refused(self):
        return not self.result.portable and not self.kept

    @property
    def ready(self):
        """Say whether the number counts as portable (a kept receiving number once re-routed)."""
        if self.kept:
            return not any(p.code == "reroute_required" for p in self.errors())
        return self.result.portable

    def errors(self, column=""):
        return self.problems.get(column, [])


def rows_of(found):
    """Return a NumberRow per number of the Review, in order."""
    by_row = {}
    for problem in found.problems:
        match = _PROBLEM_PATH.fullmatch(problem.field)
        if match:
            index, column = int(match[1]), match[2] or ""
            by_row.setdefault(index, {}).setdefault(column, []).append(problem)
    kept = {reroute.receiving_number for reroute in found.reroutes}
    return [
        NumberRow(
            index,
            row,
            result,
            by_row.get(index, {}),
            kept=result.reason == "receiving_number" and result.e164 in kept,
        )
        for index, (row, result) in enumerate(zip(found.rows, found.checked, strict=True))
    ]


def stored_rows(port_request):
    """Return a NumberRow per stored number, without their portability (one query)."""
    return [NumberRow(index, row) for index, row in enumerate(port_request.numbers())]


def routing_targets(account):
    """Return the account's routing targets, by name (one query)."""
    return list(
        RoutingTarget.select(RoutingTarget.id, RoutingTarget.name, RoutingTarget.number)
        .where(RoutingTarget.account == account)
        .order_by(RoutingTarget.name, RoutingTarget.id)
    )


def tracking_sources(account):
    """Return the account's tracking sources, by name (one query)."""
    return list(
        TrackingSource.select(TrackingSource.id, TrackingSource.name)
        .where(TrackingSource.account == account)
        .order_by(TrackingSource.name, TrackingSource.id)
    )


class Options:
    """The <option>s of a select of ids, built once and marked per row: a page shows hundreds."""

    def __init__(self, choices, empty):
        self.names = {choice.id: choice.name for choice in choices}
        self.html = f'<option value="">{escape(empty)}</option>' + "".join(
            f'<option value="{choice.id}">{escape(choice.name)} ({choice.id})</option>'
            for choice in choices
        )

    def __call__(self, selected):
        if selected is None:
            return Markup(self.html)
        if selected in self.names:
            mark = f'value="{selected}"'
            return Markup(self.html.replace(mark, f"{mark} selected", 1))
        # An id the account no longer has (an inventory import removed it): shown, not hidden.
        value = escape(selected)
        unknown = f'<option value="{value}" selected>{value} (not in this account)</option>'
        return Markup(unknown + self.html)


def posted_rows(form):
    """Return {position: {column: text}} of the number rows a form sent."""
    rows = {}
    for key, value in form.items():
        match = POSTED_FIELD.fullmatch(key)
        if match:
            rows.setdefault(int(match[1]), {})[match[2]] = value
    return rows


def read_id(text, ids, stored, noun):
    """Return (the id to store, None) for a posted select, or (stored, why it was refused)."""
    text = (text or "").strip()
    if not text:
        return None, None
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None
    if value is not None and (value in ids or value == stored):
        return value, None
    shown = text if len(text) <= 20 else text[:17] + "..."
    return stored, f"{noun} {shown} is not one of this account's"


def read_name(text, stored):
    """Return (the friendly name to store, None), or (stored, why it was refused)."""
    text = (text or "").replace("\x00", "").strip()
    if len(text) > MAX_FIELD_TEXT:
        return stored, f"the name is over {MAX_FIELD_TEXT:,} characters"
    return text or None, None


def same_number(posted, row):
    """Say whether a posted row's number is the one stored at its position (the page is not
    out of date). A browser sends a line break in a field back as CR LF, whatever it held."""
    stored = LINE_BREAK.sub("\n", row.phone_number or "")
    return posted is not None and LINE_BREAK.sub("\n", posted) == stored


def shown_values(row):
    """Return a row's configuration as its page shows it, for the form to send back."""
    return json.dumps([getattr(row, column) for column in CONFIGURED])


def left_as_shown(values, column):
    """Say whether the posted row left this column as its page showed it.

    Such a column keeps what is stored now, which another tab may have changed since. A row
    that does not say what it showed counts as changed.
    """
    try:
        shown = json.loads(values.get("shown") or "null")
    except ValueError:
        return False
    if not isinstance(shown, list) or len(shown) != len(CONFIGURED):
        return False
    was = shown[CONFIGURED.index(column)]
    was = "" if was is None else str(was)
    return (values.get(column) or "").strip() == was.strip()
