"""Demo ratings and complaints: a year of the requests demo's deliveries judged by the
people served, with believable differences between providers, and complaints in every
state of their map.

Each responder gets a level of its own (most are good, a few are poor); a rating is
drawn around it, so providers' means and indices differ as they would. Ratings are
given by whoever may rate (the person's account; most people served get one, as
residents who signed up) within days of completion. The demo resident's
deliveries are left unrated, so the demo can rate one from its notification.

Facilities are visited too: residents with accounts use the facilities of their
community over the last three months (recorded by the facility's staff, or the
community worker), and most rate them around the facility's own level. The demo
resident gets one visit from yesterday, unrated, to rate from "places I visited".
Two complaints are left unanswered past their answer date, for the escalation job and
the "overdue" mark on the handling page.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.contrib.auth.hashers import make_password
from django.db.models import Avg, Model
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import RoleAssignment, User
from linli.core.registry import DemoContext, demo_step
from linli.directory.choices import LocationType
from linli.directory.models import Location
from linli.requests import demo as requests_demo
from linli.requests.choices import State
from linli.requests.models import Responder, ServiceRequest
from linli.residents.models import Resident

from .choices import ComplaintAction, ComplaintState, VisitKind
from .models import Complaint, ComplaintEvent, Evaluation, FacilityRating, FacilityVisit
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
FACILITY_COMMENTS = {
    5: ["环境干净，工作人员很热情。", "活动丰富，常来。", ""],
    4: ["挺方便的。", "离家近，不错。", ""],
    3: ["一般，人多的时候要排队。", "设施有点旧。", ""],
    2: ["开放时间太短。", "地面有点滑，老人不方便。"],
    1: ["经常关门。", "没有无障碍通道。"],
}
FACILITY_COMPLAINTS = ["地面湿滑，差点摔倒。", "开放时间和公告不一致。"]
# Visits per facility over the demo's last three months, and the share rated.
FACILITY_VISITS = (4, 14)
FACILITY_DAYS = 90
SHARE_FACILITY_RATED = 0.6
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
        # What the demo resident asked for a relative is left unrated and uncomplained-of
        # too (the demo rates it from its notification); its draws are made all the same,
        # so every other rating stays as it was.
        spared = request.requested_by is not None and request.requested_by.username == demo_resident
        centre = level.get(request.responder_id or 0, 4.0)
        if rng.random() < SHARE_RATED:
            overall = _clip(rng.gauss(centre, 0.8))
            at = min(request.completed_at + dt.timedelta(hours=rng.uniform(1, 96)), now)
            need_met = need_met_default(_clip(overall + rng.choice((-1, 0, 0, 0, 1))))
            responder = request.responder
            rated = Evaluation(
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
            if not spared:
                evaluations.append(rated)
        # Poorer deliveries draw more complaints.
        if rng.random() < SHARE_COMPLAINED * (5 - centre):
            filed = min(request.completed_at + dt.timedelta(hours=rng.uniform(2, 72)), now)
            complaint = Complaint(
                complainant=rater,
                person=person,
                request=request,
                community_id=request.community_id,
                text=rng.choice(COMPLAINTS),
                respond_by=filed + dt.timedelta(days=7),
                created_at=filed,
            )
            if not spared:
                complaints.append(complaint)
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
    # Their own random sources, so the ratings above draw as before.
    overdue = _overdue_complaints(delivered, workers, random.Random(context.seed * 7919 + 77), now)
    visits, ratings = _facility_visits(workers, random.Random(context.seed * 7919 + 76), now)
    context.echo(
        f"Facilities: {visits} visits, {ratings} ratings; {overdue} complaints left overdue."
    )


def _overdue_complaints(
    delivered: list[ServiceRequest], workers: dict[str, Any], rng: random.Random, now: dt.datetime
) -> int:
    """Two complaints filed nine days ago, investigated but unanswered: past their date."""
    candidates = [
        r
        for r in delivered
        if r.person is not None
        and r.person.user is not None
        and r.person.user.username != demo_username(Role.RESIDENT)
        and (r.requested_by is None or r.requested_by.username != demo_username(Role.RESIDENT))
        and r.community_id in workers
    ]
    chosen = rng.sample(candidates, min(2, len(candidates)))
    with _stamped(Complaint, ComplaintEvent):
        for request in chosen:
            assert request.person is not None  # noqa: S101 - filtered above
            filed = now - dt.timedelta(days=9, hours=rng.uniform(0, 12))
            complaint = Complaint.objects.create(
                complainant_id=cast(int, request.person.user_id),  # filtered: has one
                person=request.person,
                request=request,
                community_id=request.community_id,
                text=rng.choice(COMPLAINTS),
                state=ComplaintState.INVESTIGATING,
                respond_by=filed + dt.timedelta(days=7),
                created_at=filed,
            )
            ComplaintEvent.objects.bulk_create(
                [
                    ComplaintEvent(
                        complaint=complaint,
                        action=ComplaintAction.FILE,
                        to_state=ComplaintState.RECEIVED,
                        actor_id=complaint.complainant_id,
                        at=filed,
                    ),
                    ComplaintEvent(
                        complaint=complaint,
                        action=ComplaintAction.INVESTIGATE,
                        from_state=ComplaintState.RECEIVED,
                        to_state=ComplaintState.INVESTIGATING,
                        actor_id=workers[request.community_id],
                        at=filed + dt.timedelta(hours=5),
                    ),
                ]
            )
    return len(chosen)


def _facility_visits(
    workers: dict[str, Any], rng: random.Random, now: dt.datetime
) -> tuple[int, int]:
    """Visits of the community's facilities by its residents with accounts, most rated
    around the facility's own level; a few complaints against the poorer ones."""
    facilities = list(
        Location.objects.filter(
            location_type=LocationType.PHYSICAL, region__isnull=False, closed_on__isnull=True
        )
        .exclude(kind="")
        .order_by("region_id", "name", "id")
    )
    staff: dict[Any, int] = {}
    for assignment in RoleAssignment.objects.filter(
        role=Role.PROVIDER_STAFF, organization__isnull=False
    ).order_by("pk"):
        staff.setdefault(assignment.organization_id, assignment.user_id)
    people: dict[str, list[Resident]] = {}
    for person in (
        Resident.objects.filter(user__isnull=False, anonymized_at__isnull=True)
        .select_related("user")
        .order_by("pk")
    ):
        people.setdefault(person.community_id, []).append(person)
    demo_resident = demo_username(Role.RESIDENT)
    today = timezone.localdate(now)
    visits: list[FacilityVisit] = []
    planned: list[tuple[FacilityVisit, float, Resident]] = []
    seen: set[tuple[Any, int, dt.date]] = set()
    complaints: list[Complaint] = []
    for facility in facilities:
        assert facility.region_id is not None  # noqa: S101 - filtered above
        recorder = staff.get(facility.organization_id) or workers.get(facility.region_id)
        visitors = [
            p
            for p in people.get(facility.region_id, [])
            if p.user and p.user.username != demo_resident
        ]
        if recorder is None or not visitors:
            continue
        level = rng.uniform(2.3, 3.3) if rng.random() < 1 / 5 else rng.uniform(3.7, 4.8)
        for _ in range(rng.randint(*FACILITY_VISITS)):
            person = rng.choice(visitors)
            on = today - dt.timedelta(days=rng.randint(0, FACILITY_DAYS))
            if (facility.pk, person.pk, on) in seen:
                continue
            seen.add((facility.pk, person.pk, on))
            at = timezone.make_aware(dt.datetime.combine(on, dt.time(hour=rng.randint(8, 18))))
            visit = FacilityVisit(
                facility=facility,
                person=person,
                user_id=person.user_id,
                community_id=facility.region_id,
                kind=VisitKind.VISIT if rng.random() < 0.8 else VisitKind.BOOKING,
                on=on,
                recorded_by_id=recorder if rng.random() < 0.8 else cast(int, person.user_id),
                created_at=min(at, now),
            )
            visits.append(visit)
            planned.append((visit, level, person))
        if level < 3.4 and rng.random() < 0.5:
            complainant = rng.choice(visitors)
            filed = now - dt.timedelta(days=rng.uniform(20, FACILITY_DAYS))
            complaints.append(
                Complaint(
                    complainant=complainant.user,
                    person=complainant,
                    facility=facility,
                    community_id=facility.region_id,
                    text=rng.choice(FACILITY_COMPLAINTS),
                    respond_by=filed + dt.timedelta(days=7),
                    created_at=filed,
                )
            )
    # The demo resident's visit of yesterday, to rate in the demo.
    demo = next(
        (
            p
            for group in people.values()
            for p in group
            if p.user and p.user.username == demo_resident
        ),
        None,
    )
    near = [f for f in facilities if demo is not None and f.region_id == demo.community_id]
    if demo is not None and near:
        facility = near[0]
        recorder = staff.get(facility.organization_id) or workers.get(demo.community_id)
        if recorder is not None:
            visits.append(
                FacilityVisit(
                    facility=facility,
                    person=demo,
                    user_id=demo.user_id,
                    community_id=facility.region_id or demo.community_id,
                    kind=VisitKind.VISIT,
                    on=today - dt.timedelta(days=1),
                    recorded_by_id=recorder,
                    created_at=now - dt.timedelta(hours=20),
                )
            )
    ratings: list[FacilityRating] = []
    with _stamped(FacilityVisit, FacilityRating, Complaint, ComplaintEvent):
        FacilityVisit.objects.bulk_create(visits, batch_size=1000)
        for visit, level, person in planned:
            if rng.random() >= SHARE_FACILITY_RATED:
                continue
            at = min(visit.created_at + dt.timedelta(hours=rng.uniform(1, 72)), now)
            if visit.on > timezone.localdate(at):
                continue
            overall = _clip(rng.gauss(level, 0.8))
            ratings.append(
                FacilityRating(
                    visit=visit,
                    rater_id=cast(int, person.user_id),  # only residents with an account
                    facility_id=visit.facility_id,
                    community_id=visit.community_id,
                    priority_group=first_priority_group(person, visit.on),
                    overall=overall,
                    comment=rng.choice(FACILITY_COMMENTS[overall]),
                    by_proxy=False,
                    created_at=at,
                    updated_at=at,
                )
            )
        FacilityRating.objects.bulk_create(ratings, batch_size=1000)
        Complaint.objects.bulk_create(complaints, batch_size=1000)
        events: list[ComplaintEvent] = []
        for complaint in Complaint.objects.filter(
            pk__in=[c.pk for c in complaints if c.pk]
        ).order_by("pk"):
            events += _move(complaint, workers.get(complaint.community_id), rng, now)
        ComplaintEvent.objects.bulk_create(events, batch_size=1000)
    return len(visits), len(ratings)


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
