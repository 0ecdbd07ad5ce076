"""Overdue complaints go to the street officials, then the district's, once each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.tasks import PERIODIC_JOBS, run_job
from linli.evaluations.choices import ComplaintAction, ComplaintState
from linli.evaluations.jobs import ESCALATE_COMPLAINTS, escalate_complaints
from linli.evaluations.models import Complaint, ComplaintEvent
from linli.evaluations.services import complaint_file, complaint_transition
from linli.notifications.models import Notification
from linli.regions.codes import parent_of
from linli.regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def officials(community):
    street = Region.objects.get(code=parent_of(community.code))
    district = Region.objects.get(code=parent_of(street.code))
    street_official = UserFactory.create()
    RoleAssignmentFactory(user=street_official, role=Role.STREET_OFFICIAL, region=street)
    district_official = UserFactory.create()
    RoleAssignmentFactory(user=district_official, role=Role.DISTRICT_OFFICIAL, region=district)
    return street_official, district_official


@pytest.fixture
def complaint(done, elder):
    return complaint_file(actor=elder.user, request=done, text="饭菜凉了")


def _escalations(complaint: Complaint) -> list[tuple[int | None, str]]:
    return list(
        ComplaintEvent.objects.filter(complaint=complaint, action=ComplaintAction.ESCALATE)
        .order_by("level")
        .values_list("level", "to_state")
    )


def test_overdue_complaints_go_to_the_street_then_the_district_once(
    complaint, officials, django_capture_on_commit_callbacks
):
    street_official, district_official = officials
    now = timezone.now()
    assert escalate_complaints(now=now) == {"street": 0, "district": 0}
    overdue = complaint.respond_by + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_complaints(now=overdue) == {"street": 1, "district": 0}
        assert escalate_complaints(now=overdue) == {"street": 0, "district": 0}
    assert _escalations(complaint) == [(1, "received")]
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.RECEIVED  # an escalation moves no state
    assert Notification.objects.filter(user=street_official).count() == 1
    assert not Notification.objects.filter(user=district_official).exists()
    # Seven more days without an answer: the district hears, once.
    later = complaint.respond_by + dt.timedelta(days=7, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_complaints(now=later) == {"street": 0, "district": 1}
        assert escalate_complaints(now=later) == {"street": 0, "district": 0}
    assert _escalations(complaint) == [(1, "received"), (2, "received")]
    told = Notification.objects.get(user=district_official)
    assert told.link == f"/complaints/{complaint.pk}/"
    assert Notification.objects.filter(user=street_official).count() == 1


def test_after_a_long_gap_the_street_still_hears_first(complaint, officials):
    long_after = complaint.respond_by + dt.timedelta(days=30)
    assert escalate_complaints(now=long_after) == {"street": 1, "district": 0}
    assert escalate_complaints(now=long_after) == {"street": 0, "district": 1}
    assert escalate_complaints(now=long_after) == {"street": 0, "district": 0}


def test_an_answered_complaint_is_not_escalated(complaint, officials, worker):
    complaint_transition(actor=worker, complaint=complaint, action="answer", answer="已处理")
    assert escalate_complaints(now=complaint.respond_by + dt.timedelta(days=30)) == {
        "street": 0,
        "district": 0,
    }
    assert _escalations(complaint) == []


def test_the_job_is_scheduled_and_runs(complaint):
    assert ESCALATE_COMPLAINTS in {job.name for job in PERIODIC_JOBS}
    Complaint.objects.filter(pk=complaint.pk).update(
        respond_by=timezone.now() - dt.timedelta(days=1)
    )
    run = run_job(ESCALATE_COMPLAINTS, runner="command")
    assert run.status == "ok", run.detail
    assert "'street': 1" in run.detail
    # Nobody holds the street: the event is still recorded, so it is not retried forever.
    assert _escalations(complaint) == [(1, "received")]


def test_the_handling_page_shows_overdue_complaints(client, complaint, worker, officials):
    Complaint.objects.filter(pk=complaint.pk).update(
        respond_by=timezone.now() - dt.timedelta(days=2)
    )
    escalate_complaints()
    client.force_login(worker)
    page = client.get("/complaints/handle/")
    assert page.status_code == 200
    assert f'id="overdue-{complaint.pk}"'.encode() in page.content
    assert f'id="escalated-{complaint.pk}"'.encode() in page.content
    assert b'id="overdue-count"' in page.content
