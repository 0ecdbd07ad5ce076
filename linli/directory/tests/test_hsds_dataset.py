"""`linli hsds import/export`: the official example round-trips, exports validate.

Bad input is reported file by file, row by row, and nothing is written unless asked.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import frictionless
import pytest
from click.testing import CliRunner
from django.test import override_settings
from django.utils import timezone

from linli.core.registry import discover, linli_group
from linli.directory import models as m
from linli.directory.choices import (
    AttributeLinkType,
    FacilityKind,
    FeeKind,
    LinkEntity,
    OrganizationKind,
)
from linli.directory.hsds.dataset import parse_value
from linli.directory.hsds.tables import (
    NOT_EXCHANGED,
    TABLES,
    TABLES_BY_NAME,
    TABLES_BY_PATH,
    datapackage,
)
from linli.directory.taxonomy import PRIORITY_TAXONOMY, SERVICES_TAXONOMY, term_uuid
from linli.directory.validators import credit_code_check_character, validate_point
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain

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
)

pytestmark = pytest.mark.django_db

# The official HSDS 3.0 example set (see data/hsds_example/README.md).
EXAMPLE = Path(__file__).parent / "data" / "hsds_example"
HSDS_FILES = [table.path for table in TABLES if not table.extends]

# Every HSDS model, leaves first, so a queryset delete never meets a protected row.
DIRECTORY_MODELS = (
    m.Attribute,
    m.Metadata,
    m.Language,
    m.Phone,
    m.Contact,
    m.Schedule,
    m.Address,
    m.Accessibility,
    m.Funding,
    m.ServiceArea,
    m.CostOption,
    m.RequiredDocument,
    m.OrganizationIdentifier,
    m.ServiceAtLocation,
    m.Service,
    m.Location,
    m.Program,
    m.Organization,
    m.TaxonomyTerm,
    m.Taxonomy,
)


def clear_directory() -> None:
    """An empty directory: no records, not even the shipped taxonomies the migrations install."""
    m.TaxonomyTerm.objects.update(parent=None)
    for model in DIRECTORY_MODELS:
        model.objects.all().delete()


def directory_ids() -> dict[str, set[str]]:
    """The ids of every record, by model name; models without records are left out."""
    ids = {
        model.__name__: {str(pk) for pk in model.objects.values_list("pk", flat=True)}
        for model in DIRECTORY_MODELS
    }
    return {name: values for name, values in ids.items() if values}


def read_tables(directory: Path) -> dict[str, list[dict[str, str]]]:
    tables = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as stream:
            tables[path.name] = list(csv.DictReader(stream))
    return tables


def header(directory: Path, file: str) -> list[str]:
    with (directory / file).open(encoding="utf-8", newline="") as stream:
        return next(csv.reader(stream))


def frictionless_errors(descriptor: Path) -> list[str]:
    report = frictionless.validate(str(descriptor))
    return [
        f"{task.name} row {error.get_defined('rowNumber')} {error.get_defined('fieldName')}: "
        f"{error.message}"
        for task in report.tasks
        for error in task.errors
    ] + [error.message for error in report.errors]


@pytest.fixture
def linli():
    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, [str(a) for a in args], catch_exceptions=False)


PROBLEM = re.compile(r"(Not valid HSDS: )?[\w.-]+\.(csv|json)( › [\w.-]+\.csv)?(, |: )")


def problem_lines(output: str) -> list[str]:
    """The problem lines a command wrote: each starts with its file (progress labels do not)."""
    return [line for line in output.splitlines() if PROBLEM.match(line)]


# The data package itself --------------------------------------------------------------


def test_the_data_package_is_the_official_one_plus_linli_tables():
    official = json.loads((EXAMPLE / "datapackage.json").read_text(encoding="utf-8"))
    ours = datapackage()
    for key in ("name", "title", "profile", "version", "homepage"):
        assert ours[key] == official[key]
    resources = {resource["name"]: resource for resource in ours["resources"]}
    for theirs in official["resources"]:
        mine = resources.pop(theirs["name"])
        for key in ("path", "description", "format", "mediatype", "profile"):
            assert mine[key] == theirs[key], (theirs["name"], key)
        assert mine["schema"].get("primaryKey") == theirs["schema"].get("primaryKey")
        assert sorted(mine["schema"].get("foreignKeys", []), key=str) == sorted(
            theirs["schema"].get("foreignKeys", []), key=str
        )
        # Titles, descriptions and examples of fields are documentation, left out.
        assert mine["schema"]["fields"] == [
            {
                key: value
                for key, value in f.items()
                if key in ("name", "type", "format", "constraints")
            }
            for f in theirs["schema"]["fields"]
        ], theirs["name"]
    assert sorted(resources) == [
        "linli_location",
        "linli_organization",
        "linli_service",
        "linli_taxonomy_term",
    ]


def test_every_model_field_travels_in_a_column():
    for model in {table.model for table in TABLES if table.model is not None}:
        carried = {"id"} | NOT_EXCHANGED.get(model, set())
        for table in TABLES:
            if table.model is model:
                carried |= {column.model_attr for column in table.columns}
        attnames = {f.attname for f in model._meta.concrete_fields}
        assert attnames == carried, model.__name__


def test_no_bounds_means_any_point_is_accepted():
    assert validate_point(100.0, 101.0)
    with override_settings(LINLI_COORDINATE_BOUNDS=None):
        assert validate_point(100.0, 101.0) == {}
        assert validate_point(100.0, None) == {
            "longitude": ["Give both latitude and longitude, or neither."]
        }


# The official example set -------------------------------------------------------------

# HSDS declares four of these as foreign keys (upstream's known dangling ones); the two
# parents are plain references in HSDS but foreign keys in Linli, and point at no row.
EXAMPLE_DANGLING = [
    "taxonomy_terms.csv, row 2, parent_id: Refers to 0bc248fa-dc27-4650-9ba4-8f1a24ef16a2, "
    "which is neither in taxonomy_terms.csv of the dataset nor in Linli.",
    "taxonomy_terms.csv, row 2, taxonomy_id: Refers to 07ff6aee-a219-438c-b694-d2fcb6c5373b, "
    "which is neither in taxonomies.csv of the dataset nor in Linli.",
    "organizations.csv, row 2, parent_organization_id: Refers to "
    "cd09a387-91f4-4555-94ec-e799c35344cd, which is neither in organizations.csv of the "
    "dataset nor in Linli.",
    "locations.csv, row 2, organization_id: Refers to 985e4a42-bd9f-4edc-911d-0243a4640aca, "
    "which is neither in organizations.csv of the dataset nor in Linli.",
    "contacts.csv, row 2, organization_id: Refers to ae67a707-5893-4225-b0b1-320ab9cb596b, "
    "which is neither in organizations.csv of the dataset nor in Linli.",
    "contacts.csv, row 2, service_at_location_id: Refers to "
    "93eaf18d-1cd2-4ec7-bffb-3c9172ee5070, which is neither in service_at_location.csv of "
    "the dataset nor in Linli.",
]
DECLARED_DANGLING = {
    ("locations.csv", "organization_id"),
    ("contacts.csv", "organization_id"),
    ("contacts.csv", "service_at_location_id"),
    ("taxonomy_terms.csv", "taxonomy_id"),
}
# (file, id, column) of the cells left out because they point at nothing.
EXAMPLE_DROPPED = {
    ("organizations.csv", "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "parent_organization_id"),
    ("locations.csv", "3a19ff88-4620-4d17-9830-ac1d859eb5d5", "organization_id"),
    ("contacts.csv", "1e7efce3-639b-4880-940c-b95cd30cdb50", "organization_id"),
    ("contacts.csv", "1e7efce3-639b-4880-940c-b95cd30cdb50", "service_at_location_id"),
    ("taxonomy_terms.csv", "3f7b145d-84af-42d7-8fae-eaca714b02b2", "parent_id"),
    ("taxonomy_terms.csv", "3f7b145d-84af-42d7-8fae-eaca714b02b2", "taxonomy_id"),
}


def test_the_example_dangles_where_frictionless_says_and_at_two_parents():
    """Frictionless finds the four known dangling keys; Linli also sees the two parents."""
    errors = frictionless_errors(EXAMPLE / "datapackage.json")
    assert len(errors) == 4
    assert all("violates the foreign key" in error for error in errors)
    declared = {
        (TABLES_BY_NAME[error.split()[0]].path, error.split('for "')[1].split('"')[0])
        for error in errors
    }
    assert declared == DECLARED_DANGLING
    reported = {
        (line.split(", ")[0], line.split(", ")[2].split(":")[0]) for line in EXAMPLE_DANGLING
    }
    assert reported - declared == {
        ("organizations.csv", "parent_organization_id"),
        ("taxonomy_terms.csv", "parent_id"),
    }


@override_settings(LINLI_COORDINATE_BOUNDS=None)  # latitude 100 is valid HSDS
def test_the_official_example_round_trips_field_by_field(linli, tmp_path):
    clear_directory()

    refused = linli("hsds", "import", EXAMPLE)
    assert refused.exit_code == 1
    assert problem_lines(refused.stderr) == EXAMPLE_DANGLING
    assert "nothing was changed: 6 problems" in refused.stderr
    assert directory_ids() == {}

    result = linli("hsds", "import", "--partial", EXAMPLE / "datapackage.json")
    assert result.exit_code == 0, result.output
    assert problem_lines(result.stderr) == [
        f"{line} (imported without this reference)" for line in EXAMPLE_DANGLING
    ]
    assert (
        "Linli does not keep meta_table_descriptions.csv: its 1 row was not imported."
        in result.stderr
    )
    assert "Imported: 20 created, 0 updated, 0 unchanged." in result.stdout

    exported = tmp_path / "export"
    result = linli("hsds", "export", "--format", "csv", exported)
    assert result.exit_code == 0, result.output
    assert "Not valid HSDS" not in result.output
    assert frictionless_errors(exported / "datapackage.json") == []

    original, copy = read_tables(EXAMPLE), read_tables(exported)
    for file in HSDS_FILES:
        assert header(exported, file) == header(EXAMPLE, file), file
        if file == "meta_table_descriptions.csv":
            assert copy[file] == []  # Linli has no table for these (see docs/hsds.md)
            continue
        assert len(copy[file]) == len(original[file]) == 1, file
        for before, after in zip(original[file], copy[file], strict=True):
            for column, value in before.items():
                if (file, before["id"], column) in EXAMPLE_DROPPED:
                    assert after[column] == "", (file, column)
                else:
                    # No normalising needed: times, numbers and the service's
                    # last_modified come back exactly as written.
                    assert after[column] == value, (file, column)
    # Linli's own fields travel beside, with Linli's defaults for these records.
    assert copy["linli_services.csv"] == [
        {
            "id": "ac148810-d857-441c-9679-408f346de14b",
            "fee_kind": "unknown",
            "fee_amount": "",
            "at_facility": "true",
            "at_home": "false",
            "online": "false",
        }
    ]

    again = linli("hsds", "import", "--partial", exported)
    assert again.exit_code == 0, again.output
    assert problem_lines(again.stderr) == []
    assert "Imported: 0 created, 0 updated, 20 unchanged." in again.stdout


@override_settings(LINLI_COORDINATE_BOUNDS=None)
def test_the_official_tabular_json_imports_and_exports_the_same_rows(linli, tmp_path):
    clear_directory()
    result = linli("hsds", "import", "--partial", EXAMPLE / "tabular.json")
    assert result.exit_code == 0, result.output
    assert len(problem_lines(result.stderr)) == 6

    assert linli("hsds", "export", "--format", "json", tmp_path).exit_code == 0
    original = json.loads((EXAMPLE / "tabular.json").read_text(encoding="utf-8"))
    copy = json.loads((tmp_path / "hsds.json").read_text(encoding="utf-8"))
    assert set(copy) == {table.path for table in TABLES}
    for file, rows in original.items():
        if file == "meta_table_descriptions.csv":
            assert copy[file] == []
            continue
        table = TABLES_BY_PATH[file]
        for before, after in zip(rows, copy[file], strict=True):
            for column, value in before.items():
                if (file, before["id"], column) in EXAMPLE_DROPPED:
                    assert after[column] is None
                elif table.column(column).type == "string" and isinstance(value, int):
                    # tabular.json writes two text columns (external_identifier,
                    # identifier) as numbers; HSDS types them as strings.
                    assert after[column] == str(value), (file, column)
                else:
                    assert after[column] == value, (file, column)


# A Chinese directory ------------------------------------------------------------------


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


def term(taxonomy: str, code: str) -> m.TaxonomyTerm:
    return m.TaxonomyTerm.objects.get(pk=term_uuid(taxonomy, code))


def test_the_shipped_taxonomies_have_uris(taxonomy):
    column = TABLES_BY_NAME["taxonomy"].column("uri")
    for shipped in m.Taxonomy.objects.all():
        assert parse_value(column, shipped.uri) == (shipped.uri, None)


@pytest.fixture
def chinese_directory(taxonomy):
    """A street's worth of records, with Linli's own fields filled in."""
    community = region_chain("990102001001", name="东湖社区")
    street = Region.objects.get(code="990102001000")
    bureau = OrganizationFactory(
        name="邻里区民政局",
        alternate_name="区民政局",
        description="负责全区社会救助、养老服务和社区治理的政府部门。",
        email="mzj@linli.example.cn",
        website="https://mzj.linli.example.cn/",
        year_incorporated=1998,
        legal_status="机关法人",
        kind=OrganizationKind.GOVERNMENT,
        credit_code=credit_code("11990102MB0000019"),
        verified=True,
        region=street,
    )
    society = cast(
        m.Organization,
        OrganizationFactory(
            name="东湖社区邻里互助社",
            description="在东湖社区开展助老、助残和邻里互助的社区社会组织。",
            email="huzhu@donghu.example.cn",
            website="https://donghu.example.cn/huzhu",
            kind=OrganizationKind.SOCIAL_ORGANIZATION,
            credit_code=credit_code("51990102MJ0000027"),
            region=community,
            parent_organization=bureau,
        ),
    )
    program = ProgramFactory(
        organization=society, name="东湖助老计划", description="社区居家养老服务项目。"
    )
    canteen = LocationFactory(
        organization=society,
        name="东湖社区老年食堂",
        description="提供午餐堂食和送餐上门。",
        transportation="公交12路东湖路站下车步行200米",
        latitude=30.6123,
        longitude=114.1234,
        kind=FacilityKind.ELDERLY_CANTEEN,
        region=community,
        floor_area_m2=Decimal("320.5"),
        activity_area_m2=Decimal("180"),
        capacity=80,
        opened_on=dt.date(2022, 5, 1),
    )
    centre = LocationFactory(
        organization=bureau,
        name="东湖社区党群服务中心",
        latitude=30.6101,
        longitude=114.1207,
        kind=FacilityKind.COMPREHENSIVE,
        region=community,
        floor_area_m2=Decimal("1200"),
        capacity=200,
    )
    meals = cast(
        m.Service,
        ServiceFactory(
            organization=society,
            program=program,
            name="老年助餐",
            description="为60岁以上老人提供午餐，行动不便者可送餐上门。",
            url="https://donghu.example.cn/zhucan",
            email="zhucan@donghu.example.cn",
            fees_description="补贴后每餐8.5元。",
            eligibility_description="本社区60岁以上常住老人。",
            minimum_age=60,
            fee_kind=FeeKind.SUBSIDIZED,
            fee_amount=Decimal("8.50"),
            at_home=True,
        ),
    )
    visits = ServiceFactory(
        organization=society,
        name="独居老人探访关爱",
        description="志愿者每周上门探访独居老人。",
        fee_kind=FeeKind.FREE,
        at_facility=False,
        at_home=True,
    )
    at_canteen = ServiceAtLocationFactory(service=meals, location=canteen, description="堂食")
    ScheduleFactory(
        service_at_location=at_canteen,
        byday="MO,TU,WE,TH,FR,SA",
        opens_at=dt.time(11),
        closes_at=dt.time(13, 30),
        description="每日午餐时段",
    )
    ScheduleFactory(location=centre, wkst="MO", interval=1)
    AddressFactory(
        location=canteen,
        address_1="东湖路88号",
        address_2="1号楼底层",
        city="示范市",
        region="邻里区",
        state_province="示范省",
        postal_code="999001",
    )
    PhoneFactory(location=canteen, number="027-8765 4321", description="订餐电话")
    contact = ContactFactory(
        organization=society, name="李晓梅", title="社工", email="lxm@donghu.example.cn"
    )
    PhoneFactory(contact=contact, number="13800000000", type="cell")
    AccessibilityFactory(location=canteen, description="入口设无障碍坡道", details="ramp")
    LanguageFactory(service=meals, name="普通话", code="zh", note="也可讲本地方言")
    CostOptionFactory(
        service=meals, option="每餐（补贴后）", currency="CNY", amount=Decimal("8.50")
    )
    FundingFactory(service=meals, organization=bureau, source="区财政养老服务补贴")
    OrganizationIdentifierFactory(
        organization=society,
        identifier_scheme="CN-USCC",
        identifier_type="统一社会信用代码",
        identifier=society.credit_code,
    )
    ServiceAreaFactory(service=visits, name="东湖社区", extent="东湖社区全域", extent_type="text")
    RequiredDocumentFactory(service=meals, document="居民身份证或社保卡")
    for service, taxonomy_code, code, link in (
        (meals, SERVICES_TAXONOMY, "elderly_meals", AttributeLinkType.CATEGORY),
        (meals, PRIORITY_TAXONOMY, "elderly", AttributeLinkType.ELIGIBILITY),
        (visits, SERVICES_TAXONOMY, "elderly_visit", AttributeLinkType.CATEGORY),
        (visits, PRIORITY_TAXONOMY, "elderly_living_alone", AttributeLinkType.ELIGIBILITY),
    ):
        AttributeFactory(record=service, taxonomy_term=term(taxonomy_code, code), link_type=link)
    AttributeFactory(
        record=canteen,
        link_entity=LinkEntity.LOCATION,
        taxonomy_term=term(SERVICES_TAXONOMY, "elderly_meals"),
        link_type=AttributeLinkType.CATEGORY,
    )
    m.Metadata.objects.create(
        resource_id=meals.pk,
        resource_type="service",
        last_action_date=timezone.make_aware(dt.datetime(2025, 3, 1, 9, 30)),
        last_action_type="update",
        field_name="fee_amount",
        previous_value="10.00",
        replacement_value="8.50",
        updated_by="李晓梅",
    )


def test_a_chinese_directory_exports_as_a_valid_data_package(linli, chinese_directory, tmp_path):
    result = linli("hsds", "export", tmp_path)
    assert result.exit_code == 0, result.output
    assert "Not valid HSDS" not in result.output
    assert frictionless_errors(tmp_path / "datapackage.json") == []
    tables = read_tables(tmp_path)
    assert {row["name"] for row in tables["organizations.csv"]} == {
        "邻里区民政局",
        "东湖社区邻里互助社",
    }
    canteen = next(r for r in tables["locations.csv"] if r["name"] == "东湖社区老年食堂")
    assert next(r for r in tables["linli_locations.csv"] if r["id"] == canteen["id"]) == {
        "id": canteen["id"],
        "kind": "elderly_canteen",
        "region_code": "990102001001",
        "floor_area_m2": "320.5",
        "activity_area_m2": "180",
        "capacity": "80",
        "opened_on": "2022-05-01",
        "closed_on": "",
    }
    assert {r["credit_code"] for r in tables["linli_organizations.csv"]} == {
        "11990102MB0000019" + credit_code_check_character("11990102MB0000019"),
        "51990102MJ0000027" + credit_code_check_character("51990102MJ0000027"),
    }
    assert len(tables["attributes.csv"]) == 5
    assert tables["metadata.csv"][0]["last_action_date"] == "2025-03-01"


@pytest.mark.parametrize("format_", ["json", "csv"])
def test_a_chinese_directory_round_trips_through_an_empty_linli(
    linli, chinese_directory, tmp_path, format_
):
    first, second = tmp_path / "first", tmp_path / "second"
    assert linli("hsds", "export", "--format", format_, first).exit_code == 0
    before = directory_ids()
    clear_directory()

    result = linli("hsds", "import", first)
    assert result.exit_code == 0, result.output
    assert directory_ids() == before
    assert m.Location.objects.get(name="东湖社区老年食堂").region_id == "990102001001"

    assert linli("hsds", "export", "--format", format_, second).exit_code == 0
    for path in sorted(first.iterdir()):
        assert (second / path.name).read_bytes() == path.read_bytes(), path.name


def test_an_import_updates_by_id_and_keeps_linli_fields_it_does_not_carry(
    linli, chinese_directory, tmp_path
):
    assert linli("hsds", "export", tmp_path).exit_code == 0
    # An HSDS-only copy: no linli_* tables, one service renamed.
    for path in tmp_path.glob("linli_*.csv"):
        path.unlink()
    (tmp_path / "datapackage.json").unlink()
    services = (tmp_path / "services.csv").read_text(encoding="utf-8")
    (tmp_path / "services.csv").write_text(
        services.replace("独居老人探访关爱", "独居老人上门探访"), encoding="utf-8"
    )
    before = m.Service.objects.get(name="独居老人探访关爱")

    result = linli("hsds", "import", tmp_path)
    assert result.exit_code == 0, result.output
    assert "services.csv: 0 created, 1 updated, 1 unchanged." in result.stdout
    after = m.Service.objects.get(pk=before.pk)
    assert after.name == "独居老人上门探访"
    assert (after.fee_kind, after.at_facility, after.at_home) == (FeeKind.FREE, False, True)
    assert after.last_modified == before.last_modified  # the dataset's, kept


# Bad input ----------------------------------------------------------------------------

ORG = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0001"
MEALS = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0002"
VISITS = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0003"
CANTEEN = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0004"
AT_CANTEEN = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0005"
NOWHERE = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0999"


def good_dataset() -> dict[str, list[dict[str, str]]]:
    return {
        "organizations.csv": [
            {
                "id": ORG,
                "name": "东湖社区邻里互助社",
                "description": "社区社会组织",
                "email": "huzhu@donghu.example.cn",
            }
        ],
        "services.csv": [
            {
                "id": MEALS,
                "organization_id": ORG,
                "name": "老年助餐",
                "status": "active",
                "minimum_age": "60",
            },
            {"id": VISITS, "organization_id": ORG, "name": "独居老人探访", "status": "active"},
        ],
        "locations.csv": [
            {
                "id": CANTEEN,
                "location_type": "physical",
                "organization_id": ORG,
                "name": "东湖社区老年食堂",
                "latitude": "30.61",
                "longitude": "114.12",
            }
        ],
        "service_at_location.csv": [
            {"id": AT_CANTEEN, "service_id": MEALS, "location_id": CANTEEN, "description": "堂食"}
        ],
    }


def write_dataset(directory: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for file, rows in tables.items():
        columns = [column.name for column in TABLES_BY_PATH[file].columns]
        with (directory / file).open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    package = datapackage()
    package["resources"] = [r for r in package["resources"] if r["path"] in tables]
    (directory / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    return directory


@dataclass(frozen=True)
class Case:
    """A change to the good dataset, the problems an import reports, and what --partial writes."""

    problems: list[str]
    imported: set[str]
    tables: Callable[[dict[str, list[dict[str, str]]]], None] = lambda tables: None
    # A change to the files once written, for what the csv module would not write.
    files: Callable[[Path], None] = lambda directory: None

    def write(self, directory: Path) -> None:
        tables = good_dataset()
        self.tables(tables)
        write_dataset(directory, tables)
        self.files(directory)


def set_cells(file: str, row: int, **values: str) -> Callable[[dict], None]:
    return lambda tables: tables[file][row].update(values)


def edit_text(file: str, old: str, new: str) -> Callable[[Path], None]:
    def change(directory: Path) -> None:
        text = (directory / file).read_text(encoding="utf-8")
        assert old in text
        (directory / file).write_text(text.replace(old, new), encoding="utf-8")

    return change


def without_column(file: str, column: str) -> Callable[[Path], None]:
    def change(directory: Path) -> None:
        with (directory / file).open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream))
        columns = [name for name in rows[0] if name != column]
        with (directory / file).open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, columns, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    return change


ALL = {ORG, MEALS, VISITS, CANTEEN, AT_CANTEEN}
NOT_IMPORTED = " (row not imported)"
LEFT_OUT = " (imported without this reference)"

BAD_INPUT = {
    "an unclosed quote": Case(
        [
            "services.csv, row 3: This is not valid CSV (unexpected end of data); the rest "
            "of the file was not read." + NOT_IMPORTED
        ],
        ALL - {VISITS},
        files=edit_text("services.csv", f"{VISITS},", f'"{VISITS},'),
    ),
    "a row with a cell too many": Case(
        ["services.csv, row 3: This row has 24 cells, the header 23." + NOT_IMPORTED],
        ALL - {VISITS},
        files=edit_text("services.csv", f"{VISITS},{ORG},", f"{VISITS},{ORG},,"),
    ),
    "a value outside the enumeration": Case(
        [
            "services.csv, row 3, status: open is not one of: active, inactive, defunct, "
            "temporarily closed." + NOT_IMPORTED
        ],
        ALL - {VISITS},
        tables=set_cells("services.csv", 1, status="open"),
    ),
    "an id that is not a UUID": Case(
        ["services.csv, row 3, id: Not a UUID: S-0003." + NOT_IMPORTED],
        ALL - {VISITS},
        tables=set_cells("services.csv", 1, id="S-0003"),
    ),
    "a number that is not one": Case(
        [
            "services.csv, row 2, minimum_age: Not a number: sixty." + NOT_IMPORTED,
            f"service_at_location.csv, row 2, service_id: Refers to {MEALS} in services.csv "
            "(row 2), which is not imported." + NOT_IMPORTED,
        ],
        ALL - {MEALS, AT_CANTEEN},
        tables=set_cells("services.csv", 0, minimum_age="sixty"),
    ),
    "a dangling reference": Case(
        [
            f"service_at_location.csv, row 2, service_id: Refers to {NOWHERE}, which is "
            "neither in services.csv of the dataset nor in Linli." + NOT_IMPORTED
        ],
        ALL - {AT_CANTEEN},
        tables=set_cells("service_at_location.csv", 0, service_id=NOWHERE),
    ),
    "a missing required column": Case(
        [
            "organizations.csv, row 1, name: This required column is missing." + NOT_IMPORTED,
            f"services.csv, row 2, organization_id: Refers to {ORG} in organizations.csv "
            "(row 2), which is not imported." + NOT_IMPORTED,
            f"services.csv, row 3, organization_id: Refers to {ORG} in organizations.csv "
            "(row 2), which is not imported." + NOT_IMPORTED,
            f"locations.csv, row 2, organization_id: Refers to {ORG} in organizations.csv "
            "(row 2), which is not imported." + LEFT_OUT,
            f"service_at_location.csv, row 2, service_id: Refers to {MEALS} in services.csv "
            "(row 2), which is not imported." + NOT_IMPORTED,
        ],
        {CANTEEN},
        files=without_column("organizations.csv", "name"),
    ),
    "a point outside China": Case(
        [
            "locations.csv, row 2, longitude: -74.0 is outside the area this deployment "
            "serves (73.0 to 135.5)." + NOT_IMPORTED,
            f"service_at_location.csv, row 2, location_id: Refers to {CANTEEN} in "
            "locations.csv (row 2), which is not imported." + NOT_IMPORTED,
        ],
        {ORG, MEALS, VISITS},
        tables=set_cells("locations.csv", 0, longitude="-74.0"),
    ),
    "a required value left empty": Case(
        ["services.csv, row 3, name: A value is required." + NOT_IMPORTED],
        ALL - {VISITS},
        tables=set_cells("services.csv", 1, name=""),
    ),
    "ages the wrong way round": Case(
        [
            "services.csv, row 3, maximum_age: The maximum age is below the minimum age."
            + NOT_IMPORTED
        ],
        ALL - {VISITS},
        tables=set_cells("services.csv", 1, minimum_age="60", maximum_age="12"),
    ),
    "an address without its location": Case(
        ["addresses.csv, row 2, location_id: Linli needs a value here." + NOT_IMPORTED],
        ALL,
        tables=lambda tables: tables.update(
            {
                "addresses.csv": [
                    {
                        "id": NOWHERE,
                        "address_1": "东湖路88号",
                        "city": "示范市",
                        "state_province": "示范省",
                        "postal_code": "999001",
                        "country": "CN",
                        "address_type": "physical",
                    }
                ]
            }
        ),
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_reported_and_nothing_is_written(linli, tmp_path, case):
    BAD_INPUT[case].write(tmp_path)
    before = directory_ids()

    result = linli("hsds", "import", tmp_path)
    assert result.exit_code == 1
    # All or nothing: rows are not left out, so none fails for want of another.
    expected = [
        problem.removesuffix(NOT_IMPORTED)
        for problem in BAD_INPUT[case].problems
        if "which is not imported" not in problem
    ]
    assert problem_lines(result.stderr) == expected
    assert f"nothing was changed: {len(expected)} problem" in result.stderr
    assert directory_ids() == before


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_partial_writes_only_the_good_rows(linli, tmp_path, case):
    BAD_INPUT[case].write(tmp_path)
    before = directory_ids()

    result = linli("hsds", "import", "--partial", tmp_path / "datapackage.json")
    assert result.exit_code == 0, result.output
    assert problem_lines(result.stderr) == BAD_INPUT[case].problems
    after = directory_ids()
    assert set().union(*(after[name] - before.get(name, set()) for name in after)) == (
        BAD_INPUT[case].imported
    )


def test_a_json_file_that_is_not_hsds_is_refused(linli, tmp_path):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": [{"id": MEALS, "name": "老年助餐"}]}), "utf-8")
    for args in (("import", path), ("import", "--partial", path)):
        result = linli("hsds", *args)
        assert result.exit_code == 1
        assert problem_lines(result.stderr) == [
            "services.json: This is not an HSDS dataset: Linli expects one JSON object whose "
            "keys are HSDS table files, such as “organizations.csv”, each holding a list of rows."
        ]
    path.write_text("{not json", "utf-8")
    result = linli("hsds", "import", path)
    assert result.exit_code == 1
    assert problem_lines(result.stderr)[0].startswith("services.json: This is not JSON: ")


def test_json_values_of_the_wrong_type_are_reported(linli, tmp_path):
    data: dict[str, list[dict[str, Any]]] = {
        file: [dict(row) for row in rows] for file, rows in good_dataset().items()
    }
    data["services.csv"][0]["minimum_age"] = 60
    data["services.csv"][1]["status"] = 1
    data["locations.csv"][0]["latitude"] = "北纬30度"
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    result = linli("hsds", "import", tmp_path)
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        "hsds.json › services.csv, row 2, status: Expected text, not a number.",
        "hsds.json › locations.csv, row 1, latitude: Not a number: 北纬30度.",
    ]


def test_linli_uniqueness_and_parent_chains_are_checked(linli, tmp_path, chinese_directory):
    taken = m.Organization.objects.get(name="邻里区民政局")
    first, second = ORG, "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0011"
    tables = {
        "organizations.csv": [
            {"id": first, "name": "甲", "description": "甲", "parent_organization_id": second},
            {"id": second, "name": "乙", "description": "乙", "parent_organization_id": first},
        ],
        "linli_organizations.csv": [
            {"id": first, "credit_code": taken.credit_code, "verified": "false"},
            {"id": second, "verified": "maybe"},
        ],
    }
    write_dataset(tmp_path, tables)
    result = linli("hsds", "import", tmp_path)
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        "organizations.csv, row 2, parent_organization_id: Its chain of parents leads back "
        "to itself.",
        "organizations.csv, row 3, parent_organization_id: Its chain of parents leads back "
        "to itself.",
        f"linli_organizations.csv, row 2, credit_code: {taken.credit_code} is already used "
        f"by record {taken.pk}.",
        "linli_organizations.csv, row 3, verified: Not true or false: maybe.",
    ]


def test_terms_without_a_code_do_not_clash(linli, tmp_path):
    taxonomy = "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0021"
    terms = ["5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0022", "5d0f2e6a-1c8b-4c1e-9a57-3f8e0c1b0023"]
    write_dataset(
        tmp_path,
        {
            "taxonomies.csv": [{"id": taxonomy, "name": "街道自定义分类", "description": "试用"}],
            "taxonomy_terms.csv": [
                {"id": term, "name": name, "description": name, "taxonomy_id": taxonomy}
                for term, name in zip(terms, ("理发", "修脚"), strict=True)
            ],
        },
    )
    result = linli("hsds", "import", tmp_path)
    assert result.exit_code == 0, result.output
    assert m.TaxonomyTerm.objects.filter(taxonomy_ref__pk=taxonomy, code="").count() == 2


def test_export_warns_of_what_hsds_would_refuse(linli, tmp_path, taxonomy):
    clear_directory()
    OrganizationFactory(name="无描述的组织", description="")
    TaxonomyFactory(uri="linli-community-services")
    result = linli("hsds", "export", tmp_path)
    assert result.exit_code == 0
    assert problem_lines(result.stderr) == [
        "Not valid HSDS: organizations.csv, row 2, description: HSDS requires a value here; "
        "Linli has none.",
        "Not valid HSDS: taxonomies.csv, row 2, uri: Not a URI (a URI starts with a scheme, "
        "such as https:): linli-community-services.",
    ]


def test_an_example_copy_with_a_foreign_resource_and_column_is_read(linli, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLE, copy)
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"].append({"name": "x_extra", "path": "x_extra.csv"})
    (copy / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    text = (copy / "taxonomies.csv").read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",x_colour", text[1] + ",blue"]
    (copy / "taxonomies.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with override_settings(LINLI_COORDINATE_BOUNDS=None):
        result = linli("hsds", "import", "--partial", copy)
    assert result.exit_code == 0, result.output
    assert "datapackage.json: resources that are not HSDS tables were ignored: x_extra." in (
        result.stderr
    )
    assert (
        "taxonomies.csv: columns that are not part of the table were ignored: x_colour."
        in result.stderr
    )
