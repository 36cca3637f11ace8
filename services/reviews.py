"""The review committee's rounds (第十六条第2、3项): the office opens a round over the nominations
that passed the preliminary check; each reviewer on the panel is prompted per nomination and votes
同意 / 不同意 / 弃权 until the closing time; conflicts of interest are recused (回避); non-voters are
reminded; at the close (or early, or when everyone voted) each nomination is counted and moves to
SHORTLISTED or NOT_SELECTED, or is flagged for the office when there was no quorum.

Use cases follow services/nominations.py: (session, actor, plain args, now) → rules → change →
audit → outbox → one commit. The count itself is services/rules/tally.py."""

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Ballot,
    Campaign,
    Nomination,
    NominationMaterial,
    Organisation,
    PanelSeat,
    Person,
    Recusal,
    ReviewReminder,
    ReviewRound,
    Role,
    RoleAssignment,
    RoundNomination,
)
from services import audit, campaigns, nominations, outbox, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.rules import dossier, tally
from services.rules.nomination_flow import Mover, Stage
from services.rules.tally import Choice, Outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARTICLE = "第十六条第2项"


def local_time(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def nominee_name(nomination: Nomination) -> str:
    return str(nomination.fields.get("name") or nomination.fields.get("team_name") or "")


def employer_of(nomination: Nomination) -> str:
    """The dossier's employer: 工作单位 (STAR, TEAM), the enterprise (MANAGER), or the name itself
    (ENTERPRISE)."""
    fields = nomination.fields
    if nomination.honour == "ENTERPRISE":
        return str(fields.get("name") or "")
    return str(fields.get("employer") or fields.get("enterprise") or "")


async def holders(session: AsyncSession, role: Role) -> list[Person]:
    """People holding a role now, who have not blocked the bot, once each."""
    rows = (
        await session.exec(
            select(Person)
            .join(RoleAssignment, col(RoleAssignment.person_id) == Person.id)
            .where(
                RoleAssignment.role == role,
                col(RoleAssignment.revoked_at).is_(None),
                col(Person.blocked_at).is_(None),
            )
            .order_by(col(Person.id))
        )
    ).all()
    return list({p.id: p for p in rows}.values())


async def advance(
    session: AsyncSession,
    nomination: Nomination,
    target: Stage,
    mover: Mover,
    actor_id: int | None,
    now: datetime,
    *,
    reason: str = "",
    article: str = ARTICLE,
    **details: object,
) -> None:
    """A move after the preliminary check: the review's article (第十六条第2项) unless told otherwise."""
    await nominations.move(
        session, nomination, target, mover, actor_id, now, reason=reason, article=article, **details
    )


async def _round(session: AsyncSession, round_id: int, *, lock: bool = False) -> ReviewRound:
    statement = select(ReviewRound).where(ReviewRound.id == round_id)
    found = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if found is None:
        raise DomainError("review.round_not_found")
    return found


async def _items(session: AsyncSession, round_id: int) -> list[RoundNomination]:
    return list(
        (
            await session.exec(
                select(RoundNomination)
                .where(RoundNomination.round_id == round_id)
                .order_by(col(RoundNomination.nomination_id))
            )
        ).all()
    )


async def _panel(session: AsyncSession, round_id: int) -> list[int]:
    return list(
        (
            await session.exec(
                select(PanelSeat.reviewer_id)
                .where(PanelSeat.round_id == round_id)
                .order_by(col(PanelSeat.reviewer_id))
            )
        ).all()
    )


async def _recusals(session: AsyncSession, round_id: int) -> list[Recusal]:
    return list(
        (
            await session.exec(select(Recusal).where(Recusal.round_id == round_id).order_by(col(Recusal.id)))
        ).all()
    )


async def _ballots(session: AsyncSession, round_id: int) -> list[Ballot]:
    return list(
        (await session.exec(select(Ballot).where(Ballot.round_id == round_id).order_by(col(Ballot.id)))).all()
    )


# Opening a round ----------------------------------------------------------------------------------


async def current_campaign_id(session: AsyncSession, now: datetime) -> int:
    """The campaign under way, which rounds and 公示 belong to when the office acts from the chat."""
    current = await campaigns.current(session, now)
    if current is None:
        raise DomainError("campaign.none_open")
    return current.campaign.id or 0


async def open_round(
    session: AsyncSession,
    actor: Actor,
    *,
    campaign_id: int,
    closes_at: datetime,
    now: datetime,
    honour: str | None = None,
    panel: list[int] | None = None,
    quorum: Fraction = tally.DEFAULT_QUORUM,
    passing: Fraction = tally.DEFAULT_PASSING,
    open_ballot: bool = False,
    reminder_hours: tuple[int, ...] = tally.DEFAULT_REMINDER_HOURS,
) -> ReviewRound:
    """Open a round over every nomination of the campaign (or of one honour) that passed the
    preliminary check and is in no open round; the panel is every active reviewer, or those given."""
    people.require_role(actor, Role.OFFICE)
    tally.check_thresholds(quorum, passing)
    if closes_at <= now:
        raise DomainError("review.closing_in_past")
    if await session.get(Campaign, campaign_id) is None:
        raise DomainError("campaign.not_found")
    busy = (
        select(RoundNomination.nomination_id)
        .join(ReviewRound, col(ReviewRound.id) == RoundNomination.round_id)
        .where(col(ReviewRound.closed_at).is_(None))
    )
    query = select(Nomination).where(
        Nomination.campaign_id == campaign_id,
        Nomination.stage == Stage.PASSED.value,
        col(Nomination.id).not_in(busy),
    )
    if honour:
        query = query.where(Nomination.honour == honour)
    nominations = list((await session.exec(query.order_by(col(Nomination.id)))).all())
    if not nominations:
        raise DomainError("review.nothing_to_review")
    reviewers = await holders(session, Role.REVIEWER)
    if panel is not None:
        reviewers = [r for r in reviewers if r.id in set(panel)]
    if not reviewers:
        raise DomainError("review.no_reviewers")
    hours = sorted({int(h) for h in reminder_hours if int(h) > 0}, reverse=True)
    review_round = ReviewRound(
        campaign_id=campaign_id,
        honour=honour or None,
        opened_by=actor.person_id or 0,
        opened_at=now,
        closes_at=closes_at,
        quorum_num=quorum.numerator,
        quorum_den=quorum.denominator,
        pass_num=passing.numerator,
        pass_den=passing.denominator,
        open_ballot=open_ballot,
        reminder_hours=hours,
    )
    session.add(review_round)
    await session.flush()
    round_id = review_round.id or 0
    for nomination in nominations:
        session.add(RoundNomination(round_id=round_id, nomination_id=nomination.id or 0))
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="review.round_opened",
        subject=f"round:{round_id}",
        now=now,
        reason=ARTICLE,
        campaign_id=campaign_id,
        honour=honour,
        nominations=[n.id for n in nominations],
        panel=[r.id for r in reviewers],
        closes_at=closes_at.isoformat(),
        quorum=tally.fraction_text(quorum),
        passing=tally.fraction_text(passing),
        open_ballot=open_ballot,
        reminder_hours=hours,
    )
    organisations = {o.id: o for o in (await session.exec(select(Organisation))).all()}
    for reviewer in reviewers:
        session.add(PanelSeat(round_id=round_id, reviewer_id=reviewer.id or 0))
        for offset, due in tally.reminders_due(closes_at, hours, now):
            session.add(
                ReviewReminder(
                    round_id=round_id, reviewer_id=reviewer.id or 0, offset_hours=offset, due_at=due
                )
            )
        grants = (
            await session.exec(
                select(RoleAssignment).where(
                    RoleAssignment.person_id == reviewer.id, col(RoleAssignment.revoked_at).is_(None)
                )
            )
        ).all()
        own = {g.organisation_id for g in grants if g.organisation_id}
        names = {
            name
            for o in own
            if o in organisations
            for name in (organisations[o].name_zh, organisations[o].name_en)
        }
        for nomination in nominations:
            why = tally.recusal_reason(
                reviewer_organisations=own,
                reviewer_organisation_names=names,
                nomination_organisation=nomination.organisation_id,
                employer=employer_of(nomination),
            )
            if why is not None:
                await _recuse(session, review_round, nomination, reviewer, f"auto.{why}", True, None, now)
            else:
                await _prompt(session, review_round, nomination, reviewer, organisations, now)
    await session.commit()
    return review_round


