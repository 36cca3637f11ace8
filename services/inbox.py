"""The inbox: every update is stored before it is acknowledged, then processed from here.

Acknowledged means stored: the webhook answers 200, or polling moves its offset on, only after the
batch is committed, so a kill -9 at any point loses nothing. Workers take turns by chat: one claims a
chat's pending updates with a lease, runs them in order and lets go; a dead worker's lease runs out
and its chats come back to the others. A failing update is retried a few
times, then dead-lettered and the person told; one that is not an update at all is dead-lettered at
once. The office lists dead letters and replays one after a fix.

Payloads are raw JSON from outside: everything that reads them here accepts any shape."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import ColumnElement, String, delete, func, literal, literal_column, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import InboxStatus, InboxUpdate, Role
from models.messaging import InboxLease
from models.types import UtcDateTime
from services import audit, outbox
from services.actors import Actor
from services.people import require_role

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
MAX_ID = 2**63 - 1  # update_id and chat ids are stored as signed 64-bit integers
ERROR_LIMIT = 2000


def _is_int64(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_ID - 1 <= value <= MAX_ID


def storable(update: Any) -> bool:
    """An object with an update_id the table can hold; anything else cannot be stored."""
    if not isinstance(update, dict):
        return False
    update_id = update.get("update_id")
    return _is_int64(update_id) and update_id >= 0


def kind_of(payload: Any) -> str | None:
    """What kind of update it is ("message", "callback_query", ...): its one key besides update_id."""
    if not isinstance(payload, dict):
        return None
    return next((str(key)[:32] for key in payload if key != "update_id"), None)


def chat_of(payload: Any) -> int | None:
    """The chat an update belongs to (its order is kept per chat, and that is where a failure is
    told), or None unless the payload names a plausible Telegram id."""
    event = payload.get(kind_of(payload)) if isinstance(payload, dict) else None
    if not isinstance(event, dict):
        return None
    # A message has a chat; a press, the chat of its message; other events only a sender.
    for path in (("chat", "id"), ("message", "chat", "id"), ("from", "id"), ("user", "id")):
        value: Any = event
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if _is_int64(value):
            return value
    return None


async def store(session: AsyncSession, updates: Iterable[dict[str, Any]], now: datetime) -> int:
    """Store raw updates; one already stored (Telegram re-sent it) is ignored, one that cannot be
    stored is skipped. Returns how many were new. Commits: the caller acknowledges only after this
    returns."""
    rows = []
    for raw in updates:
        if not storable(raw):
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            log.warning("skipped an update that cannot be stored (update_id %.40r)", update_id)
            continue
        rows.append(
            {
                "update_id": raw["update_id"],
                "payload": raw,
                "chat_id": chat_of(raw),
                "status": InboxStatus.PENDING,
                "attempts": 0,
                "last_error": "",
                "received_at": now,
            }
        )
    if not rows:
        return 0
    statement = _insert(session, InboxUpdate).values(rows)
    statement = statement.on_conflict_do_nothing(index_elements=["update_id"])
    result = await session.exec(statement)
    await session.commit()
    return int(result.rowcount or 0)


def _on_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: AsyncSession, table: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with the dialect's ON CONFLICT clauses (the two spell them alike)."""
    return postgresql.insert(table) if _on_postgres(session) else sqlite.insert(table)


# Turns by chat -------------------------------------------------------------------------------------

# An update with no chat gets a turn of its own, under a key below every real chat id (Telegram's have
# at most 52 significant bits), so it waits for nobody. Literals, not parameters: PostgreSQL must see
# the same expression wherever it is used.
_LONE: ColumnElement[int]  # declared: literal_column() cannot tell mypy what its SQL text is
_LONE = literal_column(str(-(2**53))) - col(InboxUpdate.update_id) % literal_column(str(2**62))
CHAT_KEY: ColumnElement[int] = func.coalesce(col(InboxUpdate.chat_id), _LONE)
_PENDING = col(InboxUpdate.status) == InboxStatus.PENDING
CLAIM_LOCK = 0x5E57_0003  # a PostgreSQL advisory lock key of our own (…0001 migrations, …0002 the scheduler)


