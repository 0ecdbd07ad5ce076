"""Loaded records as HSDS 3.0 objects: plain dicts in the order of the HSDS schemas.

These are functions rather than DRF serializers: the shapes are fixed by the
HSDS schemas, nothing is ever written back, and a page of a thousand fully
nested services is built several times faster without per-field objects.

Rules, so that every body validates against the HSDS 3.0 schemas: a value that
is unknown (None) or empty is left out, unless HSDS requires the field, when an
empty text is given as ""; ids are UUID strings; times of change are UTC with
milliseconds; a `uri` or `email` field that is not a valid one is left out.
Linli's own fields (regions, floor areas, credit codes…) are not HSDS fields and
are not published here; neither are HSDS metadata rows, whose `updated_by` names
a person.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Model

from linli.directory.models import (
    Attribute,
    Contact,
    Location,
    Organization,
    Phone,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

from .selectors import PageSlice, related

Json = dict[str, Any]
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def _is_uri(value: str) -> bool:
    if any(char.isspace() for char in value):
        return False
    parts = urlsplit(value)
    return bool(URI_SCHEME.match(parts.scheme) and (parts.netloc or parts.path))


def _is_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(local and at and domain)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass(frozen=True)
class Shape:
    """The one-to-one fields of an HSDS object and how they are checked."""

    fields: tuple[str, ...]
    required: frozenset[str] = frozenset()
    uris: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    # HSDS name -> model attribute, where they differ.
    sources: dict[str, str] = field(default_factory=dict)

    def dump(self, record: Model) -> Json:
        out: Json = {}
        for name in self.fields:
            value = getattr(record, self.sources.get(name, name))
            if value is not None and value != "":
                if name in self.uris and not _is_uri(value):
                    continue
                if name in self.emails and not _is_email(value):
                    continue
                out[name] = _plain(value)
            elif name in self.required:
                out[name] = ""
        return out


def _shape(
    fields: str, *, required: str = "", uris: str = "", emails: str = "", **sources: str
) -> Shape:
    return Shape(
        fields=tuple(fields.split()),
        required=frozenset(required.split()),
        uris=frozenset(uris.split()),
        emails=frozenset(emails.split()),
        sources=sources,
    )


SERVICE = _shape(
    "id organization_id program_id name alternate_name description url email status"
    " interpretation_services application_process fees_description wait_time fees"
    " accreditations eligibility_description minimum_age maximum_age assured_date"
    " assurer_email licenses alert last_modified",
    required="id name status",
    uris="url",
    emails="email assurer_email",
)
SERVICE_MINIMAL = _shape("id name status last_modified", required="id name status")
ORGANIZATION = _shape(
    "id name alternate_name description email website tax_status tax_id year_incorporated"
    " legal_status logo uri parent_organization_id",
    required="id name description",
    uris="website uri",
    emails="email",
)
PROGRAM = _shape(
    "id organization_id name alternate_name description", required="id name description"
)
LOCATION = _shape(
    "id location_type url organization_id name alternate_name description transportation"
    " latitude longitude external_identifier external_identifier_type",
    required="id location_type",
    uris="url",
)
SERVICE_AT_LOCATION = _shape("id service_id location_id description", required="id")
ADDRESS = _shape(
    "id location_id attention address_1 address_2 city region state_province postal_code"
    " country address_type",
    required="id address_1 city state_province postal_code country address_type",
)
PHONE = _shape(
    "id location_id service_id organization_id contact_id service_at_location_id number"
    " extension type description",
    required="id number",
)
CONTACT = _shape(
    "id organization_id service_id service_at_location_id location_id name title department email",
    required="id",
    emails="email",
)
LANGUAGE = _shape("id service_id location_id phone_id name code note", required="id")
SCHEDULE = _shape(
    "id service_id location_id service_at_location_id valid_from valid_to dtstart timezone"
    " until count wkst freq interval byday byweekno bymonthday byyearday description"
    " opens_at closes_at schedule_link attending_type notes",
    required="id",
    uris="schedule_link",
)
SERVICE_AREA = _shape("id service_id name description extent extent_type uri", required="id")
FUNDING = _shape("id organization_id service_id source", required="id")
COST_OPTION = _shape(
    "id service_id valid_from valid_to option currency amount amount_description",
    required="id",
)
REQUIRED_DOCUMENT = _shape("id service_id document uri", required="id", uris="uri")
ACCESSIBILITY = _shape("id location_id description details url", required="id", uris="url")
ORGANIZATION_IDENTIFIER = _shape(
    "id organization_id identifier_scheme identifier_type identifier",
    required="id identifier_type identifier",
)
TAXONOMY = _shape("id name description uri version", required="id name description", uris="uri")
# taxonomy_detail (the taxonomy object) goes between these two.
TAXONOMY_TERM_HEAD = _shape(
    "id code name description parent_id taxonomy", required="id name description"
)
TAXONOMY_TERM_TAIL = _shape(
    "language taxonomy_id term_uri", uris="term_uri", taxonomy_id="taxonomy_ref_id"
)
ATTRIBUTE = _shape("id link_id taxonomy_term_id link_type link_entity value", required="id")


def page(slice_: PageSlice[Any], contents: list[Json]) -> Json:
    """An HSDS Page object around the contents of one page."""
    return {
        "total_items": slice_.total_items,
        "total_pages": slice_.total_pages,
        "page_number": slice_.page_number,
        "size": len(contents),
        "first_page": slice_.page_number == 1,
        "last_page": slice_.page_number >= slice_.total_pages,
        "empty": not contents,
        "contents": contents,
    }


# --- small objects --------------------------------------------------------------------------


def taxonomy(record: Taxonomy) -> Json:
    return TAXONOMY.dump(record)


def taxonomy_term(record: TaxonomyTerm) -> Json:
    # HSDS's taxonomy_detail is the taxonomy object; the model's free-text
    # `taxonomy_detail` column has no place in HSDS 3.0 JSON.
    out = TAXONOMY_TERM_HEAD.dump(record)
    if record.taxonomy_ref is not None:
        out["taxonomy_detail"] = taxonomy(record.taxonomy_ref)
    return {**out, **TAXONOMY_TERM_TAIL.dump(record)}


def attributes(record: Model) -> list[Json]:
    loaded: Iterable[Attribute] = getattr(record, "hsds_attributes", [])
    return [
        {**ATTRIBUTE.dump(item), "taxonomy_term": taxonomy_term(item.taxonomy_term)}
        for item in loaded
    ]


def _phones(records: Iterable[Phone]) -> list[Json]:
    return [
        {**PHONE.dump(phone), "languages": [LANGUAGE.dump(x) for x in related(phone, "languages")]}
        for phone in records
    ]


def _contacts(records: Iterable[Contact]) -> list[Json]:
    return [
        {**CONTACT.dump(contact), "phones": _phones(related(contact, "phones"))}
        for contact in records
    ]


# --- locations ------------------------------------------------------------------------------


def location(record: Location) -> Json:
    return LOCATION.dump(record)


def location_full(record: Location) -> Json:
    return {
        **LOCATION.dump(record),
        "languages": [LANGUAGE.dump(x) for x in related(record, "languages")],
        "addresses": [ADDRESS.dump(x) for x in related(record, "addresses")],
        "contacts": _contacts(related(record, "contacts")),
        "accessibility": [ACCESSIBILITY.dump(x) for x in related(record, "accessibility")],
        "phones": _phones(related(record, "phones")),
        "schedules": [SCHEDULE.dump(x) for x in related(record, "schedules")],
        "attributes": attributes(record),
    }


# --- services -------------------------------------------------------------------------------


def organization(record: Organization) -> Json:
    return ORGANIZATION.dump(record)


def service_minimal(record: Service) -> Json:
    return SERVICE_MINIMAL.dump(record)


def service(record: Service, *, with_organization: bool = True) -> Json:
    """A service's one-to-one fields with its organization and programme (service_list.json)."""
    out = SERVICE.dump(record)
    if with_organization and record.organization is not None:
        out["organization"] = organization(record.organization)
    if record.program is not None:
        out["program"] = PROGRAM.dump(record.program)
    return out


