"""Volunteers, social workers and teams: joining, verification, membership, and reads.

A resident registers as a volunteer (skills, weekly availability, a radius, their
community, optionally an organization that then verifies them, teams). Whoever
`access.may_verify` verifies, rejects or suspends them. Verifying gives the volunteer a
`requests.Responder`, so dispatch offers them tasks near home, and the volunteer role,
so they keep that profile themselves; suspending pauses the responder and takes the
role back. Social workers register their national qualification and certificate number
and are verified the same way, as responders of their own kind (paid professionals:
they earn no time-bank hours). Check, then act, then record, then notify after commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment, User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import staff_organizations, user_scope
from linli.accounts.services import role_grant
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.directory.models import Organization, TaxonomyTerm
from linli.directory.validators import validate_point
from linli.notifications.services import notify_text
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.requests.choices import ResponderKind, ResponderStatus
from linli.requests.models import Responder
from linli.requests.responders import MAX_RADIUS_KM, MIN_RADIUS_KM, slot_errors
from linli.requests.services import service_term
from linli.residents.models import Resident

from .access import keeps_community, may_verify, staff_of
from .choices import Qualification, VolunteerStatus
from .models import SocialWorker, Team, Volunteer

# A decision and the states it may be taken from; rejecting and suspending say why.
VERIFY, REJECT, SUSPEND = "verify", "reject", "suspend"
DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    VERIFY: ((VolunteerStatus.PENDING, VolunteerStatus.SUSPENDED), VolunteerStatus.VERIFIED),
    REJECT: ((VolunteerStatus.PENDING,), VolunteerStatus.REJECTED),
    SUSPEND: ((VolunteerStatus.VERIFIED,), VolunteerStatus.SUSPENDED),
}
# A national vocational qualification certificate number as printed: an optional
# letter prefix of up to four letters, then 8 to 20 digits (spaces and dashes dropped).
CERTIFICATE = re.compile(r"^[A-Z]{0,4}\d{8,20}$")
# Where a social worker's responder starts: the social welfare services (they change
# them in their own responder profile afterwards).
SOCIAL_WORK_FIELD = "social_welfare"


def decision_choices() -> list[tuple[str, str]]:
    return [(VERIFY, _("Verify")), (REJECT, _("Reject")), (SUSPEND, _("Suspend"))]


def _announce(user: User, words: tuple[str, str], reason: str, link: str) -> None:
    """An inbox message, written once the change commits; `words` are msgids, read in
    each reader's language."""
    title, body = words

    def send() -> None:
        notify_text(user=user, title=title, body=body, values={"reason": reason}, link=link)

    transaction.on_commit(send)


def own_resident(user: User) -> Resident | None:
    """The user's own record in the residents register, if they have one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Resident.objects.filter(user=user, anonymized_at__isnull=True)
        .select_related("community")
        .first()
    )


def _terms(codes: list[str], refuse: Any) -> list[TaxonomyTerm]:
    terms: list[TaxonomyTerm] = []
    for code in dict.fromkeys(codes):
        term = service_term(code)
        if term is None:
            refuse("skills", _("Unknown service code %(code)s.") % {"code": code})
        else:
            terms.append(term)
    return terms


def _community(given: Region | None, resident: Resident | None, refuse: Any) -> Region | None:
    """The resident's own community; someone not in the register names theirs."""
    community = resident.community if resident is not None else given
    if community is None:
        refuse("community", _("Say which community or village you live in."))
    elif community.level != RegionLevel.COMMUNITY:
        refuse("community", _("Choose a community or a village."))
    return community


# --- volunteers --------------------------------------------------------------------------


@dataclass
class VolunteerInput:
    """What the join form or the API gives."""

    skills: list[str]
    availability: list[Any] = field(default_factory=list)
    radius_km: Decimal = Decimal("2.0")
    community: Region | None = None
    organization: Organization | None = None
    teams: list[Team] = field(default_factory=list)
    name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)


def _team_open_to(team: Team, community: Region | None) -> bool:
    """A community's team takes that community's volunteers; an organization's team,
    anyone who gives time with it."""
    if team.organization_id is not None:
        return True
    return community is not None and team.community_id == community.code


