"""A card's or a unit's report, and the office's view of ratings flagged as staged."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import CardRating, EvaluationCard, Role
from services import people
from services.actors import Actor
from services.cards.owner import viewable
from services.errors import DomainError
from services.rules import satisfaction

SHOWN_COMMENTS = 8


@dataclass(frozen=True)
class CardReport:
    scope: str  # card | unit
    title: str  # the subject's name, or the unit
    unit: str
    cards: int
    since: date | None
    until: date | None
    summary: satisfaction.Summary
    flagged: dict[int, set[str]]
    flag_counts: dict[str, int]
    index_unflagged: float | None
    comments: list[str] = field(default_factory=list)
    generated_at: datetime | None = None


def _answer(row: CardRating) -> satisfaction.Answer:
    return satisfaction.Answer(
        id=row.id or 0,
        card_id=row.card_id,
        at=row.rated_at,
        overall=row.overall,
        aspects=(row.attitude, row.skill, row.efficiency, row.promise),
        recommend=row.recommend,
        comment=row.comment,
        new_rater=row.new_rater,
    )


async def report(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    card_id: int | None = None,
    unit: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> CardReport:
    """A card's report (its owner or the office), or a unit's: the office sees every card of the
    unit, an owner their own cards of it. `since`/`until` are local dates, both included."""
    if card_id is not None:
        card = await viewable(session, actor, card_id)
        cards, scope, title, unit_name = [card], "card", card.subject_name, card.unit
    else:
        people.require_registered(actor)
        statement = select(EvaluationCard).where(EvaluationCard.unit == (unit or ""))
        if not actor.has(Role.OFFICE):
            statement = statement.where(EvaluationCard.owner_id == actor.person_id)
        cards = list((await session.exec(statement)).all())
        if not cards:
            raise DomainError("card.no_cards_of_unit")
        scope, title, unit_name = "unit", cards[0].unit, cards[0].unit
    if since and until and since > until:
        raise DomainError("card.bad_range")
    rows = list(
        (
            await session.exec(
                select(CardRating)
                .where(col(CardRating.card_id).in_([c.id for c in cards]))
                .order_by(col(CardRating.rated_at))
            )
        ).all()
    )
    rows = [
        r for r in rows if (since is None or r.rated_on >= since) and (until is None or r.rated_on <= until)
    ]
    answers = [_answer(r) for r in rows]
    raised = satisfaction.flags(answers)
    unflagged = [a for a in answers if a.id not in raised]
    visible = [r.comment for r in reversed(rows) if r.comment and r.comment_status in ("shown", "released")]
    return CardReport(
        scope=scope,
        title=title,
        unit=unit_name,
        cards=len(cards),
        since=since,
        until=until,
        summary=satisfaction.summarise(answers),
        flagged=raised,
        flag_counts=satisfaction.flag_counts(raised),
        index_unflagged=satisfaction.summarise(unflagged).index if raised else None,
        comments=visible[:SHOWN_COMMENTS],
        generated_at=now,
    )


async def flagged_cards(
    session: AsyncSession, actor: Actor
) -> list[tuple[EvaluationCard, int, dict[str, int]]]:
    """The office's view: every card with flagged ratings, how many, and which flags."""
    people.require_role(actor, Role.OFFICE)
    rows = list((await session.exec(select(CardRating))).all())
    raised = satisfaction.flags([_answer(r) for r in rows])
    per_card: dict[int, dict[int, set[str]]] = {}
    for row in rows:
        if row.id in raised:
            per_card.setdefault(row.card_id, {})[row.id or 0] = raised[row.id or 0]
    result = []
    for card_id, found in sorted(per_card.items()):
        card = await session.get(EvaluationCard, card_id)
        if card is not None:
            result.append((card, len(found), satisfaction.flag_counts(found)))
    return result
