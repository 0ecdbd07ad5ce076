"""Reads of the register: who may see which residents, masked by default, and counts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Case, Q, QuerySet, Sum, When
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import Scope, user_scope
from linli.core.pii import mask_identity_number, mask_phone, mask_text

from .choices import AgeBand, PriorityGroup, RelationKind
from .models import AccessEvent, Correction, PriorityTally, Resident

# Who sees lists of residents (masked): those who keep them, and officials above them.
LIST_ROLES = (
    *RESIDENT_KEEPER_ROLES,
    Role.STREET_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.CITY_OFFICIAL,
)


def acted_for_q(user: Any, path: str = "") -> Q:
    """The user's own record and those they are a proxy for, with consent in force.

    `path` reaches residents from another model ("person__" from a service request)."""
    return Q(**{f"{path}user": user}) | Q(
        **{
            f"{path}relations__person__user": user,
            f"{path}relations__kind": RelationKind.PROXY,
            f"{path}relations__consent__withdrawn_on__isnull": True,
        }
    )


def residents_visible_to(user: Any) -> QuerySet[Resident]:
    """Residents of the user's area for keepers and officials; themselves and those they
    act for (as a proxy, with consent in force) for a resident. Never the anonymized."""
    if not getattr(user, "is_authenticated", False):
        return Resident.objects.none()
    area = user_scope(user, roles=LIST_ROLES)
    return Resident.objects.filter(
        area.q("community__code") | acted_for_q(user), anonymized_at__isnull=True
    ).distinct()


def residents_acted_for(user: Any) -> QuerySet[Resident]:
    """The resident's own record first, then those they are a proxy for."""
    if not getattr(user, "is_authenticated", False):
        return Resident.objects.none()
    return (
        Resident.objects.filter(acted_for_q(user), anonymized_at__isnull=True)
        .distinct()
        .order_by(Case(When(user=user, then=0), default=1), "name", "id")
    )


def residents_kept_by(user: Any) -> QuerySet[Resident]:
    """Residents whose full records `user` keeps (and may edit and unmask)."""
    return Resident.objects.filter(
        user_scope(user, roles=RESIDENT_KEEPER_ROLES).q("community__code"),
        anonymized_at__isnull=True,
    )


def _born_between(age_from: int, age_to: int | None, day: dt.date) -> Q:
    """Ages age_from..age_to (inclusive) on `day`, as a birth-date range."""
    latest = _years_before(day, age_from)
    q = Q(birth_date__lte=latest)
    if age_to is not None:
        q &= Q(birth_date__gt=_years_before(day, age_to + 1))
    return q


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


AGE_BAND_RANGES: dict[str, tuple[int, int | None]] = {
    AgeBand.UNDER_14: (0, 13),
    AgeBand.MINOR: (14, 17),
    AgeBand.ADULT: (18, 59),
    AgeBand.YOUNG_OLD: (60, 79),
    AgeBand.OLDEST: (80, None),
}


def residents_filter(
    residents: QuerySet[Resident],
    *,
    community: str = "",
    age_band: str = "",
    group: str = "",
    day: dt.date | None = None,
) -> QuerySet[Resident]:
    """Narrow a list by community (a code prefix), age band and priority group.

    Disability and assistance status are encrypted, so those two groups are found by
    decrypting the (already scoped) candidates; every other filter is plain SQL."""
    day = day or timezone.localdate()
    if community:
        residents = residents.filter(community__code__startswith=community)
    if age_band == AgeBand.UNKNOWN:
        residents = residents.filter(birth_date__isnull=True)
    elif age_band:
        residents = residents.filter(_born_between(*AGE_BAND_RANGES[age_band], day))
    if group == PriorityGroup.ELDERLY:
        residents = residents.filter(_born_between(60, None, day))
    elif group == PriorityGroup.ELDERLY_LIVING_ALONE:
        residents = residents.filter(_born_between(60, None, day), living_alone=True)
    elif group == PriorityGroup.MINOR:
        residents = residents.filter(_born_between(0, 17, day))
    elif group == PriorityGroup.LEFT_BEHIND:
        residents = residents.filter(left_behind=True)
    elif group in (PriorityGroup.DISABLED, PriorityGroup.FAMILY_IN_DIFFICULTY):
        encrypted = "disability_category" if group == PriorityGroup.DISABLED else "difficulty"
        ids = [r.pk for r in residents.only("id", encrypted) if getattr(r, encrypted)]
        residents = residents.filter(pk__in=ids)
    return residents


def access_events_visible_to(user: Any) -> QuerySet[AccessEvent]:
    """Access events about residents of the auditor's (or administrator's) area."""
    scope = user_scope(user, roles=(Role.AUDITOR, Role.SYSTEM_ADMIN))
    return AccessEvent.objects.filter(scope.q("community_code"))


def corrections_for(user: Any) -> QuerySet[Correction]:
    """Correction requests the user answers (keepers) or asked (residents, proxies)."""
    if not getattr(user, "is_authenticated", False):
        return Correction.objects.none()
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return Correction.objects.filter(keeper.q("community_code") | Q(asked_by=user)).select_related(
        "resident"
    )


def resident_masked(resident: Resident) -> dict[str, Any]:
    """A resident as every screen shows them by default: sensitive fields masked."""
    return {
        "id": resident.pk,
        "name": resident.name,
        "sex": resident.sex,
        "age": resident.age(),
        "community": resident.community_id,
        "household": resident.household_id,
        "address": resident.address,
        "identity_number": mask_identity_number(resident.identity_number),
        "phone": mask_phone(resident.phone),
        "living_alone": resident.living_alone,
        "left_behind": resident.left_behind,
        "disability": mask_text(resident.disability_category),
        "difficulty": mask_text(resident.difficulty),
        "health_notes": mask_text(resident.health_notes),
    }


def priority_counts(*, scope: Scope, day: dt.date | None = None) -> dict[str, dict[str, int]]:
    """Per community: residents, elderly, elderly living alone, minors, disabled, families in
    difficulty, left behind. From the tallies: no record is decrypted, anonymized ones count.

    Ages go by birth year (someone born in 1966 counts as 60 all through 2026).
    """
    year = (day or timezone.localdate()).year
    rows = (
        PriorityTally.objects.filter(scope.q("community__code"))
        .values("community_id", "birth_year", "group")
        .annotate(n=Sum("count"))
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        figures = counts[row["community_id"]]
        born, group, n = row["birth_year"], row["group"], row["n"]
        elderly = bool(born) and year - born >= 60
        minor = bool(born) and year - born < 18
        if group == "":
            figures["residents"] += n
            figures[PriorityGroup.ELDERLY.value] += n if elderly else 0
            figures[PriorityGroup.MINOR.value] += n if minor else 0
        elif group == "living_alone":
            figures[PriorityGroup.ELDERLY_LIVING_ALONE.value] += n if elderly else 0
        else:
            figures[group] += n
    return {code: dict(figures) for code, figures in counts.items()}
