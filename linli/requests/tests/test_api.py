"""The requests API: who may ask, what each role sees, moves through the map with their
status codes, idempotent retries, responders' own profiles, tasks and counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.pii import identity_check_character
from linli.regions.tests.factories import region_chain
from linli.requests import services
from linli.requests.choices import Action, Channel, State
from linli.requests.models import Assignment, IdempotencyKey, Responder, ServiceRequest
from linli.requests.services import RequestInput, request_assign, request_create
from linli.residents.models import AccessEvent
from linli.residents.services import (
    ResidentInput,
    consent_record,
    relation_add,
    resident_register,
)

from .factories import responder_create

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/requests/"


def identity(born: str, serial: str = "124") -> str:
    first17 = "990102" + born + serial
    return first17 + identity_check_character(first17)


def as_user(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def granted(role: str, region: Any = None, **fields: Any) -> Any:
    user = UserFactory.create(**fields)
    RoleAssignmentFactory(user=user, role=role, region=region)
    return user


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def elsewhere(taxonomy):
    """A community of another street: none of the fixtures' roles reach it."""
    return region_chain("990102002001", lat=30.05, lon=120.05)


@pytest.fixture
def worker(community):
    return granted(Role.COMMUNITY_WORKER, community, first_name="小红", last_name="李")


@pytest.fixture
def official(community):
    return granted(Role.STREET_OFFICIAL, community.parent)


@pytest.fixture
def elder(community):
    """An 85-year-old living alone, with an account."""
    person = resident_register(
        actor=None,
        data=ResidentInput(
            name="王秀英",
            community=community,
            identity_number=identity("19410101"),
            phone="13812345678",
            address="幸福里3号",
            living_alone=True,
        ),
    )
    person.user = UserFactory.create()
    person.save()
    return person


@pytest.fixture
def proxy(elder, community):
    """The elder's daughter, their proxy with consent."""
    daughter = resident_register(
        actor=None, data=ResidentInput(name="王丽", community=community, address="幸福里5号")
    )
    daughter.user = UserFactory.create()
    daughter.save()
    consent = consent_record(
        actor=None, resident=elder, purpose="proxy", given_on=timezone.localdate()
    )
    relation_add(actor=None, resident=elder, person=daughter, kind="proxy", consent=consent)
    return daughter.user


@pytest.fixture
def volunteer(community):
    user = granted(Role.VOLUNTEER, community)
    return responder_create(community, "elderly_meals", name="张志愿", user=user)


def ask(elder: Any, **fields: Any) -> ServiceRequest:
    return request_create(
        actor=elder.user,
        data=RequestInput(service=fields.pop("service", "elderly_meals"), person=elder, **fields),
    )


# --- creating ------------------------------------------------------------------------


