"""The residents API: masked everywhere, scoped by role, every unmasking and download logged,
bad input refused with its field and nothing stored."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory
from linli.core.pii import identity_check_character
from linli.regions.tests.factories import region_chain
from linli.residents.choices import ConsentPurpose, RelationKind
from linli.residents.models import AccessEvent, Consent, Correction, Household, Relation, Resident
from linli.residents.services import (
    ResidentInput,
    consent_record,
    correction_ask,
    household_create,
    relation_add,
    resident_build,
    resident_register,
    resident_unmask,
    residents_register_many,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"
PHONE = "13812345678"
OTHER_PHONE = "13987654321"


def identity(born: str, serial: str = "123") -> str:
    first17 = "990102" + born + serial
    return first17 + identity_check_character(first17)


ELDER_NUMBER = identity("19400101", "124")
CHILD_NUMBER = identity("19900505", "131")


class World:
    """Two communities of one district, someone of each role, and a family in the first:
    an elder living alone, and their adult child who is their proxy (with consent)."""

    def __init__(self) -> None:
        self.here = region_chain("990102001001")
        self.there = region_chain("990102002001")
        self.street = region_chain("990102001000")
        self.district = region_chain("990102000000")
        self.worker = self.user("worker", Role.COMMUNITY_WORKER, self.here)
        self.other_worker = self.user("other_worker", Role.COMMUNITY_WORKER, self.there)
        self.street_official = self.user("street", Role.STREET_OFFICIAL, self.street)
        self.district_official = self.user("district", Role.DISTRICT_OFFICIAL, self.district)
        self.auditor = self.user("auditor", Role.AUDITOR, self.district)
        self.volunteer = self.user("volunteer", Role.VOLUNTEER, self.here)
        self.social_worker = self.user("social", Role.SOCIAL_WORKER, self.here)
        self.child_user = self.user("child", Role.RESIDENT, self.here)
        self.household = household_create(actor=self.worker, community=self.here, address="1号")
        self.elder = self.register(
            name="王秀英",
            identity_number=ELDER_NUMBER,
            phone=PHONE,
            household=self.household,
            living_alone=True,
            health_notes="高血压",
            disability_category="visual",
            disability_grade="2",
        )
        self.child = self.register(
            name="李强", identity_number=CHILD_NUMBER, phone=OTHER_PHONE, household=self.household
        )
        self.child.user = self.child_user
        self.child.save(update_fields=["user"])
        self.proxy_consent = consent_record(
            actor=self.worker,
            resident=self.elder,
            purpose=ConsentPurpose.PROXY,
            given_on=timezone.localdate() - dt.timedelta(days=10),
            scope_text="代为申请服务",
        )
        relation_add(
            actor=self.worker,
            resident=self.elder,
            person=self.child,
            kind=RelationKind.PROXY,
            consent=self.proxy_consent,
        )
        self.stranger = resident_register(
            actor=None,
            data=ResidentInput(
                name="赵六", community=self.there, identity_number=identity("19600101", "151")
            ),
        )

    @staticmethod
    def user(username: str, role: str, region) -> User:
        user = User.objects.create_user(username=username)
        RoleAssignmentFactory(user=user, role=role, region=region)
        return user

    def register(self, **fields) -> Resident:
        return resident_register(
            actor=self.worker, data=ResidentInput(community=self.here, **fields)
        )


@pytest.fixture
def world() -> World:
    return World()


def as_user(user: User) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    # A fresh instance, as a real request loads: no scope cached by the set-up's services.
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def assert_no_clear_values(response) -> None:
    """The raw body: no identity number, phone or sensitive text in clear, anywhere."""
    body = response.content.decode()
    for secret in (ELDER_NUMBER, CHILD_NUMBER, PHONE, OTHER_PHONE, "高血压", "visual"):
        assert secret not in body


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Lists


def test_the_list_is_masked_and_holds_only_the_callers_area(world):
    response = as_user(world.worker).get(API + "residents/")
    assert set(ids(response)) == {world.elder.pk, world.child.pk}
    assert_no_clear_values(response)
    elder = next(r for r in response.json()["results"] if r["id"] == world.elder.pk)
    assert elder["identity_number"] == ELDER_NUMBER[:6] + "********" + ELDER_NUMBER[-4:]
    assert elder["phone"] == "138****5678"
    assert (elder["health_notes"], elder["disability"], elder["difficulty"]) == ("***", "***", "")
    assert elder["community"] == world.here.code
    assert elder["household"] == world.household.pk


def test_officials_see_masked_lists_of_their_subtree(world):
    street = as_user(world.street_official).get(API + "residents/")
    assert set(ids(street)) == {world.elder.pk, world.child.pk}
    assert_no_clear_values(street)
    district = as_user(world.district_official).get(API + "residents/")
    assert set(ids(district)) == {world.elder.pk, world.child.pk, world.stranger.pk}


@pytest.mark.parametrize("role_user", ["volunteer", "social_worker", "auditor"])
def test_roles_without_a_task_see_no_residents(world, role_user):
    assert ids(as_user(getattr(world, role_user)).get(API + "residents/")) == []


def test_a_resident_lists_themselves_and_those_they_act_for(world):
    assert set(ids(as_user(world.child_user).get(API + "residents/"))) == {
        world.elder.pk,
        world.child.pk,
    }


def test_filters(world):
    client = as_user(world.district_official)
    assert ids(client.get(API + "residents/", {"community": world.there.code})) == [
        world.stranger.pk
    ]
    assert set(ids(client.get(API + "residents/", {"community": "990102001"}))) == {
        world.elder.pk,
        world.child.pk,
    }
    assert ids(client.get(API + "residents/", {"age_band": "80+"})) == [world.elder.pk]
    assert ids(client.get(API + "residents/", {"age_band": "18-59"})) == [world.child.pk]
    assert ids(client.get(API + "residents/", {"group": "elderly_living_alone"})) == [
        world.elder.pk
    ]
    assert ids(client.get(API + "residents/", {"group": "disabled"})) == [world.elder.pk]
    assert set(ids(client.get(API + "residents/", {"group": "elderly"}))) == {
        world.elder.pk,
        world.stranger.pk,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"community": "99x"}, "community"),
        ({"age_band": "old"}, "age_band"),
        ({"group": "rich"}, "group"),
    ],
)
def test_unknown_filter_values_are_refused_with_the_field(world, params, field):
    response = as_user(world.worker).get(API + "residents/", params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_the_list_costs_the_same_queries_for_any_page_size(world, django_assert_max_num_queries):
    people = []
    for n in range(40):
        data = ResidentInput(
            name=f"居民{n}",
            community=world.here,
            identity_number=identity("19700101", f"{200 + n:03d}"),
            phone=f"139{n:08d}",
            household=world.household,
        )
        people.append(resident_build(data))
    residents_register_many(people)
    client = as_user(world.worker)
    # scope, count, page: however long the page
    with django_assert_max_num_queries(3):
        small = client.get(API + "residents/", {"page_size": 5})
    with django_assert_max_num_queries(3):
        large = client.get(API + "residents/", {"page_size": 100})
    assert len(small.json()["results"]) == 5
    assert len(large.json()["results"]) == 42
    assert small.json()["count"] == 42


# Registering and updating


def registration(world, **fields):
    return {
        "name": "张桂兰",
        "community": world.here.code,
        "identity_number": identity("19450303", "142"),
        "phone": "13700001111",
        "household": world.household.pk,
        "address": "1号",
        "living_alone": True,
        **fields,
    }


def test_a_community_worker_registers_a_resident(world):
    response = as_user(world.worker).post(API + "residents/", registration(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    stored = Resident.objects.get(pk=body["id"])
    assert (stored.name, stored.phone, stored.birth_date, stored.sex) == (
        "张桂兰",
        "13700001111",
        dt.date(1945, 3, 3),
        "female",
    )
    assert body["phone"] == "137****1111"
    assert "13700001111" not in response.content.decode()
    assert identity("19450303", "142") not in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"identity_number": identity("19450303", "142")[:-1] + "0"}, "identity_number"),
        ({"identity_number": identity("19451303", "142")}, "identity_number"),
        ({"phone": "12812345678"}, "phone"),
        ({"phone": "1381234567"}, "phone"),
        ({"identity_number": identity("20200101", "142"), "health_notes": "哮喘"}, "health_notes"),
        ({"disability_category": "visual"}, "disability_grade"),
        ({"community": "990102999999"}, "community"),
        ({"community": "990102002001"}, "community"),
        ({"household": 999999}, "household"),
        ({"birth_date": "not a date"}, "birth_date"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_registrations_are_refused_with_the_field_and_nothing_is_stored(world, fields, field):
    before = Resident.objects.count()
    response = as_user(world.worker).post(
        API + "residents/", registration(world, **fields), format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert Resident.objects.count() == before


def test_a_duplicate_identity_number_points_to_the_existing_record(world):
    response = as_user(world.worker).post(
        API + "residents/", registration(world, identity_number=ELDER_NUMBER), format="json"
    )
    assert response.status_code == 400
    assert f"no. {world.elder.pk}" in response.json()["fields"]["identity_number"][0]


@pytest.mark.parametrize(
    "role_user", ["street_official", "district_official", "volunteer", "auditor"]
)
def test_only_community_workers_register(world, role_user):
    before = Resident.objects.count()
    response = as_user(getattr(world, role_user)).post(
        API + "residents/", registration(world), format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Resident.objects.count() == before


def test_an_update_changes_only_the_given_fields(world):
    client = as_user(world.worker)
    response = client.patch(
        API + f"residents/{world.elder.pk}/", {"phone": "13600002222"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "136****2222"
    world.elder.refresh_from_db()
    assert (world.elder.phone, world.elder.health_notes, world.elder.identity_number) == (
        "13600002222",
        "高血压",
        ELDER_NUMBER,
    )


def test_a_new_identity_number_brings_its_birth_date(world):
    number = identity("19410202", "133")
    response = as_user(world.worker).patch(
        API + f"residents/{world.elder.pk}/", {"identity_number": number}, format="json"
    )
    assert response.status_code == 200, response.content
    world.elder.refresh_from_db()
    assert (world.elder.birth_date, world.elder.sex) == (dt.date(1941, 2, 2), "male")


def test_a_bad_update_is_refused_and_nothing_changes(world):
    response = as_user(world.worker).patch(
        API + f"residents/{world.elder.pk}/", {"phone": "12345"}, format="json"
    )
    assert response.status_code == 400
    assert "phone" in response.json()["fields"]
    world.elder.refresh_from_db()
    assert world.elder.phone == PHONE


@pytest.mark.parametrize(
    ("role_user", "status"),
    [("street_official", 403), ("child_user", 403), ("other_worker", 404), ("volunteer", 404)],
)
def test_only_the_keeper_updates(world, role_user, status):
    response = as_user(getattr(world, role_user)).patch(
        API + f"residents/{world.elder.pk}/", {"phone": "13600002222"}, format="json"
    )
    assert response.status_code == status
    world.elder.refresh_from_db()
    assert world.elder.phone == PHONE


# The card


def test_the_card_shows_household_consents_and_relations_masked(world):
    response = as_user(world.worker).get(API + f"residents/{world.elder.pk}/")
    assert response.status_code == 200
    assert_no_clear_values(response)
    card = response.json()
    assert card["community_name"] == world.here.name_en
    assert card["household_address"] == "1号"
    assert card["consents"] == [
        {
            "id": world.proxy_consent.pk,
            "purpose": "proxy",
            "scope": "代为申请服务",
            "given_on": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
            "withdrawn_on": None,
            "given_by": None,
        }
    ]
    relation = Relation.objects.get(resident=world.elder)
    assert card["relations"] == [
        {
            "id": relation.pk,
            "kind": "proxy",
            "person": world.child.pk,
            "person_name": "李强",
            "consent": world.proxy_consent.pk,
        }
    ]


@pytest.mark.parametrize(
    ("role_user", "status"),
    [
        ("worker", 200),
        ("street_official", 200),
        ("district_official", 200),
        ("child_user", 200),
        ("other_worker", 404),
        ("volunteer", 404),
        ("social_worker", 404),
        ("auditor", 404),
    ],
)
def test_who_sees_the_card(world, role_user, status):
    response = as_user(getattr(world, role_user)).get(API + f"residents/{world.elder.pk}/")
    assert response.status_code == status
    if status == 404:
        # The same answer as for a record that does not exist.
        missing = as_user(getattr(world, role_user)).get(API + "residents/999999/")
        assert missing.status_code == 404
        assert response.json()["code"] == missing.json()["code"] == "not_found"


# Unmasking


def test_unmasking_shows_the_values_and_logs_exactly_one_event(world):
    response = as_user(world.worker).post(
        API + f"residents/{world.elder.pk}/unmask",
        {"fields": ["phone", "identity_number"], "purpose": "上门送餐联系"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"phone": PHONE, "identity_number": ELDER_NUMBER}
    assert response["Cache-Control"] == "no-store"
    event = AccessEvent.objects.get()
    assert (event.actor, event.action, event.resident_ref, event.fields, event.purpose) == (
        world.worker,
        "unmask",
        world.elder.pk,
        ["identity_number", "phone"],
        "上门送餐联系",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": ["phone"], "purpose": ""}, "purpose"),
        ({"fields": ["phone"]}, "purpose"),
        ({"fields": ["name"], "purpose": "上门送餐联系"}, "fields"),
        ({"fields": [], "purpose": "上门送餐联系"}, "fields"),
    ],
)
def test_unmasking_needs_known_fields_and_a_purpose(world, body, field):
    response = as_user(world.worker).post(
        API + f"residents/{world.elder.pk}/unmask", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize(
    ("role_user", "status"),
    [
        ("street_official", 403),
        ("district_official", 403),
        ("child_user", 403),
        ("other_worker", 404),
        ("volunteer", 404),
    ],
)
def test_only_the_keeper_unmasks(world, role_user, status):
    response = as_user(getattr(world, role_user)).post(
        API + f"residents/{world.elder.pk}/unmask",
        {"fields": ["phone"], "purpose": "想看看电话"},
        format="json",
    )
    assert response.status_code == status
    assert PHONE not in response.content.decode()
    assert not AccessEvent.objects.exists()


# Consents and relations


def test_a_worker_records_a_consent_and_the_resident_withdraws_it(world):
    response = as_user(world.worker).post(
        API + f"residents/{world.child.pk}/consents",
        {"purpose": "services", "scope": "助餐"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["purpose"], body["scope"], body["withdrawn_on"]) == ("services", "助餐", None)
    assert body["given_on"] == timezone.localdate().isoformat()
    # A street official sees the consent but may not withdraw it; the resident may.
    refused = as_user(world.street_official).post(API + f"consents/{body['id']}/withdraw")
    assert refused.status_code == 403
    withdrawn = as_user(world.child_user).post(API + f"consents/{body['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["withdrawn_on"] == timezone.localdate().isoformat()
    again = as_user(world.child_user).post(API + f"consents/{body['id']}/withdraw")
    assert again.status_code == 400
    assert "withdrawn_on" in again.json()["fields"]


def test_withdrawing_a_consent_is_not_for_strangers(world):
    for user in (world.volunteer, world.other_worker):
        response = as_user(user).post(API + f"consents/{world.proxy_consent.pk}/withdraw")
        assert response.status_code == 404
    assert Consent.objects.get(pk=world.proxy_consent.pk).in_force


def test_a_guardians_consent_needs_the_guardian(world):
    kid = world.register(name="小明", identity_number=identity("20200101", "159"))
    response = as_user(world.worker).post(
        API + f"residents/{kid.pk}/consents", {"purpose": "guardian"}, format="json"
    )
    assert response.status_code == 400
    assert "given_by" in response.json()["fields"]
    response = as_user(world.worker).post(
        API + f"residents/{kid.pk}/consents",
        {"purpose": "guardian", "given_by": world.child.pk},
        format="json",
    )
    assert response.status_code == 201
    # With the guardian's consent, the child's health needs may be recorded.
    updated = as_user(world.worker).patch(
        API + f"residents/{kid.pk}/", {"health_notes": "哮喘"}, format="json"
    )
    assert updated.status_code == 200, updated.content


def test_a_minor_under_14_gets_nothing_beyond_registration_without_a_guardian(world):
    kid = world.register(name="小明", identity_number=identity("20200101", "159"))
    response = as_user(world.worker).patch(
        API + f"residents/{kid.pk}/", {"health_notes": "哮喘"}, format="json"
    )
    assert response.status_code == 400
    assert "guardian" in response.json()["fields"]["health_notes"][0]
    kid.refresh_from_db()
    assert kid.health_notes == ""


def test_a_proxy_needs_the_residents_consent(world):
    neighbour = world.register(name="陈芳", identity_number=identity("19800808", "168"))
    client = as_user(world.worker)
    refused = client.post(
        API + f"residents/{neighbour.pk}/relations",
        {"person": world.child.pk, "kind": "proxy"},
        format="json",
    )
    assert refused.status_code == 400
    assert "consent" in refused.json()["fields"]
    # Someone else's consent does not count either.
    borrowed = client.post(
        API + f"residents/{neighbour.pk}/relations",
        {"person": world.child.pk, "kind": "proxy", "consent": world.proxy_consent.pk},
        format="json",
    )
    assert borrowed.status_code == 400
    assert "consent" in borrowed.json()["fields"]
    assert not Relation.objects.filter(resident=neighbour).exists()
    consent = consent_record(
        actor=world.worker, resident=neighbour, purpose="proxy", given_on=timezone.localdate()
    )
    added = client.post(
        API + f"residents/{neighbour.pk}/relations",
        {"person": world.child.pk, "kind": "proxy", "consent": consent.pk},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert added.json()["person_name"] == "李强"
    assert neighbour in Resident.objects.filter(relations__person=world.child)


def test_relations_are_for_keepers_and_people_they_see(world):
    body = {"person": world.child.pk, "kind": "emergency_contact"}
    official = as_user(world.street_official).post(
        API + f"residents/{world.elder.pk}/relations", body, format="json"
    )
    assert official.status_code == 403
    unseen = as_user(world.worker).post(
        API + f"residents/{world.elder.pk}/relations",
        {"person": world.stranger.pk, "kind": "emergency_contact"},
        format="json",
    )
    assert unseen.status_code == 400
    assert "person" in unseen.json()["fields"]


# Households


def test_households(world):
    created = as_user(world.worker).post(
        API + "households/", {"community": world.here.code, "address": "2号"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["members"] == []
    detail = as_user(world.street_official).get(API + f"households/{world.household.pk}/")
    assert detail.status_code == 200
    assert {m["id"] for m in detail.json()["members"]} == {world.elder.pk, world.child.pk}
    assert_no_clear_values(detail)
    assert (
        as_user(world.child_user).get(API + f"households/{world.household.pk}/").status_code == 200
    )
    for user in (world.other_worker, world.volunteer):
        assert as_user(user).get(API + f"households/{world.household.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("user", "body", "status", "field"),
    [
        ("worker", {"community": "990102002001", "address": "3号"}, 400, "community"),
        ("worker", {"community": "990102001001", "address": " "}, 400, "address"),
        ("worker", {"community": "990102001000", "address": "3号"}, 400, "community"),
        ("street_official", {"community": "990102001001", "address": "3号"}, 403, None),
    ],
)
def test_bad_households_are_refused(world, user, body, status, field):
    before = Household.objects.count()
    response = as_user(getattr(world, user)).post(API + "households/", body, format="json")
    assert response.status_code == status
    if field:
        assert field in response.json()["fields"]
    assert Household.objects.count() == before


# Counts


def test_officials_see_counts_per_community_with_names(world):
    response = as_user(world.district_official).get(API + "residents/counts")
    assert response.status_code == 200
    rows = {row["community"]: row for row in response.json()}
    assert set(rows) == {world.here.code, world.there.code}
    here = rows[world.here.code]
    assert here["name"] == world.here.name_en
    assert (here["residents"], here["elderly"], here["elderly_living_alone"]) == (2, 1, 1)
    assert (here["disabled"], here["minor"], here["family_in_difficulty"]) == (1, 0, 0)
    narrowed = as_user(world.district_official).get(
        API + "residents/counts", {"region": world.street.code}
    )
    assert [row["community"] for row in narrowed.json()] == [world.here.code]


@pytest.mark.parametrize("region", ["990102002000", "990102000000", "12345", "990102999000"])
def test_counts_of_a_region_outside_the_area_are_refused(world, region):
    response = as_user(world.street_official).get(API + "residents/counts", {"region": region})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["region"]


@pytest.mark.parametrize("role_user", ["volunteer", "auditor", "child_user", "social_worker"])
def test_counts_are_for_keepers_and_officials(world, role_user):
    assert as_user(getattr(world, role_user)).get(API + "residents/counts").status_code == 403


# The resident's own record


def test_a_resident_lists_what_they_act_for_and_downloads_it(world):
    mine = as_user(world.child_user).get(API + "me/residents")
    assert mine.status_code == 200
    assert [row["id"] for row in mine.json()] == [world.child.pk, world.elder.pk]
    assert_no_clear_values(mine)
    response = as_user(world.child_user).get(API + f"me/residents/{world.elder.pk}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="resident-{world.elder.pk}.json"'
    )
    record = json.loads(response.content)
    assert (record["identity_number"], record["phone"], record["health_notes"]) == (
        ELDER_NUMBER,
        PHONE,
        "高血压",
    )
    event = AccessEvent.objects.get()
    assert (event.actor, event.action, event.resident_ref) == (
        world.child_user,
        "download",
        world.elder.pk,
    )


@pytest.mark.parametrize("role_user", ["worker", "street_official", "volunteer"])
def test_only_the_resident_and_their_proxy_download(world, role_user):
    response = as_user(getattr(world, role_user)).get(
        API + f"me/residents/{world.elder.pk}/download"
    )
    assert response.status_code == 404
    assert not AccessEvent.objects.exists()
    assert as_user(getattr(world, role_user)).get(API + "me/residents").json() == []


def test_a_withdrawn_proxy_consent_ends_the_proxys_access(world):
    as_user(world.worker).post(API + f"consents/{world.proxy_consent.pk}/withdraw")
    client = as_user(world.child_user)
    assert client.get(API + f"me/residents/{world.elder.pk}/download").status_code == 404
    assert client.get(API + f"residents/{world.elder.pk}/").status_code == 404


# Corrections


def test_a_correction_goes_from_the_resident_to_the_worker_and_back(world):
    asked = as_user(world.child_user).post(
        API + f"residents/{world.elder.pk}/corrections",
        {"message": "电话号码已更换"},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    number = asked.json()["id"]
    listed = as_user(world.worker).get(API + "corrections/", {"status": "open"})
    assert ids(listed) == [number]
    assert ids(as_user(world.other_worker).get(API + "corrections/")) == []
    # The resident cannot answer their own request.
    refused = as_user(world.child_user).post(
        API + f"corrections/{number}/answer", {"status": "done"}, format="json"
    )
    assert refused.status_code == 403
    answered = as_user(world.worker).post(
        API + f"corrections/{number}/answer", {"status": "done", "answer": "已更新"}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "done"
    assert ids(as_user(world.child_user).get(API + "corrections/", {"status": "done"})) == [number]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"status": "declined", "answer": ""}, "answer"), ({"status": "open"}, "status")],
)
def test_bad_answers_are_refused(world, body, field):
    correction = correction_ask(actor=world.child_user, resident=world.elder, message="地址有误")
    response = as_user(world.worker).post(
        API + f"corrections/{correction.pk}/answer", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]
    correction.refresh_from_db()
    assert correction.status == Correction.Status.OPEN


def test_only_the_resident_or_proxy_asks_for_a_correction(world):
    response = as_user(world.worker).post(
        API + f"residents/{world.elder.pk}/corrections", {"message": "地址有误"}, format="json"
    )
    assert response.status_code == 403
    short = as_user(world.child_user).post(
        API + f"residents/{world.elder.pk}/corrections", {"message": "错"}, format="json"
    )
    assert short.status_code == 400
    assert "message" in short.json()["fields"]
    bad_status = as_user(world.worker).get(API + "corrections/", {"status": "lost"})
    assert bad_status.status_code == 400
    assert not Correction.objects.exists()


# Access events


@pytest.fixture
def events(world):
    resident_unmask(actor=world.worker, resident=world.elder, fields=["phone"], purpose="送餐联系")
    resident_unmask(
        actor=world.worker, resident=world.child, fields=["identity_number"], purpose="=HYPERLINK()"
    )
    as_user(world.child_user).get(API + f"me/residents/{world.elder.pk}/download")
    return list(AccessEvent.objects.order_by("id"))


def test_the_auditor_browses_access_events(world, events):
    client = as_user(world.auditor)
    everything = client.get(API + "access-events/")
    assert ids(everything) == [e.pk for e in reversed(events)]
    first = everything.json()["results"][-1]
    assert (first["actor"], first["action"], first["resident"], first["fields"]) == (
        "worker",
        "unmask",
        world.elder.pk,
        ["phone"],
    )
    assert ids(client.get(API + "access-events/", {"actor": "child"})) == [events[2].pk]
    assert ids(client.get(API + "access-events/", {"resident": world.child.pk})) == [events[1].pk]
    assert ids(client.get(API + "access-events/", {"action": "download"})) == [events[2].pk]
    today = timezone.localdate()
    day = {"since": today.isoformat(), "until": today.isoformat()}
    assert len(ids(client.get(API + "access-events/", day))) == 3
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert ids(client.get(API + "access-events/", {"until": yesterday})) == []
    assert len(ids(client.get(API + "access-events/", {"community": "990102001"}))) == 3
    assert ids(client.get(API + "access-events/", {"community": "990102002"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "peek"}, "action"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-30", "until": "2026-11-01"}, "until"),
        ({"resident": "x"}, "resident"),
        ({"community": "abc"}, "community"),
    ],
)
def test_bad_access_event_filters_are_refused(world, params, field):
    response = as_user(world.auditor).get(API + "access-events/", params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_the_auditor_exports_access_events_as_csv_for_excel(world, events):
    response = as_user(world.auditor).get(
        API + "access-events/export", {"action": "unmask"}, HTTP_ACCEPT="text/csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="access-events-')
    raw = streamed(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "Time",
        "Who",
        "Action",
        "Record number",
        "Community code",
        "Community",
        "Fields",
        "Purpose",
    ]
    here = world.here.display_name
    assert [row[1:8] for row in rows[1:]] == [
        [
            "worker",
            "Unmasked",
            str(world.child.pk),
            world.here.code,
            here,
            "Identity number",
            "'=HYPERLINK()",
        ],
        ["worker", "Unmasked", str(world.elder.pk), world.here.code, here, "Phone", "送餐联系"],
    ]


def test_the_export_headers_follow_the_language(world, events):
    client = as_user(world.auditor)
    response = client.get(API + "access-events/export", HTTP_ACCEPT_LANGUAGE="zh-hans")
    header = streamed(response).decode("utf-8-sig").splitlines()[0]
    assert "Username" not in header


@pytest.mark.parametrize(
    "role_user", ["worker", "street_official", "district_official", "volunteer", "child_user"]
)
def test_access_events_are_for_auditors_only(world, events, role_user):
    client = as_user(getattr(world, role_user))
    assert client.get(API + "access-events/").status_code == 403
    export = client.get(API + "access-events/export", HTTP_ACCEPT="text/csv")
    assert export.status_code == 403
    assert export.json()["code"] == "permission_denied"


def test_the_demo_resident_sees_their_family(demo):
    user = User.objects.get(username="demo_resident")
    rows = as_user(user).get(API + "me/residents").json()
    assert len(rows) == 2
    assert rows[0]["id"] == user.resident.pk
    relative = Resident.objects.get(pk=rows[1]["id"])
    assert relative.living_alone
    card = as_user(user).get(API + f"residents/{relative.pk}/")
    assert card.status_code == 200
    assert [r["kind"] for r in card.json()["relations"]] == ["proxy", "emergency_contact"]
