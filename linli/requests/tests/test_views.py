"""The request pages over the demo: three taps to ask, the board to assign, tasks on a
phone, counts for officials. Each role sees what it may and nothing else; bad input is
refused at its field with nothing stored; a step the map or the role forbids is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.demo import DEMO_PASSWORD
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.models import TaxonomyTerm
from linli.regions.models import Region
from linli.requests.choices import Action, Channel, State, Urgency
from linli.requests.models import (
    Assignment,
    DispatchRound,
    RequestEvent,
    Responder,
    ServiceRequest,
)
from linli.requests.services import RequestInput, request_assign, request_create
from linli.residents.choices import RelationKind
from linli.residents.models import AccessEvent, Resident
from linli.residents.selectors import residents_acted_for

from .factories import responder_create

pytestmark = pytest.mark.django_db

SERVICE = "elderly_meals"


def logged_in(username: str, language: str = "en") -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert browser.login(request=HttpRequest(), username=username, password=DEMO_PASSWORD)
    return browser


def user(username: str) -> User:
    return User.objects.get(username=username)


def html(response) -> str:
    return response.content.decode()


def community() -> Region:
    """The demo community: its worker, its resident and its volunteer all live there."""
    return Region.objects.get(role_assignments__user__username="demo_community_worker")


@pytest.fixture
def me(demo) -> Resident:
    return Resident.objects.get(user__username="demo_resident")


@pytest.fixture
def elder(demo) -> Resident:
    """demo_resident's older relative, who consented to their acting for them."""
    return Resident.objects.get(
        relations__kind=RelationKind.PROXY, relations__person__user__username="demo_resident"
    )


@pytest.fixture
def resident(demo) -> Client:
    return logged_in("demo_resident")


@pytest.fixture
def worker(demo) -> Client:
    return logged_in("demo_community_worker")


@pytest.fixture
def volunteer(demo) -> Responder:
    """demo_volunteer as a responder who delivers meals, living at the community's centre."""
    account = user("demo_volunteer")
    found = Responder.objects.filter(user=account).first()
    if found is None:
        return responder_create(community(), SERVICE, name="李志强", user=account)
    # The demo's own profile: free at any time, with room, and able to deliver meals.
    found.skills.add(TaxonomyTerm.objects.get(code=SERVICE))
    found.availability, found.max_open_tasks = [], 10
    found.save()
    return found


def ask(person: Resident, actor: User | None = None, **fields) -> ServiceRequest:
    return request_create(
        actor=actor or user("demo_resident"),
        data=RequestInput(service=fields.pop("service", SERVICE), person=person, **fields),
    )


def mine() -> set[str]:
    return set(ServiceRequest.objects.values_list("public_id", flat=True))


# Asking in three taps -----------------------------------------------------------------------


def test_three_taps_ask_for_meals_today_for_oneself(resident, me, elder):
    before = mine()
    # Tap 1: the services, grouped by the plan's fields, each a big button.
    first = resident.get("/requests/new/")
    assert first.status_code == 200
    assert 'data-service="elderly_meals"' in html(first)
    assert "Elderly care" in html(first)
    assert "/requests/new/when/?service=elderly_meals" in html(first)
    # Tap 2: when, in plain words.
    second = resident.get("/requests/new/when/", {"service": SERVICE})
    assert second.status_code == 200
    assert "/requests/new/confirm/?service=elderly_meals&amp;when=today" in html(second)
    # Tap 3: check and send; acting for two people, the resident picks whom (self first).
    third = resident.get("/requests/new/confirm/", {"service": SERVICE, "when": "today"})
    assert third.status_code == 200
    assert third.context["several"] is True
    assert third.context["form"].initial["person"] == str(me.pk)
    assert me.address in html(third)
    assert elder.name in html(third)
    sent = resident.post(
        "/requests/new/confirm/",
        {"service": SERVICE, "when": "today", "person": me.pk, "address": "", "description": ""},
    )
    created = ServiceRequest.objects.exclude(public_id__in=before).get()
    assert sent.status_code == 302
    assert sent["Location"] == f"/requests/#request-{created.public_id}"
    assert (created.person, created.channel, created.urgency) == (me, Channel.RESIDENT, "high")
    assert created.address == me.address
    assert created.state == State.TRIAGED
    start = created.window_start
    assert start is not None
    tonight = timezone.make_aware(
        dt.datetime.combine(timezone.localtime(start).date(), dt.time(23, 59))
    )
    assert created.window_end == max(tonight, start + dt.timedelta(hours=1))
    page = resident.get("/requests/")
    assert created.public_id in html(page)
    events = page.context["cards"][0]["events"]
    assert [e["words"] for e in events] == ["Asked for help", "Waiting for a helper"]
    assert [s.action for s in page.context["cards"][0]["steps"]] == [Action.CANCEL]


