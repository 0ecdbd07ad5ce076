"""Where to build next: choose sites for new facilities of a kind, and keep the answer.

`siting_run` is the one service behind `linli plan sites`, the page /planning/sites/ and the
API: it turns Linli's data into the arrays of the siting engine (engine/siting.py), solves,
and stores a `SitingRun` with the parameters, the inputs' dates and the result.

- Demand: the region's population points (networks.demand_points: households placed at
  their community's centre with a jitter, since the register keeps addresses, not
  coordinates). A point weighs 1 per person plus, for each priority group g given a weight
  W_g, W_g × the point's expected members of g. The groups are counted per community (the
  residents' tallies), so a point's members of g are its people × the community's share of
  g: weight_i = people_i × (1 + Σ_g W_g · n_gc / pop_c).
- Sites: candidates from a file (CSV or GeoJSON) or generated (one network node per grid
  cell, or the cell centre where the region has no network), without an existing facility
  of the kind within the radius. Facilities of the kind open on the date are always open;
  funded participatory-budget projects of the kind are committed (open, free, not counted
  against k or the budget).
- Distances: networks.distances_for: the region's walking network where one is stored,
  else straight line × the detour factor; the result says which.

Every check is made before anything is computed or written; errors name the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import PermissionDenied, RowError, ValidationFailed
from linli.directory.choices import FacilityKind
from linli.regions.models import Region
from linli.residents.choices import PriorityGroup

from . import networks
from .engine import siting
from .engine.network import LocalProjection, NetworkError, haversine_m
from .models import SitingModel, SitingRun
from .selectors import PLANNING_ROLES, planning_scope

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# The 15-minute life circle's walking distance (GB 50180-2018: 800-1,000 m); the national
# fitness plan's "15-minute fitness circle" uses the same walk.
DEFAULT_RADIUS_M = 1000.0
MIN_RADIUS_M = 50.0
MAX_RADIUS_M = 5000.0
MAX_K = 500
MAX_GROUP_WEIGHT = 100.0
# More candidates than this make the coverage matrix and the exact model slow without
# making the answer better: sites 100 m apart serve nearly the same people.
MAX_CANDIDATES = 5000
# A candidate farther than this from the region is a slip (latitude and longitude swapped,
# a zero left in), not a site.
MAX_CANDIDATE_OFFSET_M = 50_000.0
# p-median counts a point farther than this from every site as this far: beyond it the
# walk is no longer a walk, and the cap keeps the distance matrix sparse.
PMEDIAN_CUTOFF_FACTOR = 3.0
# The exact solve stops here with the best answer found and its honest gap.
DEFAULT_TIME_LIMIT_S = 120.0
MAX_ROW_ERRORS = 50

# Roles that may start a run (a run is an analysis, but it is a record: auditors read).
SITING_ROLES = tuple(r for r in PLANNING_ROLES if r != Role.AUDITOR)

# What people write as a participatory-budget project's kind, for the facility kinds a
# project can build. Matched after the code and the kind's own names (Chinese, English).
KIND_ALIASES: dict[str, tuple[str, ...]] = {
    FacilityKind.OUTDOOR_FITNESS: ("健身角", "健身点", "健身路径", "fitness corner"),
    FacilityKind.ELDERLY_CANTEEN: ("老年食堂", "长者食堂", "助餐点", "elderly canteen"),
    FacilityKind.ELDERLY_DAY_CARE: ("日间照料中心", "老年日间照料", "day care"),
    FacilityKind.CULTURE_ROOM: ("文化活动室", "社区书屋", "culture room"),
    FacilityKind.LIBRARY: ("图书室", "书屋", "library"),
    FacilityKind.SPORTS_GROUND: ("运动场", "体育场地", "sports ground"),
    FacilityKind.HEALTH_STATION: ("卫生服务站", "health station"),
    FacilityKind.NURSERY: ("托育点", "托育", "nursery"),
}


# --- Inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A place a facility could go. `cost` is None when the source gives none."""

    id: str
    name: str
    lat: float
    lon: float
    cost: float | None = None
    source: str = "file"


def _known_groups() -> str:
    return ", ".join(PriorityGroup.values)


def parse_weights(items: Iterable[str]) -> dict[str, str]:
    """`GROUP=W` texts (the command line's --weight) as a mapping; checked by siting_run."""
    found: dict[str, str] = {}
    for item in items:
        group, sep, value = item.partition("=")
        if not sep or not group.strip():
            raise ValidationFailed(
                fields={
                    "weights": [
                        _("%(item)s: write a weight as GROUP=W, for example elderly=2.")
                        % {"item": item}
                    ]
                }
            )
        found[group.strip()] = value.strip()
    return found


