"""Checking the time bank's books: a handful of set-based queries over the whole ledger.

The database already refuses any write that would break the rules (migration 0002);
this is the auditor's second look, for the command line (`linli timebank check`), the
tests and the benchmark: it reads what is there and says what does not add up.

Each query is one statement over all rows, the same SQL on SQLite and PostgreSQL.
SQLite keeps decimals as floating point, so every sum is rounded to the hundredth
before it is compared. On PostgreSQL the queries share one repeatable-read snapshot,
so a check taken while transfers are being booked sees one moment of the books.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from .choices import AccountKind, TransferKind
from .ledger import hours

# How many offending ids a problem names; the count says how many there are in all.
SHOWN = 10

# The tables are named in the SQL as they are (no string building): the tests check
# they are the models' tables.

# Transfers whose movements are not as many as they declare, or do not sum to zero.
UNBALANCED_TRANSFERS = """
    SELECT t.id FROM volunteers_transfer t LEFT JOIN volunteers_movement m ON m.transfer_id = t.id
    GROUP BY t.id, t.legs
    HAVING count(m.id) <> t.legs OR round(coalesce(sum(m.amount), 0), 2) <> 0
    ORDER BY t.id
"""

# Accounts whose balance is not the sum of their movements.
DRIFTED_ACCOUNTS = """
    SELECT a.id FROM volunteers_account a
    LEFT JOIN (
        SELECT account_id, sum(amount) AS total FROM volunteers_movement GROUP BY account_id
    ) s ON s.account_id = a.id
    WHERE round(a.balance - coalesce(s.total, 0), 2) <> 0
    ORDER BY a.id
"""

# Accounts below zero (only the issuing account may be: minus all hours ever earned),
# and the issuing account above zero (more hours returned to it than it issued).
NEGATIVE_ACCOUNTS = """
    SELECT id FROM volunteers_account
    WHERE (kind <> %s AND balance < 0) OR (kind = %s AND balance > 0)
    ORDER BY id
"""

# Transfers reversed more than once.
TWICE_REVERSED = """
    SELECT reverses_id FROM volunteers_transfer WHERE reverses_id IS NOT NULL
    GROUP BY reverses_id HAVING count(*) > 1
    ORDER BY reverses_id
"""

# Reversals that are not the mirror image of what they reverse: a reversal of a
# reversal, a reversal of nothing, a reversing transfer of another kind, or one whose
# movements do not each cancel a movement of the original on the same account.
BAD_REVERSALS = """
    SELECT r.id FROM volunteers_transfer r LEFT JOIN volunteers_transfer o ON o.id = r.reverses_id
    WHERE (r.kind = %s OR r.reverses_id IS NOT NULL) AND (
        r.kind <> %s OR o.id IS NULL OR o.kind = %s OR r.legs <> o.legs
        OR r.legs <> (
            SELECT count(*) FROM volunteers_movement rm JOIN volunteers_movement om
                ON om.transfer_id = o.id AND om.account_id = rm.account_id
                AND round(om.amount + rm.amount, 2) = 0
            WHERE rm.transfer_id = r.id
        )
    )
    ORDER BY r.id
"""

BALANCES = """
    SELECT kind, count(*), round(coalesce(sum(balance), 0), 2) FROM volunteers_account
    GROUP BY kind
"""
COUNTS = """
    SELECT (SELECT count(*) FROM volunteers_transfer), (SELECT count(*) FROM volunteers_movement),
           (SELECT round(coalesce(sum(amount), 0), 2) FROM volunteers_movement)
