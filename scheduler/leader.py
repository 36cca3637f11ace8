"""Exactly one process of a deployment runs the periodic jobs (APScheduler job stores cannot be
shared). The others stand by and take over when the holder dies.

PostgreSQL: a session advisory lock, held on a connection of its own; it is released when that
connection closes, so a killed holder frees it at once and a stand-by takes over on its next try.
SQLite (one machine): an exclusive lock on a file beside the database, released by the kernel when
the holder dies."""

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
SCHEDULER_LOCK = 0x5E57_0002  # a PostgreSQL advisory lock key of our own


class Leadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._file: int | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            connection = await self.engine.connect()
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = (
                await connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({SCHEDULER_LOCK})")
            ).scalar()
            if taken:
                self._connection = connection
            else:
                await connection.close()
            return bool(taken)
        path = _lock_path(self.engine)
        if path is None:
            self._file = -1  # an in-memory database belongs to this process alone
            return True
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._file = descriptor
        return True

    async def still_held(self) -> bool:
        """False once the lock's connection broke (a database restart): the lock is gone with it."""
        if self._connection is None:
            return self.held
        try:
            await self._connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:  # noqa: BLE001  (any failure means the lock may be someone else's now)
            log.warning("the scheduler lock's connection broke; standing down")
            await self.release()
            return False

    async def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:  # the connection goes back to the pool, its session (and a lock) would live on
                await connection.exec_driver_sql(f"SELECT pg_advisory_unlock({SCHEDULER_LOCK})")
                await connection.close()
            except Exception:  # noqa: BLE001  (a broken connection: drop it, and the lock with it)
                await connection.invalidate()
        if self._file is not None:
            if self._file >= 0:
                os.close(self._file)
            self._file = None


def _lock_path(engine: AsyncEngine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_suffix(".scheduler.lock")
