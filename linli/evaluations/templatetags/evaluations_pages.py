"""The complaint pages a user may open, for the home page's links (the access rules stay
in the evaluations app)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import staff_organizations, user_scope
from linli.residents.selectors import residents_acted_for

from ..selectors import complaints_in_scope

register = template.Library()


def _page(name: str, label: str, summary: str) -> dict[str, str]:
    return {"url": reverse(f"evaluations:{name}"), "label": label, "summary": summary, "name": name}


@register.simple_tag
def evaluations_pages(user: Any) -> list[dict[str, str]]:
    """Each page: its address, its name, and one line on what it is for."""
    if not getattr(user, "is_authenticated", False):
        return []
    pages: list[dict[str, str]] = []
    if residents_acted_for(user).exists():
        pages.append(
            _page(
                "complaints_mine",
                _("My complaints"),
                _("Not satisfied with a service? Say so; you will get an answer."),
            )
        )
    if residents_acted_for(user).exists():
        pages.append(
            _page(
                "facilities_visited",
                _("Places I visited"),
                _("Book a facility, and rate the ones you used."),
            )
        )
    keeper = not user_scope(user, roles=RESIDENT_KEEPER_ROLES).is_empty
    if keeper or complaints_in_scope(user).exists():
        pages.append(
            _page(
                "complaints_handle",
                _("Complaints to answer"),
                _("Investigate, answer, and close with the resident."),
            )
        )
    if keeper:
        pages.append(
            _page(
                "moderate",
                _("Moderate ratings"),
                _("Hide abusive comments with a reason, and review ratings flagged as suspect."),
            )
        )
    if keeper or staff_organizations(user).exists():
        pages.append(
            _page(
                "facility_record",
                _("Record a facility visit"),
                _("Who came, so that they can rate the place."),
            )
        )
    if not user_scope(user).is_empty or residents_acted_for(user).exists():
        pages.append(
            _page(
                "scorecards",
                _("Community scorecards"),
                _("Coverage, timeliness, satisfaction and needs met, with ranks."),
            )
        )
    for organization_id, name in staff_organizations(user).values_list(
        "organization_id", "organization__name"
    ):
        pages.append(
            {
                "url": reverse("evaluations:provider_scores", args=[organization_id]),
                "label": _("Scores of %(name)s") % {"name": name},
                "summary": _("Your satisfaction index, per service, with the formula worked out."),
                "name": "provider_scores",
            }
        )
    return pages
