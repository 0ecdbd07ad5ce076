"""The HSDS 3.0 tables, column by column, and the Linli model field behind each column.

The columns, their types, formats, constraints and foreign keys are those of
the official HSDS 3.0 data package (`datapackage.json` of the specification,
commit 279fd2eb); `linli/directory/tests/test_hsds_dataset.py` checks them
against a copy of it. Field titles and descriptions are left out: they are
documentation, and the specification publishes them.

Linli's own fields travel in four extension tables (`linli_organizations.csv`,
`linli_services.csv`, `linli_locations.csv`, `linli_taxonomy_terms.csv`), one
row per record, keyed by the record's HSDS id. The official tables keep exactly
their official columns, so a consumer that knows only HSDS reads them as they
are and may ignore the extension tables (docs/hsds.md says why).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from .. import models as m
from ..choices import FacilityKind, FeeKind, LocationType, OrganizationKind, ServiceStatus, Weekday
from ..validators import validate_point

HSDS_VERSION = "3.0.0"
REGION = "region"  # a reference to Linli's region tree (by code), not to a dataset table


@dataclass(frozen=True)
class Column:
    """One column: its Table Schema definition and the model attribute it fills."""

    name: str
    type: str = (
        "string"  # Table Schema type: string, number, integer, boolean, date, time, datetime
    )
    format: str = ""  # for strings: uuid, uri or email
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    pattern: str = ""
    references: str = ""  # the table (resource name) the column points at, or REGION
    declared: bool = True  # whether the reference is a foreign key of the official package
    attr: str = ""  # the model attribute, when it is not the column's name

    @property
    def model_attr(self) -> str:
        return self.attr or self.name

    def schema(self) -> dict[str, Any]:
        """The Table Schema field, as the official package writes it."""
        field: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.format:
            field["format"] = self.format
        constraints: dict[str, Any] = {"required": self.required, "unique": self.unique}
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.pattern:
            constraints["pattern"] = self.pattern
        field["constraints"] = constraints
        return field


@dataclass(frozen=True)
class Table:
    """A table of the dataset: one CSV file, one model."""

    name: str  # the data package's resource name
    path: str  # the CSV file name, also the table's key in the JSON form
    description: str
    columns: tuple[Column, ...]
    model: type[models.Model] | None  # None: a table Linli does not keep
    extends: str = ""  # for a Linli extension table: the HSDS table whose records it completes

    def column(self, name: str) -> Column:
        return COLUMNS[self.name][name]

    def columns_by_name(self) -> dict[str, Column]:
        return COLUMNS[self.name]

    def resource(self) -> dict[str, Any]:
        """The data package resource describing this table."""
        schema: dict[str, Any] = {
            "fields": [column.schema() for column in self.columns],
            "primaryKey": "id",
        }
        foreign_keys = [
            {"fields": column.name, "reference": {"resource": column.references, "fields": "id"}}
            for column in self.columns
            if column.references and column.references != REGION and column.declared
        ]
        if foreign_keys:
            schema["foreignKeys"] = foreign_keys
        return {
            "name": self.name,
            "path": self.path,
            "description": self.description,
            "format": "csv",
            "mediatype": "text/csv",
            "profile": "tabular-data-resource",
            "schema": schema,
        }


def _id() -> Column:
    return Column("id", format="uuid", required=True, unique=True)


def _ref(
    name: str,
    table: str,
    *,
    required: bool = False,
    unique: bool = False,
    declared: bool = True,
    attr: str = "",
) -> Column:
    return Column(
        name,
        format="uuid",
        required=required,
        unique=unique,
        references=table,
        declared=declared,
        attr=attr,
    )


def _text(name: str, *, required: bool = False, unique: bool = False, format: str = "") -> Column:
    return Column(name, format=format, required=required, unique=unique)


def _number(name: str) -> Column:
    return Column(name, type="number")


def _date(name: str) -> Column:
    return Column(name, type="date")


def _enum(name: str, values: Sequence[str], *, required: bool = False) -> Column:
    return Column(name, required=required, enum=tuple(values))


def _boolean(name: str) -> Column:
    return Column(name, type="boolean", required=True)


LOCATION_TYPES = [LocationType.PHYSICAL, LocationType.POSTAL, LocationType.VIRTUAL]

HSDS_TABLES: tuple[Table, ...] = (
    Table(
        "organization",
        "organizations.csv",
        "The details about each organization delivering services. Each service should be "
        "linked to the organization responsible for its delivery. One organization may "
        "deliver many services.",
        (
            _id(),
            _text("name", required=True),
            _text("alternate_name"),
            _text("description", required=True),
            _text("email", format="email"),
            _text("website", format="uri"),
            _text("tax_status"),
            _text("tax_id"),
            _number("year_incorporated"),
            _text("legal_status"),
            _text("logo"),
            _text("uri", format="uri"),
            # HSDS does not declare this self-reference a foreign key; Linli's model does.
            _ref("parent_organization_id", "organization", declared=False),
        ),
        m.Organization,
    ),
    Table(
        "program",
        "programs.csv",
        "The details of collections of related services.",
        (
            _id(),
            # unique: as the official package says (upstream issue #260 questions it).
            _ref("organization_id", "organization", required=True, unique=True),
            _text("name", required=True),
            _text("alternate_name"),
            _text("description", required=True),
        ),
        m.Program,
    ),
    Table(
        "service",
        "services.csv",
        "The details of the services provided by organizations to a range of different groups.",
        (
            _id(),
            _ref("organization_id", "organization", required=True),
            _ref("program_id", "program"),
            _text("name", required=True),
            _text("alternate_name"),
            _text("description"),
            _text("url", format="uri"),
            _text("email", format="email"),
            _enum(
                "status",
                [
                    ServiceStatus.ACTIVE,
                    ServiceStatus.INACTIVE,
                    ServiceStatus.DEFUNCT,
                    ServiceStatus.TEMPORARILY_CLOSED,
                ],
                required=True,
            ),
            _text("interpretation_services"),
            _text("application_process"),
            _text("fees_description"),
            _text("wait_time"),
            _text("fees"),
            _text("accreditations"),
            _text("eligibility_description"),
            _number("minimum_age"),
            _number("maximum_age"),
            _date("assured_date"),
            _text("assurer_email", format="email"),
            _text("licenses"),
            _text("alert"),
            Column("last_modified", type="datetime"),
        ),
        m.Service,
    ),
    Table(
        "attribute",
        "attributes.csv",
        "A link between a service and one or more classifications that describe the nature "
        "of the service provided.",
        (
            _id(),
            # Points at a record of the table named by link_entity (checked when Linli knows it).
            _text("link_id", required=True, format="uuid"),
            _ref("taxonomy_term_id", "taxonomy_term", required=True),
            _text("link_type"),
            _text("link_entity", required=True),
            _text("value"),
        ),
        m.Attribute,
    ),
    Table(
        "service_at_location",
        "service_at_location.csv",
        "A link between a service and a specific location.",
        (
            _id(),
            _ref("service_id", "service", required=True),
            _ref("location_id", "location", required=True),
            _text("description"),
        ),
        m.ServiceAtLocation,
    ),
    Table(
        "location",
        "locations.csv",
        "The locations where organizations operate. Locations may be virtual, and one "
        "organization may have many locations.",
        (
            _id(),
            _enum("location_type", LOCATION_TYPES, required=True),
            _text("url", format="uri"),
            _ref("organization_id", "organization"),
            _text("name"),
            _text("alternate_name"),
            _text("description"),
            _text("transportation"),
            _number("latitude"),
            _number("longitude"),
            _text("external_identifier"),
            _text("external_identifier_type"),
        ),
        m.Location,
    ),
    Table(
        "phone",
        "phones.csv",
        "The details of the telephone numbers used to contact organizations, services, and "
        "locations.",
        (
            _id(),
            _ref("location_id", "location"),
            _ref("service_id", "service"),
            _ref("organization_id", "organization"),
            _ref("contact_id", "contact"),
            _ref("service_at_location_id", "service_at_location"),
            _text("number", required=True),
            _number("extension"),
            _text("type"),
            _text("description"),
        ),
        m.Phone,
    ),
    Table(
        "contact",
        "contacts.csv",
        "The details of the named contacts for services and organizations.",
        (
            _id(),
            _ref("organization_id", "organization"),
            _ref("service_id", "service"),
            _ref("service_at_location_id", "service_at_location"),
            _ref("location_id", "location"),
            _text("name"),
            _text("title"),
            _text("department"),
            _text("email", format="email"),
        ),
        m.Contact,
    ),
    Table(
        "address",
        "addresses.csv",
        "The addresses of locations where organizations operate.",
        (
            _id(),
            _ref("location_id", "location"),
            _text("attention"),
            _text("address_1", required=True),
            _text("address_2"),
            _text("city", required=True),
            _text("region"),
            _text("state_province", required=True),
            _text("postal_code", required=True),
            _text("country", required=True),
            _enum("address_type", LOCATION_TYPES, required=True),
        ),
        m.Address,
    ),
    Table(
        "schedule",
        "schedules.csv",
        "The details of when a service or location is open. Entries are RFC 5545 RRULES.",
        (
            _id(),
            _ref("service_id", "service"),
            _ref("location_id", "location"),
            _ref("service_at_location_id", "service_at_location"),
            _date("valid_from"),
            _date("valid_to"),
            _date("dtstart"),
            _number("timezone"),
            _date("until"),
            _number("count"),
            _enum("wkst", list(Weekday.values)),
            _enum("freq", ["WEEKLY", "MONTHLY"]),
            _number("interval"),
            _text("byday"),
            _text("byweekno"),
            _text("bymonthday"),
            _text("byyearday"),
            _text("description"),
            Column("opens_at", type="time"),
            Column("closes_at", type="time"),
            _text("schedule_link", format="uri"),
            _text("attending_type"),
            _text("notes"),
        ),
        m.Schedule,
    ),
    Table(
        "funding",
        "funding.csv",
        "The sources of funding for a service or organization.",
        (
            _id(),
            _ref("organization_id", "organization"),
            _ref("service_id", "service"),
            _text("source"),
        ),
        m.Funding,
    ),
    Table(
        "service_area",
        "service_areas.csv",
        "The details of the geographic area for which a service is available.",
        (
            _id(),
            _ref("service_id", "service"),
            _text("name"),
            _text("description"),
            _text("extent"),
            _text("extent_type"),
            _text("uri"),
        ),
        m.ServiceArea,
    ),
    Table(
        "required_document",
        "required_documents.csv",
        "The details of any documents that are required in order to access or use services.",
        (
            _id(),
            _ref("service_id", "service"),
            _text("document"),
            _text("uri", format="uri"),
        ),
        m.RequiredDocument,
    ),
    Table(
        "language",
        "languages.csv",
        "The languages that are spoken at locations or services. This does not include "
        "languages which can only be used with interpretation.",
        (
            _id(),
            _ref("service_id", "service"),
            _ref("location_id", "location"),
            _ref("phone_id", "phone"),
            _text("name"),
            _text("code"),
            _text("note"),
        ),
        m.Language,
    ),
    Table(
        "accessibility",
        "accessibility.csv",
        "The details of the arrangements for access to locations for people who have disabilities.",
        (
            _id(),
            _ref("location_id", "location"),
            _text("description"),
            _text("details"),
            _text("url", format="uri"),
        ),
        m.Accessibility,
    ),
    Table(
        "taxonomy_term",
        "taxonomy_terms.csv",
        "Each service can be categorized according to one or more taxonomy terms. The "
        "taxonomy_term object contains a list of taxonomy terms, their names, and, for "
        "hierarchical taxonomies, their structure.",
        (
            _id(),
            _text("code", unique=True),
            _text("name", required=True),
            _text("description", required=True),
            _ref("parent_id", "taxonomy_term", declared=False),
            _text("taxonomy"),
            _text("language"),
            _ref("taxonomy_id", "taxonomy", attr="taxonomy_ref_id"),
            _text("term_uri", format="uri"),
        ),
        m.TaxonomyTerm,
    ),
    Table(
        "metadata",
        "metadata.csv",
        "A record of the changes that have been made to the data in order to maintain "
        "provenance information.",
        (
            _id(),
            _text("resource_id", required=True, format="uuid"),
            _text("resource_type", required=True),
            Column("last_action_date", type="date", required=True),
            _text("last_action_type", required=True),
            _text("field_name", required=True),
            _text("previous_value", required=True),
            _text("replacement_value", required=True),
            _text("updated_by", required=True),
        ),
        m.Metadata,
    ),
    Table(
        "meta_table_description",
        "meta_table_descriptions.csv",
        "Metadata about individual tables.",
        (_id(), _text("name"), _text("language"), _text("character_set")),
        None,
    ),
    Table(
        "cost_option",
        "cost_options.csv",
        "The costs of a service at certain points in time. This is an LGA Extension. This "
        "object provides a structured version of the text information contained in the "
        "'fees' field of the 'service' object.",
        (
            _id(),
            _ref("service_id", "service", required=True),
            _date("valid_from"),
            _date("valid_to"),
            _text("option"),
            _text("currency"),
            _number("amount"),
            _text("amount_description"),
        ),
        m.CostOption,
    ),
    Table(
        "organization_identifier",
        "organization_identifiers.csv",
        "The details of the third party identifiers for organizations, such as: company "
        "registration number, charity number, tax registration number.",
        (
            _id(),
            _ref("organization_id", "organization", required=True),
            _text("identifier_scheme"),
            _text("identifier_type", required=True),
            _text("identifier", required=True),
        ),
        m.OrganizationIdentifier,
    ),
    Table(
        "taxonomy",
        "taxonomies.csv",
        "The taxonomies from which taxonomy terms are taken.",
        (
            _id(),
            _text("name", required=True),
            _text("description", required=True),
            _text("uri", format="uri"),
            _text("version"),
        ),
        m.Taxonomy,
    ),
)


def _extension_id(base: str) -> Column:
    return _ref("id", base, required=True, unique=True)


REGION_CODE = Column(
    "region_code", pattern="[0-9]{12}", references=REGION, declared=False, attr="region_id"
)

LINLI_TABLES: tuple[Table, ...] = (
    Table(
        "linli_organization",
        "linli_organizations.csv",
        "Linli extension: an organization's kind, unified social credit code, verification "
        "and the region where it is registered (a 12-digit division code).",
        (
            _extension_id("organization"),
            _enum("kind", list(OrganizationKind.values)),
            _text("credit_code"),
            _boolean("verified"),
            REGION_CODE,
        ),
        m.Organization,
        extends="organization",
    ),
    Table(
        "linli_service",
        "linli_services.csv",
        "Linli extension: a service's fee (kind and amount in yuan) and how it is delivered.",
        (
            _extension_id("service"),
            _enum("fee_kind", list(FeeKind.values), required=True),
            _number("fee_amount"),
            _boolean("at_facility"),
            _boolean("at_home"),
            _boolean("online"),
        ),
        m.Service,
        extends="service",
    ),
    Table(
        "linli_location",
        "linli_locations.csv",
        "Linli extension: what a facility is, the community or village it serves (a 12-digit "
        "division code), its areas in square metres, capacity, and opening and closing dates.",
        (
            _extension_id("location"),
            _enum("kind", list(FacilityKind.values)),
            REGION_CODE,
            _number("floor_area_m2"),
            _number("activity_area_m2"),
            Column("capacity", type="integer"),
            _date("opened_on"),
            _date("closed_on"),
        ),
        m.Location,
        extends="location",
    ),
    Table(
        "linli_taxonomy_term",
        "linli_taxonomy_terms.csv",
        "Linli extension: a taxonomy term's English name and taxonomy detail.",
        (_extension_id("taxonomy_term"), _text("name_en"), _text("taxonomy_detail")),
        m.TaxonomyTerm,
        extends="taxonomy_term",
    ),
)

TABLES: tuple[Table, ...] = HSDS_TABLES + LINLI_TABLES
TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
TABLES_BY_PATH: dict[str, Table] = {table.path: table for table in TABLES}
COLUMNS: dict[str, dict[str, Column]] = {
    table.name: {column.name: column for column in table.columns} for table in TABLES
}

# Written in this order: every table after the tables it points at. (Foreign keys are
# deferred to the commit on both databases, so this is for clarity, not correctness.)
WRITE_ORDER: tuple[str, ...] = (
    "taxonomy",
    "taxonomy_term",
    "organization",
    "program",
    "service",
    "location",
    "service_at_location",
    "contact",
    "phone",
    "address",
    "schedule",
    "funding",
    "service_area",
    "required_document",
    "language",
    "accessibility",
    "cost_option",
    "organization_identifier",
    "attribute",
    "metadata",
)

# An attribute's link_entity names the table its link_id points at; Linli checks the
# link when it keeps that table as a taxonomy-bearing record.
LINKABLE_TABLES: tuple[str, ...] = ("organization", "service", "location", "service_at_location")

# Model fields that no column carries: when a record last changed in Linli. HSDS has a
# last_modified column for services only, and Linli keeps the dataset's value there.
NOT_EXCHANGED: dict[type[models.Model], set[str]] = {
    t.model: {"last_modified"} for t in TABLES if t.model is not None and t.model is not m.Service
}


@dataclass(frozen=True)
class Rule:
    """A rule of Linli's own over several fields of a record.

    `check` takes the record's values (the dataset's over what Linli holds) and
    returns {column: reason}; it is skipped when one of `columns` already holds a
    value that could not be read.
    """

    columns: tuple[str, ...]
    check: Callable[[Mapping[str, Any]], dict[str, str]]


def _ages_ordered(values: Mapping[str, Any]) -> dict[str, str]:
    low, high = values.get("minimum_age"), values.get("maximum_age")
    if low is not None and high is not None and low > high:
        return {"maximum_age": _("The maximum age is below the minimum age.")}
    return {}


def _point_in_bounds(values: Mapping[str, Any]) -> dict[str, str]:
    problems = validate_point(values.get("latitude"), values.get("longitude"))
    return {
        field: " ".join(str(reason) for reason in reasons) for field, reasons in problems.items()
    }


def _areas_ordered(values: Mapping[str, Any]) -> dict[str, str]:
    floor, activity = values.get("floor_area_m2"), values.get("activity_area_m2")
    if floor is not None and activity is not None and activity > floor:
        return {"activity_area_m2": _("The activity area is larger than the floor area.")}
    return {}


def _opened_before_closed(values: Mapping[str, Any]) -> dict[str, str]:
    opened, closed = values.get("opened_on"), values.get("closed_on")
    if opened is not None and closed is not None and opened > closed:
        return {"closed_on": _("The facility closes before it opens.")}
    return {}


def _opens_before_it_closes(values: Mapping[str, Any]) -> dict[str, str]:
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens is not None and closes is not None and opens >= closes:
        return {"closes_at": _("The closing time is not after the opening time.")}
    return {}


RULES: dict[type[models.Model], tuple[Rule, ...]] = {
    m.Service: (Rule(("minimum_age", "maximum_age"), _ages_ordered),),
    m.Location: (
        Rule(("latitude", "longitude"), _point_in_bounds),
        Rule(("floor_area_m2", "activity_area_m2"), _areas_ordered),
        Rule(("opened_on", "closed_on"), _opened_before_closed),
    ),
    m.Schedule: (Rule(("opens_at", "closes_at"), _opens_before_it_closes),),
}


def datapackage() -> dict[str, Any]:
    """The data package an export writes: HSDS 3.0's, plus Linli's extension tables."""
    return {
        "name": "human_services_data",
        "title": "Human Services Data Specification",
        "description": (
            "HSDS describes data about organizations, the services they provide, the "
            "locations at which these services can be accessed, and associated details. "
            "Exported by Linli; the linli_* tables carry Linli's own fields."
        ),
        "profile": "tabular-data-package",
        "version": HSDS_VERSION,
        "homepage": "http://docs.openreferral.org",
        "resources": [table.resource() for table in TABLES],
    }
