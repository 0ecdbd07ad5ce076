"""Service requests over REST: ask, follow, move, assign; responders and their tasks.

Every endpoint finds requests through `requests_visible_to` (what a caller may not see
answers 404, the same as what does not exist) and writes through the services, which
check the role again. What a request shows depends on who looks: keepers (community
workers, system administrators) see everything including the priority and why;
the person served and their proxy see their request; the responder holding it sees
the task (`task_view`: the address and phone once accepted); officials see figures
without personal data.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.pii import mask_phone
from linli.regions.models import Region
from linli.residents.models import Resident
from linli.residents.selectors import LIST_ROLES, residents_visible_to

from ..attachments import attachment_add, attachments_for
from ..choices import (
    HELD_STATES,
    TRANSITIONS,
    Action,
    Outcome,
    ResponderKind,
    ResponderStatus,
    State,
    Urgency,
)
from ..idempotency import HEADER, body_hash, request_create_once
from ..models import Attachment, RequestEvent, Responder, ServiceRequest
from ..responders import (
    ProfileInput,
    responder_profile_create,
    responder_profile_update,
    responders_kept_by,
)
from ..selectors import request_counts, requests_visible_to, task_view, tasks_of
from ..services import (
    RequestInput,
    is_keeper,
    is_responder,
    is_served,
    may_act,
    request_assign,
    request_create,
    request_transition,
    service_term,
)

COMMUNITY_PREFIX = r"^\d{1,12}$"
# What a responder does to a task they hold; no other check is needed to offer them.
RESPONDER_ACTIONS = (Action.ACCEPT, Action.DECLINE, Action.START, Action.COMPLETE)


def _user(request: Request) -> User:
    # Every endpoint here but the ping requires a signed-in user (the default permission).
    return cast(User, request.user)


RELATED = ("service", "community", "responder", "person", "requested_by")


def _requests_of(user: User) -> QuerySet[ServiceRequest]:
    return requests_visible_to(user).select_related(*RELATED)


def _visible_request(user: User, public_id: str) -> ServiceRequest:
    found = _requests_of(user).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(_("No request %(id)s is visible to you.") % {"id": public_id})
    return found


def _require_keeper(user: User) -> None:
    if user_scope(user, roles=RESIDENT_KEEPER_ROLES).is_empty:
        raise PermissionDenied(_("Only community workers dispatch requests."))


def _actions(user: User, request: ServiceRequest) -> list[str]:
    """What the caller may do next: the map's moves from here that `may_act` allows.
    Assigning is offered through its own endpoint, not here."""
    return [
        action
        for (source, action) in TRANSITIONS
        if source == request.state and action != Action.ASSIGN and may_act(user, request, action)
    ]


# --- what a request shows, by who looks -------------------------------------------


class _SummarySerializer(serializers.Serializer):
    view = serializers.CharField(help_text="keeper, served, task or summary: which shape this is")
    public_id = serializers.CharField()
    service = serializers.CharField(source="service.code")
    service_name = serializers.CharField(source="service.display_name")
    state = serializers.ChoiceField(choices=State.choices)
    state_label = serializers.CharField(source="get_state_display")
    outcome = serializers.CharField(help_text="resolved or unresolved once closed, else empty")
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    community = serializers.CharField(source="community_id")
    community_name = serializers.CharField(source="community.display_name")
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()


@extend_schema_serializer(component_name="RequestSummary")
class SummarySerializer(_SummarySerializer):
    """Officials and former responders: the request without personal data."""


@extend_schema_serializer(component_name="RequestForServed")
class ServedSerializer(_SummarySerializer):
    """The person served, their proxy, or whoever asked: their own request."""

    description = serializers.CharField()
    address = serializers.CharField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    respond_by = serializers.DateTimeField(allow_null=True)
    person_name = serializers.CharField(allow_null=True, source="person.name", default=None)
    responder_name = serializers.CharField(allow_null=True, source="responder.name", default=None)
    actions = serializers.ListField(child=serializers.CharField(), help_text="what you may do next")


# Output kinds, statuses and actions are plain strings: spectacular names an enum after
# its field, and "kind", "status" and "action" already name other apps' choice sets.
KINDS = ", ".join(ResponderKind.values)


class ResponderRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=KINDS)


@extend_schema_serializer(component_name="RequestForKeeper")
class KeeperSerializer(ServedSerializer):
    """Community workers and system administrators: everything, and why it comes first.
    The contact phone stays masked, like every phone on a list or card."""

    person = serializers.IntegerField(source="person_id", allow_null=True)
    channel = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    contact_name = serializers.CharField()
    contact_phone = serializers.SerializerMethodField()
    requested_by = serializers.CharField(
        source="requested_by.display_name", allow_null=True, default=None
    )
    priority = serializers.IntegerField()
    priority_breakdown = serializers.DictField(
        child=serializers.IntegerField(), help_text="the score's parts by reason; they sum to it"
    )
    responder = ResponderRefSerializer(allow_null=True)

    def get_contact_phone(self, obj: Any) -> str:
        return mask_phone(obj.contact_phone)


@extend_schema_serializer(component_name="Task")
class TaskSerializer(serializers.Serializer):
    """What a responder needs for a task (`task_view`): the street address, the point and
    the phone only once accepted; reading the phone then is logged."""

    view = serializers.CharField()
    public_id = serializers.CharField()
    service = serializers.CharField()
    service_name = serializers.CharField()
    description = serializers.CharField()
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    state = serializers.ChoiceField(choices=State.choices)
    name = serializers.CharField()
    community = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    actions = serializers.ListField(child=serializers.CharField())


REQUEST_DETAIL = PolymorphicProxySerializer(
    component_name="RequestDetail",
    serializers={
        "keeper": KeeperSerializer,
        "served": ServedSerializer,
        "task": TaskSerializer,
        "summary": SummarySerializer,
    },
    resource_type_field_name="view",
)


class _Source:
    """The request as serializers read it, with the keys a view adds (`view`, `actions`)
    beside its own attributes, so nothing is written onto the model instance."""

    def __init__(self, request: ServiceRequest, **extra: Any) -> None:
        self._request = request
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def _task(request: ServiceRequest, user: User) -> dict[str, Any]:
    view = task_view(request, viewer=user)
    view["view"] = "task"
    view["actions"] = [a for (s, a) in TRANSITIONS if s == request.state and a in RESPONDER_ACTIONS]
    return dict(TaskSerializer(view).data)


def request_detail(request: ServiceRequest, user: User) -> dict[str, Any]:
    """The request as the caller may see it (see the module's docstring)."""
    if is_keeper(user, request):
        return _keeper(request, user)
    if is_served(user, request):
        return _shaped(ServedSerializer, request, view="served", actions=_actions(user, request))
    if request.state in HELD_STATES and is_responder(user, request.responder):
        return _task(request, user)
    # A responder who declined or finished, an official: no personal data.
    return _shaped(SummarySerializer, request, view="summary")


def _shaped(
    serializer: type[serializers.Serializer], request: ServiceRequest, **extra: Any
) -> dict[str, Any]:
    return dict(serializer(_Source(request, **extra)).data)


def _keeper(request: ServiceRequest, user: User) -> dict[str, Any]:
    return _shaped(KeeperSerializer, request, view="keeper", actions=_actions(user, request))


# --- requests ------------------------------------------------------------------------


@extend_schema_serializer(component_name="RequestRow")
class RequestRowSerializer(_SummarySerializer):
    """One line of a list: no personal data; the priority for keepers only (else null)."""

    responder_name = serializers.CharField(allow_null=True)
    priority = serializers.IntegerField(allow_null=True)


def _row(request: ServiceRequest, user: User) -> Any:
    keeper = is_keeper(user, request)
    return _Source(
        request,
        view="row",
        responder_name=request.responder.name if request.responder else None,
        priority=request.priority if keeper else None,
    )


class RequestListApi(generics.GenericAPIView):
    """GET: the requests the caller may see, newest first, filtered and paginated.
    POST: ask for a service (for oneself, someone one acts for, or, as a community
    worker, anyone of one's communities). Honours an `Idempotency-Key` header."""

    filter_backends: list = []
    queryset = ServiceRequest.objects.none()

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=State.choices, required=False)
        service = serializers.CharField(
            required=False, help_text="a service code, or a field's code for all its services"
        )
        community = serializers.RegexField(
            COMMUNITY_PREFIX,
            required=False,
            error_messages={"invalid": gettext_lazy("Give a region code or its first digits.")},
            help_text="a region code or its prefix (990102001 = that street)",
        )
        mine = serializers.BooleanField(
            required=False, default=False, help_text="true: only what you asked for or is for you"
        )

        def validate_service(self, value: str) -> str:
            if service_term(value) is None:
                raise serializers.ValidationError(
                    _("Unknown service code %(code)s.") % {"code": value}
                )
            return value

    @extend_schema_serializer(component_name="RequestInput")
    class InputSerializer(serializers.Serializer):
        service = serializers.CharField(max_length=100, help_text="a service code")
        person = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="the resident served (record number); a resident's own record by default",
        )
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=2000
        )
        urgency = serializers.ChoiceField(
            choices=Urgency.choices, required=False, default=Urgency.NORMAL
        )
        community = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="12-digit code; else the person's community, else the point's nearest",
        )
        address = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=255
        )
        latitude = serializers.FloatField(required=False, allow_null=True, default=None)
        longitude = serializers.FloatField(required=False, allow_null=True, default=None)
        window_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
        window_end = serializers.DateTimeField(required=False, allow_null=True, default=None)
        contact_name = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=100
        )
        contact_phone = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=32
        )

        def validate_person(self, value: int | None) -> Resident | None:
            user = self.context["user"]
            if value is None:
                return None
            person = residents_visible_to(user).filter(pk=value).first()
            if person is None:
                raise serializers.ValidationError(
                    _("No resident no. %(id)s is visible to you.") % {"id": value}
                )
            return person

        def validate_community(self, value: str) -> Region | None:
            if not value:
                return None
            region = Region.objects.filter(code=value).first()
            if region is None:
                raise serializers.ValidationError(
                    _("No region with code %(code)s.") % {"code": value}
                )
            return region

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            # A resident asking without naming anyone asks for themselves.
            user = self.context["user"]
            if (
                attrs["person"] is None
                and not attrs["contact_name"]
                and user_scope(user, roles=RESIDENT_KEEPER_ROLES).is_empty
            ):
                attrs["person"] = Resident.objects.filter(
                    user=user, anonymized_at__isnull=True
                ).first()
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses=RequestRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        given = params.validated_data
        found = _requests_of(user)
        if "state" in given:
            found = found.filter(state=given["state"])
        if "service" in given:
            found = found.filter(
                Q(service__code=given["service"]) | Q(service__parent__code=given["service"])
            )
        if "community" in given:
            found = found.filter(community__code__startswith=given["community"])
        if given["mine"]:
            found = found.filter(Q(requested_by=user) | Q(person__user=user))
        page = self.paginate_queryset(found) or []
        rows = [_row(r, user) for r in page]
        return self.get_paginated_response(RequestRowSerializer(rows, many=True).data)

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=(
                    "A client-chosen key (up to 255 characters) that makes retries safe: "
                    "the same key and body return the first request (200, header "
                    "Idempotent-Replayed: true); the same key with another body is a 422."
                ),
            )
        ],
        responses={
            201: REQUEST_DETAIL,
            200: OpenApiResponse(REQUEST_DETAIL, description="a retry: the first request"),
            422: OpenApiResponse(description="the key was used with another body"),
        },
    )
    def post(self, request: Request) -> Response:
        user = _user(request)

        def create() -> ServiceRequest:
            data = self.InputSerializer(data=request.data, context={"user": user})
            data.is_valid(raise_exception=True)
            return request_create(actor=user, data=RequestInput(**data.validated_data))

        key = request.headers.get(HEADER)
        replayed = False
        if key is None:
            created = create()
        else:
            once = request_create_once(
                actor=user, key=key, digest=body_hash(request.data), create=create
            )
            created, replayed = once.request, once.replayed
        if replayed:  # the caller asked for it, so may see it: no scoping query needed
            created = ServiceRequest.objects.select_related(*RELATED).get(pk=created.pk)
        headers = {"Location": reverse("api:request-detail", args=[created.public_id])}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            request_detail(created, user),
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
            headers=headers,
        )


