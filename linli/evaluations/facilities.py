"""Facility ratings: residents who used a facility rate it.

A rating needs a `FacilityVisit`: a visit recorded by the facility's provider staff
(or a community worker of the facility's community), or a booking the resident
made for themselves. The rules follow evaluations of requests (services.py): the
visitor or their proxy rates, once per visit, from the visit's (or booking's) date
until LINLI_EVALUATION_WINDOW_DAYS after it, and may change the rating for
LINLI_EVALUATION_EDIT_HOURS. A moderator hides a comment with a reason; the score
still counts in the facility index (indices.py, kind "facility").

Dates are local dates (TIME_ZONE). The day of the visit counts: a visit recorded this
morning can be rated this afternoon; a booking for tomorrow cannot be rated today.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import is_staff_of, staff_organizations, user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.directory.choices import LocationType
from linli.directory.models import Location
from linli.notifications.services import notify_text
from linli.residents.models import Resident
from linli.residents.selectors import acted_for_q
from linli.residents.services import acts_for

from .choices import VisitKind
from .models import FacilityRating, FacilityVisit
from .services import edit_hours, first_priority_group, hide_comment, window_days

# How far ahead a resident may book: a booking months away says little about use.
BOOKING_DAYS_AHEAD = 90


# --- who may do what ----------------------------------------------------------------------


def may_record_visit(actor: User | None, facility: Location) -> bool:
    """The facility's provider staff, or a community worker over its community."""
    if actor is None or not actor.is_authenticated:
        return False
    if is_staff_of(actor, facility.organization_id):
        return True
    return facility.region_id is not None and user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(
        facility.region_id
    )


def may_rate_visit(actor: User | None, visit: FacilityVisit) -> bool:
    """The visitor (their own account) or their proxy, as for requests (services.may_rate)."""
    if actor is None:
        return False
    return acts_for(actor, visit.person)


def rate_from(visit: FacilityVisit) -> dt.date:
    return visit.on


def rate_until(visit: FacilityVisit) -> dt.date:
    return visit.on + dt.timedelta(days=window_days())


def rateable(visit: FacilityVisit, today: dt.date | None = None) -> bool:
    """Whether the visit is inside its rating window today (not whether it is rated)."""
    today = today or timezone.localdate()
    return rate_from(visit) <= today <= rate_until(visit)


