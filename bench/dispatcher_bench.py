"""Drives simulated users through /start, consent and /menu via the production Dispatcher and a
real SQLite database, beside a bare aiogram echo handler measured in the same run.

    .venv/bin/python -m bench.dispatcher_bench [users] [concurrency] [round_trip_ms]

Prints updates/s, p50 and p99 latency per update, and the process's peak memory after each part.
`round_trip_ms` (default 0) makes every Bot API call take that long, as Telegram does (tens of
milliseconds): what an update holds while it waits then shows."""

import asyncio
import itertools
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.config import Settings
from bot.factory import create_bot, create_dispatcher, create_i18n
from bot.local_api import LocalSession
from handlers.callbacks import Consent
from locales import compile_catalogues
from models.db import create_engine, migrate, session_factory
from services.ports import SystemClock

TOKEN = "42:BENCH-abcdefghijklmnopqrstuvwxyz"
ids = itertools.count(1)


def message(user_id: int, text: str) -> Update:
    user = User(id=user_id, is_bot=False, first_name=f"用户{user_id}", language_code="zh-hans")
    entities = (
        [MessageEntity(type="bot_command", offset=0, length=len(text))] if text.startswith("/") else None
    )
    return Update(
        update_id=next(ids),
        message=Message(
            message_id=next(ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=user,
            text=text,
            entities=entities,
        ),
    )


def press(user_id: int, data: str) -> Update:
    user = User(id=user_id, is_bot=False, first_name=f"用户{user_id}", language_code="zh-hans")
    msg = Message(
        message_id=next(ids), date=datetime.now(UTC), chat=Chat(id=user_id, type="private"), text="…"
    )
    return Update(
        update_id=next(ids),
        callback_query=CallbackQuery(
            id=str(next(ids)), from_user=user, chat_instance="1", message=msg, data=data
        ),
    )


def journey(user_id: int) -> list[Update]:
    return [message(user_id, "/start"), press(user_id, Consent(agree=True).pack()), message(user_id, "/menu")]


class RoundTrip(LocalSession):
    """The local Bot API, answering after a delay like Telegram's servers."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def make_request(self, bot: Any, method: Any, timeout: int | None = None) -> Any:
        await asyncio.sleep(self.seconds)
        return await super().make_request(bot, method, timeout)


async def drive(
    dispatcher: Dispatcher, users: int, concurrency: int, round_trip: float
) -> tuple[float, list[float]]:
    bot = create_bot(TOKEN, RoundTrip(round_trip))
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(user_id: int) -> None:
        async with gate:
            for update in journey(user_id):
                started = time.perf_counter()
                await dispatcher.feed_update(bot, update)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(10_000 + i) for i in range(users)))
    return time.perf_counter() - started, latencies


def echo_dispatcher() -> Dispatcher:
    router = Router()

    @router.message()
    async def echo(msg: Message) -> None:
        await msg.answer(msg.text or "")

    @router.callback_query()
    async def ack(query: CallbackQuery) -> None:
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    rate = len(latencies) / elapsed
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name:<28} {len(latencies):>6} updates  {rate:>8.0f} updates/s  "
        f"p50 {statistics.median(ordered) * 1000:6.2f} ms  "
        f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:7.2f} ms  "
        f"peak RSS {peak:6.0f} MiB"
    )
    return rate


async def main(users: int, concurrency: int, round_trip_ms: int) -> None:
    round_trip = round_trip_ms / 1000
    echo_rate = report("bare aiogram echo", *await drive(echo_dispatcher(), users, concurrency, round_trip))
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(_env_file=None, bot_token=TOKEN, data_dir=Path(scratch))
        engine = create_engine(f"sqlite+aiosqlite:///{scratch}/bench.db")
        await migrate(engine)
        i18n = create_i18n(str(compile_catalogues(Path(scratch) / "locales")), "zh_CN")
        dispatcher = create_dispatcher(settings, session_factory(engine), i18n, SystemClock())
        ours = report("ServiceStar (SQLite)", *await drive(dispatcher, users, concurrency, round_trip))
        await engine.dispose()
    print(f"ratio ServiceStar / echo: {ours / echo_rate:.3f}")


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:4]]
    asyncio.run(main(*(arguments + [500, 20, 0][len(arguments) :])))
