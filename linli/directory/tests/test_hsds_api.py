"""The HSDS 3.0 read API at /hsds/: bodies against the HSDS schemas, filters, pages, errors."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

# No stubs ship for jsonschema, and pyproject.toml (not this file) lists the ignored ones.
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from rest_framework.test import APIClient

from linli.directory.choices import AttributeLinkType, FacilityKind, ServiceStatus
from linli.directory.hsds.spec import SCHEMA_DIR
from linli.directory.models import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid

from .factories import (
    AccessibilityFactory,
    AddressFactory,
    AttributeFactory,
    ContactFactory,
    CostOptionFactory,
    FundingFactory,
    LanguageFactory,
    LocationFactory,
    OrganizationFactory,
    OrganizationIdentifierFactory,
    PhoneFactory,
    ProgramFactory,
    RequiredDocumentFactory,
    ScheduleFactory,
    ServiceAreaFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyFactory,
    TaxonomyTermFactory,
)

pytestmark = pytest.mark.django_db

# --- validating against the HSDS schemas ----------------------------------------------------

# jsonschema checks `uri` and `date-time` only with optional packages; these are stricter
# than nothing and need none: an absolute URI without spaces, an RFC 3339 time with a zone.
FORMATS = FormatChecker()


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path) and " " not in value)


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value and parsed.tzinfo is not None


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def registry() -> Registry:
    # The plain schemas refer to each other by bare file name ("$ref": "taxonomy.json").
    return Registry().with_resources(
        (name, Resource.from_contents(schema(name), default_specification=DRAFT202012))
        for name in ("taxonomy.json", "taxonomy_term.json", "metadata.json")
    )


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), registry=registry(), format_checker=FORMATS)


def only_hsds_fields(instance: Any, node: dict[str, Any], where: str = "") -> None:
    """No key that the HSDS schema does not define: Linli's own fields stay out."""
    if "$ref" in node:
        node = schema(node["$ref"])
    if isinstance(instance, dict) and "properties" in node:
        extra = set(instance) - set(node["properties"])
        assert not extra, f"{where or '/'} has fields HSDS does not define: {sorted(extra)}"
        for key, value in instance.items():
            only_hsds_fields(value, node["properties"][key], f"{where}/{key}")
    elif isinstance(instance, list) and "items" in node:
        for i, item in enumerate(instance):
            only_hsds_fields(item, node["items"], f"{where}/{i}")


def assert_hsds(instance: Any, name: str) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    only_hsds_fields(instance, schema(name))


PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


def assert_hsds_page(body: dict[str, Any], item_schema: str) -> None:
    page_schema = schema("openapi.json")["components"]["schemas"]["Page"]
    assert set(body) == PAGE_KEYS
    errors = list(Draft202012Validator(page_schema).iter_errors(body))
    assert not errors, errors
    assert isinstance(body["contents"], list)
    for item in body["contents"]:
        assert_hsds(item, item_schema)


def ndjson_lines(response) -> list[dict[str, Any]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.splitlines()]


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["contents"]]


def get(api: APIClient, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.get(url, params or {})
    assert response.status_code == 200, response.content
    return response.json()


# --- the directory the tests read ---------------------------------------------------------


@dataclass
class World:
    org: Organization
    other_org: Organization
    meal_named: Service  # 助餐 in its name
    meal_described: Service  # 助餐 in its description
    meal_term: Service  # filed under 助餐 (elderly_meals), the word nowhere in its text
    childcare: Service
    defunct: Service
    canteen: Location  # postcode 310001
    near: Location  # 500 m north, postcode 310002
    far: Location  # 20 km north, postcode 310009
    at_canteen: ServiceAtLocation
    at_near: ServiceAtLocation
    at_far: ServiceAtLocation


def term(code: str) -> TaxonomyTerm:
    return TaxonomyTerm.objects.get(code=code, taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY))


def full_location(location: Location, postcode: str) -> Location:
    AddressFactory.create(location=location, postal_code=postcode)
    AccessibilityFactory.create(location=location)
    ScheduleFactory.create(location=location)
    LanguageFactory.create(location=location)
    phone = PhoneFactory.create(location=location)
    LanguageFactory.create(phone=phone)
    contact = ContactFactory.create(location=location)
    PhoneFactory.create(contact=contact)
    return location


def full_service(service: Service) -> Service:
    phone = PhoneFactory.create(service=service, extension=12)
    LanguageFactory.create(phone=phone)
    ScheduleFactory.create(service=service)
    ServiceAreaFactory.create(service=service)
    LanguageFactory.create(service=service)
    FundingFactory.create(service=service)
    CostOptionFactory.create(service=service)
    RequiredDocumentFactory.create(service=service)
    contact = ContactFactory.create(service=service)
    PhoneFactory.create(contact=contact)
    return service


