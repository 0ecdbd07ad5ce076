"""Benchmark: network accessibility — nearest facility per node, E2SFCA, a 1,000,000-node city.

No database: the planning engine works on arrays (linli/planning/engine). On a synthetic
city of about 160,000 nodes and 300,000 edges (``synthetic.generate``: a jittered 80 m
grid with missing links, diagonal alleys and straight main roads) with 200,000 population
points and facilities of eight kinds, in the same run and on the same data:

(a) **Nearest facility for every node and every kind.**
    - *floor*: one ``scipy.sparse.csgraph.dijkstra(graph, indices=facilities,
      min_only=True, return_predecessors=True)`` per kind on the prebuilt CSR matrix;
    - *Linli*: ``nearest_facility`` per kind (ratio to the floor, target ≤ 1.2), and
      ``nearest_by_kind`` with two threads over the kinds;
    - *pandana*: ``Network.nearest_pois`` (contraction hierarchies) on the same city and
      facilities (or, with PANDANA_NODES set, on its own city of that size), the query
      only — the network build (the hierarchy, about two minutes here) and ``set_pois``
      are not timed; ``precompute`` is not called (it caches range queries
      for ``aggregate``, not used by ``nearest_pois``). pandana needs a search radius, so
      this comparison is made with a 2,000 m limit on both sides;
    - *networkx*: ``multi_source_dijkstra_path_length`` for every kind on the whole graph:
      distances must equal Linli's (max difference reported).
(b) **E2SFCA, distance matrix included**, elderly-care facilities with capacities,
    catchment = the 15-minute walk (1,080 m), Luo & Qi's three zones (1, 0.68, 0.22):
    - *Linli*: ``e2sfca_network`` end to end (snapped nodes in, scores out);
    - *peer*: PySAL ``access`` end to end — the cost table it needs from scipy's Dijkstra
      limited to 1,080 m from every facility (chunks of 100 sources, then the rows of the
      population points' nodes), as a long DataFrame, then
      ``Access.enhanced_two_stage_fca`` with ``weights.step_fn``. Equal within 1e-9.
(c) **A 1,000,000-node network with 10 kinds**, in a fresh subprocess: load from .npz,
    snap 1,250,000 population points, nearest facility for the 10 kinds on two threads
    (unlimited and limited to 1,080 m), coverage shares for 400 communities; time of each
    and the subprocess's peak RSS (``resource.getrusage``).
(d) **A real road network**: ``benchmarks/data/helsinki.osm.pbf`` (central Helsinki,
    OpenStreetMap, committed: see benchmarks/data/README.md), plus the extract named by
    ``OSM_PBF`` if set. Import time with ``from_osm`` and the network's nodes, edges and
    components; then, on those real streets, *generated* data: 20 population points per
    node (at most POINTS), drawn along the edges and moved up to 30 m, snapped; 4 kinds
    of facilities at random nodes (1-3 % of the nodes each). The same comparisons as on
    the synthetic city: (a) floor, Linli and networkx; pandana with the 2,000 m limit,
    the query alone and its full path (``Network`` + ``set_pois`` + ``nearest_pois``)
    against Linli's (``Network.from_edges`` + ``nearest_by_kind``); (b) E2SFCA for the
    elderly-care kind, Linli against PySAL access.

It prints a markdown table and writes the figures as JSON to var/bench/planning_access.json.

    make bench-planning      # or: .venv/bin/python benchmarks/planning_access.py
    NODES=40000 POINTS=50000 BIG_NODES=200000 .venv/bin/python benchmarks/planning_access.py
    OSM_PBF=/path/city.osm.pbf make bench-planning   # part (d) on another extract too

REPEAT (default 3) timed runs are taken of each Linli/floor figure and the best is kept
(the machine is shared); the peers run once.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linli.planning.engine.coverage import coverage_shares  # noqa: E402
from linli.planning.engine.e2sfca import StepDecay, e2sfca_network  # noqa: E402
from linli.planning.engine.nearest import (  # noqa: E402
    nearest_by_kind,
    nearest_facility,
    walk_distance,
)
from linli.planning.engine.network import Network  # noqa: E402
from linli.planning.engine.osm import from_osm  # noqa: E402
from linli.planning.engine.synthetic import generate  # noqa: E402

NODES = int(os.environ.get("NODES", "160000"))
POINTS = int(os.environ.get("POINTS", "200000"))
BIG_NODES = int(os.environ.get("BIG_NODES", "1000000"))
REPEAT = int(os.environ.get("REPEAT", "3"))
SEED = 2025
# 0: pandana runs on the city itself; a number: on its own city of that size (quicker).
PANDANA_NODES = int(os.environ.get("PANDANA_NODES", "0"))
PANDANA_LIMIT = 2000.0
CATCHMENT = walk_distance(15.0)  # 1,080 m
# Facilities per 160,000 nodes (about a 32 km × 32 km city), scaled with NODES.
KINDS = {
    "comprehensive_centre": 120,
    "health_station": 60,
    "elderly_care": 600,
    "fitness_corner": 1500,
    "kindergarten": 250,
    "canteen": 400,
    "pharmacy": 300,
    "market": 100,
}
BIG_KINDS = 10
# Part (d): the committed extract (see benchmarks/data/README.md), plus OSM_PBF if given.
REAL_PBF = ROOT / "benchmarks" / "data" / "helsinki.osm.pbf"
REAL_POINTS_PER_NODE = 20  # generated points, at most POINTS
# Generated facilities on the real streets: share of the network's nodes per kind.
REAL_KINDS = {"elderly_care": 0.02, "kindergarten": 0.015, "pharmacy": 0.03, "market": 0.01}


CPU: dict[int, float] = {}  # id of a result → best CPU seconds of the call that made it


def best(fn: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the result. The best CPU time of the calls
    is kept in CPU[id(result)] (see ``cpu``): with other jobs on the two cores a
    single-threaded call's CPU time is a steadier measure than its wall time."""
    times = []
    cpus = []
    out = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    CPU[id(out)] = min(cpus)
    return min(times), out


