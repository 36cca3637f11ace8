"""How updates reach the inbox: long polling, or a webhook behind a reverse proxy."""

import asyncio
import hmac
import json
import logging
import math
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiohttp import web

from bot.inbox import InboxProcessor
from services.inbox import storable

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def poll(bot: Bot, processor: InboxProcessor, stop: asyncio.Event, timeout: int = 25) -> None:
    """The offset moves on only after the batch is stored: a crash before that re-delivers it. A stop
    does not wait for the long poll: a batch it would have brought comes again next time."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await _poll_until(bot, processor, stop, stopping, timeout)
    finally:
        stopping.cancel()


async def _poll_until(
    bot: Bot, processor: InboxProcessor, stop: asyncio.Event, stopping: asyncio.Future[Any], timeout: int
) -> None:
    offset: int | None = None
    while not stop.is_set():
        fetching = asyncio.ensure_future(fetch(bot, offset, timeout))
        await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not fetching.done():
            fetching.cancel()
            break
        try:
            updates = fetching.result()
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as exc:  # a garbled answer, too
            log.warning("getUpdates failed: %s", exc)
            await asyncio.sleep(2)
            continue
        if not updates:
            continue
        try:
            await processor.store(updates)
        except Exception:  # noqa: BLE001  (e.g. the database is away: the same batch comes again)
            log.exception("storing %s updates failed; asking for them again", len(updates))
            await asyncio.sleep(2)
            continue
        ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
        offset = max(ids) + 1 if ids else offset  # past what could not be stored, too: it was logged


async def fetch(bot: Bot, offset: int | None, timeout: int) -> list[dict[str, Any]]:
    """One getUpdates, as raw updates. aiogram refuses the whole batch when one update in it does
    not validate, and asking again would bring the same batch forever; the raw batch is stored
    instead, and the inbox dead-letters what is not an update."""
    try:
        updates = await bot(GetUpdates(offset=offset, timeout=timeout), request_timeout=timeout + 10)
    except ClientDecodeError as exc:
        batch = exc.data.get("result") if isinstance(exc.data, dict) and exc.data.get("ok") else None
        if not isinstance(batch, list):
            raise
        log.warning("getUpdates brought updates aiogram cannot read; stored raw")
        return [u for u in batch if isinstance(u, dict)]
    return [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in updates]


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):  # NaN and Infinity are not JSON, and PostgreSQL refuses them
        raise ValueError(f"not a finite number: {number}")
    return value


def webhook_app(processor: InboxProcessor, path: str, secret: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401)
        try:
            payload = json.loads(await request.read(), parse_float=_finite, parse_constant=_finite)
        except (ValueError, RecursionError):  # not JSON (or nested too deep to read)
            return web.Response(status=400)
        if not storable(payload):  # an update the inbox cannot keep is refused, not half-kept
            return web.Response(status=400)
        await processor.store([payload])  # stored, then 200: acknowledged means kept
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(path, receive)
    return app
