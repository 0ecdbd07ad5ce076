"""Reads of the directory: finding services near a resident, a facility's page."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import BooleanField, Exists, F, FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import ExpressionWrapper
from django.utils import timezone

from linli.regions.models import Region

from .choices import AttributeLinkType, FeeKind, LinkEntity, ServiceStatus
from .models import Attribute, Location, Schedule, Service, ServiceAtLocation, TaxonomyTerm
from .taxonomy import PRIORITY_TAXONOMY, SERVICES_TAXONOMY, taxonomy_uuid

KM_PER_DEGREE = 111.32
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class ServiceQuery:
    """What a resident asks for. Every part is optional; they combine with AND."""

    text: str = ""
    category: str = ""
    group: str = ""
    age: int | None = None
    open_now: bool = False
    free: bool = False
    at_home: bool = False
    origin: tuple[float, float] | None = None
    moment: dt.datetime | None = None


# How deep taxonomy terms nest at most below the one asked for (the plan's is 2 deep).
MAX_TERM_DEPTH = 4
# Words of a search beyond this are ignored: each one adds subqueries.
MAX_SEARCH_WORDS = 8


def search_words(text: str) -> list[str]:
    return text.split()[:MAX_SEARCH_WORDS]


def like_lookup(word: str) -> str:
    """`icontains` for words with letter case, `contains` for the rest.

    Chinese has no letter case: a plain LIKE spares the database an UPPER() of
    every row, which costs more than the match itself.
    """
    return "icontains" if word.lower() != word.upper() else "contains"


def terms_with_descendants(terms: QuerySet[TaxonomyTerm]) -> QuerySet[TaxonomyTerm, Any]:
    """The given terms and every term below them, as a subquery of ids."""
    ids = terms.values("id")
    wanted = Q(id__in=ids)
    path = "parent"
    for _level in range(MAX_TERM_DEPTH):
        wanted |= Q(**{f"{path}__in": ids})
        path += "__parent"
    return TaxonomyTerm.objects.filter(wanted).values("id")


def terms_matching(word: str) -> QuerySet[TaxonomyTerm]:
    like = like_lookup(word)
    return TaxonomyTerm.objects.filter(
        Q(**{f"name__{like}": word}) | Q(**{f"name_en__{like}": word}) | Q(code__icontains=word)
    )


def linked_to(
    entity: str, terms: QuerySet[TaxonomyTerm, Any], link_type: str | None = None
) -> QuerySet[Attribute, Any]:
    """Ids of the records of one HSDS table carrying any of the terms (a subquery)."""
    attributes = Attribute.objects.filter(link_entity=entity, taxonomy_term__in=terms)
    if link_type:
        attributes = attributes.filter(link_type=link_type)
    return attributes.values("link_id")


def service_word(word: str, field: str = "id") -> Q:
    """Services whose names, description, organization or terms contain the word.

    `field` is the column holding a service id in the queryset filtered ("id" on
    services, "service_id" on services at facilities). Each source of a match is
    its own subquery, run once and hashed, so the outer query never joins tens
    of thousands of rows before it knows which it wants.
    """
    like = like_lookup(word)
    direct = Service.objects.filter(
        Q(**{f"name__{like}": word})
        | Q(**{f"alternate_name__{like}": word})
        | Q(**{f"description__{like}": word})
        | Q(**{f"organization__name__{like}": word})
    )
    by_term = linked_to(LinkEntity.SERVICE, terms_with_descendants(terms_matching(word)))
    return Q(**{f"{field}__in": Subquery(direct.order_by().values("id"))}) | Q(
        **{f"{field}__in": Subquery(by_term)}
    )


def _text_filter(word: str) -> Q:
    """One word of the query: in the service (as above) or its facility's name."""
    places = Location.objects.filter(**{f"name__{like_lookup(word)}": word})
    return service_word(word, "service_id") | Q(
        location_id__in=Subquery(places.order_by().values("id"))
    )


def local_moment(moment: dt.datetime | None = None) -> tuple[str, dt.time, dt.date]:
    """Weekday code, time of day and date where the deployment is."""
    now = timezone.localtime(moment or timezone.now())
    return WEEKDAY_CODES[now.weekday()], now.time().replace(microsecond=0), now.date()


def open_schedules(moment: dt.datetime | None = None) -> QuerySet[Schedule]:
    """Schedules open at `moment` (weekly hours, within their validity)."""
    weekday, time, today = local_moment(moment)
    return Schedule.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today),
        Q(valid_to__isnull=True) | Q(valid_to__gte=today),
        Q(freq="") | Q(freq="WEEKLY"),
        byday__contains=weekday,
        opens_at__lte=time,
        closes_at__gt=time,
    )


def facilities_open_on(day: dt.date, through: str = "") -> Q:
    """Facilities that had opened and had not closed on `day` (`through`: a relation prefix)."""
    opened, closed = f"{through}opened_on", f"{through}closed_on"
    return (Q(**{f"{opened}__isnull": True}) | Q(**{f"{opened}__lte": day})) & (
        Q(**{f"{closed}__isnull": True}) | Q(**{f"{closed}__gt": day})
    )