def cpu(result: Any) -> float:
    return CPU[id(result)]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = 0
    import scipy

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mb": mem,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "load_average": os.getloadavg()[0],
    }


def population(net: Network, n: int, rng: np.random.Generator) -> tuple[Any, Any, Any]:
    """Points scattered around nodes (±40 m), 1-6 people each."""
    at = rng.integers(0, net.n_nodes, n)
    x, y = net.projection.forward(net.lon[at], net.lat[at])
    lon, lat = net.projection.inverse(x + rng.uniform(-40, 40, n), y + rng.uniform(-40, 40, n))
    return lon, lat, rng.integers(1, 7, n).astype(np.float64)


def facilities(net: Network, rng: np.random.Generator, kinds: dict[str, int]) -> dict[str, Any]:
    scale = net.n_nodes / 160_000
    return {
        k: rng.choice(net.n_nodes, max(3, round(c * scale)), replace=False)
        for k, c in kinds.items()
    }


def part_a(net: Network, fac: dict[str, Any]) -> dict[str, Any]:
    from scipy.sparse.csgraph import dijkstra

    graph = net.graph
    out: dict[str, Any] = {"kinds": {k: int(v.size) for k, v in fac.items()}}

    def floor_pass(nodes: Any, limit: float = np.inf) -> Any:
        return dijkstra(
            graph,
            directed=True,
            indices=nodes,
            min_only=True,
            return_predecessors=True,
            limit=limit,
        )

    floor = lin = floor_cpu = lin_cpu = 0.0
    for nodes in fac.values():
        f, res_f = best(partial(floor_pass, nodes))
        o, res_o = best(partial(nearest_facility, net, nodes))
        floor, lin = floor + f, lin + o
        floor_cpu, lin_cpu = floor_cpu + cpu(res_f), lin_cpu + cpu(res_o)
    threads, ours = best(lambda: nearest_by_kind(net, fac, workers=2))
    out.update(
        floor_s=floor,
        linli_serial_s=lin,
        linli_threads_s=threads,
        floor_cpu_s=floor_cpu,
        linli_serial_cpu_s=lin_cpu,
        linli_threads_cpu_s=cpu(ours),
    )

    floor_l = lin_l = floor_l_cpu = lin_l_cpu = 0.0
    for nodes in fac.values():
        f, res_f = best(partial(floor_pass, nodes, CATCHMENT))
        o, res_o = best(partial(nearest_facility, net, nodes, limit=CATCHMENT))
        floor_l, lin_l = floor_l + f, lin_l + o
        floor_l_cpu, lin_l_cpu = floor_l_cpu + cpu(res_f), lin_l_cpu + cpu(res_o)
    lim_threads, _ = best(lambda: nearest_by_kind(net, fac, workers=2, limit=CATCHMENT))
    out.update(
        floor_limited_s=floor_l,
        linli_limited_serial_s=lin_l,
        linli_limited_threads_s=lim_threads,
        floor_limited_cpu_s=floor_l_cpu,
        linli_limited_serial_cpu_s=lin_l_cpu,
    )

    out.update(networkx_check(net, fac, ours))
    return out


