"""Volunteers, social workers, teams, a year of activities and the time bank in the demo.

Nobody here is real. About one resident in seven is a registered volunteer (the
national share: 190 million of 1.41 billion); the volunteers the requests demo already
dispatches keep their accounts and responders and gain a resident record, so the
requests they delivered and their volunteer record agree. Every street has a community
team or two that meets about weekly; the district's social organizations run teams and
activities of their own. The street social workers of the requests demo, the demo
social worker and a few social workers employed by those organizations are registered
with their qualifications.

The time bank is written as the services would have written it, in time order: hours
certified for attendance, hours for requests volunteers (and organizations) delivered
when the person served confirmed them, donations to community pools, redemptions for
volunteers' parents aged 60 or more (held when asked, spent when confirmed, returned
when not), corrections after disputes. The ledger is walked in memory first, so that
no balance goes below zero or above the cap, then bulk-written: transfers with their
declared legs, then their movements, oldest first, which the database's triggers check
one by one and from which they keep every balance. Stars are proposed and awarded as
the daily jobs would have done (`honours`), from the hours each volunteer earned.

demo_volunteer gets a resident record, a mother aged 60 or more, a few tens of hours,
a star crossed a few days ago and still in public notice, and activities to come,
one of them today (organized by demo_community_worker) so a QR check-in can be shown.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import RoleAssignment, User
from linli.core.registry import DemoContext, demo_step
from linli.directory.choices import OrganizationKind
from linli.directory.models import Organization, TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.demo import DISTRICT
from linli.regions.models import Region
from linli.requests import demo as requests_demo
from linli.requests.choices import Action, Channel, ResponderKind, ResponderStatus, State
from linli.requests.models import RequestEvent, Responder, ServiceRequest
from linli.residents.choices import RelationKind
from linli.residents.demo import GIVEN, SURNAMES
from linli.residents.models import Relation, Resident, age_on

from .activities import attended_hours, quarter_hours
from .choices import (
    AccountKind,
    ActivityStatus,
    AttendanceMethod,
    AwardStatus,
    ChallengeStatus,
    DisputeStatus,
    Qualification,
    RedemptionStatus,
    SignupStatus,
    TransferKind,
    VolunteerStatus,
)
from .honours import add_working_days, level_for, star_thresholds
from .ledger import hours, system_account
from .models import (
    Account,
    Activity,
    Attendance,
    HoursDispute,
    Movement,
    Redemption,
    Signup,
    SocialWorker,
    StarAward,
    StarChallenge,
    Team,
    Transfer,
    Volunteer,
)

# Registered volunteers as a share of residents: the national share at the end of 2020.
VOLUNTEER_SHARE = 0.135
PENDING_SHARE, REJECTED_SHARE = 0.06, 0.01
# Who turns up how often: a core that comes nearly every week, regulars, and the many
# who come once or twice a year. (share, weight when drawing who signs up)
TIERS = ((0.04, 80.0), (0.30, 4.0), (0.66, 1.0))
# Volunteers who also registered through one of the social organizations.
THROUGH_ORGANIZATION = 0.12
# How often each street's community teams meet, and how many come.
TEAM_EVERY_WEEKS = {"county": 1, "small": 2}
TEAM_CAPACITY = {"county": (10, 25), "small": (3, 6)}
ORG_ACTIVITIES_A_YEAR = {"county": 24, "small": 6}
ORG_CAPACITY = {"county": (8, 20), "small": (3, 5)}
ORG_SOCIAL_WORKERS = {"county": 2, "small": 1}
CANCELLED_SHARE = 0.02
NO_SHOW = 0.08
QR_SHARE = 0.7
REDEMPTIONS = {
    "county": {
        RedemptionStatus.SETTLED: 30,
        RedemptionStatus.RELEASED: 8,
        RedemptionStatus.HELD: 6,
    },
    "small": {RedemptionStatus.SETTLED: 3, RedemptionStatus.RELEASED: 1, RedemptionStatus.HELD: 1},
}
DONATIONS = {"county": 40, "small": 4}
GROUP_DONATIONS = {"county": 3, "small": 1}
DISPUTES = {
    "county": {DisputeStatus.OPEN: 4, DisputeStatus.UPHELD: 5, DisputeStatus.REJECTED: 3},
    "small": {DisputeStatus.OPEN: 1, DisputeStatus.UPHELD: 1, DisputeStatus.REJECTED: 1},
}
# The demo volunteer's balance after their donation: "a few tens of hours".
DEMO_BALANCE = Decimal(60)
# The daily honours jobs (stars_propose, stars_award_due) run at this local time.
STAR_JOB = dt.time(2, 0)
BATCH = 500
MIN_AGE, MAX_AGE = 18, 75
PARENT_AGE = 60
# Hours a redemption holds for a service: what a visit of that kind usually takes.
REDEMPTION_HOURS = {
    "elderly_meals": "1",
    "elderly_visit": "1",
    "elderly_cleaning": "2",
    "elderly_bathing": "1.5",
    "elderly_mobility": "1.5",
    "elderly_medical_escort": "3",
    "elderly_day_care": "4",
    "convenience_errands": "1",
    "convenience_repair": "1.5",
    "convenience_housekeeping": "2",
    "medical_home_visit": "1",
    "medical_chronic_followup": "1",
    "safety_daily_checkin": "0.5",
}
REDEEMABLE_CATEGORIES = ("elderly_care", "convenience", "medical_care", "safety")
SOCIAL_WORK_CENTRE = "社会工作服务中心"
QUALIFICATIONS = (
    (Qualification.ASSISTANT, 0.55, "1"),
    (Qualification.SOCIAL_WORKER, 0.37, "2"),
    (Qualification.SENIOR, 0.08, "3"),
)

# --- what activities are about --------------------------------------------------------

WEEKDAYS, WEEKEND, SATURDAY = (0, 1, 2, 3, 4), (5, 6), (5,)


@dataclass(frozen=True)
class _Theme:
    title: str
    skills: tuple[str, ...]
    description: str
    # (days of the week, start, end) in local time
    slots: tuple[tuple[tuple[int, ...], str, str], ...]
    urban: float = 1.0
    rural: float = 1.0


MORNING = (WEEKEND, "09:00", "11:30")
AFTERNOON = (WEEKEND, "14:30", "17:00")
WEEKDAY_MORNING = (WEEKDAYS, "09:00", "11:30")
LUNCH = (WEEKDAYS, "10:30", "13:00")
AFTER_SCHOOL = (WEEKDAYS, "16:30", "18:30")
LONG_MORNING = (SATURDAY, "08:30", "12:00")

TEAM_THEMES = (
    _Theme(
        "敬老探访：走访独居老人",
        ("elderly_visit", "safety_daily_checkin"),
        "两人一组上门看望独居和高龄老人，陪老人聊聊天，查看水电燃气是否安全，"
        "有困难的记下来交给社区。",
        (MORNING, WEEKDAY_MORNING),
        3,
        4,
    ),
    _Theme(
        "长者饭堂助餐服务",
        ("elderly_meals",),
        "在长者饭堂帮忙分餐，给行动不便的老人送餐上门。",
        (LUNCH,),
        3,
        2,
    ),
    _Theme(
        "智能手机课堂：教老人用手机",
        ("education_digital_skills",),
        "一对一教老人用手机挂号、视频通话、扫码乘车，识别诈骗电话。",
        (WEEKDAY_MORNING, AFTERNOON),
        2.5,
        1,
    ),
    _Theme(
        "便民维修服务日",
        ("convenience_repair",),
        "在社区广场为居民免费修理小家电、自行车，磨刀、修伞。",
        (MORNING,),
        2,
        1.5,
    ),
    _Theme(
        "四点半课堂：作业辅导",
        ("childcare_after_school", "education_tutoring"),
        "放学后陪孩子写作业、读绘本，等家长下班来接。",
        (AFTER_SCHOOL,),
        2.5,
        1.5,
    ),
    _Theme(
        "社区环境清洁日",
        (),
        "清理楼道杂物和卫生死角，宣传垃圾分类。",
        (MORNING,),
        2,
        2,
    ),
    _Theme(
        "消防安全隐患排查",
        ("safety_hazard_report", "safety_fire_check"),
        "跟随网格员排查楼道堆物、电动车违规充电等隐患，发放安全提示。",
        (AFTERNOON,),
        1.5,
        1,
    ),
    _Theme(
        "助老家务服务",
        ("elderly_cleaning",),
        "为高龄、失能老人打扫房间、整理衣物、清洗厨房。",
        (MORNING, LONG_MORNING),
        2,
        2,
    ),
    _Theme(
        "陪同就医志愿服务",
        ("elderly_medical_escort",),
        "在社区卫生服务站帮老人挂号、取药，陪同做检查。",
        (WEEKDAY_MORNING,),
        1.5,
        1.5,
    ),
    _Theme(
        "留守儿童陪伴日",
        ("welfare_left_behind_care",),
        "陪留守儿童写作业、做游戏，讲安全知识，和在外地的父母视频通话。",
        (AFTERNOON,),
        0,
        3,
    ),
    _Theme(
        "农忙互助：为留守老人代购送餐",
        ("convenience_errands", "elderly_meals"),
        "农忙时节为留守老人代购米面油和常用药，把午饭送到家。",
        (MORNING,),
        0,
        1.5,
    ),
)
LEI_FENG = _Theme(
    "学雷锋志愿服务日",
    ("convenience_repair", "convenience_errands", "elderly_visit"),
    "学雷锋纪念日集中服务：义务维修、理发、代购，走访困难家庭。",
    (MORNING,),
)
VOLUNTEER_DAY = _Theme(
    "国际志愿者日集中服务",
    ("elderly_visit", "convenience_repair", "education_digital_skills"),
    "国际志愿者日，各志愿服务队在社区广场集中提供便民服务。",
    (MORNING,),
)
RESPECT_MONTH = _Theme(
    "敬老月：为老人义务理发、清洁",
    ("elderly_cleaning", "elderly_visit"),
    "十月敬老月，为辖区高龄老人义务理发、打扫房间、送去慰问品。",
    (MORNING, WEEKDAY_MORNING),
)
SPRING_FESTIVAL = _Theme(
    "春节送温暖：走访慰问困难老人",
    ("elderly_visit", "welfare_emergency_relief"),
    "春节前走访慰问困难、独居老人，送年货、贴春联。",
    (MORNING, WEEKDAY_MORNING),
)
SUMMER = _Theme(
    "暑期托管志愿服务",
    ("childcare_after_school", "education_tutoring"),
    "暑假期间为双职工家庭的孩子提供白天看护和作业辅导。",
    (WEEKDAY_MORNING,),
)
ORG_THEMES: dict[str, tuple[_Theme, ...]] = {
    SOCIAL_WORK_CENTRE: (
        _Theme(
            "困难家庭走访",
            ("welfare_subsistence", "elderly_visit"),
            "跟随社工走访低保、低边家庭，了解需求，协助准备救助申请材料。",
            (WEEKDAY_MORNING, MORNING),
        ),
        _Theme(
            "邻里调解与普法宣传",
            ("safety_dispute_mediation", "safety_legal_aid"),
            "协助社工开展邻里纠纷调解和普法宣传。",
            (AFTERNOON,),
        ),
    ),
    "养老服务中心": (
        _Theme(
            "助浴服务",
            ("elderly_bathing",),
            "协助护理员为失能老人助浴，做好防滑和保暖。",
            (WEEKDAY_MORNING,),
        ),
        _Theme(
            "失能老人陪伴外出",
            ("elderly_mobility", "elderly_visit"),
            "推轮椅陪失能老人外出晒太阳、散步、理发。",
            (MORNING, AFTERNOON),
        ),
    ),
    "助残服务社": (
        _Theme(
            "助残出行陪伴",
            ("welfare_disability_support", "elderly_mobility"),
            "陪伴残疾人外出就医、购物，协助乘坐公共交通。",
            (MORNING, WEEKDAY_MORNING),
        ),
        _Theme(
            "残疾人就业技能培训协助",
            ("education_employment", "welfare_disability_support"),
            "协助开展手工、电商等就业技能培训，帮学员熟悉操作。",
            (WEEKDAY_MORNING,),
        ),
    ),
    "青少年服务中心": (
        _Theme(
            "留守儿童课业辅导",
            ("education_tutoring", "welfare_left_behind_care"),
            "为留守儿童辅导功课，开展阅读和手工活动。",
            (AFTERNOON,),
        ),
        _Theme(
            "青少年心理健康游园会",
            ("medical_mental_health", "welfare_minor_protection"),
            "协助心理老师开展游园会，宣传防欺凌和自我保护知识。",
            (MORNING,),
        ),
    ),
}
PLACES = {
    RegionKind.URBAN: ("党群服务中心", "新时代文明实践站", "居委会活动室"),
    RegionKind.RURAL: ("村委会", "村综合服务社", "新时代文明实践站"),
}
# The demo community's own activities around the present (days from today, start, end).
DEMO_STAR_DAY = -3
DEMO_ACTIVITIES = (
    (
        DEMO_STAR_DAY,
        "08:30",
        "13:00",
        _Theme(
            "敬老助老服务日：上门探访与助洁",
            ("elderly_visit", "elderly_cleaning"),
            "分组上门探访高龄老人，帮忙打扫卫生，中午在长者饭堂协助分餐。",
            (),
        ),
    ),
    (
        -1,
        "14:00",
        "16:30",
        _Theme(
            "智能手机课堂：教老人用手机",
            ("education_digital_skills",),
            "一对一教老人用手机挂号、视频通话、扫码乘车，识别诈骗电话。",
            (),
        ),
    ),
    (
        0,
        "08:30",
        "20:30",
        _Theme(
            "社区志愿服务站值守",
            ("convenience_errands", "elderly_visit"),
            "在社区志愿服务站轮班值守：接待居民、代办代购、为来访老人量血压。"
            "到站扫码签到，离开时再扫码签退。",
            (),
        ),
    ),
    (3, "09:00", "11:30", TEAM_THEMES[2]),
    (8, "10:30", "13:00", TEAM_THEMES[1]),
    (12, "09:00", "11:30", TEAM_THEMES[3]),
)

DONATION_MEMOS = {
    (3, 5): "学雷锋纪念日捐赠服务时长",
    (12, 5): "国际志愿者日捐赠服务时长",
}
DONATION_MEMO = "捐赠给社区时间银行"
GROUP_DONATION_MEMO = "机构志愿服务时长捐赠社区时间银行"
REJECT_REASONS = (
    "所填联系方式无法接通，请更新后重新申请",
    "不在本社区居住，请到居住地社区登记",
)
DISPUTE_REASONS = (
    "提前半小时到场布置场地，签到时扫码没有成功，实际服务时长多于记录。",
    "活动结束后留下来整理物资，签退晚了，记录的时长偏少。",
    "手机没电没能扫码签退，实际一直服务到活动结束。",
)
UPHELD_ANSWER = "经核对现场签到表和照片，确认时长记录有误，已按实际时长更正。"
REJECTED_ANSWER = "核对签到记录和现场照片，签退时间与记录一致，维持原时长。"
CHALLENGE_REASON = "听说部分活动的时长记录重复了，请社区核实后再授予。"


# --- small tools ----------------------------------------------------------------------


# Models whose creation times the demo sets itself.
STAMPED: tuple[type[Model], ...] = (
    RoleAssignment,
    Responder,
    Team,
    Volunteer,
    SocialWorker,
    Activity,
    Signup,
    Account,
    Transfer,
    HoursDispute,
    Redemption,
    Relation,
    StarAward,
    StarChallenge,
)


@contextmanager
def _stamped(*models: type[Model]) -> Iterator[None]:
    """Let bulk_create write the times set on the objects: `auto_now_add` would stamp the
    present, and the ledger's rows cannot be backdated afterwards (they are append-only).
    The demo builder runs alone, so switching the fields off for a moment is safe."""
    switched = []
    for model in models:
        for item in model._meta.concrete_fields:
            if getattr(item, "auto_now_add", False):
                item.auto_now_add = False  # type: ignore[attr-defined]
                switched.append(item)
    try:
        yield
    finally:
        for item in switched:
            item.auto_now_add = True  # type: ignore[attr-defined]


def _set_column(model: type[Model], name: str, pairs: Sequence[tuple[Any, Any]]) -> None:
    """One column of many rows, by primary key: one UPDATE with a CASE per batch
    (bulk_update builds the same statement, much more slowly)."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(str(model._meta.get_field(name).column))  # type: ignore[union-attr]
    key = connection.ops.quote_name(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 300):  # SQLite allows 999 parameters a statement
            batch = pairs[start : start + 300]
            cases = " ".join(["WHEN %s THEN %s"] * len(batch))
            keys = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {column} = CASE {key} {cases} END "  # noqa: S608 - names from the model, values as parameters
                f"WHERE {key} IN ({keys})",
                [value for pair in batch for value in pair] + [pk for pk, _v in batch],
            )


