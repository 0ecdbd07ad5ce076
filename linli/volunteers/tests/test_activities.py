"""Activities from publication to certified hours: the services and selectors.

Every refusal names the field and the reason, and leaves the time bank untouched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.directory.models import Organization
from linli.notifications.models import Notification
from linli.regions.tests.factories import region_chain
from linli.volunteers import activities as svc
from linli.volunteers.choices import (
    AccountKind,
    ActivityStatus,
    AttendanceMethod,
    DisputeStatus,
    SignupStatus,
    TransferKind,
    VolunteerStatus,
)
from linli.volunteers.ledger import community_pool, person_account, timebank_donate
from linli.volunteers.models import (
    Account,
    Activity,
    Attendance,
    HoursDispute,
    Movement,
    Signup,
    Team,
    Transfer,
    Volunteer,
)

pytestmark = pytest.mark.django_db


def worded(text: str) -> str:
    """A notification's words as sent: in the deployment's language, not the reader's."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text)


# --- fixtures (module-level helpers are shared by the API and page tests) -------------


def make_volunteer(
    community: Any, status: str = VolunteerStatus.VERIFIED, **fields: Any
) -> Volunteer:
    user = UserFactory.create()
    return Volunteer.objects.create(
        user=user,
        name=fields.pop("name", f"志愿者{user.pk}"),
        community=community,
        status=status,
        **fields,
    )


def granted(role: str, region: Any = None, organization: Any = None) -> Any:
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=role, region=region, organization=organization)
    return user


def publish(actor: Any, community: Any, **fields: Any) -> Activity:
    """An activity running now: it started 30 minutes ago and lasts three hours."""
    now = timezone.now()
    values: dict[str, Any] = {
        "title": "社区助老活动",
        "community": community,
        "address": "幸福里社区活动室",
        "starts_at": now - dt.timedelta(minutes=30),
        "ends_at": now + dt.timedelta(hours=2, minutes=30),
        "capacity": 2,
        "skills": ["elderly_visit"],
    }
    values.update(fields)
    return svc.activity_publish(actor=actor, **values)


def confirmed(activity: Activity, volunteer: Volunteer) -> Signup:
    signup = svc.signup_create(actor=volunteer.user, activity=activity)
    return svc.signup_decide(actor=activity.created_by, signup=signup, confirm=True)


def checked_in(activity: Activity, volunteer: Volunteer, *, ago: dt.timedelta) -> Attendance:
    """A confirmed volunteer who scanned in `ago` before now."""
    signup = confirmed(activity, volunteer)
    token = svc.activity_qr_token(actor=activity.created_by, activity=activity)
    attendance = svc.attendance_scan(actor=volunteer.user, token=token)
    Attendance.objects.filter(pk=attendance.pk).update(checked_in_at=timezone.now() - ago)
    return Attendance.objects.get(signup=signup)


def certified(activity: Activity, volunteer: Volunteer, hours: str = "2.5") -> Attendance:
    signup = confirmed(activity, volunteer)
    svc.attendance_record(actor=activity.created_by, signup=signup, hours=hours)
    attendance = Attendance.objects.get(signup=signup)
    return svc.attendance_certify(actor=activity.created_by, attendance=attendance)


def fields_of(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, list[str]]:
    return error.value.fields


def books() -> tuple[int, int]:
    return Transfer.objects.count(), Movement.objects.count()


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def neighbour(taxonomy):
    """The next community, about 1.1 km north."""
    return region_chain("990102001002", lat=30.01, lon=120.0)


@pytest.fixture
def faraway(taxonomy):
    return region_chain("990103001001", lat=30.5, lon=120.5)


@pytest.fixture
def worker(community):
    return granted(Role.COMMUNITY_WORKER, region=community)


@pytest.fixture
def other_worker(faraway):
    return granted(Role.COMMUNITY_WORKER, region=faraway)


@pytest.fixture
def organization(community):
    return Organization.objects.create(name="邻里社工服务中心", region=community)


@pytest.fixture
def staff(organization):
    return granted(Role.PROVIDER_STAFF, organization=organization)


@pytest.fixture
def volunteer(community):
    return make_volunteer(community, name="李志强")


@pytest.fixture
def activity(worker, community):
    return publish(worker, community)


# --- publishing -----------------------------------------------------------------------


