import pytest
from django.db.models import Count

from linli.core.services import demo_build
from linli.directory.choices import FacilityKind, OrganizationKind
from linli.directory.models import Location, Organization, Service
from linli.directory.validators import validate_credit_code
from linli.regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(db):
    demo_build(seed=2021, scale="county", echo=lambda _text: None, show_progress=False)


def covered(kind: str) -> set[str]:
    return set(
        Location.objects.filter(kind=FacilityKind.COMPREHENSIVE, region__kind=kind).values_list(
            "region_id", flat=True
        )
    )


def test_the_county_demo_directory_is_realistic(county):
    """One test over one county build: building it costs half a minute."""
    every_credit_code_passes_its_check()
    every_service_has_a_category()
    urban = set(Region.objects.filter(kind="urban").values_list("code", flat=True))
    villages = set(Region.objects.filter(kind="rural").values_list("code", flat=True))
    assert covered("urban") == urban
    assert 0 < len(covered("rural")) < len(villages)
    clinics = set(
        Location.objects.filter(kind=FacilityKind.VILLAGE_CLINIC).values_list(
            "region_id", flat=True
        )
    )
    assert len(clinics) > len(villages) / 2
    assert Location.objects.count() >= 300
    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert kinds == set(OrganizationKind.values)
    corners_per_place = dict(
        Location.objects.filter(kind=FacilityKind.OUTDOOR_FITNESS)
        .values("region_id")
        .annotate(n=Count("id"))
        .values_list("region_id", "n")
    )
    assert len(set(corners_per_place.values())) > 1, "fitness corners are spread unevenly"
    assert len(corners_per_place) < len(urban | villages)


def every_credit_code_passes_its_check() -> None:
    for code in Organization.objects.exclude(credit_code="").values_list("credit_code", flat=True):
        validate_credit_code(code)


def every_service_has_a_category() -> None:
    from linli.directory.selectors import service_terms

    ids = list(Service.objects.values_list("id", flat=True))
    terms = service_terms(ids)
    assert all(any(kind == "category" for kind, _t in terms[i]) for i in ids)
