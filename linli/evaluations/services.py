"""Writes of the evaluations app: rating a delivered request, moderating a comment,
filing and handling a complaint.

Check, then act, then record, then notify after commit. A rating locks its request
row (one rating per request, even when two taps race) and then the responder's row,
so the responder's mean (`Responder.rating`) is recomputed from committed ratings
in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import is_staff_of, user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.directory.models import Location, Organization
from linli.notifications.services import notify_text
from linli.notifications.texts import in_every_language
from linli.regions.models import Region
from linli.requests.choices import State
from linli.requests.models import Responder, ServiceRequest
from linli.requests.services import is_served
from linli.residents.choices import PriorityGroup
from linli.residents.models import Resident
from linli.residents.services import acts_for

from .choices import TRANSITIONS, ComplaintAction, ComplaintState, NeedMet
from .models import SCORE_FIELDS, Complaint, ComplaintEvent, Evaluation, FacilityRating

# A rating whose comment a moderator may hide: of a delivered request, or of a facility.
RatedT = TypeVar("RatedT", Evaluation, FacilityRating)

RATED_STATES = (State.COMPLETED, State.CONFIRMED, State.CLOSED)


def window_days() -> int:
    return int(getattr(settings, "LINLI_EVALUATION_WINDOW_DAYS", 30))


def edit_hours() -> int:
    return int(getattr(settings, "LINLI_EVALUATION_EDIT_HOURS", 24))


def answer_days() -> int:
    return int(getattr(settings, "LINLI_COMPLAINT_ANSWER_DAYS", 7))


# --- who may do what ----------------------------------------------------------------------


def may_rate(actor: User | None, request: ServiceRequest) -> bool:
    """The person served (their own account) or their proxy; not whoever merely asked."""
    if actor is None or request.person is None:
        return False
    return acts_for(actor, request.person)


def is_moderator(actor: User | None, community_id: str) -> bool:
    """Community workers (and those above them) of the community the rating is in."""
    if actor is None or not actor.is_authenticated:
        return False
    return user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(community_id)


def first_priority_group(person: Resident | None, day: dt.date) -> str:
    """The served person's first priority group at rating time, "" when none."""
    if person is None:
        return ""
    age = person.age(day)
    if age is not None and age >= 60:
        if person.living_alone:
            return str(PriorityGroup.ELDERLY_LIVING_ALONE)
        return str(PriorityGroup.ELDERLY)
    if person.disability_category:
        return str(PriorityGroup.DISABLED)
    if age is not None and age < 18:
        return str(PriorityGroup.MINOR)
    if person.difficulty:
        return str(PriorityGroup.FAMILY_IN_DIFFICULTY)
    if person.left_behind:
        return str(PriorityGroup.LEFT_BEHIND)
    return ""


def need_met_default(overall: int) -> str:
    """What a one-tap rating says of the need until the rater says otherwise."""
    if overall >= 4:
        return str(NeedMet.YES)
    if overall == 3:
        return str(NeedMet.PARTLY)
    return str(NeedMet.NO)


def _scores(values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, int]:
    scores: dict[str, int] = {}
    for name in SCORE_FIELDS:
        value = values.get(name)
        if value is None or value == "":
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, bool) or number < 1 or number > 5 or str(number) != str(value).strip():
            errors.setdefault(name, []).append(_("Give a whole number from 1 to 5."))
            continue
        scores[name] = number
    return scores


def _check_need_met(value: str, errors: dict[str, list[str]]) -> None:
    if value not in NeedMet.values:
        errors.setdefault("need_met", []).append(
            _("Answer one of: %(choices)s.") % {"choices": ", ".join(NeedMet.values)}
        )


def _refresh_responder_rating(responder_id: int | None) -> None:
    """The mean overall score of the requests it delivered; the caller holds its row lock."""
    if responder_id is None:
        return
    mean = Evaluation.objects.filter(responder_id=responder_id).aggregate(mean=Avg("overall"))
    Responder.objects.filter(pk=responder_id).update(
        rating=round(mean["mean"], 3) if mean["mean"] is not None else None
    )


