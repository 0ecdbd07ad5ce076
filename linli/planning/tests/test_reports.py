"""Reports: the workbook read back, the PDF, `linli report` and the downloads."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from django.utils import translation
from openpyxl import load_workbook

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.registry import discover, linli_group
from linli.planning import accessibility, networks
from linli.planning.reports import build_pdf, build_workbook, report_data

from . import access_tree
from .indicator_tree import C1, C2, COUNTY, V1, V3, build_tree

DAY = "2025-01-01"


@pytest.fixture(autouse=True)
def network_dir(settings: Any, tmp_path: Path) -> Any:
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    settings.LINLI_PLANNING_DETOUR_FACTOR = 1.3
    networks.clear_cache()
    yield
    networks.clear_cache()


@pytest.fixture
def tree(db: Any) -> Any:
    return build_tree()


def sheet_rows(content: bytes, name: str) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content))
    return [tuple(r) for r in book[name].iter_rows(values_only=True)]


# --- the workbook ---------------------------------------------------------------------------


def test_the_workbook_has_indicators_gaps_accessibility_and_about(tree: Any) -> None:
    with translation.override("en"):
        data = report_data(tree.official, region_code="990102", day_text=DAY)
        content = build_workbook(data)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Indicators", "Coverage gaps", "Accessibility", "About"]

    indicators = sheet_rows(content, "Indicators")
    assert indicators[0] == (
        "Code",
        "Indicator",
        "Value",
        "Numerator",
        "Denominator",
        "Unit",
        "Target year",
        "Target",
        "Baseline year",
        "Baseline",
        "Progress (%)",
        "Met",
        "Verified",
    )
    by_code = {r[0]: r for r in indicators[1:]}
    rural = by_code["facility_coverage_rural"]
    assert rural[2:5] == (33.33, 1, 3)
    assert (rural[7], rural[9], rural[10], rural[11]) == (80, 65.7, 0, False)
    area = by_code["facility_area_per_100_households"]
    assert (area[2], area[10], area[11]) == (43.64, 100, True)
    instructors = by_code["sports_instructors_per_1000"]
    assert instructors[2:5] == (None, None, None)

    assert sheet_rows(content, "Coverage gaps") == [
        (
            "Community or village",
            "Code",
            "Population",
            "Nearest open comprehensive facility",
            "Straight-line distance (km)",
        ),
        (tree.regions[C2].display_name, C2, 2000, "F1", 1.11),
        (tree.regions[V3].display_name, V3, 1500, "F4", 2.22),
        (tree.regions[V1].display_name, V1, 1000, "F4", 1.11),  # its F3 closed 2024-05-01
    ]

    access = sheet_rows(content, "Accessibility")
    assert [r[:3] for r in access[1:]] == [
        (label, None, "no run") for label in (a.label for a in data.access)
    ]
    about = dict(r for r in sheet_rows(content, "About") if r[0])
    assert about["Region code"] == COUNTY
    assert about["Date"] == dt.datetime(2025, 1, 1)
    assert about["Places without a comprehensive facility"] == "3 of 5 (4500 residents)"
    assert about["Accessibility: Community health station"] == "no run"


def test_the_accessibility_sheet_reads_the_latest_run(db: Any) -> None:
    t = access_tree.build()
    access_tree.facility(-100.0, capacity=10, name="West station")
    run = accessibility.accessibility_run(
        actor=None, region_code="990102", kind="health_station", day="2025-06-01"
    )
    with translation.override("en"):
        # A street's report reads its county's run, cut to its own communities.
        data = report_data(t.official, region_code="990102001", day_text="2025-06-30")
        content = build_workbook(data)
    rows = sheet_rows(content, "Accessibility")
    header = rows[0]
    assert header[:8] == (
        "Facility kind",
        "Community code",
        "Community",
        "Population",
        "Share within 300 m",
        "Share within 500 m",
        "Share within 1,000 m",
        "Share within the 15-minute walk",
    )
    alone = header.index("Older person living alone beyond 1 km")
    station = {r[1]: r for r in rows[1:] if r[0] == "Community health station"}
    assert set(station) == {access_tree.A, access_tree.B}
    a, b = station[access_tree.A], station[access_tree.B]
    assert a[3:8] == (1000, 1, 1, 1, 1)
    # B is 1,060 m away in a straight line, × 1.3: beyond every distance.
    assert b[3:8] == (500, 0, 0, 0, 0)
    assert (a[alone], b[alone]) == (0, 6)
    assert (a[-2], a[-1]) == (run.pk, dt.datetime(2025, 6, 1))
    assert [r[2] for r in rows[1:] if r[0] == "Elderly day care"] == ["no run"]
    about = dict(r for r in sheet_rows(content, "About") if r[0])
    assert about["Accessibility: Community health station"] == (
        f"run {run.pk} as of 2025-06-01; distances: Straight line × detour factor"
    )
    # Before the run's date there is no run to read.
    with translation.override("en"):
        earlier = report_data(t.official, region_code="990102", day_text="2025-05-31")
    assert next(a for a in earlier.access if a.kind == "health_station").run is None


# --- the PDF --------------------------------------------------------------------------------


def test_the_pdf_is_a_pdf_with_the_region_in_chinese(tree: Any) -> None:
    with translation.override("zh-hans"):
        content = build_pdf(report_data(tree.official, region_code="990102", day_text=DAY))
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page\n" in content or b"/Type /Page " in content
    assert b"990102000000 2025-01-01" in content  # the document's subject
    assert b"STSong-Light" in content
    assert len(content) > 5000


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def linli(tree: Any) -> Callable[..., Result]:
    discover()
    runner = CliRunner()

    def invoke(*args: Any) -> Result:
        with translation.override("en"):
            return runner.invoke(linli_group, [str(a) for a in args])

    return invoke


def test_the_command_writes_a_workbook_and_a_pdf(
    linli: Callable[..., Result], tmp_path: Path
) -> None:
    book = tmp_path / "r.xlsx"
    result = linli("report", "990102", "--date", DAY, "--out", book)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"Report of Region 990102000000 as of 2025-01-01 written to {book}."
    )
    assert load_workbook(book).sheetnames[0] == "Indicators"
    pdf = tmp_path / "r.PDF"
    assert linli("report", "990102", "--date", DAY, "--out", pdf).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "networks") == [
        "r.PDF",
        "r.xlsx",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "990109", "--date", DAY), "No region 990109 in this deployment"),
        (("report", "99x", "--date", DAY), "A region code is made of digits"),
        (("report", "990102", "--date", "2025-13-01"), "date: Not a date"),
    ],
)
def test_bad_input_exits_1_and_writes_nothing(
    linli: Callable[..., Result], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "r.xlsx"
    result = linli(*args, "--out", out)
    assert result.exit_code == 1
    assert message in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name != "networks"] == []


def test_an_unknown_extension_or_folder_is_refused(
    linli: Callable[..., Result], tmp_path: Path
) -> None:
    result = linli("report", "990102", "--out", tmp_path / "r.csv")
    assert result.exit_code == 1
    assert "out: Write the report to a .xlsx or a .pdf file." in result.output
    result = linli("report", "990102", "--out", tmp_path / "missing" / "r.pdf")
    assert result.exit_code == 1
    assert "out: No folder" in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name != "networks"] == []


# --- the downloads --------------------------------------------------------------------------


def test_an_official_downloads_both_from_the_dashboard(tree: Any, client: Any) -> None:
    client.force_login(tree.official)
    page = client.get("/planning/", {"region": "990102", "date": DAY}).content.decode()
    assert 'href="/planning/report.xlsx?region=990102000000&amp;date=2025-01-01"' in page
    assert 'href="/planning/report.pdf?region=990102000000&amp;date=2025-01-01"' in page
    response = client.get("/planning/report.xlsx", {"region": "990102", "date": DAY})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == (
        'attachment; filename="linli-report-990102000000-2025-01-01.xlsx"'
    )
    assert "Coverage gaps" in load_workbook(io.BytesIO(response.content)).sheetnames
    response = client.get("/planning/report.pdf", {"region": "990102", "date": DAY})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_others_are_refused(tree: Any, client: Any) -> None:
    worker = UserFactory()
    RoleAssignmentFactory(user=worker, role=Role.COMMUNITY_WORKER, region=tree.regions[C1])
    client.force_login(worker)
    # Outside the worker's community: 403, whatever the format.
    for url in ("/planning/report.xlsx", "/planning/report.pdf"):
        response = client.get(url, {"region": "990102", "date": DAY})
        assert response.status_code == 403
        assert "outside the area you may see" in response.content.decode().lower()
    assert client.get("/planning/report.xlsx", {"region": C1}).status_code == 200
    client.force_login(tree.official)
    assert client.get("/planning/report.pdf", {"region": "990109"}).status_code == 404
    response = client.get("/planning/report.xlsx", {"region": "990102", "date": "soon"})
    assert response.status_code == 400
    assert "Not a date" in response.content.decode()
    client.force_login(UserFactory())  # no planning role at all
    assert client.get("/planning/report.xlsx").status_code == 403
    client.logout()
    assert client.get("/planning/report.xlsx").status_code == 302
