"""The owner's cards: made for themself, their team or their staff, listed, shown, paused, closed."""

import secrets
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import CardRating, EvaluationCard, Role
from services import audit, campaigns, people
from services.actors import Actor
from services.cards.common import ACTIVE, ARTICLE, CLOSED, PAUSED
from services.errors import DomainError
from services.rules import satisfaction

TOKEN_BYTES = 18  # 24 url-safe characters: short enough for a deep link (64) or a QR code
KINDS = ("person", "team")
NAME_LIMIT = 60
# Where a status may go from where (closed is final: its link stops working for good).
MOVES = {ACTIVE: {PAUSED, CLOSED}, PAUSED: {ACTIVE, CLOSED}, CLOSED: set()}


def _clean_name(raw: str) -> str:
    text = satisfaction.clean_text(raw, NAME_LIMIT + 1)
    if not text:
        raise DomainError("card.name_empty")
    if len(text) > NAME_LIMIT:
        raise DomainError("card.name_too_long", limit=NAME_LIMIT)
    return text


async def create(
    session: AsyncSession, actor: Actor, *, kind: str, subject_name: str, unit: str, now: datetime
) -> EvaluationCard:
    """An applicant's card for themself or their team, or an enterprise's card for its staff."""
    people.require_registered(actor)
    if kind not in KINDS:
        raise DomainError("card.bad_kind")
    campaign = await campaigns.current(session, now)
    if campaign is None:
        raise DomainError("campaign.none_open")
    card = EvaluationCard(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        campaign_id=campaign.campaign.id or 0,
        owner_id=actor.person_id or 0,
        subject_kind=kind,
        subject_name=_clean_name(subject_name),
        unit=_clean_name(unit),
        status=ACTIVE,
        created_at=now,
        status_changed_at=now,
    )
    session.add(card)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="card.created",
        subject=f"card:{card.id}",
        now=now,
        article=ARTICLE,
        kind=kind,
        subject_name=card.subject_name,
        unit=card.unit,
    )
    await session.commit()
    return card


async def owned(session: AsyncSession, actor: Actor) -> list[EvaluationCard]:
    people.require_registered(actor)
    return list(
        (
            await session.exec(
                select(EvaluationCard)
                .where(EvaluationCard.owner_id == actor.person_id)
                .order_by(col(EvaluationCard.id))
            )
        ).all()
    )


async def viewable(session: AsyncSession, actor: Actor, card_id: int) -> EvaluationCard:
    """A card its owner (or the office) may look at."""
    people.require_registered(actor)
    card = await session.get(EvaluationCard, card_id)
    if card is None or (card.owner_id != actor.person_id and not actor.has(Role.OFFICE)):
        raise DomainError("card.not_yours")
    return card


async def set_status(
    session: AsyncSession, actor: Actor, card_id: int, status: str, now: datetime
) -> EvaluationCard:
    people.require_registered(actor)
    card = (
        await session.exec(select(EvaluationCard).where(EvaluationCard.id == card_id).with_for_update())
    ).first()
    if card is None or card.owner_id != actor.person_id:
        raise DomainError("card.not_yours")
    if status == card.status:
        return card  # a repeated press changes nothing
    if status not in MOVES.get(card.status, set()):
        raise DomainError("card.cannot_move", status_key=f"cards.status.{card.status}")
    previous, card.status, card.status_changed_at = card.status, status, now
    session.add(card)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="card.status",
        subject=f"card:{card.id}",
        now=now,
        article=ARTICLE,
        from_status=previous,
        to_status=status,
    )
    await session.commit()
    return card


async def rating_count(session: AsyncSession, card_id: int) -> int:
    return len((await session.exec(select(CardRating.id).where(CardRating.card_id == card_id))).all())