def full_at_location(row: ServiceAtLocation) -> ServiceAtLocation:
    contact = ContactFactory.create(service_at_location=row)
    PhoneFactory.create(contact=contact)
    PhoneFactory.create(service_at_location=row)
    ScheduleFactory.create(service_at_location=row)
    return row


@pytest.fixture
def world(taxonomy) -> World:
    parent = OrganizationFactory.create(name="邻里区民政局")
    org = OrganizationFactory.create(
        name="邻里社工服务中心",
        alternate_name="邻里社工",
        year_incorporated=2015,
        legal_status="民办非企业单位",
        parent_organization=parent,
        credit_code="52330100MJ8800000X",
        kind="social_organization",
        verified=True,
    )
    OrganizationIdentifierFactory.create(organization=org)
    FundingFactory.create(organization=org)
    PhoneFactory.create(organization=org)
    contact = ContactFactory.create(organization=org)
    PhoneFactory.create(contact=contact)
    program = ProgramFactory.create(organization=org, name="长者关爱计划")
    AttributeFactory.create(record=org, taxonomy_term=term("elderly_care"))
    other_org = OrganizationFactory.create(name="阳光托育中心", description="")

    canteen = full_location(
        LocationFactory.create(
            organization=org,
            name="幸福里长者食堂",
            latitude=30.0,
            longitude=120.0,
            kind=FacilityKind.ELDERLY_CANTEEN,
            floor_area_m2=200,
            capacity=80,
        ),
        "310001",
    )
    AttributeFactory.create(record=canteen, taxonomy_term=term("elderly_meals"))
    near = full_location(
        LocationFactory.create(
            organization=org, name="和睦社区服务站", latitude=30.0045, longitude=120.0
        ),
        "310002",
    )
    far = full_location(
        LocationFactory.create(
            organization=other_org, name="远郊托育点", latitude=30.18, longitude=120.0
        ),
        "310009",
    )

    meal_named = full_service(
        ServiceFactory.create(
            organization=org,
            program=program,
            name="长者助餐服务",
            description="每日中午供应",
            url="https://example.org/meals",
            email="meals@example.org",
            minimum_age=60,
            assured_date=dt.date(2025, 3, 1),
            fee_amount=12,
            alert="春节暂停三天",
        )
    )
    meal_described = ServiceFactory.create(
        organization=other_org, name="社区食堂", description="为高龄老人提供助餐和送餐上门"
    )
    meal_term = ServiceFactory.create(organization=org, name="幸福午餐", description="中午供应热食")
    AttributeFactory.create(record=meal_term, taxonomy_term=term("elderly_meals"))
    AttributeFactory.create(
        record=meal_term,
        taxonomy_term=TaxonomyTerm.objects.get(code="elderly_living_alone"),
        link_type=AttributeLinkType.ELIGIBILITY,
    )
    childcare = ServiceFactory.create(
        organization=other_org, name="四点半课堂", description="课后托管"
    )
    AttributeFactory.create(record=childcare, taxonomy_term=term("childcare_after_school"))
    defunct = ServiceFactory.create(
        organization=org, name="旧日间照料", description="已停办", status=ServiceStatus.DEFUNCT
    )

    at_canteen = full_at_location(
        ServiceAtLocationFactory.create(service=meal_named, location=canteen)
    )
    AttributeFactory.create(record=at_canteen, taxonomy_term=term("elderly_meals"))
    at_near = ServiceAtLocationFactory.create(service=meal_term, location=near)
    at_far = ServiceAtLocationFactory.create(service=childcare, location=far)
    return World(
        org=org,
        other_org=other_org,
        meal_named=meal_named,
        meal_described=meal_described,
        meal_term=meal_term,
        childcare=childcare,
        defunct=defunct,
        canteen=canteen,
        near=near,
        far=far,
        at_canteen=at_canteen,
        at_near=at_near,
        at_far=at_far,
    )


@pytest.fixture
def api() -> APIClient:
    # Anonymous, and checking CSRF as a browser session would be: none must be needed.
    return APIClient(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)


# --- the root and the OpenAPI document ----------------------------------------------------


def test_root_names_version_profile_and_local_openapi(api):
    body = get(api, "/hsds/")
    root = schema("openapi.json")["paths"]["/"]["get"]["responses"]["200"]
    root_schema = root["content"]["application/json"]["schema"]
    assert not list(Draft202012Validator(root_schema, format_checker=FORMATS).iter_errors(body))
    assert set(body) == set(root_schema["properties"])
    assert body["version"] == "3.0"
    assert urlsplit(body["profile"]).scheme == "https"
    assert body["openapi_url"] == "http://testserver/hsds/openapi.json"


