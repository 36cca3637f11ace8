"""Reviewers: vote, comment, step aside (回避), see what waits for them and read the dossier's files."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Ballot,
    Nomination,
    NominationMaterial,
    PanelSeat,
    Person,
    Recusal,
    ReviewRound,
    Role,
    RoundNomination,
)
from services import audit, outbox, people
from services.actors import Actor
from services.errors import DomainError
from services.reviews.common import (
    ARTICLE,
    load_round,
    nominee_name,
    round_ballots,
    round_items,
    round_panel,
    round_recusals,
)
from services.reviews.results import count_round
from services.rules import dossier, tally
from services.rules.tally import Choice, RoundState


async def recuse(
    session: AsyncSession,
    review_round: ReviewRound,
    nomination: Nomination,
    reviewer: Person,
    reason: str,
    automatic: bool,
    actor_id: int | None,
    now: datetime,
) -> None:
    session.add(
        Recusal(
            round_id=review_round.id or 0,
            nomination_id=nomination.id or 0,
            reviewer_id=reviewer.id or 0,
            automatic=automatic,
            reason=reason,
            at=now,
        )
    )
    await audit.append(
        session,
        actor_id=actor_id,
        action="review.recused",
        subject=f"round:{review_round.id}",
        now=now,
        reason=reason,
        nomination_id=nomination.id,
        reviewer_id=reviewer.id,
        automatic=automatic,
        article="第十六条第3项",
    )
    if automatic:
        await outbox.enqueue(
            session,
            person_id=reviewer.id,
            template="review.recused_notice",
            now=now,
            params={
                "id": nomination.id,
                "honour_key": f"honour.{nomination.honour}",
                "name": nominee_name(nomination),
                "why_key": f"review.recusal.{reason}",
            },
        )


@dataclass(frozen=True)
class VoteResult:
    nomination_id: int
    choice: str
    changed: bool
    voted: int  # this reviewer's progress in the round
    total: int
    closed: bool  # the vote completed the round, which was then counted
    same: bool = False  # the choice already cast, again (a double tap, a re-sent press): nothing was written


async def _may_vote(
    session: AsyncSession,
    actor: Actor,
    round_id: int,
    nomination_id: int,
    choice: str,
    now: datetime,
    *,
    lock: bool = True,
) -> tuple[ReviewRound, Choice]:
    people.require_registered(actor)
    review_round = await load_round(session, round_id, lock=lock)
    item = (
        await session.exec(
            select(RoundNomination).where(
                RoundNomination.round_id == round_id, RoundNomination.nomination_id == nomination_id
            )
        )
    ).first()
    if item is None:
        raise DomainError("review.not_in_round")
    on_panel = (
        await session.exec(
            select(PanelSeat).where(PanelSeat.round_id == round_id, PanelSeat.reviewer_id == actor.person_id)
        )
    ).first()
    recused = (
        await session.exec(
            select(Recusal).where(
                Recusal.round_id == round_id,
                Recusal.nomination_id == nomination_id,
                Recusal.reviewer_id == actor.person_id,
            )
        )
    ).first()
    valid = tally.check_vote(
        state=tally.RoundState(review_round.status),
        closes_at=review_round.closes_at,
        now=now,
        on_panel=on_panel is not None and actor.has(Role.REVIEWER),
        recused=recused is not None,
        choice=choice,
    )
    return review_round, valid


async def _mine(session: AsyncSession, round_id: int, nomination_id: int, reviewer_id: int) -> Ballot | None:
    return (
        await session.exec(
            select(Ballot).where(
                Ballot.round_id == round_id,
                Ballot.nomination_id == nomination_id,
                Ballot.reviewer_id == reviewer_id,
            )
        )
    ).first()


async def cast_vote(
    session: AsyncSession, actor: Actor, round_id: int, nomination_id: int, choice: str, now: datetime
) -> VoteResult:
    review_round, valid = await _may_vote(session, actor, round_id, nomination_id, choice, now)
    ballot = await _mine(session, round_id, nomination_id, actor.person_id or 0)
    changed = ballot is not None and ballot.choice != valid.value
    if ballot is None:
        ballot = Ballot(
            round_id=round_id,
            nomination_id=nomination_id,
            reviewer_id=actor.person_id or 0,
            choice=valid.value,
            cast_at=now,
            changed_at=now,
        )
        action = "review.vote_cast"
    elif changed:
        action = "review.vote_changed"
        ballot.changes += 1
        ballot.changed_at = now
    else:
        action = ""  # the same choice again (a double tap, a re-sent press): nothing changes
    before = ballot.choice
    ballot.choice = valid.value
    session.add(ballot)
    if action:
        await audit.append(
            session,
            actor_id=actor.person_id,
            action=action,
            subject=f"round:{round_id}",
            now=now,
            article=ARTICLE,
            nomination_id=nomination_id,
            choice=valid.value,
            before=before if changed else None,
        )
    await _flush_ballot(session)
    voted, total = await progress(session, round_id, actor.person_id or 0)
    closed = False
    if await _everyone_voted(session, round_id):
        await count_round(session, review_round, None, now, "everyone_voted")
        closed = True
    await session.commit()
    return VoteResult(nomination_id, valid.value, changed, voted, total, closed, same=not action)


async def _flush_ballot(session: AsyncSession) -> None:
    """The database refuses a ballot for a closed round (a trigger): say so, nothing is kept."""
    try:
        await session.flush()
    except (IntegrityError, DBAPIError) as error:
        await session.rollback()
        if "round closed" in str(error):
            raise DomainError("review.round_closed") from None
        raise


async def comment(
    session: AsyncSession, actor: Actor, round_id: int, nomination_id: int, text: str, now: datetime
) -> Ballot:
    """An optional comment on one's own ballot (vote first)."""
    await _may_vote(session, actor, round_id, nomination_id, Choice.ABSTAIN.value, now)
    ballot = await _mine(session, round_id, nomination_id, actor.person_id or 0)
    if ballot is None:
        raise DomainError("review.vote_first")
    ballot.comment = dossier.clean_text(text, 1000)
    ballot.changed_at = now
    session.add(ballot)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="review.commented",
        subject=f"round:{round_id}",
        now=now,
        nomination_id=nomination_id,
    )
    await _flush_ballot(session)
    await session.commit()
    return ballot


