"""Reads behind the HSDS API: filtered listings, pages, streams and single records.

Every listing is one queryset whose related rows come by `prefetch_related`, so
a page costs the same number of queries whatever its size. Attributes (taxonomy
terms attached to a record) point at their record by `link_entity` + `link_id`
rather than a foreign key, so they are fetched for a loaded page in one more
query (`hsds_attach_attributes`) and set on each record as `hsds_attributes`.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from django.db.models import Avg, ExpressionWrapper, F, FloatField, Model, Prefetch, Q, QuerySet

from linli.directory.choices import LinkEntity
from linli.directory.models import (
    Accessibility,
    Address,
    Attribute,
    Contact,
    CostOption,
    Funding,
    Language,
    Location,
    Organization,
    OrganizationIdentifier,
    Phone,
    Program,
    RequiredDocument,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from linli.directory.selectors import (
    linked_to,
    search_words,
    service_word,
    terms_with_descendants,
)

M = TypeVar("M", bound=Model)
Shape = Literal["minimal", "list", "full"]

# Metres per degree of latitude, and of longitude at the equator.
METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON = 111_320.0

Records = Iterable[tuple[str, Model]]


def _no_loading(items: list[Any]) -> None:
    return None


@dataclass(frozen=True)
class Listing(Generic[M]):
    """A filtered, ordered queryset and what completes each loaded batch of it."""

    queryset: QuerySet[M]
    load: Callable[[list[M]], None] = field(default=_no_loading)


@dataclass(frozen=True)
class PageSlice(Generic[M]):
    items: list[M]
    total_items: int
    page_number: int
    per_page: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_items / self.per_page)


def hsds_page(listing: Listing[M], *, page: int, per_page: int) -> PageSlice[M]:
    """One page of a listing: a count, the page's rows and their prefetches."""
    total = listing.queryset.count()
    offset = (page - 1) * per_page
    items = list(listing.queryset[offset : offset + per_page]) if offset < total else []
    listing.load(items)
    return PageSlice(items=items, total_items=total, page_number=page, per_page=per_page)


def hsds_stream(listing: Listing[M], *, chunk_size: int = 500) -> Iterator[list[M]]:
    """Every row of a listing, in batches whose prefetches are made batch by batch."""
    batch: list[M] = []
    for item in listing.queryset.iterator(chunk_size=chunk_size):
        batch.append(item)
        if len(batch) == chunk_size:
            listing.load(batch)
            yield batch
            batch = []
    if batch:
        listing.load(batch)
        yield batch


# --- attributes ---------------------------------------------------------------------------


def hsds_attach_attributes(records: Records) -> None:
    """Fetch, in one query, the attributes of every (link_entity, record) given."""
    by_entity: dict[str, list[Model]] = defaultdict(list)
    for entity, record in records:
        by_entity[entity].append(record)
    if not by_entity:
        return
    wanted = Q()
    for entity, loaded in by_entity.items():
        wanted |= Q(link_entity=entity, link_id__in={record.pk for record in loaded})
    index: dict[tuple[str, uuid.UUID], list[Attribute]] = defaultdict(list)
    attributes = (
        Attribute.objects.filter(wanted)
        .select_related("taxonomy_term__taxonomy_ref")
        .order_by("link_type", "taxonomy_term__code", "id")
    )
    for attribute in attributes:
        index[(attribute.link_entity, attribute.link_id)].append(attribute)
    for entity, loaded in by_entity.items():
        for record in loaded:
            setattr(record, "hsds_attributes", index.get((entity, record.pk), []))  # noqa: B010


def _location_records(location: Location) -> Records:
    yield LinkEntity.LOCATION, location


def _service_records(service: Service, *, with_locations: bool = True) -> Records:
    yield LinkEntity.SERVICE, service
    if with_locations:
        for at_location in related(service, "service_at_locations"):
            yield LinkEntity.SERVICE_AT_LOCATION, at_location
            yield from _location_records(at_location.location)


def _service_at_location_records(at_location: ServiceAtLocation) -> Records:
    yield LinkEntity.SERVICE_AT_LOCATION, at_location
    yield from _location_records(at_location.location)
    yield from _service_records(at_location.service, with_locations=False)


