"""The request pages a user may open, for the home page's links.

The home page belongs to the accounts app; asking here keeps the requests' access
rules in the requests app.
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
from linli.requests.models import Responder
from linli.requests.selectors import dispatch_queue, tasks_of
from linli.residents.selectors import LIST_ROLES, residents_acted_for

register = template.Library()

RESPONDING_ROLES = (Role.VOLUNTEER, Role.SOCIAL_WORKER, Role.PROVIDER_STAFF)


def _page(name: str, label: str, summary: str) -> dict[str, str]:
    return {"url": reverse(f"requests:{name}"), "label": label, "summary": summary, "name": name}


@register.simple_tag
def requests_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False):
        return []
    pages: list[dict[str, str]] = []
    if residents_acted_for(user).exists():
        pages.append(_page("ask", _("Ask for help"), _("Three taps: what, when, send.")))
        pages.append(
            _page("mine", _("My requests"), _("Who is coming, when, and every step so far."))
        )
    if (
        Responder.objects.filter(user=user).exists()
        or user.role_assignments.filter(role__in=RESPONDING_ROLES).exists()
    ):
        held = tasks_of(user).count()
        pages.append(
            _page(
                "tasks",
                _("My tasks"),
                ngettext("%(count)s task in hand.", "%(count)s tasks in hand.", held)
                % {"count": held},
            )
        )
    if not user_scope(user, roles=RESIDENT_KEEPER_ROLES).is_empty:
        waiting = dispatch_queue(user=user).count()
        pages.append(
            _page(
                "board",
                _("Dispatch board"),
                ngettext(
                    "%(count)s request waiting for a responder.",
                    "%(count)s requests waiting for a responder.",
                    waiting,
                )
                % {"count": waiting},
            )
        )
        pages.append(
            _page("call", _("Take a request by phone"), _("For a resident who calls or visits."))
        )
    if not user_scope(user, roles=LIST_ROLES).is_empty:
        pages.append(
            _page(
                "counts",
                _("Request counts"),
                _("Open, overdue and escalated requests in each community."),
            )
        )
    return pages
