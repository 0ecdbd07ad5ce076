"""Benchmark: recomputing every satisfaction index for a year of 1,000,000 evaluations.

A fresh PostgreSQL database gets the demo district's regions, the shipped service
taxonomy, 400 providers, 4,000 responders, 60,000 raters, 1,000,000 completed
requests with one evaluation each over 2025 (seeded: providers differ in quality,
a priority group on about half of them) and 30,000 complaints. The insert is COPY
and is not the measure. Then, in the same run and on the same data:

- **Linli**: `compute_all_indices` for the year — one `values_list` query loads the
  evaluations into numpy arrays, four queries count complaints, numpy groups and
  computes the four kinds (provider, responder, community, service), everyone and
  each priority group apart. Also the four kinds one by one (`compute_indices`,
  one load each), as a page would ask for one of them.
- **Peer**: the same figures from plain SQL — per kind, a GROUP BY with AVG, COUNT
  and SUM(CASE …), the service means as a CTE for the prior, the shrinkage and the
  Wilson bound written in SQL, complaint counts joined in; and one more GROUP BY
  per kind for the priority groups. Eight queries.

- **Scorecards**: `compute_scorecards` for every community over the year, with the
  12 monthly trend points, ranks, best responders and priority groups (the requests
  carry due and completion times for timeliness).

It prints the seconds of each, their ratio, and checks that both agree to 1e-9 on
every figure of every row.

    make bench          # or: .venv/bin/python benchmarks/evaluation_indices.py
    ROWS=100000 .venv/bin/python benchmarks/evaluation_indices.py     # a quick look

BENCH_EVALUATIONS_DATABASE_URL (default a `linli_bench_evaluations` database on
127.0.0.1:5432, dropped and created afresh) points it elsewhere; REPEAT (default 3)
sets how many timed runs are taken (the best is kept).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("ROWS", "1000000"))
REPEAT = int(os.environ.get("REPEAT", "3"))
SEED = 2025
PROVIDERS, RESPONDERS, RATERS, COMPLAINTS = 400, 4000, 60000, 30000
YEAR_START, YEAR_END = dt.date(2025, 1, 1), dt.date(2026, 1, 1)
POSTGRES_URL = os.environ.get(
    "BENCH_EVALUATIONS_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/linli_bench_evaluations",
)
GROUPS = ["", "elderly", "elderly_living_alone", "disabled", "minor", "family_in_difficulty"]
GROUP_WEIGHTS = [0.50, 0.30, 0.08, 0.05, 0.04, 0.03]
FIGURES = (
    "n",
    "mean",
    "prior",
    "smoothed",
    "satisfied",
    "satisfied_share",
    "satisfied_lower",
    "needs_n",
    "needs_met",
    "complaints",
    "complaint_rate",
)
sys.path.insert(0, str(ROOT))


# --- Set-up --------------------------------------------------------------------------------


def fresh_database() -> None:
    import psycopg

    base, name = POSTGRES_URL.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')


def set_up_django() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": POSTGRES_URL,
            "LINLI_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from linli.core.registry import DemoContext
    from linli.regions.demo import build_demo_regions

    call_command("migrate", verbosity=0)
    build_demo_regions(
        DemoContext(
            seed=2021,
            scale="county",
            rng=random.Random("2021:regions"),
            echo=lambda _text: None,
            show_progress=False,
        )
    )


def copy_rows(model: Any, columns: dict[str, Any], count: int) -> None:
    """COPY `count` rows into `model`'s table: given columns vary, the rest take their default."""
    from django.db import connection

    given = dict(columns)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.column in given]
    names, values = [], []
    for field in fields:
        if field.column in given:
            names.append(field.column)
            values.append(given[field.column])
        elif not field.null:
            default = field.get_default()
            names.append(field.column)
            values.append([field.get_db_prep_save(default, connection)] * 1)
    constant = [len(v) == 1 and not isinstance(v, np.ndarray) for v in values]
    table = model._meta.db_table
    sql = f'COPY "{table}" ({", ".join(names)}) FROM STDIN'
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(sql) as copy:
            for i in range(count):
                copy.write_row(
                    [v[0] if c else _plain(v[i]) for v, c in zip(values, constant, strict=True)]
                )