def _check_weights(weights: Mapping[str, Any] | None) -> tuple[dict[str, float], list[str]]:
    clean: dict[str, float] = {}
    problems: list[str] = []
    for group, raw in (weights or {}).items():
        if group not in PriorityGroup.values:
            problems.append(
                _("%(group)s is not a priority group; the groups are: %(known)s.")
                % {"group": group, "known": _known_groups()}
            )
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and 0 <= value <= MAX_GROUP_WEIGHT):
            problems.append(
                _("%(group)s: the weight must be a number from 0 to %(max)s, not %(value)s.")
                % {"group": group, "max": f"{MAX_GROUP_WEIGHT:g}", "value": raw}
            )
            continue
        clean[group] = value
    return clean, problems


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _decode(content: bytes) -> str:
    # Spreadsheets saved in China are often GB18030 rather than UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        fields={"candidates": [_("The file is neither UTF-8 nor GB18030 text.")]}
    )


_LAT_NAMES = ("lat", "latitude", "纬度")
_LON_NAMES = ("lon", "lng", "longitude", "经度")


def _column(header: Sequence[str], names: Sequence[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _candidate_row(
    row: int,
    ident: str,
    name: str,
    lat_text: Any,
    lon_text: Any,
    cost_text: Any,
    errors: list[RowError],
) -> Candidate | None:
    """One candidate, or None with the row's problems appended to `errors`."""
    before = len(errors)
    lat = _number(str(lat_text)) if lat_text not in (None, "") else None
    lon = _number(str(lon_text)) if lon_text not in (None, "") else None
    if lat is None:
        errors.append(RowError(row, "lat", _("not a latitude: %(v)r") % {"v": lat_text}))
    elif not -90 <= lat <= 90:
        errors.append(RowError(row, "lat", _("%(v)s is not between -90 and 90") % {"v": lat}))
    if lon is None:
        errors.append(RowError(row, "lon", _("not a longitude: %(v)r") % {"v": lon_text}))
    elif not -180 <= lon <= 180:
        errors.append(RowError(row, "lon", _("%(v)s is not between -180 and 180") % {"v": lon}))
    cost: float | None = None
    if cost_text not in (None, ""):
        cost = _number(str(cost_text))
        if cost is None or cost < 0:
            errors.append(
                RowError(row, "cost", _("not an amount of 0 or more: %(v)r") % {"v": cost_text})
            )
    if len(errors) > before or lat is None or lon is None:
        return None
    return Candidate(id=ident, name=name or ident, lat=lat, lon=lon, cost=cost, source="file")


def _read_csv(text: str) -> tuple[list[Candidate], list[RowError], bool]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValidationFailed(fields={"candidates": [_("The file is empty.")]})
    lat_col, lon_col = _column(header, _LAT_NAMES), _column(header, _LON_NAMES)
    if lat_col is None or lon_col is None:
        raise ValidationFailed(
            fields={
                "candidates": [
                    _("The first row must name the columns, with lat and lon among them.")
                ]
            }
        )
    id_col, name_col = _column(header, ("id",)), _column(header, ("name", "名称"))
    cost_col = _column(header, ("cost", "费用", "造价"))
    found: list[Candidate] = []
    errors: list[RowError] = []

    def cell(values: list[str], col: int | None) -> str:
        return values[col].strip() if col is not None and col < len(values) else ""

    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        ident = cell(values, id_col) or str(number - 1)
        candidate = _candidate_row(
            number,
            ident,
            cell(values, name_col),
            cell(values, lat_col),
            cell(values, lon_col),
            cell(values, cost_col),
            errors,
        )
        if candidate is not None:
            found.append(candidate)
    return found, errors, cost_col is not None


def _read_geojson(text: str) -> tuple[list[Candidate], list[RowError], bool]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            fields={"candidates": [_("Not GeoJSON: %(reason)s") % {"reason": exc.msg}]}
        ) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise ValidationFailed(
            fields={"candidates": [_("A GeoJSON file of candidates is a FeatureCollection.")]}
        )
    found: list[Candidate] = []
    errors: list[RowError] = []
    has_cost = False
    for number, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (
            isinstance(geometry, dict)
            and geometry.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) >= 2
        ):
            errors.append(RowError(number, "geometry", _("not a Point with coordinates")))
            continue
        has_cost = has_cost or props.get("cost") not in (None, "")
        ident = str(props.get("id") or feature.get("id") or number)
        candidate = _candidate_row(
            number,
            ident,
            str(props.get("name") or ""),
            coords[1],
            coords[0],
            props.get("cost"),
            errors,
        )
        if candidate is not None:
            found.append(candidate)
    return found, errors, has_cost


