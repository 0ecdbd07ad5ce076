"""API: my time bank, redemptions, and a community's pool.

Balances are the database's (kept from the movements); nothing here writes to the
ledger but through `redemptions`. Hours are never money: no endpoint pays them out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.core.errors import NotFound
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.models import Resident
from linli.residents.selectors import residents_visible_to

from ..access import keeps_community
from ..choices import AccountKind, RedemptionStatus, TransferKind
from ..ledger import cap_hours, earned_hours
from ..models import Account, Movement, Redemption
from ..people import own_resident
from ..redemptions import (
    beneficiaries_of,
    movements_of,
    pool_grant,
    redemption_create,
    redemptions_of,
)

# How many of the newest movements `me/timebank` shows.
RECENT_MOVEMENTS = 100


def _user(request: Request) -> User:
    return cast(User, request.user)


@extend_schema_serializer(component_name="TimebankMovement")
class MovementSerializer(serializers.Serializer):
    """One leg of a booking on the account: hours in (positive) or out (negative)."""

    at = serializers.DateTimeField(source="transfer.created_at")
    hours = serializers.DecimalField(source="amount", max_digits=10, decimal_places=2)
    kind = serializers.CharField(source="transfer.kind", help_text=", ".join(TransferKind.values))
    kind_label = serializers.CharField(source="transfer.get_kind_display")
    memo = serializers.CharField(source="transfer.memo")
    request = serializers.CharField(
        source="transfer.request.public_id",
        allow_null=True,
        default=None,
        help_text="the service request the hours were for",
    )
    activity = serializers.IntegerField(
        source="transfer.activity_id", allow_null=True, help_text="the volunteer activity"
    )
    correction = serializers.SerializerMethodField(help_text="a reversing booking")

    def get_correction(self, movement: Movement) -> bool:
        return movement.transfer.kind == TransferKind.REVERSAL


def _balance(account: Account | None) -> Decimal:
    return account.balance if account else Decimal("0.00")


class TimebankMeApi(APIView):
    """The caller's balance, the hours they earned by service (whether kept or, above
    the cap, given to their community's pool), and their newest movements."""

    @extend_schema_serializer(component_name="Timebank")
    class OutputSerializer(serializers.Serializer):
        balance = serializers.DecimalField(max_digits=10, decimal_places=2)
        earned_hours = serializers.DecimalField(max_digits=10, decimal_places=2)
        cap = serializers.DecimalField(
            max_digits=10, decimal_places=2, help_text="the most a balance keeps"
        )
        movements = MovementSerializer(many=True, help_text="the newest first, at most 100")

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        user = _user(request)
        account = Account.objects.filter(kind=AccountKind.PERSON, user=user).first()
        movements = list(movements_of(account)[:RECENT_MOVEMENTS]) if account else []
        shown = {
            "balance": _balance(account),
            "earned_hours": earned_hours(user),
            "cap": cap_hours(),
            "movements": movements,
        }
        return Response(self.OutputSerializer(shown).data)


@extend_schema_serializer(component_name="Redemption")
class RedemptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    beneficiary = serializers.IntegerField(source="beneficiary_id", help_text="record number")
    beneficiary_name = serializers.CharField(source="beneficiary.name")
    request = serializers.CharField(source="request.public_id")
    service = serializers.CharField(source="request.service.code")
    hours = serializers.DecimalField(max_digits=5, decimal_places=2)
    status = serializers.CharField(help_text=", ".join(RedemptionStatus.values))
    status_label = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()