def test_a_community_worker_publishes_an_activity(worker, community):
    starts = timezone.now() + dt.timedelta(days=2)
    activity = svc.activity_publish(
        actor=worker,
        title="  重阳节探访  ",
        description="探访独居老人",
        community=community,
        address="幸福里3号",
        latitude=30.001,
        longitude=120.002,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        capacity=5,
        skills=["elderly_visit", "elderly_meals"],
    )
    activity.refresh_from_db()
    assert activity.title == "重阳节探访"
    assert activity.status == ActivityStatus.PUBLISHED
    assert activity.created_by == worker
    assert activity.organization is None
    assert activity.capacity == 5
    assert sorted(activity.skills.values_list("code", flat=True)) == [
        "elderly_meals",
        "elderly_visit",
    ]
    assert len(activity.qr_secret) >= 40


def test_provider_staff_publish_for_their_organization_with_its_team(
    staff, organization, community
):
    team = Team.objects.create(name="助老服务队", organization=organization)
    activity = publish(staff, community, organization=organization, team=team)
    assert activity.organization == organization
    assert activity.team == team


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"title": " "}, "title", "Give the activity a title."),
        ({"address": ""}, "address", "Say where the volunteers meet."),
        ({"capacity": 0}, "capacity", "At least one person."),
        ({"skills": ["flying"]}, "skills", "Unknown skill code flying."),
        ({"latitude": 30.0}, "longitude", "Give both latitude and longitude, or neither."),
        ({"starts_at": None}, "starts_at", "Say when it starts."),
    ],
)
def test_publishing_refuses_bad_input_at_its_field(worker, community, changes, field, reason):
    with pytest.raises(ValidationFailed) as error:
        publish(worker, community, **changes)
    assert fields_of(error)[field] == [reason]
    assert Activity.objects.count() == 0


def test_publishing_refuses_an_end_before_the_start_or_in_the_past(worker, community):
    now = timezone.now()
    with pytest.raises(ValidationFailed) as error:
        publish(
            worker,
            community,
            starts_at=now + dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(hours=1),
        )
    assert fields_of(error) == {"ends_at": ["The end must be after the start."]}
    with pytest.raises(ValidationFailed) as error:
        publish(
            worker,
            community,
            starts_at=now - dt.timedelta(hours=3),
            ends_at=now - dt.timedelta(hours=1),
        )
    assert fields_of(error) == {"ends_at": ["This time is over: choose a time to come."]}
    assert Activity.objects.count() == 0


def test_only_organizers_publish(community, other_worker, volunteer, organization, worker):
    for outsider in (other_worker, volunteer.user):
        with pytest.raises(PermissionDenied):
            publish(outsider, community)
    # A community worker does not publish in an organization's name.
    with pytest.raises(PermissionDenied):
        publish(worker, community, organization=organization)
    assert Activity.objects.count() == 0


def test_a_team_of_another_community_is_refused(worker, community, neighbour):
    team = Team.objects.create(name="别处的队", community=neighbour)
    with pytest.raises(ValidationFailed) as error:
        publish(worker, community, team=team)
    assert fields_of(error) == {"team": ["This team belongs to another organization or community."]}


def test_cancelling_tells_those_signed_up_and_voids_the_code(
    activity, worker, volunteer, other_worker, django_capture_on_commit_callbacks
):
    svc.signup_create(actor=volunteer.user, activity=activity)
    token = svc.activity_qr_token(actor=worker, activity=activity)
    with pytest.raises(PermissionDenied):
        svc.activity_cancel(actor=other_worker, activity=activity, reason="下雨")
    with pytest.raises(ValidationFailed) as error:
        svc.activity_cancel(actor=worker, activity=activity, reason="")
    assert fields_of(error) == {"reason": ["Say why, for those who signed up."]}
    with django_capture_on_commit_callbacks(execute=True):
        svc.activity_cancel(actor=worker, activity=activity, reason="暴雨预警")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED
    note = Notification.objects.get(user=volunteer.user)
    assert "暴雨预警" in note.body
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token)
    assert "damaged" in fields_of(error)["token"][0]


# --- sign-up --------------------------------------------------------------------------


