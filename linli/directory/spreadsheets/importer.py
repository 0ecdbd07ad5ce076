"""Reading a filled workbook back: every row through the directory's write services.

All or nothing by default: every row is tried inside one transaction, every
problem is collected with its sheet, row and column, and if there is any the
transaction is rolled back and `ImportRejected` lists them. With `partial=True`
each good row is kept and the bad ones are reported. A row with a record ID
updates that record (only the columns whose value changed); a row without one
adds a record. Rows equal to what is stored write nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, BinaryIO, cast

from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from linli.accounts.models import User
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import ImportRejected, PermissionDenied, RowError, ValidationFailed
from linli.directory import services
from linli.directory.choices import AccessibilityFeature, FacilityKind, OrganizationKind
from linli.directory.models import Location, Organization
from linli.directory.validators import CREDIT_CODE_ALPHABET

from .columns import (
    FACILITIES,
    LANGUAGES,
    ORGANIZATIONS,
    SheetLayout,
    header_index,
    in_both_languages,
    list_separator,
    normalise_header,
)
from .hours import HoursUnreadable, parse_hours
from .records import facilities_in, facility_values, organization_values, organizations_in

MAX_ROWS = 5000
MAX_COLUMNS = 60
# A city's whole directory unpacks to a few megabytes of XML.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_REGION_CELL = re.compile(r"^(\d+)(?:\s.*)?$", re.DOTALL)
_LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# What a service calls a field, when the sheet calls its column something else.
_FIELD_COLUMNS = {"features": "accessibility"}


@dataclass(frozen=True)
class SheetRowError(RowError):
    """One problem in one cell of a sheet (row 1 is the header; `field` is the column header)."""

    sheet: str = ""

    def __str__(self) -> str:
        return _("sheet %(sheet)s, row %(row)s, %(column)s: %(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.field or "—",
            "message": self.message,
        }


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class SpreadsheetReport:
    organizations: SheetCounts = field(default_factory=SheetCounts)
    facilities: SheetCounts = field(default_factory=SheetCounts)
    # With partial=True: the problems of the rows left out.
    errors: list[SheetRowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.organizations.created + self.facilities.created

    @property
    def updated(self) -> int:
        return self.organizations.updated + self.facilities.updated

    @property
    def unchanged(self) -> int:
        return self.organizations.unchanged + self.facilities.unchanged

    @property
    def rows_refused(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors})


def _not_a_workbook() -> ValidationFailed:
    message = _(
        "This is not an Excel workbook (.xlsx). In Excel, choose Save As, "
        "“Excel Workbook (*.xlsx)”, and upload that file."
    )
    return ValidationFailed(message, fields={"file": [message]})


@dataclass
class _Sheet:
    layout: SheetLayout
    title: str
    # Column key → (index in the row, header as written).
    columns: dict[str, tuple[int, str]]
    rows: list[tuple[int, tuple[Any, ...]]]


def open_workbook(data: bytes, *, max_unpacked_bytes: int | None = None) -> Workbook:
    """The workbook opened to stream its rows (read-only), or `ValidationFailed` saying why not.

    Shared by every spreadsheet import: it refuses what is not an .xlsx and a file that
    unpacks beyond `max_unpacked_bytes` (MAX_UNPACKED_BYTES by default). Close it after use.
    """
    limit = MAX_UNPACKED_BYTES if max_unpacked_bytes is None else max_unpacked_bytes
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_a_workbook() from None
    if unpacked > limit:
        # A small file that unpacks to gigabytes is an attack, or a sheet no one should upload.
        message = _("This workbook is too large to read; split it into smaller workbooks.")
        raise ValidationFailed(message, fields={"file": [message]})
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        # openpyxl raises many kinds of errors on a damaged or foreign zip; all mean the same.
        raise _not_a_workbook() from error


def _read_sheets(data: bytes) -> tuple[list[_Sheet], list[str], list[SheetRowError]]:
    """The organizations and facilities sheets of the file, all cells read into memory."""
    book = open_workbook(data)
    sheets: list[_Sheet] = []
    warnings: list[str] = []
    errors: list[SheetRowError] = []
    try:
        for worksheet in book.worksheets:
            rows = worksheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
            header = next(rows, None)
            layout = _layout_of(worksheet.title, header or ())
            if layout is None:
                continue
            sheet = _Sheet(layout, worksheet.title, {}, [])
            _map_header(sheet, header or (), warnings, errors)
            for number, values in enumerate(rows, start=2):
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                if len(sheet.rows) >= MAX_ROWS:
                    message = _("At most %(count)s rows a sheet; split the file.") % {
                        "count": MAX_ROWS
                    }
                    raise ValidationFailed(message, fields={"file": [message]})
                sheet.rows.append((number, tuple(values)))
            sheets.append(sheet)
    except ValidationFailed:
        raise
    except Exception as error:
        # A damaged sheet shows up only while its rows are read (openpyxl reads lazily).
        raise _not_a_workbook() from error
    finally:
        book.close()
    if not sheets:
        message = _(
            "No sheet of organizations or facilities was found: the first row of a sheet "
            "must hold the column headers of the template."
        )
        raise ValidationFailed(message, fields={"file": [message]})
    sheets.sort(key=lambda s: 0 if s.layout is ORGANIZATIONS else 1)
    return sheets, warnings, errors


def _layout_of(title: str, header: Sequence[Any]) -> SheetLayout | None:
    """Which sheet this is: by its name column, else by its title (in either language)."""
    found = {normalise_header(h) for h in header if h is not None}
    for layout in (FACILITIES, ORGANIZATIONS):
        if found & in_both_languages(layout.column(layout.marker).header):
            return layout
    for layout in (ORGANIZATIONS, FACILITIES):
        if normalise_header(title) in in_both_languages(layout.title):
            return layout
    return None


def _map_header(
    sheet: _Sheet, header: Sequence[Any], warnings: list[str], errors: list[SheetRowError]
) -> None:
    index = header_index(sheet.layout)
    for position, text in enumerate(header):
        if text is None or not str(text).strip():
            continue
        key = index.get(normalise_header(text))
        if key is None:
            warnings.append(
                _(
                    "Sheet %(sheet)s: the column “%(column)s” is not one Linli knows; "
                    "it was ignored."
                )
                % {"sheet": sheet.title, "column": text}
            )
        elif key in sheet.columns:
            errors.append(
                SheetRowError(1, str(text), _("This column appears twice."), sheet=sheet.title)
            )
        else:
            sheet.columns[key] = (position, str(text).strip())
    for column in sheet.layout.columns:
        if column.required and column.key not in sheet.columns:
            errors.append(
                SheetRowError(
                    1, str(column.header), _("This column is missing."), sheet=sheet.title
                )
            )


# --- Reading cells ---------------------------------------------------------------------


class _Bad(ValueError):
    """A cell that cannot be read; the message says why."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _code_text(value: Any) -> str:
    """A code typed into a cell Excel took for a number has lost its digits: say so."""
    if isinstance(value, float) and (not value.is_integer() or abs(value) >= 2**53):
        raise _Bad(
            _("Excel stored this code as a number and lost digits; format the column as text.")
        )
    return _text(value)


