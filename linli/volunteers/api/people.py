"""API: volunteers, social workers and teams.

Lists come from the scoping selectors of `people` (a community worker sees their
communities' volunteers; provider staff, those their organization verifies); what a
caller may not see answers 404, the same as what does not exist. Every write goes
through the services of `people`, which check permission again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, Q, QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.core.errors import NotFound, PermissionDenied
from linli.directory.models import Organization
from linli.regions.models import Region

from ..choices import Qualification, VolunteerStatus
from ..ledger import earned_hours
from ..models import Account, SocialWorker, Team, Volunteer
from ..people import (
    DECISIONS,
    SocialWorkerInput,
    VolunteerInput,
    may_see_volunteers,
    social_worker_decide,
    social_worker_register,
    social_workers_visible_to,
    team_create,
    team_join,
    team_leave,
    teams_kept_by,
    teams_open_to,
    volunteer_decide,
    volunteer_list,
    volunteer_register,
    volunteers_visible_to,
)

STATUSES = ", ".join(VolunteerStatus.values)
SLOTS_HELP = '[{"day": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}]; [] = any time'


def _user(request: Request) -> User:
    return cast(User, request.user)


def _require_lists(user: User) -> None:
    if not may_see_volunteers(user):
        raise PermissionDenied(_("Community workers and provider staff keep this list."))


def _region(code: str) -> Region | None:
    if not code:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise serializers.ValidationError(_("No region with code %(code)s.") % {"code": code})
    return region


def _organization(value: Any) -> Organization | None:
    if value is None:
        return None
    organization = Organization.objects.filter(pk=value).first()
    if organization is None:
        raise serializers.ValidationError(_("No such organization."))
    return organization


# --- shapes ------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="VolunteerTeamRef")
class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="Volunteer")
class VolunteerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    community = serializers.CharField(source="community_id")
    community_name = serializers.CharField(source="community.display_name")
    organization = serializers.UUIDField(source="organization_id", allow_null=True)
    organization_name = serializers.CharField(
        source="organization.name", allow_null=True, default=None
    )
    status = serializers.CharField(help_text=STATUSES)
    status_label = serializers.CharField(source="get_status_display")
    status_reason = serializers.CharField()
    skills = serializers.SerializerMethodField()
    availability = serializers.JSONField(help_text=SLOTS_HELP)
    radius_km = serializers.FloatField()
    teams = TeamRefSerializer(many=True, source="teams.all")
    responder = serializers.IntegerField(
        source="responder_id", allow_null=True, help_text="the responder dispatch offers tasks"
    )
    registered_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)

    def get_skills(self, volunteer: Volunteer) -> list[str]:
        return sorted(term.code for term in volunteer.skills.all())


@extend_schema_serializer(component_name="VolunteerDetail")
class VolunteerDetailSerializer(VolunteerSerializer):
    earned_hours = serializers.SerializerMethodField(
        help_text="hours earned by service, corrections included (a decimal string)"
    )
    balance = serializers.SerializerMethodField(help_text="time-bank balance (a decimal string)")
    verified_by = serializers.CharField(
        source="verified_by.display_name", allow_null=True, default=None
    )

    def get_earned_hours(self, volunteer: Volunteer) -> str:
        return str(earned_hours(volunteer.user))

    def get_balance(self, volunteer: Volunteer) -> str:
        account = Account.objects.filter(user_id=volunteer.user_id).first()
        return str(account.balance if account else "0.00")


def _detailed(volunteer: Volunteer) -> dict[str, Any]:
    return dict(VolunteerDetailSerializer(volunteer).data)


def _volunteers(found: QuerySet[Volunteer]) -> QuerySet[Volunteer]:
    return found.select_related(
        "community", "organization", "verified_by", "user"
    ).prefetch_related("skills", "teams")


@extend_schema_serializer(component_name="DecisionInput")
class DecisionSerializer(serializers.Serializer):
    decision = serializers.CharField(help_text=", ".join(DECISIONS))
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=255,
        help_text="needed to reject and suspend",
    )


# --- volunteers ----------------------------------------------------------------------------------


class VolunteerListApi(generics.GenericAPIView):
    """GET: the volunteers of the caller's communities (community workers) or
    organizations (provider staff), filtered, paginated. POST: register oneself as a
    volunteer (waiting for verification)."""

    filter_backends: list = []
    queryset = Volunteer.objects.none()

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, help_text=STATUSES)
        community = serializers.RegexField(
            r"^\d{1,12}$", required=False, help_text="a region code or its prefix"
        )

    @extend_schema_serializer(component_name="VolunteerInput")
    class InputSerializer(serializers.Serializer):
        skills = serializers.ListField(
            child=serializers.CharField(max_length=100), help_text="service codes"
        )
        availability = serializers.ListField(
            child=serializers.DictField(), required=False, default=list, help_text=SLOTS_HELP
        )
        radius_km = serializers.DecimalField(
            max_digits=5, decimal_places=1, required=False, default=Decimal("2.0")
        )
        community = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="12-digit code; your own record's community when you have one",
        )
        organization = serializers.UUIDField(
            required=False,
            allow_null=True,
            default=None,
            help_text="the organization you give time with; it then verifies you",
        )
        teams = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list, help_text="team ids"
        )
        name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
        latitude = serializers.FloatField(required=False, allow_null=True, default=None)
        longitude = serializers.FloatField(required=False, allow_null=True, default=None)

        def validate_community(self, value: str) -> Region | None:
            return _region(value)

        def validate_organization(self, value: Any) -> Organization | None:
            return _organization(value)

        def validate_teams(self, value: list[int]) -> list[Team]:
            teams = Team.objects.in_bulk(value)
            missing = [v for v in value if v not in teams]
            if missing:
                raise serializers.ValidationError(
                    _("No team no. %(id)s.") % {"id": ", ".join(map(str, missing))}
                )
            return [teams[v] for v in dict.fromkeys(value)]

    @extend_schema(parameters=[FilterSerializer], responses=VolunteerSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        _require_lists(user)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = _volunteers(
            volunteer_list(
                user=user,
                status=params.validated_data.get("status", ""),
                community=params.validated_data.get("community", ""),
            )
        )
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(VolunteerSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: VolunteerSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        volunteer = volunteer_register(
            actor=_user(request), data=VolunteerInput(**data.validated_data)
        )
        found = _volunteers(Volunteer.objects.filter(pk=volunteer.pk)).get()
        return Response(VolunteerSerializer(found).data, status=status.HTTP_201_CREATED)


class VolunteerMeApi(APIView):
    """The caller's own volunteer registration, with their hours (404 when none)."""

    @extend_schema(responses=VolunteerDetailSerializer)
    def get(self, request: Request) -> Response:
        found = _volunteers(Volunteer.objects.filter(user=_user(request))).first()
        if found is None:
            raise NotFound(_("You have not registered as a volunteer."))
        return Response(_detailed(found))


