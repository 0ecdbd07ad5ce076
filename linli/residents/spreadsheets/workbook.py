"""Writing the register workbook: the empty template and the export share one layout.

Sheets: Instructions (what each column takes), Residents, and a hidden Lists
sheet behind the drop-downs (the communities and villages the user keeps, sex,
yes/no, disability categories and grades, assistance statuses). Everything a
person reads is in the active language; the importer reads either back.

Written in openpyxl's write-only mode, so exporting a whole town's register
holds one row in memory at a time, not the sheet.

An export holds personal data, so every export writes an access event for
each resident in it (`access_log_export`), in the same transaction that reads
them. Sensitive fields are masked unless the keeper states why they need them
in clear.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import zip_longest
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from linli.accounts.models import User
from linli.core.errors import ValidationFailed
from linli.core.pii import mask_identity_number, mask_phone, mask_text
from linli.directory.spreadsheets.columns import INSTRUCTIONS_TITLE, LISTS_TITLE, list_separator
from linli.directory.spreadsheets.records import communities_in, region_cell
from linli.directory.spreadsheets.workbook import (
    BOLD,
    CONTENT_TYPE,
    HEADER_FILL,
    MAX_DROPDOWN_REGIONS,
    REQUIRED_FILL,
    SPARE_ROWS,
    WRAP,
)
from linli.regions.models import Region
from linli.residents.choices import Difficulty, DisabilityCategory, Sex
from linli.residents.models import SENSITIVE_FIELDS, Resident
from linli.residents.selectors import residents_kept_by
from linli.residents.services import access_log_export, keeper_scope

from .columns import REGISTER
from .importer import max_rows

__all__ = ["CONTENT_TYPE", "register_export_xlsx", "register_template_xlsx", "write_register"]

# Drop-downs reach this far in an empty template: a community's whole register.
TEMPLATE_ROWS = 10_000
# What every export shows: personal data, though not sensitive.
EXPORTED_FIELDS = (
    "name",
    "sex",
    "birth_year",
    "community",
    "household",
    "address",
    "living_alone",
    "left_behind",
)
# What an unmasked export adds.
UNMASKED_FIELDS = ("birth_date", *SENSITIVE_FIELDS)
MIN_PURPOSE_LENGTH = 4
# Access events are written for this many residents at a time, as the rows are written.
LOG_BATCH = 2000
GRADES = ("1", "2", "3", "4")


def _labels(choices: type[models.TextChoices]) -> list[str]:
    return [str(label) for label in choices.labels]


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _header(sheet: Any) -> list[WriteOnlyCell]:
    cells = []
    for index, column in enumerate(REGISTER.columns, start=1):
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cell.alignment = WRAP
        cell.comment = Comment(str(column.help), "Linli")
        cells.append(cell)
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            # Typed identity numbers and phones stay text: as numbers Excel loses digits.
            sheet.column_dimensions[letter].number_format = "@"
    return cells


def _lists(book: Workbook, communities: Sequence[Region] | None) -> dict[str, str]:
    """The hidden sheet behind the drop-downs; column key → the range's formula."""
    sheet = book.create_sheet(str(LISTS_TITLE))
    sheet.sheet_state = "hidden"
    columns: dict[str, list[str]] = {
        "community": [region_cell(r) for r in communities or ()],
        "sex": _labels(Sex),
        "living_alone": [_("Yes"), _("No")],
        "disability_category": _labels(DisabilityCategory),
        "disability_grade": list(GRADES),
        "difficulty": _labels(Difficulty),
    }
    sheet.append([str(REGISTER.column(key).header) for key in columns])
    for row in zip_longest(*columns.values()):
        sheet.append(list(row))
    formulas: dict[str, str] = {}
    for index, (key, values) in enumerate(columns.items(), start=1):
        if values:
            letter = get_column_letter(index)
            formulas[key] = (
                f"{quote_sheetname(sheet.title)}!${letter}$2:${letter}${len(values) + 1}"
            )
    formulas["left_behind"] = formulas["living_alone"]
    return formulas


