"""Working days on the mainland calendar, with public holidays and make-up working days (调休).

The `chinesecalendar` package knows each year once the State Council publishes it; for a year it
does not know yet, the office's overrides decide, and Monday to Friday count as working days."""

from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar


class WorkdayCalendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides = dict(overrides or {})

    def package_knows(self, year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def knows(self, year: int) -> bool:
        return self.package_knows(year) or any(day.year == year for day in self.overrides)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def add_workdays(self, start: date, count: int) -> date:
        """The count-th working day after start (start itself not counted)."""
        day, found = start, 0
        while found < count:
            day += timedelta(days=1)
            found += self.is_workday(day)
        return day

    def workdays_between(self, first: date, last: date) -> int:
        """Working days in [first, last]."""
        return sum(self.is_workday(first + timedelta(days=i)) for i in range((last - first).days + 1))
