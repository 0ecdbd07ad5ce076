"""A responder's own profile: what they can do, when, from where, how far and how much.

Volunteers, social workers and provider staff keep their own profile (the volunteers
issue later adds registration on top); keepers read the profiles of their area to
dispatch. Every refusal names its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment, User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.directory.models import TaxonomyTerm
from linli.directory.validators import validate_point
from linli.regions.models import Region

from .choices import HELD_STATES, ResponderKind, ResponderStatus
from .models import Responder
from .services import nearest_community, service_term

# The roles that deliver in person, and the kind of profile each keeps.
RESPONDER_ROLES: dict[str, str] = {
    Role.VOLUNTEER: ResponderKind.VOLUNTEER,
    Role.SOCIAL_WORKER: ResponderKind.SOCIAL_WORKER,
    Role.PROVIDER_STAFF: ResponderKind.PROVIDER_STAFF,
}
MAX_SLOTS = 28
MIN_RADIUS_KM, MAX_RADIUS_KM = Decimal("0.1"), Decimal("50.0")
MAX_OPEN_TASKS = 20
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass
class ProfileInput:
    skills: list[str]
    radius_km: Decimal
    max_open_tasks: int = 3
    availability: list[Any] = field(default_factory=list)
    region: str = ""
    latitude: float | None = None
    longitude: float | None = None
    status: str = ResponderStatus.ACTIVE
    kind: str = ""
    name: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)


def responder_kinds(user: User) -> list[str]:
    """The profile kinds the user's roles allow, in the order of RESPONDER_ROLES."""
    held = set(
        RoleAssignment.objects.filter(user=user, role__in=list(RESPONDER_ROLES)).values_list(
            "role", flat=True
        )
    )
    return [kind for role, kind in RESPONDER_ROLES.items() if role in held]


def slot_errors(slots: Any) -> list[str]:
    """[{"day": 0-6, "start": "HH:MM", "end": "HH:MM"}, …]; empty means any time."""
    if not isinstance(slots, list):
        return [_("Give a list of weekly slots.")]
    if len(slots) > MAX_SLOTS:
        return [_("At most %(n)s slots.") % {"n": MAX_SLOTS}]
    errors = []
    for number, slot in enumerate(slots, start=1):
        if not isinstance(slot, dict) or set(slot) != {"day", "start", "end"}:
            errors.append(
                _("Slot %(n)s: give day (0 = Monday … 6 = Sunday), start and end.") % {"n": number}
            )
            continue
        day, start, end = slot["day"], slot["start"], slot["end"]
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            errors.append(_("Slot %(n)s: the day is 0 (Monday) to 6 (Sunday).") % {"n": number})
        if not all(isinstance(t, str) and TIME.match(t) for t in (start, end)):
            errors.append(_("Slot %(n)s: times are written HH:MM, e.g. 08:30.") % {"n": number})
        elif end <= start:
            errors.append(_("Slot %(n)s: the end comes after the start.") % {"n": number})
    return errors


def _checked(actor: User, data: ProfileInput) -> tuple[str, list[TaxonomyTerm], Region]:
    kinds = responder_kinds(actor)
    if not kinds:
        raise PermissionDenied(
            _("Only volunteers, social workers and provider staff keep a responder profile.")
        )
    kind = data.kind or kinds[0]
    if kind not in kinds:
        data.refuse("kind", _("Your roles do not include this kind of responder."))
    terms: list[TaxonomyTerm] = []
    if not data.skills:
        data.refuse("skills", _("Say which services you can deliver."))
    for code in dict.fromkeys(data.skills):
        term = service_term(code)
        if term is None:
            data.refuse("skills", _("Unknown service code %(code)s.") % {"code": code})
        else:
            terms.append(term)
    for reason in slot_errors(data.availability):
        data.refuse("availability", reason)
    if not MIN_RADIUS_KM <= data.radius_km <= MAX_RADIUS_KM:
        data.refuse(
            "radius_km",
            _("Between %(low)s and %(high)s km.") % {"low": MIN_RADIUS_KM, "high": MAX_RADIUS_KM},
        )
    if not 1 <= data.max_open_tasks <= MAX_OPEN_TASKS:
        data.refuse("max_open_tasks", _("Between 1 and %(n)s.") % {"n": MAX_OPEN_TASKS})
    if data.status not in ResponderStatus.values:
        data.refuse("status", _("Active or paused."))
    for name, reasons in validate_point(data.latitude, data.longitude).items():
        for reason in reasons:
            data.refuse(name, reason)
    region = None
    if data.region:
        region = Region.objects.filter(code=data.region).first()
        if region is None:
            data.refuse("region", _("No region with code %(code)s.") % {"code": data.region})
    elif data.latitude is not None and data.longitude is not None and not data.errors:
        region = nearest_community(data.latitude, data.longitude)
        if region is None:
            data.refuse("latitude", _("This point is outside the regions Linli serves here."))
    elif data.latitude is None and data.longitude is None:
        data.refuse("region", _("Say where you start from: a region or a point."))
    if data.errors or region is None:
        raise ValidationFailed(fields=data.errors)
    return kind, terms, region


def _organization_id(actor: User, kind: str) -> Any:
    """Provider staff deliver for their organization: its other staff may cover them."""
    if kind != ResponderKind.PROVIDER_STAFF:
        return None
    return (
        RoleAssignment.objects.filter(
            user=actor, role=Role.PROVIDER_STAFF, organization__isnull=False
        )
        .values_list("organization_id", flat=True)
        .first()
    )


def _apply(responder: Responder, actor: User, data: ProfileInput) -> Responder:
    kind, terms, region = _checked(actor, data)
    responder.kind = kind
    responder.name = data.name.strip() or actor.display_name
    responder.organization_id = _organization_id(actor, kind)
    responder.region = region
    responder.latitude, responder.longitude = data.latitude, data.longitude
    responder.availability = sorted(
        data.availability, key=lambda s: (s["day"], s["start"], s["end"])
    )
    responder.radius_km = data.radius_km
    responder.max_open_tasks = data.max_open_tasks
    responder.status = data.status
    responder.save()
    responder.skills.set(terms)
    return responder


@transaction.atomic
def responder_profile_create(*, actor: User, data: ProfileInput) -> Responder:
    """Open the caller's own responder profile (one per account)."""
    if Responder.objects.select_for_update().filter(user=actor).exists():
        raise Conflict(_("You already have a responder profile: change it instead."))
    return _apply(Responder(user=actor), actor, data)


@transaction.atomic
def responder_profile_update(*, actor: User, data: ProfileInput) -> Responder:
    """Replace the caller's own profile with `data` (what it holds stays assigned)."""
    responder = Responder.objects.select_for_update().filter(user=actor).first()
    if responder is None:
        raise NotFound(_("You have no responder profile yet: open one first."))
    return _apply(responder, actor, data)


def responders_kept_by(user: Any) -> QuerySet[Responder]:
    """Responders whose home region lies in the keeper's communities, with their load."""
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return (
        Responder.objects.filter(keeper.q("region__code"))
        .select_related("region")
        .prefetch_related("skills")
        .annotate(
            open_tasks=Count("service_requests", filter=Q(service_requests__state__in=HELD_STATES))
        )
        # Meta.ordering does not apply to a grouped query: pages need an order.
        .order_by("name", "id")
    )
