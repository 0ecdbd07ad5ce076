"""Benchmark: time-bank transfers per second with 16 concurrent writers on PostgreSQL.

In a fresh database (BENCH_TIMEBANK_DATABASE_URL, default a `linli_bench_timebank`
database on 127.0.0.1:5432, dropped and created afresh) it opens 1,000 person accounts
and credits each 100 hours through `timebank_credit`. Then it draws, seeded, 20,000
random transfers between them (two different people, 0.25 to 2 hours) and books them:

- **Linli**: every transfer through `timebank_transfer`, from 16 writer processes at
  once (each its own connection; the machine has 2 cores, so processes rather than
  threads, which would share one interpreter lock): the accounts locked in primary-key
  order, the balance checked, a `Transfer` row and its two movements written, and the
  database's triggers keeping balances, refusing overdrafts and checking that the legs
  sum to zero (and, at commit, that the transfer is complete). At the end
  `books_check()` must find nothing.
- **Peer**, side by side on the same accounts (copied into plain tables with the same
  starting balances) and the same transfers in the same run, from the same 16
  processes: what a hand-written ledger does in plain SQL through psycopg — insert the
  two movements, update the two balances, commit. No checks, no locks taken in order
  (a deadlock between two writers is rolled back and retried, and counted), no
  triggers, no Django.

A third run, for the breakdown only, sends the very statements `timebank_transfer`
sends (lock both accounts in order, insert the transfer, insert its movements, commit)
straight through psycopg into Linli's tables, triggers and all, each transfer the other
way round (so the balances come back to where they opened): what the database's rules
cost, without Python and Django.

It reports transfers per second for both (all 20,000 booked, from the moment the
writers are released together until the last commits), their ratio, and the same at 1
writer for scale. The peer's work is the floor: Linli ÷ peer is the share of a bare
ledger's throughput that the checked one keeps.

    make bench        # or: .venv/bin/python benchmarks/timebank_transfers.py
    BENCH_TRANSFERS=4000 .venv/bin/python benchmarks/timebank_transfers.py   # a quick look

BENCH_WRITERS (default "1,16") lists the numbers of writers to run.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "1000"))
TRANSFERS = int(os.environ.get("BENCH_TRANSFERS", "20000"))
WRITERS = [int(n) for n in os.environ.get("BENCH_WRITERS", "1,16").split(",")]
OPENING = Decimal("100")
SEED = 2026
DATABASE_URL = os.environ.get(
    "BENCH_TIMEBANK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_bench_timebank"
)
sys.path.insert(0, str(ROOT))

PEER_SCHEMA = """
DROP TABLE IF EXISTS peer_movement, peer_account;
DROP SEQUENCE IF EXISTS peer_transfer;
CREATE TABLE peer_account (id integer PRIMARY KEY, balance numeric(10, 2) NOT NULL);
CREATE TABLE peer_movement (
    id bigserial PRIMARY KEY,
    transfer_id bigint NOT NULL,
    account_id integer NOT NULL REFERENCES peer_account (id),
    amount numeric(10, 2) NOT NULL
);
CREATE INDEX peer_movement_account ON peer_movement (account_id);
CREATE SEQUENCE peer_transfer;
"""


def libpq_url() -> str:
    return DATABASE_URL.replace("postgres://", "postgresql://", 1)


def fresh_database() -> None:
    import psycopg

    base, name = libpq_url().rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')


def set_up_django() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": DATABASE_URL,
            "DATABASE_CONN_MAX_AGE": "600",
            "LINLI_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def open_accounts() -> list[int]:
    """1,000 people, each credited 100 hours through the ledger; their account ids."""
    from django.contrib.auth.hashers import make_password

    from linli.accounts.models import User
    from linli.volunteers.choices import TransferKind
    from linli.volunteers.ledger import person_account, timebank_credit

    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"bench-{n:05d}", password=unusable) for n in range(ACCOUNTS)
    )
    ids = []
    for user in users:
        account = person_account(user)
        timebank_credit(
            account=account,
            amount=OPENING,
            kind=TransferKind.ACTIVITY_HOURS,
            actor=None,
            community=None,
            memo="opening",
        )
        ids.append(account.pk)
    return ids


def draw_transfers(ids: list[int]) -> list[tuple[int, int, Decimal]]:
    rng = random.Random(SEED)
    out = []
    for _ in range(TRANSFERS):
        source, target = rng.sample(ids, 2)
        out.append((source, target, Decimal(rng.randint(1, 8)) / 4))
    return out


def reset_peer(ids: list[int]) -> None:
    """The peer's plain tables, holding the same accounts with the same opening balances."""
    import psycopg

    with psycopg.connect(libpq_url()) as db:
        db.execute(PEER_SCHEMA)
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO peer_account (id, balance) VALUES (%s, %s)",
                [(pk, OPENING) for pk in ids],
            )


