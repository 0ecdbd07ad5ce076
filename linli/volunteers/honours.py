"""Stars and honours: star levels from cumulative confirmed hours, shown in public notice
before they are awarded, and challenged by anyone signed in during the notice.

A star level is proposed by a daily job (`stars_propose`) for every verified volunteer
whose earned hours (`ledger.earned_hours`: hours above the balance cap count too) have
crossed a threshold of LINLI_VOLUNTEER_STAR_HOURS without a live award. The proposal
stays in public notice for LINLI_VOLUNTEER_STAR_NOTICE_DAYS working days; anyone signed
in (but the volunteer) may challenge it with a reason, and the community's worker
answers. An award whose notice has ended with no open challenge is awarded by the
job `stars_award_due`; an upheld challenge withdraws it.

States: NOTICE → AWARDED, or NOTICE → WITHDRAWN (a challenge upheld, or the hours were
corrected below the level during the notice). Both jobs look at the data, not the
clock, so a run after a gap does what the missed runs would have done.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.notifications.services import notify_text

from . import access
from .choices import AccountKind, AwardStatus, ChallengeStatus, VolunteerStatus
from .ledger import hours
from .models import Movement, StarAward, StarChallenge, Volunteer

logger = logging.getLogger(__name__)

# The model allows levels 1 to 10 (star_level_range); a longer list is cut there.
MAX_LEVEL = 10
LIVE_STATES = (AwardStatus.NOTICE, AwardStatus.AWARDED)
# --- words and numbers ------------------------------------------------------------------


def star_thresholds() -> list[Decimal]:
    """The hours each level needs, lowest first (level 1 is the first)."""
    return sorted(hours(value) for value in settings.LINLI_VOLUNTEER_STAR_HOURS)[:MAX_LEVEL]


def level_for(earned: Decimal, thresholds: list[Decimal] | None = None) -> int:
    """The star level `earned` hours reach: how many thresholds they have crossed."""
    limits = star_thresholds() if thresholds is None else thresholds
    return sum(1 for limit in limits if earned >= limit)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days (Monday to Friday) after `start`.

    Public holidays (Spring Festival, National Day…) and the weekend days moved to make
    them are not in this calendar: a notice over a holiday is a little shorter in
    fact. They change every year by State Council notice; a deployment that needs them
    would add a table of them here."""
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return day


def notice_end(today: dt.date) -> dt.date:
    """The last day of a notice that starts today (the notice runs through that day)."""
    return add_working_days(today, int(settings.LINLI_VOLUNTEER_STAR_NOTICE_DAYS))


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --- reads ------------------------------------------------------------------------------


def earned_hours_by_volunteer(
    volunteers: QuerySet[Volunteer] | None = None,
) -> dict[int, Decimal]:
    """Earned hours of every volunteer (or of `volunteers`), keyed by volunteer id, in one
    aggregate query: what `ledger.earned_hours` says for each, corrections included.
    Volunteers who never earned an hour are not in it."""
    rows = Movement.objects.filter(
        account__kind=AccountKind.ISSUANCE, transfer__earned_by__volunteer__isnull=False
    )
    if volunteers is not None:
        rows = rows.filter(transfer__earned_by__volunteer__in=volunteers)
    totals = (
        rows.values("transfer__earned_by__volunteer")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("transfer__earned_by__volunteer", "total")
    )
    return {volunteer_id: -hours(total or 0) for volunteer_id, total in totals}


def community_hours(community_code: str) -> Decimal:
    """Hours earned by the community's volunteers, all time, corrections included."""
    total = Movement.objects.filter(
        account__kind=AccountKind.ISSUANCE,
        transfer__earned_by__volunteer__community_id=community_code,
    ).aggregate(total=Sum("amount"))["total"]
    return -hours(total or 0)


def honours_of(community_code: str) -> QuerySet[StarAward]:
    """Stars awarded and in public notice in a community, highest first: what its
    honours page shows."""
    return (
        StarAward.objects.filter(volunteer__community_id=community_code, status__in=LIVE_STATES)
        .select_related("volunteer")
        .prefetch_related("volunteer__teams")
        .order_by("status", "-level", "notice_until", "volunteer__name", "id")
    )


