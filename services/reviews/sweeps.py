"""Reminders to reviewers who have not voted, now or when due, and rounds counted at their closing time."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Person, ReviewReminder, ReviewRound, Role
from services import audit, outbox, people
from services.actors import Actor
from services.errors import DomainError
from services.local_time import minute_text
from services.reviews.common import load_round, round_panel
from services.reviews.results import count_round
from services.reviews.voting import progress
from services.rules import tally
from services.rules.tally import RoundState


async def _non_voters(session: AsyncSession, round_id: int) -> list[Person]:
    people_ = []
    for reviewer_id in await round_panel(session, round_id):
        voted, total = await progress(session, round_id, reviewer_id)
        person = await session.get(Person, reviewer_id)
        if voted < total and person is not None and person.blocked_at is None:
            people_.append(person)
    return people_


async def _remind(session: AsyncSession, review_round: ReviewRound, person: Person, now: datetime) -> None:
    voted, total = await progress(session, review_round.id or 0, person.id or 0)
    await outbox.enqueue(
        session,
        person_id=person.id,
        template="review.reminder",
        now=now,
        params={
            "round": review_round.id,
            "voted": voted,
            "total": total,
            "closes": minute_text(review_round.closes_at),
        },
    )


async def remind_now(session: AsyncSession, actor: Actor, round_id: int, now: datetime) -> int:
    """The office reminds every reviewer who has not finished voting, now."""
    people.require_role(actor, Role.OFFICE)
    review_round = await load_round(session, round_id)
    if review_round.status != RoundState.OPEN:
        raise DomainError("review.round_closed")
    late = await _non_voters(session, round_id)
    for person in late:
        await _remind(session, review_round, person, now)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="review.reminded",
        subject=f"round:{round_id}",
        now=now,
        reviewers=[p.id for p in late],
    )
    await session.commit()
    return len(late)


async def sweep(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """The periodic job: send reminders that fell due, count rounds whose time has come.
    Safe to run twice or late: each reminder row is claimed by a conditional update before anything
    is queued; after downtime a reviewer gets one reminder, not every one that fell due, and none
    once the closing time has passed (the round is counted instead)."""
    reminded = 0
    due = (
        await session.exec(
            select(ReviewReminder)
            .where(col(ReviewReminder.sent_at).is_(None), col(ReviewReminder.due_at) <= now)
            .order_by(col(ReviewReminder.id))
        )
    ).all()
    chosen: dict[tuple[int, int], ReviewReminder] = {}
    for reminder in due:
        claimed = await session.exec(
            update(ReviewReminder)
            .where(col(ReviewReminder.id) == reminder.id, col(ReviewReminder.sent_at).is_(None))
            .values(sent_at=now)
        )
        if claimed.rowcount:
            chosen[(reminder.round_id, reminder.reviewer_id)] = reminder
    for round_id, reviewer_id in chosen:
        review_round = await load_round(session, round_id)
        person = await session.get(Person, reviewer_id)
        if (
            review_round.status != RoundState.OPEN
            or now >= review_round.closes_at
            or person is None
            or person.blocked_at is not None
        ):
            continue
        voted, total = await progress(session, round_id, reviewer_id)
        if voted < total:
            await _remind(session, review_round, person, now)
            reminded += 1
    await session.commit()
    closed = 0
    for review_round in (
        await session.exec(
            select(ReviewRound).where(
                ReviewRound.status == RoundState.OPEN, col(ReviewRound.closes_at) <= now
            )
        )
    ).all():
        locked = await load_round(session, review_round.id or 0, lock=True)
        if tally.due_to_close(locked.closes_at, tally.RoundState(locked.status), now):
            await count_round(session, locked, None, now, "closing_time")
            closed += 1
        await session.commit()
    return reminded, closed
