"""The dispatch problem as arrays: which responder may serve which request, at what cost.

Everything here is numpy over all (request, responder) pairs at once, built in
blocks of requests so that 10,000 requests × 2,000 responders never hold more
than a block's worth of floats: distances first (vectorised great-circle), then
the radius, the skill mask (a responder's skills cover a term's descendants),
decliners, and the weekly availability against the request's window. Only the
pairs that pass every test are kept; the solvers see a sparse problem.

Costs are in kilometre-equivalents so that the three parts can be added:
the distance itself, the responder's load (a full load weighs like LOAD_KM more
kilometres) and their rating (the worst rating weighs like RATING_KM more).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone

from linli.directory.models import TaxonomyTerm

from ..choices import HELD_STATES, Action, ResponderStatus, State
from ..models import Assignment, Responder, ServiceRequest

WEEK_MINUTES = 7 * 24 * 60
EARTH_KM = 6371.0
# A responder at their full load weighs like this many more kilometres of travel.
LOAD_KM = 2.0
# The worst rating (1 of 5) weighs like this many more kilometres; the best nothing.
RATING_KM = 1.0
RATING_BEST, RATING_WORST = 5.0, 1.0
# A newcomer without ratings counts as the middle of the scale: neither favoured nor shunned.
NEUTRAL_RATING = 3.0
# A request whose window and due time are both past still needs someone: the next day.
FALLBACK_WINDOW = dt.timedelta(days=1)
# Requests per block: a block holds BLOCK × responders floats a few times over.
BLOCK = 500


@dataclass
class ResponderTable:
    """Active responders with room for one more task and a place on the map, by index."""

    ids: np.ndarray  # int64
    lat: np.ndarray  # radians
    lon: np.ndarray  # radians
    radius_km: np.ndarray
    cap: np.ndarray  # int64: most open tasks at once
    load: np.ndarray  # int64: open tasks now
    rating: np.ndarray  # nan when unrated
    any_time: np.ndarray  # bool: no weekly availability given
    slot_start: np.ndarray  # int64 (R, K): minute of the week, local time; padding 0
    slot_end: np.ndarray  # int64 (R, K): may pass the week's end (Sunday night); padding 0
    skill_index: np.ndarray  # int64: responder index of each (responder, skill) link
    skill_terms: list[Any]  # the term id of each link

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def free(self) -> np.ndarray:
        return self.cap - self.load


@dataclass
class RequestTable:
    """Requests in dispatch order (priority, then due time, then age), by index."""

    ids: np.ndarray  # int64
    public_ids: list[str]
    priority: np.ndarray  # int64
    lat: np.ndarray  # radians; nan when the request has no place
    lon: np.ndarray
    term: list[Any]  # service term id per request
    window_start: np.ndarray  # int64: minute of the week, local time
    window_minutes: np.ndarray  # int64
    declined: set[tuple[int, int]]  # (request id, responder id)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def weight(self) -> np.ndarray:
        """What one unit of cost counts for this request: its priority (at least 1)."""
        return np.maximum(self.priority, 1).astype(np.float64)


@dataclass
class Problem:
    """Every eligible (request, responder) pair with its distance and cost parts.

    Pairs are sorted by request, then cost, then responder index: `indptr[q]` to
    `indptr[q + 1]` are request q's candidates, best first."""

    requests: RequestTable
    responders: ResponderTable
    pair_q: np.ndarray  # int64
    pair_r: np.ndarray  # int64
    distance_km: np.ndarray
    load_part: np.ndarray  # at the responder's load before this round
    rating_part: np.ndarray
    indptr: np.ndarray
    load_seconds: float = 0.0
    build_seconds: float = 0.0

    @property
    def cost(self) -> np.ndarray:
        """Each pair's cost at the responder's load before this round."""
        return self.distance_km + self.load_part + self.rating_part

    def slot_cost(self, pairs: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """The cost of pairs when the responder already took `slot` tasks in this round."""
        r = self.pair_r[pairs]
        return self.cost[pairs] + LOAD_KM * slot / self.responders.cap[r]

    @property
    def unserved_cost(self) -> float:
        """What leaving a request unserved costs per unit of priority.

        More than any assignment's cost times the highest priority, so that (a) the
        solver never leaves a servable request to save kilometres, and (b) when two
        requests contend for the last place, the one with the higher priority wins:
        p1 (U - c1) > p2 (U - c2) whenever p1 > p2 and U > (p2 + 1) · max c."""
        top = float(self.cost.max()) + LOAD_KM if len(self.pair_q) else 1.0
        return (float(self.requests.weight.max(initial=1.0)) + 1.0) * (top + 1.0)

    @property
    def servable(self) -> np.ndarray:
        """Requests with at least one candidate."""
        return np.diff(self.indptr) > 0


# --- loading ------------------------------------------------------------------------------


def _radians(values: Sequence[float | None]) -> np.ndarray:
    return np.radians(np.array([np.nan if v is None else v for v in values], dtype=np.float64))


def _minutes(text: Any) -> int | None:
    """'HH:MM' as minutes after midnight (24:00 allowed), or None if malformed."""
    try:
        hours, minutes = str(text).split(":")
        value = int(hours) * 60 + int(minutes)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= 24 * 60 and 0 <= int(minutes) < 60 else None


def weekly_slots(availability: Any) -> list[tuple[int, int]] | None:
    """[(start, end)] in minutes of the week (Monday 00:00 is 0); None means any time.

    A slot ending at or before its start runs past midnight. Malformed entries are
    skipped: a responder is never sent at an hour they did not declare."""
    if not availability:
        return None
    slots = []
    for entry in availability if isinstance(availability, list) else []:
        if not isinstance(entry, dict):
            continue
        day, start, end = entry.get("day"), _minutes(entry.get("start")), _minutes(entry.get("end"))
        if not isinstance(day, int) or not 0 <= day <= 6 or start is None or end is None:
            continue
        if end <= start:
            end += 24 * 60
        slots.append((day * 24 * 60 + start, day * 24 * 60 + end))
    return slots


def _responder_table(
    rows: list[tuple[Any, ...]], loads: dict[int, int], skills: dict[int, list[Any]]
) -> ResponderTable:
    kept = []
    for row in rows:
        rid, lat, lon, region_lat, region_lon, radius, cap, rating, availability = row
        # Without a home point, the centre of the home region stands in.
        lat, lon = (lat, lon) if lat is not None and lon is not None else (region_lat, region_lon)
        if lat is None or lon is None or loads.get(rid, 0) >= cap:
            continue
        kept.append((rid, lat, lon, float(radius), cap, rating, weekly_slots(availability)))
    width = max((len(k[6] or ()) for k in kept), default=0) or 1
    start = np.zeros((len(kept), width), dtype=np.int64)
    end = np.zeros((len(kept), width), dtype=np.int64)
    for i, k in enumerate(kept):
        for j, (a, b) in enumerate(k[6] or ()):
            start[i, j], end[i, j] = a, b
    return ResponderTable(
        ids=np.array([k[0] for k in kept], dtype=np.int64),
        lat=_radians([k[1] for k in kept]),
        lon=_radians([k[2] for k in kept]),
        radius_km=np.array([k[3] for k in kept], dtype=np.float64),
        cap=np.array([k[4] for k in kept], dtype=np.int64),
        load=np.array([loads.get(k[0], 0) for k in kept], dtype=np.int64),
        rating=np.array([np.nan if k[5] is None else k[5] for k in kept], dtype=np.float64),
        any_time=np.array([k[6] is None for k in kept], dtype=bool),
        slot_start=start,
        slot_end=end,
        skill_index=np.array(
            [i for i, k in enumerate(kept) for _term in skills.get(k[0], ())], dtype=np.int64
        ),
        skill_terms=[term for k in kept for term in skills.get(k[0], ())],
    )


def load_responders(ids: Iterable[int] | None = None) -> ResponderTable:
    """Active responders (all, or those of `ids`) with their load, skills and hours."""
    responders = Responder.objects.filter(status=ResponderStatus.ACTIVE)
    held = ServiceRequest.objects.filter(state__in=HELD_STATES, responder__isnull=False)
    links = Responder.skills.through.objects.filter(responder__status=ResponderStatus.ACTIVE)
    if ids is not None:
        ids = list(ids)
        responders = responders.filter(pk__in=ids)
        held = held.filter(responder_id__in=ids)
        links = links.filter(responder_id__in=ids)
    rows = list(
        responders.order_by("pk").values_list(
            "pk",
            "latitude",
            "longitude",
            "region__lat",
            "region__lon",
            "radius_km",
            "max_open_tasks",
            "rating",
            "availability",
        )
    )
    loads = dict(
        held.order_by()
        .values("responder_id")
        .annotate(n=Count("pk"))
        .values_list("responder_id", "n")
    )
    skills: dict[int, list[Any]] = {}
    for responder_id, term_id in links.values_list("responder_id", "taxonomyterm_id"):
        skills.setdefault(responder_id, []).append(term_id)
    return _responder_table(rows, loads, skills)


def _window(
    start: dt.datetime | None, end: dt.datetime | None, due: dt.datetime | None, now: dt.datetime
) -> tuple[int, int]:
    """(minute of the week, length in minutes) of what is left of a request's window.

    No window means from now until it is due; a window already past means the next day."""
    begin = max(start or now, now)
    finish = end or due
    if finish is None or finish <= begin:
        finish = begin + FALLBACK_WINDOW
    local = timezone.localtime(begin)
    minute = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
    floor = local.replace(second=0, microsecond=0)
    length = max(1, math.ceil((finish - floor).total_seconds() / 60))
    return minute, length


REQUEST_FIELDS = (
    "pk",
    "public_id",
    "priority",
    "service_id",
    "latitude",
    "longitude",
    "community__lat",
    "community__lon",
    "window_start",
    "window_end",
    "due_at",
)


def request_row(request: ServiceRequest) -> tuple[Any, ...]:
    """One request as `REQUEST_FIELDS` from the object itself (no query but its community)."""
    community = request.community
    return (
        request.pk,
        request.public_id,
        request.priority,
        request.service_id,
        request.latitude,
        request.longitude,
        community.lat,
        community.lon,
        request.window_start,
        request.window_end,
        request.due_at,
    )


def request_table(
    rows: list[tuple[Any, ...]], declined: Iterable[tuple[int, int]], now: dt.datetime
) -> RequestTable:
    """Requests from `REQUEST_FIELDS` rows, in the order given."""
    windows = [_window(row[8], row[9], row[10], now) for row in rows]
    # A request without its own point is served at its community's centre.
    points = [(r[4], r[5]) if r[4] is not None and r[5] is not None else (r[6], r[7]) for r in rows]
    return RequestTable(
        ids=np.array([row[0] for row in rows], dtype=np.int64),
        public_ids=[row[1] for row in rows],
        priority=np.array([row[2] for row in rows], dtype=np.int64),
        lat=_radians([p[0] for p in points]),
        lon=_radians([p[1] for p in points]),
        term=[row[3] for row in rows],
        window_start=np.array([w[0] for w in windows], dtype=np.int64),
        window_minutes=np.array([w[1] for w in windows], dtype=np.int64),
        declined=set(declined),
    )


def queue_rows(queue: Q) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """The triaged requests matching `queue`, most pressing first, and their decliners."""
    requests = ServiceRequest.objects.filter(queue, state=State.TRIAGED)
    rows = list(requests.order_by("-priority", "due_at", "pk").values_list(*REQUEST_FIELDS))
    declined = Assignment.objects.filter(
        end_reason=Action.DECLINE, request__in=requests.values("pk")
    ).values_list("request_id", "responder_id")
    return rows, list(declined)


# --- building the pairs -------------------------------------------------------------------


def _coverage(terms: list[Any], responders: ResponderTable) -> tuple[np.ndarray, np.ndarray]:
    """(covers, term index per request): covers[r, u] is whether responder r has the
    u-th distinct service term of the requests, or one of its ancestors."""
    distinct = list(dict.fromkeys(terms))
    index = {term: u for u, term in enumerate(distinct)}
    parents = dict(TaxonomyTerm.objects.values_list("pk", "parent_id"))
    skill_ids = list(dict.fromkeys(responders.skill_terms))
    skill_index = {term: s for s, term in enumerate(skill_ids)}
    # has[r, s]: responder r has skill s. within[s, u]: skill s is term u or an ancestor.
    has = np.zeros((len(responders), len(skill_ids)), dtype=np.int32)
    columns = np.array([skill_index[t] for t in responders.skill_terms], dtype=np.int64)
    has[responders.skill_index, columns] = 1
    within = np.zeros((len(skill_ids), len(distinct)), dtype=np.int32)
    for u, term in enumerate(distinct):
        node, seen = term, set()
        while node is not None and node not in seen:
            seen.add(node)
            if node in skill_index:
                within[skill_index[node], u] = 1
            node = parents.get(node)
    covers = (has @ within) > 0
    return covers, np.array([index[t] for t in terms], dtype=np.int64)


def _km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km, broadcast over arrays of radians."""
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def available(
    responders: ResponderTable, r: np.ndarray, start: np.ndarray, minutes: np.ndarray
) -> np.ndarray:
    """Whether responder r has a weekly slot overlapping the window starting at minute
    `start` of the week and lasting `minutes`, for each pair (exact to the minute)."""
    ok = responders.any_time[r] | (minutes >= WEEK_MINUTES)
    need = np.flatnonzero(~ok)
    for chunk in np.array_split(need, max(1, len(need) // 200_000)):
        if not len(chunk):
            continue
        s = start[chunk, None]
        e = s + minutes[chunk, None]
        a = responders.slot_start[r[chunk]]
        b = responders.slot_end[r[chunk]]
        real = b > a
        # A window or a slot may run past Sunday midnight: compare the slot a week
        # either side as well.
        hit = np.zeros(a.shape, dtype=bool)
        for shift in (-WEEK_MINUTES, 0, WEEK_MINUTES):
            hit |= (a + shift < e) & (s < b + shift)
        ok[chunk] = (hit & real).any(axis=1)
    return ok


def problem_build(
    requests: RequestTable, responders: ResponderTable, *, exclude: dict[int, int] | None = None
) -> Problem:
    """Every eligible pair, with its cost parts. `exclude` maps a request id to a responder
    it may not go to (the one already holding it)."""
    began = time.perf_counter()
    nq, nr = len(requests), len(responders)
    covers, term_index = _coverage(requests.term, responders)
    # Pairs passed over (decliners, the current holder) as codes q · R + r of indices.
    request_at = {int(i): q for q, i in enumerate(requests.ids)}
    responder_at = {int(i): r for r, i in enumerate(responders.ids)}
    declined_codes = np.array(
        sorted(
            request_at[q] * nr + responder_at[r]
            for q, r in requests.declined | set((exclude or {}).items())
            if q in request_at and r in responder_at
        ),
        dtype=np.int64,
    )
    found_q, found_r, found_d = [], [], []
    for first in range(0, nq, BLOCK):
        block = slice(first, min(first + BLOCK, nq))
        distance = _km(
            requests.lat[block, None],
            requests.lon[block, None],
            responders.lat[None, :],
            responders.lon[None, :],
        )
        # nan (a request with no place) compares False: no candidates.
        ok = distance <= responders.radius_km[None, :]
        ok &= covers[:, term_index[block]].T
        q, r = np.nonzero(ok)
        d = distance[q, r]
        q += first
        if len(declined_codes):
            codes = q * nr + r
            keep = ~np.isin(codes, declined_codes)
            q, r, d = q[keep], r[keep], d[keep]
        keep = available(responders, r, requests.window_start[q], requests.window_minutes[q])
        found_q.append(q[keep])
        found_r.append(r[keep])
        found_d.append(d[keep])
    pair_q = np.concatenate(found_q) if found_q else np.zeros(0, dtype=np.int64)
    pair_r = np.concatenate(found_r) if found_r else np.zeros(0, dtype=np.int64)
    distance_km = np.concatenate(found_d) if found_d else np.zeros(0, dtype=np.float64)
    load_part = LOAD_KM * responders.load[pair_r] / responders.cap[pair_r]
    rating = np.clip(
        np.where(np.isnan(responders.rating), NEUTRAL_RATING, responders.rating),
        RATING_WORST,
        RATING_BEST,
    )
    rating_part = (RATING_KM * (RATING_BEST - rating) / (RATING_BEST - RATING_WORST))[pair_r]
    cost = distance_km + load_part + rating_part
    # Ties go to the lower responder index (the older responder): deterministic.
    order = np.lexsort((pair_r, cost, pair_q))
    pair_q, pair_r = pair_q[order], pair_r[order]
    return Problem(
        requests=requests,
        responders=responders,
        pair_q=pair_q,
        pair_r=pair_r,
        distance_km=distance_km[order],
        load_part=load_part[order],
        rating_part=rating_part[order],
        indptr=np.searchsorted(pair_q, np.arange(nq + 1)),
        build_seconds=time.perf_counter() - began,
    )
