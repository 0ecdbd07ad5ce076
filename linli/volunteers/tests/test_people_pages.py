"""The pages: joining, a community's volunteers and their verification, teams, social
workers, my hours, redeeming for a relative, and the community pool."""

from __future__ import annotations

from decimal import Decimal

import pytest

from linli.accounts.tests.factories import UserFactory
from linli.regions.tests.factories import region_chain
from linli.requests.choices import Action
from linli.requests.models import Responder
from linli.requests.services import RequestInput, request_assign, request_create, request_transition
from linli.residents.choices import RelationKind
from linli.residents.models import Relation
from linli.volunteers.choices import TransferKind, VolunteerStatus
from linli.volunteers.ledger import community_pool, person_account, timebank_credit, timebank_donate
from linli.volunteers.models import Account, Redemption, SocialWorker, Team, Transfer, Volunteer
from linli.volunteers.people import VolunteerInput, volunteer_register, volunteer_verify
from linli.volunteers.tests.factories import keeper, resident

pytestmark = pytest.mark.django_db


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


def signed_in(client, user):
    client.force_login(user)
    return client


def register(person):
    return volunteer_register(
        actor=person.user,
        data=VolunteerInput(skills=["elderly_meals"], radius_km=Decimal("2.0")),
    )


# --- joining -----------------------------------------------------------------------------------


def test_a_resident_joins_in_a_few_taps(client, neighbour, community):
    signed_in(client, neighbour.user)
    page = client.get("/volunteers/join/")
    assert page.status_code == 200
    assert "Meal assistance" in page.text
    assert 'name="community"' not in page.text  # their record says where they live
    response = client.post(
        "/volunteers/join/",
        {
            "skills": ["elderly_meals", "elderly_visit"],
            "days": ["0", "2"],
            "parts": ["morning"],
            "radius_km": "3.0",
        },
    )
    assert response.status_code == 302
    volunteer = Volunteer.objects.get()
    assert (volunteer.community, volunteer.status, volunteer.radius_km) == (
        community,
        VolunteerStatus.PENDING,
        Decimal("3.0"),
    )
    assert volunteer.availability == [
        {"day": 0, "start": "08:00", "end": "12:00"},
        {"day": 2, "start": "08:00", "end": "12:00"},
    ]
    after = client.get("/volunteers/join/")
    assert "Waiting for verification" in after.text
    assert 'id="join-form"' not in after.text


def test_joining_without_a_skill_is_refused_at_the_field(client, neighbour):
    signed_in(client, neighbour.user)
    response = client.post("/volunteers/join/", {"radius_km": "2.0"})
    assert response.status_code == 400
    assert "Say which services you can help with." in response.text
    assert not Volunteer.objects.exists()


def test_someone_not_in_the_register_chooses_their_community(client, community):
    user = UserFactory.create()
    signed_in(client, user)
    assert 'name="community"' in client.get("/volunteers/join/").text
    response = client.post(
        "/volunteers/join/",
        {"skills": ["elderly_meals"], "radius_km": "2.0", "community": community.code},
    )
    assert response.status_code == 302
    assert Volunteer.objects.get().availability == []


