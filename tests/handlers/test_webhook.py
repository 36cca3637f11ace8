"""The webhook stores an update before it answers 200, and refuses requests without the secret."""

import aiohttp
from aiohttp import web
from sqlmodel import select

from bot.inbox import InboxProcessor
from bot.transports import SECRET_HEADER, webhook_app
from models import InboxStatus, InboxUpdate, Person
from tests.conftest import BotWorld
from tests.handlers.test_inbox import start_update

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
            for headers in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: "guess", "X-Forwarded-For": "149.154.167.1"}):
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
