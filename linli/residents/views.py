"""Pages of the residents register.

Lists and counts for those who keep or oversee it, the resident card, the keepers'
forms and correction tasks, the resident's own record, and the auditor's view of
who read what. Views parse, call a selector or a service, and render: who sees
what comes from the residents selectors; refusals come from the services, as
ValidationFailed (shown at the field) or PermissionDenied (a message, or the
site's 403 page). Every page showing personal data is marked never to be cached.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment, User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .choices import ConsentPurpose, Difficulty, DisabilityCategory, PriorityGroup
from .exports import access_events_csv
from .forms import (
    AccessEventFilterForm,
    CorrectionAnswerForm,
    CorrectionAskForm,
    ResidentFilterForm,
    ResidentForm,
    UnmaskForm,
    add_service_errors,
)
from .models import (
    SENSITIVE_FIELDS,
    AccessEvent,
    Consent,
    Correction,
    Household,
    Resident,
    field_label,
)
from .selectors import (
    LIST_ROLES,
    access_events_visible_to,
    corrections_for,
    priority_counts,
    resident_masked,
    residents_acted_for,
    residents_filter,
    residents_visible_to,
)
from .services import (
    acts_for,
    consent_withdraw,
    correction_answer,
    correction_ask,
    resident_download,
    resident_input,
    resident_register,
    resident_unmask,
    resident_update,
)

RESIDENTS_PER_PAGE = 25
EVENTS_PER_PAGE = 50
CORRECTIONS_PER_PAGE = 20
# A resident's page lists the latest readings of their record; the download has them all.
MY_EVENTS_SHOWN = 50
AUDIT_ROLES = (Role.AUDITOR, Role.SYSTEM_ADMIN)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _forbidden(error: PermissionDenied | None = None) -> DjangoPermissionDenied:
    """The site's 403 page."""
    return DjangoPermissionDenied(error.message if error else "")


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _keeper_scope(user: User) -> Scope:
    return user_scope(user, roles=RESIDENT_KEEPER_ROLES)


def _visible(user: User, resident_id: int) -> Resident:
    """The resident, if the user may see them at all; 404 otherwise (not 403: whether a
    record exists outside one's area is itself not for everyone to learn)."""
    resident = (
        residents_visible_to(user)
        .select_related("community", "household")
        .filter(pk=resident_id)
        .first()
    )
    if resident is None:
        raise Http404(_("No such resident in your area."))
    return resident


def _badges(resident: Resident, masked: dict[str, Any]) -> list[tuple[str, str]]:
    """Priority groups as tags; disability and difficulty only as present, never which."""
    age = masked["age"]
    badges = []
    if age is not None and age >= 60:
        badges.append(("elderly", _("Elderly")))
    if resident.living_alone:
        badges.append(("living-alone", _("Lives alone")))
    if masked["disability"]:
        badges.append(("disability", _("Disability")))
    if masked["difficulty"]:
        badges.append(("difficulty", _("In difficulty")))
    if age is not None and age < 18:
        badges.append(("minor", _("Minor")))
    if resident.left_behind:
        badges.append(("left-behind", _("Left behind")))
    return badges


def _row(resident: Resident) -> dict[str, Any]:
    masked = resident_masked(resident)
    return {"resident": resident, "masked": masked, "badges": _badges(resident, masked)}


def _holds_resident_role(user: User) -> bool:
    return RoleAssignment.objects.filter(user=user, role=Role.RESIDENT).exists()


# Lists and counts -------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def resident_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = user_scope(user, roles=LIST_ROLES)
    if scope.is_empty:
        if _holds_resident_role(user) or residents_acted_for(user).exists():
            return redirect("residents:my_record")
        raise _forbidden()
    form = ResidentFilterForm(request.GET or None, scope=scope)
    region = form.regions.get(form.value("community"))
    residents = residents_filter(
        residents_visible_to(user),
        community=region.prefix if region else "",
        age_band=form.value("age_band"),
        group=form.value("group"),
    )
    if name := form.value("name"):
        residents = residents.filter(name__contains=name)
    page = Paginator(residents.select_related("community"), RESIDENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "residents/list.html",
        {
            "form": form,
            "page": page,
            "rows": [_row(resident) for resident in page.object_list],
            "query_string": _without_page(request),
            "keeper": not _keeper_scope(user).is_empty,
        },
        status=400 if form.errors else 200,
    )


