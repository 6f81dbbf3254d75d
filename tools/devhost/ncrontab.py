"""Six-field NCRONTAB schedules (``sec min hour day month weekday``), as timer
triggers use them, plus the ``hh:mm:ss`` interval form.

Fields take ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``,
lists ``a,b`` and month/day names. As in NCrontab, a time must match the
day-of-month AND the day-of-week fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_NAMES = {
    4: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    5: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
}
_BOUNDS = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]  # weekday 7 = Sunday
_INTERVAL = re.compile(r"^(\d+):(\d{2}):(\d{2})$")
#: Guards ``next_after`` against schedules that never fire (e.g. 30 February).
_SEARCH_DAYS = 366 * 5


class ScheduleError(ValueError):
    """A schedule this host cannot parse."""


@dataclass(frozen=True, slots=True)
class Schedule:
    expression: str
    fields: tuple[frozenset[int], ...] | None  # None for an interval schedule
    interval: timedelta | None = None

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (same tzinfo)."""
        if self.interval is not None:
            return moment + self.interval
        assert self.fields is not None
        seconds, minutes, hours, days, months, weekdays = self.fields
        candidate = moment.replace(microsecond=0) + timedelta(seconds=1)
        limit = moment + timedelta(days=_SEARCH_DAYS)
        while candidate <= limit:
            if candidate.month not in months:
                year = candidate.year + (candidate.month == 12)
                month = candidate.month % 12 + 1
                candidate = candidate.replace(year=year, month=month, day=1, hour=0, minute=0)
                candidate = candidate.replace(second=0)
                continue
            weekday = (candidate.weekday() + 1) % 7  # Sunday is 0 in cron
            if candidate.day not in days or weekday not in weekdays:
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if candidate.hour not in hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if candidate.minute not in minutes:
                candidate = (candidate + timedelta(minutes=1)).replace(second=0)
                continue
            if candidate.second not in seconds:
                candidate += timedelta(seconds=1)
                continue
            return candidate
        raise ScheduleError(f"schedule {self.expression!r} never fires")


def parse_schedule(expression: str) -> Schedule:
    text = expression.strip()
    interval = _INTERVAL.match(text)
    if interval:
        hours, minutes, seconds = (int(g) for g in interval.groups())
        span = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        if span <= timedelta(0):
            raise ScheduleError(f"interval schedule {expression!r} must be positive")
        return Schedule(expression, None, span)
    parts = text.split()
    if len(parts) != 6:
        raise ScheduleError(
            f"schedule {expression!r} must have six fields (sec min hour day month weekday)"
        )
    fields = tuple(_parse_field(part, index) for index, part in enumerate(parts))
    return Schedule(expression, fields)


def _parse_field(text: str, index: int) -> frozenset[int]:
    low, high = _BOUNDS[index]
    values: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = _number(step_text, index) if step_text else 1
        if step < 1:
            raise ScheduleError(f"step must be positive in {text!r}")
        if base in {"*", "?"}:
            start, stop = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, stop = _number(first, index), _number(last, index)
        else:
            start = _number(base, index)
            stop = high if step_text else start
        if not (low <= start <= high and low <= stop <= high and start <= stop):
            raise ScheduleError(f"field {text!r} is outside {low}-{high}")
        values.update(range(start, stop + 1, step))
    if index == 5 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def _number(text: str, index: int) -> int:
    names = _NAMES.get(index)
    upper = text.strip().upper()
    if names and upper in names:
        return names.index(upper) + (1 if index == 4 else 0)
    if not upper.isdigit():
        raise ScheduleError(f"{text!r} is not a number")
    return int(upper)