def only(mask: Any, values: Any) -> Any:
    """`values` where `mask` holds, NULL elsewhere."""
    out = np.asarray(values).astype(object)
    out[~mask] = None
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def build_data() -> dict[str, Any]:
    """Providers, responders, raters, requests, evaluations and complaints: seeded, by COPY."""
    import uuid
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from linli.directory.models import Organization, TaxonomyTerm
    from linli.evaluations.models import Complaint, Evaluation
    from linli.regions.choices import RegionLevel
    from linli.regions.models import Region
    from linli.requests.models import Responder, ServiceRequest

    rng = np.random.default_rng(SEED)
    communities = np.array(
        list(
            Region.objects.filter(level=RegionLevel.COMMUNITY)
            .order_by("code")
            .values_list("code", flat=True)
        ),
        dtype=object,
    )
    services = np.array(
        list(TaxonomyTerm.objects.order_by("code").values_list("id", flat=True)[:40]),
        dtype=object,
    )
    home = communities[0]
    now = timezone.now()

    org_ids = np.array([uuid.UUID(int=rng.integers(1, 2**63).item()) for _ in range(PROVIDERS)])
    copy_rows(
        Organization,
        {
            "id": org_ids,
            "name": np.array([f"服务中心{i}" for i in range(PROVIDERS)], dtype=object),
            "last_modified": [now],
        },
        PROVIDERS,
    )
    responder_org = rng.integers(0, PROVIDERS, RESPONDERS)
    copy_rows(
        Responder,
        {
            "id": np.arange(1, RESPONDERS + 1),
            "kind": ["provider_staff"],
            "name": ["服务人员"],
            "organization_id": org_ids[responder_org],
            "region_id": [home],
            "radius_km": [Decimal("3.0")],
            "created_at": [now],
        },
        RESPONDERS,
    )
    User = get_user_model()
    copy_rows(
        User,
        {
            "id": np.arange(1, RATERS + 1),
            "username": np.array([f"rater{i}" for i in range(RATERS)], dtype=object),
            "password": ["!"],
            "date_joined": [now],
        },
        RATERS,
    )
    with connection.cursor() as cursor:
        for table in (Responder._meta.db_table, User._meta.db_table):
            # Our own table names, not input.
            sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"  # noqa: S608
            cursor.execute(sql)

    # Providers differ in quality; services in difficulty; people in generosity.
    provider_quality = rng.normal(4.1, 0.35, PROVIDERS)
    service_ease = rng.normal(0.0, 0.25, len(services))
    responder = rng.integers(0, RESPONDERS, ROWS)
    service = rng.integers(0, len(services), ROWS)
    latent = (
        provider_quality[responder_org[responder]]
        + service_ease[service]
        + rng.normal(0, 0.8, ROWS)
    )
    overall = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    need = np.where(
        latent + rng.normal(0, 0.5, ROWS) > 3.8,
        "yes",
        np.where(latent > 2.8, "partly", "no"),
    ).astype(object)
    seconds = rng.uniform(0, 365 * 86400, ROWS)
    start = timezone.make_aware(dt.datetime.combine(YEAR_START, dt.time.min))
    created = np.array([start + dt.timedelta(seconds=float(s)) for s in seconds], dtype=object)
    community = communities[rng.integers(0, len(communities), ROWS)]
    ids = np.arange(1, ROWS + 1)
    copy_rows(
        ServiceRequest,
        {
            "id": ids,
            "public_id": np.array([f"B{i:09d}" for i in ids], dtype=object),
            "channel": ["resident"],
            "service_id": services[service],
            "community_id": community,
            "state": ["confirmed"],
            "responder_id": responder + 1,
            "created_at": created,
            "updated_at": created,
            # For the scorecards' timeliness: due within two days, done within 0–3 days.
            "due_at": created + np.array([dt.timedelta(days=2)] * ROWS, dtype=object),
            "completed_at": created
            + np.array(
                [dt.timedelta(seconds=float(s)) for s in rng.uniform(0, 3 * 86400, ROWS)],
                dtype=object,
            ),
        },
        ROWS,
    )
    copy_rows(
        Evaluation,
        {
            "id": ids,
            "request_id": ids,
            "rater_id": rng.integers(1, RATERS + 1, ROWS),
            "responder_id": responder + 1,
            "organization_id": org_ids[responder_org[responder]],
            "community_id": community,
            "service_id": services[service],
            "priority_group": np.array(GROUPS, dtype=object)[
                rng.choice(len(GROUPS), ROWS, p=GROUP_WEIGHTS)
            ],
            "overall": overall,
            "timeliness": overall,
            "attitude": overall,
            "quality": overall,
            "need_met": need,
            "created_at": created,
            "updated_at": created,
        },
        ROWS,
    )
    # Complaints: a third against requests, a third against providers, a third
    # against responders; bad providers draw more.
    weights = np.exp(-2 * (provider_quality - provider_quality.min()))
    against = rng.integers(0, 3, COMPLAINTS)
    on_request = rng.integers(1, ROWS + 1, COMPLAINTS)
    on_org = rng.choice(PROVIDERS, COMPLAINTS, p=weights / weights.sum())
    on_responder = rng.integers(1, RESPONDERS + 1, COMPLAINTS)
    filed = np.array(
        [start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, 365 * 86400, COMPLAINTS)],
        dtype=object,
    )
    copy_rows(
        Complaint,
        {
            "complainant_id": rng.integers(1, RATERS + 1, COMPLAINTS),
            "request_id": only(against == 0, on_request),
            "organization_id": only(against == 1, org_ids[on_org]),
            "responder_id": only(against == 2, on_responder),
            "community_id": communities[rng.integers(0, len(communities), COMPLAINTS)],
            "text": ["服务不及时"],
            "respond_by": filed,
            "created_at": filed,
        },
        COMPLAINTS,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"communities": len(communities), "services": len(services)}


