"""Writing the workbook: the empty template and the export share one layout.

Sheets: Instructions (what each column takes), Organizations, Facilities, and a
hidden Lists sheet behind the drop-downs (kinds, the communities and villages
the user may add facilities to). Everything a person reads is in the active
language; the importer reads either language back.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from linli.accounts.models import User
from linli.accounts.selectors import user_scope
from linli.directory.choices import AccessibilityFeature, FacilityKind, OrganizationKind
from linli.directory.models import Location, Organization
from linli.directory.services import EVERYWHERE, directory_write_scope
from linli.regions.models import Region

from .columns import (
    FACILITIES,
    INSTRUCTIONS_TITLE,
    LISTS_TITLE,
    ORGANIZATIONS,
    SheetLayout,
    list_separator,
)
from .hours import format_hours
from .records import (
    communities_in,
    facilities_in,
    facility_values,
    organization_cell,
    organization_values,
    organizations_in,
    region_cell,
    shared_organization_names,
)

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Beyond this many communities a drop-down helps nobody (and slows Excel): type the code.
MAX_DROPDOWN_REGIONS = 3000
# Drop-downs and text formats reach this far below the last row written.
SPARE_ROWS = 1000
HEADER_FILL = PatternFill("solid", fgColor="EDE7DD")
REQUIRED_FILL = PatternFill("solid", fgColor="F4C7C3")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _labels(choices: type[models.TextChoices]) -> list[str]:
    return [str(label) for label in choices.labels]


def _write_header(sheet: Worksheet, layout: SheetLayout) -> None:
    for index, column in enumerate(layout.columns, start=1):
        cell = sheet.cell(row=1, column=index, value=str(column.header))
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cell.alignment = WRAP
        cell.comment = Comment(str(column.help), "Linli")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"


def _write_rows(sheet: Worksheet, layout: SheetLayout, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    for row_number, values in enumerate(rows, start=2):
        for index, column in enumerate(layout.columns, start=1):
            value = values.get(column.key)
            if value in ("", None):
                continue
            cell = sheet.cell(row=row_number, column=index, value=value)
            if column.text:
                cell.number_format = "@"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
        count += 1
    return count


def _organization_cells(organization: Organization) -> dict[str, Any]:
    values = organization_values(organization)
    values["id"] = str(values["id"])
    values["kind"] = organization.get_kind_display() if organization.kind else ""
    values["region"] = region_cell(organization.region)
    return values


def _number(value: Decimal | None) -> Decimal | int | None:
    """Whole areas as whole numbers, so the sheet shows 120 rather than 120.0."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value


def _facility_cells(facility: Location, shared_names: set[str]) -> dict[str, Any]:
    values = facility_values(facility)
    values["id"] = str(values["id"])
    values["kind"] = facility.get_kind_display()
    values["region"] = region_cell(facility.region)
    values["organization"] = organization_cell(facility.organization, shared_names)
    values["floor_area_m2"] = _number(values["floor_area_m2"])
    values["activity_area_m2"] = _number(values["activity_area_m2"])
    values["hours"] = format_hours(values["hours"])
    values["accessibility"] = list_separator().join(
        str(AccessibilityFeature(code).label) for code in values["accessibility"]
    )
    return values


def _list_column(sheet: Worksheet, column: int, title: str, values: Sequence[str]) -> str | None:
    """Write a drop-down's values down a column of the Lists sheet; return the range's formula."""
    sheet.cell(row=1, column=column, value=title).font = BOLD
    for row, value in enumerate(values, start=2):
        sheet.cell(row=row, column=column, value=value)
    if not values:
        return None
    letter = get_column_letter(column)
    return f"{quote_sheetname(sheet.title)}!${letter}$2:${letter}${len(values) + 1}"


def _drop_down(
    sheet: Worksheet,
    layout: SheetLayout,
    key: str,
    formula: str | None,
    last_row: int,
    *,
    strict: bool,
) -> None:
    if formula is None:
        return
    index = next(i for i, c in enumerate(layout.columns, start=1) if c.key == key)
    letter = get_column_letter(index)
    validation = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop" if strict else "warning",
        errorTitle=str(layout.column(key).header),
        error=_("Pick a value from the list."),
    )
    validation.add(f"{letter}2:{letter}{last_row}")
    sheet.add_data_validation(validation)


