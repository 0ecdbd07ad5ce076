"""Who may do what with volunteers, activities and the time bank: one answer per
question, used by every service, page and API endpoint of the app."""

from __future__ import annotations

import uuid

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import is_staff_of, user_scope

from .models import Activity, Volunteer


def keeps_community(actor: User | None, community_id: str) -> bool:
    """Community workers of the community (and administrators); None is the system."""
    if actor is None:
        return True
    return user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(community_id)


def staff_of(actor: User | None, organization_id: uuid.UUID | None) -> bool:
    """Provider staff of the organization."""
    return is_staff_of(actor, organization_id)


def may_verify(actor: User | None, volunteer: Volunteer) -> bool:
    """The volunteer's organization verifies them; without one, their community."""
    if volunteer.organization_id is not None and staff_of(actor, volunteer.organization_id):
        return True
    return keeps_community(actor, volunteer.community_id)


def may_organize(actor: User | None, activity: Activity) -> bool:
    """Whoever published the activity, the organizing organization's staff, or the
    community's workers: they record attendance and certify hours."""
    if actor is not None and activity.created_by_id == actor.pk:
        return True
    if activity.organization_id is not None and staff_of(actor, activity.organization_id):
        return True
    return keeps_community(actor, activity.community_id)


def volunteer_of(user: User | None) -> Volunteer | None:
    """The user's volunteer record, if they registered as one."""
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.filter(user=user).first()
