"""How updates reach the inbox: long polling, or a webhook behind a reverse proxy."""

import asyncio
import hmac
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates
from aiohttp import web

from bot.inbox import InboxProcessor

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def poll(bot: Bot, processor: InboxProcessor, stop: asyncio.Event, timeout: int = 25) -> None:
    """The offset moves on only after the batch is stored: a crash before that re-delivers it."""
    offset: int | None = None
    while not stop.is_set():
        try:
            updates = await bot(GetUpdates(offset=offset, timeout=timeout), request_timeout=timeout + 10)
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning("getUpdates failed: %s", exc)
            await asyncio.sleep(2)
            continue
        if not updates:
            continue
        await processor.store([u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in updates])
        offset = updates[-1].update_id + 1


def webhook_app(processor: InboxProcessor, path: str, secret: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401)
        try:
            payload = await request.json()
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                raise ValueError("not an update")
        except ValueError:
            return web.Response(status=400)
        await processor.store([payload])  # stored, then 200: acknowledged means kept
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(path, receive)
    return app
