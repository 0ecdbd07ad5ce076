"""Declarative indicator computations: a numerator and a denominator, each a count or a
sum over one of a few whitelisted sources, with whitelisted filters.

    {"numerator":   {"source": "facilities", "filter": {"kind": "nursery"},
                     "aggregate": "sum", "field": "capacity"},
     "denominator": {"source": "communities", "aggregate": "sum", "field": "population"}}

Nothing here is ever evaluated as code: a spec names a source from SOURCES, filters from
that source's list and an aggregate; `validate_spec` checks every name and value and
answers with the field and the reason. `side_values` turns one side into a figure per
community or village (the region a record points at), as of a date, inside a subtree;
the roll-up adds those figures (linli/planning/indicators.py).
"""

from __future__ import annotations

import datetime as dt
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
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.models import Region
from linli.residents.models import Household, Resident

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


def _open_on(day: dt.date) -> Q:
    return (Q(opened_on__isnull=True) | Q(opened_on__lte=day)) & (
        Q(closed_on__isnull=True) | Q(closed_on__gt=day)
    )


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant after `day`, in the site's time zone: "by the date" is before it."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _grouped(rows: QuerySet[Any, dict[str, Any]]) -> dict[str, Decimal]:
    return {row["key"]: Decimal(row["v"] or 0) for row in rows}


def side_values(part: dict[str, Any], *, prefix: str, day: dt.date) -> dict[str, Decimal]:
    """One side of a validated spec, per region code (the community a record points at),
    within the subtree of `prefix`, as of the end of `day`."""
    name = part["source"]
    source = SOURCES[name]
    where = _filters(source, part.get("filter", {}))
    column = part.get("field")
    total: Any = Sum(column) if part["aggregate"] == "sum" else Count("pk")
    if name in ("facilities", "communities_with_facility"):
        facilities = Location.objects.filter(
            where, _open_on(day), region__code__startswith=prefix, region__isnull=False
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
