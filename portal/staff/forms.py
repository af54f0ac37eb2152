"""The console's forms: one per move (each carries the status the page showed), rejecting a
number, and a comment. What makes a value acceptable lives in `portal.staff.actions`; these only
read what was posted."""

import datetime

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from portal.models import utcnow
from portal.port_requests.comments import MAX_COMMENT
from portal.staff.actions import MAX_NOTE, MAX_WINDOW


class MoveForm(FlaskForm):
    """A move with nothing to enter: the status the page showed is its condition."""

    shown = HiddenField()

    def arguments(self):
        """Return the move's keyword arguments besides the request, the user and `shown`."""
        return {}


class RequireActionForm(MoveForm):
    # The page draws a checkbox per code of `carrier_codes.CODES`; the action refuses an
    # unknown one, in its words.
    codes = SelectMultipleField("Carrier exception codes", validate_choice=False)
    note = TextAreaField("Note for the owner", render_kw={"rows": 4, "maxlength": MAX_NOTE})

    def arguments(self):
        return {"codes": self.codes.data or [], "note": self.note.data}


class ScheduleFocForm(MoveForm):
    day = None  # the date read, once validated

    foc_date = StringField("FOC date", render_kw={"type": "date"})
    window = StringField(
        "Time window (optional)",
        render_kw={"maxlength": MAX_WINDOW, "placeholder": "9:00-12:00 ET"},
    )

    def validate_foc_date(self, field):
        text = (field.data or "").strip()
        if not text:
            return  # the action says a date is needed
        try:
            self.day = datetime.date.fromisoformat(text)
        except ValueError:
            raise ValidationError("Enter the FOC date as YYYY-MM-DD, like 2027-01-12.") from None

    def arguments(self):
        return {"foc_date": self.day, "window": self.window.data, "today": utcnow().date()}


class RejectForm(MoveForm):
    reason = TextAreaField(
        "Reason (the owner reads it)", render_kw={"rows": 3, "maxlength": MAX_NOTE}
    )

    def arguments(self):
        return {"reason": self.reason.data}


# Each staff move's form, by the move's name in `transitions.MOVES`.
MOVE_FORMS = {
    "start_review": MoveForm,
    "require_action": RequireActionForm,
    "schedule_foc": ScheduleFocForm,
    "complete": MoveForm,
    "reject": RejectForm,
}


class RejectNumberForm(FlaskForm):
    shown = HiddenField()
    reason = StringField("Reason", render_kw={"maxlength": MAX_NOTE})


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", render_kw={"rows": 4, "maxlength": MAX_COMMENT})
    internal = BooleanField("Internal: only Carrier Relations see it, nobody is emailed")