@dataclass(frozen=True)
class CandidateFile:
    name: str
    candidates: list[Candidate]
    has_cost: bool


def candidates_read(*, content: bytes, filename: str) -> CandidateFile:
    """Candidates from a CSV (columns id, name, lat, lon, cost) or GeoJSON (Points with
    id, name, cost properties) file. All or nothing: every bad row is reported."""
    text = _decode(content)
    lowered = filename.lower()
    if lowered.endswith((".geojson", ".json")) or text.lstrip().startswith("{"):
        found, errors, has_cost = _read_geojson(text)
    else:
        found, errors, has_cost = _read_csv(text)
    return _finish(found, errors, has_cost, filename)


def _finish(
    found: list[Candidate], errors: list[RowError], has_cost: bool, name: str
) -> CandidateFile:
    """All or nothing: every problem, or the candidates."""
    seen: set[str] = set()
    for c in found:
        if c.id in seen:
            errors.append(RowError(0, "id", _("%(id)s appears twice") % {"id": c.id}))
        seen.add(c.id)
    if errors:
        raise ValidationFailed(fields={"candidates": _row_messages(errors)})
    if not found:
        raise ValidationFailed(fields={"candidates": [_("There are no candidates.")]})
    if len(found) > MAX_CANDIDATES:
        raise ValidationFailed(
            fields={
                "candidates": [
                    _("%(n)s candidates is more than %(max)s: thin them out first.")
                    % {"n": len(found), "max": MAX_CANDIDATES}
                ]
            }
        )
    return CandidateFile(name=name, candidates=found, has_cost=has_cost)


def candidates_from_rows(rows: Sequence[Mapping[str, Any]]) -> CandidateFile:
    """Candidates given inline (the API): the same checks as a file, row 1 the first."""
    found: list[Candidate] = []
    errors: list[RowError] = []
    has_cost = False
    for number, row in enumerate(rows, start=1):
        has_cost = has_cost or row.get("cost") not in (None, "")
        ident = str(row.get("id") or number)
        candidate = _candidate_row(
            number,
            ident,
            str(row.get("name") or ""),
            row.get("lat"),
            row.get("lon"),
            row.get("cost"),
            errors,
        )
        if candidate is not None:
            found.append(candidate)
    return _finish(found, errors, has_cost, "")


def _row_messages(errors: list[RowError]) -> list[str]:
    shown = [str(e) for e in errors[:MAX_ROW_ERRORS]]
    if len(errors) > MAX_ROW_ERRORS:
        shown.append(_("… and %(n)s more problems.") % {"n": len(errors) - MAX_ROW_ERRORS})
    return shown


# --- Parameters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    kind: str
    model: str
    k: int | None
    budget: float | None
    radius: float
    weights: dict[str, float]
    exact: bool
    day: dt.date
    time_limit: float


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _check_parameters(
    *,
    kind: str,
    model: str,
    k: Any,
    budget: Any,
    radius: Any,
    weights: Mapping[str, Any] | None,
    exact: bool,
    day: dt.date | None,
    time_limit: float | None,
) -> Parameters:
    """Every parameter at once, so the user sees all problems in one answer."""
    problems: dict[str, list[str]] = {}
    if kind not in FacilityKind.values:
        problems["kind"] = [
            _("%(kind)s is not a facility kind; the kinds are: %(known)s.")
            % {"kind": kind, "known": ", ".join(FacilityKind.values)}
        ]
    if model not in SitingModel.values:
        problems["model"] = [
            _("Choose one of: %(known)s.") % {"known": ", ".join(SitingModel.values)}
        ]
    k_value: int | None = None
    budget_value: float | None = None
    has_k = k not in (None, "")
    has_budget = budget not in (None, "")
    if has_k:
        k_value = _whole(k)
        if k_value is None or not 1 <= k_value <= MAX_K:
            problems["k"] = [
                _("The number of sites must be a whole number from 1 to %(max)s.") % {"max": MAX_K}
            ]
    if has_budget:
        number = _number(str(budget))
        if number is None:
            problems["budget"] = [_("The budget must be an amount of money.")]
        elif number <= 0:
            problems["budget"] = [_("The budget must be more than zero.")]
        else:
            budget_value = number
    if model == SitingModel.MCLP:
        if has_k and has_budget:
            problems.setdefault("budget", []).append(
                _("Give either the number of sites or a budget, not both.")
            )
        elif not has_k and not has_budget:
            problems["k"] = [_("Give the number of sites (k) or a budget.")]
    elif model == SitingModel.LSCP and (has_k or has_budget):
        problems.setdefault("k", []).append(
            _("Set covering finds the number of sites itself: leave k and the budget empty.")
        )
    elif model == SitingModel.PMEDIAN:
        if has_budget:
            problems.setdefault("budget", []).append(
                _("p-median takes a number of sites (k), not a budget.")
            )
        if not has_k:
            problems.setdefault("k", []).append(_("p-median needs the number of sites (k)."))
    radius_value = DEFAULT_RADIUS_M
    if radius not in (None, ""):
        number = _number(str(radius))
        if number is None or not MIN_RADIUS_M <= number <= MAX_RADIUS_M:
            problems["radius"] = [
                _("The radius must be a distance from %(min)s to %(max)s metres.")
                % {"min": f"{MIN_RADIUS_M:g}", "max": f"{MAX_RADIUS_M:g}"}
            ]
        else:
            radius_value = number
    clean_weights, weight_problems = _check_weights(weights)
    if weight_problems:
        problems["weights"] = weight_problems
    limit = DEFAULT_TIME_LIMIT_S if time_limit is None else float(time_limit)
    if not (math.isfinite(limit) and limit > 0):
        problems["time_limit"] = [_("The time limit must be a positive number of seconds.")]
    if problems:
        raise ValidationFailed(fields=problems)
    return Parameters(
        kind=kind,
        model=model,
        k=k_value,
        budget=budget_value,
        radius=radius_value,
        weights=clean_weights,
        exact=exact,
        day=day or timezone.localdate(),
        time_limit=limit,
    )


