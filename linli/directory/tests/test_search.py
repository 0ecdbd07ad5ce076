"""Find services near me: the selector and the API over the small demo district."""

import datetime as dt
import math

import pytest
from django.utils import timezone

from linli.directory.choices import FacilityKind
from linli.directory.models import Location, Schedule
from linli.directory.selectors import ServiceQuery, distance_km, service_search
from linli.regions.models import Region

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/services/search"


def names(rows) -> set[str]:
    return {row.service.name for row in rows}


def a_village() -> Region:
    return Region.objects.filter(kind="rural", code__startswith="990102").order_by("code")[0]


def test_a_chinese_query_finds_meal_assistance_by_its_category(demo):
    rows = list(service_search(query=ServiceQuery(text="助餐")))
    assert rows
    assert names(rows) <= {"老年助餐", "助餐送餐上门"}
    assert {row.location.kind for row in rows} == {FacilityKind.ELDERLY_CANTEEN}


def test_an_english_query_finds_the_same_services(demo):
    chinese = {row.pk for row in service_search(query=ServiceQuery(text="助餐"))}
    english = {row.pk for row in service_search(query=ServiceQuery(text="meal assistance"))}
    assert english == chinese


def test_a_field_of_the_plan_finds_every_service_under_it(demo):
    rows = list(service_search(query=ServiceQuery(category="medical_care")))
    assert {row.location.kind for row in rows} <= {
        FacilityKind.HEALTH_CENTER,
        FacilityKind.HEALTH_STATION,
        FacilityKind.VILLAGE_CLINIC,
    }
    assert len({row.service.name for row in rows}) >= 3


def test_results_are_nearest_first_from_a_village(demo):
    village = a_village()
    assert village.lat is not None
    assert village.lon is not None
    rows = list(service_search(query=ServiceQuery(origin=(village.lat, village.lon))))
    distances = [distance_km(row) or 0.0 for row in rows]
    assert distances == sorted(distances)
    nearest = rows[0].location
    assert nearest.latitude is not None
    assert nearest.longitude is not None
    east = 111.32 * math.cos(math.radians(village.lat))
    exact = math.dist(
        (nearest.latitude * 111.32, nearest.longitude * east),
        (village.lat * 111.32, village.lon * east),
    )
    assert distances[0] == pytest.approx(exact, rel=1e-6)


def test_filters_free_at_home_age_and_group(demo):
    free = list(service_search(query=ServiceQuery(free=True)))
    assert free
    assert all(row.service.fee_kind == "free" for row in free)
    at_home = list(service_search(query=ServiceQuery(at_home=True)))
    assert at_home
    assert all(row.service.at_home for row in at_home)
    child = list(service_search(query=ServiceQuery(age=2)))
    assert all((row.service.minimum_age or 0) <= 2 for row in child)
    alone = names(service_search(query=ServiceQuery(group="elderly_living_alone")))
    assert "探访关爱" in alone or "助餐送餐上门" in alone
    assert "婴幼儿托育" not in names(service_search(query=ServiceQuery(group="disabled", age=70)))


def test_open_now_follows_the_hours_in_the_deployments_time_zone(demo):
    canteen = Location.objects.filter(kind=FacilityKind.ELDERLY_CANTEEN).first()
    assert canteen is not None
    Schedule.objects.filter(location=canteen).delete()
    Schedule.objects.create(
        location=canteen, freq="WEEKLY", byday="MO", opens_at=dt.time(11), closes_at=dt.time(13)
    )
    monday_noon = timezone.make_aware(dt.datetime(2026, 11, 30, 12, 0))  # Asia/Shanghai
    monday_evening = monday_noon.replace(hour=19)
    at_noon = service_search(query=ServiceQuery(open_now=True, moment=monday_noon))
    assert canteen.pk in {row.location_id for row in at_noon}
    in_the_evening = service_search(query=ServiceQuery(open_now=True, moment=monday_evening))
    assert canteen.pk not in {row.location_id for row in in_the_evening}


def test_closed_facilities_are_not_offered(demo):
    place = Location.objects.filter(kind=FacilityKind.ELDERLY_CANTEEN).first()
    assert place is not None
    place.closed_on = dt.date(2020, 1, 1)
    place.opened_on = dt.date(2010, 1, 1)
    place.save()
    assert place.pk not in {row.location_id for row in service_search(query=ServiceQuery())}


def test_the_api_answers_nearest_first_with_categories_in_english(demo, api_client):
    village = a_village()
    response = api_client.get(SEARCH, {"q": "助餐", "near": village.code})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 1
    first = body["results"][0]
    assert first["categories"] == [{"code": "elderly_meals", "name": "Meal assistance"}]
    assert first["facility"]["kind"] == "elderly_canteen"
    distances = [r["distance_m"] for r in body["results"]]
    assert distances == sorted(distances)


def test_the_api_speaks_chinese_by_default(demo, client):
    body = client.get(SEARCH, {"q": "助餐"}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["results"][0]["categories"][0]["name"] == "助餐"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "flying"}, "category"),
        ({"group": "aliens"}, "group"),
        ({"age": "-3"}, "age"),
        ({"age": "old"}, "age"),
        ({"near": "990102999999"}, "near"),
        ({"lat": "95", "lon": "114"}, "lat"),
        ({"open_now": "maybe"}, "open_now"),
    ],
)
def test_bad_parameters_are_refused_with_the_field(demo, api_client, params, field):
    response = api_client.get(SEARCH, params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_point_needs_both_coordinates(demo, api_client):
    response = api_client.get(SEARCH, {"lat": "30.5"})
    assert response.status_code == 400
    assert "lon" in response.json()["fields"]


def test_the_api_costs_a_fixed_number_of_queries(demo, api_client, django_assert_max_num_queries):
    village = a_village()
    with django_assert_max_num_queries(8):
        small = api_client.get(SEARCH, {"near": village.code, "page_size": 5})
    with django_assert_max_num_queries(8):
        large = api_client.get(SEARCH, {"near": village.code, "page_size": 100})
    assert len(small.json()["results"]) == 5
    assert len(large.json()["results"]) > 5


def test_a_resident_searches_from_their_own_community(demo, api_client):
    from linli.accounts.models import User

    resident = User.objects.get(username="demo_resident")
    home = resident.role_assignments.get().region
    assert home is not None
    api_client.force_authenticate(resident)
    first = api_client.get(SEARCH).json()["results"][0]
    assert first["facility"]["region"] == home.code
