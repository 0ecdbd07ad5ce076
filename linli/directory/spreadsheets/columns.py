"""The workbook's layout: which sheets, which columns, what each column takes.

Headers are English msgids whose Chinese translations are the headers Chinese
users see; the importer recognises a header in either language (and the
column's key), so a sheet filled in under one language imports under the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LANGUAGES = ("zh-hans", "en")


@dataclass(frozen=True)
class Column:
    key: str
    header: Promise
    help: Promise
    required: bool = False
    width: int = 18
    # Kept as text in Excel: long digit strings (codes, phone numbers) would lose digits as numbers.
    text: bool = False


@dataclass(frozen=True)
class SheetLayout:
    key: str
    title: Promise
    columns: tuple[Column, ...]
    # The column that marks a sheet as this one (its name column).
    marker: str = "name"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


RECORD_ID = Column(
    "id",
    _("Record ID"),
    _("Leave empty to add a record; keep the ID of an exported row to update that record."),
    width=38,
    text=True,
)
PHONE = Column("phone", _("Phone"), _("One phone number, e.g. 0571-87654321."), text=True)
DESCRIPTION = Column("description", _("Description"), _("Free text."), width=40)

ORGANIZATIONS = SheetLayout(
    "organizations",
    _("Organizations"),
    (
        RECORD_ID,
        Column("name", _("Organization name"), _("The full registered name."), True, 30),
        Column(
            "credit_code",
            _("Unified social credit code"),
            _("18 characters, as on the registration certificate; each code only once."),
            width=22,
            text=True,
        ),
        Column("kind", _("Organization kind"), _("Pick one from the list."), width=20),
        Column(
            "region",
            _("Region code"),
            _(
                "The 12-digit code of the region where the organization is registered, "
                "inside your area."
            ),
            width=24,
            text=True,
        ),
        Column("alternate_name", _("Short name"), _("Optional.")),
        PHONE,
        Column("email", _("Email"), _("Optional."), width=24),
        Column("website", _("Website"), _("Starts with http:// or https://."), width=28),
        DESCRIPTION,
    ),
)

FACILITIES = SheetLayout(
    "facilities",
    _("Facilities"),
    (
        RECORD_ID,
        Column("name", _("Facility name"), _("The name on the door."), True, 30),
        Column("kind", _("Facility kind"), _("Pick one from the list."), True, 26),
        Column(
            "region",
            _("Community or village code"),
            _("The 12-digit code of the community or village; pick one from the list."),
            True,
            30,
            text=True,
        ),
        Column(
            "organization",
            _("Organization (credit code or name)"),
            _(
                "Who runs it: the credit code or the exact name of an organization in Linli "
                "or on the Organizations sheet."
            ),
            width=26,
            text=True,
        ),
        Column("address", _("Address"), _("Street and number."), width=30),
        PHONE,
        Column("latitude", _("Latitude"), _("Decimal degrees, e.g. 30.274085."), width=12),
        Column("longitude", _("Longitude"), _("Decimal degrees, e.g. 120.155070."), width=12),
        Column("floor_area_m2", _("Floor area (m²)"), _("A number, not negative."), width=14),
        Column(
            "activity_area_m2",
            _("Resident activity area (m²)"),
            _("A number, not negative, at most the floor area."),
            width=14,
        ),
        Column("capacity", _("Capacity (people)"), _("A whole number."), width=12),
        Column("opened_on", _("Opened on"), _("A date, e.g. 2021-06-01."), width=14),
        Column("closed_on", _("Closed on"), _("A date, not before it opened."), width=14),
        Column(
            "hours",
            _("Opening hours"),
            _(
                "Days, then times; several separated by semicolons, e.g. "
                "Mon-Fri 08:30-12:00, 14:00-17:30; Sat 09:00-12:00. "
                "Day names in Chinese or English."
            ),
            width=36,
        ),
        Column(
            "accessibility",
            _("Accessibility features"),
            _("Several separated by commas."),
            width=30,
        ),
        DESCRIPTION,
    ),
)

SHEETS = (ORGANIZATIONS, FACILITIES)
INSTRUCTIONS_TITLE = _("Instructions")
LISTS_TITLE = _("Lists")

_PUNCTUATION = str.maketrans({"（": "(", "）": ")", "＊": "*", "：": ":"})


def list_separator() -> str:
    """How a list of labels is joined in the active language."""
    return ", " if (translation.get_language() or "").startswith("en") else "、"


def normalise_header(text: object) -> str:
    """Headers compared without spaces, case, a required-marking asterisk or full-width brackets."""
    return re.sub(r"[\s*]", "", str(text or "").translate(_PUNCTUATION)).casefold()


def in_both_languages(text: Promise) -> set[str]:
    """A translatable text as it reads in Chinese and in English, normalised."""
    seen = set()
    for language in LANGUAGES:
        with translation.override(language):
            seen.add(normalise_header(str(text)))
    return seen


def header_index(layout: SheetLayout) -> dict[str, str]:
    """Normalised header (either language, or the key) → column key."""
    index: dict[str, str] = {}
    for column in layout.columns:
        for name in (*in_both_languages(column.header), normalise_header(column.key)):
            index.setdefault(name, column.key)
    return index
