"""Pages: joining as a volunteer or a social worker; a community's volunteers, their
verification, profiles and teams.

Views parse, call a selector or a service, and render. Who sees which volunteers comes
from `people.volunteers_visible_to` (a community worker: their communities'; provider
staff: their organization's); every change goes through the services of `people`,
whose refusals come back at the field (400), as a 403 or as a 409.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import staff_organizations, user_scope
from linli.core.errors import Conflict, LinliError, PermissionDenied, ValidationFailed
from linli.directory.models import Organization
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.forms import add_service_errors

from ..choices import VolunteerStatus
from ..forms import (
    DecisionForm,
    JoinForm,
    SocialWorkerForm,
    StatusFilterForm,
    TeamForm,
    day_choices,
)
from ..ledger import earned_hours
from ..models import Account, SocialWorker, Team, Volunteer
from ..people import (
    VERIFY,
    may_see_volunteers,
    own_resident,
    social_worker_decide,
    social_worker_register,
    social_workers_visible_to,
    team_create,
    team_join,
    team_leave,
    teams_kept_by,
    teams_open_to,
    volunteer_decide,
    volunteer_list,
    volunteer_register,
    volunteers_visible_to,
)

PER_PAGE = 25


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _status_of(error: LinliError) -> int:
    return error.status if isinstance(error, PermissionDenied | Conflict) else 400


def availability_words(slots: list[dict[str, Any]]) -> list[str]:
    """Weekly slots as a person reads them: "Monday 08:00–12:00"."""
    days = dict(day_choices())
    return [f"{days.get(str(s['day']), '?')} {s['start']}–{s['end']}" for s in slots]


# --- joining ---------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Register as a volunteer; once registered, the page says where things stand."""
    user = _user(request)
    volunteer = Volunteer.objects.filter(user=user).select_related("community").first()
    resident = own_resident(user)
    may_register = volunteer is None or volunteer.status == VolunteerStatus.REJECTED
    form = JoinForm(request.POST or None, resident=resident) if may_register else None
    status = 200
    if request.method == "POST":
        if form is None:
            return HttpResponseRedirect(reverse("volunteers:join"))
        if form.is_valid():
            try:
                volunteer_register(actor=user, data=form.to_input())
            except ValidationFailed as error:
                add_service_errors(form, error, rename={"availability": "days"})
                status = 400
            except (Conflict, PermissionDenied) as error:
                form.add_error(None, error.message)
                status = _status_of(error)
            else:
                messages.success(
                    request,
                    _("Thank you. Your registration waits for verification; we will let you know."),
                )
                return HttpResponseRedirect(reverse("volunteers:join"))
        else:
            status = 400
    return render(
        request,
        "volunteers/people_join.html",
        {
            "form": form,
            "volunteer": volunteer,
            "resident": resident,
            "availability": availability_words(volunteer.availability) if volunteer else [],
        },
        status=status,
    )


# --- a community's volunteers ----------------------------------------------------------------


def _require_lists(user: User) -> None:
    if not may_see_volunteers(user):
        raise DjangoPermissionDenied(_("Community workers and provider staff keep this list."))


@never_cache
@login_required
def volunteer_list_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_lists(user)
    filters = StatusFilterForm(request.GET or None)
    chosen = filters.cleaned_data.get("status", "") if filters.is_valid() else ""
    found = volunteer_list(user=user, status=chosen).prefetch_related("skills")
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "volunteers/people_list.html",
        {
            "page": page,
            "filters": filters,
            "status": chosen,
            "query_string": f"status={chosen}" if chosen else "",
            "pending": VolunteerStatus.PENDING,
            "verify": VERIFY,
        },
    )


def _visible_volunteer(user: User, pk: int) -> Volunteer:
    found = (
        volunteers_visible_to(user)
        .filter(pk=pk)
        .select_related("community", "organization", "verified_by", "responder", "user")
        .prefetch_related("skills", "teams")
        .first()
    )
    if found is None:
        raise Http404(_("No such volunteer for you."))
    return found


