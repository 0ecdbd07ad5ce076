"""A plausible synthetic walking network, for the demo district and the benchmarks.

A city's walking graph, seen from above, is mostly a distorted grid: blocks of 60-150 m,
streets that bend a little, missing links (walls, canals, gated compounds), alleys cutting
blocks diagonally, and a few long straight main roads. ``generate`` builds exactly that,
fully vectorised, deterministic by seed, and connected (only the largest component is
kept, which drops a fraction of a percent of nodes at the default removal rate).
"""

from __future__ import annotations

import math

import numpy as np

from .network import LocalProjection, Network, NetworkError

# Where a synthetic city sits when the caller names no centre (benchmarks): any mid-latitude
# point would do. A region's network is generated around the region's own communities
# (planning.networks.network_generate passes their centre).
DEFAULT_CENTRE = (120.13, 30.26)


def generate(
    seed: int,
    n_nodes: int = 10_000,
    extent_m: float | None = None,
    *,
    centre: tuple[float, float] = DEFAULT_CENTRE,
    removed_share: float = 0.10,
    diagonal_share: float = 0.10,
    arterial_every: int = 25,
) -> Network:
    """A connected jittered-grid network of about ``n_nodes`` nodes.

    ``extent_m`` is the side of the square the city covers; by default the blocks are 80 m,
    so 160,000 nodes cover 32 km × 32 km and about 300,000 edges.
    ``removed_share`` of grid links are dropped, ``diagonal_share`` of blocks get a diagonal
    alley, and every ``arterial_every``-th row and column is a straight main road that keeps
    all its links.
    """
    if n_nodes < 4:
        raise NetworkError(f"n_nodes: {n_nodes} is too few for a network (at least 4)")
    if not 0.0 <= removed_share < 0.5:
        raise NetworkError("removed_share: must be in [0, 0.5)")
    side = math.ceil(math.sqrt(n_nodes))
    rows = side
    cols = math.ceil(n_nodes / rows)
    spacing = 80.0 if extent_m is None else float(extent_m) / max(cols - 1, 1)
    if not spacing > 0:
        raise NetworkError("extent_m: must be positive")
    rng = np.random.default_rng(seed)

    r = np.repeat(np.arange(rows), cols)[:n_nodes]
    c = np.tile(np.arange(cols), rows)[:n_nodes]
    arterial_row = r % arterial_every == 0
    arterial_col = c % arterial_every == 0
    jitter = rng.uniform(-0.25, 0.25, size=(2, n_nodes)) * spacing
    # Main roads run straight: no jitter across their direction.
    x = c * spacing + np.where(arterial_col, 0.0, jitter[0])
    y = r * spacing + np.where(arterial_row, 0.0, jitter[1])
    x -= x.mean()
    y -= y.mean()

    node = np.full((rows, cols), -1, dtype=np.int64)
    node[r, c] = np.arange(n_nodes)
    pairs: list[np.ndarray] = []
    h = np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], axis=1)
    h_main = np.repeat(np.arange(rows) % arterial_every == 0, cols - 1)
    v = np.stack([node[:-1, :].ravel(), node[1:, :].ravel()], axis=1)
    v_main = np.tile(np.arange(cols) % arterial_every == 0, rows - 1)
    for links, main in ((h, h_main), (v, v_main)):
        ok = (links >= 0).all(axis=1)
        drop = rng.random(len(links)) < removed_share
        pairs.append(links[ok & (main | ~drop)])
    # Diagonal alleys: one per chosen block, in either direction.
    d1 = np.stack([node[:-1, :-1].ravel(), node[1:, 1:].ravel()], axis=1)
    d2 = np.stack([node[:-1, 1:].ravel(), node[1:, :-1].ravel()], axis=1)
    pick = rng.random(len(d1)) < diagonal_share
    way = rng.random(len(d1)) < 0.5
    diag = np.where(way[:, None], d1, d2)[pick]
    pairs.append(diag[(diag >= 0).all(axis=1)])
    edges = np.concatenate(pairs)

    lon, lat = LocalProjection(*centre).inverse(x, y)
    net = Network.from_edges(lon=lon, lat=lat, edge_from=edges[:, 0], edge_to=edges[:, 1])
    return largest_component(net)


def largest_component(net: Network) -> Network:
    """The network restricted to its largest connected component, renumbered 0..n-1."""
    k, labels = net.components()
    if k <= 1:
        return net
    keep_label = int(np.argmax(np.bincount(labels)))
    keep = labels == keep_label
    new_index = np.full(net.n_nodes, -1, dtype=np.int64)
    new_index[keep] = np.arange(int(keep.sum()))
    u, v, w = net.edges()
    ok = keep[u]  # an edge's two ends are always in the same component
    return Network.from_edges(
        lon=net.lon[keep],
        lat=net.lat[keep],
        edge_from=new_index[u[ok]],
        edge_to=new_index[v[ok]],
        edge_length=w[ok],
        node_ids=np.arange(int(keep.sum()), dtype=np.int64),
    )
