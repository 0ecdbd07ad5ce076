"""Writes to the residents register: check, then act, then record.

Every write validates first and raises ValidationFailed with each field's
reasons; sensitive values are stored encrypted with their blind indexes; the
priority tallies move in the same transaction; unmasking and exports write an
access event.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
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

from .choices import (
    ConsentPurpose,
    Difficulty,
    DisabilityCategory,
    PriorityGroup,
    RelationKind,
    Sex,
)
from .models import (
    SENSITIVE_FIELDS,
    AccessEvent,
    Consent,
    Correction,
    Household,
    PriorityTally,
    Relation,
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


def registered_identities(indexes: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Blind index → (record number, community) of the identity numbers already registered:
    one query for a batch of imported rows instead of one per row."""
    wanted = {index for index in indexes if index}
    rows = Resident.objects.filter(identity_index__in=wanted).values_list(
        "identity_index", "id", "community_id"
    )
    return {index: (pk, community) for index, pk, community in rows}


def _check_duplicate(
    data: ResidentInput,
    scope: Scope,
    current: Resident | None,
    registered: Mapping[str, tuple[int, str]] | None,
) -> None:
    """Refuse an identity number already registered, found through its blind index."""
    index = identity_index(data.identity_number)
    if not index:
        return
    if registered is None:
        registered = registered_identities([index])
    found = registered.get(index)
    if found is None or (current is not None and found[0] == current.pk):
        return
    pk, community = found
    if scope.covers(community):
        reason = _("Already registered: resident no. %(id)s.") % {"id": pk}
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
    """Move the priority tallies by each resident's groups (+1 registered, -1 removed).

    A whole import moves thousands of tallies: the missing rows are created at zero,
    the affected communities' rows are locked in one query (in key order, so two
    imports never deadlock), and the new counts are written in bulk."""
    moves: Counter[tuple[str, int, str]] = Counter()
    for resident in residents:
        for group in priority_groups(resident):
            moves[(resident.community_id, resident.birth_year or 0, group)] += sign
    if not moves:
        return
    PriorityTally.objects.bulk_create(
        [PriorityTally(community_id=c, birth_year=y, group=g, count=0) for c, y, g in moves],
        batch_size=1000,
        ignore_conflicts=True,
    )
    communities = sorted({community for community, _year, _group in moves})
    changed = []
    for row in (
        PriorityTally.objects.select_for_update()
        .filter(community_id__in=communities)
        .order_by("pk")
    ):
        delta = moves.get((row.community_id, row.birth_year, row.group))
        if delta:
            row.count += delta
            changed.append(row)
    PriorityTally.objects.bulk_update(changed, ["count"], batch_size=1000)


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


def guardian_consented(resident: Resident | None) -> bool:
    """Whether a guardian's consent is in force for this (already registered) child."""
    if resident is None or resident.pk is None:
        return False
    return resident.consents.filter(
        purpose=ConsentPurpose.GUARDIAN, withdrawn_on__isnull=True
    ).exists()


def resident_check(
    *,
    actor: User | None,
    data: ResidentInput,
    current: Resident | None = None,
    registered: Mapping[str, tuple[int, str]] | None = None,
) -> tuple[Resident, dict]:
    """Validate without writing: the resident to save, or the errors (for imports and forms).

    `current` is the stored record when `data` would replace it; `registered`, the
    identity numbers already registered among a batch's (from `registered_identities`)."""
    scope = keeper_scope(actor)
    _check_fields(data, scope)
    _check_duplicate(data, scope, current, registered)
    age = age_on(data.birth_date, timezone.localdate())
    if age is not None and age < GUARDIAN_AGE and not guardian_consented(current):
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


# What an update may change; the rest (registration time, account, anonymization) stays.
UPDATABLE_FIELDS = (
    "community",
    "household",
    "name",
    "sex",
    "birth_date",
    "birth_year",
    "address",
    "identity_number",
    "identity_index",
    "phone",
    "phone_index",
    "living_alone",
    "left_behind",
    "disability_category",
    "disability_grade",
    "difficulty",
    "health_notes",
)


def resident_input(resident: Resident) -> ResidentInput:
    """The input that would register `resident` as stored: where an edit starts.

    Sex and birth date are left for the identity number to say again when there is
    one, so an edit that corrects the number corrects them too."""
    derived = bool(resident.identity_number)
    return ResidentInput(
        name=resident.name,
        community=resident.community,
        identity_number=resident.identity_number,
        phone=resident.phone,
        sex="" if derived else resident.sex,
        birth_date=None if derived else resident.birth_date,
        household=resident.household,
        address=resident.address,
        living_alone=resident.living_alone,
        left_behind=resident.left_behind,
        disability_category=resident.disability_category,
        disability_grade=resident.disability_grade,
        difficulty=resident.difficulty,
        health_notes=resident.health_notes,
    )