def service_search(*, query: ServiceQuery) -> QuerySet[ServiceAtLocation]:
    """Active services at open facilities, nearest first when there is an origin.

    Each row is a service at a facility, annotated with `is_open` (now, by the
    hours of the facility, the service or the service there) and, with an
    origin, `distance_sq` in km² by the equirectangular approximation: exact
    enough within a city, and plain arithmetic that both SQLite and PostgreSQL
    compute in the query.
    """
    _weekday, _time, today = local_moment(query.moment)
    # Open if any schedule of the facility, the service or the service there is open.
    # To keep only open rows, three uncorrelated subqueries (each run once, hashed);
    # to say of the rows kept whether they are open, three index probes per row.
    hours = open_schedules(query.moment)
    keep_open = (
        Q(location_id__in=Subquery(hours.values("location_id")))
        | Q(service_id__in=Subquery(hours.values("service_id")))
        | Q(pk__in=Subquery(hours.values("service_at_location_id")))
    )
    is_open = (
        Exists(hours.filter(location_id=OuterRef("location_id")))
        | Exists(hours.filter(service_id=OuterRef("service_id")))
        | Exists(hours.filter(service_at_location_id=OuterRef("pk")))
    )
    rows = (
        ServiceAtLocation.objects.filter(service__status=ServiceStatus.ACTIVE)
        .select_related("service", "service__organization", "location", "location__region")
        .annotate(is_open=ExpressionWrapper(is_open, output_field=BooleanField()))
    )
    rows = rows.filter(facilities_open_on(today, through="location__"))
    for word in search_words(query.text):
        rows = rows.filter(_text_filter(word))
    if query.category:
        terms = TaxonomyTerm.objects.filter(
            taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY), code=query.category
        )
        rows = rows.filter(
            service_id__in=Subquery(linked_to(LinkEntity.SERVICE, terms_with_descendants(terms)))
        )
    if query.group:
        rows = rows.filter(_eligible(query.group))
    if query.age is not None:
        rows = rows.filter(
            Q(service__minimum_age__isnull=True) | Q(service__minimum_age__lte=query.age),
            Q(service__maximum_age__isnull=True) | Q(service__maximum_age__gte=query.age),
        )
    if query.free:
        rows = rows.filter(service__fee_kind=FeeKind.FREE)
    if query.at_home:
        rows = rows.filter(service__at_home=True)
    if query.open_now:
        rows = rows.filter(keep_open)
    if query.origin is None:
        return rows.order_by("service__name", "location__name", "pk")
    lat, lon = query.origin
    east = KM_PER_DEGREE * math.cos(math.radians(lat))
    dy = (F("location__latitude") - lat) * KM_PER_DEGREE
    dx = (F("location__longitude") - lon) * east
    return (
        rows.exclude(location__latitude__isnull=True)
        .annotate(distance_sq=ExpressionWrapper(dy * dy + dx * dx, output_field=FloatField()))
        .order_by("distance_sq", "service__name", "pk")
    )


def _eligible(group: str) -> Q:
    """Services for members of `group`: those naming it, and those naming no group at all."""
    group_terms = TaxonomyTerm.objects.filter(
        taxonomy_ref_id=taxonomy_uuid(PRIORITY_TAXONOMY), code=group
    )
    restricted = Attribute.objects.filter(
        link_entity=LinkEntity.SERVICE, link_type=AttributeLinkType.ELIGIBILITY
    ).values("link_id")
    named = linked_to(LinkEntity.SERVICE, group_terms.values("id"), AttributeLinkType.ELIGIBILITY)
    return Q(service_id__in=Subquery(named)) | ~Q(service_id__in=Subquery(restricted))


def service_terms(service_ids: Iterable[UUID]) -> dict[UUID, list[tuple[str, TaxonomyTerm]]]:
    """Each service's categories and eligible groups, for a page of results, in one query."""
    found: dict[UUID, list[tuple[str, TaxonomyTerm]]] = defaultdict(list)
    attributes = Attribute.objects.filter(
        link_entity=LinkEntity.SERVICE, link_id__in=list(service_ids)
    ).select_related("taxonomy_term")
    for attribute in attributes.order_by("link_type", "taxonomy_term__code"):
        found[attribute.link_id].append((attribute.link_type, attribute.taxonomy_term))
    return found


def distance_km(row: ServiceAtLocation) -> float | None:
    squared = getattr(row, "distance_sq", None)
    return None if squared is None else math.sqrt(squared)


def search_origin(
    *, lat: float | None, lon: float | None, region: Region | None
) -> tuple[float, float] | None:
    """Where to measure from: a chosen point, else the chosen community's centre."""
    if lat is not None and lon is not None:
        return (lat, lon)
    if region is not None and region.lat is not None and region.lon is not None:
        return (region.lat, region.lon)
    return None


def facility_detail(*, facility_id: UUID) -> Location | None:
    return (
        Location.objects.filter(pk=facility_id)
        .select_related("region", "organization")
        .prefetch_related("schedules", "accessibility", "addresses", "phones")
        .first()
    )


def facility_services(*, facility: Location) -> list[ServiceAtLocation]:
    return list(
        ServiceAtLocation.objects.filter(location=facility, service__status=ServiceStatus.ACTIVE)
        .select_related("service")
        .order_by("service__name")
    )
