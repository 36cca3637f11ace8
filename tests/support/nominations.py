"""A 2026 campaign's calendar and a nomination ready to submit, through the services alone."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.actors import Actor
from services.nominations import dossier
from tests.support.clock import FakeClock


def day(month: int, date: int) -> datetime:
    return datetime(2026, month, date, tzinfo=UTC)


DATES_2026 = {
    "nomination_opens": day(3, 1),
    "nomination_closes": day(4, 30),
    "precheck_deadline": day(5, 31),
    "review_opens": day(6, 1),
    "review_closes": day(6, 15),
    "announcement_at": day(7, 15),
}
STAR = {
    "name": "张伟",
    "employer": "广州地铁",
    "position": "站务员",
    "years_front_line": "8",
    "city": "广州",
    "industry": "交通运输",
    "phone": "13800138000",
}
REPORT = {"sha256": "a" * 64, "file_name": "满意度测评报告.pdf", "kind": "pdf", "size": 1000}


async def call(sessions: async_sessionmaker[AsyncSession], function: Any, *args: Any, **kwargs: Any) -> Any:
    async with sessions() as session:
        return await function(session, *args, **kwargs)


async def ready_nomination(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    applicant: Actor,
    selfcheck_id: int | None = None,
) -> int:
    """A 服务明星 dossier, complete and consented, for body 1; returns its id."""
    nomination = await call(sessions, dossier.start, applicant, "STAR", clock.now(), selfcheck_id)
    for field, value in STAR.items():
        await call(sessions, dossier.set_field, applicant, nomination.id, field, value, clock.now())
    await call(sessions, dossier.choose_organisation, applicant, nomination.id, 1, clock.now())
    await call(
        sessions,
        dossier.add_material,
        applicant,
        nomination.id,
        "satisfaction_report",
        now=clock.now(),
        **REPORT,
    )
    await call(sessions, dossier.consent_to_publish, applicant, nomination.id, clock.now())
    return int(nomination.id)
