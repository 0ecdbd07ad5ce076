"""The attributes each service takes through Open311 (`attribute[CODE]=…`), and what they become.

Three attributes feed the request itself: `urgency` (every service) sets its urgency, and
`wanted_from` / `wanted_until` (services delivered at a time) set its window, so triage,
service levels and dispatch treat them as they treat anyone's. The others (how many
people, diet, mobility, an appointment, how many children) are what a responder needs to
know before coming; they are written into the request's description as one line each,
in the deployment's language, because that is where a responder reads the need.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.requests.choices import Urgency

from .dates import parse_w3c_datetime

STRING = "string"
NUMBER = "number"
DATETIME = "datetime"
TEXT = "text"
SINGLE = "singlevaluelist"
MULTI = "multivaluelist"

# Where an attribute's value goes in RequestInput; "" means a line of the description.
URGENCY_TARGET = "urgency"
WINDOW_START = "window_start"
WINDOW_END = "window_end"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    description: Promise
    required: bool = False
    datatype_description: Promise | str = ""
    values: tuple[tuple[str, Promise], ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    target: str = ""
    # A label for the line written into the description.
    label: Promise | str = ""


@dataclass
class AttributeValues:
    """What a partner's attributes say, and what was wrong with them."""

    urgency: str = ""
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    notes: list[tuple[Attribute, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)

    def note_lines(self) -> list[str]:
        """One "label: value" line per noted attribute, in the deployment's language."""
        with translation.override(settings.LANGUAGE_CODE):
            return [
                f"{attribute.label}: {_display(attribute, value)}"
                for attribute, value in self.notes
            ]


DATETIME_HELP = gettext_lazy("W3C date and time with a time zone, e.g. 2026-12-01T09:00:00+08:00")

URGENCY = Attribute(
    code="urgency",
    datatype=SINGLE,
    description=gettext_lazy("How soon is it needed? (within a day or two when not given)"),
    values=tuple((value, label) for value, label in Urgency.choices),
    target=URGENCY_TARGET,
)
WANTED_FROM = Attribute(
    code="wanted_from",
    datatype=DATETIME,
    description=gettext_lazy("From when is the service wanted?"),
    datatype_description=DATETIME_HELP,
    target=WINDOW_START,
)
WANTED_UNTIL = Attribute(
    code="wanted_until",
    datatype=DATETIME,
    description=gettext_lazy("Until when is the service wanted?"),
    datatype_description=DATETIME_HELP,
    target=WINDOW_END,
)
PEOPLE = Attribute(
    code="people",
    datatype=NUMBER,
    description=gettext_lazy("For how many people?"),
    datatype_description=gettext_lazy("A whole number from 1 to 20"),
    minimum=1,
    maximum=20,
    label=gettext_lazy("Number of people"),
)
DIET = Attribute(
    code="diet",
    datatype=SINGLE,
    description=gettext_lazy("Which kind of meal?"),
    values=(
        ("regular", gettext_lazy("Regular")),
        ("soft", gettext_lazy("Soft food")),
        ("low_salt", gettext_lazy("Low salt")),
        ("diabetic", gettext_lazy("Diabetic")),
        ("halal", gettext_lazy("Halal")),
    ),
    label=gettext_lazy("Meal"),
)
MOBILITY = Attribute(
    code="mobility",
    datatype=SINGLE,
    description=gettext_lazy("How does the person move about?"),
    values=(
        ("walks", gettext_lazy("Walks unaided")),
        ("walking_aid", gettext_lazy("With a stick or walker")),
        ("wheelchair", gettext_lazy("Wheelchair")),
        ("bedridden", gettext_lazy("Bedridden")),
    ),
    label=gettext_lazy("Mobility"),
)
APPOINTMENT = Attribute(
    code="appointment",
    datatype=DATETIME,
    description=gettext_lazy("When is the appointment at the hospital or clinic?"),
    required=True,
    datatype_description=DATETIME_HELP,
    label=gettext_lazy("Appointment"),
)
CHILDREN = Attribute(
    code="children",
    datatype=NUMBER,
    description=gettext_lazy("How many children?"),
    datatype_description=gettext_lazy("A whole number from 1 to 10"),
    minimum=1,
    maximum=10,
    label=gettext_lazy("Number of children"),
)

WINDOW = (WANTED_FROM, WANTED_UNTIL)
# Services delivered at someone's door at a time: the window matters to dispatch.
_AT_A_TIME = {
    "elderly_cleaning": WINDOW,
    "elderly_visit": WINDOW,
    "medical_home_visit": WINDOW,
    "convenience_repair": WINDOW,
    "convenience_housekeeping": WINDOW,
    "convenience_errands": WINDOW,
}
_SPECIFIC: dict[str, tuple[Attribute, ...]] = {
    "elderly_meals": (*WINDOW, PEOPLE, DIET),
    "elderly_bathing": (*WINDOW, MOBILITY),
    "elderly_mobility": (*WINDOW, MOBILITY),
    "elderly_medical_escort": (APPOINTMENT, MOBILITY, *WINDOW),
    "childcare_temporary": (*WINDOW, CHILDREN),
    "childcare_after_school": (CHILDREN,),
    **_AT_A_TIME,
}


def service_attributes(code: str) -> tuple[Attribute, ...]:
    """Every service takes `urgency`; some take more (see the module's docstring)."""
    return (URGENCY, *_SPECIFIC.get(code, ()))


def _display(attribute: Attribute, value: str) -> str:
    if attribute.values:
        return str(dict(attribute.values).get(value, value))
    if attribute.datatype == DATETIME:
        moment = parse_w3c_datetime(value)
        return formats.date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else value
    return value


def _number(attribute: Attribute, raw: str, values: AttributeValues, name: str) -> str | None:
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number):
        values.refuse(name, _("Give a whole number."))
        return None
    low, high = attribute.minimum, attribute.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        values.refuse(
            name, _("Give a number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
        return None
    return str(int(number))


def attributes_read(code: str, given: dict[str, list[str]]) -> AttributeValues:
    """Check a partner's `attribute[…]` values against the service's definition.

    Error keys are the parameter names (`attribute[people]`), as the partner sent them."""
    values = AttributeValues()
    known = {attribute.code: attribute for attribute in service_attributes(code)}
    for unknown in sorted(set(given) - set(known)):
        values.refuse(
            f"attribute[{unknown}]",
            _("This service has no attribute %(code)s.") % {"code": unknown},
        )
    for attribute in known.values():
        name = f"attribute[{attribute.code}]"
        raw_values = [v.strip() for v in given.get(attribute.code, []) if v.strip()]
        if not raw_values:
            if attribute.required:
                values.refuse(name, _("This attribute is required."))
            continue
        if len(raw_values) > 1 and attribute.datatype != MULTI:
            values.refuse(name, _("Give one value."))
            continue
        raw = raw_values[0]
        value: str | None = raw
        moment: dt.datetime | None = None
        if attribute.datatype == NUMBER:
            value = _number(attribute, raw, values, name)
        elif attribute.datatype == DATETIME:
            moment = parse_w3c_datetime(raw)
            if moment is None:
                values.refuse(
                    name,
                    _("Give a date and time with a time zone, e.g. %(e)s.")
                    % {"e": "2026-12-01T09:00:00+08:00"},
                )
                value = None
        elif attribute.values and raw not in dict(attribute.values):
            values.refuse(
                name,
                _("Choose one of: %(keys)s.")
                % {"keys": ", ".join(k for k, _l in attribute.values)},
            )
            value = None
        elif len(raw) > 200:
            values.refuse(name, _("At most 200 characters."))
            value = None
        if value is None:
            continue
        if attribute.target == URGENCY_TARGET:
            values.urgency = value
        elif attribute.target == WINDOW_START:
            values.window_start = moment
        elif attribute.target == WINDOW_END:
            values.window_end = moment
        else:
            values.notes.append((attribute, value))
    return values
