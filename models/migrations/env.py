"""Alembic environment: runs on the connection handed over by models.db.migrate, or on its own URL."""

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no connection handed over and no sqlalchemy.url to connect to")
    url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    with create_engine(url).connect() as sync_connection:
        _run(sync_connection)
