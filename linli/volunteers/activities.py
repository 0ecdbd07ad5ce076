"""Volunteer activities, from publication to certified hours: services and selectors.

An organizer (provider staff of the organizing organization, or a community worker of
the community) publishes an activity; verified volunteers sign up; the organizer
confirms them up to the capacity. At the site the organizer's page shows a QR code: a
signed token (salted with the activity's `qr_secret`) naming the activity, when it was
issued and who showed it. A confirmed volunteer who opens it checks in; opening it
again checks out. Those who could not scan are recorded by the organizer afterwards.

Hours are check-out minus check-in, rounded to the quarter hour, never more than the
activity lasted, never more than a day. The organizer certifies them: the time bank is
credited (`timebank_credit`) and the attendance keeps who recorded and who certified
("whoever organizes records; whoever records certifies", 2021 volunteer-record
measures). A volunteer may dispute certified hours within `dispute_days()`; an upheld
dispute reverses the old credit and credits the corrected hours.

Windows (documented in docs/architecture.md): a code is shown and accepted from
`QR_OPENS_BEFORE` before the start until `QR_CLOSES_AFTER` after the end, and a code
is good for `LINLI_ACTIVITY_QR_MINUTES` after it was issued (the page refreshes it at
half that).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import staff_organizations, user_scope
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.geo import great_circle_km
from linli.directory.models import Organization, TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.directory.validators import validate_point
from linli.notifications.services import notify_text
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .access import keeps_community, may_organize, staff_of, volunteer_of
from .choices import (
    ActivityStatus,
    AttendanceMethod,
    DisputeStatus,
    SignupStatus,
    TransferKind,
    VolunteerStatus,
)
from .ledger import person_account, timebank_credit, timebank_reverse
from .models import Activity, Attendance, HoursDispute, Signup, Team, Volunteer

# The QR code is shown and accepted from a little before the start (people arrive early)
# until a while after the end (people check out on their way home).
QR_OPENS_BEFORE = dt.timedelta(minutes=30)
QR_CLOSES_AFTER = dt.timedelta(minutes=60)
# A second scan this soon after checking in is a double tap, not a check-out.
DOUBLE_SCAN = dt.timedelta(minutes=2)
# A clock a little ahead of ours is not a forged code.
CLOCK_SKEW = dt.timedelta(minutes=1)
QUARTER = Decimal("0.25")
DAY = Decimal(24)
MAX_CAPACITY = 10_000
QR_SALT = "linli.volunteers.activity-qr"


def qr_minutes() -> int:
    return int(settings.LINLI_ACTIVITY_QR_MINUTES)


def dispute_days() -> int:
    """How long after certification a volunteer may dispute the hours."""
    return int(settings.LINLI_ACTIVITY_DISPUTE_DAYS)


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _local_day(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- hours ---------------------------------------------------------------------------


def quarter_hours(value: Decimal) -> Decimal:
    """Hours rounded to the nearest quarter hour (half a quarter rounds up)."""
    quarters = (value / QUARTER).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (quarters * QUARTER).quantize(Decimal("0.01"))


def _span_hours(activity: Activity) -> Decimal:
    seconds = Decimal(int((activity.ends_at - activity.starts_at).total_seconds()))
    return quarter_hours(seconds / 3600)


def attended_hours(
    *, activity: Activity, checked_in_at: dt.datetime, checked_out_at: dt.datetime
) -> Decimal | None:
    """Check-out minus check-in to the quarter hour, never more than the activity's span
    (rounded the same way); None under an eighth of an hour. Over a day is refused."""
    if checked_out_at <= checked_in_at:
        raise ValidationFailed(fields={"checked_out_at": [_("Check-out must be after check-in.")]})
    seconds = Decimal(int((checked_out_at - checked_in_at).total_seconds()))
    value = min(quarter_hours(seconds / 3600), _span_hours(activity))
    if value > DAY:
        raise ValidationFailed(fields={"hours": [_over_a_day()]})
    return value if value > 0 else None


def _over_a_day() -> str:
    return _("More than a day: at most 24 hours are recorded for one attendance.")


def _given_hours(value: Any, activity: Activity, field: str) -> Decimal:
    """Hours an organizer or a volunteer states: more than zero, at most a day and the
    activity's span, to the quarter hour."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("Give the hours as a number.")]}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed(fields={field: [_("Hours must be more than zero.")]})
    if amount > DAY:
        raise ValidationFailed(fields={field: [_over_a_day()]})
    amount = quarter_hours(amount)
    if amount <= 0:
        raise ValidationFailed(fields={field: [_("Hours must be at least a quarter hour.")]})
    span = _span_hours(activity)
    if amount > span:
        raise ValidationFailed(
            fields={
                field: [
                    _("The activity lasted %(span)s hours; no more can be recorded.")
                    % {"span": span}
                ]
            }
        )
    return amount


