"""Writes to the residents register: check, then act, then record.

Every write validates first and raises ValidationFailed with each field's
reasons; sensitive values are stored encrypted with their blind indexes; the
priority tallies move in the same transaction; unmasking and exports write an
access event.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import Scope, user_scope
from linli.core.crypto import blind_index
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.pii import (
    identity_birth_date,
    identity_sex,
    validate_identity_number,
    validate_mobile,
)
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .choices import ConsentPurpose, Difficulty, DisabilityCategory, PriorityGroup, Sex
from .models import (
    SENSITIVE_FIELDS,
    AccessEvent,
    Consent,
    Household,
    PriorityTally,
    Resident,
    age_on,
)

EVERYWHERE = Scope(everything=True, prefixes=())
GUARDIAN_AGE = 14
# Beyond registration, what a child under 14 may have recorded only with a guardian's consent.
NEEDS_GUARDIAN = ("phone", "disability_category", "disability_grade", "difficulty", "health_notes")


def keeper_scope(actor: User | None) -> Scope:
    """Where `actor` keeps the register; operators' commands (actor None) reach everywhere."""
    if actor is None:
        return EVERYWHERE
    scope = user_scope(actor, roles=RESIDENT_KEEPER_ROLES)
    if scope.is_empty:
        raise PermissionDenied(_("Only community workers keep the residents register."))
    return scope


@dataclass
class ResidentInput:
    """What a register row, a form or the API gives; every field optional but the name."""

    name: str
    community: Region
    identity_number: str = ""
    phone: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    household: Household | None = None
    address: str = ""
    living_alone: bool = False
    left_behind: bool = False
    disability_category: str = ""
    disability_grade: str = ""
    difficulty: str = ""
    health_notes: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)


def _check_identity(data: ResidentInput) -> None:
    if not data.identity_number:
        return
    try:
        data.identity_number = validate_identity_number(data.identity_number)
    except ValidationError as error:
        data.refuse("identity_number", error.messages[0])
        return
    born, sex = identity_birth_date(data.identity_number), identity_sex(data.identity_number)
    if data.birth_date and data.birth_date != born:
        data.refuse("birth_date", _("The identity number says %(date)s.") % {"date": born})
    if data.sex and data.sex != sex:
        data.refuse("sex", _("The identity number says otherwise."))
    data.birth_date, data.sex = born, sex


def _check_fields(data: ResidentInput, scope: Scope) -> None:
    data.name = data.name.strip()
    if not data.name:
        data.refuse("name", pgettext("person", "A name is required."))
    if data.community.level != RegionLevel.COMMUNITY:
        data.refuse("community", _("A resident lives in a community or a village."))
    elif not scope.covers(data.community.code):
        data.refuse("community", _("This community is outside your area."))
    if data.household and data.household.community_id != data.community.code:
        data.refuse("household", _("The household is in another community."))
    _check_identity(data)
    if data.phone:
        try:
            data.phone = validate_mobile(data.phone)
        except ValidationError as error:
            data.refuse("phone", error.messages[0])
    if data.sex and data.sex not in Sex.values:
        data.refuse("sex", _("Unknown value."))
    if data.birth_date and data.birth_date > timezone.localdate():
        data.refuse("birth_date", _("A birth date cannot be in the future."))
    if data.disability_category and data.disability_category not in DisabilityCategory.values:
        data.refuse("disability_category", _("Unknown disability category."))
    if bool(data.disability_category) != bool(data.disability_grade):
        data.refuse("disability_grade", _("Give the disability category and its grade together."))
    if data.disability_grade and data.disability_grade not in {"1", "2", "3", "4"}:
        data.refuse("disability_grade", _("A disability grade is 1, 2, 3 or 4."))
    if data.difficulty and data.difficulty not in Difficulty.values:
        data.refuse("difficulty", _("Unknown assistance status."))


def identity_index(number: str) -> str:
    return blind_index(number, purpose="identity_number") if number else ""


def _check_duplicate(data: ResidentInput, scope: Scope) -> None:
    """Refuse an identity number already registered, found through its blind index."""
    index = identity_index(data.identity_number)
    if not index:
        return
    first = Resident.objects.filter(identity_index=index).only("id", "community_id").first()
    if first is not None:
        if scope.covers(first.community_id):
            reason = _("Already registered: resident no. %(id)s.") % {"id": first.pk}
        else:
            reason = _("Already registered in another community.")
        data.refuse("identity_number", reason)


def priority_groups(resident: Resident) -> set[str]:
    """The tallied groups of a resident; age groups come from the birth year when read."""
    groups = {""}
    if resident.living_alone:
        groups.add("living_alone")
    if resident.left_behind:
        groups.add(PriorityGroup.LEFT_BEHIND)
    if resident.disability_category:
        groups.add(PriorityGroup.DISABLED)
    if resident.difficulty:
        groups.add(PriorityGroup.FAMILY_IN_DIFFICULTY)
    return groups