COUNT_COLUMNS = (
    "residents",
    PriorityGroup.ELDERLY.value,
    PriorityGroup.ELDERLY_LIVING_ALONE.value,
    PriorityGroup.DISABLED.value,
    PriorityGroup.FAMILY_IN_DIFFICULTY.value,
    PriorityGroup.MINOR.value,
    PriorityGroup.LEFT_BEHIND.value,
)


def _count_labels() -> list[str]:
    labels = dict(PriorityGroup.choices)
    return [_("Residents"), *(str(labels[c]) for c in COUNT_COLUMNS[1:])]


def _count_cells(
    figures: dict[str, int], region: Region | None, linked: bool
) -> list[dict[str, Any]]:
    """One cell per column, linking to the list filtered the same way where it can."""
    base = reverse("residents:list")
    cells = []
    for column, label in zip(COUNT_COLUMNS, _count_labels(), strict=True):
        url = ""
        if linked and region is not None:
            url = f"{base}?community={region.code}"
            if column != "residents":
                url += f"&group={column}"
        cells.append({"value": figures.get(column, 0), "url": url, "label": label})
    return cells


def _add(total: dict[str, int], figures: dict[str, int]) -> None:
    for column, value in figures.items():
        total[column] = total.get(column, 0) + value


@never_cache
@login_required
@require_GET
def resident_counts(request: HttpRequest) -> HttpResponse:
    """Counts by priority group: per street, and per community of the street looked at."""
    scope = user_scope(_user(request), roles=LIST_ROLES)
    if scope.is_empty:
        raise _forbidden()
    counts = priority_counts(scope=scope)
    communities = list(
        Region.objects.filter(code__in=list(counts)).select_related("parent").order_by("code")
    )
    streets: dict[str, dict[str, Any]] = {}
    totals: dict[str, int] = {}
    for community in communities:
        street = community.parent
        if street is None:  # a community always sits in a street; a broken tree shows less
            continue
        entry = streets.setdefault(
            street.code, {"region": street, "figures": {}, "communities": []}
        )
        _add(entry["figures"], counts[community.code])
        _add(totals, counts[community.code])
        entry["communities"].append(community)
    chosen = request.GET.get("street", "")
    if chosen not in streets:
        chosen = next(iter(streets)) if len(streets) == 1 else ""
    street_rows = [
        {
            "region": entry["region"],
            "cells": _count_cells(entry["figures"], entry["region"], scope.covers(code)),
            "chosen": code == chosen,
        }
        for code, entry in streets.items()
    ]
    community_rows = (
        [
            {"region": c, "cells": _count_cells(counts[c.code], c, True)}
            for c in streets[chosen]["communities"]
        ]
        if chosen
        else []
    )
    return render(
        request,
        "residents/counts.html",
        {
            "columns": _count_labels(),
            "street_rows": street_rows,
            "community_rows": community_rows,
            "chosen": streets[chosen]["region"] if chosen else None,
            "totals": _count_cells(totals, None, False),
        },
    )


# The resident card --------------------------------------------------------------------


def _display_value(name: str, value: str) -> str:
    """A clear value as people read it: the label of a coded value."""
    labels: dict[str, Any] = {
        "disability_category": dict(DisabilityCategory.choices),
        "difficulty": dict(Difficulty.choices),
    }
    return str(labels.get(name, {}).get(value, value)) if value else _("(none)")


