"""GeoReport v2 dates: W3C ISO 8601 with a time zone, read and written."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

# A '+' in a query string is a space unless encoded: "…T08:00:00 08:00" meant "+08:00".
_UNENCODED_PLUS_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")
# The W3C note's complete date plus hours and minutes, with optional seconds and fraction.
_W3C = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE
)


def parse_w3c_datetime(text: str) -> dt.datetime | None:
    """An aware datetime, or None when the text is not a W3C date-time with a zone.

    The spec requires the zone: a time without one is ambiguous across the country's
    partners and servers, so it is refused rather than guessed."""
    value = _UNENCODED_PLUS_OFFSET.sub(r"+\1", text.strip())
    if not _W3C.match(value):
        return None
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def format_w3c_datetime(moment: dt.datetime | None) -> str | None:
    """2026-11-30T10:15:30+08:00: local time with its offset, to the second."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")
