"""Background tasks of the notifications app (registered with linli.core.tasks)."""

from __future__ import annotations

from linli.core.tasks import task

from .services import DELIVER_TASK, notification_deliver


@task(DELIVER_TASK)
def deliver(notification_id: int) -> dict[str, str]:
    """Carry one notification through the configured channels (after its commit)."""
    return notification_deliver(notification_id=notification_id)
