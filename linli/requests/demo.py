"""A year of service requests in the demo district, and the responders who answer them.

Nobody here is real. Responders are the directory's organizations wherever they run a
facility, a few hundred volunteers (accounts that cannot log in), a few social workers
in every street, and the demo accounts' own profiles. Requests come mostly from older
people, people with disabilities and families in difficulty; villages ask more for
elderly care; winter and the weeks around Spring Festival bring more elderly care and
medical escorts, summer more child minding and homework help.

Thousands of requests through `request_create` and `request_transition` would be slow
and could not be backdated, so each request's life is walked here in memory, through
the same transition map, triage and service levels, and written in bulk. A walk stops
at the first step that would lie in the future: recent requests stay open where they
are, as they would in a live system. A few requests are held up on purpose, so the
demo always has overdue and escalated ones to show.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import RoleAssignment, User
from linli.accounts.services import role_grant
from linli.core.geo import great_circle_km
from linli.core.registry import DemoContext, demo_step
from linli.directory.choices import AttributeLinkType, LinkEntity
from linli.directory.models import Attribute, Organization, ServiceAtLocation, TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.notifications.models import Notification
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.demo import DISTRICT
from linli.regions.models import Region
from linli.residents.choices import RelationKind
from linli.residents.demo import GIVEN, SURNAMES
from linli.residents.models import Relation, Resident

from .announcements import request_event_announce
from .choices import (
    OPEN_STATES,
    TRANSITIONS,
    Action,
    Channel,
    Outcome,
    ResponderKind,
    ResponderStatus,
    State,
    Urgency,
)
from .models import (
    Assignment,
    DispatchRound,
    Escalation,
    RequestEvent,
    Responder,
    ServiceRequest,
)
from .services import reopen_days, service_level_minutes
from .triage import priority_breakdown

# About 0.4 requests per resident a year: the county's 20,000 residents ask ~8,000 times.
REQUESTS = {"county": 8_000, "small": 360}
VOLUNTEERS = {"county": 300, "small": 30}
# Requests held up on purpose (never accepted, never finished): overdue and escalated.
HELD_UP = {"county": 40, "small": 6}
BATCH = 500
# What triage and the walk read of a person; the rest stays encrypted and unread.
PERSON_FIELDS = (
    "id",
    "community_id",
    "user_id",
    "birth_date",
    "address",
    "living_alone",
    "left_behind",
    "disability_category",
    "disability_grade",
    "difficulty",
)

# --- who asks for what --------------------------------------------------------------

ELDERLY_NEEDS = {
    "elderly_meals": 12,
    "elderly_cleaning": 9,
    "elderly_medical_escort": 10,
    "elderly_visit": 6,
    "elderly_bathing": 4,
    "elderly_mobility": 3,
    "elderly_emergency": 1.5,
    "elderly_day_care": 2,
    "medical_home_visit": 5,
    "medical_chronic_followup": 4,
    "convenience_errands": 5,
    "convenience_repair": 3,
    "convenience_government_affairs": 2,
    "education_digital_skills": 2,
}
LIVING_ALONE_NEEDS = {"safety_daily_checkin": 5, "elderly_visit": 4, "elderly_emergency": 1}
LEFT_BEHIND_NEEDS = {"welfare_left_behind_care": 5}
DISABLED_NEEDS = {
    "welfare_disability_support": 6,
    "medical_rehabilitation": 5,
    "convenience_errands": 3,
    "medical_home_visit": 2,
    "convenience_housekeeping": 2,
}
DIFFICULTY_NEEDS = {
    "welfare_subsistence": 5,
    "welfare_emergency_relief": 3,
    "convenience_repair": 2,
    "safety_legal_aid": 1,
}
CHILD_NEEDS: dict[str, dict[str, float]] = {  # by age band: under 6, 6 to 13, 14 to 17
    "young": {"childcare_temporary": 5, "childcare_parenting": 3},
    "child": {"childcare_after_school": 6, "education_tutoring": 5, "childcare_temporary": 1},
    "teen": {"education_tutoring": 5, "medical_mental_health": 1.5},
}
LEFT_BEHIND_CHILD_NEEDS = {"welfare_left_behind_care": 4, "welfare_minor_protection": 1}
ADULT_NEEDS = {
    "convenience_repair": 4,
    "convenience_housekeeping": 3,
    "safety_dispute_mediation": 2,
    "safety_legal_aid": 1.5,
    "education_employment": 2,
    "convenience_government_affairs": 2,
    "medical_mental_health": 1,
    "safety_hazard_report": 1,
}
# Villages lean on elderly care more (fewer canteens and day-care centres nearby).
RURAL_ELDERLY_CARE = 1.8

# What volunteers and social workers offer, with how often each skill is held.
VOLUNTEER_SKILLS = {
    "elderly_meals": 8,
    "elderly_cleaning": 8,
    "elderly_medical_escort": 6,
    "elderly_visit": 8,
    "elderly_mobility": 3,
    "elderly_bathing": 1,
    "convenience_errands": 8,
    "convenience_repair": 5,
    "convenience_housekeeping": 2,
    "education_tutoring": 5,
    "childcare_after_school": 4,
    "childcare_temporary": 2,
    "education_digital_skills": 4,
    "safety_daily_checkin": 5,
    "welfare_left_behind_care": 3,
}
SOCIAL_WORK_SKILLS = (
    "welfare_subsistence",
    "welfare_disability_support",
    "welfare_emergency_relief",
    "welfare_minor_protection",
    "welfare_left_behind_care",
    "medical_mental_health",
    "safety_dispute_mediation",
    "safety_legal_aid",
    "safety_hazard_report",
    "safety_daily_checkin",
    "elderly_visit",
    "education_employment",
    "childcare_parenting",
    "medical_rehabilitation",
)
# The demo accounts cover the common services, so their pages have tasks to show.
DEMO_VOLUNTEER_SKILLS = (
    "elderly_meals",
    "elderly_cleaning",
    "elderly_medical_escort",
    "elderly_visit",
    "convenience_errands",
    "convenience_repair",
    "safety_daily_checkin",
)
DEMO_SOCIAL_WORKER_SKILLS = (
    "elderly_visit",
    "elderly_medical_escort",
    "elderly_meals",
    "elderly_cleaning",
    "safety_daily_checkin",
    "welfare_subsistence",
    "welfare_disability_support",
    "welfare_emergency_relief",
    "welfare_left_behind_care",
    "medical_mental_health",
    "safety_dispute_mediation",
    "safety_legal_aid",
)

URGENCIES = (Urgency.LOW, Urgency.NORMAL, Urgency.HIGH, Urgency.URGENT)
URGENCY_MIX: dict[str, tuple[float, float, float, float]] = {
    "elderly_emergency": (0, 0.05, 0.35, 0.6),
    "welfare_emergency_relief": (0, 0.15, 0.45, 0.4),
    "safety_hazard_report": (0.05, 0.35, 0.45, 0.15),
    "elderly_medical_escort": (0.15, 0.55, 0.25, 0.05),
    "medical_home_visit": (0.15, 0.55, 0.25, 0.05),
    "": (0.25, 0.55, 0.17, 0.03),
}
# Services whose demand follows the winter and Spring Festival, or the school holidays.
ELDERLY_SEASONAL_CATEGORIES = ("elderly_care",)
ELDERLY_SEASONAL = ("medical_home_visit", "medical_chronic_followup", "medical_rehabilitation")
CHILD_SEASONAL_CATEGORIES = ("childcare",)
CHILD_SEASONAL = ("education_tutoring",)
SPRING_FESTIVALS = tuple(
    dt.date.fromisoformat(day)
    for day in (
        "2024-02-10",
        "2025-01-29",
        "2026-02-17",
        "2027-02-06",
        "2028-01-26",
        "2029-02-13",
        "2030-02-03",
        "2031-01-23",
        "2032-02-11",
        "2033-01-31",
        "2034-02-19",
        "2035-02-08",
    )
)
# When requests come in, hour by hour (local time): mornings first.
HOURS = (0.1,) * 6 + (0.5, 1.5, 3, 3, 2.5, 2, 1.2, 1, 2, 2.2, 2, 1.5, 1.2, 1, 0.8, 0.5, 0.3, 0.2)
# Dispatch rounds run every half hour through the day; urgent requests are assigned at once.
ROUND_FIRST, ROUND_LAST, ROUND_EVERY = dt.time(7), dt.time(21), 30

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "elderly_meals": (
        "腿脚不便，需要每天送午餐上门",
        "希望订老年助餐，一周五天",
        "老伴住院，需要临时送餐",
    ),
    "elderly_cleaning": (
        "家里需要打扫，自己弯不下腰",
        "换季需要擦窗、整理衣物",
        "厨房油污较重，需要清洁",
    ),
    "elderly_medical_escort": (
        "需要陪同到区医院复查",
        "下周去医院配药，行动不便需陪同",
        "陪同做检查并取报告",
    ),
    "elderly_visit": ("子女在外地，希望有人定期上门看看", "老人最近情绪低落，希望上门陪伴聊天"),
    "elderly_bathing": ("需要助浴服务，家里没有扶手", "希望每周助浴一次"),
    "elderly_mobility": ("需要轮椅外出晒太阳", "下楼不便，需要有人搀扶外出"),
    "elderly_emergency": ("老人在家摔倒，需要有人马上过来", "一键呼叫报警，电话联系不上老人"),
    "elderly_day_care": ("白天家里没人，想去日间照料中心", "希望安排日间照料试住一周"),
    "medical_home_visit": ("卧床老人需要医生上门", "需要上门换药"),
    "medical_chronic_followup": ("高血压需要定期随访测血压", "糖尿病随访，需要测血糖"),
    "medical_rehabilitation": ("术后需要康复训练指导", "中风后需要上门康复"),
    "medical_mental_health": ("孩子最近情绪不好，想咨询心理老师", "家人情绪低落，希望心理疏导"),
    "convenience_errands": ("帮忙代购米面油", "帮忙到药店买常用药", "代取快递并送上楼"),
    "convenience_repair": ("水龙头漏水需要维修", "家里灯坏了，需要换灯泡", "电饭煲不加热了"),
    "convenience_housekeeping": ("需要做饭和简单家务", "家里需要收纳整理"),
    "convenience_government_affairs": (
        "帮忙办理高龄津贴申请",
        "医保卡补办需要代办",
        "帮忙预约社保认证",
    ),
    "education_digital_skills": ("想学用手机挂号", "教我用手机视频通话", "学习手机支付"),
    "education_tutoring": ("孩子数学作业需要辅导", "需要英语学习辅导", "暑假作业需要有人辅导"),
    "education_employment": ("想参加技能培训找工作", "需要帮忙写简历、找工作"),
    "childcare_temporary": ("临时加班，孩子需要托管半天", "周末需要临时照看孩子"),
    "childcare_after_school": ("放学后没人接，需要课后托管", "暑假白天需要托管"),
    "childcare_parenting": ("想咨询孩子辅食和睡眠问题", "孩子不爱说话，想咨询育儿老师"),
    "welfare_subsistence": ("想申请低保，不知道要什么材料", "低保年审需要帮忙准备材料"),
    "welfare_disability_support": ("需要申请残疾人辅具", "残疾证换证需要协助"),
    "welfare_emergency_relief": ("家里突发困难，需要临时救助", "家中失火，需要临时救助"),
    "welfare_minor_protection": ("孩子父母外出，监护需要关注", "发现孩子无人照看"),
    "welfare_left_behind_care": ("子女在外打工，老人独自在家需要关照", "留守儿童需要学习陪伴"),
    "safety_daily_checkin": ("独居，希望每天有人打电话问候", "希望每天上门看一眼"),
    "safety_hazard_report": ("楼道堆放杂物，存在消防隐患", "路灯坏了，晚上出行不安全"),
    "safety_dispute_mediation": ("和邻居因漏水有纠纷，需要调解", "家庭矛盾需要调解"),
    "safety_legal_aid": ("工资被拖欠，想咨询法律援助", "需要咨询赡养纠纷的法律问题"),
}
CATEGORY_NOTES: dict[str, tuple[str, ...]] = {
    "elderly_care": ("已按时上门服务，老人状态良好", "服务完成，已叮嘱注意保暖和按时吃药"),
    "medical_care": ("已完成随访，血压平稳", "已上门服务，建议一周后复查"),
    "childcare": ("已按约定完成托管，孩子已交给家长", "服务完成，家长满意"),
    "education": ("辅导完成，约定下次时间", "已讲解完，布置了练习"),
    "social_welfare": ("材料已整理并提交", "已协助办理，等待审批结果"),
    "convenience": ("已办理完成", "已修好，试用正常"),
    "safety": ("已处理，隐患已消除", "已完成，双方达成一致"),
}
DECLINE_REASONS = (
    "临时有事，无法按时上门",
    "身体不适",
    "距离较远，时间赶不上",
    "该时段已有其他任务",
)
CANCEL_REASONS = ("家人已经帮忙解决", "时间安排有变", "已经到医院就诊", "暂时不需要了")
REJECT_REASONS = ("重复提交的申请", "不属于社区服务范围，已告知办理渠道", "信息不全，多次联系不上")
NO_ONE_REASON = "附近暂无可提供该服务的服务者，已转介其他渠道"
REOPEN_REASONS = ("服务没有完成，需要再次上门", "问题没有解决")
UNRESOLVED_REASONS = ("老人住院，服务未能完成", "多次上门无人应答", "需求超出服务范围，已转介")
AUTO_CLOSE_REASON = "完成后未在规定时间内确认，系统自动关闭"

# Who acted, when no account of the demo did: the channel, or the kind of actor.
SYSTEM, DISPATCH, KEEPER = "system", "dispatch", "community_worker"
FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Flat-earth distance: exact enough across one county."""
    dy = (lat2 - lat1) * 111.32
    dx = (lon2 - lon1) * 111.32 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def _minutes(low: float, high: float, rng: random.Random) -> dt.timedelta:
    return dt.timedelta(minutes=rng.uniform(low, high))


