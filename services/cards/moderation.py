"""The office rules on comments the word filter held."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import CardRating, EvaluationCard, Role
from services import audit, people
from services.actors import Actor
from services.cards.common import ARTICLE
from services.errors import DomainError


async def held_comments(session: AsyncSession, actor: Actor) -> list[tuple[CardRating, EvaluationCard]]:
    people.require_role(actor, Role.OFFICE)
    rows = await session.exec(
        select(CardRating, EvaluationCard)
        .join(EvaluationCard, col(EvaluationCard.id) == CardRating.card_id)
        .where(CardRating.comment_status == "held")
        .order_by(col(CardRating.id))
    )
    return [(rating, card) for rating, card in rows.all()]


async def rule_comment(
    session: AsyncSession, actor: Actor, rating_id: int, release: bool, now: datetime
) -> CardRating:
    people.require_role(actor, Role.OFFICE)
    rating = (
        await session.exec(select(CardRating).where(CardRating.id == rating_id).with_for_update())
    ).first()
    if rating is None:
        raise DomainError("card.no_such_comment")
    if rating.comment_status != "held":
        return rating  # already decided: a second press changes nothing
    rating.comment_status, rating.comment_ruled_by = ("released" if release else "rejected"), actor.person_id
    session.add(rating)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="card.comment_ruled",
        subject=f"card:{rating.card_id}",
        now=now,
        article=ARTICLE,
        rating=rating.id,
        decision=rating.comment_status,
        reason="word filter",
    )
    await session.commit()
    return rating
