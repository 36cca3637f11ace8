"""FSM storage in the database, so a conversation resumes after a restart.

Inside an update the storage writes through that update's own session (set by the database
middleware), so conversation progress commits together with what the handler decided, and SQLite
never sees a second writer waiting on the first. Outside an update it opens a short session."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import FsmRecord

current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


def storage_key(key: StorageKey) -> str:
    # ":<user_id>:" appears in every key of a person, which is how /forget finds them.
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


class SqlStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[tuple[AsyncSession, bool]]:
        shared = current_session.get()
        if shared is not None:
            yield shared, False
            return
        async with self._sessions() as own:
            yield own, True

    async def _record(self, session: AsyncSession, key: StorageKey) -> FsmRecord:
        record = await session.get(FsmRecord, storage_key(key))
        return record or FsmRecord(key=storage_key(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self._session() as (session, own):
            record = await self._record(session, key)
            record.state = state.state if isinstance(state, State) else state
            await self._save(session, record, own)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as (session, _):
            record = await session.get(FsmRecord, storage_key(key))
            return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as (session, own):
            record = await self._record(session, key)
            record.data = dict(data)
            await self._save(session, record, own)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as (session, _):
            record = await session.get(FsmRecord, storage_key(key))
            return dict(record.data) if record else {}

    async def _save(self, session: AsyncSession, record: FsmRecord, own: bool) -> None:
        if record.state is None and not record.data:
            if await session.get(FsmRecord, record.key) is not None:
                await session.delete(record)
        else:
            session.add(record)
        if own:
            await session.commit()
        else:
            await session.flush()

    async def close(self) -> None:
        return None