class RequestDetailApi(APIView):
    """A request as the caller may see it; `view` says which shape it has."""

    @extend_schema(responses=REQUEST_DETAIL)
    def get(self, request: Request, public_id: str) -> Response:
        user = _user(request)
        return Response(request_detail(_visible_request(user, public_id), user))


@extend_schema_serializer(component_name="RequestEvent")
class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField(help_text=", ".join(Action.values))
    action_label = serializers.CharField(source="get_action_display")
    # "from" is a Python keyword: named through the source.
    from_state = serializers.CharField(help_text="empty for the first step")
    to_state = serializers.CharField()
    who = serializers.SerializerMethodField(help_text="the person's name, or system/dispatch/…")
    reason = serializers.CharField()

    def get_who(self, event: RequestEvent) -> str:
        return event.actor.display_name if event.actor else event.actor_label

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["from"] = data.pop("from_state")
        data["to"] = data.pop("to_state")
        return data


class RequestTimelineApi(APIView):
    """Every step of the request, oldest first: what, from which state to which, when,
    who and why."""

    @extend_schema(
        responses=OpenApiResponse(
            EventSerializer(many=True),
            description='each event also as "from" and "to" (the states), not from_state/to_state',
        )
    )
    def get(self, request: Request, public_id: str) -> Response:
        found = _visible_request(_user(request), public_id)
        events = found.events.select_related("actor").order_by("at", "id")
        return Response(EventSerializer(events, many=True).data)


