"""Every role sees its own subtree and nothing outside it: selector, API and pages."""

import pytest
from django.http import HttpRequest
from django.urls import reverse

from conftest import OUTSIDE_CODES
from linli.accounts.choices import Role
from linli.accounts.demo import DEMO_PASSWORD, demo_username
from linli.accounts.models import RoleAssignment, User
from linli.accounts.selectors import _minimal_prefixes, regions_visible_to, user_scope
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.regions import codes
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain

pytestmark = pytest.mark.django_db

# The level of the demo region each role is held over (None: everything).
EXPECTED_TOP_LEVEL = {
    Role.RESIDENT: "community",
    Role.VOLUNTEER: "community",
    Role.SOCIAL_WORKER: "street",
    Role.PROVIDER_STAFF: None,  # held over an organization
    Role.COMMUNITY_WORKER: "community",
    Role.STREET_OFFICIAL: "street",
    Role.DISTRICT_OFFICIAL: "county",
    Role.CITY_OFFICIAL: "city",
    Role.AUDITOR: "county",
    Role.SYSTEM_ADMIN: None,
}


def organization_reach(organization) -> set[str]:
    """Worked out here from the records, not through the selector under test."""
    places = organization.locations.values_list("region__code", flat=True)
    return {codes.prefix_of(code) for code in [organization.region_id, *places] if code}


def expected_codes(role: Role) -> set[str]:
    assignment = RoleAssignment.objects.get(user__username=demo_username(role))
    everything = set(Region.objects.values_list("code", flat=True))
    if assignment.organization is not None:
        reach = organization_reach(assignment.organization)
        return {code for code in everything if any(code.startswith(p) for p in reach)}
    if assignment.region is None:
        return everything
    assert assignment.region.level == EXPECTED_TOP_LEVEL[role]
    return {code for code in everything if code.startswith(assignment.region.prefix)}


@pytest.mark.parametrize("role", list(Role))
def test_selector_gives_each_role_exactly_its_subtree(demo, role):
    user = User.objects.get(username=demo_username(role))
    visible = set(regions_visible_to(user).values_list("code", flat=True))
    assert visible == expected_codes(role)
    if role == Role.SYSTEM_ADMIN:
        assert set(OUTSIDE_CODES) <= visible
    else:
        assert not visible & set(OUTSIDE_CODES)


@pytest.mark.parametrize("role", list(Role))
def test_api_lists_each_role_exactly_its_subtree(demo, role, api_client):
    api_client.force_authenticate(User.objects.get(username=demo_username(role)))
    response = api_client.get(reverse("api:region-list"), {"page_size": 500})
    assert response.status_code == 200
    assert {row["code"] for row in response.json()["results"]} == expected_codes(role)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.SYSTEM_ADMIN])
def test_regions_outside_the_scope_are_not_found_by_api_or_page(demo, role, client, api_client):
    user = User.objects.get(username=demo_username(role))
    api_client.force_authenticate(user)
    client.force_login(user)
    everything = set(Region.objects.values_list("code", flat=True))
    outside = sorted(everything - expected_codes(role))
    assert set(OUTSIDE_CODES) <= set(outside)
    for code in outside:
        assert api_client.get(reverse("api:region-detail", args=[code])).status_code == 404
        assert client.get(reverse("regions:detail", args=[code])).status_code == 404
        response = api_client.get(reverse("api:region-list"), {"parent": code})
        assert response.status_code == 400


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_its_own_regions_page(demo, role, client):
    assert client.login(request=HttpRequest(), username=demo_username(role), password=DEMO_PASSWORD)
    user = User.objects.get(username=demo_username(role))
    for code in sorted(expected_codes(role))[:3]:
        assert client.get(reverse("regions:detail", args=[code])).status_code == 200
    assert user_scope(user).is_empty is False


def test_a_user_without_a_role_sees_nothing(demo, api_client):
    user = UserFactory()
    assert not regions_visible_to(user).exists()
    api_client.force_authenticate(user)
    assert api_client.get(reverse("api:region-list")).json()["count"] == 0


def test_two_roles_see_the_union_of_their_subtrees(db):
    first = region_chain("990102001001")
    second = region_chain("980101001001")
    user = UserFactory()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=first)
    RoleAssignmentFactory(user=user, role=Role.VOLUNTEER, region=second)
    assert set(regions_visible_to(user).values_list("code", flat=True)) == {
        "990102001001",
        "980101001001",
    }


def test_anonymous_sees_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    region_chain("990102001001")
    assert not regions_visible_to(AnonymousUser()).exists()


def test_prefixes_inside_a_held_region_are_dropped():
    assert _minimal_prefixes({"990102", "990102001", "990102001001", "98"}) == ("98", "990102")


def test_the_scope_is_read_once_per_request(demo, django_assert_num_queries):
    user = User.objects.get(username=demo_username(Role.STREET_OFFICIAL))
    with django_assert_num_queries(1):
        user_scope(user)
        user_scope(user)


def test_a_scope_through_some_roles_only(db):
    from linli.accounts.roles import EDITOR_ROLES

    community = region_chain("990102001001")
    district = region_chain("990102000000")
    user = UserFactory()
    RoleAssignmentFactory(user=user, role=Role.AUDITOR, region=district)
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    assert user_scope(user).prefixes == ("990102",)
    assert user_scope(user, roles=EDITOR_ROLES).prefixes == ("990102001001",)
    assert user_scope(user, roles=[Role.VOLUNTEER]).is_empty


def test_provider_staff_reach_where_their_organization_works(demo):
    staff = User.objects.get(username=demo_username(Role.PROVIDER_STAFF))
    organization = staff.role_assignments.get().organization
    assert organization is not None
    visible = set(regions_visible_to(staff).values_list("code", flat=True))
    for code in organization.locations.values_list("region_id", flat=True):
        assert code in visible
    assert not visible & set(OUTSIDE_CODES)


def test_only_provider_staff_are_held_over_an_organization(demo):
    from linli.accounts.services import role_grant
    from linli.core.errors import ValidationFailed
    from linli.directory.models import Organization

    organization = Organization.objects.first()
    with pytest.raises(ValidationFailed) as refused:
        role_grant(
            user=UserFactory.create(), role=Role.VOLUNTEER, region=None, organization=organization
        )
    assert "organization" in refused.value.fields
