"""The accessibility page and API: map, tables, warnings, starting runs, refusals."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from linli.planning import accessibility, networks
from linli.planning.models import AccessibilityRun

from .access_tree import COUNTY, A, B, build, facility

DAY = "2025-06-01"


@pytest.fixture(autouse=True)
def network_dir(settings, tmp_path):
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    settings.LINLI_PLANNING_DETOUR_FACTOR = 1.3
    networks.clear_cache()
    yield
    networks.clear_cache()


@pytest.fixture
def tree(db):
    t = build()
    facility(-100.0, capacity=10, name="West station")
    return t


def map_data(html: str) -> dict:
    found = re.search(r'<script id="access-map-data" type="application/json">(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


def run_now(tree, **kw) -> AccessibilityRun:
    return accessibility.accessibility_run(
        actor=None, region_code="990102", kind=kw.get("kind", "health_station"), day=DAY
    )


# --- page -------------------------------------------------------------------------------------


def test_the_page_shows_the_map_the_table_and_the_straight_line_warning(tree, client):
    run = run_now(tree)
    client.force_login(tree.official)
    response = client.get(f"/planning/access/?region=990102&kind=health_station&date={DAY}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="straight-line"' in html
    assert "straight line × 1.3" in html
    assert 'id="no-network"' in html
    assert f'id="community-{A}"' in html
    assert f'id="community-{B}"' in html
    assert 'id="access-start"' in html  # a district official may start runs
    assert f"#{run.pk}" in html
    data = map_data(html)
    shares = {f["properties"]["code"]: f["properties"]["share"] for f in data["communities"]}
    assert shares == {A: 100.0, B: 0.0}
    assert [f["name"] for f in data["facilities"]] == ["West station"]
    assert data["legend"] == [0, 20, 40, 60, 80, 100]
    assert "access_map.js" in html
    # The totals line: 1,000 of 1,500 people within each distance.
    totals = re.search(r'id="totals">(.*?)</p>', html, re.S)
    assert totals is not None
    assert re.sub(r"<[^>]+>", "", totals.group(1)).split() == [
        "Population",
        "1,500.",
        "≤",
        "300",
        "m:",
        "67%",
        "·",
        "≤",
        "500",
        "m:",
        "67%",
        "·",
        "≤",
        "1000",
        "m:",
        "67%",
        "·",
        "15-minute",
        "walk:",
        "67%",
    ]


def test_with_a_network_there_is_no_warning(tree, client):
    networks.network_generate(region_code="990102", seed=1, block_m=200)
    run_now(tree)
    client.force_login(tree.official)
    html = client.get(f"/planning/access/?region=990102&date={DAY}").content.decode()
    assert 'id="straight-line"' not in html
    assert 'id="no-network"' not in html
    assert "Walking network" in html


def test_without_a_run_the_page_says_so(tree, client):
    client.force_login(tree.worker)
    response = client.get(f"/planning/access/?region={A}&kind=nursery&date={DAY}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="no-run"' in html
    assert 'id="access-start"' not in html  # a community worker reads, does not run


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("region=990102&kind=spaceport", 400, "kind"),
        ("region=990102&date=2025-02-30", 400, "date"),
        ("region=980102", 404, "region"),
        ("region=99x", 400, "region"),
        ("run=abc", 404, "run"),
    ],
)
def test_bad_queries_are_refused_with_the_field(tree, client, query, status, field):
    client.force_login(tree.official)
    response = client.get(f"/planning/access/?{query}")
    assert response.status_code == status
    html = response.content.decode()
    assert 'id="access-error"' in html
    assert f"<li>{field}:" in html


def test_a_region_outside_the_scope_is_refused(tree, client):
    client.force_login(tree.other_official)
    response = client.get("/planning/access/?region=990102")
    assert response.status_code == 403


def test_an_official_starts_a_run_from_the_page(tree, client):
    client.force_login(tree.official)
    response = client.post(
        "/planning/access/run/", {"region": "990102", "kind": "health_station", "date": DAY}
    )
    run = AccessibilityRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"/planning/access/?region={COUNTY}&kind=health_station&date={DAY}&run={run.pk}"
    )
    assert (run.status, run.started_by, run.as_of) == ("done", tree.official, dt.date(2025, 6, 1))
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_others_cannot_start_runs_and_bad_input_writes_nothing(tree, client):
    client.force_login(tree.worker)
    response = client.post("/planning/access/run/", {"region": A, "kind": "health_station"})
    assert response.status_code == 403
    client.force_login(tree.official)
    response = client.post("/planning/access/run/", {"region": "990102", "kind": "spaceport"})
    assert response.status_code == 400
    assert "<li>kind:" in response.content.decode()
    response = client.post(
        "/planning/access/run/", {"region": "990102", "kind": "nursery", "date": "2999-01-01"}
    )
    assert response.status_code == 400
    assert AccessibilityRun.objects.count() == 0


# --- API --------------------------------------------------------------------------------------


def test_the_api_starts_lists_and_reads_runs(tree, api_client):
    api_client.force_authenticate(tree.official)
    response = api_client.post(
        "/api/v1/planning/access/runs/",
        {"region": "990102", "kind": "health_station", "date": DAY},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["region"], body["status"], body["distance_method"]) == (
        COUNTY,
        "done",
        "straight_line",
    )
    assert body["share_walk"] == pytest.approx(2 / 3)
    assert body["results"]["totals"]["covered"] == [1000.0, 1000.0, 1000.0, 1000.0]
    listed = api_client.get("/api/v1/planning/access/runs/?region=990102&kind=health_station")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()] == [body["id"]]
    assert "results" not in listed.json()[0]
    assert api_client.get("/api/v1/planning/access/runs/?kind=nursery").json() == []
    one = api_client.get(f"/api/v1/planning/access/runs/{body['id']}/")
    assert one.status_code == 200
    assert one.json()["parameters"]["detour_factor"] == 1.3


def test_the_api_refuses_bad_input_and_other_areas(tree, api_client):
    api_client.force_authenticate(tree.official)
    response = api_client.post(
        "/api/v1/planning/access/runs/",
        {"region": "980102", "kind": "spaceport", "date": "2025-02-30"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"region", "kind", "date"}
    response = api_client.post(
        "/api/v1/planning/access/runs/", {"kind": "health_station"}, format="json"
    )
    assert response.status_code == 400
    assert "region" in response.json()["fields"]
    assert AccessibilityRun.objects.count() == 0
    run = run_now(tree)
    api_client.force_authenticate(tree.other_official)
    assert api_client.get(f"/api/v1/planning/access/runs/{run.pk}/").status_code == 404
    assert api_client.get("/api/v1/planning/access/runs/").json() == []
    response = api_client.post(
        "/api/v1/planning/access/runs/", {"region": "990102", "kind": "nursery"}, format="json"
    )
    assert response.status_code == 403
