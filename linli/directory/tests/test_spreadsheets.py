"""The directory in Excel: template, import (all or nothing, or partial), export, pages, CLI.

Tests run in English. Chinese headers are the Chinese translations of the
English msgids, so they are recognised once the catalogue translates them;
until then a Chinese-header test would only repeat the English one.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from django.db import connection
from django.http import HttpRequest
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from linli.accounts.choices import Role
from linli.accounts.tests.factories import PASSWORD
from linli.core.errors import ImportRejected, PermissionDenied, ValidationFailed
from linli.core.registry import discover, linli_group
from linli.directory.choices import FacilityKind, OrganizationKind
from linli.directory.models import Accessibility, Location, Organization, Schedule
from linli.directory.services import (
    facility_create,
    facility_set_accessibility,
    organization_create,
    schedule_set_weekly,
)
from linli.directory.spreadsheets import importer
from linli.directory.spreadsheets.columns import (
    FACILITIES,
    ORGANIZATIONS,
    SheetLayout,
    header_index,
    normalise_header,
)
from linli.directory.spreadsheets.hours import HoursUnreadable, format_hours, parse_hours
from linli.directory.spreadsheets.importer import directory_import_xlsx
from linli.directory.spreadsheets.workbook import (
    CONTENT_TYPE,
    directory_export_xlsx,
    directory_template_xlsx,
)
from linli.directory.tests.test_services import (
    COMMUNITY,
    NEIGHBOUR,
    OUTSIDE,
    STREET,
    credit_code,
    with_role,
)
from linli.regions.tests.factories import region_chain

pytestmark = pytest.mark.django_db

CODE = credit_code()
ORG = {
    "name": "幸福社区居民委员会",
    "credit_code": CODE,
    "kind": "Community committee",
    "region": COMMUNITY,
    "phone": "0999-88886666",
}
DAY_CARE = {
    "name": "幸福社区日间照料中心",
    "kind": "Elderly day care",
    "region": f"{COMMUNITY} Happiness",
    "organization": CODE,
    "address": "幸福路1号",
    "latitude": 30.25,
    "longitude": 120.15,
    "floor_area_m2": 800,
    "activity_area_m2": 600.5,
    "capacity": 120,
    "opened_on": dt.datetime(2020, 5, 1),
    "hours": "Mon-Fri 08:30-12:00, 14:00-17:30; Sat 09:00-12:00",
    "accessibility": "Ramp, Lift",
}
CANTEEN = {
    "name": "幸福社区老年食堂",
    "kind": "elderly_canteen",
    "region": int(COMMUNITY),
    "organization": "幸福社区居民委员会",
    "hours": "周一至周五 11:00-13:00",
    "accessibility": "ramp、accessible_toilet",
}


@pytest.fixture
def regions():
    for code in (COMMUNITY, NEIGHBOUR, "990102002001", OUTSIDE):
        region_chain(code)


@pytest.fixture
def worker(regions):
    return with_role(Role.COMMUNITY_WORKER, COMMUNITY)


def fill(
    book: bytes,
    *,
    organizations: Sequence[dict[str, Any]] = (),
    facilities: Sequence[dict[str, Any]] = (),
) -> bytes:
    """The workbook with rows added below its last row, by column key."""
    workbook = load_workbook(io.BytesIO(book))
    layouts: tuple[tuple[SheetLayout, list[dict[str, Any]]], ...] = (
        (ORGANIZATIONS, list(organizations)),
        (FACILITIES, list(facilities)),
    )
    for layout, rows in layouts:
        sheet = workbook[str(layout.title)]
        index = header_index(layout)
        position = {index[normalise_header(c.value)]: c.column for c in sheet[1] if c.value}
        start = sheet.max_row + 1
        for offset, row in enumerate(rows):
            for key, value in row.items():
                sheet.cell(row=start + offset, column=position[key], value=value)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def a_file(worker, **rows: Any) -> bytes:
    return fill(directory_template_xlsx(actor=worker), **rows)


def rejected(worker, data: bytes, *, partial: bool = False) -> list[tuple[str, int, str, str]]:
    with pytest.raises(ImportRejected) as refusal:
        directory_import_xlsx(actor=worker, data=data, partial=partial)
    return [(e.sheet, e.row, e.field, e.message) for e in refusal.value.rows]  # type: ignore[attr-defined]


# --- The template --------------------------------------------------------------------------


def test_the_template_has_the_sheets_headers_and_lists(worker):
    book = load_workbook(io.BytesIO(directory_template_xlsx(actor=worker)))
    assert book.sheetnames == ["Instructions", "Organizations", "Facilities", "Lists"]
    assert [c.value for c in book["Organizations"][1]][:4] == [
        "Record ID",
        "Organization name",
        "Unified social credit code",
        "Organization kind",
    ]
    facility_headers = [c.value for c in book["Facilities"][1]]
    assert facility_headers == [str(c.header) for c in FACILITIES.columns]
    assert "Opening hours" in facility_headers
    assert book["Lists"].sheet_state == "hidden"
    # The communities drop-down offers the worker's community and nothing else.
    communities = [c.value for c in book["Lists"]["C"][1:] if c.value]
    assert communities == [f"{COMMUNITY} Region {COMMUNITY}"]
    kinds = [c.value for c in book["Lists"]["B"][1:] if c.value]
    assert kinds == [str(label) for label in FacilityKind.labels]
    validations = book["Facilities"].data_validations.dataValidation
    assert {str(v.sqref).split(":")[0] for v in validations} == {"C2", "D2"}
    instructions = list(book["Instructions"].iter_rows(values_only=True))
    assert ("Facilities", "Facility kind", "Yes") in [r[:3] for r in instructions]
    assert any("Elderly canteen" in (r[3] or "") for r in instructions)


def test_the_template_needs_a_writing_role(regions):
    with pytest.raises(PermissionDenied):
        directory_template_xlsx(actor=with_role(Role.RESIDENT, COMMUNITY))


# --- Importing -----------------------------------------------------------------------------


def test_good_rows_are_imported(worker):
    data = a_file(worker, organizations=[ORG], facilities=[DAY_CARE, CANTEEN])
    report = directory_import_xlsx(actor=worker, data=data)
    assert (report.organizations.created, report.facilities.created) == (1, 2)
    assert report.errors == []
    assert report.warnings == []
    organization = Organization.objects.get()
    assert (organization.credit_code, organization.kind) == (
        CODE,
        OrganizationKind.COMMUNITY_COMMITTEE,
    )
    day_care = Location.objects.get(name=DAY_CARE["name"])
    assert day_care.kind == FacilityKind.ELDERLY_DAY_CARE
    assert day_care.region_id == COMMUNITY
    assert day_care.organization == organization
    assert (day_care.floor_area_m2, day_care.activity_area_m2) == (Decimal(800), Decimal("600.5"))
    assert day_care.opened_on == dt.date(2020, 5, 1)
    assert sorted(
        Schedule.objects.filter(location=day_care).values_list("byday", "opens_at", "closes_at")
    ) == [
        ("MO,TU,WE,TH,FR", dt.time(8, 30), dt.time(12)),
        ("MO,TU,WE,TH,FR", dt.time(14), dt.time(17, 30)),
        ("SA", dt.time(9), dt.time(12)),
    ]
    assert set(
        Accessibility.objects.filter(location=day_care).values_list("details", flat=True)
    ) == {"ramp", "lift"}
    canteen = Location.objects.get(name=CANTEEN["name"])
    assert canteen.organization == organization  # Named, not coded: found by name.
    assert Schedule.objects.get(location=canteen).byday == "MO,TU,WE,TH,FR"
    assert set(
        Accessibility.objects.filter(location=canteen).values_list("details", flat=True)
    ) == {"ramp", "accessible_toilet"}


WRONG_CODE = CODE[:17] + ("0" if CODE[17] != "0" else "1")


@pytest.mark.parametrize(
    ("sheet", "change", "column", "message"),
    [
        (
            "Organizations",
            {"credit_code": WRONG_CODE},
            "Unified social credit code",
            "The check character should be",
        ),
        ("Organizations", {"kind": "Guild"}, "Organization kind", "Unknown value Guild"),
        (
            "Facilities",
            {"latitude": 60.0, "longitude": 120.0},
            "Latitude",
            "60.0 is outside the area this deployment serves",
        ),
        (
            "Facilities",
            {"latitude": 30.0, "longitude": 10.0},
            "Longitude",
            "10.0 is outside the area this deployment serves",
        ),
        ("Facilities", {"floor_area_m2": -5}, "Floor area (m²)", "Cannot be negative."),
        (
            "Facilities",
            {"floor_area_m2": 100, "activity_area_m2": 150},
            "Resident activity area (m²)",
            "cannot exceed the floor area",
        ),
        (
            "Facilities",
            {"hours": "Mon-Fri 17:30-08:30"},
            "Opening hours",
            "closes before it opens",
        ),
        (
            "Facilities",
            {"region": "990102001099"},
            "Community or village code",
            "No community or village with the code 990102001099 is in your area.",
        ),
        (
            "Facilities",
            {"region": NEIGHBOUR},
            "Community or village code",
            f"No community or village with the code {NEIGHBOUR} is in your area.",
        ),
        (
            "Facilities",
            {"region": STREET},
            "Community or village code",
            "No community or village with the code 990102001000 is in your area.",
        ),
        ("Facilities", {"kind": "Spaceport"}, "Facility kind", "Unknown value Spaceport"),
        ("Facilities", {"capacity": "many"}, "Capacity (people)", "Not a number: many"),
        ("Facilities", {"capacity": 2.5}, "Capacity (people)", "Not a whole number"),
        ("Facilities", {"opened_on": "last year"}, "Opened on", "Not a date: last year"),
        (
            "Facilities",
            {"opened_on": dt.datetime(2022, 1, 1), "closed_on": "2021-01-01"},
            "Closed on",
            "cannot close before it opened",
        ),
        ("Facilities", {"accessibility": "Ramp, Moat"}, "Accessibility features", "Moat"),
        (
            "Facilities",
            {"organization": "某不存在的机构"},
            "Organization (credit code or name)",
            "No organization has this credit code or name",
        ),
        ("Facilities", {"name": ""}, "Facility name", "This is required."),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_written(worker, sheet, change, column, message):
    if sheet == "Organizations":
        rows = {"organizations": [ORG, ORG | {"name": "另一个机构", "credit_code": ""} | change]}
    else:
        rows = {"organizations": [ORG], "facilities": [CANTEEN, DAY_CARE | change]}
    problems = rejected(worker, a_file(worker, **rows))
    assert len(problems) == 1, problems
    where, row, header, reason = problems[0]
    assert (where, row, header) == (sheet, 3, column)
    assert message in reason
    assert not Organization.objects.exists()
    assert not Location.objects.exists()
    assert not Schedule.objects.exists()


def test_every_problem_of_a_file_is_listed_at_once(worker):
    data = a_file(
        worker,
        facilities=[
            DAY_CARE | {"organization": "", "kind": "Spaceport", "floor_area_m2": -1},
            CANTEEN | {"organization": "", "hours": "Mon 18:00-08:00", "region": NEIGHBOUR},
        ],
    )
    problems = rejected(worker, data)
    assert [(p[1], p[2]) for p in problems] == [
        (2, "Facility kind"),
        (2, "Floor area (m²)"),
        (3, "Community or village code"),
        (3, "Opening hours"),
    ]
    assert not Location.objects.exists()


def test_partial_writes_the_good_rows(worker):
    data = a_file(
        worker,
        organizations=[ORG],
        facilities=[DAY_CARE | {"floor_area_m2": -1}, CANTEEN],
    )
    report = directory_import_xlsx(actor=worker, data=data, partial=True)
    assert (report.organizations.created, report.facilities.created) == (1, 1)
    assert [(e.sheet, e.row, e.field) for e in report.errors] == [
        ("Facilities", 2, "Floor area (m²)")
    ]
    assert str(report.errors[0]) == (
        "sheet Facilities, row 2, Floor area (m²): Cannot be negative."
    )
    assert list(Location.objects.values_list("name", flat=True)) == [CANTEEN["name"]]
    assert not Schedule.objects.filter(location__name=DAY_CARE["name"]).exists()


def test_a_row_with_an_id_updates_and_one_without_adds(worker):
    directory_import_xlsx(actor=worker, data=a_file(worker, organizations=[ORG]))
    organization = Organization.objects.get()
    data = a_file(
        worker,
        organizations=[ORG | {"id": str(organization.id), "name": "幸福社区居委会"}],
        facilities=[CANTEEN | {"organization": CODE}],
    )
    report = directory_import_xlsx(actor=worker, data=data)
    assert (report.organizations.updated, report.facilities.created) == (1, 1)
    organization.refresh_from_db()
    assert organization.name == "幸福社区居委会"
    assert Organization.objects.count() == 1


def test_an_id_outside_the_area_is_as_unknown_as_a_wrong_one(worker):
    elsewhere = facility_create(actor=None, name="外区", kind="library", region=NEIGHBOUR)
    data = a_file(
        worker,
        facilities=[
            CANTEEN | {"organization": "", "id": str(elsewhere.id)},
            CANTEEN | {"organization": "", "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
            CANTEEN | {"organization": "", "id": "not an id"},
        ],
    )
    problems = rejected(worker, data)
    assert [p[1:] for p in problems] == [
        (2, "Record ID", "No facility with this ID is in your area."),
        (3, "Record ID", "No facility with this ID is in your area."),
        (4, "Record ID", "Not a record ID from Linli; leave it empty to add a record."),
    ]


def test_headers_may_be_keys_in_any_order_and_unknown_columns_are_ignored(worker):
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "Whatever"
    sheet.append(["Notes", "region", "Facility kind", "  facility NAME *"])
    sheet.append(["ignored", COMMUNITY, "Library", "幸福书屋"])
    stream = io.BytesIO()
    book.save(stream)
    report = directory_import_xlsx(actor=worker, data=stream.getvalue())
    assert report.facilities.created == 1
    assert report.warnings == [
        "Sheet Whatever: the column “Notes” is not one Linli knows; it was ignored."
    ]


def test_a_missing_required_column_is_reported(worker):
    book = Workbook()
    book.worksheets[0].append(["Facility name", "Community or village code"])
    book.worksheets[0].append(["幸福书屋", COMMUNITY])
    stream = io.BytesIO()
    book.save(stream)
    assert rejected(worker, stream.getvalue()) == [
        ("Sheet", 1, "Facility kind", "This column is missing.")
    ]


@pytest.mark.parametrize(
    "data",
    [b"name,kind\n", b"PK\x03\x04 not really a zip", b"\xd0\xcf\x11\xe0 an old .xls file"],
)
def test_a_file_that_is_not_a_workbook_is_refused(worker, data):
    with pytest.raises(ValidationFailed) as refusal:
        directory_import_xlsx(actor=worker, data=data)
    assert "This is not an Excel workbook (.xlsx)" in refusal.value.message


def test_a_workbook_without_directory_sheets_is_refused(worker):
    stream = io.BytesIO()
    Workbook().save(stream)
    with pytest.raises(ValidationFailed) as refusal:
        directory_import_xlsx(actor=worker, data=stream.getvalue())
    assert "No sheet of organizations or facilities" in refusal.value.message


def test_a_code_excel_turned_into_a_number_is_explained(worker):
    data = a_file(worker, organizations=[ORG | {"credit_code": 9.19901021234567e17}])
    ((_sheet, _row, column, reason),) = rejected(worker, data)
    assert column == "Unified social credit code"
    assert "format the column as text" in reason


def test_importing_needs_a_writing_role(regions):
    resident = with_role(Role.RESIDENT, COMMUNITY)
    data = a_file(None, facilities=[CANTEEN | {"organization": ""}])
    with pytest.raises(PermissionDenied):
        directory_import_xlsx(actor=resident, data=data)
    assert not Location.objects.exists()


# --- Exporting and the round trip ---------------------------------------------------------


@pytest.fixture
def stored(worker):
    organization = organization_create(
        actor=None,
        name="幸福社区居民委员会",
        credit_code=CODE,
        kind=OrganizationKind.COMMUNITY_COMMITTEE,
        region=COMMUNITY,
        phone="0999-88886666",
        website="https://example.org/",
    )
    unnamed = organization_create(actor=None, name="无码机构", region=COMMUNITY)
    day_care = facility_create(
        actor=None,
        name="幸福社区日间照料中心",
        kind=FacilityKind.ELDERLY_DAY_CARE,
        region=COMMUNITY,
        organization=organization,
        address="幸福路1号",
        phone="13800138000",
        latitude=30.274085,
        longitude=120.15507,
        floor_area_m2=Decimal("800.5"),
        activity_area_m2=Decimal(600),
        capacity=120,
        opened_on=dt.date(2020, 5, 1),
        closed_on=dt.date(2030, 1, 1),
        description="白天照料老人",
    )
    schedule_set_weekly(
        actor=None,
        facility=day_care,
        hours=[
            ("MO,TU,WE,TH,FR", dt.time(8, 30), dt.time(12)),
            ("MO,TU,WE,TH,FR", dt.time(14), dt.time(17, 30)),
            ("SA,SU", dt.time(9), dt.time(11)),
        ],
    )
    facility_set_accessibility(actor=None, facility=day_care, features=["lift", "ramp"])
    facility_create(
        actor=None, name="书屋", kind=FacilityKind.LIBRARY, region=COMMUNITY, organization=unnamed
    )
    facility_create(actor=None, name="邻居家的书屋", kind=FacilityKind.LIBRARY, region=NEIGHBOUR)
    return day_care


def _rows(data: bytes, title: str) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(data))[title]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_export_holds_the_records_in_the_users_scope(worker, stored):
    data = directory_export_xlsx(actor=worker)
    facilities = _rows(data, "Facilities")
    assert [f["Facility name"] for f in facilities] == ["幸福社区日间照料中心", "书屋"]
    day_care = facilities[0]
    assert day_care["Record ID"] == str(stored.id)
    assert day_care["Facility kind"] == "Elderly day care"
    assert day_care["Community or village code"] == f"{COMMUNITY} Region {COMMUNITY}"
    assert day_care["Organization (credit code or name)"] == CODE
    assert day_care["Opening hours"] == "Mon-Fri 08:30-12:00, 14:00-17:30; Sat, Sun 09:00-11:00"
    assert day_care["Accessibility features"] == "Ramp, Lift"
    assert day_care["Floor area (m²)"] == 800.5
    assert day_care["Opened on"] == dt.datetime(2020, 5, 1)
    assert facilities[1]["Organization (credit code or name)"] == "无码机构"
    assert {o["Organization name"] for o in _rows(data, "Organizations")} == {
        "无码机构",
        "幸福社区居民委员会",
    }


def test_an_export_imports_back_unchanged(worker, stored):
    stamp = Location.objects.get(pk=stored.pk).last_modified
    counts = (Organization.objects.count(), Location.objects.count(), Schedule.objects.count())
    report = directory_import_xlsx(actor=worker, data=directory_export_xlsx(actor=worker))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert counts == (
        Organization.objects.count(),
        Location.objects.count(),
        Schedule.objects.count(),
    )
    assert Location.objects.get(pk=stored.pk).last_modified == stamp


def test_an_edited_export_updates_only_what_changed(worker, stored):
    workbook = load_workbook(io.BytesIO(directory_export_xlsx(actor=worker)))
    sheet = workbook["Facilities"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("Capacity (people)") + 1, value=150)
    sheet.cell(row=2, column=headers.index("Opening hours") + 1, value="周一至周五 09:00-17:00")
    stream = io.BytesIO()
    workbook.save(stream)
    report = directory_import_xlsx(actor=worker, data=stream.getvalue())
    assert (report.facilities.updated, report.facilities.unchanged) == (1, 1)
    assert report.organizations.unchanged == 2
    stored.refresh_from_db()
    assert stored.capacity == 150
    assert list(Schedule.objects.filter(location=stored).values_list("byday", "opens_at")) == [
        ("MO,TU,WE,TH,FR", dt.time(9))
    ]
    assert Accessibility.objects.filter(location=stored).count() == 2


def test_an_organization_without_code_or_unique_name_is_named_by_id(worker, stored):
    twin = organization_create(actor=None, name="无码机构", region=NEIGHBOUR)
    data = directory_export_xlsx(actor=worker)
    library = next(f for f in _rows(data, "Facilities") if f["Facility name"] == "书屋")
    unnamed = Organization.objects.exclude(pk=twin.pk).get(name="无码机构")
    assert library["Organization (credit code or name)"] == str(unnamed.id)
    report = directory_import_xlsx(actor=worker, data=data)
    assert (report.created, report.updated) == (0, 0)


def test_a_workbook_made_in_chinese_imports_in_english(worker, stored):
    """Headers, kinds, hours and features are read in either language, whoever uploads."""
    with translation.override("zh-hans"):
        data = directory_export_xlsx(actor=worker)
        new = fill(
            directory_template_xlsx(actor=worker),
            facilities=[CANTEEN | {"organization": CODE, "name": "新食堂"}],
        )
    report = directory_import_xlsx(actor=worker, data=data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert directory_import_xlsx(actor=worker, data=new).facilities.created == 1


def test_the_export_costs_the_same_queries_for_more_records(worker, stored):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            directory_export_xlsx(actor=worker)
        return len(captured)

    directory_export_xlsx(actor=worker)  # The user's scopes are cached after the first call.
    # Organizations and their phones; facilities and their phones, addresses, schedules and
    # features; the communities of the drop-down; the organization names used twice.
    assert queries() == 9
    for number in range(5):
        facility_create(
            actor=None, name=f"健身点{number}", kind=FacilityKind.OUTDOOR_FITNESS, region=COMMUNITY
        )
    assert queries() == 9


def test_export_under_a_region(stored):
    data = directory_export_xlsx(actor=None, under=NEIGHBOUR)
    assert [f["Facility name"] for f in _rows(data, "Facilities")] == ["邻居家的书屋"]


# --- Opening hours as text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周一至周五 08:30-17:30", [("MO,TU,WE,TH,FR", "08:30", "17:30")]),
        ("Mon-Fri 08:30-17:30", [("MO,TU,WE,TH,FR", "08:30", "17:30")]),
        ("Monday to Friday 8:30 - 17:30", [("MO,TU,WE,TH,FR", "08:30", "17:30")]),
        (
            "周一至周五 08:30-12:00，14:00-17:30；周六 09:00-12:00",
            [
                ("MO,TU,WE,TH,FR", "08:30", "12:00"),
                ("MO,TU,WE,TH,FR", "14:00", "17:30"),
                ("SA", "09:00", "12:00"),
            ],
        ),
        ("周一、周三 9：00～11：00", [("MO,WE", "09:00", "11:00")]),
        ("每天 06:00-24:00", [("MO,TU,WE,TH,FR,SA,SU", "06:00", "23:59")]),
        ("周六至周一 10:00-16:00", [("MO,SA,SU", "10:00", "16:00")]),
        ("Weekends 10:00-16:00", [("SA,SU", "10:00", "16:00")]),
        ("", []),
    ],
)
def test_hours_are_read_in_either_language(text, expected):
    hours = [(",".join(h.days), f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in parse_hours(text)]
    assert hours == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:30-17:30", "Say which days"),
        ("Mon-Fri", "has no times"),
        ("Funday 08:00-09:00", "“Funday” is not a day"),
        ("Mon 25:00-26:00", "25:00 is not a time of day"),
        ("Mon 09:00-08:00", "closes before it opens"),
        ("Mon 08:00-12:00 lunch 13:00-17:00", "Cannot read"),
    ],
)
def test_unreadable_hours_say_why(text, message):
    with pytest.raises(HoursUnreadable) as problem:
        parse_hours(text)
    assert message in str(problem.value)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_formatted_hours_read_back(language):
    text = "Mon-Fri 08:30-12:00, 14:00-17:30; Wed 18:00-20:00; Sat, Sun 09:00-12:00"
    hours = parse_hours(text)
    formatted = format_hours(hours, language)
    assert parse_hours(formatted) == hours
    if language == "zh-hans":
        assert formatted.startswith("周一至周五 08:30-12:00, 14:00-17:30; 周三 18:00-20:00")
    else:
        assert formatted == text


# --- The page ------------------------------------------------------------------------------


@pytest.fixture
def page(worker) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(worker)
    return browser


def upload(browser: Client, data: bytes, *, name: str = "sheet.xlsx", partial: bool = False):
    payload: dict[str, Any] = {"file": io.BytesIO(data)}
    payload["file"].name = name
    if partial:
        payload["partial"] = "on"
    return browser.post(reverse("spreadsheets:index"), payload)


def test_the_page_offers_downloads_and_an_upload(page):
    response = page.get(reverse("spreadsheets:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("spreadsheets:template") in body
    assert reverse("spreadsheets:export") in body
    assert 'enctype="multipart/form-data"' in body
    assert "csrfmiddlewaretoken" in body
    assert 'name="partial"' in body


def test_the_downloads_are_workbooks(page, stored):
    for name in ("spreadsheets:template", "spreadsheets:export"):
        response = page.get(reverse(name))
        assert response.status_code == 200
        assert response["Content-Type"] == CONTENT_TYPE
        assert response["Content-Disposition"].startswith("attachment;")
        load_workbook(io.BytesIO(response.content))
    exported = page.get(reverse("spreadsheets:export")).content
    assert len(_rows(exported, "Facilities")) == 2


def test_uploading_a_good_file_imports_it_once(page, worker):
    data = a_file(worker, organizations=[ORG], facilities=[DAY_CARE])
    response = upload(page, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("spreadsheets:index")
    shown = page.get(reverse("spreadsheets:index")).content.decode()
    assert "Imported" in shown
    assert "sheet.xlsx" in shown
    assert Location.objects.count() == 1
    # The outcome is shown once; reloading neither repeats it nor imports again.
    assert "Imported" not in page.get(reverse("spreadsheets:index")).content.decode()
    assert Location.objects.count() == 1


def test_uploading_a_bad_file_lists_the_problems_and_writes_nothing(page, worker):
    data = a_file(worker, organizations=[ORG], facilities=[DAY_CARE | {"region": NEIGHBOUR}])
    response = upload(page, data)
    assert response.status_code == 302
    shown = page.get(reverse("spreadsheets:index")).content.decode()
    assert "Nothing was imported" in shown
    assert "Community or village code" in shown
    assert f"No community or village with the code {NEIGHBOUR} is in your area." in shown
    assert not Organization.objects.exists()
    assert not Location.objects.exists()


def test_the_partial_checkbox_keeps_the_good_rows(page, worker):
    data = a_file(worker, organizations=[ORG], facilities=[DAY_CARE | {"region": NEIGHBOUR}])
    upload(page, data, partial=True)
    shown = page.get(reverse("spreadsheets:index")).content.decode()
    assert "1 row with problems was left out." in shown
    assert Organization.objects.count() == 1
    assert not Location.objects.exists()


def test_a_file_that_is_not_a_workbook_gets_a_clear_message(page):
    response = upload(page, b"name,kind\n", name="sheet.csv")
    assert response.status_code == 400
    assert "Choose an Excel workbook (.xlsx)" in response.content.decode()
    response = upload(page, b"name,kind\n", name="disguised.xlsx")
    assert response.status_code == 400
    assert "This is not an Excel workbook (.xlsx)" in response.content.decode()


def test_a_workbook_that_unpacks_too_large_is_refused(worker, monkeypatch):
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ValidationFailed) as refusal:
        directory_import_xlsx(actor=worker, data=a_file(worker))
    assert "too large to read" in refusal.value.message


@override_settings(LINLI_SPREADSHEET_MAX_BYTES=1000)
def test_a_file_too_large_is_refused(page, worker):
    response = upload(page, a_file(worker))
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not Location.objects.exists()


def test_uploads_need_the_csrf_token(worker):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(worker)
    assert upload(browser, a_file(worker, facilities=[CANTEEN])).status_code == 403
    assert not Location.objects.exists()


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.AUDITOR])
def test_a_user_without_a_writing_role_gets_403(regions, role):
    user = with_role(role, COMMUNITY)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert browser.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    for name in ("spreadsheets:index", "spreadsheets:template", "spreadsheets:export"):
        assert browser.get(reverse(name)).status_code == 403
    assert upload(browser, b"x").status_code == 403


def test_the_page_needs_a_login(client):
    response = client.get(reverse("spreadsheets:index"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- The command line ---------------------------------------------------------------------


@pytest.fixture
def linli():
    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, list(args), catch_exceptions=False)


def test_the_commands(linli, tmp_path, regions):
    template = tmp_path / "template.xlsx"
    result = linli("directory", "xlsx-template", str(template), "--under", "990102001000")
    assert result.exit_code == 0, result.output
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(
        fill(template.read_bytes(), organizations=[ORG], facilities=[DAY_CARE, CANTEEN])
    )
    result = linli("directory", "xlsx-import", str(filled))
    assert result.exit_code == 0, result.output
    assert "Organizations: 1 created" in result.output
    assert "Facilities: 2 created" in result.output
    exported = tmp_path / "export.xlsx"
    result = linli("directory", "xlsx-export", str(exported), "--under", COMMUNITY)
    assert result.exit_code == 0, result.output
    assert len(_rows(exported.read_bytes(), "Facilities")) == 2
    result = linli("directory", "xlsx-import", str(exported))
    assert "0 created, 0 updated, 2 unchanged" in result.output


def test_the_import_command_lists_problems_and_changes_nothing(linli, tmp_path, regions):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        fill(
            directory_template_xlsx(actor=None),
            facilities=[
                CANTEEN | {"organization": ""},
                CANTEEN | {"organization": "", "floor_area_m2": -3},
            ],
        )
    )
    result = linli("directory", "xlsx-import", str(bad))
    assert result.exit_code == 1
    assert "sheet Facilities, row 3, Floor area (m²): Cannot be negative." in result.output
    assert "nothing was changed" in result.output
    assert not Location.objects.exists()
    result = linli("directory", "xlsx-import", str(bad), "--partial")
    assert result.exit_code == 0
    assert "1 row with problems was left out." in result.output
    assert Location.objects.count() == 1


def test_the_commands_check_the_region_code(linli, tmp_path):
    result = linli("directory", "xlsx-export", str(tmp_path / "x.xlsx"), "--under", "12")
    assert result.exit_code == 2
    assert "12 digits" in result.output
