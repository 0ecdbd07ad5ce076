"""Demo ratings and complaints: a year of the requests demo's deliveries judged by the
people served, with believable differences between providers, and complaints in every
state of their map.

Each responder gets a level of its own (most are good, a few are poor); a rating is
drawn around it, so providers' means and indices differ as they would. Ratings are
given by whoever may rate (the person's account; most people served get one, as
residents who signed up) within days of completion. The demo resident's
deliveries are left unrated, so the demo can rate one from its notification.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db.models import Avg, Model

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import RoleAssignment, User
from linli.core.registry import DemoContext, demo_step
from linli.requests import demo as requests_demo
from linli.requests.choices import State
from linli.requests.models import Responder, ServiceRequest
from linli.residents.models import Resident

from .choices import ComplaintAction, ComplaintState
from .models import Complaint, ComplaintEvent, Evaluation
from .services import first_priority_group, need_met_default

SHARE_RATED = 0.7
SHARE_COMPLAINED = 0.05
COMMENTS = {
    5: ["很满意，谢谢！", "服务周到，准时到达。", "态度非常好。"],
    4: ["挺好的。", "按时完成了。", ""],
    3: ["一般。", "晚到了一点。", ""],
    2: ["来晚了很久。", "做得不够仔细。"],
    1: ["没有解决问题。", "态度很差。"],
}
COMPLAINTS = ["服务人员迟到两个多小时。", "饭菜送到时已经凉了。", "服务人员态度不好。"]
ANSWERS = ["已与服务机构核实并道歉，下次将提前联系。", "已要求服务机构整改，并补送一次服务。"]


@contextmanager
def _stamped(*models: type[Model]) -> Iterator[None]:
    """Let bulk_create write the backdated times set on the objects (the builder runs alone)."""
    switched = []
    for model in models:
        for item in model._meta.concrete_fields:
            if getattr(item, "auto_now_add", False):
                item.auto_now_add = False  # type: ignore[attr-defined]
                switched.append(item)
    try:
        yield
    finally:
        for item in switched:
            item.auto_now_add = True  # type: ignore[attr-defined]


def _sign_up(delivered: list[ServiceRequest], rng: random.Random) -> None:
    """Most people served sign up (or a relative signs them up): accounts without a
    password, usernames `rater_<record>`, as the participatory-budget demo does."""
    people = {
        r.person.pk: r.person
        for r in delivered
        if r.person is not None and r.person.user_id is None and r.person.anonymized_at is None
    }
    chosen = [people[pk] for pk in sorted(people) if rng.random() < 0.75]
    unusable = make_password(None)
    made = User.objects.bulk_create(
        [User(username=f"rater_{person.pk}", password=unusable) for person in chosen]
    )
    for person, user in zip(chosen, made, strict=True):
        person.user = user
    Resident.objects.bulk_update(chosen, ["user"], batch_size=1000)
    # Each request holds its own copy of the person: give them all the new account.
    account = {person.pk: person.user for person in chosen}
    for request in delivered:
        if request.person is not None and request.person.pk in account:
            request.person.user = account[request.person.pk]


def _clip(value: float) -> int:
    return max(1, min(5, round(value)))


# After every other step, with a random source of its own, so adding it changes nothing
# the other steps draw.
@demo_step(name="evaluations", order=90)
def build_demo_evaluations(context: DemoContext) -> None:
    """A year of ratings of delivered requests, and complaints, with differences between
    providers."""
    rng = random.Random(context.seed * 7919 + 75)
    now = requests_demo.present()
    delivered = list(
        ServiceRequest.objects.filter(
            state__in=(State.COMPLETED, State.CONFIRMED, State.CLOSED),
            completed_at__isnull=False,
            person__isnull=False,
            evaluation__isnull=True,
        )
        .select_related("person", "responder", "requested_by")
        .order_by("completed_at", "pk")
    )
    _sign_up(delivered, rng)
    level: dict[int, float] = {}
    for responder_id in sorted({r.responder_id for r in delivered if r.responder_id}):
        # Most deliver well; about one in six struggles.
        level[responder_id] = (
            rng.uniform(2.4, 3.4) if rng.random() < 1 / 6 else rng.uniform(3.8, 4.8)
        )
    workers: dict[str, Any] = {}
    for assignment in RoleAssignment.objects.filter(role=Role.COMMUNITY_WORKER).order_by("pk"):
        if assignment.region_id:
            workers.setdefault(assignment.region_id, assignment.user_id)
    evaluations: list[Evaluation] = []
    complaints: list[Complaint] = []
    demo_resident = demo_username(Role.RESIDENT)
    for request in delivered:
        person = request.person
        assert person is not None  # noqa: S101 - filtered above
        rater = person.user
        if rater is None:
            continue
        if rater.username == demo_resident or request.completed_at is None:
            continue
        centre = level.get(request.responder_id or 0, 4.0)
        if rng.random() < SHARE_RATED:
            overall = _clip(rng.gauss(centre, 0.8))
            at = min(request.completed_at + dt.timedelta(hours=rng.uniform(1, 96)), now)
            need_met = need_met_default(_clip(overall + rng.choice((-1, 0, 0, 0, 1))))
            responder = request.responder
            evaluations.append(
                Evaluation(
                    request=request,
                    rater=rater,
                    person=person,
                    responder=responder,
                    organization_id=responder.organization_id if responder else None,
                    community_id=request.community_id,
                    service_id=request.service_id,
                    priority_group=first_priority_group(person, at.date()),
                    overall=overall,
                    timeliness=_clip(overall + rng.choice((-1, 0, 0, 1))),
                    attitude=_clip(overall + rng.choice((0, 0, 0, 1))),
                    quality=_clip(overall + rng.choice((-1, 0, 0, 0))),
                    need_met=need_met,
                    comment=rng.choice(COMMENTS[overall]),
                    by_proxy=person.user_id != rater.pk,
                    created_at=at,
                    updated_at=at,
                )
            )
        # Poorer deliveries draw more complaints.
        if rng.random() < SHARE_COMPLAINED * (5 - centre):
            filed = min(request.completed_at + dt.timedelta(hours=rng.uniform(2, 72)), now)
            complaints.append(
                Complaint(
                    complainant=rater,
                    person=person,
                    request=request,
                    community_id=request.community_id,
                    text=rng.choice(COMPLAINTS),
                    respond_by=filed + dt.timedelta(days=7),
                    created_at=filed,
                )
            )
    with _stamped(Evaluation, Complaint, ComplaintEvent):
        Evaluation.objects.bulk_create(evaluations, batch_size=1000)
        Complaint.objects.bulk_create(complaints, batch_size=1000)
        events: list[ComplaintEvent] = []
        for complaint in Complaint.objects.filter(
            pk__in=[c.pk for c in complaints if c.pk]
        ).order_by("pk"):
            events += _move(complaint, workers.get(complaint.community_id), rng, now)
        ComplaintEvent.objects.bulk_create(events, batch_size=1000)
    for row in (
        Evaluation.objects.filter(responder__isnull=False)
        .values("responder_id")
        .annotate(mean=Avg("overall"))
        .order_by("responder_id")
    ):
        Responder.objects.filter(pk=row["responder_id"]).update(rating=round(row["mean"], 3))
    context.echo(f"Evaluations: {len(evaluations)} ratings, {len(complaints)} complaints.")


def _move(complaint: Complaint, worker_id: int | None, rng: Any, now: dt.datetime) -> list:
    """Move a demo complaint as far as its age allows, writing its events."""
    events = [
        ComplaintEvent(
            complaint=complaint,
            action=ComplaintAction.FILE,
            to_state=ComplaintState.RECEIVED,
            actor_id=complaint.complainant_id,
            at=complaint.created_at,
        )
    ]
    age = now - complaint.created_at
    state = ComplaintState.RECEIVED
    at = complaint.created_at
    if age > dt.timedelta(days=1):
        at = complaint.created_at + dt.timedelta(hours=rng.uniform(2, 24))
        events.append(
            ComplaintEvent(
                complaint=complaint,
                action=ComplaintAction.INVESTIGATE,
                from_state=state,
                to_state=ComplaintState.INVESTIGATING,
                actor_id=worker_id,
                at=at,
            )
        )
        state = ComplaintState.INVESTIGATING
    if age > dt.timedelta(days=5):
        # Most are answered within the week; some late.
        at = at + dt.timedelta(days=rng.choice((1, 2, 3, 4, 5, 9)))
        complaint.answer = rng.choice(ANSWERS)
        complaint.answered_by_id = worker_id
        complaint.answered_at = at
        events.append(
            ComplaintEvent(
                complaint=complaint,
                action=ComplaintAction.ANSWER,
                from_state=state,
                to_state=ComplaintState.ANSWERED,
                actor_id=worker_id,
                note=complaint.answer,
                at=at,
            )
        )
        state = ComplaintState.ANSWERED
    if age > dt.timedelta(days=20):
        at = at + dt.timedelta(days=rng.uniform(1, 5))
        complaint.closed_satisfied = rng.random() < 0.7
        events.append(
            ComplaintEvent(
                complaint=complaint,
                action=ComplaintAction.CLOSE,
                from_state=state,
                to_state=ComplaintState.CLOSED,
                actor_id=complaint.complainant_id,
                at=at,
            )
        )
        state = ComplaintState.CLOSED
    complaint.state = state
    complaint.save(
        update_fields=["state", "answer", "answered_by", "answered_at", "closed_satisfied"]
    )
    return events
