"""Facility ratings: who records a visit, who books, who rates, when, once; the facility
index; the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Avg, Count
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.directory.tests.factories import LocationFactory
from linli.evaluations.facilities import (
    facility_booking_create,
    facility_rating_edit,
    facility_rating_hide_comment,
    facility_rating_submit,
    facility_visit_record,
)
from linli.evaluations.indices import compute_all_indices, compute_indices
from linli.evaluations.jobs import escalate_complaints
from linli.evaluations.models import Complaint, FacilityRating, FacilityVisit
from linli.evaluations.services import complaint_file
from linli.notifications.models import Notification
from linli.residents.services import ResidentInput, resident_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def canteen(provider, community):
    return LocationFactory.create(
        organization=provider, region=community, name="幸福里长者食堂", kind="elderly_canteen"
    )


def today() -> dt.date:
    return timezone.localdate()


def visit_on(facility, person, on: dt.date, kind: str = "visit") -> FacilityVisit:
    """A visit written directly, to place it in the past beyond what the service allows."""
    return FacilityVisit.objects.create(
        facility=facility,
        person=person,
        user_id=person.user_id,
        community_id=facility.region_id,
        kind=kind,
        on=on,
        recorded_by=person.user,
    )


# --- recording and booking ---------------------------------------------------------------------


def test_staff_record_a_visit_and_the_visitor_is_told(
    canteen, staff, elder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    assert (visit.kind, visit.on, visit.user_id, visit.community_id) == (
        "visit",
        today(),
        elder.user_id,
        canteen.region_id,
    )
    note = Notification.objects.get(user=elder.user)
    assert note.link == f"/evaluations/facilities/visits/{visit.pk}/rate/"
    with pytest.raises(Conflict) as again:
        facility_visit_record(actor=staff, facility=canteen, person=elder)
    assert "on" in again.value.fields
    assert FacilityVisit.objects.count() == 1


def test_the_communitys_worker_may_record_but_not_a_stranger(canteen, worker, elder):
    visit = facility_visit_record(
        actor=worker, facility=canteen, person=elder, on=today() - dt.timedelta(days=2)
    )
    assert visit.recorded_by == worker
    with pytest.raises(PermissionDenied) as refused:
        facility_visit_record(actor=UserFactory.create(), facility=canteen, person=elder)
    assert refused.value.fields == {"facility": ["You do not work at this facility."]}
    # Staff of another provider neither.
    other = UserFactory.create()
    RoleAssignmentFactory(
        user=other, role=Role.PROVIDER_STAFF, organization=LocationFactory().organization
    )
    with pytest.raises(PermissionDenied):
        facility_visit_record(actor=other, facility=canteen, person=elder)


def test_a_visit_is_not_recorded_in_the_future_nor_too_long_ago(canteen, staff, elder):
    with pytest.raises(ValidationFailed) as future:
        facility_visit_record(
            actor=staff, facility=canteen, person=elder, on=today() + dt.timedelta(days=1)
        )
    assert future.value.fields == {"on": ["A visit cannot be recorded before it happens."]}
    with pytest.raises(ValidationFailed) as old:
        facility_visit_record(
            actor=staff, facility=canteen, person=elder, on=today() - dt.timedelta(days=31)
        )
    assert old.value.fields == {"on": ["Visits are recorded within 30 days."]}
    with pytest.raises(ValidationFailed) as garbled:
        facility_visit_record(actor=staff, facility=canteen, person=elder, on="30/11/2026")
    assert garbled.value.fields == {"on": ["Give a date as YYYY-MM-DD."]}
    assert not FacilityVisit.objects.exists()


@pytest.mark.parametrize("closed_days_ago", [10, 0])
def test_a_closed_facility_takes_no_visit_from_its_closing_day(
    canteen, staff, elder, closed_days_ago
):
    canteen.closed_on = today() - dt.timedelta(days=closed_days_ago)
    canteen.save()
    with pytest.raises(ValidationFailed) as refused:
        facility_visit_record(actor=staff, facility=canteen, person=elder)
    assert refused.value.fields == {
        "facility": [f"This facility closed on {canteen.closed_on.isoformat()}."]
    }


def test_a_resident_books_for_themselves_and_not_in_the_past(canteen, elder):
    tomorrow = today() + dt.timedelta(days=1)
    booking = facility_booking_create(actor=elder.user, facility=canteen, on=tomorrow)
    assert (booking.kind, booking.on, booking.person, booking.user) == (
        "booking",
        tomorrow,
        elder,
        elder.user,
    )
    with pytest.raises(ValidationFailed) as past:
        facility_booking_create(
            actor=elder.user, facility=canteen, on=today() - dt.timedelta(days=1)
        )
    assert past.value.fields == {"on": ["A booking is for today or a later day."]}
    with pytest.raises(ValidationFailed) as twice:
        facility_booking_create(actor=elder.user, facility=canteen, on=tomorrow.isoformat())
    assert twice.value.fields == {"on": ["You already have this facility on that day."]}
    with pytest.raises(ValidationFailed) as far:
        facility_booking_create(
            actor=elder.user, facility=canteen, on=today() + dt.timedelta(days=91)
        )
    assert far.value.fields == {"on": ["Bookings are taken up to 90 days ahead."]}
    with pytest.raises(ValidationFailed) as missing:
        facility_booking_create(actor=elder.user, facility=canteen, on="")
    assert missing.value.fields == {"on": ["Choose the day of your visit."]}
    with pytest.raises(PermissionDenied) as stranger:
        facility_booking_create(actor=UserFactory.create(), facility=canteen, on=tomorrow)
    assert "person" in stranger.value.fields
    assert FacilityVisit.objects.count() == 1


def test_the_visit_turns_a_booking_of_that_day_into_a_visit(canteen, staff, elder):
    booking = facility_booking_create(actor=elder.user, facility=canteen, on=today())
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    assert visit.pk == booking.pk
    assert (visit.kind, visit.recorded_by) == ("visit", staff)
    assert FacilityVisit.objects.count() == 1


# --- rating ------------------------------------------------------------------------------------


def test_the_visitor_rates_once(canteen, staff, elder):
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    rating = facility_rating_submit(
        actor=elder.user, visit=visit, overall="4", comment=" 饭菜可口 "
    )
    assert (rating.overall, rating.comment, rating.by_proxy) == (4, "饭菜可口", False)
    assert (rating.facility, rating.community_id) == (canteen, canteen.region_id)
    assert rating.priority_group == "elderly_living_alone"
    with pytest.raises(ValidationFailed) as second:
        facility_rating_submit(actor=elder.user, visit=visit, overall=5)
    assert second.value.fields == {"visit": ["This visit has already been rated."]}
    assert FacilityRating.objects.count() == 1


def test_a_proxy_may_rate_and_is_marked_but_a_stranger_not(canteen, staff, elder, proxy, worker):
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    with pytest.raises(PermissionDenied) as refused:
        facility_rating_submit(actor=worker, visit=visit, overall=5)
    assert refused.value.fields == {"visit": ["This is not your visit."]}
    with pytest.raises(PermissionDenied):
        facility_rating_submit(actor=staff, visit=visit, overall=5)
    rating = facility_rating_submit(actor=proxy, visit=visit, overall=2)
    assert rating.by_proxy is True


def test_a_rating_waits_for_the_date_and_ends_with_the_window(canteen, elder):
    tomorrow = today() + dt.timedelta(days=1)
    booking = facility_booking_create(actor=elder.user, facility=canteen, on=tomorrow)
    with pytest.raises(ValidationFailed) as early:
        facility_rating_submit(actor=elder.user, visit=booking, overall=5)
    assert early.value.fields == {"visit": [f"You can rate this visit from {tomorrow}."]}
    old = visit_on(canteen, elder, today() - dt.timedelta(days=31))
    with pytest.raises(ValidationFailed) as late:
        facility_rating_submit(actor=elder.user, visit=old, overall=5)
    assert late.value.fields == {"visit": ["Ratings are taken within 30 days of the visit."]}
    last_day = visit_on(canteen, elder, today() - dt.timedelta(days=30))
    assert facility_rating_submit(actor=elder.user, visit=last_day, overall=3).overall == 3
    assert FacilityRating.objects.count() == 1


@pytest.mark.parametrize("overall", [0, 6, "x", "", None, True, "4.5"])
def test_scores_outside_one_to_five_are_refused(canteen, staff, elder, overall):
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    with pytest.raises(ValidationFailed) as refused:
        facility_rating_submit(actor=elder.user, visit=visit, overall=overall)
    assert refused.value.fields == {"overall": ["Give a whole number from 1 to 5."]}
    assert not FacilityRating.objects.exists()


def test_the_rater_edits_within_the_hours_only(canteen, staff, elder):
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    rating = facility_rating_submit(actor=elder.user, visit=visit, overall=4)
    rating = facility_rating_edit(
        actor=elder.user, rating=rating, changes={"overall": 2, "comment": "排队太久"}
    )
    assert (rating.overall, rating.comment) == (2, "排队太久")
    with pytest.raises(ValidationFailed) as unknown:
        facility_rating_edit(actor=elder.user, rating=rating, changes={"facility": "x"})
    assert unknown.value.fields == {"facility": ["This cannot be changed."]}
    with pytest.raises(PermissionDenied):
        facility_rating_edit(actor=staff, rating=rating, changes={"overall": 5})
    FacilityRating.objects.filter(pk=rating.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    with pytest.raises(ValidationFailed) as late:
        facility_rating_edit(actor=elder.user, rating=rating, changes={"overall": 5})
    assert late.value.fields == {"rating": ["A rating can be changed for 24 hours only."]}
    rating.refresh_from_db()
    assert rating.overall == 2


def test_a_moderator_hides_a_comment_with_a_reason(canteen, staff, elder, worker):
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    rating = facility_rating_submit(actor=elder.user, visit=visit, overall=1, comment="电话 138")
    with pytest.raises(PermissionDenied):
        facility_rating_hide_comment(actor=staff, rating=rating, reason="x")
    with pytest.raises(ValidationFailed) as no_reason:
        facility_rating_hide_comment(actor=worker, rating=rating, reason=" ")
    assert no_reason.value.fields == {"reason": ["Say why the comment is hidden."]}
    rating = facility_rating_hide_comment(actor=worker, rating=rating, reason="含个人电话")
    assert (rating.hidden_by, rating.hidden_reason, rating.comment_hidden) == (
        worker,
        "含个人电话",
        True,
    )
    with pytest.raises(Conflict):
        facility_rating_hide_comment(actor=worker, rating=rating, reason="again")


# --- the facility index ------------------------------------------------------------------------


def _neighbour(community, name: str):
    person = resident_register(actor=None, data=ResidentInput(name=name, community=community))
    person.user = UserFactory.create()
    person.save()
    return person


def test_the_facility_index_shrinks_toward_all_facility_ratings(
    canteen, provider, staff, community
):
    library = LocationFactory.create(organization=provider, region=community, name="书屋")
    for i, (facility, overall) in enumerate(
        [(canteen, 5), (canteen, 5), (canteen, 4), (library, 2)]
    ):
        person = _neighbour(community, f"邻居{i}")
        visit = facility_visit_record(actor=staff, facility=facility, person=person)
        facility_rating_submit(actor=person.user, visit=visit, overall=overall)
    complaint_file(actor=_neighbour(community, "投诉人").user, text="地面太滑", facility=library)
    start, end = today(), today() + dt.timedelta(days=1)
    index = compute_indices(kind="facility", period_start=start, period_end=end)
    prior = 16 / 4  # the mean of every facility rating of the period
    row = index.row(canteen.pk)
    assert row is not None
    assert (row["n"], row["mean"], row["prior"]) == (3, 14 / 3, prior)
    assert row["smoothed"] == pytest.approx((14 + 10 * prior) / 13)
    assert (row["complaints"], row["needs_met"], row["satisfied"]) == (0, None, 3)
    low = index.row(library.pk)
    assert low is not None
    assert (low["n"], low["complaints"], low["complaint_rate"]) == (1, 1, 1.0)
    assert low["quality"] == pytest.approx((2 + 10 * prior) / 11 - 2.0)
    assert list(index.priority_groups) == []
    together = compute_all_indices(period_start=start, period_end=end)
    assert together["facility"].rows == index.rows
    # Another region sees none of it.
    empty = compute_indices(
        kind="facility", period_start=start, period_end=end, region_code="990103"
    )
    assert empty.rows == []
    assert Complaint.objects.count() == 1


# --- pages and API -----------------------------------------------------------------------------


def test_pages_visited_rate_and_record(client, canteen, staff, elder):
    client.force_login(staff)
    page = client.get("/evaluations/facilities/record/")
    assert page.status_code == 200
    recorded = client.post(
        "/evaluations/facilities/record/",
        {"facility": str(canteen.pk), "person": str(elder.pk), "on": ""},
    )
    assert recorded.status_code == 302
    visit = FacilityVisit.objects.get()
    unknown = client.post(
        "/evaluations/facilities/record/", {"facility": str(canteen.pk), "person": "99999"}
    )
    assert unknown.status_code == 400
    assert b'data-field="person"' in unknown.content
    client.force_login(elder.user)
    mine = client.get("/evaluations/facilities/visited/")
    assert f'id="rate-{visit.pk}"'.encode() in mine.content
    url = f"/evaluations/facilities/visits/{visit.pk}/rate/"
    assert b'id="star-5"' in client.get(url).content
    assert client.post(url, {"overall": "5"}).status_code == 302
    assert client.post(url, {"overall": "4", "comment": "很干净"}).status_code == 302
    rating = FacilityRating.objects.get()
    assert (rating.overall, rating.comment) == (4, "很干净")
    past = client.post(
        "/evaluations/facilities/visited/",
        {"facility": str(canteen.pk), "on": (today() - dt.timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 400
    assert b"A booking is for today or a later day." in past.content
    client.force_login(UserFactory.create())
    assert client.get(url).status_code == 404
    assert client.get("/evaluations/facilities/record/").status_code == 404


def test_api_rates_a_visit_and_refuses_by_field(client, canteen, staff, elder):
    client.force_login(staff)
    made = client.post(
        "/api/v1/facility-visits/",
        {"facility": str(canteen.pk), "person": elder.pk},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    visit_id = made.json()["id"]
    client.force_login(elder.user)
    listed = client.get("/api/v1/facility-visits/").json()
    assert [v["id"] for v in listed["results"]] == [visit_id]
    no_visit = client.post(
        "/api/v1/facility-ratings/",
        {"visit": 999999, "overall": 5},
        content_type="application/json",
    )
    assert no_visit.status_code == 400
    assert "visit" in no_visit.json()["fields"]
    rated = client.post(
        "/api/v1/facility-ratings/",
        {"visit": visit_id, "overall": 5, "comment": "好"},
        content_type="application/json",
    )
    assert rated.status_code == 201, rated.content
    assert rated.json()["overall"] == 5
    again = client.post(
        "/api/v1/facility-ratings/",
        {"visit": visit_id, "overall": 4},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert again.json()["fields"] == {"visit": ["This visit has already been rated."]}
    past = client.post(
        "/api/v1/facility-bookings/",
        {"facility": str(canteen.pk), "on": (today() - dt.timedelta(days=3)).isoformat()},
        content_type="application/json",
    )
    assert past.status_code == 400
    assert past.json()["fields"] == {"on": ["A booking is for today or a later day."]}
    changed = client.patch(
        f"/api/v1/facility-ratings/{rated.json()['id']}",
        {"overall": 3},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["overall"] == 3


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_visits_and_rates_facilities_as_the_rules_allow(demo):
    assert FacilityVisit.objects.count() > 20
    assert FacilityRating.objects.count() > 10
    for rating in FacilityRating.objects.select_related("visit__person")[:100]:
        assert rating.rater_id == rating.visit.person.user_id
        assert timezone.localdate(rating.created_at) >= rating.visit.on
        assert rating.facility_id == rating.visit.facility_id
    means = list(
        FacilityRating.objects.values("facility")
        .annotate(mean=Avg("overall"), n=Count("id"))
        .filter(n__gte=3)
        .values_list("mean", flat=True)
    )
    assert max(means) - min(means) >= 1.0
    mine = FacilityVisit.objects.get(person__user__username="demo_resident")
    assert (mine.on, hasattr(mine, "rating")) == (today() - dt.timedelta(days=1), False)
    overdue = Complaint.objects.filter(state="investigating", respond_by__lt=timezone.now())
    assert overdue.count() >= 2
    assert escalate_complaints()["street"] >= 2