def _pick(weights: Mapping[str, float], rng: random.Random) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


# --- responders ---------------------------------------------------------------------


@dataclass
class _Who:
    """A responder as the walk sees it: where, what, how much, and what it holds when."""

    model: Responder
    skills: frozenset[str]
    lat: float
    lon: float
    street: str
    radius: float
    cap: int
    actor: User | None = None
    label: str = ""
    # (start, end) minutes of the week (Monday 00:00 is 0); empty means any time.
    hours: tuple[tuple[int, int], ...] = ()
    paused_since: dt.datetime | None = None
    holds: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)

    def fits(self, local: dt.datetime) -> bool:
        if not self.hours:
            return True
        minute = local.weekday() * 1440 + local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.hours)

    def load(self, at: dt.datetime, until: dt.datetime, now: dt.datetime) -> int:
        """Tasks held at `at`, and at the present if this one would still be held then."""
        at_start = sum(1 for start, end in self.holds if start <= at < end)
        if until <= now:
            return at_start
        return max(at_start, sum(1 for start, end in self.holds if start <= now < end))

    def forget_before(self, moment: dt.datetime) -> None:
        """Drop holds that ended before every later request was made: they never count again."""
        self.holds = [(start, end) for start, end in self.holds if end > moment]


def _slots(rng: random.Random, kind: str) -> list[dict[str, Any]]:
    """A week of hours: retirees on weekday mornings or afternoons, working people in the
    evenings and at weekends; some say any time."""
    if kind == "office":
        return [{"day": day, "start": "08:30", "end": "17:30"} for day in range(5)]
    if rng.random() < 0.1:
        return []
    halves = (("08:30", "11:30"), ("14:00", "17:00"))
    slots: list[dict[str, Any]] = []
    if rng.random() < 0.45:
        for day in sorted(rng.sample(range(5), rng.randint(2, 4))):
            start, end = rng.choice(halves)
            slots.append({"day": day, "start": start, "end": end})
    else:
        for day in sorted(rng.sample(range(5), rng.randint(1, 2))):
            slots.append({"day": day, "start": "18:30", "end": "20:30"})
        for day in sorted(rng.sample((5, 6), rng.randint(1, 2))):
            start, end = rng.choice(halves)
            slots.append({"day": day, "start": start, "end": end})
    return slots


def _week_minutes(slots: list[dict[str, Any]]) -> tuple[tuple[int, int], ...]:
    def minute(day: int, clock: str) -> int:
        hours, minutes = clock.split(":")
        return day * 1440 + int(hours) * 60 + int(minutes)

    return tuple((minute(s["day"], s["start"]), minute(s["day"], s["end"])) for s in slots)


def _name(rng: random.Random) -> tuple[str, str]:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES), given


def _jitter(rng: random.Random, region: Region, spread: float = 0.004) -> tuple[float, float]:
    lat = (region.lat or 0.0) + rng.uniform(-spread, spread)
    lon = (region.lon or 0.0) + rng.uniform(-spread, spread) * 1.15
    return round(lat, 6), round(lon, 6)


