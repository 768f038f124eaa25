"""When a scheduled session happens: pure date arithmetic, no database.

A weekly session keeps its local wall-clock time (19:00 in Casablanca stays 19:00 when Morocco
moves its clocks for Ramadan), so each date is turned into an instant in its own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Occurrence:
    date: date
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC


def occurrence_at(*, day: date, start_time: time, duration_minutes: int, time_zone: str
                  ) -> Occurrence:
    """One date of a session as instants. A start inside a spring-forward gap (a local time
    that does not exist that day) moves forward by the gap, as clocks do."""
    local = datetime.combine(day, start_time, tzinfo=ZoneInfo(time_zone))
    starts_at = local.astimezone(UTC)
    return Occurrence(date=day, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=duration_minutes))


def occurrences_between(*, first_date: date, start_time: time, duration_minutes: int,
                        time_zone: str, weekly: bool, repeat_until: date | None,
                        start: datetime, end: datetime) -> list[Occurrence]:
    """The dates of a session that are not over at `start` and begin before `end`."""
    found: list[Occurrence] = []
    day = first_date
    if weekly:
        # Skip whole weeks before the window (a day of margin for time zones).
        behind = (start.date() - first_date).days - 1
        if behind > 7:
            day = first_date + timedelta(days=7 * (behind // 7))
    while True:
        if repeat_until is not None and day > repeat_until:
            break
        occurrence = occurrence_at(day=day, start_time=start_time,
                                   duration_minutes=duration_minutes, time_zone=time_zone)
        if occurrence.starts_at >= end:
            break
        if occurrence.ends_at > start:
            found.append(occurrence)
        if not weekly:
            break
        day += timedelta(days=7)
    return found


def is_occurrence(*, day: date, first_date: date, weekly: bool, repeat_until: date | None
                  ) -> bool:
    """Whether a session takes place on this date at all."""
    if day < first_date or (repeat_until is not None and day > repeat_until):
        return False
    return day == first_date or (weekly and (day - first_date).days % 7 == 0)


WEEKS_AHEAD = 4  # how far the schedule page looks: this week and the three after it


def week_window(*, today: date, week: int) -> tuple[date, date]:
    """The days of one week of the schedule, [first, end): week 0 is today and the six days
    after it, week 1 the seven after those, and so on."""
    first = today + timedelta(days=7 * week)
    return first, first + timedelta(days=7)