# --- notifications -------------------------------------------------------------------

# A message's title and body msgids (gettext_noop) and the values of their placeholders.
Words = tuple[str, str, dict[str, Any]]


def _announce(
    users: Iterable[User | None],
    *,
    key: str,
    link: str,
    words: Words,
    actor: User | None = None,
) -> None:
    """After commit, tell each user (not the one who acted): `words` are the title's and
    the body's msgids and their values, so each reader reads them in their language."""
    recipients = {u.pk: u for u in users if u is not None and u.is_active}
    if actor is not None:
        recipients.pop(actor.pk, None)
    if not recipients:
        return

    title, body, values = words

    def send() -> None:
        for user in recipients.values():
            notify_text(user=user, title=title, body=body, values=values, link=link, key=key)

    transaction.on_commit(send)


def _activity_link(activity: Activity) -> str:
    return reverse("volunteers:activity_detail", args=[activity.pk])


def _mine_link() -> str:
    return reverse("volunteers:activity_mine")


# --- publishing ----------------------------------------------------------------------


def skill_terms(codes: Sequence[str]) -> tuple[list[TaxonomyTerm], list[str]]:
    """The service-taxonomy terms for `codes`, and the codes that name none."""
    wanted = [code.strip() for code in codes if code and code.strip()]
    found = {
        term.code: term
        for term in TaxonomyTerm.objects.filter(
            taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY), code__in=wanted
        )
    }
    unknown = [code for code in wanted if code not in found]
    return [found[code] for code in dict.fromkeys(wanted) if code in found], unknown


def may_publish(
    actor: User | None, *, community: Region, organization: Organization | None
) -> bool:
    """The organization's provider staff publish its activities; without one, the
    community's workers."""
    if actor is None:
        return False
    if organization is not None:
        return staff_of(actor, organization.pk)
    return keeps_community(actor, community.code)


