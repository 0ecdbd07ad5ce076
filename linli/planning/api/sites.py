"""API: where to build next. POST a siting run, GET the runs of your area, GET one run.

The input is checked twice: the serializer for shapes (numbers, lists), the service for
meaning (a known group, a budget above zero, coordinates that are coordinates, a region in
the deployment and in your area). Either refusal is a 400/403 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.residents.choices import PriorityGroup

from .. import sites
from ..models import SitingModel, SitingRun


@extend_schema_serializer(component_name="SitingSite")
class _Site(serializers.Serializer):
    rank = serializers.IntegerField(required=False, help_text="order chosen (proposed sites)")
    id = serializers.CharField()
    name = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    cost = serializers.FloatField(allow_null=True, required=False)
    origin = serializers.CharField(
        source="source", required=False, help_text="file, network, grid, committed"
    )
    people = serializers.FloatField(
        required=False, help_text="people newly within the radius, in the order chosen"
    )
    people_alone = serializers.FloatField(
        required=False, help_text="people only this site brings within the radius"
    )
    weighted = serializers.FloatField(required=False, help_text="the same, weighted")
    weighted_alone = serializers.FloatField(required=False)


@extend_schema_serializer(component_name="SitingCoverageRow")
class _CoverageRow(serializers.Serializer):
    group = serializers.CharField(help_text="priority group code; empty for everyone")
    total = serializers.FloatField()
    current = serializers.FloatField(help_text="within the radius of an existing facility")
    committed = serializers.FloatField(help_text="… or of a funded project")
    proposed = serializers.FloatField(help_text="… or of a proposed site")


@extend_schema_serializer(component_name="SitingRun")
class SitingRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    region = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.display_name")
    kind = serializers.CharField()
    model = serializers.ChoiceField(choices=SitingModel.choices)
    exact = serializers.BooleanField()
    day = serializers.DateField(help_text="facilities open on this date")
    distance_method = serializers.CharField(help_text="network or straight_line")
    parameters = serializers.JSONField()
    inputs = serializers.JSONField(help_text="counts and dates of what the run used")
    sites = _Site(many=True, source="results.sites")
    existing = _Site(many=True, source="results.existing")
    committed = _Site(many=True, source="results.committed")
    coverage = _CoverageRow(many=True, source="results.coverage.people")
    objective = serializers.FloatField(source="results.objective", allow_null=True)
    bound = serializers.FloatField(source="results.bound", allow_null=True)
    gap = serializers.FloatField(source="results.gap", allow_null=True)
    method = serializers.CharField(source="results.method", help_text="exact or greedy+swap")
    seconds = serializers.FloatField(source="results.seconds")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    via = serializers.CharField()
    created_at = serializers.DateTimeField()


class SitingRunListApi(generics.GenericAPIView):
    """GET: siting runs over your area, newest first. POST: run one (planning roles of the
    region; auditors read only)."""

    filter_backends: list = []
    queryset = SitingRun.objects.none()

    @extend_schema_serializer(component_name="SitingCandidateInput")
    class CandidateSerializer(serializers.Serializer):
        id = serializers.CharField(required=False, allow_blank=True, max_length=100)
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        lat = serializers.FloatField()
        lon = serializers.FloatField()
        cost = serializers.FloatField(required=False, allow_null=True)

    @extend_schema_serializer(component_name="SitingRunInput")
    class InputSerializer(serializers.Serializer):
        region = serializers.CharField(max_length=12, help_text="e.g. 990102")
        kind = serializers.CharField(max_length=40, help_text="facility kind code")
        model = serializers.ChoiceField(choices=SitingModel.choices, default=SitingModel.MCLP)
        k = serializers.IntegerField(required=False, allow_null=True, default=None)
        budget = serializers.DecimalField(
            max_digits=16, decimal_places=2, required=False, allow_null=True, default=None
        )
        radius = serializers.FloatField(required=False, allow_null=True, default=None)
        weights = serializers.DictField(
            child=serializers.FloatField(),
            required=False,
            default=dict,
            help_text="priority group → extra weight per person: "
            + ", ".join(PriorityGroup.values),
        )
        exact = serializers.BooleanField(default=False, help_text="false: greedy + swap")
        date = serializers.DateField(required=False, allow_null=True, default=None)
        candidates = serializers.ListField(
            child=serializers.DictField(),
            required=False,
            allow_null=True,
            default=None,
            help_text="[{id, name, lat, lon, cost}]; absent: generated",
        )

    @extend_schema(responses=SitingRunSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(sites.runs_visible(request.user)) or []
        return self.get_paginated_response(SitingRunSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SitingRunSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        rows = values.pop("candidates")
        candidates = sites.candidates_from_rows(rows) if rows is not None else None
        run = sites.siting_run(
            actor=request.user,
            region_code=values["region"],
            kind=values["kind"],
            model=values["model"],
            k=values["k"],
            budget=values["budget"],
            radius=values["radius"],
            weights=values["weights"],
            exact=values["exact"],
            day=values["date"],
            candidates=candidates,
            via="api",
        )
        return Response(
            SitingRunSerializer(run).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:planning-siting-run", args=[run.pk])},
        )


class SitingRunDetailApi(APIView):
    """One siting run of your area."""

    @extend_schema(responses=SitingRunSerializer)
    def get(self, request: Request, pk: int) -> Response:
        run = get_object_or_404(sites.runs_visible(request.user), pk=pk)
        return Response(SitingRunSerializer(run).data)


urlpatterns = [
    path("planning/sites/", SitingRunListApi.as_view(), name="planning-siting-runs"),
    path("planning/sites/<int:pk>/", SitingRunDetailApi.as_view(), name="planning-siting-run"),
]
