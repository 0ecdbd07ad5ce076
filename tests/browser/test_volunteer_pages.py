"""The volunteers issue's path in a real Chromium over the demo: the volunteer checks in to
today's activity with the code shown at the site and out again, the organizer certifies
the hours, the volunteer delivers a request and is credited when the resident confirms,
spends hours on meals for his mother, and downloads a certificate that anyone can check
at its public page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.requests.choices import State
from linli.requests.services import RequestInput, request_assign, request_create
from linli.residents.models import Relation, Resident
from linli.volunteers.activities import activity_qr_token
from linli.volunteers.choices import RedemptionStatus, SignupStatus
from linli.volunteers.ledger import earned_hours, person_account
from linli.volunteers.models import Activity, Attendance, Certificate, Redemption

from .test_request_pages import DESKTOP, PHONE, person, volunteer_responder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def todays_activity(volunteer: User) -> Activity:
    now = timezone.now()
    return Activity.objects.get(
        starts_at__lte=now,
        ends_at__gte=now,
        signups__volunteer__user=volunteer,
        signups__status=SignupStatus.CONFIRMED,
    )


def balance_of(user: User) -> Decimal:
    return person_account(user).balance


def check_in_and_out(browser, live_server, screenshot, volunteer: User) -> Activity:
    activity = todays_activity(volunteer)
    organizer = User.objects.get(username="demo_community_worker")
    with person(browser, live_server, "demo_community_worker", **DESKTOP) as page:
        page.goto(f"/activities/{activity.pk}/")
        page.click("#activity-qr-link")
        page.wait_for_selector("#activity-qr svg")
        screenshot(page, "volunteers-activity-qr")
    # What the code on the screen opens (the same signed token the page encodes).
    checkin = f"/activities/checkin/{activity_qr_token(actor=organizer, activity=activity)}/"
    with person(browser, live_server, "demo_volunteer", **PHONE) as page:
        page.goto(checkin)
        page.wait_for_selector("#checkin-words")
        attendance = Attendance.objects.get(
            signup__activity=activity, signup__volunteer__user=volunteer
        )
        assert (attendance.method, attendance.checked_out_at) == ("qr", None)
        screenshot(page, "volunteers-checked-in")
        # Two hours at the site pass; the same code (still good) checks him out.
        Attendance.objects.filter(pk=attendance.pk).update(
            checked_in_at=timezone.now() - dt.timedelta(hours=2)
        )
        page.goto(checkin)
        page.wait_for_selector("#checkin-words")
        attendance.refresh_from_db()
        assert attendance.hours == Decimal("2.00")
        assert "2" in page.inner_text("#checkin-words")
        screenshot(page, "volunteers-checked-out")
    return activity


def test_hours_by_qr_and_by_a_delivered_request_spent_on_mothers_meals_and_certified(
    browser, live_server, demo, screenshot
):
    volunteer = User.objects.get(username="demo_volunteer")
    start_balance, start_earned = balance_of(volunteer), earned_hours(volunteer)

    activity = check_in_and_out(browser, live_server, screenshot, volunteer)
    with person(browser, live_server, "demo_community_worker", **DESKTOP) as page:
        page.goto(f"/activities/{activity.pk}/")
        screenshot(page, "volunteers-activity-organizer")
        page.click("#certify-all")
        page.wait_for_url(f"**/activities/{activity.pk}/*")
    # Yesterday's hours waiting for the organizer were certified with today's.
    activity_credit = earned_hours(volunteer) - start_earned
    assert activity_credit >= Decimal("2.00")

    # A resident's request, assigned to him; he accepts, starts and completes it.
    served = Resident.objects.get(user__username="demo_resident")
    request = request_create(actor=None, data=RequestInput(service="elderly_meals", person=served))
    request_assign(actor=None, request=request, responder=volunteer_responder())
    with person(browser, live_server, "demo_volunteer", **PHONE) as page:
        page.goto("/tasks/")
        task = page.locator(f"#task-{request.public_id}")
        task.locator("form.step-accept button").click()
        page.wait_for_url(f"**/tasks/#task-{request.public_id}")
        page.locator(f"#task-{request.public_id} form.step-start button").click()
        page.wait_for_url(f"**/tasks/#task-{request.public_id}")
        task = page.locator(f"#task-{request.public_id}")
        task.locator("details.step-complete summary").click()
        task.locator("details.step-complete textarea[name=reason]").fill("午餐已送到")
        task.locator("details.step-complete button[type=submit]").click()
        page.wait_for_url("**/tasks/*")
    before_confirm = earned_hours(volunteer)
    with person(browser, live_server, "demo_resident", **PHONE) as page:
        page.goto("/requests/")
        page.locator(f"#request-{request.public_id} form.step-confirm button").click()
        page.wait_for_url("**/requests/")
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    # Credited on confirmation: at least the shortest service (a test completes in seconds).
    assert earned_hours(volunteer) - before_confirm == Decimal("0.50")

    # Meals for his mother, paid in hours.
    me = Resident.objects.get(user=volunteer)
    mother = Relation.objects.get(resident=me, kind="parent").person
    with person(browser, live_server, "demo_volunteer", **PHONE) as page:
        page.goto("/timebank/")
        screenshot(page, "volunteers-timebank")
        page.goto("/timebank/redeem/")
        page.check(f"#redeem-form input[name=beneficiary][value='{mother.pk}']")
        page.select_option("#redeem-form select[name=service]", "elderly_meals")
        page.select_option("#redeem-form select[name=hours]", "1")
        screenshot(page, "volunteers-redeem")
        page.click("#redeem-send")
        page.wait_for_url("**/requests/R*/")  # the request he follows and confirms
    redemption = Redemption.objects.get(beneficiary=mother, request__state=State.TRIAGED)
    assert (redemption.hours, redemption.status) == (Decimal("1.00"), RedemptionStatus.HELD)
    assert redemption.request.requested_by == volunteer
    assert balance_of(volunteer) == start_balance + activity_credit + Decimal("0.50") - 1

    # A certificate, and its public check by someone who is not signed in.
    with person(browser, live_server, "demo_volunteer", **PHONE) as page:
        page.goto("/certificates/")
        page.click("form button.primary")
        page.wait_for_url("**/certificates/*")
        certificate = Certificate.objects.filter(volunteer__user=volunteer).latest("issued_at")
        card = page.locator(f"#c-{certificate.code}")
        with page.expect_download() as download:
            card.locator("a.button.primary").click()
        assert download.value.path().read_bytes().startswith(b"%PDF")
        screenshot(page, "volunteers-certificates")
    assert request.public_id in [line["public_id"] for line in certificate.content["requests"]]
    anonymous = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = anonymous.new_page()
    page.goto(f"/verify/{certificate.code}/")
    assert page.inner_text("#certificate-name") == certificate.content["name"]
    assert page.inner_text("#certificate-total") == certificate.content["totals"]["hours"]
    screenshot(page, "volunteers-certificate-verified")
    anonymous.close()


def test_community_worker_sees_volunteers_and_the_honours_page_is_public(
    browser, live_server, demo, screenshot
):
    with person(browser, live_server, "demo_community_worker", **DESKTOP) as page:
        page.click("#volunteers-pages a.page-volunteer_list")
        page.wait_for_selector("main table, main .result")
        screenshot(page, "volunteers-list")
        community = User.objects.get(username="demo_volunteer").volunteer.community_id
        page.goto(f"/timebank/pool/{community}/")
        screenshot(page, "volunteers-pool")
    anonymous = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = anonymous.new_page()
    page.goto(f"/volunteers/honours/{community}/")
    assert "李*" in page.inner_text("main")
    screenshot(page, "volunteers-honours")
    anonymous.close()