def pandana(city: Network, city_fac: dict[str, Any]) -> dict[str, Any]:
    """pandana on the same city and facilities as the rest of part (a); with PANDANA_NODES
    set, on its own smaller city instead (its contraction-hierarchy build took about two
    minutes at 160,000 nodes on an idle machine and grows faster than linearly on this
    grid-like network, which has no small separators)."""
    if PANDANA_NODES:
        net = generate(SEED + 5, PANDANA_NODES)
        fac = facilities(net, np.random.default_rng(SEED + 5), KINDS)
    else:
        net, fac = city, city_fac
    return {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "facilities": sum(int(v.size) for v in fac.values()),
        "same_city": not PANDANA_NODES,
        **pandana_compare(net, fac),
    }


def pandana_compare(net: Network, fac: dict[str, Any]) -> dict[str, Any]:
    """Nearest facility of every kind within PANDANA_LIMIT: Linli against pandana.

    Linli: ``nearest_by_kind`` on the built network (2 threads, and 1), and its full path
    from the edge arrays (``Network.from_edges`` + ``nearest_by_kind``, 2 threads). pandana
    (once): ``Network`` (builds the contraction hierarchy), ``set_pois`` per kind, then
    ``nearest_pois`` per kind. ``precompute`` is not called: it caches range queries for
    ``aggregate``, which ``nearest_pois`` does not use."""
    import pandana as pdna
    import pandas as pd

    lim_threads, ours = best(lambda: nearest_by_kind(net, fac, workers=2, limit=PANDANA_LIMIT))
    lim_serial, _ = best(lambda: nearest_by_kind(net, fac, workers=1, limit=PANDANA_LIMIT))
    x, y = net.projection.forward(net.lon, net.lat)
    u, v, w = net.edges()

    def linli_full() -> dict[str, Any]:
        built = Network.from_edges(lon=net.lon, lat=net.lat, edge_from=u, edge_to=v, edge_length=w)
        return nearest_by_kind(built, fac, workers=2, limit=PANDANA_LIMIT)

    full, res_full = best(linli_full)
    t, c = time.perf_counter(), time.process_time()
    pnet = pdna.Network(
        pd.Series(x), pd.Series(y), pd.Series(u), pd.Series(v), pd.DataFrame({"length": w})
    )
    network = time.perf_counter() - t
    for k, nodes in fac.items():
        pnet.set_pois(
            category=k,
            maxdist=PANDANA_LIMIT,
            maxitems=1,
            x_col=pd.Series(x[nodes]),
            y_col=pd.Series(y[nodes]),
        )
    build = time.perf_counter() - t
    query = 0.0
    worst = 0.0
    for k in fac:
        t = time.perf_counter()
        res = pnet.nearest_pois(PANDANA_LIMIT, k, num_pois=1, include_poi_ids=False)
        query += time.perf_counter() - t
        theirs = res[1].to_numpy(dtype=np.float64)
        mine = np.where(np.isinf(ours[k].distance), PANDANA_LIMIT, ours[k].distance)
        worst = max(worst, float(np.abs(theirs - mine).max()))
    return {
        "linli_threads_s": lim_threads,
        "linli_serial_s": lim_serial,
        "linli_threads_cpu_s": cpu(ours),
        "linli_full_s": full,
        "linli_full_cpu_s": cpu(res_full),
        "pandana_network_s": network,
        "pandana_build_s": build,
        "pandana_query_s": query,
        "pandana_full_s": build + query,
        "pandana_full_cpu_s": time.process_time() - c,
        "pandana_max_diff_m": worst,
        # pandana builds its hierarchy on OpenMP threads: with the other core busy, the
        # Helsinki build took 1-3.6 s instead of 0.1-0.2 s here, so the load goes with it.
        "load_average": os.getloadavg()[0],
    }


