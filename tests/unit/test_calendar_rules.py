"""Working days with 调休, and the campaign's phases, with a fixed clock."""

from datetime import UTC, date, datetime

import pytest

from services.errors import DomainError
from services.rules.campaign_phases import Action, CampaignCalendar, Phase, phase_at, require
from services.rules.workdays import WorkdayCalendar

CALENDAR = WorkdayCalendar()


def test_national_day_and_make_up_days_2026() -> None:
    assert not CALENDAR.is_workday(date(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert not CALENDAR.is_workday(date(2026, 10, 1)) and not CALENDAR.is_workday(date(2026, 10, 7))
    assert CALENDAR.is_workday(date(2026, 10, 8)) and CALENDAR.is_workday(
        date(2026, 10, 10)
    )  # 10 Oct: make-up Saturday
    # Five working days after Wednesday 30 September: 8, 9, 10 (Saturday), 12, 13 October.
    assert CALENDAR.add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_the_office_fills_in_a_year_the_package_does_not_know() -> None:
    assert not CALENDAR.knows(2031)
    assert CALENDAR.is_workday(date(2031, 1, 1))  # a Wednesday, by the weekday rule
    calendar = WorkdayCalendar({date(2031, 1, 1): False, date(2031, 1, 4): True})
    assert (
        calendar.knows(2031)
        and not calendar.is_workday(date(2031, 1, 1))
        and calendar.is_workday(date(2031, 1, 4))
    )
    assert calendar.add_workdays(date(2030, 12, 31), 2) == date(2031, 1, 3)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# Local midnights in Asia/Shanghai are 16:00 UTC the day before.
DATES = CampaignCalendar(
    nomination_opens=at(2, 28, 16),
    nomination_closes=at(4, 30, 16),
    precheck_deadline=at(5, 31, 16),
    review_opens=at(6, 10, 16),
    review_closes=at(9, 25, 16),
    announcement_at=at(10, 31, 16),
    publicity_workdays=5,
)


@pytest.mark.parametrize(
    ("moment", "phase"),
    [
        (at(2, 28, 15), Phase.UPCOMING),
        (at(2, 28, 16), Phase.NOMINATION),
        (at(4, 30, 15), Phase.NOMINATION),
        (at(4, 30, 16), Phase.PRELIMINARY_CHECK),
        (at(6, 5), Phase.PRELIMINARY_CHECK),  # between the deadline and the review
        (at(6, 10, 16), Phase.REVIEW),
        (at(9, 25, 16), Phase.PUBLICITY),
        # Publicity from Saturday 26 September: 28, 29, 30 Sep, then the holiday, then 8 and 9 Oct.
        (at(10, 9, 15), Phase.PUBLICITY),
        (at(10, 9, 16), Phase.APPROVAL),
        (at(10, 31, 16), Phase.COMMENDATION),
    ],
)
def test_phase_boundaries(moment: datetime, phase: Phase) -> None:
    assert phase_at(DATES, moment, CALENDAR) == phase


def test_out_of_order_dates_are_refused() -> None:
    broken = CampaignCalendar(**{**DATES.__dict__, "review_opens": at(4, 1)})
    with pytest.raises(DomainError) as refused:
        broken.validate()
    assert refused.value.code == "campaign.dates_out_of_order"
    assert refused.value.params == {
        "first_key": "campaign.field.precheck_deadline",
        "second_key": "campaign.field.review_opens",
    }


def test_dossiers_lock_when_the_review_starts() -> None:
    require(Phase.PRELIMINARY_CHECK, Action.EDIT_DOSSIER)
    with pytest.raises(DomainError):
        require(Phase.REVIEW, Action.EDIT_DOSSIER)
    for phase in Phase:
        require(phase, Action.SELF_CHECK)
