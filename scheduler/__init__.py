"""APScheduler with a few periodic jobs. Jobs hold no Bot or session of their own: they open a
session, call a service, and are safe to run twice or late (due rows, not one job per item)."""

from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services import housekeeping
from services.ports import Clock

Job = Callable[[], Awaitable[None]]


def create_scheduler(zone: ZoneInfo) -> AsyncIOScheduler:
    # A job due while the process was down runs once when it is back, instead of being skipped.
    return AsyncIOScheduler(timezone=zone, job_defaults={"misfire_grace_time": 24 * 3600, "coalesce": True,
                                                         "max_instances": 1})


def register_jobs(scheduler: AsyncIOScheduler, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                  extra: dict[str, tuple[Job, int]] | None = None) -> None:
    """Fixed job ids, so a restart replaces jobs instead of piling them up."""

    async def purge() -> None:
        async with sessions() as session:
            await housekeeping.purge(session, clock.now())

    jobs: dict[str, tuple[Job, int]] = {"housekeeping": (purge, 3600), **(extra or {})}
    for job_id, (job, seconds) in jobs.items():
        scheduler.add_job(job, "interval", seconds=seconds, id=job_id, replace_existing=True)
