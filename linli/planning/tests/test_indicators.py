"""Indicator values on a hand-built tree: exact figures, roll-up by sums, as of a date,
and declarative specs (validation and computation)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.planning.indicators import compute, progress, roll_up
from linli.planning.models import Indicator
from linli.planning.services import indicator_define, indicator_spec_set
from linli.planning.specs import validate_spec

from .indicator_tree import C1, COUNTY, STREET1, STREET2, V2, build_tree

PREFIXES = {COUNTY: "990102", STREET1: "990102001", STREET2: "990102002"}


@pytest.fixture
def tree(db):
    return build_tree()


def values(day: dt.date, *codes: str) -> dict[str, dict[str, Decimal | None]]:
    indicators = Indicator.objects.filter(code__in=codes)
    figures = compute(indicators, root_prefix="990102", prefixes=PREFIXES.values(), day=day)
    return {
        code: {
            region: None if (v := figures[code][p].value) is None else v.quantize(Decimal("0.01"))
            for region, p in PREFIXES.items()
        }
        for code in codes
    }


def test_values_roll_up_as_sums_of_numerators_and_denominators(tree):
    found = values(
        dt.date(2025, 1, 1),
        "facility_coverage_urban",
        "facility_coverage_rural",
        "facility_area_per_100_households",
        "resident_activity_area_share",
        "community_workers_per_10k_urban",
        "rule_comprehensive_service_complex_min_area",
        "village_clinic_coverage",
    )
    assert found["facility_coverage_urban"] == {
        COUNTY: Decimal("50.00"),
        STREET1: Decimal("50.00"),
        STREET2: None,  # no urban community: no denominator, no value
    }
    # 1 of 3 villages, not the mean of street 1 (0 %) and street 2 (50 %).
    assert found["facility_coverage_rural"] == {
        COUNTY: Decimal("33.33"),
        STREET1: Decimal("0.00"),
        STREET2: Decimal("50.00"),
    }
    # (600 + 200 + 400) m² over 2,750 households, per 100.
    assert found["facility_area_per_100_households"] == {
        COUNTY: Decimal("43.64"),
        STREET1: Decimal("38.10"),
        STREET2: Decimal("61.54"),
    }
    # F2's activity area is unknown: left out of both sides. (400 + 300) / (600 + 400).
    assert found["resident_activity_area_share"][COUNTY] == Decimal("70.00")
    # Two workers in urban communities over 5,000 urban residents; the village's not counted.
    assert found["community_workers_per_10k_urban"][COUNTY] == Decimal("4.00")
    # Of the open facilities with a known area, only F1 has 600 m².
    assert found["rule_comprehensive_service_complex_min_area"][COUNTY] == Decimal("33.33")
    assert found["village_clinic_coverage"][COUNTY] == Decimal("0.00")


def test_figure_keeps_the_counts_behind_the_value(tree):
    indicator = Indicator.objects.get(code="facility_coverage_rural")
    figure = compute(
        [indicator], root_prefix="990102", prefixes=["990102"], day=dt.date(2025, 1, 1)
    )[indicator.code]["990102"]
    assert (figure.numerator, figure.denominator, figure.scale) == (
        Decimal(1),
        Decimal(3),
        Decimal(100),
    )


@pytest.mark.parametrize(
    ("day", "rural", "area"),
    [
        # F2 not yet open; F3 open.
        (dt.date(2022, 1, 1), Decimal("66.67"), Decimal("47.27")),
        # F2 opens on 2022-06-01: open on its opening day.
        (dt.date(2022, 6, 1), Decimal("66.67"), Decimal("54.55")),
        # F3 closes on 2024-05-01: open the day before, closed on the day.
        (dt.date(2024, 4, 30), Decimal("66.67"), Decimal("54.55")),
        (dt.date(2024, 5, 1), Decimal("33.33"), Decimal("43.64")),
    ],
)
def test_values_as_of_a_date_follow_opening_and_closing(tree, day, rural, area):
    found = values(day, "facility_coverage_rural", "facility_area_per_100_households")
    assert found["facility_coverage_rural"][COUNTY] == rural
    assert found["facility_area_per_100_households"][COUNTY] == area


def test_workers_count_from_the_day_their_role_was_granted(tree):
    found = values(dt.date(2022, 12, 31), "community_workers_per_10k_urban")
    assert found["community_workers_per_10k_urban"][COUNTY] == Decimal("0.00")


def test_indicators_without_a_computation_are_left_out(tree):
    indicators = Indicator.objects.filter(
        code__in=["sports_instructors_per_1000", "life_circle_5min"]
    )
    assert (
        compute(indicators, root_prefix="990102", prefixes=["990102"], day=dt.date(2025, 1, 1))
        == {}
    )


def test_roll_up_adds_by_prefix():
    assert roll_up(
        {"990102001001": Decimal(1), "990102001002": Decimal(2), "990102002201": Decimal(4)},
        ["990102", "990102001", "990102003"],
    ) == {"990102": Decimal(7), "990102001": Decimal(3), "990102003": Decimal(0)}


@pytest.mark.parametrize(
    ("value", "target", "baseline", "direction", "expected"),
    [
        (Decimal("73"), Decimal("80"), Decimal("65.7"), "up", (Decimal("51.0"), False)),
        (Decimal("95"), Decimal("100"), Decimal("100"), "up", (Decimal("95.0"), False)),
        (Decimal("40"), Decimal("30"), None, "up", (Decimal("100.0"), True)),
        (Decimal("60"), Decimal("65.7"), Decimal("65.7"), "up", (Decimal("91.3"), False)),
        (Decimal("20"), Decimal("10"), None, "down", (Decimal("50.0"), False)),
        (None, Decimal("10"), None, "up", (None, None)),
    ],
)
def test_progress_toward_the_target(value, target, baseline, direction, expected):
    assert progress(value, target, baseline, direction) == expected


# --- declarative specs --------------------------------------------------------------------


GOOD = {
    "numerator": {"source": "facilities", "filter": {"kind": "health_station"}},
    "denominator": {"source": "communities", "filter": {"kind": "urban"}, "aggregate": "count"},
}


def test_validate_spec_normalises():
    assert validate_spec(GOOD) == {
        "numerator": {
            "source": "facilities",
            "filter": {"kind": "health_station"},
            "aggregate": "count",
        },
        "denominator": {"source": "communities", "filter": {"kind": "urban"}, "aggregate": "count"},
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("numerator / denominator", "spec"),
        ({"numerator": GOOD["numerator"]}, "spec.denominator"),
        ({**GOOD, "code": "__import__('os')"}, "spec.code"),
        ({**GOOD, "numerator": {"source": "users"}}, "spec.numerator.source"),
        (
            {**GOOD, "numerator": {"source": "facilities", "filter": {"name": "x"}}},
            "spec.numerator.filter.name",
        ),
        (
            {**GOOD, "numerator": {"source": "facilities", "filter": {"kind": "castle"}}},
            "spec.numerator.filter.kind",
        ),
        (
            {**GOOD, "numerator": {"source": "facilities", "filter": {"min_floor_area_m2": -1}}},
            "spec.numerator.filter.min_floor_area_m2",
        ),
        (
            {**GOOD, "numerator": {"source": "facilities", "aggregate": "avg"}},
            "spec.numerator.aggregate",
        ),
        (
            {**GOOD, "numerator": {"source": "facilities", "aggregate": "sum", "field": "id"}},
            "spec.numerator.field",
        ),
        (
            {**GOOD, "numerator": {"source": "facilities", "field": "capacity"}},
            "spec.numerator.field",
        ),
        (
            {**GOOD, "denominator": {"source": "communities", "lambda": 1}},
            "spec.denominator.lambda",
        ),
    ],
)
def test_validate_spec_names_the_wrong_part(spec, field):
    with pytest.raises(ValidationFailed) as caught:
        validate_spec(spec)
    assert field in caught.value.fields


@pytest.fixture
def admin_user(db):
    user = UserFactory()
    RoleAssignmentFactory(user=user, role="system_admin", region=None)
    return user


def test_a_deployment_defines_an_indicator_without_code(tree, admin_user):
    indicator = indicator_define(
        actor=admin_user,
        code="health_stations_per_urban_community",
        name_zh="每个城市社区卫生服务站数",
        name_en="Health stations per urban community",
        unit="count",
        scale=1,
        spec=GOOD,
    )
    found = values(dt.date(2025, 1, 1), indicator.code)
    assert found[indicator.code] == {
        COUNTY: Decimal("0.50"),
        STREET1: Decimal("0.50"),
        STREET2: None,
    }


def test_defining_refuses_bad_fields_together_and_writes_nothing(tree, admin_user):
    with pytest.raises(ValidationFailed) as caught:
        indicator_define(
            actor=admin_user,
            code="facility_coverage_urban",
            name_zh="",
            unit="acres",
            scale=0,
            spec={"numerator": {"source": "sql"}},
        )
    assert set(caught.value.fields) == {
        "code",
        "name_zh",
        "unit",
        "scale",
        "spec.numerator.source",
        "spec.denominator",
    }
    assert Indicator.objects.filter(section="local").count() == 0


def test_only_a_system_administrator_defines_indicators(tree):
    with pytest.raises(PermissionDenied):
        indicator_define(actor=tree.official, code="x", name_zh="x", spec=GOOD)


def test_an_own_spec_replaces_the_built_in_one(tree, admin_user):
    indicator = Indicator.objects.get(code="facility_coverage_rural")
    # Count villages with any facility of the plan's comprehensive kind or a health station.
    indicator_spec_set(
        actor=admin_user,
        indicator=indicator,
        spec={
            "numerator": {
                "source": "communities_with_facility",
                "filter": {
                    "kind": ["comprehensive_service_facility", "village_clinic"],
                    "region_kind": "rural",
                },
            },
            "denominator": {"source": "communities", "filter": {"kind": "rural"}},
        },
    )
    assert values(dt.date(2022, 1, 1), indicator.code)[indicator.code][COUNTY] == Decimal("66.67")
    indicator_spec_set(actor=admin_user, indicator=indicator, spec=None)
    assert Indicator.objects.get(pk=indicator.pk).spec is None


def test_registered_residents_and_households_sources(tree):
    from linli.residents.services import ResidentInput, resident_register

    resident_register(
        actor=None, data=ResidentInput(name="王芳", community=tree.regions[C1], address="1号")
    )
    resident_register(
        actor=None, data=ResidentInput(name="李强", community=tree.regions[V2], address="2号")
    )
    spec = validate_spec(
        {
            "numerator": {"source": "residents", "filter": {"region_kind": "urban"}},
            "denominator": {"source": "residents"},
        }
    )
    indicator = Indicator(code="x", scale=100, spec=spec)
    figure = compute([indicator], root_prefix="990102", prefixes=["990102"], day=dt.date.today())[
        "x"
    ]["990102"]
    assert (figure.numerator, figure.denominator) == (Decimal(1), Decimal(2))
    before = compute(
        [indicator], root_prefix="990102", prefixes=["990102"], day=dt.date(2020, 1, 1)
    )
    assert before["x"]["990102"].value is None
