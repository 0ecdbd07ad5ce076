"""Forms of the residents pages: they parse what a person typed; the services judge it.

Every rule about residents lives in the services; a form only turns text into
values, offers the choices a user may pick, and puts the services' refusals
(ValidationFailed.fields) back at the field they are about.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from linli.accounts.selectors import Scope
from linli.core.errors import ValidationFailed
from linli.core.pii import mask_identity_number, mask_phone
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .choices import AgeBand, Difficulty, DisabilityCategory, PriorityGroup, Sex
from .models import SENSITIVE_FIELDS, AccessEvent, Correction, Household, Resident, field_label
from .services import ResidentInput


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def sensitive_choices() -> list[tuple[str, str]]:
    return [(name, field_label(name)) for name in SENSITIVE_FIELDS]


def add_service_errors(
    form: forms.Form, error: ValidationFailed, rename: dict[str, str] | None = None
) -> None:
    """Put a service's refusal at the fields it names; the rest at the top of the form."""
    for service_name, reasons in error.fields.items():
        name = (rename or {}).get(service_name, service_name)
        for reason in reasons:
            if name in form.fields:
                form.add_error(name, reason)
            else:
                form.add_error(None, f"{name}: {reason}")
    if not error.fields:
        form.add_error(None, error.message)


def area_choices(scope: Scope) -> tuple[list[Any], dict[str, Region]]:
    """Communities in `scope` grouped by street, each street offering "all of it" when the
    whole street is in scope; and the regions by code, to read the chosen one back."""
    communities = list(
        Region.objects.filter(scope.q("code"), level=RegionLevel.COMMUNITY)
        .select_related("parent")
        .order_by("code")
    )
    groups: dict[str, list[tuple[str, str]]] = {}
    labels: dict[str, str] = {}
    regions: dict[str, Region] = {}
    for community in communities:
        street = community.parent
        key = street.code if street else ""
        if key not in groups:
            groups[key] = []
            labels[key] = street.display_name if street else ""
            if street and scope.covers(street.code):
                regions[street.code] = street
                groups[key].append(
                    (street.code, _("All of %(name)s") % {"name": street.display_name})
                )
        groups[key].append((community.code, community.display_name))
        regions[community.code] = community
    choices: list[Any] = [("", _("All my area"))]
    choices += [(labels[key], options) for key, options in groups.items()]
    return choices, regions


