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
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.factory import create_bot, create_dispatcher, create_i18n
from bot.inbox import InboxProcessor
from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from bot.send_pace import SharedPace
from locales import compile_catalogues
from models.db import create_engine, migrate, session_factory
from scheduler import create_scheduler, register_jobs
from scheduler.leader import Leadership
from services.ports import Clock, SystemClock

log = logging.getLogger(__name__)
COMMANDS = (
    "start",
    "menu",
    "selfcheck",
    "nominate",
    "mystatus",
    "campaign",
    "cards",
    "publicity",
    "honours",
    "verify",
    "subscribe",
    "cancel",
    "help",
    "lang",
    "privacy",
    "mydata",
    "forget",
)


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
            asyncio.create_task(self.lead_scheduler(), name="scheduler"),
        ]

        async def shutdown() -> None:
            self.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.sender.shared is not None:
                await self.sender.shared.redis.aclose()

        stack.push_async_callback(shutdown)

    async def lead_scheduler(self, retry_every: float = 10.0) -> None:
        """Run the periodic jobs while this process holds the deployment's scheduler lock; stand by
        (trying again every `retry_every` seconds) while another process holds it."""
        leadership = Leadership(self.engine)
        scheduler: AsyncIOScheduler | None = None
        try:
            while not self.stop.is_set():
                try:
                    if scheduler is None and await leadership.try_acquire():
                        scheduler = create_scheduler(self.settings.zone)
                        register_jobs(
                            scheduler,
                            self.sessions,
                            self.clock,
                            rereview_days=self.settings.rereview_reminder_days,
                            run_now=True,
                        )
                        scheduler.start()
                        log.info("this process runs the scheduler")
                    elif scheduler is not None and not await leadership.still_held():
                        scheduler.shutdown(wait=False)
                        scheduler = None
                except Exception:  # noqa: BLE001  (the database may be restarting: try again later)
                    log.exception("scheduler leadership check failed")
                try:
                    await asyncio.wait_for(self.stop.wait(), timeout=retry_every)
                except TimeoutError:
                    pass
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await leadership.release()


def storage_for(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage | None, BaseEventIsolation | None]:
    """FSM storage shared by every worker (Redis when configured, else the factory's SQL storage),
    always with the factory's in-process event isolation. Every update runs from the inbox, and the
    inbox lets one worker at a time hold a chat, so no two processes run one chat's updates at once.
    RedisEventIsolation would add nothing but its 60 s lock: left behind by a worker killed mid-update,
    it stalled that chat for a minute (FACTS.md)."""
    if not settings.redis_url:
        return None, None
    from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage

    return RedisStorage.from_url(settings.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True)), None


def bot_session(settings: Settings) -> BaseSession:
    if settings.telegram_api_base:
        return AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return AiohttpSession()


async def build_app(
    settings: Settings,
    session: BaseSession | None = None,
    clock: Clock | None = None,
    token: str | None = None,
) -> App:
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
        bot,
        sessions,
        outbox_renderer(i18n),
        clock,
        files_dir=files_dir(settings),
        default_locale=settings.default_locale,
        shared=shared_pace(settings),
    )
    dispatcher["outbox"] = sender  # replies go out at the pace of everything else the bot sends
    return App(settings, engine, sessions, i18n, clock, dispatcher, bot, inbox, sender)


def shared_pace(settings: Settings, rate: float = 25.0) -> SharedPace | None:
    """Several workers share Redis: one send pace for all of them (Telegram counts per bot)."""
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    return SharedPace(Redis.from_url(settings.redis_url), rate=rate)


def files_dir(settings: Settings) -> Path:
    return settings.data_dir / "files"


async def register_commands(app: App) -> None:
    """The command menu in both languages: Chinese by default, English for English clients."""
    for locale, language_code in (("zh_CN", None), ("en", "en")):
        commands = [
            BotCommand(command=name, description=app.i18n.gettext(f"command.{name}", locale=locale))
            for name in COMMANDS
        ]
        await app.bot(SetMyCommands(commands=commands, language_code=language_code))