@transaction.atomic
def activity_publish(
    *,
    actor: User,
    title: str,
    community: Region | None,
    address: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    capacity: int | None,
    description: str = "",
    organization: Organization | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    skills: Sequence[str] = (),
    team: Team | None = None,
) -> Activity:
    """Publish an activity (open for sign-up at once)."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, reason: str) -> None:
        errors.setdefault(name, []).append(reason)

    title = (title or "").strip()
    address = (address or "").strip()
    if len(title) < 2:
        refuse("title", _("Give the activity a title."))
    elif len(title) > 200:
        refuse("title", _("At most 200 characters."))
    if not address:
        refuse("address", _("Say where the volunteers meet."))
    elif len(address) > 255:
        refuse("address", _("At most 255 characters."))
    if community is None or community.level != RegionLevel.COMMUNITY:
        refuse("community", _("Choose the community or village where it takes place."))
    now = timezone.now()
    if starts_at is None:
        refuse("starts_at", _("Say when it starts."))
    if ends_at is None:
        refuse("ends_at", _("Say when it ends."))
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            refuse("ends_at", _("The end must be after the start."))
        elif ends_at <= now:
            refuse("ends_at", _("This time is over: choose a time to come."))
    if capacity is None or capacity < 1:
        refuse("capacity", _("At least one person."))
    elif capacity > MAX_CAPACITY:
        refuse("capacity", _("At most %(n)s people.") % {"n": MAX_CAPACITY})
    for name, reasons in validate_point(latitude, longitude).items():
        for reason in reasons:
            refuse(name, reason)
    terms, unknown = skill_terms(list(skills))
    for code in unknown:
        refuse("skills", _("Unknown skill code %(code)s.") % {"code": code})
    if team is not None and community is not None:
        belongs = (
            team.organization_id == organization.pk
            if organization is not None
            else team.community_id == community.code
        )
        if not belongs:
            refuse("team", _("This team belongs to another organization or community."))
    if (
        community is not None
        and community.level == RegionLevel.COMMUNITY
        and not may_publish(actor, community=community, organization=organization)
    ):
        raise PermissionDenied(
            _("Only the organization's staff or the community's workers publish its activities.")
        )
    if errors or community is None or starts_at is None or ends_at is None or capacity is None:
        raise ValidationFailed(fields=errors)
    activity = Activity.objects.create(
        title=title,
        description=(description or "").strip(),
        organization=organization,
        community=community,
        team=team,
        created_by=actor,
        address=address,
        latitude=latitude,
        longitude=longitude,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        status=ActivityStatus.PUBLISHED,
        qr_secret=secrets.token_urlsafe(32),
    )
    activity.skills.set(terms)
    return activity


def _locked_activity(activity: Activity) -> Activity:
    return Activity.objects.select_for_update().get(pk=activity.pk)


def _require_organizer(actor: User | None, activity: Activity, message: str = "") -> None:
    if actor is None or not may_organize(actor, activity):
        raise PermissionDenied(message or _("Only the activity's organizers may do this."))


@transaction.atomic
def activity_cancel(*, actor: User, activity: Activity, reason: str) -> Activity:
    """Call an activity off before anyone attended; those signed up are told why."""
    activity = _locked_activity(activity)
    _require_organizer(actor, activity)
    if activity.status != ActivityStatus.PUBLISHED:
        raise ValidationFailed(
            fields={"status": [_("Only an activity open for sign-up can be cancelled.")]}
        )
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed(fields={"reason": [_("Say why, for those who signed up.")]})
    if Attendance.objects.filter(signup__activity=activity).exists():
        raise ValidationFailed(
            fields={"status": [_("Volunteers have already attended: it cannot be cancelled.")]}
        )
    activity.status = ActivityStatus.CANCELLED
    # Codes already shown stop working.
    activity.qr_secret = secrets.token_urlsafe(32)
    activity.save(update_fields=["status", "qr_secret"])
    people = User.objects.filter(
        volunteer__signups__activity=activity,
        volunteer__signups__status__in=(SignupStatus.APPLIED, SignupStatus.CONFIRMED),
    )
    title = activity.title
    _announce(
        people,
        key=f"activity-cancel:{activity.pk}",
        link=_activity_link(activity),
        actor=actor,
        words=(
            gettext_noop("Activity cancelled"),
            gettext_noop("“%(title)s” is cancelled: %(reason)s"),
            {"title": title, "reason": reason},
        ),
    )
    return activity


# --- sign-up -------------------------------------------------------------------------


def _confirmed_count(activity: Activity) -> int:
    return Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).count()


def volunteer_refusal(volunteer: Volunteer | None) -> str:
    """Why this person cannot volunteer now; empty when they can."""
    if volunteer is None:
        return _("Register as a volunteer first.")
    if volunteer.status == VolunteerStatus.VERIFIED:
        return ""
    if volunteer.status == VolunteerStatus.PENDING:
        return _("Your volunteer registration is waiting for verification.")
    if volunteer.status == VolunteerStatus.SUSPENDED:
        if volunteer.status_reason:
            return _("Your volunteering is suspended: %(reason)s") % {
                "reason": volunteer.status_reason
            }
        return _("Your volunteering is suspended.")
    if volunteer.status_reason:
        return _("Your volunteer registration was not verified: %(reason)s") % {
            "reason": volunteer.status_reason
        }
    return _("Your volunteer registration was not verified.")


@transaction.atomic
def signup_create(*, actor: User, activity: Activity) -> Signup:
    """A verified volunteer signs up (again, after withdrawing); the organizer decides."""
    volunteer = volunteer_of(actor)
    refusal = volunteer_refusal(volunteer)
    if refusal or volunteer is None:
        raise ValidationFailed(fields={"volunteer": [refusal]})
    activity = _locked_activity(activity)
    if activity.status != ActivityStatus.PUBLISHED:
        raise ValidationFailed(fields={"activity": [_("This activity is not open for sign-up.")]})
    if activity.ends_at <= timezone.now():
        raise ValidationFailed(fields={"activity": [_("This activity is over.")]})
    if _confirmed_count(activity) >= activity.capacity:
        raise ValidationFailed(fields={"activity": [_("All places are taken.")]})
    signup = (
        Signup.objects.select_for_update().filter(activity=activity, volunteer=volunteer).first()
    )
    if signup is not None:
        if signup.status == SignupStatus.DECLINED:
            raise ValidationFailed(
                fields={"activity": [_("The organizer declined your sign-up for this activity.")]}
            )
        if signup.status != SignupStatus.WITHDRAWN:
            raise ValidationFailed(fields={"activity": [_("You have signed up already.")]})
        signup.status = SignupStatus.APPLIED
        signup.decided_by = None
        signup.decided_at = None
        signup.save(update_fields=["status", "decided_by", "decided_at"])
    else:
        signup = Signup.objects.create(activity=activity, volunteer=volunteer)
    name, title = volunteer.name, activity.title
    _announce(
        [activity.created_by],
        key=f"activity-signup:{signup.pk}:{timezone.now().timestamp()}",
        link=_activity_link(activity),
        actor=actor,
        words=(
            gettext_noop("New sign-up"),
            gettext_noop("%(name)s signed up for “%(title)s”."),
            {"name": name, "title": title},
        ),
    )
    return signup


@transaction.atomic
def signup_withdraw(*, actor: User, signup: Signup) -> Signup:
    """The volunteer takes back their sign-up, while they have not attended."""
    signup = (
        Signup.objects.select_for_update().select_related("volunteer", "activity").get(pk=signup.pk)
    )
    if signup.volunteer.user_id != actor.pk:
        raise PermissionDenied(_("Only the volunteer withdraws their own sign-up."))
    if signup.status not in (SignupStatus.APPLIED, SignupStatus.CONFIRMED):
        raise ValidationFailed(fields={"signup": [_("This sign-up is not active.")]})
    if Attendance.objects.filter(signup=signup).exists():
        raise ValidationFailed(
            fields={"signup": [_("You have already checked in: ask the organizer.")]}
        )
    signup.status = SignupStatus.WITHDRAWN
    signup.save(update_fields=["status"])
    return signup


@transaction.atomic
def signup_decide(*, actor: User, signup: Signup, confirm: bool) -> Signup:
    """The organizer confirms a sign-up (within the capacity) or declines it."""
    activity = _locked_activity(signup.activity)
    signup = Signup.objects.select_for_update().select_related("volunteer").get(pk=signup.pk)
    _require_organizer(actor, activity, _("Only the activity's organizers decide sign-ups."))
    if signup.status != SignupStatus.APPLIED:
        raise ValidationFailed(
            fields={"signup": [_("This sign-up is not waiting for a decision.")]}
        )
    if confirm:
        if activity.status != ActivityStatus.PUBLISHED:
            raise ValidationFailed(fields={"activity": [_("This activity is not open.")]})
        taken = _confirmed_count(activity)
        if taken >= activity.capacity:
            raise ValidationFailed(
                fields={
                    "signup": [
                        _("All %(n)s places are taken: decline someone first or stay at %(n)s.")
                        % {"n": activity.capacity}
                    ]
                }
            )
        refusal = volunteer_refusal(signup.volunteer)
        if refusal:
            raise ValidationFailed(
                fields={"signup": [_("This volunteer cannot be confirmed now.")]}
            )
    signup.status = SignupStatus.CONFIRMED if confirm else SignupStatus.DECLINED
    signup.decided_by = actor
    signup.decided_at = timezone.now()
    signup.save(update_fields=["status", "decided_by", "decided_at"])
    title = activity.title
    when = _local_day(activity.starts_at)

    words: Words = (
        (
            gettext_noop("Sign-up confirmed"),
            gettext_noop("You are confirmed for “%(title)s” at %(when)s."),
            {"title": title, "when": when},
        )
        if confirm
        else (
            gettext_noop("Sign-up declined"),
            gettext_noop("Your sign-up for “%(title)s” was declined."),
            {"title": title},
        )
    )

    _announce(
        [signup.volunteer.user],
        key=f"activity-decide:{signup.pk}:{signup.status}",
        link=_activity_link(activity),
        actor=actor,
        words=words,
    )
    return signup


# --- QR attendance -------------------------------------------------------------------


def _signer(activity: Activity) -> signing.Signer:
    return signing.Signer(salt=f"{QR_SALT}:{activity.qr_secret}")


def qr_window(activity: Activity) -> tuple[dt.datetime, dt.datetime]:
    """When the activity's code is shown and accepted."""
    return activity.starts_at - QR_OPENS_BEFORE, activity.ends_at + QR_CLOSES_AFTER


