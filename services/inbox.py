"""The inbox: every update is stored before it is acknowledged, then processed from here.

Acknowledged means stored: the webhook answers 200, or polling moves its offset on, only after the
batch is committed, so a kill -9 at any point loses nothing. A failing update is retried a few
times, then dead-lettered (the person is told by the caller)."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import InboxStatus, InboxUpdate

MAX_ATTEMPTS = 3


async def store(session: AsyncSession, updates: Iterable[dict[str, Any]], now: datetime) -> int:
    """Store raw updates; one already stored (Telegram re-sent it) is ignored. Returns how many
    were new. Commits: the caller acknowledges only after this returns."""
    rows = [
        {"update_id": u["update_id"], "payload": u, "status": InboxStatus.PENDING, "attempts": 0,
         "last_error": "", "received_at": now}
        for u in updates
    ]
    if not rows:
        return 0
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(InboxUpdate).values(rows).on_conflict_do_nothing(index_elements=["update_id"])
    result = await session.exec(statement)  # type: ignore[call-overload]
    await session.commit()
    return int(result.rowcount or 0)


async def pending(session: AsyncSession, limit: int = 100) -> list[InboxUpdate]:
    statement = (
        select(InboxUpdate).where(InboxUpdate.status == InboxStatus.PENDING)
        .order_by(col(InboxUpdate.update_id)).limit(limit)
    )
    return list((await session.exec(statement)).all())


async def finish(session: AsyncSession, update_id: int, now: datetime) -> None:
    row = await session.get(InboxUpdate, update_id)
    if row is not None:
        row.status, row.finished_at = InboxStatus.DONE, now
        session.add(row)
        await session.commit()


async def fail(session: AsyncSession, update_id: int, error: str, now: datetime) -> bool:
    """Count a failed attempt. Returns True when the update is now dead-lettered."""
    row = await session.get(InboxUpdate, update_id)
    if row is None:
        return False
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status, row.finished_at = InboxStatus.DEAD, now
    session.add(row)
    await session.commit()
    return row.status == InboxStatus.DEAD
