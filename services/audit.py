"""The append-only audit log. Each record carries the hash of the one before it, so editing or
deleting any record breaks the chain from that point on, and `verify_chain` names where."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import AuditHead, AuditRecord

GENESIS = "0" * 64


def record_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    subject: str,
    reason: str,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        [prev_hash, seq, at.isoformat(), actor_id, action, subject, reason, details],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def append(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    subject: str,
    now: datetime,
    reason: str = "",
    **details: Any,
) -> AuditRecord:
    """Add one record to the caller's transaction (the caller commits it with the decision)."""
    # The head row is made by a migration: created here on first use, two first actions raced.
    head = (await session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update())).one()
    details = json.loads(json.dumps(details, ensure_ascii=False, default=str))  # as it will read back
    seq = head.seq + 1
    digest = record_hash(head.hash, seq, now, actor_id, action, subject, reason, details)
    record = AuditRecord(
        seq=seq,
        at=now,
        actor_id=actor_id,
        action=action,
        subject=subject,
        reason=reason,
        details=details,
        prev_hash=head.hash,
        hash=digest,
    )
    head.seq, head.hash = seq, digest
    session.add(record)
    await session.flush()
    return record


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: int | None  # seq of the first record that does not verify
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


async def verify_chain(session: AsyncSession, batch: int = 5000) -> ChainReport:
    prev, expected_seq, checked = GENESIS, 1, 0
    while True:
        rows = (
            await session.exec(
                select(AuditRecord)
                .where(AuditRecord.seq >= expected_seq)
                .order_by(col(AuditRecord.seq))
                .limit(batch)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(checked, expected_seq, "missing record")
            if row.prev_hash != prev:
                return ChainReport(checked, row.seq, "does not follow the record before it")
            digest = record_hash(
                row.prev_hash, row.seq, row.at, row.actor_id, row.action, row.subject, row.reason, row.details
            )
            if digest != row.hash:
                return ChainReport(checked, row.seq, "content does not match its hash")
            prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = (await session.exec(select(AuditHead).where(AuditHead.id == 1))).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(
            checked, checked + 1 if head.seq > checked else checked, "records missing at the end"
        )
    return ChainReport(checked, None)
