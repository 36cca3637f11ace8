"""Loading a nomination and moving it through its stages.

Every stage change goes through `move`, which checks the one transition table, locks the row,
bumps its version, writes the history row and the audit record, in the caller's transaction."""

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, NominationMove
from services import audit, people
from services.actors import Actor
from services.errors import DomainError
from services.rules.nomination_flow import Mover, Stage, check_move


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
    mover: Mover,
    actor_id: int | None,
    now: datetime,
    *,
    reason: str = "",
    deadline: datetime | None = None,
    article: str = "第十六条第1项",
    **details: object,
) -> None:
    """One move through the transition table, with its history row and an audit record citing the
    article the move comes from. The caller holds the row lock and commits."""
    current = Stage(nomination.stage)
    check_move(current, target, mover, reason=reason, deadline=deadline, now=now)
    nomination.stage, nomination.version, nomination.updated_at = target.value, nomination.version + 1, now
    session.add(nomination)
    session.add(
        NominationMove(
            nomination_id=nomination.id or 0,
            at=now,
            actor_id=actor_id,
            from_stage=current.value,
            to_stage=target.value,
            reason=reason,
        )
    )
    await audit.append(
        session,
        actor_id=actor_id,
        action="nomination.moved",
        subject=f"nomination:{nomination.id}",
        now=now,
        reason=reason,
        from_stage=current.value,
        to_stage=target.value,
        mover=mover.value,
        article=article,
        **details,
    )
