"""Dispatch: who may serve a request, urgent requests at once, rounds solved as one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
import numpy as np
import pytest
from click.testing import CliRunner
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy.optimize import linear_sum_assignment

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import ValidationFailed
from linli.core.registry import linli_group
from linli.regions.tests.factories import region_chain
from linli.requests import dispatch
from linli.requests.choices import Action, ResponderStatus, State
from linli.requests.dispatch import (
    candidates_for,
    candidates_for_many,
    dispatch_round,
    dispatch_urgent,
    explanation_text,
    greedy_round,
    round_run,
)
from linli.requests.dispatch.problem import (
    LOAD_KM,
    Problem,
    RequestTable,
    ResponderTable,
    weekly_slots,
)
from linli.requests.dispatch.solvers import plan_greedy, plan_optimal, score
from linli.requests.dispatch_cli import dispatch_command
from linli.requests.models import Assignment, DispatchRound, Responder, ServiceRequest
from linli.requests.services import RequestInput, request_assign, request_create, request_transition

from .factories import responder_create

pytestmark = pytest.mark.django_db

LAT, LON = 30.0, 120.0
KM = 1 / 111.195  # degrees of latitude per kilometre


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=LAT, lon=LON)


@pytest.fixture
def worker(community):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


def north(km: float) -> float:
    return LAT + km * KM


def ask(worker, community, *, km=0.0, service="elderly_meals", urgency="normal", **fields):
    """A request taken by the community worker for a point `km` north of the centre."""
    return request_create(
        actor=worker,
        data=RequestInput(
            service=service,
            community=community,
            latitude=north(km),
            longitude=LON,
            urgency=urgency,
            contact_name="李大爷",
            **fields,
        ),
    )


def volunteer(community, name, *, km=0.0, skills=("elderly_meals",), **fields):
    return responder_create(
        community, *skills, name=name, latitude=north(km), longitude=LON, **fields
    )


def next_monday(hour: int, minute: int = 0) -> dt.datetime:
    """Local time on the Monday at least a week ahead (always in the future)."""
    today = timezone.localtime().date()
    day = today + dt.timedelta(days=7 + (7 - today.weekday()) % 7)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def ids(candidates):
    return [c.responder_id for c in candidates]


# --- eligibility --------------------------------------------------------------------------


def test_a_skill_covers_its_narrower_services_and_candidates_come_best_first(worker, community):
    request = ask(worker, community)
    broad = volunteer(community, "养老志愿者", km=1.0, skills=("elderly_care",))
    exact = volunteer(community, "助餐志愿者", km=0.5, skills=("elderly_meals",))
    volunteer(community, "助浴志愿者", km=0.1, skills=("elderly_bathing",))
    volunteer(community, "托育志愿者", km=0.1, skills=("childcare",))
    candidates = candidates_for(request)
    assert ids(candidates) == [exact.pk, broad.pk]
    first = candidates[0]
    assert first.responder == exact
    assert first.distance_km == pytest.approx(0.5, abs=0.01)
    assert first.load == 0
    assert first.rating is None
    # Unrated counts as the middle of the scale: half of the rating weight.
    assert first.reasons == {"distance": pytest.approx(0.5, abs=0.01), "load": 0.0, "rating": 0.5}
    assert first.cost == pytest.approx(sum(first.reasons.values()), abs=0.002)


def test_only_responders_free_in_the_window_qualify(worker, community):
    start = next_monday(10)
    request = ask(worker, community, window_start=start, window_end=start + dt.timedelta(hours=2))
    morning = volunteer(
        community, "周一上午", availability=[{"day": 0, "start": "09:00", "end": "10:30"}]
    )
    volunteer(community, "周一下午", availability=[{"day": 0, "start": "12:00", "end": "18:00"}])
    volunteer(community, "周二", availability=[{"day": 1, "start": "08:00", "end": "20:00"}])
    anytime = volunteer(community, "随时", availability=[])
    assert set(ids(candidates_for(request))) == {morning.pk, anytime.pk}


def test_night_slots_and_windows_run_past_midnight_and_past_the_week(worker, community):
    start = next_monday(1)  # Monday 01:00 to 01:30
    request = ask(
        worker, community, window_start=start, window_end=start + dt.timedelta(minutes=30)
    )
    sunday_night = volunteer(
        community, "周日夜班", availability=[{"day": 6, "start": "22:00", "end": "02:00"}]
    )
    volunteer(community, "周日白天", availability=[{"day": 6, "start": "08:00", "end": "22:00"}])
    assert ids(candidates_for(request)) == [sunday_night.pk]
    assert weekly_slots([{"day": 6, "start": "22:00", "end": "02:00"}]) == [
        (10080 - 120, 10080 + 120)
    ]
    # Malformed entries are skipped, and a responder with only those is never available.
    assert weekly_slots([{"day": 9, "start": "25:00", "end": "x"}]) == []
    assert weekly_slots([]) is None


def test_a_request_without_window_is_served_from_now_until_it_is_due(worker, community):
    request = ask(worker, community)
    now = next_monday(10)
    request.due_at = now + dt.timedelta(hours=3)
    noon = volunteer(community, "中午", availability=[{"day": 0, "start": "12:00", "end": "13:00"}])
    afternoon = volunteer(
        community, "下午", availability=[{"day": 0, "start": "14:00", "end": "15:00"}]
    )
    volunteer(community, "早上", availability=[{"day": 0, "start": "07:00", "end": "09:59"}])
    assert ids(candidates_for(request, now=now)) == [noon.pk]
    # Past its due time (13:00), a request still needs someone: the next day counts.
    assert ids(candidates_for(request, now=now + dt.timedelta(hours=4))) == [afternoon.pk]


def test_radius_load_cap_pause_and_decliners_exclude(worker, community):
    request = ask(worker, community)
    near = volunteer(community, "近", km=2.0, radius_km=Decimal("3.0"))
    volunteer(community, "远", km=5.0, radius_km=Decimal("3.0"))
    wide = volunteer(community, "远但范围大", km=5.0, radius_km=Decimal("6.0"))
    volunteer(community, "暂停", status=ResponderStatus.PAUSED)
    busy = volunteer(community, "满", max_open_tasks=1)
    request_assign(actor=worker, request=ask(worker, community), responder=busy)
    assert ids(candidates_for(request)) == [near.pk, wide.pk]

    request_assign(actor=worker, request=request, responder=near)
    request.refresh_from_db()
    # The holder is not a candidate to take it again.
    assert ids(candidates_for(request)) == [wide.pk]
    request_transition(actor=near.user, request=request, action=Action.DECLINE, reason="生病了")
    request.refresh_from_db()
    assert ids(candidates_for(request)) == [wide.pk]
    # Narrowed to chosen responders.
    assert ids(candidates_for(request, responders=[near, busy])) == []


def test_a_page_of_requests_gets_its_candidates_in_a_fixed_number_of_queries(worker, community):
    near = volunteer(community, "近", km=0.2)
    far = volunteer(community, "远", km=2.0, skills=("elderly_care",))
    requests = [ask(worker, community, km=km) for km in (0.0, 0.5, 1.0, 6.0)]
    request_transition(actor=None, request=requests[1], action=Action.REJECT, reason="重复")
    request_assign(actor=worker, request=requests[2], responder=far)
    page = list(ServiceRequest.objects.select_related("community").order_by("pk"))
    with CaptureQueriesContext(connection) as two:
        candidates_for_many(page[:2])
    with CaptureQueriesContext(connection) as four:
        found = candidates_for_many(page)
    assert len(four) == len(two)
    assert {pk: ids(c) for pk, c in found.items()} == {
        page[0].pk: [near.pk, far.pk],
        page[1].pk: [near.pk, far.pk],
        page[2].pk: [near.pk],  # its holder is not offered again
        page[3].pk: [],  # beyond everyone's radius
    }
    assert ids(candidates_for(page[0])) == ids(found[page[0].pk])


def test_load_and_rating_weigh_in_the_cost(worker, community):
    request = ask(worker, community)
    loaded = volunteer(community, "忙", km=0.5, max_open_tasks=2)
    request_assign(actor=worker, request=ask(worker, community), responder=loaded)
    rated = volunteer(community, "好评", km=1.0, rating=5.0)
    candidates = candidates_for(request)
    assert ids(candidates) == [rated.pk, loaded.pk]
    assert candidates[0].reasons["rating"] == 0.0
    assert candidates[1].load == 1
    assert candidates[1].reasons["load"] == pytest.approx(1.0)  # half the cap: 2 km × 1/2


# --- urgent -------------------------------------------------------------------------------


def test_an_urgent_request_goes_at_once_to_the_best_candidate(worker, community):
    request = ask(worker, community, urgency="urgent", service="elderly_emergency")
    volunteer(community, "远", km=2.0, skills=("elderly_care",))
    best = volunteer(community, "近", km=0.3, skills=("elderly_emergency",))
    assigned = dispatch_urgent(request)
    assert assigned is not None
    assert assigned.state == State.ASSIGNED
    assert assigned.responder == best
    assignment = Assignment.objects.get(request=request, ended_at__isnull=True)
    round_ = assignment.round
    assert round_ is not None
    assert round_.method == DispatchRound.Method.URGENT
    assert round_.assigned == 1
    explanation = assignment.explanation
    assert explanation["why"] == "cheapest"
    assert explanation["considered"] == 2
    assert [c["name"] for c in explanation["candidates"]] == ["近", "远"]
    assert explanation["winner"]["responder"] == best.pk
    assert explanation["winner"]["rank"] == 1
    assert "近" in explanation_text(explanation)
    event = request.events.get(action=Action.ASSIGN)
    assert event.actor_label == "dispatch"
    assert event.data["explanation"]["winner"]["responder"] == best.pk


def test_an_urgent_request_goes_to_the_next_best_when_the_best_just_paused(
    worker, community, monkeypatch
):
    request = ask(worker, community, urgency="urgent")
    best = volunteer(community, "近", km=0.1)
    second = volunteer(community, "远", km=1.0)
    read = dispatch.rounds.candidates_for

    def read_then_best_pauses(*args, **kwargs):
        found = read(*args, **kwargs)
        Responder.objects.filter(pk=best.pk).update(status=ResponderStatus.PAUSED)
        return found

    monkeypatch.setattr(dispatch.rounds, "candidates_for", read_then_best_pauses)
    assigned = dispatch_urgent(request)
    assert assigned is not None
    assert assigned.responder == second
    explanation = Assignment.objects.get(request=request).explanation
    assert (explanation["why"], explanation["winner"]["rank"]) == ("better_full", 2)
    assert "远" in explanation_text(explanation)


def test_an_urgent_request_nobody_can_serve_stays_in_the_queue(worker, community):
    request = ask(worker, community, urgency="urgent", service="elderly_emergency")
    volunteer(community, "托育", skills=("childcare",))
    assert dispatch_urgent(request) is None
    request.refresh_from_db()
    assert request.state == State.TRIAGED
    assert not DispatchRound.objects.exists()


# --- rounds -------------------------------------------------------------------------------


@pytest.fixture
def contested(worker, community):
    """Greedy's trap: the first request takes the one responder the second needs.

    `first` (higher priority) is 0.5 km from A and 2 km from B; `second` is 0.5 km
    from A and beyond B's radius. Each takes one task."""
    first = ask(worker, community, km=0.0, urgency="high")
    second = ask(worker, community, km=1.0, urgency="normal")
    a = volunteer(community, "甲", km=0.5, max_open_tasks=1, radius_km=Decimal("1.0"))
    b = volunteer(community, "乙", km=-2.0, max_open_tasks=1, radius_km=Decimal("2.5"))
    return first, second, a, b