def activity_qr_token(*, actor: User, activity: Activity, now: dt.datetime | None = None) -> str:
    """A code for the site: the activity, when it was issued and who shows it, signed
    with the activity's secret. `now` is when it is issued (default: now)."""
    _require_organizer(actor, activity, _("Only the activity's organizers show its code."))
    if activity.status != ActivityStatus.PUBLISHED:
        raise ValidationFailed(fields={"activity": [_("This activity is not open.")]})
    issued = now or timezone.now()
    opens, closes = qr_window(activity)
    if not opens <= issued <= closes:
        raise ValidationFailed(
            fields={
                "activity": [
                    _("The code is shown from %(opens)s to %(closes)s.")
                    % {"opens": _local_day(opens), "closes": _local_day(closes)}
                ]
            }
        )
    signed = _signer(activity).sign_object(
        {"a": activity.pk, "t": int(issued.timestamp()), "u": actor.pk}
    )
    return f"{activity.pk}.{signed}"


def qr_expires_at(token_issued: dt.datetime) -> dt.datetime:
    return token_issued + dt.timedelta(minutes=qr_minutes())


def _damaged() -> ValidationFailed:
    return ValidationFailed(
        fields={
            "token": [
                _(
                    "This code is not valid: it is damaged or was changed. "
                    "Scan the code shown at the site."
                )
            ]
        }
    )