def _check_volunteer(
    data: VolunteerInput, resident: Resident | None
) -> tuple[list[TaxonomyTerm], Region]:
    if not data.skills:
        data.refuse("skills", _("Say which services you can help with."))
    terms = _terms(data.skills, data.refuse)
    for reason in slot_errors(data.availability):
        data.refuse("availability", reason)
    if not MIN_RADIUS_KM <= data.radius_km <= MAX_RADIUS_KM:
        data.refuse(
            "radius_km",
            _("Between %(low)s and %(high)s km.") % {"low": MIN_RADIUS_KM, "high": MAX_RADIUS_KM},
        )
    for name, reasons in validate_point(data.latitude, data.longitude).items():
        for reason in reasons:
            data.refuse(name, reason)
    if len(data.name.strip()) > 100:
        data.refuse("name", _("At most 100 characters."))
    community = _community(data.community, resident, data.refuse)
    for team in data.teams:
        if not _team_open_to(team, community):
            data.refuse(
                "teams",
                _("The team %(team)s belongs to another community.") % {"team": team.name},
            )
    if data.errors or community is None:
        raise ValidationFailed(fields=data.errors)
    return terms, community


@transaction.atomic
def volunteer_register(*, actor: User, data: VolunteerInput) -> Volunteer:
    """A resident offers their time: recorded as waiting for verification. Someone whose
    registration was turned down may register again."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to register as a volunteer."))
    existing = Volunteer.objects.select_for_update().filter(user=actor).first()
    if existing is not None and existing.status != VolunteerStatus.REJECTED:
        raise Conflict(_("You are already registered as a volunteer."))
    resident = own_resident(actor)
    terms, community = _check_volunteer(data, resident)
    volunteer = existing or Volunteer(user=actor)
    volunteer.resident = resident
    volunteer.name = data.name.strip() or (resident.name if resident else actor.display_name)
    volunteer.community = community
    volunteer.organization = data.organization
    volunteer.availability = sorted(
        data.availability, key=lambda s: (s["day"], s["start"], s["end"])
    )
    volunteer.latitude, volunteer.longitude = data.latitude, data.longitude
    volunteer.radius_km = data.radius_km
    volunteer.status = VolunteerStatus.PENDING
    volunteer.status_reason = ""
    volunteer.verified_by, volunteer.verified_at = None, None
    try:
        with transaction.atomic():
            volunteer.save()
    except IntegrityError as error:  # the same person registering twice at once
        raise Conflict(_("You are already registered as a volunteer.")) from error
    volunteer.skills.set(terms)
    volunteer.teams.set(data.teams)
    return volunteer


def _place(volunteer_or_worker: Volunteer | SocialWorker) -> tuple[float | None, float | None]:
    """Where a responder starts from: their own point, else their community's centre."""
    lat = getattr(volunteer_or_worker, "latitude", None)
    lon = getattr(volunteer_or_worker, "longitude", None)
    if lat is not None and lon is not None:
        return lat, lon
    community = volunteer_or_worker.community
    return community.lat, community.lon


def _responder_for(user: User, kind: str) -> Responder | None:
    """The user's responder to (re)use, or None when they already deliver as someone
    else (one responder per account: a provider's staff member who also volunteers keeps
    delivering as staff)."""
    responder = Responder.objects.select_for_update().filter(user=user).first()
    if responder is None:
        return Responder(user=user, kind=kind)
    return responder if responder.kind == kind else None


def _volunteer_responder(volunteer: Volunteer) -> Responder | None:
    responder = _responder_for(volunteer.user, ResponderKind.VOLUNTEER)
    if responder is None:
        return None
    responder.name = volunteer.name
    responder.organization = None
    responder.region = volunteer.community
    responder.availability = volunteer.availability
    responder.latitude, responder.longitude = _place(volunteer)
    responder.radius_km = volunteer.radius_km
    responder.status = ResponderStatus.ACTIVE
    responder.save()
    responder.skills.set(volunteer.skills.all())
    return responder


def _locked_volunteer(volunteer: Volunteer) -> Volunteer:
    return (
        Volunteer.objects.select_for_update(of=("self",))
        .select_related("community", "user", "responder")
        .get(pk=volunteer.pk)
    )


def _check_decision(current: str, decision: str, reason: str) -> str:
    if decision not in DECISIONS:
        raise ValidationFailed(fields={"decision": [_("Verify, reject or suspend.")]})
    sources, target = DECISIONS[decision]
    if current not in sources:
        raise Conflict(
            _("This registration is %(status)s: it cannot be changed that way.")
            % {"status": VolunteerStatus(current).label}
        )
    if decision != VERIFY and len(reason.strip()) < 2:
        raise ValidationFailed(fields={"reason": [_("Say why.")]})
    if len(reason) > 255:
        raise ValidationFailed(fields={"reason": [_("At most 255 characters.")]})
    return target


