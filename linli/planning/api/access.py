"""API of accessibility runs: list, read one, start one.

    GET  /api/v1/planning/access/runs/?region=&kind=   runs in your area, newest first
    POST /api/v1/planning/access/runs/                 {region, kind, date?, speed?,
                                                        catchment?, decay?} → the run
    GET  /api/v1/planning/access/runs/<id>/            one run with its results

Refusals come back as {"code", "detail", "fields"} (linli/core/api.py): an unknown
region, kind or a bad date is a 400 naming the field; starting a run outside the area
where you are an official is a 403; a run outside your area is a 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import accessibility, networks
from ..models import DistanceMethod, RunStatus

LIST_LIMIT = 100


@extend_schema_serializer(component_name="AccessibilityRunSummary")
class RunSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    region = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.display_name")
    kind = serializers.CharField(help_text="facility kind (directory FacilityKind)")
    as_of = serializers.DateField()
    # A plain string: "status" enums of other apps would collide in the schema's names.
    status = serializers.CharField(help_text=", ".join(RunStatus.values))
    distance_method = serializers.ChoiceField(
        choices=DistanceMethod.choices,
        allow_blank=True,
        help_text="straight_line: estimated as straight line × the detour factor",
    )
    population = serializers.FloatField(allow_null=True)
    share_walk = serializers.FloatField(
        allow_null=True, help_text="share of the population within the 15-minute walk, 0-1"
    )
    error = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="AccessibilityRun")
class RunSerializer(RunSummarySerializer):
    network = serializers.IntegerField(source="network_id", allow_null=True)
    parameters = serializers.JSONField(
        help_text="thresholds_m, walk_minutes, speed_m_s, catchment_m, decay, detour_factor"
    )
    inputs = serializers.JSONField(
        help_text="network_built_at, facilities_changed_at, residents_changed_at, "
        "regions_changed_at"
    )
    results = serializers.JSONField(
        allow_null=True,
        help_text="thresholds, groups, communities[{code, name, parent, population, "
        "covered[t], groups{g: [count, covered[t]…]}, e2sfca_mean, e2sfca_min, points}], "
        "streets, facilities[{id, name, lon, lat, capacity, catchment_population, ratio}], "
        "totals, partitions, unlocated; E2SFCA figures per 1,000 people",
    )


class AccessRunsApi(APIView):
    """GET: accessibility runs in your area, newest first (at most 100). POST: run one
    now (officials over the region); the answer is the finished (or failed) run."""

    class FilterSerializer(serializers.Serializer):
        region = serializers.CharField(required=False, help_text="region code (subtree)")
        kind = serializers.CharField(required=False)

    @extend_schema_serializer(component_name="AccessibilityRunStart")
    class InputSerializer(serializers.Serializer):
        region = serializers.CharField(help_text="region code; a short code is padded")
        kind = serializers.CharField(help_text=", ".join(accessibility.kinds()))
        date = serializers.CharField(required=False, help_text="YYYY-MM-DD, default today")
        speed = serializers.FloatField(required=False, help_text="walking speed, m/s")
        catchment = serializers.FloatField(required=False, help_text="E2SFCA catchment, m")
        decay = serializers.CharField(required=False, help_text=", ".join(accessibility.DECAYS))

    @extend_schema(parameters=[FilterSerializer], responses=RunSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = accessibility.runs_visible_to(request.user).order_by("-started_at", "-id")
        code = query.validated_data.get("region", "").strip()
        if code:
            region = networks.resolve_region(code)
            runs = runs.filter(region__code__startswith=networks.region_prefix(region))
        if query.validated_data.get("kind"):
            runs = runs.filter(kind=query.validated_data["kind"])
        return Response(RunSummarySerializer(runs[:LIST_LIMIT], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: RunSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = body.validated_data
        run = accessibility.accessibility_run(
            actor=request.user,
            region_code=data["region"],
            kind=data["kind"],
            day=data.get("date") or None,
            speed_m_s=data.get("speed"),
            catchment_m=data.get("catchment"),
            decay=data.get("decay") or "gaussian_zones",
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class AccessRunApi(APIView):
    """GET: one accessibility run with its parameters, inputs' dates and results."""

    @extend_schema(responses=RunSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(RunSerializer(accessibility.run_get(request.user, pk)).data)


urlpatterns = [
    path("planning/access/runs/", AccessRunsApi.as_view(), name="planning-access-runs"),
    path("planning/access/runs/<int:pk>/", AccessRunApi.as_view(), name="planning-access-run"),
]