def _engine_error(error: siting.SitingInputError) -> ValidationFailed:
    """The engine's English error as a translated message on the user's field."""
    field = {"p": "k", "costs": "candidates", "cover": "candidates", "distances": "candidates"}
    messages = {
        ("k", "not_positive"): _("The number of sites must be at least 1."),
        ("p", "not_positive"): _("The number of sites must be at least 1."),
        ("budget", "not_positive"): _("The budget must be more than zero."),
        ("costs", "required"): _("A budget needs a cost for every candidate."),
        ("costs", "negative"): _("Costs must be amounts of 0 or more."),
        ("weights", "negative"): _("Weights must not be negative."),
        ("cover", "no_candidates"): _("There is no candidate site."),
        ("distances", "no_candidates"): _("There is no candidate site."),
    }
    message = messages.get(
        (error.field, error.code),
        _("The siting model cannot use this value (%(code)s).") % {"code": error.code},
    )
    return ValidationFailed(fields={field.get(error.field, error.field): [message]})


# --- Region, scope and sites ----------------------------------------------------------------


def siting_scope(actor: Any) -> Scope:
    return user_scope(actor, roles=SITING_ROLES)


def _region(actor: Any, code: str) -> Region:
    region = networks.resolve_region(code)
    if actor is not None:
        scope = siting_scope(actor)
        if scope.is_empty:
            raise PermissionDenied(_("Your roles do not include planning facilities."))
        if not scope.covers(region.code):
            raise PermissionDenied(
                _("The region %(code)s is outside the area you may plan.") % {"code": code},
                fields={"region": [_("Outside the area you may plan.")]},
            )
    return region


def kind_names(kind: str) -> set[str]:
    """Every way a project's kind may name the facility kind, folded for comparison."""
    label = FacilityKind(kind).label
    names = {kind, *KIND_ALIASES.get(kind, ())}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            names.add(str(label))
    return {n.strip().casefold() for n in names}


def committed_sites(region_code: str, kind: str) -> tuple[list[Candidate], list[str]]:
    """Funded participatory-budget projects of the kind in the region: (located, unlocated)."""
    from linli.incentives.budgets import funded_projects

    names = kind_names(kind)
    located: list[Candidate] = []
    unlocated: list[str] = []
    for proposal in funded_projects(region_code):
        if (proposal.kind or "").strip().casefold() not in names:
            continue
        if proposal.latitude is None or proposal.longitude is None:
            unlocated.append(proposal.title)
            continue
        located.append(
            Candidate(
                id=f"pb-{proposal.pk}",
                name=proposal.title,
                lat=float(proposal.latitude),
                lon=float(proposal.longitude),
                cost=float(proposal.cost) if proposal.cost is not None else None,
                source="committed",
            )
        )
    return located, unlocated


def _grid_spacing(radius: float) -> float:
    # A quarter of the radius: a site moved by half a cell loses little of its catchment.
    return float(min(max(radius / 4.0, 100.0), 500.0))


