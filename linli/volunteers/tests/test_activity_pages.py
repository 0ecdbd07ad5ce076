"""The activity pages: a volunteer finds, signs up, scans in and out, and disputes; the
organizer publishes, decides, shows the code, records, certifies and answers."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.volunteers import activities as svc
from linli.volunteers.choices import DisputeStatus, SignupStatus, VolunteerStatus
from linli.volunteers.ledger import person_account
from linli.volunteers.models import Activity, Attendance, HoursDispute, Signup

from . import test_activities as base
from .test_activities import certified, confirmed, make_volunteer

pytestmark = pytest.mark.django_db

# The service tests' fixtures (overriding conftest's where the names meet).
activity = base.activity
community = base.community
faraway = base.faraway
other_worker = base.other_worker
volunteer = base.volunteer
worker = base.worker


def browser(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def html(response: Any) -> str:
    return response.content.decode()


def detail_url(activity: Activity) -> str:
    return reverse("volunteers:activity_detail", args=[activity.pk])


def test_the_list_shows_volunteers_what_is_near_and_organizers_theirs(
    activity, volunteer, worker, other_worker
):
    page = browser(volunteer.user).get(reverse("volunteers:activity_list"))
    assert page.status_code == 200
    assert detail_url(activity) in html(page)
    assert "Coming up near you" in html(page)
    assert 'id="activity-new"' not in html(page)
    mine = browser(worker).get(reverse("volunteers:activity_list"))
    assert "Activities you organize" in html(mine)
    assert 'id="activity-new"' in html(mine)
    assert detail_url(activity) in html(mine)
    elsewhere = browser(other_worker).get(reverse("volunteers:activity_list"))
    assert detail_url(activity) not in html(elsewhere)


def test_pages_need_a_login(activity):
    page = Client().get(reverse("volunteers:activity_list"))
    assert page.status_code == 302
    assert "login" in page["Location"]


def test_a_community_worker_publishes_from_the_form(worker, community):
    client = browser(worker)
    form = client.get(reverse("volunteers:activity_new"))
    assert form.status_code == 200
    assert 'type="datetime-local"' in html(form)
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(
        second=0, microsecond=0
    )
    posted = client.post(
        reverse("volunteers:activity_new"),
        {
            "title": "义诊服务",
            "description": "量血压",
            "community": community.code,
            "address": "社区卫生站",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": "6",
            "skills": ["medical_screening"],
        },
    )
    created = Activity.objects.get()
    assert posted.status_code == 302
    assert posted["Location"] == detail_url(created)
    assert (created.title, created.capacity, created.starts_at) == ("义诊服务", 6, starts)
    assert list(created.skills.values_list("code", flat=True)) == ["medical_screening"]


def test_a_bad_form_is_refused_at_its_field_and_nothing_is_stored(worker, community):
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3))
    posted = browser(worker).post(
        reverse("volunteers:activity_new"),
        {
            "title": "义诊服务",
            "community": community.code,
            "address": "社区卫生站",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": "6",
        },
    )
    assert posted.status_code == 400
    assert "The end must be after the start." in html(posted)
    assert Activity.objects.count() == 0


def test_a_volunteer_may_not_open_the_publishing_form(volunteer):
    assert browser(volunteer.user).get(reverse("volunteers:activity_new")).status_code == 403


def test_a_volunteer_signs_up_and_the_organizer_confirms(activity, volunteer, worker, community):
    client = browser(volunteer.user)
    page = client.get(detail_url(activity))
    assert 'id="activity-signup"' in html(page)
    done = client.post(reverse("volunteers:activity_signup", args=[activity.pk]), follow=True)
    assert "You signed up. The organizer will confirm you." in html(done)
    signup = Signup.objects.get()
    assert signup.status == SignupStatus.APPLIED
    organizer = browser(worker)
    board = organizer.get(detail_url(activity))
    assert f'id="signup-{signup.pk}"' in html(board)
    assert volunteer.name in html(board)
    decided = organizer.post(
        reverse("volunteers:activity_decide", args=[activity.pk, signup.pk]),
        {"decision": "confirm"},
    )
    assert decided.status_code == 302
    assert Signup.objects.get().status == SignupStatus.CONFIRMED
    # Full now (capacity 2): a third is refused with the reason, shown as a message.
    confirmed(activity, make_volunteer(community))
    late = make_volunteer(community)
    refused = browser(late.user).post(
        reverse("volunteers:activity_signup", args=[activity.pk]), follow=True
    )
    assert "All places are taken." in html(refused)
    # The volunteer cannot decide.
    assert (
        client.post(
            reverse("volunteers:activity_decide", args=[activity.pk, signup.pk]),
            {"decision": "decline"},
        ).status_code
        == 403
    )


def test_a_pending_volunteer_reads_why_they_cannot_sign_up(activity, community):
    pending = make_volunteer(community, status=VolunteerStatus.PENDING)
    client = browser(pending.user)
    page = client.get(detail_url(activity))
    assert "Your volunteer registration is waiting for verification." in html(page)
    assert 'id="activity-signup"' not in html(page)
    refused = client.post(reverse("volunteers:activity_signup", args=[activity.pk]), follow=True)
    assert "Your volunteer registration is waiting for verification." in html(refused)
    assert Signup.objects.count() == 0


def test_the_qr_page_shows_a_fresh_code_to_organizers_only(activity, worker, volunteer):
    page = browser(worker).get(reverse("volunteers:activity_qr", args=[activity.pk]))
    assert page.status_code == 200
    assert '<svg viewBox="' in html(page)  # no fixed size: the style sheet fits it
    assert "<script" not in html(page)
    assert page["Refresh"] == "300"
    assert "/activities/checkin/" in page.context["url"]
    assert page.context["url"].startswith("http://testserver/")
    assert (
        browser(volunteer.user)
        .get(reverse("volunteers:activity_qr", args=[activity.pk]))
        .status_code
        == 403
    )


def test_scanning_the_code_checks_in_then_out(activity, worker, volunteer):
    signup = confirmed(activity, volunteer)
    qr = browser(worker).get(reverse("volunteers:activity_qr", args=[activity.pk]))
    path = re.sub(r"^http://testserver", "", qr.context["url"])
    client = browser(volunteer.user)
    scanned = client.get(path)
    assert scanned.status_code == 302
    assert scanned["Location"] == reverse("volunteers:activity_scanned", args=[activity.pk])
    result = client.get(scanned["Location"])
    attendance = Attendance.objects.get(signup=signup)
    local = timezone.localtime(attendance.checked_in_at).strftime("%H:%M")
    assert f"Checked in at {local}" in html(result)
    # Reloading the result changes nothing; scanning again at once is refused.
    assert client.get(scanned["Location"]).status_code == 200
    again = client.get(path)
    assert again.status_code == 400
    assert f"You checked in at {local} already." in html(again)
    Attendance.objects.filter(pk=attendance.pk).update(
        checked_in_at=timezone.now() - dt.timedelta(hours=2, minutes=29)
    )
    out = client.get(path, follow=True)
    assert "Checked out, 2.5 hours" in html(out)
    assert Attendance.objects.get().hours == Decimal("2.50")


def test_a_bad_scan_says_why_in_big_words(activity, worker, volunteer, community):
    confirmed(activity, volunteer)
    old = svc.activity_qr_token(
        actor=worker, activity=activity, now=timezone.now() - dt.timedelta(minutes=20)
    )
    page = browser(volunteer.user).get(reverse("volunteers:activity_checkin", args=[old]))
    assert page.status_code == 400
    assert "This code has expired: scan the code shown on the screen now." in html(page)
    token = svc.activity_qr_token(actor=worker, activity=activity)
    stranger = browser(make_volunteer(community).user).get(
        reverse("volunteers:activity_checkin", args=[token])
    )
    assert stranger.status_code == 403
    assert "You are not confirmed for this activity" in html(stranger)
    anonymous = Client().get(reverse("volunteers:activity_checkin", args=[token]))
    assert anonymous.status_code == 302
    assert Attendance.objects.count() == 0


def test_the_organizer_records_and_certifies(activity, worker, volunteer, other_worker):
    signup = confirmed(activity, volunteer)
    client = browser(worker)
    bad = client.post(
        reverse("volunteers:activity_record", args=[activity.pk, signup.pk]), {"hours": "30"}
    )
    assert bad.status_code == 400
    assert "More than a day: at most 24 hours are recorded for one attendance." in html(bad)
    assert Attendance.objects.count() == 0
    start = timezone.localtime(activity.starts_at)
    ok = client.post(
        reverse("volunteers:activity_record", args=[activity.pk, signup.pk]),
        {"checked_in_at": start.strftime("%Y-%m-%dT%H:%M"), "hours": "2"},
    )
    assert ok.status_code == 302
    attendance = Attendance.objects.get()
    assert (attendance.hours, attendance.recorded_by) == (Decimal("2.00"), worker)
    certify = reverse("volunteers:activity_certify", args=[activity.pk])
    assert browser(volunteer.user).post(certify).status_code == 403
    assert browser(other_worker).post(certify).status_code == 403
    done = client.post(certify, follow=True)
    assert "Certified and credited: 1 volunteer." in html(done)
    assert person_account(volunteer.user).balance == Decimal("2.00")
    twice = client.post(certify, {"attendance": attendance.pk}, follow=True)
    assert "These hours are certified already." in html(twice)
    assert person_account(volunteer.user).balance == Decimal("2.00")


def test_a_volunteer_disputes_and_reads_the_answer(activity, worker, volunteer):
    attendance = certified(activity, volunteer, hours="2")
    client = browser(volunteer.user)
    mine = client.get(reverse("volunteers:activity_mine"))
    assert "Certified hours from activities: 2" in html(mine)
    assert reverse("volunteers:activity_dispute", args=[attendance.pk]) in html(mine)
    bad = client.post(
        reverse("volunteers:activity_dispute", args=[attendance.pk]),
        {"claimed_hours": "2", "reason": "不对"},
    )
    assert bad.status_code == 400
    assert "These are the hours certified already." in html(bad)
    sent = client.post(
        reverse("volunteers:activity_dispute", args=[attendance.pk]),
        {"claimed_hours": "3", "reason": "我一直待到结束"},
    )
    assert sent.status_code == 302
    dispute = HoursDispute.objects.get()
    board = browser(worker).get(detail_url(activity))
    assert "我一直待到结束" in html(board)
    answered = browser(worker).post(
        reverse("volunteers:activity_dispute_answer", args=[activity.pk, dispute.pk]),
        {"decision": "upheld", "answer": "签到表核实无误"},
    )
    assert answered.status_code == 302
    assert HoursDispute.objects.get().status == DisputeStatus.UPHELD
    assert person_account(volunteer.user).balance == Decimal("3.00")
    again = client.get(reverse("volunteers:activity_mine"))
    assert "签到表核实无误" in html(again)
    assert "Certified hours from activities: 3" in html(again)


def test_only_the_volunteer_disputes_their_hours(activity, volunteer, community):
    attendance = certified(activity, volunteer)
    other = browser(make_volunteer(community).user)
    page = other.post(
        reverse("volunteers:activity_dispute", args=[attendance.pk]),
        {"claimed_hours": "3", "reason": "不对"},
    )
    assert page.status_code == 404
    assert HoursDispute.objects.count() == 0


def test_the_organizer_cancels_with_a_reason(activity, worker):
    client = browser(worker)
    bad = client.post(reverse("volunteers:activity_cancel", args=[activity.pk]), {"reason": ""})
    assert bad.status_code == 400
    ok = client.post(reverse("volunteers:activity_cancel", args=[activity.pk]), {"reason": "暴雨"})
    assert ok.status_code == 302
    assert Activity.objects.get().status == "cancelled"


def test_someone_without_a_volunteer_record_sees_how_to_join(activity):
    page = browser(UserFactory.create()).get(reverse("volunteers:activity_mine"))
    assert "You are not registered as a volunteer." in html(page)
