"""HSDS 3.0 datasets in and out: a CSV data package, or one JSON document.

The JSON form is the one of HSDS's own `examples/tabular.json`: one object whose
keys are the CSV file names (`"organizations.csv"`) and whose values are lists
of rows, each row an object of column names and typed values (numbers as
numbers, booleans as booleans, empty cells as null).

An import reads every row of every table, checks each value as HSDS defines
it (type, format, enumeration, required, unique), then Linli's own rules
(lengths, ranges, the deployment's coordinate bounds, credit codes, orderings,
uniqueness against what Linli holds), then every reference (to a row of the
dataset or a record already in Linli). All or nothing by default: one problem
and nothing is written, every problem is listed. With `partial`, the rows
without problems are written; a row whose optional reference cannot be
satisfied is written without that reference, and a row whose required
reference cannot be satisfied is left out, as are the rows that need it.
Records are created or updated by their HSDS id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.core.errors import ImportRejected, ImportReport, LinliError, RowError, ValidationFailed
from linli.core.files import decode_text
from linli.regions.models import Region

from .tables import (
    LINKABLE_TABLES,
    REGION,
    RULES,
    TABLES,
    TABLES_BY_NAME,
    TABLES_BY_PATH,
    WRITE_ORDER,
    Column,
    Table,
    datapackage,
)

PACKAGE_FILE = "datapackage.json"
JSON_FILE = "hsds.json"
FORMATS = ("csv", "json")
BATCH = 500
TRUE_VALUES = ("true", "True", "TRUE", "1")
FALSE_VALUES = ("false", "False", "FALSE", "0")
# An absolute URI (RFC 3986): a scheme, a colon, and no blanks. Relative references
# ("example.com/x") are not URIs, for HSDS's JSON Schema as for frictionless.
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
INTEGER = re.compile(r"[+-]?[0-9]+")

# An organization's parent and a term's parent are foreign keys in Linli, and pages
# walk up them: a chain of parents must end.
SELF_REFERENCES = {"organization": "parent_organization_id", "taxonomy_term": "parent_id"}
# Linli's uniqueness rules: (table, columns); a blank or missing value is exempt.
LINLI_UNIQUE = (
    ("linli_organization", ("credit_code",)),
    ("taxonomy_term", ("taxonomy_id", "code")),
)

ProgressUpdate = Callable[[int], None]


class Progress(Protocol):
    """Opens a progress display of `length` steps; yields the function that advances it."""

    def __call__(self, label: str, length: int) -> AbstractContextManager[ProgressUpdate]: ...


@contextmanager
def no_progress(label: str, length: int) -> Iterator[ProgressUpdate]:
    yield lambda _steps: None


@dataclass(frozen=True)
class DatasetProblem(RowError):
    """A problem in one row of one file of a dataset; row 0 is the file as a whole.

    Rows are numbered as frictionless numbers them: in a CSV file the header is
    row 1; in the JSON form the first row of a table is row 1.
    """

    file: str = ""
    # With `partial`: only this reference was left out, the row itself was written.
    dropped: bool = False

    def __str__(self) -> str:
        values = {"file": self.file, "row": self.row, "field": self.field, "message": self.message}
        if self.row and self.field:
            return _("%(file)s, row %(row)s, %(field)s: %(message)s") % values
        if self.row:
            return _("%(file)s, row %(row)s: %(message)s") % values
        if self.field:
            return _("%(file)s, %(field)s: %(message)s") % values
        return _("%(file)s: %(message)s") % values


@dataclass
class TableCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class DatasetImportReport(ImportReport):
    unchanged: int = 0
    # By the HSDS file of the records (extension tables count with their HSDS table).
    tables: dict[str, TableCount] = field(default_factory=dict)
    # With `partial`: what was left out (rows, or only references).
    problems: list[DatasetProblem] = field(default_factory=list)
    skipped: int = 0


@dataclass
class DatasetExportReport:
    directory: Path
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    # Values Linli holds that HSDS does not allow: consumers may refuse them.
    problems: list[DatasetProblem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


# Reading ------------------------------------------------------------------------------


@dataclass
class _RawTable:
    table: Table
    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    # A required column is missing: no row of the table can be imported.
    broken: bool = False


@dataclass
class _Source:
    tables: dict[str, _RawTable] = field(default_factory=dict)
    problems: list[DatasetProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, file: str, row: int, column: str, message: str) -> None:
        self.problems.append(DatasetProblem(row, column, message, file=file))


@cache
def _linli_requires(table: Table, column: Column) -> bool:
    """Whether Linli's model needs a value where HSDS lets it be empty (an address's location)."""
    if table.model is None or column.name == "id":
        return False
    model_field = _model_fields(table.model).get(column.model_attr)
    return (
        model_field is not None
        and not model_field.null
        and not model_field.blank
        and not model_field.has_default()
        and not isinstance(model_field, models.CharField | models.TextField | models.BooleanField)
    )


def _check_header(source: _Source, raw: _RawTable, columns: Iterable[str], row: int) -> None:
    """Note the columns the table does not know, and refuse a table without a required one."""
    known = [name for name in columns if name in raw.table.columns_by_name()]
    unknown = [name for name in columns if name not in raw.table.columns_by_name()]
    if unknown:
        source.warnings.append(
            _("%(file)s: columns that are not part of the table were ignored: %(columns)s.")
            % {"file": raw.file, "columns": ", ".join(unknown)}
        )
    raw.columns = known
    if raw.table.model is None:
        return
    for column in raw.table.columns:
        if column.name in known:
            continue
        if column.required:
            source.problem(raw.file, row, column.name, _("This required column is missing."))
            raw.broken = True
        elif _linli_requires(raw.table, column):
            source.problem(raw.file, row, column.name, _("Linli needs this column."))
            raw.broken = True


def _read_csv(source: _Source, table: Table, path: Path, file: str) -> None:
    if not path.is_file():
        source.problem(file, 0, "", _("The file is missing."))
        return
    try:
        text = decode_text(path.read_bytes())
    except ValidationFailed as error:
        source.problem(file, 0, "", error.message)
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        source.problem(file, 0, "", _("The file is empty: it needs at least a header row."))
        return
    except csv.Error as error:
        source.problem(file, 1, "", _("This is not valid CSV: %(error)s.") % {"error": error})
        return
    duplicated = sorted({name for name in header if header.count(name) > 1})
    for name in duplicated:
        source.problem(file, 1, name, _("This column appears more than once."))
    raw = _RawTable(table, file, [], [], broken=bool(duplicated))
    _check_header(source, raw, header, 1)
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            source.problem(
                file,
                number + 1,
                "",
                _("This is not valid CSV (%(error)s); the rest of the file was not read.")
                % {"error": error},
            )
            break
        number += 1
        if not cells:
            continue
        if len(cells) != len(header):
            source.problem(
                file,
                number,
                "",
                _("This row has %(cells)s cells, the header %(columns)s.")
                % {"cells": len(cells), "columns": len(header)},
            )
            continue
        row = dict(zip(header, cells, strict=True))
        raw.rows.append((number, {name: row[name] for name in raw.columns}))
    source.tables[table.name] = raw


def _read_package(source: _Source, descriptor: Path, data: Any) -> None:
    """A data package: read each HSDS (or Linli) resource from its CSV file."""
    file = descriptor.name
    resources = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(resources, list):
        source.problem(file, 0, "resources", _("A data package lists its resources."))
        return
    ignored = []
    for resource in resources:
        name = resource.get("name") if isinstance(resource, dict) else None
        table = TABLES_BY_NAME.get(name) if isinstance(name, str) else None
        if table is None:
            ignored.append(str(name))
            continue
        path = resource.get("path")
        if not isinstance(path, str) or "://" in path:
            source.problem(
                file, 0, table.name, _("Linli reads each table from one local CSV file.")
            )
            continue
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            source.problem(
                file, 0, table.name, _("Linli reads only files inside the package's folder.")
            )
            continue
        _read_csv(source, table, descriptor.parent / relative, relative.as_posix())
    if ignored:
        source.warnings.append(
            _("%(file)s: resources that are not HSDS tables were ignored: %(names)s.")
            % {"file": file, "names": ", ".join(ignored)}
        )


def _read_json(source: _Source, path: Path, data: Any) -> None:
    """The JSON form: {"organizations.csv": [{column: value, …}, …], …}."""
    if not isinstance(data, dict) or not any(key in TABLES_BY_PATH for key in data):
        source.problem(
            path.name,
            0,
            "",
            _(
                "This is not an HSDS dataset: Linli expects one JSON object whose keys are "
                "HSDS table files, such as “organizations.csv”, each holding a list of rows."
            ),
        )
        return
    ignored = [key for key in data if key not in TABLES_BY_PATH]
    if ignored:
        source.warnings.append(
            _("%(file)s: keys that are not HSDS tables were ignored: %(names)s.")
            % {"file": path.name, "names": ", ".join(ignored)}
        )
    for key, rows in data.items():
        table = TABLES_BY_PATH.get(key)
        if table is None:
            continue
        file = f"{path.name} › {key}"
        if not isinstance(rows, list):
            source.problem(file, 0, "", _("A table is a list of rows."))
            continue
        present: set[str] = set()
        for item in rows:
            if isinstance(item, dict):
                present.update(item)
        columns = [c.name for c in table.columns if c.name in present]
        columns += sorted(present - set(columns))
        raw = _RawTable(table, file, [], [])
        _check_header(source, raw, columns, 0)
        for number, item in enumerate(rows, start=1):
            if not isinstance(item, dict):
                source.problem(file, number, "", _("A row is an object of columns and values."))
                continue
            raw.rows.append((number, {name: item.get(name) for name in raw.columns}))
        source.tables[table.name] = raw


def _read_source(path: Path) -> _Source:
    source = _Source()
    if path.is_dir():
        if (path / PACKAGE_FILE).is_file():
            path = path / PACKAGE_FILE
        elif (path / JSON_FILE).is_file():
            path = path / JSON_FILE
        elif any((path / table.path).is_file() for table in TABLES):
            for table in TABLES:
                if (path / table.path).is_file():
                    _read_csv(source, table, path / table.path, table.path)
            return source
        else:
            raise ValidationFailed(
                _(
                    "%(path)s holds no HSDS dataset: no datapackage.json, no %(json)s "
                    "and no HSDS CSV files."
                )
                % {"path": path, "json": JSON_FILE}
            )
    if path.suffix.lower() != ".json":
        raise ValidationFailed(
            _("Give a data package's folder or its datapackage.json, or a JSON dataset.")
        )
    try:
        data = json.loads(decode_text(path.read_bytes()))
    except ValidationFailed as error:
        source.problem(path.name, 0, "", error.message)
        return source
    except ValueError as error:
        source.problem(path.name, 0, "", _("This is not JSON: %(error)s.") % {"error": error})
        return source
    if isinstance(data, dict) and "resources" in data:
        _read_package(source, path, data)
    else:
        _read_json(source, path, data)
    return source


# Values -------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def parse_value(column: Column, raw: Any) -> tuple[Any, str | None]:
    """A cell as HSDS defines its column: (value, None), or (None, the reason it is wrong).

    `raw` is a CSV cell (text) or a JSON value; empty text and null are no value.
    """
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, dict | list):
        return None, _("Expected one value, not a list or an object.")
    if isinstance(raw, bool):
        if column.type == "boolean":
            return raw, None
        return None, _("Expected a value of type %(type)s, not true or false.") % {
            "type": column.type
        }
    if isinstance(raw, int | float):
        # tabular.json itself writes some identifiers as numbers.
        if column.type in ("number", "integer") or (
            column.type == "string" and not column.format and not column.enum
        ):
            raw = str(raw)
        else:
            return None, _("Expected text, not a number.")
    text = str(raw)
    reader = _READERS.get(column.type)
    if reader is None:
        return _read_string(column, text)
    try:
        return reader(text.strip()), None
    except (ValueError, ArithmeticError):
        return None, _BAD_VALUE[column.type]() % {"value": _shown(text)}


def _read_string(column: Column, text: str) -> tuple[Any, str | None]:
    if column.format == "uuid":
        try:
            return uuid.UUID(text.strip()), None
        except ValueError:
            return None, _("Not a UUID: %(value)s.") % {"value": _shown(text)}
    if column.format == "uri" and not URI.fullmatch(text):
        return None, _("Not a URI (a URI starts with a scheme, such as https:): %(value)s.") % {
            "value": _shown(text)
        }
    if column.format == "email":
        try:
            validate_email(text)
        except ValidationError:
            return None, _("Not an email address: %(value)s.") % {"value": _shown(text)}
    if column.enum and text not in column.enum:
        return None, _("%(value)s is not one of: %(choices)s.") % {
            "value": _shown(text),
            "choices": ", ".join(column.enum),
        }
    if column.pattern and not re.fullmatch(column.pattern, text):
        return None, _("%(value)s does not have the expected form.") % {"value": _shown(text)}
    return text, None


def _read_number(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(text)
    return value


def _read_integer(text: str) -> int:
    if not INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _read_boolean(text: str) -> bool:
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise ValueError(text)


def _read_date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y-%m-%d").date()


def _read_time(text: str) -> dt.time:
    value = dt.time.fromisoformat(text)
    if value.tzinfo is not None:
        raise ValueError(text)
    return value


def _read_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


_READERS: dict[str, Callable[[str], Any]] = {
    "number": _read_number,
    "integer": _read_integer,
    "boolean": _read_boolean,
    "date": _read_date,
    "time": _read_time,
    "datetime": _read_datetime,
}
_BAD_VALUE: dict[str, Callable[[], str]] = {
    "number": lambda: _("Not a number: %(value)s."),
    "integer": lambda: _("Not a whole number: %(value)s."),
    "boolean": lambda: _("Not true or false: %(value)s."),
    "date": lambda: _("Not a date (YYYY-MM-DD): %(value)s."),
    "time": lambda: _("Not a time (HH:MM:SS): %(value)s."),
    "datetime": lambda: _("Not a date and time (ISO 8601): %(value)s."),
}


@cache
def _model_fields(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


def _model_value(model_field: models.Field, value: Any) -> tuple[Any, str | None]:
    """The HSDS value as the model field holds it, checked by the field's own validators."""
    if value is None:
        return ("" if isinstance(model_field, models.CharField | models.TextField) else None), None
    if isinstance(model_field, models.IntegerField) and isinstance(value, Decimal):
        if value != value.to_integral_value():
            return None, _("Must be a whole number.")
        value = int(value)
    elif isinstance(model_field, models.FloatField) and isinstance(value, Decimal):
        value = float(value)
    elif isinstance(model_field, models.DateTimeField) and type(value) is dt.date:
        # HSDS has a date where Linli keeps a moment: midnight, in Linli's time zone.
        value = timezone.make_aware(dt.datetime.combine(value, dt.time()))
    if model_field.is_relation:
        return value, None
    try:
        model_field.validate(value, None)
        model_field.run_validators(value)
    except ValidationError as error:
        return None, " ".join(error.messages)
    return value, None


