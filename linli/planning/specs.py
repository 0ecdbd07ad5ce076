"""Declarative indicator computations: a numerator and a denominator, each a count or a
sum over one of a few whitelisted sources, with whitelisted filters.

    {"numerator":   {"source": "facilities", "filter": {"kind": "nursery"},
                     "aggregate": "sum", "field": "capacity"},
     "denominator": {"source": "communities", "aggregate": "sum", "field": "population"}}

Nothing here is ever evaluated as code: a spec names a source from SOURCES, filters from
that source's list and an aggregate; `validate_spec` checks every name and value and
answers with the field and the reason. `side_values` turns one side into a figure per
community or village (the region a record points at), as of a date, inside a subtree;
the roll-up adds those figures (linli/planning/indicators.py). The `accessibility` source
reads the stored results of accessibility runs instead of rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment
from linli.core.errors import ValidationFailed
from linli.directory.choices import FacilityKind
from linli.directory.models import Location
from linli.directory.selectors import facilities_open_on
from linli.regions import codes
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.models import Region
from linli.residents.models import Household, Resident

from .models import AccessibilityRun, RunStatus

AGGREGATES = ("count", "sum")


@dataclass(frozen=True)
class Filter:
    """A filter a source accepts: how to check a value and how to turn it into a Q."""

    check: Callable[[Any], bool]
    expects: str
    q: Callable[[Any], Q]


@dataclass(frozen=True)
class Source:
    label: str
    filters: dict[str, Filter]
    sum_fields: tuple[str, ...]


def _one_or_many(choices: list[str]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        values = value if isinstance(value, list) else [value]
        return bool(values) and all(isinstance(v, str) and v in choices for v in values)

    return check


def _in(field: str) -> Callable[[Any], Q]:
    return lambda value: Q(**{f"{field}__in": value if isinstance(value, list) else [value]})


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


FACILITY_KINDS = list(FacilityKind.values)
REGION_KINDS = list(RegionKind.values)
ROLES = list(Role.values)


def _kinds_text(values: list[str]) -> str:
    return ", ".join(values)


def _region_kind(relation: str) -> Filter:
    return Filter(_one_or_many(REGION_KINDS), _kinds_text(REGION_KINDS), _in(f"{relation}__kind"))


_REGION_KIND = _region_kind("region")
# Distances an accessibility run measures, besides the walk (accessibility.DISTANCES_M).
RUN_DISTANCES = (300, 500, 1000)


def _analysed_kinds(value: Any) -> bool:
    from .accessibility import kinds

    return _one_or_many(kinds())(value)


def _is_distance(value: Any) -> bool:
    return value == "walk" or (_is_number(value) and value in RUN_DISTANCES)


def _no_q(value: Any) -> Q:
    # Accessibility filters pick values out of a run's stored results, not rows.
    return Q()


_FACILITY_FILTERS = {
    "kind": Filter(_one_or_many(FACILITY_KINDS), _kinds_text(FACILITY_KINDS), _in("kind")),
    "region_kind": _REGION_KIND,
    "min_floor_area_m2": Filter(
        _is_number, "a number ≥ 0", lambda v: Q(floor_area_m2__gte=Decimal(str(v)))
    ),
    "floor_area_known": Filter(_is_bool, "true or false", lambda v: Q(floor_area_m2__isnull=not v)),
    "activity_area_known": Filter(
        _is_bool, "true or false", lambda v: Q(activity_area_m2__isnull=not v)
    ),
}

SOURCES: dict[str, Source] = {
    # Facilities open on the date (opened on or before it, not closed by it).
    "facilities": Source(
        "facilities", _FACILITY_FILTERS, ("floor_area_m2", "activity_area_m2", "capacity")
    ),
    # Communities and villages with at least one such facility open on the date.
    "communities_with_facility": Source("communities with a facility", _FACILITY_FILTERS, ()),
    # Communities and villages, with their statistical population and households.
    "communities": Source(
        "communities and villages",
        {"kind": Filter(_one_or_many(REGION_KINDS), _kinds_text(REGION_KINDS), _in("kind"))},
        ("population", "households"),
    ),
    # Households on the residents register by the date.
    "households": Source("registered households", {"region_kind": _region_kind("community")}, ()),
    # Residents on the register by the date, not anonymized.
    "residents": Source(
        "registered residents",
        {
            "region_kind": _region_kind("community"),
            "living_alone": Filter(_is_bool, "true or false", lambda v: Q(living_alone=v)),
            "left_behind": Filter(_is_bool, "true or false", lambda v: Q(left_behind=v)),
        },
        (),
    ),
    # People within reach of facilities of a kind, per community, from the latest finished
    # accessibility run as of the date (linli/planning/accessibility.py): `covered` at the
    # `distance` ("walk": the 15-minute walk, else 300, 500 or 1000 m), and `population`.
    # With several kinds, a community's count is its smallest over the kinds.
    "accessibility": Source(
        "accessibility runs",
        {
            "kind": Filter(_analysed_kinds, "one or more analysed facility kinds", _no_q),
            "distance": Filter(_is_distance, '"walk", 300, 500 or 1000', _no_q),
            "region_kind": Filter(_one_or_many(REGION_KINDS), _kinds_text(REGION_KINDS), _no_q),
        },
        ("covered", "population"),
    ),
    # Roles held over a community or village by the date (the grant time).
    "role_assignments": Source(
        "role assignments",
        {
            "role": Filter(_one_or_many(ROLES), _kinds_text(ROLES), _in("role")),
            "region_kind": _REGION_KIND,
        },
        (),
    ),
}

SIDES = ("numerator", "denominator")


def validate_spec(spec: Any, *, field: str = "spec") -> dict[str, Any]:
    """The spec, normalised (aggregate defaults to count, filter to {}), or
    ValidationFailed naming each wrong part: `spec.numerator.filter.kind`."""
    errors: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(spec, dict):
        raise ValidationFailed(
            fields={field: [_("A computation is an object with a numerator and a denominator.")]}
        )
    for key in spec:
        if key not in SIDES:
            fail(f"{field}.{key}", _("Unknown part: only numerator and denominator are allowed."))
    normal: dict[str, Any] = {}
    for side in SIDES:
        path = f"{field}.{side}"
        part = spec.get(side)
        if not isinstance(part, dict):
            fail(path, _("Required: an object with a source and an aggregate."))
            continue
        for key in part:
            if key not in ("source", "filter", "aggregate", "field"):
                fail(
                    f"{path}.{key}",
                    _("Unknown key: use source, filter, aggregate and field."),
                )
        name = part.get("source")
        source = SOURCES.get(name) if isinstance(name, str) else None
        if source is None:
            fail(
                f"{path}.source",
                _("Unknown source %(name)r: choose one of %(choices)s.")
                % {"name": name, "choices": ", ".join(SOURCES)},
            )
            continue
        filters = part.get("filter", {})
        if not isinstance(filters, dict):
            fail(f"{path}.filter", _("A filter is an object of field: value."))
            filters = {}
        for key, value in filters.items():
            allowed = source.filters.get(key)
            if allowed is None:
                fail(
                    f"{path}.filter.{key}",
                    _("The source %(source)s cannot be filtered by %(key)r; it can by: %(ok)s.")
                    % {"source": name, "key": key, "ok": ", ".join(source.filters) or "-"},
                )
            elif not allowed.check(value):
                fail(
                    f"{path}.filter.{key}",
                    _("Not a valid value: expected %(expects)s.") % {"expects": allowed.expects},
                )
        aggregate = part.get("aggregate", "count")
        column = part.get("field")
        if aggregate not in AGGREGATES:
            fail(f"{path}.aggregate", _("Use count or sum."))
        elif aggregate == "sum" and column not in source.sum_fields:
            fail(
                f"{path}.field",
                _("The source %(source)s can sum only: %(ok)s.")
                % {"source": name, "ok": ", ".join(source.sum_fields) or "-"},
            )
        elif aggregate == "count" and column is not None:
            fail(f"{path}.field", _("A count takes no field."))
        if name == "accessibility":
            if "kind" not in filters:
                fail(f"{path}.filter.kind", _("Required: which facility kind the run is for."))
            if aggregate != "sum":
                fail(f"{path}.aggregate", _("Use sum, of covered or population."))
        normal[side] = {"source": name, "filter": dict(filters), "aggregate": aggregate}
        if aggregate == "sum":
            normal[side]["field"] = column
    if errors:
        raise ValidationFailed(fields=errors)
    return normal


def _filters(source: Source, filters: dict[str, Any]) -> Q:
    q = Q()
    for key, value in filters.items():
        q &= source.filters[key].q(value)
    return q


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant after `day`, in the site's time zone: "by the date" is before it."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _grouped(rows: QuerySet[Any, dict[str, Any]]) -> dict[str, Decimal]:
    return {row["key"]: Decimal(row["v"] or 0) for row in rows}


@dataclass(frozen=True)
class RunRef:
    """An accessibility run a figure comes from, as the dashboard names it."""

    id: int
    kind: str
    region: str
    as_of: dt.date
    distance_method: str


@dataclass
class Side:
    """One side's figure per community and, for accessibility, which run gave each."""

    values: dict[str, Decimal]
    runs: dict[str, tuple[RunRef, ...]]


