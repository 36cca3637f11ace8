"""One database session per update, and the guard that makes a redelivered update a no-op."""

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.handled import HANDLED, WRITTEN
from bot.notifier import OutboxSender, render_plain
from bot.replies import Replies, current_replies
from bot.storage import current_session
from models import HandledUpdate, OutboxMessage
from models.db import Session as OwnedSession
from services.errors import DomainError
from services.files.store import FileStore
from services.ports import Clock

log = logging.getLogger(__name__)
# A live process sends an update's replies within milliseconds of its commit; only after this long
# may another sender take them (their process died in between).
REPLY_GRACE = timedelta(seconds=10)
Refuse = Callable[[Update, DomainError, dict[str, Any]], Awaitable[None]]


class DatabaseMiddleware(BaseMiddleware):
    """The update owns one transaction (models.db.Session): its effects, its replies (bot/replies.py)
    and the mark that it was handled are committed together, once; then its replies are sent. A
    refusal keeps what was decided before it, and is a reply like any other."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, files: FileStore, refuse: Refuse
    ) -> None:
        self.sessions, self.clock, self.files, self.refuse = sessions, clock, files, refuse
        self._own_sender: OutboxSender | None = None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        sender = self._sender(data)
        await data["bot"].me()  # handlers put its username in links: asked once, outside any transaction
        async with self.sessions() as session:
            assert isinstance(session, OwnedSession)
            if await session.get(HandledUpdate, event.update_id) is not None:
                log.info("update %s was already handled; dropped", event.update_id)
                await session.rollback()
                await sender.send_replies(event.update_id)  # unless they went out before a crash
                return None
            session.own()  # that read began the update's one transaction
            session.info[HANDLED] = (event.update_id, self.clock.now())
            data["session"] = session
            data["clock"] = self.clock
            where = data.get("event_chat") or data.get("event_from_user")
            replies = Replies(where.id if where is not None else 0, self.files)
            tokens = current_session.set(session), current_replies.set(replies)
            try:
                result = await self._decide(handler, event, data, session, replies)
            finally:
                current_session.reset(tokens[0])
                current_replies.reset(tokens[1])
        if replies.calls:
            await sender.send_replies(event.update_id)
        return result

    async def _decide(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
        session: OwnedSession,
        replies: Replies,
    ) -> Any:
        try:
            result = await handler(event, data)
        except DomainError as error:
            await session.rollback()  # to what was decided before the refusal
            await self._refused(event, error, data, session, replies)
            return None
        except BaseException:
            await session.rollback_owned()
            raise
        try:
            await self._commit(session, replies, event.update_id)
        except DomainError as error:  # refused by the commit itself (a button pressed twice at once)
            await session.rollback_owned()
            replies.calls.clear()  # they told of a decision that is not taken
            await self._refused(event, error, data, session, replies)
        return result

    async def _refused(
        self, event: Update, error: DomainError, data: dict[str, Any], session: OwnedSession, replies: Replies
    ) -> None:
        session.info[HANDLED] = (event.update_id, self.clock.now())  # again, if a failed commit took it
        session.info.pop(WRITTEN, None)
        await self.refuse(event, error, data)
        await self._commit(session, replies, event.update_id)

    async def _commit(self, session: OwnedSession, replies: Replies, update_id: int) -> None:
        now = self.clock.now()
        session.add_all(
            [
                OutboxMessage(
                    chat_id=chat_id,
                    template=f"reply:{call['method']}",
                    call=call,
                    update_id=update_id,
                    not_before=now + REPLY_GRACE,
                    created_at=now,
                )
                for chat_id, call in replies.calls
            ]
        )
        await session.commit_owned()

    def _sender(self, data: dict[str, Any]) -> OutboxSender:
        """The process's outbox sender (workflow data `outbox`), or, where none runs (tests, tools),
        one of this middleware's own for the update's Bot."""
        bot: Bot = data["bot"]
        sender: OutboxSender | None = data.get("outbox")
        if sender is not None and sender.bot is bot:
            return sender
        if self._own_sender is None or self._own_sender.bot is not bot:  # Bots with one token are "equal"
            self._own_sender = OutboxSender(
                bot, self.sessions, render_plain, self.clock, files_dir=self.files.root, rate=1000.0
            )
        return self._own_sender