async def declare_recusal(
    session: AsyncSession, actor: Actor, round_id: int, nomination_id: int, reason: str, now: datetime
) -> None:
    """A reviewer steps aside from one nomination, with a reason; a vote already cast is withdrawn."""
    review_round, _ = await _may_vote(session, actor, round_id, nomination_id, Choice.ABSTAIN.value, now)
    reason = dossier.clean_text(reason, 500)
    ballot = await _mine(session, round_id, nomination_id, actor.person_id or 0)
    if ballot is not None:
        await session.delete(ballot)
    nomination = await session.get(Nomination, nomination_id)
    person = await session.get(Person, actor.person_id)
    assert nomination is not None and person is not None
    await recuse(session, review_round, nomination, person, reason, False, actor.person_id, now)
    if await _everyone_voted(session, round_id):
        await count_round(session, review_round, None, now, "everyone_voted")
    await session.commit()


async def progress(session: AsyncSession, round_id: int, reviewer_id: int) -> tuple[int, int]:
    """(voted, to vote on) for one reviewer in one round, leaving out nominations they are recused from."""
    items = {i.nomination_id for i in await round_items(session, round_id)}
    recused = {
        r.nomination_id for r in await round_recusals(session, round_id) if r.reviewer_id == reviewer_id
    }
    mine = {b.nomination_id for b in await round_ballots(session, round_id) if b.reviewer_id == reviewer_id}
    return len(mine & items - recused), len(items - recused)


async def _everyone_voted(session: AsyncSession, round_id: int) -> bool:
    panel = await round_panel(session, round_id)
    recusals = await round_recusals(session, round_id)
    ballots = await round_ballots(session, round_id)
    eligible = {
        i.nomination_id: len(panel) - sum(1 for r in recusals if r.nomination_id == i.nomination_id)
        for i in await round_items(session, round_id)
    }
    cast = {n: sum(1 for b in ballots if b.nomination_id == n and b.reviewer_id in panel) for n in eligible}
    return tally.everyone_voted(eligible, cast)


@dataclass(frozen=True)
class WaitingItem:
    round_id: int
    nomination: Nomination
    choice: str | None  # this reviewer's own vote so far
    recused: bool


@dataclass
class Waiting:
    items: list[WaitingItem] = field(default_factory=list)

    @property
    def voted(self) -> int:
        return sum(1 for i in self.items if i.choice and not i.recused)

    @property
    def total(self) -> int:
        return sum(1 for i in self.items if not i.recused)


async def waiting(session: AsyncSession, actor: Actor) -> Waiting:
    """/review: the open rounds this reviewer sits on, with their own votes only."""
    people.require_role(actor, Role.REVIEWER)
    rounds = (
        await session.exec(
            select(ReviewRound)
            .join(PanelSeat, col(PanelSeat.round_id) == ReviewRound.id)
            .where(PanelSeat.reviewer_id == actor.person_id, ReviewRound.status == RoundState.OPEN)
            .order_by(col(ReviewRound.id))
        )
    ).all()
    result = Waiting()
    for review_round in rounds:
        round_id = review_round.id or 0
        recused = {
            r.nomination_id
            for r in await round_recusals(session, round_id)
            if r.reviewer_id == actor.person_id
        }
        mine = {
            b.nomination_id: b.choice
            for b in await round_ballots(session, round_id)
            if b.reviewer_id == actor.person_id
        }
        for item in await round_items(session, round_id):
            nomination = await session.get(Nomination, item.nomination_id)
            assert nomination is not None
            result.items.append(
                WaitingItem(round_id, nomination, mine.get(item.nomination_id), item.nomination_id in recused)
            )
    return result


async def materials_for(
    session: AsyncSession, actor: Actor, round_id: int, nomination_id: int, now: datetime
) -> list[NominationMaterial]:
    """The dossier's files, for a reviewer who may vote on it (the handler sends them protected)."""
    await _may_vote(session, actor, round_id, nomination_id, Choice.ABSTAIN.value, now, lock=False)
    return list(
        (
            await session.exec(
                select(NominationMaterial)
                .where(
                    NominationMaterial.nomination_id == nomination_id,
                    col(NominationMaterial.removed_at).is_(None),
                )
                .order_by(col(NominationMaterial.id))
            )
        ).all()
    )
