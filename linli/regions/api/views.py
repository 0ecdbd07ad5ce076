from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import generics, serializers

from linli.accounts.selectors import regions_visible_to, user_scope
from linli.core.errors import NotFound
from linli.regions import codes
from linli.regions.choices import RegionKind, RegionLevel
from linli.regions.models import Region
from linli.regions.selectors import region_get


class RegionFilter(filters.FilterSet):
    level = filters.ChoiceFilter(choices=RegionLevel.choices)
    kind = filters.ChoiceFilter(choices=RegionKind.choices)
    parent = filters.CharFilter(method="filter_parent", help_text="12-digit code of the parent")
    q = filters.CharFilter(method="filter_text", help_text="Part of a name or a code prefix")

    class Meta:
        model = Region
        fields = ["level", "kind", "parent", "q"]

    def filter_parent(self, queryset: QuerySet[Region], name: str, value: str) -> QuerySet[Region]:
        # Unknown and out-of-scope codes get the same answer: a filter must not
        # reveal which regions exist outside what the user may see.
        if (
            not codes.is_valid(value)
            or not regions_visible_to(self.request.user).filter(code=value).exists()
        ):
            raise serializers.ValidationError(
                {"parent": [_("No region with code %(code)s is visible to you.") % {"code": value}]}
            )
        return queryset.filter(parent_id=value)

    def filter_text(self, queryset: QuerySet[Region], name: str, value: str) -> QuerySet[Region]:
        value = value.strip()
        if value.isdigit():
            return queryset.filter(code__startswith=value)
        return queryset.filter(Q(name__icontains=value) | Q(name_en__icontains=value))


class RegionListApi(generics.ListAPIView):
    """Regions the caller may see, filtered by level, parent, kind or text."""

    @extend_schema_serializer(component_name="Region")
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Region
            fields = [
                "code",
                "name",
                "name_en",
                "level",
                "kind",
                "parent",
                "population",
                "households",
                "lat",
                "lon",
            ]

    serializer_class = OutputSerializer
    filterset_class = RegionFilter

    def get_queryset(self) -> QuerySet[Region]:
        return regions_visible_to(self.request.user).order_by("code")


class RegionDetailApi(generics.RetrieveAPIView):
    """One region, with its boundary; 404 when it is outside the caller's scope."""

    @extend_schema_serializer(component_name="RegionDetail")
    class OutputSerializer(RegionListApi.OutputSerializer):
        class Meta(RegionListApi.OutputSerializer.Meta):
            fields = [*RegionListApi.OutputSerializer.Meta.fields, "boundary"]

    serializer_class = OutputSerializer

    def get_object(self) -> Region:
        code = self.kwargs["code"]
        region = region_get(scope=user_scope(self.request.user), code=code)
        if region is None:
            raise NotFound(_("No region with code %(code)s is visible to you.") % {"code": code})
        return region