class RequestTransitionApi(APIView):
    """Move the request by one action of the transition map (accept, decline, start,
    complete, confirm, cancel, reject, close, reopen). A move the map does not allow from
    the request's state is a 409; an action the caller may not take, a 403."""

    @extend_schema_serializer(component_name="TransitionInput")
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=Action.choices)
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=2000,
            help_text="needed to decline, reject and reopen",
        )
        outcome = serializers.ChoiceField(
            choices=Outcome.choices,
            required=False,
            allow_blank=True,
            default="",
            help_text="needed to close",
        )

    @extend_schema(request=InputSerializer, responses=REQUEST_DETAIL)
    def post(self, request: Request, public_id: str) -> Response:
        user = _user(request)
        found = _visible_request(user, public_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        request_transition(actor=user, request=found, **data.validated_data)
        return Response(request_detail(_visible_request(user, public_id), user))


class RequestAssignApi(APIView):
    """Give the request to a responder (community workers of its community). If someone
    assigned it first, a 409: reload, then reassign knowingly with `reassign: true`."""

    @extend_schema_serializer(component_name="AssignInput")
    class InputSerializer(serializers.Serializer):
        responder = serializers.IntegerField(help_text="the responder's id")
        reassign = serializers.BooleanField(required=False, default=False)
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=500,
            help_text="why this responder (kept in the assignment's explanation)",
        )

        def validate_responder(self, value: int) -> Responder:
            responder = Responder.objects.filter(pk=value).first()
            if responder is None:
                raise serializers.ValidationError(_("No responder no. %(id)s.") % {"id": value})
            return responder

    @extend_schema(request=InputSerializer, responses=REQUEST_DETAIL)
    def post(self, request: Request, public_id: str) -> Response:
        user = _user(request)
        found = _visible_request(user, public_id)
        if not is_keeper(user, found):
            raise PermissionDenied(_("Only the community's workers assign its requests."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        request_assign(
            actor=user,
            request=found,
            responder=given["responder"],
            reassign=given["reassign"],
            explanation={"method": "manual", "why": given["reason"]},
        )
        return Response(request_detail(_visible_request(user, public_id), user))


class RequestCandidatesApi(APIView):
    """Who may serve the request, best first (community workers of its community): the
    responders with the skill, free in its window, within their radius, under their
    load cap, who have not declined it; each with what choosing them would cost."""

    @extend_schema_serializer(component_name="Candidate")
    class OutputSerializer(serializers.Serializer):
        responder = ResponderRefSerializer()
        distance_km = serializers.FloatField()
        load = serializers.IntegerField(help_text="open tasks now")
        rating = serializers.FloatField(allow_null=True)
        cost = serializers.FloatField(help_text="kilometre-equivalents, lower is better")
        reasons = serializers.DictField(
            child=serializers.FloatField(), help_text="the cost's parts; they sum to it"
        )

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request, public_id: str) -> Response:
        # Imported here: the dispatch engine (numpy, scipy) loads only when asked.
        from ..dispatch import candidates_for

        user = _user(request)
        found = _visible_request(user, public_id)
        if not is_keeper(user, found):
            raise PermissionDenied(_("Only the community's workers dispatch its requests."))
        return Response(self.OutputSerializer(candidates_for(found), many=True).data)


class RequestCountsApi(APIView):
    """Open, overdue and escalated requests per community of the caller's area
    (community workers and officials)."""

    @extend_schema_serializer(component_name="CommunityRequestCounts")
    class OutputSerializer(serializers.Serializer):
        community = serializers.CharField()
        name = serializers.CharField()
        open = serializers.IntegerField()
        overdue = serializers.IntegerField()
        escalated = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        if user_scope(user, roles=LIST_ROLES).is_empty:
            raise PermissionDenied(_("Only community workers and officials see these counts."))
        counts = request_counts(user=user)
        names = Region.objects.in_bulk(list(counts))
        rows = [
            {
                "community": code,
                "name": names[code].display_name if code in names else "",
                **figures,
            }
            for code, figures in sorted(counts.items())
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


# --- responders and tasks ------------------------------------------------------------


@extend_schema_serializer(component_name="Responder")
class ResponderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=KINDS)
    name = serializers.CharField()
    region = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.display_name")
    skills = serializers.SerializerMethodField()
    availability = serializers.JSONField(
        help_text='[{"day": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}]; [] = any time'
    )
    radius_km = serializers.FloatField()
    max_open_tasks = serializers.IntegerField()
    status = serializers.CharField(help_text=", ".join(ResponderStatus.values))
    rating = serializers.FloatField(allow_null=True)

    def get_skills(self, responder: Responder) -> list[str]:
        return sorted(term.code for term in responder.skills.all())


@extend_schema_serializer(component_name="ResponderProfile")
class ProfileSerializer(ResponderSerializer):
    """The responder's own profile, with their home point."""

    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)


