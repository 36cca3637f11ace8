"""On SQLite the process's write transactions take turns in arrival order (models.db.WriteTurns),
and a turn is never left held by a transaction that ended some other way."""

import asyncio

from sqlalchemy import text

from models.db import create_engine
from tests.support.databases import SqliteDatabases


async def test_writers_take_turns_in_order_and_an_invalidated_connection_gives_its_turn_back(
    sqlite_databases: SqliteDatabases,
) -> None:
    engine = create_engine(await sqlite_databases.fresh())
    seen: list[str] = []
    try:

        async def writer(name: str, hold: float) -> None:
            async with engine.begin() as conn:
                seen.append(f"{name} in")
                await conn.execute(
                    text(
                        "INSERT INTO workdayoverride (day, is_workday, note) VALUES "
                        f"('2031-01-0{len(seen)}', 1, '{name}')"
                    )
                )
                await asyncio.sleep(hold)
                seen.append(f"{name} out")

        first = asyncio.create_task(writer("first", 0.3))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(writer("second", 0))  # arrives while the first writes
        await asyncio.sleep(0.05)
        await asyncio.gather(first, second, writer("third", 0))  # arrives last, waits behind both
        assert seen == ["first in", "first out", "second in", "second out", "third in", "third out"]

        broken = await engine.connect()
        await broken.begin()
        await broken.invalidate()  # gone without a commit or a rollback
        await asyncio.wait_for(writer("after", 0), 5)  # not kept waiting for the lost turn
    finally:
        await engine.dispose()