def challenges_to_answer(user: User) -> QuerySet[StarChallenge]:
    """Open challenges of the communities `user` keeps, oldest first."""
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return (
        StarChallenge.objects.filter(
            scope.q("award__volunteer__community__code"), status=ChallengeStatus.OPEN
        )
        .select_related("award__volunteer", "raised_by")
        .order_by("raised_at", "id")
    )


@dataclass(frozen=True)
class StarStanding:
    """Where a volunteer stands: their hours, their stars, what the next level needs."""

    volunteer: Volunteer
    earned: Decimal
    level: int
    awards: list[StarAward]
    next_level: int | None
    next_threshold: Decimal | None

    @property
    def hours_to_next(self) -> Decimal | None:
        if self.next_threshold is None:
            return None
        return max(self.next_threshold - self.earned, Decimal("0.00"))

    @property
    def awarded_level(self) -> int:
        return max((a.level for a in self.awards if a.status == AwardStatus.AWARDED), default=0)


def star_standing(volunteer: Volunteer) -> StarStanding:
    thresholds = star_thresholds()
    earned = earned_hours_by_volunteer(Volunteer.objects.filter(pk=volunteer.pk)).get(
        volunteer.pk, Decimal("0.00")
    )
    level = level_for(earned, thresholds)
    awards = list(
        volunteer.stars.prefetch_related("challenges").order_by("-level", "-created_at", "-id")
    )
    next_level = level + 1 if level < len(thresholds) else None
    return StarStanding(
        volunteer=volunteer,
        earned=earned,
        level=level,
        awards=awards,
        next_level=next_level,
        next_threshold=thresholds[level] if next_level is not None else None,
    )


def may_challenge(user: User | None, award: StarAward, today: dt.date | None = None) -> bool:
    """Whether `user` may challenge now: signed in, not the volunteer, during the notice."""
    return (
        user is not None
        and user.is_authenticated
        and award.volunteer.user_id != user.pk
        and award.status == AwardStatus.NOTICE
        and _today(today) <= award.notice_until
    )


# --- notifications ----------------------------------------------------------------------


def _tell(
    user: User, words: tuple[str, str], values: dict[str, Any], key: str, link: str = ""
) -> None:
    """A message whose msgids each reader reads in their language; the inbox row is
    written in the caller's transaction and the channels carry it only after commit."""
    title, body = words
    notify_text(user=user, title=title, body=body, values=values, link=link, key=key)


def _stars_link() -> str:
    return reverse("volunteers:stars")


def _tell_awarded(award: StarAward) -> None:
    words = (
        gettext_noop("You are awarded %(level)s stars"),
        gettext_noop(
            "After its public notice, your %(level)s-star award for %(hours)s hours of "
            "volunteer service is confirmed. Thank you."
        ),
    )
    values = {"level": award.level, "hours": str(award.hours)}
    _tell(award.volunteer.user, words, values, f"star-awarded:{award.pk}", _stars_link())


def _tell_withdrawn(award: StarAward, reason: str) -> None:
    words = (
        gettext_noop("Your %(level)s-star award was withdrawn"),
        gettext_noop("Reason: %(reason)s"),
    )
    values = {"level": award.level, "reason": reason}
    _tell(award.volunteer.user, words, values, f"star-withdrawn:{award.pk}", _stars_link())


def _tell_answered(challenge: StarChallenge) -> None:
    body = (
        gettext_noop("Upheld: the award is withdrawn. %(answer)s")
        if challenge.status == ChallengeStatus.UPHELD
        else gettext_noop("Dismissed: the award goes ahead. %(answer)s")
    )
    words = (gettext_noop("Your challenge of a star award was answered"), body)
    _tell(
        challenge.raised_by, words, {"answer": challenge.answer}, f"star-challenge:{challenge.pk}"
    )


# --- writes -----------------------------------------------------------------------------