def test_openapi_document_refers_only_to_local_schemas_that_are_served(api):
    response = api.get("/hsds/openapi.json")
    assert response.status_code == 200
    assert "raw.githubusercontent" not in response.content.decode()
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert "REQUIRED" not in document["info"]["title"]
    assert document["servers"] == [{"url": "http://testserver/hsds"}]
    refs = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and not value.startswith("#"):
                    refs.add(value)
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    assert refs
    for ref in refs:
        assert ref.startswith("http://testserver/hsds/schema/"), ref
        served = api.get(ref.removeprefix("http://testserver"))
        assert served.status_code == 200, ref
        assert json.loads(b"".join(served.streaming_content))["type"] == "object"
    single = document["paths"]["/service_at_locations/{id}"]["get"]["responses"]["200"]
    assert single["content"]["application/json"]["schema"]["$ref"].endswith(
        "/schema/compiled/service_at_location.json"
    )


@pytest.mark.parametrize("name", ["openapi.json", "nothing.json", "compiled/nothing.json"])
def test_unknown_schema_files_are_not_found(api, name):
    response = api.get(f"/hsds/schema/{name}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- every body against the HSDS schemas --------------------------------------------------

LIST_FORMS = [
    ("/hsds/services", {}, "compiled/service_list.json"),
    ("/hsds/services", {"minimal": "true"}, "compiled/service_list.json"),
    ("/hsds/services", {"full": "true"}, "compiled/service.json"),
    ("/hsds/organizations", {}, "compiled/organization_list.json"),
    ("/hsds/organizations", {"full": "true"}, "compiled/organization.json"),
    ("/hsds/organizations", {"full_service": "true"}, "compiled/organization.json"),
    ("/hsds/service_at_locations", {}, "compiled/service_at_location_list.json"),
    ("/hsds/service_at_locations", {"full": "true"}, "compiled/service_at_location.json"),
    ("/hsds/taxonomies", {}, "taxonomy.json"),
    ("/hsds/taxonomy_terms", {}, "taxonomy_term.json"),
]


@pytest.mark.parametrize(("url", "params", "item_schema"), LIST_FORMS)
def test_list_pages_follow_the_hsds_schemas(api, world, url, params, item_schema):
    body = get(api, url, {**params, "per_page": 1000})
    assert body["contents"]
    assert_hsds_page(body, item_schema)


@pytest.mark.parametrize(("url", "params", "item_schema"), LIST_FORMS)
def test_ndjson_lines_follow_the_hsds_schemas(api, world, url, params, item_schema):
    lines = ndjson_lines(api.get(url, {**params, "format": "ndjson"}))
    paged = get(api, url, {**params, "per_page": 1000})
    assert lines == paged["contents"]
    for line in lines:
        assert_hsds(line, item_schema)


def test_single_records_follow_the_hsds_schemas(api, world):
    service = get(api, f"/hsds/services/{world.meal_named.id}")
    assert_hsds(service, "compiled/service.json")
    organization = get(api, f"/hsds/organizations/{world.org.id}")
    assert_hsds(organization, "compiled/organization.json")
    with_services = get(api, f"/hsds/organizations/{world.org.id}", {"full_service": "true"})
    assert_hsds(with_services, "compiled/organization.json")
    row = get(api, f"/hsds/service_at_locations/{world.at_canteen.id}")
    assert_hsds(row, "compiled/service_at_location.json")
    taxonomy_ = get(api, f"/hsds/taxonomies/{taxonomy_uuid(SERVICES_TAXONOMY)}")
    assert_hsds(taxonomy_, "taxonomy.json")
    term_ = get(api, f"/hsds/taxonomy_terms/{term('elderly_meals').id}")
    assert_hsds(term_, "taxonomy_term.json")


def test_sparse_records_follow_the_schemas_too(api, taxonomy):
    # Nothing but what the models require: empty texts and missing links are left out.
    service = ServiceFactory.create(organization=None, description="", name="空白服务")
    row = ServiceAtLocationFactory.create(
        service=service, location=LocationFactory.create(organization=None)
    )
    organization = OrganizationFactory.create(description="", email="", website="")
    bare_term = TaxonomyTermFactory.create(taxonomy_ref=None, description="", language="")
    assert_hsds(get(api, f"/hsds/services/{service.id}"), "compiled/service.json")
    assert_hsds(
        get(api, f"/hsds/service_at_locations/{row.id}"), "compiled/service_at_location.json"
    )
    assert_hsds(get(api, f"/hsds/organizations/{organization.id}"), "compiled/organization.json")
    assert_hsds(get(api, f"/hsds/taxonomy_terms/{bare_term.id}"), "taxonomy_term.json")
    listed = get(api, "/hsds/services", {"search": "空白服务"})["contents"]
    assert listed == [
        {
            "id": str(service.id),
            "name": "空白服务",
            "status": "active",
            "last_modified": listed[0]["last_modified"],
        }
    ]


# --- what the bodies hold -----------------------------------------------------------------


def test_full_service_carries_everything_about_it(api, world):
    body = get(api, f"/hsds/services/{world.meal_named.id}")
    assert body["id"] == str(world.meal_named.id)
    assert body["organization"]["name"] == "邻里社工服务中心"
    assert body["program"]["name"] == "长者关爱计划"
    assert body["minimum_age"] == 60
    assert body["assured_date"] == "2025-03-01"
    assert body["last_modified"].endswith("Z")
    for key in ("phones", "schedules", "service_areas", "languages", "funding", "cost_options"):
        assert len(body[key]) == 1, key
    assert body["phones"][0]["extension"] == 12
    assert len(body["phones"][0]["languages"]) == 1
    assert body["cost_options"][0]["amount"] == 12.5
    assert body["schedules"][0]["opens_at"] == "08:30:00"
    assert len(body["contacts"][0]["phones"]) == 1
    [row] = body["service_at_locations"]
    assert row["location"]["name"] == "幸福里长者食堂"
    assert row["location"]["addresses"][0]["postal_code"] == "310001"
    assert row["location"]["accessibility"][0]["details"] == "ramp"
    assert [a["taxonomy_term"]["code"] for a in row["location"]["attributes"]] == ["elderly_meals"]
    assert [a["taxonomy_term"]["code"] for a in row["attributes"]] == ["elderly_meals"]
    assert len(row["contacts"]) == len(row["phones"]) == len(row["schedules"]) == 1
    # Linli's own columns are not HSDS fields and are not published.
    assert "fee_amount" not in body


def test_attributes_carry_their_term_and_its_taxonomy(api, world):
    body = get(api, f"/hsds/services/{world.meal_term.id}")
    by_type = {a["link_type"]: a for a in body["attributes"]}
    category = by_type["category"]
    assert category["link_entity"] == "service"
    assert category["link_id"] == str(world.meal_term.id)
    assert category["taxonomy_term"]["name"] == "助餐"
    assert category["taxonomy_term"]["parent_id"] == str(term("elderly_care").id)
    assert category["taxonomy_term"]["taxonomy_detail"]["id"] == str(
        taxonomy_uuid(SERVICES_TAXONOMY)
    )
    assert by_type["eligibility"]["taxonomy_term"]["code"] == "elderly_living_alone"


def test_organization_carries_its_locations_programmes_and_services(api, world):
    body = get(api, f"/hsds/organizations/{world.org.id}")
    assert body["parent_organization_id"] == str(world.org.parent_organization_id)
    assert {x["name"] for x in body["locations"]} == {"和睦社区服务站", "幸福里长者食堂"}
    assert [x["name"] for x in body["programs"]] == ["长者关爱计划"]
    assert body["organization_identifiers"][0]["identifier_type"] == "unified social credit code"
    assert [a["taxonomy_term"]["code"] for a in body["attributes"]] == ["elderly_care"]
    assert {x["name"] for x in body["services"]} == {"幸福午餐", "旧日间照料", "长者助餐服务"}
    assert all("phones" not in x for x in body["services"])
    full = get(api, f"/hsds/organizations/{world.org.id}", {"full_service": "true"})
    meals = next(x for x in full["services"] if x["id"] == str(world.meal_named.id))
    assert meals["service_at_locations"][0]["location"]["name"] == "幸福里长者食堂"
    assert "organization" not in meals


def test_service_at_location_carries_its_facility_and_service(api, world):
    listed = get(api, "/hsds/service_at_locations", {"postcode": "310001"})
    [row] = listed["contents"]
    assert row["location"]["name"] == "幸福里长者食堂"
    assert row["service"]["organization"]["name"] == "邻里社工服务中心"
    single = get(api, f"/hsds/service_at_locations/{world.at_canteen.id}")
    assert single["service"]["name"] == "长者助餐服务"
    assert len(single["service"]["phones"]) == 1
    assert "service_at_locations" not in single["service"]
    assert single["location"]["addresses"][0]["postal_code"] == "310001"
    assert len(single["contacts"]) == 1


def test_defunct_services_are_listed_with_their_status(api, world):
    body = get(api, "/hsds/services", {"search": "旧日间照料"})
    assert [(x["id"], x["status"]) for x in body["contents"]] == [
        (str(world.defunct.id), "defunct")
    ]


def test_minimal_services_are_just_ids_names_statuses_and_times(api, world):
    body = get(api, "/hsds/services", {"minimal": "true", "per_page": 1000})
    assert {tuple(sorted(x)) for x in body["contents"]} == {
        ("id", "last_modified", "name", "status")
    }
    assert body["total_items"] == Service.objects.count()


# --- search -------------------------------------------------------------------------------


def test_chinese_search_finds_names_descriptions_and_terms(api, world):
    found = set(ids(get(api, "/hsds/services", {"search": "助餐"})))
    assert found == {
        str(world.meal_named.id),
        str(world.meal_described.id),
        str(world.meal_term.id),
    }


@pytest.mark.parametrize("query", ["elderly_meals", "Meal assistance", "养老"])
def test_search_finds_services_by_term_code_english_name_or_parent_term(api, world, query):
    # 养老 is in 养老服务 (elderly_care), the parent of 助餐: its services are found too.
    found = set(ids(get(api, "/hsds/services", {"search": query})))
    assert str(world.meal_term.id) in found
    assert str(world.childcare.id) not in found
    assert str(world.meal_described.id) not in found


def test_search_words_must_all_match(api, world):
    assert ids(get(api, "/hsds/services", {"search": "助餐  长者"})) == [str(world.meal_named.id)]
    assert ids(get(api, "/hsds/services", {"search": "助餐 托管"})) == []


def test_search_finds_services_by_their_organization(api, world):
    found = set(ids(get(api, "/hsds/services", {"search": "阳光托育"})))
    assert found == {str(world.meal_described.id), str(world.childcare.id)}


def test_search_of_services_at_locations_looks_at_facility_and_service(api, world):
    assert ids(get(api, "/hsds/service_at_locations", {"search": "和睦"})) == [
        str(world.at_near.id)
    ]
    assert set(ids(get(api, "/hsds/service_at_locations", {"search": "助餐"}))) == {
        str(world.at_canteen.id),
        str(world.at_near.id),
    }


def test_search_of_organizations_taxonomies_and_terms(api, world):
    assert ids(get(api, "/hsds/organizations", {"search": "社工"})) == [str(world.org.id)]
    assert ids(get(api, "/hsds/taxonomies", {"search": "社区服务"})) == [
        str(taxonomy_uuid(SERVICES_TAXONOMY))
    ]
    assert ids(get(api, "/hsds/taxonomy_terms", {"search": "助餐"})) == [
        str(term("elderly_meals").id)
    ]
    assert ids(get(api, "/hsds/taxonomy_terms", {"search": "meal assistance"})) == [
        str(term("elderly_meals").id)
    ]


# --- filters ------------------------------------------------------------------------------


def test_filter_by_taxonomy_term(api, world):
    meals = term("elderly_meals")
    assert set(ids(get(api, "/hsds/services", {"taxonomy_term_id": meals.id}))) == {
        str(world.meal_term.id)
    }
    assert ids(get(api, "/hsds/service_at_locations", {"taxonomy_term_id": meals.id})) == [
        str(world.at_near.id)
    ]


def test_filter_by_a_parent_term_includes_the_terms_below_it(api, world):
    elderly = term("elderly_care")
    assert ids(get(api, "/hsds/services", {"taxonomy_term_id": elderly.id})) == [
        str(world.meal_term.id)
    ]


def test_filter_by_taxonomy(api, world):
    other = TaxonomyFactory.create()
    tagged = ServiceFactory.create(name="另一分类的服务")
    AttributeFactory.create(
        record=tagged, taxonomy_term=TaxonomyTermFactory.create(taxonomy_ref=other)
    )
    assert ids(get(api, "/hsds/services", {"taxonomy_id": other.id})) == [str(tagged.id)]
    in_shipped = set(
        ids(get(api, "/hsds/services", {"taxonomy_id": taxonomy_uuid(SERVICES_TAXONOMY)}))
    )
    assert in_shipped == {str(world.meal_term.id), str(world.childcare.id)}
    assert ids(get(api, "/hsds/services", {"taxonomy_id": uuid.uuid4()})) == []


def test_filter_by_organization(api, world):
    found = ids(get(api, "/hsds/services", {"organization_id": world.other_org.id}))
    assert set(found) == {str(world.meal_described.id), str(world.childcare.id)}
    rows = ids(get(api, "/hsds/service_at_locations", {"organization_id": world.other_org.id}))
    assert rows == [str(world.at_far.id)]


def test_filter_by_modification_time_is_inclusive(api, world):
    cut = timezone.now() + dt.timedelta(days=1)
    Service.objects.filter(id=world.childcare.id).update(last_modified=cut)
    assert ids(get(api, "/hsds/services", {"modified_after": cut.isoformat()})) == [
        str(world.childcare.id)
    ]
    later = (cut + dt.timedelta(seconds=1)).isoformat()
    assert ids(get(api, "/hsds/services", {"modified_after": later})) == []


def test_modified_after_on_services_at_locations_sees_a_changed_facility(api, world):
    cut = timezone.now() + dt.timedelta(days=1)
    Location.objects.filter(id=world.near.id).update(last_modified=cut)
    found = ids(get(api, "/hsds/service_at_locations", {"modified_after": cut.isoformat()}))
    assert found == [str(world.at_near.id)]


def test_modified_after_accepts_an_offset_whose_plus_became_a_space(api, world):
    cut = timezone.localtime(timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    Service.objects.filter(id=world.childcare.id).update(last_modified=cut)
    unencoded = cut.isoformat().replace("+", " ")
    assert ids(get(api, "/hsds/services", {"modified_after": unencoded})) == [
        str(world.childcare.id)
    ]


def test_filters_combine_as_and(api, world):
    meals = term("elderly_meals")
    params = {"taxonomy_term_id": meals.id, "organization_id": world.org.id, "search": "午餐"}
    assert ids(get(api, "/hsds/services", params)) == [str(world.meal_term.id)]
    assert ids(get(api, "/hsds/services", {**params, "organization_id": world.other_org.id})) == []
    assert ids(get(api, "/hsds/services", {**params, "search": "课堂"})) == []
    cut = timezone.now() + dt.timedelta(days=1)
    assert ids(get(api, "/hsds/services", {**params, "modified_after": cut.isoformat()})) == []
    Service.objects.filter(id=world.meal_term.id).update(last_modified=cut)
    assert ids(get(api, "/hsds/services", {**params, "modified_after": cut.isoformat()})) == [
        str(world.meal_term.id)
    ]
    rows = {**params, "postcode": "310001", "proximity": 1000}
    assert ids(get(api, "/hsds/service_at_locations", rows)) == [str(world.at_near.id)]
    assert ids(get(api, "/hsds/service_at_locations", {**rows, "proximity": 100})) == []


def test_filter_by_postcode(api, world):
    assert ids(get(api, "/hsds/service_at_locations", {"postcode": "310002"})) == [
        str(world.at_near.id)
    ]
    assert ids(get(api, "/hsds/service_at_locations", {"postcode": "000000"})) == []


def test_proximity_is_metres_from_the_postcode_centre_nearest_first(api, world):
    near_first = ids(
        get(api, "/hsds/service_at_locations", {"postcode": "310001", "proximity": "1000"})
    )
    assert near_first == [str(world.at_canteen.id), str(world.at_near.id)]
    only_here = {"postcode": "310001", "proximity": "100"}
    assert ids(get(api, "/hsds/service_at_locations", only_here)) == [str(world.at_canteen.id)]
    everything = {"postcode": "310001", "proximity": "25000"}
    assert ids(get(api, "/hsds/service_at_locations", everything))[-1] == str(world.at_far.id)
    unknown = {"postcode": "000000", "proximity": "25000"}
    assert ids(get(api, "/hsds/service_at_locations", unknown)) == []


def test_taxonomy_term_filters(api, world):
    shipped = taxonomy_uuid(SERVICES_TAXONOMY)
    elderly = term("elderly_care")
    under_elderly = get(api, "/hsds/taxonomy_terms", {"parent_id": elderly.id})
    assert {x["code"] for x in under_elderly["contents"]} == set(
        elderly.children.values_list("code", flat=True)
    )
    top = get(api, "/hsds/taxonomy_terms", {"top_only": "true", "taxonomy_id": shipped})
    assert {x["code"] for x in top["contents"]} == set(
        TaxonomyTerm.objects.filter(taxonomy_ref_id=shipped, parent=None).values_list(
            "code", flat=True
        )
    )
    assert "elderly_care" in {x["code"] for x in top["contents"]}
    assert all("parent_id" not in x for x in top["contents"])
    in_shipped = get(api, "/hsds/taxonomy_terms", {"taxonomy_id": shipped, "per_page": 1000})
    assert in_shipped["total_items"] == TaxonomyTerm.objects.filter(taxonomy_ref_id=shipped).count()
    both = {"parent_id": elderly.id, "search": "助餐"}
    assert ids(get(api, "/hsds/taxonomy_terms", both)) == [str(term("elderly_meals").id)]


# --- pages --------------------------------------------------------------------------------


def test_pages_cover_every_service_once_in_name_order(api, taxonomy):
    for n in range(7):
        ServiceFactory.create(name=f"服务{n}")
    seen = []
    for number, size in ((1, 3), (2, 3), (3, 1)):
        body = get(api, "/hsds/services", {"page": number, "per_page": 3})
        assert body["total_items"] == 7
        assert body["total_pages"] == 3
        assert body["page_number"] == number
        assert body["size"] == size == len(body["contents"])
        assert body["first_page"] is (number == 1)
        assert body["last_page"] is (number == 3)
        assert body["empty"] is False
        seen += [x["name"] for x in body["contents"]]
    assert seen == [f"服务{n}" for n in range(7)]


def test_a_page_beyond_the_last_is_empty(api, taxonomy):
    ServiceFactory.create()
    body = get(api, "/hsds/services", {"page": 5, "per_page": 10})
    assert body == {
        "total_items": 1,
        "total_pages": 1,
        "page_number": 5,
        "size": 0,
        "first_page": False,
        "last_page": True,
        "empty": True,
        "contents": [],
    }


def test_no_results_is_an_empty_first_page(api, taxonomy):
    body = get(api, "/hsds/services", {"search": "不存在的服务"})
    assert body["total_items"] == 0
    assert body["empty"] is True
    assert body["first_page"] is True
    assert body["last_page"] is True


def test_default_page_size_is_fifty(api, taxonomy):
    ServiceFactory.create_batch(51)
    body = get(api, "/hsds/services")
    assert body["size"] == 50
    assert body["total_pages"] == 2


def test_ndjson_streams_every_result_without_pages(api, taxonomy):
    ServiceFactory.create_batch(7)
    lines = ndjson_lines(api.get("/hsds/services", {"format": "ndjson", "per_page": 2}))
    assert len(lines) == 7
    assert [x["name"] for x in lines] == sorted(x["name"] for x in lines)


def test_ndjson_of_nothing_is_empty(api, taxonomy):
    assert ndjson_lines(api.get("/hsds/services", {"format": "ndjson", "search": "无"})) == []


# --- errors -------------------------------------------------------------------------------

BAD_PARAMS = [
    ("/hsds/services", {"taxonomy_term_id": "elderly_meals"}, "taxonomy_term_id"),
    ("/hsds/services", {"taxonomy_id": "123"}, "taxonomy_id"),
    ("/hsds/services", {"organization_id": "x"}, "organization_id"),
    ("/hsds/services", {"page": "0"}, "page"),
    ("/hsds/services", {"page": "-1"}, "page"),
    ("/hsds/services", {"page": "two"}, "page"),
    ("/hsds/services", {"per_page": "0"}, "per_page"),
    ("/hsds/services", {"per_page": "1001"}, "per_page"),
    ("/hsds/services", {"format": "xml"}, "format"),
    ("/hsds/services", {"format": "api"}, "format"),
    ("/hsds/services", {"modified_after": "yesterday"}, "modified_after"),
    ("/hsds/services", {"modified_after": "2025-13-01"}, "modified_after"),
    ("/hsds/services", {"minimal": "perhaps"}, "minimal"),
    ("/hsds/services", {"minimal": "true", "full": "true"}, "minimal"),
    ("/hsds/organizations", {"full_service": "2"}, "full_service"),
    ("/hsds/organizations", {"per_page": "5000"}, "per_page"),
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "near"}, "proximity"),
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "-5"}, "proximity"),
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "0"}, "proximity"),
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "nan"}, "proximity"),
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "inf"}, "proximity"),
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "1e9"}, "proximity"),
    ("/hsds/service_at_locations", {"proximity": "500"}, "proximity"),
    ("/hsds/service_at_locations", {"modified_after": "soon"}, "modified_after"),
    ("/hsds/taxonomies", {"page": "0"}, "page"),
    ("/hsds/taxonomy_terms", {"parent_id": "elderly_care"}, "parent_id"),
    ("/hsds/taxonomy_terms", {"top_only": "maybe"}, "top_only"),
    ("/hsds/taxonomy_terms", {"format": "csv"}, "format"),
    ("/hsds/services", {"search": "字" * 201}, "search"),
]