def qr_read(token: str) -> tuple[Activity, dt.datetime, User]:
    """The activity, the issue time and who showed the code; refused when tampered."""
    head, dot, signed = (token or "").partition(".")
    if not dot or not head.isdigit():
        raise _damaged()
    activity = Activity.objects.filter(pk=int(head)).first()
    if activity is None:
        raise _damaged()
    try:
        payload = _signer(activity).unsign_object(signed)
    except (signing.BadSignature, ValueError, TypeError):
        raise _damaged() from None
    if (
        not isinstance(payload, dict)
        or payload.get("a") != activity.pk
        or not isinstance(payload.get("t"), int)
        or not isinstance(payload.get("u"), int)
    ):
        raise _damaged()
    shown_by = User.objects.filter(pk=payload["u"]).first()
    if shown_by is None or not may_organize(shown_by, activity):
        raise _damaged()
    issued = dt.datetime.fromtimestamp(payload["t"], tz=dt.UTC)
    return activity, issued, shown_by


@transaction.atomic
def attendance_scan(
    *,
    actor: User,
    token: str,
    activity: Activity | None = None,
    direction: str = "auto",
) -> Attendance:
    """A confirmed volunteer opens the site's code: the first scan checks in, the next
    checks out (with the hours). `activity`, when given, is the one the volunteer means
    to attend; `direction` "in" or "out" refuses the other instead of toggling."""
    if direction not in ("auto", "in", "out"):
        raise ValidationFailed(fields={"direction": [_("Say in, out or auto.")]})
    found, issued, shown_by = qr_read(token)
    if activity is not None and activity.pk != found.pk:
        raise ValidationFailed(
            fields={
                "token": [
                    _("This code belongs to another activity: scan the code shown at this one.")
                ]
            }
        )
    now = timezone.now()
    if issued > now + CLOCK_SKEW:
        raise _damaged()
    if now - issued > dt.timedelta(minutes=qr_minutes()):
        raise ValidationFailed(
            fields={"token": [_("This code has expired: scan the code shown on the screen now.")]}
        )
    found = _locked_activity(found)
    if found.status != ActivityStatus.PUBLISHED:
        raise ValidationFailed(fields={"token": [_("This activity is not open.")]})
    opens, closes = qr_window(found)
    if now < opens:
        raise ValidationFailed(
            fields={"token": [_("Check-in opens at %(time)s.") % {"time": _local_day(opens)}]}
        )
    if now > closes:
        raise ValidationFailed(
            fields={"token": [_("This activity is over: ask the organizer to record your hours.")]}
        )
    volunteer = volunteer_of(actor)
    signup = (
        Signup.objects.select_for_update()
        .filter(activity=found, volunteer=volunteer, status=SignupStatus.CONFIRMED)
        .first()
        if volunteer is not None
        else None
    )
    if signup is None:
        raise PermissionDenied(
            _("You are not confirmed for this activity: sign up and wait for the organizer.")
        )
    attendance = Attendance.objects.select_for_update().filter(signup=signup).first()
    if attendance is None:
        if direction == "out":
            raise ValidationFailed(
                fields={"direction": [_("You have not checked in yet: check in first.")]}
            )
        return Attendance.objects.create(
            signup=signup,
            method=AttendanceMethod.QR,
            checked_in_at=now,
            recorded_by=shown_by,
        )
    if attendance.checked_out_at is not None or attendance.certified_at is not None:
        raise ValidationFailed(
            fields={
                "token": [
                    _("You already checked in and out of this activity (%(start)s–%(end)s).")
                    % {
                        "start": _local(attendance.checked_in_at),
                        "end": _local(attendance.checked_out_at or attendance.checked_in_at),
                    }
                ]
            }
        )
    if direction == "in" or (direction == "auto" and now - attendance.checked_in_at < DOUBLE_SCAN):
        raise ValidationFailed(
            fields={
                "token": [
                    _("You checked in at %(time)s already. Scan again when you leave.")
                    % {"time": _local(attendance.checked_in_at)}
                ]
            }
        )
    attendance.hours = attended_hours(
        activity=found, checked_in_at=attendance.checked_in_at, checked_out_at=now
    )
    attendance.checked_out_at = now
    attendance.save(update_fields=["checked_out_at", "hours"])
    return attendance