def test_a_verified_volunteer_signs_up_and_may_withdraw_and_come_back(activity, volunteer):
    signup = svc.signup_create(actor=volunteer.user, activity=activity)
    assert (signup.status, signup.volunteer) == (SignupStatus.APPLIED, volunteer)
    with pytest.raises(ValidationFailed) as error:
        svc.signup_create(actor=volunteer.user, activity=activity)
    assert fields_of(error) == {"activity": ["You have signed up already."]}
    assert svc.signup_withdraw(actor=volunteer.user, signup=signup).status == SignupStatus.WITHDRAWN
    again = svc.signup_create(actor=volunteer.user, activity=activity)
    assert (again.pk, again.status) == (signup.pk, SignupStatus.APPLIED)


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (VolunteerStatus.PENDING, "", "Your volunteer registration is waiting for verification."),
        (VolunteerStatus.SUSPENDED, "未按时到岗", "Your volunteering is suspended: 未按时到岗"),
        (VolunteerStatus.REJECTED, "", "Your volunteer registration was not verified."),
    ],
)
def test_only_verified_volunteers_sign_up(activity, community, status, reason, expected):
    someone = make_volunteer(community, status=status, status_reason=reason)
    with pytest.raises(ValidationFailed) as error:
        svc.signup_create(actor=someone.user, activity=activity)
    assert fields_of(error) == {"volunteer": [expected]}
    assert Signup.objects.count() == 0


def test_a_non_volunteer_is_told_to_register(activity):
    with pytest.raises(ValidationFailed) as error:
        svc.signup_create(actor=UserFactory.create(), activity=activity)
    assert fields_of(error) == {"volunteer": ["Register as a volunteer first."]}


def test_the_organizer_confirms_within_capacity(
    activity, worker, community, django_capture_on_commit_callbacks
):
    people = [make_volunteer(community) for _ in range(3)]
    signups = [svc.signup_create(actor=p.user, activity=activity) for p in people]
    with django_capture_on_commit_callbacks(execute=True):
        first = svc.signup_decide(actor=worker, signup=signups[0], confirm=True)
    assert (first.status, first.decided_by) == (SignupStatus.CONFIRMED, worker)
    assert first.decided_at is not None
    assert Notification.objects.get(user=people[0].user).title == worded("Sign-up confirmed")
    svc.signup_decide(actor=worker, signup=signups[1], confirm=True)
    with pytest.raises(ValidationFailed) as error:
        svc.signup_decide(actor=worker, signup=signups[2], confirm=True)
    assert fields_of(error) == {
        "signup": ["All 2 places are taken: decline someone first or stay at 2."]
    }
    assert Signup.objects.get(pk=signups[2].pk).status == SignupStatus.APPLIED
    declined = svc.signup_decide(actor=worker, signup=signups[2], confirm=False)
    assert declined.status == SignupStatus.DECLINED
    with pytest.raises(ValidationFailed) as error:
        svc.signup_decide(actor=worker, signup=signups[2], confirm=True)
    assert fields_of(error) == {"signup": ["This sign-up is not waiting for a decision."]}
    # Full: nobody else signs up, and the declined volunteer cannot come back.
    with pytest.raises(ValidationFailed) as error:
        svc.signup_create(actor=make_volunteer(community).user, activity=activity)
    assert fields_of(error) == {"activity": ["All places are taken."]}


def test_only_organizers_decide(activity, volunteer, other_worker):
    signup = svc.signup_create(actor=volunteer.user, activity=activity)
    for outsider in (volunteer.user, other_worker):
        with pytest.raises(PermissionDenied):
            svc.signup_decide(actor=outsider, signup=signup, confirm=True)
    assert Signup.objects.get(pk=signup.pk).status == SignupStatus.APPLIED


def test_only_the_volunteer_withdraws_and_not_after_checking_in(activity, volunteer, worker):
    attendance = checked_in(activity, volunteer, ago=dt.timedelta(minutes=5))
    with pytest.raises(PermissionDenied):
        svc.signup_withdraw(actor=worker, signup=attendance.signup)
    with pytest.raises(ValidationFailed) as error:
        svc.signup_withdraw(actor=volunteer.user, signup=attendance.signup)
    assert fields_of(error) == {"signup": ["You have already checked in: ask the organizer."]}


# --- QR attendance ----------------------------------------------------------------------


