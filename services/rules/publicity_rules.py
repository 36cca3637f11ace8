"""公示 and objections (第十六条第2项) as pure rules: the period in working days on the mainland
calendar, who may object and when, how a case is ruled, and when the list may be approved."""

from datetime import datetime, timedelta
from enum import StrEnum

from services import local_time
from services.errors import DomainError
from services.rules.workdays import WorkdayCalendar

DEFAULT_CASE_WORKDAYS = 10  # the office rules on an objection within ten working days


class CaseStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the nomination is withdrawn from the list
    DISMISSED = "dismissed"


def _end_of_workday(start: datetime, workdays: int, calendar: WorkdayCalendar) -> datetime:
    """Local midnight after the `workdays`-th working day following the day of `start`."""
    last = calendar.add_workdays(local_time.day_of(start), workdays)
    return local_time.at(last + timedelta(days=1)).astimezone(start.tzinfo)


def period_end(published_at: datetime, workdays: int, calendar: WorkdayCalendar) -> datetime:
    """公示 runs from publication for `workdays` full working days (the day of publication not counted)."""
    if workdays < 1:
        raise DomainError("publicity.bad_period")
    return _end_of_workday(published_at, workdays, calendar)


def case_deadline(
    lodged_at: datetime, calendar: WorkdayCalendar, workdays: int = DEFAULT_CASE_WORKDAYS
) -> datetime:
    return _end_of_workday(lodged_at, workdays, calendar)


def in_period(published_at: datetime, ends_at: datetime, now: datetime) -> bool:
    return published_at <= now < ends_at


def check_objection(
    *,
    now: datetime,
    published_at: datetime,
    ends_at: datetime,
    on_list: bool,
    grounds: str,
    contact_name: str,
    contact_phone: str,
    organisation: str,
    letter: str | None,
) -> None:
    """Objections are real-name and timely, as in provincial practice: the reasons are said."""
    if not in_period(published_at, ends_at, now):
        raise DomainError("publicity.period_over")
    if not on_list:
        raise DomainError("publicity.not_on_list")
    if not grounds.strip():
        raise DomainError("publicity.grounds_required")
    if not contact_name.strip() or not contact_phone.strip():
        raise DomainError("publicity.anonymous")
    if organisation.strip() and not letter:
        raise DomainError("publicity.letter_required")


def check_ruling(status: str, reason: str) -> None:
    if status != CaseStatus.OPEN:
        raise DomainError("publicity.already_ruled")
    if not reason.strip():
        raise DomainError("publicity.reason_required")


def may_forward(*, now: datetime, ends_at: datetime, open_cases: int, forwarded_at: datetime | None) -> bool:
    """The period is over and every objection is ruled: the list goes to the leading group."""
    return forwarded_at is None and now >= ends_at and open_cases == 0


def check_approval(
    *, now: datetime, ends_at: datetime, open_cases: int, approved_at: datetime | None
) -> None:
    if approved_at is not None:
        raise DomainError("publicity.already_approved")
    if open_cases:
        raise DomainError("publicity.open_objection", count=open_cases)
    if now < ends_at:
        raise DomainError("publicity.period_running")
