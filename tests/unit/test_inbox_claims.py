"""Several workers take turns on the inbox by chat: each update runs once, each chat in order, and
no chat waits for another, nor for a dead worker longer than its lease."""

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiogram.types import Update
from alembic import command
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.inbox import InboxProcessor
from models import HandledUpdate, InboxStatus, InboxUpdate
from models.db import alembic_config, create_engine, session_factory
from models.messaging import InboxLease
from services import inbox
from tests.conftest import BotWorld
from tests.handlers.test_inbox import start_update
from tests.support.clock import FakeClock

CHATS = [7000 + n for n in range(40)]


def updates_of_chats(count: int) -> list[dict]:
    """Updates 1..count, from the chats in turn."""
    return [start_update(n + 1, CHATS[n % len(CHATS)]) for n in range(count)]


class Runs:
    """What each worker's Dispatcher was fed, in order: (worker, chat, update_id)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.fed: list[tuple[str, int, int]] = []
        self.gates: dict[int, asyncio.Event] = {}  # a chat whose updates wait until its gate opens
        self.started: dict[int, asyncio.Event] = {}

    def worker(self, name: str, world: BotWorld, **options: object) -> InboxProcessor:
        real = world.dispatcher.feed_update

        async def feed(bot: object, update: Update) -> object:
            assert update.message is not None
            chat = update.message.chat.id
            self.fed.append((name, chat, update.update_id))
            self.started.setdefault(chat, asyncio.Event()).set()
            if chat in self.gates:
                await self.gates[chat].wait()
            await asyncio.sleep(0)  # let the other worker in
            return await real(bot, update)  # type: ignore[arg-type]

        self.monkeypatch.setattr(world.dispatcher, "feed_update", feed)
        return InboxProcessor(
            world.dispatcher,
            world.bot,
            world.sessions,
            world.clock,
            **options,  # type: ignore[arg-type]
        )

    def hold(self, chat: int) -> asyncio.Event:
        self.gates[chat] = asyncio.Event()
        self.started[chat] = asyncio.Event()
        return self.gates[chat]

    def by_worker(self, name: str) -> list[int]:
        return [update_id for worker, _, update_id in self.fed if worker == name]

    def order_in(self, chat: int) -> list[int]:
        return [update_id for _, c, update_id in self.fed if c == chat]


async def statuses(world: BotWorld) -> dict[int, InboxStatus]:
    async with world.sessions() as session:
        return {row.update_id: row.status for row in (await session.exec(select(InboxUpdate))).all()}


async def leases(world: BotWorld) -> list[InboxLease]:
    async with world.sessions() as session:
        return list((await session.exec(select(InboxLease))).all())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Wait until `check` holds (a bound, not a measurement)."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def all_done(world: BotWorld, update_ids: list[int]) -> bool:
    done = (col(InboxUpdate.status) == InboxStatus.DONE) & col(InboxUpdate.update_id).in_(update_ids)
    async with world.sessions() as session:
        return (await session.exec(select(func.count()).where(done))).one() == len(update_ids)


async def test_two_workers_never_run_the_same_update(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = Runs(monkeypatch)
    first = runs.worker("first", world, max_chats=8)
    second = runs.worker("second", world.rebuild(), max_chats=8)
    updates = updates_of_chats(200)
    await first.store(updates)
    settled = await asyncio.gather(first.process_pending(), second.process_pending())
    assert sum(settled) == 200
    assert sorted(update_id for _, _, update_id in runs.fed) == list(range(1, 201))  # each once
    assert runs.by_worker("first") and runs.by_worker("second")  # and both took turns
    for chat in CHATS:
        assert runs.order_in(chat) == sorted(runs.order_in(chat))
    assert set((await statuses(world)).values()) == {InboxStatus.DONE}
    async with world.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(HandledUpdate))).one() == 200
    assert await leases(world) == []  # every chat let go


async def test_workers_add_throughput(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Not timed: two workers running as deployed, each storing what its webhook receives, do no
    work twice. (Before claims, every worker ran every pending update and the guard dropped copies.)"""
    caplog.set_level(logging.INFO, logger="bot.middlewares.database")
    runs = Runs(monkeypatch)
    workers = [runs.worker("first", world, max_chats=4), runs.worker("second", world.rebuild(), max_chats=4)]
    stop = asyncio.Event()
    running = [asyncio.create_task(worker.run_forever(stop, retry_every=0.1)) for worker in workers]
    updates = updates_of_chats(100)
    for start in range(0, 100, 20):  # half the chats write to one worker, half to the other
        await workers[start // 20 % 2].store(updates[start : start + 20])
    await eventually(lambda: all_done(world, list(range(1, 101))))
    stop.set()
    await asyncio.gather(*running)
    assert len(runs.fed) == 100  # one Dispatcher run per update
    assert "already handled" not in caplog.text  # the duplicate guard never had to fire
    assert runs.by_worker("first") and runs.by_worker("second")
    assert await leases(world) == []


async def test_a_dead_workers_chats_come_back_after_its_lease(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = Runs(monkeypatch)
    worker = runs.worker("alive", world)
    async with world.sessions() as session:  # a worker killed while it held chat 7000
        session.add(InboxLease(chat_key=7000, worker="dead", until=world.clock.now() + timedelta(seconds=30)))
        await session.commit()
    await worker.store([start_update(1, 7000), start_update(2, 7001), start_update(3, 7000)])
    assert await worker.process_pending() == 1  # the others' chats do not wait for it
    assert runs.order_in(7001) == [2] and runs.order_in(7000) == []
    world.clock.advance(seconds=31)  # its lease ran out
    assert await worker.process_pending() == 2
    assert runs.order_in(7000) == [1, 3]
    assert await leases(world) == []


async def test_a_restart_takes_back_the_chats_of_a_killed_process_of_its_host(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = Runs(monkeypatch)
    worker = runs.worker("restarted", world)
    here = worker.worker.rsplit(":", 2)[0]  # this host and PID namespace
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()  # its pid names no process now, as a killed worker's
    until = world.clock.now() + timedelta(seconds=30)
    async with world.sessions() as session:
        session.add_all(
            [
                InboxLease(chat_key=7000, worker=f"{here}:{ended.pid}:0badf00d", until=until),
                InboxLease(chat_key=7001, worker=f"{here}:{os.getpid()}:0badf00d", until=until),
            ]
        )
        await session.commit()
    await worker.store([start_update(1, 7000), start_update(2, 7001)])
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    await eventually(lambda: all_done(world, [1]))  # at once, not after the lease
    stop.set()
    await running
    assert (await statuses(world))[2] == InboxStatus.PENDING  # a live process's chat waits for its lease


async def test_one_slow_chat_does_not_hold_up_the_others(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = Runs(monkeypatch)
    worker = runs.worker("only", world)
    slow = runs.hold(7000)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    await worker.store([start_update(1, 7000)])
    await asyncio.wait_for(runs.started[7000].wait(), 10)
    # Stored while chat 7000 is stuck: answered now, not after it.
    await worker.store([start_update(2, 7001), start_update(3, 7000), start_update(4, 7001)])
    await eventually(lambda: all_done(world, [2, 4]))
    assert (await statuses(world))[1] == InboxStatus.PENDING and runs.order_in(7000) == [1]
    slow.set()
    await eventually(lambda: all_done(world, [1, 3]))
    assert runs.order_in(7000) == [1, 3]
    stop.set()
    await running


async def test_process_pending_also_waits_for_what_run_forever_took(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offline mode stores, then processes, while the same processor runs in the background:
    when process_pending returns, what was stored is settled, whichever of the two ran it."""
    runs = Runs(monkeypatch)
    worker = runs.worker("offline", world)
    slow = runs.hold(7000)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    await worker.store([start_update(1, 7000)])
    await asyncio.wait_for(runs.started[7000].wait(), 10)  # the background took it
    pending = asyncio.create_task(worker.process_pending())
    await asyncio.sleep(0.05)
    assert not pending.done()
    slow.set()
    await pending
    assert (await statuses(world))[1] == InboxStatus.DONE
    stop.set()
    await running


async def test_a_long_running_chat_keeps_its_lease(world: BotWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch)
    worker = runs.worker("busy", world, lease=timedelta(seconds=0.3))  # renewed every 0.1 s
    other = runs.worker("other", world.rebuild())
    slow = runs.hold(7000)
    await worker.store([start_update(1, 7000)])
    busy = asyncio.create_task(worker.process_pending())
    await asyncio.wait_for(runs.started[7000].wait(), 10)
    world.clock.advance(seconds=60)  # long past the lease as first taken

    async def renewed() -> bool:
        return [lease.until > world.clock.now() for lease in await leases(world)] == [True]

    await eventually(renewed)
    assert await other.process_pending() == 0  # the chat is still taken
    slow.set()
    assert await busy == 1
    assert runs.order_in(7000) == [1] and await leases(world) == []


async def test_a_chat_whose_lease_was_taken_stops_after_its_current_update(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runs = Runs(monkeypatch)
    worker = runs.worker("stalled", world, lease=timedelta(seconds=0.3))
    slow = runs.hold(7000)
    await worker.store([start_update(1, 7000), start_update(2, 7000)])
    busy = asyncio.create_task(worker.process_pending())
    await asyncio.wait_for(runs.started[7000].wait(), 10)
    async with world.sessions() as session:  # it stalled past its lease, and another worker took the chat
        lease = (await session.exec(select(InboxLease))).one()
        lease.worker = "another"
        session.add(lease)
        await session.commit()

    async def noticed() -> bool:
        return "lost the leases on chats [7000]" in caplog.text  # at its next renewal

    await eventually(noticed)
    slow.set()
    assert await busy == 1
    assert runs.order_in(7000) == [1]  # update 2 is the new holder's
    assert (await statuses(world))[2] == InboxStatus.PENDING
    assert [lease.worker for lease in await leases(world)] == ["another"]


async def test_claims_from_two_engines_never_give_one_chat_to_both(
    database_url: str, clock: FakeClock
) -> None:
    """Two processes (an engine each), four claimers in each, reaching for the same chats at once."""
    engines = [create_engine(database_url) for _ in range(2)]
    factories = [session_factory(engine) for engine in engines]
    try:
        async with factories[0]() as session:
            await inbox.store(session, [start_update(n, 7000 + n % 100) for n in range(1, 301)], clock.now())

        async def claimer(name: str, factory: object) -> list[int]:
            taken: list[int] = []
            while True:
                now = clock.now()
                async with factory() as session:  # type: ignore[operator]
                    chats = await inbox.claim(session, name, 7, now, now + timedelta(seconds=30))
                if not chats:
                    return taken
                assert all(len(rows) == 3 for _, rows in chats)  # each with all its pending updates
                taken += [key for key, _ in chats]

        async def race() -> list[int]:
            claims = await asyncio.gather(*(claimer(f"w{n}", factories[n % 2]) for n in range(8)))
            return [key for taken in claims for key in taken]

        first = await race()
        assert sorted(first) == list(range(7000, 7100))  # every chat, none twice
        clock.advance(seconds=31)  # every claimer died: their chats are taken over, again once each
        assert sorted(await race()) == list(range(7000, 7100))
    finally:
        for engine in engines:
            await engine.dispose()


async def test_updates_with_no_chat_wait_for_nobody(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    lone = [{"update_id": n, "poll": {"id": str(n)}} for n in (1, 3)]
    async with sessions() as session:
        await inbox.store(session, [lone[0], start_update(2, 7000), lone[1]], clock.now())
        chats = await inbox.claim(session, "w", 10, clock.now(), clock.now() + timedelta(seconds=30))
    assert [[row.update_id for row in rows] for _, rows in chats] == [[1], [2], [3]]  # three turns
    keys = [key for key, _ in chats]
    assert keys[1] == 7000 and keys[0] != keys[2]
    assert max(keys[0], keys[2]) < -(2**53)  # below every real chat id


async def upgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: sa.Connection) -> None:
        config = alembic_config(str(connection.engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_the_upgrade_gives_waiting_updates_their_chat(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0011")
        rows = [
            (1, start_update(1, 7000), "pending"),
            (2, start_update(2, 7001), "dead"),
            (3, start_update(3, 7002), "done"),
            (4, ["not", "an", "object"], "pending"),
        ]
        inbox_table = sa.table(
            "inboxupdate",
            sa.column("update_id"),
            sa.column("payload", sa.JSON()),
            sa.column("status"),
            sa.column("attempts"),
            sa.column("last_error"),
            sa.column("received_at"),
        )
        async with engine.begin() as conn:
            await conn.execute(
                inbox_table.insert(),
                [
                    {
                        "update_id": i,
                        "payload": p,
                        "status": s,
                        "attempts": 0,
                        "last_error": "",
                        "received_at": "2026-03-02 01:00:00",
                    }
                    for i, p, s in rows
                ],
            )
        await upgrade(engine, "head")
        async with engine.connect() as conn:
            query = sa.text("SELECT update_id, chat_id FROM inboxupdate ORDER BY update_id")
            chats = (await conn.execute(query)).all()
        assert chats == [(1, 7000), (2, 7001), (3, None), (4, None)]  # done ones never run again
    finally:
        await engine.dispose()