def _locked_award(award_id: int) -> StarAward:
    found = StarAward.objects.select_for_update().filter(pk=award_id).first()
    if found is None:
        raise NotFound(_("No such star award."))
    return found


def stars_propose(*, today: dt.date | None = None) -> dict[str, int]:
    """Put in public notice a star level for every verified volunteer whose earned hours
    crossed a threshold that has no live award.

    Only the highest level reached is proposed (a volunteer who passes two thresholds at
    once goes straight to the higher one), and only above their highest live award. A
    level withdrawn after a challenge is proposed again only once the volunteer has
    earned more hours than it was proposed with: the same hours do not come back
    every day for the same answer. Idempotent: the unique (volunteer, level) of live
    awards refuses a second proposal, also from a run racing this one."""
    day = _today(today)
    thresholds = star_thresholds()
    earned = earned_hours_by_volunteer(Volunteer.objects.filter(status=VolunteerStatus.VERIFIED))
    live_top = dict(
        StarAward.objects.filter(status__in=LIVE_STATES)
        .values("volunteer")
        .annotate(top=Max("level"))
        .order_by()
        .values_list("volunteer", "top")
    )
    withdrawn_at: dict[tuple[int, int], Decimal] = {
        (volunteer_id, level): hours(at or 0)
        for volunteer_id, level, at in StarAward.objects.filter(status=AwardStatus.WITHDRAWN)
        .values("volunteer", "level")
        .annotate(at=Max("hours"))
        .order_by()
        .values_list("volunteer", "level", "at")
    }
    until = notice_end(day)
    proposed = 0
    for volunteer_id, reached in sorted(earned.items()):
        level = level_for(reached, thresholds)
        if level == 0 or level <= live_top.get(volunteer_id, 0):
            continue
        if reached <= withdrawn_at.get((volunteer_id, level), Decimal(-1)):
            continue
        try:
            with transaction.atomic():
                StarAward.objects.create(
                    volunteer_id=volunteer_id, level=level, hours=reached, notice_until=until
                )
        except IntegrityError:
            continue  # another run proposed it first
        proposed += 1
    return {"proposed": proposed}


def _decide(award: StarAward, earned: Decimal, thresholds: list[Decimal]) -> bool:
    """Award a locked award whose notice is over, or withdraw it if the volunteer's
    hours were corrected below the level meanwhile. True when awarded."""
    award.decided_at = timezone.now()
    # A level the configuration no longer has (the list was shortened) is kept.
    needed = thresholds[award.level - 1] if award.level <= len(thresholds) else None
    if needed is not None and earned < needed:
        award.status = AwardStatus.WITHDRAWN
        award.save(update_fields=["status", "decided_at"])
        with translation.override(settings.LANGUAGE_CODE):
            reason = _("the confirmed hours were corrected below the level")
        _tell_withdrawn(award, reason)
        return False
    award.status = AwardStatus.AWARDED
    award.save(update_fields=["status", "decided_at"])
    _tell_awarded(award)
    return True