def test_a_proxy_asks_for_the_relative_with_a_picked_window_and_another_address(
    resident, me, elder
):
    day = timezone.localdate() + dt.timedelta(days=3)
    confirm = resident.get(
        "/requests/new/confirm/",
        {
            "service": "elderly_medical_escort",
            "when": "pick",
            "date": day.isoformat(),
            "start": "09:00",
            "end": "11:30",
            "urgency": "low",
        },
    )
    assert confirm.status_code == 200
    assert f"{day:%Y-%m-%d} 09:00–11:30" in html(confirm)
    before = mine()
    response = resident.post(
        "/requests/new/confirm/",
        {
            "service": "elderly_medical_escort",
            "when": "pick",
            "date": day.isoformat(),
            "start": "09:00",
            "end": "11:30",
            "urgency": "low",
            "person": elder.pk,
            "address": "区人民医院门诊楼",
            "description": "需要轮椅",
        },
    )
    assert response.status_code == 302
    created = ServiceRequest.objects.exclude(public_id__in=before).get()
    assert (created.person, created.channel, created.urgency) == (elder, Channel.PROXY, "low")
    assert created.address == "区人民医院门诊楼"
    assert created.description == "需要轮椅"
    assert timezone.localtime(created.window_start).time() == dt.time(9, 0)
    assert timezone.localtime(created.window_end).time() == dt.time(11, 30)


def test_bad_input_is_refused_at_its_field_and_nothing_is_stored(resident, me):
    before = mine()
    unknown = resident.post(
        "/requests/new/confirm/", {"service": "flying_car", "when": "today", "person": me.pk}
    )
    assert unknown.status_code == 400
    assert unknown.context["form"].errors["service"] == ["Unknown service code flying_car."]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    past = resident.post(
        "/requests/new/confirm/",
        {
            "service": SERVICE,
            "when": "pick",
            "date": yesterday.isoformat(),
            "start": "09:00",
            "end": "10:00",
            "urgency": "normal",
            "person": me.pk,
        },
    )
    assert past.status_code == 400
    assert past.context["form"].errors["when"] == ["This time is already past."]
    assert "Change the time" in html(past)
    stranger = (
        Resident.objects.filter(community=me.community)
        .exclude(pk=me.pk)
        .exclude(relations__person=me)[0]
    )
    other = resident.post(
        "/requests/new/confirm/", {"service": SERVICE, "when": "today", "person": stranger.pk}
    )
    assert other.status_code == 400
    assert "person" in other.context["form"].errors
    no_date = resident.get(
        "/requests/new/confirm/", {"service": SERVICE, "when": "pick", "urgency": "normal"}
    )
    assert no_date.status_code == 400
    assert no_date.context["pick"].errors["date"] == ["This field is required."]
    no_service = resident.get("/requests/new/when/", {"service": "nope"})
    assert no_service.status_code == 400
    assert "Choose a service first." in html(no_service)
    too_long = resident.post(
        "/requests/new/confirm/",
        {"service": SERVICE, "when": "now", "person": me.pk, "description": "x" * 2001},
    )
    assert too_long.status_code == 400
    assert "description" in too_long.context["form"].errors
    assert mine() == before


def test_someone_without_a_record_cannot_ask_and_a_worker_is_sent_to_the_call_form(demo):
    # demo_volunteer has a record in the register (the time bank needs it); this one has none.
    responder = logged_in("demo_social_worker")
    assert responder.get("/requests/new/").status_code == 403
    assert responder.post("/requests/new/confirm/", {"service": SERVICE}).status_code == 403
    worker = logged_in("demo_community_worker")
    response = worker.get("/requests/new/")
    assert (response.status_code, response["Location"]) == (302, "/dispatch/call/")


# Who sees which request ----------------------------------------------------------------------


