"""Three-year validity, reminder times and what the sweep does at a moment (第十七条第2项)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.rules.honour_validity import (
    Status,
    add_years,
    next_due,
    normalise_days,
    reconfirmed_until,
    status_at,
    sweep_step,
    validity_end,
)

pytestmark = pytest.mark.article("第十七条第2项")

AWARDED = datetime(2026, 7, 15, 2, 0, tzinfo=UTC)
UNTIL = validity_end(AWARDED)


def test_an_honour_is_valid_three_years_from_the_award() -> None:
    assert UNTIL == datetime(2029, 7, 15, 2, 0, tzinfo=UTC)
    assert add_years(datetime(2028, 2, 29, tzinfo=UTC), 3) == datetime(2031, 2, 28, tzinfo=UTC)
    assert reconfirmed_until(UNTIL) == datetime(2032, 7, 15, 2, 0, tzinfo=UTC)  # from the old expiry


def test_verification_reads_expired_past_the_end_even_before_the_sweep() -> None:
    assert status_at("valid", UNTIL, UNTIL - timedelta(seconds=1)) == Status.VALID
    assert status_at("valid", UNTIL, UNTIL) == Status.EXPIRED
    assert status_at("revoked", UNTIL, AWARDED) == Status.REVOKED


def test_the_first_due_time_is_180_days_before_expiry() -> None:
    assert next_due(UNTIL, None, AWARDED) == UNTIL - timedelta(days=180)


@pytest.mark.parametrize("days", [180, 90, 30, 7])
def test_each_reminder_goes_out_when_its_time_comes_and_then_points_at_the_next(days: int) -> None:
    before = {180: None, 90: 180, 30: 90, 7: 30}[days]
    moment = UNTIL - timedelta(days=days) + timedelta(hours=1)
    step = sweep_step("valid", UNTIL, before, moment)
    assert step.remind_days == days and step.reminded == days and not step.expire
    following = {180: 90, 90: 30, 30: 7}.get(days)
    assert step.next_due_at == (UNTIL - timedelta(days=following) if following else UNTIL)
    again = sweep_step("valid", UNTIL, step.reminded, moment)  # the sweep running twice
    assert again.remind_days is None and again.next_due_at == step.next_due_at


def test_after_long_downtime_only_the_latest_due_reminder_goes_out() -> None:
    moment = UNTIL - timedelta(days=20)  # 180 and 90 and 30 all passed while the bot was down
    step = sweep_step("valid", UNTIL, None, moment)
    assert (step.remind_days, step.next_due_at) == (30, UNTIL - timedelta(days=7))


def test_a_late_reminder_still_goes_out_once() -> None:
    step = sweep_step("valid", UNTIL, None, UNTIL - timedelta(days=150))  # 180's time passed a month ago
    assert step.remind_days == 180 and step.next_due_at == UNTIL - timedelta(days=90)


def test_past_the_end_the_honour_expires_and_nothing_more_is_due() -> None:
    step = sweep_step("valid", UNTIL, 7, UNTIL + timedelta(days=400))
    assert step.expire and step.remind_days is None and step.next_due_at is None
    assert sweep_step("revoked", UNTIL, None, UNTIL - timedelta(days=100)) == sweep_step(
        "revoked", UNTIL, None, UNTIL
    )


def test_reminder_days_are_configurable_and_checked() -> None:
    step = sweep_step("valid", UNTIL, None, UNTIL - timedelta(days=59), days=(60, 14))
    assert step.remind_days == 60 and step.next_due_at == UNTIL - timedelta(days=14)
    assert normalise_days([7, 180, 30, 30]) == (180, 30, 7)
    with pytest.raises(ValueError):
        normalise_days([0, -3])
