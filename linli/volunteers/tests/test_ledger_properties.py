"""Any sequence of time-bank operations keeps the books.

Hypothesis draws sequences of credits (some over the cap, some with no pool to take the
overflow), moves between people, redemption-like moves (a person's hours held, then
spent or returned), donations, grants from the pool, group hours sent out the wrong way,
and reversals of earlier bookings, with amounts that include zero and negative hours.
A small model of the rules predicts each outcome; after every operation the balances
are exactly the model's (a refused operation leaves the books untouched), and after
each sequence every balance but the issuing account's is at or above zero, the
movements sum to zero, and `books_check()` finds nothing.

Each sequence runs in a savepoint that is rolled back, so every one starts from empty
books; on PostgreSQL the deferred completeness check is run before the rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import ValidationFailed
from linli.volunteers.books import books_check
from linli.volunteers.choices import AccountKind, TransferKind
from linli.volunteers.ledger import (
    community_pool,
    earned_hours,
    hours,
    organization_account,
    person_account,
    system_account,
    timebank_credit,
    timebank_donate,
    timebank_reverse,
    timebank_transfer,
)
from linli.volunteers.models import Account, Movement, Transfer

pytestmark = pytest.mark.django_db

CAP = Decimal("20.00")
PEOPLE = 3
ZERO = Decimal("0.00")

# Whole hours from -1 to 15 (so balances often land right on the cap), or quarter
# hours up to 15; zero and below must be refused.
amounts = st.one_of(
    st.integers(min_value=-1, max_value=15).map(hours),
    st.integers(min_value=1, max_value=60).map(lambda q: hours(Decimal(q) / 4)),
)
person = st.integers(min_value=0, max_value=PEOPLE - 1)
earner = st.integers(min_value=0, max_value=PEOPLE)  # the last one is the organization
pick = st.integers(min_value=0, max_value=1000)  # an earlier booking, modulo how many

credits = st.tuples(st.just("credit"), earner, amounts, st.booleans())
# Credits drawn three times as often as anything else: hours to move around.
operations = st.lists(
    st.one_of(
        credits,
        credits,
        credits,
        st.tuples(st.just("move"), person, person, amounts),
        st.tuples(st.just("hold"), person, amounts),
        st.tuples(st.just("settle"), pick),
        st.tuples(st.just("release"), pick),
        st.tuples(st.just("donate"), earner, st.integers(0, PEOPLE), amounts),
        st.tuples(st.just("grant"), person, amounts),
        st.tuples(st.just("group_out"), person, amounts),
        st.tuples(st.just("reverse"), pick),
    ),
    min_size=5,
    max_size=40,
)
# Every sequence starts with hours to move around: each person and the group earn some.
OPENING = [("credit", who, Decimal("12.00"), True) for who in range(PEOPLE + 1)]


class Refused(Exception):
    """The model's prediction: the ledger refuses this operation."""


@dataclass
class Booked:
    kind: str
    legs: dict[int, Decimal]
    earned_by: int | None = None
    reversed: bool = False


