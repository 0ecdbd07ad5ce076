"""Personal identifiers of mainland China: checking them and masking them for display."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 11643-1999: 17 digits, then a check character by ISO 7064 MOD 11-2.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
OLDEST_BIRTH_YEAR = 1900


def identity_check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARACTERS[total % 11]


def normalize_identity_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def identity_birth_date(number: str) -> dt.date:
    """The birth date an identity number carries (digits 7 to 14)."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def identity_sex(number: str) -> str:
    """ "male" or "female", from the parity of the 17th digit."""
    return "male" if int(number[16]) % 2 else "female"


def validate_identity_number(value: str, *, today: dt.date | None = None) -> str:
    """The number normalized, or a ValidationError saying what is wrong with it."""
    number = normalize_identity_number(value)
    if not ID_PATTERN.match(number):
        raise ValidationError(
            _("An identity number has 18 characters: 17 digits, then a digit or X."),
            code="format",
        )
    try:
        born = identity_birth_date(number)
    except ValueError as error:
        raise ValidationError(
            _("The birth date in this identity number does not exist."), code="birth_date"
        ) from error
    if born.year < OLDEST_BIRTH_YEAR or born > (today or dt.date.today()):
        raise ValidationError(
            _("The birth date in this identity number is not plausible."), code="birth_date"
        )
    expected = identity_check_character(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("The last character should be %(expected)s: a digit is mistyped.")
            % {"expected": expected},
            code="check",
        )
    return number


def validate_mobile(value: str) -> str:
    number = re.sub(r"[\s-]", "", value.strip())
    if number.startswith("+86"):
        number = number[3:]
    if not MOBILE_PATTERN.match(number):
        raise ValidationError(
            _("A mobile number has 11 digits and starts with 13 to 19."), code="format"
        )
    return number


def mask_identity_number(number: str) -> str:
    """440308********1234: the region and the last four stay, the birth date goes."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(number: str) -> str:
    """138****5678."""
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_text(text: str) -> str:
    """Free text (health notes, a disability): shown only as present or absent."""
    return "***" if text else ""


# Family names of two characters (欧阳修 is 欧阳*, not 欧*), two characters each.
_COMPOUND = (
    "欧阳司马诸葛上官东方皇甫尉迟公孙慕容令狐司徒夏侯长孙宇文"
    "轩辕端木南宫西门独孤申屠闻人呼延东郭百里澹台万俟钟离太史公冶赫连"
)
COMPOUND_FAMILY_NAMES = frozenset(_COMPOUND[i : i + 2] for i in range(0, len(_COMPOUND), 2))


def mask_name(name: str) -> str:
    """王秀英 → 王*, 欧阳修 → 欧阳*, Ada Lovelace → Lovelace *: the family name only, for
    public pages (the honours page shows who, without naming them in full)."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:  # a name written with spaces: given name(s) first, family name last
        return name.split()[-1] + " *"
    family = name[:2] if name[:2] in COMPOUND_FAMILY_NAMES and len(name) > 2 else name[:1]
    return family + "*"
