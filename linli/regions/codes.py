"""The 12-digit statistical division code: the code is the path.

Segments are 2+2+2+3+3 digits (province, city, county, street/township,
community/village). A region's significant prefix is its code without the
trailing zero segments, and every region below it starts with that prefix.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .choices import RegionLevel

CODE_LENGTH = 12
SEGMENT_ENDS = (2, 4, 6, 9, 12)
LEVELS_BY_DEPTH = (
    RegionLevel.PROVINCE,
    RegionLevel.CITY,
    RegionLevel.COUNTY,
    RegionLevel.STREET,
    RegionLevel.COMMUNITY,
)
PREFIX_LENGTH = dict(zip(LEVELS_BY_DEPTH, SEGMENT_ENDS, strict=True))
_DIGITS = re.compile(r"^\d{12}$")


class MalformedCode(ValueError):
    """The text is not a valid 12-digit division code; the message says why."""


def _segments(code: str) -> list[str]:
    starts = (0, *SEGMENT_ENDS[:-1])
    return [code[a:b] for a, b in zip(starts, SEGMENT_ENDS, strict=True)]


def level_of(code: str) -> RegionLevel:
    """The level a code denotes, from how many leading segments are non-zero."""
    if not _DIGITS.match(code):
        raise MalformedCode(_("A region code has exactly 12 digits."))
    segments = _segments(code)
    depth = 0
    for segment in segments:
        if int(segment) == 0:
            break
        depth += 1
    if depth == 0:
        raise MalformedCode(_("The province part of a region code cannot be 00."))
    if any(int(segment) for segment in segments[depth:]):
        raise MalformedCode(_("A region code cannot have a zero part followed by a non-zero part."))
    return LEVELS_BY_DEPTH[depth - 1]


def prefix_of(code: str) -> str:
    """The significant prefix: the code of the region without its trailing zero parts."""
    return code[: PREFIX_LENGTH[level_of(code)]]


def parent_of(code: str) -> str | None:
    """The parent's code, or None for a province."""
    depth = LEVELS_BY_DEPTH.index(level_of(code))
    if depth == 0:
        return None
    keep = SEGMENT_ENDS[depth - 1]
    return code[:keep].ljust(CODE_LENGTH, "0")


def ancestors_of(code: str) -> list[str]:
    """The codes above `code`, its parent first and the province last."""
    chain: list[str] = []
    current = parent_of(code)
    while current is not None:
        chain.append(current)
        current = parent_of(current)
    return chain


def is_valid(code: str) -> bool:
    try:
        level_of(code)
    except MalformedCode:
        return False
    return True
