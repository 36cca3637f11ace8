"""No update keeps a database transaction open while it waits for Telegram: on SQLite that would
hold the one write lock for everyone else (bench/dispatcher_bench.py measures the effect)."""

from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.replies import TransactionAcrossTelegram
from bot.storage import current_session
from tests.conftest import BotWorld
from tests.handlers.test_conversations import fsm_state
from tests.handlers.test_selfcheck import open_campaign


class TransactionProbe(BaseRequestMiddleware):
    """Runs inside the production request middlewares: records, per Telegram call, whether the
    update's session is still in a transaction."""

    def __init__(self) -> None:
        self.open: list[str] = []
        self.calls = 0

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        self.calls += 1
        session = current_session.get()
        if session is not None and session.in_transaction():
            self.open.append(type(method).__name__)
        return await make_request(bot, method)


async def test_telegram_is_never_called_inside_a_transaction(world: BotWorld) -> None:
    await open_campaign(world)
    probe = TransactionProbe()
    world.bot.session.middleware(probe)
    zhang = world.user(5101)
    await zhang.send("/start")
    await zhang.press("同意")
    await zhang.send("/selfcheck")
    await zhang.press("广东省用户满意服务明星")
    await zhang.press("是")  # conversation progress is written, then the next question sent
    assert "第 2/7 题" in zhang.last_text
    await zhang.send("/nominate")
    await zhang.press("广东省用户满意服务明星")
    assert probe.calls >= 8 and probe.open == []


async def test_a_call_to_telegram_while_the_update_holds_a_write_fails_in_the_tests(world: BotWorld) -> None:
    async def writes_then_downloads(message: Message, state: FSMContext, bot: Bot) -> None:
        await state.set_state("probing")  # a write in the update's transaction
        await bot.get_file("some-file-id")  # a download: seconds, with everyone's write lock held

    world.dispatcher.message.register(writes_then_downloads, Command("probe"))
    with pytest.raises(TransactionAcrossTelegram, match="GetFile"):
        await world.user(5101).send("/probe")
    assert await fsm_state(world, world.user(5101)) is None  # the update failed as a whole


async def test_a_transaction_that_has_only_read_is_ended_before_a_call_to_telegram(world: BotWorld) -> None:
    probe = TransactionProbe()
    world.bot.session.middleware(probe)
    downloaded: list[bool] = []

    async def reads_then_downloads(message: Message, state: FSMContext, bot: Bot) -> None:
        await state.get_data()  # a read in the update's transaction
        await bot.get_file("some-file-id")
        downloaded.append(True)

    world.dispatcher.message.register(reads_then_downloads, Command("probe"))
    world.bot.session.files["some-file-id"] = b"%PDF-1.4"  # type: ignore[attr-defined]
    await world.user(5101).send("/probe")
    assert downloaded == [True] and probe.calls >= 1 and probe.open == []  # GetMe too, at first
