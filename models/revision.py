"""Developer tool: `python -m models.revision "what changed"` writes a new migration by comparing
the tables with a scratch SQLite database brought to the newest migration."""

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import Connection

from models.db import alembic_config, create_engine, migrate

RUFF = Path(sys.executable).with_name("ruff")  # installed by `setup test`


async def _revise(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}"
        engine = create_engine(url)
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_autogenerate, url, message)
        await engine.dispose()


def _autogenerate(connection: Connection, url: str, message: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    if RUFF.exists():  # lint-fix and format the new file, so the suite's style test passes on it
        hooks = {"ruff_fix": "check --fix --quiet", "ruff_format": "format --quiet"}
        config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
        for name, options in hooks.items():
            config.set_section_option("post_write_hooks", f"{name}.type", "exec")
            config.set_section_option("post_write_hooks", f"{name}.executable", str(RUFF))
            config.set_section_option(
                "post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME"
            )
    command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    asyncio.run(_revise(" ".join(sys.argv[1:]) or "change"))
