"""What each role is for, in words its holder reads on their home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.regions.choices import RegionLevel

from .choices import Role


@dataclass(frozen=True)
class RoleGuide:
    summary: Promise
    # The level a role must be held at, when it has one (a street official holds a street).
    level: RegionLevel | None = None


ROLE_GUIDES: dict[str, RoleGuide] = {
    Role.RESIDENT: RoleGuide(
        _("Find services near you, ask for help, follow your requests and rate them."),
        RegionLevel.COMMUNITY,
    ),
    Role.VOLUNTEER: RoleGuide(
        _("Take tasks near home, record your hours and follow your time-bank balance."),
    ),
    Role.SOCIAL_WORKER: RoleGuide(
        _("Accept and deliver requests in your area and record what was done."),
    ),
    Role.PROVIDER_STAFF: RoleGuide(
        _("Accept and deliver your organization's requests and record outcomes."),
    ),
    Role.COMMUNITY_WORKER: RoleGuide(
        _("Register residents and facilities, triage and dispatch requests, follow up."),
        RegionLevel.COMMUNITY,
    ),
    Role.STREET_OFFICIAL: RoleGuide(
        _("Watch coverage, service levels and satisfaction across your street or township."),
        RegionLevel.STREET,
    ),
    Role.DISTRICT_OFFICIAL: RoleGuide(
        _("Watch indicators across the district, allocate incentive funds, plan facilities."),
        RegionLevel.COUNTY,
    ),
    Role.CITY_OFFICIAL: RoleGuide(
        _("Compare districts against the plan's targets and plan where to build next."),
        RegionLevel.CITY,
    ),
    Role.AUDITOR: RoleGuide(
        _("Review who read or exported personal information, and why."),
    ),
    Role.SYSTEM_ADMIN: RoleGuide(
        _("Manage accounts, roles, regions and the deployment's settings."),
    ),
}


def role_guide(role: str) -> RoleGuide:
    return ROLE_GUIDES[role]


# Roles that keep the records of their area: facilities, organizations, residents.
EDITOR_ROLES = (
    Role.COMMUNITY_WORKER,
    Role.STREET_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.CITY_OFFICIAL,
    Role.SYSTEM_ADMIN,
)

# Roles that register residents and may unmask their sensitive fields (with a purpose).
RESIDENT_KEEPER_ROLES = (Role.COMMUNITY_WORKER, Role.SYSTEM_ADMIN)