def generated_candidates(
    *,
    net: Any,
    demand_lon: FloatArray,
    demand_lat: FloatArray,
    radius: float,
    existing_near: Any,
) -> list[Candidate]:
    """One site per grid cell over the populated area (the network node nearest the cell's
    centre, or the centre itself without a network), minus those with an existing facility
    of the kind within the radius. `existing_near(lon, lat)` says which have one."""
    lo_min, lo_max = float(demand_lon.min()), float(demand_lon.max())
    la_min, la_max = float(demand_lat.min()), float(demand_lat.max())
    proj = LocalProjection((lo_min + lo_max) / 2, (la_min + la_max) / 2)
    x0, y0 = proj.forward(np.array([lo_min]), np.array([la_min]))
    x1, y1 = proj.forward(np.array([lo_max]), np.array([la_max]))
    margin = radius / 2.0
    box = (
        float(x0[0]) - margin,
        float(y0[0]) - margin,
        float(x1[0]) + margin,
        float(y1[0]) + margin,
    )
    spacing = _grid_spacing(radius)
    while True:
        if net is not None:
            nx, ny = proj.forward(net.lon, net.lat)
            inside = (nx >= box[0]) & (nx <= box[2]) & (ny >= box[1]) & (ny <= box[3])
            nodes = np.flatnonzero(inside)
            cx = np.floor((nx[nodes] - box[0]) / spacing)
            cy = np.floor((ny[nodes] - box[1]) / spacing)
            off = np.hypot(
                nx[nodes] - (box[0] + (cx + 0.5) * spacing),
                ny[nodes] - (box[1] + (cy + 0.5) * spacing),
            )
            order = np.lexsort((off, cx, cy))
            first = np.ones(order.size, dtype=bool)
            first[1:] = (cx[order][1:] != cx[order][:-1]) | (cy[order][1:] != cy[order][:-1])
            picked = nodes[order[first]]
            lon, lat = net.lon[picked], net.lat[picked]
            ids = [f"node-{int(net.node_ids[p])}" for p in picked]
            source = "network"
        else:
            gx = np.arange(box[0] + spacing / 2, box[2], spacing)
            gy = np.arange(box[1] + spacing / 2, box[3], spacing)
            mx, my = np.meshgrid(gx, gy)
            lon, lat = proj.inverse(mx.ravel(), my.ravel())
            ids = [f"grid-{i + 1}" for i in range(lon.size)]
            source = "grid"
        if lon.size <= MAX_CANDIDATES:
            break
        spacing *= math.sqrt(lon.size / MAX_CANDIDATES) * 1.05
    keep = ~np.asarray(existing_near(lon, lat), dtype=bool) if lon.size else np.zeros(0, bool)
    return [
        Candidate(id=ids[i], name=ids[i], lat=float(lat[i]), lon=float(lon[i]), source=source)
        for i in np.flatnonzero(keep)
    ]


def _far_candidates(
    candidates: Sequence[Candidate], lon: FloatArray, lat: FloatArray
) -> list[RowError]:
    """File candidates too far from the region's population to be meant for it."""
    if not candidates:
        return []
    clon, clat = float(np.median(lon)), float(np.median(lat))
    extent = float(haversine_m(lon.min(), lat.min(), lon.max(), lat.max()))
    limit = MAX_CANDIDATE_OFFSET_M + extent
    errors = []
    for number, c in enumerate(candidates, start=1):
        d = float(haversine_m(clon, clat, c.lon, c.lat))
        if d > limit:
            errors.append(
                RowError(
                    number,
                    "lat/lon",
                    _(
                        "%(id)s (%(lat)s, %(lon)s) is %(km)s km from the region: check the "
                        "coordinates (latitude and longitude swapped?)"
                    )
                    % {"id": c.id, "lat": c.lat, "lon": c.lon, "km": f"{d / 1000:,.0f}"},
                )
            )
    return errors


# --- The computation ------------------------------------------------------------------------


def _group_shares(demand: Any, region: Region, day: dt.date) -> dict[str, FloatArray]:
    """Per point, the expected share of its people in each priority group.

    Groups are counted among registered residents (the tallies), while a community's
    population may be its statistical figure: the registered share of each group is
    applied to the whole population, so a register still being filled in does not make
    the groups vanish from the weights.
    """
    from linli.residents.selectors import priority_counts

    tallies = priority_counts(
        scope=Scope(everything=False, prefixes=(networks.region_prefix(region),)), day=day
    )
    registered = np.array(
        [float(tallies.get(c.code, {}).get("residents", 0)) for c in demand.communities]
    )
    community = np.asarray(demand.community, dtype=np.int64)
    shares: dict[str, FloatArray] = {}
    for group in PriorityGroup.values:
        counts = np.asarray(demand.groups.get(group, np.zeros(registered.size)), dtype=np.float64)
        safe = np.where(registered > 0, registered, 1.0)
        share_c = np.where(registered > 0, np.minimum(counts / safe, 1.0), 0.0)
        shares[group] = share_c[community] if community.size else np.zeros(0)
    return shares


