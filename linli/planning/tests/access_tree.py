"""A small county for the network and accessibility tests, with exact geometry.

County 990102, street 990102001, communities A (…001) and B (…002) about 960 m apart
east-west, each a 10 m square (so every household point sits within 7 m of its centre),
and village C (…003) with no location at all. A second county 990103 beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.tests.factories import LocationFactory
from linli.planning.engine.network import LocalProjection
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.residents.models import Household, PriorityTally

COUNTY = "990102000000"
STREET = "990102001000"
A = "990102001001"
B = "990102001002"
C = "990102001003"
OTHER_COUNTY_COMMUNITY = "990103001001"
CENTRE = (114.10, 30.60)
PROJ = LocalProjection(*CENTRE)


def lonlat(x_m: float, y_m: float = 0.0) -> tuple[float, float]:
    lon, lat = PROJ.inverse(x_m, y_m)
    return float(lon), float(lat)


def square(lon: float, lat: float, half_m: float = 5.0) -> dict[str, Any]:
    p = LocalProjection(lon, lat)
    (w, e), (s, n) = p.inverse([-half_m, half_m], [-half_m, half_m])
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in ring]]}


@dataclass
class Tree:
    regions: dict[str, Region]
    official: Any
    worker: Any
    other_official: Any


def build(*, households_a: int = 4, population_a: int = 1000, population_b: int = 500) -> Tree:
    a_lon, a_lat = lonlat(0.0)
    b_lon, b_lat = lonlat(960.0)
    regions = {
        A: region_chain(
            A, lon=a_lon, lat=a_lat, boundary=square(a_lon, a_lat), population=population_a
        ),
        B: region_chain(
            B, lon=b_lon, lat=b_lat, boundary=square(b_lon, b_lat), population=population_b
        ),
        C: region_chain(C, lon=None, lat=None, boundary=None, population=300),
        OTHER_COUNTY_COMMUNITY: region_chain(OTHER_COUNTY_COMMUNITY, lon=114.3, lat=30.7),
    }
    regions[COUNTY] = Region.objects.get(code=COUNTY)
    regions[STREET] = Region.objects.get(code=STREET)
    for n in range(households_a):
        Household.objects.create(community=regions[A], address=f"A {n}")
    PriorityTally.objects.create(community=regions[A], birth_year=1950, group="", count=40)
    PriorityTally.objects.create(
        community=regions[A], birth_year=1950, group="living_alone", count=10
    )
    PriorityTally.objects.create(community=regions[B], birth_year=1950, group="", count=20)
    PriorityTally.objects.create(
        community=regions[B], birth_year=1950, group="living_alone", count=6
    )
    official = UserFactory(username="district")
    RoleAssignmentFactory(user=official, role="district_official", region=regions[COUNTY])
    worker = UserFactory(username="worker")
    RoleAssignmentFactory(user=worker, role="community_worker", region=regions[A])
    other = UserFactory(username="other")
    RoleAssignmentFactory(
        user=other,
        role="district_official",
        region=Region.objects.get(code="990103000000"),
    )
    return Tree(regions=regions, official=official, worker=worker, other_official=other)


def facility(x_m: float, y_m: float = 0.0, *, kind: str = "health_station", **fields: Any) -> Any:
    lon, lat = lonlat(x_m, y_m)
    fields.setdefault("region_id", A)
    return LocationFactory(kind=kind, longitude=lon, latitude=lat, **fields)
