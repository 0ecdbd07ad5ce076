"""Life-circle and 15-minute indicators fed by accessibility runs: people within reach per
community, summed up the tree, from the newest finished run as of the date; "no data"
without one; the run named on the row; specs checked field by field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from linli.core.errors import ValidationFailed
from linli.planning import accessibility, networks, selectors
from linli.planning.indicators import compute
from linli.planning.models import Indicator
from linli.planning.specs import validate_spec
from linli.regions.models import Region

from .access_tree import COUNTY, STREET, A, B, build, facility

DAY = dt.date(2025, 6, 1)
COUNTY_PREFIX, STREET_PREFIX = "990102", "990102001"


@pytest.fixture(autouse=True)
def network_dir(settings, tmp_path):
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    settings.LINLI_PLANNING_DETOUR_FACTOR = 1.3
    settings.LINLI_PLANNING_WALK_SPEED_M_S = 1.2
    networks.clear_cache()
    yield
    networks.clear_cache()


@pytest.fixture
def tree(db):
    return build()


def figures(code: str, day: dt.date = DAY) -> dict:
    found = compute(
        Indicator.objects.filter(code=code),
        root_prefix=COUNTY_PREFIX,
        prefixes=[COUNTY_PREFIX, STREET_PREFIX, A, B],
        day=day,
    )
    return found.get(code, {})


def run(kind: str, day: dt.date = DAY):
    return accessibility.accessibility_run(
        actor=None, region_code=COUNTY_PREFIX, kind=kind, day=day
    )


def test_no_run_means_no_data(tree):
    facility(-100.0)
    assert figures("medical_circle_15min_coverage") == {}
    assert figures("life_circle_15min") == {}


def test_medical_circle_counts_people_within_the_walk_and_sums_up_the_tree(tree):
    # 100 m west of A (130 m with the detour): A's 1,000 people are within the walk; B's
    # 500 are 1,378 m away. C has no location: the run leaves it out of both sides.
    facility(-100.0)
    done = run("health_station")
    found = figures("medical_circle_15min_coverage")
    assert {p: (f.numerator, f.denominator) for p, f in found.items()} == {
        COUNTY_PREFIX: (Decimal(1000), Decimal(1500)),
        STREET_PREFIX: (Decimal(1000), Decimal(1500)),
        A: (Decimal(1000), Decimal(1000)),
        B: (Decimal(0), Decimal(500)),
    }
    assert found[COUNTY_PREFIX].value.quantize(Decimal("0.01")) == Decimal("66.67")
    assert [r.id for r in found[COUNTY_PREFIX].runs] == [done.pk]
    assert found[COUNTY_PREFIX].source_text == (
        f"run #{done.pk} of 2025-06-01, health_station (Straight line × detour factor)"
    )


def test_the_newest_run_as_of_the_date_is_used(tree):
    facility(-100.0)
    early = run("health_station", dt.date(2025, 1, 1))
    facility(1060.0, opened_on=dt.date(2025, 3, 1))  # 130 m east of B
    late = run("health_station", DAY)
    assert figures("medical_circle_15min_coverage", dt.date(2025, 2, 1))[
        COUNTY_PREFIX
    ].numerator == (Decimal(1000))
    assert [
        r.id for r in figures("medical_circle_15min_coverage", dt.date(2025, 2, 1))[A].runs
    ] == [early.pk]
    now = figures("medical_circle_15min_coverage", DAY)[COUNTY_PREFIX]
    assert (now.numerator, now.denominator, [r.id for r in now.runs]) == (
        Decimal(1500),
        Decimal(1500),
        [late.pk],
    )
    # Before the first run: no data, not 0 %.
    assert figures("medical_circle_15min_coverage", dt.date(2024, 12, 31)) == {}


def test_a_street_run_feeds_its_street_and_a_county_run_feeds_the_county(tree):
    facility(-100.0)
    street_run = accessibility.accessibility_run(
        actor=None, region_code=STREET, kind="health_station", day=DAY
    )
    found = figures("medical_circle_15min_coverage")
    assert (found[COUNTY_PREFIX].numerator, found[COUNTY_PREFIX].denominator) == (1000, 1500)
    assert [r.region for r in found[COUNTY_PREFIX].runs] == [street_run.region_id]


def test_life_circle_needs_every_kind_and_counts_the_smallest(tree):
    # The 15-minute circle's kinds Linli analyses: community health centre and nursing
    # home, at 1,000 m. Centre 130 m from A, 1,378 m from B; nursing home midway (624 m
    # from both): A is within 1 km of both, B only of the nursing home.
    facility(-100.0, kind="community_health_center")
    facility(480.0, kind="nursing_home")
    run("community_health_center")
    assert figures("life_circle_15min") == {}  # no nursing-home run yet
    run("nursing_home")
    found = figures("life_circle_15min")
    assert (found[COUNTY_PREFIX].numerator, found[COUNTY_PREFIX].denominator) == (
        Decimal(1000),
        Decimal(1500),
    )
    assert (found[B].numerator, found[B].denominator) == (Decimal(0), Decimal(500))
    assert [r.kind for r in found[COUNTY_PREFIX].runs] == [
        "community_health_center",
        "nursing_home",
    ]
    # The 10-minute circle names no kind Linli analyses: still no data.
    assert figures("life_circle_10min") == {}


def test_fitness_circle_counts_urban_communities_only(tree):
    Region.objects.filter(code=B).update(kind="rural")
    facility(-100.0, kind="outdoor_fitness")
    run("outdoor_fitness")
    found = figures("fitness_circle_15min_coverage")
    assert (found[COUNTY_PREFIX].numerator, found[COUNTY_PREFIX].denominator) == (
        Decimal(1000),
        Decimal(1000),
    )
    assert found[COUNTY_PREFIX].value == Decimal(100)


def test_the_dashboard_row_names_the_run_and_the_trend_starts_with_it(tree):
    facility(-100.0)
    done = run("health_station")
    board = selectors.dashboard(
        tree.official, region_code=COUNTY, day_text="2025-06-01", trend_count="2"
    )
    row = next(r for r in board.rows if r.indicator.code == "medical_circle_15min_coverage")
    assert (row.computed, row.value) == (True, Decimal("66.67"))
    assert row.figure is not None
    assert row.figure.source_text.startswith(f"run #{done.pk} of 2025-06-01")
    missing = next(r for r in board.rows if r.indicator.code == "life_circle_15min")
    assert missing.computed is False
    trend = {i.code: v for i, v in board.trend.rows}
    assert trend["medical_circle_15min_coverage"] == [None, None, Decimal("66.67")]
    assert "life_circle_15min" not in trend


@pytest.mark.parametrize(
    ("part", "field", "message"),
    [
        ({"filter": {}}, "spec.numerator.filter.kind", "Required"),
        ({"filter": {"kind": "spaceport"}}, "spec.numerator.filter.kind", "Not a valid value"),
        (
            {"filter": {"kind": "health_station", "distance": 700}},
            "spec.numerator.filter.distance",
            "Not a valid value",
        ),
        (
            {"filter": {"kind": "health_station"}, "aggregate": "count", "field": None},
            "spec.numerator.aggregate",
            "Use sum",
        ),
        (
            {"filter": {"kind": "health_station"}, "field": "capacity"},
            "spec.numerator.field",
            "can sum only: covered, population",
        ),
    ],
)
def test_bad_accessibility_specs_name_the_field(part, field, message):
    numerator = {"source": "accessibility", "aggregate": "sum", "field": "covered", **part}
    numerator = {k: v for k, v in numerator.items() if v is not None}
    spec = {
        "numerator": numerator,
        "denominator": {"source": "communities", "aggregate": "sum", "field": "population"},
    }
    with pytest.raises(ValidationFailed) as caught:
        validate_spec(spec)
    assert field in caught.value.fields
    assert message in caught.value.fields[field][0]


def test_a_good_accessibility_spec_is_accepted():
    spec = {
        "numerator": {
            "source": "accessibility",
            "filter": {"kind": ["health_station", "nursery"], "distance": 500},
            "aggregate": "sum",
            "field": "covered",
        },
        "denominator": {
            "source": "accessibility",
            "filter": {"kind": "health_station"},
            "aggregate": "sum",
            "field": "population",
        },
    }
    assert validate_spec(spec)["numerator"]["filter"]["distance"] == 500
