"""Reports of a region on a date: an Excel workbook and a PDF summary.

Both are built from one :class:`ReportData` read (indicators with targets and progress,
the coverage gap list, and the latest finished accessibility run of each facility kind),
so the two files never disagree. The web pages scope the region with the dashboard's own
selector; the command line (an operator, not scoped) only requires the region to be part
of the deployment. Files are written to a temporary file beside the target and renamed,
so a refusal or a crash never leaves a half-written report.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.directory.choices import FacilityKind
from linli.regions.models import Region

from . import accessibility, networks, selectors
from .indicators import compute
from .models import AccessibilityRun

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"
FORMATS = {".xlsx": "xlsx", ".pdf": "pdf"}
# The PDF lists the most populous gaps only; the workbook lists all the selector gives.
PDF_GAPS = 20
FONT = "STSong-Light"


@dataclass
class KindAccess:
    """One facility kind's latest finished run as of the date (None: no run), with the
    rows of the communities inside the report's region."""

    kind: str
    label: str
    run: AccessibilityRun | None
    thresholds: list[float]
    groups: list[str]
    communities: list[dict[str, Any]]

    def walk_share(self) -> float | None:
        population = sum(c["population"] for c in self.communities)
        if self.run is None or population <= 0:
            return None
        return sum(c["covered"][-1] for c in self.communities) / population


@dataclass
class ReportData:
    region: Region
    day: dt.date
    generated_at: dt.datetime
    rows: list[selectors.IndicatorRow]
    gaps: selectors.Gaps
    access: list[KindAccess]


# --- reading ------------------------------------------------------------------------------


def _run_for(region: Region, kind: str, day: dt.date) -> AccessibilityRun | None:
    """The region's own latest run, else the nearest ancestor's (a county's run holds the
    streets' and communities' figures too)."""
    current: Region | None = region
    while current is not None:
        run = accessibility.latest_run(current, kind, day)
        if run is not None:
            return run
        current = current.parent
    return None


def kind_access(region: Region, day: dt.date) -> list[KindAccess]:
    labels = dict(FacilityKind.choices)
    out = []
    for kind in accessibility.kinds():
        run = _run_for(region, kind, day)
        results = (run.results if run else None) or {}
        out.append(
            KindAccess(
                kind=kind,
                label=str(labels[kind]),
                run=run,
                thresholds=list(results.get("thresholds", [])),
                groups=list(results.get("groups", [])),
                communities=[
                    c
                    for c in results.get("communities", [])
                    if str(c["code"]).startswith(region.prefix)
                ],
            )
        )
    return out


def report_data(user: Any, *, region_code: str | None, day_text: str | None) -> ReportData:
    """Everything a report shows. `user` None is the operator at the command line: the
    region must then be given and be part of the deployment; otherwise the dashboard's
    scope check applies (PermissionDenied / NotFound)."""
    day = selectors.parse_day(day_text)
    if user is None:
        region = networks.resolve_region(region_code)
    else:
        region = selectors.dashboard_region(user, region_code)
    indicators = selectors.active_indicators()
    figures = compute(indicators, root_prefix=region.prefix, prefixes=[region.prefix], day=day)
    return ReportData(
        region=region,
        day=day,
        generated_at=timezone.localtime(),
        rows=selectors.indicator_rows(indicators, region, day, figures),
        gaps=selectors.coverage_gaps(region, day),
        access=kind_access(region, day),
    )


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def _k1000(thresholds: list[float]) -> int:
    return thresholds.index(1000.0) if 1000.0 in thresholds else len(thresholds) - 1


def _method(run: AccessibilityRun) -> str:
    return str(run.get_distance_method_display() or run.distance_method or "—")


def _group_label(code: str) -> str:
    from linli.residents.choices import PriorityGroup

    try:
        return str(PriorityGroup(code).label)
    except ValueError:
        return code


def filename(data: ReportData, fmt: str) -> str:
    return f"linli-report-{data.region.code}-{data.day.isoformat()}.{fmt}"