def test_scanning_checks_in_then_out_with_the_hours(activity, worker, volunteer):
    signup = confirmed(activity, volunteer)
    now = timezone.now().replace(microsecond=0)
    token = svc.activity_qr_token(actor=worker, activity=activity, now=now)
    found, issued, shown_by = svc.qr_read(token)
    assert (found, shown_by, issued) == (activity, worker, now)
    attendance = svc.attendance_scan(actor=volunteer.user, token=token)
    assert attendance.method == AttendanceMethod.QR
    assert attendance.recorded_by == worker
    assert attendance.checked_out_at is None
    assert attendance.hours is None
    # A second scan at once is a double tap, refused with the time of the check-in.
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token)
    local = timezone.localtime(attendance.checked_in_at).strftime("%H:%M")
    assert fields_of(error) == {
        "token": [f"You checked in at {local} already. Scan again when you leave."]
    }
    # Two and a half hours later (2 h 31 min rounds to 2.5).
    Attendance.objects.filter(pk=attendance.pk).update(
        checked_in_at=timezone.now() - dt.timedelta(hours=2, minutes=31)
    )
    out = svc.attendance_scan(actor=volunteer.user, token=token)
    assert out.checked_out_at is not None
    assert out.hours == Decimal("2.50")
    assert Attendance.objects.get(signup=signup).hours == Decimal("2.50")
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token)
    assert fields_of(error)["token"][0].startswith("You already checked in and out")
    assert books() == (0, 0)


def test_hours_never_exceed_the_activity_span(activity, worker, volunteer):
    attendance = checked_in(activity, volunteer, ago=dt.timedelta(hours=5))
    token = svc.activity_qr_token(actor=worker, activity=activity)
    out = svc.attendance_scan(actor=volunteer.user, token=token)
    assert out.hours == Decimal("3.00")
    assert attendance.pk == out.pk


def test_a_code_of_another_activity_is_refused(activity, worker, community, volunteer):
    other = publish(worker, community, title="另一个活动")
    confirmed(activity, volunteer)
    token = svc.activity_qr_token(actor=worker, activity=other)
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token, activity=activity)
    assert fields_of(error) == {
        "token": ["This code belongs to another activity: scan the code shown at this one."]
    }
    # Opened on its own, the other activity's code finds the volunteer not confirmed there.
    with pytest.raises(PermissionDenied) as denied:
        svc.attendance_scan(actor=volunteer.user, token=token)
    assert denied.value.message == (
        "You are not confirmed for this activity: sign up and wait for the organizer."
    )
    assert Attendance.objects.count() == 0


def test_an_expired_code_is_refused(activity, worker, volunteer):
    confirmed(activity, volunteer)
    old = timezone.now() - dt.timedelta(minutes=11)
    token = svc.activity_qr_token(actor=worker, activity=activity, now=old)
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token)
    assert fields_of(error) == {
        "token": ["This code has expired: scan the code shown on the screen now."]
    }
    assert Attendance.objects.count() == 0


def test_a_tampered_code_is_refused(activity, worker, community, volunteer):
    confirmed(activity, volunteer)
    token = svc.activity_qr_token(actor=worker, activity=activity)
    other = publish(worker, community, title="另一个活动")
    _head, rest = token.split(".", 1)
    damaged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        f"{other.pk}.{rest}",
        "garbage",
        f"{activity.pk}.",
        "999999.abc:def",
    ]
    for bad in damaged:
        with pytest.raises(ValidationFailed) as error:
            svc.attendance_scan(actor=volunteer.user, token=bad)
        assert fields_of(error) == {
            "token": [
                "This code is not valid: it is damaged or was changed. "
                "Scan the code shown at the site."
            ]
        }, bad
    assert Attendance.objects.count() == 0


def test_checking_out_before_checking_in_is_refused(activity, worker, volunteer):
    confirmed(activity, volunteer)
    token = svc.activity_qr_token(actor=worker, activity=activity)
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token, direction="out")
    assert fields_of(error) == {"direction": ["You have not checked in yet: check in first."]}
    svc.attendance_scan(actor=volunteer.user, token=token, direction="in")
    Attendance.objects.update(checked_in_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token, direction="in")
    assert fields_of(error)["token"][0].startswith("You checked in at ")
    assert Attendance.objects.get().checked_out_at is None