async def _recuse(
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
            chat_id=reviewer.telegram_id,
            template="review.recused_notice",
            now=now,
            params={
                "id": nomination.id,
                "honour_key": f"honour.{nomination.honour}",
                "name": nominee_name(nomination),
                "why_key": f"review.recusal.{reason}",
            },
        )


async def _prompt(
    session: AsyncSession,
    review_round: ReviewRound,
    nomination: Nomination,
    reviewer: Person,
    organisations: dict[int | None, Organisation],
    now: datetime,
) -> None:
    """One prompt per reviewer and nomination; every button carries a token issued to that reviewer."""
    ids = {"round_id": review_round.id, "nomination_id": nomination.id}
    ttl = review_round.closes_at - now + timedelta(days=30)  # the result button stays useful a while

    async def token(action: str, **extra: object) -> str:
        return await tokens.issue(
            session, telegram_id=reviewer.telegram_id, action=action, now=now, ttl=ttl, **ids, **extra
        )

    organisation = organisations.get(nomination.organisation_id)
    await outbox.enqueue(
        session,
        chat_id=reviewer.telegram_id,
        template="review.prompt",
        now=now,
        protect=True,
        params={
            "round": review_round.id,
            "id": nomination.id,
            "honour_key": f"honour.{nomination.honour}",
            "name": nominee_name(nomination),
            "employer": employer_of(nomination),
            "organisation": organisation.name_zh if organisation else "—",
            "closes": local_time(review_round.closes_at),
        },
        buttons=[
            [
                outbox.button("review.vote.for", await token("review.vote", choice=Choice.FOR.value)),
                outbox.button("review.vote.against", await token("review.vote", choice=Choice.AGAINST.value)),
                outbox.button("review.vote.abstain", await token("review.vote", choice=Choice.ABSTAIN.value)),
            ],
            [
                outbox.button("review.files", await token("review.files")),
                outbox.button("review.comment", await token("review.comment")),
                outbox.button("review.recuse", await token("review.recuse")),
            ],
        ],
    )