@pytest.mark.parametrize(("url", "params", "field"), BAD_PARAMS)
def test_bad_parameters_are_refused_naming_the_parameter(api, url, params, field):
    response = api.get(url, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    assert list(body["fields"]) == [field]
    assert body["fields"][field]


DETAILS = [
    "/hsds/services/{}",
    "/hsds/organizations/{}",
    "/hsds/service_at_locations/{}",
    "/hsds/taxonomies/{}",
    "/hsds/taxonomy_terms/{}",
]


@pytest.mark.parametrize("url", DETAILS)
def test_an_id_that_is_not_a_uuid_is_refused(api, url):
    response = api.get(url.format("not-a-uuid"))
    assert response.status_code == 400
    assert response.json()["fields"] == {"id": ["Must be a valid UUID."]}


@pytest.mark.parametrize("url", DETAILS)
def test_unknown_ids_are_not_found(api, taxonomy, url):
    response = api.get(url.format(uuid.uuid4()))
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["detail"]
    assert body["fields"] == {}


def test_bad_full_service_on_an_organization_is_refused(api, world):
    response = api.get(f"/hsds/organizations/{world.org.id}", {"full_service": "lots"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["full_service"]


# --- access -------------------------------------------------------------------------------


def test_anonymous_without_session_or_csrf_and_read_only(api, world):
    response = api.get("/hsds/services")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
    for method in ("post", "put", "patch", "delete"):
        refused = getattr(api, method)("/hsds/services", {}, format="json")
        assert refused.status_code == 405, method
    assert api.post(f"/hsds/services/{world.childcare.id}").status_code == 405


@pytest.mark.parametrize(
    "url",
    [
        "/hsds/services",
        "/hsds/services/",
        "/hsds/organizations/",
        "/hsds/service_at_locations/",
        "/hsds/taxonomies/",
        "/hsds/taxonomy_terms/",
    ],
)
def test_with_and_without_a_trailing_slash(api, world, url):
    assert api.get(url).status_code == 200


def test_format_json_is_the_default_and_head_answers(api, world):
    assert get(api, "/hsds/services", {"format": "json"}) == get(api, "/hsds/services")
    assert api.head("/hsds/services").status_code == 200


def test_single_records_answer_with_a_trailing_slash_too(api, world):
    assert get(api, f"/hsds/services/{world.childcare.id}/")["name"] == "四点半课堂"


def test_errors_follow_the_language_asked_for(world):
    chinese = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = chinese.get("/hsds/services", {"page": "0"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


# --- queries ------------------------------------------------------------------------------


def grow(world: World, n: int) -> None:
    """More of everything, each record as full as the world's richest."""
    for i in range(n):
        organization = OrganizationFactory.create()
        OrganizationIdentifierFactory.create(organization=organization)
        location = full_location(LocationFactory.create(organization=organization), f"32{i:04d}")
        service = full_service(ServiceFactory.create(organization=organization, program=None))
        AttributeFactory.create(record=service, taxonomy_term=term("elderly_meals"))
        full_at_location(ServiceAtLocationFactory.create(service=service, location=location))


def queries(api: APIClient, url: str, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {**params, "per_page": 1000})
        assert response.status_code == 200
    return len(captured)


QUERY_COUNTS = [
    # count + page
    ("/hsds/services", {}, 2),
    ("/hsds/services", {"minimal": "true"}, 2),
    ("/hsds/services", {"search": "助餐", "taxonomy_id": str(taxonomy_uuid(SERVICES_TAXONOMY))}, 2),
    # count + page + 27 prefetches (service 11, at location 7, location 9) + attributes
    ("/hsds/services", {"full": "true"}, 30),
    ("/hsds/organizations", {}, 2),
    # count + page + 19 prefetches (locations 10) + attributes
    ("/hsds/organizations", {"full": "true"}, 22),
    # ... and the services' own 27 prefetches
    ("/hsds/organizations", {"full_service": "true"}, 49),
    ("/hsds/service_at_locations", {}, 2),
    # the postcode's centre, count, page
    ("/hsds/service_at_locations", {"postcode": "310001", "proximity": "30000"}, 3),
    # count + page + 26 prefetches (row 6, location 9, service 11) + attributes
    ("/hsds/service_at_locations", {"full": "true"}, 29),
    ("/hsds/taxonomies", {}, 2),
    ("/hsds/taxonomy_terms", {}, 2),
]


@pytest.mark.parametrize(("url", "params", "expected"), QUERY_COUNTS)
def test_lists_cost_a_fixed_number_of_queries(api, world, url, params, expected):
    assert queries(api, url, params) == expected
    grow(world, 4)
    assert queries(api, url, params) == expected


def test_single_records_cost_a_fixed_number_of_queries(api, world):
    grow(world, 2)
    counts = {
        # the record + its prefetches + attributes: one query fewer than a page of them
        f"/hsds/services/{world.meal_named.id}": 29,
        f"/hsds/organizations/{world.org.id}": 21,
        f"/hsds/service_at_locations/{world.at_canteen.id}": 28,
        f"/hsds/taxonomy_terms/{term('elderly_meals').id}": 1,
        f"/hsds/taxonomies/{taxonomy_uuid(SERVICES_TAXONOMY)}": 1,
    }
    for url, expected in counts.items():
        assert queries(api, url, {}) == expected, url