def test_only_confirmed_volunteers_check_in(activity, worker, volunteer):
    svc.signup_create(actor=volunteer.user, activity=activity)
    token = svc.activity_qr_token(actor=worker, activity=activity)
    for someone in (volunteer.user, UserFactory.create()):
        with pytest.raises(PermissionDenied):
            svc.attendance_scan(actor=someone, token=token)
    assert Attendance.objects.count() == 0


def test_a_code_outside_the_activity_time_is_refused(worker, community, volunteer):
    later = timezone.now() + dt.timedelta(days=1)
    activity = publish(worker, community, starts_at=later, ends_at=later + dt.timedelta(hours=2))
    with pytest.raises(ValidationFailed) as error:
        svc.activity_qr_token(actor=worker, activity=activity)
    assert list(fields_of(error)) == ["activity"]
    assert fields_of(error)["activity"][0].startswith("The code is shown from ")
    # A code shown during the activity stops working an hour after its end.
    running = publish(worker, community)
    confirmed(running, volunteer)
    token = svc.activity_qr_token(actor=worker, activity=running)
    now = timezone.now()
    Activity.objects.filter(pk=running.pk).update(
        starts_at=now - dt.timedelta(hours=4), ends_at=now - dt.timedelta(minutes=61)
    )
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token)
    assert fields_of(error) == {
        "token": ["This activity is over: ask the organizer to record your hours."]
    }


def test_a_code_only_organizers_may_show(activity, volunteer, other_worker):
    for outsider in (volunteer.user, other_worker):
        with pytest.raises(PermissionDenied):
            svc.activity_qr_token(actor=outsider, activity=activity)


def test_a_scan_over_a_day_is_refused(worker, community, volunteer):
    now = timezone.now()
    long = publish(
        worker,
        community,
        starts_at=now - dt.timedelta(hours=26),
        ends_at=now + dt.timedelta(hours=4),
    )
    checked_in(long, volunteer, ago=dt.timedelta(hours=25))
    token = svc.activity_qr_token(actor=worker, activity=long)
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_scan(actor=volunteer.user, token=token)
    assert fields_of(error) == {
        "hours": ["More than a day: at most 24 hours are recorded for one attendance."]
    }
    assert Attendance.objects.get().checked_out_at is None


# --- the organizer's record -------------------------------------------------------------


def test_the_organizer_records_times_and_the_hours_follow(worker, community, volunteer):
    now = timezone.now()
    activity = publish(
        worker,
        community,
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=1),
    )
    signup = confirmed(activity, volunteer)
    start = activity.starts_at
    attendance = svc.attendance_record(
        actor=worker,
        signup=signup,
        checked_in_at=start,
        checked_out_at=start + dt.timedelta(hours=1, minutes=20),
    )
    assert attendance.method == AttendanceMethod.ORGANIZER
    assert attendance.recorded_by == worker
    assert attendance.hours == Decimal("1.25")
    assert attendance.certified_by is None


def test_the_organizer_records_hours_directly_over_a_qr_check_in(
    activity, worker, volunteer, staff
):
    attendance = checked_in(activity, volunteer, ago=dt.timedelta(minutes=20))
    recorded = svc.attendance_record(actor=worker, signup=attendance.signup, hours="1.3")
    assert recorded.pk == attendance.pk
    assert recorded.hours == Decimal("1.25")
    assert recorded.checked_in_at == attendance.checked_in_at
    assert (recorded.method, recorded.recorded_by) == (AttendanceMethod.ORGANIZER, worker)


@pytest.mark.parametrize(
    ("given", "field", "reason"),
    [
        ({"checked_out_at": -1}, "checked_out_at", "Check-out must be after check-in."),
        (
            {"hours": "25"},
            "hours",
            "More than a day: at most 24 hours are recorded for one attendance.",
        ),
        ({"hours": "4"}, "hours", "The activity lasted 3.00 hours; no more can be recorded."),
        ({"hours": "0"}, "hours", "Hours must be more than zero."),
        ({"hours": "many"}, "hours", "Give the hours as a number."),
        ({}, "checked_in_at", "Give the check-in time, or the hours."),
        ({"checked_out_at": 120}, "checked_out_at", "This time has not come yet."),
    ],
)
def test_recording_refuses_bad_input(activity, worker, volunteer, given, field, reason):
    signup = confirmed(activity, volunteer)
    values: dict[str, Any] = dict(given)
    if "checked_out_at" in values:
        values["checked_in_at"] = activity.starts_at + dt.timedelta(minutes=10)
        values["checked_out_at"] = activity.starts_at + dt.timedelta(
            minutes=values["checked_out_at"]
        )
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_record(actor=worker, signup=signup, **values)
    assert fields_of(error) == {field: [reason]}
    assert Attendance.objects.count() == 0
    assert books() == (0, 0)


