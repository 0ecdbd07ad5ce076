"""Spending hours on a service, and paying for requests when they are confirmed.

Redeeming is asking for a service: `redemption_create` checks that the hours are for
the volunteer, their spouse or a direct relative aged 60 or over (from the kinship
recorded in the residents register), asks for the service as a request, and holds the
hours, all in one transaction. When the request is confirmed (`request_confirmed`,
called by `requests.services.request_transition`), whoever delivered it is credited,
once per request, and the held hours are spent; when it ends without a confirmation
(`request_ended`) they are returned. Hours are never money: nothing here, or anywhere,
turns them into cash.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.notifications.services import notify_text
from linli.regions.models import Region
from linli.requests.choices import Action, Channel, ResponderKind, Urgency
from linli.requests.models import RequestEvent, Responder, ServiceRequest
from linli.requests.services import RequestInput, request_create
from linli.residents.choices import RelationKind
from linli.residents.models import Relation, Resident

from .access import keeps_community
from .choices import AccountKind, RedemptionStatus, TransferKind, VolunteerStatus
from .ledger import (
    community_pool,
    organization_account,
    person_account,
    system_account,
    timebank_credit,
    timebank_donate,
    timebank_transfer,
)
from .ledger import hours as to_hours
from .models import Account, Movement, Redemption, Transfer, Volunteer
from .people import own_resident

KIN = (
    RelationKind.SPOUSE,
    RelationKind.PARENT,
    RelationKind.CHILD,
    RelationKind.GRANDPARENT,
    RelationKind.GRANDCHILD,
)
# "P is R's parent" read the other way round: "R is P's child".
INVERSE = {
    RelationKind.SPOUSE: RelationKind.SPOUSE,
    RelationKind.PARENT: RelationKind.CHILD,
    RelationKind.CHILD: RelationKind.PARENT,
    RelationKind.GRANDPARENT: RelationKind.GRANDCHILD,
    RelationKind.GRANDCHILD: RelationKind.GRANDPARENT,
}
# Direct relatives (not a spouse) benefit from this age on.
RELATIVE_AGE = 60
QUARTER_HOURS = Decimal("0.25")
SELF = "self"


# --- who hours may be spent on ---------------------------------------------------------------


def kin_of(resident: Resident) -> dict[int, str]:
    """The resident's spouse and direct relatives, as recorded in either direction:
    {their record's id: what they are to `resident` (spouse, parent, child…)}."""
    found: dict[int, str] = {}
    rows = Relation.objects.filter(
        Q(resident=resident) | Q(person=resident), kind__in=KIN
    ).values_list("resident_id", "person_id", "kind")
    for resident_id, person_id, kind in rows:
        if resident_id == resident.pk:
            found.setdefault(person_id, kind)
        else:
            found.setdefault(resident_id, INVERSE[RelationKind(kind)])
    return found


def redemption_refusal(payer: Resident | None, beneficiary: Resident) -> str:
    """Why `payer`'s hours may not be spent on `beneficiary`, or "" when they may."""
    if payer is None:
        return _(
            "Your account is not linked to a record in the residents register: ask your "
            "community worker to link it, so your family can be recognised."
        )
    if beneficiary.anonymized_at is not None:
        return _("This person's record is anonymized.")
    if beneficiary.pk == payer.pk:
        return ""
    kind = kin_of(payer).get(beneficiary.pk)
    if kind is None:
        return _(
            "%(name)s is not recorded as your spouse, parent, child, grandparent or "
            "grandchild: hours are spent only on yourself, your spouse, or a direct "
            "relative aged 60 or over."
        ) % {"name": beneficiary.name}
    if kind == RelationKind.SPOUSE:
        return ""
    age = beneficiary.age()
    if age is None:
        return _(
            "The age of %(name)s is not recorded: hours are spent on a relative aged 60 or "
            "over. Ask your community worker to record the birth date."
        ) % {"name": beneficiary.name}
    if age < RELATIVE_AGE:
        return _("%(name)s is %(age)s: hours are spent on a relative only from the age of 60.") % {
            "name": beneficiary.name,
            "age": age,
        }
    return ""


def beneficiaries_of(user: User) -> list[tuple[Resident, str]]:
    """Whom the user may spend hours on, with what they are to the user: themselves
    first, then their spouse and relatives aged 60 or over."""
    me = own_resident(user)
    if me is None:
        return []
    kin = kin_of(me)
    people = Resident.objects.filter(pk__in=list(kin), anonymized_at__isnull=True).order_by(
        "name", "id"
    )
    allowed: list[tuple[Resident, str]] = [(me, SELF)]
    allowed += [(p, kin[p.pk]) for p in people if not redemption_refusal(me, p)]
    return allowed


# --- redeeming ---------------------------------------------------------------------------------


def hours_bounds() -> tuple[Decimal, Decimal]:
    return to_hours(settings.LINLI_REQUEST_HOURS_MIN), to_hours(settings.LINLI_REQUEST_HOURS_MAX)


@transaction.atomic
def redemption_create(
    *,
    actor: User,
    beneficiary: Resident,
    service: str,
    hours: Decimal | float | int | str,
    description: str = "",
    urgency: str = Urgency.NORMAL,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
) -> Redemption:
    """Spend the actor's hours on a service for themselves or a permitted relative: the
    service is asked for as a request and the hours are held until it is confirmed."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to spend your hours."))
    refusal = redemption_refusal(own_resident(actor), beneficiary)
    if refusal:
        raise ValidationFailed(fields={"beneficiary": [refusal]})
    try:
        amount = to_hours(hours)
    except ArithmeticError:
        raise ValidationFailed(fields={"hours": [_("Give a number of hours.")]}) from None
    low, high = hours_bounds()
    if not low <= amount <= high:
        raise ValidationFailed(
            fields={
                "hours": [
                    _("Between %(low)s and %(high)s hours for one service.")
                    % {"low": low, "high": high}
                ]
            }
        )
    account = Account.objects.select_for_update().get(pk=person_account(actor).pk)
    if account.balance < amount:
        raise ValidationFailed(
            fields={
                "hours": [
                    _("Your balance is %(balance)s hours; this service needs %(wanted)s.")
                    % {"balance": account.balance, "wanted": amount}
                ]
            }
        )
    # The volunteer is seldom their relative's proxy: the time bank asks on their behalf,
    # after its own kinship check, and the volunteer follows and confirms it.
    request = request_create(
        actor=None,
        data=RequestInput(
            service=service,
            person=beneficiary,
            description=description,
            urgency=urgency,
            window_start=window_start,
            window_end=window_end,
        ),
        actor_label="timebank",
    )
    request.requested_by = actor
    request.channel = Channel.RESIDENT if beneficiary.user_id == actor.pk else Channel.PROXY
    request.save(update_fields=["requested_by", "channel"])
    hold = timebank_transfer(
        kind=TransferKind.REDEMPTION_HOLD,
        legs=[(account, -amount), (system_account(AccountKind.HELD), amount)],
        actor=actor,
        memo=f"{request.public_id} {request.service.display_name}",
        request_id=request.pk,
    )
    return Redemption.objects.create(
        account=account,
        beneficiary=beneficiary,
        request=request,
        hours=amount,
        hold=hold,
        created_by=actor,
    )


def _locked_redemption(request: ServiceRequest) -> Redemption | None:
    return (
        Redemption.objects.select_for_update()
        .filter(request=request, status=RedemptionStatus.HELD)
        .first()
    )


def _settle(redemption: Redemption, actor: User | None, kind: str, target: Account) -> Redemption:
    transfer = timebank_transfer(
        kind=kind,
        legs=[(system_account(AccountKind.HELD), -redemption.hours), (target, redemption.hours)],
        actor=actor,
        memo=redemption.hold.memo,
        request_id=redemption.request_id,
    )
    redemption.settlement = transfer
    redemption.status = (
        RedemptionStatus.SETTLED
        if kind == TransferKind.REDEMPTION_SETTLE
        else RedemptionStatus.RELEASED
    )
    redemption.save(update_fields=["settlement", "status"])
    return redemption


# --- paying for delivered requests -------------------------------------------------------------


def delivered_hours(request: ServiceRequest) -> Decimal:
    """From the last start to the completion after it, rounded up to the quarter hour,
    within the deployment's bounds for one request."""
    low, high = hours_bounds()
    events = list(
        RequestEvent.objects.filter(
            request=request, action__in=(Action.START, Action.COMPLETE)
        ).order_by("at", "id")
    )
    completed = next((e for e in reversed(events) if e.action == Action.COMPLETE), None)
    if completed is None:
        return low
    started = next(
        (
            e
            for e in reversed(events)
            if e.action == Action.START and (e.at, e.pk) < (completed.at, completed.pk)
        ),
        None,
    )
    if started is None:
        return low
    seconds = max((completed.at - started.at).total_seconds(), 0.0)
    quarters = math.ceil(seconds / 900)
    return min(max(to_hours(QUARTER_HOURS * quarters), low), high)


def _live_credit(request: ServiceRequest) -> bool:
    """Whether the request's hours were credited and not corrected since."""
    return (
        Transfer.objects.filter(request=request, kind=TransferKind.REQUEST_HOURS)
        .filter(reversed_by__isnull=True)
        .exists()
    )


def _volunteer_of(responder: Responder) -> Volunteer | None:
    linked = Volunteer.objects.filter(responder=responder).select_related("community").first()
    if linked is not None or responder.user_id is None:
        return linked
    return (
        Volunteer.objects.filter(user_id=responder.user_id, status=VolunteerStatus.VERIFIED)
        .select_related("community")
        .first()
    )


CREDITED = (
    gettext_noop("Hours credited"),
    gettext_noop("%(hours)s hours were credited for request %(number)s. Thank you."),
)
RETURNED = (
    gettext_noop("Hours returned"),
    gettext_noop(
        "Request %(number)s ended without being delivered: %(hours)s hours are back in your "
        "balance."
    ),
)


def _announce(user: User, words: tuple[str, str], request: ServiceRequest, amount: Any) -> None:
    def send() -> None:
        notify_text(
            user=user,
            title=words[0],
            body=words[1],
            values={"hours": str(amount), "number": request.public_id},
            link=reverse("volunteers:timebank"),
            request=request,
        )

    transaction.on_commit(send)


def _credit(request: ServiceRequest, actor: User | None, amount: Decimal) -> Transfer | None:
    """Issue the hours to whoever delivered: a volunteer's own account, an organization's
    account (group hours). Staff and social workers are paid: no hours."""
    responder = request.responder
    memo = f"{request.public_id} {request.service.display_name}"
    if responder is None:
        return None
    if responder.kind == ResponderKind.VOLUNTEER and responder.user is not None:
        volunteer = _volunteer_of(responder)
        if volunteer is None:
            return None
        transfer = timebank_credit(
            account=person_account(responder.user),
            amount=amount,
            kind=TransferKind.REQUEST_HOURS,
            actor=actor,
            community=volunteer.community,
            memo=memo,
            request_id=request.pk,
            earned_by=responder.user,
        )
        _announce(responder.user, CREDITED, request, amount)
        return transfer
    if responder.kind == ResponderKind.ORGANIZATION and responder.organization is not None:
        return timebank_credit(
            account=organization_account(responder.organization),
            amount=amount,
            kind=TransferKind.REQUEST_HOURS,
            actor=actor,
            community=request.community,
            memo=memo,
            request_id=request.pk,
        )
    return None


def request_confirmed(*, request: ServiceRequest, actor: User | None) -> Transfer | None:
    """The person served (or the community's worker) confirmed the request: credit whoever
    delivered it, once per request, and spend the hours a redemption held for it.
    Runs inside `request_transition`'s transaction, after the state is saved."""
    redemption = _locked_redemption(request)
    amount = redemption.hours if redemption is not None else delivered_hours(request)
    credit = None if _live_credit(request) else _credit(request, actor, amount)
    if redemption is not None:
        _settle(
            redemption, actor, TransferKind.REDEMPTION_SETTLE, system_account(AccountKind.SPENT)
        )
    return credit


def request_ended(*, request: ServiceRequest, actor: User | None) -> Redemption | None:
    """The request was cancelled, turned down or closed unconfirmed: held hours go back."""
    redemption = _locked_redemption(request)
    if redemption is None:
        return None
    _settle(redemption, actor, TransferKind.REDEMPTION_RELEASE, redemption.account)
    if redemption.account.user is not None:
        _announce(redemption.account.user, RETURNED, request, redemption.hours)
    return redemption


# --- the community pool -----------------------------------------------------------------------


@transaction.atomic
def pool_grant(
    *, actor: User, community: Region, beneficiary: Resident, amount: Any, memo: str
) -> Transfer:
    """A community's worker gives pool hours to a resident in difficulty, who then spends
    them on services like anyone's own hours."""
    if actor is None or not keeps_community(actor, community.code):
        raise PermissionDenied(_("Only the community's workers give hours from its pool."))
    errors: dict[str, list[str]] = {}
    if beneficiary.community_id != community.code or beneficiary.anonymized_at is not None:
        errors["beneficiary"] = [_("Choose a resident of this community.")]
    elif beneficiary.user_id is None:
        errors["beneficiary"] = [
            _("%(name)s has no account to receive hours: open one for them first.")
            % {"name": beneficiary.name}
        ]
    if len(memo.strip()) < 2:
        errors["memo"] = [_("Say why.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return timebank_donate(
        source=community_pool(community),
        target=person_account(beneficiary.user),  # type: ignore[arg-type]  # checked above
        amount=amount,
        actor=actor,
        memo=memo.strip(),
    )


# --- reads ---------------------------------------------------------------------------------


def movements_of(account: Account) -> QuerySet[Movement]:
    """An account's movements, newest first, with what each was for."""
    return (
        Movement.objects.filter(account=account)
        .select_related(
            "transfer", "transfer__request", "transfer__request__service", "transfer__activity"
        )
        .order_by("-id")
    )


def redemptions_of(user: User) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(created_by=user)
        .select_related("beneficiary", "request", "request__service")
        .order_by("-created_at", "-id")
    )
