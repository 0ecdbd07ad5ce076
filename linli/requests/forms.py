"""Forms of the request pages: they turn taps and typing into values; the services judge.

Whether a service exists, a window is past, a person may be asked for or a phone
number is valid is decided by `linli.requests.services`; its refusals
(ValidationFailed.fields) are put back at the field they are about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from linli.directory.models import TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.regions.models import Region
from linli.residents.forms import choice_field
from linli.residents.models import Resident

from .choices import Action, Outcome, Urgency
from .services import RequestInput

# The "when" buttons of the second tap: each sets an urgency in plain words and a window.
WHEN_NOW = "now"
WHEN_TODAY = "today"
WHEN_TOMORROW = "tomorrow"
WHEN_SOON = "soon"
WHEN_PICK = "pick"
# A day's visiting hours, for "tomorrow": nobody wants a helper at the door at night.
DAY_STARTS, DAY_ENDS = dt.time(8, 0), dt.time(20, 0)


def when_choices() -> list[tuple[str, str]]:
    return [
        (WHEN_NOW, _("Now: it is urgent")),
        (WHEN_TODAY, _("Today")),
        (WHEN_TOMORROW, _("Tomorrow")),
        (WHEN_SOON, _("In the next few days")),
        (WHEN_PICK, _("Pick a day and time")),
    ]


# The urgency each quick answer means; "pick" lets the person say it.
WHEN_URGENCY = {
    WHEN_NOW: Urgency.URGENT,
    WHEN_TODAY: Urgency.HIGH,
    WHEN_TOMORROW: Urgency.NORMAL,
    WHEN_SOON: Urgency.LOW,
}


@dataclass(frozen=True)
class When:
    urgency: str
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time))


def quick_when(code: str, now: dt.datetime) -> When:
    """The window a quick answer means, in the deployment's time zone."""
    today = timezone.localtime(now).date()
    if code == WHEN_TODAY:
        # Until late tonight; asked late at night, within the next hour.
        end = max(_at(today, dt.time(23, 59)), now + dt.timedelta(hours=1))
        return When(Urgency.HIGH, now, end)
    if code == WHEN_TOMORROW:
        tomorrow = today + dt.timedelta(days=1)
        return When(Urgency.NORMAL, _at(tomorrow, DAY_STARTS), _at(tomorrow, DAY_ENDS))
    return When(WHEN_URGENCY.get(code, Urgency.NORMAL))


def service_groups() -> list[tuple[TaxonomyTerm, list[TaxonomyTerm]]]:
    """The plan's fields, each with its services, in the taxonomy's order."""
    terms = list(
        TaxonomyTerm.objects.filter(taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY)).order_by(
            "code"
        )
    )
    order = {term.pk: index for index, term in enumerate(terms)}
    tops = [t for t in terms if t.parent_id is None]
    return [
        (top, sorted((t for t in terms if t.parent_id == top.pk), key=lambda t: order[t.pk]))
        for top in tops
    ]


def service_choices() -> list[Any]:
    """A grouped select of every service, for forms that are not the big buttons."""
    return [("", _("Choose a service"))] + [
        (top.display_name, [(term.code, term.display_name) for term in children])
        for top, children in service_groups()
    ]


def urgency_choices() -> list[tuple[str, str]]:
    """Most pressing first, as a person would read them."""
    order = (Urgency.URGENT, Urgency.HIGH, Urgency.NORMAL, Urgency.LOW)
    return [(u.value, str(u.label)) for u in order]


def person_label(resident: Resident, user_id: int | None = None) -> str:
    """Name (and "you" for oneself) and address: the address is where the helper goes."""
    name = resident.name
    if user_id is not None and resident.user_id == user_id:
        name = _("%(name)s (you)") % {"name": name}
    return f"{name} · {resident.address}" if resident.address else name