class RedemptionListApi(generics.GenericAPIView):
    """GET: the caller's redemptions, newest first. POST: spend hours on a service for
    oneself, one's spouse, or a parent, child, grandparent or grandchild aged 60 or
    over: the service is asked for as a request and the hours are held until it is
    confirmed (then spent) or ends otherwise (then returned)."""

    filter_backends: list = []
    queryset = Redemption.objects.none()

    @extend_schema_serializer(component_name="RedemptionInput")
    class InputSerializer(serializers.Serializer):
        beneficiary = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="the record number of who the service is for; yourself by default",
        )
        service = serializers.CharField(max_length=100, help_text="a service code")
        hours = serializers.DecimalField(max_digits=5, decimal_places=2)
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=2000
        )
        window_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
        window_end = serializers.DateTimeField(required=False, allow_null=True, default=None)

        def validate_beneficiary(self, value: int | None) -> Resident:
            user = self.context["user"]
            if value is None:
                own = own_resident(user)
                if own is None:
                    raise serializers.ValidationError(
                        _("Your account is not linked to a record in the residents register.")
                    )
                return own
            allowed = {person.pk: person for person, _kind in beneficiaries_of(user)}
            if value in allowed:
                return allowed[value]
            # Someone else: the service says why not, if the caller may know they exist.
            person = (
                residents_visible_to(user).filter(pk=value).first()
                or Resident.objects.filter(pk=value, relations__person__user=user).first()
                or Resident.objects.filter(pk=value, relations_as__resident__user=user).first()
            )
            if person is None:
                raise serializers.ValidationError(
                    _("No resident no. %(id)s is known to you.") % {"id": value}
                )
            return person

    @extend_schema(responses=RedemptionSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(redemptions_of(_user(request))) or []
        return self.get_paginated_response(RedemptionSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: RedemptionSerializer})
    def post(self, request: Request) -> Response:
        user = _user(request)
        data = self.InputSerializer(data=request.data, context={"user": user})
        data.is_valid(raise_exception=True)
        redemption = redemption_create(actor=user, **data.validated_data)
        found = redemptions_of(user).get(pk=redemption.pk)
        return Response(RedemptionSerializer(found).data, status=status.HTTP_201_CREATED)


def _pool_community(user: User, code: str) -> Region:
    community = Region.objects.filter(code=code, level=RegionLevel.COMMUNITY).first()
    if community is None or not keeps_community(user, community.code):
        raise NotFound(_("No community %(code)s is kept by you.") % {"code": code})
    return community


class PoolApi(APIView):
    """A community's pool of hours (community workers of the community): its balance
    and newest movements."""

    @extend_schema_serializer(component_name="TimebankPool")
    class OutputSerializer(serializers.Serializer):
        community = serializers.CharField()
        balance = serializers.DecimalField(max_digits=10, decimal_places=2)
        movements = MovementSerializer(many=True, help_text="the newest first, at most 100")

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, code: str) -> Response:
        community = _pool_community(_user(request), code)
        account = Account.objects.filter(
            kind=AccountKind.COMMUNITY_POOL, community=community
        ).first()
        shown: dict[str, Any] = {
            "community": community.code,
            "balance": _balance(account),
            "movements": list(movements_of(account)[:RECENT_MOVEMENTS]) if account else [],
        }
        return Response(self.OutputSerializer(shown).data)


class PoolGrantApi(APIView):
    """Give hours from the community's pool to a resident of the community (who has an
    account), saying why; they spend them on services like their own."""

    @extend_schema_serializer(component_name="PoolGrantInput")
    class InputSerializer(serializers.Serializer):
        resident = serializers.IntegerField(help_text="the record number")
        hours = serializers.DecimalField(max_digits=7, decimal_places=2)
        memo = serializers.CharField(max_length=255, help_text="why")

    @extend_schema_serializer(component_name="PoolGrant")
    class OutputSerializer(serializers.Serializer):
        transfer = serializers.IntegerField(source="pk")
        kind = serializers.CharField()
        memo = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, code: str) -> Response:
        user = _user(request)
        community = _pool_community(user, code)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        beneficiary = Resident.objects.filter(pk=given["resident"], community=community).first()
        if beneficiary is None:
            raise NotFound(
                _("No resident no. %(id)s in this community.") % {"id": given["resident"]}
            )
        transfer = pool_grant(
            actor=user,
            community=community,
            beneficiary=beneficiary,
            amount=given["hours"],
            memo=given["memo"],
        )
        return Response(self.OutputSerializer(transfer).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern] = [
    path("me/timebank", TimebankMeApi.as_view(), name="timebank-me"),
    path("redemptions/", RedemptionListApi.as_view(), name="redemption-list"),
    path("timebank/pools/<str:code>", PoolApi.as_view(), name="timebank-pool"),
    path("timebank/pools/<str:code>/grants", PoolGrantApi.as_view(), name="timebank-pool-grants"),
]
