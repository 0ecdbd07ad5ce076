"""API: rate a delivered request, change the rating for a while, hide a comment;
file a complaint and move it along its map.

Refusals come back as {"code", "detail", "fields"} (linli/core/api.py): a rating
from someone not served, a second rating, a rating after the window, a score
outside 1–5 each name the field and the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.db.models import QuerySet
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.core.errors import NotFound, PermissionDenied
from linli.directory.models import Location, Organization
from linli.regions.models import Region
from linli.requests.models import Responder, ServiceRequest
from linli.residents.models import Resident

from .. import facilities, selectors, services
from ..choices import ComplaintAction, ComplaintState, NeedMet, VisitKind, allowed_actions
from ..models import Complaint, Evaluation, FacilityRating, FacilityVisit

NEED_MET = ", ".join(NeedMet.values)
STATES = ", ".join(ComplaintState.values)
# Filing has its own endpoint; escalations are the job's (jobs.py), not a person's move.
MOVES = [
    a for a in ComplaintAction.values if a not in (ComplaintAction.FILE, ComplaintAction.ESCALATE)
]
ACTIONS = ", ".join(MOVES)


def _user(request: Request) -> User:
    return cast(User, request.user)


# --- evaluations --------------------------------------------------------------------------


@extend_schema_serializer(component_name="Evaluation")
class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    request = serializers.CharField(source="request.public_id", help_text="request number")
    overall = serializers.IntegerField(help_text="1 to 5")
    timeliness = serializers.IntegerField(help_text="1 to 5")
    attitude = serializers.IntegerField(help_text="1 to 5")
    quality = serializers.IntegerField(help_text="1 to 5")
    need_met = serializers.CharField(help_text=NEED_MET)
    comment = serializers.SerializerMethodField(help_text="empty when hidden by a moderator")
    comment_hidden = serializers.BooleanField()
    hidden_reason = serializers.CharField(help_text="why a moderator hid the comment")
    by_proxy = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    editable_until = serializers.SerializerMethodField()

    def get_comment(self, obj: Evaluation) -> str:
        return "" if obj.comment_hidden else obj.comment

    def get_editable_until(self, obj: Evaluation) -> dt.datetime:
        return obj.created_at + dt.timedelta(hours=services.edit_hours())


class _Scores(serializers.Serializer):
    """Scores are checked by the service, which names the field and the reason."""

    timeliness = serializers.IntegerField(required=False, allow_null=True, help_text="1 to 5")
    attitude = serializers.IntegerField(required=False, allow_null=True, help_text="1 to 5")
    quality = serializers.IntegerField(required=False, allow_null=True, help_text="1 to 5")
    need_met = serializers.CharField(required=False, allow_blank=True, help_text=NEED_MET)
    comment = serializers.CharField(required=False, allow_blank=True)


class EvaluationListApi(generics.GenericAPIView):
    """GET: the caller's ratings, newest first. POST: rate a delivered request (the person
    served or their proxy, once, within the window); left-out sub-scores take the overall."""

    filter_backends: list = []
    queryset = Evaluation.objects.none()

    @extend_schema_serializer(component_name="EvaluationInput")
    class InputSerializer(_Scores):
        request = serializers.CharField(help_text="request number")
        overall = serializers.IntegerField(help_text="1 to 5")

    @extend_schema(responses=EvaluationSerializer(many=True))
    def get(self, request: Request) -> Response:
        found = selectors.evaluations_of_rater(_user(request))
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(EvaluationSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: EvaluationSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        number = values.pop("request")
        rated = ServiceRequest.objects.filter(public_id=number).first()
        if rated is None:
            raise NotFound(_("No request %(number)s.") % {"number": number})
        evaluation = services.evaluation_submit(actor=_user(request), request=rated, **values)
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)


def _evaluation(user: User, pk: int) -> Evaluation:
    evaluation = Evaluation.objects.select_related("request").filter(pk=pk).first()
    if evaluation is None or not (
        evaluation.rater_id == user.pk or services.is_moderator(user, evaluation.community_id)
    ):
        raise NotFound()
    return evaluation


class EvaluationDetailApi(APIView):
    """GET: one rating (its rater, or the community's moderators). PATCH: change scores,
    need or comment, by the rater, within the edit hours."""

    @extend_schema_serializer(component_name="EvaluationChange")
    class InputSerializer(_Scores):
        overall = serializers.IntegerField(required=False, help_text="1 to 5")

    @extend_schema(responses=EvaluationSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(EvaluationSerializer(_evaluation(_user(request), pk)).data)

    @extend_schema(request=InputSerializer, responses=EvaluationSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        evaluation = _evaluation(_user(request), pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        evaluation = services.evaluation_edit(
            actor=_user(request), evaluation=evaluation, changes=dict(data.validated_data)
        )
        return Response(EvaluationSerializer(evaluation).data)


class EvaluationHideCommentApi(APIView):
    """POST: a moderator (a community worker of the community) hides the comment, saying
    why; the scores still count."""

    @extend_schema_serializer(component_name="EvaluationHideComment")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=EvaluationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        evaluation = _evaluation(_user(request), pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = services.evaluation_hide_comment(
            actor=_user(request), evaluation=evaluation, reason=data.validated_data["reason"]
        )
        return Response(EvaluationSerializer(evaluation).data)


# --- complaints ---------------------------------------------------------------------------


@extend_schema_serializer(component_name="Complaint")
class ComplaintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    against = serializers.CharField(
        source="target_kind", help_text="request, organization, responder or facility"
    )
    request = serializers.CharField(source="request.public_id", allow_null=True, default=None)
    organization = serializers.UUIDField(source="organization_id", allow_null=True)
    responder = serializers.IntegerField(source="responder_id", allow_null=True)
    facility = serializers.UUIDField(source="facility_id", allow_null=True)
    community = serializers.CharField(source="community_id")
    text = serializers.CharField()
    state = serializers.CharField(help_text=STATES)
    state_label = serializers.CharField(source="get_state_display")
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    closed_satisfied = serializers.BooleanField(allow_null=True)
    respond_by = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    actions = serializers.SerializerMethodField(help_text="actions the map allows next")

    def get_actions(self, obj: Complaint) -> list[str]:
        return allowed_actions(obj.state)


class ComplaintListApi(generics.GenericAPIView):
    """GET: complaints the caller filed (`which=mine`), handles (`which=handled`: the
    community's workers, or the provider's staff), or both (default). POST: file one,
    against exactly one request, provider, responder or facility."""

    filter_backends: list = []
    queryset = Complaint.objects.none()

    class FilterSerializer(serializers.Serializer):
        which = serializers.ChoiceField(
            choices=["all", "mine", "handled"], required=False, default="all"
        )
        state = serializers.ChoiceField(choices=ComplaintState.values, required=False)

    @extend_schema_serializer(component_name="ComplaintInput")
    class InputSerializer(serializers.Serializer):
        request = serializers.CharField(required=False, help_text="request number")
        organization = serializers.UUIDField(required=False)
        responder = serializers.IntegerField(required=False)
        facility = serializers.UUIDField(required=False)
        community = serializers.CharField(
            required=False, help_text="community code, when not against a request"
        )
        text = serializers.CharField()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            models: dict[str, tuple[Any, str]] = {
                "request": (ServiceRequest, "public_id"),
                "organization": (Organization, "pk"),
                "responder": (Responder, "pk"),
                "facility": (Location, "pk"),
                "community": (Region, "code"),
            }
            found: dict[str, Any] = {}
            for name, (model, key) in models.items():
                if attrs.get(name) in (None, ""):
                    continue
                found[name] = model.objects.filter(**{key: attrs[name]}).first()
                if found[name] is None:
                    raise serializers.ValidationError({name: [_("Not found.")]})
            return {**found, "text": attrs["text"]}

    @extend_schema(parameters=[FilterSerializer], responses=ComplaintSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _user(request)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        which = params.validated_data["which"]
        found: QuerySet[Complaint]
        if which == "mine":
            found = selectors.complaints_of_complainant(user)
        elif which == "handled":
            found = selectors.complaints_in_scope(user)
        else:
            found = selectors.complaints_visible(user)
        if params.validated_data.get("state"):
            found = found.filter(state=params.validated_data["state"])
        found = found.select_related("request").order_by("-created_at", "-id")
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(ComplaintSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ComplaintSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = services.complaint_file(actor=_user(request), **data.validated_data)
        return Response(ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)


def _complaint(user: User, pk: int) -> Complaint:
    complaint = (
        Complaint.objects.select_related("request__responder", "responder").filter(pk=pk).first()
    )
    if complaint is None or not (
        complaint.complainant_id == user.pk or services.may_handle(user, complaint)
    ):
        raise NotFound()
    return complaint


class ComplaintDetailApi(APIView):
    """GET: one complaint, for its complainant and those who handle it."""

    @extend_schema(responses=ComplaintSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ComplaintSerializer(_complaint(_user(request), pk)).data)


class ComplaintTransitionApi(APIView):
    """POST: investigate or answer (the community's workers, or the provider's staff when
    it is against their provider); close (the complainant, saying whether satisfied, or
    those who handle it)."""

    @extend_schema_serializer(component_name="ComplaintTransition")
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(
            choices=MOVES,
            help_text=ACTIONS,
        )
        answer = serializers.CharField(required=False, allow_blank=True, default="")
        satisfied = serializers.BooleanField(required=False, allow_null=True, default=None)
        note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=ComplaintSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        complaint = _complaint(user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["action"] == ComplaintAction.FILE:  # pragma: no cover
            raise PermissionDenied()
        complaint = services.complaint_transition(
            actor=user, complaint=complaint, **data.validated_data
        )
        return Response(ComplaintSerializer(complaint).data)


# --- facility visits and ratings -------------------------------------------------------------


@extend_schema_serializer(component_name="FacilityRating")
class FacilityRatingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    visit = serializers.IntegerField(source="visit_id")
    facility = serializers.UUIDField(source="facility_id")
    facility_name = serializers.CharField(source="facility.name")
    community = serializers.CharField(source="community_id")
    overall = serializers.IntegerField(help_text="1 to 5")
    comment = serializers.SerializerMethodField(help_text="empty when hidden by a moderator")
    comment_hidden = serializers.BooleanField()
    hidden_reason = serializers.CharField(help_text="why a moderator hid the comment")
    by_proxy = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    editable_until = serializers.SerializerMethodField()

    def get_comment(self, obj: FacilityRating) -> str:
        return "" if obj.comment_hidden else obj.comment

    def get_editable_until(self, obj: FacilityRating) -> dt.datetime:
        return obj.created_at + dt.timedelta(hours=services.edit_hours())


@extend_schema_serializer(component_name="FacilityVisit")
class FacilityVisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    facility = serializers.UUIDField(source="facility_id")
    facility_name = serializers.CharField(source="facility.name")
    person = serializers.IntegerField(source="person_id", help_text="resident record number")
    kind = serializers.CharField(help_text=", ".join(VisitKind.values))
    on = serializers.DateField()
    rate_from = serializers.SerializerMethodField()
    rate_until = serializers.SerializerMethodField()
    rated = serializers.SerializerMethodField()

    def get_rate_from(self, obj: FacilityVisit) -> dt.date:
        return facilities.rate_from(obj)

    def get_rate_until(self, obj: FacilityVisit) -> dt.date:
        return facilities.rate_until(obj)

    def get_rated(self, obj: FacilityVisit) -> bool:
        return FacilityRating.objects.filter(visit_id=obj.pk).exists()


def _found(model: Any, field: str, value: Any, key: str = "pk") -> Any:
    """The row named by an input field, or a 400 naming the field."""
    found = model.objects.filter(**{key: value}).first()
    if found is None:
        raise serializers.ValidationError({field: [_("Not found.")]})
    return found


class FacilityVisitListApi(generics.GenericAPIView):
    """GET: the caller's visits and bookings (and those of whom they are a proxy for),
    newest first. POST: the facility's staff (or a community worker) records a visit;
    a booking for that day becomes the visit."""

    filter_backends: list = []
    queryset = FacilityVisit.objects.none()

    @extend_schema_serializer(component_name="FacilityVisitInput")
    class InputSerializer(serializers.Serializer):
        facility = serializers.UUIDField()
        person = serializers.IntegerField(help_text="resident record number")
        on = serializers.DateField(required=False, allow_null=True, help_text="default today")

    @extend_schema(responses=FacilityVisitSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(facilities.visits_of(_user(request))) or []
        return self.get_paginated_response(FacilityVisitSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: FacilityVisitSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visit = facilities.facility_visit_record(
            actor=_user(request),
            facility=_found(Location, "facility", values["facility"]),
            person=_found(Resident, "person", values["person"]),
            on=values.get("on"),
        )
        return Response(FacilityVisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class FacilityBookingApi(APIView):
    """POST: a resident books a facility for a day (today or later, up to 90 days ahead),
    for themselves."""

    @extend_schema_serializer(component_name="FacilityBookingInput")
    class InputSerializer(serializers.Serializer):
        facility = serializers.UUIDField()
        on = serializers.DateField()

    @extend_schema(request=InputSerializer, responses={201: FacilityVisitSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = facilities.facility_booking_create(
            actor=_user(request),
            facility=_found(Location, "facility", data.validated_data["facility"]),
            on=data.validated_data["on"],
        )
        return Response(FacilityVisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class FacilityRatingListApi(generics.GenericAPIView):
    """GET: the caller's facility ratings. POST: rate a visit (the visitor or their proxy,
    once, from the visit's date until the window closes)."""

    filter_backends: list = []
    queryset = FacilityRating.objects.none()

    @extend_schema_serializer(component_name="FacilityRatingInput")
    class InputSerializer(serializers.Serializer):
        visit = serializers.IntegerField(help_text="the visit or booking rated")
        overall = serializers.IntegerField(help_text="1 to 5")
        comment = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(responses=FacilityRatingSerializer(many=True))
    def get(self, request: Request) -> Response:
        found = FacilityRating.objects.filter(rater=_user(request)).select_related("facility")
        page = self.paginate_queryset(found) or []
        return self.get_paginated_response(FacilityRatingSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: FacilityRatingSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rating = facilities.facility_rating_submit(
            actor=_user(request),
            visit=_found(FacilityVisit, "visit", values["visit"]),
            overall=values["overall"],
            comment=values["comment"],
        )
        return Response(FacilityRatingSerializer(rating).data, status=status.HTTP_201_CREATED)


def _facility_rating(user: User, pk: int) -> FacilityRating:
    rating = (
        FacilityRating.objects.select_related("facility", "visit__person").filter(pk=pk).first()
    )
    if rating is None or not (
        rating.rater_id == user.pk
        or facilities.may_rate_visit(user, rating.visit)
        or services.is_moderator(user, rating.community_id)
    ):
        raise NotFound()
    return rating


class FacilityRatingDetailApi(APIView):
    """GET: one facility rating (its rater, the visitor's proxy, or the community's
    moderators). PATCH: change the score or comment, within the edit hours."""

    @extend_schema_serializer(component_name="FacilityRatingChange")
    class InputSerializer(serializers.Serializer):
        overall = serializers.IntegerField(required=False, help_text="1 to 5")
        comment = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(responses=FacilityRatingSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(FacilityRatingSerializer(_facility_rating(_user(request), pk)).data)

    @extend_schema(request=InputSerializer, responses=FacilityRatingSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        rating = _facility_rating(_user(request), pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rating = facilities.facility_rating_edit(
            actor=_user(request), rating=rating, changes=dict(data.validated_data)
        )
        return Response(FacilityRatingSerializer(rating).data)


class FacilityRatingHideCommentApi(APIView):
    """POST: a moderator (a community worker of the community) hides the comment, saying
    why; the score still counts."""

    @extend_schema_serializer(component_name="FacilityRatingHideComment")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=FacilityRatingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        rating = _facility_rating(_user(request), pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = facilities.facility_rating_hide_comment(
            actor=_user(request), rating=rating, reason=data.validated_data["reason"]
        )
        return Response(FacilityRatingSerializer(rating).data)


urlpatterns = [
    path("evaluations/", EvaluationListApi.as_view(), name="evaluation-list"),
    path("evaluations/<int:pk>", EvaluationDetailApi.as_view(), name="evaluation-detail"),
    path(
        "evaluations/<int:pk>/hide-comment",
        EvaluationHideCommentApi.as_view(),
        name="evaluation-hide-comment",
    ),
    path("complaints/", ComplaintListApi.as_view(), name="complaint-list"),
    path("complaints/<int:pk>", ComplaintDetailApi.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/transitions",
        ComplaintTransitionApi.as_view(),
        name="complaint-transitions",
    ),
    path("facility-visits/", FacilityVisitListApi.as_view(), name="facility-visit-list"),
    path("facility-bookings/", FacilityBookingApi.as_view(), name="facility-booking-create"),
    path("facility-ratings/", FacilityRatingListApi.as_view(), name="facility-rating-list"),
    path(
        "facility-ratings/<int:pk>",
        FacilityRatingDetailApi.as_view(),
        name="facility-rating-detail",
    ),
    path(
        "facility-ratings/<int:pk>/hide-comment",
        FacilityRatingHideCommentApi.as_view(),
        name="facility-rating-hide-comment",
    ),
]
