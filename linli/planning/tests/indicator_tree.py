"""A small region tree with facilities and community workers, whose indicator values are
worked out by hand in the tests (test_indicators.py, test_dashboard.py, test_targets.py).

County 990102: street 001 holds urban C1 (3,000 people, 1,000 households), urban C2
(2,000 / 800) and village V1 (1,000 / 300); street 002 holds villages V2 (500 / 150) and
V3 (1,500 / 500). Comprehensive facilities: F1 in C1 (600 m², 400 of activity, opened
2020-01-01), F2 in C1 (200 m², activity unknown, opened 2022-06-01), F3 in V1 (300 m²,
150, opened 2021-03-01, closed 2024-05-01), F4 in V2 (400 m², 300, opening unknown); a
health station in C2. Beside it, county 990103 with one village, outside the county's
officials' scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment, User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.choices import FacilityKind
from linli.directory.models import Location
from linli.directory.tests.factories import LocationFactory
from linli.regions.choices import RegionKind
from linli.regions.models import Region
from linli.regions.tests.factories import RegionFactory, region_chain

COUNTY, STREET1, STREET2 = "990102000000", "990102001000", "990102002000"
C1, C2, V1 = "990102001001", "990102001002", "990102001201"
V2, V3 = "990102002201", "990102002202"
OTHER_VILLAGE = "990103001201"


@dataclass
class Tree:
    regions: dict[str, Region]
    facilities: dict[str, Location]
    official: User


def _place(code: str, kind: str, population: int, households: int, lat: float) -> Region:
    return RegionFactory.create(
        code=code,
        kind=kind,
        population=population,
        households=households,
        lat=lat,
        lon=120.0,
    )


def build_tree() -> Tree:
    region_chain(COUNTY)
    regions: dict[str, Region] = {
        code: RegionFactory.create(code=code) for code in (STREET1, STREET2)
    }
    regions[COUNTY] = Region.objects.get(code=COUNTY)
    regions[C1] = _place(C1, RegionKind.URBAN, 3000, 1000, 30.00)
    regions[C2] = _place(C2, RegionKind.URBAN, 2000, 800, 30.01)
    regions[V1] = _place(V1, RegionKind.RURAL, 1000, 300, 30.02)
    regions[V2] = _place(V2, RegionKind.RURAL, 500, 150, 30.03)
    regions[V3] = _place(V3, RegionKind.RURAL, 1500, 500, 30.05)
    region_chain(OTHER_VILLAGE, kind=RegionKind.RURAL, population=700, households=200)

    def facility(
        name: str,
        region: str,
        area: str,
        activity: str | None,
        opened: dt.date | None,
        closed: dt.date | None = None,
        kind: str = FacilityKind.COMPREHENSIVE,
    ) -> Location:
        return LocationFactory.create(
            name=name,
            kind=kind,
            region=regions[region],
            floor_area_m2=Decimal(area),
            activity_area_m2=None if activity is None else Decimal(activity),
            opened_on=opened,
            closed_on=closed,
            latitude=regions[region].lat,
            longitude=120.0,
        )

    facilities = {
        "F1": facility("F1", C1, "600", "400", dt.date(2020, 1, 1)),
        "F2": facility("F2", C1, "200", None, dt.date(2022, 6, 1)),
        "F3": facility("F3", V1, "300", "150", dt.date(2021, 3, 1), dt.date(2024, 5, 1)),
        "F4": facility("F4", V2, "400", "300", None),
        "H1": facility(
            "H1", C2, "100", None, dt.date(2019, 1, 1), kind=FacilityKind.HEALTH_STATION
        ),
    }
    for code in (C1, C2, V1):
        RoleAssignmentFactory(role=Role.COMMUNITY_WORKER, region=regions[code])
    RoleAssignment.objects.filter(role=Role.COMMUNITY_WORKER).update(
        granted_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    )
    official: User = UserFactory.create()
    RoleAssignmentFactory(user=official, role=Role.DISTRICT_OFFICIAL, region=regions[COUNTY])
    return Tree(regions=regions, facilities=facilities, official=official)