def test_a_resident_sees_only_their_own_requests(resident, me, worker):
    neighbour = (
        Resident.objects.filter(community=me.community)
        .exclude(pk=me.pk)
        .exclude(relations__person=me)[0]
    )
    theirs = ask(neighbour, actor=user("demo_community_worker"))
    own = ask(me)
    page = resident.get("/requests/")
    shown = [c["request"] for c in page.context["cards"]]
    assert shown[0] == own
    assert theirs not in shown
    assert theirs.public_id not in html(page)
    # Every request listed is for the resident or the relative they act for.
    acted_for = set(residents_acted_for(user("demo_resident")).values_list("pk", flat=True))
    assert {r.person_id for r in shown} <= acted_for
    assert resident.get(f"/requests/{theirs.public_id}/").status_code == 404
    refused = resident.post(f"/requests/{theirs.public_id}/", {"action": "cancel"})
    assert refused.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == State.TRIAGED
    detail = resident.get(f"/requests/{own.public_id}/")
    assert detail.status_code == 200
    assert detail.context["role"] == "served"
    assert "breakdown" not in detail.context


def test_the_keeper_sees_everything_and_the_official_no_person(worker, me):
    created = ask(me, description="只要清淡的")
    full = worker.get(f"/requests/{created.public_id}/")
    assert full.context["role"] == "keeper"
    page = html(full)
    for shown in (me.name, me.address, "只要清淡的"):
        assert shown in page
    assert dict(full.context["breakdown"])["Urgency"] == 20
    official = logged_in("demo_street_official")
    summary = official.get(f"/requests/{created.public_id}/")
    assert summary.status_code == 200
    assert summary.context["role"] == "official"
    page = html(summary)
    for hidden in (me.name, me.address, "只要清淡的"):
        assert hidden not in page
    assert all(e["who"] == "" for e in summary.context["card"]["events"])
    assert logged_in("demo_city_official").get(f"/requests/{created.public_id}/").status_code == 200
    assert logged_in("demo_auditor").get(f"/requests/{created.public_id}/").status_code == 404


# The board, the tasks, the confirmation ------------------------------------------------------


def test_from_the_board_to_the_volunteers_phone_to_the_residents_confirmation(
    resident, worker, me, volunteer
):
    created = ask(me, urgency=Urgency.HIGH)
    board = worker.get("/dispatch/")
    assert board.status_code == 200
    row = next(r for r in board.context["rows"] if r["request"] == created)
    assert volunteer.pk in [c["candidate"].responder_id for c in row["choices"]]
    assert ("Urgency", 40) in row["breakdown"]
    assert row["respond"].overdue is False
    assert created.public_id in html(board)
    assigned = worker.post(f"/dispatch/{created.public_id}/assign/", {"responder": volunteer.pk})
    assert (assigned.status_code, assigned["Location"]) == (302, "/dispatch/")
    created.refresh_from_db()
    assert (created.state, created.responder) == (State.ASSIGNED, volunteer)
    live = Assignment.objects.get(request=created, ended_at__isnull=True)
    assert live.assigned_by == user("demo_community_worker")
    assert live.explanation["winner"]["responder"] == volunteer.pk
    assert (live.explanation["why"], live.explanation["chosen_by"]) == (
        "board",
        "demo_community_worker",
    )
    assert "Chosen on the dispatch board by" in html(worker.get(f"/requests/{created.public_id}/"))

    phone = logged_in("demo_volunteer")
    tasks = phone.get("/tasks/")
    card = next(c for c in tasks.context["tasks"] if c["request"] == created)
    assert card["view"]["address"] == ""
    assert me.address not in html(tasks)
    if me.phone:
        assert me.phone not in html(tasks)
    detail = phone.get(f"/requests/{created.public_id}/")
    assert detail.context["role"] == "responder"
    assert me.address not in html(detail)
    assert not AccessEvent.objects.filter(purpose=created.public_id).exists()
    steps = [s.action for s in card["steps"]]
    assert steps == [Action.ACCEPT, Action.DECLINE]

    accepted = phone.post(f"/tasks/{created.public_id}/", {"action": "accept"})
    assert (accepted.status_code, accepted["Location"]) == (
        302,
        f"/tasks/#task-{created.public_id}",
    )
    tasks = phone.get("/tasks/")
    assert me.address in html(tasks)
    if me.phone:
        assert f'href="tel:{me.phone}"' in html(tasks)
        assert AccessEvent.objects.filter(
            action=AccessEvent.Action.TASK, resident=me, purpose=created.public_id
        ).exists()
    assert phone.post(f"/tasks/{created.public_id}/", {"action": "start"}).status_code == 302
    done = phone.post(
        f"/tasks/{created.public_id}/", {"action": "complete", "reason": "午餐已送到"}
    )
    assert done.status_code == 302
    created.refresh_from_db()
    assert created.state == State.COMPLETED
    # The task is no longer held; it shows under "done lately".
    tasks = phone.get("/tasks/")
    assert created not in [c["request"] for c in tasks.context["tasks"]]
    assert created in tasks.context["done"]

    page = resident.get("/requests/")
    card = next(c for c in page.context["cards"] if c["request"] == created)
    assert [s.action for s in card["steps"]] == [Action.CONFIRM, Action.REOPEN]
    confirmed = resident.post(
        f"/requests/{created.public_id}/", {"action": "confirm", "next": "/requests/"}
    )
    assert (confirmed.status_code, confirmed["Location"]) == (302, "/requests/")
    created.refresh_from_db()
    assert created.state == State.CONFIRMED
    events = resident.get("/requests/").context["cards"][0]["events"]
    assert [e["action"] for e in events] == [
        "submit",
        "triage",
        "assign",
        "accept",
        "start",
        "complete",
        "confirm",
    ]
    assert events[2]["words"] == f"Given to {volunteer.name}"
    assert events[5]["reason"] == "午餐已送到"
    assert events[6]["who"] == user("demo_resident").display_name


