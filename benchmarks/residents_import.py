"""Benchmark: importing 100,000 residents from an Excel register, on SQLite and PostgreSQL.

One seeded register workbook is generated once (fictional people: identity numbers
of province 99 with valid check characters, phones 1400xxxxxxx, spread over the
demo district's communities and villages in households of one to four). Then, for
each database, in a fresh database holding only the demo district's regions:

- **Linli**: `register_import_xlsx(actor=None)` — all or nothing, every row through
  `resident_check` (identity check character and birth date, mobile format, community,
  guardian rule, duplicate look-up by blind index, duplicates within the file),
  households grouped, AES-GCM encryption of five fields, HMAC blind indexes, bulk
  insert and priority tallies, in one transaction.
- **Peer**, side by side on the same file in the same run: what a data clerk's script
  does — openpyxl read-only rows straight into `executemany` INSERTs of the cell
  values as text (sqlite3 or psycopg, batches of 1,000, one transaction) into a
  plain table with one column per sheet column: no validation, no encryption,
  no households, no tallies.

It prints records per second for both, their ratio, and where Linli's time goes
(reading the workbook, checking, encrypting and indexing, writing).

    make bench          # or: .venv/bin/python benchmarks/residents_import.py
    ROWS=5000 .venv/bin/python benchmarks/residents_import.py     # a quick look

BENCH_RESIDENTS_DATABASE_URL (default a `linli_bench_residents` database on
127.0.0.1:5432, dropped and created afresh) and BENCH_SQLITE_PATH adjust it;
BENCH_DATABASES=sqlite or =postgresql runs one of them.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("ROWS", "100000"))
SEED = 2024
BENCH_DIR = ROOT / "var" / "bench"
POSTGRES_URL = os.environ.get(
    "BENCH_RESIDENTS_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/linli_bench_residents",
)
SQLITE_PATH = Path(os.environ.get("BENCH_SQLITE_PATH", BENCH_DIR / "residents.sqlite3"))
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
WORKBOOK = BENCH_DIR / f"residents-{ROWS}-{SEED}.xlsx"
PEER_BATCH = 1000
sys.path.insert(0, str(ROOT))


# --- Set-up --------------------------------------------------------------------------------


def fresh_database(kind: str) -> str:
    """An empty database for one run; its URL."""
    if kind == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    import psycopg

    base, name = POSTGRES_URL.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_URL


def set_up_django(url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": url,
            "LINLI_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from linli.core.registry import DemoContext
    from linli.regions.demo import build_demo_regions

    call_command("migrate", verbosity=0)
    # Only the regions: the register starts empty, as in a new deployment.
    build_demo_regions(
        DemoContext(
            seed=2021,
            scale="county",
            rng=random.Random("2021:regions"),
            echo=lambda _text: None,
            show_progress=False,
        )
    )


def generate_workbook() -> None:
    """The register, seeded: the same people in every run and on every database."""
    from django.utils import translation

    from linli.regions.choices import RegionKind, RegionLevel
    from linli.regions.models import Region
    from linli.residents.choices import Difficulty, DisabilityCategory
    from linli.residents.demo import _birth, _name, _Numbers
    from linli.residents.models import age_on
    from linli.residents.spreadsheets.workbook import write_register

    rng = random.Random(SEED)
    places = list(Region.objects.filter(level=RegionLevel.COMMUNITY).order_by("code"))
    weights = [p.population or 1 for p in places]
    numbers = _Numbers()
    today = dt.date.today()

    def people() -> Any:
        made = 0
        street = 0
        while made < ROWS:
            place = rng.choices(places, weights)[0]
            street += 1
            household = f"{place.name}{street % 400 + 1}号"
            for _member in range(min(rng.randint(1, 4), ROWS - made)):
                born = _birth(rng, place.kind)
                # The demo's dates are for its own day; keep everyone born by today.
                born = min(born, today - dt.timedelta(days=1))
                female = rng.random() < 0.5
                age = age_on(born, today) or 0
                rural = place.kind == RegionKind.RURAL
                grown = age >= 14  # a child under 14 has nothing beyond registration here
                disabled = grown and rng.random() < 0.06
                values = {
                    "name": _name(rng),
                    "identity_number": numbers.make(place, born, female),
                    "birth_date": born,
                    "phone": f"1400{rng.randint(0, 9_999_999):07d}" if grown else "",
                    "community": f"{place.code} {place.name}",
                    "household": household,
                    "living_alone": "是" if age >= 60 and rng.random() < 0.15 else "否",
                    "left_behind": "是" if rural and age >= 60 and rng.random() < 0.12 else "",
                    "disability_category": str(rng.choice(DisabilityCategory.labels))
                    if disabled
                    else "",
                    "disability_grade": str(rng.randint(1, 4)) if disabled else "",
                    "difficulty": (
                        str(rng.choice(Difficulty.labels))
                        if grown and rng.random() < (0.05 if rural else 0.02)
                        else ""
                    ),
                    "health_notes": "高血压，需定期随访"
                    if age >= 60 and rng.random() < 0.3
                    else "",
                }
                yield values
                made += 1

    WORKBOOK.parent.mkdir(parents=True, exist_ok=True)
    partial = WORKBOOK.with_suffix(".part")
    with translation.override("zh-hans"), partial.open("wb") as out:
        write_register(out, rows=people(), communities=places)
    partial.rename(WORKBOOK)


# --- Timing --------------------------------------------------------------------------------


class CryptoClock:
    """Time spent in AES-GCM encryption and HMAC blind indexes, wherever they are called."""

    def __init__(self) -> None:
        from linli.core.crypto import Keyring

        self.seconds = {"encrypt": 0.0, "blind_index": 0.0}
        self.calls = {"encrypt": 0, "blind_index": 0}
        for name in self.seconds:
            original = getattr(Keyring, name)
            setattr(Keyring, name, self._timed(name, original))

    def _timed(self, name: str, original: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed


def run_linli(data: bytes) -> dict[str, Any]:
    from linli.residents.models import Household, PriorityTally, Resident
    from linli.residents.spreadsheets.importer import register_import_xlsx

    clock = CryptoClock()
    gc.collect()
    started = time.perf_counter()
    report = register_import_xlsx(actor=None, data=data)
    seconds = time.perf_counter() - started
    assert report.created == ROWS, report.created
    assert Resident.objects.count() == ROWS
    reading = report.seconds["reading"]
    checking = report.seconds["checking"] - clock.seconds["blind_index"]
    crypto = clock.seconds["encrypt"] + clock.seconds["blind_index"]
    writing = report.seconds["writing"] - clock.seconds["encrypt"]
    return {
        "seconds": seconds,
        "records_per_second": ROWS / seconds,
        "reading": reading,
        "checking": checking,
        "crypto": crypto,
        "writing": writing,
        "encryptions": clock.calls["encrypt"],
        "blind_indexes": clock.calls["blind_index"],
        "households": Household.objects.count(),
        "tallies": PriorityTally.objects.count(),
    }


def run_peer(kind: str, url: str) -> dict[str, Any]:
    """A data clerk's script: read the rows, insert them as they are."""
    from openpyxl import load_workbook

    if kind == "sqlite":
        import sqlite3

        db: Any = sqlite3.connect(SQLITE_PATH)
        marker, key = "?", "integer primary key"
    else:
        import psycopg

        db = psycopg.connect(url.replace("postgres://", "postgresql://"))
        marker, key = "%s", "bigserial primary key"
    columns = 14
    names = ", ".join(f"c{n}" for n in range(columns))
    db.execute(f"CREATE TABLE peer_residents (id {key}, {names.replace(',', ' text,')} text)")
    db.commit()
    placeholders = ", ".join([marker] * columns)
    # Fixed column names and placeholders: nothing from the file is spliced into the SQL.
    insert = f"INSERT INTO peer_residents ({names}) VALUES ({placeholders})"  # noqa: S608
    gc.collect()
    started = time.perf_counter()
    book = load_workbook(WORKBOOK, read_only=True, data_only=True)
    sheet = book.worksheets[1]
    rows = sheet.iter_rows(min_row=2, max_col=columns, values_only=True)
    batch: list[tuple[Any, ...]] = []
    count = 0
    inserting = 0.0
    cursor = db.cursor()

    def insert_batch() -> float:
        begun = time.perf_counter()
        cursor.executemany(insert, batch)
        return time.perf_counter() - begun

    for values in rows:
        batch.append(tuple(None if v is None else str(v) for v in values))
        if len(batch) == PEER_BATCH:
            inserting += insert_batch()
            count += len(batch)
            batch = []
    if batch:
        inserting += insert_batch()
        count += len(batch)
    committing = time.perf_counter()
    db.commit()
    inserting += time.perf_counter() - committing
    book.close()
    seconds = time.perf_counter() - started
    db.close()
    assert count == ROWS, count
    return {
        "seconds": seconds,
        "records_per_second": ROWS / seconds,
        "reading": seconds - inserting,
        "inserting": inserting,
    }


