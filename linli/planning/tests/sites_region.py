"""A small hand-made county for the siting tests, whose answers are worked out by hand.

County 970101, street 001: four communities on a north-south line, 2 km apart (lon 120.0),
none with household records, so each is 50 points spread within 600 m of its centre
(networks.demand_points), carrying its population equally.

    A 970101001001  lat 30.000  1,000 people  an outdoor fitness corner at its centre
    B 970101001002  lat 30.018    600 people  registered: 100, none elderly
    C 970101001003  lat 30.036    400 people
    D 970101001004  lat 30.054    300 people  registered: 100, all elderly

With a radius of 1,200 m and straight line × 1.3, a site at a community's centre reaches
all of it (600 m × 1.3 = 780 m) and nothing of its neighbours (1,400 m × 1.3 away at the
nearest). A is covered now (1,000 of 2,300). Candidates at the centres of B, C, D:
k = 1 picks B (600); with elderly=2, D weighs 300 × (1 + 2 × 1) = 900 > 600 and wins.
Costs B 500, C 100, D 100: a budget of 200 buys C + D (700 people) rather than B (600).
Beside it, county 970102 with one community, outside the county official's area.
"""

from __future__ import annotations

from dataclasses import dataclass

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.choices import FacilityKind
from linli.directory.tests.factories import LocationFactory
from linli.regions.models import Region
from linli.regions.tests.factories import RegionFactory, region_chain
from linli.residents.models import PriorityTally

COUNTY = "970101000000"
STREET = "970101001000"
A, B, C, D = (f"970101001{i:03d}" for i in (1, 2, 3, 4))
OTHER_COUNTY = "970102000000"
OTHER_COMMUNITY = "970102001001"
LAT = {A: 30.000, B: 30.018, C: 30.036, D: 30.054}
POPULATION = {A: 1000, B: 600, C: 400, D: 300}
RADIUS = 1200

CANDIDATES_CSV = (
    "id,name,lat,lon,cost\n"
    f"B,Site B,{LAT[B]},120.0,500\n"
    f"C,Site C,{LAT[C]},120.0,100\n"
    f"D,Site D,{LAT[D]},120.0,100\n"
)


@dataclass
class County:
    regions: dict[str, Region]
    official: User
    outsider: User
    auditor: User


def build_county() -> County:
    region_chain(STREET)
    regions = {code: RegionFactory.create(code=code) for code in (COUNTY, STREET)}
    for code, lat in LAT.items():
        regions[code] = RegionFactory.create(
            code=code, lat=lat, lon=120.0, population=POPULATION[code], households=100
        )
    region_chain(OTHER_COMMUNITY, lat=31.0, lon=121.0, population=500)
    LocationFactory.create(
        name="Fitness A",
        kind=FacilityKind.OUTDOOR_FITNESS,
        latitude=LAT[A],
        longitude=120.0,
        region=regions[A],
    )
    # Tallies: birth year 1950 is elderly, 1990 is not (any year after 2010).
    PriorityTally.objects.create(community=regions[B], birth_year=1990, group="", count=100)
    PriorityTally.objects.create(community=regions[D], birth_year=1950, group="", count=100)
    official = UserFactory.create(username="county_official")
    RoleAssignmentFactory.create(user=official, role=Role.DISTRICT_OFFICIAL, region=regions[COUNTY])
    outsider = UserFactory.create(username="other_official")
    RoleAssignmentFactory.create(
        user=outsider, role=Role.DISTRICT_OFFICIAL, region=Region.objects.get(code=OTHER_COUNTY)
    )
    auditor = UserFactory.create(username="county_auditor")
    RoleAssignmentFactory.create(user=auditor, role=Role.AUDITOR, region=regions[COUNTY])
    return County(regions=regions, official=official, outsider=outsider, auditor=auditor)