def test_recording_needs_an_organizer_and_a_confirmed_sign_up(
    activity, worker, volunteer, other_worker
):
    signup = svc.signup_create(actor=volunteer.user, activity=activity)
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_record(actor=worker, signup=signup, hours="1")
    assert fields_of(error) == {"signup": ["Only a confirmed sign-up's attendance is recorded."]}
    svc.signup_decide(actor=worker, signup=signup, confirm=True)
    for outsider in (volunteer.user, other_worker):
        with pytest.raises(PermissionDenied):
            svc.attendance_record(actor=outsider, signup=signup, hours="1")
    assert Attendance.objects.count() == 0


# --- certification ----------------------------------------------------------------------


def test_certifying_credits_the_time_bank_and_keeps_who_recorded_and_certified(
    activity, worker, staff, volunteer, community, django_capture_on_commit_callbacks
):
    attendance = checked_in(activity, volunteer, ago=dt.timedelta(hours=2, minutes=31))
    token = svc.activity_qr_token(actor=worker, activity=activity)
    svc.attendance_scan(actor=volunteer.user, token=token)
    other_certifier = granted(Role.COMMUNITY_WORKER, region=community)
    with django_capture_on_commit_callbacks(execute=True):
        done = svc.attendance_certify(actor=other_certifier, attendance=attendance)
    assert (done.recorded_by, done.certified_by) == (worker, other_certifier)
    assert done.certified_at is not None
    transfer = done.transfer
    assert transfer is not None
    assert transfer.kind == TransferKind.ACTIVITY_HOURS
    assert (transfer.activity_id, transfer.earned_by_id, transfer.created_by_id) == (
        activity.pk,
        volunteer.user_id,
        other_certifier.pk,
    )
    assert transfer.memo == "Activity: 社区助老活动" or transfer.memo == "活动：社区助老活动"
    assert person_account(volunteer.user).balance == Decimal("2.50")
    note = Notification.objects.get(user=volunteer.user, title=worded("Hours certified"))
    assert note.link == "/activities/mine/"
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_certify(actor=worker, attendance=attendance)
    assert fields_of(error) == {"attendance": ["These hours are certified already."]}
    assert Transfer.objects.count() == 1


def test_certifying_refuses_missing_hours_and_outsiders(activity, worker, volunteer, other_worker):
    attendance = checked_in(activity, volunteer, ago=dt.timedelta(minutes=30))
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_certify(actor=worker, attendance=attendance)
    assert fields_of(error) == {
        "hours": ["No hours to certify yet: record the check-out or the hours."]
    }
    svc.attendance_record(actor=worker, signup=attendance.signup, hours="1")
    for outsider in (volunteer.user, other_worker):
        with pytest.raises(PermissionDenied):
            svc.attendance_certify(actor=outsider, attendance=attendance)
    assert books() == (0, 0)
    assert Attendance.objects.get().certified_by is None


def test_certify_all_certifies_what_has_hours(activity, worker, community):
    first, second = make_volunteer(community), make_volunteer(community)
    svc.attendance_record(actor=worker, signup=confirmed(activity, first), hours="2")
    checked_in(activity, second, ago=dt.timedelta(minutes=10))
    done = svc.attendance_certify_all(actor=worker, activity=activity)
    assert [a.signup.volunteer for a in done] == [first]
    assert person_account(first.user).balance == Decimal("2.00")
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_certify_all(actor=worker, activity=activity)
    assert fields_of(error) == {
        "attendance": ["Nothing to certify: no uncertified hours are recorded."]
    }


def test_hours_above_the_cap_go_to_the_community_pool(
    activity, worker, volunteer, community, settings
):
    settings.LINLI_TIMEBANK_CAP_HOURS = 1
    certified(activity, volunteer, hours="2.5")
    assert person_account(volunteer.user).balance == Decimal("1.00")
    assert community_pool(community).balance == Decimal("1.50")