# Checking -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Row:
    table: Table
    file: str
    number: int
    values: dict[str, Any]  # column name → value as the model holds it
    id: Any = None
    ok: bool = True
    dropped: set[str] = field(default_factory=set)
    unread: set[str] = field(default_factory=set)  # columns whose value was refused

    def model_values(self) -> dict[str, Any]:
        return {
            self.table.column(name).model_attr: value
            for name, value in self.values.items()
            if name != "id" and name not in self.dropped
        }


@dataclass
class _Check:
    """Everything known about a dataset while it is checked."""

    partial: bool
    rows: dict[str, list[_Row]] = field(default_factory=lambda: defaultdict(list))
    problems: list[DatasetProblem] = field(default_factory=list)
    # What Linli holds of the dataset's records: by model, id → {attname: value}.
    existing: dict[type[models.Model], dict[Any, dict[str, Any]]] = field(default_factory=dict)

    def problem(self, row: _Row, column: str, message: str, *, dropped: bool = False) -> None:
        self.problems.append(
            DatasetProblem(row.number, column, message, file=row.file, dropped=dropped)
        )
        if not dropped:
            row.ok = False

    def live(self, table: str) -> Iterator[_Row]:
        """The rows still to be imported (with `partial`) or all rows (to report everything)."""
        return (row for row in self.rows.get(table, []) if row.ok or not self.partial)