async def claim(
    session: AsyncSession, worker: str, limit: int, now: datetime, until: datetime
) -> list[tuple[int, list[InboxUpdate]]]:
    """Lease up to `limit` chats with pending updates to `worker` until `until`, the chat waiting
    longest first, and return each chat's pending updates in order. A chat whose lease has not run
    out is not taken; when two workers reach for one chat at once, the unique key lets one have it.
    One commit, however many chats: two statements (three on PostgreSQL)."""
    if _on_postgres(session):
        # Claims take turns, a few milliseconds each, so each sees the leases taken before it and
        # reaches for the next chats. Side by side, they reached for the same oldest chats: the
        # unique key gave each to one, and the others came back empty while chats were waiting.
        # (SQLite's BEGIN IMMEDIATE already makes them take turns.)
        await session.exec(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
    waiting = (
        select(CHAT_KEY.label("chat_key"), col(InboxUpdate.update_id).label("update_id"))
        .where(_PENDING)
        .subquery()
    )
    held = select(InboxLease.chat_key).where(col(InboxLease.until) >= now)
    oldest = (
        select(waiting.c.chat_key)
        .where(waiting.c.chat_key.not_in(held))
        .group_by(waiting.c.chat_key)
        .order_by(func.min(waiting.c.update_id))
        .limit(limit)
    ).subquery()
    # SQLite reads an upsert's SELECT without a WHERE as a join's ON: hence WHERE true.
    leases = select(oldest.c.chat_key, literal(worker, String()), literal(until, UtcDateTime())).where(true())
    upsert = _insert(session, InboxLease).from_select(["chat_key", "worker", "until"], leases)
    statement = upsert.on_conflict_do_update(
        index_elements=["chat_key"],
        set_={"worker": upsert.excluded.worker, "until": upsert.excluded.until},
        where=col(InboxLease.until) < now,  # taken over only when its holder's time ran out
    ).returning(col(InboxLease.chat_key))
    keys = list((await session.exec(statement)).scalars())
    chats: dict[int, list[InboxUpdate]] = {}
    if keys:
        rows = await session.exec(
            select(InboxUpdate, CHAT_KEY)
            .where(_PENDING, CHAT_KEY.in_(keys))
            .order_by(col(InboxUpdate.update_id))
        )
        for row, key in rows:
            chats.setdefault(key, []).append(row)
        for key in keys:  # settled meanwhile by a holder whose time ran out: let go at once
            chats.setdefault(key, [])
    await session.commit()
    return list(chats.items())


async def hold(session: AsyncSession, worker: str, keys: Iterable[int], until: datetime) -> set[int]:
    """Extend this worker's leases on these chats to `until`; returns the chats it still held."""
    statement = (
        update(InboxLease)
        .where(col(InboxLease.worker) == worker, col(InboxLease.chat_key).in_(list(keys)))
        .values(until=until)
        .returning(col(InboxLease.chat_key))
    )
    held = set((await session.exec(statement)).scalars())
    await session.commit()
    return held


async def release(session: AsyncSession, worker: str, keys: Iterable[int]) -> None:
    statement = delete(InboxLease).where(
        col(InboxLease.worker) == worker, col(InboxLease.chat_key).in_(list(keys))
    )
    await session.exec(statement)
    await session.commit()


async def holders(session: AsyncSession) -> set[str]:
    return set((await session.exec(select(InboxLease.worker).distinct())).all())


async def forget(session: AsyncSession, workers: Iterable[str]) -> None:
    """Drop every lease of these workers (processes known to be gone)."""
    statement = delete(InboxLease).where(col(InboxLease.worker).in_(list(workers)))
    await session.exec(statement)
    await session.commit()


async def finish(session: AsyncSession, update_id: int, now: datetime) -> None:
    statement = (
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(status=InboxStatus.DONE, finished_at=now)
    )
    await session.exec(statement)
    await session.commit()


async def fail(
    session: AsyncSession, update_id: int, error: str, now: datetime, *, final: bool = False
) -> bool:
    """Count a failed attempt; `final` (it can never succeed) dead-letters it at once. A dead
    letter is told to its chat in the same transaction. Returns True when it is now dead."""
    row = await session.get(InboxUpdate, update_id)
    if row is None:
        return False
    row.attempts += 1
    row.last_error = error[:ERROR_LIMIT]
    if final or row.attempts >= MAX_ATTEMPTS:
        row.status, row.finished_at = InboxStatus.DEAD, now
        chat_id = chat_of(row.payload)
        if chat_id is not None:
            await outbox.enqueue(session, chat_id=chat_id, template="update.dead_letter", now=now)
    session.add(row)
    await session.commit()
    return row.status == InboxStatus.DEAD


# Dead letters, for the office -------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    update_id: int
    received_at: datetime
    attempts: int
    last_error: str
    kind: str | None  # "message", "callback_query", ... when the payload says
    chat_id: int | None


@dataclass(frozen=True)
class DeadLetters:
    newest: list[DeadLetter]
    total: int


async def dead_letters(session: AsyncSession, actor: Actor, limit: int = 10) -> DeadLetters:
    require_role(actor, Role.OFFICE)
    dead = col(InboxUpdate.status) == InboxStatus.DEAD
    rows = (
        await session.exec(
            select(InboxUpdate)
            .where(dead)
            .order_by(col(InboxUpdate.received_at).desc(), col(InboxUpdate.update_id).desc())
            .limit(limit)
        )
    ).all()
    total = (await session.exec(select(func.count()).select_from(InboxUpdate).where(dead))).one()
    newest = [
        DeadLetter(
            r.update_id, r.received_at, r.attempts, r.last_error, kind_of(r.payload), chat_of(r.payload)
        )
        for r in rows
    ]
    return DeadLetters(newest, int(total))


async def replay(session: AsyncSession, actor: Actor, update_id: int, now: datetime) -> bool:
    """Queue a dead letter again (after a fix), with a clean count of attempts. Its last error is
    kept as history until the next attempt overwrites it. Returns False when it is not a dead
    letter any more (replayed already, by this press or a colleague's): nothing changes then."""
    require_role(actor, Role.OFFICE)
    row = (
        await session.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id).with_for_update())
    ).first()
    if row is None or row.status != InboxStatus.DEAD:
        return False
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="inbox.replayed",
        subject=f"update:{update_id}",
        now=now,
        reason=row.last_error[:200],
        attempts=row.attempts,
        kind=kind_of(row.payload),
    )
    row.status, row.attempts, row.finished_at = InboxStatus.PENDING, 0, None
    session.add(row)
    await session.commit()
    return True
