"""The inbox: updates are stored before anything else, processed once, retried, dead-lettered."""

import html
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery
from sqlmodel import select

from bot.inbox import InboxProcessor
from handlers.channel import address
from models import AuditRecord, ChannelAccount, InboxStatus, InboxUpdate, OutboxMessage, Person
from services import inbox as services_inbox
from services import people
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import registered


def start_update(update_id: int, user_id: int = 5001) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "黄蓉", "language_code": "zh-hans"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1767225600,
            "chat": {"id": user_id, "type": "private"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def consent_update(update_id: int, user_id: int = 5001) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "黄蓉", "language_code": "zh-hans"}
    message = {"message_id": 1, "date": 1767225600, "chat": {"id": user_id, "type": "private"}, "text": "…"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": user,
            "chat_instance": "1",
            "message": message,
            "data": "consent:1",
        },
    }


# The world fixture fails a test that leaves dead letters, unless it means to.
dead_letters_on_purpose = pytest.mark.telegram_refuses


def processor(world: BotWorld) -> InboxProcessor:
    return InboxProcessor(world.dispatcher, world.bot, world.sessions, world.clock)


async def statuses(world: BotWorld) -> dict[int, InboxStatus]:
    async with world.sessions() as session:
        return {row.update_id: row.status for row in (await session.exec(select(InboxUpdate))).all()}


async def test_an_update_stored_twice_is_processed_once(world: BotWorld) -> None:
    inbox = processor(world)
    assert await inbox.store([start_update(10), consent_update(11)]) == 2
    assert await inbox.store([consent_update(11)]) == 0  # Telegram re-sent it
    assert await inbox.process_pending() == 2
    assert await statuses(world) == {10: InboxStatus.DONE, 11: InboxStatus.DONE}
    async with world.sessions() as session:
        assert len((await session.exec(select(Person))).all()) == 1


async def test_stored_updates_survive_a_crash_before_processing(world: BotWorld) -> None:
    await processor(world).store([start_update(20), consent_update(21)])
    # The process dies here; a new one finds the updates and handles them.
    restarted = world.rebuild()
    assert await processor(restarted).process_pending() == 2
    async with world.sessions() as session:
        assert (await session.exec(select(ChannelAccount))).one().address == "5001"