def test_a_resident_asks_for_themselves_without_naming_anyone(elder):
    response = as_user(elder.user).post(
        REQUESTS, {"service": "elderly_meals", "description": "午餐送到家"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["view"] == "served"
    assert body["state"] == State.TRIAGED
    assert body["address"] == "幸福里3号"
    assert body["person_name"] == "王秀英"
    assert "priority" not in body
    assert "priority_breakdown" not in body
    assert set(body["actions"]) == {Action.CANCEL}
    assert response.headers["Location"] == f"/api/v1/requests/{body['public_id']}/"
    created = ServiceRequest.objects.get(public_id=body["public_id"])
    assert (created.person, created.channel) == (elder, Channel.RESIDENT)


def test_a_proxy_asks_for_the_person_they_act_for(elder, proxy):
    response = as_user(proxy).post(
        REQUESTS, {"service": "elderly_cleaning", "person": elder.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    created = ServiceRequest.objects.get(public_id=response.json()["public_id"])
    assert (created.person, created.channel, created.requested_by) == (elder, Channel.PROXY, proxy)


def test_a_worker_takes_a_phone_call_with_contact_fields_and_sees_why_it_is_first(
    worker, community
):
    response = as_user(worker).post(
        REQUESTS,
        {
            "service": "elderly_emergency",
            "urgency": "urgent",
            "community": community.code,
            "address": "幸福里9号",
            "contact_name": "赵先生",
            "contact_phone": "13900001111",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["view"] == "keeper"
    assert body["channel"] == Channel.PHONE
    assert body["priority"] == 80
    assert body["priority_breakdown"] == {"urgency": 80, "waiting": 0}
    assert body["contact_phone"] == "139****1111"
    assert body["requested_by"] == "李小红"


def test_a_worker_asks_on_behalf_of_a_resident_of_their_community(worker, elder):
    response = as_user(worker).post(
        REQUESTS, {"service": "elderly_meals", "person": elder.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["person"] == elder.pk
    assert response.json()["priority_breakdown"]["elderly_living_alone"] == 25


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service": "teleportation"}, "service"),
        ({"urgency": "whenever"}, "urgency"),
        ({"window_end": "2020-01-01T10:00:00+08:00"}, "window_end"),
        ({"latitude": 40.0, "longitude": 116.0}, "latitude"),
        ({"latitude": 30.0}, "longitude"),
        ({"community": "990102999999"}, "community"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"window_start": "tomorrow"}, "window_start"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_stored(worker, fields, field):
    data = {"service": "elderly_meals", "contact_name": "赵先生", **fields}
    if "community" not in fields and "latitude" not in fields:
        data["community"] = "990102001001"
    response = as_user(worker).post(REQUESTS, data, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not ServiceRequest.objects.exists()


def test_a_request_number_already_taken_is_drawn_again(elder, monkeypatch):
    taken = ask(elder).public_id
    drawn = iter([taken, "R261130-ZZZZZ"])
    monkeypatch.setattr(services, "new_public_id", lambda _now: next(drawn))
    response = as_user(elder.user).post(REQUESTS, {"service": "elderly_meals"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["public_id"] == "R261130-ZZZZZ"
    assert ServiceRequest.objects.count() == 2


def test_nobody_asks_for_a_resident_they_cannot_see(elder, community):
    stranger = granted(Role.RESIDENT, community)
    response = as_user(stranger).post(
        REQUESTS, {"service": "elderly_meals", "person": elder.pk}, format="json"
    )
    assert response.status_code == 400
    assert "person" in response.json()["fields"]


def test_a_worker_must_say_who_or_where(worker):
    response = as_user(worker).post(REQUESTS, {"service": "elderly_meals"}, format="json")
    assert response.status_code == 400
    assert "address" in response.json()["fields"]


def test_anonymous_callers_are_turned_away():
    assert APIClient().post(REQUESTS, {"service": "elderly_meals"}).status_code == 401


# --- idempotency ---------------------------------------------------------------------


def test_the_same_key_and_body_return_the_same_request(elder):
    client = as_user(elder.user)
    first = client.post(
        REQUESTS,
        {"service": "elderly_meals", "description": "午餐", "urgency": "high"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="abc-1",
    )
    # The same body, written in another key order and spacing.
    again = client.generic(
        "POST",
        REQUESTS,
        '{ "urgency": "high",  "description": "午餐", "service": "elderly_meals" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="abc-1",
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert ServiceRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(elder):
    client = as_user(elder.user)
    client.post(REQUESTS, {"service": "elderly_meals"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = client.post(
        REQUESTS, {"service": "elderly_cleaning"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different request body" in response.json()["detail"]
    assert ServiceRequest.objects.count() == 1


def test_keys_belong_to_their_user_and_posts_without_a_key_each_create(elder, proxy):
    body = {"service": "elderly_meals", "person": elder.pk}
    as_user(elder.user).post(REQUESTS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    other = as_user(proxy).post(REQUESTS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 201
    as_user(elder.user).post(REQUESTS, body, format="json")
    as_user(elder.user).post(REQUESTS, body, format="json")
    assert ServiceRequest.objects.count() == 4


def test_a_refused_body_does_not_use_up_its_key(elder):
    client = as_user(elder.user)
    refused = client.post(
        REQUESTS, {"service": "teleportation"}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    fixed = client.post(
        REQUESTS, {"service": "elderly_meals"}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    assert fixed.status_code == 201


def test_a_replay_still_answers_after_the_window_has_passed(elder):
    client = as_user(elder.user)
    soon = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    body = {"service": "elderly_meals", "window_end": soon}
    first = client.post(REQUESTS, body, format="json", HTTP_IDEMPOTENCY_KEY="w")
    ServiceRequest.objects.update(window_end=timezone.now() - dt.timedelta(minutes=1))
    again = client.post(REQUESTS, body, format="json", HTTP_IDEMPOTENCY_KEY="w")
    assert again.status_code == 200
    assert again.json()["public_id"] == first.json()["public_id"]


def test_an_overlong_key_is_refused(elder):
    response = as_user(elder.user).post(
        REQUESTS, {"service": "elderly_meals"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


# --- reading -------------------------------------------------------------------------


def test_each_role_lists_what_it_may_see(elder, worker, official, elsewhere):
    mine = ask(elder)
    far = request_create(
        actor=None,
        data=RequestInput(service="elderly_meals", community=elsewhere, contact_name="路人"),
    )
    ids = {
        name: {row["public_id"] for row in as_user(user).get(REQUESTS).json()["results"]}
        for name, user in (("elder", elder.user), ("worker", worker), ("official", official))
    }
    assert ids == {
        "elder": {mine.public_id},
        "worker": {mine.public_id},
        "official": {mine.public_id},
    }
    assert far.public_id not in ids["worker"]
    rows = {
        name: as_user(user).get(REQUESTS).json()["results"][0]
        for name, user in (("worker", worker), ("official", official))
    }
    assert rows["worker"]["priority"] == mine.priority
    assert rows["official"]["priority"] is None
    assert "description" not in rows["worker"]
    assert "person_name" not in rows["worker"]


def test_the_list_filters(elder, worker, elsewhere):
    meals = ask(elder)
    cleaning = ask(elder, service="elderly_cleaning")
    other = request_create(
        actor=worker,
        data=RequestInput(
            service="childcare_temporary", community=elder.community, contact_name="赵"
        ),
    )
    client = as_user(worker)

    def listed(**params: Any) -> set[str]:
        response = client.get(REQUESTS, params)
        assert response.status_code == 200, response.json()
        return {row["public_id"] for row in response.json()["results"]}

    assert listed(service="elderly_meals") == {meals.public_id}
    assert listed(service="elderly_care") == {meals.public_id, cleaning.public_id}
    assert listed(community="990102001") == {meals.public_id, cleaning.public_id, other.public_id}
    assert listed(community="990102002") == set()
    assert listed(state="triaged", mine="true") == {other.public_id}
    assert listed(state="closed") == set()
    bad = client.get(REQUESTS, {"service": "nope", "state": "lost", "community": "99x"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"service", "state", "community"}


def test_the_list_costs_a_fixed_number_of_queries(elder, worker, django_assert_num_queries):
    for _ in range(3):
        ask(elder)
    as_user(worker).get(REQUESTS)  # warm the process's caches (content types, translations)
    ask(elder)
    # A fresh user object, as each real request has: its scopes are not cached yet.
    client = as_user(User.objects.get(pk=worker.pk))
    # the area's scope, the keeper scope (for priorities), the count, the page
    with django_assert_num_queries(4):
        response = client.get(REQUESTS)
    assert response.json()["count"] == 4


def test_the_detail_depends_on_who_looks(elder, worker, official, proxy, volunteer):
    request = ask(elder, description="每天午餐送到家")
    url = f"{REQUESTS}{request.public_id}/"
    keeper = as_user(worker).get(url).json()
    assert keeper["view"] == "keeper"
    assert keeper["priority_breakdown"]["elderly_living_alone"] == 25
    assert keeper["description"] == "每天午餐送到家"
    for served in (elder.user, proxy):
        body = as_user(served).get(url).json()
        assert body["view"] == "served"
        assert body["due_at"]
        assert body["responder_name"] is None
        assert "priority" not in body
    summary = as_user(official).get(url).json()
    assert summary["view"] == "summary"
    assert not {"description", "address", "person_name", "priority"} & set(summary)
    # A responder sees nothing of it before it is theirs, then the task.
    assert as_user(volunteer.user).get(url).status_code == 404
    request_assign(actor=worker, request=request, responder=volunteer)
    task = as_user(volunteer.user).get(url).json()
    assert task["view"] == "task"
    assert (task["name"], task["address"], task["phone"]) == ("王秀英", "", "138****5678")
    assert set(task["actions"]) == {Action.ACCEPT, Action.DECLINE}
    assert as_user(elder.user).get(url).json()["responder_name"] == "张志愿"


def test_a_request_outside_ones_view_is_a_404(elder, community):
    request = ask(elder)
    stranger = granted(Role.RESIDENT, community)
    response = as_user(stranger).get(f"{REQUESTS}{request.public_id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert as_user(stranger).get(f"{REQUESTS}R000000-XXXXX/").status_code == 404


def test_the_timeline_shows_every_step(elder, worker, volunteer):
    request = ask(elder)
    request_assign(actor=worker, request=request, responder=volunteer)
    client = as_user(volunteer.user)
    client.post(
        f"{REQUESTS}{request.public_id}/transitions",
        {"action": "decline", "reason": "今天生病"},
        format="json",
    )
    events = as_user(elder.user).get(f"{REQUESTS}{request.public_id}/timeline").json()
    assert [(e["action"], e["from"], e["to"]) for e in events] == [
        ("submit", "", "submitted"),
        ("triage", "submitted", "triaged"),
        ("assign", "triaged", "assigned"),
        ("decline", "assigned", "triaged"),
    ]
    assert [e["who"] for e in events][1:3] == ["system", "李小红"]
    assert events[3]["reason"] == "今天生病"
    assert events[0]["action_label"] == "Submitted"


# --- moving --------------------------------------------------------------------------


def test_a_request_goes_through_the_map_by_the_api(elder, worker, volunteer):
    request = ask(elder)
    base = f"{REQUESTS}{request.public_id}"
    assigned = as_user(worker).post(f"{base}/assign", {"responder": volunteer.pk}, format="json")
    assert assigned.status_code == 200, assigned.json()
    assert assigned.json()["responder"]["name"] == "张志愿"
    for action in ("accept", "start", "complete"):
        response = as_user(volunteer.user).post(
            f"{base}/transitions", {"action": action}, format="json"
        )
        assert response.status_code == 200, response.json()
    assert response.json()["view"] == "summary"  # delivered: no longer theirs to see
    confirmed = as_user(elder.user).post(
        f"{base}/transitions", {"action": "confirm"}, format="json"
    )
    assert confirmed.json()["state"] == State.CONFIRMED
    closed = as_user(worker).post(
        f"{base}/transitions", {"action": "close", "outcome": "resolved"}, format="json"
    )
    assert (closed.json()["state"], closed.json()["outcome"]) == ("closed", "resolved")
    assignment = Assignment.objects.get(request=request)
    assert assignment.explanation == {"method": "manual", "why": ""}


def test_accepting_opens_the_address_and_phone_and_logs_it(elder, worker, volunteer):
    request = request_assign(actor=worker, request=ask(elder), responder=volunteer)
    client = as_user(volunteer.user)
    accepted = client.post(
        f"{REQUESTS}{request.public_id}/transitions", {"action": "accept"}, format="json"
    )
    body = accepted.json()
    assert (body["view"], body["address"], body["phone"]) == ("task", "幸福里3号", "13812345678")
    logged = AccessEvent.objects.filter(actor_username=volunteer.user.username)
    assert logged.filter(action=AccessEvent.Action.TASK, purpose=request.public_id).exists()


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("worker", {"action": "complete"}, 409, "conflict"),  # the map forbids it
        ("elder", {"action": "accept"}, 409, "conflict"),  # not assigned yet
        ("worker", {"action": "reject"}, 400, "invalid"),  # no reason
        ("worker", {"action": "assign"}, 400, "invalid"),  # its own endpoint
        ("worker", {"action": "fly"}, 400, "invalid"),
        ("official", {"action": "cancel"}, 403, "permission_denied"),
    ],
)
def test_refused_moves_have_their_status(elder, worker, official, who, body, status, code):
    request = ask(elder)
    user = {"worker": worker, "elder": elder.user, "official": official}[who]
    response = as_user(user).post(f"{REQUESTS}{request.public_id}/transitions", body, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert ServiceRequest.objects.get(pk=request.pk).state == State.TRIAGED


def test_a_responder_may_not_act_for_the_resident(elder, worker, volunteer):
    request = request_assign(actor=worker, request=ask(elder), responder=volunteer)
    response = as_user(elder.user).post(
        f"{REQUESTS}{request.public_id}/transitions", {"action": "accept"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_assigning_twice_is_a_conflict_and_reassigning_is_explicit(elder, worker, community):
    request = ask(elder)
    first = responder_create(community, "elderly_meals", name="甲")
    second = responder_create(community, "elderly_meals", name="乙")
    url = f"{REQUESTS}{request.public_id}/assign"
    client = as_user(worker)
    assert client.post(url, {"responder": first.pk}, format="json").status_code == 200
    again = client.post(url, {"responder": second.pk}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    moved = client.post(
        url, {"responder": second.pk, "reassign": True, "reason": "离得近"}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["responder"]["id"] == second.pk
    assert Assignment.objects.filter(request=request, ended_at__isnull=True).count() == 1


def test_assigning_is_for_keepers_and_known_responders(elder, worker, official, volunteer):
    request = ask(elder)
    url = f"{REQUESTS}{request.public_id}/assign"
    assert (
        as_user(official).post(url, {"responder": volunteer.pk}, format="json").status_code == 403
    )
    unknown = as_user(worker).post(url, {"responder": 999999}, format="json")
    assert unknown.status_code == 400
    assert "responder" in unknown.json()["fields"]


# --- counts, responders, tasks, ping -------------------------------------------------


def test_counts_per_community_for_officials_and_keepers(elder, worker, official):
    ask(elder)
    late = ask(elder)
    ServiceRequest.objects.filter(pk=late.pk).update(
        due_at=timezone.now() - dt.timedelta(hours=1), escalation_level=1
    )
    for user in (worker, official):
        rows = as_user(user).get(f"{REQUESTS}counts").json()
        assert rows == [
            {
                "community": "990102001001",
                "name": "Region 990102001001",
                "open": 2,
                "overdue": 1,
                "escalated": 1,
            }
        ]
    assert as_user(elder.user).get(f"{REQUESTS}counts").status_code == 403


PROFILE = {
    "skills": ["elderly_meals", "elderly_visit"],
    "availability": [{"day": 5, "start": "09:00", "end": "12:00"}],
    "region": "990102001001",
    "radius_km": "2.5",
    "max_open_tasks": 2,
}


def test_a_volunteer_opens_reads_and_changes_their_profile(community):
    user = granted(Role.VOLUNTEER, community, first_name="志愿", last_name="张")
    client = as_user(user)
    assert client.get("/api/v1/responders/me").status_code == 404
    created = client.post("/api/v1/responders/me", PROFILE, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["kind"], body["name"], body["region"]) == ("volunteer", "张志愿", "990102001001")
    assert body["skills"] == ["elderly_meals", "elderly_visit"]
    assert body["radius_km"] == 2.5
    again = client.post("/api/v1/responders/me", PROFILE, format="json")
    assert again.status_code == 409
    changed = client.put(
        "/api/v1/responders/me",
        {**PROFILE, "region": "", "latitude": 30.001, "longitude": 120.0, "status": "paused"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["region"], changed.json()["status"]) == ("990102001001", "paused")
    assert client.get("/api/v1/responders/me").json()["latitude"] == 30.001
    assert Responder.objects.get(user=user).status == "paused"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"skills": []}, "skills"),
        ({"skills": ["flying"]}, "skills"),
        ({"availability": [{"day": 7, "start": "09:00", "end": "12:00"}]}, "availability"),
        ({"availability": [{"day": 1, "start": "12:00", "end": "09:00"}]}, "availability"),
        ({"availability": [{"day": 1, "start": "9am", "end": "12:00"}]}, "availability"),
        ({"availability": [{"day": 1}]}, "availability"),
        ({"radius_km": "0"}, "radius_km"),
        ({"radius_km": "80"}, "radius_km"),
        ({"max_open_tasks": 0}, "max_open_tasks"),
        ({"status": "asleep"}, "status"),
        ({"region": "990199999999"}, "region"),
        ({"region": "", "latitude": 40.0, "longitude": 116.0}, "latitude"),
        ({"region": ""}, "region"),
        ({"kind": "social_worker"}, "kind"),
    ],
)
def test_a_bad_profile_is_refused_at_its_field(community, change, field):
    user = granted(Role.VOLUNTEER, community)
    response = as_user(user).post("/api/v1/responders/me", {**PROFILE, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Responder.objects.filter(user=user).exists()


def test_only_responder_roles_keep_a_profile(elder):
    response = as_user(elder.user).post("/api/v1/responders/me", PROFILE, format="json")
    assert response.status_code == 403
    assert as_user(elder.user).put("/api/v1/responders/me", PROFILE, format="json").status_code in (
        403,
        404,
    )


def test_keepers_list_the_responders_of_their_area(elder, worker, official, volunteer, elsewhere):
    responder_create(elsewhere, "elderly_meals", name="远方")
    request_assign(actor=worker, request=ask(elder), responder=volunteer)
    rows = as_user(worker).get("/api/v1/responders/").json()["results"]
    assert [(r["name"], r["open_tasks"], r["skills"]) for r in rows] == [
        ("张志愿", 1, ["elderly_meals"])
    ]
    assert "latitude" not in rows[0]
    filtered = as_user(worker).get("/api/v1/responders/", {"skill": "childcare_nursery"})
    assert filtered.json()["results"] == []
    assert as_user(official).get("/api/v1/responders/").status_code == 403


def test_a_responder_lists_their_tasks(elder, worker, volunteer):
    first = request_assign(actor=worker, request=ask(elder), responder=volunteer)
    ask(elder)  # not theirs
    tasks = as_user(volunteer.user).get("/api/v1/tasks").json()
    assert tasks["count"] == 1
    task = tasks["results"][0]
    assert (task["public_id"], task["view"], task["address"]) == (first.public_id, "task", "")
    assert as_user(elder.user).get("/api/v1/tasks").json()["count"] == 0


def test_the_ping_answers_anyone():
    response = APIClient().get("/api/v1/ping")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


# --- candidates (the dispatch engine) ------------------------------------------------


def test_keepers_see_who_may_serve_a_request(elder, worker, official, volunteer, community):
    responder_create(community, "childcare_nursery", name="托育")  # lacks the skill
    request = ask(elder)
    url = f"{REQUESTS}{request.public_id}/candidates"
    response = as_user(worker).get(url)
    assert response.status_code == 200, response.json()
    rows = response.json()
    assert [row["responder"]["name"] for row in rows] == ["张志愿"]
    assert rows[0]["distance_km"] == pytest.approx(0.0, abs=0.1)
    assert rows[0]["cost"] == pytest.approx(sum(rows[0]["reasons"].values()), abs=0.01)
    assert as_user(official).get(url).status_code == 403
