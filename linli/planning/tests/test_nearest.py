"""Nearest facility per node, coverage shares and the straight-line fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linli.planning.engine.coverage import LIFE_CIRCLE_THRESHOLDS_M, coverage_shares
from linli.planning.engine.fallback import straight_line_nearest, straight_line_pairs
from linli.planning.engine.nearest import (
    nearest_by_kind,
    nearest_facility,
    nearest_facility_from,
    walk_distance,
)
from linli.planning.engine.network import Network, NetworkError, haversine_m
from linli.planning.engine.synthetic import generate


def path_graph() -> Network:
    # 0 -10- 1 -20- 2 -30- 3        4 -5- 5   (4 and 5 are cut off from the rest)
    return Network.from_edges(
        lon=[120.0, 120.001, 120.002, 120.003, 120.1, 120.101],
        lat=[30.0] * 6,
        edge_from=[0, 1, 2, 4],
        edge_to=[1, 2, 3, 5],
        edge_length=[10.0, 20.0, 30.0, 5.0],
    )


def test_nearest_on_a_path_with_an_unreachable_part() -> None:
    res = nearest_facility(path_graph(), [3, 0])
    assert res.distance.tolist() == [0.0, 10.0, 30.0, 0.0, math.inf, math.inf]
    assert res.facility.tolist() == [1, 1, 0, 0, -1, -1]


def test_limit_cuts_off_and_shared_node_answers_with_first_listed() -> None:
    res = nearest_facility(path_graph(), [1, 1], limit=20.0)
    assert res.distance.tolist() == [10.0, 0.0, 20.0, math.inf, math.inf, math.inf]
    assert res.facility.tolist() == [0, 0, 0, -1, -1, -1]


def test_a_facility_whose_door_is_far_from_its_node_does_not_hide_a_nearer_one() -> None:
    # Facility 0 sits on node 1 but its door is 45 m off the network; facility 1's door is
    # on node 3. From node 2: 20 + 45 = 65 m to facility 0, 30 m to facility 1.
    res = nearest_facility_from(path_graph(), [1, 3], [45.0, 0.0])
    assert res.distance.tolist() == [55.0, 45.0, 30.0, 0.0, math.inf, math.inf]
    assert res.facility.tolist() == [0, 0, 1, 1, -1, -1]
    # Node by node the plain pass would give facility 0 to node 2 (20 m to its node).
    assert nearest_facility(path_graph(), [1, 3]).facility.tolist()[2] == 0
    limited = nearest_facility_from(path_graph(), [1, 3], [45.0, 0.0], limit=40.0)
    assert limited.facility.tolist() == [-1, -1, 1, 1, -1, -1]
    with pytest.raises(NetworkError, match="starts"):
        nearest_facility_from(path_graph(), [1, 3], [45.0])


def test_no_facility_means_inf_everywhere() -> None:
    res = nearest_facility(path_graph(), [])
    assert np.isinf(res.distance).all()
    assert (res.facility == -1).all()


def test_bad_facility_node_is_named() -> None:
    with pytest.raises(NetworkError, match=r"facilities: a node index is outside 0\.\.5"):
        nearest_facility(path_graph(), [6])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equals_networkx_multi_source_dijkstra(seed: int) -> None:
    nx = pytest.importorskip("networkx")
    net = generate(seed, 900)
    u, v, w = net.edges()
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    rng = np.random.default_rng(seed)
    sources = rng.choice(net.n_nodes, 7, replace=False)
    expected = nx.multi_source_dijkstra_path_length(g, set(sources.tolist()))
    res = nearest_facility(net, sources)
    got = dict(enumerate(res.distance.tolist()))
    assert got.keys() == expected.keys()
    np.testing.assert_allclose(
        [got[k] for k in sorted(got)], [expected[k] for k in sorted(got)], rtol=1e-12
    )
    # The facility named is one at exactly that distance.
    single = {int(s): nx.single_source_dijkstra_path_length(g, int(s)) for s in sources.tolist()}
    for node in range(0, net.n_nodes, 37):
        src = int(sources[res.facility[node]])
        assert single[src][node] == pytest.approx(res.distance[node], rel=1e-12)


def test_by_kind_threads_equal_serial() -> None:
    net = generate(4, 2500)
    rng = np.random.default_rng(4)
    kinds = {f"k{i}": rng.choice(net.n_nodes, 5 + i, replace=False) for i in range(5)}
    serial = nearest_by_kind(net, kinds, workers=1, limit=900.0)
    threaded = nearest_by_kind(net, kinds, workers=2, limit=900.0)
    assert list(threaded) == list(kinds)
    for k in kinds:
        assert np.array_equal(serial[k].distance, threaded[k].distance)
        assert np.array_equal(serial[k].facility, threaded[k].facility)
        assert np.isinf(serial[k].distance).any()
        assert serial[k].distance[np.isfinite(serial[k].distance)].max() <= 900.0


def test_walk_distance() -> None:
    assert walk_distance() == 1080.0
    assert walk_distance(10, 1.0) == 600.0
    assert LIFE_CIRCLE_THRESHOLDS_M == (300.0, 500.0, 1000.0, 1080.0)
    with pytest.raises(NetworkError):
        walk_distance(0)


def test_coverage_shares_per_region_and_group() -> None:
    distance = [100, 400, 700, 1050, math.inf, 250]
    weight = [2, 1, 1, 3, 1, 4]
    region = [0, 0, 0, 1, 1, 2]
    group = [0, 1, 1, 0, 1, 0]
    cov = coverage_shares(distance, weight, region)
    assert cov.population.tolist() == [4.0, 4.0, 4.0]
    assert cov.covered.tolist() == [
        [2.0, 3.0, 4.0, 4.0],
        [0.0, 0.0, 0.0, 3.0],
        [4.0, 4.0, 4.0, 4.0],
    ]
    assert cov.share[1].tolist() == [0.0, 0.0, 0.0, 0.75]
    by_group = coverage_shares(distance, weight, region, group=group, n_regions=4)
    assert by_group.population.shape == (4, 2)
    assert by_group.population[0].tolist() == [2.0, 2.0]
    assert by_group.covered[0, 1].tolist() == [0.0, 1.0, 2.0, 2.0]
    assert np.isnan(by_group.share[3]).all()  # nobody lives in region 3


def test_coverage_rejects_mismatched_input() -> None:
    with pytest.raises(NetworkError, match="one value per point"):
        coverage_shares([1.0], [1.0, 2.0], [0])
    with pytest.raises(NetworkError, match="weight"):
        coverage_shares([1.0], [-1.0], [0])


def test_straight_line_fallback() -> None:
    points = ([120.0, 120.01, 120.03], [30.0, 30.0, 30.0])
    sites = ([120.011, 119.99], [30.0, 30.0])
    res = straight_line_nearest(*points, *sites, detour=1.5)
    assert res.facility.tolist() == [1, 0, 0]
    expected = haversine_m(points[0], points[1], [119.99, 120.011, 120.011], [30.0] * 3) * 1.5
    np.testing.assert_allclose(res.distance, expected, rtol=1e-12)
    far = straight_line_nearest(*points, *sites, detour=1.5, limit=2000.0)
    assert far.facility.tolist() == [1, 0, -1]
    assert math.isinf(far.distance[2])
    pairs = straight_line_pairs(*points, *sites, max_distance=2000.0, detour=1.5)
    assert list(zip(pairs.demand.tolist(), pairs.supply.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (1, 0),
    ]
    exact = haversine_m([120.0, 120.0, 120.01], [30.0] * 3, [120.011, 119.99, 120.011], [30.0] * 3)
    np.testing.assert_allclose(pairs.distance, exact * 1.5, rtol=1e-12)
    with pytest.raises(NetworkError, match="detour factor"):
        straight_line_nearest(*points, *sites, detour=0.5)
