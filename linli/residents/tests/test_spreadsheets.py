"""The residents register in Excel: template, import (all or nothing, or partial), export,
the page and the commands.

Workbooks are real .xlsx files built with openpyxl. Tests read messages in English;
the register's Chinese headers (姓名, 公民身份号码, …) are recognised whatever the
catalogue says, so the Chinese-header tests hold before the lead translates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
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
from linli.accounts.tests.factories import PASSWORD, RoleAssignmentFactory, UserFactory
from linli.core.errors import ImportRejected, PermissionDenied, ValidationFailed
from linli.core.pii import identity_check_character
from linli.core.registry import discover, linli_group
from linli.regions.tests.factories import region_chain
from linli.residents.models import SENSITIVE_FIELDS, AccessEvent, Household, PriorityTally, Resident
from linli.residents.services import ResidentInput, resident_register
from linli.residents.spreadsheets import importer
from linli.residents.spreadsheets.columns import REGISTER, register_header_index
from linli.residents.spreadsheets.importer import register_import_xlsx
from linli.residents.spreadsheets.workbook import (
    CONTENT_TYPE,
    register_export_xlsx,
    register_template_xlsx,
)

pytestmark = pytest.mark.django_db

COMMUNITY = "990102001001"
NEIGHBOUR = "990102001002"  # same street, kept by another worker
OUTSIDE = "980101001001"

CHINESE = [
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "联系电话",
    "社区/村",
    "户",
    "住址",
    "独居",
    "留守",
    "残疾类别",
    "残疾等级",
    "困难类别",
    "健康需求",
]
ENGLISH = [
    "Name",
    "Identity number",
    "Sex",
    "Birth date",
    "Phone",
    "Community or village",
    "Household",
    "Address",
    "Living alone",
    "Left behind",
    "Disability category",
    "Disability grade",
    "Family in difficulty",
    "Health needs",
]
KEYS = [column.key for column in REGISTER.columns]


def identity(born: str, serial: str = "123", region: str = COMMUNITY[:6]) -> str:
    first17 = region + born + serial
    return first17 + identity_check_character(first17)


ELDER = identity("19450312", "124")  # a woman (even 17th digit) born 1945
SON = identity("19700501", "135")  # a man born 1970
CHILD_BORN = (dt.date.today() - dt.timedelta(days=8 * 365)).strftime("%Y%m%d")
CHILD = identity(CHILD_BORN, "146")


def row(**values: Any) -> dict[str, Any]:
    return {"community": COMMUNITY, **values}


GOOD = [
    row(
        name="王秀英",
        identity_number=ELDER,
        phone="14001234567",
        household="幸福路1号",
        living_alone="是",
        disability_category="肢体",
        disability_grade="二级",
        difficulty="低保",
        health_notes="高血压，需定期随访",
    ),
    row(name="李强", identity_number=SON, household="幸福路 1 号", address="幸福路1号3室"),
    row(name="张小明", identity_number=CHILD, household="幸福路2号", left_behind="否"),
]


def workbook(
    rows: Sequence[dict[str, Any]],
    *,
    headers: Sequence[str] = CHINESE,
    title_row: str | None = None,
    sheet: str = "花名册",
) -> bytes:
    """A register as people keep one: a header row (maybe under a title), one row a person."""
    book = Workbook()
    worksheet = book.active
    assert worksheet is not None
    worksheet.title = sheet
    if title_row:
        worksheet.append([title_row])
    worksheet.append(list(headers))
    index = register_header_index()
    from linli.directory.spreadsheets.columns import normalise_header

    keys = [index.get(normalise_header(h), h) for h in headers]
    for values in rows:
        worksheet.append([values.get(key) for key in keys])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def from_template(actor: Any, rows: Sequence[dict[str, Any]]) -> bytes:
    """The downloaded template with rows filled in below its header."""
    book = load_workbook(io.BytesIO(register_template_xlsx(actor=actor)))
    sheet = book["Residents"]
    for values in rows:
        sheet.append([values.get(key) for key in KEYS])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def refusal(actor: Any, data: bytes, **kwargs: Any) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as refused:
        register_import_xlsx(actor=actor, data=data, **kwargs)
    return [(e.row, e.field, e.message) for e in refused.value.rows]


def sheet_rows(data: bytes, title: str = "Residents") -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(data))[title]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], values, strict=True)) for values in rows[1:]]


@pytest.fixture
def community():
    region_chain(NEIGHBOUR)
    region_chain(OUTSIDE)
    return region_chain(COMMUNITY)


def with_role(role: str, code: str | None, username: str = "") -> Any:
    from linli.regions.models import Region

    user = UserFactory(**({"username": username} if username else {}))
    region = Region.objects.get(code=code) if code else None
    RoleAssignmentFactory(user=user, role=role, region=region)
    return user


@pytest.fixture
def worker(community):
    return with_role(Role.COMMUNITY_WORKER, COMMUNITY, "worker")


# --- The template --------------------------------------------------------------------------


def test_the_template_has_the_register_sheet_instructions_and_lists(worker):
    book = load_workbook(io.BytesIO(register_template_xlsx(actor=worker)))
    assert book.sheetnames == ["Instructions", "Residents", "Lists"]
    assert book["Lists"].sheet_state == "hidden"
    sheet = book["Residents"]
    assert [c.value for c in sheet[1]] == ENGLISH
    assert sheet["B1"].comment is not None
    # Identity numbers and phones are typed as text, so Excel keeps every digit.
    assert sheet.column_dimensions["B"].number_format == "@"
    assert sheet.column_dimensions["E"].number_format == "@"
    lists = [c.value for c in book["Lists"]["A"] if c.value]
    assert lists[1:] == [f"{COMMUNITY} Region {COMMUNITY}"]  # only the worker's community
    validations = {
        str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation
    }
    assert set(validations) == {"C2", "F2", "I2", "J2", "K2", "L2", "M2"}
    notes = " ".join(str(c.value) for c in book["Instructions"]["A"] if c.value)
    assert "a guardian's consent" in notes
    assert "At most 100,000 rows" in notes


def test_the_template_speaks_chinese_to_chinese_users(worker):
    with translation.override("zh-hans"):
        book = load_workbook(io.BytesIO(register_template_xlsx(actor=worker)))
    assert book.sheetnames[:2] == ["说明", "居民"]


def test_only_keepers_get_the_template(community):
    volunteer = with_role(Role.VOLUNTEER, COMMUNITY)
    with pytest.raises(PermissionDenied):
        register_template_xlsx(actor=volunteer)


def test_every_header_is_recognised_in_both_languages_and_as_registers_write_it():
    from linli.directory.spreadsheets.columns import normalise_header

    index = register_header_index()
    for chinese, english, key in zip(CHINESE, ENGLISH, KEYS, strict=True):
        assert index[normalise_header(chinese)] == key
        assert index[normalise_header(english)] == key
    for variant, key in (
        ("身份证号", "identity_number"),
        ("手机号码", "phone"),
        ("社区（村）", "community"),
    ):
        assert index[normalise_header(variant)] == key


# --- Importing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "cells", "value"),
    [
        ("sex", ["女", "女性", "Female", "female", "F"], "female"),
        ("sex", ["男", "男性", "Male"], "male"),
        ("living_alone", ["是", "√", "Yes", "y", 1, True], True),
        ("living_alone", ["否", "", None, "No", 0], False),
        ("disability_category", ["肢体", "肢体残疾", "Physical", "physical"], "physical"),
        ("disability_grade", [2, "2", "二级", "2级", "二"], "2"),
        ("difficulty", ["低保", "Subsistence allowance (低保)", "subsistence"], "subsistence"),
        ("difficulty", ["特困", "特困供养"], "extreme_poverty"),
    ],
)
def test_cells_are_read_as_registers_write_them(worker, key, cells, value):
    from linli.residents.spreadsheets.importer import RegisterReport, _Run

    read = _Run(actor=worker, report=RegisterReport()).readers[key]
    assert [read(cell) for cell in cells] == [value] * len(cells)


def test_a_register_with_chinese_headers_imports(worker, community):
    existing = Household.objects.create(community=community, address="幸福路2号")
    report = register_import_xlsx(
        actor=worker, data=workbook(GOOD, title_row="幸福社区居民花名册（2026年）")
    )
    assert (report.created, report.households_created, report.households_joined) == (3, 1, 1)
    assert report.errors == []
    assert report.warnings == []
    elder = Resident.objects.get(name="王秀英")
    assert elder.birth_date == dt.date(1945, 3, 12)
    assert elder.sex == "female"
    assert elder.phone == "14001234567"
    assert (elder.living_alone, elder.left_behind) == (True, False)
    assert (elder.disability_category, elder.disability_grade) == ("physical", "2")
    assert elder.difficulty == "subsistence"
    assert elder.health_notes == "高血压，需定期随访"
    assert elder.address == "幸福路1号"  # the household's, when the row gives none
    son = Resident.objects.get(name="李强")
    # "幸福路 1 号" and "幸福路1号" are one household; the existing one at 幸福路2号 is joined.
    assert son.household_id == elder.household_id
    assert son.address == "幸福路1号3室"
    assert Resident.objects.get(name="张小明").household_id == existing.pk
    assert Household.objects.count() == 2
    # Sensitive values are stored encrypted, findable by their blind index.
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_number, phone FROM residents_resident")
        stored = " ".join(" ".join(values) for values in cursor.fetchall())
    assert ELDER not in stored
    assert "14001234567" not in stored
    assert PriorityTally.objects.filter(group="").count() == 3


def test_a_register_with_english_headers_imports(worker):
    rows = [
        row(
            name="Wang Xiuying",
            identity_number=ELDER,
            community=f"{COMMUNITY} Happiness Community",
            living_alone="yes",
            disability_category="Visual",
            disability_grade=3,
            difficulty="Extreme-poverty support (特困)",
        ),
        {
            "name": "Li Qiang",
            "sex": "Male",
            "birth_date": dt.datetime(1970, 5, 1),
            "community": COMMUNITY,
        },
    ]
    report = register_import_xlsx(actor=worker, data=workbook(rows, headers=ENGLISH))
    assert report.created == 2
    wang = Resident.objects.get(name="Wang Xiuying")
    assert (wang.disability_category, wang.disability_grade) == ("visual", "3")
    assert wang.difficulty == "extreme_poverty"
    li = Resident.objects.get(name="Li Qiang")
    assert (li.sex, li.birth_date, li.identity_number) == ("male", dt.date(1970, 5, 1), "")


def test_the_downloaded_template_filled_in_imports(worker):
    report = register_import_xlsx(actor=worker, data=from_template(worker, GOOD[:2]))
    assert report.created == 2


def test_a_worker_of_one_community_may_leave_it_out(worker):
    rows = [{"name": "王秀英", "identity_number": ELDER}]
    headers = ["姓名", "公民身份号码"]
    assert register_import_xlsx(actor=worker, data=workbook(rows, headers=headers)).created == 1
    assert Resident.objects.get().community_id == COMMUNITY


def test_a_community_may_be_named(worker):
    data = workbook([row(name="王秀英", community=f"区域{COMMUNITY}")])
    assert register_import_xlsx(actor=worker, data=data).created == 1


def test_a_bad_file_is_refused_row_by_row_and_nothing_is_stored(worker):
    wrong_check = ELDER[:-1] + ("0" if ELDER[-1] != "0" else "1")
    rows = [
        GOOD[0],
        row(name="李强", identity_number=wrong_check),
        row(name="赵六", phone="12345"),
        row(name="钱七", community="990102001099"),
        row(name="张小明", identity_number=CHILD, health_notes="哮喘"),
        row(name="", sex="女"),
        row(name="孙八", community=OUTSIDE),
        row(name="周九", living_alone="maybe", disability_category="肢体"),
    ]
    problems = refusal(worker, workbook(rows))
    expected_check = identity_check_character(ELDER[:17])
    assert problems == [
        (3, "公民身份号码", f"The last character should be {expected_check}: a digit is mistyped."),
        (4, "联系电话", "A mobile number has 11 digits and starts with 13 to 19."),
        (5, "社区/村", "No community or village has the code 990102001099."),
        (
            6,
            "健康需求",
            "A child under 14: record a guardian's consent before anything beyond registration.",
        ),
        (7, "姓名", "A name is required."),
        (8, "社区/村", "This community is outside your area."),
        (9, "独居", "Write yes or no (是 or 否)."),
        (9, "残疾等级", "Give the disability category and its grade together."),
    ]
    assert not Resident.objects.exists()
    assert not Household.objects.exists()
    assert not PriorityTally.objects.exists()


def test_reasons_are_in_chinese_by_default(worker):
    rows = [row(name="赵六", phone="12345"), row(name="孙八", community=OUTSIDE)]
    with translation.override("zh-hans"):
        problems = refusal(worker, workbook(rows))
        message = str(ImportRejected([]).message)
    assert problems == [
        (2, "联系电话", "手机号码为11位数字，以13至19开头。"),
        (3, "社区/村", "该社区（村）不在您的辖区内。"),
    ]
    assert message != "The file was not imported: nothing was changed."


def test_partial_keeps_the_good_rows_and_reports_the_bad(worker):
    rows = [*GOOD, row(name="赵六", phone="12345")]
    report = register_import_xlsx(actor=worker, data=workbook(rows), partial=True)
    assert report.created == 3
    assert report.rows_refused == 1
    assert [(e.row, e.field) for e in report.errors] == [(5, "联系电话")]
    assert Resident.objects.count() == 3


def test_a_partial_import_creates_no_household_for_refused_rows(worker):
    rows = [row(name="赵六", phone="12345", household="无人路9号"), GOOD[1]]
    report = register_import_xlsx(actor=worker, data=workbook(rows), partial=True)
    assert (report.created, report.households_created) == (1, 1)
    assert list(Household.objects.values_list("address", flat=True)) == ["幸福路 1 号"]


def test_an_identity_number_already_registered_points_to_the_record(worker, community):
    existing = resident_register(
        actor=worker, data=ResidentInput(name="王秀英", community=community, identity_number=ELDER)
    )
    problems = refusal(worker, workbook([GOOD[1], GOOD[0]]))
    assert problems == [(3, "公民身份号码", f"Already registered: resident no. {existing.pk}.")]
    assert Resident.objects.count() == 1


def test_an_identity_number_twice_in_the_file_is_refused(worker):
    twin = row(name="王秀英（重复）", identity_number=ELDER.lower() if ELDER[-1] == "X" else ELDER)
    problems = refusal(worker, workbook([GOOD[0], GOOD[1], twin]))
    assert problems == [(4, "公民身份号码", "The same identity number as row 2.")]
    report = register_import_xlsx(actor=worker, data=workbook([GOOD[0], twin]), partial=True)
    assert report.created == 1
    assert Resident.objects.get().name == "王秀英"


def test_the_header_must_name_the_columns(worker):
    data = workbook([{"name": "王秀英"}], headers=["姓名", "姓名", "出生日期", "籍贯"])
    with pytest.raises(ImportRejected) as refused:
        register_import_xlsx(actor=worker, data=data)
    assert [(e.row, e.field, e.message) for e in refused.value.rows] == [
        (1, "姓名", "This column appears twice.")
    ]
    # No community column, for someone who keeps more than one place: the header says so.
    admin = with_role(Role.SYSTEM_ADMIN, None)
    problems = refusal(
        admin, workbook([{"name": "王秀英", "phone": "14001234567"}], headers=["姓名", "联系电话"])
    )
    assert problems == [(1, "Community or village", "This column is missing.")]


def test_unknown_columns_are_ignored_with_a_warning(worker):
    data = workbook(
        [{"name": "王秀英", "community": COMMUNITY}], headers=["序号", "姓名", "社区", "籍贯"]
    )
    report = register_import_xlsx(actor=worker, data=data)
    assert report.created == 1
    assert report.warnings == ["The column “籍贯” is not one Linli keeps; it was ignored."]


def test_a_file_that_is_not_a_register_gets_a_clear_message(worker):
    with pytest.raises(ValidationFailed) as refused:
        register_import_xlsx(actor=worker, data=b"name,phone\n")
    assert "This is not an Excel workbook (.xlsx)" in refused.value.message
    with pytest.raises(ValidationFailed) as refused:
        register_import_xlsx(actor=worker, data=workbook([], headers=["地区", "人口"]))
    assert "No sheet of residents was found" in refused.value.message
    with pytest.raises(ValidationFailed) as refused:
        register_import_xlsx(actor=worker, data=workbook([]))
    assert "no rows below its headers" in refused.value.message


def test_identity_numbers_typed_as_numbers_are_refused_not_misread(worker):
    problems = refusal(
        worker, workbook([row(name="王秀英", identity_number=float(ELDER[:17] + "1"))])
    )
    assert problems == [
        (
            2,
            "公民身份号码",
            "Excel stored this code as a number and lost digits; format the column as text.",
        )
    ]


@override_settings(LINLI_REGISTER_MAX_ROWS=2)
def test_the_row_cap_is_a_setting(worker):
    with pytest.raises(ValidationFailed) as refused:
        register_import_xlsx(actor=worker, data=workbook(GOOD))
    assert "At most 2 rows a file" in refused.value.message
    assert not Resident.objects.exists()


def test_a_workbook_that_unpacks_too_large_is_refused(worker, monkeypatch):
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 1000)
    monkeypatch.setattr(importer, "UNPACKED_BYTES_PER_ROW", 0)
    with pytest.raises(ValidationFailed) as refused:
        register_import_xlsx(actor=worker, data=workbook(GOOD))
    assert "too large to read" in refused.value.message


def test_only_keepers_import(community):
    for role in (Role.VOLUNTEER, Role.STREET_OFFICIAL, Role.RESIDENT):
        user = with_role(role, COMMUNITY if role != Role.STREET_OFFICIAL else "990102001000")
        with pytest.raises(PermissionDenied):
            register_import_xlsx(actor=user, data=workbook(GOOD))


def test_communities_and_households_are_looked_up_once_not_per_row(worker, community):
    def queries(count: int) -> int:
        rows = [
            row(
                name=f"居民{n}",
                identity_number=identity("19800101", f"{n:03d}"),
                household=f"路{n % 3}号",
            )
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            register_import_xlsx(actor=worker, data=workbook(rows), partial=True)
        Resident.objects.all().delete()
        Household.objects.all().delete()
        PriorityTally.objects.all().delete()
        return len(captured)

    queries(1)  # the worker's scope, read once and kept on the user
    # Rows cost no query of their own: identity numbers are looked up a batch at a time,
    # communities and households once each.
    assert queries(40) == queries(20)


# --- Exporting ---------------------------------------------------------------------------------


@pytest.fixture
def registered(worker, community):
    register_import_xlsx(actor=worker, data=workbook(GOOD))
    neighbour = with_role(Role.COMMUNITY_WORKER, NEIGHBOUR)
    register_import_xlsx(
        actor=neighbour, data=workbook([row(name="邻居", community=NEIGHBOUR, phone="14009999999")])
    )
    return Resident.objects.filter(community_id=COMMUNITY)


def test_the_export_is_masked_and_logged_resident_by_resident(worker, registered):
    data = register_export_xlsx(actor=worker)
    rows = {r["Name"]: r for r in sheet_rows(data)}
    assert set(rows) == {"王秀英", "李强", "张小明"}  # not the neighbour community's
    elder = rows["王秀英"]
    assert elder["Identity number"] == ELDER[:6] + "********" + ELDER[-4:]
    assert elder["Phone"] == "140****4567"
    assert elder["Birth date"] == "1945"
    assert elder["Disability category"] == elder["Health needs"] == "***"
    assert elder["Living alone"] == "Yes"
    assert elder["Community or village"] == f"{COMMUNITY} Region {COMMUNITY}"
    assert ELDER not in str(sheet_rows(data))
    events = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT)
    assert sorted(events.values_list("resident_id", flat=True)) == sorted(
        registered.values_list("id", flat=True)
    )
    event = events.first()
    assert event is not None
    assert event.actor == worker
    assert event.purpose == "Register export (masked)"
    assert "name" in event.fields
    assert not set(SENSITIVE_FIELDS) & set(event.fields)


def test_an_unmasked_export_needs_a_purpose_and_logs_it(worker, registered):
    with pytest.raises(ValidationFailed) as refused:
        register_export_xlsx(actor=worker, unmasked=True, purpose=" ")
    assert "purpose" in refused.value.fields
    assert not AccessEvent.objects.exists()
    data = register_export_xlsx(actor=worker, unmasked=True, purpose="民政局年度核查低保名单")
    elder = next(r for r in sheet_rows(data) if r["Name"] == "王秀英")
    assert elder["Identity number"] == ELDER
    assert elder["Phone"] == "14001234567"
    assert elder["Disability category"] == "Physical"
    assert elder["Family in difficulty"] == "Subsistence allowance (低保)"
    events = AccessEvent.objects.filter(purpose="民政局年度核查低保名单")
    assert events.count() == 3
    assert set(SENSITIVE_FIELDS) <= set(events.first().fields)  # type: ignore[union-attr]
    instructions = " ".join(
        str(c.value) for c in load_workbook(io.BytesIO(data))["Instructions"]["A"] if c.value
    )
    assert "by worker" in instructions
    assert "民政局年度核查低保名单" in instructions


def test_an_unmasked_export_imports_back(worker, registered):
    data = register_export_xlsx(actor=worker, unmasked=True, purpose="迁移到新系统")
    # Into the same register every row is a duplicate, found by its blind index.
    problems = refusal(worker, data)
    assert {message.split(":")[0] for _row, _column, message in problems} == {"Already registered"}
    Resident.objects.filter(community_id=COMMUNITY).delete()
    report = register_import_xlsx(actor=worker, data=data)
    assert (report.created, report.households_joined, report.households_created) == (3, 2, 0)
    assert Resident.objects.get(name="王秀英").difficulty == "subsistence"


def test_only_keepers_export(registered):
    official = with_role(Role.STREET_OFFICIAL, "990102001000")
    with pytest.raises(PermissionDenied):
        register_export_xlsx(actor=official)
    assert not AccessEvent.objects.exists()


# --- The page ----------------------------------------------------------------------------------


@pytest.fixture
def page(worker) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(worker)
    return browser


def upload(browser: Client, data: bytes, *, name: str = "花名册.xlsx", partial: bool = False):
    payload: dict[str, Any] = {"file": io.BytesIO(data)}
    payload["file"].name = name
    if partial:
        payload["partial"] = "on"
    return browser.post(reverse("register:index"), payload)


def test_the_page_offers_downloads_and_an_upload(page):
    assert reverse("register:index") == "/residents/register/"
    response = page.get(reverse("register:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("register:template") in body
    assert reverse("register:export") in body
    assert 'enctype="multipart/form-data"' in body
    assert "csrfmiddlewaretoken" in body
    assert 'name="partial"' in body
    assert 'name="purpose"' in body


def test_the_template_downloads(page):
    response = page.get(reverse("register:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    assert load_workbook(io.BytesIO(response.content)).sheetnames[1] == "Residents"


def test_uploading_a_good_file_imports_it_once(page):
    response = upload(page, workbook(GOOD))
    assert response.status_code == 302
    assert response["Location"] == reverse("register:index")
    shown = page.get(reverse("register:index")).content.decode()
    assert "Imported" in shown
    assert "花名册.xlsx" in shown
    assert Resident.objects.count() == 3
    assert "Imported" not in page.get(reverse("register:index")).content.decode()
    assert Resident.objects.count() == 3


def test_uploading_a_bad_file_lists_the_problems_and_writes_nothing(page):
    upload(page, workbook([GOOD[0], row(name="赵六", phone="12345")]))
    shown = page.get(reverse("register:index")).content.decode()
    assert "Nothing was imported" in shown
    assert "联系电话" in shown
    assert "A mobile number has 11 digits and starts with 13 to 19." in shown
    assert not Resident.objects.exists()


def test_the_partial_checkbox_keeps_the_good_rows(page):
    upload(page, workbook([GOOD[0], row(name="赵六", phone="12345")]), partial=True)
    shown = page.get(reverse("register:index")).content.decode()
    assert "1 row with problems was left out." in shown
    assert Resident.objects.count() == 1


def test_a_file_that_is_not_a_workbook_gets_a_clear_message(page):
    response = upload(page, b"name\n", name="register.csv")
    assert response.status_code == 400
    assert "Choose an Excel workbook (.xlsx)" in response.content.decode()
    response = upload(page, b"name\n", name="disguised.xlsx")
    assert response.status_code == 400
    assert "This is not an Excel workbook (.xlsx)" in response.content.decode()


def test_the_export_link_is_masked_and_logged(page, registered):
    response = page.get(reverse("register:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE
    assert "masked" in response["Content-Disposition"]
    assert ELDER not in str(sheet_rows(response.content))
    assert AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).count() == 3


def test_the_unmasked_export_asks_why(page, registered):
    response = page.post(reverse("register:export"), {"purpose": ""})
    assert response.status_code == 400
    assert not AccessEvent.objects.exists()
    response = page.post(reverse("register:export"), {"purpose": "ok"})
    assert response.status_code == 400
    assert "Say why you need these details in clear." in response.content.decode()
    response = page.post(reverse("register:export"), {"purpose": "区残联核对残疾人名单"})
    assert response.status_code == 200
    assert "unmasked" in response["Content-Disposition"]
    assert ELDER in str(sheet_rows(response.content))
    assert AccessEvent.objects.filter(purpose="区残联核对残疾人名单").count() == 3


def test_uploads_and_exports_need_the_csrf_token(worker, registered):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(worker)
    assert upload(browser, workbook([GOOD[0]])).status_code == 403
    assert browser.post(reverse("register:export"), {"purpose": "核对名单用途"}).status_code == 403
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.RESIDENT, Role.VOLUNTEER, Role.AUDITOR, Role.STREET_OFFICIAL]
)
def test_other_roles_get_403(community, role):
    user = with_role(role, COMMUNITY if role != Role.STREET_OFFICIAL else "990102001000")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert browser.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    for name in ("register:index", "register:template", "register:export"):
        assert browser.get(reverse(name)).status_code == 403
    assert upload(browser, b"x").status_code == 403
    assert not AccessEvent.objects.exists()


def test_the_page_needs_a_login(client):
    response = client.get(reverse("register:index"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- The command line --------------------------------------------------------------------------


@pytest.fixture
def linli():
    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, list(args), catch_exceptions=False)


def test_the_commands(linli, tmp_path, worker):
    template = tmp_path / "template.xlsx"
    result = linli("residents", "template", str(template))
    assert result.exit_code == 0, result.output
    filled = tmp_path / "filled.xlsx"
    book = load_workbook(template)
    for values in GOOD:
        book["Residents"].append([values.get(key) for key in KEYS])
    book.save(filled)
    result = linli("residents", "import", str(filled))
    assert result.exit_code == 0, result.output
    assert (
        "Residents: 3 registered. Households: 2 new, 0 already registered joined." in result.output
    )
    exported = tmp_path / "export.xlsx"
    result = linli("residents", "export", str(exported), "--as", "worker")
    assert result.exit_code == 0, result.output
    assert len(sheet_rows(exported.read_bytes())) == 3
    assert AccessEvent.objects.filter(actor=worker).count() == 3
    result = linli(
        "residents",
        "export",
        str(exported),
        "--as",
        "worker",
        "--unmasked",
        "--purpose",
        "年度核查",
    )
    assert result.exit_code == 0, result.output
    assert ELDER in str(sheet_rows(exported.read_bytes()))
    assert AccessEvent.objects.filter(actor=worker, purpose="年度核查").count() == 3


def test_the_import_command_lists_problems_and_changes_nothing(linli, tmp_path, worker):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([GOOD[0], row(name="赵六", phone="12345")]))
    result = linli("residents", "import", str(bad), "--as", "worker")
    assert result.exit_code == 1
    assert "row 3, 联系电话: A mobile number has 11 digits" in result.output
    assert "nothing was changed" in result.output
    assert not Resident.objects.exists()
    result = linli("residents", "import", str(bad), "--partial", "--as", "worker")
    assert result.exit_code == 0
    assert "1 row with problems was left out." in result.output
    assert Resident.objects.count() == 1


def test_the_commands_check_who_acts(linli, tmp_path, community):
    volunteer = with_role(Role.VOLUNTEER, COMMUNITY, "helper")
    data = tmp_path / "register.xlsx"
    data.write_bytes(workbook(GOOD))
    result = linli("residents", "import", str(data), "--as", "nobody")
    assert result.exit_code == 2
    assert "No account is named nobody." in result.output
    result = linli("residents", "import", str(data), "--as", volunteer.username)
    assert result.exit_code == 1
    assert "Only community workers keep the residents register." in result.output
    result = linli("residents", "export", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert "--as USERNAME" in result.output
    result = linli("residents", "export", str(tmp_path / "x.xlsx"), "--as", "helper", "--unmasked")
    assert result.exit_code == 2
    assert "--purpose" in result.output
    assert not Resident.objects.exists()
    assert not AccessEvent.objects.exists()