class ResidentFilterForm(forms.Form):
    """The list's filters; a value that is not valid is said at its field and ignored."""

    name = forms.CharField(
        label=pgettext_lazy("person", "Name"), required=False, max_length=100, strip=True
    )
    community = forms.ChoiceField(label=gettext_lazy("Community or village"), required=False)
    group = forms.ChoiceField(
        label=gettext_lazy("Priority group"),
        required=False,
        choices=[("", gettext_lazy("Everyone")), *PriorityGroup.choices],
    )
    age_band = forms.ChoiceField(
        label=gettext_lazy("Age"),
        required=False,
        choices=[("", gettext_lazy("All ages")), *AgeBand.choices],
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices, self.regions = area_choices(scope)
        choice_field(self, "community").choices = choices

    def value(self, name: str) -> Any:
        """The cleaned value of a valid filter, or nothing."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return self.cleaned_data.get(name) or ""


class CommunityField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


def _optional_choice(label: Any, choices: Any, blank: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[("", blank), *choices])


class ResidentForm(forms.Form):
    """Register a resident, or change one.

    When changing, sensitive fields (and the birth date, which the masked identity
    number deliberately hides) are never filled in clear: left blank they stay as
    stored; "erase" empties them. Only what the keeper gives is overwritten."""

    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100, required=False)
    community = CommunityField(
        label=gettext_lazy("Community or village"), queryset=Region.objects.none()
    )
    household = forms.IntegerField(
        label=gettext_lazy("Household number"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("The number shown on the household's page; leave blank if none."),
    )
    address = forms.CharField(label=gettext_lazy("Address"), max_length=255, required=False)
    identity_number = forms.CharField(
        label=gettext_lazy("Identity number"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("18 characters. The birth date and sex are read from it."),
    )
    sex = _optional_choice(gettext_lazy("Sex"), Sex.choices, gettext_lazy("Not given"))
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Only when there is no identity number."),
    )
    phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=20, required=False)
    living_alone = forms.BooleanField(label=gettext_lazy("Lives alone"), required=False)
    left_behind = forms.BooleanField(label=gettext_lazy("Left behind (rural)"), required=False)
    disability_category = _optional_choice(
        gettext_lazy("Disability category"), DisabilityCategory.choices, gettext_lazy("None")
    )
    disability_grade = _optional_choice(
        gettext_lazy("Disability grade"),
        [(str(grade), str(grade)) for grade in range(1, 5)],
        gettext_lazy("None"),
    )
    difficulty = _optional_choice(
        gettext_lazy("Family in difficulty"), Difficulty.choices, gettext_lazy("No")
    )
    health_notes = forms.CharField(
        label=gettext_lazy("Health needs"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    erase = forms.MultipleChoiceField(
        label=gettext_lazy("Erase these stored values"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    # Fields that an edit leaves as stored when left blank.
    KEPT_WHEN_BLANK = (*SENSITIVE_FIELDS, "birth_date")

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Region],
        households: QuerySet[Household],
        resident: Resident | None = None,
        **kwargs: Any,
    ) -> None:
        self.resident = resident
        self.households = households
        if resident is not None:
            kwargs["initial"] = {
                "name": resident.name,
                "community": resident.community_id,
                "household": resident.household_id,
                "address": resident.address,
                "sex": resident.sex,
                "living_alone": resident.living_alone,
                "left_behind": resident.left_behind,
            }
        super().__init__(*args, **kwargs)
        community = cast(forms.ModelChoiceField, self.fields["community"])
        community.queryset = communities.order_by("code")
        if resident is None:
            del self.fields["erase"]
            return
        self._describe_stored(resident)

    def _describe_stored(self, resident: Resident) -> None:
        """Say, masked, what each kept-when-blank field holds now."""
        masked = {
            "identity_number": mask_identity_number(resident.identity_number),
            "phone": mask_phone(resident.phone),
            "birth_date": "",
        }
        stored = []
        for name in self.KEPT_WHEN_BLANK:
            field = self.fields[name]
            value = getattr(resident, name)
            if value:
                stored.append(name)
                now = masked.get(name) or "***"
                if name == "birth_date":
                    now = _("age %(age)s") % {"age": resident.age()}
                field.help_text = _("Stored (%(now)s). Leave blank to keep it unchanged.") % {
                    "now": now
                }
            else:
                field.help_text = _("Nothing stored. Leave blank to keep it empty.")
            if isinstance(field, forms.ChoiceField):
                choices = cast(list[tuple[str, Any]], field.choices)
                field.choices = [("", _("Unchanged")), *choices[1:]]
        choice_field(self, "erase").choices = [
            (name, self.fields[name].label) for name in stored if name in SENSITIVE_FIELDS
        ]
        if not stored:
            del self.fields["erase"]

    def clean_household(self) -> Household | None:
        number = self.cleaned_data.get("household")
        if not number:
            return None
        household = self.households.filter(pk=number).first()
        if household is None:
            raise forms.ValidationError(_("No household with this number in your area."))
        return household

    def to_input(self, base: ResidentInput | None = None) -> ResidentInput:
        """The service's input: the whole form when registering; when changing, the stored
        record with only the given fields replaced."""
        data = self.cleaned_data
        if base is None:
            base = ResidentInput(name="", community=data["community"])
        base.name = data.get("name") or ""
        base.community = data["community"]
        base.household = data.get("household")
        base.address = data.get("address") or ""
        base.sex = data.get("sex") or ""
        base.living_alone = bool(data.get("living_alone"))
        base.left_behind = bool(data.get("left_behind"))
        editing = self.resident is not None
        for name in self.KEPT_WHEN_BLANK:
            value = data.get(name)
            if isinstance(value, str):
                value = value.strip()
            if value or not editing:
                setattr(base, name, value or (None if name == "birth_date" else ""))
        for name in data.get("erase") or ():
            setattr(base, name, "")
        return base


class UnmaskForm(forms.Form):
    """Which sensitive fields a keeper needs to see, and why; the service logs both."""

    # The service calls this "fields", a name a Django form keeps for itself.
    show = forms.MultipleChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(
        label=gettext_lazy("Why do you need to see this?"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Your reason is recorded and the resident can read it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "show").choices = sensitive_choices()


class CorrectionAskForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("What is wrong, and what is right?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Your community worker receives it as a task and answers you."),
    )


class CorrectionAnswerForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Answer"),
        required=False,
        choices=[
            ("", gettext_lazy("Choose")),
            (Correction.Status.DONE, Correction.Status.DONE.label),
            (Correction.Status.DECLINED, Correction.Status.DECLINED.label),
        ],
    )
    answer = forms.CharField(
        label=gettext_lazy("Message to the resident"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Needed when the record stays as it is: say why."),
    )


class AccessEventFilterForm(forms.Form):
    who = forms.CharField(label=gettext_lazy("Who (username)"), required=False, max_length=150)
    record = forms.IntegerField(label=gettext_lazy("Record number"), required=False, min_value=1)
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", gettext_lazy("All actions")), *AccessEvent.Action.choices],
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    community = forms.ChoiceField(label=gettext_lazy("Community or village"), required=False)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices, self.regions = area_choices(scope)
        choice_field(self, "community").choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end comes before the start."))
        return data
