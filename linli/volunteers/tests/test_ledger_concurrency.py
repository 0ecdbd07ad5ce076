"""Concurrent bookings cannot break the books (PostgreSQL: real row locks).

Threads with their own database connections, committed transactions (no test
transaction around them), held at a barrier until all are ready so that they hit the
same accounts at the same moment.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import translation

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import ValidationFailed
from linli.volunteers.books import books_check
from linli.volunteers.choices import AccountKind, TransferKind
from linli.volunteers.ledger import (
    community_pool,
    person_account,
    system_account,
    timebank_credit,
    timebank_donate,
    timebank_reverse,
    timebank_transfer,
)
from linli.volunteers.models import Account, Movement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every writer: there is no race to lose; row locks are "
        "PostgreSQL's",
    ),
]

THREADS = 16
D = Decimal


def race(jobs: list[Any], work: Callable[[Any], Any], threads: int = THREADS) -> list[Any]:
    """Run `work` on every job from `threads` threads at once, each on its own database
    connection (closed when it ends), all released together by a barrier. A refusal is
    returned as its fields; anything else raised fails the test."""
    todo: queue.Queue[tuple[int, Any]] = queue.Queue()
    for item in enumerate(jobs):
        todo.put(item)
    results: list[Any] = [None] * len(jobs)
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker() -> None:
        # A new thread starts in the deployment's language; the refusals compared
        # below are the English ones, as in the rest of the tests.
        translation.activate("en")
        try:
            start.wait(timeout=30)
            while True:
                try:
                    index, job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = work(job)
                except ValidationFailed as refusal:
                    results[index] = refusal.fields
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            translation.deactivate()
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not failures, failures
    return results


def running_balances(account: Account) -> list[Decimal]:
    """The account's balance after each of its movements, in booking order (a transfer
    takes its ids while it holds the account's lock, so id order is commit order)."""
    total = D("0")
    out = []
    for amount in (
        Movement.objects.filter(account=account).order_by("id").values_list("amount", flat=True)
    ):
        total += amount
        out.append(total)
    return out


@pytest.fixture
def community(db):
    from linli.regions.tests.factories import region_chain

    return region_chain("990102001001", lat=30.0, lon=120.0)


def funded_person(hours: str, community: Any) -> Account:
    account = person_account(UserFactory.create())
    timebank_credit(
        account=account,
        amount=D(hours),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=community,
    )
    return account


def test_40_simultaneous_withdrawals_of_1_hour_from_10_hours_10_succeed(community):
    account = funded_person("10", community)
    held = system_account(AccountKind.HELD)

    def withdraw(_job: int) -> str:
        timebank_transfer(
            kind=TransferKind.REDEMPTION_HOLD,
            legs=[(account, D("-1")), (held, D("1"))],
            actor=None,
        )
        return "booked"

    results = race(list(range(40)), withdraw)

    assert Counter("booked" if r == "booked" else "refused" for r in results) == {
        "booked": 10,
        "refused": 30,
    }
    assert all(
        r == "booked"
        or (list(r) == ["hours"] and "holds 0.00 hours; 1.00 are needed" in r["hours"][0])
        for r in results
    ), results
    account.refresh_from_db()
    held.refresh_from_db()
    assert (account.balance, held.balance) == (D("0.00"), D("10.00"))
    assert min(running_balances(account)) == D("0.00")
    assert books_check() == []


def test_crossed_transfers_between_a_few_accounts_never_deadlock(community):
    accounts = [funded_person("20", community) for _ in range(4)]
    rng = random.Random(6)
    jobs = []
    for number in range(160):
        source, target = rng.sample(accounts, 2)
        jobs.append((number, source, target, D(rng.choice(["0.5", "1", "2.5", "4"]))))

    def move(job: tuple[int, Account, Account, Decimal]) -> str:
        number, source, target, amount = job
        # Half as plain transfers, half as donations (which also check the cap).
        if number % 2:
            timebank_donate(source=source, target=target, amount=amount, actor=None)
        else:
            timebank_transfer(
                kind=TransferKind.DONATION, legs=[(source, -amount), (target, amount)], actor=None
            )
        return "booked"

    results = race(jobs, move)

    refusals = [r for r in results if r != "booked"]
    assert all(list(r) == ["hours"] for r in refusals), refusals
    total = sum(
        Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("balance", flat=True)
    )
    assert total == D("80.00")
    for account in accounts:
        assert min(running_balances(account)) >= 0
    assert books_check() == []


def test_two_reversals_of_one_booking_at_once_one_wins(community):
    account = funded_person("5", community)
    credit = account.movements.get().transfer

    def reverse(memo: str) -> str:
        timebank_reverse(transfer=credit, actor=None, memo=memo)
        return "booked"

    results = race(["记错了", "重复登记"], reverse, threads=2)

    assert sorted(map(str, results)) == sorted(
        ["booked", str({"transfer": ["This booking is already reversed."]})]
    )
    account.refresh_from_db()
    assert account.balance == D("0.00")
    assert books_check() == []


def test_simultaneous_credits_fill_a_balance_to_its_cap_and_the_rest_to_the_pool(
    community, settings
):
    settings.LINLI_TIMEBANK_CAP_HOURS = 10
    account = person_account(UserFactory.create())
    issuance = system_account(AccountKind.ISSUANCE)
    pool = community_pool(community)

    def credit(_job: int) -> str:
        timebank_credit(
            account=account,
            amount=D("1.5"),
            kind=TransferKind.REQUEST_HOURS,
            actor=None,
            community=community,
        )
        return "booked"

    results = race(list(range(32)), credit)

    assert results == ["booked"] * 32
    for each in (account, pool, issuance):
        each.refresh_from_db()
    assert (account.balance, pool.balance, issuance.balance) == (
        D("10.00"),
        D("38.00"),
        D("-48.00"),
    )
    assert max(running_balances(account)) == D("10.00")
    assert books_check() == []


def test_credits_and_reversals_of_one_person_at_once_never_deadlock(community):
    # A credit and a reversal lock the same accounts (the issuing account, the person,
    # the pool): both must take them in one order, or each waits for the other. As in
    # any deployment, the issuing account is older than the person's.
    system_account(AccountKind.ISSUANCE)
    account = person_account(UserFactory.create())
    earlier = [
        timebank_credit(
            account=account,
            amount=D("2"),
            kind=TransferKind.ACTIVITY_HOURS,
            actor=None,
            community=community,
        )
        for _ in range(16)
    ]
    jobs: list[tuple[str, Any]] = [("reverse", transfer) for transfer in earlier]
    jobs += [("credit", None)] * 16
    random.Random(6).shuffle(jobs)

    def book(job: tuple[str, Any]) -> str:
        action, transfer = job
        if action == "reverse":
            timebank_reverse(transfer=transfer, actor=None, memo="记错了")
        else:
            timebank_credit(
                account=account,
                amount=D("1"),
                kind=TransferKind.ACTIVITY_HOURS,
                actor=None,
                community=community,
            )
        return "booked"

    results = race(jobs, book)

    assert results == ["booked"] * 32
    account.refresh_from_db()
    assert account.balance == D("16.00")
    assert books_check() == []