def networkx_check(net: Network, fac: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    import networkx as nx

    u, v, w = net.edges()
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    worst = 0.0
    spent = 0.0
    for k, nodes in fac.items():
        t = time.perf_counter()
        d = nx.multi_source_dijkstra_path_length(g, set(nodes.tolist()))
        spent += time.perf_counter() - t
        theirs = np.full(net.n_nodes, np.inf)
        theirs[np.fromiter(d.keys(), dtype=np.int64)] = np.fromiter(d.values(), dtype=np.float64)
        mine = ours[k].distance
        assert np.array_equal(np.isinf(theirs), np.isinf(mine)), k
        fin = np.isfinite(mine)
        worst = max(worst, float(np.abs(theirs[fin] - mine[fin]).max(initial=0.0)))
    return {"networkx_s": spent, "networkx_max_diff_m": worst, "networkx_nodes_checked": "all"}


def part_b(net: Network, fac: Any, point_node: Any, pop: Any) -> dict[str, Any]:
    import access
    import pandas as pd
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(SEED + 1)
    cap = rng.integers(20, 121, fac.size).astype(np.float64)
    decay = StepDecay.gaussian_zones(CATCHMENT)
    lin, ours = best(
        lambda: e2sfca_network(
            net,
            supply_nodes=fac,
            capacity=cap,
            demand_nodes=point_node,
            population=pop,
            max_distance=CATCHMENT,
            decay=decay,
        )
    )

    t0, c0 = time.perf_counter(), time.process_time()
    origins, dests, costs = [], [], []
    for start in range(0, fac.size, 100):
        block = np.arange(start, min(start + 100, fac.size))
        dist = dijkstra(net.graph, indices=fac[block], limit=CATCHMENT * (1 + 1e-12))[:, point_node]
        r, c = np.nonzero(dist <= CATCHMENT)
        origins.append(c)
        dests.append(block[r])
        costs.append(dist[r, c])
    cost = pd.DataFrame(
        {
            "origin": np.concatenate(origins),
            "dest": np.concatenate(dests),
            "cost": np.concatenate(costs),
        }
    )
    t1 = time.perf_counter()
    model = access.Access(
        demand_df=pd.DataFrame({"id": np.arange(pop.size), "pop": pop}),
        demand_index="id",
        demand_value="pop",
        supply_df=pd.DataFrame({"id": np.arange(fac.size), "cap": cap}),
        supply_index="id",
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    res = model.enhanced_two_stage_fca(
        name="e2",
        max_cost=CATCHMENT,
        weight_fn=access.weights.step_fn(dict(zip(decay.bounds, decay.weights, strict=True))),
    )
    t2 = time.perf_counter()
    peer_cpu = time.process_time() - c0
    theirs = res["e2_cap"].reindex(np.arange(pop.size)).fillna(0.0).to_numpy()
    diff = np.abs(theirs - ours.access)
    rel = diff / np.maximum(np.abs(theirs), 1e-300)
    return {
        "facilities": int(fac.size),
        "points": int(pop.size),
        "pairs": len(cost),
        "linli_s": lin,
        "linli_cpu_s": cpu(ours),
        "peer_cost_matrix_s": t1 - t0,
        "peer_access_s": t2 - t1,
        "peer_s": t2 - t0,
        "peer_cpu_s": peer_cpu,
        "max_abs_diff": float(diff.max()),
        "max_rel_diff": float(rel[theirs > 0].max(initial=0.0)),
        "points_with_access": int((ours.access > 0).sum()),
    }


def part_c_child(path: str) -> None:
    """Runs in a fresh interpreter: load, snap, 10 kinds, coverage; prints JSON."""
    out: dict[str, Any] = {}
    t = time.perf_counter()
    net = Network.load(path)
    out["load_s"] = time.perf_counter() - t
    out["nodes"], out["edges"] = net.n_nodes, net.n_edges
    rng = np.random.default_rng(SEED + 2)
    n_pts = round(net.n_nodes * 1.25)
    lon, lat, pop = population(net, n_pts, rng)
    t, c = time.perf_counter(), time.process_time()
    snap = net.snap(lon, lat, workers=2)
    out["snap_s"] = time.perf_counter() - t
    out["snap_cpu_s"] = time.process_time() - c
    out["points"] = n_pts
    scale = net.n_nodes / 160_000
    counts = [60, 120, 250, 300, 400, 600, 800, 1000, 1500, 2000][:BIG_KINDS]
    fac = {
        f"kind{i}": rng.choice(net.n_nodes, max(3, round(c * scale)), replace=False)
        for i, c in enumerate(counts)
    }
    out["facilities"] = sum(int(v.size) for v in fac.values())
    _ = net.graph
    t, c = time.perf_counter(), time.process_time()
    res = nearest_by_kind(net, fac, workers=2)
    out["nearest_10_kinds_s"] = time.perf_counter() - t
    out["nearest_10_kinds_cpu_s"] = time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    nearest_by_kind(net, fac, workers=2, limit=CATCHMENT)
    out["nearest_10_kinds_limited_s"] = time.perf_counter() - t
    out["nearest_10_kinds_limited_cpu_s"] = time.process_time() - c
    region = rng.integers(0, 400, n_pts)
    t = time.perf_counter()
    for r in res.values():
        coverage_shares(r.distance[snap.node] + snap.distance, pop, region, n_regions=400)
    out["coverage_10_kinds_s"] = time.perf_counter() - t
    out["analysis_s"] = out["snap_s"] + out["nearest_10_kinds_s"] + out["coverage_10_kinds_s"]
    out["load_average"] = os.getloadavg()[0]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def part_c() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "big.npz")
        t = time.perf_counter()
        big = generate(SEED, BIG_NODES)
        gen = time.perf_counter() - t
        big.save(path)
        size = Path(path).stat().st_size
        del big
        proc = subprocess.run(
            [sys.executable, __file__, "--big", path],
            check=True,
            capture_output=True,
            text=True,
        )
        out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        out["generate_s"] = gen
        out["npz_mb"] = size / 1e6
        return out


def street_population(net: Network, n: int, rng: np.random.Generator) -> tuple[Any, Any, Any]:
    """Points near the streets: at a random place on a random edge (drawn by length, on the
    straight line between its ends), moved up to 30 m each way, kept inside the network's
    bounding box; 1-6 people each."""
    u, v, w = net.edges()
    x, y = net.projection.forward(net.lon, net.lat)
    e = rng.choice(w.size, n, p=w / w.sum())
    t = rng.random(n)
    px = x[u[e]] + t * (x[v[e]] - x[u[e]]) + rng.uniform(-30, 30, n)
    py = y[u[e]] + t * (y[v[e]] - y[u[e]]) + rng.uniform(-30, 30, n)
    lon, lat = net.projection.inverse(np.clip(px, x.min(), x.max()), np.clip(py, y.min(), y.max()))
    return lon, lat, rng.integers(1, 7, n).astype(np.float64)


def osm_files() -> list[Path]:
    files = [REAL_PBF]
    if os.environ.get("OSM_PBF"):
        files.append(Path(os.environ["OSM_PBF"]).resolve())
    return files


def part_d() -> list[dict[str, Any]]:
    return [real_network(path) for path in osm_files()]


def real_network(path: Path) -> dict[str, Any]:
    """Parts (a) and (b) and the pandana comparison on a real street network, with
    generated population points and facilities (the streets are real, the rest is not)."""
    t = time.perf_counter()
    net = from_osm(path)
    read = time.perf_counter() - t
    n_comp, labels = net.components()
    rng = np.random.default_rng(SEED + 10)
    n_pts = min(REAL_POINTS_PER_NODE * net.n_nodes, POINTS)
    lon, lat, pop = street_population(net, n_pts, rng)
    snap_s, snap = best(lambda: net.snap(lon, lat), repeat=1)
    fac = {
        k: rng.choice(net.n_nodes, max(3, round(share * net.n_nodes)), replace=False)
        for k, share in REAL_KINDS.items()
    }
    print(f"real: {path.name}: {net.n_nodes} nodes, {net.n_edges} edges", flush=True)
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "bytes": path.stat().st_size,
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "length_km": float(net.edges()[2].sum() / 1000),
        "components": n_comp,
        "largest_component": int(np.bincount(labels).max()),
        "read_s": read,
        "points": n_pts,
        "snap_s": snap_s,
        "snap_median_m": float(np.median(snap.distance)),
        "nearest": part_a(net, fac),
        "pandana": pandana_compare(net, fac),
        "e2sfca": part_b(net, fac["elderly_care"], snap.node, pop),
    }


