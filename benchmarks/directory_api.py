"""Benchmark: the search API and /hsds/services on 50,000 services and 20,000 facilities.

Runs on PostgreSQL (BENCH_DATABASE_URL, default a `linli_bench` database on
127.0.0.1:5432, created when missing). It builds the county demo, tops the
directory up with generated facilities and services, serves Linli with
`linli serve` (waitress, one process) and sends requests from client threads
for a fixed time per scenario, recording requests per second and latency
percentiles.

The side-by-side peer is the floor under any implementation: the very SQL
statements Linli issues for each request, captured once and replayed straight
through psycopg from the same number of threads, with no HTTP, no Django and
no serialisation. Linli ÷ floor says what the application layers cost on top
of the database.

    make bench                      # or: .venv/bin/python benchmarks/directory_api.py
    BENCH_SECONDS=30 BENCH_CLIENTS=8 make bench
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_bench"
)
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
PORT = int(os.environ.get("BENCH_PORT", "8766"))
SERVICES, FACILITIES = 50_000, 20_000

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "LINLI_LOG_LEVEL": "WARNING",
    }
)
sys.path.insert(0, str(ROOT))


def ensure_database() -> None:
    import psycopg

    base, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')


def build_data() -> None:
    """The county demo, then generated facilities and services up to the target sizes."""
    from django.core.management import call_command

    from linli.core.services import demo_build
    from linli.directory import models as m
    from linli.directory.choices import AttributeLinkType, FacilityKind, FeeKind, LinkEntity
    from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
    from linli.regions.models import Region

    call_command("migrate", verbosity=0)
    demo_build(seed=2021, scale="county", echo=lambda _t: None, show_progress=False)
    missing_facilities = FACILITIES - m.Location.objects.count()
    missing_services = SERVICES - m.Service.objects.count()
    if missing_facilities <= 0 and missing_services <= 0:
        return
    print(
        f"generating {missing_facilities} facilities and {missing_services} services …", flush=True
    )
    rng = random.Random(7)
    places = [
        (code, lat or 0.0, lon or 0.0)
        for code, lat, lon in Region.objects.filter(level="community").values_list(
            "code", "lat", "lon"
        )
    ]
    terms = list(
        m.TaxonomyTerm.objects.filter(
            taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY), parent__isnull=False
        )
    )
    organization = m.Organization.objects.order_by("name").first()
    kinds = [k for k in FacilityKind.values if k != FacilityKind.OTHER]

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    facilities = []
    for index in range(max(missing_facilities, 0)):
        code, lat, lon = rng.choice(places)
        facilities.append(
            m.Location(
                id=uid(),
                name=f"基准设施{index}",
                kind=rng.choice(kinds),
                region_id=code,
                latitude=lat + rng.uniform(-0.01, 0.01),
                longitude=lon + rng.uniform(-0.01, 0.01),
                organization=organization,
            )
        )
    m.Location.objects.bulk_create(facilities, batch_size=2000)
    m.Schedule.objects.bulk_create(
        [
            m.Schedule(
                id=uid(),
                location=f,
                freq="WEEKLY",
                byday="MO,TU,WE,TH,FR",
                opens_at="08:30",
                closes_at="17:30",
            )
            for f in facilities
        ],
        batch_size=2000,
    )
    everywhere = list(m.Location.objects.values_list("id", flat=True))
    services, at_locations, attributes = [], [], []
    for index in range(max(missing_services, 0)):
        term = rng.choice(terms)
        service = m.Service(
            id=uid(),
            organization=organization,
            name=f"{term.name}服务{index}",
            description=f"{term.name}（{term.name_en}）基准数据",
            status="active",
            fee_kind=rng.choice(FeeKind.values),
            at_home=rng.random() < 0.2,
        )
        services.append(service)
        at_locations.append(
            m.ServiceAtLocation(id=uid(), service=service, location_id=rng.choice(everywhere))
        )
        attributes.append(
            m.Attribute(
                id=uid(),
                link_id=service.id,
                link_entity=LinkEntity.SERVICE,
                link_type=AttributeLinkType.CATEGORY,
                taxonomy_term=term,
            )
        )
    m.Service.objects.bulk_create(services, batch_size=2000)
    m.ServiceAtLocation.objects.bulk_create(at_locations, batch_size=2000)
    m.Attribute.objects.bulk_create(attributes, batch_size=2000)
    call_command(
        "shell",
        command="from django.db import connection; connection.cursor().execute('ANALYZE')",
        verbosity=0,
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    paths: list[str]


def scenarios() -> list[Scenario]:
    from linli.regions.models import Region

    villages = list(Region.objects.filter(kind="rural").values_list("code", "lat", "lon")[:20])
    search = "/api/v1/services/search?"
    return [
        Scenario(
            "search 助餐 near a village",
            [
                search + urlencode({"q": "助餐", "near": code, "page_size": 20})
                for code, _a, _o in villages
            ],
        ),
        Scenario(
            "search medical care open now from a point",
            [
                search
                + urlencode(
                    {"category": "medical_care", "open_now": "true", "lat": lat, "lon": lon}
                )
                for _c, lat, lon in villages
            ],
        ),
        Scenario(
            "/hsds/services, 50 a page",
            [
                f"/hsds/services?{urlencode({'per_page': 50, 'page': page})}"
                for page in range(1, 200, 10)
            ],
        ),
        Scenario(
            "/hsds/services?search=助餐",
            ["/hsds/services?" + urlencode({"search": "助餐", "per_page": 50})],
        ),
    ]


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return (
            ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")
        )


def hammer(make_call: Callable[[int], Callable[[str], bool]], paths: list[str]) -> Result:
    """CLIENTS threads, each calling one path after another for SECONDS."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + SECONDS

    def client(number: int) -> None:
        call = make_call(number)
        mine, bad, turn = [], 0, number
        while time.perf_counter() < stop:
            path = paths[turn % len(paths)]
            turn += 1
            started = time.perf_counter()
            ok = call(path)
            mine.append((time.perf_counter() - started) * 1000)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    begun = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(len(latencies), time.perf_counter() - begun, latencies, errors[0])


