"""The unread count for the site header (add to TEMPLATES' context processors)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    # Lazy: pages that never show the header's badge never run the query.
    return {"inbox_unread": SimpleLazyObject(lambda: unread_count(request.user))}
