"""Indicator values per region, as of a date: numerator and denominator per community or
village, added up the region tree.

A region's value is (sum of its communities' numerators) / (sum of their denominators)
× scale, never an average of its children's ratios: a street of one village with a
facility and nine without has 10 % coverage, not the mean of 100 % and 0 %.

Each indicator is computed by its own spec (linli/planning/specs.py) when it has one,
else by the built-in spec for its code below, else not at all ("no data"). Sides that
several indicators share (urban communities, population) are fetched once per date.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from linli.directory.choices import FacilityKind
from linli.regions.choices import RegionKind

from .models import Indicator
from .specs import SIDES, RunMemo, RunRef, Side, accessibility_side, side_values

COMPREHENSIVE = FacilityKind.COMPREHENSIVE.value
URBAN, RURAL = RegionKind.URBAN.value, RegionKind.RURAL.value


def _communities(kind: str | None = None, field: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"source": "communities", "filter": {"kind": kind} if kind else {}}
    part.update({"aggregate": "sum", "field": field} if field else {"aggregate": "count"})
    return part


def _with_facility(kind: str, region_kind: str) -> dict[str, Any]:
    return {
        "source": "communities_with_facility",
        "filter": {"kind": kind, "region_kind": region_kind},
        "aggregate": "count",
    }


def _facility_sum(field: str, **filters: Any) -> dict[str, Any]:
    return {"source": "facilities", "filter": filters, "aggregate": "sum", "field": field}


# What Linli computes from its own data, by indicator code (plan_targets.yaml's codes).
# Population and households are the statistical figures kept on each community
# (regions app), not the residents register, which holds only people who registered.
BUILTIN_SPECS: dict[str, dict[str, Any]] = {
    "facility_coverage_urban": {
        "numerator": _with_facility(COMPREHENSIVE, URBAN),
        "denominator": _communities(URBAN),
    },
    "facility_coverage_rural": {
        "numerator": _with_facility(COMPREHENSIVE, RURAL),
        "denominator": _communities(RURAL),
    },
    "facility_area_per_100_households": {
        "numerator": _facility_sum("floor_area_m2", kind=COMPREHENSIVE),
        "denominator": _communities(field="households"),
    },
    # Only facilities whose activity area is known, on both sides, so that a facility
    # without the figure does not count as having no activity space.
    "resident_activity_area_share": {
        "numerator": _facility_sum(
            "activity_area_m2", kind=COMPREHENSIVE, activity_area_known=True
        ),
        "denominator": _facility_sum("floor_area_m2", kind=COMPREHENSIVE, activity_area_known=True),
    },
    "self_service_terminal_coverage_urban": {
        "numerator": _with_facility(FacilityKind.SELF_SERVICE_TERMINAL.value, URBAN),
        "denominator": _communities(URBAN),
    },
    "community_workers_per_10k_urban": {
        "numerator": {
            "source": "role_assignments",
            "filter": {"role": "community_worker", "region_kind": URBAN},
            "aggregate": "count",
        },
        "denominator": _communities(URBAN, "population"),
    },
    "childcare_places_per_1000": {
        "numerator": _facility_sum("capacity", kind=FacilityKind.NURSERY.value),
        "denominator": _communities(field="population"),
    },
    # Floor area stands in for ground area: the directory records one area per place.
    "sports_area_per_capita": {
        "numerator": _facility_sum(
            "floor_area_m2",
            kind=[FacilityKind.SPORTS_GROUND.value, FacilityKind.OUTDOOR_FITNESS.value],
        ),
        "denominator": _communities(field="population"),
    },
    "village_clinic_coverage": {
        "numerator": _with_facility(FacilityKind.VILLAGE_CLINIC.value, RURAL),
        "denominator": _communities(RURAL),
    },
}


def _reach(
    kind: str | list[str], distance: str | int, field: str, **filters: Any
) -> dict[str, Any]:
    return {
        "source": "accessibility",
        "filter": {"kind": kind, "distance": distance, **filters},
        "aggregate": "sum",
        "field": field,
    }


def _circle(kind: str | list[str], distance: str | int, **filters: Any) -> dict[str, Any]:
    """People within `distance` of `kind` over the people the same runs counted."""
    return {
        "numerator": _reach(kind, distance, "covered", **filters),
        "denominator": _reach(kind, distance, "population", **filters),
    }


# The 15-minute circles, from accessibility runs: one kind each, so that the figure is a
# count of people, not a bound. Fitness: outdoor fitness corners, the plan's usual
# "15-minute fitness circle" facility; medical: community health stations, the nearest
# tier of primary care. A deployment that means other kinds gives the indicator a spec.
BUILTIN_SPECS["fitness_circle_15min_coverage"] = _circle(
    FacilityKind.OUTDOOR_FITNESS.value, "walk", region_kind=URBAN
)
BUILTIN_SPECS["medical_circle_15min_coverage"] = _circle(FacilityKind.HEALTH_STATION.value, "walk")


def life_circle_spec(indicator: Indicator) -> dict[str, Any] | None:
    """A life circle's computation from its details: people within its walking distance
    of every facility kind of the circle that Linli analyses (None when it analyses none
    of them, or the distance is not one a run measures)."""
    from .accessibility import kinds as analysed

    details = indicator.details or {}
    circle_kinds = [k for k in details.get("facilities") or [] if k in analysed()]
    distance = details.get("walk_m")
    if not circle_kinds or distance not in (300, 500, 1000):
        return None
    return _circle(circle_kinds if len(circle_kinds) > 1 else circle_kinds[0], int(distance))


def spec_of(indicator: Indicator) -> dict[str, Any] | None:
    """The computation used for `indicator`: its own, else the built-in, else None."""
    if indicator.spec:
        return dict(indicator.spec)
    if indicator.code.startswith("life_circle_"):
        return life_circle_spec(indicator)
    return BUILTIN_SPECS.get(indicator.code)


@dataclass(frozen=True)
class Figure:
    """An indicator's numerator and denominator in one region; value = n / d × scale."""

    numerator: Decimal
    denominator: Decimal
    scale: Decimal
    # The accessibility runs the figure comes from (none for other sources).
    runs: tuple[RunRef, ...] = ()

    @property
    def source_text(self) -> str:
        """Which runs, for the dashboard: "run #12 of 2025-06-01 (walking network)"."""
        from django.utils.translation import gettext as _

        from .models import DistanceMethod

        labels = dict(DistanceMethod.choices)
        return "; ".join(
            _("run #%(id)s of %(day)s, %(kind)s (%(method)s)")
            % {
                "id": ref.id,
                "day": ref.as_of.isoformat(),
                "kind": ref.kind,
                "method": labels.get(ref.distance_method, ref.distance_method),
            }
            for ref in self.runs
        )

    @property
    def value(self) -> Decimal | None:
        if not self.denominator:
            return None
        return self.numerator / self.denominator * self.scale


