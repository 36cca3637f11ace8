"""No update keeps a database transaction open while it waits for Telegram: on SQLite that would
hold the one write lock for everyone else (bench/dispatcher_bench.py measures the effect)."""

from typing import Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware

from bot.storage import current_session
from tests.conftest import BotWorld
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
