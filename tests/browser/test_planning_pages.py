"""Issue #8's "Done when" in a real Chromium over the demo district: the dashboard shows
every indicator with its target and progress, the coverage gap list and the report
downloads; the accessibility page draws the 15-minute map per facility kind (one run by the
demo, one started from the page's button); and a siting run for fitness corners chooses
sites that, once built, raise coverage exactly as the run predicted.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import openpyxl
import pytest
from django.db.models import Q
from django.template.defaultfilters import floatformat
from django.utils import timezone

from linli.accounts.models import User
from linli.directory.choices import FacilityKind
from linli.directory.models import Location
from linli.planning import accessibility, networks, selectors, sites
from linli.planning.models import AccessibilityRun, Indicator, RunStatus, SitingRun
from linli.regions.choices import RegionLevel
from linli.regions.demo import DISTRICT
from linli.regions.models import Region

from .test_request_pages import DESKTOP, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICIAL = "demo_district_official"
FITNESS = FacilityKind.OUTDOOR_FITNESS.value
HEALTH = FacilityKind.HEALTH_STATION.value


def percent(share: float) -> str:
    """What the template's {% widthratio share 1 100 %} prints."""
    return f"{round(share * 100)}%"


def without_comprehensive_facility(day: Any) -> set[str]:
    """Communities and villages of the district with no open comprehensive facility, by
    hand from the directory."""
    served = set(
        Location.objects.filter(
            kind=FacilityKind.COMPREHENSIVE, region__code__startswith=DISTRICT[:6]
        )
        .filter(Q(opened_on__isnull=True) | Q(opened_on__lte=day))
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=day))
        .values_list("region_id", flat=True)
    )
    places = Region.objects.filter(level=RegionLevel.COMMUNITY, code__startswith=DISTRICT[:6])
    return {code for code in places.values_list("code", flat=True) if code not in served}


def test_dashboard_access_maps_and_siting_over_the_demo(browser, live_server, demo, screenshot):
    official = User.objects.get(username=OFFICIAL)
    with person(browser, live_server, OFFICIAL, **DESKTOP) as page:
        dashboard(page, screenshot, official)
        access_maps(page, screenshot)
        siting(page, screenshot)


def dashboard(page, screenshot, official: User) -> None:
    page.goto(f"/planning/?region={DISTRICT}")
    page.wait_for_selector("#indicators")
    board = selectors.dashboard(official, region_code=DISTRICT, day_text=None)
    day = board.day

    # Every indicator, one row each; the computed ones with value, target and progress.
    rows = page.locator("#indicators tbody tr")
    assert rows.count() == Indicator.objects.filter(active=True).count() == len(board.rows)
    assert len(board.rows) > 0
    shown_complete = 0
    for row in board.rows:
        cells = page.locator(f"#indicator-{row.indicator.code} td")
        value_cell = cells.nth(0).inner_text()
        if not row.computed:
            continue
        assert row.figure is not None
        if row.value is not None:
            assert floatformat(row.value, 2) in value_cell, row.indicator.code
        target_cell = cells.nth(2).inner_text()
        progress_cell = cells.nth(4).inner_text()
        if row.target is not None:
            assert floatformat(row.target.value, "-2") in target_cell, row.indicator.code
        if row.progress is not None:
            assert f"{floatformat(row.progress, '-1')}%" in progress_cell, row.indicator.code
            assert cells.nth(4).locator("progress").count() == 1
        if row.value is not None and row.target is not None and row.progress is not None:
            shown_complete += 1
    computed = [r for r in board.rows if r.computed]
    assert computed, "no indicator is computed over the demo district"
    # Every computed indicator with a target must show its progress.
    missing = [
        r.indicator.code
        for r in computed
        if r.target is not None and r.value is not None and r.progress is None
    ]
    assert missing == []
    assert shown_complete > 0

    # The coverage gap list: exactly the places without an open comprehensive facility.
    expected = without_comprehensive_facility(day)
    gaps = selectors.coverage_gaps(board.region, day)
    assert gaps.count == len(expected)
    listed = {
        (row.get_attribute("id") or "").removeprefix("gap-")
        for row in page.locator("#coverage-gaps tbody tr").all()
    }
    assert listed == {g.region.code for g in gaps.rows}
    if gaps.more == 0:
        assert listed == expected
    assert f"{gaps.count}" in page.inner_text("#coverage-gaps p")

    # The report downloads, fetched with the page's own session.
    links = page.locator("#report-downloads a")
    assert links.count() == 2
    workbook = page.request.get(links.nth(0).get_attribute("href") or "")
    assert workbook.status == 200
    assert workbook.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = openpyxl.load_workbook(io.BytesIO(workbook.body()), read_only=True)
    assert book.sheetnames == ["Indicators", "Coverage gaps", "Accessibility", "About"]
    book.close()
    pdf = page.request.get(links.nth(1).get_attribute("href") or "")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")
    screenshot(page, "planning-dashboard")