def _sample(rng: random.Random, items: Sequence[Any], weights: Sequence[float], k: int) -> list:
    """k items without replacement, each drawn in proportion to its weight
    (Efraimidis and Spirakis: the k largest of u ** (1 / w))."""
    keyed = ((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0)
    return [items[i] for _key, i in heapq.nlargest(k, keyed)]


def _jitter(rng: random.Random, region: Region, spread: float = 0.004) -> tuple[float, float]:
    lat = (region.lat or 0.0) + rng.uniform(-spread, spread)
    lon = (region.lon or 0.0) + rng.uniform(-spread, spread) * 1.15
    return round(lat, 6), round(lon, 6)


def _clock(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour), int(minute))


def _minutes(low: float, high: float, rng: random.Random) -> dt.timedelta:
    return dt.timedelta(minutes=rng.uniform(low, high))


def _availability(rng: random.Random) -> list[dict[str, Any]]:
    """A week of hours: retirees on weekday mornings or afternoons, working people in the
    evenings and at weekends; some say any time."""
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
        for day in sorted(rng.sample(WEEKEND, rng.randint(1, 2))):
            start, end = rng.choice(halves)
            slots.append({"day": day, "start": start, "end": end})
    return slots


def _span(activity: Activity) -> Decimal:
    """How long an activity lasts, to the quarter hour: the most one attendance records."""
    return quarter_hours(Decimal((activity.ends_at - activity.starts_at).total_seconds()) / 3600)


def _delivered_hours(started: dt.datetime, completed: dt.datetime) -> Decimal:
    """As `redemptions.delivered_hours` reads a request's events: start to completion,
    up to the quarter hour, within the deployment's bounds."""
    low, high = hours(settings.LINLI_REQUEST_HOURS_MIN), hours(settings.LINLI_REQUEST_HOURS_MAX)
    quarters = math.ceil(max((completed - started).total_seconds(), 0.0) / 900)
    return min(max(hours(Decimal("0.25") * quarters), low), high)


# --- the people -----------------------------------------------------------------------


@dataclass
class _Vol:
    model: Volunteer
    user: User
    resident: Resident | None
    community: Region
    street: str
    skills: list[str]
    weight: float = 0.0
    verified_at: dt.datetime | None = None
    teams: list[Team] = field(default_factory=list)
    responder: Responder | None = None
    age: int | None = None
    scripted: bool = False


@dataclass
class _Sign:
    model: Signup
    vol: _Vol
    attendance: Attendance | None = None
    transfer: Transfer | None = None


@dataclass
class _Act:
    model: Activity
    street: str
    skills: tuple[str, ...]
    signups: list[_Sign] = field(default_factory=list)
    certified_at: dt.datetime | None = None
    scripted: bool = False

    @property
    def organizer(self) -> User:
        return self.model.created_by


@dataclass
class _Request:
    pk: int
    public_id: str
    person: int
    community: str
    service: str
    category: str
    state: str
    responder: int | None
    created: dt.datetime
    requested_by: int | None
    events: list[tuple[int, str, dt.datetime, int | None, str]] = field(default_factory=list)

    def last(self, action: str) -> tuple[int, str, dt.datetime, int | None, str] | None:
        return next((e for e in reversed(self.events) if e[1] == action), None)

    def delivered(self) -> Decimal | None:
        completed = self.last(Action.COMPLETE)
        if completed is None:
            return None
        started = next(
            (e for e in reversed(self.events) if e[1] == Action.START and e[0] < completed[0]),
            None,
        )
        if started is None:
            return hours(settings.LINLI_REQUEST_HOURS_MIN)
        return _delivered_hours(started[2], completed[2])


# --- the books ------------------------------------------------------------------------

Key = tuple[Any, ...]
ISSUANCE: Key = (AccountKind.ISSUANCE,)
HELD: Key = (AccountKind.HELD,)
SPENT: Key = (AccountKind.SPENT,)


class _Books:
    """The ledger walked in memory, in time order, with the rules `ledger` applies: legs
    sum to zero, no balance but the issuing one goes below zero, a person's balance stops
    at the cap and the rest goes to their community's pool."""

    def __init__(self, cap: Decimal):
        self.cap = cap
        self.balance: dict[Key, Decimal] = defaultdict(Decimal)
        self.opened: dict[Key, dt.datetime] = {}
        self.booked: list[tuple[Transfer, list[tuple[Key, Decimal]]]] = []
        self.legs_of: dict[int, list[tuple[Key, Decimal]]] = {}
        # user id → [(when, hours earned)], corrections negative
        self.earned: dict[int, list[tuple[dt.datetime, Decimal]]] = defaultdict(list)

    def can_pay(self, key: Key, amount: Decimal) -> bool:
        return self.balance[key] >= amount

    def book(
        self,
        *,
        kind: str,
        at: dt.datetime,
        legs: Iterable[tuple[Key, Decimal]],
        actor: int | None = None,
        memo: str = "",
        activity: Activity | None = None,
        request: int | None = None,
        reverses: Transfer | None = None,
        earned_by: int | None = None,
    ) -> Transfer:
        merged: dict[Key, Decimal] = defaultdict(Decimal)
        for key, amount in legs:
            merged[key] += hours(amount)
        final = [(key, amount) for key, amount in merged.items() if amount != 0]
        if len(final) < 2 or sum(amount for _k, amount in final) != 0:
            raise RuntimeError(f"an unbalanced demo transfer: {final}")
        for key, amount in final:
            if key != ISSUANCE and self.balance[key] + amount < 0:
                raise RuntimeError(f"the demo would overdraw {key}")
        transfer = Transfer(
            kind=kind,
            legs=len(final),
            memo=memo[:255],
            created_by_id=actor,
            activity=activity,
            request_id=request,
            reverses=reverses,
            earned_by_id=earned_by,
            created_at=at,
        )
        for key, amount in final:
            self.balance[key] += amount
            self.opened.setdefault(key, at)
            if key == ISSUANCE and earned_by is not None:
                self.earned[earned_by].append((at, -amount))
        self.booked.append((transfer, final))
        self.legs_of[id(transfer)] = final
        return transfer

    def credit(
        self, *, key: Key, amount: Decimal, pool: str, kind: str, at: dt.datetime, **fields: Any
    ) -> Transfer:
        """`ledger.timebank_credit`: issue hours; a person keeps what fits under the cap."""
        room = max(self.cap - self.balance[key], Decimal(0))
        kept = min(amount, room) if key[0] == AccountKind.PERSON else amount
        legs = [(ISSUANCE, -amount), (key, kept), (("pool", pool), amount - kept)]
        return self.book(kind=kind, at=at, legs=legs, **fields)

    def reverse(self, transfer: Transfer, *, at: dt.datetime, actor: int, memo: str) -> Transfer:
        legs = [(key, -amount) for key, amount in self.legs_of[id(transfer)]]
        return self.book(
            kind=TransferKind.REVERSAL,
            at=at,
            legs=legs,
            actor=actor,
            memo=memo,
            activity=transfer.activity,
            request=transfer.request_id,
            reverses=transfer,
            earned_by=transfer.earned_by_id,
        )

    def issued(self) -> Decimal:
        return -self.balance[ISSUANCE]

    def reversible(self, transfer: Transfer) -> bool:
        return all(
            key == ISSUANCE or self.balance[key] >= amount
            for key, amount in self.legs_of[id(transfer)]
        )