def _cover(pairs: Any, n: int, m: int, radius: float) -> sp.csr_matrix:
    ok = np.asarray(pairs.distance) <= radius
    rows = np.asarray(pairs.demand)[ok]
    cols = np.asarray(pairs.supply)[ok]
    a = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, m))
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def _people_gains(
    a_csc: sp.csc_matrix, people: FloatArray, base: BoolArray, order: Sequence[int]
) -> tuple[list[float], list[float], BoolArray]:
    """People newly covered by each site in order, people covered by it alone, and the
    final covered mask."""
    covered = base.copy()
    count = base.astype(np.int64)
    rows_of = [a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]] for j in order]
    gains = []
    for rows in rows_of:
        new = rows[~covered[rows]]
        gains.append(float(people[new].sum()))
        covered[rows] = True
        count[rows] += 1
    alone = [float(people[rows[count[rows] == 1]].sum()) for rows in rows_of]
    return gains, alone, covered


def _group_table(
    shares: dict[str, FloatArray],
    people: FloatArray,
    masks: Mapping[str, BoolArray],
) -> list[dict[str, Any]]:
    rows = [
        {
            "group": "",
            "total": float(people.sum()),
            **{name: float(people[mask].sum()) for name, mask in masks.items()},
        }
    ]
    for group in PriorityGroup.values:
        members = people * shares[group]
        if members.sum() <= 0:
            continue
        rows.append(
            {
                "group": group,
                "total": float(members.sum()),
                **{name: float(members[mask].sum()) for name, mask in masks.items()},
            }
        )
    return rows


def _site_json(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "lat": round(c.lat, 7),
        "lon": round(c.lon, 7),
        "cost": c.cost,
        "source": c.source,
    }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@transaction.atomic
def _store(**fields: Any) -> SitingRun:
    return SitingRun.objects.create(**fields)


