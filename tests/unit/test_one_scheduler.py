"""Several workers: migrations taken in turn, one scheduler across them, sweeps at start-up."""

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from models.db import create_engine, migrate
from scheduler import create_scheduler, register_jobs
from scheduler.leader import Leadership
from tests.support.clock import FakeClock
from tests.support.databases import PostgresDatabases, SqliteDatabases, _with_db


@pytest.mark.postgres
async def test_two_workers_migrating_an_empty_postgres_database_at_once_both_start(
    postgres_databases: PostgresDatabases,
) -> None:
    name = await postgres_databases.empty()
    engines = [create_engine(_with_db(name)) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))  # none raises
        async with engines[0].connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar() == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_one_process_holds_the_scheduler_and_another_takes_over_when_it_stops(
    database_url: str,
) -> None:
    first, second = create_engine(database_url), create_engine(database_url)
    try:
        one, other = Leadership(first), Leadership(second)
        assert await one.try_acquire() and await one.still_held()
        assert not await other.try_acquire()
        await one.release()
        assert await other.try_acquire()
        await other.release()
    finally:
        await first.dispose()
        await second.dispose()


HOLD = """
import asyncio, sys
from models.db import create_engine
from scheduler.leader import Leadership
async def main():
    leadership = Leadership(create_engine(sys.argv[1]))
    print(await leadership.try_acquire(), flush=True)
    await asyncio.sleep(600)
asyncio.run(main())
"""


async def test_a_killed_scheduler_holder_is_replaced_at_once(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, database_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    engine = create_engine(database_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        standby = Leadership(engine)
        assert not await standby.try_acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        for _ in range(50):  # the server notices the closed connection within moments
            if await standby.try_acquire():
                break
            await asyncio.sleep(0.1)
        assert standby.held
        await standby.release()
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
        await engine.dispose()


def test_sweeps_run_at_start_up_then_on_their_interval(sqlite_databases: SqliteDatabases) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    scheduler = create_scheduler(zone)
    register_jobs(scheduler, None, FakeClock(), run_now=True)  # type: ignore[arg-type]  (jobs are not run here)
    now = datetime.now(zone)
    for job in scheduler.get_jobs():
        assert (job.next_run_time - now).total_seconds() < 5, job.id
