"""The residents pages a user may open, for the home page's links.

The home page belongs to the accounts app; asking here keeps the residents'
access rules in the residents app, the one place that knows them.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.accounts.choices import Role
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.residents.models import Correction
from linli.residents.selectors import LIST_ROLES, residents_acted_for

register = template.Library()


@register.simple_tag
def residents_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False):
        return []
    pages: list[dict[str, str]] = []
    if (
        residents_acted_for(user).exists()
        or user.role_assignments.filter(role=Role.RESIDENT).exists()
    ):
        pages.append(
            {
                "url": reverse("residents:my_record"),
                "label": _("My record"),
                "summary": _("What the register holds about you; download it, correct it."),
            }
        )
    if not user_scope(user, roles=LIST_ROLES).is_empty:
        pages.append(
            {
                "url": reverse("residents:list"),
                "label": _("Residents"),
                "summary": _("The residents of your area, masked, by priority group."),
            }
        )
        pages.append(
            {
                "url": reverse("residents:counts"),
                "label": _("Counts by priority group"),
                "summary": _("How many older people, minors, people with disabilities…"),
            }
        )
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    if not keeper.is_empty:
        waiting = Correction.objects.filter(
            keeper.q("community_code"), status=Correction.Status.OPEN
        ).count()
        pages.append(
            {
                "url": reverse("residents:new"),
                "label": _("Register a resident"),
                "summary": _("Add a person to the community register."),
            }
        )
        pages.append(
            {
                "url": reverse("register:index"),
                "label": _("Register spreadsheets"),
                "summary": _("Import a community's Excel register, or export it."),
            }
        )
        pages.append(
            {
                "url": reverse("residents:corrections"),
                "label": _("Correction requests"),
                "summary": ngettext(
                    "%(count)s waiting for your answer.",
                    "%(count)s waiting for your answer.",
                    waiting,
                )
                % {"count": waiting},
            }
        )
    if not user_scope(user, roles=(Role.AUDITOR, Role.SYSTEM_ADMIN)).is_empty:
        pages.append(
            {
                "url": reverse("residents:access_events"),
                "label": _("Access to personal information"),
                "summary": _("Who read or exported residents' details, and why."),
            }
        )
    return pages
