"""Writes to service requests: create (with triage and service levels), move through the
one transition map, assign. Check, then act, then record, then notify after commit."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import is_staff_of, user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.geo import great_circle_km
from linli.core.pii import validate_mobile
from linli.directory.models import TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.directory.validators import validate_point
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.models import Resident
from linli.residents.services import acts_for

from .choices import (
    HELD_STATES,
    TRANSITIONS,
    Action,
    Channel,
    Outcome,
    ResponderStatus,
    State,
    Urgency,
)
from .events import request_event
from .models import (
    Assignment,
    DispatchRound,
    Open311Partner,
    Responder,
    ServiceLevel,
    ServiceRequest,
)
from .triage import priority_breakdown

# (accept within, complete within) in minutes, when no ServiceLevel row says otherwise.
DEFAULT_SERVICE_LEVELS = {
    Urgency.URGENT: (30, 4 * 60),
    Urgency.HIGH: (2 * 60, 24 * 60),
    Urgency.NORMAL: (24 * 60, 3 * 24 * 60),
    Urgency.LOW: (3 * 24 * 60, 7 * 24 * 60),
}
# A point farther than this from every community's centre is outside the deployment.
NEAREST_COMMUNITY_KM = 10.0


def reopen_days() -> int:
    return int(getattr(settings, "LINLI_REQUEST_REOPEN_DAYS", 7))


@dataclass
class RequestInput:
    """What a resident, a worker, a partner or the API asks for."""

    service: str  # a term code of the services taxonomy
    person: Resident | None = None
    description: str = ""
    urgency: str = Urgency.NORMAL
    community: Region | None = None
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    contact_name: str = ""
    contact_phone: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)


def service_term(code: str) -> TaxonomyTerm | None:
    return TaxonomyTerm.objects.filter(
        taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY), code=code
    ).first()


def nearest_community(lat: float, lon: float) -> Region | None:
    """The community or village whose centre is nearest, if one is near enough."""
    best: tuple[float, Region] | None = None
    for region in Region.objects.filter(
        level=RegionLevel.COMMUNITY, lat__isnull=False, lon__isnull=False
    ).only("code", "lat", "lon", "name"):
        km = great_circle_km(lat, lon, region.lat or 0.0, region.lon or 0.0)
        if best is None or km < best[0]:
            best = (km, region)
    if best is None or best[0] > NEAREST_COMMUNITY_KM:
        return None
    return best[1]


def channel_for(actor: User | None, person: Resident | None, partner: Any) -> str:
    if partner is not None:
        return Channel.OPEN311
    if actor is not None and person is not None and person.user_id == actor.pk:
        return Channel.RESIDENT
    if actor is not None and person is not None and acts_for(actor, person):
        return Channel.PROXY
    return Channel.PHONE


def _check_who(actor: User | None, data: RequestInput, partner: Open311Partner | None) -> None:
    """A resident asks for themselves, a proxy for whom they act, a community worker for
    anyone of their communities; a partner for a point in its region."""
    person = data.person
    if partner is not None or actor is None:
        return
    if person is None:
        if user_scope(actor, roles=RESIDENT_KEEPER_ROLES).is_empty:
            data.refuse("person", _("Say who needs the service."))
        return
    if acts_for(actor, person):
        return
    if not user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(person.community_id):
        raise PermissionDenied(_("You may ask for yourself and for those you act for."))


def _check_where(data: RequestInput, partner: Open311Partner | None) -> None:
    if data.latitude is not None or data.longitude is not None:
        for name, reasons in validate_point(data.latitude, data.longitude).items():
            for reason in reasons:
                data.refuse(name, reason)
        if data.errors:
            return
    if data.community is None and data.person is not None:
        data.community = data.person.community
        data.address = data.address or data.person.address
    if data.community is None and data.latitude is not None and data.longitude is not None:
        data.community = nearest_community(data.latitude, data.longitude)
        if data.community is None:
            data.refuse("latitude", _("This point is outside the regions Linli serves here."))
            return
    if data.community is None:
        data.refuse("address", _("Say where: a resident, a community or a point."))
        return
    if data.community.level != RegionLevel.COMMUNITY:
        data.refuse("community", _("A request is for a community or a village."))
    if partner is not None and not data.community.code.startswith(partner.region.prefix):
        data.refuse("latitude", _("This point is outside your region."))


def _check_fields(data: RequestInput, now: dt.datetime) -> TaxonomyTerm | None:
    term = service_term(data.service)
    if term is None:
        data.refuse("service", _("Unknown service code %(code)s.") % {"code": data.service})
    if data.urgency not in Urgency.values:
        data.refuse("urgency", _("Unknown urgency."))
    if data.window_end is not None and data.window_end <= now:
        data.refuse("window_end", _("This time is already past."))
    if data.window_start and data.window_end and data.window_end <= data.window_start:
        data.refuse("window_end", _("The end comes after the start."))
    if len(data.description) > 2000:
        data.refuse("description", _("At most 2,000 characters."))
    if data.contact_phone:
        try:
            data.contact_phone = validate_mobile(data.contact_phone)
        except ValidationError as error:
            data.refuse("contact_phone", error.messages[0])
    return term


def service_level_minutes(term: TaxonomyTerm, urgency: str) -> tuple[int, int]:
    """(accept within, complete within): the service's own level, its parent's, the
    deployment's default for the urgency, or the built-in default."""
    chain: list[TaxonomyTerm | None] = []
    node: TaxonomyTerm | None = term
    while node is not None:
        chain.append(node)
        node = node.parent
    chain.append(None)
    levels = {
        level.service_id: level
        for level in ServiceLevel.objects.filter(urgency=urgency).select_related("service")
    }
    for candidate in chain:
        level = levels.get(candidate.pk if candidate else None)
        if level is not None:
            return level.respond_minutes, level.resolve_minutes
    return DEFAULT_SERVICE_LEVELS[Urgency(urgency)]


