"""API: stars and challenges, the honours of a community, service record certificates and
their public check, volunteer indicators.

Two endpoints need no login: a community's honours (volunteers by family name only)
and the check of a certificate code, which returns what the certificate says and
nothing from the live records. The rest needs a signed-in user; the services check
who may do what, and refusals come back as {"code", "detail", "fields"}.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.accounts.selectors import user_scope
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.pii import mask_name
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.selectors import LIST_ROLES

from .. import access
from ..certificates import (
    Shown,
    certificate_find,
    certificate_issue,
    certificate_pdf,
    certificates_of,
    normalize_code,
    verify_url,
)
from ..choices import AwardStatus, ChallengeStatus
from ..honours import (
    ANSWERS,
    challenges_to_answer,
    community_hours,
    honours_of,
    may_challenge,
    star_challenge,
    star_challenge_answer,
    star_standing,
)
from ..indicators import Indicators, parse_month, volunteer_indicators
from ..models import Certificate, StarAward, StarChallenge

STATUSES = ", ".join(AwardStatus.values)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _signed_in(request: Request) -> User | None:
    return _user(request) if request.user.is_authenticated else None


# --- stars and honours ------------------------------------------------------------------


@extend_schema_serializer(component_name="StarAward")
class AwardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    level = serializers.IntegerField(help_text="stars: 1 is the first threshold")
    hours = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="when proposed")
    status = serializers.CharField(help_text=STATUSES)
    status_label = serializers.CharField(source="get_status_display")
    notice_until = serializers.DateField(help_text="the last day it may be challenged")
    decided_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="HonoursAward")
class PublicAwardSerializer(AwardSerializer):
    """An award on a community's honours: the volunteer by family name only."""

    name = serializers.CharField(help_text="family name and *: 王*")
    teams = serializers.ListField(child=serializers.CharField())
    may_challenge = serializers.BooleanField(help_text="whether the caller may challenge it now")


class _PublicAward:
    """An award with what the honours add (the masked name, the teams, whether the caller
    may challenge it), read by the serializer beside the award's own attributes."""

    def __init__(self, award: StarAward, user: User | None) -> None:
        self._award = award
        self.name = mask_name(award.volunteer.name)
        self.teams = [team.name for team in award.volunteer.teams.all()]
        self.may_challenge = may_challenge(user, award)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._award, name)


class HonoursApi(APIView):
    """A community's honours, for anyone: stars awarded and in public notice, and the
    hours its volunteers have given."""

    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="CommunityHonours")
    class OutputSerializer(serializers.Serializer):
        community = serializers.CharField()
        community_name = serializers.CharField()
        total_hours = serializers.DecimalField(max_digits=12, decimal_places=2)
        awards = PublicAwardSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, code: str) -> Response:
        community = Region.objects.filter(code=code, level=RegionLevel.COMMUNITY).first()
        if community is None:
            raise NotFound(_("No community or village has this code."))
        user = _signed_in(request)
        awards = [_PublicAward(a, user) for a in honours_of(community.code)]
        data = {
            "community": community.code,
            "community_name": community.display_name,
            "total_hours": community_hours(community.code),
            "awards": awards,
        }
        return Response(self.OutputSerializer(data).data)


class MyStarsApi(APIView):
    """The caller's stars, their earned hours and what the next level needs."""

    @extend_schema_serializer(component_name="MyStars")
    class OutputSerializer(serializers.Serializer):
        earned_hours = serializers.DecimalField(max_digits=10, decimal_places=2)
        level = serializers.IntegerField(help_text="the level the hours reach")
        awarded_level = serializers.IntegerField(help_text="the highest level awarded")
        next_level = serializers.IntegerField(allow_null=True)
        next_threshold = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
        hours_to_next = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
        awards = AwardSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        volunteer = access.volunteer_of(_user(request))
        if volunteer is None:
            raise NotFound(_("You are not registered as a volunteer."))
        standing = star_standing(volunteer)
        return Response(
            self.OutputSerializer(
                {
                    "earned_hours": standing.earned,
                    "level": standing.level,
                    "awarded_level": standing.awarded_level,
                    "next_level": standing.next_level,
                    "next_threshold": standing.next_threshold,
                    "hours_to_next": standing.hours_to_next,
                    "awards": standing.awards,
                }
            ).data
        )


@extend_schema_serializer(component_name="StarChallenge")
class ChallengeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    award = serializers.IntegerField(source="award_id")
    award_status = serializers.CharField(source="award.status", help_text=STATUSES)
    status = serializers.CharField(help_text=", ".join(ChallengeStatus.values))
    status_label = serializers.CharField(source="get_status_display")
    reason = serializers.CharField()
    answer = serializers.CharField()
    raised_at = serializers.DateTimeField()


