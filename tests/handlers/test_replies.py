"""An update's replies are kept with its decision and sent after its one commit: a process that dies
in between leaves them to the next sender, a handler that fails after speaking has said nothing,
and a refusal reaches the person the same way."""

from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from sqlmodel import select

from bot.inbox import InboxProcessor
from bot.middlewares.database import REPLY_GRACE
from bot.notifier import OutboxSender, render_plain
from handlers.channel import address
from models import OutboxMessage, OutboxStatus
from services import people
from tests.conftest import BotWorld
from tests.handlers.test_inbox import consent_update, start_update
from tests.support.people import to_chat


def processor(world: BotWorld) -> InboxProcessor:
    return InboxProcessor(world.dispatcher, world.bot, world.sessions, world.clock)


def said(world: BotWorld, chat_id: int) -> list[str]:
    return [
        str(m.text)
        for m in world.bot.session.requests  # type: ignore[attr-defined]
        if isinstance(m, SendMessage | EditMessageText) and m.chat_id == chat_id
    ]


async def test_replies_of_a_process_that_died_after_the_commit_are_sent_by_the_next(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = processor(world)
    await inbox.store([start_update(40, 5101)])
    await inbox.process_pending()
    before = len(world.bot.session.requests)  # type: ignore[attr-defined]

    async def died(self: OutboxSender, update_id: int) -> int:  # the process is killed right after its commit
        return 0

    monkeypatch.setattr(OutboxSender, "send_replies", died)
    await inbox.store([consent_update(41, 5101)])
    await inbox.process_pending()
    assert world.bot.session.requests[before:] == []  # type: ignore[attr-defined]
    async with world.sessions() as session:
        assert (await session.exec(people.at(address(5101)))).one()  # registered
    monkeypatch.undo()

    restarted = world.rebuild()
    sender = OutboxSender(
        restarted.bot,
        world.sessions,
        render_plain,
        world.clock,
        files_dir=world.settings.data_dir / "files",
        rate=1000.0,
        per_chat_interval=0.0,
    )
    assert await sender.run_once() == 0  # a live process might still be sending them
    world.clock.advance(seconds=REPLY_GRACE.total_seconds())
    assert await sender.run_once() == 3
    sent = restarted.bot.session.requests  # type: ignore[attr-defined]
    assert [type(m) for m in sent] == [
        AnswerCallbackQuery,
        EditMessageText,
        SendMessage,
    ]  # as the handler made them
    assert (sent[1].text, sent[2].text) == ("谢谢！已记录您的同意。", "请选择：")


async def test_a_handler_that_fails_after_speaking_has_said_nothing_and_its_retry_speaks_once(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = people.register, []

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        person = await real(*args, **kwargs)
        if len(calls) == 1:
            raise ConnectionError("database went away")  # after the handler has started to answer
        return person

    monkeypatch.setattr(people, "register", fails_once)
    inbox = processor(world)
    await inbox.store([start_update(50, 5102), consent_update(51, 5102)])
    await inbox.process_pending()
    await inbox.process_pending()
    assert len(calls) == 2  # failed once, then retried
    assert said(world, 5102).count("谢谢！已记录您的同意。") == 1
    answers = [m for m in world.bot.session.requests if isinstance(m, AnswerCallbackQuery)]  # type: ignore[attr-defined]
    assert len(answers) == 1  # the failed attempt's answer (made before it failed) was never sent
    async with world.sessions() as session:
        assert len((await session.exec(people.at(address(5102)))).all()) == 1
        leftovers = (await session.exec(select(OutboxMessage).where(OutboxMessage.update_id == 51))).all()
    assert leftovers == []  # delivered replies leave the outbox


async def test_a_refusal_is_a_reply_kept_with_the_update(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    zhang = world.user(5103)
    await zhang.send("/start")
    await zhang.press("同意")

    async def died(self: OutboxSender, update_id: int) -> int:
        return 0

    monkeypatch.setattr(OutboxSender, "send_replies", died)
    await zhang.send("/export 99")  # not office: refused
    monkeypatch.undo()
    async with world.sessions() as session:
        kept = (
            await session.exec(
                select(OutboxMessage).where(to_chat(5103), OutboxMessage.status == OutboxStatus.PENDING)
            )
        ).one()
    assert kept.call is not None and kept.call["method"] == "SendMessage"
    world.clock.advance(seconds=REPLY_GRACE.total_seconds())
    sender = OutboxSender(
        world.bot,
        world.sessions,
        render_plain,
        world.clock,
        files_dir=world.settings.data_dir / "files",
        rate=1000.0,
        per_chat_interval=0.0,
    )
    assert await sender.run_once() == 1
    assert "办公室" in said(world, 5103)[-1]