def new_public_id(now: dt.datetime) -> str:
    """R-yymmdd-XXXXX: the day it came, and five letters nobody can guess or confuse."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(secrets.choice(alphabet) for _ in range(5))
    return f"R{now:%y%m%d}-{tail}"


def _save_new(request: ServiceRequest, now: dt.datetime) -> None:
    """Insert a new request. Five random letters a day collide by the birthday bound
    after a few thousand requests (seen under load): on a duplicate number, draw again."""
    for _attempt in range(8):
        try:
            with transaction.atomic():
                request.save()
            return
        except IntegrityError:
            if not ServiceRequest.objects.filter(public_id=request.public_id).exists():
                raise
            request.public_id = new_public_id(now)
    raise IntegrityError("no free request number after 8 draws")


def _triage(request: ServiceRequest, now: dt.datetime) -> None:
    parts = priority_breakdown(
        urgency=request.urgency, person=request.person, created_at=request.created_at, now=now
    )
    request.priority = sum(parts.values())
    request.priority_breakdown = parts
    respond, resolve = service_level_minutes(request.service, request.urgency)
    start = max(now, request.window_start or now)
    request.respond_by = now + dt.timedelta(minutes=respond)
    request.due_at = max(start + dt.timedelta(minutes=resolve), request.window_end or now)


@transaction.atomic
def request_create(
    *,
    actor: User | None,
    data: RequestInput,
    partner: Open311Partner | None = None,
    actor_label: str = "",
) -> ServiceRequest:
    """A need becomes a request: checked, stored, triaged and given its due times."""
    now = timezone.now()
    _check_who(actor, data, partner)
    term = _check_fields(data, now)
    _check_where(data, partner)
    if data.errors or term is None or data.community is None:
        raise ValidationFailed(fields=data.errors)
    request = ServiceRequest(
        public_id=new_public_id(now),
        person=data.person,
        requested_by=actor,
        partner=partner,
        channel=channel_for(actor, data.person, partner),
        service=term,
        description=data.description.strip(),
        community=data.community,
        address=data.address.strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone,
        window_start=data.window_start,
        window_end=data.window_end,
        urgency=data.urgency,
    )
    _save_new(request, now)
    label = actor_label or (f"open311:{partner.name}" if partner else "")
    request_event(request, Action.SUBMIT, "", State.SUBMITTED, actor=actor, actor_label=label)
    _triage(request, now)
    request.state = State.TRIAGED
    request.save()
    request_event(
        request,
        Action.TRIAGE,
        State.SUBMITTED,
        State.TRIAGED,
        actor_label="system",
        data={"priority": request.priority, "breakdown": request.priority_breakdown},
    )
    return request


# --- who may move a request ---------------------------------------------------------


def is_keeper(actor: User | None, request: ServiceRequest) -> bool:
    """Community workers of the request's community (and administrators); None is the system."""
    if actor is None:
        return True
    return user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(request.community_id)


