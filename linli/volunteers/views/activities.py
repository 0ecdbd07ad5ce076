"""Pages: volunteer activities.

Volunteers find activities near them, sign up, scan the code at the site and follow
their hours ("my activities"), disputing them when wrong. Organizers publish, decide
sign-ups, show the code, record who could not scan, certify hours and answer
disputes. Views parse, call a selector or a service (linli/volunteers/activities.py)
and render; refusals come back at the field (400), as a 403, or as a message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.core.errors import LinliError, PermissionDenied, ValidationFailed
from linli.residents.forms import add_service_errors

from .. import activities as svc
from ..access import may_organize, volunteer_of
from ..activity_forms import ActivityForm, AnswerForm, CancelForm, DisputeForm, RecordForm
from ..choices import ActivityStatus, DisputeStatus, SignupStatus
from ..models import Activity, Attendance, HoursDispute, Signup

LIST_LIMIT = 50
# The organizer's list keeps activities that ended within this many days.
RECENT_DAYS = 30
# The QR code's modules: about 330 pixels wide on a phone or a tablet at the site.
QR_PIXELS = 330


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _activity(pk: int) -> Activity:
    found = (
        Activity.objects.select_related("community", "organization", "created_by", "team")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _organizer_only(user: User, activity: Activity) -> None:
    if not may_organize(user, activity):
        raise DjangoPermissionDenied(_("Only the activity's organizers see this page."))


def _refused(request: HttpRequest, error: LinliError) -> None:
    """A refusal shown as a message at the top of the next page."""
    reasons = [reason for items in error.fields.values() for reason in items]
    for reason in reasons or [error.message]:
        messages.error(request, reason)


def _back(activity: Activity, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("volunteers:activity_detail", args=[activity.pk])
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


def _hours_text(hours: Any) -> str:
    """2.50 → "2.5"; 3.00 → "3"."""
    text = f"{hours:f}".rstrip("0").rstrip(".") if hours is not None else ""
    return text or "0"


# Several forms of one kind on a page: each its own element ids.


def _record_form(signup_id: int, data: Any = None) -> RecordForm:
    return RecordForm(data, auto_id=f"record-{signup_id}-%s")


def _answer_form(dispute_id: int, data: Any = None) -> AnswerForm:
    return AnswerForm(data, auto_id=f"answer-{dispute_id}-%s")


def _dispute_form(attendance_id: int, data: Any = None) -> DisputeForm:
    return DisputeForm(data, auto_id=f"dispute-{attendance_id}-%s")


# --- lists -----------------------------------------------------------------------------


def _with_counts(activities: Any) -> Any:
    return activities.select_related("community", "organization").annotate(
        confirmed=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED))
    )


@never_cache
@login_required
@require_GET
def activity_list(request: HttpRequest) -> HttpResponse:
    """Volunteers: upcoming activities near them. Organizers: theirs, and a button to
    publish. Anyone else: upcoming activities, and how to become a volunteer."""
    user = _user(request)
    volunteer = volunteer_of(user)
    now = timezone.now()
    organized = _with_counts(
        svc.activities_organized_by(user).filter(ends_at__gt=now - dt.timedelta(days=RECENT_DAYS))
    ).order_by("starts_at", "id")[:LIST_LIMIT]
    near: Any = []
    signed: dict[int, str] = {}
    if volunteer is not None:
        near = _with_counts(svc.activities_near(volunteer, now=now))[:LIST_LIMIT]
        signed = {
            s.activity_id: s.get_status_display()
            for s in Signup.objects.filter(volunteer=volunteer).exclude(
                status=SignupStatus.WITHDRAWN
            )
        }
    elif not svc.may_publish_any(user):
        near = _with_counts(svc.upcoming_activities(now))[:LIST_LIMIT]
    return render(
        request,
        "volunteers/activity_list.html",
        {
            "volunteer": volunteer,
            "refusal": svc.volunteer_refusal(volunteer) if volunteer else "",
            "near": [(a, signed.get(a.pk, "")) for a in near],
            "organized": list(organized),
            "may_publish": svc.may_publish_any(user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    communities, organizations = svc.publishing_choices(user)
    if not svc.may_publish_any(user):
        raise DjangoPermissionDenied(
            _("Only provider staff and community workers publish activities.")
        )
    regions, groups = list(communities), list(organizations)
    if request.method == "GET":
        blank = ActivityForm(communities=regions, organizations=groups)
        return render(request, "volunteers/activity_form.html", {"form": blank})
    form = ActivityForm(request.POST, communities=regions, organizations=groups)
    if form.is_valid():
        try:
            activity = svc.activity_publish(actor=user, **form.to_values())
        except ValidationFailed as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, error.message)
            return render(request, "volunteers/activity_form.html", {"form": form}, status=403)
        else:
            messages.success(request, _("Published. Volunteers near it can sign up now."))
            return _back(activity)
    return render(request, "volunteers/activity_form.html", {"form": form}, status=400)


# --- an activity's page ------------------------------------------------------------------


def _signup_rows(activity: Activity, failed: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for signup in svc.signups_for_organizer(activity):
        attendance = getattr(signup, "attendance", None)
        rows.append(
            {
                "signup": signup,
                "attendance": attendance,
                "hours": _hours_text(attendance.hours) if attendance and attendance.hours else "",
                "record": failed.get(f"record:{signup.pk}") or _record_form(signup.pk),
                "record_open": f"record:{signup.pk}" in failed,
            }
        )
    return rows


def _render_detail(
    request: HttpRequest,
    activity: Activity,
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    failed = failed or {}
    volunteer = volunteer_of(user)
    mine = (
        Signup.objects.filter(activity=activity, volunteer=volunteer)
        .select_related("attendance")
        .first()
        if volunteer
        else None
    )
    attendance = getattr(mine, "attendance", None) if mine else None
    organizer = may_organize(user, activity)
    confirmed = activity.signups.filter(status=SignupStatus.CONFIRMED).count()
    now = timezone.now()
    is_open = activity.status == ActivityStatus.PUBLISHED and activity.ends_at > now
    context: dict[str, Any] = {
        "activity": activity,
        "skills": list(activity.skills.order_by("code")),
        "confirmed": confirmed,
        "is_open": is_open,
        "mine": mine,
        "my_attendance": attendance,
        "my_hours": _hours_text(attendance.hours) if attendance and attendance.hours else "",
        "refusal": svc.volunteer_refusal(volunteer) if volunteer else "",
        "may_sign_up": bool(
            volunteer
            and not svc.volunteer_refusal(volunteer)
            and is_open
            and confirmed < activity.capacity
            and (mine is None or mine.status == SignupStatus.WITHDRAWN)
        ),
        "may_withdraw": bool(
            mine
            and mine.status in (SignupStatus.APPLIED, SignupStatus.CONFIRMED)
            and attendance is None
        ),
        "organizer": organizer,
    }
    if organizer:
        disputes = []
        for dispute in svc.disputes_for_activity(activity):
            disputes.append(
                {
                    "dispute": dispute,
                    "form": failed.get(f"answer:{dispute.pk}") or _answer_form(dispute.pk),
                    "open": dispute.status == DisputeStatus.OPEN,
                }
            )
        context |= {
            "rows": _signup_rows(activity, failed),
            "disputes": disputes,
            "cancel_form": failed.get("cancel") or CancelForm(),
            "cancel_open": "cancel" in failed,
            "to_certify": Attendance.objects.filter(
                signup__activity=activity, certified_at__isnull=True, hours__isnull=False
            ).count(),
        }
    return render(request, "volunteers/activity_detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _activity(pk))


@login_required
@require_POST
def activity_signup(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    try:
        svc.signup_create(actor=_user(request), activity=activity)
    except LinliError as error:
        _refused(request, error)
    else:
        messages.success(request, _("You signed up. The organizer will confirm you."))
    return _back(activity)


@login_required
@require_POST
def activity_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    volunteer = volunteer_of(_user(request))
    signup = Signup.objects.filter(activity=activity, volunteer=volunteer).first()
    if signup is None:
        raise Http404
    try:
        svc.signup_withdraw(actor=_user(request), signup=signup)
    except LinliError as error:
        _refused(request, error)
    else:
        messages.success(request, _("You withdrew your sign-up."))
    return _back(activity)


@login_required
@require_POST
def activity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    user = _user(request)
    _organizer_only(user, activity)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            svc.activity_cancel(actor=user, activity=activity, reason=form.cleaned_data["reason"])
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The activity is cancelled; those who signed up are told."))
            return _back(activity)
    return _render_detail(request, activity, {"cancel": form}, status=400)


def _signup_of(activity: Activity, signup_id: int) -> Signup:
    signup = Signup.objects.filter(activity=activity, pk=signup_id).first()
    if signup is None:
        raise Http404
    return signup


@login_required
@require_POST
def activity_decide(request: HttpRequest, pk: int, signup_id: int) -> HttpResponse:
    activity = _activity(pk)
    user = _user(request)
    _organizer_only(user, activity)
    signup = _signup_of(activity, signup_id)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "decline"):
        messages.error(request, _("Choose confirm or decline."))
        return _back(activity, f"signup-{signup.pk}")
    try:
        svc.signup_decide(actor=user, signup=signup, confirm=decision == "confirm")
    except LinliError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Confirmed.") if decision == "confirm" else _("Declined."))
    return _back(activity, f"signup-{signup.pk}")


@login_required
@require_POST
def activity_record(request: HttpRequest, pk: int, signup_id: int) -> HttpResponse:
    activity = _activity(pk)
    user = _user(request)
    _organizer_only(user, activity)
    signup = _signup_of(activity, signup_id)
    form = _record_form(signup.pk, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            svc.attendance_record(
                actor=user,
                signup=signup,
                checked_in_at=data["checked_in_at"],
                checked_out_at=data["checked_out_at"],
                hours=data["hours"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error, rename={"signup": "hours", "attendance": "hours"})
        else:
            messages.success(request, _("Attendance recorded."))
            return _back(activity, f"signup-{signup.pk}")
    return _render_detail(request, activity, {f"record:{signup.pk}": form}, status=400)


@login_required
@require_POST
def activity_certify(request: HttpRequest, pk: int) -> HttpResponse:
    """Certify one attendance (`attendance` posted) or all that have hours."""
    activity = _activity(pk)
    user = _user(request)
    _organizer_only(user, activity)
    chosen = request.POST.get("attendance", "")
    try:
        if chosen:
            attendance = Attendance.objects.filter(
                signup__activity=activity, pk=int(chosen) if chosen.isdigit() else 0
            ).first()
            if attendance is None:
                raise Http404
            svc.attendance_certify(actor=user, attendance=attendance)
            messages.success(request, _("Hours certified and credited."))
        else:
            done = svc.attendance_certify_all(actor=user, activity=activity)
            messages.success(
                request,
                ngettext(
                    "Certified and credited: %(n)s volunteer.",
                    "Certified and credited: %(n)s volunteers.",
                    len(done),
                )
                % {"n": len(done)},
            )
    except LinliError as error:
        _refused(request, error)
    return _back(activity, "attendance")


@login_required
@require_POST
def activity_dispute_answer(request: HttpRequest, pk: int, dispute_id: int) -> HttpResponse:
    activity = _activity(pk)
    user = _user(request)
    _organizer_only(user, activity)
    dispute = HoursDispute.objects.filter(
        pk=dispute_id, attendance__signup__activity=activity
    ).first()
    if dispute is None:
        raise Http404
    form = _answer_form(dispute.pk, request.POST)
    if form.is_valid():
        try:
            svc.dispute_answer(
                actor=user,
                dispute=dispute,
                upheld=form.cleaned_data["decision"] == "upheld",
                answer=form.cleaned_data["answer"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error, rename={"dispute": "answer", "hours": "decision"})
        else:
            messages.success(request, _("Answered. The volunteer is told."))
            return _back(activity, "disputes")
    return _render_detail(request, activity, {f"answer:{dispute.pk}": form}, status=400)


# --- the code at the site -------------------------------------------------------------


def qr_svg(url: str) -> str:
    """The code as inline SVG (no image request, no script), without a fixed size so the
    style sheet scales it to the screen (its viewBox keeps the modules square)."""
    code = segno.make(url, error="m")
    width = code.symbol_size(scale=1)[0]
    scale = max(3, QR_PIXELS // width)
    return str(
        code.svg_inline(
            scale=scale,
            omitsize=True,
            dark="#000",
            light="#fff",
            svgclass="activity-qr",
            title=_("Check-in code"),
        )
    )


@never_cache
@login_required
@require_GET
def activity_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The organizer's screen at the site: a code that changes every few minutes."""
    activity = _activity(pk)
    user = _user(request)
    _organizer_only(user, activity)
    now = timezone.now()
    refresh = max(30, svc.qr_minutes() * 60 // 2)
    context: dict[str, Any] = {"activity": activity, "refresh": refresh}
    try:
        token = svc.activity_qr_token(actor=user, activity=activity, now=now)
    except ValidationFailed as error:
        context["reason"] = next(iter(error.fields.values()))[0]
    else:
        url = request.build_absolute_uri(reverse("volunteers:activity_checkin", args=[token]))
        context |= {
            "svg": mark_safe(qr_svg(url)),  # noqa: S308 - segno's own markup, no user text
            "url": url,
            "expires_at": svc.qr_expires_at(now),
        }
    context["checked_in"] = Attendance.objects.filter(
        signup__activity=activity, checked_out_at__isnull=True
    ).count()
    context["checked_out"] = Attendance.objects.filter(
        signup__activity=activity, checked_out_at__isnull=False
    ).count()
    response = render(request, "volunteers/activity_qr.html", context)
    _opens, closes = svc.qr_window(activity)
    if activity.status == ActivityStatus.PUBLISHED and now <= closes:
        response.headers["Refresh"] = str(refresh)
    return response


@never_cache
@login_required
@require_GET
def activity_checkin(request: HttpRequest, token: str) -> HttpResponse:
    """What the scan opens: checks in (or out), then shows the result on its own page,
    so that reloading it changes nothing."""
    try:
        attendance = svc.attendance_scan(actor=_user(request), token=token)
    except ValidationFailed as error:
        reason = next(iter(error.fields.values()))[0] if error.fields else error.message
        return render(request, "volunteers/activity_checkin.html", {"reason": reason}, status=400)
    except PermissionDenied as error:
        return render(
            request, "volunteers/activity_checkin.html", {"reason": error.message}, status=403
        )
    return redirect("volunteers:activity_scanned", pk=attendance.signup.activity_id)


@never_cache
@login_required
@require_GET
def activity_scanned(request: HttpRequest, pk: int) -> HttpResponse:
    """The volunteer's attendance at the activity, in big words."""
    activity = _activity(pk)
    volunteer = volunteer_of(_user(request))
    attendance = Attendance.objects.filter(
        signup__activity=activity, signup__volunteer=volunteer
    ).first()
    if volunteer is None or attendance is None:
        raise Http404
    return render(
        request,
        "volunteers/activity_scanned.html",
        {
            "activity": activity,
            "attendance": attendance,
            "hours": _hours_text(attendance.hours) if attendance.hours else "",
        },
    )


# --- my activities ---------------------------------------------------------------------


def _render_mine(
    request: HttpRequest, failed: dict[int, DisputeForm] | None = None, status: int = 200
) -> HttpResponse:
    volunteer = volunteer_of(_user(request))
    failed = failed or {}
    rows: list[dict[str, Any]] = []
    if volunteer is not None:
        now = timezone.now()
        window = dt.timedelta(days=svc.dispute_days())
        for signup in svc.signups_of_volunteer(volunteer):
            attendance = getattr(signup, "attendance", None)
            disputes = list(attendance.disputes.all()) if attendance else []
            may_dispute = bool(
                attendance
                and attendance.certified_at
                and now - attendance.certified_at <= window
                and not any(d.status == DisputeStatus.OPEN for d in disputes)
            )
            rows.append(
                {
                    "signup": signup,
                    "activity": signup.activity,
                    "attendance": attendance,
                    "hours": _hours_text(attendance.hours)
                    if attendance and attendance.hours
                    else "",
                    "disputes": disputes,
                    "may_dispute": may_dispute,
                    "form": (
                        failed.get(attendance.pk)
                        or (_dispute_form(attendance.pk) if may_dispute else None)
                    )
                    if attendance
                    else None,
                }
            )
    return render(
        request,
        "volunteers/activity_mine.html",
        {
            "volunteer": volunteer,
            "rows": rows,
            "total": _hours_text(svc.certified_activity_hours(volunteer)) if volunteer else "0",
            "dispute_days": svc.dispute_days(),
            "failed": bool(failed),
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def activity_mine(request: HttpRequest) -> HttpResponse:
    return _render_mine(request)


@login_required
@require_POST
def activity_dispute(request: HttpRequest, attendance_id: int) -> HttpResponse:
    """The volunteer disputes certified hours."""
    user = _user(request)
    attendance = Attendance.objects.filter(pk=attendance_id, signup__volunteer__user=user).first()
    if attendance is None:
        raise Http404
    form = _dispute_form(attendance.pk, request.POST)
    if form.is_valid():
        try:
            svc.dispute_raise(
                actor=user,
                attendance=attendance,
                claimed_hours=form.cleaned_data["claimed_hours"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error, rename={"attendance": "claimed_hours"})
        else:
            messages.success(request, _("Sent. The organizer will answer you here."))
            return HttpResponseRedirect(
                f"{reverse('volunteers:activity_mine')}#attendance-{attendance.pk}"
            )
    return _render_mine(request, {attendance.pk: form}, status=400)


urlpatterns = [
    path("activities/", activity_list, name="activity_list"),
    path("activities/new/", activity_new, name="activity_new"),
    path("activities/mine/", activity_mine, name="activity_mine"),
    path("activities/checkin/<str:token>/", activity_checkin, name="activity_checkin"),
    path("activities/<int:pk>/", activity_detail, name="activity_detail"),
    path("activities/<int:pk>/qr/", activity_qr, name="activity_qr"),
    path("activities/<int:pk>/scanned/", activity_scanned, name="activity_scanned"),
    path("activities/<int:pk>/signup/", activity_signup, name="activity_signup"),
    path("activities/<int:pk>/withdraw/", activity_withdraw, name="activity_withdraw"),
    path("activities/<int:pk>/cancel/", activity_cancel, name="activity_cancel"),
    path("activities/<int:pk>/certify/", activity_certify, name="activity_certify"),
    path(
        "activities/<int:pk>/signups/<int:signup_id>/decide/",
        activity_decide,
        name="activity_decide",
    ),
    path(
        "activities/<int:pk>/signups/<int:signup_id>/attendance/",
        activity_record,
        name="activity_record",
    ),
    path(
        "activities/<int:pk>/disputes/<int:dispute_id>/answer/",
        activity_dispute_answer,
        name="activity_dispute_answer",
    ),
    path(
        "activities/attendance/<int:attendance_id>/dispute/",
        activity_dispute,
        name="activity_dispute",
    ),
]
