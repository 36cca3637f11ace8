"""The engine, with SQLite tuned for an embedded server, and migrations applied at start."""

import asyncio
import weakref
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, UOWTransaction
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str, **kwargs: object) -> AsyncEngine:
    if url.startswith("sqlite"):
        _ensure_parent(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=Session, expire_on_commit=False)


OWNED = "servicestar_owned_by_update"  # session.info: this session's transaction belongs to an update
WROTE = "servicestar_wrote_since_checkpoint"  # session.info: a write since the last checkpoint


@event.listens_for(SyncSession, "after_flush")
def _flushed(session: SyncSession, _flush: UOWTransaction) -> None:
    session.info[WROTE] = True  # only called when the flush had something to write


@event.listens_for(SyncSession, "do_orm_execute")
def _wrote_directly(execution: ORMExecuteState) -> None:
    if execution.is_insert or execution.is_update or execution.is_delete:
        execution.session.info[WROTE] = True


class Session(AsyncSession):
    """A session whose transaction an update may own (`own()`): then what the code it runs calls
    commit() is a checkpoint (a savepoint released), and rollback() goes back to the last one; the
    owner commits once, so the update's effects, its replies and the mark that it was handled land
    together or not at all. A refusal after a checkpoint still keeps what came before it, as a
    commit would have. A checkpoint with nothing written since the last one costs no statement."""

    def own(self) -> None:
        self.info[OWNED] = True

    @property
    def owned(self) -> bool:
        return bool(self.info.get(OWNED))

    @property
    def written(self) -> bool:
        """Whether the open transaction holds a write, flushed or staged: ending it would lose that."""
        return bool(
            self.new or self.dirty or self.deleted or self.info.get(WROTE) or self.get_nested_transaction()
        )

    async def commit(self) -> None:
        if not self.owned:
            self.info.pop(WROTE, None)
            return await super().commit()
        await self.checkpoint()

    async def checkpoint(self) -> None:
        """What is written so far stands against a later refusal (in the owner's transaction)."""
        assert self.owned
        await self.flush()
        if not self.info.pop(WROTE, False):
            return  # the last checkpoint (or the transaction's start) already stands for this one
        if (checkpoint := self.get_nested_transaction()) is not None:
            await checkpoint.commit()
        await self.begin_nested()

    async def rollback(self) -> None:
        self.info.pop(WROTE, None)
        if not self.owned or (checkpoint := self.get_nested_transaction()) is None:
            return await super().rollback()  # nothing was kept yet: all of it goes
        await checkpoint.rollback()
        await self.begin_nested()

    async def commit_owned(self) -> None:
        """The owner's one commit (also between checkpoints: what was kept so far is then final)."""
        self.info[OWNED] = False
        try:
            await super().commit()
        finally:
            self.info[OWNED] = True
            self.info.pop(WROTE, None)

    async def rollback_owned(self) -> None:
        """Everything since the owner began, checkpoints included."""
        self.info[OWNED] = False
        try:
            await super().rollback()
        finally:
            self.info[OWNED] = True
            self.info.pop(WROTE, None)


def _ensure_parent(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


class WriteTurns:
    """SQLite lets one transaction write at a time, and every transaction here begins IMMEDIATE.
    The transactions of this process take their turn in order of arrival, instead of in SQLite's
    busy handler, whose waiters sleep in growing steps (up to 100 ms) and can lose every race to
    newer arrivals: with 20 users at once, p99 went from about 2 s to about 0.6 s
    (bench/dispatcher_bench.py). A turn ends with the transaction, or when its connection goes back
    to the pool without one (invalidated, or a BEGIN that failed)."""

    KEY = "servicestar_write_turn"

    def __init__(self, wait_seconds: float = 30) -> None:
        self.wait_seconds = wait_seconds  # as long as SQLite's own busy timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def install(self, sync_engine: Engine) -> None:
        event.listen(sync_engine, "begin", self._take)
        event.listen(sync_engine, "commit", self._end)
        event.listen(sync_engine, "rollback", self._end)
        event.listen(sync_engine.pool, "checkin", lambda _dbapi, record: self._release(record.info))

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()  # tests run one event loop each
        if loop not in self._locks:
            self._locks[loop] = asyncio.Lock()
        return self._locks[loop]

    def _take(self, conn: Connection) -> None:
        lock = self._lock()
        await_only(
            asyncio.wait_for(lock.acquire(), self.wait_seconds)
        )  # hooks run inside SQLAlchemy's greenlet
        conn.info[self.KEY] = lock

    def _end(self, conn: Connection) -> None:
        self._release(conn.info)

    def _release(self, info: dict[str, Any]) -> None:
        lock = info.pop(self.KEY, None)
        if lock is not None:
            lock.release()


class _SqliteDriverConnection(Protocol):
    """What the pragmas use of the driver's connection: pysqlite's (behind aiosqlite's adapter)."""

    isolation_level: str | None

    def cursor(self) -> DBAPICursor: ...


def _tune_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _pragmas(dbapi_connection: _SqliteDriverConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's implicit, deferred one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    WriteTurns().install(sync_engine)

    @event.listens_for(sync_engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails with "database is locked" when
        # another writer got in between; taking the write lock up front makes it wait instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


MIGRATION_LOCK = 0x5E57_0001  # a PostgreSQL advisory lock key of our own


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (run at start, and by the tests). Workers started
    together take turns: on an empty PostgreSQL database two concurrent upgrades race on creating
    alembic_version, and one exits. The lock ends with the transaction; SQLite's BEGIN IMMEDIATE
    already serialises."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        await conn.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
