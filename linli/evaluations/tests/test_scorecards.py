"""Community scorecards and a provider's scores, with numbers worked out by hand.

The district 990102 has two streets: 990102001 with communities A (…001) and B (…002),
990102002 with community C (…001). Everything rated is one service (meal assistance),
so the prior of the shrinkage is the district's mean of it: (24 + 15) / 10 = 3.9.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import ValidationFailed
from linli.directory.choices import FacilityKind, LinkEntity
from linli.directory.tests.factories import (
    AttributeFactory,
    LocationFactory,
    OrganizationFactory,
    ServiceAtLocationFactory,
)
from linli.evaluations import scorecards
from linli.evaluations.indices import compute_all_indices
from linli.evaluations.scorecards import (
    Period,
    competition_ranks,
    composite,
    compute_scorecards,
    parse_period,
    provider_scores,
)
from linli.evaluations.tests.test_indices import complain, rate
from linli.regions.tests.factories import RegionFactory, region_chain
from linli.requests.choices import State
from linli.requests.models import Responder, ServiceRequest
from linli.requests.services import service_term
from linli.requests.tests.factories import responder_create

JUNE = Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1), "2026-06")
NOW = timezone.make_aware(dt.datetime(2026, 7, 1, 12, 0))
EARLY = timezone.make_aware(dt.datetime(2025, 1, 1, 9, 0))
_numbers = itertools.count(1)


def at(day: int, hour: int = 12, month: int = 6) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour, 0))


@pytest.fixture
def places(db):
    a = region_chain("990102001001", lat=30.0, lon=120.0)
    b = RegionFactory(code="990102001002", parent=a.parent)
    c = region_chain("990102002001", lat=30.1, lon=120.1)
    return {"A": a, "B": b, "C": c}


@pytest.fixture
def meals(db):
    return service_term("elderly_meals")


def due(community: Any, service: Any, rows: list[tuple[dt.datetime, dt.datetime | None, str]]):
    """Requests with a due time, a completion time (or none) and a state."""
    ServiceRequest.objects.bulk_create(
        ServiceRequest(
            public_id=f"D{next(_numbers):08d}",
            channel="resident",
            service=service,
            description="",
            community=community,
            state=state,
            due_at=due_at,
            completed_at=completed,
            outcome="resolved" if state == State.CLOSED else "",
        )
        for due_at, completed, state in rows
    )


def skilled(region: Any, *skills: str) -> Responder:
    responder = responder_create(region, *skills)
    Responder.objects.filter(pk=responder.pk).update(created_at=EARLY)
    return responder


@pytest.fixture
def district(places, meals, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    settings.LINLI_INDEX_COMPLAINT_PENALTY = 2
    settings.LINLI_SCORE_PRIVACY_MIN_N = 1
    settings.LINLI_SCORECARD_WEIGHTS = dict.fromkeys(scorecards.PARTS, 1.0)
    a, b = places["A"], places["B"]
    rate(
        [5, 5, 5, 5, 4],
        community=a,
        service=meals,
        needs=["yes", "yes", "yes", "yes", "partly"],
    )
    rate([3, 3, 4, 4, 1], community=b, service=meals, needs=["yes", "no", "no", "partly", "yes"])
    complain(community=a, organization=OrganizationFactory.create())
    # A: three of four due in June done in time, one late; a cancelled one and one due in
    # July do not count. B has nothing due.
    due(
        a,
        meals,
        [
            (at(10), at(9), State.COMPLETED),
            (at(11), at(11, 8), State.CLOSED),
            (at(12), at(12, 11), State.CONFIRMED),
            (at(13), at(14), State.COMPLETED),
            (at(14), None, State.CANCELLED),
            (at(3, month=7), None, State.ASSIGNED),
        ],
    )
    # Coverage: meals in A (elderly care), a facility in A with a home medical visit
    # (medical care), a nursery helper for the whole street (child care).
    skilled(a, "elderly_meals")
    skilled(a.parent, "childcare_nursery")
    site = LocationFactory(region=a, kind=FacilityKind.COMPREHENSIVE)
    offered = ServiceAtLocationFactory(location=site)
    AttributeFactory(
        record=offered.service,
        taxonomy_term=service_term("medical_home_visit"),
        link_entity=LinkEntity.SERVICE,
    )
    return places


def test_period_parsing():
    today = dt.date(2026, 11, 30)
    assert parse_period("", today=today) == Period(dt.date(2025, 12, 1), dt.date(2026, 12, 1), "")
    assert parse_period("2026", today=today) == Period(
        dt.date(2026, 1, 1), dt.date(2027, 1, 1), "2026"
    )
    assert parse_period("2026-05") == Period(dt.date(2026, 5, 1), dt.date(2026, 6, 1), "2026-05")
    assert JUNE.months()[0] == dt.date(2025, 7, 1)
    assert JUNE.months()[-1] == dt.date(2026, 6, 1)
    for wrong in ("26", "2026-13", "2026-00", "abc", "1999", "2026-5x"):
        with pytest.raises(ValidationFailed) as caught:
            parse_period(wrong)
        assert "period" in caught.value.fields


def test_composite_and_ranks_are_plain_arithmetic():
    weights = {"coverage": 1.0, "timeliness": 1.0, "satisfaction": 2.0, "needs_met": 0.0}
    values = {"coverage": 0.5, "timeliness": None, "satisfaction": 0.8, "needs_met": 0.1}
    # Timeliness has no figure and needs met weighs 0: (1·0.5 + 2·0.8) / 3.
    assert composite(values, weights) == pytest.approx(2.1 / 3, abs=1e-12)
    assert composite(dict.fromkeys(values), weights) is None
    assert competition_ranks([0.5, 0.9, 0.5, None, 0.1]) == [2, 1, 2, None, 4]


def test_scorecards_by_hand(district):
    cards = compute_scorecards(region_code="990102001000", period=JUNE, now=NOW)
    a, b, c = (cards.card(code) for code in ("990102001001", "990102001002", "990102002001"))
    assert a
    assert b
    assert c
    # A: smoothed (24 + 10 × 3.9) / 15 = 4.2; one complaint in five: 4.2 − 2 × 0.2 = 3.8.
    assert a.index
    assert a.index["smoothed"] == pytest.approx(4.2, abs=1e-12)
    assert a.parts["satisfaction"]["value"] == pytest.approx((3.8 - 1) / 4, abs=1e-12)
    assert a.parts["satisfaction"]["numerator"] == pytest.approx(2.8, abs=1e-12)
    assert a.parts["needs_met"]["value"] == pytest.approx(0.9, abs=1e-12)
    assert a.parts["needs_met"]["numerator"] == pytest.approx(4.5, abs=1e-12)
    assert (a.parts["timeliness"]["numerator"], a.parts["timeliness"]["denominator"]) == (3, 4)
    assert (a.parts["coverage"]["numerator"], a.parts["coverage"]["denominator"]) == (3, 8)
    assert a.composite == pytest.approx((0.375 + 0.75 + 0.7 + 0.9) / 4, abs=1e-12)
    assert a.comprehensive_facility is True
    assert len(a.domains_covered) == 3
    assert len(a.domains_missing) == 5
    # B: (15 + 39) / 15 = 3.6, no complaint; nothing due: timeliness left out, 1/3 each.
    assert b.parts["satisfaction"]["value"] == pytest.approx(2.6 / 4, abs=1e-12)
    assert b.parts["timeliness"]["value"] is None
    assert b.parts["timeliness"]["used_weight"] == 0.0
    assert b.parts["coverage"]["used_weight"] == pytest.approx(1 / 3, abs=1e-12)
    assert b.composite == pytest.approx((0.125 + 0.65 + 0.5) / 3, abs=1e-12)
    # C: only coverage, and none.
    assert c.composite == 0.0
    assert (a.rank_street, a.ranked_in_street, b.rank_street, c.rank_street) == (1, 2, 2, 1)
    assert (a.rank_district, b.rank_district, c.rank_district, c.ranked_in_district) == (
        1,
        2,
        3,
        3,
    )
    # Satisfaction is the community index of compute_all_indices over the district.
    community = compute_all_indices(
        period_start=JUNE.start, period_end=JUNE.end, region_code="990102"
    )
    row = community["community"].row("990102001001")
    assert row
    assert row["quality"] == pytest.approx(3.8, abs=1e-12)
    # The trend's last month is the period; a year ago A had only its coverage, so that
    # month has no composite to compare (a gap, not a score on coverage alone).
    assert a.trend[-1]["composite"] == pytest.approx(a.composite, abs=1e-12)
    assert a.trend[0]["month"] == dt.date(2025, 7, 1)
    assert a.trend[0]["parts"]["coverage"] == pytest.approx(0.375, abs=1e-12)
    assert a.trend[0]["composite"] is None
    assert a.trend[0]["n"] == 0
    assert a.trend[-1]["n"] == 5


def test_weights_and_privacy_move_the_composite(district, settings):
    settings.LINLI_SCORECARD_WEIGHTS = {
        "coverage": 0,
        "timeliness": 1,
        "satisfaction": 2,
        "needs_met": 1,
    }
    a = compute_scorecards(region_code="990102", period=JUNE, now=NOW).card("990102001001")
    assert a
    assert a.composite == pytest.approx((0.75 + 2 * 0.7 + 0.9) / 4, abs=1e-12)
    assert a.parts["satisfaction"]["used_weight"] == pytest.approx(0.5, abs=1e-12)
    # Five ratings are fewer than six: satisfaction and needs met are not published, and
    # not counted either (the composite would tell them).
    settings.LINLI_SCORECARD_WEIGHTS = dict.fromkeys(scorecards.PARTS, 1.0)
    settings.LINLI_SCORE_PRIVACY_MIN_N = 6
    a = compute_scorecards(region_code="990102", period=JUNE, now=NOW).card("990102001001")
    assert a
    assert a.parts["satisfaction"]["hidden"]
    assert a.parts["satisfaction"]["value"] is None
    assert a.parts["satisfaction"]["n"] == 5
    assert a.composite == pytest.approx((0.375 + 0.75) / 2, abs=1e-12)


def test_priority_groups_apart_and_hidden_when_few(places, meals, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    settings.LINLI_SCORE_PRIVACY_MIN_N = 1
    a = places["A"]
    rate([5, 5], community=a, service=meals, group="elderly")
    rate([3, 3, 4, 4, 1], community=a, service=meals)
    card = compute_scorecards(region_code="990102", period=JUNE, now=NOW).card(a.code)
    # The group against the common yardstick: (10 + 10 × 25/7) / 12.
    assert card
    assert [g["group"] for g in card.groups] == ["elderly"]
    assert card.groups[0]["quality"] == pytest.approx((10 + 10 * 25 / 7) / 12, abs=1e-12)
    settings.LINLI_SCORE_PRIVACY_MIN_N = 3
    card = compute_scorecards(region_code="990102", period=JUNE, now=NOW).card(a.code)
    assert card
    assert card.groups[0]["hidden"]
    assert card.groups[0]["quality"] is None
    assert card.groups[0]["n"] == 2


def test_best_responders_need_enough_ratings(places, meals, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    settings.LINLI_SCORE_PRIVACY_MIN_N = 1
    settings.LINLI_SCORECARD_BEST_MIN_N = 10
    a = places["A"]
    people = {name: responder_create(a, "elderly_meals", name=name) for name in "ABCDE"}
    for name, ratings in {
        "A": [5] * 10,
        "B": [4] * 10,
        "C": [5] * 3,  # too few to be named
        "D": [3] * 10,
        "E": [2] * 10,
    }.items():
        rate(ratings, community=a, service=meals, responder=people[name])
    complain(community=a, responder=people["B"])  # 4.x − 2 × 0.1: still second
    card = compute_scorecards(region_code="990102", period=JUNE, now=NOW).card(a.code)
    assert card
    assert [b["name"] for b in card.best] == ["A", "B", "D"]
    prior = (50 + 40 + 15 + 30 + 20) / 43
    assert card.best[0]["quality"] == pytest.approx((50 + 10 * prior) / 20, abs=1e-12)
    assert card.best[1]["quality"] == pytest.approx((40 + 10 * prior) / 20 - 0.2, abs=1e-12)
    assert card.best[0]["n"] == 10


def test_scorecards_take_a_fixed_number_of_queries(district, django_assert_num_queries):
    with django_assert_num_queries(10):  # 11 when a best responder is named
        compute_scorecards(region_code="990102", period=JUNE, now=NOW)


def test_provider_index_moves_as_the_formula_says(places, meals, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    settings.LINLI_INDEX_COMPLAINT_PENALTY = 2
    settings.LINLI_SCORE_PRIVACY_MIN_N = 1
    provider, other = OrganizationFactory.create(), OrganizationFactory.create()
    rate([5, 5, 5, 5, 4], community=places["A"], service=meals, organization=provider)
    rate([3, 3, 4, 4, 1], community=places["C"], service=meals, organization=other)
    scored = provider_scores(organization_id=provider.pk, start=JUNE.start, end=JUNE.end)
    assert scored.formula is not None
    assert scored.formula["total"] == 24
    assert scored.formula["prior"] == pytest.approx(3.9)
    assert scored.formula["smoothed"] == pytest.approx(63 / 15, abs=1e-12)
    assert scored.formula["quality"] == pytest.approx(4.2, abs=1e-12)
    # A complaint against the provider: 4.2 − 2 × 1/5 = 3.8.
    complain(community=places["A"], organization=provider)
    scored = provider_scores(organization_id=provider.pk, start=JUNE.start, end=JUNE.end)
    assert scored.formula
    assert scored.formula["rate"] == pytest.approx(0.2)
    assert scored.formula["quality"] == pytest.approx(3.8, abs=1e-12)
    assert [s.name for s in scored.services] == [meals.display_name]
    assert scored.services[0].row["smoothed"] == pytest.approx(4.2, abs=1e-12)
    # Too few ratings to publish: the figures go, the count stays.
    settings.LINLI_SCORE_PRIVACY_MIN_N = 6
    scored = provider_scores(organization_id=provider.pk, start=JUNE.start, end=JUNE.end)
    assert scored.hidden
    assert scored.formula is None
    assert scored.row
    assert scored.row["n"] == 5
