"""The demo's year of requests: every timeline true to the transition map, every
assignment true to its timeline, and the mixes a district would see."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from linli.accounts.models import RoleAssignment, User
from linli.regions.models import Region
from linli.requests.choices import (
    HELD_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    Channel,
    Outcome,
    ResponderKind,
    State,
)
from linli.requests.models import (
    Assignment,
    Escalation,
    RequestEvent,
    Responder,
    ServiceRequest,
)
from linli.requests.selectors import tasks_of
from linli.requests.services import service_level_minutes
from linli.residents.models import Relation

pytestmark = pytest.mark.django_db

ELDERLY_SEASONAL = {"medical_home_visit", "medical_chronic_followup", "medical_rehabilitation"}
PRIORITY_GROUPS = {"elderly", "elderly_living_alone", "disabled", "family_in_difficulty"}


def timelines() -> dict[int, list[RequestEvent]]:
    events: dict[int, list[RequestEvent]] = defaultdict(list)
    for event in RequestEvent.objects.order_by("request_id", "at", "id"):
        events[event.request_id].append(event)
    return events


def test_every_timeline_follows_the_transition_map_and_ends_at_its_state(demo):
    requests = list(ServiceRequest.objects.all())
    assert 300 <= len(requests) <= 450
    events = timelines()
    now = timezone.now()
    for request in requests:
        chain = events[request.pk]
        first, second = chain[0], chain[1]
        assert (first.action, first.from_state, first.to_state) == ("submit", "", "submitted")
        assert (second.action, second.to_state) == ("triage", "triaged")
        assert first.at == request.created_at
        for before, after in itertools.pairwise(chain):
            assert after.from_state == before.to_state, request.public_id
            assert TRANSITIONS[(after.from_state, after.action)] == after.to_state
            assert after.at > before.at, request.public_id
        assert chain[-1].to_state == request.state
        assert chain[-1].at == request.updated_at <= now
        assert request.created_at >= now - dt.timedelta(days=366)
        closed = [e for e in chain if e.action == Action.CLOSE]
        if request.state == State.CLOSED:
            assert request.outcome in Outcome.values
            assert request.closed_at == closed[-1].at
        else:
            assert request.outcome == ""
            assert request.closed_at is None
        completes = [e for e in chain if e.action == Action.COMPLETE]
        reopened = (
            any(e.action == Action.REOPEN and e.at > completes[-1].at for e in chain)
            if completes
            else False
        )
        if completes and not reopened:
            assert request.completed_at == completes[-1].at
        else:
            assert request.completed_at is None
        for event in chain:
            if event.action in (Action.DECLINE, Action.REJECT, Action.REOPEN):
                assert len(event.reason) >= 2


def test_assignments_match_the_timeline_and_respect_load_caps(demo):
    events = timelines()
    assignments: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in Assignment.objects.order_by("request_id", "assigned_at", "id"):
        assignments[assignment.request_id].append(assignment)
    for request in ServiceRequest.objects.all():
        chain = events[request.pk]
        assigns = [e for e in chain if e.action == Action.ASSIGN]
        held = assignments[request.pk]
        assert [(e.at, e.data["responder"]) for e in assigns] == [
            (a.assigned_at, a.responder_id) for a in held
        ]
        for event, assignment in zip(assigns, held, strict=True):
            later = [e for e in chain if e.at > event.at]
            if assignment.ended_at is None:
                assert later == [] or all(
                    e.action in (Action.ACCEPT, Action.START) for e in later
                ), request.public_id
                continue
            ending = next(e for e in later if e.at == assignment.ended_at)
            expected = {
                Action.DECLINE: "decline",
                Action.CANCEL: "cancel",
                Action.COMPLETE: "completed",
                Action.ASSIGN: "reassigned",
            }[Action(ending.action)]
            assert assignment.end_reason == expected
            assert assignment.explanation["winner"] == assignment.responder_id
        live = [a for a in held if a.ended_at is None]
        if request.state in HELD_STATES:
            assert [a.responder_id for a in live] == [request.responder_id]
        else:
            assert live == []
        if request.state in (State.TRIAGED, State.CANCELLED, State.REJECTED, State.SUBMITTED):
            assert request.responder_id is None
        if request.state in (State.COMPLETED, State.CONFIRMED) or (
            request.state == State.CLOSED and held
        ):
            assert request.responder_id == held[-1].responder_id
    # Nobody holds more open tasks than they take.
    loads = Counter(
        ServiceRequest.objects.filter(state__in=HELD_STATES).values_list("responder_id", flat=True)
    )
    for responder in Responder.objects.filter(pk__in=loads):
        assert loads[responder.pk] <= responder.max_open_tasks


def test_due_times_and_priorities_come_from_triage_and_service_levels(demo):
    for request in ServiceRequest.objects.select_related("service__parent").prefetch_related(
        "events"
    ):
        triages = [e for e in request.events.all() if e.action in (Action.TRIAGE, Action.REOPEN)]
        at = triages[-1].at
        respond, resolve = service_level_minutes(request.service, request.urgency)
        assert request.respond_by == at + dt.timedelta(minutes=respond)
        start = max(at, request.window_start or at)
        assert request.due_at == max(
            start + dt.timedelta(minutes=resolve), request.window_end or at
        )
        assert request.priority == sum(request.priority_breakdown.values())
        if triages[-1].action == Action.TRIAGE:
            assert triages[-1].data["breakdown"] == request.priority_breakdown


def test_most_requests_are_done_and_come_from_those_who_need_help_most(demo):
    requests = ServiceRequest.objects.all()
    total = requests.count()
    outcomes = Counter(requests.values_list("state", "outcome"))
    assert outcomes[(State.CLOSED, Outcome.RESOLVED)] / total > 0.75
    assert outcomes[(State.CLOSED, Outcome.UNRESOLVED)] >= 1
    assert outcomes[(State.CANCELLED, "")] >= 1
    assert outcomes[(State.REJECTED, "")] >= 1
    confirmed = RequestEvent.objects.filter(action=Action.CONFIRM).count()
    assert confirmed / total > 0.6
    channels = Counter(requests.values_list("channel", flat=True))
    for channel in (Channel.RESIDENT, Channel.PROXY, Channel.PHONE):
        assert channels[channel] / total > 0.15
    groups = [
        set(b) & PRIORITY_GROUPS for b in requests.values_list("priority_breakdown", flat=True)
    ]
    assert sum(1 for g in groups if g) / total > 0.6


def test_winter_brings_elderly_care_summer_child_care_and_villages_ask_for_elderly_care(demo):
    local = ZoneInfo(settings.TIME_ZONE)
    rows = [
        (created.astimezone(local).month, category, code, kind)
        for created, category, code, kind in ServiceRequest.objects.values_list(
            "created_at", "service__parent__code", "service__code", "community__kind"
        )
    ]

    def count(months, wanted) -> int:
        return sum(1 for r in rows if r[0] in months and wanted(r))

    def elderly(row) -> bool:
        return row[1] == "elderly_care" or row[2] in ELDERLY_SEASONAL

    def children(row) -> bool:
        return row[1] == "childcare" or row[2] == "education_tutoring"

    # Per season, not per share: winter and Spring Festival add requests, they do not
    # take them from others.
    assert count((12, 1, 2), elderly) > 1.4 * count((6, 7, 8), elderly)
    others = tuple(m for m in range(1, 13) if m not in (7, 8))
    assert count((7, 8), children) / 2 > 1.3 * count(others, children) / 10

    def care(row) -> bool:
        return row[1] == "elderly_care"

    villages = [r for r in rows if r[3] == "rural"]
    towns = [r for r in rows if r[3] == "urban"]
    assert sum(map(care, villages)) / len(villages) > sum(map(care, towns)) / len(towns)


def test_the_open_tail_has_waiting_overdue_and_escalated_requests(demo):
    now = timezone.now()
    open_requests = ServiceRequest.objects.filter(state__in=OPEN_STATES)
    states = Counter(open_requests.values_list("state", flat=True))
    assert states[State.TRIAGED]
    assert states[State.ASSIGNED]
    assert states[State.IN_PROGRESS]
    overdue = open_requests.filter(due_at__lt=now, escalation_level__gt=0)
    assert overdue.count() >= 3
    for request in ServiceRequest.objects.filter(escalation_level__gt=0).prefetch_related(
        "escalations"
    ):
        levels = {e.level for e in request.escalations.all()}
        assert max(levels) == request.escalation_level
        for escalation in request.escalations.all():
            assert escalation.raised_at <= now
            deadline = (
                request.respond_by
                if escalation.deadline == Escalation.Deadline.RESPOND
                else request.due_at
            )
            assert escalation.raised_at > request.created_at
            if not request.events.filter(action=Action.REOPEN).exists():
                assert deadline is not None
                assert escalation.raised_at > deadline
            assert escalation.notified
    assert not ServiceRequest.objects.filter(escalation_level=0, escalations__isnull=False).exists()


def test_the_demo_accounts_have_profiles_and_something_to_do(demo):
    volunteer = Responder.objects.get(user__username="demo_volunteer")
    scope = RoleAssignment.objects.get(user__username="demo_volunteer").region
    assert volunteer.kind == ResponderKind.VOLUNTEER
    assert volunteer.region == scope
    skills = set(volunteer.skills.values_list("code", flat=True))
    assert {"elderly_meals", "elderly_cleaning", "elderly_medical_escort"} <= skills
    worker = Responder.objects.get(user__username="demo_social_worker")
    street = RoleAssignment.objects.get(user__username="demo_social_worker").region
    assert worker.kind == ResponderKind.SOCIAL_WORKER
    assert street is not None
    assert worker.region.parent_id == street.code
    staff = RoleAssignment.objects.get(user__username="demo_provider_staff")
    assert Responder.objects.filter(
        organization=staff.organization, kind=ResponderKind.ORGANIZATION
    ).exists()
    for username in ("demo_volunteer", "demo_social_worker", "demo_provider_staff"):
        assert tasks_of(User.objects.get(username=username)).exists(), username

    resident = User.objects.get(username="demo_resident")
    own = ServiceRequest.objects.filter(person__user=resident)
    assert own.filter(state=State.CLOSED, outcome=Outcome.RESOLVED, events__action="confirm")
    assert own.filter(state__in=OPEN_STATES).exists()
    elder = Relation.objects.get(person__user=resident, kind="proxy").resident
    for_elder = ServiceRequest.objects.filter(person=elder)
    assert {r.service.code for r in for_elder} == {"elderly_medical_escort", "elderly_meals"}
    for request in for_elder:
        assert (request.channel, request.requested_by) == (Channel.PROXY, resident)
    # The lunches came from a provider, so rating them moves a provider's index.
    lunch = for_elder.get(service__code="elderly_meals")
    assert lunch.responder is not None
    assert lunch.responder.organization_id is not None


def test_the_demo_resident_can_rate_the_delivery_from_its_notification(demo):
    from linli.evaluations.services import may_rate
    from linli.notifications.models import Notification

    resident = User.objects.get(username="demo_resident")
    links = Notification.objects.filter(user=resident, link__startswith="/evaluations/rate/")
    numbers = {n.link.split("/")[-2]: n for n in links}
    window = dt.timedelta(days=settings.LINLI_EVALUATION_WINDOW_DAYS)
    rateable = [
        r
        for r in ServiceRequest.objects.filter(public_id__in=numbers)
        if may_rate(resident, r) and r.completed_at and r.completed_at + window > timezone.now()
    ]
    # The relative's escort (by a volunteer) and lunch (by a provider), delivered in the
    # last days; the repair of 40 days ago is past the rating window.
    assert sorted(r.service.code for r in rateable) == ["elderly_meals", "elderly_medical_escort"]
    for request in rateable:
        assert request.state == State.COMPLETED
        completed = request.events.get(action=Action.COMPLETE)
        assert numbers[request.public_id].created_at == completed.at


def test_responders_come_from_the_directory_and_volunteers_cannot_log_in(demo):
    kinds = Counter(Responder.objects.values_list("kind", flat=True))
    assert kinds[ResponderKind.VOLUNTEER] >= 30
    assert kinds[ResponderKind.ORGANIZATION] >= 10
    streets = Region.objects.filter(level="street", code__startswith="990102").count()
    assert kinds[ResponderKind.SOCIAL_WORKER] >= 2 * streets
    for responder in Responder.objects.filter(kind=ResponderKind.ORGANIZATION).select_related(
        "organization", "region"
    ):
        assert responder.organization is not None
        assert responder.region.level == "community"
        assert 3 <= responder.radius_km <= 8
        assert 10 <= responder.max_open_tasks <= 30
        assert responder.skills.exists()
    volunteers = Responder.objects.filter(kind=ResponderKind.VOLUNTEER).exclude(
        user__username="demo_volunteer"
    )
    for responder in volunteers.select_related("user"):
        assert responder.user is not None
        assert not responder.user.has_usable_password()
        assert 1 <= responder.skills.count() <= 4
        assert 1 <= responder.radius_km <= 5
        assert 2 <= responder.max_open_tasks <= 4
    assert User.objects.filter(username__startswith="demo_").count() == 10
