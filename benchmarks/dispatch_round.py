"""Benchmark: a dispatch round for 10,000 waiting requests and 2,000 responders.

On PostgreSQL, in a fresh database (BENCH_DISPATCH_DATABASE_URL, default a
`linli_bench_dispatch` database on 127.0.0.1:5432, dropped and created afresh)
holding the county demo district's regions (171 communities and villages over
about 12 × 19 km), it generates, seeded:

- 2,000 responders living in communities drawn by population, at a point in
  their community: volunteers (1–3 tasks at once, 1.5–3 km in town, 3–6 km in
  the villages), social workers (4–6 tasks) and provider staff (3–5 tasks);
  one to three skills, a third of them a whole field (养老服务 covers every
  elderly-care service); weekly hours from a few common patterns, a quarter
  "any time"; 70 % rated; 1,000 tasks already held between them;
- 10,000 triaged requests drawn by population, more elderly care in the
  villages, with the demo's mix of urgencies and priority groups and waiting
  times, half of them with a window in the next three days.

Then it runs `round_run()` — what `dispatch_round()` and `linli requests
dispatch` run — and reports loading, building the cost matrix, solving, and
writing the assignments through `request_assign` one savepoint each; and,
side by side on the same problem in the same run, the greedy one-at-a-time
plan (`plan_greedy`, what `greedy_round` computes): how many requests each
served, their priority-weighted cost, and the objective both are judged by
(cost plus the priority-weighted price of every servable request left).

    make bench        # or: .venv/bin/python benchmarks/dispatch_round.py
    BENCH_REQUESTS=2000 BENCH_RESPONDERS=400 .venv/bin/python benchmarks/dispatch_round.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10000"))
RESPONDERS = int(os.environ.get("BENCH_RESPONDERS", "2000"))
HELD = RESPONDERS // 2
SEED = 2025
DATABASE_URL = os.environ.get(
    "BENCH_DISPATCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_bench_dispatch"
)
sys.path.insert(0, str(ROOT))

# Service codes with their share of requests in town and in the villages.
DEMAND = {
    "elderly_meals": (0.16, 0.20),
    "elderly_cleaning": (0.08, 0.08),
    "elderly_bathing": (0.04, 0.06),
    "elderly_medical_escort": (0.08, 0.10),
    "elderly_visit": (0.08, 0.12),
    "elderly_mobility": (0.04, 0.05),
    "medical_home_visit": (0.08, 0.09),
    "medical_chronic_followup": (0.06, 0.07),
    "welfare_disability_support": (0.06, 0.06),
    "welfare_left_behind_care": (0.02, 0.06),
    "childcare_temporary": (0.10, 0.04),
    "childcare_after_school": (0.10, 0.03),
    "education_digital_skills": (0.10, 0.04),
}
FIELDS = ("elderly_care", "medical_care", "social_welfare", "childcare", "education")
URGENCIES = (("low", 0.25), ("normal", 0.50), ("high", 0.20), ("urgent", 0.05))
HOURS = [
    [{"day": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    [{"day": d, "start": "18:00", "end": "21:30"} for d in range(5)],
    [{"day": d, "start": "08:00", "end": "18:00"} for d in (5, 6)],
    [{"day": d, "start": "07:00", "end": "11:00"} for d in range(7)],
    [{"day": d, "start": "13:00", "end": "20:00"} for d in (1, 3, 5)],
]


def fresh_database() -> None:
    import psycopg

    base, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')


def set_up_django() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": DATABASE_URL,
            "LINLI_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from linli.core.registry import DemoContext
    from linli.regions.demo import build_demo_regions

    call_command("migrate", verbosity=0)
    build_demo_regions(
        DemoContext(
            seed=2021,
            scale="county",
            rng=random.Random("2021:regions"),
            echo=lambda _text: None,
            show_progress=False,
        )
    )


def _box(region: Any) -> tuple[float, float, float, float]:
    ring = region.boundary["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lats), max(lats), min(lons), max(lons)


def _point(rng: random.Random, box: tuple[float, float, float, float]) -> tuple[float, float]:
    south, north, west, east = box
    return round(rng.uniform(south, north), 6), round(rng.uniform(west, east), 6)


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def generate(now: dt.datetime) -> dict[str, Any]:
    """Responders, their held tasks and the waiting requests, seeded."""
    from django.db import transaction

    from linli.accounts.models import User
    from linli.regions.choices import RegionKind, RegionLevel
    from linli.regions.models import Region
    from linli.requests.choices import ResponderKind, State, Urgency
    from linli.requests.models import Responder, ServiceRequest
    from linli.requests.services import DEFAULT_SERVICE_LEVELS, service_term
    from linli.requests.triage import URGENCY_POINTS

    rng = random.Random(SEED)
    communities = list(Region.objects.filter(level=RegionLevel.COMMUNITY).order_by("code"))
    weights = [c.population or 1 for c in communities]
    boxes = {c.code: _box(c) for c in communities}
    terms = {code: service_term(code) for code in [*DEMAND, *FIELDS]}
    leaves = [terms[code] for code in DEMAND]
    leaf_weights = [sum(DEMAND[code]) for code in DEMAND]
    began = time.perf_counter()
    with transaction.atomic():
        # "!" is Django's unusable password: these accounts never log in.
        unusable = "!"
        users = User.objects.bulk_create(
            [
                User(username=f"bench-responder-{i:05d}", password=unusable)
                for i in range(RESPONDERS)
            ]
        )
        responders = []
        for user in users:
            home = rng.choices(communities, weights=weights)[0]
            urban = home.kind == RegionKind.URBAN
            kind = _pick(
                rng,
                [
                    (ResponderKind.VOLUNTEER, 0.70),
                    (ResponderKind.SOCIAL_WORKER, 0.15),
                    (ResponderKind.PROVIDER_STAFF, 0.15),
                ],
            )
            cap = {
                ResponderKind.VOLUNTEER: rng.randint(1, 3),
                ResponderKind.SOCIAL_WORKER: rng.randint(4, 6),
                ResponderKind.PROVIDER_STAFF: rng.randint(3, 5),
            }[kind]
            radius = rng.uniform(1.5, 3.0) if urban else rng.uniform(3.0, 6.0)
            lat, lon = _point(rng, boxes[home.code])
            responders.append(
                Responder(
                    kind=kind,
                    name=f"响应者{user.pk}",
                    user=user,
                    region=home,
                    latitude=lat,
                    longitude=lon,
                    radius_km=Decimal(f"{radius:.1f}"),
                    max_open_tasks=cap,
                    rating=round(min(5.0, max(1.0, rng.gauss(4.3, 0.5))), 1)
                    if rng.random() < 0.7
                    else None,
                    availability=[] if rng.random() < 0.25 else rng.choice(HOURS),
                )
            )
        responders = Responder.objects.bulk_create(responders, batch_size=1000)
        links = []
        for responder in responders:
            chosen: set[Any] = set()
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.33:
                    chosen.add(terms[rng.choice(FIELDS)])
                else:
                    chosen.add(rng.choices(leaves, weights=leaf_weights)[0])
            links += [
                Responder.skills.through(responder_id=responder.pk, taxonomyterm_id=term.pk)
                for term in chosen
            ]
        Responder.skills.through.objects.bulk_create(links, batch_size=5000)

        def request(i: int, state: str, responder: Responder | None = None) -> ServiceRequest:
            community = rng.choices(communities, weights=weights)[0]
            share = 0 if community.kind == RegionKind.URBAN else 1
            code = rng.choices(list(DEMAND), weights=[v[share] for v in DEMAND.values()])[0]
            urgency = _pick(rng, list(URGENCIES))
            parts = {"urgency": URGENCY_POINTS[Urgency(urgency)]}
            if rng.random() < 0.30:
                parts["elderly_living_alone"] = 25
                if rng.random() < 0.4:
                    parts["oldest"] = 10
            elif rng.random() < 0.25:
                parts["elderly"] = 10
            if rng.random() < 0.12:
                parts["disabled"] = 20
            if rng.random() < 0.08:
                parts["family_in_difficulty"] = 15
            parts["waiting"] = rng.randint(0, 48)
            lat, lon = _point(rng, boxes[community.code])
            start = end = None
            if rng.random() < 0.5:
                day = timezone_day(now, rng.randint(0, 3))
                start = day + dt.timedelta(hours=rng.randint(8, 19))
                start = max(start, now + dt.timedelta(hours=1))
                end = start + dt.timedelta(hours=rng.randint(1, 4))
            respond, resolve = DEFAULT_SERVICE_LEVELS[Urgency(urgency)]
            due = max((start or now) + dt.timedelta(minutes=resolve), end or now)
            return ServiceRequest(
                public_id=f"RB{i:07d}",
                channel="phone",
                service=terms[code],
                description="",
                community=community,
                latitude=lat,
                longitude=lon,
                contact_name="",
                contact_phone="",
                window_start=start,
                window_end=end,
                urgency=urgency,
                state=state,
                priority=sum(parts.values()),
                priority_breakdown=parts,
                respond_by=now + dt.timedelta(minutes=respond),
                due_at=due,
                responder=responder,
            )

        # Tasks already held, within every responder's cap.
        held = []
        room = {r.pk: r.max_open_tasks - 1 for r in responders}
        holders = [r for r in responders if room[r.pk] > 0]
        for i in range(HELD):
            responder = rng.choice(holders)
            if room[responder.pk] <= 0:
                continue
            room[responder.pk] -= 1
            held.append(request(REQUESTS + i, State.ASSIGNED, responder))
        ServiceRequest.objects.bulk_create(held, batch_size=2000)
        waiting = [request(i, State.TRIAGED) for i in range(REQUESTS)]
        ServiceRequest.objects.bulk_create(waiting, batch_size=2000)
    return {"generate_seconds": round(time.perf_counter() - began, 1), "held": len(held)}


def timezone_day(now: dt.datetime, days: int) -> dt.datetime:
    """Local midnight `days` after today."""
    from django.utils import timezone

    local = timezone.localtime(now) + dt.timedelta(days=days)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def run() -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from linli.core.tasks import held
    from linli.requests.choices import HELD_STATES, State
    from linli.requests.dispatch import plan_greedy, round_run, score
    from linli.requests.models import ServiceRequest

    now = timezone.now()
    facts = generate(now)
    print(f"generated in {facts['generate_seconds']} s", file=sys.stderr, flush=True)
    # Announcing each assignment to its responder is the notifications' work, handed to
    # Celery in production; held here, so that the writes measured are the round's own.
    with held("requests.announce_event"):
        cpu = time.process_time()
        outcome = round_run(now=now)
        cpu = time.process_time() - cpu
    problem, plan = outcome.problem, outcome.plan
    greedy = plan_greedy(problem)
    optimal_score, greedy_score = score(problem, plan), score(problem, greedy)
    # Check what was written: every assignment made, nobody over their cap.
    assigned = ServiceRequest.objects.filter(state=State.ASSIGNED, assignments__round=outcome.round)
    assert assigned.count() == outcome.round.assigned == len(plan) - outcome.conflicts
    loads = (
        ServiceRequest.objects.filter(state__in=HELD_STATES)
        .values("responder_id", "responder__max_open_tasks")
        .annotate(n=Count("pk"))
    )
    assert all(row["n"] <= row["responder__max_open_tasks"] for row in loads)
    return {
        "database": connection.vendor,
        "requests": len(problem.requests),
        "responders": len(problem.responders),
        "held": facts["held"],
        "pairs": len(problem.pair_q),
        "slots": int(problem.responders.free.sum()),
        "load_s": problem.load_seconds,
        "build_s": problem.build_seconds,
        "solve_s": plan.seconds,
        "write_s": outcome.write_seconds,
        "round_s": outcome.round.seconds,
        "round_cpu_s": cpu,
        "greedy_s": greedy.seconds,
        "conflicts": outcome.conflicts,
        "refused": outcome.refused,
        "optimal": optimal_score.__dict__ | {"objective": optimal_score.objective},
        "greedy": greedy_score.__dict__ | {"objective": greedy_score.objective},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    fresh_database()
    set_up_django()
    print(
        f"dispatch: {REQUESTS:,} requests, {RESPONDERS:,} responders on PostgreSQL …",
        file=sys.stderr,
        flush=True,
    )
    r = run()
    print(json.dumps(r), file=sys.stderr)
    o, g = r["optimal"], r["greedy"]
    print()
    print(
        f"{r['requests']:,} waiting requests, {r['responders']:,} responders with room "
        f"({r['held']:,} tasks already held), {r['pairs']:,} eligible pairs, "
        f"{r['slots']:,} free places, {dt.date.today().isoformat()}"
    )
    print()
    print(
        "| load s | matrix s | solve s | matrix + solve s | writes s | whole round s "
        "| round CPU s | greedy solve s | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['load_s']:.1f} | {r['build_s']:.1f} | {r['solve_s']:.1f} "
        f"| {r['build_s'] + r['solve_s']:.1f} | {r['write_s']:.1f} | {r['round_s']:.1f} "
        f"| {r['round_cpu_s']:.1f} | {r['greedy_s']:.2f} | {r['peak_rss_mb']:,.0f} |"
    )
    print()
    print(
        "| plan | served | of servable | priority served | priority-weighted cost "
        "| mean km | unserved penalty | objective |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, s in (("optimal (round)", o), ("greedy", g)):
        print(
            f"| {name} | {s['served']:,} | {s['servable']:,} | {s['priority_served']:,} "
            f"| {s['cost']:,.0f} | {s['mean_km']:.2f} | {s['unserved_penalty']:,.0f} "
            f"| {s['objective']:,.0f} |"
        )
    print()
    print(
        f"optimal ÷ greedy: objective {o['objective'] / g['objective']:.3f}, "
        f"served {o['served'] / max(g['served'], 1):.3f}, "
        f"priority served {o['priority_served'] / max(g['priority_served'], 1):.3f}, "
        f"cost {o['cost'] / max(g['cost'], 1):.3f}; "
        f"{r['conflicts']} conflicts, {r['refused']} refused"
    )


if __name__ == "__main__":
    main()
