"""Stars: proposals at the thresholds, a public notice of working days, challenges,
awards after the notice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.pii import mask_name
from linli.core.tasks import PERIODIC_JOBS, run_job
from linli.notifications.models import Notification
from linli.volunteers.choices import AwardStatus, ChallengeStatus, TransferKind, VolunteerStatus
from linli.volunteers.honours import (
    add_working_days,
    earned_hours_by_volunteer,
    level_for,
    star_challenge,
    star_challenge_answer,
    star_standing,
    stars_award_due,
    stars_propose,
)
from linli.volunteers.ledger import (
    community_pool,
    earned_hours,
    person_account,
    timebank_credit,
    timebank_reverse,
)
from linli.volunteers.models import StarAward, StarChallenge, Volunteer

THURSDAY = dt.date(2025, 1, 2)
SATURDAY = dt.date(2025, 1, 4)


def make_volunteer(community, *, name="李明华", status=VolunteerStatus.VERIFIED, user=None):
    return Volunteer.objects.create(
        user=user or UserFactory.create(), name=name, community=community, status=status
    )


def credit(volunteer, amount, *, community=None, activity=None):
    return timebank_credit(
        account=person_account(volunteer.user),
        amount=Decimal(str(amount)),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=community or volunteer.community,
        earned_by=volunteer.user,
        activity_id=activity.pk if activity else None,
    )


@pytest.fixture(autouse=True)
def star_rules(settings):
    settings.LINLI_VOLUNTEER_STAR_HOURS = [10, 30, 60]
    settings.LINLI_VOLUNTEER_STAR_NOTICE_DAYS = 5


@pytest.fixture
def volunteer(community):
    return make_volunteer(community)


@pytest.fixture
def proposed(volunteer):
    """A one-star award proposed on a Thursday: in notice until the next Thursday."""
    credit(volunteer, 12)
    stars_propose(today=THURSDAY)
    return StarAward.objects.get(volunteer=volunteer)


# --- words and numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王秀英", "王*"),
        ("欧阳修", "欧阳*"),
        ("欧阳", "欧*"),
        ("Ada Lovelace", "Lovelace *"),
        ("", ""),
    ],
)
def test_mask_name_keeps_only_the_family_name(name, masked):
    assert mask_name(name) == masked


def test_levels_count_the_thresholds_crossed():
    assert [level_for(Decimal(h)) for h in ("0", "9.99", "10", "29.99", "30", "60", "999")] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
    ]


def test_working_days_skip_the_weekend():
    assert add_working_days(THURSDAY, 5) == dt.date(2025, 1, 9)  # Fri, Mon–Thu
    assert add_working_days(dt.date(2025, 1, 3), 5) == dt.date(2025, 1, 10)  # from a Friday
    assert add_working_days(SATURDAY, 5) == dt.date(2025, 1, 10)  # Mon–Fri
    assert add_working_days(SATURDAY, 1) == dt.date(2025, 1, 6)


# --- proposals ----------------------------------------------------------------------------


def test_propose_at_the_thresholds(community):
    below = make_volunteer(community, name="甲")
    at = make_volunteer(community, name="乙")
    over_two = make_volunteer(community, name="丙")
    pending = make_volunteer(community, name="丁", status=VolunteerStatus.PENDING)
    credit(below, "9.99")
    credit(at, 10)
    credit(over_two, 20)
    credit(over_two, 15)
    credit(pending, 40)

    assert stars_propose(today=THURSDAY) == {"proposed": 2}

    awards = {a.volunteer.name: a for a in StarAward.objects.select_related("volunteer")}
    assert set(awards) == {"乙", "丙"}
    assert (awards["乙"].level, awards["乙"].hours) == (1, Decimal("10.00"))
    # Two thresholds crossed at once: straight to the higher level.
    assert (awards["丙"].level, awards["丙"].hours) == (2, Decimal("35.00"))
    assert {a.status for a in awards.values()} == {AwardStatus.NOTICE}
    assert {a.notice_until for a in awards.values()} == {dt.date(2025, 1, 9)}


def test_notice_proposed_on_a_saturday_ends_on_friday(volunteer):
    credit(volunteer, 10)
    stars_propose(today=SATURDAY)
    assert StarAward.objects.get().notice_until == dt.date(2025, 1, 10)


def test_propose_twice_proposes_once_then_the_next_level(volunteer, proposed):
    assert stars_propose(today=THURSDAY) == {"proposed": 0}
    credit(volunteer, 20)  # 32 hours: level 2
    assert stars_propose(today=dt.date(2025, 1, 6)) == {"proposed": 1}
    assert sorted(StarAward.objects.values_list("level", "notice_until")) == [
        (1, dt.date(2025, 1, 9)),
        (2, dt.date(2025, 1, 13)),
    ]


def test_hours_above_the_cap_count_for_stars(settings, volunteer):
    settings.LINLI_TIMEBANK_CAP_HOURS = 20
    credit(volunteer, 25)
    assert person_account(volunteer.user).balance == Decimal("20.00")
    assert community_pool(volunteer.community).balance == Decimal("5.00")
    stars_propose(today=THURSDAY)
    assert StarAward.objects.get().hours == Decimal("25.00")


def test_reversed_hours_do_not_count(volunteer):
    booking = credit(volunteer, 15)
    timebank_reverse(transfer=booking, actor=None, memo="recorded twice")
    credit(volunteer, 5)
    assert earned_hours_by_volunteer() == {volunteer.pk: Decimal("5.00")}
    assert stars_propose(today=THURSDAY) == {"proposed": 0}


def test_earned_hours_of_all_volunteers_in_one_query(community, django_assert_num_queries):
    people = [make_volunteer(community, name=f"志愿者{i}") for i in range(6)]
    for i, person in enumerate(people):
        credit(person, i + 1)
    with django_assert_num_queries(1):
        earned = earned_hours_by_volunteer()
    assert earned == {person.pk: earned_hours(person.user) for person in people}
    assert earned[people[5].pk] == Decimal("6.00")


def test_proposing_takes_the_same_queries_for_many_volunteers(community, django_assert_num_queries):
    for i in range(8):
        credit(make_volunteer(community, name=f"志愿者{i}"), 5)
    # Hours of everyone, live awards, withdrawn awards: nothing to propose.
    with django_assert_num_queries(3):
        assert stars_propose(today=THURSDAY) == {"proposed": 0}


# --- the notice and the award -------------------------------------------------------------


def test_awarded_the_day_after_the_notice(volunteer, proposed):
    assert proposed.notice_until == dt.date(2025, 1, 9)
    assert stars_award_due(today=dt.date(2025, 1, 9)) == {"awarded": 0, "withdrawn": 0}
    proposed.refresh_from_db()
    assert proposed.status == AwardStatus.NOTICE

    assert stars_award_due(today=dt.date(2025, 1, 10)) == {"awarded": 1, "withdrawn": 0}
    proposed.refresh_from_db()
    assert proposed.status == AwardStatus.AWARDED
    assert proposed.decided_at is not None
    told = Notification.objects.get(user=volunteer.user)
    assert told.key == f"star-awarded:{proposed.pk}"
    assert told.link == "/volunteers/stars/"
    # Nothing twice.
    assert stars_award_due(today=dt.date(2025, 1, 11)) == {"awarded": 0, "withdrawn": 0}


def test_hours_corrected_below_the_level_withdraw_the_award(volunteer):
    booking = credit(volunteer, 12)
    stars_propose(today=THURSDAY)
    timebank_reverse(transfer=booking, actor=None, memo="not there that day")
    assert stars_award_due(today=dt.date(2025, 1, 10)) == {"awarded": 0, "withdrawn": 1}
    assert StarAward.objects.get().status == AwardStatus.WITHDRAWN


def test_standing_says_hours_to_the_next_level(volunteer, proposed):
    standing = star_standing(volunteer)
    assert (standing.earned, standing.level, standing.awarded_level) == (Decimal("12.00"), 1, 0)
    assert (standing.next_level, standing.next_threshold) == (2, Decimal("30.00"))
    assert standing.hours_to_next == Decimal("18.00")
    assert [a.pk for a in standing.awards] == [proposed.pk]
    credit(volunteer, 100)
    top = star_standing(volunteer)
    assert (top.level, top.next_level, top.hours_to_next) == (3, None, None)


# --- challenges ---------------------------------------------------------------------------


def test_challenge_holds_the_award_until_dismissed(volunteer, proposed, worker):
    neighbour = UserFactory.create()
    challenge = star_challenge(
        award=proposed, actor=neighbour, reason=" 那天他不在 ", today=dt.date(2025, 1, 9)
    )
    assert (challenge.status, challenge.reason) == (ChallengeStatus.OPEN, "那天他不在")

    assert stars_award_due(today=dt.date(2025, 1, 10)) == {"awarded": 0, "withdrawn": 0}
    proposed.refresh_from_db()
    assert proposed.status == AwardStatus.NOTICE

    star_challenge_answer(
        challenge=challenge,
        actor=worker,
        outcome=ChallengeStatus.DISMISSED,
        answer="签到记录在案",
        today=dt.date(2025, 1, 10),
    )
    challenge.refresh_from_db()
    proposed.refresh_from_db()
    assert (challenge.status, challenge.answered_by) == (ChallengeStatus.DISMISSED, worker)
    # The notice is over and nothing else is open: the award proceeds at once.
    assert proposed.status == AwardStatus.AWARDED
    assert Notification.objects.filter(user=neighbour, key=f"star-challenge:{challenge.pk}")
    assert Notification.objects.filter(user=volunteer.user, key=f"star-awarded:{proposed.pk}")


def test_dismissed_during_the_notice_waits_for_its_end(proposed, worker):
    challenge = star_challenge(
        award=proposed, actor=UserFactory.create(), reason="存疑", today=THURSDAY
    )
    star_challenge_answer(
        challenge=challenge,
        actor=worker,
        outcome=ChallengeStatus.DISMISSED,
        answer="核实无误",
        today=dt.date(2025, 1, 6),
    )
    proposed.refresh_from_db()
    assert proposed.status == AwardStatus.NOTICE
    assert stars_award_due(today=dt.date(2025, 1, 10)) == {"awarded": 1, "withdrawn": 0}


def test_upheld_challenge_withdraws_the_award(volunteer, proposed, worker):
    first = star_challenge(
        award=proposed, actor=UserFactory.create(), reason="时长虚报", today=THURSDAY
    )
    second = star_challenge(
        award=proposed, actor=UserFactory.create(), reason="同上", today=THURSDAY
    )
    star_challenge_answer(
        challenge=first, actor=worker, outcome=ChallengeStatus.UPHELD, answer="查实，撤销"
    )
    proposed.refresh_from_db()
    second.refresh_from_db()
    assert proposed.status == AwardStatus.WITHDRAWN
    assert (second.status, second.answer) == (ChallengeStatus.UPHELD, "查实，撤销")
    assert Notification.objects.filter(user=volunteer.user, key=f"star-withdrawn:{proposed.pk}")
    assert stars_award_due(today=dt.date(2025, 2, 1)) == {"awarded": 0, "withdrawn": 0}

    # The same hours are not proposed again; new hours are.
    assert stars_propose(today=dt.date(2025, 1, 13)) == {"proposed": 0}
    credit(volunteer, 1)
    assert stars_propose(today=dt.date(2025, 1, 13)) == {"proposed": 1}
    assert StarAward.objects.filter(status=AwardStatus.NOTICE).get().hours == Decimal("13.00")


def test_challenge_refusals(volunteer, proposed):
    neighbour = UserFactory.create()
    with pytest.raises(ValidationFailed) as late:
        star_challenge(award=proposed, actor=neighbour, reason="太晚了", today=dt.date(2025, 1, 10))
    assert list(late.value.fields) == ["award"]
    with pytest.raises(ValidationFailed) as empty:
        star_challenge(award=proposed, actor=neighbour, reason="  ", today=THURSDAY)
    assert list(empty.value.fields) == ["reason"]
    with pytest.raises(PermissionDenied):
        star_challenge(award=proposed, actor=volunteer.user, reason="我自己", today=THURSDAY)
    star_challenge(award=proposed, actor=neighbour, reason="第一次", today=THURSDAY)
    with pytest.raises(ValidationFailed) as twice:
        star_challenge(award=proposed, actor=neighbour, reason="第二次", today=THURSDAY)
    assert list(twice.value.fields) == ["reason"]
    assert StarChallenge.objects.count() == 1


def test_answer_refusals(proposed, worker, community):
    challenge = star_challenge(
        award=proposed, actor=UserFactory.create(), reason="存疑", today=THURSDAY
    )
    with pytest.raises(PermissionDenied):
        star_challenge_answer(
            challenge=challenge,
            actor=UserFactory.create(),
            outcome=ChallengeStatus.UPHELD,
            answer="我说了算",
        )
    with pytest.raises(ValidationFailed) as bad:
        star_challenge_answer(challenge=challenge, actor=worker, outcome="maybe", answer="")
    assert set(bad.value.fields) == {"outcome", "answer"}
    star_challenge_answer(
        challenge=challenge,
        actor=worker,
        outcome=ChallengeStatus.DISMISSED,
        answer="无误",
        today=THURSDAY,
    )
    with pytest.raises(ValidationFailed) as again:
        star_challenge_answer(
            challenge=challenge, actor=worker, outcome=ChallengeStatus.UPHELD, answer="改主意"
        )
    assert list(again.value.fields) == ["challenge"]
    challenge.refresh_from_db()
    proposed.refresh_from_db()
    assert (challenge.status, proposed.status) == (ChallengeStatus.DISMISSED, AwardStatus.NOTICE)


# --- the periodic jobs --------------------------------------------------------------------


def test_jobs_are_scheduled_and_run(volunteer):
    names = {job.name: job.every for job in PERIODIC_JOBS}
    assert names["volunteers.stars_propose"] == dt.timedelta(days=1)
    assert names["volunteers.stars_award_due"] == dt.timedelta(hours=1)
    credit(volunteer, 10)
    run = run_job("volunteers.stars_propose", runner="test")
    assert (run.status, run.detail) == ("ok", "{'proposed': 1}")
    run = run_job("volunteers.stars_award_due", runner="test")
    assert (run.status, run.detail) == ("ok", "{'awarded': 0, 'withdrawn': 0}")