def _decimal(value: Any) -> Decimal | None:
    text = _text(value).replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        number = Decimal(str(value) if isinstance(value, int | float) else text)
    except InvalidOperation:
        raise _Bad(_("Not a number: %(value)s") % {"value": text}) from None
    if not number.is_finite():
        raise _Bad(_("Not a number: %(value)s") % {"value": text})
    return number


def _area(value: Any) -> Decimal | None:
    number = _decimal(value)
    return None if number is None else number.quantize(services.AREA_STEP, ROUND_HALF_UP)


def _float(value: Any) -> float | None:
    number = _decimal(value)
    return None if number is None else float(number)


def _whole(value: Any) -> int | None:
    number = _decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _Bad(_("Not a whole number: %(value)s") % {"value": _text(value)})
    return int(number)


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    match = _DATE_TEXT.match(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _Bad(_("Not a date: %(value)s; write e.g. 2021-06-01.") % {"value": text}) from None


def _choice_reader(choices: type[models.TextChoices]) -> Callable[[Any], str]:
    """A kind given by its label in either language, or by its code."""
    known: dict[str, str] = {}
    for value, label in zip(choices.values, choices.labels, strict=True):
        known[value.casefold()] = value
        for language in LANGUAGES:
            with translation.override(language):
                known[str(label).strip().casefold()] = value

    def read(cell: Any) -> str:
        text = _text(cell)
        if not text:
            return ""
        found = known.get(text.casefold())
        if found is None:
            raise _Bad(
                _("Unknown value %(value)s; use one of: %(choices)s.")
                % {"value": text, "choices": list_separator().join(map(str, choices.labels))}
            )
        return found

    return read


def _features_reader() -> Callable[[Any], tuple[str, ...]]:
    read_one = _choice_reader(AccessibilityFeature)

    def read(cell: Any) -> tuple[str, ...]:
        found: list[str] = []
        for part in _LIST_SEPARATORS.split(_text(cell)):
            if part.strip():
                found.append(read_one(part.strip()))
        return tuple(code for code in AccessibilityFeature.values if code in found)

    return read


def _region(value: Any) -> str:
    """A region by its 12-digit code, optionally followed by its name (as the lists show)."""
    text = _code_text(value)
    if not text:
        return ""
    match = _REGION_CELL.match(text)
    if match is None or len(match[1]) != 12:
        raise _Bad(_("A region code has exactly 12 digits."))
    return match[1]


def _hours(value: Any) -> list[services.WeeklyHours]:
    text = _text(value)
    if not text:
        return []
    try:
        return parse_hours(text)
    except HoursUnreadable as error:
        raise _Bad(str(error)) from None


def _credit_code_like(text: str) -> bool:
    return len(text) == 18 and all(c in CREDIT_CODE_ALPHABET for c in text.upper())


# --- Rows ----------------------------------------------------------------------------------


class _Run:
    """One import: the actor, what they may see, and the readers built once."""

    def __init__(self, *, actor: User | None):
        self.actor = actor
        services.directory_write_scope(actor)  # PermissionDenied before anything is read
        self.read_scope: Scope = services.EVERYWHERE if actor is None else user_scope(actor)
        self.report = SpreadsheetReport()
        self.errors: list[SheetRowError] = []
        self.organization_kind = _choice_reader(OrganizationKind)
        self.facility_kind = _choice_reader(FacilityKind)
        self.features = _features_reader()
        self.organizations_by_reference: dict[str, Organization | str] = {}

    def readers(self, layout: SheetLayout) -> dict[str, Callable[[Any], Any]]:
        common: dict[str, Callable[[Any], Any]] = {
            "name": _text,
            "alternate_name": _text,
            "description": _text,
            "phone": _code_text,
            "region": _region,
        }
        if layout is ORGANIZATIONS:
            return common | {
                "credit_code": _code_text,
                "kind": self.organization_kind,
                "email": _text,
                "website": _text,
            }
        return common | {
            "kind": self.facility_kind,
            "organization": self.organization,
            "address": _text,
            "latitude": _float,
            "longitude": _float,
            "floor_area_m2": _area,
            "activity_area_m2": _area,
            "capacity": _whole,
            "opened_on": _date,
            "closed_on": _date,
            "hours": _hours,
            "accessibility": self.features,
        }

    def organization(self, value: Any) -> Organization | None:
        """An organization by credit code, else by exact name (including ones added earlier)."""
        text = _code_text(value)
        if not text:
            return None
        if text not in self.organizations_by_reference:
            self.organizations_by_reference[text] = self._find_organization(text)
        found = self.organizations_by_reference[text]
        if isinstance(found, str):
            raise _Bad(found)
        return found

    def _find_organization(self, text: str) -> Organization | str:
        try:
            # Exports name an organization that has neither a code nor a unique name by its ID.
            by_id = Organization.objects.filter(pk=uuid.UUID(text)).first()
        except ValueError:
            by_id = None
        if by_id is not None:
            return by_id
        if _credit_code_like(text):
            by_code = Organization.objects.filter(credit_code=text.upper()).first()
            if by_code is not None:
                return by_code
        named = list(Organization.objects.filter(name=text)[:2])
        if len(named) == 1:
            return named[0]
        if named:
            return _("Several organizations are named %(name)s; give its credit code.") % {
                "name": text
            }
        return _("No organization has this credit code or name: %(value)s") % {"value": text}

    def run(self, sheets: list[_Sheet]) -> None:
        for sheet in sheets:
            readers = self.readers(sheet.layout)
            existing = self._existing(sheet)
            first_row_of: dict[uuid.UUID, int] = {}
            for number, cells in sheet.rows:
                self._row(sheet, readers, existing, first_row_of, number, cells)
            if sheet.layout is ORGANIZATIONS:
                # Facilities below may name organizations this sheet just added or renamed.
                self.organizations_by_reference.clear()

    def _existing(self, sheet: _Sheet) -> dict[uuid.UUID, models.Model]:
        """The stored records the sheet's IDs point at, if the user may see them."""
        if "id" not in sheet.columns:
            return {}
        position = sheet.columns["id"][0]
        ids = set()
        for _number, cells in sheet.rows:
            try:
                ids.add(uuid.UUID(_text(cells[position] if position < len(cells) else None)))
            except ValueError:
                continue
        if sheet.layout is ORGANIZATIONS:
            records: list[models.Model] = list(organizations_in(self.read_scope).filter(pk__in=ids))
        else:
            records = list(facilities_in(self.read_scope).filter(pk__in=ids))
        return {cast(uuid.UUID, r.pk): r for r in records}

    def _row(
        self,
        sheet: _Sheet,
        readers: dict[str, Callable[[Any], Any]],
        existing: dict[uuid.UUID, models.Model],
        first_row_of: dict[uuid.UUID, int],
        number: int,
        cells: tuple[Any, ...],
    ) -> None:
        problems: list[SheetRowError] = []

        def problem(key: str, message: str) -> None:
            header = (
                sheet.columns[key][1]
                if key in sheet.columns
                else (str(sheet.layout.column(key).header) if key else "")
            )
            problems.append(SheetRowError(number, header, message, sheet=sheet.title))

        values: dict[str, Any] = {}
        for key, (position, _header) in sheet.columns.items():
            if key == "id":
                continue
            cell = cells[position] if position < len(cells) else None
            try:
                values[key] = readers[key](cell)
            except _Bad as error:
                problem(key, str(error))
        record: models.Model | None = None
        if "id" in sheet.columns:
            position = sheet.columns["id"][0]
            id_text = _text(cells[position] if position < len(cells) else None)
            if id_text:
                record = self._record_for(sheet, existing, first_row_of, number, id_text, problem)
                if record is None:
                    self._finish(sheet, problems, counted=None)
                    return
        changes = values
        if record is not None:
            current = (
                organization_values(cast(Organization, record))
                if sheet.layout is ORGANIZATIONS
                else facility_values(cast(Location, record))
            )
            changes = {k: v for k, v in values.items() if not _same(k, current.get(k), v)}
            if not changes and not problems:
                self._count(sheet, "unchanged")
                return
        failed = {p.field for p in problems}
        point = transaction.savepoint()
        try:
            if sheet.layout is ORGANIZATIONS:
                self._write_organization(cast(Organization | None, record), changes)
            else:
                self._write_facility(cast(Location | None, record), changes)
        except ValidationFailed as error:
            for key, reasons in error.fields.items():
                column_key = _FIELD_COLUMNS.get(key, key)
                header = sheet.columns.get(column_key, (0, ""))[1]
                if header and header in failed:
                    continue  # The cell itself could not be read; that is the problem to fix.
                known = any(c.key == column_key for c in sheet.layout.columns)
                for reason in reasons:
                    problem(column_key if known else "", reason)
            if not error.fields:
                problem("", error.message)
        except PermissionDenied as error:
            problem("id" if record is not None else "region", error.message)
        if problems:
            transaction.savepoint_rollback(point)
        else:
            transaction.savepoint_commit(point)
        self._finish(sheet, problems, counted="created" if record is None else "updated")

    def _record_for(
        self,
        sheet: _Sheet,
        existing: dict[uuid.UUID, models.Model],
        first_row_of: dict[uuid.UUID, int],
        number: int,
        id_text: str,
        problem: Callable[[str, str], None],
    ) -> models.Model | None:
        try:
            record_id = uuid.UUID(id_text)
        except ValueError:
            problem("id", _("Not a record ID from Linli; leave it empty to add a record."))
            return None
        if record_id in first_row_of:
            problem("id", _("Repeats row %(row)s.") % {"row": first_row_of[record_id]})
            return None
        first_row_of[record_id] = number
        record = existing.get(record_id)
        if record is None:
            if sheet.layout is ORGANIZATIONS:
                message = _("No organization with this ID is in your area.")
            else:
                message = _("No facility with this ID is in your area.")
            problem("id", message)
        return record

    def _finish(self, sheet: _Sheet, problems: list[SheetRowError], counted: str | None) -> None:
        if problems:
            # In the order of the row's cells, as the person reads them.
            order = {header: position for position, header in sheet.columns.values()}
            self.errors.extend(sorted(problems, key=lambda p: order.get(p.field, MAX_COLUMNS)))
        elif counted:
            self._count(sheet, counted)

    def _count(self, sheet: _Sheet, what: str) -> None:
        counts = (
            self.report.organizations if sheet.layout is ORGANIZATIONS else self.report.facilities
        )
        setattr(counts, what, getattr(counts, what) + 1)

    def _write_organization(self, record: Organization | None, changes: dict[str, Any]) -> None:
        fields = cast(Any, changes)
        if record is None:
            services.organization_create(actor=self.actor, **fields)
        else:
            services.organization_update(actor=self.actor, organization=record, **fields)

    def _write_facility(self, record: Location | None, changes: dict[str, Any]) -> None:
        hours = changes.pop("hours", None)
        features = changes.pop("accessibility", None)
        fields = cast(Any, changes)
        if record is None:
            facility = services.facility_create(actor=self.actor, **fields)
        elif changes:
            facility = services.facility_update(actor=self.actor, facility=record, **fields)
        else:
            facility = record
        if hours is not None and (record is not None or hours):
            services.schedule_set_weekly(actor=self.actor, facility=facility, hours=hours)
        if features is not None and (record is not None or features):
            services.facility_set_accessibility(
                actor=self.actor, facility=facility, features=features
            )


def _same(key: str, current: Any, new: Any) -> bool:
    if key == "organization":
        return current == (new.pk if new is not None else None)
    if key == "hours":
        return sorted(current or []) == sorted(new or [])
    if current is None or new is None:
        return (current in (None, "")) and (new in (None, ""))
    return bool(current == new)


def directory_import_xlsx(
    *, actor: User | None, data: bytes | BinaryIO, partial: bool = False
) -> SpreadsheetReport:
    """Import organizations and facilities from a workbook in the template's layout.

    Raises `PermissionDenied` for an actor without a writing role,
    `ValidationFailed` for a file that is not a usable workbook, and
    `ImportRejected` (nothing written) when any row has a problem and
    `partial` is false.
    """
    run = _Run(actor=actor)
    content = data if isinstance(data, bytes) else data.read()
    sheets, warnings, header_errors = _read_sheets(content)
    run.report.warnings = warnings
    if header_errors:
        raise ImportRejected(cast(list[RowError], header_errors))
    with transaction.atomic():
        run.run(sheets)
        if run.errors and not partial:
            raise ImportRejected(cast(list[RowError], run.errors))
    run.report.errors = run.errors
    return run.report
