"""Every resident endpoint against every role, inside and outside its scope.

One world: a community A (in a street, a district, a city) with an elder living
alone whose adult child (the `resident` account) is their proxy, a neighbour
nobody acts for, and a stranger in another province. Someone holds each of the
ten roles where the demo holds it. For each endpoint, the test tries every role
on every one of the three people and compares the whole table of outcomes with
the table the issue asks for: who may see, write, unmask, download, ask or audit.

Every response, allowed or not, is also checked for clear identity numbers and
phone numbers: only an allowed unmasking or a resident's own download shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.services import role_grant
from linli.accounts.tests.factories import UserFactory
from linli.core.pii import identity_check_character
from linli.directory.tests.factories import OrganizationFactory
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.residents.models import AccessEvent, Consent, Correction, Relation, Resident
from linli.residents.services import (
    ResidentInput,
    consent_record,
    household_create,
    relation_add,
    resident_register,
    resident_unmask,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TARGETS = ("elder", "neighbour", "stranger")
OFFICIALS = (Role.STREET_OFFICIAL, Role.DISTRICT_OFFICIAL, Role.CITY_OFFICIAL)


def identity(place: str, born: str, serial: str) -> str:
    first17 = place + born + serial
    return first17 + identity_check_character(first17)


class World:
    def __init__(self) -> None:
        self.community = region_chain("990102001001")
        self.elsewhere = region_chain("980101001001")
        street = Region.objects.get(code="990102001000")
        district = Region.objects.get(code="990102000000")
        city = Region.objects.get(code="990100000000")
        organization = OrganizationFactory.create(region=self.community)
        held: dict[str, tuple[Region | None, Any]] = {
            Role.RESIDENT: (self.community, None),
            Role.VOLUNTEER: (self.community, None),
            Role.SOCIAL_WORKER: (street, None),
            Role.PROVIDER_STAFF: (None, organization),
            Role.COMMUNITY_WORKER: (self.community, None),
            Role.STREET_OFFICIAL: (street, None),
            Role.DISTRICT_OFFICIAL: (district, None),
            Role.CITY_OFFICIAL: (city, None),
            Role.AUDITOR: (district, None),
            Role.SYSTEM_ADMIN: (None, None),
        }
        self.users: dict[str, User] = {}
        for role, (region, org) in held.items():
            user = UserFactory.create(username=f"matrix_{role}")
            role_grant(user=user, role=role, region=region, organization=org)
            self.users[role] = user
        self.people = {
            "elder": self.person(
                "甲老人", self.community, identity("990102", "19400101", "124"), "13900000001"
            ),
            "neighbour": self.person(
                "乙邻居", self.community, identity("990102", "19700101", "131"), "13900000002"
            ),
            "stranger": self.person(
                "丙外人", self.elsewhere, identity("980101", "19650101", "111"), "13900000003"
            ),
        }
        child = self.person(
            "甲之子", self.community, identity("990102", "19700202", "151"), "13900000004"
        )
        child.user = self.users[Role.RESIDENT]
        child.save()
        consent = consent_record(
            actor=None,
            resident=self.people["elder"],
            purpose="proxy",
            given_on=dt.date(2026, 1, 1),
        )
        relation_add(
            actor=None, resident=self.people["elder"], person=child, kind="proxy", consent=consent
        )
        # One unmasking and one correction request on each record, for auditors and keepers.
        admin = self.users[Role.SYSTEM_ADMIN]
        for person in self.people.values():
            resident_unmask(actor=admin, resident=person, fields=["phone"], purpose="核对电话")
            fresh_correction(self, person)

    def person(self, name: str, community: Region, number: str, phone: str) -> Resident:
        household = household_create(actor=None, community=community, address=f"{name}家")
        return resident_register(
            actor=None,
            data=ResidentInput(
                name=name,
                community=community,
                household=household,
                identity_number=number,
                phone=phone,
                living_alone=name == "甲老人",
            ),
        )

    def secrets(self) -> list[str]:
        return [p.identity_number for p in self.people.values()] + [
            p.phone for p in self.people.values()
        ]


@pytest.fixture
def world(db) -> World:
    return World()


def role_level(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """For pages about an area rather than a person: every target, for the roles in `pairs`."""
    return {(role, target) for role, _target in pairs for target in TARGETS}


# Who may do what, as (role, target) pairs.
KEEP: set[tuple[str, str]] = {
    (Role.COMMUNITY_WORKER, "elder"),
    (Role.COMMUNITY_WORKER, "neighbour"),
} | {(Role.SYSTEM_ADMIN, target) for target in TARGETS}
OFFICIAL_VIEW: set[tuple[str, str]] = {
    (role, target) for role in OFFICIALS for target in ("elder", "neighbour")
}
ACT: set[tuple[str, str]] = {(Role.RESIDENT, "elder")}
SEE: set[tuple[str, str]] = KEEP | OFFICIAL_VIEW | ACT
COUNT: set[tuple[str, str]] = KEEP | OFFICIAL_VIEW
AUDIT: set[tuple[str, str]] = {
    (Role.AUDITOR, "elder"),
    (Role.AUDITOR, "neighbour"),
    (Role.SYSTEM_ADMIN, "elder"),
} | {(Role.SYSTEM_ADMIN, target) for target in TARGETS}


@dataclass(frozen=True)
class Endpoint:
    """One way in: how to call it on a person, and whether the answer let the caller in."""

    name: str
    call: Callable[[World, Any, Resident], HttpResponse]
    allowed: set[tuple[str, str]]
    # "status": 2xx is in, 403/404 is out. "listed": in when the person is in the answer.
    judge: str = "status"
    # A field whose 400 is a refusal too ("this community is outside your area").
    refused_field: str = ""
    shows_secrets: bool = False
    page: bool = False


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode(errors="replace")


def listed(body: str, person: Resident) -> bool:
    return person.name in body


def refs_listed(response: Any, body: str, person: Resident) -> bool:
    """Whether the access events (JSON page or CSV export) include one on `person`."""
    if response["Content-Type"].startswith("application/json"):
        rows = json.loads(body).get("results", [])
        return any(row.get("resident") == person.pk for row in rows)
    if response["Content-Type"].startswith("text/html"):
        return f">{person.pk}</td>" in body
    rows = list(csv.reader(io.StringIO(body)))[1:]
    return any(row[3] == str(person.pk) for row in rows)


def fresh_consent(world: World, person: Resident) -> Consent:
    return consent_record(actor=None, resident=person, purpose="services", given_on=dt.date.today())


def fresh_correction(world: World, person: Resident) -> Correction:
    return Correction.objects.create(
        resident=person, community_code=person.community_id, message="门牌号写错了"
    )


def other_person(world: World, person: Resident) -> Resident:
    return world.people["neighbour" if person.name != "乙邻居" else "elder"]


API_ENDPOINTS = [
    Endpoint("list", lambda w, c, p: c.get(API + "residents/?page_size=100"), SEE, "listed"),
    Endpoint("detail", lambda w, c, p: c.get(f"{API}residents/{p.pk}/"), SEE),
    Endpoint(
        "update",
        lambda w, c, p: c.patch(f"{API}residents/{p.pk}/", {"address": "新地址1号"}, format="json"),
        KEEP,
    ),
    Endpoint(
        "unmask",
        lambda w, c, p: c.post(
            f"{API}residents/{p.pk}/unmask",
            {"fields": ["phone", "identity_number"], "purpose": "上门服务核对"},
            format="json",
        ),
        KEEP,
        shows_secrets=True,
    ),
    Endpoint(
        "register",
        lambda w, c, p: c.post(
            API + "residents/", {"name": "新居民", "community": p.community_id}, format="json"
        ),
        KEEP,
        refused_field="community",
    ),
    Endpoint(
        "consent record",
        lambda w, c, p: c.post(
            f"{API}residents/{p.pk}/consents",
            {"purpose": "services", "given_on": "2026-11-01"},
            format="json",
        ),
        KEEP,
    ),
    Endpoint(
        "consent withdraw",
        lambda w, c, p: c.post(f"{API}consents/{fresh_consent(w, p).pk}/withdraw"),
        KEEP | ACT,
    ),
    Endpoint(
        "relation add",
        lambda w, c, p: c.post(
            f"{API}residents/{p.pk}/relations",
            {"kind": "emergency_contact", "person": other_person(w, p).pk},
            format="json",
        ),
        KEEP,
    ),
    Endpoint(
        "household create",
        lambda w, c, p: c.post(
            API + "households/", {"community": p.community_id, "address": "新户1号"}, format="json"
        ),
        KEEP,
        refused_field="community",
    ),
    Endpoint("household", lambda w, c, p: c.get(f"{API}households/{p.household_id}/"), SEE),
    Endpoint("counts", lambda w, c, p: c.get(API + "residents/counts"), COUNT, "counted"),
    Endpoint("my records", lambda w, c, p: c.get(API + "me/residents"), ACT, "listed"),
    Endpoint(
        "download",
        lambda w, c, p: c.get(f"{API}me/residents/{p.pk}/download"),
        ACT,
        shows_secrets=True,
    ),
    Endpoint(
        "correction ask",
        lambda w, c, p: c.post(
            f"{API}residents/{p.pk}/corrections", {"message": "电话号码已更换"}, format="json"
        ),
        ACT,
    ),
    Endpoint(
        "correction answer",
        lambda w, c, p: c.post(
            f"{API}corrections/{fresh_correction(w, p).pk}/answer",
            {"status": "done", "answer": "已更正"},
            format="json",
        ),
        KEEP,
    ),
    Endpoint(
        "corrections",
        lambda w, c, p: c.get(API + "corrections/?page_size=100"),
        KEEP,
        "corrections",
    ),
    Endpoint(
        "access events",
        lambda w, c, p: c.get(f"{API}access-events/?resident={p.pk}"),
        AUDIT,
        "refs",
    ),
    Endpoint(
        "access events export",
        lambda w, c, p: c.get(f"{API}access-events/export?resident={p.pk}"),
        AUDIT,
        "refs",
    ),
]


def let_in(endpoint: Endpoint, response: Any, body: str, person: Resident) -> bool:
    status = response.status_code
    if status in (401, 403, 404):
        return False
    if endpoint.page and status == 302:
        # Pages answer a good POST with a redirect; a GET redirected (a resident sent from
        # the register to their own record) was not let in.
        return response.wsgi_request.method == "POST" and "/login/" not in response["Location"]
    if status == 400 and endpoint.refused_field:
        assert "outside your area" in json.loads(body)["fields"][endpoint.refused_field][0]
        return False
    assert status < 300, f"{endpoint.name}: {status} {body[:300]}"
    if endpoint.judge == "listed":
        return listed(body, person)
    if endpoint.judge == "counted":
        return person.community_id in body
    if endpoint.judge == "refs":
        return refs_listed(response, body, person)
    if endpoint.judge == "corrections":
        rows = json.loads(body).get("results", [])
        return any(row.get("resident") == person.pk for row in rows)
    return True


ROLE_KEEP: set[tuple[str, str]] = {
    (role, target) for role in RESIDENT_KEEPER_ROLES for target in TARGETS
}
R = "/residents/"

PAGES = [
    Endpoint("list page", lambda w, c, p: c.get(R), KEEP | OFFICIAL_VIEW, "listed", page=True),
    Endpoint("card page", lambda w, c, p: c.get(f"{R}{p.pk}/"), SEE, page=True),
    Endpoint(
        "unmask page",
        lambda w, c, p: c.post(
            f"{R}{p.pk}/unmask/", {"show": ["phone", "identity_number"], "purpose": "上门核对"}
        ),
        KEEP,
        shows_secrets=True,
        page=True,
    ),
    Endpoint("edit page", lambda w, c, p: c.get(f"{R}{p.pk}/edit/"), KEEP, page=True),
    Endpoint("register page", lambda w, c, p: c.get(f"{R}new/"), ROLE_KEEP, page=True),
    Endpoint(
        "household page", lambda w, c, p: c.get(f"{R}households/{p.household_id}/"), SEE, page=True
    ),
    Endpoint("counts page", lambda w, c, p: c.get(f"{R}counts/"), role_level(COUNT), page=True),
    Endpoint(
        "corrections page", lambda w, c, p: c.get(f"{R}corrections/"), KEEP, "listed", page=True
    ),
    Endpoint(
        "correction answer page",
        lambda w, c, p: c.post(
            f"{R}corrections/{fresh_correction(w, p).pk}/answer/",
            {"status": "done", "answer": "已更正"},
        ),
        KEEP,
        page=True,
    ),
    Endpoint(
        "consent withdraw page",
        lambda w, c, p: c.post(f"{R}consents/{fresh_consent(w, p).pk}/withdraw/"),
        KEEP | ACT,
        page=True,
    ),
    Endpoint("my record page", lambda w, c, p: c.get("/me/record/"), ACT, "listed", page=True),
    Endpoint(
        "download page",
        lambda w, c, p: c.post(f"/me/record/{p.pk}/download/"),
        ACT,
        shows_secrets=True,
        page=True,
    ),
    Endpoint(
        "correction ask page",
        lambda w, c, p: c.post(f"/me/record/{p.pk}/correction/", {"message": "电话号码已更换"}),
        ACT,
        page=True,
    ),
    Endpoint(
        "access events page",
        lambda w, c, p: c.get(f"/audit/access-events/?record={p.pk}"),
        AUDIT,
        "refs",
        page=True,
    ),
    Endpoint(
        "access events export page",
        lambda w, c, p: c.get(f"/audit/access-events/export.csv?record={p.pk}"),
        AUDIT,
        "refs",
        page=True,
    ),
]


def run_matrix(world: World, endpoint: Endpoint, client_for: Callable[[User], Any]) -> None:
    outcomes: set[tuple[str, str]] = set()
    for role, user in world.users.items():
        client = client_for(user)
        for target in TARGETS:
            person = Resident.objects.get(pk=world.people[target].pk)
            events_before = AccessEvent.objects.count()
            response = client(world, person)
            body = body_of(response)
            if let_in(endpoint, response, body, person):
                outcomes.add((role, target))
            if not (endpoint.shows_secrets and (role, target) in endpoint.allowed):
                for secret in world.secrets():
                    assert secret not in body, f"{endpoint.name} as {role} shows {secret}"
                if endpoint.name not in ("download",):
                    # Nothing but an allowed unmasking or download writes an event.
                    assert AccessEvent.objects.count() == events_before, (endpoint.name, role)
            Relation.objects.filter(kind="emergency_contact").delete()
    assert (sorted(endpoint.allowed - outcomes), sorted(outcomes - endpoint.allowed)) == (
        [],
        [],
    ), f"{endpoint.name}: (wrongly refused, wrongly let in)"


@pytest.mark.parametrize("endpoint", API_ENDPOINTS, ids=lambda e: e.name)
def test_api_endpoint_against_every_role(world, endpoint):
    def client_for(user: User) -> Callable[[World, Resident], HttpResponse]:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(user)
        return lambda w, person: endpoint.call(w, client, person)

    run_matrix(world, endpoint, client_for)


@pytest.mark.parametrize("endpoint", PAGES, ids=lambda e: e.name)
def test_page_against_every_role(world, endpoint):
    def client_for(user: User) -> Callable[[World, Resident], HttpResponse]:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return lambda w, person: endpoint.call(w, client, person)

    run_matrix(world, endpoint, client_for)


def test_anonymous_visitors_are_sent_to_log_in(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for endpoint in PAGES:
        response = endpoint.call(world, client, world.people["elder"])
        assert response.status_code == 302, endpoint.name
        assert "/login/" in response["Location"], endpoint.name


def test_every_page_of_the_residents_app_is_in_the_matrix():
    from linli.residents import urls

    tried = {
        "list",
        "counts",
        "new",
        "card",
        "unmask",
        "edit",
        "household",
        "corrections",
        "correction_answer",
        "consent_withdraw",
        "my_record",
        "my_record_download",
        "my_record_correction",
        "access_events",
        "access_events_export",
    }
    assert {pattern.name for pattern in urls.urlpatterns} == tried


def test_anonymous_callers_get_nothing(world):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for endpoint in API_ENDPOINTS:
        response = endpoint.call(world, client, world.people["elder"])
        assert response.status_code in (401, 403), endpoint.name


def test_every_api_route_of_the_residents_app_is_in_the_matrix():
    from linli.residents.api import urls

    tried = {
        "resident-list",
        "resident-counts",
        "resident-detail",
        "resident-unmask",
        "resident-consent-record",
        "resident-relation-add",
        "resident-correction-ask",
        "consent-withdraw",
        "household-create",
        "household-detail",
        "my-residents",
        "my-resident-download",
        "correction-list",
        "correction-answer",
        "access-event-list",
        "access-event-export",
    }
    assert {pattern.name for pattern in urls.urlpatterns} == tried
