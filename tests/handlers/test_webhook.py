"""The webhook stores an update before it answers 200, and refuses requests without the secret."""

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiogram.methods import GetUpdates, SendMessage, TelegramMethod
from aiohttp import web
from sqlmodel import select

from bot.factory import create_bot
from bot.inbox import InboxProcessor
from bot.transports import SECRET_HEADER, poll, webhook_app
from models import InboxStatus, InboxUpdate, Person
from tests.conftest import TOKEN, BotWorld
from tests.handlers.test_inbox import malformed_update, start_update
from tests.support.client import RecordingSession

SECRET = "s3cret-token_value"


async def serve(world: BotWorld) -> tuple[web.AppRunner, str, InboxProcessor]:
    inbox = InboxProcessor(world.dispatcher, world.bot, world.sessions, world.clock)
    runner = web.AppRunner(webhook_app(inbox, "/telegram", SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/telegram", inbox


async def test_without_the_secret_nothing_is_stored(world: BotWorld) -> None:
    runner, url, _ = await serve(world)
    try:
        async with aiohttp.ClientSession() as http:
            for headers in (
                {},
                {SECRET_HEADER: "guess"},
                {SECRET_HEADER: "guess", "X-Forwarded-For": "149.154.167.1"},
            ):
                async with http.post(url, json=start_update(1), headers=headers) as response:
                    assert response.status == 401
    finally:
        await runner.cleanup()
    async with world.sessions() as session:
        assert (await session.exec(select(InboxUpdate))).all() == []


async def test_an_update_is_stored_then_acknowledged_then_handled(world: BotWorld) -> None:
    runner, url, inbox = await serve(world)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(2):  # Telegram re-sends when it missed our 200: still one update
                async with http.post(url, json=start_update(7), headers={SECRET_HEADER: SECRET}) as response:
                    assert response.status == 200
            async with http.post(url, data=b"not json", headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 400
    finally:
        await runner.cleanup()
    async with world.sessions() as session:
        row = (await session.exec(select(InboxUpdate))).one()
        assert (row.update_id, row.status) == (7, InboxStatus.PENDING)
    assert await inbox.process_pending() == 1
    async with world.sessions() as session:
        assert (await session.get(InboxUpdate, 7)).status == InboxStatus.DONE  # type: ignore[union-attr]
        assert (await session.exec(select(Person))).all() == []  # /start alone stores nothing personal


async def post_all(world: BotWorld, bodies: list[bytes]) -> tuple[list[int], InboxProcessor]:
    """POST each body with the secret, as Telegram would; returns the statuses answered."""
    runner, url, inbox = await serve(world)
    try:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for data in bodies:
                headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
                async with http.post(url, data=data, headers=headers) as response:
                    statuses.append(response.status)
            return statuses, inbox
    finally:
        await runner.cleanup()


def body(update: object) -> bytes:
    return json.dumps(update).encode()


async def test_webhook_answers_400_to_an_update_id_beyond_64_bits(world: BotWorld) -> None:
    beyond = [{**start_update(1), "update_id": update_id} for update_id in (2**70, 2**63, -1)]
    statuses, _ = await post_all(world, [*map(body, beyond), body(start_update(2**63 - 1))])
    assert statuses == [400, 400, 400, 200]  # the largest id a signed 64-bit column holds is kept
    async with world.sessions() as session:
        assert [row.update_id for row in (await session.exec(select(InboxUpdate))).all()] == [2**63 - 1]


async def test_webhook_answers_400_to_what_is_not_an_update_object(world: BotWorld) -> None:
    refused = [
        b"not json",
        b"\xff\xfe\x00",
        b"[" * 100_000,  # not JSON, not text, nested too deep to read
        body([start_update(1)]),
        body("update"),
        body(None),
        body({"message": {}}),
        body({"update_id": "7"}),
        body({"update_id": 7.0}),
        body({"update_id": True}),
        b'{"update_id": 7, "message": {"date": NaN}}',
        b'{"update_id": 7, "message": {"date": 1e999}}',
    ]
    statuses, _ = await post_all(world, [*refused, body(start_update(8))])
    assert statuses == [400] * len(refused) + [200]
    async with world.sessions() as session:
        assert [row.update_id for row in (await session.exec(select(InboxUpdate))).all()] == [8]


@pytest.mark.telegram_refuses  # a dead letter on purpose
async def test_a_malformed_update_through_the_webhook_is_kept_then_dead_lettered_not_resent(
    world: BotWorld,
) -> None:
    statuses, inbox = await post_all(world, [body(malformed_update(5)), body(start_update(6))])
    assert statuses == [200, 200]  # a 4xx or 5xx would make Telegram send it again for a day
    assert await inbox.process_pending() == 2
    async with world.sessions() as session:
        assert (await session.get(InboxUpdate, 5)).status == InboxStatus.DEAD  # type: ignore[union-attr]
        assert (await session.get(InboxUpdate, 6)).status == InboxStatus.DONE  # type: ignore[union-attr]


class GetUpdatesDouble(RecordingSession):
    """getUpdates answers the given batches as raw JSON, then stops the poller."""

    def __init__(self, batches: list[list[dict]], stop: asyncio.Event) -> None:
        super().__init__()
        self.batches, self.stop = batches, stop
        self.offsets: list[int | None] = []

    async def answer(self, method: TelegramMethod[Any]) -> Any:
        if not isinstance(method, GetUpdates):
            return await super().answer(method)
        self.offsets.append(method.offset)
        if not self.batches:
            self.stop.set()
            return []
        return self.batches.pop(0)


@pytest.mark.telegram_refuses  # a dead letter on purpose
async def test_polling_survives_updates_it_cannot_read_or_store(
    world: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    unstorable = {"update_id": 2**63, "message": {}}
    telegram = GetUpdatesDouble([[start_update(1), malformed_update(2)], [unstorable]], stop)
    bot = create_bot(TOKEN, telegram)
    inbox = InboxProcessor(world.dispatcher, bot, world.sessions, world.clock)
    await asyncio.wait_for(poll(bot, inbox, stop, timeout=0), timeout=10)
    assert telegram.offsets == [None, 3, 2**63 + 1]  # past each batch, the unreadable and the unstorable too
    assert f"cannot be stored (update_id {2**63})" in caplog.text
    assert await inbox.process_pending() == 2
    async with world.sessions() as session:
        assert (await session.get(InboxUpdate, 1)).status == InboxStatus.DONE  # type: ignore[union-attr]
        dead = await session.get(InboxUpdate, 2)
        assert dead is not None and dead.status == InboxStatus.DEAD
        assert dead.last_error.startswith("malformed: message.chat:")
        assert len((await session.exec(select(InboxUpdate))).all()) == 2
    answered = {m.chat_id for m in telegram.requests if isinstance(m, SendMessage)}
    assert answered == {5001}  # the /start in the unreadable batch was answered
