"""The time bank: a double-entry, append-only ledger of volunteer hours.

Every booking goes through `timebank_transfer`, which locks the accounts it touches in
primary-key order, refuses (with the reason) a balance that would go below zero, and
writes one `Transfer` with movements summing to zero. The database keeps the balances
and enforces the same rules again (migration 0002), so a bug here cannot break the
books, only be refused.

Where hours come from and go: earned hours are issued (the issuing account is the only
one that goes negative: minus everything ever earned); hours redeemed for a service
are held when it is asked for, then spent when it is confirmed, or returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import ValidationFailed
from linli.directory.models import Organization
from linli.regions.models import Region

from .choices import SYSTEM_ACCOUNT_KINDS, AccountKind, TransferKind
from .models import Account, Movement, Transfer

CENT = Decimal("0.01")
Leg = tuple[Account, Decimal]


def hours(value: Decimal | float | int | str) -> Decimal:
    """Hours as the ledger keeps them: to the hundredth."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def cap_hours() -> Decimal:
    return hours(settings.LINLI_TIMEBANK_CAP_HOURS)


def _get_or_create(**owner: object) -> Account:
    """One account per owner, even when two requests open it at once."""
    try:
        return Account.objects.get(**owner)
    except Account.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Account.objects.create(**owner)
    except IntegrityError:
        return Account.objects.get(**owner)


def person_account(user: User) -> Account:
    return _get_or_create(kind=AccountKind.PERSON, user=user)


def organization_account(organization: Organization) -> Account:
    return _get_or_create(kind=AccountKind.ORGANIZATION, organization=organization)


def community_pool(community: Region) -> Account:
    return _get_or_create(kind=AccountKind.COMMUNITY_POOL, community=community)


def system_account(kind: AccountKind) -> Account:
    if kind not in SYSTEM_ACCOUNT_KINDS:
        raise ValueError(f"not a system account: {kind}")
    return _get_or_create(kind=kind)


def _lock(accounts: Sequence[Account]) -> dict[int, Account]:
    """Lock every account of a transfer, always in primary-key order, so two transfers
    over the same accounts wait for each other instead of deadlocking."""
    ids = sorted({account.pk for account in accounts})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


@transaction.atomic
def timebank_transfer(
    *,
    kind: str,
    legs: Sequence[Leg],
    actor: User | None,
    memo: str = "",
    activity_id: int | None = None,
    request_id: int | None = None,
    reverses: Transfer | None = None,
    earned_by: User | None = None,
) -> Transfer:
    """Book one transfer: `legs` are (account, hours) pairs summing to zero.

    Legs on the same account are merged; zero legs are dropped. Group hours (an
    organization's) only leave as donations."""
    merged: dict[int, Decimal] = {}
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        merged[account.pk] = merged.get(account.pk, Decimal(0)) + hours(amount)
        accounts[account.pk] = account
    merged = {pk: amount for pk, amount in merged.items() if amount != 0}
    if len(merged) < 2:
        raise ValidationFailed(fields={"hours": [_("A transfer moves hours between accounts.")]})
    if sum(merged.values()) != 0:
        raise ValidationFailed(fields={"hours": [_("The movements must sum to zero.")]})
    if kind not in TransferKind.values:
        raise ValidationFailed(fields={"kind": [_("Unknown kind of transfer.")]})
    locked = _lock(list(accounts.values()))
    errors: list[str] = []
    for pk, amount in merged.items():
        account = locked[pk]
        if account.kind == AccountKind.ISSUANCE or amount > 0:
            continue
        if account.kind == AccountKind.ORGANIZATION and kind not in (
            TransferKind.DONATION,
            TransferKind.REVERSAL,
        ):
            errors.append(_("Group hours can only be donated."))
        if account.balance + amount < 0:
            errors.append(
                _("%(account)s holds %(balance)s hours; %(wanted)s are needed.")
                % {
                    "account": account,
                    "balance": account.balance,
                    "wanted": -amount,
                }
            )
    if errors:
        raise ValidationFailed(fields={"hours": errors})
    transfer = Transfer.objects.create(
        kind=kind,
        legs=len(merged),
        memo=memo[:255],
        created_by=actor,
        activity_id=activity_id,
        request_id=request_id,
        reverses=reverses,
        earned_by=earned_by,
    )
    Movement.objects.bulk_create(
        Movement(transfer=transfer, account_id=pk, amount=amount)
        for pk, amount in sorted(merged.items())
    )
    return transfer