# --- Writers (each a process of its own) -----------------------------------------------


def linli_writer(
    jobs: list[tuple[int, int, Decimal]], start: Any, results: Any, number: int
) -> None:
    from django.db import connection

    from linli.core.errors import ValidationFailed
    from linli.volunteers.choices import TransferKind
    from linli.volunteers.ledger import timebank_transfer
    from linli.volunteers.models import Account

    connection.ensure_connection()
    accounts = {pk: Account(pk=pk) for pk in {pk for job in jobs for pk in job[:2]}}
    booked = refused = 0
    start.wait()
    began = time.perf_counter()
    cpu = time.process_time()
    for source, target, amount in jobs:
        try:
            timebank_transfer(
                kind=TransferKind.DONATION,
                legs=[(accounts[source], -amount), (accounts[target], amount)],
                actor=None,
            )
            booked += 1
        except ValidationFailed:
            refused += 1
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    connection.close()
    results.put((number, began, ended, booked, refused, 0, cpu))


def linli_sql_writer(
    jobs: list[tuple[int, int, Decimal]], start: Any, results: Any, number: int
) -> None:
    """The statements `timebank_transfer` sends, straight through psycopg: where the
    time goes between the database's rules and Python."""
    import psycopg

    db = psycopg.connect(libpq_url())
    booked = refused = 0
    start.wait()
    began = time.perf_counter()
    cpu = time.process_time()
    for source, target, amount in jobs:
        with db.transaction():
            balances: dict[int, Decimal] = dict(
                db.execute(
                    "SELECT id, balance FROM volunteers_account WHERE id IN (%s, %s) "
                    "ORDER BY id FOR UPDATE",
                    (source, target),
                ).fetchall()
            )
            if balances[source] < amount:
                refused += 1
                continue
            row = db.execute(
                "INSERT INTO volunteers_transfer (kind, legs, memo, created_at) "
                "VALUES ('donation', 2, '', now()) RETURNING id"
            ).fetchone()
            assert row is not None
            db.execute(
                "INSERT INTO volunteers_movement (transfer_id, account_id, amount) "
                "VALUES (%s, %s, %s), (%s, %s, %s)",
                (row[0], source, -amount, row[0], target, amount),
            )
        booked += 1
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    db.close()
    results.put((number, began, ended, booked, refused, 0, cpu))


def peer_writer(
    jobs: list[tuple[int, int, Decimal]], start: Any, results: Any, number: int
) -> None:
    import psycopg
    from psycopg import errors

    db = psycopg.connect(libpq_url())
    booked = retries = 0
    start.wait()
    began = time.perf_counter()
    cpu = time.process_time()
    for source, target, amount in jobs:
        while True:
            try:
                with db.transaction():
                    db.execute(
                        "INSERT INTO peer_movement (transfer_id, account_id, amount) VALUES "
                        "(nextval('peer_transfer'), %s, %s), (currval('peer_transfer'), %s, %s)",
                        (source, -amount, target, amount),
                    )
                    db.execute(
                        "UPDATE peer_account SET balance = balance - %s WHERE id = %s",
                        (amount, source),
                    )
                    db.execute(
                        "UPDATE peer_account SET balance = balance + %s WHERE id = %s",
                        (amount, target),
                    )
                booked += 1
                break
            except errors.DeadlockDetected:
                retries += 1
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    db.close()
    results.put((number, began, ended, booked, 0, retries, cpu))


def run_writers(target: Any, transfers: list[tuple[int, int, Decimal]], writers: int) -> dict:
    """`writers` processes, each with every `writers`-th transfer, released together."""
    from django.db import connections

    connections.close_all()  # the children open their own
    context = mp.get_context("fork")
    start = context.Barrier(writers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(transfers[n::writers], start, results, n))
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait()
    reports = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a writer failed (exit {process.exitcode})")
    began = min(r[1] for r in reports)
    seconds = max(r[2] for r in reports) - began
    booked = sum(r[3] for r in reports)
    return {
        "writers": writers,
        "seconds": round(seconds, 2),
        "booked": booked,
        "refused": sum(r[4] for r in reports),
        "deadlock_retries": sum(r[5] for r in reports),
        "per_second": round(booked / seconds, 1),
        # The writers' own processor time (Python, Django, psycopg), per transfer.
        "client_cpu_ms": round(sum(r[6] for r in reports) / len(transfers) * 1000, 3),
    }


