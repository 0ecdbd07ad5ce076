"""API: volunteer activities, from publication to certified hours.

Every write goes through the services of `linli.volunteers.activities`, which check who
may do it; their refusals are answered by the shared handler (400 with the field and
the reason, 403, 404). Activities are calls for volunteers: any signed-in user may read
one; sign-ups, attendance and disputes only their volunteer and the organizers.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Count, Q
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.core.errors import NotFound, PermissionDenied
from linli.directory.models import Organization
from linli.regions.models import Region

from .. import activities as svc
from ..access import may_organize, volunteer_of
from ..choices import ActivityStatus, AttendanceMethod, DisputeStatus, SignupStatus
from ..models import Activity, Attendance, HoursDispute, Signup, Team


def _hours(**options: Any) -> serializers.DecimalField:
    """Hours as the ledger keeps them (to the hundredth), as a string."""
    return serializers.DecimalField(max_digits=5, decimal_places=2, **options)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _activity(pk: int) -> Activity:
    found = (
        Activity.objects.select_related("community", "organization", "created_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No activity no. %(id)s.") % {"id": pk})
    return found


def _organizer(user: User, activity: Activity) -> None:
    if not may_organize(user, activity):
        raise PermissionDenied(_("Only the activity's organizers may do this."))


def _signup(activity: Activity, signup_id: int) -> Signup:
    found = Signup.objects.filter(activity=activity, pk=signup_id).first()
    if found is None:
        raise NotFound(_("No sign-up no. %(id)s for this activity.") % {"id": signup_id})
    return found


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


# --- what is shown ----------------------------------------------------------------------


@extend_schema_serializer(component_name="Activity")
class ActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    community = serializers.CharField(source="community_id")
    community_name = serializers.CharField(source="community.display_name")
    organization = serializers.UUIDField(source="organization_id", allow_null=True)
    organization_name = serializers.CharField(
        source="organization.name", allow_null=True, default=None
    )
    team = serializers.IntegerField(source="team_id", allow_null=True)
    organizer = serializers.CharField(source="created_by.display_name")
    address = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    confirmed = serializers.SerializerMethodField(help_text="confirmed sign-ups")
    skills = serializers.SerializerMethodField(help_text="service taxonomy codes")
    status = serializers.CharField(help_text=", ".join(ActivityStatus.values))
    status_label = serializers.CharField(source="get_status_display")

    def get_confirmed(self, activity: Activity) -> int:
        counted = getattr(activity, "confirmed_count", None)
        if counted is not None:
            return int(counted)
        return activity.signups.filter(status=SignupStatus.CONFIRMED).count()

    def get_skills(self, activity: Activity) -> list[str]:
        return sorted(term.code for term in activity.skills.all())


@extend_schema_serializer(component_name="ActivityHoursDispute")
class DisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attendance = serializers.IntegerField(source="attendance_id")
    activity = serializers.IntegerField(source="attendance.signup.activity_id")
    volunteer_name = serializers.CharField(source="attendance.signup.volunteer.name")
    claimed_hours = _hours()
    reason = serializers.CharField()
    status = serializers.CharField(help_text=", ".join(DisputeStatus.values))
    status_label = serializers.CharField(source="get_status_display")
    answer = serializers.CharField()
    answered_by = serializers.SerializerMethodField()
    answered_at = serializers.DateTimeField(allow_null=True)
    raised_at = serializers.DateTimeField()

    def get_answered_by(self, dispute: HoursDispute) -> str | None:
        return _name(dispute.answered_by)


@extend_schema_serializer(component_name="ActivityAttendance")
class AttendanceSerializer(serializers.Serializer):
    """Who was there and for how long; who recorded it and who certified the hours."""

    id = serializers.IntegerField()
    signup = serializers.IntegerField(source="signup_id")
    method = serializers.CharField(help_text=", ".join(AttendanceMethod.values))
    checked_in_at = serializers.DateTimeField()
    checked_out_at = serializers.DateTimeField(allow_null=True)
    hours = _hours(allow_null=True)
    recorded_by = serializers.SerializerMethodField()
    certified_by = serializers.SerializerMethodField()
    certified_at = serializers.DateTimeField(allow_null=True)
    transfer = serializers.IntegerField(
        source="transfer_id", allow_null=True, help_text="the time-bank credit"
    )
    disputes = DisputeSerializer(many=True, source="disputes.all")

    def get_recorded_by(self, attendance: Attendance) -> str:
        return attendance.recorded_by.display_name

    def get_certified_by(self, attendance: Attendance) -> str | None:
        return _name(attendance.certified_by)


@extend_schema_serializer(component_name="ActivitySignup")
class SignupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    activity = serializers.IntegerField(source="activity_id")
    volunteer = serializers.IntegerField(source="volunteer_id")
    volunteer_name = serializers.CharField(source="volunteer.name")
    status = serializers.CharField(help_text=", ".join(SignupStatus.values))
    status_label = serializers.CharField(source="get_status_display")
    applied_at = serializers.DateTimeField()
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)
    attendance = serializers.SerializerMethodField()

    def get_decided_by(self, signup: Signup) -> str | None:
        return _name(signup.decided_by)

    @extend_schema_field(AttendanceSerializer(allow_null=True))
    def get_attendance(self, signup: Signup) -> dict[str, Any] | None:
        attendance = _attendance_of(signup)
        return dict(AttendanceSerializer(attendance).data) if attendance else None


def _attendance_of(signup: Signup) -> Attendance | None:
    try:
        return signup.attendance
    except Attendance.DoesNotExist:
        return None


SIGNUP_RELATED = ("volunteer", "decided_by", "attendance__recorded_by", "attendance__certified_by")


def _signups(**filters: Any) -> Any:
    return (
        Signup.objects.filter(**filters)
        .select_related(*SIGNUP_RELATED)
        .prefetch_related("attendance__disputes__answered_by")
    )


def _fresh_attendance(pk: int) -> Attendance:
    return (
        Attendance.objects.select_related("recorded_by", "certified_by")
        .prefetch_related("disputes__answered_by")
        .get(pk=pk)
    )


@extend_schema_serializer(component_name="MyActivity")
class MyActivitySerializer(serializers.Serializer):
    """One of the caller's sign-ups: the activity, the sign-up's state, the attendance."""

    signup = serializers.IntegerField(source="id")
    status = serializers.CharField(help_text=", ".join(SignupStatus.values))
    status_label = serializers.CharField(source="get_status_display")
    activity = ActivitySerializer()
    attendance = serializers.SerializerMethodField()

    @extend_schema_field(AttendanceSerializer(allow_null=True))
    def get_attendance(self, signup: Signup) -> dict[str, Any] | None:
        attendance = _attendance_of(signup)
        return dict(AttendanceSerializer(attendance).data) if attendance else None


# --- activities ---------------------------------------------------------------------------


class ActivityListApi(generics.GenericAPIView):
    """GET: upcoming activities near the caller (a volunteer: in their community or within
    their radius; anyone else: all upcoming), or with `organized=true` those the caller
    organizes. POST: publish an activity (provider staff of the organization, or a
    community worker of the community)."""

    filter_backends: list = []
    queryset = Activity.objects.none()

    @extend_schema_serializer(component_name="ActivityFilter")
    class FilterSerializer(serializers.Serializer):
        organized = serializers.BooleanField(
            required=False, default=False, help_text="true: the activities you organize"
        )

    @extend_schema_serializer(component_name="ActivityInput")
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=4000
        )
        community = serializers.CharField(help_text="the 12-digit code where it takes place")
        organization = serializers.UUIDField(
            required=False, allow_null=True, default=None, help_text="the organizing organization"
        )
        team = serializers.IntegerField(required=False, allow_null=True, default=None)
        address = serializers.CharField(max_length=255)
        latitude = serializers.FloatField(required=False, allow_null=True, default=None)
        longitude = serializers.FloatField(required=False, allow_null=True, default=None)
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        capacity = serializers.IntegerField(min_value=1, help_text="people wanted")
        skills = serializers.ListField(
            child=serializers.CharField(max_length=100),
            required=False,
            default=list,
            help_text="service taxonomy codes",
        )

        def validate_community(self, value: str) -> Region:
            region = Region.objects.filter(code=value).first()
            if region is None:
                raise serializers.ValidationError(
                    _("No region with code %(code)s.") % {"code": value}
                )
            return region

        def validate_organization(self, value: Any) -> Organization | None:
            if value is None:
                return None
            found = Organization.objects.filter(pk=value).first()
            if found is None:
                raise serializers.ValidationError(_("No such organization."))
            return found

        def validate_team(self, value: int | None) -> Team | None:
            if value is None:
                return None
            found = Team.objects.filter(pk=value).first()
            if found is None:
                raise serializers.ValidationError(_("No team no. %(id)s.") % {"id": value})
            return found

    @extend_schema(parameters=[FilterSerializer], responses=ActivitySerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if params.validated_data["organized"]:
            found = svc.activities_organized_by(user).order_by("-starts_at", "-id")
        else:
            volunteer = volunteer_of(user)
            found = svc.activities_near(volunteer) if volunteer else svc.upcoming_activities()
        found = (
            found.select_related("community", "organization", "created_by")
            .prefetch_related("skills")
            .annotate(
                confirmed_count=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED))
            )
        )
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ActivitySerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        activity = svc.activity_publish(actor=_user(request), **data.validated_data)
        return Response(
            ActivitySerializer(_activity(activity.pk)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:activity-detail", args=[activity.pk])},
        )


class ActivityDetailApi(APIView):
    """One activity (any signed-in user may read a call for volunteers)."""

    @extend_schema(responses=ActivitySerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ActivitySerializer(_activity(pk)).data)


class ActivityCancelApi(APIView):
    """Call the activity off (its organizers), saying why; those signed up are told."""

    @extend_schema_serializer(component_name="ActivityCancelInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses=ActivitySerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        activity = svc.activity_cancel(
            actor=_user(request), activity=_activity(pk), reason=data.validated_data["reason"]
        )
        return Response(ActivitySerializer(_activity(activity.pk)).data)


# --- sign-ups -----------------------------------------------------------------------------


class ActivitySignupApi(APIView):
    """Sign up for the activity (verified volunteers); the organizer then decides."""

    @extend_schema(request=None, responses={201: SignupSerializer})
    def post(self, request: Request, pk: int) -> Response:
        signup = svc.signup_create(actor=_user(request), activity=_activity(pk))
        return Response(
            SignupSerializer(_signups(pk=signup.pk).get()).data, status=status.HTTP_201_CREATED
        )


class ActivityWithdrawApi(APIView):
    """Withdraw one's sign-up (before checking in)."""

    @extend_schema(request=None, responses=SignupSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        activity = _activity(pk)
        signup = Signup.objects.filter(activity=activity, volunteer__user=user).first()
        if signup is None:
            raise NotFound(_("You have not signed up for this activity."))
        svc.signup_withdraw(actor=user, signup=signup)
        return Response(SignupSerializer(_signups(pk=signup.pk).get()).data)


class ActivitySignupListApi(APIView):
    """Every sign-up of the activity with its attendance and disputes (its organizers)."""

    @extend_schema(responses=SignupSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        activity = _activity(pk)
        _organizer(_user(request), activity)
        rows = _signups(activity=activity).order_by("applied_at", "id")
        return Response(SignupSerializer(rows, many=True).data)


class ActivityDecideApi(APIView):
    """Confirm (within the capacity) or decline a sign-up (the activity's organizers)."""

    @extend_schema_serializer(component_name="ActivityDecideInput")
    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(help_text="true confirms, false declines")

    @extend_schema(request=InputSerializer, responses=SignupSerializer)
    def post(self, request: Request, pk: int, signup_id: int) -> Response:
        activity = _activity(pk)
        signup = _signup(activity, signup_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        svc.signup_decide(
            actor=_user(request), signup=signup, confirm=data.validated_data["confirm"]
        )
        return Response(SignupSerializer(_signups(pk=signup.pk).get()).data)


# --- attendance ---------------------------------------------------------------------------


class ActivityQrApi(APIView):
    """A fresh check-in code for the site (the activity's organizers), for a kiosk or an
    app to show as a QR code: the URL a volunteer's phone opens, and when it expires."""

    @extend_schema_serializer(component_name="ActivityQrCode")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        url = serializers.CharField(help_text="what the QR code encodes")
        expires_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        now = timezone.now()
        token = svc.activity_qr_token(actor=_user(request), activity=_activity(pk), now=now)
        url = request.build_absolute_uri(reverse("volunteers:activity_checkin", args=[token]))
        return Response(
            self.OutputSerializer(
                {"token": token, "url": url, "expires_at": svc.qr_expires_at(now)}
            ).data
        )


class ActivityCheckinApi(APIView):
    """Check in or out with the code scanned at the site (a confirmed volunteer). The
    first scan checks in, the next checks out; `direction` "in" or "out" refuses the
    other instead. A code of another activity, an expired or damaged code, a check-out
    before a check-in and a second check-in are refused with the reason."""

    @extend_schema_serializer(component_name="ActivityCheckinInput")
    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=500)
        direction = serializers.ChoiceField(
            choices=[("auto", "auto"), ("in", "in"), ("out", "out")],
            required=False,
            default="auto",
        )

    @extend_schema_serializer(component_name="ActivityCheckinResult")
    class OutputSerializer(serializers.Serializer):
        checked = serializers.CharField(help_text="in or out: what this scan did")
        attendance = AttendanceSerializer()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attendance = svc.attendance_scan(
            actor=_user(request),
            activity=_activity(pk),
            token=data.validated_data["token"],
            direction=data.validated_data["direction"],
        )
        checked = "in" if attendance.checked_out_at is None else "out"
        return Response(
            self.OutputSerializer(
                {"checked": checked, "attendance": _fresh_attendance(attendance.pk)}
            ).data
        )


class ActivityAttendanceApi(APIView):
    """The organizer records a confirmed volunteer's attendance afterwards: the times
    (hours computed: to the quarter hour, at most the activity's span), or the hours
    directly (these win)."""

    @extend_schema_serializer(component_name="AttendanceRecordInput")
    class InputSerializer(serializers.Serializer):
        checked_in_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        checked_out_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        hours = _hours(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses=AttendanceSerializer)
    def post(self, request: Request, pk: int, signup_id: int) -> Response:
        activity = _activity(pk)
        signup = _signup(activity, signup_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attendance = svc.attendance_record(
            actor=_user(request), signup=signup, **data.validated_data
        )
        return Response(AttendanceSerializer(_fresh_attendance(attendance.pk)).data)


class ActivityCertifyApi(APIView):
    """Certify hours (the activity's organizers): one attendance, or every one with hours
    not yet certified. Each is credited to the volunteer's time bank."""

    @extend_schema_serializer(component_name="ActivityCertifyInput")
    class InputSerializer(serializers.Serializer):
        attendance = serializers.IntegerField(
            required=False, allow_null=True, default=None, help_text="empty: all of them"
        )

    @extend_schema(request=InputSerializer, responses=AttendanceSerializer(many=True))
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        activity = _activity(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chosen = data.validated_data["attendance"]
        if chosen is None:
            done = svc.attendance_certify_all(actor=user, activity=activity)
        else:
            attendance = Attendance.objects.filter(signup__activity=activity, pk=chosen).first()
            if attendance is None:
                raise NotFound(_("No attendance no. %(id)s here.") % {"id": chosen})
            done = [svc.attendance_certify(actor=user, attendance=attendance)]
        rows = [_fresh_attendance(a.pk) for a in done]
        return Response(AttendanceSerializer(rows, many=True).data)


class MyActivitiesApi(APIView):
    """The caller's sign-ups, latest activity first, with attendance, hours and disputes."""

    @extend_schema(responses=MyActivitySerializer(many=True))
    def get(self, request: Request) -> Response:
        volunteer = volunteer_of(_user(request))
        if volunteer is None:
            return Response([])
        rows = svc.signups_of_volunteer(volunteer).prefetch_related("activity__skills")
        return Response(MyActivitySerializer(rows, many=True).data)


# --- disputes -----------------------------------------------------------------------------


class DisputeListApi(APIView):
    """Disputes the caller raised, and those about activities they organize."""

    @extend_schema(responses=DisputeSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = svc.disputes_visible_to(_user(request)).select_related("answered_by")
        return Response(DisputeSerializer(rows, many=True).data)


class DisputeRaiseApi(APIView):
    """The volunteer disputes certified hours: the hours they claim and why (within the
    dispute period after certification)."""

    @extend_schema_serializer(component_name="DisputeRaiseInput")
    class InputSerializer(serializers.Serializer):
        claimed_hours = _hours()
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={201: DisputeSerializer})
    def post(self, request: Request, attendance_id: int) -> Response:
        user = _user(request)
        attendance = Attendance.objects.filter(
            pk=attendance_id, signup__volunteer__user=user
        ).first()
        if attendance is None:
            raise NotFound(_("No attendance no. %(id)s of yours.") % {"id": attendance_id})
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = svc.dispute_raise(actor=user, attendance=attendance, **data.validated_data)
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeAnswerApi(APIView):
    """The organizer answers: upheld (the old credit is reversed and the claimed hours
    credited) or not (the hours stay). Both read the answer."""

    @extend_schema_serializer(component_name="DisputeAnswerInput")
    class InputSerializer(serializers.Serializer):
        upheld = serializers.BooleanField()
        answer = serializers.CharField(max_length=2000)

    @extend_schema(
        request=InputSerializer,
        responses={200: DisputeSerializer, 404: OpenApiResponse(description="no such dispute")},
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        user = _user(request)
        dispute = svc.disputes_visible_to(user).filter(pk=dispute_id).first()
        if dispute is None:
            raise NotFound(_("No dispute no. %(id)s is visible to you.") % {"id": dispute_id})
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answered = svc.dispute_answer(actor=user, dispute=dispute, **data.validated_data)
        return Response(DisputeSerializer(answered).data)


urlpatterns = [
    path("activities/", ActivityListApi.as_view(), name="activity-list"),
    path("activities/mine", MyActivitiesApi.as_view(), name="activity-mine"),
    path("activities/disputes", DisputeListApi.as_view(), name="activity-dispute-list"),
    path(
        "activities/disputes/<int:dispute_id>/answer",
        DisputeAnswerApi.as_view(),
        name="activity-dispute-answer",
    ),
    path(
        "activities/attendance/<int:attendance_id>/disputes",
        DisputeRaiseApi.as_view(),
        name="activity-dispute-raise",
    ),
    path("activities/<int:pk>/", ActivityDetailApi.as_view(), name="activity-detail"),
    path("activities/<int:pk>/cancel", ActivityCancelApi.as_view(), name="activity-cancel"),
    path("activities/<int:pk>/signup", ActivitySignupApi.as_view(), name="activity-signup"),
    path("activities/<int:pk>/withdraw", ActivityWithdrawApi.as_view(), name="activity-withdraw"),
    path("activities/<int:pk>/signups", ActivitySignupListApi.as_view(), name="activity-signups"),
    path(
        "activities/<int:pk>/signups/<int:signup_id>/decide",
        ActivityDecideApi.as_view(),
        name="activity-decide",
    ),
    path(
        "activities/<int:pk>/signups/<int:signup_id>/attendance",
        ActivityAttendanceApi.as_view(),
        name="activity-attendance",
    ),
    path("activities/<int:pk>/qr", ActivityQrApi.as_view(), name="activity-qr"),
    path("activities/<int:pk>/checkin", ActivityCheckinApi.as_view(), name="activity-checkin"),
    path("activities/<int:pk>/certify", ActivityCertifyApi.as_view(), name="activity-certify"),
]
