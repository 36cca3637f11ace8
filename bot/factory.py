"""create_dispatcher: the one place where routers and middlewares are wired. The tests use it too."""

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.middlewares import (
    ActionTokenMiddleware,
    ActorMiddleware,
    AnswerOnce,
    DatabaseMiddleware,
    LanguageMiddleware,
    LeaveOnCommand,
    NotModifiedIsDone,
    PressMiddleware,
)
from bot.replies import KeepReplies
from bot.storage import SqlStorage
from handlers import build_routers
from handlers.errors import refuse
from services import local_time
from services.files.store import FileStore
from services.ports import Clock


def create_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    clock: Clock,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    local_time.use(settings.zone)  # the one zone every service, handler and document reads
    file_store = FileStore(settings.data_dir / "files")
    dispatcher = Dispatcher(
        storage=storage or SqlStorage(sessions),
        # Without isolation, two updates from one person at once lose FSM writes (FACTS.md).
        events_isolation=events_isolation or SimpleEventIsolation(),
        settings=settings,
        office_ids=settings.office_ids,
        i18n=i18n,
        file_store=file_store,
    )
    # Outer middlewares run in this order, after aiogram's own error, user-context and FSM ones.
    dispatcher.update.outer_middleware(DatabaseMiddleware(sessions, clock, file_store, refuse))
    dispatcher.update.outer_middleware(ActorMiddleware(settings.default_locale))
    dispatcher.update.outer_middleware(LanguageMiddleware(i18n))
    dispatcher.update.outer_middleware(PressMiddleware())
    dispatcher.callback_query.outer_middleware(ActionTokenMiddleware())
    dispatcher.message.outer_middleware(LeaveOnCommand())  # a command typed mid-conversation leaves it
    dispatcher.include_routers(*build_routers())
    return dispatcher


def create_i18n(path: str, default_locale: str) -> I18n:
    return I18n(path=path, default_locale=default_locale, domain="messages")


def create_bot(token: str, session: BaseSession) -> Bot:
    # A second answer to a press becomes a message before the update's replies are kept; what is
    # sent later (the outbox) meets "not modified" at the end of the chain.
    session.middleware(AnswerOnce())
    session.middleware(KeepReplies())
    session.middleware(NotModifiedIsDone())
    # Every text we send is HTML; user-supplied parts are escaped where they are filled in.
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