def stars_award_due(*, today: dt.date | None = None) -> dict[str, int]:
    """Award every star whose public notice has ended with no open challenge. Each award
    is decided in its own transaction, under a lock, so a challenge raised at the same
    moment is either before it (and holds it) or refused as too late."""
    day = _today(today)
    due = list(
        StarAward.objects.filter(status=AwardStatus.NOTICE, notice_until__lt=day)
        .exclude(challenges__status=ChallengeStatus.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not due:
        return {"awarded": 0, "withdrawn": 0}
    earned = earned_hours_by_volunteer(Volunteer.objects.filter(stars__in=due).distinct())
    thresholds = star_thresholds()
    awarded = withdrawn = 0
    for award_id in due:
        with transaction.atomic():
            award = _locked_award(award_id)
            if (
                award.status != AwardStatus.NOTICE
                or award.challenges.filter(status=ChallengeStatus.OPEN).exists()
            ):
                continue
            award.volunteer = Volunteer.objects.select_related("user").get(pk=award.volunteer_id)
            if _decide(award, earned.get(award.volunteer_id, Decimal(0)), thresholds):
                awarded += 1
            else:
                withdrawn += 1
    return {"awarded": awarded, "withdrawn": withdrawn}


@transaction.atomic
def star_challenge(
    *, award: StarAward, actor: User, reason: str, today: dt.date | None = None
) -> StarChallenge:
    """Challenge an award in public notice, with a reason. The award is not decided
    while a challenge is open."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied(_("Sign in to challenge an award."))
    locked = _locked_award(award.pk)
    volunteer = Volunteer.objects.get(pk=locked.volunteer_id)
    if volunteer.user_id == actor.pk:
        raise PermissionDenied(_("You cannot challenge your own award."))
    errors: dict[str, list[str]] = {}
    if locked.status != AwardStatus.NOTICE or _today(today) > locked.notice_until:
        errors["award"] = [_("The public notice of this award is over: it cannot be challenged.")]
    text = (reason or "").strip()
    if not text:
        errors["reason"] = [_("Say why you challenge this award.")]
    elif StarChallenge.objects.filter(
        award=locked, raised_by=actor, status=ChallengeStatus.OPEN
    ).exists():
        errors["reason"] = [_("You have already challenged this award; wait for the answer.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return StarChallenge.objects.create(award=locked, raised_by=actor, reason=text)


ANSWERS = (ChallengeStatus.UPHELD, ChallengeStatus.DISMISSED)


@transaction.atomic
def star_challenge_answer(
    *,
    challenge: StarChallenge,
    actor: User,
    outcome: str,
    answer: str,
    today: dt.date | None = None,
) -> StarChallenge:
    """The community's worker answers a challenge: upheld withdraws the award (and closes
    the award's other open challenges with the same answer); dismissed lets it go
    ahead, at once if its notice is already over and nothing else is open."""
    locked_challenge = StarChallenge.objects.select_for_update().filter(pk=challenge.pk).first()
    if locked_challenge is None:
        raise NotFound(_("No such challenge."))
    award = _locked_award(locked_challenge.award_id)
    award.volunteer = Volunteer.objects.select_related("user").get(pk=award.volunteer_id)
    if actor is None or not access.keeps_community(actor, award.volunteer.community_id):
        raise PermissionDenied(_("Only the volunteer's community workers answer challenges."))
    errors: dict[str, list[str]] = {}
    if locked_challenge.status != ChallengeStatus.OPEN:
        errors["challenge"] = [_("This challenge has already been answered.")]
    if outcome not in ANSWERS:
        errors["outcome"] = [_("Uphold or dismiss the challenge.")]
    text = (answer or "").strip()
    if not text:
        errors["answer"] = [_("Say why: the person who challenged reads it.")]
    if errors:
        raise ValidationFailed(fields=errors)
    locked_challenge.status = outcome
    locked_challenge.answer = text
    locked_challenge.answered_by = actor
    locked_challenge.save(update_fields=["status", "answer", "answered_by"])
    _tell_answered(locked_challenge)
    if outcome == ChallengeStatus.UPHELD:
        if award.status != AwardStatus.WITHDRAWN:
            award.status = AwardStatus.WITHDRAWN
            award.decided_at = timezone.now()
            award.save(update_fields=["status", "decided_at"])
            _tell_withdrawn(award, text)
        others = list(
            award.challenges.select_for_update()
            .filter(status=ChallengeStatus.OPEN)
            .select_related("raised_by")
        )
        for other in others:
            other.status, other.answer, other.answered_by = ChallengeStatus.UPHELD, text, actor
            other.save(update_fields=["status", "answer", "answered_by"])
            _tell_answered(other)
    elif (
        award.status == AwardStatus.NOTICE
        and award.notice_until < _today(today)
        and not award.challenges.filter(status=ChallengeStatus.OPEN).exists()
    ):
        volunteers = Volunteer.objects.filter(pk=award.volunteer_id)
        earned = earned_hours_by_volunteer(volunteers).get(award.volunteer_id, Decimal(0))
        _decide(award, earned, star_thresholds())
    return locked_challenge