def _organization_records(organization: Organization, *, full_service: bool) -> Records:
    yield LinkEntity.ORGANIZATION, organization
    for location in related(organization, "locations"):
        yield from _location_records(location)
    if full_service:
        for service in related(organization, "services"):
            yield from _service_records(service)


# --- what a full record prefetches ----------------------------------------------------------
#
# Every to-many relation is prefetched into a plain list named `hsds_<relation>`
# (`to_attr`): Django then skips building a manager and a queryset per row, which
# is most of the Python time of a page of full records. Lookups below a list go
# through its attribute name.


def related(record: Model, relation: str) -> list[Any]:
    """The prefetched rows of one to-many relation of a record (never a query)."""
    rows: list[Any] = getattr(record, f"hsds_{relation}")
    return rows


def _many(
    prefix: str, relation: str, model: type[Model], order: tuple[str, ...] = ("id",)
) -> Prefetch:
    queryset = model._default_manager.order_by(*order)
    return Prefetch(f"{prefix}{relation}", queryset=queryset, to_attr=f"hsds_{relation}")


def _phones(prefix: str) -> list[Prefetch]:
    return [_many(prefix, "phones", Phone), _many(f"{prefix}hsds_phones__", "languages", Language)]


def _contacts(prefix: str) -> list[Prefetch]:
    return [_many(prefix, "contacts", Contact), *_phones(f"{prefix}hsds_contacts__")]


def _location_full(prefix: str) -> list[Prefetch]:
    return [
        _many(prefix, "languages", Language),
        _many(prefix, "addresses", Address),
        *_contacts(prefix),
        _many(prefix, "accessibility", Accessibility),
        *_phones(prefix),
        _many(prefix, "schedules", Schedule),
    ]


def _service_full(prefix: str, *, with_locations: bool = True) -> list[Prefetch]:
    lookups = [
        *_phones(prefix),
        _many(prefix, "schedules", Schedule),
        _many(prefix, "service_areas", ServiceArea),
        _many(prefix, "languages", Language),
        _many(prefix, "funding", Funding),
        _many(prefix, "cost_options", CostOption),
        _many(prefix, "required_documents", RequiredDocument),
        *_contacts(prefix),
    ]
    if with_locations:
        at = f"{prefix}hsds_service_at_locations__"
        lookups += [
            Prefetch(
                f"{prefix}service_at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").order_by(
                    "location__name", "id"
                ),
                to_attr="hsds_service_at_locations",
            ),
            *_contacts(at),
            *_phones(at),
            _many(at, "schedules", Schedule),
            *_location_full(f"{at}location__"),
        ]
    return lookups


def _organization_full(*, full_service: bool) -> list[Prefetch]:
    lookups = [
        _many("", "funding", Funding),
        *_contacts(""),
        *_phones(""),
        _many("", "locations", Location, ("name", "id")),
        *_location_full("hsds_locations__"),
        _many("", "programs", Program, ("name", "id")),
        _many("", "organization_identifiers", OrganizationIdentifier),
        Prefetch(
            "services",
            queryset=Service.objects.select_related("program").order_by("name", "id"),
            to_attr="hsds_services",
        ),
    ]
    if full_service:
        lookups += _service_full("hsds_services__")
    return lookups


# --- filters --------------------------------------------------------------------------------


def _service_terms(
    prefix: str, *, taxonomy_term_id: uuid.UUID | None, taxonomy_id: uuid.UUID | None
) -> Q:
    wanted = Q()
    terms: QuerySet[TaxonomyTerm, Any]
    if taxonomy_term_id is not None:
        terms = terms_with_descendants(TaxonomyTerm.objects.filter(id=taxonomy_term_id))
        wanted &= Q(**{f"{prefix}id__in": linked_to(LinkEntity.SERVICE, terms)})
    if taxonomy_id is not None:
        terms = TaxonomyTerm.objects.filter(taxonomy_ref_id=taxonomy_id).values("id")
        wanted &= Q(**{f"{prefix}id__in": linked_to(LinkEntity.SERVICE, terms)})
    return wanted


# --- services -------------------------------------------------------------------------------


