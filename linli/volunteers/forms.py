"""Forms of the volunteers' pages: they turn taps into values; the services judge.

Whether a skill exists, a team is open, a relative may benefit or a balance suffices
is decided by `people` and `redemptions`; their refusals (ValidationFailed.fields)
are put back at the field they are about (`linli.residents.forms.add_service_errors`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from linli.directory.models import Organization
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.requests.forms import service_choices, service_groups
from linli.residents.forms import choice_field
from linli.residents.models import Resident

from .choices import Qualification, VolunteerStatus
from .models import Team
from .people import (
    SocialWorkerInput,
    VolunteerInput,
    decision_choices,
    organizations_near,
    teams_open_to,
)
from .redemptions import hours_bounds

# Parts of the day a volunteer may tick, and the hours each means.
PARTS_OF_DAY = {
    "morning": ("08:00", "12:00"),
    "afternoon": ("13:00", "17:00"),
    "evening": ("18:00", "21:00"),
}
RADIUS_CHOICES = ("1.0", "2.0", "3.0", "5.0", "10.0")


def day_choices() -> list[tuple[str, str]]:
    return [
        ("0", _("Monday")),
        ("1", _("Tuesday")),
        ("2", _("Wednesday")),
        ("3", _("Thursday")),
        ("4", _("Friday")),
        ("5", _("Saturday")),
        ("6", _("Sunday")),
    ]


def part_choices() -> list[tuple[str, str]]:
    return [
        ("morning", _("Mornings (8:00–12:00)")),
        ("afternoon", _("Afternoons (13:00–17:00)")),
        ("evening", _("Evenings (18:00–21:00)")),
    ]


def slots_of(days: list[str], parts: list[str]) -> list[dict[str, Any]]:
    """Weekly slots from ticked days and parts of the day; nothing ticked is any time,
    days alone are whole days, parts alone are every day."""
    if not days and not parts:
        return []
    chosen_days = [int(d) for d in days] or list(range(7))
    chosen_parts = parts or list(PARTS_OF_DAY)
    if not parts:
        return [{"day": d, "start": "08:00", "end": "21:00"} for d in chosen_days]
    return [
        {"day": d, "start": PARTS_OF_DAY[p][0], "end": PARTS_OF_DAY[p][1]}
        for d in chosen_days
        for p in chosen_parts
    ]


def skill_choices() -> list[Any]:
    return [
        (top.display_name, [(term.code, term.display_name) for term in children])
        for top, children in service_groups()
    ]


def community_choices() -> list[tuple[str, str]]:
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY).order_by("code")
    return [("", _("Choose your community or village"))] + [
        (c.code, c.display_name) for c in communities
    ]


class JoinForm(forms.Form):
    """Registering as a volunteer, in a few taps."""

    skills = forms.MultipleChoiceField(
        label=gettext_lazy("What can you help with?"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    days = forms.MultipleChoiceField(
        label=gettext_lazy("Which days can you help?"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Tick nothing if any day suits you."),
    )
    parts = forms.MultipleChoiceField(
        label=gettext_lazy("At what time of day?"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Tick nothing if any time suits you."),
    )
    radius_km = forms.ChoiceField(
        label=gettext_lazy("How far from home will you go?"),
        widget=forms.RadioSelect,
        initial="2.0",
    )
    community = forms.ChoiceField(label=gettext_lazy("Where do you live?"), required=False)
    organization = forms.ChoiceField(
        label=gettext_lazy("Do you give time with an organization?"),
        required=False,
        help_text=gettext_lazy("It then verifies you; otherwise your community's workers do."),
    )
    teams = forms.MultipleChoiceField(
        label=gettext_lazy("Teams you belong to"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, resident: Resident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resident = resident
        choice_field(self, "skills").choices = skill_choices()
        choice_field(self, "days").choices = day_choices()
        choice_field(self, "parts").choices = part_choices()
        choice_field(self, "radius_km").choices = [
            (r, _("%(km)s km") % {"km": Decimal(r).normalize()}) for r in RADIUS_CHOICES
        ]
        community = resident.community if resident else None
        if resident is not None:
            del self.fields["community"]
        else:
            choice_field(self, "community").choices = community_choices()
        self.organizations = {str(o.pk): o for o in organizations_near(community)}
        choice_field(self, "organization").choices = [("", _("No, not with an organization"))] + [
            (key, o.name) for key, o in self.organizations.items()
        ]
        if not self.organizations:
            del self.fields["organization"]
        self.open_teams = {str(t.pk): t for t in teams_open_to(community)}
        choice_field(self, "teams").choices = [(key, t.name) for key, t in self.open_teams.items()]
        if not self.open_teams:
            del self.fields["teams"]

    def to_input(self) -> VolunteerInput:
        data = self.cleaned_data
        community = None
        if data.get("community"):
            community = Region.objects.filter(code=data["community"]).first()
        organization: Organization | None = self.organizations.get(data.get("organization") or "")
        teams: list[Team] = [self.open_teams[key] for key in data.get("teams", [])]
        return VolunteerInput(
            skills=list(data["skills"]),
            availability=slots_of(list(data["days"]), list(data["parts"])),
            radius_km=Decimal(data["radius_km"]),
            community=community,
            organization=organization,
            teams=teams,
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=gettext_lazy("Why? (needed to reject or suspend)"),
        required=False,
        max_length=255,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "decision").choices = decision_choices()


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [("", _("All")), *VolunteerStatus.choices]


class TeamForm(forms.Form):
    """A new team: its name, and the community or organization it belongs to."""

    name = forms.CharField(label=gettext_lazy("Team name"), max_length=200)
    owner = forms.ChoiceField(label=gettext_lazy("Belongs to"))

    def __init__(
        self,
        *args: Any,
        communities: list[Region],
        organizations: list[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owners: dict[str, tuple[Region | None, Organization | None]] = {}
        for region in communities:
            self.owners[f"c:{region.code}"] = (region, None)
        for organization in organizations:
            self.owners[f"o:{organization.pk}"] = (None, organization)
        choice_field(self, "owner").choices = [
            (key, str(region.display_name if region else organization))
            for key, (region, organization) in self.owners.items()
        ]


class RedeemForm(forms.Form):
    """Spending hours on a service for oneself or a permitted relative."""

    beneficiary = forms.ChoiceField(
        label=gettext_lazy("Who is the service for?"), widget=forms.RadioSelect
    )
    service = forms.ChoiceField(label=gettext_lazy("Which service?"))
    hours = forms.ChoiceField(label=gettext_lazy("How many hours?"))
    description = forms.CharField(
        label=gettext_lazy("Anything the helper should know"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, people: list[tuple[Resident, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(person.pk): person for person, _kind in people}
        choice_field(self, "beneficiary").choices = [
            (str(person.pk), kin_label(person, kind)) for person, kind in people
        ]
        choice_field(self, "service").choices = service_choices()
        low, high = hours_bounds()
        steps = []
        value = low
        while value <= high:
            steps.append(value)
            value += Decimal("0.5")
        choice_field(self, "hours").choices = [
            (
                format(v.normalize(), "f"),
                _("%(hours)s hours") % {"hours": format(v.normalize(), "f")},
            )
            for v in steps
        ]

    def beneficiary_record(self) -> Resident:
        return self.people[self.cleaned_data["beneficiary"]]


def kin_label(person: Resident, kind: str) -> str:
    if kind == "self":
        return _("Myself (%(name)s)") % {"name": person.name}
    words = {
        "spouse": _("My spouse"),
        "parent": _("My parent"),
        "child": _("My child"),
        "grandparent": _("My grandparent"),
        "grandchild": _("My grandchild"),
    }
    return _("%(kin)s: %(name)s") % {"kin": words.get(kind, kind), "name": person.name}


class GrantForm(forms.Form):
    """A community worker gives pool hours to a resident in difficulty."""

    resident = forms.IntegerField(
        label=gettext_lazy("Resident's record number"),
        min_value=1,
        help_text=gettext_lazy("The number shown on the resident's card in the register."),
    )
    hours = forms.DecimalField(
        label=gettext_lazy("Hours"), min_value=Decimal("0.25"), max_digits=7, decimal_places=2
    )
    memo = forms.CharField(label=gettext_lazy("Why?"), max_length=255)


class SocialWorkerForm(forms.Form):
    qualification = forms.ChoiceField(
        label=gettext_lazy("Qualification"),
        choices=Qualification.choices,
        widget=forms.RadioSelect,
    )
    certificate_number = forms.CharField(
        label=gettext_lazy("Certificate number"),
        max_length=40,
        help_text=gettext_lazy("As printed on your certificate."),
    )
    certified_on = forms.DateField(
        label=gettext_lazy("Certified on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    community = forms.ChoiceField(
        label=pgettext_lazy("where", "Where do you work?"), required=False
    )
    organization = forms.ChoiceField(label=gettext_lazy("Organization"), required=False)

    def __init__(self, *args: Any, resident: Resident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community = resident.community if resident else None
        if resident is not None:
            del self.fields["community"]
        else:
            choice_field(self, "community").choices = community_choices()
        self.organizations = {str(o.pk): o for o in organizations_near(community)}
        choice_field(self, "organization").choices = [("", _("None"))] + [
            (key, o.name) for key, o in self.organizations.items()
        ]
        if not self.organizations:
            del self.fields["organization"]

    def to_input(self) -> SocialWorkerInput:
        data = self.cleaned_data
        community = None
        if data.get("community"):
            community = Region.objects.filter(code=data["community"]).first()
        return SocialWorkerInput(
            qualification=data["qualification"],
            certificate_number=data["certificate_number"],
            certified_on=data.get("certified_on"),
            community=community,
            organization=self.organizations.get(data.get("organization") or ""),
        )