def _drop_downs(sheet: Any, formulas: dict[str, str], last_row: int) -> None:
    for index, column in enumerate(REGISTER.columns, start=1):
        formula = formulas.get(column.key)
        if formula is None:
            continue
        letter = get_column_letter(index)
        # A warning, not a refusal: registers are pasted in, and the importer reads more
        # ways of writing a value (男, 是, 低保, a code typed by hand) than the list shows.
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=str(column.header),
            error=_("Pick a value from the list."),
        )
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.data_validations.append(validation)


def _instructions(book: Workbook, notes: Sequence[str]) -> None:
    sheet = book.create_sheet(str(INSTRUCTIONS_TITLE))
    for letter, width in (("A", 22), ("B", 10), ("C", 90)):
        sheet.column_dimensions[letter].width = width
    title = WriteOnlyCell(sheet, value=_("How to fill in the residents register"))
    title.font = Font(bold=True, size=16)
    sheet.append([title])
    for note in notes:
        sheet.append([note])
    sheet.append([])
    headings = []
    for heading in (_("Column"), _("Required"), _("What to enter")):
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        headings.append(cell)
    sheet.append(headings)
    allowed = {
        "sex": _labels(Sex),
        "living_alone": [_("Yes"), _("No")],
        "left_behind": [_("Yes"), _("No")],
        "disability_category": _labels(DisabilityCategory),
        "disability_grade": list(GRADES),
        "difficulty": _labels(Difficulty),
    }
    for column in REGISTER.columns:
        help_text = str(column.help)
        if column.key in allowed:
            help_text += " " + _("Allowed: %(values)s.") % {
                "values": list_separator().join(allowed[column.key])
            }
        row = []
        for value in (str(column.header), _("Yes") if column.required else _("No"), help_text):
            cell = WriteOnlyCell(sheet, value=value)
            cell.alignment = WRAP
            row.append(cell)
        sheet.append(row)


def _notes(communities_listed: bool) -> list[str]:
    notes = [
        _("One row per person on the sheet “%(sheet)s”.") % {"sheet": str(REGISTER.title)},
        _(
            "With an identity number, the birth date and sex are read from it; without one, "
            "give them."
        ),
        _(
            "Rows of one community with the same household address are one household; a "
            "household already registered at that address is joined, not duplicated."
        ),
        _(
            "Each person is registered once: an identity number already in the register, or "
            "twice in the file, is refused with a pointer to the other record or row."
        ),
        _(
            "For a child under 14, register only the name, identity number and address here; "
            "phone, disability, assistance status and health needs need a guardian's consent "
            "recorded first."
        ),
        _(
            "If any row has a problem the whole file is refused and every problem is listed "
            "with its row and column; you may instead choose to import only the good rows."
        ),
        _(
            "Column headers may be in Chinese or English and in any order; a title row above "
            "them is fine. At most %(rows)s rows a file."
        )
        % {"rows": f"{max_rows():,}"},
        _("Columns marked in red must be filled in."),
    ]
    if not communities_listed:
        notes.append(
            _("Your area has too many communities and villages for a drop-down: type the code.")
        )
    return notes


def write_register(
    stream: Any,
    *,
    rows: Iterable[dict[str, Any]] = (),
    communities: Sequence[Region] | None,
    preface: Sequence[str] = (),
) -> int:
    """Write the workbook in the active language to `stream`; return the rows written.

    `rows` are column key → cell value; `communities=None` (or too many) leaves out the
    community drop-down. `preface` lines open the instructions (what an export is)."""
    listed = communities is not None and len(communities) <= MAX_DROPDOWN_REGIONS
    book = Workbook(write_only=True)
    _instructions(book, [*preface, *_notes(listed)])
    sheet = book.create_sheet(str(REGISTER.title))
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet))
    keys = [column.key for column in REGISTER.columns]
    count = 0
    for values in rows:
        sheet.append([values.get(key) for key in keys])
        count += 1
    formulas = _lists(book, communities if listed else None)
    _drop_downs(sheet, formulas, max(count + SPARE_ROWS, TEMPLATE_ROWS) + 1)
    book.save(stream)
    return count


def _bytes(**kwargs: Any) -> bytes:
    stream = io.BytesIO()
    write_register(stream, **kwargs)
    return stream.getvalue()


def _communities(actor: User | None) -> list[Region]:
    return list(communities_in(keeper_scope(actor))[: MAX_DROPDOWN_REGIONS + 1])


