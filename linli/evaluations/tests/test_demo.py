"""The demo's ratings and complaints: believable, by people who may rate, consistent."""

from __future__ import annotations

import pytest
from django.db.models import Avg, Count

from linli.evaluations.models import Complaint, ComplaintEvent, Evaluation
from linli.requests.models import Responder

pytestmark = pytest.mark.django_db


def test_the_demo_rates_deliveries_with_differences_between_providers(demo):
    assert Evaluation.objects.count() > 150
    for evaluation in Evaluation.objects.select_related("request", "person")[:50]:
        completed = evaluation.request.completed_at
        assert completed is not None
        assert evaluation.created_at >= completed
        # The person's own account: ratings follow the rule the service enforces.
        assert evaluation.person is not None
        assert evaluation.rater_id == evaluation.person.user_id
        assert evaluation.request.state in ("completed", "confirmed", "closed")
    means = [
        row["mean"]
        for row in Evaluation.objects.filter(responder__isnull=False)
        .values("responder")
        .annotate(mean=Avg("overall"), n=Count("id"))
        .filter(n__gte=3)
    ]
    assert max(means) - min(means) >= 1.0
    for responder in Responder.objects.filter(evaluations__isnull=False).distinct()[:10]:
        mean = Evaluation.objects.filter(responder=responder).aggregate(mean=Avg("overall"))["mean"]
        assert responder.rating == pytest.approx(mean, abs=1e-3)
    assert not Evaluation.objects.filter(rater__username="demo_resident").exists()


def test_the_demo_complaints_follow_their_map(demo):
    assert Complaint.objects.exists()
    for complaint in Complaint.objects.all():
        events = list(ComplaintEvent.objects.filter(complaint=complaint).order_by("at", "pk"))
        assert events[0].action == "file"
        assert events[-1].to_state == complaint.state
        assert bool(complaint.answer) == (complaint.state in ("answered", "closed"))
