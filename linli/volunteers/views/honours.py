"""Pages: honours and stars, service record certificates and their public check,
volunteer indicators for officials.

The honours page of a community and the certificate check are public (no login): the
honours page names volunteers by family name only; the check shows what the certificate
says and nothing from the live records. Everything else needs a login; officials see
indicators only for regions in their scope. Rules live in honours.py, certificates.py
and indicators.py: views parse, call, and render.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import LinliError, PermissionDenied, ValidationFailed
from linli.core.pii import mask_name
from linli.regions.choices import RegionLevel
from linli.regions.codes import CODE_LENGTH, parent_of
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
)
from ..choices import AwardStatus, ChallengeStatus
from ..honours import (
    challenges_to_answer,
    community_hours,
    honours_of,
    may_challenge,
    star_challenge,
    star_challenge_answer,
    star_standing,
)
from ..indicators import Month, parse_month, volunteer_indicators
from ..models import Certificate, StarAward, StarChallenge


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _errors(error: LinliError) -> dict[str, list[str]]:
    return error.fields or {"form": [error.message]}


# --- honours and stars ------------------------------------------------------------------


def _community(code: str) -> Region:
    found = Region.objects.filter(code=code, level=RegionLevel.COMMUNITY).first()
    if found is None:
        raise Http404(_("No community or village has this code."))
    return found


def award_row(award: StarAward, user: User | None) -> dict[str, Any]:
    """An award as public pages show it: the family name only, the teams."""
    volunteer = award.volunteer
    return {
        "award": award,
        "name": mask_name(volunteer.name),
        "teams": "、".join(team.name for team in volunteer.teams.all()),
        "may_challenge": may_challenge(user, award),
    }


def _render_honours(
    request: HttpRequest,
    community: Region,
    *,
    failed: int | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request) if request.user.is_authenticated else None
    rows = [award_row(award, user) for award in honours_of(community.code)]
    keeps = user is not None and access.keeps_community(user, community.code)
    open_challenges = (
        list(challenges_to_answer(user).filter(award__volunteer__community=community))
        if keeps and user is not None
        else []
    )
    return render(
        request,
        "volunteers/honours_community.html",
        {
            "community": community,
            "awarded": [r for r in rows if r["award"].status == AwardStatus.AWARDED],
            "in_notice": [r for r in rows if r["award"].status == AwardStatus.NOTICE],
            "total_hours": community_hours(community.code),
            "challenges": [
                {"challenge": c, "name": c.award.volunteer.name} for c in open_challenges
            ],
            "failed": failed,
            "errors": errors or {},
            "outcomes": [
                (ChallengeStatus.DISMISSED, _("Dismiss: the award goes ahead")),
                (ChallengeStatus.UPHELD, _("Uphold: withdraw the award")),
            ],
        },
        status=status,
    )


@require_GET
def honours_page(request: HttpRequest, code: str) -> HttpResponse:
    """A community's honours, for anyone: stars awarded and in public notice."""
    return _render_honours(request, _community(code))


@never_cache
@login_required
@require_GET
def stars_page(request: HttpRequest) -> HttpResponse:
    """The signed-in volunteer's stars and the hours to the next level."""
    volunteer = access.volunteer_of(_user(request))
    standing = star_standing(volunteer) if volunteer is not None else None
    return render(request, "volunteers/stars_mine.html", {"standing": standing})


def _award_in_notice(pk: int) -> StarAward:
    award = (
        StarAward.objects.filter(pk=pk, status__in=(AwardStatus.NOTICE, AwardStatus.AWARDED))
        .select_related("volunteer__community")
        .prefetch_related("volunteer__teams")
        .first()
    )
    if award is None:
        raise Http404(_("No such star award."))
    return award


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def challenge_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Challenge an award in public notice, with a reason."""
    user = _user(request)
    award = _award_in_notice(pk)
    errors: dict[str, list[str]] = {}
    status = 200
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            star_challenge(award=award, actor=user, reason=reason)
        except ValidationFailed as error:
            errors, status = _errors(error), 400
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        else:
            messages.success(
                request,
                _("Your challenge was received. The award waits until the community answers."),
            )
            return HttpResponseRedirect(
                reverse("volunteers:honours", args=[award.volunteer.community_id])
            )
    return render(
        request,
        "volunteers/stars_challenge.html",
        {
            "row": award_row(award, user),
            "community": award.volunteer.community,
            "errors": errors,
            "reason": reason,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def challenge_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The community's worker upholds or dismisses a challenge."""
    user = _user(request)
    challenge = (
        StarChallenge.objects.filter(pk=pk).select_related("award__volunteer__community").first()
    )
    if challenge is None:
        raise Http404(_("No such challenge."))
    community = challenge.award.volunteer.community
    try:
        star_challenge_answer(
            challenge=challenge,
            actor=user,
            outcome=request.POST.get("outcome", ""),
            answer=request.POST.get("answer", ""),
        )
    except ValidationFailed as error:
        return _render_honours(
            request, community, failed=challenge.pk, errors=_errors(error), status=400
        )
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    messages.success(request, _("Your answer was recorded and sent to whoever challenged."))
    return HttpResponseRedirect(reverse("volunteers:honours", args=[community.code]))


