"""Fills a database with many honours (default 1,000,000), then times ONE reminder/expiry sweep.

    .venv/bin/python -m bench.honour_sweep_bench [sqlite|postgres] [honours] [downtime_hours]

The honours' validity ends are spread evenly over three years; their reminder state is what the
sweeps would have left `downtime_hours` ago (default 24: the bot was down a day), so the sweep
finds exactly the reminders and expiries that fell due meanwhile. Rows go in by core SQL
executemany in a child process; the parent then runs the sweep, so the peak memory printed
(resource.getrusage ru_maxrss) is the sweep's, not the fill's."""

import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from models import (
    TELEGRAM,
    Campaign,
    ChannelAccount,
    Honour,
    Nomination,
    OutboxMessage,
    Person,
    Role,
    RoleAssignment,
)
from models.db import create_engine, migrate, session_factory
from services.honours import validity
from services.rules.honour_validity import add_years, sweep_step

NOW = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
POSTGRES_DB = "servicestar_honour_bench"
PEOPLE = 10_000
BASE = 100_000  # person ids above anything a migration seeds
CHUNK = 20_000


def url_for(kind: str) -> str:
    if kind == "postgres":
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{POSTGRES_DB}"
    return f"sqlite+aiosqlite:///{Path(tempfile.gettempdir()) / 'servicestar_honour_bench.db'}"


async def prepare(kind: str) -> str:
    url = url_for(kind)
    if kind == "postgres":
        admin = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{POSTGRES_DB}"'))
        await admin.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(url.split(":///", 1)[1] + suffix).unlink(missing_ok=True)
    engine = create_engine(url)
    await migrate(engine)
    await engine.dispose()
    return url


async def fill(url: str, count: int, downtime: timedelta) -> None:
    engine = create_engine(url)
    previous = NOW - downtime
    span = (add_years(previous, 3) - previous) / count
    async with engine.begin() as conn:
        await conn.execute(
            insert(Person),
            [
                {
                    "id": BASE + i,
                    "name": f"获奖者{i}",
                    "language": "zh_CN",
                    "consent_at": previous,
                    "subscribed": True,
                }
                for i in range(1, PEOPLE + 3)
            ],
        )
        await conn.execute(
            insert(ChannelAccount),
            [
                {"person_id": BASE + i, "channel": TELEGRAM, "address": str(10_000_000 + i)}
                for i in range(1, PEOPLE + 3)
            ],
        )
        await conn.execute(
            insert(RoleAssignment),
            [
                {
                    "person_id": BASE + PEOPLE + 1,
                    "role": Role.OFFICE,
                    "organisation_id": None,
                    "granted_at": previous,
                },
                {
                    "person_id": BASE + PEOPLE + 2,
                    "role": Role.RECOMMENDER,
                    "organisation_id": 1,
                    "granted_at": previous,
                },
            ],
        )
        await conn.execute(
            insert(Campaign),
            [
                {
                    "id": 1000 + year - 2023,
                    "year": year,
                    "honours": ["STAR"],
                    **{
                        f: previous
                        for f in (
                            "nomination_opens",
                            "nomination_closes",
                            "precheck_deadline",
                            "review_opens",
                            "review_closes",
                            "announcement_at",
                            "created_at",
                        )
                    },
                }
                for year in (2024, 2025, 2026, 2027)
            ],
        )
    for start in range(0, count, CHUNK):
        nominations, rows = [], []
        for i in range(start + 1, min(count, start + CHUNK) + 1):
            until = previous + span * i
            awarded = add_years(until, -3)
            step = sweep_step("valid", until, None, previous)
            nominations.append(
                {
                    "id": i,
                    "campaign_id": 1001 + i % 4,
                    "honour": "STAR",
                    "applicant_id": BASE + 1 + i % PEOPLE,
                    "organisation_id": 1,
                    "stage": "approved",
                    "fields": {},
                    "version": 1,
                    "created_at": awarded,
                    "updated_at": awarded,
                }
            )
            rows.append(
                {
                    "id": i,
                    "certificate_no": f"GD-{2024 + i % 4}-STAR-{i:07d}",
                    "nomination_id": i,
                    "campaign_id": 1001 + i % 4,
                    "campaign_year": 2024 + i % 4,
                    "honour": "STAR",
                    "holder_id": BASE + 1 + i % PEOPLE,
                    "holder_name": f"获奖者{i}",
                    "unit": "",
                    "city": "广州",
                    "organisation_id": 1,
                    "status": "valid",
                    "valid_from": awarded,
                    "valid_until": until,
                    "next_due_at": step.next_due_at,
                    "reminded_days": step.reminded,
                    "certificate_sha256": "",
                    "awarded_at": awarded,
                    "revoke_reason": "",
                }
            )
        async with engine.begin() as conn:
            await conn.execute(insert(Nomination), nominations)
            await conn.execute(insert(Honour), rows)
    if url.startswith("postgresql"):
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    await engine.dispose()


async def run_sweep(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session:
        total = (await session.exec(select(func.count()).select_from(Honour))).one()
        due = (
            await session.exec(select(func.count()).select_from(Honour).where(Honour.next_due_at <= NOW))
        ).one()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    async with sessions() as session:
        report = await validity.sweep(session, NOW)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    async with sessions() as session:
        again = await validity.sweep(session, NOW)
    idle = time.perf_counter() - started
    async with sessions() as session:
        queued = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"database: {engine.dialect.name}; honours: {total:,}; due at the sweep: {due:,}")
    print(
        f"sweep: {elapsed:.2f} s — {report.reminded:,} reminders, {report.expired:,} expiries, "
        f"{report.messages:,} outbox rows ({queued:,} queued)"
    )
    print(
        f"second sweep at the same time: {idle * 1000:.1f} ms, "
        f"{again.reminded + again.expired} honours touched"
    )
    print(f"peak memory (ru_maxrss): {peak / 1024:.1f} MiB (before the sweep: {before / 1024:.1f} MiB)")
    await engine.dispose()


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    hours = float(sys.argv[3]) if len(sys.argv) > 3 else 24.0
    if kind == "--fill":
        started = time.perf_counter()
        asyncio.run(fill(sys.argv[4], count, timedelta(hours=hours)))
        print(f"filled {count:,} honours in {time.perf_counter() - started:.1f} s")
        return
    url = asyncio.run(prepare(kind))
    subprocess.run(
        [sys.executable, "-m", "bench.honour_sweep_bench", "--fill", str(count), str(hours), url], check=True
    )
    asyncio.run(run_sweep(url))


if __name__ == "__main__":
    main()