def http_caller(_number: int) -> Callable[[str], bool]:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def call(path: str) -> bool:
        connection.request("GET", path, headers={"Accept-Language": "zh-hans"})
        response = connection.getresponse()
        response.read()
        return response.status == 200

    return call


def captured_sql(paths: list[str]) -> dict[str, list[tuple[str, tuple]]]:
    """The statements Linli runs for each path, with their parameters, as psycopg takes them."""
    from django.db import connection
    from django.test import Client

    statements: dict[str, list[tuple[str, tuple]]] = {}
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for path in paths:
        seen: list[tuple[str, tuple]] = []

        def record(execute, sql, params, many, context, seen=seen):
            seen.append((sql, tuple(params or ())))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            assert client.get(path).status_code == 200, path
        statements[path] = seen
    return statements


def sql_caller_for(
    statements: dict[str, list[tuple[str, tuple]]],
) -> Callable[[int], Callable[[str], bool]]:
    import psycopg

    def make(_number: int) -> Callable[[str], bool]:
        db = psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True)

        def call(path: str) -> bool:
            for sql, params in statements[path]:
                cursor = db.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()
            return True

        return call

    return make


def serve() -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/linli"),
            "serve",
            "--no-scheduler",
            "--port",
            str(PORT),
            "--threads",
            str(CLIENTS),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    for _attempt in range(120):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("linli serve did not answer /healthz")


def main() -> None:
    ensure_database()
    import django

    django.setup()
    build_data()
    from linli.directory.models import Location, Service

    counts = {"services": Service.objects.count(), "facilities": Location.objects.count()}
    print(f"data: {counts['services']:,} services, {counts['facilities']:,} facilities", flush=True)
    server = serve()
    rows = []
    try:
        for scenario in scenarios():
            statements = captured_sql(scenario.paths)
            per_request = statistics.mean(len(v) for v in statements.values())
            http_caller(0)(scenario.paths[0])  # warm the server
            linli = hammer(http_caller, scenario.paths)
            floor = hammer(sql_caller_for(statements), scenario.paths)
            rows.append(
                {
                    "scenario": scenario.name,
                    "queries_per_request": round(per_request, 1),
                    "linli_rps": round(linli.rps, 1),
                    "linli_p50_ms": round(linli.percentile(50), 1),
                    "linli_p95_ms": round(linli.percentile(95), 1),
                    "linli_errors": linli.errors,
                    "sql_floor_rps": round(floor.rps, 1),
                    "sql_floor_p95_ms": round(floor.percentile(95), 1),
                    "linli_vs_floor": round(linli.rps / floor.rps, 2),
                }
            )
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print()
    print(
        f"{CLIENTS} client threads, {SECONDS:.0f} s a scenario, "
        f"{counts['services']:,} services, {counts['facilities']:,} facilities, PostgreSQL"
    )
    columns = [
        ("scenario", "scenario"),
        ("queries_per_request", "SQL/request"),
        ("linli_rps", "Linli req/s"),
        ("linli_p50_ms", "p50 ms"),
        ("linli_p95_ms", "p95 ms"),
        ("sql_floor_rps", "SQL floor req/s"),
        ("sql_floor_p95_ms", "floor p95 ms"),
        ("linli_vs_floor", "Linli ÷ floor"),
    ]
    print("| " + " | ".join(title for _key, title in columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[key]) for key, _title in columns) + " |")


if __name__ == "__main__":
    main()