# --- the builder ----------------------------------------------------------------------


class _Demo:
    def __init__(self, context: DemoContext):
        self.context = context
        self.rng = context.rng
        self.scale = context.scale
        self.now = requests_demo.present()
        self.local = ZoneInfo(settings.TIME_ZONE)
        self.today = self.now.astimezone(self.local).date()
        self.communities = {
            region.code: region
            for region in Region.objects.filter(
                code__startswith=DISTRICT[:6], level=RegionLevel.COMMUNITY
            ).order_by("code")
        }
        self.streets: dict[str, list[Region]] = defaultdict(list)
        for region in self.communities.values():
            self.streets[region.parent_id or ""].append(region)
        self.terms = {
            term.code: term
            for term in TaxonomyTerm.objects.filter(
                taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY)
            ).select_related("parent")
        }
        self.demo_users = {
            user.username: user
            for user in User.objects.filter(username__in=[demo_username(r) for r in Role.values])
        }
        self.keeper = self.demo_users.get(demo_username(Role.COMMUNITY_WORKER))
        held = (
            RoleAssignment.objects.filter(user=self.keeper, role=Role.COMMUNITY_WORKER).first()
            if self.keeper
            else None
        )
        self.demo_community = held.region if held and held.region_id in self.communities else None
        self.organizations = list(
            Organization.objects.filter(
                kind=OrganizationKind.SOCIAL_ORGANIZATION, region__code__startswith=DISTRICT[:6]
            ).order_by("name")
        )
        self.users: list[User] = []
        self.roles: list[RoleAssignment] = []
        self.new_responders: list[tuple[Responder, list[str]]] = []
        self.vols: list[_Vol] = []
        self.workers: list[SocialWorker] = []
        self.teams: list[Team] = []
        self.team_of_community: dict[str, Team] = {}
        self.teams_of_street: dict[str, list[Team]] = defaultdict(list)
        self.team_of_org: dict[Any, Team] = {}
        self.organizer_of: dict[str, User] = {}
        self.staff_of: dict[Any, list[User]] = defaultdict(list)
        self.activities: list[_Act] = []
        self.relations: list[Relation] = []
        self.renamed: list[tuple[int, str]] = []
        self.demo_vol: _Vol | None = None
        self.mother: Resident | None = None
        self.star_crosser: _Vol | None = None
        self.star_activity: _Act | None = None
        self.mother_request: _Request | None = None

    # -- who is who --------------------------------------------------------------------

    def street_of(self, code: str) -> str:
        return self.communities[code].parent_id or ""

    def age(self, person: Resident, day: dt.date | None = None) -> int:
        return age_on(person.birth_date, day or self.today) or 0

    def local_at(self, day: dt.date, clock: str | dt.time) -> dt.datetime:
        moment = _clock(clock) if isinstance(clock, str) else clock
        return dt.datetime.combine(day, moment, self.local).astimezone(dt.UTC)

    def new_user(self, username: str, last: str, first: str, joined: dt.datetime) -> User:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            password=make_password(None),
            date_joined=joined,
        )
        self.users.append(user)
        return user

    def grant(
        self,
        user: User,
        role: str,
        at: dt.datetime,
        *,
        region: Region | None = None,
        organization: Organization | None = None,
        by: User | None = None,
    ) -> None:
        """What `role_grant` writes, in bulk (editors get staff status as there)."""
        self.roles.append(
            RoleAssignment(
                user=user,
                role=role,
                region=region,
                organization=organization,
                granted_by=by,
                granted_at=at,
            )
        )
        if role == Role.COMMUNITY_WORKER:
            user.is_staff = True

    def load(self) -> None:
        """The residents (only what is needed: names and ages), the responders with
        accounts, and the year of requests, with the events the ledger reads."""
        self.people = {
            person.pk: person
            for person in Resident.objects.filter(
                community_id__in=list(self.communities), anonymized_at__isnull=True
            )
            .only("id", "community_id", "user_id", "birth_date", "sex", "name", "living_alone")
            .order_by("id")
        }
        resident_user = self.demo_users.get(demo_username(Role.RESIDENT))
        self.kept_apart = set(
            Relation.objects.filter(person__user=resident_user).values_list(
                "resident_id", flat=True
            )
        )
        self.responders = list(
            Responder.objects.filter(
                region_id__in=list(self.communities),
                user__isnull=False,
                kind__in=(ResponderKind.VOLUNTEER, ResponderKind.SOCIAL_WORKER),
            )
            .select_related("user")
            .order_by("user__username")
        )
        self.responder_skills: dict[int, list[str]] = defaultdict(list)
        for responder_id, code in (
            Responder.skills.through.objects.filter(
                responder_id__in=[r.pk for r in self.responders]
            )
            .order_by("responder_id", "taxonomyterm__code")
            .values_list("responder_id", "taxonomyterm__code")
        ):
            self.responder_skills[responder_id].append(code)
        self.responder_kinds = {
            pk: (kind, user_id, organization_id, region_id)
            for pk, kind, user_id, organization_id, region_id in Responder.objects.filter(
                region_id__in=list(self.communities)
            ).values_list("id", "kind", "user_id", "organization_id", "region_id")
        }
        self.requests: dict[int, _Request] = {}
        for row in (
            ServiceRequest.objects.filter(community_id__in=list(self.communities))
            .order_by("id")
            .values_list(
                "id",
                "public_id",
                "person_id",
                "community_id",
                "service__code",
                "service__parent__code",
                "state",
                "responder_id",
                "created_at",
                "requested_by_id",
            )
        ):
            self.requests[row[0]] = _Request(*row[:5], row[5] or row[4], *row[6:])
        wanted = (
            Action.SUBMIT,
            Action.START,
            Action.COMPLETE,
            Action.CONFIRM,
            Action.CANCEL,
            Action.REJECT,
            Action.CLOSE,
        )
        for pk, request_id, action, at, actor, label in (
            RequestEvent.objects.filter(request_id__in=list(self.requests), action__in=wanted)
            .order_by("request_id", "at", "id")
            .values_list("id", "request_id", "action", "at", "actor_id", "actor_label")
        ):
            self.requests[request_id].events.append((pk, action, at, actor, label))

    # -- teams, organizers, social workers ---------------------------------------------

    def build_teams(self) -> None:
        rng = self.rng
        for street in sorted(self.streets):
            members = sorted(self.streets[street], key=lambda r: (-(r.population or 0), r.code))
            homes = members[:1]
            if self.demo_community is not None and self.demo_community in members:
                homes = [self.demo_community]
            rest = [r for r in members if r not in homes]
            if rest and len(members) >= 4 and rng.random() < 0.6:
                homes.append(rng.choice(rest))
            for home in homes:
                team = Team(
                    name=f"{home.name}志愿服务队",
                    community=home,
                    created_at=self.now - dt.timedelta(days=rng.uniform(700, 1500)),
                )
                self.teams.append(team)
                self.team_of_community[home.code] = team
                self.teams_of_street[street].append(team)
        for organization in self.organizations:
            team = Team(
                name=f"{organization.name}志愿服务队",
                organization=organization,
                created_at=self.now - dt.timedelta(days=rng.uniform(500, 1200)),
            )
            self.teams.append(team)
            self.team_of_org[organization.pk] = team
        # Each team community's activities are published by a worker of that community.
        numbers = itertools.count(1)
        for code in sorted(self.team_of_community):
            if self.keeper is not None and code == getattr(self.demo_community, "code", None):
                self.organizer_of[code] = self.keeper
                continue
            joined = self.now - dt.timedelta(days=rng.uniform(800, 1600))
            user = self.new_user(
                f"cw_{next(numbers):03d}", rng.choice(SURNAMES), self._given(), joined
            )
            self.grant(user, Role.COMMUNITY_WORKER, joined, region=self.communities[code])
            self.organizer_of[code] = user

    def _given(self) -> str:
        rng = self.rng
        return rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")

    def _certificate(self, serial: int, year: int, level: str) -> str:
        return f"{year}{level}{DISTRICT[:6]}{serial:05d}"

    def build_social_workers(self) -> None:
        """The street social workers of the requests demo (and demo_social_worker), and a
        few employed by the social organizations, who publish those organizations'
        activities as their staff."""
        rng = self.rng
        centre = next((o for o in self.organizations if SOCIAL_WORK_CENTRE in o.name), None)
        serials = itertools.count(1)

        def qualification() -> tuple[str, str]:
            picked = rng.choices(QUALIFICATIONS, weights=[q[1] for q in QUALIFICATIONS])[0]
            return picked[0], picked[2]

        demo_worker = self.demo_users.get(demo_username(Role.SOCIAL_WORKER))
        for responder in self.responders:
            if responder.kind != ResponderKind.SOCIAL_WORKER or responder.user is None:
                continue
            user = responder.user
            level, digit = qualification()
            if user == demo_worker:
                level, digit = Qualification.SOCIAL_WORKER, "2"
            year = rng.randint(2012, 2024)
            self.workers.append(
                SocialWorker(
                    user=user,
                    name=responder.name,
                    organization=centre if (user == demo_worker or rng.random() < 0.6) else None,
                    community_id=responder.region_id,
                    qualification=level,
                    certificate_number=self._certificate(next(serials), year, digit),
                    certified_on=dt.date(year, 6, 20) + dt.timedelta(days=rng.randint(60, 150)),
                    status=VolunteerStatus.VERIFIED,
                    verified_at=responder.created_at,
                    registered_at=responder.created_at - dt.timedelta(days=rng.uniform(1, 10)),
                )
            )
        taken = [
            int(name[3:])
            for name in User.objects.filter(username__regex=r"^sw_[0-9]+$").values_list(
                "username", flat=True
            )
        ]
        numbers = itertools.count(max(taken, default=0) + 1)
        urban = [r for r in self.communities.values() if r.kind == RegionKind.URBAN]
        employed = [
            (o, n) for o in self.organizations for n in range(ORG_SOCIAL_WORKERS[self.scale])
        ]
        for index, (organization, _n) in enumerate(employed):
            joined = self.now - dt.timedelta(days=rng.uniform(500, 1100))
            last, first = rng.choice(SURNAMES), self._given()
            user = self.new_user(f"sw_{next(numbers):03d}", last, first, joined)
            self.grant(user, Role.PROVIDER_STAFF, joined, organization=organization)
            home = rng.choice(urban or list(self.communities.values()))
            pending = index == len(employed) - 1 and len(employed) > 1
            level, digit = qualification()
            year = rng.randint(2012, 2024)
            registered = joined + dt.timedelta(days=rng.uniform(5, 60))
            if pending:
                registered = self.now - dt.timedelta(days=rng.uniform(1, 10))
            worker = SocialWorker(
                user=user,
                name=f"{last}{first}",
                organization=organization,
                community=home,
                qualification=level,
                certificate_number=self._certificate(next(serials), year, digit),
                certified_on=dt.date(year, 6, 20) + dt.timedelta(days=rng.randint(60, 150)),
                status=VolunteerStatus.PENDING if pending else VolunteerStatus.VERIFIED,
                registered_at=registered,
            )
            self.workers.append(worker)
            if pending:
                continue
            verified = registered + dt.timedelta(days=rng.uniform(1, 7))
            worker.verified_at = verified
            self.grant(user, Role.SOCIAL_WORKER, verified, region=home)
            self.staff_of[organization.pk].append(user)
            lat, lon = _jitter(rng, home)
            responder = Responder(
                kind=ResponderKind.SOCIAL_WORKER,
                name=worker.name,
                user=user,
                region=home,
                latitude=lat,
                longitude=lon,
                radius_km=Decimal("3.0"),
                max_open_tasks=rng.randint(6, 12),
                availability=[{"day": day, "start": "08:30", "end": "17:30"} for day in range(5)],
                created_at=verified,
            )
            skills = sorted(rng.sample(requests_demo.SOCIAL_WORK_SKILLS, rng.randint(5, 8)))
            self.new_responders.append((responder, [s for s in skills if s in self.terms]))
        for worker in self.workers:
            if worker.organization_id is not None and worker.status == VolunteerStatus.VERIFIED:
                staff = [
                    user
                    for user in self.staff_of.get(worker.organization_id, [])
                    if worker.verified_at and user.date_joined < worker.verified_at
                ]
                if staff and worker.user not in staff:
                    worker.verified_by = staff[0]

    # -- volunteers --------------------------------------------------------------------

    def eligible(self, person: Resident) -> bool:
        return (
            person.user_id is None
            and person.pk not in self.kept_apart
            and MIN_AGE <= self.age(person) <= MAX_AGE
        )

    @staticmethod
    def age_weight(age: int) -> float:
        """Students and the newly retired volunteer most."""
        if age < 25:
            return 1.4
        if age < 45:
            return 0.9
        if age < 60:
            return 1.0
        return 1.3

    def pick_demo_family(self, taken: set[int]) -> tuple[Resident | None, Resident | None]:
        """A resident record for demo_volunteer (a man of working age in their community,
        when there is one) and his mother aged 60 or more, nearby."""
        user = self.demo_users.get(demo_username(Role.VOLUNTEER))
        if user is None or self.demo_community is None:
            return None, None
        own = next((p for p in self.people.values() if p.user_id == user.pk), None)
        community = self.demo_community.code
        street = self.street_of(community)
        here = [p for p in self.people.values() if p.community_id == community]
        if own is None:
            for low, high, sex in ((32, 52, "male"), (25, 59, "male"), (25, 59, "")):
                found = [
                    p
                    for p in here
                    if self.eligible(p)
                    and low <= self.age(p) <= high
                    and (not sex or p.sex == sex)
                    and p.pk not in taken
                ]
                if found:
                    own = found[0]
                    break
        if own is None:
            return None, None
        taken.add(own.pk)
        born = self.age(own)
        served = self.served_and_confirmed()

        def mothers(people: Iterable[Resident], gap: bool) -> list[Resident]:
            return [
                p
                for p in people
                if p.sex == "female"
                and p.user_id is None
                and p.pk not in self.kept_apart
                and p.pk not in taken
                and self.age(p) >= PARENT_AGE + 2
                and (not gap or 20 <= self.age(p) - born <= 40)
            ]

        in_street = [p for p in self.people.values() if self.street_of(p.community_id) == street]
        for pool, gap in ((here, True), (in_street, True), (self.people.values(), True)):
            found = mothers(pool, gap)
            if found:
                # One the time bank has already paid for, if the family ever asked.
                found.sort(key=lambda p: (p.pk not in served, not p.living_alone, p.pk))
                taken.add(found[0].pk)
                return own, found[0]
        found = mothers(self.people.values(), False)
        if found:
            taken.add(found[0].pk)
            return own, found[0]
        return own, None

    def served_and_confirmed(self) -> set[int]:
        return {
            r.person
            for r in self.requests.values()
            if r.last(Action.CONFIRM) is not None and r.requested_by is None
        }

    def build_volunteers(self) -> None:
        rng = self.rng
        taken: set[int] = set()
        own, self.mother = self.pick_demo_family(taken)
        pools: dict[str, list[Resident]] = defaultdict(list)
        for person in self.people.values():
            if self.eligible(person) and person.pk not in taken:
                pools[person.community_id].append(person)
        demo_user = self.demo_users.get(demo_username(Role.VOLUNTEER))

        def take(community: str) -> Resident | None:
            pool = pools.get(community) or []
            if not pool:
                return None
            found = _sample(rng, pool, [self.age_weight(self.age(p)) for p in pool], 1)[0]
            pool.remove(found)
            return found

        # The volunteers the requests demo dispatches: same accounts, same responders.
        for responder in self.responders:
            if responder.kind != ResponderKind.VOLUNTEER or responder.user is None:
                continue
            user = responder.user
            record = own if user == demo_user else take(responder.region_id)
            if record is not None:
                if record.name != user.display_name:
                    self.renamed.append((record.pk, user.display_name))
                    record.name = user.display_name
                record.user_id = user.pk
            verified = responder.created_at
            vol = self.volunteer(
                user=user,
                person=record,
                community=self.communities[responder.region_id],
                skills=self.responder_skills.get(responder.pk, []),
                availability=responder.availability,
                point=(responder.latitude, responder.longitude),
                radius=responder.radius_km,
                status=VolunteerStatus.VERIFIED,
                registered=verified - dt.timedelta(days=rng.uniform(1, 10)),
                verified=verified,
            )
            vol.responder = responder
            vol.model.responder = responder
            if user == demo_user:
                self.demo_vol = vol
        # And more, drawn from the register, to about one resident in seven.
        target = round(VOLUNTEER_SHARE * len(self.people))
        wanted = max(target - len(self.vols), 0)
        remaining = [p for code in sorted(pools) for p in pools[code]]
        drawn = _sample(rng, remaining, [self.age_weight(self.age(p)) for p in remaining], wanted)
        drawn.sort(key=lambda p: p.pk)
        taken_names = [
            int(name[4:])
            for name in User.objects.filter(username__regex=r"^vol_[0-9]+$").values_list(
                "username", flat=True
            )
        ]
        numbers = itertools.count(max(taken_names, default=0) + 1)
        skills = dict(requests_demo.VOLUNTEER_SKILLS)
        for person in drawn:
            community = self.communities[person.community_id]
            draw = rng.random()
            if draw < PENDING_SHARE:
                status = VolunteerStatus.PENDING
                registered = self.now - dt.timedelta(days=rng.uniform(1, 30))
            elif draw < PENDING_SHARE + REJECTED_SHARE:
                status = VolunteerStatus.REJECTED
                registered = self.now - dt.timedelta(days=rng.uniform(30, 300))
            else:
                status = VolunteerStatus.VERIFIED
                back = rng.uniform(366, 1100) if rng.random() < 0.7 else rng.uniform(20, 365)
                registered = self.now - dt.timedelta(days=back)
            weights_here = dict(skills)
            if community.kind == RegionKind.RURAL:
                weights_here["welfare_left_behind_care"] *= 3
            codes = list(weights_here)
            chosen = sorted(
                set(
                    rng.choices(
                        codes, weights=[weights_here[c] for c in codes], k=rng.randint(1, 3)
                    )
                )
            )
            user = self.new_user(
                f"vol_{next(numbers):04d}", person.name[:1], person.name[1:], registered
            )
            verified_at = (
                registered + dt.timedelta(days=rng.uniform(0.5, 10))
                if status == VolunteerStatus.VERIFIED
                else None
            )
            vol = self.volunteer(
                user=user,
                person=person,
                community=community,
                skills=[c for c in chosen if c in self.terms],
                availability=_availability(rng),
                point=_jitter(rng, community),
                radius=Decimal(rng.randint(10, 50)) / 10,
                status=status,
                registered=registered,
                verified=verified_at,
            )
            if status == VolunteerStatus.REJECTED:
                vol.model.status_reason = rng.choice(REJECT_REASONS)
        self.join_and_verify()

    def volunteer(
        self,
        *,
        user: User,
        person: Resident | None,
        community: Region,
        skills: list[str],
        availability: list[Any],
        point: tuple[float | None, float | None],
        radius: Decimal,
        status: str,
        registered: dt.datetime,
        verified: dt.datetime | None,
    ) -> _Vol:
        model = Volunteer(
            user=user,
            resident=person,
            name=user.display_name,
            community=community,
            availability=availability,
            latitude=point[0],
            longitude=point[1],
            radius_km=radius,
            status=status,
            verified_at=verified,
            registered_at=registered,
        )
        vol = _Vol(
            model=model,
            user=user,
            resident=person,
            community=community,
            street=community.parent_id or "",
            skills=skills,
            verified_at=verified,
            age=self.age(person) if person is not None else None,
        )
        self.vols.append(vol)
        return vol

    def join_and_verify(self) -> None:
        """Teams, the organizations some registered through, who verified them, how often
        they come; and a responder for each verified volunteer who had none, as the
        verification makes one."""
        rng = self.rng
        staffed = [o for o in self.organizations if self.staff_of.get(o.pk)]
        for vol in self.vols:
            model = vol.model
            home_team = self.team_of_community.get(vol.community.code)
            street_teams = self.teams_of_street.get(vol.street, [])
            if home_team is not None and rng.random() < 0.9:
                vol.teams.append(home_team)
            elif street_teams and rng.random() < 0.75:
                vol.teams.append(rng.choice(street_teams))
            if vol.responder is None and staffed and rng.random() < THROUGH_ORGANIZATION:
                organization = rng.choice(staffed)
                model.organization = organization
                vol.teams.append(self.team_of_org[organization.pk])
            if model.status != VolunteerStatus.VERIFIED:
                continue
            if model.organization is not None:
                model.verified_by = self.staff_of[model.organization.pk][0]
            else:
                model.verified_by = self.organizer_of.get(vol.community.code)
            vol.weight = rng.choices([t[1] for t in TIERS], weights=[t[0] for t in TIERS])[0]
            if vol.responder is None:
                lat, lon = model.latitude, model.longitude
                responder = Responder(
                    kind=ResponderKind.VOLUNTEER,
                    name=model.name,
                    user=vol.user,
                    region=vol.community,
                    latitude=lat,
                    longitude=lon,
                    radius_km=model.radius_km,
                    max_open_tasks=rng.randint(2, 4),
                    availability=model.availability,
                    status=ResponderStatus.ACTIVE,
                    created_at=vol.verified_at or self.now,
                )
                vol.responder = responder
                model.responder = responder
                self.new_responders.append((responder, vol.skills))
                self.grant(
                    vol.user,
                    Role.VOLUNTEER,
                    vol.verified_at or self.now,
                    region=vol.community,
                    by=model.verified_by,
                )
        demo = self.demo_vol
        if demo is None:
            return
        # The demo volunteer's year is written below, and so is a neighbour's: one of the
        # street's volunteers who deliver requests, in the demo community if possible.
        demo.weight, demo.scripted = 0.0, True
        credits = self.request_credits()
        neighbours = sorted(
            (
                v
                for v in self.vols
                if v is not demo
                and v.street == demo.street
                and v.weight > 0
                and v.resident is not None
                and v.model.organization is None
            ),
            key=lambda v: (
                -min(sum((a for _t, a in credits.get(v.user.pk, [])), Decimal(0)), Decimal(30)),
                v.community != demo.community,
                -sum((a for _t, a in credits.get(v.user.pk, [])), Decimal(0)),
                v.user.username,
            ),
        )
        if neighbours:
            self.star_crosser = neighbours[0]
            self.star_crosser.weight, self.star_crosser.scripted = 0.0, True

    # -- activities --------------------------------------------------------------------

    def theme_for(self, day: dt.date, kind: str) -> _Theme:
        rng = self.rng
        if day.month == 3 and day.day <= 10:
            return LEI_FENG
        if day.month == 12 and day.day <= 7:
            return VOLUNTEER_DAY
        if any(0 <= (festival - day).days <= 14 for festival in requests_demo.SPRING_FESTIVALS):
            return SPRING_FESTIVAL
        if day.month in (7, 8) and rng.random() < 0.35:
            return SUMMER
        if day.month == 10 and rng.random() < 0.4:
            return RESPECT_MONTH
        weights = [t.rural if kind == RegionKind.RURAL else t.urban for t in TEAM_THEMES]
        return rng.choices(TEAM_THEMES, weights=weights)[0]

    def activity(
        self,
        *,
        theme: _Theme,
        community: Region,
        starts: dt.datetime,
        ends: dt.datetime,
        organizer: User,
        capacity: int,
        team: Team | None,
        organization: Organization | None = None,
        scripted: bool = False,
    ) -> _Act:
        rng = self.rng
        lat, lon = _jitter(rng, community, 0.002)
        published = starts - dt.timedelta(days=rng.uniform(5, 14))
        if published > self.now:
            published = self.now - _minutes(60, 24 * 60, rng)
        model = Activity(
            title=theme.title,
            description=theme.description,
            organization=organization,
            community=community,
            team=team,
            created_by=organizer,
            address=f"{community.name}{rng.choice(PLACES[RegionKind(community.kind)])}",
            latitude=lat,
            longitude=lon,
            starts_at=starts,
            ends_at=ends,
            capacity=capacity,
            status=ActivityStatus.PUBLISHED,
            # A real secret: a code shown on the demo site cannot be forged from the seed.
            qr_secret=secrets.token_urlsafe(32),
            created_at=published,
        )
        act = _Act(
            model=model,
            street=community.parent_id or "",
            skills=tuple(code for code in theme.skills if code in self.terms),
            scripted=scripted,
        )
        self.activities.append(act)
        return act

    def when(self, theme: _Theme, monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
        rng = self.rng
        days, start, end = rng.choice(theme.slots)
        day = monday + dt.timedelta(days=rng.choice(days))
        return self.local_at(day, start), self.local_at(day, end)

    def build_activities(self) -> None:
        rng = self.rng
        every = TEAM_EVERY_WEEKS[self.scale]
        low, high = TEAM_CAPACITY[self.scale]
        monday = self.today - dt.timedelta(days=self.today.weekday())
        first = self.now - dt.timedelta(days=365)
        last = self.now + dt.timedelta(days=14)
        for street in sorted(self.teams_of_street):
            teams = self.teams_of_street[street]
            for number, week in enumerate(range(-52, 3)):
                if number % every:
                    continue
                team = teams[(number // every) % len(teams)]
                home = self.communities[str(team.community_id)]
                theme = self.theme_for(monday + dt.timedelta(days=7 * week), home.kind)
                starts, ends = self.when(theme, monday + dt.timedelta(days=7 * week))
                if not first <= starts <= last:
                    continue
                self.activity(
                    theme=theme,
                    community=home,
                    starts=starts,
                    ends=ends,
                    organizer=self.organizer_of[home.code],
                    capacity=rng.randint(low, high),
                    team=team,
                )
        places = list(self.communities.values())
        weights = [p.population or 1 for p in places]
        low, high = ORG_CAPACITY[self.scale]
        count = ORG_ACTIVITIES_A_YEAR[self.scale]
        for organization in self.organizations:
            staff = self.staff_of.get(organization.pk)
            if not staff:
                continue
            themes = next(
                (themes for key, themes in ORG_THEMES.items() if key in organization.name),
                TEAM_THEMES[:1],
            )
            for index in range(count):
                share = (index + rng.random()) / count
                day = self.today - dt.timedelta(days=360) + dt.timedelta(days=int(share * 372))
                theme = rng.choice(themes)
                starts, ends = self.when(theme, day - dt.timedelta(days=day.weekday()))
                if not first <= starts <= last:
                    continue
                self.activity(
                    theme=theme,
                    community=rng.choices(places, weights=weights)[0],
                    starts=starts,
                    ends=ends,
                    organizer=rng.choice(staff),
                    capacity=rng.randint(low, high),
                    team=self.team_of_org[organization.pk],
                    organization=organization,
                )
        self.build_demo_activities()
        self.activities.sort(key=lambda a: (a.model.starts_at, a.model.title))

    def build_demo_activities(self) -> None:
        """demo_community_worker's own: one three days ago whose hours crossed a star,
        one yesterday waiting for certification, one today (a QR check-in can be shown),
        and three to come."""
        community = self.demo_community
        if community is None or self.keeper is None:
            return
        team = self.team_of_community.get(community.code)
        low, high = TEAM_CAPACITY[self.scale]
        now_local = self.now.astimezone(self.local)
        for days, start, end, theme in DEMO_ACTIVITIES:
            day = self.today + dt.timedelta(days=days)
            starts, ends = self.local_at(day, start), self.local_at(day, end)
            if days == 0:
                # Open all day, whenever the demo is built: check-in works until evening.
                starts = min(starts, (now_local - dt.timedelta(hours=1)).astimezone(dt.UTC))
                ends = max(ends, (now_local + dt.timedelta(hours=3)).astimezone(dt.UTC))
            act = self.activity(
                theme=theme,
                community=community,
                starts=starts,
                ends=ends,
                organizer=self.keeper,
                capacity=self.rng.randint(low, high) + 2,
                team=team,
                scripted=True,
            )
            if days == DEMO_STAR_DAY:
                self.star_activity = act

    # -- sign-ups and attendance -------------------------------------------------------

    def candidates(self, act: _Act) -> tuple[list[_Vol], list[float]]:
        model = act.model
        pool: list[_Vol] = list(self.by_street.get(act.street, []))
        if model.organization_id is not None:
            members = self.by_organization.get(model.organization_id, [])
            pool += [v for v in members if v.street != act.street]
        found, weights = [], []
        for vol in pool:
            if vol.weight <= 0 or vol.verified_at is None or vol.verified_at >= model.created_at:
                continue
            weight = vol.weight
            if model.team is not None and model.team in vol.teams:
                weight *= 3 if model.organization_id is None else 4
            if vol.community.code == model.community_id:
                weight *= 1.5
            found.append(vol)
            weights.append(weight)
        return found, weights

    def attend(self, act: _Act, sign: _Sign, *, full: bool = False) -> None:
        """Check-in and check-out by the site's QR code, or the organizer's record after."""
        rng, model = self.rng, act.model
        starts, ends = model.starts_at, model.ends_at
        if full:
            method, time_in, time_out = AttendanceMethod.QR, starts - _minutes(5, 15, rng), ends
        elif rng.random() < QR_SHARE:
            method = AttendanceMethod.QR
            time_in = starts + dt.timedelta(minutes=max(-25, min(25, rng.gauss(-8, 8))))
            time_out = ends + _minutes(-20, 35, rng)
        else:
            method, time_in, time_out = AttendanceMethod.ORGANIZER, starts, ends
            if rng.random() < 0.1:
                time_out = ends - dt.timedelta(minutes=rng.choice((30, 60)))
        time_out = max(time_out, time_in + dt.timedelta(minutes=30))
        sign.attendance = Attendance(
            signup=sign.model,
            method=method,
            checked_in_at=time_in,
            checked_out_at=time_out,
            hours=attended_hours(activity=model, checked_in_at=time_in, checked_out_at=time_out),
            recorded_by=act.organizer,
        )

    def sign_up(
        self,
        act: _Act,
        vol: _Vol,
        applied: dt.datetime,
        status: str,
        decided: dt.datetime | None = None,
    ) -> _Sign:
        model = act.model
        if status == SignupStatus.APPLIED:
            decided = None
        else:
            decided = decided or applied + _minutes(30, 36 * 60, self.rng)
            decided = max(min(decided, model.starts_at, self.now), applied)
        sign = _Sign(
            model=Signup(
                activity=model,
                volunteer=vol.model,
                status=status,
                applied_at=applied,
                decided_by=act.organizer if decided else None,
                decided_at=decided,
            ),
            vol=vol,
        )
        act.signups.append(sign)
        return sign

    def build_signups(self) -> None:
        rng = self.rng
        self.by_street: dict[str, list[_Vol]] = defaultdict(list)
        self.by_organization: dict[Any, list[_Vol]] = defaultdict(list)
        for vol in self.vols:
            if vol.model.status == VolunteerStatus.VERIFIED:
                self.by_street[vol.street].append(vol)
                if vol.model.organization_id is not None:
                    self.by_organization[vol.model.organization_id].append(vol)
        cancellable = [a for a in self.activities if not a.scripted and a.model.ends_at < self.now]
        for act in rng.sample(cancellable, round(CANCELLED_SHARE * len(cancellable))):
            act.model.status = ActivityStatus.CANCELLED
        for act in self.activities:
            model = act.model
            pool, weights = self.candidates(act)
            future = model.starts_at > self.now
            share = rng.uniform(0.3, 0.9) if future else rng.uniform(0.8, 1.2)
            wanted = min(len(pool), max(1, round(model.capacity * share)))
            chosen = _sample(rng, pool, weights, wanted)
            span = (min(model.starts_at, self.now) - model.created_at).total_seconds()
            applied = sorted(
                model.created_at + dt.timedelta(seconds=span * rng.uniform(0.02, 0.9))
                for _ in chosen
            )
            confirmed = 0
            for vol, at in zip(chosen, applied, strict=True):
                decided = at + _minutes(30, 36 * 60, rng)
                if future and decided > self.now:
                    status = SignupStatus.APPLIED
                elif rng.random() < 0.04:
                    status = SignupStatus.WITHDRAWN
                elif confirmed < model.capacity:
                    status = SignupStatus.CONFIRMED
                    confirmed += 1
                else:
                    status = SignupStatus.DECLINED
                self.sign_up(act, vol, at, status, decided)
            self.record(act)

    def record(self, act: _Act) -> None:
        """Attendance for an activity that took place, and its certification."""
        rng, model = self.rng, act.model
        if model.status == ActivityStatus.CANCELLED or model.starts_at > self.now:
            return
        over = model.ends_at <= self.now
        for sign in act.signups:
            if sign.model.status != SignupStatus.CONFIRMED or sign.attendance is not None:
                continue
            if sign.vol.scripted or rng.random() < NO_SHOW:
                continue
            if over:
                self.attend(act, sign)
                continue
            # Under way: those who have arrived have checked in.
            time_in = model.starts_at + dt.timedelta(minutes=rng.uniform(-25, 120))
            if time_in <= self.now - dt.timedelta(minutes=5):
                sign.attendance = Attendance(
                    signup=sign.model,
                    method=AttendanceMethod.QR,
                    checked_in_at=time_in,
                    recorded_by=act.organizer,
                )
        if over and act.certified_at is None and not act.scripted:
            certified = model.ends_at + _minutes(120, 72 * 60, rng)
            if certified <= self.now:
                act.certified_at = certified

    # -- the demo volunteer and the star in notice -------------------------------------

    def request_credits(self) -> dict[int, list[tuple[dt.datetime, Decimal]]]:
        """Hours each volunteer's user is credited for the requests they delivered."""
        found: dict[int, list[tuple[dt.datetime, Decimal]]] = defaultdict(list)
        for request in self.requests.values():
            confirm = request.last(Action.CONFIRM)
            if confirm is None or request.responder is None:
                continue
            kind, user_id, _org, _region = self.responder_kinds[request.responder]
            amount = request.delivered()
            if kind == ResponderKind.VOLUNTEER and user_id is not None and amount is not None:
                found[user_id].append((confirm[2], amount))
        return found

    def earned_before(self, vol: _Vol, moment: dt.datetime) -> Decimal:
        total = sum(
            (amount for at, amount in self.credits.get(vol.user.pk, []) if at < moment),
            Decimal(0),
        )
        for act in self.attended.get(id(vol), []):
            if act.certified_at is not None and act.certified_at < moment:
                sign = next(s for s in act.signups if s.vol is vol)
                total += (sign.attendance.hours if sign.attendance else None) or Decimal(0)
        return total

    def script_demo(self) -> None:
        """demo_volunteer's year: the activities of their street, just enough of them for
        the certified hours of the activity three days ago to cross the first star; the
        same for a neighbour, whose star someone has challenged; yesterday's attendance
        waiting for certification, today's and the coming ones confirmed."""
        self.credits = self.request_credits()
        self.attended: dict[int, list[_Act]] = defaultdict(list)
        for act in self.activities:
            for sign in act.signups:
                if sign.attendance is not None:
                    self.attended[id(sign.vol)].append(act)
        star = self.star_activity
        demo = self.demo_vol
        if star is None or demo is None or self.keeper is None:
            return
        rng = self.rng
        day = star.model.starts_at.astimezone(self.local).date() + dt.timedelta(days=1)
        star.certified_at = self.local_at(day, "10:00") + _minutes(0, 30, rng)
        threshold = star_thresholds()[0] if star_thresholds() else Decimal(100)
        span = _span(star.model)
        self.cross(demo, star, threshold, span)
        if self.star_crosser is not None and not self.cross(
            self.star_crosser, star, threshold, span
        ):
            self.star_crosser = None
        for act in self.activities:
            if not act.scripted or act is star:
                continue
            if act.model.ends_at <= self.now:
                status = SignupStatus.CONFIRMED
            elif act.model.starts_at - self.now > dt.timedelta(days=10):
                status = SignupStatus.APPLIED
            else:
                status = SignupStatus.CONFIRMED
            applied = min(act.model.created_at + _minutes(60, 48 * 60, rng), self.now)
            sign = self.sign_up(act, demo, applied, status)
            if act.model.ends_at <= self.now:
                self.attend(act, sign, full=True)
        self.fit_capacity()

    def cross(self, vol: _Vol, star: _Act, threshold: Decimal, span: Decimal) -> bool:
        """Sign `vol` up for enough past activities of their street that the hours certified
        for `star` take them over `threshold`; False (and nothing changed) if that cannot
        be done."""
        rng = self.rng
        moment = star.certified_at
        if moment is None:
            return False
        total = self.earned_before(vol, moment)
        if total >= threshold:
            return False
        planned: list[tuple[_Act, _Sign]] = []
        mine = {id(a) for a in self.attended.get(id(vol), [])}
        # Their own street's activities first, then (few) further afield.
        for act in sorted(self.activities, key=lambda a: a.street != vol.street):
            model = act.model
            if (
                act.scripted
                or act.certified_at is None
                or act.certified_at >= moment
                or model.status == ActivityStatus.CANCELLED
                or id(act) in mine
                or any(s.vol is vol for s in act.signups)
                or vol.verified_at is None
                or vol.verified_at >= model.created_at
                or rng.random() < 0.1
            ):
                continue
            if total + span >= threshold:
                break
            applied = model.created_at + (model.starts_at - model.created_at) * rng.uniform(
                0.1, 0.8
            )
            sign = _Sign(
                model=Signup(
                    activity=model,
                    volunteer=vol.model,
                    status=SignupStatus.CONFIRMED,
                    applied_at=applied,
                    decided_by=act.organizer,
                    decided_at=min(applied + _minutes(30, 24 * 60, rng), model.starts_at),
                ),
                vol=vol,
            )
            self.attend(act, sign)
            amount = (sign.attendance.hours if sign.attendance else None) or Decimal(0)
            if total + amount >= threshold - Decimal("0.25"):
                continue
            planned.append((act, sign))
            total += amount
        if not threshold - span <= total < threshold:
            return False
        for act, sign in planned:
            act.signups.append(sign)
            self.attended[id(vol)].append(act)
        # A place they already had at `star` is replaced by the full attendance below.
        star.signups = [s for s in star.signups if s.vol is not vol]
        self.attended[id(vol)] = [a for a in self.attended[id(vol)] if a is not star]
        applied = star.model.created_at + _minutes(60, 48 * 60, rng)
        sign = self.sign_up(star, vol, min(applied, star.model.starts_at), SignupStatus.CONFIRMED)
        self.attend(star, sign, full=True)
        self.attended[id(vol)].append(star)
        vol.scripted = True
        return True

    def fit_capacity(self) -> None:
        for act in self.activities:
            confirmed = sum(1 for s in act.signups if s.model.status == SignupStatus.CONFIRMED)
            act.model.capacity = max(act.model.capacity, confirmed, 1)
            signups_over = act.model.ends_at <= self.now and act.model.status != (
                ActivityStatus.CANCELLED
            )
            attendances = [s.attendance for s in act.signups if s.attendance is not None]
            if signups_over and act.certified_at is not None and attendances:
                act.model.status = ActivityStatus.CLOSED

    # -- the time bank -----------------------------------------------------------------

    def ledger(self) -> None:
        """Every booking of the year, in the order the services would have made them."""
        self.books = _Books(hours(settings.LINLI_TIMEBANK_CAP_HOURS))
        self.group_places: dict[Any, set[str]] = defaultdict(set)
        self.donated = 0
        vol_of_user = {v.user.pk: v for v in self.vols}
        events: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        order = itertools.count()

        def at(moment: dt.datetime, action: Callable[[], None]) -> None:
            events.append((moment, next(order), action))

        with translation.override(settings.LANGUAGE_CODE):
            memo_of = {
                id(act): _("Activity: %(title)s") % {"title": act.model.title}
                for act in self.activities
            }
            dispute_memo = _("Hours corrected after a dispute: %(answer)s") % {
                "answer": UPHELD_ANSWER
            }
            names = {code: term.display_name for code, term in self.terms.items()}

        # Certified attendance.
        self.disputes: list[tuple[HoursDispute, _Sign, _Act]] = []
        certified: list[tuple[_Act, _Sign, Attendance, Decimal, dt.datetime]] = []
        for act in self.activities:
            if act.certified_at is None:
                continue
            for number, sign in enumerate(act.signups):
                attendance = sign.attendance
                amount = attendance.hours if attendance is not None else None
                if attendance is None or amount is None:
                    continue
                moment = act.certified_at + dt.timedelta(seconds=number)
                attendance.certified_by = act.organizer
                attendance.certified_at = moment
                certified.append((act, sign, attendance, amount, moment))
        # Disputes first: a disputed check-out may have been recorded early.
        self.plan_disputes(certified, at, dispute_memo, memo_of)
        for act, sign, attendance, _amount, moment in certified:
            amount = attendance.hours or Decimal(0)
            at(moment, partial(self.certify, act, sign, attendance, amount, moment, memo_of))

        # Requests: hours to whoever delivered, when confirmed; redemptions for parents.
        self.redemptions: list[Redemption] = []
        self.paid_by: dict[int, tuple[Redemption, _Vol]] = {}
        self.parent_of: dict[int, _Vol] = {}
        candidates = self.redemption_candidates()
        for request in sorted(self.requests.values(), key=lambda r: r.pk):
            if request.pk in candidates:
                at(request.created, partial(self.hold, request, candidates[request.pk], names))
            confirm = request.last(Action.CONFIRM)
            if confirm is not None:
                at(confirm[2], partial(self.confirmed, request, confirm, names, vol_of_user))
            else:
                ending = next(
                    (
                        e
                        for e in reversed(request.events)
                        if e[1] in (Action.CANCEL, Action.REJECT, Action.CLOSE)
                    ),
                    None,
                )
                if ending is not None:
                    at(ending[2], partial(self.ended, request, ending))

        # Donations: a few volunteers to their community's pool, organizations' group hours.
        self.plan_donations(at)
        events.sort(key=lambda e: (e[0], e[1]))
        for _moment, _n, action in events:
            action()

    def certify(
        self,
        act: _Act,
        sign: _Sign,
        attendance: Attendance,
        amount: Decimal,
        moment: dt.datetime,
        memo_of: dict[int, str],
    ) -> None:
        """`attendance_certify`: the hours are credited (above the cap, to the pool)."""
        sign.transfer = self.books.credit(
            key=(AccountKind.PERSON, sign.vol.user.pk),
            amount=amount,
            pool=sign.vol.community.code,
            kind=TransferKind.ACTIVITY_HOURS,
            at=moment,
            actor=act.organizer.pk,
            memo=memo_of[id(act)],
            activity=act.model,
            earned_by=sign.vol.user.pk,
        )
        attendance.transfer = sign.transfer

    def plan_disputes(
        self,
        certified: list[tuple[_Act, _Sign, Attendance, Decimal, dt.datetime]],
        at: Callable[[dt.datetime, Callable[[], None]], None],
        memo: str,
        memo_of: dict[int, str],
    ) -> None:
        """A few volunteers say they stayed longer than recorded: some wait for an answer,
        some were upheld (the credit reversed, the claimed hours credited), some not."""
        rng = self.rng
        eligible = [
            row
            for row in certified
            if not row[1].vol.scripted
            and row[2].checked_out_at is not None
            and self.now - row[4] >= dt.timedelta(days=1)
        ]
        rng.shuffle(eligible)
        # Waiting ones about recent hours (a dispute is raised within days of them), the
        # answered ones about older hours; those who left early first.
        eligible.sort(key=lambda row: row[3] > _span(row[0].model) - Decimal("0.25"))
        recent = [row for row in eligible if self.now - row[4] <= dt.timedelta(days=28)]
        older = [row for row in eligible if self.now - row[4] > dt.timedelta(days=12)]
        wanted = DISPUTES[self.scale]
        chosen: list[tuple[str, tuple[_Act, _Sign, Attendance, Decimal, dt.datetime]]] = []
        used: set[int] = set()
        for status, rows in (
            (DisputeStatus.OPEN, recent),
            (DisputeStatus.UPHELD, older),
            (DisputeStatus.REJECTED, older),
        ):
            for row in rows:
                if sum(1 for s, _r in chosen if s == status) >= wanted[status]:
                    break
                if id(row[1].vol) not in used:
                    used.add(id(row[1].vol))
                    chosen.append((status, row))
        for fate, (act, sign, attendance, amount, certified_at) in chosen:
            since = self.now - certified_at
            span = _span(act.model)
            reason = rng.choice(DISPUTE_REASONS[:2])
            if amount > span - Decimal("0.25") and attendance.checked_out_at is not None:
                # The scan at the end did not go through: the organizer recorded a check-out
                # when the volunteer was last seen.
                attendance.checked_out_at = act.model.ends_at - _minutes(40, 70, rng)
                attendance.hours = attended_hours(
                    activity=act.model,
                    checked_in_at=attendance.checked_in_at,
                    checked_out_at=attendance.checked_out_at,
                )
                amount = attendance.hours or amount
                reason = DISPUTE_REASONS[2]
            raised = certified_at + min(
                _minutes(2 * 60, 5 * 24 * 60, rng), (since - dt.timedelta(hours=1))
            )
            dispute = HoursDispute(
                attendance=attendance,
                raised_by=sign.vol.user,
                claimed_hours=min(amount + Decimal("0.5"), span),
                reason=reason,
                status=fate,
                raised_at=raised,
            )
            self.disputes.append((dispute, sign, act))
            if fate == DisputeStatus.OPEN:
                continue
            answered = min(raised + _minutes(12 * 60, 4 * 24 * 60, rng), self.now)
            dispute.answered_by = act.organizer
            dispute.answered_at = answered
            dispute.answer = REJECTED_ANSWER

            if fate == DisputeStatus.UPHELD:
                at(answered, partial(self.uphold, dispute, act, sign, attendance, memo, memo_of))

    def uphold(
        self,
        dispute: HoursDispute,
        act: _Act,
        sign: _Sign,
        attendance: Attendance,
        memo: str,
        memo_of: dict[int, str],
    ) -> None:
        """`dispute_answer` upheld: the old credit reversed, the claimed hours credited;
        answered as rejected if the hours were spent meanwhile and cannot be taken back."""
        books, answered = self.books, dispute.answered_at or self.now
        if sign.transfer is None or not books.reversible(sign.transfer):
            dispute.status = DisputeStatus.REJECTED
            return
        dispute.answer = UPHELD_ANSWER
        books.reverse(sign.transfer, at=answered, actor=act.organizer.pk, memo=memo)
        sign.transfer = books.credit(
            key=(AccountKind.PERSON, sign.vol.user.pk),
            amount=dispute.claimed_hours,
            pool=sign.vol.community.code,
            kind=TransferKind.ACTIVITY_HOURS,
            at=answered + dt.timedelta(seconds=1),
            actor=act.organizer.pk,
            memo=memo_of[id(act)],
            activity=act.model,
            earned_by=sign.vol.user.pk,
        )
        attendance.transfer = sign.transfer
        attendance.hours = dispute.claimed_hours
        attendance.certified_by = act.organizer
        attendance.certified_at = answered

    def redemption_candidates(self) -> dict[int, str]:
        """Requests for people aged 60 or more that a child of theirs among the volunteers
        may have paid for in hours: {request: what became of the redemption}."""
        rng = self.rng
        scripted_users = {v.user.pk for v in self.vols if v.scripted}
        mother = self.mother.pk if self.mother else None
        pools: dict[str, list[_Request]] = defaultdict(list)
        mothers: list[_Request] = []
        for request in self.requests.values():
            person = self.people.get(request.person)
            if (
                person is None
                or request.requested_by is not None
                or person.user_id is not None
                or person.pk in self.kept_apart
                or request.category not in REDEEMABLE_CATEGORIES
                or age_on(person.birth_date, request.created.astimezone(self.local).date()) is None
                or self.age(person, request.created.astimezone(self.local).date()) < PARENT_AGE
            ):
                continue
            if request.responder is not None:
                _kind, user_id, _org, _region = self.responder_kinds[request.responder]
                if user_id in scripted_users:
                    continue
            if request.last(Action.CONFIRM) is not None:
                fate = RedemptionStatus.SETTLED
            elif request.state in (State.CANCELLED, State.REJECTED, State.CLOSED):
                fate = RedemptionStatus.RELEASED
            else:
                fate = RedemptionStatus.HELD
            if person.pk == mother:
                if fate == RedemptionStatus.SETTLED:
                    mothers.append(request)
                continue
            pools[fate].append(request)
        chosen: dict[int, str] = {}
        for fate, wanted in REDEMPTIONS[self.scale].items():
            pool = sorted(pools[fate], key=lambda r: r.pk)
            for request in rng.sample(pool, min(len(pool), 4 * wanted)):
                chosen[request.pk] = fate
        self.wanted: dict[str, int] = {str(k): v for k, v in REDEMPTIONS[self.scale].items()}
        # The demo volunteer paid for the last of his mother's services he could afford.
        demo = self.demo_vol
        if demo is not None and mothers:
            for request in sorted(mothers, key=lambda r: r.created, reverse=True):
                cost = self.redemption_hours(request)
                if self.earned_before(demo, request.created) >= cost:
                    chosen[request.pk] = "mother"
                    self.mother_request = request
                    break
        return chosen

    def redemption_hours(self, request: _Request) -> Decimal:
        low, high = hours(settings.LINLI_REQUEST_HOURS_MIN), hours(settings.LINLI_REQUEST_HOURS_MAX)
        return min(max(hours(REDEMPTION_HOURS.get(request.service, "2")), low), high)

    def hold(self, request: _Request, fate: str, names: dict[str, str]) -> None:
        """`redemption_create`: a child of the person asks for the service and holds hours."""
        rng, books = self.rng, self.books
        person = self.people[request.person]
        cost = self.redemption_hours(request)
        if fate == "mother":
            payer = self.demo_vol
        else:
            if self.wanted.get(fate, 0) <= 0:
                return
            responder_user = (
                self.responder_kinds[request.responder][1] if request.responder else None
            )
            payer = self.parent_of.get(person.pk)
            if payer is not None and payer.user.pk == responder_user:
                return  # nobody pays themselves
            if payer is None:
                day = request.created.astimezone(self.local).date()
                elder = self.age(person, day)
                street = self.street_of(person.community_id)
                children = {id(v) for v in self.parent_of.values()}
                found = [
                    v
                    for v in self.by_street.get(street, [])
                    if v.resident is not None
                    and not v.scripted
                    and id(v) not in children
                    and v.user.pk != responder_user
                    and v.verified_at is not None
                    and v.verified_at < request.created
                    and 18 <= elder - self.age(v.resident, day) <= 45
                    and books.can_pay((AccountKind.PERSON, v.user.pk), cost)
                ]
                if not found:
                    return
                found.sort(key=lambda v: (v.community.code != person.community_id, v.user.pk))
                near = [v for v in found if v.community.code == person.community_id] or found
                payer = rng.choice(near)
        if payer is None or not books.can_pay((AccountKind.PERSON, payer.user.pk), cost):
            return
        if fate != "mother":
            self.wanted[fate] -= 1
        self.parent_of[person.pk] = payer
        transfer = books.book(
            kind=TransferKind.REDEMPTION_HOLD,
            at=request.created,
            legs=[((AccountKind.PERSON, payer.user.pk), -cost), (HELD, cost)],
            actor=payer.user.pk,
            memo=f"{request.public_id} {names.get(request.service, '')}",
            request=request.pk,
        )
        redemption = Redemption(
            beneficiary_id=person.pk,
            request_id=request.pk,
            hours=cost,
            status=RedemptionStatus.HELD,
            hold=transfer,
            created_by=payer.user,
            created_at=request.created,
        )
        self.redemptions.append(redemption)
        self.paid_by[request.pk] = (redemption, payer)

    def confirmed(
        self,
        request: _Request,
        confirm: tuple[int, str, dt.datetime, int | None, str],
        names: dict[str, str],
        vol_of_user: dict[int, _Vol],
    ) -> None:
        """`request_confirmed`: credit whoever delivered, then spend what was held."""
        books = self.books
        paid = self.paid_by.get(request.pk)
        actor = paid[1].user.pk if paid and confirm[3] is None else confirm[3]
        memo = f"{request.public_id} {names.get(request.service, '')}"
        amount = paid[0].hours if paid else request.delivered()
        if request.responder is not None and amount is not None:
            kind, user_id, organization, region = self.responder_kinds[request.responder]
            vol = vol_of_user.get(user_id) if user_id is not None else None
            if kind == ResponderKind.VOLUNTEER and vol is not None:
                books.credit(
                    key=(AccountKind.PERSON, user_id),
                    amount=amount,
                    pool=vol.community.code,
                    kind=TransferKind.REQUEST_HOURS,
                    at=confirm[2],
                    actor=actor,
                    memo=memo,
                    request=request.pk,
                    earned_by=user_id,
                )
            elif kind == ResponderKind.ORGANIZATION and organization is not None:
                books.credit(
                    key=(AccountKind.ORGANIZATION, organization),
                    amount=amount,
                    pool=request.community,
                    kind=TransferKind.REQUEST_HOURS,
                    at=confirm[2],
                    actor=actor,
                    memo=memo,
                    request=request.pk,
                )
                self.group_places[organization].add(region)
        if paid is not None:
            redemption = paid[0]
            redemption.settlement = books.book(
                kind=TransferKind.REDEMPTION_SETTLE,
                at=confirm[2] + dt.timedelta(milliseconds=1),
                legs=[(HELD, -redemption.hours), (SPENT, redemption.hours)],
                actor=actor,
                memo=redemption.hold.memo,
                request=request.pk,
            )
            redemption.status = RedemptionStatus.SETTLED

    def ended(
        self, request: _Request, ending: tuple[int, str, dt.datetime, int | None, str]
    ) -> None:
        """`request_ended`: the held hours go back."""
        paid = self.paid_by.get(request.pk)
        if paid is None:
            return
        redemption, payer = paid
        actor = payer.user.pk if ending[1] == Action.CANCEL and ending[3] is None else ending[3]
        redemption.settlement = self.books.book(
            kind=TransferKind.REDEMPTION_RELEASE,
            at=ending[2],
            legs=[
                (HELD, -redemption.hours),
                ((AccountKind.PERSON, payer.user.pk), redemption.hours),
            ],
            actor=actor,
            memo=redemption.hold.memo,
            request=request.pk,
        )
        redemption.status = RedemptionStatus.RELEASED

    def plan_donations(self, at: Callable[[dt.datetime, Callable[[], None]], None]) -> None:
        rng, books = self.rng, self.books
        donors = [v for v in self.vols if v.weight > 0 and not v.scripted]
        count = DONATIONS[self.scale]
        days = [
            dt.date(year, month, 5)
            for year in (self.today.year - 1, self.today.year)
            for month in (3, 12)
            if self.today - dt.timedelta(days=360) < dt.date(year, month, 5) < self.today
        ]
        for number in range(3 * count):
            if days and number % 3 == 0:
                day = days[number // 3 % len(days)]
            else:
                day = self.today - dt.timedelta(days=rng.randint(1, 300))
            moment = self.local_at(day, dt.time(rng.randint(9, 20), rng.randint(0, 59)))
            memo = DONATION_MEMOS.get((day.month, day.day), DONATION_MEMO)

            def donate(moment: dt.datetime = moment, memo: str = memo) -> None:
                if self.donated >= count:
                    return
                rich = [
                    v
                    for v in donors
                    if books.balance[(AccountKind.PERSON, v.user.pk)] >= 8
                    and v.verified_at is not None
                    and v.verified_at < moment
                ]
                if not rich:
                    return
                vol = rng.choice(rich)
                key = (AccountKind.PERSON, vol.user.pk)
                amount = Decimal(rng.randint(2, int(books.balance[key] // 2)))
                books.book(
                    kind=TransferKind.DONATION,
                    at=moment,
                    legs=[(key, -amount), (("pool", vol.community.code), amount)],
                    actor=vol.user.pk,
                    memo=memo,
                )
                self.donated += 1

            at(moment, donate)
        for number in range(GROUP_DONATIONS[self.scale]):
            day = self.today - dt.timedelta(days=rng.randint(10, 150))
            moment = self.local_at(day, dt.time(10, rng.randint(0, 59)))

            def give(moment: dt.datetime = moment, number: int = number) -> None:
                groups = sorted(
                    (key for key in books.balance if key[0] == AccountKind.ORGANIZATION),
                    key=lambda key: (-books.balance[key], str(key[1])),
                )
                if len(groups) <= number or books.balance[groups[number]] < 20:
                    return
                key = groups[number]
                places = sorted(self.group_places.get(key[1], set()))
                if not places:
                    return
                amount = Decimal(int(books.balance[key] * Decimal(rng.uniform(0.1, 0.3))))
                books.book(
                    kind=TransferKind.DONATION,
                    at=moment,
                    legs=[(key, -amount), (("pool", rng.choice(places)), amount)],
                    actor=None,
                    memo=GROUP_DONATION_MEMO,
                )

            at(moment, give)
        self.plan_demo_donation(at)

    def plan_demo_donation(self, at: Callable[[dt.datetime, Callable[[], None]], None]) -> None:
        """demo_volunteer gave part of their hours to the community's pool some weeks ago,
        so their balance is a few tens of hours, and their star still counts them all."""
        demo = self.demo_vol
        if demo is None:
            return
        books = self.books
        moment = self.local_at(self.today - dt.timedelta(days=40), "10:00")
        final = self.earned_before(demo, self.now + dt.timedelta(days=1))
        request = getattr(self, "mother_request", None)
        spent = self.redemption_hours(request) if request is not None else Decimal(0)
        amount = Decimal(int(max(final - spent - DEMO_BALANCE, Decimal(0))))

        def donate() -> None:
            key = (AccountKind.PERSON, demo.user.pk)
            given = min(amount, Decimal(int(books.balance[key])))
            if given <= 0:
                return
            books.book(
                kind=TransferKind.DONATION,
                at=moment,
                legs=[(key, -given), (("pool", demo.community.code), given)],
                actor=demo.user.pk,
                memo=DONATION_MEMO,
            )

        at(moment, donate)

    # -- stars -------------------------------------------------------------------------

    def stars(self) -> None:
        """As the daily jobs would have proposed and awarded them: the day after hours
        crossed a level, in public notice for the configured working days, awarded the
        first run after the notice ended."""
        thresholds = star_thresholds()
        notice = int(settings.LINLI_VOLUNTEER_STAR_NOTICE_DAYS)
        self.awards: list[tuple[StarAward, _Vol]] = []
        for vol in self.vols:
            if vol.model.status != VolunteerStatus.VERIFIED:
                continue
            earned = sorted(self.books.earned.get(vol.user.pk, []), key=lambda e: e[0])
            total, top, index = Decimal(0), 0, 0
            while index < len(earned):
                moment, amount = earned[index]
                total += amount
                index += 1
                if level_for(total, thresholds) <= top:
                    continue
                local = moment.astimezone(self.local)
                run_day = local.date() + dt.timedelta(days=1 if local.time() >= STAR_JOB else 0)
                run = self.local_at(run_day, STAR_JOB)
                if run > self.now:
                    break
                while index < len(earned) and earned[index][0] <= run:
                    total += earned[index][1]
                    index += 1
                level = level_for(total, thresholds)
                if level <= top:
                    continue
                until = add_working_days(run_day, notice)
                decided = self.local_at(until + dt.timedelta(days=1), STAR_JOB)
                award = StarAward(
                    volunteer=vol.model,
                    level=level,
                    hours=total,
                    status=AwardStatus.AWARDED if decided <= self.now else AwardStatus.NOTICE,
                    notice_until=until,
                    decided_at=decided if decided <= self.now else None,
                    created_at=run,
                )
                self.awards.append((award, vol))
                top = level
        self.challenges: list[StarChallenge] = []
        in_notice = [(a, v) for a, v in self.awards if a.status == AwardStatus.NOTICE]
        target = next(
            ((a, v) for a, v in in_notice if v is self.star_crosser),
            next(((a, v) for a, v in in_notice if v is not self.demo_vol), None),
        )
        if target is None and in_notice:
            target = in_notice[0]
        if target is None:
            return
        award, vol = target
        others = [
            v for v in self.by_street.get(vol.street, []) if v is not vol and v is not self.demo_vol
        ]
        if not others:
            return
        raised = award.created_at + (self.now - award.created_at) * self.rng.uniform(0.2, 0.8)
        self.challenges.append(
            StarChallenge(
                award=award,
                raised_by=self.rng.choice(others).user,
                reason=CHALLENGE_REASON,
                status=ChallengeStatus.OPEN,
                raised_at=raised,
            )
        )

    # -- writing -----------------------------------------------------------------------

    def save_people(self) -> None:
        """Accounts, roles, teams, responders, volunteers and social workers: saved before
        the year is drawn, which books hours to their accounts by id."""
        User.objects.bulk_create(self.users, batch_size=BATCH)
        RoleAssignment.objects.bulk_create(self.roles, batch_size=BATCH)
        # Residents who volunteer are linked to their accounts (and carry their names).
        links = [(v.resident.pk, v.user.pk) for v in self.vols if v.resident is not None]
        _set_column(Resident, "user", links)
        _set_column(Resident, "name", self.renamed)
        responders = [r for r, _skills in self.new_responders]
        Responder.objects.bulk_create(responders, batch_size=BATCH)
        Through = Responder.skills.through
        Through.objects.bulk_create(
            [
                Through(responder_id=r.pk, taxonomyterm_id=self.terms[code].pk)
                for r, skills in self.new_responders
                for code in skills
            ],
            batch_size=BATCH,
        )
        Team.objects.bulk_create(self.teams, batch_size=BATCH)
        Volunteer.objects.bulk_create([v.model for v in self.vols], batch_size=BATCH)
        Skills = Volunteer.skills.through
        Skills.objects.bulk_create(
            [
                Skills(volunteer_id=v.model.pk, taxonomyterm_id=self.terms[code].pk)
                for v in self.vols
                for code in v.skills
            ],
            batch_size=BATCH,
        )
        Teams = Volunteer.teams.through
        Teams.objects.bulk_create(
            [Teams(volunteer_id=v.model.pk, team_id=t.pk) for v in self.vols for t in v.teams],
            batch_size=BATCH,
        )
        SocialWorker.objects.bulk_create(self.workers, batch_size=BATCH)

    def save_year(self) -> dict[str, int]:
        """Activities, sign-ups, the ledger in the order it was walked, attendance,
        disputes, redemptions, stars."""
        activities = [a.model for a in self.activities]
        Activity.objects.bulk_create(activities, batch_size=BATCH)
        Wanted = Activity.skills.through
        Wanted.objects.bulk_create(
            [
                Wanted(activity_id=a.model.pk, taxonomyterm_id=self.terms[code].pk)
                for a in self.activities
                for code in a.skills
            ],
            batch_size=BATCH,
        )
        signups = [s.model for a in self.activities for s in a.signups]
        Signup.objects.bulk_create(signups, batch_size=BATCH)
        moved = self._save_books()
        attendance = [
            s.attendance for a in self.activities for s in a.signups if s.attendance is not None
        ]
        Attendance.objects.bulk_create(attendance, batch_size=BATCH)
        disputes = [d for d, _s, _a in self.disputes]
        HoursDispute.objects.bulk_create(disputes, batch_size=BATCH)
        self._save_redemptions()
        awards = [a for a, _v in self.awards]
        StarAward.objects.bulk_create(awards, batch_size=BATCH)
        StarChallenge.objects.bulk_create(self.challenges, batch_size=BATCH)
        volunteers = [v.model for v in self.vols]
        return {
            "volunteers": len(volunteers),
            "verified": sum(1 for v in volunteers if v.status == VolunteerStatus.VERIFIED),
            "social_workers": len(self.workers),
            "teams": len(self.teams),
            "activities": len(activities),
            "signups": len(signups),
            "attendance": len(attendance),
            "transfers": len(self.books.booked),
            "movements": moved,
            "hours": int(self.books.issued()),
            "redemptions": len(self.redemptions),
            "stars": len(awards),
            "in_notice": sum(1 for a in awards if a.status == AwardStatus.NOTICE),
            "disputes": len(disputes),
        }

    def _save_books(self) -> int:
        books = self.books
        accounts: dict[Key, Account] = {
            ISSUANCE: system_account(AccountKind.ISSUANCE),
            HELD: system_account(AccountKind.HELD),
            SPENT: system_account(AccountKind.SPENT),
        }
        fresh: list[Account] = []
        for key in sorted(books.opened, key=lambda k: (books.opened[k], str(k))):
            if key in accounts:
                continue
            account = Account(created_at=books.opened[key])
            if key[0] == AccountKind.PERSON:
                account.kind, account.user_id = AccountKind.PERSON, key[1]
            elif key[0] == AccountKind.ORGANIZATION:
                account.kind, account.organization_id = AccountKind.ORGANIZATION, key[1]
            else:
                account.kind, account.community_id = AccountKind.COMMUNITY_POOL, key[1]
            accounts[key] = account
            fresh.append(account)
        Account.objects.bulk_create(fresh, batch_size=BATCH)
        # A correction points at what it corrects, which must be saved before it.
        chunk: list[Transfer] = []
        for transfer, _legs in books.booked:
            if transfer.reverses is not None and transfer.reverses.pk is None:
                Transfer.objects.bulk_create(chunk, batch_size=BATCH)
                chunk = []
            chunk.append(transfer)
        Transfer.objects.bulk_create(chunk, batch_size=BATCH)
        movements = [
            Movement(transfer=transfer, account=accounts[key], amount=amount)
            for transfer, legs in books.booked
            for key, amount in sorted(legs, key=lambda leg: accounts[leg[0]].pk)
        ]
        Movement.objects.bulk_create(movements, batch_size=BATCH)
        self.accounts = accounts
        return len(movements)

    def _save_redemptions(self) -> None:
        for redemption in self.redemptions:
            payer = self.paid_by[redemption.request_id][1]
            redemption.account = self.accounts[(AccountKind.PERSON, payer.user.pk)]
        Redemption.objects.bulk_create(self.redemptions, batch_size=BATCH)
        # As redemption_create asks: the time bank on the child's behalf, for the parent.
        for redemption in self.redemptions:
            payer = self.paid_by[redemption.request_id][1]
            request = self.requests[redemption.request_id]
            own = payer.resident.pk if payer.resident is not None else None
            channel = Channel.RESIDENT if request.person == own else Channel.PROXY
            ServiceRequest.objects.filter(pk=request.pk).update(
                requested_by=payer.user, channel=channel
            )
            for pk, action, _at, actor, _label in request.events:
                if action == Action.SUBMIT:
                    RequestEvent.objects.filter(pk=pk).update(actor=None, actor_label="timebank")
                elif action in (Action.CONFIRM, Action.CANCEL) and actor is None:
                    RequestEvent.objects.filter(pk=pk).update(actor=payer.user, actor_label="")
        pairs = sorted(
            ((elder, payer) for elder, payer in self.parent_of.items() if payer.resident),
            key=lambda pair: pair[0],
        )
        if self.demo_vol is not None and self.demo_vol.resident and self.mother is not None:
            pairs = [p for p in pairs if p[0] != self.mother.pk] + [(self.mother.pk, self.demo_vol)]
        for elder, payer in pairs:
            child = payer.resident
            if child is None:
                continue
            since = payer.model.registered_at
            self.relations += [
                Relation(resident=child, person_id=elder, kind=RelationKind.PARENT),
                Relation(resident_id=elder, person=child, kind=RelationKind.CHILD),
            ]
            for relation in self.relations[-2:]:
                relation.created_at = since
        Relation.objects.bulk_create(self.relations, batch_size=BATCH)


@demo_step(name="volunteers", order=70)
def build_demo_volunteers(context: DemoContext) -> None:
    """Volunteers, social workers, teams, a year of activities, the time bank and stars."""
    started = time.monotonic()
    demo = _Demo(context)
    demo.load()
    demo.build_teams()
    demo.build_social_workers()
    demo.build_volunteers()
    # The system accounts are made as the ledger makes them, before rows are backdated.
    for kind in (AccountKind.ISSUANCE, AccountKind.HELD, AccountKind.SPENT):
        system_account(kind)
    with _stamped(*STAMPED):
        demo.save_people()
        demo.build_activities()
        demo.build_signups()
        demo.script_demo()
        demo.ledger()
        demo.stars()
        counts = demo.save_year()
    context.echo(
        f"  {counts['volunteers']} volunteers ({counts['verified']} verified), "
        f"{counts['social_workers']} social workers, {counts['teams']} teams, "
        f"{counts['activities']} activities, {counts['attendance']} attendances, "
        f"{counts['transfers']} transfers, {counts['redemptions']} redemptions, "
        f"{counts['stars']} stars ({time.monotonic() - started:.1f} s)"
    )
