"""Working-time arithmetic for deadlines: working days, working hours, holidays, make-up days.

Pure functions over plain dates and aware datetimes; no database. A "working minute" is a
minute inside [day_start, day_end) on a working day. China's calendar has holidays on weekdays
and make-up working days (调休) on weekends, so both sets are inputs.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Calendar:
    holidays: Collection[dt.date] = field(default_factory=frozenset)
    makeup_workdays: Collection[dt.date] = field(default_factory=frozenset)
    day_start: dt.time = dt.time(8, 30)
    day_end: dt.time = dt.time(17, 30)

    @property
    def minutes_per_day(self) -> int:
        return (self.day_end.hour * 60 + self.day_end.minute) - (self.day_start.hour * 60 + self.day_start.minute)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def add_working_minutes(start: dt.datetime, minutes: int, cal: Calendar) -> dt.datetime:
    """The moment `minutes` of working time after `start` (an aware datetime, local zone kept)."""
    if minutes < 0:
        raise ValueError("minutes must be >= 0")
    tz = start.tzinfo
    current = start
    remaining = minutes
    for _ in range(3660):  # ten years of days: a bound, not a limit reached in practice
        day = current.date()
        open_at = dt.datetime.combine(day, cal.day_start, tz)
        close_at = dt.datetime.combine(day, cal.day_end, tz)
        if cal.is_workday(day) and current < close_at:
            current = max(current, open_at)
            available = int((close_at - current).total_seconds() // 60)
            if remaining <= available:
                return current + dt.timedelta(minutes=remaining)
            remaining -= available
        current = dt.datetime.combine(day + dt.timedelta(days=1), cal.day_start, tz)
    raise ValueError("deadline beyond ten years")


def add_working_days(start: dt.datetime, days: int, cal: Calendar) -> dt.datetime:
    """`days` full working days after `start` (e.g. resolve in 3 working days)."""
    return add_working_minutes(start, days * cal.minutes_per_day, cal)
