"""The directory's write services: every rule, every role, nothing written on a refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest
from django.conf import settings
from django.utils import translation

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.directory.choices import AccessibilityFeature, FacilityKind, OrganizationKind
from linli.directory.models import (
    Accessibility,
    Address,
    Location,
    Metadata,
    Organization,
    Phone,
    Schedule,
    Service,
)
from linli.directory.services import (
    WeeklyHours,
    directory_write_scope,
    facility_create,
    facility_set_accessibility,
    facility_update,
    organization_create,
    organization_update,
    schedule_set_weekly,
)
from linli.directory.tests.factories import AccessibilityFactory, ServiceFactory
from linli.directory.validators import credit_code_check_character
from linli.regions.tests.factories import region_chain

pytestmark = pytest.mark.django_db

COMMUNITY = "990102001001"
NEIGHBOUR = "990102001002"
OTHER_STREET_COMMUNITY = "990102002001"
OUTSIDE = "980101001001"
STREET = "990102001000"
DISTRICT = "990102000000"


def credit_code(body: str = "91990102MA0000001") -> str:
    """A valid unified social credit code from its first 17 characters."""
    return body + credit_code_check_character(body)


def with_role(role: str, code: str | None):
    assignment = RoleAssignmentFactory(
        role=role, region=region_chain(code) if code else None, user=UserFactory()
    )
    return assignment.user


@pytest.fixture
def regions():
    for code in (COMMUNITY, NEIGHBOUR, OTHER_STREET_COMMUNITY, OUTSIDE):
        region_chain(code)


@pytest.fixture
def worker(regions):
    return with_role(Role.COMMUNITY_WORKER, COMMUNITY)


def a_facility(actor=None, **fields):
    values = {
        "name": "幸福社区养老服务站",
        "kind": FacilityKind.ELDERLY_DAY_CARE,
        "region": COMMUNITY,
    }
    return facility_create(actor=actor, **(values | fields))


# --- Who may write -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.COMMUNITY_WORKER, COMMUNITY),
        (Role.STREET_OFFICIAL, STREET),
        (Role.DISTRICT_OFFICIAL, DISTRICT),
        (Role.CITY_OFFICIAL, "990100000000"),
        (Role.SYSTEM_ADMIN, None),
    ],
)
def test_writing_roles_may_add_a_facility_in_their_area(regions, role, code):
    facility = a_facility(with_role(role, code))
    assert facility.region_id == COMMUNITY


@pytest.mark.parametrize(
    "role",
    [Role.RESIDENT, Role.VOLUNTEER, Role.SOCIAL_WORKER, Role.PROVIDER_STAFF, Role.AUDITOR],
)
def test_other_roles_may_not_write(regions, role):
    user = with_role(role, COMMUNITY)
    with pytest.raises(PermissionDenied):
        a_facility(user)
    with pytest.raises(PermissionDenied):
        organization_create(actor=user, name="某机构", region=COMMUNITY)
    assert not Location.objects.exists()
    assert not Organization.objects.exists()


def test_a_user_without_any_role_may_not_write(regions):
    with pytest.raises(PermissionDenied):
        directory_write_scope(cast(User, UserFactory()))


def test_a_reading_role_does_not_widen_a_writing_one(regions):
    """An auditor over the district who is also a community worker writes in the community only."""
    user = with_role(Role.COMMUNITY_WORKER, COMMUNITY)
    RoleAssignmentFactory(user=user, role=Role.AUDITOR, region=region_chain(DISTRICT))
    assert directory_write_scope(user).prefixes == ("990102001001",)
    with pytest.raises(ValidationFailed) as refused:
        a_facility(user, region=NEIGHBOUR)
    assert refused.value.fields == {
        "region": ["No community or village with the code 990102001002 is in your area."]
    }


def test_a_system_job_writes_anywhere(regions):
    assert a_facility(None, region=OUTSIDE).region_id == OUTSIDE


def test_a_superuser_writes_anywhere(regions):
    user = UserFactory(is_superuser=True)
    assert a_facility(user, region=OUTSIDE).region_id == OUTSIDE


# --- Organizations -----------------------------------------------------------------------


def test_organization_create_stores_the_fields_and_change_records(worker):
    code = credit_code()
    organization = organization_create(
        actor=worker,
        name=" 幸福社区居民委员会 ",
        kind=OrganizationKind.COMMUNITY_COMMITTEE,
        credit_code=code.lower(),
        region=COMMUNITY,
        phone="0999-88886666",
        email="office@example.org",
        website="https://example.org/",
    )
    organization.refresh_from_db()
    assert organization.name == "幸福社区居民委员会"
    assert organization.credit_code == code
    assert organization.region_id == COMMUNITY
    assert Phone.objects.get(organization=organization).number == "0999-88886666"
    records = Metadata.objects.filter(resource_id=organization.id)
    assert {r.field_name for r in records} >= {"name", "credit_code", "region", "phone"}
    assert {r.last_action_type for r in records} == {"create"}
    assert {r.updated_by for r in records} == {worker.username}


def test_a_mistyped_credit_code_is_refused(worker):
    code = credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as refused:
        organization_create(actor=worker, name="某机构", credit_code=wrong, region=COMMUNITY)
    assert list(refused.value.fields) == ["credit_code"]
    assert "check character should be" in refused.value.fields["credit_code"][0]
    assert not Organization.objects.exists()


def test_a_credit_code_is_unique(worker):
    code = credit_code()
    first = organization_create(actor=worker, name="甲", credit_code=code, region=COMMUNITY)
    with pytest.raises(ValidationFailed) as refused:
        organization_create(actor=worker, name="乙", credit_code=code, region=COMMUNITY)
    assert refused.value.fields == {"credit_code": ["甲 already has this credit code."]}
    # Keeping its own code is not a clash.
    assert organization_update(actor=worker, organization=first, credit_code=code, name="甲2")


def test_a_scoped_actor_gives_an_organization_a_region_in_their_area(worker):
    with pytest.raises(ValidationFailed) as refused:
        organization_create(actor=worker, name="无区划机构")
    assert "region" in refused.value.fields
    for code in (NEIGHBOUR, "990102001099"):  # another community, and one that does not exist
        with pytest.raises(ValidationFailed) as refused:
            organization_create(actor=worker, name="外区机构", region=code)
        assert refused.value.fields == {
            "region": [f"No region with the code {code} is in your area."]
        }
    # A system job may leave it out.
    assert organization_create(actor=None, name="无区划机构").region is None


def test_organization_update_changes_only_what_is_given(worker):
    organization = organization_create(
        actor=worker, name="甲", kind=OrganizationKind.CHARITY, region=COMMUNITY, phone="123"
    )
    organization_update(actor=worker, organization=organization, name="乙", phone="")
    organization.refresh_from_db()
    assert (organization.name, organization.kind) == ("乙", OrganizationKind.CHARITY)
    assert not Phone.objects.filter(organization=organization).exists()
    change = Metadata.objects.get(
        resource_id=organization.id, field_name="name", last_action_type="update"
    )
    assert (change.previous_value, change.replacement_value) == ("甲", "乙")


def test_an_organization_outside_the_area_cannot_be_changed(worker):
    elsewhere = organization_create(actor=None, name="外区机构", region=NEIGHBOUR)
    with pytest.raises(PermissionDenied):
        organization_update(actor=worker, organization=elsewhere, name="改名")
    elsewhere.refresh_from_db()
    assert elsewhere.name == "外区机构"


def test_organization_fields_are_checked_all_at_once(worker):
    with pytest.raises(ValidationFailed) as refused:
        organization_create(
            actor=worker,
            name="",
            kind="spaceport",
            email="not-an-email",
            website="example.org",
            region=COMMUNITY,
        )
    assert set(refused.value.fields) == {"name", "kind", "email", "website"}


# --- Facilities ----------------------------------------------------------------------------


def test_facility_create_stores_every_field(worker):
    owner = organization_create(actor=worker, name="幸福社区居委会", region=COMMUNITY)
    facility = a_facility(
        worker,
        organization=owner,
        address="幸福路1号",
        phone="0999-12345678",
        latitude=30.25,
        longitude=120.15,
        floor_area_m2=Decimal("800"),
        activity_area_m2=600.04,
        capacity=120,
        opened_on=dt.date(2020, 5, 1),
    )
    facility.refresh_from_db()
    assert facility.kind == FacilityKind.ELDERLY_DAY_CARE
    assert facility.organization == owner
    assert facility.activity_area_m2 == Decimal("600.0")
    assert facility.location_type == "physical"
    address = Address.objects.get(location=facility)
    assert (address.address_1, address.city, address.state_province) == (
        "幸福路1号",
        "区域990100000000",
        "区域990000000000",
    )
    assert Phone.objects.get(location=facility).number == "0999-12345678"


def test_a_facility_is_in_a_community_or_village_of_the_area(regions):
    official = with_role(Role.STREET_OFFICIAL, STREET)
    with pytest.raises(ValidationFailed) as refused:
        a_facility(official, region=STREET)
    assert "a facility is in a community or village" in refused.value.fields["region"][0]
    for code in (OTHER_STREET_COMMUNITY, "990102001099", OUTSIDE):
        with pytest.raises(ValidationFailed) as refused:
            a_facility(official, region=code)
        assert refused.value.fields == {
            "region": [f"No community or village with the code {code} is in your area."]
        }
    with pytest.raises(ValidationFailed) as refused:
        a_facility(official, region="9901")
    assert refused.value.fields == {"region": ["A region code has exactly 12 digits."]}
    assert not Location.objects.exists()


def test_facility_rules_are_checked_all_at_once(worker):
    with pytest.raises(ValidationFailed) as refused:
        a_facility(
            worker,
            kind="spaceport",
            latitude=60.0,
            longitude=10.0,
            floor_area_m2=-5,
            capacity=-1,
            opened_on=dt.date(2022, 1, 1),
            closed_on=dt.date(2021, 1, 1),
        )
    fields = refused.value.fields
    assert set(fields) == {
        "kind",
        "latitude",
        "longitude",
        "floor_area_m2",
        "capacity",
        "closed_on",
    }
    assert "outside the area this deployment serves" in fields["latitude"][0]
    assert fields["floor_area_m2"] == ["Cannot be negative."]
    assert fields["closed_on"] == ["A facility cannot close before it opened."]
    assert not Location.objects.exists()


def test_the_activity_area_is_within_the_floor_area(worker):
    with pytest.raises(ValidationFailed) as refused:
        a_facility(worker, floor_area_m2=100, activity_area_m2=120)
    assert refused.value.fields == {
        "activity_area_m2": [
            "The activity area (120.0 m²) cannot exceed the floor area (100.0 m²)."
        ]
    }
    facility = a_facility(worker, floor_area_m2=100, activity_area_m2=100)
    # The rule holds against what is stored too.
    with pytest.raises(ValidationFailed):
        facility_update(actor=worker, facility=facility, floor_area_m2=90)


def test_coordinates_come_in_pairs(worker):
    with pytest.raises(ValidationFailed) as refused:
        a_facility(worker, latitude=30.0)
    assert refused.value.fields == {"longitude": ["Give both latitude and longitude, or neither."]}


def test_facility_update_changes_only_what_is_given(worker):
    facility = a_facility(worker, capacity=10, address="旧址1号")
    stamp = facility.last_modified
    facility_update(actor=worker, facility=facility, capacity=10)
    facility.refresh_from_db()
    assert facility.last_modified == stamp  # Nothing changed, nothing written.
    facility_update(actor=worker, facility=facility, capacity=20, address="新址2号")
    facility.refresh_from_db()
    assert (facility.capacity, facility.name) == (20, "幸福社区养老服务站")
    assert Address.objects.get(location=facility).address_1 == "新址2号"
    assert Metadata.objects.filter(
        resource_id=facility.id, last_action_type="update", field_name="capacity"
    ).exists()


def test_a_facility_outside_the_area_cannot_be_changed(worker):
    elsewhere = a_facility(None, region=NEIGHBOUR)
    with pytest.raises(PermissionDenied):
        facility_update(actor=worker, facility=elsewhere, name="改名")
    with pytest.raises(PermissionDenied):
        facility_set_accessibility(actor=worker, facility=elsewhere, features=["ramp"])
    with pytest.raises(PermissionDenied):
        schedule_set_weekly(
            actor=worker, facility=elsewhere, hours=[(("MO",), dt.time(8), dt.time(9))]
        )


def test_a_facility_cannot_be_moved_out_of_the_area(worker):
    facility = a_facility(worker)
    with pytest.raises(ValidationFailed):
        facility_update(actor=worker, facility=facility, region=NEIGHBOUR)
    facility.refresh_from_db()
    assert facility.region_id == COMMUNITY


# --- Accessibility -------------------------------------------------------------------------


def test_accessibility_features_become_hsds_rows(worker):
    facility = a_facility(worker)
    free_text = cast(
        Accessibility,
        AccessibilityFactory(location=facility, details="", description="门口有铃"),
    )
    facility_set_accessibility(actor=worker, facility=facility, features=["lift", "ramp", "ramp"])
    rows = Accessibility.objects.filter(location=facility).exclude(pk=free_text.pk)
    assert sorted(rows.values_list("details", flat=True)) == ["lift", "ramp"]
    with translation.override(settings.LANGUAGE_CODE):
        label = str(AccessibilityFeature.LIFT.label)
    assert rows.get(details="lift").description == label
    ids = set(rows.values_list("id", flat=True))
    facility_set_accessibility(actor=worker, facility=facility, features=["ramp", "lift"])
    assert set(rows.values_list("id", flat=True)) == ids  # The same features: nothing rewritten.
    facility_set_accessibility(actor=worker, facility=facility, features=[])
    assert list(Accessibility.objects.filter(location=facility)) == [free_text]


def test_an_unknown_accessibility_feature_is_refused(worker):
    facility = a_facility(worker)
    with pytest.raises(ValidationFailed) as refused:
        facility_set_accessibility(actor=worker, facility=facility, features=["ramp", "moat"])
    assert "moat" in refused.value.fields["features"][0]
    assert not Accessibility.objects.exists()


# --- Weekly hours --------------------------------------------------------------------------


def test_weekly_hours_become_hsds_schedules(worker):
    facility = a_facility(worker)
    rows = schedule_set_weekly(
        actor=worker,
        facility=facility,
        hours=[
            (("MO", "TU", "WE", "TH", "FR"), dt.time(8, 30), dt.time(17, 30)),
            ("SA", dt.time(9), dt.time(12)),
        ],
    )
    stored = Schedule.objects.filter(location=facility).order_by("byday")
    assert [(s.freq, s.byday, s.opens_at, s.closes_at) for s in stored] == [
        ("WEEKLY", "MO,TU,WE,TH,FR", dt.time(8, 30), dt.time(17, 30)),
        ("WEEKLY", "SA", dt.time(9), dt.time(12)),
    ]
    assert len(rows) == 2
    again = schedule_set_weekly(
        actor=worker,
        facility=facility,
        hours=[
            WeeklyHours(("SA",), dt.time(9), dt.time(12)),
            ("MO,TU,WE,TH,FR", dt.time(8, 30), dt.time(17, 30)),
        ],
    )
    assert {s.pk for s in again} == {s.pk for s in stored}  # Unchanged hours: nothing rewritten.
    schedule_set_weekly(actor=worker, facility=facility, hours=[])
    assert not Schedule.objects.filter(location=facility).exists()


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([("MO", dt.time(17), dt.time(8))], "closes before it opens"),
        ([("MO", dt.time(8), dt.time(8))], "closes before it opens"),
        (
            [("MO,TU", dt.time(8), dt.time(12)), ("TU", dt.time(11), dt.time(14))],
            "On Tuesday, 08:00–12:00 and 11:00–14:00 overlap.",
        ),
        ([("XX", dt.time(8), dt.time(12))], "Unknown day XX"),
        ([((), dt.time(8), dt.time(12))], "Give the days"),
    ],
)
def test_impossible_hours_are_refused(worker, hours, message):
    facility = a_facility(worker)
    with pytest.raises(ValidationFailed) as refused:
        schedule_set_weekly(actor=worker, facility=facility, hours=hours)
    assert message in " ".join(refused.value.fields["hours"])
    assert not Schedule.objects.exists()


def test_a_service_gets_weekly_hours_in_its_organizations_area(worker):
    service = cast(
        Service,
        ServiceFactory(organization=organization_create(actor=None, name="甲", region=COMMUNITY)),
    )
    schedule_set_weekly(actor=worker, service=service, hours=[("SU", dt.time(9), dt.time(11))])
    assert Schedule.objects.get(service=service).byday == "SU"
    elsewhere = cast(
        Service,
        ServiceFactory(organization=organization_create(actor=None, name="乙", region=NEIGHBOUR)),
    )
    with pytest.raises(PermissionDenied):
        schedule_set_weekly(actor=worker, service=elsewhere, hours=[])


def test_hours_need_exactly_one_owner(worker):
    with pytest.raises(TypeError):
        schedule_set_weekly(actor=worker, hours=[])
