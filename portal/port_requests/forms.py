"""The General and Details forms: each control named by its field path, read into the JSON shape.

The forms only read what was typed: they refuse a NUL and text too long to keep, nothing more.
Whether a value is right (required, a US phone, a ZIP of the state) is for `rules.problems`, so the
page, its inline check and the API can never disagree.
"""

import json

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from portal.port_requests.fields import LABELS, label

# Longer than any field the rules accept (they name what is too long), short enough that every
# field of a request at its longest fits what the API stores.
MAX_INPUT = 1_000

STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
# The District and the territories that share +1: they port here like the states.
OTHER_PLACES = {
    "DC": "District of Columbia", "AS": "American Samoa", "GU": "Guam",
    "MP": "Northern Mariana Islands", "PR": "Puerto Rico", "VI": "US Virgin Islands",
}  # fmt: skip

STATE_CHOICES = [
    SelectChoice("", "Choose the state"),
    *(
        SelectChoice(code, f"{name} ({code})", optgroup="States")
        for code, name in STATE_NAMES.items()
    ),
    *(
        SelectChoice(code, f"{name} ({code})", optgroup="DC and territories")
        for code, name in OTHER_PLACES.items()
    ),
]
SERVICE_TYPES = [
    SelectChoice("landline", "Landline"),
    SelectChoice("voip", "VoIP"),
    SelectChoice("wireless", "Wireless (mobile)"),
]
CUSTOMER_TYPES = [SelectChoice("business", "Business"), SelectChoice("residential", "Residential")]
YES_NO = [
    SelectChoice("yes", "Yes, other numbers stay with the carrier"),
    SelectChoice("no", "No, every number on the account moves here"),
]
REMAINING = [
    SelectChoice("keep", "Keep them with the current carrier"),
    SelectChoice("disconnect", "Disconnect them"),
]
WHEN = [
    SelectChoice("earliest", "The earliest date the carriers allow"),
    SelectChoice("date", "On a date I choose"),
]
_ANSWERS = {"yes": True, "no": False}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _readable(form, field):
    """Refuse what cannot be kept as typed: a NUL character, or text past MAX_INPUT."""
    if not isinstance(field.data, str):
        return
    if "\x00" in field.data:
        raise ValidationError(
            f"Retype {label(field.name)}: it holds a NUL character, which cannot be saved."
        )
    if len(field.data) > MAX_INPUT:
        raise ValidationError(
            f"Shorten {label(field.name)}: {len(field.data):,} characters cannot be saved "
            f"(at most {MAX_INPUT:,})."
        )


def text(title, **kwargs):
    """Return a text box that keeps what was typed (stripped) unless `_readable` refuses it."""
    return StringField(title, filters=[_strip], validators=[_readable], **kwargs)


def choice(field_class, title, choices, **kwargs):
    """Return radio buttons or a select (`field_class`) of these choices."""
    # A value that is not a choice (a crafted form) is saved and named by the rules.
    return field_class(
        title, choices=choices, validate_choice=False, validators=[_readable], **kwargs
    )


def given(value):
    """Return the value, or None for nothing typed (so drafts keep no empty strings)."""
    value = _strip(value)
    return None if value in ("", None) else value


def section(subform):
    """Return a section's fields that hold something, keyed by their names in the JSON shape."""
    return {
        field.short_name: value for field in subform if (value := given(field.data)) is not None
    }


def known(value, subform_class):
    """Return a stored section as form data: only its known fields, {} for anything else."""
    if not isinstance(value, dict):
        return {}
    return {name: value[name] for name in subform_class().data if name in value}


def controls(form):
    """Yield the form's controls, those of its sections included (not the sections)."""
    for field in form:
        if isinstance(field, FormField):
            yield from controls(field.form)
        else:
            yield field


def problem_fields(form):
    """Yield the form's controls that hold a request field, each named by its path."""
    return [field for field in controls(form) if field.name in LABELS]


class StepForm(FlaskForm):
    """A step's form, which carries what its page showed so a save stores only what it changed.

    Two tabs (or a tab and the API) may change one draft: a field the owner left as the page
    showed it keeps whatever is stored now (see `drafts.changes_from_page`).
    """

    shown = HiddenField()

    def remember_shown(self):
        """Record the form's values as what the page shows (after loading or saving them)."""
        self.shown.data = json.dumps(self.fields(), sort_keys=True)

    def shown_fields(self):
        """Return the fields the page showed, or None when it did not say (all count as changed)."""
        try:
            shown = json.loads(self.shown.data or "null")
        except ValueError:
            return None
        return shown if isinstance(shown, dict) else None


