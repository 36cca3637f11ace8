"""The inbox: updates are stored before anything else, processed once, retried, dead-lettered."""

import pytest
from sqlmodel import select

from bot.inbox import InboxProcessor
from models import InboxStatus, InboxUpdate, OutboxMessage, Person
from services import people
from tests.conftest import BotWorld


def start_update(update_id: int, user_id: int = 5001) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "黄蓉", "language_code": "zh-hans"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1767225600, "chat": {"id": user_id, "type": "private"}, "from": user,
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


def consent_update(update_id: int, user_id: int = 5001) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "黄蓉", "language_code": "zh-hans"}
    message = {"message_id": 1, "date": 1767225600, "chat": {"id": user_id, "type": "private"}, "text": "…"}
    return {"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": user, "chat_instance": "1", "message": message, "data": "consent:1"}}


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
        assert (await session.exec(select(Person))).one().telegram_id == 5001


async def test_a_failing_update_is_retried_then_succeeds(world: BotWorld, monkeypatch: pytest.MonkeyPatch) -> None:
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
