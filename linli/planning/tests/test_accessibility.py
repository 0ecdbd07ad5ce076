"""Accessibility runs: coverage at the life-circle distances, priority groups apart,
E2SFCA, straight-line fallback, county partitions, permissions and bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from linli.core.errors import PermissionDenied, ValidationFailed
from linli.planning import accessibility, networks
from linli.planning.engine.e2sfca import StepDecay
from linli.planning.engine.network import NetworkError
from linli.planning.models import AccessibilityRun, DistanceMethod, RunStatus

from .access_tree import COUNTY, OTHER_COUNTY_COMMUNITY, A, B, build, facility

DAY = dt.date(2025, 6, 1)


@pytest.fixture(autouse=True)
def network_dir(settings, tmp_path):
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    settings.LINLI_PLANNING_DETOUR_FACTOR = 1.3
    settings.LINLI_PLANNING_WALK_SPEED_M_S = 1.2
    networks.clear_cache()
    yield
    networks.clear_cache()


@pytest.fixture
def tree(db):
    return build()


def by_code(run: AccessibilityRun) -> dict[str, dict]:
    assert run.results is not None
    return {c["code"]: c for c in run.results["communities"]}


def test_straight_line_coverage_and_groups_beyond_a_kilometre(tree):
    # 100 m west of A (130 m × detour), 1,060 m from B (1,378 m): A is covered, B is not.
    facility(-100.0, capacity=10)
    run = accessibility.accessibility_run(
        actor=tree.official, region_code="990102", kind="health_station", day=DAY
    )
    assert (run.status, run.distance_method, run.network_id) == (
        RunStatus.DONE,
        DistanceMethod.STRAIGHT_LINE,
        None,
    )
    results = run.results
    assert results is not None
    assert results["thresholds"] == [300.0, 500.0, 1000.0, 1080.0]
    rows = by_code(run)
    assert rows[A]["covered"] == [1000.0, 1000.0, 1000.0, 1000.0]
    assert rows[B]["covered"] == [0.0, 0.0, 0.0, 0.0]
    # [count, within 300, 500, 1,000 m, the walk]: B's six elders living alone are all
    # beyond a kilometre of a health station.
    assert rows[A]["groups"]["elderly_living_alone"] == [10.0, 10.0, 10.0, 10.0, 10.0]
    assert rows[B]["groups"]["elderly_living_alone"] == [6.0, 0.0, 0.0, 0.0, 0.0]
    assert rows[A]["groups"]["elderly"] == [40.0, 40.0, 40.0, 40.0, 40.0]
    assert results["totals"]["population"] == 1500.0
    assert results["totals"]["covered"] == [1000.0, 1000.0, 1000.0, 1000.0]
    assert results["unlocated"] == ["990102001003"]
    assert results["unlocated_population"] == 300.0
    assert (run.population, run.share_walk) == (1500.0, pytest.approx(2 / 3))
    assert run.parameters["detour_factor"] == 1.3
    assert run.parameters["thresholds_m"] == [300.0, 500.0, 1000.0, 1080.0]
    assert run.inputs["network_built_at"] is None
    assert run.inputs["facilities_changed_at"] is not None
    # E2SFCA: only A is in reach (130 m, first zone, weight 1): R = 10 / 1,000 people.
    assert rows[A]["e2sfca_mean"] == pytest.approx(10.0)
    assert rows[B]["e2sfca_mean"] == 0.0
    assert [
        (f["capacity"], f["catchment_population"], f["ratio"]) for f in results["facilities"]
    ] == [(10.0, 1000.0, 10.0)]
    assert [s["code"] for s in results["streets"]] == ["990102001000"]
    assert results["streets"][0]["covered"] == [1000.0, 1000.0, 1000.0, 1000.0]


def test_e2sfca_weighs_people_by_distance_decay(tree):
    # 300 m east of A (390 m with the detour: second zone) and 660 m west of B (858 m:
    # third zone).
    facility(300.0, capacity=10)
    run = accessibility.accessibility_run(
        actor=None, region_code="990102", kind="health_station", day=DAY
    )
    rows = by_code(run)
    weight = StepDecay.gaussian_zones(1080.0)(np.array([390.0, 858.0]))
    ratio = 10.0 / (1000.0 * weight[0] + 500.0 * weight[1])
    assert rows[A]["e2sfca_mean"] == pytest.approx(ratio * weight[0] * 1000, abs=1e-3)
    assert rows[B]["e2sfca_mean"] == pytest.approx(ratio * weight[1] * 1000, abs=1e-3)
    assert rows[A]["e2sfca_min"] == pytest.approx(rows[A]["e2sfca_mean"], abs=1e-3)
    assert rows[A]["covered"] == [0.0, 1000.0, 1000.0, 1000.0]
    assert rows[B]["covered"] == [0.0, 0.0, 500.0, 500.0]


def test_closed_facilities_do_not_count(tree):
    facility(-100.0, closed_on=dt.date(2025, 1, 1), opened_on=dt.date(2010, 1, 1))
    run = accessibility.accessibility_run(
        actor=None, region_code="990102", kind="health_station", day=DAY
    )
    assert run.share_walk == 0.0
    assert run.results is not None
    assert run.results["facilities"] == []


def test_on_a_network_the_run_records_the_network(tree):
    record = networks.network_generate(region_code="990102", seed=5, block_m=100, margin_m=500)
    facility(0.0, capacity=5)
    run = accessibility.accessibility_run(
        actor=tree.official, region_code="990102", kind="health_station", day=DAY
    )
    assert (run.distance_method, run.network_id) == (DistanceMethod.NETWORK, record.pk)
    assert run.inputs["network_built_at"] == record.built_at.isoformat()
    rows = by_code(run)
    assert rows[A]["covered"][0] == 1000.0  # the facility stands in the community
    assert rows[B]["covered"][0] == 0.0  # 960 m away as the crow flies
    assert run.results is not None
    assert run.results["partitions"][0]["distance_method"] == "network"


def test_a_city_run_is_computed_county_by_county(tree):
    facility(-100.0)
    city = tree.regions[A].parent.parent.parent
    assert [r.code for r in accessibility.partitions(city)] == ["990102000000", "990103000000"]
    assert [r.code for r in accessibility.partitions(tree.regions[COUNTY])] == [COUNTY]
    run = accessibility.accessibility_run(
        actor=None, region_code=city.code, kind="health_station", day=DAY
    )
    assert run.results is not None
    assert [p["region"] for p in run.results["partitions"]] == ["990102000000", "990103000000"]
    assert [c["code"] for c in run.results["communities"]] == [A, B, OTHER_COUNTY_COMMUNITY]


def test_every_kind_at_once(tree):
    runs = accessibility.accessibility_run_all(actor=None, region_code="990102", day=DAY)
    assert [r.kind for r in runs] == accessibility.kinds()
    assert {r.status for r in runs} == {RunStatus.DONE}


def test_an_engine_failure_leaves_a_failed_run_with_the_reason(tree, monkeypatch):
    def broken(*_args: object, **_kw: object) -> None:
        raise NetworkError("points: coordinate #0 (nan, nan) is not a longitude/latitude pair")

    monkeypatch.setattr(networks, "demand_points", broken)
    run = accessibility.accessibility_run(
        actor=None, region_code="990102", kind="health_station", day=DAY
    )
    assert (run.status, run.results) == (RunStatus.FAILED, None)
    assert "not a longitude/latitude pair" in run.error
    assert run.finished_at is not None


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"kind": "spaceport"}, {"kind"}),
        ({"day": "2025-13-01"}, {"date"}),
        ({"day": "yesterday"}, {"date"}),
        ({"day": "2999-01-01"}, {"date"}),
        ({"region_code": "980102"}, {"region"}),
        ({"region_code": "99x"}, {"region"}),
        ({"region_code": "99x", "kind": "", "day": "x"}, {"region", "kind", "date"}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(tree, fields, errors):
    arguments = {"region_code": "990102", "kind": "health_station", "day": DAY, **fields}
    with pytest.raises(ValidationFailed) as refused:
        accessibility.accessibility_run(actor=tree.official, **arguments)
    assert set(refused.value.fields) == errors
    assert AccessibilityRun.objects.count() == 0


def test_unknown_kind_lists_the_kinds(tree):
    with pytest.raises(ValidationFailed) as refused:
        accessibility.accessibility_run(actor=None, region_code="990102", kind="spaceport", day=DAY)
    message = refused.value.fields["kind"][0]
    assert message.startswith("Unknown facility kind spaceport: choose one of comprehensive_")
    assert "other" not in message.split(", ")


def test_bad_parameters_are_refused(tree):
    with pytest.raises(ValidationFailed) as refused:
        accessibility.accessibility_run(
            actor=None,
            region_code="990102",
            kind="health_station",
            day=DAY,
            speed_m_s=0.0,
            catchment_m=10.0,
            decay="cubic",
        )
    assert set(refused.value.fields) == {"speed", "catchment", "decay"}
    assert AccessibilityRun.objects.count() == 0


def test_only_officials_over_the_region_start_runs(tree):
    for user in (tree.worker, tree.other_official):
        with pytest.raises(PermissionDenied):
            accessibility.accessibility_run(
                actor=user, region_code="990102", kind="health_station", day=DAY
            )
    assert AccessibilityRun.objects.count() == 0
    run = accessibility.accessibility_run(
        actor=tree.official, region_code=A, kind="health_station", day=DAY
    )
    assert (run.region_id, run.started_by) == (A, tree.official)


def test_the_latest_run_as_of_a_day(tree):
    first = accessibility.accessibility_run(
        actor=None, region_code="990102", kind="health_station", day=dt.date(2024, 1, 1)
    )
    second = accessibility.accessibility_run(
        actor=None, region_code="990102", kind="health_station", day=DAY
    )
    county = tree.regions[COUNTY]
    assert accessibility.latest_run(county, "health_station", DAY) == second
    assert accessibility.latest_run(county, "health_station", dt.date(2024, 6, 1)) == first
    assert accessibility.latest_run(county, "health_station", dt.date(2023, 1, 1)) is None
    assert accessibility.latest_run(county, "nursery", DAY) is None