# Voting --------------------------------------------------------------------------------------------


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
    review_round = await _round(session, round_id, lock=lock)
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
        state=tally.round_state(review_round.closed_at),
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
            reason=ARTICLE,
            nomination_id=nomination_id,
            choice=valid.value,
            before=before if changed else None,
        )
    await _flush_ballot(session)
    voted, total = await progress(session, round_id, actor.person_id or 0)
    closed = False
    if await _everyone_voted(session, round_id):
        await _count(session, review_round, None, now, "everyone_voted")
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
    await _recuse(session, review_round, nomination, person, reason, False, actor.person_id, now)
    if await _everyone_voted(session, round_id):
        await _count(session, review_round, None, now, "everyone_voted")
    await session.commit()


async def progress(session: AsyncSession, round_id: int, reviewer_id: int) -> tuple[int, int]:
    """(voted, to vote on) for one reviewer in one round, leaving out nominations they are recused from."""
    items = {i.nomination_id for i in await _items(session, round_id)}
    recused = {r.nomination_id for r in await _recusals(session, round_id) if r.reviewer_id == reviewer_id}
    mine = {b.nomination_id for b in await _ballots(session, round_id) if b.reviewer_id == reviewer_id}
    return len(mine & items - recused), len(items - recused)


async def _everyone_voted(session: AsyncSession, round_id: int) -> bool:
    panel = await _panel(session, round_id)
    recusals = await _recusals(session, round_id)
    ballots = await _ballots(session, round_id)
    eligible = {
        i.nomination_id: len(panel) - sum(1 for r in recusals if r.nomination_id == i.nomination_id)
        for i in await _items(session, round_id)
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
            .where(PanelSeat.reviewer_id == actor.person_id, col(ReviewRound.closed_at).is_(None))
            .order_by(col(ReviewRound.id))
        )
    ).all()
    result = Waiting()
    for review_round in rounds:
        round_id = review_round.id or 0
        recused = {
            r.nomination_id for r in await _recusals(session, round_id) if r.reviewer_id == actor.person_id
        }
        mine = {
            b.nomination_id: b.choice
            for b in await _ballots(session, round_id)
            if b.reviewer_id == actor.person_id
        }
        for item in await _items(session, round_id):
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


# The office's view, the count, reminders -----------------------------------------------------------


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
    return await _report(session, await _round(session, round_id))


def _fractions(review_round: ReviewRound) -> tuple[Fraction, Fraction]:
    return (
        Fraction(review_round.quorum_num, review_round.quorum_den),
        Fraction(review_round.pass_num, review_round.pass_den),
    )


async def _report(session: AsyncSession, review_round: ReviewRound) -> RoundReport:
    round_id = review_round.id or 0
    panel = await _panel(session, round_id)
    names = {
        p.id: p.name for p in (await session.exec(select(Person).where(col(Person.id).in_(panel)))).all()
    }
    recusals, ballots = await _recusals(session, round_id), await _ballots(session, round_id)
    quorum, passing = _fractions(review_round)
    items = []
    for item in await _items(session, round_id):
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


