"""The activities API: status codes, who may do what, and refusals with field and reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from linli.accounts.choices import Role
from linli.volunteers import activities as svc
from linli.volunteers.choices import DisputeStatus, SignupStatus, VolunteerStatus
from linli.volunteers.ledger import person_account
from linli.volunteers.models import Activity, Attendance, HoursDispute, Signup, Transfer

from . import test_activities as base
from .test_activities import certified, confirmed, granted, make_volunteer, publish

pytestmark = pytest.mark.django_db

# The service tests' fixtures (overriding conftest's where the names meet).
activity = base.activity
community = base.community
faraway = base.faraway
organization = base.organization
other_worker = base.other_worker
staff = base.staff
volunteer = base.volunteer
worker = base.worker

ACTIVITIES = "/api/v1/activities/"


def as_user(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def new_activity(community: Any, **changes: Any) -> dict[str, Any]:
    starts = timezone.now() + dt.timedelta(days=2)
    body = {
        "title": "清洁家园",
        "description": "捡拾垃圾",
        "community": community.code,
        "address": "小区北门",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "capacity": 8,
        "skills": ["convenience_errands"],
    }
    body.update(changes)
    return body


def test_a_community_worker_publishes(worker, community):
    response = as_user(worker).post(ACTIVITIES, new_activity(community), format="json")
    assert response.status_code == 201
    created = Activity.objects.get()
    assert response["Location"] == f"{ACTIVITIES}{created.pk}/"
    body = response.json()
    assert body["title"] == "清洁家园"
    assert body["community"] == community.code
    assert body["capacity"] == 8
    assert body["confirmed"] == 0
    assert body["skills"] == ["convenience_errands"]
    assert body["status"] == "published"
    assert body["organization"] is None


def test_provider_staff_publish_for_their_organization(staff, organization, community):
    response = as_user(staff).post(
        ACTIVITIES, new_activity(community, organization=str(organization.pk)), format="json"
    )
    assert response.status_code == 201
    assert response.json()["organization"] == str(organization.pk)


def test_another_communitys_worker_cannot_organize(other_worker, community, activity):
    response = as_user(other_worker).post(ACTIVITIES, new_activity(community), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    signups = as_user(other_worker).get(f"{ACTIVITIES}{activity.pk}/signups")
    assert signups.status_code == 403
    assert Activity.objects.count() == 1


def test_bad_input_is_a_400_with_the_field(worker, community):
    client = as_user(worker)
    starts = timezone.now() + dt.timedelta(days=1)
    response = client.post(
        ACTIVITIES,
        new_activity(
            community,
            ends_at=(starts - dt.timedelta(hours=1)).isoformat(),
            starts_at=starts.isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"ends_at": ["The end must be after the start."]}
    unknown = client.post(
        ACTIVITIES, new_activity(community) | {"community": "999999999999"}, format="json"
    )
    assert unknown.status_code == 400
    assert unknown.json()["fields"] == {"community": ["No region with code 999999999999."]}
    skills = client.post(ACTIVITIES, new_activity(community, skills=["nope"]), format="json")
    assert skills.json()["fields"] == {"skills": ["Unknown skill code nope."]}
    assert Activity.objects.count() == 0


def test_lists_near_a_volunteer_and_of_an_organizer(
    activity, volunteer, worker, other_worker, faraway
):
    far = publish(other_worker, faraway, title="远处的活动")
    near = as_user(volunteer.user).get(ACTIVITIES)
    assert near.status_code == 200
    assert [row["id"] for row in near.json()["results"]] == [activity.pk]
    organized = as_user(worker).get(ACTIVITIES, {"organized": "true"})
    assert [row["id"] for row in organized.json()["results"]] == [activity.pk]
    theirs = as_user(other_worker).get(ACTIVITIES, {"organized": "true"})
    assert [row["id"] for row in theirs.json()["results"]] == [far.pk]


def test_the_list_costs_the_same_queries_for_more_activities(worker, community, volunteer):
    for n in range(2):
        publish(worker, community, title=f"活动{n}")
    client = as_user(volunteer.user)
    with CaptureQueriesContext(connection) as few:
        assert client.get(ACTIVITIES).status_code == 200
    for n in range(5):
        publish(worker, community, title=f"更多{n}")
    with CaptureQueriesContext(connection) as more:
        assert len(client.get(ACTIVITIES).json()["results"]) == 7
    assert len(more.captured_queries) == len(few.captured_queries)


def test_sign_up_decide_and_capacity(activity, volunteer, worker, community):
    client = as_user(volunteer.user)
    response = client.post(f"{ACTIVITIES}{activity.pk}/signup")
    assert response.status_code == 201
    signup = response.json()
    assert (signup["status"], signup["volunteer"], signup["attendance"]) == (
        "applied",
        volunteer.pk,
        None,
    )
    decide = f"{ACTIVITIES}{activity.pk}/signups/{signup['id']}/decide"
    assert client.post(decide, {"confirm": True}, format="json").status_code == 403
    done = as_user(worker).post(decide, {"confirm": True}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "confirmed"
    assert done.json()["decided_by"] == worker.display_name
    confirmed(activity, make_volunteer(community))
    third = make_volunteer(community)
    full = as_user(third.user).post(f"{ACTIVITIES}{activity.pk}/signup")
    assert full.status_code == 400
    assert full.json()["fields"] == {"activity": ["All places are taken."]}


def test_confirming_beyond_capacity_is_a_400(activity, worker, community):
    people = [make_volunteer(community) for _ in range(3)]
    signups = [svc.signup_create(actor=p.user, activity=activity) for p in people]
    client = as_user(worker)
    for signup in signups[:2]:
        url = f"{ACTIVITIES}{activity.pk}/signups/{signup.pk}/decide"
        assert client.post(url, {"confirm": True}, format="json").status_code == 200
    url = f"{ACTIVITIES}{activity.pk}/signups/{signups[2].pk}/decide"
    refused = client.post(url, {"confirm": True}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {
        "signup": ["All 2 places are taken: decline someone first or stay at 2."]
    }
    assert Signup.objects.get(pk=signups[2].pk).status == SignupStatus.APPLIED


def test_a_suspended_volunteer_is_told_why(activity, community):
    suspended = make_volunteer(
        community, status=VolunteerStatus.SUSPENDED, status_reason="投诉核查中"
    )
    response = as_user(suspended.user).post(f"{ACTIVITIES}{activity.pk}/signup")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "volunteer": ["Your volunteering is suspended: 投诉核查中"]
    }


def test_withdraw(activity, volunteer):
    client = as_user(volunteer.user)
    assert client.post(f"{ACTIVITIES}{activity.pk}/withdraw").status_code == 404
    client.post(f"{ACTIVITIES}{activity.pk}/signup")
    response = client.post(f"{ACTIVITIES}{activity.pk}/withdraw")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


def test_check_in_and_out_by_token(activity, worker, volunteer, community):
    confirmed(activity, volunteer)
    code = as_user(worker).get(f"{ACTIVITIES}{activity.pk}/qr")
    assert code.status_code == 200
    token = code.json()["token"]
    assert code.json()["url"] == f"http://testserver/activities/checkin/{token}/"
    assert as_user(volunteer.user).get(f"{ACTIVITIES}{activity.pk}/qr").status_code == 403
    client = as_user(volunteer.user)
    url = f"{ACTIVITIES}{activity.pk}/checkin"
    early_out = client.post(url, {"token": token, "direction": "out"}, format="json")
    assert early_out.status_code == 400
    assert early_out.json()["fields"] == {
        "direction": ["You have not checked in yet: check in first."]
    }
    checked = client.post(url, {"token": token}, format="json")
    assert checked.status_code == 200
    assert checked.json()["checked"] == "in"
    assert checked.json()["attendance"]["method"] == "qr"
    assert checked.json()["attendance"]["recorded_by"] == worker.display_name
    second = client.post(url, {"token": token, "direction": "in"}, format="json")
    assert second.status_code == 400
    assert second.json()["fields"]["token"][0].startswith("You checked in at ")
    Attendance.objects.update(checked_in_at=timezone.now() - dt.timedelta(hours=1, minutes=50))
    out = client.post(url, {"token": token}, format="json")
    assert out.json()["checked"] == "out"
    assert out.json()["attendance"]["hours"] == "1.75"
    # A code of another activity, presented for this one.
    other = publish(worker, community, title="别的活动")
    other_token = svc.activity_qr_token(actor=worker, activity=other)
    wrong = client.post(url, {"token": other_token}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["fields"] == {
        "token": ["This code belongs to another activity: scan the code shown at this one."]
    }


def test_a_volunteer_not_confirmed_cannot_check_in(activity, worker, volunteer):
    svc.signup_create(actor=volunteer.user, activity=activity)
    token = svc.activity_qr_token(actor=worker, activity=activity)
    response = as_user(volunteer.user).post(
        f"{ACTIVITIES}{activity.pk}/checkin", {"token": token}, format="json"
    )
    assert response.status_code == 403
    assert Attendance.objects.count() == 0


def test_record_certify_and_permissions(activity, worker, volunteer, other_worker):
    signup = confirmed(activity, volunteer)
    record = f"{ACTIVITIES}{activity.pk}/signups/{signup.pk}/attendance"
    start = activity.starts_at
    wrong = as_user(worker).post(
        record,
        {
            "checked_in_at": start.isoformat(),
            "checked_out_at": (start - dt.timedelta(minutes=5)).isoformat(),
        },
        format="json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["fields"]["checked_out_at"] == ["Check-out must be after check-in."]
    assert as_user(volunteer.user).post(record, {"hours": "2"}, format="json").status_code == 403
    recorded = as_user(worker).post(record, {"hours": "2.1"}, format="json")
    assert recorded.status_code == 200
    assert recorded.json()["hours"] == "2.00"
    assert recorded.json()["method"] == "organizer"
    certify = f"{ACTIVITIES}{activity.pk}/certify"
    assert as_user(volunteer.user).post(certify, {}, format="json").status_code == 403
    assert as_user(other_worker).post(certify, {}, format="json").status_code == 403
    assert Transfer.objects.count() == 0
    done = as_user(worker).post(certify, {"attendance": recorded.json()["id"]}, format="json")
    assert done.status_code == 200
    row = done.json()[0]
    assert row["certified_by"] == worker.display_name
    assert row["recorded_by"] == worker.display_name
    assert row["transfer"] == Transfer.objects.get().pk
    assert person_account(volunteer.user).balance == Decimal("2.00")
    twice = as_user(worker).post(certify, {}, format="json")
    assert twice.status_code == 400
    assert twice.json()["fields"] == {
        "attendance": ["Nothing to certify: no uncertified hours are recorded."]
    }
    signups = as_user(worker).get(f"{ACTIVITIES}{activity.pk}/signups")
    assert signups.json()[0]["attendance"]["certified_by"] == worker.display_name


def test_disputes_raised_and_answered(activity, worker, volunteer, community):
    attendance = certified(activity, volunteer, hours="2")
    raise_url = f"{ACTIVITIES}attendance/{attendance.pk}/disputes"
    stranger = make_volunteer(community)
    assert (
        as_user(stranger.user)
        .post(raise_url, {"claimed_hours": "3", "reason": "不对"}, format="json")
        .status_code
        == 404
    )
    over = as_user(volunteer.user).post(
        raise_url, {"claimed_hours": "25", "reason": "不对"}, format="json"
    )
    assert over.status_code == 400
    assert over.json()["fields"] == {
        "claimed_hours": ["More than a day: at most 24 hours are recorded for one attendance."]
    }
    raised = as_user(volunteer.user).post(
        raise_url, {"claimed_hours": "3", "reason": "结束后还帮忙收拾"}, format="json"
    )
    assert raised.status_code == 201
    dispute = raised.json()
    assert (dispute["status"], dispute["claimed_hours"]) == ("open", "3.00")
    answer = f"{ACTIVITIES}disputes/{dispute['id']}/answer"
    assert (
        as_user(volunteer.user)
        .post(answer, {"upheld": True, "answer": "我同意"}, format="json")
        .status_code
        == 403
    )
    assert (
        as_user(stranger.user)
        .post(answer, {"upheld": True, "answer": "我同意"}, format="json")
        .status_code
        == 404
    )
    done = as_user(worker).post(answer, {"upheld": False, "answer": "收拾不计时长"}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["answer"]) == ("rejected", "收拾不计时长")
    assert HoursDispute.objects.get().status == DisputeStatus.REJECTED
    assert person_account(volunteer.user).balance == Decimal("2.00")
    # Both parties read the answer.
    for user in (volunteer.user, worker):
        listed = as_user(user).get(f"{ACTIVITIES}disputes")
        assert [(d["id"], d["answer"]) for d in listed.json()] == [(dispute["id"], "收拾不计时长")]
    mine = as_user(volunteer.user).get(f"{ACTIVITIES}mine")
    assert mine.status_code == 200
    row = mine.json()[0]
    assert row["activity"]["id"] == activity.pk
    assert row["attendance"]["hours"] == "2.00"
    assert row["attendance"]["disputes"][0]["answer"] == "收拾不计时长"


def test_an_upheld_dispute_recredits(activity, worker, volunteer):
    attendance = certified(activity, volunteer, hours="2")
    dispute = svc.dispute_raise(
        actor=volunteer.user, attendance=attendance, claimed_hours="2.5", reason="少算"
    )
    response = as_user(worker).post(
        f"{ACTIVITIES}disputes/{dispute.pk}/answer",
        {"upheld": True, "answer": "已更正"},
        format="json",
    )
    assert response.status_code == 200
    assert person_account(volunteer.user).balance == Decimal("2.50")
    assert Transfer.objects.count() == 3


def test_cancel_and_anonymous(activity, worker, volunteer):
    assert APIClient().get(ACTIVITIES).status_code in (401, 403)
    assert (
        as_user(volunteer.user)
        .post(f"{ACTIVITIES}{activity.pk}/cancel", {"reason": "下雨"}, format="json")
        .status_code
        == 403
    )
    response = as_user(worker).post(
        f"{ACTIVITIES}{activity.pk}/cancel", {"reason": "下雨"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert as_user(volunteer.user).get(f"{ACTIVITIES}999999/").status_code == 404


def test_a_community_worker_of_the_community_organizes_anothers_activity(activity, community):
    colleague = granted(Role.COMMUNITY_WORKER, region=community)
    response = as_user(colleague).get(f"{ACTIVITIES}{activity.pk}/signups")
    assert response.status_code == 200