def main() -> None:
    t_all = time.perf_counter()
    report: dict[str, Any] = {"machine": machine()}
    rng = np.random.default_rng(SEED)
    t = time.perf_counter()
    net = generate(SEED, NODES)
    report["city"] = {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "generate_s": time.perf_counter() - t,
    }
    lon, lat, pop = population(net, POINTS, rng)
    snap_s, snap = best(lambda: net.snap(lon, lat), repeat=1)
    report["city"].update(points=POINTS, snap_s=snap_s)
    fac = facilities(net, rng, KINDS)
    print(f"city: {net.n_nodes} nodes, {net.n_edges} edges, {POINTS} points", flush=True)

    report["nearest"] = part_a(net, fac)
    print("nearest done", flush=True)
    report["pandana"] = pandana(net, fac)
    print("pandana done", flush=True)
    report["e2sfca"] = part_b(net, fac["elderly_care"], snap.node, pop)
    print("e2sfca done", flush=True)
    report["big"] = part_c()
    print("big done", flush=True)
    report["real"] = part_d()
    print("real done", flush=True)
    report["total_s"] = time.perf_counter() - t_all
    report["total_cpu_s"] = time.process_time()
    report["machine"]["load_average_end"] = os.getloadavg()[0]
    print_table(report)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "planning_access.json").write_text(json.dumps(report, indent=2))
    print(f"\nJSON: {out / 'planning_access.json'}")