class _Responders:
    """Builds every responder of the demo and keeps them for the walk."""

    def __init__(self, context: DemoContext, communities: dict[str, Region], now: dt.datetime):
        self.rng = context.rng
        self.scale = context.scale
        self.communities = communities
        self.now = now
        self.terms = {
            term.code: term
            for term in TaxonomyTerm.objects.filter(
                taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY)
            ).select_related("parent")
        }
        self.people: list[tuple[Responder, list[str], dict[str, Any]]] = []
        self.everyone: list[_Who] = []
        self.demo_users = {
            user.username: user
            for user in User.objects.filter(username__in=[demo_username(r) for r in Role.values])
        }

    def add(self, responder: Responder, skills: Sequence[str], **extra: Any) -> None:
        self.people.append((responder, [s for s in skills if s in self.terms], extra))

    def build(self) -> list[_Who]:
        self._organizations()
        self._volunteers()
        self._social_workers()
        self._demo_accounts()
        self._fill_gaps()
        self._save()
        return self.everyone

    def _organizations(self) -> None:
        """One responder per organization and community where it runs a facility, with
        the categories of the services offered there as its skills."""
        rows = (
            ServiceAtLocation.objects.filter(
                location__region__code__startswith=DISTRICT[:6],
                location__closed_on__isnull=True,
                location__organization__isnull=False,
                service__status="active",
            )
            .order_by("location__region_id", "location__name", "location_id", "service_id")
            .values_list(
                "service_id",
                "location__organization_id",
                "location__region_id",
                "location__latitude",
                "location__longitude",
            )
        )
        rows_list = list(rows)
        categories: dict[Any, set[str]] = defaultdict(set)
        for link, code in Attribute.objects.filter(
            link_entity=LinkEntity.SERVICE,
            link_type=AttributeLinkType.CATEGORY,
            link_id__in=[row[0] for row in rows_list],
        ).values_list("link_id", "taxonomy_term__code"):
            categories[link].add(code)
        places: dict[tuple[Any, str], dict[str, Any]] = {}
        for service, owner, place_code, lat, lon in rows_list:
            place = places.setdefault(
                (owner, place_code), {"skills": set(), "lat": lat, "lon": lon}
            )
            place["skills"] |= categories.get(service, set())
        organizations = Organization.objects.in_bulk({org for org, _region in places})
        per_organization: dict[Any, int] = defaultdict(int)
        for org, _region in places:
            per_organization[org] += 1
        for (org_id, region_code), place in places.items():
            organization = organizations[org_id]
            region = self.communities[region_code]
            name = organization.name
            if per_organization[org_id] > 1:
                name = f"{organization.name}（{region.name}）"
            responder = Responder(
                kind=ResponderKind.ORGANIZATION,
                name=name,
                organization=organization,
                region=region,
                latitude=place["lat"],
                longitude=place["lon"],
                radius_km=Decimal(self.rng.randint(30, 80)) / 10,
                max_open_tasks=self.rng.randint(10, 30),
            )
            self.add(responder, sorted(place["skills"]))

    def _volunteers(self) -> None:
        """Volunteers living around their community's centre, with a few skills each;
        their accounts cannot log in until they register themselves."""
        rng = self.rng
        places = sorted(self.communities.values(), key=lambda r: r.code)
        weights = [r.population or 1 for r in places]
        users: list[User] = []
        homes: list[Region] = []
        for number in range(1, VOLUNTEERS[self.scale] + 1):
            last, first = _name(rng)
            users.append(
                User(
                    username=f"vol_{number:04d}",
                    first_name=first,
                    last_name=last,
                    password=make_password(None),
                )
            )
            homes.append(rng.choices(places, weights=weights)[0])
        User.objects.bulk_create(users, batch_size=BATCH)
        skills = dict(VOLUNTEER_SKILLS)
        for user, home in zip(users, homes, strict=True):
            role_grant(user=user, role=Role.VOLUNTEER, region=home)
            weights_here = dict(skills)
            if home.kind == RegionKind.RURAL:
                weights_here["welfare_left_behind_care"] *= 3
            chosen: set[str] = set()
            for _ in range(rng.randint(1, 3)):
                chosen.add(_pick(weights_here, rng))
            lat, lon = _jitter(rng, home)
            responder = Responder(
                kind=ResponderKind.VOLUNTEER,
                name=f"{user.last_name}{user.first_name}",
                user=user,
                region=home,
                latitude=lat,
                longitude=lon,
                radius_km=Decimal(rng.randint(10, 50)) / 10,
                max_open_tasks=rng.randint(2, 4),
                availability=_slots(rng, "volunteer"),
            )
            paused = rng.random() < 0.05
            if paused:
                responder.status = ResponderStatus.PAUSED
            self.add(
                responder,
                sorted(chosen),
                actor=user,
                paused_since=(
                    self.now - dt.timedelta(days=rng.uniform(10, 120)) if paused else None
                ),
            )

    def _social_workers(self) -> None:
        rng = self.rng
        streets = Region.objects.filter(
            code__startswith=DISTRICT[:6], level=RegionLevel.STREET
        ).order_by("code")
        number = 0
        for street in streets:
            members = sorted(
                (r for r in self.communities.values() if r.parent_id == street.code),
                key=lambda r: r.code,
            )
            if not members:
                continue
            for _ in range(rng.randint(2, 3)):
                number += 1
                last, first = _name(rng)
                user = User.objects.create(
                    username=f"sw_{number:03d}",
                    first_name=first,
                    last_name=last,
                    password=make_password(None),
                )
                role_grant(user=user, role=Role.SOCIAL_WORKER, region=street)
                home = rng.choice(members)
                lat, lon = _jitter(rng, home)
                responder = Responder(
                    kind=ResponderKind.SOCIAL_WORKER,
                    name=f"{last}{first}",
                    user=user,
                    region=home,
                    latitude=lat,
                    longitude=lon,
                    radius_km=Decimal(rng.randint(40, 80)) / 10,
                    max_open_tasks=rng.randint(6, 12),
                    availability=_slots(rng, "office"),
                )
                self.add(responder, sorted(rng.sample(SOCIAL_WORK_SKILLS, rng.randint(5, 8))))

    def _demo_accounts(self) -> None:
        """demo_volunteer and demo_social_worker deliver in their scope; demo_provider_staff's
        organization is among the organizations above."""
        volunteer = self.demo_users.get(demo_username(Role.VOLUNTEER))
        if volunteer is not None:
            home = RoleAssignment.objects.get(user=volunteer, role=Role.VOLUNTEER).region
            if home is not None and home.code in self.communities:
                lat, lon = _jitter(self.rng, home, 0.001)
                responder = Responder(
                    kind=ResponderKind.VOLUNTEER,
                    name=volunteer.display_name,
                    user=volunteer,
                    region=home,
                    latitude=lat,
                    longitude=lon,
                    radius_km=Decimal("3.0"),
                    max_open_tasks=4,
                    availability=[
                        *({"day": day, "start": "08:00", "end": "20:00"} for day in range(5)),
                        {"day": 5, "start": "09:00", "end": "17:00"},
                    ],
                )
                self.add(responder, DEMO_VOLUNTEER_SKILLS, actor=volunteer)
        worker = self.demo_users.get(demo_username(Role.SOCIAL_WORKER))
        if worker is not None:
            street = RoleAssignment.objects.get(user=worker, role=Role.SOCIAL_WORKER).region
            members = sorted(
                (r for r in self.communities.values() if street and r.parent_id == street.code),
                key=lambda r: r.code,
            )
            if members:
                lat, lon = _jitter(self.rng, members[0], 0.001)
                responder = Responder(
                    kind=ResponderKind.SOCIAL_WORKER,
                    name=worker.display_name,
                    user=worker,
                    region=members[0],
                    latitude=lat,
                    longitude=lon,
                    radius_km=Decimal("6.0"),
                    max_open_tasks=12,
                    availability=_slots(self.rng, "office"),
                )
                self.add(responder, DEMO_SOCIAL_WORKER_SKILLS, actor=worker)

    def _fill_gaps(self) -> None:
        """Every street has someone for every service people ask for: where nobody has
        a skill, a volunteer (or a social worker, for social work) of the street takes it on,
        as the district would recruit for the gap."""
        wanted = set(ELDERLY_NEEDS) | set(LIVING_ALONE_NEEDS) | set(LEFT_BEHIND_NEEDS)
        wanted |= set(DISABLED_NEEDS) | set(DIFFICULTY_NEEDS) | set(ADULT_NEEDS)
        wanted |= set(LEFT_BEHIND_CHILD_NEEDS)
        for table in CHILD_NEEDS.values():
            wanted |= set(table)
        covered: dict[str, set[str]] = defaultdict(set)
        people: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
        for responder, skills, _extra in self.people:
            street = self.communities[responder.region_id].parent_id or ""
            covered[street] |= set(skills)
            if responder.user_id is not None:
                people[(street, responder.kind)].append(skills)
        for street in sorted(covered):
            for code in sorted(wanted - covered[street]):
                first, second = ResponderKind.VOLUNTEER, ResponderKind.SOCIAL_WORKER
                if code not in VOLUNTEER_SKILLS:
                    first, second = second, first
                pool = people[(street, first)] or people[(street, second)]
                if pool and code in self.terms:
                    fewest = min(len(skills) for skills in pool)
                    self.rng.choice([s for s in pool if len(s) == fewest]).append(code)

    def _save(self) -> None:
        rng = self.rng
        for responder, _skills, extra in self.people:
            if responder.user is not None and "actor" not in extra:
                extra["actor"] = responder.user
        Responder.objects.bulk_create([r for r, _s, _e in self.people], batch_size=BATCH)
        Through = Responder.skills.through
        Through.objects.bulk_create(
            [
                Through(responder_id=r.pk, taxonomyterm_id=self.terms[code].pk)
                for r, skills, _e in self.people
                for code in skills
            ],
            batch_size=BATCH,
        )
        # They were there before the year of requests began.
        joined = [self.now - dt.timedelta(days=rng.uniform(400, 1100)) for _ in self.people]
        _backdate(Responder, [r for r, _s, _e in self.people], "created_at", joined)
        staff = self.demo_users.get(demo_username(Role.PROVIDER_STAFF))
        held = (
            RoleAssignment.objects.filter(user=staff, role=Role.PROVIDER_STAFF).first()
            if staff
            else None
        )
        provider = held.organization_id if held else None
        for responder, skills, extra in self.people:
            region = self.communities[responder.region_id]
            actor = extra.get("actor")
            label = ""
            if responder.organization_id is not None:
                if provider is not None and responder.organization_id == provider:
                    actor = staff
                label = "" if actor else responder.name[:100]
            self.everyone.append(
                _Who(
                    model=responder,
                    skills=frozenset(skills),
                    lat=responder.latitude or region.lat or 0.0,
                    lon=responder.longitude or region.lon or 0.0,
                    street=region.parent_id or "",
                    radius=float(responder.radius_km),
                    cap=responder.max_open_tasks,
                    actor=actor,
                    label=label,
                    hours=_week_minutes(responder.availability),
                    paused_since=extra.get("paused_since"),
                )
            )


