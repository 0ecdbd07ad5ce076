"""Dispatch services: candidates for one request, an urgent request at once, and rounds
that give every waiting request its responder in one optimisation.

A round reads (the queue, the responders), computes (`problem`, `solvers`), then
writes each assignment through `services.request_assign`, in its own savepoint:
someone who assigned a request in the meantime wins, and the round skips it.
Each assignment keeps its explanation: the candidates considered with their
cost parts, the winner, and why it won.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed

from ..choices import Action, ResponderStatus
from ..models import Assignment, DispatchRound, Responder, ServiceRequest
from ..services import request_assign
from .problem import (
    LOAD_KM,
    Problem,
    load_responders,
    problem_build,
    queue_rows,
    request_row,
    request_table,
)
from .solvers import Plan, Score, plan_greedy, plan_optimal, score

# Candidates an explanation lists (the winner is added when it ranks lower).
EXPLAIN_TOP = 5
# Assignments written per transaction.
WRITE_BATCH = 200


@dataclass(frozen=True)
class Candidate:
    """A responder who may serve a request, and what giving it to them would cost."""

    responder_id: int
    responder: Responder
    distance_km: float
    load: int  # open tasks now
    rating: float | None
    cost: float  # kilometre-equivalents, lower is better; the sum of `reasons`
    reasons: dict[str, float]


def _parts(problem: Problem, pair: int, slot: int = 0) -> dict[str, float]:
    r = problem.pair_r[pair]
    load = problem.load_part[pair] + LOAD_KM * slot / problem.responders.cap[r]
    return {
        "distance": round(float(problem.distance_km[pair]), 3),
        "load": round(float(load), 3),
        "rating": round(float(problem.rating_part[pair]), 3),
    }


def candidates_for(
    request: ServiceRequest,
    *,
    responders: Any = None,
    now: dt.datetime | None = None,
) -> list[Candidate]:
    """Who may serve `request`, best first: active, with the skill (or a broader one),
    free in the request's window, within their radius of it, under their load cap, not
    among those who declined it, and not already holding it. `responders` narrows the
    field (an iterable of responders or ids)."""
    return candidates_for_many([request], responders=responders, now=now)[request.pk]


def candidates_for_many(
    requests: Iterable[ServiceRequest],
    *,
    responders: Any = None,
    now: dt.datetime | None = None,
) -> dict[int, list[Candidate]]:
    """`candidates_for` of several requests (a page of the board) in one go: the
    responders are read once, and the pairs built together. Keyed by request id."""
    now = now or timezone.now()
    requests = list(requests)
    ids = None if responders is None else [getattr(r, "pk", r) for r in responders]
    declined = Assignment.objects.filter(
        request__in=[r.pk for r in requests], end_reason=Action.DECLINE
    ).values_list("request_id", "responder_id")
    table = request_table([request_row(r) for r in requests], list(declined), now)
    holders = {r.pk: r.responder_id for r in requests if r.responder_id}
    problem = problem_build(table, load_responders(ids), exclude=holders)
    chosen = problem.responders.ids[problem.pair_r].tolist()
    objects = Responder.objects.in_bulk(set(chosen))
    found: dict[int, list[Candidate]] = {r.pk: [] for r in requests}
    for pair, responder_id in enumerate(chosen):
        r = problem.pair_r[pair]
        reasons = _parts(problem, pair)
        rating = problem.responders.rating[r]
        found[int(problem.requests.ids[problem.pair_q[pair]])].append(
            Candidate(
                responder_id=responder_id,
                responder=objects[responder_id],
                distance_km=reasons["distance"],
                load=int(problem.responders.load[r]),
                rating=None if np.isnan(rating) else float(rating),
                cost=round(sum(reasons.values()), 3),
                reasons=reasons,
            )
        )
    return found


# --- explanations -------------------------------------------------------------------------


def _candidate_entry(problem: Problem, pair: int, names: dict[int, str]) -> dict[str, Any]:
    r = problem.pair_r[pair]
    responder_id = int(problem.responders.ids[r])
    rating = problem.responders.rating[r]
    reasons = _parts(problem, pair)
    return {
        "responder": responder_id,
        "name": names.get(responder_id, ""),
        "cost": round(sum(reasons.values()), 3),
        "distance_km": reasons["distance"],
        "load": int(problem.responders.load[r]),
        "rating": None if np.isnan(rating) else float(rating),
        "reasons": reasons,
    }


def explanation_build(
    problem: Problem,
    plan: Plan,
    index: int,
    *,
    names: dict[int, str],
    taken_by: dict[int, list[str]],
    round_id: int | None,
) -> dict[str, Any]:
    """Why plan entry `index` went as it did: the request's candidates (best first, at
    the load before the round), the winner at its load in the round, and the reason."""
    pair, slot = int(plan.pairs[index]), int(plan.slot[index])
    q = int(problem.pair_q[pair])
    low, high = int(problem.indptr[q]), int(problem.indptr[q + 1])
    rank = pair - low + 1
    shown = list(range(low, min(high, low + EXPLAIN_TOP)))
    if pair not in shown:
        shown.append(pair)
    winner = int(problem.responders.ids[problem.pair_r[pair]])
    reasons = _parts(problem, pair, slot)
    if high - low == 1:
        why = "only"
    elif rank == 1:
        why = "cheapest"
    else:
        why = "cheaper_taken"
    # The better-placed candidates, and which requests of this round they went to.
    taken = []
    for better in range(low, pair):
        responder_id = int(problem.responders.ids[problem.pair_r[better]])
        others = [p for p in taken_by.get(responder_id, []) if p != problem.requests.public_ids[q]]
        taken.append(
            {"responder": responder_id, "name": names.get(responder_id, ""), "requests": others}
        )
    return {
        "method": plan.method,
        "round": round_id,
        "priority": int(problem.requests.priority[q]),
        "considered": high - low,
        "candidates": [_candidate_entry(problem, p, names) for p in shown],
        "winner": {
            "responder": winner,
            "name": names.get(winner, ""),
            "rank": rank,
            "cost": round(sum(reasons.values()), 3),
            "load": int(problem.responders.load[problem.pair_r[pair]]) + slot,
            "reasons": reasons,
        },
        "why": why,
        "taken": taken[:EXPLAIN_TOP],
    }


def explanation_text(explanation: dict[str, Any]) -> str:
    """The explanation in a sentence, in the reader's language."""
    winner = explanation.get("winner") or {}
    parts = winner.get("reasons") or {}
    values = {
        "name": winner.get("name") or winner.get("responder", "?"),
        "count": explanation.get("considered", 0),
        "rank": winner.get("rank", 1),
        "km": parts.get("distance", 0),
        "load": winner.get("load", 0),
    }
    why = explanation.get("why")
    if why == "only":
        text = _(
            "%(name)s was the only responder with the skill, free at that time, within "
            "reach and with room for another task (%(km)s km away)."
        )
    elif why == "cheapest":
        text = _(
            "%(name)s was the best of %(count)s candidates: %(km)s km away, "
            "%(load)s open tasks before this one."
        )
    elif why == "better_full":
        text = _(
            "%(name)s (number %(rank)s of %(count)s candidates, %(km)s km away) was chosen "
            "because the better placed ones filled up or paused in the meantime."
        )
    else:
        names = ", ".join(
            str(t.get("name") or t.get("responder")) for t in explanation.get("taken", [])
        )
        values["taken"] = names
        text = _(
            "%(name)s (number %(rank)s of %(count)s candidates, %(km)s km away) was chosen "
            "because the better placed %(taken)s were needed for other requests of the same "
            "round: together, the round's assignments cost the least."
        )
    return text % values