def _parse_rows(check: _Check, source: _Source, update: ProgressUpdate) -> None:
    for name, raw in source.tables.items():
        table = raw.table
        if table.model is None:
            continue
        fields = _model_fields(table.model)
        for number, cells in raw.rows:
            row = _Row(table, raw.file, number, {}, ok=not raw.broken)
            for column_name in raw.columns:
                column = table.column(column_name)
                value, reason = parse_value(column, cells.get(column_name))
                if reason is None and value is None:
                    if column.required:
                        reason = _("A value is required.")
                    elif _linli_requires(table, column):
                        reason = _("Linli needs a value here.")
                if reason is None and column.name != "id":
                    value, reason = _model_value(fields[column.model_attr], value)
                if reason is not None:
                    check.problem(row, column.name, reason)
                    row.unread.add(column.name)
                elif column.name == "id":
                    row.id = value
                else:
                    row.values[column.name] = value
            check.rows[name].append(row)
            update(1)


def _check_unique(check: _Check) -> None:
    """HSDS's unique columns (the id first of all) hold each value once in a file."""
    for name, rows in check.rows.items():
        for column in TABLES_BY_NAME[name].columns:
            if not column.unique:
                continue
            first: dict[Any, _Row] = {}
            for row in rows:
                value = row.id if column.name == "id" else row.values.get(column.name)
                if value is None or value == "":
                    continue
                if value in first:
                    check.problem(
                        row,
                        column.name,
                        _("%(value)s is already in row %(row)s; it must be unique.")
                        % {"value": _shown(value), "row": first[value].number},
                    )
                else:
                    first[value] = row