# --- Checks after each run ----------------------------------------------------------------


def check_linli(ids: list[int]) -> dict[str, Any]:
    from django.db.models import Sum

    from linli.volunteers.books import books_read
    from linli.volunteers.models import Account

    started = time.perf_counter()
    books = books_read()
    seconds = time.perf_counter() - started
    if books.problems:
        raise SystemExit("the books do not hold: " + "; ".join(books.problems))
    held = Account.objects.filter(pk__in=ids).aggregate(total=Sum("balance"))["total"]
    assert held == OPENING * len(ids), held
    assert not Account.objects.filter(pk__in=ids, balance__lt=0).exists()
    return {
        "books_check_s": round(seconds, 2),
        "transfers_in_books": books.figures.transfers,
        "movements_in_books": books.figures.movements,
    }


def check_peer(ids: list[int]) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(libpq_url()) as db:
        row = db.execute(
            "SELECT sum(balance), count(*) FILTER (WHERE balance < 0), "
            "(SELECT coalesce(sum(amount), 0) FROM peer_movement) FROM peer_account"
        ).fetchone()
    assert row is not None
    total, below, moved = row
    assert total == OPENING * len(ids), total
    assert moved == 0, moved
    return {"peer_accounts_below_zero": below}


def main() -> None:
    fresh_database()
    set_up_django()
    from django.db import connection

    print(
        f"time bank: {ACCOUNTS:,} accounts, {TRANSFERS:,} transfers, writers {WRITERS} …",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    ids = open_accounts()
    transfers = draw_transfers(ids)
    # The breakdown run sends each transfer the other way, taking Linli's balances back
    # to where they opened.
    backwards = [(target, source, amount) for source, target, amount in transfers]
    print(f"  accounts opened in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    rows = []
    for writers in WRITERS:
        # The peer starts each run from the opening balances; Linli's books are
        # append-only and carry on, and are checked after every run.
        reset_peer(ids)
        peer = run_writers(peer_writer, transfers, writers)
        peer.update(check_peer(ids))
        linli = run_writers(linli_writer, transfers, writers)
        linli.update(check_linli(ids))
        linli_sql = run_writers(linli_sql_writer, backwards, writers)
        linli_sql.update(check_linli(ids))
        ratio = round(linli["per_second"] / peer["per_second"], 3)
        row = {"linli": linli, "linli_sql": linli_sql, "peer": peer, "ratio": ratio}
        print(json.dumps(row, default=str), file=sys.stderr, flush=True)
        rows.append(row)
    print()
    print(
        f"{ACCOUNTS:,} person accounts, {TRANSFERS:,} random transfers per run, "
        f"PostgreSQL {server}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{dt.date.today().isoformat()}"
    )
    print()
    print(
        "| writers | Linli transfers/s | Linli s | refused | peer transfers/s | peer s "
        "| peer deadlock retries | Linli ÷ peer |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        linli, peer = r["linli"], r["peer"]
        print(
            f"| {linli['writers']} | {linli['per_second']:,.0f} | {linli['seconds']:.1f} "
            f"| {linli['refused']} | {peer['per_second']:,.0f} | {peer['seconds']:.1f} "
            f"| {peer['deadlock_retries']} | {r['ratio']:.2f} |"
        )
    print()
    print(
        "| writers | Linli's SQL alone transfers/s | its ÷ peer "
        "| writer CPU ms per transfer: Linli | Linli's SQL alone | peer |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        linli, peer, sql = r["linli"], r["peer"], r["linli_sql"]
        print(
            f"| {linli['writers']} | {sql['per_second']:,.0f} "
            f"| {sql['per_second'] / peer['per_second']:.2f} | {linli['client_cpu_ms']:.2f} "
            f"| {sql['client_cpu_ms']:.2f} | {peer['client_cpu_ms']:.2f} |"
        )
    last = rows[-1]["linli"]
    print()
    print(
        f"books_check() after all runs: no problems, {last['transfers_in_books']:,} transfers "
        f"and {last['movements_in_books']:,} movements checked in {last['books_check_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
