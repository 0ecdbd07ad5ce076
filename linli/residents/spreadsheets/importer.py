"""Reading a filled register back: every row through `resident_check`, then one bulk write.

All or nothing by default: every row is checked, every problem is collected with
its row, column and reason, and if there is any nothing is written and
`ImportRejected` lists them. With `partial=True` the good rows are written and
the bad ones reported. Good rows are written at the end, together, in one
transaction (`residents_register_many`: encryption, blind indexes, tallies).

Identity numbers are deduplicated through the blind index twice: against the
register (`resident_check` points to the record already there) and within the
file (the second row names the first). Rows of one community with the same
household address become one household, or join the one already at that address.

Made for big files: the workbook is streamed (openpyxl read-only), communities
and households are looked up once each, not once a row.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from linli.accounts.models import User
from linli.accounts.selectors import Scope
from linli.core.errors import ImportRejected, RowError, ValidationFailed
from linli.core.pii import normalize_identity_number
from linli.directory.spreadsheets.columns import (
    INSTRUCTIONS_TITLE,
    LISTS_TITLE,
    in_both_languages,
    normalise_header,
)
from linli.directory.spreadsheets.importer import (
    MAX_COLUMNS,
    MAX_UNPACKED_BYTES,
    SheetRowError,
    _Bad,
    _choice_reader,
    _code_text,
    _date,
    _not_a_workbook,
    _region,
    _text,
    open_workbook,
)
from linli.directory.spreadsheets.records import communities_in
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.choices import Difficulty, DisabilityCategory, Sex
from linli.residents.models import Household, Resident
from linli.residents.services import (
    ResidentInput,
    identity_index,
    keeper_scope,
    registered_identities,
    resident_check,
    residents_register_many,
)

from .columns import IGNORED_HEADERS, REGISTER, register_header_index

# A big town's register; more than this is split, or the cap raised (LINLI_REGISTER_MAX_ROWS).
DEFAULT_MAX_ROWS = 100_000
# A register row unpacks to well under this much XML; the directory's floor still applies.
UNPACKED_BYTES_PER_ROW = 4096
# Registers often carry a title (XX社区居民花名册) above the header row.
HEADER_SEARCH_ROWS = 10
_YES = {"是", "有", "√", "✓", "✔", "y", "yes", "true", "1"}
_NO = {"否", "无", "没有", "不是", "×", "✗", "n", "no", "false", "0"}
_GRADES = {"一": "1", "二": "2", "三": "3", "四": "4", "壹": "1", "贰": "2", "叁": "3", "肆": "4"}
_GRADE_TEXT = re.compile(r"^(?:残疾)?([1-4一二三四壹贰叁肆])\s*(?:级|級)?$")
# Chinese words of registers and certificates, whatever the catalogue translates.
_SEX_WORDS = {
    "女": Sex.FEMALE,
    "女性": Sex.FEMALE,
    "男": Sex.MALE,
    "男性": Sex.MALE,
    "f": Sex.FEMALE,
    "m": Sex.MALE,
}
_DISABILITY_WORDS = {
    "视力": DisabilityCategory.VISUAL,
    "听力": DisabilityCategory.HEARING,
    "言语": DisabilityCategory.SPEECH,
    "肢体": DisabilityCategory.PHYSICAL,
    "智力": DisabilityCategory.INTELLECTUAL,
    "精神": DisabilityCategory.MENTAL,
    "多重": DisabilityCategory.MULTIPLE,
}
_DIFFICULTY_WORDS = {
    "低保": Difficulty.SUBSISTENCE,
    "最低生活保障": Difficulty.SUBSISTENCE,
    "特困": Difficulty.EXTREME_POVERTY,
    "特困供养": Difficulty.EXTREME_POVERTY,
    "低边": Difficulty.LOW_INCOME_MARGIN,
    "低保边缘": Difficulty.LOW_INCOME_MARGIN,
}


def max_rows() -> int:
    return int(getattr(settings, "LINLI_REGISTER_MAX_ROWS", DEFAULT_MAX_ROWS))


@dataclass
class RegisterReport:
    created: int = 0
    households_created: int = 0
    households_joined: int = 0
    # With partial=True: the problems of the rows left out.
    errors: list[SheetRowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Wall-clock seconds spent reading the workbook, checking rows and writing them.
    seconds: dict[str, float] = field(
        default_factory=lambda: {"reading": 0.0, "checking": 0.0, "writing": 0.0}
    )

    @property
    def rows_refused(self) -> int:
        return len({e.row for e in self.errors})


def _refuse_file(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


# --- Reading cells ---------------------------------------------------------------------


def _with_words(
    choices: type[models.TextChoices], words: Mapping[str, str]
) -> Callable[[Any], str]:
    """A choice by label (either language), by code, or by the register's Chinese word."""
    by_label = _choice_reader(choices)
    known = {k.casefold(): v for k, v in words.items()}

    def read(cell: Any) -> str:
        text = _text(cell)
        found = known.get(text.casefold()) or known.get(text.casefold().removesuffix("残疾"))
        return str(found) if found else by_label(text)

    return read