def _in_chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load_existing(check: _Check, update: ProgressUpdate) -> None:
    for table in TABLES:
        if table.model is None or table.extends:
            continue
        ids = {row.id for t in _tables_of(table.model) for row in check.rows.get(t, []) if row.id}
        attnames = [f.attname for f in table.model._meta.concrete_fields]
        found: dict[Any, dict[str, Any]] = {}
        for chunk in _in_chunks(ids):
            manager = table.model._default_manager
            for values in manager.filter(pk__in=chunk).values(*attnames):
                found[values["id"]] = values
            update(len(chunk))
        check.existing[table.model] = found


def _tables_of(model: type[models.Model]) -> list[str]:
    return [table.name for table in TABLES if table.model is model]


def _records(check: _Check, model: type[models.Model]) -> dict[Any, list[_Row]]:
    """The model's records in the dataset: each id with its rows (HSDS and extension)."""
    records: dict[Any, list[_Row]] = defaultdict(list)
    for name in _tables_of(model):
        for row in check.live(name):
            if row.id is not None:
                records[row.id].append(row)
    return records


def _merged(check: _Check, model: type[models.Model], id_: Any, rows: list[_Row]) -> dict:
    """A record's values once imported: the dataset's over what Linli holds (or defaults)."""
    existing = check.existing[model].get(id_)
    if existing is not None:
        values = dict(existing)
    else:
        values = {f.attname: f.get_default() for f in model._meta.concrete_fields}
    for row in rows:
        values.update(row.model_values())
    return values