def _ancestors(prefix: str) -> list[str]:
    chain: list[str] = []
    current: str | None = prefix.ljust(12, "0")
    while current is not None:
        chain.append(current)
        current = codes.parent_of(current)
    return chain


class RunMemo:
    """What accessibility sides read, fetched once per computation: the communities of a
    subtree, the finished runs of a kind around it (without their results) and the
    results of the runs actually used. The dashboard's indicators and trend dates share
    it, so ten kinds over six dates cost about ten queries, not a hundred."""

    def __init__(self) -> None:
        self._places: dict[tuple[str, str], set[str]] = {}
        self._runs: dict[tuple[str, str], list[tuple[RunRef, Any]]] = {}
        self._results: dict[int, dict[str, Any]] = {}

    def places(self, prefix: str, region_kind: Any) -> set[str]:
        key = (prefix, json.dumps(region_kind))
        if key not in self._places:
            rows = Region.objects.filter(level=RegionLevel.COMMUNITY, code__startswith=prefix)
            if region_kind is not None:
                rows = rows.filter(_in("kind")(region_kind))
            self._places[key] = set(rows.values_list("code", flat=True))
        return self._places[key]

    def runs(self, kind: str, prefix: str) -> list[tuple[RunRef, Any]]:
        """Finished runs of `kind` in the subtree or over it, newest first."""
        if (kind, prefix) not in self._runs:
            rows = (
                AccessibilityRun.objects.filter(
                    Q(region__code__startswith=prefix) | Q(region_id__in=_ancestors(prefix)),
                    kind=kind,
                    status=RunStatus.DONE,
                    results__isnull=False,
                )
                .order_by("-as_of", "-finished_at", "-id")
                .values_list("id", "region_id", "as_of", "distance_method", "finished_at")
            )
            self._runs[(kind, prefix)] = [
                (RunRef(pk, kind, region, as_of, method), finished)
                for pk, region, as_of, method, finished in rows
            ]
        return self._runs[(kind, prefix)]

    def results(self, run_id: int) -> dict[str, Any]:
        if run_id not in self._results:
            stored = AccessibilityRun.objects.filter(pk=run_id).values_list("results", flat=True)
            self._results[run_id] = stored.first() or {}
        return self._results[run_id]


