"""Fresh, migrated databases for tests: SQLite files, and PostgreSQL databases cloned from a
migrated template. PostgreSQL and Redis tests skip where the server is absent, except under CI."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models.db import create_engine, migrate

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# One template per test process, so several runs on one server never drop each other's template.
TEMPLATE = f"servicestar_test_template_{os.getpid()}"


def unavailable(service: str, why: object) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{service} is required under CI but unavailable: {why}")
    pytest.skip(f"{service} unavailable: {why}")


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template: Path | None = None

    async def fresh(self) -> str:
        if self.template is None:
            self.template = self.root / "template.db"
            engine = create_engine(f"sqlite+aiosqlite:///{self.template}")
            await migrate(engine)
            await engine.dispose()  # the last connection closing folds the WAL into the file
        path = self.root / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresDatabases:
    def __init__(self) -> None:
        self.ready = False
        self.created: list[str] = []

    async def _admin(self) -> AsyncEngine:
        return create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")

    async def fresh(self) -> str:
        if not self.ready:
            await self._make_template()
        name = f"servicestar_test_{uuid.uuid4().hex[:12]}"
        await self._create(name, template=TEMPLATE)
        return _with_db(name)

    async def _make_template(self) -> None:
        await self._create(TEMPLATE, template=None, replace=True)
        self.created.remove(TEMPLATE)  # dropped last, by drop_all
        engine = create_engine(_with_db(TEMPLATE))
        await migrate(engine)
        await engine.dispose()
        self.ready = True

    async def empty(self) -> str:
        """A database with no tables at all, as a first deployment finds it; returns its name."""
        name = f"servicestar_test_{uuid.uuid4().hex[:12]}"
        await self._create(name, template=None)
        return name

    async def _create(self, name: str, template: str | None, replace: bool = False) -> None:
        admin = await self._admin()
        try:
            async with admin.connect() as conn:
                if replace:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                clause = f' TEMPLATE "{template}"' if template else ""
                await conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
                self.created.append(name)
        except (TimeoutError, OSError) as exc:
            unavailable("PostgreSQL", exc)
        finally:
            await admin.dispose()

    async def drop_all(self) -> None:
        if not self.created:
            return
        admin = await self._admin()
        async with admin.connect() as conn:
            for name in [*self.created, TEMPLATE]:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
        self.created.clear()


def _with_db(name: str) -> str:
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"