def test_declining_needs_a_reason_and_hides_it_from_the_resident(resident, worker, me, volunteer):
    created = ask(me)
    request_assign(actor=user("demo_community_worker"), request=created, responder=volunteer)
    phone = logged_in("demo_volunteer")
    refused = phone.post(f"/tasks/{created.public_id}/", {"action": "decline", "reason": ""})
    assert refused.status_code == 400
    card = next(c for c in refused.context["tasks"] if c["request"] == created)
    assert card["steps"][1].form.errors["reason"] == ["Say why."]
    created.refresh_from_db()
    assert created.state == State.ASSIGNED
    declined = phone.post(
        f"/tasks/{created.public_id}/", {"action": "decline", "reason": "今天发烧"}
    )
    assert declined.status_code == 302
    created.refresh_from_db()
    assert (created.state, created.responder) == (State.TRIAGED, None)
    # No longer theirs: the task page refuses further steps.
    assert phone.post(f"/tasks/{created.public_id}/", {"action": "accept"}).status_code == 404
    assert "今天发烧" not in html(resident.get("/requests/"))
    assert "今天发烧" in html(worker.get(f"/requests/{created.public_id}/"))
    # A step only the resident or the worker takes is not taken from the task page.
    other_user = UserFactory.create()
    other = responder_create(community(), SERVICE, name="赵六", user=other_user)
    request_assign(actor=user("demo_community_worker"), request=created, responder=other)
    other_phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    other_phone.force_login(other_user)
    wrong = other_phone.post(f"/tasks/{created.public_id}/", {"action": "cancel"})
    assert wrong.status_code == 400
    created.refresh_from_db()
    assert created.state == State.ASSIGNED


def test_a_step_the_map_does_not_allow_is_a_conflict_and_reopening_needs_a_reason(resident, me):
    created = ask(me)
    early = resident.post(f"/requests/{created.public_id}/", {"action": "confirm"})
    assert early.status_code == 409
    assert "cannot be Confirmed" in html(early)
    created.state = State.COMPLETED
    created.completed_at = timezone.now()
    created.save()
    reopen = resident.post(f"/requests/{created.public_id}/", {"action": "reopen", "reason": ""})
    assert reopen.status_code == 400
    assert reopen.context["card"]["steps"][1].form.errors["reason"] == ["Say why."]
    again = resident.post(
        f"/requests/{created.public_id}/", {"action": "reopen", "reason": "饭没送到"}
    )
    assert again.status_code == 302
    created.refresh_from_db()
    assert created.state == State.TRIAGED
    assert RequestEvent.objects.filter(request=created, action="reopen", reason="饭没送到").exists()
    cancelled = resident.post(f"/requests/{created.public_id}/", {"action": "cancel"})
    assert cancelled.status_code == 302
    created.refresh_from_db()
    assert created.state == State.CANCELLED


def test_a_resident_may_not_take_a_responders_step(resident, me, volunteer):
    created = ask(me)
    request_assign(actor=user("demo_community_worker"), request=created, responder=volunteer)
    refused = resident.post(f"/requests/{created.public_id}/", {"action": "accept"})
    assert refused.status_code == 403
    created.refresh_from_db()
    assert created.state == State.ASSIGNED


