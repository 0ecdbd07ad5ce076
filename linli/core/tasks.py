"""Background work: one way to run a task, and one table of periodic jobs.

`@task(name)` registers a function; `enqueue(name, *args)` runs it once the
current transaction has committed, so nothing is done for data that was rolled
back:

- on a Celery worker when a broker is configured (CELERY_BROKER_URL set and
  CELERY_TASK_ALWAYS_EAGER off): production;
- otherwise in this process, right after the commit: the embedded default,
  which needs no other service.

Arguments are ids and plain values: a task reads the data afresh, and running
it twice does no harm (a Celery worker that dies mid-task has it redelivered).

Periodic jobs are the table PERIODIC_JOBS. Celery beat reads it in production
(config/celery.py); in the embedded default `linli serve` starts the in-process
`Scheduler`. Every run of a periodic job is a `JobRun` row: started, finished,
ok, failed or skipped, and how late it was. A job looks at the data, not at the
clock ("overdue requests without an escalation"), so the first run after a gap
(the process was down) does everything the missed runs would have done.

Task modules are each app's `tasks.py` and `jobs.py`; `discover()` imports them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

if TYPE_CHECKING:
    from .models import JobRun

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

_registry: dict[str, Callable[..., Any]] = {}
_discover_lock = threading.Lock()
_discovered = False


@dataclass(frozen=True)
class Periodic:
    """A job run every `every`: a registered task taking no arguments."""

    name: str
    every: dt.timedelta


# The one schedule, for Celery beat and the in-process scheduler alike.
PERIODIC_JOBS: tuple[Periodic, ...] = (
    # Missed service levels: to the community worker, then the street official.
    Periodic("requests.escalate_overdue", dt.timedelta(minutes=5)),
    # Non-urgent requests are assigned together, as one optimization per round.
    Periodic("requests.dispatch_round", dt.timedelta(minutes=10)),
    # Star levels crossed without a live award go into public notice (linli/volunteers/jobs.py).
    Periodic("volunteers.stars_propose", dt.timedelta(days=1)),
    # Stars whose notice ended unchallenged are awarded: hourly, so within an hour of the day.
    Periodic("volunteers.stars_award_due", dt.timedelta(hours=1)),
    # Complaints unanswered past respond_by: street, then district officials
    # (linli/evaluations/jobs.py).
    Periodic("evaluations.escalate_complaints", dt.timedelta(hours=1)),
    # Participatory budgets whose voting_until has passed close their vote
    # (linli/incentives/jobs.py).
    Periodic("incentives.budgets_close_due", dt.timedelta(hours=1)),
)


class JobSkipped(Exception):
    """Raised by a job that cannot do its work now; the run is recorded as skipped, with why."""


# --- registration --------------------------------------------------------------------


def task(name: str) -> Callable[[F], F]:
    """Register a function as the background task `name` ("<app>.<verb>")."""

    def register(func: F) -> F:
        known = _registry.get(name)
        if known is not None and _origin(known) != _origin(func):
            raise ImproperlyConfigured(
                f"Two tasks are named {name}: {_origin(known)} and {_origin(func)}"
            )
        _registry[name] = func
        _register_with_celery(name, func)
        return func

    return register


def _origin(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def _register_with_celery(name: str, func: Callable[..., Any]) -> None:
    """Make `name` a Celery task on every Celery app (shared_task binds lazily, so the
    web process never needs a broker for this)."""
    from celery import shared_task

    def run_on_worker(*args: Any) -> Any:
        result = execute(name, *args, runner="celery")
        # The result is not kept (CELERY_TASK_IGNORE_RESULT); say what happened in the log.
        return None if result is None else str(result)

    run_on_worker.__module__ = func.__module__
    run_on_worker.__qualname__ = run_on_worker.__name__ = func.__name__
    shared_task(name=name)(run_on_worker)


def discover() -> None:
    """Import every installed app's `tasks` and `jobs` modules, once."""
    global _discovered
    if _discovered:
        return
    with _discover_lock:
        if not _discovered:
            autodiscover_modules("tasks", "jobs")
            _discovered = True


def registered(name: str) -> Callable[..., Any]:
    if name not in _registry:
        discover()
    try:
        return _registry[name]
    except KeyError:
        raise ImproperlyConfigured(f"No background task is named {name}.") from None


def periodic_job(name: str) -> Periodic | None:
    return next((job for job in PERIODIC_JOBS if job.name == name), None)


# --- running ------------------------------------------------------------------------


def uses_celery() -> bool:
    """Whether tasks go to Celery workers (production) rather than run in this process."""
    return bool(getattr(settings, "CELERY_BROKER_URL", "")) and not getattr(
        settings, "CELERY_TASK_ALWAYS_EAGER", False
    )


def enqueue(name: str, *args: Any, using: str | None = None) -> None:
    """Run task `name` with `args` after the current transaction commits (at once when
    there is none): on a Celery worker, or in this process (see the module's docstring)."""
    registered(name)  # an unknown name fails here, in the caller, not later in a worker
    if name in getattr(_held, "names", ()):
        logger.debug("Task %s%r not run: held by the caller", name, args)
        return
    transaction.on_commit(partial(_hand_over, name, args), using=using)


_held = threading.local()


@contextmanager
def held(*names: str) -> Iterator[None]:
    """Within this block (this thread), tasks `names` are not run at all: for bulk
    builders such as the demo, whose generated history should not notify anyone."""
    before: frozenset[str] = getattr(_held, "names", frozenset())
    _held.names = before | frozenset(names)
    try:
        yield
    finally:
        _held.names = before


