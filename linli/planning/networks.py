"""Road networks of regions, and distances for the planning app.

A region's walking network is stored as one compressed ``.npz`` (the engine's
``Network.save``) under ``LINLI_PLANNING_NETWORK_DIR``, described by a
:class:`~linli.planning.models.RoadNetwork` record (one per region). Imports are
all-or-nothing: the arrays are written to a temporary name, the record is written in a
transaction, and the file is renamed to its content-addressed name as the transaction's
last step, so a failure at any point leaves the previous network and record as they were.

Everything else in the planning app gets distances here, never from the engine directly:

- :func:`network_for` — the stored network covering a region (its own, else the nearest
  ancestor's: a county's network covers its streets and communities), loaded once per
  process and file hash.
- :func:`distances_for` → :class:`Distances` with ``nearest`` and ``pairs``: network
  distances (points snapped to nodes, the snap distances added at both ends) or, where a
  region has no network, the straight line × ``LINLI_PLANNING_DETOUR_FACTOR``.
- :func:`demand_points` and :func:`facility_points`: where people live and where the
  facilities are, as arrays.

Snapping is done at run time, not stored: a cKDTree query takes about a second per
million points, while stored snaps would go stale with every household or facility edit
and every re-import of the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy.spatial import cKDTree

from linli.accounts.selectors import Scope
from linli.core.errors import ValidationFailed
from linli.directory.models import Location
from linli.directory.selectors import facilities_open_on
from linli.regions import codes
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.models import Household, Resident
from linli.residents.selectors import priority_counts

from .engine import fallback, osm, synthetic
from .engine.e2sfca import Pairs
from .engine.nearest import Nearest, nearest_facility_from
from .engine.network import (
    FloatArray,
    IntArray,
    LocalProjection,
    Network,
    NetworkError,
    Snap,
)
from .models import DistanceMethod, NetworkSource, RoadNetwork

log = logging.getLogger(__name__)

# Components smaller than this are fragments of an extract (a car park's aisles, a footway
# cut off at the boundary): a household snapped onto one could reach nothing. Dropped.
MIN_COMPONENT_NODES = 50
# A synthetic network's blocks, its margin around the communities, and the most nodes
# `generate` will build (a province-sized square would be tens of millions).
SYNTHETIC_BLOCK_M = 80.0
SYNTHETIC_MARGIN_M = 1000.0
SYNTHETIC_MAX_NODES = 4_000_000
# A community without households is represented by this many points spread over it.
POINTS_PER_EMPTY_COMMUNITY = 50
# Households without a boundary to spread them over are placed within this distance of
# their community's centre (at most half the distance to the nearest other centre).
SPREAD_MIN_M, SPREAD_MAX_M = 100.0, 600.0
# Facilities this far outside a region's communities still serve them (edge effects).
FACILITY_MARGIN_M = 1500.0
# Loaded networks kept in memory per process (a city's network is ~40 MB of arrays).
CACHE_SIZE = 4


# --- regions ---------------------------------------------------------------------------------


def resolve_region(code: str | None, *, field_name: str = "region") -> Region:
    """The region of a code ("990102" is padded to 12 digits), or ValidationFailed naming
    the field: not a code, or a code that is not part of this deployment's region tree."""
    text = (code or "").strip()
    if not text:
        raise ValidationFailed(fields={field_name: [_("Give a region code.")]})
    if not (text.isdigit() and len(text) <= codes.CODE_LENGTH):
        raise ValidationFailed(
            fields={field_name: [_("A region code is made of digits, at most 12 of them.")]}
        )
    full = text.ljust(codes.CODE_LENGTH, "0")
    if not codes.is_valid(full):
        raise ValidationFailed(
            fields={field_name: [_("%(code)s is not a division code.") % {"code": text}]}
        )
    region = Region.objects.filter(code=full).first()
    if region is None:
        raise ValidationFailed(
            _("The region %(code)s is not part of this deployment.") % {"code": text},
            fields={
                field_name: [
                    _("No region %(code)s in this deployment: load the regions first.")
                    % {"code": text}
                ]
            },
        )
    return region