# --- the organizer's record ----------------------------------------------------------


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    signup: Signup,
    checked_in_at: dt.datetime | None = None,
    checked_out_at: dt.datetime | None = None,
    hours: Decimal | float | str | None = None,
) -> Attendance:
    """The organizer records a confirmed volunteer's attendance afterwards: the times
    (hours computed from them), or the hours directly (these win when both are given)."""
    signup = Signup.objects.select_for_update().select_related("activity").get(pk=signup.pk)
    activity = signup.activity
    _require_organizer(actor, activity, _("Only the activity's organizers record attendance."))
    if signup.status != SignupStatus.CONFIRMED:
        raise ValidationFailed(
            fields={"signup": [_("Only a confirmed sign-up's attendance is recorded.")]}
        )
    attendance = Attendance.objects.select_for_update().filter(signup=signup).first()
    if attendance is not None and attendance.certified_at is not None:
        raise ValidationFailed(
            fields={
                "attendance": [
                    _("These hours are certified already; the volunteer may dispute them.")
                ]
            }
        )
    if hours in (None, "") and checked_in_at is None:
        raise ValidationFailed(
            fields={"checked_in_at": [_("Give the check-in time, or the hours.")]}
        )
    now = timezone.now()
    opens, closes = qr_window(activity)
    errors: dict[str, list[str]] = {}
    outside = _("Outside the activity's time (%(opens)s to %(closes)s).") % {
        "opens": _local_day(opens),
        "closes": _local_day(closes),
    }
    for name, moment in (("checked_in_at", checked_in_at), ("checked_out_at", checked_out_at)):
        if moment is None:
            continue
        if moment > now:
            errors.setdefault(name, []).append(_("This time has not come yet."))
        elif not opens <= moment <= closes:
            errors.setdefault(name, []).append(outside)
    if checked_in_at is not None and checked_out_at is not None and checked_out_at <= checked_in_at:
        errors.setdefault("checked_out_at", []).append(_("Check-out must be after check-in."))
    if checked_in_at is None and checked_out_at is not None and attendance is None:
        errors.setdefault("checked_in_at", []).append(_("Give the check-in time too."))
    if errors:
        raise ValidationFailed(fields=errors)
    amount = _given_hours(hours, activity, "hours") if hours not in (None, "") else None
    time_in = checked_in_at or (attendance.checked_in_at if attendance else activity.starts_at)
    time_out = checked_out_at or (attendance.checked_out_at if attendance else None)
    if time_out is not None and time_out <= time_in:
        raise ValidationFailed(fields={"checked_out_at": [_("Check-out must be after check-in.")]})
    if amount is None and time_out is not None:
        amount = attended_hours(activity=activity, checked_in_at=time_in, checked_out_at=time_out)
    if attendance is None:
        attendance = Attendance(signup=signup)
    attendance.method = AttendanceMethod.ORGANIZER
    attendance.checked_in_at = time_in
    attendance.checked_out_at = time_out
    attendance.hours = amount
    attendance.recorded_by = actor
    attendance.save()
    return attendance


# --- certification and the ledger ----------------------------------------------------


def _memo(activity: Activity) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Activity: %(title)s") % {"title": activity.title}


def _locked_attendance(attendance: Attendance) -> Attendance:
    return (
        Attendance.objects.select_for_update(of=("self",))
        .select_related(
            "signup__activity",
            "signup__volunteer__user",
            "signup__volunteer__community",
            "transfer",
        )
        .get(pk=attendance.pk)
    )


def _credit(attendance: Attendance, *, actor: User, amount: Decimal) -> Any:
    volunteer = attendance.signup.volunteer
    activity = attendance.signup.activity
    return timebank_credit(
        account=person_account(volunteer.user),
        amount=amount,
        kind=TransferKind.ACTIVITY_HOURS,
        actor=actor,
        community=volunteer.community,
        activity_id=activity.pk,
        earned_by=volunteer.user,
        memo=_memo(activity),
    )


@transaction.atomic
def attendance_certify(*, actor: User, attendance: Attendance) -> Attendance:
    """The organizer certifies the hours: the volunteer's time-bank account is credited
    (above the cap, the community pool), and who certified is kept."""
    attendance = _locked_attendance(attendance)
    activity = attendance.signup.activity
    _require_organizer(actor, activity, _("Only the activity's organizers certify hours."))
    if attendance.certified_at is not None:
        raise ValidationFailed(fields={"attendance": [_("These hours are certified already.")]})
    if attendance.hours is None:
        raise ValidationFailed(
            fields={"hours": [_("No hours to certify yet: record the check-out or the hours.")]}
        )
    attendance.transfer = _credit(attendance, actor=actor, amount=attendance.hours)
    attendance.certified_by = actor
    attendance.certified_at = timezone.now()
    attendance.save(update_fields=["transfer", "certified_by", "certified_at"])
    amount, title = attendance.hours, activity.title
    _announce(
        [attendance.signup.volunteer.user],
        key=f"activity-certify:{attendance.pk}",
        link=_mine_link(),
        actor=actor,
        words=(
            gettext_noop("Hours certified"),
            gettext_noop(
                "%(hours)s hours for “%(title)s” are certified and credited to your time bank."
            ),
            {"hours": str(amount), "title": title},
        ),
    )
    return attendance


@transaction.atomic
def attendance_certify_all(*, actor: User, activity: Activity) -> list[Attendance]:
    """Certify every attendance of the activity that has hours and is not certified."""
    _require_organizer(actor, activity, _("Only the activity's organizers certify hours."))
    waiting = list(
        Attendance.objects.filter(
            signup__activity=activity, certified_at__isnull=True, hours__isnull=False
        ).order_by("pk")
    )
    if not waiting:
        raise ValidationFailed(
            fields={"attendance": [_("Nothing to certify: no uncertified hours are recorded.")]}
        )
    return [attendance_certify(actor=actor, attendance=item) for item in waiting]


