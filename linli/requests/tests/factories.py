"""Responders and requests for tests, built through the services where it matters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from linli.accounts.tests.factories import UserFactory
from linli.directory.models import TaxonomyTerm
from linli.regions.models import Region
from linli.requests.choices import ResponderKind
from linli.requests.models import Responder
from linli.requests.services import service_term


def responder_create(
    region: Region, *skills: str, name: str = "志愿者", **fields: Any
) -> Responder:
    """A volunteer living at `region`'s centre, with the given service codes as skills."""
    user = fields.pop("user", None) or UserFactory.create()
    responder = Responder.objects.create(
        kind=fields.pop("kind", ResponderKind.VOLUNTEER),
        name=name,
        user=user,
        region=region,
        latitude=fields.pop("latitude", region.lat),
        longitude=fields.pop("longitude", region.lon),
        radius_km=fields.pop("radius_km", Decimal("3.0")),
        **fields,
    )
    terms: list[TaxonomyTerm] = [t for t in (service_term(code) for code in skills) if t]
    responder.skills.set(terms)
    return responder