def service_full(
    record: Service, *, with_organization: bool = True, with_locations: bool = True
) -> Json:
    """A service with everything about it (compiled/service.json)."""
    out: Json = {
        **SERVICE.dump(record),
        "phones": _phones(related(record, "phones")),
        "schedules": [SCHEDULE.dump(x) for x in related(record, "schedules")],
        "service_areas": [SERVICE_AREA.dump(x) for x in related(record, "service_areas")],
    }
    if with_locations:
        out["service_at_locations"] = [
            _service_at_location_in_service(x) for x in related(record, "service_at_locations")
        ]
    out["languages"] = [LANGUAGE.dump(x) for x in related(record, "languages")]
    if with_organization and record.organization is not None:
        out["organization"] = organization(record.organization)
    out["funding"] = [FUNDING.dump(x) for x in related(record, "funding")]
    out["cost_options"] = [COST_OPTION.dump(x) for x in related(record, "cost_options")]
    if record.program is not None:
        out["program"] = PROGRAM.dump(record.program)
    out["required_documents"] = [
        REQUIRED_DOCUMENT.dump(x) for x in related(record, "required_documents")
    ]
    out["contacts"] = _contacts(related(record, "contacts"))
    out["attributes"] = attributes(record)
    return out


def _service_at_location_in_service(record: ServiceAtLocation) -> Json:
    return {
        **SERVICE_AT_LOCATION.dump(record),
        "contacts": _contacts(related(record, "contacts")),
        "phones": _phones(related(record, "phones")),
        "schedules": [SCHEDULE.dump(x) for x in related(record, "schedules")],
        "location": location_full(record.location),
        "attributes": attributes(record),
    }


# --- services at locations ------------------------------------------------------------------


def service_at_location(record: ServiceAtLocation) -> Json:
    """The row with its facility and service (service_at_location_list.json)."""
    return {
        **SERVICE_AT_LOCATION.dump(record),
        "location": location(record.location),
        "service": service(record.service),
    }


def service_at_location_full(record: ServiceAtLocation) -> Json:
    """The row with everything about it, its facility and its service."""
    return {
        **_service_at_location_in_service(record),
        "service": service_full(record.service, with_locations=False),
    }


# --- organizations --------------------------------------------------------------------------


def organization_full(record: Organization, *, full_service: bool = False) -> Json:
    """An organization with everything about it (compiled/organization.json).

    Its services are listed with their one-to-one fields, or in full with
    `full_service`; either way without the organization again.
    """
    services = related(record, "services")
    return {
        **ORGANIZATION.dump(record),
        "funding": [FUNDING.dump(x) for x in related(record, "funding")],
        "contacts": _contacts(related(record, "contacts")),
        "phones": _phones(related(record, "phones")),
        "locations": [location_full(x) for x in related(record, "locations")],
        "programs": [PROGRAM.dump(x) for x in related(record, "programs")],
        "organization_identifiers": [
            ORGANIZATION_IDENTIFIER.dump(x) for x in related(record, "organization_identifiers")
        ],
        "attributes": attributes(record),
        "services": [
            service_full(x, with_organization=False)
            if full_service
            else service(x, with_organization=False)
            for x in services
        ],
    }