def _backdate(
    model: type[Model], objects: Sequence[Model], name: str, values: Sequence[dt.datetime]
) -> None:
    """Set an auto_now_add time back to when it happened: creating rows always stamps the
    present. One UPDATE per batch with a CASE on the key; bulk_update builds the same
    statement but spends seconds per thousand rows resolving expressions in Python."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(str(model._meta.get_field(name).column))  # type: ignore[union-attr]
    key = connection.ops.quote_name(str(model._meta.pk.column))
    rows = [
        (obj.pk, connection.ops.adapt_datetimefield_value(v))
        for obj, v in zip(objects, values, strict=True)
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 300):  # SQLite allows 999 parameters a statement
            batch = rows[start : start + 300]
            cases = " ".join(["WHEN %s THEN %s"] * len(batch))
            keys = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {column} = CASE {key} {cases} END "  # noqa: S608 - names from the model, values as parameters
                f"WHERE {key} IN ({keys})",
                [value for pair in batch for value in pair] + [pk for pk, _v in batch],
            )
    for obj, value in zip(objects, values, strict=True):
        setattr(obj, name, value)


# --- requests -----------------------------------------------------------------------


@dataclass
class _Draft:
    """A request before its life is walked: who, what, when it came, and any script."""

    person: Resident
    service: str
    urgency: str
    channel: str
    created: dt.datetime
    requested_by: User | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None
    description: str = ""
    # Scripted requests: stop after this action (held up, or the demo's open ones) …
    hold_at: str = ""
    # … be answered by this responder, and be confirmed then closed.
    responder: _Who | None = None
    confirm: bool = False

    @property
    def scripted(self) -> bool:
        return bool(self.hold_at or self.responder or self.confirm)


@dataclass
class _Step:
    action: str
    source: str
    target: str
    at: dt.datetime
    actor: User | None
    label: str
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Hold:
    who: _Who
    at: dt.datetime
    round: tuple[Any, ...] | None
    by: User | None
    explanation: dict[str, Any]
    ended_at: dt.datetime | None = None
    end_reason: str = ""


@dataclass
class _Life:
    draft: _Draft
    request: ServiceRequest
    point: tuple[float, float]
    steps: list[_Step] = field(default_factory=list)
    holds: list[_Hold] = field(default_factory=list)
    # (from, respond by, due at, accept minutes, complete minutes) of each triage.
    deadlines: list[tuple[dt.datetime, dt.datetime, dt.datetime, int, int]] = field(
        default_factory=list
    )
    state: str = ""
    halted: bool = False
    slow: str = ""
    responder: _Who | None = None
    escalations: list[tuple[str, int, dt.datetime]] = field(default_factory=list)


class _Stop(Exception):
    """The next step would come after the demo's present: the request stays where it is."""