def _revoke_role(user: User, role: str, community: Region) -> None:
    RoleAssignment.objects.filter(user=user, role=role, region=community).delete()


# What the volunteer reads (marked here, worded in the deployment's language when sent).
MESSAGES = {
    VolunteerStatus.VERIFIED: (
        gettext_noop("You are a verified volunteer"),
        gettext_noop(
            "Your volunteer registration is verified: tasks near you will be offered to you."
        ),
    ),
    VolunteerStatus.REJECTED: (
        gettext_noop("Your volunteer registration was not verified"),
        gettext_noop("Your volunteer registration was not verified: %(reason)s"),
    ),
    VolunteerStatus.SUSPENDED: (
        gettext_noop("Your volunteering is suspended"),
        gettext_noop(
            "Your volunteering is suspended and no tasks will be offered to you: %(reason)s"
        ),
    ),
}


@transaction.atomic
def volunteer_decide(
    *, actor: User | None, volunteer: Volunteer, decision: str, reason: str = ""
) -> Volunteer:
    """Verify, reject or suspend a volunteer (see DECISIONS for which from where)."""
    volunteer = _locked_volunteer(volunteer)
    if not may_verify(actor, volunteer):
        raise PermissionDenied(
            _("The volunteer's organization or their community's workers verify them.")
        )
    target = _check_decision(volunteer.status, decision, reason)
    if target == VolunteerStatus.VERIFIED:
        volunteer.responder = _volunteer_responder(volunteer)
        role_grant(
            user=volunteer.user, role=Role.VOLUNTEER, region=volunteer.community, granted_by=actor
        )
        volunteer.verified_by, volunteer.verified_at = actor, timezone.now()
    elif target == VolunteerStatus.SUSPENDED:
        if volunteer.responder is not None:
            volunteer.responder.status = ResponderStatus.PAUSED
            volunteer.responder.save(update_fields=["status"])
        # Without the role they cannot switch their responder back on themselves.
        _revoke_role(volunteer.user, Role.VOLUNTEER, volunteer.community)
    volunteer.status = target
    volunteer.status_reason = reason.strip()
    volunteer.save()
    page = "volunteers:timebank" if target == VolunteerStatus.VERIFIED else "volunteers:join"
    _announce(
        volunteer.user, MESSAGES[VolunteerStatus(target)], volunteer.status_reason, reverse(page)
    )
    return volunteer


def volunteer_verify(*, actor: User | None, volunteer: Volunteer) -> Volunteer:
    return volunteer_decide(actor=actor, volunteer=volunteer, decision=VERIFY)


def volunteer_reject(*, actor: User | None, volunteer: Volunteer, reason: str) -> Volunteer:
    return volunteer_decide(actor=actor, volunteer=volunteer, decision=REJECT, reason=reason)


def volunteer_suspend(*, actor: User | None, volunteer: Volunteer, reason: str) -> Volunteer:
    return volunteer_decide(actor=actor, volunteer=volunteer, decision=SUSPEND, reason=reason)


