"""Conversation state survives a restart in both storages, and event isolation keeps one person's
concurrent updates from losing each other's writes."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisEventIsolation, RedisStorage

from bot.storage import SqlStorage
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import invite_link, registered
from tests.support.databases import REDIS, unavailable


@pytest.fixture
async def redis_storage() -> AsyncIterator[RedisStorage]:
    storage = RedisStorage.from_url(REDIS, key_builder=DefaultKeyBuilder(with_destiny=True))
    try:
        await storage.redis.ping()
    except OSError as exc:
        await storage.close()
        unavailable("Redis", exc)
    await storage.redis.flushdb()
    yield storage
    await storage.redis.flushdb()
    await storage.close()


@pytest.mark.redis
async def test_a_conversation_resumes_after_a_restart_with_redis(
    world: BotWorld, redis_storage: RedisStorage
) -> None:
    isolation = RedisEventIsolation(redis_storage.redis)
    world = world.rebuild(redis_storage, isolation)
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "评审委员")
    reviewer = await registered(world, 2001, "李教授")
    await reviewer.send(f"/start {payload}")
    await reviewer.press("接受邀请")
    await office.send("/roles")
    await office.press("撤销 李教授 的评审委员")
    restarted = world.rebuild(redis_storage, RedisEventIsolation(redis_storage.redis))
    office = restarted.user(OFFICE_ID, first_name="王主任")
    await office.send("任期届满")
    assert "已撤销 李教授 的评审委员角色" in office.last_text


async def test_sql_storage_keeps_every_concurrent_write(world: BotWorld) -> None:
    storage = SqlStorage(world.sessions)
    key = StorageKey(bot_id=42, chat_id=7, user_id=7)

    async def bump(i: int) -> None:
        async with world.dispatcher.fsm.events_isolation.lock(key):
            data = await storage.get_data(key)
            await asyncio.sleep(0)
            await storage.set_data(key, {**data, f"k{i}": i})

    await asyncio.gather(*(bump(i) for i in range(50)))
    assert len(await storage.get_data(key)) == 50
