"""Processes stored updates through the Dispatcher, each at most once to completion.

Updates of one chat run in order; different chats run side by side. A failing update is retried
on the next rounds, then dead-lettered, and the person is told through the outbox."""

import asyncio
import logging
from collections import defaultdict
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import InboxUpdate
from services import inbox, outbox
from services.ports import Clock

log = logging.getLogger(__name__)


def chat_of(payload: dict[str, Any]) -> int | None:
    for kind in ("message", "edited_message", "callback_query", "my_chat_member", "inline_query"):
        event = payload.get(kind)
        if isinstance(event, dict):
            chat = event.get("chat") or (event.get("message") or {}).get("chat") or event.get("from") or {}
            return chat.get("id")
    return None


class InboxProcessor:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.dispatcher, self.bot, self.sessions, self.clock = dispatcher, bot, sessions, clock
        self.wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def store(self, updates: list[dict[str, Any]]) -> int:
        async with self.sessions() as session:
            stored = await inbox.store(session, updates, self.clock.now())
        self.wake.set()
        return stored

    async def process_pending(self) -> int:
        """One pass over what is pending; returns how many updates were handled."""
        async with self._lock:  # one pass at a time in this process
            async with self.sessions() as session:
                rows = await inbox.pending(session)
            by_chat: dict[int | None, list[InboxUpdate]] = defaultdict(list)
            for row in rows:
                by_chat[chat_of(row.payload)].append(row)
            results = await asyncio.gather(*(self._run_in_order(chat_rows) for chat_rows in by_chat.values()))
            return sum(results)

    async def _run_in_order(self, rows: list[InboxUpdate]) -> int:
        handled = 0
        for row in rows:
            if not await self._run(row):
                break  # keep this chat's order: later updates wait for the retry
            handled += 1
        return handled

    async def _run(self, row: InboxUpdate) -> bool:
        update = Update.model_validate(row.payload, context={"bot": self.bot})
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception as exc:  # noqa: BLE001  (any handler bug: retry, then dead-letter)
            log.exception("update %s failed", row.update_id)
            async with self.sessions() as session:
                dead = await inbox.fail(session, row.update_id, repr(exc), self.clock.now())
                chat_id = chat_of(row.payload)
                if dead and chat_id is not None:
                    await outbox.enqueue(session, chat_id=chat_id, template="update.dead_letter", now=self.clock.now())
                    await session.commit()
            return dead
        async with self.sessions() as session:
            await inbox.finish(session, row.update_id, self.clock.now())
        return True

    async def run_forever(self, stop: asyncio.Event, retry_every: float = 5.0) -> None:
        while not stop.is_set():
            self.wake.clear()  # before the pass, so an update stored during it wakes the next one
            try:
                await self.process_pending()
            except Exception:  # noqa: BLE001  (a database hiccup must not end the bot)
                log.exception("inbox pass failed")
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=retry_every)
            except TimeoutError:
                pass
