import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from linli.core.pii import (
    identity_birth_date,
    identity_check_character,
    identity_sex,
    mask_identity_number,
    mask_phone,
    mask_text,
    validate_identity_number,
    validate_mobile,
)

# A published example number (GB 11643 documentation): 11010519491231002X.
EXAMPLE = "11010519491231002X"


def test_a_valid_number_passes_and_gives_birth_date_and_sex():
    assert validate_identity_number(" 11010519491231002x ") == EXAMPLE
    assert identity_birth_date(EXAMPLE) == dt.date(1949, 12, 31)
    assert identity_sex(EXAMPLE) == "female"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "check"),
        ("11010519491331002X", "birth_date"),
        ("110105189912310020", "birth_date"),
        ("11010520991231002X", "birth_date"),
        ("1101051949123100", "format"),
        ("11010519491231002Y", "format"),
    ],
)
def test_wrong_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as refused:
        validate_identity_number(number, today=dt.date(2026, 11, 30))
    assert refused.value.code == code


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 1, 1)),
    st.integers(min_value=0, max_value=999),
)
def test_every_number_with_its_check_character_passes(born, serial):
    first17 = f"440308{born:%Y%m%d}{serial:03d}"
    number = first17 + identity_check_character(first17)
    assert validate_identity_number(number, today=dt.date(2026, 11, 30)) == number


@pytest.mark.parametrize(
    ("given_", "expected"),
    [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678")],
)
def test_mobile_numbers(given_, expected):
    assert validate_mobile(given_) == expected


@pytest.mark.parametrize("number", ["12812345678", "1381234567", "0755-12345678"])
def test_wrong_mobile_numbers_are_refused(number):
    with pytest.raises(ValidationError):
        validate_mobile(number)


def test_masks_hide_what_identifies():
    assert mask_identity_number("440308199001011234") == "440308********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_text("糖尿病") == "***"
    assert mask_text("") == ""
