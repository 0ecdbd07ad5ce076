"""Who may do what with participatory budgets and fund pools: one answer per question."""

from __future__ import annotations

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.residents.models import Resident


def keeps_community(actor: User | None, community_id: str) -> bool:
    """Community workers of the community (and administrators); None is the system."""
    if actor is None:
        return True
    return user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(community_id)


def resident_of(actor: User | None, community_id: str) -> Resident | None:
    """The actor's verified resident record in the community: a registered resident with
    this account, living there, not anonymized."""
    if actor is None or not actor.is_authenticated:
        return None
    return Resident.objects.filter(
        user=actor, community_id=community_id, anonymized_at__isnull=True
    ).first()


# Officials who allocate incentive funds over the regions they hold (and administrators).
FUND_ROLES = (
    Role.STREET_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.CITY_OFFICIAL,
    Role.SYSTEM_ADMIN,
)


def allocates_in(actor: User | None, region_code: str) -> bool:
    """Street, district and city officials whose scope covers the region; None is the
    system (the demo builder, a command)."""
    if actor is None:
        return True
    return user_scope(actor, roles=FUND_ROLES).covers(region_code)