# --- The peer: plain SQL -------------------------------------------------------------------

KEY_COLUMNS = {
    "provider": "organization_id",
    "responder": "responder_id",
    "community": "community_id",
    "service": "service_id",
}
COMPLAINT_SQL = {
    "provider": "COALESCE(c.organization_id, cr.organization_id, rr.organization_id)",
    "responder": "COALESCE(c.responder_id, r.responder_id)",
    "community": "c.community_id",
    "service": "r.service_id",
}
Z = 1.96


def peer_sql(kind: str, by_group: bool) -> str:
    key = KEY_COLUMNS[kind]
    prior = "g.grand" if kind == "service" else "s.m"
    group_select = "e.priority_group," if by_group else ""
    group_by = "e.priority_group, " if by_group else ""
    group_where = "AND e.priority_group <> ''" if by_group else ""
    join = "" if by_group else "LEFT JOIN complained k ON k.key = a.key"
    complaints = "NULL::bigint" if by_group else "COALESCE(k.n, 0)"
    # Only names from the constants above go into the text; values are parameters.
    return f"""
    WITH e AS (
        SELECT * FROM evaluations_evaluation
        WHERE created_at >= %(start)s AND created_at < %(end)s
    ),
    s AS (SELECT service_id, AVG(overall)::float8 AS m FROM e GROUP BY service_id),
    g AS (SELECT AVG(overall)::float8 AS grand FROM e),
    complained AS (
        SELECT {COMPLAINT_SQL[kind]} AS key, COUNT(*) AS n
        FROM evaluations_complaint c
        LEFT JOIN requests_servicerequest r ON r.id = c.request_id
        LEFT JOIN requests_responder rr ON rr.id = r.responder_id
        LEFT JOIN requests_responder cr ON cr.id = c.responder_id
        WHERE c.created_at >= %(start)s AND c.created_at < %(end)s
        GROUP BY 1
    ),
    a AS (
        SELECT {group_select} e.{key} AS key,
            COUNT(*) AS n,
            SUM(e.overall)::float8 AS total,
            AVG(e.overall)::float8 AS mean,
            AVG({prior}) AS prior,
            SUM(CASE WHEN e.overall >= 4 THEN 1 ELSE 0 END) AS satisfied,
            COUNT(*) FILTER (WHERE e.need_met IN ('yes', 'partly', 'no')) AS needs_n,
            AVG(CASE e.need_met WHEN 'yes' THEN 1.0 WHEN 'partly' THEN 0.5
                WHEN 'no' THEN 0.0 END)::float8 AS needs_met
        FROM e JOIN s ON s.service_id = e.service_id CROSS JOIN g
        WHERE e.{key} IS NOT NULL {group_where}
        GROUP BY {group_by} e.{key}
    )
    SELECT {group_select.replace("e.", "a.")} a.key, a.n, a.mean, a.prior,
        (a.total + %(m)s * a.prior) / (a.n + %(m)s) AS smoothed,
        a.satisfied,
        a.satisfied::float8 / a.n AS share,
        GREATEST(0.0, (a.satisfied::float8 / a.n + {Z * Z} / (2.0 * a.n)
            - {Z} * SQRT((a.satisfied::float8 / a.n) * (1 - a.satisfied::float8 / a.n) / a.n
                         + {Z * Z} / (4.0 * a.n * a.n)))
            / (1 + {Z * Z} / a.n)) AS lower,
        a.needs_n, a.needs_met,
        {complaints} AS complaints
    FROM a {join}
    """  # noqa: S608