def _lock_responder(responder_id: int | None) -> None:
    if responder_id is not None:
        list(Responder.objects.select_for_update().filter(pk=responder_id).values_list("pk"))


# --- evaluations --------------------------------------------------------------------------


@transaction.atomic
def evaluation_submit(
    *,
    actor: User,
    request: ServiceRequest,
    overall: int | str | None,
    timeliness: int | str | None = None,
    attitude: int | str | None = None,
    quality: int | str | None = None,
    need_met: str = "",
    comment: str = "",
) -> Evaluation:
    """Rate a delivered request: once, by the person served or their proxy, within the
    window. Sub-scores left out take the overall score; the need, the overall's reading."""
    now = timezone.now()
    request = (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("person", "responder", "community", "service")
        .get(pk=request.pk)
    )
    if not may_rate(actor, request):
        raise PermissionDenied(
            _("Only the person served or their proxy may rate this request."),
            fields={"request": [_("You were not served by this request.")]},
        )
    if request.state not in RATED_STATES:
        raise ValidationFailed(fields={"request": [_("Only a delivered request can be rated.")]})
    if Evaluation.objects.filter(request=request).exists():
        raise ValidationFailed(fields={"request": [_("This request has already been rated.")]})
    finished = request.completed_at or request.closed_at or request.updated_at
    if now > finished + dt.timedelta(days=window_days()):
        raise ValidationFailed(
            fields={
                "request": [
                    _("Ratings are taken within %(days)d days of completion.")
                    % {"days": window_days()}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    given = {
        "overall": overall,
        "timeliness": timeliness,
        "attitude": attitude,
        "quality": quality,
    }
    if overall is None or overall == "":
        errors["overall"] = [_("Give a whole number from 1 to 5.")]
    scores = _scores(given, errors)
    if need_met:
        _check_need_met(need_met, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    base = scores["overall"]
    responder = request.responder
    _lock_responder(request.responder_id)
    person = request.person
    evaluation = Evaluation.objects.create(
        request=request,
        rater=actor,
        person=person,
        responder=responder,
        organization_id=responder.organization_id if responder else None,
        community_id=request.community_id,
        service_id=request.service_id,
        priority_group=first_priority_group(person, now.date()),
        overall=base,
        timeliness=scores.get("timeliness", base),
        attitude=scores.get("attitude", base),
        quality=scores.get("quality", base),
        need_met=need_met or need_met_default(base),
        comment=comment.strip(),
        by_proxy=person is not None and person.user_id != actor.pk,
    )
    _refresh_responder_rating(request.responder_id)
    return evaluation


@transaction.atomic
def evaluation_edit(
    *,
    actor: User,
    evaluation: Evaluation,
    changes: dict[str, Any],
) -> Evaluation:
    """Change a rating's scores, need or comment, by its rater, within the edit hours."""
    evaluation = (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=evaluation.pk)
    )
    if evaluation.rater_id != actor.pk and not (
        evaluation.person is not None and acts_for(actor, evaluation.person)
    ):
        raise PermissionDenied(_("Only whoever rated may change the rating."))
    if timezone.now() > evaluation.created_at + dt.timedelta(hours=edit_hours()):
        raise ValidationFailed(
            fields={
                "evaluation": [
                    _("A rating can be changed for %(hours)d hours only.") % {"hours": edit_hours()}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    unknown = set(changes) - {*SCORE_FIELDS, "need_met", "comment"}
    for name in sorted(unknown):
        errors[name] = [_("This cannot be changed.")]
    scores = _scores({k: v for k, v in changes.items() if k in SCORE_FIELDS}, errors)
    for name in SCORE_FIELDS:
        if name in changes and changes[name] in (None, "") and name not in errors:
            errors[name] = [_("Give a whole number from 1 to 5.")]
    if "need_met" in changes:
        _check_need_met(str(changes["need_met"]), errors)
    if errors:
        raise ValidationFailed(fields=errors)
    _lock_responder(evaluation.responder_id)
    for name, value in scores.items():
        setattr(evaluation, name, value)
    if "need_met" in changes:
        evaluation.need_met = str(changes["need_met"])
    if "comment" in changes:
        evaluation.comment = str(changes["comment"] or "").strip()
    evaluation.save()
    if "overall" in scores:
        _refresh_responder_rating(evaluation.responder_id)
    return evaluation


@transaction.atomic
def hide_comment(rated: RatedT, *, actor: User, reason: str) -> RatedT:
    """A moderator hides the comment of a rating (of a request or of a facility), saying
    why; its scores still count."""
    rated = type(rated).objects.select_for_update().get(pk=rated.pk)
    if not is_moderator(actor, rated.community_id):
        raise PermissionDenied(_("Only the community's workers moderate its ratings."))
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Say why the comment is hidden.")]})
    if rated.hidden_at is not None:
        raise Conflict(_("This comment is already hidden."))
    rated.hidden_at = timezone.now()
    rated.hidden_by = actor
    rated.hidden_reason = reason.strip()
    rated.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "updated_at"])
    return rated


def evaluation_hide_comment(*, actor: User, evaluation: Evaluation, reason: str) -> Evaluation:
    """A moderator hides a rating's comment, saying why; the scores still count."""
    return hide_comment(evaluation, actor=actor, reason=reason)


# --- complaints ---------------------------------------------------------------------------


def complaint_organization_id(complaint: Complaint) -> uuid.UUID | None:
    """The provider a complaint is against, directly or through its responder or request."""
    if complaint.organization_id:
        return complaint.organization_id
    responder = complaint.responder
    if responder is None and complaint.request is not None:
        responder = complaint.request.responder
    return responder.organization_id if responder is not None else None


def may_handle(actor: User | None, complaint: Complaint) -> bool:
    """The community's workers, or the provider staff of the organization it is against."""
    if actor is None or not actor.is_authenticated:
        return False
    if user_scope(actor, roles=RESIDENT_KEEPER_ROLES).covers(complaint.community_id):
        return True
    organization_id = complaint_organization_id(complaint)
    return is_staff_of(actor, organization_id)


def _handlers(complaint: Complaint) -> list[User]:
    """Who hears of a new complaint: the community's workers."""
    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.COMMUNITY_WORKER,
            role_assignments__region_id=complaint.community_id,
        ).distinct()
    )


def _event(
    complaint: Complaint, action: str, from_state: str, actor: User | None, note: str = ""
) -> None:
    ComplaintEvent.objects.create(
        complaint=complaint,
        action=action,
        from_state=from_state,
        to_state=complaint.state,
        actor=actor,
        note=note,
    )


# The body of a message that is the handler's own answer, not words of Linli's.
THEIR_WORDS = "%(answer)s"


def announce_complaint(
    users: list[User], complaint_id: int, words: tuple[str, str], values: dict[str, Any], key: str
) -> None:
    """After commit, tell `users` about a complaint; `words` are msgids (gettext_noop), so
    each reader reads them in their own language (notifications.notify_text)."""
    from django.urls import reverse

    link = reverse("evaluations:complaint", args=[complaint_id])
    title, body = words

    def send() -> None:
        for user in users:
            notify_text(
                user=user,
                title=title,
                body=body,
                values=values,
                link=link,
                key=f"{key}:{user.pk}",
            )

    transaction.on_commit(send)


@transaction.atomic
def complaint_file(
    *,
    actor: User,
    text: str,
    request: ServiceRequest | None = None,
    organization: Organization | None = None,
    responder: Responder | None = None,
    facility: Location | None = None,
    community: Region | None = None,
) -> Complaint:
    """A resident complains about one request, provider, responder or facility."""
    errors: dict[str, list[str]] = {}
    targets = [t for t in (request, organization, responder, facility) if t is not None]
    if len(targets) != 1:
        errors["target"] = [
            _("Complain about exactly one request, provider, responder or facility.")
        ]
    if not text.strip():
        errors["text"] = [_("Say what went wrong.")]
    person: Resident | None = getattr(actor, "resident", None)
    if request is not None:
        if not is_served(actor, request):
            raise PermissionDenied(
                _("Only those served by a request may complain about it."),
                fields={"request": [_("You were not served by this request.")]},
            )
        community = request.community
        person = request.person
    elif community is None and person is not None:
        community = person.community
    if community is None:
        errors.setdefault("community", []).append(_("Say which community this is in."))
    if errors or community is None:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    complaint = Complaint.objects.create(
        complainant=actor,
        person=person,
        request=request,
        organization=organization,
        responder=responder,
        facility=facility,
        community=community,
        text=text.strip(),
        state=ComplaintState.RECEIVED,
        respond_by=now + dt.timedelta(days=answer_days()),
    )
    _event(complaint, ComplaintAction.FILE, "", actor)
    announce_complaint(
        _handlers(complaint),
        complaint.pk,
        (gettext_noop("New complaint #%(number)s"), gettext_noop("To be answered by %(date)s.")),
        {
            "number": complaint.pk,
            "date": timezone.localtime(complaint.respond_by).strftime("%Y-%m-%d"),
        },
        f"complaint:{complaint.pk}:filed",
    )
    return complaint


@transaction.atomic
def complaint_transition(
    *,
    actor: User,
    complaint: Complaint,
    action: str,
    answer: str = "",
    satisfied: bool | None = None,
    note: str = "",
) -> Complaint:
    """Move a complaint along its map: investigate and answer by those who handle it,
    close by the complainant (saying whether satisfied) or by those who handle it."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("request__responder", "responder")
        .get(pk=complaint.pk)
    )
    is_complainant = complaint.complainant_id == actor.pk
    handles = may_handle(actor, complaint)
    allowed = (is_complainant or handles) if action == ComplaintAction.CLOSE else handles
    if not allowed:
        raise PermissionDenied(_("You may not do this to this complaint."))
    target = TRANSITIONS.get((complaint.state, action))
    if target is None:
        raise Conflict(
            _("A complaint that is %(state)s cannot be moved that way.")
            % {"state": ComplaintState(complaint.state).label}
        )
    errors: dict[str, list[str]] = {}
    if action == ComplaintAction.ANSWER and not answer.strip():
        errors["answer"] = [_("Write the answer the complainant will read.")]
    if action == ComplaintAction.CLOSE and is_complainant and satisfied is None:
        errors["satisfied"] = [_("Say whether the answer satisfied you.")]
    if errors:
        raise ValidationFailed(fields=errors)
    source = complaint.state
    complaint.state = target
    now = timezone.now()
    if action == ComplaintAction.ANSWER:
        complaint.answer = answer.strip()
        complaint.answered_by = actor
        complaint.answered_at = now
    if action == ComplaintAction.CLOSE:
        complaint.closed_satisfied = satisfied
    complaint.save()
    _event(complaint, action, source, actor, note or answer.strip())
    if action in (ComplaintAction.INVESTIGATE, ComplaintAction.ANSWER) and not is_complainant:
        title = gettext_noop("Your complaint #%(number)s: %(state)s")
        announce_complaint(
            [complaint.complainant],
            complaint.pk,
            (title, THEIR_WORDS if action == ComplaintAction.ANSWER else title),
            {
                "number": complaint.pk,
                "state": in_every_language(ComplaintState(target).label),
                "answer": complaint.answer,
            },
            f"complaint:{complaint.pk}:{action}",
        )
    return complaint
