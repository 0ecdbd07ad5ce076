"""The incentives pages a user may open, for the home page's links: participatory
budgets, and fund pools for officials who allocate them (and providers with a line)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from ..budgets import budgets_for
from ..funds import allocating_regions, pools_for, yuan

register = template.Library()


@register.filter(name="yuan")
def yuan_filter(value: Any) -> str:
    """An amount as the explanations write it: ¥12,400.00 (empty for none)."""
    return "" if value in (None, "") else yuan(value)


@register.simple_tag
def incentives_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False):
        return []
    pages = []
    if budgets_for(user).exists():
        pages.append(
            {
                "url": reverse("incentives:budgets"),
                "label": _("Community projects"),
                "summary": _("Propose what your community needs, vote, see what is funded."),
                "name": "budgets",
            }
        )
    if allocating_regions(user, limit=1).exists() or pools_for(user).exists():
        pages.append(
            {
                "url": reverse("incentives:pools"),
                "label": _("Incentive fund pools"),
                "summary": _(
                    "Share a fund among providers by their verified services and quality; "
                    "every yuan explained."
                ),
                "name": "pools",
            }
        )
    return pages
