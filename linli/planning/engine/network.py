"""A walking network as compact arrays: nodes, CSR adjacency, lengths in metres.

A region's graph is a handful of numpy arrays (CONVENTIONS #12), saved as one compressed
``.npz``. Everything the planning engine does on a network — nearest facility, coverage,
E2SFCA, siting — starts from :class:`Network` and never from Python objects per node.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the usual haversine constant
# Two distinct nodes at the same spot (a tagging slip, a synthetic jitter of zero) would give
# a zero-length edge; scipy's csgraph treats an explicit 0 as "no edge" in some code paths,
# so lengths are floored at a millimetre, far below anything a walking analysis can see.
MIN_EDGE_LENGTH_M = 1e-3
NPZ_FORMAT = 1


class NetworkError(ValueError):
    """A network that cannot be built, read or used; the message says why."""


def haversine_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between (lon1, lat1) and (lon2, lat2), elementwise."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection around a centre, in metres.

    Why not UTM or Web Mercator: a region is at most a few hundred kilometres across, the
    projection is only used to *find* the nearest node (distances returned are haversine),
    and an equirectangular plane centred on the region has a scale error of about
    tan(lat)·Δlat — 0.15 % 17 km from the centre at 30° N — with no dependency and no zone
    boundaries. Mercator would exaggerate distances by 1/cos(lat) (15 % at 30° N) uniformly,
    which is harmless for ranking but wrong for any radius query in metres.
    """

    lon0: float
    lat0: float

    @property
    def _kx(self) -> float:
        return float(EARTH_RADIUS_M * np.cos(np.radians(self.lat0)) * np.pi / 180.0)

    @property
    def _ky(self) -> float:
        return float(EARTH_RADIUS_M * np.pi / 180.0)

    def forward(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self._kx
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * self._ky
        return x, y

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        lon = np.asarray(x, dtype=np.float64) / self._kx + self.lon0
        lat = np.asarray(y, dtype=np.float64) / self._ky + self.lat0
        return lon, lat


def check_lonlat(
    lon: npt.ArrayLike, lat: npt.ArrayLike, what: str
) -> tuple[FloatArray, FloatArray]:
    """Coordinates as float arrays, or a NetworkError naming ``what`` and the first bad value."""
    lo = np.asarray(lon, dtype=np.float64).ravel()
    la = np.asarray(lat, dtype=np.float64).ravel()
    if lo.shape != la.shape:
        raise NetworkError(f"{what}: {lo.size} longitudes but {la.size} latitudes")
    bad = ~(np.isfinite(lo) & np.isfinite(la) & (np.abs(lo) <= 180.0) & (np.abs(la) <= 90.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise NetworkError(
            f"{what}: coordinate #{i} ({lo[i]}, {la[i]}) is not a longitude/latitude pair"
        )
    return lo, la


@dataclass(frozen=True)
class Snap:
    """Where points land on the network: node index per point and the distance to it."""

    node: IntArray
    distance: FloatArray


@dataclass(eq=False)
class Network:
    """An undirected walking graph stored as a symmetric CSR adjacency.

    ``indptr``/``indices``/``lengths`` hold both directions of every edge, so row ``i`` lists
    the neighbours of node ``i``. ``node_ids`` are the source's ids (OSM node ids, or
    0..n-1 for a synthetic network); everything else addresses nodes by position.
    """

    node_ids: IntArray
    lon: FloatArray
    lat: FloatArray
    indptr: Int32Array
    indices: Int32Array
    lengths: FloatArray

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_edges(
        cls,
        *,
        lon: npt.ArrayLike,
        lat: npt.ArrayLike,
        edge_from: npt.ArrayLike,
        edge_to: npt.ArrayLike,
        edge_length: npt.ArrayLike | None = None,
        node_ids: npt.ArrayLike | None = None,
    ) -> Network:
        """Build from an undirected edge list (node positions); lengths default to haversine.

        Self-loops are dropped and parallel edges keep the shortest: a walker takes the
        shorter of two ways between the same corners, and scipy would otherwise *add*
        duplicate CSR entries together.
        """
        lo, la = check_lonlat(lon, lat, "nodes")
        n = lo.size
        u = np.asarray(edge_from, dtype=np.int64).ravel()
        v = np.asarray(edge_to, dtype=np.int64).ravel()
        if u.shape != v.shape:
            raise NetworkError(f"edges: {u.size} start nodes but {v.size} end nodes")
        if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
            raise NetworkError(f"edges: a node index is outside 0..{n - 1}")
        if edge_length is None:
            w = haversine_m(lo[u], la[u], lo[v], la[v])
        else:
            w = np.asarray(edge_length, dtype=np.float64).ravel()
            if w.shape != u.shape:
                raise NetworkError(f"edges: {u.size} edges but {w.size} lengths")
            if not np.all(np.isfinite(w)) or (w.size and w.min() < 0):
                raise NetworkError("edges: lengths must be finite and not negative")
        if n >= np.iinfo(np.int32).max:
            raise NetworkError(f"nodes: {n} is more than a network can hold")
        ids = np.arange(n, dtype=np.int64) if node_ids is None else np.asarray(node_ids, np.int64)
        if ids.shape != (n,):
            raise NetworkError(f"nodes: {ids.size} ids for {n} nodes")

        keep = u != v
        a = np.minimum(u[keep], v[keep])
        b = np.maximum(u[keep], v[keep])
        w = np.maximum(w[keep], MIN_EDGE_LENGTH_M)
        # Sort by (a, b, length) so the first of each run of duplicates is the shortest.
        order = np.lexsort((w, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.ones(a.size, dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b, w = a[first], b[first], w[first]

        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        wt = np.concatenate([w, w])
        order = np.lexsort((dst, src))
        src, dst, wt = src[order], dst[order], wt[order]
        counts = np.bincount(src, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        if indptr[-1] >= np.iinfo(np.int32).max:
            raise NetworkError(f"edges: {indptr[-1]} arcs is more than a network can hold")
        return cls(
            node_ids=ids,
            lon=lo,
            lat=la,
            indptr=indptr.astype(np.int32),
            indices=dst.astype(np.int32),
            lengths=wt,
        )

    # -- basic facts --------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return int(self.node_ids.size)

    @property
    def n_edges(self) -> int:
        """Undirected edges (each stored twice in the CSR)."""
        return int(self.indices.size // 2)

    def edges(self) -> tuple[IntArray, IntArray, FloatArray]:
        """Each undirected edge once, as (from, to, length) with from < to."""
        src = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        dst = self.indices.astype(np.int64)
        once = src < dst
        return src[once], dst[once], self.lengths[once]

    @cached_property
    def projection(self) -> LocalProjection:
        if self.n_nodes == 0:
            return LocalProjection(0.0, 0.0)
        lon0 = float((self.lon.min() + self.lon.max()) / 2)
        return LocalProjection(lon0, float((self.lat.min() + self.lat.max()) / 2))

    @cached_property
    def graph(self) -> Any:
        """The scipy CSR matrix, built once: csgraph would re-validate a copy every call."""
        g = csr_matrix(
            (self.lengths, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes)
        )
        g.has_sorted_indices = True
        return g

    @cached_property
    def _tree(self) -> cKDTree:
        x, y = self.projection.forward(self.lon, self.lat)
        # An unbalanced tree builds in a third of the time and queries as fast on road nodes.
        return cKDTree(np.column_stack([x, y]), balanced_tree=False)

    def components(self) -> tuple[int, Int32Array]:
        """Number of connected components and the component label of each node."""
        from scipy.sparse.csgraph import connected_components

        k, labels = connected_components(self.graph, directed=False)
        return int(k), np.asarray(labels, dtype=np.int32)

    # -- snapping -------------------------------------------------------------------------------

    def snap(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike, what: str = "points", workers: int = 1
    ) -> Snap:
        """Nearest node of each point and the haversine distance to it, in metres."""
        if self.n_nodes == 0:
            raise NetworkError("the network has no nodes to snap to")
        lo, la = check_lonlat(lon, lat, what)
        x, y = self.projection.forward(lo, la)
        # Queries in place order (200 m cells, row by row) walk the tree's memory in order:
        # 2.5× faster than households in file order on a 1,000,000-node tree.
        order = np.lexsort((np.floor(x / 200.0), np.floor(y / 200.0)))
        _, found = self._tree.query(np.column_stack([x[order], y[order]]), k=1, workers=workers)
        node = np.empty(lo.size, dtype=np.int64)
        node[order] = found
        return Snap(node=node, distance=haversine_m(lo, la, self.lon[node], self.lat[node]))

    # -- storage -------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """One compressed ``.npz`` with the arrays; ``load`` gives the same network back."""
        np.savez_compressed(
            path,
            format=np.array(NPZ_FORMAT),
            node_ids=self.node_ids,
            lon=self.lon,
            lat=self.lat,
            indptr=self.indptr,
            indices=self.indices,
            lengths=self.lengths,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Network:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise NetworkError(f"{os.fspath(path)}: not a saved network ({exc})") from exc
        missing = {"format", "node_ids", "lon", "lat", "indptr", "indices", "lengths"} - set(arrays)
        if missing:
            raise NetworkError(f"{os.fspath(path)}: not a saved network (no {sorted(missing)})")
        if int(arrays["format"]) != NPZ_FORMAT:
            raise NetworkError(f"{os.fspath(path)}: network format {int(arrays['format'])}")
        n = arrays["node_ids"].size
        indptr = arrays["indptr"]
        if indptr.size != n + 1 or indptr[-1] != arrays["indices"].size:
            raise NetworkError(f"{os.fspath(path)}: adjacency arrays do not fit together")
        return cls(
            node_ids=arrays["node_ids"].astype(np.int64),
            lon=arrays["lon"].astype(np.float64),
            lat=arrays["lat"].astype(np.float64),
            indptr=indptr.astype(np.int32),
            indices=arrays["indices"].astype(np.int32),
            lengths=arrays["lengths"].astype(np.float64),
        )
