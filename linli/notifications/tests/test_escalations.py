"""Missed service levels: to the community's workers, then the street's officials, once
per (request, deadline, level) however often or however concurrently the job runs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone, translation

from linli.core.models import JobRun
from linli.core.tasks import Periodic, run_due_jobs
from linli.notifications.choices import Kind
from linli.notifications.models import Notification
from linli.notifications.selectors import notification_view
from linli.requests.choices import Action
from linli.requests.jobs import escalate_overdue
from linli.requests.models import Escalation, ServiceRequest
from linli.requests.services import request_assign, request_transition
from linli.requests.tests.factories import responder_create

from .conftest import ask

HOUR = dt.timedelta(hours=1)


def escalations():
    return sorted(Escalation.objects.values_list("request__public_id", "deadline", "level"))


@pytest.mark.django_db
def test_a_missed_acceptance_goes_to_the_worker_then_the_street(
    elder, worker, official, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_ESCALATION_GRACE_MINUTES = 60
    request = ask(elder, urgency="high")
    assert escalate_overdue(now=request.respond_by - dt.timedelta(minutes=1)) == {"raised": 0}
    late = request.respond_by + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue(now=late) == {"raised": 1}
        # Run again (the next tick): nothing new, and level 2 waits for the grace period.
        assert escalate_overdue(now=late) == {"raised": 0}
    assert escalations() == [(request.public_id, "respond", 1)]
    request.refresh_from_db()
    assert request.escalation_level == 1
    assert Notification.objects.get(kind=Kind.ESCALATION).user == worker
    first = Escalation.objects.get()
    assert first.notified == [worker.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue(now=request.respond_by + 61 * dt.timedelta(minutes=1)) == {
            "raised": 1
        }
        assert escalate_overdue(now=request.respond_by + 3 * HOUR) == {"raised": 0}
    assert escalations() == [(request.public_id, "respond", 1), (request.public_id, "respond", 2)]
    to_street = Notification.objects.get(kind=Kind.ESCALATION, user=official)
    assert to_street.params["level"] == 2
    with translation.override("en"):
        assert notification_view(to_street)["body"] == (
            f"Request {request.public_id} in Xingfu was not accepted in time (due by "
            f"{timezone.localtime(request.respond_by):%Y-%m-%d %H:%M}). Please see that "
            "someone takes it. The community was alerted and it is still overdue."
        )
        assert notification_view(to_street)["link"] == "/dispatch/"
    request.refresh_from_db()
    assert request.escalation_level == 2
    assert Notification.objects.filter(kind=Kind.ESCALATION).count() == 2


@pytest.mark.django_db
def test_an_accepted_request_escalates_only_when_it_is_not_done_in_time(elder, worker, community):
    request = ask(elder, urgency="urgent")
    volunteer = responder_create(community, "elderly_meals")
    request = request_assign(actor=worker, request=request, responder=volunteer)
    request = request_transition(actor=volunteer.user, request=request, action=Action.ACCEPT)
    respond_by, due_at = request.respond_by, request.due_at
    assert respond_by is not None
    assert due_at is not None
    assert escalate_overdue(now=respond_by + HOUR) == {"raised": 0}
    assert escalate_overdue(now=due_at + dt.timedelta(seconds=1)) == {"raised": 1}
    assert escalations() == [(request.public_id, "resolve", 1)]
    request = request_transition(actor=volunteer.user, request=request, action=Action.START)
    request = request_transition(actor=volunteer.user, request=request, action=Action.COMPLETE)
    assert escalate_overdue(now=due_at + 10 * HOUR) == {"raised": 0}


@pytest.mark.django_db
def test_a_reopened_request_that_misses_its_new_deadline_escalates_again(elder, worker, community):
    request = ask(elder, urgency="urgent")
    volunteer = responder_create(community, "elderly_meals")
    request = request_assign(actor=worker, request=request, responder=volunteer)
    request = request_transition(actor=volunteer.user, request=request, action=Action.ACCEPT)
    first_due = request.due_at
    assert first_due is not None
    assert escalate_overdue(now=first_due + dt.timedelta(seconds=1)) == {"raised": 1}
    for action in (Action.START, Action.COMPLETE):
        request = request_transition(actor=volunteer.user, request=request, action=action)
    request = request_transition(
        actor=elder.user, request=request, action=Action.REOPEN, reason="饭菜没有送到"
    )
    assert request.due_at is not None
    assert request.due_at > first_due
    escalate_overdue(now=request.due_at + dt.timedelta(seconds=1))
    resolves = Escalation.objects.filter(request=request, deadline="resolve", level=1)
    assert sorted(resolves.values_list("deadline_at", flat=True)) == [first_due, request.due_at]


@pytest.mark.django_db
def test_a_missed_run_is_caught_up_by_the_next_one(elder, worker, settings):
    """The scheduler was down for a day: its next tick runs the job once, late, and the
    job escalates everything that fell overdue meanwhile (it reads the data, not the
    clock). The run records how late it was."""
    requests = [ask(elder, urgency="urgent") for _ in range(3)]
    ServiceRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        respond_by=timezone.now() - 20 * HOUR, due_at=timezone.now() - 16 * HOUR
    )
    yesterday = timezone.now() - 24 * HOUR
    JobRun.objects.create(
        name="requests.escalate_overdue",
        runner="scheduler",
        started_at=yesterday,
        finished_at=yesterday,
        status=JobRun.Status.OK,
    )
    job = Periodic("requests.escalate_overdue", dt.timedelta(minutes=5))
    (run,) = run_due_jobs(jobs=[job])
    assert run.status == JobRun.Status.OK
    assert run.detail == "{'raised': 6}"
    assert run.due_at == yesterday + dt.timedelta(minutes=5)
    assert run.started_at - run.due_at > 23 * HOUR
    assert len(escalations()) == 6
    assert run_due_jobs(jobs=[job]) == []


def race(runs: int) -> list[int]:
    """`runs` escalation runs at the same moment, each on its own connection."""
    start = threading.Barrier(runs)
    raised: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            raised.append(escalate_overdue(now=timezone.now() + dt.timedelta(seconds=1))["raised"])
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(raised) == runs
    return raised


@pytest.mark.django_db(transaction=True)
def test_two_runs_racing_raise_each_escalation_once(elder, worker, official, settings):
    if connection.vendor != "postgresql":
        pytest.skip("an in-memory SQLite database cannot hold two writers at once")
    settings.LINLI_ESCALATION_GRACE_MINUTES = 0
    requests = [ask(elder, urgency="urgent") for _ in range(12)]
    ServiceRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        respond_by=timezone.now() - HOUR
    )
    for _level in (1, 2):
        assert sum(raised for raised in race(4)) == len(requests)
    assert Escalation.objects.count() == 2 * len(requests)
    assert Notification.objects.filter(kind=Kind.ESCALATION, user=worker).count() == len(requests)
    assert Notification.objects.filter(kind=Kind.ESCALATION, user=official).count() == len(requests)
    assert set(ServiceRequest.objects.values_list("escalation_level", flat=True)) == {2}