class StarChallengeApi(APIView):
    """Challenge a star award during its public notice, with a reason (anyone signed in
    but the volunteer)."""

    @extend_schema_serializer(component_name="StarChallengeInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: ChallengeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        award = StarAward.objects.filter(pk=pk).first()
        if award is None:
            raise NotFound(_("No such star award."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        challenge = star_challenge(
            award=award, actor=_user(request), reason=data.validated_data["reason"]
        )
        challenge.award.refresh_from_db()
        return Response(ChallengeSerializer(challenge).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="StarChallengeToAnswer")
class ChallengeToAnswerSerializer(ChallengeSerializer):
    """For the community's worker: who raised it and whose award it is."""

    raised_by = serializers.CharField(source="raised_by.display_name")
    volunteer = serializers.CharField(source="award.volunteer.name")
    community = serializers.CharField(source="award.volunteer.community_id")
    level = serializers.IntegerField(source="award.level")


class ChallengeListApi(APIView):
    """Open challenges in the communities the caller keeps, oldest first."""

    @extend_schema(responses=ChallengeToAnswerSerializer(many=True))
    def get(self, request: Request) -> Response:
        found = challenges_to_answer(_user(request))
        return Response(ChallengeToAnswerSerializer(found, many=True).data)


class ChallengeAnswerApi(APIView):
    """The community's worker upholds a challenge (the award is withdrawn) or dismisses
    it (the award goes ahead)."""

    @extend_schema_serializer(component_name="StarChallengeAnswer")
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(
            choices=[str(answer) for answer in ANSWERS],
            help_text="upheld: withdraw the award; dismissed: it goes ahead",
        )
        answer = serializers.CharField(max_length=2000, allow_blank=True)

    @extend_schema(request=InputSerializer, responses=ChallengeSerializer)
    def post(self, request: Request, pk: int) -> Response:
        challenge = StarChallenge.objects.filter(pk=pk).first()
        if challenge is None:
            raise NotFound(_("No such challenge."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answered = star_challenge_answer(
            challenge=challenge,
            actor=_user(request),
            outcome=data.validated_data["outcome"],
            answer=data.validated_data["answer"],
        )
        answered.award.refresh_from_db()
        return Response(ChallengeSerializer(answered).data)


# --- certificates -----------------------------------------------------------------------


@extend_schema_serializer(component_name="CertificateActivityLine")
class ActivityLineSerializer(serializers.Serializer):
    title = serializers.CharField()
    date = serializers.CharField(help_text="YYYY-MM-DD")
    organizer = serializers.CharField()
    hours = serializers.CharField(help_text="to the hundredth: 2.50")
    certified_by = serializers.CharField()


@extend_schema_serializer(component_name="CertificateRequestLine")
class RequestLineSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    service = serializers.CharField()
    date = serializers.CharField(help_text="YYYY-MM-DD")
    hours = serializers.CharField()


@extend_schema_serializer(component_name="CertificateTotals")
class TotalsSerializer(serializers.Serializer):
    activities = serializers.CharField()
    requests = serializers.CharField()
    other = serializers.CharField(help_text="earned for neither an activity nor a request")
    hours = serializers.CharField(help_text="the total")
    activity_count = serializers.IntegerField()
    request_count = serializers.IntegerField()


@extend_schema_serializer(component_name="CertificatePeriod")
class PeriodSerializer(serializers.Serializer):
    # "from" is a Python keyword: renamed on output.
    start = serializers.CharField(source="from")
    end = serializers.CharField(source="to")


@extend_schema_serializer(component_name="CertificateContent")
class ContentSerializer(serializers.Serializer):
    """What a certificate says, frozen when issued; names in the reader's language."""

    code = serializers.CharField()
    name = serializers.CharField()
    community = serializers.CharField()
    organization = serializers.CharField()
    period = PeriodSerializer(allow_null=True)
    activities = ActivityLineSerializer(many=True)
    requests = RequestLineSerializer(many=True)
    totals = TotalsSerializer()
    issued_at = serializers.DateTimeField()


def _content(certificate: Certificate) -> dict[str, Any]:
    return dict(ContentSerializer(Shown(certificate.content)).data)


@extend_schema_serializer(component_name="Certificate")
class CertificateSerializer(serializers.Serializer):
    code = serializers.CharField()
    issued_at = serializers.DateTimeField()
    total_hours = serializers.DecimalField(max_digits=10, decimal_places=2)
    pdf = serializers.CharField(help_text="where to download the PDF")
    verify = serializers.CharField(help_text="the public page of the code")
    content = ContentSerializer()


def _certificate(certificate: Certificate, request: Request) -> dict[str, Any]:
    return {
        "code": certificate.code,
        "issued_at": certificate.issued_at,
        "total_hours": certificate.total_hours,
        "pdf": reverse("api:certificate-pdf", args=[certificate.code]),
        "verify": verify_url(certificate.code, base=request.build_absolute_uri("/")),
        "content": _content(certificate),
    }


class CertificateListApi(APIView):
    """GET: the caller's service record certificates, newest first. POST: issue a new
    one (free of charge) listing every confirmed hour so far."""

    def _volunteer(self, request: Request) -> Any:
        volunteer = access.volunteer_of(_user(request))
        if volunteer is None:
            raise NotFound(_("You are not registered as a volunteer."))
        return volunteer

    @extend_schema(responses=CertificateSerializer(many=True))
    def get(self, request: Request) -> Response:
        mine = certificates_of(self._volunteer(request))
        return Response(
            CertificateSerializer([_certificate(c, request) for c in mine], many=True).data
        )

    @extend_schema(request=None, responses={201: CertificateSerializer})
    def post(self, request: Request) -> Response:
        issued = certificate_issue(volunteer=self._volunteer(request), actor=_user(request))
        return Response(
            CertificateSerializer(_certificate(issued, request)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:certificate-pdf", args=[issued.code])},
        )


class CertificatePdfApi(APIView):
    """A certificate's PDF, to the volunteer it was issued to."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, code: str) -> HttpResponse:
        certificate = Certificate.objects.filter(
            code=normalize_code(code), volunteer__user=_user(request)
        ).first()
        if certificate is None:
            raise NotFound(_("You have no certificate with this code."))
        response = HttpResponse(
            certificate_pdf(certificate, base=request.build_absolute_uri("/")),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="certificate-{certificate.code}.pdf"'
        )
        response["Cache-Control"] = "private, no-store"
        return response


class CertificateVerifyApi(APIView):
    """Check a certificate code, for anyone, free: what the certificate says, or 404."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: ContentSerializer, 404: OpenApiResponse(description="no such certificate")}
    )
    def get(self, request: Request, code: str) -> Response:
        certificate = certificate_find(code)
        if certificate is None:
            raise NotFound(_("There is no certificate with this code."))
        response = Response(_content(certificate))
        response["Cache-Control"] = "private, no-store"
        return response


# --- indicators -------------------------------------------------------------------------


@extend_schema_serializer(component_name="IndicatorCounts")
class CountsSerializer(serializers.Serializer):
    volunteers = serializers.IntegerField(help_text="registered: verified")
    residents = serializers.IntegerField(help_text="on the register, not anonymized")
    share = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, help_text="volunteers per resident"
    )
    hours = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="earned in the month, net of corrections"
    )
    active = serializers.IntegerField(help_text="volunteers with hours in the month")


@extend_schema_serializer(component_name="RegionIndicators")
class RegionCountsSerializer(CountsSerializer):
    code = serializers.CharField(source="region.code")
    name = serializers.CharField(source="region.display_name")
    level = serializers.CharField(source="region.level")


class IndicatorsApi(APIView):
    """Volunteer indicators of a region in the caller's scope for a month: its totals and
    one row per child region (streets of a county, communities of a street)."""

    class FilterSerializer(serializers.Serializer):
        region = serializers.CharField(max_length=12, help_text="a 12-digit region code")
        month = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="YYYY-MM; this month if empty"
        )

        def validate_region(self, value: str) -> Region:
            found = Region.objects.filter(code=value.strip()).first()
            if found is None:
                raise serializers.ValidationError(
                    _("No region with code %(code)s.") % {"code": value[:12]}
                )
            return found

        def validate_month(self, value: str) -> Any:
            try:
                return parse_month(value)
            except ValidationFailed as error:
                raise serializers.ValidationError(error.fields["month"]) from error

    @extend_schema_serializer(component_name="VolunteerIndicators")
    class OutputSerializer(serializers.Serializer):
        region = serializers.CharField(source="region.code")
        name = serializers.CharField(source="region.display_name")
        level = serializers.CharField(source="region.level")
        month = serializers.CharField()
        totals = CountsSerializer()
        children = RegionCountsSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        scope = user_scope(_user(request), roles=LIST_ROLES)
        if scope.is_empty:
            raise PermissionDenied(_("Indicators are for community workers and officials."))
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        region: Region = params.validated_data["region"]
        if not scope.covers(region.code):
            raise PermissionDenied(_("This region is outside your area."))
        found: Indicators = volunteer_indicators(
            region=region, month=params.validated_data["month"]
        )
        return Response(self.OutputSerializer(found).data)


urlpatterns = [
    path("volunteers/honours/<str:code>/", HonoursApi.as_view(), name="volunteer-honours"),
    path("volunteers/stars/", MyStarsApi.as_view(), name="volunteer-stars"),
    path(
        "volunteers/stars/<int:pk>/challenges/",
        StarChallengeApi.as_view(),
        name="star-challenge",
    ),
    path("volunteers/challenges/", ChallengeListApi.as_view(), name="star-challenge-list"),
    path(
        "volunteers/challenges/<int:pk>/answer",
        ChallengeAnswerApi.as_view(),
        name="star-challenge-answer",
    ),
    path("volunteers/certificates/", CertificateListApi.as_view(), name="certificate-list"),
    path(
        "volunteers/certificates/<str:code>/pdf",
        CertificatePdfApi.as_view(),
        name="certificate-pdf",
    ),
    path(
        "certificates/verify/<str:code>",
        CertificateVerifyApi.as_view(),
        name="certificate-verify",
    ),
    path("volunteers/indicators/", IndicatorsApi.as_view(), name="volunteer-indicators"),
]