def _hand_over(name: str, args: tuple[Any, ...]) -> None:
    if uses_celery():
        from config.celery import app

        try:
            app.send_task(name, args=list(args))
            return
        except Exception:
            # The broker is away: the data is committed, so do the work here rather
            # than lose it (a notification, an announcement).
            logger.exception("Could not hand task %s to Celery; running it in-process", name)
    try:
        execute(name, *args, runner="inline")
    except Exception:
        # After commit there is nobody to roll back: a failed task must not turn the
        # caller's committed work into an error page. The log says what failed.
        logger.exception("Background task %s%r failed", name, args)


def execute(name: str, *args: Any, runner: str) -> Any:
    """Run task `name` now, here. A periodic job's run is recorded as a JobRun."""
    func = registered(name)
    if periodic_job(name) is not None and not args:
        return run_job(name, runner=runner)
    return func(*args)


def run_job(name: str, *, runner: str, due_at: dt.datetime | None = None) -> JobRun:
    """Run the periodic job `name` once and record the run: ok, failed (with the error)
    or skipped (with why). Every step commits at once, so a crash leaves a visible
    'running' row that the scheduler later marks as interrupted."""
    from .models import JobRun

    func = registered(name)
    run = JobRun.objects.create(name=name, runner=runner, due_at=due_at, started_at=timezone.now())
    try:
        result = func()
    except JobSkipped as skipped:
        run.status, run.detail = JobRun.Status.SKIPPED, str(skipped)
        logger.warning("Job %s skipped: %s", name, skipped)
    except Exception:
        run.status, run.detail = JobRun.Status.FAILED, traceback.format_exc()[-4000:]
        logger.exception("Job %s failed", name)
    else:
        run.status, run.detail = JobRun.Status.OK, "" if result is None else str(result)[:4000]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "detail", "finished_at"])
    return run


# --- the in-process scheduler ----------------------------------------------------------


def _stale_after(job: Periodic) -> dt.timedelta:
    """A run 'running' for longer than this was interrupted (its process stopped)."""
    return max(dt.timedelta(hours=1), 3 * job.every)


def run_due_jobs(
    *,
    jobs: Iterable[Periodic] | None = None,
    now: dt.datetime | None = None,
    runner: str = "scheduler",
) -> list[JobRun]:
    """Run each job whose time has come, judged from its last recorded run: a job never
    run, or last started `every` ago or more, is due. After a gap it runs once, late,
    and the run's due_at says how late."""
    from .models import JobRun

    runs: list[JobRun] = []
    for job in PERIODIC_JOBS if jobs is None else jobs:
        moment = now or timezone.now()
        last = (
            JobRun.objects.filter(name=job.name)
            .exclude(status=JobRun.Status.SKIPPED)
            .order_by("-started_at", "-id")
            .first()
        )
        due_at = None if last is None else last.started_at + job.every
        if due_at is not None and due_at > moment:
            continue
        if last is not None and last.status == JobRun.Status.RUNNING:
            if moment - last.started_at < _stale_after(job):
                runs.append(
                    JobRun.objects.create(
                        name=job.name,
                        runner=runner,
                        due_at=due_at,
                        started_at=moment,
                        finished_at=moment,
                        status=JobRun.Status.SKIPPED,
                        detail=f"The run started at {last.started_at:%Y-%m-%d %H:%M:%S} "
                        f"(id {last.pk}) is still going.",
                    )
                )
                continue
            JobRun.objects.filter(pk=last.pk, status=JobRun.Status.RUNNING).update(
                status=JobRun.Status.FAILED,
                finished_at=moment,
                detail="Interrupted: the process running it stopped before it finished.",
            )
        runs.append(run_job(job.name, runner=runner, due_at=due_at))
    return runs


class Scheduler(threading.Thread):
    """The embedded default's clock: every `tick` seconds, run the jobs that are due.

    A daemon thread of `linli serve`; when the process stops, the next start catches up
    (the first tick runs at once)."""

    def __init__(self, *, tick: float, jobs: Iterable[Periodic] | None = None) -> None:
        super().__init__(name="linli-scheduler", daemon=True)
        self.tick = tick
        self.jobs = None if jobs is None else tuple(jobs)
        self._stop_requested = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_requested.is_set():
                try:
                    run_due_jobs(jobs=self.jobs)
                except Exception:
                    # The database may be away for a moment: the next tick tries again.
                    logger.exception("The scheduler could not run its jobs")
                finally:
                    close_old_connections()
                self._stop_requested.wait(self.tick)
        finally:
            connections.close_all()

    def stop(self, timeout: float | None = None) -> None:
        self._stop_requested.set()
        self.join(timeout)


def start_scheduler(tick: float | None = None) -> Scheduler | None:
    """Start the in-process scheduler, unless Celery beat keeps the schedule."""
    if uses_celery():
        return None
    discover()
    scheduler = Scheduler(tick=tick or float(settings.LINLI_SCHEDULER_TICK_SECONDS))
    scheduler.start()
    return scheduler


def jobs_late(now: dt.datetime | None = None) -> list[tuple[Periodic, JobRun | None]]:
    """Periodic jobs whose last good run is older than twice their interval (or that never
    ran): for health checks and dashboards, so a stopped scheduler or beat is noticed."""
    from .models import JobRun

    moment = now or timezone.now()
    late: list[tuple[Periodic, JobRun | None]] = []
    for job in PERIODIC_JOBS:
        last = (
            JobRun.objects.filter(name=job.name, status=JobRun.Status.OK)
            .order_by("-started_at", "-id")
            .first()
        )
        if last is None or moment - last.started_at > 2 * job.every:
            late.append((job, last))
    return late
