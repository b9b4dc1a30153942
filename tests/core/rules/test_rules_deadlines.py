"""Deadline arithmetic: immediate, hours and England and Wales working days, in Europe/London."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.rules import LONDON, Deadline, add_working_days, is_working_day


def london(*parts) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


def test_one_working_day_from_christmas_eve_2026_is_tuesday_29th():
    # 25 Christmas Day, 26 and 27 weekend, 28 Boxing Day (substitute day).
    due = Deadline("working_days", 1, "reported").due(london(2026, 12, 24, 16), london(2026, 12, 24, 17))
    assert due == london(2026, 12, 29, 17)
    assert due.weekday() == 1


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (london(2026, 3, 13, 9, 30), 1, london(2026, 3, 16, 9, 30)),  # Friday -> Monday
        (london(2026, 3, 14, 10), 1, london(2026, 3, 16, 10)),  # Saturday -> Monday
        (london(2026, 3, 15, 23, 59), 1, london(2026, 3, 16, 23, 59)),  # Sunday -> Monday
        (london(2026, 3, 16, 8), 5, london(2026, 3, 23, 8)),  # a full week
        (london(2026, 4, 2, 12), 1, london(2026, 4, 7, 12)),  # Easter: Good Friday 3rd, Easter Monday 6th
        (london(2026, 5, 22, 17), 1, london(2026, 5, 26, 17)),  # Spring bank holiday 25 May
        (london(2026, 8, 28, 17), 1, london(2026, 9, 1, 17)),  # Late summer bank holiday 31 August
        (london(2026, 12, 31, 12), 1, london(2027, 1, 4, 12)),  # New Year's Day, then the weekend
        (london(2027, 12, 24, 9), 1, london(2027, 12, 29, 9)),  # 2027: substitutes on 27th and 28th
        (london(2026, 12, 24, 17), 0, london(2026, 12, 24, 17)),
    ],
)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


def test_working_days_keep_the_london_wall_clock_across_a_clock_change():
    # Friday 27 March 2026 is GMT; Monday 30 March is BST (clocks went forward on Sunday 29th).
    due = add_working_days(london(2026, 3, 27, 17), 1)
    assert due == london(2026, 3, 30, 17)
    assert due.utcoffset() == timedelta(hours=1)


def test_working_days_use_the_london_date_not_utc():
    # 23:30 UTC on Friday 5 June 2026 is 00:30 on Saturday in London, so one working day is Monday 8th.
    start = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)
    assert add_working_days(start, 1) == london(2026, 6, 8, 0, 30)


def test_hours_count_real_elapsed_time_across_a_clock_change():
    start = london(2026, 3, 28, 12)  # Saturday, GMT
    due = Deadline("hours", 24, "reported").due(start, start)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)
    assert due == london(2026, 3, 29, 13)  # the wall clock jumped an hour


def test_hours_from_occurred_and_from_reported():
    occurred, reported = london(2026, 3, 10, 8), london(2026, 3, 10, 20)
    assert Deadline("hours", 24, "occurred").due(occurred, reported) == london(2026, 3, 11, 8)
    assert Deadline("hours", 24, "reported").due(occurred, reported) == london(2026, 3, 11, 20)


def test_immediate_is_the_reported_time_in_london():
    reported = datetime(2026, 7, 1, 12, tzinfo=UTC)
    due = Deadline("immediate").due(reported - timedelta(hours=3), reported)
    assert due == reported and due.tzinfo is LONDON and due.hour == 13


def test_is_working_day():
    assert is_working_day(date(2026, 12, 29))
    assert not is_working_day(date(2026, 12, 28))
    assert not is_working_day(date(2026, 12, 26))
    assert not is_working_day(date(2023, 5, 8))  # coronation bank holiday


@pytest.mark.parametrize(
    ("deadline", "words"),
    [
        (Deadline("immediate"), "immediately"),
        (Deadline("hours", 1, "occurred"), "within 1 hour of the incident"),
        (Deadline("working_days", 10, "reported"), "within 10 working days of the report"),
    ],
)
def test_describe(deadline, words):
    assert deadline.describe() == words