@extend_schema_serializer(component_name="ResponderRow")
class ResponderRowSerializer(ResponderSerializer):
    open_tasks = serializers.IntegerField()


class ResponderMeApi(APIView):
    """The caller's own responder profile (volunteers, social workers, provider staff).
    GET reads it (404 when there is none), POST opens it, PUT replaces it."""

    @extend_schema_serializer(component_name="ResponderProfileInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(
            choices=[(k.value, k.label) for k in ResponderKind if k != ResponderKind.ORGANIZATION],
            required=False,
            allow_blank=True,
            default="",
            help_text="your role's kind by default",
        )
        name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
        skills = serializers.ListField(
            child=serializers.CharField(max_length=100), help_text="service codes"
        )
        availability = serializers.ListField(
            child=serializers.DictField(),
            required=False,
            default=list,
            help_text='[{"day": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}]; [] = any time',
        )
        region = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="12-digit code; else the community nearest to the point",
        )
        latitude = serializers.FloatField(required=False, allow_null=True, default=None)
        longitude = serializers.FloatField(required=False, allow_null=True, default=None)
        radius_km = serializers.DecimalField(max_digits=5, decimal_places=1)
        max_open_tasks = serializers.IntegerField(required=False, default=3)
        status = serializers.ChoiceField(
            choices=ResponderStatus.choices, required=False, default=ResponderStatus.ACTIVE
        )

    def _profile(self, user: User) -> Responder:
        responder = Responder.objects.select_related("region").filter(user=user).first()
        if responder is None:
            raise NotFound(_("You have no responder profile yet: open one first."))
        return responder

    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(self._profile(_user(request))).data)

    def _input(self, request: Request) -> ProfileInput:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return ProfileInput(**data.validated_data)

    @extend_schema(request=InputSerializer, responses={201: ProfileSerializer})
    def post(self, request: Request) -> Response:
        user = _user(request)
        responder = responder_profile_create(actor=user, data=self._input(request))
        return Response(ProfileSerializer(responder).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InputSerializer, responses=ProfileSerializer)
    def put(self, request: Request) -> Response:
        user = _user(request)
        self._profile(user)
        responder = responder_profile_update(actor=user, data=self._input(request))
        return Response(ProfileSerializer(responder).data)


