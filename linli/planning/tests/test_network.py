"""The walking network: building, snapping, .npz storage, reading OpenStreetMap files, and
the committed real extract (benchmarks/data/helsinki.osm.pbf) read and imported for a region."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
from click.testing import CliRunner

from linli.core.registry import linli_group
from linli.planning import networks
from linli.planning.cli import network as network_cli  # noqa: F401  (registers the group)
from linli.planning.engine.network import Network, NetworkError, haversine_m
from linli.planning.engine.osm import from_osm
from linli.planning.models import NetworkSource, RoadNetwork
from linli.regions.tests.factories import region_chain

# A real extract of central Helsinki, committed for the benchmark and these tests
# (© OpenStreetMap contributors, ODbL 1.0: see benchmarks/data/README.md).
HELSINKI = Path(__file__).resolve().parents[3] / "benchmarks/data/helsinki.osm.pbf"
HELSINKI_SHA256 = "b73e9c2c82054d654209b0127f1c3287d5900d6780a6083bf3a45ead8ba3e5ee"


def square() -> Network:
    # 0 -- 1
    # |    |
    # 3 -- 2   plus a duplicate 0-1 edge that is longer and must be ignored
    return Network.from_edges(
        lon=[120.0, 120.001, 120.001, 120.0],
        lat=[30.0, 30.0, 29.999, 29.999],
        edge_from=[0, 1, 2, 3, 1, 2],
        edge_to=[1, 2, 3, 0, 0, 2],
        edge_length=[100.0, 110.0, 100.0, 110.0, 500.0, 7.0],
    )


def test_from_edges_is_symmetric_deduplicated_and_drops_loops() -> None:
    net = square()
    assert net.n_nodes == 4
    assert net.n_edges == 4
    assert net.indptr.tolist() == [0, 2, 4, 6, 8]
    assert net.indices.tolist() == [1, 3, 0, 2, 1, 3, 0, 2]
    assert net.lengths.tolist() == [100.0, 110.0, 100.0, 110.0, 110.0, 100.0, 110.0, 100.0]
    u, v, w = net.edges()
    assert list(zip(u.tolist(), v.tolist(), w.tolist(), strict=True)) == [
        (0, 1, 100.0),
        (0, 3, 110.0),
        (1, 2, 110.0),
        (2, 3, 100.0),
    ]


def test_default_lengths_are_haversine() -> None:
    net = Network.from_edges(lon=[120.0, 120.01], lat=[30.0, 30.0], edge_from=[0], edge_to=[1])
    assert net.lengths[0] == pytest.approx(float(haversine_m(120.0, 30.0, 120.01, 30.0)))
    assert net.lengths[0] == pytest.approx(963.2, abs=0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lon": [120.0, 200.0], "lat": [30.0, 30.0]}, "coordinate #1"),
        ({"edge_to": [5]}, "outside 0..1"),
        ({"edge_length": [-1.0]}, "not negative"),
    ],
)
def test_bad_edges_are_named(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "lon": [120.0, 120.01],
        "lat": [30.0, 30.0],
        "edge_from": [0],
        "edge_to": [1],
        "edge_length": [5.0],
    }
    args.update(kwargs)
    with pytest.raises(NetworkError, match=message):
        Network.from_edges(**args)  # type: ignore[arg-type]


def test_snap_returns_nearest_node_and_distance() -> None:
    net = square()
    snap = net.snap([120.0002, 120.0009, 120.01], [29.9999, 29.9991, 30.0])
    assert snap.node.tolist() == [0, 2, 1]
    lon, lat = [120.0002, 120.0009, 120.01], [29.9999, 29.9991, 30.0]
    expected = haversine_m(lon, lat, net.lon[[0, 2, 1]], net.lat[[0, 2, 1]])
    np.testing.assert_allclose(snap.distance, expected, rtol=1e-12)
    assert snap.distance[0] == pytest.approx(22.24, abs=0.01)


def test_snap_rejects_bad_coordinates() -> None:
    with pytest.raises(NetworkError, match=r"households: coordinate #1 \(nan"):
        square().snap([120.0, np.nan], [30.0, 30.0], what="households")


def test_npz_round_trip(tmp_path: Path) -> None:
    net = square()
    path = tmp_path / "net.npz"
    net.save(path)
    back = Network.load(path)
    for name in ("node_ids", "lon", "lat", "indptr", "indices", "lengths"):
        assert np.array_equal(getattr(back, name), getattr(net, name)), name
        assert getattr(back, name).dtype == getattr(net, name).dtype, name


def test_load_rejects_other_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(NetworkError, match="not a saved network"):
        Network.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(NetworkError, match="not a saved network"):
        Network.load(other)


def _write_osm(path: Path) -> None:
    """A T junction of two residential streets, a footpath, a motorway and a private road."""
    nodes = {
        1: (120.000, 30.000),
        2: (120.001, 30.000),
        3: (120.002, 30.000),
        4: (120.001, 30.001),
        5: (120.001, 30.002),
        6: (120.003, 30.000),
        7: (120.004, 30.000),
        8: (120.002, 29.999),
    }
    with osmium.SimpleWriter(str(path)) as w:
        for nid, (lon, lat) in nodes.items():
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags={}))
        ways = [
            (10, [1, 2, 3], {"highway": "residential", "name": "A"}),
            (11, [2, 4, 5], {"highway": "footway"}),
            (12, [3, 6, 7], {"highway": "motorway"}),
            (13, [3, 8], {"highway": "service", "access": "private"}),
            (14, [5, 4], {"building": "yes"}),
        ]
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))


def test_from_osm_reads_walkable_ways_split_at_junctions(tmp_path: Path) -> None:
    path = tmp_path / "tiny.osm.pbf"
    _write_osm(path)
    net = from_osm(path)
    # Node 4 is inside the footway: it is not a graph node. Motorway and private road are out.
    assert net.node_ids.tolist() == [1, 2, 3, 5]
    u, v, w = net.edges()
    assert list(zip(u.tolist(), v.tolist(), strict=True)) == [(0, 1), (1, 2), (1, 3)]
    d12 = float(haversine_m(120.0, 30.0, 120.001, 30.0))
    d24 = float(haversine_m(120.001, 30.0, 120.001, 30.001))
    d45 = float(haversine_m(120.001, 30.001, 120.001, 30.002))
    np.testing.assert_allclose(w, [d12, d12, d24 + d45], rtol=1e-9)


def test_from_osm_reads_xml_too(tmp_path: Path) -> None:
    path = tmp_path / "tiny.osm"
    _write_osm(path)
    assert from_osm(path).n_edges == 3


def test_from_osm_rejects_a_file_that_is_not_pbf(tmp_path: Path) -> None:
    path = tmp_path / "fake.osm.pbf"
    path.write_bytes(b"PK\x03\x04 this is a zip, not OpenStreetMap")
    with pytest.raises(NetworkError, match="not an OpenStreetMap PBF file"):
        from_osm(path)


def test_from_osm_rejects_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="no such file"):
        from_osm(tmp_path / "missing.osm.pbf")
    other = tmp_path / "roads.csv"
    other.write_text("a,b\n")
    with pytest.raises(NetworkError, match=r"expected a \.osm\.pbf"):
        from_osm(other)


def test_from_osm_without_walkable_ways(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm.pbf"
    with osmium.SimpleWriter(str(path)) as w:
        w.add_node(osmium.osm.mutable.Node(id=1, location=(120.0, 30.0), tags={}))
    with pytest.raises(NetworkError, match="no walkable ways"):
        from_osm(path)


def test_from_osm_rejects_a_broken_pbf(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(b"\x00\x00\x00\x0d\x0a\x09OSMHeader and then nothing that parses")
    with pytest.raises(NetworkError, match="cannot be read as OpenStreetMap data"):
        from_osm(path)


def test_from_osm_reads_a_real_city_extract() -> None:
    net = from_osm(HELSINKI)
    assert 3000 <= net.n_nodes <= 4000
    assert net.n_edges > net.n_nodes  # a city grid has loops, not a tree
    # A box of about 1 km × 1.7 km around the centre of Helsinki.
    assert 24.93 < net.lon.min() < net.lon.max() < 24.96
    assert 60.16 < net.lat.min() < net.lat.max() < 60.18
    k, labels = net.components()
    assert k < 50
    assert np.bincount(labels).max() >= 0.95 * net.n_nodes
    u, v, w = net.edges()
    assert w.min() > 0.0
    assert w.max() < 1000.0  # no street between two junctions longer than a kilometre here
    # An edge is never shorter than the straight line between its ends.
    assert np.all(w >= haversine_m(net.lon[u], net.lat[u], net.lon[v], net.lat[v]) * (1 - 1e-9))
    assert 50_000 < w.sum() < 200_000  # tens of kilometres of streets and paths
    snap = net.snap([24.94], [60.17])  # near the railway station
    assert snap.distance[0] < 50.0


@pytest.fixture
def network_dir(settings, tmp_path):
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    networks.clear_cache()
    yield settings.LINLI_PLANNING_NETWORK_DIR
    networks.clear_cache()


def test_the_command_imports_the_real_extract_for_a_region(db, network_dir):
    region_chain("990102001001", lon=24.94, lat=60.17)
    result = CliRunner().invoke(
        linli_group, ["network", "import-osm", str(HELSINKI), "--region", "990102"]
    )
    assert result.exit_code == 0, result.output
    record = RoadNetwork.objects.get()
    assert (record.region_id, record.source, record.source_name, record.source_sha256) == (
        "990102000000",
        NetworkSource.OSM,
        "helsinki.osm.pbf",
        HELSINKI_SHA256,
    )
    raw = from_osm(HELSINKI)
    # Fragments of fewer than 50 nodes are left out; the rest is one street network.
    assert record.parameters["nodes_read"] == raw.n_nodes
    assert record.nodes == raw.n_nodes - record.parameters["nodes_dropped"]
    assert 3000 <= record.nodes <= raw.n_nodes
    assert record.components == 1
    assert f"{record.nodes:,} nodes" in result.output
    net, _info = networks.network_for("990102001001")
    assert net is not None
    assert net.n_nodes == record.nodes
