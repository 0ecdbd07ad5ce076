from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from linli.accounts.selectors import user_roles
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from ..choices import AttributeLinkType, FeeKind
from ..models import ServiceAtLocation, TaxonomyTerm
from ..selectors import ServiceQuery, distance_km, search_origin, service_search, service_terms
from ..taxonomy import PRIORITY_TAXONOMY, SERVICES_TAXONOMY, taxonomy_uuid


def resident_community(user: Any) -> Region | None:
    """The community a signed-in resident lives in: where "near me" starts."""
    for assignment in user_roles(user):
        if assignment.region is not None and assignment.region.level == RegionLevel.COMMUNITY:
            return assignment.region
    return None


class SearchInput(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    category = serializers.CharField(required=False, allow_blank=True, default="")
    group = serializers.CharField(required=False, allow_blank=True, default="")
    age = serializers.IntegerField(required=False, min_value=0, max_value=150)
    open_now = serializers.BooleanField(required=False, default=False)
    free = serializers.BooleanField(required=False, default=False)
    at_home = serializers.BooleanField(required=False, default=False)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    near = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="12-digit code of a community"
    )

    def _term_exists(self, taxonomy: str, code: str) -> bool:
        return TaxonomyTerm.objects.filter(
            taxonomy_ref_id=taxonomy_uuid(taxonomy), code=code
        ).exists()

    def validate_category(self, value: str) -> str:
        if value and not self._term_exists(SERVICES_TAXONOMY, value):
            raise serializers.ValidationError(
                _("Unknown service category %(code)s.") % {"code": value}
            )
        return value

    def validate_group(self, value: str) -> str:
        if value and not self._term_exists(PRIORITY_TAXONOMY, value):
            raise serializers.ValidationError(
                _("Unknown priority group %(code)s.") % {"code": value}
            )
        return value

    def validate_near(self, value: str) -> Region | None:
        if not value:
            return None
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise serializers.ValidationError(_("Unknown region code %(code)s.") % {"code": value})
        return region

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError(
                {"lon" if "lat" in attrs else "lat": [_("Give both lat and lon, or neither.")]}
            )
        return attrs

    def to_query(self, user: Any) -> ServiceQuery:
        data = self.validated_data
        origin = search_origin(
            lat=data.get("lat"),
            lon=data.get("lon"),
            region=data.get("near") or resident_community(user),
        )
        return ServiceQuery(
            text=data["q"],
            category=data["category"],
            group=data["group"],
            age=data.get("age"),
            open_now=data["open_now"],
            free=data["free"],
            at_home=data["at_home"],
            origin=origin,
        )


@extend_schema_serializer(component_name="ServiceSearchResult")
class SearchResultSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="service.id")
    name = serializers.CharField(source="service.name")
    description = serializers.CharField(source="service.description")
    organization = serializers.CharField(source="service.organization.name", default="")
    categories = serializers.SerializerMethodField()
    eligible_groups = serializers.SerializerMethodField()
    fee_kind = serializers.ChoiceField(source="service.fee_kind", choices=FeeKind.choices)
    fee_amount = serializers.DecimalField(
        source="service.fee_amount", max_digits=10, decimal_places=2, allow_null=True
    )
    at_facility = serializers.BooleanField(source="service.at_facility")
    at_home = serializers.BooleanField(source="service.at_home")
    online = serializers.BooleanField(source="service.online")
    minimum_age = serializers.IntegerField(source="service.minimum_age", allow_null=True)
    maximum_age = serializers.IntegerField(source="service.maximum_age", allow_null=True)
    open_now = serializers.BooleanField(source="is_open")
    distance_m = serializers.SerializerMethodField()
    facility = serializers.SerializerMethodField()

    def _terms(self, row: ServiceAtLocation, link_type: str) -> list[dict[str, str]]:
        terms = self.context["terms"].get(row.service_id, [])
        return [
            {"code": term.code, "name": term.display_name}
            for kind, term in terms
            if kind == link_type
        ]

    def get_categories(self, row: ServiceAtLocation) -> list[dict[str, str]]:
        return self._terms(row, AttributeLinkType.CATEGORY)

    def get_eligible_groups(self, row: ServiceAtLocation) -> list[dict[str, str]]:
        return self._terms(row, AttributeLinkType.ELIGIBILITY)

    def get_distance_m(self, row: ServiceAtLocation) -> int | None:
        km = distance_km(row)
        return None if km is None else round(km * 1000)

    def get_facility(self, row: ServiceAtLocation) -> dict[str, Any]:
        place = row.location
        return {
            "id": str(place.id),
            "name": place.name,
            "kind": place.kind,
            "kind_label": place.get_kind_display() if place.kind else "",
            "latitude": place.latitude,
            "longitude": place.longitude,
            "region": place.region_id,
            "region_name": place.region.display_name if place.region else "",
        }


class ServiceSearchApi(generics.GenericAPIView):
    """Find services near a resident: text (Chinese or English), category, eligibility,
    open now, free, delivered at home; nearest first from a point, a community, or
    the signed-in resident's own community."""

    permission_classes = [AllowAny]
    serializer_class = SearchResultSerializer
    # The rows come from service_search(); this only tells the schema what they are.
    queryset = ServiceAtLocation.objects.none()

    @extend_schema(parameters=[SearchInput], responses=SearchResultSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = SearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = service_search(query=params.to_query(request.user))
        page = self.paginate_queryset(rows) or []
        terms = service_terms(row.service_id for row in page)
        data = SearchResultSerializer(page, many=True, context={"terms": terms}).data
        return self.get_paginated_response(data)
