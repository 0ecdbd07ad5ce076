"""Forms of the activity pages: they turn typing into values; the services judge.

Whether a time is past, a place is taken or hours are too many is decided by
`linli.volunteers.activities`; its refusals are put back at the field they are about.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.directory.models import Organization, TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.regions.models import Region

from .models import Team

MOMENT = "%Y-%m-%dT%H:%M"


def _moment(label: Any, required: bool = True, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MOMENT),
    )


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def skill_choices() -> list[tuple[str, str]]:
    """The services a volunteer can help with (the taxonomy's second level)."""
    terms = TaxonomyTerm.objects.filter(
        taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY), parent__isnull=False
    ).order_by("code")
    return [(term.code, term.display_name) for term in terms]


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("What is it"), max_length=200)
    description = forms.CharField(
        label=_("What volunteers will do"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    community = forms.ChoiceField(label=_("Community or village"))
    organization = forms.ChoiceField(label=_("Organized by"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    address = forms.CharField(label=_("Where to meet"), max_length=255)
    latitude = forms.FloatField(label=_("Latitude"), required=False)
    longitude = forms.FloatField(label=_("Longitude"), required=False)
    starts_at = _moment(_("Starts at"))
    ends_at = _moment(_("Ends at"))
    capacity = forms.IntegerField(label=_("People wanted"), min_value=1, initial=10)
    skills = forms.MultipleChoiceField(
        label=_("Skills wanted"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        communities: list[Region],
        organizations: list[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.communities = {c.code: c for c in communities}
        self.organizations = {str(o.pk): o for o in organizations}
        _choices(self, "community").choices = [(c.code, c.display_name) for c in communities]
        _choices(self, "organization").choices = [("", _("The community itself"))] + [
            (str(o.pk), o.name) for o in organizations
        ]
        teams = Team.objects.filter(
            Q(community__in=list(self.communities)) | Q(organization__in=organizations)
        ).order_by("name")
        self.teams = {str(t.pk): t for t in teams}
        _choices(self, "team").choices = [("", _("No team"))] + [(str(t.pk), t.name) for t in teams]
        _choices(self, "skills").choices = skill_choices()
        if not organizations:
            del self.fields["organization"]
        if not teams:
            del self.fields["team"]

    def to_values(self) -> dict[str, Any]:
        """Keyword arguments of `activity_publish`."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data.get("description") or "",
            "community": self.communities.get(data["community"]),
            "organization": self.organizations.get(data.get("organization") or ""),
            "team": self.teams.get(data.get("team") or ""),
            "address": data["address"],
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "capacity": data["capacity"],
            "skills": data.get("skills") or [],
        }


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it cancelled? Those who signed up read this."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordForm(forms.Form):
    """The organizer's record for someone who could not scan: times, or hours."""

    checked_in_at = _moment(_("Arrived at"), required=False)
    checked_out_at = _moment(_("Left at"), required=False)
    hours = forms.DecimalField(
        label=_("Or the hours"),
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text=_("Given hours win over the times."),
    )


class DisputeForm(forms.Form):
    claimed_hours = forms.DecimalField(
        label=_("How many hours were you there?"), max_digits=5, decimal_places=2
    )
    reason = forms.CharField(
        label=_("Why are the hours wrong?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


ANSWER_CHOICES = (
    ("upheld", _("The volunteer is right: correct the hours")),
    ("rejected", _("The hours stay as they are")),
)


class AnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your answer"), choices=ANSWER_CHOICES, widget=forms.RadioSelect
    )
    answer = forms.CharField(
        label=_("Explain it to the volunteer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