def test_an_official_can_neither_open_the_board_nor_assign(demo, me, volunteer):
    created = ask(me)
    official = logged_in("demo_street_official")
    assert official.get("/dispatch/").status_code == 403
    refused = official.post(f"/dispatch/{created.public_id}/assign/", {"responder": volunteer.pk})
    assert refused.status_code == 403
    assert official.post("/dispatch/round/").status_code == 403
    assert official.get("/dispatch/call/").status_code == 403
    assert not Assignment.objects.filter(request=created).exists()
    created.refresh_from_db()
    assert created.state == State.TRIAGED


def test_two_workers_assigning_at_once_the_second_gets_a_clear_conflict(worker, me, volunteer):
    other_worker = UserFactory.create()
    RoleAssignmentFactory(user=other_worker, role=Role.COMMUNITY_WORKER, region=community())
    second = Client(HTTP_ACCEPT_LANGUAGE="en")
    second.force_login(other_worker)
    other = responder_create(community(), SERVICE, name="赵六")
    created = ask(me)
    # Both loaded the board while the request waited; the first assigns.
    assert second.get("/dispatch/").status_code == 200
    first = worker.post(f"/dispatch/{created.public_id}/assign/", {"responder": volunteer.pk})
    assert first.status_code == 302
    late = second.post(
        f"/dispatch/{created.public_id}/assign/",
        {"responder": other.pk, "reassign": ""},
        follow=True,
    )
    assert late.redirect_chain == [("/dispatch/", 302)]
    assert f"Already assigned to {volunteer.name}: reload the board." in html(late)
    live = Assignment.objects.filter(request=created, ended_at__isnull=True)
    assert [a.responder for a in live] == [volunteer]
    # Knowing it is taken, a worker may give it to someone else on purpose.
    moved = second.post(
        f"/dispatch/{created.public_id}/assign/", {"responder": other.pk, "reassign": "True"}
    )
    assert moved.status_code == 302
    assert [a.responder for a in Assignment.objects.filter(request=created, ended_at=None)] == [
        other
    ]


def test_assigning_bad_input_is_refused_at_the_row(worker, me, volunteer):
    created = ask(me)
    for data in ({}, {"responder": "x"}, {"responder": 999999}):
        response = worker.post(f"/dispatch/{created.public_id}/assign/", data)
        assert response.status_code == 400
        row = next(r for r in response.context["rows"] if r["request"] == created)
        assert "responder" in row["form"].errors
    assert not Assignment.objects.filter(request=created).exists()
    # A responder at their cap is no candidate: the board refuses them at the field.
    volunteer.max_open_tasks = 0
    volunteer.save()
    full = worker.post(f"/dispatch/{created.public_id}/assign/", {"responder": volunteer.pk})
    assert full.status_code == 400
    row = next(r for r in full.context["rows"] if r["request"] == created)
    assert row["form"].errors["responder"][0].startswith("Select a valid choice.")
    assert not Assignment.objects.filter(request=created).exists()
    assert worker.post("/dispatch/R000000-XXXXX/assign/", {"responder": 1}).status_code == 404


def test_a_request_taken_by_phone_for_a_resident_or_a_caller(worker, me):
    found = worker.get("/dispatch/call/", {"find": me.name})
    assert found.status_code == 200
    assert me in found.context["found"]
    before = mine()
    response = worker.post(
        "/dispatch/call/",
        {
            "find": me.name,
            "person": me.pk,
            "community": community().code,
            "service": "elderly_cleaning",
            "urgency": "normal",
            "description": "电话：厨房需要打扫",
        },
    )
    created = ServiceRequest.objects.exclude(public_id__in=before).get()
    assert (response.status_code, response["Location"]) == (
        302,
        f"/requests/{created.public_id}/",
    )
    assert (created.person, created.channel, created.address) == (me, Channel.PHONE, me.address)
    caller = worker.post(
        "/dispatch/call/",
        {
            "contact_name": "孙先生",
            "contact_phone": "13800138000",
            "community": community().code,
            "address": "幸福路8号",
            "service": "convenience_repair",
            "urgency": "high",
        },
    )
    assert caller.status_code == 302
    called = ServiceRequest.objects.exclude(public_id__in=before).exclude(pk=created.pk).get()
    assert (called.person, called.contact_name, called.contact_phone) == (
        None,
        "孙先生",
        "13800138000",
    )
    assert called.community == community()


