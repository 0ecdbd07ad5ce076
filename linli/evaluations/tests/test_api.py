"""The API: rate, change, hide; complain and move the complaint; errors name the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.evaluations.models import Evaluation

pytestmark = pytest.mark.django_db


def test_rate_then_list_then_change(api_client, done, elder, responder):
    api_client.force_authenticate(elder.user)
    made = api_client.post(
        "/api/v1/evaluations/",
        {"request": done.public_id, "overall": 5, "quality": 4, "comment": "好"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["overall"], body["timeliness"], body["quality"], body["need_met"]) == (
        5,
        5,
        4,
        "yes",
    )
    again = api_client.post(
        "/api/v1/evaluations/", {"request": done.public_id, "overall": 5}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["fields"]["request"] == ["This request has already been rated."]
    mine = api_client.get("/api/v1/evaluations/")
    assert [row["id"] for row in mine.json()["results"]] == [body["id"]]
    changed = api_client.patch(f"/api/v1/evaluations/{body['id']}", {"overall": 2}, format="json")
    assert changed.status_code == 200
    assert changed.json()["overall"] == 2
    responder.refresh_from_db()
    assert responder.rating == 2.0
    Evaluation.objects.filter(pk=body["id"]).update(
        created_at=timezone.now() - dt.timedelta(hours=30)
    )
    late = api_client.patch(f"/api/v1/evaluations/{body['id']}", {"overall": 3}, format="json")
    assert late.status_code == 400
    assert "evaluation" in late.json()["fields"]


def test_bad_input_is_refused_with_field_and_reason(api_client, done, elder):
    api_client.force_authenticate(UserFactory.create())
    stranger = api_client.post(
        "/api/v1/evaluations/", {"request": done.public_id, "overall": 5}, format="json"
    )
    assert stranger.status_code == 403
    assert stranger.json()["code"] == "permission_denied"
    assert "request" in stranger.json()["fields"]
    api_client.force_authenticate(elder.user)
    bad = api_client.post(
        "/api/v1/evaluations/", {"request": done.public_id, "overall": 9}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"overall": ["Give a whole number from 1 to 5."]}
    missing = api_client.post(
        "/api/v1/evaluations/", {"request": "NOPE", "overall": 3}, format="json"
    )
    assert missing.status_code == 404


def test_hide_comment_by_a_community_worker(api_client, done, elder, worker):
    evaluation = Evaluation.objects.create(
        request=done,
        rater=elder.user,
        person=elder,
        community=done.community,
        service=done.service,
        overall=1,
        timeliness=1,
        attitude=1,
        quality=1,
        need_met="no",
        comment="脏话",
    )
    api_client.force_authenticate(elder.user)
    refused = api_client.post(
        f"/api/v1/evaluations/{evaluation.pk}/hide-comment", {"reason": "x"}, format="json"
    )
    assert refused.status_code == 403
    api_client.force_authenticate(worker)
    hidden = api_client.post(
        f"/api/v1/evaluations/{evaluation.pk}/hide-comment", {"reason": "不文明"}, format="json"
    )
    assert hidden.status_code == 200
    assert (hidden.json()["comment"], hidden.json()["comment_hidden"]) == ("", True)
    assert hidden.json()["overall"] == 1


def test_complaints_filed_listed_and_moved(api_client, done, elder, worker, staff):
    api_client.force_authenticate(elder.user)
    filed = api_client.post(
        "/api/v1/complaints/", {"request": done.public_id, "text": "迟到两小时"}, format="json"
    )
    assert filed.status_code == 201, filed.json()
    complaint = filed.json()
    assert (complaint["against"], complaint["state"], complaint["actions"]) == (
        "request",
        "received",
        ["investigate", "answer"],
    )
    both = api_client.post(
        "/api/v1/complaints/",
        {"request": done.public_id, "responder": done.responder_id, "text": "x"},
        format="json",
    )
    assert both.status_code == 400
    assert "target" in both.json()["fields"]
    stranger = UserFactory.create()
    api_client.force_authenticate(stranger)
    assert api_client.get("/api/v1/complaints/").json()["results"] == []
    assert api_client.get(f"/api/v1/complaints/{complaint['id']}").status_code == 404
    api_client.force_authenticate(worker)
    handled = api_client.get("/api/v1/complaints/?which=handled")
    assert [row["id"] for row in handled.json()["results"]] == [complaint["id"]]
    api_client.force_authenticate(staff)
    assert [r["id"] for r in api_client.get("/api/v1/complaints/").json()["results"]] == [
        complaint["id"]
    ]
    answered = api_client.post(
        f"/api/v1/complaints/{complaint['id']}/transitions",
        {"action": "answer", "answer": "已处理"},
        format="json",
    )
    assert answered.status_code == 200
    assert answered.json()["state"] == "answered"
    wrong = api_client.post(
        f"/api/v1/complaints/{complaint['id']}/transitions",
        {"action": "investigate"},
        format="json",
    )
    assert wrong.status_code == 409
    api_client.force_authenticate(elder.user)
    seen = api_client.get("/api/v1/complaints/?which=mine").json()["results"][0]
    assert seen["answer"] == "已处理"
    closed = api_client.post(
        f"/api/v1/complaints/{complaint['id']}/transitions",
        {"action": "close", "satisfied": False},
        format="json",
    )
    assert (closed.json()["state"], closed.json()["closed_satisfied"]) == ("closed", False)


def _count_queries(api_client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(url).status_code == 200
    return len(queries)


def test_lists_take_the_same_queries_for_one_row_or_many(
    api_client, elder, worker, responder, done
):
    from linli.evaluations.services import complaint_file, evaluation_submit

    from .factories import delivered

    evaluation_submit(actor=elder.user, request=done, overall=5)
    complaint_file(actor=elder.user, request=done, text="一")
    api_client.force_authenticate(elder.user)
    # The first call also reads the caller's scope, which is then cached on the user.
    _count_queries(api_client, "/api/v1/complaints/")
    one = (
        _count_queries(api_client, "/api/v1/evaluations/"),
        _count_queries(api_client, "/api/v1/complaints/"),
    )
    for _ in range(3):
        more = delivered(elder, worker, responder)
        evaluation_submit(actor=elder.user, request=more, overall=3)
        complaint_file(actor=elder.user, request=more, text="二")
    many = (
        _count_queries(api_client, "/api/v1/evaluations/"),
        _count_queries(api_client, "/api/v1/complaints/"),
    )
    assert one == many
