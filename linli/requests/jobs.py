"""Background work of service requests: escalations, dispatch rounds, announcements.

Periodic jobs (linli.core.tasks.PERIODIC_JOBS) look at the data, not at the clock:
`escalate_overdue` raises every escalation that is due and not yet raised, so a
run after a gap catches up on everything the missed runs would have done, and a
second run (or two racing) raises nothing twice: the Escalation table's unique
(request, deadline, level) decides.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.selectors import role_holders_over
from linli.core.tasks import JobSkipped, task
from linli.notifications.choices import Kind
from linli.notifications.services import notify_kind
from linli.notifications.texts import in_languages

from .announcements import ANNOUNCE_TASK, request_event_announce
from .choices import OPEN_STATES, State
from .models import Escalation, ServiceRequest

logger = logging.getLogger(__name__)

# Not accepted in time: the request still waits for a responder to say yes.
RESPOND_STATES = (State.TRIAGED, State.ASSIGNED)
# Who hears of an escalation, by level: the community's workers, then the street's officials.
ESCALATION_ROLES = {1: Role.COMMUNITY_WORKER, 2: Role.STREET_OFFICIAL}
DEADLINES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (Escalation.Deadline.RESPOND, "respond_by", RESPOND_STATES),
    (Escalation.Deadline.RESOLVE, "due_at", OPEN_STATES),
)


def escalation_grace() -> dt.timedelta:
    return dt.timedelta(minutes=int(settings.LINLI_ESCALATION_GRACE_MINUTES))


def escalation_recipients(request: ServiceRequest, level: int) -> list[User]:
    """Holders of the level's role over the request's community (or above it)."""
    return list(role_holders_over(ESCALATION_ROLES[level], request.community_id))


def _still_overdue(request_id: int, field: str, states: tuple[str, ...], now: dt.datetime) -> bool:
    return ServiceRequest.objects.filter(
        pk=request_id, state__in=states, **{f"{field}__lt": now}
    ).exists()


@transaction.atomic
def escalation_raise(
    *, request: ServiceRequest, deadline: str, level: int, now: dt.datetime
) -> Escalation | None:
    """Raise one escalation and notify its level's people, unless it was raised already
    (another run got there first: the unique constraint says so) or the request moved on."""
    field, states = next((f, s) for d, f, s in DEADLINES if d == deadline)
    if not _still_overdue(request.pk, field, states, now):
        return None
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                request=request,
                deadline=deadline,
                deadline_at=getattr(request, field),
                level=level,
            )
    except IntegrityError:
        return None
    recipients = escalation_recipients(request, level)
    escalation.notified = [user.pk for user in recipients]
    escalation.save(update_fields=["notified"])
    ServiceRequest.objects.filter(pk=request.pk, escalation_level__lt=level).update(
        escalation_level=level
    )
    if not recipients:
        logger.warning(
            "Escalation %s of request %s has nobody to tell: no %s holds %s",
            escalation.pk,
            request.public_id,
            ESCALATION_ROLES[level],
            request.community_id,
        )
    due = getattr(request, field)
    params: dict[str, Any] = {
        "number": request.public_id,
        "deadline": deadline,
        "level": level,
        "due": due.isoformat() if due else "",
        "community": in_languages(
            {"zh-hans": request.community.name, "en": request.community.name_en}
        ),
        "escalation": escalation.pk,
    }
    for user in recipients:
        notify_kind(
            user=user,
            kind=Kind.ESCALATION,
            params=params,
            request=request,
            key=f"escalation:{escalation.pk}",
        )
    return escalation


def escalations_due(now: dt.datetime) -> list[tuple[ServiceRequest, str, int]]:
    """(request, deadline, level) of every escalation due and not raised: level 1 once a
    deadline has passed; level 2 once it has passed by the grace period too and level 1
    was raised by an earlier run (so the community always hears first)."""
    due: list[tuple[ServiceRequest, str, int]] = []
    grace_ago = now - escalation_grace()
    for deadline, field, states in DEADLINES:
        raised = Escalation.objects.filter(
            request=OuterRef("pk"), deadline=deadline, deadline_at=OuterRef(field)
        )
        rows = (
            ServiceRequest.objects.filter(state__in=states, **{f"{field}__lt": now})
            .annotate(
                has_level1=Exists(raised.filter(level=1)),
                has_level2=Exists(raised.filter(level=2)),
            )
            .filter(Q(has_level1=False) | Q(has_level2=False, **{f"{field}__lt": grace_ago}))
            .select_related("community")
            .order_by("pk")
        )
        for request in rows:
            level = 2 if request.has_level1 else 1
            due.append((request, deadline, level))
    return due


def escalate_overdue(now: dt.datetime | None = None) -> dict[str, int]:
    """Raise every due escalation, each in its own transaction (one failure stops none
    of the others; its notifications go out when it commits). Idempotent."""
    now = now or timezone.now()
    raised = failed = 0
    for request, deadline, level in escalations_due(now):
        try:
            if escalation_raise(request=request, deadline=deadline, level=level, now=now):
                raised += 1
        except Exception:
            failed += 1
            logger.exception("Could not escalate request %s", request.public_id)
    if failed:
        # Recorded as a failed run: the next run tries these again.
        raise RuntimeError(f"raised {raised}, {failed} could not be raised")
    return {"raised": raised}


@task("requests.escalate_overdue")
def escalate_overdue_job() -> dict[str, int]:
    return escalate_overdue()


@task("requests.dispatch_round")
def dispatch_round_job() -> Any:
    """A dispatch round over every open request (linli.requests.dispatch)."""
    try:
        # Imported here: the dispatch module may come later than this job.
        dispatch = importlib.import_module("linli.requests.dispatch")
    except ModuleNotFoundError as missing:
        if missing.name != "linli.requests.dispatch":
            raise
        raise JobSkipped("linli.requests.dispatch is not installed") from missing
    done = dispatch.dispatch_round()
    return {
        "assigned": getattr(done, "assigned", None),
        "considered": getattr(done, "requests_considered", None),
    }


@task(ANNOUNCE_TASK)
def announce_event(event_id: int) -> int:
    return request_event_announce(event_id=event_id)
