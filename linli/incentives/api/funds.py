"""API of incentive fund pools: list and create, detail, dry run, approve.

Officials of the pool's region see and run everything; provider staff see the approved
pools with a line for their organization, and only that line. Refusals come back as
{"code", "detail", "fields"}; a changed dry run is a 409 with code "conflict".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.core.errors import NotFound
from linli.regions.models import Region

from ..choices import PoolBound, PoolState, QualitySource
from ..funds import (
    Plan,
    explain,
    pool_allocation,
    pool_approve,
    pool_create,
    pool_dry_run,
    pools_for,
)
from ..models import FundPool


def _user(request: Request) -> User:
    return cast(User, request.user)


def _pool(user: User, pk: int) -> FundPool:
    found = pools_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such fund pool."))
    return found


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2)


@extend_schema_serializer(component_name="FundPool")
class PoolSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    region = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.display_name")
    title = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="included")
    amount = _money()
    floor = _money()
    cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    min_services = serializers.IntegerField()
    state = serializers.CharField(help_text=", ".join(PoolState.values))
    state_label = serializers.CharField(source="get_state_display")
    created_at = serializers.DateTimeField()
    approved_by = serializers.CharField(
        source="approved_by.get_username", allow_null=True, default=None
    )
    approved_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="FundAllocationLine")
class LineSerializer(serializers.Serializer):
    organization = serializers.UUIDField(source="organization.pk")
    organization_name = serializers.CharField(source="organization.name")
    services = serializers.IntegerField(help_text="verified completed services")
    evaluations = serializers.IntegerField()
    mean = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    prior = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    smoothed = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    complaints = serializers.IntegerField()
    complaint_rate = serializers.DecimalField(max_digits=8, decimal_places=4, allow_null=True)
    quality = serializers.DecimalField(max_digits=4, decimal_places=2)
    quality_source = serializers.CharField(help_text=", ".join(QualitySource.values))
    weight = serializers.DecimalField(max_digits=16, decimal_places=2)
    share = serializers.DecimalField(max_digits=9, decimal_places=8, help_text="of all weight")
    amount = _money()
    bound = serializers.CharField(help_text="empty, " + ", ".join(PoolBound.values[1:]))
    explanation = serializers.CharField()


@extend_schema_serializer(component_name="FundPlan")
class PlanSerializer(serializers.Serializer):
    pool = PoolSerializer()
    approved = serializers.BooleanField(help_text="false: a dry run computed now")
    lines = LineSerializer(many=True)
    total_weight = serializers.DecimalField(max_digits=18, decimal_places=2)
    rate = serializers.DecimalField(
        max_digits=20, decimal_places=8, allow_null=True, help_text="yuan per weight point"
    )
    allocated = _money()
    unallocated = _money()
    prior_weight = serializers.FloatField()
    complaint_penalty = serializers.FloatField(source="penalty")
    fingerprint = serializers.CharField(help_text="send it back to approve")
    problem = serializers.CharField(help_text="why it cannot be approved as it stands")


def _plan_data(plan: Plan) -> dict[str, Any]:
    for line in plan.lines:
        line.explanation = explain(line, plan)
    return cast(dict[str, Any], PlanSerializer(plan).data)


class PoolListApi(APIView):
    """The pools the caller may open; an official creates a draft pool."""

    @extend_schema_serializer(component_name="FundPoolInput")
    class InputSerializer(serializers.Serializer):
        region = serializers.CharField(max_length=12)
        title = serializers.CharField(max_length=200)
        period_start = serializers.DateField()
        period_end = serializers.DateField(help_text="included")
        amount = _money()
        floor = serializers.DecimalField(
            max_digits=14, decimal_places=2, required=False, default=Decimal(0)
        )
        cap = serializers.DecimalField(
            max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
        )
        min_services = serializers.IntegerField(required=False, default=1)

    @extend_schema(responses=PoolSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PoolSerializer(pools_for(_user(request)), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: PoolSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        region = Region.objects.filter(code=values.pop("region")).first()
        if region is None:
            raise NotFound(_("No region has this code."))
        pool = pool_create(actor=_user(request), region=region, **values)
        return Response(PoolSerializer(pool).data, status=status.HTTP_201_CREATED)


class PoolDetailApi(APIView):
    """A pool with what the caller may see of its allocation: the dry run of a draft
    (officials), the approved lines (officials: all; provider staff: their own)."""

    @extend_schema(responses=PlanSerializer)
    def get(self, request: Request, pk: int) -> Response:
        pool = _pool(_user(request), pk)
        return Response(_plan_data(pool_allocation(actor=_user(request), pool=pool)))


class PoolDryRunApi(APIView):
    """The allocation a draft pool would get now, with the fingerprint to approve it."""

    @extend_schema(responses=PlanSerializer)
    def get(self, request: Request, pk: int) -> Response:
        pool = _pool(_user(request), pk)
        return Response(_plan_data(pool_dry_run(actor=_user(request), pool=pool)))


class PoolApproveApi(APIView):
    """Approve the dry run reviewed, identified by its fingerprint; 409 if it changed."""

    @extend_schema_serializer(component_name="FundPoolApproveInput")
    class InputSerializer(serializers.Serializer):
        fingerprint = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses=PoolSerializer)
    def post(self, request: Request, pk: int) -> Response:
        pool = _pool(_user(request), pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pool = pool_approve(
            actor=_user(request), pool=pool, fingerprint=data.validated_data["fingerprint"]
        )
        return Response(PoolSerializer(pool).data)


urlpatterns = [
    path("pools/", PoolListApi.as_view(), name="pool-list"),
    path("pools/<int:pk>/", PoolDetailApi.as_view(), name="pool-detail"),
    path("pools/<int:pk>/dry-run/", PoolDryRunApi.as_view(), name="pool-dry-run"),
    path("pools/<int:pk>/approve/", PoolApproveApi.as_view(), name="pool-approve"),
]