def test_a_round_serves_what_greedy_leaves_unserved(contested):
    first, second, a, b = contested
    greedy = round_run(method=DispatchRound.Method.GREEDY, dry_run=True)
    plan = {
        greedy.problem.requests.ids[greedy.problem.pair_q[p]]: greedy.problem.responders.ids[
            greedy.problem.pair_r[p]
        ]
        for p in greedy.plan.pairs
    }
    assert plan == {first.pk: a.pk}
    assert greedy.round.pk is None  # a dry run records nothing
    assert greedy_round(dry_run=True).assigned == 1

    round_ = dispatch_round()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.responder) == (State.ASSIGNED, b)
    assert (second.state, second.responder) == (State.ASSIGNED, a)
    assert round_.method == DispatchRound.Method.OPTIMAL
    assert (round_.requests_considered, round_.responders_considered, round_.assigned) == (2, 2, 2)
    # Priority-weighted: first (priority 40) at 2 km + 0.5 for being unrated, second
    # (priority 20) at 0.5 km + 0.5.
    assert round_.total_cost == pytest.approx(40 * 2.5 + 20 * 1.0, abs=0.5)
    assert round_.seconds > 0
    assert not ServiceRequest.objects.filter(state=State.TRIAGED).exists()


def test_each_assignment_explains_itself(contested):
    first, second, a, b = contested
    round_ = dispatch_round()
    explanation = Assignment.objects.get(request=first).explanation
    assert explanation["method"] == "optimal"
    assert explanation["round"] == round_.pk
    assert explanation["priority"] == first.priority
    assert explanation["considered"] == 2
    assert [c["responder"] for c in explanation["candidates"]] == [a.pk, b.pk]
    assert set(explanation["candidates"][0]) == {
        "responder",
        "name",
        "cost",
        "distance_km",
        "load",
        "rating",
        "reasons",
    }
    assert explanation["candidates"][0]["reasons"]["distance"] == pytest.approx(0.5, abs=0.01)
    assert explanation["winner"]["responder"] == b.pk
    assert explanation["winner"]["rank"] == 2
    assert explanation["why"] == "cheaper_taken"
    assert explanation["taken"] == [
        {"responder": a.pk, "name": "甲", "requests": [second.public_id]}
    ]
    text = explanation_text(explanation)
    assert "乙" in text
    assert "甲" in text
    other = Assignment.objects.get(request=second).explanation
    assert other["why"] == "only"
    assert other["winner"]["responder"] == a.pk


