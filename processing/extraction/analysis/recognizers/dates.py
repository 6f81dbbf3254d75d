"""Calendar dates: ISO 8601, written English forms, unambiguous numeric forms."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from processing.extraction.analysis.recognizers.scanning import (
    DIGITS,
    finditer_in,
    lowered_or_none,
    needle_windows,
    widened,
)
from processing.extraction.result import Entity

_MONTHS: dict[str, int] = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Longest names first so "March" is not read as "Mar" + "ch".
_MONTH = r"(?i:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
# Spaces between the parts, at most one line break (wrapped text); bounded so a
# long run of blanks cannot make the scan quadratic.
_SP = r"(?:[^\S\n]{1,8}|[^\S\n]{0,8}\n[^\S\n]{0,8})"
_ORDINAL = r"(?i:st|nd|rd|th)?"
# What may not follow a date: more of a word, or more of a dotted/dashed number.
_END = r"(?![\w]|[.,/-]\d)"

_ISO = re.compile(
    r"(?<![\w.:/+-])"
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:(?:T|[ ](?=\d{2}:\d{2}))"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?"
    r")?"
    r"(?![\w:]|[.,/+-]\d)"
)
_YEAR_FIRST = re.compile(r"(?<![\w.:/+-])(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})" + _END)
_DAY_MONTH_YEAR = re.compile(
    "".join(
        (
            r"(?<![\w.,/-])(?P<day>\d{1,2})", _ORDINAL, r"(?:", _SP, r"(?i:of))?", _SP,
            r"(?P<month>", _MONTH, r")\.?,?", _SP, r"(?P<year>\d{4})", _END,
        )
    )
)  # fmt: skip
_MONTH_DAY_YEAR = re.compile(
    "".join(
        (
            r"(?<!\w)(?P<month>", _MONTH, r")\.?", _SP,
            r"(?P<day>\d{1,2})", _ORDINAL, r",?", _SP, r"(?P<year>\d{4})", _END,
        )
    )
)  # fmt: skip
_NUMERIC = re.compile(
    r"(?<![\w.,/:-])(?P<first>\d{1,2})(?P<sep>[./-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4})"
    + _END
)
# Farthest a date reaches from one of its digits: "14th of  September, 2026"
# before the year, a time with fraction and zone after the date.
_REACH_BEFORE = 80
_REACH_AFTER = 48
# Every month name starts with one of these; a written date reaches this far
# before its month name ("14th of  " with line breaks) and after it
# ("September,  14th,  2026" and the lookahead).
_MONTH_NEEDLES = tuple(sorted({name[:3] for name in _MONTHS}))
_NAMED_REACH_BEFORE = 48
_NAMED_REACH_AFTER = 64
_MIN_YEAR = 1000
_MAX_MONTH = 12


class DateRecognizer:
    """Dates, with the value in ISO 8601.

    Recognised: ISO dates and date-times (``2026-03-14``,
    ``2026-03-14T10:00:00Z``, ``2026-03-14 10:00``), ``2026/03/14``, written
    English forms (``14 March 2026``, ``14th of March, 2026``,
    ``March 14, 2026``, ``Mar. 14, 2026``) and numeric ``d/m/yyyy`` or
    ``m/d/yyyy`` (also with ``.`` or ``-``) only when the reading is unambiguous:
    one of the first two numbers is above 12, or both are equal.

    Values are ``YYYY-MM-DD``, or ``YYYY-MM-DDTHH:MM:SS`` with the written
    fraction and zone (``Z`` or ``±HH:MM``) when a time is present. Impossible
    dates (``Feb 30, 2026``) and years before 1000 are not reported.
    """

    name = "date"

    def recognize(self, text: str) -> Iterator[Entity]:
        windows = needle_windows(text, DIGITS, before=_REACH_BEFORE, after=_REACH_AFTER)
        for match in finditer_in(_ISO, text, windows):
            value = _iso_value(match)
            if value is not None:
                yield Entity("date", match.group(), value, match.start(), match.end())
        for match in finditer_in(_YEAR_FIRST, text, windows):
            yield from _dated(match, match["year"], match["month"], match["day"])
        # Written dates hold a month name: windows around those (found in a
        # lower-cased copy, as the patterns ignore case) are far fewer than
        # around digits in a table-heavy text.
        lowered = lowered_or_none(text)
        if lowered is not None:
            named = needle_windows(
                lowered, _MONTH_NEEDLES, before=_NAMED_REACH_BEFORE, after=_NAMED_REACH_AFTER
            )
            windows_named = widened(text, named, "0123456789")
        else:
            windows_named = windows
        for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
            for match in finditer_in(pattern, text, windows_named):
                month = str(_MONTHS[match["month"].lower()])
                yield from _dated(match, match["year"], month, match["day"])
        for match in finditer_in(_NUMERIC, text, windows):
            day_month = _unambiguous_day_month(int(match["first"]), int(match["second"]))
            if day_month is not None:
                yield from _dated(match, match["year"], str(day_month[1]), str(day_month[0]))


def _dated(match: re.Match[str], year: str, month: str, day: str) -> Iterator[Entity]:
    """The match as a date entity, if the date exists."""
    date = _valid_date(year, month, day)
    if date is not None:
        yield Entity("date", match.group(), date.isoformat(), match.start(), match.end())


def _valid_date(year: str, month: str, day: str) -> dt.date | None:
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    return date if date.year >= _MIN_YEAR else None


def _unambiguous_day_month(first: int, second: int) -> tuple[int, int] | None:
    if first == second or (first > _MAX_MONTH >= second):
        return first, second
    if second > _MAX_MONTH >= first:
        return second, first
    return None


def _iso_value(match: re.Match[str]) -> str | None:
    date = _valid_date(match["year"], match["month"], match["day"])
    if date is None:
        return None
    if match["hour"] is None:
        return date.isoformat()
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    value = f"{date.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}"
    if match["fraction"]:
        value += "." + match["fraction"]
    zone = _zone_value(match["zone"])
    return None if zone is None else value + zone


def _zone_value(zone: str | None) -> str | None:
    """A written UTC offset as ``Z``, ``±HH:MM`` or ``""`` (none), or ``None`` if invalid."""
    if zone is None:
        return ""
    if zone == "Z":
        return zone
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    return f"{zone[0]}{hours:02d}:{minutes:02d}"
