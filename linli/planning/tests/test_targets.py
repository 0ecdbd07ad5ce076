"""The shipped defaults and their loader, and which target applies where: a region's own
wins over its ancestors' and the default, year first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.planning.models import Indicator, IndicatorTarget
from linli.planning.selectors import targets_for
from linli.planning.services import target_remove, target_set
from linli.planning.targets import load_defaults, read_defaults

from .indicator_tree import COUNTY, OTHER_VILLAGE, STREET2, V2, build_tree


@pytest.fixture
def tree(db):
    return build_tree()


def test_the_migration_loaded_every_section_of_the_file(db):
    sections = dict(
        Indicator.objects.values_list("code", "section").filter(
            code__in=[
                "facility_coverage_rural",
                "childcare_places_per_1000",
                "life_circle_15min",
                "rule_comprehensive_service_complex_min_area",
            ]
        )
    )
    assert sections == {
        "facility_coverage_rural": "plan",
        "childcare_places_per_1000": "sector",
        "life_circle_15min": "life_circle",
        "rule_comprehensive_service_complex_min_area": "facility_rule",
    }
    assert Indicator.objects.count() == 19
    rural = Indicator.objects.get(code="facility_coverage_rural")
    assert (rural.verified, rural.unit, rural.scale, rural.direction) == (
        True,
        "percent",
        Decimal(100),
        "up",
    )
    assert sorted(rural.targets.values_list("year", "value", "is_baseline", "region")) == [
        (2020, Decimal("65.700"), True, None),
        (2025, Decimal("80.000"), False, None),
    ]
    workers = Indicator.objects.get(code="community_workers_per_10k_urban")
    assert (workers.verified, workers.scale) == (False, Decimal(10000))
    assert Indicator.objects.get(code="facility_area_per_100_households").scale == Decimal(100)
    circle = Indicator.objects.get(code="life_circle_15min")
    assert circle.details["walk_m"] == 1000
    rule = Indicator.objects.get(code="rule_comprehensive_service_complex_min_area")
    assert rule.spec is not None
    assert rule.spec["numerator"]["filter"] == {
        "kind": "comprehensive_service_facility",
        "min_floor_area_m2": 600,
    }


def test_loading_again_changes_nothing_and_keeps_the_deployments_own(tree):
    rural = Indicator.objects.get(code="facility_coverage_rural")
    own = IndicatorTarget.objects.create(
        indicator=rural, region=tree.regions[COUNTY], year=2025, value=Decimal(90)
    )
    rule = Indicator.objects.get(code="rule_community_health_station_min_area")
    assert rule.spec is not None
    rule.spec = {**rule.spec, "numerator": {"source": "facilities", "aggregate": "count"}}
    rule.save()
    before = IndicatorTarget.objects.count()
    counts = load_defaults(Indicator, IndicatorTarget)
    assert counts == {"created": 0, "updated": 19, "targets": 17}
    assert IndicatorTarget.objects.count() == before
    assert IndicatorTarget.objects.get(pk=own.pk).value == Decimal(90)
    assert (Indicator.objects.get(pk=rule.pk).spec or {})["numerator"] == {
        "source": "facilities",
        "aggregate": "count",
    }


def test_a_changed_default_target_is_rewritten_and_a_dropped_one_removed(db):
    defaults = read_defaults()
    rural = next(d for d in defaults if d.code == "facility_coverage_rural")
    rural.targets = [(2025, Decimal(85), False)]
    load_defaults(Indicator, IndicatorTarget, defaults)
    assert list(
        IndicatorTarget.objects.filter(indicator__code="facility_coverage_rural").values_list(
            "year", "value", "is_baseline"
        )
    ) == [(2025, Decimal("85.000"), False)]


def _applies(code: str, region: str, year: int) -> tuple[Decimal | None, Decimal | None]:
    indicator = Indicator.objects.get(code=code)
    target, baseline = targets_for([indicator], region, year)[indicator.pk]
    return (target.value if target else None, baseline.value if baseline else None)


def test_a_regions_own_target_wins_over_its_ancestors_and_the_default(tree):
    rural = Indicator.objects.get(code="facility_coverage_rural")
    assert _applies(rural.code, V2, 2025) == (Decimal(80), Decimal("65.7"))
    IndicatorTarget.objects.create(
        indicator=rural, region_id="990000000000", year=2025, value=Decimal(85)
    )
    assert _applies(rural.code, V2, 2025)[0] == Decimal(85)
    IndicatorTarget.objects.create(indicator=rural, region_id=COUNTY, year=2025, value=Decimal(90))
    assert _applies(rural.code, V2, 2025)[0] == Decimal(90)
    assert _applies(rural.code, COUNTY, 2025)[0] == Decimal(90)
    # The neighbouring county has only the province's.
    assert _applies(rural.code, OTHER_VILLAGE, 2025)[0] == Decimal(85)
    IndicatorTarget.objects.create(indicator=rural, region_id=STREET2, year=2025, value=Decimal(95))
    assert _applies(rural.code, V2, 2025)[0] == Decimal(95)
    assert _applies(rural.code, COUNTY, 2025)[0] == Decimal(90)
    # A local baseline too.
    IndicatorTarget.objects.create(
        indicator=rural, region_id=COUNTY, year=2020, value=Decimal(50), is_baseline=True
    )
    assert _applies(rural.code, V2, 2025)[1] == Decimal(50)


def test_the_year_decides_first(tree):
    rural = Indicator.objects.get(code="facility_coverage_rural")
    IndicatorTarget.objects.create(indicator=rural, region_id=COUNTY, year=2023, value=Decimal(70))
    # 2023: the county's own target for 2023; 2024: the next target year is 2025 (default).
    assert _applies(rural.code, V2, 2023)[0] == Decimal(70)
    assert _applies(rural.code, V2, 2024)[0] == Decimal(80)
    # After the plan's horizon the last target still applies.
    assert _applies(rural.code, V2, 2026)[0] == Decimal(80)
    # No baseline before the first one: the earliest is shown.
    assert _applies(rural.code, V2, 2019)[1] == Decimal("65.7")


def test_an_official_sets_targets_for_their_area_only(tree):
    rural = Indicator.objects.get(code="facility_coverage_rural")
    row = target_set(
        actor=tree.official,
        indicator=rural,
        region=tree.regions[STREET2],
        year="2025",
        value="88.5",
    )
    assert (row.value, row.set_by) == (Decimal("88.5"), tree.official)
    again = target_set(
        actor=tree.official, indicator=rural, region=tree.regions[STREET2], year=2025, value=89
    )
    assert again.pk == row.pk
    assert again.value == Decimal(89)
    other = tree.regions[COUNTY].__class__.objects.get(code=OTHER_VILLAGE)
    with pytest.raises(PermissionDenied):
        target_set(actor=tree.official, indicator=rural, region=other, year=2025, value=90)
    with pytest.raises(PermissionDenied):
        target_set(actor=tree.official, indicator=rural, region=None, year=2025, value=90)
    with pytest.raises(ValidationFailed) as caught:
        target_set(
            actor=tree.official, indicator=rural, region=tree.regions[V2], year="soon", value="x"
        )
    assert set(caught.value.fields) == {"year", "value"}
    target_remove(actor=tree.official, target=again)
    assert not IndicatorTarget.objects.filter(pk=row.pk).exists()


def test_a_community_worker_sets_no_targets(tree):
    worker = UserFactory()
    RoleAssignmentFactory(user=worker, role="community_worker", region=tree.regions[V2])
    rural = Indicator.objects.get(code="facility_coverage_rural")
    with pytest.raises(PermissionDenied):
        target_set(actor=worker, indicator=rural, region=tree.regions[V2], year=2025, value=90)


def test_the_admin_checks_a_typed_computation(client, db):
    admin_user = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    form = {
        "code": "nurseries_per_village",
        "name_zh": "每村托育机构数",
        "section": "local",
        "unit": "count",
        "direction": "up",
        "scale": "1",
        "spec": '{"numerator": {"source": "facilities", "filter": {"kind": "castle"}}}',
        "details": "{}",
        "origin": "deployment",
        "order": "0",
        "active": "on",
    }
    refused = client.post("/admin/planning/indicator/add/", form)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "spec.numerator.filter.kind" in html
    assert "spec.denominator" in html
    assert not Indicator.objects.filter(code="nurseries_per_village").exists()
    form["spec"] = (
        '{"numerator": {"source": "facilities", "filter": {"kind": "nursery"}},'
        ' "denominator": {"source": "communities", "filter": {"kind": "rural"}}}'
    )
    assert client.post("/admin/planning/indicator/add/", form).status_code == 302
    assert Indicator.objects.get(code="nurseries_per_village").spec == {
        "numerator": {"source": "facilities", "filter": {"kind": "nursery"}, "aggregate": "count"},
        "denominator": {"source": "communities", "filter": {"kind": "rural"}, "aggregate": "count"},
    }