@dataclass
class Model:
    """The ledger's rules, written out plainly, over account primary keys."""

    issuance: int
    held: int
    spent: int
    pool: int
    organization: int
    people: list[int]
    balances: dict[int, Decimal] = field(default_factory=dict)
    booked: list[Booked] = field(default_factory=list)
    holds: list[tuple[int, Decimal]] = field(default_factory=list)  # open: person, hours

    def balance(self, pk: int) -> Decimal:
        return self.balances.get(pk, ZERO)

    def transfer(self, kind: str, legs: list[tuple[int, Decimal]]) -> dict[int, Decimal]:
        merged: dict[int, Decimal] = {}
        for pk, amount in legs:
            merged[pk] = merged.get(pk, ZERO) + amount
        merged = {pk: amount for pk, amount in merged.items() if amount != 0}
        if len(merged) < 2 or sum(merged.values()) != 0:
            raise Refused
        for pk, amount in merged.items():
            if pk == self.issuance or amount > 0:
                continue
            if pk == self.organization and kind not in (
                TransferKind.DONATION,
                TransferKind.REVERSAL,
            ):
                raise Refused
            if self.balance(pk) + amount < 0:
                raise Refused
        return merged

    def book(self, kind: str, merged: dict[int, Decimal], earned_by: int | None = None) -> None:
        for pk, amount in merged.items():
            self.balances[pk] = self.balance(pk) + amount
        self.booked.append(Booked(kind, merged, earned_by))

    def credit(self, pk: int, amount: Decimal, with_pool: bool) -> dict[int, Decimal]:
        if amount <= 0:
            raise Refused
        kept = amount
        if pk != self.organization:
            kept = min(amount, max(CAP - self.balance(pk), ZERO))
        legs = [(self.issuance, -amount), (pk, kept)]
        if amount > kept:
            if not with_pool:
                raise Refused
            legs.append((self.pool, amount - kept))
        return self.transfer(TransferKind.ACTIVITY_HOURS, legs)

    def donate(self, source: int, target: int, amount: Decimal) -> dict[int, Decimal]:
        if target not in (*self.people, self.pool) or amount <= 0:
            raise Refused
        if target in self.people and self.balance(target) + amount > CAP:
            raise Refused
        return self.transfer(TransferKind.DONATION, [(source, -amount), (target, amount)])


@pytest.fixture
def ledger(settings, community, organization):
    settings.LINLI_TIMEBANK_CAP_HOURS = int(CAP)
    users = [UserFactory.create() for _ in range(PEOPLE)]
    accounts = [person_account(user) for user in users]
    group = organization_account(organization)
    pool = community_pool(community)
    system = {kind: system_account(kind) for kind in AccountKind if kind in _SYSTEM}
    return {
        "people": accounts,
        "users": users,
        "organization": group,
        "pool": pool,
        "community": community,
        **system,
    }


_SYSTEM = (AccountKind.ISSUANCE, AccountKind.HELD, AccountKind.SPENT)


def _state() -> tuple[int, int, dict[int, Decimal]]:
    return (
        Transfer.objects.count(),
        Movement.objects.count(),
        dict(Account.objects.values_list("pk", "balance")),
    )