def _row_with(rows: list[_Row], column: str) -> _Row:
    for row in rows:
        if column in row.values:
            return row
    return rows[0]


def _check_rules(check: _Check, update: ProgressUpdate) -> None:
    """Linli's rules that span fields: orderings, the deployment's bounds."""
    for model, rules in RULES.items():
        for id_, rows in _records(check, model).items():
            update(len(rows))
            values = _merged(check, model, id_, rows)
            unread = set().union(*(row.unread for row in rows))
            for rule in rules:
                if unread.intersection(rule.columns):
                    continue  # its own problem is reported already
                for column, reason in rule.check(values).items():
                    check.problem(_row_with(rows, column), column, reason)


def _check_linli_unique(check: _Check) -> None:
    """Linli's uniqueness rules, within the dataset and against what Linli holds."""
    for table_name, columns in LINLI_UNIQUE:
        table = TABLES_BY_NAME[table_name]
        assert table.model is not None  # noqa: S101 - the definition above has models
        model = table.model
        attrs = [table.column(c).model_attr for c in columns]
        records = _records(check, model)
        keys: dict[Any, tuple] = {}
        for id_, rows in records.items():
            values = _merged(check, model, id_, rows)
            key = tuple(values[a] for a in attrs)
            if all(part not in (None, "") for part in key):
                keys[id_] = key
        taken: dict[tuple, Any] = {}
        for chunk in _in_chunks(set(keys.values())):
            lookup = models.Q()
            for key in chunk:
                lookup |= models.Q(**dict(zip(attrs, key, strict=True)))
            for found in model._default_manager.filter(lookup).values_list("pk", *attrs):
                if found[0] not in records:  # what the dataset changes is checked below
                    taken[tuple(found[1:])] = found[0]
        for id_, key in keys.items():
            other = taken.setdefault(key, id_)
            if other != id_:
                check.problem(
                    _row_with(records[id_], columns[-1]),
                    columns[-1],
                    _("%(value)s is already used by record %(id)s.")
                    % {"value": _shown(key[-1]), "id": other},
                )


def _check_cycles(check: _Check) -> None:
    for table_name, column in SELF_REFERENCES.items():
        table = TABLES_BY_NAME[table_name]
        assert table.model is not None  # noqa: S101 - both tables have models
        attr = table.column(column).model_attr
        parents: dict[Any, Any] = dict(
            table.model._default_manager.exclude(**{f"{attr}__isnull": True}).values_list(
                "pk", attr
            )
        )
        rows = [row for row in check.live(table_name) if row.id is not None]
        for row in rows:
            if column in row.values and column not in row.dropped:
                parents[row.id] = row.values[column]
        for row in rows:
            seen = {row.id}
            current = parents.get(row.id)
            while current is not None and current not in seen:
                seen.add(current)
                current = parents.get(current)
            if current == row.id:
                check.problem(row, column, _("Its chain of parents leads back to itself."))


