"""The office opens a round (with its panel, recusals and prompts) and moves its closing time."""

from datetime import datetime, timedelta
from fractions import Fraction

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Nomination,
    Organisation,
    PanelSeat,
    Person,
    ReviewReminder,
    ReviewRound,
    Role,
    RoleAssignment,
    RoundNomination,
)
from services import campaigns, outbox, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party, apply, create
from services.lifecycles.review_round import ROUND
from services.local_time import minute_text
from services.reviews.common import (
    employer_of,
    holders,
    load_round,
    nominee_name,
    round_panel,
)
from services.reviews.voting import recuse
from services.rules import tally
from services.rules.nomination_flow import Stage
from services.rules.tally import Choice, RoundState


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
    override: str = "",
) -> ReviewRound:
    """Open a round over every nomination of the campaign (or of one honour) that passed the
    preliminary check and is in no open round; the panel is every active reviewer, or those given.
    Only in 评审, unless the office overrides the phase with its reason."""
    people.require_role(actor, Role.OFFICE)
    phase = await campaigns.phase_of(session, campaign_id, now)  # refuses first, naming the phase
    ROUND.check(None, "open", Party.OFFICE, phase, override=override)
    tally.check_thresholds(quorum, passing)
    if closes_at <= now:
        raise DomainError("review.closing_in_past")
    busy = (
        select(RoundNomination.nomination_id)
        .join(ReviewRound, col(ReviewRound.id) == RoundNomination.round_id)
        .where(ReviewRound.status == RoundState.OPEN)
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
    review_round: ReviewRound = await create(
        session,
        ROUND,
        {
            "campaign_id": campaign_id,
            "honour": honour or None,
            "opened_by": actor.person_id or 0,
            "opened_at": now,
            "closes_at": closes_at,
            "quorum_num": quorum.numerator,
            "quorum_den": quorum.denominator,
            "pass_num": passing.numerator,
            "pass_den": passing.denominator,
            "open_ballot": open_ballot,
            "reminder_hours": hours,
        },
        "open",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=phase,
        override=override,
        audit_action="review.round_opened",
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
    round_id = review_round.id or 0
    for nomination in nominations:
        session.add(RoundNomination(round_id=round_id, nomination_id=nomination.id or 0))
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
                await recuse(session, review_round, nomination, reviewer, f"auto.{why}", True, None, now)
            else:
                await _prompt(session, review_round, nomination, reviewer, organisations, now)
    await session.commit()
    return review_round


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
            session, person_id=reviewer.id, action=action, now=now, ttl=ttl, **ids, **extra
        )

    organisation = organisations.get(nomination.organisation_id)
    await outbox.enqueue(
        session,
        person_id=reviewer.id,
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
            "closes": minute_text(review_round.closes_at),
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


async def extend(
    session: AsyncSession, actor: Actor, round_id: int, closes_at: datetime, now: datetime
) -> ReviewRound:
    """The office moves an open round's closing time later (turnout is low); reminders not yet sent
    follow the new time. A round already counted is not reopened: its nominations without quorum
    are voted on again in a new round."""
    people.require_role(actor, Role.OFFICE)
    review_round = await load_round(session, round_id, lock=True)
    if review_round.status != RoundState.OPEN or now >= review_round.closes_at:
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
    await apply(
        session,
        ROUND,
        review_round,
        "extend",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        subject=f"round:{round_id}",
        audit_action="review.extended",
        before=before.isoformat(),
        after=closes_at.isoformat(),
    )
    for reviewer_id in await round_panel(session, round_id):
        await outbox.notify_person(
            session,
            reviewer_id,
            "review.extended_notice",
            now,
            params={"round": round_id, "closes": minute_text(closes_at)},
        )
    await session.commit()
    return review_round