def _yes_no(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    text = _text(cell).casefold()
    if not text or text in _NO:
        return False
    if text in _YES:
        return True
    for language in ("zh-hans", "en"):
        with translation.override(language):
            if text == _("Yes").casefold():
                return True
            if text == _("No").casefold():
                return False
    raise _Bad(_("Write yes or no (是 or 否)."))


def _grade(cell: Any) -> str:
    """1 to 4 as people write it (3, 三级, 3级); anything else goes on to the check."""
    text = _text(cell)
    match = _GRADE_TEXT.match(text)
    if match is None:
        return text
    return _GRADES.get(match[1], match[1])


def _address_key(address: str) -> str:
    """Two ways of typing one address (full-width digits, spaces) are one household."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", address)).casefold()


# --- Reading the sheet -----------------------------------------------------------------


@dataclass
class _Sheet:
    title: str
    # Column key → (index in the row, header as written).
    columns: dict[str, tuple[int, str]]
    rows: Iterator[tuple[int, tuple[Any, ...]]]


def _skipped_title(title: str) -> bool:
    name = normalise_header(title)
    return name in in_both_languages(INSTRUCTIONS_TITLE) | in_both_languages(LISTS_TITLE)


def _numbered(rows: Iterator[tuple[Any, ...]], start: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The sheet's non-empty rows after the header, with their row numbers."""
    for number, values in enumerate(rows, start=start):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        yield number, values


def _find_sheet(book: Any) -> tuple[ReadOnlyWorksheet, int, tuple[Any, ...]]:
    """The sheet of residents: the first whose header row (near its top) names residents."""
    index = register_header_index()
    for worksheet in book.worksheets:
        if _skipped_title(worksheet.title):
            continue
        rows = worksheet.iter_rows(
            max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS, values_only=True
        )
        for number, values in enumerate(rows, start=1):
            keys = {index.get(normalise_header(v)) for v in values if v is not None}
            # The name column and one more: a title row or a note never looks like that.
            if "name" in keys and len(keys - {None}) >= 2:
                return worksheet, number, values
    raise _refuse_file(
        _(
            "No sheet of residents was found: one row near the top of the sheet must hold "
            "the column headers of the template (at least the name and one more)."
        )
    )


def _map_header(
    title: str, header_row: int, header: Sequence[Any], errors: list[SheetRowError]
) -> tuple[dict[str, tuple[int, str]], list[str]]:
    index = register_header_index()
    columns: dict[str, tuple[int, str]] = {}
    warnings: list[str] = []
    for position, text in enumerate(header):
        if text is None or not str(text).strip():
            continue
        name = normalise_header(text)
        key = index.get(name)
        if key is None:
            if name not in IGNORED_HEADERS:
                warnings.append(
                    _("The column “%(column)s” is not one Linli keeps; it was ignored.")
                    % {"column": text}
                )
        elif key in columns:
            errors.append(
                SheetRowError(header_row, str(text), _("This column appears twice."), sheet=title)
            )
        else:
            columns[key] = (position, str(text).strip())
    return columns, warnings


# --- Rows ----------------------------------------------------------------------------------


class _Run:
    """One import: the actor, where they keep the register, and what was looked up once."""

    def __init__(self, *, actor: User | None, report: RegisterReport):
        self.actor = actor
        self.scope: Scope = keeper_scope(actor)  # PermissionDenied before anything is read
        self.report = report
        self.errors: list[SheetRowError] = []
        self.good: list[Resident] = []
        self.communities: dict[str, Region | str] = {}
        self.households: dict[str, dict[str, Household]] = {}
        self.first_row_of: dict[str, int] = {}
        in_scope = list(communities_in(self.scope)[:2]) if not self.scope.everything else []
        # Someone who keeps a single community need not name it on every row.
        self.default_community = in_scope[0] if len(in_scope) == 1 else None
        self.readers: dict[str, Callable[[Any], Any]] = {
            "name": _text,
            "identity_number": _code_text,
            "sex": _with_words(Sex, _SEX_WORDS),
            "birth_date": _date,
            "phone": _code_text,
            "community": self.community,
            "household": _text,
            "address": _text,
            "living_alone": _yes_no,
            "left_behind": _yes_no,
            "disability_category": _with_words(DisabilityCategory, _DISABILITY_WORDS),
            "disability_grade": _grade,
            "difficulty": _with_words(Difficulty, _DIFFICULTY_WORDS),
            "health_notes": _text,
        }

    # Communities and households, each looked up once.

    def community(self, cell: Any) -> Region:
        text = _code_text(cell)
        if not text:
            if self.default_community is None:
                raise _Bad(_("Write the community or village: pick one from the list."))
            return self.default_community
        reference = _region(text) if text[0].isdigit() else text
        if reference not in self.communities:
            self.communities[reference] = self._find_community(reference)
        found = self.communities[reference]
        if isinstance(found, str):
            raise _Bad(found)
        return found

    def _find_community(self, reference: str) -> Region | str:
        if reference.isdigit():
            region = Region.objects.filter(code=reference).first()
            if region is None:
                return _("No community or village has the code %(code)s.") % {"code": reference}
            return region
        named = list(
            Region.objects.filter(
                self.scope.q("code"), level=RegionLevel.COMMUNITY, name=reference
            ).order_by("code")[:2]
        )
        if len(named) == 1:
            return named[0]
        if named:
            return _("Several communities or villages are named %(name)s; write its code.") % {
                "name": reference
            }
        return _("No community or village of your area is named %(name)s.") % {"name": reference}

    def household(self, community: Region | None, address: str) -> Household | None:
        """The household at this address: one already in the community, or a new one."""
        if (
            not address
            or community is None
            or community.level != RegionLevel.COMMUNITY
            or not self.scope.covers(community.code)
        ):
            return None
        known = self.households.get(community.code)
        if known is None:
            known = {}
            for stored in Household.objects.filter(community=community).order_by("id"):
                known.setdefault(_address_key(stored.address), stored)
            self.households[community.code] = known
        key = _address_key(address)
        if key not in known:
            known[key] = Household(community=community, address=address)
        return known[key]

    # One row.

    def rows(
        self, title: str, columns: dict[str, tuple[int, str]], batch: list[tuple[int, tuple]]
    ) -> None:
        """Check a batch of rows, with one query for the identity numbers already registered."""
        indexes: list[str] = []
        if "identity_number" in columns:
            position, read = columns["identity_number"][0], self.readers["identity_number"]
            for _number, cells in batch:
                try:
                    text = read(cells[position] if position < len(cells) else None)
                except _Bad:
                    continue
                indexes.append(identity_index(normalize_identity_number(text)))
        registered = registered_identities(indexes)
        for number, cells in batch:
            self.row(title, columns, number, cells, registered)

    def row(
        self,
        title: str,
        columns: dict[str, tuple[int, str]],
        number: int,
        cells: tuple,
        registered: Mapping[str, tuple[int, str]],
    ) -> None:
        problems: list[SheetRowError] = []

        def problem(key: str, message: str) -> None:
            header = columns[key][1] if key in columns else str(REGISTER.column(key).header)
            problems.append(SheetRowError(number, header, message, sheet=title))

        values: dict[str, Any] = {}
        for key, (position, _header) in columns.items():
            cell = cells[position] if position < len(cells) else None
            try:
                values[key] = self.readers[key](cell)
            except _Bad as error:
                problem(key, str(error))
        if "community" not in columns and self.default_community is not None:
            values["community"] = self.default_community
        failed = {key for key in columns if key not in values}
        community: Region | None = values.pop("community", None)
        household = self.household(community, values.pop("household", ""))
        if household is not None and not values.get("address"):
            values["address"] = household.address
        data = ResidentInput(
            name=values.pop("name", ""),
            # A row whose community is unreadable is still checked for its other problems.
            community=community or Region(code="", level=RegionLevel.COMMUNITY),
            household=household,
            **values,
        )
        resident, errors = resident_check(actor=self.actor, data=data, registered=registered)
        for key, reasons in errors.items():
            if key in failed or (key == "community" and community is None):
                continue  # The cell itself could not be read; that is the problem to fix.
            for reason in reasons:
                problem(key, reason)
        index = resident.identity_index
        if index and "identity_number" not in failed and "identity_number" not in errors:
            first = self.first_row_of.setdefault(index, number)
            if first != number:
                problem(
                    "identity_number",
                    _("The same identity number as row %(row)s.") % {"row": first},
                )
        if problems:
            # In the order of the row's cells, as the person reads them.
            order = {header: position for position, header in columns.values()}
            self.errors.extend(sorted(problems, key=lambda p: order.get(p.field, MAX_COLUMNS)))
        else:
            self.good.append(resident)

    def write(self) -> None:
        """The good rows and their new households, in one transaction."""
        new: dict[int, Household] = {}
        joined: set[int] = set()
        for resident in self.good:
            household = resident.household
            if household is None:
                continue
            if household.pk is None:
                new.setdefault(id(household), household)
            else:
                joined.add(household.pk)
        try:
            with transaction.atomic():
                Household.objects.bulk_create(list(new.values()), batch_size=1000)
                residents_register_many(self.good)
        except IntegrityError as error:
            # Someone registered one of these identity numbers since the rows were checked.
            raise _refuse_file(
                _(
                    "Some of these people were registered by someone else while the file was "
                    "read; nothing was imported. Import the file again to see which."
                )
            ) from error
        self.report.created = len(self.good)
        self.report.households_created = len(new)
        self.report.households_joined = len(joined)


# Rows checked together: one query finds which of their identity numbers are registered.
CHECK_BATCH = 1000


def _timed(work: Callable[..., None], *args: Any) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def register_import_xlsx(
    *, actor: User | None, data: bytes | BinaryIO, partial: bool = False
) -> RegisterReport:
    """Import residents from a workbook in the register template's layout.

    Raises `PermissionDenied` for an actor who does not keep the register,
    `ValidationFailed` for a file that is not a usable workbook or has too many
    rows, and `ImportRejected` (nothing written) when any row has a problem and
    `partial` is false.
    """
    report = RegisterReport()
    run = _Run(actor=actor, report=report)
    content = data if isinstance(data, bytes) else data.read()
    limit = max_rows()
    clock = time.perf_counter()
    book = open_workbook(
        content, max_unpacked_bytes=max(MAX_UNPACKED_BYTES, limit * UNPACKED_BYTES_PER_ROW)
    )
    try:
        worksheet, header_row, header = _find_sheet(book)
        title = worksheet.title
        header_errors: list[SheetRowError] = []
        columns, report.warnings = _map_header(title, header_row, header, header_errors)
        if "name" not in columns or ("community" not in columns and not run.default_community):
            missing = [c for c in ("name", "community") if c not in columns]
            header_errors += [
                SheetRowError(
                    header_row,
                    str(REGISTER.column(key).header),
                    _("This column is missing."),
                    sheet=title,
                )
                for key in missing
            ]
        if header_errors:
            raise ImportRejected(cast(list[RowError], header_errors))
        # Only as wide as the header: a row padded to MAX_COLUMNS costs a third more to read.
        width = max(i for i, v in enumerate(header, start=1) if v is not None)
        rows = _numbered(
            worksheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True),
            header_row + 1,
        )
        count = 0
        batch: list[tuple[int, tuple]] = []
        while True:
            try:
                number, cells = next(rows)
            except StopIteration:
                break
            except Exception as error:
                # A damaged sheet shows up only while its rows are read (openpyxl reads lazily).
                raise _not_a_workbook() from error
            count += 1
            if count > limit:
                raise _refuse_file(
                    _("At most %(count)s rows a file; split it into smaller files.")
                    % {"count": f"{limit:,}"}
                )
            batch.append((number, cells))
            if len(batch) == CHECK_BATCH:
                report.seconds["checking"] += _timed(run.rows, title, columns, batch)
                batch = []
        if batch:
            report.seconds["checking"] += _timed(run.rows, title, columns, batch)
    finally:
        book.close()
    if not count and not run.errors:
        raise _refuse_file(_("The sheet of residents has no rows below its headers."))
    if run.errors and not partial:
        raise ImportRejected(cast(list[RowError], run.errors))
    started = time.perf_counter()
    if run.good:
        run.write()
    report.seconds["writing"] = time.perf_counter() - started
    report.errors = run.errors
    # Reading counts opening the workbook and finding its header too.
    report.seconds["reading"] = started - clock - report.seconds["checking"]
    return report
