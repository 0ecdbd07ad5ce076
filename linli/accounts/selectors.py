"""What a user may see. Every page, API list, export and report asks here.

A user's scope is the union of the region subtrees of their roles, kept as
the significant prefixes of those regions' codes: a region is visible when its
code starts with one of them, and so is any record that points at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from linli.regions.codes import ancestors_of, prefix_of
from linli.regions.models import Region

from .choices import Role
from .models import RoleAssignment, User


@dataclass(frozen=True)
class Scope:
    everything: bool
    prefixes: tuple[str, ...]

    def q(self, field: str = "code") -> Q:
        """A filter on `field` (a region code) that keeps only what is in scope.

        Pass the code itself: "code" on regions, "region__code" through a foreign
        key (Django reads the key's column, no join), "location__region__code"
        across a relation. `region_id` cannot take a prefix lookup.
        """
        if self.everything:
            # Not Q(): an empty Q vanishes when OR-ed with another ("area | mine" would
            # keep only "mine"), and everything would become nothing.
            return Q(pk__isnull=False)
        if not self.prefixes:
            return Q(pk__in=[])
        return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in self.prefixes))

    def covers(self, code: str) -> bool:
        return self.everything or any(code.startswith(p) for p in self.prefixes)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.prefixes


NOTHING = Scope(everything=False, prefixes=())


def _minimal_prefixes(prefixes: set[str]) -> tuple[str, ...]:
    """Drop every prefix that another one already covers (a street inside a held district)."""
    kept: list[str] = []
    for prefix in sorted(prefixes, key=len):
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return tuple(sorted(kept))


def _organization_reach(organization_ids: list[Any]) -> set[str]:
    """Where organizations work: their own regions and their facilities' communities."""
    if not organization_ids:
        return set()
    codes_ = Region.objects.filter(
        Q(organizations__in=organization_ids) | Q(locations__organization__in=organization_ids)
    ).values_list("code", flat=True)
    return {prefix_of(code) for code in codes_.distinct()}


def user_scope(user: Any, roles: Iterable[str] | None = None) -> Scope:
    """The regions `user` may see, or, given `roles`, reach through those roles only.

    Writing services pass the roles that write, so that a read-only role held
    over a wider area (an auditor's district) never widens where a user writes.
    Cached on the user object for the rest of the request.
    """
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    key = None if roles is None else frozenset(roles)
    cache: dict[frozenset[str] | None, Scope] = user.__dict__.setdefault("_linli_scopes", {})
    if key in cache:
        return cache[key]
    assignments = RoleAssignment.objects.filter(user=user).select_related("region")
    if key is not None:
        assignments = assignments.filter(role__in=key)
    held = list(assignments.only("role", "region__code", "region__level", "organization_id"))
    if user.is_superuser or any(
        a.role == Role.SYSTEM_ADMIN and a.region is None and a.organization_id is None for a in held
    ):
        scope = Scope(everything=True, prefixes=())
    else:
        prefixes = {a.region.prefix for a in held if a.region}
        prefixes |= _organization_reach([a.organization_id for a in held if a.organization_id])
        scope = Scope(everything=False, prefixes=_minimal_prefixes(prefixes))
    cache[key] = scope
    return scope


def staff_organizations(user: Any) -> QuerySet[RoleAssignment, Any]:
    """The ids of the organizations `user` works for as provider staff, as a subquery
    (`organization__in=staff_organizations(user)`)."""
    return RoleAssignment.objects.filter(
        user=user, role=Role.PROVIDER_STAFF, organization__isnull=False
    ).values("organization_id")


def is_staff_of(user: Any, organization_id: Any) -> bool:
    """Whether `user` works for the organization as provider staff."""
    if user is None or organization_id is None:
        return False
    return staff_organizations(user).filter(organization_id=organization_id).exists()


def user_roles(user: Any) -> list[RoleAssignment]:
    """The user's role assignments with their regions, most senior role first."""
    if not getattr(user, "is_authenticated", False):
        return []
    order = {role: index for index, role in enumerate(reversed(Role.values))}
    assignments = RoleAssignment.objects.filter(user=user).select_related("region", "organization")
    return sorted(assignments, key=lambda a: (order[a.role], a.region_id or ""))


def regions_visible_to(user: Any) -> QuerySet[Region]:
    return Region.objects.filter(user_scope(user).q("code"))


def role_holders_over(role: str, region_code: str) -> QuerySet[User]:
    """Active users holding `role` over the region or any region above it: who answers
    for what happens there (escalations go to them)."""
    return (
        User.objects.filter(
            is_active=True,
            role_assignments__role=role,
            role_assignments__region_id__in=[region_code, *ancestors_of(region_code)],
        )
        .distinct()
        .order_by("pk")
    )
