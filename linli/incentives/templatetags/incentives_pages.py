"""The participatory budget pages a user may open, for the home page's links."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from ..budgets import budgets_for

register = template.Library()


@register.simple_tag
def incentives_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False) or not budgets_for(user).exists():
        return []
    return [
        {
            "url": reverse("incentives:budgets"),
            "label": _("Community projects"),
            "summary": _("Propose what your community needs, vote, see what is funded."),
            "name": "budgets",
        }
    ]
