"""Loading a nomination and moving it through its stages.

Every stage change goes through `move`, which applies the nomination's lifecycle (who, when, from
which stage, under which article), bumps the version and writes the history row, in the caller's
transaction."""

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, NominationMove
from services import campaigns, people
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party, apply
from services.lifecycles.nomination import NOMINATION, check_deadline
from services.rules.campaign_phases import Phase
from services.rules.nomination_flow import Stage


async def load(session: AsyncSession, nomination_id: int, *, lock: bool = False) -> Nomination:
    statement = select(Nomination).where(Nomination.id == nomination_id)
    nomination = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if nomination is None:
        raise DomainError("nomination.not_found")
    return nomination


async def own(session: AsyncSession, actor: Actor, nomination_id: int) -> Nomination:
    people.require_registered(actor)
    nomination = await load(session, nomination_id, lock=True)
    if nomination.applicant_id != actor.person_id:
        raise DomainError("nomination.not_yours")
    return nomination


async def move(
    session: AsyncSession,
    nomination: Nomination,
    target: Stage,
    party: Party,
    actor_id: int | None,
    now: datetime,
    *,
    reason: str = "",
    deadline: datetime | None = None,
    items: list[list[str]] | None = None,
    override: str = "",
    phase: Phase | None = None,
    **details: Any,
) -> None:
    """One move through the nomination's lifecycle, with its history row; the audit record cites
    the move's article. The caller holds the row lock; the update commits. A caller that has just
    checked the campaign's phase passes it, so it is not read twice."""
    current = Stage(nomination.stage) if nomination.stage else None
    action = NOMINATION.action_to(current, target)
    moving = NOMINATION.move(action)
    if phase is None and moving.phases:
        phase = await campaigns.phase_of(session, nomination.campaign_id, now)
    check_deadline(action, deadline, now)
    if items:
        details["items"] = items  # the audit keeps the ids and notes too
    await apply(
        session,
        NOMINATION,
        nomination,
        action,
        party=party,
        actor_id=actor_id,
        now=now,
        phase=phase,
        reason=reason,
        override=override,
        audit_action="nomination.moved",
        **details,
    )
    nomination.version, nomination.updated_at = nomination.version + 1, now
    session.add(
        NominationMove(
            nomination_id=nomination.id or 0,
            at=now,
            actor_id=actor_id,
            from_stage=current.value if current else "",
            to_stage=target.value,
            reason="" if items else reason,
            items=items,
        )
    )
