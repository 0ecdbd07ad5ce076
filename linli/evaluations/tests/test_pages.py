"""Pages: one tap from the notification, the optional second step, complaints."""

from __future__ import annotations

import pytest

from linli.accounts.tests.factories import UserFactory
from linli.evaluations.models import Complaint, Evaluation

pytestmark = pytest.mark.django_db


def test_one_tap_rates_and_the_second_step_adjusts(client, done, elder, responder):
    client.force_login(elder.user)
    url = f"/evaluations/rate/{done.public_id}/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'id="star-5"' in page.content
    tapped = client.post(url, {"overall": "4"})
    assert tapped.status_code == 302
    evaluation = Evaluation.objects.get(request=done)
    assert (evaluation.overall, evaluation.attitude, evaluation.need_met) == (4, 4, "yes")
    second = client.get(url)
    assert b'id="adjust"' in second.content
    assert b'id="star-5"' not in second.content
    client.post(
        url,
        {
            "overall": "4",
            "timeliness": "2",
            "attitude": "5",
            "quality": "4",
            "need_met": "partly",
            "comment": "来晚了",
        },
    )
    evaluation.refresh_from_db()
    assert (evaluation.timeliness, evaluation.attitude, evaluation.need_met) == (2, 5, "partly")
    assert evaluation.comment == "来晚了"
    responder.refresh_from_db()
    assert responder.rating == 4.0


def test_someone_not_served_sees_why(client, done):
    client.force_login(UserFactory.create())
    url = f"/evaluations/rate/{done.public_id}/"
    assert client.get(url).status_code == 403
    refused = client.post(url, {"overall": "5"})
    assert refused.status_code == 403
    assert b"You were not served by this request." in refused.content
    assert not Evaluation.objects.exists()
    assert client.get("/evaluations/rate/NOPE/").status_code == 404


def test_a_bad_score_is_shown_not_saved(client, done, elder):
    client.force_login(elder.user)
    refused = client.post(f"/evaluations/rate/{done.public_id}/", {"overall": "8"})
    assert refused.status_code == 400
    assert b"Give a whole number from 1 to 5." in refused.content


def test_complain_then_the_worker_answers_and_the_resident_closes(client, done, elder, worker):
    client.force_login(elder.user)
    mine = client.get("/complaints/")
    assert done.public_id.encode() in mine.content
    filed = client.post("/complaints/", {"request": done.public_id, "text": "饭是冷的"})
    complaint = Complaint.objects.get()
    assert filed.url == f"/complaints/{complaint.pk}/"
    client.force_login(worker)
    listing = client.get("/complaints/handle/")
    assert f'id="complaint-{complaint.pk}"'.encode() in listing.content
    client.post(f"/complaints/{complaint.pk}/move/", {"action": "investigate", "next": "handle"})
    client.post(f"/complaints/{complaint.pk}/move/", {"action": "answer", "answer": "已补送热饭"})
    client.force_login(elder.user)
    detail = client.get(f"/complaints/{complaint.pk}/")
    assert "已补送热饭".encode() in detail.content
    assert b'id="close"' in detail.content
    client.post(f"/complaints/{complaint.pk}/move/", {"action": "close", "satisfied": "yes"})
    complaint.refresh_from_db()
    assert (complaint.state, complaint.closed_satisfied) == ("closed", True)
    client.force_login(UserFactory.create())
    assert client.get(f"/complaints/{complaint.pk}/").status_code == 404
