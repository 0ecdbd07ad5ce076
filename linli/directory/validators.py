"""Checks of Chinese identifiers and places that the directory's records must pass."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V), the last
# one a check character computed from the first 17 with these weights, mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Mainland China with its islands, generously: a deployment elsewhere changes
# LINLI_COORDINATE_BOUNDS (south, west, north, east), or sets it to None for no bounds.
CHINA_BOUNDS = (3.5, 73.0, 54.0, 135.5)


def credit_code_check_character(first17: str) -> str:
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """A unified social credit code: 18 characters and a correct check character."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValidationError(_("A unified social credit code has 18 characters."), code="length")
    bad = [c for c in code if c not in CREDIT_CODE_ALPHABET]
    if bad:
        raise ValidationError(
            _("A unified social credit code cannot contain %(chars)s.") % {"chars": "".join(bad)},
            code="alphabet",
        )
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check character should be %(expected)s, not %(given)s: a character is mistyped.")
            % {"expected": expected, "given": code[17]},
            code="check",
        )


def coordinate_bounds() -> tuple[float, float, float, float] | None:
    """The deployment's (south, west, north, east); None when it sets no bounds."""
    bounds = getattr(settings, "LINLI_COORDINATE_BOUNDS", CHINA_BOUNDS)
    if bounds is None:
        return None
    south, west, north, east = bounds
    return (float(south), float(west), float(north), float(east))


def validate_point(lat: float | None, lon: float | None) -> dict[str, list[str]]:
    """Field errors for a point: both or neither given, and inside the deployment's bounds."""
    if lat is None and lon is None:
        return {}
    if lat is None or lon is None:
        field = "latitude" if lat is None else "longitude"
        return {field: [_("Give both latitude and longitude, or neither.")]}
    bounds = coordinate_bounds()
    if bounds is None:
        return {}
    south, west, north, east = bounds
    errors: dict[str, list[str]] = {}
    if not south <= lat <= north:
        errors["latitude"] = [
            _("%(value)s is outside the area this deployment serves (%(low)s to %(high)s).")
            % {"value": lat, "low": south, "high": north}
        ]
    if not west <= lon <= east:
        errors["longitude"] = [
            _("%(value)s is outside the area this deployment serves (%(low)s to %(high)s).")
            % {"value": lon, "low": west, "high": east}
        ]
    return errors