def siting_run(
    *,
    actor: Any,
    region_code: str,
    kind: str,
    k: Any = None,
    budget: Any = None,
    radius: Any = None,
    weights: Mapping[str, Any] | None = None,
    model: str = SitingModel.MCLP,
    exact: bool = False,
    candidates: CandidateFile | None = None,
    day: dt.date | None = None,
    time_limit: float | None = None,
    via: str = "web",
) -> SitingRun:
    """Choose sites for new facilities of `kind` in a region and store the run.

    `actor` None is the operator at the command line (no scope check). Refusals:
    ValidationFailed naming the field (kind, region, k, budget, radius, weights,
    candidates), PermissionDenied for a region outside the actor's area.
    """
    started = time.perf_counter()
    params = _check_parameters(
        kind=kind,
        model=model,
        k=k,
        budget=budget,
        radius=radius,
        weights=weights,
        exact=exact,
        day=day,
        time_limit=time_limit,
    )
    region = _region(actor, region_code)
    if params.budget is not None and (candidates is None or not candidates.has_cost):
        raise ValidationFailed(
            fields={
                "budget": [
                    _(
                        "A budget needs a cost for every candidate: give a candidates file "
                        "with a cost column."
                    )
                ]
            }
        )
    if params.budget is not None and candidates is not None:
        missing = [
            RowError(i, "cost", _("no cost: a budget needs one for every candidate"))
            for i, c in enumerate(candidates.candidates, start=1)
            if c.cost is None
        ]
        if missing:
            raise ValidationFailed(fields={"candidates": _row_messages(missing)})

    demand = networks.demand_points(region, params.day)
    people = np.asarray(demand.weight, dtype=np.float64)
    if people.size == 0 or people.sum() <= 0:
        raise ValidationFailed(
            fields={
                "region": [
                    _(
                        "No located population in %(region)s: its communities need coordinates "
                        "and residents or a population figure."
                    )
                    % {"region": region.display_name}
                ]
            }
        )
    shares = _group_shares(demand, region, params.day)
    extra = np.zeros(people.size)
    for group, w in params.weights.items():
        extra += w * shares[group]
    weights_i = people * (1.0 + extra)

    distances = networks.distances_for(region.code)
    net = distances.net
    existing = networks.facility_points(region, params.kind, params.day)
    ex_lon = np.asarray(existing.lon, dtype=np.float64)
    ex_lat = np.asarray(existing.lat, dtype=np.float64)
    d_lon = np.asarray(demand.lon, dtype=np.float64)
    d_lat = np.asarray(demand.lat, dtype=np.float64)

    committed, unlocated_projects = committed_sites(region.code, params.kind)
    if candidates is not None:
        far = _far_candidates(candidates.candidates, d_lon, d_lat)
        if far:
            raise ValidationFailed(fields={"candidates": _row_messages(far)})
        pool = list(candidates.candidates)
        source = "file"
    else:

        def existing_near(lon: FloatArray, lat: FloatArray) -> BoolArray:
            if ex_lon.size == 0:
                return np.zeros(lon.size, dtype=bool)
            near = distances.nearest(lon, lat, ex_lon, ex_lat, limit=params.radius)
            return np.asarray(near.distance <= params.radius)

        pool = generated_candidates(
            net=net,
            demand_lon=d_lon,
            demand_lat=d_lat,
            radius=params.radius,
            existing_near=existing_near,
        )
        source = "network" if net is not None else "grid"
    if not pool:
        raise ValidationFailed(
            fields={
                "candidates": [
                    _(
                        "No candidate site: every place is already within %(r)s m of a facility "
                        "of this kind."
                    )
                    % {"r": f"{params.radius:,.0f}"}
                ]
            }
        )
    sites = pool + committed
    n, m = people.size, len(sites)
    committed_idx = np.arange(len(pool), m, dtype=np.int64)
    s_lon = np.array([s.lon for s in sites])
    s_lat = np.array([s.lat for s in sites])

    cutoff = params.radius * PMEDIAN_CUTOFF_FACTOR
    reach = cutoff if params.model == SitingModel.PMEDIAN else params.radius
    try:
        pairs = distances.pairs(d_lon, d_lat, s_lon, s_lat, max_distance=reach)
        if ex_lon.size:
            near = distances.nearest(d_lon, d_lat, ex_lon, ex_lat, limit=reach)
            ex_dist = np.asarray(near.distance, dtype=np.float64)
        else:
            ex_dist = np.full(n, np.inf)
    except NetworkError as error:
        raise ValidationFailed(fields={"candidates": [str(error)]}) from None
    a = _cover(pairs, n, m, params.radius)
    existing_cover = ex_dist <= params.radius

    costs: FloatArray | None = None
    if (
        candidates is not None
        and candidates.has_cost
        and all(c.cost is not None for c in candidates.candidates)
    ):
        costs = np.array(
            [c.cost if c.cost is not None else 0.0 for c in pool] + [0.0] * len(committed)
        )
    method = "exact" if params.exact else "heuristic"
    try:
        if params.model == SitingModel.MCLP:
            result = siting.maximal_covering(
                weights_i,
                a,
                k=params.k,
                budget=params.budget,
                costs=costs if params.budget is not None else None,
                existing=existing_cover.copy(),  # the engine marks committed cover in it
                committed=committed_idx,
                method=method,
                time_limit=params.time_limit if params.exact else None,
            )
        elif params.model == SitingModel.LSCP:
            result = siting.set_covering(
                a,
                weights=weights_i,
                costs=costs,
                existing=existing_cover.copy(),  # the engine marks committed cover in it
                committed=committed_idx,
                method=method,
                time_limit=params.time_limit if params.exact else None,
            )
        else:
            dist = sp.csr_matrix(
                (np.asarray(pairs.distance), (np.asarray(pairs.demand), np.asarray(pairs.supply))),
                shape=(n, m),
            )
            result = siting.p_median(
                weights_i,
                dist,
                p=params.k or 1,
                cutoff=cutoff,
                existing_distance=np.minimum(ex_dist, cutoff),
                committed=committed_idx,
                method=method,
                time_limit=params.time_limit if params.exact else None,
            )
    except siting.SitingInputError as error:
        raise _engine_error(error) from None

    # What people are told is recomputed here on people, not only on weights.
    a_csc = sp.csc_matrix(a)
    with_committed = existing_cover.copy()
    for c in committed_idx.tolist():
        with_committed[a_csc.indices[a_csc.indptr[c] : a_csc.indptr[c + 1]]] = True
    chosen = [int(j) for j in result.chosen]
    gains, alone, after = _people_gains(a_csc, people, with_committed, chosen)
    w_gains, w_alone, _w_after = _people_gains(a_csc, weights_i, with_committed, chosen)
    chosen_rows = []
    for rank, j in enumerate(chosen):
        row = _site_json(sites[j])
        row.update(
            rank=rank + 1,
            people=gains[rank],
            people_alone=alone[rank],
            weighted=w_gains[rank],
            weighted_alone=w_alone[rank],
            engine_gain=float(result.order_gain[rank]),
            engine_marginal=float(result.marginal_gain[rank]),
        )
        chosen_rows.append(row)
    masks = {"current": existing_cover, "committed": with_committed, "proposed": after}
    results: dict[str, Any] = {
        "sites": chosen_rows,
        "existing": [
            {
                "id": str(existing.ids[i]),
                "name": existing.names[i],
                "lat": round(float(ex_lat[i]), 7),
                "lon": round(float(ex_lon[i]), 7),
            }
            for i in range(ex_lon.size)
        ],
        "committed": [_site_json(c) for c in committed],
        "coverage": {
            "people": _group_table(shares, people, masks),
            "weighted": {
                "total": float(weights_i.sum()),
                **{name: float(weights_i[mask].sum()) for name, mask in masks.items()},
            },
        },
        "objective": _finite(result.objective),
        "bound": _finite(result.bound),
        "gap": _finite(result.gap),
        "method": result.method,
        "status": result.status,
        "solve_seconds": round(result.seconds, 3),
        "cost": _finite(result.cost) if costs is not None else None,
        "uncoverable_people": float(people[np.asarray(result.uncoverable, dtype=np.int64)].sum())
        if len(result.uncoverable)
        else 0.0,
        "reduction": {
            key: value
            for key, value in vars(result.reduction).items()
            if isinstance(value, int | float)
        },
    }
    if params.model == SitingModel.PMEDIAN:
        total = float(people.sum())
        results["distance"] = {
            "cutoff": cutoff,
            "before_mean": _finite(result.before / float(weights_i.sum())),
            "after_mean": _finite(result.after / float(weights_i.sum())),
            "people_total": total,
        }
    results["seconds"] = round(time.perf_counter() - started, 3)

    info = distances.info
    inputs = {
        "demand_points": int(n),
        "communities": len(demand.communities),
        "unlocated_communities": list(demand.unlocated),
        "existing_sites": int(ex_lon.size),
        "committed_sites": len(committed),
        "committed_unlocated": unlocated_projects,
        "candidates": len(pool),
        "candidates_source": source,
        "candidates_file": candidates.name if candidates is not None else "",
        "distance_method": info.method,
        "detour_factor": info.detour_factor,
        "network_built_at": info.built_at.isoformat() if info.built_at else None,
        "network_region": info.record.region_id if info.record is not None else None,
        "network_problem": info.problem,
        "facilities_as_of": params.day.isoformat(),
        "facilities_changed_at": existing.last_modified.isoformat()
        if existing.last_modified
        else None,
        "unlocated_population": demand.unlocated_population,
        **networks.inputs_changed(region),
    }
    parameters = {
        "k": params.k,
        "budget": params.budget,
        "radius": params.radius,
        "weights": params.weights,
        "time_limit": params.time_limit if params.exact else None,
    }
    return _store(
        region=region,
        kind=params.kind,
        model=params.model,
        exact=params.exact,
        day=params.day,
        parameters=parameters,
        inputs=inputs,
        results=results,
        distance_method=info.method,
        created_by=actor if getattr(actor, "pk", None) else None,
        via=via,
    )