class _Year:
    """Draws a year of requests and walks each through the transition map."""

    def __init__(
        self,
        context: DemoContext,
        now: dt.datetime,
        communities: dict[str, Region],
        everyone: list[_Who],
        terms: dict[str, TaxonomyTerm],
    ):
        self.rng = context.rng
        self.context = context
        self.now = now
        self.local = ZoneInfo(settings.TIME_ZONE)
        self.communities = communities
        self.everyone = everyone
        self.terms = terms
        self.by_skill: dict[str, list[_Who]] = defaultdict(list)
        for who in everyone:
            for skill in who.skills:
                self.by_skill[skill].append(who)
        self.pools: dict[tuple[str, str], list[_Who]] = {}
        self.levels: dict[tuple[str, str], tuple[int, int]] = {}
        self.points: dict[int, tuple[float, float]] = {}
        self.rounds: dict[tuple[Any, ...], list[tuple[_Hold, float]]] = defaultdict(list)
        self.public_ids: set[str] = set()
        self.demo_community = ""
        self.keeper: User | None = None

    # -- drawing --------------------------------------------------------------------

    def level(self, service: str, urgency: str) -> tuple[int, int]:
        key = (service, urgency)
        if key not in self.levels:
            self.levels[key] = service_level_minutes(self.terms[service], urgency)
        return self.levels[key]

    def category(self, service: str) -> str:
        parent = self.terms[service].parent
        return parent.code if parent else service

    def needs(self, person: Resident, rural: bool) -> dict[str, float]:
        age = person.age(self.now.date()) or 40
        needs: dict[str, float] = defaultdict(float)

        def add(table: Mapping[str, float], factor: float = 1.0) -> None:
            for code, weight in table.items():
                needs[code] += weight * factor

        if age >= 60:
            add(ELDERLY_NEEDS)
            if person.living_alone:
                add(LIVING_ALONE_NEEDS)
            if rural:
                for code in list(needs):
                    if self.category(code) == "elderly_care":
                        needs[code] *= RURAL_ELDERLY_CARE
        elif age < 18:
            add(CHILD_NEEDS["young" if age < 6 else "child" if age < 14 else "teen"])
        else:
            add(ADULT_NEEDS)
        if person.left_behind:
            add(LEFT_BEHIND_CHILD_NEEDS if age < 18 else LEFT_BEHIND_NEEDS)
        if person.disability_category:
            add(DISABLED_NEEDS)
        if person.difficulty:
            add(DIFFICULTY_NEEDS)
        return dict(needs)

    @staticmethod
    def weight(person: Resident, age: int) -> float:
        """How often a person needs help, relative to a working-age adult's 0.12."""
        weight = 0.12
        if age >= 60:
            weight = 1.0 + (1.0 if age >= 80 else 0) + (1.5 if person.living_alone else 0)
        elif age < 18:
            weight = 0.5
        weight += (1.0 if person.disability_category else 0) + (1.0 if person.difficulty else 0)
        return weight + (0.5 if person.left_behind else 0)

    def curve(self, service: str) -> str:
        """Which season a service follows: the elderly's winter, children's holidays, none."""
        category = self.category(service)
        if category in ELDERLY_SEASONAL_CATEGORIES or service in ELDERLY_SEASONAL:
            return "elderly"
        if category in CHILD_SEASONAL_CATEGORIES or service in CHILD_SEASONAL:
            return "children"
        return ""

    @staticmethod
    def season(curve: str, day: dt.date) -> float:
        """Demand by day: winter and Spring Festival for elderly care, holidays for children."""
        weight = 0.75 if day.weekday() >= 5 else 1.0
        festival = max(math.exp(-(((day - f).days / 10) ** 2)) for f in SPRING_FESTIVALS)
        if curve == "elderly":
            winter = 0.9 if day.month in (12, 1, 2) else 0.4 if day.month in (11, 3) else 0
            return weight * (1 + winter + festival)
        if curve == "children":
            summer = 2.5 if day.month in (7, 8) else 0
            holiday = 0.6 if festival > 0.05 else 0
            return weight * (1 + summer + holiday)
        return weight

    @staticmethod
    def band(age: int) -> str:
        if age >= 60:
            return "elderly"
        if age >= 18:
            return "adult"
        return "young" if age < 6 else "child" if age < 14 else "teen"

    def draw(self, people: list[Resident], total: int) -> list[_Draft]:
        """Who asks, for what, when: the year's requests, oldest first."""
        rng = self.rng
        today = self.now.astimezone(self.local).date()
        days = [today - dt.timedelta(days=364 - i) for i in range(365)]
        profiles: dict[tuple[Any, ...], tuple[list[str], list[float]]] = {}
        keyed: list[tuple[Any, ...]] = []
        weights: list[float] = []
        for person in people:
            age = person.age(self.now.date()) or 40
            rural = self.communities[person.community_id].kind == RegionKind.RURAL
            key = (
                self.band(age),
                person.living_alone,
                person.left_behind,
                bool(person.disability_category),
                bool(person.difficulty),
                rural,
            )
            if key not in profiles:
                needs = self.needs(person, rural)
                profiles[key] = (list(needs), list(itertools.accumulate(needs.values())))
            keyed.append(key)
            weights.append(self.weight(person, age))
        chosen = rng.choices(range(len(people)), weights=weights, k=total)
        picks = []
        for index in chosen:
            codes, code_weights = profiles[keyed[index]]
            picks.append((people[index], rng.choices(codes, cum_weights=code_weights)[0]))
        # Days are stratified along each season's curve rather than drawn one by one, so
        # the small demo shows the seasons as clearly as the county's.
        by_curve: dict[str, list[int]] = defaultdict(list)
        for number, (_person, service) in enumerate(picks):
            by_curve[self.curve(service)].append(number)
        day_of: dict[int, dt.date] = {}
        for curve, numbers in by_curve.items():
            cumulative = list(itertools.accumulate(self.season(curve, day) for day in days))
            strata = [(k + rng.random()) / len(numbers) for k in range(len(numbers))]
            rng.shuffle(strata)
            for number, share in zip(numbers, strata, strict=True):
                found = bisect.bisect_left(cumulative, share * cumulative[-1])
                day_of[number] = days[min(found, len(days) - 1)]
        drafts = []
        for number, (person, service) in enumerate(picks):
            day = day_of[number]
            urgency = rng.choices(URGENCIES, weights=URGENCY_MIX.get(service, URGENCY_MIX[""]))[0]
            hours = HOURS if urgency != Urgency.URGENT else tuple(math.sqrt(h) for h in HOURS)
            hour = rng.choices(range(24), weights=hours)[0]
            created = dt.datetime.combine(
                day, dt.time(hour, rng.randint(0, 59), rng.randint(0, 59)), self.local
            ).astimezone(dt.UTC)
            if created > self.now - dt.timedelta(minutes=20):
                created = (self.now - _minutes(20, 360, rng)).replace(microsecond=0)
            drafts.append(
                _Draft(
                    person=person,
                    service=service,
                    urgency=urgency,
                    channel=self.channel(person, rng),
                    created=created,
                    window=self.window(created, urgency),
                )
            )
        drafts.sort(key=lambda d: d.created)
        self.hold_up(drafts)
        drafts.sort(key=lambda d: d.created)
        return drafts

    def channel(self, person: Resident, rng: random.Random) -> str:
        """The oldest and people with disabilities ask through family or by phone; parents
        ask for children; other adults mostly ask themselves."""
        age = person.age(self.now.date()) or 40
        if age >= 75 or person.disability_category:
            weights = (0.3, 0.35, 0.35)
        elif age < 18:
            weights = (0.05, 0.8, 0.15)
        else:
            weights = (0.6, 0.15, 0.25)
        return rng.choices((Channel.RESIDENT, Channel.PROXY, Channel.PHONE), weights=weights)[0]

    def window(self, created: dt.datetime, urgency: str) -> tuple[dt.datetime, dt.datetime] | None:
        """When the person wants it: soon for urgent needs, on a later morning or afternoon
        for the rest; some leave it open."""
        rng = self.rng
        if urgency == Urgency.URGENT:
            return None
        if urgency == Urgency.HIGH:
            if rng.random() < 0.5:
                return None
            start = created + _minutes(60, 240, rng)
            half = 30 if start.minute >= 30 else 0
            start = start.replace(minute=half, second=0, microsecond=0) + dt.timedelta(minutes=30)
            return start, start + dt.timedelta(hours=2)
        if rng.random() < (0.3 if urgency == Urgency.NORMAL else 0.4):
            return None
        ahead = rng.randint(1, 2) if urgency == Urgency.NORMAL else rng.randint(2, 5)
        day = created.astimezone(self.local).date() + dt.timedelta(days=ahead)
        start = dt.datetime.combine(day, dt.time(rng.choice((9, 14))), self.local).astimezone(
            dt.UTC
        )
        return start, start + dt.timedelta(hours=3)

    def hold_up(self, drafts: list[_Draft]) -> None:
        """A few recent requests nobody takes or finishes: overdue, escalated, still open."""
        rng = self.rng
        recent = [
            d
            for d in drafts
            if self.now - dt.timedelta(days=14) <= d.created <= self.now - dt.timedelta(days=1)
        ]
        wanted = min(HELD_UP[self.context.scale], len(recent))
        stages = (Action.TRIAGE, Action.ASSIGN, Action.ACCEPT, Action.START)
        for number, draft in enumerate(rng.sample(recent, wanted)):
            draft.hold_at = stages[number % len(stages)]
            draft.window = None
            _respond, resolve = self.level(draft.service, draft.urgency)
            late = self.now - dt.timedelta(minutes=resolve) - _minutes(120, 2 * 1440, rng)
            draft.created = min(draft.created, late)

    # -- walking --------------------------------------------------------------------

    def step(
        self,
        life: _Life,
        action: str,
        at: dt.datetime,
        *,
        actor: User | None = None,
        label: str = "",
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """One move along the transition map, or the end of the walk if it lies ahead."""
        if life.halted or at > self.now:
            raise _Stop
        source = life.state
        target = State.SUBMITTED if action == Action.SUBMIT else TRANSITIONS[(source, action)]
        data = dict(data or {})
        if action in (Action.DECLINE, Action.CANCEL, Action.REJECT, Action.REOPEN):
            # As request_transition records it: who held the request when it was let go.
            if life.responder is not None:
                data["responder"] = life.responder.model.pk
            life.responder = None
        life.steps.append(
            _Step(action, source, target, at, actor, "" if actor else label, reason, data)
        )
        life.state = target
        if action == life.draft.hold_at:
            life.halted = True

    def requester(self, life: _Life) -> tuple[User | None, str]:
        draft = life.draft
        return draft.requested_by, str(draft.channel)

    def keeper_of(self, life: _Life) -> tuple[User | None, str]:
        if life.request.community_id == self.demo_community and self.keeper is not None:
            return self.keeper, ""
        return None, KEEPER

    def triage(self, life: _Life, at: dt.datetime) -> None:
        """What request_create and a reopening do: score, breakdown and due times."""
        request, draft = life.request, life.draft
        parts = priority_breakdown(
            urgency=draft.urgency, person=draft.person, created_at=draft.created, now=at
        )
        request.priority = sum(parts.values())
        request.priority_breakdown = parts
        respond, resolve = self.level(draft.service, draft.urgency)
        window_start, window_end = draft.window or (None, None)
        start = max(at, window_start or at)
        request.respond_by = at + dt.timedelta(minutes=respond)
        request.due_at = max(start + dt.timedelta(minutes=resolve), window_end or at)
        life.deadlines.append((at, request.respond_by, request.due_at, respond, resolve))

    def walk(self, life: _Life) -> None:
        rng, draft = self.rng, life.draft
        if not draft.scripted and rng.random() < 0.03:
            life.slow = rng.choice(("assign", "accept", "complete"))
        try:
            actor, label = self.requester(life)
            self.step(life, Action.SUBMIT, draft.created, actor=actor, label=label)
            at = draft.created + dt.timedelta(seconds=rng.randint(1, 4))
            self.triage(life, at)
            self.step(
                life,
                Action.TRIAGE,
                at,
                label=SYSTEM,
                data={
                    "priority": life.request.priority,
                    "breakdown": life.request.priority_breakdown,
                },
            )
            fate = rng.random() if not draft.scripted else 1.0
            if fate < 0.025:
                keeper, label = self.keeper_of(life)
                self.step(
                    life,
                    Action.REJECT,
                    at + self.soon(life, 0.05, 0.5),
                    actor=keeper,
                    label=label,
                    reason=rng.choice(REJECT_REASONS),
                )
                return
            if fate < 0.05:
                self.step(
                    life,
                    Action.CANCEL,
                    at + self.soon(life, 0.05, 0.5),
                    actor=actor,
                    label=str(draft.channel),
                    reason=rng.choice(CANCEL_REASONS),
                )
                return
            done = self.deliver(life, at)
            if done is None:
                return
            if not draft.scripted and rng.random() < 0.012:
                at = done + _minutes(240, 3 * 1440, rng)
                self.step(
                    life,
                    Action.REOPEN,
                    at,
                    actor=actor,
                    label=str(draft.channel),
                    reason=rng.choice(REOPEN_REASONS),
                )
                life.request.completed_at = None
                self.triage(life, at)
                done = self.deliver(life, at)
                if done is None:
                    return
            self.finish(life, done)
        except _Stop:
            pass

    def round_after(self, at: dt.datetime) -> dt.datetime:
        """The next dispatch round after `at`."""
        local = (at + dt.timedelta(minutes=1)).astimezone(self.local)
        slot = local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(
            minutes=ROUND_EVERY * (local.minute // ROUND_EVERY + 1)
        )
        if slot.time() < ROUND_FIRST:
            slot = dt.datetime.combine(slot.date(), ROUND_FIRST, self.local)
        elif slot.time() > ROUND_LAST:
            slot = dt.datetime.combine(slot.date() + dt.timedelta(days=1), ROUND_FIRST, self.local)
        return slot.astimezone(dt.UTC)

    def soon(self, life: _Life, low: float, high: float) -> dt.timedelta:
        """A delay in proportion to the time to accept: minutes when urgent, hours when not."""
        respond, _resolve = self.level(life.draft.service, life.draft.urgency)
        return dt.timedelta(minutes=max(5.0, respond * self.rng.uniform(low, high)))

    def course(self, life: _Life) -> str:
        """What becomes of one assignment."""
        if life.draft.scripted:
            return "deliver"
        chance = self.rng.random()
        for name, share in (
            ("decline", 0.07),
            ("reassign", 0.02),
            ("cancel", 0.025),
            ("late_decline", 0.01),
        ):
            if chance < share:
                return name
            chance -= share
        return "deliver"

    def timeline(
        self, life: _Life, course: str, assigned: dt.datetime
    ) -> list[tuple[str, dt.datetime]]:
        """The steps one assignment would take, and when; the last one ends it."""
        rng, draft = self.rng, life.draft
        respond, _resolve = self.level(draft.service, draft.urgency)
        # Most accept well before the deadline; one already late accepts at once.
        left = ((life.request.respond_by or assigned) - assigned).total_seconds() / 60
        if left > 10:
            accept = assigned + dt.timedelta(
                minutes=min(max(left * rng.uniform(0.05, 0.6), 3), 480)
            )
        else:
            accept = assigned + _minutes(5, 45, rng)
        if life.slow == "accept":
            accept = assigned + dt.timedelta(minutes=respond * rng.uniform(1.2, 2.5) + 30)
        if course == "decline":
            return [(Action.DECLINE, assigned + self.soon(life, 0.05, 0.4))]
        if course == "late_decline":
            return [(Action.ACCEPT, accept), (Action.DECLINE, accept + _minutes(60, 720, rng))]
        if course == "reassign":
            # Staff hand a task nobody answers to someone else before its deadline.
            wait = min(max(respond * rng.uniform(0.4, 0.8), 20), 12 * 60)
            return [(Action.ASSIGN, assigned + dt.timedelta(minutes=wait))]
        if course == "cancel":
            if rng.random() < 0.5:
                return [(Action.CANCEL, assigned + self.soon(life, 0.2, 1.2))]
            return [(Action.ACCEPT, accept), (Action.CANCEL, accept + _minutes(30, 1200, rng))]
        window_start = draft.window[0] if draft.window else None
        if window_start and window_start > accept + dt.timedelta(minutes=10):
            start = max(window_start + _minutes(-10, 25, rng), accept + dt.timedelta(minutes=5))
        elif draft.urgency == Urgency.URGENT:
            start = accept + _minutes(5, 30, rng)
        else:
            start = accept + _minutes(10, 120, rng)
        low, high = (240, 540) if draft.service == "elderly_day_care" else (20, 180)
        if draft.service == "elderly_medical_escort":
            low, high = 120, 300
        complete = start + _minutes(low, high, rng)
        if life.slow == "complete":
            complete += _minutes(1440, 3 * 1440, rng)
        return [(Action.ACCEPT, accept), (Action.START, start), (Action.COMPLETE, complete)]

    def pool(self, life: _Life) -> list[_Who]:
        """Responders with the skill whose radius reaches the community, nearest first;
        failing those, the street's own with the skill."""
        community = self.communities[life.request.community_id]
        key = (community.code, life.draft.service)
        if key not in self.pools:
            lat, lon = community.lat or 0.0, community.lon or 0.0
            skilled = self.by_skill.get(life.draft.service, [])
            near = sorted(
                ((_km(lat, lon, w.lat, w.lon), index, w) for index, w in enumerate(skilled)),
                key=lambda row: (row[0], row[1]),
            )
            reach = [w for km, _i, w in near if km <= w.radius + 0.3]
            if not reach:
                reach = [w for _km_, _i, w in near if w.street == community.parent_id][:5]
            self.pools[key] = reach
        return self.pools[key]

    def choose(
        self,
        life: _Life,
        at: dt.datetime,
        until: dt.datetime,
        excluded: set[int],
        forced: _Who | None = None,
    ) -> list[tuple[float, float, int, _Who]]:
        """Candidates under their load cap, ranked by cost: those whose weekly hours hold
        the wanted time, or, when none do, the others (the worker agrees a time by phone)."""
        rng = self.rng
        lat, lon = life.point
        window_start = life.draft.window[0] if life.draft.window else None
        local = window_start.astimezone(self.local) if window_start else None
        pool = self.pool(life)
        if local is not None:
            fitting = [who for who in pool if who.fits(local)]
            pool = fitting if any(who.model.pk not in excluded for who in fitting) else pool
        ranked: list[tuple[float, float, int, _Who]] = []
        for who in pool:
            if who.model.pk in excluded or who is forced:
                continue
            if who.paused_since is not None and until > who.paused_since:
                continue
            load = who.load(at, until, self.now)
            if load >= who.cap:
                continue
            distance = _km(lat, lon, who.lat, who.lon)
            cost = round(distance + 0.8 * load + rng.uniform(0, 1.5), 2)
            ranked.append((cost, round(distance, 2), load, who))
            if len(ranked) >= 8:
                break
        ranked.sort(key=lambda row: (row[0], row[3].model.pk))
        if forced is not None:
            distance = _km(lat, lon, forced.lat, forced.lon)
            load = forced.load(at, until, self.now)
            ranked.insert(0, (round(distance, 2), round(distance, 2), load, forced))
        return ranked

    @staticmethod
    def explain(ranked: list[tuple[float, float, int, _Who]], why: str) -> dict[str, Any]:
        return {
            "candidates": [
                {"responder": who.model.pk, "cost": cost, "distance_km": km, "open_tasks": load}
                for cost, km, load, who in ranked[:3]
            ],
            "considered": len(ranked),
            "winner": ranked[0][3].model.pk,
            "why": why,
        }

    def deliver(self, life: _Life, at: dt.datetime) -> dt.datetime | None:
        """Assign until someone completes; when they did, or None if the request ended."""
        rng, draft = self.rng, life.draft
        excluded: set[int] = set()
        tries = 0
        staff: tuple[dt.datetime, _Who, dict[str, Any]] | None = None
        while True:
            tries += 1
            round_key: tuple[Any, ...] | None
            if staff is not None:
                assigned, who, explanation = staff
                round_key, cost = None, 0.0
                by, label = self.keeper_of(life)
                course = self.course(life)
                if course == "reassign":
                    course = "deliver"
                steps = self.timeline(life, course, assigned)
            else:
                if draft.urgency == Urgency.URGENT:
                    assigned = at + _minutes(2, 12, rng)
                    round_key = ("urgent", life.request.public_id, tries)
                else:
                    assigned = self.round_after(at)
                    if tries == 1 and life.slow == "assign":
                        assigned = self.round_after(assigned + _minutes(1440, 3 * 1440, rng))
                    elif draft.urgency in (Urgency.LOW, Urgency.NORMAL) and rng.random() < 0.1:
                        assigned = self.round_after(assigned + _minutes(30, 150, rng))
                    round_key = ("optimal", assigned)
                if draft.hold_at == Action.TRIAGE:
                    raise _Stop
                by, label = None, DISPATCH
                course = self.course(life)
                steps = self.timeline(life, course, assigned)
                until = FAR if draft.hold_at else steps[-1][1]
                ranked = self.choose(life, assigned, until, excluded, draft.responder)
                if course == "reassign" and len(ranked) < 2:
                    course = "deliver"
                    steps = self.timeline(life, course, assigned)
                    until = steps[-1][1]
                    ranked = self.choose(life, assigned, until, excluded, draft.responder)
                if not ranked and self.pool(life) and tries < 4:
                    # Everyone able is busy or away then: a later round tries again.
                    at = assigned + _minutes(180, 1200, rng)
                    continue
                if not ranked:
                    # Nobody near with the skill and room: the worker refers it elsewhere.
                    keeper, label = self.keeper_of(life)
                    self.step(
                        life,
                        Action.REJECT,
                        at + _minutes(1.5 * 1440, 4 * 1440, rng),
                        actor=keeper,
                        label=label,
                        reason=NO_ONE_REASON,
                    )
                    return None
                cost, who = ranked[0][0], ranked[0][3]
                explanation = self.explain(ranked, "lowest_cost")
            self.step(
                life,
                Action.ASSIGN,
                assigned,
                actor=by,
                label=label,
                data={"responder": who.model.pk, "explanation": explanation},
            )
            hold = _Hold(who, assigned, round_key, by, explanation)
            life.holds.append(hold)
            life.responder = who
            if round_key is not None:
                self.rounds[round_key].append((hold, cost))
            until = FAR if draft.hold_at else steps[-1][1]
            who.holds.append((assigned, until))
            for action, when in steps:
                if action == Action.ASSIGN:  # staff hand it to someone else
                    break
                self.act(life, who, action, when)
            last_action, last_at = steps[-1]
            hold.ended_at = last_at
            if last_action == Action.COMPLETE:
                hold.end_reason = "completed"
                life.request.completed_at = last_at
                return last_at
            if last_action == Action.CANCEL:
                hold.end_reason = str(Action.CANCEL)
                return None
            if last_action == Action.DECLINE:
                hold.end_reason = str(Action.DECLINE)
                excluded.add(who.model.pk)
                at, staff = last_at, None
                continue
            # A reassignment by staff: the runner-up, if still free then.
            hold.end_reason = "reassigned"
            again = [
                row for row in ranked[1:] if row[3].load(last_at, last_at, self.now) < row[3].cap
            ]
            runner = (again or ranked[1:])[0]
            staff = (
                last_at,
                runner[3],
                self.explain([runner, *ranked[:1]], "reassigned_by_staff"),
            )
            # The step itself is written as the next assignment's ASSIGN.
            at = last_at

    def act(self, life: _Life, who: _Who, action: str, when: dt.datetime) -> None:
        draft = life.draft
        reason = ""
        if action == Action.DECLINE:
            reason = self.rng.choice(DECLINE_REASONS)
            self.step(life, action, when, actor=who.actor, label=who.label, reason=reason)
            return
        if action == Action.CANCEL:
            actor, label = self.requester(life)
            reason = self.rng.choice(CANCEL_REASONS)
            self.step(life, action, when, actor=actor, label=label, reason=reason)
            return
        if action == Action.COMPLETE:
            reason = self.rng.choice(CATEGORY_NOTES.get(self.category(draft.service), ("已完成",)))
        self.step(life, action, when, actor=who.actor, label=who.label, reason=reason)

    def finish(self, life: _Life, done: dt.datetime) -> None:
        """Confirmed and closed, mostly; otherwise closed by the worker or the system."""
        rng, draft = self.rng, life.draft
        actor, label = self.requester(life)
        if draft.confirm or (not draft.scripted and rng.random() < 0.88):
            at = done + _minutes(30, 1440 * (1.5 if rng.random() < 0.95 else 3), rng)
            self.step(life, Action.CONFIRM, at, actor=actor, label=label)
            keeper, keeper_label = self.keeper_of(life)
            if rng.random() < 0.3:
                closer, closer_label = keeper, keeper_label
            else:
                closer, closer_label = None, SYSTEM
            self.close(
                life, at + _minutes(120, 3 * 1440, rng), Outcome.RESOLVED, closer, closer_label
            )
            return
        if draft.scripted:
            raise _Stop
        if rng.random() < 0.3:
            keeper, keeper_label = self.keeper_of(life)
            self.close(
                life,
                done + _minutes(240, 2 * 1440, rng),
                Outcome.UNRESOLVED,
                keeper,
                keeper_label,
                rng.choice(UNRESOLVED_REASONS),
            )
            return
        at = done + dt.timedelta(days=reopen_days()) + _minutes(5, 720, rng)
        self.close(life, at, Outcome.RESOLVED, None, SYSTEM, AUTO_CLOSE_REASON)

    def close(
        self,
        life: _Life,
        at: dt.datetime,
        outcome: str,
        actor: User | None,
        label: str,
        reason: str = "",
    ) -> None:
        self.step(life, Action.CLOSE, at, actor=actor, label=label, reason=reason)
        life.request.outcome, life.request.closed_at = outcome, at

    def escalations(self, life: _Life) -> list[tuple[str, int, dt.datetime]]:
        """Missed service levels, raised as the scheduled job raises them: to the community
        worker a few minutes after the deadline, to the street when still missed later."""
        times = [s.at for s in life.steps]

        def state_at(moment: dt.datetime) -> str:
            return life.steps[bisect.bisect_right(times, moment) - 1].target

        waiting = (State.SUBMITTED, State.TRIAGED, State.ASSIGNED)
        raised: dict[tuple[str, int], dt.datetime] = {}
        ends = [d[0] for d in life.deadlines[1:]] + [FAR]
        for (_since, respond_by, due_at, respond, resolve), end in zip(
            life.deadlines, ends, strict=True
        ):
            for deadline, when, states, minutes in (
                (Escalation.Deadline.RESPOND, respond_by, waiting, respond),
                (Escalation.Deadline.RESOLVE, due_at, OPEN_STATES, resolve),
            ):
                moments = (
                    when + _minutes(1, 5, self.rng),
                    when + dt.timedelta(minutes=min(max(minutes, 60), 24 * 60)),
                )
                for level, moment in enumerate(moments, start=1):
                    if moment > self.now or moment >= end or state_at(moment) not in states:
                        break
                    raised.setdefault((str(deadline), level), moment)
        return [(deadline, level, at) for (deadline, level), at in raised.items()]

    # -- making rows ----------------------------------------------------------------

    def point(self, person: Resident) -> tuple[float, float]:
        if person.pk not in self.points:
            self.points[person.pk] = _jitter(self.rng, self.communities[person.community_id], 0.003)
        return self.points[person.pk]

    def public_id(self, created: dt.datetime) -> str:
        alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        while True:
            tail = "".join(self.rng.choice(alphabet) for _ in range(5))
            public_id = f"R{created:%y%m%d}-{tail}"
            if public_id not in self.public_ids:
                self.public_ids.add(public_id)
                return public_id

    def life(self, draft: _Draft) -> _Life:
        person, rng = draft.person, self.rng
        lat, lon = self.point(person)
        description = draft.description or rng.choice(
            DESCRIPTIONS.get(draft.service, (f"需要{self.terms[draft.service].name}",))
        )
        contact_name = contact_phone = ""
        if draft.channel != Channel.RESIDENT and rng.random() < 0.3:
            contact_name = rng.choice(SURNAMES) + rng.choice(("女士", "先生"))
            contact_phone = f"1400{rng.randint(0, 9_999_999):07d}"
        window_start, window_end = draft.window or (None, None)
        request = ServiceRequest(
            public_id=self.public_id(draft.created),
            person_id=person.pk,
            requested_by_id=draft.requested_by.pk if draft.requested_by else None,
            channel=draft.channel,
            service_id=self.terms[draft.service].pk,
            description=description,
            community_id=person.community_id,
            address=person.address,
            latitude=lat,
            longitude=lon,
            contact_name=contact_name,
            contact_phone=contact_phone,
            window_start=window_start,
            window_end=window_end,
            urgency=draft.urgency,
        )
        return _Life(draft=draft, request=request, point=(lat, lon))

    def live(self, drafts: list[_Draft]) -> list[_Life]:
        lives = []
        pruned: dt.datetime | None = None
        with self.context.progress(drafts, label="requests") as bar:
            for draft in bar:
                life = self.life(draft)
                if not draft.scripted and (
                    pruned is None or draft.created - pruned > dt.timedelta(days=1)
                ):
                    # Later requests come later: holds ended by now never count again.
                    pruned = draft.created
                    for who in self.everyone:
                        who.forget_before(pruned)
                self.walk(life)
                request = life.request
                request.state = life.state
                request.responder_id = life.responder.model.pk if life.responder else None
                lives.append(life)
        return lives


def _save(year: _Year, lives: list[_Life]) -> dict[str, int]:
    """Rows in bulk, parents first; then every time set back to when it happened."""
    rng, now = year.rng, year.now
    requests = [life.request for life in lives]
    for life in lives:
        life.escalations = year.escalations(life)
        life.request.escalation_level = max((lvl for _d, lvl, _a in life.escalations), default=0)
    ServiceRequest.objects.bulk_create(requests, batch_size=BATCH)
    _backdate(ServiceRequest, requests, "created_at", [life.draft.created for life in lives])
    _backdate(ServiceRequest, requests, "updated_at", [life.steps[-1].at for life in lives])

    starts = {key: min(hold.at for hold, _cost in holds) for key, holds in year.rounds.items()}
    keys = sorted(starts, key=lambda key: (starts[key], key[0], str(key[1:])))
    round_of: dict[tuple[Any, ...], DispatchRound] = {}
    responders = sum(1 for who in year.everyone if who.paused_since is None)
    for key in keys:
        holds = year.rounds[key]
        urgent = key[0] == "urgent"
        considered = 1 if urgent else len(holds) + rng.randint(0, max(1, len(holds) // 3))
        round_of[key] = DispatchRound(
            method=DispatchRound.Method.URGENT if urgent else DispatchRound.Method.OPTIMAL,
            requests_considered=considered,
            responders_considered=(
                holds[0][0].explanation.get("considered", 1) if urgent else responders
            ),
            assigned=len(holds),
            total_cost=round(sum(cost for _hold, cost in holds), 2),
            seconds=round(rng.uniform(0.005, 0.03) + 0.002 * considered, 3),
        )
    rounds = list(round_of.values())
    DispatchRound.objects.bulk_create(rounds, batch_size=BATCH)
    _backdate(DispatchRound, rounds, "started_at", [starts[key] for key in keys])

    events: list[RequestEvent] = []
    assignments: list[Assignment] = []
    escalations: list[Escalation] = []
    for life in lives:
        request = life.request
        events += [
            RequestEvent(
                request_id=request.pk,
                action=step.action,
                from_state=step.source,
                to_state=step.target,
                actor_id=step.actor.pk if step.actor else None,
                actor_label=step.label,
                reason=step.reason,
                data=step.data,
                at=step.at,
            )
            for step in life.steps
        ]
        for hold in life.holds:
            ended = hold.ended_at is not None and hold.ended_at <= now
            assignments.append(
                Assignment(
                    request_id=request.pk,
                    responder_id=hold.who.model.pk,
                    round_id=round_of[hold.round].pk if hold.round else None,
                    assigned_by_id=hold.by.pk if hold.by else None,
                    explanation=hold.explanation,
                    assigned_at=hold.at,
                    ended_at=hold.ended_at if ended else None,
                    end_reason=hold.end_reason if ended else "",
                )
            )
        street = year.communities[request.community_id].parent_id or ""
        for deadline, level, at in life.escalations:
            notified = (
                {"role": Role.COMMUNITY_WORKER.value, "region": request.community_id}
                if level == 1
                else {"role": Role.STREET_OFFICIAL.value, "region": street}
            )
            escalations.append(
                Escalation(
                    request_id=request.pk,
                    deadline=deadline,
                    # Every demo request has its due times (set by its triage).
                    deadline_at=(
                        request.respond_by
                        if deadline == Escalation.Deadline.RESPOND
                        else request.due_at
                    )
                    or request.created_at,
                    level=level,
                    raised_at=at,
                    notified=[notified],
                )
            )
    times = [event.at for event in events]
    RequestEvent.objects.bulk_create(events, batch_size=BATCH)
    _backdate(RequestEvent, events, "at", times)
    times = [assignment.assigned_at for assignment in assignments]
    Assignment.objects.bulk_create(assignments, batch_size=BATCH)
    _backdate(Assignment, assignments, "assigned_at", times)
    times = [escalation.raised_at for escalation in escalations]
    Escalation.objects.bulk_create(escalations, batch_size=BATCH)
    _backdate(Escalation, escalations, "raised_at", times)
    return {
        "requests": len(requests),
        "events": len(events),
        "assignments": len(assignments),
        "escalations": len(escalations),
        "rounds": len(rounds),
    }


def _demo_drafts(year: _Year, people: dict[int, Resident]) -> list[_Draft]:
    """demo_resident's own requests (one done and confirmed, one waiting for the demo
    volunteer to accept) and one for the relative they act for, delivered and waiting
    for their confirmation; a task in hand for the demo volunteer, the demo social worker
    and the demo provider's staff: each demo page has something true to show."""
    users = {
        user.username: user
        for user in User.objects.filter(
            username__in=[demo_username(Role.RESIDENT), demo_username(Role.COMMUNITY_WORKER)]
        )
    }
    keeper = users.get(demo_username(Role.COMMUNITY_WORKER))
    if keeper is not None:
        held = keeper.role_assignments.filter(role=Role.COMMUNITY_WORKER).first()
        year.keeper, year.demo_community = keeper, (held.region_id if held else None) or ""
    user = users.get(demo_username(Role.RESIDENT))
    resident = next((p for p in people.values() if user and p.user_id == user.pk), None)
    relation = (
        Relation.objects.filter(person=resident, kind=RelationKind.PROXY).order_by("id").first()
        if resident
        else None
    )
    volunteer = next(
        (
            w
            for w in year.everyone
            if w.model.kind == ResponderKind.VOLUNTEER
            and w.model.user
            and w.model.user.username == demo_username(Role.VOLUNTEER)
        ),
        None,
    )
    if resident is None or relation is None or volunteer is None:
        return []
    elder = people[relation.resident_id]
    local, now = year.local, year.now

    def at(days_ago: float, clock: dt.time | None = None) -> dt.datetime:
        moment = now - dt.timedelta(days=days_ago)
        if clock is None:
            return moment
        return dt.datetime.combine(moment.astimezone(local).date(), clock, local).astimezone(dt.UTC)

    repaired = at(40, dt.time(10, 15))
    errand = at(20 / 24)
    visit = at(2, dt.time(9))
    drafts = [
        _Draft(
            person=resident,
            service="convenience_repair",
            urgency=Urgency.NORMAL,
            channel=Channel.RESIDENT,
            created=repaired,
            requested_by=user,
            window=(
                repaired + dt.timedelta(hours=22, minutes=45),
                repaired + dt.timedelta(hours=25, minutes=45),
            ),
            description="厨房水龙头漏水，需要上门维修",
            responder=volunteer,
            confirm=True,
        ),
        _Draft(
            person=resident,
            service="convenience_errands",
            urgency=Urgency.LOW,
            channel=Channel.RESIDENT,
            created=errand.replace(microsecond=0),
            requested_by=user,
            window=(at(-2, dt.time(9)), at(-2, dt.time(11))),
            description="帮忙代购一周的米面油，送到家里",
            responder=volunteer,
            hold_at=Action.ASSIGN,
        ),
        _Draft(
            person=elder,
            service="elderly_medical_escort",
            urgency=Urgency.NORMAL,
            channel=Channel.PROXY,
            created=at(4, dt.time(19, 40)),
            requested_by=user,
            window=(visit, visit + dt.timedelta(hours=3)),
            description="陪同老人到区医院复查，需要推轮椅",
            responder=volunteer,
            hold_at=Action.COMPLETE,
        ),
    ]

    # The relative's lunches came from a provider (an organization, where the escort came
    # from a volunteer): rating them from their notification moves a provider's index, the
    # demo provider's own when it cooks, so demo_provider_staff sees the rating arrive.
    demo_provider = next(
        (
            w.model.organization_id
            for w in year.everyone
            if w.actor and w.actor.username == demo_username(Role.PROVIDER_STAFF)
        ),
        None,
    )
    kitchen = _nearest_provider(
        year, "elderly_meals", year.communities[elder.community_id], prefer=demo_provider
    )
    if kitchen is not None:
        lunch = at(1, dt.time(11, 30))
        drafts.append(
            _Draft(
                person=elder,
                service="elderly_meals",
                urgency=Urgency.NORMAL,
                channel=Channel.PROXY,
                created=at(3, dt.time(18, 5)),
                requested_by=user,
                window=(lunch, lunch + dt.timedelta(hours=1)),
                description="老人腿脚不便，请送午餐到家",
                responder=kitchen,
                hold_at=Action.COMPLETE,
            )
        )

    def elders(community: str) -> list[Resident]:
        return [
            p
            for p in people.values()
            if p.community_id == community
            and p.pk not in (resident.pk, elder.pk)
            and (p.age(now.date()) or 0) >= 60
        ]

    def demo_responder(role: str) -> _Who | None:
        return next(
            (w for w in year.everyone if w.actor and w.actor.username == demo_username(role)),
            None,
        )

    neighbours = elders(resident.community_id)
    worker = demo_responder(Role.SOCIAL_WORKER)
    if neighbours:
        drafts.append(
            _Draft(
                person=year.rng.choice(neighbours),
                service="elderly_cleaning",
                urgency=Urgency.NORMAL,
                channel=Channel.PHONE,
                created=at(1, dt.time(8, 10)),
                requested_by=keeper,
                description="换季需要擦窗、整理衣物",
                responder=volunteer,
                hold_at=Action.START,
            )
        )
    if neighbours and worker is not None:
        drafts.append(
            _Draft(
                person=year.rng.choice(neighbours),
                service="elderly_visit",
                urgency=Urgency.LOW,
                channel=Channel.PROXY,
                created=at(1, dt.time(15, 10)),
                description="子女在外地，希望有人定期上门看看",
                responder=worker,
                hold_at=Action.ASSIGN,
            )
        )
    provider = demo_responder(Role.PROVIDER_STAFF)
    if provider is not None:
        offered = sorted(provider.skills & set(ELDERLY_NEEDS))
        served = elders(provider.model.region_id)
        if offered and served:
            drafts.append(
                _Draft(
                    person=year.rng.choice(served),
                    service=offered[0],
                    urgency=Urgency.NORMAL,
                    channel=Channel.RESIDENT,
                    created=at(1, dt.time(9, 20)),
                    responder=provider,
                    hold_at=Action.ACCEPT,
                )
            )
    return drafts


def _nearest_provider(
    year: _Year, skill: str, community: Region, prefer: Any = None
) -> _Who | None:
    """The organization's responder offering `skill` nearest to the community's centre:
    one of the `prefer` organization's when it has any."""
    offering = [w for w in year.everyone if w.model.organization_id and skill in w.skills]
    preferred = [w for w in offering if prefer is not None and w.model.organization_id == prefer]
    offering = preferred or offering
    lat, lon = community.lat, community.lon
    if not offering or lat is None or lon is None:
        return None
    return min(offering, key=lambda w: great_circle_km(lat, lon, w.lat, w.lon))


def present() -> dt.datetime:
    """The demo's now, which its year of requests leads up to: on the hour, so the same
    seed gives the same year all hour long (tests pin it)."""
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def _announce_scripted(people: set[int]) -> int:
    """The inbox of demo_resident and their relative: the scripted requests' timelines as
    notifications, written by the same announcer the live system uses, so the delivered
    request's notification carries its one-tap rating link. Backdated to each event."""
    written = 0
    events = RequestEvent.objects.filter(request__person_id__in=people).order_by("at", "id")
    for event in events:
        written += request_event_announce(event_id=event.pk)
        Notification.objects.filter(key=f"status:{event.pk}").update(created_at=event.at)
    return written


@demo_step(name="requests", order=60)
def build_demo_requests(context: DemoContext) -> None:
    """Responders, and a year of service requests with their timelines."""
    started = time.monotonic()
    now = present()
    communities = {
        region.code: region
        for region in Region.objects.filter(
            code__startswith=DISTRICT[:6], level=RegionLevel.COMMUNITY
        ).order_by("code")
    }
    responders = _Responders(context, communities, now)
    everyone = responders.build()
    year = _Year(context, now, communities, everyone, responders.terms)
    people = {
        person.pk: person
        for person in Resident.objects.filter(
            community_id__in=list(communities), anonymized_at__isnull=True
        )
        .only(*PERSON_FIELDS)
        .order_by("id")
    }
    scripted = _demo_drafts(year, people)
    # demo_resident and their relative have only the requests written for them.
    served = {draft.person.pk for draft in scripted[:3]}
    others = [person for pk, person in people.items() if pk not in served]
    drafts = year.draw(others, REQUESTS[context.scale] - len(scripted)) if others else []
    lives = year.live(scripted + drafts)
    counts = _save(year, lives)
    counts["notifications"] = _announce_scripted(served)
    context.echo(
        f"  {len(everyone)} responders, {counts['requests']} requests, {counts['events']} events, "
        f"{counts['escalations']} escalations ({time.monotonic() - started:.1f} s)"
    )
