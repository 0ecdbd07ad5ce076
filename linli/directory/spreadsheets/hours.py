"""Opening hours as people write them: `周一至周五 08:30-17:30; 周六 09:00-12:00`.

The same text in English reads `Mon-Fri 08:30-17:30; Sat 09:00-12:00`. Both are
read whatever the user's language, so the day names of both languages are
written out here rather than translated: a sheet filled in Chinese imports for
an English-speaking operator, and the other way round.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from linli.directory.services import (
    WEEKDAY_ORDER,
    WeeklyHours,
    weekly_hours,
    weekly_hours_errors,
)

ALL_DAYS = WEEKDAY_ORDER
WORKDAYS = WEEKDAY_ORDER[:5]
WEEKEND = WEEKDAY_ORDER[5:]

CHINESE_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
ENGLISH_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ENGLISH_LONG = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CHINESE_NUMERALS = ("一", "二", "三", "四", "五", "六", "日")


def _day_words() -> dict[str, tuple[str, ...]]:
    words: dict[str, tuple[str, ...]] = {}
    for index, code in enumerate(WEEKDAY_ORDER):
        day = (code,)
        numeral = _CHINESE_NUMERALS[index]
        for prefix in ("周", "星期", "礼拜"):
            words[prefix + numeral] = day
        words[code.casefold()] = day
        words[ENGLISH_DAYS[index].casefold()] = day
        words[_ENGLISH_LONG[index]] = day
    for word in ("周天", "星期天", "礼拜天"):
        words[word] = ("SU",)
    words |= {"tues": ("TU",), "thur": ("TH",), "thurs": ("TH",)}
    for word in ("每天", "每日", "daily", "everyday"):
        words[word] = ALL_DAYS
    for word in ("工作日", "weekdays", "weekday"):
        words[word] = WORKDAYS
    for word in ("周末", "weekends", "weekend"):
        words[word] = WEEKEND
    return words


DAY_WORDS = _day_words()

_DASHES = re.compile(r"\s*(?:[-–—~～〜－至到]|\bto\b)\s*", re.IGNORECASE)
_TIME_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_NORMAL = str.maketrans({"：": ":", "，": ",", "、": ",", "；": ";", "\n": ";", "\r": ";"})


class HoursUnreadable(ValueError):
    """The text cannot be read as opening hours; the message says what to write."""


def _time(hours: str, minutes: str, *, closing: bool) -> dt.time:
    h, m = int(hours), int(minutes)
    if closing and (h, m) == (24, 0):
        # Open until midnight: a time of day cannot say 24:00, so the last minute stands for it.
        return dt.time(23, 59)
    if h > 23 or m > 59:
        raise HoursUnreadable(
            _("%(value)s is not a time of day.") % {"value": f"{hours}:{minutes}"}
        )
    return dt.time(h, m)


def _days(text: str, entry: str) -> tuple[str, ...]:
    days: list[str] = []
    for token in re.split(r"[,\s]+", text.strip()):
        if not token:
            continue
        ends = token.split("-")
        if len(ends) > 2 or not all(ends):
            raise HoursUnreadable(_("Cannot read the days in “%(entry)s”.") % {"entry": entry})
        found = [DAY_WORDS.get(end.casefold().rstrip(".")) for end in ends]
        if any(f is None for f in found):
            unknown = next(end for end, f in zip(ends, found, strict=True) if f is None)
            raise HoursUnreadable(
                _("“%(word)s” is not a day; write e.g. 周一至周五 or Mon-Fri.") % {"word": unknown}
            )
        if len(ends) == 1:
            days.extend(found[0] or ())
            continue
        first, last = found
        if first is None or last is None or len(first) != 1 or len(last) != 1:
            raise HoursUnreadable(_("Cannot read the days in “%(entry)s”.") % {"entry": entry})
        start, stop = WEEKDAY_ORDER.index(first[0]), WEEKDAY_ORDER.index(last[0])
        span = (stop - start) % 7
        days.extend(WEEKDAY_ORDER[(start + i) % 7] for i in range(span + 1))
    if not days:
        raise HoursUnreadable(
            _("Say which days “%(entry)s” is for, e.g. Mon-Fri 08:30-17:30.") % {"entry": entry}
        )
    return tuple(days)


def parse_hours(text: str) -> list[WeeklyHours]:
    """Weekly hours from text; `HoursUnreadable` says what is wrong (all problems at once)."""
    problems: list[str] = []
    hours: list[WeeklyHours] = []
    normal = _DASHES.sub("-", text.translate(_NORMAL))
    for raw_entry in normal.split(";"):
        entry = raw_entry.strip()
        if not entry:
            continue
        matches = list(_TIME_RANGE.finditer(entry))
        if not matches:
            problems.append(
                _("“%(entry)s” has no times; write e.g. 08:30-17:30.") % {"entry": entry}
            )
            continue
        between = [entry[a.end() : b.start()] for a, b in itertools.pairwise(matches)]
        between.append(entry[matches[-1].end() :])
        if any(part.strip(" ,") for part in between):
            problems.append(_("Cannot read “%(entry)s”.") % {"entry": entry})
            continue
        try:
            days = _days(entry[: matches[0].start()], entry)
            for match in matches:
                opens = _time(match[1], match[2], closing=False)
                closes = _time(match[3], match[4], closing=True)
                hours.append(WeeklyHours(days, opens, closes))
        except HoursUnreadable as error:
            problems.append(str(error))
    if not problems:
        normal_hours = weekly_hours(hours)
        problems = weekly_hours_errors(normal_hours)
        hours = normal_hours
    if problems:
        raise HoursUnreadable(" ".join(problems))
    return sort_hours(hours)


def sort_hours(hours: Sequence[WeeklyHours]) -> list[WeeklyHours]:
    return sorted(hours, key=lambda h: (WEEKDAY_ORDER.index(h.days[0]), h.opens, h.days))


def _format_days(days: tuple[str, ...], chinese: bool) -> str:
    names = CHINESE_DAYS if chinese else ENGLISH_DAYS
    if set(days) == set(ALL_DAYS):
        return "每天" if chinese else "Daily"
    indexes = sorted(WEEKDAY_ORDER.index(d) for d in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}{'至' if chinese else '-'}{names[run[-1]]}")
        else:
            parts.extend(names[i] for i in run)
    return ("、" if chinese else ", ").join(parts)


def format_hours(hours: Sequence[WeeklyHours], language: str | None = None) -> str:
    """The text `parse_hours` reads back: Chinese day names unless the language is English."""
    chinese = not (language or get_language() or "").startswith("en")
    entries: list[tuple[tuple[str, ...], list[str]]] = []
    for entry in sort_hours(hours):
        times = f"{entry.opens:%H:%M}-{entry.closes:%H:%M}"
        if entries and entries[-1][0] == entry.days:
            entries[-1][1].append(times)
        else:
            entries.append((entry.days, [times]))
    return "; ".join(f"{_format_days(days, chinese)} {', '.join(t)}" for days, t in entries)