def check_access_page(page, kind: str) -> AccessibilityRun:
    """The map drawn (a polygon per located community, a point per facility) and the
    15-minute share, overall and per community, as the run computed it."""
    page.wait_for_selector(".leaflet-container")
    data = page.evaluate("JSON.parse(document.getElementById('access-map-data').textContent)")
    assert data["communities"], "no community outline to draw"
    drawn = len(data["communities"]) + len(data["facilities"])
    page.locator(".leaflet-overlay-pane path").nth(drawn - 1).wait_for(state="attached")
    assert page.locator(".leaflet-overlay-pane path").count() == drawn
    run = accessibility.latest_run(Region.objects.get(code=DISTRICT), kind, timezone.localdate())
    assert run is not None
    assert run.status == RunStatus.DONE
    results: dict[str, Any] = run.results or {}
    total = results["totals"]["covered"][-1] / results["totals"]["population"]
    assert percent(total) in page.inner_text("#totals strong >> nth=-1")
    table = page.locator("#communities tbody tr")
    assert table.count() == len(results["communities"])
    for c in results["communities"]:
        if c["population"] > 0:
            cells = page.locator(f"#community-{c['code']} td")
            walk = cells.nth(len(results["thresholds"])).inner_text()
            assert walk == percent(c["covered"][-1] / c["population"]), c["code"]
    return run


def access_maps(page, screenshot) -> None:
    page.goto(f"/planning/access/?region={DISTRICT}&kind={HEALTH}")
    check_access_page(page, HEALTH)
    screenshot(page, "planning-access")

    # The small demo analyses health stations only: fitness corners get their run from the
    # page's button.
    page.goto(f"/planning/access/?region={DISTRICT}&kind={FITNESS}")
    page.wait_for_selector("#no-run")
    page.click("#access-start button[type=submit]")
    page.wait_for_url("**run=*")
    run = check_access_page(page, FITNESS)
    assert run.started_by is not None
    assert run.started_by.username == OFFICIAL
    screenshot(page, "planning-access-fitness")


def siting(page, screenshot) -> None:
    page.goto("/planning/sites/")
    page.select_option("#kind", FITNESS)
    page.fill("#region", DISTRICT)
    page.fill("#k", "3")
    page.click("#sites-form button[name=exact][value='0']")
    page.wait_for_url("**/planning/sites/?run=*")
    page.wait_for_selector("#sites-table")
    run = SitingRun.objects.latest("pk")
    assert run.created_by is not None
    assert (run.kind, run.region_id, run.created_by.username) == (FITNESS, DISTRICT, OFFICIAL)
    chosen = run.results["sites"]
    assert len(chosen) == 3
    rows = page.locator("#sites-table tbody tr")
    assert rows.count() == 3
    for row, site in zip(rows.all(), chosen, strict=True):
        cells = row.locator("td")
        assert cells.nth(0).inner_text() == str(site["rank"])
        assert cells.nth(3).inner_text() == floatformat(site["people"], 0)
        assert site["people"] > 0
    everyone = run.results["coverage"]["people"][0]
    assert everyone["group"] in ("", None)
    shown = page.inner_text("#coverage-all")
    assert floatformat(everyone["current"], 0) in shown
    assert floatformat(everyone["proposed"], 0) in shown
    assert everyone["proposed"] > everyone["current"]
    # The marginal gains add up to the rise over the committed projects.
    gains = sum(s["people"] for s in chosen)
    assert gains == pytest.approx(everyone["proposed"] - everyone["committed"], abs=1e-6)
    page.wait_for_selector(".leaflet-container")
    screenshot(page, "planning-sites")

    # Build the proposed (and any committed) sites, then ask again: what is in reach now
    # must be what the run predicted with them.
    built = run.results["sites"] + run.results["committed"]
    for site in built:
        Location.objects.create(
            name=f"built {site['name']}",
            latitude=site["lat"],
            longitude=site["lon"],
            kind=FITNESS,
            region_id=DISTRICT,
            opened_on=run.day,
        )
    again = sites.siting_run(
        actor=None,
        region_code=DISTRICT,
        kind=FITNESS,
        k=1,
        radius=run.parameters["radius"],
        weights=run.parameters["weights"],
        day=run.day,
        via="cli",
    )
    assert again.inputs["existing_sites"] == run.inputs["existing_sites"] + len(built)
    before: list[dict[str, Any]] = run.results["coverage"]["people"]
    after: list[dict[str, Any]] = again.results["coverage"]["people"]
    assert [r["group"] for r in after] == [r["group"] for r in before]
    # Measured directly: everyone with a built or existing corner within the radius over the
    # walking network is exactly the predicted "everyone" row.
    region = Region.objects.get(code=DISTRICT)
    demand = networks.demand_points(region, run.day)
    people = np.asarray(demand.weight, dtype=np.float64)
    corners = networks.facility_points(region, FITNESS, run.day)
    reach = networks.distances_for(DISTRICT).pairs(
        demand.lon, demand.lat, corners.lon, corners.lat, max_distance=run.parameters["radius"]
    )
    within = np.zeros(people.size, dtype=bool)
    within[np.asarray(reach.demand, dtype=np.int64)] = True
    assert float(people[within].sum()) == pytest.approx(before[0]["proposed"], abs=1e-6)
    # And the service's own "in reach now" after building, group by group.
    for predicted, measured in zip(before, after, strict=True):
        assert measured["total"] == pytest.approx(predicted["total"], abs=1e-6)
        assert measured["current"] == pytest.approx(predicted["proposed"], abs=1e-6), (
            f"group {predicted['group'] or 'everyone'}: built sites reach "
            f"{measured['current']:.3f}, predicted {predicted['proposed']:.3f}"
        )

    # The map: each existing, committed and proposed site, a point and its radius circle.
    points = sum(len(run.results[role]) for role in ("existing", "committed", "sites"))
    page.locator(".leaflet-overlay-pane path").nth(2 * points - 1).wait_for(state="attached")
    assert page.locator(".leaflet-overlay-pane path").count() == 2 * points
