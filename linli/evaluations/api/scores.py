"""API: community scorecards of a region and period; a provider's indices.

Same figures and the same rules as the pages (scorecards.py): scorecards within the
caller's scope or their own community, rating figures over too few ratings withheld.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.core.errors import NotFound
from linli.directory.models import Organization

from ..indices import prior_weight
from ..scorecards import PARTS, parse_period, provider_scores, visible_scorecards

PERIOD_HELP = "a year (2026), a month (2026-05), or empty for the last 12 months"


class _Part(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="0 to 1; null without a figure")
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text="ratings or requests behind the figure")
    hidden = serializers.BooleanField(help_text="too few ratings to publish")
    weight = serializers.FloatField()
    used_weight = serializers.FloatField(help_text="share of the composite; 0 when left out")


@extend_schema_serializer(component_name="ScorecardParts")
class _Parts(serializers.Serializer):
    coverage = _Part()
    timeliness = _Part()
    satisfaction = _Part()
    needs_met = _Part()


class _Trend(serializers.Serializer):
    month = serializers.DateField()
    composite = serializers.FloatField(allow_null=True)
    parts = serializers.DictField(child=serializers.FloatField(allow_null=True))
    n = serializers.IntegerField()


class _Best(serializers.Serializer):
    responder_id = serializers.IntegerField()
    name = serializers.CharField()
    n = serializers.IntegerField()
    quality = serializers.FloatField()
    satisfied_share = serializers.FloatField(allow_null=True)


class _Group(serializers.Serializer):
    group = serializers.CharField()
    n = serializers.IntegerField()
    hidden = serializers.BooleanField()
    quality = serializers.FloatField(allow_null=True)
    satisfied_share = serializers.FloatField(allow_null=True)
    satisfied_lower = serializers.FloatField(allow_null=True)
    needs_met = serializers.FloatField(allow_null=True)


@extend_schema_serializer(component_name="Scorecard")
class ScorecardSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    street_code = serializers.CharField()
    street_name = serializers.CharField()
    district_code = serializers.CharField()
    district_name = serializers.CharField()
    composite = serializers.FloatField(allow_null=True)
    parts = _Parts()
    rank_street = serializers.IntegerField(allow_null=True)
    ranked_in_street = serializers.IntegerField()
    rank_district = serializers.IntegerField(allow_null=True)
    ranked_in_district = serializers.IntegerField()
    comprehensive_facility = serializers.BooleanField()
    domains_covered = serializers.ListField(child=serializers.CharField())
    domains_missing = serializers.ListField(child=serializers.CharField())
    trend = _Trend(many=True)
    best = _Best(many=True)
    groups = _Group(many=True)


class ScorecardListApi(APIView):
    """GET: the scorecards of the communities in `region` (default: all the caller may
    see) for a period, with parts, composite, ranks in street and district, 12-month
    trend, best-rated responders and priority groups."""

    class FilterSerializer(serializers.Serializer):
        region = serializers.RegexField(
            r"^\d{2,12}$",
            required=False,
            default="",
            allow_blank=True,
            help_text="a region code or its prefix; default: everything the caller sees",
        )
        period = serializers.CharField(
            required=False, default="", allow_blank=True, help_text=PERIOD_HELP
        )

    @extend_schema_serializer(component_name="ScorecardList")
    class OutputSerializer(serializers.Serializer):
        period_start = serializers.DateField()
        period_end = serializers.DateField(help_text="exclusive")
        weights = serializers.DictField(child=serializers.FloatField())
        privacy_min = serializers.IntegerField(help_text="fewest ratings behind a rating figure")
        scorecards = ScorecardSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        period = parse_period(params.validated_data["period"])
        cards, computed = visible_scorecards(
            user=request.user, period=period, region_code=params.validated_data["region"]
        )
        data: dict[str, Any] = {
            "period_start": period.start,
            "period_end": period.end,
            "weights": computed.weights if computed else {},
            "privacy_min": computed.privacy_min if computed else 0,
            "scorecards": [
                {**card.__dict__, "parts": {p: card.parts[p] for p in PARTS}} for card in cards
            ],
        }
        return Response(self.OutputSerializer(data).data)


class _IndexRow(serializers.Serializer):
    n = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    prior = serializers.FloatField(allow_null=True)
    smoothed = serializers.FloatField(allow_null=True)
    satisfied = serializers.IntegerField()
    satisfied_share = serializers.FloatField(allow_null=True)
    satisfied_lower = serializers.FloatField(allow_null=True)
    needs_n = serializers.IntegerField()
    needs_met = serializers.FloatField(allow_null=True)
    complaints = serializers.IntegerField(allow_null=True)
    complaint_rate = serializers.FloatField(allow_null=True)
    quality = serializers.FloatField(allow_null=True)
    hidden = serializers.BooleanField(help_text="too few ratings: rating figures are null")


def _row(row: Any, hidden: bool) -> dict[str, Any] | None:
    if row is None:
        return None
    out = {**row, "hidden": hidden}
    if hidden:
        for name in ("mean", "smoothed", "satisfied_share", "satisfied_lower", "needs_met"):
            out[name] = None
        out["quality"] = None
        out["satisfied"] = 0
    return out


class ProviderScoresApi(APIView):
    """GET: a provider's satisfaction index for a period (city-wide service means as
    priors), per service and per priority group, with the formula's figures."""

    class FilterSerializer(serializers.Serializer):
        period = serializers.CharField(
            required=False, default="", allow_blank=True, help_text=PERIOD_HELP
        )

    @extend_schema_serializer(component_name="ProviderScores")
    class OutputSerializer(serializers.Serializer):
        organization = serializers.UUIDField()
        period_start = serializers.DateField()
        period_end = serializers.DateField(help_text="exclusive")
        prior_weight = serializers.FloatField(help_text="m in (sum + m·prior) / (n + m)")
        index = _IndexRow(allow_null=True)
        services = serializers.ListField(child=serializers.DictField())
        priority_groups = serializers.DictField(child=_IndexRow())

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request, organization_id: Any) -> Response:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise NotFound()
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        period = parse_period(params.validated_data["period"])
        scored = provider_scores(
            organization_id=organization.pk, start=period.start, end=period.end
        )
        data = {
            "organization": organization.pk,
            "period_start": period.start,
            "period_end": period.end,
            "prior_weight": prior_weight(),
            "index": _row(scored.row, scored.hidden),
            "services": [
                {"service": str(s.service_id), "name": s.name, **(_row(s.row, s.hidden) or {})}
                for s in scored.services
            ],
            "priority_groups": {g: _row(row, hidden) for g, row, hidden in scored.groups},
        }
        return Response(self.OutputSerializer(data).data)


urlpatterns = [
    path("scorecards/", ScorecardListApi.as_view(), name="scorecard-list"),
    path(
        "providers/<uuid:organization_id>/scores",
        ProviderScoresApi.as_view(),
        name="provider-scores",
    ),
]
