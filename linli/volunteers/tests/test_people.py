"""Joining: volunteers and social workers register, are verified (and become responders
that dispatch offers tasks), rejected or suspended; teams are founded and joined."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.directory.models import Organization
from linli.notifications.models import Notification
from linli.regions.tests.factories import region_chain
from linli.requests.choices import ResponderKind, ResponderStatus
from linli.requests.dispatch import candidates_for
from linli.requests.models import Responder
from linli.requests.services import RequestInput, request_create
from linli.requests.tests.factories import responder_create
from linli.residents.services import ResidentInput, resident_register
from linli.volunteers.choices import Qualification, VolunteerStatus
from linli.volunteers.models import SocialWorker, Team, Volunteer
from linli.volunteers.people import (
    SocialWorkerInput,
    VolunteerInput,
    social_worker_decide,
    social_worker_register,
    social_workers_visible_to,
    team_create,
    team_join,
    team_leave,
    volunteer_decide,
    volunteer_list,
    volunteer_register,
    volunteer_reject,
    volunteer_suspend,
    volunteer_verify,
)

pytestmark = pytest.mark.django_db

MONDAY_MORNING = {"day": 0, "start": "08:00", "end": "12:00"}


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def elsewhere(taxonomy):
    return region_chain("990102002001", lat=30.05, lon=120.05)


@pytest.fixture
def worker(community):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


@pytest.fixture
def other_worker(elsewhere):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=elsewhere)
    return user


@pytest.fixture
def organization(community):
    return Organization.objects.create(name="阳光社工服务中心", region=community.parent)


@pytest.fixture
def staff(organization):
    user = UserFactory.create()
    RoleAssignmentFactory(
        user=user, role=Role.PROVIDER_STAFF, region=None, organization=organization
    )
    return user


def resident(community, name="李明", born=dt.date(1985, 5, 1), user=None):
    person = resident_register(
        actor=None, data=ResidentInput(name=name, community=community, birth_date=born)
    )
    person.user = user or UserFactory.create()
    person.save()
    return person


@pytest.fixture
def neighbour(community):
    return resident(community)


def responder_of(volunteer: Volunteer) -> Responder:
    assert volunteer.responder is not None
    return volunteer.responder


def register(user, **fields):
    data = VolunteerInput(
        skills=fields.pop("skills", ["elderly_meals", "elderly_visit"]),
        availability=fields.pop("availability", [MONDAY_MORNING]),
        radius_km=fields.pop("radius_km", Decimal("3.0")),
        **fields,
    )
    return volunteer_register(actor=user, data=data)


def test_a_resident_registers_and_waits_for_verification(neighbour, community):
    volunteer = register(neighbour.user)
    assert volunteer.status == VolunteerStatus.PENDING
    assert volunteer.resident == neighbour
    assert volunteer.name == "李明"
    assert volunteer.community == community
    assert sorted(volunteer.skills.values_list("code", flat=True)) == [
        "elderly_meals",
        "elderly_visit",
    ]
    assert volunteer.availability == [MONDAY_MORNING]
    assert volunteer.responder is None
    assert not Responder.objects.filter(user=neighbour.user).exists()


def test_a_resident_cannot_register_twice(neighbour):
    register(neighbour.user)
    with pytest.raises(Conflict):
        register(neighbour.user)
    assert Volunteer.objects.count() == 1


def test_someone_not_in_the_register_names_their_community(community):
    user = UserFactory.create(first_name="芳", last_name="王")
    with pytest.raises(ValidationFailed) as refused:
        register(user)
    assert list(refused.value.fields) == ["community"]
    volunteer = register(user, community=community)
    assert volunteer.resident is None
    assert volunteer.name == "王芳"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"skills": []}, "skills"),
        ({"skills": ["flying"]}, "skills"),
        ({"availability": [{"day": 9, "start": "08:00", "end": "12:00"}]}, "availability"),
        ({"availability": [{"day": 1, "start": "12:00", "end": "08:00"}]}, "availability"),
        ({"radius_km": Decimal("0")}, "radius_km"),
        ({"radius_km": Decimal("80")}, "radius_km"),
        ({"latitude": 95.0, "longitude": 120.0}, "latitude"),
    ],
)
def test_bad_registrations_are_refused_at_their_field(neighbour, fields, field):
    with pytest.raises(ValidationFailed) as refused:
        register(neighbour.user, **fields)
    assert field in refused.value.fields
    assert not Volunteer.objects.exists()


def test_a_team_of_another_community_is_refused(neighbour, elsewhere, other_worker):
    team = team_create(actor=other_worker, name="东区助老队", community=elsewhere)
    with pytest.raises(ValidationFailed) as refused:
        register(neighbour.user, teams=[team])
    assert refused.value.fields == {"teams": ["The team 东区助老队 belongs to another community."]}


def test_verifying_makes_a_responder_that_dispatch_offers_tasks(
    neighbour, worker, community, django_capture_on_commit_callbacks
):
    volunteer = register(neighbour.user, availability=[])  # any time
    with django_capture_on_commit_callbacks(execute=True):
        volunteer = volunteer_verify(actor=worker, volunteer=volunteer)
    assert volunteer.status == VolunteerStatus.VERIFIED
    assert volunteer.verified_by == worker
    assert volunteer.verified_at is not None
    responder = volunteer.responder
    assert responder is not None
    assert (responder.kind, responder.user, responder.region, responder.status) == (
        ResponderKind.VOLUNTEER,
        neighbour.user,
        community,
        ResponderStatus.ACTIVE,
    )
    assert (responder.latitude, responder.longitude) == (30.0, 120.0)  # the community's centre
    assert responder.radius_km == Decimal("3.0")
    assert sorted(responder.skills.values_list("code", flat=True)) == [
        "elderly_meals",
        "elderly_visit",
    ]
    assert RoleAssignment.objects.filter(
        user=neighbour.user, role=Role.VOLUNTEER, region=community
    ).exists()
    note = Notification.objects.get(user=neighbour.user)
    assert note.link == "/timebank/"
    elder = resident(community, name="王秀英", born=dt.date(1941, 1, 1))
    request = request_create(actor=worker, data=RequestInput(service="elderly_meals", person=elder))
    assert [c.responder.pk for c in candidates_for(request)] == [responder.pk]


def test_a_point_of_their_own_is_kept(neighbour, worker):
    volunteer = register(neighbour.user, latitude=30.01, longitude=120.02)
    volunteer = volunteer_verify(actor=worker, volunteer=volunteer)
    assert (responder_of(volunteer).latitude, responder_of(volunteer).longitude) == (30.01, 120.02)
    assert responder_of(volunteer).availability == [MONDAY_MORNING]


def test_suspending_pauses_the_responder_and_verifying_again_resumes_it(
    neighbour, worker, community, django_capture_on_commit_callbacks
):
    volunteer = volunteer_verify(actor=worker, volunteer=register(neighbour.user))
    with pytest.raises(ValidationFailed) as refused:
        volunteer_suspend(actor=worker, volunteer=volunteer, reason=" ")
    assert list(refused.value.fields) == ["reason"]
    with django_capture_on_commit_callbacks(execute=True):
        volunteer = volunteer_suspend(actor=worker, volunteer=volunteer, reason="多次爽约")
    assert volunteer.status == VolunteerStatus.SUSPENDED
    assert volunteer.status_reason == "多次爽约"
    assert responder_of(volunteer).status == ResponderStatus.PAUSED
    assert not RoleAssignment.objects.filter(user=neighbour.user, role=Role.VOLUNTEER).exists()
    assert "多次爽约" in Notification.objects.get(user=neighbour.user).body
    first = responder_of(volunteer).pk
    volunteer = volunteer_verify(actor=worker, volunteer=volunteer)
    assert responder_of(volunteer).pk == first
    assert responder_of(volunteer).status == ResponderStatus.ACTIVE
    assert Responder.objects.filter(user=neighbour.user).count() == 1


def test_moves_outside_the_map_are_conflicts(neighbour, worker):
    volunteer = register(neighbour.user)
    with pytest.raises(Conflict):
        volunteer_suspend(actor=worker, volunteer=volunteer, reason="没有通过")
    volunteer = volunteer_reject(actor=worker, volunteer=volunteer, reason="资料不全")
    assert volunteer.status == VolunteerStatus.REJECTED
    with pytest.raises(Conflict):
        volunteer_verify(actor=worker, volunteer=volunteer)
    with pytest.raises(ValidationFailed):
        volunteer_decide(actor=worker, volunteer=volunteer, decision="promote")


def test_a_rejected_resident_may_register_again(neighbour, worker):
    volunteer = volunteer_reject(
        actor=worker, volunteer=register(neighbour.user), reason="资料不全"
    )
    again = register(neighbour.user, skills=["elderly_cleaning"])
    assert again.pk == volunteer.pk
    assert again.status == VolunteerStatus.PENDING
    assert again.status_reason == ""
    assert list(again.skills.values_list("code", flat=True)) == ["elderly_cleaning"]


def test_only_the_community_or_the_organization_verifies(
    neighbour, worker, other_worker, staff, organization
):
    volunteer = register(neighbour.user)
    for outsider in (other_worker, staff, neighbour.user):
        with pytest.raises(PermissionDenied):
            volunteer_verify(actor=outsider, volunteer=volunteer)
    assert Volunteer.objects.get().status == VolunteerStatus.PENDING
    with_organization = register(
        resident(neighbour.community, name="赵强").user, organization=organization
    )
    assert volunteer_verify(actor=staff, volunteer=with_organization).status == "verified"


def test_someone_who_already_delivers_as_staff_keeps_that_responder(neighbour, worker, community):
    staff_responder = responder_create(
        community, "elderly_meals", user=neighbour.user, kind=ResponderKind.PROVIDER_STAFF
    )
    volunteer = volunteer_verify(actor=worker, volunteer=register(neighbour.user))
    assert volunteer.status == VolunteerStatus.VERIFIED
    assert volunteer.responder is None
    staff_responder.refresh_from_db()
    assert staff_responder.kind == ResponderKind.PROVIDER_STAFF


def test_a_worker_lists_only_the_volunteers_of_their_communities(
    neighbour, worker, other_worker, elsewhere
):
    mine = register(neighbour.user)
    theirs = register(resident(elsewhere, name="周敏").user)
    assert list(volunteer_list(user=worker)) == [mine]
    assert list(volunteer_list(user=other_worker)) == [theirs]
    assert list(volunteer_list(user=worker, status=VolunteerStatus.VERIFIED)) == []
    assert list(volunteer_list(user=neighbour.user)) == []


# --- teams --------------------------------------------------------------------------------


def test_workers_found_community_teams_and_staff_organization_teams(
    worker, staff, organization, community, other_worker
):
    team = team_create(actor=worker, name="  幸福里助老队 ", community=community)
    assert (team.name, team.community, team.organization) == ("幸福里助老队", community, None)
    group = team_create(actor=staff, name="阳光志愿队", organization=organization)
    assert group.organization == organization
    with pytest.raises(PermissionDenied):
        team_create(actor=other_worker, name="越界队", community=community)
    with pytest.raises(PermissionDenied):
        team_create(actor=worker, name="冒名队", organization=organization)
    with pytest.raises(ValidationFailed) as refused:
        team_create(actor=worker, name="两头队", community=community, organization=organization)
    assert list(refused.value.fields) == ["community"]
    assert Team.objects.count() == 2


def test_volunteers_join_and_leave_teams(neighbour, worker, community):
    team = team_create(actor=worker, name="幸福里助老队", community=community)
    with pytest.raises(PermissionDenied):
        team_join(actor=neighbour.user, team=team)  # not a volunteer yet
    volunteer = register(neighbour.user)
    team_join(actor=neighbour.user, team=team)
    assert list(volunteer.teams.all()) == [team]
    with pytest.raises(Conflict):
        team_join(actor=neighbour.user, team=team)
    team_leave(actor=neighbour.user, team=team)
    assert list(volunteer.teams.all()) == []


# --- social workers ------------------------------------------------------------------------


def sw_register(user, number="20194401030001", **fields):
    return social_worker_register(
        actor=user,
        data=SocialWorkerInput(
            qualification=fields.pop("qualification", Qualification.SOCIAL_WORKER),
            certificate_number=number,
            **fields,
        ),
    )


def test_a_social_worker_registers_and_is_verified_as_a_responder(
    neighbour, worker, community, django_capture_on_commit_callbacks
):
    registered = sw_register(neighbour.user, number=" 2019-4401-0300-01 ")
    assert registered.certificate_number == "20194401030001"
    assert registered.status == VolunteerStatus.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        verified = social_worker_decide(actor=worker, worker=registered, decision="verify")
    assert verified.status == VolunteerStatus.VERIFIED
    responder = Responder.objects.get(user=neighbour.user)
    assert (responder.kind, responder.region, responder.status) == (
        ResponderKind.SOCIAL_WORKER,
        community,
        ResponderStatus.ACTIVE,
    )
    assert "welfare_subsistence" in set(responder.skills.values_list("code", flat=True))
    assert RoleAssignment.objects.filter(user=neighbour.user, role=Role.SOCIAL_WORKER).exists()
    assert Notification.objects.filter(user=neighbour.user).count() == 1
    suspended = social_worker_decide(
        actor=worker, worker=verified, decision="suspend", reason="证书过期"
    )
    assert suspended.status == VolunteerStatus.SUSPENDED
    responder.refresh_from_db()
    assert responder.status == ResponderStatus.PAUSED
    assert list(social_workers_visible_to(worker)) == [suspended]


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", "Give the number printed on your certificate."),
        ("12345", "A certificate number is 8 to 20 digits"),
        ("ABCDEFG12345678", "A certificate number is 8 to 20 digits"),
    ],
)
def test_bad_certificate_numbers_are_refused_with_the_reason(neighbour, number, reason):
    with pytest.raises(ValidationFailed) as refused:
        sw_register(neighbour.user, number=number)
    assert refused.value.fields["certificate_number"][0].startswith(reason)
    assert not SocialWorker.objects.exists()


def test_a_certificate_number_belongs_to_one_person(neighbour, community):
    sw_register(neighbour.user)
    with pytest.raises(ValidationFailed) as refused:
        sw_register(resident(community, name="钱进").user, number="2019 4401 0300 01")
    assert refused.value.fields == {
        "certificate_number": ["This certificate number is already registered to someone."]
    }


def test_qualification_and_date_are_checked(neighbour):
    with pytest.raises(ValidationFailed) as refused:
        sw_register(
            neighbour.user,
            qualification="professor",
            certified_on=dt.date.today() + dt.timedelta(days=3),
        )
    assert sorted(refused.value.fields) == ["certified_on", "qualification"]