Row = tuple[str, float, str]


def secs(x: float) -> str:
    """Seconds to print: 2 decimals, 4 under a tenth (the real network's calls take ms)."""
    return f"{x:.2f}" if x >= 0.1 else f"{x:.4f}"


def nearest_rows(a: dict[str, Any], on: str = "") -> list[Row]:
    return [
        (
            f"{on}Nearest, all kinds, no limit: scipy floor",
            a["floor_s"],
            f"CPU {secs(a['floor_cpu_s'])} s",
        ),
        (
            f"{on}Nearest, Linli per kind",
            a["linli_serial_s"],
            f"{a['linli_serial_s'] / a['floor_s']:.2f}× floor wall, "
            f"{a['linli_serial_cpu_s'] / a['floor_cpu_s']:.2f}× floor CPU (target ≤ 1.2)",
        ),
        (
            f"{on}Nearest, Linli 2 threads",
            a["linli_threads_s"],
            f"{a['linli_threads_s'] / a['floor_s']:.2f}× floor",
        ),
        (
            f"{on}Nearest, limit 1,080 m: scipy floor",
            a["floor_limited_s"],
            f"CPU {secs(a['floor_limited_cpu_s'])} s",
        ),
        (
            f"{on}Nearest, limit 1,080 m: Linli per kind",
            a["linli_limited_serial_s"],
            f"{a['linli_limited_serial_s'] / a['floor_limited_s']:.2f}× floor wall, "
            f"{a['linli_limited_serial_cpu_s'] / a['floor_limited_cpu_s']:.2f}× floor CPU",
        ),
        (
            f"{on}Nearest, limit 1,080 m: Linli 2 threads",
            a["linli_limited_threads_s"],
            f"{a['linli_limited_threads_s'] / a['floor_limited_s']:.2f}× floor",
        ),
    ]


