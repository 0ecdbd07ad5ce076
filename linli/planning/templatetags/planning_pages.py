"""The planning pages a user may open, for the home page's links."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..selectors import planning_scope

register = template.Library()


@register.simple_tag
def planning_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False) or planning_scope(user).is_empty:
        return []
    return [
        {
            "url": reverse("planning:dashboard"),
            "label": _("Plan indicators"),
            "summary": _(
                "How far each community is from the plan's targets, and which lack a facility."
            ),
            "name": "dashboard",
        },
        {
            "url": reverse("planning:access"),
            "label": pgettext("how far people live from facilities", "Accessibility"),
            "summary": _(
                "Who lives within 300 m, 500 m, 1 km and a 15-minute walk of each kind of "
                "facility, on a map."
            ),
            "name": "access",
        },
        {
            "url": reverse("planning:sites"),
            "label": _("Where to build next"),
            "summary": _("Sites that would bring the most people, the most vulnerable first."),
            "name": "sites",
        },
    ]
