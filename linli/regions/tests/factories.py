from __future__ import annotations

from typing import cast

import factory

from linli.regions import codes
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.models import Region


class RegionFactory(factory.django.DjangoModelFactory):
    """A region whose level and parent follow from its code; pass `code`."""

    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "990000000000"
    name = factory.LazyAttribute(lambda r: f"区域{r.code}")
    name_en = factory.LazyAttribute(lambda r: f"Region {r.code}")
    level = factory.LazyAttribute(lambda r: codes.level_of(r.code))
    kind = factory.LazyAttribute(
        lambda r: RegionKind.URBAN if r.level == RegionLevel.COMMUNITY else ""
    )
    parent_id = factory.LazyAttribute(lambda r: codes.parent_of(r.code))
    population = 1000
    households = 400


def region_chain(code: str, **last: object) -> Region:
    """The region with `code` and every ancestor it needs; `last` sets fields of the deepest."""
    chain = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = codes.parent_of(current)
    for ancestor in reversed(chain[1:]):
        RegionFactory(code=ancestor)
    return cast(Region, RegionFactory(code=code, **last))