def hsds_services_list(
    *,
    search: str = "",
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    shape: Shape = "list",
) -> Listing[Service]:
    """Services matching every filter given (AND), by name.

    `taxonomy_term_id` also finds services filed under a term below it; `search`
    looks for each word in the service's names and description, its
    organization's name and the names and codes of its terms.
    """
    services = Service.objects.filter(
        _service_terms("", taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id)
    )
    for word in search_words(search):
        services = services.filter(service_word(word))
    if organization_id is not None:
        services = services.filter(organization_id=organization_id)
    if modified_after is not None:
        services = services.filter(last_modified__gte=modified_after)
    services = services.order_by("name", "id")
    if shape == "minimal":
        return Listing(services.only("id", "name", "status", "last_modified"))
    services = services.select_related("organization", "program")
    if shape == "list":
        return Listing(services)
    return Listing(services.prefetch_related(*_service_full("")), load=_load_services)


def _load_services(services: list[Service]) -> None:
    hsds_attach_attributes(record for service in services for record in _service_records(service))


def hsds_service_get(*, id: uuid.UUID) -> Service | None:
    """One fully loaded service, or None."""
    services = (
        Service.objects.filter(id=id)
        .select_related("organization", "program")
        .prefetch_related(*_service_full(""))
    )
    service = services.first()
    if service is not None:
        _load_services([service])
    return service


# --- organizations --------------------------------------------------------------------------


def hsds_organizations_list(
    *, search: str = "", full: bool = False, full_service: bool = False
) -> Listing[Organization]:
    """Organizations whose names or description contain every word of `search`, by name."""
    organizations = Organization.objects.all()
    for word in search_words(search):
        organizations = organizations.filter(
            Q(name__icontains=word)
            | Q(alternate_name__icontains=word)
            | Q(description__icontains=word)
        )
    organizations = organizations.order_by("name", "id")
    if not (full or full_service):
        return Listing(organizations)

    def load(loaded: list[Organization]) -> None:
        hsds_attach_attributes(
            record
            for organization in loaded
            for record in _organization_records(organization, full_service=full_service)
        )

    return Listing(
        organizations.prefetch_related(*_organization_full(full_service=full_service)), load=load
    )


def hsds_organization_get(*, id: uuid.UUID, full_service: bool = False) -> Organization | None:
    """One fully loaded organization with its services (in full if `full_service`), or None."""
    listing = hsds_organizations_list(full=True, full_service=full_service)
    organization = listing.queryset.filter(id=id).first()
    if organization is not None:
        listing.load([organization])
    return organization


# --- services at locations ------------------------------------------------------------------


def _postcode_centre(postcode: str) -> tuple[float, float] | None:
    """The mean position of the located facilities with an address in the postcode."""
    located = Location.objects.filter(
        id__in=Address.objects.filter(postal_code=postcode).values("location_id"),
        latitude__isnull=False,
        longitude__isnull=False,
    ).aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
    if located["lat"] is None or located["lon"] is None:
        return None
    return float(located["lat"]), float(located["lon"])


def _within(
    at_locations: QuerySet[ServiceAtLocation], centre: tuple[float, float], metres: float
) -> QuerySet[ServiceAtLocation]:
    """Those whose facility lies within `metres` of `centre`, nearest first.

    An equirectangular distance: within the few tens of kilometres a proximity
    search spans, it is within a fraction of a percent of the great circle.
    """
    lat, lon = centre
    per_lat = METRES_PER_DEGREE_LAT
    per_lon = max(METRES_PER_DEGREE_LON * math.cos(math.radians(lat)), 1.0)
    north_south = (F("location__latitude") - lat) * per_lat
    east_west = (F("location__longitude") - lon) * per_lon
    return (
        at_locations.filter(
            location__latitude__range=(lat - metres / per_lat, lat + metres / per_lat),
            location__longitude__range=(lon - metres / per_lon, lon + metres / per_lon),
        )
        .annotate(
            distance_sq=ExpressionWrapper(
                north_south * north_south + east_west * east_west, output_field=FloatField()
            )
        )
        .filter(distance_sq__lte=metres * metres)
        .order_by("distance_sq", "id")
    )