def test_recording_after_certification_is_refused(activity, worker, volunteer):
    attendance = certified(activity, volunteer)
    with pytest.raises(ValidationFailed) as error:
        svc.attendance_record(actor=worker, signup=attendance.signup, hours="1")
    assert fields_of(error) == {
        "attendance": ["These hours are certified already; the volunteer may dispute them."]
    }


# --- disputes ---------------------------------------------------------------------------


def test_an_upheld_dispute_reverses_and_credits_the_corrected_hours(
    activity, worker, volunteer, django_capture_on_commit_callbacks
):
    attendance = certified(activity, volunteer, hours="2")
    old = attendance.transfer
    with django_capture_on_commit_callbacks(execute=True):
        dispute = svc.dispute_raise(
            actor=volunteer.user, attendance=attendance, claimed_hours="3", reason="我待到了最后"
        )
    assert (dispute.status, dispute.claimed_hours) == (DisputeStatus.OPEN, Decimal("3.00"))
    assert Notification.objects.filter(user=worker).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        answered = svc.dispute_answer(actor=worker, dispute=dispute, upheld=True, answer="核实属实")
    assert (answered.status, answered.answer, answered.answered_by) == (
        DisputeStatus.UPHELD,
        "核实属实",
        worker,
    )
    attendance.refresh_from_db()
    assert attendance.hours == Decimal("3.00")
    assert attendance.transfer != old
    assert Transfer.objects.get(reverses=old).kind == TransferKind.REVERSAL
    assert person_account(volunteer.user).balance == Decimal("3.00")
    body = Notification.objects.get(
        user=volunteer.user, key=f"activity-dispute-answer:{dispute.pk}"
    ).body
    assert "核实属实" in body


def test_a_rejected_dispute_keeps_the_hours_and_the_answer(activity, worker, volunteer):
    attendance = certified(activity, volunteer, hours="2")
    dispute = svc.dispute_raise(
        actor=volunteer.user, attendance=attendance, claimed_hours="2.75", reason="少算了"
    )
    before = books()
    answered = svc.dispute_answer(
        actor=worker, dispute=dispute, upheld=False, answer="签到记录为两小时"
    )
    assert (answered.status, answered.answer) == (DisputeStatus.REJECTED, "签到记录为两小时")
    assert books() == before
    assert person_account(volunteer.user).balance == Decimal("2.00")
    with pytest.raises(ValidationFailed) as error:
        svc.dispute_answer(actor=worker, dispute=dispute, upheld=True, answer="改判")
    assert fields_of(error) == {"dispute": ["This dispute is answered already."]}


def test_disputes_refuse_bad_input(activity, worker, volunteer, community):
    signup = confirmed(activity, volunteer)
    attendance = svc.attendance_record(actor=worker, signup=signup, hours="2")
    with pytest.raises(ValidationFailed) as error:
        svc.dispute_raise(
            actor=volunteer.user, attendance=attendance, claimed_hours="3", reason="x"
        )
    assert fields_of(error)["attendance"] == [
        "These hours are not certified yet: tell the organizer before they are."
    ]
    attendance = svc.attendance_certify(actor=worker, attendance=attendance)
    with pytest.raises(PermissionDenied):
        svc.dispute_raise(
            actor=make_volunteer(community).user,
            attendance=attendance,
            claimed_hours="3",
            reason="不对",
        )
    cases = [
        (
            {"claimed_hours": "2", "reason": "不对"},
            "claimed_hours",
            "These are the hours certified already.",
        ),
        (
            {"claimed_hours": "30", "reason": "不对"},
            "claimed_hours",
            "More than a day: at most 24 hours are recorded for one attendance.",
        ),
        (
            {"claimed_hours": "-1", "reason": "不对"},
            "claimed_hours",
            "Hours must be more than zero.",
        ),
        ({"claimed_hours": "3", "reason": " "}, "reason", "Say why the hours are wrong."),
    ]
    for given, field, reason in cases:
        with pytest.raises(ValidationFailed) as error:
            svc.dispute_raise(actor=volunteer.user, attendance=attendance, **given)
        assert fields_of(error) == {field: [reason]}
    svc.dispute_raise(actor=volunteer.user, attendance=attendance, claimed_hours="3", reason="不对")
    with pytest.raises(ValidationFailed) as error:
        svc.dispute_raise(
            actor=volunteer.user, attendance=attendance, claimed_hours="2.5", reason="不对"
        )
    assert fields_of(error) == {
        "attendance": ["A dispute about these hours is waiting for an answer."]
    }
    assert HoursDispute.objects.count() == 1


