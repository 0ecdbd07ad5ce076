"""Pages: the one-tap rating page reached from the "completed" notification, the
resident's complaints, and the community worker's complaints with their transitions.

Views parse, call a service, and render; refusals come back as the service's fields
and reasons. The rating page needs no JavaScript: each star is its own form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.models import User
from linli.core.errors import LinliError
from linli.requests.models import ServiceRequest
from linli.requests.services import is_served
from linli.residents.choices import RelationKind

from .. import selectors, services
from ..choices import (
    OPEN_COMPLAINT_STATES,
    ComplaintAction,
    ComplaintState,
    EscalationLevel,
    NeedMet,
    allowed_actions,
)
from ..models import SCORE_FIELDS, Complaint, ComplaintEvent, Evaluation

STARS = (1, 2, 3, 4, 5)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _refusal(error: LinliError) -> dict[str, list[str]]:
    return error.fields or {"__all__": [error.message]}


def _editable(evaluation: Evaluation | None, user: User) -> bool:
    if evaluation is None or evaluation.rater_id != user.pk:
        return False
    limit = evaluation.created_at + dt.timedelta(hours=services.edit_hours())
    return timezone.now() <= limit


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step one: five big stars, each a form; step two (optional): adjust the rest."""
    user = _user(request)
    served = (
        ServiceRequest.objects.select_related("person", "service", "responder", "community")
        .filter(public_id=public_id)
        .first()
    )
    if served is None:
        raise Http404
    evaluation = Evaluation.objects.filter(request=served).first()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            if evaluation is None:
                evaluation = services.evaluation_submit(
                    actor=user, request=served, overall=request.POST.get("overall")
                )
                messages.success(request, _("Thank you for your rating."))
            else:
                changes: dict[str, Any] = {
                    name: request.POST[name] for name in SCORE_FIELDS if request.POST.get(name)
                }
                for name in ("need_met", "comment"):
                    if name in request.POST:
                        changes[name] = request.POST[name]
                evaluation = services.evaluation_edit(
                    actor=user, evaluation=evaluation, changes=changes
                )
                messages.success(request, _("Your rating was saved."))
            return HttpResponseRedirect(reverse("evaluations:rate", args=[public_id]))
        except LinliError as error:
            errors = _refusal(error)
            status = error.status
    elif evaluation is None and not services.may_rate(user, served):
        errors = {"request": [_("Only the person served or their proxy may rate this request.")]}
        status = 403
    if (
        evaluation is not None
        and evaluation.rater_id != user.pk
        and not errors
        and not services.is_moderator(user, evaluation.community_id)
    ):
        raise Http404
    context = {
        "served": served,
        "evaluation": evaluation,
        "editable": _editable(evaluation, user),
        "errors": errors,
        "stars": STARS,
        "score_fields": [
            ("timeliness", _("Timeliness")),
            ("attitude", _("Attitude")),
            ("quality", _("Quality")),
        ],
        "need_met_choices": NeedMet.choices,
        "may_rate": evaluation is None and services.may_rate(user, served),
    }
    return render(request, "evaluations/rate.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def complaints_mine(request: HttpRequest) -> HttpResponse:
    """The resident's complaints, and a form to complain about one of their requests."""
    user = _user(request)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        number = request.POST.get("request", "")
        target = ServiceRequest.objects.filter(public_id=number).first() if number else None
        try:
            complaint = services.complaint_file(
                actor=user, request=target, text=request.POST.get("text", "")
            )
            messages.success(request, _("Your complaint was received."))
            return HttpResponseRedirect(reverse("evaluations:complaint", args=[complaint.pk]))
        except LinliError as error:
            errors = _refusal(error)
            status = error.status
    mine = list(selectors.complaints_of_complainant(user).select_related("request"))
    requests_served = [
        r
        for r in ServiceRequest.objects.filter(
            Q(requested_by=user)
            | Q(person__user=user)
            | Q(person__relations__kind=RelationKind.PROXY, person__relations__person__user=user)
        )
        .select_related("person", "service")
        .distinct()
        .order_by("-created_at")[:50]
        if is_served(user, r)
    ]
    return render(
        request,
        "evaluations/complaints_mine.html",
        {"complaints": mine, "served_requests": requests_served, "errors": errors},
        status=status,
    )


def _visible_complaint(user: User, pk: int) -> Complaint:
    complaint = (
        Complaint.objects.select_related("request__responder", "responder", "community")
        .filter(pk=pk)
        .first()
    )
    if complaint is None or not (
        complaint.complainant_id == user.pk or services.may_handle(user, complaint)
    ):
        raise Http404
    return complaint


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    complaint = _visible_complaint(user, pk)
    return render(
        request,
        "evaluations/complaint_detail.html",
        {
            "complaint": complaint,
            "events": complaint.events.select_related("actor"),
            "is_complainant": complaint.complainant_id == user.pk,
            "handles": services.may_handle(user, complaint),
            "actions": allowed_actions(complaint.state),
            "errors": {},
        },
    )


@login_required
@require_POST
def complaint_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    complaint = _visible_complaint(user, pk)
    satisfied_raw = request.POST.get("satisfied", "")
    satisfied = {"yes": True, "no": False}.get(satisfied_raw)
    try:
        services.complaint_transition(
            actor=user,
            complaint=complaint,
            action=request.POST.get("action", ""),
            answer=request.POST.get("answer", ""),
            satisfied=satisfied,
        )
    except LinliError as error:
        for reasons in _refusal(error).values():
            for reason in reasons:
                messages.error(request, reason)
    back = request.POST.get("next", "")
    if back == "handle":
        return HttpResponseRedirect(reverse("evaluations:complaints_handle"))
    return HttpResponseRedirect(reverse("evaluations:complaint", args=[pk]))


@login_required
def complaints_handle(request: HttpRequest) -> HttpResponse:
    """The community worker's (or provider staff's) complaints, open ones first."""
    user = _user(request)
    state = request.GET.get("state", "")
    found = selectors.complaints_in_scope(user).select_related("request")
    if state in ComplaintState.values:
        found = found.filter(state=state)
    rows = sorted(
        found.order_by("respond_by", "id")[:200],
        key=lambda c: (c.state in (ComplaintState.ANSWERED, ComplaintState.CLOSED), c.respond_by),
    )
    now = timezone.now()
    # Who has been told of an overdue complaint (jobs.escalate_complaints): its top level.
    escalated: dict[int, int] = {}
    for complaint_id, level in ComplaintEvent.objects.filter(
        complaint_id__in=[c.pk for c in rows], action=ComplaintAction.ESCALATE
    ).values_list("complaint_id", "level"):
        escalated[complaint_id] = max(escalated.get(complaint_id, 0), level or 0)
    return render(
        request,
        "evaluations/complaints_handle.html",
        {
            "rows": [
                (
                    c,
                    allowed_actions(c.state),
                    c.state in OPEN_COMPLAINT_STATES and c.respond_by < now,
                    EscalationLevel(escalated[c.pk]).label if c.pk in escalated else "",
                )
                for c in rows
            ],
            "overdue_count": sum(
                1 for c in rows if c.state in OPEN_COMPLAINT_STATES and c.respond_by < now
            ),
            "states": ComplaintState.choices,
            "state": state,
            "actions": ComplaintAction,
        },
    )


urlpatterns = [
    path("evaluations/rate/<str:public_id>/", rate, name="rate"),
    path("complaints/", complaints_mine, name="complaints_mine"),
    path("complaints/handle/", complaints_handle, name="complaints_handle"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint"),
    path("complaints/<int:pk>/move/", complaint_move, name="complaint_move"),
]
