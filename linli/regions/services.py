"""Writes to the region tree: CSV import (all-or-nothing) and export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.errors import ImportRejected, ImportReport, RowError

from . import codes
from .choices import RegionKind, RegionLevel
from .models import Region

CSV_COLUMNS = ("code", "name", "name_en", "level", "kind", "population", "households", "lat", "lon")
UPDATABLE_FIELDS = [c for c in CSV_COLUMNS if c != "code"] + ["parent"]


@dataclass
class _ParsedRow:
    row: int
    values: dict[str, Any]


def _parse_count(text: str, row: int, field: str, errors: list[RowError]) -> int | None:
    if text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        errors.append(RowError(row, field, _("Not a whole number: %(value)s") % {"value": text}))
        return None
    if value < 0:
        errors.append(RowError(row, field, _("Cannot be negative.")))
        return None
    return value


def _parse_coordinate(
    text: str, row: int, field: str, limit: float, errors: list[RowError]
) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        errors.append(RowError(row, field, _("Not a number: %(value)s") % {"value": text}))
        return None
    if not -limit <= value <= limit:
        errors.append(
            RowError(row, field, _("Must be between -%(limit)s and %(limit)s.") % {"limit": limit})
        )
        return None
    return value


def _parse_row(row: int, record: dict[str, str], errors: list[RowError]) -> _ParsedRow | None:
    """Check one row on its own; what needs the other rows (parents) is checked after."""
    found = len(errors)
    text = {column: (record.get(column) or "").strip() for column in CSV_COLUMNS}
    code = text["code"]
    level: RegionLevel | None = None
    try:
        level = codes.level_of(code)
    except codes.MalformedCode as error:
        errors.append(RowError(row, "code", str(error)))
    if text["level"] not in RegionLevel.values:
        errors.append(
            RowError(
                row,
                "level",
                _("Unknown level %(value)r; use one of: %(choices)s.")
                % {"value": text["level"], "choices": ", ".join(RegionLevel.values)},
            )
        )
    elif level is not None and text["level"] != level:
        errors.append(
            RowError(
                row,
                "level",
                _("The code %(code)s is of level “%(digits)s”, not “%(given)s”.")
                % {"code": code, "digits": level.label, "given": RegionLevel(text["level"]).label},
            )
        )
    if not text["name"]:
        errors.append(RowError(row, "name", _("A name is required.")))
    elif len(text["name"]) > 100:
        errors.append(RowError(row, "name", _("At most 100 characters.")))
    if len(text["name_en"]) > 200:
        errors.append(RowError(row, "name_en", _("At most 200 characters.")))
    if text["level"] == RegionLevel.COMMUNITY:
        if text["kind"] not in RegionKind.values:
            errors.append(
                RowError(
                    row,
                    "kind",
                    _("A community or village is %(choices)s.")
                    % {"choices": " / ".join(RegionKind.values)},
                )
            )
    elif text["kind"]:
        errors.append(RowError(row, "kind", _("Only communities and villages have a kind.")))
    values = {
        "code": code,
        "name": text["name"],
        "name_en": text["name_en"],
        "level": text["level"],
        "kind": text["kind"],
        "population": _parse_count(text["population"], row, "population", errors),
        "households": _parse_count(text["households"], row, "households", errors),
        "lat": _parse_coordinate(text["lat"], row, "lat", 90, errors),
        "lon": _parse_coordinate(text["lon"], row, "lon", 180, errors),
    }
    return _ParsedRow(row, values) if len(errors) == found else None


def _check_header(fieldnames: Iterable[str] | None) -> None:
    missing = [c for c in CSV_COLUMNS if c not in (fieldnames or [])]
    if missing:
        raise ImportRejected(
            [RowError(1, column, _("This column is missing.")) for column in missing]
        )


def region_import_csv(
    *, stream: TextIO, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Create or update regions from CSV; a file with any bad row changes nothing.

    Parents may come earlier, later or already be in the database; rows are
    written top level first so every parent exists when its children arrive.
    """
    reader = csv.DictReader(stream)
    _check_header(reader.fieldnames)
    errors: list[RowError] = []
    parsed: list[_ParsedRow] = []
    first_row_of: dict[str, int] = {}
    for row, record in enumerate(reader, start=2):
        item = _parse_row(row, record, errors)
        if item is None:
            continue
        code = item.values["code"]
        if code in first_row_of:
            errors.append(
                RowError(row, "code", _("Repeats row %(row)s.") % {"row": first_row_of[code]})
            )
            continue
        first_row_of[code] = row
        parsed.append(item)
    in_file = set(first_row_of)
    parents_needed = {codes.parent_of(p.values["code"]) for p in parsed} - in_file - {None}
    in_database = set(Region.objects.filter(code__in=parents_needed).values_list("code", flat=True))
    for item in parsed:
        parent = codes.parent_of(item.values["code"])
        if parent is not None and parent not in in_file and parent not in in_database:
            errors.append(
                RowError(
                    item.row,
                    "code",
                    _("The parent region %(parent)s is neither in the file nor in Linli.")
                    % {"parent": parent},
                )
            )
        item.values["parent_id"] = parent
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    return _write_regions(parsed, progress)


def _write_regions(
    parsed: list[_ParsedRow], progress: Callable[[int], None] | None
) -> ImportReport:
    depth = {level: index for index, level in enumerate(codes.LEVELS_BY_DEPTH)}
    parsed.sort(key=lambda p: (depth[p.values["level"]], p.values["code"]))
    existing = set(
        Region.objects.filter(code__in=[p.values["code"] for p in parsed]).values_list(
            "code", flat=True
        )
    )
    report = ImportReport()
    with transaction.atomic():
        for level in codes.LEVELS_BY_DEPTH:
            batch = [Region(**p.values) for p in parsed if p.values["level"] == level]
            new = [r for r in batch if r.code not in existing]
            old = [r for r in batch if r.code in existing]
            Region.objects.bulk_create(new, batch_size=1000)
            Region.objects.bulk_update(old, UPDATABLE_FIELDS, batch_size=1000)
            report.created += len(new)
            report.updated += len(old)
            if progress:
                progress(len(batch))
    return report


def region_export_csv(*, stream: TextIO, regions: Iterable[Region]) -> int:
    """Write regions in the import format; returns how many rows were written."""
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for region in regions:
        writer.writerow(
            [
                region.code,
                region.name,
                region.name_en,
                region.level,
                region.kind,
                "" if region.population is None else region.population,
                "" if region.households is None else region.households,
                "" if region.lat is None else region.lat,
                "" if region.lon is None else region.lon,
            ]
        )
        count += 1
    return count
