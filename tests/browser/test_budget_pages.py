"""Issue #7's incentive pages in a real Chromium over the demo.

The street official creates a fund pool for last month, reads its dry run (every line
explained, the lines summing to the pool), approves it, finds a second approval refused,
and downloads the Excel whose total row is the sum of its amounts. A participatory budget
runs from proposals to a published result: residents propose on their phones, the
community worker costs the projects and opens the vote, verified residents vote (one
from elsewhere is refused, with the reason), the worker closes and publishes, and the
results page shows both rules with why each project was, or was not, funded.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from linli.accounts.models import RoleAssignment, User
from linli.core.errors import PermissionDenied
from linli.incentives.budgets import ballot_cast, budget_create, budget_results
from linli.incentives.choices import BudgetState, Feasibility, PoolState, Rule
from linli.incentives.funds import compute_plan, explain
from linli.incentives.models import Ballot, BallotReceipt, FundPool, Proposal
from linli.regions.models import Region
from linli.residents.models import Resident

from .test_request_pages import DESKTOP, PHONE, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZH = "zh-hans"  # the pages are read in Chinese (the browser asks for zh-CN)


def yuan(text: str) -> Decimal:
    """ "¥1,234.56" (or "1234.56") → Decimal("1234.56")."""
    return Decimal(text.strip().lstrip("¥").replace(",", ""))


def past_half_year() -> tuple[dt.date, dt.date]:
    """The six whole months before this one: over, so the pool can be approved."""
    end = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _month in range(5):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


def test_street_official_allocates_a_pool_explains_every_yuan_and_downloads_it(
    browser, live_server, demo, screenshot
):
    official = User.objects.get(username="demo_street_official")
    street = RoleAssignment.objects.get(user=official, role="street_official").region
    assert street is not None
    first, last = past_half_year()
    with person(browser, live_server, "demo_street_official", **DESKTOP) as page:
        page.click("#voice-pages a.page-pools")
        page.wait_for_selector("#pool-form")
        page.select_option("#f-region", street.code)
        page.fill("#f-title", "近半年为老服务激励资金")
        page.fill("#f-start", first.isoformat())
        page.fill("#f-end", last.isoformat())
        page.fill("#f-amount", "30000")
        page.fill("#f-floor", "800")
        page.fill("#f-cap", "6000")
        screenshot(page, "incentives-pools")
        page.click("#pool-form button[type=submit]")
        page.wait_for_url("**/pools/*/")
        pool = FundPool.objects.get(title="近半年为老服务激励资金")
        assert (pool.region_id, pool.period_start, pool.period_end, pool.state) == (
            street.code,
            first,
            last,
            PoolState.DRAFT,
        )
        assert page.locator("#dry-run-note").count() == 1

        # Every line explained, in the words the service gives; the lines sum to the pool.
        plan = compute_plan(pool)
        assert plan.problem == ""
        assert len(plan.lines) >= 2
        rows = page.locator("#allocation tbody tr.line")
        whys = page.locator("#allocation tbody tr.why")
        assert rows.count() == whys.count() == len(plan.lines)
        amounts = []
        with translation.override(ZH):
            for index, line in enumerate(plan.lines):
                row = rows.nth(index)
                assert row.get_attribute("id") == f"line-{line.organization.pk}"
                amounts.append(yuan(row.locator("td").last.inner_text()))
                assert whys.nth(index).inner_text().strip() == explain(line, plan)
        assert amounts == [line.amount for line in plan.lines]
        allocated = yuan(page.inner_text("#allocated"))
        unallocated = (
            yuan(page.inner_text("#unallocated")) if page.locator("#unallocated").count() else 0
        )
        assert sum(amounts) == allocated == plan.allocated
        assert allocated + unallocated == pool.amount == Decimal("30000.00")
        assert all(pool.floor <= a <= Decimal(6000) for a in amounts)
        screenshot(page, "incentives-pool-dry-run")

        # A second tab on the same dry run, to approve again once it is approved.
        stale = page.context.new_page()
        stale.goto(f"/pools/{pool.pk}/")
        page.click("#approve-form button[type=submit]")
        page.wait_for_selector("#approved-note")
        pool.refresh_from_db()
        assert (pool.state, pool.approved_by) == (PoolState.APPROVED, official)
        assert pool.lines.count() == len(plan.lines)
        assert sum(pool.lines.values_list("amount", flat=True)) == pool.allocated == allocated
        screenshot(page, "incentives-pool-approved")

        stale.click("#approve-form button[type=submit]")
        stale.wait_for_url(f"**/pools/{pool.pk}/")
        with translation.override(ZH):
            refused = gettext("This pool was already approved.")
        assert refused in stale.inner_text(".messages")
        assert pool.lines.count() == len(plan.lines)
        stale.close()

        with page.expect_download() as download:
            page.click("#export")
        assert download.value.suggested_filename == f"linli-pool-{pool.pk}.xlsx"
        book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book["Allocation"]
    lines = list(sheet.iter_rows(min_row=2, values_only=True))
    total, body = lines[-1], lines[:-1]
    assert [row[0] for row in body] == [line.organization.name for line in pool.lines.all()]
    cells = [Decimal(str(row[9])).quantize(Decimal("0.01")) for row in body]
    assert cells == amounts
    assert Decimal(str(total[9])).quantize(Decimal("0.01")) == sum(cells) == pool.allocated
    assert all(row[10] for row in body)  # every line's explanation is in the workbook


def test_participatory_budget_from_proposals_to_results_under_both_rules(
    browser, live_server, demo, screenshot
):
    worker = User.objects.get(username="demo_community_worker")
    resident = User.objects.get(username="demo_resident")
    community = Region.objects.get(code=Resident.objects.get(user=resident).community_id)
    # No page creates a budget yet: the worker's service does.
    budget = budget_create(
        actor=worker, community=community, title="2027年社区微实事（测试）", amount=100000
    )
    projects = {
        "A": ("活动室空调更换", "60000"),
        "B": ("楼道扶手（3栋）", "40000"),
        "C": ("儿童沙池", "25000"),
        "D": ("屋顶游泳池", None),
    }

    with person(browser, live_server, "demo_resident", **PHONE) as page:
        page.click("#voice-pages a.page-budgets")
        page.click(f"#budget-{budget.pk} h3 a")
        page.wait_for_selector("#proposal-form")
        for title, _cost in projects.values():
            page.fill("#p-title", title)
            page.fill("#p-kind", "社区设施")
            page.click("#proposal-form button[type=submit]")
            page.wait_for_url(f"**/budgets/{budget.pk}/")
        screenshot(page, "incentives-budget-proposals")
    proposal = {
        key: Proposal.objects.get(budget=budget, title=title, proposed_by=resident)
        for key, (title, _cost) in projects.items()
    }

    with person(browser, live_server, "demo_community_worker", **DESKTOP) as page:
        page.goto(f"/budgets/{budget.pk}/")
        advance = page.locator(f"form[action='/budgets/{budget.pk}/next/'] button")
        advance.click()  # to the feasibility review
        page.wait_for_url(f"**/budgets/{budget.pk}/")
        for key, (_title, cost) in projects.items():
            item = page.locator(f"#proposal-{proposal[key].pk}")
            if cost is None:
                item.locator("input[name=reason]").fill("小区内没有可用场地。")
                item.locator("button[value=no]").click()
            else:
                item.locator("input[name=cost]").fill(cost)
                item.locator("button[value=yes]").click()
            page.wait_for_url(f"**/budgets/{budget.pk}/*")
        screenshot(page, "incentives-budget-review")
        advance.click()  # to the vote
        page.wait_for_url(f"**/budgets/{budget.pk}/")
    budget.refresh_from_db()
    assert budget.state == BudgetState.VOTING
    fresh = Proposal.objects.in_bulk([p.pk for p in proposal.values()])
    feasibility = {k: (fresh[p.pk].feasibility, fresh[p.pk].cost) for k, p in proposal.items()}
    assert feasibility == {
        "A": (Feasibility.FEASIBLE, Decimal("60000.00")),
        "B": (Feasibility.FEASIBLE, Decimal("40000.00")),
        "C": (Feasibility.FEASIBLE, Decimal("25000.00")),
        "D": (Feasibility.INFEASIBLE, None),
    }

    # Four verified residents: three approve A and B, one only C.
    neighbours = list(
        User.objects.filter(resident__community=community, resident__anonymized_at__isnull=True)
        .exclude(pk=resident.pk)
        .exclude(username__startswith="demo_")
        .order_by("pk")[:3]
    )
    assert len(neighbours) == 3
    for voter in neighbours[:2]:
        ballot_cast(actor=voter, budget=budget, approvals=[proposal["A"].pk, proposal["B"].pk])
    lone = neighbours[2]
    lone.set_password("linli-demo")
    lone.save()
    with person(browser, live_server, "demo_resident", **PHONE) as page:
        page.goto(f"/budgets/{budget.pk}/vote/")
        page.check(f"#approve-{proposal['A'].pk}")
        page.check(f"#approve-{proposal['B'].pk}")
        screenshot(page, "incentives-vote")
        page.click("form button.primary")
        page.wait_for_url(f"**/budgets/{budget.pk}/")
    with person(browser, live_server, lone.username, **PHONE) as page:
        page.goto(f"/budgets/{budget.pk}/vote/")
        page.check(f"#approve-{proposal['C'].pk}")
        page.click("form button.primary")
        page.wait_for_url(f"**/budgets/{budget.pk}/")
    assert BallotReceipt.objects.filter(budget=budget).count() == 4

    # Someone from another community: the page says why, a forced ballot is refused.
    outsider = (
        User.objects.filter(resident__anonymized_at__isnull=True)
        .exclude(resident__community=community)
        .exclude(username__startswith="demo_")
        .order_by("pk")
        .first()
    )
    assert outsider is not None
    outsider.set_password("linli-demo")
    outsider.save()
    with translation.override(ZH):
        why_not = gettext("Only verified residents of this community can vote.")
        refused = gettext("Only verified residents of %(community)s can vote on its budget.") % {
            "community": community.display_name
        }
    with person(browser, live_server, outsider.username, **PHONE) as page:
        page.goto(f"/budgets/{budget.pk}/vote/")
        assert why_not in page.inner_text("main")
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
        forced = page.request.post(
            f"/budgets/{budget.pk}/vote/",
            form={"approve": str(proposal["C"].pk)},
            headers={"X-CSRFToken": token, "Referer": f"{live_server.url}/budgets/"},
        )
        assert forced.status == 403
        assert refused in forced.text()
    with pytest.raises(PermissionDenied) as error:
        ballot_cast(actor=outsider, budget=budget, approvals=[proposal["C"].pk])
    # The service's own words, in the test's language (English).
    assert error.value.message == gettext(
        "Only verified residents of %(community)s can vote on its budget."
    ) % {"community": community.display_name}
    assert Ballot.objects.filter(budget=budget).count() == 4

    with person(browser, live_server, "demo_community_worker", **DESKTOP) as page:
        page.goto(f"/budgets/{budget.pk}/")
        advance = page.locator(f"form[action='/budgets/{budget.pk}/next/'] button")
        advance.click()  # the vote closes
        page.wait_for_url(f"**/budgets/{budget.pk}/")
        page.select_option("#publish-rule", Rule.EQUAL_SHARES)
        advance.click()  # published under equal shares
        page.wait_for_url(f"**/budgets/{budget.pk}/")
    budget.refresh_from_db()
    assert (budget.state, budget.rule) == (BudgetState.PUBLISHED, Rule.EQUAL_SHARES)
    fresh = Proposal.objects.in_bulk([p.pk for p in proposal.values()])
    funded = {k: fresh[p.pk].funded for k, p in proposal.items()}
    assert funded == {"A": False, "B": True, "C": True, "D": None}

    # Most votes first buys B then A (ties go to the cheaper) and spends it all; equal
    # shares gives each voter ¥25,000: B (¥13,333.33 per supporter) then C (the lone
    # voter's ¥25,000), and A no longer fits the ¥35,000 left.
    with translation.override(ZH):
        results = budget_results(actor=None, budget=budget)
        expected = {
            rule.rule: {row.proposal.pk: (row.funded, row.explanation) for row in rule.rows}
            for rule in (results.greedy, results.equal_shares)
        }
        funded_tag, not_funded_tag = gettext("Funded"), gettext("Not funded")
    ids = {proposal[k].pk: k for k in "ABC"}
    assert {ids[pk] for pk, (yes, _why) in expected["greedy"].items() if yes} == {"A", "B"}
    assert {ids[pk] for pk, (yes, _why) in expected["equal_shares"].items() if yes} == {"B", "C"}
    assert (results.greedy.spent, results.equal_shares.spent) == (100000, 65000)
    anonymous = browser.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
    page = anonymous.new_page()
    page.goto(f"/budgets/{budget.pk}/results/")
    for rule, rows in expected.items():
        section = page.locator(f"#rule-{rule}")
        assert section.locator("li.result").count() == 3  # the feasible projects
        for pk, (yes, why) in rows.items():
            item = section.locator(f"#{rule}-{pk}")
            assert item.locator(".tag").inner_text() == (funded_tag if yes else not_funded_tag)
            assert item.locator("p").last.inner_text() == why
    screenshot(page, "incentives-budget-results")
    anonymous.close()
