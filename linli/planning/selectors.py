"""Reads of the planning dashboard: which region and date, indicator values with targets,
the children's values, the "full coverage" gap list and the trend.

Every read goes through `planning_scope` (linli.accounts.selectors.user_scope with the
roles that watch indicators): a region outside it is refused, not shown empty.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.geo import great_circle_km
from linli.directory.choices import FacilityKind
from linli.directory.models import Location
from linli.directory.selectors import facilities_open_on
from linli.regions import codes
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.regions.selectors import region_ancestors

from .choices import TrendStep
from .indicators import Figure, SideCache, compute, progress, spec_of
from .models import Indicator, IndicatorTarget

# Roles that watch the plan's indicators over their area.
PLANNING_ROLES = (
    Role.COMMUNITY_WORKER,
    Role.STREET_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.CITY_OFFICIAL,
    Role.AUDITOR,
    Role.SYSTEM_ADMIN,
)
# The gap list computes the nearest facility for this many places at most (the most
# populous first); the count and population of the rest are still given.
GAP_LIMIT = 200
TREND_MAX = 12


def planning_scope(user: Any) -> Scope:
    return user_scope(user, roles=PLANNING_ROLES)


def parse_day(text: str | None, *, field: str = "date") -> dt.date:
    """YYYY-MM-DD, or today when empty."""
    if not text:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            fields={field: [_("Not a date: write it as YYYY-MM-DD, for example 2025-12-31.")]}
        ) from None


def _full_code(text: str) -> str:
    """A region code; a short one ("330106") is padded with zeros as statistics codes are."""
    text = text.strip()
    if not (text.isdigit() and len(text) <= 12):
        raise ValidationFailed(
            fields={"region": [_("A region code is made of digits, at most 12 of them.")]}
        )
    return text.ljust(12, "0")


def dashboard_region(user: Any, code: str | None) -> Region:
    """The region asked for, or the top of the user's scope; refused when unknown or
    outside the scope."""
    scope = planning_scope(user)
    if scope.is_empty:
        raise PermissionDenied(_("Your roles do not include watching the plan's indicators."))
    if code:
        region = Region.objects.filter(code=_full_code(code)).first()
        if region is None:
            raise NotFound(
                _("No region with the code %(code)s.") % {"code": code},
                fields={"region": [_("No region with this code.")]},
            )
        if not scope.covers(region.code):
            raise PermissionDenied(
                _("The region %(code)s is outside the area you may see.") % {"code": code},
                fields={"region": [_("Outside the area you may see.")]},
            )
        return region
    tops = top_regions(scope)
    if not tops:
        raise NotFound(_("No region to show yet: load the regions first."))
    return tops[0]


def top_regions(scope: Scope) -> list[Region]:
    """The highest regions of a scope: the roots of the tree, or the regions it holds."""
    if scope.everything:
        return list(Region.objects.filter(parent__isnull=True).order_by("code"))
    return list(
        Region.objects.filter(code__in=[p.ljust(12, "0") for p in scope.prefixes]).order_by("code")
    )


def active_indicators() -> list[Indicator]:
    return list(Indicator.objects.filter(active=True).order_by("order", "code"))


# --- targets --------------------------------------------------------------------------------


def _chain(code: str) -> list[str]:
    """The region and its ancestors, nearest first."""
    chain: list[str] = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = codes.parent_of(current)
    return chain


def _pick(rows: list[IndicatorTarget], year: int, rank: dict[str | None, int]) -> Any:
    """The year first, then the nearest region: a target is for the first target year
    not before `year` (the latest one once all have passed); a baseline for the latest
    year not after it (the earliest otherwise). Among rows of that year, the region's own
    wins over its ancestors', and theirs over the default."""
    if not rows:
        return None
    years = {r.year for r in rows}
    if rows[0].is_baseline:
        past = [y for y in years if y <= year]
        chosen = max(past) if past else min(years)
    else:
        ahead = [y for y in years if y >= year]
        chosen = min(ahead) if ahead else max(years)
    return min((r for r in rows if r.year == chosen), key=lambda r: rank[r.region_id])


