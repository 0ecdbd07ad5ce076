"""Why a request comes first: a priority score with its parts.

The plan puts the elderly, people with disabilities, minors and families in
difficulty first. The score adds points for the urgency, for each priority group
of the person served, and for every hour waited, so nobody's request sinks for
ever. The parts are stored beside the total and shown to dispatchers ("why is
this first"). The person's groups come from the encrypted register, read here
by the system: nobody sees them but the keepers who may.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from linli.residents.choices import PriorityGroup
from linli.residents.models import Resident

from .choices import Urgency

URGENCY_POINTS = {
    Urgency.LOW: 10,
    Urgency.NORMAL: 20,
    Urgency.HIGH: 40,
    Urgency.URGENT: 80,
}
GROUP_POINTS = {
    PriorityGroup.ELDERLY_LIVING_ALONE: 25,
    PriorityGroup.DISABLED: 20,
    PriorityGroup.FAMILY_IN_DIFFICULTY: 15,
    PriorityGroup.ELDERLY: 10,
    PriorityGroup.MINOR: 10,
    PriorityGroup.LEFT_BEHIND: 10,
}
# Beyond the groups: the oldest, the most severely disabled, and a child left behind
# (no guardian at hand) weigh more.
OLDEST_AGE, OLDEST_POINTS = 80, 10
SEVERE_GRADES, SEVERE_POINTS = ("1", "2"), 10
CHILD_LEFT_BEHIND_POINTS = 10


def waiting_points(created_at: dt.datetime, now: dt.datetime) -> int:
    per_hour = getattr(settings, "LINLI_TRIAGE_POINTS_PER_HOUR", 1)
    cap = getattr(settings, "LINLI_TRIAGE_WAITING_CAP", 48)
    hours = max(0.0, (now - created_at).total_seconds() / 3600)
    return min(cap, int(hours * per_hour))


def person_groups(person: Resident | None, day: dt.date) -> dict[str, int]:
    """The points a person's priority groups earn, by reason."""
    if person is None:
        return {}
    points: dict[str, int] = {}
    age = person.age(day)
    elderly = age is not None and age >= 60
    if elderly and person.living_alone:
        points[PriorityGroup.ELDERLY_LIVING_ALONE] = GROUP_POINTS[
            PriorityGroup.ELDERLY_LIVING_ALONE
        ]
    elif elderly:
        points[PriorityGroup.ELDERLY] = GROUP_POINTS[PriorityGroup.ELDERLY]
    if age is not None and age >= OLDEST_AGE:
        points["oldest"] = OLDEST_POINTS
    if person.disability_category:
        points[PriorityGroup.DISABLED] = GROUP_POINTS[PriorityGroup.DISABLED]
        if person.disability_grade in SEVERE_GRADES:
            points["severe_disability"] = SEVERE_POINTS
    if person.difficulty:
        points[PriorityGroup.FAMILY_IN_DIFFICULTY] = GROUP_POINTS[
            PriorityGroup.FAMILY_IN_DIFFICULTY
        ]
    minor = age is not None and age < 18
    if minor:
        points[PriorityGroup.MINOR] = GROUP_POINTS[PriorityGroup.MINOR]
    if person.left_behind:
        points[PriorityGroup.LEFT_BEHIND] = GROUP_POINTS[PriorityGroup.LEFT_BEHIND]
        if minor:
            points["child_left_behind"] = CHILD_LEFT_BEHIND_POINTS
    return points


def priority_breakdown(
    *, urgency: str, person: Resident | None, created_at: dt.datetime, now: dt.datetime
) -> dict[str, int]:
    """Every part of the score, by reason; the score is their sum."""
    parts = {"urgency": URGENCY_POINTS[Urgency(urgency)]}
    parts.update(person_groups(person, now.date()))
    parts["waiting"] = waiting_points(created_at, now)
    return parts
