"""The demo's volunteers, activities and time bank: linked to the requests demo's people,
books that add up, stars that follow the thresholds, and demo_volunteer ready to show."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from linli.accounts.models import RoleAssignment, User
from linli.regions.models import Region
from linli.requests.choices import OPEN_STATES, Action, ResponderKind, State
from linli.requests.models import RequestEvent, Responder
from linli.residents.models import Relation, Resident, age_on
from linli.volunteers.choices import (
    AccountKind,
    ActivityStatus,
    AttendanceMethod,
    AwardStatus,
    ChallengeStatus,
    DisputeStatus,
    Qualification,
    RedemptionStatus,
    SignupStatus,
    TransferKind,
    VolunteerStatus,
)
from linli.volunteers.honours import level_for, star_thresholds
from linli.volunteers.models import (
    Account,
    Activity,
    Attendance,
    HoursDispute,
    Movement,
    Redemption,
    Signup,
    SocialWorker,
    StarAward,
    StarChallenge,
    Team,
    Transfer,
    Volunteer,
)

pytestmark = pytest.mark.django_db

DISTRICT = "990102"


def one(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_volunteers_are_residents_and_the_requests_demos_responders(demo):
    residents = Resident.objects.filter(community__code__startswith=DISTRICT).count()
    volunteers = Volunteer.objects.select_related("user", "resident", "responder", "community")
    assert 0.12 * residents <= volunteers.count() <= 0.15 * residents
    statuses = Counter(volunteers.values_list("status", flat=True))
    assert statuses[VolunteerStatus.VERIFIED] > 0.85 * volunteers.count()
    assert statuses[VolunteerStatus.PENDING] >= 1
    today = timezone.localdate()
    for volunteer in volunteers:
        assert volunteer.name == volunteer.user.display_name
        assert volunteer.community.level == "community"
        assert volunteer.skills.exists()
        if volunteer.user.username != "demo_volunteer":
            assert not volunteer.user.has_usable_password()
        if volunteer.resident is not None:
            assert volunteer.resident.user_id == volunteer.user_id
            assert volunteer.resident.community_id == volunteer.community_id
            assert volunteer.resident.name == volunteer.name
            assert 17 <= (age_on(volunteer.resident.birth_date, today) or 0) <= 76
        if volunteer.status == VolunteerStatus.VERIFIED:
            responder = volunteer.responder
            assert responder is not None
            assert (responder.kind, responder.user_id) == (
                ResponderKind.VOLUNTEER,
                volunteer.user_id,
            )
            assert responder.region_id == volunteer.community_id
            assert volunteer.verified_at is not None
            assert RoleAssignment.objects.filter(
                user=volunteer.user, role="volunteer", region=volunteer.community
            ).exists()
        else:
            assert volunteer.responder is None
            assert volunteer.verified_at is None
    # Every volunteer responder the requests demo dispatched is one of them, and the hours
    # of the requests they delivered went to that volunteer's account.
    for responder in Responder.objects.filter(kind=ResponderKind.VOLUNTEER):
        assert Volunteer.objects.filter(responder=responder, user=responder.user).exists()
    assert Volunteer.objects.filter(user__username__regex=r"^vol_[0-9]{4}$").count() == (
        volunteers.count() - 1
    )
    teams = Team.objects.all()
    streets = Region.objects.filter(code__startswith=DISTRICT, level="street")
    for street in streets:
        assert teams.filter(community__parent=street).exists()
    assert teams.filter(organization__kind="social_organization").count() >= 3
    workers = SocialWorker.objects.all()
    assert workers.count() >= 2 * streets.count()
    assert set(workers.values_list("qualification", flat=True)) <= set(Qualification.values)
    for number in workers.values_list("certificate_number", flat=True):
        assert re.fullmatch(r"[A-Z]{0,4}\d{8,20}", number)
    assert workers.filter(user__username="demo_social_worker", status="verified").exists()


def test_a_year_of_activities_with_attendance_recorded_and_certified(demo):
    now = timezone.now()
    activities = Activity.objects.all()
    past = activities.filter(ends_at__lte=now, ends_at__gte=now - dt.timedelta(days=365))
    streets = Region.objects.filter(code__startswith=DISTRICT, level="street")
    for street in streets:
        assert past.filter(community__parent=street, organization=None).count() >= 20
    assert past.filter(organization__isnull=False).exists()
    assert activities.filter(starts_at__gt=now, status=ActivityStatus.PUBLISHED).exists()
    assert activities.filter(status=ActivityStatus.CLOSED).count() > 0.8 * past.count()
    counted = activities.annotate(
        confirmed=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED))
    ).select_related("team")
    for row in counted:
        assert row.confirmed <= row.capacity
        if row.organization_id is None:
            assert row.team is None or row.team.community_id == row.community_id
        else:
            assert row.team is None or row.team.organization_id == row.organization_id
        assert row.created_at <= now
    for signup in Signup.objects.exclude(status=SignupStatus.APPLIED).select_related("activity"):
        assert signup.decided_by_id == signup.activity.created_by_id or (
            signup.status == SignupStatus.WITHDRAWN and signup.decided_by_id is None
        )
    attendance = Attendance.objects.select_related("signup__activity", "signup__volunteer")
    methods = Counter(attendance.values_list("method", flat=True))
    assert methods[AttendanceMethod.QR] > methods[AttendanceMethod.ORGANIZER] > 0
    for item in attendance:
        activity = item.signup.activity
        assert item.signup.status == SignupStatus.CONFIRMED
        assert item.recorded_by_id == activity.created_by_id
        assert activity.starts_at - dt.timedelta(minutes=30) <= item.checked_in_at <= now
        if item.checked_out_at is None:
            assert item.hours is None
            assert activity.ends_at > now
            continue
        span = Decimal((activity.ends_at - activity.starts_at).total_seconds()) / 3600
        assert item.hours is not None
        assert 0 < item.hours <= span
        if item.certified_at is None:
            assert item.transfer is None
            continue
        assert item.certified_by_id == activity.created_by_id
        transfer = item.transfer
        assert transfer is not None
        assert (transfer.kind, transfer.activity_id) == (TransferKind.ACTIVITY_HOURS, activity.pk)
        assert transfer.earned_by_id == item.signup.volunteer.user_id
        issued = transfer.movements.get(account__kind=AccountKind.ISSUANCE).amount
        assert -issued == item.hours
    disputes = Counter(HoursDispute.objects.values_list("status", flat=True))
    assert disputes[DisputeStatus.OPEN] >= 1
    assert disputes[DisputeStatus.UPHELD] + disputes[DisputeStatus.REJECTED] >= 1
    for dispute in HoursDispute.objects.exclude(status=DisputeStatus.OPEN):
        assert dispute.answered_by_id == dispute.attendance.signup.activity.created_by_id
        assert dispute.answer
    for dispute in HoursDispute.objects.filter(status=DisputeStatus.UPHELD):
        corrected = dispute.attendance
        assert corrected.hours == dispute.claimed_hours
        assert Transfer.objects.filter(
            kind=TransferKind.REVERSAL, activity=corrected.signup.activity_id
        ).exists()


def test_the_books_add_up(demo):
    assert Movement.objects.exists()
    assert Movement.objects.aggregate(total=Sum("amount"))["total"] == 0
    drifted = one(
        """SELECT a.id FROM volunteers_account a LEFT JOIN (
               SELECT account_id, sum(amount) AS total FROM volunteers_movement
               GROUP BY account_id) s ON s.account_id = a.id
           WHERE round(a.balance - coalesce(s.total, 0), 2) <> 0"""
    )
    assert drifted == []
    unbalanced = one(
        """SELECT t.id FROM volunteers_transfer t
           LEFT JOIN volunteers_movement m ON m.transfer_id = t.id GROUP BY t.id, t.legs
           HAVING count(m.id) <> t.legs OR round(coalesce(sum(m.amount), 0), 2) <> 0"""
    )
    assert unbalanced == []
    assert not Account.objects.exclude(kind=AccountKind.ISSUANCE).filter(balance__lt=0).exists()
    cap = Decimal(settings.LINLI_TIMEBANK_CAP_HOURS)
    assert not Account.objects.filter(kind=AccountKind.PERSON, balance__gt=cap).exists()
    kinds = Counter(Transfer.objects.values_list("kind", flat=True))
    for kind in (
        TransferKind.ACTIVITY_HOURS,
        TransferKind.REQUEST_HOURS,
        TransferKind.DONATION,
        TransferKind.REDEMPTION_HOLD,
        TransferKind.REDEMPTION_SETTLE,
    ):
        assert kinds[kind] >= 1, kind
    # Hours for requests: once each, when the person served confirmed a delivery, within
    # the bounds, to the volunteer (or organization) who delivered it.
    low = Decimal(str(settings.LINLI_REQUEST_HOURS_MIN))
    high = Decimal(str(settings.LINLI_REQUEST_HOURS_MAX))
    confirmed = dict(
        RequestEvent.objects.filter(action=Action.CONFIRM).values_list("request_id", "at")
    )
    credited = Transfer.objects.filter(kind=TransferKind.REQUEST_HOURS).select_related(
        "request__responder"
    )
    assert len({t.request_id for t in credited}) == credited.count()
    for transfer in credited:
        request = transfer.request
        assert request is not None
        assert transfer.created_at == confirmed[request.pk]
        issued = -transfer.movements.get(account__kind=AccountKind.ISSUANCE).amount
        assert low <= issued <= high
        responder = request.responder
        assert responder is not None
        if responder.kind == ResponderKind.VOLUNTEER:
            assert transfer.earned_by_id == responder.user_id
        else:
            assert responder.kind == ResponderKind.ORGANIZATION
            assert transfer.movements.filter(
                account__organization=responder.organization_id
            ).exists()
    for transfer in Transfer.objects.filter(kind=TransferKind.DONATION).prefetch_related(
        "movements__account"
    ):
        targets = [m.account.kind for m in transfer.movements.all() if m.amount > 0]
        assert targets == [AccountKind.COMMUNITY_POOL]


def test_redemptions_are_for_parents_aged_60_and_follow_their_requests(demo):
    redemptions = Redemption.objects.select_related(
        "account__user", "beneficiary", "request", "hold", "settlement"
    )
    statuses = Counter(redemptions.values_list("status", flat=True))
    assert statuses[RedemptionStatus.SETTLED] >= 2
    assert statuses[RedemptionStatus.RELEASED] + statuses[RedemptionStatus.HELD] >= 1
    for redemption in redemptions:
        payer = redemption.account.user
        assert payer is not None
        child = Resident.objects.get(user=payer)
        assert Relation.objects.filter(
            resident=child, person=redemption.beneficiary, kind="parent"
        ).exists()
        asked = redemption.request.created_at
        assert (age_on(redemption.beneficiary.birth_date, asked.date()) or 0) >= 60
        assert redemption.request.requested_by_id == payer.pk
        assert redemption.created_by_id == payer.pk
        assert (redemption.hold.kind, redemption.hold.request_id) == (
            TransferKind.REDEMPTION_HOLD,
            redemption.request_id,
        )
        assert redemption.hold.created_at == asked
        state = redemption.request.state
        settled = redemption.request.events.filter(action=Action.CONFIRM).exists()
        kind = redemption.settlement.kind if redemption.settlement else None
        if redemption.status == RedemptionStatus.SETTLED:
            assert settled
            assert kind == TransferKind.REDEMPTION_SETTLE
        elif redemption.status == RedemptionStatus.RELEASED:
            assert state in (State.CANCELLED, State.REJECTED, State.CLOSED)
            assert not settled
            assert kind == TransferKind.REDEMPTION_RELEASE
        else:
            assert state in OPEN_STATES
            assert redemption.settlement is None
    held = redemptions.filter(status=RedemptionStatus.HELD).aggregate(total=Sum("hours"))
    assert Account.objects.get(kind=AccountKind.HELD).balance == (held["total"] or 0)
    spent = redemptions.filter(status=RedemptionStatus.SETTLED).aggregate(total=Sum("hours"))
    assert Account.objects.get(kind=AccountKind.SPENT).balance == spent["total"]


def test_stars_follow_the_thresholds(demo):
    thresholds = star_thresholds()
    now = timezone.now()
    earned_now: dict[int, Decimal] = defaultdict(Decimal)
    earned_before: dict[int, Decimal] = defaultdict(Decimal)
    rows = Movement.objects.filter(
        account__kind=AccountKind.ISSUANCE, transfer__earned_by__isnull=False
    ).values_list("transfer__earned_by", "transfer__created_at", "amount")
    for user, at, amount in rows:
        earned_now[user] -= amount
        # The daily job has run within the last day (and the demo's present is on the hour).
        if at <= now - dt.timedelta(hours=26):
            earned_before[user] -= amount
    awards = StarAward.objects.exclude(status=AwardStatus.WITHDRAWN).select_related("volunteer")
    top: dict[int, int] = defaultdict(int)
    for award in awards:
        user = award.volunteer.user_id
        top[user] = max(top[user], award.level)
        assert thresholds[award.level - 1] <= award.hours <= earned_now[user]
        assert award.created_at <= now
        if award.status == AwardStatus.AWARDED:
            assert award.notice_until < timezone.localdate()
            assert award.decided_at is not None
        else:
            assert award.notice_until >= timezone.localdate()
            assert award.decided_at is None
    for volunteer in Volunteer.objects.filter(status=VolunteerStatus.VERIFIED):
        user = volunteer.user_id
        assert level_for(earned_before[user]) <= top[user] <= level_for(earned_now[user])
    statuses = Counter(awards.values_list("status", flat=True))
    assert statuses[AwardStatus.NOTICE] >= 1
    challenge = StarChallenge.objects.get()
    assert challenge.status == ChallengeStatus.OPEN
    assert challenge.award.status == AwardStatus.NOTICE
    assert challenge.raised_by_id != challenge.award.volunteer.user_id


def test_demo_volunteer_is_ready_to_show(demo):
    user = User.objects.get(username="demo_volunteer")
    home = RoleAssignment.objects.get(user=user, role="volunteer").region
    volunteer = Volunteer.objects.select_related("resident", "responder").get(user=user)
    assert volunteer.status == VolunteerStatus.VERIFIED
    assert volunteer.community == home
    assert volunteer.responder == Responder.objects.get(user=user)
    own = volunteer.resident
    assert own is not None
    assert (own.user_id, own.community_id, own.name) == (user.pk, home.pk, "李志强")
    mother = Relation.objects.get(resident=own, kind="parent").person
    assert mother.sex == "female"
    assert (age_on(mother.birth_date, timezone.localdate()) or 0) >= 60
    assert Relation.objects.filter(resident=mother, person=own, kind="child").exists()
    balance = Account.objects.get(user=user).balance
    assert 10 <= balance < 100
    assert StarAward.objects.filter(
        volunteer=volunteer, status__in=(AwardStatus.NOTICE, AwardStatus.AWARDED)
    ).exists()
    now = timezone.now()
    mine = Signup.objects.filter(volunteer=volunteer, status=SignupStatus.CONFIRMED)
    today = mine.get(
        activity__starts_at__lte=now, activity__ends_at__gt=now + dt.timedelta(hours=2)
    )
    assert today.activity.created_by.username == "demo_community_worker"
    assert today.activity.community == home
    assert today.activity.status == ActivityStatus.PUBLISHED
    assert not Attendance.objects.filter(signup=today).exists()
    assert mine.filter(activity__starts_at__gt=now).exists()
    waiting = Attendance.objects.filter(
        signup__volunteer=volunteer, certified_at__isnull=True, checked_out_at__isnull=False
    )
    assert waiting.filter(signup__activity__created_by__username="demo_community_worker")
