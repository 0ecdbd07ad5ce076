"""The admin shows each editor the directory of their own area, and no more."""

import pytest
from django.http import HttpRequest
from django.test import Client

from linli.accounts.models import User
from linli.directory.models import Location, Organization

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert browser.login(request=HttpRequest(), username=username, password="linli-demo")
    return browser


def held_region(username: str):
    return User.objects.get(username=username).role_assignments.get().region


def test_a_community_worker_sees_only_their_communitys_facilities(demo):
    browser = signed_in("demo_community_worker")
    community = held_region("demo_community_worker")
    page = browser.get("/admin/directory/location/")
    assert page.status_code == 200
    shown = set(page.context["cl"].queryset.values_list("region_id", flat=True))
    assert shown == {community.code}
    elsewhere = Location.objects.exclude(region=community).first()
    assert elsewhere is not None
    assert browser.get(f"/admin/directory/location/{elsewhere.pk}/change/").status_code == 302


def test_a_district_official_sees_the_whole_district(demo):
    page = signed_in("demo_district_official").get("/admin/directory/location/")
    assert (
        page.context["cl"].result_count
        == Location.objects.filter(region__code__startswith="990102").count()
    )


def test_an_editor_cannot_move_a_facility_out_of_their_area(demo):
    browser = signed_in("demo_community_worker")
    community = held_region("demo_community_worker")
    place = Location.objects.filter(region=community).first()
    assert place is not None
    form = browser.get(f"/admin/directory/location/{place.pk}/change/").context["adminform"].form
    choices = {str(value) for value, _label in form.fields["region"].choices if value}
    assert choices == {community.code}


def test_the_admin_refuses_coordinates_outside_china(demo):
    browser = signed_in("demo_system_admin")
    place = Location.objects.first()
    assert place is not None
    response = browser.get(f"/admin/directory/location/{place.pk}/change/")
    form = response.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {"latitude": "48.85", "longitude": "2.35", "name": place.name, "location_type": "physical"}
    )
    for prefix in ("addresses", "schedules", "accessibility", "phones", "service_at_locations"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = browser.post(f"/admin/directory/location/{place.pk}/change/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "longitude" in errors
    place.refresh_from_db()
    assert place.longitude != 2.35


@pytest.mark.parametrize("username", ["demo_resident", "demo_volunteer", "demo_auditor"])
def test_roles_that_do_not_edit_have_no_admin(demo, username):
    browser = Client()
    browser.force_login(User.objects.get(username=username))
    assert browser.get("/admin/directory/location/").status_code == 302


def test_organizations_are_scoped_too(demo):
    page = signed_in("demo_street_official").get("/admin/directory/organization/")
    street = held_region("demo_street_official")
    codes = set(page.context["cl"].queryset.values_list("region_id", flat=True))
    assert codes
    assert all(code.startswith(street.prefix) for code in codes)
    assert Organization.objects.exclude(region__code__startswith=street.prefix).exists()


def test_only_system_administrators_change_the_taxonomy(demo):
    browser = signed_in("demo_district_official")
    assert browser.get("/admin/directory/taxonomyterm/").status_code == 200
    assert browser.get("/admin/directory/taxonomyterm/add/").status_code == 403