def run_peer(start: dt.datetime, end: dt.datetime, weight: float) -> dict[str, Any]:
    from django.db import connection

    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for kind in KEY_COLUMNS:
            params: dict[str, Any] = {"start": start, "end": end, "m": weight}
            cursor.execute(peer_sql(kind, by_group=False), params)
            everyone = cursor.fetchall()
            cursor.execute(peer_sql(kind, by_group=True), params)
            groups = cursor.fetchall()
            out[kind] = (everyone, groups)
    return out


def peer_rows(rows: list[tuple[Any, ...]]) -> dict[Any, dict[str, Any]]:
    table = {}
    for key, n, mean, prior, smoothed, satisfied, share, lower, needs_n, needs, compl in rows:
        table[key] = {
            "n": n,
            "mean": mean,
            "prior": prior,
            "smoothed": smoothed,
            "satisfied": satisfied,
            "satisfied_share": share,
            "satisfied_lower": lower,
            "needs_n": needs_n,
            "needs_met": needs,
            "complaints": compl,
            "complaint_rate": None if compl is None else compl / n,
        }
    return table


def compare(linli: dict[str, Any], peer: dict[str, Any]) -> tuple[int, float]:
    """Rows checked and the largest difference; raises if any figure differs by more than 1e-9."""
    checked, worst = 0, 0.0

    def same(ours: list[Any], theirs: dict[Any, dict[str, Any]], where: str) -> None:
        nonlocal checked, worst
        rated = [r for r in ours if r["n"] > 0]
        if {r["key"] for r in rated} != set(theirs):
            raise AssertionError(f"{where}: different keys")
        for row in rated:
            other = theirs[row["key"]]
            for name in FIGURES:
                a, b = row[name], other[name]
                if a is None or b is None:
                    if a is not b:
                        raise AssertionError(f"{where} {row['key']} {name}: {a} vs {b}")
                    continue
                gap = abs(float(a) - float(b))
                worst = max(worst, gap)
                if not gap <= 1e-9:
                    raise AssertionError(f"{where} {row['key']} {name}: {a} vs {b}")
            checked += 1

    for kind, (everyone, groups) in peer.items():
        same(linli[kind].rows, peer_rows(everyone), kind)
        by_group: dict[str, list[tuple[Any, ...]]] = {}
        for group, *rest in groups:
            by_group.setdefault(group, []).append(tuple(rest))
        if set(by_group) != set(linli[kind].priority_groups):
            raise AssertionError(f"{kind}: different priority groups")
        for group, rows in by_group.items():
            same(linli[kind].priority_groups[group], peer_rows(rows), f"{kind}/{group}")
    return checked, worst