def tally(residents: Iterable[Resident], sign: int = 1) -> None:
    """Move the priority tallies by each resident's groups (+1 registered, -1 removed)."""
    moves: Counter[tuple[str, int, str]] = Counter()
    for resident in residents:
        for group in priority_groups(resident):
            moves[(resident.community_id, resident.birth_year or 0, group)] += sign
    for (community, year, group), delta in sorted(moves.items()):
        row, _created = PriorityTally.objects.select_for_update().get_or_create(
            community_id=community, birth_year=year, group=group
        )
        PriorityTally.objects.filter(pk=row.pk).update(count=F("count") + delta)


def resident_build(data: ResidentInput) -> Resident:
    """The resident a checked input describes, with its blind indexes (not saved)."""
    return Resident(
        community=data.community,
        household=data.household,
        name=data.name,
        sex=data.sex,
        birth_date=data.birth_date,
        birth_year=data.birth_date.year if data.birth_date else None,
        address=data.address.strip(),
        identity_number=data.identity_number,
        identity_index=identity_index(data.identity_number),
        phone=data.phone,
        phone_index=blind_index(data.phone, purpose="phone") if data.phone else "",
        living_alone=data.living_alone,
        left_behind=data.left_behind,
        disability_category=data.disability_category,
        disability_grade=data.disability_grade,
        difficulty=data.difficulty,
        health_notes=data.health_notes.strip(),
    )


def resident_check(*, actor: User | None, data: ResidentInput) -> tuple[Resident, dict]:
    """Validate without writing: the resident to save, or the errors (for imports and forms)."""
    scope = keeper_scope(actor)
    _check_fields(data, scope)
    _check_duplicate(data, scope)
    age = age_on(data.birth_date, timezone.localdate())
    if age is not None and age < GUARDIAN_AGE:
        for name in NEEDS_GUARDIAN:
            if getattr(data, name):
                data.refuse(
                    name,
                    _(
                        "A child under 14: record a guardian's consent before anything "
                        "beyond registration."
                    ),
                )
    return resident_build(data), data.errors


@transaction.atomic
def resident_register(*, actor: User | None, data: ResidentInput) -> Resident:
    """Register a resident; every problem is refused at once and nothing is stored."""
    resident, errors = resident_check(actor=actor, data=data)
    if errors:
        raise ValidationFailed(fields=errors)
    resident.save()
    tally([resident])
    return resident


def residents_register_many(residents: list[Resident]) -> None:
    """Store residents built by resident_build, in bulk: checked rows of an import, or
    the demo's generated ones (valid by construction)."""
    Resident.objects.bulk_create(residents, batch_size=1000)
    tally(residents)


@transaction.atomic
def consent_record(
    *,
    actor: User | None,
    resident: Resident,
    purpose: str,
    given_on: dt.date,
    given_by: Resident | None = None,
    scope_text: str = "",
) -> Consent:
    keeper = keeper_scope(actor)
    if not keeper.covers(resident.community_id):
        raise PermissionDenied(_("This resident is outside your area."))
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed(fields={"purpose": [_("Unknown purpose.")]})
    if purpose == ConsentPurpose.GUARDIAN and given_by is None:
        raise ValidationFailed(fields={"given_by": [_("A guardian gives this consent.")]})
    if given_on > timezone.localdate():
        raise ValidationFailed(fields={"given_on": [_("A consent cannot be given in the future.")]})
    return Consent.objects.create(
        resident=resident,
        purpose=purpose,
        given_on=given_on,
        given_by=given_by,
        scope=scope_text,
        recorded_by=actor,
    )


@transaction.atomic
def resident_unmask(
    *, actor: User, resident: Resident, fields: list[str], purpose: str
) -> dict[str, str]:
    """The clear values of sensitive fields, for a stated purpose; the reading is logged."""
    keeper = user_scope(actor, roles=RESIDENT_KEEPER_ROLES)
    if not keeper.covers(resident.community_id):
        raise PermissionDenied(_("Your role may not see these details of this resident."))
    unknown = [f for f in fields if f not in SENSITIVE_FIELDS]
    if unknown or not fields:
        raise ValidationFailed(
            fields={
                "fields": [_("Choose among: %(names)s.") % {"names": ", ".join(SENSITIVE_FIELDS)}]
            }
        )
    if len(purpose.strip()) < 4:
        raise ValidationFailed(fields={"purpose": [_("Say why you need to see this.")]})
    AccessEvent.objects.create(
        actor=actor,
        actor_username=actor.get_username(),
        action=AccessEvent.Action.UNMASK,
        resident=resident,
        resident_ref=resident.pk,
        community_code=resident.community_id,
        fields=sorted(fields),
        purpose=purpose.strip(),
    )
    return {name: getattr(resident, name) for name in fields}


@transaction.atomic
def resident_anonymize(*, resident: Resident) -> Resident:
    """The person disappears; what statistics need (community, birth year, tallies) stays."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    resident.consents.all().delete()
    resident.relations.all().delete()
    resident.relations_as.all().delete()
    cleared: dict[str, Any] = {
        "name": "",
        "sex": "",
        "birth_date": None,
        "address": "",
        "household": None,
        "user": None,
        "identity_number": "",
        "identity_index": "",
        "phone": "",
        "phone_index": "",
        "disability_category": "",
        "disability_grade": "",
        "difficulty": "",
        "health_notes": "",
        "anonymized_at": timezone.now(),
    }
    for name, value in cleared.items():
        setattr(resident, name, value)
    resident.save()
    return resident