def _visible_volunteer(user: User, pk: int) -> Volunteer:
    found = _volunteers(volunteers_visible_to(user).filter(pk=pk)).first()
    if found is None:
        raise NotFound(_("No volunteer no. %(id)s is visible to you.") % {"id": pk})
    return found


class VolunteerDetailApi(APIView):
    """A volunteer of the caller's communities or organizations, with their hours."""

    @extend_schema(responses=VolunteerDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detailed(_visible_volunteer(_user(request), pk)))


class VolunteerDecisionApi(APIView):
    """Verify (which makes them a responder dispatch offers tasks), reject or suspend
    (both with a reason). A decision the volunteer's status does not allow is a 409."""

    @extend_schema(request=DecisionSerializer, responses=VolunteerDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        volunteer = _visible_volunteer(user, pk)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        volunteer_decide(actor=user, volunteer=volunteer, **data.validated_data)
        return Response(_detailed(_visible_volunteer(user, pk)))


# --- social workers ------------------------------------------------------------------------------


@extend_schema_serializer(component_name="SocialWorker")
class SocialWorkerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    community = serializers.CharField(source="community_id")
    community_name = serializers.CharField(source="community.display_name")
    organization = serializers.UUIDField(source="organization_id", allow_null=True)
    qualification = serializers.ChoiceField(choices=Qualification.choices)
    qualification_label = serializers.CharField(source="get_qualification_display")
    certificate_number = serializers.CharField()
    certified_on = serializers.DateField(allow_null=True)
    status = serializers.CharField(help_text=STATUSES)
    status_label = serializers.CharField(source="get_status_display")
    registered_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)