# --- the workbook ---------------------------------------------------------------------------


def build_workbook(data: ReportData) -> bytes:
    """Sheets "Indicators", "Coverage gaps", "Accessibility" and "About" (sheet names stay
    English so that formulas and scripts reading them work in every language; the
    headers and labels are in the reader's language)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()

    def header(sheet: Worksheet, cells: list[Any]) -> None:
        sheet.append([str(c) for c in cells])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"

    sheet = cast(Worksheet, book.active)
    sheet.title = "Indicators"
    header(
        sheet,
        [
            _("Code"),
            _("Indicator"),
            _("Value"),
            _("Numerator"),
            _("Denominator"),
            _("Unit"),
            _("Target year"),
            _("Target"),
            _("Baseline year"),
            _("Baseline"),
            _("Progress (%)"),
            _("Met"),
            _("Verified"),
        ],
    )
    for row in data.rows:
        figure = row.figure
        sheet.append(
            [
                row.indicator.code,
                row.indicator.display_name,
                _num(row.value),
                _num(figure.numerator) if figure else None,
                _num(figure.denominator) if figure else None,
                str(row.indicator.get_unit_display()),
                row.target.year if row.target else None,
                _num(row.target.value) if row.target else None,
                row.baseline.year if row.baseline else None,
                _num(row.baseline.value) if row.baseline else None,
                _num(row.progress),
                row.met,
                row.indicator.verified,
            ]
        )
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 40

    gaps = book.create_sheet("Coverage gaps")
    header(
        gaps,
        [
            _("Community or village"),
            _("Code"),
            _("Population"),
            _("Nearest open comprehensive facility"),
            _("Straight-line distance (km)"),
        ],
    )
    for gap in data.gaps.rows:
        gaps.append(
            [
                gap.region.display_name,
                gap.region.code,
                gap.region.population,
                gap.nearest.name if gap.nearest else None,
                gap.distance_km,
            ]
        )
    if data.gaps.more:
        gaps.append([_("%(count)s more places are not listed.") % {"count": data.gaps.more}])
    gaps.column_dimensions["A"].width = 30
    gaps.column_dimensions["D"].width = 34

    access = book.create_sheet("Accessibility")
    groups = list(networks.GROUP_CODES)
    header(
        access,
        [
            _("Facility kind"),
            _("Community code"),
            _("Community"),
            _("Population"),
            _("Share within 300 m"),
            _("Share within 500 m"),
            _("Share within 1,000 m"),
            _("Share within the 15-minute walk"),
            *(_("%(group)s beyond 1 km") % {"group": _group_label(g)} for g in groups),
            _("E2SFCA mean (per 1,000 residents)"),
            _("Run"),
            _("Run as of"),
        ],
    )
    for item in data.access:
        if item.run is None:
            access.append([item.label, None, _("no run")])
            continue
        k1000 = _k1000(item.thresholds)
        for c in item.communities:
            pop = c["population"]
            shares = [_share(x, pop) for x in c["covered"]]
            beyond = []
            for g in groups:
                values = c["groups"].get(g)
                beyond.append(
                    None if values is None else round(max(values[0] - values[1 + k1000], 0.0), 1)
                )
            access.append(
                [
                    item.label,
                    c["code"],
                    c["name"],
                    pop,
                    *(shares + [None] * 4)[:4],
                    *beyond,
                    c["e2sfca_mean"],
                    item.run.pk,
                    item.run.as_of,
                ]
            )
    access.column_dimensions["A"].width = 24
    access.column_dimensions["C"].width = 24

    about = book.create_sheet("About")
    about.append([_("Region"), data.region.display_name])
    about.append([_("Region code"), data.region.code])
    about.append([_("Date"), data.day])
    about.append([_("Generated at"), data.generated_at.replace(tzinfo=None, microsecond=0)])
    about.append(
        [
            _("Places without a comprehensive facility"),
            _("%(count)s of %(places)s (%(population)s residents)")
            % {
                "count": data.gaps.count,
                "places": data.gaps.places,
                "population": data.gaps.population,
            },
        ]
    )
    for item in data.access:
        if item.run is None:
            text = _("no run")
        else:
            text = _("run %(id)s as of %(day)s; distances: %(method)s") % {
                "id": item.run.pk,
                "day": item.run.as_of.isoformat(),
                "method": _method(item.run),
            }
        about.append([_("Accessibility: %(kind)s") % {"kind": item.label}, text])
    about.column_dimensions["A"].width = 40
    about.column_dimensions["B"].width = 60
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


# --- the PDF ------------------------------------------------------------------------------------


def build_pdf(data: ReportData) -> bytes:
    """An A4 summary: title block, indicator table and a bar chart of progress toward the
    targets, the most populous gaps, and the 15-minute coverage of each kind. Chinese is
    set in reportlab's CID font STSong-Light, which PDF readers supply."""
    from reportlab.graphics.charts.barcharts import (  # type: ignore[import-untyped]
        HorizontalBarChart,
    )
    from reportlab.graphics.shapes import Drawing  # type: ignore[import-untyped]
    from reportlab.lib import colors  # type: ignore[import-untyped]
    from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
    from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
    from reportlab.lib.units import mm  # type: ignore[import-untyped]
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
    from reportlab.platypus import (  # type: ignore[import-untyped]
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))

    def style(size: float, **extra: Any) -> Any:
        return ParagraphStyle(
            f"r{size}", fontName=FONT, fontSize=size, leading=size * 1.45, wordWrap="CJK", **extra
        )

    title, heading, body, small = style(18, spaceAfter=3 * mm), style(13), style(10), style(8)

    def p(text: Any, st: Any = None) -> Any:
        # STSong-Light has no "²" glyph (m² drew as a box): set the 2 as a superscript.
        return Paragraph(escape(str(text)).replace("²", "<super>2</super>"), st or small)

    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def bars(labels: list[str], values: list[float], width: float, high: float) -> Any:
        """A horizontal bar chart of percentages (0-100), one bar per label."""
        row_height = 6 * mm
        height = row_height * len(labels) + 14 * mm
        drawing = Drawing(width, height)
        chart = HorizontalBarChart()
        chart.x, chart.y = 62 * mm, 8 * mm
        chart.width, chart.height = width - 70 * mm, row_height * len(labels)
        # reportlab draws the first category at the bottom: reverse to read top-down.
        chart.data = [list(reversed(values))]
        chart.categoryAxis.categoryNames = [lbl[:28] for lbl in reversed(labels)]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 7
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, high
        chart.valueAxis.valueStep = 20
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.bars[0].fillColor = colors.HexColor("#2b7a78")
        chart.barLabelFormat = "%.0f%%"
        chart.barLabels.fontName = FONT
        chart.barLabels.fontSize = 6
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 2
        drawing.add(chart)
        return drawing

    width = A4[0] - 36 * mm
    region = data.region
    story: list[Any] = [
        p(_("Community service facilities: report"), title),
        p(f"{region.display_name} ({region.code})", heading),
        p(
            _("As of %(day)s; generated at %(at)s by Linli.")
            % {"day": data.day.isoformat(), "at": data.generated_at.strftime("%Y-%m-%d %H:%M")},
            body,
        ),
        Spacer(1, 5 * mm),
        p(_("Indicators"), heading),
    ]

    def figure(value: Any, unit: str = "") -> str:
        return "—" if value is None else f"{float(value):,.2f}{unit}"

    rows = [[p(_("Indicator")), p(_("Value")), p(_("Target")), p(_("Baseline")), p(_("Progress"))]]
    chart_labels: list[str] = []
    chart_values: list[float] = []
    for row in data.rows:
        unit = row.indicator.unit_symbol
        name = row.indicator.display_name
        if not row.indicator.verified:
            name = f"{name} *"
        value = figure(row.value, unit) if row.computed else _("not computed")
        target = f"{figure(row.target.value, unit)} ({row.target.year})" if row.target else "—"
        baseline = (
            f"{figure(row.baseline.value, unit)} ({row.baseline.year})" if row.baseline else "—"
        )
        progress = "—" if row.progress is None else f"{float(row.progress):.1f}%"
        rows.append([p(name), p(value), p(target), p(baseline), p(progress)])
        if row.progress is not None:
            chart_labels.append(row.indicator.display_name)
            chart_values.append(max(0.0, min(100.0, float(row.progress))))
    story.append(
        Table(
            rows,
            colWidths=[70 * mm, 24 * mm, 30 * mm, 30 * mm, 20 * mm],
            style=grid,
            repeatRows=1,
        )
    )
    story.append(p(_("* an unverified default definition or target.")))
    if chart_values:
        story += [
            Spacer(1, 3 * mm),
            p(_("Progress toward the targets (%)"), body),
            bars(chart_labels, chart_values, width, 100),
        ]

    story += [Spacer(1, 5 * mm), p(_("Places without a comprehensive facility"), heading)]
    story.append(
        p(
            _(
                "%(count)s of %(places)s communities and villages have no open comprehensive "
                "service facility (%(population)s residents)."
            )
            % {
                "count": data.gaps.count,
                "places": data.gaps.places,
                "population": data.gaps.population,
            },
            body,
        )
    )
    shown = data.gaps.rows[:PDF_GAPS]
    if shown:
        gap_rows = [
            [
                p(_("Community or village")),
                p(_("Population")),
                p(_("Nearest open facility")),
                p(_("Distance (km)")),
            ]
        ]
        gap_rows += [
            [
                p(f"{g.region.display_name} ({g.region.code})"),
                p("—" if g.region.population is None else f"{g.region.population:,}"),
                p(g.nearest.name if g.nearest else "—"),
                p("—" if g.distance_km is None else f"{g.distance_km:.2f}"),
            ]
            for g in shown
        ]
        story.append(Table(gap_rows, colWidths=[70 * mm, 24 * mm, 56 * mm, 24 * mm], style=grid))
        rest = data.gaps.count - len(shown)
        if rest > 0:
            story.append(p(_("%(count)s more places are not listed.") % {"count": rest}))

    story += [Spacer(1, 5 * mm), p(_("Within the 15-minute walk, by facility kind"), heading)]
    measured = [(a, a.walk_share()) for a in data.access]
    with_run = [(a, s) for a, s in measured if s is not None and a.run is not None]
    if with_run:
        story.append(
            bars([a.label for a, _s in with_run], [100 * s for _a, s in with_run], width, 100)
        )
    missing = [a.label for a, s in measured if s is None or a.run is None]
    if missing:
        story.append(p(_("No accessibility run: %(kinds)s") % {"kinds": "、".join(missing)}))
    for a in data.access:
        if a.run is not None:
            story.append(
                p(
                    _("%(kind)s: run %(id)s as of %(day)s; distances: %(method)s")
                    % {
                        "kind": a.label,
                        "id": a.run.pk,
                        "day": a.run.as_of.isoformat(),
                        "method": _method(a.run),
                    }
                )
            )

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{_('Community service facilities: report')} {region.display_name}",
        # The region code and date in plain text in the document's information, so that a
        # reader (or a test) finds them without unpacking the page streams.
        subject=f"{region.code} {data.day.isoformat()}",
        author="Linli",
        creator="Linli",
    )
    document.build(story)
    return out.getvalue()


# --- files ----------------------------------------------------------------------------------------


def build(data: ReportData, fmt: str) -> bytes:
    return build_workbook(data) if fmt == "xlsx" else build_pdf(data)


def write_atomic(path: Path, content: bytes) -> None:
    """Write to a temporary file in the target's folder, then rename it over the target:
    a reader never sees half a file, and a failure leaves no file behind."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        # mkstemp makes the file private (0600); a report gets the usual permissions.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