def _references(table: Table, row: _Row) -> Iterator[tuple[Column, str, Any]]:
    """(column, table pointed at, value) for each reference the row makes."""
    for column in table.columns:
        if not column.references or column.name in row.dropped:
            continue
        value = row.id if column.name == "id" else row.values.get(column.name)
        if value is not None:
            yield column, column.references, value
    if table.name == "attribute" and row.values.get("link_entity") in LINKABLE_TABLES:
        link = row.values.get("link_id")
        if link is not None:
            yield table.column("link_id"), row.values["link_entity"], link


def _in_linli(check: _Check) -> dict[str, set[Any]]:
    """The referenced ids that are records in Linli, by table (or REGION)."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    for name, rows in check.rows.items():
        for row in rows:
            for _column, target, value in _references(TABLES_BY_NAME[name], row):
                wanted[target].add(value)
    found: dict[str, set[Any]] = {}
    for target, values in wanted.items():
        if target == REGION:
            manager: Any = Region.objects
        else:
            model = TABLES_BY_NAME[target].model
            assert model is not None  # noqa: S101 - references point at kept tables
            manager = model._default_manager
        found[target] = set()
        for chunk in _in_chunks(values):
            found[target].update(manager.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def _check_references(check: _Check, update: ProgressUpdate) -> None:
    """Every reference points at a row of the dataset or a record in Linli.

    With `partial`, leaving a row out can leave others pointing at nothing, so
    this repeats until nothing more is left out.
    """
    in_linli = _in_linli(check)
    reported: set[tuple[int, str]] = set()
    again, first = True, True
    while again:
        again = False
        in_dataset = {
            name: {row.id: row for row in check.live(name) if row.id is not None}
            for name in TABLES_BY_NAME
        }
        everywhere = {
            name: {row.id: row for row in rows if row.id is not None}
            for name, rows in check.rows.items()
        }
        for name, rows in list(check.rows.items()):
            table = TABLES_BY_NAME[name]
            for row in rows:
                if first:
                    update(1)
                if check.partial and not row.ok:
                    continue
                for column, target, value in list(_references(table, row)):
                    if value in in_dataset.get(target, ()) or value in in_linli.get(target, ()):
                        continue
                    if (id(row), column.name) in reported:
                        continue
                    reported.add((id(row), column.name))
                    other = everywhere.get(target, {}).get(value)
                    label = TABLES_BY_NAME[target].path if target != REGION else _("regions")
                    if other is not None:
                        message = _(
                            "Refers to %(id)s in %(file)s (row %(row)s), which is not imported."
                        ) % {"id": value, "file": other.file, "row": other.number}
                    else:
                        message = _(
                            "Refers to %(id)s, which is neither in %(table)s of the dataset "
                            "nor in Linli."
                        ) % {"id": value, "table": label}
                    optional = column.name != "id" and not (
                        column.required
                        or _linli_requires(table, column)
                        or column.name == "link_id"
                    )
                    if check.partial and optional:
                        row.dropped.add(column.name)
                        check.problem(row, column.name, message, dropped=True)
                    else:
                        check.problem(row, column.name, message)
                        again = check.partial
        first = False


def _validate(source: _Source, partial: bool, progress: Progress) -> _Check:
    check = _Check(partial=partial)
    check.problems.extend(source.problems)
    total = sum(len(raw.rows) for raw in source.tables.values())
    with progress(_("Reading the dataset"), total) as update:
        _parse_rows(check, source, update)
    _check_unique(check)
    with progress(_("Comparing it with the directory"), total) as update:
        _load_existing(check, update)
    # Rules go record by record (updating by their rows); references row by row.
    with progress(_("Checking rules and references"), 2 * total) as update:
        _check_rules(check, update)
        ruled = sum(len(check.rows.get(t, [])) for m in RULES for t in _tables_of(m))
        update(total - ruled)
        _check_linli_unique(check)
        _check_cycles(check)
        _check_references(check, update)
    check.problems.sort(key=_problem_order)
    return check


def _problem_order(problem: DatasetProblem) -> tuple:
    """Problems by table, the tables pointed at first; then by row and column."""
    table = TABLES_BY_PATH.get(PurePosixPath(problem.file.rsplit(" › ", 1)[-1]).name)
    if table is None:
        return (-1, problem.file, problem.row, 0, problem.field)
    base = table.extends or table.name
    position = WRITE_ORDER.index(base) if base in WRITE_ORDER else len(WRITE_ORDER)
    columns = [column.name for column in table.columns]
    column = columns.index(problem.field) if problem.field in columns else -1
    return (position, bool(table.extends), problem.file, problem.row, column, problem.field)


# Writing ------------------------------------------------------------------------------


def _write(check: _Check, report: DatasetImportReport, progress: Progress) -> None:
    now = timezone.now()
    plan = []
    for name in WRITE_ORDER:
        model = TABLES_BY_NAME[name].model
        assert model is not None  # noqa: S101 - WRITE_ORDER lists kept tables
        records = {
            id_: [row for row in rows if row.ok] for id_, rows in _records(check, model).items()
        }
        plan.append((name, model, {id_: rows for id_, rows in records.items() if rows}))
    length = sum(len(records) for _name, _model, records in plan)
    with progress(_("Writing the directory"), length) as update, transaction.atomic():
        for name, model, records in plan:
            count = _write_model(model, records, check.existing[model], now)
            report.tables[TABLES_BY_NAME[name].path] = count
            report.created += count.created
            report.updated += count.updated
            report.unchanged += count.unchanged
            update(len(records))


def _write_model(
    model: type[models.Model],
    records: dict[Any, list[_Row]],
    existing: dict[Any, dict[str, Any]],
    now: dt.datetime,
) -> TableCount:
    count = TableCount()
    new: list[models.Model] = []
    # Services keep the dataset's last_modified; every other change is stamped now.
    stamped: list[models.Model] = []
    changed: dict[frozenset[str], list[models.Model]] = defaultdict(list)
    for id_, rows in records.items():
        values: dict[str, Any] = {}
        for row in rows:
            values.update(row.model_values())
        given = values.get("last_modified")
        held = existing.get(id_)
        if held is None:
            new.append(model(pk=id_, **values))
            if given is not None:
                stamped.append(model(pk=id_, last_modified=given))
            continue
        if all(held[attr] == value for attr, value in values.items()):
            count.unchanged += 1
            continue
        # bulk_update writes only the fields named, so the object needs no others.
        values.setdefault("last_modified", now)
        if values["last_modified"] is None:
            values["last_modified"] = now
        changed[frozenset(values)].append(model(pk=id_, **values))
    model._default_manager.bulk_create(new, batch_size=BATCH)
    # bulk_create stamps auto_now fields; bulk_update writes the values as given.
    model._default_manager.bulk_update(stamped, ["last_modified"], batch_size=BATCH)
    for fields, objs in changed.items():
        model._default_manager.bulk_update(objs, sorted(fields), batch_size=BATCH)
    count.created = len(new)
    count.updated = sum(len(objs) for objs in changed.values())
    return count


def hsds_dataset_import(
    *, path: Path, partial: bool = False, progress: Progress = no_progress
) -> DatasetImportReport:
    """Create or update directory records from an HSDS dataset, by their HSDS ids.

    `path` is a CSV data package (its folder or its datapackage.json), a folder of
    HSDS CSV files, or a JSON dataset (a file, or a folder holding hsds.json).
    All or nothing unless `partial`: raises ImportRejected listing every problem.
    """
    source = _read_source(path)
    check = _validate(source, partial, progress)
    report = DatasetImportReport(warnings=list(source.warnings))
    for raw in source.tables.values():
        if raw.table.model is None and raw.rows:
            report.warnings.append(
                ngettext(
                    "Linli does not keep %(file)s: its %(count)s row was not imported.",
                    "Linli does not keep %(file)s: its %(count)s rows were not imported.",
                    len(raw.rows),
                )
                % {"file": raw.file, "count": len(raw.rows)}
            )
    kept = [row for rows in check.rows.values() for row in rows if row.ok]
    if check.problems and (not partial or not kept):
        problems: list[RowError] = list(check.problems)
        raise ImportRejected(
            problems,
            ngettext(
                "The dataset was not imported, nothing was changed: %(count)s problem.",
                "The dataset was not imported, nothing was changed: %(count)s problems.",
                len(check.problems),
            )
            % {"count": len(check.problems)},
        )
    report.problems = check.problems
    report.skipped = sum(1 for rows in check.rows.values() for row in rows if not row.ok)
    try:
        _write(check, report, progress)
    except DatabaseError as error:
        raise LinliError(
            _("The dataset could not be written, nothing was changed: %(error)s") % {"error": error}
        ) from error
    return report


# Export -------------------------------------------------------------------------------


def _cell_text(column: Column, value: Any) -> str:
    """A value as the CSV form writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dt.datetime):
        if column.type == "date":
            return timezone.localtime(value).date().isoformat()
        value = value.astimezone(dt.UTC)
        spec = "seconds" if not value.microsecond else "milliseconds"
        if value.microsecond % 1000:
            spec = "microseconds"
        return value.isoformat(timespec=spec).replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _json_value(column: Column, value: Any) -> Any:
    """A value as the JSON form writes it: typed, and null when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and column.type in ("number", "integer"):
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    return _cell_text(column, value)


class _ExportCheck:
    """What an export holds that HSDS does not allow, so the operator hears of it."""

    def __init__(self) -> None:
        self.problems: list[DatasetProblem] = []
        self.seen: dict[tuple[str, str], set[Any]] = defaultdict(set)

    def row(self, table: Table, file: str, number: int, cells: Iterable[Any]) -> None:
        for column, cell in zip(table.columns, cells, strict=True):
            value, reason = parse_value(column, cell)
            if reason is None and value is None and column.required:
                reason = _("HSDS requires a value here; Linli has none.")
            if reason is None and value is not None and column.unique and column.name != "id":
                seen = self.seen[(table.name, column.name)]
                if value in seen:
                    reason = _("%(value)s appears twice; HSDS wants it unique.") % {
                        "value": _shown(value)
                    }
                seen.add(value)
            if reason is not None:
                self.problems.append(DatasetProblem(number, column.name, reason, file=file))


def _table_values(table: Table) -> Iterator[tuple[Any, ...]]:
    if table.model is None:
        return iter(())
    attrs = [column.model_attr for column in table.columns]
    manager = table.model._default_manager
    return manager.order_by("pk").values_list(*attrs).iterator(chunk_size=2000)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the directory while it is exported (on PostgreSQL)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def hsds_dataset_export(
    *, directory: Path, format: str = "csv", progress: Progress = no_progress
) -> DatasetExportReport:
    """Write the whole directory as an HSDS dataset into `directory`.

    `csv`: a data package (datapackage.json and one CSV file per table);
    `json`: hsds.json, the JSON form. Both hold Linli's extension tables.
    """
    if format not in FORMATS:
        raise ValidationFailed(_("The format is csv or json."), fields={"format": [format]})
    directory.mkdir(parents=True, exist_ok=True)
    report = DatasetExportReport(directory=directory)
    check = _ExportCheck()
    with _snapshot():
        total = sum(
            table.model._default_manager.count() for table in TABLES if table.model is not None
        )
        with progress(_("Exporting the directory"), total) as update:
            if format == "csv":
                for table in TABLES:
                    with (directory / table.path).open("w", encoding="utf-8", newline="") as out:
                        writer = csv.writer(out, lineterminator="\n")
                        writer.writerow([column.name for column in table.columns])
                        count = 0
                        for count, values in enumerate(_table_values(table), start=1):
                            cells = [
                                _cell_text(c, v) for c, v in zip(table.columns, values, strict=True)
                            ]
                            check.row(table, table.path, count + 1, cells)
                            writer.writerow(cells)
                            update(1)
                    report.files.append(table.path)
                    report.rows[table.path] = count
                package = json.dumps(datapackage(), ensure_ascii=False, indent=2)
                (directory / PACKAGE_FILE).write_text(package + "\n", encoding="utf-8")
                report.files.append(PACKAGE_FILE)
            else:
                data: dict[str, list[dict[str, Any]]] = {}
                for table in TABLES:
                    rows = data[table.path] = []
                    for values in _table_values(table):
                        row = {
                            c.name: _json_value(c, v)
                            for c, v in zip(table.columns, values, strict=True)
                        }
                        check.row(table, f"{JSON_FILE} › {table.path}", len(rows) + 1, row.values())
                        rows.append(row)
                        update(1)
                    report.rows[table.path] = len(rows)
                text = json.dumps(data, ensure_ascii=False, indent=2)
                (directory / JSON_FILE).write_text(text + "\n", encoding="utf-8")
                report.files.append(JSON_FILE)
    report.problems = check.problems
    return report
