"""The customer's rating through a card's link, anonymous, and the comment filter.

A customer is not registered and gives no personal data: a rating is tied only to an HMAC of the
Telegram id (its key is random and kept in the database), which is enough for "one rating per
customer, card and 30 days" and cannot be turned back into the id."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import TELEGRAM, CardRater, CardRating, CardSecret, EvaluationCard, Person, Role, RoleAssignment
from services import audit, campaigns, outbox, people
from services.actors import Address
from services.cards.common import ARTICLE, CLOSED, PAUSED
from services.errors import DomainError
from services.local_time import day_of
from services.rules import satisfaction

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,40}")
RATE_AGAIN_AFTER = timedelta(days=30)
COMMENT_LIMIT = 500


# The rater hash ------------------------------------------------------------------------------------


async def _secret(session: AsyncSession) -> bytes:
    row = await session.get(CardSecret, 1)
    if row is None:
        # Made once, with the use case that needs it; a concurrent first maker wins and we re-read.
        try:
            async with session.begin_nested():
                session.add(CardSecret(id=1, key=secrets.token_hex(32)))
        except IntegrityError:
            pass
        row = await session.get(CardSecret, 1)
        assert row is not None
    return bytes.fromhex(row.key)


async def rater_hash(session: AsyncSession, rater: Address) -> str:
    # Telegram's ids are hashed bare, as before there were other channels, so earlier ratings count.
    key = rater.id if rater.channel == TELEGRAM else f"{rater.channel}:{rater.id}"
    return hmac.new(await _secret(session), key.encode(), hashlib.sha256).hexdigest()


# The customer's rating ----------------------------------------------------------------------------


async def _rateable(
    session: AsyncSession, card: EvaluationCard | None, rater: Person | None, raters_hash: str, now: datetime
) -> EvaluationCard:
    if card is None:
        raise DomainError("card.unknown")
    if card.status == CLOSED:
        raise DomainError("card.closed")
    if card.status == PAUSED:
        raise DomainError("card.paused")
    campaign = await campaigns.current(session, now)
    if campaign is None or campaign.campaign.id != card.campaign_id:
        raise DomainError("card.stale")
    if rater is not None and rater.id == card.owner_id:
        raise DomainError("card.own")
    last = (
        await session.exec(
            select(CardRating)
            .where(
                CardRating.card_id == card.id,
                CardRating.rater_hash == raters_hash,
                col(CardRating.rated_at) > now - RATE_AGAIN_AFTER,
            )
            .order_by(col(CardRating.rated_at).desc())
            .limit(1)
        )
    ).first()
    if last is not None:
        raise DomainError("card.rated_recently", date=day_of(last.rated_at + RATE_AGAIN_AFTER).isoformat())
    return card


async def open_for_rating(session: AsyncSession, rater: Address, token: str, now: datetime) -> EvaluationCard:
    """The customer opened the card's link: check it may be rated, and note when we first saw them."""
    card = None
    if TOKEN_SHAPE.fullmatch(token):
        card = (await session.exec(select(EvaluationCard).where(EvaluationCard.token == token))).first()
    digest = await rater_hash(session, rater)
    person = (await session.exec(people.at(rater))).first()
    card = await _rateable(session, card, person, digest, now)
    if await session.get(CardRater, digest) is None:
        first = min(now, person.consent_at) if person is not None else now
        session.add(CardRater(rater_hash=digest, first_seen_at=first))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # seen by a concurrent update a moment ago: that time stands
    return card


@cache
def blocked_words() -> tuple[str, ...]:
    path = Path(__file__).parents[1] / "catalogue" / "blocked_words.txt"
    words = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(
        n for n in (satisfaction.normalise_comment(w) for w in words if w and not w.startswith("#")) if n
    )


def is_abusive(text: str) -> bool:
    folded = satisfaction.normalise_comment(text)
    return any(word in folded for word in blocked_words())


@dataclass(frozen=True)
class Answers:
    overall: int
    aspects: tuple[int, int, int, int]
    recommend: int

    def check(self) -> None:
        levels = range(len(satisfaction.LEVELS))
        if self.overall not in levels or len(self.aspects) != 4 or any(a not in levels for a in self.aspects):
            raise DomainError("card.bad_answer")
        if not 0 <= self.recommend <= 10:
            raise DomainError("card.bad_answer")


async def rate(
    session: AsyncSession, rater: Address, card_id: int, answers: Answers, comment: str, now: datetime
) -> CardRating:
    """Save a complete rating, once. Everything is checked again: the card may have been closed, or
    the same customer may have finished on another device, since the link was opened."""
    answers.check()
    digest = await rater_hash(session, rater)
    person = (await session.exec(people.at(rater))).first()
    card = await _rateable(session, await session.get(EvaluationCard, card_id), person, digest, now)
    text = satisfaction.clean_text(comment, COMMENT_LIMIT)
    status = "none" if not text else ("held" if is_abusive(text) else "shown")
    seen = await session.get(CardRater, digest)
    first_seen = seen.first_seen_at if seen is not None else now
    rating = CardRating(
        card_id=card.id or 0,
        rater_hash=digest,
        rated_at=now,
        rated_on=day_of(now),
        overall=answers.overall,
        attitude=answers.aspects[0],
        skill=answers.aspects[1],
        efficiency=answers.aspects[2],
        promise=answers.aspects[3],
        recommend=answers.recommend,
        comment=text,
        comment_status=status,
        new_rater=day_of(first_seen) == day_of(now),
    )
    session.add(rating)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise DomainError("card.rated_recently", date=day_of(now + RATE_AGAIN_AFTER).isoformat()) from None
    await audit.append(
        session,
        actor_id=None,
        action="card.rated",
        subject=f"card:{card.id}",
        now=now,
        article=ARTICLE,
        rating=rating.id,
        comment_status=status,
        new_rater=rating.new_rater,
    )
    if status == "held":
        for office in await _office_people(session):
            await outbox.notify_person(
                session,
                office,
                "cards.comment_held_notice",
                now,
                params={"card": card.id, "name": card.subject_name},
            )
    await session.commit()
    return rating


async def _office_people(session: AsyncSession) -> list[int]:
    return list(
        (
            await session.exec(
                select(RoleAssignment.person_id).where(
                    RoleAssignment.role == Role.OFFICE, col(RoleAssignment.revoked_at).is_(None)
                )
            )
        ).all()
    )
