"""The synthetic walking network: connected, deterministic, of the size asked for."""

from __future__ import annotations

import numpy as np
import pytest

from linli.planning.engine.network import NetworkError, haversine_m
from linli.planning.engine.synthetic import DEFAULT_CENTRE, generate


def test_connected_and_about_the_size_asked() -> None:
    net = generate(11, 5000)
    assert net.components()[0] == 1
    assert 4950 <= net.n_nodes <= 5000
    # A grid has ~2 links per node; 10 % removed and 10 % of blocks with a diagonal.
    assert 1.8 * net.n_nodes <= net.n_edges <= 2.0 * net.n_nodes
    assert net.node_ids.tolist() == list(range(net.n_nodes))


def test_deterministic_by_seed() -> None:
    a, b, c = generate(3, 3000), generate(3, 3000), generate(4, 3000)
    for name in ("lon", "lat", "indptr", "indices", "lengths"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.lon, c.lon)


def test_blocks_lengths_and_place() -> None:
    net = generate(1, 10_000)
    u, v, w = net.edges()
    np.testing.assert_allclose(
        w, haversine_m(net.lon[u], net.lat[u], net.lon[v], net.lat[v]), rtol=1e-12
    )
    assert 70.0 < float(np.median(w)) < 95.0  # 80 m blocks, jittered, some diagonals
    assert abs(float(net.lon.mean()) - DEFAULT_CENTRE[0]) < 0.01
    assert abs(float(net.lat.mean()) - DEFAULT_CENTRE[1]) < 0.01


def test_extent_sets_the_block_size() -> None:
    net = generate(2, 2500, extent_m=2450.0)  # 50 × 50 nodes, 50 m apart
    _, _, w = net.edges()
    assert 40.0 < float(np.median(w)) < 60.0


def test_too_small_is_refused() -> None:
    with pytest.raises(NetworkError, match="n_nodes"):
        generate(1, 2)