async def test_a_failing_update_is_retried_then_succeeds(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = people.register, []

    async def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(people, "register", flaky)
    inbox = processor(world)
    await inbox.store([start_update(30), consent_update(31)])
    assert await inbox.process_pending() == 1  # the consent failed; nothing after it in that chat ran
    assert (await statuses(world))[31] == InboxStatus.PENDING
    assert await inbox.process_pending() == 1
    assert (await statuses(world))[31] == InboxStatus.DONE
    async with world.sessions() as session:
        assert len((await session.exec(select(Person))).all()) == 1


@dead_letters_on_purpose
async def test_an_update_that_keeps_failing_is_dead_lettered_and_the_person_told(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setattr(people, "register", broken)
    inbox = processor(world)
    await inbox.store([consent_update(40), start_update(41)])
    for _ in range(3):
        await inbox.process_pending()
    assert await statuses(world) == {40: InboxStatus.DEAD, 41: InboxStatus.DONE}
    async with world.sessions() as session:
        told = (await session.exec(select(OutboxMessage))).one()
        assert (told.chat_id, told.template) == (5001, "update.dead_letter")


# Poison: what cannot be handled stays with its own update (and its own chat's order) ---------------


def malformed_update(update_id: int) -> dict:
    return {"update_id": update_id, "message": {"message_id": 1, "date": 1, "chat": "x"}}


def told(world: BotWorld, chat_id: int) -> list[str]:
    """What the bot said in that chat (sent directly, as a handler answers)."""
    requests = world.bot.session.requests
    return [m.text for m in requests if getattr(m, "chat_id", None) == chat_id and getattr(m, "text", None)]


def telegram_refused(world: BotWorld) -> list:
    """What Telegram would have refused (checked here where a test leaves dead letters on purpose)."""
    return world.bot.session.rules.refusals


@dead_letters_on_purpose
async def test_a_malformed_update_is_dead_lettered_at_once_and_others_are_answered(world: BotWorld) -> None:
    inbox = processor(world)
    await inbox.store([malformed_update(5), start_update(6, user_id=5001), start_update(7, user_id=5002)])
    assert await inbox.process_pending() == 3
    assert await statuses(world) == {5: InboxStatus.DEAD, 6: InboxStatus.DONE, 7: InboxStatus.DONE}
    assert told(world, 5001) and told(world, 5002)  # both welcomed
    async with world.sessions() as session:
        dead = await session.get(InboxUpdate, 5)
        assert dead is not None and dead.attempts == 1
        assert dead.last_error.startswith("malformed: message.chat:") and len(dead.last_error) <= 300
        assert (await session.exec(select(OutboxMessage))).all() == []  # no plausible chat to tell


@dead_letters_on_purpose
async def test_an_update_that_does_not_validate_is_not_retried_on_every_pass(world: BotWorld) -> None:
    inbox = processor(world)
    await inbox.store([malformed_update(5)])
    await inbox.process_pending()
    for _ in range(3):
        assert await processor(world.rebuild()).process_pending() == 0  # restarts find nothing to do
    async with world.sessions() as session:
        dead = await session.get(InboxUpdate, 5)
        assert dead is not None and (dead.status, dead.attempts) == (InboxStatus.DEAD, 1)


@dead_letters_on_purpose
async def test_no_json_shape_of_an_update_breaks_the_pass_or_is_told_to_an_implausible_chat(
    world: BotWorld,
) -> None:
    shapes: list = [
        [],
        "x",
        5,
        2**70,
        None,
        {},
        {"chat": None},
        {"chat": []},
        {"chat": {"id": "5001"}},
        {"chat": {"id": 2**70}},
        {"chat": {"id": True}},
        {"chat": {"id": 5001.0}},
        {"message": "x"},
    ]
    updates = [{"update_id": 100 + n, "message": shape} for n, shape in enumerate(shapes)]
    updates += [
        {"update_id": 200, "callback_query": {"message": {"chat": "x"}, "from": [1]}},
        {"update_id": 201},
    ]  # no event at all
    inbox = processor(world)
    await inbox.store([*updates, start_update(300)])
    async with world.sessions() as session:  # stored by an older version, before anything was checked
        not_an_object: Any = ["not", "an", "object"]
        session.add(InboxUpdate(update_id=202, payload=not_an_object, received_at=world.clock.now()))
        await session.commit()
    assert await inbox.process_pending() == len(updates) + 2
    dead = {update_id for update_id, status in (await statuses(world)).items() if status == InboxStatus.DEAD}
    assert dead == {u["update_id"] for u in updates} | {202}
    assert told(world, 5001)  # the real /start among them was answered
    async with world.sessions() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


@dead_letters_on_purpose
async def test_a_failing_update_holds_back_only_its_own_chats_later_updates(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = people.register

    async def broken_for_5001(*args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["address"] == address(5001):
            raise RuntimeError("bug")
        return await real(*args, **kwargs)

    monkeypatch.setattr(people, "register", broken_for_5001)
    inbox = processor(world)
    await inbox.store([consent_update(50, 5001), start_update(51, 5001), consent_update(52, 5002)])
    await inbox.process_pending()
    assert await statuses(world) == {50: InboxStatus.PENDING, 51: InboxStatus.PENDING, 52: InboxStatus.DONE}
    await inbox.process_pending()
    assert (await statuses(world))[51] == InboxStatus.PENDING  # still waiting for 50's last try
    await inbox.process_pending()
    assert await statuses(world) == {50: InboxStatus.DEAD, 51: InboxStatus.DONE, 52: InboxStatus.DONE}
    async with world.sessions() as session:
        assert [a.address for a in (await session.exec(select(ChannelAccount))).all()] == ["5002"]
        assert [m.chat_id for m in (await session.exec(select(OutboxMessage))).all()] == [5001]


@dead_letters_on_purpose
async def test_a_database_error_while_recording_a_failure_does_not_stop_the_pass_for_others(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    async def database_away(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("database went away")

    monkeypatch.setattr(people, "register", broken)
    monkeypatch.setattr(services_inbox, "fail", database_away)
    inbox = processor(world)
    await inbox.store([consent_update(60, 5001), malformed_update(61), start_update(62, 5002)])
    assert await inbox.process_pending() == 1  # no exception: only 62 could be settled
    assert await statuses(world) == {60: InboxStatus.PENDING, 61: InboxStatus.PENDING, 62: InboxStatus.DONE}
    assert told(world, 5002)
    monkeypatch.undo()  # the database is back: the next pass settles the rest
    assert await inbox.process_pending() == 2
    assert await statuses(world) == {60: InboxStatus.DONE, 61: InboxStatus.DEAD, 62: InboxStatus.DONE}


# Dead letters for the office ---------------------------------------------------------------------


async def dead_lettered_consent(
    world: BotWorld, inbox: InboxProcessor, monkeypatch: pytest.MonkeyPatch, update_id: int
) -> None:
    """A consent press that keeps failing until the bug is fixed (the fix: monkeypatch.undo())."""

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug in register")

    monkeypatch.setattr(people, "register", broken)
    await inbox.store([consent_update(update_id)])
    for _ in range(3):
        await inbox.process_pending()
    assert (await statuses(world))[update_id] == InboxStatus.DEAD


@dead_letters_on_purpose
async def test_the_office_lists_dead_letters_and_replays_one_after_a_fix(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    inbox = processor(world)
    await inbox.store([malformed_update(5)])
    await inbox.process_pending()
    world.clock.advance(minutes=5)
    await dead_lettered_consent(world, inbox, monkeypatch, 70)

    await office.send("/deadletters")
    first, malformed = html.unescape(office.last_text).split("\n")[1:]  # newest first
    assert "共 2 条" in office.last_text
    assert first.startswith(
        "#70 · 03-02 09:05 · 按钮 · 聊天 5001 · 尝试 3 次 · RuntimeError('bug in register"
    )
    assert malformed.startswith("#5 · 03-02 09:00 · 消息 · 聊天不明 · 尝试 1 次 · malformed: message.chat")
    assert office.buttons() == ["重新处理 #70", "重新处理 #5"]

    monkeypatch.undo()  # the bug is fixed
    inbox.wake.clear()
    await office.press("重新处理 #70")
    assert office.texts() == ["已重新排队，#70 马上重新处理。"]
    assert inbox.wake.is_set()  # the processor is woken, not left to its next round
    async with world.sessions() as session:
        row = await session.get(InboxUpdate, 70)
        assert row is not None and (row.status, row.attempts) == (InboxStatus.PENDING, 0)
        record = (await session.exec(select(AuditRecord).where(AuditRecord.action == "inbox.replayed"))).one()
        office_person = (await session.exec(people.at(address(OFFICE_ID)))).one()
        assert (record.actor_id, record.subject) == (office_person.id, "update:70")
        assert record.at == world.clock.now()
        assert record.reason.startswith("RuntimeError('bug in register")  # why it had to be replayed

    assert await inbox.process_pending() == 1
    assert (await statuses(world))[70] == InboxStatus.DONE
    async with world.sessions() as session:
        assert (await session.exec(people.at(address(5001)))).one().name == "黄蓉"
    await office.send("/deadletters")
    assert "共 1 条" in office.last_text and office.buttons() == ["重新处理 #5"]
    assert telegram_refused(world) == []


async def test_replay_pressed_twice_changes_nothing(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "Director Wang", language_code="en")
    inbox = processor(world)
    await inbox.store([malformed_update(5)])
    await inbox.process_pending()
    await office.send("/deadletters")
    assert office.last_text.startswith("<b>Dead letters</b> (newest 1 of 1)")
    line = office.last_text.split("\n")[1]
    assert line.startswith(
        "#5 · 03-02 09:00 · message · chat unknown · attempts: 1 · malformed: message.chat"
    )
    await office.press("Replay #5")
    assert office.texts() == ["Queued again: #5 will be processed shortly."]

    replies = await office.press("Replay #5")
    assert [type(r) for r in replies] == [AnswerCallbackQuery]  # no new message, no edit
    assert replies[0].show_alert and "#5 is not a dead letter any more" in (replies[0].text or "")
    async with world.sessions() as session:
        replayed = select(AuditRecord).where(AuditRecord.action == "inbox.replayed")
        assert len((await session.exec(replayed)).all()) == 1
        row = await session.get(InboxUpdate, 5)
        assert row is not None and (row.status, row.attempts) == (InboxStatus.PENDING, 0)


@dead_letters_on_purpose
async def test_a_stranger_cannot_list_dead_letters(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    inbox = processor(world)
    await inbox.store([malformed_update(5)])
    await inbox.process_pending()
    await office.send("/deadletters")
    listing: Any = office.replies[-1]
    button = listing.reply_markup.inline_keyboard[0][0].callback_data

    stranger = await registered(world, 5003, "赵先生")
    await stranger.send("/deadletters")
    assert stranger.texts() == ["此功能仅限办公室工作人员使用。"]
    english = await registered(world, 5004, "Zhao", language_code="en")
    await english.send("/deadletters")
    assert english.texts() == ["Only an authorised office staff member can do this."]
    await stranger.press_data(button)  # the office's own button, forwarded or forged
    assert stranger.texts() == ["这个按钮不是发给您的，无法操作。"]
    assert (await statuses(world))[5] == InboxStatus.DEAD
    assert telegram_refused(world) == []