class ResponderListApi(generics.GenericAPIView):
    """Responders living or working in the keeper's communities, with their open tasks."""

    filter_backends: list = []
    queryset = Responder.objects.none()

    class FilterSerializer(serializers.Serializer):
        skill = serializers.CharField(required=False, help_text="a service code")
        status = serializers.ChoiceField(choices=ResponderStatus.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ResponderRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        _require_keeper(user)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        given = params.validated_data
        found = responders_kept_by(user)
        if "skill" in given:
            found = found.filter(skills__code=given["skill"]).distinct()
        if "status" in given:
            found = found.filter(status=given["status"])
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(ResponderRowSerializer(page, many=True).data)


class TaskListApi(generics.GenericAPIView):
    """The tasks the caller holds as a responder (assigned, accepted, in progress), most
    pressing first: what each needs and no more."""

    filter_backends: list = []
    queryset = ServiceRequest.objects.none()

    @extend_schema(responses=TaskSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        held = (
            tasks_of(user).select_related("service", "person", "community").order_by("due_at", "id")
        )
        page = self.paginate_queryset(held) or []
        return self.get_paginated_response([_task(r, user) for r in page])


class PingApi(APIView):
    """A health probe that touches nothing: 200 {"status": "ok"} while the web process
    answers. Signed-in or not; `/healthz` also checks the database."""

    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="Ping")
    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "uploaded_at"]


class RequestAttachmentListApi(APIView):
    """Photos and PDFs of a request: listed for whoever may see the request; added by the
    person served or their proxy, the community's workers and the responder holding it
    (multipart, field `file`; JPEG, PNG or PDF, at most 5 MB and 5 a request)."""

    parser_classes = [MultiPartParser]

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = _user(request)
        found = _visible_request(user, public_id)
        return Response(AttachmentSerializer(attachments_for(user, found), many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={201: AttachmentSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = _user(request)
        found = _visible_request(user, public_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed(fields={"file": [_("Choose a file.")]})
        attachment = attachment_add(actor=user, request=found, upload=upload)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class RequestAttachmentFileApi(APIView):
    """One file of a request, as a download, to whoever may see the request."""

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    def get(self, request: Request, public_id: str, pk: int) -> FileResponse:
        user = _user(request)
        found = _visible_request(user, public_id)
        attachment = attachments_for(user, found).filter(pk=pk).first()
        if attachment is None:
            raise NotFound(_("No such file."))
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