# --- rounds -------------------------------------------------------------------------------


@dataclass
class RoundOutcome:
    """A round and what happened in it, beyond what `DispatchRound` records."""

    round: DispatchRound
    problem: Problem
    plan: Plan
    assigned: list[tuple[int, int]] = field(default_factory=list)  # (request id, responder id)
    conflicts: int = 0  # assigned by someone else meanwhile
    refused: int = 0  # no longer fit (responder paused or full, request moved on)
    write_seconds: float = 0.0

    @property
    def score(self) -> Score:
        return score(self.problem, self.plan)


def _queue(actor: User | None, scope_prefix: str) -> Q:
    if scope_prefix and not (scope_prefix.isdigit() and len(scope_prefix) <= 12):
        raise ValidationFailed(
            fields={"scope_prefix": [_("A region code or the start of one: digits only.")]}
        )
    queue = Q(community__code__startswith=scope_prefix) if scope_prefix else Q()
    if actor is not None:
        queue &= user_scope(actor, roles=RESIDENT_KEEPER_ROLES).q("community__code")
    return queue


def problem_load(
    *, actor: User | None = None, scope_prefix: str = "", now: dt.datetime | None = None
) -> Problem:
    """The waiting requests (in the actor's communities, under the prefix) and every
    active responder with room, as a problem ready for a solver."""
    began = time.perf_counter()
    now = now or timezone.now()
    rows, declined = queue_rows(_queue(actor, scope_prefix))
    requests = request_table(rows, declined, now)
    responders = load_responders()
    loaded = time.perf_counter() - began
    problem = problem_build(requests, responders)
    problem.load_seconds = loaded
    return problem


