"""Accessibility runs: how far each community's people walk to a kind of facility.

For a region, a facility kind and a date, a run computes per community:

- the population and how many people live within 300 m, 500 m, 1,000 m and the
  15-minute walk (15 × 60 s × LINLI_PLANNING_WALK_SPEED_M_S, 1,080 m at 1.2 m/s) of the
  nearest facility of the kind open that day (engine ``coverage_shares``);
- the same for each priority group (the residents app's tallies; e.g. older people living
  alone beyond 1 km of a health station = count − covered within 1,000 m);
- E2SFCA (engine ``e2sfca_pairs``): each facility's supply ratio R_j = S_j / Σ P_i W(d_ij)
  over the people within the catchment, and each point's A_i = Σ R_j W(d_ij); per
  community the population-weighted mean and the lowest point, per 1,000 residents;

with network distances where the region has a stored network and the straight line ×
LINLI_PLANNING_DETOUR_FACTOR where it has none (``distance_method`` says which; the page
warns). Results are stored as compact JSON (see :func:`merge` for the layout).

The work is split by county (:func:`partitions`, :func:`compute_partition`): a county's
network, people and facilities are computed apart and the parts merged. A run is one
`planning.accessibility_part` task per county (linli/core/tasks.py): on Celery workers
when a broker is configured, so a province runs on as many workers as it has; in the
embedded default here, in-process, one county after the other. Each county's result is
an AccessibilityPart row; the last one to finish merges them into the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.selectors import user_scope
from linli.core import tasks
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.directory.choices import FacilityKind
from linli.regions import codes
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from . import networks
from .engine.coverage import coverage_shares
from .engine.e2sfca import StepDecay, e2sfca_pairs, no_decay
from .engine.nearest import walk_distance
from .engine.network import NetworkError
from .models import AccessibilityPart, AccessibilityRun, DistanceMethod, RunStatus

log = logging.getLogger(__name__)

# Who may start a run: officials over the region (a run is a few seconds of a shared
# machine's time and its result is seen by everyone watching the area).
RUN_ROLES = (
    Role.STREET_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.CITY_OFFICIAL,
    Role.SYSTEM_ADMIN,
)
# The plan's life-circle distances, before the walk (added from the walking speed).
DISTANCES_M = (300.0, 500.0, 1000.0)
WALK_MINUTES = 15.0
DECAYS = ("gaussian_zones", "none")
# Kinds that are not places people walk to.
NOT_ANALYSED = {FacilityKind.OTHER.value, FacilityKind.SELF_SERVICE_TERMINAL.value}
# E2SFCA ratios are capacity per person; shown per 1,000 residents.
PER_RESIDENTS = 1000.0


def kinds() -> list[str]:
    return [k for k in FacilityKind.values if k not in NOT_ANALYSED]


@dataclass(frozen=True)
class Parameters:
    """What a run measures with; stored with the run."""

    thresholds: tuple[float, ...]
    walk_minutes: float
    speed_m_s: float
    catchment_m: float
    decay: str
    detour_factor: float

    @property
    def walk_m(self) -> float:
        return self.thresholds[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "thresholds_m": list(self.thresholds),
            "walk_minutes": self.walk_minutes,
            "speed_m_s": self.speed_m_s,
            "catchment_m": self.catchment_m,
            "decay": self.decay,
            "detour_factor": self.detour_factor,
            "capacity": "Location.capacity; unknown: median of the known ones, else 1",
        }

    def decay_function(self) -> Any:
        if self.decay == "none":
            return no_decay
        return StepDecay.gaussian_zones(self.catchment_m)


def parameters(
    *,
    speed_m_s: float | None = None,
    catchment_m: float | None = None,
    decay: str = "gaussian_zones",
) -> Parameters:
    """The run's parameters, from the settings unless given; ValidationFailed names the
    field of any that is out of range."""
    errors: dict[str, list[str]] = {}
    speed = networks.walk_speed() if speed_m_s is None else speed_m_s
    if not (isinstance(speed, int | float) and math.isfinite(speed) and 0.3 <= speed <= 3.0):
        errors["speed"] = [_("A walking speed is between 0.3 and 3 metres a second.")]
        speed = networks.walk_speed()
    walk = walk_distance(WALK_MINUTES, float(speed))
    catchment = walk if catchment_m is None else catchment_m
    if not (
        isinstance(catchment, int | float)
        and math.isfinite(catchment)
        and 50 <= catchment <= 20_000
    ):
        errors["catchment"] = [_("A catchment is between 50 and 20,000 metres.")]
    if decay not in DECAYS:
        errors["decay"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(DECAYS)}]
    if errors:
        raise ValidationFailed(fields=errors)
    return Parameters(
        thresholds=(*DISTANCES_M, round(walk, 1)),
        walk_minutes=WALK_MINUTES,
        speed_m_s=float(speed),
        catchment_m=float(catchment),
        decay=decay,
        detour_factor=networks.detour_factor(),
    )


def check_kind(kind: str | None) -> str:
    if kind not in kinds():
        raise ValidationFailed(
            fields={
                "kind": [
                    _("Unknown facility kind %(kind)s: choose one of %(choices)s.")
                    % {"kind": kind or "", "choices": ", ".join(kinds())}
                ]
            }
        )
    return str(kind)


def check_day(day: dt.date | str | None) -> dt.date:
    """A date (or YYYY-MM-DD text; today when empty) that is not in the future."""
    if isinstance(day, dt.date):
        value = day
    elif not day:
        value = timezone.localdate()
    else:
        try:
            value = dt.date.fromisoformat(str(day).strip())
        except ValueError:
            raise ValidationFailed(
                fields={"date": [_("Not a date: write it as YYYY-MM-DD, for example 2025-12-31.")]}
            ) from None
    if value > timezone.localdate():
        raise ValidationFailed(
            fields={"date": [_("A run looks at facilities that exist: not a date in the future.")]}
        )
    return value


def may_run(actor: Any, region: Region) -> bool:
    return actor is None or user_scope(actor, roles=RUN_ROLES).covers(region.code)


def partitions(region: Region) -> list[Region]:
    """The counties of a region above county level (those with communities), else the
    region itself: the unit of work, one network each."""
    if codes.LEVELS_BY_DEPTH.index(RegionLevel(region.level)) >= 2:
        return [region]
    counties = list(
        Region.objects.filter(
            code__startswith=networks.region_prefix(region), level=RegionLevel.COUNTY
        ).order_by("code")
    )
    return counties or [region]


# --- one partition ---------------------------------------------------------------------------


def compute_partition(
    region: Region, kind: str, day: dt.date, params: Parameters
) -> dict[str, Any]:
    """Accessibility of one county (or smaller region): no writes, plain JSON out."""
    people = networks.demand_points(region, day)
    places = networks.facility_points(region, kind, day, margin_m=max(params.catchment_m, 1500.0))
    measure = networks.distances_for(region.code)
    nearest = measure.nearest(
        people.lon, people.lat, places.lon, places.lat, limit=max(params.thresholds)
    )
    n = len(people.communities)
    cover = coverage_shares(
        nearest.distance,
        people.weight,
        people.community,
        n_regions=n,
        thresholds=params.thresholds,
    )
    pairs = measure.pairs(
        people.lon, people.lat, places.lon, places.lat, max_distance=params.catchment_m
    )
    fca = e2sfca_pairs(
        pairs,
        supply=places.capacity,
        demand=people.weight,
        max_distance=params.catchment_m,
        decay=params.decay_function(),
    )
    weight_sum = np.bincount(people.community, weights=people.weight, minlength=n)
    access_sum = np.bincount(people.community, weights=people.weight * fca.access, minlength=n)
    access_min = np.full(n, np.inf)
    np.minimum.at(access_min, people.community, fca.access)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cover.population > 0, cover.covered.T / cover.population, 0.0).T
        mean = np.where(weight_sum > 0, access_sum / np.where(weight_sum > 0, weight_sum, 1), 0.0)
    counts = np.bincount(people.community, minlength=n)

    communities = []
    for i, community in enumerate(people.communities):
        groups = {}
        for g, values in people.groups.items():
            count = float(values[i])
            groups[g] = [count, *(round(count * float(s), 1) for s in share[i])]
        communities.append(
            {
                "code": community.code,
                "name": community.name,
                "name_en": community.name_en,
                "parent": community.parent_id,
                "population": round(float(cover.population[i]), 1),
                "covered": [round(float(c), 1) for c in cover.covered[i]],
                "groups": groups,
                "e2sfca_mean": round(float(mean[i]) * PER_RESIDENTS, 4),
                "e2sfca_min": round(float(access_min[i]) * PER_RESIDENTS, 4)
                if np.isfinite(access_min[i])
                else None,
                "points": int(counts[i]),
            }
        )
    facilities = [
        {
            "id": places.ids[j],
            "name": places.names[j],
            "lon": round(float(places.lon[j]), 6),
            "lat": round(float(places.lat[j]), 6),
            "region": places.region_codes[j],
            "capacity": float(places.capacity[j]),
            "catchment_population": round(float(fca.catchment_demand[j]), 1),
            "ratio": None
            if not np.isfinite(fca.ratio[j])
            else round(float(fca.ratio[j]) * PER_RESIDENTS, 4),
        }
        for j in range(len(places.ids))
    ]
    record = measure.info.record
    return {
        "region": region.code,
        "distance_method": measure.method,
        "network": record.pk if record else None,
        "network_region": record.region_id if record else None,
        "network_built_at": record.built_at.isoformat() if record else None,
        "network_problem": measure.info.problem,
        "communities": communities,
        "facilities": facilities,
        "capacity_known": places.capacity_known,
        "facilities_changed_at": places.last_modified.isoformat() if places.last_modified else None,
        "unlocated": people.unlocated,
        "unlocated_population": people.unlocated_population,
        **networks.inputs_changed(region),
    }


def _latest(values: list[str | None]) -> str | None:
    return max((v for v in values if v), default=None)


def merge(parts: list[dict[str, Any]], params: Parameters) -> dict[str, Any]:
    """The parts of a run as one result.

    Layout: ``thresholds`` (metres; the last is the walk), ``groups`` (codes);
    ``communities``: [{code, name, parent, population, covered[t], groups{g: [count,
    covered[t]...]}, e2sfca_mean, e2sfca_min, points}]; ``streets``: the same counts added
    up per parent region; ``facilities``: [{id, name, lon, lat, region, capacity,
    catchment_population, ratio}] (a facility serving two counties appears once, with
    its first county's figures); ``totals``; ``partitions`` (per county: distance
    method, network, problem); ``unlocated`` communities and their population.
    """
    communities = [c for p in parts for c in p["communities"]]
    seen: set[str] = set()
    facilities = []
    for p in parts:
        for f in p["facilities"]:
            if f["id"] not in seen:
                seen.add(f["id"])
                facilities.append(f)
    t = len(params.thresholds)
    group_codes = list(networks.GROUP_CODES)

    def add_up(rows: list[dict[str, Any]]) -> dict[str, Any]:
        population = sum(r["population"] for r in rows)
        covered = [round(sum(r["covered"][k] for r in rows), 1) for k in range(t)]
        groups = {
            g: [round(sum(r["groups"][g][k] for r in rows), 1) for k in range(t + 1)]
            for g in group_codes
        }
        weighted = sum(r["e2sfca_mean"] * r["population"] for r in rows)
        return {
            "population": round(population, 1),
            "covered": covered,
            "groups": groups,
            "e2sfca_mean": round(weighted / population, 4) if population else 0.0,
        }

    by_parent: dict[str, list[dict[str, Any]]] = {}
    for c in communities:
        by_parent.setdefault(c["parent"] or "", []).append(c)
    parents = {r.code: r for r in Region.objects.filter(code__in=list(by_parent))}
    streets = [
        {
            "code": code,
            "name": parents[code].name if code in parents else code,
            **add_up(rows),
        }
        for code, rows in sorted(by_parent.items())
    ]
    return {
        "thresholds": list(params.thresholds),
        "groups": group_codes,
        "communities": communities,
        "streets": streets,
        "facilities": facilities,
        "totals": add_up(communities),
        "partitions": [
            {
                k: p[k]
                for k in (
                    "region",
                    "distance_method",
                    "network",
                    "network_region",
                    "network_built_at",
                    "network_problem",
                )
            }
            for p in parts
        ],
        "unlocated": [code for p in parts for code in p["unlocated"]],
        "unlocated_population": sum(p["unlocated_population"] for p in parts),
        "capacity_known": sum(p["capacity_known"] for p in parts),
    }


def inputs_of(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "network_built_at": _latest([p["network_built_at"] for p in parts]),
        "facilities_changed_at": _latest([p["facilities_changed_at"] for p in parts]),
        "residents_changed_at": _latest([p["residents_changed_at"] for p in parts]),
        "regions_changed_at": _latest([p["regions_changed_at"] for p in parts]),
    }


# --- the services -----------------------------------------------------------------------------


def _prepare(
    actor: Any, region_code: str, kind: str, day: dt.date | str | None
) -> tuple[Region, str, dt.date]:
    """Check every input (reporting all bad fields at once), then the permission."""
    errors: dict[str, list[str]] = {}
    region: Region | None = None
    checked_kind = ""
    checked_day: dt.date | None = None
    try:
        region = networks.resolve_region(region_code)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        checked_kind = check_kind(kind)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        checked_day = check_day(day)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors or region is None or checked_day is None:
        raise ValidationFailed(fields=errors)
    if not may_run(actor, region):
        raise PermissionDenied(
            _("Only officials over %(region)s may start an accessibility run there.")
            % {"region": region.display_name},
            fields={"region": [_("Outside the area where you may start runs.")]},
        )
    return region, checked_kind, checked_day


def accessibility_compute(
    region: Region, kind: str, day: dt.date, params: Parameters
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Results and inputs' dates of a region, county by county (no writes)."""
    parts = [compute_partition(part, kind, day, params) for part in partitions(region)]
    return merge(parts, params), inputs_of(parts)