def is_responder(actor: User | None, responder: Responder | None) -> bool:
    """The responder person, or provider staff of the responding organization."""
    if actor is None or responder is None:
        return False
    if responder.user_id == actor.pk:
        return True
    return is_staff_of(actor, responder.organization_id)


def is_served(actor: User | None, request: ServiceRequest) -> bool:
    """The person served, their proxy, or whoever asked on their behalf."""
    if actor is None:
        return False
    if request.requested_by_id == actor.pk:
        return True
    return request.person is not None and acts_for(actor, request.person)


def may_act(actor: User | None, request: ServiceRequest, action: str) -> bool:
    if action in (Action.ACCEPT, Action.DECLINE, Action.START, Action.COMPLETE):
        return is_responder(actor, request.responder)
    if action in (Action.CONFIRM, Action.CANCEL, Action.REOPEN):
        return is_served(actor, request) or is_keeper(actor, request)
    # triage, assign, close, reject: the community's workers, or the system.
    return is_keeper(actor, request)


# Actions that must say why.
NEEDS_REASON = (Action.DECLINE, Action.REJECT, Action.REOPEN)


def _end_assignment(request: ServiceRequest, reason: str, now: dt.datetime) -> None:
    Assignment.objects.filter(request=request, ended_at__isnull=True).update(
        ended_at=now, end_reason=reason
    )


def _locked(request: ServiceRequest) -> ServiceRequest:
    return (
        # Lock the request row only: PostgreSQL refuses FOR UPDATE on the nullable side
        # of the outer joins that select_related makes for responder and person.
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("responder", "person", "service")
        .get(pk=request.pk)
    )