# --- teams ---------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    actor: User,
    name: str,
    community: Region | None = None,
    organization: Organization | None = None,
) -> Team:
    """A community's workers found a community team; a provider's staff, their
    organization's team."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not 2 <= len(name) <= 200:
        errors["name"] = [_("Give the team a name (2 to 200 characters).")]
    if (community is None) == (organization is None):
        errors["community"] = [_("A team belongs to a community or to an organization.")]
    elif community is not None and community.level != RegionLevel.COMMUNITY:
        errors["community"] = [_("Choose a community or a village.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if community is not None and not (
        actor is not None
        and not user_scope(actor, roles=RESIDENT_KEEPER_ROLES).is_empty
        and keeps_community(actor, community.code)
    ):
        raise PermissionDenied(_("Only the community's workers found its teams."))
    if organization is not None and not staff_of(actor, organization.pk):
        raise PermissionDenied(_("Only the organization's staff found its teams."))
    return Team.objects.create(name=name, community=community, organization=organization)


def _own_volunteer(actor: User) -> Volunteer:
    volunteer = Volunteer.objects.select_for_update().filter(user=actor).first()
    if volunteer is None:
        raise PermissionDenied(_("Register as a volunteer first."))
    return volunteer


@transaction.atomic
def team_join(*, actor: User, team: Team) -> Volunteer:
    volunteer = _own_volunteer(actor)
    if not _team_open_to(team, volunteer.community):
        raise ValidationFailed(
            fields={
                "team": [_("The team %(team)s belongs to another community.") % {"team": team.name}]
            }
        )
    if volunteer.teams.filter(pk=team.pk).exists():
        raise Conflict(_("You are already in this team."))
    volunteer.teams.add(team)
    return volunteer


@transaction.atomic
def team_leave(*, actor: User, team: Team) -> Volunteer:
    volunteer = _own_volunteer(actor)
    if not volunteer.teams.filter(pk=team.pk).exists():
        raise NotFound(_("You are not in this team."))
    volunteer.teams.remove(team)
    return volunteer


# --- social workers --------------------------------------------------------------------------


@dataclass
class SocialWorkerInput:
    qualification: str
    certificate_number: str
    certified_on: Any = None  # a date
    community: Region | None = None
    organization: Organization | None = None
    name: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)


def normalized_certificate(number: str) -> str:
    return re.sub(r"[\s\-]", "", number).upper()


def _certificate_taken(number: str, existing: SocialWorker | None) -> bool:
    taken = SocialWorker.objects.filter(certificate_number=number)
    if existing is not None:
        taken = taken.exclude(pk=existing.pk)
    return taken.exists()


def _check_social_worker(
    data: SocialWorkerInput, resident: Resident | None, existing: SocialWorker | None
) -> tuple[str, Region]:
    if data.qualification not in Qualification.values:
        data.refuse(
            "qualification",
            _("Assistant social worker, social worker or senior social worker."),
        )
    number = normalized_certificate(data.certificate_number)
    if not number:
        data.refuse("certificate_number", _("Give the number printed on your certificate."))
    elif not CERTIFICATE.match(number):
        data.refuse(
            "certificate_number",
            _(
                "A certificate number is 8 to 20 digits, possibly after up to four letters, "
                "as printed on the certificate."
            ),
        )
    elif _certificate_taken(number, existing):
        data.refuse(
            "certificate_number", _("This certificate number is already registered to someone.")
        )
    if data.certified_on is not None and data.certified_on > timezone.localdate():
        data.refuse("certified_on", _("This date is still to come."))
    if len(data.name.strip()) > 100:
        data.refuse("name", _("At most 100 characters."))
    community = _community(data.community, resident, data.refuse)
    if data.errors or community is None:
        raise ValidationFailed(fields=data.errors)
    return number, community


@transaction.atomic
def social_worker_register(*, actor: User, data: SocialWorkerInput) -> SocialWorker:
    """A social worker records their qualification and certificate: waiting for
    verification, like a volunteer."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to register as a social worker."))
    existing = SocialWorker.objects.select_for_update().filter(user=actor).first()
    if existing is not None and existing.status != VolunteerStatus.REJECTED:
        raise Conflict(_("You are already registered as a social worker."))
    resident = own_resident(actor)
    number, community = _check_social_worker(data, resident, existing)
    worker = existing or SocialWorker(user=actor)
    worker.name = data.name.strip() or (resident.name if resident else actor.display_name)
    worker.community = community
    worker.organization = data.organization
    worker.qualification = data.qualification
    worker.certificate_number = number
    worker.certified_on = data.certified_on
    worker.status = VolunteerStatus.PENDING
    worker.verified_by, worker.verified_at = None, None
    try:
        with transaction.atomic():
            worker.save()
    except IntegrityError as error:  # the same number registered at the same moment
        raise ValidationFailed(
            fields={
                "certificate_number": [
                    _("This certificate number is already registered to someone.")
                ]
            }
        ) from error
    return worker


def may_verify_social_worker(actor: User | None, worker: SocialWorker) -> bool:
    """As for volunteers: their organization's staff, else their community's workers."""
    if worker.organization_id is not None and staff_of(actor, worker.organization_id):
        return True
    return keeps_community(actor, worker.community_id)


def _social_worker_responder(worker: SocialWorker) -> Responder | None:
    responder = _responder_for(worker.user, ResponderKind.SOCIAL_WORKER)
    if responder is None:
        return None
    created = responder.pk is None
    responder.name = worker.name
    responder.region = worker.community
    responder.status = ResponderStatus.ACTIVE
    if created:
        responder.latitude, responder.longitude = _place(worker)
        responder.radius_km = Decimal("3.0")
    responder.save()
    if created:
        responder.skills.set(_social_terms())
    return responder


def _social_terms() -> list[TaxonomyTerm]:
    field_term = service_term(SOCIAL_WORK_FIELD)
    if field_term is None:
        return []
    return [field_term, *field_term.children.all()]