def test_a_request_assigned_meanwhile_is_skipped_and_the_round_goes_on(
    contested, worker, community, monkeypatch
):
    first, second, a, _b = contested
    # A responder the round does not consider for it (another skill), whom the worker picks.
    c = volunteer(community, "丙", skills=("childcare",))
    solve = dispatch.rounds.plan_optimal

    def solve_then_someone_assigns(problem):
        plan = solve(problem)
        # A worker takes `first` on the board between the solve and the writes.
        request_assign(actor=worker, request=first, responder=c)
        return plan

    monkeypatch.setattr(dispatch.rounds, "plan_optimal", solve_then_someone_assigns)
    outcome = round_run()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.responder == c
    assert second.responder == a
    assert outcome.conflicts == 1
    assert outcome.assigned == [(second.pk, a.pk)]
    assert outcome.round.assigned == 1
    assert Assignment.objects.filter(request=first).count() == 1


def test_a_round_respects_each_responders_room(worker, community):
    held = volunteer(community, "有一单", max_open_tasks=3)
    request_assign(actor=worker, request=ask(worker, community, urgency="low"), responder=held)
    low = ask(worker, community, urgency="low")
    normal = ask(worker, community, urgency="normal")
    high = ask(worker, community, urgency="high")
    round_ = dispatch_round()
    assert round_.assigned == 2
    assert set(
        ServiceRequest.objects.filter(
            pk__in=[low.pk, normal.pk, high.pk], state=State.ASSIGNED
        ).values_list("pk", flat=True)
    ) == {normal.pk, high.pk}
    low.refresh_from_db()
    assert low.state == State.TRIAGED
    assert ServiceRequest.objects.filter(responder=held, state=State.ASSIGNED).count() == 3


