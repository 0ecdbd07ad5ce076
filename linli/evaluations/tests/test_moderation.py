"""The moderation page: comments in the moderator's communities, hidden with a reason;
manipulation flags linking to what they flag; nothing for anyone else."""

from __future__ import annotations

import pytest
from django.test import override_settings

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.tests.factories import LocationFactory
from linli.evaluations.facilities import facility_rating_submit, facility_visit_record
from linli.evaluations.models import Evaluation, FacilityRating
from linli.evaluations.services import evaluation_submit
from linli.regions.tests.factories import region_chain

from .factories import delivered

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(done, elder):
    return evaluation_submit(actor=elder.user, request=done, overall=1, comment="电话13800000000")


@pytest.fixture
def facility_rating(provider, community, staff, elder):
    canteen = LocationFactory.create(organization=provider, region=community, name="长者食堂")
    visit = facility_visit_record(actor=staff, facility=canteen, person=elder)
    return facility_rating_submit(actor=elder.user, visit=visit, overall=2, comment="太吵了")


def test_the_moderator_sees_both_kinds_of_comments_and_hides_them(
    client, worker, rated, facility_rating
):
    client.force_login(worker)
    page = client.get("/evaluations/moderate/")
    assert page.status_code == 200
    assert f'id="evaluation-{rated.pk}"'.encode() in page.content
    assert f'id="facility-{facility_rating.pk}"'.encode() in page.content
    assert "电话13800000000".encode() in page.content
    no_reason = client.post(f"/evaluations/moderate/evaluation/{rated.pk}/hide/", {"reason": ""})
    assert no_reason.status_code == 302
    rated.refresh_from_db()
    assert rated.hidden_at is None
    client.post(f"/evaluations/moderate/evaluation/{rated.pk}/hide/", {"reason": "含电话号码"})
    client.post(f"/evaluations/moderate/facility/{facility_rating.pk}/hide/", {"reason": "无关"})
    rated.refresh_from_db()
    facility_rating.refresh_from_db()
    assert (rated.hidden_by, rated.hidden_reason) == (worker, "含电话号码")
    assert (facility_rating.hidden_by, facility_rating.hidden_reason) == (worker, "无关")
    # The scores still count.
    assert (rated.overall, facility_rating.overall) == (1, 2)
    again = client.get("/evaluations/moderate/")
    assert again.content.count(b'class="note hidden-comment"') == 2
    assert f"Hidden by {worker.username}".encode() in again.content
    assert "含电话号码".encode() in again.content


def test_others_see_no_moderation_page_and_cannot_hide(client, elder, staff, rated):
    for user in (elder.user, staff, UserFactory.create()):
        client.force_login(user)
        assert client.get("/evaluations/moderate/").status_code == 404
        client.post(f"/evaluations/moderate/evaluation/{rated.pk}/hide/", {"reason": "x"})
    rated.refresh_from_db()
    assert rated.hidden_at is None


def test_a_worker_of_another_community_cannot_hide_here(client, rated, taxonomy):
    other = region_chain("990102001002")
    stranger = UserFactory.create()
    RoleAssignmentFactory(user=stranger, role=Role.COMMUNITY_WORKER, region=other)
    client.force_login(stranger)
    page = client.get("/evaluations/moderate/")
    assert page.status_code == 200
    assert f'id="evaluation-{rated.pk}"'.encode() not in page.content
    client.post(f"/evaluations/moderate/evaluation/{rated.pk}/hide/", {"reason": "x"})
    rated.refresh_from_db()
    assert rated.hidden_at is None


@override_settings(LINLI_INDEX_FLAG_RATER_MIN=2, LINLI_INDEX_FLAG_BURST_MIN=50)
def test_flags_link_to_the_ratings_they_flag(client, worker, elder, responder):
    requests = [delivered(elder, worker, responder) for _ in range(2)]
    for request in requests:
        evaluation_submit(actor=elder.user, request=request, overall=5)
    client.force_login(worker)
    page = client.get("/evaluations/moderate/")
    assert b"flag-many_ratings" in page.content
    for evaluation in Evaluation.objects.all():
        link = f'href="/evaluations/rate/{evaluation.request.public_id}/"'
        assert link.encode() in page.content
    assert FacilityRating.objects.count() == 0
