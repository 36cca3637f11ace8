"""An announcement to 500 subscribers over HTTP: the production Dispatcher and OutboxSender talk to
the Bot API emulator, which rate-limits, answers 429 with retry_after, and has one user who blocked
the bot. Everyone else gets it exactly once; the office's progress message ends with the right
figures. A sender killed half-way and restarted sends nobody anything twice."""

import asyncio
import itertools
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User
from sqlmodel import col, func, select

from bot.factory import create_bot
from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from handlers.channel import address
from models import Broadcast, OutboxMessage, OutboxStatus
from services import broadcasts, people
from tests.conftest import OFFICE_ID, TOKEN, BotWorld
from tests.support.emulator import BotAPIEmulator
from tests.support.people import insert_people

TEXT = "第十届服务明星表彰大会 <12月1日> 召开"
SHOWN = "第十届服务明星表彰大会 &lt;12月1日&gt; 召开"
FIRST = 300001
BLOCKED = FIRST + 250
_ids = itertools.count(700000)


def http_bot(emulator: BotAPIEmulator) -> Bot:
    return create_bot(TOKEN, AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))


def sender(world: BotWorld, bot: Bot) -> OutboxSender:
    # Faster than production's 25/s so the test stays short; the emulator's limit is lower still,
    # so the sender meets real 429s and has to wait them out.
    return OutboxSender(
        bot,
        world.sessions,
        outbox_renderer(world.i18n),
        world.clock,
        files_dir=world.settings.data_dir / "files",
        rate=300,
        concurrency=8,
        progress_every=0.3,
    )


async def subscribers(world: BotWorld, count: int) -> list[int]:
    chats = list(range(FIRST, FIRST + count))
    now = world.clock.now()
    async with world.sessions() as session:
        await insert_people(session, chats, now)
        await people.register(
            session, address=address(OFFICE_ID), name="王主任", language="zh_CN", now=now, office=True
        )
    return chats