def hsds_service_at_locations_list(
    *,
    search: str = "",
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    postcode: str = "",
    proximity: float | None = None,
    shape: Shape = "list",
) -> Listing[ServiceAtLocation]:
    """Services at facilities matching every filter given (AND).

    The service's terms, words and organization are matched as in
    `hsds_services_list`; a word may also be in the facility's names or address.
    `modified_after` finds rows whose service or facility changed too, since a
    row carries both. With `postcode` alone: facilities with an address in it;
    with `proximity` (metres): facilities that near the postcode's centre,
    nearest first. Otherwise ordered by service and facility name.
    """
    rows = ServiceAtLocation.objects.filter(
        _service_terms("service__", taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id)
    )
    for word in search_words(search):
        rows = rows.filter(
            service_word(word, "service_id")
            | Q(description__icontains=word)
            | Q(location__name__icontains=word)
            | Q(location__alternate_name__icontains=word)
            | Q(location__description__icontains=word)
            | Q(
                location_id__in=Address.objects.filter(address_1__icontains=word).values(
                    "location_id"
                )
            )
        )
    if organization_id is not None:
        rows = rows.filter(service__organization_id=organization_id)
    if modified_after is not None:
        rows = rows.filter(
            Q(last_modified__gte=modified_after)
            | Q(service__last_modified__gte=modified_after)
            | Q(location__last_modified__gte=modified_after)
        )
    rows = rows.order_by("service__name", "location__name", "id")
    if postcode and proximity is not None:
        centre = _postcode_centre(postcode)
        rows = rows.none() if centre is None else _within(rows, centre, proximity)
    elif postcode:
        rows = rows.filter(
            location_id__in=Address.objects.filter(postal_code=postcode).values("location_id")
        )
    if shape != "full":
        return Listing(rows.select_related("location", "service__organization", "service__program"))
    return _service_at_locations_full(rows)


def _service_at_locations_full(
    rows: QuerySet[ServiceAtLocation],
) -> Listing[ServiceAtLocation]:
    def load(loaded: list[ServiceAtLocation]) -> None:
        hsds_attach_attributes(
            record for row in loaded for record in _service_at_location_records(row)
        )

    rows = rows.select_related(
        "location", "service__organization", "service__program"
    ).prefetch_related(
        *_contacts(""),
        *_phones(""),
        _many("", "schedules", Schedule),
        *_location_full("location__"),
        *_service_full("service__", with_locations=False),
    )
    return Listing(rows, load=load)


def hsds_service_at_location_get(*, id: uuid.UUID) -> ServiceAtLocation | None:
    """One fully loaded service at a facility, or None."""
    listing = _service_at_locations_full(ServiceAtLocation.objects.filter(id=id))
    row = listing.queryset.first()
    if row is not None:
        listing.load([row])
    return row


# --- taxonomies -----------------------------------------------------------------------------


def hsds_taxonomies_list(*, search: str = "") -> Listing[Taxonomy]:
    taxonomies = Taxonomy.objects.all()
    for word in search_words(search):
        taxonomies = taxonomies.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(uri__icontains=word)
        )
    return Listing(taxonomies.order_by("name", "id"))


def hsds_taxonomy_get(*, id: uuid.UUID) -> Taxonomy | None:
    return Taxonomy.objects.filter(id=id).first()


def hsds_taxonomy_terms_list(
    *,
    search: str = "",
    taxonomy_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    top_only: bool = False,
) -> Listing[TaxonomyTerm]:
    """Terms matching every filter given; `top_only` keeps the terms without a parent."""
    terms = TaxonomyTerm.objects.all()
    for word in search_words(search):
        terms = terms.filter(
            Q(name__icontains=word)
            | Q(name_en__icontains=word)
            | Q(code__icontains=word)
            | Q(description__icontains=word)
        )
    if taxonomy_id is not None:
        terms = terms.filter(taxonomy_ref_id=taxonomy_id)
    if parent_id is not None:
        terms = terms.filter(parent_id=parent_id)
    if top_only:
        terms = terms.filter(parent__isnull=True)
    return Listing(
        terms.select_related("taxonomy_ref").order_by("taxonomy_ref__name", "code", "id")
    )


def hsds_taxonomy_term_get(*, id: uuid.UUID) -> TaxonomyTerm | None:
    return TaxonomyTerm.objects.filter(id=id).select_related("taxonomy_ref").first()
