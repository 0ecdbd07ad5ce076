"""The records a sheet shows, and their values as the sheet's columns hold them.

The exporter writes these values; the importer compares what it read against
them to tell changed rows from unchanged ones, so an export imported back
changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from linli.accounts.selectors import Scope
from linli.directory.choices import AccessibilityFeature, LocationType, ScheduleFrequency
from linli.directory.models import Accessibility, Address, Location, Organization, Phone, Schedule
from linli.directory.services import WeeklyHours, current_weekly_hours
from linli.regions import codes
from linli.regions.choices import RegionLevel
from linli.regions.models import Region


def under_filter(field: str, code: str | None) -> Q:
    """Only records at or below region `code` (a 12-digit code), or everything without one."""
    if not code:
        return Q()
    return Q(**{f"{field}__startswith": codes.prefix_of(code)})


def organizations_in(scope: Scope, *, under: str | None = None) -> QuerySet[Organization]:
    return (
        Organization.objects.filter(scope.q("region__code"), under_filter("region__code", under))
        .select_related("region")
        .prefetch_related(Prefetch("phones", queryset=Phone.objects.order_by("id")))
        .order_by("region_id", "name", "id")
    )


def facilities_in(scope: Scope, *, under: str | None = None) -> QuerySet[Location]:
    """Facilities: physical locations with a kind, in the scope."""
    return (
        Location.objects.filter(scope.q("region__code"), under_filter("region__code", under))
        .exclude(kind="")
        .select_related("region", "organization")
        .prefetch_related(
            Prefetch("phones", queryset=Phone.objects.order_by("id")),
            Prefetch(
                "addresses",
                queryset=Address.objects.filter(address_type=LocationType.PHYSICAL).order_by("id"),
            ),
            Prefetch(
                "schedules",
                queryset=Schedule.objects.filter(
                    service_at_location=None, freq=ScheduleFrequency.WEEKLY
                ).order_by("id"),
            ),
            Prefetch(
                "accessibility",
                queryset=Accessibility.objects.filter(details__in=AccessibilityFeature.values),
            ),
        )
        .order_by("region_id", "kind", "name", "id")
    )


def communities_in(scope: Scope, *, under: str | None = None) -> QuerySet[Region]:
    return Region.objects.filter(
        scope.q("code"), under_filter("code", under), level=RegionLevel.COMMUNITY
    ).order_by("code")


def features_in_order(codes_: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(code for code in AccessibilityFeature.values if code in set(codes_))


def organization_values(organization: Organization) -> dict[str, Any]:
    phones = list(organization.phones.all())
    return {
        "id": organization.id,
        "name": organization.name,
        "credit_code": organization.credit_code,
        "kind": organization.kind,
        "region": organization.region_id or "",
        "alternate_name": organization.alternate_name,
        "phone": phones[0].number if phones else "",
        "email": organization.email,
        "website": organization.website,
        "description": organization.description,
    }


def facility_values(facility: Location) -> dict[str, Any]:
    phones = list(facility.phones.all())
    addresses = [a for a in facility.addresses.all() if a.address_type == LocationType.PHYSICAL]
    hours: list[WeeklyHours] = current_weekly_hours(facility.schedules.all())
    return {
        "id": facility.id,
        "name": facility.name,
        "kind": facility.kind,
        "region": facility.region_id or "",
        "organization": facility.organization_id,
        "address": addresses[0].address_1 if addresses else "",
        "phone": phones[0].number if phones else "",
        "latitude": facility.latitude,
        "longitude": facility.longitude,
        "floor_area_m2": facility.floor_area_m2,
        "activity_area_m2": facility.activity_area_m2,
        "capacity": facility.capacity,
        "opened_on": facility.opened_on,
        "closed_on": facility.closed_on,
        "hours": hours,
        "accessibility": features_in_order([a.details for a in facility.accessibility.all()]),
        "description": facility.description,
    }


def region_cell(region: Region | None) -> str:
    """A region as the sheets show it: its code, then its name to help the reader."""
    if region is None:
        return ""
    return f"{region.code} {region.display_name}"


def shared_organization_names() -> set[str]:
    """Names more than one organization has: a sheet cannot name those by name alone."""
    return set(
        Organization.objects.values("name")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
        .values_list("name", flat=True)
    )


def organization_cell(organization: Organization | None, shared_names: set[str]) -> str:
    """How a facility's row names its organization: credit code, else name, else ID."""
    if organization is None:
        return ""
    if organization.credit_code:
        return organization.credit_code
    if organization.name in shared_names:
        return str(organization.id)
    return organization.name