class GeneralForm(StepForm):
    friendly_name = text("A name for this request")

    @classmethod
    def from_fields(cls, fields):
        """Return the form showing a draft's stored name."""
        form = cls(formdata=None, data={"friendly_name": fields.get("friendly_name")})
        form.remember_shown()
        return form

    def fields(self):
        """Return the step's fields in the JSON shape."""
        return {"friendly_name": given(self.friendly_name.data)}


class ContactForm(Form):
    name = text("Name")
    email = text("Email")
    phone = text("Phone")


class BillingForm(Form):
    carrier = text("Current carrier")
    service_type = choice(RadioField, "Service type", SERVICE_TYPES)
    customer_type = choice(RadioField, "Customer type", CUSTOMER_TYPES)
    customer_name = text("Customer name")
    account_number = text("Account number")
    pin = text("Account PIN or passcode")
    btn = text("Billing telephone number (BTN)")


class AddressForm(Form):
    street_number = text("Street number")
    street = text("Street")
    unit = text("Unit, suite or floor (optional)")
    city = text("City")
    state = choice(SelectField, "State", STATE_CHOICES)
    zip = text("ZIP code")


class AuthorizedForm(Form):
    name = text("Name")
    title = text("Title")
    email = text("Email")
    phone = text("Phone")


class PartialPortForm(Form):
    other_numbers_remain = choice(
        RadioField, "Do other numbers on this account stay with the carrier?", YES_NO
    )
    remaining_numbers = choice(RadioField, "If they stay: what happens to them?", REMAINING)
    new_btn = text("New billing telephone number (BTN)")


class DetailsForm(StepForm):
    contact = FormField(ContactForm, separator=".")
    billing = FormField(BillingForm, separator=".")
    service_address = FormField(AddressForm, separator=".")
    billing_address_same = BooleanField("The bill goes to the service address")
    billing_address = FormField(AddressForm, separator=".")
    authorized = FormField(AuthorizedForm, separator=".")
    partial_port = FormField(PartialPortForm, separator=".")
    requested_date_choice = choice(RadioField, "When should the numbers move?", WHEN)
    requested_date = text("Date to move the numbers", render_kw={"type": "date"})

    @classmethod
    def from_fields(cls, fields):
        """Return the form showing a draft's stored fields."""
        billing_address = fields.get("billing_address")
        partial_port = known(fields.get("partial_port"), PartialPortForm)
        remain = partial_port.get("other_numbers_remain")
        partial_port["other_numbers_remain"] = next(
            (word for word, answer in _ANSWERS.items() if answer is remain), None
        )
        date = fields.get("requested_date")
        data = {
            "contact": known(fields.get("contact"), ContactForm),
            "billing": known(fields.get("billing"), BillingForm),
            "service_address": known(fields.get("service_address"), AddressForm),
            "billing_address_same": billing_address is None,
            "billing_address": known(billing_address, AddressForm),
            "authorized": known(fields.get("authorized"), AuthorizedForm),
            "partial_port": partial_port,
            "requested_date_choice": "earliest" if date is None else "date",
            "requested_date": date,
        }
        form = cls(formdata=None, data=data)
        form.remember_shown()
        return form

    def fields(self):
        """Return the step's fields in the JSON shape of docs/domain.md."""
        partial_port = section(self.partial_port.form)
        if "other_numbers_remain" in partial_port:
            remain = _ANSWERS.get(partial_port.pop("other_numbers_remain"))
            if remain is not None:
                partial_port = {"other_numbers_remain": remain, **partial_port}
        earliest = self.requested_date_choice.data != "date"
        return {
            "contact": section(self.contact.form),
            "billing": section(self.billing.form),
            "service_address": section(self.service_address.form),
            "billing_address": None
            if self.billing_address_same.data
            else section(self.billing_address.form),
            "authorized": section(self.authorized.form),
            "partial_port": partial_port,
            "requested_date": None if earliest else given(self.requested_date.data),
        }
