"""Several workers keep one send pace: Telegram counts messages per bot, not per process."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import insert

from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from bot.send_pace import SharedPace
from models import OutboxMessage, OutboxStatus
from tests.conftest import BotWorld
from tests.e2e.test_broadcast import http_bot
from tests.support.databases import REDIS, unavailable
from tests.support.emulator import BotAPIEmulator

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS)
    try:
        await client.ping()
    except OSError as exc:
        await client.aclose()
        unavailable("Redis", exc)
    yield client
    await client.aclose()


def paces(redis: Redis, rate: float) -> tuple[SharedPace, SharedPace]:
    prefix = f"test:{uuid.uuid4().hex}"  # a run of its own: tests on one server do not share a bucket
    return SharedPace(redis, rate, prefix=prefix), SharedPace(redis, rate, prefix=prefix)


async def test_two_workers_together_stay_within_the_rate(redis: Redis) -> None:
    one, other = paces(redis, rate=20)
    granted: list[float] = []

    async def worker(pace: SharedPace) -> None:
        for _ in range(30):
            await pace.acquire()
            granted.append(time.monotonic())

    await asyncio.gather(worker(one), worker(other))
    granted.sort()
    busiest = max(sum(1 for t in granted if start <= t < start + 1) for start in granted)
    assert busiest <= 21  # the rate plus the burst of one, whoever asked


async def test_a_chat_and_a_pause_are_shared(redis: Redis) -> None:
    one, other = paces(redis, rate=20)
    assert await one.take_chat(5001) == 0
    assert 0 < await other.take_chat(5001) <= 1.0  # the same person: a second a message
    assert await other.take_chat(-100123) == 0
    assert 2.0 < await one.take_chat(-100123) <= 3.0  # a group: 20 a minute
    await one.pause(2)
    assert 1.5 < await other.paused_for() <= 2.0


async def test_two_senders_against_telegrams_limit_meet_no_429(world: BotWorld, redis: Redis) -> None:
    """Each sender alone keeps 25/s; two of them used to send 42-51/s and meet 429s."""
    rows = [
        {
            "chat_id": 800000 + i,
            "template": "第 {n} 条",
            "params": {"n": i},
            "buttons": [],
            "status": OutboxStatus.PENDING,
            "not_before": world.clock.now(),
            "created_at": world.clock.now(),
        }
        for i in range(90)
    ]
    async with world.sessions() as session:
        await session.exec(insert(OutboxMessage), params=rows)  # type: ignore[call-overload]
        await session.commit()
    async with BotAPIEmulator() as emulator:
        emulator.rate_limit(30)
        bots = [http_bot(emulator), http_bot(emulator)]
        shared = paces(redis, rate=25)
        senders = [
            OutboxSender(
                bot,
                world.sessions,
                outbox_renderer(world.i18n),
                world.clock,
                files_dir=world.settings.data_dir / "files",
                rate=25,
                shared=pace,
            )
            for bot, pace in zip(bots, shared, strict=True)
        ]
        while (await senders[0].report())["pending"]:
            await asyncio.gather(*(s.run_once() for s in senders))
        for bot in bots:
            await bot.session.close()
        assert emulator.rate_limited == 0
        assert sorted(m["text"] for m in emulator.all_sent()) == sorted(f"第 {i} 条" for i in range(90))
