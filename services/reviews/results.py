"""The count and what the office reads: rounds, a round's report, closing early."""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, Person, ReviewRound, Role, RoundNomination
from services import audit, outbox, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party, apply
from services.lifecycles.review_round import ROUND
from services.nominations import stages
from services.reviews.common import (
    ARTICLE,
    holders,
    load_round,
    round_ballots,
    round_items,
    round_panel,
    round_recusals,
)
from services.rules import tally
from services.rules.nomination_flow import Stage
from services.rules.tally import Outcome, RoundState


@dataclass(frozen=True)
class ItemReport:
    nomination: Nomination
    count: tally.Count
    outcome: str | None  # set once the round is counted
    not_voted: list[str]  # names of reviewers who have not voted on it
    recusals: list[tuple[str, str]]  # (reviewer name, reason)
    comments: list[tuple[str, str]]  # (reviewer name or "", comment): attributed only in an open ballot


@dataclass(frozen=True)
class RoundReport:
    round: ReviewRound
    items: list[ItemReport]
    panel: int

    @property
    def quorum(self) -> str:
        return f"{self.round.quorum_num}/{self.round.quorum_den}"

    @property
    def passing(self) -> str:
        return f"{self.round.pass_num}/{self.round.pass_den}"


async def rounds(session: AsyncSession, actor: Actor) -> list[ReviewRound]:
    people.require_role(actor, Role.OFFICE)
    return list(
        (await session.exec(select(ReviewRound).order_by(col(ReviewRound.id).desc()).limit(10))).all()
    )


async def report(session: AsyncSession, actor: Actor, round_id: int) -> RoundReport:
    people.require_role(actor, Role.OFFICE)
    return await _report(session, await load_round(session, round_id))


def _fractions(review_round: ReviewRound) -> tuple[Fraction, Fraction]:
    return (
        Fraction(review_round.quorum_num, review_round.quorum_den),
        Fraction(review_round.pass_num, review_round.pass_den),
    )


async def _report(session: AsyncSession, review_round: ReviewRound) -> RoundReport:
    round_id = review_round.id or 0
    panel = await round_panel(session, round_id)
    names = {
        p.id: p.name for p in (await session.exec(select(Person).where(col(Person.id).in_(panel)))).all()
    }
    recusals, ballots = await round_recusals(session, round_id), await round_ballots(session, round_id)
    quorum, passing = _fractions(review_round)
    items = []
    for item in await round_items(session, round_id):
        nomination = await session.get(Nomination, item.nomination_id)
        assert nomination is not None
        out = {r.reviewer_id: r.reason for r in recusals if r.nomination_id == item.nomination_id}
        votes = [
            b
            for b in ballots
            if b.nomination_id == item.nomination_id and b.reviewer_id in panel and b.reviewer_id not in out
        ]
        count = tally.count(
            [b.choice for b in votes], panel=len(panel), recused=len(out), quorum=quorum, passing=passing
        )
        voted = {b.reviewer_id for b in votes}
        comments = [
            (names.get(b.reviewer_id, "") if review_round.open_ballot else "", b.comment)
            for b in votes
            if b.comment
        ]
        items.append(
            ItemReport(
                nomination,
                count,
                item.outcome,
                [names.get(p, "") for p in panel if p not in voted and p not in out],
                [(names.get(p, ""), reason) for p, reason in out.items()],
                comments,
            )
        )
    return RoundReport(review_round, items, len(panel))


async def close_early(session: AsyncSession, actor: Actor, round_id: int, now: datetime) -> RoundReport:
    people.require_role(actor, Role.OFFICE)
    review_round = await load_round(session, round_id, lock=True)
    if review_round.status != RoundState.OPEN:
        raise DomainError("review.round_closed")
    await count_round(session, review_round, actor.person_id, now, "closed_by_office")
    await session.commit()
    return await _report(session, review_round)


async def count_round(
    session: AsyncSession, review_round: ReviewRound, actor_id: int | None, now: datetime, why: str
) -> None:
    """Count every nomination of the round, move it, close the round, tell the office."""
    result = await _report(session, review_round)
    for item in result.items:
        row = (
            await session.exec(
                select(RoundNomination).where(
                    RoundNomination.round_id == review_round.id,
                    RoundNomination.nomination_id == item.nomination.id,
                )
            )
        ).one()
        outcome = item.count.outcome
        row.outcome, row.counts = outcome.value, item.count.as_dict()
        session.add(row)
        details: dict[str, Any] = {
            "round_id": review_round.id,
            **item.count.as_dict(),
            "quorum": result.quorum,
            "passing": result.passing,
        }
        if outcome == Outcome.NO_QUORUM:
            await audit.append(
                session,
                actor_id=actor_id,
                action="review.no_quorum",
                subject=f"nomination:{item.nomination.id}",
                now=now,
                article=ARTICLE,
                **details,
            )
            continue
        target = Stage.SHORTLISTED if outcome == Outcome.PASSED else Stage.NOT_SELECTED
        await stages.move(session, item.nomination, target, Party.COMMITTEE, actor_id, now, **details)
    review_round.closed_at = now
    await apply(
        session,
        ROUND,
        review_round,
        "close_early" if why == "closed_by_office" else "close",
        party=Party.OFFICE if why == "closed_by_office" else Party.SYSTEM,
        actor_id=actor_id,
        now=now,
        phase=None,
        subject=f"round:{review_round.id}",
        reason=why,  # closing_time, everyone_voted or closed_by_office
        audit_action="review.round_closed",
        outcomes={str(i.nomination.id): i.count.outcome.value for i in result.items},
    )
    for member in await holders(session, Role.OFFICE):
        result_token = await tokens.issue(
            session, person_id=member.id, action="review.result", now=now, round_id=review_round.id
        )
        await outbox.enqueue(
            session,
            person_id=member.id,
            template="review.closed_notice",
            now=now,
            params={
                "round": review_round.id,
                "why_key": f"review.closed_why.{why}",
                "passed": sum(i.count.outcome == Outcome.PASSED for i in result.items),
                "not_passed": sum(i.count.outcome == Outcome.NOT_PASSED for i in result.items),
                "no_quorum": sum(i.count.outcome == Outcome.NO_QUORUM for i in result.items),
            },
            buttons=[[outbox.button("review.show_result", result_token)]],
        )