def _write(outcome: RoundOutcome, actor: User | None, round_: DispatchRound) -> None:
    problem, plan = outcome.problem, outcome.plan
    began = time.perf_counter()
    request_ids = [int(problem.requests.ids[problem.pair_q[p]]) for p in plan.pairs]
    responder_ids = [int(problem.responders.ids[problem.pair_r[p]]) for p in plan.pairs]
    # Only what request_assign needs: it locks and re-reads each row itself.
    requests = ServiceRequest.objects.only("pk", "state", "community_id").in_bulk(request_ids)
    responders = Responder.objects.only("pk", "name").in_bulk(set(responder_ids))
    # Names of every candidate an explanation may list: all active responders, one query.
    names = dict(Responder.objects.filter(status=ResponderStatus.ACTIVE).values_list("pk", "name"))
    taken_by: dict[int, list[str]] = {}
    for p, responder_id in zip(plan.pairs, responder_ids, strict=True):
        taken_by.setdefault(responder_id, []).append(problem.requests.public_ids[problem.pair_q[p]])
    weight = problem.requests.weight
    total = 0.0
    entries = list(enumerate(zip(request_ids, responder_ids, strict=True)))
    # A few hundred assignments per transaction, each in its own savepoint: one commit
    # (one disk flush) per batch rather than per assignment, while a worker assigning
    # on the board waits at most one batch for the rows this round holds.
    for first in range(0, len(entries), WRITE_BATCH):
        with transaction.atomic():
            for index, (request_id, responder_id) in entries[first : first + WRITE_BATCH]:
                explanation = explanation_build(
                    problem, plan, index, names=names, taken_by=taken_by, round_id=round_.pk
                )
                try:
                    # request_assign is atomic itself: inside the batch, its own savepoint,
                    # so a refused assignment undoes only itself.
                    request_assign(
                        actor=actor,
                        request=requests[request_id],
                        responder=responders[responder_id],
                        round=round_,
                        explanation=explanation,
                    )
                except Conflict:
                    outcome.conflicts += 1
                    continue
                except (ValidationFailed, PermissionDenied):
                    outcome.refused += 1
                    continue
                outcome.assigned.append((request_id, responder_id))
                total += float(weight[problem.pair_q[plan.pairs[index]]] * plan.cost[index])
    round_.assigned = len(outcome.assigned)
    round_.total_cost = round(total, 3)
    outcome.write_seconds = time.perf_counter() - began


