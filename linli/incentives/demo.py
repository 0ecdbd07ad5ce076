"""Demo participatory budgets in the demo community worker's community: one run from
proposals to a result published under equal shares, one open for voting (the demo
resident has not voted yet, so they can). Demo fund pools for the demo street: last
quarter's approved, this quarter's a draft the street official can dry-run.

Voters are residents of the community with an account: the demo gives accounts (no
password, usernames `pb_voter_<record>`) to some adults there, as residents who signed
up would have.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import RoleAssignment, User
from linli.core.errors import ValidationFailed
from linli.core.registry import DemoContext, demo_step
from linli.regions.models import Region
from linli.residents.models import Resident

from .budgets import (
    ballot_cast,
    budget_close,
    budget_create,
    budget_open_review,
    budget_open_voting,
    budget_publish,
    proposal_review,
    proposal_submit,
)
from .choices import Rule
from .funds import pool_approve, pool_create, pool_dry_run
from .models import Budget, FundPool

# title, kind, cost in yuan (None: not feasible, with the reason), popularity.
Project = tuple[str, str, int | None, float]
FIRST: list[Project] = [
    ("小区东门健身角", "健身角", 48000, 0.55),
    ("长者食堂添置餐桌和保温设备", "老年食堂", 120000, 0.45),
    ("3号楼无障碍坡道", "无障碍坡道", 36000, 0.25),
    ("中心花园路灯改造", "路灯", 90000, 0.5),
    ("儿童游乐区翻新", "儿童游乐", 150000, 0.35),
    ("电动自行车充电棚", "充电设施", 80000, 0.3),
    ("楼道扶手（6栋）", "适老化", 24000, 0.15),
    ("地下游泳池", "体育设施", None, 0.2),
]
SECOND: list[Project] = [
    ("口袋公园座椅和遮阳", "口袋公园", 60000, 0.4),
    ("社区书屋延长开放", "文化", 30000, 0.3),
    ("老年助浴点", "老年服务", 140000, 0.35),
    ("雨水花园", "环境", 110000, 0.25),
    ("快递柜遮雨棚", "便民设施", 20000, 0.3),
]


def _voters(community_id: str, count: int) -> list[User]:
    """Residents of the community with accounts; adults without one get one."""
    have = list(
        User.objects.filter(
            resident__community_id=community_id, resident__anonymized_at__isnull=True
        ).order_by("id")
    )
    missing = count - len(have)
    if missing > 0:
        people = list(
            Resident.objects.filter(
                community_id=community_id, user__isnull=True, anonymized_at__isnull=True
            ).order_by("id")[:missing]
        )
        unusable = make_password(None)
        made = User.objects.bulk_create(
            [User(username=f"pb_voter_{p.pk}", password=unusable) for p in people]
        )
        for person, user in zip(people, made, strict=True):
            person.user = user
        Resident.objects.bulk_update(people, ["user"])
        have += made
    return have[:count]


def _run(
    context: DemoContext,
    *,
    worker: User,
    community: Region,
    voters: list[User],
    proposer: User,
    title: str,
    amount: int,
    projects: list[Project],
    turnout: float,
    skip: User | None = None,
) -> Budget:
    budget = budget_create(actor=worker, community=community, title=title, amount=amount)
    proposals = []
    for name, kind, cost, popularity in projects:
        lat = lon = None
        if community.lat is not None and community.lon is not None:
            lat = community.lat + context.rng.uniform(-0.003, 0.003)
            lon = community.lon + context.rng.uniform(-0.003, 0.003)
        proposal = proposal_submit(
            actor=proposer, budget=budget, title=name, kind=kind, latitude=lat, longitude=lon
        )
        proposals.append((proposal, cost, popularity))
    budget = budget_open_review(actor=worker, budget=budget)
    feasible = []
    for proposal, cost, popularity in proposals:
        if cost is None:
            proposal_review(
                actor=worker,
                proposal=proposal,
                feasible=False,
                reason="小区内没有可用场地，且超出社区微实事的范围。",
            )
        else:
            proposal_review(actor=worker, proposal=proposal, feasible=True, cost=Decimal(cost))
            feasible.append((proposal, popularity))
    budget = budget_open_voting(actor=worker, budget=budget)
    for user in voters:
        if user == skip or context.rng.random() > turnout:
            continue
        chosen = [p.pk for p, popularity in feasible if context.rng.random() < popularity]
        if not chosen:
            chosen = [context.rng.choice(feasible)[0].pk]
        ballot_cast(actor=user, budget=budget, approvals=chosen)
    return budget


@demo_step(name="participatory_budgets", order=80)
def build_demo_budgets(context: DemoContext) -> None:
    """One participatory budget published under equal shares, one open for voting."""
    worker = User.objects.filter(username=demo_username(Role.COMMUNITY_WORKER)).first()
    resident = User.objects.filter(username=demo_username(Role.RESIDENT)).first()
    if worker is None or resident is None:
        return
    community = RoleAssignment.objects.get(user=worker, role=Role.COMMUNITY_WORKER).region
    if (
        community is None
        or not Resident.objects.filter(user=resident, community=community).exists()
    ):
        return
    voters = _voters(community.code, 40 if context.scale == "small" else 300)
    first = _run(
        context,
        worker=worker,
        community=community,
        voters=voters,
        proposer=resident,
        title="2026年上半年社区微实事",
        amount=300000,
        projects=FIRST,
        turnout=0.7,
    )
    first = budget_close(actor=worker, budget=first)
    budget_publish(actor=worker, budget=first, rule=Rule.EQUAL_SHARES)
    _run(
        context,
        worker=worker,
        community=community,
        voters=voters,
        proposer=resident,
        title="2026年下半年社区微实事",
        amount=200000,
        projects=SECOND,
        turnout=0.4,
        skip=resident,
    )
    context.echo("  2 participatory budgets (one published, one voting)")


def _quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of `day`'s calendar quarter."""
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = (
        dt.date(first.year + 1, 1, 1)
        if first.month == 10
        else dt.date(first.year, first.month + 3, 1)
    )
    return first, following - dt.timedelta(days=1)