def networkx_row(a: dict[str, Any], on: str = "") -> Row:
    return (
        f"{on}Nearest, networkx multi_source_dijkstra (check)",
        a["networkx_s"],
        f"all nodes, all kinds: max diff {a['networkx_max_diff_m']:.2g} m",
    )


def pandana_rows(p: dict[str, Any], on: str, full: bool) -> list[Row]:
    rows: list[Row] = [
        (
            f"{on}limit 2 km: Linli 2 threads",
            p["linli_threads_s"],
            f"{p['pandana_query_s'] / p['linli_threads_s']:.0f}× faster than pandana "
            f"(per kind, serial: {p['pandana_query_s'] / p['linli_serial_s']:.0f}×)",
        ),
        (
            f"{on}limit 2 km: pandana nearest_pois (query only)",
            p["pandana_query_s"],
            f"CH build + set_pois {p['pandana_build_s']:.{2 if full else 0}f} s not counted; "
            f"max diff {p['pandana_max_diff_m']:.2g} m",
        ),
    ]
    if full:
        rows += [
            (
                f"{on}limit 2 km: Linli full path (Network.from_edges + nearest, 2 threads)",
                p["linli_full_s"],
                f"{p['pandana_full_s'] / p['linli_full_s']:.0f}× faster than pandana's full "
                f"path; CPU {p['linli_full_cpu_s']:.3f} s",
            ),
            (
                f"{on}limit 2 km: pandana full path (Network + set_pois + nearest_pois)",
                p["pandana_full_s"],
                f"CH build {p['pandana_network_s']:.3f} s, set_pois "
                f"{p['pandana_build_s'] - p['pandana_network_s']:.3f} s, query "
                f"{p['pandana_query_s']:.3f} s; CPU {p['pandana_full_cpu_s']:.3f} s; "
                f"load average {p['load_average']:.1f}",
            ),
        ]
    return rows


def e2sfca_rows(e: dict[str, Any], on: str = "") -> list[Row]:
    return [
        (
            f"{on}E2SFCA Linli ({e['facilities']} facilities, {e['points']:,} points, d0 1,080 m)",
            e["linli_s"],
            f"{e['peer_s'] / e['linli_s']:.1f}× faster than access (target ≥ 5); "
            f"CPU {secs(e['linli_cpu_s'])} s",
        ),
        (
            f"{on}E2SFCA PySAL access end to end",
            e["peer_s"],
            f"cost table {e['peer_cost_matrix_s']:.2f} s + access {e['peer_access_s']:.2f} s "
            f"(CPU {e['peer_cpu_s']:.2f} s); "
            f"{e['pairs']:,} pairs; max diff {e['max_abs_diff']:.1e} "
            f"(rel {e['max_rel_diff']:.1e})",
        ),
    ]


