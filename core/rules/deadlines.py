"""Deadlines for safeguarding actions: immediate, N hours, or N working days in England (core layer).

Times are worked out in Europe/London and returned as aware datetimes in that zone.

- immediate: due at the time the incident was reported.
- hours: N elapsed hours after the start (occurred or reported), counted on the real clock, so a
  deadline across a clock change is still N hours away.
- working_days: the same London wall-clock time on the Nth working day after the start day. Working days
  are Monday to Friday except England and Wales bank holidays (the `holidays` package, subdivision ENG,
  including substitute days). A start on a weekend or bank holiday counts from the next working day, so
  one working day from Saturday 10:00 is Monday 10:00. Clocks change only on Sundays, so the wall-clock
  time always exists on a working day.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

DEADLINE_KINDS = ("immediate", "hours", "working_days")
DEADLINE_STARTS = ("occurred", "reported")


@dataclass(frozen=True)
class Deadline:
    kind: str
    n: int = 0
    start: str = "reported"  # "occurred" or "reported"; written `from` in the TOML files

    def due(self, occurred_at: datetime, reported_at: datetime) -> datetime:
        """When an action under this deadline is due, as an aware Europe/London datetime."""
        if self.kind == "immediate":
            return reported_at.astimezone(LONDON)
        begin = occurred_at if self.start == "occurred" else reported_at
        if self.kind == "hours":
            # Add in UTC: Python adds to a London time on the wall clock, ignoring clock changes.
            return (utc(begin) + timedelta(hours=self.n)).astimezone(LONDON)
        return add_working_days(begin, self.n)

    def describe(self) -> str:
        """The deadline in words, e.g. 'within 1 working day of the report'."""
        if self.kind == "immediate":
            return "immediately"
        since = "of the incident" if self.start == "occurred" else "of the report"
        unit = {"hours": "hour", "working_days": "working day"}[self.kind]
        return f"within {self.n} {unit}{'' if self.n == 1 else 's'} {since}"


def utc(moment: datetime) -> datetime:
    """`moment` in UTC. Compare and subtract aware times in UTC: Python compares two times that share a
    tzinfo (e.g. both Europe/London) on the wall clock, which is wrong across a clock change."""
    return moment.astimezone(UTC)


@functools.cache
def _bank_holidays():
    import holidays  # imported on first use: it is slow to import and the sign-in window does not need it

    return holidays.country_holidays("GB", subdiv="ENG")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays()


def add_working_days(start: datetime, n: int) -> datetime:
    """The same London wall-clock time on the nth working day after `start`'s London date."""
    local = start.astimezone(LONDON)
    day = local.date()
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    wall = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LONDON)
    # Normalise through UTC so the offset is right for that date.
    return wall.astimezone(LONDON)
