"""Reads of the Open311 façade: the services partners may ask for, partners by key, and
which requests the public GETs show to whom.

GeoReport's GETs are public. Linli's requests are about people, often older or ill, so:
a request created by a partner is shown in full (its description, address and exact
point) only to that partner, identified by its api_key; everyone else, and every
request from residents, proxies or community workers, gets the community instead of
the address and the community's centre instead of the point, and never a description,
name or phone. Requests for services whose mere existence says something sensitive
about a household (mental health, welfare, child protection, legal aid, disputes) are
left out of public answers altogether, except to the partner that created them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from linli.directory.models import TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.requests.choices import OPEN_STATES
from linli.requests.models import Open311Partner, ServiceRequest

# Most requests one GET requests answers, as the spec's default.
MAX_REQUESTS = 1000
# The default window, and the widest one a query may span, as the spec says.
DEFAULT_DAYS = 90

PRIVATE_SERVICES = frozenset(
    {
        "medical_mental_health",
        "welfare_subsistence",
        "welfare_disability_support",
        "welfare_minor_protection",
        "welfare_emergency_relief",
        "welfare_left_behind_care",
        "safety_legal_aid",
        "safety_dispute_mediation",
    }
)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ServiceEntry:
    term: TaxonomyTerm
    group: TaxonomyTerm


def _service_terms() -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.filter(taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY))


def open311_services() -> list[ServiceEntry]:
    """Every service a partner may ask for: the taxonomy's terms below its eight fields,
    each with its field as the group. The fields themselves are groups, not services."""
    terms = {term.pk: term for term in _service_terms()}

    def root(term: TaxonomyTerm) -> TaxonomyTerm:
        seen = set()
        while term.parent_id is not None and term.parent_id in terms and term.pk not in seen:
            seen.add(term.pk)
            term = terms[term.parent_id]
        return term

    entries = [
        ServiceEntry(term=term, group=root(term))
        for term in terms.values()
        if term.parent_id is not None
    ]
    return sorted(entries, key=lambda entry: (entry.group.code, entry.term.code))


def open311_service(code: str) -> ServiceEntry | None:
    for entry in open311_services() if code else ():
        if entry.term.code == code:
            return entry
    return None


def open311_partner_for_key(key: str) -> Open311Partner | None:
    """The active partner holding this key (looked up by the key's hash), or None."""
    if not key:
        return None
    return (
        Open311Partner.objects.select_related("region")
        .filter(key_hash=key_hash(key), active=True)
        .first()
    )


def is_own(request: ServiceRequest, partner: Open311Partner | None) -> bool:
    """Whether `partner` created this request, and so may read what it sent."""
    return partner is not None and request.partner_id == partner.pk


def open311_visible(partner: Open311Partner | None) -> QuerySet[ServiceRequest]:
    """The requests a caller may learn of at all (see the module's docstring)."""
    hidden = Q(service__code__in=PRIVATE_SERVICES)
    if partner is not None:
        hidden &= ~Q(partner=partner)
    return (
        ServiceRequest.objects.exclude(hidden)
        .select_related(
            "service",
            "community",
            "community__parent",
            "community__parent__parent",
            "responder",
            "responder__organization",
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' filters, already checked. `ids` overrides all the others."""

    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()


def open311_requests(
    *, partner: Open311Partner | None, query: RequestQuery
) -> list[ServiceRequest]:
    requests = open311_visible(partner)
    if query.ids is not None:
        return list(requests.filter(public_id__in=query.ids)[:MAX_REQUESTS])
    if query.service_codes:
        requests = requests.filter(service__code__in=query.service_codes)
    if query.start is not None:
        requests = requests.filter(created_at__gte=query.start)
    if query.end is not None:
        requests = requests.filter(created_at__lte=query.end)
    if set(query.statuses) == {"open"}:
        requests = requests.filter(state__in=OPEN_STATES)
    elif set(query.statuses) == {"closed"}:
        requests = requests.exclude(state__in=OPEN_STATES)
    return list(requests[:MAX_REQUESTS])


def open311_request(*, partner: Open311Partner | None, public_id: str) -> ServiceRequest | None:
    return open311_visible(partner).filter(public_id=public_id).first()
