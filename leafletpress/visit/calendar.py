"""The hospital's clock and calendar: appointments in its time zone, derived moments in real
elapsed time, and deadlines on working days.

Six hours of fasting before 08:00 on the Sunday the clocks change are six real hours: the
arithmetic is done in UTC and shown in local time. A time that does not exist that day (the
hour skipped in spring) is refused; a time that happens twice (the hour repeated in autumn)
is its first occurrence, still summer time. A deadline that falls on a weekend or a public
holiday moves to the working day before (the `holidays` package, maintained upstream).
"""

from __future__ import annotations

from collections.abc import Collection, Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from ..common.errors import InputError


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    holidays: holidays.HolidayBase

    def moment(self, on: date, at: time, field: str = "time") -> datetime:
        """The local wall-clock time ``at`` on ``on``; refused if the clock skips it."""
        local = datetime.combine(on, at, tzinfo=self.zone)  # fold=0: the first of two
        if local.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != local.replace(
            tzinfo=None
        ):
            raise InputError(
                f"{at:%H:%M} bestaat niet op {on:%d/%m/%Y}: de klok springt dan een uur vooruit",
                field=field,
                hint="kies een uur buiten het overgeslagen uur (zomertijd)",
            )
        return local

    def before(self, moment: datetime, elapsed: timedelta) -> datetime:
        """The local time ``elapsed`` real time before ``moment`` (across clock changes)."""
        return (moment.astimezone(UTC) - elapsed).astimezone(self.zone)

    def working_day(self, day: date) -> date:
        """``day``, or the last working day before it (no weekend, no public holiday)."""
        while day.weekday() >= 5 or day in self.holidays:
            day -= timedelta(days=1)
        return day


@cache
def calendar(zone: str, country: str) -> Calendar:
    return Calendar(ZoneInfo(zone), holidays.country_holidays(country))


def demo_date(today: date, closed: Container[date], uses: Collection[int]) -> date:
    """A Tuesday at least 14 days ahead, so no deadline in the demo has passed, on which no
    day the demo uses (``uses``: days after it, such as a discharge or a follow-up) is a
    public holiday (``closed``: the hospital's); whole weeks later until none is, so the demo
    warns of none and its weekdays stay. (Within a year; after that, the first Tuesday.)"""
    first = today + timedelta(days=14)
    first += timedelta(days=(1 - first.weekday()) % 7)
    for week in range(53):
        day = first + timedelta(weeks=week)
        if not any(day + timedelta(days=after) in closed for after in uses):
            return day
    return first