def run(op: tuple, ledger: dict, model: Model, transfers: list[Transfer]) -> None:
    """Carry out one operation, as the model predicts it, and check the outcome."""
    people: list[Account] = ledger["people"]
    group: Account = ledger["organization"]
    pool: Account = ledger["pool"]
    held: Account = ledger[AccountKind.HELD]
    spent: Account = ledger[AccountKind.SPENT]
    by_index = [*people, group]
    name = op[0]
    action = None
    earned_by = None
    kind: str = TransferKind.DONATION

    if name == "credit":
        _name, who, amount, with_pool = op
        account = by_index[who]
        kind = TransferKind.ACTIVITY_HOURS
        earned_by = account.user_id

        def action() -> Transfer:
            return timebank_credit(
                account=account,
                amount=amount,
                kind=TransferKind.ACTIVITY_HOURS,
                actor=None,
                community=ledger["community"] if with_pool else None,
            )

        def predict() -> dict[int, Decimal]:
            return model.credit(account.pk, amount, with_pool)

    elif name in ("move", "hold", "group_out"):
        if name == "move":
            _name, source_index, target_index, amount = op
            source, target = people[source_index], people[target_index]
        elif name == "hold":
            _name, source_index, amount = op
            source, target, kind = people[source_index], held, TransferKind.REDEMPTION_HOLD
        else:
            _name, target_index, amount = op
            source, target, kind = group, people[target_index], TransferKind.GRANT
        if name == "hold" and amount < 0:
            return  # that would be a release, with no hold to release

        def action() -> Transfer:
            return timebank_transfer(
                kind=kind, legs=[(source, -amount), (target, amount)], actor=None
            )

        def predict() -> dict[int, Decimal]:
            return model.transfer(kind, [(source.pk, -amount), (target.pk, amount)])

    elif name in ("settle", "release"):
        if not model.holds:
            return
        index = op[1] % len(model.holds)
        holder, amount = model.holds[index]
        target = spent if name == "settle" else Account.objects.get(pk=holder)
        kind = (
            TransferKind.REDEMPTION_SETTLE if name == "settle" else TransferKind.REDEMPTION_RELEASE
        )

        def action() -> Transfer:
            return timebank_transfer(
                kind=kind, legs=[(held, -amount), (target, amount)], actor=None
            )

        def predict() -> dict[int, Decimal]:
            return model.transfer(kind, [(held.pk, -amount), (target.pk, amount)])

    elif name in ("donate", "grant"):
        if name == "donate":
            _name, source_index, target_index, amount = op
            source = by_index[source_index]
            target = [*people, pool][target_index]
        else:
            _name, target_index, amount = op
            source, target = pool, people[target_index]
        kind = TransferKind.GRANT if source == pool else TransferKind.DONATION

        def action() -> Transfer:
            return timebank_donate(source=source, target=target, amount=amount, actor=None)

        def predict() -> dict[int, Decimal]:
            return model.donate(source.pk, target.pk, amount)

    else:  # reverse
        if not transfers:
            return
        index = op[1] % len(transfers)
        original, booked = transfers[index], model.booked[index]
        kind = TransferKind.REVERSAL
        earned_by = booked.earned_by

        def action() -> Transfer:
            return timebank_reverse(transfer=original, actor=None, memo="冲正")

        def predict() -> dict[int, Decimal]:
            if booked.kind == TransferKind.REVERSAL or booked.reversed:
                raise Refused
            return model.transfer(kind, [(pk, -amount) for pk, amount in booked.legs.items()])

    before = _state()
    try:
        expected = predict()
    except Refused:
        event(f"{name}: refused")
        with pytest.raises(ValidationFailed):
            action()
        assert _state() == before, op
        return
    transfer = action()
    event(f"{name}: booked")
    assert {m.account_id: m.amount for m in transfer.movements.all()} == expected, op
    assert transfer.kind == kind, op
    model.book(kind, expected, earned_by)
    transfers.append(transfer)
    if name == "hold":
        model.holds.append((source.pk, expected[held.pk]))
    elif name in ("settle", "release"):
        model.holds.pop(index)
    elif name == "reverse":
        model.booked[index].reversed = True
    balances = _state()[2]
    assert {pk: b for pk, b in balances.items() if b != 0} == {
        pk: b for pk, b in model.balances.items() if b != 0
    }, op


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_any_sequence_of_operations_keeps_the_books(ledger, ops):
    people: list[Account] = ledger["people"]
    model = Model(
        issuance=ledger[AccountKind.ISSUANCE].pk,
        held=ledger[AccountKind.HELD].pk,
        spent=ledger[AccountKind.SPENT].pk,
        pool=ledger["pool"].pk,
        organization=ledger["organization"].pk,
        people=[account.pk for account in people],
    )
    with transaction.atomic():
        transfers: list[Transfer] = []
        for op in [*OPENING, *ops]:
            run(op, ledger, model, transfers)

        balances = list(Account.objects.values_list("kind", "balance"))
        assert all(b >= 0 for kind, b in balances if kind != AccountKind.ISSUANCE), balances
        assert hours(Movement.objects.aggregate(total=Sum("amount"))["total"] or 0) == 0
        assert books_check() == []
        # Hours earned: what was issued for each person, less what reversals took back.
        for account, user in zip(people, ledger["users"], strict=True):
            expected = sum(
                (
                    -booked.legs.get(model.issuance, ZERO)
                    for booked in model.booked
                    if booked.earned_by == account.user_id
                ),
                ZERO,
            )
            assert earned_hours(user) == expected
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # every transfer complete, as at commit
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        transaction.set_rollback(True)