def test_a_declined_request_goes_to_someone_else_in_the_next_round(worker, community):
    request = ask(worker, community)
    near = volunteer(community, "近", km=0.2)
    far = volunteer(community, "远", km=1.5)
    dispatch_round()
    request.refresh_from_db()
    assert request.responder == near
    request_transition(actor=near.user, request=request, action=Action.DECLINE, reason="没空")
    dispatch_round()
    request.refresh_from_db()
    assert request.responder == far


def test_a_round_stays_in_its_region_and_in_the_actors_communities(worker, community):
    other = region_chain("990102002001", lat=LAT, lon=LON)
    here = ask(worker, community)
    there = request_create(
        actor=None,
        data=RequestInput(service="elderly_meals", community=other, contact_name="王"),
    )
    volunteer(community, "甲", max_open_tasks=5)
    assert dispatch_round(scope_prefix="990102002").assigned == 1
    there.refresh_from_db()
    here.refresh_from_db()
    assert (there.state, here.state) == (State.ASSIGNED, State.TRIAGED)
    # A worker's round reaches their own community only.
    there2 = request_create(
        actor=None, data=RequestInput(service="elderly_meals", community=other, contact_name="赵")
    )
    round_ = dispatch_round(actor=worker)
    assert round_.requests_considered == 1
    assert round_.started_by == worker
    there2.refresh_from_db()
    assert there2.state == State.TRIAGED
    with pytest.raises(ValidationFailed) as refused:
        dispatch_round(scope_prefix="99-01")
    assert "scope_prefix" in refused.value.fields


def test_an_empty_queue_makes_an_empty_round(community):
    round_ = dispatch_round()
    assert (round_.requests_considered, round_.assigned, round_.total_cost) == (0, 0, 0)