"""


@dataclass(frozen=True)
class Figures:
    """What the books hold, by kind of account, and how much has been booked."""

    accounts: int = 0
    transfers: int = 0
    movements: int = 0
    issued: Decimal = Decimal("0.00")  # hours earned, net of corrections
    people: Decimal = Decimal("0.00")  # in people's accounts
    organizations: Decimal = Decimal("0.00")
    pools: Decimal = Decimal("0.00")  # in community pools
    held: Decimal = Decimal("0.00")  # held for services asked, not yet delivered
    spent: Decimal = Decimal("0.00")  # paid for delivered services
    total: Decimal = Decimal("0.00")  # every balance added up: zero in good books
    movements_total: Decimal = Decimal("0.00")  # every movement added up: zero too


@dataclass(frozen=True)
class Books:
    figures: Figures
    problems: list[str] = field(default_factory=list)

    @property
    def hold(self) -> bool:
        return not self.problems


@contextmanager
def _snapshot() -> Iterator[Any]:
    """One cursor over one moment of the books (on PostgreSQL, outside a transaction
    already open, a read-only repeatable-read transaction)."""
    fresh = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if fresh and connection.vendor == "postgresql":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield cursor


def _ids(cursor: Any, sql: str, params: Sequence[object] = ()) -> list[int]:
    cursor.execute(sql, list(params))
    return [row[0] for row in cursor.fetchall()]


def _listed(ids: list[int]) -> str:
    shown = ", ".join(f"#{pk}" for pk in ids[:SHOWN])
    return shown + (" …" if len(ids) > SHOWN else "")


def _problems(cursor: Any) -> list[str]:
    problems: list[str] = []
    found = _ids(cursor, UNBALANCED_TRANSFERS)
    if found:
        problems.append(
            _(
                "%(count)s transfers do not have the movements they declare, or their "
                "movements do not sum to zero: %(ids)s"
            )
            % {"count": len(found), "ids": _listed(found)}
        )
    found = _ids(cursor, DRIFTED_ACCOUNTS)
    if found:
        problems.append(
            _("%(count)s accounts have a balance other than the sum of their movements: %(ids)s")
            % {"count": len(found), "ids": _listed(found)}
        )
    found = _ids(cursor, NEGATIVE_ACCOUNTS, [AccountKind.ISSUANCE, AccountKind.ISSUANCE])
    if found:
        problems.append(
            _("%(count)s accounts are below zero (or, the issuing account, above zero): %(ids)s")
            % {"count": len(found), "ids": _listed(found)}
        )
    found = _ids(cursor, TWICE_REVERSED)
    if found:
        problems.append(
            _("%(count)s transfers are reversed more than once: %(ids)s")
            % {"count": len(found), "ids": _listed(found)}
        )
    reversal = TransferKind.REVERSAL
    found = _ids(cursor, BAD_REVERSALS, [reversal, reversal, reversal])
    if found:
        problems.append(
            _(
                "%(count)s reversals are not the mirror image of a booking that is not "
                "itself a reversal: %(ids)s"
            )
            % {"count": len(found), "ids": _listed(found)}
        )
    return problems


def _figures(cursor: Any) -> Figures:
    cursor.execute(BALANCES)
    count = 0
    balances: dict[str, Decimal] = {}
    for kind, accounts, total in cursor.fetchall():
        count += accounts
        balances[kind] = hours(total)
    cursor.execute(COUNTS)
    transfers, movements, moved = cursor.fetchone()
    zero = Decimal("0.00")
    return Figures(
        accounts=count,
        transfers=transfers,
        movements=movements,
        issued=-balances.get(AccountKind.ISSUANCE, zero) + zero,  # + zero: never -0.00
        people=balances.get(AccountKind.PERSON, zero),
        organizations=balances.get(AccountKind.ORGANIZATION, zero),
        pools=balances.get(AccountKind.COMMUNITY_POOL, zero),
        held=balances.get(AccountKind.HELD, zero),
        spent=balances.get(AccountKind.SPENT, zero),
        total=hours(sum(balances.values(), zero)),
        movements_total=hours(moved),
    )


def books_read() -> Books:
    """The figures of the books and every problem found in them, from one snapshot."""
    with _snapshot() as cursor:
        figures = _figures(cursor)
        problems = _problems(cursor)
    if figures.total != 0:
        problems.append(
            _("The balances add up to %(total)s hours instead of zero.") % {"total": figures.total}
        )
    if figures.movements_total != 0:
        problems.append(
            _("The movements add up to %(total)s hours instead of zero.")
            % {"total": figures.movements_total}
        )
    return Books(figures=figures, problems=problems)


def books_check() -> list[str]:
    """Every problem in the time bank's books, in words; an empty list when they hold:

    - every transfer has exactly `legs` movements, and they sum to zero;
    - every account's balance is the sum of its movements;
    - all balances (and all movements) sum to zero;
    - no balance is below zero but the issuing account's, and that one not above;
    - no transfer is reversed twice, and every reversal mirrors a booking that is not
      itself a reversal."""
    return books_read().problems
