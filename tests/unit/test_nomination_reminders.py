"""Reminders before the nomination window closes: each sent once, even if the sweep runs twice or late."""

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from models import NominationReminder, OutboxMessage
from scheduler import create_scheduler, register_jobs
from services import nomination_reminders
from services.actors import Actor
from services.nominations import dossier
from tests.support.clock import FakeClock
from tests.support.nominations import call, ready_nomination
from tests.support.people import chat_of, to_chat
from tests.unit.test_nominations import Sessions, cast, person  # noqa: F401  (cast: fixture)

SEVEN_DAYS_BEFORE = datetime(2026, 4, 23, 1, 0, tzinfo=UTC)  # the window closes 2026-04-30 00:00 UTC
ONE_DAY_BEFORE = datetime(2026, 4, 29, 1, 0, tzinfo=UTC)


async def two_waiting(sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]) -> None:  # noqa: F811
    await ready_nomination(sessions, clock, cast["applicant"])  # a draft: its applicant is reminded
    submitter = await person(sessions, clock, 9, "李娜")
    submitted = await ready_nomination(sessions, clock, submitter)
    await call(sessions, dossier.submit, submitter, submitted, clock.now())  # waits for 广东质协


async def reminders(sessions: Sessions) -> list[tuple[int, str, int]]:
    async with sessions() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.template.startswith("reminder."))  # type: ignore[attr-defined]
                .order_by(OutboxMessage.id)
            )
        ).all()
        return [(await chat_of(session, r), r.template, r.params["days"]) for r in rows]


async def test_each_reminder_is_sent_once_at_seven_and_one_day(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
) -> None:
    await two_waiting(sessions, clock, cast)
    assert await call(sessions, nomination_reminders.sweep, clock.now()) == 0  # weeks before the close
    assert await call(sessions, nomination_reminders.sweep, SEVEN_DAYS_BEFORE) == 2
    assert await call(sessions, nomination_reminders.sweep, SEVEN_DAYS_BEFORE) == 0  # the sweep ran twice
    assert await call(sessions, nomination_reminders.sweep, ONE_DAY_BEFORE) == 2
    assert await reminders(sessions) == [
        (2, "reminder.nomination_unfinished", 7),
        (3, "reminder.nomination_pending", 7),
        (2, "reminder.nomination_unfinished", 1),
        (3, "reminder.nomination_pending", 1),
    ]
    async with sessions() as session:
        row = (await session.exec(select(OutboxMessage).where(to_chat(3)))).all()[-1]
        assert row.params == {"count": 1, "closes": "2026-04-30 08:00", "days": 1}
    assert (
        await call(sessions, nomination_reminders.sweep, datetime(2026, 4, 30, 1, tzinfo=UTC)) == 0
    )  # closed


async def test_a_late_sweep_sends_only_the_nearest_reminder(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
) -> None:
    await two_waiting(sessions, clock, cast)
    assert await call(sessions, nomination_reminders.sweep, ONE_DAY_BEFORE) == 2
    assert [days for _, _, days in await reminders(sessions)] == [1, 1]


async def test_two_sweeps_at_once_send_each_reminder_once(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
) -> None:
    await two_waiting(sessions, clock, cast)
    sent = await asyncio.gather(
        call(sessions, nomination_reminders.sweep, SEVEN_DAYS_BEFORE),
        call(sessions, nomination_reminders.sweep, SEVEN_DAYS_BEFORE),
    )
    assert sum(sent) == 2
    assert len(await reminders(sessions)) == 2
    async with sessions() as session:
        assert len((await session.exec(select(NominationReminder))).all()) == 2


def test_the_due_offset() -> None:
    closes = datetime(2026, 4, 30, tzinfo=UTC)
    assert nomination_reminders.due_offset(closes, datetime(2026, 4, 22, 23, tzinfo=UTC)) is None
    assert nomination_reminders.due_offset(closes, datetime(2026, 4, 23, tzinfo=UTC)) == 7
    assert nomination_reminders.due_offset(closes, datetime(2026, 4, 29, 12, tzinfo=UTC)) == 1
    assert nomination_reminders.due_offset(closes, closes) is None


def test_the_sweep_is_a_periodic_job(sessions: Sessions, clock: FakeClock) -> None:
    scheduler = create_scheduler(ZoneInfo("Asia/Shanghai"))
    register_jobs(scheduler, sessions, clock)
    job = scheduler.get_job("nomination_reminders")
    assert job is not None and job.trigger.interval.total_seconds() == 900
