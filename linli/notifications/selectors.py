"""Reads of the notifications app: a user's inbox, and how each entry reads."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from linli.core.errors import NotFound

from .choices import Kind
from .models import Notification
from .texts import worded

# Where a notification about a request leads when it was stored without a link: resolved
# when it is shown, so links work as soon as the request pages exist.
REQUEST_PAGES: dict[str, tuple[str, bool]] = {
    # kind: (URL name, whether it takes the request's public id)
    Kind.REQUEST_STATUS: ("requests:detail", True),
    Kind.REQUEST_ASSIGNED: ("requests:tasks", False),
    Kind.REQUEST_WITHDRAWN: ("requests:tasks", False),
    Kind.ESCALATION: ("requests:board", False),
}


def inbox_of(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s own notifications, newest first; nobody else's, whatever their role."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    rows = Notification.objects.filter(user=user).select_related("request")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_of(user: Any, notification_id: int) -> Notification:
    notification = inbox_of(user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound()
    return notification


def notification_link(notification: Notification) -> str:
    """The page a notification leads to: its own link, else its request's page."""
    if notification.link:
        return notification.link
    page = REQUEST_PAGES.get(notification.kind)
    if page is None or notification.request is None:
        return ""
    name, by_number = page
    try:
        if by_number:
            return reverse(name, args=[notification.request.public_id])
        return reverse(name)
    except NoReverseMatch:
        return ""


def notification_view(notification: Notification) -> dict[str, Any]:
    """What a page or the API shows of one notification, in the reader's language."""
    title, body = worded(notification)
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": title,
        "body": body,
        "link": notification_link(notification),
        "request": notification.request.public_id if notification.request else None,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
        "unread": notification.read_at is None,
    }