# --- disputes ------------------------------------------------------------------------


@transaction.atomic
def dispute_raise(
    *, actor: User, attendance: Attendance, claimed_hours: Any, reason: str
) -> HoursDispute:
    """The volunteer says the certified hours are wrong: how many, and why."""
    attendance = _locked_attendance(attendance)
    volunteer = attendance.signup.volunteer
    if volunteer.user_id != actor.pk:
        raise PermissionDenied(_("Only the volunteer disputes their own hours."))
    if attendance.certified_at is None:
        raise ValidationFailed(
            fields={
                "attendance": [
                    _("These hours are not certified yet: tell the organizer before they are.")
                ]
            }
        )
    if timezone.now() - attendance.certified_at > dt.timedelta(days=dispute_days()):
        raise ValidationFailed(
            fields={
                "attendance": [
                    _("Hours can be disputed within %(n)s days of certification.")
                    % {"n": dispute_days()}
                ]
            }
        )
    if attendance.disputes.filter(status=DisputeStatus.OPEN).exists():
        raise ValidationFailed(
            fields={"attendance": [_("A dispute about these hours is waiting for an answer.")]}
        )
    amount = _given_hours(claimed_hours, attendance.signup.activity, "claimed_hours")
    if amount == attendance.hours:
        raise ValidationFailed(
            fields={"claimed_hours": [_("These are the hours certified already.")]}
        )
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed(fields={"reason": [_("Say why the hours are wrong.")]})
    dispute = HoursDispute.objects.create(
        attendance=attendance, raised_by=actor, claimed_hours=amount, reason=reason
    )
    activity = attendance.signup.activity
    name, title = volunteer.name, activity.title
    _announce(
        [activity.created_by, attendance.certified_by],
        key=f"activity-dispute:{dispute.pk}",
        link=_activity_link(activity),
        actor=actor,
        words=(
            gettext_noop("Hours disputed"),
            gettext_noop("%(name)s disputes the hours for “%(title)s”: %(hours)s claimed."),
            {"name": name, "title": title, "hours": str(amount)},
        ),
    )
    return dispute


@transaction.atomic
def dispute_answer(
    *, actor: User, dispute: HoursDispute, upheld: bool, answer: str
) -> HoursDispute:
    """The organizer answers. Upheld: the old credit is reversed and the claimed hours
    credited instead. Rejected: the hours stay; the answer is kept for both to read."""
    dispute = HoursDispute.objects.select_for_update().get(pk=dispute.pk)
    attendance = _locked_attendance(dispute.attendance)
    activity = attendance.signup.activity
    _require_organizer(actor, activity, _("Only the activity's organizers answer disputes."))
    if dispute.status != DisputeStatus.OPEN:
        raise ValidationFailed(fields={"dispute": [_("This dispute is answered already.")]})
    answer = (answer or "").strip()
    if len(answer) < 2:
        raise ValidationFailed(fields={"answer": [_("Write an answer the volunteer can read.")]})
    now = timezone.now()
    if upheld:
        if attendance.transfer is not None:
            with translation.override(settings.LANGUAGE_CODE):
                memo = _("Hours corrected after a dispute: %(answer)s") % {"answer": answer}
            timebank_reverse(transfer=attendance.transfer, actor=actor, memo=memo)
        attendance.transfer = _credit(attendance, actor=actor, amount=dispute.claimed_hours)
        attendance.hours = dispute.claimed_hours
        attendance.certified_by = actor
        attendance.certified_at = now
        attendance.save(update_fields=["transfer", "hours", "certified_by", "certified_at"])
    dispute.status = DisputeStatus.UPHELD if upheld else DisputeStatus.REJECTED
    dispute.answer = answer
    dispute.answered_by = actor
    dispute.answered_at = now
    dispute.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    title, hours_now = activity.title, attendance.hours
    _announce(
        [dispute.raised_by],
        key=f"activity-dispute-answer:{dispute.pk}",
        link=_mine_link(),
        actor=actor,
        words=(
            gettext_noop("Your dispute is answered"),
            gettext_noop("Upheld: %(hours)s hours for “%(title)s” now. %(answer)s")
            if upheld
            else gettext_noop(
                "Not upheld: the hours for “%(title)s” stay at %(hours)s. %(answer)s"
            ),
            {"hours": str(hours_now), "title": title, "answer": answer},
        ),
    )
    return dispute


# --- selectors -----------------------------------------------------------------------


def upcoming_activities(now: dt.datetime | None = None) -> QuerySet[Activity]:
    """Activities open for sign-up that have not ended, soonest first."""
    return Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, ends_at__gt=now or timezone.now()
    ).order_by("starts_at", "id")