# --- Reads and exports ----------------------------------------------------------------------


def runs_visible(actor: Any) -> Any:
    """Runs over regions the actor may see (planning roles, auditors included)."""
    scope = planning_scope(actor)
    if scope.is_empty:
        return SitingRun.objects.none()
    return (
        SitingRun.objects.filter(scope.q("region__code"))
        .select_related("region", "created_by")
        .order_by("-created_at", "-id")
    )


def run_sites_csv(run: SitingRun) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["rank", "id", "name", "lat", "lon", "cost", "people", "people_alone", "weighted", "source"]
    )
    for s in run.results.get("sites", []):
        writer.writerow(
            [
                s["rank"],
                s["id"],
                s["name"],
                s["lat"],
                s["lon"],
                s.get("cost") or "",
                round(s["people"], 1),
                round(s["people_alone"], 1),
                round(s["weighted"], 1),
                s["source"],
            ]
        )
    return out.getvalue()


def run_sites_geojson(run: SitingRun) -> str:
    features = []
    for role in ("sites", "committed", "existing"):
        for s in run.results.get(role, []):
            props = {k: v for k, v in s.items() if k not in ("lat", "lon")}
            props["role"] = {"sites": "proposed"}.get(role, role)
            props["radius_m"] = run.parameters.get("radius")
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                    "properties": props,
                }
            )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