# After the evaluations (order 90): the pools are weighted by their indices.
@demo_step(name="incentive_funds", order=100)
def build_demo_funds(context: DemoContext) -> None:
    """Fund pools of the demo street: last quarter's approved, this quarter's a draft."""
    official = User.objects.filter(username=demo_username(Role.STREET_OFFICIAL)).first()
    if official is None:
        return
    held = RoleAssignment.objects.filter(user=official, role=Role.STREET_OFFICIAL).first()
    if held is None or held.region is None:
        return
    street = held.region
    this_start, this_end = _quarter(timezone.localdate())
    last_start, last_end = _quarter(this_start - dt.timedelta(days=1))
    made = []
    for title, start, end, approve in (
        (
            f"{last_start.year}年第{(last_start.month + 2) // 3}季度为老服务激励资金",
            last_start,
            last_end,
            True,
        ),
        (
            f"{this_start.year}年第{(this_start.month + 2) // 3}季度为老服务激励资金",
            this_start,
            this_end,
            False,
        ),
    ):
        floor = Decimal(2000)
        pool = pool_create(
            actor=official,
            region=street,
            title=title,
            period_start=start,
            period_end=end,
            amount=Decimal(50000),
            floor=floor,
            cap=Decimal(15000),
        )
        try:
            plan = pool_dry_run(actor=official, pool=pool)
        except ValidationFailed:
            # More providers than floors the pool can pay: no floor rather than no pool.
            FundPool.objects.filter(pk=pool.pk).update(floor=0)
            pool.refresh_from_db()
            plan = pool_dry_run(actor=official, pool=pool)
        if approve and plan.lines:
            pool_approve(actor=official, pool=pool, fingerprint=plan.fingerprint)
        made.append(pool)
    context.echo(
        f"  {len(made)} fund pools for {street.name} (last quarter approved, this one draft)"
    )