# --- Run -----------------------------------------------------------------------------------


def best_of(action: Any) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    fresh_database()
    set_up_django()
    from django.db import connection
    from django.utils import timezone

    from linli.evaluations.indices import (
        KINDS,
        compute_all_indices,
        compute_indices,
        load_columns,
        prior_weight,
    )

    started = time.perf_counter()
    shape = build_data()
    print(
        f"Inserted {ROWS:,} evaluations ({shape['services']} services, {PROVIDERS} providers, "
        f"{RESPONDERS} responders, {shape['communities']} communities) and {COMPLAINTS:,} "
        f"complaints by COPY in {time.perf_counter() - started:.1f} s (not the measure)."
    )
    start = timezone.make_aware(dt.datetime.combine(YEAR_START, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(YEAR_END, dt.time.min))
    weight = prior_weight()
    # Warm PostgreSQL's cache once so neither side pays for the first read from disk.
    run_peer(start, end, weight)

    linli_all, indices = best_of(
        lambda: compute_all_indices(period_start=YEAR_START, period_end=YEAR_END)
    )
    linli_each, _ = best_of(
        lambda: [
            compute_indices(kind=k, period_start=YEAR_START, period_end=YEAR_END) for k in KINDS
        ]
    )
    from linli.evaluations import indices as indices_module

    # The kinds read from evaluations (facility ratings, when present, are another table).
    evaluation_kinds = getattr(indices_module, "EVALUATION_KINDS", KINDS)
    load_seconds, _ = best_of(lambda: load_columns(start, end, None, evaluation_kinds))
    # Scorecards for every community of the year: parts, composite, ranks, 12-month trend,
    # best responders and priority groups, from one load of each table (scorecards.py).
    from linli.evaluations.scorecards import Period, compute_scorecards

    year = Period(YEAR_START, YEAR_END, str(YEAR_START.year))
    scorecard_seconds, cards = best_of(
        lambda: compute_scorecards(region_code="", period=year, now=end)
    )
    peer_seconds, peer = best_of(lambda: run_peer(start, end, weight))
    checked, worst = compare(indices, peer)

    rows = sum(len(i.rows) for i in indices.values())
    group_rows = sum(len(r) for i in indices.values() for r in i.priority_groups.values())
    print(
        f"PostgreSQL {getattr(connection, 'pg_version', '?')}, numpy {np.__version__},"
        f" best of {REPEAT}"
    )
    print(f"Rows: {rows} (everyone) + {group_rows} (priority groups); prior weight m = {weight}")
    print(f"Linli, all four kinds, one load:      {linli_all:7.2f} s")
    print(f"  of which loading the rows:          {load_seconds:7.2f} s")
    print(f"Linli, four kinds one by one:         {linli_each:7.2f} s")
    print(f"Peer, plain SQL GROUP BY (8 queries): {peer_seconds:7.2f} s")
    print(f"Ratio Linli (one load) / peer:        {linli_all / peer_seconds:7.2f}")
    print(f"Agreement: {checked} rows, largest difference {worst:.2e} (limit 1e-9)")
    print(
        f"Scorecards, {len(cards.cards)} communities, year + 12 months of trend:"
        f" {scorecard_seconds:7.2f} s"
    )
    print(f"Indices and scorecards together:      {linli_all + scorecard_seconds:7.2f} s")


if __name__ == "__main__":
    main()
