"""Road networks of regions: import, generate, store all-or-nothing, load, snap, distances,
and the population and facility points the analyses use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from linli.core.errors import ValidationFailed
from linli.core.registry import linli_group
from linli.planning import networks
from linli.planning.cli import network as network_cli  # noqa: F401  (registers the group)
from linli.planning.engine.network import haversine_m
from linli.planning.models import DistanceMethod, NetworkSource, RoadNetwork

from .access_tree import COUNTY, STREET, A, B, C, build, facility, lonlat


@pytest.fixture(autouse=True)
def network_dir(settings, tmp_path):
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    settings.LINLI_PLANNING_DETOUR_FACTOR = 1.3
    networks.clear_cache()
    yield settings.LINLI_PLANNING_NETWORK_DIR
    networks.clear_cache()


@pytest.fixture
def tree(db):
    return build()


def osm_grid(path: Path, *, n: int = 8, step_m: float = 100.0) -> Path:
    """An OSM XML extract: an n × n grid of residential streets, and a 2-node footway far
    away (a fragment the import drops)."""
    nodes = []
    for r in range(n):
        for c in range(n):
            lon, lat = lonlat(c * step_m - 200.0, r * step_m - 300.0)
            nodes.append(f'<node id="{r * n + c + 1}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    ways = []
    way_id = 1
    for r in range(n):
        refs = "".join(f'<nd ref="{r * n + c + 1}"/>' for c in range(n))
        ways.append(f'<way id="{way_id}">{refs}<tag k="highway" v="residential"/></way>')
        way_id += 1
    for c in range(n):
        refs = "".join(f'<nd ref="{r * n + c + 1}"/>' for r in range(n))
        ways.append(f'<way id="{way_id}">{refs}<tag k="highway" v="residential"/></way>')
        way_id += 1
    far = [lonlat(3000.0, 3000.0), lonlat(3050.0, 3000.0)]
    for i, (lon, lat) in enumerate(far):
        nodes.append(f'<node id="{1000 + i}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    ways.append(
        f'<way id="{way_id}"><nd ref="1000"/><nd ref="1001"/><tag k="highway" v="footway"/></way>'
    )
    ways.append(  # not walkable: left out
        f'<way id="{way_id + 1}"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>'
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


def stored_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- import -------------------------------------------------------------------------------


def test_an_osm_extract_becomes_the_regions_network(tree, tmp_path, network_dir):
    record = networks.network_import_osm(region_code="990102", path=osm_grid(tmp_path / "x.osm"))
    assert (record.region_id, record.source, record.source_name) == (
        COUNTY,
        NetworkSource.OSM,
        "x.osm",
    )
    # 64 grid nodes and 2 × 8 × 7 edges; the 2-node footway far away is a fragment.
    assert (record.nodes, record.edges, record.components) == (64, 112, 1)
    assert record.parameters == {"min_component_nodes": 50, "nodes_read": 66, "nodes_dropped": 2}
    assert stored_files(network_dir) == [record.file]
    assert record.file == f"{COUNTY}-{record.sha256[:16]}.npz"
    net, info = networks.network_for(COUNTY)
    assert net is not None
    assert net.n_nodes == 64
    assert (info.method, info.record) == (DistanceMethod.NETWORK, record)


def test_a_file_that_is_not_a_pbf_is_refused_and_nothing_is_written(tree, tmp_path, network_dir):
    bad = tmp_path / "city.osm.pbf"
    bad.write_bytes(b"PK\x03\x04 this is a zip file, not an extract")
    with pytest.raises(ValidationFailed) as refused:
        networks.network_import_osm(region_code="990102", path=bad)
    assert refused.value.fields == {"file": ["Not an OpenStreetMap PBF file (no OSMHeader block)."]}
    assert RoadNetwork.objects.count() == 0
    assert stored_files(network_dir) == []


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.osm.pbf", None, "No such file."),
        ("roads.shp", b"shape", "Expected an OpenStreetMap extract: a .osm.pbf (or .osm) file."),
    ],
)
def test_other_unusable_files_are_refused(tree, tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValidationFailed) as refused:
        networks.network_import_osm(region_code="990102", path=path)
    assert refused.value.fields == {"file": [reason]}
    assert RoadNetwork.objects.count() == 0


def test_an_extract_without_walkable_ways_is_refused(tree, tmp_path):
    path = tmp_path / "empty.osm"
    path.write_text('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n', encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        networks.network_import_osm(region_code="990102", path=path)
    assert list(refused.value.fields) == ["file"]
    assert "no walkable ways" in refused.value.fields["file"][0]
    assert RoadNetwork.objects.count() == 0


def test_an_extract_far_from_the_region_is_refused(tree, tmp_path):
    path = osm_grid(tmp_path / "x.osm")
    with pytest.raises(ValidationFailed) as refused:
        networks.network_import_osm(region_code="990103", path=path)
    assert "The extract covers" in refused.value.fields["file"][0]
    assert RoadNetwork.objects.count() == 0


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("99x", "A region code is made of digits, at most 12 of them."),
        ("990002", "990002 is not a division code."),
        ("980102", "No region 980102 in this deployment: load the regions first."),
        ("", "Give a region code."),
    ],
)
def test_a_region_outside_the_deployment_is_refused(tree, tmp_path, network_dir, code, reason):
    with pytest.raises(ValidationFailed) as refused:
        networks.network_import_osm(region_code=code, path=osm_grid(tmp_path / "x.osm"))
    assert refused.value.fields == {"region": [reason]}
    assert RoadNetwork.objects.count() == 0
    assert stored_files(network_dir) == []


def test_a_failed_rename_leaves_the_earlier_network_as_it_was(
    tree, tmp_path, network_dir, monkeypatch
):
    first = networks.network_generate(region_code="990102", seed=1, block_m=200)

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(networks.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        networks.network_import_osm(region_code="990102", path=osm_grid(tmp_path / "x.osm"))
    record = RoadNetwork.objects.get()
    assert (record.pk, record.file, record.source) == (first.pk, first.file, "synthetic")
    assert stored_files(network_dir) == [first.file]  # the temporary file is gone too


def test_a_new_network_replaces_the_old_record_and_file(
    tree, network_dir, django_capture_on_commit_callbacks
):
    first = networks.network_generate(region_code="990102", seed=1, block_m=200)
    with django_capture_on_commit_callbacks(execute=True):
        second = networks.network_generate(region_code="990102", seed=2, block_m=200)
    assert second.pk == first.pk
    assert second.file != first.file
    assert stored_files(network_dir) == [second.file]
    assert RoadNetwork.objects.count() == 1


# --- generate -------------------------------------------------------------------------------


def test_a_synthetic_network_covers_the_regions_communities(tree):
    record = networks.network_generate(region_code="990102", seed=3, block_m=100, margin_m=500)
    a, b = tree.regions[A], tree.regions[B]
    assert record.source == NetworkSource.SYNTHETIC
    assert record.min_lon < a.lon
    assert record.max_lon > b.lon
    assert record.min_lat < a.lat < record.max_lat
    assert record.components == 1
    assert record.parameters["seed"] == 3
    # Same seed, same network: deterministic.
    again = networks.network_generate(region_code="990102", seed=3, block_m=100, margin_m=500)
    assert again.sha256 == record.sha256


def test_generate_refuses_bad_options_and_regions_without_places(tree, db):
    with pytest.raises(ValidationFailed) as refused:
        networks.network_generate(region_code="990102", block_m=5, margin_m=-1)
    assert set(refused.value.fields) == {"block", "margin"}
    with pytest.raises(ValidationFailed) as refused:
        networks.network_generate(region_code=C)
    assert refused.value.fields == {
        "region": ["None of the region's communities has a location or a boundary."]
    }
    assert RoadNetwork.objects.count() == 0


# --- command line ---------------------------------------------------------------------------


def test_the_commands_report_and_exit_non_zero_on_bad_input(tree, tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"garbage")
    result = runner.invoke(linli_group, ["network", "import-osm", str(bad), "--region", "990102"])
    assert result.exit_code == 1
    assert "Not an OpenStreetMap PBF file" in result.output
    result = runner.invoke(linli_group, ["network", "generate", "--region", "980102"])
    assert result.exit_code == 1
    assert "not part of this deployment" in result.output
    result = runner.invoke(
        linli_group, ["network", "generate", "--region", "990102", "--block", "200"]
    )
    assert result.exit_code == 0, result.output
    assert "Stored the Synthetic (demo) network of 990102000000" in result.output
    result = runner.invoke(
        linli_group, ["network", "import-osm", str(osm_grid(tmp_path / "g.osm")), "--region", A]
    )
    assert result.exit_code == 0, result.output
    assert "64 nodes, 112 edges" in result.output
    assert "2 nodes in fragments" in result.output
    result = runner.invoke(linli_group, ["network", "list"])
    assert result.output.count("\n") == 2


# --- loading and distances ------------------------------------------------------------------


def test_a_community_uses_its_countys_network_and_a_missing_file_falls_back(tree, network_dir):
    record = networks.network_generate(region_code="990102", seed=1, block_m=200)
    net, info = networks.network_for(A)
    assert net is not None
    assert info.record == record
    assert networks.network_for(STREET)[1].record == record
    assert networks.network_for("990103001001")[0] is None
    networks.clear_cache()
    (network_dir / record.file).unlink()
    net, info = networks.network_for(A)
    assert net is None
    assert info.method == DistanceMethod.STRAIGHT_LINE
    assert "is missing" in info.problem


def test_without_a_network_distances_are_straight_lines_times_the_detour(tree):
    measure = networks.distances_for(COUNTY)
    assert measure.method == DistanceMethod.STRAIGHT_LINE
    p = lonlat(0.0)
    s = lonlat(400.0)
    found = measure.nearest([p[0]], [p[1]], [s[0]], [s[1]])
    expected = float(haversine_m(p[0], p[1], s[0], s[1])) * 1.3
    assert found.distance[0] == pytest.approx(expected, rel=1e-12)
    assert 519.0 < expected < 521.0
    pairs = measure.pairs([p[0]], [p[1]], [s[0]], [s[1]], max_distance=500.0)
    assert pairs.distance.size == 0


def test_network_distances_add_the_walk_to_and_from_the_nodes(tree, tmp_path):
    networks.network_import_osm(region_code="990102", path=osm_grid(tmp_path / "x.osm"))
    measure = networks.distances_for(A)
    # Grid nodes at x = -200, -100, …, y = -300, -200, …: a point 30 m north of node
    # (0, 0) and a site 20 m south of node (300, 0) walk 30 + 300 + 20 = 350 m.
    p = lonlat(0.0, 30.0)
    s = lonlat(300.0, -20.0)
    found = measure.nearest([p[0]], [p[1]], [s[0]], [s[1]])
    assert found.distance[0] == pytest.approx(350.0, abs=0.5)
    assert found.facility.tolist() == [0]
    pairs = measure.pairs([p[0]], [p[1]], [s[0]], [s[1]], max_distance=400.0)
    assert pairs.distance == pytest.approx([350.0], abs=0.5)
    assert measure.pairs([p[0]], [p[1]], [s[0]], [s[1]], max_distance=340.0).distance.size == 0


# --- people and facilities ------------------------------------------------------------------


def test_households_are_spread_inside_their_community_and_share_its_population(tree):
    people = networks.demand_points(tree.regions[COUNTY], dt.date(2030, 1, 1))
    assert [c.code for c in people.communities] == [A, B]
    assert people.unlocated == [C]
    assert people.unlocated_population == 300.0
    counts = np.bincount(people.community)
    assert counts.tolist() == [4, networks.POINTS_PER_EMPTY_COMMUNITY]
    assert people.population.tolist() == [1000.0, 500.0]
    assert np.bincount(people.community, weights=people.weight) == pytest.approx([1000.0, 500.0])
    a = tree.regions[A]
    spread = haversine_m(people.lon[:4], people.lat[:4], a.lon, a.lat)
    assert spread.max() < 7.1
    assert people.groups["elderly"].tolist() == [40.0, 20.0]
    assert people.groups["elderly_living_alone"].tolist() == [10.0, 6.0]
    again = networks.demand_points(tree.regions[COUNTY], dt.date(2030, 1, 1))
    assert again.lon.tolist() == people.lon.tolist()  # the same places every run


def test_facilities_open_that_day_with_capacities_filled_by_the_median(tree):
    facility(100.0, name="open", capacity=10)
    facility(200.0, name="open2", capacity=30)
    facility(300.0, name="unknown capacity")
    facility(400.0, name="closed", closed_on=dt.date(2025, 1, 1), opened_on=dt.date(2020, 1, 1))
    facility(500.0, name="not yet", opened_on=dt.date(2026, 1, 1))
    facility(600.0, name="other kind", kind="nursery")
    facility(50_000.0, name="far away", region_id="990103001001")
    places = networks.facility_points(tree.regions[COUNTY], "health_station", dt.date(2025, 6, 1))
    assert sorted(zip(places.names, places.capacity.tolist(), strict=True)) == [
        ("open", 10.0),
        ("open2", 30.0),
        ("unknown capacity", 20.0),
    ]
    assert places.capacity_known == 2