def round_run(
    *,
    method: str = DispatchRound.Method.OPTIMAL,
    actor: User | None = None,
    scope_prefix: str = "",
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> RoundOutcome:
    """Load, solve and (unless `dry_run`) assign; the round is recorded when it writes."""
    solvers = {DispatchRound.Method.OPTIMAL: plan_optimal, DispatchRound.Method.GREEDY: plan_greedy}
    if method not in solvers:
        raise ValueError(f"A round is {' or '.join(solvers)}, not {method}.")
    began = time.perf_counter()
    problem = problem_load(actor=actor, scope_prefix=scope_prefix, now=now)
    solve = solvers[DispatchRound.Method(method)]
    plan = solve(problem)
    round_ = DispatchRound(
        method=method,
        started_by=actor,
        requests_considered=len(problem.requests),
        responders_considered=len(problem.responders),
    )
    outcome = RoundOutcome(round=round_, problem=problem, plan=plan)
    if dry_run:
        found = outcome.score
        round_.assigned = found.served
        round_.total_cost = round(found.cost, 3)
    else:
        round_.save()
        _write(outcome, actor, round_)
    round_.seconds = round(time.perf_counter() - began, 3)
    if not dry_run:
        round_.save(update_fields=["assigned", "total_cost", "seconds"])
    return outcome


def dispatch_round(
    *, actor: User | None = None, scope_prefix: str = "", now: dt.datetime | None = None
) -> DispatchRound:
    """Give every waiting request (in the region `scope_prefix`, and the actor's
    communities) its responder, solving them all at once at the least priority-weighted
    cost; requests nobody can serve stay in the queue."""
    return round_run(actor=actor, scope_prefix=scope_prefix, now=now).round


def greedy_round(
    *,
    actor: User | None = None,
    scope_prefix: str = "",
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> DispatchRound:
    """The same, one request at a time in priority order, each taking its cheapest
    candidate: only for comparison. `dry_run` assigns nothing and saves no round."""
    return round_run(
        method=DispatchRound.Method.GREEDY,
        actor=actor,
        scope_prefix=scope_prefix,
        now=now,
        dry_run=dry_run,
    ).round


def dispatch_urgent(
    request: ServiceRequest, *, now: dt.datetime | None = None
) -> ServiceRequest | None:
    """Assign an urgent request at once to its best candidate (the next best if the best
    filled up meanwhile); None when nobody qualifies: it stays in the queue, where the
    next round and escalation find it."""
    began = time.perf_counter()
    candidates = candidates_for(request, now=now)
    if not candidates:
        return None
    round_ = DispatchRound.objects.create(
        method=DispatchRound.Method.URGENT,
        requests_considered=1,
        responders_considered=len(candidates),
    )
    shown = candidates[:EXPLAIN_TOP]
    weight = max(request.priority, 1)
    result = None
    for rank, candidate in enumerate(candidates, start=1):
        explanation = {
            "method": DispatchRound.Method.URGENT,
            "round": round_.pk,
            "priority": request.priority,
            "considered": len(candidates),
            "candidates": [_entry(c) for c in shown + ([candidate] if rank > EXPLAIN_TOP else [])],
            "winner": {**_entry(candidate), "rank": rank},
            "why": "only" if len(candidates) == 1 else "cheapest" if rank == 1 else "better_full",
            "taken": [],
        }
        try:
            with transaction.atomic():
                result = request_assign(
                    actor=None,
                    request=request,
                    responder=candidate.responder,
                    round=round_,
                    explanation=explanation,
                )
        except ValidationFailed:  # paused or filled up since it was read: the next one
            continue
        round_.assigned, round_.total_cost = 1, round(weight * candidate.cost, 3)
        break
    round_.seconds = round(time.perf_counter() - began, 3)
    round_.save(update_fields=["assigned", "total_cost", "seconds"])
    return result


def _entry(candidate: Candidate) -> dict[str, Any]:
    return {
        "responder": candidate.responder_id,
        "name": candidate.responder.name,
        "cost": candidate.cost,
        "distance_km": candidate.distance_km,
        "load": candidate.load,
        "rating": candidate.rating,
        "reasons": candidate.reasons,
    }
