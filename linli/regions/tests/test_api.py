import pytest
from django.urls import reverse

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import User
from linli.regions.models import Region

pytestmark = pytest.mark.django_db
LIST = "/api/v1/regions/"


@pytest.fixture
def official(demo, api_client):
    api_client.force_authenticate(User.objects.get(username=demo_username(Role.DISTRICT_OFFICIAL)))
    return api_client


def codes_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


def test_filter_by_level_and_kind(official):
    villages = codes_of(
        official.get(LIST, {"level": "community", "kind": "rural", "page_size": 500})
    )
    expected = Region.objects.filter(code__startswith="990102", kind="rural")
    assert villages == sorted(expected.values_list("code", flat=True))
    assert villages


def test_filter_by_parent(official):
    street = Region.objects.filter(level="street", code__startswith="990102").order_by("code")[0]
    children = codes_of(official.get(LIST, {"parent": street.code}))
    assert children == sorted(street.children.values_list("code", flat=True))


def test_filter_by_name_or_code_prefix(official):
    street = Region.objects.filter(level="street", code__startswith="990102").order_by("code")[0]
    assert codes_of(official.get(LIST, {"q": street.name})) == [street.code]
    assert codes_of(official.get(LIST, {"q": street.name_en.upper()})) == [street.code]
    under = codes_of(official.get(LIST, {"q": street.prefix, "page_size": 500}))
    assert under[0] == street.code
    assert all(code.startswith(street.prefix) for code in under)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "hamlet"}, "level"),
        ({"kind": "suburban"}, "kind"),
        ({"parent": "12345"}, "parent"),
        ({"parent": "990102999000"}, "parent"),
    ],
)
def test_bad_filters_are_refused_with_the_field(official, params, field):
    response = official.get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]


def test_list_is_paginated(official):
    body = official.get(LIST, {"page_size": 5}).json()
    assert len(body["results"]) == 5
    assert body["count"] == Region.objects.filter(code__startswith="990102").count()
    assert body["next"].endswith("page=2&page_size=5")


def test_list_costs_a_fixed_number_of_queries(official, django_assert_num_queries):
    # scope + count + page, however many regions there are
    with django_assert_num_queries(3):
        official.get(LIST, {"page_size": 500})


def test_detail_carries_the_boundary(official):
    district = official.get(reverse("api:region-detail", args=["990102000000"])).json()
    assert district["level"] == "county"
    assert district["parent"] == "990100000000"
    assert district["boundary"]["type"] == "Polygon"


def test_unknown_region_is_404(official):
    response = official.get(reverse("api:region-detail", args=["990102999999"]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/regions/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger" in docs.lower()
    assert "cdn" not in docs.lower()
    assert "//unpkg" not in docs
    assert "jsdelivr" not in docs