def editable(rating: FacilityRating, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return now <= rating.created_at + dt.timedelta(hours=edit_hours())


# --- checks ----------------------------------------------------------------------------------


def _day(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Give a date as YYYY-MM-DD."))
        return None


def _check_facility(facility: Location, day: dt.date | None, errors: dict[str, list[str]]) -> None:
    if facility.location_type != LocationType.PHYSICAL:
        errors.setdefault("facility", []).append(_("Only a physical facility can be visited."))
    # Closed on its closing day, as the directory counts it (directory.facilities_open_on).
    if day is not None and facility.closed_on is not None and facility.closed_on <= day:
        errors.setdefault("facility", []).append(
            _("This facility closed on %(date)s.") % {"date": facility.closed_on.isoformat()}
        )
    if day is not None and facility.opened_on is not None and facility.opened_on > day:
        errors.setdefault("facility", []).append(
            _("This facility opens on %(date)s.") % {"date": facility.opened_on.isoformat()}
        )


def _score(value: Any, errors: dict[str, list[str]]) -> int | None:
    text = "" if value is None or isinstance(value, bool) else str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        errors.setdefault("overall", []).append(_("Give a whole number from 1 to 5."))
        return None
    return int(text)


def _tell_visitor(visit: FacilityVisit) -> None:
    """The visitor hears that they may rate, once the visit is committed."""
    user = visit.user
    if user is None:
        return
    link = reverse("evaluations:facility_rate", args=[visit.pk])

    def send() -> None:
        notify_text(
            user=user,
            title=gettext_noop("How was %(facility)s?"),
            body=gettext_noop("Tap to rate your visit of %(date)s."),
            values={"facility": visit.facility.name, "date": visit.on.isoformat()},
            link=link,
            key=f"facility-visit:{visit.pk}",
        )

    transaction.on_commit(send)


# --- visits and bookings ---------------------------------------------------------------------


@transaction.atomic
def facility_visit_record(
    *,
    actor: User,
    facility: Location,
    person: Resident,
    on: dt.date | str | None = None,
) -> FacilityVisit:
    """Record that `person` used `facility` on `on` (today by default): the facility's
    staff or a community worker. A booking for that day becomes the visit."""
    if not may_record_visit(actor, facility):
        raise PermissionDenied(
            _("Only the facility's staff or its community's workers record visits."),
            fields={"facility": [_("You do not work at this facility.")]},
        )
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    day = today if on in (None, "") else _day(on, "on", errors)
    if day is not None and day > today:
        errors.setdefault("on", []).append(_("A visit cannot be recorded before it happens."))
    elif day is not None and day < today - dt.timedelta(days=window_days()):
        errors.setdefault("on", []).append(
            _("Visits are recorded within %(days)d days.") % {"days": window_days()}
        )
    if person.anonymized_at is not None:
        errors.setdefault("person", []).append(_("This resident's record was anonymized."))
    _check_facility(facility, day, errors)
    if errors or day is None:
        raise ValidationFailed(fields=errors)
    known = (
        FacilityVisit.objects.select_for_update()
        .filter(facility=facility, person=person, on=day)
        .first()
    )
    if known is not None:
        if known.kind == VisitKind.VISIT:
            raise Conflict(
                _("This visit is already recorded."),
                fields={"on": [_("This visit is already recorded.")]},
            )
        known.kind = VisitKind.VISIT
        known.recorded_by = actor
        known.save(update_fields=["kind", "recorded_by"])
        return known
    try:
        with transaction.atomic():
            visit = FacilityVisit.objects.create(
                facility=facility,
                person=person,
                user_id=person.user_id,
                community_id=facility.region_id or person.community_id,
                kind=VisitKind.VISIT,
                on=day,
                recorded_by=actor,
            )
    except IntegrityError:
        raise Conflict(
            _("This visit is already recorded."),
            fields={"on": [_("This visit is already recorded.")]},
        ) from None
    _tell_visitor(visit)
    return visit


@transaction.atomic
def facility_booking_create(
    *, actor: User, facility: Location, on: dt.date | str | None
) -> FacilityVisit:
    """A resident books a facility for a day (today or later), for themselves."""
    person = Resident.objects.filter(user=actor, anonymized_at__isnull=True).first()
    if person is None:
        raise PermissionDenied(
            _("Only registered residents book facilities."),
            fields={"person": [_("Your account is not a registered resident.")]},
        )
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    day = None
    if on in (None, ""):
        errors["on"] = [_("Choose the day of your visit.")]
    else:
        day = _day(on, "on", errors)
    if day is not None and day < today:
        errors.setdefault("on", []).append(_("A booking is for today or a later day."))
    elif day is not None and day > today + dt.timedelta(days=BOOKING_DAYS_AHEAD):
        errors.setdefault("on", []).append(
            _("Bookings are taken up to %(days)d days ahead.") % {"days": BOOKING_DAYS_AHEAD}
        )
    _check_facility(facility, day, errors)
    if (
        not errors
        and day is not None
        and FacilityVisit.objects.filter(facility=facility, person=person, on=day).exists()
    ):
        errors["on"] = [_("You already have this facility on that day.")]
    if errors or day is None:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic():
            return FacilityVisit.objects.create(
                facility=facility,
                person=person,
                user=actor,
                community_id=facility.region_id or person.community_id,
                kind=VisitKind.BOOKING,
                on=day,
                recorded_by=actor,
            )
    except IntegrityError:
        raise ValidationFailed(
            fields={"on": [_("You already have this facility on that day.")]}
        ) from None


# --- ratings ---------------------------------------------------------------------------------


@transaction.atomic
def facility_rating_submit(
    *, actor: User, visit: FacilityVisit, overall: int | str | None, comment: str = ""
) -> FacilityRating:
    """Rate a facility once per visit, by the visitor or their proxy, within the window."""
    visit = (
        FacilityVisit.objects.select_for_update(of=("self",))
        .select_related("person", "facility")
        .get(pk=visit.pk)
    )
    if not may_rate_visit(actor, visit):
        raise PermissionDenied(
            _("Only the visitor or their proxy may rate this visit."),
            fields={"visit": [_("This is not your visit.")]},
        )
    if FacilityRating.objects.filter(visit=visit).exists():
        raise ValidationFailed(fields={"visit": [_("This visit has already been rated.")]})
    today = timezone.localdate()
    if today < rate_from(visit):
        raise ValidationFailed(
            fields={
                "visit": [
                    _("You can rate this visit from %(date)s.") % {"date": visit.on.isoformat()}
                ]
            }
        )
    if today > rate_until(visit):
        raise ValidationFailed(
            fields={
                "visit": [
                    _("Ratings are taken within %(days)d days of the visit.")
                    % {"days": window_days()}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    score = _score(overall, errors)
    if errors or score is None:
        raise ValidationFailed(fields=errors)
    person = visit.person
    return FacilityRating.objects.create(
        visit=visit,
        rater=actor,
        facility=visit.facility,
        community_id=visit.community_id,
        priority_group=first_priority_group(person, today),
        overall=score,
        comment=(comment or "").strip(),
        by_proxy=person.user_id != actor.pk,
    )


@transaction.atomic
def facility_rating_edit(
    *, actor: User, rating: FacilityRating, changes: dict[str, Any]
) -> FacilityRating:
    """Change a facility rating's score or comment, by its rater (or the visitor's proxy),
    within the edit hours."""
    rating = (
        FacilityRating.objects.select_for_update(of=("self",))
        .select_related("visit__person")
        .get(pk=rating.pk)
    )
    if rating.rater_id != actor.pk and not acts_for(actor, rating.visit.person):
        raise PermissionDenied(_("Only whoever rated may change the rating."))
    if not editable(rating):
        raise ValidationFailed(
            fields={
                "rating": [
                    _("A rating can be changed for %(hours)d hours only.") % {"hours": edit_hours()}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    for name in sorted(set(changes) - {"overall", "comment"}):
        errors[name] = [_("This cannot be changed.")]
    score = _score(changes["overall"], errors) if "overall" in changes else None
    if errors:
        raise ValidationFailed(fields=errors)
    if score is not None:
        rating.overall = score
    if "comment" in changes:
        rating.comment = str(changes["comment"] or "").strip()
    rating.save()
    return rating


@transaction.atomic
def facility_rating_hide_comment(
    *, actor: User, rating: FacilityRating, reason: str
) -> FacilityRating:
    """A moderator hides a facility rating's comment, saying why; the score still counts."""
    return hide_comment(rating, actor=actor, reason=reason)


# --- reads -----------------------------------------------------------------------------------


def visits_of(user: User) -> QuerySet[FacilityVisit]:
    """Visits and bookings of the user and of those they are a proxy for, newest first."""
    if not user.is_authenticated:
        return FacilityVisit.objects.none()
    people = Resident.objects.filter(acted_for_q(user), anonymized_at__isnull=True).values("pk")
    return (
        FacilityVisit.objects.filter(person__in=people)
        .select_related("facility", "person", "rating")
        .order_by("-on", "-id")
    )


def facilities_recordable_by(user: User) -> QuerySet[Location]:
    """Facilities whose visits the user may record: their provider's, or in communities
    they keep."""
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    condition = Q(organization__in=staff_organizations(user))
    if not scope.is_empty:
        condition |= scope.q("region__code")
    return Location.objects.filter(condition, location_type=LocationType.PHYSICAL).order_by(
        "name", "id"
    )


def facility_ratings_in_scope(user: User) -> QuerySet[FacilityRating]:
    """Facility ratings in the communities the user moderates."""
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return FacilityRating.objects.filter(scope.q("community__code")).select_related(
        "facility", "community", "hidden_by", "visit"
    )