def _render_detail(
    request: HttpRequest, volunteer: Volunteer, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    account = Account.objects.filter(user=volunteer.user).first()
    return render(
        request,
        "volunteers/people_detail.html",
        {
            "volunteer": volunteer,
            "earned": earned_hours(volunteer.user),
            "balance": account.balance if account else 0,
            "availability": availability_words(volunteer.availability),
            "form": form or DecisionForm(),
        },
        status=status,
    )


@never_cache
@login_required
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_lists(user)
    return _render_detail(request, _visible_volunteer(user, pk))


@never_cache
@login_required
@require_POST
def volunteer_decision(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify, reject or suspend (with a reason), from the list or the profile."""
    user = _user(request)
    _require_lists(user)
    volunteer = _visible_volunteer(user, pk)
    form = DecisionForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            volunteer_decide(
                actor=user,
                volunteer=volunteer,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        except (Conflict, PermissionDenied) as error:
            form.add_error(None, error.message)
            status = _status_of(error)
        else:
            messages.success(
                request,
                _("%(name)s: %(status)s.")
                % {
                    "name": volunteer.name,
                    "status": Volunteer.objects.get(pk=pk).get_status_display(),
                },
            )
            default = reverse("volunteers:volunteer_detail", args=[pk])
            return HttpResponseRedirect(_next_url(request, default))
    return _render_detail(request, _visible_volunteer(user, pk), form, status)


# --- teams ---------------------------------------------------------------------------------


def _owners(user: User) -> tuple[list[Region], list[Organization]]:
    """Where the user may found teams: their communities, their organizations."""
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    communities = (
        list(Region.objects.filter(keeper.q("code"), level=RegionLevel.COMMUNITY).order_by("code"))
        if not keeper.is_empty
        else []
    )
    organizations = list(
        Organization.objects.filter(pk__in=staff_organizations(user)).order_by("name")
    )
    return communities, organizations


def _render_teams(
    request: HttpRequest, form: TeamForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    communities, organizations = _owners(user)
    if form is None and (communities or organizations):
        form = TeamForm(communities=communities, organizations=organizations)
    volunteer = Volunteer.objects.filter(user=user).first()
    mine = set(volunteer.teams.values_list("pk", flat=True)) if volunteer else set()
    kept = list(
        teams_kept_by(user)
        .select_related("community", "organization")
        .annotate(member_count=Count("members"))
        .order_by("name", "id")
    )
    open_teams = (
        list(teams_open_to(volunteer.community).order_by("name")) if volunteer is not None else []
    )
    return render(
        request,
        "volunteers/team_list.html",
        {
            "form": form,
            "kept": kept,
            "open_teams": open_teams,
            "mine": mine,
            "volunteer": volunteer,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    """Teams a worker looks after (and founds), and teams a volunteer may join."""
    user = _user(request)
    if request.method == "GET":
        return _render_teams(request)
    communities, organizations = _owners(user)
    if not communities and not organizations:
        raise DjangoPermissionDenied(_("Community workers and provider staff found teams."))
    form = TeamForm(request.POST, communities=communities, organizations=organizations)
    if not form.is_valid():
        return _render_teams(request, form, 400)
    community, organization = form.owners[form.cleaned_data["owner"]]
    try:
        team = team_create(
            actor=user,
            name=form.cleaned_data["name"],
            community=community,
            organization=organization,
        )
    except ValidationFailed as error:
        add_service_errors(form, error, rename={"community": "owner", "organization": "owner"})
        return _render_teams(request, form, 400)
    except PermissionDenied as error:
        form.add_error(None, error.message)
        return _render_teams(request, form, 403)
    messages.success(request, _("The team %(team)s is founded.") % {"team": team.name})
    return HttpResponseRedirect(reverse("volunteers:teams"))


@never_cache
@login_required
@require_POST
def team_membership(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    user = _user(request)
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise Http404(_("No such team."))
    try:
        if move == "join":
            team_join(actor=user, team=team)
            messages.success(request, _("You joined %(team)s.") % {"team": team.name})
        else:
            team_leave(actor=user, team=team)
            messages.success(request, _("You left %(team)s.") % {"team": team.name})
    except LinliError as error:
        reasons = [r for rs in error.fields.values() for r in rs] or [error.message]
        for reason in reasons:
            messages.error(request, reason)
        status = _status_of(error)
        if status == 404:
            raise Http404(error.message) from error
        return _render_teams(request, status=status)
    return HttpResponseRedirect(reverse("volunteers:teams"))


# --- social workers ---------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def social_worker_join(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    worker = SocialWorker.objects.filter(user=user).first()
    resident = own_resident(user)
    may_register = worker is None or worker.status == VolunteerStatus.REJECTED
    form = SocialWorkerForm(request.POST or None, resident=resident) if may_register else None
    status = 200
    if request.method == "POST":
        if form is None:
            return HttpResponseRedirect(reverse("volunteers:social_worker_join"))
        if form.is_valid():
            try:
                social_worker_register(actor=user, data=form.to_input())
            except ValidationFailed as error:
                add_service_errors(form, error)
                status = 400
            except (Conflict, PermissionDenied) as error:
                form.add_error(None, error.message)
                status = _status_of(error)
            else:
                messages.success(
                    request, _("Thank you. Your qualification waits for verification.")
                )
                return HttpResponseRedirect(reverse("volunteers:social_worker_join"))
        else:
            status = 400
    return render(
        request,
        "volunteers/social_worker_join.html",
        {"form": form, "worker": worker},
        status=status,
    )


def _render_social_workers(
    request: HttpRequest, failed: tuple[int, DecisionForm] | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    filters = StatusFilterForm(request.GET or None)
    chosen = filters.cleaned_data.get("status", "") if filters.is_valid() else ""
    found = social_workers_visible_to(user).order_by("community_id", "name", "id")
    if chosen:
        found = found.filter(status=chosen)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "volunteers/social_worker_list.html",
        {
            "page": page,
            "filters": filters,
            "query_string": f"status={chosen}" if chosen else "",
            "failed_pk": failed[0] if failed else None,
            "failed_form": failed[1] if failed else None,
        },
        status=status,
    )


@never_cache
@login_required
def social_workers(request: HttpRequest) -> HttpResponse:
    _require_lists(_user(request))
    return _render_social_workers(request)


@never_cache
@login_required
@require_POST
def social_worker_decision(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_lists(user)
    worker = social_workers_visible_to(user).filter(pk=pk).first()
    if worker is None:
        raise Http404(_("No such social worker for you."))
    form = DecisionForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            social_worker_decide(
                actor=user,
                worker=worker,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        except (Conflict, PermissionDenied) as error:
            form.add_error(None, error.message)
            status = _status_of(error)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("volunteers:social_workers"))
    return _render_social_workers(request, (pk, form), status)


urlpatterns: list[URLPattern] = [
    path("volunteers/join/", join, name="join"),
    path("volunteers/", volunteer_list_page, name="volunteer_list"),
    path("volunteers/<int:pk>/", volunteer_detail, name="volunteer_detail"),
    path("volunteers/<int:pk>/decision/", volunteer_decision, name="volunteer_decision"),
    path("volunteers/teams/", teams, name="teams"),
    path(
        "volunteers/teams/<int:pk>/join/",
        team_membership,
        {"move": "join"},
        name="team_join",
    ),
    path(
        "volunteers/teams/<int:pk>/leave/",
        team_membership,
        {"move": "leave"},
        name="team_leave",
    ),
    path("volunteers/social-workers/", social_workers, name="social_workers"),
    path("volunteers/social-workers/join/", social_worker_join, name="social_worker_join"),
    path(
        "volunteers/social-workers/<int:pk>/decision/",
        social_worker_decision,
        name="social_worker_decision",
    ),
]
