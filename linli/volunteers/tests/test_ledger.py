"""The time bank's ledger: services with exact outcomes, refusals that leave the books
untouched, the database's own rules against raw writes, the books check and its command.

Runs on SQLite and on PostgreSQL; the few rules only PostgreSQL keeps are marked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from django.db import IntegrityError, connection, transaction

from linli.core.errors import ValidationFailed
from linli.core.registry import discover, linli_group
from linli.volunteers.books import books_check, books_read
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

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL keeps this rule"
)
D = Decimal


def balance(account: Account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def refused(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, list[str]]:
    return error.value.fields


@pytest.fixture
def cap(settings):
    settings.LINLI_TIMEBANK_CAP_HOURS = 10
    return D("10.00")


@pytest.fixture
def alice(volunteer_user):
    return person_account(volunteer_user)


@pytest.fixture
def bob(other_user):
    return person_account(other_user)


@pytest.fixture
def funded(alice, volunteer_user, worker, community):
    """Alice has earned 8 hours at an activity."""
    return timebank_credit(
        account=alice,
        amount=D("8"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=worker,
        community=community,
        memo="敬老院陪伴",
    )


# --- Services: what they book ----------------------------------------------------------


def test_hours_are_kept_to_the_hundredth():
    assert hours("1.005") == D("1.01")
    assert hours(2) == D("2.00")
    assert hours(0.1 + 0.2) == D("0.30")


def test_a_credit_issues_hours_to_the_person(funded, alice, volunteer_user, worker):
    issuance = system_account(AccountKind.ISSUANCE)
    assert (funded.kind, funded.legs, funded.created_by, funded.earned_by) == (
        TransferKind.ACTIVITY_HOURS,
        2,
        worker,
        volunteer_user,
    )
    assert sorted((m.account_id, m.amount) for m in funded.movements.all()) == sorted(
        [(issuance.pk, D("-8.00")), (alice.pk, D("8.00"))]
    )
    assert (balance(alice), balance(issuance)) == (D("8.00"), D("-8.00"))
    assert earned_hours(volunteer_user) == D("8.00")
    assert books_check() == []


def test_a_credit_above_the_cap_overflows_to_the_community_pool(
    cap, funded, alice, volunteer_user, worker, community
):
    overflow = timebank_credit(
        account=alice,
        amount=D("5.5"),
        kind=TransferKind.REQUEST_HOURS,
        actor=worker,
        community=community,
    )
    pool = community_pool(community)
    issuance = system_account(AccountKind.ISSUANCE)
    assert overflow.legs == 3
    assert sorted((m.account_id, m.amount) for m in overflow.movements.all()) == sorted(
        [(issuance.pk, D("-5.50")), (alice.pk, D("2.00")), (pool.pk, D("3.50"))]
    )
    assert (balance(alice), balance(pool), balance(issuance)) == (
        D("10.00"),
        D("3.50"),
        D("-13.50"),
    )
    # At the cap, everything goes to the pool; the person still earned it.
    timebank_credit(
        account=alice, amount=D("1"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    assert (balance(alice), balance(pool)) == (D("10.00"), D("4.50"))
    assert earned_hours(volunteer_user) == D("14.50")
    assert books_check() == []


def test_a_credit_at_the_cap_without_a_pool_is_refused(cap, funded, alice, worker, ledger_state):
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_credit(
            account=alice, amount=D("3"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
            community=None,
        )  # fmt: skip
    assert refused(error) == {"hours": ["The balance is at its cap and there is no pool."]}
    assert ledger_state() == before


@pytest.mark.parametrize("amount", ["0", "-2", "0.004"])
def test_zero_or_negative_hours_are_refused(amount, funded, alice, bob, worker, ledger_state):
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_credit(
            account=alice, amount=D(amount), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
            community=None,
        )  # fmt: skip
    assert refused(error) == {"hours": ["Hours must be more than zero."]}
    with pytest.raises(ValidationFailed) as error:
        timebank_donate(source=alice, target=bob, amount=D(amount), actor=worker)
    assert refused(error) == {"hours": ["Hours must be more than zero."]}
    assert ledger_state() == before


def test_a_transfer_moves_hours_and_merges_legs_on_one_account(funded, alice, bob, worker):
    transfer = timebank_transfer(
        kind=TransferKind.DONATION,
        legs=[(alice, D("-2")), (bob, D("1.5")), (bob, D("0.5"))],
        actor=worker,
        memo="赠送",
    )
    assert transfer.legs == 2
    assert sorted((m.account_id, m.amount) for m in transfer.movements.all()) == sorted(
        [(alice.pk, D("-2.00")), (bob.pk, D("2.00"))]
    )
    assert (balance(alice), balance(bob)) == (D("6.00"), D("2.00"))


def test_a_transfer_that_would_go_negative_is_refused(funded, alice, bob, worker, ledger_state):
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_transfer(
            kind=TransferKind.DONATION, legs=[(alice, D("-8.01")), (bob, D("8.01"))], actor=worker
        )
    assert refused(error) == {
        "hours": [f"Person: {alice.user.username} holds 8.00 hours; 8.01 are needed."]
    }
    assert ledger_state() == before


def test_legs_not_summing_to_zero_are_refused(funded, alice, bob, worker, ledger_state):
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_transfer(
            kind=TransferKind.DONATION, legs=[(alice, D("-2")), (bob, D("1.99"))], actor=worker
        )
    assert refused(error) == {"hours": ["The movements must sum to zero."]}
    with pytest.raises(ValidationFailed) as error:
        timebank_transfer(
            kind=TransferKind.DONATION, legs=[(alice, D("-2")), (alice, D("2"))], actor=worker
        )
    assert refused(error) == {"hours": ["A transfer moves hours between accounts."]}
    with pytest.raises(ValidationFailed) as error:
        timebank_transfer(kind="gift", legs=[(alice, D("-2")), (bob, D("2"))], actor=worker)
    assert refused(error) == {"kind": ["Unknown kind of transfer."]}
    assert ledger_state() == before


def test_group_hours_leave_only_as_a_donation(organization, alice, worker, community, ledger_state):
    group = organization_account(organization)
    timebank_credit(
        account=group, amount=D("20"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    before = ledger_state()
    for kind in (TransferKind.REDEMPTION_HOLD, TransferKind.GRANT, TransferKind.ACTIVITY_HOURS):
        with pytest.raises(ValidationFailed) as error:
            timebank_transfer(kind=kind, legs=[(group, D("-1")), (alice, D("1"))], actor=worker)
        assert refused(error) == {"hours": ["Group hours can only be donated."]}
    assert ledger_state() == before

    pool = community_pool(community)
    to_pool = timebank_donate(source=group, target=pool, amount=D("12"), actor=worker)
    to_person = timebank_donate(source=group, target=alice, amount=D("3"), actor=worker)
    assert (to_pool.kind, to_person.kind) == (TransferKind.DONATION, TransferKind.DONATION)
    assert (balance(group), balance(pool), balance(alice)) == (D("5.00"), D("12.00"), D("3.00"))


def test_donations_go_to_a_pool_or_a_person_only(
    funded, alice, organization, worker, community, ledger_state
):
    pairs = [
        (alice, organization_account(organization)),
        (alice, system_account(AccountKind.HELD)),
        (system_account(AccountKind.ISSUANCE), alice),
    ]
    before = ledger_state()
    for source, target in pairs:
        with pytest.raises(ValidationFailed) as error:
            timebank_donate(source=source, target=target, amount=D("1"), actor=worker)
        assert refused(error) == {"target": ["Hours can be given to a pool or a person."]}
    assert ledger_state() == before


def test_a_donation_taking_a_person_over_the_cap_is_refused(
    cap, funded, alice, bob, worker, community, ledger_state
):
    timebank_credit(
        account=bob, amount=D("9"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_donate(source=alice, target=bob, amount=D("1.01"), actor=worker)
    assert refused(error) == {"hours": ["This would take the balance above its cap."]}
    assert ledger_state() == before
    # Up to the cap is fine.
    timebank_donate(source=alice, target=bob, amount=D("1"), actor=worker)
    assert (balance(alice), balance(bob)) == (D("7.00"), D("10.00"))


def test_a_grant_from_the_pool(cap, funded, alice, bob, worker, community):
    pool = community_pool(community)
    timebank_donate(source=alice, target=pool, amount=D("5"), actor=worker, memo="捐给社区")
    grant = timebank_donate(source=pool, target=bob, amount=D("4"), actor=worker)
    assert grant.kind == TransferKind.GRANT
    assert (balance(alice), balance(pool), balance(bob)) == (D("3.00"), D("1.00"), D("4.00"))
    assert books_check() == []


def test_a_reversal_restores_the_balances(cap, alice, volunteer_user, worker, community):
    pool = community_pool(community)
    issuance = system_account(AccountKind.ISSUANCE)
    credit = timebank_credit(
        account=alice, amount=D("12"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    assert (balance(alice), balance(pool)) == (D("10.00"), D("2.00"))
    reversal = timebank_reverse(transfer=credit, actor=worker, memo="  记错了活动  ")
    assert (reversal.kind, reversal.reverses, reversal.memo, reversal.earned_by) == (
        TransferKind.REVERSAL,
        credit,
        "记错了活动",
        volunteer_user,
    )
    assert sorted((m.account_id, m.amount) for m in reversal.movements.all()) == sorted(
        [(issuance.pk, D("12.00")), (alice.pk, D("-10.00")), (pool.pk, D("-2.00"))]
    )
    assert (balance(alice), balance(pool), balance(issuance)) == (D("0"), D("0"), D("0"))
    assert earned_hours(volunteer_user) == D("0.00")
    assert books_check() == []


def test_reversing_twice_or_a_reversal_or_without_a_reason_is_refused(funded, worker, ledger_state):
    with pytest.raises(ValidationFailed) as error:
        timebank_reverse(transfer=funded, actor=worker, memo=" ")
    assert refused(error) == {"memo": ["Say why."]}
    reversal = timebank_reverse(transfer=funded, actor=worker, memo="重复登记")
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_reverse(transfer=funded, actor=worker, memo="再冲一次")
    assert refused(error) == {"transfer": ["This booking is already reversed."]}
    with pytest.raises(ValidationFailed) as error:
        timebank_reverse(transfer=reversal, actor=worker, memo="冲销冲销")
    assert refused(error) == {
        "transfer": ["A correction is corrected by a new booking, not reversed."]
    }
    assert ledger_state() == before


def test_a_reversal_that_would_overdraw_is_refused(funded, alice, bob, worker, ledger_state):
    timebank_donate(source=alice, target=bob, amount=D("5"), actor=worker)
    before = ledger_state()
    with pytest.raises(ValidationFailed) as error:
        timebank_reverse(transfer=funded, actor=worker, memo="记错了")
    assert refused(error) == {
        "hours": [f"Person: {alice.user.username} holds 3.00 hours; 8.00 are needed."]
    }
    assert ledger_state() == before


def test_earned_hours_count_what_went_to_the_pool_and_not_donations(
    cap, alice, bob, volunteer_user, other_user, worker, community
):
    for amount in ("6", "7.25"):
        timebank_credit(
            account=alice, amount=D(amount), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
            community=community,
        )  # fmt: skip
    timebank_donate(source=alice, target=bob, amount=D("4"), actor=worker)
    assert (balance(alice), balance(community_pool(community))) == (D("6.00"), D("3.25"))
    assert earned_hours(volunteer_user) == D("13.25")
    assert earned_hours(other_user) == D("0.00")


def test_the_system_accounts_are_one_each_and_not_for_owners():
    assert system_account(AccountKind.HELD) == system_account(AccountKind.HELD)
    with pytest.raises(ValueError, match="not a system account"):
        system_account(AccountKind.PERSON)


# --- The database's own rules ---------------------------------------------------------


def raw_transfer(legs: int, *movements: tuple[Account, str]) -> None:
    """A transfer written straight to the tables, past every service check."""
    transfer = Transfer.objects.create(kind=TransferKind.DONATION, legs=legs)
    Movement.objects.bulk_create(
        Movement(transfer=transfer, account=account, amount=D(amount))
        for account, amount in movements
    )


def test_the_database_keeps_balances_from_movements(funded, alice, bob):
    raw_transfer(2, (alice, "-3"), (bob, "3"))
    assert (balance(alice), balance(bob)) == (D("5.00"), D("3.00"))
    assert books_check() == []


@pytest.mark.parametrize(
    ("legs", "movements"),
    [
        pytest.param(2, [("alice", "-3"), ("bob", "2")], id="sum-not-zero"),
        pytest.param(2, [("alice", "-3"), ("bob", "2"), ("bob", "1")], id="extra-leg"),
        pytest.param(2, [("alice", "-9"), ("bob", "9")], id="overdraft"),
    ],
)
def test_the_database_refuses_raw_transfers_that_break_the_rules(
    legs, movements, funded, alice, bob, ledger_state
):
    accounts = {"alice": alice, "bob": bob}
    before = ledger_state()
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_transfer(legs, *((accounts[name], amount) for name, amount in movements))
    assert ledger_state() == before


def test_the_database_refuses_updates_of_movements_and_transfers(funded, ledger_state):
    before = ledger_state()
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.filter(transfer=funded).update(amount=D("80"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.filter(pk=funded.pk).update(memo="改过")
    assert ledger_state() == before


@postgresql_only
def test_the_database_refuses_deletes(funded, ledger_state):
    before = ledger_state()
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.filter(transfer=funded).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM volunteers_transfer WHERE id = %s", [funded.pk])
    assert ledger_state() == before


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_an_incomplete_transfer_at_commit(funded, alice, bob, ledger_state):
    before = ledger_state()
    with pytest.raises(IntegrityError, match="incomplete"), transaction.atomic():
        # The second leg never comes: each statement passes, the commit does not.
        raw_transfer(2, (alice, "-3"))
    assert ledger_state() == before
    assert books_check() == []


# --- The books check ------------------------------------------------------------------


def test_the_books_check_reads_the_models_tables():
    assert [model._meta.db_table for model in (Account, Transfer, Movement)] == [
        "volunteers_account",
        "volunteers_transfer",
        "volunteers_movement",
    ]


def test_good_books_hold(cap, funded, alice, bob, organization, worker, community):
    group = organization_account(organization)
    timebank_credit(
        account=group, amount=D("4"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    timebank_donate(source=group, target=community_pool(community), amount=D("4"), actor=worker)
    timebank_credit(
        account=alice, amount=D("5"), kind=TransferKind.REQUEST_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    held = system_account(AccountKind.HELD)
    spent = system_account(AccountKind.SPENT)
    timebank_transfer(
        kind=TransferKind.REDEMPTION_HOLD, legs=[(alice, D("-2")), (held, D("2"))], actor=worker
    )
    timebank_transfer(
        kind=TransferKind.REDEMPTION_SETTLE, legs=[(held, D("-2")), (spent, D("2"))], actor=worker
    )
    timebank_reverse(transfer=funded, actor=worker, memo="记错了")

    books = books_read()
    assert books.problems == []
    assert books.hold
    figures = books.figures
    # Alice: 8, then 5 of which 2 kept and 3 to the pool at the cap of 10, 2 held and
    # spent, 8 taken back by the reversal. The group's 4 went to the pool.
    # Accounts: alice, bob, the pool, the group, issuance, held, spent.
    assert (figures.accounts, figures.transfers, figures.movements) == (7, 7, 15)
    assert (figures.issued, figures.people, figures.organizations) == (
        D("9.00"),
        D("0.00"),
        D("0.00"),
    )
    assert (figures.pools, figures.held, figures.spent, figures.total) == (
        D("7.00"),
        D("0.00"),
        D("2.00"),
        D("0.00"),
    )


def test_the_books_check_finds_a_balance_changed_by_hand(funded, alice):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE volunteers_account SET balance = balance + 5 WHERE id = %s", [alice.pk]
        )
    assert books_check() == [
        f"1 accounts have a balance other than the sum of their movements: #{alice.pk}",
        "The balances add up to 5.00 hours instead of zero.",
    ]


def test_the_books_check_finds_an_incomplete_transfer(funded, alice, bob):
    # Looked at before it is rolled back: PostgreSQL would refuse it at commit, SQLite
    # never does.
    with transaction.atomic():
        raw_transfer(3, (alice, "-3"), (bob, "3"))
        transfer = Transfer.objects.latest("pk")
        problems = books_check()
        transaction.set_rollback(True)
    assert problems == [
        f"1 transfers do not have the movements they declare, or their movements do not "
        f"sum to zero: #{transfer.pk}"
    ]


def test_the_books_check_finds_reversals_that_mirror_nothing(funded, alice, bob, worker):
    issuance = system_account(AccountKind.ISSUANCE)
    # A "reversal" of nothing, and one that moves other accounts than its original.
    loose = Transfer.objects.create(kind=TransferKind.REVERSAL, legs=2)
    Movement.objects.bulk_create(
        [Movement(transfer=loose, account=alice, amount=D("-1")),
         Movement(transfer=loose, account=bob, amount=D("1"))]
    )  # fmt: skip
    crooked = Transfer.objects.create(kind=TransferKind.REVERSAL, legs=2, reverses=funded)
    Movement.objects.bulk_create(
        [Movement(transfer=crooked, account=alice, amount=D("-1")),
         Movement(transfer=crooked, account=issuance, amount=D("1"))]
    )  # fmt: skip
    # And a proper reversal of a reversal.
    donation = timebank_donate(source=alice, target=bob, amount=D("1"), actor=worker)
    first = timebank_reverse(transfer=donation, actor=worker, memo="退回")
    again = Transfer.objects.create(kind=TransferKind.REVERSAL, legs=2, reverses=first)
    Movement.objects.bulk_create(
        [Movement(transfer=again, account=alice, amount=D("-1")),
         Movement(transfer=again, account=bob, amount=D("1"))]
    )  # fmt: skip
    assert books_check() == [
        f"3 reversals are not the mirror image of a booking that is not itself a reversal: "
        f"#{loose.pk}, #{crooked.pk}, #{again.pk}"
    ]


def alter_table(cursor, sql: str) -> None:
    """Change a table within the test's transaction (rolled back with it); PostgreSQL
    first runs the deferred checks of what the test booked."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(sql)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_the_books_check_finds_a_negative_balance(funded, alice):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            alter_table(
                cursor,
                "ALTER TABLE volunteers_account DROP CONSTRAINT account_balance_not_negative",
            )
            cursor.execute("UPDATE volunteers_account SET balance = -1 WHERE id = %s", [alice.pk])
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                cursor.execute(
                    "UPDATE volunteers_account SET balance = -1 WHERE id = %s", [alice.pk]
                )
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
    assert books_check() == [
        f"1 accounts have a balance other than the sum of their movements: #{alice.pk}",
        f"1 accounts are below zero (or, the issuing account, above zero): #{alice.pk}",
        "The balances add up to -9.00 hours instead of zero.",
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite cannot drop the unique constraint that keeps a second reversal out",
)
def test_the_books_check_finds_a_booking_reversed_twice(funded, alice, worker, community):
    # A second credit of 8 hours pays for the second reversal of the first.
    timebank_credit(
        account=alice, amount=D("8"), kind=TransferKind.ACTIVITY_HOURS, actor=worker,
        community=community,
    )  # fmt: skip
    constraints = connection.introspection.get_constraints(
        connection.cursor(), "volunteers_transfer"
    )
    unique = next(
        name
        for name, spec in constraints.items()
        if spec["unique"] and spec["columns"] == ["reverses_id"]
    )
    first = timebank_reverse(transfer=funded, actor=worker, memo="记错了")
    with connection.cursor() as cursor:
        alter_table(cursor, f'ALTER TABLE volunteers_transfer DROP CONSTRAINT "{unique}"')
    second = Transfer.objects.create(kind=TransferKind.REVERSAL, legs=2, reverses=funded)
    Movement.objects.bulk_create(
        Movement(transfer=second, account_id=m.account_id, amount=-m.amount)
        for m in funded.movements.all()
    )
    assert first.pk != second.pk
    assert balance(alice) == D("0.00")
    assert books_check() == [f"1 transfers are reversed more than once: #{funded.pk}"]


# --- The command ----------------------------------------------------------------------


@pytest.fixture
def linli():
    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, list(args), catch_exceptions=False)


def test_the_check_command_prints_the_figures_and_exits_0(linli, funded, alice, worker):
    held = system_account(AccountKind.HELD)
    timebank_transfer(
        kind=TransferKind.REDEMPTION_HOLD, legs=[(alice, D("-1.5")), (held, D("1.5"))], actor=worker
    )
    result = linli("timebank", "check")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Accounts: 4",
        "Transfers: 2 (4 movements)",
        "Hours issued (earned, net of corrections): 8.00",
        "Hours in people's accounts: 6.50",
        "Hours of organizations: 0.00",
        "Hours in community pools: 0.00",
        "Hours held for services not yet delivered: 1.50",
        "Hours spent on delivered services: 0.00",
        "The books hold.",
    ]


def test_the_check_command_exits_1_on_broken_books(linli, funded, alice):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE volunteers_account SET balance = balance + 1 WHERE id = %s", [alice.pk]
        )
    result = linli("timebank", "check")
    assert result.exit_code == 1
    assert f"have a balance other than the sum of their movements: #{alice.pk}" in result.output
    assert "The books do not add up: 2 problems found." in result.output