def targets_for(
    indicators: Iterable[Indicator], region_code: str, year: int
) -> dict[int, tuple[IndicatorTarget | None, IndicatorTarget | None]]:
    """For each indicator id: (target, baseline) that apply in the region for the year."""
    chain = _chain(region_code)
    rank: dict[str | None, int] = {code: i for i, code in enumerate(chain)}
    rank[None] = len(chain)
    ids = [i.pk for i in indicators]
    rows = IndicatorTarget.objects.filter(indicator_id__in=ids).filter(
        Q(region__isnull=True) | Q(region_id__in=chain)
    )
    grouped: dict[tuple[int, bool], list[IndicatorTarget]] = defaultdict(list)
    for row in rows:
        grouped[(row.indicator_id, row.is_baseline)].append(row)
    return {
        pk: (_pick(grouped[(pk, False)], year, rank), _pick(grouped[(pk, True)], year, rank))
        for pk in ids
    }


# --- values ---------------------------------------------------------------------------------


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


@dataclass
class IndicatorRow:
    indicator: Indicator
    computed: bool
    figure: Figure | None = None
    value: Decimal | None = None
    target: IndicatorTarget | None = None
    baseline: IndicatorTarget | None = None
    progress: Decimal | None = None
    met: bool | None = None


@dataclass
class ChildRow:
    region: Region
    values: list[Decimal | None]
    figures: list[Figure | None]


@dataclass
class Gap:
    region: Region
    nearest: Location | None
    distance_km: float | None


@dataclass
class Gaps:
    rows: list[Gap]
    count: int
    population: int
    places: int
    more: int = 0


@dataclass
class Trend:
    days: list[dt.date]
    rows: list[tuple[Indicator, list[Decimal | None]]]


@dataclass
class Dashboard:
    region: Region
    day: dt.date
    breadcrumb: list[Region]
    rows: list[IndicatorRow]
    computed: list[Indicator]
    children: list[ChildRow]
    gaps: Gaps
    trend: Trend
    tops: list[Region] = field(default_factory=list)


def children_of(region: Region) -> list[Region]:
    return list(Region.objects.filter(parent=region).order_by("code"))


def indicator_rows(
    indicators: Sequence[Indicator],
    region: Region,
    day: dt.date,
    figures: dict[str, dict[str, Figure]],
) -> list[IndicatorRow]:
    applicable = targets_for(indicators, region.code, day.year)
    rows = []
    for indicator in indicators:
        target, baseline = applicable[indicator.pk]
        by_region = figures.get(indicator.code)
        row = IndicatorRow(indicator, computed=by_region is not None, target=target)
        row.baseline = baseline
        if by_region is not None:
            row.figure = by_region[region.prefix]
            row.value = _rounded(row.figure.value)
            row.progress, row.met = progress(
                row.figure.value,
                target.value if target else None,
                baseline.value if baseline else None,
                indicator.direction,
            )
        rows.append(row)
    return rows


def indicator_values(
    user: Any, region_code: str | None, day_text: str | None, *, children: bool = False
) -> tuple[Region, dt.date, list[IndicatorRow], list[Indicator], list[ChildRow]]:
    """The API's read: the region's rows and, when asked, its children's computed values
    (one computation for both)."""
    day = parse_day(day_text)
    region = dashboard_region(user, region_code)
    indicators = active_indicators()
    kids = children_of(region) if children else []
    figures = compute(
        indicators,
        root_prefix=region.prefix,
        prefixes=[region.prefix, *(k.prefix for k in kids)],
        day=day,
    )
    computed = [i for i in indicators if i.code in figures]
    return (
        region,
        day,
        indicator_rows(indicators, region, day, figures),
        computed,
        _child_rows(kids, computed, figures),
    )


def _child_rows(
    kids: list[Region], computed: list[Indicator], figures: dict[str, dict[str, Figure]]
) -> list[ChildRow]:
    rows = []
    for kid in kids:
        kid_figures = [figures[i.code][kid.prefix] for i in computed]
        rows.append(ChildRow(kid, [_rounded(f.value) for f in kid_figures], list(kid_figures)))
    return rows


