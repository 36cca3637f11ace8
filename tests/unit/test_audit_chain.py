"""The audit log is tamper-evident: editing, deleting or reordering a record breaks the chain there."""

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from tests.support.clock import FakeClock


async def _write(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, count: int) -> None:
    async with sessions() as session:
        for i in range(count):
            await audit.append(
                session,
                actor_id=i,
                action="test.decided",
                subject=f"thing:{i}",
                now=clock.advance(minutes=1),
                reason="因为",
                value=i,
            )
        await session.commit()


async def test_an_untouched_chain_verifies(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _write(sessions, clock, 5)
    async with sessions() as session:
        report = await audit.verify_chain(session)
    assert report.intact and report.checked == 5


async def test_an_edited_record_is_named(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _write(sessions, clock, 5)
    async with sessions() as session:
        await session.exec(text("UPDATE auditrecord SET reason = 'forged' WHERE seq = 3"))
        await session.commit()
        report = await audit.verify_chain(session)
    assert (report.first_broken, report.checked) == (3, 2)


async def test_a_deleted_record_is_named(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _write(sessions, clock, 5)
    async with sessions() as session:
        await session.exec(text("DELETE FROM auditrecord WHERE seq = 4"))
        await session.commit()
        report = await audit.verify_chain(session)
    assert report.first_broken == 4


async def test_a_deleted_tail_is_noticed(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _write(sessions, clock, 5)
    async with sessions() as session:
        await session.exec(text("DELETE FROM auditrecord WHERE seq = 5"))
        await session.commit()
        report = await audit.verify_chain(session)
    assert report.first_broken == 5


async def test_a_rewritten_timestamp_is_named(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _write(sessions, clock, 3)
    async with sessions() as session:
        record = await session.get(audit.AuditRecord, 2)
        assert record is not None
        record.at = record.at + timedelta(days=1)
        session.add(record)
        await session.commit()
        report = await audit.verify_chain(session)
    assert report.first_broken == 2


async def test_the_first_audited_actions_on_a_fresh_database_at_once_all_land(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """On a fresh PostgreSQL, concurrent first actions raced to create the chain's head row (one
    failed on its primary key); the migrations make it, so they queue on its lock instead."""

    async def act(i: int) -> None:
        async with sessions() as session:
            await audit.append(
                session, actor_id=i, action="test.decided", subject=f"thing:{i}", now=clock.now()
            )
            await session.commit()

    await asyncio.gather(*(act(i) for i in range(8)))
    async with sessions() as session:
        report = await audit.verify_chain(session)
    assert report.intact and report.checked == 8
