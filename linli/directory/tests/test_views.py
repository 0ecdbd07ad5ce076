import pytest
from django.test import Client

from linli.directory.choices import FacilityKind
from linli.directory.models import Location

pytestmark = pytest.mark.django_db


def test_the_search_page_finds_meals_near_a_village_in_chinese(demo):
    from linli.regions.models import Region

    village = Region.objects.filter(kind="rural").order_by("code")[0]
    page = Client().get("/services/", {"q": "助餐", "near": village.code})
    text = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in text
    assert "老年助餐" in text
    data = page.context["map"]
    assert data["points"]
    assert (data["origin"]["lat"], data["origin"]["lon"]) == (village.lat, village.lon)
    assert 'id="map-data" type="application/json"' in text


def test_the_search_page_in_english(demo, client):
    text = client.get("/services/", {"q": "meal"}).content.decode()
    assert "Find services near me" in text
    assert "Meal assistance" in text


def test_bad_input_on_the_page_is_shown_next_to_the_field(demo, client):
    page = client.get("/services/", {"age": "old", "category": "nonsense"})
    assert page.status_code == 200
    assert set(page.context["form_errors"]) == {"age", "category"}
    assert "Unknown service category nonsense." in page.content.decode()


def test_the_page_loads_no_asset_from_elsewhere(demo, client):
    text = client.get("/services/", {"q": "助餐"}).content.decode()
    assert "/static/vendor/leaflet/leaflet.js" in text
    assert "https://" not in text.replace("https://openreferral", "")


def test_a_facility_page_shows_hours_accessibility_and_services(demo, client):
    place = Location.objects.filter(kind=FacilityKind.HEALTH_CENTER).first()
    assert place is not None
    text = client.get(f"/facilities/{place.id}/").content.decode()
    assert place.name in text
    assert "Opening hours" in text
    assert "Monday" in text
    assert "家庭医生签约" in text
    assert "Family doctor contract" in text


def test_an_unknown_facility_is_404(db, client):
    assert client.get("/facilities/00000000-0000-4000-8000-000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("byday", "label"),
    [
        ("MO,TU,WE,TH,FR,SA,SU", "Every day"),
        ("MO,TU,WE,TH,FR", "Monday–Friday"),
        ("TU,SA", "Tuesday, Saturday"),
        ("SA,MO,TU,WE", "Monday–Wednesday, Saturday"),
        ("", ""),
    ],
)
def test_days_are_said_as_people_say_them(byday, label):
    from linli.directory.views import days_label

    assert days_label(byday) == label