def coverage_gaps(region: Region, day: dt.date, *, limit: int = GAP_LIMIT) -> Gaps:
    """Communities and villages under `region` without an open comprehensive service
    facility on `day`, most populous first, each with the nearest open one by straight
    line (from the place's centre to the facility)."""
    comprehensive = Location.objects.filter(
        kind=FacilityKind.COMPREHENSIVE,
        region__isnull=False,
    ).filter(facilities_open_on(day))
    places = Region.objects.filter(level=RegionLevel.COMMUNITY, code__startswith=region.prefix)
    missing = places.exclude(
        code__in=comprehensive.filter(region__code__startswith=region.prefix).values("region_id")
    ).order_by("-population", "code")
    total = missing.count()
    population = sum(p or 0 for p in missing.values_list("population", flat=True))
    shown = list(missing[:limit])
    located = comprehensive.filter(latitude__isnull=False, longitude__isnull=False).only(
        "id", "name", "latitude", "longitude", "region_id"
    )
    # Facilities of the same city first: a resident rarely crosses a city for one.
    pools: dict[str, list[tuple[float, float, Location]]] = {}
    rows = []
    for place in shown:
        nearest, distance = None, None
        if place.lat is not None and place.lon is not None:
            city = place.code[:4]
            if city not in pools:
                found = list(located.filter(region__code__startswith=city)) or list(located)
                pools[city] = [
                    (f.latitude, f.longitude, f)
                    for f in found
                    if f.latitude is not None and f.longitude is not None
                ]
            for lat, lon, facility in pools[city]:
                km = great_circle_km(place.lat, place.lon, lat, lon)
                if distance is None or km < distance:
                    nearest, distance = facility, km
        rows.append(Gap(place, nearest, None if distance is None else round(distance, 2)))
    return Gaps(
        rows=rows,
        count=total,
        population=population,
        places=places.count(),
        more=max(0, total - len(shown)),
    )


def trend_days(day: dt.date, step: str, count: int) -> list[dt.date]:
    """The ends of the `count` whole years (or quarters) before `day`, then `day`."""
    ends: list[dt.date] = []
    if step == TrendStep.QUARTER:
        # Quarters counted from 0: the one before the current quarter, then further back.
        index = day.year * 4 + (day.month - 1) // 3 - 1
        for n in range(count):
            year, quarter = divmod(index - n, 4)
            first_of_next = (
                dt.date(year + 1, 1, 1) if quarter == 3 else dt.date(year, quarter * 3 + 4, 1)
            )
            ends.append(first_of_next - dt.timedelta(days=1))
    else:
        ends = [dt.date(day.year - n, 12, 31) for n in range(1, count + 1)]
    return [*reversed(ends), day]


def parse_trend(step: str | None, count: str | None) -> tuple[str, int]:
    step = step or TrendStep.YEAR
    if step not in TrendStep.values:
        raise ValidationFailed(fields={"trend": [_("Choose year or quarter.")]})
    try:
        number = int(count) if count else 5
    except ValueError:
        number = 0
    if not 1 <= number <= TREND_MAX:
        raise ValidationFailed(
            fields={"periods": [_("A whole number from 1 to %(most)s.") % {"most": TREND_MAX}]}
        )
    return step, number


def trend(
    indicators: Sequence[Indicator], region: Region, days: list[dt.date], cache: SideCache
) -> Trend:
    computable = [i for i in indicators if spec_of(i) is not None]
    values: dict[str, list[Decimal | None]] = {i.code: [] for i in computable}
    seen: set[str] = set()
    for day in days:
        figures = compute(
            computable, root_prefix=region.prefix, prefixes=[region.prefix], day=day, cache=cache
        )
        for indicator in computable:
            # An indicator read from accessibility runs has no figure before its first run.
            by_region = figures.get(indicator.code)
            if by_region:
                seen.add(indicator.code)
            values[indicator.code].append(
                _rounded(by_region[region.prefix].value) if by_region else None
            )
    return Trend(days=days, rows=[(i, values[i.code]) for i in computable if i.code in seen])


def dashboard(
    user: Any,
    *,
    region_code: str | None,
    day_text: str | None,
    trend_step: str | None = None,
    trend_count: str | None = None,
) -> Dashboard:
    day = parse_day(day_text)
    step, count = parse_trend(trend_step, trend_count)
    region = dashboard_region(user, region_code)
    scope = planning_scope(user)
    indicators = active_indicators()
    kids = children_of(region)
    cache = SideCache()
    figures = compute(
        indicators,
        root_prefix=region.prefix,
        prefixes=[region.prefix, *(k.prefix for k in kids)],
        day=day,
        cache=cache,
    )
    computed = [i for i in indicators if i.code in figures]
    children = _child_rows(kids, computed, figures)
    return Dashboard(
        region=region,
        day=day,
        breadcrumb=[r for r in region_ancestors(region) if scope.covers(r.code)],
        rows=indicator_rows(indicators, region, day, figures),
        computed=computed,
        children=children,
        gaps=coverage_gaps(region, day),
        trend=trend(indicators, region, trend_days(day, step, count), cache),
        tops=top_regions(scope),
    )
