"""Fund pools: what counts as a verified service, the allocation with its explanations,
refusals with field and reason, scope, approval (fingerprint, once, immutable in the
database), the Excel workbook, the API and the pages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from openpyxl import load_workbook

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.directory.tests.factories import OrganizationFactory
from linli.evaluations.models import Complaint, Evaluation
from linli.evaluations.services import complaint_file, evaluation_submit
from linli.evaluations.tests.factories import delivered
from linli.regions.tests.factories import region_chain
from linli.requests.choices import Action, ResponderKind
from linli.requests.models import ServiceRequest
from linli.requests.services import request_transition
from linli.requests.tests.conftest import community, elder, worker  # noqa: F401
from linli.requests.tests.factories import responder_create
from linli.residents.services import ResidentInput, resident_register

from ..choices import PoolState, QualitySource
from ..funds import pool_approve, pool_create, pool_dry_run, pool_workbook, pools_for
from ..models import FundAllocation, FundPool

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=30)
END = TODAY - dt.timedelta(days=1)
WHEN = timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=10), dt.time(10)))


@pytest.fixture(autouse=True)
def plain_indices(settings):
    # No shrinkage, so the expected qualities are plain means: easy to check by hand.
    settings.LINLI_INDEX_PRIOR_WEIGHT = 0.0
    settings.LINLI_INDEX_COMPLAINT_PENALTY = 2.0


@pytest.fixture
def street(community):  # noqa: F811
    return community.parent


@pytest.fixture
def official(street):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.STREET_OFFICIAL, region=street)
    return user


@pytest.fixture
def other_official(taxonomy):
    user = UserFactory.create()
    other = region_chain("990102002001").parent
    RoleAssignmentFactory(user=user, role=Role.STREET_OFFICIAL, region=other)
    return user


def provider(community, name):  # noqa: F811
    organization = OrganizationFactory.create(name=name)
    responder = responder_create(
        community,
        "elderly_meals",
        name=name,
        kind=ResponderKind.ORGANIZATION,
        organization=organization,
    )
    return organization, responder


def serve(person, worker, responder, *, rating=None, confirm=True, complain=False, when=WHEN):  # noqa: F811
    """A meal delivered (and confirmed, rated, complained about) and dated `when`."""
    request = delivered(person, worker, responder)
    if confirm:
        request = request_transition(actor=worker, request=request, action=Action.CONFIRM)
    if rating is not None:
        evaluation_submit(actor=person.user, request=request, overall=rating)
    if complain:
        complaint_file(actor=person.user, text="饭菜凉了", request=request)
    ServiceRequest.objects.filter(pk=request.pk).update(completed_at=when)
    Evaluation.objects.filter(request=request).update(created_at=when + dt.timedelta(hours=2))
    Complaint.objects.filter(request=request).update(created_at=when + dt.timedelta(hours=3))
    return request


@pytest.fixture
def providers(community, worker, elder):  # noqa: F811
    """A: 3 verified services rated 5, 5, 4. B: 2 rated 3, 3, one complaint. C: 1 verified
    service, not rated. Not counted: A's unconfirmed one, B's before the period, A's in
    another street."""
    a, ra = provider(community, "A家政")
    b, rb = provider(community, "B护理")
    c, rc = provider(community, "C助餐")
    for rating in (5, 5, 4):
        serve(elder, worker, ra, rating=rating)
    serve(elder, worker, rb, rating=3, complain=True)
    serve(elder, worker, rb, rating=3)
    serve(elder, worker, rc)
    serve(elder, worker, ra, confirm=False)
    serve(elder, worker, rb, when=WHEN - dt.timedelta(days=60))
    far = region_chain("990102002001")
    stranger = resident_register(actor=None, data=ResidentInput(name="赵六", community=far))
    far_worker = UserFactory.create()
    RoleAssignmentFactory(user=far_worker, role=Role.COMMUNITY_WORKER, region=far)
    far_responder = responder_create(
        far, "elderly_meals", kind=ResponderKind.ORGANIZATION, organization=a
    )
    serve(stranger, far_worker, far_responder)
    return a, b, c


def make_pool(official, street, **fields):
    values: dict[str, Any] = {
        "title": "2026年第四季度服务激励",
        "period_start": START,
        "period_end": END,
        "amount": D("1000"),
        "floor": D("100"),
        "cap": D("600"),
    }
    values.update(fields)
    return pool_create(actor=official, region=street, **values)


# --- the computation ---------------------------------------------------------------------


def test_dry_run_counts_verified_services_and_weights_them_by_quality(official, street, providers):
    a, b, c = providers
    plan = pool_dry_run(actor=official, pool=make_pool(official, street))
    rows = [
        (line.organization, line.services, line.evaluations, line.quality, line.weight)
        for line in plan.lines
    ]
    assert rows == [
        (a, 3, 3, D("4.67"), D("14.01")),
        (b, 2, 2, D("2.00"), D("4.00")),  # mean 3 less 2 points × 1 complaint / 2
        (c, 1, 0, D("4.00"), D("4.00")),  # the prior: the period's mean for meals
    ]
    assert [line.quality_source for line in plan.lines] == [
        QualitySource.INDICES,
        QualitySource.INDICES,
        QualitySource.PRIOR,
    ]
    # A is held at the cap; the rest is shared by weight among B and C.
    assert [line.amount for line in plan.lines] == [D("600.00"), D("200.00"), D("200.00")]
    assert [line.bound for line in plan.lines] == ["cap", "", ""]
    assert plan.allocated == D("1000.00")
    assert plan.unallocated == D("0.00")
    assert plan.rate == D("50.00000000")
    why = [text for _line, text in plan.explanations]
    assert why[0].startswith(
        "3 verified services × quality 4.67 = weight 14.01, 63.7% of all weight; "
        "at ¥50.00 per weight point that would be ¥700.50, held at the cap: ¥600.00"
    )
    assert "× ¥50.00 per weight point → ¥200.00." in why[1]
    assert "less 2.00 points × complaint rate 0.500 (1 complaints / 2 evaluated)" in why[1]
    assert "No evaluation in the period: quality is the prior 4.00" in why[2]


def test_floor_raises_a_small_provider(official, street, providers):
    plan = pool_dry_run(actor=official, pool=make_pool(official, street, floor=D("300"), cap=None))
    # Proportionally 636.53 / 181.74 / 181.74: B and C are raised to 300, A gets the rest.
    assert [line.amount for line in plan.lines] == [D("400.00"), D("300.00"), D("300.00")]
    assert [line.bound for line in plan.lines] == ["", "floor", "floor"]
    assert "raised to the floor: ¥300.00" in plan.explanations[1][1]


def test_every_provider_capped_leaves_money_unallocated(official, street, providers):
    plan = pool_dry_run(actor=official, pool=make_pool(official, street, floor=0, cap=D("200")))
    assert [line.amount for line in plan.lines] == [D("200.00")] * 3
    assert plan.unallocated == D("400.00")
    assert "¥400.00 of the pool stays unallocated" in plan.explanations[0][1]


def test_floors_beyond_the_pool_are_refused_at_the_dry_run(official, street, providers):
    pool = make_pool(official, street, floor=D("400"), cap=None)
    with pytest.raises(ValidationFailed) as refused:
        pool_dry_run(actor=official, pool=pool)
    assert "3 providers at the floor of ¥400.00 need ¥1,200.00" in refused.value.fields["floor"][0]


def test_min_services_leaves_small_providers_out(official, street, providers):
    plan = pool_dry_run(actor=official, pool=make_pool(official, street, min_services=2))
    assert [e.organization for e in plan.excluded] == [providers[2]]
    assert sum(line.amount for line in plan.lines) == D("1000.00")


# --- bad input and scope -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"amount": D("-5")}, "amount", "The amount must be more than zero."),
        ({"amount": "0"}, "amount", "The amount must be more than zero."),
        ({"amount": "lots"}, "amount", "Enter an amount in yuan."),
        ({"amount": "10.001"}, "amount", "Give the amount to the fen at most."),
        ({"period_end": START - dt.timedelta(days=1)}, "period_end", "The last day comes"),
        ({"floor": D("700"), "cap": D("600")}, "cap", "The cap cannot be below the floor."),
        ({"floor": D("-1")}, "floor", "The amount cannot be negative."),
        ({"floor": D("2000"), "cap": None}, "floor", "more than the whole pool"),
        ({"title": " "}, "title", "Give the pool a title."),
        ({"min_services": 0}, "min_services", "at least 1"),
    ],
)
def test_bad_input_is_refused_with_the_field(official, street, fields, field, reason):
    with pytest.raises(ValidationFailed) as refused:
        make_pool(official, street, **fields)
    assert reason in refused.value.fields[field][0]
    assert FundPool.objects.count() == 0


def test_only_officials_of_the_region(official, other_official, street, worker, providers):  # noqa: F811
    for outsider in (other_official, worker):
        with pytest.raises(PermissionDenied):
            make_pool(outsider, street)
    pool = make_pool(official, street)
    with pytest.raises(PermissionDenied):
        pool_dry_run(actor=other_official, pool=pool)
    assert list(pools_for(official)) == [pool]
    assert list(pools_for(other_official)) == []
    district = UserFactory.create()
    RoleAssignmentFactory(user=district, role=Role.DISTRICT_OFFICIAL, region=street.parent)
    assert list(pools_for(district)) == [pool]
    assert pool_dry_run(actor=district, pool=pool).lines


# --- approval ------------------------------------------------------------------------------


def test_approve_writes_the_reviewed_lines_once(official, street, providers):
    pool = make_pool(official, street)
    plan = pool_dry_run(actor=official, pool=pool)
    pool = pool_approve(actor=official, pool=pool, fingerprint=plan.fingerprint)
    assert pool.state == PoolState.APPROVED
    assert pool.approved_by == official
    assert pool.approved_at is not None
    assert pool.prior_weight == 0.0
    assert pool.complaint_penalty == 2.0
    lines = list(FundAllocation.objects.filter(pool=pool).order_by("position"))
    assert [(x.organization, x.amount, x.bound) for x in lines] == [
        (providers[0], D("600.00"), "cap"),
        (providers[1], D("200.00"), ""),
        (providers[2], D("200.00"), ""),
    ]
    with pytest.raises(Conflict, match="already approved"):
        pool_approve(actor=official, pool=pool, fingerprint=plan.fingerprint)
    with pytest.raises(Conflict, match="final"):
        pool_dry_run(actor=official, pool=pool)


def test_approve_refuses_a_changed_dry_run(official, street, providers, elder, worker):  # noqa: F811
    pool = make_pool(official, street)
    plan = pool_dry_run(actor=official, pool=pool)
    late = ServiceRequest.objects.filter(state="completed").get()
    request_transition(actor=worker, request=late, action=Action.CONFIRM)  # now verified
    with pytest.raises(Conflict, match="changed since your dry run"):
        pool_approve(actor=official, pool=pool, fingerprint=plan.fingerprint)
    assert FundAllocation.objects.count() == 0
    assert FundPool.objects.get().state == PoolState.DRAFT


def test_approve_waits_for_the_period_to_end(official, street, providers):
    pool = make_pool(official, street, period_end=TODAY)
    plan = pool_dry_run(actor=official, pool=pool)
    with pytest.raises(ValidationFailed) as refused:
        pool_approve(actor=official, pool=pool, fingerprint=plan.fingerprint)
    assert "period_end" in refused.value.fields


def test_approve_needs_an_official(official, other_official, street, providers):
    pool = make_pool(official, street)
    plan = pool_dry_run(actor=official, pool=pool)
    with pytest.raises(PermissionDenied):
        pool_approve(actor=other_official, pool=pool, fingerprint=plan.fingerprint)


@pytest.fixture
def approved(official, street, providers):
    pool = make_pool(official, street)
    plan = pool_dry_run(actor=official, pool=pool)
    return pool_approve(actor=official, pool=pool, fingerprint=plan.fingerprint)


def test_the_database_refuses_changes_to_an_approved_allocation(approved, providers):
    line = FundAllocation.objects.filter(pool=approved).order_by("position")[0]
    statements = [
        ("UPDATE incentives_fundallocation SET amount = 0 WHERE id = %s", [line.pk]),
        ("UPDATE incentives_fundpool SET amount = 1 WHERE id = %s", [approved.pk]),
        (
            "INSERT INTO incentives_fundallocation (pool_id, organization_id, position, "
            "services, evaluations, complaints, quality, quality_source, weight, share, "
            "amount, bound) VALUES (%s, %s, 9, 1, 0, 0, 1, 'prior', 1, 0, 1, '')",
            # A provider without a line, so only the trigger can refuse it.
            [approved.pk, OrganizationFactory.create().pk.hex],
        ),
    ]
    if connection.vendor == "postgresql":
        statements += [
            ("DELETE FROM incentives_fundallocation WHERE id = %s", [line.pk]),
            ("DELETE FROM incentives_fundpool WHERE id = %s", [approved.pk]),
        ]
    for sql, params in statements:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    with pytest.raises(IntegrityError), transaction.atomic():
        FundAllocation.objects.filter(pk=line.pk).update(amount=D("1"))
    line.refresh_from_db()
    assert line.amount == D("600.00")


def test_a_draft_pool_can_still_change(official, street):
    pool = make_pool(official, street)
    FundPool.objects.filter(pk=pool.pk).update(amount=D("2000"))
    pool.delete()
    assert FundPool.objects.count() == 0


def test_workbook_reads_back(approved, official, providers):
    book = load_workbook(io.BytesIO(pool_workbook(actor=official, pool=approved)))
    assert book.sheetnames == ["Allocation", "Parameters"]
    rows = list(book["Allocation"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Provider", "Verified services", "Evaluations")
    assert [(r[0], r[1], r[9]) for r in rows[1:4]] == [
        ("A家政", 3, 600),
        ("B护理", 2, 200),
        ("C助餐", 1, 200),
    ]
    assert rows[4][0] == "Total"
    assert rows[4][9] == 1000
    assert "held at the cap" in rows[1][10]
    parameters = dict(book["Parameters"].iter_rows(values_only=True))
    assert parameters["Amount (yuan)"] == 1000
    assert parameters["Cap per provider (yuan)"] == 600
    assert parameters["Complaint penalty (points)"] == 2.0
    assert parameters["Approved by"] == official.get_username()


def test_only_approved_pools_export(official, street, providers):
    with pytest.raises(Conflict, match="approve it first"):
        pool_workbook(actor=official, pool=make_pool(official, street))


# --- the API -------------------------------------------------------------------------------


def test_pool_through_the_api(api_client, official, street, providers):
    api_client.force_authenticate(official)
    body = {
        "region": street.code,
        "title": "激励",
        "period_start": START.isoformat(),
        "period_end": END.isoformat(),
        "amount": "-100",
        "floor": "100",
        "cap": "600",
    }
    refused = api_client.post("/api/v1/pools/", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"]["amount"] == ["The amount must be more than zero."]
    unparsed = api_client.post("/api/v1/pools/", {**body, "amount": "x"}, format="json")
    assert unparsed.status_code == 400
    assert "amount" in unparsed.json()["fields"]
    made = api_client.post("/api/v1/pools/", {**body, "amount": "1000"}, format="json")
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    dry = api_client.get(f"/api/v1/pools/{pk}/dry-run/").json()
    assert dry["approved"] is False
    assert [line["amount"] for line in dry["lines"]] == ["600.00", "200.00", "200.00"]
    assert dry["lines"][0]["explanation"].startswith("3 verified services × quality 4.67")
    stale = api_client.post(f"/api/v1/pools/{pk}/approve/", {"fingerprint": "0" * 64})
    assert stale.status_code == 409
    assert stale.json()["detail"] == "The figures changed since your dry run: review it again."
    done = api_client.post(f"/api/v1/pools/{pk}/approve/", {"fingerprint": dry["fingerprint"]})
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "approved"
    again = api_client.post(f"/api/v1/pools/{pk}/approve/", {"fingerprint": dry["fingerprint"]})
    assert again.status_code == 409
    detail = api_client.get(f"/api/v1/pools/{pk}/").json()
    assert detail["approved"] is True
    assert detail["allocated"] == "1000.00"
    assert api_client.get(f"/api/v1/pools/{pk}/dry-run/").status_code == 409


def test_api_scope(api_client, approved, other_official, providers, street):
    api_client.force_authenticate(other_official)
    assert api_client.get("/api/v1/pools/").json() == []
    assert api_client.get(f"/api/v1/pools/{approved.pk}/").status_code == 404
    made = api_client.post(
        "/api/v1/pools/",
        {
            "region": street.code,
            "title": "t",
            "period_start": START.isoformat(),
            "period_end": END.isoformat(),
            "amount": "10",
        },
        format="json",
    )
    assert made.status_code == 403
    # Provider staff see the approved pool with their own line only.
    staff = UserFactory.create()
    RoleAssignmentFactory(user=staff, role=Role.PROVIDER_STAFF, organization=providers[1])
    api_client.force_authenticate(staff)
    assert [p["id"] for p in api_client.get("/api/v1/pools/").json()] == [approved.pk]
    mine = api_client.get(f"/api/v1/pools/{approved.pk}/").json()
    assert [line["organization_name"] for line in mine["lines"]] == ["B护理"]
    assert mine["lines"][0]["amount"] == "200.00"
    assert api_client.get(f"/api/v1/pools/{approved.pk}/dry-run/").status_code == 403


def test_list_api_queries_do_not_grow_with_pools(
    api_client, official, street, django_assert_num_queries
):
    api_client.force_authenticate(official)
    make_pool(official, street)
    official.__dict__.pop("_linli_scopes", None)  # the scope is cached on the user object
    with django_assert_num_queries(2):  # the scope, the pools with regions and users
        assert len(api_client.get("/api/v1/pools/").json()) == 1
    for i in range(4):
        make_pool(official, street, title=f"池{i}")
    official.__dict__.pop("_linli_scopes", None)
    with django_assert_num_queries(2):
        assert len(api_client.get("/api/v1/pools/").json()) == 5


# --- the pages -----------------------------------------------------------------------------


def test_pool_pages(client, official, street, providers):
    client.force_login(official)
    page = client.get("/pools/")
    assert page.status_code == 200
    assert b'id="pool-form"' in page.content
    bad = client.post(
        "/pools/",
        {
            "region": street.code,
            "title": "激励",
            "period_start": START.isoformat(),
            "period_end": END.isoformat(),
            "amount": "-1",
        },
    )
    assert bad.status_code == 400
    assert b"The amount must be more than zero." in bad.content
    made = client.post(
        "/pools/",
        {
            "region": street.code,
            "title": "激励",
            "period_start": START.isoformat(),
            "period_end": END.isoformat(),
            "amount": "1000",
            "floor": "100",
            "cap": "600",
            "min_services": "1",
        },
    )
    assert made.status_code == 302
    pool = FundPool.objects.get()
    screen = client.get(f"/pools/{pool.pk}/")
    assert b'id="dry-run-note"' in screen.content
    assert "held at the cap: ¥600.00".encode() in screen.content
    assert b'id="approve-form"' in screen.content
    assert client.get(f"/pools/{pool.pk}/export.xlsx").status_code == 404  # not approved
    fingerprint = pool_dry_run(actor=official, pool=pool).fingerprint
    approved = client.post(f"/pools/{pool.pk}/approve/", {"fingerprint": fingerprint})
    assert approved.status_code == 302
    screen = client.get(f"/pools/{pool.pk}/")
    assert b'id="approved-note"' in screen.content
    assert b'id="approve-form"' not in screen.content
    assert b'id="export"' in screen.content
    download = client.get(f"/pools/{pool.pk}/export.xlsx")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(download.content)).sheetnames == ["Allocation", "Parameters"]
    home = client.get("/")
    assert b"page-pools" in home.content


def test_pool_page_refused_to_others(client, approved, other_official):
    client.force_login(other_official)
    assert client.get(f"/pools/{approved.pk}/").status_code == 404
    assert client.get(f"/pools/{approved.pk}/export.xlsx").status_code == 404
    page = client.get("/pools/")
    assert b"pool-" + str(approved.pk).encode() not in page.content
