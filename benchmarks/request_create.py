"""Benchmark: creating service requests (with triage) through the API, next to a trivial
JSON endpoint on the same server in the same run.

On PostgreSQL (BENCH_REQUESTS_DATABASE_URL, default a `linli_bench_requests` database
on 127.0.0.1:5432, created when missing and reused) it builds the small demo district,
gives the demo community worker an API token, and serves Linli under gunicorn
(`config.wsgi`, gthread workers; `linli serve` with waitress when gunicorn is not
installed; the output says which). Then BENCH_CLIENTS client threads (16), each with
one keep-alive HTTP connection, send for BENCH_SECONDS per scenario:

- `GET /api/v1/ping`: the floor: the same middleware, token authentication and
  DRF view machinery, no database work of our own;
- `POST /api/v1/requests/`: a phone request taken by the community worker for one of
  the community's residents (rotating through them, so triage reads their priority
  groups): checks, encryption of the description and contact fields, triage, service
  levels, two events, the announcements after commit, and the keeper's view back;
- the same POST with a fresh `Idempotency-Key` each time: what the key row costs.

Each step of a request is announced after commit (the resident, the responder, the
community worker hear of it). Production hands that to Celery through Redis; the
embedded default runs it in the web process. The scenarios run once each way
(BENCH_BROKER_URL, default redis://127.0.0.1:6379/13; its queued messages are deleted
afterwards, no worker consumes them here; "" measures the embedded default only).

It prints requests per second and p50/p95 latency per scenario, and ping ÷ create:
what our code costs over the framework. Requests it created in earlier runs are
deleted first, so runs start alike.

    make bench        # or: .venv/bin/python benchmarks/request_create.py
    BENCH_SECONDS=30 BENCH_WORKERS=4 BENCH_THREADS=4 .venv/bin/python benchmarks/request_create.py
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get(
    "BENCH_REQUESTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_bench_requests"
)
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
WARM_SECONDS = float(os.environ.get("BENCH_WARM_SECONDS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
CORES = os.cpu_count() or 1
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * CORES)))
THREADS = int(os.environ.get("BENCH_THREADS", str(max(1, CLIENTS // WORKERS))))
PORT = int(os.environ.get("BENCH_PORT", "8767"))
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")  # or "waitress"
# Production hands the announcements that follow each step to Celery through Redis; the
# embedded default runs them in the web process after commit. Both are measured; the
# queued messages (no worker consumes them here) are deleted afterwards. "" skips it.
# Database 13: production uses 0, the cache 1, the test suites 14 and 15.
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
USERNAME = "demo_community_worker"

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


def prepare() -> tuple[str, list[int], str]:
    """The demo district, a token for the community worker, the residents to ask for,
    and the community's code. Earlier runs' requests are deleted."""
    from django.core.management import call_command
    from knox.models import AuthToken

    from linli.accounts.models import User
    from linli.core.services import demo_build
    from linli.requests.models import ServiceRequest
    from linli.residents.models import Resident

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as `linli serve` does
    demo_build(seed=7, scale="small", echo=lambda _t: None, show_progress=False)
    worker = User.objects.get(username=USERNAME)
    ServiceRequest.objects.filter(requested_by=worker, address=BENCH_ADDRESS).delete()
    community = worker.role_assignments.get(role="community_worker").region
    assert community is not None
    people = list(
        Resident.objects.filter(community=community, anonymized_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    _instance, token = AuthToken.objects.create(user=worker)
    return token, people, community.code


# The address (in clear, unlike the description) marks the benchmark's requests.
BENCH_ADDRESS = "基准测试地址"


def server_command() -> tuple[list[str], str]:
    gunicorn = shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin"))
    if SERVER == "gunicorn" and gunicorn:
        return [
            gunicorn,
            "config.wsgi:application",
            f"--bind=127.0.0.1:{PORT}",
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            f"--threads={THREADS}",
            "--keep-alive=30",
            "--log-level=warning",
        ], f"gunicorn {WORKERS} gthread workers × {THREADS} threads"
    return [
        str(ROOT / ".venv" / "bin" / "linli"),
        "serve",
        "--port",
        str(PORT),
        "--threads",
        str(CLIENTS),
    ], f"waitress (linli serve), 1 process × {CLIENTS} threads"


def serve(broker_url: str) -> tuple[subprocess.Popen, str]:
    command, label = server_command()
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": broker_url},
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )
    for _attempt in range(120):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/api/v1/ping")
            if connection.getresponse().status == 200:
                return server, label
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the server ({label}) did not answer /api/v1/ping")


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
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


Call = Callable[[http.client.HTTPConnection, int], bool]


def hammer(call: Call, seconds: float) -> Result:
    """CLIENTS threads, each on its own keep-alive connection, calling for `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)
    stop = [0.0]

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        mine, bad, turn = [], 0, number
        start.wait()
        while time.perf_counter() < stop[0]:
            began = time.perf_counter()
            try:
                ok = call(connection, turn)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                ok = False
            mine.append((time.perf_counter() - began) * 1000)
            bad += not ok
            turn += CLIENTS
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    stop[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    return Result(len(latencies), time.perf_counter() - began, latencies, errors[0])


def calls(token: str, people: list[int], community: str) -> dict[str, Call]:
    auth = {"Authorization": f"Token {token}", "Accept-Language": "zh-hans"}
    post_headers = {**auth, "Content-Type": "application/json"}

    def ping(connection: http.client.HTTPConnection, _turn: int) -> bool:
        connection.request("GET", "/api/v1/ping", headers=auth)
        response = connection.getresponse()
        response.read()
        return response.status == 200

    def body(turn: int) -> bytes:
        return json.dumps(
            {
                "service": "elderly_meals",
                "person": people[turn % len(people)],
                "community": community,
                "description": f"请每天中午送一份午餐，谢谢（第{turn}次）",
                "urgency": ("normal", "high", "low", "urgent")[turn % 4],
                "address": BENCH_ADDRESS,
                "contact_name": "基准测试",
                "contact_phone": "14000000000",
            },
            ensure_ascii=False,
        ).encode()

    def create(connection: http.client.HTTPConnection, turn: int) -> bool:
        connection.request("POST", "/api/v1/requests/", body=body(turn), headers=post_headers)
        response = connection.getresponse()
        response.read()
        return response.status == 201

    def create_with_key(connection: http.client.HTTPConnection, turn: int) -> bool:
        headers = {**post_headers, "Idempotency-Key": uuid.uuid4().hex}
        connection.request("POST", "/api/v1/requests/", body=body(turn), headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status == 201

    return {
        "GET /api/v1/ping": ping,
        "POST /api/v1/requests/": create,
        "POST /api/v1/requests/ + Idempotency-Key": create_with_key,
    }


def queries_per_create(people: list[int], community: str) -> tuple[int, int]:
    """The SQL statements one creation issues, counted in this process: the request's
    own, and with the announcements after commit run in-process too."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from linli.accounts.models import User
    from linli.core.tasks import held

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username=USERNAME))
    payload = {
        "service": "elderly_meals",
        "person": people[0],
        "community": community,
        "address": BENCH_ADDRESS,
    }

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/requests/", payload, content_type="application/json")
        assert response.status_code == 201, response.content
        # The session and user look-ups stand in for the token's, which a client pays.
        return len(captured)

    count()  # warm
    with held("requests.announce_event"):
        own = count()
    return own, count()


def broker_reachable() -> bool:
    if not BROKER_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER_URL, socket_timeout=2).ping())
    except redis.RedisError:
        print(f"{BROKER_URL} does not answer: measuring the embedded default only")
        return False


def drain_broker() -> int:
    """Delete what the web processes queued for Celery; how many messages there were."""
    import redis

    queue = redis.Redis.from_url(BROKER_URL)
    queued = int(queue.llen("celery"))
    queue.delete("celery", *queue.scan_iter("_kombu.binding*celery"))
    return queued


def run(broker_url: str, token: str, people: list[int], community: str) -> tuple[str, list]:
    server, label = serve(broker_url)
    rows: list[dict[str, Any]] = []
    where = "Celery (Redis)" if broker_url else "the web process"
    try:
        for name, call in calls(token, people, community).items():
            hammer(call, WARM_SECONDS)
            result = hammer(call, SECONDS)
            rows.append(
                {
                    "announcements": where,
                    "scenario": name,
                    "requests": result.requests,
                    "rps": round(result.rps, 1),
                    "p50_ms": round(result.percentile(50), 1),
                    "p95_ms": round(result.percentile(95), 1),
                    "errors": result.errors,
                }
            )
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if broker_url:
        print(f"  ({drain_broker()} queued announcements deleted)", flush=True)
    return label, rows


def main() -> None:
    ensure_database()
    import django

    django.setup()
    token, people, community = prepare()
    own, total = queries_per_create(people, community)
    rows: list[dict[str, Any]] = []
    label = ""
    for broker_url in [BROKER_URL] if broker_reachable() else []:
        label, done = run(broker_url, token, people, community)
        rows += done
    label, done = run("", token, people, community)
    rows += done
    print()
    print(
        f"{label}; {CLIENTS} client threads with keep-alive, {SECONDS:.0f} s a scenario "
        f"(after {WARM_SECONDS:.0f} s of warm-up); PostgreSQL; {CORES} cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}; "
        f"SQL statements per creation: {own}, {total} with its announcements"
    )
    print("| announcements | scenario | req/s | p50 ms | p95 ms | errors | ping ÷ this |")
    print("|---|---|---|---|---|---|---|")
    ping_rps: dict[str, float] = {}
    for row in rows:
        ping_rps.setdefault(row["announcements"], row["rps"])
        ratio = ping_rps[row["announcements"]] / row["rps"] if row["rps"] else float("nan")
        print(
            f"| {row['announcements']} | {row['scenario']} | {row['rps']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['errors']} | {ratio:.1f} |"
        )


if __name__ == "__main__":
    main()
