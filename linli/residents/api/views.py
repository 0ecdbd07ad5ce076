"""The residents register over REST: masked by default, scoped by the one selector.

Every endpoint finds its records through the residents selectors (so what a user
cannot see answers 404, the same as what does not exist) and writes through the
services, which check the role again and log every unmasking and download.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.db.models import QuerySet
from django.http import JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import NotFound, PermissionDenied
from linli.regions.models import Region

from ..choices import (
    AgeBand,
    ConsentPurpose,
    Difficulty,
    DisabilityCategory,
    PriorityGroup,
    RelationKind,
    Sex,
)
from ..exports import access_events_csv
from ..models import SENSITIVE_FIELDS, AccessEvent, Consent, Correction, Household, Resident
from ..selectors import (
    LIST_ROLES,
    access_events_visible_to,
    corrections_for,
    priority_counts,
    resident_masked,
    residents_acted_for,
    residents_filter,
    residents_visible_to,
)
from ..services import (
    ResidentInput,
    consent_record,
    consent_withdraw,
    correction_answer,
    correction_ask,
    household_create,
    relation_add,
    resident_download,
    resident_input,
    resident_register,
    resident_unmask,
    resident_update,
)

COMMUNITY_PREFIX = r"^\d{1,12}$"
# The keys of a per-community count row besides its code and name.
COUNT_KEYS = ("residents", *PriorityGroup.values)


def _user(request: Request) -> User:
    # Every endpoint here requires a signed-in user (the API's default permission).
    return cast(User, request.user)


def _visible_resident(user: User, pk: int) -> Resident:
    resident = residents_visible_to(user).filter(pk=pk).first()
    if resident is None:
        raise NotFound(_("No resident no. %(id)s is visible to you.") % {"id": pk})
    return resident


def _keeper_scope(user: User) -> Scope:
    return user_scope(user, roles=RESIDENT_KEEPER_ROLES)


def _require_keeper(user: User, code: str | None = None) -> None:
    """Refuse a role that does not keep the register before reading its input, so an
    official gets the same 403 whatever they send; the services check again."""
    scope = _keeper_scope(user)
    if scope.is_empty or (code is not None and not scope.covers(code)):
        raise PermissionDenied(_("Only community workers keep the residents register."))


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise serializers.ValidationError(_("No region with code %(code)s.") % {"code": code})
    return region


def _resident_ref(user: User, pk: int | None) -> Resident | None:
    """A person named in a consent or a relation: someone the caller may see."""
    if pk is None:
        return None
    person = residents_visible_to(user).filter(pk=pk).first()
    if person is None:
        raise serializers.ValidationError(
            _("No resident no. %(id)s is visible to you.") % {"id": pk}
        )
    return person


@extend_schema_serializer(component_name="ResidentMasked")
class MaskedResidentSerializer(serializers.Serializer):
    """The shape of `resident_masked`: sensitive fields masked, free text as "***"."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    sex = serializers.CharField(help_text="female, male or empty")
    age = serializers.IntegerField(allow_null=True)
    community = serializers.CharField(help_text="12-digit code")
    household = serializers.IntegerField(allow_null=True)
    address = serializers.CharField()
    identity_number = serializers.CharField(help_text="masked: 440308********1234")
    phone = serializers.CharField(help_text="masked: 138****5678")
    living_alone = serializers.BooleanField()
    left_behind = serializers.BooleanField()
    disability = serializers.CharField(help_text='"***" when recorded, else empty')
    difficulty = serializers.CharField(help_text='"***" when recorded, else empty')
    health_notes = serializers.CharField(help_text='"***" when recorded, else empty')


def _masked(residents: Iterable[Resident]) -> Any:
    return MaskedResidentSerializer([resident_masked(r) for r in residents], many=True).data


