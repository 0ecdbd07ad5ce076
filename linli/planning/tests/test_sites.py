"""Where to build next: the service on a hand-made county (sites_region.py), answers
worked out by hand; bad input refused with the field and nothing stored."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.directory.choices import FacilityKind
from linli.directory.tests.factories import LocationFactory
from linli.incentives.choices import BudgetState, Feasibility, Rule
from linli.incentives.models import Budget, Proposal
from linli.planning import networks, sites
from linli.planning.models import SitingRun

from .sites_region import CANDIDATES_CSV, COUNTY, LAT, RADIUS, B, C, build_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def county() -> Any:
    networks.clear_cache()
    return build_county()


def _file(text: str = CANDIDATES_CSV, name: str = "candidates.csv") -> sites.CandidateFile:
    return sites.candidates_read(content=text.encode(), filename=name)


def _run(**options: Any) -> SitingRun:
    values: dict[str, Any] = {
        "actor": None,
        "region_code": "970101",
        "kind": "outdoor_fitness",
        "radius": RADIUS,
    }
    values.update(options)
    return sites.siting_run(**values)


def _coverage(run: SitingRun, group: str = "") -> dict[str, float]:
    row = next(r for r in run.results["coverage"]["people"] if r["group"] == group)
    return {k: round(row[k], 6) for k in ("total", "current", "committed", "proposed")}


def _chosen(run: SitingRun) -> list[str]:
    return [s["id"] for s in run.results["sites"]]


@pytest.mark.parametrize("exact", [False, True])
def test_k1_picks_the_most_people(county: Any, exact: bool) -> None:
    run = _run(k=1, candidates=_file(), exact=exact)
    assert _chosen(run) == ["B"]
    site = run.results["sites"][0]
    assert site["rank"] == 1
    assert site["people"] == pytest.approx(600)
    assert site["people_alone"] == pytest.approx(600)
    assert site["weighted"] == pytest.approx(600)
    assert _coverage(run) == {"total": 2300, "current": 1000, "committed": 1000, "proposed": 1600}
    assert run.distance_method == "straight_line"
    assert run.inputs["detour_factor"] == 1.3
    assert run.inputs["existing_sites"] == 1
    assert run.inputs["candidates"] == 3
    assert run.inputs["candidates_source"] == "file"
    assert run.inputs["demand_points"] == 200
    assert run.results["method"] == ("exact" if exact else "greedy+swap")
    assert run.results["objective"] == pytest.approx(1600)
    if exact:
        assert run.results["gap"] == pytest.approx(0, abs=1e-3)
    assert run.region_id == COUNTY
    assert run.via == "web"


def test_a_priority_weight_changes_the_answer(county: Any) -> None:
    run = _run(k=1, candidates=_file(), weights={"elderly": 2})
    assert _chosen(run) == ["D"]
    site = run.results["sites"][0]
    assert site["people"] == pytest.approx(300)
    assert site["weighted"] == pytest.approx(900)
    # D's registered residents are all elderly, so its 300 people count as elderly.
    assert _coverage(run, "elderly") == {
        "total": 300,
        "current": 0,
        "committed": 0,
        "proposed": 300,
    }
    assert run.results["coverage"]["weighted"]["total"] == pytest.approx(2900)
    assert run.parameters["weights"] == {"elderly": 2.0}


def test_k2_in_greedy_order_with_gains(county: Any) -> None:
    run = _run(k=2, candidates=_file(), exact=True)
    assert _chosen(run) == ["B", "C"]
    assert [s["people"] for s in run.results["sites"]] == pytest.approx([600, 400])
    assert _coverage(run)["proposed"] == 2000


def test_budget_buys_two_cheap_sites_rather_than_one_dear(county: Any) -> None:
    run = _run(budget="200", candidates=_file(), exact=True)
    assert sorted(_chosen(run)) == ["C", "D"]
    assert run.results["cost"] == pytest.approx(200)
    assert _coverage(run)["proposed"] == 1700
    assert run.parameters["budget"] == 200.0


def test_set_covering_covers_everyone_reachable(county: Any) -> None:
    run = _run(model="lscp", candidates=_file(), exact=True)
    assert sorted(_chosen(run)) == ["B", "C", "D"]
    assert _coverage(run)["proposed"] == 2300


def test_p_median_lowers_the_walk(county: Any) -> None:
    run = _run(model="pmedian", k=1, candidates=_file(), exact=True)
    assert len(run.results["sites"]) == 1
    distance = run.results["distance"]
    assert distance["cutoff"] == 3 * RADIUS
    assert distance["after_mean"] < distance["before_mean"]


def _funded_project(county: Any, *, kind: str, lat: float | None) -> Proposal:
    worker = UserFactory.create(username="pb_worker")
    budget = Budget.objects.create(
        community=county.regions[C],
        title="微实事",
        amount=Decimal("100000"),
        state=BudgetState.PUBLISHED,
        rule=Rule.GREEDY,
        created_by=worker,
    )
    return Proposal.objects.create(
        budget=budget,
        title="东门健身角",
        kind=kind,
        proposed_by=worker,
        latitude=lat,
        longitude=120.0 if lat is not None else None,
        feasibility=Feasibility.FEASIBLE,
        cost=Decimal("48000"),
        funded=True,
    )


def test_funded_project_is_a_committed_site(county: Any) -> None:
    _funded_project(county, kind="健身角", lat=LAT[C])
    run = _run(k=1, candidates=_file())
    assert [c["name"] for c in run.results["committed"]] == ["东门健身角"]
    assert run.results["committed"][0]["source"] == "committed"
    assert _chosen(run) == ["B"]
    assert _coverage(run) == {"total": 2300, "current": 1000, "committed": 1400, "proposed": 2000}
    assert run.inputs["committed_sites"] == 1


def test_projects_of_other_kinds_or_without_place_are_not_committed(county: Any) -> None:
    _funded_project(county, kind="路灯", lat=LAT[C])
    _funded_project(county, kind="outdoor_fitness", lat=None)
    run = _run(k=1, candidates=_file())
    assert run.results["committed"] == []
    assert run.inputs["committed_unlocated"] == ["东门健身角"]


def test_generated_candidates_avoid_existing_facilities(county: Any) -> None:
    run = _run(k=3, exact=True)
    assert run.inputs["candidates_source"] == "grid"
    assert all(s["source"] == "grid" for s in run.results["sites"])
    assert _coverage(run)["proposed"] == 2300
    # No candidate within the radius of the fitness corner at A: none was chosen there.
    assert all(abs(s["lat"] - LAT["970101001001"]) > 0.005 for s in run.results["sites"])


def test_network_distances_where_the_region_has_a_network(county: Any, tmp_path: Any) -> None:
    with override_settings(LINLI_PLANNING_NETWORK_DIR=tmp_path):
        networks.network_generate(region_code=COUNTY, margin_m=300)
        networks.clear_cache()
        run = _run(k=1, candidates=_file())
        generated = _run(k=1)
    assert run.distance_method == "network"
    assert run.inputs["network_region"] == COUNTY
    assert _chosen(run) == ["B"]
    assert generated.inputs["candidates_source"] == "network"
    assert generated.results["sites"][0]["id"].startswith("node-")


@pytest.mark.parametrize("on_network", [False, True])
def test_building_the_proposed_sites_raises_coverage_as_predicted(
    county: Any, on_network: bool, tmp_path: Any
) -> None:
    # The promise a planner acts on: open fitness corners where the run proposes, run it
    # again, and what is covered now is what was predicted, for everyone and each group.
    def build_and_rerun() -> tuple[SitingRun, SitingRun]:
        weights = {"elderly": 2.0}
        before = _run(k=2, exact=True, weights=weights)
        for site in before.results["sites"]:
            nearest = min(LAT, key=lambda code: abs(LAT[code] - site["lat"]))
            LocationFactory.create(
                name=f"New corner {site['id']}",
                kind=FacilityKind.OUTDOOR_FITNESS,
                latitude=site["lat"],
                longitude=site["lon"],
                region=county.regions[nearest],
            )
        networks.clear_cache()
        return before, _run(k=1, exact=True, weights=weights)

    if on_network:
        with override_settings(LINLI_PLANNING_NETWORK_DIR=tmp_path):
            networks.network_generate(region_code=COUNTY, margin_m=300)
            networks.clear_cache()
            before, after = build_and_rerun()
    else:
        before, after = build_and_rerun()
    assert before.distance_method == after.distance_method
    assert after.inputs["existing_sites"] == before.inputs["existing_sites"] + 2
    predicted = {row["group"]: row["proposed"] for row in before.results["coverage"]["people"]}
    measured = {row["group"]: row["current"] for row in after.results["coverage"]["people"]}
    assert measured == pytest.approx(predicted)
    assert predicted[""] > _coverage(before)["current"]


def test_geojson_candidates(county: Any) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [120.0, LAT[code]]},
            "properties": {"id": code, "name": f"Site {code}", "cost": 100},
        }
        for code in (B, C)
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features})
    found = sites.candidates_read(content=text.encode(), filename="c.geojson")
    assert [c.id for c in found.candidates] == [B, C]
    assert found.has_cost
    run = _run(k=1, candidates=found)
    assert _chosen(run) == [B]


def test_gb18030_csv_is_read(county: Any) -> None:
    text = "id,名称,纬度,经度\nx,东门,30.018,120.0\n"
    found = sites.candidates_read(content=text.encode("gb18030"), filename="c.csv")
    assert [(c.id, c.name, c.lat) for c in found.candidates] == [("x", "东门", 30.018)]
    assert not found.has_cost


# --- bad input ------------------------------------------------------------------------------


def _refused(**options: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        _run(**options)
    assert SitingRun.objects.count() == 0
    return caught.value.fields


def test_budget_of_zero(county: Any) -> None:
    fields = _refused(budget="0", candidates=_file())
    assert fields == {"budget": ["The budget must be more than zero."]}


def test_budget_without_costs(county: Any) -> None:
    fields = _refused(budget="100")
    assert list(fields) == ["budget"]
    assert "cost" in fields["budget"][0]


def test_unknown_group(county: Any) -> None:
    fields = _refused(k=1, weights={"aliens": 2, "elderly": -1})
    assert fields["weights"][0].startswith("aliens is not a priority group; the groups are: ")
    assert "elderly_living_alone" in fields["weights"][0]
    assert fields["weights"][1] == "elderly: the weight must be a number from 0 to 100, not -1."


def test_parse_weights() -> None:
    assert sites.parse_weights(["elderly=2", " minor = 1.5"]) == {"elderly": "2", "minor": "1.5"}
    with pytest.raises(ValidationFailed) as caught:
        sites.parse_weights(["elderly"])
    assert list(caught.value.fields) == ["weights"]


def test_candidates_with_bad_coordinates_are_refused_row_by_row(county: Any) -> None:
    text = (
        "id,name,lat,lon,cost\n"
        "1,ok,30.018,120.0,10\n"
        "2,words,north,120.0,10\n"
        "3,too far north,95,120.0,10\n"
        "4,no longitude,30.0,,10\n"
        "5,negative cost,30.0,120.0,-5\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        _file(text)
    assert caught.value.fields == {
        "candidates": [
            "row 3, lat: not a latitude: 'north'",
            "row 4, lat: 95.0 is not between -90 and 90",
            "row 5, lon: not a longitude: ''",
            "row 6, cost: not an amount of 0 or more: '-5'",
        ]
    }


def test_candidates_far_from_the_region_are_refused(county: Any) -> None:
    text = "id,name,lat,lon\n1,swapped,0.0,0.0\n2,fine,30.018,120.0\n"
    fields = _refused(k=1, candidates=_file(text))
    assert list(fields) == ["candidates"]
    assert fields["candidates"][0].startswith("row 1, lat/lon: 1 (0.0, 0.0) is ")
    assert len(fields["candidates"]) == 1


def test_candidates_file_without_coordinates_columns() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _file("id,name\n1,x\n")
    assert list(caught.value.fields) == ["candidates"]
    with pytest.raises(ValidationFailed):
        _file("{not json", name="c.geojson")


def test_region_outside_the_deployment(county: Any) -> None:
    fields = _refused(region_code="880101", k=1)
    assert list(fields) == ["region"]
    fields = _refused(region_code="97x", k=1)
    assert list(fields) == ["region"]


def test_parameters_all_at_once(county: Any) -> None:
    fields = _refused(kind="moon_base", k="1.5", radius="10", model="mclp")
    assert set(fields) == {"kind", "k", "radius"}
    assert fields["k"] == ["The number of sites must be a whole number from 1 to 500."]
    assert _refused(k=1, budget="10", candidates=_file())["budget"] == [
        "Give either the number of sites or a budget, not both."
    ]
    assert _refused()["k"] == ["Give the number of sites (k) or a budget."]
    assert "k" in _refused(model="lscp", k=2)
    assert "budget" in _refused(model="pmedian", k=1, budget="5", candidates=_file())


def test_scope(county: Any) -> None:
    with pytest.raises(PermissionDenied) as caught:
        _run(actor=county.outsider, k=1)
    assert list(caught.value.fields) == ["region"]
    with pytest.raises(PermissionDenied):
        _run(actor=county.auditor, k=1)
    run = _run(actor=county.official, k=1, candidates=_file())
    assert run.created_by == county.official
    assert list(sites.runs_visible(county.auditor)) == [run]
    assert list(sites.runs_visible(county.outsider)) == []


def test_exports(county: Any) -> None:
    run = _run(k=1, candidates=_file())
    csv_text = sites.run_sites_csv(run)
    assert csv_text.splitlines()[1].startswith("1,B,Site B,30.018,120.0,500.0,600.0,600.0,600.0")
    data = json.loads(sites.run_sites_geojson(run))
    roles = [f["properties"]["role"] for f in data["features"]]
    assert roles == ["proposed", "existing"]
    assert data["features"][0]["geometry"]["coordinates"] == [120.0, 30.018]