# --- certificates -----------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def certificates_page(request: HttpRequest) -> HttpResponse:
    """My certificates: issue a new one (free), download the PDFs."""
    user = _user(request)
    volunteer = access.volunteer_of(user)
    status = 200
    if request.method == "POST":
        if volunteer is None:
            raise DjangoPermissionDenied(_("Only volunteers have service records."))
        try:
            issued = certificate_issue(volunteer=volunteer, actor=user)
        except ValidationFailed as error:
            for reasons in _errors(error).values():
                for reason in reasons:
                    messages.error(request, reason)
            status = 400
        else:
            messages.success(request, _("Your certificate is ready: download it below."))
            return HttpResponseRedirect(f"{reverse('volunteers:certificates')}#c-{issued.code}")
    mine = certificates_of(volunteer) if volunteer is not None else []
    return render(
        request,
        "volunteers/certificate_list.html",
        {"volunteer": volunteer, "certificates": [Shown(c.content) for c in mine]},
        status=status,
    )


@never_cache
@login_required
@require_GET
def certificate_download(request: HttpRequest, code: str) -> HttpResponse:
    """A certificate's PDF, to the volunteer it was issued to (anyone else: not found)."""
    certificate = (
        Certificate.objects.filter(code=normalize_code(code), volunteer__user=_user(request))
        .select_related("volunteer")
        .first()
    )
    if certificate is None:
        raise Http404(_("You have no certificate with this code."))
    pdf = certificate_pdf(certificate, base=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _render_verify(request: HttpRequest, code: str) -> HttpResponse:
    # The public page shows the full name because the certificate does: whoever checks a
    # certificate compares the paper in their hand with this page, and a masked name
    # would not tell a forged name from a true one. Only the holder of the paper knows
    # the code (12 random characters), so the page shows nothing they cannot read on it.
    certificate = certificate_find(code) if code else None
    status = 200 if certificate is not None or not code else 404
    response = render(
        request,
        "volunteers/verify_certificate.html",
        {
            "asked": normalize_code(code),
            "shown": Shown(certificate.content) if certificate else None,
        },
        status=status,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """Check a certificate by its code (?code=), or a form to type it in."""
    return _render_verify(request, request.GET.get("code", "").strip()[:40])


@require_GET
def verify_page(request: HttpRequest, code: str) -> HttpResponse:
    """The page a certificate's QR code opens."""
    return _render_verify(request, code[:40])


# --- indicators -------------------------------------------------------------------------


def _top_region(scope: Scope) -> Region | None:
    if scope.everything:
        return Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code").first()
    codes = [prefix.ljust(CODE_LENGTH, "0") for prefix in scope.prefixes]
    return Region.objects.filter(code__in=codes).order_by("code").first()


def _trail(region: Region, scope: Scope) -> list[Region]:
    """The region's ancestors the viewer may open, top first."""
    codes: list[str] = []
    current = parent_of(region.code)
    while current is not None:
        if scope.covers(current):
            codes.append(current)
        current = parent_of(current)
    return list(Region.objects.filter(code__in=codes).order_by("code"))


@never_cache
@login_required
@require_GET
def indicators_page(request: HttpRequest) -> HttpResponse:
    """Registered volunteers, their share of residents, hours and active volunteers, per
    street or community of a region in the official's scope, with drill-down."""
    scope = user_scope(_user(request), roles=LIST_ROLES)
    if scope.is_empty:
        raise DjangoPermissionDenied(_("Indicators are for community workers and officials."))
    errors: dict[str, list[str]] = {}
    code = request.GET.get("region", "").strip()
    region = Region.objects.filter(code=code).first() if code else _top_region(scope)
    if region is None:
        errors["region"] = [_("No region with code %(code)s.") % {"code": code[:12]}]
    elif not scope.covers(region.code):
        raise DjangoPermissionDenied(_("This region is outside your area."))
    try:
        month = parse_month(request.GET.get("month", ""))
    except ValidationFailed as error:
        errors.update(error.fields)
        month = Month.current()
    if errors or region is None:
        region = _top_region(scope)
    figures = volunteer_indicators(region=region, month=month) if region is not None else None
    return render(
        request,
        "volunteers/indicators_table.html",
        {
            "figures": figures,
            "month": month,
            "previous": month.previous(),
            "following": month.following() if month != Month.current() else None,
            "trail": _trail(region, scope) if region is not None else [],
            "errors": errors,
            "now": timezone.now(),
        },
        status=400 if errors else 200,
    )


urlpatterns = [
    path("volunteers/honours/<str:code>/", honours_page, name="honours"),
    path("volunteers/stars/", stars_page, name="stars"),
    path("volunteers/stars/<int:pk>/challenge/", challenge_page, name="star_challenge"),
    path("volunteers/challenges/<int:pk>/answer/", challenge_answer, name="challenge_answer"),
    path("volunteers/indicators/", indicators_page, name="indicators"),
    path("certificates/", certificates_page, name="certificates"),
    path("certificates/verify/", verify_form, name="certificate_verify_form"),
    path("certificates/<str:code>.pdf", certificate_download, name="certificate_pdf"),
    path("verify/<str:code>/", verify_page, name="certificate_verify"),
]