class ResidentListApi(generics.GenericAPIView):
    """GET: the residents the caller may see, masked, filtered and paginated.
    POST: register a resident (community workers of that community)."""

    # Filters are read by FilterSerializer and applied by residents_filter().
    filter_backends: list = []
    queryset = Resident.objects.none()

    class FilterSerializer(serializers.Serializer):
        community = serializers.RegexField(
            COMMUNITY_PREFIX,
            required=False,
            default="",
            allow_blank=True,
            error_messages={"invalid": gettext_lazy("Give a region code or its first digits.")},
            help_text="a region code or its prefix (990102001 = that street)",
        )
        age_band = serializers.ChoiceField(
            choices=AgeBand.choices, required=False, default="", allow_blank=True
        )
        group = serializers.ChoiceField(
            choices=PriorityGroup.choices, required=False, default="", allow_blank=True
        )

    @extend_schema_serializer(component_name="ResidentInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        community = serializers.CharField(help_text="12-digit code of a community or village")
        identity_number = serializers.CharField(
            max_length=32, required=False, allow_blank=True, default=""
        )
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
        sex = serializers.ChoiceField(
            choices=Sex.choices,
            required=False,
            allow_blank=True,
            default="",
            help_text="derived from the identity number when one is given",
        )
        birth_date = serializers.DateField(
            required=False,
            allow_null=True,
            default=None,
            help_text="derived from the identity number when one is given",
        )
        household = serializers.IntegerField(required=False, allow_null=True, default=None)
        address = serializers.CharField(
            max_length=255, required=False, allow_blank=True, default=""
        )
        living_alone = serializers.BooleanField(required=False, default=False)
        left_behind = serializers.BooleanField(required=False, default=False)
        disability_category = serializers.ChoiceField(
            choices=DisabilityCategory.choices, required=False, allow_blank=True, default=""
        )
        disability_grade = serializers.ChoiceField(
            choices=["1", "2", "3", "4"], required=False, allow_blank=True, default=""
        )
        difficulty = serializers.ChoiceField(
            choices=Difficulty.choices, required=False, allow_blank=True, default=""
        )
        health_notes = serializers.CharField(required=False, allow_blank=True, default="")

        def validate_community(self, value: str) -> Region:
            return _region(value)

        def validate_household(self, value: int | None) -> Household | None:
            if value is None:
                return None
            scope = _keeper_scope(self.context["user"])
            household = Household.objects.filter(scope.q("community__code"), pk=value).first()
            if household is None:
                raise serializers.ValidationError(
                    _("No household no. %(id)s in your area.") % {"id": value}
                )
            return household

    @extend_schema(parameters=[FilterSerializer], responses=MaskedResidentSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        residents = residents_filter(residents_visible_to(request.user), **params.validated_data)
        page = self.paginate_queryset(residents) or []
        return self.get_paginated_response(_masked(page))

    @extend_schema(request=InputSerializer, responses={201: MaskedResidentSerializer})
    def post(self, request: Request) -> Response:
        user = _user(request)
        _require_keeper(user)
        data = self.InputSerializer(data=request.data, context={"user": user})
        data.is_valid(raise_exception=True)
        resident = resident_register(actor=user, data=ResidentInput(**data.validated_data))
        return Response(
            MaskedResidentSerializer(resident_masked(resident)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_serializer(component_name="ResidentConsent")
class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["id", "purpose", "scope", "given_on", "withdrawn_on", "given_by"]


@extend_schema_serializer(component_name="ResidentRelation")
class RelationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RelationKind.choices)
    person = serializers.IntegerField(source="person_id")
    person_name = serializers.CharField(source="person.name")
    consent = serializers.IntegerField(source="consent_id", allow_null=True)


@extend_schema_serializer(component_name="ResidentCard")
class ResidentCardSerializer(MaskedResidentSerializer):
    community_name = serializers.CharField()
    household_address = serializers.CharField(allow_null=True)
    consents = ConsentSerializer(many=True)
    relations = RelationOutputSerializer(many=True)


def _card(resident: Resident) -> Any:
    card = resident_masked(resident)
    card["community_name"] = resident.community.display_name
    card["household_address"] = resident.household.address if resident.household else None
    card["consents"] = list(resident.consents.all())
    card["relations"] = list(resident.relations.select_related("person").order_by("id"))
    return ResidentCardSerializer(card).data


class ResidentDetailApi(APIView):
    """GET: a resident's card, masked, with household, consents and relations; 404 when
    the caller may not see them. PATCH: change the given fields (community workers)."""

    @extend_schema_serializer(component_name="ResidentUpdate")
    class InputSerializer(ResidentListApi.InputSerializer):
        pass

    @extend_schema(responses=ResidentCardSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_card(_visible_resident(_user(request), pk)))

    @extend_schema(request=InputSerializer, responses=ResidentCardSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        user = _user(request)
        resident = _visible_resident(user, pk)
        _require_keeper(user, resident.community_id)
        data = self.InputSerializer(data=request.data, partial=True, context={"user": user})
        data.is_valid(raise_exception=True)
        given = data.validated_data
        changed = resident_input(resident)
        for name, value in given.items():
            setattr(changed, name, value)
        resident_update(actor=user, resident=resident, data=changed)
        return Response(_card(_visible_resident(user, pk)))


class ResidentUnmaskApi(APIView):
    """Show sensitive fields in clear, for a stated purpose; every call is logged.
    Community workers of the resident's community (and system administrators) only."""

    @extend_schema_serializer(component_name="UnmaskInput")
    class InputSerializer(serializers.Serializer):
        # DRF's metaclass takes declared fields off the class, so this does not shadow
        # Serializer.fields at run time; the stubs cannot know that.
        fields = serializers.ListField(  # type: ignore[assignment]
            child=serializers.CharField(max_length=40),
            help_text=f"some of: {', '.join(SENSITIVE_FIELDS)}",
        )
        purpose = serializers.CharField(allow_blank=True, max_length=500)

    @extend_schema_serializer(component_name="UnmaskOutput")
    class OutputSerializer(serializers.Serializer):
        identity_number = serializers.CharField(required=False)
        phone = serializers.CharField(required=False)
        disability_category = serializers.CharField(required=False)
        disability_grade = serializers.CharField(required=False)
        difficulty = serializers.CharField(required=False)
        health_notes = serializers.CharField(required=False)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        resident = _visible_resident(user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = resident_unmask(
            actor=user,
            resident=resident,
            fields=data.validated_data["fields"],
            purpose=data.validated_data["purpose"],
        )
        return Response(values, headers={"Cache-Control": "no-store"})


class ConsentRecordApi(APIView):
    """Record a consent the resident (or, for a child, a guardian) gave."""

    @extend_schema_serializer(component_name="ConsentInput")
    class InputSerializer(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
        scope = serializers.CharField(required=False, allow_blank=True, default="")
        given_on = serializers.DateField(required=False, help_text="today when left out")
        given_by = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="the guardian's resident number, for a guardian's consent",
        )

        def validate_given_by(self, value: int | None) -> Resident | None:
            return _resident_ref(self.context["user"], value)

    @extend_schema(request=InputSerializer, responses={201: ConsentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        resident = _visible_resident(user, pk)
        _require_keeper(user, resident.community_id)
        data = self.InputSerializer(data=request.data, context={"user": user})
        data.is_valid(raise_exception=True)
        given = data.validated_data
        consent = consent_record(
            actor=user,
            resident=resident,
            purpose=given["purpose"],
            given_on=given.get("given_on") or timezone.localdate(),
            given_by=given["given_by"],
            scope_text=given["scope"],
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentWithdrawApi(APIView):
    """Withdraw a consent from today on: the resident, their proxy or a community worker.
    What the consent alone allowed to be kept is erased."""

    @extend_schema(request=None, responses=ConsentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        consent = Consent.objects.filter(
            pk=pk, resident__in=residents_visible_to(user).values("pk")
        ).first()
        if consent is None:
            raise NotFound(_("No consent no. %(id)s is visible to you.") % {"id": pk})
        return Response(ConsentSerializer(consent_withdraw(actor=user, consent=consent)).data)


class RelationAddApi(APIView):
    """Record a guardian, an emergency contact, or a proxy (with the resident's consent)."""

    @extend_schema_serializer(component_name="RelationInput")
    class InputSerializer(serializers.Serializer):
        person = serializers.IntegerField(help_text="the relative's resident number")
        kind = serializers.ChoiceField(choices=RelationKind.choices)
        consent = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="for a proxy: the number of the resident's consent to it",
        )

        def validate_person(self, value: int) -> Resident | None:
            return _resident_ref(self.context["user"], value)

        def validate_consent(self, value: int | None) -> Consent | None:
            if value is None:
                return None
            consent = Consent.objects.filter(pk=value, resident=self.context["resident"]).first()
            if consent is None:
                raise serializers.ValidationError(
                    _("No consent no. %(id)s of this resident.") % {"id": value}
                )
            return consent

    @extend_schema(request=InputSerializer, responses={201: RelationOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        resident = _visible_resident(user, pk)
        _require_keeper(user, resident.community_id)
        data = self.InputSerializer(data=request.data, context={"user": user, "resident": resident})
        data.is_valid(raise_exception=True)
        relation = relation_add(actor=user, resident=resident, **data.validated_data)
        return Response(RelationOutputSerializer(relation).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="Household")
class HouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.CharField(source="community_id")
    address = serializers.CharField()
    members = MaskedResidentSerializer(many=True)


def _household(household: Household) -> Any:
    members = household.members.filter(anonymized_at__isnull=True)
    return HouseholdSerializer(
        {
            "id": household.pk,
            "community_id": household.community_id,
            "address": household.address,
            "members": [resident_masked(r) for r in members],
        }
    ).data


class HouseholdCreateApi(APIView):
    """Open a household in a community (community workers)."""

    @extend_schema_serializer(component_name="HouseholdInput")
    class InputSerializer(serializers.Serializer):
        community = serializers.CharField(help_text="12-digit code of a community or village")
        address = serializers.CharField(max_length=255, allow_blank=True)

        def validate_community(self, value: str) -> Region:
            return _region(value)

    @extend_schema(request=InputSerializer, responses={201: HouseholdSerializer})
    def post(self, request: Request) -> Response:
        user = _user(request)
        _require_keeper(user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        household = household_create(actor=user, **data.validated_data)
        return Response(_household(household), status=status.HTTP_201_CREATED)


class HouseholdDetailApi(APIView):
    """A household and its members, masked: for those who see its community's residents,
    and for the residents (and proxies) of its members."""

    @extend_schema(responses=HouseholdSerializer)
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        household = Household.objects.filter(pk=pk).first()
        if household is None or not (
            user_scope(user, roles=LIST_ROLES).covers(household.community_id)
            or residents_acted_for(user).filter(household=household).exists()
        ):
            raise NotFound(_("No household no. %(id)s is visible to you.") % {"id": pk})
        return Response(_household(household))


class ResidentCountsApi(APIView):
    """Residents per priority group in each community of the caller's area (or of one
    region inside it). Figures come from the tallies: nothing is decrypted."""

    class FilterSerializer(serializers.Serializer):
        region = serializers.CharField(
            required=False, help_text="12-digit code of a region inside your area"
        )

    @extend_schema_serializer(component_name="CommunityPriorityCounts")
    class OutputSerializer(serializers.Serializer):
        community = serializers.CharField()
        name = serializers.CharField()
        residents = serializers.IntegerField()
        elderly = serializers.IntegerField()
        elderly_living_alone = serializers.IntegerField()
        disabled = serializers.IntegerField()
        minor = serializers.IntegerField()
        family_in_difficulty = serializers.IntegerField()
        left_behind = serializers.IntegerField()

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        scope = user_scope(_user(request), roles=LIST_ROLES)
        if scope.is_empty:
            raise PermissionDenied(_("Only community workers and officials see these counts."))
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        code = params.validated_data.get("region")
        if code:
            region = Region.objects.filter(code=code).first()
            if region is None or not scope.covers(region.code):
                raise serializers.ValidationError(
                    {
                        "region": [
                            _("No region with code %(code)s is visible to you.") % {"code": code}
                        ]
                    }
                )
            scope = Scope(everything=False, prefixes=(region.prefix,))
        counts = priority_counts(scope=scope)
        names = Region.objects.in_bulk(list(counts))
        rows = [
            {
                "community": community,
                "name": names[community].display_name if community in names else "",
                **{key: figures.get(key, 0) for key in COUNT_KEYS},
            }
            for community, figures in sorted(counts.items())
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


class MyResidentsApi(APIView):
    """The signed-in person's own record first, then those they are a proxy for; masked."""

    @extend_schema(responses=MaskedResidentSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(_masked(residents_acted_for(_user(request))))


class IgnoreClientContentNegotiation(DefaultContentNegotiation):
    """Downloads answer in their own format whatever `Accept` says (a client asking for
    text/csv is not refused with a 406); errors are rendered as JSON."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str | None]:
        first = next(iter(renderers))
        return first, first.media_type


class MyResidentDownloadApi(APIView):
    """Everything Linli holds on the resident, in clear, as a JSON file: for the resident
    and their proxies only (404 for anyone else); each download is logged."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="resident-<id>.json"
            )
        }
    )
    def get(self, request: Request, pk: int) -> JsonResponse:
        user = _user(request)
        resident = residents_acted_for(user).filter(pk=pk).first()
        if resident is None:
            raise NotFound(_("No resident no. %(id)s is visible to you.") % {"id": pk})
        record = resident_download(actor=user, resident=resident)
        response = JsonResponse(record, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="resident-{resident.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response


@extend_schema_serializer(component_name="Correction")
class CorrectionSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name")

    class Meta:
        model = Correction
        fields = [
            "id",
            "resident",
            "resident_name",
            "community_code",
            "message",
            "status",
            "answer",
            "asked_at",
            "answered_at",
        ]


class CorrectionAskApi(APIView):
    """The resident (or their proxy) says what is wrong in the record; the community
    worker gets a task."""

    @extend_schema_serializer(component_name="CorrectionAskInput")
    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={201: CorrectionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        resident = _visible_resident(user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        correction = correction_ask(
            actor=user, resident=resident, message=data.validated_data["message"]
        )
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)


class CorrectionListApi(generics.GenericAPIView):
    """Correction requests: those to answer (community workers) or those asked (residents)."""

    filter_backends: list = []
    queryset = Correction.objects.none()

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=Correction.Status.choices, required=False, allow_blank=True, default=""
        )

    @extend_schema(parameters=[FilterSerializer], responses=CorrectionSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        corrections = corrections_for(request.user)
        if params.validated_data["status"]:
            corrections = corrections.filter(status=params.validated_data["status"])
        page = self.paginate_queryset(corrections) or []
        return self.get_paginated_response(CorrectionSerializer(page, many=True).data)


class CorrectionAnswerApi(APIView):
    """The community worker closes a correction request: corrected (after editing the
    record) or not corrected (saying why)."""

    @extend_schema_serializer(component_name="CorrectionAnswerInput")
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=[
                (Correction.Status.DONE.value, Correction.Status.DONE.label),
                (Correction.Status.DECLINED.value, Correction.Status.DECLINED.label),
            ]
        )
        answer = serializers.CharField(allow_blank=True, required=False, default="")

    @extend_schema(request=InputSerializer, responses=CorrectionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        correction = corrections_for(user).filter(pk=pk).first()
        if correction is None:
            raise NotFound(_("No correction request no. %(id)s is visible to you.") % {"id": pk})
        _require_keeper(user, correction.community_code)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        correction = correction_answer(actor=user, correction=correction, **data.validated_data)
        return Response(CorrectionSerializer(correction).data)


AUDIT_ROLES = (Role.AUDITOR, Role.SYSTEM_ADMIN)


class AccessEventFilterSerializer(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=150, help_text="a username")
    resident = serializers.IntegerField(required=False, min_value=1, help_text="a record number")
    action = serializers.ChoiceField(choices=AccessEvent.Action.choices, required=False)
    since = serializers.DateField(required=False, help_text="from this day on")
    until = serializers.DateField(required=False, help_text="up to this day, included")
    community = serializers.RegexField(
        COMMUNITY_PREFIX,
        required=False,
        help_text="a region code or its prefix",
        error_messages={"invalid": gettext_lazy("Give a region code or its first digits.")},
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "since" in attrs and "until" in attrs and attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": [_("The end comes before the start.")]})
        return attrs


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _access_events(request: Request) -> QuerySet[AccessEvent]:
    """The access events the auditor asked for; 403 for every other role."""
    user = _user(request)
    if user_scope(user, roles=AUDIT_ROLES).is_empty:
        raise PermissionDenied(_("Only auditors review access events."))
    params = AccessEventFilterSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    given = params.validated_data
    events = access_events_visible_to(user)
    if "actor" in given:
        events = events.filter(actor_username=given["actor"])
    if "resident" in given:
        events = events.filter(resident_ref=given["resident"])
    if "action" in given:
        events = events.filter(action=given["action"])
    if "since" in given:
        events = events.filter(at__gte=_start_of(given["since"]))
    if "until" in given:
        events = events.filter(at__lt=_start_of(given["until"] + dt.timedelta(days=1)))
    if "community" in given:
        events = events.filter(community_code__startswith=given["community"])
    return events


@extend_schema_serializer(component_name="AccessEvent")
class AccessEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username")
    resident = serializers.IntegerField(source="resident_ref")
    community = serializers.CharField(source="community_code")
    # Taken off the class by DRF's metaclass (see UnmaskInput): no shadowing at run time.
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]

    class Meta:
        model = AccessEvent
        fields = ["id", "at", "actor", "action", "resident", "community", "fields", "purpose"]


class AccessEventListApi(generics.GenericAPIView):
    """Who unmasked, exported or downloaded whose personal data, when and why: auditors
    (and system administrators), within their area."""

    filter_backends: list = []
    queryset = AccessEvent.objects.none()

    @extend_schema(
        parameters=[AccessEventFilterSerializer], responses=AccessEventSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(_access_events(request)) or []
        return self.get_paginated_response(AccessEventSerializer(page, many=True).data)


class AccessEventExportApi(APIView):
    """The same filtered access events as a CSV file (UTF-8 with a byte-order mark, so
    Excel opens it), with headers in the caller's language."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        parameters=[AccessEventFilterSerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return access_events_csv(_access_events(request))
