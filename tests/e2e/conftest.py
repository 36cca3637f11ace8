from collections.abc import AsyncIterator

import pytest

from tests.support.emulator import BotAPIEmulator


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as running:
        yield running
