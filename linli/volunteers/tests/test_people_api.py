"""The people and time-bank API: registering, scoped lists, decisions with their status
codes, teams, my time bank, redemptions and the community pool."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from linli.regions.tests.factories import region_chain
from linli.requests.choices import Action
from linli.requests.models import Responder
from linli.requests.services import request_transition
from linli.residents.choices import RelationKind
from linli.residents.models import Relation
from linli.volunteers.choices import TransferKind
from linli.volunteers.ledger import person_account, timebank_credit
from linli.volunteers.models import Redemption, Team, Transfer, Volunteer
from linli.volunteers.tests.factories import keeper, resident

pytestmark = pytest.mark.django_db

VOLUNTEERS = "/api/v1/volunteers/"


def as_user(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def elsewhere(taxonomy):
    return region_chain("990102002001", lat=30.05, lon=120.05)


@pytest.fixture
def worker(community):
    return keeper(community)


@pytest.fixture
def neighbour(community):
    return resident(community, "李明")


def join(person, **body):
    payload = {
        "skills": ["elderly_meals"],
        "availability": [{"day": 2, "start": "09:00", "end": "11:30"}],
        "radius_km": "2.5",
        **body,
    }
    return as_user(person.user).post(VOLUNTEERS, payload, format="json")


def test_a_resident_registers_through_the_api(neighbour, community):
    response = join(neighbour)
    assert response.status_code == 201, response.data
    body = response.json()
    assert {k: body[k] for k in ("name", "community", "status", "skills", "radius_km")} == {
        "name": "李明",
        "community": community.code,
        "status": "pending",
        "skills": ["elderly_meals"],
        "radius_km": 2.5,
    }
    assert body["responder"] is None
    again = join(neighbour)
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_bad_registrations_answer_400_at_the_field(neighbour):
    response = join(neighbour, skills=["flying"], radius_km="0.0", teams=[999])
    assert response.status_code == 400
    assert sorted(response.json()["fields"]) == ["teams"]  # the serializer's first
    response = join(neighbour, skills=["flying"], radius_km="0.0")
    assert response.status_code == 400
    assert sorted(response.json()["fields"]) == ["radius_km", "skills"]
    assert not Volunteer.objects.exists()


def test_workers_list_their_communities_volunteers_and_decide(
    neighbour, worker, elsewhere, community
):
    join(neighbour)
    join(resident(elsewhere, "周敏"))
    listed = as_user(worker).get(VOLUNTEERS)
    assert listed.status_code == 200
    assert [v["name"] for v in listed.json()["results"]] == ["李明"]
    volunteer = Volunteer.objects.get(name="李明")
    assert as_user(worker).get(f"{VOLUNTEERS}?status=verified").json()["count"] == 0
    # Another community's worker sees nothing, and may not decide: 404, as if absent.
    outsider = keeper(elsewhere)
    url = f"{VOLUNTEERS}{volunteer.pk}/decision"
    assert as_user(outsider).post(url, {"decision": "verify"}).status_code == 404
    assert as_user(outsider).get(f"{VOLUNTEERS}{volunteer.pk}/").status_code == 404
    # A resident keeps no list.
    assert as_user(neighbour.user).get(VOLUNTEERS).status_code == 403
    refused = as_user(worker).post(url, {"decision": "reject"})
    assert refused.status_code == 400
    assert list(refused.json()["fields"]) == ["reason"]
    done = as_user(worker).post(url, {"decision": "verify"})
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "verified"
    assert body["responder"] == Responder.objects.get(user=neighbour.user).pk
    assert (body["earned_hours"], body["balance"]) == ("0.00", "0.00")
    assert as_user(worker).post(url, {"decision": "verify"}).status_code == 409
    mine = as_user(neighbour.user).get(f"{VOLUNTEERS}me")
    assert mine.json()["status"] == "verified"


def test_volunteers_me_is_404_before_registering(neighbour):
    response = as_user(neighbour.user).get(f"{VOLUNTEERS}me")
    assert response.status_code == 404


def test_social_workers_register_and_are_verified(neighbour, worker):
    client = as_user(neighbour.user)
    response = client.post(
        "/api/v1/social-workers/",
        {"qualification": "senior", "certificate_number": "S20194401030001"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.json()["qualification"] == "senior"
    duplicate = as_user(resident(neighbour.community, "钱进").user).post(
        "/api/v1/social-workers/",
        {"qualification": "assistant", "certificate_number": "S20194401030001"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["fields"] == {
        "certificate_number": ["This certificate number is already registered to someone."]
    }
    listed = as_user(worker).get("/api/v1/social-workers/").json()
    assert [w["certificate_number"] for w in listed["results"]] == ["S20194401030001"]
    pk = listed["results"][0]["id"]
    decided = as_user(worker).post(f"/api/v1/social-workers/{pk}/decision", {"decision": "verify"})
    assert decided.json()["status"] == "verified"
    assert Responder.objects.get(user=neighbour.user).kind == "social_worker"


def test_teams_are_founded_joined_and_left(neighbour, worker, community):
    created = as_user(worker).post(
        "/api/v1/volunteer-teams/", {"name": "幸福里助老队", "community": community.code}
    )
    assert created.status_code == 201
    team = created.json()
    assert (team["community"], team["members"], team["member"]) == (community.code, 0, False)
    assert (
        as_user(neighbour.user)
        .post("/api/v1/volunteer-teams/", {"name": "自封队", "community": community.code})
        .status_code
        == 403
    )
    join(neighbour)
    client = as_user(neighbour.user)
    url = f"/api/v1/volunteer-teams/{team['id']}/membership"
    assert client.post(url).status_code == 204
    listed = client.get("/api/v1/volunteer-teams/").json()["results"]
    assert [(t["name"], t["members"], t["member"]) for t in listed] == [("幸福里助老队", 1, True)]
    assert client.post(url).status_code == 409
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 404


# --- time bank -------------------------------------------------------------------------------


def test_my_time_bank_shows_balance_earned_hours_and_movements(neighbour):
    timebank_credit(
        account=person_account(neighbour.user),
        amount=Decimal("2.5"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=None,
        memo="助餐活动",
    )
    body = as_user(neighbour.user).get("/api/v1/me/timebank").json()
    assert (body["balance"], body["earned_hours"], body["cap"]) == ("2.50", "2.50", "1500.00")
    assert [(m["hours"], m["kind"], m["memo"], m["correction"]) for m in body["movements"]] == [
        ("2.50", "activity_hours", "助餐活动", False)
    ]


def test_an_empty_time_bank(neighbour):
    body = as_user(neighbour.user).get("/api/v1/me/timebank").json()
    assert body == {"balance": "0.00", "earned_hours": "0.00", "cap": "1500.00", "movements": []}


@pytest.fixture
def mother(neighbour, community):
    person = resident(community, "张桂兰", years=70, account=False)
    Relation.objects.create(resident=neighbour, person=person, kind=RelationKind.PARENT)
    return person


def test_redeeming_for_a_mother_and_listing_redemptions(neighbour, mother):
    timebank_credit(
        account=person_account(neighbour.user),
        amount=Decimal("5"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=None,
    )
    client = as_user(neighbour.user)
    response = client.post(
        "/api/v1/redemptions/",
        {"beneficiary": mother.pk, "service": "elderly_meals", "hours": "2"},
        format="json",
    )
    assert response.status_code == 201, response.data
    body = response.json()
    assert (body["beneficiary_name"], body["hours"], body["status"], body["service"]) == (
        "张桂兰",
        "2.00",
        "held",
        "elderly_meals",
    )
    assert [r["request"] for r in client.get("/api/v1/redemptions/").json()["results"]] == [
        body["request"]
    ]
    # The volunteer follows the request they asked for.
    seen = client.get(f"/api/v1/requests/{body['request']}/").json()
    assert (seen["view"], seen["person_name"]) == ("served", "张桂兰")
    assert client.get("/api/v1/me/timebank").json()["balance"] == "3.00"
    request = Redemption.objects.get().request
    request_transition(actor=neighbour.user, request=request, action=Action.CANCEL)
    assert client.get("/api/v1/me/timebank").json()["balance"] == "5.00"
    assert client.get("/api/v1/redemptions/").json()["results"][0]["status"] == "released"


def test_redemption_refusals_answer_400_and_leave_the_ledger(neighbour, community, mother):
    client = as_user(neighbour.user)
    too_much = client.post(
        "/api/v1/redemptions/",
        {"beneficiary": mother.pk, "service": "elderly_meals", "hours": "2"},
        format="json",
    )
    assert too_much.status_code == 400
    assert too_much.json()["fields"] == {
        "hours": ["Your balance is 0.00 hours; this service needs 2.00."]
    }
    young = resident(community, "李叔", years=45, account=False)
    Relation.objects.create(resident=neighbour, person=young, kind=RelationKind.PARENT)
    response = client.post(
        "/api/v1/redemptions/",
        {"beneficiary": young.pk, "service": "elderly_meals", "hours": "1"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["beneficiary"] == [
        "李叔 is 45: hours are spent on a relative only from the age of 60."
    ]
    stranger = resident(community, "孙阿姨", years=75, account=False)
    response = client.post(
        "/api/v1/redemptions/",
        {"beneficiary": stranger.pk, "service": "elderly_meals", "hours": "1"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "beneficiary": [f"No resident no. {stranger.pk} is known to you."]
    }
    assert not Transfer.objects.filter(kind=TransferKind.REDEMPTION_HOLD).exists()


def test_the_pool_is_for_its_community_workers(neighbour, worker, community, elsewhere):
    timebank_credit(
        account=person_account(neighbour.user),
        amount=Decimal("3"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=community,
    )
    from linli.volunteers.ledger import community_pool, timebank_donate

    timebank_donate(
        source=person_account(neighbour.user),
        target=community_pool(community),
        amount=Decimal("3"),
        actor=neighbour.user,
    )
    url = f"/api/v1/timebank/pools/{community.code}"
    body = as_user(worker).get(url).json()
    assert (body["community"], body["balance"]) == (community.code, "3.00")
    assert [m["kind"] for m in body["movements"]] == ["donation"]
    assert as_user(keeper(elsewhere)).get(url).status_code == 404
    assert as_user(neighbour.user).get(url).status_code == 404
    elder = resident(community, "王秀英", years=85)
    granted = as_user(worker).post(
        f"{url}/grants", {"resident": elder.pk, "hours": "1.5", "memo": "困难老人"}
    )
    assert granted.status_code == 201
    assert granted.json()["kind"] == "grant"
    assert as_user(elder.user).get("/api/v1/me/timebank").json()["balance"] == "1.50"


def test_the_volunteer_list_takes_the_same_queries_however_long(
    worker, community, django_assert_num_queries
):
    team = Team.objects.create(name="幸福里助老队", community=community)

    def add(count: int) -> None:
        for number in range(count):
            person = resident(community, f"志愿者{Volunteer.objects.count()}{number}")
            join(person, teams=[team.pk], skills=["elderly_meals", "elderly_visit"])

    client = as_user(worker)
    add(2)
    client.get(VOLUNTEERS)  # the caller's scope is read once, then kept on the user
    with django_assert_num_queries(4):
        assert client.get(VOLUNTEERS).json()["count"] == 2
    add(4)
    with django_assert_num_queries(4):
        assert client.get(VOLUNTEERS).json()["count"] == 6
