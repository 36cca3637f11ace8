"""APScheduler with a few periodic jobs. Jobs hold no Bot or session of their own: they open a
session, call a service, and are safe to run twice or late (due rows, not one job per item)."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services import housekeeping, nomination_reminders
from services.honours import validity
from services.ports import Clock
from services.publicity import sweeps as publicity_sweeps
from services.reviews import sweeps as review_sweeps
from services.rules.honour_validity import DEFAULT_REMINDER_DAYS

Job = Callable[[], Awaitable[None]]


def create_scheduler(zone: ZoneInfo) -> AsyncIOScheduler:
    # A job due while the process was down runs once when it is back, instead of being skipped.
    return AsyncIOScheduler(
        timezone=zone, job_defaults={"misfire_grace_time": 24 * 3600, "coalesce": True, "max_instances": 1}
    )


def register_jobs(
    scheduler: AsyncIOScheduler,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    extra: dict[str, tuple[Job, int]] | None = None,
    rereview_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
    run_now: bool = False,
) -> None:
    """Fixed job ids, so a restart replaces jobs instead of piling them up. With `run_now`, every
    job runs as soon as the scheduler starts (what fell due during downtime goes out at once, not
    one interval later), then on its interval."""

    async def purge() -> None:
        async with sessions() as session:
            await housekeeping.purge(session, clock.now())

    async def remind_nominations() -> None:  # before the nomination window closes; each sent once
        async with sessions() as session:
            await nomination_reminders.sweep(session, clock.now())

    async def sweep_honours() -> None:  # honour reminders and expiry (第十七条), due rows, each sent once
        async with sessions() as session:
            await validity.sweep(session, clock.now(), days=rereview_days)

    async def sweep_reviews() -> None:  # reviewer reminders (each once), rounds due to close, 公示 ends
        async with sessions() as session:
            await review_sweeps.sweep(session, clock.now())
            await publicity_sweeps.sweep(session, clock.now())

    jobs: dict[str, tuple[Job, int]] = {
        "housekeeping": (purge, 3600),
        "honour_sweep": (sweep_honours, 3600),
        "nomination_reminders": (remind_nominations, 900),
        "review_sweep": (sweep_reviews, 300),
        **(extra or {}),
    }
    first = {"next_run_time": datetime.now(scheduler.timezone)} if run_now else {}
    for job_id, (job, seconds) in jobs.items():
        scheduler.add_job(job, "interval", seconds=seconds, id=job_id, replace_existing=True, **first)