@transaction.atomic
def request_transition(
    *,
    actor: User | None,
    request: ServiceRequest,
    action: str,
    reason: str = "",
    outcome: str = "",
    actor_label: str = "",
) -> ServiceRequest:
    """Move a request by one action of the transition map; write its event.

    Assigning has its own service (`request_assign`): it needs a responder."""
    request = _locked(request)
    source = request.state
    target = TRANSITIONS.get((source, action))
    if action == Action.ASSIGN:
        raise ValidationFailed(fields={"action": [_("Assign through the dispatch board.")]})
    if target is None:
        raise Conflict(
            _("A request that is %(state)s cannot be %(action)s.")
            % {
                "state": State(source).label,
                "action": Action(action).label if action in Action.values else action,
            }
        )
    if not may_act(actor, request, action):
        raise PermissionDenied(_("You may not do this to this request."))
    errors: dict[str, list[str]] = {}
    if action in NEEDS_REASON and len(reason.strip()) < 2:
        errors["reason"] = [_("Say why.")]
    if action == Action.CLOSE and outcome not in Outcome.values:
        errors["outcome"] = [_("Say whether the need was resolved.")]
    now = timezone.now()
    completed = request.completed_at
    if action == Action.REOPEN and completed and now - completed > dt.timedelta(days=reopen_days()):
        errors["reason"] = [
            _("A request can be reopened within %(days)s days of completion.")
            % {"days": reopen_days()}
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    data: dict[str, Any] = {}
    if action in (Action.DECLINE, Action.CANCEL, Action.REJECT, Action.REOPEN):
        if request.responder_id:
            data["responder"] = request.responder_id
        _end_assignment(request, str(action), now)
        request.responder = None
    if action == Action.COMPLETE:
        request.completed_at = now
        _end_assignment(request, "completed", now)
    if action == Action.CLOSE:
        request.outcome, request.closed_at = outcome, now
    if action == Action.REOPEN:
        request.completed_at = request.closed_at = None
        request.outcome = ""
        _triage(request, now)
    request.state = target
    request.save()
    request_event(
        request,
        Action(action),
        source,
        target,
        actor=actor,
        actor_label=actor_label or ("" if actor else "system"),
        reason=reason.strip(),
        data=data,
    )
    # The time bank pays whoever delivered, or returns held hours (lazy: it imports us).
    from linli.volunteers import redemptions

    unconfirmed = (source, target) == (State.COMPLETED, State.CLOSED)
    if target == State.CONFIRMED:
        redemptions.request_confirmed(request=request, actor=actor)
    elif target in (State.CANCELLED, State.REJECTED) or unconfirmed:
        redemptions.request_ended(request=request, actor=actor)
    return request


def open_tasks(responder: Responder) -> int:
    return ServiceRequest.objects.filter(responder=responder, state__in=HELD_STATES).count()


def declined_by(request: ServiceRequest) -> set[int]:
    """Responders who declined this request: dispatch passes them over."""
    return set(
        Assignment.objects.filter(request=request, end_reason=Action.DECLINE).values_list(
            "responder_id", flat=True
        )
    )


@transaction.atomic
def request_assign(
    *,
    actor: User | None,
    request: ServiceRequest,
    responder: Responder,
    reassign: bool = False,
    round: DispatchRound | None = None,
    explanation: dict[str, Any] | None = None,
) -> ServiceRequest:
    """Give a request to a responder. Two people assigning one request at the same moment:
    the row lock orders them, the first wins, the second gets a Conflict (unless it
    asked to reassign, knowing the request was taken)."""
    request = _locked(request)
    if not is_keeper(actor, request):
        raise PermissionDenied(_("Only the community's workers assign its requests."))
    if request.state == State.ASSIGNED and not reassign:
        raise Conflict(
            _("Already assigned to %(name)s: reload the board.")
            % {"name": request.responder.name if request.responder else "?"}
        )
    if (request.state, Action.ASSIGN) not in TRANSITIONS:
        raise Conflict(
            _("A request that is %(state)s cannot be assigned.")
            % {"state": State(request.state).label}
        )
    responder = Responder.objects.select_for_update().get(pk=responder.pk)
    errors: dict[str, list[str]] = {}
    if responder.status != ResponderStatus.ACTIVE:
        errors["responder"] = [_("This responder is paused.")]
    elif responder.pk == request.responder_id:
        errors["responder"] = [_("This responder already holds the request.")]
    elif open_tasks(responder) >= responder.max_open_tasks:
        errors["responder"] = [_("This responder has as many open tasks as they take.")]
    elif responder.pk in declined_by(request):
        errors["responder"] = [_("This responder declined this request.")]
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    source = request.state
    _end_assignment(request, "reassigned", now)
    try:
        with transaction.atomic():
            Assignment.objects.create(
                request=request,
                responder=responder,
                round=round,
                assigned_by=actor,
                explanation=explanation or {},
            )
    except IntegrityError as error:  # another live assignment slipped in: never two
        raise Conflict() from error
    request.responder = responder
    request.state = State.ASSIGNED
    request.save()
    request_event(
        request,
        Action.ASSIGN,
        source,
        State.ASSIGNED,
        actor=actor,
        actor_label="" if actor else "dispatch",
        data={"responder": responder.pk, "explanation": explanation or {}},
    )
    return request
