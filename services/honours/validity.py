"""The sweep (第十七条第2项): reminders before an honour's three years end, and its expiry.

Reminders are not scheduler jobs: each honour carries `next_due_at`, the time it next needs the
sweep (a reminder or its expiry). One periodic job calls `sweep`, which reads only rows due now
through the index on that column, in batches, and moves each row's `next_due_at` forward in the
same transaction as the outbox rows it writes: a second or late sweep finds nothing left to send.
Which reminder goes out after downtime is decided in services.rules.honour_validity."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import ActionToken, Honour, OutboxMessage, OutboxStatus, Person
from services import audit, outbox, tokens
from services.honours.common import ARTICLE_VALIDITY, day, office_people, recommender_people
from services.lifecycles.core import Party, apply_many
from services.lifecycles.honour import HONOUR
from services.rules import honour_validity as validity
from services.rules.honour_validity import DEFAULT_REMINDER_DAYS

SWEEP_BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    expired: int
    messages: int


class _Queued:
    """A batch's outbox rows and action tokens, inserted with one executemany each. The same rows
    services.outbox.enqueue and services.tokens.issue would add, in the same transaction; building
    thousands of ORM objects one by one made the sweep several times slower."""

    def __init__(self, now: datetime) -> None:
        self.now, self.messages, self.tokens = now, list[dict[str, Any]](), list[dict[str, Any]]()

    def message(
        self,
        person_id: int,
        template: str,
        params: dict[str, Any],
        buttons: list[list[dict[str, Any]]] | None = None,
    ) -> None:
        self.messages.append(
            {
                "person_id": person_id,
                "template": template,
                "params": params,
                "buttons": buttons or [],
                "document_path": None,
                "protect": False,
                "broadcast_id": None,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "not_before": self.now,
                "created_at": self.now,
                "error": "",
            }
        )

    def token(self, person_id: int, action: str, **payload: Any) -> str:
        token = secrets.token_urlsafe(tokens.TOKEN_BYTES)
        self.tokens.append(
            {
                "token": token,
                "person_id": person_id,
                "action": action,
                "payload": payload,
                "created_at": self.now,
                "expires_at": None,
            }
        )
        return token

    async def flush(self, session: AsyncSession) -> None:
        connection = await session.connection()  # the session's own transaction
        if self.tokens:
            await connection.execute(insert(ActionToken), self.tokens)
        if self.messages:
            await connection.execute(insert(OutboxMessage), self.messages)


async def sweep(
    session: AsyncSession,
    now: datetime,
    *,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
    batch: int = SWEEP_BATCH,
) -> SweepReport:
    """Send the reminders that are due and expire honours past their end. Safe to run twice, late,
    or in several workers at once (PostgreSQL: rows are claimed with SKIP LOCKED). One transaction
    per batch: its honours move their `next_due_at` on together with the messages they caused."""
    days = validity.normalise_days(days)
    office = await office_people(session)
    bodies: dict[int | None, list[int]] = {}
    reminded = expired = messages = 0
    postgres = session.bind.dialect.name == "postgresql" if session.bind is not None else False
    while True:
        statement = (
            select(Honour)
            .where(col(Honour.next_due_at) <= now)
            .order_by(col(Honour.next_due_at))
            .limit(batch)
        )
        rows = (
            await session.exec(statement.with_for_update(skip_locked=True) if postgres else statement)
        ).all()
        if not rows:
            break
        holders = {
            p.id: p
            for p in (
                await session.exec(select(Person).where(col(Person.id).in_({h.holder_id for h in rows})))
            ).all()
        }
        queued = _Queued(now)
        sent: list[list[int]] = []
        lapsed: list[int] = []
        expiring: list[Honour] = []
        for honour in rows:
            step = validity.sweep_step(honour.status, honour.valid_until, honour.reminded_days, now, days)
            if honour.organisation_id not in bodies:
                bodies[honour.organisation_id] = await recommender_people(session, honour.organisation_id)
            holder = holders.get(honour.holder_id)
            reachable = [honour.holder_id] if holder is not None and holder.blocked_at is None else []
            concerned = list(dict.fromkeys([*reachable, *bodies[honour.organisation_id]]))
            params = {
                "number": honour.certificate_no,
                "honour_key": f"honour.{honour.honour}",
                "name": honour.holder_name,
                "until": day(honour.valid_until),
            }
            if step.expire:
                expired += 1
                lapsed.append(honour.id or 0)
                for person in dict.fromkeys([*concerned, *office]):
                    queued.message(person, "honour.expired_notice", params)
            elif step.remind_days is not None:
                reminded += 1
                sent.append([honour.id or 0, step.remind_days])
                for person in concerned:
                    start = queued.token(person, "honour.rereview", honour_id=honour.id)
                    queued.message(
                        person,
                        "honour.reminder",
                        {**params, "days": step.remind_days},
                        [[outbox.button("honour.start_rereview", start)]],
                    )
                for person in office:
                    if person not in concerned:
                        queued.message(person, "honour.reminder_office", {**params, "days": step.remind_days})
            if step.expire:
                expiring.append(honour)
            honour.reminded_days, honour.next_due_at = step.reminded, step.next_due_at
            session.add(honour)
        messages += len(queued.messages)
        await queued.flush(session)
        # One chained record per batch and kind (the sweep is the system acting, not a person):
        # which honours expired, and which reminder went to which honour.
        if expiring:
            await apply_many(
                session,
                HONOUR,
                expiring,
                "expire",
                party=Party.SYSTEM,
                actor_id=None,
                now=now,
                subject="honours",
                audit_action="honour.expired",
                honours=lapsed,
            )
        if sent:
            await audit.append(
                session,
                actor_id=None,
                action="honour.reminders_sent",
                subject="honours",
                now=now,
                article=ARTICLE_VALIDITY,
                sent=sent,
            )
        await session.commit()
        if len(rows) < batch:
            break
    return SweepReport(reminded, expired, messages)
