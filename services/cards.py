"""Customer evaluation cards (第十条; 第十二条第6项 and 第十三条第6项 ask for service "praised by
customers"): cards, the customer's anonymous rating, the comment filter, the report, and its
attachment to a nomination as supporting evidence.

A customer is not registered and gives no personal data: a rating is tied only to an HMAC of the
Telegram id (its key is random and kept in the database), which is enough for "one rating per
customer, card and 30 days" and cannot be turned back into the id."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    CardRater,
    CardRating,
    CardSecret,
    EvaluationCard,
    Nomination,
    NominationMaterial,
    Person,
    Role,
    RoleAssignment,
)
from services import audit, campaigns, nominations, outbox, people
from services.actors import Actor
from services.errors import DomainError
from services.files import FileStore
from services.rules import satisfaction
from services.rules.nomination_flow import Stage, editable

LINK_PREFIX = "c-"  # /start c-<token>
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,40}")
TOKEN_BYTES = 18  # 24 url-safe characters: "c-" + token is 26 of the 64 a deep link allows
RATE_AGAIN_AFTER = timedelta(days=30)
ACTIVE, PAUSED, CLOSED = "active", "paused", "closed"
KINDS = ("person", "team")
NAME_LIMIT = 60
COMMENT_LIMIT = 500
EVIDENCE_SLOT = "evaluation_cards"  # 用户（顾客）评价卡汇总结果 in the checklist of 第十二条/第十三条第6项
ZONE = ZoneInfo("Asia/Shanghai")
ARTICLE = "第十条"
SHOWN_COMMENTS = 8
# Where a status may go from where (closed is final: its link stops working for good).
MOVES = {ACTIVE: {PAUSED, CLOSED}, PAUSED: {ACTIVE, CLOSED}, CLOSED: set()}


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


# The rater hash ------------------------------------------------------------------------------------


async def _secret(session: AsyncSession) -> bytes:
    row = await session.get(CardSecret, 1)
    if row is None:
        # Made once, in its own short transaction; a concurrent first maker wins and we re-read.
        session.add(CardSecret(id=1, key=secrets.token_hex(32)))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        row = await session.get(CardSecret, 1)
        assert row is not None
    return bytes.fromhex(row.key)


async def rater_hash(session: AsyncSession, telegram_id: int) -> str:
    return hmac.new(await _secret(session), str(telegram_id).encode(), hashlib.sha256).hexdigest()


# Cards ---------------------------------------------------------------------------------------------


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


def link_payload(card: EvaluationCard) -> str:
    return f"{LINK_PREFIX}{card.token}"


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


# The customer's rating ----------------------------------------------------------------------------


async def _rateable(
    session: AsyncSession, card: EvaluationCard | None, telegram_id: int, raters_hash: str, now: datetime
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
    owner = await session.get(Person, card.owner_id)
    if owner is not None and owner.telegram_id == telegram_id:
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
        raise DomainError("card.rated_recently", date=local_day(last.rated_at + RATE_AGAIN_AFTER).isoformat())
    return card


async def open_for_rating(
    session: AsyncSession, telegram_id: int, token: str, now: datetime
) -> EvaluationCard:
    """The customer opened the card's link: check it may be rated, and note when we first saw them."""
    card = None
    if TOKEN_SHAPE.fullmatch(token):
        card = (await session.exec(select(EvaluationCard).where(EvaluationCard.token == token))).first()
    digest = await rater_hash(session, telegram_id)
    card = await _rateable(session, card, telegram_id, digest, now)
    if await session.get(CardRater, digest) is None:
        person = (await session.exec(select(Person).where(Person.telegram_id == telegram_id))).first()
        first = min(now, person.consent_at) if person is not None else now
        session.add(CardRater(rater_hash=digest, first_seen_at=first))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # seen by a concurrent update a moment ago: that time stands
    return card


@cache
def blocked_words() -> tuple[str, ...]:
    path = Path(__file__).parent / "catalogue" / "blocked_words.txt"
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
    session: AsyncSession, telegram_id: int, card_id: int, answers: Answers, comment: str, now: datetime
) -> CardRating:
    """Save a complete rating, once. Everything is checked again: the card may have been closed, or
    the same customer may have finished on another device, since the link was opened."""
    answers.check()
    digest = await rater_hash(session, telegram_id)
    card = await _rateable(session, await session.get(EvaluationCard, card_id), telegram_id, digest, now)
    text = satisfaction.clean_text(comment, COMMENT_LIMIT)
    status = "none" if not text else ("held" if is_abusive(text) else "shown")
    seen = await session.get(CardRater, digest)
    first_seen = seen.first_seen_at if seen is not None else now
    rating = CardRating(
        card_id=card.id or 0,
        rater_hash=digest,
        rated_at=now,
        rated_on=local_day(now),
        overall=answers.overall,
        attitude=answers.aspects[0],
        skill=answers.aspects[1],
        efficiency=answers.aspects[2],
        promise=answers.aspects[3],
        recommend=answers.recommend,
        comment=text,
        comment_status=status,
        new_rater=local_day(first_seen) == local_day(now),
    )
    session.add(rating)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise DomainError("card.rated_recently", date=local_day(now + RATE_AGAIN_AFTER).isoformat()) from None
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


# The office: held comments and flags --------------------------------------------------------------


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


# The report ----------------------------------------------------------------------------------------


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


# Supporting evidence for a nomination -------------------------------------------------------------


async def attachable(session: AsyncSession, actor: Actor) -> list[Nomination]:
    """The actor's nominations that are still editable and list customer evaluation cards."""
    people.require_registered(actor)
    own = (
        await session.exec(
            select(Nomination).where(Nomination.applicant_id == actor.person_id).order_by(col(Nomination.id))
        )
    ).all()
    return [
        n
        for n in own
        if editable(Stage(n.stage)) and EVIDENCE_SLOT in {m.id for m in nominations.checklist(n.honour)}
    ]


async def attach_report(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    nomination_id: int,
    *,
    render: Callable[[CardReport], bytes],
    file_store: FileStore,
    now: datetime,
    file_name: str = "evaluation-cards.pdf",
) -> NominationMaterial:
    """Store the card's report PDF and add it to the nomination as 用户（顾客）评价卡汇总结果 — supporting
    evidence only: the formal report of 第十六条第1项 is a separate material."""
    built = await report(session, actor, card_id=card_id, now=now)
    nomination = await session.get(Nomination, nomination_id)
    if nomination is None or nomination.applicant_id != actor.person_id:
        raise DomainError("nomination.not_yours")
    if EVIDENCE_SLOT not in {m.id for m in nominations.checklist(nomination.honour)}:
        raise DomainError("card.no_evidence_slot")
    data = render(built)
    sha = file_store.put(data)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="card.report_attached",
        subject=f"nomination:{nomination_id}",
        now=now,
        article="第十二条第6项",
        card=card_id,
        sha256=sha,
        ratings=built.summary.count,
    )
    return await nominations.add_material(
        session,
        actor,
        nomination_id,
        EVIDENCE_SLOT,
        sha256=sha,
        file_name=file_name,
        kind="pdf",
        size=len(data),
        now=now,
    )
