"""Developer tool: `python -m models.revision "what changed"` writes a new migration by comparing
the tables with a scratch SQLite database brought to the newest migration."""

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from models.db import alembic_config, create_engine, migrate


async def _revise(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}"
        engine = create_engine(url)
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_autogenerate, url, message)
        await engine.dispose()


def _autogenerate(connection, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    asyncio.run(_revise(" ".join(sys.argv[1:]) or "change"))
