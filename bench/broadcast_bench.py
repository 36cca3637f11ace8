"""Broadcasts an announcement to N subscribers through the production OutboxSender and the Bot API
emulator over HTTP. The emulator enforces an overall rate limit and answers 429 with retry_after
above it, as Telegram does.

    .venv/bin/python -m bench.broadcast_bench [N] [--limit 30] [--rate 25] [--database-url URL]

Two runs, each a fresh broadcast to the same N subscribers:
  1. clean: one sender delivers everything;
  2. killed: a sender in a child process is killed with SIGKILL half-way, a new one starts, recovers
     (rows caught mid-send are sent again, each counted: it may arrive twice) and delivers the rest.
For each it prints messages/s achieved against the limit, the 429s met, missing (must be 0), and
duplicates, counted (rows sent again after the kill) and uncounted (must be 0)."""

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.factory import create_bot, create_i18n
from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from handlers.channel import address
from locales import compile_catalogues
from models import OutboxMessage, OutboxStatus, Person
from models.db import create_engine, migrate, session_factory
from services import broadcasts, people
from services.ports import SystemClock
from tests.support.emulator import BotAPIEmulator
from tests.support.people import insert_people

TOKEN = "42:BENCH-abcdefghijklmnopqrstuvwxyz"
OFFICE = 1
FIRST = 1_000_001
TEXT = "基准测试公告 <bench>"
SHOWN = "基准测试公告 &lt;bench&gt;"


def make_sender(
    sessions: async_sessionmaker[AsyncSession], api: str, rate: float, locales: Path, files: Path
) -> OutboxSender:
    bot = create_bot(TOKEN, AiohttpSession(api=TelegramAPIServer.from_base(api)))
    i18n = create_i18n(str(locales), "zh_CN")
    return OutboxSender(bot, sessions, outbox_renderer(i18n), SystemClock(), files_dir=files, rate=rate)


async def prepare(url: str, n: int) -> None:
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    clock = SystemClock()
    async with sessions() as session:
        office = await people.register(
            session, address=address(OFFICE), name="办公室", language="zh_CN", now=clock.now(), office=True
        )
        await session.exec(update(Person).where(col(Person.id) == office.id).values(subscribed=False))
        for start in range(0, n, 5000):
            await insert_people(session, range(FIRST + start, FIRST + min(n, start + 5000)), clock.now())
        await session.commit()
    await engine.dispose()


async def queue(url: str, name: str) -> tuple[int, float]:
    """One broadcast to every subscriber, queued in one transaction; returns its id and the seconds."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session:
        actor = await people.load_actor(session, address(OFFICE), fallback_language="zh_CN")
        started = time.perf_counter()
        sending = await broadcasts.send(
            session,
            actor,
            name,
            {"draft": {"text": TEXT}},
            announcement_chat_id=None,
            progress_chat_id=None,
            progress_message_id=None,
            now=SystemClock().now(),
        )
        took = time.perf_counter() - started
    await engine.dispose()
    assert sending.broadcast.id is not None
    return sending.broadcast.id, took


async def waiting(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> int:
    async with sessions() as session:
        found = await broadcasts.counts(session, broadcast_id)
    return found["pending"] + found["sending"]


async def deliver(
    url: str, api: str, rate: float, locales: Path, files: Path, broadcast_id: int, recover: bool = False
) -> tuple[int, dict[str, int]]:
    """Run a sender until the broadcast has nothing left to send; returns rows sent again at
    start and the final report."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    sender = make_sender(sessions, api, rate, locales, files)
    resent = await sender.recover() if recover else 0
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run_forever(stop, idle_delay=0.05))
    while await waiting(sessions, broadcast_id):
        await asyncio.sleep(0.1)
    stop.set()
    await task
    report = await sender.report(broadcast_id)
    await sender.bot.session.close()
    await engine.dispose()
    return resent, report


def child(url: str, api: str, rate: float, locales: str, files: str) -> None:
    """The process that gets killed: a plain sender, running until SIGKILL."""
    logging.getLogger("bot.notifier").setLevel(logging.ERROR)

    async def run() -> None:
        sender = make_sender(session_factory(create_engine(url)), api, rate, Path(locales), Path(files))
        await sender.run_forever(asyncio.Event(), idle_delay=0.05)

    asyncio.run(run())


