"""Revocation (第十七条第2项): the office revokes an honour, with a reason."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Honour, Role
from services import people
from services.actors import Actor
from services.errors import DomainError
from services.honours.common import by_number, load, tell_holder_and_body
from services.lifecycles.core import Party, apply
from services.lifecycles.honour import HONOUR
from services.rules import honour_validity as validity
from services.rules.dossier import clean_text


async def revocable(session: AsyncSession, actor: Actor, raw: str, now: datetime) -> Honour:
    people.require_role(actor, Role.OFFICE)
    honour = await by_number(session, raw)
    _require_revocable(honour, now)
    return honour


def _require_revocable(honour: Honour, now: datetime) -> None:
    status = validity.status_at(honour.status, honour.valid_until, now)
    if not validity.revocable(status):
        raise DomainError(
            "honour.not_revocable", number=honour.certificate_no, status_key=f"honour.status.{status}"
        )


async def revoke(
    session: AsyncSession,
    actor: Actor,
    honour_id: int,
    reason: str,
    now: datetime,
    document_sha256: str | None = None,
) -> Honour:
    people.require_role(actor, Role.OFFICE)
    honour = await load(session, honour_id, lock=True)
    _require_revocable(honour, now)
    reason = clean_text(reason, 1000)
    honour.revoked_at, honour.revoked_by = now, actor.person_id
    honour.revoke_reason, honour.revoke_document_sha256, honour.next_due_at = reason, document_sha256, None
    await apply(
        session,
        HONOUR,
        honour,
        "revoke",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        reason=reason,
        audit_action="honour.revoked",
        number=honour.certificate_no,
        document=document_sha256,
    )
    await tell_holder_and_body(session, honour, "honour.revoked_notice", now, reason=reason)
    await session.commit()
    return honour