def accessibility_side(
    part: dict[str, Any], *, prefix: str, day: dt.date, memo: RunMemo | None = None
) -> Side:
    """Per community under `prefix`: covered people (or population) from the newest
    finished run as of `day` that holds it, among runs of the subtree and of the regions
    above it. A community no run holds is left out of both sides; with several kinds a
    community needs a run of each, and counts the smallest of its covered figures (an
    upper bound of the people within reach of every kind: runs keep counts per community,
    not per person)."""
    memo = memo or RunMemo()
    filters = part.get("filter", {})
    kinds = filters["kind"] if isinstance(filters["kind"], list) else [filters["kind"]]
    distance = filters.get("distance", "walk")
    column = part.get("field")
    wanted = memo.places(prefix, filters.get("region_kind"))
    per_kind: list[dict[str, tuple[float, RunRef]]] = []
    for kind in kinds:
        found: dict[str, tuple[float, RunRef]] = {}
        for ref, _finished in memo.runs(kind, prefix):
            if ref.as_of > day:
                continue
            results = memo.results(ref.id)
            thresholds = results.get("thresholds") or []
            if distance == "walk":
                index = len(thresholds) - 1
            elif float(distance) in thresholds:
                index = thresholds.index(float(distance))
            else:
                continue  # a run measured with other distances
            for row in results.get("communities", []):
                code = row["code"]
                if code in wanted and code not in found:
                    value = row["population"] if column == "population" else row["covered"][index]
                    found[code] = (float(value), ref)
            if len(found) == len(wanted):
                break
        per_kind.append(found)
    side = Side({}, {})
    for code in set.intersection(*(set(f) for f in per_kind)) if per_kind else set():
        side.values[code] = Decimal(str(min(f[code][0] for f in per_kind)))
        side.runs[code] = tuple(f[code][1] for f in per_kind)
    return side