def activities_near(volunteer: Volunteer, *, now: dt.datetime | None = None) -> QuerySet[Activity]:
    """Upcoming activities in the volunteer's community or within their radius (the
    activity's point, else its community's centre)."""
    upcoming = upcoming_activities(now)
    near = Q(community_id=volunteer.community_id)
    home = (volunteer.latitude, volunteer.longitude)
    if home[0] is None or home[1] is None:
        community = volunteer.community
        home = (community.lat, community.lon)
    if home[0] is not None and home[1] is not None:
        lat, lon = float(home[0]), float(home[1])
        radius = float(volunteer.radius_km)
        dlat = radius / 111.0
        dlon = radius / max(1e-6, 111.0 * math.cos(math.radians(lat)))
        box = Q(
            latitude__range=(lat - dlat, lat + dlat), longitude__range=(lon - dlon, lon + dlon)
        ) | Q(
            latitude__isnull=True,
            community__lat__range=(lat - dlat, lat + dlat),
            community__lon__range=(lon - dlon, lon + dlon),
        )
        ids = []
        for pk, a_lat, a_lon, c_lat, c_lon in upcoming.filter(box).values_list(
            "pk", "latitude", "longitude", "community__lat", "community__lon"
        ):
            point = (a_lat, a_lon) if a_lat is not None and a_lon is not None else (c_lat, c_lon)
            if point[0] is None or point[1] is None:
                continue
            if great_circle_km(lat, lon, point[0], point[1]) <= radius:
                ids.append(pk)
        near |= Q(pk__in=ids)
    return upcoming.filter(near)


def organized_q(user: Any) -> Q:
    """`access.may_organize` as a filter: the activities `user` organizes."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    organizations = staff_organizations(user)
    return Q(created_by=user) | Q(organization__in=organizations) | keeper.q("community__code")


def activities_organized_by(user: Any) -> QuerySet[Activity]:
    return Activity.objects.filter(organized_q(user))


def publishing_choices(user: Any) -> tuple[QuerySet[Region], QuerySet[Organization]]:
    """Where `user` may publish: the communities they keep (or their organizations reach)
    and the organizations they work for."""
    if not getattr(user, "is_authenticated", False):
        return Region.objects.none(), Organization.objects.none()
    organizations = Organization.objects.filter(pk__in=staff_organizations(user))
    scope = (
        user_scope(user)
        if organizations.exists()
        else user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    )
    communities = Region.objects.filter(scope.q("code"), level=RegionLevel.COMMUNITY)
    return communities.order_by("code"), organizations.order_by("name")


def may_publish_any(user: Any) -> bool:
    communities, organizations = publishing_choices(user)
    return organizations.exists() or (
        not user_scope(user, roles=RESIDENT_KEEPER_ROLES).is_empty and communities.exists()
    )


def signups_of_volunteer(volunteer: Volunteer) -> QuerySet[Signup]:
    """A volunteer's sign-ups with their activity, attendance and disputes, latest first."""
    return (
        Signup.objects.filter(volunteer=volunteer)
        .select_related(
            "activity__community", "attendance__certified_by", "attendance__recorded_by"
        )
        .prefetch_related("attendance__disputes")
        .order_by("-activity__starts_at", "-id")
    )


def certified_activity_hours(volunteer: Volunteer) -> Decimal:
    total = Attendance.objects.filter(
        signup__volunteer=volunteer, certified_at__isnull=False
    ).aggregate(total=Sum("hours"))["total"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


def signups_for_organizer(activity: Activity) -> QuerySet[Signup]:
    """Every sign-up of the activity, with the volunteer and attendance, oldest first."""
    return (
        Signup.objects.filter(activity=activity)
        .select_related(
            "volunteer",
            "decided_by",
            "attendance__recorded_by",
            "attendance__certified_by",
        )
        .prefetch_related("attendance__disputes")
        .order_by("applied_at", "id")
    )


def disputes_for_activity(activity: Activity) -> QuerySet[HoursDispute]:
    return (
        HoursDispute.objects.filter(attendance__signup__activity=activity)
        .select_related("attendance__signup__volunteer", "answered_by", "raised_by")
        .order_by("-raised_at", "-id")
    )


def disputes_visible_to(user: Any) -> QuerySet[HoursDispute]:
    """Disputes the user raised, and those about activities they organize."""
    if not getattr(user, "is_authenticated", False):
        return HoursDispute.objects.none()
    organized = Activity.objects.filter(organized_q(user)).values("pk")
    return (
        HoursDispute.objects.filter(
            Q(raised_by=user) | Q(attendance__signup__activity__in=organized)
        )
        .select_related("attendance__signup__activity", "attendance__signup__volunteer")
        .order_by("-raised_at", "-id")
    )