class SocialWorkerListApi(generics.GenericAPIView):
    """GET: the social workers of the caller's communities or organizations. POST:
    register one's own qualification (waiting for verification)."""

    filter_backends: list = []
    queryset = SocialWorker.objects.none()

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, help_text=STATUSES)

    @extend_schema_serializer(component_name="SocialWorkerInput")
    class InputSerializer(serializers.Serializer):
        qualification = serializers.ChoiceField(choices=Qualification.choices)
        certificate_number = serializers.CharField(max_length=40)
        certified_on = serializers.DateField(required=False, allow_null=True, default=None)
        community = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="12-digit code; your own record's community when you have one",
        )
        organization = serializers.UUIDField(required=False, allow_null=True, default=None)
        name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)

        def validate_community(self, value: str) -> Region | None:
            return _region(value)

        def validate_organization(self, value: Any) -> Organization | None:
            return _organization(value)

    @extend_schema(parameters=[FilterSerializer], responses=SocialWorkerSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        _require_lists(user)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = social_workers_visible_to(user).order_by("community_id", "name", "id")
        if params.validated_data.get("status"):
            found = found.filter(status=params.validated_data["status"])
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(SocialWorkerSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SocialWorkerSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        worker = social_worker_register(
            actor=_user(request), data=SocialWorkerInput(**data.validated_data)
        )
        return Response(SocialWorkerSerializer(worker).data, status=status.HTTP_201_CREATED)


class SocialWorkerDecisionApi(APIView):
    """Verify (a responder of kind social_worker), reject or suspend, as for volunteers."""

    @extend_schema(request=DecisionSerializer, responses=SocialWorkerSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        worker = social_workers_visible_to(user).filter(pk=pk).first()
        if worker is None:
            raise NotFound(_("No social worker no. %(id)s is visible to you.") % {"id": pk})
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = social_worker_decide(actor=user, worker=worker, **data.validated_data)
        return Response(SocialWorkerSerializer(decided).data)


# --- teams ---------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="VolunteerTeam")
class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    community = serializers.CharField(source="community_id", allow_null=True)
    organization = serializers.UUIDField(source="organization_id", allow_null=True)
    members = serializers.IntegerField(source="member_count")
    member = serializers.SerializerMethodField(help_text="whether the caller is in the team")

    def get_member(self, team: Team) -> bool:
        return team.pk in self.context.get("mine", set())


def _teams(q: Q) -> QuerySet[Team]:
    return Team.objects.filter(q).annotate(member_count=Count("members"))


class TeamListApi(generics.GenericAPIView):
    """GET: the teams the caller looks after (community workers, provider staff) and,
    for a volunteer, those they may join. POST: found a team of one's community or
    organization."""

    filter_backends: list = []
    queryset = Team.objects.none()

    @extend_schema_serializer(component_name="VolunteerTeamInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        community = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="12-digit code"
        )
        organization = serializers.UUIDField(required=False, allow_null=True, default=None)

        def validate_community(self, value: str) -> Region | None:
            return _region(value)

        def validate_organization(self, value: Any) -> Organization | None:
            return _organization(value)

    @extend_schema(responses=TeamSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        volunteer = Volunteer.objects.filter(user=user).first()
        shown = Q(pk__in=teams_kept_by(user).values("pk"))
        mine: set[int] = set()
        if volunteer is not None:
            shown |= Q(pk__in=teams_open_to(volunteer.community).values("pk"))
            mine = set(volunteer.teams.values_list("pk", flat=True))
        page = self.paginate_queryset(_teams(shown).order_by("name", "id")) or []
        data = TeamSerializer(page, many=True, context={"mine": mine}).data
        return self.get_paginated_response(data)

    @extend_schema(request=InputSerializer, responses={201: TeamSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_create(actor=_user(request), **data.validated_data)
        return Response(
            TeamSerializer(_teams(Q(pk=team.pk)).get()).data, status=status.HTTP_201_CREATED
        )


class TeamMembershipApi(APIView):
    """POST: the calling volunteer joins the team; DELETE: leaves it."""

    def _team(self, pk: int) -> Team:
        team = Team.objects.filter(pk=pk).first()
        if team is None:
            raise NotFound(_("No team no. %(id)s.") % {"id": pk})
        return team

    @extend_schema(request=None, responses={204: OpenApiResponse(description="joined")})
    def post(self, request: Request, pk: int) -> Response:
        team_join(actor=_user(request), team=self._team(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={204: OpenApiResponse(description="left")})
    def delete(self, request: Request, pk: int) -> Response:
        team_leave(actor=_user(request), team=self._team(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("volunteers/", VolunteerListApi.as_view(), name="volunteer-list"),
    path("volunteers/me", VolunteerMeApi.as_view(), name="volunteer-me"),
    path("volunteers/<int:pk>/", VolunteerDetailApi.as_view(), name="volunteer-detail"),
    path(
        "volunteers/<int:pk>/decision",
        VolunteerDecisionApi.as_view(),
        name="volunteer-decision",
    ),
    path("social-workers/", SocialWorkerListApi.as_view(), name="social-worker-list"),
    path(
        "social-workers/<int:pk>/decision",
        SocialWorkerDecisionApi.as_view(),
        name="social-worker-decision",
    ),
    path("volunteer-teams/", TeamListApi.as_view(), name="volunteer-team-list"),
    path(
        "volunteer-teams/<int:pk>/membership",
        TeamMembershipApi.as_view(),
        name="volunteer-team-membership",
    ),
]
