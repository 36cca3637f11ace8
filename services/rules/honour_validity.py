"""An honour's validity (第十七条第2项): three years from the award, reminders before expiry, and
what the sweep must do with an honour at a given time. Pure: no database, no clock.

Reminders after downtime: the sweep sends at most ONE reminder per honour per visit, the latest
one whose time has come (the smallest `days before` already due). When the bot was down across
several reminder times, the earlier ones are skipped, never sent in a burst: a holder told
"7 days left" gains nothing from "180 days left" arriving at the same moment. A reminder that is
merely late (its time passed, the next one's has not) still goes out once."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

VALIDITY_YEARS = 3
DEFAULT_REMINDER_DAYS: tuple[int, ...] = (180, 90, 30, 7)


class Status(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


def add_years(moment: datetime, years: int) -> datetime:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def validity_end(start: datetime) -> datetime:
    return add_years(start, VALIDITY_YEARS)


def status_at(stored: str, valid_until: datetime, now: datetime) -> Status:
    """What verification shows: a valid honour past its end reads expired even before the sweep ran."""
    status = Status(stored)
    if status == Status.VALID and now >= valid_until:
        return Status.EXPIRED
    return status


def normalise_days(days: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    cleaned = tuple(sorted({int(d) for d in days if int(d) > 0}, reverse=True))
    if not cleaned:
        raise ValueError("at least one positive number of days before expiry")
    return cleaned


def reminder_time(valid_until: datetime, days: int) -> datetime:
    return valid_until - timedelta(days=days)


def _pending(reminded: int | None, days: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for d in days if reminded is None or d < reminded)


def next_due(
    valid_until: datetime, reminded: int | None, now: datetime, days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
) -> datetime:
    """When the sweep should next look at this honour: the next reminder still to send, else expiry."""
    later = [
        reminder_time(valid_until, d)
        for d in _pending(reminded, normalise_days(days))
        if reminder_time(valid_until, d) > now
    ]
    return min(later) if later else valid_until


@dataclass(frozen=True)
class SweepStep:
    expire: bool = False
    remind_days: int | None = None  # send this reminder now
    reminded: int | None = None  # the new value of the honour's reminded_days
    next_due_at: datetime | None = None  # None: nothing more to do for this honour


def sweep_step(
    status: str,
    valid_until: datetime,
    reminded: int | None,
    now: datetime,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
) -> SweepStep:
    if Status(status) != Status.VALID:
        return SweepStep(reminded=reminded)
    if now >= valid_until:
        return SweepStep(expire=True, reminded=reminded)
    ordered = normalise_days(days)
    due = [d for d in _pending(reminded, ordered) if reminder_time(valid_until, d) <= now]
    if not due:
        return SweepStep(reminded=reminded, next_due_at=next_due(valid_until, reminded, now, ordered))
    latest = min(due)
    return SweepStep(
        remind_days=latest, reminded=latest, next_due_at=next_due(valid_until, latest, now, ordered)
    )


def revocable(status: Status) -> bool:
    return status == Status.VALID


def reconfirmed_until(old_until: datetime) -> datetime:
    """复议 re-confirms for a further three years counted from the old expiry, not from the decision."""
    return add_years(old_until, VALIDITY_YEARS)
