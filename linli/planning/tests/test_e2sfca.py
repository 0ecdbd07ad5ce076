"""E2SFCA: a hand-computed case, the network front end, and equality with PySAL access."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linli.planning.engine.e2sfca import (
    GaussianDecay,
    Pairs,
    StepDecay,
    e2sfca_network,
    e2sfca_pairs,
    network_pairs,
    no_decay,
)
from linli.planning.engine.network import Network, NetworkError
from linli.planning.engine.synthetic import generate

LUO_QI = StepDecay(bounds=(10.0, 20.0, 30.0), weights=(1.0, 0.68, 0.22))

# Three demand points, two facilities A (capacity 10) and B (capacity 20), catchment 30.
#   point 0 (100 people): A at 5 (w 1),     B at 25 (w 0.22)
#   point 1 (200 people): A at 15 (w 0.68), B at 10 (w 1, the bound is inclusive)
#   point 2 (300 people): A at 40 (out),    B at 20 (w 0.68)
HAND = Pairs(
    demand=np.array([0, 0, 1, 1, 2, 2]),
    supply=np.array([0, 1, 0, 1, 0, 1]),
    distance=np.array([5.0, 25.0, 15.0, 10.0, 40.0, 20.0]),
)
D_A = 100 * 1 + 200 * 0.68  # 236
D_B = 100 * 0.22 + 200 * 1 + 300 * 0.68  # 426
R_A, R_B = 10 / D_A, 20 / D_B


def test_hand_computed_3x2() -> None:
    res = e2sfca_pairs(
        HAND, supply=[10, 20], demand=[100, 200, 300], max_distance=30.0, decay=LUO_QI
    )
    np.testing.assert_allclose(res.catchment_demand, [D_A, D_B], rtol=1e-15)
    np.testing.assert_allclose(res.ratio, [R_A, R_B], rtol=1e-15)
    np.testing.assert_allclose(
        res.access, [R_A + 0.22 * R_B, 0.68 * R_A + R_B, 0.68 * R_B], rtol=1e-15
    )


def test_hand_computed_classic_2sfca_without_decay() -> None:
    res = e2sfca_pairs(HAND, supply=[10, 20], demand=[100, 200, 300], max_distance=30.0)
    np.testing.assert_allclose(res.ratio, [10 / 300, 20 / 600], rtol=1e-15)
    np.testing.assert_allclose(res.access, [10 / 300 + 20 / 600, 10 / 300 + 20 / 600, 20 / 600])


def test_same_case_on_a_network() -> None:
    # Star-ish network whose path lengths are the distances of HAND:
    # node 0=A, 1=B, 2..4 = points 0..2.
    net = Network.from_edges(
        lon=[120.0, 120.001, 120.002, 120.003, 120.004],
        lat=[30.0] * 5,
        edge_from=[0, 2, 0, 3, 1],
        edge_to=[2, 1, 3, 1, 4],
        edge_length=[5.0, 25.0, 15.0, 10.0, 20.0],
    )
    res = e2sfca_network(
        net,
        supply_nodes=[0, 1],
        capacity=[10, 20],
        demand_nodes=[2, 3, 4],
        population=[100, 200, 300],
        max_distance=30.0,
        decay=LUO_QI,
    )
    # Point 2 (node 4) reaches A at 20 + 10 + 15 = 45 > 30: out, as in HAND; point 0 reaches
    # B directly at 25 (through A it is 30).
    np.testing.assert_allclose(res.ratio, [R_A, R_B], rtol=1e-15)
    np.testing.assert_allclose(
        res.access, [R_A + 0.22 * R_B, 0.68 * R_A + R_B, 0.68 * R_B], rtol=1e-15
    )


def test_unreached_point_has_zero_access_and_lonely_facility_nan_ratio() -> None:
    net = Network.from_edges(
        lon=[120.0, 120.001, 120.002, 120.003],
        lat=[30.0] * 4,
        edge_from=[0, 2],
        edge_to=[1, 3],
        edge_length=[100.0, 100.0],
    )
    res = e2sfca_network(
        net,
        supply_nodes=[0, 3],
        capacity=[5, 5],
        demand_nodes=[1, 1, 2],
        population=[10, 30, 0],
        max_distance=150.0,
    )
    assert res.access.tolist() == [5 / 40, 5 / 40, 0.0]
    assert res.ratio[0] == 5 / 40
    assert math.isnan(res.ratio[1])  # its only neighbour has no population


def test_pairs_are_the_same_from_either_side() -> None:
    net = generate(5, 1600)
    rng = np.random.default_rng(5)
    few = rng.choice(net.n_nodes, 10, replace=False)
    many = rng.choice(net.n_nodes, 200, replace=False)
    a = network_pairs(net, few, many, max_distance=600.0)  # runs from supply
    b = network_pairs(net, many, few, max_distance=600.0)  # runs from demand (the few)
    ka = sorted(zip(a.supply.tolist(), a.demand.tolist(), a.distance.tolist(), strict=True))
    kb = sorted(zip(b.demand.tolist(), b.supply.tolist(), b.distance.tolist(), strict=True))
    assert len(ka) > 50
    assert [k[:2] for k in ka] == [k[:2] for k in kb]
    np.testing.assert_allclose([k[2] for k in ka], [k[2] for k in kb], rtol=1e-12)


def test_decays() -> None:
    d = np.array([0.0, 10.0, 10.5, 30.0, 31.0])
    assert LUO_QI(d).tolist() == [1.0, 1.0, 0.68, 0.22, 0.0]
    zones = StepDecay.gaussian_zones(30.0)
    assert zones.bounds == (10.0, 20.0, 30.0)
    np.testing.assert_allclose(zones.weights, [1.0, 0.68, 0.22], atol=0.01)
    np.testing.assert_allclose(GaussianDecay(20.0)(np.array([0.0, 20.0])), [1.0, math.exp(-0.5)])
    assert no_decay(d).tolist() == [1.0] * 5
    with pytest.raises(NetworkError):
        StepDecay(bounds=(20.0, 10.0), weights=(1.0, 0.5))
    with pytest.raises(NetworkError):
        GaussianDecay(0.0)


def test_bad_amounts_are_named() -> None:
    with pytest.raises(NetworkError, match="capacity: amounts must be finite"):
        e2sfca_network(
            generate(1, 100),
            supply_nodes=[0],
            capacity=[-1],
            demand_nodes=[1],
            population=[1],
            max_distance=500.0,
        )


@pytest.mark.parametrize("gaussian", [False, True])
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_equals_pysal_access(gaussian: bool) -> None:
    access = pytest.importorskip("access")
    pd = pytest.importorskip("pandas")
    net = generate(7, 2500)
    rng = np.random.default_rng(7)
    n_pts, n_fac, d0 = 600, 25, 800.0
    pts = rng.integers(0, net.n_nodes, n_pts)
    pop = rng.integers(1, 50, n_pts).astype(float)
    fac = rng.choice(net.n_nodes, n_fac, replace=False)
    cap = rng.integers(1, 10, n_fac).astype(float)
    zones = StepDecay.gaussian_zones(d0)
    decay: GaussianDecay | StepDecay = GaussianDecay(300.0) if gaussian else zones
    ours = e2sfca_network(
        net,
        supply_nodes=fac,
        capacity=cap,
        demand_nodes=pts,
        population=pop,
        max_distance=d0,
        decay=decay,
    )

    # access wants a long cost table between demand and supply ids.
    pairs = network_pairs(net, fac, pts, max_distance=d0)
    cost = pd.DataFrame({"origin": pairs.demand, "dest": pairs.supply, "cost": pairs.distance})
    weight_fn = (
        access.weights.gaussian(300.0)
        if gaussian
        else access.weights.step_fn(dict(zip(zones.bounds, zones.weights, strict=True)))
    )
    model = access.Access(
        demand_df=pd.DataFrame({"id": np.arange(n_pts), "pop": pop}),
        demand_index="id",
        demand_value="pop",
        supply_df=pd.DataFrame({"id": np.arange(n_fac), "cap": cap}),
        supply_index="id",
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    theirs = model.enhanced_two_stage_fca(name="e2", max_cost=d0, weight_fn=weight_fn)
    expected = theirs["e2_cap"].reindex(np.arange(n_pts)).fillna(0.0).to_numpy()
    assert (ours.access > 0).sum() > n_pts // 2
    np.testing.assert_allclose(ours.access, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 32])
def test_pairs_equal_a_full_dijkstra_with_repeated_nodes(chunk: int) -> None:
    from scipy.sparse.csgraph import dijkstra

    net = generate(9, 1600)
    rng = np.random.default_rng(chunk)
    supply = rng.choice(net.n_nodes, 12, replace=False)
    supply = np.concatenate([supply, supply[:3]])  # three facilities share nodes
    demand = rng.integers(0, net.n_nodes, 400)  # and many points do
    got = network_pairs(net, supply, demand, max_distance=500.0, chunk=chunk)
    full = dijkstra(net.graph, indices=supply)[:, demand]
    s, d = np.nonzero(full <= 500.0)
    expected = sorted(zip(d.tolist(), s.tolist(), strict=True))
    order = np.lexsort((got.supply, got.demand))
    pairs = list(zip(got.demand[order].tolist(), got.supply[order].tolist(), strict=True))
    assert pairs == expected
    np.testing.assert_allclose(got.distance[order], full[s, d][np.lexsort((s, d))], rtol=1e-12)
