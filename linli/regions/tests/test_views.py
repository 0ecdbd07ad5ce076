import pytest
from django.http import HttpRequest
from django.test import Client

from linli.accounts.demo import DEMO_PASSWORD
from linli.regions.models import Region

pytestmark = pytest.mark.django_db


def logged_in(username: str, language: str = "en") -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert browser.login(request=HttpRequest(), username=username, password=DEMO_PASSWORD)
    return browser


def test_a_single_top_region_opens_directly(demo):
    response = logged_in("demo_street_official").get("/regions/")
    street = Region.objects.get(role_assignments__user__username="demo_street_official")
    assert response.status_code == 302
    assert response["Location"] == f"/regions/{street.code}/"


def test_the_district_page_lists_streets_with_their_figures(demo):
    page = logged_in("demo_district_official").get("/regions/990102000000/").content.decode()
    for street in Region.objects.filter(parent_id="990102000000"):
        assert street.name_en in page
        assert f"/regions/{street.code}/" in page
    assert "Linli District" in page
    assert "Villages" in page


def test_the_tree_in_chinese(demo):
    page = logged_in("demo_district_official", "zh-hans").get("/regions/990102000000/")
    text = page.content.decode()
    assert "邻里区" in text
    for street in Region.objects.filter(parent_id="990102000000"):
        assert street.name in text


def test_counts_of_communities_and_villages_add_up(demo, django_assert_max_num_queries):
    browser = logged_in("demo_system_admin")
    with django_assert_max_num_queries(12):
        response = browser.get("/regions/990102000000/")
    totals = response.context["totals"]
    lowest = Region.objects.filter(code__startswith="990102", level="community")
    assert totals.communities == lowest.filter(kind="urban").count()
    assert totals.villages == lowest.filter(kind="rural").count()
    assert totals.population == sum(p or 0 for p in lowest.values_list("population", flat=True))
    rows = response.context["rows"]
    assert sum(c.communities + c.villages for _r, c in rows) == lowest.count()


def test_the_breadcrumbs_stop_at_the_scope(demo):
    worker = logged_in("demo_community_worker")
    community = Region.objects.get(role_assignments__user__username="demo_community_worker")
    response = worker.get(f"/regions/{community.code}/")
    assert response.context["breadcrumbs"] == []
    admin = logged_in("demo_system_admin").get(f"/regions/{community.code}/")
    assert [r.level for r in admin.context["breadcrumbs"]] == [
        "province",
        "city",
        "county",
        "street",
    ]


def test_a_system_admin_starts_from_the_provinces(demo):
    response = logged_in("demo_system_admin").get("/regions/")
    assert response.status_code == 200
    assert {r.code for r, _c in response.context["rows"]} == {"990000000000", "980000000000"}


def test_an_unknown_region_gets_the_sites_own_404_page(demo):
    response = logged_in("demo_street_official").get("/regions/980101001001/")
    assert response.status_code == 404
    assert "outside the area you may see" in response.content.decode()