class Office:
    """The office person writing to the production Dispatcher, whose answers go over HTTP."""

    def __init__(self, world: BotWorld, bot: Bot, emulator: BotAPIEmulator) -> None:
        self.world, self.bot, self.emulator = world, bot, emulator
        self.user = User(id=OFFICE_ID, is_bot=False, first_name="王主任", language_code="zh-hans")
        self.chat = Chat(id=OFFICE_ID, type="private")

    async def send(self, text: str) -> dict[str, Any]:
        entities = (
            [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
            if text[0] == "/"
            else None
        )
        message = Message(
            message_id=next(_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=text,
            entities=entities,
        )
        return await self._feed(Update(update_id=next(_ids), message=message))

    async def press(self, label: str) -> dict[str, Any]:
        for sent in reversed(self.emulator.sent(OFFICE_ID)):
            for row in (sent.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        message = Message(
                            message_id=sent["message_id"],
                            date=datetime.now(UTC),
                            chat=self.chat,
                            text=sent.get("text") or "…",
                        )
                        query = CallbackQuery(
                            id=str(next(_ids)),
                            from_user=self.user,
                            chat_instance="e2e",
                            message=message,
                            data=button["callback_data"],
                        )
                        return await self._feed(Update(update_id=next(_ids), callback_query=query))
        raise AssertionError(f"no button {label!r}")

    async def _feed(self, update: Update) -> dict[str, Any]:
        before = len(self.emulator.sent(OFFICE_ID))
        await self.world.dispatcher.feed_update(self.bot, update)
        after = self.emulator.sent(OFFICE_ID)
        assert len(after) > before, "the bot said nothing"
        return after[-1]


async def finished(world: BotWorld, timeout: float = 60) -> Broadcast:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with world.sessions() as session:
            done = (
                await session.exec(select(Broadcast).where(col(Broadcast.finished_at).is_not(None)))
            ).first()
        if done is not None:
            return done
        await asyncio.sleep(0.1)
    raise AssertionError("the broadcast did not finish")


async def run_until_finished(running: OutboxSender, world: BotWorld) -> Broadcast:
    stop = asyncio.Event()
    task = asyncio.create_task(running.run_forever(stop, idle_delay=0.05))
    try:
        return await finished(world)
    finally:
        stop.set()
        await task


async def throttle_for_a_while(emulator: BotAPIEmulator) -> None:
    """Telegram's overall limit bites (429 with retry_after for whatever goes above 10/s) until it
    has refused messages; then the sender may go at its own pace, to keep the test short."""
    await asyncio.sleep(1.5)  # after the explicit 429s have been waited out
    emulator.rate_limit(10)
    for _ in range(100):
        if emulator.rate_limited >= 1:
            break
        await asyncio.sleep(0.05)
    emulator.rate_limit(None)


def received(emulator: BotAPIEmulator, chat_id: int) -> int:
    return sum(1 for message in emulator.sent(chat_id) if message.get("text") == SHOWN)


async def test_500_subscribers_with_429s_and_a_blocked_user(
    world: BotWorld, emulator: BotAPIEmulator
) -> None:
    chats = await subscribers(world, 500)
    bot = http_bot(emulator)
    office = Office(world, bot, emulator)
    await office.send("/unsubscribe")  # the office only watches: exactly the 500 subscribers get it
    await office.send("/announce")
    await office.send(TEXT)
    question = await office.press("预览")
    assert question["text"] == "以上公告将发送给 500 位订阅者。确认发送吗？"
    assert any(m.get("text") == SHOWN for m in emulator.sent(OFFICE_ID))  # the preview, as recipients see it
    progress = await office.press("确认发送")
    assert progress["message_id"] == question["message_id"] and progress["text"].startswith(
        "📣 公告发送中：已发送 0 / 500"
    )

    emulator.fail_next("sendMessage", error_code=429, retry_after=1, times=2)  # two explicit 429s first
    emulator.block(BLOCKED)
    running = sender(world, bot)
    throttled = asyncio.create_task(throttle_for_a_while(emulator))
    broadcast = await run_until_finished(running, world)
    await throttled
    await bot.session.close()

    counts = {chat: received(emulator, chat) for chat in chats}
    assert counts.pop(BLOCKED) == 0
    assert set(counts.values()) == {1}, {c: n for c, n in counts.items() if n != 1}
    assert emulator.rate_limited >= 1  # the emulator really refused some, and they were sent later
    async with world.sessions() as session:
        blocked = (await session.exec(people.at(address(BLOCKED)))).one()
        assert blocked.blocked_at is not None
    report = await running.report(broadcast.id)
    assert (report["sent"], report["blocked"], report["pending"], report["uncertain"]) == (499, 1, 0, 0)
    edits = [m["text"] for m in emulator.sent(OFFICE_ID) if m["message_id"] == progress["message_id"]]
    assert any(
        text.startswith("📣 公告发送中") and "已发送 0 /" not in text for text in edits
    )  # live figures
    assert edits[-1] == (
        "📣 公告发送完毕：已发送 499 / 500\n失败 0 · 已屏蔽机器人 1 · 不确定 0\n"
        "（“不确定”指发送时程序中断、可能已送达的消息，不会重发。）"
    )


def hang_after(sends: int) -> Callable[..., Awaitable[Any]]:
    """A request middleware: after `sends` messages went out, every later one reaches Telegram and
    then the process 'freezes' before it can record it, as a crash at the worst moment would."""
    done = [0]

    async def middleware(
        make_request: Callable[..., Awaitable[Any]], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        result = await make_request(bot, method)
        if isinstance(method, SendMessage):
            done[0] += 1
            if done[0] > sends:
                await asyncio.Event().wait()
        return result

    return middleware


async def test_a_sender_killed_half_way_resumes_and_counts_what_may_arrive_twice(
    world: BotWorld, emulator: BotAPIEmulator
) -> None:
    chats = await subscribers(world, 200)
    bot = http_bot(emulator)
    progress = await bot.send_message(OFFICE_ID, "…")
    async with world.sessions() as session:
        actor = await people.load_actor(session, address(OFFICE_ID), fallback_language="zh_CN")
        sending = await broadcasts.send(
            session,
            actor,
            "kill-test",
            {"draft": {"text": TEXT}},
            announcement_chat_id=None,
            progress_chat_id=OFFICE_ID,
            progress_message_id=progress.message_id,
            now=world.clock.now(),
        )
    assert sending.broadcast.total == 201  # the office is subscribed too

    bot.session.middleware(hang_after(100))
    first = sender(world, bot)
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    first.worker = (
        f"{first.worker.rsplit(':', 2)[0]}:{ended.pid}:0badf00d"  # a process that is gone by the restart
    )
    task = asyncio.create_task(first.run_forever(asyncio.Event(), idle_delay=0.05))
    for _ in range(300):
        async with world.sessions() as session:
            in_flight = (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENDING)
                )
            ).one()
        if in_flight == first.concurrency:
            break
        await asyncio.sleep(0.05)
    task.cancel()  # killed abruptly: its rows in flight stay SENDING
    with pytest.raises(asyncio.CancelledError):
        await task
    await bot.session.close()
    assert in_flight == first.concurrency

    restarted_bot = http_bot(emulator)
    restarted = sender(world, restarted_bot)
    assert await restarted.recover() == first.concurrency
    broadcast = await run_until_finished(restarted, world)
    await restarted_bot.session.close()

    counts = {chat: received(emulator, chat) for chat in [*chats, OFFICE_ID]}
    assert min(counts.values()) == 1  # nobody missing
    async with world.sessions() as session:
        resent = set(
            (await session.exec(select(OutboxMessage.chat_id).where(OutboxMessage.resends > 0))).all()
        )
    assert len(resent) == first.concurrency  # in flight at the kill: sent again, and counted
    twice = {chat for chat, count in counts.items() if count > 1}
    assert twice <= resent and max(counts.values()) <= 2  # twice only where counted
    report = await restarted.report(broadcast.id)
    assert (report["sent"], report["resent"]) == (201, first.concurrency)
    final = [m["text"] for m in emulator.sent(OFFICE_ID) if m["message_id"] == progress.message_id][-1]
    assert final.startswith(
        f"📣 公告发送完毕：已发送 201 / 201\n失败 0 · 已屏蔽机器人 0 · 不确定 {first.concurrency}"
    )
