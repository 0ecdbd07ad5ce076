"""Distances without a network: straight line × a detour factor.

Used where a region has no road network yet (the UI says so). The straight line is the
haversine distance; the detour factor (about 1.3 in dense Chinese street grids, higher
where rivers and walls intervene) stands in for the network's extra length. Points and
sites are projected with the same local equirectangular projection as network snapping,
and a cKDTree finds nearest sites and pairs within a radius.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from .e2sfca import Pairs
from .nearest import Nearest
from .network import FloatArray, LocalProjection, NetworkError, check_lonlat, haversine_m

DEFAULT_DETOUR_FACTOR = 1.3


def _projection(lon: FloatArray, lat: FloatArray) -> LocalProjection:
    return LocalProjection(float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2))


def _check_detour(detour: float) -> None:
    if not (math.isfinite(detour) and detour >= 1.0):
        raise NetworkError(f"detour factor: {detour} must be a number of 1 or more")


def straight_line_nearest(
    point_lon: npt.ArrayLike,
    point_lat: npt.ArrayLike,
    site_lon: npt.ArrayLike,
    site_lat: npt.ArrayLike,
    *,
    detour: float = DEFAULT_DETOUR_FACTOR,
    limit: float = math.inf,
) -> Nearest:
    """Per point: straight-line distance × detour to the nearest site, and which site."""
    _check_detour(detour)
    plo, pla = check_lonlat(point_lon, point_lat, "points")
    slo, sla = check_lonlat(site_lon, site_lat, "sites")
    if slo.size == 0 or plo.size == 0:
        return Nearest(np.full(plo.size, np.inf), np.full(plo.size, -1, dtype=np.int32))
    proj = _projection(np.concatenate([plo, slo]), np.concatenate([pla, sla]))
    tree = cKDTree(np.column_stack(proj.forward(slo, sla)))
    _, site = tree.query(np.column_stack(proj.forward(plo, pla)), k=1)
    site = np.asarray(site, dtype=np.int64)
    dist = haversine_m(plo, pla, slo[site], sla[site]) * detour
    far = dist > limit
    return Nearest(
        distance=np.where(far, np.inf, dist),
        facility=np.where(far, -1, site).astype(np.int32),
    )


def straight_line_pairs(
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    supply_lon: npt.ArrayLike,
    supply_lat: npt.ArrayLike,
    *,
    max_distance: float,
    detour: float = DEFAULT_DETOUR_FACTOR,
) -> Pairs:
    """Every (demand, supply) pair whose straight line × detour is within ``max_distance``."""
    _check_detour(detour)
    dlo, dla = check_lonlat(demand_lon, demand_lat, "demand points")
    slo, sla = check_lonlat(supply_lon, supply_lat, "supply points")
    if not (max_distance >= 0 and math.isfinite(max_distance)):
        raise NetworkError(f"max_distance: {max_distance} must be a finite distance")
    empty = np.zeros(0, dtype=np.int64)
    if dlo.size == 0 or slo.size == 0:
        return Pairs(empty, empty, np.zeros(0))
    proj = _projection(np.concatenate([dlo, slo]), np.concatenate([dla, sla]))
    dtree = cKDTree(np.column_stack(proj.forward(dlo, dla)))
    stree = cKDTree(np.column_stack(proj.forward(slo, sla)))
    # 1 % slack on the projected radius absorbs the projection's scale error; the exact
    # haversine test below decides.
    sm = stree.sparse_distance_matrix(dtree, max_distance / detour * 1.01, output_type="ndarray")
    s = sm["i"].astype(np.int64)
    d = sm["j"].astype(np.int64)
    dist = haversine_m(dlo[d], dla[d], slo[s], sla[s]) * detour
    ok = dist <= max_distance
    order = np.lexsort((s[ok], d[ok]))
    return Pairs(demand=d[ok][order], supply=s[ok][order], distance=dist[ok][order])
