"""Reliability under real concurrency: threads with their own database connections,
committed transactions (no test transaction around them), the same outcomes on
PostgreSQL and on SQLite.

On SQLite the database's write lock serialises writers (transactions begin IMMEDIATE
and wait up to the busy timeout). Django's default SQLite test database is in memory
with a shared cache, where a second writer is refused at once ("database table is
locked") instead of waiting: there, and only there, the threads take turns on a lock,
which is the order a file database would impose anyway.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.regions.tests.factories import region_chain
from linli.requests import services
from linli.requests.choices import Action, State
from linli.requests.models import Assignment, IdempotencyKey, RequestEvent, ServiceRequest
from linli.requests.services import RequestInput, request_assign, request_create
from linli.residents.services import ResidentInput, resident_register

from .factories import responder_create

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16


def run_threads(
    jobs: list[Any],
    work: Callable[[Any], Any],
    threads: int = THREADS,
    together: threading.Barrier | None = None,
) -> list[Any]:
    """Run `work` on every job from `threads` threads, each on its own database
    connection, closed when the thread ends; `together` holds each job back until all
    threads are at the start line. Returns the results in job order."""
    todo: queue.Queue[tuple[int, Any]] = queue.Queue()
    for item in enumerate(jobs):
        todo.put(item)
    results: list[Any] = [None] * len(jobs)
    failures: list[BaseException] = []
    in_memory = connection.vendor == "sqlite" and "mode=memory" in str(
        connection.settings_dict["NAME"]
    )
    turns = threading.Lock() if in_memory else contextlib.nullcontext()

    def worker() -> None:
        try:
            while True:
                try:
                    index, job = todo.get_nowait()
                except queue.Empty:
                    return
                if together is not None:
                    together.wait(timeout=30)
                with turns:
                    results[index] = work(job)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=300)
    assert not failures, failures
    return results


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def worker(community):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


@pytest.fixture
def elder(community):
    person = resident_register(
        actor=None,
        data=ResidentInput(name="王秀英", community=community, address="幸福里3号"),
    )
    person.user = UserFactory.create()
    person.save()
    return person


def client_for(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def body(number: int) -> dict[str, Any]:
    return {"service": "elderly_meals", "description": f"第{number}次送餐", "urgency": "normal"}


def test_200_concurrent_creates_without_keys_make_200_requests(elder):
    def create(number: int) -> tuple[int, str]:
        response = client_for(elder.user).post("/api/v1/requests/", body(number), format="json")
        return response.status_code, response.json().get("public_id", response.content)

    results = run_threads(list(range(200)), create)

    assert Counter(status for status, _id in results) == {201: 200}
    assert len({public_id for _status, public_id in results}) == 200
    assert ServiceRequest.objects.count() == 200
    # Every request was triaged whole: two events each, nothing half-written.
    assert RequestEvent.objects.count() == 400
    assert not ServiceRequest.objects.exclude(state=State.TRIAGED).exists()


def test_50_keys_each_sent_4_times_at_once_make_50_requests(elder):
    # The four sends of one key sit side by side in the queue: four threads take them
    # at the same moment, so they race each other into the database.
    jobs = [(f"key-{number:02d}", number) for number in range(50) for _send in range(4)]

    def create(job: tuple[str, int]) -> tuple[str, int, str, str]:
        key, number = job
        response = client_for(elder.user).post(
            "/api/v1/requests/", body(number), format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        return (
            key,
            response.status_code,
            response.json().get("public_id", str(response.content)),
            response.headers.get("Idempotent-Replayed", ""),
        )

    results = run_threads(jobs, create)

    assert ServiceRequest.objects.count() == 50
    assert IdempotencyKey.objects.filter(request__isnull=False).count() == 50
    by_key: dict[str, set[str]] = {}
    for key, _status, public_id, _replayed in results:
        by_key.setdefault(key, set()).add(public_id)
    assert all(len(ids) == 1 for ids in by_key.values()), by_key
    assert len({next(iter(ids)) for ids in by_key.values()}) == 50
    # One creation per key (201), its three retries answered as replays (200).
    statuses = Counter((status, replayed) for _key, status, _id, replayed in results)
    assert statuses == {(201, ""): 50, (200, "true"): 150}
    assert RequestEvent.objects.count() == 100


def test_two_staff_assigning_one_request_at_once_one_wins_the_other_gets_409(
    elder, worker, community
):
    other = UserFactory.create()
    RoleAssignmentFactory(user=other, role=Role.COMMUNITY_WORKER, region=community)
    request = request_create(
        actor=elder.user, data=RequestInput(service="elderly_meals", person=elder)
    )
    first = responder_create(community, "elderly_meals", name="甲")
    second = responder_create(community, "elderly_meals", name="乙")
    url = f"/api/v1/requests/{request.public_id}/assign"

    def assign(job: tuple[Any, int]) -> int:
        staff, responder = job
        return client_for(staff).post(url, {"responder": responder}, format="json").status_code

    statuses = run_threads(
        [(worker, first.pk), (other, second.pk)],
        assign,
        threads=2,
        together=threading.Barrier(2),
    )

    assert sorted(statuses) == [200, 409]
    assert Assignment.objects.filter(request=request, ended_at__isnull=True).count() == 1
    assert Assignment.objects.filter(request=request).count() == 1
    request.refresh_from_db()
    winner = first if statuses[0] == 200 else second
    assert (request.state, request.responder_id) == (State.ASSIGNED, winner.pk)
    assert request.events.filter(action=Action.ASSIGN).count() == 1


@pytest.fixture
def assigned(elder, worker, community):
    request = request_create(
        actor=elder.user, data=RequestInput(service="elderly_meals", person=elder)
    )
    volunteer = responder_create(community, "elderly_meals")
    return request_assign(actor=worker, request=request, responder=volunteer), volunteer


def assert_still_assigned(request: ServiceRequest, volunteer: Any) -> None:
    fresh = ServiceRequest.objects.get(pk=request.pk)
    assert (fresh.state, fresh.responder_id) == (State.ASSIGNED, volunteer.pk)
    assert not fresh.events.filter(action=Action.ACCEPT).exists()
    assert list(fresh.events.values_list("action", flat=True)) == ["submit", "triage", "assign"]
    live = Assignment.objects.filter(request=request, ended_at__isnull=True)
    assert list(live.values_list("responder_id", flat=True)) == [volunteer.pk]


def test_a_crash_while_writing_the_accept_event_leaves_the_request_assigned(assigned, monkeypatch):
    """The state is saved first, then the event: the event write fails on a database
    constraint (a NOT NULL column), so the accept is rolled back whole."""
    request, volunteer = assigned
    real_event = services.request_event

    def broken_event(request: Any, action: Any, from_state: str, to_state: Any, **kwargs: Any):
        if action == Action.ACCEPT:
            # The state change is already written in this transaction when this runs.
            assert ServiceRequest.objects.get(pk=request.pk).state == State.ACCEPTED
            to_state = None  # violates NOT NULL in the database itself
        return real_event(request, action, from_state, to_state, **kwargs)

    monkeypatch.setattr(services, "request_event", broken_event)
    client = client_for(volunteer.user)
    # The test client re-raises what the view let through: a 500 is what a caller sees.
    client.raise_request_exception = False
    response = client.post(
        f"/api/v1/requests/{request.public_id}/transitions", {"action": "accept"}, format="json"
    )
    assert response.status_code == 500
    assert_still_assigned(request, volunteer)


def test_a_crash_after_accepting_but_before_commit_leaves_no_half_state(assigned):
    request, volunteer = assigned

    class Crash(Exception):
        pass

    def accept_then_crash() -> None:
        with transaction.atomic():
            moved = services.request_transition(
                actor=volunteer.user, request=request, action=Action.ACCEPT
            )
            assert moved.state == State.ACCEPTED
            assert RequestEvent.objects.filter(request=request, action=Action.ACCEPT).exists()
            raise Crash

    with pytest.raises(Crash):
        accept_then_crash()

    assert_still_assigned(request, volunteer)