def figures(
    emulator: BotAPIEmulator, n: int, seconds: float, limit: float, throttled: int, resent_chats: set[int]
) -> str:
    got = Counter(
        chat for chat in range(FIRST, FIRST + n) for m in emulator.sent(chat) if m.get("text") == SHOWN
    )
    twice = {chat for chat, count in got.items() if count > 1}
    duplicates = sum(got[chat] - 1 for chat in twice)
    uncounted = sum(got[chat] - 1 for chat in twice - resent_chats)
    missing = {chat for chat in range(FIRST, FIRST + n) if got[chat] == 0}
    delivered = len(got)
    rate = sum(got.values()) / seconds if seconds else 0.0
    return (
        f"  delivered to {delivered} of {n} in {seconds:.1f} s: {rate:.1f} messages/s against a limit of "
        f"{limit:g}/s ({100 * rate / limit:.0f}%); 429s answered: {throttled}\n"
        f"  missing: {len(missing)} (must be 0)   duplicates: {duplicates}, "
        f"counted {duplicates - uncounted}, "
        f"uncounted {uncounted} (must be 0)   rows sent again: {len(resent_chats)}"
    )


async def resent_chats(url: str, broadcast_id: int) -> set[int]:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        chats = set(
            (
                await session.exec(
                    select(OutboxMessage.chat_id).where(
                        OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.resends > 0
                    )
                )
            ).all()
        )
    await engine.dispose()
    return chats


async def sent_count(url: str, broadcast_id: int) -> int:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        count = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == OutboxStatus.SENT)
            )
        ).one()
    await engine.dispose()
    return int(count)


async def main(n: int, limit: float, rate: float, url: str | None) -> None:
    logging.getLogger("bot.notifier").setLevel(logging.ERROR)  # each 429 is counted below instead
    workdir = Path(tempfile.mkdtemp(prefix="broadcast-bench-"))
    url = url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    locales = compile_catalogues(workdir / "locales")
    files = workdir / "files"
    await prepare(url, n)
    print(
        f"broadcast to {n} subscribers; emulator limit {limit:g}/s (429 + retry_after above it); "
        f"sender rate {rate:g}/s; database {url.split(':', 1)[0]}"
    )

    async with BotAPIEmulator() as emulator:
        emulator.rate_limit(limit)
        broadcast_id, took = await queue(url, "bench-clean")
        print(f"queued {n} outbox rows in one transaction in {took:.2f} s")
        started = time.perf_counter()
        _, report = await deliver(url, emulator.base_url, rate, locales, files, broadcast_id)
        seconds = time.perf_counter() - started
        print("1. clean run:")
        print(figures(emulator, n, seconds, limit, emulator.rate_limited, set()))
        print(f"  report: {report}")

    async with BotAPIEmulator() as emulator:
        emulator.rate_limit(limit)
        broadcast_id, _ = await queue(url, "bench-killed")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.broadcast_bench",
            "--child",
            url,
            emulator.base_url,
            str(rate),
            str(locales),
            str(files),
            env=env,
        )
        while await sent_count(url, broadcast_id) < 1:  # the child's start-up (imports) is not sending time
            await asyncio.sleep(0.02)
        started = time.perf_counter()
        while await sent_count(url, broadcast_id) < n // 2:
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        killed_at = await sent_count(url, broadcast_id)
        recovered, report = await deliver(
            url, emulator.base_url, rate, locales, files, broadcast_id, recover=True
        )
        seconds = time.perf_counter() - started
        print(f"2. killed with SIGKILL after {killed_at} sent, restarted; {recovered} rows were mid-send:")
        print(
            figures(emulator, n, seconds, limit, emulator.rate_limited, await resent_chats(url, broadcast_id))
        )
        print(f"  report: {report}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], sys.argv[6])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="subscribers (default 2000)")
    parser.add_argument(
        "--limit", type=float, default=30.0, help="the emulator's messages/s (Telegram: about 30)"
    )
    parser.add_argument(
        "--rate", type=float, default=25.0, help="the sender's own messages/s (production: 25)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.limit, args.rate, args.database_url))