def run(kind: str) -> None:
    """One database, in a process of its own (Django is set up once per process)."""
    url = fresh_database(kind)
    set_up_django(url)
    if not WORKBOOK.exists():
        print(f"generating {WORKBOOK.name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        generate_workbook()
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    data = WORKBOOK.read_bytes()
    linli = run_linli(data)
    peer = run_peer(kind, url)
    result = {
        "database": "SQLite" if kind == "sqlite" else "PostgreSQL",
        "rows": ROWS,
        "file_mb": len(data) / 1024 / 1024,
        "linli": linli,
        "peer": peer,
        "ratio": linli["records_per_second"] / peer["records_per_second"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result))


# --- The report ----------------------------------------------------------------------------


def main() -> None:
    results = []
    for kind in DATABASES:
        print(f"{kind}: importing {ROWS:,} residents …", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, __file__, "--run", kind],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            print(done.stdout, done.stderr, file=sys.stderr)
            raise SystemExit(f"the {kind} run failed")
        sys.stderr.write(done.stderr)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    first = results[0]
    print()
    print(
        f"{ROWS:,} residents, one workbook of {first['file_mb']:.1f} MB, "
        f"{dt.date.today().isoformat()}"
    )
    print()
    print(
        "| database | Linli records/s | Linli s | peer records/s | peer s | Linli ÷ peer "
        "| reading s | checking s | encrypting + indexing s | writing s "
        "| peer reading s | peer inserting s | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        linli, peer = r["linli"], r["peer"]
        print(
            f"| {r['database']} | {linli['records_per_second']:,.0f} | {linli['seconds']:.1f} "
            f"| {peer['records_per_second']:,.0f} | {peer['seconds']:.1f} | {r['ratio']:.2f} "
            f"| {linli['reading']:.1f} | {linli['checking']:.1f} | {linli['crypto']:.1f} "
            f"| {linli['writing']:.1f} | {peer['reading']:.1f} | {peer['inserting']:.1f} "
            f"| {r['peak_rss_mb']:,.0f} |"
        )
    print()
    for r in results:
        linli = r["linli"]
        print(
            f"{r['database']}: {linli['households']:,} households, "
            f"{linli['tallies']:,} tally rows, "
            f"{linli['encryptions']:,} encryptions, {linli['blind_indexes']:,} blind indexes"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--run":
        run(sys.argv[2])
    else:
        main()