def test_disputes_close_after_thirty_days(activity, worker, volunteer):
    attendance = certified(activity, volunteer)
    Attendance.objects.filter(pk=attendance.pk).update(
        certified_at=timezone.now() - dt.timedelta(days=31)
    )
    with pytest.raises(ValidationFailed) as error:
        svc.dispute_raise(
            actor=volunteer.user, attendance=attendance, claimed_hours="3", reason="不对"
        )
    assert fields_of(error) == {
        "attendance": ["Hours can be disputed within 30 days of certification."]
    }


def test_only_organizers_answer_and_an_answer_is_needed(activity, worker, volunteer, other_worker):
    attendance = certified(activity, volunteer, hours="2")
    dispute = svc.dispute_raise(
        actor=volunteer.user, attendance=attendance, claimed_hours="3", reason="不对"
    )
    for outsider in (volunteer.user, other_worker):
        with pytest.raises(PermissionDenied):
            svc.dispute_answer(actor=outsider, dispute=dispute, upheld=True, answer="好")
    with pytest.raises(ValidationFailed) as error:
        svc.dispute_answer(actor=worker, dispute=dispute, upheld=True, answer="")
    assert fields_of(error) == {"answer": ["Write an answer the volunteer can read."]}
    assert HoursDispute.objects.get().status == DisputeStatus.OPEN


def test_upholding_is_refused_when_the_hours_were_spent(activity, worker, volunteer, community):
    attendance = certified(activity, volunteer, hours="2")
    timebank_donate(
        source=person_account(volunteer.user),
        target=community_pool(community),
        amount=Decimal("2"),
        actor=volunteer.user,
    )
    dispute = svc.dispute_raise(
        actor=volunteer.user, attendance=attendance, claimed_hours="1", reason="多算了"
    )
    before = books()
    with pytest.raises(ValidationFailed) as error:
        svc.dispute_answer(actor=worker, dispute=dispute, upheld=True, answer="改为一小时")
    assert list(fields_of(error)) == ["hours"]
    assert books() == before
    assert HoursDispute.objects.get().status == DisputeStatus.OPEN
    assert Attendance.objects.get().hours == Decimal("2.00")


# --- selectors --------------------------------------------------------------------------


def test_activities_near_a_volunteer(
    worker, community, neighbour, faraway, other_worker, volunteer
):
    here = publish(worker, community, title="本社区")
    next_door = publish(granted(Role.COMMUNITY_WORKER, region=neighbour), neighbour, title="隔壁")
    far = publish(other_worker, faraway, title="远处")
    cancelled = publish(worker, community, title="取消")
    svc.activity_cancel(actor=worker, activity=cancelled, reason="取消了")
    found = list(svc.activities_near(volunteer))
    assert here in found
    assert next_door in found
    assert far not in found
    assert cancelled not in found
    Volunteer.objects.filter(pk=volunteer.pk).update(radius_km=Decimal("0.5"))
    volunteer.refresh_from_db()
    assert list(svc.activities_near(volunteer)) == [here]


def test_activities_organized_by_follow_may_organize(
    worker, staff, organization, community, other_worker
):
    mine = publish(worker, community, title="社区的")
    theirs = publish(staff, community, title="机构的", organization=organization)
    assert set(svc.activities_organized_by(worker)) == {mine, theirs}
    assert set(svc.activities_organized_by(staff)) == {theirs}
    assert list(svc.activities_organized_by(other_worker)) == []


def test_a_volunteers_activities_with_attendance_and_hours(activity, worker, volunteer, community):
    certified(activity, volunteer, hours="2.5")
    later = publish(
        worker,
        community,
        title="下一次",
        starts_at=timezone.now() + dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=1, hours=2),
    )
    svc.signup_create(actor=volunteer.user, activity=later)
    rows = list(svc.signups_of_volunteer(volunteer))
    assert [r.activity for r in rows] == [later, activity]
    assert rows[1].attendance.hours == Decimal("2.50")
    assert svc.certified_activity_hours(volunteer) == Decimal("2.50")
    assert Account.objects.filter(
        kind=AccountKind.PERSON, user=volunteer.user
    ).get().balance == Decimal("2.50")