def side_values(part: dict[str, Any], *, prefix: str, day: dt.date) -> dict[str, Decimal]:
    """One side of a validated spec, per region code (the community a record points at),
    within the subtree of `prefix`, as of the end of `day`."""
    name = part["source"]
    if name == "accessibility":
        return accessibility_side(part, prefix=prefix, day=day).values
    source = SOURCES[name]
    where = _filters(source, part.get("filter", {}))
    column = part.get("field")
    total: Any = Sum(column) if part["aggregate"] == "sum" else Count("pk")
    if name in ("facilities", "communities_with_facility"):
        facilities = Location.objects.filter(
            where, facilities_open_on(day), region__code__startswith=prefix, region__isnull=False
        )
        if name == "communities_with_facility":
            codes = facilities.values_list("region_id", flat=True).distinct()
            return dict.fromkeys(codes, Decimal(1))
        return _grouped(facilities.values(key=F("region_id")).annotate(v=total))
    if name == "communities":
        rows = Region.objects.filter(
            where, level=RegionLevel.COMMUNITY, code__startswith=prefix
        ).values_list("code", column or "code")
        if column is None:
            return {code: Decimal(1) for code, _value in rows}
        return {code: Decimal(value or 0) for code, value in rows}
    end = _end_of(day)
    if name == "households":
        households = Household.objects.filter(
            where, community__code__startswith=prefix, registered_at__lt=end
        )
        return _grouped(households.values(key=F("community_id")).annotate(v=Count("pk")))
    if name == "residents":
        residents = Resident.objects.filter(
            where,
            community__code__startswith=prefix,
            registered_at__lt=end,
            anonymized_at__isnull=True,
        )
        return _grouped(residents.values(key=F("community_id")).annotate(v=Count("pk")))
    if name == "role_assignments":
        roles = RoleAssignment.objects.filter(
            where,
            region__code__startswith=prefix,
            region__level=RegionLevel.COMMUNITY,
            granted_at__lt=end,
        )
        return _grouped(roles.values(key=F("region_id")).annotate(v=Count("pk")))
    raise AssertionError(f"source {name} has no computation")  # validate_spec prevents it