def timebank_credit(
    *,
    account: Account,
    amount: Decimal,
    kind: str,
    actor: User | None,
    community: Region | None,
    memo: str = "",
    activity_id: int | None = None,
    request_id: int | None = None,
    earned_by: User | None = None,
) -> Transfer:
    """Issue earned hours to a person (or an organization). A person's balance stops at
    the cap: what is above it goes to their community's pool, as a donation would."""
    amount = hours(amount)
    if amount <= 0:
        raise ValidationFailed(fields={"hours": [_("Hours must be more than zero.")]})
    issuance = system_account(AccountKind.ISSUANCE)
    pool = community_pool(community) if community is not None else None
    legs: list[Leg] = [(issuance, -amount)]
    with transaction.atomic():
        # Every account the credit may touch is locked at once, in primary-key order as
        # `timebank_transfer` locks them: locking the account first and the issuing
        # account or the pool later could deadlock with a reversal or a grant.
        current = _lock([issuance, account, *([pool] if pool else [])])[account.pk]
        room = max(cap_hours() - current.balance, Decimal(0))
        kept = min(amount, room) if current.kind == AccountKind.PERSON else amount
        if kept > 0:
            legs.append((current, kept))
        if amount - kept > 0:
            if pool is None:
                raise ValidationFailed(
                    fields={"hours": [_("The balance is at its cap and there is no pool.")]}
                )
            legs.append((pool, amount - kept))
        return timebank_transfer(
            kind=kind,
            legs=legs,
            actor=actor,
            memo=memo,
            activity_id=activity_id,
            request_id=request_id,
            earned_by=earned_by or current.user,
        )


def timebank_donate(
    *, source: Account, target: Account, amount: Decimal, actor: User | None, memo: str = ""
) -> Transfer:
    """Give hours to a community pool or to a person (never to an organization or a
    system account)."""
    if (
        target.kind not in (AccountKind.PERSON, AccountKind.COMMUNITY_POOL)
        or source.kind in SYSTEM_ACCOUNT_KINDS
    ):
        raise ValidationFailed(fields={"target": [_("Hours can be given to a pool or a person.")]})
    amount = hours(amount)
    if amount <= 0:
        raise ValidationFailed(fields={"hours": [_("Hours must be more than zero.")]})
    kind = (
        TransferKind.GRANT if source.kind == AccountKind.COMMUNITY_POOL else TransferKind.DONATION
    )
    if target.kind == AccountKind.PERSON:
        with transaction.atomic():
            # Both accounts at once, in primary-key order (see timebank_credit).
            current = _lock([source, target])[target.pk]
            if current.balance + amount > cap_hours():
                raise ValidationFailed(
                    fields={"hours": [_("This would take the balance above its cap.")]}
                )
            return timebank_transfer(
                kind=kind, legs=[(source, -amount), (target, amount)], actor=actor, memo=memo
            )
    return timebank_transfer(
        kind=kind, legs=[(source, -amount), (target, amount)], actor=actor, memo=memo
    )


@transaction.atomic
def timebank_reverse(*, transfer: Transfer, actor: User | None, memo: str) -> Transfer:
    """Correct a booking by its mirror image; the original stays as it was."""
    if transfer.kind == TransferKind.REVERSAL:
        raise ValidationFailed(
            fields={"transfer": [_("A correction is corrected by a new booking, not reversed.")]}
        )
    # Two reversals of one booking at once: the second waits on this lock and then sees
    # the first, rather than being refused for the hours the first already took back.
    # (A no-key lock: rows that merely refer to the booking need not wait.)
    list(Transfer.objects.select_for_update(no_key=True).filter(pk=transfer.pk).values_list("pk"))
    if Transfer.objects.filter(reverses=transfer).exists():
        raise ValidationFailed(fields={"transfer": [_("This booking is already reversed.")]})
    if len(memo.strip()) < 2:
        raise ValidationFailed(fields={"memo": [_("Say why.")]})
    legs = [(movement.account, -movement.amount) for movement in transfer.movements.all()]
    try:
        return timebank_transfer(
            kind=TransferKind.REVERSAL,
            legs=legs,
            actor=actor,
            memo=memo.strip(),
            activity_id=transfer.activity_id,
            request_id=transfer.request_id,
            reverses=transfer,
            earned_by=transfer.earned_by,
        )
    except IntegrityError as error:  # two reversals at once: the one-to-one refuses one
        raise ValidationFailed(
            fields={"transfer": [_("This booking is already reversed.")]}
        ) from error


def earned_hours(user: User) -> Decimal:
    """Hours a person earned by service, corrections included, whether they stayed in
    their account or went to the pool above the cap: what stars and records count."""
    issued = Movement.objects.filter(
        account__kind=AccountKind.ISSUANCE, transfer__earned_by=user
    ).aggregate(total=Sum("amount"))["total"]
    return -hours(issued or 0)