# A county's share of a run, as a background task (linli/planning/tasks.py registers it).
PART_TASK = "planning.accessibility_part"

Progress = Callable[[Region], None]


def parameters_of(run: AccessibilityRun) -> Parameters:
    """The parameters a run was started with (its stored `parameters`)."""
    stored = run.parameters
    return Parameters(
        thresholds=tuple(float(t) for t in stored["thresholds_m"]),
        walk_minutes=float(stored["walk_minutes"]),
        speed_m_s=float(stored["speed_m_s"]),
        catchment_m=float(stored["catchment_m"]),
        decay=str(stored["decay"]),
        detour_factor=float(stored["detour_factor"]),
    )


def _fail(run_id: int, error: str) -> None:
    AccessibilityRun.objects.filter(pk=run_id).exclude(status=RunStatus.DONE).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now()
    )


def accessibility_part_compute(run_id: int, region_code: str) -> AccessibilityPart | None:
    """Compute one county of a run and store it; when it is the last one, complete the run.

    Idempotent: the county's row is replaced, the run's progress is counted from the rows
    (never incremented) and a complete run is merged again from the same rows, so a task
    delivered twice leaves the same records. A run that has failed is not continued.
    """
    run = AccessibilityRun.objects.filter(pk=run_id).first()
    region = Region.objects.filter(code=region_code).first()
    if run is None or region is None or run.status == RunStatus.FAILED:
        log.info("accessibility part %s/%s skipped: run gone or failed", run_id, region_code)
        return None
    params = parameters_of(run)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        result = compute_partition(region, run.kind, run.as_of, params)
    except NetworkError as exc:
        log.warning("accessibility run %s, county %s failed: %s", run_id, region_code, exc)
        AccessibilityPart.objects.update_or_create(
            run=run,
            region=region,
            defaults={"status": RunStatus.FAILED, "error": str(exc), "results": None},
        )
        _fail(run_id, str(exc))
        return None
    except BaseException:
        _fail(run_id, _("The run stopped on an unexpected error; see the server log."))
        raise
    part, _created = AccessibilityPart.objects.update_or_create(
        run=run,
        region=region,
        defaults={
            "status": RunStatus.DONE,
            "results": result,
            "error": "",
            "seconds": round(time.perf_counter() - wall, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "finished_at": timezone.now(),
        },
    )
    _complete(run_id, params)
    return part


@transaction.atomic
def _complete(run_id: int, params: Parameters) -> None:
    """Count the parts done; when all are, merge them into the run. The run's row is
    locked so that two workers finishing their counties at once merge only once each,
    one after the other, from the same rows."""
    run = AccessibilityRun.objects.select_for_update().get(pk=run_id)
    if run.status == RunStatus.FAILED:
        return
    done = list(
        AccessibilityPart.objects.filter(run_id=run_id, status=RunStatus.DONE).order_by("region_id")
    )
    run.partitions_done = len(done)
    if len(done) < run.partitions_total:
        run.save(update_fields=["partitions_done"])
        return
    parts = [p.results for p in done if p.results is not None]
    results = merge(parts, params)
    methods = {p["distance_method"] for p in results["partitions"]}
    network_ids = {p["network"] for p in results["partitions"] if p["network"]}
    totals = results["totals"]
    run.results = results
    run.inputs = inputs_of(parts)
    run.distance_method = (
        DistanceMethod.NETWORK
        if methods == {DistanceMethod.NETWORK}
        else DistanceMethod.STRAIGHT_LINE
    )
    run.network_id = network_ids.pop() if len(network_ids) == 1 else None
    run.population = totals["population"]
    run.share_walk = totals["covered"][-1] / totals["population"] if totals["population"] else None
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save()


def accessibility_run(
    *,
    actor: Any,
    region_code: str,
    kind: str,
    day: dt.date | str | None = None,
    speed_m_s: float | None = None,
    catchment_m: float | None = None,
    decay: str = "gaussian_zones",
    progress: Progress | None = None,
) -> AccessibilityRun:
    """Start one accessibility analysis, one task per county; bad input writes nothing.

    The run row is written first (status "running", with the number of counties), then
    each county is a `planning.accessibility_part` task: on Celery workers when a broker
    is configured (the run is returned still running and completes when its last county
    does), else here, one county after the other, calling `progress` after each (the
    returned run is then finished). An engine failure leaves the run "failed" with the
    reason, never half-filled results.
    """
    region, kind, day = _prepare(actor, region_code, kind, day)
    params = parameters(speed_m_s=speed_m_s, catchment_m=catchment_m, decay=decay)
    counties = partitions(region)
    with transaction.atomic():
        run = AccessibilityRun.objects.create(
            region=region,
            kind=kind,
            as_of=day,
            status=RunStatus.RUNNING,
            parameters=params.as_dict(),
            partitions_total=len(counties),
            started_at=timezone.now(),
            started_by=actor if getattr(actor, "pk", None) else None,
        )
        AccessibilityPart.objects.bulk_create(
            [AccessibilityPart(run=run, region=county) for county in counties]
        )
        if tasks.uses_celery():
            for county in counties:
                tasks.enqueue(PART_TASK, run.pk, county.code)
    if not tasks.uses_celery():
        # The embedded default: in this process, now, so the caller gets the finished run
        # (and a command line its progress bar).
        for county in counties:
            tasks.execute(PART_TASK, run.pk, county.code, runner="inline")
            if progress is not None:
                progress(county)
            if AccessibilityRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).exists():
                break
    run.refresh_from_db()
    return run


