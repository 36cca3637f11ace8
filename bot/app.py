"""The composition root: settings → database → Bot → Dispatcher → inbox, outbox, scheduler."""

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.factory import create_bot, create_dispatcher, create_i18n
from bot.inbox import InboxProcessor
from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from locales import compile_catalogues
from models.db import create_engine, migrate, session_factory
from scheduler import create_scheduler, register_jobs
from services.ports import Clock, SystemClock

log = logging.getLogger(__name__)
COMMANDS = ("start", "menu", "selfcheck", "nominate", "mystatus", "campaign", "cards", "publicity", "honours", "verify",
            "subscribe", "help", "lang", "privacy", "mydata", "forget")


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    clock: Clock
    dispatcher: Dispatcher
    bot: Bot
    inbox: InboxProcessor
    sender: OutboxSender
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_background(self, stack: AsyncExitStack) -> None:
        """Start the inbox, the outbox sender and the scheduler; the stack stops them."""
        uncertain = await self.sender.recover()
        if uncertain:
            log.warning("%s outbox messages were being sent at the last crash: marked uncertain", uncertain)
        tasks = [
            asyncio.create_task(self.inbox.run_forever(self.stop), name="inbox"),
            asyncio.create_task(self.sender.run_forever(self.stop), name="outbox"),
        ]
        scheduler = create_scheduler(self.settings.zone)
        register_jobs(scheduler, self.sessions, self.clock, rereview_days=self.settings.rereview_reminder_days)
        scheduler.start()

        async def shutdown() -> None:
            self.stop.set()
            scheduler.shutdown(wait=False)
            await asyncio.gather(*tasks, return_exceptions=True)

        stack.push_async_callback(shutdown)


def storage_for(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> tuple[BaseStorage | None, BaseEventIsolation | None]:
    if not settings.redis_url:
        return None, None  # the factory's defaults: SQL storage, in-process isolation
    from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisEventIsolation, RedisStorage

    storage = RedisStorage.from_url(settings.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
    return storage, RedisEventIsolation(storage.redis)


def bot_session(settings: Settings) -> BaseSession:
    if settings.telegram_api_base:
        return AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return AiohttpSession()


async def build_app(settings: Settings, session: BaseSession | None = None, clock: Clock | None = None,
                    token: str | None = None) -> App:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url)
    await migrate(engine)
    sessions = session_factory(engine)
    i18n = create_i18n(str(compile_catalogues(settings.data_dir / "locales")), settings.default_locale)
    clock = clock or SystemClock()
    storage, isolation = storage_for(settings, sessions)
    dispatcher = create_dispatcher(settings, sessions, i18n, clock, storage, isolation)
    bot = create_bot(token or settings.bot_token or "", session or bot_session(settings))
    inbox = InboxProcessor(dispatcher, bot, sessions, clock)
    sender = OutboxSender(
        bot, sessions, outbox_renderer(i18n), clock, files_dir=files_dir(settings),
        default_locale=settings.default_locale,
    )
    return App(settings, engine, sessions, i18n, clock, dispatcher, bot, inbox, sender)


def files_dir(settings: Settings) -> Path:
    return settings.data_dir / "files"


async def register_commands(app: App) -> None:
    """The command menu in both languages: Chinese by default, English for English clients."""
    for locale, language_code in (("zh_CN", None), ("en", "en")):
        commands = [
            BotCommand(command=name, description=app.i18n.gettext(f"command.{name}", locale=locale)) for name in COMMANDS
        ]
        await app.bot(SetMyCommands(commands=commands, language_code=language_code))
