"""The volunteer and time-bank pages a user may open, for the home page's links.

The home page belongs to the accounts app; asking here keeps the volunteers' access
rules in the volunteers app.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.selectors import user_scope
from linli.residents.selectors import LIST_ROLES

from ..activities import may_publish_any
from ..choices import VolunteerStatus
from ..people import may_see_volunteers

register = template.Library()


def _page(name: str, label: str, summary: str) -> dict[str, str]:
    return {"url": reverse(f"volunteers:{name}"), "label": label, "summary": summary, "name": name}


def _volunteer_pages(status: str | None) -> list[dict[str, str]]:
    if status is None:
        return [
            _page("join", _("Become a volunteer"), _("Give time near home; it is kept for you."))
        ]
    pages = [
        _page("timebank", _("My time bank"), _("Your hours, your balance and what each was for.")),
    ]
    if status == VolunteerStatus.VERIFIED:
        pages += [
            _page("activity_list", _("Volunteer activities"), _("Sign up for what is near you.")),
            _page("activity_mine", _("My activities"), _("Check in, your hours, disputes.")),
            _page("stars", _("My stars"), _("Your star level and the hours to the next.")),
            _page("certificates", _("Service record"), _("A certificate anyone can verify.")),
            _page("redeem", _("Spend hours"), _("A service for you, your spouse or a parent.")),
        ]
    return pages


@register.simple_tag
def volunteers_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False):
        return []
    volunteer = getattr(user, "volunteer", None)
    pages = _volunteer_pages(volunteer.status if volunteer else None)
    if may_see_volunteers(user):
        pages.append(
            _page("volunteer_list", _("Volunteers"), _("Verify who joins; see their hours."))
        )
    if may_publish_any(user):
        pages.append(
            _page("activity_new", _("Publish an activity"), _("What, where, when, how many."))
        )
    if not user_scope(user, roles=LIST_ROLES).is_empty:
        pages.append(
            _page(
                "indicators",
                _("Volunteer indicators"),
                _("Volunteers per resident, hours and active volunteers by community."),
            )
        )
    return pages
