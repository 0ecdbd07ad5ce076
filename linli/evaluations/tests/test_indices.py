"""Satisfaction indices and manipulation flags, with numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.tests.factories import OrganizationFactory, TaxonomyTermFactory
from linli.evaluations import scores
from linli.evaluations.indices import KINDS, compute_all_indices, compute_indices, flags_for
from linli.evaluations.models import Complaint, Evaluation
from linli.regions.tests.factories import region_chain
from linli.requests.choices import ResponderKind, State
from linli.requests.models import ServiceRequest
from linli.requests.tests.factories import responder_create

_numbers = itertools.count(1)
TODAY = dt.date(2026, 6, 15)
NOON = timezone.make_aware(dt.datetime(2026, 6, 15, 12, 0))
START, END = dt.date(2026, 6, 10), dt.date(2026, 6, 20)


# --- The pure formulas -----------------------------------------------------------------------


def test_shrinkage_formula():
    # (n·mean + m·prior) / (n + m), with m = 10 and the service's mean 4.5.
    smoothed = scores.shrunk_mean([25.0, 2400.0, 0.0], [5, 500, 0], [4.5, 4.5, 4.5], 10)
    assert smoothed[0] == pytest.approx(70 / 15, abs=1e-12)
    assert smoothed[1] == pytest.approx(2445 / 510, abs=1e-12)
    assert smoothed[2] == pytest.approx(4.5, abs=1e-12)  # no ratings: the prior
    assert scores.shrunk_mean([25.0], [5], [4.5], 0)[0] == 5.0  # no weight: the plain mean
    with pytest.raises(ValueError, match="negative"):
        scores.shrunk_mean([1.0], [1], [1.0], -1)


def test_wilson_lower_bound_known_values():
    # 90 of 100 at 95 %: the interval is (0.8256, 0.9448); 1 of 1: 0.2065; 0 of 10: 0.
    bounds = scores.wilson_lower([90, 1, 0, 0], [100, 1, 10, 0])
    by_hand = (0.9 + 1.96**2 / 200 - 1.96 * math.sqrt(0.09 / 100 + 1.96**2 / 40000)) / (
        1 + 1.96**2 / 100
    )
    assert bounds[0] == pytest.approx(by_hand, abs=1e-15)
    assert bounds[0] == pytest.approx(0.8256327, abs=1e-7)
    assert bounds[1] == pytest.approx(1 / (1 + 1.96**2), abs=1e-12)
    assert bounds[2] == 0.0
    assert math.isnan(bounds[3])
    # All satisfied: n / (n + z²).
    assert scores.wilson_lower([500], [500])[0] == pytest.approx(500 / (500 + 1.96**2), abs=1e-12)


def test_need_met_scores_and_shares():
    needs = scores.need_met_scores(["yes", "partly", "no", "", "yes"])
    assert needs[:3].tolist() == [1.0, 0.5, 0.0]
    assert math.isnan(needs[3])
    assert scores.share([3], [4])[0] == 0.75
    assert math.isnan(scores.complaint_rate([2], [0])[0])
    unique, inverse = scores.group_index(np.array([7, 3, 7, 7]))
    assert unique.tolist() == [3, 7]
    assert scores.group_count(inverse, 2).tolist() == [1, 3]
    assert scores.group_sum(inverse, [1.0, 2.0, np.nan, 4.0], 2).tolist() == [2.0, 5.0]


# --- Rows in the database --------------------------------------------------------------------


@pytest.fixture
def community(db):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def other_community(community):
    return region_chain("990102002001", lat=30.1, lon=120.1)


def rate(
    ratings: list[int],
    *,
    community: Any,
    service: Any,
    organization: Any = None,
    responder: Any = None,
    rater: Any = None,
    group: str = "",
    needs: list[str] | None = None,
    at: dt.datetime = NOON,
) -> list[Evaluation]:
    """Completed requests and their evaluations, all made at `at` (one rater per call)."""
    rater = rater or UserFactory.create()
    requests = ServiceRequest.objects.bulk_create(
        ServiceRequest(
            public_id=f"T{next(_numbers):08d}",
            channel="resident",
            service=service,
            description="",
            community=community,
            state=State.COMPLETED,
            responder=responder,
        )
        for _ in ratings
    )
    needs = needs or ["yes"] * len(ratings)
    made = Evaluation.objects.bulk_create(
        Evaluation(
            request=request,
            rater=rater,
            responder=responder,
            organization=organization,
            community=community,
            service=service,
            priority_group=group,
            overall=overall,
            timeliness=overall,
            attitude=overall,
            quality=overall,
            need_met=need,
        )
        for request, overall, need in zip(requests, ratings, needs, strict=True)
    )
    Evaluation.objects.filter(pk__in=[e.pk for e in made]).update(created_at=at)
    return made


def complain(*, community: Any, at: dt.datetime = NOON, **target: Any) -> Complaint:
    complaint = Complaint.objects.create(
        complainant=UserFactory.create(),
        community=community,
        text="没有按时上门",
        respond_by=at + dt.timedelta(days=3),
        **target,
    )
    Complaint.objects.filter(pk=complaint.pk).update(created_at=at)
    return complaint


def test_five_perfect_ratings_do_not_beat_five_hundred_of_four_point_eight(community, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    service = TaxonomyTermFactory.create()
    few, many, others = (OrganizationFactory.create() for _ in range(3))
    rate([5] * 5, community=community, service=service, organization=few)
    rate([5] * 400 + [4] * 100, community=community, service=service, organization=many)
    # Other providers of the service: 295 fives and 200 threes, so the service's
    # mean over the period is (25 + 2400 + 2075) / 1000 = 4.5.
    rate([5] * 295 + [3] * 200, community=community, service=service, organization=others)

    index = compute_indices(kind="provider", period_start=START, period_end=END)

    a, b, c = index.row(few.pk), index.row(many.pk), index.row(others.pk)
    assert a
    assert b
    assert c
    assert (a["n"], a["mean"], b["n"], b["mean"]) == (5, 5.0, 500, 4.8)
    assert a["prior"] == pytest.approx(4.5, abs=1e-12)
    assert a["smoothed"] == pytest.approx((25 + 45) / 15, abs=1e-12)  # 4.6667
    assert b["smoothed"] == pytest.approx((2400 + 45) / 510, abs=1e-12)  # 4.7941
    assert c["smoothed"] == pytest.approx((2075 + 45) / 505, abs=1e-12)
    assert b["smoothed"] > a["smoothed"] > c["smoothed"]  # type: ignore[operator]
    assert a["mean"] > b["mean"]  # type: ignore[operator]  # the plain mean would have ranked them the other way
    # Share satisfied (overall >= 4) and its Wilson lower bound.
    assert (a["satisfied"], a["satisfied_share"]) == (5, 1.0)
    assert a["satisfied_lower"] == pytest.approx(5 / (5 + 1.96**2), abs=1e-12)  # 0.5655
    assert b["satisfied_lower"] == pytest.approx(500 / (500 + 1.96**2), abs=1e-12)  # 0.9924
    assert c["satisfied_share"] == pytest.approx(295 / 495, abs=1e-12)
    # The service index shrinks toward the mean of all services: here, itself.
    service_row = compute_indices(kind="service", period_start=START, period_end=END).row(
        service.pk
    )
    assert service_row
    assert service_row["n"] == 1000
    assert service_row["smoothed"] == pytest.approx(4.5, abs=1e-12)


def test_prior_weights_each_evaluation_by_its_service_mean(community, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 2
    easy, hard = TaxonomyTermFactory.create(), TaxonomyTermFactory.create()
    provider, elsewhere = OrganizationFactory.create(), OrganizationFactory.create()
    rate([5, 5, 4], community=community, service=easy, organization=provider)  # easy: 14/3
    rate([2], community=community, service=hard, organization=provider)
    rate([4, 3, 5], community=community, service=hard, organization=elsewhere)  # hard: 14/4

    row = compute_indices(kind="provider", period_start=START, period_end=END).row(provider.pk)

    assert row
    assert row["n"] == 4
    prior = (3 * 14 / 3 + 14 / 4) / 4  # 4.375
    assert row["prior"] == pytest.approx(prior, abs=1e-12)
    assert row["smoothed"] == pytest.approx((16 + 2 * prior) / 6, abs=1e-12)


def test_needs_met_complaint_rate_and_the_period(community, other_community):
    service = TaxonomyTermFactory.create()
    provider = OrganizationFactory.create()
    volunteer = responder_create(
        community, kind=ResponderKind.PROVIDER_STAFF, organization=provider
    )
    made = rate(
        [5, 4, 2, 3],
        community=community,
        service=service,
        organization=provider,
        responder=volunteer,
        needs=["yes", "partly", "no", "yes"],
    )
    # Before the period: counts for nothing.
    rate([1], community=community, service=service, organization=provider, at=NOON.replace(month=1))
    complain(community=community, organization=provider)
    complain(community=community, request=made[2].request)  # delivered by its staff
    complain(community=community, responder=volunteer)
    complain(community=community, organization=provider, at=NOON.replace(month=1))
    complain(community=other_community, organization=OrganizationFactory.create())

    provider_row = compute_indices(kind="provider", period_start=START, period_end=END).row(
        provider.pk
    )
    responder_row = compute_indices(kind="responder", period_start=START, period_end=END).row(
        volunteer.pk
    )
    service_row = compute_indices(kind="service", period_start=START, period_end=END).row(
        service.pk
    )

    assert provider_row
    assert responder_row
    assert service_row
    assert (provider_row["n"], provider_row["mean"]) == (4, 3.5)
    assert (provider_row["needs_n"], provider_row["needs_met"]) == (4, 2.5 / 4)
    assert (provider_row["complaints"], provider_row["complaint_rate"]) == (3, 0.75)
    # The responder: the complaint against them and the one against their request.
    assert (responder_row["complaints"], responder_row["complaint_rate"]) == (2, 0.5)
    # The service: only complaints against its requests.
    assert (service_row["complaints"], service_row["complaint_rate"]) == (1, 0.25)


def test_communities_by_region_and_complaints_without_ratings(community, other_community):
    service = TaxonomyTermFactory.create()
    rate([5, 3], community=community, service=service)
    rate([4], community=other_community, service=service)
    complain(community=other_community, organization=OrganizationFactory.create())
    quiet = region_chain("990102002002")
    complain(community=quiet, organization=OrganizationFactory.create())

    everywhere = compute_indices(kind="community", period_start=START, period_end=END)
    street = compute_indices(
        kind="community", region_code="990102002", period_start=START, period_end=END
    )

    assert [(r["key"], r["n"], r["mean"], r["complaints"]) for r in everywhere.rows] == [
        ("990102001001", 2, 4.0, 0),
        ("990102002001", 1, 4.0, 1),
        ("990102002002", 0, None, 1),  # complaints stay visible without ratings
    ]
    assert [r["key"] for r in street.rows] == ["990102002001", "990102002002"]
    assert everywhere.rows[2]["complaint_rate"] is None


def test_priority_groups_are_shown_apart(community, settings):
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    service = TaxonomyTermFactory.create()
    provider = OrganizationFactory.create()
    rate([5, 5, 5, 5], community=community, service=service, organization=provider)
    rate([3, 2], community=community, service=service, organization=provider, group="elderly")
    rate(
        [4],
        community=community,
        service=service,
        organization=provider,
        group="disabled",
        needs=["partly"],
    )

    index = compute_indices(kind="provider", period_start=START, period_end=END)

    everyone = index.row(provider.pk)
    assert everyone
    assert (everyone["n"], everyone["mean"]) == (7, 29 / 7)
    assert sorted(index.priority_groups) == ["disabled", "elderly"]
    [elderly] = index.priority_groups["elderly"]
    assert (elderly["key"], elderly["n"], elderly["mean"], elderly["satisfied"]) == (
        provider.pk,
        2,
        2.5,
        0,
    )
    # The group is shrunk toward the service's mean over everyone, 29 / 7.
    assert elderly["smoothed"] == pytest.approx((5 + 10 * 29 / 7) / 12, abs=1e-12)
    assert elderly["satisfied_lower"] == 0.0
    assert elderly["complaints"] is None  # complaints carry no priority group
    [disabled] = index.priority_groups["disabled"]
    assert (disabled["n"], disabled["needs_met"]) == (1, 0.5)


def test_all_kinds_at_once_match_one_by_one(community, other_community):
    services = [TaxonomyTermFactory.create() for _ in range(2)]
    providers = [OrganizationFactory.create() for _ in range(2)]
    for i, overall in enumerate([5, 4, 3, 2, 1, 4, 5]):
        rate(
            [overall],
            community=(community, other_community)[i % 2],
            service=services[i % 2],
            organization=providers[i % 3 % 2],
            group=("", "elderly")[i % 2],
        )
    together = compute_all_indices(period_start=START, period_end=END)
    for kind in KINDS:
        alone = compute_indices(kind=kind, period_start=START, period_end=END)
        assert together[kind].rows == alone.rows
        assert together[kind].priority_groups == alone.priority_groups


def test_loading_takes_one_query_per_table(community, django_assert_num_queries):
    service = TaxonomyTermFactory.create()
    rate([5, 4, 3], community=community, service=service, organization=OrganizationFactory.create())
    with django_assert_num_queries(2):  # evaluations, complaints
        compute_indices(kind="provider", period_start=START, period_end=END)
    with django_assert_num_queries(7):  # evaluations, facility ratings, complaints per kind
        compute_all_indices(period_start=START, period_end=END)


# --- Manipulation flags ----------------------------------------------------------------------


def test_flags_many_ratings_bursts_and_own_staff(community, settings):
    settings.LINLI_INDEX_FLAG_RATER_MIN = 10
    settings.LINLI_INDEX_FLAG_BURST_MIN = 5
    service = TaxonomyTermFactory.create()
    provider = OrganizationFactory.create()
    volunteer = responder_create(community, organization=provider)
    busy = UserFactory.create()
    # One proxy rating ten requests, spread over days: flagged for the count only.
    for day in range(10):
        rate(
            [5],
            community=community,
            service=service,
            rater=busy,
            at=NOON - dt.timedelta(days=day % 5, hours=day),
        )
    # Five ratings for the volunteer within 50 minutes, then one two hours later.
    burst = []
    for minute in (0, 10, 20, 40, 50):
        burst += rate(
            [5],
            community=community,
            service=service,
            responder=volunteer,
            at=NOON + dt.timedelta(minutes=minute),
        )
    rate(
        [5],
        community=community,
        service=service,
        responder=volunteer,
        at=NOON + dt.timedelta(hours=3),
    )
    # Four within an hour for another responder: below the threshold.
    calm = responder_create(community)
    for minute in (0, 5, 10, 15):
        rate(
            [4],
            community=community,
            service=service,
            responder=calm,
            at=NOON + dt.timedelta(minutes=minute),
        )
    # The provider's own staff rating it, twice; a worker elsewhere does not count.
    staff = UserFactory.create()
    RoleAssignmentFactory(user=staff, role=Role.PROVIDER_STAFF, organization=provider)
    RoleAssignmentFactory(user=staff, role=Role.COMMUNITY_WORKER, region=community)
    own = rate([5, 5], community=community, service=service, organization=provider, rater=staff)
    other_staff = UserFactory.create()
    RoleAssignmentFactory(
        user=other_staff, role=Role.PROVIDER_STAFF, organization=OrganizationFactory.create()
    )
    rate([5], community=community, service=service, organization=provider, rater=other_staff)
    # The volunteer rating a request they delivered.
    self_rated = rate(
        [5],
        community=community,
        service=service,
        responder=volunteer,
        rater=volunteer.user,
        at=NOON - dt.timedelta(days=2),
    )

    flags = flags_for(period_start=START, period_end=END)

    by_reason: dict[str, list[Any]] = {}
    for flag in flags:
        by_reason.setdefault(flag["reason"], []).append(flag)
    assert sorted(by_reason) == ["burst", "many_ratings", "own_responder", "own_staff"]
    [many] = by_reason["many_ratings"]
    assert (many["rater_id"], many["count"]) == (busy.pk, 10)
    [hour] = by_reason["burst"]
    assert (hour["responder_id"], hour["count"]) == (volunteer.pk, 5)
    assert hour["evaluation_ids"] == sorted(e.pk for e in burst)
    assert hour["first_at"] == NOON
    assert hour["last_at"] == NOON + dt.timedelta(minutes=50)
    [mine] = by_reason["own_staff"]
    assert (mine["rater_id"], mine["organization_id"], mine["count"]) == (staff.pk, provider.pk, 2)
    assert mine["evaluation_ids"] == sorted(e.pk for e in own)
    [itself] = by_reason["own_responder"]
    assert (itself["responder_id"], itself["evaluation_ids"]) == (volunteer.pk, [self_rated[0].pk])


def test_no_flags_without_evaluations(db):
    assert flags_for(period_start=START, period_end=END) == []
    assert compute_indices(kind="responder", period_start=START, period_end=END).rows == []


def test_quality_is_smoothed_less_the_complaint_penalty_floored_at_one():
    # 4.6 with one complaint per ten rated requests and a penalty of 2: 4.6 − 0.2 = 4.4;
    # a missing rate costs nothing; 1.5 − 2 × 0.5 = 0.5 is floored at 1; no mean stays NaN.
    got = scores.quality([4.6, 4.6, 1.5, np.nan], [0.1, np.nan, 0.5, 0.2], 2.0)
    assert got[0] == pytest.approx(4.4, abs=1e-12)
    assert got[1] == pytest.approx(4.6, abs=1e-12)
    assert got[2] == 1.0
    assert math.isnan(got[3])
    assert scores.quality([4.6], [0.1], 0.0)[0] == pytest.approx(4.6, abs=1e-12)
    with pytest.raises(ValueError, match="negative"):
        scores.quality([4.0], [0.1], -1.0)
