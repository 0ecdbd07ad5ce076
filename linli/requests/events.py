"""Typed events of a request: the only way a RequestEvent row is written."""

from __future__ import annotations

from typing import Any

from linli.accounts.models import User

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
    return RequestEvent.objects.create(
        request=request,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data=data or {},
    )