@transaction.atomic
def social_worker_decide(
    *, actor: User | None, worker: SocialWorker, decision: str, reason: str = ""
) -> SocialWorker:
    """Verify (which gives them a responder and the social worker role), reject or
    suspend (which pauses the responder and takes the role back)."""
    worker = (
        SocialWorker.objects.select_for_update(of=("self",))
        .select_related("community", "user")
        .get(pk=worker.pk)
    )
    if not may_verify_social_worker(actor, worker):
        raise PermissionDenied(
            _("The social worker's organization or their community's workers verify them.")
        )
    target = _check_decision(worker.status, decision, reason)
    if target == VolunteerStatus.VERIFIED:
        _social_worker_responder(worker)
        role_grant(
            user=worker.user, role=Role.SOCIAL_WORKER, region=worker.community, granted_by=actor
        )
        worker.verified_by, worker.verified_at = actor, timezone.now()
    elif target == VolunteerStatus.SUSPENDED:
        Responder.objects.filter(user=worker.user, kind=ResponderKind.SOCIAL_WORKER).update(
            status=ResponderStatus.PAUSED
        )
        _revoke_role(worker.user, Role.SOCIAL_WORKER, worker.community)
    worker.status = target
    worker.save()
    _announce(
        worker.user,
        SOCIAL_WORKER_MESSAGES[VolunteerStatus(target)],
        reason.strip(),
        reverse("requests:tasks"),
    )
    return worker


SOCIAL_WORKER_MESSAGES = {
    VolunteerStatus.VERIFIED: (
        gettext_noop("Your social worker registration is verified"),
        gettext_noop(
            "Your qualification is verified: requests in your area will be offered to you."
        ),
    ),
    VolunteerStatus.REJECTED: (
        gettext_noop("Your social worker registration was not verified"),
        gettext_noop("Your social worker registration was not verified: %(reason)s"),
    ),
    VolunteerStatus.SUSPENDED: (
        gettext_noop("Your social worker registration is suspended"),
        gettext_noop("Your social worker registration is suspended: %(reason)s"),
    ),
}


# --- reads ---------------------------------------------------------------------------------


def may_see_volunteers(user: Any) -> bool:
    """Community workers and provider staff keep lists of volunteers."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        not user_scope(user, roles=RESIDENT_KEEPER_ROLES).is_empty
        or staff_organizations(user).exists()
    )


def volunteers_visible_to(user: Any) -> QuerySet[Volunteer]:
    """The volunteers of the user's communities, and those their organization verifies."""
    if not getattr(user, "is_authenticated", False):
        return Volunteer.objects.none()
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return Volunteer.objects.filter(
        keeper.q("community__code") | Q(organization__in=staff_organizations(user))
    )


def volunteer_list(*, user: Any, status: str = "", community: str = "") -> QuerySet[Volunteer]:
    found = volunteers_visible_to(user).select_related("community", "organization")
    if status:
        found = found.filter(status=status)
    if community:
        found = found.filter(community__code__startswith=community)
    return found.order_by("community_id", "name", "id")


def social_workers_visible_to(user: Any) -> QuerySet[SocialWorker]:
    if not getattr(user, "is_authenticated", False):
        return SocialWorker.objects.none()
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return SocialWorker.objects.filter(
        keeper.q("community__code") | Q(organization__in=staff_organizations(user))
    ).select_related("community", "organization")


def teams_kept_by(user: Any) -> QuerySet[Team]:
    """Teams the user founds and looks after: their communities' and organizations'."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    keeper = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    community_teams = keeper.q("community__code") & Q(community__isnull=False)
    return Team.objects.filter(community_teams | Q(organization__in=staff_organizations(user)))


def teams_open_to(community: Region | None) -> QuerySet[Team]:
    """Teams a volunteer of `community` may join: their community's and organizations'."""
    q = Q(organization__isnull=False)
    if community is not None:
        q |= Q(community=community)
    return Team.objects.filter(q).select_related("community", "organization")


def organizations_near(community: Region | None) -> QuerySet[Organization]:
    """Organizations a volunteer of `community` might give time with: those of their
    street, or of a region above it."""
    if community is None:
        return Organization.objects.none()
    above: list[str] = []
    node: Region | None = community
    while node is not None:
        above.append(node.code)
        node = node.parent
    street = community.parent.prefix if community.parent else community.prefix
    return Organization.objects.filter(
        Q(region__code__startswith=street) | Q(region__code__in=above)
    ).order_by("name")
