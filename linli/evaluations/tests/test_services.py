"""Rating a delivered request and handling complaints: who, when, once, and the mean."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.evaluations.choices import ComplaintAction, ComplaintState
from linli.evaluations.models import Complaint, ComplaintEvent, Evaluation
from linli.evaluations.services import (
    complaint_file,
    complaint_transition,
    evaluation_edit,
    evaluation_hide_comment,
    evaluation_submit,
)
from linli.notifications.models import Notification
from linli.requests.choices import Action
from linli.requests.models import ServiceRequest
from linli.requests.services import RequestInput, request_create

from .factories import delivered

pytestmark = pytest.mark.django_db


def test_the_person_served_rates_once_and_the_rest_is_copied(done, elder, responder, provider):
    evaluation = evaluation_submit(actor=elder.user, request=done, overall=4, comment=" 很好 ")
    assert (evaluation.overall, evaluation.timeliness, evaluation.attitude, evaluation.quality) == (
        4,
        4,
        4,
        4,
    )
    assert evaluation.need_met == "yes"
    assert evaluation.comment == "很好"
    assert evaluation.by_proxy is False
    assert evaluation.responder == responder
    assert evaluation.organization == provider
    assert evaluation.community_id == done.community_id
    assert evaluation.service_id == done.service_id
    # 85 years old and living alone.
    assert evaluation.priority_group == "elderly_living_alone"
    responder.refresh_from_db()
    assert responder.rating == 4.0
    with pytest.raises(ValidationFailed) as second:
        evaluation_submit(actor=elder.user, request=done, overall=5)
    assert "request" in second.value.fields
    assert Evaluation.objects.count() == 1


def test_a_proxy_may_rate_and_is_marked(done, proxy):
    evaluation = evaluation_submit(
        actor=proxy, request=done, overall=2, timeliness=1, need_met="partly"
    )
    assert evaluation.by_proxy is True
    assert (evaluation.timeliness, evaluation.attitude, evaluation.need_met) == (1, 2, "partly")


def test_someone_not_served_is_refused(done, worker):
    with pytest.raises(PermissionDenied) as refused:
        evaluation_submit(actor=UserFactory.create(), request=done, overall=5)
    assert "request" in refused.value.fields
    # The community worker asked for the elder, but does not rate for them.
    with pytest.raises(PermissionDenied):
        evaluation_submit(actor=worker, request=done, overall=5)


def test_scores_outside_one_to_five_are_refused_by_field(done, elder):
    with pytest.raises(ValidationFailed) as refused:
        evaluation_submit(
            actor=elder.user, request=done, overall=6, attitude=0, quality="x", need_met="maybe"
        )
    assert set(refused.value.fields) == {"overall", "attitude", "quality", "need_met"}
    with pytest.raises(ValidationFailed) as missing:
        evaluation_submit(actor=elder.user, request=done, overall=None)
    assert "overall" in missing.value.fields


def test_the_database_refuses_a_score_out_of_range(done, elder):
    evaluation = evaluation_submit(actor=elder.user, request=done, overall=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.filter(pk=evaluation.pk).update(quality=9)


def test_only_a_delivered_request_within_the_window(elder, worker, responder, settings):
    open_request = request_create(
        actor=worker,
        data=RequestInput(service="elderly_meals", person=elder, community=elder.community),
    )
    with pytest.raises(ValidationFailed) as undelivered:
        evaluation_submit(actor=elder.user, request=open_request, overall=5)
    assert "request" in undelivered.value.fields
    done = delivered(elder, worker, responder)
    ServiceRequest.objects.filter(pk=done.pk).update(
        completed_at=timezone.now() - dt.timedelta(days=31)
    )
    with pytest.raises(ValidationFailed) as late:
        evaluation_submit(actor=elder.user, request=done, overall=5)
    assert "30 days" in late.value.fields["request"][0]
    settings.LINLI_EVALUATION_WINDOW_DAYS = 40
    assert evaluation_submit(actor=elder.user, request=done, overall=5).overall == 5


def test_edit_within_a_day_moves_the_mean(done, elder, worker, responder):
    first = evaluation_submit(actor=elder.user, request=done, overall=5)
    other = delivered(elder, worker, responder)
    evaluation_submit(actor=elder.user, request=other, overall=3)
    responder.refresh_from_db()
    assert responder.rating == 4.0
    changed = evaluation_edit(
        actor=elder.user, evaluation=first, changes={"overall": 1, "comment": "晚了"}
    )
    assert (changed.overall, changed.comment) == (1, "晚了")
    responder.refresh_from_db()
    assert responder.rating == 2.0
    with pytest.raises(ValidationFailed) as bad:
        evaluation_edit(actor=elder.user, evaluation=first, changes={"attitude": 7, "rater": 1})
    assert set(bad.value.fields) == {"attitude", "rater"}
    with pytest.raises(PermissionDenied):
        evaluation_edit(actor=worker, evaluation=first, changes={"overall": 5})
    Evaluation.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    with pytest.raises(ValidationFailed) as late:
        evaluation_edit(actor=elder.user, evaluation=first, changes={"overall": 5})
    assert "evaluation" in late.value.fields


def test_a_moderator_hides_the_comment_and_the_score_still_counts(done, elder, worker, responder):
    evaluation = evaluation_submit(actor=elder.user, request=done, overall=1, comment="骂人的话")
    with pytest.raises(PermissionDenied):
        evaluation_hide_comment(actor=UserFactory.create(), evaluation=evaluation, reason="x")
    with pytest.raises(ValidationFailed) as no_reason:
        evaluation_hide_comment(actor=worker, evaluation=evaluation, reason=" ")
    assert "reason" in no_reason.value.fields
    hidden = evaluation_hide_comment(actor=worker, evaluation=evaluation, reason="辱骂")
    assert (hidden.hidden_by, hidden.hidden_reason, hidden.comment_hidden) == (worker, "辱骂", True)
    with pytest.raises(Conflict):
        evaluation_hide_comment(actor=worker, evaluation=evaluation, reason="again")
    responder.refresh_from_db()
    assert responder.rating == 1.0


def test_a_complaint_goes_through_its_map(
    done, elder, worker, staff, provider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_file(actor=elder.user, request=done, text="饭菜是冷的")
    assert complaint.state == ComplaintState.RECEIVED
    assert complaint.community_id == done.community_id
    assert complaint.person == elder
    assert complaint.respond_by - complaint.created_at >= dt.timedelta(days=7) - dt.timedelta(
        seconds=5
    )
    assert Notification.objects.filter(user=worker, link=f"/complaints/{complaint.pk}/").exists()
    with pytest.raises(PermissionDenied):
        complaint_transition(
            actor=elder.user, complaint=complaint, action=ComplaintAction.INVESTIGATE
        )
    with pytest.raises(Conflict):
        complaint_transition(actor=worker, complaint=complaint, action=ComplaintAction.CLOSE)
    complaint = complaint_transition(
        actor=worker, complaint=complaint, action=ComplaintAction.INVESTIGATE
    )
    with pytest.raises(ValidationFailed) as empty:
        complaint_transition(actor=staff, complaint=complaint, action=ComplaintAction.ANSWER)
    assert "answer" in empty.value.fields
    # The provider's staff answer a complaint against their delivery.
    with django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_transition(
            actor=staff, complaint=complaint, action=ComplaintAction.ANSWER, answer="已道歉并补送"
        )
    assert (complaint.answer, complaint.answered_by) == ("已道歉并补送", staff)
    assert Notification.objects.filter(user=elder.user, body="已道歉并补送").exists()
    with pytest.raises(ValidationFailed) as unsaid:
        complaint_transition(actor=elder.user, complaint=complaint, action=ComplaintAction.CLOSE)
    assert "satisfied" in unsaid.value.fields
    complaint = complaint_transition(
        actor=elder.user, complaint=complaint, action=ComplaintAction.CLOSE, satisfied=True
    )
    assert (complaint.state, complaint.closed_satisfied) == (ComplaintState.CLOSED, True)
    assert list(
        ComplaintEvent.objects.filter(complaint=complaint).values_list("action", flat=True)
    ) == ["file", "investigate", "answer", "close"]


def test_a_complaint_is_against_exactly_one_thing(done, elder, provider, responder):
    with pytest.raises(ValidationFailed) as two:
        complaint_file(actor=elder.user, request=done, organization=provider, text="x")
    assert "target" in two.value.fields
    with pytest.raises(ValidationFailed) as none:
        complaint_file(actor=elder.user, text="")
    assert {"target", "text"} <= set(none.value.fields)
    with pytest.raises(PermissionDenied):
        complaint_file(actor=UserFactory.create(), request=done, text="x")
    against = complaint_file(actor=elder.user, organization=provider, text="态度差")
    assert against.community_id == elder.community_id
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=against.pk).update(responder=responder)


def test_completion_notification_links_to_the_rating_page(
    elder, worker, responder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        done = delivered(elder, worker, responder)
    completed = Notification.objects.get(
        user=elder.user, params__action=Action.COMPLETE, request=done
    )
    assert completed.link == f"/evaluations/rate/{done.public_id}/"