class SideCache:
    """Sides fetched once per (spec side, subtree, date), shared between indicators."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str, dt.date | None], Side] = {}
        self._runs = RunMemo()

    def side(self, part: dict[str, Any], *, prefix: str, day: dt.date) -> Side:
        # Regions keep no history: their population is the same for every date of a trend.
        when = None if part["source"] == "communities" else day
        key = (json.dumps(part, sort_keys=True), prefix, when)
        if key not in self._values:
            if part["source"] == "accessibility":
                self._values[key] = accessibility_side(
                    part, prefix=prefix, day=day, memo=self._runs
                )
            else:
                self._values[key] = Side(side_values(part, prefix=prefix, day=day), {})
        return self._values[key]

    def get(self, part: dict[str, Any], *, prefix: str, day: dt.date) -> dict[str, Decimal]:
        return self.side(part, prefix=prefix, day=day).values


def _runs_under(sides: Iterable[Side], prefix: str) -> tuple[RunRef, ...]:
    refs = {
        ref.id: ref
        for side in sides
        for code, found in side.runs.items()
        if code.startswith(prefix)
        for ref in found
    }
    return tuple(refs[k] for k in sorted(refs))


def roll_up(values: dict[str, Decimal], prefixes: Iterable[str]) -> dict[str, Decimal]:
    """The sum of `values` (keyed by region code) under each prefix."""
    wanted = list(prefixes)
    by_length: dict[int, list[str]] = defaultdict(list)
    for prefix in wanted:
        by_length[len(prefix)].append(prefix)
    totals = dict.fromkeys(wanted, Decimal(0))
    for length, group in by_length.items():
        members = set(group)
        for code, value in values.items():
            head = code[:length]
            if head in members:
                totals[head] += value
    return totals


def compute(
    indicators: Iterable[Indicator],
    *,
    root_prefix: str,
    prefixes: Iterable[str],
    day: dt.date,
    cache: SideCache | None = None,
) -> dict[str, dict[str, Figure]]:
    """For each computable indicator: its figure in each region of `prefixes` (all inside
    the subtree of `root_prefix`), as of the end of `day`. Indicators without a
    computation are left out, and so are those read from accessibility runs when no run
    as of `day` covers the subtree ("no data", not 0 %)."""
    cache = cache or SideCache()
    wanted = list(prefixes)
    result: dict[str, dict[str, Figure]] = {}
    for indicator in indicators:
        spec = spec_of(indicator)
        if spec is None:
            continue
        sides = [cache.side(spec[s], prefix=root_prefix, day=day) for s in SIDES]
        from_runs = any(spec[s]["source"] == "accessibility" for s in SIDES)
        if from_runs and not any(side.runs for side in sides):
            continue
        numerators = roll_up(sides[0].values, wanted)
        denominators = roll_up(sides[1].values, wanted)
        scale = Decimal(indicator.scale)
        result[indicator.code] = {
            p: Figure(numerators[p], denominators[p], scale, _runs_under(sides, p)) for p in wanted
        }
    return result


def progress(
    value: Decimal | None,
    target: Decimal | None,
    baseline: Decimal | None,
    direction: str,
) -> tuple[Decimal | None, bool | None]:
    """How far from the baseline toward the target (0–100 %), and whether it is met.

    With a baseline b below a target t: (v − b) / (t − b). Without one, or when the
    baseline already equals the target: v / t (t / v when lower is better). Clamped to
    0–100 so that a value past the target reads "100 %", with `met` saying so.
    """
    if value is None or target is None:
        return None, None
    up = direction != "down"
    met = value >= target if up else value <= target
    if baseline is not None and baseline != target:
        share = (value - baseline) / (target - baseline)
    elif up:
        share = value / target if target else Decimal(1)
    else:
        share = target / value if value else Decimal(1)
    share = min(max(share, Decimal(0)), Decimal(1))
    return (share * 100).quantize(Decimal("0.1")), met
