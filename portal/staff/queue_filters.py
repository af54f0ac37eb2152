"""The queue's filter form (a GET form: the URL holds the filters) and what it reads as Filters.

A filter that cannot be read is left out with a message saying why, and the others still apply:
a shared link with one stale value still shows a queue.
"""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from portal.port_requests.blueprint import MAX_ID
from portal.port_requests.fields import invisible_character
from portal.staff.queue_details import status_label
from portal.staff.queue_rows import OPEN, SHOWN, SORTS, Filters, read_search

SEARCH_MAX_CHARS = 200
SORT_LABELS = {
    "waiting": "Time in status",
    "name": "Request",
    "account": "Account",
    "status": "Status",
    "numbers": "Numbers",
    "submitted": "Submitted",
    "requested": "Requested date",
    "foc": "FOC date",
}
# A column's first click: the longest wait first, everything else from A (or the smallest).
FIRST_DIRECTION = {"waiting": "desc"}


class QueueFilters(FlaskForm):
    class Meta:
        csrf = False  # a GET form changes nothing

    q = SearchField("Number or name")
    status = SelectMultipleField(
        "Status",
        choices=[SelectChoice(status, status_label(status)) for status in SHOWN],
        validate_choice=False,  # an unknown status gets words of its own, below
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    account = StringField("Account ID", render_kw={"inputmode": "numeric"})
    foc_from = StringField("FOC date from", widget=DateInput())
    foc_to = StringField("FOC date to", widget=DateInput())
    # The column headers sort too, but a phone shows each row as a card, without them.
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(column, label) for column, label in SORT_LABELS.items()],
        validate_choice=False,  # an unknown sort is the default one
    )
    dir = SelectField(
        "Order",
        choices=[
            SelectChoice("asc", "Ascending"),
            SelectChoice("desc", "Descending"),
        ],
        validate_choice=False,
    )

    def validate_q(self, field):
        if len(field.data or "") > SEARCH_MAX_CHARS:
            raise ValidationError(
                f"Search for at most {SEARCH_MAX_CHARS} characters: a number or part of a name."
            )
        if hidden := invisible_character((field.data or "").strip()):
            raise ValidationError(
                f"The search holds {hidden}, which no name or number has: type it again."
            )

    def validate_status(self, field):
        unknown = [status for status in field.data if status not in SHOWN]
        field.data = [status for status in field.data if status in SHOWN]
        if unknown:
            names = ", ".join(f"“{status}”" for status in unknown)
            raise ValidationError(f"There is no status {names}: tick the statuses listed.")

    def validate_account(self, field):
        text = (field.data or "").strip()
        if text and not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
            raise ValidationError(f"“{text}” is not an account ID: enter its digits, like 4242.")

    def validate_foc_from(self, field):
        _read_date(field)

    def validate_foc_to(self, field):
        end = _read_date(field)
        start = _date_or_none(self.foc_from.data)
        if start and end and end < start:
            raise ValidationError(
                f"The FOC range ends on {_day(end)}, before it starts on {_day(start)}: "
                "so the end date was left out. Pick an end on or after the start."
            )

    def filters(self):
        """Return the Filters the form asks for, leaving out any value it could not read."""
        self.validate()
        search = read_search((self.q.data or "").strip()) if not self.q.errors else None
        self.search_note = search.note if search else None
        sort = self.sort.data if self.sort.data in SORTS else "waiting"
        direction = self.dir.data if self.dir.data in ("asc", "desc") else None
        direction = direction or FIRST_DIRECTION.get(sort, "asc")
        self.sort.data, self.dir.data = sort, direction  # what the boxes show
        # None ticked: the open ones, but a search looks everywhere (the request holding a
        # number may be completed already).
        everywhere = SHOWN if search and (search.e164 or search.name) else OPEN
        return Filters(
            statuses=tuple(self.status.data) or everywhere,
            account_id=_valid(self.account, int),
            foc_from=_valid(self.foc_from, date.fromisoformat),
            foc_to=_valid(self.foc_to, date.fromisoformat),
            e164=search.e164 if search else None,
            name=search.name if search else None,
            sort=sort,
            descending=direction == "desc",
        )

    @property
    def problems(self):
        """Return (field id, message) for every value left out."""
        return [(field.id, error) for field in self for error in field.errors]

    def link_args(self, filters, **changes):
        """Return the URL arguments of this view of the queue, with `changes` made to them."""
        args = {
            "q": (self.q.data or "").strip() if not self.q.errors else "",
            "status": self.status.data or None,
            "account": filters.account_id,
            "foc_from": filters.foc_from.isoformat() if filters.foc_from else None,
            "foc_to": filters.foc_to.isoformat() if filters.foc_to else None,
            "sort": filters.sort if filters.sort != "waiting" else None,
            "dir": "desc" if filters.descending else "asc",
        }
        if args["dir"] == FIRST_DIRECTION.get(filters.sort, "asc"):
            args["dir"] = None
        args.update(changes)
        return {name: value for name, value in args.items() if value not in (None, "", [])}

    def sort_link(self, filters, column):
        """Return the URL arguments that sort by `column` (the other way round if it already is)."""
        first = FIRST_DIRECTION.get(column, "asc")
        if filters.sort == column:
            now = "desc" if filters.descending else "asc"
            direction = "asc" if now == "desc" else "desc"
        else:
            direction = first
        return self.link_args(
            filters,
            sort=column if column != "waiting" else None,
            dir=direction if direction != first else None,
        )


def _read_date(field):
    text = (field.data or "").strip()
    if text and _date_or_none(text) is None:
        raise ValidationError(
            f"“{text}” is not a date: pick one, or write it as year-month-day (2027-01-31)."
        )
    return _date_or_none(text)


def _day(moment):
    return f"{moment.day} {moment:%b %Y}"


def _date_or_none(text):
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _valid(field, read):
    """Return the field's value read by `read`, or None when it is empty or has an error."""
    text = (field.data or "").strip()
    return read(text) if text and not field.errors else None
