"""The page /planning/sites/ and the API /api/v1/planning/sites/, on the hand-made county."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from linli.planning import networks
from linli.planning.models import SitingRun

from .sites_region import CANDIDATES_CSV, LAT, B, build_county

pytestmark = pytest.mark.django_db

PAGE = "/planning/sites/"
API = "/api/v1/planning/sites/"


@pytest.fixture
def county() -> Any:
    networks.clear_cache()
    return build_county()


@pytest.fixture
def official(county: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(county.official)
    return client


def _form(**extra: Any) -> dict[str, Any]:
    data = {
        "kind": "outdoor_fitness",
        "region": "970101",
        "model": "mclp",
        "k": "1",
        "radius": "1200",
        "candidates": SimpleUploadedFile("c.csv", CANDIDATES_CSV.encode(), "text/csv"),
    }
    data.update(extra)
    return data


def test_form_renders(official: Client) -> None:
    response = official.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="sites-form"' in body
    assert 'name="weight_elderly_living_alone"' in body
    assert '<option value="outdoor_fitness">' in body
    assert "No run yet." in body


def test_run_from_the_page_and_show_it(official: Client) -> None:
    response = official.post(PAGE, _form(weight_elderly="2"))
    run = SitingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('planning:sites')}?run={run.pk}"
    assert run.exact is False
    assert run.results["method"] == "greedy+swap"
    assert [s["id"] for s in run.results["sites"]] == ["D"]
    page = official.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "Estimated distances: straight line × 1.3" in body
    assert "Site D" in body
    assert 'id="coverage-elderly"' in body
    data = json.loads(body.split('id="sites-map-data" type="application/json">')[1].split("<")[0])
    assert data["radius"] == 1200
    assert [(p["name"], p["rank"]) for p in data["layers"]["sites"]] == [("Site D", 1)]
    assert [p["name"] for p in data["layers"]["existing"]] == ["Fitness A"]
    assert 'src="/static/planning/sites_map.js"' in body


def test_exact_button(official: Client) -> None:
    official.post(PAGE, _form(exact="1"))
    run = SitingRun.objects.get()
    assert run.exact is True
    assert run.results["method"] == "exact"


def test_bad_input_comes_back_on_the_form(official: Client) -> None:
    response = official.post(PAGE, _form(k="", budget="0", weight_elderly="lots"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "budget: The budget must be more than zero." in body
    assert "elderly: the weight must be a number from 0 to 100, not lots." in body
    assert SitingRun.objects.count() == 0
    bad = SimpleUploadedFile("c.csv", b"id,lat,lon\n1,91,120\n", "text/csv")
    response = official.post(PAGE, _form(candidates=bad))
    assert response.status_code == 400
    assert "row 2, lat: 91.0 is not between -90 and 90" in response.content.decode()
    assert SitingRun.objects.count() == 0


def test_outside_the_area(county: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(county.outsider)
    response = client.post(PAGE, _form())
    assert response.status_code == 403
    assert SitingRun.objects.count() == 0


def test_a_run_outside_the_area_is_not_shown(official: Client, county: Any) -> None:
    official.post(PAGE, _form())
    run = SitingRun.objects.get()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(county.outsider)
    assert client.get(f"{PAGE}?run={run.pk}").status_code == 404
    assert client.get(f"{PAGE}?run=abc").status_code == 404


def test_anonymous_is_sent_to_login(client: Client) -> None:
    assert client.get(PAGE).status_code == 302


# --- API -----------------------------------------------------------------------------------


@pytest.fixture
def api(county: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(county.official)
    return client


def _body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "outdoor_fitness",
        "region": "970101",
        "k": 1,
        "radius": 1200,
        "candidates": [
            {"id": "B", "name": "Site B", "lat": LAT[B], "lon": 120.0},
            {"id": "far", "name": "Far", "lat": 30.5, "lon": 120.0},
        ],
    }
    body.update(extra)
    return body


def test_api_post_and_list(api: APIClient) -> None:
    response = api.post(API, _body(weights={"elderly": 1}), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert [s["id"] for s in data["sites"]] == ["B"]
    assert data["sites"][0]["people"] == pytest.approx(600)
    assert data["method"] == "greedy+swap"
    assert data["distance_method"] == "straight_line"
    assert data["coverage"][0] == {
        "group": "",
        "total": 2300.0,
        "current": 1000.0,
        "committed": 1000.0,
        "proposed": 1600.0,
    }
    assert response["Location"] == f"{API}{data['id']}/"
    listing = api.get(API).json()
    assert [r["id"] for r in listing["results"]] == [data["id"]]
    assert api.get(f"{API}{data['id']}/").json()["id"] == data["id"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"budget": "0", "k": None}, "budget"),
        ({"weights": {"aliens": 2}}, "weights"),
        ({"candidates": [{"lat": 300, "lon": 120}]}, "candidates"),
        ({"region": "880101"}, "region"),
        ({"k": "many"}, "k"),
    ],
)
def test_api_bad_input(api: APIClient, extra: dict[str, Any], field: str) -> None:
    response = api.post(API, _body(**extra), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert SitingRun.objects.count() == 0


def test_api_scope(county: Any, api: APIClient) -> None:
    api.post(API, _body(), format="json")
    other = APIClient()
    other.force_authenticate(county.outsider)
    assert other.post(API, _body(), format="json").status_code == 403
    assert other.get(API).json()["results"] == []
    run = SitingRun.objects.get()
    assert other.get(f"{API}{run.pk}/").status_code == 404


def test_schema_includes_the_endpoints(api: APIClient) -> None:
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/planning/sites/" in paths
    assert "/api/v1/planning/sites/{id}/" in paths
