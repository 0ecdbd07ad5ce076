"""Reads of the register: who may see which residents, masked by default, and counts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import Scope, user_scope
from linli.core.pii import mask_identity_number, mask_phone, mask_text

from .choices import PriorityGroup
from .models import PriorityTally, Resident

# Who sees lists of residents (masked): those who keep them, and officials above them.
LIST_ROLES = (
    *RESIDENT_KEEPER_ROLES,
    Role.STREET_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.CITY_OFFICIAL,
)


def residents_visible_to(user: Any) -> QuerySet[Resident]:
    """Residents of the user's area for keepers and officials; themselves and those they
    act for (as a proxy, with consent in force) for a resident. Never the anonymized."""
    if not getattr(user, "is_authenticated", False):
        return Resident.objects.none()
    area = user_scope(user, roles=LIST_ROLES)
    mine = Q(user=user) | Q(
        relations__person__user=user,
        relations__kind="proxy",
        relations__consent__withdrawn_on__isnull=True,
    )
    return Resident.objects.filter(
        area.q("community__code") | mine, anonymized_at__isnull=True
    ).distinct()


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
