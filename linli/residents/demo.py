"""About 20,000 generated residents for the demo district; nobody in it is real.

Identity numbers carry the fictional province 99 and a valid check character;
phone numbers use the 140 prefix, which carries no voice service. Villages are
older than urban communities, and families in difficulty and people with
disabilities appear at plausible rates (about 3 % and 6 %).
"""

from __future__ import annotations

import datetime as dt
import random

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import User
from linli.core.pii import identity_check_character
from linli.core.registry import DemoContext, demo_step
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.demo import DISTRICT
from linli.regions.models import Region

from .choices import ConsentPurpose, Difficulty, DisabilityCategory, RelationKind
from .models import Household, Resident
from .services import (
    ResidentInput,
    consent_record,
    relation_add,
    resident_build,
    residents_register_many,
)

# "small" serves tests and quick looks: enough people for every group to appear.
TARGET = {"county": 20_000, "small": 400}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红建国文志"
# Age structure: (lowest age, highest age, weight) for urban communities and villages.
AGES: dict[str, tuple[tuple[int, int, int], ...]] = {
    RegionKind.URBAN: ((0, 13, 13), (14, 17, 4), (18, 59, 62), (60, 79, 17), (80, 99, 4)),
    RegionKind.RURAL: ((0, 13, 12), (14, 17, 4), (18, 59, 52), (60, 79, 25), (80, 99, 7)),
}
TODAY = dt.date(2026, 11, 30)


def _birth(rng: random.Random, kind: str) -> dt.date:
    bands = AGES[kind]
    low, high, _w = rng.choices(bands, weights=[b[2] for b in bands])[0]
    age = rng.randint(low, high)
    return TODAY - dt.timedelta(days=age * 365 + rng.randint(0, 364))


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


class _Numbers:
    """Identity numbers that are valid and never repeat."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, community: Region, born: dt.date, female: bool) -> str:
        for sequence in range(0 if female else 1, 1000, 2):  # the 17th digit's parity: the sex
            first17 = f"{community.code[:6]}{born:%Y%m%d}{sequence:03d}"
            number = first17 + identity_check_character(first17)
            if number not in self.used:
                self.used.add(number)
                return number
        raise RuntimeError("no identity number left for this day")


def _resident(
    rng: random.Random, numbers: _Numbers, community: Region, household: Household
) -> Resident:
    born = _birth(rng, community.kind)
    female = rng.random() < 0.5
    age = (TODAY - born).days // 365
    rural = community.kind == RegionKind.RURAL
    disabled = age >= 14 and rng.random() < 0.06
    in_difficulty = rng.random() < (0.05 if rural else 0.02)
    data = ResidentInput(
        name=_name(rng),
        community=community,
        household=household,
        address=household.address,
        identity_number=numbers.make(community, born, female),
        phone=f"1400{rng.randint(0, 9_999_999):07d}" if age >= 14 else "",
        living_alone=age >= 60 and rng.random() < 0.15,
        left_behind=rural and (age >= 60 or age < 16) and rng.random() < 0.12,
        disability_category=rng.choice(DisabilityCategory.values) if disabled else "",
        disability_grade=str(rng.randint(1, 4)) if disabled else "",
        difficulty=rng.choice(Difficulty.values) if in_difficulty else "",
        health_notes="高血压，需定期随访" if age >= 60 and rng.random() < 0.3 else "",
    )
    data.birth_date, data.sex = born, "female" if female else "male"
    return resident_build(data)


@demo_step(name="residents", order=50)
def build_demo_residents(context: DemoContext) -> None:
    """Households and residents in every community and village."""
    rng = context.rng
    places = list(Region.objects.filter(code__startswith=DISTRICT[:6], level=RegionLevel.COMMUNITY))
    population = sum(p.population or 0 for p in places)
    target = TARGET[context.scale]
    households: list[tuple[Household, int]] = []
    for place in places:
        share = round(target * (place.population or 0) / population)
        while share > 0:
            size = min(share, rng.randint(1, 4))
            address = f"{place.name}{rng.randint(1, 300)}号"
            households.append((Household(community=place, address=address), size))
            share -= size
    Household.objects.bulk_create([h for h, _size in households], batch_size=1000)
    numbers = _Numbers()
    residents: list[Resident] = []
    with context.progress(households, label="residents") as bar:
        for household, size in bar:
            residents += [
                _resident(rng, numbers, household.community, household) for _ in range(size)
            ]
    residents_register_many(residents)
    context.echo(f"  {len(residents)} residents")
    _link_demo_resident()


def _link_demo_resident() -> None:
    """demo_resident is a registered adult of their community and the proxy of an older
    relative living alone there, with that relative's consent, so the resident's pages
    (my record, my family) have something true to show."""
    user = User.objects.filter(username=demo_username(Role.RESIDENT)).first()
    if user is None:
        return
    community = user.role_assignments.get(role=Role.RESIDENT).region
    people = Resident.objects.filter(community=community, user__isnull=True).order_by("id")
    adult = people.filter(birth_date__lte=TODAY - dt.timedelta(days=30 * 365)).first()
    if adult is None:
        return
    elder = people.filter(living_alone=True).exclude(pk=adult.pk).first()
    if elder is None:
        return
    adult.user = user
    adult.save(update_fields=["user"])
    consent = consent_record(
        actor=None,
        resident=elder,
        purpose=ConsentPurpose.PROXY,
        given_on=TODAY - dt.timedelta(days=90),
        scope_text="由子女代为申请助餐、助医等服务",
    )
    relation_add(actor=None, resident=elder, person=adult, kind=RelationKind.PROXY, consent=consent)
    relation_add(actor=None, resident=elder, person=adult, kind=RelationKind.EMERGENCY_CONTACT)
