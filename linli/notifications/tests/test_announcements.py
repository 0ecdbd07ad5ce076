"""Every step of a request is announced after commit to those it concerns, once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import translation

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.models import Organization
from linli.notifications.choices import Kind
from linli.notifications.models import Notification
from linli.notifications.selectors import inbox_of, notification_view
from linli.requests.announcements import request_event_announce
from linli.requests.choices import Action, ResponderKind
from linli.requests.services import request_assign, request_transition
from linli.requests.tests.factories import responder_create

from .conftest import ask

pytestmark = pytest.mark.django_db


def kinds_of(user):
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("kind", "params__action")
    )


def test_the_resident_hears_of_every_change_and_the_responder_of_its_assignment(
    elder, worker, community, django_capture_on_commit_callbacks
):
    volunteer = responder_create(community, "elderly_meals", name="李志愿")
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(elder)
    # Submitted and triaged in one go: one message says both.
    assert kinds_of(elder.user) == [(Kind.REQUEST_STATUS, Action.TRIAGE)]
    with django_capture_on_commit_callbacks(execute=True):
        request = request_assign(actor=worker, request=request, responder=volunteer)
    assert kinds_of(volunteer.user) == [(Kind.REQUEST_ASSIGNED, None)]
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        with django_capture_on_commit_callbacks(execute=True):
            request = request_transition(actor=volunteer.user, request=request, action=action)
    with django_capture_on_commit_callbacks(execute=True):
        request = request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    # Every change but the one the resident made themselves.
    assert [action for _kind, action in kinds_of(elder.user)] == [
        "triage",
        "assign",
        "accept",
        "start",
        "complete",
    ]
    # The worker assigned it and hears nothing of it; the volunteer only of the assignment.
    assert kinds_of(worker) == []
    assert len(kinds_of(volunteer.user)) == 1
    accepted = Notification.objects.get(user=elder.user, params__action="accept")
    assert request.public_id in accepted.title
    with translation.override("en"):
        view = notification_view(accepted)
    assert view["title"] == f"Request {request.public_id}: Accepted"
    assert view["body"] == f"李志愿 accepted request {request.public_id}."
    assert view["link"] == f"/requests/{request.public_id}/"
    assigned = Notification.objects.get(user=volunteer.user)
    with translation.override("en"):
        assert notification_view(assigned)["body"] == (
            f"You have been given request {request.public_id} (Meal assistance) in Xingfu. "
            "Accept or decline it in your tasks."
        )
    assert notification_view(assigned)["link"] == "/tasks/"


def test_a_proxy_who_asked_and_the_person_served_both_hear(
    elder, worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(elder, actor=worker)
    # The worker took the call: they asked, so they hear too (of triage; not of submit).
    assert kinds_of(worker) == [(Kind.REQUEST_STATUS, Action.TRIAGE)]
    assert kinds_of(elder.user) == [(Kind.REQUEST_STATUS, Action.TRIAGE)]
    assert Notification.objects.get(user=worker).request == request


def test_an_organizations_staff_hear_of_its_assignments_and_of_cancellations(
    elder, worker, community, django_capture_on_commit_callbacks
):
    organization = Organization.objects.create(name="幸福养老服务中心", region=community)
    staff = UserFactory.create(username="staff")
    RoleAssignmentFactory(
        user=staff, role=Role.PROVIDER_STAFF, region=None, organization=organization
    )
    provider = responder_create(
        community,
        "elderly_meals",
        name="幸福养老服务中心",
        kind=ResponderKind.ORGANIZATION,
        user=None,
        organization=organization,
    )
    provider.user = None
    provider.save()
    request = ask(elder)
    with django_capture_on_commit_callbacks(execute=True):
        request = request_assign(actor=worker, request=request, responder=provider)
    assert kinds_of(staff) == [(Kind.REQUEST_ASSIGNED, None)]
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            actor=elder.user, request=request, action=Action.CANCEL, reason="家人来了"
        )
    assert kinds_of(staff)[-1] == (Kind.REQUEST_WITHDRAWN, Action.CANCEL)
    withdrawn = Notification.objects.get(user=staff, kind=Kind.REQUEST_WITHDRAWN)
    with translation.override("en"):
        assert notification_view(withdrawn)["body"] == (
            f"Request {request.public_id} was cancelled: you need not go. Reason: 家人来了"
        )


def test_a_reassigned_responder_hears_the_task_was_taken_from_them(
    elder, worker, community, django_capture_on_commit_callbacks
):
    first = responder_create(community, "elderly_meals", name="甲")
    second = responder_create(community, "elderly_meals", name="乙")
    request = ask(elder)
    request = request_assign(actor=worker, request=request, responder=first)
    with django_capture_on_commit_callbacks(execute=True):
        request_assign(actor=worker, request=request, responder=second, reassign=True)
    assert kinds_of(first.user) == [(Kind.REQUEST_WITHDRAWN, Action.ASSIGN)]
    assert kinds_of(second.user) == [(Kind.REQUEST_ASSIGNED, None)]


def test_an_announcement_that_runs_again_notifies_nobody_twice(
    elder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(elder)
    triage = request.events.get(action=Action.TRIAGE)
    assert request_event_announce(event_id=triage.pk) == 1
    assert Notification.objects.filter(user=elder.user).count() == 1
    assert request_event_announce(event_id=999_999) == 0


def test_nothing_is_announced_when_the_step_is_rolled_back(
    elder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as ran:
        try:
            with transaction.atomic():
                ask(elder)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert ran == []
    assert not Notification.objects.exists()


def test_the_reader_sees_it_in_their_language(elder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(elder)
    stored = inbox_of(elder.user).get()
    with translation.override("en"):
        english = notification_view(stored)
    assert english["title"] == f"Request {request.public_id}: Waiting for a responder"
    assert english["body"] == (
        f"We received request {request.public_id} and are finding someone to help you."
    )
    with translation.override("zh-hans"):
        chinese = notification_view(stored)
    # Stored in the deployment's language (Chinese): what SMS and e-mail carry.
    assert (stored.title, stored.body) == (chinese["title"], chinese["body"])
