"""Typed events of a request: the only way a RequestEvent row is written."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from linli.accounts.models import User
from linli.core.tasks import enqueue

from .choices import Action
from .models import RequestEvent, ServiceRequest


def request_event(
    request: ServiceRequest,
    action: Action,
    from_state: str,
    to_state: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> RequestEvent:
    """Record one step; the events are the timeline, the clock and the audit trail."""
    event = RequestEvent.objects.create(
        request=request,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data=data or {},
    )
    # Those it concerns hear of it once it is committed (linli/requests/announcements.py).
    transaction.on_commit(partial(enqueue, "requests.announce_event", event.pk))
    return event