def _locked(resident: Resident) -> Resident:
    return Resident.objects.select_for_update().get(pk=resident.pk, anonymized_at__isnull=True)


def _require_keeper(actor: User | None, resident: Resident) -> None:
    if not keeper_scope(actor).covers(resident.community_id):
        raise PermissionDenied(_("This resident is outside your area."))


@transaction.atomic
def resident_update(*, actor: User | None, resident: Resident, data: ResidentInput) -> Resident:
    """Replace a resident's details with `data`; the priority tallies move with them."""
    resident = _locked(resident)
    _require_keeper(actor, resident)
    checked, errors = resident_check(actor=actor, data=data, current=resident)
    if errors:
        raise ValidationFailed(fields=errors)
    tally([resident], sign=-1)
    for name in UPDATABLE_FIELDS:
        setattr(resident, name, getattr(checked, name))
    resident.save()
    tally([resident])
    return resident


def residents_register_many(residents: list[Resident]) -> None:
    """Store residents built by resident_build, in bulk: checked rows of an import, or
    the demo's generated ones (valid by construction)."""
    Resident.objects.bulk_create(residents, batch_size=1000)
    tally(residents)


@transaction.atomic
def household_create(*, actor: User | None, community: Region, address: str) -> Household:
    scope = keeper_scope(actor)
    errors: dict[str, list[str]] = {}
    if community.level != RegionLevel.COMMUNITY:
        errors["community"] = [_("A household is in a community or a village.")]
    elif not scope.covers(community.code):
        errors["community"] = [_("This community is outside your area.")]
    if not address.strip():
        errors["address"] = [_("An address is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return Household.objects.create(community=community, address=address.strip())


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
    _require_keeper(actor, resident)
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


def acts_for(user: Any, resident: Resident) -> bool:
    """Whether `user` is the resident, or a proxy whose consent is in force."""
    if not getattr(user, "is_authenticated", False):
        return False
    if resident.user_id == user.pk:
        return True
    return resident.relations.filter(
        kind=RelationKind.PROXY, person__user=user, consent__withdrawn_on__isnull=True
    ).exists()


@transaction.atomic
def relation_add(
    *,
    actor: User | None,
    resident: Resident,
    person: Resident,
    kind: str,
    consent: Consent | None = None,
) -> Relation:
    """A guardian, an emergency contact, or a proxy acting with the resident's consent."""
    _require_keeper(actor, resident)
    errors: dict[str, list[str]] = {}
    if kind not in RelationKind.values:
        errors["kind"] = [_("Unknown relation.")]
    if person.pk == resident.pk:
        errors["person"] = [_("A resident cannot be their own relation.")]
    elif person.anonymized_at is not None:
        errors["person"] = [_("This person's record is anonymized.")]
    if kind == RelationKind.PROXY and (
        consent is None
        or consent.resident_id != resident.pk
        or consent.purpose != ConsentPurpose.PROXY
        or not consent.in_force
    ):
        errors["consent"] = [_("A proxy needs the resident's consent to it, in force.")]
    if Relation.objects.filter(resident=resident, person=person, kind=kind).exists():
        errors["person"] = [_("This relation is already recorded.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return Relation.objects.create(resident=resident, person=person, kind=kind, consent=consent)


# What withdrawing a consent erases: the data it allowed to be kept.
_ERASED_ON_WITHDRAWAL = {
    ConsentPurpose.HEALTH: ("health_notes",),
    ConsentPurpose.GUARDIAN: NEEDS_GUARDIAN,
}


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent) -> Consent:
    """The resident (or a keeper of their record) withdraws a consent from today on.

    What the consent alone allowed is erased: health notes with a health consent, a
    young child's details beyond registration with the last guardian's consent.
    A proxy whose consent is withdrawn no longer acts for the resident."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    resident = _locked(consent.resident)
    if not (
        acts_for(actor, resident)
        or user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(resident.community_id)
    ):
        raise PermissionDenied(_("Only the resident or a keeper of the record may do this."))
    if not consent.in_force:
        raise ValidationFailed(fields={"withdrawn_on": [_("This consent is already withdrawn.")]})
    consent.withdrawn_on = timezone.localdate()
    consent.save(update_fields=["withdrawn_on"])
    erased = _ERASED_ON_WITHDRAWAL.get(ConsentPurpose(consent.purpose), ())
    if consent.purpose == ConsentPurpose.GUARDIAN and (
        guardian_consented(resident) or not _under_guardian_age(resident)
    ):
        erased = ()
    if erased:
        tally([resident], sign=-1)
        for name in erased:
            setattr(resident, name, "")
        resident.save()
        tally([resident])
    return consent


def _under_guardian_age(resident: Resident) -> bool:
    age = resident.age(timezone.localdate())
    return age is not None and age < GUARDIAN_AGE


@transaction.atomic
def correction_ask(*, actor: User, resident: Resident, message: str) -> Correction:
    """The resident (or their proxy) says what is wrong; the community worker gets a task."""
    if not acts_for(actor, resident):
        raise PermissionDenied(_("Only the resident or their proxy may ask for a correction."))
    if len(message.strip()) < 4:
        raise ValidationFailed(fields={"message": [_("Say what is wrong and what is right.")]})
    return Correction.objects.create(
        resident=resident,
        community_code=resident.community_id,
        asked_by=actor,
        message=message.strip(),
    )


@transaction.atomic
def correction_answer(
    *, actor: User, correction: Correction, status: str, answer: str
) -> Correction:
    """The community worker closes the task: corrected (after editing the record) or not."""
    correction = Correction.objects.select_for_update().get(pk=correction.pk)
    if not user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(correction.community_code):
        raise PermissionDenied(_("This resident is outside your area."))
    errors: dict[str, list[str]] = {}
    if correction.status != Correction.Status.OPEN:
        errors["status"] = [_("This request is already answered.")]
    elif status not in (Correction.Status.DONE, Correction.Status.DECLINED):
        errors["status"] = [_("Answer with corrected or not corrected.")]
    if status == Correction.Status.DECLINED and len(answer.strip()) < 4:
        errors["answer"] = [_("Say why the record stays as it is.")]
    if errors:
        raise ValidationFailed(fields=errors)
    correction.status = status
    correction.answer = answer.strip()
    correction.answered_by = actor
    correction.answered_at = timezone.now()
    correction.save()
    return correction


def _access_event(
    actor: User, resident: Resident, action: str, fields: Iterable[str], purpose: str
) -> AccessEvent:
    return AccessEvent(
        actor=actor,
        actor_username=actor.get_username(),
        action=action,
        resident=resident,
        resident_ref=resident.pk,
        community_code=resident.community_id,
        fields=sorted(fields),
        purpose=purpose,
    )


def access_log_export(
    *, actor: User, residents: Iterable[Resident], fields: Iterable[str], purpose: str
) -> int:
    """Record that `actor` exported these residents' personal data: one event each."""
    return access_log(
        actor=actor,
        residents=residents,
        fields=fields,
        purpose=purpose,
        action=AccessEvent.Action.EXPORT,
    )


def access_log(
    *,
    actor: User,
    residents: Iterable[Resident],
    fields: Iterable[str],
    purpose: str,
    action: str,
) -> int:
    """Record that `actor` read these residents' personal data, how and why: one event each."""
    fields = list(fields)
    events = [_access_event(actor, resident, action, fields, purpose) for resident in residents]
    AccessEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)


@transaction.atomic
def resident_download(*, actor: User, resident: Resident) -> dict[str, Any]:
    """Everything Linli holds on a resident, in clear, for the resident or their proxy;
    the download itself is logged like any other reading of sensitive fields."""
    if not acts_for(actor, resident):
        raise PermissionDenied(_("Only the resident or their proxy may download this record."))
    # Stored in the deployment's language, whatever the resident's screen speaks, so the
    # audit trail reads the same to every auditor.
    with translation.override(settings.LANGUAGE_CODE):
        purpose = _("The resident's own copy")
    _access_event(actor, resident, AccessEvent.Action.DOWNLOAD, SENSITIVE_FIELDS, purpose).save()
    return resident_record(resident)


def resident_record(resident: Resident) -> dict[str, Any]:
    """A resident's whole record as plain data (the JSON a resident downloads)."""
    return {
        "id": resident.pk,
        "name": resident.name,
        "sex": resident.sex,
        "birth_date": resident.birth_date.isoformat() if resident.birth_date else None,
        "community": {"code": resident.community_id, "name": resident.community.name},
        "household": resident.household.address if resident.household else None,
        "address": resident.address,
        **{name: getattr(resident, name) for name in SENSITIVE_FIELDS},
        "living_alone": resident.living_alone,
        "left_behind": resident.left_behind,
        "registered_at": resident.registered_at.isoformat(),
        "updated_at": resident.updated_at.isoformat(),
        "consents": [
            {
                "purpose": consent.purpose,
                "scope": consent.scope,
                "given_on": consent.given_on.isoformat(),
                "withdrawn_on": consent.withdrawn_on.isoformat() if consent.withdrawn_on else None,
            }
            for consent in resident.consents.all()
        ],
        "relations": [
            {"kind": relation.kind, "person": relation.person.name}
            for relation in resident.relations.select_related("person")
        ],
        "corrections": [
            {
                "message": correction.message,
                "status": correction.status,
                "answer": correction.answer,
                "asked_at": correction.asked_at.isoformat(),
            }
            for correction in resident.corrections.all()
        ],
        "access_events": [
            {
                "at": event.at.isoformat(),
                "who": event.actor_username,
                "action": event.action,
                "fields": event.fields,
                "purpose": event.purpose,
            }
            for event in resident.access_events.all()
        ],
    }


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
    _access_event(actor, resident, AccessEvent.Action.UNMASK, fields, purpose.strip()).save()
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