def _write_instructions(sheet: Worksheet, communities_listed: bool) -> None:
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 30
    sheet.column_dimensions["C"].width = 10
    sheet.column_dimensions["D"].width = 80
    title = sheet.cell(row=1, column=1, value=_("How to fill in this workbook"))
    title.font = Font(bold=True, size=16)
    notes = [
        _(
            "One row per organization on the sheet “%(organizations)s”, "
            "one per facility on “%(facilities)s”."
        )
        % {
            "organizations": str(ORGANIZATIONS.title),
            "facilities": str(FACILITIES.title),
        },
        _(
            "Leave “%(id)s” empty to add a record; keep it to update the record the row came "
            "from. An import never deletes anything."
        )
        % {"id": str(ORGANIZATIONS.column("id").header)},
        _(
            "A facility names its organization by credit code or exact name; an organization "
            "added on the organizations sheet of the same file can be named."
        ),
        _(
            "If any row has a problem the whole file is refused and every problem is listed "
            "with its sheet, row and column; you may instead choose to import only the good rows."
        ),
        _("Column headers may be in Chinese or English; columns may be in any order."),
        _("Columns marked in red must be filled in for a new record."),
    ]
    if not communities_listed:
        notes.append(
            _("Your area has too many communities and villages for a drop-down: type the code.")
        )
    row = 2
    for note in notes:
        sheet.cell(row=row, column=1, value=note)
        row += 1
    row += 1
    for index, heading in enumerate(
        (_("Sheet"), _("Column"), _("Required"), _("What to enter")), start=1
    ):
        cell = sheet.cell(row=row, column=index, value=heading)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    allowed: dict[tuple[str, str], list[str]] = {
        (ORGANIZATIONS.key, "kind"): _labels(OrganizationKind),
        (FACILITIES.key, "kind"): _labels(FacilityKind),
        (FACILITIES.key, "accessibility"): _labels(AccessibilityFeature),
    }
    for layout in (ORGANIZATIONS, FACILITIES):
        for column in layout.columns:
            row += 1
            help_text = str(column.help)
            values = allowed.get((layout.key, column.key))
            if values:
                help_text += " " + _("Allowed: %(values)s.") % {
                    "values": list_separator().join(values)
                }
            cells: tuple[tuple[int, Any], ...] = (
                (1, str(layout.title)),
                (2, str(column.header)),
                (3, _("Yes") if column.required else _("No")),
                (4, help_text),
            )
            for col, value in cells:
                sheet.cell(row=row, column=col, value=value).alignment = WRAP


def build_workbook(
    *,
    organizations: Iterable[Organization] = (),
    facilities: Iterable[Location] = (),
    communities: Sequence[Region] | None,
) -> Workbook:
    """The workbook in the active language; `communities=None` leaves out that drop-down."""
    book = Workbook()
    instructions = book.worksheets[0]
    instructions.title = str(INSTRUCTIONS_TITLE)
    org_sheet = book.create_sheet(str(ORGANIZATIONS.title))
    facility_sheet = book.create_sheet(str(FACILITIES.title))
    lists = book.create_sheet(str(LISTS_TITLE))
    lists.sheet_state = "hidden"

    _write_header(org_sheet, ORGANIZATIONS)
    _write_header(facility_sheet, FACILITIES)
    org_count = _write_rows(org_sheet, ORGANIZATIONS, map(_organization_cells, organizations))
    shared_names = shared_organization_names()
    facility_count = _write_rows(
        facility_sheet, FACILITIES, (_facility_cells(f, shared_names) for f in facilities)
    )

    org_kinds = _list_column(
        lists, 1, str(ORGANIZATIONS.column("kind").header), _labels(OrganizationKind)
    )
    facility_kinds = _list_column(
        lists, 2, str(FACILITIES.column("kind").header), _labels(FacilityKind)
    )
    listed = communities is not None and len(communities) <= MAX_DROPDOWN_REGIONS
    region_list = _list_column(
        lists,
        3,
        str(FACILITIES.column("region").header),
        [region_cell(r) for r in communities] if communities is not None and listed else [],
    )
    _drop_down(org_sheet, ORGANIZATIONS, "kind", org_kinds, org_count + SPARE_ROWS, strict=True)
    last = facility_count + SPARE_ROWS
    _drop_down(facility_sheet, FACILITIES, "kind", facility_kinds, last, strict=True)
    # A warning, not a refusal: a code typed by hand (or pasted) is fine too.
    _drop_down(facility_sheet, FACILITIES, "region", region_list, last, strict=False)
    _write_instructions(instructions, listed)
    return book


def workbook_bytes(book: Workbook) -> bytes:
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def directory_template_xlsx(*, actor: User | None, under: str | None = None) -> bytes:
    """The empty workbook, its drop-down offering the communities the actor may add to."""
    write_scope = directory_write_scope(actor)
    communities = list(communities_in(write_scope, under=under)[: MAX_DROPDOWN_REGIONS + 1])
    return workbook_bytes(build_workbook(communities=communities))


def directory_export_xlsx(*, actor: User | None, under: str | None = None) -> bytes:
    """The organizations and facilities in the actor's scope, in the template's layout."""
    write_scope = directory_write_scope(actor)
    scope = EVERYWHERE if actor is None else user_scope(actor)
    communities = list(communities_in(write_scope, under=under)[: MAX_DROPDOWN_REGIONS + 1])
    book = build_workbook(
        organizations=organizations_in(scope, under=under),
        facilities=facilities_in(scope, under=under),
        communities=communities,
    )
    return workbook_bytes(book)