def test_the_command_runs_a_round_for_a_community(worker, community):
    ask(worker, community)
    volunteer(community, "甲")
    group = linli_group.commands["requests"]
    assert isinstance(group, click.Group)
    assert group.commands["dispatch"] is dispatch_command
    result = CliRunner().invoke(dispatch_command, ["--community", community.code])
    assert result.exit_code == 0, result.output
    assert "1 assigned" in result.output
    assert DispatchRound.objects.get().assigned == 1
    result = CliRunner().invoke(dispatch_command, ["--community", "990199999999"])
    assert result.exit_code != 0


def test_a_round_with_requests_and_nobody_to_serve_them_assigns_nothing(worker, community):
    request = ask(worker, community)
    round_ = dispatch_round()
    assert (round_.requests_considered, round_.responders_considered, round_.assigned) == (1, 0, 0)
    request.refresh_from_db()
    assert request.state == State.TRIAGED


# --- the solver against a dense reference -------------------------------------------------


def random_problem(seed: int, nq: int = 40, nr: int = 12) -> Problem:
    """A random problem straight as arrays (no database): sparse pairs, mixed capacities."""
    rng = np.random.default_rng(seed)
    cap = rng.integers(1, 4, nr)
    load = np.minimum(rng.integers(0, 2, nr), cap - 1)
    mask = rng.random((nq, nr)) < 0.25
    q, r = np.nonzero(mask)
    distance = rng.uniform(0, 5, len(q))
    rating = rng.uniform(0, 1, nr)
    order = np.lexsort((r, distance, q))
    q, r, distance = q[order], r[order], distance[order]
    none = np.zeros(0, dtype=np.int64)
    requests = RequestTable(
        ids=np.arange(1, nq + 1),
        public_ids=[f"R{i}" for i in range(nq)],
        priority=np.sort(rng.integers(10, 120, nq))[::-1].copy(),
        lat=np.zeros(nq),
        lon=np.zeros(nq),
        term=[None] * nq,
        window_start=np.zeros(nq, dtype=np.int64),
        window_minutes=np.ones(nq, dtype=np.int64),
        declined=set(),
    )
    responders = ResponderTable(
        ids=np.arange(1, nr + 1),
        lat=np.zeros(nr),
        lon=np.zeros(nr),
        radius_km=np.full(nr, 5.0),
        cap=cap,
        load=load,
        rating=np.full(nr, np.nan),
        any_time=np.ones(nr, dtype=bool),
        slot_start=np.zeros((nr, 1), dtype=np.int64),
        slot_end=np.zeros((nr, 1), dtype=np.int64),
        skill_index=none,
        skill_terms=[],
    )
    return Problem(
        requests=requests,
        responders=responders,
        pair_q=q,
        pair_r=r,
        distance_km=distance,
        load_part=LOAD_KM * load[r] / cap[r],
        rating_part=rating[r],
        indptr=np.searchsorted(q, np.arange(nq + 1)),
    )


def dense_optimum(problem: Problem) -> float:
    """The same objective through a dense rectangular linear_sum_assignment."""
    nq, responders = len(problem.requests), problem.responders
    columns = [(r, k) for r in range(len(responders)) for k in range(int(responders.free[r]))]
    big = 1e12
    matrix = np.full((nq, len(columns) + nq), big)
    weight = problem.requests.weight
    for pair in range(len(problem.pair_q)):
        q, r = problem.pair_q[pair], problem.pair_r[pair]
        for c, (rc, k) in enumerate(columns):
            if rc == r:
                cost = problem.cost[pair] + LOAD_KM * k / responders.cap[r]
                matrix[q, c] = weight[q] * cost
    for q in range(nq):
        matrix[q, len(columns) + q] = (
            weight[q] * problem.unserved_cost if problem.servable[q] else 0
        )
    rows, cols = linear_sum_assignment(matrix)
    return float(matrix[rows, cols].sum())


@pytest.mark.parametrize("seed", range(6))
def test_the_sparse_solver_finds_the_dense_optimum_and_greedy_never_beats_it(seed):
    problem = random_problem(seed)
    optimal, greedy = plan_optimal(problem), plan_greedy(problem)
    best = score(problem, optimal)
    assert best.objective == pytest.approx(dense_optimum(problem), rel=1e-9)
    assert best.objective <= score(problem, greedy).objective + 1e-6
    # Within every responder's room, and each request served at most once.
    r = problem.pair_r[optimal.pairs]
    assert (np.bincount(r, minlength=len(problem.responders)) <= problem.responders.free).all()
    assert len(set(problem.pair_q[optimal.pairs].tolist())) == len(optimal)