def region_prefix(region: Region) -> str:
    return codes.prefix_of(region.code)


def communities_of(region: Region) -> list[Region]:
    """The communities and villages of a region (the region itself if it is one)."""
    return list(
        Region.objects.filter(
            code__startswith=region_prefix(region), level=RegionLevel.COMMUNITY
        ).order_by("code")
    )


def _rings(boundary: Any) -> list[list[FloatArray]]:
    """Polygons of a GeoJSON Polygon/MultiPolygon as lists of rings [(lon, lat) arrays]."""
    if not isinstance(boundary, dict):
        return []
    kind, coords = boundary.get("type"), boundary.get("coordinates")
    polygons: Any = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    if not isinstance(polygons, list):
        return []
    out: list[list[FloatArray]] = []
    for polygon in polygons:
        if not isinstance(polygon, list):
            continue
        try:
            rings = [np.asarray(ring, dtype=np.float64)[:, :2] for ring in polygon]
        except (TypeError, ValueError, IndexError):
            continue
        rings = [r for r in rings if r.ndim == 2 and len(r) >= 3 and np.isfinite(r).all()]
        if rings:
            out.append(rings)
    return out


def _inside_ring(ring: FloatArray, x: FloatArray, y: FloatArray) -> npt.NDArray[np.bool_]:
    """Even-odd ray casting, vectorised over points (a ring has a handful of edges)."""
    inside = np.zeros(x.size, dtype=bool)
    x1, y1 = ring[:, 0], ring[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    for a, b, c, d in zip(x1, y1, x2, y2, strict=True):
        if b == d:
            continue
        crosses = (b > y) != (d > y)
        at = (c - a) * (y - b) / (d - b) + a
        inside ^= crosses & (x < at)
    return inside


def _inside(polygons: list[list[FloatArray]], x: FloatArray, y: FloatArray) -> Any:
    hit = np.zeros(x.size, dtype=bool)
    for rings in polygons:
        part = _inside_ring(rings[0], x, y)
        for hole in rings[1:]:
            part &= ~_inside_ring(hole, x, y)
        hit |= part
    return hit


def spread_points(
    community: Region, n: int, radius_m: float
) -> tuple[FloatArray, FloatArray] | None:
    """``n`` points spread over a community: uniformly inside its boundary when it has one,
    else in a disc of ``radius_m`` around its centre. Deterministic (seeded by the code),
    so the same households land in the same places run after run. None without a place."""
    rng = np.random.default_rng(int(community.code))
    polygons = _rings(community.boundary)
    if polygons:
        allx = np.concatenate([r[0][:, 0] for r in polygons])
        ally = np.concatenate([r[0][:, 1] for r in polygons])
        lo_x, hi_x, lo_y, hi_y = allx.min(), allx.max(), ally.min(), ally.max()
        got_x: list[FloatArray] = []
        got_y: list[FloatArray] = []
        have = 0
        for _round in range(30):
            m = max(2 * (n - have), 16)
            x = rng.uniform(lo_x, hi_x, m)
            y = rng.uniform(lo_y, hi_y, m)
            keep = _inside(polygons, x, y)
            got_x.append(x[keep])
            got_y.append(y[keep])
            have += int(keep.sum())
            if have >= n:
                return np.concatenate(got_x)[:n], np.concatenate(got_y)[:n]
    if community.lat is None or community.lon is None:
        if polygons:  # a degenerate boundary: its first corner is all we know
            first = polygons[0][0][0]
            return np.full(n, first[0]), np.full(n, first[1])
        return None
    r = radius_m * np.sqrt(rng.random(n))
    theta = rng.uniform(0.0, 2.0 * math.pi, n)
    lon, lat = LocalProjection(community.lon, community.lat).inverse(
        r * np.cos(theta), r * np.sin(theta)
    )
    return lon, lat


def _centre(community: Region) -> tuple[float, float] | None:
    if community.lat is not None and community.lon is not None:
        return community.lon, community.lat
    polygons = _rings(community.boundary)
    if polygons:
        ring = polygons[0][0]
        return float(ring[:, 0].mean()), float(ring[:, 1].mean())
    return None


def extent_of(region: Region) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of a region's communities (boundaries and centres)."""
    lons: list[float] = []
    lats: list[float] = []
    for community in communities_of(region) or [region]:
        for rings in _rings(community.boundary):
            lons += [float(rings[0][:, 0].min()), float(rings[0][:, 0].max())]
            lats += [float(rings[0][:, 1].min()), float(rings[0][:, 1].max())]
        if community.lat is not None and community.lon is not None:
            lons.append(community.lon)
            lats.append(community.lat)
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


# --- storage ----------------------------------------------------------------------------------


def network_dir() -> Path:
    return Path(settings.LINLI_PLANNING_NETWORK_DIR)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def drop_fragments(net: Network, min_nodes: int = MIN_COMPONENT_NODES) -> Network:
    """The network without components smaller than ``min_nodes`` (the largest always stays)."""
    k, labels = net.components()
    if k <= 1:
        return net
    sizes = np.bincount(labels)
    keep_label = sizes >= min(min_nodes, int(sizes.max()))
    keep = keep_label[labels]
    if keep.all():
        return net
    new_index = np.full(net.n_nodes, -1, dtype=np.int64)
    new_index[keep] = np.arange(int(keep.sum()))
    u, v, w = net.edges()
    ok = keep[u]
    return Network.from_edges(
        lon=net.lon[keep],
        lat=net.lat[keep],
        edge_from=new_index[u[ok]],
        edge_to=new_index[v[ok]],
        edge_length=w[ok],
        node_ids=net.node_ids[keep],
    )


def network_store(
    *,
    region: Region,
    net: Network,
    source: str,
    actor: Any = None,
    source_name: str = "",
    source_sha256: str = "",
    parameters: dict[str, Any] | None = None,
) -> RoadNetwork:
    """Save ``net`` as the region's network, replacing any earlier one, all or nothing."""
    if net.n_nodes == 0 or net.n_edges == 0:
        raise ValidationFailed(
            fields={"file": [_("The network is empty: no walkable ways were found.")]}
        )
    folder = network_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # The ".npz" ending matters: numpy appends it to any path that lacks it.
    temp = folder / f".tmp-{region.code}-{uuid.uuid4().hex}.npz"
    try:
        net.save(temp)
        digest = _sha256(temp)
        final = folder / f"{region.code}-{digest[:16]}.npz"
        k, _labels = net.components()
        with transaction.atomic():
            # Lock the region's row: two imports of one region queue instead of racing.
            Region.objects.select_for_update().filter(code=region.code).first()
            old = RoadNetwork.objects.filter(region=region).first()
            old_file = old.file if old else ""
            values = {
                "source": source,
                "source_name": source_name[:255],
                "source_sha256": source_sha256,
                "file": final.name,
                "sha256": digest,
                "size_bytes": temp.stat().st_size,
                "nodes": net.n_nodes,
                "edges": net.n_edges,
                "components": k,
                "min_lon": float(net.lon.min()),
                "min_lat": float(net.lat.min()),
                "max_lon": float(net.lon.max()),
                "max_lat": float(net.lat.max()),
                "parameters": parameters or {},
                "built_at": timezone.now(),
                "built_by": actor if getattr(actor, "pk", None) else None,
            }
            record, _created = RoadNetwork.objects.update_or_create(region=region, defaults=values)
            # Last step inside the transaction: if the rename fails, the record rolls back.
            os.replace(temp, final)
            if old_file and old_file != final.name:
                transaction.on_commit(lambda: _remove_unused(old_file))
    finally:
        temp.unlink(missing_ok=True)
    return record


def _remove_unused(name: str) -> None:
    if not RoadNetwork.objects.filter(file=name).exists():
        (network_dir() / name).unlink(missing_ok=True)


def _check_osm_file(path: Path) -> None:
    """The usual mistakes, named in the operator's language before libosmium sees the file."""
    if not path.is_file():
        raise ValidationFailed(
            _("No such file: %(path)s") % {"path": path},
            fields={"file": [_("No such file.")]},
        )
    name = path.name.lower()
    if not (name.endswith(".pbf") or name.endswith(".osm")):
        raise ValidationFailed(
            _("%(path)s is not an OpenStreetMap extract.") % {"path": path},
            fields={"file": [_("Expected an OpenStreetMap extract: a .osm.pbf (or .osm) file.")]},
        )
    if name.endswith(".pbf"):
        with path.open("rb") as fh:
            head = fh.read(64)
        if len(head) < 8 or b"OSMHeader" not in head[:32]:
            raise ValidationFailed(
                _("%(path)s is not an OpenStreetMap PBF file.") % {"path": path},
                fields={"file": [_("Not an OpenStreetMap PBF file (no OSMHeader block).")]},
            )


def _check_covers(net: Network, region: Region) -> None:
    """Refuse a network nowhere near the region: the wrong extract for the code given."""
    extent = extent_of(region)
    if extent is None:
        return
    west, south, east, north = extent
    pad = 0.01  # about a kilometre
    overlaps = not (
        net.lon.max() < west - pad
        or net.lon.min() > east + pad
        or net.lat.max() < south - pad
        or net.lat.min() > north + pad
    )
    if not overlaps:
        raise ValidationFailed(
            _("The network does not reach the region %(code)s.") % {"code": region.code},
            fields={
                "file": [
                    _(
                        "The extract covers %(w).3f–%(e).3f E, %(s).3f–%(n).3f N; the region's "
                        "communities lie at %(rw).3f–%(re).3f E, %(rs).3f–%(rn).3f N."
                    )
                    % {
                        "w": net.lon.min(),
                        "e": net.lon.max(),
                        "s": net.lat.min(),
                        "n": net.lat.max(),
                        "rw": west,
                        "re": east,
                        "rs": south,
                        "rn": north,
                    }
                ]
            },
        )


def network_import_osm(*, actor: Any = None, region_code: str, path: str | Path) -> RoadNetwork:
    """Read an OpenStreetMap extract into the region's walking network (replacing any).

    Checked first, all in the operator's language: the region exists in this deployment,
    the file is an extract, libosmium can read it, it holds walkable ways, and they reach
    the region. Fragments under MIN_COMPONENT_NODES nodes are dropped.
    """
    region = resolve_region(region_code)
    source = Path(path)
    _check_osm_file(source)
    try:
        net = osm.from_osm(source)
    except NetworkError as exc:
        raise ValidationFailed(
            _("%(path)s could not be read as a walking network: %(reason)s")
            % {"path": source, "reason": exc},
            fields={
                "file": [_("Not a usable OpenStreetMap extract: %(reason)s") % {"reason": exc}]
            },
        ) from exc
    raw_nodes = net.n_nodes
    net = drop_fragments(net)
    _check_covers(net, region)
    return network_store(
        region=region,
        net=net,
        source=NetworkSource.OSM,
        actor=actor,
        source_name=source.name,
        source_sha256=_sha256(source),
        parameters={
            "min_component_nodes": MIN_COMPONENT_NODES,
            "nodes_read": raw_nodes,
            "nodes_dropped": raw_nodes - net.n_nodes,
        },
    )


def network_generate(
    *,
    actor: Any = None,
    region_code: str,
    seed: int = 0,
    block_m: float = SYNTHETIC_BLOCK_M,
    margin_m: float = SYNTHETIC_MARGIN_M,
) -> RoadNetwork:
    """A synthetic walking network (engine ``synthetic.generate``) over the square that
    holds the region's communities plus ``margin_m``, with blocks of about ``block_m``."""
    region = resolve_region(region_code)
    errors: dict[str, list[str]] = {}
    if not (math.isfinite(block_m) and 20.0 <= block_m <= 1000.0):
        errors["block"] = [_("A block is between 20 and 1,000 metres.")]
    if not (math.isfinite(margin_m) and 0.0 <= margin_m <= 20_000.0):
        errors["margin"] = [_("The margin is between 0 and 20,000 metres.")]
    if errors:
        raise ValidationFailed(fields=errors)
    extent = extent_of(region)
    if extent is None:
        raise ValidationFailed(
            fields={"region": [_("None of the region's communities has a location or a boundary.")]}
        )
    west, south, east, north = extent
    centre = ((west + east) / 2.0, (south + north) / 2.0)
    x, y = LocalProjection(*centre).forward([west, east], [south, north])
    side = max(float(x[1] - x[0]), float(y[1] - y[0])) + 2.0 * margin_m
    per_side = math.ceil(side / block_m) + 1
    n_nodes = max(per_side * per_side, 16)
    if n_nodes > SYNTHETIC_MAX_NODES:
        raise ValidationFailed(
            fields={
                "region": [
                    _(
                        "The region is too large for a synthetic network (%(n)s nodes; at most "
                        "%(max)s): generate one per county."
                    )
                    % {"n": f"{n_nodes:,}", "max": f"{SYNTHETIC_MAX_NODES:,}"}
                ]
            }
        )
    net = synthetic.generate(seed, n_nodes, extent_m=side, centre=centre)
    return network_store(
        region=region,
        net=net,
        source=NetworkSource.SYNTHETIC,
        actor=actor,
        parameters={
            "seed": seed,
            "block_m": block_m,
            "margin_m": margin_m,
            "side_m": round(side, 1),
            "centre": [round(centre[0], 6), round(centre[1], 6)],
        },
    )


# --- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkInfo:
    """Which network answers for a region, and how distances will be measured."""

    region_code: str
    record: RoadNetwork | None
    method: str  # DistanceMethod value
    detour_factor: float
    built_at: dt.datetime | None = None
    problem: str = ""  # why a stored network could not be used

    @property
    def straight_line(self) -> bool:
        return self.method == DistanceMethod.STRAIGHT_LINE


_cache: OrderedDict[tuple[str, str], Network] = OrderedDict()
_cache_lock = threading.Lock()


def detour_factor() -> float:
    return float(settings.LINLI_PLANNING_DETOUR_FACTOR)


def walk_speed() -> float:
    return float(settings.LINLI_PLANNING_WALK_SPEED_M_S)


def covering_record(region_code: str) -> RoadNetwork | None:
    """The region's own network record, else its nearest ancestor's."""
    code = region_code.ljust(codes.CODE_LENGTH, "0")
    chain: list[str] = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        try:
            current = codes.parent_of(current)
        except codes.MalformedCode:
            break
    found = {r.region_id: r for r in RoadNetwork.objects.filter(region_id__in=chain)}
    return next((found[c] for c in chain if c in found), None)


def load_record(record: RoadNetwork) -> Network:
    """The record's arrays, from the in-process cache or its file (checked by hash)."""
    key = (record.file, record.sha256)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    path = network_dir() / record.file
    if not path.is_file():
        raise NetworkError(
            str(_("The stored network file %(file)s is missing.") % {"file": record.file})
        )
    if _sha256(path) != record.sha256:
        raise NetworkError(
            str(_("The stored network file %(file)s has been changed.") % {"file": record.file})
        )
    net = Network.load(path)
    with _cache_lock:
        _cache[key] = net
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return net


def network_for(region_code: str) -> tuple[Network | None, NetworkInfo]:
    """The stored network covering ``region_code`` (own or nearest ancestor's), loaded.

    ``(None, info)`` with ``info.method == "straight_line"`` when there is none, or when
    its file is missing or altered (``info.problem`` says so; the run records it)."""
    record = covering_record(region_code)
    factor = detour_factor()
    if record is None:
        return None, NetworkInfo(region_code, None, DistanceMethod.STRAIGHT_LINE, factor)
    try:
        net = load_record(record)
    except NetworkError as exc:
        log.warning("road network %s unusable: %s", record.pk, exc)
        return None, NetworkInfo(
            region_code,
            record,
            DistanceMethod.STRAIGHT_LINE,
            factor,
            record.built_at,
            problem=str(exc),
        )
    return net, NetworkInfo(region_code, record, DistanceMethod.NETWORK, factor, record.built_at)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- distances ----------------------------------------------------------------------------------


@dataclass
class Distances:
    """Walking distances in metres for one region: on its network when it has one (points
    snapped to the nearest node, snap distances added at both ends), else the straight line
    × the detour factor. Build with :func:`distances_for`."""

    net: Network | None
    info: NetworkInfo

    @property
    def method(self) -> str:
        return self.info.method

    def snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> Snap | None:
        return None if self.net is None else self.net.snap(lon, lat)

    def nearest(
        self,
        point_lon: npt.ArrayLike,
        point_lat: npt.ArrayLike,
        site_lon: npt.ArrayLike,
        site_lat: npt.ArrayLike,
        *,
        limit: float = math.inf,
    ) -> Nearest:
        """Per point: the distance to the nearest site (inf beyond ``limit``) and which
        site (index into the sites given; -1 if none)."""
        plo = np.asarray(point_lon, dtype=np.float64).ravel()
        slo = np.asarray(site_lon, dtype=np.float64).ravel()
        if self.net is None:
            return fallback.straight_line_nearest(
                plo, point_lat, slo, site_lat, detour=self.info.detour_factor, limit=limit
            )
        if plo.size == 0 or slo.size == 0:
            return Nearest(np.full(plo.size, np.inf), np.full(plo.size, -1, dtype=np.int32))
        points = self.net.snap(plo, point_lat, what="points")
        sites = self.net.snap(slo, site_lat, what="sites")
        # Each site starts at the walk from its door to its node, so the nearest site is
        # the nearest door, not the nearest node (engine.nearest.nearest_facility_from).
        found = nearest_facility_from(self.net, sites.node, sites.distance, limit=limit)
        fac = found.facility[points.node]
        dist = np.where(fac >= 0, found.distance[points.node] + points.distance, np.inf)
        far = dist > limit
        return Nearest(
            distance=np.where(far, np.inf, dist),
            facility=np.where(far, -1, fac).astype(np.int32),
        )

    def pairs(
        self,
        demand_lon: npt.ArrayLike,
        demand_lat: npt.ArrayLike,
        supply_lon: npt.ArrayLike,
        supply_lat: npt.ArrayLike,
        *,
        max_distance: float,
    ) -> Pairs:
        """Every (demand, supply) pair within ``max_distance`` metres: sparse distances for
        coverage matrices, p-median costs and E2SFCA."""
        if self.net is None:
            return fallback.straight_line_pairs(
                demand_lon,
                demand_lat,
                supply_lon,
                supply_lat,
                max_distance=max_distance,
                detour=self.info.detour_factor,
            )
        from .engine.e2sfca import network_pairs

        dlo = np.asarray(demand_lon, dtype=np.float64).ravel()
        slo = np.asarray(supply_lon, dtype=np.float64).ravel()
        empty = np.zeros(0, dtype=np.int64)
        if dlo.size == 0 or slo.size == 0:
            return Pairs(empty, empty, np.zeros(0))
        d = self.net.snap(dlo, demand_lat, what="demand points")
        s = self.net.snap(slo, supply_lat, what="supply points")
        # Node-to-node within the budget; the snap walks at both ends are added and the
        # budget checked again (a point far off the network reaches less).
        found = network_pairs(self.net, s.node, d.node, max_distance=max_distance)
        total = found.distance + d.distance[found.demand] + s.distance[found.supply]
        ok = total <= max_distance
        return Pairs(demand=found.demand[ok], supply=found.supply[ok], distance=total[ok])


def distances_for(region_code: str) -> Distances:
    """The way to measure walking distances in a region (see :class:`Distances`)."""
    net, info = network_for(region_code)
    return Distances(net=net, info=info)


# --- population and facilities as arrays ---------------------------------------------------------


@dataclass(frozen=True)
class DemandPoints:
    """Where a region's people live, as points with weights.

    Households carry no coordinates in Linli, so each household is a point placed
    deterministically inside its community's boundary (or near its centre); a community
    without household records gets POINTS_PER_EMPTY_COMMUNITY points. A community's
    population (its statistical figure; the registered residents where it has none) is
    shared among its points by household size. Priority groups are the residents app's
    tallies per community (no record is decrypted): within a community they are taken to
    live where everyone else does, so their coverage is the community's share × count.
    """

    lon: FloatArray
    lat: FloatArray
    weight: FloatArray
    community: IntArray
    communities: list[Region]
    population: FloatArray
    groups: dict[str, FloatArray] = field(default_factory=dict)
    unlocated: list[str] = field(default_factory=list)
    unlocated_population: float = 0.0


GROUP_CODES = (
    "elderly",
    "elderly_living_alone",
    "disabled",
    "minor",
    "family_in_difficulty",
    "left_behind",
)


def _spread_radii(communities: list[Region]) -> dict[str, float]:
    """Half the distance to the nearest other community centre, within the spread bounds."""
    located = [
        (c.code, c.lon, c.lat) for c in communities if c.lat is not None and c.lon is not None
    ]
    if len(located) < 2:
        return {code: SPREAD_MAX_M for code, _lon, _lat in located}
    lon = np.array([p[1] for p in located])
    lat = np.array([p[2] for p in located])
    proj = LocalProjection(float(lon.mean()), float(lat.mean()))
    xy = np.column_stack(proj.forward(lon, lat))
    gap, _idx = cKDTree(xy).query(xy, k=2)
    radius = np.clip(gap[:, 1] / 2.0, SPREAD_MIN_M, SPREAD_MAX_M)
    return {p[0]: float(r) for p, r in zip(located, radius, strict=True)}


def demand_points(region_code: str | Region, day: dt.date) -> DemandPoints:
    """The region's population points as of ``day`` (households registered by then)."""
    region = region_code if isinstance(region_code, Region) else resolve_region(region_code)
    prefix = region_prefix(region)
    communities = communities_of(region)
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    households: dict[str, list[int]] = {}
    for hid, code in (
        Household.objects.filter(community__code__startswith=prefix, registered_at__lt=end)
        .order_by("id")
        .values_list("id", "community_id")
    ):
        households.setdefault(code, []).append(hid)
    members = dict(
        Resident.objects.filter(
            community__code__startswith=prefix,
            household__isnull=False,
            anonymized_at__isnull=True,
            registered_at__lt=end,
        )
        .values("household_id")
        .annotate(n=Count("id"))
        .values_list("household_id", "n")
    )
    tallies = priority_counts(scope=Scope(everything=False, prefixes=(prefix,)), day=day)
    radii = _spread_radii(communities)

    kept: list[Region] = []
    lons: list[FloatArray] = []
    lats: list[FloatArray] = []
    weights: list[FloatArray] = []
    labels: list[IntArray] = []
    population: list[float] = []
    groups: dict[str, list[float]] = {g: [] for g in GROUP_CODES}
    unlocated: list[str] = []
    unlocated_population = 0.0
    for community in communities:
        counts = tallies.get(community.code, {})
        pop = float(
            community.population if community.population is not None else counts.get("residents", 0)
        )
        ids = households.get(community.code, [])
        n = len(ids) or POINTS_PER_EMPTY_COMMUNITY
        placed = spread_points(community, n, radii.get(community.code, SPREAD_MAX_M))
        if placed is None:
            unlocated.append(community.code)
            unlocated_population += pop
            continue
        size = np.array([members.get(h, 0) for h in ids], dtype=np.float64)
        share = size / size.sum() if ids and size.sum() > 0 else np.full(n, 1.0 / n)
        index = len(kept)
        kept.append(community)
        lons.append(placed[0])
        lats.append(placed[1])
        weights.append(pop * share)
        labels.append(np.full(n, index, dtype=np.int64))
        population.append(pop)
        for g in GROUP_CODES:
            groups[g].append(float(counts.get(g, 0)))
    return DemandPoints(
        lon=np.concatenate(lons) if lons else np.zeros(0),
        lat=np.concatenate(lats) if lats else np.zeros(0),
        weight=np.concatenate(weights) if weights else np.zeros(0),
        community=np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        communities=kept,
        population=np.asarray(population, dtype=np.float64),
        groups={g: np.asarray(v, dtype=np.float64) for g, v in groups.items()},
        unlocated=unlocated,
        unlocated_population=unlocated_population,
    )


@dataclass(frozen=True)
class FacilityPoints:
    """Open facilities of a kind as arrays; ``capacity`` is Location.capacity, or, where
    unknown, the median of the known ones (1 when none is known), so that E2SFCA neither
    drops a facility nor invents a large one."""

    ids: list[str]
    names: list[str]
    lon: FloatArray
    lat: FloatArray
    capacity: FloatArray
    capacity_known: int
    region_codes: list[str | None]
    last_modified: dt.datetime | None = None


def facility_points(
    region_code: str | Region,
    kind: str,
    day: dt.date,
    *,
    margin_m: float = FACILITY_MARGIN_M,
) -> FacilityPoints:
    """Facilities of ``kind`` open on ``day`` in the region, or within ``margin_m`` of its
    communities' extent (a clinic just over the boundary serves the edge of the region)."""
    region = region_code if isinstance(region_code, Region) else resolve_region(region_code)
    q = Q(region__code__startswith=region_prefix(region))
    extent = extent_of(region)
    if extent is not None:
        west, south, east, north = extent
        dlat = margin_m / 111_320.0
        dlon = dlat / max(math.cos(math.radians((south + north) / 2.0)), 0.01)
        q |= Q(
            latitude__gte=south - dlat,
            latitude__lte=north + dlat,
            longitude__gte=west - dlon,
            longitude__lte=east + dlon,
        )
    rows = list(
        Location.objects.filter(q, facilities_open_on(day), kind=kind)
        .exclude(latitude__isnull=True)
        .exclude(longitude__isnull=True)
        .order_by("id")
        .values_list(
            "id", "name", "longitude", "latitude", "capacity", "region_id", "last_modified"
        )
    )
    capacity = np.array([np.nan if r[4] is None else float(r[4]) for r in rows], dtype=np.float64)
    known = np.isfinite(capacity) & (capacity > 0)
    fill = float(np.median(capacity[known])) if known.any() else 1.0
    return FacilityPoints(
        ids=[str(r[0]) for r in rows],
        names=[r[1] for r in rows],
        lon=np.array([r[2] for r in rows], dtype=np.float64),
        lat=np.array([r[3] for r in rows], dtype=np.float64),
        capacity=np.where(known, capacity, fill),
        capacity_known=int(known.sum()),
        region_codes=[r[5] for r in rows],
        last_modified=max((r[6] for r in rows), default=None),
    )


def inputs_changed(region: Region) -> dict[str, str | None]:
    """When the inputs last changed: residents, households, communities' figures."""
    prefix = region_prefix(region)
    resident = Resident.objects.filter(community__code__startswith=prefix).aggregate(
        at=Max("updated_at")
    )["at"]
    household = Household.objects.filter(community__code__startswith=prefix).aggregate(
        at=Max("registered_at")
    )["at"]
    regions = Region.objects.filter(code__startswith=prefix).aggregate(at=Max("updated_at"))["at"]
    latest = max((t for t in (resident, household) if t is not None), default=None)
    return {
        "residents_changed_at": latest.isoformat() if latest else None,
        "regions_changed_at": regions.isoformat() if regions else None,
    }