async def extend(
    session: AsyncSession, actor: Actor, round_id: int, closes_at: datetime, now: datetime
) -> ReviewRound:
    """The office moves an open round's closing time later (turnout is low); reminders not yet sent
    follow the new time. A round already counted is not reopened: its nominations without quorum
    are voted on again in a new round."""
    people.require_role(actor, Role.OFFICE)
    review_round = await _round(session, round_id, lock=True)
    if review_round.closed_at is not None or now >= review_round.closes_at:
        raise DomainError("review.round_closed")
    if closes_at <= review_round.closes_at:
        raise DomainError("review.extend_later")
    before = review_round.closes_at
    review_round.closes_at = closes_at
    session.add(review_round)
    for reminder in (
        await session.exec(
            select(ReviewReminder).where(
                ReviewReminder.round_id == round_id, col(ReviewReminder.sent_at).is_(None)
            )
        )
    ).all():
        reminder.due_at = closes_at - timedelta(hours=reminder.offset_hours)
        session.add(reminder)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="review.extended",
        subject=f"round:{round_id}",
        now=now,
        reason=ARTICLE,
        before=before.isoformat(),
        after=closes_at.isoformat(),
    )
    for reviewer_id in await _panel(session, round_id):
        await outbox.notify_person(
            session,
            reviewer_id,
            "review.extended_notice",
            now,
            params={"round": round_id, "closes": local_time(closes_at)},
        )
    await session.commit()
    return review_round


async def close_early(session: AsyncSession, actor: Actor, round_id: int, now: datetime) -> RoundReport:
    people.require_role(actor, Role.OFFICE)
    review_round = await _round(session, round_id, lock=True)
    if review_round.closed_at is not None:
        raise DomainError("review.round_closed")
    await _count(session, review_round, actor.person_id, now, "closed_by_office")
    await session.commit()
    return await _report(session, review_round)


async def _count(
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
        details = {
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
                reason=ARTICLE,
                **details,
            )
            continue
        target = Stage.SHORTLISTED if outcome == Outcome.PASSED else Stage.NOT_SELECTED
        await advance(session, item.nomination, target, Mover.COMMITTEE, actor_id, now, **details)
    review_round.closed_at = now
    session.add(review_round)
    await audit.append(
        session,
        actor_id=actor_id,
        action="review.round_closed",
        subject=f"round:{review_round.id}",
        now=now,
        reason=why,
        article=ARTICLE,
        outcomes={str(i.nomination.id): i.count.outcome.value for i in result.items},
    )
    for member in await holders(session, Role.OFFICE):
        result_token = await tokens.issue(
            session, telegram_id=member.telegram_id, action="review.result", now=now, round_id=review_round.id
        )
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
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


async def _non_voters(session: AsyncSession, round_id: int) -> list[Person]:
    people_ = []
    for reviewer_id in await _panel(session, round_id):
        voted, total = await progress(session, round_id, reviewer_id)
        person = await session.get(Person, reviewer_id)
        if voted < total and person is not None and person.blocked_at is None:
            people_.append(person)
    return people_


async def _remind(session: AsyncSession, review_round: ReviewRound, person: Person, now: datetime) -> None:
    voted, total = await progress(session, review_round.id or 0, person.id or 0)
    await outbox.enqueue(
        session,
        chat_id=person.telegram_id,
        template="review.reminder",
        now=now,
        params={
            "round": review_round.id,
            "voted": voted,
            "total": total,
            "closes": local_time(review_round.closes_at),
        },
    )


async def remind_now(session: AsyncSession, actor: Actor, round_id: int, now: datetime) -> int:
    """The office reminds every reviewer who has not finished voting, now."""
    people.require_role(actor, Role.OFFICE)
    review_round = await _round(session, round_id)
    if review_round.closed_at is not None:
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
        review_round = await _round(session, round_id)
        person = await session.get(Person, reviewer_id)
        if (
            review_round.closed_at is not None
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
            select(ReviewRound).where(col(ReviewRound.closed_at).is_(None), col(ReviewRound.closes_at) <= now)
        )
    ).all():
        locked = await _round(session, review_round.id or 0, lock=True)
        if tally.due_to_close(locked.closes_at, locked.closed_at, now):
            await _count(session, locked, None, now, "closing_time")
            closed += 1
        await session.commit()
    return reminded, closed


def workbook(result: RoundReport) -> bytes:
    """The result as an Excel workbook: one row per nomination; a name that looks like a formula stays
    text."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"round {result.round.id}"
    sheet.append(["quorum", result.quorum, "passing", result.passing, "panel", result.panel])
    sheet.append(
        ["id", "honour", "name", "for", "against", "abstain", "recused", "quorum", "passed", "outcome"]
    )
    for item in result.items:
        count = item.count
        sheet.append(
            [
                item.nomination.id,
                item.nomination.honour,
                dossier.excel_safe(nominee_name(item.nomination)),
                count.for_,
                count.against,
                count.abstain,
                count.recused,
                "yes" if count.has_quorum else "no",
                "yes" if count.outcome == Outcome.PASSED else "no",
                item.outcome or count.outcome.value,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
