"""API of the planning app: indicator values of a region as of a date.

Refusals come back as {"code", "detail", "fields"} (linli/core/api.py): an unknown region
(404), a region outside the caller's scope (403), a bad date (400) each name the field.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..choices import Direction, Section, Unit

SECTIONS = ", ".join(Section.values)


@extend_schema_serializer(component_name="IndicatorTargetValue")
class _Target(serializers.Serializer):
    year = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=3)
    region = serializers.CharField(
        source="region_id", allow_null=True, help_text="null for the shipped default"
    )


@extend_schema_serializer(component_name="IndicatorValue")
class _Value(serializers.Serializer):
    code = serializers.CharField(source="indicator.code")
    name = serializers.CharField(source="indicator.display_name", help_text="in your language")
    section = serializers.ChoiceField(source="indicator.section", choices=Section.choices)
    unit = serializers.ChoiceField(source="indicator.unit", choices=Unit.choices)
    direction = serializers.ChoiceField(source="indicator.direction", choices=Direction.choices)
    verified = serializers.BooleanField(
        source="indicator.verified", help_text="false: an unverified default"
    )
    computed = serializers.BooleanField(help_text="false: Linli has no data for it yet")
    value = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        allow_null=True,
        help_text="numerator / denominator × scale",
    )
    numerator = serializers.DecimalField(
        source="figure.numerator", max_digits=24, decimal_places=2, allow_null=True, default=None
    )
    denominator = serializers.DecimalField(
        source="figure.denominator", max_digits=24, decimal_places=2, allow_null=True, default=None
    )
    scale = serializers.DecimalField(source="indicator.scale", max_digits=12, decimal_places=2)
    target = _Target(allow_null=True)
    baseline = _Target(allow_null=True)
    progress = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="0 to 100, toward the target"
    )
    met = serializers.BooleanField(allow_null=True)


@extend_schema_serializer(component_name="IndicatorRegion")
class _Region(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name")
    level = serializers.CharField()


@extend_schema_serializer(component_name="IndicatorChild")
class _Child(serializers.Serializer):
    region = _Region()
    values = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True),
        help_text="indicator code → value, for the computed indicators",
    )


class IndicatorValuesApi(APIView):
    """GET: every indicator of a region (default: the top of your area) as of a date
    (default: today), with the target and baseline that apply there, and, with
    `children=true`, the computed values of each region one level down."""

    class InputSerializer(serializers.Serializer):
        region = serializers.CharField(
            required=False, help_text="region code; a short code is padded with zeros"
        )
        date = serializers.CharField(required=False, help_text="YYYY-MM-DD")
        children = serializers.BooleanField(required=False, default=False)

    @extend_schema_serializer(component_name="IndicatorValues")
    class OutputSerializer(serializers.Serializer):
        region = _Region()
        date = serializers.DateField()
        indicators = _Value(many=True)
        children = _Child(many=True)

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        region, day, rows, computed, kids = selectors.indicator_values(
            request.user, params.get("region"), params.get("date"), children=params["children"]
        )
        children = [
            {
                "region": kid.region,
                "values": {i.code: v for i, v in zip(computed, kid.values, strict=True)},
            }
            for kid in kids
        ]
        body = {"region": region, "date": day, "indicators": rows, "children": children}
        return Response(self.OutputSerializer(body).data)


urlpatterns = [
    path("planning/indicators/", IndicatorValuesApi.as_view(), name="planning-indicators"),
]