def accessibility_run_all(
    *,
    actor: Any,
    region_code: str,
    day: dt.date | str | None = None,
    progress: Progress | None = None,
) -> list[AccessibilityRun]:
    """One run per facility kind, each split by county (the network is loaded once per
    process and cached)."""
    _prepare(actor, region_code, kinds()[0], day)
    return [
        accessibility_run(actor=actor, region_code=region_code, kind=k, day=day, progress=progress)
        for k in kinds()
    ]


# --- reads ----------------------------------------------------------------------------------------


def runs_visible_to(user: Any) -> Any:
    """Runs of regions in the user's planning scope, newest first."""
    from .selectors import planning_scope

    scope = planning_scope(user)
    return AccessibilityRun.objects.filter(scope.q("region__code")).select_related("region")


def run_get(user: Any, run_id: int | str) -> AccessibilityRun:
    """One run the user may see, or NotFound (a run outside the scope is not revealed)."""
    from linli.core.errors import NotFound

    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise NotFound(fields={"run": [_("Not a run number.")]}) from None
    run = runs_visible_to(user).filter(pk=pk).first()
    if run is None:
        raise NotFound(_("No accessibility run %(id)s in your area.") % {"id": pk})
    return run


def latest_run(region: Region, kind: str, day: dt.date) -> AccessibilityRun | None:
    """The run to show for a date: the newest finished one as of that day, else the newest
    finished one as of an earlier day (the page states its date)."""
    done = AccessibilityRun.objects.filter(region=region, kind=kind, status=RunStatus.DONE)
    return (
        done.filter(as_of=day).order_by("-finished_at", "-id").first()
        or done.filter(as_of__lt=day).order_by("-as_of", "-finished_at", "-id").first()
    )
