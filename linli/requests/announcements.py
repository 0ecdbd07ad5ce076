"""Every step of a request announces itself, after commit, to those it concerns.

- The person served (their account) and whoever asked for them hear of every
  change of status; the person who took the step does not hear of it again.
- The responder (the person, or their organization's provider staff) hears of
  every assignment to them, and of a request taken from them (cancelled,
  turned down, given to someone else).

`events.request_event` schedules `request_event_announce` through
`linli.core.tasks.enqueue` once the event's transaction commits. Notifications
keep the event's id as their key, so an announcement that runs twice notifies
once. Texts are worded from kind + params in each reader's language
(linli/notifications/texts.py).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.notifications.choices import Kind
from linli.notifications.services import notify_kind
from linli.notifications.texts import in_languages

from .choices import Action, State
from .models import Assignment, RequestEvent, Responder, ServiceRequest

ANNOUNCE_TASK = "requests.announce_event"


def responder_users(responder: Responder | None) -> QuerySet[User]:
    """Who reads a responder's tasks: the person, else their organization's provider staff."""
    if responder is None:
        return User.objects.none()
    if responder.user_id:
        return User.objects.filter(pk=responder.user_id, is_active=True)
    if responder.organization_id is None:
        return User.objects.none()
    return User.objects.filter(
        is_active=True,
        role_assignments__role=Role.PROVIDER_STAFF,
        role_assignments__organization_id=responder.organization_id,
    ).distinct()


def served_users(request: ServiceRequest) -> list[User]:
    """The person served (when they have an account) and whoever asked for them."""
    users: dict[int, User] = {}
    if request.person is not None and request.person.user is not None:
        users[request.person.user.pk] = request.person.user
    if request.requested_by is not None:
        users.setdefault(request.requested_by.pk, request.requested_by)
    return [user for user in users.values() if user.is_active]


def _names(request: ServiceRequest) -> dict[str, Any]:
    return {
        "service": in_languages(
            {"zh-hans": request.service.name, "en": getattr(request.service, "name_en", "")}
        ),
        "community": in_languages(
            {"zh-hans": request.community.name, "en": request.community.name_en}
        ),
    }


def _covered_by_triage(event: RequestEvent) -> bool:
    """A request is submitted and triaged in one go: one message ("received, finding
    someone") says both."""
    return (
        event.action == Action.SUBMIT
        and RequestEvent.objects.filter(
            request_id=event.request_id, action=Action.TRIAGE, pk__gt=event.pk
        ).exists()
    )


def _former_responder(event: RequestEvent) -> Responder | None:
    """The responder a step took the request from, if any."""
    if event.action in (Action.CANCEL, Action.REJECT) and event.data.get("responder"):
        return Responder.objects.filter(pk=event.data["responder"]).first()
    if event.action == Action.ASSIGN and event.from_state == State.ASSIGNED:
        ended = (
            Assignment.objects.filter(
                request_id=event.request_id, end_reason="reassigned", ended_at__lte=event.at
            )
            .select_related("responder")
            .order_by("-ended_at", "-id")
            .first()
        )
        return ended.responder if ended else None
    return None


@transaction.atomic
def request_event_announce(*, event_id: int) -> int:
    """Notify everyone `event` concerns; how many notifications were written."""
    event = (
        RequestEvent.objects.select_related(
            "request__person__user",
            "request__requested_by",
            "request__responder__user",
            "request__service",
            "request__community",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    request = event.request
    written = 0
    assigned = (
        Responder.objects.filter(pk=event.data.get("responder")).first()
        if event.action == Action.ASSIGN
        else None
    )
    acting = assigned or (
        request.responder if event.action in (Action.ACCEPT, Action.START) else None
    )
    if not _covered_by_triage(event):
        params: dict[str, Any] = {
            "number": request.public_id,
            "action": event.action,
            "state": event.to_state,
            "reason": event.reason,
            "event": event.pk,
        }
        if acting is not None:
            params["responder"] = acting.name
        # A delivered request links to its one-tap rating page (the evaluations app).
        link = (
            reverse("evaluations:rate", args=[request.public_id])
            if event.action == Action.COMPLETE
            else ""
        )
        for user in served_users(request):
            if user.pk == event.actor_id:
                continue
            notify_kind(
                user=user,
                kind=Kind.REQUEST_STATUS,
                params=params,
                link=link,
                request=request,
                key=f"status:{event.pk}",
            )
            written += 1
    for user in responder_users(assigned):
        if user.pk == event.actor_id:
            continue
        notify_kind(
            user=user,
            kind=Kind.REQUEST_ASSIGNED,
            params={"number": request.public_id, "event": event.pk, **_names(request)},
            request=request,
            key=f"assigned:{event.pk}",
        )
        written += 1
    former = _former_responder(event)
    if former is not None:
        for user in responder_users(former):
            if user.pk == event.actor_id:
                continue
            notify_kind(
                user=user,
                kind=Kind.REQUEST_WITHDRAWN,
                params={
                    "number": request.public_id,
                    "action": event.action,
                    "reason": event.reason if event.action != Action.ASSIGN else "",
                    "event": event.pk,
                },
                request=request,
                key=f"withdrawn:{event.pk}",
            )
            written += 1
    return written