def _render_card(
    request: HttpRequest,
    resident: Resident,
    *,
    unmask_form: UnmaskForm | None = None,
    unmasked: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    keeper = _keeper_scope(user).covers(resident.community_id)
    acting = acts_for(user, resident)
    masked = resident_masked(resident)
    visible_ids = set(
        residents_visible_to(user)
        .filter(pk__in=resident.relations.values("person_id"))
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "residents/card.html",
        {
            "resident": resident,
            "masked": masked,
            "badges": _badges(resident, masked),
            "keeper": keeper,
            "may_withdraw": keeper or acting,
            # Corrections quote what the resident says is wrong: for them and their keepers.
            "show_corrections": keeper or acting,
            "consents": list(resident.consents.select_related("given_by")),
            "relations": [
                {"relation": relation, "visible": relation.person_id in visible_ids}
                for relation in resident.relations.select_related("person", "consent")
            ],
            "corrections": list(resident.corrections.all()),
            "unmask_form": unmask_form or (UnmaskForm() if keeper else None),
            "unmasked": unmasked,
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def resident_card(request: HttpRequest, resident_id: int) -> HttpResponse:
    return _render_card(request, _visible(_user(request), resident_id))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def resident_unmask_page(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Show chosen sensitive fields once, for a stated purpose; the service logs it.

    The values are in this one response only: reloading the card masks them again."""
    user = _user(request)
    resident = _visible(user, resident_id)
    if request.method == "GET":
        return redirect("residents:card", resident_id=resident.pk)
    form = UnmaskForm(request.POST)
    if not form.is_valid():
        return _render_card(request, resident, unmask_form=form, status=400)
    chosen = [name for name in SENSITIVE_FIELDS if name in form.cleaned_data["show"]]
    try:
        values = resident_unmask(
            actor=user, resident=resident, fields=chosen, purpose=form.cleaned_data["purpose"]
        )
    except ValidationFailed as error:
        add_service_errors(form, error, rename={"fields": "show"})
        return _render_card(request, resident, unmask_form=form, status=400)
    except PermissionDenied as error:
        messages.error(request, error.message)
        return _render_card(request, resident, status=403)
    unmasked = [(field_label(name), _display_value(name, values[name])) for name in chosen]
    return _render_card(request, resident, unmask_form=UnmaskForm(), unmasked=unmasked)


# Keepers' forms ---------------------------------------------------------------------------


def _form_kwargs(scope: Scope) -> dict[str, Any]:
    return {
        "communities": Region.objects.filter(scope.q("code"), level=RegionLevel.COMMUNITY),
        "households": Household.objects.filter(scope.q("community__code")),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def resident_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _keeper_scope(user)
    if scope.is_empty:
        raise _forbidden()
    kwargs = _form_kwargs(scope)
    if request.method == "POST":
        form = ResidentForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                resident = resident_register(actor=user, data=form.to_input())
            except ValidationFailed as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("Resident no. %(id)s is registered.") % {"id": resident.pk}
                )
                return redirect("residents:card", resident_id=resident.pk)
    else:
        form = ResidentForm(initial=_new_initial(request, kwargs), **kwargs)
    return render(
        request,
        "residents/form.html",
        {"form": form, "resident": None},
        status=400 if form.errors else 200,
    )


def _new_initial(request: HttpRequest, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A new member of a household starts with its community and address; a keeper of a
    single community starts with that community."""
    initial: dict[str, Any] = {}
    communities = kwargs["communities"]
    if communities.count() == 1:
        initial["community"] = communities.get().code
    number = request.GET.get("household", "")
    if number.isdigit():
        household = kwargs["households"].filter(pk=int(number)).first()
        if household is not None:
            initial.update(
                household=household.pk,
                community=household.community_id,
                address=household.address,
            )
    return initial


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, resident_id: int) -> HttpResponse:
    user = _user(request)
    resident = _visible(user, resident_id)
    scope = _keeper_scope(user)
    if not scope.covers(resident.community_id):
        raise _forbidden()
    kwargs = _form_kwargs(scope)
    if request.method == "POST":
        form = ResidentForm(request.POST, resident=resident, **kwargs)
        if form.is_valid():
            try:
                resident_update(
                    actor=user, resident=resident, data=form.to_input(resident_input(resident))
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The record is saved."))
                return redirect("residents:card", resident_id=resident.pk)
    else:
        form = ResidentForm(resident=resident, **kwargs)
    return render(
        request,
        "residents/form.html",
        {"form": form, "resident": resident},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_GET
def household_page(request: HttpRequest, household_id: int) -> HttpResponse:
    user = _user(request)
    household = Household.objects.select_related("community").filter(pk=household_id).first()
    if household is None:
        raise Http404(_("No such household in your area."))
    members = list(
        residents_visible_to(user).filter(household=household).select_related("community")
    )
    in_area = user_scope(user, roles=LIST_ROLES).covers(household.community_id)
    if not (in_area or members):
        raise Http404(_("No such household in your area."))
    return render(
        request,
        "residents/household.html",
        {
            "household": household,
            "rows": [_row(member) for member in members],
            "keeper": _keeper_scope(user).covers(household.community_id),
        },
    )


# Correction tasks -------------------------------------------------------------------------


def _tasks(user: User, scope: Scope) -> QuerySet[Correction]:
    return (
        corrections_for(user)
        .filter(scope.q("community_code"))
        .select_related("resident", "answered_by")
        .annotate(
            waiting=Case(
                When(status=Correction.Status.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-asked_at", "-id")
    )


def _answer_form(correction: Correction, data: Any = None) -> CorrectionAnswerForm:
    return CorrectionAnswerForm(data, auto_id=f"id_c{correction.pk}_%s")


def _render_tasks(
    request: HttpRequest,
    scope: Scope,
    *,
    failed: tuple[int, CorrectionAnswerForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    tasks = _tasks(user, scope)
    page = Paginator(tasks, CORRECTIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for correction in page.object_list:
        form = None
        if correction.status == Correction.Status.OPEN:
            form = failed[1] if failed and failed[0] == correction.pk else _answer_form(correction)
        rows.append({"correction": correction, "form": form})
    return render(
        request,
        "residents/corrections.html",
        {
            "page": page,
            "rows": rows,
            "open_count": tasks.filter(status=Correction.Status.OPEN).count(),
            "query_string": _without_page(request),
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def corrections_page(request: HttpRequest) -> HttpResponse:
    scope = _keeper_scope(_user(request))
    if scope.is_empty:
        raise _forbidden()
    return _render_tasks(request, scope)


@never_cache
@login_required
@require_POST
def correction_answer_page(request: HttpRequest, correction_id: int) -> HttpResponse:
    user = _user(request)
    scope = _keeper_scope(user)
    if scope.is_empty:
        raise _forbidden()
    correction = _tasks(user, scope).filter(pk=correction_id).first()
    if correction is None:
        raise Http404(_("No such correction request in your area."))
    form = _answer_form(correction, request.POST)
    if form.is_valid():
        try:
            correction_answer(
                actor=user,
                correction=correction,
                status=form.cleaned_data["status"],
                answer=form.cleaned_data["answer"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            raise _forbidden(error) from error
        else:
            messages.success(request, _("The answer is sent to the resident."))
            return redirect("residents:corrections")
    return _render_tasks(request, scope, failed=(correction.pk, form), status=400)


# The resident's own record ----------------------------------------------------------------


def _ask_form(resident: Resident, data: Any = None) -> CorrectionAskForm:
    return CorrectionAskForm(data, auto_id=f"id_r{resident.pk}_%s")


def _render_my_record(
    request: HttpRequest,
    *,
    failed: tuple[int, CorrectionAskForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    records = []
    for resident in residents_acted_for(user).select_related("community", "household"):
        masked = resident_masked(resident)
        events = resident.access_events.order_by("-at", "-id")
        records.append(
            {
                "resident": resident,
                "masked": masked,
                "badges": _badges(resident, masked),
                "is_self": resident.user_id == user.pk,
                "consents": list(resident.consents.select_related("given_by")),
                "relations": list(resident.relations.select_related("person")),
                "corrections": list(resident.corrections.all()),
                "events": [
                    {"event": event, "fields": [_field_name(f) for f in event.fields]}
                    for event in events[:MY_EVENTS_SHOWN]
                ],
                "event_count": events.count(),
                "ask_form": failed[1]
                if failed and failed[0] == resident.pk
                else _ask_form(resident),
            }
        )
    return render(
        request,
        "residents/my_record.html",
        {"records": records, "events_shown": MY_EVENTS_SHOWN},
        status=status,
    )


def _field_name(name: str) -> str:
    try:
        return field_label(name)
    except FieldDoesNotExist:  # an event may name a field a later version dropped
        return name


def _acted_for(user: User, resident_id: int) -> Resident:
    resident = (
        residents_acted_for(user).select_related("community", "household").filter(pk=resident_id)
    ).first()
    if resident is None:
        raise Http404(_("This is not your record."))
    return resident


@never_cache
@login_required
@require_GET
def my_record(request: HttpRequest) -> HttpResponse:
    return _render_my_record(request)


@never_cache
@login_required
@require_POST
def my_record_download(request: HttpRequest, resident_id: int) -> HttpResponse:
    """The whole record as JSON, in clear: the resident's own copy (logged)."""
    user = _user(request)
    resident = _acted_for(user, resident_id)
    try:
        data = resident_download(actor=user, resident=resident)
    except PermissionDenied as error:
        messages.error(request, error.message)
        return redirect("residents:my_record")
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="resident-{resident.pk}.json"'
    return response


@never_cache
@login_required
@require_POST
def my_record_correction(request: HttpRequest, resident_id: int) -> HttpResponse:
    user = _user(request)
    resident = _acted_for(user, resident_id)
    form = _ask_form(resident, request.POST)
    if form.is_valid():
        try:
            correction_ask(actor=user, resident=resident, message=form.cleaned_data["message"])
        except ValidationFailed as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, error.message)
            return redirect("residents:my_record")
        else:
            messages.success(
                request, _("Your request is sent. Your community worker will answer it here.")
            )
            return redirect("residents:my_record")
    return _render_my_record(request, failed=(resident.pk, form), status=400)


# Consents ---------------------------------------------------------------------------------


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# Read when the page is drawn, in the reader's language.
WITHDRAWAL_EFFECTS = {
    ConsentPurpose.HEALTH: gettext_lazy("The health needs recorded with this consent are erased."),
    ConsentPurpose.GUARDIAN: gettext_lazy(
        "If no other guardian's consent is in force, the child's details beyond registration "
        "are erased."
    ),
    ConsentPurpose.PROXY: gettext_lazy(
        "The family member no longer acts on the resident's behalf."
    ),
}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw_page(request: HttpRequest, consent_id: int) -> HttpResponse:
    """Withdrawing asks first (it may erase data), then withdraws from today on."""
    user = _user(request)
    consent = Consent.objects.filter(pk=consent_id).first()
    if consent is None:
        raise Http404(_("No such consent."))
    resident = _visible(user, consent.resident_id)
    acting = acts_for(user, resident)
    if not (acting or _keeper_scope(user).covers(resident.community_id)):
        raise _forbidden()
    default = (
        reverse("residents:my_record")
        if acting
        else reverse("residents:card", kwargs={"resident_id": resident.pk})
    )
    back = _next_url(request, default)
    if request.method == "POST":
        try:
            consent_withdraw(actor=user, consent=consent)
        except ValidationFailed as error:
            for reasons in error.fields.values():
                for reason in reasons:
                    messages.error(request, reason)
        except PermissionDenied as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The consent is withdrawn from today."))
        return HttpResponseRedirect(back)
    if not consent.in_force:
        messages.info(request, _("This consent is already withdrawn."))
        return HttpResponseRedirect(back)
    return render(
        request,
        "residents/consent_withdraw.html",
        {
            "consent": consent,
            "resident": resident,
            "effect": WITHDRAWAL_EFFECTS.get(ConsentPurpose(consent.purpose), ""),
            "back": back,
        },
    )


# Access events ----------------------------------------------------------------------------


def _audit_scope(user: User) -> Scope:
    scope = user_scope(user, roles=AUDIT_ROLES)
    if scope.is_empty:
        raise _forbidden()
    return scope


def _events(user: User, form: AccessEventFilterForm) -> QuerySet[AccessEvent]:
    """The events the auditor may see, narrowed by the filters that are valid."""
    events = access_events_visible_to(user)
    if not form.is_bound:
        return events
    form.is_valid()
    data = form.cleaned_data
    if data.get("who"):
        events = events.filter(actor_username__icontains=data["who"])
    if data.get("record"):
        events = events.filter(resident_ref=data["record"])
    if data.get("action"):
        events = events.filter(action=data["action"])
    if data.get("date_from"):
        events = events.filter(at__date__gte=data["date_from"])
    if data.get("date_to"):
        events = events.filter(at__date__lte=data["date_to"])
    region = form.regions.get(data.get("community") or "")
    if region is not None:
        events = events.filter(community_code__startswith=region.prefix)
    return events


def _community_names(scope: Scope) -> dict[str, str]:
    communities = Region.objects.filter(scope.q("code"), level=RegionLevel.COMMUNITY)
    return {region.code: region.display_name for region in communities.only("name", "name_en")}


@never_cache
@login_required
@require_GET
def access_events_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _audit_scope(user)
    form = AccessEventFilterForm(request.GET or None, scope=scope)
    page = Paginator(_events(user, form), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    names = _community_names(scope)
    return render(
        request,
        "residents/access_events.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {
                    "event": event,
                    "fields": [_field_name(f) for f in event.fields],
                    "community": names.get(event.community_code, event.community_code),
                }
                for event in page.object_list
            ],
            "query_string": _without_page(request),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_GET
def access_events_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered events as CSV for Excel (UTF-8 with a BOM). It names who read which
    record number, not residents' data, so it writes no access event of its own."""
    user = _user(request)
    form = AccessEventFilterForm(request.GET or None, scope=_audit_scope(user))
    return access_events_csv(_events(user, form))