def register_template_xlsx(*, actor: User | None) -> bytes:
    """The empty workbook, its drop-down offering the communities the actor keeps."""
    return _bytes(communities=_communities(actor))


def _label(choices: type[models.TextChoices], value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def resident_cells(resident: Resident, *, unmasked: bool) -> dict[str, Any]:
    """A resident as a register row: sensitive fields masked unless `unmasked`.

    Masked, the birth date shows its year only: with the masked identity number's
    region and last digits, a full date would single the person out."""
    born = resident.birth_date
    cells: dict[str, Any] = {
        "name": resident.name,
        "sex": _label(Sex, resident.sex),
        "community": region_cell(resident.community),
        "household": resident.household.address if resident.household else "",
        "address": resident.address,
        "living_alone": _yes_no(resident.living_alone),
        "left_behind": _yes_no(resident.left_behind),
    }
    if unmasked:
        cells |= {
            "identity_number": resident.identity_number,
            "birth_date": born,
            "phone": resident.phone,
            "disability_category": _label(DisabilityCategory, resident.disability_category),
            "disability_grade": resident.disability_grade,
            "difficulty": _label(Difficulty, resident.difficulty),
            "health_notes": resident.health_notes,
        }
    else:
        cells |= {
            "identity_number": mask_identity_number(resident.identity_number),
            "birth_date": str(born.year) if born else "",
            "phone": mask_phone(resident.phone),
            "disability_category": mask_text(resident.disability_category),
            "disability_grade": mask_text(resident.disability_grade),
            "difficulty": mask_text(resident.difficulty),
            "health_notes": mask_text(resident.health_notes),
        }
    return {key: value for key, value in cells.items() if value not in ("", None)}


def _logged_rows(
    residents: Iterable[Resident], *, actor: User, unmasked: bool, fields: list[str], purpose: str
) -> Iterator[dict[str, Any]]:
    """The residents' rows; each batch written is logged as exported, by whom and why."""
    batch: list[Resident] = []
    for resident in residents:
        yield resident_cells(resident, unmasked=unmasked)
        batch.append(resident)
        if len(batch) >= LOG_BATCH:
            access_log_export(actor=actor, residents=batch, fields=fields, purpose=purpose)
            batch = []
    if batch:
        access_log_export(actor=actor, residents=batch, fields=fields, purpose=purpose)


def register_export_xlsx(*, actor: User, unmasked: bool = False, purpose: str = "") -> bytes:
    """The residents the actor keeps, in the template's layout, each export logged.

    Masked unless `unmasked`, which needs a stated purpose (at least a few words);
    keepers only (`PermissionDenied` otherwise). Every resident exported gets an access
    event naming the actor, the fields and the purpose, written in the same transaction."""
    keeper_scope(actor)
    purpose = purpose.strip()
    if unmasked and len(purpose) < MIN_PURPOSE_LENGTH:
        raise ValidationFailed(fields={"purpose": [_("Say why you need these details in clear.")]})
    fields = [*EXPORTED_FIELDS, *(UNMASKED_FIELDS if unmasked else ())]
    if not purpose:
        purpose = _("Register export (masked)")
    now = timezone.localtime()
    preface = [
        (
            _("Exported on %(when)s by %(who)s, sensitive fields in clear, for: %(purpose)s.")
            if unmasked
            else _("Exported on %(when)s by %(who)s; sensitive fields are masked.")
        )
        % {"when": now.strftime("%Y-%m-%d %H:%M"), "who": actor.get_username(), "purpose": purpose},
        _(
            "Keep this file as safely as the register itself, and delete it when it has "
            "served. A masked export cannot be imported back."
        ),
    ]
    residents = (
        residents_kept_by(actor)
        .select_related("community", "household")
        .order_by("community_id", "household__address", "name", "id")
    )
    with transaction.atomic():
        return _bytes(
            rows=_logged_rows(
                residents.iterator(chunk_size=LOG_BATCH),
                actor=actor,
                unmasked=unmasked,
                fields=fields,
                purpose=purpose,
            ),
            communities=_communities(actor),
            preface=preface,
        )


def export_filename(*, unmasked: bool, day: dt.date | None = None) -> str:
    day = day or timezone.localdate()
    kind = "unmasked" if unmasked else "masked"
    return f"linli-residents-{kind}-{day.isoformat()}.xlsx"
