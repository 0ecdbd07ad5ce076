"""Pages of facility ratings: the resident's places visited (with rate links and a
booking form), the rating page of one visit, and the staff form to record a visit.

Views parse, call a service of facilities.py, and render; refusals come back as the
service's fields and reasons.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.accounts.models import User
from linli.core.errors import LinliError
from linli.directory.choices import LocationType
from linli.directory.models import Location
from linli.residents.models import Resident
from linli.residents.services import identity_index

from .. import facilities
from ..models import FacilityRating, FacilityVisit
from ..services import is_moderator

STARS = (1, 2, 3, 4, 5)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _refusal(error: LinliError) -> dict[str, list[str]]:
    return error.fields or {"__all__": [error.message]}


def _bookable(user: User) -> list[Location]:
    """Facilities near the resident: those of their street (the first nine digits)."""
    person = Resident.objects.filter(user=user, anonymized_at__isnull=True).first()
    if person is None:
        return []
    return list(
        Location.objects.filter(
            location_type=LocationType.PHYSICAL,
            region__code__startswith=person.community_id[:9],
            closed_on__isnull=True,
        ).order_by("name", "id")[:200]
    )


@login_required
@require_http_methods(["GET", "POST"])
def visited(request: HttpRequest) -> HttpResponse:
    """Places I visited (and those visited by whom I act for), with rate links; a
    booking form."""
    user = _user(request)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("facility", "on")}
        facility = None
        if _uuid(values["facility"]):
            facility = Location.objects.filter(pk=values["facility"]).first()
        try:
            if facility is None:
                raise LinliError(fields={"facility": [_("Choose a facility from the list.")]})
            facilities.facility_booking_create(actor=user, facility=facility, on=values["on"])
            messages.success(request, _("Your booking was made."))
            return HttpResponseRedirect(reverse("evaluations:facilities_visited"))
        except LinliError as error:
            errors = _refusal(error)
            status = error.status
    today = timezone.localdate()
    rows = [
        {
            "visit": visit,
            "rating": getattr(visit, "rating", None),
            "rateable": facilities.rateable(visit, today),
        }
        for visit in facilities.visits_of(user)[:200]
    ]
    return render(
        request,
        "evaluations/facilities_visited.html",
        {
            "rows": rows,
            "bookable": _bookable(user),
            "errors": errors,
            "values": values,
            "today": today,
        },
        status=status,
    )


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError):
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    """Five stars for one visit; after rating, change the score or comment for a while."""
    user = _user(request)
    visit = (
        FacilityVisit.objects.select_related("facility", "person", "community")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    rating = FacilityRating.objects.filter(visit=visit).select_related("hidden_by").first()
    may_rate = facilities.may_rate_visit(user, visit)
    if not may_rate and not (rating is not None and is_moderator(user, rating.community_id)):
        raise Http404
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            if rating is None:
                facilities.facility_rating_submit(
                    actor=user,
                    visit=visit,
                    overall=request.POST.get("overall"),
                    comment=request.POST.get("comment", ""),
                )
                messages.success(request, _("Thank you for your rating."))
            else:
                changes: dict[str, Any] = {}
                if request.POST.get("overall"):
                    changes["overall"] = request.POST["overall"]
                if "comment" in request.POST:
                    changes["comment"] = request.POST["comment"]
                facilities.facility_rating_edit(actor=user, rating=rating, changes=changes)
                messages.success(request, _("Your rating was saved."))
            return HttpResponseRedirect(reverse("evaluations:facility_rate", args=[visit.pk]))
        except LinliError as error:
            errors = _refusal(error)
            status = error.status
    context = {
        "visit": visit,
        "rating": rating,
        "errors": errors,
        "stars": STARS,
        "may_rate": rating is None and may_rate and facilities.rateable(visit),
        "too_early": rating is None and timezone.localdate() < facilities.rate_from(visit),
        "too_late": rating is None and timezone.localdate() > facilities.rate_until(visit),
        "editable": rating is not None and may_rate and facilities.editable(rating),
        "rate_until": facilities.rate_until(visit),
    }
    return render(request, "evaluations/facility_rate.html", context, status=status)


def _person(value: str) -> Resident | None:
    """A resident by record number, or by identity number (what a visitor shows at a desk)."""
    value = value.strip()
    if value.isdigit() and len(value) < 15:
        return Resident.objects.filter(pk=int(value)).first()
    if value:
        return Resident.objects.filter(identity_index=identity_index(value.upper())).first()
    return None


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest) -> HttpResponse:
    """The facility's staff (or a community worker) records that a resident came."""
    user = _user(request)
    choices = list(facilities.facilities_recordable_by(user)[:500])
    if not choices:
        raise Http404
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("facility", "person", "on")}
        facility = next((f for f in choices if str(f.pk) == values["facility"]), None)
        person = _person(values["person"])
        missing: dict[str, list[str]] = {}
        if facility is None:
            missing["facility"] = [_("Choose a facility from the list.")]
        if person is None:
            missing["person"] = [_("No resident has this record or identity number.")]
        try:
            if facility is None or person is None:
                raise LinliError(fields=missing)
            visit = facilities.facility_visit_record(
                actor=user, facility=facility, person=person, on=values["on"] or None
            )
            messages.success(
                request,
                _("Visit recorded: %(facility)s, %(date)s.")
                % {"facility": facility.name, "date": visit.on.isoformat()},
            )
            return HttpResponseRedirect(reverse("evaluations:facility_record"))
        except LinliError as error:
            errors = _refusal(error)
            status = error.status
    recent = (
        FacilityVisit.objects.filter(facility__in=choices, recorded_by=user)
        .select_related("facility")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "evaluations/facility_record.html",
        {
            "facilities": choices,
            "errors": errors,
            "values": values,
            "recent": recent,
            "today": timezone.localdate(),
        },
        status=status,
    )


urlpatterns = [
    path("evaluations/facilities/visited/", visited, name="facilities_visited"),
    path("evaluations/facilities/visits/<int:pk>/rate/", rate, name="facility_rate"),
    path("evaluations/facilities/record/", record, name="facility_record"),
]