def test_join_in_chinese(client, neighbour):
    signed_in(client, neighbour.user)
    page = client.get("/volunteers/join/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "助餐" in page.text


# --- a community's volunteers ------------------------------------------------------------------


def test_a_worker_sees_only_their_communities_volunteers_and_verifies(
    client, neighbour, worker, elsewhere
):
    mine = register(neighbour)
    register(resident(elsewhere, "周敏"))
    signed_in(client, worker)
    page = client.get("/volunteers/")
    assert page.status_code == 200
    assert "李明" in page.text
    assert "周敏" not in page.text
    response = client.post(
        f"/volunteers/{mine.pk}/decision/", {"decision": "verify", "next": "/volunteers/"}
    )
    assert response.status_code == 302
    assert response.url == "/volunteers/"
    mine.refresh_from_db()
    assert mine.status == VolunteerStatus.VERIFIED
    assert Responder.objects.filter(user=neighbour.user, status="active").exists()
    assert f'id="volunteer-{mine.pk}"' not in client.get("/volunteers/?status=pending").text
    detail = client.get(f"/volunteers/{mine.pk}/")
    assert detail.status_code == 200
    assert "Verified" in detail.text


def test_suspending_without_a_reason_is_refused_on_the_profile(client, neighbour, worker):
    volunteer = volunteer_verify(actor=worker, volunteer=register(neighbour))
    signed_in(client, worker)
    response = client.post(f"/volunteers/{volunteer.pk}/decision/", {"decision": "suspend"})
    assert response.status_code == 400
    assert "Say why." in response.text
    conflict = client.post(f"/volunteers/{volunteer.pk}/decision/", {"decision": "verify"})
    assert conflict.status_code == 409
    volunteer.refresh_from_db()
    assert volunteer.status == VolunteerStatus.VERIFIED


def test_outsiders_do_not_see_a_communitys_volunteers(client, neighbour, elsewhere):
    volunteer = register(neighbour)
    signed_in(client, keeper(elsewhere))
    assert client.get(f"/volunteers/{volunteer.pk}/").status_code == 404
    assert (
        client.post(f"/volunteers/{volunteer.pk}/decision/", {"decision": "verify"}).status_code
        == 404
    )
    signed_in(client, neighbour.user)
    assert client.get("/volunteers/").status_code == 403


# --- teams and social workers ------------------------------------------------------------------


def test_a_worker_founds_a_team_that_a_volunteer_joins_and_leaves(
    client, neighbour, worker, community
):
    signed_in(client, worker)
    response = client.post(
        "/volunteers/teams/", {"name": "幸福里助老队", "owner": f"c:{community.code}"}
    )
    assert response.status_code == 302
    team = Team.objects.get()
    assert team.community == community
    volunteer = register(neighbour)
    signed_in(client, neighbour.user)
    assert "幸福里助老队" in client.get("/volunteers/teams/").text
    assert client.post(f"/volunteers/teams/{team.pk}/join/").status_code == 302
    assert list(volunteer.teams.all()) == [team]
    assert client.post(f"/volunteers/teams/{team.pk}/join/").status_code == 409
    assert client.post(f"/volunteers/teams/{team.pk}/leave/").status_code == 302
    assert list(volunteer.teams.all()) == []
    assert client.post("/volunteers/teams/", {"name": "自封队", "owner": "x"}).status_code == 403


def test_a_social_worker_registers_and_a_worker_verifies(client, neighbour, worker):
    signed_in(client, neighbour.user)
    bad = client.post(
        "/volunteers/social-workers/join/",
        {"qualification": "social_worker", "certificate_number": "12"},
    )
    assert bad.status_code == 400
    assert "8 to 20 digits" in bad.text
    response = client.post(
        "/volunteers/social-workers/join/",
        {"qualification": "social_worker", "certificate_number": "2019440103000123"},
    )
    assert response.status_code == 302
    sw = SocialWorker.objects.get()
    signed_in(client, worker)
    page = client.get("/volunteers/social-workers/")
    assert "2019440103000123" in page.text
    refused = client.post(f"/volunteers/social-workers/{sw.pk}/decision/", {"decision": "reject"})
    assert refused.status_code == 400
    done = client.post(f"/volunteers/social-workers/{sw.pk}/decision/", {"decision": "verify"})
    assert done.status_code == 302
    sw.refresh_from_db()
    assert sw.status == VolunteerStatus.VERIFIED


# --- my hours and redeeming ----------------------------------------------------------------------


def test_my_hours_show_the_balance_and_what_each_movement_was_for(
    client, neighbour, worker, community
):
    volunteer = volunteer_verify(actor=worker, volunteer=register(neighbour))
    elder = resident(community, "王秀英", years=85)
    request = request_create(
        actor=elder.user, data=RequestInput(service="elderly_meals", person=elder)
    )
    assert volunteer.responder is not None
    request = request_assign(actor=worker, request=request, responder=volunteer.responder)
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        request = request_transition(actor=neighbour.user, request=request, action=action)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    signed_in(client, neighbour.user)
    page = client.get("/timebank/")
    assert page.status_code == 200
    assert "0.50 hours" in page.text  # the shortest service counts half an hour
    assert f"Meal assistance ({request.public_id})" in page.text
    assert "Hours for a delivered request" in page.text
    assert 'href="/tasks/"' in page.text
    assert 'href="/activities/mine/"' in page.text


@pytest.fixture
def family(neighbour, community):
    mother = resident(community, "张桂兰", years=70, account=False)
    Relation.objects.create(resident=neighbour, person=mother, kind=RelationKind.PARENT)
    uncle = resident(community, "李叔", years=45, account=False)
    Relation.objects.create(resident=neighbour, person=uncle, kind=RelationKind.PARENT)
    return mother, uncle


def test_redeeming_offers_only_permitted_relatives(client, neighbour, family):
    mother, _uncle = family
    timebank_credit(
        account=person_account(neighbour.user),
        amount=Decimal("4"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=None,
    )
    signed_in(client, neighbour.user)
    page = client.get("/timebank/redeem/")
    assert "You have 4.00 hours." in page.text
    assert "张桂兰" in page.text
    assert "李叔" not in page.text
    response = client.post(
        "/timebank/redeem/",
        {"beneficiary": str(mother.pk), "service": "elderly_meals", "hours": "2"},
    )
    redemption = Redemption.objects.get()
    assert response.status_code == 302
    assert response.url == f"/requests/{redemption.request.public_id}/"
    assert redemption.beneficiary == mother
    assert client.get(response.url).status_code == 200


def test_redeeming_more_than_the_balance_shows_the_balance(client, neighbour, family):
    mother, uncle = family
    signed_in(client, neighbour.user)
    response = client.post(
        "/timebank/redeem/",
        {"beneficiary": str(mother.pk), "service": "elderly_meals", "hours": "1"},
    )
    assert response.status_code == 400
    assert "Your balance is 0.00 hours; this service needs 1.00." in response.text
    not_offered = client.post(
        "/timebank/redeem/",
        {"beneficiary": str(uncle.pk), "service": "elderly_meals", "hours": "1"},
    )
    assert not_offered.status_code == 400
    assert not Transfer.objects.exists()


# --- the pool ------------------------------------------------------------------------------------


def test_a_worker_grants_pool_hours_to_a_resident(client, neighbour, worker, community, elsewhere):
    timebank_credit(
        account=person_account(neighbour.user),
        amount=Decimal("3"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=None,
    )
    timebank_donate(
        source=person_account(neighbour.user),
        target=community_pool(community),
        amount=Decimal("3"),
        actor=neighbour.user,
    )
    elder = resident(community, "王秀英", years=85)
    url = f"/timebank/pool/{community.code}/"
    signed_in(client, worker)
    page = client.get(url)
    assert page.status_code == 200
    assert "3.00 hours" in page.text
    missing = client.post(url, {"resident": "999999", "hours": "1", "memo": "困难"})
    assert missing.status_code == 400
    response = client.post(url, {"resident": str(elder.pk), "hours": "2", "memo": "困难老人"})
    assert response.status_code == 302
    assert Account.objects.get(user=elder.user_id).balance == Decimal("2.00")
    assert community_pool(community).balance == Decimal("1.00")
    signed_in(client, keeper(elsewhere))
    assert client.get(url).status_code == 403
    signed_in(client, neighbour.user)
    assert client.get(url).status_code == 403


# --- the admin -----------------------------------------------------------------------------------


def test_the_admin_shows_every_model_and_never_writes_the_ledger(client, neighbour, worker):
    volunteer = register(neighbour)
    timebank_credit(
        account=person_account(neighbour.user),
        amount=Decimal("1"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=None,
    )
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    signed_in(client, admin)
    for model in (
        "team",
        "volunteer",
        "socialworker",
        "activity",
        "signup",
        "attendance",
        "hoursdispute",
        "account",
        "transfer",
        "movement",
        "redemption",
        "staraward",
        "starchallenge",
        "certificate",
    ):
        assert client.get(f"/admin/volunteers/{model}/").status_code == 200, model
    for model in ("account", "transfer", "movement", "redemption"):
        assert client.get(f"/admin/volunteers/{model}/add/").status_code == 403, model
    transfer = Transfer.objects.get()
    assert client.post(f"/admin/volunteers/transfer/{transfer.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/volunteers/volunteer/",
        {"action": "verify", "_selected_action": [str(volunteer.pk)]},
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.status == VolunteerStatus.VERIFIED
    assert volunteer.verified_by == admin
