"""Reads of service requests: who sees which, what a responder may know, the queue."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import staff_organizations, user_scope
from linli.core.pii import mask_phone
from linli.residents.models import AccessEvent
from linli.residents.selectors import LIST_ROLES, acted_for_q
from linli.residents.services import access_log

from .choices import HELD_STATES, OPEN_STATES, State
from .models import ServiceRequest
from .services import is_responder

# A responder sees the person's phone and exact address once they have accepted the task.
ACCEPTED_STATES = (State.ACCEPTED, State.IN_PROGRESS)


def requests_visible_to(user: Any) -> QuerySet[ServiceRequest]:
    """Keepers and officials: their area's requests. Residents and proxies: what they
    asked for or is for someone they act for. Responders: what they hold or held."""
    if not getattr(user, "is_authenticated", False):
        return ServiceRequest.objects.none()
    area = user_scope(user, roles=LIST_ROLES)
    served = Q(requested_by=user) | acted_for_q(user, path="person__")
    organizations = staff_organizations(user)
    responding = Q(assignments__responder__user=user) | Q(
        assignments__responder__organization__in=organizations
    )
    return ServiceRequest.objects.filter(area.q("community__code") | served | responding).distinct()


def tasks_of(user: Any) -> QuerySet[ServiceRequest]:
    """The requests a responder (a person, or staff of a responding organization) holds."""
    if not getattr(user, "is_authenticated", False):
        return ServiceRequest.objects.none()
    organizations = staff_organizations(user)
    return ServiceRequest.objects.filter(
        Q(responder__user=user) | Q(responder__organization__in=organizations),
        state__in=HELD_STATES,
    )


def task_view(request: ServiceRequest, *, viewer: Any) -> dict[str, Any]:
    """What a responder needs for a task, and no more: the person's name and community
    always; the street address and phone only once they have accepted, and reading the
    phone then is logged like any other reading of personal data."""
    person = request.person
    # Only the responder holding the accepted task gets the address and phone: one who
    # declined, or staff of another organization, keeps seeing them masked.
    accepted = request.state in ACCEPTED_STATES and is_responder(viewer, request.responder)
    phone = request.contact_phone or (person.phone if person else "")
    view: dict[str, Any] = {
        "public_id": request.public_id,
        "service": request.service.code,
        "service_name": request.service.display_name,
        "description": request.description,
        "urgency": request.urgency,
        "state": request.state,
        "name": person.name if person else request.contact_name,
        "community": request.community_id,
        "address": request.address if accepted else "",
        "phone": phone if accepted else mask_phone(phone),
        "window_start": request.window_start,
        "window_end": request.window_end,
        "due_at": request.due_at,
        "latitude": request.latitude if accepted else None,
        "longitude": request.longitude if accepted else None,
    }
    if accepted and person is not None and phone:
        access_log(
            actor=viewer,
            residents=[person],
            fields=["phone"],
            purpose=request.public_id,
            action=AccessEvent.Action.TASK,
        )
    return view


def request_counts(*, user: Any) -> dict[str, dict[str, int]]:
    """Per community of the user's area: open, overdue and escalated requests."""
    area = user_scope(user, roles=LIST_ROLES)
    now = timezone.now()
    rows = (
        ServiceRequest.objects.filter(area.q("community__code"), state__in=OPEN_STATES)
        .values("community_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(due_at__lt=now)),
            escalated=Count("id", filter=Q(escalation_level__gt=0)),
        )
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["community_id"]] = {
            "open": row["open"],
            "overdue": row["overdue"],
            "escalated": row["escalated"],
        }
    return dict(counts)


def dispatch_queue(*, user: Any) -> QuerySet[ServiceRequest]:
    """Requests waiting for a responder in the keeper's communities, most pressing first."""
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return (
        ServiceRequest.objects.filter(
            keeper.q("community__code"), state__in=(State.TRIAGED, State.ASSIGNED)
        )
        .select_related("service", "responder", "person", "community")
        .order_by("-priority", "due_at", "id")
    )