class WindowFields(forms.Form):
    """A day and two times: "pick a day and time", and the window of a phone request."""

    date = forms.DateField(
        label=gettext_lazy("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start = forms.TimeField(
        label=pgettext_lazy("time of day", "From"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end = forms.TimeField(
        label=pgettext_lazy("time of day", "Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def window(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The window typed; a day alone means that day's visiting hours."""
        day = self.cleaned_data.get("date")
        if day is None:
            return None, None
        start = self.cleaned_data.get("start") or DAY_STARTS
        end = self.cleaned_data.get("end") or DAY_ENDS
        return _at(day, start), _at(day, end)


class PickWhenForm(WindowFields):
    """The second tap's "pick a day and time"."""

    urgency = forms.ChoiceField(
        label=gettext_lazy("How soon is it needed?"),
        choices=urgency_choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].required = True

    def when(self) -> When:
        start, end = self.window()
        return When(self.cleaned_data["urgency"], start, end)


class AskForm(forms.Form):
    """The third tap: for whom, where, anything to add; then send.

    What the first two taps chose travels in hidden fields."""

    service = forms.CharField(widget=forms.HiddenInput, max_length=100)
    when = forms.ChoiceField(widget=forms.HiddenInput, choices=when_choices)
    date = forms.CharField(widget=forms.HiddenInput, required=False)
    start = forms.CharField(widget=forms.HiddenInput, required=False)
    end = forms.CharField(widget=forms.HiddenInput, required=False)
    urgency = forms.CharField(widget=forms.HiddenInput, required=False)
    person = forms.ChoiceField(
        label=gettext_lazy("Who is it for?"), widget=forms.RadioSelect, choices=()
    )
    address = forms.CharField(
        label=gettext_lazy("Somewhere else?"),
        required=False,
        max_length=255,
        help_text=gettext_lazy("Leave it empty: the helper comes to the address above."),
    )
    description = forms.CharField(
        label=gettext_lazy("Anything the helper should know? (you may leave it empty)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args: Any, people: list[Resident], user_id: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(p.pk): p for p in people}
        person = choice_field(self, "person")
        person.choices = [(key, person_label(p, user_id)) for key, p in self.people.items()]
        if len(people) == 1:
            # Nobody else to choose: it is for the one person, without a tap.
            person.widget = forms.HiddenInput()
            self.initial.setdefault("person", next(iter(self.people)))
        elif people:
            self.initial.setdefault("person", next(iter(self.people)))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = data.get("when")
        if code == WHEN_PICK:
            pick = PickWhenForm(
                {k: self.data.get(k, "") for k in ("date", "start", "end", "urgency")}
            )
            if not pick.is_valid():
                for reasons in pick.errors.values():
                    for reason in reasons:
                        self.add_error("when", reason)
            else:
                data["chosen"] = pick.when()
        elif code:
            data["chosen"] = quick_when(code, timezone.now())
        return data

    def to_input(self) -> RequestInput:
        data = self.cleaned_data
        chosen: When = data["chosen"]
        return RequestInput(
            service=data["service"],
            person=self.people[data["person"]],
            description=data["description"],
            urgency=chosen.urgency,
            address=data["address"],
            window_start=chosen.window_start,
            window_end=chosen.window_end,
        )


class PhoneRequestForm(WindowFields):
    """A community worker takes a call: for a resident found by name, or for whoever
    called (a name and a phone), in one of the worker's communities."""

    person = forms.ChoiceField(
        label=gettext_lazy("Resident"), required=False, widget=forms.RadioSelect, choices=()
    )
    contact_name = forms.CharField(
        label=gettext_lazy("Or the caller's name"), required=False, max_length=100
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("The caller's mobile phone"), required=False, max_length=20
    )
    community = forms.ChoiceField(label=gettext_lazy("Community or village"), choices=())
    address = forms.CharField(
        label=gettext_lazy("Address"),
        required=False,
        max_length=255,
        help_text=gettext_lazy("Leave it empty for a resident: their registered address is used."),
    )
    service = forms.ChoiceField(label=gettext_lazy("Service"), choices=())
    urgency = forms.ChoiceField(
        label=gettext_lazy("How soon?"),
        choices=urgency_choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=gettext_lazy("What the caller said"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    field_order = [
        "person",
        "contact_name",
        "contact_phone",
        "community",
        "address",
        "service",
        "urgency",
        "date",
        "start",
        "end",
        "description",
    ]

    def __init__(
        self,
        *args: Any,
        people: list[Resident],
        communities: list[Region],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(p.pk): p for p in people}
        self.communities = {c.code: c for c in communities}
        self._choices("person", [(k, person_label(p)) for k, p in self.people.items()])
        self._choices("community", [(c.code, c.display_name) for c in communities])
        self._choices("service", service_choices())
        if len(communities) == 1:
            self.initial.setdefault("community", communities[0].code)

    def _choices(self, name: str, choices: list[Any]) -> None:
        choice_field(self, name).choices = choices

    def to_input(self) -> RequestInput:
        data = self.cleaned_data
        person = self.people.get(data.get("person") or "")
        start, end = self.window()
        return RequestInput(
            service=data["service"],
            person=person,
            description=data["description"],
            urgency=data["urgency"],
            # A resident is served where they live; a caller where the worker says.
            community=None if person else self.communities[data["community"]],
            address=data["address"],
            window_start=start,
            window_end=end,
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
        )


class AssignForm(forms.Form):
    responder = forms.TypedChoiceField(
        label=gettext_lazy("Responder"), coerce=int, choices=(), empty_value=None
    )
    reassign = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "responder").choices = [("", _("Choose a responder")), *candidates]


class ActionForm(forms.Form):
    """One step of a request: the action, and the reason or note it may need."""

    action = forms.ChoiceField(choices=Action.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Why?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    outcome = forms.ChoiceField(
        label=pgettext_lazy("request", "Outcome"),
        required=False,
        choices=Outcome.choices,
        widget=forms.RadioSelect,
    )