def test_a_phone_request_with_bad_input_stores_nothing(worker, me):
    before = mine()
    base = {"community": community().code, "service": SERVICE, "urgency": "normal"}
    nobody = worker.post("/dispatch/call/", base)
    assert nobody.status_code == 400
    assert nobody.context["form"].errors["person"] == [
        "Choose a resident, or type the caller's name."
    ]
    bad_phone = worker.post(
        "/dispatch/call/", base | {"contact_name": "孙先生", "contact_phone": "12345"}
    )
    assert bad_phone.status_code == 400
    assert "contact_phone" in bad_phone.context["form"].errors
    outside = worker.post(
        "/dispatch/call/", base | {"contact_name": "孙先生", "community": "980101001001"}
    )
    assert outside.status_code == 400
    assert "community" in outside.context["form"].errors
    elsewhere = Resident.objects.exclude(community=community())[0]
    not_kept = worker.post("/dispatch/call/", base | {"person": elsewhere.pk})
    assert not_kept.status_code == 400
    assert "person" in not_kept.context["form"].errors
    past = worker.post(
        "/dispatch/call/",
        base
        | {
            "contact_name": "孙先生",
            "date": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        },
    )
    assert past.status_code == 400
    assert past.context["form"].errors["date"] == ["This time is already past."]
    unknown = worker.post("/dispatch/call/", base | {"contact_name": "孙", "service": "x"})
    assert unknown.status_code == 400
    assert "service" in unknown.context["form"].errors
    assert mine() == before


def test_a_dispatch_round_from_the_board(worker, me, volunteer):
    created = ask(me)
    response = worker.post("/dispatch/round/", follow=True)
    assert response.redirect_chain == [("/dispatch/", 302)]
    held = DispatchRound.objects.get(started_by=user("demo_community_worker"))
    assert [str(m) for m in response.context["messages"]] == [
        f"Dispatch round done: {held.assigned} of {held.requests_considered} waiting "
        "requests assigned."
    ]
    created.refresh_from_db()
    assert created.state == State.ASSIGNED
    assert Assignment.objects.get(request=created).round == held


# Counts and the home page ---------------------------------------------------------------------


def test_officials_read_open_overdue_and_escalated_counts_with_totals(demo, me, elder):
    ask(me)
    late = ask(elder)
    ServiceRequest.objects.filter(pk=late.pk).update(
        due_at=timezone.now() - dt.timedelta(hours=1), escalation_level=1
    )
    for username in ("demo_street_official", "demo_district_official", "demo_community_worker"):
        response = logged_in(username).get("/requests/counts/")
        assert response.status_code == 200
        row = next(r for r in response.context["rows"] if r["region"] == community())
        open_here = ServiceRequest.objects.filter(
            community=community(), state__in=("triaged", "assigned", "accepted", "in_progress")
        )
        assert row["open"] == open_here.count()
        assert row["overdue"] >= 1
        assert row["escalated"] >= 1
        totals = response.context["totals"]
        assert totals["open"] == sum(r["open"] for r in response.context["rows"])
        assert "980101001001" not in [r["region"].code for r in response.context["rows"]]
    assert logged_in("demo_resident").get("/requests/counts/").status_code == 403
    assert logged_in("demo_volunteer").get("/requests/counts/").status_code == 403


@pytest.mark.parametrize(
    ("username", "present", "absent"),
    [
        ("demo_resident", ["/requests/new/", "/requests/"], ["/dispatch/", "/tasks/"]),
        ("demo_volunteer", ["/tasks/", "/requests/new/"], ["/dispatch/", "/requests/counts/"]),
        (
            "demo_social_worker",
            ["/tasks/"],
            ["/requests/new/", "/dispatch/", "/requests/counts/"],
        ),
        (
            "demo_community_worker",
            ["/dispatch/", "/dispatch/call/", "/requests/counts/"],
            ["/requests/new/", "/tasks/"],
        ),
        ("demo_street_official", ["/requests/counts/"], ["/dispatch/", "/requests/new/"]),
    ],
)
def test_the_home_page_links_to_the_request_pages_of_each_role(demo, username, present, absent):
    page = html(logged_in(username).get("/"))
    section = page.split('id="requests-pages"', 1)[1].split("</section>", 1)[0]
    for url in present:
        assert f'href="{url}"' in section
    for url in absent:
        assert f'href="{url}"' not in section


def test_pages_need_a_login(client, demo):
    for path in ("/requests/", "/requests/new/", "/tasks/", "/dispatch/", "/requests/counts/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
