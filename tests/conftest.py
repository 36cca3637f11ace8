import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import replies
from bot.config import Settings
from bot.factory import create_bot, create_dispatcher, create_i18n
from locales import compile_catalogues
from models import InboxStatus, InboxUpdate
from models.db import create_engine, session_factory
from tests.support.client import RecordingSession, UserClient
from tests.support.clock import FakeClock
from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.lifecycle_guard import install as guard_statuses

OFFICE_ID = 900001
TOKEN = "42:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session", autouse=True)
def statuses_change_only_through_their_lifecycles() -> None:
    guard_statuses()


@pytest.fixture(scope="session", autouse=True)
def no_transaction_across_telegram() -> None:
    replies.STRICT = True  # a Bot API call inside an update's open transaction fails the test


@pytest.fixture(scope="session")
def i18n_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_catalogues(tmp_path_factory.mktemp("locales"))


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def postgres_databases() -> "PostgresDatabases":
    databases = PostgresDatabases()
    yield databases
    asyncio.run(databases.drop_all())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, sqlite_databases: SqliteDatabases, postgres_databases: PostgresDatabases
) -> str:
    if request.param == "sqlite":
        return await sqlite_databases.fresh()
    return await postgres_databases.fresh()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, office_ids=(OFFICE_ID,), data_dir=tmp_path / "data")


@dataclass
class BotWorld:
    """The production wiring with doubles only at the edges: the Bot API session and the clock."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    clock: FakeClock
    dispatcher: Dispatcher
    bot: Bot
    doubles: list[RecordingSession] = field(default_factory=list)  # every Bot API double of this world

    def user(self, user_id: int, first_name: str = "张伟", language_code: str = "zh-hans") -> UserClient:
        return UserClient(self.dispatcher, self.bot, user_id, first_name, language_code)

    def rebuild(
        self, storage: BaseStorage | None = None, isolation: BaseEventIsolation | None = None
    ) -> "BotWorld":
        """A restart: a new Dispatcher and Bot over the same database (and storage, if given)."""
        dispatcher = create_dispatcher(
            self.settings, self.sessions, self.i18n, self.clock, storage, isolation
        )
        bot = create_bot(TOKEN, RecordingSession())
        rebuilt = BotWorld(self.settings, self.sessions, self.i18n, self.clock, dispatcher, bot, self.doubles)
        self.doubles.append(bot.session)  # type: ignore[arg-type]
        return rebuilt

    async def dead_letters(self) -> list[int]:
        async with self.sessions() as session:
            statement = select(InboxUpdate.update_id).where(InboxUpdate.status == InboxStatus.DEAD)
            return list((await session.exec(statement)).all())


@pytest.fixture
async def world(
    request: pytest.FixtureRequest,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    i18n_path: Path,
    clock: FakeClock,
) -> AsyncIterator[BotWorld]:
    i18n = create_i18n(str(i18n_path), settings.default_locale)
    dispatcher = create_dispatcher(settings, sessions, i18n, clock)
    double = RecordingSession()
    world = BotWorld(settings, sessions, i18n, clock, dispatcher, create_bot(TOKEN, double), [double])
    yield world
    held = [call for d in world.doubles for call in d.in_transaction]
    assert held == [], f"Bot API calls made with the update's transaction open: {held}"
    # Telegram would have refused these calls: a test that means to provoke refusals says so.
    if request.node.get_closest_marker("telegram_refuses") is None:
        refused = [refusal for d in world.doubles for refusal in d.rules.refusals]
        assert refused == [], f"Telegram would refuse: {refused}"
        assert await world.dead_letters() == [], "updates were dead-lettered"
