"""Reads of the region tree. Callers pass the user's scope; nothing here bypasses it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr

from linli.accounts.selectors import Scope

from . import codes
from .choices import RegionKind, RegionLevel
from .models import Region


@dataclass(frozen=True)
class SubtreeCounts:
    communities: int = 0
    villages: int = 0
    population: int = 0
    households: int = 0


def region_get(*, scope: Scope, code: str) -> Region | None:
    """The region, or None when it does not exist or lies outside the scope."""
    if not scope.covers(code):
        return None
    return Region.objects.filter(code=code).select_related("parent").first()


def region_ancestors(region: Region) -> list[Region]:
    """From the province down to the region's parent, in one query."""
    chain = codes.ancestors_of(region.code)
    found = Region.objects.in_bulk(chain)
    return [found[c] for c in reversed(chain) if c in found]


def region_tops(*, scope: Scope) -> QuerySet[Region]:
    """The highest regions of the scope: where a user's browsing starts."""
    if scope.everything:
        return Region.objects.filter(level=RegionLevel.PROVINCE)
    return Region.objects.filter(code__in=[p.ljust(codes.CODE_LENGTH, "0") for p in scope.prefixes])


def region_children(*, scope: Scope, region: Region) -> QuerySet[Region]:
    return Region.objects.filter(scope.q("code"), parent=region)


def subtree_counts(*, scope: Scope, regions: list[Region]) -> dict[str, SubtreeCounts]:
    """Communities, villages, population and households below each region.

    Figures come from the lowest level, so a street's total is always the sum of
    what its communities report, whatever the street's own row says. One query
    per level among `regions` (a page's children are all of one level).
    """
    by_length: dict[int, list[Region]] = {}
    for region in regions:
        by_length.setdefault(len(region.prefix), []).append(region)
    counts: dict[str, SubtreeCounts] = {}
    for length, group in by_length.items():
        counts.update(_subtree_counts_at(scope, length, group))
    return {r.code: counts.get(r.prefix, SubtreeCounts()) for r in regions}


def _subtree_counts_at(
    scope: Scope, length: int, regions: list[Region]
) -> dict[str, SubtreeCounts]:
    lowest = Region.objects.filter(
        scope.q("code"),
        reduce(or_, (Q(code__startswith=r.prefix) for r in regions)),
        level=RegionLevel.COMMUNITY,
    )
    rows = (
        lowest.annotate(top=Substr("code", 1, length))
        .values("top")
        .annotate(
            communities=Count("code", filter=Q(kind=RegionKind.URBAN)),
            villages=Count("code", filter=Q(kind=RegionKind.RURAL)),
            population=Sum("population"),
            households=Sum("households"),
        )
        .order_by()
    )
    return {
        row["top"]: SubtreeCounts(
            communities=row["communities"],
            villages=row["villages"],
            population=row["population"] or 0,
            households=row["households"] or 0,
        )
        for row in rows
    }
