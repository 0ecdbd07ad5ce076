"""A request's life: created and triaged, moved only by the map, assigned once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.requests.choices import Action, Channel, State
from linli.requests.models import Assignment, RequestEvent, ServiceLevel
from linli.requests.selectors import task_view
from linli.requests.services import (
    RequestInput,
    request_assign,
    request_create,
    request_transition,
    service_term,
)
from linli.residents.models import AccessEvent

from .factories import responder_create

pytestmark = pytest.mark.django_db


def ask(person, actor=None, **fields):
    return request_create(
        actor=actor or person.user,
        data=RequestInput(service=fields.pop("service", "elderly_meals"), person=person, **fields),
    )


def test_a_residents_request_is_triaged_with_its_reasons_and_due_times(elder):
    request = ask(elder, description="每天午餐送到家", urgency="high")
    assert request.state == State.TRIAGED
    assert request.channel == Channel.RESIDENT
    assert request.community == elder.community
    assert request.address == "幸福里3号"
    assert request.priority_breakdown == {
        "urgency": 40,
        "elderly_living_alone": 25,
        "oldest": 10,
        "disabled": 20,
        "severe_disability": 10,
        "waiting": 0,
    }
    assert request.priority == 105
    assert request.respond_by - request.created_at == pytest.approx(
        dt.timedelta(hours=2), abs=dt.timedelta(seconds=5)
    )
    events = list(request.events.values_list("action", "from_state", "to_state"))
    assert events == [("submit", "", "submitted"), ("triage", "submitted", "triaged")]


def test_the_services_own_level_wins_over_the_default(elder):
    ServiceLevel.objects.create(
        service=service_term("elderly_care"),
        urgency="normal",
        respond_minutes=60,
        resolve_minutes=600,
    )
    request = ask(elder)
    assert request.due_at - request.created_at == pytest.approx(
        dt.timedelta(minutes=600), abs=dt.timedelta(seconds=5)
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service": "teleportation"}, "service"),
        ({"urgency": "whenever"}, "urgency"),
        ({"window_end": timezone.now() - dt.timedelta(hours=1)}, "window_end"),
        ({"latitude": 95.0, "longitude": 120.0, "community": None}, "latitude"),
    ],
)
def test_bad_requests_are_refused_at_their_field_and_nothing_is_stored(elder, fields, field):
    with pytest.raises(ValidationFailed) as refused:
        ask(elder, **fields)
    assert field in refused.value.fields
    assert not RequestEvent.objects.exists()


def test_a_point_far_from_every_community_is_outside_the_deployment(worker, community):
    with pytest.raises(ValidationFailed) as refused:
        request_create(
            actor=None,
            data=RequestInput(service="elderly_meals", latitude=40.0, longitude=116.0),
        )
    assert "outside" in refused.value.fields["latitude"][0]
    near = request_create(
        actor=None, data=RequestInput(service="elderly_meals", latitude=30.001, longitude=120.0)
    )
    assert near.community == community


def test_nobody_asks_for_a_stranger(elder):
    stranger = UserFactory.create()
    with pytest.raises(PermissionDenied):
        ask(elder, actor=stranger)


def test_a_request_goes_from_need_to_closed_through_the_map(elder, worker, community):
    request = ask(elder)
    volunteer = responder_create(community, "elderly_meals")
    request = request_assign(actor=worker, request=request, responder=volunteer)
    with pytest.raises(PermissionDenied):
        request_transition(actor=elder.user, request=request, action=Action.ACCEPT)
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        request = request_transition(actor=volunteer.user, request=request, action=action)
    request = request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    with pytest.raises(ValidationFailed) as refused:
        request_transition(actor=worker, request=request, action=Action.CLOSE)
    assert "outcome" in refused.value.fields
    request = request_transition(
        actor=worker, request=request, action=Action.CLOSE, outcome="resolved"
    )
    assert (request.state, request.outcome) == (State.CLOSED, "resolved")
    assert list(request.events.values_list("to_state", flat=True)) == [
        "submitted",
        "triaged",
        "assigned",
        "accepted",
        "in_progress",
        "completed",
        "confirmed",
        "closed",
    ]


def test_transitions_the_map_does_not_allow_are_refused(elder, worker):
    request = ask(elder)
    with pytest.raises(Conflict):
        request_transition(actor=worker, request=request, action=Action.COMPLETE)
    with pytest.raises(Conflict):
        request_transition(actor=worker, request=request, action="fly")
    assert request.events.count() == 2


def test_a_declined_request_goes_back_without_the_decliner(elder, worker, community):
    request = ask(elder)
    first = responder_create(community, "elderly_meals", name="甲")
    request = request_assign(actor=worker, request=request, responder=first)
    with pytest.raises(ValidationFailed):
        request_transition(actor=first.user, request=request, action=Action.DECLINE)
    request = request_transition(
        actor=first.user, request=request, action=Action.DECLINE, reason="今天生病"
    )
    assert (request.state, request.responder) == (State.TRIAGED, None)
    with pytest.raises(ValidationFailed) as refused:
        request_assign(actor=worker, request=request, responder=first)
    assert "declined" in refused.value.fields["responder"][0]


def test_a_second_assignment_of_the_same_request_is_a_conflict(elder, worker, community):
    request = ask(elder)
    first = responder_create(community, "elderly_meals", name="甲")
    second = responder_create(community, "elderly_meals", name="乙")
    stale = request  # what the second worker's board still shows
    request_assign(actor=worker, request=request, responder=first)
    with pytest.raises(Conflict):
        request_assign(actor=worker, request=stale, responder=second)
    moved = request_assign(actor=worker, request=stale, responder=second, reassign=True)
    assert moved.responder == second
    assert Assignment.objects.filter(request=request, ended_at__isnull=True).count() == 1


def test_a_responder_at_their_cap_is_not_given_more(elder, worker, community):
    busy = responder_create(community, "elderly_meals", max_open_tasks=1)
    request_assign(actor=worker, request=ask(elder), responder=busy)
    with pytest.raises(ValidationFailed) as refused:
        request_assign(actor=worker, request=ask(elder), responder=busy)
    assert "open tasks" in refused.value.fields["responder"][0]


def test_reopening_only_within_the_window(elder, worker, community, settings):
    settings.LINLI_REQUEST_REOPEN_DAYS = 7
    volunteer = responder_create(community, "elderly_meals")
    request = request_assign(actor=worker, request=ask(elder), responder=volunteer)
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        request = request_transition(actor=volunteer.user, request=request, action=action)
    request.completed_at = timezone.now() - dt.timedelta(days=8)
    request.save()
    with pytest.raises(ValidationFailed):
        request_transition(actor=elder.user, request=request, action=Action.REOPEN, reason="没送到")
    request.completed_at = timezone.now() - dt.timedelta(days=2)
    request.save()
    request = request_transition(
        actor=elder.user, request=request, action=Action.REOPEN, reason="没送到"
    )
    assert request.state == State.TRIAGED
    assert request.responder is None


def test_only_the_responder_holding_the_accepted_task_sees_the_address_and_phone(
    elder, worker, community
):
    elder.phone = "13912345678"
    elder.save()
    first = responder_create(community, "elderly_meals", name="甲")
    second = responder_create(community, "elderly_meals", name="乙")
    request = request_assign(actor=worker, request=ask(elder), responder=first)
    offered = task_view(request, viewer=first.user)
    assert (offered["address"], offered["phone"]) == ("", "139****5678")
    request = request_transition(
        actor=first.user, request=request, action=Action.DECLINE, reason="太远"
    )
    request = request_assign(actor=worker, request=request, responder=second)
    request = request_transition(actor=second.user, request=request, action=Action.ACCEPT)
    holder = task_view(request, viewer=second.user)
    assert (holder["address"], holder["phone"]) == ("幸福里3号", "13912345678")
    decliner = task_view(request, viewer=first.user)
    assert (decliner["address"], decliner["phone"]) == ("", "139****5678")
    event = AccessEvent.objects.get()
    assert (event.actor, event.action, event.purpose) == (second.user, "task", request.public_id)