def real_rows(d: dict[str, Any]) -> list[Row]:
    on = f"Real {Path(d['file']).name}: "
    kinds = d["nearest"]["kinds"]
    return [
        (
            f"Real OSM: {d['file']} ({d['bytes']:,} B) → {d['nodes']:,} nodes, "
            f"{d['edges']:,} edges, {d['length_km']:.0f} km (import)",
            d["read_s"],
            f"{d['components']} components, largest {d['largest_component']:,} nodes "
            f"({d['largest_component'] / d['nodes']:.1%}); generated: {d['points']:,} points "
            f"near the streets (snapped in {d['snap_s']:.2f} s, median "
            f"{d['snap_median_m']:.0f} m), {len(kinds)} kinds, "
            f"{sum(kinds.values()):,} facilities at random nodes",
        ),
        *nearest_rows(d["nearest"], on),
        networkx_row(d["nearest"], on),
        *pandana_rows(d["pandana"], on, full=True),
        *e2sfca_rows(d["e2sfca"], on),
    ]


def print_table(r: dict[str, Any]) -> None:
    m, c, a, e, b = r["machine"], r["city"], r["nearest"], r["e2sfca"], r["big"]
    p = r["pandana"]
    print(
        f"\nMachine: {m['cpu']}, {m['cores']} cores, {m['memory_mb']} MB; Python "
        f"{m['python']}, numpy {m['numpy']}, scipy {m['scipy']}; load {m['load_average']:.1f}"
    )
    print(
        f"City: {c['nodes']:,} nodes, {c['edges']:,} edges, {c['points']:,} points "
        f"(snapped in {c['snap_s']:.2f} s); {len(a['kinds'])} kinds, "
        f"{sum(a['kinds'].values()):,} facilities\n"
    )
    rows = [
        *nearest_rows(a),
        *pandana_rows(
            p,
            "Same city, "
            if p["same_city"]
            else f"pandana city ({p['nodes']:,} nodes, {p['edges']:,} edges, "
            f"{p['facilities']:,} facilities), ",
            full=False,
        ),
        networkx_row(a),
        *e2sfca_rows(e),
        (
            f"1M: load .npz ({b['nodes']:,} nodes, {b['edges']:,} edges)",
            b["load_s"],
            f"{b['npz_mb']:.0f} MB file; generated in {b['generate_s']:.1f} s",
        ),
        (
            f"1M: snap {b['points']:,} points, 2 threads",
            b["snap_s"],
            f"CPU {b['snap_cpu_s']:.1f} s",
        ),
        (
            f"1M: nearest, 10 kinds ({b['facilities']:,} facilities), 2 threads",
            b["nearest_10_kinds_s"],
            f"target < 10 s; CPU {b['nearest_10_kinds_cpu_s']:.1f} s; "
            f"load average {b['load_average']:.1f}",
        ),
        (
            "1M: nearest, 10 kinds, limit 1,080 m, 2 threads",
            b["nearest_10_kinds_limited_s"],
            f"CPU {b['nearest_10_kinds_limited_cpu_s']:.1f} s",
        ),
        ("1M: coverage shares, 10 kinds × 400 communities", b["coverage_10_kinds_s"], ""),
        (
            "1M: snap + nearest + coverage",
            b["analysis_s"],
            f"peak RSS {b['peak_rss_mb']:.0f} MB (target < 2,048)",
        ),
    ]
    for d in r["real"]:
        rows += real_rows(d)
    print("| Measure | Seconds | Note |")
    print("|---|---:|---|")
    for name, s, note in rows:
        print(f"| {name} | {s:.3f} | {note} |" if s >= 0.1 else f"| {name} | {s:.4f} | {note} |")
    print(
        f"\nWhole run: {r['total_s']:.0f} s wall, {r['total_cpu_s']:.0f} s CPU in this process "
        f"(load average {m['load_average']:.1f} at start, {m['load_average_end']:.1f} at end: "
        "the 2 cores are shared, so wall times include waiting for a core)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        part_c_child(sys.argv[2])
    else:
        main()
