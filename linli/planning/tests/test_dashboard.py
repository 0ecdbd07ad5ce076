"""The dashboard page and the indicator API: values, targets, drill-down, the coverage
gap list and the trend for the user's scope; bad input refused with the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.planning.selectors import coverage_gaps, dashboard, trend_days

from .indicator_tree import C1, C2, COUNTY, STREET1, STREET2, V1, V3, build_tree


@pytest.fixture
def tree(db):
    return build_tree()


def test_the_gap_list_gives_population_and_the_nearest_open_facility(tree):
    gaps = coverage_gaps(tree.regions[COUNTY], dt.date(2025, 1, 1))
    assert (gaps.count, gaps.places, gaps.population, gaps.more) == (3, 5, 4500, 0)
    assert [
        (g.region.code, g.nearest.name if g.nearest else None, g.distance_km) for g in gaps.rows
    ] == [
        (C2, "F1", 1.11),
        (V3, "F4", 2.22),
        (V1, "F4", 1.11),  # its own F3 closed on 2024-05-01
    ]
    before = coverage_gaps(tree.regions[COUNTY], dt.date(2024, 4, 30))
    assert [g.region.code for g in before.rows] == [C2, V3]


def test_the_gap_list_stops_at_its_limit_but_counts_everything(tree):
    gaps = coverage_gaps(tree.regions[COUNTY], dt.date(2025, 1, 1), limit=1)
    assert (len(gaps.rows), gaps.count, gaps.more) == (1, 3, 2)


def test_trend_days_end_whole_years_or_quarters():
    day = dt.date(2026, 11, 30)
    assert trend_days(day, "year", 2) == [dt.date(2024, 12, 31), dt.date(2025, 12, 31), day]
    assert trend_days(day, "quarter", 3) == [
        dt.date(2026, 3, 31),
        dt.date(2026, 6, 30),
        dt.date(2026, 9, 30),
        day,
    ]
    assert trend_days(dt.date(2026, 2, 1), "quarter", 1) == [
        dt.date(2025, 12, 31),
        dt.date(2026, 2, 1),
    ]


def test_dashboard_puts_values_targets_children_and_trend_together(tree):
    board = dashboard(tree.official, region_code=None, day_text="2025-01-01", trend_count="4")
    assert board.region.code == COUNTY
    rows = {row.indicator.code: row for row in board.rows}
    rural = rows["facility_coverage_rural"]
    assert rural.target is not None
    assert rural.baseline is not None
    assert (rural.value, rural.target.value, rural.baseline.value, rural.progress, rural.met) == (
        Decimal("33.33"),
        Decimal(80),
        Decimal("65.7"),
        Decimal("0.0"),
        False,
    )
    area = rows["facility_area_per_100_households"]
    assert (area.value, area.progress, area.met) == (Decimal("43.64"), Decimal("100.0"), True)
    assert rows["sports_instructors_per_1000"].computed is False
    assert [c.region.code for c in board.children] == [STREET1, STREET2]
    column = [i.code for i in board.computed].index("facility_coverage_rural")
    assert [c.values[column] for c in board.children] == [Decimal("0.00"), Decimal("50.00")]
    assert board.trend.days == [
        dt.date(2021, 12, 31),
        dt.date(2022, 12, 31),
        dt.date(2023, 12, 31),
        dt.date(2024, 12, 31),
        dt.date(2025, 1, 1),
    ]
    series = {i.code: s for i, s in board.trend.rows}
    assert series["facility_coverage_rural"] == [
        Decimal("66.67"),
        Decimal("66.67"),
        Decimal("66.67"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]


def test_the_page_shows_indicators_badges_drill_down_gaps_and_trend(client, tree):
    client.force_login(tree.official)
    page = client.get("/planning/", {"date": "2025-01-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="indicator-facility_coverage_rural"' in html
    assert "33.33%" in html
    assert "Unverified default" in html
    assert "No data: Linli does not compute this yet." in html
    assert f'id="child-{STREET1}"' in html
    assert f'id="gap-{C2}"' in html
    assert "straight lines" in html
    assert 'id="trend-facility_coverage_rural"' in html
    street = client.get("/planning/", {"region": STREET1, "date": "2025-01-01"})
    assert street.status_code == 200
    assert f'id="child-{C1}"' in street.content.decode()
    assert f'id="gap-{V3}"' not in street.content.decode()


def test_the_page_speaks_chinese_by_default(tree):
    from django.test import Client

    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese.force_login(tree.official)
    html = chinese.get("/planning/", {"date": "2025-01-01"}).content.decode()
    assert "农村社区综合服务设施覆盖率" in html


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ({"date": "2025-13-01"}, 400, "YYYY-MM-DD"),
        ({"region": "99x"}, 400, "digits"),
        ({"region": "990199"}, 404, "No region with the code 990199"),
        ({"region": "990103"}, 403, "outside the area you may see"),
        ({"periods": "99"}, 400, "from 1 to 12"),
        ({"trend": "decade"}, 400, "year or quarter"),
    ],
)
def test_bad_input_gets_the_reason_not_a_server_error(client, tree, query, status, text):
    client.force_login(tree.official)
    page = client.get("/planning/", query)
    assert page.status_code == status
    assert text in page.content.decode()


def test_scope_a_street_official_sees_their_street_only(client, tree):
    official = UserFactory()
    RoleAssignmentFactory(user=official, role="street_official", region=tree.regions[STREET2])
    client.force_login(official)
    page = client.get("/planning/", {"date": "2025-01-01"})
    assert page.status_code == 200
    assert page.context["board"].region.code == STREET2
    assert client.get("/planning/", {"region": COUNTY}).status_code == 403
    assert client.get("/planning/", {"region": C1}).status_code == 403


def test_residents_and_strangers_do_not_see_the_dashboard(client, tree):
    assert client.get("/planning/").status_code == 302
    resident = UserFactory()
    RoleAssignmentFactory(user=resident, role="resident", region=tree.regions[C1])
    client.force_login(resident)
    assert client.get("/planning/").status_code == 403


def test_api_gives_values_with_targets_and_children(
    api_client, tree, django_assert_max_num_queries
):
    api_client.force_authenticate(tree.official)
    with django_assert_max_num_queries(40):
        answer = api_client.get(
            "/api/v1/planning/indicators/",
            {"region": "990102", "date": "2025-01-01", "children": "true"},
        )
    assert answer.status_code == 200
    body = answer.json()
    assert body["region"] == {"code": COUNTY, "name": "Region 990102000000", "level": "county"}
    assert body["date"] == "2025-01-01"
    rural = next(i for i in body["indicators"] if i["code"] == "facility_coverage_rural")
    assert rural == {
        "code": "facility_coverage_rural",
        "name": "Coverage of comprehensive service facilities, rural communities (villages)",
        "section": "plan",
        "unit": "percent",
        "direction": "up",
        "verified": True,
        "computed": True,
        "value": "33.33",
        "numerator": "1.00",
        "denominator": "3.00",
        "scale": "100.00",
        "target": {"year": 2025, "value": "80.000", "region": None},
        "baseline": {"year": 2020, "value": "65.700", "region": None},
        "progress": "0.0",
        "met": False,
    }
    missing = next(i for i in body["indicators"] if i["code"] == "life_circle_5min")
    assert (missing["computed"], missing["value"], missing["numerator"], missing["target"]) == (
        False,
        None,
        None,
        None,
    )
    assert [c["region"]["code"] for c in body["children"]] == [STREET1, STREET2]
    assert body["children"][1]["values"]["facility_coverage_rural"] == "50.00"
    assert body["children"][1]["values"]["facility_coverage_urban"] is None


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"date": "yesterday"}, 400, "date"),
        ({"region": "990199"}, 404, "region"),
        ({"region": "990103"}, 403, "region"),
        ({"children": "perhaps"}, 400, "children"),
    ],
)
def test_api_refuses_bad_input_with_the_field(api_client, tree, query, status, field):
    api_client.force_authenticate(tree.official)
    answer = api_client.get("/api/v1/planning/indicators/", query)
    assert answer.status_code == status
    assert field in answer.json()["fields"]


def test_api_needs_a_planning_role(api_client, tree):
    assert api_client.get("/api/v1/planning/indicators/").status_code in (401, 403)
    resident = UserFactory()
    RoleAssignmentFactory(user=resident, role="resident", region=tree.regions[C1])
    api_client.force_authenticate(resident)
    assert api_client.get("/api/v1/planning/indicators/").status_code == 403
