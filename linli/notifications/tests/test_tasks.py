"""One way to run background work, and the periodic jobs' in-process scheduler."""

from __future__ import annotations

import datetime as dt
import importlib.util
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from linli.core.models import JobRun
from linli.core.tasks import (
    PERIODIC_JOBS,
    JobSkipped,
    Periodic,
    Scheduler,
    enqueue,
    held,
    jobs_late,
    run_due_jobs,
    run_job,
    start_scheduler,
    task,
    uses_celery,
)

done: list[tuple[str, ...]] = []


@task("tests.remember")
def remember(*args: str) -> None:
    done.append(args)


@task("tests.tick")
def tick() -> str:
    return "ticked"


@task("tests.broken")
def broken() -> None:
    raise ValueError("the job broke")


@task("tests.nothing_to_do")
def nothing_to_do() -> None:
    raise JobSkipped("the service it needs is away")


HOURLY = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def forget():
    done.clear()


@pytest.mark.django_db
def test_a_task_runs_in_process_after_commit_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue("tests.remember", "kept")
            assert done == []
        try:
            with transaction.atomic():
                enqueue("tests.remember", "rolled back")
                raise RuntimeError
        except RuntimeError:
            pass
    assert done == [("kept",)]


@pytest.mark.django_db
def test_an_unknown_task_fails_in_the_caller_and_a_failing_one_does_not(
    django_capture_on_commit_callbacks, caplog
):
    with pytest.raises(ImproperlyConfigured):
        enqueue("tests.no_such_task")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue("tests.broken")
    assert "Background task tests.broken() failed" in caplog.text
    with pytest.raises(ImproperlyConfigured):

        @task("tests.remember")
        def impostor() -> None:
            pass


@pytest.mark.django_db
def test_held_tasks_are_not_run(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with held("tests.remember"):
            enqueue("tests.remember", "held")
        enqueue("tests.remember", "free")
    assert done == [("free",)]


@pytest.mark.django_db
def test_each_run_is_recorded_ok_failed_or_skipped():
    ok = run_job("tests.tick", runner="command")
    failed = run_job("tests.broken", runner="command")
    skipped = run_job("tests.nothing_to_do", runner="command")
    assert (ok.status, ok.detail) == ("ok", "ticked")
    assert failed.status == "failed"
    assert "ValueError: the job broke" in failed.detail
    assert (skipped.status, skipped.detail) == ("skipped", "the service it needs is away")
    assert all(run.finished_at for run in (ok, failed, skipped))


@pytest.mark.django_db
def test_a_job_runs_when_due_and_not_before():
    job = Periodic("tests.tick", HOURLY)
    (first,) = run_due_jobs(jobs=[job])
    assert (first.status, first.due_at) == ("ok", None)
    assert run_due_jobs(jobs=[job]) == []
    (second,) = run_due_jobs(jobs=[job], now=timezone.now() + HOURLY)
    assert second.due_at == first.started_at + HOURLY
    # A failed run is due again after the interval too: failures retry, visibly.
    failing = Periodic("tests.broken", HOURLY)
    assert [r.status for r in run_due_jobs(jobs=[failing])] == ["failed"]
    assert run_due_jobs(jobs=[failing]) == []


@pytest.mark.django_db
def test_a_run_still_going_is_not_doubled_and_an_abandoned_one_is_marked():
    job = Periodic("tests.tick", dt.timedelta(minutes=5))
    now = timezone.now()
    going = JobRun.objects.create(
        name=job.name, runner="scheduler", started_at=now - dt.timedelta(minutes=10)
    )
    (skipped,) = run_due_jobs(jobs=[job], now=now)
    assert skipped.status == "skipped"
    assert f"(id {going.pk}) is still going" in skipped.detail
    going.started_at = now - dt.timedelta(hours=2)
    going.save()
    (run,) = run_due_jobs(jobs=[job], now=now)
    assert run.status == "ok"
    going.refresh_from_db()
    assert going.status == "failed"
    assert going.detail.startswith("Interrupted")


@pytest.mark.django_db(transaction=True)
def test_the_in_process_scheduler_runs_a_due_job_and_records_it():
    scheduler = Scheduler(tick=0.05, jobs=[Periodic("tests.tick", HOURLY)])
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while not JobRun.objects.filter(name="tests.tick").exists():
            assert time.monotonic() < deadline, "the scheduler did not run the job"
            time.sleep(0.05)
        time.sleep(0.3)  # several more ticks: the job is not due again for an hour
    finally:
        scheduler.stop(timeout=10)
    assert not scheduler.is_alive()
    run = JobRun.objects.get(name="tests.tick")
    assert (run.status, run.runner, run.detail) == ("ok", "scheduler", "ticked")


def test_with_a_broker_beat_keeps_the_schedule_not_this_process(settings):
    assert not uses_celery()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    assert uses_celery()
    assert start_scheduler() is None
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert not uses_celery()


@pytest.mark.django_db
def test_late_jobs_are_reported():
    assert {job.name for job, _last in jobs_late()} == {job.name for job in PERIODIC_JOBS}
    run_job("requests.escalate_overdue", runner="command")
    assert "requests.escalate_overdue" not in {job.name for job, _last in jobs_late()}


@pytest.mark.django_db
def test_the_dispatch_job_runs_a_round_when_dispatch_exists():
    if importlib.util.find_spec("linli.requests.dispatch") is None:
        pytest.skip("linli.requests.dispatch is not written yet")
    run = run_job("requests.dispatch_round", runner="command")
    assert run.status == "ok", run.detail
    assert "assigned" in run.detail
