"""The demo district's directory: organizations of every kind and a few hundred facilities.

Realistic rather than uniform: every urban community has a comprehensive service
facility but some villages do not; most villages have a clinic; each street or
town has a health centre, a nursing home and a library; fitness corners are
spread unevenly. Each facility offers the services its kind offers, with hours,
fees, eligibility and accessibility features.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from linli.core.registry import DemoContext, demo_step
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.demo import DISTRICT
from linli.regions.models import Region

from .choices import AccessibilityFeature, FacilityKind, FeeKind, LinkEntity, OrganizationKind
from .choices import AttributeLinkType as Link
from .models import (
    Accessibility,
    Address,
    Attribute,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from .taxonomy import PRIORITY_TAXONOMY, SERVICES_TAXONOMY, install, term_uuid
from .validators import CREDIT_CODE_ALPHABET, credit_code_check_character

WEEKDAYS = "MO,TU,WE,TH,FR"
EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"


@dataclass(frozen=True)
class Offer:
    """A service a kind of facility offers: its category, name, fee and who it is for."""

    category: str
    name: str
    fee: str = FeeKind.FREE
    amount: str | None = None
    at_home: bool = False
    online: bool = False
    groups: tuple[str, ...] = ()
    minimum_age: int | None = None
    maximum_age: int | None = None


@dataclass(frozen=True)
class KindPlan:
    name: str
    hours: tuple[tuple[str, str, str], ...]
    area: tuple[int, int]
    capacity: tuple[int, int]
    offers: tuple[Offer, ...]
    features: int = 3
    owner: str = OrganizationKind.COMMUNITY_COMMITTEE


K = FacilityKind
PLANS: dict[str, KindPlan] = {
    K.COMPREHENSIVE: KindPlan(
        "党群服务中心",
        ((WEEKDAYS, "08:30", "17:30"), ("SA", "09:00", "12:00")),
        (600, 1500),
        (80, 200),
        (
            Offer("convenience_government_affairs", "政务代办"),
            Offer("culture_activity", "文化活动"),
            Offer("safety_dispute_mediation", "矛盾纠纷调解"),
            Offer("welfare_subsistence", "低保申请协助", groups=("family_in_difficulty",)),
            Offer("education_digital_skills", "智能手机培训", groups=("elderly",), minimum_age=60),
        ),
        features=5,
    ),
    K.HEALTH_CENTER: KindPlan(
        "社区卫生服务中心",
        ((WEEKDAYS, "08:00", "17:30"), ("SA,SU", "08:00", "12:00")),
        (1000, 3000),
        (100, 300),
        (
            Offer("medical_family_doctor", "家庭医生签约"),
            Offer("medical_screening", "老年人健康体检", groups=("elderly",), minimum_age=65),
            Offer("medical_chronic_followup", "慢病随访"),
            Offer(
                "medical_home_visit",
                "上门医疗",
                FeeKind.SUBSIDIZED,
                "30",
                at_home=True,
                groups=("elderly_living_alone", "disabled"),
            ),
            Offer("medical_rehabilitation", "康复服务", FeeKind.MARKET, "80", groups=("disabled",)),
        ),
        features=6,
        owner=OrganizationKind.PUBLIC_INSTITUTION,
    ),
    K.HEALTH_STATION: KindPlan(
        "社区卫生服务站",
        ((WEEKDAYS, "08:00", "17:00"),),
        (150, 400),
        (20, 60),
        (
            Offer("medical_family_doctor", "家庭医生签约"),
            Offer("medical_chronic_followup", "慢病随访"),
        ),
        owner=OrganizationKind.PUBLIC_INSTITUTION,
    ),
    K.VILLAGE_CLINIC: KindPlan(
        "村卫生室",
        (("MO,TU,WE,TH,FR,SA", "08:00", "17:00"),),
        (60, 150),
        (10, 30),
        (
            Offer("medical_family_doctor", "家庭医生签约"),
            Offer("medical_chronic_followup", "慢病随访"),
        ),
        features=1,
    ),
    K.ELDERLY_DAY_CARE: KindPlan(
        "老年人日间照料中心",
        ((WEEKDAYS, "08:00", "18:00"),),
        (300, 800),
        (20, 60),
        (
            Offer(
                "elderly_day_care",
                "日间照料",
                FeeKind.SUBSIDIZED,
                "20",
                groups=("elderly",),
                minimum_age=60,
            ),
            Offer(
                "elderly_bathing",
                "助浴",
                FeeKind.SUBSIDIZED,
                "15",
                groups=("elderly",),
                minimum_age=60,
            ),
            Offer("elderly_visit", "探访关爱", at_home=True, groups=("elderly_living_alone",)),
        ),
        features=5,
        owner=OrganizationKind.SOCIAL_ORGANIZATION,
    ),
    K.ELDERLY_CANTEEN: KindPlan(
        "老年食堂",
        ((EVERY_DAY, "11:00", "13:00"), (EVERY_DAY, "17:00", "18:30")),
        (120, 400),
        (40, 150),
        (
            Offer(
                "elderly_meals",
                "老年助餐",
                FeeKind.SUBSIDIZED,
                "8",
                groups=("elderly",),
                minimum_age=60,
            ),
            Offer(
                "elderly_meals",
                "助餐送餐上门",
                FeeKind.SUBSIDIZED,
                "10",
                at_home=True,
                groups=("elderly_living_alone", "disabled"),
                minimum_age=60,
            ),
        ),
        owner=OrganizationKind.ENTERPRISE,
    ),
    K.NURSING_HOME: KindPlan(
        "养老院",
        ((EVERY_DAY, "08:00", "20:00"),),
        (1500, 5000),
        (60, 300),
        (
            Offer("elderly_emergency", "紧急援助", groups=("elderly",), minimum_age=60),
            Offer(
                "elderly_medical_escort",
                "陪同就医",
                FeeKind.MARKET,
                "50",
                at_home=True,
                groups=("elderly",),
                minimum_age=60,
            ),
        ),
        features=6,
        owner=OrganizationKind.ENTERPRISE,
    ),
    K.NURSERY: KindPlan(
        "托育中心",
        ((WEEKDAYS, "07:30", "18:00"),),
        (300, 900),
        (20, 80),
        (
            Offer("childcare_nursery", "婴幼儿托育", FeeKind.MARKET, "2800", maximum_age=3),
            Offer("childcare_temporary", "临时托管", FeeKind.MARKET, "60", maximum_age=6),
        ),
        owner=OrganizationKind.ENTERPRISE,
    ),
    K.KINDERGARTEN: KindPlan(
        "幼儿园",
        ((WEEKDAYS, "07:30", "17:30"),),
        (1500, 4000),
        (150, 400),
        (Offer("childcare_parenting", "育儿指导", groups=("minor",), maximum_age=6),),
        owner=OrganizationKind.PUBLIC_INSTITUTION,
    ),
    K.OUTDOOR_FITNESS: KindPlan(
        "健身角",
        ((EVERY_DAY, "06:00", "21:00"),),
        (50, 300),
        (10, 40),
        (Offer("sports_fitness_guidance", "全民健身"),),
        features=1,
    ),
    K.SPORTS_GROUND: KindPlan(
        "运动场",
        ((EVERY_DAY, "06:00", "22:00"),),
        (2000, 8000),
        (100, 500),
        (Offer("sports_venue_booking", "场地预约", FeeKind.SUBSIDIZED, "20"),),
        features=2,
        owner=OrganizationKind.GOVERNMENT,
    ),
    K.CULTURE_ROOM: KindPlan(
        "文化活动室",
        ((EVERY_DAY, "09:00", "21:00"),),
        (60, 300),
        (20, 80),
        (
            Offer("culture_activity", "文化活动"),
            Offer("education_elderly_university", "老年课堂", groups=("elderly",), minimum_age=55),
        ),
    ),
    K.LIBRARY: KindPlan(
        "图书馆",
        (("TU,WE,TH,FR,SA,SU", "09:00", "20:00"),),
        (400, 1500),
        (50, 200),
        (
            Offer("culture_library", "图书阅览"),
            Offer(
                "education_tutoring",
                "课后学业辅导",
                groups=("minor",),
                minimum_age=6,
                maximum_age=15,
            ),
        ),
        features=5,
        owner=OrganizationKind.GOVERNMENT,
    ),
    K.VOLUNTEER_STATION: KindPlan(
        "志愿服务站",
        ((WEEKDAYS, "09:00", "17:00"),),
        (30, 120),
        (5, 20),
        (
            Offer(
                "convenience_errands", "代办代购", at_home=True, groups=("elderly_living_alone",)
            ),
            Offer("welfare_left_behind_care", "留守关爱", groups=("left_behind",)),
        ),
        features=1,
    ),
    K.SELF_SERVICE_TERMINAL: KindPlan(
        "政务自助终端",
        ((EVERY_DAY, "00:00", "23:59"),),
        (2, 6),
        (1, 2),
        (Offer("convenience_government_affairs", "自助政务办理", online=True),),
        features=0,
        owner=OrganizationKind.GOVERNMENT,
    ),
}

# How likely a community (urban) or village (rural) has each kind, and how many at most.
PRESENCE: dict[str, dict[str, tuple[float, int]]] = {
    RegionKind.URBAN: {
        K.COMPREHENSIVE: (1.0, 1),
        K.HEALTH_STATION: (0.45, 1),
        K.ELDERLY_DAY_CARE: (0.6, 1),
        K.ELDERLY_CANTEEN: (0.5, 1),
        K.NURSERY: (0.25, 1),
        K.KINDERGARTEN: (0.45, 1),
        K.OUTDOOR_FITNESS: (0.85, 3),
        K.CULTURE_ROOM: (0.8, 1),
        K.VOLUNTEER_STATION: (0.5, 1),
        K.SELF_SERVICE_TERMINAL: (0.3, 1),
    },
    RegionKind.RURAL: {
        K.COMPREHENSIVE: (0.75, 1),
        K.VILLAGE_CLINIC: (0.9, 1),
        K.ELDERLY_CANTEEN: (0.2, 1),
        K.OUTDOOR_FITNESS: (0.45, 1),
        K.CULTURE_ROOM: (0.65, 1),
        K.VOLUNTEER_STATION: (0.2, 1),
    },
}
# One of each per street or town, placed in its first community or village.
PER_STREET = (K.HEALTH_CENTER, K.NURSING_HOME, K.LIBRARY, K.SPORTS_GROUND)

# The first characters of a credit code: registration authority and organization category.
CREDIT_CODE_HEADS: dict[str, str] = {
    OrganizationKind.GOVERNMENT: "11",
    OrganizationKind.PUBLIC_INSTITUTION: "12",
    OrganizationKind.SOCIAL_ORGANIZATION: "52",
    OrganizationKind.CHARITY: "53",
    OrganizationKind.ENTERPRISE: "91",
    OrganizationKind.COMMUNITY_COMMITTEE: "54",
}
ENTERPRISES = [
    "康乐养老服务有限公司",
    "福寿餐饮管理有限公司",
    "小太阳托育有限公司",
    "安心家政服务有限公司",
]
SOCIAL_ORGANIZATIONS = [
    "邻里社会工作服务中心",
    "夕阳红养老服务中心",
    "阳光助残服务社",
    "彩虹青少年服务中心",
]
CHARITIES = ["邻里区慈善会", "春晖公益基金会"]


def credit_code(kind: str, rng: random.Random) -> str:
    body = "".join(rng.choice(CREDIT_CODE_ALPHABET[:10]) for _ in range(9))
    first17 = CREDIT_CODE_HEADS[kind] + DISTRICT[:6] + body
    return first17 + credit_code_check_character(first17)


@dataclass
class _Batch:
    organizations: list[Organization] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    at_locations: list[ServiceAtLocation] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    accessibility: list[Accessibility] = field(default_factory=list)

    def save(self) -> None:
        """Parents before children, each table in one statement per 500 rows."""
        Organization.objects.bulk_create(self.organizations, batch_size=500)
        Location.objects.bulk_create(self.locations, batch_size=500)
        Address.objects.bulk_create(self.addresses, batch_size=500)
        Phone.objects.bulk_create(self.phones, batch_size=500)
        Service.objects.bulk_create(self.services, batch_size=500)
        ServiceAtLocation.objects.bulk_create(self.at_locations, batch_size=500)
        Schedule.objects.bulk_create(self.schedules, batch_size=500)
        Attribute.objects.bulk_create(self.attributes, batch_size=500)
        Accessibility.objects.bulk_create(self.accessibility, batch_size=500)


class _Builder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.batch = _Batch()
        self.owners: dict[str, list[Organization]] = {}

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def organization(self, name: str, kind: str, region: Region | None) -> Organization:
        org = Organization(
            id=self.uuid(),
            name=name,
            kind=kind,
            credit_code=credit_code(kind, self.rng),
            verified=self.rng.random() < 0.85,
            region=region,
            description=name,
        )
        self.batch.organizations.append(org)
        self.owners.setdefault(kind, []).append(org)
        return org

    def point_in(self, region: Region) -> tuple[float, float]:
        ring = (region.boundary or {}).get("coordinates", [[]])[0]
        if not ring:
            return (region.lat or 0.0, region.lon or 0.0)
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        shrink = 0.15
        lat = self.rng.uniform(
            min(lats) + shrink * (max(lats) - min(lats)),
            max(lats) - shrink * (max(lats) - min(lats)),
        )
        lon = self.rng.uniform(
            min(lons) + shrink * (max(lons) - min(lons)),
            max(lons) - shrink * (max(lons) - min(lons)),
        )
        return round(lat, 6), round(lon, 6)

    def facility(self, kind: str, region: Region, street: Region, owner: Organization) -> None:
        plan = PLANS[kind]
        rng = self.rng
        lat, lon = self.point_in(region)
        area = rng.randint(*plan.area)
        opened = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 17))
        closed = opened + dt.timedelta(days=rng.randint(400, 3000)) if rng.random() < 0.03 else None
        place = Location(
            id=self.uuid(),
            name=f"{region.name}{plan.name}"
            if kind != K.OUTDOOR_FITNESS
            else f"{region.name}{plan.name}{rng.randint(1, 9)}号",
            kind=kind,
            region=region,
            organization=owner,
            latitude=lat,
            longitude=lon,
            floor_area_m2=Decimal(area),
            activity_area_m2=Decimal(round(area * rng.uniform(0.5, 0.75))),
            capacity=rng.randint(*plan.capacity),
            opened_on=opened,
            closed_on=closed if closed and closed < dt.date(2026, 6, 30) else None,
        )
        self.batch.locations.append(place)
        number = rng.randint(1, 300)
        self.batch.addresses.append(
            Address(
                id=self.uuid(),
                location=place,
                address_1=f"{street.name}{region.name}{number}号",
                city="示范市",
                region="邻里区",
                state_province="示范省",
                postal_code=f"9901{rng.randint(0, 99):02d}",
                country="CN",
            )
        )
        self.batch.phones.append(
            Phone(
                id=self.uuid(),
                location=place,
                number=f"0999-8{rng.randint(0, 9999999):07d}",
                type="voice",
            )
        )
        for days, opens, closes in plan.hours:
            self.batch.schedules.append(
                Schedule(
                    id=self.uuid(),
                    location=place,
                    freq="WEEKLY",
                    byday=days,
                    opens_at=dt.time.fromisoformat(opens),
                    closes_at=dt.time.fromisoformat(closes),
                    timezone=8,
                )
            )
        for feature in rng.sample(
            list(AccessibilityFeature), k=min(plan.features, rng.randint(0, plan.features))
        ):
            self.batch.accessibility.append(
                Accessibility(
                    id=self.uuid(),
                    location=place,
                    details=feature.value,
                    description=str(feature.label),
                )
            )
        for offer in plan.offers:
            self.offer(offer, place, owner)

    def offer(self, offer: Offer, place: Location, owner: Organization) -> None:
        service = Service(
            id=self.uuid(),
            organization=owner,
            name=offer.name,
            description=f"{place.name}：{offer.name}",
            fee_kind=offer.fee,
            fee_amount=Decimal(offer.amount) if offer.amount else None,
            at_facility=not offer.online,
            at_home=offer.at_home,
            online=offer.online,
            minimum_age=offer.minimum_age,
            maximum_age=offer.maximum_age,
            status="active",
        )
        self.batch.services.append(service)
        self.batch.at_locations.append(
            ServiceAtLocation(id=self.uuid(), service=service, location=place)
        )
        self.batch.attributes.append(
            Attribute(
                id=self.uuid(),
                link_id=service.id,
                link_entity=LinkEntity.SERVICE,
                link_type=Link.CATEGORY,
                taxonomy_term_id=term_uuid(SERVICES_TAXONOMY, offer.category),
            )
        )
        for group in offer.groups:
            self.batch.attributes.append(
                Attribute(
                    id=self.uuid(),
                    link_id=service.id,
                    link_entity=LinkEntity.SERVICE,
                    link_type=Link.ELIGIBILITY,
                    taxonomy_term_id=term_uuid(PRIORITY_TAXONOMY, group),
                )
            )


def _owner(
    builder: _Builder, kind: str, committee: Organization, street_office: Organization
) -> Organization:
    owner_kind = PLANS[kind].owner
    if owner_kind == OrganizationKind.COMMUNITY_COMMITTEE:
        return committee
    if owner_kind == OrganizationKind.GOVERNMENT:
        return street_office
    return builder.rng.choice(builder.owners[owner_kind])


@demo_step(name="directory", order=30)
def build_demo_directory(context: DemoContext) -> None:
    """Organizations, facilities and the services they offer."""
    # Migrations install the shipped taxonomy; a database flushed since (as page tests
    # do between tests) gets it back here, since every demo service points at it.
    install(Taxonomy, TaxonomyTerm)
    builder = _Builder(context.rng)
    district = Region.objects.get(code=DISTRICT)
    builder.organization("邻里区民政局", OrganizationKind.GOVERNMENT, district)
    for index, name in enumerate(ENTERPRISES):
        builder.organization(f"示范市{name}", OrganizationKind.ENTERPRISE, district)
        if index < 2:
            builder.organization(
                f"邻里区{SOCIAL_ORGANIZATIONS[index]}",
                OrganizationKind.SOCIAL_ORGANIZATION,
                district,
            )
    for name in SOCIAL_ORGANIZATIONS[2:]:
        builder.organization(f"邻里区{name}", OrganizationKind.SOCIAL_ORGANIZATION, district)
    for name in CHARITIES:
        builder.organization(name, OrganizationKind.CHARITY, district)
    hospital = builder.organization(
        "邻里区卫生健康服务中心", OrganizationKind.PUBLIC_INSTITUTION, district
    )
    builder.organization("邻里区教育服务中心", OrganizationKind.PUBLIC_INSTITUTION, district)
    streets = list(Region.objects.filter(code__startswith=DISTRICT[:6], level=RegionLevel.STREET))
    lowest = list(Region.objects.filter(code__startswith=DISTRICT[:6], level=RegionLevel.COMMUNITY))
    with context.progress(streets, label="directory") as bar:
        for street in bar:
            office = builder.organization(
                f"{street.name}办事处", OrganizationKind.GOVERNMENT, street
            )
            members = [r for r in lowest if r.parent_id == street.code]
            for kind in PER_STREET:
                owner = (
                    hospital if kind == K.HEALTH_CENTER else _owner(builder, kind, office, office)
                )
                builder.facility(kind, members[0], street, owner)
            for region in members:
                committee_name = "居民委员会" if region.kind == RegionKind.URBAN else "村民委员会"
                committee = builder.organization(
                    f"{region.name}{committee_name}", OrganizationKind.COMMUNITY_COMMITTEE, region
                )
                for facility_kind, (chance, most) in PRESENCE[region.kind].items():
                    for _copy in range(most):
                        if builder.rng.random() < chance:
                            owner = _owner(builder, facility_kind, committee, office)
                            builder.facility(facility_kind, region, street, owner)
    builder.batch.save()
    batch = builder.batch
    context.echo(
        f"  {len(batch.organizations)} organizations, {len(batch.locations)} facilities, "
        f"{len(batch.services)} services"
    )
